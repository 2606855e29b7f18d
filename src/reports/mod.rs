//! Reports for managers (issue 7): the overview (`dashboard`), the
//! indicators for a period (`indicators`, with `suppression` of small
//! numbers) and the yearly report (`annual`) with its CSV and Excel exports.
//! Every figure lands in a `Table`; the page, the CSV and the workbook are
//! written from the same tables, so they cannot disagree.

pub mod annual;
pub mod cache;
pub mod dashboard;
pub mod drill;
pub mod frozen;
pub mod history;
pub mod indicators;
pub mod ips;
pub mod suppression;

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::form::Query;
use crate::web::routes::Routes;
use crate::web::routes::{get, post};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use indicators::{CellValue, Scope, Section};
use serde::Deserialize;

/// Who reaches these pages: managers and admins.
pub const READERS: &[Role] = &[Role::Manager, Role::Admin];

pub use crate::web::format::MONTHS;

pub fn routes() -> Routes {
    Routes::new()
        .route("/dashboard", get(dashboard::page))
        .route("/dashboard/people", get(drill::overview_page))
        .route("/indicators", get(indicators_page))
        .route("/indicators/people", get(drill::page))
        .route("/ips", get(ips::page))
        .route("/annual-report", get(annual::page))
        .route("/annual-report/freeze", post(frozen::post))
        .route("/annual-report.csv", get(annual::csv_export))
        .route("/annual-report.xlsx", get(annual::xlsx_export))
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReportQuery {
    pub unit: String,
    pub from: String,
    pub to: String,
    pub year: String,
    pub month: String,
}

/// A table of a report, as the page, the CSV and the workbook show it, and
/// as a frozen period stores it (`frozen`).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Table {
    pub title: String,
    /// The first column's heading, then the others'.
    pub header: Vec<String>,
    pub rows: Vec<TableRow>,
    /// Så räknas det: a row's label and how it is counted.
    pub notes: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableRow {
    /// What the row is, whatever its label says (an indicator's key, a month).
    pub key: String,
    pub label: String,
    pub cells: Vec<CellValue>,
    /// A count of people whose list can be opened (drill-down); never stored.
    #[serde(skip)]
    pub drill: bool,
}

impl TableRow {
    /// A row known by its label.
    pub fn new(label: impl Into<String>, cells: Vec<CellValue>) -> TableRow {
        let label = label.into();
        TableRow {
            key: label.clone(),
            label,
            cells,
            drill: false,
        }
    }
}

/// What the marks in a figure's place mean (the page's legend says the same).
pub const SUPPRESSION_LEGEND: &str = "<5 = färre än fem personer. .. = dolt så att ett litet tal inte kan räknas fram ur totalen. För få = underlaget är färre än fem. – = inget underlag.";

pub const SPLIT_HEADER: [&str; 4] = ["Kvinnor", "Män", "Annat/ej angivet", "Totalt"];

impl Table {
    /// A section of indicators: one row each, split by gender.
    pub fn of_section(section: &Section) -> Table {
        let mut header = vec!["Nyckeltal".to_string()];
        header.extend(SPLIT_HEADER.iter().map(|h| h.to_string()));
        Table {
            title: section.title.to_string(),
            header,
            rows: section
                .indicators
                .iter()
                .map(|i| TableRow {
                    key: i.key.to_string(),
                    label: i.label.clone(),
                    cells: i.measure.cells().to_vec(),
                    drill: i.counted().is_some(),
                })
                .collect(),
            notes: section.indicators.iter().map(|i| (i.label.clone(), i.how.to_string())).collect(),
        }
    }
}

/// CSV for Swedish Excel, as in the visit statistics: UTF-8 with a BOM, `;`
/// between fields, CRLF, decimal comma; the tables one after the other,
/// each under its title, with an empty line between them.
pub fn csv(heading: &str, tables: &[Table]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&field(heading));
    out.push_str("\r\n");
    for table in tables {
        out.push_str("\r\n");
        out.push_str(&field(&table.title));
        out.push_str("\r\n");
        out.push_str(&table.header.iter().map(|h| field(h)).collect::<Vec<_>>().join(";"));
        out.push_str("\r\n");
        for row in &table.rows {
            let mut fields = vec![field(&row.label)];
            fields.extend(row.cells.iter().map(|c| field(&c.text())));
            out.push_str(&fields.join(";"));
            out.push_str("\r\n");
        }
    }
    out
}

use crate::web::csv::field;

/// An Excel workbook: one sheet per table, numbers as numbers, "<5" and the
/// other marks as text, and the notes below each table.
pub fn xlsx(heading: &str, tables: &[Table]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let mut used: Vec<String> = Vec::new();
    for table in tables {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(&table.title, &mut used))?;
        sheet.write_string_with_format(0, 0, heading, &bold)?;
        sheet.write_string_with_format(1, 0, &table.title, &bold)?;
        for (c, h) in table.header.iter().enumerate() {
            sheet.write_string_with_format(3, c as u16, h, &bold)?;
        }
        for (r, row) in table.rows.iter().enumerate() {
            let r = 4 + r as u32;
            sheet.write_string(r, 0, &row.label)?;
            for (c, cell) in row.cells.iter().enumerate() {
                let c = 1 + c as u16;
                match cell {
                    CellValue::Number(n) => sheet.write_number(r, c, *n)?,
                    CellValue::Text(t) => sheet.write_string(r, c, t)?,
                };
            }
        }
        let mut r = 5 + table.rows.len() as u32;
        if !table.notes.is_empty() {
            sheet.write_string_with_format(r, 0, "Så räknas det", &bold)?;
            for (label, how) in &table.notes {
                r += 1;
                sheet.write_string(r, 0, label)?;
                sheet.write_string(r, 1, how)?;
            }
        }
        sheet.set_column_width(0, 60)?;
    }
    // Every definition in one place, as on the page under "Så räknas det".
    let sheet = book.add_worksheet();
    sheet.set_name(sheet_name("Definitioner", &mut used))?;
    sheet.write_string_with_format(0, 0, heading, &bold)?;
    sheet.write_string_with_format(1, 0, format!("Definitioner, version {}", indicators::DEFINITIONS_VERSION), &bold)?;
    for (c, h) in ["Tabell", "Rad", "Så räknas det"].iter().enumerate() {
        sheet.write_string_with_format(3, c as u16, *h, &bold)?;
    }
    let mut r = 3;
    for table in tables {
        for (label, how) in &table.notes {
            r += 1;
            sheet.write_string(r, 0, &table.title)?;
            sheet.write_string(r, 1, label)?;
            sheet.write_string(r, 2, how)?;
        }
    }
    sheet.write_string(r + 2, 0, SUPPRESSION_LEGEND)?;
    sheet.set_column_width(0, 40)?;
    sheet.set_column_width(1, 60)?;
    sheet.set_column_width(2, 120)?;
    book.save_to_buffer()
}

/// A sheet name Excel accepts: at most 31 characters, none of []:*?/\, unique.
fn sheet_name(title: &str, used: &mut Vec<String>) -> String {
    let clean: String = title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
    let mut name = clean.clone();
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{clean} {n}");
        n += 1;
    }
    used.push(name.clone());
    name
}

#[derive(Template)]
#[template(path = "reports/indicators.html")]
struct IndicatorsPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    query: ReportQuery,
    from: String,
    to: String,
    error_field: &'static str,
    error: String,
    tables: Vec<Table>,
}

impl IndicatorsPage {
    fn field_error(&self, field: &str) -> &str {
        if self.error_field == field { &self.error } else { "" }
    }

    fn drills(&self) -> bool {
        true
    }

    fn drill_href(&self, row: &TableRow, column: &usize) -> Option<String> {
        let column = *column;
        drill::cell_href(row, column, &self.query.unit, self.from.parse().ok()?, self.to.parse().ok()?)
    }
}

async fn indicators_page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    current.require(READERS)?;
    let today = state.clock.today();
    let mut page = IndicatorsPage {
        layout: Layout::new(&current.ctx, "indicators"),
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        query: query.clone(),
        from: query.from.clone(),
        to: query.to.clone(),
        error_field: "",
        error: String::new(),
        tables: Vec::new(),
    };
    let units = crate::attendance::chosen_units(&current, &query.unit);
    let period = crate::attendance::statistics::date_range(&query.from, &query.to, indicators::this_year(today));
    match (units, period) {
        (None, _) => {
            page.error_field = "unit";
            page.error = "Välj en av dina enheter.".into();
        }
        (_, Err((field, message))) => {
            page.error_field = field;
            page.error = message;
        }
        (Some(units), Ok((from, to))) => {
            let scope = Scope { units, from, to, today };
            let started = std::time::Instant::now();
            let sections = computed(&state, &scope).await?;
            page.tables = sections.iter().map(Table::of_section).collect();
            tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "indicators");
            page.from = from.to_string();
            page.to = to.to_string();
            return Ok(Html(page.render()?).into_response());
        }
    }
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

/// The indicators for `scope`: kept from an earlier request while nothing
/// they are made of has changed (`cache`), else computed and kept.
pub async fn computed(state: &AppState, scope: &Scope) -> Result<std::sync::Arc<Vec<Section>>, sqlx::Error> {
    let kept = state.caches.get::<cache::ReportCache>();
    let token = cache::token(&state.db).await?;
    let key = format!("indicators {} {} {} {}", units_key(&scope.units), scope.from, scope.to, scope.today);
    if let Some(hit) = kept.get::<Vec<Section>>(&key, token) {
        return Ok(hit);
    }
    let facts = indicators::load_cached(&state.db, &state.caches.get::<indicators::FactCache>(), scope).await?;
    let sections = std::sync::Arc::new(indicators::compute(scope, &facts));
    kept.put(key, token, sections.clone());
    Ok(sections)
}

/// A set of units as a key: sorted, without repeats.
pub fn units_key(units: &[crate::ids::UnitId]) -> String {
    let mut ids: Vec<i64> = units.iter().map(|u| u.get()).collect();
    ids.sort_unstable();
    ids.dedup();
    format!("{ids:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(field("Kvinnor"), "Kvinnor");
        assert_eq!(field("a;b"), "\"a;b\"");
        assert_eq!(field("säg \"hej\""), "\"säg \"\"hej\"\"\"");
        // Formulas stay text in Excel.
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("–"), "–", "the en dash for 'nothing' is not a minus");
    }

    #[test]
    fn sheet_names_are_short_clean_and_unique() {
        let mut used = Vec::new();
        assert_eq!(
            sheet_name("Tillgänglighet, uppföljning och samordning", &mut used),
            "Tillgänglighet, uppföljning "
        );
        assert_eq!(sheet_name("Besök: per månad", &mut used), "Besök per månad");
        assert_eq!(sheet_name("Besök: per månad", &mut used), "Besök per månad 2");
    }
}
