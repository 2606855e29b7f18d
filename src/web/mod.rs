//! The HTTP toolkit every feature builds on: the route table, forms and
//! their messages, Swedish formatting, and the health checks. Who is asking
//! (sessions, CSRF, the page frame) is `crate::auth`; the router that puts
//! the features together is `crate::app`, above them all.

pub mod csv;
pub mod form;
pub mod format;
pub mod health;
pub mod routes;
pub mod searches;

use crate::error::AppResult;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A page as the answer with `status`: the close of every handler that renders one.
pub fn render(page: &impl askama::Template, status: StatusCode) -> AppResult<Response> {
    Ok((status, Html(page.render()?)).into_response())
}

/// A page as the answer: 200, or 422 when it shows a refused form (the
/// messages beside the fields), so a refusal never looks like a success.
pub fn page(page: &impl askama::Template, refused: bool) -> AppResult<Response> {
    let status = if refused {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(page, status)
}
