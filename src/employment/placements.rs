//! Lärandeplatser: a person's placements at employers of the register, with
//! supervisor, tasks, start and end; each stands on a consent that covers the
//! employer on its first day (or an urgent reason).

use super::store::{self, NewPlacement};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::error::AppResult;
use crate::ids::{EmployerId, ParticipantId, PlacementId, PlanId};
use crate::partners::gate;
use crate::plans::employers::{EmployerChoiceRow, choices};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_date, optional_text, required_date, required_text, yes_no};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/placements", get(page).post(add))
        .route("/participants/{id}/placements/end", post(end))
}

pub struct PlacementRow {
    pub id: PlacementId,
    pub employer: String,
    pub supervisor: String,
    pub tasks: String,
    pub competitive: bool,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
    pub urgent: bool,
}

pub struct PlanChoice {
    pub id: PlanId,
    pub label: String,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct PlacementForm {
    pub employer_id: String,
    pub plan_id: String,
    pub supervisor: String,
    pub tasks: String,
    pub competitive: String,
    pub start_on: String,
    pub end_on: String,
    pub urgent_reason: String,
    /// The end form's own fields.
    pub placement_id: String,
    pub ended_on: String,
}

#[derive(Template)]
#[template(path = "employment/placements.html")]
struct Page {
    layout: Layout,
    participant_id: ParticipantId,
    name: String,
    rows: Vec<PlacementRow>,
    employers: Vec<EmployerChoiceRow>,
    plans: Vec<PlanChoice>,
    form: PlacementForm,
    errors: FieldErrors,
}

impl Page {
    fn show_urgent(&self) -> bool {
        self.errors.has("employer_id") || !self.form.urgent_reason.trim().is_empty()
    }
}

async fn render(state: &AppState, auth: &Authorized<ParticipantId>, form: PlacementForm, errors: FieldErrors) -> AppResult<Response> {
    let rows = sqlx::query_as!(
        PlacementRow,
        r#"SELECT pl.id AS "id: PlacementId", e.name AS employer, pl.supervisor, pl.tasks, pl.competitive, pl.start_on, pl.end_on,
                  EXISTS (SELECT 1 FROM partner_contacts pc WHERE pc.placement_id = pl.id AND pc.urgent_reason IS NOT NULL) AS "urgent!"
           FROM placements pl JOIN employers e ON e.id = pl.employer_id
           WHERE pl.participant_id = $1 ORDER BY pl.start_on DESC, pl.id DESC"#,
        auth.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let plans = sqlx::query!(
        r#"SELECT id AS "id: PlanId", programme, start_on FROM plans WHERE participant_id = $1 AND status <> 'draft' ORDER BY start_on DESC"#,
        auth.id as _
    )
    .fetch_all(&state.db)
    .await?
    .into_iter()
    .map(|p| PlanChoice {
        id: p.id,
        label: format!(
            "{} från {}",
            crate::domain::plans::Programme::parse(&p.programme).map_or("", |x| x.label()),
            p.start_on
        ),
    })
    .collect();
    if !errors.is_empty() {
        auth.log_shown_again(state).await?;
    }
    let refused = !errors.is_empty();
    let page = Page {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant_id: auth.id,
        name: crate::access::person_name(&state.db, auth.id).await?,
        rows,
        employers: choices(&state.db).await?,
        plans,
        form,
        errors,
    };
    crate::web::page(&page, refused)
}

async fn page(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let today = state.clock.today().to_string();
    let form = PlacementForm {
        start_on: today.clone(),
        ended_on: today,
        competitive: "no".into(),
        ..PlacementForm::default()
    };
    render(&state, &auth, form, FieldErrors::default()).await
}

async fn add(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<PlacementForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let employer = form.employer_id.parse::<EmployerId>().ok();
    if employer.is_none() {
        errors.add("employer_id", "Välj arbetsgivaren i registret (lägg till den under Arbetsgivare).");
    }
    let plan = match form.plan_id.trim() {
        "" => Some(None),
        id => id.parse::<PlanId>().ok().map(Some),
    };
    if plan.is_none() {
        errors.add("plan_id", "Välj en av personens planer.");
    }
    let supervisor = optional_text(&form.supervisor, 200).map_err(|m| errors.add("supervisor", m)).ok();
    let tasks = required_text(&form.tasks, "arbetsuppgifterna", 1000)
        .map_err(|m| errors.add("tasks", m))
        .ok();
    let competitive = yes_no(&form.competitive);
    if competitive.is_none() {
        errors.add("competitive", "Svara ja eller nej.");
    }
    let start_on = required_date(&form.start_on).map_err(|m| errors.add("start_on", m)).ok();
    let end_on = optional_date(&form.end_on).map_err(|m| errors.add("end_on", m)).ok();
    if let (Some(start), Some(Some(end))) = (start_on, end_on)
        && end < start
    {
        errors.add("end_on", "Slutet kan inte vara före starten.");
    }
    let urgent_reason = optional_text(&form.urgent_reason, 1000)
        .map_err(|m| errors.add(gate::URGENT_FIELD, m))
        .ok();
    let (
        Some(employer),
        Some(plan),
        Some(supervisor),
        Some(tasks),
        Some(competitive),
        Some(start_on),
        Some(end_on),
        Some(urgent_reason),
        true,
    ) = (
        employer,
        plan,
        supervisor,
        tasks,
        competitive,
        start_on,
        end_on,
        urgent_reason,
        errors.is_empty(),
    )
    else {
        return render(&state, &auth, form, errors).await;
    };
    let new = NewPlacement {
        plan,
        employer,
        supervisor,
        tasks,
        competitive,
        start_on,
        end_on,
        urgent_reason,
    };
    match store::add_placement(&state.db, auth.id, &new, auth.current.stamp(state.clock.now())).await? {
        Ok(_) => {
            auth.current.flash("Lärandeplatsen är registrerad.");
            Ok(Redirect::to(&format!("/participants/{}/placements", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            // The gate names its field "partners": here that is the employer.
            let field = if field == gate::FIELD { "employer_id" } else { field };
            errors.add(field, message);
            render(&state, &auth, form, errors).await
        }
    }
}

async fn end(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<PlacementForm>,
) -> AppResult<Response> {
    let placement = form
        .placement_id
        .parse::<PlacementId>()
        .map_err(|_| crate::error::AppError::BadRequest("placement_id"))?;
    let result = match required_date(&form.ended_on) {
        Ok(on) => store::end_placement(&state.db, auth.id, placement, on, auth.current.stamp(state.clock.now())).await?,
        Err(m) => Err(Refused {
            field: "ended_on",
            message: m.into(),
        }),
    };
    match result {
        Ok(()) => {
            auth.current.flash("Lärandeplatsen är avslutad.");
            Ok(Redirect::to(&format!("/participants/{}/placements", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render(&state, &auth, form, errors).await
        }
    }
}
