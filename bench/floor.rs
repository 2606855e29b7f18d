//! The floor for load benchmarks: the same stack as Lotsen (axum + sqlx +
//! askama) doing the least a page can do — one query of a dozen rows, one
//! template, no session. bench/run prints every Lotsen figure as a ratio to it.
//!
//! Usage: DATABASE_URL=… cargo run --release --example floor -- 127.0.0.1:18081

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

struct Row {
    id: i64,
    name: String,
    email: String,
}

#[derive(Template)]
#[template(
    ext = "html",
    source = r#"<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Golv</title></head>
<body><main><h1>Användare</h1><table><tbody>
{% for row in rows %}<tr><td>{{ row.id }}</td><td>{{ row.name }}</td><td>{{ row.email }}</td></tr>
{% endfor %}</tbody></table></main></body></html>"#
)]
struct FloorPage {
    rows: Vec<Row>,
}

async fn page(State(db): State<PgPool>) -> Response {
    let rows = sqlx::query_as::<_, (i64, String, String)>("SELECT id, name, email FROM users ORDER BY id LIMIT 12")
        .fetch_all(&db)
        .await;
    match rows {
        Ok(rows) => {
            let rows = rows.into_iter().map(|(id, name, email)| Row { id, name, email }).collect();
            match (FloorPage { rows }).render() {
                Ok(body) => Html(body).into_response(),
                Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
            }
        }
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:18081".into());
    let db = PgPoolOptions::new()
        .max_connections(10)
        .connect(&std::env::var("DATABASE_URL")?)
        .await?;
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("floor listening on http://{addr}");
    axum::serve(listener, Router::new().route("/", get(page)).with_state(db)).await?;
    Ok(())
}
