//! The plan's content: goals and sub-goals, plan activities, and the
//! bedömningar av arbetsförmåga written for it.

use super::{Refused, Stamp, bump};
use crate::audit;
use crate::db::{in_transaction, refuse};
use crate::error::{AppError, AppResult};
use crate::ids::{AssessmentId, GoalId, PlanActivityId, PlanId, UserId};
use crate::plans::model::ActivityStatus;
use crate::plans::queries::Plan;
use chrono::NaiveDate;
use sqlx::PgPool;

/// Adds a mål, or a delmål under one of the plan's mål (`parent`).
pub async fn add_goal(
    db: &PgPool,
    plan: &Plan,
    parent: Option<GoalId>,
    description: &str,
    stamp: Stamp,
) -> AppResult<Result<GoalId, Refused>> {
    if plan.is_ended() {
        return refuse("goal_description", "Planen är avslutad.");
    }
    in_transaction(db, async |tx| {
        // The foreign key keeps a delmål under a mål of the same plan; a delmål has no delmål of its own.
        if let Some(parent) = parent {
            let parent_ok = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM plan_goals WHERE id = $1 AND plan_id = $2 AND parent_id IS NULL) AS "ok!""#,
                parent as _,
                plan.id as _
            )
            .fetch_one(&mut *tx)
            .await?;
            if !parent_ok {
                return refuse("goal_parent", "Välj ett mål i listan.");
            }
        }
        let id = sqlx::query_scalar!(
            r#"INSERT INTO plan_goals (plan_id, parent_id, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5)
               RETURNING id AS "id: GoalId""#,
            plan.id as _,
            parent as _,
            description,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        let change = if parent.is_some() { "Delmål tillagt" } else { "Mål tillagt" };
        bump(tx, plan.id, stamp.by, stamp.at, change).await?;
        Ok(Ok(id))
    })
    .await
}

/// Adds a planaktivitet under one of the plan's mål or delmål, with a
/// responsible member of the unit's staff (checked by the caller's choice list).
pub async fn add_activity(
    db: &PgPool,
    plan: &Plan,
    goal: GoalId,
    description: &str,
    responsible: UserId,
    stamp: Stamp,
) -> AppResult<Result<PlanActivityId, Refused>> {
    if plan.is_ended() {
        return refuse("activity_description", "Planen är avslutad.");
    }
    in_transaction(db, async |tx| {
        let goal_ok = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM plan_goals WHERE id = $1 AND plan_id = $2) AS "ok!""#,
            goal as _,
            plan.id as _
        )
        .fetch_one(&mut *tx)
        .await?;
        if !goal_ok {
            return refuse("activity_goal", "Välj mål eller delmål för planaktiviteten.");
        }
        let id = sqlx::query_scalar!(
            r#"INSERT INTO plan_activities (plan_id, goal_id, description, responsible_id, created_by, created_at)
               VALUES ($1, $2, $3, $4, $5, $6) RETURNING id AS "id: PlanActivityId""#,
            plan.id as _,
            goal as _,
            description,
            responsible as _,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        bump(tx, plan.id, stamp.by, stamp.at, "Planaktivitet tillagd").await?;
        Ok(Ok(id))
    })
    .await
}

/// Moves a planaktivitet to `status` (planerad, pågår, klar, avbruten).
pub async fn set_activity_status(
    db: &PgPool,
    plan: &Plan,
    activity_id: PlanActivityId,
    status: ActivityStatus,
    stamp: Stamp,
) -> AppResult<()> {
    let Stamp { by, at: now } = stamp;
    if plan.is_ended() {
        return Err(AppError::Conflict("Planen är avslutad och kan inte ändras."));
    }
    in_transaction(db, async |tx| {
        let updated = sqlx::query!(
            "UPDATE plan_activities SET status = $3 WHERE id = $2 AND plan_id = $1 AND status <> $3",
            plan.id as _,
            activity_id as _,
            status.code()
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated > 0 {
            bump(&mut *tx, plan.id, by, now, "Planaktivitet ändrad").await?;
        }
        Ok(())
    })
    .await
}

/// Writes a bedömning av arbetsförmåga, signed at once when `signer` is set
/// (the caller checks that the signer is an arbetsterapeut).
pub async fn add_assessment(
    db: &PgPool,
    plan_id: PlanId,
    assessed_on: NaiveDate,
    method: &str,
    text: &str,
    signer: Option<UserId>,
    stamp: Stamp,
) -> AppResult<()> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        let assessment_id = sqlx::query_scalar!(
            "INSERT INTO capacity_assessments (plan_id, assessed_on, method, assessment, written_by, written_at, signed_by, signed_at)
             VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $7, CASE WHEN $7::bigint IS NULL THEN NULL ELSE $6::timestamptz END) RETURNING id",
            plan_id as _,
            assessed_on,
            method,
            text,
            by as _,
            now,
            signer as _
        )
        .fetch_one(&mut *tx)
        .await?;
        let action = if signer.is_some() {
            "assessment_signed"
        } else {
            "assessment_written"
        };
        audit::Entry::new(Some(by), action)
            .record("capacity_assessment", assessment_id)
            .write(&mut *tx, now)
            .await?;
        Ok(())
    })
    .await
}

/// Signs an unsigned bedömning (the caller checks that the signer is an arbetsterapeut).
pub async fn sign_assessment(db: &PgPool, plan_id: PlanId, assessment_id: AssessmentId, stamp: Stamp) -> AppResult<()> {
    let Stamp { by, at: now } = stamp;
    in_transaction(db, async |tx| {
        let signed = sqlx::query!(
            "UPDATE capacity_assessments SET signed_by = $3, signed_at = $4 WHERE id = $2 AND plan_id = $1 AND signed_by IS NULL",
            plan_id as _,
            assessment_id as _,
            by as _,
            now
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if signed == 0 {
            return Err(AppError::Conflict("Bedömningen är redan signerad."));
        }
        audit::Entry::new(Some(by), "assessment_signed")
            .record("capacity_assessment", assessment_id)
            .write(&mut *tx, now)
            .await?;
        Ok(())
    })
    .await
}
