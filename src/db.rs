use crate::config::Config;
use crate::error::AppResult;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};
use std::str::FromStr;

pub mod request;

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
        // query; that request is run again (`auth::middleware`), and from
        // then on every connection that has been idle since the break is
        // pinged once before use, so the retry does not meet another dead one.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                match crate::error::since_broken_connection() {
                    Some(since) if meta.idle_for >= since => Ok(sqlx::Connection::ping(conn).await.is_ok()),
                    _ => Ok(true),
                }
            })
        })
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

/// Migrates as the tables' owner (`DATABASE_OWNER_URL`) when it is set, over
/// a connection of its own; else over `pool` (a development database whose
/// one role owns the tables). The server's own role may not change the schema.
pub async fn migrate_schema(config: &Config, pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    let Some(owner_url) = config.database_owner_url.as_deref() else {
        return migrate(pool).await;
    };
    let owner = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(config.db_acquire_timeout)
        .connect_with(PgConnectOptions::from_str(owner_url)?)
        .await?;
    let done = MIGRATOR.run(&owner).await;
    owner.close().await;
    done
}

// The domain's enums (src/domain/, free of sqlx) that columns hold as codes.
stored_as_code!(crate::domain::plans::Programme);
stored_as_code!(crate::domain::plans::PlanStatus);

/// A rule refused a command: the field to show the message beside, and the
/// message (Swedish). Nothing the command began is kept.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused {
    pub field: &'static str,
    pub message: String,
}

/// A command's answer when a rule refuses it.
pub fn refuse<T>(field: &'static str, message: impl Into<String>) -> AppResult<Result<T, Refused>> {
    Ok(Err(Refused {
        field,
        message: message.into(),
    }))
}

/// What became of a change saved from a form that carries the version it was
/// opened at.
pub enum Updated {
    Saved,
    /// Someone saved after the form was opened: nothing was written.
    Conflict,
}

/// What a command's transaction ends in: kept (committed) or let go.
pub trait Ending {
    fn keeps(&self) -> bool;
}

impl<T> Ending for Result<T, Refused> {
    fn keeps(&self) -> bool {
        self.is_ok()
    }
}

impl Ending for () {
    fn keeps(&self) -> bool {
        true
    }
}

/// A command's answer whose work is kept whatever it says.
pub struct Kept<T>(pub T);

impl<T> Ending for Kept<T> {
    fn keeps(&self) -> bool {
        true
    }
}

/// Runs `write` in a transaction, kept when it succeeds and its rules let it
/// through, rolled back otherwise: the open and close of every command of
/// every store. In a request the transaction is the request's own, committed
/// with its answer (`request`); elsewhere it is committed here.
pub async fn in_transaction<T: Ending>(db: &PgPool, write: impl AsyncFnOnce(&mut PgConnection) -> AppResult<T>) -> AppResult<T> {
    request::run(db, Ending::keeps, write).await
}
