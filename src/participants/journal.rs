//! The journal: notes with event date, server time, author and title. A
//! saved note is never changed (the database refuses it too): a correction
//! (rättelse) is a new note, and the original stays visible struck through;
//! a note "den enskilde anser uppgiften oriktig" links to the note it disputes.

use super::model::NoteType;
use super::record::Typed;
use super::store::{self, NewNote};
use crate::access::Authorized;
use crate::db::Refused;
use crate::error::{AppError, AppResult};
use crate::ids::{JournalNoteId, ParticipantId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, required_date};
use crate::web::routes::Routes;
use crate::web::routes::post;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use sqlx::PgPool;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/journal", post(add))
        .route("/participants/{id}/journal/{note_id}/correct", post(correct))
        .route("/participants/{id}/journal/{note_id}/dispute", post(dispute))
}

pub struct JournalEntry {
    pub id: JournalNoteId,
    pub event_on: NaiveDate,
    pub note_type: String,
    pub body: String,
    pub author_name: String,
    pub author_title: String,
    pub created_at: DateTime<Utc>,
    pub corrects_id: Option<JournalNoteId>,
    pub correction_reason: Option<String>,
    pub disputes_id: Option<JournalNoteId>,
    /// Set when a later note corrects this one.
    pub corrected_by: Option<String>,
    pub corrected_at: Option<DateTime<Utc>>,
    pub corrected_reason: Option<String>,
}

impl JournalEntry {
    pub fn written(&self) -> String {
        crate::web::format::local_time(self.created_at)
    }

    pub fn corrected_when(&self) -> String {
        self.corrected_at.map(crate::web::format::local_time).unwrap_or_default()
    }

    pub fn is_corrected(&self) -> bool {
        self.corrected_by.is_some()
    }
}

/// All notes, newest event first, each with the correction that replaced it (if any).
pub async fn entries(db: &PgPool, participant_id: ParticipantId) -> Result<Vec<JournalEntry>, sqlx::Error> {
    sqlx::query_as!(
        JournalEntry,
        r#"SELECT n.id, n.event_on, n.note_type, n.body, n.author_name, n.author_title, n.created_at, n.corrects_id AS "corrects_id: JournalNoteId",
                  n.correction_reason, n.disputes_id AS "disputes_id: JournalNoteId",
                  c.author_name AS "corrected_by?", c.created_at AS "corrected_at?", c.correction_reason AS "corrected_reason?"
           FROM journal_notes n LEFT JOIN journal_notes c ON c.corrects_id = n.id
           WHERE n.participant_id = $1
           ORDER BY n.event_on DESC, n.id DESC"#,
        participant_id as _
    )
    .fetch_all(db)
    .await
}

async fn add(State(state): State<AppState>, auth: Authorized<ParticipantId>, FormData(typed): FormData<Typed>) -> AppResult<Response> {
    let (current, id) = (&auth.current, auth.id);
    let mut errors = FieldErrors::default();
    let event_on = required_date(&typed.note_event_on).map_err(|m| errors.add("note_event_on", m)).ok();
    if event_on.is_some_and(|d| d > state.clock.today()) {
        errors.add("note_event_on", "Händelsedatumet kan inte ligga i framtiden.");
    }
    let note_type = NoteType::parse(&typed.note_type).filter(|t| *t != NoteType::Disputed);
    if note_type.is_none() {
        errors.add("note_type", "Välj typ av anteckning.");
    }
    let body = typed.note_body.trim().to_string();
    if body.is_empty() {
        errors.add("note_body", "Skriv anteckningen.");
    } else if body.chars().count() > 20_000 {
        errors.add("note_body", "Högst 20 000 tecken.");
    }
    // A samverkan note is a contact with an organisation: it names one, and
    // the consent gate lets it through (`partners::gate`).
    let partner = match (note_type, typed.partners.trim()) {
        (Some(NoteType::Cooperation), "") => {
            errors.add("partners", "Välj samverkanspartnern som kontakten gällde.");
            None
        }
        (Some(NoteType::Cooperation), id) => match id.parse::<crate::ids::PartnerId>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("partners", "Välj samverkanspartner i registret.");
                None
            }
        },
        (_, "") => None,
        (_, _) => {
            errors.add("partners", "En samverkanspartner hör till en anteckning av typen Samverkan.");
            None
        }
    };
    let urgent = typed.urgent_reason.trim().to_string();
    if urgent.chars().count() > 1000 {
        errors.add("urgent_reason", "Högst 1 000 tecken.");
    }
    let (Some(event_on), Some(note_type), true) = (event_on, note_type, errors.is_empty()) else {
        return super::record::render_show(&state, &auth, "journal", errors, typed).await;
    };
    let note = NewNote {
        participant: auth.id,
        event_on,
        note_type,
        body: &body,
        corrects: None,
        disputes: None,
        partner: partner.map(|p| (p, urgent.as_str())),
    };
    if let Err(refused) = store::write_note(&state.db, note, &current.user, state.clock.now()).await? {
        errors.add(refused.field, refused.message);
        return super::record::render_show(&state, &auth, "journal", errors, typed).await;
    }
    current.flash("Anteckningen är sparad.");
    Ok(Redirect::to(&format!("/participants/{id}#journal")).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CorrectionForm {
    body: String,
    reason: String,
}

/// The note being corrected or disputed must belong to this participant.
async fn note_of(db: &PgPool, participant_id: ParticipantId, note_id: JournalNoteId) -> AppResult<(NaiveDate, String)> {
    let row = sqlx::query!(
        "SELECT event_on, note_type FROM journal_notes WHERE id = $1 AND participant_id = $2",
        note_id as _,
        participant_id as _
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    Ok((row.event_on, row.note_type))
}

/// A refused correction or dispute: the personakt again, the note's form
/// open, the message beside the field and the text as typed.
#[allow(clippy::too_many_arguments)]
async fn refuse(
    state: &AppState,
    auth: &Authorized<ParticipantId>,
    note_id: JournalNoteId,
    field: &'static str,
    message: &str,
    form: CorrectionForm,
) -> AppResult<Response> {
    let mut errors = FieldErrors::default();
    errors.add(field, message);
    let typed = Typed {
        note_id: note_id.to_string(),
        correct_body: form.body,
        correct_reason: form.reason,
        ..Typed::default()
    };
    let which = if field == "dispute_body" { "dispute" } else { "correction" };
    super::record::render_show(state, auth, which, errors, typed).await
}

async fn correct(
    State(state): State<AppState>,
    note: Authorized<JournalNoteId>,
    FormData(form): FormData<CorrectionForm>,
) -> AppResult<Response> {
    let auth = note.as_participant()?;
    let (current, id, note_id) = (&auth.current, auth.id, note.id);
    let (event_on, note_type) = note_of(&state.db, id, note_id).await?;
    let body = form.body.trim().to_string();
    let reason = form.reason.trim().to_string();
    let problem = if body.is_empty() {
        Some(("correct_body", "Skriv den rättade texten."))
    } else if body.chars().count() > 20_000 {
        Some(("correct_body", "Den rättade texten får ha högst 20 000 tecken."))
    } else if reason.is_empty() {
        Some(("correct_reason", "Skriv varför anteckningen rättas."))
    } else if reason.chars().count() > 1000 {
        Some(("correct_reason", "Skälet får ha högst 1 000 tecken."))
    } else {
        None
    };
    if let Some((field, message)) = problem {
        return refuse(&state, &auth, note_id, field, message, form).await;
    }
    let note_type = NoteType::parse(&note_type).unwrap_or(NoteType::Other);
    let disputes = if note_type == NoteType::Disputed {
        sqlx::query_scalar!(
            r#"SELECT disputes_id AS "disputes_id: JournalNoteId" FROM journal_notes WHERE id = $1"#,
            note_id as _
        )
        .fetch_one(&state.db)
        .await?
    } else {
        None
    };
    let note = NewNote {
        participant: auth.id,
        event_on,
        note_type,
        body: &body,
        partner: None,
        corrects: Some((note_id, &reason)),
        disputes,
    };
    if let Err(Refused { message, .. }) = store::write_note(&state.db, note, &current.user, state.clock.now()).await? {
        return refuse(&state, &auth, note_id, "correct_body", &message, form).await;
    }
    current.flash("Anteckningen är rättad. Originalet finns kvar, överstruket.");
    Ok(Redirect::to(&format!("/participants/{id}#note-{note_id}")).into_response())
}

async fn dispute(
    State(state): State<AppState>,
    note: Authorized<JournalNoteId>,
    FormData(form): FormData<CorrectionForm>,
) -> AppResult<Response> {
    let auth = note.as_participant()?;
    let (current, id, note_id) = (&auth.current, auth.id, note.id);
    note_of(&state.db, id, note_id).await?;
    let body = form.body.trim().to_string();
    if body.is_empty() || body.chars().count() > 20_000 {
        return refuse(
            &state,
            &auth,
            note_id,
            "dispute_body",
            "Skriv vad den enskilde anser är oriktigt (högst 20 000 tecken).",
            form,
        )
        .await;
    }
    let note = NewNote {
        participant: auth.id,
        event_on: state.clock.today(),
        note_type: NoteType::Disputed,
        body: &body,
        corrects: None,
        partner: None,
        disputes: Some(note_id),
    };
    store::write_note(&state.db, note, &current.user, state.clock.now())
        .await?
        .map_err(|_| AppError::BadRequest("dispute"))?;
    current.flash("Den enskildes invändning är antecknad och kopplad till anteckningen.");
    Ok(Redirect::to(&format!("/participants/{id}#journal")).into_response())
}
