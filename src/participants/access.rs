//! Who may see a participant, and the access log (åtkomstlogg) of every read.
//! Everyone — staff, managers, admins — sees only the participants of the
//! units they belong to; an attempt outside them is refused and logged.

use crate::error::{AppError, AppResult};
use crate::web::context::SessionUser;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    View,
    Search,
    Print,
    Denied,
}

impl Action {
    pub fn code(self) -> &'static str {
        match self {
            Action::View => "view",
            Action::Search => "search",
            Action::Print => "print",
            Action::Denied => "denied",
        }
    }

    pub fn label_of(code: &str) -> &'static str {
        match code {
            "view" => "Öppnade personakten",
            "search" => "Träff i sökning",
            "print" => "Skrev ut personakten",
            "denied" => "Nekad åtkomst",
            _ => "Okänd",
        }
    }
}

/// Lets `user` reach participant `id`, returning its unit; a participant of
/// another unit is refused with 403 and the attempt is logged.
pub async fn authorize(db: &PgPool, user: &SessionUser, participant_id: i64, now: DateTime<Utc>) -> AppResult<i64> {
    let row = sqlx::query!(
        r#"SELECT p.unit_id,
                  EXISTS (SELECT 1 FROM unit_memberships m JOIN units u ON u.id = m.unit_id
                          WHERE m.user_id = $2 AND m.unit_id = p.unit_id AND u.active) AS "member!"
           FROM participants p WHERE p.id = $1"#,
        participant_id,
        user.id
    )
    .fetch_optional(db)
    .await?
    .ok_or(AppError::NotFound)?;
    if !row.member {
        tracing::warn!(
            user_id = user.id,
            participant_id,
            "refused access to a participant outside the user's units"
        );
        log(db, user, &[participant_id], Action::Denied, now).await?;
        return Err(AppError::Forbidden);
    }
    Ok(row.unit_id)
}

/// Writes one access-log row per participant, in one statement.
pub async fn log(db: &PgPool, user: &SessionUser, participant_ids: &[i64], action: Action, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    if participant_ids.is_empty() {
        return Ok(());
    }
    sqlx::query!(
        "INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action)
         SELECT $1, $2, $3, p.unit_id, p.id, $5 FROM participants p WHERE p.id = ANY($4)",
        now,
        user.id,
        user.role.code(),
        participant_ids,
        action.code()
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A row of the unit-wide access log (loggkontroll).
pub struct LogRow {
    pub occurred_at: DateTime<Utc>,
    pub user_name: String,
    pub user_role: String,
    pub unit_name: String,
    pub participant_id: Option<i64>,
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
    layout: crate::web::context::Layout,
    rows: Vec<LogRow>,
    filter: LogFilter,
    staff: Vec<super::queries::StaffChoice>,
    errors: crate::web::form::FieldErrors,
    limit: i64,
}

const LOG_LIMIT: i64 = 500;

/// Managers review who opened which personakt in their units.
pub async fn page(
    axum::extract::State(state): axum::extract::State<crate::state::AppState>,
    current: crate::auth::CurrentUser,
    axum::extract::Query(filter): axum::extract::Query<LogFilter>,
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
                      a.participant_id, p.first_name || ' ' || p.last_name AS participant_name, a.action
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
            &units,
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
    let staff = super::queries::staff_of_units(&state.db, &units).await?;
    let page = LogPage {
        layout: crate::web::context::Layout::new(&current.ctx, "access_log"),
        rows,
        filter,
        staff,
        errors,
        limit: LOG_LIMIT,
    };
    Ok(axum::response::Html(askama::Template::render(&page)?).into_response())
}
