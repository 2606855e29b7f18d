//! Sign-in, sessions, CSRF and passwords, through the real router and a real database.

mod common;

use common::{PASSWORD, Page, TestApp, create_user, location, set_cookie};
use lotsen::auth::Role;
use lotsen::auth::login::{FAILED, LOCKED};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn sign_in_succeeds_and_lands_on_the_start_page(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();

    let response = browser.login("Anna@Lotsen.test ", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    let cookie = set_cookie(&response, "lotsen_session").expect("a session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "not Secure unless configured: {cookie}");

    let home = browser.get_page("/").await;
    assert_eq!(home.text("h1"), "Välkommen, Test Personal");
    let logged: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'login'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(logged, 1);
}

#[sqlx::test]
async fn unknown_user_and_wrong_password_get_the_same_answer(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;

    let wrong_password = app.browser().login("anna@lotsen.test", "fel lösenord här").await;
    let wrong_status = wrong_password.status();
    let wrong = Page::from(wrong_password).await;
    let unknown_user = app.browser().login("ingen@lotsen.test", PASSWORD).await;
    let unknown_status = unknown_user.status();
    let unknown = Page::from(unknown_user).await;

    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_status, unknown_status);
    assert_eq!(wrong.text(".error-summary"), FAILED);
    assert_eq!(unknown.text(".error-summary"), FAILED);
    // What was typed is kept (the password never is).
    assert_eq!(unknown.value("E-postadress"), "ingen@lotsen.test");
    assert_eq!(unknown.value("Lösenord"), "");
}

#[sqlx::test]
async fn a_deactivated_user_cannot_sign_in(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let id = create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    sqlx::query("UPDATE users SET active = false WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await
        .unwrap();
    let response = app.browser().login("anna@lotsen.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(Page::from(response).await.text(".error-summary"), FAILED);
}

#[sqlx::test]
async fn repeated_failures_lock_the_account_for_a_while(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();
    for _ in 0..5 {
        let response = browser.login("anna@lotsen.test", "fel lösenord här").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // Now even the right password is refused, from any browser.
    let response = app.browser().login("anna@lotsen.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(Page::from(response).await.text(".error-summary"), LOCKED);
    let lockouts: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'login_lockout'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(lockouts, 1, "the lockout is logged");
    // Every failed and refused sign-in is in the audit log, with the account
    // it was for, and stays there after the throttle's 24 hours (issue 17).
    let anna: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email = 'anna@lotsen.test'")
        .fetch_one(&db)
        .await
        .unwrap();
    let logged = |action: &'static str| {
        let db = db.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_log WHERE action = $1 AND record_type = 'user' AND record_id = $2")
                .bind(action)
                .bind(anna)
                .fetch_one(&db)
                .await
                .unwrap()
        }
    };
    assert_eq!(logged("login_failed").await, 5);
    assert_eq!(logged("login_refused").await, 1);
    app.browser().login("ingen@lotsen.test", "fel lösenord här").await;
    let unknown: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'login_failed' AND record_id IS NULL AND details = 'okänd e-postadress'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(unknown, 1);

    // Another account is not locked (this address is still under its own limit).
    create_user(&db, "bo@lotsen.test", Role::Staff, PASSWORD).await;
    assert_eq!(
        app.browser().login("bo@lotsen.test", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );

    app.clock.advance(chrono::Duration::minutes(16));
    assert_eq!(
        app.browser().login("anna@lotsen.test", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn many_failures_from_one_address_lock_that_address(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    // Many, so that colleagues behind one address (a municipality's NAT) are
    // not shut out by a few mistyped passwords.
    for i in 0..lotsen::auth::throttle::MAX_CLIENT_FAILURES {
        let response = app.browser().login(&format!("gissning{i}@lotsen.test"), "fel lösenord här").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = app.browser().login("anna@lotsen.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test]
async fn a_post_without_a_valid_csrf_token_is_refused(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Admin, PASSWORD).await;
    let browser = app.browser();

    // Sign-in form: no token, then a made-up token, then a token with no pre-session cookie.
    browser.get("/login").await;
    let none = browser
        .post_raw("/login", &[("email", "anna@lotsen.test"), ("password", PASSWORD)])
        .await;
    assert_eq!(none.status(), StatusCode::FORBIDDEN);
    let forged = browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", "x".repeat(43).as_str()),
                ("email", "anna@lotsen.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let token = browser.get_page("/login").await.csrf_token();
    let other_browser = app.browser();
    let stolen = other_browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "anna@lotsen.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(stolen.status(), StatusCode::FORBIDDEN, "a token is only good with its own cookie");
    assert!(set_cookie(&stolen, "lotsen_session").is_none());

    // Signed in: a state-changing form without the session's token changes nothing.
    assert_eq!(browser.login("anna@lotsen.test", PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let refused = browser.post_raw("/admin/units", &[("name", "Smygenheten")]).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let page = Page::from(refused).await;
    assert_eq!(page.text("h1"), "Formuläret kunde inte skickas");
    let units: i64 = sqlx::query_scalar("SELECT count(*) FROM units").fetch_one(&db).await.unwrap();
    assert_eq!(units, 0);
    // The pre-session token no longer works once signed in.
    let with_old_token = browser
        .post_raw("/admin/units", &[("csrf_token", token.as_str()), ("name", "Smygenheten")])
        .await;
    assert_eq!(with_old_token.status(), StatusCode::FORBIDDEN);
    // And sign-out needs it too.
    assert_eq!(browser.post_raw("/logout", &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(browser.get("/").await.status(), StatusCode::OK, "still signed in");
}

#[sqlx::test]
async fn signing_out_ends_the_session_on_the_server(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();
    let login = browser.login("anna@lotsen.test", PASSWORD).await;
    let session_cookie = set_cookie(&login, "lotsen_session").unwrap();
    let cookie_pair = session_cookie.split(';').next().unwrap().to_string();

    let response = browser.submit("/", "/logout", &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?signed_out=1");
    assert!(
        set_cookie(&response, "lotsen_session").unwrap().contains("Max-Age=0"),
        "the cookie is removed"
    );
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&db).await.unwrap();
    assert_eq!(sessions, 0);

    // Replaying the old cookie from elsewhere gets nowhere.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = replay.get(app.url("/")).header("cookie", &cookie_pair).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}

#[sqlx::test]
async fn signing_in_again_gives_a_new_session_id(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();
    let first = set_cookie(&browser.login("anna@lotsen.test", PASSWORD).await, "lotsen_session").unwrap();
    // Signed in, the sign-in page sends the user on; post to it directly.
    let token = browser.get_page("/account/password").await.csrf_token();
    let second = browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "anna@lotsen.test"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let second = set_cookie(&second, "lotsen_session").unwrap();
    assert_ne!(first, second);
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&db).await.unwrap();
    assert_eq!(sessions, 1, "the earlier session of this browser is gone");
}

#[sqlx::test]
async fn an_idle_session_expires(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Staff).await;
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    // Last seen is only written after a minute; then 29 more idle minutes are fine.
    app.clock.advance(chrono::Duration::minutes(29));
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    app.clock.advance(chrono::Duration::minutes(30));
    let response = browser.get("/account/password").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Faccount%2Fpassword&expired=1");
    let page = browser.get_page("/login?expired=1").await;
    assert!(page.text(".notice").contains("inaktiv"));
    let sessions: i64 = sqlx::query_scalar("SELECT count(*) FROM sessions").fetch_one(&db).await.unwrap();
    assert_eq!(sessions, 0);
}

#[sqlx::test]
async fn an_active_session_still_ends_at_the_absolute_timeout(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Staff).await;
    // Busy all day: a request every 20 minutes for 11 h 40 min.
    for _ in 0..35 {
        app.clock.advance(chrono::Duration::minutes(20));
        assert_eq!(browser.get("/").await.status(), StatusCode::OK);
    }
    app.clock.advance(chrono::Duration::minutes(20));
    let response = browser.get("/").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login"));
}

#[sqlx::test]
async fn last_seen_is_written_at_most_once_a_minute(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Staff).await;
    let last_seen = || async {
        sqlx::query_scalar::<_, chrono::DateTime<chrono::Utc>>("SELECT last_seen_at FROM sessions")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let signed_in_at = last_seen().await;
    app.clock.advance(chrono::Duration::seconds(59));
    browser.get("/").await;
    assert_eq!(last_seen().await, signed_in_at);
    app.clock.advance(chrono::Duration::seconds(1));
    browser.get("/").await;
    assert_eq!(last_seen().await, signed_in_at + chrono::Duration::seconds(60));
}

#[sqlx::test]
async fn two_app_instances_share_sessions(db: PgPool) {
    let first = TestApp::spawn(db.clone()).await;
    let second = TestApp::spawn(db.clone()).await;
    let (browser, _) = first.signed_in(Role::Staff).await;
    let on_second = browser.with_base(second.addr);
    let page = on_second.get_page("/").await;
    assert_eq!(page.text("h1"), "Välkommen, Test Personal");
    // Signing out on the second ends it on the first too.
    assert_eq!(on_second.submit("/", "/logout", &[]).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/").await.status(), StatusCode::SEE_OTHER);
}

#[sqlx::test]
async fn changing_the_password_checks_the_policy_and_ends_other_sessions(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let desk = app.browser();
    let phone = app.browser();
    desk.login("anna@lotsen.test", PASSWORD).await;
    phone.login("anna@lotsen.test", PASSWORD).await;

    let short = desk
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "för kort"),
                ("repeat_password", "för kort"),
            ],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(short).await;
    assert_eq!(page.error("Nytt lösenord"), "Fel: Lösenordet måste ha minst 12 tecken.");

    let wrong = desk
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", "inte mitt lösenord"),
                ("new_password", "ett nytt bra lösenord"),
                ("repeat_password", "ett nytt bra lösenord"),
            ],
        )
        .await;
    assert_eq!(
        Page::from(wrong).await.error("Nuvarande lösenord"),
        "Fel: Det nuvarande lösenordet stämmer inte."
    );

    let mismatch = desk
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "ett nytt bra lösenord"),
                ("repeat_password", "ett annat lösenord!"),
            ],
        )
        .await;
    assert_eq!(
        Page::from(mismatch).await.error("Upprepa det nya lösenordet"),
        "Fel: Lösenorden är inte lika."
    );

    let done = desk
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "ett nytt bra lösenord"),
                ("repeat_password", "ett nytt bra lösenord"),
            ],
        )
        .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(desk.get_page("/account/password").await.text(".flash").contains("bytt"));
    assert_eq!(desk.get("/").await.status(), StatusCode::OK, "this session goes on");
    assert_eq!(phone.get("/").await.status(), StatusCode::SEE_OTHER, "the other session has ended");

    assert_eq!(
        app.browser().login("anna@lotsen.test", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser().login("anna@lotsen.test", "ett nytt bra lösenord").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[sqlx::test]
async fn after_sign_in_the_user_returns_to_the_page_they_asked_for_but_only_locally(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();
    let response = browser.get("/account/password").await;
    assert_eq!(location(&response), "/login?next=%2Faccount%2Fpassword");
    let page = browser.get_page("/login?next=%2Faccount%2Fpassword").await;
    assert_eq!(page.attr("input[name=next]", "value").as_deref(), Some("/account/password"));
    let token = page.csrf_token();
    let response = browser
        .post_raw(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "anna@lotsen.test"),
                ("password", PASSWORD),
                ("next", "/account/password"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/account/password");

    let other = app.browser();
    let token = other.get_page("/login").await.csrf_token();
    let response = other
        .post_raw(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "anna@lotsen.test"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&response), "/");
}

#[sqlx::test]
async fn secure_cookies_when_configured(db: PgPool) {
    // An https public address is what turns them on (issue 17).
    let config =
        lotsen::config::Config::from_lookup(|name| (name == "LOTSEN_PUBLIC_URL").then(|| "https://lotsen.kommun.example".to_string()))
            .unwrap();
    assert!(config.cookie_secure);
    let app = TestApp::spawn_with(db.clone(), |c| c.cookie_secure = config.cookie_secure).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    // reqwest keeps Secure cookies away from http://, so drive the cookies by hand.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login_page = client.get(app.url("/login")).send().await.unwrap();
    let pre = set_cookie(&login_page, "__Host-lotsen_presession").expect("pre-session cookie with the __Host- prefix");
    assert!(pre.contains("Secure") && pre.contains("HttpOnly"), "{pre}");
    assert!(login_page.headers().get("strict-transport-security").is_some());
    let pre_pair = pre.split(';').next().unwrap().to_string();
    let token = Page::from(login_page).await.csrf_token();
    let response = client
        .post(app.url("/login"))
        .header("cookie", &pre_pair)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "anna@lotsen.test"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = set_cookie(&response, "__Host-lotsen_session").expect("secure session cookie");
    assert!(
        session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/"),
        "{session}"
    );
}

#[sqlx::test]
async fn expired_sessions_are_swept_by_housekeeping(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (_browser, _) = app.signed_in(Role::Staff).await;
    let state = lotsen::AppState::new(db.clone(), app.config.clone(), app.clock.clone());
    let done = lotsen::jobs::housekeeping(&state).await.unwrap().unwrap();
    assert_eq!((done.sessions, done.attempts), (0, 0));
    app.clock.advance(chrono::Duration::days(2));
    let done = lotsen::jobs::housekeeping(&state).await.unwrap().unwrap();
    assert_eq!((done.sessions, done.attempts), (1, 1));
}

#[sqlx::test]
async fn a_signed_in_user_is_never_sent_off_site(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Staff).await;
    // Browsers drop tabs in URLs, so "/<tab>/evil" would become "//evil".
    for next in [
        "//evil.example",
        "/%09/evil.example",
        "/%5Cevil.example",
        "https://evil.example",
        "/%01",
    ] {
        let response = browser.get(&format!("/login?next={next}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(location(&response), "/", "{next}");
    }
}

#[sqlx::test]
async fn a_form_sent_after_the_session_expired_leads_to_sign_in(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Admin).await;
    let token = browser.get_page("/admin/units").await.csrf_token();
    app.clock.advance(chrono::Duration::hours(1));
    let response = browser
        .post_raw("/admin/units", &[("csrf_token", token.as_str()), ("name", "Sen enhet")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?expired=1");
    let units: i64 = sqlx::query_scalar("SELECT count(*) FROM units").fetch_one(&db).await.unwrap();
    assert_eq!(units, 0, "nothing was saved");
}

#[sqlx::test]
async fn parallel_guesses_do_not_get_past_the_limit(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let browser = app.browser();
    let token = browser.get_page("/login").await.csrf_token();
    let mut guesses = tokio::task::JoinSet::new();
    for i in 0..12 {
        let (client, url, token) = (browser.client.clone(), app.url("/login"), token.clone());
        guesses.spawn(async move {
            let guess = format!("gissning nummer {i}");
            let form = [
                ("csrf_token", token.as_str()),
                ("email", "anna@lotsen.test"),
                ("password", guess.as_str()),
            ];
            client.post(url).form(&form).send().await.unwrap().status()
        });
    }
    let statuses = guesses.join_all().await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert!(checked <= 5, "at most 5 passwords were tried, not {checked}");
    assert_eq!(checked + refused, 12);
}

#[sqlx::test]
async fn guessing_the_current_password_is_throttled_too(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    create_user(&db, "anna@lotsen.test", Role::Staff, PASSWORD).await;
    let desk = app.browser();
    desk.login("anna@lotsen.test", PASSWORD).await;
    let new = "ett nytt bra lösenord";
    for i in 0..5 {
        let guess = format!("gissning nummer {i}");
        let response = desk
            .submit(
                "/account/password",
                "/account/password",
                &[
                    ("current_password", guess.as_str()),
                    ("new_password", new),
                    ("repeat_password", new),
                ],
            )
            .await;
        assert_eq!(
            Page::from(response).await.error("Nuvarande lösenord"),
            "Fel: Det nuvarande lösenordet stämmer inte."
        );
    }
    let response = desk
        .submit(
            "/account/password",
            "/account/password",
            &[("current_password", PASSWORD), ("new_password", new), ("repeat_password", new)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(Page::from(response).await.error("Nuvarande lösenord"), format!("Fel: {LOCKED}"));
}
