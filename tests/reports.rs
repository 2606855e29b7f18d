//! Reports for managers (issue 7): every indicator against a hand-computed
//! fixture, people in two units counted once, "<5" and the secondary
//! suppression on the page, the CSV and the workbook holding the page's
//! numbers, capacity on the overview, and who may see these pages.

mod common;

use common::attendance::visit;

use chrono::NaiveDate;
use common::{Browser, Page, Person, TestApp, add_member};
use lotsen::attendance::statistics::Split;
use lotsen::auth::Role;
use lotsen::ids::UnitId;
use lotsen::reports::indicators::{self, Measure, Scope, Section};
use reqwest::StatusCode;
use sqlx::PgPool;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

struct Fixture {
    app: TestApp,
    a: i64,
    b: i64,
    manager: Browser,
}

/// A person of the indicator fixtures, registered in 2023: first contact and
/// first visit as given.
fn someone(unit: i64, name: &str, gender: &str, contact: &str, first_visit: Option<&str>) -> Person {
    Person::at(unit)
        .named(name, "Test")
        .gender(gender)
        .first_contact(contact)
        .first_visit(first_visit)
        .registered("2023-01-01")
}

/// A plan set on `set_on`; ended with `outcome` on `ended_on` when given.
async fn plan(
    db: &PgPool,
    participant: i64,
    programme: &str,
    hours: f64,
    set_on: &str,
    ended: Option<(&str, &str)>,
    employer: Option<i64>,
) -> i64 {
    // An active plan needs a kontaktman.
    sqlx::query(
        "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at)
         SELECT $1, min(id), '2020-01-01', min(id), now() FROM users
         WHERE NOT EXISTS (SELECT 1 FROM key_worker_assignments WHERE participant_id = $1)",
    )
    .bind(participant)
    .execute(db)
    .await
    .unwrap();
    sqlx::query_scalar(
        "INSERT INTO plans (participant_id, unit_id, programme, status, start_on, planned_end_on, weekly_hours, set_on,
                            next_follow_up_on, renewal_due_on, ended_on, outcome, employer_id, created_by, created_at, updated_by, updated_at)
         SELECT p.id, p.unit_id, $2, CASE WHEN $5::date IS NULL THEN 'active' ELSE 'ended' END, $4::date, $4::date + 700, $3::float8::numeric,
                $4::date, CASE WHEN $5::date IS NULL THEN DATE '2026-04-01' END, CASE WHEN $5::date IS NULL THEN DATE '2026-09-01' END,
                $5::date, $6, $7, u.id, now(), u.id, now()
         FROM participants p, (SELECT min(id) AS id FROM users) u WHERE p.id = $1
         RETURNING id",
    )
    .bind(participant)
    .bind(programme)
    .bind(hours)
    .bind(set_on)
    .bind(ended.map(|e| e.0))
    .bind(ended.map(|e| e.1))
    .bind(employer)
    .fetch_one(db)
    .await
    .unwrap()
}

async fn follow_up(db: &PgPool, plan: i64, due: &str, held: &str) {
    sqlx::query(
        "INSERT INTO follow_ups (plan_id, due_on, held_on, participant_took_part, weekly_hours_before, weekly_hours_after,
                                 next_due_on, recorded_by, recorded_at, notes)
         SELECT $1, $2::date, $3::date, true, 10, 10, $3::date + 90, min(id), now(), 'Gick igenom målen.' FROM users",
    )
    .bind(plan)
    .bind(due)
    .bind(held)
    .execute(db)
    .await
    .unwrap();
}

async fn home_support(db: &PgPool, participant: i64, from: &str, hours: f64) {
    sqlx::query(
        "INSERT INTO home_support_entries (participant_id, valid_from, has_support, hours_per_week, recorded_by, recorded_at)
         SELECT $1, $2::date, true, $3::float8::numeric, min(id), now() FROM users",
    )
    .bind(participant)
    .bind(from)
    .bind(hours)
    .execute(db)
    .await
    .unwrap();
}

/// The fixture. Today is 2026-03-02 (the test clock); the period is this
/// year so far, 2026-01-01 – 2026-03-02, and last year's is 2025-01-01 – 2025-03-02.
async fn fixture(db: &PgPool) -> Fixture {
    let app = TestApp::spawn(db.clone()).await;
    let a = common::create_unit(db, "Lotsen Centrum").await;
    let b = common::create_unit(db, "Lotsen Väst").await;
    let (manager, manager_id) = app.signed_in_at(Role::Manager, a).await;
    add_member(db, manager_id, b).await;

    // Anna, a woman with records in both units (one person): first contact
    // 5 January, first visit 10 January (5 days); visits in both units.
    let anna_a = someone(a, "Anna", "woman", "2026-01-05", Some("2026-01-10"))
        .number(Some("199001012384"))
        .insert(db)
        .await;
    let anna_b = someone(b, "Anna", "woman", "2026-01-08", Some("2026-02-03"))
        .number(Some("199001012384"))
        .insert(db)
        .await;
    visit(db, anna_a, "2026-01-10").await;
    visit(db, anna_a, "2026-02-02").await;
    visit(db, anna_b, "2026-02-03").await;
    // Bo, a man: first contact 20 January, first visit 10 February (21 days); has a SIP.
    let bo = someone(a, "Bo", "man", "2026-01-20", Some("2026-02-10")).insert(db).await;
    visit(db, bo, "2026-02-10").await;
    sqlx::query("UPDATE participants SET has_coordinated_plan = true, coordinated_plan_on = '2026-01-01' WHERE id = $1")
        .bind(bo)
        .execute(db)
        .await
        .unwrap();
    // Cleo (annat/ej angivet): a visit last year, a förstegsträning plan
    // since September with two follow-ups' worth of history (one late).
    let cleo = someone(b, "Cleo", "other_or_unstated", "2025-01-15", Some("2025-02-10"))
        .insert(db)
        .await;
    visit(db, cleo, "2025-02-10").await;
    let cleo_plan = plan(db, cleo, "first_step", 10.0, "2025-09-01", None, None).await;
    follow_up(db, cleo_plan, "2026-01-10", "2026-01-15").await;
    // Dan, a man: first contact 25 February, not yet come (5 days: still in time).
    someone(a, "Dan", "man", "2026-02-25", None).insert(db).await;
    // Eva, a woman: Team ISA at an employer from 1 March 2025 to 15 February
    // 2026, left for work; her record ended 20 February. Boendestöd 10 h, 4 h since January.
    let eva = someone(a, "Eva", "woman", "2025-01-10", Some("2025-01-12")).insert(db).await;
    let employer: i64 = sqlx::query_scalar(
        "INSERT INTO employers (name, created_by, created_at) SELECT 'Bageriet', min(id), now() FROM users RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let eva_plan = plan(
        db,
        eva,
        "team_isa",
        20.0,
        "2025-03-01",
        Some(("2026-02-15", "employment")),
        Some(employer),
    )
    .await;
    follow_up(db, eva_plan, "2026-01-25", "2026-01-20").await;
    sqlx::query("UPDATE participants SET status = 'ended', ended_on = '2026-02-20', end_reason = 'moved_on' WHERE id = $1")
        .bind(eva)
        .execute(db)
        .await
        .unwrap();
    home_support(db, eva, "2025-01-01", 10.0).await;
    home_support(db, eva, "2026-01-01", 4.0).await;
    // Finn, a man: left förstegsträning for work in June 2025, came back in February.
    let finn = someone(a, "Finn", "man", "2023-12-01", Some("2023-12-05")).insert(db).await;
    plan(db, finn, "first_step", 8.0, "2024-01-01", Some(("2025-06-30", "employment")), None).await;
    visit(db, finn, "2026-02-05").await;
    // Six more women with a visit each; the first has a SIP.
    for n in 1..=6 {
        let gun = someone(a, &format!("Gun{n}"), "woman", "2025-05-01", Some("2025-05-02"))
            .insert(db)
            .await;
        visit(db, gun, "2026-02-09").await;
        if n == 1 {
            sqlx::query("UPDATE participants SET has_coordinated_plan = true WHERE id = $1")
                .bind(gun)
                .execute(db)
                .await
                .unwrap();
        }
    }
    Fixture { app, a, b, manager }
}

fn split(women: i64, men: i64, other: i64) -> Split {
    Split { women, men, other }
}

fn find<'a>(sections: &'a [Section], key: &str) -> &'a Measure {
    &sections
        .iter()
        .find_map(|s| s.get(key))
        .unwrap_or_else(|| panic!("no indicator {key}"))
        .measure
}

fn count(sections: &[Section], key: &str) -> Split {
    match find(sections, key) {
        Measure::Count(c) => c.split.clone(),
        other => panic!("{key} is not a count: {other:?}"),
    }
}

fn share(sections: &[Section], key: &str) -> (Split, Split) {
    match find(sections, key) {
        Measure::Share { part, whole } => (part.clone(), whole.clone()),
        other => panic!("{key} is not a share: {other:?}"),
    }
}

fn mean(sections: &[Section], key: &str) -> ([f64; 3], Split) {
    match find(sections, key) {
        Measure::Mean { sums, n } => (*sums, n.clone()),
        other => panic!("{key} is not a mean: {other:?}"),
    }
}

async fn computed(db: &PgPool, units: Vec<i64>) -> Vec<Section> {
    let scope = Scope {
        units: units.into_iter().map(UnitId).collect(),
        from: day("2026-01-01"),
        to: day("2026-03-02"),
        today: day("2026-03-02"),
    };
    let facts = indicators::load(db, &scope).await.unwrap();
    indicators::compute(&scope, &facts)
}

/// "Visited in the period" across a new year: the days of each year that
/// fall in the period count, the days next to them do not, and a year the
/// period covers up to today needs no mask.
#[sqlx::test]
async fn a_period_across_the_new_year_counts_the_visits_inside_it(db: PgPool) {
    common::create_user(&db, "kim@example.se", Role::Staff, "ett långt lösenord här").await;
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    let inside_december = someone(unit, "Ines", "woman", "2020-01-01", Some("2020-01-01")).insert(&db).await;
    let inside_january = someone(unit, "Ivar", "man", "2020-01-01", Some("2020-01-01")).insert(&db).await;
    let before = someone(unit, "Bea", "woman", "2020-01-01", Some("2020-01-01")).insert(&db).await;
    let after = someone(unit, "Axel", "man", "2020-01-01", Some("2020-01-01")).insert(&db).await;
    visit(&db, inside_december, "2025-12-20").await;
    visit(&db, inside_january, "2026-01-05").await;
    visit(&db, before, "2025-12-19").await;
    visit(&db, after, "2026-01-06").await;
    let supported = |to: &str, today: &str| {
        let scope = Scope {
            units: vec![UnitId(unit)],
            from: day("2025-12-20"),
            to: day(to),
            today: day(today),
        };
        let db = db.clone();
        async move {
            count(
                &indicators::compute(&scope, &indicators::load(&db, &scope).await.unwrap()),
                "supported",
            )
        }
    };
    assert_eq!(supported("2026-01-05", "2026-03-02").await, split(1, 1, 0), "Ines and Ivar");
    // Up to today, 2026 is covered whole: Axel's visit on the 6th counts too.
    assert_eq!(supported("2026-01-06", "2026-01-06").await, split(1, 2, 0), "Ines, Ivar and Axel");
}

/// Coming back after work is seen on any record of the person: Hugo left a
/// plan for work at one unit and came back to the other, under the same
/// personnummer. A report on the second unit alone does not see the plan.
#[sqlx::test]
async fn coming_back_counts_on_any_record_of_the_person(db: PgPool) {
    common::create_user(&db, "kim@example.se", Role::Staff, "ett långt lösenord här").await;
    let a = common::create_unit(&db, "Lotsen Centrum").await;
    let b = common::create_unit(&db, "Lotsen Väst").await;
    let at_a = someone(a, "Hugo", "man", "2024-01-01", Some("2024-01-02"))
        .number(Some("199002022385"))
        .insert(&db)
        .await;
    let at_b = someone(b, "Hugo", "man", "2026-01-10", Some("2026-01-12"))
        .number(Some("199002022385"))
        .insert(&db)
        .await;
    plan(&db, at_a, "first_step", 8.0, "2024-02-01", Some(("2025-06-30", "employment")), None).await;
    visit(&db, at_b, "2026-02-01").await;
    let came_back = |units: Vec<i64>| {
        let scope = Scope {
            units: units.into_iter().map(UnitId).collect(),
            from: day("2026-01-01"),
            to: day("2026-03-02"),
            today: day("2026-03-02"),
        };
        let db = db.clone();
        async move {
            count(
                &indicators::compute(&scope, &indicators::load(&db, &scope).await.unwrap()),
                "came_back",
            )
        }
    };
    assert_eq!(came_back(vec![a, b]).await, split(0, 1, 0));
    assert_eq!(came_back(vec![b]).await, split(0, 0, 0));
}

/// The facts kept between requests follow every change: a record's gender
/// changed, a plan ended, boendestöd recorded and a visit undone all show in
/// the next report, whichever connection made them.
#[sqlx::test]
async fn kept_facts_follow_every_change(db: PgPool) {
    let f = fixture(&db).await;
    let cache = indicators::FactCache::default();
    let scope = Scope {
        units: vec![UnitId(f.a), UnitId(f.b)],
        from: day("2026-01-01"),
        to: day("2026-03-02"),
        today: day("2026-03-02"),
    };
    let report = || async { indicators::compute(&scope, &indicators::load_cached(&db, &cache, &scope).await.unwrap()) };
    let first = report().await;
    assert_eq!(count(&first, "supported"), split(8, 2, 1));
    // Kept, not read again: a change that does not move the version (its
    // trigger switched off for the test) is not seen.
    sqlx::query("ALTER TABLE participants DISABLE TRIGGER participants_bump_fact_version")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("UPDATE participants SET gender = 'man' WHERE first_name = 'Gun1'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(count(&report().await, "supported"), split(8, 2, 1), "the kept facts");
    sqlx::query("UPDATE participants SET gender = 'woman' WHERE first_name = 'Gun1'")
        .execute(&db)
        .await
        .unwrap();
    sqlx::query("ALTER TABLE participants ENABLE TRIGGER participants_bump_fact_version")
        .execute(&db)
        .await
        .unwrap();
    let version = || async {
        sqlx::query_scalar::<_, i64>("SELECT version FROM fact_versions WHERE facts = 'indicators'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    let before = version().await;
    // Bo becomes "annat": one transaction, two rows changed, one new version.
    let mut tx = db.begin().await.unwrap();
    sqlx::query("UPDATE participants SET gender = 'other_or_unstated' WHERE first_name = 'Bo'")
        .execute(&mut *tx)
        .await
        .unwrap();
    sqlx::query("UPDATE participants SET updated_at = updated_at WHERE first_name = 'Finn'")
        .execute(&mut *tx)
        .await
        .unwrap();
    assert_eq!(version().await, before, "not moved before the commit");
    tx.commit().await.unwrap();
    assert_eq!(version().await, before + 1);
    assert_eq!(count(&report().await, "supported"), split(8, 1, 2));
    // Cleo's plan (the only one in the period for "annat") ends with work.
    sqlx::query(
        "UPDATE plans SET status = 'ended', ended_on = '2026-02-20', outcome = 'employment', next_follow_up_on = NULL, renewal_due_on = NULL
         WHERE participant_id = (SELECT id FROM participants WHERE first_name = 'Cleo')",
    )
    .execute(&db)
    .await
    .unwrap();
    assert_eq!(count(&report().await, "employment"), split(1, 0, 1));
    // Boendestöd for Eva on the day her plan was set: her start changes.
    let eva: i64 = sqlx::query_scalar("SELECT id FROM participants WHERE first_name = 'Eva'")
        .fetch_one(&db)
        .await
        .unwrap();
    home_support(&db, eva, "2025-03-01", 6.0).await;
    assert_eq!(mean(&report().await, "support_hours_start"), ([6.0, 0.0, 0.0], split(1, 0, 0)));
    // A visit undone moves no version; it is read afresh anyway.
    sqlx::query("UPDATE visits SET cancelled_at = now(), cancelled_by = created_by WHERE visit_on = '2026-02-10'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        count(&report().await, "supported"),
        split(8, 1, 1),
        "Bo (now annat) has no visit left"
    );
}

#[sqlx::test]
async fn every_indicator_matches_the_hand_computed_fixture(db: PgPool) {
    let f = fixture(&db).await;
    let s = computed(&db, vec![f.a, f.b]).await;
    // Anna is in both units and counted once: 8 women, not 9.
    assert_eq!(
        count(&s, "supported"),
        split(8, 2, 1),
        "Anna, Eva (plan), six Gun; Bo, Finn; Cleo (plan)"
    );
    assert_eq!(
        count(&s, "supported_last_year"),
        split(1, 1, 1),
        "Eva's and Finn's plans; Cleo's visit"
    );
    assert_eq!(count(&s, "new"), split(1, 2, 0), "Anna (5 Jan, her earliest record), Bo, Dan");
    assert_eq!(count(&s, "ended"), split(1, 0, 0), "Eva");
    assert_eq!(count(&s, "efforts"), split(1, 0, 1), "Eva's and Cleo's plans");
    assert_eq!(
        count(&s, "efforts_last_year"),
        split(1, 1, 0),
        "Eva's (set 1 March 2025) and Finn's"
    );
    assert_eq!(count(&s, "moved_on"), split(1, 0, 0));
    assert_eq!(count(&s, "employment"), split(1, 0, 0));
    assert_eq!(count(&s, "reinforced_cooperation"), split(0, 0, 0));
    assert_eq!(count(&s, "ended_plans"), split(1, 0, 0));
    let (sums, n) = mean(&s, "months_before_moving_on");
    assert_eq!(n, split(1, 0, 0));
    assert!(
        (sums[0] - 351.0 / 30.44).abs() < 1e-9,
        "1 March 2025 to 15 February 2026 is 351 days"
    );
    assert_eq!(count(&s, "came_back"), split(0, 1, 0), "Finn");
    assert_eq!(count(&s, "support_less"), split(1, 0, 0));
    assert_eq!(count(&s, "support_same"), split(0, 0, 0));
    assert_eq!(count(&s, "support_more"), split(0, 0, 0));
    // Eva's window closed when her plan ended on 15 February (before 1
    // March 2026); Cleo's closes in September, after the period.
    assert_eq!(mean(&s, "support_hours_start"), ([10.0, 0.0, 0.0], split(1, 0, 0)));
    assert_eq!(mean(&s, "support_hours_after"), ([4.0, 0.0, 0.0], split(1, 0, 0)));
    assert_eq!(
        share(&s, "within_10_days"),
        (split(1, 0, 0), split(1, 1, 0)),
        "Anna in 5 days, Bo in 21; Dan still in time"
    );
    assert_eq!(mean(&s, "days_to_first_visit"), ([5.0, 21.0, 0.0], split(1, 1, 0)));
    assert_eq!(
        share(&s, "follow_ups_on_time"),
        (split(1, 0, 0), split(1, 0, 1)),
        "Eva's on time, Cleo's late"
    );
    assert_eq!(
        share(&s, "plans_renewed"),
        (split(0, 0, 1), split(0, 0, 1)),
        "only Cleo's runs on 2 March; set in September"
    );
    assert_eq!(
        share(&s, "coordinated_plan"),
        (split(1, 1, 0), split(8, 2, 1)),
        "Gun1 and Bo have a SIP"
    );
    assert_eq!(find(&s, "employers"), &Measure::Total(1));
    assert_eq!(count(&s, "placements"), split(1, 0, 0));

    // Undoing Bo's only visit takes him out at once: the summaries the
    // visits' trigger keeps follow the undo, and a new visit the same day.
    let counts = |db: PgPool| async move {
        sqlx::query_scalar::<_, i32>("SELECT coalesce(sum(visits), 0)::int FROM visit_day_counts WHERE visit_on = '2026-02-10'")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    assert_eq!(counts(db.clone()).await, 1);
    sqlx::query("UPDATE visits SET cancelled_at = now(), cancelled_by = created_by WHERE visit_on = '2026-02-10'")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(counts(db.clone()).await, 0);
    let after = computed(&db, vec![f.a, f.b]).await;
    assert_eq!(count(&after, "supported"), split(8, 1, 1), "Bo has no visit left");
    let bo: i64 = sqlx::query_scalar("SELECT id FROM participants WHERE first_name = 'Bo'")
        .fetch_one(&db)
        .await
        .unwrap();
    visit(&db, bo, "2026-02-10").await;
    assert_eq!(counts(db.clone()).await, 1);
    // A visit removed outright (disposal) is counted out too.
    sqlx::query("DELETE FROM visits WHERE visit_on = '2026-02-10' AND cancelled_at IS NULL")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(counts(db.clone()).await, 0);
    assert_eq!(count(&computed(&db, vec![f.a, f.b]).await, "supported"), split(8, 1, 1));
    visit(&db, bo, "2026-02-10").await;
    assert_eq!(count(&computed(&db, vec![f.a, f.b]).await, "supported"), split(8, 2, 1));

    // One unit: only its records count.
    let only_b = computed(&db, vec![f.b]).await;
    assert_eq!(count(&only_b, "supported"), split(1, 0, 1), "Anna's Väst record and Cleo");
    assert_eq!(count(&only_b, "new"), split(1, 0, 0), "Anna's Väst record: first contact 8 January");
}

/// Every figures row on the page: its label, then its cells.
fn all_rows(page: &Page) -> Vec<Vec<String>> {
    let rows = scraper::Selector::parse("table.figures tbody tr").unwrap();
    let cells = scraper::Selector::parse("th, td").unwrap();
    page.html
        .select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| c.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" "))
                .collect()
        })
        .collect()
}

/// The cells of the figures row labelled `label`, each cell's text.
fn row_cells(page: &Page, label: &str) -> Vec<String> {
    let rows = scraper::Selector::parse("table.figures tbody tr").unwrap();
    let th = scraper::Selector::parse("th").unwrap();
    let td = scraper::Selector::parse("td").unwrap();
    let text = |e: scraper::ElementRef| e.text().collect::<String>().split_whitespace().collect::<Vec<_>>().join(" ");
    let row = page
        .html
        .select(&rows)
        .find(|r| r.select(&th).next().is_some_and(|h| text(h) == label))
        .unwrap_or_else(|| panic!("no row {label}"));
    row.select(&td).map(text).collect()
}

#[sqlx::test]
async fn small_numbers_show_as_under_five_and_the_total_gives_nothing_away(db: PgPool) {
    let f = fixture(&db).await;
    let page = f.manager.get_page("/indicators").await;
    // 8 women, 2 men, 1 annat: the 2 and the 1 are "<5"; the 11 would give
    // away 3 for the two of them, so the 8 is hidden too.
    assert_eq!(row_cells(&page, "Personer som fått stöd"), ["..", "<5", "<5", "11"]);
    assert_eq!(row_cells(&page, "Nya personer"), ["<5", "<5", "0", "<5"]);
    // Shares on fewer than five are not shown.
    assert_eq!(
        row_cells(&page, "Uppföljningar hållna i tid, andel (%)"),
        ["för få", "–", "för få", "för få"]
    );
    assert!(page.text("details.how").contains("Så räknas det"));
    // A bad period: a message by the field, and what was typed kept.
    let bad = f.manager.get("/indicators?from=2026-03-01&to=2026-01-01").await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = Page::from(bad).await;
    assert!(bad.error("Till och med").contains("före startdatum"));
    assert_eq!(bad.value("Från"), "2026-03-01");
    let year_zero = f.manager.get("/indicators?from=0000-01-01").await;
    assert_eq!(year_zero.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(Page::from(year_zero).await.error("Från").contains("mellan år 2000 och 2100"));
}

#[sqlx::test]
async fn the_csv_and_the_workbook_hold_the_numbers_on_the_page(db: PgPool) {
    let f = fixture(&db).await;
    let page = f.manager.get_page("/annual-report?unit=all&year=2026").await;
    let on_page = row_cells(&page, "Personer som fått stöd");
    assert_eq!(on_page, ["..", "<5", "<5", "11"]);
    let open_days = row_cells(&page, "Lotsen Centrum");

    let csv = f.manager.get("/annual-report.csv?unit=all&year=2026").await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let text = csv.text().await.unwrap();
    assert!(text.starts_with('\u{feff}'), "a BOM for Excel");
    let lines: Vec<Vec<&str>> = text
        .trim_start_matches('\u{feff}')
        .split("\r\n")
        .map(|l| l.split(';').collect())
        .collect();
    let csv_row = |label: &str| {
        lines
            .iter()
            .find(|l| l[0] == label)
            .unwrap_or_else(|| panic!("no CSV row {label}"))
            .clone()
    };
    assert_eq!(csv_row("Personer som fått stöd")[1..], on_page[..]);
    assert_eq!(csv_row("Lotsen Centrum")[1..], open_days[..]);
    // A mean with a decimal comma, as on the page.
    let months = row_cells(&page, "Tid i insatsen innan man gått vidare, månader (medel)");
    assert_eq!(csv_row("Tid i insatsen innan man gått vidare, månader (medel)")[1..], months[..]);

    let xlsx = f.manager.get("/annual-report.xlsx?unit=all&year=2026").await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).unwrap();
    let mut found = None;
    let mut days = None;
    let mut sheet_rows: Vec<Vec<String>> = Vec::new();
    let mut definitions: Vec<String> = Vec::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).unwrap();
        if name == "Definitioner" {
            definitions = range.rows().filter_map(|r| r.get(2).map(|c| c.to_string())).collect();
            continue;
        }
        for row in range.rows() {
            let label = row[0].to_string();
            let cells: Vec<String> = row[1..]
                .iter()
                .filter(|c| !matches!(c, Data::Empty))
                .map(|c| match c {
                    Data::Float(n) if n.fract() == 0.0 => format!("{n:.0}"),
                    // Excel shows the decimal comma of its locale; the value is the number.
                    Data::Float(n) => n.to_string().replace('.', ","),
                    other => other.to_string(),
                })
                .collect();
            let mut whole = vec![label.clone()];
            whole.extend(cells.iter().cloned());
            sheet_rows.push(whole);
            if label == "Personer som fått stöd" && found.is_none() {
                found = Some((cells.clone(), matches!(row[4], Data::Float(_))));
            }
            if label == "Lotsen Centrum" && days.is_none() {
                days = Some(cells);
            }
        }
    }
    // Every row of every table on the page is in the CSV and in the workbook, cell for cell.
    let csv_lines: Vec<Vec<String>> = lines.iter().map(|l| l.iter().map(|c| c.to_string()).collect()).collect();
    for row in all_rows(&page) {
        assert!(csv_lines.contains(&row), "CSV lacks {row:?}");
        assert!(sheet_rows.contains(&row), "workbook lacks {row:?}");
    }
    // Each "så räknas det" of the page is on the workbook's definitions sheet.
    let on_page_definitions = page.texts("details.how dd");
    assert!(on_page_definitions.len() >= 20, "{on_page_definitions:?}");
    for how in &on_page_definitions {
        assert!(definitions.contains(how), "the definitions sheet lacks {how:?}");
    }
    let (cells, total_is_number) = found.expect("the row in the workbook");
    assert_eq!(cells, on_page);
    assert!(total_is_number, "numbers are numbers in Excel");
    assert_eq!(days.expect("open days in the workbook"), open_days);
    // The open days against the target: 2026 has 261 weekdays, of which 10
    // are holidays or eves (1 and 6 Jan, 3 and 6 Apr, 1 and 14 May, 19 Jun,
    // 24, 25 and 31 Dec).
    assert_eq!(open_days, ["251", "230"]);
}

#[sqlx::test]
async fn the_overview_shows_capacity_in_use_and_follows_the_setting(db: PgPool) {
    let f = fixture(&db).await;
    let page = f.manager.get_page(&format!("/dashboard?unit={}", f.b)).await;
    // Cleo's 10 hours of 105 in Väst; no Team ISA place in use.
    let row = page.texts("table.figures tbody tr").join("|");
    assert!(row.contains("10 av 105 (10 %)"), "{row}");
    assert!(row.contains("0 av 6"), "{row}");
    // The setting lowered to exactly what is used: full, nothing free.
    sqlx::query("UPDATE units SET first_step_hours = 10, team_isa_places = 0 WHERE id = $1")
        .bind(f.b)
        .execute(&db)
        .await
        .unwrap();
    let page = f.manager.get_page(&format!("/dashboard?unit={}", f.b)).await;
    let cells = row_cells(&page, "Lotsen Väst");
    assert_eq!(cells, ["10 av 10 (100 %)", "0", "1", "0 av 0", "0"]);
    // Visits this month against last year's, and the charts.
    assert!(page.count("svg.chart") == 2);

    // Visits today: the six Gun check in on 2 March (their counts land in
    // different shards of the daily counts), one of them also came on
    // 1 March, and Cleo came on 2 March a year ago.
    let guns: Vec<i64> = sqlx::query_scalar("SELECT id FROM participants WHERE first_name LIKE 'Gun%' ORDER BY id")
        .fetch_all(&db)
        .await
        .unwrap();
    for gun in &guns {
        visit(&db, *gun, "2026-03-02").await;
    }
    visit(&db, guns[0], "2026-03-01").await;
    let cleo: i64 = sqlx::query_scalar("SELECT id FROM participants WHERE first_name = 'Cleo'")
        .fetch_one(&db)
        .await
        .unwrap();
    visit(&db, cleo, "2025-03-02").await;
    let page = f.manager.get_page("/dashboard").await;
    let visits = page.text("main");
    assert!(visits.contains("I dag: 6 besök"), "{visits}");
    assert!(visits.contains("hittills: 7 besök, samma dagar i fjol 1"), "{visits}");
}

#[sqlx::test]
async fn only_managers_and_admins_reach_the_reports(db: PgPool) {
    let f = fixture(&db).await;
    let (staff, _) = f.app.signed_in_at(Role::Staff, f.a).await;
    for path in [
        "/dashboard",
        "/indicators",
        "/annual-report",
        "/annual-report.csv",
        "/annual-report.xlsx",
        "/indicators/people?key=supported",
    ] {
        assert_eq!(staff.get(path).await.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(f.manager.get(path).await.status(), StatusCode::OK, "{path}");
    }
    let (admin, _) = f.app.signed_in_at(Role::Admin, f.a).await;
    assert_eq!(admin.get("/indicators").await.status(), StatusCode::OK);
    // A unit the manager does not belong to is refused.
    let other = common::create_unit(&db, "Lotsen Öst").await;
    assert_eq!(
        f.manager.get(&format!("/dashboard?unit={other}")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        f.manager.get(&format!("/annual-report.csv?unit={other}")).await.status(),
        StatusCode::FORBIDDEN
    );
    // The staff member sees no links to them either.
    let home = staff.get_page("/").await;
    assert_eq!(home.count("a[href='/indicators']"), 0);
}

#[sqlx::test]
async fn people_whose_first_contact_is_unknown_are_left_out_of_the_ten_days_and_the_label_says_so(db: PgPool) {
    let unit = common::create_unit(&db, "Lotsen Centrum").await;
    common::create_user(&db, "reception@lotsen.example", Role::Staff, "lösenord-för-test-1").await;
    someone(unit, "Anna", "woman", "2026-01-10", Some("2026-01-12")).insert(&db).await;
    for name in ["Bo", "Cleo"] {
        Person::at(unit).named(name, "Test").registered("2026-01-20").insert(&db).await;
    }
    let sections = computed(&db, vec![unit]).await;
    let within = sections.iter().find_map(|s| s.get("within_10_days")).unwrap();
    assert!(
        within.label.ends_with("<5 med okänd första kontakt räknas inte"),
        "{}",
        within.label
    );
    let (part, whole) = share(&sections, "within_10_days");
    assert_eq!(
        (part.total(), whole.total()),
        (1, 1),
        "only the person with a known first contact counts"
    );
}

/// Drill-down: every linked count on the indicators page opens a list as
/// long as the figure behind it (also where the page shows "<5"), and the
/// opening is in the access log for each person listed.
#[sqlx::test]
async fn every_count_opens_the_list_of_people_behind_it(db: PgPool) {
    let f = fixture(&db).await;
    let sections = computed(&db, vec![f.a, f.b]).await;
    let page = f.manager.get_page("/indicators?unit=all&from=2026-01-01&to=2026-03-02").await;
    let links: Vec<String> = page
        .html
        .select(&scraper::Selector::parse("table.figures td a").unwrap())
        .filter_map(|a| a.value().attr("href").map(str::to_string))
        .collect();
    assert!(links.len() >= 10, "{links:?}");
    let mut opened = 0;
    for link in &links {
        let query: std::collections::HashMap<String, String> = url_query(link);
        let counted = match find(&sections, &query["key"]) {
            Measure::Count(c) => c.split.clone(),
            other => panic!("a link on a figure that is not a count: {other:?}"),
        };
        let expected = match query.get("gender").map(String::as_str) {
            Some("woman") => counted.women,
            Some("man") => counted.men,
            Some("other_or_unstated") => counted.other,
            None => counted.total(),
            Some(other) => panic!("gender {other}"),
        };
        let list = f.manager.get_page(link).await;
        let rows = list.count("main tbody tr") as i64;
        assert_eq!(rows, expected, "{link}");
        assert!(expected > 0, "no link on nothing: {link}");
        opened += 1;
    }
    assert_eq!(opened, links.len());
    // Employment among women: Eva left for work in the period; the page
    // shows "<5", the list shows her.
    let employed = f
        .manager
        .get_page("/indicators/people?unit=all&from=2026-01-01&to=2026-03-02&key=employment&gender=woman")
        .await;
    assert_eq!(employed.texts("main tbody th"), ["Eva Test"]);
    let logged: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM access_log a JOIN participants p ON p.id = a.participant_id
         WHERE a.action = 'report_list' AND p.first_name = 'Eva'",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(logged >= 1);
    // A figure that is not a count, and a unit that is not the manager's, list nobody.
    assert_eq!(
        f.manager.get("/indicators/people?key=within_10_days").await.status(),
        StatusCode::NOT_FOUND
    );
    let other = common::create_unit(&db, "Lotsen Öst").await;
    assert_eq!(
        f.manager
            .get(&format!("/indicators/people?unit={other}&key=supported"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}

fn url_query(link: &str) -> std::collections::HashMap<String, String> {
    let query = link.split_once('?').map_or("", |(_, q)| q);
    form_urlencoded::parse(query.as_bytes()).into_owned().collect()
}

/// The overview's counts open the same lists: as many rows as the count.
#[sqlx::test]
async fn every_count_on_the_overview_opens_its_list(db: PgPool) {
    let f = fixture(&db).await;
    sqlx::query("UPDATE plans SET next_follow_up_on = '2026-02-20' WHERE status = 'active' AND programme = 'first_step'")
        .execute(&db)
        .await
        .unwrap();
    let page = f.manager.get_page("/dashboard?unit=all").await;
    let links: Vec<(String, String)> = page
        .html
        .select(&scraper::Selector::parse("main td a").unwrap())
        .filter_map(|a| {
            let href = a.value().attr("href")?;
            href.starts_with("/dashboard/people")
                .then(|| (href.to_string(), a.text().collect::<String>()))
        })
        .collect();
    let keys: Vec<String> = links.iter().map(|(href, _)| url_query(href)["key"].clone()).collect();
    assert!(keys.contains(&"first_step".to_string()), "{keys:?}");
    assert!(keys.contains(&"follow_ups_overdue".to_string()), "{keys:?}");
    for (href, count) in &links {
        let list = f.manager.get_page(href).await;
        assert_eq!(list.count("main tbody tr").to_string(), *count, "{href}");
    }
    assert_eq!(f.manager.get("/dashboard/people?key=nothing").await.status(), StatusCode::NOT_FOUND);
}

/// A report kept in memory between requests is never older than the data:
/// a visit, a follow-up, a closed day or a changed person shows at once.
#[sqlx::test]
async fn a_kept_report_follows_every_change(db: PgPool) {
    let f = fixture(&db).await;
    let indicators = "/indicators?unit=all&from=2026-01-01&to=2026-03-02";
    let supported = |page: &Page| row_cells(page, "Personer som fått stöd")[3].clone();
    let first = f.manager.get_page(indicators).await;
    assert_eq!(
        supported(&f.manager.get_page(indicators).await),
        supported(&first),
        "the same, kept"
    );
    // A visit of someone who had none this year.
    let hugo = someone(f.a, "Hugo", "man", "2025-01-10", Some("2025-01-12")).insert(&db).await;
    visit(&db, hugo, "2026-02-20").await;
    let after_visit = f.manager.get_page(indicators).await;
    assert_ne!(supported(&after_visit), supported(&first), "the new visit counts at once");
    // A follow-up recorded straight in the table.
    let follow_ups = |page: &Page| row_cells(page, "Uppföljningar hållna i tid, andel (%)");
    let plan: i64 =
        sqlx::query_scalar("SELECT pl.id FROM plans pl JOIN participants p ON p.id = pl.participant_id WHERE p.first_name = 'Eva'")
            .fetch_one(&db)
            .await
            .unwrap();
    for held in ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"] {
        follow_up(&db, plan, "2026-01-10", held).await;
    }
    assert_ne!(follow_ups(&f.manager.get_page(indicators).await), follow_ups(&after_visit));
    // A day closed in the calendar changes the yearly report's open days.
    let annual = format!("/annual-report?unit={}&year=2026", f.a);
    let open_days = |page: &Page| row_cells(page, "Lotsen Centrum");
    let before = open_days(&f.manager.get_page(&annual).await);
    sqlx::query(
        "INSERT INTO opening_exceptions (unit_id, day, kind, created_by, created_at) SELECT $1, '2026-06-03', 'closed', min(id), now() FROM users",
    )
    .bind(f.a)
    .execute(&db)
    .await
    .unwrap();
    let after = open_days(&f.manager.get_page(&annual).await);
    assert_eq!(
        after[0].parse::<i64>().unwrap() + 1,
        before[0].parse::<i64>().unwrap(),
        "{before:?} {after:?}"
    );
}
