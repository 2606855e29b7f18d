//! The signed-in user's own account: change password (required first when an
//! administrator set it), and "Mina inloggningar": the user's sessions, any
//! of which they can end.

use super::store;
use crate::auth::context::Layout;
use crate::auth::middleware::ClientAddr;
use crate::auth::{CurrentUser, password, second_factor, session, throttle};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/account/password", get(show).post(submit))
        .route("/account/two-factor", get(two_factor).post(add_two_factor))
        .route("/account/two-factor/recovery-codes", post(replace_codes))
        .route("/account/two-factor/off", post(turn_off))
        .route("/account/sessions", get(sessions))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/sessions/end-others", post(end_others))
}

#[derive(Template)]
#[template(path = "auth/password.html")]
struct PasswordPage {
    layout: Layout,
    errors: FieldErrors,
}

async fn show(current: CurrentUser) -> AppResult<Response> {
    let page = PasswordPage {
        layout: Layout::new(&current.ctx, "account"),
        errors: FieldErrors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    repeat_password: String,
}

async fn submit(
    State(state): State<AppState>,
    current: CurrentUser,
    ClientAddr(client): ClientAddr,
    FormData(form): FormData<PasswordForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut errors = FieldErrors::default();
    // Guessing the current password at an unattended desk is throttled like sign-in.
    let attempt = throttle::begin_attempt(&state.db, &current.user.email, &client, now).await?;
    if throttle::failures(&state.db, &current.user.email, &client, now).await?.locked() {
        throttle::refused(&state.db, &attempt).await?;
        errors.add("current_password", throttle::LOCKED_MESSAGE);
    } else {
        let stored = sqlx::query_scalar!("SELECT password_hash FROM users WHERE id = $1", current.user.id as _)
            .fetch_one(&state.db)
            .await?;
        if password::verify_blocking(form.current_password.clone(), Some(stored)).await {
            throttle::succeeded(&state.db, &attempt).await?;
        } else {
            errors.add("current_password", "Det nuvarande lösenordet stämmer inte.");
        }
    }
    if let Err(message) = password::check_policy(&form.new_password, &[&current.user.email, &current.user.name]) {
        errors.add("new_password", message);
    } else if form.new_password == form.current_password {
        errors.add("new_password", "Välj ett annat lösenord än det nuvarande.");
    }
    if form.repeat_password != form.new_password {
        errors.add("repeat_password", "Lösenorden är inte lika.");
    }
    if !errors.is_empty() {
        // Passwords are never echoed back into the form.
        let page = PasswordPage {
            layout: Layout::new(&current.ctx, "account"),
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }

    let hash = password::hash_blocking(form.new_password).await?;
    store::change_own_password(&state.db, &hash, current.ctx.session_token_hash.as_ref(), current.stamp(now)).await?;

    current.flash("Ditt lösenord är bytt. Andra inloggningar har loggats ut.");
    // One set by an administrator was in the way of everything else: go on.
    let next = if current.user.must_change_password {
        "/"
    } else {
        "/account/password"
    };
    Ok(Redirect::to(next).into_response())
}

#[derive(Template)]
#[template(path = "users/sessions.html")]
struct SessionsPage {
    layout: Layout,
    sessions: Vec<session::OwnSession>,
}

impl SessionsPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        crate::web::format::local_time(*at)
    }
}

async fn sessions(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let Some(in_use) = current.ctx.session_token_hash else {
        return Err(AppError::Forbidden);
    };
    let config = &state.config;
    let sessions = session::own(
        &state.db,
        current.user.id,
        &in_use,
        state.clock.now(),
        config.session_idle_timeout,
        config.session_absolute_timeout,
    )
    .await?;
    let page = SessionsPage {
        layout: Layout::new(&current.ctx, "sessions"),
        sessions,
    };
    Ok(Html(page.render()?).into_response())
}

async fn end_session(State(state): State<AppState>, current: CurrentUser, Path(id): Path<i64>) -> AppResult<Response> {
    let message = if store::end_own_session(&state.db, id, current.stamp(state.clock.now())).await? {
        "Inloggningen är avslutad."
    } else {
        "Den inloggningen var redan avslutad."
    };
    current.flash(message);
    Ok(Redirect::to("/account/sessions").into_response())
}

async fn end_others(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let Some(in_use) = current.ctx.session_token_hash else {
        return Err(AppError::Forbidden);
    };
    let ended = store::end_other_sessions(&state.db, &in_use, current.stamp(state.clock.now())).await?;
    current.flash(&format!("{ended} andra inloggningar är avslutade."));
    Ok(Redirect::to("/account/sessions").into_response())
}

#[derive(Template)]
#[template(path = "users/two_factor.html")]
struct TwoFactorPage {
    layout: Layout,
    /// The account has a second factor.
    on: bool,
    /// Its role must have one.
    required: bool,
    /// Recovery codes not yet used.
    codes_left: i64,
    /// Setting up: the new secret, its app address and QR code (SVG).
    secret: String,
    address: String,
    qr: String,
    error: String,
    /// Just made: shown this once.
    new_codes: Vec<String>,
}

impl TwoFactorPage {
    async fn of(state: &AppState, current: &CurrentUser) -> AppResult<TwoFactorPage> {
        let user = &current.user;
        let on = second_factor::secret_of(&state.db, user.id).await?.is_some();
        let codes_left = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL"#,
            user.id as _
        )
        .fetch_one(&state.db)
        .await?;
        let mut page = TwoFactorPage {
            layout: Layout::new(&current.ctx, "two_factor"),
            on,
            required: second_factor::required_for(user.role, state.config.require_totp),
            codes_left,
            secret: String::new(),
            address: String::new(),
            qr: String::new(),
            error: String::new(),
            new_codes: Vec::new(),
        };
        if !on {
            page.set_up(second_factor::new_secret(), &user.email);
        }
        Ok(page)
    }

    fn set_up(&mut self, secret: String, account: &str) {
        self.address = second_factor::app_address(&secret, account);
        self.qr = second_factor::qr_svg(&self.address);
        self.secret = secret;
    }
}

async fn two_factor(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let page = TwoFactorPage::of(&state, &current).await?;
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct TwoFactorForm {
    secret: String,
    code: String,
}

/// Turns the second factor on once a code from the app shows it was set up right.
async fn add_two_factor(
    State(state): State<AppState>,
    current: CurrentUser,
    FormData(form): FormData<TwoFactorForm>,
) -> AppResult<Response> {
    let now = state.clock.now();
    let mut page = TwoFactorPage::of(&state, &current).await?;
    if page.on {
        return Ok(Redirect::to(crate::auth::ADD_SECOND_FACTOR).into_response());
    }
    let secret = form.secret.trim().to_string();
    let valid_secret = secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
    let step = valid_secret.then(|| second_factor::step_of(&secret, &form.code, now)).flatten();
    let Some(step) = step else {
        if valid_secret {
            page.set_up(secret, &current.user.email);
        }
        page.error = "Koden stämmer inte. Skriv de sex siffrorna som appen visar nu.".into();
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let codes = second_factor::new_recovery_codes();
    store::add_second_factor(&state.db, &secret, step, &codes, current.stamp(now)).await?;
    // Shown once, on this answer: they are kept only hashed.
    let page = TwoFactorPage {
        on: true,
        codes_left: codes.len() as i64,
        secret: String::new(),
        address: String::new(),
        qr: String::new(),
        new_codes: codes,
        ..page
    };
    Ok(Html(page.render()?).into_response())
}

async fn replace_codes(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    let page = TwoFactorPage::of(&state, &current).await?;
    if !page.on {
        return Err(AppError::Conflict("Tvåstegsverifiering är inte på."));
    }
    let codes = second_factor::new_recovery_codes();
    store::new_recovery_codes(&state.db, &codes, current.stamp(state.clock.now())).await?;
    let page = TwoFactorPage {
        codes_left: codes.len() as i64,
        new_codes: codes,
        ..page
    };
    Ok(Html(page.render()?).into_response())
}

async fn turn_off(State(state): State<AppState>, current: CurrentUser) -> AppResult<Response> {
    if second_factor::required_for(current.user.role, state.config.require_totp) {
        return Err(AppError::Forbidden);
    }
    store::remove_second_factor(&state.db, current.user.id, current.stamp(state.clock.now())).await?;
    current.flash("Tvåstegsverifiering är avstängd.");
    Ok(Redirect::to(crate::auth::ADD_SECOND_FACTOR).into_response())
}
