//! Search survives Back: a search form is answered by a redirect to its
//! results (POST, redirect, GET), whose URL holds an id kept for the session
//! and never the name or number searched for; reloading shows the same
//! results, and another session cannot open them.

mod common;

use common::attendance::desk;
use common::participants::{anna, count};
use common::{Person, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn a_name_or_number_search_is_a_page_of_its_own_for_this_session_only(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let (colleague, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;

    for q in ["anna berg", "640823-3234"] {
        let sent = staff.submit("/participants", "/participants/search", &[("q", q)]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER, "{q}");
        let results = location(&sent);
        let search_id = results.strip_prefix("/participants?search=").unwrap_or_else(|| panic!("{results}"));
        assert!(search_id.parse::<uuid::Uuid>().is_ok(), "an opaque id: {results}");
        // Reload (or Back) shows the same people, with the term in the field.
        for _ in 0..2 {
            let page = staff.get_page(&results).await;
            assert_eq!(page.attr("tbody tr a", "href"), Some(format!("/participants/{id}")), "{q}");
            assert_eq!(page.attr("#f-q", "value").as_deref(), Some(q));
        }
        // Someone else with the URL gets no results, only a word on why.
        let theirs = colleague.get_page(&results).await;
        assert_eq!(theirs.attr("#f-q", "value").as_deref(), Some(""));
        assert!(theirs.text(".flash").contains("Sökningen finns inte längre"));
    }
    // Searches go with the session.
    assert_eq!(count(&db, "SELECT count(*) FROM searches").await, 2);
    staff.submit("/", "/logout", &[]).await;
    assert_eq!(count(&db, "SELECT count(*) FROM searches").await, 0);
}

#[sqlx::test]
async fn several_hits_at_the_desk_are_a_page_that_can_be_reloaded_without_checking_anyone_in(db: PgPool) {
    let d = desk(&db).await;
    Person::at(d.unit).named("Anna", "Berg").born("1990-01-01").insert(&db).await;
    Person::at(d.unit).named("Anders", "Bo").born("1991-01-01").insert(&db).await;
    let sent = d
        .staff
        .submit(
            &format!("/visits?unit={}", d.unit),
            "/visits/search",
            &[("unit_id", &d.unit.to_string()), ("q", "an"), ("visit_on", "")],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let results = location(&sent);
    assert!(
        results.starts_with(&format!("/visits?unit={}&search=", d.unit)) && !results.contains("an&"),
        "{results}"
    );
    for _ in 0..2 {
        let page = d.staff.get_page(&results).await;
        let hits = page.texts("#hits li");
        assert_eq!(hits.len(), 2, "{hits:?}");
        assert_eq!(page.attr("#f-q", "value").as_deref(), Some("an"));
    }
    assert_eq!(
        count(&db, "SELECT count(*) FROM visits").await,
        0,
        "showing results again checks no one in"
    );
}
