//! The visit summaries (migration 0007) that the statistics and indicators
//! read instead of the visits: kept by a trigger, equal to a recount after
//! every kind of change to the visits.

mod common;

use common::attendance::visit;

use common::Person;
use lotsen::auth::Role;
use sqlx::PgPool;

/// What the visits' trigger keeps, against the same read from the visits.
async fn summaries_and_recount(db: &PgPool) -> [Vec<String>; 2] {
    let read = |sql: &'static str| async move { sqlx::query_scalar::<_, String>(sql).fetch_all(db).await.unwrap() };
    let kept = read(
        "SELECT format('%s %s %s: %s', unit_id, visit_on, shard, visits) FROM visit_day_counts WHERE visits > 0
         UNION ALL
         SELECT format('%s %s: %s', participant_id, year, days) FROM visit_days
         UNION ALL
         SELECT format('cell %s %s %s %s %s: %s', unit_id, visit_on, gender, young, shard, visits) FROM visit_cells WHERE visits > 0
         ORDER BY 1",
    )
    .await;
    let recounted = read(
        "SELECT format('%s %s %s: %s', unit_id, visit_on, participant_id % 8, count(*)) FROM visits
         WHERE cancelled_at IS NULL GROUP BY unit_id, visit_on, participant_id % 8
         UNION ALL
         SELECT format('%s %s: %s', participant_id, extract(year FROM visit_on),
                       bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM visit_on)::integer - 1, 1)))
         FROM visits WHERE cancelled_at IS NULL GROUP BY participant_id, extract(year FROM visit_on)
         UNION ALL
         SELECT format('cell %s %s %s %s %s: %s', v.unit_id, v.visit_on, p.gender,
                       extract(year FROM age(v.visit_on, p.birth_date)) <= 35, v.participant_id % 8, count(*))
         FROM visits v JOIN participants p ON p.id = v.participant_id
         WHERE v.cancelled_at IS NULL
         GROUP BY v.unit_id, v.visit_on, p.gender, extract(year FROM age(v.visit_on, p.birth_date)) <= 35, v.participant_id % 8
         ORDER BY 1",
    )
    .await;
    [kept, recounted]
}

#[sqlx::test(migrations = "./migrations")]
async fn the_visit_summaries_always_equal_a_recount_of_the_visits(db: PgPool) {
    let a = common::create_unit(&db, "Lotsen Centrum").await;
    let b = common::create_unit(&db, "Lotsen Väst").await;
    common::create_user(&db, "reception@lotsen.example", Role::Staff, "lösenord-för-test-1").await;
    let anna = Person::at(a).named("Anna", "Test").insert(&db).await;
    let bo = Person::at(a).named("Bo", "Test").insert(&db).await;
    let cleo = Person::at(b).named("Cleo", "Test").insert(&db).await;
    let run = |sql: &'static str, ids: Vec<i64>| {
        let db = db.clone();
        async move {
            let mut query = sqlx::query(sql);
            for id in ids {
                query = query.bind(id);
            }
            query.execute(&db).await.unwrap();
        }
    };
    let same = |step: &'static str| {
        let db = db.clone();
        async move {
            let [kept, recounted] = summaries_and_recount(&db).await;
            assert!(!recounted.is_empty() || step == "all removed", "{step}: the fixture has visits");
            assert_eq!(kept, recounted, "after {step}");
        }
    };
    // Check-ins, one statement with several rows, on the first and last day of a leap year too.
    for (who, on) in [
        (anna, "2024-01-01"),
        (anna, "2024-12-31"),
        (anna, "2026-02-10"),
        (bo, "2026-02-10"),
        (cleo, "2026-02-10"),
    ] {
        visit(&db, who, on).await;
    }
    same("check-ins").await;
    run(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by)
         SELECT p.id, p.unit_id, d, d + time '09:00', (SELECT min(id) FROM users)
         FROM participants p, (VALUES (date '2026-02-11'), (date '2026-02-12')) AS v(d) WHERE p.id IN ($1, $2)",
        vec![bo, cleo],
    )
    .await;
    same("a statement logging four visits").await;
    // A visit logged already undone counts nowhere.
    run(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, created_by, cancelled_at, cancelled_by)
         SELECT $1, $2, date '2026-03-01', now(), min(id), now(), min(id) FROM users",
        vec![anna, a],
    )
    .await;
    same("a visit logged undone").await;
    run(
        "UPDATE visits SET cancelled_at = now(), cancelled_by = created_by WHERE participant_id = $1 AND visit_on = '2026-02-10'",
        vec![bo],
    )
    .await;
    same("an undo").await;
    visit(&db, bo, "2026-02-10").await;
    same("a new check-in after the undo").await;
    run(
        "UPDATE visits SET visit_on = '2025-06-30' WHERE participant_id = $1 AND visit_on = '2024-12-31'",
        vec![anna],
    )
    .await;
    same("a visit moved to another year").await;
    run(
        "UPDATE visits SET unit_id = $2 WHERE participant_id = $1 AND visit_on = '2026-02-10'",
        vec![anna, b],
    )
    .await;
    same("a visit moved to another unit").await;
    run(
        "UPDATE visits SET participant_id = $2 WHERE participant_id = $1 AND visit_on = '2024-01-01'",
        vec![anna, cleo],
    )
    .await;
    same("a visit moved to another person").await;
    run(
        "DELETE FROM visits WHERE participant_id = $1 AND visit_on = '2026-02-12'",
        vec![cleo],
    )
    .await;
    same("a visit removed").await;
    // A corrected gender, and a corrected birth date that moves visits across 35.
    run("UPDATE participants SET gender = 'man' WHERE id = $1", vec![cleo]).await;
    same("a gender corrected").await;
    run(
        "UPDATE participants SET birth_date = '1990-06-01', updated_at = now() WHERE id = $1",
        vec![anna],
    )
    .await;
    same("a birth date corrected").await;
    run("DELETE FROM visits", vec![]).await;
    same("all removed").await;
    assert_eq!(
        sqlx::query_scalar::<_, i64>("SELECT count(*) FROM visit_days")
            .fetch_one(&db)
            .await
            .unwrap(),
        0,
        "a year with no visit left has no row"
    );
}
