//! The signed-in user's own account: change password (required first when an
//! administrator set it), and "Mina inloggningar": the user's sessions, any
//! of which they can end.

use super::store;
use crate::auth::context::Layout;
use crate::auth::middleware::ClientAddr;
use crate::auth::{CurrentUser, password, session, throttle};
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
