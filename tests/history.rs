//! Figures for a past date hold still (issue 16, point 1): a plan's hours,
//! its end, a renewal, boendestöd, the person's status and the unit's
//! capacity changed today leave every past month of the yearly report, every
//! past week of the overview's charts and the indicators of every past month
//! as they were.

mod common;

use chrono::{Datelike, NaiveDate};
use common::Page;
use common::attendance::visit;
use common::plans::{activate, draft, plan_form, setup};
use lotsen::audit::Stamp;
use lotsen::ids::{ParticipantId, UnitId, UserId};
use lotsen::participants::model::{EndReason, ParticipantStatus};
use lotsen::participants::store::StatusChange;
use lotsen::reports::indicators::{self, CellValue, Scope};
use lotsen::reports::{Table, annual};
use reqwest::StatusCode;
use sqlx::PgPool;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// A table's rows: label and cells as shown.
type Rows = Vec<(String, Vec<String>)>;

/// Every figure a past period shows: each past month's indicators, the
/// yearly report's month rows before this month, and the overview's bars
/// before this week.
#[derive(Debug, PartialEq)]
struct Past {
    indicators: Vec<(String, Rows)>,
    months: Vec<(String, String, Vec<String>)>,
    bars: Vec<Vec<(String, String)>>,
}

fn cells(cells: &[CellValue]) -> Vec<String> {
    cells.iter().map(CellValue::text).collect()
}

async fn past(db: &PgPool, s: &common::plans::Setup, manager: &common::Browser, unit: i64) -> Past {
    let today = lotsen::clock::Clock::today(&*s.app.clock);
    let units = vec![UnitId(unit)];
    let mut past = Past {
        indicators: Vec::new(),
        months: Vec::new(),
        bars: Vec::new(),
    };
    // The indicators of each month from January 2025 to last month.
    let mut first = day("2025-01-01");
    while first < today.with_day(1).unwrap() {
        let last = first.checked_add_months(chrono::Months::new(1)).unwrap() - chrono::Duration::days(1);
        let scope = Scope {
            units: units.clone(),
            from: first,
            to: last,
            today,
        };
        let facts = indicators::load(db, &scope).await.unwrap();
        for section in indicators::compute(&scope, &facts) {
            let table = Table::of_section(&section);
            past.indicators.push((
                format!("{first} {}", table.title),
                table.rows.iter().map(|r| (r.label.clone(), cells(&r.cells))).collect(),
            ));
        }
        first = last + chrono::Duration::days(1);
    }
    // The yearly report's rows by month, before this month.
    let report = annual::build(db, &Default::default(), units.clone(), annual::Period::year(2026), today)
        .await
        .unwrap();
    let this_month = lotsen::reports::MONTHS[today.month0() as usize];
    for table in report
        .tables
        .iter()
        .filter(|t| t.title == "Kapacitet" || t.title == "Besök per månad")
    {
        for row in table.rows.iter().filter(|r| r.label != this_month) {
            past.months.push((table.title.clone(), row.label.clone(), cells(&row.cells)));
        }
    }
    // The overview's charts, every week but this one.
    let page = manager.get_page(&format!("/dashboard?unit={unit}")).await;
    let charts = page
        .html
        .select(&scraper::Selector::parse("svg.chart").unwrap())
        .collect::<Vec<_>>();
    assert_eq!(charts.len(), 2, "visits and hours");
    for chart in charts {
        let texts = |class: &str| {
            chart
                .select(&scraper::Selector::parse(class).unwrap())
                .map(|t| t.text().collect::<String>())
                .collect::<Vec<_>>()
        };
        let mut bars: Vec<(String, String)> = texts("text.chart-label").into_iter().zip(texts("text.chart-value")).collect();
        bars.pop();
        past.bars.push(bars);
    }
    past
}

/// Someone young enough for Team ISA, registered as staff do, with the
/// staff member as kontaktman.
async fn young(s: &common::plans::Setup, name: &'static str, gender: &'static str) -> i64 {
    let overrides = [
        ("first_name", name),
        ("identity_kind", "none"),
        ("identity_number", ""),
        ("birth_date", "2000-01-01"),
        ("gender", gender),
    ];
    let response = common::participants::register(&s.staff, s.unit, &overrides).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let id: i64 = common::location(&response).trim_start_matches("/participants/").parse().unwrap();
    sqlx::query(
        "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, '2026-01-01', $2, now())",
    )
    .bind(id)
    .bind(s.staff_id)
    .execute(&s.app.db)
    .await
    .unwrap();
    id
}

fn month_row<'a>(past: &'a Past, table: &str, month: &str) -> &'a [String] {
    &past
        .months
        .iter()
        .find(|(t, m, _)| t == table && m == month)
        .unwrap_or_else(|| panic!("{table}: {month}"))
        .2
}

#[sqlx::test]
async fn changes_made_today_leave_every_past_figure_as_it_was(db: PgPool) {
    let s = setup(&db).await;
    let (_, manager_id) = s.app.signed_in_at(lotsen::auth::Role::Manager, s.unit).await;
    // Spring 2026: Anna on förstegsträning, 10 h a week, with 5 h of
    // boendestöd; Bo on Team ISA; both come to the centre.
    let anna = young(&s, "Anna", "woman").await;
    let bo = young(&s, "Bo", "man").await;
    let anna_plan = draft(&s.staff, anna, "first_step", &[]).await;
    assert_eq!(activate(&s.staff, anna_plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    let bo_plan = draft(&s.staff, bo, "team_isa", &[]).await;
    assert_eq!(activate(&s.staff, bo_plan, "2026-03-02").await.status(), StatusCode::SEE_OTHER);
    let support = |from: &'static str, hours: &'static str| {
        let staff = &s.staff;
        async move {
            let path = format!("/participants/{anna}");
            let fields = [("support_from", from), ("has_support", "yes"), ("support_hours", hours)];
            staff.submit(&path, &format!("{path}/home-support"), &fields).await
        }
    };
    assert_eq!(support("2026-03-02", "5").await.status(), StatusCode::SEE_OTHER);
    for (who, on) in [(anna, "2026-03-02"), (bo, "2026-03-03"), (anna, "2026-04-15"), (bo, "2026-09-10")] {
        visit(&db, who, on).await;
    }

    // Today, late in November.
    s.travel_to(2026, 11, 27).await;
    // The manager's session timed out over the jump: sign in again.
    let manager = s.app.sign_in_again(manager_id).await;
    let before = past(&db, &s, &manager, s.unit).await;
    assert_eq!(month_row(&before, "Kapacitet", "oktober"), ["10", "105", "1", "6"]);

    // Today's changes, made as users make them.
    let version: i32 = sqlx::query_scalar("SELECT version FROM plans WHERE id = $1")
        .bind(anna_plan)
        .fetch_one(&db)
        .await
        .unwrap();
    let fields = plan_form("first_step", &[("weekly_hours", "8"), ("version", &version.to_string())]);
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = format!("/plans/{anna_plan}/edit");
    assert_eq!(s.staff.submit(&path, &path, &borrowed).await.status(), StatusCode::SEE_OTHER);
    let plan_page = format!("/plans/{anna_plan}");
    let renewed = s
        .staff
        .submit(
            &plan_page,
            &format!("{plan_page}/renew"),
            &[("renewed_on", "2026-11-27"), ("renewal_review", "Gick igenom mål och timmar.")],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::SEE_OTHER);
    let bo_page = format!("/plans/{bo_plan}");
    let ended = s
        .staff
        .submit(
            &bo_page,
            &format!("{bo_page}/end"),
            &[("ended_on", "2026-11-27"), ("outcome", "employment")],
        )
        .await;
    assert_eq!(ended.status(), StatusCode::SEE_OTHER, "{}", Page::from(ended).await.html.html());
    assert_eq!(support("2026-11-27", "2").await.status(), StatusCode::SEE_OTHER);
    let stamp = Stamp {
        by: UserId(manager_id),
        at: lotsen::clock::Clock::now(&*s.app.clock),
    };
    lotsen::units::change(
        &db,
        UnitId(s.unit),
        lotsen::units::Settings {
            name: "Lotsen Centrum",
            active: true,
            hours: 90.0,
            places: 4,
            escalation_days: 14,
        },
        stamp,
    )
    .await
    .unwrap()
    .unwrap();
    lotsen::participants::store::change_status(
        &db,
        ParticipantId(anna),
        StatusChange {
            status: ParticipantStatus::Ended,
            on: day("2026-11-27"),
            end_reason: Some(EndReason::MovedOn),
            note: "",
        },
        day("2026-11-27"),
        stamp,
    )
    .await
    .unwrap()
    .unwrap();

    let after = past(&db, &s, &manager, s.unit).await;
    // The changes took effect: November has the new hours and capacity.
    let report = annual::build(
        &db,
        &Default::default(),
        vec![UnitId(s.unit)],
        annual::Period::year(2026),
        day("2026-11-27"),
    )
    .await
    .unwrap();
    let november = report
        .tables
        .iter()
        .find(|t| t.title == "Kapacitet")
        .and_then(|t| t.rows.iter().find(|r| r.label == "november"))
        .map(|r| cells(&r.cells))
        .unwrap();
    assert_eq!(
        november,
        ["8", "90", "0", "4"],
        "Anna's new hours, Bo's plan ended, the new capacity"
    );
    // And nothing before today moved.
    assert_eq!(after.months, before.months);
    assert_eq!(after.bars, before.bars);
    for (was, is) in before.indicators.iter().zip(&after.indicators) {
        assert_eq!(was, is, "indicators of {}", was.0);
    }
    assert_eq!(before.indicators.len(), after.indicators.len());
}
