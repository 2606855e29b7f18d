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
    /// The indicators' period-independent facts, kept while unchanged.
    pub facts: Arc<crate::reports::indicators::FactCache>,
}

impl AppState {
    pub fn new(db: PgPool, config: Config, clock: Arc<dyn Clock>) -> Self {
        let asset_version = crate::web::assets::version(&config.static_dir).into();
        AppState {
            db,
            config: Arc::new(config),
            clock,
            asset_version,
            schema_ready: Arc::new(AtomicBool::new(true)),
            facts: Arc::default(),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.schema_ready.load(Ordering::Acquire)
    }
}
