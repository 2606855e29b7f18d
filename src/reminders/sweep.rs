//! The background task's round: raise the reminders that are due. It runs on
//! every instance, but each round holds a PostgreSQL advisory lock, and a
//! reminder is unique per (plan, kind, due date), so however often and on
//! however many instances it runs, each reminder exists once. Every query
//! goes through a partial index on a due date of active plans, so a round
//! costs what is due, not the plans' history.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::PgPool;

/// Arbitrary, fixed key for the reminder lock (housekeeping uses …0001).
const REMINDER_LOCK: i64 = 0x4c6f_7473_656e_0002;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub raised: u64,
    pub cleared: u64,
    /// Follow-ups and renewals that reached the managers in this round.
    pub escalated: u64,
}

/// One round. `None` when another instance holds the lock right now.
pub async fn run(db: &PgPool, today: NaiveDate, now: DateTime<Utc>) -> Result<Option<Report>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let locked: bool = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, REMINDER_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let horizon = today + Duration::days(crate::domain::plans::DUE_SOON_DAYS);
    // The end of stöd vid arbete is flagged a month ahead (`domain::employment`).
    let support_horizon = crate::domain::employment::flagged_until(today);
    let raised = sqlx::query!(
        "INSERT INTO reminders (plan_id, unit_id, participant_id, kind, due_on, raised_at)
         SELECT id, unit_id, participant_id, 'follow_up', next_follow_up_on, $3::timestamptz FROM plans
          WHERE status = 'active' AND next_follow_up_on <= $2
         UNION ALL
         SELECT id, unit_id, participant_id, 'renewal', renewal_due_on, $3::timestamptz FROM plans
          WHERE status = 'active' AND renewal_due_on <= $2
         UNION ALL
         SELECT id, unit_id, participant_id, 'two_year_limit', limit_last_day, $3::timestamptz FROM plans
          WHERE status = 'active' AND limit_warning_on <= $1 AND planned_end_on >= limit_warning_on
         UNION ALL
         SELECT s.plan_id, pa.unit_id, s.participant_id, 'employment_support_end', s.ends_on, $3::timestamptz
           FROM employment_supports s JOIN participants pa ON pa.id = s.participant_id
          WHERE s.ended_on IS NULL AND s.ends_on <= $4 AND s.ends_on >= $1
         ON CONFLICT (plan_id, kind, due_on) DO NOTHING",
        today,
        horizon,
        now,
        support_horizon
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Escalation: a follow-up or renewal overdue by more than the unit's
    // days reaches its managers. Marked once, with the day it happened; an
    // open reminder is found through its unit's index of open reminders.
    let escalated = sqlx::query!(
        "UPDATE reminders r SET escalated_on = $1::date FROM units u
         WHERE r.cleared_at IS NULL AND r.escalated_on IS NULL AND r.kind IN ('follow_up', 'renewal')
           AND u.id = r.unit_id AND r.due_on < $1::date - u.escalation_days",
        today
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    // Safety net: reminders of plans no longer active are answered (those
    // of stöd vid arbete, which follows an ended plan, once it has ended or
    // its last day has passed).
    let cleared = sqlx::query!(
        "UPDATE reminders r SET cleared_at = $1 FROM plans p
         WHERE r.cleared_at IS NULL AND p.id = r.plan_id
           AND CASE WHEN r.kind = 'employment_support_end'
                    THEN NOT EXISTS (SELECT 1 FROM employment_supports s WHERE s.plan_id = r.plan_id AND s.ended_on IS NULL AND s.ends_on >= $2)
                    ELSE p.status <> 'active' END",
        now,
        today
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(Some(Report {
        raised,
        cleared,
        escalated,
    }))
}
