//! Who may reach a record, and the access log (åtkomstlogg) of every read.
//!
//! Everyone — staff, managers, admins — reaches only the records of the units
//! they belong to. A handler gets a record's id only through [`Authorized`],
//! an extractor that resolves the record's unit, refuses (403, logged) a user
//! outside it, and writes the access-log row of a read; so a handler that
//! forgets the check does not compile. An id that arrives in a form instead of
//! the path is checked with [`Authorized::check`], the same rule.

pub mod reason;

use crate::auth::CurrentUser;
use crate::auth::context::SessionUser;
use crate::error::{AppError, AppResult};
use crate::ids::{
    AssessmentId, ConsentId, GroupActivityId, IntakeId, JournalNoteId, ParticipantId, PlanActivityId, PlanId, QueueEntryId, RelativeId,
    SurveyId, UnitId, VisitId,
};
use crate::state::AppState;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::marker::PhantomData;

coded! {
    /// What an access-log row records.
    Action {
        View = "view" => "Öppnade personakten",
        Search = "search" => "Träff i sökning",
        Print = "print" => "Skrev ut personakten",
        Denied = "denied" => "Nekad åtkomst",
        ReportList = "report_list" => "Listad bakom en siffra i en rapport",
        RegisterExtract = "register_extract" => "Registerutdrag",
    }
}

/// Writes one access-log row per participant, in one statement.
pub async fn log(
    db: impl sqlx::PgExecutor<'_>,
    user: &SessionUser,
    participant_ids: &[ParticipantId],
    action: Action,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if participant_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action)
         SELECT $1, $2, $3, p.unit_id, p.id, $5 FROM participants p WHERE p.id = ANY($4)",
        now,
        user.id as _,
        user.role.code(),
        participant_ids as _,
        action.code()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A person's name, for the pages about their record that are not the
/// record itself (the reason asked first, the registerutdrag).
pub async fn person_name(db: &PgPool, participant: ParticipantId) -> Result<String, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT first_name || ' ' || last_name AS "name!" FROM participants WHERE id = $1"#,
        participant as _
    )
    .fetch_one(db)
    .await
}

/// Writes the access-log row of one read of a person's record: whether it
/// was inside the reader's caseload, and the reason given when it was not.
pub async fn log_read(
    db: impl sqlx::PgExecutor<'_>,
    user: &SessionUser,
    participant: ParticipantId,
    action: Action,
    opening: &reason::Opening,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let (in_caseload, reason, note) = match opening {
        reason::Opening::Direct { in_caseload } => (*in_caseload, None, None),
        reason::Opening::Given { reason, note } => (false, Some(*reason), Some(note.as_str())),
        reason::Opening::Ask => return Ok(()),
    };
    sqlx::query!(
        "INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action, in_caseload, reason, reason_note)
         SELECT $1, $2, $3, p.unit_id, p.id, $5, $6, $7, $8 FROM participants p WHERE p.id = $4",
        now,
        user.id as _,
        user.role.code(),
        participant as _,
        action.code(),
        in_caseload,
        reason as Option<reason::Reason>,
        note.filter(|n| !n.is_empty())
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Where a record belongs: its unit, the participant whose record it is (none
/// for a unit's own records, such as a group activity), and the record it
/// hangs under when its path names that one too.
#[derive(Clone, Copy, Debug)]
pub struct Owner {
    pub unit_id: UnitId,
    pub participant_id: Option<ParticipantId>,
    pub parent: Option<i64>,
}

/// A record reached through a unit. `PARAM` is the path parameter that names
/// it; `PARENT_PARAM`, when set, names the record it belongs to in the same
/// path (`/participants/{id}/journal/{note_id}`), which must agree.
pub trait Guarded: Copy + Send + Sync + Sized + 'static + std::str::FromStr {
    const PARAM: &'static str;
    const PARENT_PARAM: Option<&'static str> = None;
    fn owner(self, db: &PgPool) -> impl Future<Output = Result<Option<Owner>, sqlx::Error>> + Send;
}

/// How a read of a participant's record is logged: a page view, or a print.
pub trait Read: Send + Sync + 'static {
    const ACTION: Action;
}

/// A page that shows a participant's record (logged as "Öppnade personakten").
pub struct View;
/// The printable personakt (logged as "Skrev ut personakten").
pub struct Print;

impl Read for View {
    const ACTION: Action = Action::View;
}
impl Read for Print {
    const ACTION: Action = Action::Print;
}

/// A record the signed-in user may reach: made only by the extractor (from the
/// path) or by [`Authorized::check`] (from a form). A GET that reaches a
/// participant's record has been written to the access log as `R`.
pub struct Authorized<T, R = View> {
    pub id: T,
    pub unit_id: UnitId,
    /// The participant whose record this is (none for a unit's own records).
    pub participant_id: Option<ParticipantId>,
    pub current: CurrentUser,
    /// The record this one hangs under (a plan's activity: the plan).
    parent: Option<i64>,
    /// How this user opens the participant's record in this session (from
    /// the path extractor): a page shown again after a refused form is a
    /// read like any other, logged with it.
    pub opening: Option<reason::Opening>,
    read: PhantomData<R>,
}

impl<T: Guarded, R> Authorized<T, R> {
    /// Checks an id that came in a form: the same rule as the path extractor,
    /// without logging a read.
    pub async fn check(state: &AppState, current: &CurrentUser, id: T) -> AppResult<Authorized<T, R>> {
        let owner = id.owner(&state.db).await?.ok_or(AppError::NotFound)?;
        admit(state, &current.user, &owner).await?;
        Ok(Authorized {
            id,
            unit_id: owner.unit_id,
            participant_id: owner.participant_id,
            current: current.clone(),
            parent: owner.parent,
            opening: None,
            read: PhantomData,
        })
    }

    /// The participant's record this one belongs to (a note, a consent, a
    /// plan…), reached through it: the same user, unit and check.
    pub fn as_participant(&self) -> AppResult<Authorized<ParticipantId>> {
        Ok(Authorized {
            id: self.participant()?,
            unit_id: self.unit_id,
            participant_id: self.participant_id,
            current: self.current.clone(),
            parent: None,
            opening: self.opening.clone(),
            read: PhantomData,
        })
    }

    /// The record this one hangs under (the plan of a plan's activity or
    /// assessment), reached through it: the same user, unit and check.
    pub fn as_parent<P: From<i64>>(&self) -> AppResult<Authorized<P>> {
        let parent = self
            .parent
            .ok_or(AppError::Internal(anyhow::anyhow!("the record hangs under no other")))?;
        Ok(Authorized {
            id: P::from(parent),
            unit_id: self.unit_id,
            participant_id: self.participant_id,
            current: self.current.clone(),
            parent: None,
            opening: self.opening.clone(),
            read: PhantomData,
        })
    }

    /// The participant whose record this is; records of a unit have none.
    pub fn participant(&self) -> AppResult<ParticipantId> {
        self.participant_id
            .ok_or(AppError::Internal(anyhow::anyhow!("a unit's record has no participant")))
    }
}

/// Refuses a user outside the record's unit, logging the attempt.
pub async fn admit(state: &AppState, user: &SessionUser, owner: &Owner) -> AppResult<()> {
    if user.unit_ids.contains(&owner.unit_id) {
        return Ok(());
    }
    tracing::warn!(
        user_id = %user.id,
        unit_id = %owner.unit_id,
        "refused access to a record outside the user's units"
    );
    if let Some(participant) = owner.participant_id {
        log(&state.db, user, &[participant], Action::Denied, state.clock.now()).await?;
    }
    Err(AppError::Forbidden)
}

impl<T: Guarded, R: Read> FromRequestParts<AppState> for Authorized<T, R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let current = CurrentUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::BadRequest("unreadable path").into_response())?;
        let param = |name: &str| params.iter().find(|(key, _)| *key == name).map(|(_, value)| value.to_string());
        let id = param(T::PARAM)
            .and_then(|value| value.parse::<T>().ok())
            .ok_or_else(|| AppError::BadRequest("malformed id").into_response())?;
        let owner = id
            .owner(&state.db)
            .await
            .map_err(|e| AppError::from(e).into_response())?
            .ok_or_else(|| AppError::NotFound.into_response())?;
        // `/participants/1/journal/9` names note 9 only if it is participant 1's.
        if let Some(parent_param) = T::PARENT_PARAM {
            let named = param(parent_param).and_then(|value| value.parse::<i64>().ok());
            if named.is_none() || named != owner.parent {
                return Err(AppError::NotFound.into_response());
            }
        }
        admit(state, &current.user, &owner).await.map_err(IntoResponse::into_response)?;
        // Outside the caseload, the reason first (asked once per person and
        // session): a read is sent to the question, a form without one is
        // refused (its page came with the question). A read is logged with
        // the reason.
        // A form needs the question only where it can be asked: with the rule
        // on, and not of a manager (who opens directly). Elsewhere no query is
        // spent on it; a refused form's page works its opening out when shown.
        let mut opened = None;
        let may_be_asked = state.config.reason_outside_caseload && current.user.role != crate::auth::Role::Manager;
        if let Some(participant) = owner.participant_id.filter(|_| parts.method == Method::GET || may_be_asked) {
            let session = current.ctx.session_token_hash;
            let opening = reason::opening(state, &current.user, session.as_ref(), participant)
                .await
                .map_err(IntoResponse::into_response)?;
            if opening == reason::Opening::Ask {
                if parts.method != Method::GET {
                    return Err(AppError::Forbidden.into_response());
                }
                let here = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                return Err(Redirect::to(&reason::ask_path(participant, here)).into_response());
            }
            if parts.method == Method::GET {
                log_read(&state.db, &current.user, participant, R::ACTION, &opening, state.clock.now())
                    .await
                    .map_err(|e| AppError::from(e).into_response())?;
            }
            opened = Some(opening);
        }
        Ok(Authorized {
            id,
            unit_id: owner.unit_id,
            participant_id: owner.participant_id,
            current,
            parent: owner.parent,
            opening: opened,
            read: PhantomData,
        })
    }
}

impl<T: Guarded, R> Authorized<T, R> {
    /// Logs a read of the participant's record made by showing it again
    /// after a refused form: with the caseload and the reason of this session.
    pub async fn log_shown_again(&self, state: &AppState) -> AppResult<()> {
        match (self.participant_id, &self.opening) {
            (Some(participant), Some(opening)) => {
                log_read(&state.db, &self.current.user, participant, Action::View, opening, state.clock.now()).await?;
                Ok(())
            }
            (Some(participant), None) => log_shown(state, &self.current, participant).await,
            (None, _) => Ok(()),
        }
    }
}

/// Logs a read of a participant's record shown after a refused form, with
/// the caseload and the reason of this session.
pub async fn log_shown(state: &AppState, current: &CurrentUser, participant: ParticipantId) -> AppResult<()> {
    let session = current.ctx.session_token_hash;
    let opening = reason::opening(state, &current.user, session.as_ref(), participant).await?;
    log_read(&state.db, &current.user, participant, Action::View, &opening, state.clock.now()).await?;
    Ok(())
}

/// Declares how a kind of record finds its owner: the path parameter that
/// names it, the one naming its parent (if any), and one query that answers
/// `unit_id`, `participant_id` and `parent` for the id bound as `$1`.
macro_rules! guarded {
    ($($(#[$meta:meta])* $id:ty: $param:literal, $parent:expr, $sql:literal;)+) => {$(
        $(#[$meta])*
        impl Guarded for $id {
            const PARAM: &'static str = $param;
            const PARENT_PARAM: Option<&'static str> = $parent;
            async fn owner(self, db: &PgPool) -> Result<Option<Owner>, sqlx::Error> {
                sqlx::query_as!(Owner, $sql, self as _).fetch_optional(db).await
            }
        }
    )+};
}

guarded! {
    /// A participant's own record: `/participants/{id}/…`.
    ParticipantId: "id", None,
        r#"SELECT unit_id AS "unit_id: UnitId", id AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM participants WHERE id = $1"#;
    /// A plan belongs where its participant is now.
    PlanId: "id", None,
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM plans pl JOIN participants p ON p.id = pl.participant_id WHERE pl.id = $1"#;
    /// `/participants/{id}/journal/{note_id}/…`
    JournalNoteId: "note_id", Some("id"),
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", p.id AS parent
           FROM journal_notes n JOIN participants p ON p.id = n.participant_id WHERE n.id = $1"#;
    /// `/participants/{id}/consents/{consent_id}/…`
    ConsentId: "consent_id", Some("id"),
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", p.id AS parent
           FROM consents c JOIN participants p ON p.id = c.participant_id WHERE c.id = $1"#;
    /// `/participants/{id}/relatives/{relative_id}/…`
    RelativeId: "relative_id", Some("id"),
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", p.id AS parent
           FROM relatives r JOIN participants p ON p.id = r.participant_id WHERE r.id = $1"#;
    /// `/plans/{id}/activities/{activity_id}/…`
    PlanActivityId: "activity_id", Some("id"),
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", a.plan_id AS parent
           FROM plan_activities a JOIN plans pl ON pl.id = a.plan_id JOIN participants p ON p.id = pl.participant_id
           WHERE a.id = $1"#;
    /// `/plans/{id}/assessments/{assessment_id}/…`
    AssessmentId: "assessment_id", Some("id"),
        r#"SELECT p.unit_id AS "unit_id: UnitId", p.id AS "participant_id?: ParticipantId", a.plan_id AS parent
           FROM capacity_assessments a JOIN plans pl ON pl.id = a.plan_id JOIN participants p ON p.id = pl.participant_id
           WHERE a.id = $1"#;
    /// A visit belongs to the unit it was made at.
    VisitId: "id", None,
        r#"SELECT unit_id AS "unit_id: UnitId", participant_id AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM visits WHERE id = $1"#;
    /// A group activity is its unit's own record: no participant's.
    GroupActivityId: "id", None,
        r#"SELECT unit_id AS "unit_id: UnitId", NULL::bigint AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM group_activities WHERE id = $1"#;
    /// A place in the kö belongs to the unit whose capacity it waits for.
    QueueEntryId: "entry_id", None,
        r#"SELECT q.unit_id AS "unit_id: UnitId", pl.participant_id AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM queue_entries q JOIN plans pl ON pl.id = q.plan_id WHERE q.id = $1"#;
    /// A unit's brukarundersökning: its answers are anonymous.
    SurveyId: "id", None,
        r#"SELECT unit_id AS "unit_id: UnitId", NULL::bigint AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM surveys WHERE id = $1"#;
    /// An intresseanmälan is its unit's record while the person is not
    /// registered; once registered, it is part of their record, where they are.
    IntakeId: "id", None,
        r#"SELECT coalesce(p.unit_id, i.unit_id) AS "unit_id!: UnitId", i.participant_id AS "participant_id?: ParticipantId", NULL::bigint AS parent
           FROM intakes i LEFT JOIN participants p ON p.id = i.participant_id WHERE i.id = $1"#;
}
