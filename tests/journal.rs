//! The journal: notes, corrections that keep the original, disputes, and
//! the database's refusal to change or delete what was written.

mod common;

use common::participants::{anna, count};
use common::{Page, TestApp};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn a_journal_correction_keeps_the_original_struck_through(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let response = staff
        .submit(
            &path,
            &format!("{path}/journal"),
            &[
                ("note_event_on", "2026-03-01"),
                ("note_type", "conversation"),
                ("note_body", "Pratade om praktik på biblioteket."),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let note: i64 = sqlx::query_scalar("SELECT id FROM journal_notes").fetch_one(&db).await.unwrap();

    let response = staff
        .submit(
            &path,
            &format!("{path}/journal/{note}/correct"),
            &[("body", "Pratade om praktik på stadsbiblioteket."), ("reason", "Fel bibliotek")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = staff.get_page(&path).await;
    assert_eq!(page.text(&format!("#note-{note} del")), "Pratade om praktik på biblioteket.");
    assert!(page.text(&format!("#note-{note}")).contains("Skäl: Fel bibliotek"));
    let notes: Vec<(String, Option<i64>)> = sqlx::query_as("SELECT body, corrects_id FROM journal_notes ORDER BY id")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(
        notes,
        vec![
            ("Pratade om praktik på biblioteket.".to_string(), None),
            ("Pratade om praktik på stadsbiblioteket.".to_string(), Some(note))
        ]
    );
    // The same version cannot be corrected twice.
    staff
        .submit(
            &path,
            &format!("{path}/journal/{note}/correct"),
            &[("body", "Något annat"), ("reason", "Igen")],
        )
        .await;
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 2);

    // A dispute links to the note it disputes.
    staff
        .submit(&path, &format!("{path}/journal/{note}/dispute"), &[("body", "Jag sa inte så.")])
        .await;
    let disputes: i64 = sqlx::query_scalar("SELECT disputes_id FROM journal_notes WHERE note_type = 'disputed'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(disputes, note);
}

#[sqlx::test]
async fn the_database_refuses_to_change_or_delete_a_journal_note(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    staff
        .submit(
            &path,
            &format!("{path}/journal"),
            &[("note_event_on", "2026-03-01"), ("note_type", "event"), ("note_body", "Original.")],
        )
        .await;
    let update = sqlx::query("UPDATE journal_notes SET body = 'Ändrad'").execute(&db).await;
    assert!(update.unwrap_err().to_string().contains("never changed or deleted"));
    let delete = sqlx::query("DELETE FROM journal_notes").execute(&db).await;
    assert!(delete.is_err());
    assert!(sqlx::query("TRUNCATE journal_notes CASCADE").execute(&db).await.is_err());
    assert_eq!(
        sqlx::query_scalar::<_, String>("SELECT body FROM journal_notes")
            .fetch_one(&db)
            .await
            .unwrap(),
        "Original."
    );
}

#[sqlx::test]
async fn a_refused_correction_keeps_the_text_and_says_why_beside_the_field(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    staff
        .submit(
            &path,
            &format!("{path}/journal"),
            &[("note_event_on", "2026-03-01"), ("note_type", "event"), ("note_body", "Original.")],
        )
        .await;
    let note: i64 = sqlx::query_scalar("SELECT id FROM journal_notes").fetch_one(&db).await.unwrap();
    let response = staff
        .submit(
            &path,
            &format!("{path}/journal/{note}/correct"),
            &[("body", "Rättad text som skrevs."), ("reason", " ")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(response).await;
    assert_eq!(
        page.text(&format!("#correct-{note}-reason-error")),
        "Fel: Skriv varför anteckningen rättas."
    );
    assert_eq!(page.text(&format!("#correct-{note}-body")), "Rättad text som skrevs.");
    assert_eq!(page.attr(&format!("#note-{note} details"), "open").as_deref(), Some(""));
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 1);
    let dispute = staff
        .submit(&path, &format!("{path}/journal/{note}/dispute"), &[("body", "")])
        .await;
    assert_eq!(dispute.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(dispute)
            .await
            .text(&format!("#dispute-{note}-body-error"))
            .contains("oriktigt")
    );
}
