//! The signed-in user's own account: change password.

use crate::auth::context::Layout;
use crate::auth::middleware::ClientAddr;
use crate::auth::{CurrentUser, password, throttle};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData};
use crate::web::routes::Routes;
use crate::web::routes::get;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new().route("/account/password", get(show).post(submit))
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
    if let Err(message) = password::check_policy(&form.new_password) {
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
    super::store::change_own_password(&state.db, &hash, current.ctx.session_token_hash.as_ref(), current.stamp(now)).await?;

    current
        .flash(&state.db, "Ditt lösenord är bytt. Andra inloggningar har loggats ut.")
        .await?;
    Ok(Redirect::to("/account/password").into_response())
}
