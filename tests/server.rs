//! Slow clients cannot hold the door (issue 17): a half-sent request head is
//! closed after the header timeout, the connection cap makes the next client
//! wait rather than fail, and shutdown is bounded.

mod common;

use common::TestApp;
use reqwest::StatusCode;
use sqlx::PgPool;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn quick(config: &mut lotsen::config::Config) {
    config.server.header_read_timeout = Duration::from_secs(1);
    config.server.max_connections = 8;
}

/// A connection that sends half a request head and then nothing.
async fn half_head(addr: std::net::SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(b"GET /login HTTP/1.1\r\nHost: lotsen\r\n").await.unwrap();
    stream
}

/// True when the server has closed the connection (read gives end or error).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // A 408 before closing is fine: read on to the close.
            Ok(Ok(_)) => continue,
        }
    }
}

#[sqlx::test]
async fn half_sent_heads_are_closed(db: PgPool) {
    let app = TestApp::spawn_with(db, quick).await;
    let mut slow = Vec::new();
    for _ in 0..20 {
        slow.push(half_head(app.addr).await);
    }
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(5)).await, "a half-sent head is closed");
    }
}

#[sqlx::test]
async fn at_the_connection_cap_the_next_client_waits_and_is_served(db: PgPool) {
    let app = TestApp::spawn_with(db, quick).await;
    // Every connection the server keeps open, taken by clients that send nothing more.
    let mut slow = Vec::new();
    for _ in 0..app.config.server.max_connections {
        slow.push(half_head(app.addr).await);
    }
    // The next client is not refused: it waits until the slow ones are closed.
    let response = app.browser().get("/login").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        closed_within(&mut slow[0], Duration::from_millis(50)).await,
        "it was let in only when a slow one had been closed"
    );
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(5)).await);
    }
}

#[sqlx::test]
async fn shutdown_lets_requests_finish_and_is_bounded(db: PgPool) {
    let mut config = lotsen::config::Config::for_tests("postgres://unused");
    config.server.shutdown_grace = Duration::from_secs(2);
    let clock = std::sync::Arc::new(lotsen::clock::ManualClock::new(common::start_time()));
    let state = lotsen::AppState::new(db, config.clone(), clock);
    // A page that takes a while, to be in flight when shutdown begins.
    let slow_page = axum::Router::<lotsen::AppState>::new().route(
        "/slow",
        axum::routing::get(|| async {
            tokio::time::sleep(Duration::from_millis(500)).await;
            "klar"
        }),
    );
    let router = lotsen::app::app_with(state, slow_page);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(lotsen::server::serve(listener, router, config.server, async {
        let _ = stopped.await;
    }));

    // One client that never finishes its head, one request in flight.
    let _stuck = half_head(addr).await;
    let in_flight = tokio::spawn(async move { reqwest::get(format!("http://{addr}/slow")).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    stop.send(()).unwrap();

    let answer = in_flight.await.unwrap().expect("the request in flight is answered");
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.text().await.unwrap(), "klar");
    tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the stuck client does not keep the server running")
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "it waited for the request in flight"
    );
    assert!(TcpStream::connect(addr).await.is_err(), "no new connection is taken after shutdown");
}
