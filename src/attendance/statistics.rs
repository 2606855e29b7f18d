//! Visit statistics for a chosen period: visits per day, week or month,
//! unique visitors, each split kvinnor / män / annat eller ej angivet and by
//! age group (18–35, 36+), and the busiest weekdays; as tables, small SVG
//! charts drawn here, and CSV that Swedish Excel opens directly.
//!
//! Så räknas det: a visit is a check-in that was not undone, plus the
//! anonymous drop-in visitors counted at the desk. Age is the age on the day
//! of the visit; a unique visitor's age group is the one of their first
//! visit in the period. Drop-in visitors have no age and are not unique
//! visitors (nobody knows who they were).

use crate::ids::UnitId;
use crate::participants::model::Gender;
use chrono::{Datelike, NaiveDate};

/// The visits of one day, one gender and one age group (`None`: drop-in, no age).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    pub day: NaiveDate,
    pub gender: Gender,
    pub young: Option<bool>,
    pub visits: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Granularity {
    Day,
    Week,
    Month,
}

impl Granularity {
    pub const ALL: [Granularity; 3] = [Granularity::Day, Granularity::Week, Granularity::Month];

    pub fn code(self) -> &'static str {
        match self {
            Granularity::Day => "day",
            Granularity::Week => "week",
            Granularity::Month => "month",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Granularity::Day => "Dag",
            Granularity::Week => "Vecka",
            Granularity::Month => "Månad",
        }
    }

    /// The bucket a day falls in, as shown: "2026-03-02", "2026 v. 10", "2026-03".
    pub fn bucket(self, day: NaiveDate) -> String {
        match self {
            Granularity::Day => day.to_string(),
            Granularity::Week => {
                let week = day.iso_week();
                format!("{} v. {:02}", week.year(), week.week())
            }
            Granularity::Month => format!("{}-{:02}", day.year(), day.month()),
        }
    }
}

/// Counts split by gender, with the total.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Split {
    pub women: i64,
    pub men: i64,
    pub other: i64,
}

impl Split {
    pub fn add(&mut self, gender: Gender, n: i64) {
        match gender {
            Gender::Woman => self.women += n,
            Gender::Man => self.men += n,
            Gender::OtherOrUnstated => self.other += n,
        }
    }

    pub fn total(&self) -> i64 {
        self.women + self.men + self.other
    }
}

/// A row of a table: its label and its split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub label: String,
    pub split: Split,
}

/// Visits per bucket, in date order.
pub fn by_bucket(cells: &[Cell], granularity: Granularity) -> Vec<Row> {
    let mut sorted: Vec<&Cell> = cells.iter().collect();
    sorted.sort_by_key(|c| c.day);
    let mut rows: Vec<Row> = Vec::new();
    for cell in sorted {
        let label = granularity.bucket(cell.day);
        if rows.last().map(|r| &r.label) != Some(&label) {
            rows.push(Row {
                label,
                split: Split::default(),
            });
        }
        if let Some(row) = rows.last_mut() {
            row.split.add(cell.gender, cell.visits);
        }
    }
    rows
}

pub const WEEKDAYS: [&str; 7] = ["Måndag", "Tisdag", "Onsdag", "Torsdag", "Fredag", "Lördag", "Söndag"];

/// Visits per weekday, Monday first.
pub fn by_weekday(cells: &[Cell]) -> Vec<Row> {
    let mut rows: Vec<Row> = WEEKDAYS
        .iter()
        .map(|d| Row {
            label: d.to_string(),
            split: Split::default(),
        })
        .collect();
    for cell in cells {
        rows[cell.day.weekday().num_days_from_monday() as usize]
            .split
            .add(cell.gender, cell.visits);
    }
    rows
}

/// The period's visits: registered by age group, drop-in, and all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub young: Split,
    pub older: Split,
    pub drop_in: Split,
}

impl Totals {
    pub fn registered(&self) -> Split {
        Split {
            women: self.young.women + self.older.women,
            men: self.young.men + self.older.men,
            other: self.young.other + self.older.other,
        }
    }

    pub fn all(&self) -> Split {
        let registered = self.registered();
        Split {
            women: registered.women + self.drop_in.women,
            men: registered.men + self.drop_in.men,
            other: registered.other + self.drop_in.other,
        }
    }
}

pub fn totals(cells: &[Cell]) -> Totals {
    let mut totals = Totals::default();
    for cell in cells {
        let split = match cell.young {
            Some(true) => &mut totals.young,
            Some(false) => &mut totals.older,
            None => &mut totals.drop_in,
        };
        split.add(cell.gender, cell.visits);
    }
    totals
}

/// A share as a percentage with a decimal comma: "52,4".
pub fn percent(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "–".into();
    }
    format!("{:.1}", 100.0 * part as f64 / whole as f64).replace('.', ",")
}

/// CSV for Swedish Excel: UTF-8 with a byte-order mark, `;` between fields,
/// CRLF line ends, decimal comma.
pub fn csv(granularity: Granularity, rows: &[Row]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&format!(
        "{};Kvinnor;Män;Annat eller ej angivet;Totalt;Andel kvinnor (%)\r\n",
        granularity.label()
    ));
    let mut sum = Split::default();
    for row in rows {
        let s = &row.split;
        out.push_str(&format!(
            "{};{};{};{};{};{}\r\n",
            row.label,
            s.women,
            s.men,
            s.other,
            s.total(),
            percent(s.women, s.total())
        ));
        sum.women += s.women;
        sum.men += s.men;
        sum.other += s.other;
    }
    out.push_str(&format!(
        "Totalt;{};{};{};{};{}\r\n",
        sum.women,
        sum.men,
        sum.other,
        sum.total(),
        percent(sum.women, sum.total())
    ));
    out
}

/// One bar of a chart: its label, its length and the number written beside it.
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub text: String,
}

impl Bar {
    /// A row's total.
    pub fn of_row(row: &Row) -> Bar {
        let total = row.split.total();
        Bar {
            label: row.label.clone(),
            value: total as f64,
            text: total.to_string(),
        }
    }
}

/// A small bar chart as SVG, drawn on the server: one bar per row, its
/// total, with the label and number as text so it reads without colour.
pub fn bar_chart(title: &str, rows: &[Row]) -> String {
    bars_chart(title, &rows.iter().map(Bar::of_row).collect::<Vec<_>>())
}

/// A bar chart of any values; `max` at least 1.
pub fn bars_chart(title: &str, bars: &[Bar]) -> String {
    let width = 640.0;
    let bar_height = 18.0;
    let gap = 6.0;
    let label_width = 110.0;
    let max = bars.iter().map(|b| b.value).fold(1.0, f64::max);
    let height = bars.len() as f64 * (bar_height + gap) + gap;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" aria-label="{}" class="chart">"#,
        escape(title)
    );
    for (i, bar) in bars.iter().enumerate() {
        let y = gap + i as f64 * (bar_height + gap);
        let length = (width - label_width - 60.0) * bar.value.max(0.0) / max;
        svg.push_str(&format!(
            r#"<text x="0" y="{:.1}" class="chart-label">{}</text><rect x="{label_width}" y="{y:.1}" width="{length:.1}" height="{bar_height}" class="chart-bar"/><text x="{:.1}" y="{:.1}" class="chart-value">{}</text>"#,
            y + bar_height - 4.0,
            escape(&bar.label),
            label_width + length + 6.0,
            y + bar_height - 4.0,
            escape(&bar.text)
        ));
    }
    svg.push_str("</svg>");
    svg
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

// The page and the CSV export.

use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::error::AppResult;
use crate::state::AppState;
use crate::web::form::Query;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct StatisticsQuery {
    pub unit: String,
    pub from: String,
    pub to: String,
    pub by: String,
}

impl StatisticsQuery {
    pub fn by_label(&self) -> String {
        Granularity::parse(&self.by).unwrap_or(Granularity::Month).label().to_lowercase()
    }
}

/// The checked query: units, period and granularity, or the message for the field.
struct Period {
    units: Vec<UnitId>,
    from: NaiveDate,
    to: NaiveDate,
    granularity: Granularity,
}

fn period(current: &CurrentUser, query: &StatisticsQuery, today: NaiveDate) -> Result<Period, (&'static str, String)> {
    let units = super::chosen_units(current, &query.unit).ok_or(("unit", "Välj en av dina enheter.".to_string()))?;
    let start_of_year = NaiveDate::from_ymd_opt(today.year(), 1, 1).unwrap_or(today);
    let (from, to) = date_range(&query.from, &query.to, (start_of_year, today))?;
    Ok(Period {
        units,
        from,
        to,
        granularity: Granularity::parse(&query.by).unwrap_or(Granularity::Month),
    })
}

/// A period typed as from and to (either may be empty: the default's day),
/// at most three years long; or the field in error with its message.
pub fn date_range(from: &str, to: &str, default: (NaiveDate, NaiveDate)) -> Result<(NaiveDate, NaiveDate), (&'static str, String)> {
    let from = crate::web::form::optional_date(from)
        .map_err(|m| ("from", m.to_string()))?
        .unwrap_or(default.0);
    let to = crate::web::form::optional_date(to)
        .map_err(|m| ("to", m.to_string()))?
        .unwrap_or(default.1);
    for (field, day) in [("from", from), ("to", to)] {
        if !(2000..=2100).contains(&day.year()) {
            return Err((field, "Välj ett datum mellan år 2000 och 2100.".into()));
        }
    }
    if to < from {
        return Err(("to", "Slutdatum kan inte vara före startdatum.".into()));
    }
    if (to - from).num_days() > 3 * 366 {
        return Err(("to", "Välj en period på högst tre år.".into()));
    }
    Ok((from, to))
}

/// The day cells of the period: registered visits by gender and age group, and drop-ins.
pub async fn cells(db: &sqlx::PgPool, units: &[UnitId], from: NaiveDate, to: NaiveDate) -> Result<Vec<Cell>, sqlx::Error> {
    // From the summary the visits' trigger keeps (migration 0022), not the visits.
    let registered = sqlx::query!(
        r#"SELECT visit_on, gender, young, sum(visits)::bigint AS "visits!"
           FROM visit_cells
           WHERE unit_id = ANY($1) AND visit_on BETWEEN $2 AND $3 AND visits > 0
           GROUP BY 1, 2, 3"#,
        units as _,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    let drop_ins = sqlx::query!(
        r#"SELECT visit_on, gender, sum(visitors)::bigint AS "visits!" FROM drop_in_visits
           WHERE unit_id = ANY($1) AND visit_on BETWEEN $2 AND $3 AND visitors > 0
           GROUP BY 1, 2"#,
        units as _,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    let gender = |code: &str| Gender::parse(code).unwrap_or(Gender::OtherOrUnstated);
    let mut cells: Vec<Cell> = registered
        .into_iter()
        .map(|r| Cell {
            day: r.visit_on,
            gender: gender(&r.gender),
            young: Some(r.young),
            visits: r.visits,
        })
        .collect();
    cells.extend(drop_ins.into_iter().map(|r| Cell {
        day: r.visit_on,
        gender: gender(&r.gender),
        young: None,
        visits: r.visits,
    }));
    Ok(cells)
}

/// Unique registered visitors of the period, by age group at their first visit.
async fn unique_visitors(db: &sqlx::PgPool, p: &Period) -> Result<(Split, Split), sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT p.gender, extract(year FROM age(f.first_on, p.birth_date)) <= 35 AS "young!", count(*) AS "people!"
           FROM (SELECT participant_id, min(visit_on) AS first_on FROM visits
                 WHERE unit_id = ANY($1) AND visit_on BETWEEN $2 AND $3 AND cancelled_at IS NULL
                 GROUP BY participant_id) f
           JOIN participants p ON p.id = f.participant_id
           GROUP BY 1, 2"#,
        &p.units as _,
        p.from,
        p.to
    )
    .fetch_all(db)
    .await?;
    let (mut young, mut older) = (Split::default(), Split::default());
    for r in rows {
        let g = Gender::parse(&r.gender).unwrap_or(Gender::OtherOrUnstated);
        if r.young { young.add(g, r.people) } else { older.add(g, r.people) }
    }
    Ok((young, older))
}

#[derive(Template)]
#[template(path = "attendance/statistics.html")]
struct StatisticsPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    query: StatisticsQuery,
    error_field: &'static str,
    error: String,
    granularities: [Granularity; 3],
    from: String,
    to: String,
    totals: Totals,
    unique_young: Split,
    unique_older: Split,
    /// Visitors outside 18–35 let in during Yngre Lotsen time (counted, issue 6).
    outside_young_adults_time: i64,
    buckets: Vec<Row>,
    weekdays: Vec<Row>,
    bucket_chart: String,
    weekday_chart: String,
    csv_query: String,
}

impl StatisticsPage {
    fn field_error(&self, field: &str) -> &str {
        if self.error_field == field { &self.error } else { "" }
    }
    fn unique_total(&self) -> Split {
        Split {
            women: self.unique_young.women + self.unique_older.women,
            men: self.unique_young.men + self.unique_older.men,
            other: self.unique_young.other + self.unique_older.other,
        }
    }
    fn share(&self, split: &Split) -> String {
        percent(split.women, split.total())
    }
}

pub async fn page(State(state): State<AppState>, current: CurrentUser, Query(query): Query<StatisticsQuery>) -> AppResult<Response> {
    let today = state.clock.today();
    let units = crate::participants::unit_choices(&state.db, current.user.id).await?;
    let mut page = StatisticsPage {
        layout: Layout::new(&current.ctx, "statistics"),
        units,
        query: query.clone(),
        error_field: "",
        error: String::new(),
        granularities: Granularity::ALL,
        from: String::new(),
        to: String::new(),
        totals: Totals::default(),
        unique_young: Split::default(),
        unique_older: Split::default(),
        outside_young_adults_time: 0,
        buckets: Vec::new(),
        weekdays: Vec::new(),
        bucket_chart: String::new(),
        weekday_chart: String::new(),
        csv_query: String::new(),
    };
    match period(&current, &query, today) {
        Err((field, message)) => {
            page.error_field = field;
            page.error = message;
            page.from = query.from.clone();
            page.to = query.to.clone();
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
        }
        Ok(p) => {
            let cells = cells(&state.db, &p.units, p.from, p.to).await?;
            let (young, older) = unique_visitors(&state.db, &p).await?;
            page.from = p.from.to_string();
            page.to = p.to.to_string();
            page.totals = totals(&cells);
            page.unique_young = young;
            page.unique_older = older;
            page.outside_young_adults_time = sqlx::query_scalar!(
                r#"SELECT count(*) AS "n!" FROM visits
                   WHERE unit_id = ANY($1) AND visit_on BETWEEN $2 AND $3 AND cancelled_at IS NULL AND outside_young_adults_time"#,
                &p.units as _,
                p.from,
                p.to
            )
            .fetch_one(&state.db)
            .await?;
            page.buckets = by_bucket(&cells, p.granularity);
            page.weekdays = by_weekday(&cells);
            page.bucket_chart = bar_chart(&format!("Besök per {}", p.granularity.label().to_lowercase()), &page.buckets);
            page.weekday_chart = bar_chart("Besök per veckodag", &page.weekdays);
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("unit", if query.unit.is_empty() { "all" } else { &query.unit });
            q.append_pair("from", &page.from);
            q.append_pair("to", &page.to);
            q.append_pair("by", p.granularity.code());
            page.csv_query = q.finish();
        }
    }
    Ok(Html(page.render()?).into_response())
}

pub async fn export(State(state): State<AppState>, current: CurrentUser, Query(query): Query<StatisticsQuery>) -> AppResult<Response> {
    let p = period(&current, &query, state.clock.today()).map_err(|_| crate::error::AppError::BadRequest("bad period"))?;
    let cells = cells(&state.db, &p.units, p.from, p.to).await?;
    let body = csv(p.granularity, &by_bucket(&cells, p.granularity));
    let filename = format!("attachment; filename=\"besok-{}-{}.csv\"", p.from, p.to);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, filename),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, m, day).unwrap()
    }

    fn cell(day: NaiveDate, gender: Gender, young: Option<bool>, visits: i64) -> Cell {
        Cell {
            day,
            gender,
            young,
            visits,
        }
    }

    #[test]
    fn buckets_weekdays_and_totals_from_a_fixture() {
        // Monday 2 March: 2 young women, 1 older man, 1 drop-in woman.
        // Tuesday 3 March: 1 older woman. Monday 6 April: 3 other/unstated young.
        let cells = vec![
            cell(d(3, 2), Gender::Woman, Some(true), 2),
            cell(d(3, 2), Gender::Man, Some(false), 1),
            cell(d(3, 2), Gender::Woman, None, 1),
            cell(d(3, 3), Gender::Woman, Some(false), 1),
            cell(d(4, 6), Gender::OtherOrUnstated, Some(true), 3),
        ];
        let months = by_bucket(&cells, Granularity::Month);
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].label, "2026-03");
        assert_eq!(
            months[0].split,
            Split {
                women: 4,
                men: 1,
                other: 0
            }
        );
        assert_eq!(months[1].split.total(), 3);
        let weeks = by_bucket(&cells, Granularity::Week);
        assert_eq!(
            weeks.iter().map(|w| w.label.as_str()).collect::<Vec<_>>(),
            ["2026 v. 10", "2026 v. 15"]
        );
        let days = by_bucket(&cells, Granularity::Day);
        assert_eq!(days.len(), 3);
        let weekdays = by_weekday(&cells);
        assert_eq!(weekdays[0].split.total(), 7, "Mondays");
        assert_eq!(weekdays[1].split.total(), 1, "Tuesday");
        let totals = totals(&cells);
        assert_eq!(
            totals.young,
            Split {
                women: 2,
                men: 0,
                other: 3
            }
        );
        assert_eq!(
            totals.older,
            Split {
                women: 1,
                men: 1,
                other: 0
            }
        );
        assert_eq!(
            totals.drop_in,
            Split {
                women: 1,
                men: 0,
                other: 0
            }
        );
        assert_eq!(totals.all().total(), 8);
    }

    #[test]
    fn csv_is_for_swedish_excel() {
        let rows = vec![Row {
            label: "2026-03".into(),
            split: Split {
                women: 2,
                men: 1,
                other: 0,
            },
        }];
        let text = csv(Granularity::Month, &rows);
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(
            text.trim_start_matches('\u{feff}'),
            "Månad;Kvinnor;Män;Annat eller ej angivet;Totalt;Andel kvinnor (%)\r\n2026-03;2;1;0;3;66,7\r\nTotalt;2;1;0;3;66,7\r\n"
        );
        assert_eq!(percent(0, 0), "–");
    }

    #[test]
    fn the_chart_carries_its_numbers_as_text() {
        let rows = vec![Row {
            label: "Måndag <1>".into(),
            split: Split {
                women: 5,
                men: 0,
                other: 0,
            },
        }];
        let svg = bar_chart("Besök per veckodag", &rows);
        assert!(svg.contains(r#"aria-label="Besök per veckodag""#));
        assert!(svg.contains("Måndag &lt;1&gt;"));
        assert!(svg.contains(">5</text>"));
    }
}
