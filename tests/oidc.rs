//! Sign-in through the municipality's identity provider (issue 17, point 6),
//! Lotsen's side of it: the button, a provider that cannot be reached, answers
//! this browser did not ask for, the administrator linking an account to its
//! id at the provider, and a provider's session asking for no TOTP code. The
//! whole way through a real provider (oidc-provider on Node, in Chromium) is
//! tests/browser/oidc.test.mjs.

mod common;

use common::{PASSWORD, Page, TestApp, create_user, location};
use lotsen::auth::Role;
use lotsen::clock::Clock;
use lotsen::config::{Config, OidcSettings, Secret};
use reqwest::StatusCode;
use reqwest::header::COOKIE;
use sqlx::PgPool;

const LABEL: &str = "Kommunens inloggning";

/// The provider set up at `issuer` (nothing needs to answer there).
fn provider_at(issuer: &str) -> impl FnOnce(&mut Config) + use<> {
    let issuer = issuer.to_string();
    move |config: &mut Config| {
        config.oidc = Some(OidcSettings {
            issuer,
            client_id: "lotsen".into(),
            client_secret: Some(Secret("hemligt".into())),
            label: LABEL.into(),
        })
    }
}

/// Port 9 on this machine: nothing listens there.
const NOWHERE: &str = "http://127.0.0.1:9";

async fn count(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(db).await.unwrap()
}

#[sqlx::test]
async fn without_a_provider_there_is_no_button_and_no_way_in(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let page = browser.get_page("/login").await;
    assert_eq!(page.count("a[href^='/login/oidc']"), 0);
    assert_eq!(browser.get("/login/oidc").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        browser.get("/login/oidc/callback?code=x&state=y").await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn a_provider_that_cannot_be_reached_is_said_above_the_password_form(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), provider_at(NOWHERE)).await;
    let browser = app.browser();
    let page = browser.get_page("/login?next=/participants").await;
    assert_eq!(page.text("a[href^='/login/oidc']"), format!("Logga in med {LABEL}"));
    assert_eq!(
        page.attr("a[href^='/login/oidc']", "href").as_deref(),
        Some("/login/oidc?next=%2Fparticipants"),
        "back where the person was going"
    );

    let answer = browser.get("/login/oidc?next=/participants").await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    let page = Page::from(answer).await;
    assert!(
        page.text(".error-summary")
            .contains(&format!("Det går inte att nå {LABEL} just nu"))
    );
    assert_eq!(page.count("input[name=password]"), 1, "the password still works");
    assert_eq!(count(&db, "SELECT count(*) FROM oidc_sign_ins").await, 0);
}

/// A sign-in waiting for the provider's answer, as `/login/oidc` leaves it.
async fn waiting(db: &PgPool, state: &str, at: chrono::DateTime<chrono::Utc>) {
    sqlx::query("INSERT INTO oidc_sign_ins (state_hash, nonce, pkce_verifier, next, created_at) VALUES ($1, $2, $3, '/participants', $4)")
        .bind(&lotsen::auth::session::token_hash(state)[..])
        .bind("n".repeat(22))
        .bind("v".repeat(43))
        .bind(at)
        .execute(db)
        .await
        .unwrap();
}

#[sqlx::test]
async fn an_answer_this_browser_did_not_ask_for_signs_no_one_in(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), provider_at(NOWHERE)).await;
    let now = app.clock.now();
    let callback = |query: &str, cookie: Option<&str>| {
        let mut request = app
            .browser()
            .request(reqwest::Method::GET, &format!("/login/oidc/callback?{query}"));
        if let Some(state) = cookie {
            request = request.header(COOKIE, format!("{}={state}", lotsen::auth::oidc::COOKIE));
        }
        request.send()
    };
    let refused = async |answer: reqwest::Response, words: &str| {
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
        assert!(common::set_cookie(&answer, lotsen::auth::session::COOKIE).is_none(), "no session");
        let page = Page::from(answer).await;
        assert!(page.text(".error-summary").contains(words), "{}", page.text(".error-summary"));
    };
    const NO_SIGN_IN: &str = "Inloggningen gick inte att slutföra";

    // A link made by someone else: the code and state arrive without this browser's cookie.
    waiting(&db, "state-a", now).await;
    refused(callback("code=c&state=state-a", None).await.unwrap(), NO_SIGN_IN).await;
    assert_eq!(count(&db, "SELECT count(*) FROM oidc_sign_ins").await, 1, "the sign-in still waits");

    // The cookie of one sign-in with the state of another: refused, and the sign-in is used up.
    refused(callback("code=c&state=state-b", Some("state-a")).await.unwrap(), NO_SIGN_IN).await;
    assert_eq!(count(&db, "SELECT count(*) FROM oidc_sign_ins").await, 0, "taken once");
    refused(callback("code=c&state=state-a", Some("state-a")).await.unwrap(), NO_SIGN_IN).await;

    // Too late: ten minutes is the limit.
    waiting(&db, "state-c", now - chrono::Duration::minutes(11)).await;
    refused(callback("code=c&state=state-c", Some("state-c")).await.unwrap(), NO_SIGN_IN).await;

    // The user stopped at the provider.
    waiting(&db, "state-d", now).await;
    let cancelled = callback("error=access_denied&state=state-d", Some("state-d")).await.unwrap();
    assert!(
        common::set_cookie(&cancelled, lotsen::auth::oidc::COOKIE).is_some_and(|c| c.contains("Max-Age=0")),
        "the binding cookie is removed"
    );
    refused(cancelled, &format!("Inloggningen med {LABEL} avbröts")).await;
    assert_eq!(count(&db, "SELECT count(*) FROM sessions").await, 0);
}

#[sqlx::test]
async fn unfinished_sign_ins_are_swept_after_an_hour(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), provider_at(NOWHERE)).await;
    waiting(&db, "state-a", app.clock.now()).await;
    let state = lotsen::AppState::new(db.clone(), app.config.clone(), app.clock.clone());
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().tokens, 0);
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(lotsen::jobs::housekeeping(&state).await.unwrap().unwrap().tokens, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM oidc_sign_ins").await, 0);
}

async fn subject_of(db: &PgPool, user: i64) -> Option<String> {
    sqlx::query_scalar("SELECT oidc_subject FROM users WHERE id = $1")
        .bind(user)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn an_administrator_links_an_account_to_its_id_at_the_provider(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), provider_at(NOWHERE)).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let anna = create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let bo = create_user(&db, "bo@lotsen.test", Role::Staff, PASSWORD).await;
    let field = format!("Id hos {LABEL}");

    let form = admin.get_page(&format!("/admin/users/{anna}")).await;
    let saved = form.form("Spara ändringar").fill(&field, " 9f1c-anna ").submit(&admin).await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(subject_of(&db, anna).await.as_deref(), Some("9f1c-anna"));

    // One id, one account.
    let form = admin.get_page(&format!("/admin/users/{bo}")).await;
    let taken = form.form("Spara ändringar").fill(&field, "9f1c-anna").submit(&admin).await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(taken).await;
    assert!(page.error(&field).contains("redan kopplat"));
    assert_eq!(page.attr("#f-oidc_subject", "value").as_deref(), Some("9f1c-anna"), "kept as typed");
    assert_eq!(subject_of(&db, bo).await, None);

    let spaced = form.form("Spara ändringar").fill(&field, "bo med mellanslag").submit(&admin).await;
    assert_eq!(spaced.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(spaced).await.error(&field).contains("utan mellanslag"));

    // Without the provider the field is not shown, and saving keeps the id.
    let plain = TestApp::spawn(db.clone()).await;
    let (admin, _) = plain.signed_in(Role::Admin).await;
    let form = admin.get_page(&format!("/admin/users/{anna}")).await;
    assert_eq!(form.count("#f-oidc_subject"), 0);
    let saved = form
        .form("Spara ändringar")
        .fill("Titel (t.ex. stödpedagog, arbetsterapeut)", "arbetsterapeut")
        .submit(&admin)
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(subject_of(&db, anna).await.as_deref(), Some("9f1c-anna"));

    // Emptied on purpose: the account signs in with its password only.
    let (admin, _) = app.signed_in(Role::Admin).await;
    let form = admin.get_page(&format!("/admin/users/{anna}")).await;
    let cleared = form.form("Spara ändringar").fill(&field, "").submit(&admin).await;
    assert_eq!(cleared.status(), StatusCode::SEE_OTHER);
    assert_eq!(subject_of(&db, anna).await, None);
}

#[sqlx::test]
async fn a_session_from_the_provider_asks_for_no_code_and_no_password_change(db: PgPool) {
    let app = TestApp::spawn_with(db.clone(), |c| c.require_totp = true).await;
    let chef = create_user(&db, "chef@lotsen.test", Role::Manager, PASSWORD).await;
    sqlx::query("UPDATE users SET must_change_password = true WHERE id = $1")
        .bind(chef)
        .execute(&db)
        .await
        .unwrap();
    let session = async |external: bool| {
        let id = lotsen::ids::UserId::from(chef);
        let token = lotsen::auth::session::create(&db, id, "test", external, app.clock.now())
            .await
            .unwrap();
        app.browser()
            .request(reqwest::Method::GET, "/participants")
            .header(COOKIE, format!("{}={token}", lotsen::auth::session::COOKIE))
            .send()
            .await
            .unwrap()
    };
    // Signed in with the password: first the user's own password, then a second factor.
    let by_password = session(false).await;
    assert_eq!(location(&by_password), lotsen::auth::CHANGE_PASSWORD);
    // Signed in by the provider (a SITHS card, e-legitimation): straight in.
    assert_eq!(session(true).await.status(), StatusCode::OK);
}
