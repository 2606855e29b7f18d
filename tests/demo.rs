//! The demo data obeys every rule of DOMAIN.md on every day of its three
//! years, and fills the reports (issue 16, point 7): capacity never over 105
//! hours or 6 places, Team ISA only for 18–35, nobody past two years, one
//! active plan per programme, a kontaktman for every plan, follow-ups mostly
//! on time, outcomes of every kind, and indicators that show numbers.

mod common;

use chrono::{Datelike, Duration, NaiveDate};
use lotsen::domain::plans::{Period, TwoYearCheck, check_two_years, team_isa_age_allowed};
use lotsen::ids::UnitId;
use lotsen::reports::history;
use lotsen::reports::indicators::{self, CellValue, Scope};
use sqlx::PgPool;
use std::collections::HashMap;

#[sqlx::test]
async fn the_demo_keeps_every_rule_on_every_day_and_fills_the_reports(db: PgPool) {
    let now = common::start_time();
    let today = lotsen::clock::Clock::today(&lotsen::clock::ManualClock::new(now));
    lotsen::demo::load(&db, now).await.unwrap();
    let units: Vec<UnitId> = sqlx::query_scalar("SELECT id FROM units ORDER BY id").fetch_all(&db).await.unwrap();
    assert_eq!(units.len(), 2);

    // Several hundred people, women and men, over three years.
    let (people, women, men, earliest): (i64, i64, i64, NaiveDate) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE gender = 'woman'), count(*) FILTER (WHERE gender = 'man'), min(first_contact_on)
         FROM participants",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(people >= 300, "{people} people");
    assert!(
        women * 10 >= people * 4 && men * 10 >= people * 4,
        "{women} women, {men} men of {people}"
    );
    assert!(earliest <= today - Duration::days(3 * 365), "history from {earliest}");

    // Capacity on every day, with the plans' hours and the units' capacity of that day.
    for unit in &units {
        let plans = history::plans(&db, &[*unit], None, earliest, today).await.unwrap();
        let capacity = history::capacity(&db, &[*unit]).await.unwrap();
        assert!(plans.len() >= 40, "unit {unit}: {} plans", plans.len());
        let mut day = earliest;
        while day <= today {
            let (hours, places) = history::in_use_on(&plans, day);
            let (hours_cap, places_cap) = capacity.on(day);
            assert!(hours <= hours_cap, "unit {unit} on {day}: {hours} of {hours_cap} hours");
            assert!(places <= places_cap, "unit {unit} on {day}: {places} of {places_cap} places");
            day += Duration::days(1);
        }
    }

    // Every plan: adults only, Team ISA for 18–35 at the start, a kontaktman
    // on the day it was set, hours within 4–35.
    type PlanRow = (i64, i64, String, NaiveDate, NaiveDate, Option<NaiveDate>, f64, NaiveDate, bool);
    let plans: Vec<PlanRow> = sqlx::query_as(
        "SELECT pl.id, pl.participant_id, pl.programme, pl.set_on, pl.start_on, pl.ended_on, pl.weekly_hours::float8, p.birth_date,
                EXISTS (SELECT 1 FROM key_worker_assignments k WHERE k.participant_id = pl.participant_id
                        AND k.from_on <= pl.set_on AND (k.to_on IS NULL OR k.to_on >= pl.set_on))
         FROM plans pl JOIN participants p ON p.id = pl.participant_id WHERE pl.status <> 'draft' AND pl.set_on IS NOT NULL",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut of_person: HashMap<i64, Vec<(String, NaiveDate, NaiveDate)>> = HashMap::new();
    for (id, person, programme, set_on, start_on, ended_on, hours, birth, key_worker) in &plans {
        assert!(*key_worker, "plan {id} set without a kontaktman");
        assert!((4.0..=35.0).contains(hours), "plan {id}: {hours} h");
        if programme == "team_isa" {
            assert!(
                team_isa_age_allowed(*birth, *set_on).is_ok(),
                "plan {id}: born {birth}, set {set_on}"
            );
        }
        assert_eq!(start_on, set_on);
        of_person
            .entry(*person)
            .or_default()
            .push((programme.clone(), *set_on, ended_on.unwrap_or(today + Duration::days(1))));
    }
    let adults: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM participants WHERE birth_date + interval '18 years' > (created_at AT TIME ZONE 'Europe/Stockholm')::date",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(adults, 0, "everyone registered is an adult");
    // Two years at most, and one plan at a time per programme.
    let periods: Vec<(i64, NaiveDate, NaiveDate)> = sqlx::query_as(
        "SELECT participant_id, start_on, coalesce(ended_on, planned_end_on) FROM plans WHERE status <> 'draft' AND set_on IS NOT NULL",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let mut periods_of: HashMap<i64, Vec<Period>> = HashMap::new();
    for (person, start, end) in periods {
        periods_of.entry(person).or_default().push(Period { start, end });
    }
    for (person, periods) in &periods_of {
        assert!(
            !matches!(check_two_years(periods), TwoYearCheck::Refused { .. }),
            "person {person} is past two years: {periods:?}"
        );
    }
    for (person, spans) in &of_person {
        for (i, a) in spans.iter().enumerate() {
            for b in &spans[i + 1..] {
                let overlap = a.1 < b.2 && b.1 < a.2;
                assert!(
                    !(a.0 == b.0 && overlap),
                    "person {person} has two {} plans at once: {a:?} {b:?}",
                    a.0
                );
            }
        }
    }

    // Follow-ups mostly on time; outcomes of every kind; boendestöd that changes.
    let (on_time, held): (i64, i64) = sqlx::query_as("SELECT count(*) FILTER (WHERE on_time), count(*) FROM follow_ups")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(held >= 200 && on_time * 100 >= held * 80, "{on_time} of {held} on time");
    let outcomes: Vec<String> = sqlx::query_scalar("SELECT DISTINCT outcome FROM plans WHERE outcome IS NOT NULL")
        .fetch_all(&db)
        .await
        .unwrap();
    for wanted in [
        "employment",
        "studies",
        "internship",
        "reinforced_cooperation",
        "back_to_day_activity",
        "dropped_out",
    ] {
        assert!(outcomes.iter().any(|o| o == wanted), "no plan ended with {wanted}: {outcomes:?}");
    }
    let (less, more): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE e.hours_per_week < p.hours_per_week), count(*) FILTER (WHERE e.hours_per_week > p.hours_per_week)
         FROM home_support_entries e JOIN LATERAL (
             SELECT coalesce(hours_per_week, 0) AS hours_per_week FROM home_support_entries x
             WHERE x.participant_id = e.participant_id AND x.valid_from < e.valid_from ORDER BY x.valid_from DESC LIMIT 1) p ON true",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(less >= 10 && more >= 3, "boendestöd less {less}, more {more}");
    // Today: the first unit's Team ISA is full and someone waits.
    let (places, waiting): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM plans WHERE unit_id = $1 AND programme = 'team_isa' AND status = 'active'),
                (SELECT count(*) FROM queue_entries WHERE unit_id = $1 AND closed_on IS NULL)",
    )
    .bind(units[0])
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!((places, waiting.min(2)), (6, 2));

    // Last year's indicators for both units show numbers, and at least 20 got work.
    let year = today.year() - 1;
    let scope = Scope {
        units: units.clone(),
        from: NaiveDate::from_ymd_opt(year, 1, 1).unwrap(),
        to: NaiveDate::from_ymd_opt(year, 12, 31).unwrap(),
        today,
    };
    let facts = indicators::load(&db, &scope).await.unwrap();
    let sections = indicators::compute(&scope, &facts);
    let employed = sections.iter().find_map(|s| s.get("employment")).unwrap();
    match &employed.measure {
        indicators::Measure::Count(c) => assert!(c.split.total() >= 20, "{} got work in {year}", c.split.total()),
        other => panic!("{other:?}"),
    }
    let totals: Vec<(String, CellValue)> = sections
        .iter()
        .flat_map(|s| s.indicators.iter())
        .map(|i| (i.key.to_string(), i.measure.cells()[3].clone()))
        .collect();
    let numbers = totals.iter().filter(|(_, c)| matches!(c, CellValue::Number(_))).count();
    assert!(
        numbers * 10 >= totals.len() * 9,
        "{numbers} of {} totals are numbers: {totals:?}",
        totals.len()
    );
}
