//! Stöd vid arbete: after a plan ends in employment, support to the person
//! and the employer for up to a year from the start of employment; contacts
//! within it are logged (with the employer through the consent gate), and
//! the reminder round flags its end a month ahead.

use super::SupportWith;
use super::store::{self, NewSupport, NewSupportContact};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::db::Refused;
use crate::domain::employment;
use crate::error::{AppError, AppResult};
use crate::ids::{EmployerId, ParticipantId, PlanId, SupportId};
use crate::partners::gate;
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::routes::{Routes, get, post};
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/employment-support", get(page).post(start))
        .route("/participants/{id}/employment-support/contacts", post(contact))
        .route("/participants/{id}/employment-support/end", post(end))
}

pub struct SupportView {
    pub id: SupportId,
    pub employer: Option<String>,
    pub start_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub end_note: String,
    pub contacts: Vec<ContactView>,
}

impl SupportView {
    pub fn is_open(&self) -> bool {
        self.ended_on.is_none()
    }
}

pub struct ContactView {
    pub contact_on: NaiveDate,
    pub with_whom: String,
    pub note: String,
    pub staff: String,
    pub urgent: bool,
}

impl ContactView {
    pub fn with_label(&self) -> &'static str {
        SupportWith::label_of(&self.with_whom)
    }
}

/// A plan ended in employment, without support yet.
pub struct EndedPlan {
    pub id: PlanId,
    pub ended_on: NaiveDate,
    pub employer_id: Option<EmployerId>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SupportForm {
    pub plan_id: String,
    pub employer_id: String,
    pub start_on: String,
    pub ends_on: String,
    pub support_id: String,
    pub contact_on: String,
    pub with_whom: String,
    pub note: String,
    pub staff_id: String,
    pub urgent_reason: String,
    pub ended_on: String,
    pub end_note: String,
}

#[derive(Template)]
#[template(path = "employment/support.html")]
struct Page {
    layout: Layout,
    participant_id: ParticipantId,
    name: String,
    supports: Vec<SupportView>,
    ended_plans: Vec<EndedPlan>,
    employers: Vec<crate::plans::employers::EmployerChoiceRow>,
    staff: Vec<StaffChoice>,
    form: SupportForm,
    errors: FieldErrors,
    /// Which form `errors` belong to.
    form_in_error: &'static str,
}

impl Page {
    fn error(&self, form: &str, field: &str) -> &str {
        if self.form_in_error == form { self.errors.get(field) } else { "" }
    }
    fn show_urgent(&self) -> bool {
        self.form_in_error == "contact" && (self.errors.has("with_whom") || !self.form.urgent_reason.trim().is_empty())
    }
    fn withs(&self) -> &'static [SupportWith] {
        SupportWith::ALL
    }
}

async fn render(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    form: SupportForm,
    errors: FieldErrors,
    form_in_error: &'static str,
) -> AppResult<Response> {
    let rows = sqlx::query!(
        r#"SELECT s.id AS "id: SupportId", e.name AS "employer?", s.employment_start_on, s.ends_on, s.ended_on, s.end_note
           FROM employment_supports s LEFT JOIN employers e ON e.id = s.employer_id
           WHERE s.participant_id = $1 ORDER BY s.employment_start_on DESC"#,
        auth.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id.get()).collect();
    let contacts = sqlx::query!(
        r#"SELECT c.support_id, c.contact_on, c.with_whom, c.note, u.name AS staff,
                  EXISTS (SELECT 1 FROM partner_contacts pc WHERE pc.employment_support_contact_id = c.id AND pc.urgent_reason IS NOT NULL) AS "urgent!"
           FROM employment_support_contacts c JOIN users u ON u.id = c.staff_id
           WHERE c.support_id = ANY($1) ORDER BY c.contact_on DESC, c.id DESC"#,
        &ids
    )
    .fetch_all(&state.db)
    .await?;
    let supports = rows
        .into_iter()
        .map(|r| SupportView {
            contacts: contacts
                .iter()
                .filter(|c| c.support_id == r.id.get())
                .map(|c| ContactView {
                    contact_on: c.contact_on,
                    with_whom: c.with_whom.clone(),
                    note: c.note.clone(),
                    staff: c.staff.clone(),
                    urgent: c.urgent,
                })
                .collect(),
            id: r.id,
            employer: r.employer,
            start_on: r.employment_start_on,
            ends_on: r.ends_on,
            ended_on: r.ended_on,
            end_note: r.end_note,
        })
        .collect();
    let ended_plans = sqlx::query_as!(
        EndedPlan,
        r#"SELECT p.id AS "id: PlanId", p.ended_on AS "ended_on!", p.employer_id AS "employer_id: EmployerId"
           FROM plans p WHERE p.participant_id = $1 AND p.status = 'ended' AND p.outcome = 'employment'
             AND NOT EXISTS (SELECT 1 FROM employment_supports s WHERE s.plan_id = p.id)
           ORDER BY p.ended_on DESC"#,
        auth.id as _
    )
    .fetch_all(&state.db)
    .await?;
    if !errors.is_empty() {
        auth.log_shown_again(state).await?;
    }
    let refused = !errors.is_empty();
    let page = Page {
        layout: Layout::new(&auth.current.ctx, "participants"),
        participant_id: auth.id,
        name: crate::access::person_name(&state.db, auth.id).await?,
        supports,
        ended_plans,
        employers: crate::plans::employers::choices(&state.db).await?,
        staff: crate::users::queries::staff_of_units(&state.db, &[auth.unit_id]).await?,
        form,
        errors,
        form_in_error,
    };
    crate::web::page(&page, refused)
}

async fn page(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let today = state.clock.today();
    let form = SupportForm {
        start_on: today.to_string(),
        ends_on: employment::support_last_day(today).to_string(),
        contact_on: today.to_string(),
        ended_on: today.to_string(),
        staff_id: auth.current.user.id.to_string(),
        with_whom: "person".into(),
        ..SupportForm::default()
    };
    render(&state, &auth, form, FieldErrors::default(), "").await
}

async fn answer(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    result: Result<(), Refused>,
    done: &str,
    form: SupportForm,
    which: &'static str,
) -> AppResult<Response> {
    match result {
        Ok(()) => {
            auth.current.flash(done);
            Ok(Redirect::to(&format!("/participants/{}/employment-support", auth.id)).into_response())
        }
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render(state, auth, form, errors, which).await
        }
    }
}

async fn start(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<SupportForm>,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    let plan = form.plan_id.parse::<PlanId>().ok();
    if plan.is_none() {
        errors.add("plan_id", "Välj planen som avslutades med anställning.");
    }
    let employer = match form.employer_id.trim() {
        "" => Some(None),
        id => id.parse::<EmployerId>().ok().map(Some),
    };
    if employer.is_none() {
        errors.add("employer_id", "Välj arbetsgivaren i registret.");
    }
    let start_on = required_date(&form.start_on).map_err(|m| errors.add("start_on", m)).ok();
    let ends_on = required_date(&form.ends_on).map_err(|m| errors.add("ends_on", m)).ok();
    let (Some(plan), Some(employer), Some(start_on), Some(ends_on)) = (plan, employer, start_on, ends_on) else {
        return render(&state, &auth, form, errors, "start").await;
    };
    let new = NewSupport {
        plan,
        employer,
        start_on,
        ends_on,
    };
    let result = store::start_support(&state.db, auth.id, &new, state.clock.today(), auth.current.stamp(state.clock.now()))
        .await?
        .map(|_| ());
    answer(&state, &auth, result, "Stöd vid arbete är registrerat.", form, "start").await
}

fn support_of(form: &SupportForm) -> AppResult<SupportId> {
    form.support_id.parse().map_err(|_| AppError::BadRequest("support_id"))
}

async fn contact(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(form): FormData<SupportForm>,
) -> AppResult<Response> {
    let support = support_of(&form)?;
    let staff = crate::users::queries::staff_of_units(&state.db, &[auth.unit_id]).await?;
    let mut errors = FieldErrors::default();
    let on = required_date(&form.contact_on).map_err(|m| errors.add("contact_on", m)).ok();
    if on.is_some_and(|d| d > state.clock.today()) {
        errors.add("contact_on", "Datumet kan inte ligga i framtiden.");
    }
    let with = SupportWith::parse(&form.with_whom);
    if with.is_none() {
        errors.add("with_whom", "Välj vem kontakten var med.");
    }
    let note = required_text(&form.note, "vad kontakten gällde", 2000)
        .map_err(|m| errors.add("note", m))
        .ok();
    let by = crate::users::queries::chosen_staff(&staff, &form.staff_id);
    if by.is_none() {
        errors.add("staff_id", "Välj vem i personalen som hade kontakten.");
    }
    let urgent_reason = optional_text(&form.urgent_reason, 1000)
        .map_err(|m| errors.add(gate::URGENT_FIELD, m))
        .ok();
    let (Some(on), Some(with), Some(note), Some(staff), Some(urgent_reason), true) = (on, with, note, by, urgent_reason, errors.is_empty())
    else {
        return render(&state, &auth, form, errors, "contact").await;
    };
    let new = NewSupportContact {
        on,
        with_employer: with == SupportWith::Employer,
        note,
        staff,
        urgent_reason,
    };
    let result = store::add_support_contact(&state.db, auth.id, support, &new, auth.current.stamp(state.clock.now()))
        .await?
        .map_err(|r| Refused {
            // The gate's message is about the employer: beside "with whom".
            field: if r.field == gate::FIELD { "with_whom" } else { r.field },
            message: r.message,
        });
    answer(&state, &auth, result, "Kontakten är registrerad.", form, "contact").await
}

async fn end(State(state): State<AppState>, auth: Authorized<ParticipantId>, FormData(form): FormData<SupportForm>) -> AppResult<Response> {
    let support = support_of(&form)?;
    let note = optional_text(&form.end_note, 500).map_err(|_| AppError::BadRequest("end_note"))?;
    let result = match required_date(&form.ended_on) {
        Ok(on) => store::end_support(&state.db, auth.id, support, on, &note, auth.current.stamp(state.clock.now())).await?,
        Err(m) => Err(Refused {
            field: "ended_on",
            message: m.into(),
        }),
    };
    answer(&state, &auth, result, "Stöd vid arbete är avslutat.", form, "end").await
}
