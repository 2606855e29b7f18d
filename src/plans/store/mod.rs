//! The one writer of plans. Every change to a plan — made, changed, set and
//! activated or queued, renewed, ended, its goals and activities, its
//! follow-ups and assessments, its place in the kö — is a command here. Each
//! opens its transaction, takes the locks its rules need (the person's row,
//! the unit's capacity, the plan's row), checks the rules that depend on what
//! is stored, and writes the row, its version (`plan_versions`), its audit
//! entry, its derived dates (next follow-up, renewal, two-year limit) and the
//! reminders it answers. Handlers parse and authorize, then call one command.

mod content;
pub mod employers;
mod follow_ups;
pub mod joint_plans;

pub use content::*;
pub use follow_ups::*;

use crate::audit::{self, Stamp};
use crate::domain::plans::{self as rules, PlanStatus, Programme, TwoYearCheck};
use crate::error::{AppError, AppResult};
use crate::ids::{FollowUpId, ParticipantId, PlanId, QueueEntryId, UnitId, UserId};
use crate::participants::model::ParticipantStatus;
use crate::plans::capacity;

use crate::plans::follow_ups::Checked;
use crate::plans::form::PlanFields;
use crate::plans::model::{Outcome, ReminderKind};
use crate::plans::queries::{self, Plan};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

pub use crate::db::Refused;
use crate::db::{Ending, Updated, in_transaction, refuse};

#[derive(Debug, PartialEq, Eq)]
pub enum Activation {
    /// Active now; the message warns when 22 months or more are used.
    Activated { warning: Option<String> },
    /// Capacity is full: the plan waits in the queue (kö).
    Queued { usage: String },
    /// A rule refused it: which field, and the message for it.
    Refused { field: &'static str, message: String },
}

fn refused(field: &'static str, message: impl Into<String>) -> Result<Activation, sqlx::Error> {
    Ok(Activation::Refused {
        field,
        message: message.into(),
    })
}

/// The two-year rule for `plan` with the person's other plans; `Err` is the message.
async fn check_limit(
    conn: &mut PgConnection,
    plan_id: Option<PlanId>,
    participant_id: ParticipantId,
    period: rules::Period,
) -> Result<Result<Option<String>, String>, sqlx::Error> {
    let mut periods = queries::counted_periods(conn, participant_id, plan_id).await?;
    let earlier = periods.clone();
    periods.push(period);
    Ok(match rules::check_two_years(&periods) {
        TwoYearCheck::Allowed => Ok(None),
        TwoYearCheck::Warning { days_left } => Ok(Some(format!(
            "Personen närmar sig tvåårsgränsen för förstegsträning: {days_left} dagar kvar efter planerat slut."
        ))),
        TwoYearCheck::Refused { days_over } => {
            let last = rules::limit_dates(&earlier, period.start).last_day;
            Err(format!(
                "Förstegsträning får vara högst två år sammanlagt. Planerat slut går {days_over} dagar över gränsen; sista tillåtna dag är {last}."
            ))
        }
    })
}

/// Sets (fastställer) and activates a draft plan, or queues it when capacity
/// is full and `queue_when_full` is set (from the kö it is not).
pub async fn activate(
    db: &PgPool,
    plan_id: PlanId,
    set_on: NaiveDate,
    today: NaiveDate,
    stamp: Stamp,
    queue_when_full: bool,
) -> AppResult<Activation> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        Ok(activate_in(tx, plan_id, set_on, today, by, now, queue_when_full).await?)
    })
    .await
}

async fn activate_in(
    conn: &mut PgConnection,
    plan_id: PlanId,
    set_on: NaiveDate,
    today: NaiveDate,
    by: UserId,
    now: DateTime<Utc>,
    queue_when_full: bool,
) -> Result<Activation, sqlx::Error> {
    // The person's row first: every activation for one person takes turns.
    let participant = sqlx::query!(
        r#"SELECT pa.id, pa.status AS "status: ParticipantStatus" FROM participants pa JOIN plans p ON p.participant_id = pa.id
           WHERE p.id = $1 FOR UPDATE OF pa"#,
        plan_id as _
    )
    .fetch_one(&mut *conn)
    .await?;
    let Some(plan) = queries::load(&mut *conn, plan_id).await? else {
        return refused("set_on", "Planen finns inte.");
    };
    if !plan.is_draft() {
        return refused("set_on", "Planen är redan aktiverad eller avslutad.");
    }
    if participant.status == ParticipantStatus::Ended {
        return refused("set_on", "Deltagaren är avslutad. Registrera återkomsten först.");
    }
    if set_on > today {
        return refused("set_on", "Planen kan inte fastställas i framtiden.");
    }
    if plan.key_worker_id.is_none() {
        // DOMAIN.md: a kontaktman is required (also a trigger on plans).
        return refused("set_on", "Utse en kontaktman för deltagaren innan planen aktiveras.");
    }
    // A samordnad plan made with the person and the partners comes first
    // (issue 19, point 2): agreed on or before the day the plan is set.
    match joint_plans::first_agreed_on(conn, plan.participant_id).await? {
        Some(agreed) if agreed <= set_on => {}
        Some(agreed) => {
            return refused(
                "set_on",
                format!("Den samordnade planen kom överens om {agreed}: planen kan fastställas tidigast den dagen."),
            );
        }
        None => return refused("set_on", JOINT_PLAN_FIRST),
    }
    // The plan is summarised in writing and has a goal before it counts
    // (also a trigger on plans, migration 0012).
    if plan.summary.trim().is_empty() {
        return refused("set_on", SUMMARY_TO_SET);
    }
    let has_goal = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM plan_goals WHERE plan_id = $1) AS "exists!""#,
        plan.id as _
    )
    .fetch_one(&mut *conn)
    .await?;
    if !has_goal {
        return refused("set_on", "Lägg till minst ett mål innan planen fastställs.");
    }
    let programme = plan.programme();
    let other_active = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM plans WHERE participant_id = $1 AND programme = $2 AND status = 'active') AS "exists!""#,
        plan.participant_id as _,
        programme.code()
    )
    .fetch_one(&mut *conn)
    .await?;
    if other_active {
        return refused(
            "set_on",
            format!(
                "Deltagaren har redan en aktiv plan för {}. Avsluta den först.",
                programme_name(programme)
            ),
        );
    }
    let warning = match check_limit(conn, Some(plan.id), plan.participant_id, plan.period()).await? {
        Ok(warning) => warning,
        Err(message) => return refused("set_on", message),
    };

    let usage = capacity::lock(conn, plan.unit_id, programme, Some(plan.id)).await?;
    if !usage.fits(plan.hours()) {
        if !queue_when_full {
            return refused("set_on", format!("Det finns ingen plats just nu: {}.", usage.describe()));
        }
        let queued = sqlx::query!(
            "INSERT INTO queue_entries (plan_id, unit_id, programme, queued_on, queued_at, queued_by) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (plan_id) WHERE closed_on IS NULL DO NOTHING",
            plan.id as _,
            plan.unit_id as _,
            programme.code(),
            today,
            now,
            by as _
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if queued > 0 {
            bump(conn, plan.id, by, now, "Satt i kö").await?;
            audit::Entry::new(Some(by), "plan_queued")
                .record("plan", plan.id)
                .write(&mut *conn, now)
                .await?;
        }
        return Ok(Activation::Queued { usage: usage.describe() });
    }

    let schedule = queries::schedule(conn, &plan, Some(set_on), None).await?;
    sqlx::query!(
        "UPDATE plans SET status = 'active', set_on = $2, next_follow_up_on = $3, renewal_due_on = $4,
                          limit_warning_on = $5, limit_last_day = $6
         WHERE id = $1",
        plan.id as _,
        set_on,
        schedule.next_follow_up_on,
        schedule.renewal_due_on,
        schedule.limit.warning_on,
        schedule.limit.last_day
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "UPDATE queue_entries SET closed_on = $2, closed_reason = 'activated', closed_by = $3 WHERE plan_id = $1 AND closed_on IS NULL",
        plan.id as _,
        today,
        by as _
    )
    .execute(&mut *conn)
    .await?;
    bump(conn, plan.id, by, now, "Fastställd och aktiverad").await?;
    audit::Entry::new(Some(by), "plan_activated")
        .record("plan", plan.id)
        .write(&mut *conn, now)
        .await?;
    Ok(Activation::Activated { warning })
}

pub const JOINT_PLAN_FIRST: &str =
    "Gör den samordnade planen med personen och samverkansparterna (personakten, Samordnad plan) innan planen aktiveras.";

const SUMMARY_TO_SET: &str = "Skriv planens sammanfattning (Ändra planen) innan den fastställs: planen ska sammanfattas skriftligt.";

/// The programme's name for messages ("förstegsträning", "Team ISA").
pub fn programme_name(programme: Programme) -> String {
    match programme {
        Programme::FirstStep => "förstegsträning".into(),
        Programme::TeamIsa => "Team ISA".into(),
    }
}

/// Saves a new plan as a draft (utkast), within the two-year limit.
pub async fn create(
    db: &PgPool,
    participant_id: ParticipantId,
    unit_id: UnitId,
    fields: &PlanFields,
    stamp: Stamp,
) -> AppResult<Result<PlanId, Refused>> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        // The person's row, so the two-year check sees every plan saved before this one.
        lock_person(&mut *tx, participant_id).await?;
        let period = rules::Period {
            start: fields.start_on,
            end: fields.planned_end_on,
        };
        if let Err(message) = check_limit(&mut *tx, None, participant_id, period).await? {
            return refuse("planned_end_on", message);
        }
        let employer_id = match employers::resolve(&mut *tx, &fields.employer, stamp).await? {
            Ok(id) => id,
            Err((field, message)) => return refuse(field, message),
        };
        let earlier = queries::counted_periods(&mut *tx, participant_id, None).await?;
        let limit = rules::limit_dates(&earlier, fields.start_on);
        let id = sqlx::query_scalar!(
            r#"INSERT INTO plans (participant_id, unit_id, programme, start_on, planned_end_on, weekly_hours, weekdays, methods,
                                participation, summary, employer_id, supervisor, tasks, limit_last_day,
                                created_by, created_at, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6::float8::numeric, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $15, $16)
             RETURNING id AS "id: PlanId""#,
            participant_id as _,
            unit_id as _,
            fields.programme.code(),
            fields.start_on,
            fields.planned_end_on,
            fields.weekly_hours.as_f64(),
            fields.weekdays,
            &fields.methods,
            fields.participation,
            fields.summary,
            employer_id as _,
            fields.supervisor,
            fields.tasks,
            limit.last_day,
            by as _,
            now
        )
        .fetch_one(&mut *tx)
        .await?;
        save_version(&mut *tx, id, by, now, "Skapad som utkast").await?;
        audit::Entry::new(Some(by), "plan_created")
            .record("plan", id)
            .details(fields.programme.code())
            .write(&mut *tx, now)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Saves the plan form over `plan` if it is still at `base_version`, checking
/// capacity (for more hours on an active plan) and the two-year limit.
pub async fn update(db: &PgPool, plan: &Plan, base_version: i32, fields: &PlanFields, stamp: Stamp) -> AppResult<Result<Updated, Refused>> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        lock_person(&mut *tx, plan.participant_id).await?;
        let stored = sqlx::query!(
            r#"SELECT status AS "status: PlanStatus", version FROM plans WHERE id = $1 FOR UPDATE"#,
            plan.id as _
        )
        .fetch_one(&mut *tx)
        .await?;
        let status = stored.status;
        // Saved by someone else since the form was opened: nothing is written.
        if stored.version != base_version {
            return Ok(Ok(Updated::Conflict));
        }
        if status == PlanStatus::Ended {
            return refuse("start_on", "Planen har avslutats under tiden och kan inte ändras.");
        }
        let period = rules::Period {
            start: fields.start_on,
            end: fields.planned_end_on,
        };
        if let Err(message) = check_limit(&mut *tx, Some(plan.id), plan.participant_id, period).await? {
            return refuse("planned_end_on", message);
        }
        if status == PlanStatus::Active && fields.summary.trim().is_empty() {
            return refuse("summary", "En fastställd plan behöver sin skriftliga sammanfattning.");
        }
        if status == PlanStatus::Active && fields.programme == Programme::FirstStep && fields.weekly_hours > plan.hours() {
            let usage = capacity::lock(&mut *tx, plan.unit_id, fields.programme, Some(plan.id)).await?;
            if !usage.fits(fields.weekly_hours) {
                return refuse(
                    "weekly_hours",
                    format!("Det finns inte så många timmar kvar: {}.", usage.describe()),
                );
            }
        }
        let employer_id = match employers::resolve(&mut *tx, &fields.employer, stamp).await? {
            Ok(id) => id,
            Err((field, message)) => return refuse(field, message),
        };
        let earlier = queries::counted_periods(&mut *tx, plan.participant_id, Some(plan.id)).await?;
        let limit = rules::limit_dates(&earlier, fields.start_on);
        sqlx::query!(
            "UPDATE plans SET start_on = $2, planned_end_on = $3, weekly_hours = $4::float8::numeric, weekdays = $5, methods = $6,
                              participation = $7, summary = $8, employer_id = $9, supervisor = $10, tasks = $11,
                              limit_warning_on = CASE WHEN status = 'active' THEN $12::date END, limit_last_day = $13
             WHERE id = $1",
            plan.id as _,
            fields.start_on,
            fields.planned_end_on,
            fields.weekly_hours.as_f64(),
            fields.weekdays,
            &fields.methods,
            fields.participation,
            fields.summary,
            employer_id as _,
            fields.supervisor,
            fields.tasks,
            limit.warning_on,
            limit.last_day
        )
        .execute(&mut *tx)
        .await?;
        bump(&mut *tx, plan.id, by, now, "Ändrad").await?;
        audit::Entry::new(Some(by), "plan_updated")
            .record("plan", plan.id)
            .write(&mut *tx, now)
            .await?;
        Ok(Ok(Updated::Saved))
    })
    .await
}

/// What completes an older record: the summary of a follow-up held before
/// summaries were required, or what was reviewed at the plan's latest renewal.
pub enum Completion {
    FollowUp(FollowUpId),
    Renewal,
}

/// Adds the missing written text to an older record, once; the record shows
/// who added it and when. The same text sent twice is done once.
pub async fn complete(db: &PgPool, plan: &Plan, what: Completion, text: &str, stamp: Stamp) -> AppResult<Result<(), Refused>> {
    let text = text.trim();
    if text.is_empty() {
        return refuse("completion", "Skriv det som saknas.");
    }
    if text.chars().count() > 20_000 {
        return refuse("completion", "Högst 20000 tecken.");
    }
    in_transaction(db, async |tx| {
        match what {
            Completion::FollowUp(follow_up) => {
                let notes = sqlx::query_scalar!(
                    "SELECT notes FROM follow_ups WHERE id = $1 AND plan_id = $2 FOR UPDATE",
                    follow_up as _,
                    plan.id as _
                )
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(AppError::NotFound)?;
                if !notes.trim().is_empty() {
                    return if notes.trim() == text {
                        Ok(Ok(()))
                    } else {
                        refuse("completion", "Uppföljningen har redan en sammanfattning.")
                    };
                }
                sqlx::query!(
                    "UPDATE follow_ups SET notes = $2, completed_by = $3, completed_at = $4 WHERE id = $1",
                    follow_up as _,
                    text,
                    stamp.by as _,
                    stamp.at
                )
                .execute(&mut *tx)
                .await?;
            }
            Completion::Renewal => {
                let Some(renewed_on) = plan.renewed_on else {
                    return refuse("completion", "Planen har inte förnyats.");
                };
                // A row for the date already completes it (also when this is sent twice).
                let recorded = sqlx::query!(
                    "INSERT INTO plan_renewals (plan_id, renewed_on, reviewed, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (plan_id, renewed_on) DO NOTHING",
                    plan.id as _,
                    renewed_on,
                    text,
                    stamp.by as _,
                    stamp.at
                )
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if recorded == 0 {
                    return Ok(Ok(()));
                }
            }
        }
        audit::Entry::new(Some(stamp.by), "plan_record_completed")
            .record("plan", plan.id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Renews an active plan (DOMAIN.md: at least once a year) with what was
/// reviewed; returns when the next renewal is due.
pub async fn renew(
    db: &PgPool,
    plan: &Plan,
    renewed_on: NaiveDate,
    reviewed: &str,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<NaiveDate, Refused>> {
    let Stamp { by, at: now } = stamp;
    if reviewed.trim().is_empty() {
        return refuse("renewal_review", "Skriv vad som gicks igenom vid förnyelsen.");
    }
    if !plan.is_active() {
        return refuse("renewed_on", "Bara en aktiv plan förnyas.");
    }
    if renewed_on > today {
        return refuse("renewed_on", "Datumet kan inte ligga i framtiden.");
    }
    // The same renewal sent again (a double click, Back and send): it is kept, so say so.
    if plan.renewed_on == Some(renewed_on) {
        return Ok(Ok(rules::renewal_due(renewed_on)));
    }
    if plan.set_on.is_some_and(|s| renewed_on < s) || plan.renewed_on.is_some_and(|r| renewed_on <= r) {
        return refuse(
            "renewed_on",
            "Förnyelsen måste vara efter att planen fastställdes eller senast förnyades.",
        );
    }
    in_transaction(db, async |tx| {
        let due = rules::renewal_due(renewed_on);
        // The same renewal posted twice at once is kept once; the second
        // request answers as the first did instead of failing.
        let recorded = sqlx::query!(
            "INSERT INTO plan_renewals (plan_id, renewed_on, reviewed, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (plan_id, renewed_on) DO NOTHING",
            plan.id as _,
            renewed_on,
            reviewed.trim(),
            by as _,
            now
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if recorded == 0 {
            return Ok(Ok(due));
        }
        let updated = sqlx::query!(
            "UPDATE plans SET renewed_on = $2, renewal_due_on = $3
             WHERE id = $1 AND status = 'active' AND (renewed_on IS NULL OR renewed_on < $2)",
            plan.id as _,
            renewed_on,
            due
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            // Ended, or renewed with a later date in the meantime: the date never goes backwards.
            return Err(AppError::Conflict(
                "Planen har ändrats under tiden (avslutad eller förnyad med ett senare datum). Ladda om sidan.",
            ));
        }
        // The renewal answers every renewal reminder raised so far.
        clear_reminders(&mut *tx, plan.id, Some(ReminderKind::Renewal), now).await?;
        bump(&mut *tx, plan.id, by, now, "Förnyad").await?;
        audit::Entry::new(Some(by), "plan_renewed")
            .record("plan", plan.id)
            .write(&mut *tx, now)
            .await?;
        Ok(Ok(due))
    })
    .await
}

/// Ends an active plan with its utfall; its place is free for the next in the kö.
pub async fn end(
    db: &PgPool,
    plan: &Plan,
    ended_on: NaiveDate,
    today: NaiveDate,
    outcome: Outcome,
    note: &str,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    let Stamp { by, at: now } = stamp;
    if !plan.is_active() {
        return refuse("ended_on", "Bara en aktiv plan avslutas. Ett utkast kan lämnas som det är.");
    }
    if ended_on < plan.start_on {
        return refuse("ended_on", "Slutdatum kan inte vara före planens start.");
    }
    if ended_on > today {
        return refuse("ended_on", "Slutdatum kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let updated = sqlx::query!(
            "UPDATE plans SET status = 'ended', ended_on = $2, outcome = $3, outcome_note = $4,
                              next_follow_up_on = NULL, renewal_due_on = NULL, limit_warning_on = NULL
             WHERE id = $1 AND status = 'active'",
            plan.id as _,
            ended_on,
            outcome.code(),
            note
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(AppError::Conflict("Planen är redan avslutad."));
        }
        clear_reminders(&mut *tx, plan.id, None, now).await?;
        bump(&mut *tx, plan.id, by, now, "Avslutad").await?;
        audit::Entry::new(Some(by), "plan_ended")
            .record("plan", plan.id)
            .details(outcome.code())
            .write(&mut *tx, now)
            .await?;
        Ok(Ok(()))
    })
    .await
}

impl Ending for Activation {
    fn keeps(&self) -> bool {
        !matches!(self, Activation::Refused { .. })
    }
}

/// Takes a plan out of the kö without activating it, with the reason.
pub async fn remove_from_queue(
    db: &PgPool,
    entry_id: QueueEntryId,
    plan_id: PlanId,
    reason: &str,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<()> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        let closed = sqlx::query!(
            "UPDATE queue_entries SET closed_on = $2, closed_reason = 'removed', closed_note = $3, closed_by = $4
             WHERE id = $1 AND closed_on IS NULL",
            entry_id as _,
            today,
            reason,
            by as _
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if closed == 0 {
            return Err(AppError::Conflict("Personen står inte längre i kön."));
        }
        bump(&mut *tx, plan_id, by, now, "Borttagen ur kön").await?;
        audit::Entry::new(Some(by), "queue_entry_removed")
            .record("plan", plan_id)
            .details(reason)
            .write(&mut *tx, now)
            .await?;
        Ok(())
    })
    .await
}

/// Answers a plan's open reminders: of one kind (a follow-up held, a
/// renewal), or all of them (the plan ended).
async fn clear_reminders(
    conn: &mut sqlx::PgConnection,
    plan_id: PlanId,
    kind: Option<ReminderKind>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "UPDATE reminders SET cleared_at = $3 WHERE plan_id = $1 AND kind = coalesce($2, kind) AND cleared_at IS NULL",
        plan_id as _,
        kind.map(ReminderKind::code),
        now
    )
    .execute(conn)
    .await?
    .rows_affected())
}

/// The person's row: every change that counts against their two years takes turns.
async fn lock_person(conn: &mut PgConnection, participant_id: ParticipantId) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT id FROM participants WHERE id = $1 FOR UPDATE", participant_id as _)
        .fetch_one(&mut *conn)
        .await?;
    Ok(())
}

/// Writes the plan as it now is into its history, as version `plans.version`.
pub(crate) async fn save_version(
    conn: &mut PgConnection,
    plan_id: PlanId,
    by: UserId,
    now: DateTime<Utc>,
    change: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"INSERT INTO plan_versions (plan_id, version, changed_by, changed_at, change, snapshot)
           SELECT p.id, p.version, $2, $3, $4,
                  (to_jsonb(p) - 'version' - 'updated_at' - 'updated_by' - 'created_at' - 'created_by')
                  || jsonb_build_object(
                       'goals', coalesce((SELECT jsonb_agg(jsonb_build_object('id', g.id, 'parent_id', g.parent_id, 'description', g.description) ORDER BY g.id)
                                          FROM plan_goals g WHERE g.plan_id = p.id), '[]'::jsonb),
                       'activities', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'goal_id', a.goal_id, 'description', a.description,
                                                                                   'responsible_id', a.responsible_id, 'status', a.status) ORDER BY a.id)
                                               FROM plan_activities a WHERE a.plan_id = p.id), '[]'::jsonb))
           FROM plans p WHERE p.id = $1"#,
        plan_id as _,
        by as _,
        now,
        change
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks the plan as changed (a new version, by whom and when) and records
/// the version in its history.
async fn bump(conn: &mut PgConnection, plan_id: PlanId, by: UserId, now: DateTime<Utc>, change: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE plans SET version = version + 1, updated_by = $2, updated_at = $3 WHERE id = $1",
        plan_id as _,
        by as _,
        now
    )
    .execute(&mut *conn)
    .await?;
    save_version(conn, plan_id, by, now, change).await
}
