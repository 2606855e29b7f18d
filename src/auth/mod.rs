//! Sign-in, sessions, roles, passwords and sign-in throttling.

pub mod context;
pub mod login;
pub mod middleware;
pub mod oidc;
pub mod password;
pub mod second_factor;
pub mod session;
pub mod submit;
pub mod throttle;

use crate::auth::context::{RequestContext, SessionUser};
use crate::error::AppError;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

/// What a user may do. The occupational therapist is `Staff` with a job title.
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, serde::Deserialize, serde::Serialize)]
#[sqlx(type_name = "text", rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Manager,
    Staff,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Staff, Role::Manager, Role::Admin];

    pub fn code(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Staff => "staff",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The name on screen (GLOSSARY.md).
    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Administratör",
            Role::Manager => "Enhetschef",
            Role::Staff => "Personal",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// A handler argument that only a signed-in user gets past; anyone else is
/// sent to the sign-in page (and back again afterwards).
#[derive(Clone)]
pub struct CurrentUser {
    pub user: SessionUser,
    pub ctx: RequestContext,
}

impl CurrentUser {
    /// Refuses with the Swedish 403 page unless the user has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.user.role) {
            Ok(())
        } else {
            // Logged with who was refused (issue 17); the path is on the request's span.
            tracing::warn!(user_id = %self.user.id, role = self.user.role.code(), "refused a page the user's role may not open");
            Err(AppError::Forbidden)
        }
    }

    /// Refuses (403) anyone but a manager of `unit`: the unit's log review
    /// and gallring are theirs.
    pub fn require_manager_of(&self, unit: crate::ids::UnitId) -> Result<(), AppError> {
        self.require(&[Role::Manager])?;
        if self.user.unit_ids.contains(&unit) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The unit a page works for: the one asked for if the user belongs to
    /// it, else their first; another unit is refused.
    pub fn chosen_unit(&self, asked: &str) -> Result<crate::ids::UnitId, AppError> {
        let units = &self.user.unit_ids;
        match asked.parse::<crate::ids::UnitId>() {
            Ok(id) if units.contains(&id) => Ok(id),
            Ok(_) => Err(AppError::Forbidden),
            Err(_) => units.first().copied().ok_or(AppError::Forbidden),
        }
    }

    /// This user, now: who and when for a command that writes.
    pub fn stamp(&self, now: chrono::DateTime<chrono::Utc>) -> crate::audit::Stamp {
        crate::audit::Stamp { by: self.user.id, at: now }
    }

    /// The message the next page shows once. It is saved with the request's
    /// work, in its transaction (`db::request`), so it says only what was kept.
    pub fn flash(&self, message: &str) {
        if !crate::db::request::flash(message) {
            tracing::warn!("a flash message outside a request that changes something was not kept");
        }
    }
}

/// The user's own password page, the one page open to a user who must
/// change a password an administrator set.
pub const CHANGE_PASSWORD: &str = "/account/password";

/// Where a user adds (or manages) their second factor: the one page open to
/// an administrator or manager who has none yet.
pub const ADD_SECOND_FACTOR: &str = "/account/two-factor";

pub struct SignInRequired(String);

impl IntoResponse for SignInRequired {
    fn into_response(self) -> Response {
        Redirect::to(&self.0).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = RequestContext::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match ctx.user.clone() {
            // A password set by an administrator is changed before anything else.
            Some(user) if user.must_change_password && parts.uri.path() != CHANGE_PASSWORD => {
                Err(Redirect::to(CHANGE_PASSWORD).into_response())
            }
            // Then a second factor, where the role needs one.
            Some(user) if user.must_add_second_factor && !user.must_change_password && parts.uri.path() != ADD_SECOND_FACTOR => {
                Err(Redirect::to(ADD_SECOND_FACTOR).into_response())
            }
            Some(user) => Ok(CurrentUser { user, ctx }),
            None => {
                let mut target = String::from("/login");
                let mut params = form_urlencoded::Serializer::new(String::new());
                if parts.method == axum::http::Method::GET {
                    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
                    if path != "/" {
                        params.append_pair("next", path);
                    }
                }
                if ctx.session_expired {
                    params.append_pair("expired", "1");
                }
                let query = params.finish();
                if !query.is_empty() {
                    target.push('?');
                    target.push_str(&query);
                }
                Err(SignInRequired(target).into_response())
            }
        }
    }
}

/// Only same-site relative paths may be the target after sign-in; anything
/// else (`//evil`, `https://…`, `/\evil`, and look-alikes with tabs or other
/// characters browsers strip) goes to the start page.
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n[1..].starts_with(['/', '\\'])
                && n.len() <= 2000
                // Printable ASCII only (paths arrive percent-encoded), so also a valid Location header.
                && n.bytes().all(|b| b.is_ascii_graphic() && b != b'\\') =>
        {
            n
        }
        _ => "/",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        // Browsers drop tabs and newlines when parsing a URL: "/\t/evil" would become "//evil".
        assert_eq!(safe_next(Some("/\t/evil.example")), "/");
        assert_eq!(safe_next(Some("/\n/evil.example")), "/");
        assert_eq!(safe_next(Some("/\u{1}")), "/");
        assert_eq!(safe_next(Some("/a\\b")), "/");
        assert_eq!(safe_next(Some("/å")), "/");
        assert_eq!(safe_next(Some("/admin/users?x=1")), "/admin/users?x=1");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn roles_round_trip_their_codes() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
