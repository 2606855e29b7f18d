//! A second factor for password accounts (issue 17): required for managers
//! and administrators when LOTSEN_REQUIRE_TOTP is on, a code works once,
//! recovery codes work once each, guessing codes is throttled, and an admin
//! can take a lost phone's factor away.

mod common;

use common::{Browser, PASSWORD, Page, TestApp, create_user, location};
use lotsen::auth::Role;
use lotsen::auth::second_factor::{RECOVERY_CODES, code_at};
use lotsen::clock::Clock;
use reqwest::StatusCode;
use sqlx::PgPool;

const CHEF: &str = "chef@lotsen.test";

async fn required(db: &PgPool) -> TestApp {
    TestApp::spawn_with(db.clone(), |c| c.require_totp = true).await
}

/// Signs in with the password and adds an app; returns the secret and the
/// recovery codes shown.
async fn add_app(app: &TestApp, browser: &Browser) -> (String, Vec<String>) {
    for path in ["/", "/participants", "/account/password"] {
        let answer = browser.get(path).await;
        if path != "/account/password" {
            assert_eq!(location(&answer), "/account/two-factor", "{path} waits for the second factor");
        }
    }
    let page = browser.get_page("/account/two-factor").await;
    assert!(page.text(".notice").contains("Lägg till tvåstegsverifiering"));
    assert!(page.count("figure.qr svg") == 1, "a QR code to read");
    let secret = page.attr("input[name=secret]", "value").unwrap();
    assert_eq!(page.text("main code"), secret, "the key to type by hand");

    let wrong = page
        .form("Slå på tvåstegsverifiering")
        .fill("Kod från appen", "000000")
        .submit(browser)
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = Page::from(wrong).await;
    assert!(wrong.error("Kod från appen").contains("Koden stämmer inte"));
    assert_eq!(
        wrong.attr("input[name=secret]", "value").unwrap(),
        secret,
        "the same key, already in the app"
    );

    let code = code_at(&secret, app.clock.now());
    let added = wrong
        .form("Slå på tvåstegsverifiering")
        .fill("Kod från appen", &code)
        .submit(browser)
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let codes = Page::from(added).await.texts(".recovery-codes code");
    assert_eq!(codes.len(), RECOVERY_CODES);
    assert_eq!(browser.get("/participants").await.status(), StatusCode::OK, "the other pages open");
    (secret, codes)
}

async fn code_step(browser: &Browser, code: &str) -> reqwest::Response {
    let page = browser.get_page("/login/code").await;
    page.form("Logga in").fill("Kod", code).submit(browser).await
}

#[sqlx::test]
async fn a_manager_adds_an_app_and_then_signs_in_with_a_code_that_works_once(db: PgPool) {
    let app = required(&db).await;
    create_user(&db, CHEF, Role::Manager, PASSWORD).await;
    let first = app.browser();
    assert_eq!(first.login(CHEF, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    let (secret, _) = add_app(&app, &first).await;

    // Next time the password alone opens nothing.
    let browser = app.browser();
    let password = browser.login(CHEF, PASSWORD).await;
    assert_eq!(location(&password), "/login/code");
    assert_eq!(
        location(&browser.get("/participants").await),
        "/login?next=%2Fparticipants",
        "no session yet"
    );

    let wrong = code_step(&browser, "123456").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The code used to add the app is spent: the same step does not work twice.
    let again = code_step(&browser, &code_at(&secret, app.clock.now())).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);

    app.clock.advance(chrono::Duration::seconds(30));
    let signed_in = code_step(&browser, &code_at(&secret, app.clock.now())).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/participants").await.status(), StatusCode::OK);
    let how: String = sqlx::query_scalar("SELECT details FROM audit_log WHERE action = 'login' ORDER BY id DESC LIMIT 1")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(how, "lösenord och kod från appen");
}

#[sqlx::test]
async fn a_recovery_code_works_once_and_guessing_codes_is_throttled(db: PgPool) {
    let app = required(&db).await;
    create_user(&db, CHEF, Role::Manager, PASSWORD).await;
    let first = app.browser();
    first.login(CHEF, PASSWORD).await;
    let (secret, codes) = add_app(&app, &first).await;

    let phone_lost = app.browser();
    phone_lost.login(CHEF, PASSWORD).await;
    assert_eq!(
        code_step(&phone_lost, &codes[3].to_uppercase()).await.status(),
        StatusCode::SEE_OTHER
    );
    let again = app.browser();
    again.login(CHEF, PASSWORD).await;
    assert_eq!(code_step(&again, &codes[3]).await.status(), StatusCode::UNAUTHORIZED, "used once");

    // Five wrong codes from this address, and the right one is refused too.
    for _ in 0..4 {
        assert_eq!(code_step(&again, "999999").await.status(), StatusCode::UNAUTHORIZED);
    }
    app.clock.advance(chrono::Duration::seconds(60));
    let refused = code_step(&again, &code_at(&secret, app.clock.now())).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[sqlx::test]
async fn staff_need_none_and_an_admin_takes_a_lost_one_away(db: PgPool) {
    let app = required(&db).await;
    let (staff, _) = app.signed_in(Role::Staff).await;
    assert_eq!(staff.get("/participants").await.status(), StatusCode::OK, "staff are not asked");

    let chef = create_user(&db, CHEF, Role::Manager, PASSWORD).await;
    let browser = app.browser();
    browser.login(CHEF, PASSWORD).await;
    add_app(&app, &browser).await;

    // An administrator (with an app of their own) takes the manager's away.
    let admin_email = "admin@lotsen.test";
    create_user(&db, admin_email, Role::Admin, PASSWORD).await;
    let admin = app.browser();
    admin.login(admin_email, PASSWORD).await;
    app.clock.advance(chrono::Duration::seconds(30));
    add_app(&app, &admin).await;
    let page = admin.get_page(&format!("/admin/users/{chef}")).await;
    let removed = page.form("Ta bort tvåstegsverifiering").submit(&admin).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'second_factor_removed' AND record_id = $1")
        .bind(chef)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 1);

    // The manager signs in with the password and is asked to add a new app.
    let after = app.browser();
    assert_eq!(location(&after.login(CHEF, PASSWORD).await), "/");
    assert_eq!(location(&after.get("/").await), "/account/two-factor");
}
