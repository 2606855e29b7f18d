//! Arbetade timmar: the hours a trainee with an active förstegsträning or
//! Team ISA plan actually worked each day, against the plan's hours a week.
//! A week view per person (to fill in) and per unit; a finished week with
//! less than half the planned hours is highlighted for the kontaktman.

use super::chosen_unit;
use super::store;
use crate::access::Authorized;
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::plans::Programme;
use crate::error::{AppError, AppResult};
use crate::ids::{PlanId, UnitId, UserId};
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::Routes;
use crate::web::routes::get;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use serde::Deserialize;
use std::collections::HashMap;

pub fn routes() -> Routes {
    Routes::new()
        .route("/training-hours", get(unit_week))
        .route("/plans/{id}/hours", get(plan_week).post(save_week))
}

/// A finished week is far under plan when less than half the planned hours were worked.
pub fn far_under(worked_hundredths: i64, planned_hundredths: i64) -> bool {
    worked_hundredths * 2 < planned_hundredths
}

/// The Monday of an ISO week written as the week input sends it ("2026-W10"),
/// or of the week `today` is in.
pub fn week_start(value: &str, today: NaiveDate) -> NaiveDate {
    let parsed = value.split_once("-W").and_then(|(y, w)| {
        let year = y.parse::<i32>().ok()?;
        let week = w.parse::<u32>().ok()?;
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon)
    });
    parsed.unwrap_or_else(|| today - Duration::days(i64::from(today.weekday().num_days_from_monday())))
}

pub fn week_code(monday: NaiveDate) -> String {
    let w = monday.iso_week();
    format!("{}-W{:02}", w.year(), w.week())
}

fn hours_text(hundredths: i64) -> String {
    crate::web::format::hours(Some(hundredths as f64 / 100.0))
}

/// The kontaktman's plans whose last finished week (Monday to Sunday before
/// this one) was far under plan: for "Att göra". Returns the week's Monday too.
pub async fn far_under_last_week(
    db: &sqlx::PgPool,
    key_worker: UserId,
    unit_ids: &[UnitId],
    today: NaiveDate,
) -> Result<(NaiveDate, Vec<WeekRow>), sqlx::Error> {
    let monday = week_start("", today) - Duration::days(7);
    let sunday = monday + Duration::days(6);
    let rows = sqlx::query_as!(
        WeekRow,
        r#"SELECT p.id AS plan_id, pa.first_name || ' ' || pa.last_name AS "participant_name!", p.programme,
                  (p.weekly_hours * 100)::int AS "planned!",
                  coalesce((SELECT sum(h.hours * 100) FROM training_hours h WHERE h.plan_id = p.id AND h.worked_on BETWEEN $3 AND $4), 0)::bigint AS "worked!",
                  k.user_id AS "key_worker_id?: UserId"
           FROM key_worker_assignments k
           JOIN plans p ON p.participant_id = k.participant_id AND p.status = 'active' AND p.start_on <= $4
           JOIN participants pa ON pa.id = p.participant_id
           WHERE k.user_id = $1 AND k.to_on IS NULL AND p.unit_id = ANY($2)
           ORDER BY pa.first_name, pa.last_name, p.id"#,
        key_worker as _,
        unit_ids as _,
        monday,
        sunday
    )
    .fetch_all(db)
    .await?;
    let under = rows.into_iter().filter(|r| far_under(r.worked, i64::from(r.planned))).collect();
    Ok((monday, under))
}

pub struct WeekRow {
    pub plan_id: PlanId,
    pub participant_name: String,
    pub programme: String,
    pub planned: i32,
    pub worked: i64,
    pub key_worker_id: Option<UserId>,
}

impl WeekRow {
    pub fn programme_label(&self) -> &'static str {
        Programme::parse(&self.programme).map(Programme::label).unwrap_or("")
    }
    pub fn planned_text(&self) -> String {
        hours_text(i64::from(self.planned))
    }
    pub fn worked_text(&self) -> String {
        hours_text(self.worked)
    }
}

#[derive(Template)]
#[template(path = "attendance/hours_unit.html")]
struct UnitWeekPage {
    layout: Layout,
    unit_id: UnitId,
    week: String,
    monday: NaiveDate,
    finished: bool,
    rows: Vec<WeekRow>,
    me: UserId,
}

impl UnitWeekPage {
    fn flagged(&self, row: &WeekRow) -> bool {
        self.finished && far_under(row.worked, i64::from(row.planned))
    }
    fn sunday(&self) -> NaiveDate {
        self.monday + Duration::days(6)
    }
    fn previous(&self) -> String {
        week_code(self.monday - Duration::days(7))
    }
    fn next(&self) -> String {
        week_code(self.monday + Duration::days(7))
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct WeekQuery {
    unit: String,
    week: String,
}

async fn unit_week(State(state): State<AppState>, current: CurrentUser, Query(query): Query<WeekQuery>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &query.unit)?;
    let today = state.clock.today();
    let monday = week_start(&query.week, today);
    let sunday = monday + Duration::days(6);
    let rows = sqlx::query_as!(
        WeekRow,
        r#"SELECT p.id AS plan_id, pa.first_name || ' ' || pa.last_name AS "participant_name!", p.programme,
                  (p.weekly_hours * 100)::int AS "planned!",
                  coalesce((SELECT sum(h.hours * 100) FROM training_hours h WHERE h.plan_id = p.id AND h.worked_on BETWEEN $2 AND $3), 0)::bigint AS "worked!",
                  k.user_id AS "key_worker_id?: UserId"
           FROM plans p JOIN participants pa ON pa.id = p.participant_id
           LEFT JOIN key_worker_assignments k ON k.participant_id = p.participant_id AND k.to_on IS NULL
           WHERE p.unit_id = $1 AND p.status = 'active' AND p.start_on <= $3
           ORDER BY pa.first_name, pa.last_name, p.id"#,
        unit_id as _,
        monday,
        sunday
    )
    .fetch_all(&state.db)
    .await?;
    let page = UnitWeekPage {
        layout: Layout::new(&current.ctx, "hours"),
        unit_id,
        week: week_code(monday),
        monday,
        finished: sunday < today,
        rows,
        me: current.user.id,
    };
    Ok(Html(page.render()?).into_response())
}

pub struct DayInput {
    pub date: NaiveDate,
    pub name: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "attendance/hours_plan.html")]
struct PlanWeekPage {
    layout: Layout,
    plan_id: PlanId,
    participant_name: String,
    planned: i32,
    week: String,
    monday: NaiveDate,
    days: Vec<DayInput>,
    recent: Vec<(String, i64, bool)>,
    errors: FieldErrors,
}

impl PlanWeekPage {
    fn planned_text(&self) -> String {
        hours_text(i64::from(self.planned))
    }
    fn worked_text(&self, hundredths: &i64) -> String {
        hours_text(*hundredths)
    }
}

const DAY_NAMES: [&str; 7] = ["Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag"];

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct HoursForm {
    pub week: String,
    /// One value per day, Monday first ("" for none).
    pub hours: Vec<String>,
}

async fn render_plan_week(
    state: &AppState,
    current: &CurrentUser,
    plan: &crate::plans::queries::Plan,
    monday: NaiveDate,
    typed: Option<Vec<String>>,
    errors: FieldErrors,
) -> AppResult<Response> {
    let today = state.clock.today();
    let saved = sqlx::query!(
        r#"SELECT worked_on, (hours * 100)::int AS "hundredths!" FROM training_hours WHERE plan_id = $1 AND worked_on BETWEEN $2 AND $3"#,
        plan.id as _,
        monday,
        monday + Duration::days(6)
    )
    .fetch_all(&state.db)
    .await?;
    let saved: HashMap<NaiveDate, i32> = saved.into_iter().map(|r| (r.worked_on, r.hundredths)).collect();
    let days = (0..7)
        .map(|i| {
            let date = monday + Duration::days(i);
            let value = match &typed {
                Some(values) => values.get(i as usize).cloned().unwrap_or_default(),
                None => saved.get(&date).map(|h| hours_text(i64::from(*h))).unwrap_or_default(),
            };
            DayInput {
                date,
                name: DAY_NAMES[i as usize],
                value,
            }
        })
        .collect();
    // The eight weeks before this one, each with its total and whether it was far under.
    let from = monday - Duration::days(56);
    let weekly = sqlx::query!(
        r#"SELECT date_trunc('week', worked_on)::date AS "monday!", sum(hours * 100)::bigint AS "worked!"
           FROM training_hours WHERE plan_id = $1 AND worked_on >= $2 AND worked_on < $3 GROUP BY 1"#,
        plan.id as _,
        from,
        monday
    )
    .fetch_all(&state.db)
    .await?;
    let recent = (1..=8)
        .rev()
        .map(|n| monday - Duration::days(7 * n))
        .filter(|m| *m + Duration::days(6) >= plan.start_on && *m + Duration::days(6) < today)
        .map(|m| {
            let worked = weekly.iter().find(|w| w.monday == m).map(|w| w.worked).unwrap_or(0);
            (week_code(m), worked, far_under(worked, i64::from(plan.weekly_hours)))
        })
        .collect();
    let refused = !errors.is_empty();
    let page = PlanWeekPage {
        layout: Layout::new(&current.ctx, "participants"),
        plan_id: plan.id,
        participant_name: format!("{} {}", plan.first_name, plan.last_name),
        planned: plan.weekly_hours,
        week: week_code(monday),
        monday,
        days,
        recent,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn plan_week(State(state): State<AppState>, auth: Authorized<PlanId>, Query(query): Query<WeekQuery>) -> AppResult<Response> {
    let (current, plan) = (&auth.current, crate::plans::plan_of(&state, &auth).await?);
    let monday = week_start(&query.week, state.clock.today());
    render_plan_week(&state, current, &plan, monday, None, FieldErrors::default()).await
}

/// Hours for one day: empty for none, else more than 0 and at most 12, "4,5" accepted.
pub fn day_hours(value: &str) -> Result<Option<i32>, &'static str> {
    let text = value.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(h) if h > 0.0 && h <= 12.0 && (h * 100.0).fract() == 0.0 => Ok(Some((h * 100.0).round() as i32)),
        Ok(0.0) => Ok(None),
        _ => Err("Skriv timmar som ett tal mellan 0 och 12, t.ex. 4,5."),
    }
}

async fn save_week(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(form): FormData<HoursForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let today = state.clock.today();
    let (current, id) = (&auth.current, auth.id);
    let plan = crate::plans::plan_of(&state, &auth).await?;
    if !plan.is_active() {
        return Err(AppError::Conflict("Timmar registreras bara för en aktiv plan."));
    }
    let monday = week_start(&form.week, today);
    let mut errors = FieldErrors::default();
    let mut values = Vec::new();
    for i in 0..7 {
        let date = monday + Duration::days(i);
        let typed = form.hours.get(i as usize).map(String::as_str).unwrap_or("");
        match day_hours(typed) {
            Ok(Some(_)) if date > today => errors.add("hours", "Timmar kan inte registreras för dagar som inte har varit."),
            Ok(Some(_)) if date < plan.start_on => errors.add("hours", "Planen hade inte börjat den dagen."),
            Ok(h) => values.push((date, h)),
            Err(message) => errors.add("hours", format!("{}: {message}", DAY_NAMES[i as usize])),
        }
    }
    if !errors.is_empty() {
        return render_plan_week(&state, current, &plan, monday, Some(form.hours), errors).await;
    }
    store::save_worked_hours(&state.db, auth.id, &values, current.stamp(now)).await?;
    current.flash("Veckans timmar är sparade.");
    Ok(Redirect::to(&format!("/plans/{id}/hours?week={}", week_code(monday))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_and_hours() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 4).unwrap();
        assert_eq!(week_start("", today), NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        assert_eq!(week_start("2026-W01", today), NaiveDate::from_ymd_opt(2025, 12, 29).unwrap());
        assert_eq!(week_code(NaiveDate::from_ymd_opt(2025, 12, 29).unwrap()), "2026-W01");
        assert_eq!(day_hours("4,5"), Ok(Some(450)));
        assert_eq!(day_hours(""), Ok(None));
        assert!(day_hours("13").is_err());
        assert!(day_hours("-1").is_err());
        assert!(far_under(199, 400));
        assert!(!far_under(200, 400));
    }
}
