//! Hostile text is answered, never crashed on: NUL and other control
//! characters, 100 kB, a right-to-left override, emoji and bytes that are not
//! UTF-8, posted to every form of the router.

mod common;

use common::routes::{demo, fill, member_of_every_unit};
use common::{Page, TestApp};
use lotsen::auth::Role;
use reqwest::{Method, StatusCode};
use sqlx::PgPool;

/// The free-text and choice fields the app's forms read; each form takes
/// those it knows and leaves the rest.
const FIELDS: [&str; 41] = [
    "q",
    "name",
    "first_name",
    "last_name",
    "identity_number",
    "birth_date",
    "email",
    "phone",
    "title",
    "place",
    "summary",
    "participation",
    "tasks",
    "supervisor",
    "notes",
    "reason",
    "note",
    "description",
    "goal_description",
    "activity_description",
    "note_body",
    "note_event_on",
    "correct_body",
    "correct_reason",
    "status_note",
    "relative_name",
    "relative_relation",
    "relative_phone",
    "relative_email",
    "relative_note",
    "consent_note",
    "support_provider",
    "support_hours",
    "support_correction_reason",
    "outcome_note",
    "assessment",
    "assessment_method",
    "staff_present",
    "contact_name",
    "weekly_hours",
    "period_note",
];

/// A form body with every field set to `value` (percent-encoded by hand, so
/// that bytes which are not UTF-8 can be sent as a browser may).
fn body(token: &str, value: &str, fields: &[&str]) -> Vec<u8> {
    let mut out = format!("csrf_token={token}").into_bytes();
    for field in fields {
        out.extend_from_slice(format!("&{field}={value}").as_bytes());
    }
    out
}

fn encoded(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[sqlx::test]
async fn every_form_answers_hostile_text_without_a_server_error(db: PgPool) {
    let (app, records) = demo(&db).await;
    // Each form as a role that may send it: administrators' pages as an
    // admin, the rest (the managers' reviews among them) as a manager.
    let (admin, _) = member_of_every_unit(&app, Role::Admin).await;
    let (manager, _) = member_of_every_unit(&app, Role::Manager).await;
    let admin_token = admin.get_page("/").await.csrf_token();
    let manager_token = manager.get_page("/").await.csrf_token();
    let long = encoded(&"lång text ".repeat(10_000));
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "NUL and control characters",
            encoded("före\0mellan\u{7}efter\r\nrad två\tflik"),
            &FIELDS,
        ),
        // In one field: percent-encoded it is about 150 kB, inside the 256 kB a form may be.
        ("100 kB", long, &["note_body"]),
        ("a right-to-left override", encoded("Anna \u{202E}nimda"), &FIELDS),
        ("emoji", encoded("Kaffe ☕ och 👩‍👩‍👧"), &FIELDS),
        ("bytes that are not UTF-8", "%FF%FEtext%C3".to_string(), &FIELDS),
    ];
    let routes: Vec<_> = lotsen::app::pages()
        .table()
        .iter()
        .filter(|r| r.method == Method::POST && r.path != "/logout")
        .cloned()
        .collect();
    assert!(routes.len() >= 40, "the route table lists {} forms", routes.len());
    // How many answers came from a handler that read the form (saved, or
    // refused beside a field): the walk tests the forms, not only the gate.
    let mut read = 0;
    let mut sent = 0;
    for route in &routes {
        let path = fill(route.path, &records);
        let (browser, token) = if route.path.starts_with("/admin/") {
            (&admin, &admin_token)
        } else {
            (&manager, &manager_token)
        };
        for (what, value, fields) in &cases {
            let response = browser
                .request(Method::POST, &path)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body(token, value, fields))
                .send()
                .await
                .unwrap();
            assert!(
                !response.status().is_server_error(),
                "POST {path} with {what}: {}",
                response.status()
            );
            sent += 1;
            if matches!(response.status().as_u16(), 200 | 204 | 303 | 409 | 422) {
                read += 1;
            }
        }
        // Still signed in: nothing above ended the session.
        assert_eq!(browser.get("/").await.status(), reqwest::StatusCode::OK, "after {path}");
    }
    assert!(read * 10 >= sent * 7, "only {read} of {sent} hostile forms reached their handler");
}

#[sqlx::test]
async fn a_pasted_nul_costs_that_character_not_the_note(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let anna = common::participants::anna(&staff, unit).await;
    let response = staff
        .submit(
            &format!("/participants/{anna}"),
            &format!("/participants/{anna}/journal"),
            &[
                ("note_event_on", "2026-03-01"),
                ("note_type", "event"),
                ("note_body", "Samtal\0 om veckan.\nNästa steg: \u{202E}praktik."),
            ],
        )
        .await;
    assert!(
        response.status().is_redirection(),
        "{}: {}",
        response.status(),
        Page::from(response).await.text(".error-message")
    );
    let stored: String = sqlx::query_scalar("SELECT body FROM journal_notes WHERE participant_id = $1")
        .bind(anna)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(stored, "Samtal om veckan.\nNästa steg: praktik.");

    // A name with bytes that are not UTF-8: the rest of the form is kept.
    let form = staff.get_page("/participants/new").await;
    let body = format!(
        "csrf_token={}&unit_id={unit}&first_name=Ber%FFit&last_name=Berg&identity_kind=none&birth_date=1990-05-17&gender=man&resident=yes&referral_source=self&has_coordinated_plan=no&first_contact_unknown=yes",
        form.csrf_token()
    );
    let response = staff
        .request(Method::POST, "/participants")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        reqwest::StatusCode::SEE_OTHER,
        "registered, the broken byte replaced"
    );
    let (first, last): (String, String) = sqlx::query_as("SELECT first_name, last_name FROM participants WHERE first_name LIKE 'Ber%'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        (first.as_str(), last.as_str()),
        ("Ber\u{FFFD}it", "Berg"),
        "the rest of the form is kept"
    );
}

#[sqlx::test]
async fn a_long_swedish_text_is_answered_beside_its_field_and_kept(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let (staff, person, form) = common::participants::journal_note(&app).await;
    // 110 000 characters of Swedish, about 285 kB once percent-encoded.
    let pasted = "Öl, ägg, ål, äpplen – så ät då! ".repeat(3_438);
    assert!(pasted.chars().count() > 110_000);
    let encoded: usize = form_urlencoded::byte_serialize(pasted.as_bytes()).map(str::len).sum();
    assert!(encoded > 256 * 1024, "larger than the old limit: {encoded} bytes");
    let answer = form.set("note_body", &pasted).submit(&staff).await;
    assert_eq!(answer.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = Page::from(answer).await;
    assert_eq!(page.text("#f-note_body-error"), "Fel: Högst 20 000 tecken.");
    assert_eq!(page.text("#f-note_body"), pasted.trim(), "the text is kept");
    let notes: i64 = sqlx::query_scalar("SELECT count(*) FROM journal_notes WHERE participant_id = $1")
        .bind(person)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(notes, 0);
}
