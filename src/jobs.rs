//! Background work beside the server. Every instance runs the loop, but each
//! round takes a PostgreSQL advisory lock first, so one instance does the
//! work and the others skip that round.

use crate::auth::{session, throttle};
use crate::state::AppState;
use std::time::Duration;

/// Arbitrary, fixed key for the housekeeping lock.
const HOUSEKEEPING_LOCK: i64 = 0x4c6f_7473_656e_0001;
const INTERVAL: Duration = Duration::from_secs(5 * 60);

/// Starts the background loops: housekeeping, and the reminder round (at
/// start, then every `LOTSEN_REMINDER_INTERVAL_MINUTES`).
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let reminders = spawn_reminders(state.clone());
    let housekeeping = spawn_housekeeping(state);
    tokio::spawn(async move {
        let _ = tokio::join!(reminders, housekeeping);
    })
}

fn spawn_reminders(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(state.config.reminder_interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match crate::reminders::sweep::run(&state.db, state.clock.today(), state.clock.now()).await {
                Ok(Some(report)) => tracing::info!(
                    raised = report.raised,
                    cleared = report.cleared,
                    escalated = report.escalated,
                    "reminder round done"
                ),
                Ok(None) => tracing::debug!("reminder round ran elsewhere"),
                Err(err) => tracing::warn!(error = %err, "reminder round failed"),
            }
            match crate::reminders::digest::send_due(&state.db, &state.config, state.clock.today(), state.clock.now()).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "reminder digests sent"),
                Err(err) => tracing::warn!(error = %err, "reminder digests failed"),
            }
        }
    })
}

fn spawn_housekeeping(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match housekeeping(&state).await {
                Ok(Some(done)) => tracing::debug!(
                    sessions = done.sessions,
                    attempts = done.attempts,
                    drafts = done.drafts,
                    tokens = done.tokens,
                    "housekeeping done"
                ),
                Ok(None) => tracing::debug!("housekeeping ran elsewhere"),
                Err(err) => tracing::warn!(error = %err, "housekeeping failed"),
            }
        }
    })
}

/// What one housekeeping round removed.
#[derive(Debug, Clone, Copy)]
pub struct Housekeeping {
    pub sessions: u64,
    pub attempts: u64,
    pub drafts: u64,
    /// Forms' one-time tokens a day old (no session that sent them is left)
    /// and sign-ins that never got their code.
    pub tokens: u64,
}

/// Deletes expired sessions, old sign-in attempts, drafts past their time,
/// old one-time tokens and unfinished sign-ins.
/// Returns `None` when another instance holds the lock. Every delete uses an
/// indexed column, so the cost follows what is due, not how much history there is.
pub async fn housekeeping(state: &AppState) -> Result<Option<Housekeeping>, sqlx::Error> {
    let mut tx = state.db.begin().await?;
    let locked: bool = sqlx::query_scalar!(r#"SELECT pg_try_advisory_xact_lock($1) AS "locked!""#, HOUSEKEEPING_LOCK)
        .fetch_one(&mut *tx)
        .await?;
    if !locked {
        return Ok(None);
    }
    let now = state.clock.now();
    let config = &state.config;
    let sessions = session::delete_expired(&mut *tx, now, config.session_idle_timeout, config.session_absolute_timeout).await?;
    let attempts = throttle::delete_old(&mut *tx, now).await?;
    let drafts = crate::drafts::store::delete_expired(&mut tx, now, config.draft_days).await?;
    let day_ago = now - chrono::Duration::days(1);
    let submissions = sqlx::query!("DELETE FROM submissions WHERE made_at < $1", day_ago)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let pending = sqlx::query!(
        "DELETE FROM pending_sign_ins WHERE created_at < $1",
        now - chrono::Duration::hours(1)
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let provider_sign_ins = sqlx::query!("DELETE FROM oidc_sign_ins WHERE created_at < $1", now - chrono::Duration::hours(1))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(Some(Housekeeping {
        sessions,
        attempts,
        drafts,
        tokens: submissions + pending + provider_sign_ins,
    }))
}
