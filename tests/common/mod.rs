//! Test helpers: start the real app on a random port against the test's own
//! database, sign in as a role, and read pages as a user does: fields by their
//! label, forms by their button, messages beside the field they belong to.
#![allow(dead_code)]

pub mod attendance;
pub mod participants;
pub mod plans;
pub mod routes;

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
        // Signing in with a code from an app is tested on its own (tests/two_factor.rs).
        config.require_totp = false;
        // So is the reason asked outside one's caseload (tests/reason.rs).
        config.reason_outside_caseload = false;
        adjust(&mut config);
        let state = AppState::new(db.clone(), config.clone(), clock.clone());
        let router = lotsen::app::app_with(state, extra);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // The server the binary runs, with its timeouts and connection cap.
        let limits = config.server;
        let server = tokio::spawn(lotsen::server::serve(listener, router, limits, std::future::pending()));
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

    /// A request of any method, sent with this browser's cookies, to finish and send.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
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
        // The form's one-time token, as a browser sends it.
        let once = page.attr(&format!("form[action=\"{action}\"] input[name=once]"), "value");
        if let Some(once) = &once {
            all.push(("once", once));
        }
        all.extend_from_slice(fields);
        self.post_raw(action, &all).await
    }

    /// The page a form's answer leads to: a redirect is followed (once), any
    /// other answer is the page itself.
    pub async fn follow(&self, response: reqwest::Response) -> Page {
        if response.status() == StatusCode::SEE_OTHER {
            return self.get_page(&location(&response)).await;
        }
        Page::from(response).await
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
        // A port just given up by a cut relay is free once its task has ended.
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => break listener,
                Err(_) if tries < 50 => {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
                Err(err) => panic!("port {port}: {err}"),
            }
        };
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

/// Makes `user` the participant's kontaktman from `from_on`, as the form would.
pub async fn assign_key_worker(db: &PgPool, participant: i64, user: i64, from_on: &str) {
    sqlx::query(
        "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at)
         VALUES ($1, $2, $3::date, $2, now())",
    )
    .bind(participant)
    .bind(user)
    .bind(from_on)
    .execute(db)
    .await
    .unwrap();
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
    /// A fresh browser signed in as an existing user (after the clock has
    /// moved past their session's idle time, say).
    pub async fn sign_in_again(&self, user_id: i64) -> Browser {
        let email: String = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.db)
            .await
            .unwrap();
        let browser = self.browser();
        browser.login(&email, PASSWORD).await;
        browser
    }

    pub async fn signed_in_at(&self, role: Role, unit_id: i64) -> (Browser, i64) {
        let (browser, id) = self.signed_in(role).await;
        add_member(&self.db, id, unit_id).await;
        (browser, id)
    }
}

/// A participant made straight in the database, for tests that are not about
/// registering one: `Person::at(unit).named("Anna", "Berg").born("1990-05-01").insert(&db)`.
/// Unset, a person is "Test Person", a woman born 1990-01-01 with no number,
/// who came by herself and was registered now.
pub struct Person {
    unit: i64,
    first: String,
    last: String,
    birth: String,
    gender: String,
    number: Option<String>,
    first_contact: Option<String>,
    first_visit: Option<String>,
    registered: Option<String>,
    key_worker: Option<i64>,
}

impl Person {
    pub fn at(unit: i64) -> Person {
        Person {
            unit,
            first: "Test".into(),
            last: "Person".into(),
            birth: "1990-01-01".into(),
            gender: "woman".into(),
            number: None,
            first_contact: None,
            first_visit: None,
            registered: None,
            key_worker: None,
        }
    }

    pub fn named(self, first: &str, last: &str) -> Person {
        Person {
            first: first.into(),
            last: last.into(),
            ..self
        }
    }

    pub fn born(self, date: &str) -> Person {
        Person {
            birth: date.into(),
            ..self
        }
    }

    pub fn gender(self, gender: &str) -> Person {
        Person {
            gender: gender.into(),
            ..self
        }
    }

    /// A personnummer (12 digits), or none.
    pub fn number(self, number: Option<&str>) -> Person {
        Person {
            number: number.map(str::to_string),
            ..self
        }
    }

    pub fn first_contact(self, date: &str) -> Person {
        Person {
            first_contact: Some(date.into()),
            ..self
        }
    }

    pub fn first_visit(self, date: Option<&str>) -> Person {
        Person {
            first_visit: date.map(str::to_string),
            ..self
        }
    }

    /// When the record was made (`created_at`), as a date.
    pub fn registered(self, date: &str) -> Person {
        Person {
            registered: Some(date.into()),
            ..self
        }
    }

    /// A kontaktman from 2026-01-01, when given.
    pub fn key_worker(self, user: Option<i64>) -> Person {
        Person { key_worker: user, ..self }
    }

    pub async fn insert(self, db: &PgPool) -> i64 {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, identity_number, birth_date, gender, resident,
                                       referral_source, first_contact_on, first_visit_on, created_at, updated_at)
             VALUES ($1, $2, $3, CASE WHEN $4::text IS NULL THEN 'none' ELSE 'personnummer' END, $4, $5::date, $6, true,
                     'self', $7::date, $8::date, coalesce($9::date::timestamptz, now()), now())
             RETURNING id",
        )
        .bind(self.unit)
        .bind(&self.first)
        .bind(&self.last)
        .bind(&self.number)
        .bind(&self.birth)
        .bind(&self.gender)
        .bind(&self.first_contact)
        .bind(&self.first_visit)
        .bind(&self.registered)
        .fetch_one(db)
        .await
        .unwrap();
        // Its first saved version, as registration writes it (the personakt shows the latest).
        sqlx::query(
            "INSERT INTO participant_versions (participant_id, version, changed_at, first_name, last_name, identity_kind, identity_number,
                 birth_date, gender, phone, email, address, resident, non_resident_reason, referral_source, first_contact_on,
                 first_visit_on, has_coordinated_plan, coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up)
             SELECT id, version, created_at, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
                    address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
                    coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up
             FROM participants WHERE id = $1",
        )
        .bind(id)
        .execute(db)
        .await
        .unwrap();
        if let Some(user) = self.key_worker {
            assign_key_worker(db, id, user, "2026-01-01").await;
        }
        id
    }
}

/// Text as a person reads it: runs of white space as one space, trimmed.
fn read(text: impl Iterator<Item = impl AsRef<str>>) -> String {
    text.map(|t| t.as_ref().to_string())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a label reads `wanted`: exactly, or with "(obligatoriskt)" or
/// another note in brackets after it.
fn reads_as(label: &str, wanted: &str) -> bool {
    label == wanted || label.strip_prefix(wanted).is_some_and(|rest| rest.starts_with(" ("))
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

/// A form's fields as a browser would send them, found by their labels.
pub struct Form {
    pub action: String,
    fields: Vec<(String, String)>,
    /// Each labelled control: its label, name, type and own value.
    controls: Vec<(String, String, String, String)>,
    /// The options of each list: name, the text shown and the value sent.
    options: Vec<(String, String, String)>,
}

impl Form {
    fn control(&self, label: &str) -> &(String, String, String, String) {
        let found: Vec<_> = self.controls.iter().filter(|c| reads_as(&c.0, label)).collect();
        match found[..] {
            [one] => one,
            [] => panic!(
                "the form to {} has no field labelled {label:?}; its labels: {:?}",
                self.action,
                self.controls.iter().map(|c| &c.0).collect::<Vec<_>>()
            ),
            _ => panic!("the form to {} has several fields labelled {label:?}", self.action),
        }
    }

    /// Types `value` into the field labelled `label`, or chooses the option
    /// that reads `value` in the list labelled so.
    pub fn fill(mut self, label: &str, value: &str) -> Form {
        let (_, name, kind, _) = self.control(label).clone();
        let value = if kind == "select" {
            self.options
                .iter()
                .find(|(n, text, _)| *n == name && text == value)
                .map(|(_, _, v)| v.clone())
                .unwrap_or_else(|| panic!("the list {label:?} has no option {value:?}"))
        } else {
            value.to_string()
        };
        let value = value.as_str();
        match self.fields.iter_mut().find(|(n, _)| *n == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name, value.to_string())),
        }
        self
    }

    /// Ticks the checkbox, or chooses the radio button, labelled `label`.
    pub fn choose(mut self, label: &str) -> Form {
        let (_, name, kind, value) = self.control(label).clone();
        if kind == "radio" {
            self.fields.retain(|(n, _)| *n != name);
        }
        if !self.fields.iter().any(|(n, v)| *n == name && *v == value) {
            self.fields.push((name, value));
        }
        self
    }

    /// Unticks the checkbox labelled `label`.
    pub fn clear(mut self, label: &str) -> Form {
        let (_, name, _, value) = self.control(label).clone();
        self.fields.retain(|(n, v)| !(*n == name && *v == value));
        self
    }

    /// Sets the field named `name` (the name sent, not the label).
    pub fn set(mut self, name: &str, value: &str) -> Form {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(field) => field.1 = value.to_string(),
            None => self.fields.push((name.to_string(), value.to_string())),
        }
        self
    }

    pub fn has(&self, name: &str) -> bool {
        self.controls.iter().any(|c| c.1 == name) || self.fields.iter().any(|(n, _)| n == name)
    }

    /// What a person in a hurry sends: every list left on its blank choice
    /// takes its first real option, and every group of radio buttons with
    /// none chosen its first button.
    pub fn first_choices(mut self) -> Form {
        for (name, _, value) in &self.options {
            if value.is_empty() {
                continue;
            }
            match self.fields.iter_mut().find(|(n, _)| n == name) {
                Some(field) if field.1.is_empty() => field.1 = value.clone(),
                Some(_) => {}
                None => self.fields.push((name.clone(), value.clone())),
            }
        }
        for (_, name, kind, value) in &self.controls {
            if kind == "radio" && !self.fields.iter().any(|(n, _)| n == name) {
                self.fields.push((name.clone(), value.clone()));
            }
        }
        self
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    pub fn value_of(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Presses the form's button: posts what it holds.
    pub async fn submit(self, browser: &Browser) -> reqwest::Response {
        let fields: Vec<(&str, &str)> = self.fields.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        browser.post_raw(&self.action, &fields).await
    }
}

impl Page {
    /// The form holding the button that reads `button`.
    pub fn form(&self, button: &str) -> Form {
        let forms: Vec<_> = self
            .html
            .select(&sel("form"))
            .filter(|f| f.select(&sel("button")).any(|b| read(b.text()) == button))
            .collect();
        let form = match forms[..] {
            [one] => one,
            [] => panic!("no form has a button {button:?}"),
            _ => panic!("several forms have a button {button:?}"),
        };
        form_of(form)
    }

    /// The form that posts to `action` (the first, when several do).
    pub fn form_to(&self, action: &str) -> Form {
        // A page may also have a GET form to the same path (the unit picker): the POST one first.
        let to = |f: &scraper::ElementRef<'_>| f.value().attr("action") == Some(action);
        let posts = |f: &scraper::ElementRef<'_>| f.value().attr("method").is_some_and(|m| m.eq_ignore_ascii_case("post"));
        let form = self
            .html
            .select(&sel("form"))
            .find(|f| to(f) && posts(f))
            .or_else(|| self.html.select(&sel("form")).find(to))
            .unwrap_or_else(|| panic!("no form posts to {action}"));
        form_of(form)
    }
}

fn form_of(form: scraper::ElementRef<'_>) -> Form {
    {
        let mut fields = Vec::new();
        for input in form.select(&sel("input[name], select[name], textarea[name]")) {
            let e = input.value();
            let name = e.attr("name").unwrap().to_string();
            let value = match e.name() {
                "textarea" => input.text().collect::<String>(),
                "select" => input
                    .select(&sel("option[selected]"))
                    .chain(input.select(&sel("option")))
                    .next()
                    .and_then(|o| o.value().attr("value"))
                    .unwrap_or("")
                    .to_string(),
                _ => {
                    let kind = e.attr("type").unwrap_or("text");
                    if matches!(kind, "checkbox" | "radio") && e.attr("checked").is_none() {
                        continue;
                    }
                    e.attr("value").unwrap_or(if kind == "checkbox" { "on" } else { "" }).to_string()
                }
            };
            fields.push((name, value));
        }
        let mut controls = Vec::new();
        for label in form.select(&sel("label[for]")) {
            let id = label.value().attr("for").unwrap();
            if let Some(control) = form.select(&sel(&format!("[id=\"{id}\"]"))).next() {
                let e = control.value();
                controls.push((
                    read(label.text()),
                    e.attr("name").unwrap_or("").to_string(),
                    e.attr("type").unwrap_or(e.name()).to_string(),
                    e.attr("value").unwrap_or("on").to_string(),
                ));
            }
        }
        let mut options = Vec::new();
        for list in form.select(&sel("select[name]")) {
            let name = list.value().attr("name").unwrap();
            for option in list.select(&sel("option")) {
                let text = read(option.text());
                let value = option.value().attr("value").map(str::to_string).unwrap_or_else(|| text.clone());
                options.push((name.to_string(), text, value));
            }
        }
        Form {
            action: form.value().attr("action").unwrap_or("").to_string(),
            fields,
            controls,
            options,
        }
    }
}

impl Page {
    /// The control labelled `label` on the page (a `<label for>`), or the
    /// fieldset whose legend reads so.
    fn labelled(&self, label: &str) -> scraper::ElementRef<'_> {
        let found = self.all_labelled(label);
        match found[..] {
            [one] => one,
            [] => panic!("nothing on the page is labelled {label:?}"),
            _ => panic!("several fields are labelled {label:?}: use page.form(button) to say which form"),
        }
    }

    fn all_labelled(&self, label: &str) -> Vec<scraper::ElementRef<'_>> {
        let mut found = Vec::new();
        for l in self.html.select(&sel("label[for]")) {
            if reads_as(&read(l.text()), label) {
                let id = l.value().attr("for").unwrap();
                found.extend(self.html.select(&sel(&format!("[id=\"{id}\"]"))).next());
            }
        }
        for legend in self.html.select(&sel("fieldset > legend")) {
            if reads_as(&read(legend.text()), label) {
                found.extend(legend.parent().and_then(scraper::ElementRef::wrap));
            }
        }
        found
    }

    /// What the field labelled `label` holds: the text typed, or the option chosen.
    pub fn value(&self, label: &str) -> String {
        let control = self.labelled(label);
        match control.value().name() {
            "textarea" => control.text().collect(),
            "select" => control
                .select(&sel("option[selected]"))
                .next()
                .and_then(|o| o.value().attr("value"))
                .unwrap_or("")
                .to_string(),
            _ => control.value().attr("value").unwrap_or("").to_string(),
        }
    }

    /// Whether the field labelled `label` is marked invalid for assistive technology.
    pub fn is_invalid(&self, label: &str) -> bool {
        self.labelled(label).value().attr("aria-invalid") == Some("true")
    }

    /// Which of the radio buttons under the legend `legend` is chosen: its label.
    pub fn chosen_in(&self, legend: &str) -> String {
        let group = self.labelled(legend);
        group
            .select(&sel("input[checked]"))
            .filter_map(|input| input.value().attr("id"))
            .filter_map(|id| group.select(&sel(&format!("label[for=\"{id}\"]"))).next())
            .map(|label| read(label.text()))
            .next()
            .unwrap_or_default()
    }

    /// Whether the checkbox or radio button labelled `label` is chosen.
    pub fn is_chosen(&self, label: &str) -> bool {
        self.labelled(label).value().attr("checked").is_some()
    }

    /// The message beside the field labelled `label` (tied to it by
    /// `aria-describedby`, as a screen reader reads it), or "" when none;
    /// where several forms have such a field, the one with a message.
    pub fn error(&self, label: &str) -> String {
        let fields = self.all_labelled(label);
        assert!(!fields.is_empty(), "nothing on the page is labelled {label:?}");
        fields
            .iter()
            .filter_map(|f| f.value().attr("aria-describedby"))
            .flat_map(str::split_whitespace)
            .filter_map(|id| self.html.select(&sel(&format!("[id=\"{id}\"]"))).next())
            .map(|e| read(e.text()))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
