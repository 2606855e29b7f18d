//! Sign-in that can't be used against users (issue 17): a guesser locks only
//! their own address out of an account, trying during the lock does not
//! extend it, many addresses together lock the account until an admin lifts
//! it; weak passwords are refused; a password an admin set is changed first;
//! and a user sees and ends their own sessions.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, create_user, location};
use lotsen::auth::Role;
use lotsen::auth::throttle::{MAX_ACCOUNT_FAILURES, MAX_PAIR_FAILURES};
use reqwest::StatusCode;
use sqlx::PgPool;

const ANNA: &str = "anna@lotsen.test";

/// Signs in from `addr` (behind the load balancer, which names the client in
/// X-Forwarded-For) with a browser that says it is `agent`.
async fn login_from(browser: &Browser, addr: &str, email: &str, password: &str) -> reqwest::Response {
    let token = browser.get_page("/login").await.csrf_token();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("csrf_token", token.as_str()), ("email", email), ("password", password)])
        .finish();
    browser
        .request(reqwest::Method::POST, "/login")
        .header("x-forwarded-for", addr)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn behind_a_load_balancer(db: &PgPool) -> TestApp {
    TestApp::spawn_with(db.clone(), |c| c.trust_forwarded_for = true).await
}

#[sqlx::test]
async fn a_guesser_locks_only_their_own_address_and_cannot_extend_the_lock(db: PgPool) {
    let app = behind_a_load_balancer(&db).await;
    create_user(&db, ANNA, Role::Staff, PASSWORD).await;
    let attacker = app.browser();
    for _ in 0..MAX_PAIR_FAILURES {
        let answer = login_from(&attacker, "203.0.113.9", ANNA, "gissat lösenord").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login_from(&attacker, "203.0.113.9", ANNA, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the guesser's address is locked out of the account"
    );
    // Anna, from her own address, is not.
    assert_eq!(
        login_from(&app.browser(), "198.51.100.7", ANNA, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    // One more try every two minutes does not keep the lock on: 15 minutes
    // after the fifth failure it has ended.
    for _ in 0..7 {
        app.clock.advance(chrono::Duration::minutes(2));
        let answer = login_from(&attacker, "203.0.113.9", ANNA, "gissat lösenord").await;
        assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    }
    app.clock.advance(chrono::Duration::minutes(2));
    assert_eq!(
        login_from(&attacker, "203.0.113.9", ANNA, "gissat lösenord").await.status(),
        StatusCode::UNAUTHORIZED,
        "the refused attempts did not extend the lock"
    );
}

#[sqlx::test]
async fn guesses_from_many_addresses_lock_the_account_until_an_admin_lifts_it(db: PgPool) {
    let app = behind_a_load_balancer(&db).await;
    let anna = create_user(&db, ANNA, Role::Staff, PASSWORD).await;
    for n in 0..MAX_ACCOUNT_FAILURES {
        let answer = login_from(&app.browser(), &format!("203.0.113.{n}"), ANNA, "gissat lösenord").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let refused = login_from(&app.browser(), "198.51.100.7", ANNA, PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS, "locked for everyone");

    // The admin sees the failures and lifts the lock.
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin.get_page(&format!("/admin/users/{anna}")).await;
    assert!(
        page.text("#unlock-heading + p")
            .starts_with(&format!("{MAX_ACCOUNT_FAILURES} misslyckade"))
    );
    let lifted = page.form("Häv spärren").submit(&admin).await;
    assert_eq!(lifted.status(), StatusCode::SEE_OTHER);
    let unlocked: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'login_unlocked' AND record_id = $1")
        .bind(anna)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(unlocked, 1);
    assert_eq!(
        login_from(&app.browser(), "198.51.100.7", ANNA, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn weak_passwords_are_refused_beside_the_field(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    for weak in ["aaaaaaaaaaaa", "123456789012", "password1234"] {
        let page = admin.get_page("/admin/users/new").await;
        let form = page
            .form("Skapa användare")
            .fill("Namn", "Bo Ek")
            .fill("E-postadress", "bo@lotsen.test")
            .set("password", weak);
        let refused = form.submit(&admin).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{weak}");
        let page = Page::from(refused).await;
        assert!(page.text("#f-password-error").contains("för lätt att gissa"), "{weak}");
        assert_eq!(page.value("Namn"), "Bo Ek", "the rest is kept");
    }
    let (staff, _) = app.signed_in(Role::Staff).await;
    let page = staff.get_page("/account/password").await;
    let refused = page
        .form("Byt lösenord")
        .fill("Nuvarande lösenord", PASSWORD)
        .fill("Nytt lösenord", "qwertyuiopasdf")
        .fill("Upprepa det nya lösenordet", "qwertyuiopasdf")
        .submit(&staff)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Nytt lösenord").contains("för lätt att gissa"));
}

#[sqlx::test]
async fn a_password_an_admin_set_is_changed_before_anything_else(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let page = admin.get_page("/admin/users/new").await;
    let created = page
        .form("Skapa användare")
        .fill("Namn", "Bo Ek")
        .fill("E-postadress", "bo@lotsen.test")
        .set("password", "admin valde detta åt bo")
        .submit(&admin)
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);

    let bo = app.browser();
    assert_eq!(
        bo.login("bo@lotsen.test", "admin valde detta åt bo").await.status(),
        StatusCode::SEE_OTHER
    );
    for path in ["/", "/participants", "/account/sessions"] {
        let answer = bo.get(path).await;
        assert_eq!(answer.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&answer), "/account/password", "{path}");
    }
    let page = bo.get_page("/account/password").await;
    assert!(page.text(".notice").contains("sattes av en administratör"));
    let changed = page
        .form("Byt lösenord")
        .fill("Nuvarande lösenord", "admin valde detta åt bo")
        .fill("Nytt lösenord", "mitt eget lösenord vid havet")
        .fill("Upprepa det nya lösenordet", "mitt eget lösenord vid havet")
        .submit(&bo)
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&changed), "/");
    assert_eq!(bo.get("/participants").await.status(), StatusCode::OK);

    // A new password from the admin must be changed again.
    let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'bo@lotsen.test'")
        .fetch_one(&db)
        .await
        .unwrap();
    let page = admin.get_page(&format!("/admin/users/{id}")).await;
    let reset = page
        .form("Sätt lösenord")
        .set("new_password", "ett nytt från admin till bo")
        .submit(&admin)
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    let again = app.browser();
    assert_eq!(
        again.login("bo@lotsen.test", "ett nytt från admin till bo").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(location(&again.get("/").await), "/account/password");
}

#[sqlx::test]
async fn a_user_sees_their_sessions_and_ends_them(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, ANNA, Role::Staff, PASSWORD).await;
    let device = |agent: &str| {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(agent.to_string())
            .build()
            .unwrap();
        Browser { base: app.url(""), client }
    };
    let laptop = device("Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0");
    let phone = device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile Safari/604.1");
    let desk = device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36 Edg/120.0");
    for browser in [&laptop, &phone, &desk] {
        assert_eq!(browser.login(ANNA, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    }

    let page = laptop.get_page("/account/sessions").await;
    assert_eq!(
        page.texts("tbody td:first-child"),
        ["Firefox på Linux Den här", "Edge på Windows", "Safari på iPhone"]
    );
    // End the phone's session: the phone is signed out, the others are not.
    page.form("Avsluta inloggningen i Safari på iPhone").submit(&laptop).await;
    assert_eq!(location(&phone.get("/").await), "/login", "the phone is signed out");
    assert_eq!(desk.get("/").await.status(), StatusCode::OK);

    let page = laptop.get_page("/account/sessions").await;
    page.form("Avsluta alla andra inloggningar").submit(&laptop).await;
    assert_ne!(desk.get("/").await.status(), StatusCode::OK, "the desk is signed out");
    assert_eq!(laptop.get("/").await.status(), StatusCode::OK, "the one in use stays");
    assert_eq!(laptop.get_page("/account/sessions").await.count("tbody tr"), 1);

    // Another user's session cannot be ended by its number.
    let (other, _) = app.signed_in(Role::Staff).await;
    let theirs: i64 = sqlx::query_scalar("SELECT s.id FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1")
        .bind(ANNA)
        .fetch_one(&db)
        .await
        .unwrap();
    let token = other.get_page("/account/sessions").await.csrf_token();
    let refused = other
        .post_raw(&format!("/account/sessions/{theirs}/end"), &[("csrf_token", &token)])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_eq!(laptop.get("/").await.status(), StatusCode::OK, "Anna's session is still there");
}
