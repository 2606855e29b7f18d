//! Units (enheter): the centres. Admins create, rename and deactivate them.

use crate::audit::{self, Stamp};
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::db::{Refused, in_transaction, refuse};
use crate::domain::plans::{DEFAULT_FIRST_STEP_HOURS, DEFAULT_TEAM_ISA_PLACES};
use crate::error::{AppError, AppResult, violated_constraint};
use crate::ids::UnitId;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, required_text};
use crate::web::routes::Routes;
use crate::web::routes::get;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgPool;

/// A new unit with DOMAIN.md's capacity (105 h of förstegsträning a week, 6
/// Team ISA places) until its manager changes it. `name` must be new
/// (case-insensitively): a taken name is the `units_name_key` violation.
pub async fn insert(conn: &mut sqlx::PgConnection, name: &str, now: chrono::DateTime<chrono::Utc>) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO units (name, created_at, first_step_hours, team_isa_places) VALUES ($1, $2, $3::float8::numeric, $4) RETURNING id",
        name,
        now,
        DEFAULT_FIRST_STEP_HOURS.as_f64(),
        DEFAULT_TEAM_ISA_PLACES as i32
    )
    .fetch_one(&mut *conn)
    .await?;
    keep_capacity(conn, UnitId(id), now).await?;
    Ok(id)
}

/// Writes the unit's capacity as it now stands into its history
/// (`unit_capacities`, migration 0018), in force from `now`'s day: reports
/// for earlier days keep the capacity those days had.
async fn keep_capacity(conn: &mut sqlx::PgConnection, id: UnitId, now: chrono::DateTime<chrono::Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO unit_capacities (unit_id, from_on, first_step_hours, team_isa_places)
         SELECT id, ($2::timestamptz AT TIME ZONE 'Europe/Stockholm')::date, first_step_hours, team_isa_places FROM units WHERE id = $1
         ON CONFLICT (unit_id, from_on) DO UPDATE SET first_step_hours = EXCLUDED.first_step_hours, team_isa_places = EXCLUDED.team_isa_places",
        id as _,
        now
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A new unit, audited; a name already taken (in any case) is refused.
pub async fn add(db: &sqlx::PgPool, name: &str, stamp: Stamp) -> AppResult<Result<i64, Refused>> {
    in_transaction(db, async |tx| {
        let id = match insert(tx, name, stamp.at).await {
            Ok(id) => id,
            Err(err) if violated_constraint(&err) == Some("units_name_key") => return refuse("name", NAME_TAKEN),
            Err(err) => return Err(err.into()),
        };
        audit::Entry::new(Some(stamp.by), "unit_created")
            .record("unit", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// A unit's name, whether it is active, and its capacity.
pub struct Settings<'a> {
    pub name: &'a str,
    pub active: bool,
    pub hours: f64,
    pub places: i32,
    /// Days overdue before a follow-up or renewal reaches the managers.
    pub escalation_days: i32,
}

/// Changes a unit's settings. DOMAIN.md: capacity is a setting per unit;
/// lowering it below what is in use ends nobody's plan, new plans queue
/// until there is room.
pub async fn change(db: &sqlx::PgPool, id: UnitId, s: Settings<'_>, stamp: Stamp) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        // A unit made without its history (by a bulk load) keeps the
        // capacity it had until now as the start of it.
        sqlx::query!(
            "INSERT INTO unit_capacities (unit_id, from_on, first_step_hours, team_isa_places)
             SELECT id, (created_at AT TIME ZONE 'Europe/Stockholm')::date, first_step_hours, team_isa_places FROM units u
             WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM unit_capacities c WHERE c.unit_id = u.id)",
            id as _
        )
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query!(
            "UPDATE units SET name = $2, active = $3, first_step_hours = $4::float8::numeric, team_isa_places = $5, escalation_days = $6
             WHERE id = $1",
            id as _,
            s.name,
            s.active,
            s.hours,
            s.places,
            s.escalation_days
        )
        .execute(&mut *tx)
        .await;
        match done {
            Ok(done) if done.rows_affected() == 0 => return Err(AppError::NotFound),
            Ok(_) => {}
            Err(err) if violated_constraint(&err) == Some("units_name_key") => return refuse("name", NAME_TAKEN),
            Err(err) => return Err(err.into()),
        }
        keep_capacity(&mut *tx, id, stamp.at).await?;
        let details = format!(
            "{}, förstegsträning {} h/vecka, Team ISA {} platser, eskalering efter {} dagar",
            if s.active { "aktiv" } else { "inaktiv" },
            s.hours,
            s.places,
            s.escalation_days
        );
        audit::Entry::new(Some(stamp.by), "unit_updated")
            .record("unit", id)
            .details(&details)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/units", get(list).post(create))
        .route("/admin/units/{id}", get(edit_form).post(update))
}

pub struct UnitRow {
    pub id: UnitId,
    pub name: String,
    pub active: bool,
    pub members: i64,
}

async fn all_units(db: &PgPool) -> Result<Vec<UnitRow>, sqlx::Error> {
    sqlx::query_as!(
        UnitRow,
        r#"SELECT u.id, u.name, u.active, count(m.user_id) AS "members!"
           FROM units u LEFT JOIN unit_memberships m ON m.unit_id = u.id
           GROUP BY u.id ORDER BY u.active DESC, u.name"#
    )
    .fetch_all(db)
    .await
}

#[derive(Template)]
#[template(path = "units/list.html")]
struct ListPage {
    layout: Layout,
    units: Vec<UnitRow>,
    name: String,
    errors: FieldErrors,
}

async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let page = ListPage {
        layout: Layout::new(&current.ctx, "units"),
        units: all_units(&state.db).await?,
        name: String::new(),
        errors: FieldErrors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct UnitForm {
    name: String,
    active: Option<String>,
    /// Capacity settings (edit form only): förstegsträning hours a week, Team ISA places.
    first_step_hours: String,
    team_isa_places: String,
    escalation_days: String,
}

/// Capacity hours a week: 0–9999, "105" or "52,5".
fn capacity_hours(value: &str) -> Result<f64, &'static str> {
    let text = value.trim().replace(',', ".");
    match text.parse::<f64>() {
        Ok(h) if (0.0..=9999.0).contains(&h) && (h * 100.0).fract() == 0.0 => Ok(h),
        _ => Err("Skriv timmar per vecka som ett tal mellan 0 och 9999, t.ex. 105."),
    }
}

fn capacity_places(value: &str) -> Result<i32, &'static str> {
    match value.trim().parse::<i32>() {
        Ok(n) if (0..=999).contains(&n) => Ok(n),
        _ => Err("Skriv antal platser som ett heltal mellan 0 och 999, t.ex. 6."),
    }
}

fn escalation_days(value: &str) -> Result<i32, &'static str> {
    match value.trim().parse::<i32>() {
        Ok(n) if (1..=365).contains(&n) => Ok(n),
        _ => Err("Skriv antal dagar som ett heltal mellan 1 och 365, t.ex. 14."),
    }
}

const NAME_TAKEN: &str = "Det finns redan en enhet med det namnet.";

async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<UnitForm>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    let name = required_text(&form.name, "enhetens namn", 120)
        .map_err(|m| errors.add("name", m))
        .ok();
    let inserted = match name {
        Some(name) => match add(&state.db, &name, current.stamp(now)).await? {
            Ok(_) => Some(name),
            Err(Refused { field, message }) => {
                errors.add(field, message);
                None
            }
        },
        None => None,
    };
    match inserted {
        Some(name) => {
            current.flash(&format!("Enheten {name} är skapad."));
            Ok(Redirect::to("/admin/units").into_response())
        }
        None => {
            let page = ListPage {
                layout: Layout::new(&current.ctx, "units"),
                units: all_units(&state.db).await?,
                name: form.name,
                errors,
            };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "units/edit.html")]
struct EditPage {
    layout: Layout,
    id: UnitId,
    name: String,
    active: bool,
    first_step_hours: String,
    team_isa_places: String,
    escalation_days: String,
    errors: FieldErrors,
}

async fn edit_form(State(state): State<AppState>, current: CurrentUser, Path(id): Path<UnitId>) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let unit = sqlx::query!(
        r#"SELECT name, active, first_step_hours::float8 AS "first_step_hours!", team_isa_places, escalation_days FROM units WHERE id = $1"#,
        id as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)?;
    let page = EditPage {
        layout: Layout::new(&current.ctx, "units"),
        id,
        name: unit.name,
        active: unit.active,
        first_step_hours: crate::web::format::hours(Some(unit.first_step_hours)),
        team_isa_places: unit.team_isa_places.to_string(),
        escalation_days: unit.escalation_days.to_string(),
        errors: FieldErrors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

async fn update(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<UnitId>,
    FormData(form): FormData<UnitForm>,
) -> AppResult<Response> {
    current.require(&[Role::Admin])?;
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    let active = form.active.is_some();
    let name = required_text(&form.name, "enhetens namn", 120)
        .map_err(|m| errors.add("name", m))
        .ok();
    let hours = capacity_hours(&form.first_step_hours)
        .map_err(|m| errors.add("first_step_hours", m))
        .ok();
    let places = capacity_places(&form.team_isa_places)
        .map_err(|m| errors.add("team_isa_places", m))
        .ok();
    let escalation = escalation_days(&form.escalation_days)
        .map_err(|m| errors.add("escalation_days", m))
        .ok();
    if let (Some(name), Some(hours), Some(places), Some(escalation_days)) = (name, hours, places, escalation) {
        let settings = Settings {
            name: &name,
            active,
            hours,
            places,
            escalation_days,
        };
        match change(&state.db, id, settings, current.stamp(now)).await? {
            Ok(()) => {
                current.flash(&format!("Enheten {name} är sparad."));
                return Ok(Redirect::to("/admin/units").into_response());
            }
            Err(Refused { field, message }) => errors.add(field, message),
        }
    }
    let page = EditPage {
        layout: Layout::new(&current.ctx, "units"),
        id,
        name: form.name,
        active,
        first_step_hours: form.first_step_hours,
        team_isa_places: form.team_isa_places,
        escalation_days: form.escalation_days,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}
