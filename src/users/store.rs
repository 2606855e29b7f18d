//! The one writer of user accounts: created, changed (an inactivated account
//! is signed out everywhere) and given a new password by an admin, each with
//! its unit memberships and audit entry in one transaction.

use super::queries;
use crate::audit::{self, Stamp};
use crate::auth::Role;
use crate::auth::session;
use crate::db::{Refused, in_transaction, refuse};
use crate::error::{AppResult, violated_constraint};
use sqlx::PgPool;

/// An account as the admin's form gives it, checked.
pub struct Account {
    pub email: String,
    pub name: String,
    pub job_title: String,
    pub role: Role,
    pub unit_ids: Vec<i64>,
    pub active: bool,
}

const EMAIL_TAKEN: &str = "Det finns redan en användare med den e-postadressen.";

/// Creates an account with the (already hashed) first password.
pub async fn create(db: &PgPool, account: &Account, password_hash: &str, stamp: Stamp) -> AppResult<Result<i64, Refused>> {
    in_transaction(db, async |tx| {
        let id = match queries::insert(
            tx,
            &account.email,
            &account.name,
            &account.job_title,
            account.role,
            account.active,
            password_hash,
            stamp.at,
        )
        .await
        {
            Ok(id) => id,
            Err(err) if violated_constraint(&err) == Some("users_email_key") => return refuse("email", EMAIL_TAKEN),
            Err(err) => return Err(err.into()),
        };
        queries::set_units(tx, id, &account.unit_ids).await?;
        audit::Entry::new(Some(stamp.by), "user_created")
            .record("user", id)
            .details(account.role.code())
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Changes an account; an account made inactive is signed out everywhere.
pub async fn update(db: &PgPool, id: i64, account: &Account, stamp: Stamp) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        match queries::update(
            tx,
            id,
            &account.email,
            &account.name,
            &account.job_title,
            account.role,
            account.active,
        )
        .await
        {
            Ok(()) => {}
            Err(err) if violated_constraint(&err) == Some("users_email_key") => return refuse("email", EMAIL_TAKEN),
            Err(err) => return Err(err.into()),
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
pub async fn reset_password(db: &PgPool, id: i64, password_hash: &str, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1",
            id,
            password_hash,
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        session::destroy_all_for_user(&mut *tx, id, None).await?;
        audit::Entry::new(Some(stamp.by), "password_reset")
            .record("user", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}
