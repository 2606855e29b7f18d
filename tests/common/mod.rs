//! Test helpers: start the real app on a random port against the test's own
//! database, sign in as a role, read forms and pages by CSS selector.
#![allow(dead_code)]

use chrono::{TimeZone, Utc};
use lotsen::auth::{Role, password};
use lotsen::clock::ManualClock;
use lotsen::config::Config;
use lotsen::state::AppState;
use reqwest::StatusCode;
use scraper::{Html, Selector};
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;

pub const PASSWORD: &str = "ett långt testlösenord";

pub struct TestApp {
    pub addr: SocketAddr,
    pub db: PgPool,
    pub clock: Arc<ManualClock>,
    pub config: Config,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A weekday morning, so that later date rules have a normal day to work with.
pub fn start_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap()
}

impl TestApp {
    pub async fn spawn(db: PgPool) -> TestApp {
        Self::spawn_with(db, |_| {}).await
    }

    /// Starts the app with the default configuration changed by `adjust`.
    pub async fn spawn_with(db: PgPool, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let clock = Arc::new(ManualClock::new(start_time()));
        Self::spawn_full(db, clock, adjust, axum::Router::new()).await
    }

    pub async fn spawn_full(
        db: PgPool,
        clock: Arc<ManualClock>,
        adjust: impl FnOnce(&mut Config),
        extra: axum::Router<AppState>,
    ) -> TestApp {
        let mut config = Config::for_tests("postgres://unused");
        adjust(&mut config);
        let state = AppState::new(db.clone(), config.clone(), clock.clone());
        let router = lotsen::app::app_with(state, extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .await
                .unwrap();
        });
        TestApp {
            addr,
            db,
            clock,
            config,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A browser of its own: a cookie store, and redirects left for the test to see.
    pub fn browser(&self) -> Browser {
        Browser::new(self.addr)
    }

    /// A browser signed in as a new user with this role.
    pub async fn signed_in(&self, role: Role) -> (Browser, i64) {
        let email = format!("{}-{}@lotsen.test", role.code(), rand_suffix());
        let id = create_user(&self.db, &email, role, PASSWORD).await;
        let browser = self.browser();
        let response = browser.login(&email, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in as {role:?} failed");
        (browser, id)
    }
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

pub async fn create_user(db: &PgPool, email: &str, role: Role, password_text: &str) -> i64 {
    let hash = password::hash(password_text).unwrap();
    sqlx::query_scalar::<_, i64>(
        "INSERT INTO users (email, name, job_title, role, password_hash, created_at, password_changed_at)
         VALUES ($1, $2, 'stödpedagog', $3, $4, $5, $5) RETURNING id",
    )
    .bind(email)
    .bind(format!("Test {}", role.label()))
    .bind(role.code())
    .bind(hash)
    .bind(start_time())
    .fetch_one(db)
    .await
    .unwrap()
}

pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Browser {
        Browser::at(&format!("http://{addr}"))
    }

    pub fn at(base: &str) -> Browser {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            base: base.to_string(),
            client,
        }
    }

    /// The same cookie store against another address (a second app instance).
    pub fn with_base(&self, addr: SocketAddr) -> Browser {
        Browser {
            base: format!("http://{addr}"),
            client: self.client.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    pub async fn get_page(&self, path: &str) -> Page {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        Page::from(response).await
    }

    /// Posts exactly these fields (no CSRF token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded_body(fields);
        self.client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Posts a form the way a browser would: with the CSRF token of the page it is on.
    pub async fn submit(&self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let page = self.get_page(form_page).await;
        let token = page.csrf_token();
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    pub async fn login(&self, email: &str, password: &str) -> reqwest::Response {
        self.submit("/login", "/login", &[("email", email), ("password", password)]).await
    }

    pub fn cookie_header_for(&self, response: &reqwest::Response, name: &str) -> Option<String> {
        set_cookie(response, name)
    }
}

fn serde_urlencoded_body(fields: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(&urlencode(k));
        out.push('=');
        out.push_str(&urlencode(v));
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The full `Set-Cookie` line for cookie `name`, if the response sets it.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A page's HTML, read by CSS selector.
pub struct Page {
    pub status: StatusCode,
    pub html: Html,
}

impl Page {
    pub async fn from(response: reqwest::Response) -> Page {
        let status = response.status();
        let body = response.text().await.unwrap();
        Page {
            status,
            html: Html::parse_document(&body),
        }
    }

    pub fn texts(&self, selector: &str) -> Vec<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html
            .select(&sel)
            .map(|e| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    pub fn text(&self, selector: &str) -> String {
        self.texts(selector)
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("nothing matches {selector}"))
    }

    pub fn attr(&self, selector: &str, attr: &str) -> Option<String> {
        let sel = Selector::parse(selector).unwrap();
        self.html.select(&sel).next().and_then(|e| e.value().attr(attr)).map(str::to_string)
    }

    pub fn count(&self, selector: &str) -> usize {
        let sel = Selector::parse(selector).unwrap();
        self.html.select(&sel).count()
    }

    pub fn csrf_token(&self) -> String {
        self.attr("input[name=csrf_token]", "value")
            .expect("the page has a form with a CSRF token")
    }

    /// The message shown next to field `name`.
    pub fn field_error(&self, name: &str) -> String {
        self.text(&format!("#f-{name}-error"))
    }
}

/// A TCP relay to the shared PostgreSQL that a test can cut and restore,
/// to see the app through a database outage without stopping the real server.
pub struct DbRelay {
    pub port: u16,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl DbRelay {
    pub async fn start(port: u16) -> DbRelay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: Arc<std::sync::Mutex<Vec<tokio::task::AbortHandle>>> = Arc::default();
        let conns = connections.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                conns.lock().unwrap().push(task.abort_handle());
            }
        });
        DbRelay {
            port,
            tasks: vec![accept],
            connections,
        }
    }

    /// Closes the port and every open connection through it.
    pub fn cut(&mut self) {
        for task in self.tasks.drain(..) {
            task.abort();
        }
        for conn in self.connections.lock().unwrap().drain(..) {
            conn.abort();
        }
    }
}

impl Drop for DbRelay {
    fn drop(&mut self) {
        self.cut();
    }
}

pub async fn create_unit(db: &PgPool, name: &str) -> i64 {
    sqlx::query_scalar::<_, i64>("INSERT INTO units (name, created_at) VALUES ($1, $2) RETURNING id")
        .bind(name)
        .bind(start_time())
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn add_member(db: &PgPool, user_id: i64, unit_id: i64) {
    sqlx::query("INSERT INTO unit_memberships (user_id, unit_id) VALUES ($1, $2)")
        .bind(user_id)
        .bind(unit_id)
        .execute(db)
        .await
        .unwrap();
}

impl TestApp {
    /// A signed-in browser for a new user of `role` who works at `unit_id`.
    pub async fn signed_in_at(&self, role: Role, unit_id: i64) -> (Browser, i64) {
        let (browser, id) = self.signed_in(role).await;
        add_member(&self.db, id, unit_id).await;
        (browser, id)
    }
}
