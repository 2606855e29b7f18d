//! Computed reports kept in memory while nothing they are made of has
//! changed. Everything a report reads moves one of two numbers in the
//! database, in the same transaction as the change: `fact_versions` (people,
//! plans and their terms, follow-ups, renewals, boendestöd, statuses, units,
//! capacity, the calendar; migrations 0008 and 0022) and `visit_versions`
//! (visits and drop-in counts, by shard). The numbers are read before the
//! report is computed, so a kept report is never older than the numbers it
//! is kept under; a change in any instance moves the numbers every instance
//! reads. A report for another day (its `today`) is another key.

use std::any::Any;
use std::sync::{Arc, Mutex};

/// Reports kept at once.
const KEPT: usize = 32;

/// What the data looked like: both numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    facts: i64,
    visits: i64,
}

/// The numbers as they are now: one statement.
pub async fn token(db: &sqlx::PgPool) -> Result<Token, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT (SELECT version FROM fact_versions WHERE facts = 'indicators') AS "facts!",
                  (SELECT sum(version)::bigint FROM visit_versions) AS "visits!""#
    )
    .fetch_one(db)
    .await?;
    Ok(Token {
        facts: row.facts,
        visits: row.visits,
    })
}

#[derive(Default)]
pub struct ReportCache {
    entries: Mutex<Vec<Entry>>,
}

struct Entry {
    key: String,
    token: Token,
    value: Arc<dyn Any + Send + Sync>,
}

impl ReportCache {
    /// The report kept under `key`, if it was computed at `token`.
    pub fn get<T: Send + Sync + 'static>(&self, key: &str, token: Token) -> Option<Arc<T>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .iter()
            .find(|e| e.key == key && e.token == token)
            .and_then(|e| e.value.clone().downcast::<T>().ok())
    }

    pub fn put<T: Send + Sync + 'static>(&self, key: String, token: Token, value: Arc<T>) {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.retain(|e| e.key != key);
        if entries.len() >= KEPT {
            entries.remove(0);
        }
        entries.push(Entry { key, token, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_is_kept_only_for_its_key_and_numbers() {
        let cache = ReportCache::default();
        let at = Token { facts: 1, visits: 7 };
        cache.put("a".into(), at, Arc::new(41_i64));
        assert_eq!(cache.get::<i64>("a", at).as_deref(), Some(&41));
        assert!(cache.get::<i64>("b", at).is_none());
        assert!(cache.get::<i64>("a", Token { facts: 1, visits: 8 }).is_none(), "a visit since");
        assert!(cache.get::<i64>("a", Token { facts: 2, visits: 7 }).is_none(), "a fact since");
        assert!(cache.get::<String>("a", at).is_none(), "another type");
        for n in 0..KEPT {
            cache.put(format!("k{n}"), at, Arc::new(n as i64));
        }
        assert!(cache.get::<i64>("a", at).is_none(), "the oldest goes first");
    }
}
