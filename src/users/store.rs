//! The one writer of user accounts: created, changed (an inactivated account
//! is signed out everywhere) and given a new password by an admin, each with
//! its unit memberships and audit entry in one transaction.

use super::queries;
use crate::audit::{self, Stamp};
use crate::auth::Role;
use crate::auth::session;
use crate::db::{Kept, Refused, in_transaction, refuse};
use crate::error::{AppError, AppResult, violated_constraint};
use crate::ids::{UnitId, UserId};
use sqlx::PgPool;

/// An account as the admin's form gives it, checked.
pub struct Account {
    pub email: String,
    pub name: String,
    pub job_title: String,
    pub role: Role,
    pub unit_ids: Vec<UnitId>,
    pub active: bool,
    /// The id at the identity provider (`sub`) the account signs in with there.
    pub oidc_subject: Option<String>,
}

const EMAIL_TAKEN: &str = "Det finns redan en användare med den e-postadressen.";
const SUBJECT_TAKEN: &str = "Id:t är redan kopplat till en annan användare.";

/// The field a unique constraint of `users` belongs to, with its message.
fn taken(err: &sqlx::Error) -> Option<(&'static str, &'static str)> {
    match violated_constraint(err) {
        Some("users_email_key") => Some(("email", EMAIL_TAKEN)),
        Some("users_oidc_subject_key") => Some(("oidc_subject", SUBJECT_TAKEN)),
        _ => None,
    }
}

/// Creates an account with the (already hashed) first password, set by an
/// admin: the user must change it at the first sign-in.
pub async fn create(db: &PgPool, account: &Account, password_hash: &str, stamp: Stamp) -> AppResult<Result<UserId, Refused>> {
    insert(db, account, password_hash, Some(stamp.by), stamp.at, account.role.code(), true).await
}

/// Lifts a sign-in lock: failures before now no longer count.
pub async fn unlock_sign_in(db: &PgPool, id: UserId, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!("UPDATE users SET sign_in_unlocked_at = $2 WHERE id = $1", id as _, stamp.at)
            .execute(&mut *tx)
            .await?;
        audit::Entry::new(Some(stamp.by), "login_unlocked")
            .record("user", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

/// Creates an account where no user signs for it (`actor` none): the
/// command line's first admin, the demo data. `details` goes to the audit log.
pub async fn create_as(
    db: &PgPool,
    account: &Account,
    password_hash: &str,
    actor: Option<UserId>,
    at: chrono::DateTime<chrono::Utc>,
    details: &str,
) -> AppResult<Result<UserId, Refused>> {
    insert(db, account, password_hash, actor, at, details, false).await
}

/// The account, its units and its audit entry in one transaction;
/// `must_change` when someone else than its user chose the password.
async fn insert(
    db: &PgPool,
    account: &Account,
    password_hash: &str,
    actor: Option<UserId>,
    at: chrono::DateTime<chrono::Utc>,
    details: &str,
    must_change: bool,
) -> AppResult<Result<UserId, Refused>> {
    in_transaction(db, async |tx| {
        let id = match queries::insert(
            tx,
            &account.email,
            &account.name,
            &account.job_title,
            account.role,
            account.active,
            account.oidc_subject.as_deref(),
            password_hash,
            at,
        )
        .await
        {
            Ok(id) => id,
            Err(err) => match taken(&err) {
                Some((field, message)) => return refuse(field, message),
                None => return Err(err.into()),
            },
        };
        queries::set_units(tx, id, &account.unit_ids).await?;
        if must_change {
            sqlx::query!("UPDATE users SET must_change_password = true WHERE id = $1", id as _)
                .execute(&mut *tx)
                .await?;
        }
        audit::Entry::new(actor, "user_created")
            .record("user", id)
            .details(details)
            .write(&mut *tx, at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Changes an account; an account made inactive is signed out everywhere.
pub async fn update(db: &PgPool, id: UserId, account: &Account, stamp: Stamp) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        match queries::update(
            tx,
            id,
            &account.email,
            &account.name,
            &account.job_title,
            account.role,
            account.active,
            account.oidc_subject.as_deref(),
        )
        .await
        {
            Ok(()) => {}
            Err(err) => match taken(&err) {
                Some((field, message)) => return refuse(field, message),
                None => return Err(err.into()),
            },
        }
        queries::set_units(tx, id, &account.unit_ids).await?;
        if !account.active {
            session::destroy_all_for_user(&mut *tx, id, None).await?;
        }
        let details = format!("roll {}, {}", account.role.code(), if account.active { "aktiv" } else { "inaktiv" });
        audit::Entry::new(Some(stamp.by), "user_updated")
            .record("user", id)
            .details(&details)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// A new password set by an admin: whoever held the old one is signed out everywhere.
pub async fn reset_password(db: &PgPool, id: UserId, password_hash: &str, stamp: Stamp) -> AppResult<()> {
    replace_password(db, id, password_hash, None, stamp).await.map(|_| ())
}

/// The user's own new password. ASVS 3.3.3: it ends every other session of
/// theirs (all but `keep`, the one in use); returns how many ended.
pub async fn change_own_password(db: &PgPool, password_hash: &str, keep: Option<&[u8; 32]>, stamp: Stamp) -> AppResult<u64> {
    replace_password(db, stamp.by, password_hash, Some(keep), stamp).await
}

/// `own` is the session to keep when users change their own password;
/// `None` when an admin sets it.
async fn replace_password(db: &PgPool, id: UserId, password_hash: &str, own: Option<Option<&[u8; 32]>>, stamp: Stamp) -> AppResult<u64> {
    in_transaction(db, async |tx| {
        // Set by an admin, it must be changed; set by its user, it is theirs.
        sqlx::query!(
            "UPDATE users SET password_hash = $2, password_changed_at = $3, must_change_password = $4 WHERE id = $1",
            id as _,
            password_hash,
            stamp.at,
            own.is_none()
        )
        .execute(&mut *tx)
        .await?;
        let ended = session::destroy_all_for_user(&mut *tx, id, own.flatten()).await?;
        let note = format!("{ended} andra sessioner avslutade");
        let entry = match own {
            Some(_) => audit::Entry::new(Some(stamp.by), "password_changed").details(&note),
            None => audit::Entry::new(Some(stamp.by), "password_reset"),
        };
        entry.record("user", id).write(&mut *tx, stamp.at).await?;
        Ok(Kept(ended))
    })
    .await
    .map(|Kept(ended)| ended)
}

/// The user ends one of their own sessions (another device); audited.
/// False when it had already ended; another user's session is refused.
pub async fn end_own_session(db: &PgPool, session: i64, stamp: Stamp) -> AppResult<bool> {
    in_transaction(db, async |tx| {
        if session::destroy_own(&mut *tx, stamp.by, session).await? {
            audit::Entry::new(Some(stamp.by), "session_ended")
                .record("user", stamp.by)
                .write(&mut *tx, stamp.at)
                .await?;
            return Ok(Kept(true));
        }
        let someone_elses = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT FROM sessions WHERE id = $1) AS "exists!""#, session)
            .fetch_one(&mut *tx)
            .await?;
        if someone_elses {
            return Err(AppError::Forbidden);
        }
        Ok(Kept(false))
    })
    .await
    .map(|Kept(ended)| ended)
}

/// The user ends every session of theirs but the one in use; audited with how many.
pub async fn end_other_sessions(db: &PgPool, keep: &[u8; 32], stamp: Stamp) -> AppResult<u64> {
    in_transaction(db, async |tx| {
        let ended = session::destroy_all_for_user(&mut *tx, stamp.by, Some(keep)).await?;
        audit::Entry::new(Some(stamp.by), "sessions_ended")
            .record("user", stamp.by)
            .details(&format!("{ended} andra sessioner avslutade"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(ended))
    })
    .await
    .map(|Kept(ended)| ended)
}

/// The user's second factor, confirmed with a code from the app (`step` is
/// that code's, so it cannot be used again): the secret and new recovery
/// codes, kept hashed; audited.
pub async fn add_second_factor(db: &PgPool, secret: &str, step: i64, codes: &[String], stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "UPDATE users SET totp_secret = $2, totp_last_step = $3 WHERE id = $1",
            stamp.by as _,
            secret,
            step
        )
        .execute(&mut *tx)
        .await?;
        replace_recovery_codes(tx, stamp.by, codes).await?;
        audit::Entry::new(Some(stamp.by), "second_factor_added")
            .record("user", stamp.by)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

/// New recovery codes for the user; the old ones stop working. Audited.
pub async fn new_recovery_codes(db: &PgPool, codes: &[String], stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        replace_recovery_codes(tx, stamp.by, codes).await?;
        audit::Entry::new(Some(stamp.by), "recovery_codes_replaced")
            .record("user", stamp.by)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

async fn replace_recovery_codes(tx: &mut sqlx::PgConnection, user: UserId, codes: &[String]) -> AppResult<()> {
    sqlx::query!("DELETE FROM recovery_codes WHERE user_id = $1", user as _)
        .execute(&mut *tx)
        .await?;
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| crate::auth::second_factor::code_hash(c).to_vec()).collect();
    sqlx::query!(
        "INSERT INTO recovery_codes (user_id, code_hash) SELECT $1, unnest($2::bytea[])",
        user as _,
        &hashes
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Takes the second factor away (the user, where the role does not need
/// one; or an admin, for a lost phone): the next sign-in is by password and,
/// where required, asks for a new one. Audited.
pub async fn remove_second_factor(db: &PgPool, user: UserId, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "UPDATE users SET totp_secret = NULL, totp_last_step = NULL WHERE id = $1",
            user as _
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!("DELETE FROM recovery_codes WHERE user_id = $1", user as _)
            .execute(&mut *tx)
            .await?;
        audit::Entry::new(Some(stamp.by), "second_factor_removed")
            .record("user", user)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}
