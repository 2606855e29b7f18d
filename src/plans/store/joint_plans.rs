//! Saving a samordnad plan: each save is a new version, made only from the
//! version the form was opened at, and each partner in it is a contact that
//! the consent gate lets through (`partners::gate`).

use crate::audit::{self, Stamp};
use crate::db::{Refused, in_transaction, refuse};
use crate::error::AppResult;
use crate::ids::{ParticipantId, PartnerId};
use crate::partners::gate;
use chrono::NaiveDate;
use sqlx::PgPool;

/// One partner's part in the plan.
pub struct Part {
    pub partner: PartnerId,
    pub person: String,
    pub task: String,
}

/// A version as typed and checked.
pub struct JointPlanVersion {
    pub agreed_on: NaiveDate,
    pub took_part: bool,
    pub aim: String,
    pub others_present: String,
    pub next_review_on: NaiveDate,
    pub parts: Vec<Part>,
    pub urgent_reason: String,
}

pub const CHANGED_SINCE: &str = "Någon annan har sparat den samordnade planen sedan du öppnade formuläret. Din text finns kvar nedan: jämför med den sparade versionen och spara igen.";

/// Saves version `base + 1` of the person's samordnad plan (`base` 0: the
/// first); refused when someone saved since, or when a partner's contact
/// has neither a consent nor an urgent reason. Returns the new version.
pub async fn save(
    db: &PgPool,
    participant: ParticipantId,
    base: i32,
    v: &JointPlanVersion,
    stamp: Stamp,
) -> AppResult<Result<i32, Refused>> {
    in_transaction(db, async |tx| {
        // The person's row: saves of one person's plan take turns.
        sqlx::query!("SELECT id FROM participants WHERE id = $1 FOR UPDATE", participant as _)
            .fetch_one(&mut *tx)
            .await?;
        let current = sqlx::query!(
            "SELECT id, version FROM joint_plans WHERE participant_id = $1",
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?;
        if current.as_ref().map_or(0, |c| c.version) != base {
            return refuse("aim", CHANGED_SINCE);
        }
        let ids: Vec<PartnerId> = v.parts.iter().map(|p| p.partner).collect();
        let standings = match gate::check(tx, participant, &ids, v.agreed_on, &v.urgent_reason).await? {
            Ok(standings) => standings,
            Err(refused) => return Ok(Err(refused)),
        };
        let (plan_id, version) = match current {
            Some(c) => {
                sqlx::query!("UPDATE joint_plans SET version = version + 1 WHERE id = $1", c.id)
                    .execute(&mut *tx)
                    .await?;
                (c.id, c.version + 1)
            }
            None => {
                let id = sqlx::query_scalar!(
                    "INSERT INTO joint_plans (participant_id, first_agreed_on, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                    participant as _,
                    v.agreed_on,
                    stamp.by as _,
                    stamp.at
                )
                .fetch_one(&mut *tx)
                .await?;
                (id, 1)
            }
        };
        let version_id = sqlx::query_scalar!(
            "INSERT INTO joint_plan_versions (joint_plan_id, version, agreed_on, participant_took_part, aim, others_present, next_review_on,
                                              saved_by, saved_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            plan_id,
            version,
            v.agreed_on,
            v.took_part,
            v.aim,
            v.others_present,
            v.next_review_on,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        for part in &v.parts {
            sqlx::query!(
                "INSERT INTO joint_plan_parts (version_id, partner_id, person, task) VALUES ($1, $2, $3, $4)",
                version_id,
                part.partner as _,
                part.person,
                part.task
            )
            .execute(&mut *tx)
            .await?;
        }
        gate::record(
            tx,
            participant,
            &standings,
            v.agreed_on,
            gate::Via::JointPlan(version_id),
            &v.urgent_reason,
            stamp,
        )
        .await?;
        audit::Entry::new(Some(stamp.by), "joint_plan_saved")
            .record("participant", participant)
            .details(&format!("version {version}"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(version))
    })
    .await
}

/// The day the person's samordnad plan was first agreed, if there is one.
pub async fn first_agreed_on(conn: &mut sqlx::PgConnection, participant: ParticipantId) -> Result<Option<NaiveDate>, sqlx::Error> {
    sqlx::query_scalar!(
        "SELECT first_agreed_on FROM joint_plans WHERE participant_id = $1",
        participant as _
    )
    .fetch_optional(conn)
    .await
}
