//! Loggkontroll (issue 18, point 4): a month's sample holds a random share,
//! every read outside the caseload, every read of a protected person, every
//! refused attempt and reads of users with unusually many; it is drawn once;
//! each row is checked with a note; the sign-off needs every row checked, is
//! stored, and freezes the review. Att göra shows the month until it is done.

mod common;

use common::{Person, TestApp, create_unit, create_user};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// `n` access-log rows in February 2026 by `user` about `person`.
#[allow(clippy::too_many_arguments)]
async fn reads(
    db: &PgPool,
    unit: i64,
    user: i64,
    role: &str,
    person: i64,
    n: i32,
    action: &str,
    in_caseload: Option<bool>,
    reason: Option<&str>,
) {
    sqlx::query(
        "INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action, in_caseload, reason)
         SELECT timestamptz '2026-02-02 09:00+01' + g * interval '5 minutes', $1, $2, $3, $4, $5, $6, $7
         FROM generate_series(1, $8) g",
    )
    .bind(user)
    .bind(role)
    .bind(unit)
    .bind(person)
    .bind(action)
    .bind(in_caseload)
    .bind(reason)
    .bind(n)
    .execute(db)
    .await
    .unwrap();
}

async fn whys(db: &PgPool) -> Vec<(i64, Vec<String>)> {
    sqlx::query_as("SELECT a.user_id, i.whys FROM access_review_items i JOIN access_log a ON a.id = i.access_id ORDER BY a.id")
        .fetch_all(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_months_sample_is_drawn_once_checked_row_by_row_and_signed_off_for_good(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let other = create_unit(&db, "Lotsen Norr").await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let (other_manager, _) = app.signed_in_at(Role::Manager, other).await;
    let anna = Person::at(unit).named("Anna", "Berg").insert(&db).await;
    let hidden = Person::at(unit).named("Sara", "Skyddad").insert(&db).await;
    sqlx::query("UPDATE participants SET protected_identity = true WHERE id = $1")
        .bind(hidden)
        .execute(&db)
        .await
        .unwrap();
    let [a, b, c, d, e] = [
        create_user(&db, "a@lotsen.test", Role::Staff, common::PASSWORD).await,
        create_user(&db, "b@lotsen.test", Role::Staff, common::PASSWORD).await,
        create_user(&db, "c@lotsen.test", Role::Staff, common::PASSWORD).await,
        create_user(&db, "d@lotsen.test", Role::Staff, common::PASSWORD).await,
        create_user(&db, "e@lotsen.test", Role::Staff, common::PASSWORD).await,
    ];
    reads(&db, unit, a, "staff", anna, 30, "view", Some(true), None).await;
    reads(&db, unit, a, "staff", hidden, 3, "view", Some(true), None).await;
    reads(&db, unit, b, "staff", anna, 5, "view", Some(false), Some("covering")).await;
    reads(&db, unit, c, "staff", anna, 2, "denied", None, None).await;
    reads(&db, unit, d, "staff", anna, 400, "search", None, None).await;
    reads(&db, unit, e, "manager", anna, 30, "view", Some(false), None).await;
    let month = format!("/access-review/{unit}/2026-02");

    // Managers of the unit only, and only months that have ended.
    assert_eq!(staff.get(&month).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(other_manager.get(&month).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        manager.get(&format!("/access-review/{unit}/2026-03")).await.status(),
        StatusCode::NOT_FOUND
    );
    let list = manager.get_page("/access-review").await;
    assert!(
        list.texts("tbody tr")
            .iter()
            .any(|r| r.contains("februari 2026") && r.contains("Inte påbörjad"))
    );
    let todo = manager.get_page("/todo").await;
    assert!(todo.text("#access-review-h").starts_with("Loggkontroll"));

    // Drawn once: a second press changes nothing.
    for _ in 0..2 {
        let drawn = manager.submit(&month, &format!("{month}/draw"), &[]).await;
        assert_eq!(drawn.status(), StatusCode::SEE_OTHER);
    }
    let sample = whys(&db).await;
    let with = |why: &str| sample.iter().filter(|(_, w)| w.iter().any(|x| x == why)).collect::<Vec<_>>();
    assert_eq!(with("outside").len(), 5, "every read outside the caseload, managers' left out");
    assert!(with("outside").iter().all(|(user, _)| *user == b));
    assert_eq!(with("protected").len(), 3);
    assert_eq!(with("denied").len(), 2);
    assert_eq!(with("random").len(), 10, "2 % of 470, at least 10");
    assert_eq!(with("many").len(), 10, "ten reads of the one user far above the median");
    assert!(with("many").iter().all(|(user, _)| *user == d));
    let reviews: i64 = sqlx::query_scalar("SELECT count(*) FROM access_reviews")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(reviews, 1);

    // Not signed off while a row is unchecked.
    let early = manager.submit(&month, &format!("{month}/sign-off"), &[]).await;
    assert_eq!(early.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        common::Page::from(early)
            .await
            .text(".error-summary")
            .contains("Markera alla rader")
    );

    // Every row checked, one with a note; then signed off.
    let ids: Vec<i64> = sqlx::query_scalar("SELECT access_id FROM access_review_items ORDER BY access_id")
        .fetch_all(&db)
        .await
        .unwrap();
    let mut fields: Vec<(String, String)> = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        fields.push(("checked".into(), id.to_string()));
        fields.push((
            format!("note_{id}"),
            if i == 0 { "Frågat B, vikarierade".into() } else { String::new() },
        ));
    }
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = manager.submit(&month, &format!("{month}/items"), &borrowed).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let unchecked: i64 = sqlx::query_scalar("SELECT count(*) FROM access_review_items WHERE checked_at IS NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(unchecked, 0);
    let signed = manager
        .submit(&month, &format!("{month}/sign-off"), &[("sign_off_note", "Inga avvikelser.")])
        .await;
    assert_eq!(signed.status(), StatusCode::SEE_OTHER);
    let page = manager.get_page(&month).await;
    assert!(page.text("main").contains("Avslutad av"));
    assert!(page.text("main").contains("Inga avvikelser."));
    assert_eq!(page.count("button"), 1, "only sign-out is left to press");

    // Frozen: the form refuses, and the database too.
    let late = manager.submit(&month, &format!("{month}/items"), &[("note_1", "ändrat")]).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    let changed = sqlx::query("UPDATE access_review_items SET note = 'ändrat'").execute(&db).await;
    assert!(changed.is_err(), "the trigger keeps a signed-off review as it was");
    let todo = manager.get_page("/todo").await;
    assert_eq!(todo.count("#access-review-h"), 0, "done: off Att göra");
}
