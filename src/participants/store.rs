//! The one writer of participants: registration and its changes, the
//! personakt's facts — status (avslut and return), kontaktman, boendestöd,
//! närstående/företrädare and samtycken — and the journal. Each command
//! runs in one transaction, checks the rules that depend on what is stored,
//! and writes the change with its history and audit entry. Handlers parse the
//! form and call one command.

use super::form::ParticipantFields;
use super::model::{ConsentScope, EndReason, NoteType, ParticipantStatus, RelativeKind};
use super::queries;
use crate::audit::{self, Stamp};
use crate::auth::context::SessionUser;
use crate::db::{Refused, Updated, in_transaction, refuse};
use crate::error::{AppError, AppResult, violated_constraint};
use crate::ids::{ConsentId, JournalNoteId, ParticipantId, RelativeId, UnitId, UserId};
use crate::partners::gate;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

/// A new status, from `on`, with the avslutsorsak when it is an avslut.
pub struct StatusChange<'a> {
    pub status: ParticipantStatus,
    pub on: NaiveDate,
    pub end_reason: Option<EndReason>,
    pub note: &'a str,
}

/// Adds a line to the status history (the participant's row is the caller's).
pub async fn add_status_event(
    conn: &mut PgConnection,
    participant: ParticipantId,
    change: &StatusChange<'_>,
    stamp: Stamp,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO participant_status_events (participant_id, status, effective_on, end_reason, note, changed_by, changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        participant as _,
        change.status.code(),
        change.on,
        change.end_reason.map(EndReason::code),
        change.note,
        stamp.by as _,
        stamp.at
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends the participant (avslut) or lets them come back: the history stays in
/// order (dated today or earlier, not before the last change), and an ended
/// participant has no current kontaktman.
pub async fn change_status(
    db: &PgPool,
    participant: ParticipantId,
    change: StatusChange<'_>,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if change.on > today {
        return refuse("status_on", "Datumet kan inte ligga i framtiden.");
    }
    if change.status == ParticipantStatus::Ended && change.end_reason.is_none() {
        return refuse("end_reason", "Välj avslutsorsak.");
    }
    let end_reason = change.end_reason.filter(|_| change.status == ParticipantStatus::Ended);
    let change = StatusChange { end_reason, ..change };
    in_transaction(db, async |tx| {
        let row = sqlx::query!(
            r#"SELECT status AS "status: ParticipantStatus",
                      (SELECT max(effective_on) FROM participant_status_events e WHERE e.participant_id = p.id) AS latest
               FROM participants p WHERE p.id = $1 FOR UPDATE"#,
            participant as _
        )
        .fetch_one(&mut *tx)
        .await?;
        if row.status == change.status {
            return refuse("status", "Deltagaren har redan den statusen.");
        }
        if row.latest.is_some_and(|latest| change.on < latest) {
            return refuse("status_on", "Datumet kan inte vara före den senaste statusändringen.");
        }
        // Ending records the date and reason on the participant; coming back
        // clears them — on the same record, with the history kept in events.
        sqlx::query!(
            "UPDATE participants SET status = $2, ended_on = $3, end_reason = $4, updated_at = $5 WHERE id = $1",
            participant as _,
            change.status.code(),
            change.end_reason.map(|_| change.on),
            change.end_reason.map(EndReason::code),
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        add_status_event(tx, participant, &change, stamp).await?;
        if change.status == ParticipantStatus::Ended {
            sqlx::query!(
                "UPDATE key_worker_assignments SET to_on = greatest(from_on, $2) WHERE participant_id = $1 AND to_on IS NULL",
                participant as _,
                change.on
            )
            .execute(&mut *tx)
            .await?;
        }
        audit::Entry::new(Some(stamp.by), "participant_status")
            .record("participant", participant)
            .details(change.status.code())
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Makes `user` the participant's kontaktman from `from`; the previous one's
/// period ends the day before. The caller offers only staff of the unit.
pub async fn assign_key_worker(
    db: &PgPool,
    participant: ParticipantId,
    user: UserId,
    from: NaiveDate,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if from > today {
        return refuse("key_worker_from", "Datumet kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let status = sqlx::query_scalar!(
            r#"SELECT status AS "status: ParticipantStatus" FROM participants WHERE id = $1 FOR UPDATE"#,
            participant as _
        )
        .fetch_one(&mut *tx)
        .await?;
        if status == ParticipantStatus::Ended {
            return refuse("key_worker_id", "Deltagaren är avslutad. Registrera återkomsten först.");
        }
        let current = sqlx::query!(
            r#"SELECT user_id AS "user_id: UserId", from_on FROM key_worker_assignments WHERE participant_id = $1 AND to_on IS NULL"#,
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(current) = current {
            if user == current.user_id {
                return refuse("key_worker_id", "Det är redan deltagarens kontaktman.");
            }
            if from <= current.from_on {
                return refuse("key_worker_from", "Datumet måste vara efter att nuvarande kontaktman utsågs.");
            }
        }
        sqlx::query!(
            "UPDATE key_worker_assignments SET to_on = $2 WHERE participant_id = $1 AND to_on IS NULL",
            participant as _,
            from.pred_opt().unwrap_or(from)
        )
        .execute(&mut *tx)
        .await?;
        let inserted = sqlx::query!(
            "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)",
            participant as _,
            user as _,
            from,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await;
        if let Err(err) = inserted {
            // Periods may not overlap (an exclusion constraint), nor two be current at once.
            let overlap = matches!(&err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23P01") || db.is_unique_violation());
            if !overlap {
                return Err(err.into());
            }
            return refuse(
                "key_worker_from",
                "Perioden krockar med en tidigare kontaktman. Välj ett senare datum.",
            );
        }
        audit::Entry::new(Some(stamp.by), "key_worker_assigned")
            .record("participant", participant)
            .details(&format!("användare {user}"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Boendestöd from a date: whether the person has it, from whom, hours a week.
pub struct HomeSupport<'a> {
    pub from: NaiveDate,
    pub has_support: bool,
    pub provider: &'a str,
    pub hours: Option<f64>,
    /// Why the value already kept for `from` is wrong; empty for a new date.
    pub correction_reason: &'a str,
}

const HOME_SUPPORT_DATE_TAKEN: &str =
    "Det finns redan ett värde för det datumet. Skriv varför det rättas: det nya gäller och det gamla syns som rättat.";

/// Records boendestöd from a date; the participant's flag (the priority
/// group) follows the latest entry.
pub async fn record_home_support(
    db: &PgPool,
    participant: ParticipantId,
    entry: HomeSupport<'_>,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if entry.from > today {
        return refuse("support_from", "Datumet kan inte ligga i framtiden.");
    }
    if !entry.has_support && entry.hours.is_some_and(|h| h > 0.0) {
        return refuse("support_hours", "Utan boendestöd ska timmarna vara tomma eller 0.");
    }
    in_transaction(db, async |tx| {
        // One value per date: a second one corrects the first, with a reason.
        let kept = sqlx::query!(
            r#"SELECT id, has_support, provider, hours_per_week::float8 AS hours FROM home_support_entries
               WHERE participant_id = $1 AND valid_from = $2 AND corrected_at IS NULL FOR UPDATE"#,
            participant as _,
            entry.from
        )
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(kept) = kept {
            // The same value sent again (a double click, Back and send): it stands, so say so.
            if (kept.has_support, kept.provider.as_str(), kept.hours) == (entry.has_support, entry.provider, entry.hours) {
                return Ok(Ok(()));
            }
            let kept = kept.id;
            if entry.correction_reason.trim().is_empty() {
                return refuse("support_correction_reason", HOME_SUPPORT_DATE_TAKEN);
            }
            sqlx::query!(
                "UPDATE home_support_entries SET corrected_at = $2, corrected_by = $3, correction_reason = $4 WHERE id = $1",
                kept,
                stamp.at,
                stamp.by as _,
                entry.correction_reason.trim()
            )
            .execute(&mut *tx)
            .await?;
        }
        let inserted = sqlx::query!(
            "INSERT INTO home_support_entries (participant_id, valid_from, has_support, provider, hours_per_week, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5::float8::numeric, $6, $7)",
            participant as _,
            entry.from,
            entry.has_support,
            entry.provider,
            entry.hours,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await;
        // Someone kept a value for the date a moment ago.
        if let Err(err) = &inserted
            && violated_constraint(err) == Some("home_support_entries_one_per_date")
        {
            return refuse("support_correction_reason", HOME_SUPPORT_DATE_TAKEN);
        }
        inserted?;
        sqlx::query!(
            "UPDATE participants SET has_home_support = coalesce((SELECT has_support FROM home_support_entries
                 WHERE participant_id = $1 AND corrected_at IS NULL ORDER BY valid_from DESC, id DESC LIMIT 1), false) WHERE id = $1",
            participant as _
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "home_support_recorded")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// A närstående or företrädare as typed.
#[derive(Clone, Copy)]
pub struct NewRelative<'a> {
    pub kind: RelativeKind,
    pub name: &'a str,
    pub relation: &'a str,
    pub phone: &'a str,
    pub email: &'a str,
    pub note: &'a str,
}

pub async fn add_relative(
    db: &PgPool,
    participant: ParticipantId,
    relative: NewRelative<'_>,
    stamp: Stamp,
) -> AppResult<Result<RelativeId, Refused>> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            r#"INSERT INTO relatives (participant_id, kind, name, relation, phone, email, note, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id AS "id: RelativeId""#,
            participant as _,
            relative.kind.code(),
            relative.name,
            relative.relation,
            relative.phone,
            relative.email,
            relative.note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        save_relative_version(tx, id, stamp).await?;
        audit::Entry::new(Some(stamp.by), "relative_added")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Keeps the närstående as it now stands as its next version.
async fn save_relative_version(tx: &mut sqlx::PgConnection, id: RelativeId, stamp: Stamp) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO relative_versions (relative_id, version, kind, name, relation, phone, email, note, ended_on, changed_by, changed_at)
         SELECT id, version, kind, name, relation, phone, email, note, ended_on, $2, $3 FROM relatives WHERE id = $1",
        id as _,
        stamp.by as _,
        stamp.at
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

const RELATIVE_CHANGED: &str = "Någon annan har ändrat uppgifterna under tiden. Ladda om sidan och gör ändringen igen.";

/// Changes what is known of a närstående; the earlier version stays readable.
/// `version` is the one the form was made from: a change made in between is
/// not overwritten. The same change sent twice is done once.
pub async fn change_relative(
    db: &PgPool,
    relative: RelativeId,
    version: i32,
    to: NewRelative<'_>,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let now = sqlx::query!(
            "SELECT participant_id, version, kind, name, relation, phone, email, note, ended_on FROM relatives WHERE id = $1 FOR UPDATE",
            relative as _
        )
        .fetch_one(&mut *tx)
        .await?;
        let stands = [&now.kind, &now.name, &now.relation, &now.phone, &now.email, &now.note];
        let typed = [to.kind.code(), to.name, to.relation, to.phone, to.email, to.note];
        if stands.iter().zip(typed).all(|(a, b)| a.as_str() == b) {
            return Ok(Ok(()));
        }
        if now.ended_on.is_some() {
            return refuse("relative_name", "Uppgiften är avslutad och kan inte ändras.");
        }
        if now.version != version {
            return refuse("relative_name", RELATIVE_CHANGED);
        }
        sqlx::query!(
            "UPDATE relatives SET kind = $2, name = $3, relation = $4, phone = $5, email = $6, note = $7, version = version + 1 WHERE id = $1",
            relative as _,
            to.kind.code(),
            to.name,
            to.relation,
            to.phone,
            to.email,
            to.note
        )
        .execute(&mut *tx)
        .await?;
        save_relative_version(tx, relative, stamp).await?;
        audit::Entry::new(Some(stamp.by), "relative_changed")
            .record("participant", ParticipantId(now.participant_id))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Ends a närstående (no longer a contact, or no longer företrädare) from
/// `on`: kept, and shown as ended. The same end sent twice is done once.
pub async fn end_relative(
    db: &PgPool,
    relative: RelativeId,
    on: NaiveDate,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if on > today {
        return refuse("relative_ended_on", "Datumet kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let now = sqlx::query!(
            r#"SELECT participant_id, ended_on, (created_at AT TIME ZONE 'Europe/Stockholm')::date AS "added_on!"
               FROM relatives WHERE id = $1 FOR UPDATE"#,
            relative as _
        )
        .fetch_one(&mut *tx)
        .await?;
        match now.ended_on {
            Some(ended) if ended == on => return Ok(Ok(())),
            Some(ended) => return refuse("relative_ended_on", format!("Uppgiften avslutades redan {ended}.")),
            None => {}
        }
        if on < now.added_on {
            return refuse(
                "relative_ended_on",
                format!("Uppgiften lades till {}: den kan inte avslutas före det.", now.added_on),
            );
        }
        sqlx::query!(
            "UPDATE relatives SET ended_on = $2, ended_by = $3, version = version + 1 WHERE id = $1",
            relative as _,
            on,
            stamp.by as _
        )
        .execute(&mut *tx)
        .await?;
        save_relative_version(tx, relative, stamp).await?;
        audit::Entry::new(Some(stamp.by), "relative_ended")
            .record("participant", ParticipantId(now.participant_id))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// A samtycke as given: to contact organisations of `scope`, or only
/// `partner` of them, described in `note` (required for "other" without a partner).
#[derive(Clone, Copy)]
pub struct NewConsent<'a> {
    pub scope: ConsentScope,
    pub partner: Option<crate::ids::PartnerId>,
    pub note: &'a str,
    pub given: NaiveDate,
}

/// Records a samtycke given on `given`.
pub async fn give_consent(
    db: &PgPool,
    participant: ParticipantId,
    consent: NewConsent<'_>,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    let NewConsent {
        scope,
        partner,
        note,
        given,
    } = consent;
    if scope == ConsentScope::Other && note.is_empty() && partner.is_none() {
        return refuse("consent_note", "Beskriv vad samtycket gäller.");
    }
    if given > today {
        return refuse("consent_given", "Datumet kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        // A named organisation is one of the scope's kind ("Annat" names any; also a trigger).
        if let Some(partner) = partner {
            let kind = sqlx::query_scalar!("SELECT kind FROM partners WHERE id = $1", partner as _)
                .fetch_optional(&mut *tx)
                .await?;
            match kind {
                None => return refuse("consent_partner", "Välj organisationen i listan."),
                Some(kind) if kind != scope.code() && scope != ConsentScope::Other => {
                    return refuse(
                        "consent_partner",
                        format!("Organisationen är inte av slaget {}. Välj en annan, eller inget namn.", scope.label()),
                    );
                }
                Some(_) => {}
            }
        }
        sqlx::query!(
            "INSERT INTO consents (participant_id, scope, scope_note, given_on, partner_id, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            participant as _,
            scope.code(),
            note,
            given,
            partner as _,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "consent_given")
            .record("participant", participant)
            .details(scope.code())
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Withdraws a samtycke from `on`: not before it was given, nor in the future.
pub async fn withdraw_consent(
    db: &PgPool,
    participant: ParticipantId,
    consent: ConsentId,
    on: NaiveDate,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if on > today {
        return refuse("withdrawn_on", "Datumet kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let consent_row = sqlx::query!(
            "SELECT given_on, withdrawn_on FROM consents WHERE id = $2 AND participant_id = $1 FOR UPDATE",
            participant as _,
            consent as _
        )
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
        match consent_row.withdrawn_on {
            // The same withdrawal sent again: it is kept, so say so.
            Some(withdrawn) if withdrawn == on => return Ok(Ok(())),
            Some(_) => return Err(AppError::Conflict("Samtycket är redan återkallat.")),
            None => {}
        }
        let given_on = consent_row.given_on;
        if on < given_on {
            return refuse(
                "withdrawn_on",
                format!("Samtycket lämnades {given_on}: det kan inte återkallas före det."),
            );
        }
        sqlx::query!("UPDATE consents SET withdrawn_on = $2 WHERE id = $1", consent as _, on)
            .execute(&mut *tx)
            .await?;
        audit::Entry::new(Some(stamp.by), "consent_withdrawn")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Marks a person as having protected identity, or clears the mark; the
/// change is in the audit log. The same mark sent again changes nothing.
pub async fn set_protected_identity(db: &PgPool, participant: ParticipantId, protected: bool, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let changed = sqlx::query!(
            "UPDATE participants SET protected_identity = $2 WHERE id = $1 AND protected_identity <> $2",
            participant as _,
            protected
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed > 0 {
            let action = if protected {
                "protected_identity_set"
            } else {
                "protected_identity_cleared"
            };
            audit::Entry::new(Some(stamp.by), action)
                .record("participant", participant)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(())
    })
    .await
}

const NUMBER_TAKEN: &str = "Det finns redan en deltagare med det numret på enheten.";

/// Registers a participant at `unit`: the record, its first version, its
/// first status and the audit entry. A number already in the unit is refused.
pub async fn register(
    db: &PgPool,
    unit: UnitId,
    fields: &ParticipantFields,
    intake: Option<crate::ids::IntakeId>,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<ParticipantId, Refused>> {
    // Checked first so the common case never reaches the database's unique
    // index, whose error message (in the server log) would spell out the number.
    if queries::number_taken(db, unit, fields.identity_number.as_deref(), None).await? {
        return refuse("identity_number", NUMBER_TAKEN);
    }
    in_transaction(db, async |tx| {
        // From an intresseanmälan: still waiting, in this unit; its first
        // contact is the person's, and it is marked registered with them.
        let mut from_intake = None;
        let fields = match intake {
            None => std::borrow::Cow::Borrowed(fields),
            Some(intake) => {
                let Some(row) = sqlx::query!(
                    "SELECT received_on, first_visit_on FROM intakes WHERE id = $1 AND unit_id = $2 AND status = 'open' FOR UPDATE",
                    intake as _,
                    unit as _
                )
                .fetch_optional(&mut *tx)
                .await?
                else {
                    return refuse(
                        "first_name",
                        "Intresseanmälan är redan registrerad eller avslutad, eller hör till en annan enhet.",
                    );
                };
                from_intake = Some(intake);
                let mut kept = fields.clone();
                kept.first_contact_on = Some(row.received_on);
                kept.first_visit_on = kept.first_visit_on.or(row.first_visit_on);
                std::borrow::Cow::Owned(kept)
            }
        };
        let fields = fields.as_ref();
        let id = match queries::insert(tx, unit, fields, stamp.by, stamp.at).await {
            Ok(id) => id,
            Err(err) if violated_constraint(&err) == Some("participants_identity_key") => {
                return refuse("identity_number", NUMBER_TAKEN);
            }
            Err(err) => return Err(err.into()),
        };
        let registered = StatusChange {
            status: ParticipantStatus::Active,
            on: today,
            end_reason: None,
            note: "Registrerad",
        };
        add_status_event(tx, id, &registered, stamp).await?;
        if let Some(intake) = from_intake {
            sqlx::query!(
                "UPDATE intakes SET status = 'registered', participant_id = $2, version = version + 1 WHERE id = $1",
                intake as _,
                id as _
            )
            .execute(&mut *tx)
            .await?;
        }
        audit::Entry::new(Some(stamp.by), "participant_created")
            .record("participant", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Saves the registration form over the record if it is still at `base_version`.
pub async fn update(
    db: &PgPool,
    participant: ParticipantId,
    unit: UnitId,
    base_version: i32,
    fields: &ParticipantFields,
    stamp: Stamp,
) -> AppResult<Result<Updated, Refused>> {
    if queries::number_taken(db, unit, fields.identity_number.as_deref(), Some(participant)).await? {
        return refuse("identity_number", NUMBER_TAKEN);
    }
    in_transaction(db, async |tx| {
        match queries::update(tx, participant, base_version, fields, stamp.by, stamp.at).await {
            Ok(true) => {}
            Ok(false) => return Ok(Ok(Updated::Conflict)),
            Err(err) if violated_constraint(&err) == Some("participants_identity_key") => {
                return refuse("identity_number", NUMBER_TAKEN);
            }
            Err(err) => return Err(err.into()),
        }
        audit::Entry::new(Some(stamp.by), "participant_updated")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(Updated::Saved))
    })
    .await
}

/// A journalanteckning as written: a new note, a correction of one (with
/// the reason), or the person's own objection to one.
pub struct NewNote<'a> {
    pub participant: ParticipantId,
    pub event_on: NaiveDate,
    pub note_type: NoteType,
    pub body: &'a str,
    pub corrects: Option<(JournalNoteId, &'a str)>,
    pub disputes: Option<JournalNoteId>,
    /// A samverkan note's partner, and the urgent reason when no consent covers it.
    pub partner: Option<(crate::ids::PartnerId, &'a str)>,
}

/// Writes a journal note, signed with the author's name and title as they
/// are today; notes are never changed, a correction is a new note.
pub async fn write_note(db: &PgPool, note: NewNote<'_>, author: &SessionUser, at: DateTime<Utc>) -> AppResult<Result<i64, Refused>> {
    in_transaction(db, async |tx| {
        let standings = match note.partner {
            None => Vec::new(),
            Some((partner, urgent)) => match gate::check(tx, note.participant, &[partner], note.event_on, urgent).await? {
                Ok(standings) => standings,
                Err(refused) => return Ok(Err(refused)),
            },
        };
        let inserted = sqlx::query_scalar!(
            "INSERT INTO journal_notes (participant_id, event_on, note_type, body, author_id, author_name, author_title, created_at,
                 corrects_id, correction_reason, disputes_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            note.participant as _,
            note.event_on,
            note.note_type.code(),
            note.body,
            author.id as _,
            author.name,
            author.job_title,
            at,
            note.corrects.map(|(id, _)| id) as _,
            note.corrects.map(|(_, reason)| reason),
            note.disputes as _
        )
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            // Two people correcting the same note at once: the second is told.
            Err(err) if violated_constraint(&err) == Some("journal_notes_corrects_id_key") => {
                return refuse(
                    "correct_body",
                    "Anteckningen har redan rättats. Ladda om sidan och rätta den senaste versionen.",
                );
            }
            Err(err) => return Err(err.into()),
        };
        if let Some((_, urgent)) = note.partner {
            let stamp = Stamp { by: author.id, at };
            gate::record(
                tx,
                note.participant,
                &standings,
                note.event_on,
                gate::Via::Journal(JournalNoteId(id)),
                urgent,
                stamp,
            )
            .await?;
        }
        let action = if note.corrects.is_some() {
            "journal_corrected"
        } else {
            "journal_note_added"
        };
        audit::Entry::new(Some(author.id), action)
            .record("participant", note.participant)
            .details(&format!("anteckning {id}"))
            .write(&mut *tx, at)
            .await?;
        Ok(Ok(id))
    })
    .await
}
