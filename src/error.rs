//! One error type for every handler. It renders a Swedish error page, logs
//! the internals, and never shows them to the user.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
    /// The form was sent before and its first submit kept its work
    /// (`auth::submit` answers with where that one led).
    #[error("form sent before")]
    SentBefore,
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
            if is_broken_connection(&err) {
                note_broken_connection();
            }
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
            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now,
            // 08xxx connection exceptions, 25006 a read-only transaction (the
            // database is a standby or set read-only: nothing can be written).
            db.code()
                .is_some_and(|code| code.starts_with("57P") || code.starts_with("08") || code == "25006")
        }
        _ => false,
    }
}

fn process_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

/// Milliseconds after `process_start` (plus one, so 0 means never) that a
/// pooled connection was last found dead.
static BROKEN_AT: AtomicU64 = AtomicU64::new(0);

/// Called when a query fails because its connection died.
fn note_broken_connection() {
    let at = process_start().elapsed().as_millis() as u64 + 1;
    BROKEN_AT.store(at, Ordering::Relaxed);
}

/// How long ago a connection was last found dead, if ever: the pool pings
/// connections idle since then before handing them out (`db::pool_with`).
pub fn since_broken_connection() -> Option<Duration> {
    match BROKEN_AT.load(Ordering::Relaxed) {
        0 => None,
        at => Some(process_start().elapsed().saturating_sub(Duration::from_millis(at - 1))),
    }
}

/// A pooled connection that turned out dead (the database restarted since it
/// was opened): the request can be run again on a fresh one.
fn is_broken_connection(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| matches!(&*code, "57P01" | "57P02")),
        _ => false,
    }
}

/// Put on the answer to a form sent before, for `auth::submit` to replace.
#[derive(Clone, Copy, Debug)]
pub struct SentBefore;

/// Put on every error answer, so the layers outside know that the request's
/// work must not be kept (`auth::submit`), and whether running it again on a
/// fresh database connection may succeed.
#[derive(Clone, Copy, Debug)]
pub struct Failed {
    pub retry: bool,
    /// The database could not be reached (or not written to).
    pub unavailable: bool,
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

/// A form sent while the database could not be reached: its work was rolled
/// back (`auth::submit` commits only as the answer's last step), so the page
/// can say so.
pub fn not_saved_response() -> Response {
    message_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "Det du skickade är inte sparat",
        "Lotsen når inte sin databas just nu, så ingenting av det du skickade sparades. Gå tillbaka till formuläret – det du skrev finns kvar där – och skicka igen om en liten stund.",
    )
}

/// The connection was lost while the work was being committed, so whether it
/// was saved cannot be known; sending the form again is safe, because its
/// one-time token lets only one submit keep work.
pub fn unconfirmed_response() -> Response {
    message_response(
        StatusCode::SERVICE_UNAVAILABLE,
        "Det gick inte att bekräfta att det sparades",
        "Lotsen tappade kontakten med databasen just när det du skickade skulle sparas. Gå tillbaka och skicka formuläret igen om en liten stund: om det redan hann sparas blir det inte sparat två gånger.",
    )
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
        let retry = matches!(&self, AppError::DatabaseUnavailable(err) if is_broken_connection(err));
        let unavailable = matches!(&self, AppError::DatabaseUnavailable(_) | AppError::NotReady);
        let sent_before = matches!(self, AppError::SentBefore);
        let mut response = self.page();
        response.extensions_mut().insert(Failed { retry, unavailable });
        if sent_before {
            response.extensions_mut().insert(SentBefore);
        }
        response
    }
}

impl AppError {
    fn page(self) -> Response {
        let status = match &self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Conflict(message) => {
                return message_response(StatusCode::CONFLICT, "Det gick inte att spara", message);
            }
            // Replaced by `auth::submit::finish`; seen only if that layer is missing.
            AppError::SentBefore => StatusCode::CONFLICT,
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
