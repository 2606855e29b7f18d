//! Attendance (issue 6, first part): the reception check-in, undo, drop-in
//! visitors, Yngre Lotsen time, closed days and the opening calendar.

mod common;

use common::{Browser, Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn person(db: &PgPool, unit: i64, first: &str, last: &str, birth: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, birth_date, gender, resident, referral_source, created_at, updated_at)
         VALUES ($1, $2, $3, 'none', $4::date, 'woman', true, 'self', now(), now()) RETURNING id",
    )
    .bind(unit)
    .bind(first)
    .bind(last)
    .bind(birth)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn search(browser: &Browser, unit: i64, q: &str, visit_on: &str) -> reqwest::Response {
    browser
        .submit(
            &format!("/visits?unit={unit}"),
            "/visits/search",
            &[("unit_id", &unit.to_string()), ("q", q), ("visit_on", visit_on)],
        )
        .await
}

async fn check_in(browser: &Browser, unit: i64, participant: i64, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = vec![("unit_id", unit.to_string()), ("participant_id", participant.to_string())];
    for (k, v) in extra {
        fields.push((k, v.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.submit(&format!("/visits?unit={unit}"), "/visits", &borrowed).await
}

async fn visits(db: &PgPool, participant: i64) -> Vec<(String, bool, bool, bool)> {
    sqlx::query_as("SELECT visit_on::text, cancelled_at IS NOT NULL, backfilled, outside_young_adults_time FROM visits WHERE participant_id = $1 ORDER BY id")
        .bind(participant)
        .fetch_all(db)
        .await
        .unwrap()
}

struct Desk {
    app: TestApp,
    unit: i64,
    staff: Browser,
}

async fn desk(db: &PgPool) -> Desk {
    // A reception desk stays signed in through the day in these tests.
    let app = TestApp::spawn_with(db.clone(), |c| c.session_idle_timeout = std::time::Duration::from_secs(8 * 3600)).await;
    let unit = common::create_unit(db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    Desk { app, unit, staff }
}

#[sqlx::test]
async fn two_letters_and_enter_check_one_person_in_and_a_second_check_in_is_refused_politely(db: PgPool) {
    let d = desk(&db).await;
    let anna = person(&db, d.unit, "Anna", "Berg", "1990-01-01").await;
    person(&db, d.unit, "Bertil", "Ahlström", "1980-01-01").await;
    person(&db, d.unit, "Berit", "Ek", "1980-01-01").await;
    // "an" starts only Anna's name: Enter logs the visit at once.
    let response = search(&d.staff, d.unit, "an", "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // No name in the address.
    assert_eq!(location(&response), format!("/visits?unit={}", d.unit));
    let page = d.staff.get_page(&location(&response)).await;
    assert_eq!(page.text(".flash"), "Anna Berg är incheckad kl. 09:00.");
    assert_eq!(page.count("#today-h ~ .table-wrap tbody tr"), 1);
    assert_eq!(visits(&db, anna).await.len(), 1);
    // Again: refused politely, nothing new written.
    let again = search(&d.staff, d.unit, "an", "").await;
    assert_eq!(again.status(), StatusCode::OK, "the one match is already here: listed, not logged");
    let page = Page::from(again).await;
    assert!(page.text("ul.hits").contains("Redan incheckad"));
    let direct = check_in(&d.staff, d.unit, anna, &[]).await;
    assert_eq!(direct.status(), StatusCode::SEE_OTHER);
    let page = d.staff.get_page(&location(&direct)).await;
    assert_eq!(page.text(".flash"), "Anna Berg är redan incheckad i dag, sedan kl. 09:00.");
    assert_eq!(visits(&db, anna).await.len(), 1);
    // "be" starts two names: both are listed with a button each.
    let both = search(&d.staff, d.unit, "be", "").await;
    assert_eq!(both.status(), StatusCode::OK);
    let page = Page::from(both).await;
    assert_eq!(page.count("ul.hits li"), 3, "Bertil, Berit, and Anna Berg by her last name");
    // Nothing found, and too short.
    assert_eq!(search(&d.staff, d.unit, "zz", "").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let short = Page::from(search(&d.staff, d.unit, "a", "").await).await;
    assert!(short.field_error("q").contains("två bokstäver"));
}

#[sqlx::test]
async fn a_double_submitted_check_in_creates_one_visit(db: PgPool) {
    let d = desk(&db).await;
    let anna = person(&db, d.unit, "Anna", "Berg", "1990-01-01").await;
    let token = d.staff.get_page(&format!("/visits?unit={}", d.unit)).await.csrf_token();
    let unit = d.unit.to_string();
    let id = anna.to_string();
    let fields = [
        ("csrf_token", token.as_str()),
        ("unit_id", unit.as_str()),
        ("participant_id", id.as_str()),
    ];
    let (a, b, c) = tokio::join!(
        d.staff.post_raw("/visits", &fields),
        d.staff.post_raw("/visits", &fields),
        d.staff.post_raw("/visits", &fields)
    );
    for response in [a, b, c] {
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(visits(&db, anna).await.len(), 1);
}

#[sqlx::test]
async fn undo_keeps_the_visit_cancelled_and_audited_and_allows_a_new_check_in(db: PgPool) {
    let d = desk(&db).await;
    let anna = person(&db, d.unit, "Anna", "Berg", "1990-01-01").await;
    check_in(&d.staff, d.unit, anna, &[]).await;
    let visit: i64 = sqlx::query_scalar("SELECT id FROM visits WHERE participant_id = $1")
        .bind(anna)
        .fetch_one(&db)
        .await
        .unwrap();
    let undo = d
        .staff
        .submit(&format!("/visits?unit={}", d.unit), &format!("/visits/{visit}/cancel"), &[])
        .await;
    assert_eq!(undo.status(), StatusCode::SEE_OTHER);
    assert_eq!(visits(&db, anna).await, vec![("2026-03-02".into(), true, false, false)]);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'visit_cancelled' AND record_id = $1")
        .bind(visit)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
    let page = d.staff.get_page(&format!("/visits?unit={}", d.unit)).await;
    assert_eq!(page.count("#today-h ~ .table-wrap tbody tr"), 0, "an undone visit is not today's");
    // A new check-in is allowed again.
    check_in(&d.staff, d.unit, anna, &[]).await;
    let rows = visits(&db, anna).await;
    assert_eq!(rows.len(), 2);
    assert!(!rows[1].1);
    // Check-out records the time.
    let current: i64 = sqlx::query_scalar("SELECT id FROM visits WHERE participant_id = $1 AND cancelled_at IS NULL")
        .bind(anna)
        .fetch_one(&db)
        .await
        .unwrap();
    d.app.clock.advance(chrono::Duration::minutes(20));
    d.staff
        .submit(&format!("/visits?unit={}", d.unit), &format!("/visits/{current}/check-out"), &[])
        .await;
    let out: Option<chrono::DateTime<chrono::Utc>> = sqlx::query_scalar("SELECT checked_out_at FROM visits WHERE id = $1")
        .bind(current)
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(out.is_some());
}

#[sqlx::test]
async fn a_visit_on_a_closed_day_is_refused_unless_the_day_is_opened(db: PgPool) {
    let d = desk(&db).await;
    let (manager, _) = d.app.signed_in_at(Role::Manager, d.unit).await;
    let anna = person(&db, d.unit, "Anna", "Berg", "1990-01-01").await;
    // Långfredagen 2026 is 3 April; logged afterwards it is still refused.
    let holiday = check_in(&d.staff, d.unit, anna, &[("visit_on", "2026-02-28")]).await;
    assert_eq!(holiday.status(), StatusCode::UNPROCESSABLE_ENTITY, "a Saturday");
    assert!(Page::from(holiday).await.field_error("q").contains("helg"));
    // The unit closes today for a planning day: today's check-in is refused.
    let closed = manager
        .submit(
            &format!("/calendar?unit={}", d.unit),
            "/calendar/exceptions",
            &[
                ("unit_id", &d.unit.to_string()),
                ("day", "2026-03-02"),
                ("kind", "closed"),
                ("note", "Planeringsdag"),
            ],
        )
        .await;
    assert_eq!(closed.status(), StatusCode::SEE_OTHER);
    let refused = check_in(&d.staff, d.unit, anna, &[]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.field_error("q").contains("stängt"));
    assert!(visits(&db, anna).await.is_empty());
    // A Saturday opened as an extra day takes visits (logged afterwards).
    manager
        .submit(
            &format!("/calendar?unit={}", d.unit),
            "/calendar/exceptions",
            &[
                ("unit_id", &d.unit.to_string()),
                ("day", "2026-02-28"),
                ("kind", "open"),
                ("note", "Helgöppet"),
            ],
        )
        .await;
    let opened = check_in(&d.staff, d.unit, anna, &[("visit_on", "2026-02-28")]).await;
    assert_eq!(opened.status(), StatusCode::SEE_OTHER);
    assert_eq!(visits(&db, anna).await, vec![("2026-02-28".into(), false, true, false)]);
    // Staff cannot change the calendar; a future visit cannot be logged.
    let forbidden = d
        .staff
        .submit(
            &format!("/calendar?unit={}", d.unit),
            "/calendar/exceptions",
            &[("unit_id", &d.unit.to_string()), ("day", "2026-03-03"), ("kind", "closed")],
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    let future = check_in(&d.staff, d.unit, anna, &[("visit_on", "2026-03-03")]).await;
    assert_eq!(future.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn the_calendar_counts_open_days_against_230(db: PgPool) {
    let d = desk(&db).await;
    let (manager, _) = d.app.signed_in_at(Role::Manager, d.unit).await;
    let page = d.staff.get_page(&format!("/calendar?unit={}&year=2026", d.unit)).await;
    assert!(page.text(".lead").starts_with("251 öppetdagar 2026"), "{}", page.text(".lead"));
    assert!(page.text("#holidays-h ~ ul").contains("2026-06-19 Midsommarafton – stängt"));
    for day in ["2026-08-14", "2026-08-17"] {
        manager
            .submit(
                &format!("/calendar?unit={}", d.unit),
                "/calendar/exceptions",
                &[("unit_id", &d.unit.to_string()), ("day", day), ("kind", "closed")],
            )
            .await;
    }
    let page = d.staff.get_page(&format!("/calendar?unit={}&year=2026", d.unit)).await;
    assert!(page.text(".lead").starts_with("249 öppetdagar"));
    // Closing a day that is already closed is refused beside the field.
    let refused = manager
        .submit(
            &format!("/calendar?unit={}", d.unit),
            "/calendar/exceptions",
            &[("unit_id", &d.unit.to_string()), ("day", "2026-12-24"), ("kind", "closed")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.field_error("day").contains("redan stängt"));
}

#[sqlx::test]
async fn during_yngre_lotsen_time_visitors_outside_18_to_35_need_a_yes_and_are_counted(db: PgPool) {
    let d = desk(&db).await;
    let (manager, _) = d.app.signed_in_at(Role::Manager, d.unit).await;
    // Today 2026-03-02 09:00: reserved 08:00–12:00.
    let saved = manager
        .submit(
            &format!("/calendar?unit={}", d.unit),
            "/calendar/young-adults",
            &[
                ("unit_id", &d.unit.to_string()),
                ("period_day", "2026-03-02"),
                ("period_from", "08:00"),
                ("period_to", "12:00"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let seventeen = person(&db, d.unit, "Sjutton", "Ung", "2008-03-03").await;
    let eighteen = person(&db, d.unit, "Arton", "Ung", "2008-03-02").await;
    let thirty_five = person(&db, d.unit, "Trettiofem", "Vuxen", "1990-03-03").await;
    let thirty_six = person(&db, d.unit, "Trettiosex", "Vuxen", "1990-03-02").await;
    for (who, needs_yes) in [(seventeen, true), (eighteen, false), (thirty_five, false), (thirty_six, true)] {
        let response = check_in(&d.staff, d.unit, who, &[]).await;
        if needs_yes {
            assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
            let page = Page::from(response).await;
            assert!(page.text(".error-summary").contains("Yngre Lotsens tid"));
            assert!(visits(&db, who).await.is_empty());
            let yes = check_in(&d.staff, d.unit, who, &[("confirm", "yes")]).await;
            assert_eq!(yes.status(), StatusCode::SEE_OTHER);
            assert_eq!(visits(&db, who).await, vec![("2026-03-02".into(), false, false, true)], "counted");
        } else {
            assert_eq!(response.status(), StatusCode::SEE_OTHER);
            assert_eq!(visits(&db, who).await, vec![("2026-03-02".into(), false, false, false)]);
        }
    }
    // After the period, anyone checks in directly.
    let later = person(&db, d.unit, "Senare", "Vuxen", "1960-01-01").await;
    d.app.clock.advance(chrono::Duration::hours(4));
    assert_eq!(check_in(&d.staff, d.unit, later, &[]).await.status(), StatusCode::SEE_OTHER);
    assert!(!visits(&db, later).await[0].3, "not counted after the period");
}

#[sqlx::test]
async fn drop_in_visitors_are_counted_by_gender_and_never_below_zero(db: PgPool) {
    let d = desk(&db).await;
    let unit = d.unit.to_string();
    for (gender, change) in [
        ("woman", "1"),
        ("woman", "1"),
        ("man", "1"),
        ("woman", "-1"),
        ("other_or_unstated", "-1"),
    ] {
        let response = d
            .staff
            .submit(
                &format!("/visits?unit={unit}"),
                "/visits/drop-in",
                &[("unit_id", &unit), ("gender", gender), ("change", change)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
    }
    let counts: Vec<(String, i32)> = sqlx::query_as("SELECT gender, visitors FROM drop_in_visits ORDER BY gender")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(
        counts,
        vec![("man".into(), 1), ("other_or_unstated".into(), 0), ("woman".into(), 1)]
    );
}

#[sqlx::test]
async fn the_desk_only_reaches_its_own_units(db: PgPool) {
    let d = desk(&db).await;
    let other = common::create_unit(&db, "Lotsen Ryd").await;
    let stranger = person(&db, other, "Anna", "Annan", "1990-01-01").await;
    assert_eq!(d.staff.get(&format!("/visits?unit={other}")).await.status(), StatusCode::FORBIDDEN);
    // Searching the own unit does not find the other unit's people.
    assert_eq!(search(&d.staff, d.unit, "an", "").await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = check_in(&d.staff, d.unit, stranger, &[]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(visits(&db, stranger).await.is_empty());
}

#[sqlx::test]
async fn the_search_as_you_type_lists_hits_and_never_logs_a_visit(db: PgPool) {
    let d = desk(&db).await;
    let anna = person(&db, d.unit, "Anna", "Berg", "1990-01-01").await;
    let token = d.staff.get_page(&format!("/visits?unit={}", d.unit)).await.csrf_token();
    let response = d
        .staff
        .client
        .post(format!("{}/visits/search", d.staff.base))
        .header("x-live-search", "1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={token}&unit_id={}&q=an", d.unit))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("Anna Berg (36 år)"), "{html}");
    assert!(!html.contains("<html"), "only the hits");
    assert!(visits(&db, anna).await.is_empty(), "typing never checks anyone in");
}
