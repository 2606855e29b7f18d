//! HTTP hygiene and operations: headers, error pages, probes, database outages.

mod common;

use common::{DbRelay, Page, TestApp};
use lotsen::auth::Role;
use reqwest::{Method, StatusCode};
use sqlx::PgPool;
use std::time::{Duration, Instant};

fn assert_security_headers(response: &reqwest::Response) {
    let h = response.headers();
    let csp = h.get("content-security-policy").expect("CSP").to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
    assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
    assert!(h.get("x-request-id").is_some(), "request id");
    assert!(h.get("server").is_none(), "no server banner");
    assert!(
        h.get("strict-transport-security").is_none(),
        "no HSTS over plain http unless Secure is configured"
    );
}

#[sqlx::test]
async fn every_kind_of_response_has_the_security_headers(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (browser, _) = app.signed_in(Role::Staff).await;

    let page = browser.get("/").await;
    assert_security_headers(&page);
    assert_eq!(
        page.headers().get("cache-control").unwrap(),
        "no-store",
        "pages with personal data are not cached"
    );
    assert_eq!(page.headers().get("content-type").unwrap(), "text/html; charset=utf-8");

    let missing = browser.get("/finns-inte").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_security_headers(&missing);
    assert_eq!(Page::from(missing).await.text("h1"), "Sidan finns inte");

    let forbidden = browser.get("/admin/users").await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_security_headers(&forbidden);

    let css = browser.get("/static/app.css").await;
    assert_eq!(css.status(), StatusCode::OK);
    assert_security_headers(&css);
    assert_eq!(css.headers().get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    // Text files say their encoding (issue 17).
    assert_eq!(css.headers().get("content-type").unwrap(), "text/css; charset=utf-8");
    let js = browser.get("/static/app.js").await;
    assert_eq!(js.headers().get("content-type").unwrap(), "text/javascript; charset=utf-8");
    let svg = browser.get("/static/favicon.svg").await;
    assert_eq!(svg.headers().get("content-type").unwrap(), "image/svg+xml; charset=utf-8");

    let health = browser.get("/healthz").await;
    assert_security_headers(&health);
}

#[sqlx::test]
async fn pages_link_static_files_by_content_version(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let page = app.browser().get_page("/login").await;
    let href = page.attr("link[rel=stylesheet]", "href").unwrap();
    assert!(
        href.starts_with("/static/app.css?v=") && href.len() > "/static/app.css?v=".len(),
        "{href}"
    );
    assert_eq!(page.attr("html", "lang").as_deref(), Some("sv"));
    assert_eq!(page.attr("a.skip-link", "href").as_deref(), Some("#main"));
    assert_eq!(page.count("main#main"), 1);
}

#[sqlx::test]
async fn unsupported_methods_get_405_with_a_swedish_page(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = reqwest::Client::new().put(app.url("/login")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(response.headers().get("allow").is_some());
    assert_security_headers(&response);
    assert_eq!(Page::from(response).await.text("h1"), "Metoden stöds inte");
}

#[sqlx::test]
async fn a_too_large_body_is_refused(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    let token = browser.get_page("/login").await.csrf_token();
    let big = "x".repeat(lotsen::auth::middleware::MAX_FORM_BYTES + 1);
    let response = browser
        .post_raw("/login", &[("csrf_token", token.as_str()), ("email", big.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[sqlx::test]
async fn a_panicking_handler_renders_the_500_page(db: PgPool) {
    let clock = std::sync::Arc::new(lotsen::clock::ManualClock::new(common::start_time()));
    async fn boom() -> &'static str {
        let pages: Vec<&'static str> = Vec::new();
        pages[usize::from(pages.is_empty())]
    }
    let extra = axum::Router::new().route("/boom", axum::routing::get(boom));
    let app = TestApp::spawn_full(db, clock, |_| {}, extra).await;
    let response = app.browser().get("/boom").await;
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_security_headers(&response);
    let page = Page::from(response).await;
    assert_eq!(page.text("h1"), "Något gick fel");
    assert!(!page.text("body").contains("index out of bounds"), "no internals in the response");
}

#[sqlx::test]
async fn probes_report_the_process_and_the_database(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let browser = app.browser();
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::OK);
}

/// A port with nothing listening: the database is "down" from the app's view.
async fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[sqlx::test]
async fn without_a_database_pages_answer_503_within_seconds(db: PgPool) {
    let port = closed_port().await;
    let options = (*db.connect_options()).clone().port(port);
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    config.db_acquire_timeout = Duration::from_secs(2);
    let down = lotsen::db::pool_with(&config, options);
    let app = TestApp::spawn_with(down, |c| c.db_acquire_timeout = Duration::from_secs(2)).await;
    let browser = app.browser();

    // The sign-in form itself needs no database; signing in does.
    assert_eq!(browser.get("/login").await.status(), StatusCode::OK);
    let started = Instant::now();
    let response = browser.login("anna@lotsen.test", common::PASSWORD).await;
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(Page::from(response).await.text("h1"), "Tjänsten är inte tillgänglig just nu");
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK, "the process itself is fine");
}

#[sqlx::test]
async fn after_a_database_outage_the_app_recovers_by_itself(db: PgPool) {
    let mut relay = DbRelay::start(0).await;
    let port = relay.port;
    let options = (*db.connect_options()).clone().port(port);
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    config.db_acquire_timeout = Duration::from_secs(2);
    let pool = lotsen::db::pool_with(&config, options);
    let app = TestApp::spawn_with(pool.clone(), |c| c.db_acquire_timeout = Duration::from_secs(2)).await;
    let (browser, _) = {
        // Sign in through the relay: the user lives in the test database.
        let email = "anna@lotsen.test";
        common::create_user(&db, email, Role::Staff, common::PASSWORD).await;
        let browser = app.browser();
        assert_eq!(browser.login(email, common::PASSWORD).await.status(), StatusCode::SEE_OTHER);
        (browser, ())
    };
    assert_eq!(browser.get("/").await.status(), StatusCode::OK);

    relay.cut();
    let started = Instant::now();
    assert_eq!(browser.get("/").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);

    let _relay = DbRelay::start(port).await;
    let mut recovered = false;
    for _ in 0..20 {
        if browser.get("/").await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert!(recovered, "the app answers again without a restart");
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::OK);
}

#[sqlx::test]
async fn the_audit_log_cannot_be_changed(db: PgPool) {
    sqlx::query("INSERT INTO audit_log (occurred_at, action) VALUES (now(), 'test')")
        .execute(&db)
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET action = 'changed'").execute(&db).await;
    assert!(update.is_err(), "update refused");
    let delete = sqlx::query("DELETE FROM audit_log").execute(&db).await;
    assert!(delete.is_err(), "delete refused");
    let truncate = sqlx::query("TRUNCATE audit_log").execute(&db).await;
    assert!(truncate.is_err(), "truncate refused");
}

#[sqlx::test]
async fn framework_errors_get_the_swedish_page_without_internals(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    let response = admin.get("/admin/users/abc").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let page = Page::from(response).await;
    assert_eq!(page.text("h1"), "Felaktig begäran");
    assert!(!page.text("body").contains("parse"), "no parser message");

    let response = app.browser().get("/login?next=a&next=b").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(!Page::from(response).await.text("body").contains("deserialize"));
}

#[sqlx::test]
async fn every_error_status_answers_a_swedish_page_in_the_encoding_it_declares(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let (staff, _) = app.signed_in(Role::Staff).await;
    let (admin, _) = app.signed_in(Role::Admin).await;
    // Asks for brotli or gzip and decompresses what it is told is compressed,
    // as a browser does: a plain body under `content-encoding: br` fails here.
    let big = "x".repeat(2 * 1024 * 1024);
    for encoding in ["br", "gzip"] {
        let cases = [
            (staff.request(Method::GET, "/participants/abc"), StatusCode::BAD_REQUEST),
            (staff.request(Method::GET, "/plans/11%20"), StatusCode::BAD_REQUEST),
            (admin.request(Method::GET, "/admin/users/abc"), StatusCode::BAD_REQUEST),
            (admin.request(Method::GET, "/admin/units/11%20"), StatusCode::BAD_REQUEST),
            (staff.request(Method::GET, "/admin/users"), StatusCode::FORBIDDEN),
            (staff.request(Method::GET, "/participants/999999"), StatusCode::NOT_FOUND),
            (staff.request(Method::GET, "/finns-inte"), StatusCode::NOT_FOUND),
            (staff.request(Method::DELETE, "/login"), StatusCode::METHOD_NOT_ALLOWED),
            (
                staff
                    .request(Method::POST, "/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(big.clone()),
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
        ];
        for (request, status) in cases {
            let response = request.header("accept-encoding", encoding).send().await.unwrap();
            assert_eq!(response.status(), status, "{encoding}");
            let body = response.text().await.expect("the body decodes as its content-encoding says");
            assert!(body.contains("<html lang=\"sv\""), "{status} in {encoding}: a Swedish page");
            assert!(!body.contains("Invalid") && !body.contains("parse"), "{status}: no framework text");
        }
    }
}

#[sqlx::test]
async fn refused_forms_lockouts_failures_and_outages_decode_as_declared_too(db: PgPool) {
    async fn boom() -> &'static str {
        let pages: Vec<&'static str> = Vec::new();
        pages[usize::from(pages.is_empty())]
    }
    async fn down() -> Result<&'static str, lotsen::error::AppError> {
        Err(lotsen::error::AppError::NotReady)
    }
    let extra = axum::Router::new()
        .route("/boom", axum::routing::get(boom))
        .route("/down", axum::routing::get(down));
    let clock = std::sync::Arc::new(lotsen::clock::ManualClock::new(common::start_time()));
    let app = TestApp::spawn_full(db.clone(), clock, |_| {}, extra).await;
    let (staff, _) = app.signed_in(Role::Staff).await;
    let token = staff.get_page("/participants/new").await.csrf_token();
    common::create_user(&db, "lasad@lotsen.test", Role::Staff, common::PASSWORD).await;
    for encoding in ["br", "gzip"] {
        // Locked out after repeated wrong passwords (a browser of its own each time).
        let guesser = app.browser();
        let login_token = guesser.get_page("/login").await.csrf_token();
        let wrong = format!("csrf_token={login_token}&email=lasad%40lotsen.test&password=fel");
        for _ in 0..6 {
            guesser
                .request(Method::POST, "/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(wrong.clone())
                .send()
                .await
                .unwrap();
        }
        let cases = [
            (
                staff
                    .request(Method::POST, "/participants")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(format!("csrf_token={token}&first_name=")),
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                guesser
                    .request(Method::POST, "/login")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(wrong.clone()),
                StatusCode::TOO_MANY_REQUESTS,
            ),
            (staff.request(Method::GET, "/boom"), StatusCode::INTERNAL_SERVER_ERROR),
            (staff.request(Method::GET, "/down"), StatusCode::SERVICE_UNAVAILABLE),
        ];
        for (request, status) in cases {
            let response = request.header("accept-encoding", encoding).send().await.unwrap();
            assert_eq!(response.status(), status, "{encoding}");
            let body = response.text().await.expect("the body decodes as its content-encoding says");
            assert!(body.contains("<html lang=\"sv\""), "{status} in {encoding}: a Swedish page");
        }
    }
}

#[sqlx::test]
async fn the_request_id_is_always_made_by_the_server(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = reqwest::Client::new()
        .get(app.url("/healthz"))
        .header("x-request-id", "forged-id")
        .send()
        .await
        .unwrap();
    let id = response.headers().get("x-request-id").unwrap().to_str().unwrap();
    assert_ne!(id, "forged-id");
    assert_eq!(id.len(), 36, "a UUID: {id}");
}

#[sqlx::test]
async fn a_missing_static_file_is_not_cached(db: PgPool) {
    let app = TestApp::spawn(db).await;
    let response = app.browser().get("/static/finns-inte.css").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
}

#[sqlx::test]
async fn until_the_schema_is_migrated_pages_and_readiness_answer_503(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    // The same flag `lotsen serve` lowers while it waits for the database.
    let state = lotsen::AppState::new(db, app.config.clone(), app.clock.clone());
    state.schema_ready.store(false, std::sync::atomic::Ordering::Release);
    let clock = app.clock.clone();
    drop(app);
    let router = lotsen::app(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let _ = clock;
    let browser = common::Browser::new(addr);
    assert_eq!(browser.get("/login").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);
    state.schema_ready.store(true, std::sync::atomic::Ordering::Release);
    assert_eq!(browser.get("/login").await.status(), StatusCode::OK);
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::OK);
}

#[sqlx::test]
async fn a_read_only_database_is_not_ready_and_a_form_says_nothing_was_saved(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (staff, _, form) = common::participants::journal_note(&app).await;

    // The database becomes a read-only copy (as a standby would be); an
    // instance whose connections are opened now sees it so.
    let name: String = sqlx::query_scalar("SELECT current_database()::text").fetch_one(&db).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"
    )))
    .execute(&db)
    .await
    .unwrap();
    let pool = lotsen::db::pool_with(&app.config, (*db.connect_options()).clone());
    let read_only = TestApp::spawn(pool).await;
    let browser = staff.with_base(read_only.addr);
    assert_eq!(browser.get("/readyz").await.status(), StatusCode::SERVICE_UNAVAILABLE);

    let answer = form.submit(&browser).await;
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(Page::from(answer).await.text("h1"), "Det du skickade är inte sparat");
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_notes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(notes, 0);
}

#[sqlx::test]
async fn after_a_database_restart_no_one_sees_a_503(db: PgPool) {
    let mut relay = DbRelay::start(0).await;
    let port = relay.port;
    let options = (*db.connect_options()).clone().port(port);
    let config = lotsen::config::Config::for_tests("postgres://unused");
    let app = TestApp::spawn(lotsen::db::pool_with(&config, options)).await;
    let email = "anna@lotsen.test";
    common::create_user(&db, email, Role::Staff, common::PASSWORD).await;
    let browser = app.browser();
    assert_eq!(browser.login(email, common::PASSWORD).await.status(), StatusCode::SEE_OTHER);
    // Several connections in the pool, all of them idle.
    let pages: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (browser.client.clone(), app.url("/"));
            tokio::spawn(async move { client.get(url).send().await.unwrap().status() })
        })
        .collect();
    for page in pages {
        assert_eq!(page.await.unwrap(), StatusCode::OK);
    }

    // The database restarts: every open connection is gone, new ones work.
    relay.cut();
    let _restarted = DbRelay::start(port).await;
    for n in 0..12 {
        assert_eq!(browser.get("/").await.status(), StatusCode::OK, "request {n} after the restart");
    }
}
