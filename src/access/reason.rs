//! Skäl för åtkomst (issue 18, point 3). Staff who are not the person's
//! kontaktman and not named on their plan give a reason before a personakt
//! opens. They choose it from a list and may add words ("Annat skäl" needs
//! them). The reason goes into the access log with every read of that person
//! for the rest of the session. Managers and the person's own caseload open
//! directly. The caseload rule is the SQL function `in_caseload` (migration
//! 0027), asked in the same statement that finds a reason already given.

use crate::access::Authorized;
use crate::auth::context::{Layout, SessionUser};
use crate::auth::{CurrentUser, Role, safe_next};
use crate::db::in_transaction;
use crate::error::{AppError, AppResult};
use crate::ids::ParticipantId;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, Query};
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

coded! {
    /// Why someone outside the caseload opens a personakt.
    Reason {
        Covering = "covering" => "Vikarierar för kontaktmannen eller en kollega",
        Team = "team" => "Ärende i arbetslaget (planering, överlämning)",
        Activity = "activity" => "Besök, incheckning eller gruppaktivitet",
        Urgent = "urgent" => "Akut situation",
        Other = "other" => "Annat skäl",
    }
}
stored_as_code!(Reason);

/// The longest description of a reason.
pub const NOTE_MAX: usize = 500;

/// How a read of a person's record goes ahead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opening {
    /// Without asking: a manager, the caseload, or the rule turned off.
    Direct { in_caseload: bool },
    /// With the reason given earlier in this session.
    Given { reason: Reason, note: String },
    /// The reason is to be asked first.
    Ask,
}

impl Opening {
    /// Who opens without a reason: managers (who answer for the unit), the
    /// person's kontaktman and those named on their plan; everyone when the
    /// municipality has not asked for reasons.
    pub fn of(role: Role, in_caseload: bool, given: Option<(Reason, String)>, required: bool) -> Opening {
        if !required || role == Role::Manager || in_caseload {
            return Opening::Direct { in_caseload };
        }
        match given {
            Some((reason, note)) => Opening::Given { reason, note },
            None => Opening::Ask,
        }
    }
}

/// How this user's read of this person goes ahead in this session.
pub async fn opening(state: &AppState, user: &SessionUser, session: Option<&[u8; 32]>, participant: ParticipantId) -> AppResult<Opening> {
    let session = session.map(|s| s.to_vec()).unwrap_or_default();
    let row = sqlx::query!(
        r#"SELECT in_caseload($1, $2) AS "in_caseload!", r.reason AS "reason?: Reason", r.note AS "note?"
           FROM (SELECT 1) one
           LEFT JOIN access_reasons r ON r.session_hash = $3 AND r.participant_id = $2"#,
        user.id as _,
        participant as _,
        &session
    )
    .fetch_one(&state.db)
    .await?;
    let given = row.reason.map(|reason| (reason, row.note.unwrap_or_default()));
    Ok(Opening::of(user.role, row.in_caseload, given, state.config.reason_outside_caseload))
}

/// Where the reason is asked, and the page to go on to after.
pub fn ask_path(participant: ParticipantId, then: &str) -> String {
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("next", safe_next(Some(then)))
        .finish();
    format!("/participants/{participant}/reason?{query}")
}

pub fn routes() -> Routes {
    Routes::new().route("/participants/{id}/reason", get(show).post(give))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ReasonForm {
    reason: String,
    note: String,
    next: String,
}

#[derive(Template)]
#[template(path = "participants/reason.html")]
struct ReasonPage {
    layout: Layout,
    participant: ParticipantId,
    name: String,
    form: ReasonForm,
    reasons: &'static [Reason],
    errors: FieldErrors,
}

async fn show(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ParticipantId>,
    Query(query): Query<ReasonForm>,
) -> AppResult<Response> {
    // The unit's rule first: outside it, refused and logged as ever.
    Authorized::<ParticipantId>::check(&state, &current, id).await?;
    let form = ReasonForm {
        next: query.next,
        ..ReasonForm::default()
    };
    question(&state, &current, id, form, FieldErrors::default()).await
}

/// The question, with what was chosen and typed and why it was refused.
async fn question(
    state: &AppState,
    current: &CurrentUser,
    id: ParticipantId,
    form: ReasonForm,
    errors: FieldErrors,
) -> AppResult<Response> {
    let refused = !errors.is_empty();
    let page = ReasonPage {
        layout: Layout::new(&current.ctx, "participants"),
        participant: id,
        name: super::person_name(&state.db, id).await?,
        form: ReasonForm {
            next: safe_next(Some(&form.next)).to_string(),
            ..form
        },
        reasons: Reason::ALL,
        errors,
    };
    crate::web::page(&page, refused)
}

/// The form checked: a reason and its words, or the messages in `errors`.
pub fn validate(form: &ReasonForm, errors: &mut FieldErrors) -> Option<(Reason, String)> {
    let reason = Reason::parse(&form.reason);
    let note = form.note.trim().to_string();
    match reason {
        None => errors.add("reason", "Välj varför du behöver öppna personakten."),
        Some(Reason::Other) if note.is_empty() => errors.add("note", "Beskriv skälet när du väljer Annat skäl."),
        _ => {}
    }
    if note.chars().count() > NOTE_MAX {
        errors.add("note", "Högst 500 tecken.");
    }
    if errors.is_empty() { reason.map(|r| (r, note)) } else { None }
}

async fn give(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<ParticipantId>,
    FormData(form): FormData<ReasonForm>,
) -> AppResult<Response> {
    Authorized::<ParticipantId>::check(&state, &current, id).await?;
    let mut errors = FieldErrors::default();
    let Some((reason, note)) = validate(&form, &mut errors) else {
        return question(&state, &current, id, form, errors).await;
    };
    let session = current
        .ctx
        .session_token_hash
        .ok_or(AppError::Internal(anyhow::anyhow!("a signed-in user without a session")))?;
    let now = state.clock.now();
    in_transaction(&state.db, async |tx| {
        sqlx::query!(
            "INSERT INTO access_reasons (session_hash, participant_id, reason, note, given_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (session_hash, participant_id) DO UPDATE SET reason = EXCLUDED.reason, note = EXCLUDED.note, given_at = EXCLUDED.given_at",
            &session[..],
            id as _,
            reason as Reason,
            note,
            now
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(safe_next(Some(&form.next))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managers_and_the_caseload_open_directly_others_give_a_reason_once() {
        assert_eq!(Opening::of(Role::Staff, true, None, true), Opening::Direct { in_caseload: true });
        assert_eq!(
            Opening::of(Role::Manager, false, None, true),
            Opening::Direct { in_caseload: false }
        );
        assert_eq!(Opening::of(Role::Staff, false, None, true), Opening::Ask);
        assert_eq!(
            Opening::of(Role::Admin, false, None, true),
            Opening::Ask,
            "an administrator is not the unit's manager"
        );
        let given = Some((Reason::Covering, String::new()));
        assert_eq!(
            Opening::of(Role::Staff, false, given, true),
            Opening::Given {
                reason: Reason::Covering,
                note: String::new()
            }
        );
        assert_eq!(
            Opening::of(Role::Staff, false, None, false),
            Opening::Direct { in_caseload: false },
            "turned off"
        );
    }

    #[test]
    fn a_reason_is_chosen_and_other_is_described() {
        let form = |reason: &str, note: &str| ReasonForm {
            reason: reason.into(),
            note: note.into(),
            next: String::new(),
        };
        let mut errors = FieldErrors::default();
        assert_eq!(validate(&form("", ""), &mut errors), None);
        assert!(errors.has("reason"));
        let mut errors = FieldErrors::default();
        assert_eq!(validate(&form("other", "  "), &mut errors), None);
        assert!(errors.has("note"));
        let mut errors = FieldErrors::default();
        assert_eq!(validate(&form("team", &"å".repeat(501)), &mut errors), None);
        assert!(errors.has("note"));
        let mut errors = FieldErrors::default();
        assert_eq!(
            validate(&form("other", " Överlämning från Team ISA "), &mut errors),
            Some((Reason::Other, "Överlämning från Team ISA".into()))
        );
    }

    #[test]
    fn the_question_comes_back_to_the_page_asked_for() {
        let id = ParticipantId::from(7);
        assert_eq!(ask_path(id, "/plans/3?tab=a"), "/participants/7/reason?next=%2Fplans%2F3%3Ftab%3Da");
        assert_eq!(ask_path(id, "//evil"), "/participants/7/reason?next=%2F");
    }
}
