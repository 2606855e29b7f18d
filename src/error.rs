//! One error type for every handler. It renders a Swedish error page, logs
//! the internals, and never shows them to the user.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// The record changed so that this request no longer applies; the
    /// message (Swedish) says why.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("invalid or missing CSRF token")]
    CsrfRejected,
    #[error("database unavailable: {0}")]
    DatabaseUnavailable(sqlx::Error),
    #[error("the schema is not migrated yet")]
    NotReady,
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            AppError::DatabaseUnavailable(err)
        } else {
            AppError::Database(err)
        }
    }
}

/// Errors that mean "PostgreSQL cannot be reached right now", as opposed to a
/// query that is wrong: these become 503 so that a restart of the database is
/// seen as a short outage, not a bug.
fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db) => {
            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions.
            db.code().is_some_and(|code| code.starts_with("57P") || code.starts_with("08"))
        }
        _ => false,
    }
}

/// The error page: a complete document of its own, so that it renders even
/// when nothing else about the request could be loaded.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub status: u16,
    pub heading: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    pub fn for_status(status: StatusCode) -> Self {
        let (heading, message) = match status.as_u16() {
            400 => (
                "Felaktig begäran",
                "Det som skickades kunde inte tolkas. Gå tillbaka och försök igen.",
            ),
            403 => (
                "Åtkomst nekad",
                "Du har inte behörighet till den här sidan. Kontakta en administratör om du behöver åtkomst.",
            ),
            404 => ("Sidan finns inte", "Sidan du söker finns inte eller har flyttats."),
            405 => ("Metoden stöds inte", "Sidan kan inte användas på det sättet."),
            408 => ("Det tog för lång tid", "Servern hann inte svara. Försök igen om en stund."),
            413 => ("För mycket data", "Det som skickades var för stort."),
            503 => (
                "Tjänsten är inte tillgänglig just nu",
                "Lotsen når inte sin databas. Försök igen om en liten stund; ingenting du redan sparat har gått förlorat.",
            ),
            _ => (
                "Något gick fel",
                "Ett oväntat fel inträffade. Felet är loggat. Försök igen, och kontakta support om det upprepas.",
            ),
        };
        ErrorPage {
            status: status.as_u16(),
            heading,
            message,
        }
    }

    pub fn response(status: StatusCode) -> Response {
        let page = ErrorPage::for_status(status);
        match page.render() {
            Ok(body) => (status, Html(body)).into_response(),
            Err(_) => (status, "Något gick fel.").into_response(),
        }
    }
}

/// An error page with its own heading and message.
fn message_response(status: StatusCode, heading: &'static str, message: &'static str) -> Response {
    let page = ErrorPage {
        status: status.as_u16(),
        heading,
        message,
    };
    match page.render() {
        Ok(body) => (status, Html(body)).into_response(),
        Err(_) => status.into_response(),
    }
}

/// The CSRF refusal explains what the user can do about it.
fn csrf_response() -> Response {
    message_response(
        StatusCode::FORBIDDEN,
        "Formuläret kunde inte skickas",
        "Formuläret har gått ut eller kom inte från Lotsen. Ladda om sidan och försök igen.",
    )
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = match &self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(message) => {
                return message_response(StatusCode::CONFLICT, "Det gick inte att spara", message);
            }
            AppError::CsrfRejected => {
                tracing::warn!("refused a state-changing request without a valid CSRF token");
                return csrf_response();
            }
            AppError::DatabaseUnavailable(err) => {
                tracing::warn!(error = %err, "database unavailable");
                StatusCode::SERVICE_UNAVAILABLE
            }
            AppError::NotReady => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Database(_) | AppError::Template(_) | AppError::Internal(_) => {
                tracing::error!(error = %self, "request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        ErrorPage::response(status)
    }
}

/// Unique-constraint name of a failed insert/update, for turning it into a
/// message next to the right field.
pub fn violated_constraint(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_unique_violation() => db.constraint(),
        _ => None,
    }
}

/// Check-constraint name (or a trigger's, raised as a check violation) of a
/// failed insert/update: a rule the schema enforced that the form checks too,
/// broken by a change that arrived in between.
pub fn violated_check(err: &sqlx::Error) -> Option<&str> {
    match err {
        sqlx::Error::Database(db) if db.is_check_violation() => db.constraint(),
        _ => None,
    }
}
