//! Sign-in and sign-out pages.

use crate::audit;
use crate::auth::context::{Layout, RequestContext};
use crate::auth::middleware::{ClientAddr, build_cookie, removal_cookie, session_cookie_name};
use crate::auth::{oidc, password, safe_next, second_factor, session, throttle};
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
    Routes::new()
        .route("/login", get(show).post(submit))
        .route("/login/code", get(code_form).post(code_submit))
        .route("/logout", post(logout))
}

/// The cookie that carries a sign-in between the password and the code.
const PENDING_COOKIE: &str = "lotsen_pending";
const PENDING_COOKIE_SECURE: &str = "__Host-lotsen_pending";
/// How long the code may take after the password.
const PENDING_MINUTES: i64 = 5;

fn pending_cookie_name(secure: bool) -> &'static str {
    if secure { PENDING_COOKIE_SECURE } else { PENDING_COOKIE }
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
    error: String,
    notice: &'static str,
    /// The identity provider's name and the link that starts a sign-in
    /// there, when it is set up. A link, not a form: the page's
    /// `form-action 'self'` would stop a form's redirect to the provider.
    provider: Option<(String, String)>,
}

/// The sign-in page with what was typed and why it did not go through.
pub(crate) fn page(
    state: &AppState,
    ctx: &RequestContext,
    email: &str,
    next: &str,
    error: String,
    notice: &'static str,
    status: StatusCode,
) -> AppResult<Response> {
    let page = LoginPage {
        layout: Layout::new(ctx, "login"),
        email: email.to_string(),
        next: next.to_string(),
        error,
        notice,
        provider: state.config.oidc.as_ref().map(|o| (o.label.clone(), oidc::start_link(next))),
    };
    crate::web::render(&page, status)
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

async fn show(State(state): State<AppState>, ctx: RequestContext, Query(query): Query<LoginQuery>) -> AppResult<Response> {
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
    let next = safe_next(query.next.as_deref());
    page(&state, &ctx, "", next, String::new(), notice, StatusCode::OK)
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
    let device = device_of(&headers);
    let now = state.clock.now();
    let email = form.email.trim().to_lowercase();
    let next = safe_next(Some(&form.next)).to_string();
    let refuse = |error: &'static str, status: StatusCode| -> AppResult<Response> {
        page(&state, &ctx, form.email.trim(), &next, error.to_string(), "", status)
    };

    // The attempt is written before the password is checked, so requests
    // sent in parallel all count: none slips past the limit.
    let attempt = throttle::begin_attempt(&state.db, &email, &client, now).await?;
    let failures = throttle::failures(&state.db, &email, &client, now).await?;
    let user = sqlx::query!(
        r#"SELECT id AS "id: UserId", password_hash, active, totp_secret IS NOT NULL AS "has_second_factor!" FROM users WHERE email = $1"#,
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

    if user.has_second_factor {
        // The password is right; the session starts after the code.
        throttle::refused(&state.db, &attempt).await?;
        let token = session::new_token();
        sqlx::query!(
            "INSERT INTO pending_sign_ins (token_hash, user_id, next, created_at) VALUES ($1, $2, $3, $4)",
            &session::token_hash(&token)[..],
            user.id as _,
            next,
            now
        )
        .execute(&state.db)
        .await?;
        let secure = state.config.cookie_secure;
        let cookies = CookieJar::new().add(build_cookie(pending_cookie_name(secure), token, secure));
        return Ok((cookies, Redirect::to("/login/code")).into_response());
    }
    let sign_in = SignIn {
        user: user.id,
        device: &device,
        how: "lösenord",
        next: &next,
        external: false,
        attempt: Some(&attempt),
    };
    start_session(&state, &ctx, sign_in, now).await
}

/// The browser and system signing in, for "Mina inloggningar".
fn device_of(headers: &axum::http::HeaderMap) -> String {
    let agent = headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok());
    session::device_of(agent.unwrap_or(""))
}

/// A sign-in that went through: who, on what, how (for the audit log) and
/// where to next.
pub(crate) struct SignIn<'a> {
    pub user: UserId,
    pub device: &'a str,
    pub how: &'a str,
    pub next: &'a str,
    /// Through the identity provider: its sign-in was the strong one.
    pub external: bool,
    /// The password's attempt, counted as a success.
    pub attempt: Option<&'a throttle::Attempt>,
}

/// Signs the user in: a new session id (the browser's old one, if any, goes),
/// the sign-in in the audit log with how, and the attempt counted as a
/// success; the cookies of the steps before (code, provider) are removed.
pub(crate) async fn start_session(
    state: &AppState,
    ctx: &RequestContext,
    sign_in: SignIn<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Response> {
    let user = sign_in.user;
    let mut tx = state.db.begin().await?;
    if let Some(old) = ctx.session_token_hash {
        session::destroy(&mut *tx, &old).await?;
    }
    let token = session::create(&mut *tx, user, sign_in.device, sign_in.external, now).await?;
    audit::Entry::new(Some(user), "login")
        .record("user", user)
        .details(sign_in.how)
        .write(&mut *tx, now)
        .await?;
    if let Some(attempt) = sign_in.attempt {
        throttle::succeeded(&mut *tx, attempt).await?;
    }
    tx.commit().await?;

    let secure = state.config.cookie_secure;
    let cookies = CookieJar::new()
        .add(build_cookie(session_cookie_name(secure), token, secure))
        .add(removal_cookie(pending_cookie_name(secure), secure))
        .add(removal_cookie(oidc::cookie_name(secure), secure));
    Ok((cookies, Redirect::to(sign_in.next)).into_response())
}

#[derive(Template)]
#[template(path = "auth/code.html")]
struct CodePage {
    layout: Layout,
    error: &'static str,
}

/// The sign-in waiting for its code: its user and where it goes after.
struct Pending {
    user: UserId,
    email: String,
    secret: String,
    next: String,
}

async fn pending(state: &AppState, jar: &CookieJar) -> AppResult<Option<Pending>> {
    let Some(cookie) = jar.get(pending_cookie_name(state.config.cookie_secure)) else {
        return Ok(None);
    };
    let since = state.clock.now() - chrono::Duration::minutes(PENDING_MINUTES);
    let row = sqlx::query!(
        r#"SELECT p.user_id AS "user_id: UserId", p.next, u.email, u.totp_secret AS "secret!"
           FROM pending_sign_ins p JOIN users u ON u.id = p.user_id
           WHERE p.token_hash = $1 AND p.created_at > $2 AND u.active AND u.totp_secret IS NOT NULL"#,
        &session::token_hash(cookie.value())[..],
        since
    )
    .fetch_optional(&state.db)
    .await?;
    Ok(row.map(|r| Pending {
        user: r.user_id,
        email: r.email,
        secret: r.secret,
        next: r.next,
    }))
}

const WRONG_CODE: &str = "Koden stämmer inte. Skriv de sex siffrorna som appen visar nu, eller en oanvänd återställningskod.";

async fn code_form(State(state): State<AppState>, ctx: RequestContext, jar: CookieJar) -> AppResult<Response> {
    if pending(&state, &jar).await?.is_none() {
        return Ok(Redirect::to("/login").into_response());
    }
    let page = CodePage {
        layout: Layout::new(&ctx, "login"),
        error: "",
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

async fn code_submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    ClientAddr(client): ClientAddr,
    headers: axum::http::HeaderMap,
    jar: CookieJar,
    FormData(form): FormData<CodeForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let Some(pending) = pending(&state, &jar).await? else {
        return Ok(Redirect::to("/login?expired=1").into_response());
    };
    let refuse = |error: &'static str, status: StatusCode| -> AppResult<Response> {
        let page = CodePage {
            layout: Layout::new(&ctx, "login"),
            error,
        };
        crate::web::render(&page, status)
    };
    // Guessing codes counts like guessing passwords, for the same account and address.
    let attempt = throttle::begin_attempt(&state.db, &pending.email, &client, now).await?;
    if throttle::failures(&state.db, &pending.email, &client, now).await?.locked() {
        throttle::refused(&state.db, &attempt).await?;
        sign_in_refused(
            &state,
            Some(pending.user),
            "login_refused",
            "spärrad efter för många misslyckade försök",
            now,
        )
        .await?;
        return refuse(LOCKED, StatusCode::TOO_MANY_REQUESTS);
    }
    let mut tx = state.db.begin().await?;
    let how = second_factor::accept(&mut tx, pending.user, &pending.secret, &form.code, now).await?;
    tx.commit().await?;
    let Some(how) = how else {
        sign_in_refused(&state, Some(pending.user), "login_failed", "fel kod", now).await?;
        return refuse(WRONG_CODE, StatusCode::UNAUTHORIZED);
    };
    sqlx::query!(
        "DELETE FROM pending_sign_ins WHERE user_id = $1 OR created_at <= $2",
        pending.user as _,
        now - chrono::Duration::minutes(PENDING_MINUTES)
    )
    .execute(&state.db)
    .await?;
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let how = format!("lösenord och {how}");
    let sign_in = SignIn {
        user: pending.user,
        device: &session::device_of(user_agent),
        how: &how,
        next: &pending.next,
        external: false,
        attempt: Some(&attempt),
    };
    start_session(&state, &ctx, sign_in, now).await
}

/// A failed or refused sign-in, or a lockout, in the audit log (kept like
/// it, unlike the throttle's attempts): the account when the address is
/// one, and why.
pub(crate) async fn sign_in_refused(
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
