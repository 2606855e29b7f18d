//! The way out (issue 19, points 4 and 5): a lärandeplats is a contact with
//! the employer (the consent gate); employer contacts are counted per staff
//! member and week; forumträffar name their employers; stöd vid arbete runs
//! at most a year from the start of employment (in the app and the schema),
//! its contacts fall within it, its end is flagged a month ahead once
//! however often and wherever the round runs, and a return after work shows
//! on the personakt.

mod common;

use common::plans::*;
use common::{Browser, Page, Person};
use lotsen::reminders::sweep;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn employer_id(db: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM employers WHERE name = $1")
        .bind(name)
        .fetch_one(db)
        .await
        .unwrap()
}

/// Adds an employer to the register, as its page does; its id.
async fn add_employer(browser: &Browser, db: &PgPool, name: &str) -> i64 {
    let response = browser.submit("/employers", "/employers", &[("name", name)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    employer_id(db, name).await
}

async fn consent(browser: &Browser, person: i64, scope: &str, partner: &str, given: &str) {
    let path = format!("/participants/{person}");
    let response = browser
        .submit(
            &path,
            &format!("{path}/consents"),
            &[("consent_scope", scope), ("consent_partner", partner), ("consent_given", given)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn a_placement_at_an_employer_needs_a_consent_that_covers_that_employer(db: PgPool) {
    let s = setup(&db).await;
    let bakery = add_employer(&s.staff, &db, "Bageriet i Ryd").await;
    let garage = add_employer(&s.staff, &db, "Cykelverkstan").await;
    let p = Person::at(s.unit).born("1995-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let path = format!("/participants/{p}/placements");
    let placement = |employer: i64| {
        let employer = employer.to_string();
        let staff = &s.staff;
        let path = path.clone();
        async move {
            staff
                .submit(
                    &path,
                    &path,
                    &[
                        ("employer_id", &employer),
                        ("plan_id", ""),
                        ("supervisor", "Karin"),
                        ("tasks", "Baka bröd på morgonen"),
                        ("competitive", "no"),
                        ("start_on", "2026-03-02"),
                    ],
                )
                .await
        }
    };
    // No consent: refused beside the employer, the text kept.
    let refused = placement(bakery).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.error("Arbetsgivare").contains("Bageriet i Ryd"));
    assert_eq!(page.text("#f-tasks"), "Baka bröd på morgonen");
    // A consent naming the bakery covers the bakery, not the garage.
    let bakery_partner: i64 = sqlx::query_scalar("SELECT id FROM partners WHERE employer_id = $1")
        .bind(bakery)
        .fetch_one(&db)
        .await
        .unwrap();
    consent(&s.staff, p, "employer", &bakery_partner.to_string(), "2026-03-01").await;
    assert_eq!(placement(garage).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(placement(bakery).await.status(), StatusCode::SEE_OTHER);
    let (via, consented): (String, bool) =
        sqlx::query_as("SELECT via, consent_id IS NOT NULL FROM partner_contacts WHERE participant_id = $1")
            .bind(p)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((via.as_str(), consented), ("placement", true));
    assert!(s.staff.get_page(&path).await.text("main").contains("Bageriet i Ryd"));

    // Malmö's indicators count the lärandeplats and its employer (point 9),
    // and the employers at a forumträff.
    let unit = s.unit.to_string();
    let garage_text = garage.to_string();
    let forum = s
        .staff
        .submit(
            "/employers/forums",
            "/employers/forums",
            &[
                ("unit_id", &unit),
                ("held_on", "2026-03-02"),
                ("topic", "Frukost"),
                ("employers", &garage_text),
            ],
        )
        .await;
    assert_eq!(forum.status(), reqwest::StatusCode::SEE_OTHER);
    let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
    let scope = lotsen::reports::indicators::Scope {
        units: vec![lotsen::ids::UnitId(s.unit)],
        from: day("2026-01-01"),
        to: day("2026-03-02"),
        today: day("2026-03-02"),
    };
    let sections = lotsen::reports::indicators::compute(&scope, &lotsen::reports::indicators::load(&db, &scope).await.unwrap());
    let find = |key: &str| sections.iter().find_map(|s| s.get(key)).unwrap().measure.clone();
    assert_eq!(
        find("employers"),
        lotsen::reports::indicators::Measure::Total(2),
        "the bakery and the garage"
    );
    match find("placements") {
        lotsen::reports::indicators::Measure::Count(c) => assert_eq!(c.split.total(), 1),
        other => panic!("{other:?}"),
    }
}

#[sqlx::test]
async fn employer_contacts_are_counted_per_staff_member_and_week_and_forums_name_their_employers(db: PgPool) {
    let s = setup(&db).await;
    let bakery = add_employer(&s.staff, &db, "Bageriet i Ryd").await.to_string();
    let unit = s.unit.to_string();
    let staff = s.staff_id.to_string();
    // Monday 2 March to Saturday 7 March: six contacts reach the IPS target.
    for day in ["2026-03-02", "2026-03-02", "2026-03-02", "2026-03-02", "2026-03-02"] {
        let response = s
            .staff
            .submit(
                "/employers/contacts",
                "/employers/contacts",
                &[
                    ("unit_id", &unit),
                    ("contact_on", day),
                    ("staff_id", &staff),
                    ("employer_id", &bakery),
                    ("kind", "visit"),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let week = s.staff.get_page(&format!("/employers/contacts?unit={unit}&week=2026-03-04")).await;
    assert!(week.text("main").contains("under 6"), "five is under the target");
    s.staff
        .submit(
            "/employers/contacts",
            "/employers/contacts",
            &[
                ("unit_id", &unit),
                ("contact_on", "2026-03-01"),
                ("staff_id", &staff),
                ("employer_id", &bakery),
                ("kind", "phone"),
            ],
        )
        .await;
    // 1 March is the week before: still five this week.
    assert!(
        s.staff
            .get_page("/employers/contacts?week=2026-03-02")
            .await
            .text("main")
            .contains("under 6")
    );
    s.staff
        .submit(
            "/employers/contacts",
            "/employers/contacts",
            &[
                ("unit_id", &unit),
                ("contact_on", "2026-03-02"),
                ("staff_id", &staff),
                ("employer_id", &bakery),
                ("kind", "phone"),
            ],
        )
        .await;
    assert!(
        s.staff
            .get_page("/employers/contacts?week=2026-03-02")
            .await
            .text("main")
            .contains("Når målet")
    );

    // A forum meeting names at least one employer of the register.
    let refused = s
        .staff
        .submit(
            "/employers/forums",
            "/employers/forums",
            &[("unit_id", &unit), ("held_on", "2026-03-02"), ("topic", "Arbetsgivarfrukost")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!Page::from(refused).await.error("Arbetsgivare som var med").is_empty());
    let held = s
        .staff
        .submit(
            "/employers/forums",
            "/employers/forums",
            &[
                ("unit_id", &unit),
                ("held_on", "2026-03-02"),
                ("topic", "Arbetsgivarfrukost"),
                ("employers", &bakery),
            ],
        )
        .await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    assert!(s.staff.get_page("/employers/forums").await.text("main").contains("Bageriet i Ryd"));
}

/// A plan of a new person ended in employment on `ended_on`; (person, plan).
async fn employed(s: &Setup, db: &PgPool, ended_on: &str) -> (i64, i64) {
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    assert_eq!(activate(&s.staff, plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    let ended = s
        .staff
        .submit(
            &format!("/plans/{plan}"),
            &format!("/plans/{plan}/end"),
            &[("ended_on", ended_on), ("outcome", "employment")],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    (p, plan)
}

#[sqlx::test]
async fn stod_vid_arbete_runs_at_most_a_year_and_its_contacts_fall_within_it(db: PgPool) {
    let s = setup(&db).await;
    let bakery = add_employer(&s.staff, &db, "Bageriet i Ryd").await;
    let (p, plan) = employed(&s, &db, "2026-03-02").await;
    let path = format!("/participants/{p}/employment-support");
    let start = |ends_on: &'static str| {
        let (staff, path, plan, bakery) = (&s.staff, path.clone(), plan.to_string(), bakery.to_string());
        async move {
            staff
                .submit(
                    &path,
                    &path,
                    &[
                        ("plan_id", &plan),
                        ("employer_id", &bakery),
                        ("start_on", "2026-03-02"),
                        ("ends_on", ends_on),
                    ],
                )
                .await
        }
    };
    // A year and a day: refused beside the end, naming the last day.
    let refused = start("2027-03-03").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(refused)
            .await
            .error("Stödet slutar (högst ett år från anställningens början)")
            .contains("2027-03-02")
    );
    assert_eq!(start("2027-03-02").await.status(), StatusCode::SEE_OTHER);
    // The schema holds the same limit.
    let stretched = sqlx::query("UPDATE employment_supports SET ends_on = ends_on + 1")
        .execute(&db)
        .await;
    assert_eq!(
        stretched
            .unwrap_err()
            .as_database_error()
            .and_then(|e| e.constraint().map(String::from))
            .as_deref(),
        Some("employment_supports_within_a_year")
    );
    // One support per plan.
    assert_eq!(start("2027-03-02").await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let support: i64 = sqlx::query_scalar("SELECT id FROM employment_supports")
        .fetch_one(&db)
        .await
        .unwrap();
    let contact = |on: &'static str, with: &'static str| {
        let (staff, path, support, staff_id) = (&s.staff, path.clone(), support.to_string(), s.staff_id.to_string());
        async move {
            staff
                .submit(
                    &path,
                    &format!("{path}/contacts"),
                    &[
                        ("support_id", &support),
                        ("contact_on", on),
                        ("with_whom", with),
                        ("note", "Hur går det på jobbet?"),
                        ("staff_id", &staff_id),
                    ],
                )
                .await
        }
    };
    // Before the employment began: outside the support.
    let early = contact("2026-03-01", "person").await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(early).await.error("Datum").contains("utanför stödet"));
    assert_eq!(contact("2026-03-02", "person").await.status(), StatusCode::SEE_OTHER);
    // With the employer: the consent gate.
    let no_consent = contact("2026-03-02", "employer").await;
    assert_eq!(no_consent.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(no_consent).await.error("Med").contains("Bageriet i Ryd"));
    consent(&s.staff, p, "employer", "", "2026-03-01").await;
    assert_eq!(contact("2026-03-02", "employer").await.status(), StatusCode::SEE_OTHER);
    // A year on, a contact after the last day is refused (also by the trigger).
    s.travel_to(2027, 3, 10).await;
    assert_eq!(contact("2027-03-03", "person").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let late = sqlx::query(
        "INSERT INTO employment_support_contacts (support_id, contact_on, with_whom, note, staff_id, recorded_by, recorded_at)
         VALUES ($1, '2027-03-03', 'person', 'x', $2, $2, now())",
    )
    .bind(support)
    .bind(s.staff_id)
    .execute(&db)
    .await;
    assert!(late.is_err());
    let contacts: i64 = sqlx::query_scalar("SELECT count(*) FROM employment_support_contacts")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(contacts, 2);
}

#[sqlx::test]
async fn the_end_of_the_support_is_flagged_a_month_ahead_once_and_answered_when_it_ends(db: PgPool) {
    let s = setup(&db).await;
    let (p, plan) = employed(&s, &db, "2026-03-02").await;
    let path = format!("/participants/{p}/employment-support");
    let started = s
        .staff
        .submit(
            &path,
            &path,
            &[
                ("plan_id", &plan.to_string()),
                ("employer_id", ""),
                ("start_on", "2026-03-02"),
                ("ends_on", "2026-09-30"),
            ],
        )
        .await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let today = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::today(clock);
    let now = |clock: &lotsen::clock::ManualClock| lotsen::clock::Clock::now(clock);
    let flagged = |db: PgPool| async move {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(*) FROM reminders WHERE kind = 'employment_support_end' AND due_on = '2026-09-30' AND cleared_at IS NULL",
        )
        .fetch_one(&db)
        .await
        .unwrap()
    };
    // 29 August: more than a month ahead, nothing; 30 August: flagged.
    s.travel_to(2026, 8, 29).await;
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert_eq!(flagged(db.clone()).await, 0);
    s.travel_to(2026, 8, 30).await;
    // Two instances at once, and again: one reminder.
    let other = PgPool::connect_with((*db.connect_options()).clone()).await.unwrap();
    let (a, b) = tokio::join!(
        sweep::run(&db, today(&s.app.clock), now(&s.app.clock)),
        sweep::run(&other, today(&s.app.clock), now(&s.app.clock))
    );
    a.unwrap();
    b.unwrap();
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert_eq!(flagged(db.clone()).await, 1);
    // The kontaktman sees it on Att göra.
    assert!(s.staff.get_page("/todo").await.text("main").contains("Stöd vid arbete slutar"));
    // Ending the support answers it, and the round does not raise it again.
    let support: i64 = sqlx::query_scalar("SELECT id FROM employment_supports")
        .fetch_one(&db)
        .await
        .unwrap();
    let ended = s
        .staff
        .submit(
            &path,
            &format!("{path}/end"),
            &[
                ("support_id", &support.to_string()),
                ("ended_on", "2026-08-30"),
                ("end_note", "Klarar sig själv."),
            ],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    sweep::run(&db, today(&s.app.clock), now(&s.app.clock)).await.unwrap().unwrap();
    assert_eq!(flagged(db.clone()).await, 0);
}

#[sqlx::test]
async fn someone_who_comes_back_after_leaving_for_work_is_shown_as_a_return(db: PgPool) {
    let s = setup(&db).await;
    let (p, _) = employed(&s, &db, "2026-03-02").await;
    let path = format!("/participants/{p}");
    let status = |status: &'static str, on: &'static str, reason: &'static str| {
        let (staff, path) = (&s.staff, path.clone());
        async move {
            staff
                .submit(
                    &path,
                    &format!("{path}/status"),
                    &[("status", status), ("status_on", on), ("end_reason", reason)],
                )
                .await
        }
    };
    assert_eq!(status("ended", "2026-03-02", "moved_on").await.status(), StatusCode::SEE_OTHER);
    assert!(!s.staff.get_page(&path).await.text("#plans").contains("Återkom efter arbete"));
    s.travel_to(2026, 9, 1).await;
    assert_eq!(status("active", "2026-09-01", "").await.status(), StatusCode::SEE_OTHER);
    assert!(
        s.staff
            .get_page(&path)
            .await
            .text("#plans")
            .contains("Återkom efter arbete 2026-09-01")
    );
}
