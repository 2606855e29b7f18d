//! Server-side sessions in PostgreSQL. The browser holds a random token; the
//! database holds its SHA-256, the user, the CSRF token and two timestamps
//! that decide the idle and absolute timeouts.

use crate::auth::Role;
use crate::auth::context::SessionUser;
use crate::ids::{UnitId, UserId};
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::time::Duration;

pub const COOKIE: &str = "lotsen_session";
/// With `Secure` the `__Host-` prefix also binds the cookie to this host and path.
pub const COOKIE_SECURE: &str = "__Host-lotsen_session";
pub const PRE_SESSION_COOKIE: &str = "lotsen_presession";
pub const PRE_SESSION_COOKIE_SECURE: &str = "__Host-lotsen_presession";

/// Last-seen is written at most this often, not on every request (more
/// often when the idle timeout is short, so it still counts activity).
pub fn touch_interval(idle: Duration) -> chrono::Duration {
    let quarter = chrono::Duration::from_std(idle / 4).unwrap_or(chrono::Duration::MAX);
    quarter.min(chrono::Duration::seconds(60))
}

/// 256 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Browser and system named from a User-Agent, for "Mina inloggningar": enough
/// to tell one's own devices apart, nothing that identifies the machine.
pub fn device_of(user_agent: &str) -> String {
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Chromium/", "Chromium"),
        ("Safari/", "Safari"),
    ]
    .iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| *name);
    let system = [
        ("Android", "Android"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(mark, _)| user_agent.contains(mark))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} på {s}"),
        (Some(b), None) => b.to_string(),
        (None, Some(s)) => format!("Okänd webbläsare på {s}"),
        (None, None) => "Okänd enhet".to_string(),
    }
}

pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub struct LoadedSession {
    pub user: SessionUser,
    pub csrf_token: String,
    /// A one-time message, now taken from the session.
    pub flash: Option<String>,
    /// Whether the user has drafts (`drafts`): pages look for them only then.
    pub has_drafts: bool,
}

pub enum SessionState {
    Valid(LoadedSession),
    /// Timed out (idle or absolute) or the user was deactivated: gone now.
    Expired,
    Missing,
}

/// Whether a session is still valid at `now`; pure, so the boundaries are unit-tested.
pub fn is_alive(created_at: DateTime<Utc>, last_seen_at: DateTime<Utc>, now: DateTime<Utc>, idle: Duration, absolute: Duration) -> bool {
    let idle = chrono::Duration::from_std(idle).unwrap_or(chrono::Duration::MAX);
    let absolute = chrono::Duration::from_std(absolute).unwrap_or(chrono::Duration::MAX);
    now - last_seen_at < idle && now - created_at < absolute
}

pub async fn load(
    db: &PgPool,
    hash: &[u8; 32],
    now: DateTime<Utc>,
    idle: Duration,
    absolute: Duration,
    require_second_factor: bool,
) -> Result<SessionState, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT s.csrf_token, s.created_at, s.last_seen_at, s.flash, s.external,
                  u.id AS "id: UserId", u.name, u.email, u.job_title, u.role AS "role: Role", u.active, u.must_change_password,
                  u.totp_secret IS NOT NULL AS "has_second_factor!",
                  array(SELECT m.unit_id FROM unit_memberships m JOIN units un ON un.id = m.unit_id
                        WHERE m.user_id = u.id AND un.active ORDER BY un.name) AS "unit_ids!: Vec<UnitId>",
                  EXISTS (SELECT 1 FROM drafts d WHERE d.user_id = u.id) AS "has_drafts!"
           FROM sessions s JOIN users u ON u.id = s.user_id
           WHERE s.token_hash = $1"#,
        &hash[..]
    )
    .fetch_optional(db)
    .await?;
    let Some(row) = row else { return Ok(SessionState::Missing) };
    if !row.active || !is_alive(row.created_at, row.last_seen_at, now, idle, absolute) {
        destroy(db, hash).await?;
        return Ok(SessionState::Expired);
    }
    if row.flash.is_some() {
        // A flash message is shown once: this request takes it.
        sqlx::query!(
            "UPDATE sessions SET flash = NULL, last_seen_at = greatest(last_seen_at, $2) WHERE token_hash = $1",
            &hash[..],
            now
        )
        .execute(db)
        .await?;
    } else if now - row.last_seen_at >= touch_interval(idle) {
        sqlx::query!("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1", &hash[..], now)
            .execute(db)
            .await?;
    }
    Ok(SessionState::Valid(LoadedSession {
        user: SessionUser {
            id: row.id,
            name: row.name,
            email: row.email,
            job_title: row.job_title,
            role: row.role,
            unit_ids: row.unit_ids,
            // Signed in through the identity provider: no password was used and
            // the provider's sign-in was the strong one.
            must_change_password: row.must_change_password && !row.external,
            must_add_second_factor: !row.external
                && !row.has_second_factor
                && crate::auth::second_factor::required_for(row.role, require_second_factor),
        },
        csrf_token: row.csrf_token,
        flash: row.flash,
        has_drafts: row.has_drafts,
    }))
}

/// Starts a new session for `user_id` on `device` (see `device_of`); returns
/// the cookie token; `external` when the identity provider signed the user
/// in. The caller removes any earlier session of the same browser (id
/// rotation at sign-in).
pub async fn create<'e>(
    db: impl sqlx::PgExecutor<'e>,
    user_id: UserId,
    device: &str,
    external: bool,
    now: DateTime<Utc>,
) -> Result<String, sqlx::Error> {
    let token = new_token();
    let hash = token_hash(&token);
    sqlx::query!(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, device, external) VALUES ($1, $2, $3, $4, $4, $5, $6)",
        &hash[..],
        user_id as _,
        new_token(),
        now,
        device,
        external
    )
    .execute(db)
    .await?;
    Ok(token)
}

pub async fn set_flash(db: impl sqlx::PgExecutor<'_>, hash: &[u8; 32], message: &str) -> Result<(), sqlx::Error> {
    let message: String = message.chars().take(500).collect();
    sqlx::query!("UPDATE sessions SET flash = $2 WHERE token_hash = $1", &hash[..], message)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn destroy<'e>(db: impl sqlx::PgExecutor<'e>, hash: &[u8; 32]) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM sessions WHERE token_hash = $1", &hash[..])
        .execute(db)
        .await?;
    Ok(())
}

/// Ends every session of a user except, optionally, the one in use.
pub async fn destroy_all_for_user<'e>(db: impl sqlx::PgExecutor<'e>, user_id: UserId, keep: Option<&[u8; 32]>) -> Result<u64, sqlx::Error> {
    let keep: Vec<u8> = keep.map(|h| h.to_vec()).unwrap_or_default();
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2", user_id as _, keep)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// One of a user's sessions, for "Mina inloggningar".
pub struct OwnSession {
    pub id: i64,
    pub device: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// The session this page is seen in.
    pub current: bool,
}

/// The user's sessions that can still be used, the one in use first, then
/// the most recently seen.
pub async fn own(
    db: &PgPool,
    user_id: UserId,
    in_use: &[u8; 32],
    now: DateTime<Utc>,
    idle: Duration,
    absolute: Duration,
) -> Result<Vec<OwnSession>, sqlx::Error> {
    let rows = sqlx::query_as!(
        OwnSession,
        r#"SELECT id AS "id!", device, created_at, last_seen_at, token_hash = $2 AS "current!"
           FROM sessions WHERE user_id = $1
           ORDER BY token_hash = $2 DESC, last_seen_at DESC, id DESC"#,
        user_id as _,
        &in_use[..]
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|s| s.current || is_alive(s.created_at, s.last_seen_at, now, idle, absolute))
        .collect())
}

/// Ends one of the user's own sessions by its handle; false when there was
/// none such (already ended, or someone else's).
pub async fn destroy_own<'e>(db: impl sqlx::PgExecutor<'e>, user_id: UserId, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("DELETE FROM sessions WHERE user_id = $1 AND id = $2", user_id as _, id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes sessions that can no longer be used; run by the background sweep.
pub async fn delete_expired<'e>(
    db: impl sqlx::PgExecutor<'e>,
    now: DateTime<Utc>,
    idle: Duration,
    absolute: Duration,
) -> Result<u64, sqlx::Error> {
    let idle_cutoff = now - chrono::Duration::from_std(idle).unwrap_or_default();
    let absolute_cutoff = now - chrono::Duration::from_std(absolute).unwrap_or_default();
    let done = sqlx::query!(
        "DELETE FROM sessions WHERE last_seen_at <= $1 OR created_at <= $2",
        idle_cutoff,
        absolute_cutoff
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_its_browser_and_system() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_of(firefox), "Firefox på Linux");
        assert_eq!(device_of(edge), "Edge på Windows");
        assert_eq!(device_of(iphone), "Safari på iPhone");
        assert_eq!(device_of("curl/8.0"), "Okänd enhet");
    }
    use chrono::TimeZone;

    #[test]
    fn idle_and_absolute_timeouts_are_exclusive_bounds() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let idle = Duration::from_secs(30 * 60);
        let absolute = Duration::from_secs(12 * 3600);
        assert!(is_alive(t0, t0, t0 + chrono::Duration::minutes(29), idle, absolute));
        assert!(!is_alive(t0, t0, t0 + chrono::Duration::minutes(30), idle, absolute));
        // Active all day, but the absolute limit still ends it.
        let last_seen = t0 + chrono::Duration::hours(12) - chrono::Duration::minutes(1);
        assert!(!is_alive(t0, last_seen, t0 + chrono::Duration::hours(12), idle, absolute));
        assert!(is_alive(
            t0,
            last_seen,
            t0 + chrono::Duration::hours(12) - chrono::Duration::seconds(1),
            idle,
            absolute
        ));
    }

    #[test]
    fn tokens_are_random_and_hashes_fixed_length() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a).len(), 32);
    }
}
