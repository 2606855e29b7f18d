//! Middleware of our own: the session and CSRF check that runs before every
//! page, and the client address used by sign-in throttling.

use crate::auth::context::{PostRefused, RequestContext, SessionSeen};
use crate::auth::session::{self, SessionState};
use crate::auth::submit::{self, Sent};
use crate::db::request::Claim;
use crate::error::{AppError, Failed};
use crate::state::AppState;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use std::net::SocketAddr;
use subtle::ConstantTimeEq;

/// What a form may carry: five times the longest text a field takes (a
/// journal note, 20 000 characters), however it arrives. A character can
/// be four bytes of UTF-8, each sent percent-encoded as three, so twelve
/// bytes; Swedish text is about three times its length. A field over its
/// own limit is then answered beside the field with the text kept;
/// anything larger is refused before it is read.
pub const MAX_FORM_CHARS: usize = 100_000;
pub const MAX_FORM_BYTES: usize = MAX_FORM_CHARS * 12 + 64 * 1024;

/// Loads the session (if any), decides the CSRF token, checks it on every
/// state-changing request, and hands a `RequestContext` to the handlers.
/// A request that failed because its pooled database connection had died
/// (the database restarted) is run once more: nothing it did was kept, since
/// a request's work is committed only with its answer (`auth::submit`).
pub async fn session(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let body = if is_state_changing(&parts.method) {
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => return AppError::BadRequest("body too large").into_response(),
        }
    } else {
        axum::body::Bytes::new()
    };
    // A form that saves something carries a one-time token: its claim key,
    // worked out once for both runs.
    let once = if is_state_changing(&parts.method) {
        submit::claim_key(&body)
    } else {
        None
    };
    let response = run(&state, copy(&parts, &body), next.clone(), once.clone()).await;
    if response.extensions().get::<Failed>().is_some_and(|failed| failed.retry) {
        tracing::info!("a pooled database connection had died; the request runs again on another");
        return run(&state, copy(&parts, &body), next, once).await;
    }
    response
}

async fn run(state: &AppState, request: Request, next: Next, once: Option<String>) -> Response {
    let saves = once.is_some();
    let response = match session_inner(state.clone(), request, next, once).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    // A form that met an unreachable database: its work was rolled back, say so.
    match response.extensions().get::<Failed>().copied() {
        Some(failed) if saves && failed.unavailable => {
            let mut not_saved = crate::error::not_saved_response();
            not_saved.extensions_mut().insert(failed);
            not_saved
        }
        _ => response,
    }
}

/// The request again, for a second run.
fn copy(parts: &Parts, body: &axum::body::Bytes) -> Request {
    let mut request = Request::new(Body::from(body.clone()));
    *request.method_mut() = parts.method.clone();
    *request.uri_mut() = parts.uri.clone();
    *request.version_mut() = parts.version;
    *request.headers_mut() = parts.headers.clone();
    *request.extensions_mut() = parts.extensions.clone();
    request
}

async fn session_inner(state: AppState, request: Request, next: Next, once: Option<String>) -> Result<Response, AppError> {
    // Pages are read with GET and changed with POST (HTML forms know no
    // other verbs). Any other method goes on with no request context, so the
    // router answers 405 — and a handler that needs the context fails closed.
    if !matches!(*request.method(), Method::GET | Method::HEAD | Method::POST) {
        return Ok(next.run(request).await);
    }
    if !state.is_ready() {
        return Err(AppError::NotReady);
    }
    let (mut parts, body) = request.into_parts();
    let jar = CookieJar::from_headers(&parts.headers);
    let secure = state.config.cookie_secure;
    let now = state.clock.now();

    let mut user = None;
    let mut flash = None;
    let mut csrf_token = None;
    let mut session_token_hash = None;
    let mut session_expired = false;
    let mut has_drafts = false;
    let mut clear_session_cookie = false;
    if let Some(cookie) = jar.get(session_cookie_name(secure)) {
        let hash = session::token_hash(cookie.value());
        let config = &state.config;
        let loaded = session::load(
            &state.db,
            &hash,
            now,
            config.session_idle_timeout,
            config.session_absolute_timeout,
            config.require_totp,
        )
        .await?;
        match loaded {
            SessionState::Valid(loaded) => {
                user = Some(loaded.user);
                flash = loaded.flash;
                csrf_token = Some(loaded.csrf_token);
                session_token_hash = Some(hash);
                has_drafts = loaded.has_drafts;
            }
            SessionState::Expired => {
                session_expired = true;
                clear_session_cookie = true;
            }
            SessionState::Missing => clear_session_cookie = true,
        }
    }

    // Before sign-in the token lives in a pre-session cookie of its own.
    let mut new_pre_session = None;
    let csrf_token = match csrf_token {
        Some(token) => token,
        None => match jar.get(pre_session_cookie_name(secure)) {
            Some(c) if c.value().len() == 43 => c.value().to_string(),
            _ => {
                let token = session::new_token();
                new_pre_session = Some(token.clone());
                token
            }
        },
    };

    // A form sent after the session timed out cannot carry a valid token;
    // say what happened instead of refusing it as forged.
    if session_expired && is_state_changing(&parts.method) {
        let removal = removal_cookie(session_cookie_name(secure), secure);
        let mut response = (CookieJar::new().add(removal), Redirect::to("/login?expired=1")).into_response();
        response.extensions_mut().insert(PostRefused { session_expired: true });
        return Ok(response);
    }
    // Who was signed in, for the layers outside (drafts).
    let seen = match (&user, session_token_hash) {
        (Some(user), Some(token_hash)) => Some(SessionSeen {
            user_id: user.id,
            token_hash,
            csrf_token: csrf_token.clone(),
            has_drafts,
        }),
        _ => None,
    };

    let body = if is_state_changing(&parts.method) {
        let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| AppError::BadRequest("body too large"))?;
        let sent = parts
            .headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                form_urlencoded::parse(&bytes)
                    .find(|(k, _)| k == "csrf_token")
                    .map(|(_, v)| v.into_owned())
            });
        // A brand-new pre-session token was never in any form: nothing can match it.
        let valid = new_pre_session.is_none() && sent.is_some_and(|sent| bool::from(sent.as_bytes().ct_eq(csrf_token.as_bytes())));
        if !valid {
            let mut response = AppError::CsrfRejected.into_response();
            response.extensions_mut().insert(PostRefused { session_expired: false });
            if let Some(seen) = seen {
                response.extensions_mut().insert(seen);
            }
            return Ok(response);
        }
        Body::from(bytes)
    } else {
        body
    };
    let user_id = user.as_ref().map(|u| u.id);
    // The same form sent again: answered with where the first one led.
    if let (Some(token), Some(user_id)) = (&once, user_id)
        && let Some(location) = submit::answered(&state.db, token, user_id).await?
    {
        return Ok(submit::again(&state.db, session_token_hash.as_ref(), &location).await);
    }

    parts.extensions.insert(RequestContext {
        user,
        csrf_token,
        session_token_hash,
        session_expired,
        flash,
        asset_version: state.asset_version.clone(),
    });

    let request = Request::from_parts(parts, body);
    let mut response = if is_state_changing(request.method()) {
        let claim = once.clone().zip(user_id).map(|(token, user)| Claim { token, user, at: now });
        let (response, work) = crate::db::request::scope(claim, next.run(request)).await;
        let sent = Sent {
            token: once.as_deref(),
            user: user_id,
            session: session_token_hash.as_ref(),
        };
        submit::finish(&state.db, work, response, sent).await
    } else {
        next.run(request).await
    };
    if let Some(seen) = seen {
        response.extensions_mut().insert(seen);
    }

    let mut cookies = Vec::new();
    if let Some(token) = new_pre_session {
        cookies.push(build_cookie(pre_session_cookie_name(secure), token, secure));
    }
    // A handler that set a new session cookie (sign-in) has already dealt with it.
    if clear_session_cookie && !sets_cookie(response.headers(), session_cookie_name(secure)) {
        cookies.push(removal_cookie(session_cookie_name(secure), secure));
    }
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

fn sets_cookie(headers: &axum::http::HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split_once('=').is_some_and(|(n, _)| n == name)))
}

fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD)
}

pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure { session::COOKIE_SECURE } else { session::COOKIE }
}

fn pre_session_cookie_name(secure: bool) -> &'static str {
    if secure {
        session::PRE_SESSION_COOKIE_SECURE
    } else {
        session::PRE_SESSION_COOKIE
    }
}

/// HttpOnly, SameSite=Lax, Path=/, Secure when configured; no Max-Age, so the
/// browser forgets it when closed (the server enforces the timeouts).
pub fn build_cookie(name: &'static str, value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((name, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .build()
}

pub fn removal_cookie(name: &'static str, secure: bool) -> Cookie<'static> {
    let mut cookie = build_cookie(name, String::new(), secure);
    cookie.make_removal();
    cookie
}

/// The client's address, for throttling and the audit log. Behind a load
/// balancer (`LOTSEN_TRUST_FORWARDED_FOR=true`) the last `X-Forwarded-For` hop.
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if state.config.trust_forwarded_for {
            let forwarded = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .next_back();
            if let Some(addr) = forwarded
                .and_then(|v| v.rsplit(',').next())
                .map(str::trim)
                .filter(|v| v.parse::<std::net::IpAddr>().is_ok())
            {
                return Ok(ClientAddr(addr.to_string()));
            }
        }
        let addr = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "okänd".into());
        Ok(ClientAddr(addr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_safe_methods_skip_the_csrf_check() {
        assert!(!is_state_changing(&Method::GET));
        assert!(!is_state_changing(&Method::HEAD));
        assert!(is_state_changing(&Method::OPTIONS));
        for m in [Method::POST, Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(is_state_changing(&m));
        }
    }
}
