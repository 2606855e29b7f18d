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
/// What a locked-out user is told.
pub const LOCKED_MESSAGE: &str = "För många misslyckade inloggningsförsök. Vänta 15 minuter och försök igen.";

/// Failures counted so far, the attempt being made included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureCounts {
    pub account: i64,
    pub client: i64,
}

impl FailureCounts {
    /// Refuse this attempt: the earlier failures already reached a limit.
    pub fn locked(self) -> bool {
        self.account > MAX_ACCOUNT_FAILURES || self.client > MAX_CLIENT_FAILURES
    }

    /// This attempt, if it fails, is the one that starts the lockout.
    pub fn reaches_lockout(self) -> bool {
        self.account == MAX_ACCOUNT_FAILURES || self.client == MAX_CLIENT_FAILURES
    }
}

/// One sign-in attempt, stored as failed until proven otherwise.
pub struct Attempt {
    pub id: i64,
    pub client_key: String,
}

/// The address attempts are counted by: IPv4 as is, IPv6 by its /64 network
/// (one subscriber usually holds a whole /64).
pub fn client_key(addr: &str) -> String {
    match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        Ok(std::net::IpAddr::V6(v6)) => v6.to_ipv4_mapped().map(|v4| v4.to_string()).unwrap_or_default(),
        _ => addr.to_string(),
    }
}

pub async fn begin_attempt(db: &PgPool, email: &str, client_addr: &str, now: DateTime<Utc>) -> Result<Attempt, sqlx::Error> {
    // Whatever was typed is stored only up to the longest possible address.
    let email: String = email.chars().take(254).collect();
    let client_key = client_key(client_addr);
    let id = sqlx::query_scalar!(
        "INSERT INTO login_attempts (email, client_addr, attempted_at, succeeded) VALUES ($1, $2, $3, false) RETURNING id",
        email,
        client_key,
        now
    )
    .fetch_one(db)
    .await?;
    Ok(Attempt { id, client_key })
}

pub async fn succeeded<'e>(db: impl sqlx::PgExecutor<'e>, attempt: &Attempt) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE login_attempts SET succeeded = true WHERE id = $1", attempt.id)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn failures(db: &PgPool, email: &str, client_addr: &str, now: DateTime<Utc>) -> Result<FailureCounts, sqlx::Error> {
    let since = now - chrono::Duration::minutes(WINDOW_MINUTES);
    let email: String = email.chars().take(254).collect();
    let row = sqlx::query!(
        r#"SELECT
             (SELECT count(*) FROM login_attempts
               WHERE email = $1 AND NOT succeeded
                 AND attempted_at > $3
                 AND id > coalesce((SELECT max(id) FROM login_attempts WHERE email = $1 AND succeeded), 0)
             ) AS "account!",
             (SELECT count(*) FROM login_attempts
               WHERE client_addr = $2 AND NOT succeeded AND attempted_at > $3) AS "client!""#,
        email,
        client_key(client_addr),
        since
    )
    .fetch_one(db)
    .await?;
    Ok(FailureCounts {
        account: row.account,
        client: row.client,
    })
}

/// Attempts older than a day decide nothing any more.
pub async fn delete_old<'e>(db: impl sqlx::PgExecutor<'e>, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
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
    fn ipv6_clients_are_counted_by_their_64_network() {
        assert_eq!(client_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(client_key("2001:db8:1:2:bbbb::9"), client_key("2001:db8:1:2:aaaa::1"));
        assert_eq!(client_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_eq!(client_key("192.0.2.7"), "192.0.2.7");
    }

    #[test]
    fn lockout_starts_after_the_limits() {
        // Counts include the attempt being made: the 6th attempt after 5 failures is refused.
        assert!(!FailureCounts { account: 5, client: 20 }.locked());
        assert!(FailureCounts { account: 6, client: 0 }.locked());
        assert!(FailureCounts { account: 0, client: 21 }.locked());
        assert!(FailureCounts { account: 5, client: 1 }.reaches_lockout());
        assert!(!FailureCounts { account: 4, client: 1 }.reaches_lockout());
    }
}
