//! What the session middleware learns about a request, handed to handlers
//! through request extensions, and the `Layout` every page template gets.

use crate::auth::Role;
use crate::error::AppError;
use crate::ids::{UnitId, UserId};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The signed-in user, as loaded with the session.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub job_title: String,
    pub role: Role,
    /// The active units the user belongs to: whose participants they may see.
    pub unit_ids: Vec<UnitId>,
    /// The password was set by an administrator: the user must choose their
    /// own before any page opens (`CurrentUser`).
    pub must_change_password: bool,
    /// The role needs a second factor and the account has none yet: the
    /// user adds one before any other page opens (`CurrentUser`).
    pub must_add_second_factor: bool,
}

/// Per-request facts set by `web::middleware::session`.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub user: Option<SessionUser>,
    /// The token forms must echo back: the session's, or before sign-in the
    /// pre-session cookie's.
    pub csrf_token: String,
    pub session_token_hash: Option<[u8; 32]>,
    /// The request came with a session that had timed out.
    pub session_expired: bool,
    pub flash: Option<String>,
    pub asset_version: std::sync::Arc<str>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("session middleware did not run")))
    }
}

/// What `base.html` needs: navigation, the CSRF token for the sign-out form,
/// the flash message and the asset version.
pub struct Layout {
    pub user: Option<SessionUser>,
    pub csrf_token: String,
    pub flash: Option<String>,
    pub asset_version: std::sync::Arc<str>,
    /// Which navigation entry is current (`aria-current="page"`).
    pub section: &'static str,
}

impl Layout {
    pub fn new(ctx: &RequestContext, section: &'static str) -> Self {
        Layout {
            user: ctx.user.clone(),
            csrf_token: ctx.csrf_token.clone(),
            flash: ctx.flash.clone(),
            asset_version: ctx.asset_version.clone(),
            section,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Admin)
    }

    pub fn is_manager(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role == Role::Manager)
    }

    /// Managers and admins: the waiting list (kö), the overview, indicators and the yearly report.
    pub fn is_manager_or_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| matches!(u.role, Role::Manager | Role::Admin))
    }

    /// The signed-in user's role, lower case, for running text.
    pub fn role_label(&self) -> String {
        self.user.as_ref().map(|u| u.role.label().to_lowercase()).unwrap_or_default()
    }

    pub fn aria_current(&self, section: &str) -> &'static str {
        if self.section == section { "page" } else { "false" }
    }
}

/// Left on a response by the session middleware for the layers outside it:
/// who was signed in (for keeping and restoring drafts).
#[derive(Clone, Debug)]
pub struct SessionSeen {
    pub user_id: UserId,
    pub token_hash: [u8; 32],
    pub csrf_token: String,
    /// Whether the user has any draft at all (most have none: no lookup then).
    pub has_drafts: bool,
}

/// Left on a response when a form was refused because its session had ended
/// or its token was not the session's.
#[derive(Clone, Copy, Debug)]
pub struct PostRefused {
    pub session_expired: bool,
}
