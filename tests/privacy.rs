//! A personnummer never appears in a URL the app makes, nor in its log. This
//! drives the real binary, with its real logging at the most verbose level.

mod common;

use common::{Browser, PASSWORD, Page, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

const FORMS_OF_THE_NUMBER: [&str; 5] = ["196408233234", "6408233234", "640823-3234", "19640823-3234", "640823 3234"];

/// Every URL a page points to: links, form targets, scripts and styles.
fn urls_in(page: &Page) -> Vec<String> {
    let mut urls = Vec::new();
    for (selector, attr) in [
        ("a[href]", "href"),
        ("form[action]", "action"),
        ("link[href]", "href"),
        ("script[src]", "src"),
    ] {
        let sel = scraper::Selector::parse(selector).unwrap();
        urls.extend(page.html.select(&sel).filter_map(|e| e.value().attr(attr)).map(str::to_string));
    }
    urls
}

#[sqlx::test]
async fn no_personnummer_in_urls_or_in_the_log(db: PgPool) {
    // The binary connects to this test's own database.
    let master = std::env::var("DATABASE_URL").unwrap();
    let name = db.connect_options().get_database().unwrap().to_string();
    let url = format!("{}/{}", master.rsplit_once('/').unwrap().0, name);
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let user = common::create_user(&db, "anna.staff@lotsen.test", Role::Staff, PASSWORD).await;
    common::add_member(&db, user, unit).await;

    let mut child = Command::new(env!("CARGO_BIN_EXE_lotsen"))
        .arg("serve")
        // The server's own role, as in production; the owner migrates.
        .env("DATABASE_URL", url.replacen("lotsen:lotsen@", "lotsen_app:lotsen_app@", 1))
        .env("DATABASE_OWNER_URL", &url)
        .env("LOTSEN_ADDR", "127.0.0.1:0")
        .env("LOTSEN_REQUIRE_TOTP", "false")
        .env("LOTSEN_REASON_OUTSIDE_CASELOAD", "false")
        .env("LOTSEN_LOG", "debug")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = Arc::new(Mutex::new(String::new()));
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    for stream in [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ] {
        let log = log.clone();
        let addr_tx = addr_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Some(at) = line.find("lyssnar på http://") {
                    let _ = addr_tx.send(line[at + "lyssnar på http://".len()..].trim().to_string());
                }
                log.lock().unwrap().push_str(&line);
                log.lock().unwrap().push('\n');
            }
        });
    }
    let addr = addr_rx.recv_timeout(std::time::Duration::from_secs(30)).expect("the app starts");
    let browser = Browser::at(&format!("http://{addr}"));
    for _ in 0..50 {
        if browser.get("/readyz").await.status() == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let mut urls = Vec::new();
    let login = browser.login("anna.staff@lotsen.test", PASSWORD).await;
    urls.push(location(&login));
    let fields = [
        ("unit_id", unit.to_string()),
        ("first_name", "Anna".to_string()),
        ("last_name", "Berg".to_string()),
        ("identity_kind", "personnummer".to_string()),
        ("identity_number", "640823-3234".to_string()),
        ("gender", "woman".to_string()),
        ("resident", "yes".to_string()),
        ("referral_source", "self".to_string()),
        ("first_contact_unknown", "yes".to_string()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let created = browser.submit("/participants/new", "/participants", &fields).await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    let personakt = location(&created);
    urls.push(personakt.clone());
    // A refused registration re-renders the form with the number in it: its links must still be clean.
    let refused = Page::from(browser.submit("/participants/new", "/participants", &fields).await).await;
    urls.extend(urls_in(&refused));
    for query in ["640823-3234", "196408233234", "6408233234"] {
        let results = browser
            .follow(browser.submit("/participants", "/participants/search", &[("q", query)]).await)
            .await;
        assert_eq!(results.count("tbody tr"), 1, "{query}");
        urls.extend(urls_in(&results));
    }
    for path in [
        personakt.clone(),
        format!("{personakt}/edit"),
        format!("{personakt}/print"),
        "/participants".into(),
        "/participants/mine".into(),
    ] {
        let page = browser.get_page(&path).await;
        urls.extend(urls_in(&page));
    }
    // A page the role may not open: refused, and logged with who it was.
    assert_eq!(browser.get("/admin/users").await.status(), StatusCode::FORBIDDEN);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    child.kill().ok();
    child.wait().ok();

    assert!(urls.len() > 20, "collected the app's URLs: {}", urls.len());
    for url in &urls {
        for number in FORMS_OF_THE_NUMBER {
            assert!(!url.contains(number), "{url} contains a form of the personnummer");
        }
    }
    let log = log.lock().unwrap().clone();
    assert!(
        log.contains("POST") || log.contains("request"),
        "the log was captured: {} bytes",
        log.len()
    );
    for number in FORMS_OF_THE_NUMBER {
        assert!(!log.contains(number), "the log contains {number}");
    }
    let refusal = log
        .lines()
        .find(|l| l.contains("refused a page the user's role may not open"))
        .expect("the refusal is logged");
    assert!(
        refusal.contains(&format!("user_id={user}")) && refusal.contains("/admin/users"),
        "{refusal}"
    );
}
