//! Fastställda perioder (issue 16, point 2): a manager freezes a month of a
//! unit's report; a correction made afterwards is reported beside the stored
//! figure, never put in its place, and the exports keep the stored figures.

mod common;

use common::attendance::visit;
use common::{Page, Person, TestApp};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

/// A manager of one unit on 27 November 2026, with two visits in October.
async fn october(db: &PgPool) -> (TestApp, common::Browser, i64, i64) {
    let app = TestApp::spawn(db.clone()).await;
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 27, 9, 0, 0).unwrap());
    let unit = common::create_unit(db, "Lotsen Centrum").await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let person = Person::at(unit).born("1990-01-01").insert(db).await;
    visit(db, person, "2026-10-05").await;
    visit(db, person, "2026-10-06").await;
    (app, manager, unit, person)
}

fn october_path(unit: i64) -> String {
    format!("/annual-report?unit={unit}&year=2026&month=10")
}

/// The cells of the row `label` in the table titled `title`.
fn row(page: &Page, title: &str, label: &str) -> Vec<String> {
    let section = scraper::Selector::parse("section.report-table").unwrap();
    let heading = scraper::Selector::parse("h2").unwrap();
    let rows = scraper::Selector::parse("tbody tr").unwrap();
    let cells = scraper::Selector::parse("th, td").unwrap();
    for s in page.html.select(&section) {
        if s.select(&heading).next().map(|h| h.text().collect::<String>()) != Some(title.to_string()) {
            continue;
        }
        for r in s.select(&rows) {
            let texts: Vec<String> = r.select(&cells).map(|c| c.text().collect::<String>()).collect();
            if texts.first().map(String::as_str) == Some(label) {
                return texts[1..].to_vec();
            }
        }
    }
    panic!("no row {label} in {title}");
}

#[sqlx::test]
async fn a_correction_after_freezing_is_reported_beside_the_stored_figure(db: PgPool) {
    let (_app, manager, unit, person) = october(&db).await;
    let path = october_path(unit);
    let before = manager.get_page(&path).await;
    assert_eq!(row(&before, "Besök per månad", "oktober"), ["2", "0", "0", "2"]);
    // Fastställ, twice at once (a double click): one freeze.
    let fields = [
        ("unit", unit.to_string()),
        ("year", "2026".to_string()),
        ("month", "10".to_string()),
        ("csrf_token", before.csrf_token()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (a, b) = tokio::join!(
        manager.post_raw("/annual-report/freeze", &fields),
        manager.post_raw("/annual-report/freeze", &fields)
    );
    assert_eq!((a.status(), b.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM report_freezes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let frozen = manager.follow(a).await;
    assert!(frozen.text("section.frozen").contains("Inga uppgifter har ändrats"));
    assert_eq!(frozen.count("form[action='/annual-report/freeze']"), 0, "frozen once");

    // A visit of 12 October registered late: the frozen figure stays, and
    // the page says what changed, with both values.
    visit(&db, person, "2026-10-12").await;
    let after = manager.get_page(&path).await;
    assert_eq!(row(&after, "Besök per månad", "oktober"), ["2", "0", "0", "2"], "the stored figure");
    let notice = after.text("section.frozen");
    let listed = after.count("section.frozen tbody tr");
    assert!(listed > 0);
    assert!(
        notice.contains(&format!("{listed} uppgifter har ändrats efter fastställandet")),
        "{notice}"
    );
    // Table, row, column, stored, today.
    let changes = after.texts("section.frozen tbody tr");
    assert!(changes.contains(&"Besök per månadoktoberTotalt23".to_string()), "{changes:?}");
    assert_eq!(listed, 6, "visits by the over-36s, all visits and October: women and total each");

    // The exports carry the stored figures.
    let csv = manager
        .get(&format!("/annual-report.csv?unit={unit}&year=2026&month=10"))
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("fastställd"), "{csv}");
    assert!(csv.contains("oktober;2;0;0;2"), "{csv}");
    // The month not yet over stays open.
    let november = manager.get_page(&format!("/annual-report?unit={unit}&year=2026&month=11")).await;
    assert_eq!(november.count("form[action='/annual-report/freeze']"), 0);
    assert_eq!(freeze(&manager, unit, "11", november.csrf_token()).await, StatusCode::BAD_REQUEST);
    // What was frozen cannot be changed, even in the database.
    assert!(sqlx::query("UPDATE report_freezes SET definitions = 2").execute(&db).await.is_err());
    assert!(sqlx::query("DELETE FROM report_freezes").execute(&db).await.is_err());
    let audited: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = 'report_frozen'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audited, 1);
}

/// Fastställ a month of 2026 as `who`.
async fn freeze(who: &common::Browser, unit: i64, month: &str, token: String) -> StatusCode {
    let fields = [
        ("unit", unit.to_string()),
        ("year", "2026".into()),
        ("month", month.into()),
        ("csrf_token", token),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    who.post_raw("/annual-report/freeze", &fields).await.status()
}

#[sqlx::test]
async fn only_a_manager_of_the_unit_freezes_it(db: PgPool) {
    let (app, manager, unit, _) = october(&db).await;
    let other = common::create_unit(&db, "Lotsen Väst").await;
    let page = manager.get_page(&october_path(unit)).await;
    assert_eq!(
        freeze(&manager, other, "10", page.csrf_token()).await,
        StatusCode::FORBIDDEN,
        "another unit"
    );
    // "All my units" is no unit to freeze.
    let all = manager.get_page("/annual-report?unit=all&year=2026&month=10").await;
    assert_eq!(all.count("form[action='/annual-report/freeze']"), 0);
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let staff_page = staff.get_page("/").await;
    assert_eq!(
        freeze(&staff, unit, "10", staff_page.csrf_token()).await,
        StatusCode::FORBIDDEN,
        "staff"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM report_freezes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, 0);
}
