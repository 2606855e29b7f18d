//! Gallring (issue 18, point 2), run with the clock set six years forward:
//! the round lists exactly the people whose last entry is more than five
//! years old and who have no active effort; people born on the 5th, 15th or
//! 25th are kept for research; a legal hold keeps a person; approval deletes
//! the others' personal data and keeps the rows the statistics need, made
//! anonymous; the round keeps date, approver and counts, no names.

mod common;

use common::{TestApp, create_unit, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

async fn register(app: &TestApp, staff: &common::Browser, unit: i64, overrides: &[(&'static str, &'static str)]) -> i64 {
    let answer = common::participants::register(staff, unit, overrides).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    let _ = app;
    location(&answer).trim_start_matches("/participants/").parse().unwrap()
}

async fn end(db: &PgPool, person: i64) {
    sqlx::query("UPDATE participants SET status = 'ended', ended_on = '2026-03-02', end_reason = 'own_choice' WHERE id = $1")
        .bind(person)
        .execute(db)
        .await
        .unwrap();
}

async fn number(db: &PgPool, sql: &'static str, person: i64) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).bind(person).fetch_one(db).await.unwrap()
}

fn person(name: &'static str, birth: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("first_name", name),
        ("identity_kind", "none"),
        ("identity_number", ""),
        ("birth_date", birth),
    ]
}

#[sqlx::test]
async fn the_round_disposes_of_exactly_the_right_people_and_keeps_the_research_group(db: PgPool) {
    let app = TestApp::spawn(db.clone()).await;
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    let (_, manager_id) = app.signed_in_at(Role::Manager, unit).await;

    // Anna: ended in 2026, a journal note, a närstående, a visit.
    let anna = register(&app, &staff, unit, &[]).await;
    let page = staff.get_page(&format!("/participants/{anna}")).await;
    let note = page
        .form_to(&format!("/participants/{anna}/journal"))
        .first_choices()
        .set("note_event_on", "2026-03-01")
        .set("note_body", "Samtal om hur det går.");
    assert_eq!(note.submit(&staff).await.status(), StatusCode::SEE_OTHER);
    sqlx::query(
        "WITH r AS (INSERT INTO relatives (participant_id, kind, name, created_by, created_at)
                    SELECT $1, 'relative', 'Bo Berg', min(id), now() FROM users RETURNING *)
         INSERT INTO relative_versions (relative_id, version, kind, name, relation, phone, email, note, changed_by, changed_at)
         SELECT id, 1, kind, name, relation, phone, email, note, created_by, created_at FROM r",
    )
    .bind(anna)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by) SELECT $1, $2, '2026-03-02', now(), min(id) FROM users")
        .bind(anna)
        .bind(unit)
        .execute(&db)
        .await
        .unwrap();
    end(&db, anna).await;
    // Britt, born on the 15th: kept for research. Cecilia: held. David: a visit
    // in 2028, not due. Eva: still active.
    let britt = register(&app, &staff, unit, &person("Britt", "1990-05-15")).await;
    let cecilia = register(&app, &staff, unit, &person("Cecilia", "1991-06-03")).await;
    let david = register(&app, &staff, unit, &person("David", "1992-07-04")).await;
    let eva = register(&app, &staff, unit, &person("Eva", "1993-08-06")).await;
    for ended in [britt, cecilia, david] {
        end(&db, ended).await;
    }
    sqlx::query("INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by) SELECT $1, $2, '2028-01-10', now(), min(id) FROM users")
        .bind(david)
        .bind(unit)
        .execute(&db)
        .await
        .unwrap();
    let access_rows = number(&db, "SELECT count(*) FROM access_log WHERE participant_id = $1", anna).await;
    assert!(access_rows > 0);

    // Six years on.
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2032, 3, 1, 8, 0, 0).unwrap());
    let manager = app.sign_in_again(manager_id).await;
    let round = format!("/disposal/{unit}/2032");
    assert!(manager.get_page("/disposal").await.text("main").contains("Inte påbörjad"));
    for _ in 0..2 {
        assert_eq!(
            manager.submit(&round, &format!("{round}/draw"), &[]).await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let listed: Vec<(i64, String)> = sqlx::query_as("SELECT participant_id, decision FROM disposal_candidates ORDER BY participant_id")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(
        listed,
        [
            (anna, "dispose".to_string()),
            (britt, "kept_for_research".into()),
            (cecilia, "dispose".into())
        ],
        "David's last entry is not five years old; Eva is active"
    );
    let _ = eva;

    // A legal hold needs its reason.
    let refused = manager
        .submit(
            &round,
            &format!("{round}/hold"),
            &[("participant", &cecilia.to_string()), ("hold_reason", " ")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let held = manager
        .submit(
            &round,
            &format!("{round}/hold"),
            &[
                ("participant", &cecilia.to_string()),
                ("hold_reason", "Pågående tvist i förvaltningsrätten"),
            ],
        )
        .await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);

    // The server's role may call the disposal, which refuses someone not due.
    let options = (*db.connect_options()).clone().username("lotsen_app").password("lotsen_app");
    let role = PgPoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    let early = sqlx::query("SELECT dispose_participant($1, 5, '2032-03-01')")
        .bind(david)
        .execute(&role)
        .await;
    let code = early.unwrap_err().as_database_error().and_then(|e| e.code()).map(|c| c.to_string());
    assert_eq!(code.as_deref(), Some("23514"), "not due: refused");
    role.close().await;

    let approved = manager.submit(&round, &format!("{round}/approve"), &[]).await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);

    // Anna's personal data is gone; the rows the statistics need stay, anonymous.
    let (first, number_kind, disposed): (String, String, Option<chrono::NaiveDate>) =
        sqlx::query_as("SELECT first_name, identity_kind, disposed_on FROM participants WHERE id = $1")
            .bind(anna)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((first.as_str(), number_kind.as_str()), ("Gallrad", "none"));
    assert!(disposed.is_some());
    for (what, sql) in [
        ("journal", "SELECT count(*) FROM journal_notes WHERE participant_id = $1"),
        ("versions", "SELECT count(*) FROM participant_versions WHERE participant_id = $1"),
        ("närstående", "SELECT count(*) FROM relatives WHERE participant_id = $1"),
    ] {
        assert_eq!(number(&db, sql, anna).await, 0, "{what}");
    }
    assert_eq!(
        number(&db, "SELECT count(*) FROM visits WHERE participant_id = $1", anna).await,
        1,
        "the visit counts on"
    );
    assert_eq!(
        number(&db, "SELECT count(*) FROM access_log WHERE participant_id = $1", anna).await,
        access_rows,
        "who read the record stays in the access log"
    );
    // Britt is kept, untouched, and marked so; Cecilia is held, untouched.
    assert_eq!(
        number(&db, "SELECT count(*) FROM participant_versions WHERE participant_id = $1", britt).await,
        1
    );
    assert_eq!(
        number(
            &db,
            "SELECT count(*) FROM participants WHERE id = $1 AND kept_for_research_on IS NOT NULL",
            britt
        )
        .await,
        1
    );
    assert_eq!(
        number(&db, "SELECT count(*) FROM participant_versions WHERE participant_id = $1", cecilia).await,
        1
    );

    // The round: counts, no names anywhere.
    let counts: (i32, i32, i32) = sqlx::query_as("SELECT disposed, kept_for_research, held FROM disposal_rounds")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(counts, (1, 1, 1));
    assert_eq!(number(&db, "SELECT count(*) FROM disposal_candidates WHERE $1 = $1", 0).await, 0);
    let details: Vec<String> = sqlx::query_scalar("SELECT details FROM audit_log WHERE action LIKE 'disposal%'")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(details.iter().all(|d| !d.contains("Anna") && !d.contains("Berg")), "{details:?}");
    assert!(
        manager
            .get_page(&round)
            .await
            .text("main")
            .contains("1 gallrade, 1 bevarade för forskning, 1 undantagna")
    );
    // She is in no list, and her personakt is gone.
    let list = staff_list(&app, unit).await;
    assert!(!list.contains("Gallrad"), "{list}");
}

/// The participant list as a new staff member of the unit sees it.
async fn staff_list(app: &TestApp, unit: i64) -> String {
    let (staff, _) = app.signed_in_at(Role::Staff, unit).await;
    staff.get_page("/participants").await.text("main")
}
