//! Gallring (issue 18, point 2), run with the clock set forward from 2020 to
//! today (the disposal itself counts the years to the database's own date):
//! the round lists exactly the people whose last entry is more than five
//! years old and who have no active effort; people born on the 5th, 15th or
//! 25th are kept for research; a legal hold keeps a person; someone with a
//! new entry since the list was drawn is left alone; approval deletes the
//! others' personal data and keeps the rows the statistics need, made
//! anonymous; the round keeps date, approver and counts, no names.

mod common;

use common::{TestApp, create_unit, location};
use lotsen::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

async fn register(staff: &common::Browser, unit: i64, overrides: &[(&'static str, &'static str)]) -> i64 {
    let mut fields = vec![("first_contact_on", "2020-02-20")];
    fields.extend_from_slice(overrides);
    let answer = common::participants::register(staff, unit, &fields).await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    location(&answer).trim_start_matches("/participants/").parse().unwrap()
}

async fn end(db: &PgPool, person: i64) {
    sqlx::query("UPDATE participants SET status = 'ended', ended_on = '2020-03-02', end_reason = 'own_choice' WHERE id = $1")
        .bind(person)
        .execute(db)
        .await
        .unwrap();
}

async fn number(db: &PgPool, sql: &'static str, person: i64) -> i64 {
    sqlx::query_scalar::<_, i64>(sql).bind(person).fetch_one(db).await.unwrap()
}

async fn visit(db: &PgPool, person: i64, unit: i64, on: &str) {
    sqlx::query(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by)
         SELECT $1, $2, $3::date, $3::date + time '09:00', min(id) FROM users",
    )
    .bind(person)
    .bind(unit)
    .bind(on)
    .execute(db)
    .await
    .unwrap();
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
    // The records are made in 2020.
    app.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2020, 3, 2, 8, 0, 0).unwrap());
    let unit = create_unit(&db, "Lotsen Centrum").await;
    let (staff, staff_id) = app.signed_in_at(Role::Staff, unit).await;
    let (_, manager_id) = app.signed_in_at(Role::Manager, unit).await;

    // Anna: a journal note, a närstående, a visit, a draft plan with a goal
    // and a follow-up's progress on it; ended.
    let anna = register(&staff, unit, &[]).await;
    let page = staff.get_page(&format!("/participants/{anna}")).await;
    let note = page
        .form_to(&format!("/participants/{anna}/journal"))
        .first_choices()
        .set("note_event_on", "2020-03-01")
        .set("note_body", "Samtal om hur det går.");
    assert_eq!(note.submit(&staff).await.status(), StatusCode::SEE_OTHER);
    sqlx::query(
        "WITH r AS (INSERT INTO relatives (participant_id, kind, name, created_by, created_at)
                    SELECT $1, 'relative', 'Bo Berg', min(id), timestamptz '2020-03-02 10:00+01' FROM users RETURNING *)
         INSERT INTO relative_versions (relative_id, version, kind, name, relation, phone, email, note, changed_by, changed_at)
         SELECT id, 1, kind, name, relation, phone, email, note, created_by, created_at FROM r",
    )
    .bind(anna)
    .execute(&db)
    .await
    .unwrap();
    visit(&db, anna, unit, "2020-03-02").await;
    let plan = common::plans::draft(
        &staff,
        anna,
        "first_step",
        &[("start_on", "2020-03-02"), ("planned_end_on", "2020-12-31")],
    )
    .await;
    common::plans::add_goal(&staff, plan).await;
    sqlx::query(
        "WITH f AS (INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, notes, weekly_hours_before,
                                            weekly_hours_after, next_due_on, recorded_by, recorded_at)
                    SELECT $1, DATE '2020-04-01', DATE '2020-04-01', true, 'Anna berättade om praktiken.', 10, 10,
                           DATE '2020-07-01', min(id), timestamptz '2020-04-01 10:00+02' FROM users RETURNING id)
         INSERT INTO follow_up_progress (follow_up_id, goal_id, progress)
         SELECT f.id, g.id, 'some' FROM f, plan_goals g WHERE g.plan_id = $1",
    )
    .bind(plan)
    .execute(&db)
    .await
    .unwrap();
    end(&db, anna).await;
    // Britt, born on the 15th: kept for research. Cecilia: held. David: a
    // visit in 2023, not due. Eva: still active. Fredrik: comes back later.
    let britt = register(&staff, unit, &person("Britt", "1990-05-15")).await;
    let cecilia = register(&staff, unit, &person("Cecilia", "1991-06-03")).await;
    let david = register(&staff, unit, &person("David", "1992-07-04")).await;
    let eva = register(&staff, unit, &person("Eva", "1993-08-06")).await;
    let fredrik = register(&staff, unit, &person("Fredrik", "1994-09-07")).await;
    for ended in [britt, cecilia, david, fredrik] {
        end(&db, ended).await;
    }
    visit(&db, david, unit, "2023-01-10").await;
    // Anna has a record at another unit too: the statistics count her once.
    let other = create_unit(&db, "Lotsen Norr").await;
    common::add_member(&db, staff_id, other).await;
    let anna_elsewhere = register(&staff, other, &[]).await;
    end(&db, anna_elsewhere).await;
    let people = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT count(DISTINCT person_key(person_link, identity_kind, identity_number, id)) FROM participants WHERE id = ANY($1)",
        )
        .bind(vec![anna, anna_elsewhere])
        .fetch_one(&db)
        .await
        .unwrap()
    };
    assert_eq!(people().await, 1);
    let access_rows = number(&db, "SELECT count(*) FROM access_log WHERE participant_id = $1", anna).await;
    assert!(access_rows > 0);

    // Today, more than six years on.
    app.clock.set(chrono::Utc::now());
    let year = chrono::Datelike::year(&lotsen::clock::Clock::today(&*app.clock));
    let manager = app.sign_in_again(manager_id).await;
    let round = format!("/disposal/{unit}/{year}");
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
            (cecilia, "dispose".into()),
            (fredrik, "dispose".into())
        ],
        "David's last entry (2023) is not five years old; Eva ({eva}) is active"
    );

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

    // The server's role may call the disposal only for someone on the open
    // list to be disposed of: not David (not listed), not Cecilia (held).
    let round_id: i64 = sqlx::query_scalar("SELECT id FROM disposal_rounds").fetch_one(&db).await.unwrap();
    let options = (*db.connect_options()).clone().username("lotsen_app").password("lotsen_app");
    let role = PgPoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
    for not_listed in [david, cecilia] {
        let refused = sqlx::query("SELECT dispose_participant($1, $2)")
            .bind(not_listed)
            .bind(round_id)
            .execute(&role)
            .await;
        let code = refused
            .unwrap_err()
            .as_database_error()
            .and_then(|e| e.code())
            .map(|c| c.to_string());
        assert_eq!(code.as_deref(), Some("23514"), "{not_listed}: refused");
    }
    role.close().await;
    // Fredrik comes back after the list was drawn: a samordnad plan is made
    // with him (a record of issue 19, which the check must see before
    // anything is deleted).
    sqlx::query(
        "WITH j AS (INSERT INTO joint_plans (participant_id, first_agreed_on, created_by, created_at)
                    VALUES ($1, current_date, $2, now()) RETURNING id)
         INSERT INTO joint_plan_versions (joint_plan_id, version, agreed_on, participant_took_part, aim, next_review_on, saved_by, saved_at)
         SELECT id, 1, current_date, true, 'Tillbaka', current_date + 90, $2, now() FROM j",
    )
    .bind(fredrik)
    .bind(staff_id)
    .execute(&db)
    .await
    .unwrap();

    let approved = manager.submit(&round, &format!("{round}/approve"), &[]).await;
    assert_eq!(approved.status(), StatusCode::SEE_OTHER);
    assert!(manager.follow(approved).await.text(".flash").contains("1 har fått nya uppgifter"));
    assert_eq!(
        number(&db, "SELECT count(*) FROM participant_versions WHERE participant_id = $1", fredrik).await,
        1,
        "Fredrik is left as he is"
    );

    // Anna's personal data is gone; the rows the statistics need stay, anonymous.
    let (first, number_kind, disposed): (String, String, Option<chrono::NaiveDate>) =
        sqlx::query_as("SELECT first_name, identity_kind, disposed_on FROM participants WHERE id = $1")
            .bind(anna)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!((first.as_str(), number_kind.as_str()), ("Gallrad", "none"));
    assert_eq!(
        people().await,
        1,
        "still one person in the statistics, with no number left on her disposed record"
    );
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
    let (goal, notes): (String, String) =
        sqlx::query_as("SELECT g.description, f.notes FROM plan_goals g JOIN follow_ups f ON f.plan_id = g.plan_id WHERE g.plan_id = $1")
            .bind(plan)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(
        (goal.as_str(), notes.as_str()),
        ("Gallrad", "Gallrad"),
        "the plan's rows stay, without their words"
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
    // The hold stays with Cecilia: next year's round holds her again, with the reason.
    app.clock.advance(chrono::Duration::days(366));
    let manager = app.sign_in_again(manager_id).await;
    let next = format!("/disposal/{unit}/{}", year + 1);
    assert_eq!(
        manager.submit(&next, &format!("{next}/draw"), &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let again: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT c.participant_id, c.decision, c.hold_reason FROM disposal_candidates c JOIN disposal_rounds r ON r.id = c.round_id
         WHERE r.year = $1 AND c.participant_id = $2",
    )
    .bind(year + 1)
    .bind(cecilia)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(
        again,
        [(cecilia, "hold".to_string(), "Pågående tvist i förvaltningsrätten".to_string())]
    );
    // She is in no list.
    let (newcomer, _) = app.signed_in_at(Role::Staff, unit).await;
    let list = newcomer.get_page("/participants").await.text("main");
    assert!(!list.contains("Gallrad"), "{list}");
}
