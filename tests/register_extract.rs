//! Registerutdrag (issue 18, point 1): the extract holds every row of every
//! kind about the person, and every access-log row; every table with a
//! person's rows is in it or named as left out with why; a manager registers
//! the request (with the identity check), produces the page and the archive
//! (logged and audited), sees the deadline on Att göra, and marks it delivered.

mod common;

use common::{Page, TestApp, location};
use lotsen::privacy::register_extract::{NOT_IN_EXTRACT, SECTIONS};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use std::io::Read;

#[sqlx::test]
async fn every_table_with_a_persons_rows_is_in_the_extract_or_left_out_with_a_reason(db: PgPool) {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT table_name::text FROM information_schema.columns
         WHERE table_schema = 'public'
           AND column_name IN ('participant_id', 'plan_id', 'relative_id', 'follow_up_id', 'goal_id', 'visit_id', 'joint_plan_id', 'support_id')
         ORDER BY 1",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    for table in &tables {
        let covered = SECTIONS.iter().any(|s| s.table == table.as_str()) || NOT_IN_EXTRACT.iter().any(|(t, _)| t == table);
        assert!(
            covered,
            "{table} holds rows about a person: add it to the extract or to NOT_IN_EXTRACT with why"
        );
    }
    assert!(
        NOT_IN_EXTRACT.iter().any(|(t, _)| *t == "drafts"),
        "drafts are left out, as the issue asks"
    );
}

/// How many rows of `table` are about the person, counted the plain way.
async fn rows_about(db: &PgPool, table: &str, person: i64) -> i64 {
    let sql = match table {
        "participants" => "SELECT count(*) FROM participants WHERE id = $1".to_string(),
        "relative_versions" => {
            "SELECT count(*) FROM relative_versions v JOIN relatives r ON r.id = v.relative_id WHERE r.participant_id = $1".to_string()
        }
        "follow_up_progress" => "SELECT count(*) FROM follow_up_progress x JOIN follow_ups f ON f.id = x.follow_up_id
                                   JOIN plans p ON p.id = f.plan_id WHERE p.participant_id = $1"
            .to_string(),
        "employment_support_contacts" => {
            "SELECT count(*) FROM employment_support_contacts c JOIN employment_supports s ON s.id = c.support_id
                                            WHERE s.participant_id = $1"
                .to_string()
        }
        "joint_plan_versions" => "SELECT count(*) FROM joint_plan_versions v JOIN joint_plans j ON j.id = v.joint_plan_id
                                    WHERE j.participant_id = $1"
            .to_string(),
        "audit_log" => "SELECT count(*) FROM audit_log WHERE record_type = 'participant' AND record_id = $1".to_string(),
        t if [
            "plan_versions",
            "plan_terms",
            "plan_goals",
            "plan_activities",
            "follow_ups",
            "capacity_assessments",
            "plan_renewals",
            "training_hours",
            "queue_entries",
        ]
        .contains(&t) =>
        {
            format!("SELECT count(*) FROM {t} x JOIN plans p ON p.id = x.plan_id WHERE p.participant_id = $1")
        }
        t => format!("SELECT count(*) FROM {t} WHERE participant_id = $1"),
    };
    sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
        .bind(person)
        .fetch_one(db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn a_manager_produces_everything_held_about_a_person_and_delivers_it(db: PgPool) {
    let now = common::start_time();
    lotsen::demo::load(&db, now).await.unwrap();
    let app = TestApp::spawn(db.clone()).await;
    // The person with the most kinds of records in the demo.
    let person: i64 = sqlx::query_scalar(
        "SELECT p.id FROM participants p
         ORDER BY (SELECT count(*) FROM journal_notes n WHERE n.participant_id = p.id) > 0
                  AND EXISTS (SELECT 1 FROM plans pl JOIN follow_ups f ON f.plan_id = pl.id WHERE pl.participant_id = p.id)
                  AND EXISTS (SELECT 1 FROM plans pl JOIN capacity_assessments a ON a.plan_id = pl.id WHERE pl.participant_id = p.id)
                  AND EXISTS (SELECT 1 FROM visits v WHERE v.participant_id = p.id) DESC,
                  (SELECT count(*) FROM relatives r WHERE r.participant_id = p.id) DESC, p.id
         LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let manager = app.browser();
    assert_eq!(
        manager.login("chef@lotsen.example", lotsen::demo::DEMO_PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    // Someone read the record before: that read must be in the extract.
    assert_eq!(manager.get(&format!("/participants/{person}")).await.status(), StatusCode::OK);

    // The request: the identity check is required.
    let requests = format!("/participants/{person}/register-extracts");
    let missing = manager
        .submit(&requests, &requests, &[("received_on", "2026-02-27"), ("identity_check", " ")])
        .await;
    assert_eq!(missing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !Page::from(missing)
            .await
            .error("Hur identiteten kontrollerades (t.ex. id-kort visat i receptionen)")
            .is_empty()
    );
    let registered = manager
        .submit(
            &requests,
            &requests,
            &[("received_on", "2026-02-27"), ("identity_check", "Körkort visat i receptionen")],
        )
        .await;
    assert_eq!(registered.status(), StatusCode::SEE_OTHER);
    let request: i64 = sqlx::query_scalar("SELECT id FROM register_extract_requests WHERE participant_id = $1")
        .bind(person)
        .fetch_one(&db)
        .await
        .unwrap();
    let todo = manager.get_page("/todo").await;
    assert!(todo.text("main").contains("lämnas senast 2026-03-27"), "the deadline on Att göra");

    // The printable page.
    let page = manager
        .get_page(&format!("/participants/{person}/register-extracts/{request}"))
        .await;
    assert_eq!(page.count("section.extract-section"), SECTIONS.len());
    assert!(page.text("#atkomstlogg").contains("Maja Enhetschef"));

    // The archive: JSON and one CSV per section.
    let answer = manager
        .get(&format!("/participants/{person}/register-extracts/{request}/archive"))
        .await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "application/zip");
    let bytes = answer.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut json = String::new();
    zip.by_name("registerutdrag.json").unwrap().read_to_string(&mut json).unwrap();
    let json: Value = serde_json::from_str(&json).unwrap();
    for section in SECTIONS {
        assert!(zip.by_name(&format!("{}.csv", section.key)).is_ok(), "{}", section.key);
        let rows = json[section.key]
            .as_array()
            .unwrap_or_else(|| panic!("{} in the JSON", section.key));
        let held = rows_about(&db, section.table, person).await;
        // The access log and the audit log grew while the extract was made
        // (the archive's own read and production): at least what was there.
        if ["access_log", "audit_log"].contains(&section.table) {
            assert!(
                rows.len() as i64 >= held - 2 && held > 0,
                "{}: {} of {held}",
                section.key,
                rows.len()
            );
        } else {
            assert_eq!(rows.len() as i64, held, "{}: every row", section.key);
        }
    }
    let kinds = SECTIONS.iter().filter(|s| !json[s.key].as_array().unwrap().is_empty()).count();
    assert!(kinds >= 12, "the demo person has most kinds of records: {kinds}");
    let first_version = &json["personakt_versioner"][0];
    assert_eq!(first_version["version"], 1);

    // Logged as reads and audited as productions.
    let (reads, produced): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM access_log WHERE participant_id = $1 AND action = 'register_extract'),
                (SELECT count(*) FROM audit_log WHERE action = 'register_extract_produced' AND record_id = $1)",
    )
    .bind(person)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((reads, produced), (2, 2), "the page and the archive");

    // Delivered: off Att göra.
    let delivered = manager
        .submit(
            &requests,
            &format!("{requests}/{request}/delivered"),
            &[("delivered_on", "2026-03-02")],
        )
        .await;
    assert_eq!(delivered.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&delivered), requests);
    assert!(!manager.get_page("/todo").await.text("main").contains("lämnas senast 2026-03-27"));

    // Staff do not handle registerutdrag.
    let (staff, _) = app.signed_in(lotsen::auth::Role::Staff).await;
    let unit: i64 = sqlx::query_scalar("SELECT unit_id FROM participants WHERE id = $1")
        .bind(person)
        .fetch_one(&db)
        .await
        .unwrap();
    common::add_member(
        &db,
        sqlx::query_scalar("SELECT max(id) FROM users").fetch_one(&db).await.unwrap(),
        unit,
    )
    .await;
    assert_eq!(staff.get(&requests).await.status(), StatusCode::FORBIDDEN);
}
