//! IPS-trohet (issue 19, point 7): for Team ISA, the items of the IPS
//! fidelity scale that the records answer, per unit and per staff member,
//! each with what it is and where its number comes from (the levels are
//! `domain::ips`).

use crate::auth::context::Layout;
use crate::auth::{CurrentUser, Role};
use crate::domain::ips::{self, CASELOAD_MAX, DAYS_TO_EMPLOYER_CONTACT, EMPLOYER_CONTACTS_PER_WEEK};
use crate::error::AppResult;
use crate::ids::{UnitId, UserId};
use crate::participants::UnitChoice;
use crate::state::AppState;
use crate::web::form::Query;
use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct IpsQuery {
    unit: String,
    from: String,
    to: String,
}

/// One item: what it is, where its number comes from, the unit's value and
/// the level asked for.
pub struct Item {
    pub name: &'static str,
    pub what: String,
    pub source: &'static str,
    pub value: String,
    pub level: String,
    pub met: Option<bool>,
}

/// One staff member's part.
#[derive(Default)]
pub struct StaffRow {
    pub name: String,
    pub caseload: i64,
    pub employer_contacts: i64,
    pub started: i64,
    pub within_days: i64,
    pub median_days: Option<i64>,
}

#[derive(Template)]
#[template(path = "reports/ips.html")]
struct Page {
    layout: Layout,
    unit_id: UnitId,
    units: Vec<UnitChoice>,
    from: NaiveDate,
    to: NaiveDate,
    weeks: i64,
    items: Vec<Item>,
    staff: Vec<StaffRow>,
}

impl Page {
    fn per_week(&self, n: &i64) -> String {
        crate::web::format::hours(Some(*n as f64 / self.weeks as f64))
    }
    fn caseload_max(&self) -> i64 {
        CASELOAD_MAX
    }
    fn contacts_target(&self) -> f64 {
        EMPLOYER_CONTACTS_PER_WEEK
    }
    fn days_target(&self) -> i64 {
        DAYS_TO_EMPLOYER_CONTACT
    }
    fn weekly_ok(&self, n: &i64) -> bool {
        *n as f64 / self.weeks as f64 >= EMPLOYER_CONTACTS_PER_WEEK
    }
}

/// A staff member's row, made when first needed.
fn row<'a>(staff: &'a mut BTreeMap<String, StaffRow>, name: &str) -> &'a mut StaffRow {
    staff.entry(name.to_string()).or_insert_with(|| StaffRow {
        name: name.to_string(),
        ..StaffRow::default()
    })
}

pub async fn page(State(state): State<AppState>, current: CurrentUser, Query(q): Query<IpsQuery>) -> AppResult<Response> {
    current.require(&[Role::Manager, Role::Admin, Role::Staff])?;
    let unit_id = current.chosen_unit(&q.unit)?;
    let today = state.clock.today();
    let (default_from, _) = crate::reports::indicators::this_year(today);
    let to = q.to.parse::<NaiveDate>().ok().filter(|d| *d <= today).unwrap_or(today);
    let from = q
        .from
        .parse::<NaiveDate>()
        .ok()
        .filter(|d| *d <= to)
        .unwrap_or(default_from.min(to));
    let weeks = ips::weeks((to - from).num_days() + 1);
    let db = &state.db;

    // Caseload on the last day: active Team ISA plans by the person's kontaktman that day.
    let caseloads = sqlx::query!(
        r#"SELECT k.user_id AS "user_id: UserId", u.name, count(*) AS "n!"
           FROM plans p
           JOIN key_worker_assignments k ON k.participant_id = p.participant_id AND k.from_on <= $2 AND (k.to_on IS NULL OR k.to_on >= $2)
           JOIN users u ON u.id = k.user_id
           WHERE p.unit_id = $1 AND p.programme = 'team_isa' AND p.set_on <= $2 AND (p.ended_on IS NULL OR p.ended_on >= $2)
           GROUP BY k.user_id, u.name"#,
        unit_id as _,
        to
    )
    .fetch_all(db)
    .await?;
    // Employer contacts in the period by staff member.
    let contacts = sqlx::query!(
        r#"SELECT c.staff_id AS "user_id: UserId", u.name, count(*) AS "n!" FROM employer_contacts c JOIN users u ON u.id = c.staff_id
           WHERE c.unit_id = $1 AND c.contact_on BETWEEN $2 AND $3 GROUP BY c.staff_id, u.name"#,
        unit_id as _,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    // Team ISA plans set in the period, with the first contact with an
    // employer about the person from the plan's start (a placement, or a
    // contact with an employer of the partner register), and the kontaktman.
    let started = sqlx::query!(
        r#"SELECT p.set_on AS "set_on!", k.user_id AS "user_id?: UserId", u.name AS "name?",
                  (SELECT min(d) FROM (
                       SELECT pl.start_on AS d FROM placements pl WHERE pl.participant_id = p.participant_id AND pl.start_on >= p.set_on
                       UNION ALL
                       SELECT pc.contact_on FROM partner_contacts pc JOIN partners pa ON pa.id = pc.partner_id
                       WHERE pc.participant_id = p.participant_id AND pa.kind = 'employer' AND pc.contact_on >= p.set_on
                   ) f) AS first_contact
           FROM plans p
           LEFT JOIN key_worker_assignments k ON k.participant_id = p.participant_id AND k.from_on <= p.set_on AND (k.to_on IS NULL OR k.to_on >= p.set_on)
           LEFT JOIN users u ON u.id = k.user_id
           WHERE p.unit_id = $1 AND p.programme = 'team_isa' AND p.set_on BETWEEN $2 AND $3"#,
        unit_id as _,
        from,
        to
    )
    .fetch_all(db)
    .await?;
    // Placements begun in the period by Team ISA participants of the unit.
    let placements = sqlx::query!(
        r#"SELECT count(*) AS "all!", count(*) FILTER (WHERE pl.competitive) AS "competitive!"
           FROM placements pl JOIN participants pa ON pa.id = pl.participant_id
           WHERE pa.unit_id = $1 AND pl.start_on BETWEEN $2 AND $3
             AND EXISTS (SELECT 1 FROM plans p WHERE p.participant_id = pl.participant_id AND p.programme = 'team_isa')"#,
        unit_id as _,
        from,
        to
    )
    .fetch_one(db)
    .await?;
    // Plans ended in employment in the period, and those followed by stöd vid arbete.
    let employed = sqlx::query!(
        r#"SELECT count(*) AS "all!", count(s.id) AS "supported!"
           FROM plans p LEFT JOIN employment_supports s ON s.plan_id = p.id
           WHERE p.unit_id = $1 AND p.programme = 'team_isa' AND p.outcome = 'employment' AND p.ended_on BETWEEN $2 AND $3"#,
        unit_id as _,
        from,
        to
    )
    .fetch_one(db)
    .await?;

    let mut staff: BTreeMap<String, StaffRow> = BTreeMap::new();
    for c in &caseloads {
        row(&mut staff, &c.name).caseload = c.n;
    }
    for c in &contacts {
        row(&mut staff, &c.name).employer_contacts = c.n;
    }
    let days_of = |set_on: NaiveDate, first: Option<NaiveDate>| first.map(|f| (f - set_on).num_days());
    let mut all_days = Vec::new();
    let mut within = 0;
    let mut per_staff_days: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for s in &started {
        let name = s.name.clone().unwrap_or_else(|| "Ingen kontaktman".into());
        let days = days_of(s.set_on, s.first_contact);
        let r = row(&mut staff, &name);
        r.started += 1;
        if days.is_some_and(|d| d <= DAYS_TO_EMPLOYER_CONTACT) {
            r.within_days += 1;
            within += 1;
        }
        if let Some(d) = days {
            per_staff_days.entry(name).or_default().push(d);
            all_days.push(d);
        }
    }
    for (name, days) in per_staff_days {
        if let Some(r) = staff.get_mut(&name) {
            r.median_days = ips::median(days);
        }
    }
    let staff: Vec<StaffRow> = staff.into_values().collect();

    let max_caseload = caseloads.iter().map(|c| c.n).max().unwrap_or(0);
    let specialists = caseloads.len().max(1) as f64;
    let people: i64 = caseloads.iter().map(|c| c.n).sum();
    let contacts_total: i64 = contacts.iter().map(|c| c.n).sum();
    let contact_staff = contacts.len().max(1) as f64;
    let per_week = contacts_total as f64 / contact_staff / weeks as f64;
    let percent = |part: i64, whole: i64| {
        if whole == 0 {
            "–".to_string()
        } else {
            format!("{} % ({part} av {whole})", (part as f64 * 100.0 / whole as f64).round())
        }
    };
    let items = vec![
        Item {
            name: "Ärenden per arbetsspecialist",
            what: format!(
                "Personer med en pågående Team ISA-plan per kontaktman, periodens sista dag. Störst: {max_caseload}; i snitt {}.",
                crate::web::format::hours(Some(people as f64 / specialists))
            ),
            source: "Team ISA-planer (fastställda, inte avslutade) och personens kontaktman den dagen.",
            value: max_caseload.to_string(),
            level: format!("högst {CASELOAD_MAX} per arbetsspecialist"),
            met: (!caseloads.is_empty()).then_some(max_caseload <= CASELOAD_MAX),
        },
        Item {
            name: "Tid till första arbetsgivarkontakt",
            what: format!(
                "Team ISA-planer fastställda under perioden: dagar från fastställd dag till första kontakt med en arbetsgivare om personen. Median {} dagar.",
                ips::median(all_days.clone()).map_or("–".into(), |d| d.to_string())
            ),
            source: "Lärandeplatsernas start och kontakter med arbetsgivare i samverkansregistret (som gått genom samtyckeskontrollen).",
            value: percent(within, started.len() as i64),
            level: format!("inom {DAYS_TO_EMPLOYER_CONTACT} dagar"),
            met: (!started.is_empty()).then_some(within == started.len() as i64),
        },
        Item {
            name: "Arbetsgivarkontakter per arbetsspecialist och vecka",
            what: format!("{contacts_total} kontakter under {weeks} veckor, fördelat på dem som registrerat kontakter."),
            source: "Arbetsgivare › Arbetsgivarkontakter (kontakter för att hitta och utveckla arbetsplatser).",
            value: crate::web::format::hours(Some(per_week)),
            level: format!("minst {EMPLOYER_CONTACTS_PER_WEEK:.0} i veckan"),
            met: (contacts_total > 0).then_some(per_week >= EMPLOYER_CONTACTS_PER_WEEK),
        },
        Item {
            name: "Platser på den öppna arbetsmarknaden",
            what: "Andel av lärandeplatserna som började under perioden som är anställningar på den öppna arbetsmarknaden.".into(),
            source: "Lärandeplatser för personer med Team ISA-plan (frågan ”anställning på den öppna arbetsmarknaden”).",
            value: percent(placements.competitive, placements.all),
            level: "så hög som möjligt".into(),
            met: None,
        },
        Item {
            name: "Stöd efter anställning utan tidsgräns",
            what: "Team ISA-planer som avslutades med anställning under perioden och som fått stöd vid arbete.".into(),
            source: "Planernas utfall och Stöd vid arbete (högst ett år enligt uppdraget, så tidsgränsen är uppdragets).",
            value: percent(employed.supported, employed.all),
            level: "alla som fått arbete".into(),
            met: (employed.all > 0).then_some(employed.supported == employed.all),
        },
    ];
    let page = Page {
        layout: Layout::new(&current.ctx, "ips"),
        unit_id,
        units: crate::participants::unit_choices(&state.db, current.user.id).await?,
        from,
        to,
        weeks,
        items,
        staff,
    };
    crate::web::page(&page, false)
}
