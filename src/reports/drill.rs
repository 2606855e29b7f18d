//! Drill-down (issue 16): from a count on the indicators page (or the yearly
//! report) to the people behind it, for the same units, period and gender.
//! The list is computed by the same code as the figure, so its length is
//! the figure; small numbers hidden on the page ("<5") are shown here to
//! the managers allowed to see those people, and opening the list is
//! written to the access log for every person on it.

use super::indicators::{self, Scope};
use super::{READERS, ReportQuery};
use crate::access::{self, Action};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::{AppError, AppResult};
use crate::ids::ParticipantId;
use crate::participants::model::Gender;
use crate::state::AppState;
use crate::web::form::Query;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use serde::Deserialize;

/// The gender of each column of a split table: kvinnor, män, annat, totalt.
pub const COLUMNS: [Option<Gender>; 4] = [Some(Gender::Woman), Some(Gender::Man), Some(Gender::OtherOrUnstated), None];

/// The list's address for a count's cell: `query` is the page's unit and
/// period, `column` the cell's place in the row.
pub fn href(unit: &str, from: NaiveDate, to: NaiveDate, key: &str, column: usize) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("unit", if unit.is_empty() { "all" } else { unit });
    q.append_pair("from", &from.to_string());
    q.append_pair("to", &to.to_string());
    q.append_pair("key", key);
    if let Some(Some(g)) = COLUMNS.get(column) {
        q.append_pair("gender", g.code());
    }
    format!("/indicators/people?{}", q.finish())
}

/// The address of the people behind a cell of a report's table, for a
/// count that is not nothing (`None` for any other cell).
pub fn cell_href(row: &super::TableRow, column: usize, unit: &str, from: NaiveDate, to: NaiveDate) -> Option<String> {
    use super::indicators::CellValue;
    let something = row
        .cells
        .get(column)
        .is_some_and(|c| *c != CellValue::Number(0.0) && *c != CellValue::Text("–".into()));
    (row.drill && something).then(|| href(unit, from, to, &row.key, column))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DrillQuery {
    #[serde(flatten)]
    report: ReportQuery,
    key: String,
    gender: String,
}

pub struct Listed {
    pub id: ParticipantId,
    pub name: String,
    pub unit: String,
    /// The last column: the gender counted as, or the date that is due.
    pub detail: String,
}

#[derive(Template)]
#[template(path = "reports/people.html")]
struct PeoplePage {
    layout: Layout,
    label: String,
    /// Whose and when, in words.
    scope: String,
    back: (String, &'static str),
    detail_header: &'static str,
    people: Vec<Listed>,
}

pub async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<DrillQuery>) -> AppResult<Response> {
    current.require(READERS)?;
    let units = crate::attendance::chosen_units(&current, &query.report.unit).ok_or(AppError::Forbidden)?;
    let today = state.clock.today();
    let (from, to) = crate::attendance::statistics::date_range(&query.report.from, &query.report.to, indicators::this_year(today))
        .map_err(|_| AppError::BadRequest("bad period"))?;
    let gender = match query.gender.as_str() {
        "" => None,
        code => Some(Gender::parse(code).ok_or(AppError::BadRequest("bad gender"))?),
    };
    let scope = Scope { units, from, to, today };
    let sections = super::computed(&state, &scope).await?;
    let indicator = sections.iter().find_map(|s| s.get(&query.key)).ok_or(AppError::NotFound)?;
    let counted = indicator.counted().ok_or(AppError::NotFound)?;
    let ids: Vec<ParticipantId> = counted
        .members
        .iter()
        .filter(|(_, g)| gender.is_none_or(|wanted| *g == wanted))
        .map(|(id, _)| *id)
        .collect();
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id: ParticipantId", u.name AS unit,
                  -- Skyddade personuppgifter: named only to those named on the person.
                  CASE WHEN p.protected_identity AND NOT in_caseload($2, p.id) THEN 'Skyddad person'
                       ELSE p.first_name || ' ' || p.last_name END AS "name!"
           FROM participants p JOIN units u ON u.id = p.unit_id WHERE p.id = ANY($1)"#,
        &ids as _,
        current.user.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let mut distinct = ids.clone();
    distinct.sort_unstable();
    distinct.dedup();
    access::log(&state.db, &current.user, &distinct, Action::ReportList, state.clock.now()).await?;
    // One row for each one counted (a person with two plans counted twice
    // is listed twice), in name order.
    let genders: std::collections::HashMap<ParticipantId, Gender> = counted.members.iter().copied().collect();
    let found: std::collections::HashMap<ParticipantId, _> = rows.iter().map(|r| (r.id, r)).collect();
    let mut people: Vec<Listed> = ids
        .iter()
        .filter_map(|id| found.get(id))
        .map(|r| Listed {
            id: r.id,
            name: r.name.clone(),
            unit: r.unit.clone(),
            detail: genders.get(&r.id).map_or("", |g| g.label()).to_string(),
        })
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    let mut back = form_urlencoded::Serializer::new(String::new());
    back.append_pair("unit", &query.report.unit);
    back.append_pair("from", &from.to_string());
    back.append_pair("to", &to.to_string());
    let page = PeoplePage {
        layout: Layout::new(&current.ctx, "indicators"),
        label: indicator.label.clone(),
        scope: match gender {
            Some(g) => format!("{}, perioden {from} – {to}", g.label()),
            None => format!("Perioden {from} – {to}"),
        },
        back: (format!("/indicators?{}", back.finish()), "Tillbaka till indikatorerna"),
        detail_header: "Räknad som",
        people,
    };
    Ok(Html(page.render()?).into_response())
}

/// The lists behind the overview's counts: plans running today, and
/// follow-ups and renewals overdue or soon due, by kontaktman.
const OVERVIEW_LISTS: [(&str, &str); 6] = [
    ("first_step", "Personer i förstegsträning"),
    ("team_isa", "Team ISA, platser i bruk"),
    ("follow_ups_overdue", "Uppföljningar försenade"),
    ("follow_ups_soon", "Uppföljningar snart aktuella"),
    ("renewals_overdue", "Förnyelser försenade"),
    ("renewals_soon", "Förnyelser snart aktuella"),
];

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct OverviewQuery {
    unit: String,
    key: String,
    /// A kontaktman's user id, or 0 for plans without one; empty: everyone's.
    key_worker: String,
}

/// The address of an overview count's list.
pub fn overview_href(unit: &str, key: &str, key_worker: Option<i64>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("unit", if unit.is_empty() { "all" } else { unit });
    q.append_pair("key", key);
    if let Some(k) = key_worker {
        q.append_pair("key_worker", &k.to_string());
    }
    format!("/dashboard/people?{}", q.finish())
}

/// The people behind an overview count. The conditions are the overview's
/// own (its count and this list agree: `tests/reports.rs`).
pub async fn overview_page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<OverviewQuery>) -> AppResult<Response> {
    current.require(READERS)?;
    let units = crate::attendance::chosen_units(&current, &query.unit).ok_or(AppError::Forbidden)?;
    let label = OVERVIEW_LISTS
        .iter()
        .find(|(key, _)| *key == query.key)
        .map(|(_, label)| *label)
        .ok_or(AppError::NotFound)?;
    let key_worker = match query.key_worker.as_str() {
        "" => None,
        typed => Some(typed.parse::<i64>().map_err(|_| AppError::BadRequest("bad key worker"))?),
    };
    let today = state.clock.today();
    let rows = sqlx::query!(
        r#"SELECT p.id AS "id: ParticipantId", u.name AS unit,
                  CASE WHEN p.protected_identity AND NOT in_caseload($6, p.id) THEN 'Skyddad person'
                       ELSE p.first_name || ' ' || p.last_name END AS "name!",
                  CASE WHEN $2 LIKE 'renewals%' THEN pl.renewal_due_on WHEN $2 LIKE 'follow_ups%' THEN pl.next_follow_up_on END AS due
           FROM plans pl JOIN participants p ON p.id = pl.participant_id JOIN units u ON u.id = pl.unit_id
           LEFT JOIN key_worker_assignments k ON k.participant_id = pl.participant_id AND k.to_on IS NULL
           WHERE pl.unit_id = ANY($1) AND pl.status = 'active'
             AND CASE $2
                   WHEN 'first_step' THEN pl.programme = 'first_step'
                   WHEN 'team_isa' THEN pl.programme = 'team_isa'
                   WHEN 'follow_ups_overdue' THEN pl.next_follow_up_on < $3
                   WHEN 'follow_ups_soon' THEN pl.next_follow_up_on BETWEEN $3 AND $4
                   WHEN 'renewals_overdue' THEN pl.renewal_due_on < $3
                   WHEN 'renewals_soon' THEN pl.renewal_due_on BETWEEN $3 AND $4
                   ELSE false END
             AND ($5::bigint IS NULL OR coalesce(k.user_id, 0) = $5)
           ORDER BY p.last_name, p.first_name, p.id"#,
        &units as _,
        query.key,
        today,
        today + chrono::Duration::days(crate::domain::plans::DUE_SOON_DAYS),
        key_worker,
        current.user.id as _
    )
    .fetch_all(&state.db)
    .await?;
    let mut ids: Vec<ParticipantId> = rows.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    access::log(&state.db, &current.user, &ids, Action::ReportList, state.clock.now()).await?;
    let page = PeoplePage {
        layout: Layout::new(&current.ctx, "dashboard"),
        label: label.to_string(),
        scope: format!("I dag, {today}"),
        back: (
            format!("/dashboard?unit={}", if query.unit.is_empty() { "all" } else { &query.unit }),
            "Tillbaka till översikten",
        ),
        detail_header: if query.key.starts_with("follow_ups") || query.key.starts_with("renewals") {
            "Datum"
        } else {
            ""
        },
        people: rows
            .into_iter()
            .map(|r| Listed {
                id: r.id,
                name: r.name,
                unit: r.unit,
                detail: r.due.map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
    };
    Ok(Html(page.render()?).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cell_lists_its_own_gender() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let (from, to) = (day("2026-01-01"), day("2026-03-02"));
        assert_eq!(
            href("4", from, to, "employment", 0),
            "/indicators/people?unit=4&from=2026-01-01&to=2026-03-02&key=employment&gender=woman"
        );
        assert_eq!(
            href("", from, to, "employment", 3),
            "/indicators/people?unit=all&from=2026-01-01&to=2026-03-02&key=employment"
        );
    }
}
