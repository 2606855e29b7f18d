//! SQL for plans: loading, saving with a version check, the version history,
//! and what the two-year limit and the schedule need.

use super::model::ActivityStatus;
use crate::domain::plans::{self as rules, LimitDates, Period, PlanStatus, Programme};
use crate::ids::{EmployerId, GoalId, ParticipantId, PlanActivityId, PlanId, UnitId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

/// A plan with what its page shows about the person, unit and kontaktman.
pub struct Plan {
    pub id: PlanId,
    pub participant_id: ParticipantId,
    pub unit_id: UnitId,
    pub programme: Programme,
    pub status: PlanStatus,
    pub start_on: NaiveDate,
    pub planned_end_on: NaiveDate,
    /// Hundredths of an hour.
    pub weekly_hours: i32,
    pub weekdays: i16,
    pub methods: Vec<String>,
    pub participation: String,
    pub summary: String,
    pub employer_id: Option<EmployerId>,
    pub employer_name: Option<String>,
    pub supervisor: String,
    pub tasks: String,
    pub set_on: Option<NaiveDate>,
    pub renewed_on: Option<NaiveDate>,
    pub next_follow_up_on: Option<NaiveDate>,
    pub renewal_due_on: Option<NaiveDate>,
    pub limit_warning_on: Option<NaiveDate>,
    pub limit_last_day: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub outcome: Option<String>,
    pub outcome_note: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
    pub updated_by_name: String,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    pub participant_status: String,
    pub unit_name: String,
    pub key_worker_id: Option<UserId>,
    pub key_worker_name: Option<String>,
}

impl Plan {
    pub fn programme(&self) -> Programme {
        self.programme
    }

    pub fn is_draft(&self) -> bool {
        self.status == PlanStatus::Draft
    }

    pub fn is_active(&self) -> bool {
        self.status == PlanStatus::Active
    }

    pub fn is_ended(&self) -> bool {
        self.status == PlanStatus::Ended
    }

    pub fn hours(&self) -> rules::WeeklyHours {
        rules::WeeklyHours::from_hundredths(self.weekly_hours.max(0) as u32)
    }

    /// The days the plan takes: to its end, or its planned end while it runs.
    pub fn period(&self) -> Period {
        Period {
            start: self.start_on,
            end: self.ended_on.unwrap_or(self.planned_end_on),
        }
    }
}

pub async fn load(db: impl sqlx::PgExecutor<'_>, id: PlanId) -> Result<Option<Plan>, sqlx::Error> {
    sqlx::query_as!(
        Plan,
        r#"SELECT p.id, p.participant_id, p.unit_id, p.programme AS "programme: Programme", p.status AS "status: PlanStatus",
                  p.start_on, p.planned_end_on,
                  (p.weekly_hours * 100)::int AS "weekly_hours!", p.weekdays, p.methods, p.participation, p.summary,
                  p.employer_id AS "employer_id: EmployerId", e.name AS "employer_name?", p.supervisor, p.tasks, p.set_on, p.renewed_on,
                  p.next_follow_up_on, p.renewal_due_on, p.limit_warning_on, p.limit_last_day, p.ended_on, p.outcome,
                  p.outcome_note, p.version, p.updated_at, uu.name AS updated_by_name,
                  pa.first_name, pa.last_name, pa.birth_date, pa.status AS participant_status, un.name AS unit_name,
                  kw.id AS "key_worker_id?: UserId", kw.name AS "key_worker_name?"
           FROM plans p
           JOIN participants pa ON pa.id = p.participant_id
           JOIN units un ON un.id = p.unit_id
           JOIN users uu ON uu.id = p.updated_by
           LEFT JOIN employers e ON e.id = p.employer_id
           LEFT JOIN key_worker_assignments k ON k.participant_id = p.participant_id AND k.to_on IS NULL
           LEFT JOIN users kw ON kw.id = k.user_id
           WHERE p.id = $1"#,
        id as _
    )
    .fetch_optional(db)
    .await
}

/// The periods of the person's other plans that count towards the two-year
/// limit: active ones to their planned end, ended ones to their end.
pub async fn counted_periods(
    conn: &mut PgConnection,
    participant_id: ParticipantId,
    except_plan: Option<PlanId>,
) -> Result<Vec<Period>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT start_on, coalesce(ended_on, planned_end_on) AS "end_on!" FROM plans
           WHERE participant_id = $1 AND status IN ('active', 'ended') AND id <> coalesce($2::bigint, 0)"#,
        participant_id as _,
        except_plan as _
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Period {
            start: r.start_on,
            end: r.end_on,
        })
        .collect())
}

/// The dates the background task looks for, worked out once when the plan
/// changes: next follow-up, renewal, and the two-year warning and last day.
pub struct Schedule {
    pub next_follow_up_on: Option<NaiveDate>,
    pub renewal_due_on: Option<NaiveDate>,
    pub limit: LimitDates,
}

pub async fn schedule(
    conn: &mut PgConnection,
    plan: &Plan,
    set_on: Option<NaiveDate>,
    renewed_on: Option<NaiveDate>,
) -> Result<Schedule, sqlx::Error> {
    let last_held = sqlx::query_scalar!("SELECT max(held_on) FROM follow_ups WHERE plan_id = $1", plan.id as _)
        .fetch_one(&mut *conn)
        .await?;
    let earlier = counted_periods(conn, plan.participant_id, Some(plan.id)).await?;
    Ok(Schedule {
        next_follow_up_on: set_on.map(|s| rules::next_follow_up_due(plan.programme(), s, last_held)),
        renewal_due_on: set_on.map(|s| rules::renewal_due(renewed_on.unwrap_or(s).max(s))),
        limit: rules::limit_dates(&earlier, plan.start_on),
    })
}

/// A row of the plan's history.
pub struct VersionRow {
    pub version: i32,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
    pub change: String,
}

impl VersionRow {
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.changed_at)
    }
}

pub async fn versions(db: &PgPool, plan_id: PlanId) -> Result<Vec<VersionRow>, sqlx::Error> {
    sqlx::query_as!(
        VersionRow,
        "SELECT v.version, u.name AS changed_by, v.changed_at, v.change FROM plan_versions v JOIN users u ON u.id = v.changed_by
         WHERE v.plan_id = $1 ORDER BY v.version DESC",
        plan_id as _
    )
    .fetch_all(db)
    .await
}

/// The parts of the plan that differ between two versions (snapshot keys).
pub async fn changed_keys(db: &PgPool, plan_id: PlanId, from: i32, to: i32) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT a.key AS "key!" FROM plan_versions va JOIN plan_versions vb ON vb.plan_id = va.plan_id,
                  jsonb_each(va.snapshot) a JOIN jsonb_each(vb.snapshot) b ON b.key = a.key
           WHERE va.plan_id = $1 AND va.version = $2 AND vb.version = $3 AND a.value IS DISTINCT FROM b.value
           ORDER BY a.key"#,
        plan_id as _,
        from,
        to
    )
    .fetch_all(db)
    .await
}

/// Goals with their sub-goals and activities, for the plan page.
pub struct Goal {
    pub id: GoalId,
    pub parent_id: Option<GoalId>,
    pub description: String,
}

pub struct Activity {
    pub id: PlanActivityId,
    pub goal_id: GoalId,
    pub description: String,
    pub responsible_name: String,
    pub status: ActivityStatus,
}

pub async fn goals(db: &PgPool, plan_id: PlanId) -> Result<Vec<Goal>, sqlx::Error> {
    sqlx::query_as!(
        Goal,
        r#"SELECT id, parent_id AS "parent_id: GoalId", description FROM plan_goals WHERE plan_id = $1 ORDER BY coalesce(parent_id, id), parent_id NULLS FIRST, id"#,
        plan_id as _
    )
    .fetch_all(db)
    .await
}

pub async fn activities(db: &PgPool, plan_id: PlanId) -> Result<Vec<Activity>, sqlx::Error> {
    sqlx::query_as!(
        Activity,
        r#"SELECT a.id, a.goal_id, a.description, u.name AS responsible_name, a.status AS "status: ActivityStatus"
         FROM plan_activities a JOIN users u ON u.id = a.responsible_id WHERE a.plan_id = $1 ORDER BY a.goal_id, a.id"#,
        plan_id as _
    )
    .fetch_all(db)
    .await
}

/// A record made before plans, follow-ups and renewals had to be complete
/// (migration 0012), which the indicators do not count until it is.
pub struct IncompleteRow {
    pub plan_id: PlanId,
    pub participant_name: String,
    pub what: String,
}

/// The units' incomplete records, for managers to complete: active or ended
/// plans without a summary or a goal, follow-ups without a summary, and
/// renewals that do not say what was reviewed.
pub async fn incomplete(db: &PgPool, units: &[UnitId]) -> Result<Vec<IncompleteRow>, sqlx::Error> {
    sqlx::query_as!(
        IncompleteRow,
        r#"SELECT p.id AS "plan_id!: PlanId", pa.first_name || ' ' || pa.last_name AS "participant_name!", x.what AS "what!"
           FROM plans p
           JOIN participants pa ON pa.id = p.participant_id
           CROSS JOIN LATERAL (
               SELECT 'Planen saknar skriftlig sammanfattning' AS what, 0 AS n WHERE btrim(p.summary) = ''
               UNION ALL
               SELECT 'Planen saknar mål', 1 WHERE NOT EXISTS (SELECT 1 FROM plan_goals g WHERE g.plan_id = p.id)
               UNION ALL
               SELECT 'Uppföljningen ' || f.held_on || ' saknar sammanfattning', 2 FROM follow_ups f
               WHERE f.plan_id = p.id AND btrim(f.notes) = ''
               UNION ALL
               SELECT 'Förnyelsen ' || p.renewed_on || ' säger inte vad som gicks igenom', 3
               WHERE p.renewed_on IS NOT NULL
                 AND NOT EXISTS (SELECT 1 FROM plan_renewals r WHERE r.plan_id = p.id AND r.renewed_on = p.renewed_on)
           ) x
           WHERE p.unit_id = ANY($1) AND p.status IN ('active', 'ended')
           ORDER BY pa.first_name, pa.last_name, p.id, x.n, x.what
           LIMIT 200"#,
        units as _
    )
    .fetch_all(db)
    .await
}
