//! Recording an uppföljning: the follow-up, the progress per goal, the
//! plan's new hours and next due date, and the reminders it answers.

use super::{Checked, clear_reminders};
use super::{Refused, Stamp, bump};
use crate::audit;
use crate::db::{in_transaction, refuse};
use crate::domain::plans::PlanStatus;
use crate::domain::plans::{self as rules, Programme};
use crate::error::AppResult;
use crate::partners::gate;
use crate::plans::capacity;
use crate::plans::model::ReminderKind;
use crate::plans::queries::Plan;
use chrono::NaiveDate;
use sqlx::PgPool;

/// What became of a follow-up.
pub enum Recorded {
    /// Saved; the next follow-up is due then.
    Done(NaiveDate),
    /// One was already recorded for that day (a double submit, or a colleague first).
    AlreadyHeld,
}

/// Records an uppföljning: the follow-up, the progress per goal, the plan's new
/// hours and next due date, and the reminders it answers.
pub async fn record_follow_up(db: &PgPool, plan: &Plan, c: &Checked, stamp: Stamp) -> AppResult<Result<Recorded, Refused>> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        // The plan's row: follow-ups of one plan are recorded one at a time.
        let current = sqlx::query!(
            r#"SELECT status AS "status: PlanStatus", next_follow_up_on, set_on, (weekly_hours * 100)::int AS "hours!"
               FROM plans WHERE id = $1 FOR UPDATE"#,
            plan.id as _
        )
        .fetch_one(&mut *tx)
        .await?;
        let already = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM follow_ups WHERE plan_id = $1 AND held_on = $2) AS "exists!""#,
            plan.id as _,
            c.held_on
        )
        .fetch_one(&mut *tx)
        .await?;
        if already {
            return Ok(Ok(Recorded::AlreadyHeld));
        }
        let (Some(set_on), true) = (
            current.set_on,
            current.status == PlanStatus::Active && current.next_follow_up_on == Some(c.due_on),
        ) else {
            return refuse(
                "held_on",
                "Planen har ändrats sedan formuläret öppnades. Ladda om sidan och försök igen.",
            );
        };
        let before = rules::WeeklyHours::from_hundredths(current.hours.max(0) as u32);
        let programme = plan.programme();
        if programme == Programme::FirstStep && c.hours > before {
            let usage = capacity::lock(&mut *tx, plan.unit_id, programme, Some(plan.id)).await?;
            if !usage.fits(c.hours) {
                return refuse(
                    "weekly_hours",
                    format!("Det finns inte så många timmar kvar: {}.", usage.describe()),
                );
            }
        }
        let standings = match gate::check(tx, plan.participant_id, &c.partners, c.held_on, &c.urgent_reason).await? {
            Ok(standings) => standings,
            Err(refused) => return Ok(Err(refused)),
        };
        let next = rules::next_follow_up_due(programme, set_on, Some(c.held_on));
        let follow_up_id = sqlx::query_scalar!(
            "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, staff_present, partners, partners_without_consent,
                                     notes, weekly_hours_before, weekly_hours_after, next_due_on, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::float8::numeric, $10::float8::numeric, $11, $12, $13)
             ON CONFLICT (plan_id, held_on) DO NOTHING RETURNING id",
            plan.id as _,
            c.due_on,
            c.held_on,
            c.took_part,
            c.staff_present,
            &[] as &[String],
            &[] as &[String],
            c.notes,
            before.as_f64(),
            c.hours.as_f64(),
            next,
            by as _,
            now
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(follow_up_id) = follow_up_id else {
            return Ok(Ok(Recorded::AlreadyHeld));
        };
        let stamp = Stamp { by, at: now };
        gate::record(
            tx,
            plan.participant_id,
            &standings,
            c.held_on,
            gate::Via::FollowUp(crate::ids::FollowUpId(follow_up_id)),
            &c.urgent_reason,
            stamp,
        )
        .await?;
        for (goal, progress) in &c.progress {
            sqlx::query!(
                "INSERT INTO follow_up_progress (follow_up_id, goal_id, progress) VALUES ($1, $2, $3)",
                follow_up_id,
                goal as _,
                progress
            )
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query!(
            "UPDATE plans SET next_follow_up_on = $2, weekly_hours = $3::float8::numeric WHERE id = $1",
            plan.id as _,
            next,
            c.hours.as_f64()
        )
        .execute(&mut *tx)
        .await?;
        // Holding the follow-up answers its reminders.
        clear_reminders(&mut *tx, plan.id, Some(ReminderKind::FollowUp), now).await?;
        bump(&mut *tx, plan.id, by, now, "Uppföljning").await?;
        audit::Entry::new(Some(by), "follow_up_recorded")
            .record("plan", plan.id)
            .write(&mut *tx, now)
            .await?;
        Ok(Ok(Recorded::Done(next)))
    })
    .await
}
