//! Helpers for the plan tests: the plan form, drafts and activation, a unit
//! with a signed-in staff member, and follow-ups.

use super::{Browser, Page, Person, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Someone young enough for Team ISA, with `key_worker` as kontaktman.
pub async fn young(db: &PgPool, unit: i64, key_worker: i64) -> i64 {
    Person::at(unit).born("2000-01-01").key_worker(Some(key_worker)).insert(db).await
}

/// The plan form for `programme`, changed by `overrides`.
pub fn plan_form(programme: &str, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = [
        ("programme", programme),
        ("start_on", "2026-03-02"),
        ("planned_end_on", "2026-12-31"),
        ("weekly_hours", "10"),
        ("weekdays", "1"),
        ("weekdays", "3"),
        ("methods", "ips"),
        ("summary", "Vill prova att arbeta."),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in overrides {
        fields.retain(|(k, _)| k != key);
        fields.push((key.to_string(), value.to_string()));
    }
    fields
}

pub async fn submit_plan(browser: &Browser, participant: i64, programme: &str, overrides: &[(&str, &str)]) -> reqwest::Response {
    let fields = plan_form(programme, overrides);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser
        .submit(
            &format!("/participants/{participant}/plans/new"),
            &format!("/participants/{participant}/plans"),
            &borrowed,
        )
        .await
}

/// Creates a draft plan and returns its id.
pub async fn draft(browser: &Browser, participant: i64, programme: &str, overrides: &[(&str, &str)]) -> i64 {
    let response = submit_plan(browser, participant, programme, overrides).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        Page::from(response).await.html.html()
    );
    location(&response).trim_start_matches("/plans/").parse().unwrap()
}

/// Sets and activates a draft, first giving it a goal and its participant a
/// samordnad plan agreed that day (a plan is set with both).
pub async fn activate(browser: &Browser, plan: i64, set_on: &str) -> reqwest::Response {
    add_goal(browser, plan).await;
    joint_plan_for(browser, plan, set_on).await;
    browser
        .submit(&format!("/plans/{plan}"), &format!("/plans/{plan}/activate"), &[("set_on", set_on)])
        .await
}

/// The participant of a plan, from the plan page's breadcrumb.
pub async fn participant_of(browser: &Browser, plan: i64) -> i64 {
    let page = browser.get_page(&format!("/plans/{plan}")).await;
    let href = page.attr(".breadcrumb a", "href").expect("the plan page links its participant");
    href.trim_start_matches("/participants/")
        .trim_end_matches("#plans")
        .parse()
        .unwrap()
}

/// Makes the samordnad plan of a plan's participant, agreed on `on`, unless
/// they have one (or `on` is a day it cannot be agreed: the activation says why).
pub async fn joint_plan_for(browser: &Browser, plan: i64, on: &str) {
    let participant = participant_of(browser, plan).await;
    if browser.get(&format!("/participants/{participant}/joint-plan")).await.status() == reqwest::StatusCode::OK {
        return;
    }
    let Ok(day) = on.parse::<chrono::NaiveDate>() else { return };
    let next = (day + chrono::Days::new(180)).to_string();
    browser
        .submit(
            &format!("/participants/{participant}/joint-plan/edit"),
            &format!("/participants/{participant}/joint-plan"),
            &[
                ("version", "0"),
                ("agreed_on", on),
                ("participant_took_part", "yes"),
                ("aim", "Komma närmare arbete, i den takt personen orkar."),
                ("next_review_on", &next),
            ],
        )
        .await;
}

/// Adds a goal to a plan, as its page does.
pub async fn add_goal(browser: &Browser, plan: i64) {
    let response = browser
        .submit(
            &format!("/plans/{plan}"),
            &format!("/plans/{plan}/goals"),
            &[("goal_description", "Arbeta två dagar i veckan"), ("goal_parent", "")],
        )
        .await;
    assert!(response.status().is_redirection(), "a goal for plan {plan}: {}", response.status());
}

pub async fn status_of(db: &PgPool, plan: i64) -> String {
    sqlx::query_scalar("SELECT status FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn queued(db: &PgPool, plan: i64) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM queue_entries WHERE plan_id = $1 AND closed_on IS NULL)")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
}

pub struct Setup {
    pub app: TestApp,
    pub unit: i64,
    pub staff: Browser,
    pub staff_id: i64,
}

impl Setup {
    /// Moves the clock and signs the staff member in again (the session would
    /// have timed out over such a jump).
    pub async fn travel_to(&self, y: i32, m: u32, d: u32) {
        self.app
            .clock
            .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, y, m, d, 8, 0, 0).unwrap());
        let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(self.staff_id)
            .fetch_one(&self.app.db)
            .await
            .unwrap();
        if self.staff.get("/todo").await.status() == StatusCode::OK {
            return;
        }
        // The first attempt meets the timed-out session, which is removed with a redirect.
        let first = self.staff.login(&email, super::PASSWORD).await;
        if location(&first).starts_with("/login") {
            let second = self.staff.login(&email, super::PASSWORD).await;
            assert_eq!(location(&second), "/");
        }
    }

    pub async fn advance_days(&self, days: i64) {
        let to = lotsen::clock::Clock::today(&*self.app.clock) + chrono::Duration::days(days);
        use chrono::Datelike;
        self.travel_to(to.year(), to.month(), to.day()).await;
    }
}

pub async fn setup(db: &PgPool) -> Setup {
    let app = TestApp::spawn(db.clone()).await;
    let unit = super::create_unit(db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    Setup {
        app,
        unit,
        staff,
        staff_id,
    }
}

pub async fn follow_up(browser: &Browser, plan: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let form = browser.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    let due = form.attr("input[name=due_on]", "value").unwrap();
    let token = form.csrf_token();
    let mut all = vec![
        ("csrf_token", token.as_str()),
        ("due_on", due.as_str()),
        ("participant_took_part", "yes"),
        ("weekly_hours", "10"),
        ("notes", "Gick igenom målen och veckans timmar."),
    ];
    // The fields given replace the defaults; a field given twice is sent twice (checkboxes).
    all.retain(|(key, _)| !fields.iter().any(|(k, _)| k == key));
    all.extend_from_slice(fields);
    browser.post_raw(&format!("/plans/{plan}/follow-ups/new"), &all).await
}

pub async fn next_due(db: &PgPool, plan: i64) -> String {
    sqlx::query_scalar::<_, chrono::NaiveDate>("SELECT next_follow_up_on FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
        .to_string()
}
