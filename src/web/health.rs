//! Probes for a load balancer: `/healthz` (the process answers) and
//! `/readyz` (and it reaches PostgreSQL).

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
    let probe = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(&state.db);
    match tokio::time::timeout(Duration::from_secs(3), probe).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "databasen svarar inte"),
    }
}
