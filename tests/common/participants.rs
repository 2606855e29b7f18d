//! Registering participants through the form, as a user does.

use super::location;
use reqwest::StatusCode;
use sqlx::PgPool;

/// A complete registration form for unit `unit`, changed by `overrides`.
pub fn registration(unit: &str, overrides: &[(&'static str, &'static str)]) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&'static str, String)> = vec![
        ("unit_id", unit.to_string()),
        ("first_name", "Anna".into()),
        ("last_name", "Berg".into()),
        ("identity_kind", "personnummer".into()),
        ("identity_number", "640823-3234".into()),
        ("birth_date", String::new()),
        ("gender", "woman".into()),
        ("resident", "yes".into()),
        ("referral_source", "psychiatry".into()),
        ("has_coordinated_plan", "no".into()),
        ("first_contact_on", "2026-02-20".into()),
    ];
    for (key, value) in overrides {
        match fields.iter_mut().find(|(k, _)| k == key) {
            Some(field) => field.1 = value.to_string(),
            None => fields.push((key, value.to_string())),
        }
    }
    fields
}

pub async fn register(browser: &super::Browser, unit: i64, overrides: &[(&'static str, &'static str)]) -> reqwest::Response {
    let fields = registration(&unit.to_string(), overrides);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.submit("/participants/new", "/participants", &borrowed).await
}

/// Registers Anna Berg and returns her id.
pub async fn anna(browser: &super::Browser, unit: i64) -> i64 {
    let response = register(browser, unit, &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    location(&response).trim_start_matches("/participants/").parse().unwrap()
}

/// A number the database answers (`SELECT count(*) …`).
pub async fn count(db: &PgPool, sql: &'static str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).fetch_one(db).await.unwrap()
}

/// A staff member of a new unit with Anna Berg registered, and the journal
/// form of her personakt filled with a note, ready to send.
pub async fn journal_note(app: &super::TestApp) -> (super::Browser, i64, super::Form) {
    let unit = super::create_unit(&app.db, "Lotsen").await;
    let (staff, _) = app.signed_in_at(lotsen::auth::Role::Staff, unit).await;
    let person = anna(&staff, unit).await;
    let page = staff.get_page(&format!("/participants/{person}")).await;
    let form = page
        .form_to(&format!("/participants/{person}/journal"))
        .first_choices()
        .set("note_event_on", "2026-03-01")
        .set("note_body", "Samtal om veckan.");
    (staff, person, form)
}
