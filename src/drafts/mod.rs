//! Drafts (on screen *ej sparad text*): what a user typed into a form and has
//! not saved yet, kept on the server so that nothing typed is lost.
//!
//! - While the user types, `static/app.js` posts the form to `/drafts` every
//!   few seconds and when the page is left.
//! - Without JavaScript, a form that arrives after the session ended, or with
//!   a stale token, is kept as its author's draft when the token proves who
//!   wrote it (`keep::layer`); after signing in the author lands on the form.
//! - A page that shows a form with a draft shows the form filled in from it
//!   (`restore`), with a way to throw the text away.
//! - A form saved (answered by a redirect) takes its draft with it; drafts
//!   also expire after `LOTSEN_DRAFT_DAYS`.
//!
//! A draft belongs to its author and to the form's record (the form's action
//! names both), never to a session; only the author ever sees it.

pub mod keep;
pub mod restore;
pub mod store;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::ids::{DraftId, GroupActivityId, ParticipantId, PlanId};
use crate::state::AppState;
use crate::web::form::FormData;
use crate::web::routes::{Routes, post};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub fn routes() -> Routes {
    Routes::new()
        .route("/drafts", post(save))
        .route("/drafts/{id}/discard", post(discard))
}

/// Whose record a form belongs to, named by the `{id}` in its action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A form for a new record that belongs to no one yet.
    None,
    Participant,
    Plan,
    GroupActivity,
}

/// A form whose text is kept as a draft. `{id}` names the record, `{n}` a
/// record under it (a journal note); both stand for a positive number.
#[derive(Debug, PartialEq)]
pub struct DraftForm {
    /// Where the form posts.
    pub action: &'static str,
    /// The page that shows the form, where the draft is put back.
    pub page: &'static str,
    /// What the draft is called on *Att göra*.
    pub label: &'static str,
    pub record: RecordKind,
}

/// The forms where people write: every form with free text, and the forms
/// that make or change a record. Each has `data-draft` in its template
/// (a test checks the two agree).
pub const FORMS: &[DraftForm] = &[
    DraftForm {
        action: "/participants",
        page: "/participants/new",
        label: "Ny deltagare",
        record: RecordKind::None,
    },
    DraftForm {
        action: "/participants/{id}/edit",
        page: "/participants/{id}/edit",
        label: "Ändring i personakten",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/journal",
        page: "/participants/{id}",
        label: "Journalanteckning",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/journal/{n}/correct",
        page: "/participants/{id}",
        label: "Rättelse av journalanteckning",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/journal/{n}/dispute",
        page: "/participants/{id}",
        label: "Invändning mot journalanteckning",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/relatives",
        page: "/participants/{id}",
        label: "Närstående",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/relatives/{n}",
        page: "/participants/{id}/relatives/{n}",
        label: "Ändring av närstående",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/consents",
        page: "/participants/{id}",
        label: "Samtycke",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/home-support",
        page: "/participants/{id}",
        label: "Boendestöd",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/status",
        page: "/participants/{id}",
        label: "Avslut av personakten",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/participants/{id}/joint-plan",
        page: "/participants/{id}/joint-plan/edit",
        label: "Samordnad plan",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/intakes",
        page: "/intakes",
        label: "Ny intresseanmälan",
        record: RecordKind::None,
    },
    DraftForm {
        action: "/participants/{id}/plans",
        page: "/participants/{id}/plans/new",
        label: "Ny plan",
        record: RecordKind::Participant,
    },
    DraftForm {
        action: "/plans/{id}/edit",
        page: "/plans/{id}/edit",
        label: "Ändring i plan",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/goals",
        page: "/plans/{id}",
        label: "Mål",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/activities",
        page: "/plans/{id}",
        label: "Planaktivitet",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/assessments",
        page: "/plans/{id}",
        label: "Bedömning av arbetsförmåga",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/renew",
        page: "/plans/{id}",
        label: "Förnyelse",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/end",
        page: "/plans/{id}",
        label: "Avslut av plan",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/follow-ups/new",
        page: "/plans/{id}/follow-ups/new",
        label: "Uppföljning",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/follow-ups/{n}/complete",
        page: "/plans/{id}",
        label: "Komplettering av uppföljning",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/plans/{id}/renewal/complete",
        page: "/plans/{id}",
        label: "Komplettering av förnyelse",
        record: RecordKind::Plan,
    },
    DraftForm {
        action: "/activities",
        page: "/activities",
        label: "Ny gruppaktivitet",
        record: RecordKind::None,
    },
    DraftForm {
        action: "/activities/{id}/edit",
        page: "/activities/{id}/edit",
        label: "Ändring av gruppaktivitet",
        record: RecordKind::GroupActivity,
    },
];

/// A form action matched against `FORMS`: the form, its page, and the id of
/// the record it belongs to.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub form: &'static DraftForm,
    pub action: String,
    pub page: String,
    pub record: Option<i64>,
}

impl Target {
    /// The form whose action is `action`, if its text is kept as a draft.
    pub fn of(action: &str) -> Option<Target> {
        let sent: Vec<&str> = action.split('/').collect();
        FORMS.iter().find_map(|form| {
            let pattern: Vec<&str> = form.action.split('/').collect();
            if pattern.len() != sent.len() {
                return None;
            }
            let mut ids: Vec<(&str, &str)> = Vec::new();
            for (want, got) in pattern.iter().zip(&sent) {
                if want.starts_with('{') {
                    let is_id = !got.is_empty() && got.len() <= 18 && got.bytes().all(|b| b.is_ascii_digit()) && !got.starts_with('0');
                    if !is_id {
                        return None;
                    }
                    ids.push((want, got));
                } else if want != got {
                    return None;
                }
            }
            let mut page = form.page.to_string();
            for (param, value) in &ids {
                page = page.replace(param, value);
            }
            let record = ids.iter().find(|(param, _)| *param == "{id}").and_then(|(_, v)| v.parse().ok());
            Some(Target {
                form,
                action: action.to_string(),
                page,
                record,
            })
        })
    }

    /// The record's owner, for the access check: `None` for a new record.
    pub async fn owner(&self, db: &sqlx::PgPool) -> Result<Option<crate::access::Owner>, AppError> {
        use crate::access::Guarded;
        let Some(id) = self.record else { return Ok(None) };
        let owner = match self.form.record {
            RecordKind::None => None,
            RecordKind::Participant => ParticipantId(id).owner(db).await?,
            RecordKind::Plan => PlanId(id).owner(db).await?,
            RecordKind::GroupActivity => GroupActivityId(id).owner(db).await?,
        };
        owner.map(Some).ok_or(AppError::NotFound)
    }
}

/// The field that tells `/drafts` which form the text belongs to.
pub const ACTION_FIELD: &str = "_draft_action";

/// Saves the text of a form while it is being written (from `app.js`).
async fn save(State(state): State<AppState>, current: CurrentUser, body: Bytes) -> AppResult<Response> {
    let fields = crate::web::form::pairs(&body);
    let target = fields
        .iter()
        .find(|(name, _)| name == ACTION_FIELD)
        .and_then(|(_, action)| Target::of(action))
        .ok_or(AppError::BadRequest("not a form with drafts"))?;
    // The same rule as the form itself: only records the user may reach.
    let owner = target.owner(&state.db).await?;
    if let Some(owner) = &owner {
        crate::access::admit(&state, &current.user, owner).await?;
    }
    store::keep(&state.db, current.user.id, &target, owner, &fields, state.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct DiscardForm {
    /// `todo` when thrown away from *Att göra*: go back there.
    from: String,
}

/// Throws a draft away; the form shows what is saved again.
async fn discard(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<DraftId>,
    FormData(form): FormData<DiscardForm>,
) -> AppResult<Response> {
    // Another user's draft is refused like one that does not exist.
    let page = store::discard(&state.db, current.user.id, id).await?.ok_or(AppError::Forbidden)?;
    let back = if form.from == "todo" { "/todo".to_string() } else { page };
    current.flash("Den ej sparade texten är borttagen.");
    Ok(Redirect::to(&back).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_match_their_form_and_name_the_record() {
        let t = Target::of("/participants/12/journal").unwrap();
        assert_eq!(t.form.label, "Journalanteckning");
        assert_eq!(t.page, "/participants/12");
        assert_eq!(t.record, Some(12));
        let t = Target::of("/participants/12/journal/7/correct").unwrap();
        assert_eq!((t.page.as_str(), t.record), ("/participants/12", Some(12)));
        let t = Target::of("/plans/3/follow-ups/new").unwrap();
        assert_eq!(t.page, "/plans/3/follow-ups/new");
        let t = Target::of("/participants").unwrap();
        assert_eq!((t.page.as_str(), t.record), ("/participants/new", None));
    }

    #[test]
    fn anything_else_is_no_draft_form() {
        for action in [
            "/participants/abc/journal",
            "/participants/012/journal",
            "/participants//journal",
            "/participants/12/journal/",
            "/participants/12/journal?x=1",
            "/visits",
            "/login",
            "/drafts",
            "/participants/99999999999999999999/journal",
        ] {
            assert!(Target::of(action).is_none(), "{action}");
        }
    }

    /// Every form in the templates marked `data-draft` is one of `FORMS`, and
    /// every one of `FORMS` is marked in some template.
    #[test]
    fn the_templates_mark_exactly_these_forms() {
        let mut marked = Vec::new();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(path) = stack.pop() {
            if path.is_dir() {
                stack.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for form in text.split("<form").skip(1) {
                let tag = &form[..form.find('>').unwrap()];
                if tag.contains("data-draft") {
                    marked.push((path.display().to_string(), tag.to_string()));
                }
            }
        }
        // Template syntax stands for the ids: `{{ r.id }}` → 1.
        let filled = |tag: &str| -> String {
            let mut out = String::new();
            let mut rest = tag;
            while let Some(open) = rest.find("{{") {
                out.push_str(&rest[..open]);
                out.push('1');
                rest = &rest[open + rest[open..].find("}}").unwrap() + 2..];
            }
            out + rest
        };
        let mut seen = std::collections::HashSet::new();
        for (file, tag) in &marked {
            let tag = filled(tag);
            let action = tag.split("action=\"").nth(1).and_then(|a| a.split('"').next()).unwrap_or("");
            // `{% if … %}/participants/1/edit{% else %}/participants{% endif %}`: both branches.
            let branches: Vec<&str> = action
                .split("{%")
                .flat_map(|b| b.split("%}"))
                .filter(|b| b.starts_with('/'))
                .collect();
            let branches = if branches.is_empty() { vec![action] } else { branches };
            for branch in branches {
                let target = Target::of(branch).unwrap_or_else(|| panic!("{file}: {branch} is marked data-draft but not in drafts::FORMS"));
                seen.insert(target.form.action);
            }
        }
        for form in FORMS {
            assert!(
                seen.contains(form.action),
                "{} is in drafts::FORMS but no template marks it data-draft",
                form.action
            );
        }
    }
}
