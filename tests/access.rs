//! Access to records, route by route: every route of the router with an id in
//! its path refuses staff, managers and admins of another unit, for every
//! method, and writes nothing but the refusal; a record named under the wrong
//! parent is not found; reads are logged.

mod common;

use common::TestApp;
use lotsen::auth::Role;
use reqwest::{Method, StatusCode};
use sqlx::PgPool;
use std::collections::HashMap;

async fn scalar(db: &PgPool, sql: &str) -> i64 {
    // Test-made SQL from constants and ids, never from input.
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_optional(db)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("the demo data has no row for: {sql}"))
}

/// One record of each kind, from the demo data, with sub-records that belong
/// to their parent: keyed by the path prefix and parameter that name it.
async fn records(db: &PgPool) -> HashMap<&'static str, i64> {
    let participant = scalar(db, "SELECT participant_id FROM journal_notes ORDER BY id LIMIT 1").await;
    let consent: i64 = sqlx::query_scalar(
        "INSERT INTO consents (participant_id, scope, scope_note, given_on, recorded_by, recorded_at)
         SELECT $1, 'psychiatry', '', DATE '2026-01-05', min(id), now() FROM users RETURNING id",
    )
    .bind(participant)
    .fetch_one(db)
    .await
    .unwrap();
    let plan = scalar(
        db,
        "SELECT a.plan_id FROM plan_activities a JOIN capacity_assessments c ON c.plan_id = a.plan_id ORDER BY a.plan_id LIMIT 1",
    )
    .await;
    let sql = |table: &str, parent: &str, id: i64| format!("SELECT min(id) FROM {table} WHERE {parent} = {id}");
    HashMap::from([
        ("/participants/{id}", participant),
        ("{note_id}", scalar(db, &sql("journal_notes", "participant_id", participant)).await),
        ("{consent_id}", consent),
        ("/plans/{id}", plan),
        ("{activity_id}", scalar(db, &sql("plan_activities", "plan_id", plan)).await),
        ("{assessment_id}", scalar(db, &sql("capacity_assessments", "plan_id", plan)).await),
        (
            "/visits/{id}",
            scalar(db, "SELECT min(id) FROM visits WHERE cancelled_at IS NULL").await,
        ),
        (
            "/activities/{id}",
            scalar(db, "SELECT min(id) FROM group_activities WHERE cancelled_at IS NULL").await,
        ),
        (
            "{entry_id}",
            scalar(db, "SELECT min(id) FROM queue_entries WHERE closed_on IS NULL").await,
        ),
        ("/admin/units/{id}", scalar(db, "SELECT min(id) FROM units").await),
        ("/admin/users/{id}", scalar(db, "SELECT min(id) FROM users").await),
    ])
}

/// The app with the demo data, and one record of each kind from it.
async fn demo(db: &PgPool) -> (TestApp, HashMap<&'static str, i64>) {
    let app = TestApp::spawn(db.clone()).await;
    lotsen::demo::load(db, common::start_time()).await.unwrap();
    let records = records(db).await;
    (app, records)
}

/// A signed-in user of `role` who works at every unit there is.
async fn member_of_every_unit(app: &TestApp, role: Role) -> (common::Browser, i64) {
    let (browser, user) = app.signed_in(role).await;
    sqlx::query("INSERT INTO unit_memberships (user_id, unit_id) SELECT $1, id FROM units")
        .bind(user)
        .execute(&app.db)
        .await
        .unwrap();
    (browser, user)
}

/// The route's path with every parameter replaced by a record's id. A new
/// kind of id in a route must be added to `records`, or this fails.
fn fill(path: &str, records: &HashMap<&'static str, i64>) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let close = open + rest[open..].find('}').unwrap() + 1;
        let param = &rest[open..close];
        let prefix = format!("{}{}", &path[..path.len() - rest.len() + open], param);
        let id = records
            .get(param)
            .or_else(|| records.iter().find(|(key, _)| prefix.ends_with(*key)).map(|(_, id)| id))
            .unwrap_or_else(|| panic!("{path}: no record for {param}; add one to `records` in tests/access.rs"));
        out.push_str(&rest[..open]);
        out.push_str(&id.to_string());
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// What a refused request must leave as it was: every kind of record it could write.
async fn fingerprint(db: &PgPool) -> Vec<i64> {
    let mut all = Vec::new();
    for sql in [
        "SELECT count(*) FROM audit_log",
        "SELECT count(*) FROM journal_notes",
        "SELECT count(*) FROM consents WHERE withdrawn_on IS NOT NULL",
        "SELECT count(*) FROM relatives",
        "SELECT count(*) FROM home_support_entries",
        "SELECT count(*) FROM key_worker_assignments",
        "SELECT count(*) FROM participant_status_events",
        "SELECT coalesce(sum(version), 0)::bigint FROM participants",
        "SELECT coalesce(sum(version), 0)::bigint FROM plans",
        "SELECT count(*) FROM plans",
        "SELECT count(*) FROM follow_ups",
        "SELECT count(*) FROM plan_goals",
        "SELECT count(*) FROM plan_activities WHERE status = 'done'",
        "SELECT count(*) FROM capacity_assessments WHERE signed_by IS NOT NULL",
        "SELECT count(*) FROM training_hours",
        "SELECT count(*) FROM queue_entries WHERE closed_on IS NOT NULL",
        "SELECT count(*) FROM visits WHERE cancelled_at IS NOT NULL OR checked_out_at IS NOT NULL",
        "SELECT coalesce(sum(version), 0)::bigint FROM group_activities",
        "SELECT count(*) FROM group_activities WHERE cancelled_at IS NOT NULL",
        "SELECT count(*) FROM group_activity_attendance",
        "SELECT count(*) FROM units WHERE active",
        "SELECT count(*) FROM users WHERE active",
    ] {
        all.push(scalar(db, sql).await);
    }
    all
}

#[sqlx::test]
async fn every_route_with_an_id_refuses_users_of_another_unit(db: PgPool) {
    let (app, records) = demo(&db).await;
    let elsewhere = common::create_unit(&db, "Annan enhet").await;
    let routes: Vec<_> = lotsen::app::pages()
        .table()
        .iter()
        .filter(|r| r.path.contains('{'))
        .cloned()
        .collect();
    assert!(routes.len() >= 35, "the route table lists {} routes with an id", routes.len());

    let mut outsiders = Vec::new();
    for role in [Role::Staff, Role::Manager, Role::Admin] {
        let (browser, _) = app.signed_in_at(role, elsewhere).await;
        let token = browser.get_page("/").await.csrf_token();
        outsiders.push((role, browser, token));
    }
    let before = fingerprint(&db).await;
    let denials_before = scalar(&db, "SELECT count(*) FROM access_log WHERE action = 'denied'").await;
    let mut participant_refusals = 0;
    for (role, browser, token) in &outsiders {
        let role = *role;
        for route in &routes {
            // Admins manage every account and unit: those pages are theirs, in no unit.
            if role == Role::Admin && route.path.starts_with("/admin/") {
                continue;
            }
            let path = fill(route.path, &records);
            let response = if route.method == Method::GET {
                browser.get(&path).await
            } else {
                assert_eq!(route.method, Method::POST, "a new method: test it here");
                browser.post_raw(&path, &[("csrf_token", token)]).await
            };
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{} {path} as {role:?} of another unit",
                route.method
            );
            if ["/participants/", "/plans/", "/visits/", "/queue/"]
                .iter()
                .any(|p| route.path.starts_with(p))
            {
                participant_refusals += 1;
            }
        }
    }
    assert_eq!(fingerprint(&db).await, before, "a refused request wrote something");
    // Each refusal to reach a participant's record is in the access log.
    let denials = scalar(&db, "SELECT count(*) FROM access_log WHERE action = 'denied'").await - denials_before;
    assert_eq!(
        denials, participant_refusals,
        "every refusal to reach a participant's record is logged"
    );

    // The same pages open for a manager of the records' units: the ids are real.
    let (insider, _) = member_of_every_unit(&app, Role::Manager).await;
    for route in routes.iter().filter(|r| r.method == Method::GET && !r.path.starts_with("/admin/")) {
        let path = fill(route.path, &records);
        assert_eq!(
            insider.get(&path).await.status(),
            StatusCode::OK,
            "GET {path} as a manager of its unit"
        );
    }
}

#[sqlx::test]
async fn a_record_named_under_another_parent_is_not_found(db: PgPool) {
    let (app, records) = demo(&db).await;
    let (browser, _) = member_of_every_unit(&app, Role::Manager).await;
    let token = browser.get_page("/").await.csrf_token();
    let other_participant = scalar(
        &db,
        &format!("SELECT min(id) FROM participants WHERE id <> {}", records["/participants/{id}"]),
    )
    .await;
    let other_plan = scalar(&db, &format!("SELECT min(id) FROM plans WHERE id <> {}", records["/plans/{id}"])).await;
    for path in [
        format!("/participants/{other_participant}/journal/{}/correct", records["{note_id}"]),
        format!("/participants/{other_participant}/journal/{}/dispute", records["{note_id}"]),
        format!("/participants/{other_participant}/consents/{}/withdraw", records["{consent_id}"]),
        format!("/plans/{other_plan}/activities/{}/status", records["{activity_id}"]),
        format!("/plans/{other_plan}/assessments/{}/sign", records["{assessment_id}"]),
    ] {
        let before = fingerprint(&db).await;
        let response = browser
            .post_raw(
                &path,
                &[("csrf_token", &token), ("activity_status", "done"), ("body", "x"), ("reason", "x")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "POST {path}");
        assert_eq!(fingerprint(&db).await, before, "POST {path} wrote something");
    }
    // A malformed id is a bad request, with the Swedish page.
    let response = browser.get("/plans/abc").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("lang=\"sv\""));
}

#[sqlx::test]
async fn reading_a_record_is_logged_by_the_check_itself(db: PgPool) {
    let (app, records) = demo(&db).await;
    let (browser, user) = member_of_every_unit(&app, Role::Staff).await;
    let logged = |action: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM access_log WHERE user_id = $1 AND action = $2")
                .bind(user)
                .bind(action)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    let (participant, plan) = (records["/participants/{id}"], records["/plans/{id}"]);
    for path in [
        format!("/participants/{participant}"),
        format!("/participants/{participant}/edit"),
        format!("/plans/{plan}"),
        format!("/plans/{plan}/hours"),
    ] {
        let before = logged("view").await;
        browser.get_page(&path).await;
        assert_eq!(logged("view").await, before + 1, "GET {path} is logged once");
    }
    browser.get_page(&format!("/participants/{participant}/print")).await;
    assert_eq!(logged("print").await, 1);
}
