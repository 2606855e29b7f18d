//! Verksamhetsberättelse: the yearly report for a chosen year — the
//! indicators, capacity use month by month, open days against the target of
//! 230, and visits — as a printable page, CSV and an Excel workbook, all
//! written from the same tables.

use super::indicators::{self, CellValue, Scope};
use super::suppression::{Shown, suppress};
use super::{MONTHS, ReportQuery, SPLIT_HEADER, Table, TableRow};
use super::{frozen, history};
use crate::attendance::statistics::{self, Split};
use crate::auth::CurrentUser;
use crate::auth::context::Layout;
use crate::domain::calendar::{self, TARGET_OPEN_DAYS};
use crate::domain::intake::{FIRST_VISIT_TARGET_DAYS, Wait};
use crate::error::{AppError, AppResult};
use crate::ids::UnitId;
use crate::participants::model::Gender;
use crate::state::AppState;
use crate::web::form::Query;
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::{Datelike, NaiveDate};

/// A report's period: a calendar year, or one month of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub year: i32,
    pub month: Option<u32>,
}

impl Period {
    pub fn year(year: i32) -> Period {
        Period { year, month: None }
    }

    pub fn month(year: i32, month: u32) -> Period {
        Period { year, month: Some(month) }
    }

    pub fn first_day(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month.unwrap_or(1), 1).unwrap_or(NaiveDate::MIN)
    }

    /// The period's last day, whether or not it has come.
    pub fn last_day(&self) -> NaiveDate {
        let months = if self.month.is_some() { 1 } else { 12 };
        self.first_day()
            .checked_add_months(chrono::Months::new(months))
            .map_or(self.first_day(), |next| next - chrono::Duration::days(1))
    }

    /// Over: a period is frozen (fastställd) only once all of it has passed.
    pub fn is_over(&self, today: NaiveDate) -> bool {
        self.last_day() < today
    }

    /// As `report_freezes.kind` says it.
    pub fn kind(&self) -> &'static str {
        if self.month.is_some() { "month" } else { "year" }
    }

    /// "2026" or "mars 2026".
    pub fn name(&self) -> String {
        match self.month {
            Some(m) => format!("{} {}", MONTHS[(m as usize).clamp(1, 12) - 1], self.year),
            None => self.year.to_string(),
        }
    }

    /// "2026" or "2026-03", for file names.
    pub fn file_name(&self) -> String {
        match self.month {
            Some(m) => format!("{}-{m:02}", self.year),
            None => self.year.to_string(),
        }
    }
}

/// The report for a period, up to today when the period is not over.
#[derive(Clone)]
pub struct AnnualReport {
    pub period: Period,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub unit_names: String,
    pub tables: Vec<Table>,
}

impl AnnualReport {
    pub fn heading(&self) -> String {
        match self.period.month {
            Some(_) => format!("Månadsrapport {} – {}", self.period.name(), self.unit_names),
            None => format!("Verksamhetsberättelse {} – {}", self.period.year, self.unit_names),
        }
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
    period: Period,
    today: NaiveDate,
) -> Result<AnnualReport, sqlx::Error> {
    let year = period.year;
    let from = period.first_day();
    let to = period.last_day().min(today).max(from);
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
    let visit_row = |label: &str, split: &Split| TableRow::new(label, visit_cells(split));
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
            "Incheckningar som inte ångrats, och besökare utan inskrivning räknade i receptionen. Ålder är åldern på besöksdagen. Besök är händelser, inte personer: de visas utan döljning av små tal, som i besöksstatistiken. Personer finns under nyckeltalen ovan.".into(),
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
                TableRow::new(MONTHS[(month as usize).clamp(1, 12) - 1], visit_cells(&r.split))
            })
            .collect(),
        notes: Vec::new(),
    });

    tables.push(way_in(db, &units, from, to, today).await?);

    // Open days per unit against the target, for a year.
    if period.month.is_none() {
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
                TableRow::new(
                    u.name.clone(),
                    vec![number(calendar::open_days(year, &own) as f64), number(TARGET_OPEN_DAYS as f64)],
                )
            })
            .collect(),
        notes: vec![(
            "Öppetdagar".into(),
            "Hela årets planerade öppetdagar: måndag–fredag utom helgdagar, midsommarafton, julafton och nyårsafton, med enhetens stängda och extra öppna dagar i kalendern.".into(),
        )],
    });
    }

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
        rows.push(TableRow::new(
            MONTHS[month as usize - 1],
            vec![number(hours), number(hours_capacity), number(isa as f64), number(places as f64)],
        ));
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
            "Fastställda planer som pågick månadens sista dag (innevarande månad: i dag), med de timmar per vecka som gällde den dagen, mot enheternas kapacitet den dagen. En ändring av timmar eller kapacitet gäller från den dag den sparades; tidigare månader behåller sina värden.".into(),
        )],
    });

    Ok(AnnualReport {
        period,
        from,
        to,
        unit_names: names.iter().map(|u| u.name.as_str()).collect::<Vec<_>>().join(", "),
        tables,
    })
}

/// A count of people by gender as the report shows it: small numbers hidden.
fn suppressed_cells(split: &Split) -> Vec<CellValue> {
    suppress(split)
        .map(|s| match s {
            Shown::Value(n) => CellValue::Number(n as f64),
            other => CellValue::Text(other.text()),
        })
        .to_vec()
}

/// The way in (issue 19): outreach, information meetings and study visits,
/// and intresseanmälningar with the wait to a first visit, by gender.
async fn way_in(db: &sqlx::PgPool, units: &[UnitId], from: NaiveDate, to: NaiveDate, today: NaiveDate) -> Result<Table, sqlx::Error> {
    let (contacts, meetings, intakes) = tokio::try_join!(
        sqlx::query!(
            r#"SELECT gender, home_support, count(*) AS "n!" FROM outreach_contacts
               WHERE unit_id = ANY($1) AND contact_on BETWEEN $2 AND $3 GROUP BY gender, home_support"#,
            units as _,
            from,
            to
        )
        .fetch_all(db),
        sqlx::query!(
            r#"SELECT kind, sum(attendees_women)::bigint AS "women!", sum(attendees_men)::bigint AS "men!", sum(attendees_other)::bigint AS "other!"
               FROM information_meetings WHERE unit_id = ANY($1) AND held_on BETWEEN $2 AND $3 GROUP BY kind"#,
            units as _,
            from,
            to
        )
        .fetch_all(db),
        sqlx::query!(
            r#"SELECT i.gender, i.received_on, i.closed_on, (p.created_at AT TIME ZONE 'Europe/Stockholm')::date AS registered_on,
                      least(i.first_visit_on, p.first_visit_on,
                            (SELECT min(v.visit_on) FROM visits v WHERE v.participant_id = i.participant_id AND v.cancelled_at IS NULL)) AS first_visit_on
               FROM intakes i LEFT JOIN participants p ON p.id = i.participant_id
               WHERE i.unit_id = ANY($1) AND i.received_on BETWEEN $2 AND $3"#,
            units as _,
            from,
            to
        )
        .fetch_all(db),
    )?;
    let gender = |code: &str| Gender::parse(code).unwrap_or(Gender::OtherOrUnstated);
    let (mut outreach, mut priority) = (Split::default(), Split::default());
    for c in &contacts {
        outreach.add(gender(&c.gender), c.n);
        if c.home_support {
            priority.add(gender(&c.gender), c.n);
        }
    }
    let attendees = |kind: &str| {
        meetings.iter().filter(|m| m.kind == kind).fold(Split::default(), |s, m| Split {
            women: s.women + m.women,
            men: s.men + m.men,
            other: s.other + m.other,
        })
    };
    let (mut received, mut registered, mut within) = (Split::default(), Split::default(), Split::default());
    for i in &intakes {
        let g = gender(&i.gender);
        received.add(g, 1);
        // As the period's last day saw it: a registration or visit after it
        // does not change the figure (a past period's figures hold still).
        if i.registered_on.is_some_and(|d| d <= to) {
            registered.add(g, 1);
        }
        let first_visit = i.first_visit_on.filter(|d| *d <= to);
        if first_visit.is_some() && !Wait::of(i.received_on, first_visit, today).over_target() {
            within.add(g, 1);
        }
    }
    let mut header = vec!["Vägen in".to_string()];
    header.extend(SPLIT_HEADER.iter().map(|h| h.to_string()));
    Ok(Table {
        title: "Uppsökande verksamhet och intresseanmälningar".into(),
        header,
        rows: vec![
            TableRow::new("Uppsökande kontakter", suppressed_cells(&outreach)),
            TableRow::new("– varav med boendestöd (prioriterad grupp)", suppressed_cells(&priority)),
            TableRow::new("Deltagare på informationsträffar", suppressed_cells(&attendees("information_meeting"))),
            TableRow::new("Deltagare på studiebesök", suppressed_cells(&attendees("study_visit"))),
            TableRow::new("Intresseanmälningar", suppressed_cells(&received)),
            TableRow::new("– registrerade som deltagare", suppressed_cells(&registered)),
            TableRow::new(
                format!("– första besök inom {FIRST_VISIT_TARGET_DAYS} dagar"),
                suppressed_cells(&within),
            ),
        ],
        notes: vec![
            (
                "Uppsökande kontakter".into(),
                "Källa: Intag › Uppsökande verksamhet. Varje registrerad kontakt under perioden med någon som inte (ännu) var inskriven, efter det kön som angavs; boendestöd är den prioriterade gruppen.".into(),
            ),
            (
                "Deltagare på informationsträffar och studiebesök".into(),
                "Källa: Intag › Informationsträffar och studiebesök. Summan av antalet som kom, som det registrerades per träff.".into(),
            ),
            (
                "Intresseanmälningar".into(),
                format!(
                    "Källa: Intag › Intresseanmälningar, med första kontakten under perioden. Registrerade: personakten upplagd från anmälan senast periodens sista dag. Första besök: det datum som registrerats på anmälan, annars personaktens första besök eller första incheckning, senast periodens sista dag. Inom {FIRST_VISIT_TARGET_DAYS} dagar från första kontakten är målet."
                ),
            ),
        ],
    })
}

/// The period asked for: a year (this year when nothing is asked) from 2000
/// to this year, and a month of it when one is chosen, not after this month.
/// `Err` names the field and the message.
pub fn chosen_period(year: &str, month: &str, today: NaiveDate) -> Result<Period, (&'static str, String)> {
    let year = match year.trim() {
        "" => today.year(),
        typed => match typed.parse::<i32>() {
            Ok(y) if (2000..=today.year()).contains(&y) => y,
            _ => return Err(("year", format!("Välj ett år mellan 2000 och {}.", today.year()))),
        },
    };
    match month.trim() {
        "" => Ok(Period::year(year)),
        typed => match typed.parse::<u32>() {
            Ok(m) if (1..=12).contains(&m) && Period::month(year, m).first_day() <= today => Ok(Period::month(year, m)),
            _ => Err(("month", "Välj en månad som har börjat.".into())),
        },
    }
}

/// The report's address for `unit` and `period`.
pub fn query_of(unit: &str, period: Period) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("unit", if unit.is_empty() { "all" } else { unit });
    q.append_pair("year", &period.year.to_string());
    if let Some(m) = period.month {
        q.append_pair("month", &m.to_string());
    }
    q.finish()
}

#[derive(Template)]
#[template(path = "reports/annual_report.html")]
struct AnnualPage {
    layout: Layout,
    units: Vec<crate::participants::UnitChoice>,
    query: ReportQuery,
    year: String,
    month: String,
    error_field: &'static str,
    error: String,
    report: Option<AnnualReport>,
    export_query: String,
    tables: Vec<Table>,
    /// The stored figures, when the period is fastställd, and what differs today.
    frozen: Option<frozen::Freeze>,
    changes: Vec<frozen::Change>,
    /// One of the user's units, for a period that is over and not yet frozen.
    can_freeze: bool,
}

impl AnnualPage {
    fn field_error(&self, field: &str) -> &str {
        if field == self.error_field { &self.error } else { "" }
    }

    fn months(&self) -> Vec<(u32, &'static str)> {
        (1..=12).map(|m| (m, MONTHS[m as usize - 1])).collect()
    }

    fn changes_text(&self) -> String {
        frozen::changes_text(self.changes.len())
    }

    /// Today's figures link to the people behind them; a frozen period's
    /// stored figures do not (today's list could differ from them).
    fn drills(&self) -> bool {
        self.frozen.is_none()
    }

    fn drill_href(&self, row: &TableRow, column: &usize) -> Option<String> {
        let column = *column;
        let report = self.report.as_ref().filter(|_| self.drills())?;
        super::drill::cell_href(row, column, &self.query.unit, report.from, report.to)
    }
}

/// One unit chosen (not "all"): the unit a period can be frozen for.
fn single_unit(query: &ReportQuery, units: &[UnitId]) -> Option<UnitId> {
    match units {
        [one] if query.unit.parse::<UnitId>().ok() == Some(*one) => Some(*one),
        _ => None,
    }
}

/// The report: kept from an earlier request while nothing it is made of has
/// changed (`cache`), else built and kept.
async fn built(state: &AppState, units: Vec<UnitId>, period: Period, today: NaiveDate) -> Result<AnnualReport, sqlx::Error> {
    let kept = state.caches.get::<super::cache::ReportCache>();
    let token = super::cache::token(&state.db).await?;
    let key = format!("annual {} {period:?} {today}", super::units_key(&units));
    if let Some(hit) = kept.get::<AnnualReport>(&key, token) {
        return Ok((*hit).clone());
    }
    let report = build(&state.db, &state.caches.get::<indicators::FactCache>(), units, period, today).await?;
    kept.put(key, token, std::sync::Arc::new(report.clone()));
    Ok(report)
}

/// The report of a period with, for one unit's frozen period, the stored
/// figures in place of today's (`report.tables` holds the stored ones; the
/// second value is what today's figures would be).
async fn report_for(
    state: &AppState,
    units: Vec<UnitId>,
    single: Option<UnitId>,
    period: Period,
    today: NaiveDate,
) -> AppResult<(AnnualReport, Option<(frozen::Freeze, Vec<Table>)>)> {
    let (mut report, freeze) = tokio::try_join!(async { built(state, units, period, today).await.map_err(AppError::from) }, async {
        match single {
            Some(unit) => frozen::find(&state.db, unit, period).await,
            None => Ok(None),
        }
    })?;
    Ok(match freeze {
        Some(freeze) => {
            let today_tables = std::mem::replace(&mut report.tables, freeze.tables.clone());
            (report, Some((freeze, today_tables)))
        }
        None => (report, None),
    })
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
        month: query.month.clone(),
        error_field: "",
        error: String::new(),
        report: None,
        export_query: String::new(),
        tables: Vec::new(),
        frozen: None,
        changes: Vec::new(),
        can_freeze: false,
    };
    match chosen_period(&query.year, &query.month, today) {
        Err((field, message)) => {
            page.error_field = field;
            page.error = message;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
        }
        Ok(period) => {
            let single = single_unit(&query, &units);
            let (report, freeze) = report_for(&state, units, single, period, today).await?;
            page.export_query = query_of(&query.unit, period);
            page.year = period.year.to_string();
            page.month = period.month.map(|m| m.to_string()).unwrap_or_default();
            page.tables = report.tables.clone();
            page.can_freeze = single.is_some() && freeze.is_none() && period.is_over(today);
            if let Some((freeze, today_tables)) = freeze {
                page.changes = frozen::changes(&freeze.tables, &today_tables);
                page.frozen = Some(freeze);
            }
            page.report = Some(report);
            Ok(Html(page.render()?).into_response())
        }
    }
}

/// The export's report: the stored figures of a frozen period.
async fn export_of(state: &AppState, current: &CurrentUser, query: &ReportQuery) -> AppResult<(String, AnnualReport)> {
    current.require(super::READERS)?;
    let today = state.clock.today();
    let units = crate::attendance::chosen_units(current, &query.unit).ok_or(AppError::Forbidden)?;
    let period = chosen_period(&query.year, &query.month, today).map_err(|_| AppError::BadRequest("bad period"))?;
    let single = single_unit(query, &units);
    let (report, freeze) = report_for(state, units, single, period, today).await?;
    let heading = match freeze {
        Some((freeze, _)) => format!("{} (fastställd {} av {})", report.heading(), freeze.when(), freeze.frozen_by),
        None => report.heading(),
    };
    Ok((heading, report))
}

fn file_name(report: &AnnualReport, extension: &str) -> String {
    let stem = if report.period.month.is_some() {
        "manadsrapport"
    } else {
        "verksamhetsberattelse"
    };
    format!("attachment; filename=\"{stem}-{}.{extension}\"", report.period.file_name())
}

pub async fn csv_export(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    let (heading, report) = export_of(&state, &current, &query).await?;
    let body = super::csv(&heading, &report.tables);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, file_name(&report, "csv")),
        ],
        body,
    )
        .into_response())
}

pub async fn xlsx_export(State(state): State<AppState>, current: CurrentUser, Query(query): Query<ReportQuery>) -> AppResult<Response> {
    let (heading, report) = export_of(&state, &current, &query).await?;
    let body = super::xlsx(&heading, &report.tables).map_err(|e| AppError::Internal(anyhow::anyhow!("workbook: {e}")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, file_name(&report, "xlsx")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_period_is_a_year_up_to_this_one_or_a_month_that_has_begun() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert_eq!(chosen_period("", "", today), Ok(Period::year(2026)));
        assert_eq!(chosen_period(" 2025 ", "", today), Ok(Period::year(2025)));
        assert_eq!(chosen_period("2026", "11", today), Ok(Period::month(2026, 11)));
        assert_eq!(chosen_period("2026", "12", today).unwrap_err().0, "month");
        assert_eq!(chosen_period("2026", "0", today).unwrap_err().0, "month");
        assert_eq!(chosen_period("2027", "", today).unwrap_err().0, "year");
        assert!(chosen_period("1999", "", today).is_err());
        assert!(chosen_period("tjugo", "", today).is_err());
    }

    #[test]
    fn a_period_is_a_whole_month_or_year_and_over_after_its_last_day() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        let february = Period::month(2024, 2);
        assert_eq!((february.first_day(), february.last_day()), (day("2024-02-01"), day("2024-02-29")));
        assert_eq!(Period::year(2025).last_day(), day("2025-12-31"));
        assert!(!Period::month(2026, 10).is_over(day("2026-10-31")));
        assert!(Period::month(2026, 10).is_over(day("2026-11-01")));
        assert_eq!(Period::month(2026, 3).name(), "mars 2026");
        assert_eq!(Period::month(2026, 3).file_name(), "2026-03");
        assert_eq!(query_of("4", Period::month(2026, 3)), "unit=4&year=2026&month=3");
    }
}
