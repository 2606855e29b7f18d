//! Uppföljning: the meeting that follows up a plan. Each follow-up answers
//! the due date the plan had when it was held, is "on time" when held on or
//! before it, and sets the next due date (DOMAIN.md: 6 weeks for Team ISA,
//! 3 months for förstegsträning, counted from the follow-up held).

use super::model::Progress;
use super::plan_of;
use super::queries::{self, Plan};
use super::store::{self, Recorded, Refused};
use crate::access::Authorized;
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::plans::{self as rules, WeeklyHours};
use crate::error::{AppError, AppResult};
use crate::ids::{GoalId, PartnerId, PlanId};
use crate::participants::model::ConsentScope;
use crate::partners::{self, PartnerChoice, gate};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::routes::Routes;
use crate::web::routes::get;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new().route("/plans/{id}/follow-ups/new", get(new_form).post(create))
}

pub struct FollowUpRow {
    pub id: crate::ids::FollowUpId,
    pub due_on: NaiveDate,
    pub held_on: NaiveDate,
    pub on_time: bool,
    pub participant_took_part: bool,
    pub staff_present: String,
    pub partners: Vec<String>,
    pub partners_without_consent: Vec<String>,
    /// Partners from the register (follow-ups since issue 19), and those of
    /// them met on an urgent reason without consent.
    pub partner_names: Vec<String>,
    pub urgent_names: Vec<String>,
    pub notes: String,
    pub hours_before: i32,
    pub hours_after: i32,
    pub next_due_on: NaiveDate,
    pub recorded_by: String,
    pub progress: Vec<String>,
    /// Who wrote the summary afterwards, for a follow-up completed later.
    pub completed_by: Option<String>,
}

impl FollowUpRow {
    pub fn partner_labels(&self) -> String {
        let mut labels: Vec<&str> = self.partners.iter().map(|p| ConsentScope::label_of(p)).collect();
        labels.extend(self.partner_names.iter().map(String::as_str));
        if labels.is_empty() { "–".into() } else { labels.join(", ") }
    }
    /// Partners met without a consent: earlier follow-ups' confirmed ones, and urgent exceptions.
    pub fn without_consent_labels(&self) -> String {
        let mut labels: Vec<&str> = self.partners_without_consent.iter().map(|p| ConsentScope::label_of(p)).collect();
        labels.extend(self.urgent_names.iter().map(String::as_str));
        labels.join(", ")
    }
    pub fn has_unconsented(&self) -> bool {
        !self.partners_without_consent.is_empty() || !self.urgent_names.is_empty()
    }
    pub fn hours_changed(&self) -> Option<String> {
        (self.hours_before != self.hours_after).then(|| {
            format!(
                "{} → {}",
                crate::web::format::hours(Some(f64::from(self.hours_before) / 100.0)),
                crate::web::format::hours(Some(f64::from(self.hours_after) / 100.0))
            )
        })
    }
}

pub async fn of_plan(db: &PgPool, plan_id: PlanId) -> Result<Vec<FollowUpRow>, sqlx::Error> {
    sqlx::query_as!(
        FollowUpRow,
        r#"SELECT f.id AS "id: crate::ids::FollowUpId", f.due_on, f.held_on, f.on_time AS "on_time!", f.participant_took_part, f.staff_present, f.partners,
                  f.partners_without_consent,
                  ARRAY(SELECT pa.name FROM partner_contacts pc JOIN partners pa ON pa.id = pc.partner_id
                        WHERE pc.follow_up_id = f.id ORDER BY lower(pa.name)) AS "partner_names!",
                  ARRAY(SELECT pa.name FROM partner_contacts pc JOIN partners pa ON pa.id = pc.partner_id
                        WHERE pc.follow_up_id = f.id AND pc.urgent_reason IS NOT NULL ORDER BY lower(pa.name)) AS "urgent_names!",
                  f.notes, (f.weekly_hours_before * 100)::int AS "hours_before!",
                  (f.weekly_hours_after * 100)::int AS "hours_after!", f.next_due_on, u.name AS recorded_by,
                  coalesce((SELECT array_agg(g.description || ': ' || CASE fp.progress
                                WHEN 'not_started' THEN 'inte påbörjat' WHEN 'some' THEN 'viss framgång'
                                WHEN 'clear' THEN 'tydlig framgång' ELSE 'uppnått' END ORDER BY g.id)
                            FROM follow_up_progress fp JOIN plan_goals g ON g.id = fp.goal_id WHERE fp.follow_up_id = f.id),
                           '{}') AS "progress!",
                  c.name AS "completed_by?"
           FROM follow_ups f JOIN users u ON u.id = f.recorded_by LEFT JOIN users c ON c.id = f.completed_by
           WHERE f.plan_id = $1 ORDER BY f.held_on DESC, f.id DESC"#,
        plan_id as _
    )
    .fetch_all(db)
    .await
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct FollowUpForm {
    pub due_on: String,
    pub held_on: String,
    pub participant_took_part: String,
    pub staff_present: String,
    pub partners: Vec<String>,
    pub urgent_reason: String,
    pub notes: String,
    /// One "goal_id:progress" per goal (a select per goal).
    pub progress: Vec<String>,
    pub weekly_hours: String,
}

impl FollowUpForm {
    pub fn partner_checked(&self, code: &str) -> bool {
        self.partners.iter().any(|p| p == code)
    }
    pub fn progress_of(&self, goal: &GoalId) -> String {
        let prefix = format!("{goal}:");
        self.progress.iter().find_map(|p| p.strip_prefix(&prefix)).unwrap_or("").to_string()
    }
}

#[derive(Template)]
#[template(path = "plans/follow_up.html")]
struct FormPage {
    layout: Layout,
    p: Plan,
    form: FollowUpForm,
    errors: FieldErrors,
    goals: Vec<queries::Goal>,
    /// The register's partners, each with whether a consent covers it on the day.
    partners: Vec<PartnerChoice>,
    today: NaiveDate,
}

impl FormPage {
    fn title(&self) -> String {
        format!("Uppföljning: {} {}", self.p.first_name, self.p.last_name)
    }
    fn progresses(&self) -> &'static [Progress] {
        Progress::ALL
    }
    fn show_urgent(&self) -> bool {
        self.errors.has(gate::FIELD) || !self.form.urgent_reason.trim().is_empty()
    }
    fn late(&self) -> bool {
        self.p.next_follow_up_on.is_some_and(|d| d < self.today)
    }
    fn respond(self) -> AppResult<Response> {
        let refused = !self.errors.is_empty();
        crate::web::page(&self, refused)
    }
}

async fn page(
    state: &AppState,
    current: &CurrentUser,
    plan: Plan,
    form: FollowUpForm,
    errors: FieldErrors,
    on: NaiveDate,
) -> AppResult<Response> {
    FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        goals: queries::goals(&state.db, plan.id).await?,
        partners: partners::choices_for(&state.db, plan.participant_id, on, false).await?,
        today: state.clock.today(),
        p: plan,
        form,
        errors,
    }
    .respond()
}

/// Logged as a view of the record by `Authorized`: the form shows the plan.
async fn new_form(State(state): State<AppState>, auth: Authorized<PlanId>) -> AppResult<Response> {
    let (current, plan) = (&auth.current, plan_of(&state, &auth).await?);
    let Some(due) = plan.next_follow_up_on.filter(|_| plan.is_active()) else {
        return Err(AppError::Conflict(
            "Bara en aktiv plan följs upp. Fastställ och aktivera planen först.",
        ));
    };
    let today = state.clock.today();
    let form = FollowUpForm {
        due_on: due.to_string(),
        held_on: today.to_string(),
        participant_took_part: "yes".into(),
        staff_present: current.user.name.clone(),
        weekly_hours: crate::web::format::hours(Some(plan.hours().as_f64())),
        ..FollowUpForm::default()
    };
    page(&state, current, plan, form, FieldErrors::default(), today).await
}

/// A follow-up as typed, checked and ready to record.
pub struct Checked {
    pub due_on: NaiveDate,
    pub held_on: NaiveDate,
    pub took_part: bool,
    pub staff_present: String,
    pub partners: Vec<PartnerId>,
    pub urgent_reason: String,
    pub notes: String,
    pub progress: Vec<(GoalId, &'static str)>,
    pub hours: WeeklyHours,
}

async fn check(
    state: &AppState,
    plan: &Plan,
    form: &FollowUpForm,
    goals: &[queries::Goal],
    errors: &mut FieldErrors,
) -> AppResult<Option<Checked>> {
    let today = state.clock.today();
    let due_on = form.due_on.parse::<NaiveDate>().ok();
    if due_on.is_none() {
        return Err(AppError::BadRequest("follow-up without a due date"));
    }
    let held_on = required_date(&form.held_on).map_err(|m| errors.add("held_on", m)).ok();
    if let Some(held) = held_on {
        if held > today {
            errors.add(
                "held_on",
                "Uppföljningen kan inte registreras i förväg. Välj dagens datum eller tidigare.",
            );
        }
        if plan.set_on.is_some_and(|s| held < s) {
            errors.add("held_on", "Uppföljningen kan inte vara före att planen fastställdes.");
        }
        let last_held = sqlx::query_scalar!("SELECT max(held_on) FROM follow_ups WHERE plan_id = $1", plan.id as _)
            .fetch_one(&state.db)
            .await?;
        if last_held.is_some_and(|l| held < l) {
            errors.add("held_on", "Uppföljningen kan inte vara före den förra uppföljningen.");
        }
    }
    let took_part = crate::web::form::yes_no(&form.participant_took_part);
    if took_part.is_none() {
        errors.add("participant_took_part", "Svara ja eller nej.");
    }
    let staff_present = optional_text(&form.staff_present, 500)
        .map_err(|m| errors.add("staff_present", m))
        .ok();
    // Whether a consent covers each partner is checked when the follow-up is
    // recorded, in its transaction (`partners::gate`).
    let partners = gate::parse_ids(&form.partners)
        .map_err(|m| errors.add(gate::FIELD, m))
        .unwrap_or_default();
    let urgent_reason = optional_text(&form.urgent_reason, 1000)
        .map_err(|m| errors.add(gate::URGENT_FIELD, m))
        .ok();
    let notes = required_text(&form.notes, "en sammanfattning av vad som gjorts och vad som ändras", 20000)
        .map_err(|m| errors.add("notes", m))
        .ok();
    let mut progress = Vec::new();
    for value in &form.progress {
        let Some((goal, code)) = value.split_once(':') else {
            errors.add("progress", "Välj framsteg i listan.");
            continue;
        };
        if code.is_empty() {
            continue;
        }
        match (
            goal.parse::<GoalId>().ok().filter(|g| goals.iter().any(|x| x.id == *g)),
            Progress::parse(code),
        ) {
            (Some(goal), Some(p)) if !progress.iter().any(|(g, _)| *g == goal) => progress.push((goal, p.code())),
            (Some(_), Some(_)) => {}
            _ => errors.add("progress", "Välj framsteg i listan."),
        }
    }
    let hours = WeeklyHours::parse(&form.weekly_hours)
        .map_err(|m| errors.add("weekly_hours", m))
        .ok();
    Ok((|| {
        Some(Checked {
            due_on: due_on?,
            held_on: held_on?,
            took_part: took_part?,
            staff_present: staff_present?,
            partners,
            urgent_reason: urgent_reason?,
            notes: notes?,
            progress,
            hours: hours?,
        })
    })()
    .filter(|_| errors.is_empty()))
}

async fn create(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(form): FormData<FollowUpForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let plan = crate::plans::plan_of(&state, &auth).await?;
    let goals = queries::goals(&state.db, id).await?;
    let mut errors = FieldErrors::default();
    if !plan.is_active() {
        return Err(AppError::Conflict("Bara en aktiv plan följs upp."));
    }
    let checked = check(&state, &plan, &form, &goals, &mut errors).await?;
    let Some(c) = checked else {
        let on = form.held_on.parse().unwrap_or(state.clock.today());
        return page(&state, current, plan, form, errors, on).await;
    };
    match store::record_follow_up(&state.db, &plan, &c, current.stamp(now)).await? {
        Ok(Recorded::Done(next)) => {
            let on_time = if rules::held_on_time(c.held_on, c.due_on) {
                "i tid"
            } else {
                "efter förfallodagen"
            };
            current.flash(&format!(
                "Uppföljningen är registrerad ({on_time}). Nästa uppföljning senast {next}."
            ));
            Ok(Redirect::to(&format!("/plans/{id}#follow-ups")).into_response())
        }
        Ok(Recorded::AlreadyHeld) => {
            // A double submit, or a colleague was first: one follow-up per plan and day.
            current.flash("En uppföljning för den dagen var redan registrerad.");
            Ok(Redirect::to(&format!("/plans/{id}#follow-ups")).into_response())
        }
        Err(Refused { field, message }) => {
            errors.add(field, message);
            page(&state, current, plan, form, errors, c.held_on).await
        }
    }
}
