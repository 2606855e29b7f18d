//! Verksamhetsberättelse: the yearly report for a chosen year — the
//! indicators, capacity use month by month, open days against the target of
//! 230, and visits — as a printable page, CSV and an Excel workbook, all
//! written from the same tables.

use super::history;
use super::indicators::{self, CellValue, Scope};
use super::{MONTHS, ReportQuery, SPLIT_HEADER, Table, TableRow};
use crate::attendance::statistics::{self, Split};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::calendar::{self, TARGET_OPEN_DAYS};
use crate::error::{AppError, AppResult};
use crate::ids::UnitId;
use crate::state::AppState;
use crate::web::form::Query;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};

/// The report for `year`, up to today when the year is not over.
pub struct AnnualReport {
    pub year: i32,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unit_names: String,
    pub tables: Vec<Table>,
}

impl AnnualReport {
    pub fn heading(&self) -> String {
        format!("Verksamhetsberättelse {} – {}", self.year, self.unit_names)
    }
}

/// Visits as they are: a visit is an event, not a person, and the visit
/// tables are shown as in the visit statistics. (Suppressing them would not
/// hold anyway: the months add up to the year.)
fn visit_cells(split: &Split) -> Vec<CellValue> {
    [split.women, split.men, split.other, split.total()]
        .map(|n| CellValue::Number(n as f64))
        .to_vec()
}

fn number(n: f64) -> CellValue {
    CellValue::Number(n)
}

pub async fn build(
    db: &sqlx::PgPool,
    facts: &indicators::FactCache,
    units: Vec<UnitId>,
    year: i32,
    today: NaiveDate,
) -> Result<AnnualReport, sqlx::Error> {
    let from = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(today);
    let to = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(today).min(today).max(from);
    let names = sqlx::query!("SELECT id, name FROM units WHERE id = ANY($1) ORDER BY name", &units as _)
        .fetch_all(db)
        .await?;
    let scope = Scope {
        units: units.clone(),
        from,
        to,
        today,
    };
    let loaded = indicators::load_cached(db, facts, &scope).await?;
    let mut tables: Vec<Table> = indicators::compute(&scope, &loaded).iter().map(Table::of_section).collect();

    // Visits, registered by age group and drop-in, and by month.
    let cells = statistics::cells(db, &units, from, to).await?;
    let totals = statistics::totals(&cells);
    let mut header = vec!["Besök".to_string()];
    header.extend(SPLIT_HEADER.iter().map(|h| h.to_string()));
    let visit_row = |label: &str, split: &Split| TableRow {
        label: label.into(),
        cells: visit_cells(split),
    };
    tables.push(Table {
        title: "Besök".into(),
        header: header.clone(),
        rows: vec![
            visit_row("Besök av inskrivna 18–35 år", &totals.young),
            visit_row("Besök av inskrivna 36 år och äldre", &totals.older),
            visit_row("Besök utan inskrivning (drop-in)", &totals.drop_in),
            visit_row("Alla besök", &totals.all()),
        ],
        notes: vec![(
            "Besök".into(),
            "Incheckningar som inte ångrats, och besökare utan inskrivning räknade i receptionen. Ålder är åldern på besöksdagen. Besök är händelser, inte personer: de visas utan döljning av små tal, som i besöksstatistiken. Personer finns under nyckeltalen ovan.",
        )],
    });
    let months = statistics::by_bucket(&cells, statistics::Granularity::Month);
    let mut month_header = vec!["Månad".to_string()];
    month_header.extend(SPLIT_HEADER.iter().map(|h| h.to_string()));
    tables.push(Table {
        title: "Besök per månad".into(),
        header: month_header,
        rows: months
            .iter()
            .map(|r| {
                let month: u32 = r.label.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(1);
                TableRow {
                    label: MONTHS[(month as usize).clamp(1, 12) - 1].to_string(),
                    cells: visit_cells(&r.split),
                }
            })
            .collect(),
        notes: Vec::new(),
    });

    // Open days per unit against the target.
    let exceptions = sqlx::query!(
        "SELECT unit_id, day, kind FROM opening_exceptions WHERE unit_id = ANY($1) AND day BETWEEN $2 AND $3",
        &units as _,
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31)
    )
    .fetch_all(db)
    .await?;
    tables.push(Table {
        title: "Öppetdagar".into(),
        header: vec!["Enhet".into(), "Öppetdagar".into(), "Mål".into()],
        rows: names
            .iter()
            .map(|u| {
                let own: Vec<(NaiveDate, calendar::Exception)> = exceptions
                    .iter()
                    .filter(|e| e.unit_id == u.id)
                    .map(|e| (e.day, crate::attendance::exception_of(&e.kind)))
                    .collect();
                TableRow {
                    label: u.name.clone(),
                    cells: vec![number(calendar::open_days(year, &own) as f64), number(TARGET_OPEN_DAYS as f64)],
                }
            })
            .collect(),
        notes: vec![(
            "Öppetdagar".into(),
            "Hela årets planerade öppetdagar: måndag–fredag utom helgdagar, midsommarafton, julafton och nyårsafton, med enhetens stängda och extra öppna dagar i kalendern.",
        )],
    });

    // Capacity in use at the end of each month (or today), with the plans'
    // hours and the units' capacity as they stood that day.
    let (plans, capacity) = tokio::try_join!(history::plans(db, &units, None, from, to), history::capacity(db, &units))?;
    let mut rows = Vec::new();
    for month in 1..=12u32 {
        let Some(first) = NaiveDate::from_ymd_opt(year, month, 1) else {
            continue;
        };
        if first > to {
            break;
        }
        if first < from.with_day(1).unwrap_or(from) {
            continue;
        }
        let last = first
            .checked_add_months(chrono::Months::new(1))
            .map(|d| d - chrono::Duration::days(1))
            .unwrap_or(first)
            .min(to);
        let (hours, isa) = history::in_use_on(&plans, last);
        let (hours_capacity, places) = capacity.on(last);
        rows.push(TableRow {
            label: MONTHS[month as usize - 1].to_string(),
            cells: vec![number(hours), number(hours_capacity), number(isa as f64), number(places as f64)],
        });
    }
    tables.push(Table {
        title: "Kapacitet".into(),
        header: vec![
            "Månadens sista dag".into(),
            "Förstegsträning, timmar per vecka i bruk".into(),
            "Timmar per vecka totalt".into(),
            "Team ISA, platser i bruk".into(),
            "Platser totalt".into(),
        ],
        rows,
        notes: vec![(
            "Kapacitet".into(),
            "Fastställda planer som pågick månadens sista dag (innevarande månad: i dag), med de timmar per vecka som gällde den dagen, mot enheternas kapacitet den dagen. En ändring av timmar eller kapacitet gäller från den dag den sparades; tidigare månader behåller sina värden.",
        )],
    });

    Ok(AnnualReport {
        year,
        from,
        to,
        unit_names: names.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", "),
        tables,
    })
}

/// The year asked for (this year when nothing is asked), from 2000 to this year.
fn chosen_year(asked: &str, today: NaiveDate) -> Result<i32, String> {
    if asked.trim().is_empty() {
        return Ok(today.year());
    }
    match asked.trim().parse::<i32>() {
        Ok(y) if (2000..=today.year()).contains(&y) => Ok(y),
        _ => Err(format!("Välj ett år mellan 2000 och {}.", today.year())),
    }
}

#[derive(Template)]
#[template(path = "reports/annual_report.html")]
struct AnnualPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    query: ReportQuery,
    year: String,
    error: String,
    report: Option<AnnualReport>,
    export_query: String,
    tables: Vec<Table>,
}

impl AnnualPage {
    fn field_error(&self, field: &str) -> &str {
        if field == "year" { &self.error } else { "" }
    }
}

pub async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    current.require(super::READERS)?;
    let today = state.clock.today();
    let units = crate::attendance::chosen_units(&current, &query.unit).ok_or(AppError::Forbidden)?;
    let mut page = AnnualPage {
        layout: Layout::new(&current.ctx, "annual_report"),
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        query: query.clone(),
        year: query.year.clone(),
        error: String::new(),
        report: None,
        export_query: String::new(),
        tables: Vec::new(),
    };
    match chosen_year(&query.year, today) {
        Err(message) => {
            page.error = message;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Ok(year) => {
            let report = build(&state.db, &state.caches.get::<indicators::FactCache>(), units, year, today).await?;
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("unit", if query.unit.is_empty() { "all" } else { &query.unit });
            q.append_pair("year", &year.to_string());
            page.export_query = q.finish();
            page.year = year.to_string();
            page.tables = report.tables.clone();
            page.report = Some(report);
            Ok(Html(page.render()?).into_response())
        }
    }
}

async fn report_for(state: &AppState, current: &CurrentUser, query: &ReportQuery) -> AppResult<AnnualReport> {
    current.require(super::READERS)?;
    let today = state.clock.today();
    let units = crate::attendance::chosen_units(current, &query.unit).ok_or(AppError::Forbidden)?;
    let year = chosen_year(&query.year, today).map_err(|_| AppError::BadRequest("bad year"))?;
    Ok(build(&state.db, &state.caches.get::<indicators::FactCache>(), units, year, today).await?)
}

pub async fn csv_export(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    let report = report_for(&state, &current, &query).await?;
    let body = super::csv(&report.heading(), &report.tables);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"verksamhetsberattelse-{}.csv\"", report.year),
            ),
        ],
        body,
    )
        .into_response())
}

pub async fn xlsx_export(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    let report = report_for(&state, &current, &query).await?;
    let body = super::xlsx(&report.heading(), &report.tables).map_err(|e| AppError::Internal(anyhow::anyhow!("workbook: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"verksamhetsberattelse-{}.xlsx\"", report.year),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_year_is_this_year_or_an_earlier_one() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(chosen_year("", today), Ok(2026));
        assert_eq!(chosen_year(" 2025 ", today), Ok(2025));
        assert!(chosen_year("2027", today).is_err());
        assert!(chosen_year("1999", today).is_err());
        assert!(chosen_year("tjugo", today).is_err());
    }
}
