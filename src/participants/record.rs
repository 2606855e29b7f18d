//! The personakt: one page with the whole story, its printable version, and
//! the forms on it — status (avslut and return), kontaktman, boendestöd,
//! närstående/företrädare and samtycken.

use super::form::ParticipantFields;
use super::identity;
use super::journal::{self, JournalEntry};
use super::model::{ConsentScope, EndReason, Gender, NoteType, ParticipantStatus, ReferralSource, RelativeKind};
use super::queries::{self, Summary, Tx};
use crate::access::{self, Action, Authorized, Print};
use crate::audit;
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::plans::{PlanStatus, Programme};
use crate::error::{AppError, AppResult};
use crate::ids::{ConsentId, ParticipantId};
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::{FieldErrors, FormData, optional_date, optional_text, required_date, required_text};
use crate::web::routes::Routes;
use crate::web::routes::post;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/status", post(change_status))
        .route("/participants/{id}/key-worker", post(assign_key_worker))
        .route("/participants/{id}/home-support", post(add_home_support))
        .route("/participants/{id}/relatives", post(add_relative))
        .route("/participants/{id}/consents", post(add_consent))
        .route("/participants/{id}/consents/{consent_id}/withdraw", post(withdraw_consent))
}

/// Everything on the personakt, loaded with one query per section.
pub struct Record {
    pub id: i64,
    pub summary: Summary,
    pub fields: ParticipantFields,
    pub age: i32,
    pub status_events: Vec<StatusEvent>,
    pub key_worker: Option<KeyWorkerPeriod>,
    pub key_worker_history: Vec<KeyWorkerPeriod>,
    pub home_support: Vec<HomeSupportEntry>,
    pub relatives: Vec<RelativeRow>,
    pub consents: Vec<ConsentRow>,
    pub journal: Vec<JournalEntry>,
}

pub struct StatusEvent {
    pub status: String,
    pub effective_on: NaiveDate,
    pub end_reason: Option<String>,
    pub note: String,
    pub changed_by: String,
}

pub struct KeyWorkerPeriod {
    pub user_id: i64,
    pub name: String,
    pub job_title: String,
    pub from_on: NaiveDate,
    pub to_on: Option<NaiveDate>,
}

pub struct HomeSupportEntry {
    pub valid_from: NaiveDate,
    pub has_support: bool,
    pub provider: String,
    pub hours_per_week: Option<f64>,
    pub recorded_by: String,
}

pub struct RelativeRow {
    pub kind: String,
    pub name: String,
    pub relation: String,
    pub phone: String,
    pub email: String,
    pub note: String,
}

pub struct ConsentRow {
    pub id: i64,
    pub scope: String,
    pub scope_note: String,
    pub given_on: NaiveDate,
    pub withdrawn_on: Option<NaiveDate>,
}

pub async fn load(db: &PgPool, participant: ParticipantId, today: NaiveDate) -> AppResult<Record> {
    let summary = queries::summary(db, participant).await?.ok_or(AppError::NotFound)?;
    let fields = queries::version(db, participant, summary.version)
        .await?
        .ok_or(AppError::NotFound)?
        .fields;
    let id = participant.get();
    let status_events = sqlx::query_as!(
        StatusEvent,
        "SELECT e.status, e.effective_on, e.end_reason, e.note, u.name AS changed_by
         FROM participant_status_events e JOIN users u ON u.id = e.changed_by
         WHERE e.participant_id = $1 ORDER BY e.effective_on DESC, e.id DESC",
        id
    )
    .fetch_all(db)
    .await?;
    let mut key_worker_history = sqlx::query_as!(
        KeyWorkerPeriod,
        "SELECT k.user_id, u.name, u.job_title, k.from_on, k.to_on
         FROM key_worker_assignments k JOIN users u ON u.id = k.user_id
         WHERE k.participant_id = $1 ORDER BY k.from_on DESC, k.id DESC",
        id
    )
    .fetch_all(db)
    .await?;
    let key_worker = key_worker_history
        .iter()
        .position(|k| k.to_on.is_none())
        .map(|i| key_worker_history.remove(i));
    let home_support = sqlx::query_as!(
        HomeSupportEntry,
        r#"SELECT h.valid_from, h.has_support, h.provider, h.hours_per_week::float8 AS hours_per_week, u.name AS recorded_by
           FROM home_support_entries h JOIN users u ON u.id = h.recorded_by
           WHERE h.participant_id = $1 ORDER BY h.valid_from DESC, h.id DESC"#,
        id
    )
    .fetch_all(db)
    .await?;
    let relatives = sqlx::query_as!(
        RelativeRow,
        "SELECT kind, name, relation, phone, email, note FROM relatives WHERE participant_id = $1 ORDER BY kind DESC, name",
        id
    )
    .fetch_all(db)
    .await?;
    let consents = sqlx::query_as!(
        ConsentRow,
        "SELECT id, scope, scope_note, given_on, withdrawn_on FROM consents WHERE participant_id = $1 ORDER BY withdrawn_on NULLS FIRST, given_on DESC",
        id
    )
    .fetch_all(db)
    .await?;
    let journal = journal::entries(db, id).await?;
    Ok(Record {
        id,
        age: identity::age_on(fields.birth_date, today),
        summary,
        fields,
        status_events,
        key_worker,
        key_worker_history,
        home_support,
        relatives,
        consents,
        journal,
    })
}

/// A plan in a list (the personakt's "Planer").
pub struct PlanListRow {
    pub id: i64,
    pub programme: Programme,
    pub status: PlanStatus,
    pub start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub weekly_hours: i32,
    pub next_follow_up_on: Option<NaiveDate>,
    pub queued_on: Option<NaiveDate>,
}

impl PlanListRow {
    pub fn programme_label(&self) -> &'static str {
        self.programme.label()
    }
    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }
    pub fn is_active(&self) -> bool {
        self.status == PlanStatus::Active
    }
    pub fn hours_text(&self) -> String {
        crate::web::format::hours(Some(f64::from(self.weekly_hours) / 100.0))
    }
}

/// The person's plans, newest first, read for the personakt (plans write them).
async fn plans_of(db: &PgPool, participant_id: i64) -> Result<Vec<PlanListRow>, sqlx::Error> {
    sqlx::query_as!(
        PlanListRow,
        r#"SELECT p.id, p.programme AS "programme: Programme", p.status AS "status: PlanStatus", p.start_on, p.planned_end_on, p.ended_on,
                  (p.weekly_hours * 100)::int AS "weekly_hours!", p.next_follow_up_on, q.queued_on AS "queued_on?"
           FROM plans p LEFT JOIN queue_entries q ON q.plan_id = p.id AND q.closed_on IS NULL
           WHERE p.participant_id = $1 ORDER BY p.start_on DESC, p.id DESC"#,
        participant_id
    )
    .fetch_all(db)
    .await
}

#[derive(Template)]
#[template(path = "participants/show.html")]
struct ShowPage {
    layout: Layout,
    r: Record,
    staff: Vec<StaffChoice>,
    accesses: Option<Vec<access::review::LogRow>>,
    plans: Vec<PlanListRow>,
    errors: FieldErrors,
    /// Which form on the page `errors` and `typed` belong to.
    form_in_error: &'static str,
    typed: Typed,
}

/// What was typed into the form that was refused (only one at a time).
#[derive(Default, Deserialize, Clone)]
#[serde(default)]
pub struct Typed {
    pub status: String,
    pub status_on: String,
    pub end_reason: String,
    pub status_note: String,
    pub key_worker_id: String,
    pub key_worker_from: String,
    pub support_from: String,
    pub has_support: String,
    pub support_provider: String,
    pub support_hours: String,
    pub relative_kind: String,
    pub relative_name: String,
    pub relative_relation: String,
    pub relative_phone: String,
    pub relative_email: String,
    pub relative_note: String,
    pub consent_scope: String,
    pub consent_note: String,
    pub consent_given: String,
    pub note_event_on: String,
    pub note_type: String,
    pub note_body: String,
    /// The note a refused correction or dispute was about, and what was typed.
    pub note_id: String,
    pub correct_body: String,
    pub correct_reason: String,
}

impl ShowPage {
    fn masked_or_full(&self) -> String {
        identity::formatted(&self.r.fields.identity_kind, self.r.fields.identity_number.as_deref())
    }
    fn kind_label(&self) -> &'static str {
        identity::IdentityKind::parse(&self.r.fields.identity_kind)
            .map(|k| k.label())
            .unwrap_or("")
    }
    fn gender_label(&self) -> &'static str {
        Gender::label_of(&self.r.fields.gender)
    }
    fn referral_label(&self) -> &'static str {
        ReferralSource::label_of(&self.r.fields.referral_source)
    }
    fn status_label(&self, code: &str) -> &'static str {
        ParticipantStatus::label_of(code)
    }
    fn end_reason_label(&self, code: &str) -> &'static str {
        EndReason::label_of(code)
    }
    fn relative_kind_label(&self, code: &str) -> &'static str {
        RelativeKind::label_of(code)
    }
    fn consent_label(&self, code: &str) -> &'static str {
        ConsentScope::label_of(code)
    }
    fn note_type_label(&self, code: &str) -> &'static str {
        NoteType::label_of(code)
    }
    fn hours(&self, h: &Option<f64>) -> String {
        crate::web::format::hours(*h)
    }
    fn error(&self, form: &str, field: &str) -> &str {
        if self.form_in_error == form { self.errors.get(field) } else { "" }
    }
    /// Whether the refused correction or dispute form (`which`) belongs to note `id`.
    fn note_in_error(&self, which: &str, id: &i64) -> bool {
        self.form_in_error == which && self.typed.note_id == id.to_string()
    }
    fn statuses(&self) -> &'static [ParticipantStatus] {
        ParticipantStatus::ALL
    }
    fn end_reasons(&self) -> &'static [EndReason] {
        EndReason::ALL
    }
    fn consent_scopes(&self) -> &'static [ConsentScope] {
        ConsentScope::ALL
    }
    fn relative_kinds(&self) -> &'static [RelativeKind] {
        RelativeKind::ALL
    }
    fn note_types(&self) -> Vec<NoteType> {
        NoteType::ALL.iter().copied().filter(|t| *t != NoteType::Disputed).collect()
    }
}

pub(super) async fn render_show(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    form_in_error: &'static str,
    errors: FieldErrors,
    typed: Typed,
) -> AppResult<Response> {
    let (current, id, unit_id) = (&auth.current, auth.id.get(), auth.unit_id.get());
    let today = state.clock.today();
    let record = load(&state.db, auth.id, today).await?;
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let accesses = if super::may_review_access(current) {
        Some(
            sqlx::query_as!(
                access::review::LogRow,
                r#"SELECT a.occurred_at, u.name AS user_name, a.user_role, coalesce(un.name, '') AS "unit_name!",
                          a.participant_id, NULL::text AS participant_name, a.action
                   FROM access_log a JOIN users u ON u.id = a.user_id LEFT JOIN units un ON un.id = a.unit_id
                   WHERE a.participant_id = $1 ORDER BY a.occurred_at DESC, a.id DESC LIMIT 50"#,
                id
            )
            .fetch_all(&state.db)
            .await?,
        )
    } else {
        None
    };
    // Every opening of the personakt is logged: a GET by `Authorized`, the
    // refused re-render of a form here.
    if !errors.is_empty() {
        access::log(&state.db, &current.user, &[auth.id], Action::View, state.clock.now()).await?;
    }
    let refused = !errors.is_empty();
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "participants"),
        r: record,
        staff,
        accesses,
        plans: plans_of(&state.db, id).await?,
        errors,
        form_in_error,
        typed,
    };
    crate::web::page(&page, refused)
}

pub async fn show(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let typed = Typed {
        status_on: state.clock.today().to_string(),
        key_worker_from: state.clock.today().to_string(),
        support_from: state.clock.today().to_string(),
        consent_given: state.clock.today().to_string(),
        note_event_on: state.clock.today().to_string(),
        has_support: "yes".into(),
        ..Typed::default()
    };
    render_show(&state, &auth, "", FieldErrors::default(), typed).await
}

#[derive(Template)]
#[template(path = "participants/print.html")]
struct PrintPage {
    layout: Layout,
    r: Record,
    printed_by: String,
    printed_at: String,
}

impl PrintPage {
    fn number(&self) -> String {
        identity::formatted(&self.r.fields.identity_kind, self.r.fields.identity_number.as_deref())
    }
    fn label(&self, list: &str, code: &str) -> String {
        match list {
            "gender" => Gender::label_of(code),
            "referral" => ReferralSource::label_of(code),
            "status" => ParticipantStatus::label_of(code),
            "end_reason" => EndReason::label_of(code),
            "relative" => RelativeKind::label_of(code),
            "consent" => ConsentScope::label_of(code),
            "note" => NoteType::label_of(code),
            _ => code,
        }
        .to_string()
    }
    fn hours(&self, h: &Option<f64>) -> String {
        crate::web::format::hours(*h)
    }
}

/// The printable personakt: the export of the record, logged as a print by
/// `Authorized<_, Print>`.
pub async fn print(State(state): State<AppState>, auth: Authorized<ParticipantId, Print>) -> AppResult<Response> {
    let (now, current) = (state.clock.now(), auth.current);
    let record = load(&state.db, auth.id, state.clock.today()).await?;
    let page = PrintPage {
        layout: Layout::new(&current.ctx, "participants"),
        r: record,
        printed_by: current.user.name.clone(),
        printed_at: crate::web::format::local_time(now),
    };
    Ok(Html(page.render()?).into_response())
}

#[allow(clippy::too_many_arguments)]
pub async fn add_status_event(
    tx: &mut Tx<'_>,
    participant_id: ParticipantId,
    status: ParticipantStatus,
    effective_on: NaiveDate,
    end_reason: Option<EndReason>,
    note: &str,
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO participant_status_events (participant_id, status, effective_on, end_reason, note, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        participant_id as _,
        status.code(),
        effective_on,
        end_reason.map(EndReason::code),
        note,
        by,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Saved: back to the personakt, at the section that changed.
async fn saved(state: &AppState, current: &CurrentUser, id: i64, anchor: &str, message: &str) -> AppResult<Response> {
    current.flash(&state.db, message).await?;
    Ok(Redirect::to(&format!("/participants/{id}#{anchor}")).into_response())
}

async fn change_status(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let status = ParticipantStatus::parse(&typed.status);
    if status.is_none() {
        errors.add("status", "Välj status.");
    }
    let on = required_date(&typed.status_on).map_err(|m| errors.add("status_on", m)).ok();
    // The history stays in order: a change is dated today or earlier, and not before the last one.
    let latest = sqlx::query_scalar!(
        "SELECT max(effective_on) FROM participant_status_events WHERE participant_id = $1",
        id
    )
    .fetch_one(&state.db)
    .await?;
    if let Some(on) = on {
        if on > state.clock.today() {
            errors.add("status_on", "Datumet kan inte ligga i framtiden.");
        } else if latest.is_some_and(|latest| on < latest) {
            errors.add("status_on", "Datumet kan inte vara före den senaste statusändringen.");
        }
    }
    let current_status = sqlx::query_scalar!(
        r#"SELECT status AS "status: ParticipantStatus" FROM participants WHERE id = $1"#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    if status == Some(current_status) {
        errors.add("status", "Deltagaren har redan den statusen.");
    }
    let end_reason = EndReason::parse(&typed.end_reason);
    if status == Some(ParticipantStatus::Ended) && end_reason.is_none() {
        errors.add("end_reason", "Välj avslutsorsak.");
    }
    let note = optional_text(&typed.status_note, 1000)
        .map_err(|m| errors.add("status_note", m))
        .ok();
    let (Some(status), Some(on), Some(note), true) = (status, on, note, errors.is_empty()) else {
        return render_show(&state, &auth, "status", errors, typed).await;
    };
    let end_reason = if status == ParticipantStatus::Ended { end_reason } else { None };
    let mut tx = state.db.begin().await?;
    // Ending records the date and reason on the participant; coming back
    // clears them — on the same record, with the history kept in events.
    sqlx::query!(
        "UPDATE participants SET status = $2, ended_on = $3, end_reason = $4, updated_at = $5 WHERE id = $1",
        id,
        status.code(),
        end_reason.map(|_| on),
        end_reason.map(EndReason::code),
        now
    )
    .execute(&mut *tx)
    .await?;
    add_status_event(&mut tx, auth.id, status, on, end_reason, &note, current.user.id, now).await?;
    if status == ParticipantStatus::Ended {
        // An ended participant has no current kontaktman.
        sqlx::query!(
            "UPDATE key_worker_assignments SET to_on = greatest(from_on, $2) WHERE participant_id = $1 AND to_on IS NULL",
            id,
            on
        )
        .execute(&mut *tx)
        .await?;
    }
    audit::Entry::new(Some(current.user.id), "participant_status")
        .record("participant", id)
        .details(status.code())
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(
        &state,
        current,
        id,
        "status",
        &format!("Status är nu {}.", status.label().to_lowercase()),
    )
    .await
}

async fn assign_key_worker(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id, unit_id) = (&auth.current, auth.id.get(), auth.unit_id.get());
    let mut errors = FieldErrors::default();
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let user_id = typed.key_worker_id.parse::<i64>().ok().filter(|u| staff.iter().any(|s| s.id == *u));
    if user_id.is_none() {
        errors.add("key_worker_id", "Välj en medarbetare på deltagarens enhet.");
    }
    let from = required_date(&typed.key_worker_from)
        .map_err(|m| errors.add("key_worker_from", m))
        .ok();
    if from.is_some_and(|f| f > state.clock.today()) {
        errors.add("key_worker_from", "Datumet kan inte ligga i framtiden.");
    }
    let status = sqlx::query_scalar!(
        r#"SELECT status AS "status: ParticipantStatus" FROM participants WHERE id = $1"#,
        id
    )
    .fetch_one(&state.db)
    .await?;
    if status == ParticipantStatus::Ended {
        errors.add("key_worker_id", "Deltagaren är avslutad. Registrera återkomsten först.");
    }
    let current_period = sqlx::query!(
        "SELECT user_id, from_on FROM key_worker_assignments WHERE participant_id = $1 AND to_on IS NULL",
        id
    )
    .fetch_optional(&state.db)
    .await?;
    if let (Some(period), Some(from)) = (&current_period, from) {
        if from <= period.from_on {
            errors.add("key_worker_from", "Datumet måste vara efter att nuvarande kontaktman utsågs.");
        }
        if user_id == Some(period.user_id) {
            errors.add("key_worker_id", "Det är redan deltagarens kontaktman.");
        }
    }
    let (Some(user_id), Some(from), true) = (user_id, from, errors.is_empty()) else {
        return render_show(&state, &auth, "key_worker", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    // The previous kontaktman's period ends the day before the new one starts.
    sqlx::query!(
        "UPDATE key_worker_assignments SET to_on = $2 WHERE participant_id = $1 AND to_on IS NULL",
        id,
        from.pred_opt().unwrap_or(from)
    )
    .execute(&mut *tx)
    .await?;
    let inserted = sqlx::query!(
        "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        user_id,
        from,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await;
    if let Err(err) = inserted {
        // Periods may not overlap (an exclusion constraint), nor two be current at once.
        let overlap = matches!(&err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01") || db.is_unique_violation());
        if !overlap {
            return Err(err.into());
        }
        drop(tx);
        errors.add(
            "key_worker_from",
            "Perioden krockar med en tidigare kontaktman. Välj ett senare datum.",
        );
        return render_show(&state, &auth, "key_worker", errors, typed).await;
    }
    audit::Entry::new(Some(current.user.id), "key_worker_assigned")
        .record("participant", id)
        .details(&format!("användare {user_id}"))
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "key-worker", "Kontaktman är utsedd.").await
}

/// "4,5" and "4.5" both mean four and a half hours.
pub fn parse_hours(value: &str) -> Result<Option<f64>, &'static str> {
    let value = value.trim().replace(',', ".");
    if value.is_empty() {
        return Ok(None);
    }
    match value.parse::<f64>() {
        Ok(h) if (0.0..=168.0).contains(&h) && (h * 100.0).fract() == 0.0 => Ok(Some(h)),
        _ => Err("Skriv timmar per vecka som ett tal, t.ex. 4,5."),
    }
}

async fn add_home_support(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let from = required_date(&typed.support_from).map_err(|m| errors.add("support_from", m)).ok();
    if from.is_some_and(|f| f > state.clock.today()) {
        errors.add("support_from", "Datumet kan inte ligga i framtiden.");
    }
    let has_support = match typed.has_support.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    if has_support.is_none() {
        errors.add("has_support", "Ange om personen har boendestöd.");
    }
    let provider = optional_text(&typed.support_provider, 200)
        .map_err(|m| errors.add("support_provider", m))
        .ok();
    let hours = parse_hours(&typed.support_hours)
        .map_err(|m| errors.add("support_hours", m))
        .ok()
        .flatten();
    if has_support == Some(false) && hours.is_some_and(|h| h > 0.0) {
        errors.add("support_hours", "Utan boendestöd ska timmarna vara tomma eller 0.");
    }
    let (Some(from), Some(has_support), Some(provider), true) = (from, has_support, provider, errors.is_empty()) else {
        return render_show(&state, &auth, "home_support", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO home_support_entries (participant_id, valid_from, has_support, provider, hours_per_week, recorded_by, recorded_at)
         VALUES ($1, $2, $3, $4, $5::float8::numeric, $6, $7)",
        id,
        from,
        has_support,
        provider,
        hours,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    // The participant's flag follows the latest entry (the priority group).
    sqlx::query!(
        "UPDATE participants SET has_home_support = coalesce((SELECT has_support FROM home_support_entries
             WHERE participant_id = $1 ORDER BY valid_from DESC, id DESC LIMIT 1), false) WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "home_support_recorded")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "home-support", "Boendestödet är registrerat.").await
}

async fn add_relative(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let kind = RelativeKind::parse(&typed.relative_kind);
    if kind.is_none() {
        errors.add("relative_kind", "Välj närstående eller företrädare.");
    }
    let name = required_text(&typed.relative_name, "namn", 200)
        .map_err(|m| errors.add("relative_name", m))
        .ok();
    let relation = optional_text(&typed.relative_relation, 100)
        .map_err(|m| errors.add("relative_relation", m))
        .ok();
    let phone = optional_text(&typed.relative_phone, 40)
        .map_err(|m| errors.add("relative_phone", m))
        .ok();
    let email = optional_text(&typed.relative_email, 254)
        .map_err(|m| errors.add("relative_email", m))
        .ok();
    let note = optional_text(&typed.relative_note, 1000)
        .map_err(|m| errors.add("relative_note", m))
        .ok();
    let (Some(kind), Some(name), Some(relation), Some(phone), Some(email), Some(note), true) =
        (kind, name, relation, phone, email, note, errors.is_empty())
    else {
        return render_show(&state, &auth, "relative", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO relatives (participant_id, kind, name, relation, phone, email, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        id,
        kind.code(),
        name,
        relation,
        phone,
        email,
        note,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "relative_added")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "relatives", &format!("{} är tillagd.", kind.label())).await
}

async fn add_consent(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    FormData(typed): FormData<Typed>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id) = (&auth.current, auth.id.get());
    let mut errors = FieldErrors::default();
    let scope = ConsentScope::parse(&typed.consent_scope);
    if scope.is_none() {
        errors.add("consent_scope", "Välj vad samtycket gäller.");
    }
    let note = optional_text(&typed.consent_note, 300)
        .map_err(|m| errors.add("consent_note", m))
        .ok();
    if scope == Some(ConsentScope::Other) && note.as_deref().is_some_and(str::is_empty) {
        errors.add("consent_note", "Beskriv vad samtycket gäller.");
    }
    let given = required_date(&typed.consent_given).map_err(|m| errors.add("consent_given", m)).ok();
    if given.is_some_and(|g| g > state.clock.today()) {
        errors.add("consent_given", "Datumet kan inte ligga i framtiden.");
    }
    let (Some(scope), Some(note), Some(given), true) = (scope, note, given, errors.is_empty()) else {
        return render_show(&state, &auth, "consent", errors, typed).await;
    };
    let mut tx = state.db.begin().await?;
    sqlx::query!(
        "INSERT INTO consents (participant_id, scope, scope_note, given_on, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6)",
        id,
        scope.code(),
        note,
        given,
        current.user.id,
        now
    )
    .execute(&mut *tx)
    .await?;
    audit::Entry::new(Some(current.user.id), "consent_given")
        .record("participant", id)
        .details(scope.code())
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "consents", "Samtycket är registrerat.").await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct WithdrawForm {
    withdrawn_on: String,
}

async fn withdraw_consent(
    State(state): State<AppState>,
    consent: Authorized<ConsentId>,
    FormData(form): FormData<WithdrawForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let (current, id, consent_id) = (&consent.current, consent.participant()?.get(), consent.id.get());
    let on = optional_date(&form.withdrawn_on).ok().flatten().unwrap_or(state.clock.today());
    let mut tx = state.db.begin().await?;
    let done = sqlx::query!(
        "UPDATE consents SET withdrawn_on = greatest(given_on, $3) WHERE id = $2 AND participant_id = $1 AND withdrawn_on IS NULL",
        id,
        consent_id,
        on
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    audit::Entry::new(Some(current.user.id), "consent_withdrawn")
        .record("participant", id)
        .write(&mut *tx, now)
        .await?;
    tx.commit().await?;
    saved(&state, current, id, "consents", "Samtycket är återkallat.").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_accept_a_decimal_comma() {
        assert_eq!(parse_hours("4,5"), Ok(Some(4.5)));
        assert_eq!(parse_hours("10"), Ok(Some(10.0)));
        assert_eq!(parse_hours(""), Ok(None));
        assert!(parse_hours("fyra").is_err());
        assert!(parse_hours("-1").is_err());
        assert!(parse_hours("4,555").is_err());
    }
}
