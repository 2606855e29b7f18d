//! Typed text is never lost: what is written into a form is kept as its
//! author's draft (while typing, and when a form arrives after the session
//! ended or with a stale token), put back into the form, listed on Att göra,
//! and gone once saved, thrown away or too old.

mod common;

use common::participants::{anna, count};
use common::{Browser, PASSWORD, Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

const NOTE: &str = "Pratade om att börja på biblioteket i april.\nVill prova två förmiddagar.";

fn journal_fields(token: &str) -> Vec<(&str, &str)> {
    vec![
        ("csrf_token", token),
        ("note_event_on", "2026-03-01"),
        ("note_type", "conversation"),
        ("note_body", NOTE),
    ]
}

/// The note's text as the form on the personakt shows it, line breaks and all.
fn typed_note(page: &Page, id: i64) -> String {
    let css = format!("form[action=\"/participants/{id}/journal\"] textarea[name=\"note_body\"]");
    let selector = scraper::Selector::parse(&css).unwrap();
    let textarea = page.html.select(&selector).next().expect("the journal form");
    textarea.text().collect::<String>().trim_start_matches('\n').to_string()
}

async fn user_at(app: &TestApp, unit: i64, email: &str) -> Browser {
    let user = common::create_user(&app.db, email, Role::Staff, PASSWORD).await;
    common::add_member(&app.db, user, unit).await;
    let browser = app.browser();
    assert_eq!(browser.login(email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    browser
}

/// What app.js sends a few seconds after the note was typed; the answer's status.
async fn note_typed(browser: &Browser, path: &str) -> StatusCode {
    let token = browser.get_page(path).await.csrf_token();
    let action = format!("{path}/journal");
    let mut fields = journal_fields(&token);
    fields.push(("_draft_action", &action));
    browser.post_raw("/drafts", &fields).await.status()
}

#[sqlx::test]
async fn text_being_written_is_kept_for_its_author_and_put_back_into_the_form(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let colleague = user_at(&app, unit, "kollega@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    let token = author.get_page(&path).await.csrf_token();

    // What app.js sends while the note is written.
    let mut fields = journal_fields(&token);
    let action = format!("{path}/journal");
    fields.push(("_draft_action", &action));
    assert_eq!(author.post_raw("/drafts", &fields).await.status(), StatusCode::NO_CONTENT);
    // Sent again (a later copy) it is still one draft.
    assert_eq!(author.post_raw("/drafts", &fields).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 1);
    let stored: String = sqlx::query_scalar("SELECT fields::text FROM drafts").fetch_one(&db).await.unwrap();
    assert!(!stored.contains(&token), "the form token is never kept");

    let page = author.get_page(&path).await;
    assert_eq!(typed_note(&page, id), NOTE);
    assert!(page.text(".draft-notice").contains("Ej sparad text återställd"));
    assert!(page.attr(&format!("details[data-draft-for=\"{action}\"]"), "open").is_some());
    // Only its author ever sees it.
    let theirs = colleague.get_page(&path).await;
    assert_eq!(typed_note(&theirs, id), "");
    assert_eq!(theirs.count(".draft-notice"), 0);
    assert_eq!(colleague.get_page("/todo").await.count("#drafts-h"), 0);

    let todo = author.get_page("/todo").await;
    assert_eq!(todo.text("#drafts-h"), "Ej sparade utkast (1)");
    let row = todo.text("section[aria-labelledby=drafts-h] tbody tr");
    assert!(row.contains("Journalanteckning") && row.contains("Anna Berg"), "{row}");
    assert_eq!(
        todo.attr("section[aria-labelledby=drafts-h] tbody a", "href").as_deref(),
        Some(path.as_str())
    );

    // Saved: the draft has done its work.
    let saved = page.form("Spara anteckning").submit(&author).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 0);
    let after = author.get_page(&path).await;
    assert_eq!(typed_note(&after, id), "");
    assert_eq!(after.count(".draft-notice"), 0);
}

#[sqlx::test]
async fn a_refused_form_keeps_its_draft_and_a_draft_can_be_thrown_away(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let other = user_at(&app, unit, "annan@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    assert_eq!(note_typed(&author, &path).await, StatusCode::NO_CONTENT);
    let action = format!("{path}/journal");
    let token = author.get_page(&path).await.csrf_token();

    // The form comes back with a message (no type chosen): the draft stays.
    let mut incomplete = journal_fields(&token);
    incomplete[2].1 = "";
    let refused = author.post_raw(&action, &incomplete).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 1);

    // Someone else cannot throw it away.
    let draft: i64 = sqlx::query_scalar("SELECT id FROM drafts").fetch_one(&db).await.unwrap();
    let theirs = other
        .submit("/todo", &format!("/drafts/{draft}/discard"), &[("from", "todo")])
        .await;
    assert_eq!(theirs.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 1);

    // Its author can, from the notice on the form.
    let page = author.get_page(&path).await;
    let discarded = page.form("Släng den ej sparade texten").submit(&author).await;
    assert_eq!(location(&discarded), path);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 0);
    assert!(author.get_page(&path).await.text(".flash").contains("borttagen"));
}

#[sqlx::test]
async fn a_form_sent_after_the_session_timed_out_is_back_after_signing_in_again(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    let token = author.get_page(&path).await.csrf_token();

    // Lunch: the session times out while the note is being written.
    app.clock.advance(chrono::Duration::minutes(45));
    let sent = author.post_raw(&format!("{path}/journal"), &journal_fields(&token)).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let to = location(&sent);
    assert!(
        to.starts_with("/login?") && to.contains("draft=1") && to.contains("expired=1"),
        "{to}"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 1);

    // Someone else signing in on this computer does not get it.
    let stranger = app.browser();
    common::add_member(
        &db,
        common::create_user(&db, "annan@lotsen.test", Role::Staff, PASSWORD).await,
        unit,
    )
    .await;
    stranger.login("annan@lotsen.test", PASSWORD).await;
    assert_eq!(typed_note(&stranger.get_page(&path).await, id), "");

    let login = author.get_page(&to).await;
    assert!(login.text(".notice").contains("Det du skrev är inte förlorat"));
    let next = login.attr("input[name=next]", "value").unwrap();
    assert_eq!(next, path);
    let signed_in = login
        .form("Logga in")
        .fill("E-postadress", "skribent@lotsen.test")
        .fill("Lösenord", PASSWORD)
        .submit(&author)
        .await;
    assert_eq!(location(&signed_in), path);
    let page = author.get_page(&path).await;
    assert_eq!(typed_note(&page, id), NOTE);
    assert!(page.text(".draft-notice").contains("Ej sparad text återställd"));
    assert_eq!(page.form("Spara anteckning").submit(&author).await.status(), StatusCode::SEE_OTHER);
    let saved: String = sqlx::query_scalar("SELECT body FROM journal_notes").fetch_one(&db).await.unwrap();
    assert_eq!(saved, NOTE);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 0);
}

#[sqlx::test]
async fn a_form_with_a_stale_token_takes_its_author_back_to_it(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    let stale = author.get_page(&path).await.csrf_token();
    // Signed out and in again in another tab: a new session with a new token.
    author.submit("/", "/logout", &[]).await;
    assert_eq!(author.login("skribent@lotsen.test", PASSWORD).await.status(), StatusCode::SEE_OTHER);

    let sent = author.post_raw(&format!("{path}/journal"), &journal_fields(&stale)).await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&sent), path);
    let page = author.get_page(&path).await;
    assert!(page.text(".flash").contains("finns kvar"));
    assert_eq!(typed_note(&page, id), NOTE);
    assert_eq!(count(&db, "SELECT count(*) FROM journal_notes").await, 0);
}

#[sqlx::test]
async fn a_token_that_proves_no_author_keeps_nothing(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let elsewhere = common::create_unit(&db, "Lotsen Norr").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    author.get_page(&path).await;

    let forged = "A".repeat(43);
    let refused = author.post_raw(&format!("{path}/journal"), &journal_fields(&forged)).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // Nor may anyone keep drafts on a record they cannot reach.
    let outsider = user_at(&app, elsewhere, "utanfor@lotsen.test").await;
    let token = outsider.get_page("/").await.csrf_token();
    let action = format!("{path}/journal");
    let mut fields = journal_fields(&token);
    fields.push(("_draft_action", &action));
    assert_eq!(outsider.post_raw("/drafts", &fields).await.status(), StatusCode::FORBIDDEN);
    // Nor on a form that keeps none.
    fields.pop();
    fields.push(("_draft_action", "/login"));
    assert_eq!(outsider.post_raw("/drafts", &fields).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 0);
}

#[sqlx::test]
async fn drafts_are_removed_after_the_set_number_of_days(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), |c| c.draft_days = 3).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let author = user_at(&app, unit, "skribent@lotsen.test").await;
    let id = anna(&author, unit).await;
    let path = format!("/participants/{id}");
    assert_eq!(note_typed(&author, &path).await, StatusCode::NO_CONTENT);
    let state = lotsen::AppState::new(db.clone(), app.config.clone(), app.clock.clone());

    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().drafts, 0);
    app.clock.advance(chrono::Duration::days(2));
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().drafts, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM drafts").await, 0);
}
