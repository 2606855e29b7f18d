//! Skäl för åtkomst (issue 18, point 3): staff outside a person's caseload
//! give a reason before the personakt opens, once per person and session; the
//! reason is in the access log with the read; managers, the kontaktman and
//! those named on the plan open directly; other units stay out.

mod common;

use common::{Page, TestApp, create_unit, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn app(db: &PgPool) -> TestApp {
    TestApp::spawn_with(db.clone(), |c| c.reason_outside_caseload = true).await
}

/// The reads of `user` in the access log: (action, in caseload, reason, note).
async fn reads(db: &PgPool, user: i64, participant: i64) -> Vec<(String, Option<bool>, Option<String>, Option<String>)> {
    sqlx::query_as("SELECT action, in_caseload, reason, reason_note FROM access_log WHERE user_id = $1 AND participant_id = $2 ORDER BY id")
        .bind(user)
        .bind(participant)
        .fetch_all(db)
        .await
        .unwrap()
}

const BO: &[(&str, &str)] = &[
    ("first_name", "Bo"),
    ("last_name", "Ek"),
    ("identity_kind", "none"),
    ("identity_number", ""),
    ("birth_date", "1990-05-01"),
    ("gender", "man"),
];

/// Registered through the form (so the personakt has its first version),
/// with `key_worker` as kontaktman.
async fn registered(browser: &common::Browser, db: &PgPool, unit: i64, key_worker: i64, overrides: &[(&'static str, &'static str)]) -> i64 {
    let answer = common::participants::register(browser, unit, overrides).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let id: i64 = location(&answer).trim_start_matches("/participants/").parse().unwrap();
    common::assign_key_worker(db, id, key_worker, "2026-02-20").await;
    id
}

fn asked_at(participant: i64, page: &str) -> String {
    format!(
        "/participants/{participant}/reason?next={}",
        page.replace('/', "%2F").replace('?', "%3F").replace('=', "%3D")
    )
}

#[sqlx::test]
async fn staff_outside_the_caseload_give_a_reason_once_per_person_and_session(db: PgPool) {
    let app = app(&db).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (kontaktman, kontaktman_id) = app.signed_in_at(Role::Staff, unit).await;
    let (colleague, colleague_id) = app.signed_in_at(Role::Staff, unit).await;
    let anna = registered(&kontaktman, &db, unit, kontaktman_id, &[]).await;
    let bo = registered(&kontaktman, &db, unit, kontaktman_id, BO).await;
    let record = format!("/participants/{anna}");

    // The kontaktman opens directly, and the read is marked as inside the caseload.
    assert_eq!(kontaktman.get(&record).await.status(), StatusCode::OK);
    assert_eq!(reads(&db, kontaktman_id, anna).await, [("view".into(), Some(true), None, None)]);

    // A colleague is asked first, for every page of the person's record.
    for page in [
        record.clone(),
        format!("/participants/{anna}/print"),
        format!("/participants/{anna}/plans/new"),
    ] {
        let answer = colleague.get(&page).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(location(&answer), asked_at(anna, &page));
    }
    assert_eq!(reads(&db, colleague_id, anna).await, [], "nothing was read");
    // A form sent without the reason (its page comes only after it) is refused: nothing is written or shown.
    let sent = colleague
        .submit(
            "/",
            &format!("/participants/{anna}/journal"),
            &[("note_body", ""), ("note_event_on", "2026-03-01")],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::FORBIDDEN);
    assert_eq!(reads(&db, colleague_id, anna).await, [], "not shown either");

    let question = colleague.get_page(&asked_at(anna, &record)).await;
    assert_eq!(question.text("h1"), "Skäl för åtkomst: Anna Berg");
    let none = question.form("Öppna personakten").submit(&colleague).await;
    assert_eq!(none.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let none = Page::from(none).await;
    assert!(none.text("#f-reason-error").contains("Välj varför"));
    let undescribed = none.form("Öppna personakten").choose("Annat skäl").submit(&colleague).await;
    assert_eq!(undescribed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let undescribed = Page::from(undescribed).await;
    assert!(
        undescribed
            .error("Beskriv skälet (behövs för Annat skäl, högst 500 tecken)")
            .contains("Beskriv skälet")
    );
    assert!(undescribed.is_chosen("Annat skäl"), "the choice is kept");

    let given = undescribed
        .form("Öppna personakten")
        .choose("Vikarierar för kontaktmannen eller en kollega")
        .fill(
            "Beskriv skälet (behövs för Annat skäl, högst 500 tecken)",
            "Kontaktmannen är sjuk i dag",
        )
        .submit(&colleague)
        .await;
    assert_eq!(given.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&given), record, "on to the page asked for");
    assert_eq!(colleague.get(&record).await.status(), StatusCode::OK);
    assert_eq!(
        colleague.get(&format!("/participants/{anna}/print")).await.status(),
        StatusCode::OK,
        "asked once"
    );
    let reason = || {
        (
            Some(false),
            Some("covering".to_string()),
            Some("Kontaktmannen är sjuk i dag".to_string()),
        )
    };
    let expected = vec![
        ("view".to_string(), reason().0, reason().1, reason().2),
        ("print".to_string(), reason().0, reason().1, reason().2),
    ];
    assert_eq!(reads(&db, colleague_id, anna).await, expected, "the reason is with every read");

    // Another person: asked again. A new session: asked again.
    assert_eq!(colleague.get(&format!("/participants/{bo}")).await.status(), StatusCode::SEE_OTHER);
    let again = app.sign_in_again(colleague_id).await;
    assert_eq!(location(&again.get(&record).await), asked_at(anna, &record));
}

#[sqlx::test]
async fn managers_and_those_named_on_the_plan_open_directly_and_the_caseload_ends_with_the_assignment(db: PgPool) {
    let app = app(&db).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (kontaktman, kontaktman_id) = app.signed_in_at(Role::Staff, unit).await;
    let (named, named_id) = app.signed_in_at(Role::Staff, unit).await;
    let (manager, manager_id) = app.signed_in_at(Role::Manager, unit).await;
    let anna = registered(&kontaktman, &db, unit, kontaktman_id, &[]).await;
    let record = format!("/participants/{anna}");

    assert_eq!(manager.get(&record).await.status(), StatusCode::OK);
    assert_eq!(reads(&db, manager_id, anna).await, [("view".into(), Some(false), None, None)]);

    // Named as responsible for an activity of the person's plan.
    assert_eq!(named.get(&record).await.status(), StatusCode::SEE_OTHER);
    let plan = common::plans::draft(&kontaktman, anna, "first_step", &[]).await;
    common::plans::add_goal(&kontaktman, plan).await;
    sqlx::query(
        "INSERT INTO plan_activities (plan_id, goal_id, description, responsible_id, created_by, created_at)
         SELECT $1, g.id, 'Praktik i köket', $2, $2, now() FROM plan_goals g WHERE g.plan_id = $1",
    )
    .bind(plan)
    .bind(named_id)
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(named.get(&record).await.status(), StatusCode::OK);
    assert_eq!(named.get(&format!("/plans/{plan}")).await.status(), StatusCode::OK);

    // The kontaktman period ends: the same person is now outside the caseload.
    sqlx::query("UPDATE key_worker_assignments SET to_on = from_on WHERE participant_id = $1")
        .bind(anna)
        .execute(&db)
        .await
        .unwrap();
    let former = app.sign_in_again(kontaktman_id).await;
    assert_eq!(former.get(&record).await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn the_question_is_no_way_into_another_unit(db: PgPool) {
    let app = app(&db).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let other = create_unit(&db, "Lotsen Norr").await;
    let (outsider, outsider_id) = app.signed_in_at(Role::Staff, other).await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let anna = registered(&staff, &db, unit, staff_id, &[]).await;
    let question = format!("/participants/{anna}/reason?next=%2Fparticipants%2F{anna}");
    let answer = outsider.get(&question).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);
    assert!(!Page::from(answer).await.html.html().contains("Anna"), "not even the name");
    let sent = outsider
        .submit("/", &format!("/participants/{anna}/reason"), &[("reason", "urgent"), ("next", "/")])
        .await;
    assert_eq!(sent.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        reads(&db, outsider_id, anna).await,
        [("denied".into(), None, None, None), ("denied".into(), None, None, None)],
        "both refusals are logged"
    );
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM access_reasons")
            .fetch_one(&db)
            .await
            .unwrap(),
        0
    );
}
