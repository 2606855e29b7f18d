//! "Dagens besök": the reception check-in. Two or three letters of a name
//! and Enter log the visit when they match one person; otherwise the matches
//! are listed with a button each. Names and numbers travel by POST only.
//! One visit per person and day (a partial unique index that ignores
//! cancelled visits); undoing a check-in marks it cancelled and audits it.

use super::{chosen_unit, closed_because, exception_on, is_young_adult};
use crate::audit;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::participants::access::{self, Action};
use crate::participants::model::Gender;
use crate::state::AppState;
use crate::web::context::Layout;
use crate::web::form::{FormData, optional_date};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/visits", get(page).post(check_in))
        .route("/visits/search", post(search))
        .route("/visits/{id}/cancel", post(cancel))
        .route("/visits/{id}/check-out", post(check_out))
        .route("/visits/drop-in", post(drop_in))
}

/// How many matches the search shows.
const MAX_HITS: i64 = 12;

pub struct VisitRow {
    pub id: i64,
    pub participant_id: i64,
    pub name: String,
    pub checked_in_at: DateTime<Utc>,
    pub checked_out_at: Option<DateTime<Utc>>,
    pub backfilled: bool,
    pub outside_young_adults_time: bool,
}

impl VisitRow {
    pub fn time_in(&self) -> String {
        clock_time(self.checked_in_at)
    }
    pub fn time_out(&self) -> Option<String> {
        self.checked_out_at.map(clock_time)
    }
}

fn clock_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Stockholm).format("%H:%M").to_string()
}

pub struct Hit {
    pub id: i64,
    pub name: String,
    pub birth_date: NaiveDate,
    pub status: String,
    /// Already checked in on the day searched for.
    pub visited: bool,
}

pub struct DropInCount {
    pub gender: Gender,
    pub visitors: i32,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct VisitForm {
    pub unit_id: String,
    pub q: String,
    pub participant_id: String,
    /// Empty for today; a past date logs a visit afterwards.
    pub visit_on: String,
    pub confirm: String,
}

#[derive(Template)]
#[template(path = "attendance/visits.html")]
struct VisitsPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    unit_id: i64,
    unit_name: String,
    today: NaiveDate,
    weekday: &'static str,
    closed: Option<String>,
    young_adults_until: Option<String>,
    visits: Vec<VisitRow>,
    drop_ins: Vec<DropInCount>,
    form: VisitForm,
    hits: Option<Vec<Hit>>,
    /// The search's or check-in's message beside the field.
    error: String,
    /// A visitor outside 18–35 during Yngre Lotsen time, waiting for a yes.
    confirm: Option<Hit>,
    /// For the hits partial, shared with the live search.
    csrf_token: String,
    visit_on: String,
}

/// Only the hits, for the search as you type (`app.js`).
#[derive(Template)]
#[template(path = "attendance/_hits.html")]
struct HitsFragment {
    hits: Option<Vec<Hit>>,
    csrf_token: String,
    unit_id: i64,
    visit_on: String,
    today: NaiveDate,
}

impl HitsFragment {
    fn age(&self, hit: &Hit) -> i32 {
        crate::participants::identity::age_on(hit.birth_date, self.today)
    }
}

impl VisitsPage {
    fn age(&self, hit: &Hit) -> i32 {
        crate::participants::identity::age_on(hit.birth_date, self.today)
    }
    fn backfill(&self) -> bool {
        !self.form.visit_on.trim().is_empty()
    }
}

const WEEKDAYS: [&str; 7] = ["måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"];

async fn render(
    state: &AppState,
    current: &CurrentUser,
    unit_id: i64,
    form: VisitForm,
    hits: Option<Vec<Hit>>,
    error: String,
    confirm: Option<Hit>,
) -> AppResult<Response> {
    use chrono::Datelike;
    let today = state.clock.today();
    let now = state.clock.now();
    let units = crate::participants::unit_choices(&state.db, current.user.id).await?;
    let unit_name = units.iter().find(|u| u.id == unit_id).map(|u| u.name.clone()).unwrap_or_default();
    let visits = sqlx::query_as!(
        VisitRow,
        r#"SELECT v.id, v.participant_id, p.first_name || ' ' || p.last_name AS "name!", v.checked_in_at, v.checked_out_at,
                  v.backfilled, v.outside_young_adults_time
           FROM visits v JOIN participants p ON p.id = v.participant_id
           WHERE v.unit_id = $1 AND v.visit_on = $2 AND v.cancelled_at IS NULL
           ORDER BY v.checked_in_at DESC, v.id DESC"#,
        unit_id,
        today
    )
    .fetch_all(&state.db)
    .await?;
    let counts = sqlx::query!(
        "SELECT gender, visitors FROM drop_in_visits WHERE unit_id = $1 AND visit_on = $2",
        unit_id,
        today
    )
    .fetch_all(&state.db)
    .await?;
    let drop_ins = Gender::ALL
        .iter()
        .map(|g| DropInCount {
            gender: *g,
            visitors: counts.iter().find(|c| c.gender == g.code()).map(|c| c.visitors).unwrap_or(0),
        })
        .collect();
    let young_adults_until = sqlx::query_scalar!(
        "SELECT max(ends_at) FROM young_adult_periods WHERE unit_id = $1 AND starts_at <= $2 AND ends_at > $2",
        unit_id,
        now
    )
    .fetch_one(&state.db)
    .await?
    .map(clock_time);
    let closed = closed_because(today, exception_on(&state.db, unit_id, today).await?);
    let status = if error.is_empty() && confirm.is_none() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = VisitsPage {
        csrf_token: current.ctx.csrf_token.clone(),
        visit_on: form.visit_on.clone(),
        layout: Layout::new(&current.ctx, "visits"),
        units,
        unit_id,
        unit_name,
        today,
        weekday: WEEKDAYS[today.weekday().num_days_from_monday() as usize],
        closed,
        young_adults_until,
        visits,
        drop_ins,
        form,
        hits: hits.filter(|h| !h.is_empty()),
        error,
        confirm,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct UnitQuery {
    unit: String,
}

async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<UnitQuery>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &query.unit)?;
    let form = VisitForm {
        unit_id: unit_id.to_string(),
        ..VisitForm::default()
    };
    render(&state, &current, unit_id, form, None, String::new(), None).await
}

/// The day a form is for: today, or a past day for a visit logged afterwards.
fn visit_day(form: &VisitForm, today: NaiveDate) -> Result<NaiveDate, String> {
    match optional_date(&form.visit_on) {
        Ok(None) => Ok(today),
        Ok(Some(day)) if day > today => Err("Ett besök kan inte registreras i förväg.".into()),
        Ok(Some(day)) if day < today - chrono::Duration::days(366) => Err("Besök registreras i efterhand högst ett år bakåt.".into()),
        Ok(Some(day)) => Ok(day),
        Err(message) => Err(message.into()),
    }
}

async fn search(
    State(state): State<AppState>,
    current: CurrentUser,
    headers: axum::http::HeaderMap,
    FormData(form): FormData<VisitForm>,
) -> AppResult<Response> {
    // The search as you type asks for the hits only, and never logs a visit.
    let live = headers.contains_key("x-live-search");
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let today = state.clock.today();
    let day = match visit_day(&form, today) {
        Ok(day) => day,
        Err(message) => return render(&state, &current, unit_id, form, None, message, None).await,
    };
    let words: Vec<String> = form
        .q
        .to_lowercase()
        .split_whitespace()
        .map(|w| w.replace(['\\', '%', '_'], ""))
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().map(|w| w.chars().count()).sum::<usize>() < 2 {
        if live {
            return Ok(Html(String::new()).into_response());
        }
        return render(
            &state,
            &current,
            unit_id,
            form,
            None,
            "Skriv minst två bokstäver av namnet.".into(),
            None,
        )
        .await;
    }
    // The first word starts the first or the last name; a second word must start the other.
    let first = format!("{}%", words[0]);
    let second = words.get(1).map(|w| format!("{w}%"));
    let hits = sqlx::query_as!(
        Hit,
        r#"SELECT p.id, p.first_name || ' ' || p.last_name AS "name!", p.birth_date, p.status,
                  EXISTS (SELECT 1 FROM visits v WHERE v.participant_id = p.id AND v.visit_on = $4 AND v.cancelled_at IS NULL) AS "visited!"
           FROM participants p
           WHERE p.unit_id = $1 AND p.status <> 'ended'
             AND ((lower(p.first_name) LIKE $2 AND ($3::text IS NULL OR lower(p.last_name) LIKE $3))
               OR (lower(p.last_name) LIKE $2 AND ($3::text IS NULL OR lower(p.first_name) LIKE $3)))
           ORDER BY p.first_name, p.last_name, p.id
           LIMIT $5"#,
        unit_id,
        first,
        second,
        day,
        MAX_HITS
    )
    .fetch_all(&state.db)
    .await?;
    let ids: Vec<i64> = hits.iter().map(|h| h.id).collect();
    access::log(&state.db, &current.user, &ids, Action::Search, state.clock.now()).await?;
    if live {
        let fragment = HitsFragment {
            hits: Some(hits),
            csrf_token: current.ctx.csrf_token.clone(),
            unit_id,
            visit_on: form.visit_on.clone(),
            today,
        };
        return Ok(Html(fragment.render()?).into_response());
    }
    // Enter on a name that matches one person who has not come yet: log the visit at once.
    if let [hit] = &hits[..]
        && !hit.visited
    {
        let form = VisitForm {
            participant_id: hit.id.to_string(),
            ..form
        };
        return log_visit(&state, &current, unit_id, form).await;
    }
    let error = if hits.is_empty() {
        format!("Ingen deltagare på enheten matchar ”{}”.", form.q.trim())
    } else {
        String::new()
    };
    render(&state, &current, unit_id, form, Some(hits), error, None).await
}

async fn check_in(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<VisitForm>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    log_visit(&state, &current, unit_id, form).await
}

/// Logs the visit of `form.participant_id` at `unit_id`, or explains why not.
async fn log_visit(state: &AppState, current: &CurrentUser, unit_id: i64, form: VisitForm) -> AppResult<Response> {
    let now = state.clock.now();
    let today = state.clock.today();
    let participant_id = form
        .participant_id
        .parse::<i64>()
        .map_err(|_| AppError::BadRequest("no participant"))?;
    let participant_unit = access::authorize(&state.db, &current.user, participant_id, now).await?;
    if participant_unit != unit_id {
        return Err(AppError::Forbidden);
    }
    let day = match visit_day(&form, today) {
        Ok(day) => day,
        Err(message) => return render(state, current, unit_id, form, None, message, None).await,
    };
    let person = sqlx::query!(
        r#"SELECT first_name || ' ' || last_name AS "name!", birth_date, status FROM participants WHERE id = $1"#,
        participant_id
    )
    .fetch_one(&state.db)
    .await?;
    let refuse = |message: String| render(state, current, unit_id, form.clone(), None, message, None);
    if person.status == "ended" {
        return refuse(format!("{} är avslutad. Registrera återkomsten i personakten först.", person.name)).await;
    }
    if let Some(why) = closed_because(day, exception_on(&state.db, unit_id, day).await?) {
        return refuse(format!(
            "Besöket kan inte registreras: {why}. Öppna dagen i kalendern om enheten ändå har öppet."
        ))
        .await;
    }
    // Yngre Lotsen time: a visitor outside 18–35 is let in after a yes, and counted.
    let backfilled = day != today;
    let in_young_adults_time = !backfilled
        && sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM young_adult_periods WHERE unit_id = $1 AND starts_at <= $2 AND ends_at > $2) AS "yes!""#,
            unit_id,
            now
        )
        .fetch_one(&state.db)
        .await?;
    let outside = in_young_adults_time && !is_young_adult(person.birth_date, day);
    if outside && form.confirm != "yes" {
        let hit = Hit {
            id: participant_id,
            name: person.name,
            birth_date: person.birth_date,
            status: person.status,
            visited: false,
        };
        return render(state, current, unit_id, form, None, String::new(), Some(hit)).await;
    }
    let inserted = sqlx::query_scalar!(
        "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, backfilled, outside_young_adults_time, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (participant_id, visit_on) WHERE cancelled_at IS NULL DO NOTHING
         RETURNING id",
        participant_id,
        unit_id,
        day,
        now,
        backfilled,
        outside,
        current.user.id
    )
    .fetch_optional(&state.db)
    .await?;
    let message = match inserted {
        Some(_) if backfilled => format!("Besöket {day} är registrerat för {}.", person.name),
        Some(_) => format!("{} är incheckad kl. {}.", person.name, clock_time(now)),
        None => {
            let at = sqlx::query_scalar!(
                "SELECT checked_in_at FROM visits WHERE participant_id = $1 AND visit_on = $2 AND cancelled_at IS NULL",
                participant_id,
                day
            )
            .fetch_optional(&state.db)
            .await?;
            match at {
                Some(at) if !backfilled => format!("{} är redan incheckad i dag, sedan kl. {}.", person.name, clock_time(at)),
                _ => format!("{} har redan ett besök registrerat {day}.", person.name),
            }
        }
    };
    current.flash(&state.db, &message).await?;
    Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
}

/// The visit, if it is in one of the user's units; returns its unit.
async fn visit_unit(state: &AppState, current: &CurrentUser, id: i64) -> AppResult<i64> {
    let unit = sqlx::query_scalar!("SELECT unit_id FROM visits WHERE id = $1", id)
        .fetch_optional(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    if !current.user.unit_ids.contains(&unit) {
        return Err(AppError::Forbidden);
    }
    Ok(unit)
}

async fn cancel(State(state): State<AppState>, current: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let now = state.clock.now();
    let unit_id = visit_unit(&state, &current, id).await?;
    let mut tx = state.db.begin().await?;
    let name = sqlx::query_scalar!(
        r#"UPDATE visits v SET cancelled_at = $2, cancelled_by = $3 FROM participants p
           WHERE v.id = $1 AND v.cancelled_at IS NULL AND p.id = v.participant_id
           RETURNING p.first_name || ' ' || p.last_name AS "name!""#,
        id,
        now,
        current.user.id
    )
    .fetch_optional(&mut *tx)
    .await?;
    let message = match name {
        Some(name) => {
            audit::Entry::new(Some(current.user.id), "visit_cancelled")
                .record("visit", id)
                .write(&mut *tx, now)
                .await?;
            format!("Incheckningen av {name} är ångrad.")
        }
        None => "Incheckningen var redan ångrad.".to_string(),
    };
    tx.commit().await?;
    current.flash(&state.db, &message).await?;
    Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
}

async fn check_out(State(state): State<AppState>, current: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let now = state.clock.now();
    let unit_id = visit_unit(&state, &current, id).await?;
    let updated = sqlx::query!(
        "UPDATE visits SET checked_out_at = $2 WHERE id = $1 AND cancelled_at IS NULL AND checked_out_at IS NULL AND checked_in_at <= $2",
        id,
        now
    )
    .execute(&state.db)
    .await?
    .rows_affected();
    if updated > 0 {
        current.flash(&state.db, &format!("Utcheckad kl. {}.", clock_time(now))).await?;
    }
    Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DropInForm {
    unit_id: String,
    gender: String,
    /// "1" adds a visitor, "-1" takes one away (a mistake).
    change: String,
}

async fn drop_in(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<DropInForm>) -> AppResult<Response> {
    let unit_id = chosen_unit(&current, &form.unit_id)?;
    let gender = Gender::parse(&form.gender).ok_or(AppError::BadRequest("unknown gender"))?;
    let change: i32 = match form.change.as_str() {
        "1" => 1,
        "-1" => -1,
        _ => return Err(AppError::BadRequest("unknown change")),
    };
    let today = state.clock.today();
    if let Some(why) = closed_because(today, exception_on(&state.db, unit_id, today).await?) {
        current
            .flash(&state.db, &format!("Besök kan inte registreras i dag: {why}."))
            .await?;
        return Ok(Redirect::to(&format!("/visits?unit={unit_id}")).into_response());
    }
    // Never below zero: a take-away with nothing to take changes nothing.
    sqlx::query!(
        "INSERT INTO drop_in_visits (unit_id, visit_on, gender, visitors) VALUES ($1, $2, $3, greatest($4, 0))
         ON CONFLICT (unit_id, visit_on, gender) DO UPDATE SET visitors = greatest(drop_in_visits.visitors + $4, 0)",
        unit_id,
        today,
        gender.code(),
        change
    )
    .execute(&state.db)
    .await?;
    let message = if change > 0 {
        format!("Ett besök utan registrering är räknat ({}).", gender.label().to_lowercase())
    } else {
        format!("Ett besök utan registrering är borttaget ({}).", gender.label().to_lowercase())
    };
    current.flash(&state.db, &message).await?;
    Ok(Redirect::to(&format!("/visits?unit={unit_id}#drop-in")).into_response())
}
