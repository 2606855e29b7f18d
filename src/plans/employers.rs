//! The employer register (arbetsgivare) for Team ISA workplaces: a list with
//! the placements each has, and a form to add one. The plan form can also add
//! an employer inline (`resolve`).

use super::form::{EmployerChoice, NewEmployer, organisation_number};
use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::{AppResult, violated_constraint};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_text, required_text};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sqlx::{PgConnection, PgPool};

pub struct EmployerChoiceRow {
    pub id: i64,
    pub name: String,
}

pub async fn choices(db: &PgPool) -> Result<Vec<EmployerChoiceRow>, sqlx::Error> {
    sqlx::query_as!(EmployerChoiceRow, "SELECT id, name FROM employers ORDER BY lower(name), id")
        .fetch_all(db)
        .await
}

const NAME_TAKEN: &str = "Arbetsgivaren finns redan i registret. Välj den i listan.";
const NUMBER_TAKEN: &str = "Det finns redan en arbetsgivare med det organisationsnumret.";

/// Inserts an employer; `Ok(Err((field, message)))` when the name or number is taken.
pub async fn insert(
    conn: &mut PgConnection,
    new: &NewEmployer,
    phone: &str,
    email: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Result<i64, (&'static str, &'static str)>, sqlx::Error> {
    let taken = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM employers WHERE lower(btrim(name)) = lower(btrim($1))) AS "name!",
                  EXISTS (SELECT 1 FROM employers WHERE organisation_number = $2) AS "number!""#,
        new.name,
        new.organisation_number
    )
    .fetch_one(&mut *conn)
    .await?;
    if taken.name {
        return Ok(Err(("new_employer_name", NAME_TAKEN)));
    }
    if taken.number {
        return Ok(Err(("new_employer_org", NUMBER_TAKEN)));
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO employers (name, organisation_number, contact_name, contact_phone, contact_email, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        new.name,
        new.organisation_number,
        new.contact_name,
        phone,
        email,
        by,
        now
    )
    .fetch_one(&mut *conn)
    .await;
    match id {
        Ok(id) => {
            audit::Entry::new(Some(by), "employer_created")
                .record("employer", id)
                .write(&mut *conn, now)
                .await?;
            Ok(Ok(id))
        }
        // Someone added the same employer a moment ago.
        Err(err) if violated_constraint(&err) == Some("employers_name_key") => Ok(Err(("new_employer_name", NAME_TAKEN))),
        Err(err) if violated_constraint(&err) == Some("employers_organisation_number_key") => Ok(Err(("new_employer_org", NUMBER_TAKEN))),
        Err(err) => Err(err),
    }
}

/// The employer id for a plan: none, one from the register, or a new one added now.
pub async fn resolve(
    conn: &mut PgConnection,
    choice: &EmployerChoice,
    by: i64,
    now: DateTime<Utc>,
) -> Result<Result<Option<i64>, (&'static str, &'static str)>, sqlx::Error> {
    match choice {
        EmployerChoice::None => Ok(Ok(None)),
        EmployerChoice::Existing(id) => {
            let exists = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM employers WHERE id = $1) AS "exists!""#, id)
                .fetch_one(&mut *conn)
                .await?;
            Ok(if exists {
                Ok(Some(*id))
            } else {
                Err(("employer_id", "Välj en arbetsgivare i listan."))
            })
        }
        EmployerChoice::New(new) => Ok(insert(conn, new, "", "", by, now).await?.map(Some)),
    }
}

pub struct EmployerRow {
    pub id: i64,
    pub name: String,
    pub organisation_number: Option<String>,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
    /// Active Team ISA plans placed here.
    pub placements: i64,
    pub placements_ever: i64,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct EmployerForm {
    pub name: String,
    pub organisation_number: String,
    pub contact_name: String,
    pub contact_phone: String,
    pub contact_email: String,
}

#[derive(Template)]
#[template(path = "plans/employers.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<EmployerRow>,
    form: EmployerForm,
    errors: FieldErrors,
}

async fn render(state: &AppState, current: &CurrentUser, form: EmployerForm, errors: FieldErrors) -> AppResult<Response> {
    let rows = sqlx::query_as!(
        EmployerRow,
        r#"SELECT e.id, e.name, e.organisation_number, e.contact_name, e.contact_phone, e.contact_email,
                  count(p.id) FILTER (WHERE p.status = 'active') AS "placements!",
                  count(p.id) FILTER (WHERE p.status <> 'draft') AS "placements_ever!"
           FROM employers e LEFT JOIN plans p ON p.employer_id = e.id
           GROUP BY e.id ORDER BY lower(e.name), e.id"#
    )
    .fetch_all(&state.db)
    .await?;
    let refused = !errors.is_empty();
    let page = ListPage {
        layout: Layout::new(&current.ctx, "employers"),
        rows,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

pub async fn list(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    render(&state, &current, EmployerForm::default(), FieldErrors::default()).await
}

pub async fn create(State(state): State<AppState>, current: CurrentUser, FormData(form): FormData<EmployerForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    let name = required_text(&form.name, "arbetsgivarens namn", 200)
        .map_err(|m| errors.add("name", m))
        .ok();
    let org = organisation_number(&form.organisation_number)
        .map_err(|m| errors.add("organisation_number", m))
        .ok();
    let contact = optional_text(&form.contact_name, 200)
        .map_err(|m| errors.add("contact_name", m))
        .ok();
    let phone = optional_text(&form.contact_phone, 40)
        .map_err(|m| errors.add("contact_phone", m))
        .ok();
    let email = if form.contact_email.trim().is_empty() {
        Some(String::new())
    } else {
        crate::web::form::email(&form.contact_email)
            .map_err(|m| errors.add("contact_email", m))
            .ok()
    };
    let (Some(name), Some(org), Some(contact), Some(phone), Some(email), true) = (name, org, contact, phone, email, errors.is_empty())
    else {
        return render(&state, &current, form, errors).await;
    };
    let new = NewEmployer {
        name,
        organisation_number: org,
        contact_name: contact,
    };
    let mut tx = state.db.begin().await?;
    match insert(&mut tx, &new, &phone, &email, current.user.id, now).await? {
        Ok(_) => {}
        Err((field, message)) => {
            drop(tx);
            let field = if field == "new_employer_org" {
                "organisation_number"
            } else {
                "name"
            };
            errors.add(field, message);
            return render(&state, &current, form, errors).await;
        }
    }
    tx.commit().await?;
    current
        .flash(&state.db, &format!("{} är tillagd i arbetsgivarregistret.", new.name))
        .await?;
    Ok(Redirect::to("/employers").into_response())
}
