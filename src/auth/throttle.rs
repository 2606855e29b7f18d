//! Sign-in throttling (ASVS 2.2.1) that cannot be turned against users:
//! failures lock an account *from the address they came from* after a few,
//! the account from everywhere only after many more (a guesser spread over
//! many addresses), and an address after many (one trying many accounts).
//! An attempt refused during a lock does not count, so it cannot extend the
//! lock; an administrator can lift it. Failures are counted in PostgreSQL so
//! that every app instance sees the same numbers.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Failures are counted over this window; the lockout lasts until enough of
/// them have aged out of it.
pub const WINDOW_MINUTES: i64 = 15;
/// Failures for one account from one address (since the account's last
/// successful sign-in or unlock) before that address is locked out of it.
pub const MAX_PAIR_FAILURES: i64 = 5;
/// Failures for one account from any address before it is locked for all.
pub const MAX_ACCOUNT_FAILURES: i64 = 30;
/// Failures from one client address, whichever accounts were tried.
pub const MAX_CLIENT_FAILURES: i64 = 100;
/// What a locked-out user is told.
pub const LOCKED_MESSAGE: &str = "För många misslyckade inloggningsförsök. Vänta 15 minuter och försök igen.";

/// Failures counted so far, the attempt being made included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailureCounts {
    pub pair: i64,
    pub account: i64,
    pub client: i64,
}

impl FailureCounts {
    /// Refuse this attempt: the earlier failures already reached a limit.
    pub fn locked(self) -> bool {
        self.pair > MAX_PAIR_FAILURES || self.account > MAX_ACCOUNT_FAILURES || self.client > MAX_CLIENT_FAILURES
    }

    /// This attempt, if it fails, is the one that starts the lockout.
    pub fn reaches_lockout(self) -> bool {
        self.pair == MAX_PAIR_FAILURES || self.account == MAX_ACCOUNT_FAILURES || self.client == MAX_CLIENT_FAILURES
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

/// The attempt was refused by a lock, or its password was right and the code
/// is still to come: it stays on record but counts no more. (A right
/// password is not a success that resets the count, or codes could be
/// guessed five at a time by anyone who has the password.)
pub async fn refused(db: &PgPool, attempt: &Attempt) -> Result<(), sqlx::Error> {
    sqlx::query!("UPDATE login_attempts SET refused = true WHERE id = $1", attempt.id)
        .execute(db)
        .await?;
    Ok(())
}

/// Failures within the window that count: not refused by a lock, not before
/// the account's unlock, and not before its last successful sign-in (from
/// this address, for the address's own lock: the owner signing in elsewhere
/// does not let a guesser go on).
pub async fn failures(db: &PgPool, email: &str, client_addr: &str, now: DateTime<Utc>) -> Result<FailureCounts, sqlx::Error> {
    let since = now - chrono::Duration::minutes(WINDOW_MINUTES);
    let email: String = email.chars().take(254).collect();
    let row = sqlx::query!(
        r#"WITH fresh AS (
               SELECT greatest($3, (SELECT sign_in_unlocked_at FROM users WHERE email = $1)) AS since,
                      coalesce((SELECT max(id) FROM login_attempts WHERE email = $1 AND succeeded), 0) AS after_any,
                      coalesce((SELECT max(id) FROM login_attempts WHERE email = $1 AND client_addr = $2 AND succeeded), 0) AS after_here
           ),
           account AS (
               SELECT a.id, a.client_addr FROM login_attempts a, fresh
               WHERE a.email = $1 AND NOT a.succeeded AND NOT a.refused AND a.attempted_at > fresh.since
           )
           SELECT (SELECT count(*) FROM account, fresh WHERE client_addr = $2 AND id > fresh.after_here) AS "pair!",
                  (SELECT count(*) FROM account, fresh WHERE id > fresh.after_any) AS "account!",
                  (SELECT count(*) FROM login_attempts
                    WHERE client_addr = $2 AND NOT succeeded AND NOT refused AND attempted_at > $3) AS "client!""#,
        email,
        client_key(client_addr),
        since
    )
    .fetch_one(db)
    .await?;
    Ok(FailureCounts {
        pair: row.pair,
        account: row.account,
        client: row.client,
    })
}

/// The failures that count against an account now, from any address: what
/// an administrator sees before lifting a lock.
pub async fn account_failures(db: &PgPool, email: &str, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    failures(db, email, "", now).await.map(|counts| counts.account)
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
        let counts = |pair, account, client| FailureCounts { pair, account, client };
        // Counts include the attempt being made: the 6th attempt after 5 failures is refused.
        assert!(!counts(5, 30, 100).locked());
        assert!(counts(6, 6, 6).locked());
        assert!(counts(1, 31, 1).locked());
        assert!(counts(0, 0, 101).locked());
        assert!(counts(5, 5, 5).reaches_lockout());
        assert!(counts(1, 30, 1).reaches_lockout());
        assert!(!counts(4, 29, 99).reaches_lockout());
    }
}
