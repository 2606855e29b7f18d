//! Plans for förstegsträning and Team ISA (issue 5). The rules are in
//! `rules` (plain Rust), the checks that need the database in `activation`
//! and `capacity`; this file has the plan's own pages: new, show, edit, and
//! the small forms on the plan page (activate, renew, end, goals,
//! activities). Follow-ups, the waiting list, assessments and the employer
//! register have their own files.

pub mod assessments;
pub mod capacity;
pub mod employers;
pub mod follow_ups;
pub mod form;
pub mod joint_plan;
pub mod model;
pub mod queries;
pub mod queue;
pub mod store;
pub mod versions;

use crate::access::{self, Authorized};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::db::Updated;
use crate::domain::plans::Programme;
use crate::error::{AppError, AppResult};
use crate::ids::{FollowUpId, GoalId, ParticipantId, PlanActivityId, PlanId, UnitId, UserId};
use crate::participants::model::ParticipantStatus;
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::form::{FieldErrors, FormData, optional_text, required_date, required_text};
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use form::PlanForm;
use model::{ActivityStatus, Method, Outcome, WEEKDAYS};
use queries::Plan;
use serde::Deserialize;
use store::{Activation, Refused};

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/plans/new", get(new_form))
        .route("/participants/{id}/plans", post(create))
        .route("/plans/{id}", get(show))
        .route("/plans/{id}/edit", get(edit_form).post(update))
        .route("/plans/{id}/activate", post(activate))
        .route("/plans/{id}/renew", post(renew))
        .route("/plans/{id}/follow-ups/{follow_up_id}/complete", post(complete_follow_up))
        .route("/plans/{id}/renewal/complete", post(complete_renewal))
        .route("/plans/{id}/end", post(end))
        .route("/plans/{id}/goals", post(add_goal))
        .route("/plans/{id}/activities", post(add_activity))
        .route("/plans/{id}/activities/{activity_id}/status", post(set_activity_status))
        .merge(follow_ups::routes())
        .merge(joint_plan::routes())
        .merge(assessments::routes())
        .merge(queue::routes())
        .merge(versions::routes())
        .route("/employers", get(employers::list).post(employers::create))
}

/// Loads a plan the user may reach: proven by the `Authorized` it takes.
pub async fn plan_of(state: &AppState, auth: &Authorized<PlanId>) -> AppResult<Plan> {
    queries::load(&state.db, auth.id).await?.ok_or(AppError::NotFound)
}

/// The programme's name in running text ("plan för förstegsträning", "Team ISA-plan").
pub fn plan_name(programme: Programme) -> &'static str {
    match programme {
        Programme::TeamIsa => "Team ISA-plan",
        Programme::FirstStep => "Plan för förstegsträning",
    }
}

#[derive(Template)]
#[template(path = "plans/form.html")]
struct FormPage {
    layout: Layout,
    heading: String,
    participant_id: ParticipantId,
    participant_name: String,
    /// None for a new plan.
    plan_id: Option<PlanId>,
    form: PlanForm,
    errors: FieldErrors,
    conflict: Option<Conflict>,
    employers: Vec<employers::EmployerChoiceRow>,
    /// A note beside the hours: the unit's capacity now.
    usage: Vec<String>,
}

pub struct Conflict {
    pub changed_by: String,
    pub changed_at: String,
    pub changed: Vec<&'static str>,
}

impl FormPage {
    fn programmes(&self) -> [Programme; 2] {
        Programme::ALL
    }
    fn weekdays(&self) -> [(u8, &'static str); 7] {
        WEEKDAYS
    }
    fn methods(&self) -> &'static [Method] {
        Method::ALL
    }
    fn cancel(&self) -> String {
        match self.plan_id {
            Some(id) => format!("/plans/{id}"),
            None => format!("/participants/{}#plans", self.participant_id),
        }
    }
    fn respond(self) -> AppResult<Response> {
        let status = if self.conflict.is_some() {
            StatusCode::CONFLICT
        } else if self.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        crate::web::render(&self, status)
    }
}

/// The unit's capacity in words, for the form.
async fn usage_lines(state: &AppState, unit_id: UnitId) -> AppResult<Vec<String>> {
    let mut conn = state.db.acquire().await?;
    let mut lines = Vec::new();
    for programme in Programme::ALL {
        let usage = capacity::usage(&mut conn, unit_id, programme).await?;
        lines.push(format!("{}: {}.", programme.label(), usage.describe()));
    }
    Ok(lines)
}

struct Person {
    name: String,
    birth_date: NaiveDate,
    unit_id: UnitId,
    status: ParticipantStatus,
}

async fn person(state: &AppState, participant_id: ParticipantId) -> AppResult<Person> {
    let row = sqlx::query!(
        r#"SELECT first_name, last_name, birth_date, unit_id, status AS "status: ParticipantStatus" FROM participants WHERE id = $1"#,
        participant_id as _
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok(Person {
        name: format!("{} {}", row.first_name, row.last_name),
        birth_date: row.birth_date,
        unit_id: row.unit_id.into(),
        status: row.status,
    })
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct NewQuery {
    programme: String,
}

async fn new_form(State(state): State<AppState>, auth: Authorized<ParticipantId>, Query(query): Query<NewQuery>) -> AppResult<Response> {
    let (current, participant_id) = (&auth.current, auth.id);
    let person = person(&state, participant_id).await?;
    let today = state.clock.today();
    let programme = Programme::parse(&query.programme).unwrap_or(Programme::FirstStep);
    let form = PlanForm {
        programme: programme.code().into(),
        start_on: today.to_string(),
        planned_end_on: today
            .checked_add_months(chrono::Months::new(12))
            .unwrap_or(today)
            .pred_opt()
            .unwrap_or(today)
            .to_string(),
        weekdays: ["1", "2", "3", "4", "5"].map(String::from).to_vec(),
        ..PlanForm::default()
    };
    FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        heading: format!("Ny plan för {}", person.name),
        participant_id,
        participant_name: person.name,
        plan_id: None,
        form,
        errors: FieldErrors::default(),
        conflict: None,
        employers: employers::choices(&state.db).await?,
        usage: usage_lines(&state, person.unit_id).await?,
    }
    .respond()
}

async fn create(State(state): State<AppState>, auth: Authorized<ParticipantId>, FormData(form): FormData<PlanForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, participant_id) = (&auth.current, auth.id);
    let person = person(&state, participant_id).await?;
    let mut errors = FieldErrors::default();
    if person.status == ParticipantStatus::Ended {
        errors.add("programme", "Deltagaren är avslutad. Registrera återkomsten först.");
    }
    let fields = form.validate(person.birth_date, &mut errors);
    let page = |form: PlanForm, errors: FieldErrors| async {
        FormPage {
            layout: Layout::new(&current.ctx, "participants"),
            heading: format!("Ny plan för {}", person.name),
            participant_id,
            participant_name: person.name.clone(),
            plan_id: None,
            form,
            errors,
            conflict: None,
            employers: employers::choices(&state.db).await?,
            usage: usage_lines(&state, person.unit_id).await?,
        }
        .respond()
    };
    let Some(fields) = fields.filter(|_| errors.is_empty()) else {
        return page(form, errors).await;
    };

    let id = match store::create(&state.db, auth.id, person.unit_id, &fields, current.stamp(now)).await? {
        Ok(id) => id,
        Err(Refused { field, message }) => {
            errors.add(field, message);
            return page(form, errors).await;
        }
    };
    current.flash("Planen är sparad som utkast. Lägg till mål och fastställ planen när den är klar.");
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

/// The typed values of the small forms on the plan page (one refused at a time).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct Typed {
    pub set_on: String,
    pub renewed_on: String,
    pub renewal_review: String,
    pub ended_on: String,
    pub outcome: String,
    pub outcome_note: String,
    pub goal_description: String,
    pub goal_parent: String,
    pub activity_goal: String,
    pub activity_description: String,
    pub activity_responsible: String,
    pub activity_status: String,
    pub assessed_on: String,
    pub assessment_method: String,
    pub assessment: String,
    /// Completing an older record: the follow-up's id, or empty for the renewal.
    pub follow_up_id: String,
    pub completion: String,
}

#[derive(Template)]
#[template(path = "plans/show.html")]
struct ShowPage {
    layout: Layout,
    p: Plan,
    goals: Vec<queries::Goal>,
    activities: Vec<queries::Activity>,
    follow_ups: Vec<follow_ups::FollowUpRow>,
    assessments: Vec<assessments::AssessmentRow>,
    versions: Vec<queries::VersionRow>,
    reminders: Vec<ReminderRow>,
    queued_on: Option<NaiveDate>,
    staff: Vec<crate::users::queries::StaffChoice>,
    usage: String,
    today: NaiveDate,
    may_sign: bool,
    /// The latest renewal says what was reviewed (or there is none).
    renewal_reviewed: bool,
    form_in_error: &'static str,
    errors: FieldErrors,
    typed: Typed,
}

pub struct ReminderRow {
    pub kind: String,
    pub due_on: NaiveDate,
}

impl ReminderRow {
    pub fn kind_label(&self) -> &'static str {
        model::ReminderKind::label_of(&self.kind)
    }
}

impl ShowPage {
    fn title(&self) -> String {
        format!("{}: {} {}", plan_name(self.p.programme), self.p.first_name, self.p.last_name)
    }
    fn status_label(&self) -> &'static str {
        self.p.status.label()
    }
    fn is_team_isa(&self) -> bool {
        self.p.programme == Programme::TeamIsa
    }
    fn is_draft(&self) -> bool {
        self.p.is_draft()
    }
    fn is_active(&self) -> bool {
        self.p.is_active()
    }
    fn hours(&self) -> String {
        crate::web::format::hours(Some(self.p.hours().as_f64()))
    }
    fn weekdays(&self) -> String {
        model::weekdays_text(self.p.weekdays)
    }
    fn methods(&self) -> String {
        let labels: Vec<&str> = self.p.methods.iter().map(|m| Method::label_of(m)).collect();
        if labels.is_empty() { "–".into() } else { labels.join(", ") }
    }
    fn outcome_label(&self) -> &'static str {
        self.p.outcome.as_deref().map(Outcome::label_of).unwrap_or("–")
    }
    fn outcomes(&self) -> &'static [Outcome] {
        Outcome::ALL
    }
    fn activity_statuses(&self) -> &'static [ActivityStatus] {
        ActivityStatus::ALL
    }
    fn main_goals(&self) -> Vec<&queries::Goal> {
        self.goals.iter().filter(|g| g.parent_id.is_none()).collect()
    }
    fn sub_goals(&self, parent: &GoalId) -> Vec<&queries::Goal> {
        self.goals.iter().filter(|g| g.parent_id == Some(*parent)).collect()
    }
    fn activities_of(&self, goal: &GoalId) -> Vec<&queries::Activity> {
        self.activities.iter().filter(|a| a.goal_id == *goal).collect()
    }
    fn overdue(&self, date: &NaiveDate) -> bool {
        *date < self.today
    }
    fn error(&self, form: &str, field: &str) -> &str {
        if self.form_in_error == form { self.errors.get(field) } else { "" }
    }
    /// Follow-ups recorded without their written summary, to complete (and
    /// the one whose completion was just refused, to show why).
    fn unsummarised(&self) -> Vec<&follow_ups::FollowUpRow> {
        self.follow_ups
            .iter()
            .filter(|f| f.notes.trim().is_empty() || self.completing(&f.id.to_string()))
            .collect()
    }
    /// The message and typed text of the completion form for `key` (a
    /// follow-up's id, or "renewal"), when that one was refused.
    fn completion_error(&self, key: &str) -> &str {
        if self.completing(key) { self.errors.get("completion") } else { "" }
    }
    fn completion_typed(&self, key: &str) -> &str {
        if self.completing(key) { &self.typed.completion } else { "" }
    }
    fn completing(&self, key: &str) -> bool {
        let sent = if self.typed.follow_up_id.is_empty() {
            "renewal"
        } else {
            self.typed.follow_up_id.as_str()
        };
        self.form_in_error == "complete" && sent == key
    }
}

pub(crate) async fn render_show(
    state: &AppState,
    current: &CurrentUser,
    plan: Plan,
    form_in_error: &'static str,
    errors: FieldErrors,
    typed: Typed,
) -> AppResult<Response> {
    let id = plan.id;
    let reminders = sqlx::query_as!(
        ReminderRow,
        "SELECT kind, due_on FROM reminders WHERE plan_id = $1 AND cleared_at IS NULL ORDER BY due_on",
        id as _
    )
    .fetch_all(&state.db)
    .await?;
    let queued_on = sqlx::query_scalar!(
        "SELECT queued_on FROM queue_entries WHERE plan_id = $1 AND closed_on IS NULL",
        id as _
    )
    .fetch_optional(&state.db)
    .await?;
    let usage = {
        let mut conn = state.db.acquire().await?;
        capacity::usage(&mut conn, plan.unit_id, plan.programme()).await?.describe()
    };
    // A GET is logged by `Authorized`; a refused form shows the plan again.
    if !errors.is_empty() {
        access::log_shown(state, current, plan.participant_id).await?;
    }
    let renewal_reviewed = match plan.renewed_on {
        None => true,
        Some(on) => {
            sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM plan_renewals WHERE plan_id = $1 AND renewed_on = $2) AS "reviewed!""#,
                id as _,
                on
            )
            .fetch_one(&state.db)
            .await?
        }
    };
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "participants"),
        renewal_reviewed,
        goals: queries::goals(&state.db, id).await?,
        activities: queries::activities(&state.db, id).await?,
        follow_ups: follow_ups::of_plan(&state.db, id).await?,
        assessments: assessments::of_plan(&state.db, id).await?,
        versions: queries::versions(&state.db, id).await?,
        staff: crate::users::queries::staff_of_units(&state.db, &[plan.unit_id]).await?,
        reminders,
        queued_on,
        usage,
        today: state.clock.today(),
        may_sign: assessments::may_sign(&current.user.job_title),
        p: plan,
        form_in_error,
        errors,
        typed,
    };
    let refused = !page.errors.is_empty();
    crate::web::page(&page, refused)
}

fn default_typed(today: NaiveDate) -> Typed {
    Typed {
        set_on: today.to_string(),
        renewed_on: today.to_string(),
        ended_on: today.to_string(),
        assessed_on: today.to_string(),
        ..Typed::default()
    }
}

async fn show(State(state): State<AppState>, auth: Authorized<PlanId>) -> AppResult<Response> {
    let (current, plan) = (&auth.current, plan_of(&state, &auth).await?);
    render_show(
        &state,
        current,
        plan,
        "",
        FieldErrors::default(),
        default_typed(state.clock.today()),
    )
    .await
}

fn saved(current: &CurrentUser, id: PlanId, message: &str) -> AppResult<Response> {
    current.flash(message);
    Ok(Redirect::to(&format!("/plans/{id}")).into_response())
}

fn form_of(plan: &Plan) -> PlanForm {
    PlanForm {
        programme: plan.programme.code().into(),
        start_on: plan.start_on.to_string(),
        planned_end_on: plan.planned_end_on.to_string(),
        weekly_hours: crate::web::format::hours(Some(plan.hours().as_f64())),
        weekdays: WEEKDAYS
            .iter()
            .filter(|(n, _)| plan.weekdays & model::weekday_bit(*n) != 0)
            .map(|(n, _)| n.to_string())
            .collect(),
        methods: plan.methods.clone(),
        participation: plan.participation.clone(),
        summary: plan.summary.clone(),
        employer_id: plan.employer_id.map(|e| e.to_string()).unwrap_or_default(),
        supervisor: plan.supervisor.clone(),
        tasks: plan.tasks.clone(),
        version: plan.version.to_string(),
        ..PlanForm::default()
    }
}

async fn edit_page(
    state: &AppState,
    current: &CurrentUser,
    plan: &Plan,
    form: PlanForm,
    errors: FieldErrors,
    conflict: Option<Conflict>,
) -> AppResult<Response> {
    FormPage {
        layout: Layout::new(&current.ctx, "participants"),
        heading: format!(
            "Ändra {} för {} {}",
            plan_name(plan.programme).to_lowercase(),
            plan.first_name,
            plan.last_name
        ),
        participant_id: plan.participant_id,
        participant_name: format!("{} {}", plan.first_name, plan.last_name),
        plan_id: Some(plan.id),
        form,
        errors,
        conflict,
        employers: employers::choices(&state.db).await?,
        usage: usage_lines(state, plan.unit_id).await?,
    }
    .respond()
}

/// Logged as a view of the record by `Authorized`, as the plan page is.
async fn edit_form(State(state): State<AppState>, auth: Authorized<PlanId>) -> AppResult<Response> {
    let (current, plan) = (&auth.current, plan_of(&state, &auth).await?);
    if plan.is_ended() {
        return Err(AppError::Conflict("Planen är avslutad och kan inte ändras."));
    }
    let form = form_of(&plan);
    edit_page(&state, current, &plan, form, FieldErrors::default(), None).await
}

/// The parts of a plan as the page shows them, in its order, with their
/// Swedish names: for a version's page and for the conflict message.
pub const PARTS: [(&str, &str); 19] = [
    ("programme", "Program"),
    ("status", "Status"),
    ("start_on", "Start"),
    ("planned_end_on", "Planerat slut"),
    ("weekly_hours", "Timmar per vecka"),
    ("weekdays", "Veckodagar"),
    ("methods", "Metoder"),
    ("participation", "Personens delaktighet"),
    ("summary", "Skriftlig sammanfattning"),
    ("employer_id", "Arbetsgivare"),
    ("supervisor", "Handledare"),
    ("tasks", "Arbetsuppgifter"),
    ("set_on", "Fastställd"),
    ("renewed_on", "Förnyad"),
    ("next_follow_up_on", "Nästa uppföljning"),
    ("ended_on", "Avslutad"),
    ("outcome", "Utfall"),
    ("goals", "Mål och delmål"),
    ("activities", "Planaktiviteter"),
];

fn part_label(key: &str) -> Option<&'static str> {
    PARTS.iter().find(|(k, _)| *k == key).map(|(_, label)| *label)
}

async fn update(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(form): FormData<PlanForm>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    if plan.is_ended() {
        return Err(AppError::Conflict("Planen är avslutad och kan inte ändras."));
    }
    // The programme is chosen when the plan is made.
    let form = PlanForm {
        programme: plan.programme.code().into(),
        ..form
    };
    let mut errors = FieldErrors::default();
    let base_version = form.version.parse::<i32>().unwrap_or(0);
    let Some(fields) = form.validate(plan.birth_date, &mut errors).filter(|_| errors.is_empty()) else {
        return edit_page(&state, current, &plan, form, errors, None).await;
    };
    match store::update(&state.db, &plan, base_version, &fields, current.stamp(now)).await? {
        Err(Refused { field, message }) => {
            errors.add(field, message);
            return edit_page(&state, current, &plan, form, errors, None).await;
        }
        Ok(Updated::Saved) => {}
        Ok(Updated::Conflict) => {
            // Someone saved after this form was opened: say who and what, keep what was typed.
            let latest = queries::load(&state.db, id).await?.ok_or(AppError::NotFound)?;
            let changed = queries::changed_keys(&state.db, id, base_version, latest.version)
                .await?
                .iter()
                .filter_map(|k| part_label(k))
                .collect();
            let conflict = Conflict {
                changed_by: latest.updated_by_name.clone(),
                changed_at: crate::web::format::local_time(latest.updated_at),
                changed,
            };
            let form = PlanForm {
                version: latest.version.to_string(),
                ..form
            };
            return edit_page(&state, current, &latest, form, errors, Some(conflict)).await;
        }
    }
    saved(current, id, "Planen är sparad.")
}

async fn activate(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let now = state.clock.now();
    let today = state.clock.today();
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let Ok(set_on) = required_date(&typed.set_on).map_err(|m| errors.add("set_on", m)) else {
        return render_show(&state, current, plan, "activate", errors, typed).await;
    };
    match store::activate(&state.db, auth.id, set_on, today, current.stamp(now), true).await? {
        Activation::Refused { field, message } => {
            errors.add(field, message);
            render_show(&state, current, plan, "activate", errors, typed).await
        }
        Activation::Queued { usage } => saved(
            current,
            id,
            &format!("Det finns ingen plats just nu ({usage}). Planen står i kö och aktiveras när en plats blir ledig."),
        ),
        Activation::Activated { warning } => {
            let message = match warning {
                Some(w) => format!("Planen är fastställd och aktiv. {w}"),
                None => "Planen är fastställd och aktiv.".into(),
            };
            saved(current, id, &message)
        }
    }
}

async fn renew(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let (now, today) = (state.clock.now(), state.clock.today());
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let renewed_on = required_date(&typed.renewed_on).map_err(|m| errors.add("renewed_on", m)).ok();
    if let Err(message) = required_text(&typed.renewal_review, "vad som gicks igenom", 20_000) {
        errors.add("renewal_review", message);
    }
    let (Some(renewed_on), true) = (renewed_on, errors.is_empty()) else {
        return render_show(&state, current, plan, "renew", errors, typed).await;
    };
    match store::renew(&state.db, &plan, renewed_on, &typed.renewal_review, today, current.stamp(now)).await? {
        Ok(due) => saved(current, id, &format!("Planen är förnyad. Nästa förnyelse senast {due}.")),
        Err(Refused { field, message }) => {
            errors.add(field, message);
            render_show(&state, current, plan, "renew", errors, typed).await
        }
    }
}

/// Adds the summary an older follow-up lacks (listed for managers as
/// "Ofullständiga uppgifter").
async fn complete_follow_up(
    State(state): State<AppState>,
    auth: Authorized<PlanId>,
    Path((_, follow_up)): Path<(PlanId, FollowUpId)>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let typed = Typed {
        follow_up_id: follow_up.to_string(),
        ..typed
    };
    complete(&state, &auth, store::Completion::FollowUp(follow_up), typed).await
}

/// Adds what was reviewed at the plan's latest renewal, when it lacks that.
async fn complete_renewal(
    State(state): State<AppState>,
    auth: Authorized<PlanId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let typed = Typed {
        follow_up_id: String::new(),
        ..typed
    };
    complete(&state, &auth, store::Completion::Renewal, typed).await
}

async fn complete(state: &AppState, auth: &Authorized<PlanId>, what: store::Completion, typed: Typed) -> AppResult<Response> {
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(state, auth).await?;
    match store::complete(&state.db, &plan, what, &typed.completion, current.stamp(state.clock.now())).await? {
        Ok(()) => saved(current, id, "Kompletterat. Det syns att det skrevs i efterhand."),
        Err(Refused { field, message }) => {
            let mut errors = FieldErrors::default();
            errors.add(field, message);
            render_show(state, current, plan, "complete", errors, typed).await
        }
    }
}

async fn end(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let (now, today) = (state.clock.now(), state.clock.today());
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let ended_on = required_date(&typed.ended_on).map_err(|m| errors.add("ended_on", m)).ok();
    let outcome = Outcome::parse(&typed.outcome);
    if outcome.is_none() {
        errors.add("outcome", "Välj utfall.");
    }
    let note = optional_text(&typed.outcome_note, 1000)
        .map_err(|m| errors.add("outcome_note", m))
        .ok();
    let (Some(ended_on), Some(outcome), Some(note), true) = (ended_on, outcome, note, errors.is_empty()) else {
        return render_show(&state, current, plan, "end", errors, typed).await;
    };
    match store::end(&state.db, &plan, ended_on, today, outcome, &note, current.stamp(now)).await? {
        Ok(()) => saved(current, id, "Planen är avslutad. Platsen är ledig för nästa i kön."),
        Err(Refused { field, message }) => {
            errors.add(field, message);
            render_show(&state, current, plan, "end", errors, typed).await
        }
    }
}

async fn add_goal(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let description = required_text(&typed.goal_description, "målet", 1000)
        .map_err(|m| errors.add("goal_description", m))
        .ok();
    let parent = match typed.goal_parent.trim() {
        "" => Some(None),
        value => value.parse::<GoalId>().ok().map(Some),
    };
    if parent.is_none() {
        errors.add("goal_parent", "Välj ett mål i listan.");
    }
    let (Some(description), Some(parent), true) = (description, parent, errors.is_empty()) else {
        return render_show(&state, current, plan, "goal", errors, typed).await;
    };
    if let Err(Refused { field, message }) = store::add_goal(&state.db, &plan, parent, &description, current.stamp(now)).await? {
        errors.add(field, message);
        return render_show(&state, current, plan, "goal", errors, typed).await;
    }
    let message = if parent.is_some() {
        "Delmålet är tillagt."
    } else {
        "Målet är tillagt."
    };
    saved(current, id, message)
}

async fn add_activity(State(state): State<AppState>, auth: Authorized<PlanId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id);
    let plan = plan_of(&state, &auth).await?;
    let mut errors = FieldErrors::default();
    let goal = typed.activity_goal.parse::<GoalId>().ok();
    let description = required_text(&typed.activity_description, "planaktiviteten", 1000)
        .map_err(|m| errors.add("activity_description", m))
        .ok();
    let staff = crate::users::queries::staff_of_units(&state.db, &[plan.unit_id]).await?;
    let responsible = typed
        .activity_responsible
        .parse::<UserId>()
        .ok()
        .filter(|r| staff.iter().any(|s| s.id == *r));
    if responsible.is_none() {
        errors.add("activity_responsible", "Välj en ansvarig medarbetare på enheten.");
    }
    if goal.is_none() {
        errors.add("activity_goal", "Välj mål eller delmål för planaktiviteten.");
    }
    let (Some(goal), Some(description), Some(responsible), true) = (goal, description, responsible, errors.is_empty()) else {
        return render_show(&state, current, plan, "activity", errors, typed).await;
    };
    if let Err(Refused { field, message }) =
        store::add_activity(&state.db, &plan, goal, &description, responsible, current.stamp(now)).await?
    {
        errors.add(field, message);
        return render_show(&state, current, plan, "activity", errors, typed).await;
    }
    saved(current, id, "Planaktiviteten är tillagd.")
}

async fn set_activity_status(
    State(state): State<AppState>,
    activity: Authorized<PlanActivityId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let auth = activity.as_parent::<PlanId>()?;
    let (current, id, activity_id) = (&auth.current, auth.id, activity.id);
    let plan = plan_of(&state, &auth).await?;
    let Some(status) = ActivityStatus::parse(&typed.activity_status) else {
        return Err(AppError::BadRequest("unknown activity status"));
    };
    store::set_activity_status(&state.db, &plan, activity_id, status, current.stamp(now)).await?;
    saved(current, id, &format!("Planaktiviteten är nu {}.", status.label().to_lowercase()))
}
