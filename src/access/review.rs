//! Loggkontroll: managers review who opened which personakt in their units.

use super::Action;
use crate::error::AppResult;
use crate::ids::ParticipantId;
use chrono::{DateTime, Utc};

/// A row of the unit-wide access log (loggkontroll).
pub struct LogRow {
    pub occurred_at: DateTime<Utc>,
    pub user_name: String,
    pub user_role: String,
    pub unit_name: String,
    pub participant_id: Option<ParticipantId>,
    pub participant_name: Option<String>,
    pub action: String,
}

impl LogRow {
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.occurred_at)
    }
    pub fn action_label(&self) -> &'static str {
        Action::label_of(&self.action)
    }
    pub fn role_label(&self) -> &'static str {
        crate::auth::Role::parse(&self.user_role)
            .map(crate::auth::Role::label)
            .unwrap_or("")
    }
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct LogFilter {
    pub user: String,
    pub participant: String,
    pub from: String,
    pub to: String,
}

#[derive(askama::Template)]
#[template(path = "participants/access_log.html")]
struct LogPage {
    layout: crate::auth::context::Layout,
    rows: Vec<LogRow>,
    filter: LogFilter,
    staff: Vec<crate::users::queries::StaffChoice>,
    errors: crate::web::form::FieldErrors,
    limit: i64,
}

const LOG_LIMIT: i64 = 500;

/// Managers review who opened which personakt in their units.
pub async fn page(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    current: crate::auth::CurrentUser,
    crate::web::form::Query(filter): crate::web::form::Query<LogFilter>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    current.require(&[crate::auth::Role::Manager])?;
    let mut errors = crate::web::form::FieldErrors::default();
    let from = crate::web::form::optional_date(&filter.from)
        .map_err(|m| errors.add("from", m))
        .ok()
        .flatten();
    let to = crate::web::form::optional_date(&filter.to)
        .map_err(|m| errors.add("to", m))
        .ok()
        .flatten();
    let user = filter.user.parse::<i64>().ok();
    let participant = filter.participant.trim().parse::<i64>().ok();
    if !filter.participant.trim().is_empty() && participant.is_none() {
        errors.add("participant", "Ange deltagarens löpnummer (siffror).");
    }
    let units = current.user.unit_ids.clone();
    let tz = chrono_tz::Europe::Stockholm;
    let start = from
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc));
    let end = to
        .and_then(|d| d.succ_opt())
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(tz).earliest())
        .map(|t| t.with_timezone(&Utc));
    let rows = if errors.is_empty() {
        sqlx::query_as!(
            LogRow,
            r#"SELECT a.occurred_at, u.name AS user_name, a.user_role, coalesce(un.name, '') AS "unit_name!",
                      a.participant_id AS "participant_id: ParticipantId", p.first_name || ' ' || p.last_name AS participant_name, a.action
               FROM access_log a
               JOIN users u ON u.id = a.user_id
               LEFT JOIN units un ON un.id = a.unit_id
               LEFT JOIN participants p ON p.id = a.participant_id
               WHERE a.unit_id = ANY($1)
                 AND ($2::bigint IS NULL OR a.user_id = $2)
                 AND ($3::bigint IS NULL OR a.participant_id = $3)
                 AND ($4::timestamptz IS NULL OR a.occurred_at >= $4)
                 AND ($5::timestamptz IS NULL OR a.occurred_at < $5)
               ORDER BY a.occurred_at DESC, a.id DESC
               LIMIT $6"#,
            &units as _,
            user,
            participant,
            start,
            end,
            LOG_LIMIT
        )
        .fetch_all(&state.db)
        .await?
    } else {
        Vec::new()
    };
    let staff = crate::users::queries::staff_of_units(&state.db, &units).await?;
    let page = LogPage {
        layout: crate::auth::context::Layout::new(&current.ctx, "access_log"),
        rows,
        filter,
        staff,
        errors,
        limit: LOG_LIMIT,
    };
    Ok(axum::response::Html(askama::Template::render(&page)?).into_response())
}
