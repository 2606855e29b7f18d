//! Attendance (issue 6, first part): the reception check-in, undo, drop-in
//! visitors, Yngre Lotsen time, closed days and the opening calendar.

mod common;

use common::attendance::desk;
use common::{Browser, Page, Person, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// A search at the desk; results (several people, or none) are a page of
/// their own behind a redirect, which this follows.
async fn search(browser: &Browser, unit: i64, q: &str, visit_on: &str) -> reqwest::Response {
    let response = browser
        .submit(
            &format!("/visits?unit={unit}"),
            "/visits/search",
            &[("unit_id", &unit.to_string()), ("q", q), ("visit_on", visit_on)],
        )
        .await;
    if response.status() == StatusCode::SEE_OTHER && location(&response).contains("&search=") {
        return browser.get(&location(&response)).await;
    }
    response
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

#[sqlx::test]
async fn two_letters_and_enter_check_one_person_in_and_a_second_check_in_is_refused_politely(db: PgPool) {
    let d = desk(&db).await;
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    Person::at(d.unit).named("Bertil", "Ahlström").born("1980-01-01").insert(&db).await;
    Person::at(d.unit).named("Berit", "Ek").born("1980-01-01").insert(&db).await;
    // "an" starts only Anna's name: Enter logs the visit at once.
    let response = search(&d.staff, d.unit, "an", "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // No name in the address: the unit and the visit's number only.
    assert!(location(&response).starts_with(&format!("/visits?unit={}&checked_in=", d.unit)));
    let page = d.staff.get_page(&location(&response)).await;
    assert_eq!(page.text(".flash"), "Anna Berg är incheckad kl. 09:00.");
    assert_eq!(page.count("#today-h ~ .table-wrap tbody tr"), 1);
    assert_eq!(visits(&db, anna).await.len(), 1);
    // Again: refused politely, nothing new written.
    let again = search(&d.staff, d.unit, "an", "").await;
    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    let page = d.staff.get_page(&location(&again)).await;
    assert_eq!(page.text(".flash"), "Anna Berg är redan incheckad i dag, sedan kl. 09:00.");
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
    assert!(
        short
            .error("Namn (två eller tre bokstäver räcker, sedan Enter)")
            .contains("två bokstäver")
    );
}

#[sqlx::test]
async fn a_double_submitted_check_in_creates_one_visit(db: PgPool) {
    let d = desk(&db).await;
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
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
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
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
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    // Långfredagen 2026 is 3 April; logged afterwards it is still refused.
    let holiday = check_in(&d.staff, d.unit, anna, &[("visit_on", "2026-02-28")]).await;
    assert_eq!(holiday.status(), StatusCode::UNPROCESSABLE_ENTITY, "a Saturday");
    assert!(
        Page::from(holiday)
            .await
            .error("Namn (två eller tre bokstäver räcker, sedan Enter)")
            .contains("helg")
    );
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
    assert!(
        Page::from(refused)
            .await
            .error("Namn (två eller tre bokstäver räcker, sedan Enter)")
            .contains("stängt")
    );
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
    assert!(Page::from(refused).await.error("Dag").contains("redan stängt"));
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
    let seventeen = Person::at(d.unit).named("Sjutton", "Ung").born("2008-03-03").insert(&db).await;
    let eighteen = Person::at(d.unit).named("Arton", "Ung").born("2008-03-02").insert(&db).await;
    let thirty_five = Person::at(d.unit).named("Trettiofem", "Vuxen").born("1990-03-03").insert(&db).await;
    let thirty_six = Person::at(d.unit).named("Trettiosex", "Vuxen").born("1990-03-02").insert(&db).await;
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
    let later = Person::at(d.unit).named("Senare", "Vuxen").born("1960-01-01").insert(&db).await;
    d.app.clock.advance(chrono::Duration::hours(4));
    assert_eq!(check_in(&d.staff, d.unit, later, &[]).await.status(), StatusCode::SEE_OTHER);
    assert!(!visits(&db, later).await[0].3, "not counted after the period");
    // The statistics show how many were let in: the 17- and the 36-year-old.
    let stats = manager
        .get_page(&format!("/statistics?unit={}&from=2026-03-02&to=2026-03-02", d.unit))
        .await;
    assert!(stats.text("#outside-young").ends_with(": 2."), "{}", stats.text("#outside-young"));
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
    let stranger = Person::at(other).named("Anna", "Annan").born("1990-01-01").insert(&db).await;
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
    let anna = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
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

/// Saves a plan's worked hours for a week, Monday to Sunday, from its week page.
async fn save_week(browser: &Browser, plan: i64, week: &str, days: [&str; 7]) -> reqwest::Response {
    let mut fields = vec![("week", week)];
    fields.extend(days.iter().map(|d| ("hours", *d)));
    browser
        .submit(
            &format!("/plans/{plan}/hours?week={week}"),
            &format!("/plans/{plan}/hours"),
            &fields,
        )
        .await
}

#[sqlx::test]
async fn worked_hours_are_kept_per_day_and_weeks_far_under_plan_are_flagged(db: PgPool) {
    let d = desk(&db).await;
    let (key_worker, kontaktman) = d.app.signed_in_at(Role::Staff, d.unit).await;
    let p = Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    sqlx::query("INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, '2026-01-01', $2, now())")
        .bind(p)
        .bind(kontaktman)
        .execute(&db)
        .await
        .unwrap();
    let plan: i64 = sqlx::query_scalar(
        "INSERT INTO plans (participant_id, unit_id, programme, status, start_on, planned_end_on, weekly_hours, set_on, next_follow_up_on,
                            renewal_due_on, created_by, created_at, updated_by, updated_at)
         VALUES ($1, $2, 'first_step', 'active', '2026-02-01', '2026-12-31', 10, '2026-02-01', '2026-05-01', '2027-02-01', $3, now(), $3, now())
         RETURNING id",
    )
    .bind(p)
    .bind(d.unit)
    .bind(kontaktman)
    .fetch_one(&db)
    .await
    .unwrap();
    // Week 9 (23 Feb – 1 Mar): 4,5 hours on Monday, 0,5 on Wednesday = 5 of 10: not far under.
    let saved = save_week(&d.staff, plan, "2026-W09", ["4,5", "", "0,5", "", "", "", ""]).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let total: f64 = sqlx::query_scalar("SELECT sum(hours)::float8 FROM training_hours WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(total, 5.0);
    // Week 8: 4 hours: far under the plan's 10.
    save_week(&d.staff, plan, "2026-W08", ["4", "", "", "", "", "", ""]).await;
    let unit_week = d.staff.get_page(&format!("/training-hours?unit={}&week=2026-W08", d.unit)).await;
    assert!(unit_week.text("tbody tr.overdue").contains("Långt under planen"));
    let ok_week = d.staff.get_page(&format!("/training-hours?unit={}&week=2026-W09", d.unit)).await;
    assert_eq!(ok_week.count("tbody tr.overdue"), 0);
    // Today's week is not finished: not flagged yet. Future days and bad numbers are refused.
    let refused = d
        .staff
        .submit(
            &format!("/plans/{plan}/hours"),
            &format!("/plans/{plan}/hours"),
            &[("week", "2026-W10"), ("hours", "4"), ("hours", "13"), ("hours", "4")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.error("Timmar per dag").contains("Tisdag"));
    assert_eq!(page.value("Tisdag 2026-03-03"), "13", "what was typed is kept");

    // Last week (week 9, the clock stands on Monday 2 March) reaches the
    // kontaktman's Att göra when it is far under the plan: 5 of 10 is not.
    let link = format!("/plans/{plan}/hours?week=2026-W09");
    let todo = key_worker.get_page("/todo").await;
    assert!(todo.text("#hours-h").contains("2026-W09"));
    assert_eq!(todo.count(&format!("a[href='{link}']")), 0, "5 of 10 hours is not far under");
    let resaved = save_week(&d.staff, plan, "2026-W09", ["4,5", "", "", "", "", "", ""]).await;
    assert_eq!(resaved.status(), StatusCode::SEE_OTHER);
    let todo = key_worker.get_page("/todo").await;
    assert_eq!(todo.count(&format!("tr.overdue a[href='{link}']")), 1, "4,5 of 10 is");
    assert!(todo.text("tr.overdue").contains("4,5"));
    assert!(
        key_worker
            .get_page("/")
            .await
            .html
            .html()
            .contains("<strong>1</strong> av dina deltagare arbetade långt under planen")
    );
    // Only to the kontaktman.
    assert_eq!(d.staff.get_page("/todo").await.count(&format!("a[href='{link}']")), 0);
}

#[sqlx::test]
async fn statistics_match_a_hand_computed_fixture_and_the_csv_parses_back(db: PgPool) {
    let d = desk(&db).await;
    // Two women (one 18–35, one older), one man (older), one other/unstated (18–35).
    let young_woman = Person::at(d.unit).named("Ung", "Kvinna").born("2000-01-01").insert(&db).await;
    let older_woman = Person::at(d.unit).named("Äldre", "Kvinna").born("1970-01-01").insert(&db).await;
    let older_man = Person::at(d.unit).named("Äldre", "Man").born("1960-01-01").insert(&db).await;
    let young_other = Person::at(d.unit).named("Ung", "Annan").born("2001-01-01").insert(&db).await;
    sqlx::query("UPDATE participants SET gender = 'man' WHERE id = $1")
        .bind(older_man)
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE participants SET gender = 'other_or_unstated' WHERE id = $1")
        .bind(young_other)
        .execute(&db)
        .await
        .unwrap();
    let staff: i64 = sqlx::query_scalar("SELECT min(id) FROM users").fetch_one(&db).await.unwrap();
    // Visits: Feb 2 (Mon): young woman, older man. Feb 3 (Tue): young woman. Mar 2 (Mon): older woman,
    // young other. A cancelled visit on Mar 2 (older man) does not count.
    for (who, day, cancelled) in [
        (young_woman, "2026-02-02", false),
        (older_man, "2026-02-02", false),
        (young_woman, "2026-02-03", false),
        (older_woman, "2026-03-02", false),
        (young_other, "2026-03-02", false),
        (older_man, "2026-03-02", true),
    ] {
        sqlx::query(
            "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by, cancelled_at, cancelled_by)
             VALUES ($1, $2, $3::date, $3::date + time '10:00', $4, CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN $4 END)",
        )
        .bind(who)
        .bind(d.unit)
        .bind(day)
        .bind(staff)
        .bind(cancelled)
        .execute(&db)
        .await
        .unwrap();
    }
    // Drop-ins: 2 men on Feb 2.
    sqlx::query("INSERT INTO drop_in_visits (unit_id, visit_on, gender, visitors) VALUES ($1, '2026-02-02', 'man', 2)")
        .bind(d.unit)
        .execute(&db)
        .await
        .unwrap();
    let query = format!("unit={}&from=2026-02-01&to=2026-03-31&by=month", d.unit);
    let page = d.staff.get_page(&format!("/statistics?{query}")).await;
    let totals = page.texts("#totals-h ~ .table-wrap:first-of-type tfoot td");
    // All visits: women 3 (2 young + 1 older), men 3 (1 + 2 drop-in), other 1; total 7.
    assert_eq!(totals, vec!["3", "3", "1", "7", "42,9"]);
    let row = |n: usize| {
        page.texts(&format!("#totals-h ~ .table-wrap:first-of-type tbody tr:nth-child({n}) > *"))
            .join(" ")
    };
    assert_eq!(row(1), "Registrerade 18–35 år 2 0 1 3 66,7");
    assert_eq!(row(2), "Registrerade 36 år och äldre 1 1 0 2 50,0");
    assert_eq!(row(3), "Utan registrering 0 2 0 2 0,0");
    // Unique visitors: 4 people, drop-ins are not people we know.
    assert!(page.text("main").contains("Unika besökare"));
    let unique = page.texts("h3 + .table-wrap tfoot td");
    assert_eq!(unique, vec!["2", "1", "1", "4"]);
    let month = |n: usize| {
        page.texts(&format!("#buckets-h ~ .table-wrap tbody tr:nth-child({n}) > *"))
            .join(" ")
    };
    assert_eq!(month(1), "2026-02 2 3 0 5");
    assert_eq!(month(2), "2026-03 1 0 1 2");
    // Mondays are the busiest: 6 of 7.
    assert!(page.html.html().contains(">6</text>"));

    let csv = d.staff.get(&format!("/statistics.csv?{query}")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'));
    let parsed: Vec<Vec<String>> = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(|l| l.split(';').map(str::to_string).collect())
        .collect();
    assert_eq!(parsed[0][0], "Månad");
    assert_eq!(parsed[1], ["2026-02", "2", "3", "0", "5", "40,0"]);
    assert_eq!(parsed[2], ["2026-03", "1", "0", "1", "2", "50,0"]);
    assert_eq!(parsed[3], ["Totalt", "3", "3", "1", "7", "42,9"]);
    // A period backwards is refused beside the field.
    let bad = d
        .staff
        .get(&format!("/statistics?unit={}&from=2026-03-01&to=2026-02-01", d.unit))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// The fields of the change form for an activity, with these replaced.
#[sqlx::test]
async fn a_busy_day_lists_the_latest_check_ins_and_all_on_request(db: PgPool) {
    let d = desk(&db).await;
    // 52 people checked in this morning, a minute apart: Person 1 at 07:01 … Person 52 at 07:52 (UTC).
    sqlx::query(
        "WITH people AS (
             INSERT INTO participants (unit_id, first_name, last_name, identity_kind, birth_date, gender, resident, referral_source, created_at, updated_at)
             SELECT $1, 'Person', n::text, 'none', '1990-01-01', 'woman', true, 'self', now(), now() FROM generate_series(1, 52) AS n
             RETURNING id, last_name::int AS n)
         INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by)
         SELECT id, $1, '2026-03-02', timestamptz '2026-03-02 07:00Z' + n * interval '1 minute', (SELECT min(id) FROM users) FROM people",
    )
    .bind(d.unit)
    .execute(&db)
    .await
    .unwrap();
    let page = d.staff.get_page(&format!("/visits?unit={}", d.unit)).await;
    assert_eq!(page.text("#today-h"), "I dag (52 besök)");
    let names = page.texts("table tbody tr td:nth-child(2) a");
    assert_eq!(names.len(), 50);
    assert_eq!(
        (names[0].as_str(), names[49].as_str()),
        ("Person 52", "Person 3"),
        "the latest first"
    );
    let all = page.attr("a[href*='all=1']", "href").expect("a link to all of them");
    let page = d.staff.get_page(&all).await;
    assert_eq!(page.texts("table tbody tr td:nth-child(2) a").len(), 52);
    assert_eq!(page.count("a[href*='all=1']"), 0);
}
