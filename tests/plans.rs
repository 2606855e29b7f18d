//! Plans and follow-ups (issue 5): every rule at its boundary through the
//! real router, capacity and the waiting list (with a concurrent race), the
//! version check, follow-ups, assessments, and the reminder task.

mod common;

use common::{Browser, Page, Person, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// Someone young enough for Team ISA, with `key_worker` as kontaktman.
async fn young(db: &PgPool, unit: i64, key_worker: i64) -> i64 {
    Person::at(unit).born("2000-01-01").key_worker(Some(key_worker)).insert(db).await
}

/// The plan form for `programme`, changed by `overrides`.
fn plan_form(programme: &str, overrides: &[(&str, &str)]) -> Vec<(String, String)> {
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

async fn submit_plan(browser: &Browser, participant: i64, programme: &str, overrides: &[(&str, &str)]) -> reqwest::Response {
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
async fn draft(browser: &Browser, participant: i64, programme: &str, overrides: &[(&str, &str)]) -> i64 {
    let response = submit_plan(browser, participant, programme, overrides).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        Page::from(response).await.html.html()
    );
    location(&response).trim_start_matches("/plans/").parse().unwrap()
}

async fn activate(browser: &Browser, plan: i64, set_on: &str) -> reqwest::Response {
    browser
        .submit(&format!("/plans/{plan}"), &format!("/plans/{plan}/activate"), &[("set_on", set_on)])
        .await
}

async fn status_of(db: &PgPool, plan: i64) -> String {
    sqlx::query_scalar("SELECT status FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
}

async fn queued(db: &PgPool, plan: i64) -> bool {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM queue_entries WHERE plan_id = $1 AND closed_on IS NULL)")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
}

struct Setup {
    app: TestApp,
    unit: i64,
    staff: Browser,
    staff_id: i64,
}

impl Setup {
    /// Moves the clock and signs the staff member in again (the session would
    /// have timed out over such a jump).
    async fn travel_to(&self, y: i32, m: u32, d: u32) {
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
        let first = self.staff.login(&email, common::PASSWORD).await;
        if location(&first).starts_with("/login") {
            let second = self.staff.login(&email, common::PASSWORD).await;
            assert_eq!(location(&second), "/");
        }
    }

    async fn advance_days(&self, days: i64) {
        let to = lotsen::clock::Clock::today(&*self.app.clock) + chrono::Duration::days(days);
        use chrono::Datelike;
        self.travel_to(to.year(), to.month(), to.day()).await;
    }
}

async fn setup(db: &PgPool) -> Setup {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    Setup {
        app,
        unit,
        staff,
        staff_id,
    }
}

#[sqlx::test]
async fn weekly_hours_are_4_to_35_and_accept_a_decimal_comma(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let three = submit_plan(&s.staff, p, "first_step", &[("weekly_hours", "3")]).await;
    assert_eq!(three.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(three).await;
    assert_eq!(page.error("Timmar per vecka (4–35, t.ex. 4,5)"), "Fel: Minst 4 timmar per vecka.");
    // The form keeps what was typed.
    assert_eq!(page.value("Timmar per vecka (4–35, t.ex. 4,5)"), "3");
    assert_eq!(page.text("#f-summary"), "Vill prova att arbeta.");

    let thirty_six = submit_plan(&s.staff, p, "first_step", &[("weekly_hours", "36")]).await;
    assert_eq!(thirty_six.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(thirty_six)
            .await
            .error("Timmar per vecka (4–35, t.ex. 4,5)")
            .contains("Högst 35")
    );

    let four = draft(&s.staff, p, "first_step", &[("weekly_hours", "4")]).await;
    let four_and_a_half = draft(&s.staff, p, "first_step", &[("weekly_hours", "4,5")]).await;
    let hours: Vec<f64> = sqlx::query_scalar("SELECT weekly_hours::float8 FROM plans WHERE id = ANY($1) ORDER BY id")
        .bind(vec![four, four_and_a_half])
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(hours, vec![4.0, 4.5]);
    // The database holds the same limits.
    let refused = sqlx::query("UPDATE plans SET weekly_hours = 3.99 WHERE id = $1")
        .bind(four)
        .execute(&db)
        .await;
    assert!(refused.is_err());
}

#[sqlx::test]
async fn team_isa_is_for_ages_18_to_35_on_the_start_date(db: PgPool) {
    let s = setup(&db).await;
    // Start date 2026-03-02.
    for (birth, allowed) in [
        ("2008-03-03", false), // 17, turns 18 the day after
        ("2008-03-02", true),  // 18 on the day
        ("1990-03-03", true),  // 35, turns 36 the day after
        ("1990-03-02", false), // 36 on the day
    ] {
        let p = Person::at(s.unit).born(birth).key_worker(Some(s.staff_id)).insert(&db).await;
        let response = submit_plan(&s.staff, p, "team_isa", &[]).await;
        if allowed {
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "born {birth}");
        } else {
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "born {birth}");
            assert!(Page::from(response).await.error("Start").contains("18–35"), "born {birth}");
        }
    }
    // Förstegsträning at the centre has no upper age.
    let older = Person::at(s.unit).born("1960-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    draft(&s.staff, older, "first_step", &[]).await;
}

#[sqlx::test]
async fn a_kontaktman_is_required_before_a_plan_is_activated(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(None).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    let response = activate(&s.staff, plan, "2026-03-02").await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(response).await.error("Fastställd datum").contains("kontaktman"));
    assert_eq!(status_of(&db, plan).await, "draft");
    // The database refuses it too.
    let refused = sqlx::query(
        "UPDATE plans SET status = 'active', set_on = start_on, next_follow_up_on = start_on, renewal_due_on = start_on WHERE id = $1",
    )
    .bind(plan)
    .execute(&db)
    .await;
    assert!(refused.unwrap_err().to_string().contains("key worker"));
}

#[sqlx::test]
async fn the_6th_team_isa_plan_is_accepted_and_the_7th_queued(db: PgPool) {
    let s = setup(&db).await;
    let mut plans = Vec::new();
    for _ in 0..7 {
        let p = young(&db, s.unit, s.staff_id).await;
        plans.push(draft(&s.staff, p, "team_isa", &[]).await);
    }
    for (i, plan) in plans.iter().enumerate() {
        let response = activate(&s.staff, *plan, "2026-03-02").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let expected = if i < 6 { "active" } else { "draft" };
        assert_eq!(status_of(&db, *plan).await, expected, "plan {}", i + 1);
    }
    assert!(queued(&db, plans[6]).await);
    let page = s.staff.get_page(&format!("/plans/{}", plans[6])).await;
    assert!(page.text(".lead").contains("I kö sedan 2026-03-02"));
    assert!(page.text(".flash").contains("står i kö"));
    // The message is shown once.
    assert_eq!(s.staff.get_page(&format!("/plans/{}", plans[6])).await.count(".flash"), 0);

    // The manager sees the queue; ending a plan frees a place, and the manager activates the waiting one.
    let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let queue = manager.get_page("/queue").await;
    assert_eq!(queue.count("tbody tr"), 1);
    assert!(queue.text("main").contains("6 av 6 platser används"));
    let entry: i64 = sqlx::query_scalar("SELECT id FROM queue_entries WHERE plan_id = $1")
        .bind(plans[6])
        .fetch_one(&db)
        .await
        .unwrap();
    let still_full = manager
        .submit("/queue", &format!("/queue/{entry}/activate"), &[("set_on", "2026-03-02")])
        .await;
    assert_eq!(still_full.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(still_full).await.text("main").contains("ingen plats"));
    let ended = s
        .staff
        .submit(
            &format!("/plans/{}", plans[0]),
            &format!("/plans/{}/end", plans[0]),
            &[("ended_on", "2026-03-02"), ("outcome", "employment")],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    let activated = manager
        .submit("/queue", &format!("/queue/{entry}/activate"), &[("set_on", "2026-03-02")])
        .await;
    assert_eq!(activated.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&db, plans[6]).await, "active");
    assert!(!queued(&db, plans[6]).await);
    // Staff do not manage the queue.
    assert_eq!(s.staff.get("/queue").await.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn first_step_hours_fill_105_and_the_106th_hour_queues(db: PgPool) {
    let s = setup(&db).await;
    let mut plans = Vec::new();
    // 3 × 35 = 105 hours.
    for hours in ["35", "35", "34", "4"] {
        let p = Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
        plans.push(draft(&s.staff, p, "first_step", &[("weekly_hours", hours)]).await);
    }
    for plan in &plans[..3] {
        activate(&s.staff, *plan, "2026-03-02").await;
        assert_eq!(status_of(&db, *plan).await, "active");
    }
    // 104 in use: 4 more would be 108, so it queues.
    activate(&s.staff, plans[3], "2026-03-02").await;
    assert_eq!(status_of(&db, plans[3]).await, "draft");
    assert!(queued(&db, plans[3]).await);
    // Exactly 105: one hour fits, then nothing.
    let one_more = Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, one_more, "first_step", &[("weekly_hours", "4")]).await;
    sqlx::query("UPDATE plans SET weekly_hours = 31 WHERE id = $1")
        .bind(plans[2])
        .execute(&db)
        .await
        .unwrap(); // 35 + 35 + 31 = 101; 101 + 4 = 105 fits exactly
    activate(&s.staff, plan, "2026-03-02").await;
    assert_eq!(status_of(&db, plan).await, "active", "105 of 105 hours is allowed");
    let last = Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, last, "first_step", &[("weekly_hours", "4")]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    assert_eq!(status_of(&db, plan).await, "draft", "the 106th hour queues");
    assert!(queued(&db, plan).await);
    // More hours on an active plan are refused when the unit is full; the same hours save.
    let edit = |hours: &'static str| {
        let browser = &s.staff;
        let db = db.clone();
        let plan = plans[2];
        async move {
            let version = current_version(&db, plan).await;
            let fields = plan_form("first_step", &[("weekly_hours", hours), ("version", &version)]);
            let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            browser
                .submit(&format!("/plans/{plan}/edit"), &format!("/plans/{plan}/edit"), &borrowed)
                .await
        }
    };
    let more = edit("32").await;
    assert_eq!(more.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(more).await.error("Timmar per vecka (4–35, t.ex. 4,5)").contains("105"));
    assert_eq!(edit("31").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(edit("20").await.status(), StatusCode::SEE_OTHER, "fewer hours always fit");
}

async fn current_version(db: &PgPool, plan: i64) -> String {
    sqlx::query_scalar::<_, i32>("SELECT version FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
        .to_string()
}

#[sqlx::test]
async fn the_capacity_setting_is_changed_by_an_admin_and_used_at_once(db: PgPool) {
    let s = setup(&db).await;
    let (admin, _) = s.app.signed_in_at(Role::Admin, s.unit).await;
    // Default: the commission's figures.
    let form = admin.get_page(&format!("/admin/units/{}", s.unit)).await;
    assert_eq!(form.value("Förstegsträning: timmar per vecka"), "105");
    assert_eq!(form.value("Team ISA: platser samtidigt"), "6");
    let bad = admin
        .submit(
            &format!("/admin/units/{}", s.unit),
            &format!("/admin/units/{}", s.unit),
            &[
                ("name", "Lotsen Centrum"),
                ("active", "on"),
                ("first_step_hours", "mycket"),
                ("team_isa_places", "1"),
            ],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(bad).await.error("Förstegsträning: timmar per vecka").contains("tal"));
    let saved = admin
        .submit(
            &format!("/admin/units/{}", s.unit),
            &format!("/admin/units/{}", s.unit),
            &[
                ("name", "Lotsen Centrum"),
                ("active", "on"),
                ("first_step_hours", "52,5"),
                ("team_isa_places", "1"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    // One Team ISA place now: the second queues.
    let a = draft(&s.staff, young(&db, s.unit, s.staff_id).await, "team_isa", &[]).await;
    let b = draft(&s.staff, young(&db, s.unit, s.staff_id).await, "team_isa", &[]).await;
    activate(&s.staff, a, "2026-03-02").await;
    activate(&s.staff, b, "2026-03-02").await;
    assert_eq!(status_of(&db, a).await, "active");
    assert!(queued(&db, b).await);
    // 52,5 hours: 35 + 17,5 fit, 4 more do not.
    let c = draft(
        &s.staff,
        Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await,
        "first_step",
        &[("weekly_hours", "35")],
    )
    .await;
    let d = draft(
        &s.staff,
        Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await,
        "first_step",
        &[("weekly_hours", "17,5")],
    )
    .await;
    let e = draft(
        &s.staff,
        Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await,
        "first_step",
        &[("weekly_hours", "4")],
    )
    .await;
    for plan in [c, d, e] {
        activate(&s.staff, plan, "2026-03-02").await;
    }
    assert_eq!(status_of(&db, d).await, "active");
    assert!(queued(&db, e).await);
    // Zero places: nothing fits.
    let zero = admin
        .submit(
            &format!("/admin/units/{}", s.unit),
            &format!("/admin/units/{}", s.unit),
            &[
                ("name", "Lotsen Centrum"),
                ("active", "on"),
                ("first_step_hours", "0"),
                ("team_isa_places", "0"),
            ],
        )
        .await;
    assert_eq!(zero.status(), StatusCode::SEE_OTHER);
    let f = draft(
        &s.staff,
        Person::at(s.unit).born("1980-01-01").key_worker(Some(s.staff_id)).insert(&db).await,
        "first_step",
        &[("weekly_hours", "4")],
    )
    .await;
    activate(&s.staff, f, "2026-03-02").await;
    assert!(queued(&db, f).await);
    // Staff cannot change the setting.
    assert_eq!(
        s.staff.get(&format!("/admin/units/{}", s.unit)).await.status(),
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test]
async fn two_staff_taking_the_last_place_at_once_get_exactly_one(db: PgPool) {
    let s = setup(&db).await;
    sqlx::query("UPDATE units SET team_isa_places = 1 WHERE id = $1")
        .bind(s.unit)
        .execute(&db)
        .await
        .unwrap();
    let (other, other_id) = s.app.signed_in_at(Role::Staff, s.unit).await;
    for round in 0..5 {
        let a = draft(&s.staff, young(&db, s.unit, s.staff_id).await, "team_isa", &[]).await;
        let b = draft(&other, young(&db, s.unit, other_id).await, "team_isa", &[]).await;
        // Both pages are open before either submits.
        let page_a = s.staff.get_page(&format!("/plans/{a}")).await;
        let page_b = other.get_page(&format!("/plans/{b}")).await;
        let (ta, tb) = (page_a.csrf_token(), page_b.csrf_token());
        let (path_a, path_b) = (format!("/plans/{a}/activate"), format!("/plans/{b}/activate"));
        let fields_a = [("csrf_token", ta.as_str()), ("set_on", "2026-03-02")];
        let fields_b = [("csrf_token", tb.as_str()), ("set_on", "2026-03-02")];
        let (ra, rb) = tokio::join!(s.staff.post_raw(&path_a, &fields_a), other.post_raw(&path_b, &fields_b));
        assert_eq!(ra.status(), StatusCode::SEE_OTHER);
        assert_eq!(rb.status(), StatusCode::SEE_OTHER);
        let active: i64 = sqlx::query_scalar("SELECT count(*) FROM plans WHERE id = ANY($1) AND status = 'active'")
            .bind(vec![a, b])
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(active, 1, "round {round}: exactly one gets the place");
        let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM queue_entries WHERE plan_id = ANY($1) AND closed_on IS NULL")
            .bind(vec![a, b])
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(waiting, 1, "round {round}: the other waits in the queue");
        // Free the place for the next round.
        sqlx::query(
            "UPDATE plans SET status = 'ended', ended_on = '2026-03-02', outcome = 'other', next_follow_up_on = NULL, renewal_due_on = NULL, limit_warning_on = NULL WHERE id = ANY($1) AND status = 'active'",
        )
        .bind(vec![a, b])
        .execute(&db)
        .await
        .unwrap();
        sqlx::query("UPDATE queue_entries SET closed_on = '2026-03-02', closed_reason = 'removed', closed_note = 'test' WHERE plan_id = ANY($1) AND closed_on IS NULL")
            .bind(vec![a, b])
            .execute(&db)
            .await
            .unwrap();
    }
}

#[sqlx::test]
async fn two_years_are_summed_over_both_programmes(db: PgPool) {
    let s = setup(&db).await;
    s.travel_to(2026, 6, 1).await;
    let p = young(&db, s.unit, s.staff_id).await;
    // A year of förstegsträning, 2024 (366 days, a leap year), already ended.
    sqlx::query(
        "INSERT INTO plans (participant_id, unit_id, programme, status, start_on, planned_end_on, weekly_hours, set_on,
                            ended_on, outcome, created_by, created_at, updated_by, updated_at)
         VALUES ($1, $2, 'first_step', 'ended', '2024-01-01', '2024-12-31', 10, '2024-01-01',
                 '2024-12-31', 'back_to_day_activity', $3, now(), $3, now())",
    )
    .bind(p)
    .bind(s.unit)
    .bind(s.staff_id)
    .execute(&db)
    .await
    .unwrap();
    // 731 days allowed from 2024-01-01; 365 left. Team ISA from 2026-06-01: the last allowed day is 2027-05-31.
    let over = submit_plan(
        &s.staff,
        p,
        "team_isa",
        &[("start_on", "2026-06-01"), ("planned_end_on", "2027-06-01")],
    )
    .await;
    assert_eq!(over.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let message = Page::from(over).await.error("Planerat slut");
    assert!(message.contains("2027-05-31"), "{message}");
    assert!(message.contains("1 dagar över"), "{message}");
    let plan = draft(
        &s.staff,
        p,
        "team_isa",
        &[("start_on", "2026-06-01"), ("planned_end_on", "2027-05-31")],
    )
    .await;
    let response = activate(&s.staff, plan, "2026-06-01").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let flash = s.staff.get_page(&format!("/plans/{plan}")).await.text(".flash");
    assert!(flash.contains("närmar sig tvåårsgränsen"), "the warning from 22 months: {flash}");
    let (last, warning): (chrono::NaiveDate, chrono::NaiveDate) =
        sqlx::query_as("SELECT limit_last_day, limit_warning_on FROM plans WHERE id = $1")
            .bind(plan)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(last.to_string(), "2027-05-31");
    assert!(warning < last);
    // Moving the planned end one day past the limit is refused on edit too.
    let fields = plan_form(
        "team_isa",
        &[
            ("start_on", "2026-06-01"),
            ("planned_end_on", "2027-06-01"),
            ("version", &current_version(&db, plan).await),
        ],
    );
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let edit = s
        .staff
        .submit(&format!("/plans/{plan}/edit"), &format!("/plans/{plan}/edit"), &borrowed)
        .await;
    assert_eq!(edit.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn a_stale_plan_edit_is_refused_with_who_changed_what(db: PgPool) {
    let s = setup(&db).await;
    let (other, _) = s.app.signed_in_at(Role::Staff, s.unit).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    // Both open the edit form.
    let mine = s.staff.get_page(&format!("/plans/{plan}/edit")).await;
    let theirs = other.get_page(&format!("/plans/{plan}/edit")).await;
    let version = mine.attr("input[name=version]", "value").unwrap();
    assert_eq!(theirs.attr("input[name=version]", "value").unwrap(), version);
    async fn save(browser: &Browser, plan: i64, version: &str, token: String, hours: &str, summary: &str) -> reqwest::Response {
        let fields = plan_form("first_step", &[("weekly_hours", hours), ("summary", summary), ("version", version)]);
        let mut borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        borrowed.push(("csrf_token", &token));
        browser.post_raw(&format!("/plans/{plan}/edit"), &borrowed).await
    }
    let first = save(&other, plan, &version, theirs.csrf_token(), "12", "Den andras text.").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let second = save(&s.staff, plan, &version, mine.csrf_token(), "8", "Min text.").await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    let page = Page::from(second).await;
    let conflict = page.text(".conflict");
    assert!(conflict.contains("Timmar per vecka"), "{conflict}");
    assert!(conflict.contains("Sammanfattning"), "{conflict}");
    // What this user typed is kept, and nothing of it was saved.
    assert_eq!(page.text("#f-summary"), "Min text.");
    let (hours, summary): (f64, String) = sqlx::query_as("SELECT weekly_hours::float8, summary FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!((hours, summary.as_str()), (12.0, "Den andras text."));
    // Earlier versions are kept, with who and when.
    let versions: i64 = sqlx::query_scalar("SELECT count(*) FROM plan_versions WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(versions, 2);
}

async fn follow_up(browser: &Browser, plan: i64, fields: &[(&str, &str)]) -> reqwest::Response {
    let form = browser.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    let due = form.attr("input[name=due_on]", "value").unwrap();
    let token = form.csrf_token();
    let mut all = vec![
        ("csrf_token", token.as_str()),
        ("due_on", due.as_str()),
        ("participant_took_part", "yes"),
        ("weekly_hours", "10"),
    ];
    for (k, v) in fields {
        all.retain(|(key, _)| key != k);
        all.push((k, v));
    }
    browser.post_raw(&format!("/plans/{plan}/follow-ups/new"), &all).await
}

async fn next_due(db: &PgPool, plan: i64) -> String {
    sqlx::query_scalar::<_, chrono::NaiveDate>("SELECT next_follow_up_on FROM plans WHERE id = $1")
        .bind(plan)
        .fetch_one(db)
        .await
        .unwrap()
        .to_string()
}

#[sqlx::test]
async fn follow_ups_are_due_one_interval_after_the_last_and_on_time_means_by_the_due_date(db: PgPool) {
    let s = setup(&db).await;
    s.travel_to(2025, 11, 30).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(
        &s.staff,
        p,
        "first_step",
        &[("start_on", "2025-11-30"), ("planned_end_on", "2026-11-29")],
    )
    .await;
    activate(&s.staff, plan, "2025-11-30").await;
    // Three months after 30 November is the last day of February.
    assert_eq!(next_due(&db, plan).await, "2026-02-28");
    // Held on the due date: on time; the next counts from the day it was held.
    s.travel_to(2026, 2, 28).await;
    let held = follow_up(&s.staff, plan, &[("held_on", "2026-02-28")]).await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    assert_eq!(next_due(&db, plan).await, "2026-05-28");
    // Held a day late: recorded as late, and the next counts from the late date.
    s.travel_to(2026, 5, 29).await;
    assert_eq!(
        follow_up(&s.staff, plan, &[("held_on", "2026-05-29")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(next_due(&db, plan).await, "2026-08-29");
    let on_time: Vec<(String, bool)> = sqlx::query_as("SELECT due_on::text, on_time FROM follow_ups WHERE plan_id = $1 ORDER BY held_on")
        .bind(plan)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(on_time, vec![("2026-02-28".into(), true), ("2026-05-28".into(), false)]);
    let page = s.staff.get_page(&format!("/plans/{plan}")).await;
    assert_eq!(page.count("#follow-ups tbody tr"), 2);

    // Team ISA: 6 weeks, across a leap day.
    s.travel_to(2028, 2, 1).await;
    let young = young(&db, s.unit, s.staff_id).await;
    let isa = draft(
        &s.staff,
        young,
        "team_isa",
        &[("start_on", "2028-02-01"), ("planned_end_on", "2028-12-31")],
    )
    .await;
    activate(&s.staff, isa, "2028-02-01").await;
    assert_eq!(next_due(&db, isa).await, "2028-03-14");
    // A follow-up cannot be dated in the future, nor before the plan was set.
    let future = follow_up(&s.staff, isa, &[("held_on", "2028-02-02")]).await;
    assert_eq!(future.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let before = follow_up(&s.staff, isa, &[("held_on", "2028-01-31")]).await;
    assert_eq!(before.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn a_double_submitted_follow_up_is_recorded_once(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let form = s.staff.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    let due = form.attr("input[name=due_on]", "value").unwrap();
    let token = form.csrf_token();
    let fields = [
        ("csrf_token", token.as_str()),
        ("due_on", due.as_str()),
        ("held_on", "2026-03-02"),
        ("participant_took_part", "yes"),
        ("weekly_hours", "10"),
    ];
    let path = format!("/plans/{plan}/follow-ups/new");
    let (a, b) = tokio::join!(s.staff.post_raw(&path, &fields), s.staff.post_raw(&path, &fields));
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM follow_ups WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test]
async fn a_partner_without_consent_is_warned_about_before_it_is_recorded(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    sqlx::query("INSERT INTO consents (participant_id, scope, given_on, recorded_by, recorded_at) VALUES ($1, 'home_support', '2026-01-01', $2, now())")
        .bind(p)
        .bind(s.staff_id)
        .execute(&db)
        .await
        .unwrap();
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let form = s.staff.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    assert!(form.text("label[for=f-partners-social_insurance]").contains("samtycke saknas"));
    assert!(
        !form.text("label[for=f-partners]").contains("samtycke saknas"),
        "boendestöd has consent"
    );
    let warned = follow_up(
        &s.staff,
        plan,
        &[("held_on", "2026-03-02"), ("partners", "home_support"), ("notes", "Möte med FK")],
    )
    .await;
    assert_eq!(
        warned.status(),
        StatusCode::SEE_OTHER,
        "a partner with consent needs no confirmation"
    );
    s.advance_days(1).await;
    let form = s.staff.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    let due = form.attr("input[name=due_on]", "value").unwrap();
    let token = form.csrf_token();
    let base = vec![
        ("csrf_token", token.as_str()),
        ("due_on", due.as_str()),
        ("held_on", "2026-03-03"),
        ("participant_took_part", "yes"),
        ("weekly_hours", "10"),
        ("partners", "social_insurance"),
        ("notes", "Möte med Försäkringskassan"),
    ];
    let path = format!("/plans/{plan}/follow-ups/new");
    let refused = s.staff.post_raw(&path, &base).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.error("Samverkansparter som deltog").contains("Försäkringskassan"));
    assert_eq!(page.text("#f-notes"), "Möte med Försäkringskassan");
    let mut confirmed = base.clone();
    confirmed.push(("confirm_without_consent", "yes"));
    assert_eq!(s.staff.post_raw(&path, &confirmed).await.status(), StatusCode::SEE_OTHER);
    let without: Vec<String> = sqlx::query_scalar("SELECT unnest(partners_without_consent) FROM follow_ups WHERE plan_id = $1")
        .bind(plan)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(without, vec!["social_insurance".to_string()]);
}

#[sqlx::test]
async fn only_an_arbetsterapeut_signs_a_work_capacity_assessment(db: PgPool) {
    let s = setup(&db).await;
    let (therapist, therapist_id) = s.app.signed_in_at(Role::Staff, s.unit).await;
    sqlx::query("UPDATE users SET job_title = 'Arbetsterapeut' WHERE id = $1")
        .bind(therapist_id)
        .execute(&db)
        .await
        .unwrap();
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    let path = format!("/plans/{plan}");
    let fields = [
        ("assessed_on", "2026-03-02"),
        ("assessment", "Klarar fyra timmar."),
        ("sign_now", "yes"),
    ];
    let refused = s.staff.submit(&path, &format!("/plans/{plan}/assessments"), &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Bedömning").contains("arbetsterapeut"));
    // Staff write it unsigned; the therapist signs.
    let written = s.staff.submit(&path, &format!("/plans/{plan}/assessments"), &fields[..2]).await;
    assert_eq!(written.status(), StatusCode::SEE_OTHER);
    let id: i64 = sqlx::query_scalar("SELECT id FROM capacity_assessments WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    let sign = format!("/plans/{plan}/assessments/{id}/sign");
    assert_eq!(s.staff.submit(&path, &sign, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(therapist.submit(&path, &sign, &[]).await.status(), StatusCode::SEE_OTHER);
    let signer: Option<i64> = sqlx::query_scalar("SELECT signed_by FROM capacity_assessments WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(signer, Some(therapist_id));
    // The database refuses a signature by anyone else, and any change after signing.
    let other = sqlx::query(
        "INSERT INTO capacity_assessments (plan_id, assessed_on, assessment, written_by, written_at, signed_by, signed_at) VALUES ($1, '2026-03-02', 'x', $2, now(), $2, now())",
    )
    .bind(plan)
    .bind(s.staff_id)
    .execute(&db)
    .await;
    assert!(other.is_err());
    let changed = sqlx::query("UPDATE capacity_assessments SET assessment = 'ändrad' WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await;
    assert!(changed.is_err());
}

#[sqlx::test]
async fn one_active_plan_per_person_and_programme(db: PgPool) {
    let s = setup(&db).await;
    let p = young(&db, s.unit, s.staff_id).await;
    let first = draft(&s.staff, p, "first_step", &[("weekly_hours", "4")]).await;
    let second = draft(&s.staff, p, "first_step", &[("weekly_hours", "4")]).await;
    let isa = draft(&s.staff, p, "team_isa", &[("weekly_hours", "4")]).await;
    activate(&s.staff, first, "2026-03-02").await;
    let refused = activate(&s.staff, second, "2026-03-02").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Fastställd datum").contains("redan en aktiv plan"));
    // The other programme is fine at the same time.
    activate(&s.staff, isa, "2026-03-02").await;
    assert_eq!(status_of(&db, isa).await, "active");
    let index = sqlx::query(
        "UPDATE plans SET status = 'active', set_on = start_on, next_follow_up_on = start_on, renewal_due_on = start_on WHERE id = $1",
    )
    .bind(second)
    .execute(&db)
    .await;
    assert!(index.unwrap_err().to_string().contains("plans_one_active"));
}

#[sqlx::test]
async fn plans_of_another_unit_cannot_be_reached(db: PgPool) {
    let s = setup(&db).await;
    let other_unit = common::create_unit(&db, "Lotsen Ryd").await;
    let (outsider, _) = s.app.signed_in_at(Role::Staff, other_unit).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    for path in [
        format!("/plans/{plan}"),
        format!("/plans/{plan}/edit"),
        format!("/participants/{p}/plans/new"),
    ] {
        assert_eq!(outsider.get(&path).await.status(), StatusCode::FORBIDDEN, "{path}");
    }
    let token = outsider.get_page("/todo").await.csrf_token();
    let response = outsider
        .post_raw(
            &format!("/plans/{plan}/activate"),
            &[("csrf_token", &token), ("set_on", "2026-03-02")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(status_of(&db, plan).await, "draft");
}

mod reminders {
    use super::*;
    use lotsen::reminders::sweep;

    async fn open_reminders(db: &PgPool) -> Vec<(i64, String, String)> {
        sqlx::query_as("SELECT plan_id, kind, due_on::text FROM reminders WHERE cleared_at IS NULL ORDER BY plan_id, kind")
            .fetch_all(db)
            .await
            .unwrap()
    }

    #[sqlx::test]
    async fn the_sweep_flags_what_is_due_once_however_often_it_runs(db: PgPool) {
        let s = setup(&db).await;
        let p1 = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
        let p2 = young(&db, s.unit, s.staff_id).await;
        let fst = draft(&s.staff, p1, "first_step", &[]).await;
        let isa = draft(&s.staff, p2, "team_isa", &[]).await;
        activate(&s.staff, fst, "2026-03-02").await;
        activate(&s.staff, isa, "2026-03-02").await;
        let today = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::today(clock);
        let now = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::now(clock);
        // Team ISA due 2026-04-13: nothing on 2026-03-29 (15 days before), flagged on 2026-03-30 (14 days before).
        s.travel_to(2026, 3, 29).await;
        let report = sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
        assert_eq!(report.raised, 0);
        s.advance_days(1).await;
        for _ in 0..3 {
            sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
        }
        assert_eq!(open_reminders(&db).await, vec![(isa, "follow_up".into(), "2026-04-13".into())]);
        // Overdue: still one reminder per due date.
        s.travel_to(2026, 6, 10).await;
        sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
        sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
        assert_eq!(
            open_reminders(&db).await,
            vec![
                (fst, "follow_up".into(), "2026-06-02".into()),
                (isa, "follow_up".into(), "2026-04-13".into())
            ]
        );
        // The kontaktman sees them on "Att göra", the overdue marked.
        let todo = s.staff.get_page("/todo").await;
        assert_eq!(todo.count("#mine-h ~ .table-wrap tbody tr"), 2);
        assert!(todo.text("main").contains("Försenad 58 dagar"));
        // A manager sees the unit's.
        let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
        let unit = manager.get_page("/todo").await;
        assert_eq!(unit.count("#unit-h ~ .table-wrap tbody tr"), 2);
        // Holding the follow-up clears its reminder.
        let held = follow_up(&s.staff, isa, &[("held_on", "2026-06-10")]).await;
        assert_eq!(held.status(), StatusCode::SEE_OTHER);
        assert_eq!(open_reminders(&db).await, vec![(fst, "follow_up".into(), "2026-06-02".into())]);
        // Renewal: a year after the plan was set; renewing clears it.
        s.travel_to(2027, 2, 20).await;
        sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
        assert!(open_reminders(&db).await.contains(&(fst, "renewal".into(), "2027-03-02".into())));
        let renewed = s
            .staff
            .submit(
                &format!("/plans/{fst}"),
                &format!("/plans/{fst}/renew"),
                &[("renewed_on", "2027-02-20")],
            )
            .await;
        assert_eq!(renewed.status(), StatusCode::SEE_OTHER);
        assert!(
            !open_reminders(&db)
                .await
                .iter()
                .any(|(plan, kind, _)| *plan == fst && kind == "renewal")
        );
        let due: chrono::NaiveDate = sqlx::query_scalar("SELECT renewal_due_on FROM plans WHERE id = $1")
            .bind(fst)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(due.to_string(), "2028-02-20");
    }

    #[sqlx::test]
    async fn two_instances_sweeping_at_once_raise_each_reminder_once(db: PgPool) {
        let s = setup(&db).await;
        let mut plans = Vec::new();
        for _ in 0..20 {
            let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
            plans.push(draft(&s.staff, p, "first_step", &[("weekly_hours", "4")]).await);
        }
        for plan in &plans {
            activate(&s.staff, *plan, "2026-03-02").await;
        }
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).unwrap();
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 1, 8, 0, 0).unwrap();
        // Two instances: two pools against the same database.
        let other_pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect_with((*db.connect_options()).clone())
            .await
            .unwrap();
        for _ in 0..10 {
            let (a, b) = tokio::join!(sweep::run(&db, today, now), sweep::run(&other_pool, today, now));
            let (a, b) = (a.unwrap(), b.unwrap());
            // Either one held the lock and the other skipped, or they ran one after the other.
            let raised = a.map_or(0, |r| r.raised) + b.map_or(0, |r| r.raised);
            assert!(raised == 20 || raised == 0, "raised {raised}");
        }
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders").fetch_one(&db).await.unwrap();
        assert_eq!(count, 20);
        // While one instance holds the lock, the other skips its round.
        let mut tx = db.begin().await.unwrap();
        sqlx::query("SELECT pg_advisory_xact_lock(x'4c6f7473656e0002'::bigint)")
            .execute(&mut *tx)
            .await
            .unwrap();
        assert_eq!(sweep::run(&other_pool, today, now).await.unwrap(), None);
        tx.rollback().await.unwrap();
        // Ending a plan answers its reminders.
        let ended = s
            .staff
            .submit(
                &format!("/plans/{}", plans[0]),
                &format!("/plans/{}/end", plans[0]),
                &[("ended_on", "2026-03-02"), ("outcome", "studies")],
            )
            .await;
        assert_eq!(ended.status(), StatusCode::SEE_OTHER);
        let open: i64 = sqlx::query_scalar("SELECT count(*) FROM reminders WHERE cleared_at IS NULL")
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(open, 19);
    }

    #[sqlx::test]
    async fn people_nearing_two_years_are_flagged(db: PgPool) {
        let s = setup(&db).await;
        let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
        let plan = draft(
            &s.staff,
            p,
            "first_step",
            &[("start_on", "2026-03-02"), ("planned_end_on", "2028-03-01")],
        )
        .await;
        activate(&s.staff, plan, "2026-03-02").await;
        let (warning, last): (chrono::NaiveDate, chrono::NaiveDate) =
            sqlx::query_as("SELECT limit_warning_on, limit_last_day FROM plans WHERE id = $1")
                .bind(plan)
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(last.to_string(), "2028-03-01");
        let day_before = warning.pred_opt().unwrap();
        let at = |d: chrono::NaiveDate| chrono::TimeZone::from_utc_datetime(&chrono::Utc, &d.and_hms_opt(8, 0, 0).unwrap());
        sweep::run(&db, day_before, at(day_before)).await.unwrap();
        assert!(!open_reminders(&db).await.iter().any(|(_, k, _)| k == "two_year_limit"));
        sweep::run(&db, warning, at(warning)).await.unwrap();
        assert!(
            open_reminders(&db)
                .await
                .contains(&(plan, "two_year_limit".into(), "2028-03-01".into()))
        );
    }
}

#[sqlx::test]
async fn goals_activities_and_the_employer_register(db: PgPool) {
    let s = setup(&db).await;
    let p = young(&db, s.unit, s.staff_id).await;
    let plan = draft(
        &s.staff,
        p,
        "team_isa",
        &[
            ("new_employer_name", "Bageriet AB"),
            ("new_employer_org", "5560001111"),
            ("supervisor", "Karin"),
        ],
    )
    .await;
    let employer: (String, Option<String>) =
        sqlx::query_as("SELECT e.name, e.organisation_number FROM plans p JOIN employers e ON e.id = p.employer_id WHERE p.id = $1")
            .bind(plan)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(employer, ("Bageriet AB".into(), Some("556000-1111".into())));
    // The same employer again is refused: choose it from the list.
    let p2 = young(&db, s.unit, s.staff_id).await;
    let twice = submit_plan(&s.staff, p2, "team_isa", &[("new_employer_name", "bageriet ab")]).await;
    assert_eq!(twice.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(twice).await.error("Ny arbetsgivare: namn").contains("finns redan"));
    let register = s.staff.get_page("/employers").await;
    assert!(register.text("tbody").contains("Bageriet AB"));

    let path = format!("/plans/{plan}");
    let empty = s
        .staff
        .submit(&path, &format!("/plans/{plan}/goals"), &[("goal_description", " ")])
        .await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        s.staff
            .submit(
                &path,
                &format!("/plans/{plan}/goals"),
                &[("goal_description", "Arbeta på bageriet")]
            )
            .await
            .status()
            .is_redirection()
    );
    let goal: i64 = sqlx::query_scalar("SELECT id FROM plan_goals WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    let sub = s
        .staff
        .submit(
            &path,
            &format!("/plans/{plan}/goals"),
            &[("goal_description", "Komma i tid"), ("goal_parent", &goal.to_string())],
        )
        .await;
    assert_eq!(sub.status(), StatusCode::SEE_OTHER);
    let activity = s
        .staff
        .submit(
            &path,
            &format!("/plans/{plan}/activities"),
            &[
                ("activity_goal", &goal.to_string()),
                ("activity_description", "Öva resvägen"),
                ("activity_responsible", &s.staff_id.to_string()),
            ],
        )
        .await;
    assert_eq!(activity.status(), StatusCode::SEE_OTHER);
    let page = s.staff.get_page(&path).await;
    assert_eq!(page.count("ol.goals > li"), 1);
    assert_eq!(page.count("ol.sub-goals > li"), 1);
    assert!(page.text("ul.activities").contains("Öva resvägen"));
    // A goal of another plan cannot be used.
    let other_plan = draft(&s.staff, p2, "first_step", &[]).await;
    let foreign = s
        .staff
        .submit(
            &format!("/plans/{other_plan}"),
            &format!("/plans/{other_plan}/activities"),
            &[
                ("activity_goal", &goal.to_string()),
                ("activity_description", "x"),
                ("activity_responsible", &s.staff_id.to_string()),
            ],
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A minimal SMTP server that accepts every message and keeps what it got.
async fn fake_smtp() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
                let mut in_data = false;
                let mut message = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            store.lock().unwrap().push(std::mem::take(&mut message));
                            write.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            message.push_str(&line);
                            message.push('\n');
                        }
                        continue;
                    }
                    let verb = line.split_whitespace().next().unwrap_or("").to_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 fake\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, messages)
}

#[sqlx::test]
async fn the_daily_digest_has_counts_and_a_link_and_goes_once_a_day(db: PgPool) {
    use lotsen::reminders::{digest, sweep};
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    sqlx::query("UPDATE participants SET first_name = 'Hemliga', last_name = 'Namnet' WHERE id = $1")
        .bind(p)
        .execute(&db)
        .await
        .unwrap();
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 10).unwrap();
    let at = |hour: u32| chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 10, hour, 0, 0).unwrap();
    sweep::run(&db, today, at(4)).await.unwrap();

    // Without SMTP nothing is sent and nothing fails.
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    assert_eq!(digest::send_due(&db, &config, today, at(8)).await.unwrap(), 0);

    let (port, messages) = fake_smtp().await;
    config.smtp_url = Some(lotsen::config::SmtpUrl(format!("smtp://127.0.0.1:{port}")));
    config.public_url = "https://lotsen.example".into();
    // 06:00 in Stockholm (04:00 UTC in summer) is before the digest hour.
    assert_eq!(digest::send_due(&db, &config, today, at(4)).await.unwrap(), 0);
    // Two instances at once: one e-mail.
    let (a, b) = tokio::join!(
        digest::send_due(&db, &config, today, at(8)),
        digest::send_due(&db, &config, today, at(8))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(digest::send_due(&db, &config, today, at(9)).await.unwrap(), 0, "once a day");
    let sent = messages.lock().unwrap().clone();
    assert_eq!(sent.len(), 1);
    let text = &sent[0];
    assert!(text.contains("https://lotsen.example/todo"), "{text}");
    assert!(
        !text.contains("Hemliga") && !text.contains("Namnet") && !text.contains("1990"),
        "no personal data: {text}"
    );
    // The next day, another.
    let tomorrow = today.succ_opt().unwrap();
    let next = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 6, 11, 8, 0, 0).unwrap();
    assert_eq!(digest::send_due(&db, &config, tomorrow, next).await.unwrap(), 1);
}
