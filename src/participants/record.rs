//! The personakt: one page with the whole story, and its printable version.
//! The forms on it that change its facts are in `changes.rs`.

use super::form::ParticipantFields;
use super::identity;
use super::journal::{self, JournalEntry};
use super::model::{ConsentScope, EndReason, Gender, NoteType, ParticipantStatus, ReferralSource, RelativeKind};
use super::queries::{self, Summary};
use crate::access::{self, Authorized, Print};
use crate::auth::context::Layout;
use crate::domain::plans::{PlanStatus, Programme};
use crate::error::{AppError, AppResult};
use crate::ids::{ConsentId, JournalNoteId, ParticipantId, PlanId, UserId};
use crate::state::AppState;
use crate::users::queries::StaffChoice;
use crate::web::form::FieldErrors;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use sqlx::PgPool;

/// Everything on the personakt, loaded with one query per section.
pub struct Record {
    pub id: ParticipantId,
    /// The first check-in, for *Första besök* when none was typed.
    pub first_check_in: Option<NaiveDate>,
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
    /// The person has protected identity and the viewer is not named on
    /// them: address and contact details are replaced (`hide_contact`).
    pub contact_hidden: bool,
    /// The viewer is named on the person (kontaktman, or on their plan).
    pub viewer_named: bool,
}

pub struct StatusEvent {
    pub status: String,
    pub effective_on: NaiveDate,
    pub end_reason: Option<String>,
    pub note: String,
    pub changed_by: String,
}

pub struct KeyWorkerPeriod {
    pub user_id: UserId,
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
    /// A value corrected by a later one for the same date: by whom, when, why.
    pub corrected_by: Option<String>,
    pub corrected_at: Option<chrono::DateTime<chrono::Utc>>,
    pub correction_reason: String,
}

pub struct RelativeRow {
    pub id: crate::ids::RelativeId,
    pub ended_on: Option<chrono::NaiveDate>,
    pub kind: String,
    pub name: String,
    pub relation: String,
    pub phone: String,
    pub email: String,
    pub note: String,
}

pub struct ConsentRow {
    pub id: ConsentId,
    pub scope: String,
    pub scope_note: String,
    pub given_on: NaiveDate,
    pub withdrawn_on: Option<NaiveDate>,
    /// The one organisation it covers, when it names one.
    pub partner: Option<String>,
}

pub async fn load(db: &PgPool, participant: ParticipantId, today: NaiveDate) -> AppResult<Record> {
    let summary = queries::summary(db, participant).await?.ok_or(AppError::NotFound)?;
    let fields = queries::version(db, participant, summary.version)
        .await?
        .ok_or(AppError::NotFound)?
        .fields;
    let id = participant;
    let status_events = sqlx::query_as!(
        StatusEvent,
        "SELECT e.status, e.effective_on, e.end_reason, e.note, u.name AS changed_by
         FROM participant_status_events e JOIN users u ON u.id = e.changed_by
         WHERE e.participant_id = $1 ORDER BY e.effective_on DESC, e.id DESC",
        id as _
    )
    .fetch_all(db)
    .await?;
    let mut key_worker_history = sqlx::query_as!(
        KeyWorkerPeriod,
        "SELECT k.user_id, u.name, u.job_title, k.from_on, k.to_on
         FROM key_worker_assignments k JOIN users u ON u.id = k.user_id
         WHERE k.participant_id = $1 ORDER BY k.from_on DESC, k.id DESC",
        id as _
    )
    .fetch_all(db)
    .await?;
    let key_worker = key_worker_history
        .iter()
        .position(|k| k.to_on.is_none())
        .map(|i| key_worker_history.remove(i));
    let home_support = sqlx::query_as!(
        HomeSupportEntry,
        r#"SELECT h.valid_from, h.has_support, h.provider, h.hours_per_week::float8 AS hours_per_week, u.name AS recorded_by,
                  c.name AS "corrected_by?", h.corrected_at, h.correction_reason
           FROM home_support_entries h JOIN users u ON u.id = h.recorded_by LEFT JOIN users c ON c.id = h.corrected_by
           WHERE h.participant_id = $1 ORDER BY h.valid_from DESC, h.corrected_at DESC NULLS FIRST, h.id DESC"#,
        id as _
    )
    .fetch_all(db)
    .await?;
    let relatives = sqlx::query_as!(
        RelativeRow,
        r#"SELECT id AS "id: crate::ids::RelativeId", ended_on, kind, name, relation, phone, email, note FROM relatives
           WHERE participant_id = $1 ORDER BY ended_on IS NOT NULL, kind DESC, name"#,
        id as _
    )
    .fetch_all(db)
    .await?;
    let consents = sqlx::query_as!(
        ConsentRow,
        r#"SELECT c.id, c.scope, c.scope_note, c.given_on, c.withdrawn_on, pa.name AS "partner?"
           FROM consents c LEFT JOIN partners pa ON pa.id = c.partner_id
           WHERE c.participant_id = $1 ORDER BY c.withdrawn_on NULLS FIRST, c.given_on DESC"#,
        id as _
    )
    .fetch_all(db)
    .await?;
    let journal = journal::entries(db, id).await?;
    let first_check_in = sqlx::query_scalar!(
        "SELECT min(visit_on) FROM visits WHERE participant_id = $1 AND cancelled_at IS NULL",
        id as _
    )
    .fetch_one(db)
    .await?;
    Ok(Record {
        id,
        first_check_in,
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
        contact_hidden: false,
        viewer_named: false,
    })
}

/// The personakt as `viewer` may see it: a protected person's address and
/// contact details only for those named on them.
pub async fn load_for(db: &PgPool, participant: ParticipantId, today: NaiveDate, viewer: UserId) -> AppResult<Record> {
    let mut record = load(db, participant, today).await?;
    record.viewer_named = queries::in_caseload(db, participant, viewer).await?;
    if record.summary.protected_identity && !record.viewer_named {
        record.fields.hide_contact();
        record.contact_hidden = true;
    }
    Ok(record)
}

/// A plan in a list (the personakt's "Planer").
pub struct PlanListRow {
    pub id: PlanId,
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
async fn plans_of(db: &PgPool, participant_id: ParticipantId) -> Result<Vec<PlanListRow>, sqlx::Error> {
    sqlx::query_as!(
        PlanListRow,
        r#"SELECT p.id, p.programme AS "programme: Programme", p.status AS "status: PlanStatus", p.start_on, p.planned_end_on, p.ended_on,
                  (p.weekly_hours * 100)::int AS "weekly_hours!", p.next_follow_up_on, q.queued_on AS "queued_on?"
           FROM plans p LEFT JOIN queue_entries q ON q.plan_id = p.id AND q.closed_on IS NULL
           WHERE p.participant_id = $1 ORDER BY p.start_on DESC, p.id DESC"#,
        participant_id as _
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
    accesses: Option<Vec<super::access_log::LogRow>>,
    plans: Vec<PlanListRow>,
    /// The samordnad plan: its version, the day first agreed and the next review.
    joint_plan: Option<JointPlanSummary>,
    /// The day the person came back after leaving for work, if they did (the latest return).
    returned_after_work: Option<NaiveDate>,
    /// The partners the journal's samverkan note and a consent may name.
    partners: Vec<crate::partners::PartnerChoice>,
    errors: FieldErrors,
    /// Which form on the page `errors` and `typed` belong to.
    form_in_error: &'static str,
    typed: Typed,
    /// A manager, or staff named on the person: may mark skyddade personuppgifter.
    may_mark_protected: bool,
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
    pub support_correction_reason: String,
    pub relative_kind: String,
    pub relative_name: String,
    pub relative_relation: String,
    pub relative_phone: String,
    pub relative_email: String,
    pub relative_note: String,
    pub consent_scope: String,
    pub consent_note: String,
    pub consent_given: String,
    /// The one organisation a consent names (empty: every one of its kind).
    pub consent_partner: String,
    pub note_event_on: String,
    /// A samverkan note's partner, and the urgent reason when no consent covers it.
    pub partners: String,
    pub urgent_reason: String,
    pub note_type: String,
    pub note_body: String,
    /// The note a refused correction or dispute was about, and what was typed.
    pub note_id: String,
    pub correct_body: String,
    pub correct_reason: String,
    /// The consent a refused withdrawal was about, and the date typed.
    pub consent_id: String,
    pub withdrawn_on: String,
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
    fn note_in_error(&self, which: &str, id: &JournalNoteId) -> bool {
        self.form_in_error == which && self.typed.note_id == id.to_string()
    }
    /// The refusal of withdrawing consent `id`, if that was the form in error.
    fn withdraw_error(&self, id: &ConsentId) -> &str {
        if self.form_in_error == "withdraw" && self.typed.consent_id == id.to_string() {
            self.errors.get("withdrawn_on")
        } else {
            ""
        }
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
    fn show_urgent(&self) -> bool {
        self.form_in_error == "journal" && (self.errors.has("partners") || !self.typed.urgent_reason.trim().is_empty())
    }
    fn note_types(&self) -> Vec<NoteType> {
        NoteType::ALL.iter().copied().filter(|t| *t != NoteType::Disputed).collect()
    }
}

pub struct JointPlanSummary {
    pub version: i32,
    pub first_agreed_on: NaiveDate,
    pub next_review_on: NaiveDate,
}

async fn joint_plan_of(db: &PgPool, participant: ParticipantId) -> Result<Option<JointPlanSummary>, sqlx::Error> {
    sqlx::query_as!(
        JointPlanSummary,
        "SELECT j.version, j.first_agreed_on, v.next_review_on FROM joint_plans j
         JOIN joint_plan_versions v ON v.joint_plan_id = j.id AND v.version = j.version WHERE j.participant_id = $1",
        participant as _
    )
    .fetch_optional(db)
    .await
}

/// A return after work: the person came back (a status event making them
/// active again) after a plan of theirs ended in employment.
pub async fn returned_after_work(db: &PgPool, participant: ParticipantId) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT max(e.effective_on) FROM participant_status_events e
           WHERE e.participant_id = $1 AND e.status = 'active'
             AND EXISTS (SELECT 1 FROM participant_status_events x WHERE x.participant_id = $1 AND x.status = 'ended' AND x.effective_on <= e.effective_on)
             AND EXISTS (SELECT 1 FROM plans p WHERE p.participant_id = $1 AND p.outcome = 'employment' AND p.ended_on <= e.effective_on)"#,
        participant as _
    )
    .fetch_one(db)
    .await
}

pub(super) async fn render_show(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    form_in_error: &'static str,
    errors: FieldErrors,
    typed: Typed,
) -> AppResult<Response> {
    let (current, id, unit_id) = (&auth.current, auth.id, auth.unit_id);
    let today = state.clock.today();
    let record = load_for(&state.db, auth.id, today, current.user.id).await?;
    let staff = crate::users::queries::staff_of_units(&state.db, &[unit_id]).await?;
    let accesses = if super::may_review_access(current) {
        Some(
            sqlx::query_as!(
                super::access_log::LogRow,
                r#"SELECT a.id, a.occurred_at, u.name AS user_name, a.user_role, coalesce(un.name, '') AS "unit_name!",
                          a.participant_id AS "participant_id: ParticipantId", NULL::text AS participant_name, a.action,
                          a.in_caseload, a.reason AS "reason: access::reason::Reason", a.reason_note
                   FROM access_log a JOIN users u ON u.id = a.user_id LEFT JOIN units un ON un.id = a.unit_id
                   WHERE a.participant_id = $1 ORDER BY a.occurred_at DESC, a.id DESC LIMIT 50"#,
                id as _
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
        auth.log_shown_again(state).await?;
    }
    let refused = !errors.is_empty();
    let record_named = record.viewer_named;
    let page = ShowPage {
        layout: Layout::new(&current.ctx, "participants"),
        r: record,
        staff,
        accesses,
        plans: plans_of(&state.db, id).await?,
        joint_plan: joint_plan_of(&state.db, id).await?,
        returned_after_work: returned_after_work(&state.db, id).await?,
        partners: crate::partners::choices_for(&state.db, id, today, true).await?,
        errors,
        form_in_error,
        typed,
        may_mark_protected: current.user.role == crate::auth::Role::Manager || record_named,
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
    let record = load_for(&state.db, auth.id, state.clock.today(), current.user.id).await?;
    let page = PrintPage {
        layout: Layout::new(&current.ctx, "participants"),
        r: record,
        printed_by: current.user.name.clone(),
        printed_at: crate::web::format::local_time(now),
    };
    Ok(Html(page.render()?).into_response())
}
