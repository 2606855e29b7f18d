//! One närstående or företrädare over time: its page shows what is known now
//! and every earlier version, and has the forms to change it and to end it.
//! Nothing is overwritten or deleted (`store::change_relative`,
//! `store::end_relative`); the personakt lists ended ones as ended.

use super::model::RelativeKind;
use super::store::{self, NewRelative};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, RelativeId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_date, optional_email, optional_phone, optional_text, required_text};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/relatives/{relative_id}", get(page).post(change))
        .route("/participants/{id}/relatives/{relative_id}/end", post(end))
}

/// The fields of a närstående as typed (the add form on the personakt and
/// the change form here use the same names).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct RelativeForm {
    pub relative_kind: String,
    pub relative_name: String,
    pub relative_relation: String,
    pub relative_phone: String,
    pub relative_email: String,
    pub relative_note: String,
    /// The version the change form was made from.
    pub relative_version: String,
    pub relative_ended_on: String,
}

/// A närstående read from a form, every field checked.
pub struct RelativeFields {
    pub kind: RelativeKind,
    pub name: String,
    pub relation: String,
    pub phone: String,
    pub email: String,
    pub note: String,
}

impl RelativeFields {
    pub fn as_new(&self) -> NewRelative<'_> {
        NewRelative {
            kind: self.kind,
            name: &self.name,
            relation: &self.relation,
            phone: &self.phone,
            email: &self.email,
            note: &self.note,
        }
    }
}

/// Checks what was typed for a närstående; the messages go to `errors`.
pub fn read(
    kind: &str,
    name: &str,
    relation: &str,
    phone: &str,
    email: &str,
    note: &str,
    errors: &mut FieldErrors,
) -> Option<RelativeFields> {
    let kind = RelativeKind::parse(kind);
    if kind.is_none() {
        errors.add("relative_kind", "Välj närstående eller företrädare.");
    }
    let name = required_text(name, "namn", 200).map_err(|m| errors.add("relative_name", m)).ok();
    let relation = optional_text(relation, 100).map_err(|m| errors.add("relative_relation", m)).ok();
    let phone = optional_phone(phone).map_err(|m| errors.add("relative_phone", m)).ok();
    let email = optional_email(email).map_err(|m| errors.add("relative_email", m)).ok();
    let note = optional_text(note, 1000).map_err(|m| errors.add("relative_note", m)).ok();
    Some(RelativeFields {
        kind: kind?,
        name: name?,
        relation: relation?,
        phone: phone?,
        email: email?,
        note: note?,
    })
}

/// A närstående as it stands, or as one of its versions was.
pub struct Shown {
    pub version: i32,
    pub kind: String,
    pub name: String,
    pub relation: String,
    pub phone: String,
    pub email: String,
    pub note: String,
    pub ended_on: Option<NaiveDate>,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

impl Shown {
    pub fn kind_label(&self) -> &'static str {
        RelativeKind::label_of(&self.kind)
    }
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.changed_at)
    }
}

/// Every version of a närstående, the latest first (the first is what stands now).
async fn versions(db: &PgPool, relative: RelativeId) -> Result<Vec<Shown>, sqlx::Error> {
    sqlx::query_as!(
        Shown,
        r#"SELECT v.version, v.kind, v.name, v.relation, v.phone, v.email, v.note, v.ended_on,
                  coalesce(u.name, 'okänd') AS "changed_by!", v.changed_at
           FROM relative_versions v LEFT JOIN users u ON u.id = v.changed_by
           WHERE v.relative_id = $1 ORDER BY v.version DESC"#,
        relative as _
    )
    .fetch_all(db)
    .await
}

#[derive(Template)]
#[template(path = "participants/relative.html")]
struct RelativePage {
    layout: Layout,
    participant_id: ParticipantId,
    relative_id: RelativeId,
    participant_name: String,
    now: Shown,
    earlier: Vec<Shown>,
    typed: RelativeForm,
    errors: FieldErrors,
}

impl RelativePage {
    fn kinds(&self) -> &'static [RelativeKind] {
        RelativeKind::ALL
    }
}

async fn render(state: &AppState, auth: &Authorized<RelativeId>, typed: Option<RelativeForm>, errors: FieldErrors) -> AppResult<Response> {
    let participant_id = auth.participant()?;
    let mut all = versions(&state.db, auth.id).await?;
    let participant_name = sqlx::query_scalar!(
        r#"SELECT first_name || ' ' || last_name AS "name!" FROM participants WHERE id = $1"#,
        participant_id as _
    )
    .fetch_one(&state.db)
    .await?;
    if all.is_empty() {
        return Err(AppError::NotFound);
    }
    let now = all.remove(0);
    let stands = RelativeForm {
        relative_kind: now.kind.clone(),
        relative_name: now.name.clone(),
        relative_relation: now.relation.clone(),
        relative_phone: now.phone.clone(),
        relative_email: now.email.clone(),
        relative_note: now.note.clone(),
        relative_version: now.version.to_string(),
        relative_ended_on: String::new(),
    };
    let typed = match typed {
        // The end form was refused: the change form shows what stands.
        Some(typed) if typed.relative_version.is_empty() => RelativeForm {
            relative_ended_on: typed.relative_ended_on,
            ..stands
        },
        Some(typed) => typed,
        None => stands,
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = RelativePage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant_id,
        relative_id: auth.id,
        participant_name,
        now,
        earlier: all,
        typed,
        errors,
    };
    crate::web::render(&page, status)
}

async fn page(State(state): State<AppState>, auth: Authorized<RelativeId>) -> AppResult<Response> {
    render(&state, &auth, None, FieldErrors::default()).await
}

/// Back to the personakt with a message, or this page again with the
/// refusal beside its field and what was typed.
async fn answer(
    state: &AppState,
    auth: &Authorized<RelativeId>,
    result: Result<(), Refused>,
    message: &str,
    typed: RelativeForm,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            auth.current.flash(message);
            Ok(Redirect::to(&format!("/participants/{}#relatives", auth.participant()?)).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render(state, auth, Some(typed), errors).await
        }
    }
}

async fn change(
    State(state): State<AppState>,
    auth: Authorized<RelativeId>,
    FormData(typed): FormData<RelativeForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let fields = read(
        &typed.relative_kind,
        &typed.relative_name,
        &typed.relative_relation,
        &typed.relative_phone,
        &typed.relative_email,
        &typed.relative_note,
        &mut errors,
    );
    let version = typed.relative_version.parse::<i32>().ok();
    let (Some(fields), Some(version), true) = (fields, version, errors.is_empty()) else {
        return render(&state, &auth, Some(typed), errors).await;
    };
    let stamp = auth.current.stamp(state.clock.now());
    let result = store::change_relative(&state.db, auth.id, version, fields.as_new(), stamp).await?;
    answer(
        &state,
        &auth,
        result,
        "Uppgifterna är ändrade. Den tidigare versionen finns kvar.",
        typed,
    )
    .await
}

async fn end(State(state): State<AppState>, auth: Authorized<RelativeId>, FormData(typed): FormData<RelativeForm>) -> AppResult<Response> {
    let today = state.clock.today();
    let result = match optional_date(&typed.relative_ended_on) {
        Ok(on) => {
            store::end_relative(
                &state.db,
                auth.id,
                on.unwrap_or(today),
                today,
                auth.current.stamp(state.clock.now()),
            )
            .await?
        }
        Err(message) => Err(Refused {
            field: "relative_ended_on",
            message: message.into(),
        }),
    };
    answer(&state, &auth, result, "Uppgiften är avslutad och finns kvar som avslutad.", typed).await
}
