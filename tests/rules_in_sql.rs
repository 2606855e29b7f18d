//! Where SQL repeats a rule of `src/domain/` (a trigger, a generated column,
//! the check-in statement), it must say the same as the Rust on every
//! boundary: the age band 18–35, a unit's opening days, "on time".

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use lotsen::domain::ages::{age_on, is_young_adult};
use lotsen::domain::calendar::{self, Exception};
use lotsen::domain::plans::held_on_time;
use sqlx::PgPool;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// Birth dates around the 18th and 36th birthdays of each day in `days`, and
/// people born on 29 February.
fn boundary_cases() -> Vec<(NaiveDate, NaiveDate)> {
    let days = [
        d(2026, 3, 2),
        d(2026, 2, 28),
        d(2026, 3, 1),
        d(2028, 2, 29),
        d(2026, 12, 31),
        d(2027, 1, 1),
    ];
    let mut cases = Vec::new();
    for on in days {
        for years in [18, 36] {
            let birthday = on.with_year(on.year() - years).unwrap_or_else(|| d(on.year() - years, 2, 28));
            for shift in -1..=1 {
                cases.push((birthday + Duration::days(shift), on));
            }
        }
        for leap_born in [d(2008, 2, 29), d(1992, 2, 29), d(1990, 2, 28), d(2010, 3, 1)] {
            cases.push((leap_born, on));
        }
    }
    cases
}

#[sqlx::test]
async fn young_adult_in_sql_is_the_rust_rule(db: PgPool) {
    let cases = boundary_cases();
    let (births, days): (Vec<NaiveDate>, Vec<NaiveDate>) = cases.iter().copied().unzip();
    let rows: Vec<(NaiveDate, NaiveDate, bool, i32)> = sqlx::query_as(
        "SELECT b, o, young_adult(b, o), extract(year FROM age(o, b))::int
         FROM unnest($1::date[], $2::date[]) AS c(b, o)",
    )
    .bind(&births)
    .bind(&days)
    .fetch_all(&db)
    .await
    .unwrap();
    assert_eq!(rows.len(), cases.len());
    let mut inside = 0;
    for (birth, on, young_in_sql, age_in_sql) in rows {
        assert_eq!(age_in_sql, age_on(birth, on), "age of someone born {birth} on {on}");
        assert_eq!(young_in_sql, is_young_adult(birth, on), "born {birth}, on {on}");
        inside += usize::from(young_in_sql);
    }
    // The cases fall on both sides of both edges.
    assert!(inside > 0 && inside < cases.len());
}

#[sqlx::test]
async fn the_yngre_lotsen_triggers_keep_the_rust_rule(db: PgPool) {
    let app = common::TestApp::spawn(db.clone()).await;
    let unit = common::create_unit(&db, "Enheten").await;
    let (_, user) = app.signed_in_at(lotsen::auth::Role::Staff, unit).await;
    let on = d(2026, 3, 2);
    // An activity at 14:00 Stockholm time on `on`.
    let activity: i64 = sqlx::query_scalar(
        "INSERT INTO group_activities (unit_id, kind, title, starts_at, ends_at, created_by, created_at)
         VALUES ($1, 'young_adults', 'Yngre Lotsen', ($2::date + time '14:00') AT TIME ZONE 'Europe/Stockholm',
                 ($2::date + time '16:00') AT TIME ZONE 'Europe/Stockholm', $3, now()) RETURNING id",
    )
    .bind(unit)
    .bind(on)
    .bind(user)
    .fetch_one(&db)
    .await
    .unwrap();
    for (birth, _) in boundary_cases().into_iter().filter(|(_, day)| *day == on) {
        let participant = common::Person::at(unit).born(&birth.to_string()).insert(&db).await;
        let added = sqlx::query(
            "INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) VALUES ($1, $2, $3, now())",
        )
        .bind(activity)
        .bind(participant)
        .bind(user)
        .execute(&db)
        .await;
        assert_eq!(
            added.is_ok(),
            is_young_adult(birth, on),
            "born {birth}: the trigger and the rule differ"
        );
    }
    // Moving the activity a day earlier leaves someone who turns 18 on `on` outside: refused as the rule says.
    let moved = sqlx::query("UPDATE group_activities SET starts_at = starts_at - interval '1 day' WHERE id = $1")
        .bind(activity)
        .execute(&db)
        .await;
    let anyone_outside = boundary_cases()
        .into_iter()
        .filter(|(_, day)| *day == on)
        .any(|(birth, _)| is_young_adult(birth, on) && !is_young_adult(birth, on - Duration::days(1)));
    assert!(anyone_outside, "the cases include someone who turns 18 on the day");
    assert!(moved.is_err(), "the move would leave someone outside 18–35");
}

#[sqlx::test]
async fn unit_open_in_sql_is_the_rust_rule(db: PgPool) {
    // Every day of two years, with no exception and with each kind of exception.
    let mut days = Vec::new();
    let mut codes: Vec<Option<&'static str>> = Vec::new();
    let mut by_default = Vec::new();
    let mut expected = Vec::new();
    let mut day = d(2026, 1, 1);
    while day < d(2028, 1, 1) {
        for exception in std::iter::once(None).chain(Exception::ALL.map(Some)) {
            days.push(day);
            codes.push(exception.map(Exception::code));
            by_default.push(calendar::open_by_default(day));
            expected.push(calendar::is_open(day, exception));
        }
        day += Duration::days(1);
    }
    let in_sql: Vec<bool> =
        sqlx::query_scalar("SELECT unit_open(c, o) FROM unnest($1::text[], $2::bool[]) WITH ORDINALITY AS x(c, o, n) ORDER BY n")
            .bind(&codes)
            .bind(&by_default)
            .fetch_all(&db)
            .await
            .unwrap();
    for (i, open) in in_sql.into_iter().enumerate() {
        assert_eq!(open, expected[i], "{} with exception {:?}", days[i], codes[i]);
    }
    // Each stored code reads back as the exception that wrote it.
    for exception in Exception::ALL {
        assert_eq!(Exception::from_code(exception.code()), exception);
    }
}

#[sqlx::test]
async fn on_time_in_the_schema_is_the_rust_rule(db: PgPool) {
    lotsen::demo::load(&db, common::start_time()).await.unwrap();
    let plan: i64 = sqlx::query_scalar("SELECT min(id) FROM plans").fetch_one(&db).await.unwrap();
    let due = d(2026, 2, 28);
    for held in [due - Duration::days(1), due, due + Duration::days(1)] {
        let on_time: bool = sqlx::query_scalar(
            "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, weekly_hours_before, weekly_hours_after,
                                     next_due_on, recorded_by, recorded_at, notes)
             SELECT $1, $2, $3, true, 10, 10, $3 + 90, min(id), now(), 'Gick igenom målen.' FROM users RETURNING on_time",
        )
        .bind(plan)
        .bind(due)
        .bind(held)
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(on_time, held_on_time(held, due), "held {held}, due {due}");
    }
}

#[sqlx::test]
async fn a_new_unit_has_domain_md_s_capacity_in_the_app_and_in_the_schema(db: PgPool) {
    use lotsen::domain::plans::{DEFAULT_ESCALATION_DAYS, DEFAULT_FIRST_STEP_HOURS, DEFAULT_TEAM_ISA_PLACES};
    let mut conn = db.acquire().await.unwrap();
    let made = lotsen::units::insert(&mut conn, "Ny enhet", common::start_time()).await.unwrap();
    // A unit made without the app (the schema's defaults) gets the same.
    let bare = common::create_unit(&db, "Utan appen").await;
    for unit in [made, bare] {
        let (hundredths, places, escalation): (i32, i32, i32) =
            sqlx::query_as("SELECT (first_step_hours * 100)::int, team_isa_places, escalation_days FROM units WHERE id = $1")
                .bind(unit)
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(hundredths as u32, DEFAULT_FIRST_STEP_HOURS.hundredths());
        assert_eq!(places as u32, DEFAULT_TEAM_ISA_PLACES);
        assert_eq!(escalation, DEFAULT_ESCALATION_DAYS);
    }
}

/// Stöd vid arbete: the CHECK `employment_supports_within_a_year` (migration
/// 0035) allows exactly the ends `domain::employment::within_a_year` allows,
/// leap days and month ends included.
#[sqlx::test]
async fn the_year_of_stod_vid_arbete_in_sql_is_the_rust_rule(db: PgPool) {
    use lotsen::domain::employment;
    let starts = [d(2026, 3, 2), d(2028, 2, 29), d(2026, 1, 31), d(2026, 12, 31), d(2027, 2, 28)];
    let mut cases = Vec::new();
    for start in starts {
        let last = employment::support_last_day(start);
        for end in [
            start,
            start + chrono::Days::new(1),
            last - chrono::Days::new(1),
            last,
            last + chrono::Days::new(1),
        ] {
            cases.push((start, end));
        }
    }
    // The table's own CHECK, on a copy of it without its foreign keys.
    let mut conn = db.acquire().await.unwrap();
    sqlx::query("CREATE TEMP TABLE supports (LIKE employment_supports INCLUDING CONSTRAINTS INCLUDING DEFAULTS)")
        .execute(&mut *conn)
        .await
        .unwrap();
    for (start, end) in cases {
        let stored = sqlx::query(
            "INSERT INTO supports (id, participant_id, plan_id, employment_start_on, ends_on, recorded_by, recorded_at)
             VALUES (1, 1, 1, $1, $2, 1, now())",
        )
        .bind(start)
        .bind(end)
        .execute(&mut *conn)
        .await;
        assert_eq!(
            stored.is_ok(),
            employment::within_a_year(start, end),
            "support from {start} to {end}"
        );
    }
}
