//! Every version can be read: earlier versions of a personakt's fields and of
//! a plan open as pages with who changed what and when, and opening one is
//! written to the access log.

mod common;

use common::participants::anna;
use common::plans::{draft, setup};
use common::{Page, Person};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn views(db: &PgPool, participant: i64) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM access_log WHERE participant_id = $1 AND action = 'view'")
        .bind(participant)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn an_earlier_version_of_the_personakt_opens_with_what_changed(db: PgPool) {
    let app = common::TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    // A new telephone number: version 2.
    let edit = staff.get_page(&format!("{path}/edit")).await;
    let response = edit.form("Spara ändringar").fill("Telefon", "070-123 45 67").submit(&staff).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);

    let before = views(&db, id).await;
    let list = staff.get_page(&format!("{path}/versions")).await;
    assert!(
        list.text("main").contains("Telefon: (tomt) → 070-123 45 67"),
        "{}",
        list.text("main")
    );
    let first = staff.get_page(&format!("{path}/versions/1")).await;
    assert!(first.text("h1").starts_with("Version 1"));
    assert!(first.text("main").contains("En senare version finns (version 2)"));
    let second = staff.get_page(&format!("{path}/versions/2")).await;
    assert!(second.text("#changed-h ~ ul").contains("Telefon"));
    assert!(
        !second.text("main").contains("640823-3234") && !second.text("main").contains("196408233234"),
        "the number is masked"
    );
    assert_eq!(views(&db, id).await - before, 3, "each opening is a read in the access log");
    assert_eq!(staff.get(&format!("{path}/versions/9")).await.status(), StatusCode::NOT_FOUND);
}

#[sqlx::test]
async fn an_earlier_version_of_a_plan_opens_as_it_was(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[("summary", "Vill prova caféet.")]).await;
    let edit = s.staff.get_page(&format!("/plans/{plan}/edit")).await;
    let response = edit
        .form("Spara ändringar")
        .fill("Skriftlig sammanfattning", "Vill prova caféet två förmiddagar.")
        .submit(&s.staff)
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        Page::from(response).await.text("main")
    );
    let page = s.staff.get_page(&format!("/plans/{plan}")).await;
    assert!(page.count("#history a[href$='/versions/1']") == 1, "the history links each version");
    let first = s.staff.get_page(&format!("/plans/{plan}/versions/1")).await;
    assert!(first.text("table").contains("Vill prova caféet."));
    let second = s.staff.get_page(&format!("/plans/{plan}/versions/2")).await;
    let summary = second.text("table");
    assert!(
        summary.contains("Vill prova caféet två förmiddagar.") && summary.contains("Ändrat, var: Vill prova caféet."),
        "{summary}"
    );
}
