//! Brukarundersökning (issue 19, point 6): a one-time code gives one answer
//! on the tablet (also when sent twice at once), the answer keeps nothing
//! that names anyone, staff enter paper answers, and the results show women
//! and men against the targets with small groups hidden.

mod common;

use common::{Browser, Page, TestApp};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

async fn survey(manager: &Browser, unit: i64) -> i64 {
    let created = manager
        .submit("/surveys", "/surveys", &[("unit_id", &unit.to_string()), ("year", "2026")])
        .await;
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    common::location(&created).trim_start_matches("/surveys/").parse().unwrap()
}

async fn codes(manager: &Browser, survey: i64, count: &str) -> Vec<String> {
    let path = format!("/surveys/{survey}");
    let response = manager.submit(&path, &format!("{path}/codes"), &[("count", count)]).await;
    assert_eq!(response.status(), StatusCode::OK);
    Page::from(response).await.texts("ul.codes code")
}

const ANSWERS: [(&str, &str); 5] = [
    ("gender", "woman"),
    ("satisfaction", "5"),
    ("competence", "4"),
    ("respect", "5"),
    ("knows_where_to_complain", "yes"),
];

async fn answer_on_the_tablet(tablet: &Browser, code: &str) -> reqwest::Response {
    let questions = tablet.submit("/survey", "/survey", &[("code", code)]).await;
    if questions.status() != StatusCode::OK {
        return questions;
    }
    let page = Page::from(questions).await;
    let mut fields = vec![("csrf_token", page.csrf_token()), ("code", code.to_string())];
    fields.extend(ANSWERS.iter().map(|(k, v)| (*k, v.to_string())));
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    tablet.post_raw("/survey/answer", &borrowed).await
}

async fn answers(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM survey_answers")
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_one_time_code_gives_one_answer_that_names_no_one(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    // Staff do not set up surveys.
    let refused = staff
        .submit("/surveys", "/surveys", &[("unit_id", &unit.to_string()), ("year", "2026")])
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let id = survey(&manager, unit).await;
    let made = codes(&manager, id, "3").await;
    assert_eq!(made.len(), 3);
    // Only their hashes are kept.
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT code_hash FROM survey_codes")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 3);
    assert!(stored.iter().all(|h| h.len() == 32 && !made.iter().any(|c| c.as_bytes() == &h[..])));

    // On the tablet, with no one signed in.
    let tablet = app.browser();
    assert_eq!(tablet.get("/survey").await.status(), StatusCode::OK);
    let wrong = tablet.submit("/survey", "/survey", &[("code", "abcd-efgh-ijkl")]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(wrong).await.error("Kod").contains("gäller inte"));
    let done = answer_on_the_tablet(&tablet, &made[0]).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(Page::from(done).await.text("main").contains("Tack för ditt svar"));
    assert_eq!(answers(&db).await, 1);
    // The code is spent: used again (typed loosely), it is refused.
    let again = answer_on_the_tablet(&tablet, &made[0].to_uppercase().replace('-', " ")).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answers(&db).await, 1);
    // The answer form sent twice at once with a fresh code: one answer.
    let questions = Page::from(tablet.submit("/survey", "/survey", &[("code", &made[1])]).await).await;
    let token = questions.csrf_token();
    let mut fields = vec![("csrf_token", token.as_str()), ("code", made[1].as_str())];
    fields.extend(ANSWERS);
    let (a, b) = tokio::join!(
        tablet.post_raw("/survey/answer", &fields),
        tablet.post_raw("/survey/answer", &fields)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNPROCESSABLE_ENTITY]);
    // The second press is not told that nothing was saved.
    let second = if a.status() == StatusCode::OK { b } else { a };
    assert!(
        Page::from(second)
            .await
            .error("Kod")
            .contains("Om du nyss skickade ditt svar är det sparat")
    );
    assert_eq!(answers(&db).await, 2);
    // What an answer holds: the survey, the answers and how it came; no one's name, account or time.
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'survey_answers' ORDER BY ordinal_position",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        columns,
        [
            "id",
            "survey_id",
            "gender",
            "satisfaction",
            "competence",
            "respect",
            "knows_where_to_complain",
            "entered"
        ]
    );
    let entered: Vec<String> = sqlx::query_scalar("SELECT entered FROM survey_answers")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(entered, ["tablet", "tablet"]);
    // A used code leaves no mark: it is gone.
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM survey_codes")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 1);

    // Last year's codes do not reach back into last year's survey.
    let last_year = manager
        .submit("/surveys", "/surveys", &[("unit_id", &unit.to_string()), ("year", "2025")])
        .await;
    let last_year: i64 = common::location(&last_year).trim_start_matches("/surveys/").parse().unwrap();
    let old = codes(&manager, last_year, "1").await;
    assert_eq!(
        answer_on_the_tablet(&tablet, &old[0]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // A tablet left signed in is not handed over: the survey asks for a sign-out first.
    let page = staff.get_page("/survey").await;
    assert!(page.text("main").contains("Logga ut först"));
    assert_eq!(page.count("form[action='/survey']"), 0);
}

#[sqlx::test]
async fn results_show_women_and_men_against_the_targets_and_hide_small_groups(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let (manager, _) = app.signed_in_at(Role::Manager, unit).await;
    let id = survey(&manager, unit).await;
    let path = format!("/surveys/{id}");
    let paper = |gender: &'static str, satisfaction: &'static str, knows: &'static str| {
        let (manager, path) = (&manager, path.clone());
        async move {
            manager
                .submit(
                    &path,
                    &format!("{path}/answers"),
                    &[
                        ("gender", gender),
                        ("satisfaction", satisfaction),
                        ("competence", "5"),
                        ("knows_where_to_complain", knows),
                    ],
                )
                .await
        }
    };
    // "Jag är" is the one answer that is required.
    let missing = manager.submit(&path, &format!("{path}/answers"), &[("satisfaction", "5")]).await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!Page::from(missing).await.error("Jag är").is_empty());
    // Five women: 100, 100, 75, 75, 100 → 90, four of five know where to complain (80 %).
    for (s, k) in [("5", "yes"), ("5", "yes"), ("4", "yes"), ("4", "no"), ("5", "yes")] {
        assert_eq!(paper("woman", s, k).await.status(), StatusCode::SEE_OTHER);
    }
    // Four men: too few to show, and "Alla" would give them away.
    for _ in 0..4 {
        paper("man", "2", "no").await;
    }
    let row = |rows: Vec<String>, start: &str| rows.into_iter().find(|r| r.starts_with(start)).unwrap();
    let page = manager.get_page(&path).await;
    assert_eq!(
        row(page.texts("tbody tr"), "Nöjdhetsindex"),
        "Nöjdhetsindex90För få svar–..över 80kvinnor: når målet; män: för få svar"
    );
    let complaints = row(page.texts("tbody tr"), "Vet vart");
    assert!(complaints.contains("80För få svar–..minst 70 %kvinnor: når målet"), "{complaints}");
    // One who did not say: five hidden together, so "Alla" shows (their mean together is no one's).
    paper("other_or_unstated", "1", "no").await;
    assert_eq!(
        row(manager.get_page(&path).await.texts("tbody tr"), "Nöjdhetsindex"),
        "Nöjdhetsindex90För få svarFör få svar55över 80kvinnor: når målet; män: för få svar"
    );
    // A fifth man: men are shown, under the target; the one alone would be given away by "Alla".
    paper("man", "3", "no").await;
    assert_eq!(
        row(manager.get_page(&path).await.texts("tbody tr"), "Nöjdhetsindex"),
        "Nöjdhetsindex9030För få svar..över 80kvinnor: når målet; män: under målet"
    );
}
