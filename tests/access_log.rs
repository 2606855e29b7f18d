//! The access-log page (issue 18, point 4): it pages through any number of
//! rows, newest first, without gaps or repeats, and filters by person (name or
//! number, never in the URL), user, reason and date.

mod common;

use common::{TestApp, create_unit, location};
use lotsen::auth::Role;
use lotsen::participants::access_log::PAGE_SIZE;
use sqlx::PgPool;

#[sqlx::test]
async fn every_row_is_reached_a_page_at_a_time_and_the_reason_filter_finds_the_reads_outside_the_caseload(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let anna = common::participants::anna(&staff, unit).await;
    sqlx::query("DELETE FROM searches").execute(&db).await.unwrap();
    // 250 reads a minute apart; every tenth outside the caseload, with a reason.
    sqlx::query(
        "INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action, in_caseload, reason)
         SELECT timestamptz '2026-03-01 08:00+01' + g * interval '1 minute', $1, 'staff', $2, $3, 'view',
                g % 10 <> 0, CASE WHEN g % 10 = 0 THEN 'covering' END
         FROM generate_series(1, 250) g",
    )
    .bind(staff_id)
    .bind(unit)
    .bind(anna)
    .execute(&db)
    .await
    .unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM access_log WHERE unit_id = $1")
        .bind(unit)
        .fetch_one(&db)
        .await
        .unwrap();

    let mut seen: Vec<String> = Vec::new();
    let mut path = "/access-log".to_string();
    let mut pages = 0;
    loop {
        let page = manager.get_page(&path).await;
        let rows = page.texts("tbody tr");
        assert!(rows.len() as i64 <= PAGE_SIZE);
        seen.extend(rows);
        pages += 1;
        match page.attr("nav.pager a:last-child", "href") {
            Some(next) if next.contains("before=") => path = next,
            _ => break,
        }
    }
    assert_eq!(seen.len() as i64, total, "every row once");
    assert_eq!(pages, (total + PAGE_SIZE - 1) / PAGE_SIZE);
    let mut times: Vec<&str> = seen.iter().map(|r| &r[..16]).collect();
    let shown = times.clone();
    times.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(shown, times, "newest first across pages");

    // Only the reads outside the caseload, by name.
    let kept = manager
        .submit(
            "/access-log",
            "/access-log/search",
            &[("person", "anna berg"), ("reason", "outside")],
        )
        .await;
    let outside = manager.follow(kept).await;
    let rows = outside.texts("tbody tr");
    assert_eq!(rows.len(), 25);
    assert!(rows.iter().all(|r| r.contains("Vikarierar för kontaktmannen")));

    // A name that finds no one, and a number too short to search by.
    let kept = manager
        .submit("/access-log", "/access-log/search", &[("person", "Okänd Person")])
        .await;
    assert_eq!(manager.follow(kept).await.count("tbody tr"), 0);
    let kept = manager.submit("/access-log", "/access-log/search", &[("person", "6408")]).await;
    assert!(!location(&kept).contains("6408"));
    let short = manager.get(&location(&kept)).await;
    assert_eq!(short.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let short = common::Page::from(short).await;
    assert!(short.error("Deltagare (namn eller nummer)").contains("10 eller 12 siffror"));
}
