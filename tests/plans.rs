//! Plans: the plan form and its rules, activation with capacity and the kö,
//! the two-year limit, concurrent edits, goals and the employer register.

mod common;

use common::plans::*;
use common::{Browser, Page, Person};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

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
                ("escalation_days", "14"),
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
                ("escalation_days", "14"),
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
                ("escalation_days", "14"),
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
        add_goal(&s.staff, a).await;
        add_goal(&other, b).await;
        joint_plan_for(&s.staff, a, "2026-03-02").await;
        joint_plan_for(&other, b, "2026-03-02").await;
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
    assert!(conflict.contains("Skriftlig sammanfattning"), "{conflict}");
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
