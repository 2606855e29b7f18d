//! The employer register (arbetsgivare) for Team ISA workplaces: a list with
//! the placements each has, and a form to add one. The plan form can also add
//! an employer inline (`resolve`).

use super::form::{NewEmployer, organisation_number};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::error::AppResult;
use crate::ids::EmployerId;
use crate::plans::store::{self, employers::Contact};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_text, required_text};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use sqlx::PgPool;

pub struct EmployerChoiceRow {
    pub id: EmployerId,
    pub name: String,
}

pub async fn choices(db: &PgPool) -> Result<Vec<EmployerChoiceRow>, sqlx::Error> {
    sqlx::query_as!(EmployerChoiceRow, "SELECT id, name FROM employers ORDER BY lower(name), id")
        .fetch_all(db)
        .await
}

pub struct EmployerRow {
    pub id: EmployerId,
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
    let email = crate::web::form::optional_email(&form.contact_email)
        .map_err(|m| errors.add("contact_email", m))
        .ok();
    let (Some(name), Some(org), Some(contact), Some(phone), Some(email), true) = (name, org, contact, phone, email, errors.is_empty())
    else {
        return render(&state, &current, form, errors).await;
    };
    let new = NewEmployer {
        name,
        organisation_number: org,
        contact_name: contact,
    };
    let contact = Contact {
        phone: &phone,
        email: &email,
    };
    if let Err(Refused { field, message }) = store::employers::register(&state.db, &new, contact, current.stamp(now)).await? {
        // The plan form's inline fields are named for it; here they are the register's own.
        let field = if field == "new_employer_org" {
            "organisation_number"
        } else {
            "name"
        };
        errors.add(field, message);
        return render(&state, &current, form, errors).await;
    }
    current.flash(&format!("{} är tillagd i arbetsgivarregistret.", new.name));
    Ok(Redirect::to("/employers").into_response())
}
