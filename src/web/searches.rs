//! Searches kept for the session that made them, so that a search form is
//! answered by a redirect to its results (POST, redirect, GET): Back and
//! reload show the results again, and the results' URL holds a random id,
//! never the name or number searched for. A search goes with its session.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use uuid::Uuid;

/// Which list a search is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Participants,
    Visits,
    AccessLog,
}

impl Kind {
    fn code(self) -> &'static str {
        match self {
            Kind::Participants => "participants",
            Kind::Visits => "visits",
            Kind::AccessLog => "access_log",
        }
    }
}

/// Keeps a search's terms for the session; returns the id its results go by.
pub async fn keep(db: &PgPool, session: &[u8; 32], kind: Kind, terms: &[(&str, &str)], now: DateTime<Utc>) -> Result<Uuid, sqlx::Error> {
    let id = Uuid::new_v4();
    let terms = serde_json::to_value(terms).unwrap_or_default();
    sqlx::query!(
        "INSERT INTO searches (id, session_hash, kind, terms, created_at) VALUES ($1, $2, $3, $4, $5)",
        id,
        &session[..],
        kind.code(),
        terms,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

/// The terms of search `id`, if this session made it.
pub async fn terms(db: &PgPool, session: &[u8; 32], kind: Kind, id: &str) -> Result<Option<Vec<(String, String)>>, sqlx::Error> {
    let Ok(id) = id.parse::<Uuid>() else { return Ok(None) };
    let terms = sqlx::query_scalar!(
        "SELECT terms FROM searches WHERE id = $1 AND session_hash = $2 AND kind = $3",
        id,
        &session[..],
        kind.code()
    )
    .fetch_optional(db)
    .await?;
    Ok(terms.map(|t| serde_json::from_value(t).unwrap_or_default()))
}

/// The value of `name` among a search's terms, or "".
pub fn term<'a>(terms: &'a [(String, String)], name: &str) -> &'a str {
    terms.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str()).unwrap_or("")
}
