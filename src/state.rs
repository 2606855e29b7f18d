use crate::clock::Clock;
use crate::config::Config;
use sqlx::PgPool;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// What every handler may reach: the pool, the configuration and the clock.
#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    /// Appended to static URLs (`?v=`) so that they can be cached for a year.
    pub asset_version: Arc<str>,
    /// False until the migrations have run; pages answer 503 until then.
    pub schema_ready: Arc<AtomicBool>,
    /// What features keep in memory for this app (the indicators' facts), one
    /// value per type: the state names no feature, so no feature depends on another through it.
    pub caches: Arc<Caches>,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, clock: Arc<dyn Clock>) -> Self {
        let asset_version = static_files_version(&config.static_dir).into();
        AppState {
            db,
            config: Arc::new(config),
            clock,
            asset_version,
            schema_ready: Arc::new(AtomicBool::new(true)),
            caches: Arc::default(),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }
}

/// The static files, served from `LOTSEN_STATIC_DIR` with a hash of their
/// contents in the URL (`?v=`), so browsers may keep them for a year.
const STATIC_FILES: [&str; 3] = ["app.css", "app.js", "favicon.svg"];

/// A short hash of the static files' contents.
fn static_files_version(dir: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for file in STATIC_FILES {
        if let Ok(bytes) = std::fs::read(std::path::Path::new(dir).join(file)) {
            hasher.update(&bytes);
        }
    }
    hex::encode(&hasher.finalize()[..6])
}

/// One kept value per type, made on first use: each feature keeps its own
/// (e.g. `state.caches.get::<FactCache>()`) without the state knowing it.
#[derive(Default)]
pub struct Caches(std::sync::Mutex<Vec<Arc<dyn std::any::Any + Send + Sync>>>);

impl Caches {
    pub fn get<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut kept = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(found) = kept.iter().find_map(|c| c.clone().downcast::<T>().ok()) {
            return found;
        }
        let made = Arc::new(T::default());
        kept.push(made.clone());
        made
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_type_is_kept_once() {
        let caches = Caches::default();
        let a = caches.get::<std::sync::Mutex<Vec<i32>>>();
        a.lock().unwrap().push(1);
        assert_eq!(*caches.get::<std::sync::Mutex<Vec<i32>>>().lock().unwrap(), vec![1]);
        assert!(caches.get::<std::sync::Mutex<String>>().lock().unwrap().is_empty());
    }
}
