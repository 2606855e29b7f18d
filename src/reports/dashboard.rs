//! Översikt: the centre at a glance for a manager in the morning. Capacity
//! in use per unit, what frees up in the coming weeks, the queue, due
//! follow-ups and renewals by kontaktman, people near the two-year limit,
//! visitors today and this month, and two small charts.

use super::ReportQuery;
use crate::attendance::statistics::{Bar, bars_chart};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::plans::{Capacity, Programme, WeeklyHours};
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UnitId};
use crate::plans::capacity::UnitUsage;
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::format::hours;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, Duration, Months, NaiveDate};

/// How far ahead the page looks for places freeing up.
pub const FREEING_WEEKS: i64 = 8;
/// Weeks of history in the charts.
pub const CHART_WEEKS: i64 = 12;

/// A unit's capacity and what active plans use of it, as the overview shows
/// it: read by `plans::capacity`, the same reading that decides whether a
/// plan gets a place, in hundredths of an hour.
#[derive(Clone, Debug, PartialEq)]
pub struct UnitCapacity {
    pub id: UnitId,
    pub name: String,
    pub hours_capacity: WeeklyHours,
    pub hours_in_use: WeeklyHours,
    pub first_step_people: u32,
    pub places: u32,
    pub places_in_use: u32,
}

impl From<UnitUsage> for UnitCapacity {
    fn from(u: UnitUsage) -> Self {
        let limit = |c: Capacity| match c {
            Capacity::Hours(h) => (h, 0),
            Capacity::Places(p) => (WeeklyHours::from_hundredths(0), p),
        };
        UnitCapacity {
            id: u.unit_id,
            name: u.name,
            hours_capacity: limit(u.first_step.capacity).0,
            hours_in_use: u.first_step.in_use.hours,
            first_step_people: u.first_step.in_use.places,
            places: limit(u.team_isa.capacity).1,
            places_in_use: u.team_isa.in_use.places,
        }
    }
}

impl UnitCapacity {
    pub fn hours_free(&self) -> WeeklyHours {
        WeeklyHours::from_hundredths(self.hours_capacity.hundredths().saturating_sub(self.hours_in_use.hundredths()))
    }
    pub fn places_free(&self) -> u32 {
        self.places.saturating_sub(self.places_in_use)
    }
    /// Share of the hours in use, in whole percent (0 when there is no capacity).
    pub fn hours_percent(&self) -> u32 {
        let (used, limit) = (self.hours_in_use.hundredths(), self.hours_capacity.hundredths());
        if limit == 0 { 0 } else { (200 * used + limit) / (2 * limit) }
    }
    pub fn hours_text(&self) -> String {
        hours(Some(self.hours_in_use.as_f64()))
    }
    pub fn capacity_text(&self) -> String {
        hours(Some(self.hours_capacity.as_f64()))
    }
    pub fn free_text(&self) -> String {
        hours(Some(self.hours_free().as_f64()))
    }
}

/// Hours and places that free up in one week (from planned end dates).
#[derive(Clone, Debug, PartialEq)]
pub struct Freeing {
    pub week: String,
    pub hours: f64,
    pub places: i64,
}

impl Freeing {
    pub fn hours_text(&self) -> String {
        hours(Some(self.hours))
    }
}

/// The planned ends in the coming weeks, by ISO week (weeks with nothing left out).
pub fn freeing_by_week(ends: &[(NaiveDate, Programme, f64)]) -> Vec<Freeing> {
    let mut sorted: Vec<&(NaiveDate, Programme, f64)> = ends.iter().collect();
    sorted.sort_by_key(|e| e.0);
    let mut weeks: Vec<Freeing> = Vec::new();
    for (day, programme, weekly) in sorted {
        let week = day.iso_week();
        let label = format!("v. {} ({})", week.week(), monday_of(*day).format("%-d/%-m"));
        if weeks.last().map(|w| &w.week) != Some(&label) {
            weeks.push(Freeing {
                week: label,
                hours: 0.0,
                places: 0,
            });
        }
        if let Some(w) = weeks.last_mut() {
            match programme {
                Programme::FirstStep => w.hours += weekly,
                Programme::TeamIsa => w.places += 1,
            }
        }
    }
    weeks
}

fn monday_of(day: NaiveDate) -> NaiveDate {
    day - Duration::days(day.weekday().num_days_from_monday() as i64)
}

#[derive(Clone, Debug)]
pub struct Waiting {
    pub unit: String,
    pub programme: String,
    pub people: i64,
    pub longest_days: i64,
}

#[derive(Clone, Debug)]
pub struct KeyWorkerDue {
    /// The kontaktman's user id; 0 for plans without one.
    pub key_worker: i64,
    pub name: String,
    pub follow_ups_overdue: i64,
    pub follow_ups_soon: i64,
    pub renewals_overdue: i64,
    pub renewals_soon: i64,
}

impl KeyWorkerDue {
    /// Each count with the address of its list (none for nothing).
    pub fn cells(&self, unit: &str) -> Vec<(i64, Option<String>)> {
        [
            ("follow_ups_overdue", self.follow_ups_overdue),
            ("follow_ups_soon", self.follow_ups_soon),
            ("renewals_overdue", self.renewals_overdue),
            ("renewals_soon", self.renewals_soon),
        ]
        .into_iter()
        .map(|(key, n)| (n, (n > 0).then(|| super::drill::overview_href(unit, key, Some(self.key_worker)))))
        .collect()
    }
}

#[derive(Clone, Debug)]
pub struct NearLimit {
    pub participant_id: ParticipantId,
    pub name: String,
    pub programme: String,
    pub last_day: NaiveDate,
}

#[derive(Template)]
#[template(path = "reports/dashboard.html")]
struct DashboardPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    query: ReportQuery,
    today: NaiveDate,
    capacity: Vec<UnitCapacity>,
    freeing: Vec<Freeing>,
    waiting: Vec<Waiting>,
    due: Vec<KeyWorkerDue>,
    near_limit: Vec<NearLimit>,
    visitors_today: i64,
    drop_ins_today: i64,
    month_visits: i64,
    month_visits_last_year: i64,
    month_label: String,
    visits_chart: String,
    hours_chart: String,
}

impl DashboardPage {
    /// The unit field never has an error here: another unit is refused.
    fn field_error(&self, _field: &str) -> &str {
        ""
    }
}

pub async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    current.require(super::READERS)?;
    let units = crate::attendance::chosen_units(&current, &query.unit).ok_or(AppError::Forbidden)?;
    let today = state.clock.today();
    let db = &state.db;

    let capacity = {
        let mut conn = db.acquire().await?;
        crate::plans::capacity::of_units(&mut conn, &units).await?
    }
    .into_iter()
    .map(UnitCapacity::from)
    .collect();

    let ends = sqlx::query!(
        r#"SELECT planned_end_on, programme, (weekly_hours * 100)::int AS "hundredths!"
           FROM plans WHERE unit_id = ANY($1) AND status = 'active' AND planned_end_on BETWEEN $2 AND $3"#,
        &units as _,
        today,
        today + Duration::weeks(FREEING_WEEKS)
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .filter_map(|r| Programme::parse(&r.programme).map(|p| (r.planned_end_on, p, r.hundredths as f64 / 100.0)))
    .collect::<Vec<_>>();

    let waiting = sqlx::query!(
        r#"SELECT u.name, q.programme AS "programme: Programme", count(*) AS "people!", min(q.queued_on) AS "since!"
           FROM queue_entries q JOIN units u ON u.id = q.unit_id
           WHERE q.unit_id = ANY($1) AND q.closed_on IS NULL
           GROUP BY u.name, q.programme ORDER BY u.name, q.programme"#,
        &units as _
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| Waiting {
        unit: r.name,
        programme: r.programme.label().to_string(),
        people: r.people,
        longest_days: (today - r.since).num_days(),
    })
    .collect();

    let due = sqlx::query!(
        r#"SELECT coalesce(k.user_id, 0) AS "key_worker!", coalesce(u.name, 'Ingen kontaktman') AS "name!",
                  count(*) FILTER (WHERE pl.next_follow_up_on < $2) AS "follow_ups_overdue!",
                  count(*) FILTER (WHERE pl.next_follow_up_on BETWEEN $2 AND $3) AS "follow_ups_soon!",
                  count(*) FILTER (WHERE pl.renewal_due_on < $2) AS "renewals_overdue!",
                  count(*) FILTER (WHERE pl.renewal_due_on BETWEEN $2 AND $3) AS "renewals_soon!"
           FROM plans pl
           LEFT JOIN key_worker_assignments k ON k.participant_id = pl.participant_id AND k.to_on IS NULL
           LEFT JOIN users u ON u.id = k.user_id
           WHERE pl.unit_id = ANY($1) AND pl.status = 'active' AND (pl.next_follow_up_on <= $3 OR pl.renewal_due_on <= $3)
           GROUP BY 1, 2 ORDER BY 3 DESC, 4 DESC, 2, 1"#,
        &units as _,
        today,
        today + Duration::days(crate::domain::plans::DUE_SOON_DAYS)
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| KeyWorkerDue {
        key_worker: r.key_worker,
        name: r.name,
        follow_ups_overdue: r.follow_ups_overdue,
        follow_ups_soon: r.follow_ups_soon,
        renewals_overdue: r.renewals_overdue,
        renewals_soon: r.renewals_soon,
    })
    .collect();

    let near_limit = sqlx::query!(
        r#"SELECT p.id AS "id: ParticipantId", p.first_name || ' ' || p.last_name AS "name!", pl.programme AS "programme: Programme", pl.limit_last_day AS "last_day!"
           FROM plans pl JOIN participants p ON p.id = pl.participant_id
           WHERE pl.unit_id = ANY($1) AND pl.status = 'active' AND pl.limit_last_day <= $2
           ORDER BY pl.limit_last_day, p.id LIMIT 100"#,
        &units as _,
        today.checked_add_months(Months::new(2)).unwrap_or(today)
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| NearLimit {
        participant_id: r.id,
        name: r.name,
        programme: r.programme.label().to_string(),
        last_day: r.last_day,
    })
    .collect();

    // Visits: today, this month so far, and the same days a year earlier,
    // from the daily counts the visits' trigger keeps (migration 0007).
    let month_start = today.with_day(1).unwrap_or(today);
    let last_year = |d: NaiveDate| d.checked_sub_months(Months::new(12)).unwrap_or(d);
    let counts = sqlx::query!(
        r#"SELECT coalesce(sum(visits) FILTER (WHERE visit_on = $2), 0)::bigint AS "today!",
                  coalesce(sum(visits) FILTER (WHERE visit_on BETWEEN $3 AND $2), 0)::bigint AS "month!",
                  coalesce(sum(visits) FILTER (WHERE visit_on BETWEEN $4 AND $5), 0)::bigint AS "last_year!"
           FROM visit_day_counts
           WHERE unit_id = ANY($1) AND (visit_on BETWEEN $3 AND $2 OR visit_on BETWEEN $4 AND $5)"#,
        &units as _,
        today,
        month_start,
        last_year(month_start),
        last_year(today)
    )
    .fetch_one(db)
    .await?;
    let drop_ins_today = sqlx::query_scalar!(
        r#"SELECT coalesce(sum(visitors), 0)::bigint AS "n!" FROM drop_in_visits WHERE unit_id = ANY($1) AND visit_on = $2"#,
        &units as _,
        today
    )
    .fetch_one(db)
    .await?;

    // Charts: visits per week, and förstegsträning hours in use at each week's start.
    let first_monday = monday_of(today) - Duration::weeks(CHART_WEEKS - 1);
    let weekly = sqlx::query!(
        r#"SELECT date_trunc('week', visit_on)::date AS "week!", sum(visits)::bigint AS "visits!"
           FROM visit_day_counts WHERE unit_id = ANY($1) AND visit_on BETWEEN $2 AND $3
           GROUP BY 1"#,
        &units as _,
        first_monday,
        today
    )
    .fetch_all(db)
    .await?;
    let running = super::history::plans(db, &units, Some(Programme::FirstStep), first_monday, today).await?;
    let mondays: Vec<NaiveDate> = (0..CHART_WEEKS).map(|i| first_monday + Duration::weeks(i)).collect();
    let week_label = |d: NaiveDate| format!("v. {}", d.iso_week().week());
    let visit_bars: Vec<Bar> = mondays
        .iter()
        .map(|m| {
            let n = weekly.iter().find(|w| w.week == *m).map(|w| w.visits).unwrap_or(0);
            Bar {
                label: week_label(*m),
                value: n as f64,
                text: n.to_string(),
            }
        })
        .collect();
    let hour_bars: Vec<Bar> = mondays
        .iter()
        .map(|m| {
            // At the end of that week (today for this week).
            let day = (*m + Duration::days(6)).min(today);
            // With each plan's hours as they stood that day.
            let (used, _) = super::history::in_use_on(&running, day);
            Bar {
                label: week_label(*m),
                value: used,
                text: hours(Some(used)),
            }
        })
        .collect();

    let page = DashboardPage {
        layout: Layout::new(&current.ctx, "dashboard"),
        units: crate::participants::unit_choices(db, current.user.id).await?,
        query: query.clone(),
        today,
        capacity,
        freeing: freeing_by_week(&ends),
        waiting,
        due,
        near_limit,
        visitors_today: counts.today,
        drop_ins_today,
        month_visits: counts.month,
        month_visits_last_year: counts.last_year,
        month_label: format!("{} {}", super::MONTHS[today.month0() as usize], today.year()),
        visits_chart: bars_chart("Besök per vecka, senaste 12 veckorna", &visit_bars),
        hours_chart: bars_chart("Förstegsträning: timmar per vecka i bruk, senaste 12 veckorna", &hour_bars),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    #[test]
    fn planned_ends_are_summed_by_week() {
        // Thursday 3 Dec and Friday 4 Dec are week 49; Monday 7 Dec week 50.
        let ends = vec![
            (d(12, 7), Programme::TeamIsa, 10.0),
            (d(12, 3), Programme::FirstStep, 20.0),
            (d(12, 4), Programme::FirstStep, 7.5),
            (d(12, 4), Programme::TeamIsa, 12.0),
        ];
        let weeks = freeing_by_week(&ends);
        assert_eq!(
            weeks,
            vec![
                Freeing {
                    week: "v. 49 (30/11)".into(),
                    hours: 27.5,
                    places: 1
                },
                Freeing {
                    week: "v. 50 (7/12)".into(),
                    hours: 0.0,
                    places: 1
                },
            ]
        );
    }

    #[test]
    fn capacity_figures_at_the_boundaries() {
        let h = |hours: u32| WeeklyHours::from_hundredths(hours * 100);
        let unit = |capacity: u32, used: u32, places: u32, in_use: u32| UnitCapacity {
            id: UnitId(1),
            name: "Centrum".into(),
            hours_capacity: h(capacity),
            hours_in_use: h(used),
            first_step_people: 0,
            places,
            places_in_use: in_use,
        };
        let empty = unit(105, 0, 6, 0);
        assert_eq!((empty.hours_free(), empty.hours_percent(), empty.places_free()), (h(105), 0, 6));
        let full = unit(105, 105, 6, 6);
        assert_eq!((full.hours_free(), full.hours_percent(), full.places_free()), (h(0), 100, 0));
        // A lowered setting with more in use than it allows: nothing free, over 100 %.
        let lowered = unit(70, 105, 4, 6);
        assert_eq!(
            (lowered.hours_free(), lowered.hours_percent(), lowered.places_free()),
            (h(0), 150, 0)
        );
        // Rounded to the nearest whole percent: 52,5 of 105 is 50 %, 0,5 of 105 is 0 %.
        let half = UnitCapacity {
            hours_in_use: WeeklyHours::from_hundredths(5250),
            ..unit(105, 0, 6, 0)
        };
        assert_eq!(half.hours_percent(), 50);
        assert_eq!(unit(105, 1, 6, 0).hours_percent(), 1);
        // No capacity at all.
        assert_eq!(unit(0, 0, 0, 0).hours_percent(), 0);
    }
}
