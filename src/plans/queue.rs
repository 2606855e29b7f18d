//! Kö: plans that did not fit their unit's capacity wait here, oldest first.
//! A manager sees who waits and for how long, activates a plan when a place
//! frees up (the same checks as any activation), or takes a person off the
//! list with a reason.

use super::capacity;
use super::store::{self, Activation};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::domain::plans::Programme;
use crate::error::{AppError, AppResult};
use crate::ids::{PlanId, QueueEntryId, UnitId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, required_date, required_text};
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/queue", get(page))
        .route("/queue/{entry_id}/activate", post(activate))
        .route("/queue/{entry_id}/remove", post(remove))
}

/// Who manages the waiting list.
const MANAGERS: &[Role] = &[Role::Manager, Role::Admin];

pub struct QueueRow {
    pub entry_id: QueueEntryId,
    pub plan_id: PlanId,
    pub unit_id: UnitId,
    pub programme: Programme,
    pub participant_name: String,
    pub key_worker: Option<String>,
    pub weekly_hours: i32,
    pub queued_on: NaiveDate,
}

impl QueueRow {
    pub fn hours_text(&self) -> String {
        crate::web::format::hours(Some(f64::from(self.weekly_hours) / 100.0))
    }
}

pub struct Section {
    pub unit_name: String,
    pub programme: Programme,
    pub usage: String,
    pub rows: Vec<QueueRow>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct QueueForm {
    pub set_on: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "plans/queue.html")]
struct QueuePage {
    layout: Layout,
    sections: Vec<Section>,
    today: NaiveDate,
    /// The entry whose form was refused, with the message and what was typed.
    entry_in_error: Option<QueueEntryId>,
    errors: FieldErrors,
    typed: QueueForm,
}

impl QueuePage {
    fn waited(&self, since: &NaiveDate) -> i64 {
        (self.today - *since).num_days()
    }
    fn error(&self, entry: &QueueEntryId, field: &str) -> &str {
        if self.entry_in_error == Some(*entry) {
            self.errors.get(field)
        } else {
            ""
        }
    }
    fn typed_reason(&self, entry: &QueueEntryId) -> &str {
        if self.entry_in_error == Some(*entry) {
            &self.typed.reason
        } else {
            ""
        }
    }
    fn typed_set_on(&self, entry: &QueueEntryId) -> String {
        if self.entry_in_error == Some(*entry) {
            self.typed.set_on.clone()
        } else {
            self.today.to_string()
        }
    }
}

async fn render(
    state: &AppState,
    current: &CurrentUser,
    entry_in_error: Option<QueueEntryId>,
    errors: FieldErrors,
    typed: QueueForm,
) -> AppResult<Response> {
    current.require(MANAGERS)?;
    let rows = sqlx::query_as!(
        QueueRow,
        r#"SELECT q.id AS entry_id, q.plan_id, q.unit_id, q.programme AS "programme: Programme", pa.first_name || ' ' || pa.last_name AS "participant_name!",
                  kw.name AS "key_worker?", (p.weekly_hours * 100)::int AS "weekly_hours!", q.queued_on
           FROM queue_entries q
           JOIN plans p ON p.id = q.plan_id
           JOIN participants pa ON pa.id = p.participant_id
           LEFT JOIN key_worker_assignments k ON k.participant_id = pa.id AND k.to_on IS NULL
           LEFT JOIN users kw ON kw.id = k.user_id
           WHERE q.closed_on IS NULL AND q.unit_id = ANY($1)
           ORDER BY q.queued_at, q.id"#,
        &current.user.unit_ids as _
    )
    .fetch_all(&state.db)
    .await?;
    // Every unit's capacity in two statements, not two per unit and programme.
    let units = {
        let mut conn = state.db.acquire().await?;
        capacity::of_units(&mut conn, &current.user.unit_ids).await?
    };
    let mut sections = Vec::new();
    for unit in &units {
        for programme in Programme::ALL {
            sections.push(Section {
                unit_name: unit.name.clone(),
                programme,
                usage: unit.of(programme).describe(),
                rows: rows
                    .iter()
                    .filter(|r| r.unit_id == unit.unit_id && r.programme == programme)
                    .map(|r| QueueRow {
                        participant_name: r.participant_name.clone(),
                        key_worker: r.key_worker.clone(),
                        programme: r.programme,
                        ..*r
                    })
                    .collect(),
            });
        }
    }
    let refused = !errors.is_empty();
    let page = QueuePage {
        layout: Layout::new(&current.ctx, "queue"),
        sections,
        today: state.clock.today(),
        entry_in_error,
        errors,
        typed,
    };
    crate::web::page(&page, refused)
}

async fn page(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    render(&state, &current, None, FieldErrors::default(), QueueForm::default()).await
}

/// The entry's plan, while the entry is open; only managers handle the kö.
async fn open_entry(state: &AppState, entry: &Authorized<QueueEntryId>) -> AppResult<PlanId> {
    entry.current.require(MANAGERS)?;
    sqlx::query_scalar!(
        r#"SELECT plan_id AS "plan_id: PlanId" FROM queue_entries WHERE id = $1 AND closed_on IS NULL"#,
        entry.id as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::Conflict("Personen står inte längre i kön."))
}

async fn activate(
    State(state): State<AppState>,
    entry: Authorized<QueueEntryId>,
    FormData(form): FormData<QueueForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, entry_id) = (&entry.current, entry.id);
    let plan_id = open_entry(&state, &entry).await?;
    let mut errors = FieldErrors::default();
    let Ok(set_on) = required_date(&form.set_on).map_err(|m| errors.add("set_on", m)) else {
        return render(&state, current, Some(entry_id), errors, form).await;
    };
    match store::activate(&state.db, plan_id, set_on, state.clock.today(), current.stamp(now), false).await? {
        Activation::Activated { warning } => {
            let message = match warning {
                Some(w) => format!("Planen är aktiverad. {w}"),
                None => "Planen är aktiverad och personen är borttagen från kön.".into(),
            };
            current.flash(&message);
            Ok(Redirect::to("/queue").into_response())
        }
        Activation::Refused { message, .. } => {
            errors.add("set_on", message);
            render(&state, current, Some(entry_id), errors, form).await
        }
        Activation::Queued { .. } => Err(AppError::Internal(anyhow::anyhow!("activation from the queue queued again"))),
    }
}

async fn remove(
    State(state): State<AppState>,
    entry: Authorized<QueueEntryId>,
    FormData(form): FormData<QueueForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, entry_id) = (&entry.current, entry.id);
    let plan_id = open_entry(&state, &entry).await?;
    let mut errors = FieldErrors::default();
    let Ok(reason) = required_text(&form.reason, "ett skäl", 1000).map_err(|m| errors.add("reason", m)) else {
        return render(&state, current, Some(entry_id), errors, form).await;
    };
    store::remove_from_queue(&state.db, entry_id, plan_id, &reason, state.clock.today(), current.stamp(now)).await?;
    current.flash("Personen är borttagen ur kön.");
    Ok(Redirect::to("/queue").into_response())
}
