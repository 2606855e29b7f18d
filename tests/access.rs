//! Access to records, route by route: every route of the router with an id in
//! its path refuses staff, managers and admins of another unit, for every
//! method, and writes nothing but the refusal; a record named under the wrong
//! parent is not found; reads are logged.

mod common;

use common::routes::{demo, fill, member_of_every_unit, scalar};
use lotsen::auth::Role;
use reqwest::{Method, StatusCode};
use sqlx::PgPool;

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
            // The partner register is shared by every unit, like the employer register.
            if route.path.starts_with("/partners/{partner_id}") {
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
