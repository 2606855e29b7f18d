//! The append-only audit log (händelselogg): who did what, when, to which record.

use crate::ids::UserId;
use chrono::{DateTime, Utc};

pub struct Entry<'a> {
    pub actor_user_id: Option<UserId>,
    pub action: &'a str,
    pub record_type: Option<&'a str>,
    pub record_id: Option<i64>,
    pub details: &'a str,
}

impl<'a> Entry<'a> {
    pub fn new(actor_user_id: Option<UserId>, action: &'a str) -> Self {
        Entry {
            actor_user_id,
            action,
            record_type: None,
            record_id: None,
            details: "",
        }
    }

    pub fn record(mut self, record_type: &'a str, record_id: impl Into<i64>) -> Self {
        self.record_type = Some(record_type);
        self.record_id = Some(record_id.into());
        self
    }

    pub fn details(mut self, details: &'a str) -> Self {
        self.details = details;
        self
    }

    /// Writes the entry; pass the transaction that made the change, so the
    /// change and its log entry land together or not at all.
    pub async fn write<'e>(self, db: impl sqlx::PgExecutor<'e>, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
        sqlx::query!(
            "INSERT INTO audit_log (occurred_at, actor_user_id, action, record_type, record_id, details) VALUES ($1, $2, $3, $4, $5, $6)",
            at,
            self.actor_user_id as _,
            self.action,
            self.record_type,
            self.record_id,
            self.details
        )
        .execute(db)
        .await?;
        Ok(())
    }
}

/// Who made a change and when: what every command of a store writes into
/// the record's version and audit entry.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub by: UserId,
    pub at: DateTime<Utc>,
}
