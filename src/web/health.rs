//! Probes for a load balancer: `/healthz` (the process answers) and
//! `/readyz` (and it reaches a PostgreSQL that takes writes: not a standby
//! in recovery, not set read-only).

use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use std::time::Duration;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    if !state.is_ready() {
        return (StatusCode::SERVICE_UNAVAILABLE, "databasen är inte migrerad ännu");
    }
    // A new session's default is what the app's transactions get.
    let probe = sqlx::query_as::<_, (bool, String)>("SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only')")
        .fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_secs(3), probe).await {
        Ok(Ok((false, read_only))) if read_only == "off" => (StatusCode::OK, "ok"),
        Ok(Ok(_)) => (StatusCode::SERVICE_UNAVAILABLE, "databasen tar inte emot ändringar (skrivskyddad)"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "databasen svarar inte"),
    }
}
