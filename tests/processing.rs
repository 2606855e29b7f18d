//! Förteckning över behandlingar (issue 18, point 7): administrators read what
//! is kept, why, how long and by whom, as the settings in force say.

mod common;

use common::TestApp;
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn administrators_read_the_records_of_processing_made_from_the_settings(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), |c| {
        c.retention.years = 7;
        c.retention.keep_for_research = true;
        c.reason_outside_caseload = true;
    })
    .await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin.get_page("/admin/processing").await;
    assert_eq!(page.text("h1"), "Förteckning över behandlingar");
    let text = page.text("main");
    assert!(text.contains("Gallras 7 år efter den sista anteckningen"), "{text}");
    assert!(text.contains("födda den 5:e, 15:e eller 25:e"));
    assert!(text.contains("anger skäl för åtkomst"));
    assert_eq!(page.texts("main table tbody tr").len(), 3, "one row per role");

    let (manager, _) = app.signed_in(Role::Manager).await;
    assert_eq!(manager.get("/admin/processing").await.status(), StatusCode::FORBIDDEN);
}
