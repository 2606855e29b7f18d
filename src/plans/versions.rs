//! Each earlier version of a plan can be read again: the plan as it was,
//! who changed it and when, and what changed against the version before.
//! Opening one is a read of the personakt (`Authorized` logs it).

use super::model::{self, Method, Outcome};
use crate::access::Authorized;
use crate::auth::context::Layout;
use crate::domain::plans::{PlanStatus, Programme};
use crate::error::{AppError, AppResult};
use crate::ids::PlanId;
use crate::state::AppState;
use crate::web::routes::{Routes, get};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use chrono::{DateTime, Utc};

pub fn routes() -> Routes {
    Routes::new().route("/plans/{id}/versions/{version}", get(show))
}

/// A part of the plan in this version and in the one before.
pub struct Part {
    pub label: &'static str,
    pub now: String,
    pub before: Option<String>,
}

impl Part {
    pub fn changed(&self) -> bool {
        self.before.as_ref().is_some_and(|b| *b != self.now)
    }
}

/// A stored value as the page says it: codes as labels, lists as text.
fn shown(key: &str, raw: Option<&str>) -> String {
    let Some(raw) = raw.filter(|r| *r != "null") else {
        return "–".into();
    };
    match key {
        "programme" => Programme::parse(raw).map_or(raw.into(), |p| p.label().into()),
        "status" => PlanStatus::parse(raw).map_or(raw.into(), |s| s.label().into()),
        "outcome" => Outcome::label_of(raw).into(),
        "weekly_hours" => crate::web::format::hours(raw.parse().ok()),
        "weekdays" => raw.parse().map_or(raw.into(), model::weekdays_text),
        // A JSON array of codes, e.g. ["esl", "ips"].
        "methods" => raw
            .trim_matches(['[', ']'])
            .split(',')
            .map(|m| Method::label_of(m.trim().trim_matches('"')))
            .filter(|m| *m != "–")
            .collect::<Vec<_>>()
            .join(", "),
        _ => raw.into(),
    }
}

#[derive(Template)]
#[template(path = "plans/version.html")]
struct VersionPage {
    layout: Layout,
    id: PlanId,
    name: String,
    version: i32,
    latest: i32,
    change: String,
    changed_by: String,
    changed_at: DateTime<Utc>,
    parts: Vec<Part>,
}

impl VersionPage {
    fn when(&self) -> String {
        crate::web::format::local_time(self.changed_at)
    }
}

async fn show(State(state): State<AppState>, auth: Authorized<PlanId>, Path((_, number)): Path<(PlanId, i32)>) -> AppResult<Response> {
    let head = sqlx::query!(
        r#"SELECT v.change, u.name AS changed_by, v.changed_at, p.version AS latest,
                  pa.first_name || ' ' || pa.last_name AS "name!"
           FROM plan_versions v JOIN users u ON u.id = v.changed_by JOIN plans p ON p.id = v.plan_id
           JOIN participants pa ON pa.id = p.participant_id
           WHERE v.plan_id = $1 AND v.version = $2"#,
        auth.id as _,
        number
    )
    .fetch_optional(&state.db)
    .await?
    .ok_or(AppError::NotFound)?;
    // Each part as text, here and in the version before; goals as their descriptions.
    let rows = sqlx::query!(
        r#"WITH v AS (SELECT snapshot FROM plan_versions WHERE plan_id = $1 AND version = $2),
                b AS (SELECT snapshot FROM plan_versions WHERE plan_id = $1 AND version = $2 - 1),
                text_of AS (
                    SELECT 'now' AS which, key, value FROM v, jsonb_each_text(v.snapshot)
                    UNION ALL SELECT 'before', key, value FROM b, jsonb_each_text(b.snapshot))
           SELECT which AS "which!", key AS "key!",
                  CASE WHEN key IN ('goals', 'activities') THEN
                       (SELECT string_agg(g->>'description', '; ' ORDER BY (g->>'id')::bigint)
                        FROM jsonb_array_elements(value::jsonb) g)
                       WHEN key = 'employer_id' THEN
                       (SELECT e.name FROM employers e WHERE e.id = value::bigint)
                  ELSE value END AS value
           FROM text_of"#,
        auth.id as _,
        number
    )
    .fetch_all(&state.db)
    .await?;
    let value_of = |which: &str, key: &str| {
        rows.iter()
            .find(|r| r.which == which && r.key == key)
            .map(|r| r.value.clone().unwrap_or_default())
    };
    let has_before = rows.iter().any(|r| r.which == "before");
    let parts = super::PARTS
        .iter()
        .map(|(key, label)| Part {
            label,
            now: shown(key, value_of("now", key).as_deref()),
            before: has_before.then(|| shown(key, value_of("before", key).as_deref())),
        })
        .collect();
    let page = VersionPage {
        layout: Layout::new(&auth.current.ctx, "participants"),
        id: auth.id,
        name: head.name,
        version: number,
        latest: head.latest,
        change: head.change,
        changed_by: head.changed_by,
        changed_at: head.changed_at,
        parts,
    };
    crate::web::page(&page, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_read_as_the_page_says_them() {
        assert_eq!(shown("programme", Some("team_isa")), "Team ISA");
        assert_eq!(shown("methods", Some(r#"["esl", "ips"]"#)).matches(", ").count(), 1);
        assert_eq!(shown("set_on", None), "–");
        assert_eq!(shown("set_on", Some("null")), "–");
        assert_eq!(shown("summary", Some("Vill arbeta.")), "Vill arbeta.");
    }
}
