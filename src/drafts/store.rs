//! Reads and writes of drafts. Every statement names the author: a draft is
//! never read, changed or removed by anyone else.

use crate::access::Owner;
use crate::drafts::{ACTION_FIELD, Target};
use crate::error::AppError;
use crate::ids::{DraftId, ParticipantId, UnitId, UserId};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

/// Fields that are never kept: the form token, and the field that names the form.
fn kept(name: &str) -> bool {
    name != "csrf_token" && name != ACTION_FIELD
}

/// Keeps what was typed into `target`'s form as `user`'s draft (one per user
/// and form: a newer save replaces the older). `owner` is the record's,
/// already checked against the user's units.
pub async fn keep(
    db: &PgPool,
    user: UserId,
    target: &Target,
    owner: Option<Owner>,
    fields: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<DraftId, AppError> {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .filter(|(name, _)| kept(name))
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let fields = serde_json::to_value(&fields).map_err(|e| AppError::Internal(e.into()))?;
    let participant = owner.and_then(|o| o.participant_id);
    let id = sqlx::query_scalar!(
        r#"INSERT INTO drafts (user_id, action, page, participant_id, fields, saved_at)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (user_id, action) DO UPDATE
               SET fields = EXCLUDED.fields, saved_at = EXCLUDED.saved_at, page = EXCLUDED.page
           RETURNING id AS "id: DraftId""#,
        user as _,
        target.action,
        target.page,
        participant as _,
        fields,
        now
    )
    .fetch_one(db)
    .await?;
    Ok(id)
}

/// The user who was signed in with the session whose form token this is, if
/// that session has ended and the user is still active.
pub async fn author_of_token(db: &PgPool, token: &str) -> Result<Option<UserId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT e.user_id AS "id: UserId" FROM ended_sessions e JOIN users u ON u.id = e.user_id AND u.active
           WHERE e.csrf_token_hash = sha256(convert_to($1, 'UTF8'))"#,
        token
    )
    .fetch_optional(db)
    .await
}

/// Whether `user` works in `unit` and the unit is active (for a request that
/// has no session to say so).
pub async fn works_in(db: &PgPool, user: UserId, unit: UnitId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM unit_memberships m JOIN units u ON u.id = m.unit_id
                          WHERE m.user_id = $1 AND m.unit_id = $2 AND u.active) AS "works_in!""#,
        user as _,
        unit as _
    )
    .fetch_one(db)
    .await
}

/// Removes the draft of a form that has now been saved.
pub async fn saved(db: &PgPool, user: UserId, action: &str) -> Result<(), sqlx::Error> {
    sqlx::query!("DELETE FROM drafts WHERE user_id = $1 AND action = $2", user as _, action)
        .execute(db)
        .await?;
    Ok(())
}

/// Throws away one of the user's drafts; returns the page its form is on.
pub async fn discard(db: &PgPool, user: UserId, id: DraftId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        "DELETE FROM drafts WHERE id = $1 AND user_id = $2 RETURNING page",
        id as _,
        user as _
    )
    .fetch_optional(db)
    .await
}

/// A draft to put back into its form.
#[derive(Debug, Clone)]
pub struct OnPage {
    pub id: DraftId,
    pub action: String,
    pub fields: Vec<(String, String)>,
    pub saved_at: DateTime<Utc>,
}

/// The user's drafts for the forms on `page`.
pub async fn on_page(db: &PgPool, user: UserId, page: &str) -> Result<Vec<OnPage>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: DraftId", action, fields, saved_at FROM drafts
           WHERE user_id = $1 AND page = $2 ORDER BY id"#,
        user as _,
        page
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| OnPage {
            id: r.id,
            action: r.action,
            fields: serde_json::from_value(r.fields).unwrap_or_default(),
            saved_at: r.saved_at,
        })
        .collect())
}

/// A draft as *Att göra* lists it.
#[derive(Debug)]
pub struct Listed {
    pub id: DraftId,
    pub action: String,
    pub page: String,
    /// The person's name, when the user may still see their record.
    pub participant_name: Option<String>,
    pub participant_id: Option<ParticipantId>,
    pub saved_at: DateTime<Utc>,
}

impl Listed {
    pub fn label(&self) -> &'static str {
        Target::of(&self.action).map(|t| t.form.label).unwrap_or("Formulär")
    }

    pub fn saved_at_text(&self) -> String {
        crate::web::format::local_time(self.saved_at)
    }
}

/// The user's drafts, newest first.
pub async fn list(db: &PgPool, user: UserId, units: &[UnitId]) -> Result<Vec<Listed>, sqlx::Error> {
    sqlx::query_as!(
        Listed,
        r#"SELECT d.id AS "id: DraftId", d.action, d.page, d.saved_at,
                  p.first_name || ' ' || p.last_name AS participant_name,
                  p.id AS "participant_id?: ParticipantId"
           FROM drafts d
           LEFT JOIN participants p ON p.id = d.participant_id AND p.unit_id = ANY($2)
           WHERE d.user_id = $1
           ORDER BY d.saved_at DESC, d.id DESC"#,
        user as _,
        units as _
    )
    .fetch_all(db)
    .await
}

/// Removes drafts not touched for `keep_days`, and the ended sessions' form
/// tokens that could only have proved an author for drafts that old.
pub async fn delete_expired(db: &mut sqlx::PgConnection, now: DateTime<Utc>, keep_days: u32) -> Result<u64, sqlx::Error> {
    let cutoff = now - chrono::Duration::days(i64::from(keep_days));
    let drafts = sqlx::query!("DELETE FROM drafts WHERE saved_at < $1", cutoff)
        .execute(&mut *db)
        .await?;
    sqlx::query!("DELETE FROM ended_sessions WHERE ended_at < $1", cutoff)
        .execute(&mut *db)
        .await?;
    Ok(drafts.rows_affected())
}
