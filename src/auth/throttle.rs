//! Sign-in throttling (ASVS 2.2.1): after repeated failures an account, or a
//! client address, is locked out for a while. Failures are counted in
//! PostgreSQL so that every app instance sees the same numbers.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Failures are counted over this window; the lockout lasts until enough of
/// them have aged out of it.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures for one account (since its last successful sign-in) before lockout.
pub const MAX_ACCOUNT_FAILURES: i64 = 5;
/// Failures from one client address, whichever accounts were tried.
pub const MAX_CLIENT_FAILURES: i64 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCounts {
    pub account: i64,
    pub client: i64,
}

impl FailureCounts {
    pub fn locked(self) -> bool {
        self.account >= MAX_ACCOUNT_FAILURES || self.client >= MAX_CLIENT_FAILURES
    }
}

pub async fn failures(db: &PgPool, email: &str, client_addr: &str, now: DateTime<Utc>) -> Result<FailureCounts, sqlx::Error> {
    let since = now - chrono::Duration::minutes(WINDOW_MINUTES);
    let row = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM login_attempts
               WHERE email = $1 AND NOT succeeded
                 AND attempted_at > greatest($3, (SELECT max(attempted_at) FROM login_attempts WHERE email = $1 AND succeeded))
             ) AS "account!",
             (SELECT count(*) FROM login_attempts
               WHERE client_addr = $2 AND NOT succeeded AND attempted_at > $3) AS "client!""#,
        email,
        client_addr,
        since
    )
    .fetch_one(db)
    .await?;
    Ok(FailureCounts {
        account: row.account,
        client: row.client,
    })
}

pub async fn record(db: &PgPool, email: &str, client_addr: &str, now: DateTime<Utc>, succeeded: bool) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO login_attempts (email, client_addr, attempted_at, succeeded) VALUES ($1, $2, $3, $4)",
        email,
        client_addr,
        now,
        succeeded
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Attempts older than a day decide nothing any more.
pub async fn delete_old(db: &PgPool, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query!(
        "DELETE FROM login_attempts WHERE attempted_at < $1",
        now - chrono::Duration::days(1)
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lockout_starts_at_the_thresholds() {
        assert!(!FailureCounts { account: 4, client: 19 }.locked());
        assert!(FailureCounts { account: 5, client: 0 }.locked());
        assert!(FailureCounts { account: 0, client: 20 }.locked());
    }
}
