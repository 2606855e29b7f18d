//! Facts over time are corrected, not overwritten: boendestöd has one value
//! per date and a wrong one is corrected with a reason while the old stays
//! visible; a consent is not withdrawn before it was given; närstående are
//! reached at numbers and addresses that can be used.

mod common;

use common::participants::anna;
use common::{Page, TestApp, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn a_wrong_home_support_value_is_corrected_with_a_reason_and_the_old_one_stays_visible(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let post = |fields: Vec<(&'static str, &'static str)>| {
        let (staff, path) = (&staff, &path);
        async move { staff.submit(path, &format!("{path}/home-support"), &fields).await }
    };
    let first = vec![("support_from", "2026-02-01"), ("has_support", "yes"), ("support_hours", "8")];
    assert_eq!(post(first.clone()).await.status(), StatusCode::SEE_OTHER);
    // The same date again: refused until it says why, and what was typed stays.
    let second = vec![("support_from", "2026-02-01"), ("has_support", "yes"), ("support_hours", "4,5")];
    let refused = Page::from(post(second.clone()).await).await;
    assert!(
        refused
            .error("Skäl till rättelse (när datumet redan har ett värde)")
            .contains("redan ett värde")
    );
    assert_eq!(refused.value("Timmar per vecka (t.ex. 4,5)"), "4,5");
    // The same value sent twice (a double click, Back and send) is done, not refused.
    assert_eq!(post(first.clone()).await.status(), StatusCode::SEE_OTHER);
    // A reason longer than the column holds is refused beside the field.
    let mut too_long = second.clone();
    let long_reason: &'static str = "x".repeat(1001).leak();
    too_long.push(("support_correction_reason", long_reason));
    let refused = Page::from(post(too_long).await).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .error("Skäl till rättelse (när datumet redan har ett värde)")
            .contains("Högst 1000")
    );
    let mut corrected = second.clone();
    corrected.push(("support_correction_reason", "Fel timmar, beslutet gäller 4,5."));
    assert_eq!(post(corrected.clone()).await.status(), StatusCode::SEE_OTHER);
    // The correction sent twice corrects once.
    assert_eq!(post(corrected).await.status(), StatusCode::SEE_OTHER);

    let kept: Vec<(f64, bool)> = sqlx::query_as(
        "SELECT hours_per_week::float8, corrected_at IS NOT NULL FROM home_support_entries WHERE participant_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        kept,
        vec![(8.0, true), (4.5, false)],
        "nothing is deleted; the old value is marked corrected"
    );
    let page = staff.get_page(&path).await;
    let history = page.text("#home-support table");
    assert!(
        history.contains("rättat") && history.contains("Fel timmar, beslutet gäller 4,5."),
        "{history}"
    );
    // The schema holds one standing value per date too.
    let twice = sqlx::query(
        "INSERT INTO home_support_entries (participant_id, valid_from, has_support, hours_per_week, recorded_by, recorded_at)
         SELECT $1, '2026-02-01', true, 3, min(id), now() FROM users",
    )
    .bind(id)
    .execute(&db)
    .await;
    assert_eq!(
        twice.unwrap_err().as_database_error().and_then(|e| e.constraint()),
        Some("home_support_entries_one_per_date")
    );
}

#[sqlx::test]
async fn a_consent_is_not_withdrawn_before_it_was_given(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let given = staff
        .submit(
            &path,
            &format!("{path}/consents"),
            &[("consent_scope", "psychiatry"), ("consent_given", "2026-02-01")],
        )
        .await;
    assert_eq!(given.status(), StatusCode::SEE_OTHER);
    let consent: i64 = sqlx::query_scalar("SELECT id FROM consents").fetch_one(&db).await.unwrap();
    let withdraw = |on: &'static str| {
        let (staff, path) = (&staff, &path);
        async move {
            staff
                .submit(path, &format!("{path}/consents/{consent}/withdraw"), &[("withdrawn_on", on)])
                .await
        }
    };
    let refused = withdraw("2026-01-15").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.text(&format!("#withdraw-{consent}-error")).contains("lämnades 2026-02-01"));
    assert_eq!(page.attr(&format!("#withdraw-{consent}"), "value").as_deref(), Some("2026-01-15"));
    let stored: Option<chrono::NaiveDate> = sqlx::query_scalar("SELECT withdrawn_on FROM consents")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, None, "nothing stored on a refusal");
    assert_eq!(withdraw("2026-02-10").await.status(), StatusCode::SEE_OTHER);
    // Sent again: done, not an error page after a success.
    assert_eq!(withdraw("2026-02-10").await.status(), StatusCode::SEE_OTHER);
    let stored: Option<chrono::NaiveDate> = sqlx::query_scalar("SELECT withdrawn_on FROM consents")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, "2026-02-10".parse().ok());
    // The schema holds it too.
    let early = sqlx::query("UPDATE consents SET withdrawn_on = '2026-01-01'").execute(&db).await;
    assert_eq!(
        early.unwrap_err().as_database_error().and_then(|e| e.constraint()),
        Some("consents_check")
    );
}

#[sqlx::test]
async fn a_relative_needs_a_usable_phone_number_and_email_address(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let add = |phone: String, email: &'static str| {
        let (staff, path) = (&staff, &path);
        async move {
            let fields = [
                ("relative_kind", "relative"),
                ("relative_name", "Bo Berg"),
                ("relative_relation", "bror"),
                ("relative_phone", phone.as_str()),
                ("relative_email", email),
            ];
            staff.submit(path, &format!("{path}/relatives"), &fields).await
        }
    };
    let refused = add("ring mig".into(), "inte-en-epost").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(refused).await;
    assert!(page.text("#f-relative_phone-error").contains("siffror"));
    assert!(page.text("#f-relative_email-error").contains("namn@exempel.se"));
    assert_eq!(page.value("Namn"), "Bo Berg");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM relatives").fetch_one(&db).await.unwrap();
    assert_eq!(count, 0);
    // Digits and spaces only, but longer than a telephone number is: refused, not a 500.
    let refused = add(format!("070{}1234567", " ".repeat(60)), "").await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn a_relative_is_changed_and_ended_with_every_version_kept(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let id = anna(&staff, unit).await;
    let path = format!("/participants/{id}");
    let added = staff
        .submit(
            &path,
            &format!("{path}/relatives"),
            &[
                ("relative_kind", "relative"),
                ("relative_name", "Bo Berg"),
                ("relative_relation", "bror"),
                ("relative_phone", "070-123 45 67"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    let relative: i64 = sqlx::query_scalar("SELECT id FROM relatives").fetch_one(&db).await.unwrap();
    let page_path = format!("{path}/relatives/{relative}");
    let versions = || async { common::participants::count(&db, "SELECT count(*) FROM relative_versions").await };
    assert_eq!(versions().await, 1);

    // A new number: the old one stays readable as the earlier version.
    let form = staff.get_page(&page_path).await.form("Spara ändringar");
    let changed = form.fill("Telefon", "070-765 43 21");
    let stale_copy = staff
        .get_page(&page_path)
        .await
        .form("Spara ändringar")
        .fill("Relation (t.ex. mamma, god man)", "storebror");
    let sent = changed.submit(&staff).await;
    assert_eq!(location(&sent), format!("{path}#relatives"));
    let again = staff
        .get_page(&page_path)
        .await
        .form("Spara ändringar")
        .fill("Telefon", "070-765 43 21");
    assert_eq!(
        again.submit(&staff).await.status(),
        StatusCode::SEE_OTHER,
        "the same change again is done"
    );
    assert_eq!(versions().await, 2, "and kept once");
    // A change made from the page as it was before is not written over it.
    let refused = Page::from(stale_copy.submit(&staff).await).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.error("Namn").contains("Någon annan har ändrat"));
    assert_eq!(
        refused.value("Relation (t.ex. mamma, god man)"),
        "storebror",
        "what was typed is kept"
    );
    let page = staff.get_page(&page_path).await;
    assert_eq!(page.value("Telefon"), "070-765 43 21");
    assert!(page.text("#earlier-h ~ .table-wrap").contains("070-123 45 67"));
    assert!(staff.get_page(&path).await.text("#relatives").contains("070-765 43 21"));

    // Ended: not in the future, not before it was added, then kept as ended.
    let end = |on: &'static str| {
        let (staff, page_path) = (&staff, &page_path);
        async move {
            staff
                .submit(page_path, &format!("{page_path}/end"), &[("relative_ended_on", on)])
                .await
        }
    };
    let future = Page::from(end("2026-04-01").await).await;
    assert!(future.error("Avslutad från (tomt för i dag)").contains("framtiden"));
    assert_eq!(future.value("Telefon"), "070-765 43 21", "the change form shows what stands");
    let early = Page::from(end("2026-01-01").await).await;
    assert!(early.error("Avslutad från (tomt för i dag)").contains("lades till"));
    assert_eq!(end("2026-03-02").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        end("2026-03-02").await.status(),
        StatusCode::SEE_OTHER,
        "the same end again is done"
    );
    assert_eq!(versions().await, 3);
    assert!(staff.get_page(&path).await.text("#relatives").contains("Avslutad 2026-03-02"));
    assert_eq!(staff.get_page(&page_path).await.count("form[action$='/end']"), 0);
    let after_end = staff.get_page(&path).await;
    assert_eq!(
        common::participants::count(&db, "SELECT count(*) FROM relatives").await,
        1,
        "nothing deleted: {}",
        after_end.text("#relatives")
    );
    // A saved version is history in the schema too.
    assert!(sqlx::query("UPDATE relative_versions SET phone = ''").execute(&db).await.is_err());
    assert!(sqlx::query("DELETE FROM relative_versions").execute(&db).await.is_err());
}
