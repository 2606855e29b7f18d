//! Every saved version of a personakt's own fields can be read again: the
//! list of versions with what each changed, and one version as it was, with
//! who saved it and when. Opening either is a read of the personakt, written
//! to the access log by `Authorized`.

use super::form::{Change, changes, described};
use super::queries::{self, Version};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::error::{AppError, AppResult};
use crate::ids::ParticipantId;
use crate::state::AppState;
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

pub fn routes() -> Routes {
    Routes::new()
        .route("/participants/{id}/versions", get(list))
        .route("/participants/{id}/versions/{version}", get(show))
}

/// A version with what it changed against the one before it.
pub struct VersionEntry {
    pub version: Version,
    pub changed: Vec<Change>,
}

impl VersionEntry {
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.version.changed_at)
    }
}

/// The versions as the viewer may see them: a protected person's address and
/// contact details only for those named on them.
async fn visible_versions(state: &AppState, auth: &Authorized<ParticipantId>) -> AppResult<Vec<Version>> {
    let mut versions = queries::versions(&state.db, auth.id).await?;
    if queries::contact_hidden(&state.db, auth.id, auth.current.user.id).await? {
        for version in &mut versions {
            version.fields.hide_contact();
        }
    }
    Ok(versions)
}

fn entries(versions: Vec<Version>) -> Vec<VersionEntry> {
    let mut out: Vec<VersionEntry> = Vec::with_capacity(versions.len());
    for version in versions {
        let changed = match out.last() {
            Some(before) => changes(&before.version.fields, &version.fields),
            None => Vec::new(),
        };
        out.push(VersionEntry { version, changed });
    }
    out
}

#[derive(Template)]
#[template(path = "participants/versions.html")]
struct ListPage {
    layout: Layout,
    id: ParticipantId,
    name: String,
    entries: Vec<VersionEntry>,
}

async fn list(State(state): State<AppState>, auth: Authorized<ParticipantId>) -> AppResult<Response> {
    let mut entries = entries(visible_versions(&state, &auth).await?);
    let name = entries
        .last()
        .map(|e| format!("{} {}", e.version.fields.first_name, e.version.fields.last_name))
        .ok_or(AppError::NotFound)?;
    entries.reverse();
    let page = ListPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        id: auth.id,
        name,
        entries,
    };
    crate::web::page(&page, false)
}

#[derive(Template)]
#[template(path = "participants/version.html")]
struct VersionPage {
    layout: Layout,
    id: ParticipantId,
    entry: VersionEntry,
    fields: Vec<(&'static str, String)>,
    latest: i32,
}

async fn show(
    State(state): State<AppState>,
    auth: Authorized<ParticipantId>,
    Path((_, number)): Path<(ParticipantId, i32)>,
) -> AppResult<Response> {
    let all = entries(visible_versions(&state, &auth).await?);
    let latest = all.last().map(|e| e.version.version).unwrap_or(0);
    let entry = all.into_iter().find(|e| e.version.version == number).ok_or(AppError::NotFound)?;
    let page = VersionPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        id: auth.id,
        fields: described(&entry.version.fields),
        entry,
        latest,
    };
    crate::web::page(&page, false)
}
