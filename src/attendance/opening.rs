//! The unit's opening calendar: the year's open days against the target of
//! 230, the holidays it is closed on, its own exceptions (closed days, extra
//! weekend and evening openings), and the time kept for Yngre Lotsen.
//! Everyone sees it; managers and admins change it.

use super::store;
use super::{chosen_unit, stockholm, time_of_day};
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::domain::calendar::{self, Exception, TARGET_OPEN_DAYS};
use crate::error::{AppError, AppResult};
use crate::ids::{UnitId, YoungAdultPeriodId};
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date};
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/calendar", get(page))
        .route("/calendar/exceptions", post(add_exception))
        .route("/calendar/exceptions/remove", post(remove_exception))
        .route("/calendar/young-adults", post(add_young_adult_period))
        .route("/calendar/young-adults/remove", post(remove_young_adult_period))
}

const EDITORS: &[Role] = &[Role::Manager, Role::Admin];

pub struct ExceptionRow {
    pub day: NaiveDate,
    pub kind: String,
    pub note: String,
}

impl ExceptionRow {
    pub fn kind_label(&self) -> &'static str {
        match self.kind.as_str() {
            "closed" => "Stängt",
            "evening" => "Kvällsöppet",
            _ => "Extra öppet",
        }
    }
}

pub struct PeriodRow {
    pub id: YoungAdultPeriodId,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: String,
}

impl PeriodRow {
    pub fn when(&self) -> String {
        crate::web::format::time_span(self.starts_at, self.ends_at)
    }
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CalendarForm {
    pub unit_id: String,
    pub year: String,
    pub day: String,
    pub kind: String,
    pub note: String,
    pub period_day: String,
    pub period_from: String,
    pub period_to: String,
    pub period_note: String,
    pub period_id: String,
}

#[derive(Template)]
#[template(path = "attendance/calendar.html")]
struct CalendarPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    unit_id: UnitId,
    year: i32,
    open_days: u32,
    target: u32,
    holidays: Vec<calendar::Holiday>,
    exceptions: Vec<ExceptionRow>,
    periods: Vec<PeriodRow>,
    may_edit: bool,
    form: CalendarForm,
    form_in_error: &'static str,
    errors: FieldErrors,
}

impl CalendarPage {
    fn error(&self, form: &str, field: &str) -> &str {
        if self.form_in_error == form { self.errors.get(field) } else { "" }
    }
    fn weekday_holiday(&self, h: &calendar::Holiday) -> bool {
        h.date.weekday().num_days_from_monday() < 5
    }
}

async fn render(
    state: &AppState,
    current: &CurrentUser,
    unit_id: UnitId,
    year: i32,
    form: CalendarForm,
    form_in_error: &'static str,
    errors: FieldErrors,
) -> AppResult<Response> {
    let exceptions = sqlx::query_as!(
        ExceptionRow,
        "SELECT day, kind, note FROM opening_exceptions WHERE unit_id = $1 AND day >= $2 AND day <= $3 ORDER BY day",
        unit_id as _,
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31)
    )
    .fetch_all(&state.db)
    .await?;
    let as_rules: Vec<(NaiveDate, Exception)> = exceptions.iter().map(|e| (e.day, super::exception_of(&e.kind))).collect();
    let periods = sqlx::query_as!(
        PeriodRow,
        "SELECT id, starts_at, ends_at, note FROM young_adult_periods WHERE unit_id = $1 AND ends_at >= $2 ORDER BY starts_at LIMIT 100",
        unit_id as _,
        state.clock.now() - chrono::Duration::days(7)
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = CalendarPage {
        layout: Layout::new(&current.ctx, "calendar"),
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        unit_id,
        year,
        open_days: calendar::open_days(year, &as_rules),
        target: TARGET_OPEN_DAYS,
        holidays: calendar::holidays(year),
        exceptions,
        periods,
        may_edit: EDITORS.contains(&current.user.role),
        form,
        form_in_error,
        errors,
    };
    crate::web::page(&page, refused)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct CalendarQuery {
    unit: String,
    year: String,
}

async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<CalendarQuery>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &query.unit)?;
    let year = query
        .year
        .parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .unwrap_or(state.clock.today().year());
    let form = CalendarForm {
        unit_id: unit_id.to_string(),
        period_day: state.clock.today().to_string(),
        period_from: "13:00".into(),
        period_to: "16:00".into(),
        ..CalendarForm::default()
    };
    render(&state, &current, unit_id, year, form, "", FieldErrors::default()).await
}

fn back(unit_id: UnitId, year: i32) -> Response {
    Redirect::to(&format!("/calendar?unit={unit_id}&year={year}")).into_response()
}

async fn add_exception(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<CalendarForm>) -> AppResult<Response> {
    current.require(EDITORS)?;
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let mut errors = FieldErrors::default();
    let day = required_date(&form.day).map_err(|m| errors.add("day", m)).ok();
    let kind = Exception::ALL.into_iter().find(|e| e.code() == form.kind);
    if kind.is_none() {
        errors.add("kind", "Välj stängt, extra öppet eller kvällsöppet.");
    }
    let note = optional_text(&form.note, 300).map_err(|m| errors.add("note", m)).ok();
    if let (Some(day), Some(kind)) = (day, kind) {
        match (kind, calendar::open_by_default(day)) {
            (Exception::Closed, false) => errors.add("day", "Enheten har redan stängt den dagen."),
            (Exception::Open { evening: false }, true) => {
                errors.add("day", "Enheten har redan öppet den dagen. Välj kvällsöppet för en kväll.")
            }
            _ => {}
        }
    }
    let year = day.map(|d| d.year()).unwrap_or(state.clock.today().year());
    let (Some(day), Some(kind), Some(note), true) = (day, kind, note, errors.is_empty()) else {
        return render(&state, &current, unit_id, year, form, "exception", errors).await;
    };
    store::set_exception(&state.db, unit_id, day, kind, &note, current.stamp(now)).await?;
    current.flash(&format!("Kalendern är ändrad för {day}."));
    Ok(back(unit_id, year))
}

async fn remove_exception(
    State(state): State<AppState>,
    current: CurrentUser,
    FormData(form): FormData<CalendarForm>,
) -> AppResult<Response> {
    current.require(EDITORS)?;
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let day = required_date(&form.day).map_err(|_| AppError::BadRequest("no day"))?;
    store::remove_exception(&state.db, unit_id, day, current.stamp(now)).await?;
    current.flash(&format!("{day} följer nu den vanliga kalendern."));
    Ok(back(unit_id, day.year()))
}

async fn add_young_adult_period(
    State(state): State<AppState>,
    current: CurrentUser,
    FormData(form): FormData<CalendarForm>,
) -> AppResult<Response> {
    current.require(EDITORS)?;
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let mut errors = FieldErrors::default();
    let day = required_date(&form.period_day).map_err(|m| errors.add("period_day", m)).ok();
    let from = time_of_day(&form.period_from).map_err(|m| errors.add("period_from", m)).ok();
    let to = time_of_day(&form.period_to).map_err(|m| errors.add("period_to", m)).ok();
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        errors.add("period_to", "Sluttiden måste vara efter starttiden.");
    }
    let note = optional_text(&form.period_note, 300).map_err(|m| errors.add("period_note", m)).ok();
    let year = day.map(|d| d.year()).unwrap_or(state.clock.today().year());
    let (Some(day), Some(from), Some(to), Some(note), true) = (day, from, to, note, errors.is_empty()) else {
        return render(&state, &current, unit_id, year, form, "young_adults", errors).await;
    };
    let (Some(starts_at), Some(ends_at)) = (stockholm(day, from), stockholm(day, to)) else {
        errors.add("period_from", "Tiden finns inte den dagen (sommartid).");
        return render(&state, &current, unit_id, year, form, "young_adults", errors).await;
    };
    store::add_young_adult_period(&state.db, unit_id, starts_at, ends_at, &note, current.stamp(now)).await?;
    current.flash("Tiden för Yngre Lotsen är sparad.");
    Ok(back(unit_id, year))
}

async fn remove_young_adult_period(
    State(state): State<AppState>,
    current: CurrentUser,
    FormData(form): FormData<CalendarForm>,
) -> AppResult<Response> {
    current.require(EDITORS)?;
    let now = state.clock.now();
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let id = form
        .period_id
        .parse::<YoungAdultPeriodId>()
        .map_err(|_| AppError::BadRequest("no period"))?;
    store::remove_young_adult_period(&state.db, unit_id, id, current.stamp(now)).await?;
    current.flash("Tiden för Yngre Lotsen är borttagen.");
    Ok(back(unit_id, state.clock.today().year()))
}
