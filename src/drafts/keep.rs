//! The layer around every page that keeps drafts: it puts them back into the
//! forms of a page, keeps what a refused form carried, and forgets a draft
//! once its form is saved. It sits outside the session middleware and reads
//! what that one left on the response (`SessionSeen`, `PostRefused`).

use crate::auth::context::{PostRefused, SessionSeen};
use crate::auth::middleware::MAX_FORM_BYTES;
use crate::auth::session;
use crate::drafts::{ACTION_FIELD, Target, restore, store};
use crate::error::AppError;
use crate::ids::UserId;
use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

/// The path `app.js` posts a form's text to while it is written.
const AUTOSAVE: &str = "/drafts";

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match *request.method() {
        Method::POST => post(&state, request, next).await,
        Method::GET => get(&state, request, next).await,
        _ => next.run(request).await,
    }
}

async fn post(state: &AppState, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let target = Target::of(&path);
    if target.is_none() && path != AUTOSAVE {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return AppError::BadRequest("body too large").into_response();
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes.clone()))).await;
    if let Some(refused) = response.extensions().get::<PostRefused>().copied() {
        return rescue(state, &bytes, target, refused, response).await;
    }
    // Saved (a form that is accepted answers with a redirect): the draft has done its work.
    if let (Some(target), Some(seen)) = (&target, response.extensions().get::<SessionSeen>())
        && response.status().is_redirection()
        && let Err(err) = store::saved(&state.db, seen.user_id, &target.action).await
    {
        // The record is saved; a draft left behind is only shown again.
        tracing::warn!(error = %err, "a saved form's draft could not be removed");
    }
    response
}

/// A form refused because its session ended or its token is not the
/// session's: when the token proves who wrote it, keep the text as that
/// user's draft and take them back to the form (after signing in, if needed).
async fn rescue(state: &AppState, bytes: &Bytes, target: Option<Target>, refused: PostRefused, response: Response) -> Response {
    let fields = crate::web::form::pairs(bytes);
    let value = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let autosave = target.is_none();
    let Some(target) = target.or_else(|| value(ACTION_FIELD).and_then(Target::of)) else {
        return response;
    };
    let Some(token) = value("csrf_token") else { return response };
    let author = match keep_for_author(state, &target, &fields, token).await {
        Ok(Some(author)) => author,
        Ok(None) => return response,
        Err(err) => {
            tracing::warn!(error = %err, "a refused form's text could not be kept");
            return response;
        }
    };
    tracing::info!(form = target.form.action, "a refused form was kept as its author's draft");
    let seen = response.extensions().get::<SessionSeen>().cloned();
    let signed_in_as_author = seen.as_ref().is_some_and(|s| s.user_id == author);
    let mut answer = if autosave {
        // 202: kept, but the page's session is over (app.js says so).
        if signed_in_as_author {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::ACCEPTED
        }
        .into_response()
    } else if let Some(seen) = seen {
        if !signed_in_as_author {
            // Someone else is signed in in this browser now: the text waits for its author.
            return response;
        }
        let message = "Formuläret hade gått ut och sparades inte, men det du skrev finns kvar nedan. Kontrollera och skicka igen.";
        if let Err(err) = session::set_flash(&state.db, &seen.token_hash, message).await {
            tracing::warn!(error = %err, "flash message not saved");
        }
        Redirect::to(&target.page).into_response()
    } else {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query.append_pair("next", &target.page).append_pair("draft", "1");
        if refused.session_expired {
            query.append_pair("expired", "1");
        }
        Redirect::to(&format!("/login?{}", query.finish())).into_response()
    };
    // The refusal may have ended the session cookie: keep that.
    for cookie in response.headers().get_all(header::SET_COOKIE) {
        answer.headers_mut().append(header::SET_COOKIE, cookie.clone());
    }
    answer
}

/// Keeps the text as a draft of the user whose ended session the token was
/// made for, if that user may still reach the form's record.
async fn keep_for_author(state: &AppState, target: &Target, fields: &[(String, String)], token: &str) -> Result<Option<UserId>, AppError> {
    let Some(author) = store::author_of_token(&state.db, token).await? else {
        return Ok(None);
    };
    let owner = match target.owner(&state.db).await {
        Ok(owner) => owner,
        Err(AppError::NotFound) => return Ok(None),
        Err(err) => return Err(err),
    };
    if let Some(owner) = owner
        && !store::works_in(&state.db, author, owner.unit_id).await?
    {
        return Ok(None);
    }
    store::keep(&state.db, author, target, owner, fields, state.clock.now()).await?;
    Ok(Some(author))
}

async fn get(state: &AppState, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let Some(seen) = response.extensions().get::<SessionSeen>().cloned() else {
        return response;
    };
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !seen.has_drafts || response.status() != StatusCode::OK || !is_html {
        return response;
    }
    let drafts = match store::on_page(&state.db, seen.user_id, &path).await {
        Ok(drafts) if !drafts.is_empty() => drafts,
        Ok(_) => return response,
        Err(err) => {
            tracing::warn!(error = %err, "drafts not read; the page is shown without them");
            return response;
        }
    };
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return AppError::Internal(anyhow::anyhow!("page body unreadable")).into_response();
    };
    let html = String::from_utf8_lossy(&bytes);
    match restore::fill(&html, &drafts, &seen.csrf_token) {
        Ok(filled) => {
            parts.headers.remove(header::CONTENT_LENGTH);
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
            Response::from_parts(parts, Body::from(filled))
        }
        Err(err) => {
            tracing::warn!(error = %err, "drafts not put back; the page is shown without them");
            Response::from_parts(parts, Body::from(bytes))
        }
    }
}
