//! The whole web application: every feature's routes behind the shared
//! middleware. It sits above the features (none depends on it), so that
//! each feature depends only downward.

use crate::auth::middleware;
use crate::error::ErrorPage;
use crate::state::AppState;
use crate::web::{health, routes};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::time::Duration;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::services::ServeDir;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// No inline script or style anywhere: everything comes from /static.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application; tests drive exactly this router.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// Every page of the application, with the table of its routes.
pub fn pages() -> routes::Routes {
    routes::Routes::new()
        .route("/", routes::get(crate::home::show))
        .merge(crate::auth::login::routes())
        .merge(crate::auth::oidc::routes())
        .merge(crate::privacy::routes())
        .merge(crate::users::account::routes())
        .merge(crate::users::routes())
        .merge(crate::units::routes())
        .merge(crate::participants::routes())
        .merge(crate::partners::routes())
        .merge(crate::outreach::routes())
        .merge(crate::survey::routes())
        .merge(crate::plans::routes())
        .merge(crate::employment::routes())
        .merge(crate::reminders::routes())
        .merge(crate::attendance::routes())
        .merge(crate::reports::routes())
        .merge(crate::drafts::routes())
}

/// The application with `extra` pages mounted behind the same middleware;
/// lets tests add a route that misbehaves on purpose.
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let pages = pages()
        .into_router()
        .merge(extra)
        // Only for requests that match a route: a 404 needs no session.
        .route_layer(from_fn_with_state(state.clone(), middleware::session))
        // Outside the session: sees who was signed in and whether a form was refused.
        .route_layer(from_fn_with_state(state.clone(), crate::drafts::keep::layer))
        .fallback(not_found);

    // Static URLs carry a content hash (`?v=`), so they never go stale; a
    // missing file is not worth keeping.
    let static_files = ServiceBuilder::new()
        .map_response(|mut response: Response<_>| {
            if response.status().is_success() {
                response.headers_mut().insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=31536000, immutable"),
                );
            }
            // Text files say their encoding (ServeDir names only the type).
            let with_charset = match response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
                Some("text/css") => Some("text/css; charset=utf-8"),
                Some("text/javascript" | "application/javascript") => Some("text/javascript; charset=utf-8"),
                Some("image/svg+xml") => Some("image/svg+xml; charset=utf-8"),
                _ => None,
            };
            if let Some(value) = with_charset {
                response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            }
            response
        })
        .service(ServeDir::new(&state.config.static_dir));

    let mut security_headers = vec![
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
        (
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
        // Pages show personal data: nothing may be kept by browsers or proxies.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
    ];
    if state.config.cookie_secure {
        security_headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    let security_headers = std::sync::Arc::new(security_headers);

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .nest_service("/static", static_files)
        .merge(pages)
        .layer(
            ServiceBuilder::new()
                // The request id is always ours: one sent by a client could forge log correlation.
                .map_request(|mut request: Request| {
                    request.headers_mut().remove(REQUEST_ID);
                    request
                })
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(|request: &Request| {
                            let id = request.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                            // Path only: queries are kept free of personal data, but never logged anyway.
                            tracing::info_span!("request", id, method = %request.method(), path = %request.uri().path())
                        })
                        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(from_fn_with_state(security_headers, add_headers))
                // Outside the error pages, so that a page put in place of an
                // error is compressed like any other, never sent plain under
                // the encoding of the body it replaced.
                .layer(CompressionLayer::new())
                .layer(from_fn(error_pages))
                .layer(CatchPanicLayer::custom(|_panic| {
                    tracing::error!("a request handler panicked");
                    ErrorPage::response(StatusCode::INTERNAL_SERVER_ERROR)
                }))
                .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
                .layer(RequestBodyLimitLayer::new(middleware::MAX_FORM_BYTES)),
        )
        .with_state(state)
}

/// Security headers on every response, unless the handler chose its own.
async fn add_headers(State(headers): State<std::sync::Arc<Vec<(HeaderName, HeaderValue)>>>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    for (name, value) in headers.iter() {
        response.headers_mut().entry(name).or_insert_with(|| value.clone());
    }
    response
}

/// Headers of a response body, dropped with the body an error page replaces.
const DESCRIBES_THE_BODY: [HeaderName; 4] = [
    header::CONTENT_ENCODING,
    header::CONTENT_LENGTH,
    header::CONTENT_TYPE,
    header::TRANSFER_ENCODING,
];

/// Error responses made by the framework itself (405 from the router, 413
/// from the body limit, 408 from the timeout, 400 from a path or query that
/// does not parse) have an empty or plain-text English body: give them the
/// Swedish error page instead, keeping their headers (such as `Allow`).
async fn error_pages(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if (status.is_client_error() || status.is_server_error()) && !is_html {
        let (parts, _) = response.into_parts();
        let mut page = ErrorPage::response(status);
        // What the status needs (Allow, Retry-After, …) is kept; what
        // described the body that is replaced is not.
        for (name, value) in parts.headers.iter() {
            if !DESCRIBES_THE_BODY.contains(name) {
                page.headers_mut().entry(name).or_insert(value.clone());
            }
        }
        return page;
    }
    response
}

async fn not_found() -> Response {
    ErrorPage::response(StatusCode::NOT_FOUND).into_response()
}
