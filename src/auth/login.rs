//! Sign-in and sign-out pages.

use crate::audit;
use crate::auth::context::{Layout, RequestContext};
use crate::auth::middleware::{ClientAddr, build_cookie, removal_cookie, session_cookie_name};
use crate::auth::{password, safe_next, session, throttle};
use crate::error::AppResult;
use crate::ids::UserId;
use crate::state::AppState;
use crate::web::form::FormData;
use crate::web::form::Query;
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new().route("/login", get(show).post(submit)).route("/logout", post(logout))
}

/// Unknown user, wrong password and deactivated account all get this one message.
pub const FAILED: &str = "Fel e-postadress eller lösenord.";
pub const LOCKED: &str = throttle::LOCKED_MESSAGE;

#[derive(Template)]
#[template(path = "auth/login.html")]
struct LoginPage {
    layout: Layout,
    email: String,
    next: String,
    error: &'static str,
    notice: &'static str,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
    signed_out: Option<String>,
    /// A form sent after the session ended was kept as a draft.
    draft: Option<String>,
}

async fn show(ctx: RequestContext, Query(query): Query<LoginQuery>) -> AppResult<Response> {
    if ctx.user.is_some() {
        return Ok(Redirect::to(safe_next(query.next.as_deref())).into_response());
    }
    let notice = if query.draft.is_some() {
        "Du hann bli utloggad innan formuläret skickades. Det du skrev är inte förlorat: logga in igen, så kommer du tillbaka till formuläret med texten kvar."
    } else if query.expired.is_some() {
        "Du har varit inaktiv för länge och har loggats ut. Logga in igen."
    } else if query.signed_out.is_some() {
        "Du är utloggad."
    } else {
        ""
    };
    let page = LoginPage {
        layout: Layout::new(&ctx, "login"),
        email: String::new(),
        next: safe_next(query.next.as_deref()).to_string(),
        error: "",
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    FormData(form): FormData<LoginForm>,
) -> AppResult<Response> {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let now = state.clock.now();
    let email = form.email.trim().to_lowercase();
    let next = safe_next(Some(&form.next)).to_string();
    let refuse = |error: &'static str, status: StatusCode| -> AppResult<Response> {
        let page = LoginPage {
            layout: Layout::new(&ctx, "login"),
            email: form.email.trim().to_string(),
            next: next.clone(),
            error,
            notice: "",
        };
        crate::web::render(&page, status)
    };

    // The attempt is written before the password is checked, so requests
    // sent in parallel all count: none slips past the limit.
    let attempt = throttle::begin_attempt(&state.db, &email, &client, now).await?;
    let failures = throttle::failures(&state.db, &email, &client, now).await?;
    let user = sqlx::query!(
        r#"SELECT id AS "id: UserId", password_hash, active FROM users WHERE email = $1"#,
        email
    )
    .fetch_optional(&state.db)
    .await?;
    if failures.locked() {
        tracing::warn!(client = %attempt.client_key, pair_failures = failures.pair, account_failures = failures.account, client_failures = failures.client, "sign-in refused: locked out");
        throttle::refused(&state.db, &attempt).await?;
        // Kept in the audit log, like every failed sign-in (issue 17).
        let why = "spärrad efter för många misslyckade försök";
        sign_in_refused(&state, user.as_ref().map(|u| u.id), "login_refused", why, now).await?;
        return refuse(LOCKED, StatusCode::TOO_MANY_REQUESTS);
    }
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let password_ok = password::verify_blocking(form.password.clone(), stored).await;
    let user = match user {
        Some(u) if password_ok && u.active => u,
        other => {
            let why = match &other {
                None => "okänd e-postadress",
                Some(u) if !u.active => "kontot är inaktiverat",
                Some(_) => "fel lösenord",
            };
            let account = other.as_ref().map(|u| u.id);
            sign_in_refused(&state, account, "login_failed", why, now).await?;
            if failures.reaches_lockout() {
                tracing::warn!(client = %attempt.client_key, "sign-in locked out after repeated failures");
                sign_in_refused(&state, account, "login_lockout", "för många misslyckade inloggningsförsök", now).await?;
            }
            return refuse(FAILED, StatusCode::UNAUTHORIZED);
        }
    };

    // A new session id at every sign-in; the browser's old one (if any) goes.
    let mut tx = state.db.begin().await?;
    if let Some(old) = ctx.session_token_hash {
        session::destroy(&mut *tx, &old).await?;
    }
    let token = session::create(&mut *tx, user.id, &session::device_of(&user_agent), now).await?;
    audit::Entry::new(Some(user.id), "login")
        .record("user", user.id)
        .write(&mut *tx, now)
        .await?;
    throttle::succeeded(&mut *tx, &attempt).await?;
    tx.commit().await?;

    let secure = state.config.cookie_secure;
    let cookies = CookieJar::new().add(build_cookie(session_cookie_name(secure), token, secure));
    Ok((cookies, Redirect::to(&next)).into_response())
}

/// A failed or refused sign-in, or a lockout, in the audit log (kept like
/// it, unlike the throttle's attempts): the account when the address is
/// one, and why.
async fn sign_in_refused(
    state: &AppState,
    account: Option<UserId>,
    action: &str,
    why: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<()> {
    let mut entry = audit::Entry::new(None, action).details(why);
    if let Some(id) = account {
        entry = entry.record("user", id);
    }
    entry.write(&state.db, now).await?;
    Ok(())
}

async fn logout(State(state): State<AppState>, ctx: RequestContext) -> AppResult<Response> {
    let now = state.clock.now();
    if let Some(hash) = ctx.session_token_hash {
        let mut tx = state.db.begin().await?;
        session::destroy(&mut *tx, &hash).await?;
        if let Some(user) = &ctx.user {
            audit::Entry::new(Some(user.id), "logout")
                .record("user", user.id)
                .write(&mut *tx, now)
                .await?;
        }
        tx.commit().await?;
    }
    let secure = state.config.cookie_secure;
    let cookies = CookieJar::new().add(removal_cookie(session_cookie_name(secure), secure));
    Ok((cookies, Redirect::to("/login?signed_out=1")).into_response())
}
