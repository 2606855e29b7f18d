//! Uppföljningar: due dates, on time, double submits, and the work-capacity
//! assessment signed by an arbetsterapeut (partners and consent: consent_gate.rs).

mod common;

use common::plans::*;
use common::{Page, Person};
use lotsen::auth::Role;
use lotsen::reports::indicators::{self, Measure};
use reqwest::StatusCode;
use sqlx::PgPool;

#[sqlx::test]
async fn follow_ups_are_due_one_interval_after_the_last_and_on_time_means_by_the_due_date(db: PgPool) {
    let s = setup(&db).await;
    s.travel_to(2025, 11, 30).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(
        &s.staff,
        p,
        "first_step",
        &[("start_on", "2025-11-30"), ("planned_end_on", "2026-11-29")],
    )
    .await;
    activate(&s.staff, plan, "2025-11-30").await;
    // Three months after 30 November is the last day of February.
    assert_eq!(next_due(&db, plan).await, "2026-02-28");
    // Held on the due date: on time; the next counts from the day it was held.
    s.travel_to(2026, 2, 28).await;
    let held = follow_up(&s.staff, plan, &[("held_on", "2026-02-28")]).await;
    assert_eq!(held.status(), StatusCode::SEE_OTHER);
    assert_eq!(next_due(&db, plan).await, "2026-05-28");
    // Held a day late: recorded as late, and the next counts from the late date.
    s.travel_to(2026, 5, 29).await;
    assert_eq!(
        follow_up(&s.staff, plan, &[("held_on", "2026-05-29")]).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(next_due(&db, plan).await, "2026-08-29");
    let on_time: Vec<(String, bool)> = sqlx::query_as("SELECT due_on::text, on_time FROM follow_ups WHERE plan_id = $1 ORDER BY held_on")
        .bind(plan)
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(on_time, vec![("2026-02-28".into(), true), ("2026-05-28".into(), false)]);
    let page = s.staff.get_page(&format!("/plans/{plan}")).await;
    assert_eq!(page.count("#follow-ups tbody tr"), 2);

    // Team ISA: 6 weeks, across a leap day.
    s.travel_to(2028, 2, 1).await;
    let young = young(&db, s.unit, s.staff_id).await;
    let isa = draft(
        &s.staff,
        young,
        "team_isa",
        &[("start_on", "2028-02-01"), ("planned_end_on", "2028-12-31")],
    )
    .await;
    activate(&s.staff, isa, "2028-02-01").await;
    assert_eq!(next_due(&db, isa).await, "2028-03-14");
    // A follow-up cannot be dated in the future, nor before the plan was set.
    let future = follow_up(&s.staff, isa, &[("held_on", "2028-02-02")]).await;
    assert_eq!(future.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let before = follow_up(&s.staff, isa, &[("held_on", "2028-01-31")]).await;
    assert_eq!(before.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[sqlx::test]
async fn a_double_submitted_follow_up_is_recorded_once(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    let form = s.staff.get_page(&format!("/plans/{plan}/follow-ups/new")).await;
    let due = form.attr("input[name=due_on]", "value").unwrap();
    let token = form.csrf_token();
    let fields = [
        ("csrf_token", token.as_str()),
        ("due_on", due.as_str()),
        ("held_on", "2026-03-02"),
        ("participant_took_part", "yes"),
        ("weekly_hours", "10"),
        ("notes", "Gick igenom målen."),
    ];
    let path = format!("/plans/{plan}/follow-ups/new");
    let (a, b) = tokio::join!(s.staff.post_raw(&path, &fields), s.staff.post_raw(&path, &fields));
    assert_eq!(a.status(), StatusCode::SEE_OTHER);
    assert_eq!(b.status(), StatusCode::SEE_OTHER);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM follow_ups WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(count, 1);
}

#[sqlx::test]
async fn only_an_arbetsterapeut_signs_a_work_capacity_assessment(db: PgPool) {
    let s = setup(&db).await;
    let (therapist, therapist_id) = s.app.signed_in_at(Role::Staff, s.unit).await;
    sqlx::query("UPDATE users SET job_title = 'Arbetsterapeut' WHERE id = $1")
        .bind(therapist_id)
        .execute(&db)
        .await
        .unwrap();
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    let path = format!("/plans/{plan}");
    let fields = [
        ("assessed_on", "2026-03-02"),
        ("assessment", "Klarar fyra timmar."),
        ("sign_now", "yes"),
    ];
    let refused = s.staff.submit(&path, &format!("/plans/{plan}/assessments"), &fields).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Bedömning").contains("arbetsterapeut"));
    // Staff write it unsigned; the therapist signs.
    let written = s.staff.submit(&path, &format!("/plans/{plan}/assessments"), &fields[..2]).await;
    assert_eq!(written.status(), StatusCode::SEE_OTHER);
    let id: i64 = sqlx::query_scalar("SELECT id FROM capacity_assessments WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    let sign = format!("/plans/{plan}/assessments/{id}/sign");
    assert_eq!(s.staff.submit(&path, &sign, &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(therapist.submit(&path, &sign, &[]).await.status(), StatusCode::SEE_OTHER);
    let signer: Option<i64> = sqlx::query_scalar("SELECT signed_by FROM capacity_assessments WHERE id = $1")
        .bind(id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(signer, Some(therapist_id));
    // The database refuses a signature by anyone else, and any change after signing.
    let other = sqlx::query(
        "INSERT INTO capacity_assessments (plan_id, assessed_on, assessment, written_by, written_at, signed_by, signed_at) VALUES ($1, '2026-03-02', 'x', $2, now(), $2, now())",
    )
    .bind(plan)
    .bind(s.staff_id)
    .execute(&db)
    .await;
    assert!(other.is_err());
    let changed = sqlx::query("UPDATE capacity_assessments SET assessment = 'ändrad' WHERE id = $1")
        .bind(id)
        .execute(&db)
        .await;
    assert!(changed.is_err());
}

#[sqlx::test]
async fn a_record_is_complete_before_it_counts(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    // Setting a plan needs its written summary and a goal: in the app and in the schema.
    let plan = draft(&s.staff, p, "first_step", &[("summary", "")]).await;
    joint_plan_for(&s.staff, plan, "2026-03-02").await;
    let set = |plan: i64| {
        let staff = &s.staff;
        async move {
            staff
                .submit(
                    &format!("/plans/{plan}"),
                    &format!("/plans/{plan}/activate"),
                    &[("set_on", "2026-03-02")],
                )
                .await
        }
    };
    let by_sql = |plan: i64| {
        let db = db.clone();
        async move {
            sqlx::query("UPDATE plans SET status = 'active', set_on = start_on WHERE id = $1")
                .bind(plan)
                .execute(&db)
                .await
                .unwrap_err()
                .as_database_error()
                .and_then(|e| e.constraint().map(String::from))
                .unwrap_or_default()
        }
    };
    let refused = set(plan).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Fastställd datum").contains("sammanfattning"));
    assert_eq!(by_sql(plan).await, "plans_summary_when_set");
    sqlx::query("UPDATE plans SET summary = 'Vill prova att arbeta i caféet.' WHERE id = $1")
        .bind(plan)
        .execute(&db)
        .await
        .unwrap();
    let refused = set(plan).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(refused).await.error("Fastställd datum").contains("minst ett mål"));
    assert_eq!(by_sql(plan).await, "plans_goal_when_set");
    assert_eq!(status_of(&db, plan).await, "draft");
    add_goal(&s.staff, plan).await;
    assert_eq!(set(plan).await.status(), StatusCode::SEE_OTHER);

    // A follow-up needs its summary; the schema refuses an empty one too.
    let refused = follow_up(&s.staff, plan, &[("held_on", "2026-03-02"), ("notes", "  ")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !Page::from(refused)
            .await
            .error("Sammanfattning: vad som gjorts och vad som ändras")
            .is_empty()
    );
    let empty = sqlx::query(
        "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, weekly_hours_before, weekly_hours_after,
                                 next_due_on, recorded_by, recorded_at)
         SELECT $1, '2026-03-02', '2026-03-02', true, 10, 10, '2026-06-02', min(id), now() FROM users",
    )
    .bind(plan)
    .execute(&db)
    .await;
    assert_eq!(
        empty.unwrap_err().as_database_error().and_then(|e| e.constraint()),
        Some("follow_ups_summarised")
    );

    // A renewal says what was reviewed.
    let renew = |fields: &'static [(&'static str, &'static str)]| {
        let staff = &s.staff;
        async move {
            staff
                .submit(&format!("/plans/{plan}"), &format!("/plans/{plan}/renew"), fields)
                .await
        }
    };
    let refused = renew(&[("renewed_on", "2026-03-02")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        Page::from(refused)
            .await
            .error("Vad som gicks igenom (mål, insatser, om planen fortsätter)")
            .contains("Fyll i")
    );
    assert_eq!(
        renew(&[("renewed_on", "2026-03-02"), ("renewal_review", "Målen och timmarna; fortsätter.")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let reviewed: String = sqlx::query_scalar("SELECT reviewed FROM plan_renewals WHERE plan_id = $1")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(reviewed, "Målen och timmarna; fortsätter.");

    // The next renewal posted twice at once: both answered as done, kept once.
    s.travel_to(2026, 3, 5).await;
    let token = s.staff.get_page(&format!("/plans/{plan}")).await.csrf_token();
    let fields = [
        ("csrf_token", token.as_str()),
        ("renewed_on", "2026-03-03"),
        ("renewal_review", "Igen."),
    ];
    let path = format!("/plans/{plan}/renew");
    let (a, b) = tokio::join!(s.staff.post_raw(&path, &fields), s.staff.post_raw(&path, &fields));
    assert_eq!((a.status(), b.status()), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    // And once more after both have finished (Back and send again): done, not refused.
    assert_eq!(s.staff.post_raw(&path, &fields).await.status(), StatusCode::SEE_OTHER);
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM plan_renewals WHERE plan_id = $1 AND renewed_on = '2026-03-03'")
        .bind(plan)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 1);
}

#[sqlx::test]
async fn records_from_before_that_are_incomplete_are_listed_for_managers_and_not_counted(db: PgPool) {
    let s = setup(&db).await;
    let p = Person::at(s.unit).born("1990-01-01").key_worker(Some(s.staff_id)).insert(&db).await;
    let plan = draft(&s.staff, p, "first_step", &[]).await;
    activate(&s.staff, plan, "2026-03-02").await;
    // As a follow-up and a renewal were kept before migration 0012.
    sqlx::query("ALTER TABLE follow_ups DROP CONSTRAINT follow_ups_summarised")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, weekly_hours_before, weekly_hours_after,
                                 next_due_on, recorded_by, recorded_at)
         SELECT $1, '2026-03-02', '2026-03-02', false, 10, 10, '2026-06-02', min(id), now() FROM users",
    )
    .bind(plan)
    .execute(&db)
    .await
    .unwrap();
    sqlx::query("UPDATE plans SET renewed_on = '2026-03-02' WHERE id = $1")
        .bind(plan)
        .execute(&db)
        .await
        .unwrap();

    let (manager, _) = s.app.signed_in_at(Role::Manager, s.unit).await;
    let todo = manager.get_page("/todo").await;
    let listed = todo.text("section[aria-labelledby=incomplete-h]");
    assert!(listed.contains("Uppföljningen 2026-03-02 saknar sammanfattning"), "{listed}");
    assert!(listed.contains("Förnyelsen 2026-03-02 säger inte vad som gicks igenom"), "{listed}");
    // Staff do not get the managers' list.
    assert_eq!(s.staff.get_page("/todo").await.count("#incomplete-h"), 0);

    // The indicators count neither: held on its due date, yet not "i tid".
    let scope = indicators::Scope {
        units: vec![lotsen::ids::UnitId(s.unit)],
        from: "2026-01-01".parse().unwrap(),
        to: "2026-03-31".parse().unwrap(),
        today: "2026-03-31".parse().unwrap(),
    };
    let facts = indicators::load(&db, &scope).await.unwrap();
    let sections = indicators::compute(&scope, &facts);
    let measure = &sections.iter().find_map(|s| s.get("follow_ups_on_time")).unwrap().measure;
    let Measure::Share { part, whole } = measure else {
        panic!("a share: {measure:?}")
    };
    assert_eq!(part.total(), 0, "an empty follow-up is not one held on time");
    assert_eq!(whole.total(), 1);

    // The list can be worked off: the plan page asks for what is missing.
    let page = manager.get_page(&format!("/plans/{plan}")).await;
    let summary = "Genomgång av veckan; timmarna oförändrade.";
    let refused = Page::from(page.form("Komplettera uppföljningen").submit(&manager).await).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text("#complete .error-message").contains("Skriv det som saknas"));
    let form = page.form("Komplettera uppföljningen").fill(
        "Sammanfattning av uppföljningen 2026-03-02: vad som gjorts och vad som ändras",
        summary,
    );
    let again = page.form("Komplettera uppföljningen").fill(
        "Sammanfattning av uppföljningen 2026-03-02: vad som gjorts och vad som ändras",
        summary,
    );
    let other = page.form("Komplettera uppföljningen").fill(
        "Sammanfattning av uppföljningen 2026-03-02: vad som gjorts och vad som ändras",
        "Något annat.",
    );
    assert_eq!(form.submit(&manager).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        again.submit(&manager).await.status(),
        StatusCode::SEE_OTHER,
        "the same text again is done"
    );
    let refused = Page::from(other.submit(&manager).await).await;
    assert!(
        refused.text("#complete .error-message").contains("redan en sammanfattning"),
        "written once"
    );
    let renewal = page
        .form("Komplettera förnyelsen")
        .fill("Vad som gicks igenom vid förnyelsen 2026-03-02", "Målen och timmarna.");
    assert_eq!(renewal.submit(&manager).await.status(), StatusCode::SEE_OTHER);

    let after = manager.get_page(&format!("/plans/{plan}")).await;
    assert_eq!(after.count("#complete"), 0);
    assert!(after.text("#follow-ups").contains("kompletterad i efterhand"));
    assert_eq!(manager.get_page("/todo").await.count("#incomplete-h"), 0);
    let facts = indicators::load(&db, &scope).await.unwrap();
    let sections = indicators::compute(&scope, &facts);
    let measure = &sections.iter().find_map(|s| s.get("follow_ups_on_time")).unwrap().measure;
    let Measure::Share { part, .. } = measure else {
        panic!("a share: {measure:?}")
    };
    assert_eq!(part.total(), 1, "complete now, and held on time");
}
