use crate::config::Config;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A lazily connecting pool: the app starts, and answers 503, even while
/// PostgreSQL is down, and recovers by itself when it comes back.
pub fn pool(config: &Config) -> Result<PgPool, sqlx::Error> {
    Ok(pool_with(config, PgConnectOptions::from_str(&config.database_url)?))
}

pub fn pool_with(config: &Config, options: PgConnectOptions) -> PgPool {
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .min_connections(0)
        .acquire_timeout(config.db_acquire_timeout)
        // No ping before every use: it would double the round trips of each
        // query. A connection broken by a database restart fails its next
        // query (that request answers 503), is dropped, and a new one is made.
        .test_before_acquire(false)
        .connect_lazy_with(
            options
                .application_name("lotsen")
                // Every query is a prepared statement with bind parameters,
                // and planning a custom plan for each execution cost more
                // than running it (the check-in search: 0.4 ms planning,
                // 0.1 ms running). The generic plan is made once per
                // connection; bench/run measures the difference.
                .options([("plan_cache_mode", "force_generic_plan")]),
        )
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

// The domain's enums (src/domain/, free of sqlx) that columns hold as codes.
stored_as_code!(crate::domain::plans::Programme);
stored_as_code!(crate::domain::plans::PlanStatus);
