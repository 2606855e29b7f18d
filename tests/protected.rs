//! Skyddade personuppgifter (issue 18, point 5): a person marked so has their
//! address and contact details shown only to staff named on them, on every
//! page (personakt, print, versions, the edit form, which keeps them when
//! saved); is left out of others' lists and searches; and only a manager or
//! someone named on the person may set the mark, which is audited.

mod common;

use common::{Browser, Page, TestApp, create_unit, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

const PHONE: &str = "070-1234567";
const ADDRESS: &str = "Storgatan 1, Lund";

async fn page_text(browser: &Browser, path: &str) -> String {
    browser.get_page(path).await.text("main")
}

#[sqlx::test]
async fn only_those_named_on_a_protected_person_see_their_contact_details_and_find_them(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (kontaktman, kontaktman_id) = app.signed_in_at(Role::Staff, unit).await;
    let (colleague, _) = app.signed_in_at(Role::Staff, unit).await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let answer = common::participants::register(&kontaktman, unit, &[("phone", PHONE), ("address", ADDRESS)]).await;
    let anna: i64 = location(&answer).trim_start_matches("/participants/").parse().unwrap();
    common::assign_key_worker(&db, anna, kontaktman_id, "2026-02-20").await;
    let record = format!("/participants/{anna}");

    // Staff not named on her may not set the mark; the manager may.
    let refused = colleague
        .submit(
            &record,
            &format!("/participants/{anna}/protected-identity"),
            &[("protected", "yes")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let marked = manager
        .get_page(&record)
        .await
        .form("Spara markeringen")
        .choose("Skyddade personuppgifter (adress och kontaktuppgifter visas bara för den som är namngiven för personen, och personen syns inte i andras sökningar)")
        .submit(&manager)
        .await;
    assert_eq!(marked.status(), StatusCode::SEE_OTHER);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'protected_identity_set' AND record_id = $1")
        .bind(anna)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // The kontaktman sees everything.
    let seen = page_text(&kontaktman, &record).await;
    assert!(seen.contains(PHONE) && seen.contains(ADDRESS));
    // Everyone else, the manager included, sees that there is something, not what.
    for (who, browser) in [("colleague", &colleague), ("manager", &manager)] {
        for path in [
            record.clone(),
            format!("/participants/{anna}/print"),
            format!("/participants/{anna}/versions"),
            format!("/participants/{anna}/versions/1"),
        ] {
            let text = page_text(browser, &path).await;
            assert!(!text.contains(PHONE) && !text.contains("Storgatan"), "{who} {path}");
        }
        assert!(page_text(browser, &record).await.contains("Skyddad uppgift"), "{who}");
    }

    // The colleague's edit form has no contact fields, and saving it keeps them.
    let edit = colleague.get_page(&format!("/participants/{anna}/edit")).await;
    assert_eq!(edit.count("input[name=phone]"), 0);
    assert!(!edit.html.html().contains(PHONE));
    let saved = edit.form("Spara ändringar").fill("Förnamn", "Anna-Lena").submit(&colleague).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{}", Page::from(saved).await.text("main"));
    let (first, phone, address): (String, String, String) = sqlx::query_as(
        "SELECT first_name, phone, address FROM participant_versions WHERE participant_id = $1 ORDER BY version DESC LIMIT 1",
    )
    .bind(anna)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((first.as_str(), phone.as_str(), address.as_str()), ("Anna-Lena", PHONE, ADDRESS));

    // Lists and searches: only for those named on her.
    assert_eq!(hits(&kontaktman).await, (1, 1));
    assert_eq!(hits(&colleague).await, (0, 0));
    assert_eq!(hits(&manager).await, (0, 0));
}

/// Rows in the participant list and in a search for her, as `browser` sees them.
async fn hits(browser: &Browser) -> (usize, usize) {
    let list = browser.get_page("/participants").await.texts("tbody tr");
    let search = browser
        .follow(
            browser
                .submit("/participants", "/participants/search", &[("q", "anna-lena berg")])
                .await,
        )
        .await
        .texts("tbody tr");
    (list.len(), search.len())
}

#[sqlx::test]
async fn a_report_list_names_a_protected_person_only_to_those_named_on_them(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (kontaktman, kontaktman_id) = app.signed_in_at(Role::Staff, unit).await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let anna = common::participants::anna(&kontaktman, unit).await;
    common::assign_key_worker(&db, anna, kontaktman_id, "2026-02-20").await;
    let plan = common::plans::draft(&kontaktman, anna, "first_step", &[]).await;
    assert!(
        common::plans::activate(&kontaktman, plan, "2026-03-02")
            .await
            .status()
            .is_redirection()
    );
    let list = format!("/dashboard/people?unit={unit}&key=first_step");
    assert!(manager.get_page(&list).await.text("main").contains("Anna Berg"));
    sqlx::query("UPDATE participants SET protected_identity = true WHERE id = $1")
        .bind(anna)
        .execute(&db)
        .await
        .unwrap();
    let text = manager.get_page(&list).await.text("main");
    assert!(text.contains("Skyddad person") && !text.contains("Anna"), "{text}");
}
