//! Bedömning av arbetsförmåga: a work-capacity assessment linked to a plan.
//! Anyone on the unit may write one; only an arbetsterapeut signs it
//! (DOMAIN.md), which a trigger on the table enforces as well. A signed
//! assessment is final.

use super::{render_show, store};
use crate::access::Authorized;

use crate::error::{AppError, AppResult};
use crate::ids::{AssessmentId, PlanId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::routes::Routes;
use crate::web::routes::post;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;

/// The title that may sign (GLOSSARY: the occupational therapist is staff with a title).
pub const SIGNING_TITLE: &str = "arbetsterapeut";

pub fn may_sign(job_title: &str) -> bool {
    job_title.trim().to_lowercase() == SIGNING_TITLE
}

pub fn routes() -> Routes {
    Routes::new()
        .route("/plans/{id}/assessments", post(create))
        .route("/plans/{id}/assessments/{assessment_id}/sign", post(sign))
}

pub struct AssessmentRow {
    pub id: AssessmentId,
    pub assessed_on: NaiveDate,
    pub method: String,
    pub assessment: String,
    pub written_by: String,
    pub signed_by: Option<String>,
    pub signed_at: Option<DateTime<Utc>>,
}

impl AssessmentRow {
    pub fn signed_when(&self) -> String {
        self.signed_at.map(crate::web::format::local_time).unwrap_or_default()
    }
}

pub async fn of_plan(db: &PgPool, plan_id: PlanId) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    sqlx::query_as!(
        AssessmentRow,
        r#"SELECT a.id, a.assessed_on, a.method, a.assessment, w.name AS written_by, s.name AS "signed_by?", a.signed_at
           FROM capacity_assessments a JOIN users w ON w.id = a.written_by LEFT JOIN users s ON s.id = a.signed_by
           WHERE a.plan_id = $1 ORDER BY a.assessed_on DESC, a.id DESC"#,
        plan_id as _
    )
    .fetch_all(db)
    .await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct AssessmentForm {
    pub assessed_on: String,
    pub assessment_method: String,
    pub assessment: String,
    /// "yes" when the writer (an arbetsterapeut) signs at once.
    pub sign_now: String,
}

async fn create(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(form): FormData<AssessmentForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let plan = crate::plans::plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let assessed_on = required_date(&form.assessed_on).map_err(|m| errors.add("assessed_on", m)).ok();
    if assessed_on.is_some_and(|d| d > state.clock.today()) {
        errors.add("assessed_on", "Datumet kan inte ligga i framtiden.");
    }
    let method = optional_text(&form.assessment_method, 300)
        .map_err(|m| errors.add("assessment_method", m))
        .ok();
    let text = required_text(&form.assessment, "bedömningen", 20000)
        .map_err(|m| errors.add("assessment", m))
        .ok();
    let sign_now = form.sign_now == "yes";
    if sign_now && !may_sign(&current.user.job_title) {
        errors.add("assessment", "Bara en arbetsterapeut kan signera en bedömning av arbetsförmåga.");
    }
    let (Some(assessed_on), Some(method), Some(text), true) = (assessed_on, method, text, errors.is_empty()) else {
        let typed = super::Typed {
            assessed_on: form.assessed_on,
            assessment_method: form.assessment_method,
            assessment: form.assessment,
            ..super::Typed::default()
        };
        return render_show(&state, current, plan, "assessment", errors, typed).await;
    };
    let signer = sign_now.then_some(current.user.id);
    store::add_assessment(&state.db, auth.id, assessed_on, &method, &text, signer, current.stamp(now)).await?;
    let message = if sign_now {
        "Bedömningen av arbetsförmåga är sparad och signerad."
    } else {
        "Bedömningen är sparad. En arbetsterapeut behöver signera den."
    };
    current.flash(message);
    Ok(Redirect::to(&format!("/plans/{id}#assessments")).into_response())
}

async fn sign(State(state): State<AppState>, assessment: Authorized<AssessmentId>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id, assessment_id) = (&assessment.current, assessment.as_parent::<PlanId>()?.id, assessment.id);
    if !may_sign(&current.user.job_title) {
        return Err(AppError::Forbidden);
    }
    store::sign_assessment(&state.db, id, assessment_id, current.stamp(now)).await?;
    current.flash("Bedömningen är signerad.");
    Ok(Redirect::to(&format!("/plans/{id}#assessments")).into_response())
}
