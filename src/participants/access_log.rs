//! The access log page: managers see who opened which personakt in their
//! units. It pages through any number of rows, newest first, a page at a time
//! (keyset paging: the next page starts after the last row shown). Filters:
//! the person (by name or number, as the participants' search reads them),
//! the user, the reason and the dates. The filters are kept for the session
//! (`web::searches`), so the page's URL holds no name or number.

use crate::access::Action;
use crate::access::reason::Reason;
use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, AppResult};
use crate::ids::{ParticipantId, UserId};
use crate::state::AppState;
use crate::web::form::{FieldErrors, FormData, Query, optional_date};
use crate::web::routes::{Routes, get, post};
use crate::web::searches;
use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// Rows on a page of the access log.
pub const PAGE_SIZE: i64 = 100;
/// How many people a person filter may stand for (a common name).
const PEOPLE_LIMIT: i64 = 200;
/// The reason filter's choice for every read outside the reader's caseload.
pub const OUTSIDE: &str = "outside";

pub fn routes() -> Routes {
    Routes::new()
        .route("/access-log", get(page))
        .route("/access-log/search", post(search))
}

/// A row of the access log.
pub struct LogRow {
    pub id: i64,
    pub occurred_at: DateTime<Utc>,
    pub user_name: String,
    pub user_role: String,
    pub unit_name: String,
    pub participant_id: Option<ParticipantId>,
    pub participant_name: Option<String>,
    pub action: String,
    pub in_caseload: Option<bool>,
    pub reason: Option<Reason>,
    pub reason_note: Option<String>,
}

impl LogRow {
    pub fn when(&self) -> String {
        crate::web::format::local_time(self.occurred_at)
    }
    pub fn action_label(&self) -> &'static str {
        Action::label_of(&self.action)
    }
    pub fn role_label(&self) -> &'static str {
        Role::parse(&self.user_role).map(Role::label).unwrap_or("")
    }
    /// Skäl för åtkomst as the page shows it.
    pub fn reason_text(&self) -> String {
        match (&self.reason, self.in_caseload) {
            (Some(reason), _) => match self.reason_note.as_deref() {
                Some(note) => format!("{}: {note}", reason.label()),
                None => reason.label().to_string(),
            },
            (None, Some(true)) => "Egen ärendelista".into(),
            _ => String::new(),
        }
    }
}

/// The filters, as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct LogFilter {
    pub user: String,
    /// A name or a number (personnummer, samordningsnummer, reservnummer).
    pub person: String,
    pub reason: String,
    pub from: String,
    pub to: String,
}

impl LogFilter {
    fn terms(&self) -> [(&'static str, &str); 5] {
        [
            ("user", &self.user),
            ("person", &self.person),
            ("reason", &self.reason),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    fn from_terms(terms: &[(String, String)]) -> LogFilter {
        LogFilter {
            user: searches::term(terms, "user").into(),
            person: searches::term(terms, "person").into(),
            reason: searches::term(terms, "reason").into(),
            from: searches::term(terms, "from").into(),
            to: searches::term(terms, "to").into(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PageQuery {
    /// The kept filters' id.
    search: String,
    /// The id of the last row of the page before: this page starts after it.
    before: String,
    /// One person's reads, from the link on their personakt.
    participant: String,
}

#[derive(Template)]
#[template(path = "participants/access_log.html")]
struct LogPage {
    layout: Layout,
    rows: Vec<LogRow>,
    filter: LogFilter,
    staff: Vec<crate::users::queries::StaffChoice>,
    reasons: &'static [Reason],
    errors: FieldErrors,
    /// The kept filters' id, for the paging links.
    search: String,
    /// One person's reads (the link from the personakt).
    participant: Option<ParticipantId>,
    /// The next page starts after this row, when there is one.
    older: Option<i64>,
    /// Not the first page.
    paged: bool,
}

impl LogPage {
    /// This view of the log, starting after row `before` when given.
    fn link(&self, before: Option<&i64>) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        if !self.search.is_empty() {
            query.append_pair("search", &self.search);
        }
        if let Some(id) = self.participant {
            query.append_pair("participant", &id.to_string());
        }
        if let Some(before) = before {
            query.append_pair("before", &before.to_string());
        }
        let query = query.finish();
        if query.is_empty() {
            "/access-log".into()
        } else {
            format!("/access-log?{query}")
        }
    }
    fn older_link(&self, before: &i64) -> String {
        self.link(Some(before))
    }
    fn newest_link(&self) -> String {
        self.link(None)
    }
}

/// One page of the log for the filters; the messages for bad filters in `errors`.
async fn rows(
    state: &AppState,
    current: &CurrentUser,
    filter: &LogFilter,
    participant: Option<ParticipantId>,
    before: Option<i64>,
    errors: &mut FieldErrors,
) -> AppResult<(Vec<LogRow>, Option<i64>)> {
    let from = optional_date(&filter.from).map_err(|m| errors.add("from", m)).ok().flatten();
    let to = optional_date(&filter.to).map_err(|m| errors.add("to", m)).ok().flatten();
    let user = filter.user.parse::<UserId>().ok();
    let reason = match filter.reason.as_str() {
        "" => None,
        OUTSIDE => Some(OUTSIDE.to_string()),
        code => match Reason::parse(code) {
            Some(reason) => Some(reason.code().to_string()),
            None => {
                errors.add("reason", "Välj ett skäl i listan.");
                None
            }
        },
    };
    let units = current.user.unit_ids.clone();
    let people = if let Some(id) = participant {
        Some(vec![id])
    } else if filter.person.trim().is_empty() {
        None
    } else {
        match super::matching_people(&state.db, &filter.person, units.clone(), PEOPLE_LIMIT + 1).await? {
            // Never a silent part of the answer: too many people is said.
            Ok(ids) if ids.len() as i64 > PEOPLE_LIMIT => {
                errors.add("person", "Fler än 200 personer passar in: skriv mer av namnet, eller numret.");
                None
            }
            Ok(ids) => Some(ids),
            Err(message) => {
                errors.add("person", message);
                None
            }
        }
    };
    if !errors.is_empty() {
        return Ok((Vec::new(), None));
    }
    let mut rows = sqlx::query_as!(
        LogRow,
        r#"SELECT a.id, a.occurred_at, u.name AS user_name, a.user_role, coalesce(un.name, '') AS "unit_name!",
                  a.participant_id AS "participant_id: ParticipantId", p.first_name || ' ' || p.last_name AS participant_name,
                  a.action, a.in_caseload, a.reason AS "reason: Reason", a.reason_note
           FROM access_log a
           JOIN users u ON u.id = a.user_id
           LEFT JOIN units un ON un.id = a.unit_id
           LEFT JOIN participants p ON p.id = a.participant_id
           WHERE a.unit_id = ANY($1)
             AND ($2::bigint IS NULL OR a.user_id = $2)
             AND ($3::bigint[] IS NULL OR a.participant_id = ANY($3))
             AND ($4::timestamptz IS NULL OR a.occurred_at >= $4)
             AND ($5::timestamptz IS NULL OR a.occurred_at < $5)
             AND ($6::text IS NULL OR ($6 = 'outside' AND a.in_caseload = false) OR a.reason = $6)
             AND ($7::bigint IS NULL OR (a.occurred_at, a.id) < (SELECT b.occurred_at, b.id FROM access_log b WHERE b.id = $7))
           ORDER BY a.occurred_at DESC, a.id DESC
           LIMIT $8"#,
        &units as _,
        user as _,
        people as Option<Vec<ParticipantId>>,
        from.map(crate::clock::start_of_day),
        to.and_then(|d| d.succ_opt()).map(crate::clock::start_of_day),
        reason,
        before,
        PAGE_SIZE + 1
    )
    .fetch_all(&state.db)
    .await?;
    let older = (rows.len() as i64 > PAGE_SIZE).then(|| {
        rows.truncate(PAGE_SIZE as usize);
        rows.last().map(|r| r.id)
    });
    Ok((rows, older.flatten()))
}

async fn page(State(state): State<AppState>, mut current: CurrentUser, Query(query): Query<PageQuery>) -> AppResult<Response> {
    current.require(&[Role::Manager])?;
    let mut filter = LogFilter::default();
    let mut search = String::new();
    if let (false, Some(session)) = (query.search.is_empty(), current.ctx.session_token_hash) {
        match searches::terms(&state.db, &session, searches::Kind::AccessLog, &query.search).await? {
            Some(terms) => {
                filter = LogFilter::from_terms(&terms);
                search = query.search.clone();
            }
            None => current.ctx.flash = Some("Urvalet finns inte längre (det hörde till en tidigare inloggning). Välj igen.".into()),
        }
    }
    let before = query.before.parse::<i64>().ok();
    let participant = query.participant.parse::<ParticipantId>().ok();
    let mut errors = FieldErrors::default();
    let (rows, older) = rows(&state, &current, &filter, participant, before, &mut errors).await?;
    let staff = crate::users::queries::staff_of_units(&state.db, &current.user.unit_ids).await?;
    let refused = !errors.is_empty();
    let page = LogPage {
        layout: Layout::new(&current.ctx, "access_log"),
        rows,
        filter,
        staff,
        reasons: Reason::ALL,
        errors,
        search,
        participant,
        older,
        paged: before.is_some(),
    };
    crate::web::page(&page, refused)
}

/// The filters are kept for the session and answered by a redirect to the
/// first page: the URL holds no name or number.
async fn search(State(state): State<AppState>, current: CurrentUser, FormData(filter): FormData<LogFilter>) -> AppResult<Response> {
    current.require(&[Role::Manager])?;
    let Some(session) = current.ctx.session_token_hash else {
        return Err(AppError::Forbidden);
    };
    let id = searches::keep(&state.db, &session, searches::Kind::AccessLog, &filter.terms(), state.clock.now()).await?;
    Ok(Redirect::to(&format!("/access-log?search={id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(reason: Option<Reason>, note: Option<&str>, in_caseload: Option<bool>) -> LogRow {
        LogRow {
            id: 1,
            occurred_at: Utc::now(),
            user_name: String::new(),
            user_role: "staff".into(),
            unit_name: String::new(),
            participant_id: None,
            participant_name: None,
            action: "view".into(),
            in_caseload,
            reason,
            reason_note: note.map(str::to_string),
        }
    }

    #[test]
    fn the_reason_reads_as_given() {
        assert_eq!(row(Some(Reason::Urgent), None, Some(false)).reason_text(), "Akut situation");
        assert_eq!(
            row(Some(Reason::Other), Some("Överlämning"), Some(false)).reason_text(),
            "Annat skäl: Överlämning"
        );
        assert_eq!(row(None, None, Some(true)).reason_text(), "Egen ärendelista");
        assert_eq!(row(None, None, None).reason_text(), "");
    }
}
