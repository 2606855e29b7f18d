//! What was in force on a day (issue 16): a figure for a past date is
//! computed from the plans' hours and workplaces and the units' capacity as
//! they stood that day (`plan_terms`, `unit_capacities`, migration 0018),
//! never from today's rows. A plan runs on a day from the day it was set to
//! the day before it ended; its unit is the one it was made in.

use crate::domain::plans::Programme;
use crate::ids::{EmployerId, PlanId, UnitId};
use chrono::NaiveDate;

/// A value with the days it took effect, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dated<T> {
    steps: Vec<(NaiveDate, T)>,
}

impl<T: Clone> Dated<T> {
    /// From `(from_on, value)` pairs in any order.
    pub fn new(mut steps: Vec<(NaiveDate, T)>) -> Self {
        steps.sort_by_key(|(from, _)| *from);
        Dated { steps }
    }

    /// One value for all time.
    pub fn always(value: T) -> Self {
        Dated {
            steps: vec![(NaiveDate::MIN, value)],
        }
    }

    /// The value in force on `day`: the last one that took effect on or
    /// before it. Before the first, the first: what was recorded when the
    /// history began (a plan set with a date before the day it was saved
    /// ran with the terms it was saved with).
    pub fn on(&self, day: NaiveDate) -> Option<T> {
        let after = self.steps.partition_point(|(from, _)| *from <= day);
        self.steps.get(after.saturating_sub(1)).map(|(_, v)| v.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A set plan of the units, with its terms over time.
#[derive(Clone, Debug)]
pub struct PlanHistory {
    pub id: PlanId,
    pub programme: Programme,
    pub set_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    /// Hours a week (förstegsträning's share of the unit's hours).
    pub hours: Dated<f64>,
    pub employer: Dated<Option<EmployerId>>,
}

impl PlanHistory {
    /// Running at the end of `day`: set by then and not ended by then.
    pub fn running_on(&self, day: NaiveDate) -> bool {
        self.set_on <= day && self.ended_on.is_none_or(|end| end > day)
    }
}

/// What the units' running plans used at the end of `day`: förstegsträning
/// hours a week and Team ISA places.
pub fn in_use_on(plans: &[PlanHistory], day: NaiveDate) -> (f64, i64) {
    let (mut hours, mut places) = (0.0, 0);
    for plan in plans.iter().filter(|p| p.running_on(day)) {
        match plan.programme {
            Programme::FirstStep => hours += plan.hours.on(day).unwrap_or(0.0),
            Programme::TeamIsa => places += 1,
        }
    }
    (hours, places)
}

/// The set plans of `units` that ran some day from `from` to `to` (of one
/// programme when `programme` is given), with their terms: one statement,
/// a row per plan and term (no grouping in the database).
pub async fn plans(
    db: &sqlx::PgPool,
    units: &[UnitId],
    programme: Option<Programme>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<PlanHistory>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id: PlanId", p.programme AS "programme: Programme", p.set_on AS "set_on!", p.ended_on,
                  p.weekly_hours::float8 AS "hours!", p.employer_id AS "employer_id: EmployerId",
                  t.from_on AS "term_from?", t.weekly_hours::float8 AS "term_hours?", t.employer_id AS "term_employer?: EmployerId"
           FROM plans p LEFT JOIN plan_terms t ON t.plan_id = p.id
           WHERE p.unit_id = ANY($1) AND p.status <> 'draft' AND ($2::text IS NULL OR p.programme = $2)
             AND p.set_on <= $4 AND (p.ended_on IS NULL OR p.ended_on >= $3)
           ORDER BY p.id"#,
        units as _,
        programme.map(Programme::code),
        from,
        to
    )
    .fetch_all(db)
    .await?;
    let mut plans: Vec<PlanHistory> = Vec::new();
    let mut terms: Vec<(NaiveDate, f64, Option<EmployerId>)> = Vec::new();
    // Rows come plan by plan: each plan's terms are gathered, then it is finished.
    let finish = |plans: &mut Vec<PlanHistory>, terms: &mut Vec<(NaiveDate, f64, Option<EmployerId>)>| {
        if let Some(plan) = plans.last_mut()
            && !terms.is_empty()
        {
            plan.hours = Dated::new(terms.iter().map(|(on, h, _)| (*on, *h)).collect());
            plan.employer = Dated::new(terms.iter().map(|(on, _, e)| (*on, *e)).collect());
        }
        terms.clear();
    };
    for r in rows {
        if plans.last().is_none_or(|p| p.id != r.id) {
            finish(&mut plans, &mut terms);
            // A plan written before its history was kept (or by a bulk
            // load) has no terms: its present ones stand for all time.
            plans.push(PlanHistory {
                id: r.id,
                programme: r.programme,
                set_on: r.set_on,
                ended_on: r.ended_on,
                hours: Dated::always(r.hours),
                employer: Dated::always(r.employer_id),
            });
        }
        if let (Some(on), Some(hours)) = (r.term_from, r.term_hours) {
            terms.push((on, hours, r.term_employer));
        }
    }
    finish(&mut plans, &mut terms);
    Ok(plans)
}

/// The units' capacity over time: förstegsträning hours a week and Team ISA places.
#[derive(Clone, Debug)]
pub struct Capacity {
    units: Vec<Dated<(f64, i64)>>,
}

impl Capacity {
    /// All the units' capacity together on `day`.
    pub fn on(&self, day: NaiveDate) -> (f64, i64) {
        self.units
            .iter()
            .filter_map(|u| u.on(day))
            .fold((0.0, 0), |(h, p), (uh, up)| (h + uh, p + up))
    }
}

pub async fn capacity(db: &sqlx::PgPool, units: &[UnitId]) -> Result<Capacity, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT u.first_step_hours::float8 AS "hours!", u.team_isa_places::int8 AS "places!",
                  coalesce(array_agg(c.from_on) FILTER (WHERE c.unit_id IS NOT NULL), '{}') AS "from_on!: Vec<NaiveDate>",
                  coalesce(array_agg(c.first_step_hours::float8) FILTER (WHERE c.unit_id IS NOT NULL), '{}') AS "step_hours!: Vec<f64>",
                  coalesce(array_agg(c.team_isa_places::int8) FILTER (WHERE c.unit_id IS NOT NULL), '{}') AS "step_places!: Vec<i64>"
           FROM units u LEFT JOIN unit_capacities c ON c.unit_id = u.id
           WHERE u.id = ANY($1) GROUP BY u.id"#,
        units as _
    )
    .fetch_all(db)
    .await?;
    Ok(Capacity {
        units: rows
            .into_iter()
            .map(|r| {
                if r.from_on.is_empty() {
                    Dated::always((r.hours, r.places))
                } else {
                    Dated::new(r.from_on.into_iter().zip(r.step_hours.into_iter().zip(r.step_places)).collect())
                }
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn a_value_holds_from_its_day_until_the_next() {
        let hours = Dated::new(vec![(d(8, 20), 8.0), (d(3, 1), 10.0)]);
        assert_eq!(hours.on(d(3, 1)), Some(10.0));
        assert_eq!(hours.on(d(8, 19)), Some(10.0));
        assert_eq!(hours.on(d(8, 20)), Some(8.0));
        assert_eq!(hours.on(d(12, 31)), Some(8.0));
        // Before the history began: what it began with.
        assert_eq!(hours.on(d(1, 1)), Some(10.0));
        assert_eq!(Dated::<f64>::default().on(d(1, 1)), None);
    }

    #[test]
    fn a_plan_uses_capacity_from_its_set_day_to_the_day_before_it_ends() {
        let plan = |programme, ended_on| PlanHistory {
            id: PlanId(1),
            programme,
            set_on: d(3, 1),
            ended_on,
            hours: Dated::new(vec![(d(3, 1), 10.0), (d(9, 1), 8.0)]),
            employer: Dated::always(None),
        };
        let plans = [plan(Programme::FirstStep, Some(d(10, 15))), plan(Programme::TeamIsa, None)];
        assert_eq!(in_use_on(&plans, d(2, 28)), (0.0, 0));
        assert_eq!(in_use_on(&plans, d(8, 31)), (10.0, 1));
        assert_eq!(in_use_on(&plans, d(9, 30)), (8.0, 1));
        assert_eq!(in_use_on(&plans, d(10, 15)), (0.0, 1));
    }
}
