//! Setting a plan (fastställa) and activating it: every rule that decides
//! whether a person may start, checked in one transaction that holds the
//! person's row and the unit's capacity, so concurrent requests cannot both
//! take the last place or push the person past the two-year limit.

use super::capacity;
use super::queries;
use crate::audit;
use crate::domain::plans::{self as rules, Programme, TwoYearCheck};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

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
pub async fn check_limit(
    conn: &mut PgConnection,
    plan_id: Option<i64>,
    participant_id: i64,
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

/// Sets and activates a draft plan, or queues it when capacity is full and
/// `queue_when_full` is set. The caller commits.
pub async fn activate(
    conn: &mut PgConnection,
    plan_id: i64,
    set_on: NaiveDate,
    today: NaiveDate,
    by: i64,
    now: DateTime<Utc>,
    queue_when_full: bool,
) -> Result<Activation, sqlx::Error> {
    // The person's row first: every activation for one person takes turns.
    let participant = sqlx::query!(
        "SELECT pa.id, pa.status FROM participants pa JOIN plans p ON p.participant_id = pa.id WHERE p.id = $1 FOR UPDATE OF pa",
        plan_id
    )
    .fetch_one(&mut *conn)
    .await?;
    let Some(plan) = queries::load(&mut *conn, plan_id).await? else {
        return refused("set_on", "Planen finns inte.");
    };
    if plan.status != "draft" {
        return refused("set_on", "Planen är redan aktiverad eller avslutad.");
    }
    if participant.status == "ended" {
        return refused("set_on", "Deltagaren är avslutad. Registrera återkomsten först.");
    }
    if set_on > today {
        return refused("set_on", "Planen kan inte fastställas i framtiden.");
    }
    if plan.key_worker_id.is_none() {
        // DOMAIN.md: a kontaktman is required (also a trigger on plans).
        return refused("set_on", "Utse en kontaktman för deltagaren innan planen aktiveras.");
    }
    let programme = plan.programme();
    let other_active = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM plans WHERE participant_id = $1 AND programme = $2 AND status = 'active') AS "exists!""#,
        plan.participant_id,
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
            plan.id,
            plan.unit_id,
            programme.code(),
            today,
            now,
            by
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if queued > 0 {
            queries::bump(conn, plan.id, None, by, now, "Satt i kö").await?;
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
        plan.id,
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
        plan.id,
        today,
        by
    )
    .execute(&mut *conn)
    .await?;
    queries::bump(conn, plan.id, None, by, now, "Fastställd och aktiverad").await?;
    audit::Entry::new(Some(by), "plan_activated")
        .record("plan", plan.id)
        .write(&mut *conn, now)
        .await?;
    Ok(Activation::Activated { warning })
}

/// The programme's name for messages ("förstegsträning", "Team ISA").
pub fn programme_name(programme: Programme) -> String {
    match programme {
        Programme::FirstStep => "förstegsträning".into(),
        Programme::TeamIsa => "Team ISA".into(),
    }
}
