//! Three years of the demo units' history, lived day by day through the same
//! commands as the pages (issue 16): people come and register, get a
//! kontaktman and boendestöd, start plans when there is room (never past 105
//! hours of förstegsträning or 6 Team ISA places on any day), are followed
//! up, mostly on time, renew, end with every kind of outcome, leave and come
//! back. Each command is stamped with the day it happens, so every dated
//! history (plan versions, terms, statuses) reads as if it had been lived.
//! Visits are written in bulk afterwards, on open days inside each person's
//! time at the centre.

use super::{EXAMPLE_NUMBERS, FIRST_NAMES, LAST_NAMES, NOTES, REFERRALS, at_stockholm, refused, roll, spread};
use crate::audit::Stamp;
use crate::auth::Role;
use crate::auth::context::SessionUser;
use crate::domain::plans::{Programme, WeeklyHours};
use crate::employment::store as employment;
use crate::ids::{EmployerId, ParticipantId, PartnerId, PlanId, UnitId, UserId};
use crate::outreach::model::{MeetingKind, OutreachOutcome, OutreachPlace};
use crate::outreach::store as outreach;
use crate::participants::form::ParticipantFields;
use crate::participants::model::{ConsentScope, Gender, ReferralSource};
use crate::participants::model::{EndReason, NoteType, ParticipantStatus};
use crate::participants::store as participants;
use crate::partners::model::PartnerKind;
use crate::partners::store as partners;
use crate::plans::follow_ups::Checked;
use crate::plans::form::{EmployerChoice, NewEmployer, PlanFields};
use crate::plans::model::{ActivityStatus, Outcome};
use crate::plans::queries::Plan;
use crate::plans::store::employers::Contact;
use crate::plans::store::joint_plans::{self, JointPlanVersion, Part};
use crate::plans::store::{self, Activation};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;

/// People per unit, and the days of history.
const PEOPLE_PER_UNIT: usize = 200;
const HISTORY_DAYS: i64 = 3 * 365 + 1;
/// DOMAIN.md's capacity, which the demo units keep.
const FIRST_STEP_HOURS: f64 = 105.0;
const TEAM_ISA_PLACES: usize = 6;

const EMPLOYERS: [(&str, &str, &str); 8] = [
    ("Bageriet i Ryd", "556000-0001", "Karin Bagare"),
    ("Cykelverkstan Linköping", "556000-0002", "Omar Mek"),
    ("Stadsbiblioteket", "", "Lena Bok"),
    ("Second hand Trappan", "802000-0004", "Pia Trappa"),
    ("Lagerhuset Tornby", "556000-0005", "Ali Lager"),
    ("Caféet vid ån", "556000-0006", "Sofia Kaffe"),
    ("Parkförvaltningen", "", "Erik Gren"),
    ("Tryckeriet", "556000-0008", "Nora Tryck"),
];

/// How plans end, weighted: most move on, as the commission intends.
const OUTCOMES: [(&str, u64); 9] = [
    ("employment", 40),
    ("studies", 12),
    ("internship", 8),
    ("labour_market_measure", 8),
    ("reinforced_cooperation", 9),
    ("back_to_day_activity", 8),
    ("dropped_out", 9),
    ("moved", 4),
    ("other", 2),
];

fn outcome_for(roll: u64) -> &'static str {
    let total: u64 = OUTCOMES.iter().map(|(_, w)| w).sum();
    let mut left = roll % total;
    for (outcome, weight) in OUTCOMES {
        if left < weight {
            return outcome;
        }
        left -= weight;
    }
    "other"
}

/// Who staff are, as the commands want them.
pub(super) struct Staff {
    staff: SessionUser,
    therapist: SessionUser,
    manager: SessionUser,
}

/// A person of the demo, before and after registration.
struct Person {
    i: usize,
    unit: usize,
    fields: ParticipantFields,
    /// The day they register (their first visit, or their first contact).
    registers_on: NaiveDate,
    key_worker: Option<UserId>,
    /// Boendestöd hours when they register.
    support: Option<f64>,
    id: Option<ParticipantId>,
    status: ParticipantStatus,
    /// Days of plans so far (two years at most, DOMAIN.md).
    plan_days: i64,
    in_plan: bool,
    /// No new plan before this day (after one ends).
    rest_until: NaiveDate,
    /// Dated status changes still to come.
    leaves_on: Option<(NaiveDate, EndReason)>,
}

/// A running plan and what it will do.
struct Running {
    id: PlanId,
    person: usize,
    unit: usize,
    programme: Programme,
    hours: f64,
    /// The day it ends, and how; `None`: still running today (a showcase).
    ends: Option<(NaiveDate, &'static str)>,
    /// The next follow-up's due day.
    next_due: Option<NaiveDate>,
    /// Follow-ups due after this day are left for the kontaktman (overdue today).
    hold_until: NaiveDate,
    /// Boendestöd changes this many days into the plan (if the person has it).
    support_change: Option<(NaiveDate, f64)>,
    renew_on: Option<NaiveDate>,
    /// The Team ISA workplace, where there is one.
    employer: Option<EmployerId>,
}

pub(super) async fn load(db: &PgPool, now: DateTime<Utc>, units: &[UnitId], team: &Staff) -> anyhow::Result<()> {
    let today = now.with_timezone(&chrono_tz::Europe::Stockholm).date_naive();
    let start = today - Duration::days(HISTORY_DAYS);
    let mut people = plan_people(units.len(), start, today, team);
    let employers = register_employers(db, &team.staff, start).await?;
    let register_of = register_partners(db, &team.staff, start).await?;
    // The first unit's two long plans: one near the two-year limit today,
    // one whose yearly renewal is due within days.
    let near_limit_on = monday_from(today - Duration::days(690));
    let renewal_on = monday_from(today - Duration::days(360));
    let mut running: Vec<Running> = Vec::new();
    let mut plan_count = 0i64;
    let mut day = start;
    while day <= today {
        let at = |minutes: u32| at_stockholm(day, minutes);
        // Arrivals.
        for p in people.iter_mut().filter(|p| p.registers_on == day) {
            register(db, p, units[p.unit], day, team, now).await?;
        }
        // Running plans: boendestöd, renewals, follow-ups, ends.
        let mut finished = Vec::new();
        for (n, r) in running.iter_mut().enumerate() {
            let p = &mut people[r.person];
            if let Some((on, hours)) = r.support_change
                && on == day
                && let Some(id) = p.id
            {
                let entry = participants::HomeSupport {
                    from: day,
                    has_support: hours > 0.0,
                    provider: if hours > 0.0 { "Boendestöd Linköping" } else { "" },
                    hours: (hours > 0.0).then_some(hours),
                    correction_reason: "",
                };
                participants::record_home_support(db, id, entry, day, stamp(&team.staff, at(14 * 60)))
                    .await?
                    .map_err(refused)?;
            }
            if r.renew_on == Some(day) {
                let plan = load_plan(db, r.id).await?;
                let reviewed = "Gick igenom mål, timmar och arbetsplats. Fortsätter.";
                store::renew(db, &plan, day, reviewed, day, stamp(&team.staff, at(11 * 60)))
                    .await?
                    .map_err(refused)?;
            }
            if let Some(due) = r.next_due {
                let late = roll(r.id.get(), due.num_days_from_ce().into()) % 100;
                let held = if late < 12 {
                    due + Duration::days(2 + (late % 10) as i64)
                } else {
                    due - Duration::days((late % 4) as i64)
                };
                let before_end = r.ends.is_none_or(|(end, _)| held < end);
                if held == day && before_end && due <= r.hold_until {
                    let follow_up = Checked {
                        due_on: due,
                        held_on: held,
                        took_part: !late.is_multiple_of(17),
                        staff_present: team.staff.name.clone(),
                        partners: vec![register_of.employment_service],
                        urgent_reason: String::new(),
                        notes: "Gick igenom målen och veckans timmar. Fortsätter som planerat.".into(),
                        progress: Vec::new(),
                        hours: WeeklyHours::from_hundredths((r.hours * 100.0).round() as u32),
                    };
                    let plan = load_plan(db, r.id).await?;
                    store::record_follow_up(db, &plan, &follow_up, stamp(&team.staff, at(13 * 60)))
                        .await?
                        .map_err(refused)?;
                    r.next_due = load_plan(db, r.id).await?.next_follow_up_on;
                }
            }
            if let Some((end, outcome)) = r.ends
                && end == day
            {
                let outcome = Outcome::parse(outcome).ok_or_else(|| anyhow::anyhow!("unknown outcome {outcome}"))?;
                store::end(
                    db,
                    &load_plan(db, r.id).await?,
                    day,
                    day,
                    outcome,
                    "",
                    stamp(&team.staff, at(15 * 60)),
                )
                .await?
                .map_err(refused)?;
                if outcome == Outcome::Employment && r.id.get() % 2 == 0 {
                    let pid = p.id.ok_or_else(|| anyhow::anyhow!("a plan for someone not registered"))?;
                    let support = employment::NewSupport {
                        plan: r.id,
                        employer: r.employer,
                        start_on: day,
                        ends_on: crate::domain::employment::support_last_day(day),
                    };
                    let as_staff = stamp(&team.staff, at(15 * 60 + 30));
                    // Someone whose earlier support still runs keeps that one (refused: no contacts).
                    let started = employment::start_support(db, pid, &support, day, as_staff).await?;
                    for weeks in [2, 8, 20] {
                        let Ok(support) = started.as_ref().map(|id| *id) else { break };
                        let on = day + Duration::weeks(weeks);
                        if on > today {
                            break;
                        }
                        let contact = employment::NewSupportContact {
                            on,
                            with_employer: r.employer.is_some() && weeks == 8,
                            note: "Stämde av hur arbetet går och vad som behövs framåt.".into(),
                            staff: team.staff.id,
                            urgent_reason: String::new(),
                        };
                        employment::add_support_contact(db, pid, support, &contact, stamp(&team.staff, at_stockholm(on, 10 * 60)))
                            .await?
                            .map_err(refused)?;
                    }
                }
                p.in_plan = false;
                p.rest_until = day + Duration::days(45);
                // Most who move on leave the centre some weeks later; some come back to visit.
                let leaves = roll(p.i as i64, 7) % 10;
                p.leaves_on = match outcome {
                    Outcome::Employment | Outcome::Studies | Outcome::Internship if leaves < 6 => {
                        Some((day + Duration::days(14), EndReason::MovedOn))
                    }
                    Outcome::Moved => Some((day + Duration::days(7), EndReason::MovedAway)),
                    Outcome::DroppedOut if leaves < 7 => Some((day + Duration::days(30), EndReason::NoContact)),
                    _ => None,
                };
                finished.push(n);
            }
        }
        for n in finished.into_iter().rev() {
            running.remove(n);
        }
        // Leaving (avslut).
        for p in people.iter_mut() {
            let (Some(id), Some((on, reason))) = (p.id, p.leaves_on) else {
                continue;
            };
            if on != day || p.in_plan {
                continue;
            }
            let change = participants::StatusChange {
                status: ParticipantStatus::Ended,
                on: day,
                end_reason: Some(reason),
                note: "",
            };
            participants::change_status(db, id, change, day, stamp(&team.manager, at(16 * 60)))
                .await?
                .map_err(refused)?;
            p.status = ParticipantStatus::Ended;
        }
        // New plans on Mondays (and today, when the units are filled), while there is room.
        if day.weekday() == chrono::Weekday::Mon || day == today {
            for (unit, unit_id) in units.iter().enumerate() {
                let per_week = if day == today { 12 } else { 2 };
                for _ in 0..per_week {
                    let long = unit == 0 && (day == near_limit_on || day == renewal_on);
                    let Some((programme, person, hours)) = next_plan(&people, &running, unit, day, today, start, long) else {
                        break;
                    };
                    plan_count += 1;
                    let r = |salt: i64| roll(plan_count, salt);
                    let (ends, planned_end) = if long && day == near_limit_on {
                        (None, crate::domain::plans::last_allowed_day(day))
                    } else if long {
                        (None, day + Duration::days(500))
                    } else {
                        // Three to ten months.
                        let end = day + Duration::days(90 + (r(1) % 210) as i64);
                        ((end < today).then_some((end, outcome_for(r(3)))), end + Duration::days(30))
                    };
                    let fate = Fate {
                        programme,
                        hours,
                        unit,
                        ends,
                        planned_end,
                        employer: (programme == Programme::TeamIsa).then(|| employers[(r(4) as usize) % employers.len()]),
                        hold_until: if plan_count % 3 == 0 { today - Duration::days(30) } else { today },
                    };
                    let started = start_plan(
                        db,
                        &mut people,
                        person,
                        *unit_id,
                        fate,
                        (day, today),
                        plan_count,
                        team,
                        &register_of,
                    )
                    .await?;
                    running.push(started);
                    if long {
                        break;
                    }
                }
            }
        }
        day += Duration::days(1);
    }
    showcase_today(db, &mut people, &running, units, today, team, &register_of).await?;
    load_outreach(db, units, start, today, team).await?;
    load_employer_work(db, units, &employers, start, today, team).await?;
    load_surveys(db, units, today, team).await?;
    load_visits(db, &people, units, start, today, now).await?;
    load_drop_ins(db, units, start, today).await?;
    Ok(())
}

/// The Monday on or after `day`.
fn monday_from(day: NaiveDate) -> NaiveDate {
    day + Duration::days((7 - i64::from(day.weekday().num_days_from_monday())) % 7)
}

/// How a plan is to go.
struct Fate {
    programme: Programme,
    hours: f64,
    unit: usize,
    /// The day it ends and with what; `None`: running today.
    ends: Option<(NaiveDate, &'static str)>,
    planned_end: NaiveDate,
    employer: Option<EmployerId>,
    hold_until: NaiveDate,
}

fn stamp(who: &SessionUser, at: DateTime<Utc>) -> Stamp {
    Stamp { by: who.id, at }
}

/// A plan is set with a goal (migration 0012).
async fn add_first_goal(db: &PgPool, plan: PlanId, stamp: Stamp) -> anyhow::Result<()> {
    let loaded = load_plan(db, plan).await?;
    store::add_goal(db, &loaded, None, "Arbeta regelbundet på en arbetsplats", stamp)
        .await?
        .map_err(refused)?;
    Ok(())
}

async fn load_plan(db: &PgPool, id: PlanId) -> anyhow::Result<Plan> {
    crate::plans::queries::load(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo plan {id} is gone"))
}

/// Everyone who will come over the three years, in order of first contact,
/// the units taking turns.
fn plan_people(units: usize, start: NaiveDate, today: NaiveDate, team: &Staff) -> Vec<Person> {
    let count = PEOPLE_PER_UNIT * units;
    let women: Vec<&str> = FIRST_NAMES.iter().filter(|(_, g)| *g == "woman").map(|(n, _)| *n).collect();
    let men: Vec<&str> = FIRST_NAMES.iter().filter(|(_, g)| *g == "man").map(|(n, _)| *n).collect();
    (0..count)
        .map(|i| {
            let r = |salt: i64| roll(i as i64, salt);
            let unit = i % units;
            // The last few came in the last weeks; some have not come yet.
            let contact = start + Duration::days((i as i64 * (HISTORY_DAYS - 12)) / count as i64);
            let gap = if r(1) % 10 < 7 { r(2) % 10 } else { 11 + r(2) % 20 } as i64;
            let first_visit = contact + Duration::days(gap);
            let gender = match i % 20 {
                0..=9 => "woman",
                10..=18 => "man",
                _ => "other_or_unstated",
            };
            let first = match gender {
                "woman" => women[r(3) as usize % women.len()],
                "man" => men[r(3) as usize % men.len()],
                _ => "Alex",
            };
            let last = LAST_NAMES[r(4) as usize % LAST_NAMES.len()];
            // Nearly half young enough for Team ISA when they come.
            let age = if r(5) % 100 < 45 { 19 + r(6) % 14 } else { 36 + r(6) % 28 } as i32;
            let birth = NaiveDate::from_ymd_opt(contact.year() - age, 1 + (r(7) % 12) as u32, 1 + (r(8) % 28) as u32).unwrap_or(contact);
            let (kind, number, birth) = match i {
                0..=2 => {
                    let (kind, number, (y, m, d)) = EXAMPLE_NUMBERS[i];
                    (kind, Some(number.to_string()), NaiveDate::from_ymd_opt(y, m, d).unwrap_or(birth))
                }
                _ if i % 3 == 0 => ("reservnummer", Some(format!("RES-{:04}", 1000 + i)), birth),
                _ => ("none", None, birth),
            };
            let resident = i % 17 != 5;
            let sip = i % 4 == 0;
            let visited = (first_visit <= today).then_some(first_visit);
            let key_worker = (i % 7 != 6).then_some(match unit {
                0 if i % 4 < 2 => team.staff.id,
                0 => team.therapist.id,
                _ => team.manager.id,
            });
            Person {
                i,
                unit,
                fields: ParticipantFields {
                    first_name: first.into(),
                    last_name: last.into(),
                    identity_kind: kind.into(),
                    identity_number: number,
                    birth_date: birth,
                    gender: gender.into(),
                    phone: format!("070-000 {:02} {:02}", i / 100, i % 100),
                    email: String::new(),
                    address: String::new(),
                    resident,
                    non_resident_reason: if resident {
                        String::new()
                    } else {
                        "Flyttar till kommunen inom kort; undantag överenskommet med förvaltningen".into()
                    },
                    referral_source: REFERRALS[i % REFERRALS.len()].into(),
                    first_contact_on: Some(contact),
                    first_visit_on: visited,
                    has_coordinated_plan: sip,
                    coordinated_plan_on: sip.then_some(visited.unwrap_or(contact)),
                    coordinated_plan_lead: if sip { "Region Östergötland, psykiatrin" } else { "" }.into(),
                    coordinated_plan_next_follow_up: None,
                },
                registers_on: visited.unwrap_or(contact).min(today),
                key_worker,
                support: (r(9) % 100 < 35).then(|| 4.0 + (r(10) % 9) as f64),
                id: None,
                status: ParticipantStatus::Active,
                plan_days: 0,
                in_plan: false,
                rest_until: contact,
                leaves_on: (i % 23 == 22).then(|| (visited.unwrap_or(contact) + Duration::days(120), EndReason::OwnChoice)),
            }
        })
        .collect()
}

async fn register_employers(db: &PgPool, by: &SessionUser, start: NaiveDate) -> anyhow::Result<Vec<EmployerId>> {
    let mut ids = Vec::new();
    for (name, org, contact) in EMPLOYERS {
        let new = NewEmployer {
            name: name.into(),
            organisation_number: Some(org.to_string()).filter(|o| !o.is_empty()),
            contact_name: contact.into(),
        };
        let id = store::employers::register(db, &new, Contact::default(), stamp(by, at_stockholm(start, 9 * 60)))
            .await?
            .map_err(refused)?;
        ids.push(id);
    }
    Ok(ids)
}

/// The demo's partner organisations.
struct Partners {
    social_insurance: PartnerId,
    employment_service: PartnerId,
    psychiatry: PartnerId,
}

async fn register_partners(db: &PgPool, by: &SessionUser, start: NaiveDate) -> anyhow::Result<Partners> {
    let mut ids = Vec::new();
    for (kind, name, person, role) in [
        (
            PartnerKind::SocialInsurance,
            "Försäkringskassan Linköping",
            "Maria Handläggare",
            "handläggare",
        ),
        (
            PartnerKind::EmploymentService,
            "Arbetsförmedlingen Linköping",
            "Jonas Förmedlare",
            "arbetsförmedlare",
        ),
        (
            PartnerKind::Psychiatry,
            "Psykiatriska kliniken, öppenvården",
            "Eva Kurator",
            "kurator",
        ),
        (PartnerKind::HomeSupport, "Boendestöd Linköping", "Sara Stöd", "boendestödjare"),
        (
            PartnerKind::SocialServices,
            "Socialtjänsten, vuxenenheten",
            "Peter Sekreterare",
            "socialsekreterare",
        ),
    ] {
        let stamp = stamp(by, at_stockholm(start, 8 * 60));
        let new = partners::NewPartner {
            kind,
            name: name.into(),
            note: String::new(),
        };
        let id = partners::add(db, &new, stamp).await?.map_err(refused)?;
        let contact = partners::NewPerson {
            name: person.into(),
            role: role.into(),
            phone: "013-20 00 00".into(),
            email: String::new(),
        };
        partners::add_person(db, id, &contact, stamp).await?;
        ids.push(id);
    }
    Ok(Partners {
        social_insurance: ids[0],
        employment_service: ids[1],
        psychiatry: ids[2],
    })
}

/// Registers a person on the day they come, with their kontaktman, boendestöd,
/// a närstående for some and a few journal notes.
async fn register(db: &PgPool, p: &mut Person, unit: UnitId, day: NaiveDate, team: &Staff, now: DateTime<Utc>) -> anyhow::Result<()> {
    let at = |minutes: u32| at_stockholm(day, minutes);
    // Two in three came by an intresseanmälan, on the day of their first contact.
    let intake = match p.fields.first_contact_on {
        Some(first) if first < day && p.i % 3 != 2 => {
            let new = outreach::NewIntake {
                unit,
                received_on: first,
                source: ReferralSource::parse(&p.fields.referral_source).unwrap_or(ReferralSource::Other),
                first_name: p.fields.first_name.clone(),
                last_name: p.fields.last_name.clone(),
                phone: String::new(),
                gender: Gender::parse(&p.fields.gender).unwrap_or(Gender::OtherOrUnstated),
                home_support: p.support.is_some(),
                note: String::new(),
            };
            Some(outreach::add_intake(db, &new, stamp(&team.staff, at_stockholm(first, 11 * 60))).await?)
        }
        _ => None,
    };
    let id = participants::register(db, unit, &p.fields, intake, day, stamp(&team.staff, at(10 * 60)))
        .await?
        .map_err(refused)?;
    p.id = Some(id);
    // Consent to contact Försäkringskassan and Arbetsförmedlingen, and boendestöd for those who have it.
    let scopes: &[ConsentScope] = if p.support.is_some() {
        &[
            ConsentScope::SocialInsurance,
            ConsentScope::EmploymentService,
            ConsentScope::HomeSupport,
        ]
    } else {
        &[ConsentScope::SocialInsurance, ConsentScope::EmploymentService]
    };
    for scope in scopes {
        let consent = participants::NewConsent {
            scope: *scope,
            partner: None,
            note: "",
            given: day,
        };
        participants::give_consent(db, id, consent, day, stamp(&team.staff, at(10 * 60 + 2)))
            .await?
            .map_err(refused)?;
    }
    if let Some(user) = p.key_worker {
        participants::assign_key_worker(db, id, user, day, day, stamp(&team.manager, at(10 * 60 + 5)))
            .await?
            .map_err(refused)?;
    }
    if let Some(hours) = p.support {
        let entry = participants::HomeSupport {
            from: day,
            has_support: true,
            provider: "Boendestöd Linköping",
            hours: Some(hours),
            correction_reason: "",
        };
        participants::record_home_support(db, id, entry, day, stamp(&team.staff, at(10 * 60 + 10)))
            .await?
            .map_err(refused)?;
    }
    if p.i.is_multiple_of(7) {
        let relative = participants::NewRelative {
            kind: crate::participants::model::RelativeKind::Relative,
            name: "Karin Demo",
            relation: "mamma",
            phone: "013-20 60 00",
            email: "",
            note: "",
        };
        let added = participants::add_relative(db, id, relative, stamp(&team.staff, at(10 * 60 + 15)))
            .await?
            .map_err(refused)?;
        let moved = participants::NewRelative {
            phone: "070-123 45 67",
            ..relative
        };
        participants::change_relative(db, added, 1, moved, stamp(&team.staff, now))
            .await?
            .map_err(refused)?;
    }
    // A note on the first day, for most; the authors take turns.
    if p.i % 5 != 4 {
        let author = if p.i.is_multiple_of(2) { &team.staff } else { &team.therapist };
        let note = participants::NewNote {
            participant: id,
            event_on: day,
            note_type: [NoteType::Event, NoteType::Conversation, NoteType::FollowUp][p.i % 3],
            body: NOTES[p.i % NOTES.len()],
            corrects: None,
            disputes: None,
            partner: None,
        };
        participants::write_note(db, note, author, at(12 * 60)).await?.map_err(refused)?;
    }
    Ok(())
}

/// Who gets the next plan in `unit` on `day`, in which programme and with
/// how many hours, if anyone fits: the longest-waiting person with a
/// kontaktman and no plan, Team ISA for the young when a place is free.
fn next_plan(
    people: &[Person],
    running: &[Running],
    unit: usize,
    day: NaiveDate,
    today: NaiveDate,
    start: NaiveDate,
    long: bool,
) -> Option<(Programme, usize, f64)> {
    let hours_used: f64 = running
        .iter()
        .filter(|r| r.unit == unit && r.programme == Programme::FirstStep)
        .map(|r| r.hours)
        .sum();
    let places_used = running
        .iter()
        .filter(|r| r.unit == unit && r.programme == Programme::TeamIsa)
        .count();
    // A slow start: the units fill up over the first months.
    let ramp = ((day - start).num_days() as f64 / 120.0).min(1.0);
    let candidates = people.iter().enumerate().filter(|(_, p)| {
        p.unit == unit
            && p.id.is_some()
            && p.key_worker.is_some()
            && p.status == ParticipantStatus::Active
            && !p.in_plan
            && p.rest_until <= day
            && p.leaves_on.is_none()
            && p.plan_days < 380
            && p.fields.first_visit_on.is_some_and(|v| v <= day)
            && (!long || p.plan_days == 0)
    });
    for (n, p) in candidates {
        let young = crate::domain::plans::team_isa_age_allowed(p.fields.birth_date, day).is_ok();
        let wants_isa = young && !long && roll(p.i as i64, day.num_days_from_ce().into()).is_multiple_of(2);
        if wants_isa && (places_used as f64) < (TEAM_ISA_PLACES as f64 * ramp).ceil() && places_used < TEAM_ISA_PLACES {
            let hours = [8.0, 10.0, 12.0, 16.0, 20.0][roll(p.i as i64, 11) as usize % 5];
            return Some((Programme::TeamIsa, n, hours));
        }
        let hours = [4.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0][roll(p.i as i64, 12) as usize % 7];
        let room = FIRST_STEP_HOURS * ramp - hours_used;
        // Today the demo unit is kept full, as the browser journeys expect.
        if hours <= room || (day == today && hours_used + hours <= FIRST_STEP_HOURS) {
            return Some((Programme::FirstStep, n, hours));
        }
    }
    None
}

/// Makes, sets and activates a plan through the commands.
#[allow(clippy::too_many_arguments)]
async fn start_plan(
    db: &PgPool,
    people: &mut [Person],
    person: usize,
    unit: UnitId,
    fate: Fate,
    (day, today): (NaiveDate, NaiveDate),
    n: i64,
    team: &Staff,
    register_of: &Partners,
) -> anyhow::Result<Running> {
    let p = &mut people[person];
    let id = p.id.ok_or_else(|| anyhow::anyhow!("a plan for someone not registered"))?;
    let programme = fate.programme;
    let fields = PlanFields {
        programme,
        start_on: day,
        planned_end_on: fate.planned_end,
        weekly_hours: WeeklyHours::from_hundredths((fate.hours * 100.0).round() as u32),
        weekdays: if n % 2 == 0 { 31 } else { 7 },
        methods: if programme == Programme::TeamIsa {
            vec!["supported_employment".to_string(), "ips".to_string()]
        } else {
            vec!["esl".to_string(), "low_arousal".to_string()]
        },
        participation: "Personen var med och formulerade målen och valde veckodagar själv.".into(),
        summary: "Vill pröva att arbeta regelbundet och bygga upp uthållighet. Börjar med korta pass och ökar efter uppföljning.".into(),
        employer: fate.employer.map_or(EmployerChoice::None, EmployerChoice::Existing),
        supervisor: if fate.employer.is_some() { "Handledare på plats" } else { "" }.into(),
        tasks: if fate.employer.is_some() {
            "Plocka varor, enklare kundkontakt"
        } else {
            ""
        }
        .into(),
    };
    let at = |minutes: u32| at_stockholm(day, minutes);
    let as_staff = stamp(&team.staff, at(9 * 60));
    let plan = store::create(db, id, unit, &fields, as_staff).await?.map_err(refused)?;
    add_first_goal(db, plan, as_staff).await?;
    agree_joint_plan(db, id, day, as_staff, register_of).await?;
    let activated = store::activate(db, plan, day, day, stamp(&team.staff, at(9 * 60 + 30)), false).await?;
    anyhow::ensure!(
        matches!(activated, Activation::Activated { .. }),
        "demo plan {plan} did not start on {day}: {activated:?}"
    );
    if let Some(employer) = fate.employer {
        let consent = participants::NewConsent {
            scope: ConsentScope::Employer,
            partner: None,
            note: "",
            given: day,
        };
        participants::give_consent(db, id, consent, day, as_staff).await?.map_err(refused)?;
        let placement = employment::NewPlacement {
            plan: Some(plan),
            employer,
            supervisor: "Handledare på plats".into(),
            tasks: "Plocka varor, enklare kundkontakt".into(),
            competitive: n % 5 == 0,
            start_on: day,
            end_on: fate.ends.map(|(end, _)| end),
            urgent_reason: String::new(),
        };
        employment::add_placement(db, id, &placement, as_staff).await?.map_err(refused)?;
    }
    p.in_plan = true;
    p.plan_days += fate.ends.map_or((today - day).num_days(), |(end, _)| (end - day).num_days());
    // Boendestöd changes in the second half of the effort: less for half,
    // more for a few, the same for the rest.
    let r = |salt: i64| roll(n, salt);
    let support_change = p.support.and_then(|before| {
        let span = fate.ends.map_or(365, |(end, _)| (end - day).num_days());
        let on = day + Duration::days(span * (55 + (r(5) % 40) as i64) / 100);
        let change = match r(6) % 10 {
            0..=4 => -(2.0 + (r(7) % 3) as f64),
            5..=7 => return None,
            _ => 2.0,
        };
        (on < today && fate.ends.is_none_or(|(end, _)| on < end)).then_some((on, (before + change).max(0.0)))
    });
    if let Some((_, hours)) = support_change {
        p.support = Some(hours);
    }
    let set = load_plan(db, plan).await?;
    Ok(Running {
        id: plan,
        person,
        unit: fate.unit,
        programme,
        hours: fate.hours,
        ends: fate.ends,
        next_due: set.next_follow_up_on,
        hold_until: fate.hold_until,
        support_change,
        employer: fate.employer,
        // The long plans are renewed after a year (the latest one is due within days).
        renew_on: set
            .renewal_due_on
            .filter(|due| fate.ends.is_none() && *due <= today - Duration::days(3)),
    })
}

/// A version of the person's samordnad plan, agreed with Försäkringskassan
/// and Arbetsförmedlingen on `day` (a new one before each plan).
async fn agree_joint_plan(db: &PgPool, person: ParticipantId, day: NaiveDate, stamp: Stamp, register_of: &Partners) -> anyhow::Result<()> {
    let base: i32 = sqlx::query_scalar("SELECT version FROM joint_plans WHERE participant_id = $1")
        .bind(person)
        .fetch_optional(db)
        .await?
        .unwrap_or(0);
    let version = JointPlanVersion {
        agreed_on: day,
        took_part: true,
        aim: "Att närma sig arbete eller studier i egen takt, med förstegsträning som första steg.".into(),
        others_present: "Kontaktman".into(),
        next_review_on: day + Duration::days(90),
        parts: vec![
            Part {
                partner: register_of.social_insurance,
                person: "Maria Handläggare".into(),
                task: "Ersättning under insatsen; deltar i uppföljningarna.".into(),
            },
            Part {
                partner: register_of.employment_service,
                person: "Jonas Förmedlare".into(),
                task: "Inskrivning och matchning mot arbete när personen är redo.".into(),
            },
        ],
        urgent_reason: String::new(),
    };
    joint_plans::save(db, person, base, &version, stamp).await?.map_err(refused)?;
    Ok(())
}

/// Today at the first unit: Team ISA full with one waiting, förstegsträning
/// with one waiting, a draft, and goals, activities and assessments on a
/// few plans, as the pages and the browser journeys show them.
async fn showcase_today(
    db: &PgPool,
    people: &mut [Person],
    running: &[Running],
    units: &[UnitId],
    today: NaiveDate,
    team: &Staff,
    register_of: &Partners,
) -> anyhow::Result<()> {
    let Some(unit) = units.first().copied() else { return Ok(()) };
    let now = at_stockholm(today, 8 * 60);
    let as_staff = stamp(&team.staff, now);
    let waiting: Vec<usize> = people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.unit == 0 && p.id.is_some() && p.key_worker.is_some() && p.status == ParticipantStatus::Active && !p.in_plan)
        .map(|(n, _)| n)
        .collect();
    let young = waiting
        .iter()
        .copied()
        .find(|n| crate::domain::plans::team_isa_age_allowed(people[*n].fields.birth_date, today).is_ok());
    let older = waiting.iter().copied().filter(|n| Some(*n) != young).collect::<Vec<_>>();
    // One for each programme that waits in the kö, and a draft.
    for (who, programme, hours, queue) in [
        (young, Programme::TeamIsa, 10.0, true),
        (older.first().copied(), Programme::FirstStep, 35.0, true),
        (older.get(1).copied(), Programme::FirstStep, 6.0, false),
    ] {
        let Some(who) = who else { continue };
        let Some(id) = people[who].id else { continue };
        let fields = PlanFields {
            programme,
            start_on: today,
            planned_end_on: today + Duration::days(180),
            weekly_hours: WeeklyHours::from_hundredths((hours * 100.0) as u32),
            weekdays: 31,
            methods: vec!["ips".to_string()],
            participation: "Personen var med och formulerade målen.".into(),
            summary: "Vill börja arbeta så snart det finns plats.".into(),
            employer: EmployerChoice::None,
            supervisor: String::new(),
            tasks: String::new(),
        };
        let plan = store::create(db, id, unit, &fields, as_staff).await?.map_err(refused)?;
        if !queue {
            continue;
        }
        add_first_goal(db, plan, as_staff).await?;
        let days = if programme == Programme::TeamIsa { 24 } else { 9 };
        let queued_on = today - Duration::days(days);
        agree_joint_plan(db, id, queued_on, stamp(&team.staff, now - Duration::days(days)), register_of).await?;
        let queued = store::activate(db, plan, queued_on, queued_on, stamp(&team.staff, now - Duration::days(days)), true).await?;
        anyhow::ensure!(
            matches!(queued, Activation::Queued { .. }),
            "demo plan {plan} was to wait in the kö: {queued:?}"
        );
        people[who].in_plan = true;
    }
    // A contact with the psychiatric clinic in a crisis, without consent: an
    // urgent exception the manager sees.
    if let Some(r) = running.iter().find(|r| r.unit == 0)
        && let Some(id) = people[r.person].id
    {
        let note = participants::NewNote {
            participant: id,
            event_on: today,
            note_type: NoteType::Cooperation,
            body: "Ringde psykiatrins öppenvård om personens mående; överenskommet att mottagningen hör av sig i dag.",
            corrects: None,
            disputes: None,
            partner: Some((
                register_of.psychiatry,
                "Personen var i akut kris och kunde inte ta ställning till samtycke.",
            )),
        };
        participants::write_note(db, note, &team.staff, now).await?.map_err(refused)?;
    }
    // Goals, activities and an assessment on the first few running plans.
    for (n, r) in running.iter().filter(|r| r.unit == 0).take(3).enumerate() {
        let plan = load_plan(db, r.id).await?;
        let goal = sqlx::query_scalar!(
            r#"SELECT min(id) AS "id!: crate::ids::GoalId" FROM plan_goals WHERE plan_id = $1"#,
            r.id as _
        )
        .fetch_one(db)
        .await?;
        let sub = store::add_goal(db, &plan, Some(goal), "Komma i tid tre dagar i veckan", as_staff)
            .await?
            .map_err(refused)?;
        let done = store::add_activity(
            db,
            &load_plan(db, r.id).await?,
            sub,
            "Gå igenom resvägen tillsammans",
            team.staff.id,
            as_staff,
        )
        .await?
        .map_err(refused)?;
        store::set_activity_status(db, &load_plan(db, r.id).await?, done, ActivityStatus::Done, as_staff).await?;
        store::add_activity(
            db,
            &load_plan(db, r.id).await?,
            goal,
            "Kartlägga arbetsförmåga",
            team.therapist.id,
            as_staff,
        )
        .await?
        .map_err(refused)?;
        store::add_assessment(
            db,
            r.id,
            plan.set_on.unwrap_or(today),
            "Observation i arbete",
            "Klarar fyra timmar med pauser. Behöver tydliga instruktioner.",
            (n != 1).then_some(team.therapist.id),
            stamp(&team.therapist, now),
        )
        .await?;
    }
    Ok(())
}

/// Visits on the units' open days, each person from their first visit until
/// they leave: about one day in three while in a plan, one in twelve
/// otherwise, and a few visits after leaving for work. Written in one pass
/// (the visits' trigger keeps the day counts), then checked out by 16:00.
async fn load_visits(
    db: &PgPool,
    people: &[Person],
    units: &[UnitId],
    start: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let by = super::user_id(db, "personal@lotsen.example").await?;
    let plans = sqlx::query!(
        r#"SELECT participant_id AS "participant_id: ParticipantId", set_on AS "set_on!", coalesce(ended_on, $1) AS "until!"
           FROM plans WHERE status <> 'draft'"#,
        today
    )
    .fetch_all(db)
    .await?;
    let ended = sqlx::query!(r#"SELECT id AS "id: ParticipantId", ended_on AS "ended_on!" FROM participants WHERE status = 'ended'"#)
        .fetch_all(db)
        .await?;
    let ended: BTreeMap<ParticipantId, NaiveDate> = ended.into_iter().map(|r| (r.id, r.ended_on)).collect();
    let mut in_plan: BTreeMap<ParticipantId, Vec<(NaiveDate, NaiveDate)>> = BTreeMap::new();
    for p in plans {
        in_plan.entry(p.participant_id).or_default().push((p.set_on, p.until));
    }
    let open: Vec<NaiveDate> = (0..=(today - start).num_days())
        .map(|n| start + Duration::days(n))
        .filter(|d| crate::domain::calendar::open_by_default(*d))
        .collect();
    let (mut who, mut unit, mut on, mut inn, mut out) = (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for p in people {
        let (Some(id), Some(first)) = (p.id, p.fields.first_visit_on) else {
            continue;
        };
        let last = ended.get(&id).copied().unwrap_or(today);
        let spans = in_plan.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        for day in open.iter().copied().filter(|d| *d >= first && *d <= last) {
            let planned = spans.iter().any(|(s, u)| *s <= day && day < *u);
            let chance = if day == first {
                100
            } else if planned {
                33
            } else {
                8
            };
            let dice = spread(id.get(), day);
            if dice % 100 >= chance {
                continue;
            }
            let checked_in = at_stockholm(day, 9 * 60 + (dice % 240) as u32);
            if checked_in > now {
                continue;
            }
            who.push(id);
            unit.push(units[p.unit]);
            on.push(day);
            inn.push(checked_in);
            out.push((day < today).then(|| at_stockholm(day, 13 * 60 + (dice / 7 % 180) as u32)));
        }
    }
    for chunk in (0..who.len()).collect::<Vec<_>>().chunks(20_000) {
        let (a, b) = (chunk[0], chunk[chunk.len() - 1] + 1);
        sqlx::query!(
            "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, checked_out_at, created_by)
             SELECT p, u, d, i, o, $6 FROM unnest($1::bigint[], $2::bigint[], $3::date[], $4::timestamptz[], $5::timestamptz[]) AS v(p, u, d, i, o)",
            &who[a..b] as _,
            &unit[a..b] as _,
            &on[a..b],
            &inn[a..b],
            &out[a..b] as _,
            by as _
        )
        .execute(db)
        .await?;
    }
    Ok(())
}

/// Anonymous visitors counted at the desk on the open days, as the drop-in
/// buttons do: a few a day, by gender.
async fn load_drop_ins(db: &PgPool, units: &[UnitId], start: NaiveDate, today: NaiveDate) -> anyhow::Result<()> {
    use crate::participants::model::Gender;
    let (mut unit_ids, mut days, mut genders, mut counts) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for unit in units {
        for day in (0..=(today - start).num_days()).map(|n| start + Duration::days(n)) {
            if !crate::domain::calendar::open_by_default(day) {
                continue;
            }
            for gender in [Gender::Woman, Gender::Man, Gender::OtherOrUnstated] {
                let dice = spread(unit.get() * 3 + gender as i64, day);
                let visitors = if gender == Gender::OtherOrUnstated && dice % 5 != 0 {
                    0
                } else {
                    dice % 3
                };
                if visitors > 0 {
                    unit_ids.push(*unit);
                    days.push(day);
                    genders.push(gender.code().to_string());
                    counts.push(visitors as i32);
                }
            }
        }
    }
    sqlx::query!(
        "INSERT INTO drop_in_visits (unit_id, visit_on, gender, visitors)
         SELECT * FROM unnest($1::bigint[], $2::date[], $3::text[], $4::int[])
         ON CONFLICT (unit_id, visit_on, gender) DO NOTHING",
        &unit_ids as _,
        &days,
        &genders,
        &counts
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The demo's people, for the roles the history needs.
pub(super) async fn team(db: &PgPool) -> anyhow::Result<Staff> {
    let user = |email: &'static str| async move {
        sqlx::query!(
            r#"SELECT id AS "id: UserId", name, email, job_title, role AS "role: Role" FROM users WHERE email = $1"#,
            email
        )
        .fetch_one(db)
        .await
        .map(|r| SessionUser {
            id: r.id,
            name: r.name,
            email: r.email,
            job_title: r.job_title,
            role: r.role,
            unit_ids: Vec::new(),
            must_change_password: false,
            must_add_second_factor: false,
        })
    };
    Ok(Staff {
        staff: user("personal@lotsen.example").await?,
        therapist: user("at@lotsen.example").await?,
        manager: user("chef@lotsen.example").await?,
    })
}

/// Outreach, information meetings and the intakes waiting today: the way in
/// (issue 19), through the same commands as the pages.
async fn load_outreach(db: &PgPool, units: &[UnitId], start: NaiveDate, today: NaiveDate, team: &Staff) -> anyhow::Result<()> {
    const WHO: [&str; 6] = [
        "K, ca 30 år",
        "M, 24 år",
        "Man i 40-årsåldern",
        "Kvinna, 28 år",
        "J, 35 år",
        "Ung man, ca 20",
    ];
    for (u, unit) in units.iter().enumerate() {
        let mut day = start;
        let mut n = 0i64;
        while day <= today {
            let seed = i64::from(day.num_days_from_ce()) * 7 + u as i64;
            let r = |salt: i64| roll(seed, salt);
            if day.weekday().num_days_from_monday() < 5 && r(1) % 4 == 0 {
                let home_support = r(2) % 3 != 0;
                let contact = outreach::NewContact {
                    unit: *unit,
                    on: day,
                    person: WHO[(r(3) as usize) % WHO.len()].into(),
                    gender: match r(4) % 12 {
                        0 => Gender::OtherOrUnstated,
                        1..=6 => Gender::Woman,
                        _ => Gender::Man,
                    },
                    home_support,
                    place: if home_support {
                        OutreachPlace::HomeSupportVisit
                    } else {
                        OutreachPlace::ALL[(r(5) as usize) % OutreachPlace::ALL.len()]
                    },
                    place_note: String::new(),
                    staff: team.staff.id,
                    outcome: OutreachOutcome::ALL[(r(6) as usize) % OutreachOutcome::ALL.len()],
                    note: String::new(),
                };
                outreach::add_contact(db, &contact, stamp(&team.staff, at_stockholm(day, 14 * 60))).await?;
            }
            // An information meeting or a study visit on the first Tuesday of the month.
            if day.weekday() == chrono::Weekday::Tue && day.day() <= 7 {
                n += 1;
                let visit = day.month().is_multiple_of(3);
                let meeting = outreach::NewMeeting {
                    unit: *unit,
                    on: day,
                    kind: if visit {
                        MeetingKind::StudyVisit
                    } else {
                        MeetingKind::InformationMeeting
                    },
                    topic: if visit {
                        "Studiebesök från psykiatrins öppenvård".into()
                    } else {
                        "Informationsträff om förstegsträning och Team ISA".into()
                    },
                    women: 2 + (roll(n, 7) % 5) as i32,
                    men: 1 + (roll(n, 8) % 5) as i32,
                    other: (roll(n, 9) % 2) as i32,
                    led_by: team.staff.id,
                };
                outreach::add_meeting(db, &meeting, stamp(&team.staff, at_stockholm(day, 16 * 60))).await?;
            }
            day += Duration::days(1);
        }
    }
    // Intakes waiting today at the first unit: two within ten days, two past them, one closed.
    let Some(unit) = units.first().copied() else { return Ok(()) };
    for (k, days) in [2i64, 6, 13, 20, 30].into_iter().enumerate() {
        let received_on = today - Duration::days(days);
        let new = outreach::NewIntake {
            unit,
            received_on,
            source: [
                ReferralSource::HomeSupport,
                ReferralSource::Psychiatry,
                ReferralSource::OwnInitiative,
                ReferralSource::Relative,
                ReferralSource::SocialServices,
            ][k],
            first_name: FIRST_NAMES[(k * 7 + 3) % FIRST_NAMES.len()].0.into(),
            last_name: LAST_NAMES[(k * 5 + 2) % LAST_NAMES.len()].into(),
            phone: "070-000 00 00".into(),
            gender: Gender::parse(FIRST_NAMES[(k * 7 + 3) % FIRST_NAMES.len()].1).unwrap_or(Gender::OtherOrUnstated),
            home_support: k % 2 == 0,
            note: "Vill veta mer om förstegsträning.".into(),
        };
        let as_staff = stamp(&team.staff, at_stockholm(received_on, 10 * 60));
        let id = outreach::add_intake(db, &new, as_staff).await?;
        if days == 6 {
            outreach::set_first_visit(db, id, received_on + Duration::days(4), today, as_staff)
                .await?
                .map_err(refused)?;
        }
        if days == 30 {
            outreach::close_intake(
                db,
                id,
                received_on + Duration::days(12),
                "Valde en annan verksamhet.",
                today,
                as_staff,
            )
            .await?
            .map_err(refused)?;
        }
    }
    Ok(())
}

/// Forumträffar each quarter and employer contacts most weekdays, per unit.
async fn load_employer_work(
    db: &PgPool,
    units: &[UnitId],
    employers: &[EmployerId],
    start: NaiveDate,
    today: NaiveDate,
    team: &Staff,
) -> anyhow::Result<()> {
    const KINDS: [&str; 4] = ["visit", "phone", "meeting", "email"];
    for (u, unit) in units.iter().enumerate() {
        let mut day = start;
        while day <= today {
            let seed = i64::from(day.num_days_from_ce()) * 11 + u as i64;
            let as_staff = stamp(&team.staff, at_stockholm(day, 15 * 60));
            if day.weekday().num_days_from_monday() < 5 && roll(seed, 1) % 10 < 7 {
                let contact = employment::NewEmployerContact {
                    unit: *unit,
                    staff: team.staff.id,
                    employer: employers[(roll(seed, 2) as usize) % employers.len()],
                    on: day,
                    kind: KINDS[(roll(seed, 3) as usize) % KINDS.len()],
                    note: String::new(),
                };
                employment::add_employer_contact(db, &contact, as_staff).await?;
            }
            if day.weekday() == chrono::Weekday::Thu && day.day() <= 7 && day.month() % 3 == 1 {
                let forum = employment::NewForum {
                    unit: *unit,
                    on: day,
                    topic: "Arbetsgivarfrukost: vad behöver ni av oss?".into(),
                    notes: String::new(),
                    employers: employers.iter().copied().skip((roll(seed, 4) % 3) as usize).take(3).collect(),
                };
                employment::add_forum(db, &forum, as_staff).await?;
            }
            day += Duration::days(1);
        }
    }
    Ok(())
}

/// Last year's brukarundersökning and this year's so far, per unit: answers
/// from paper and from the tablet, and codes still to be handed out.
async fn load_surveys(db: &PgPool, units: &[UnitId], today: NaiveDate, team: &Staff) -> anyhow::Result<()> {
    use crate::survey::store::{self as survey, Answer};
    for (u, unit) in units.iter().enumerate() {
        for (year, answers) in [(today.year() - 1, 40usize), (today.year(), 12)] {
            let as_manager = stamp(&team.manager, at_stockholm(today, 9 * 60));
            let id = survey::create(db, *unit, year, as_manager).await?.map_err(refused)?;
            let codes = survey::new_codes(db, id, answers / 2 + 5, today, as_manager).await?;
            for n in 0..answers {
                let r = |salt: i64| roll((n * 13 + u) as i64 + i64::from(year) * 1000, salt);
                let answer = Answer {
                    gender: match r(1) % 20 {
                        0 => Gender::OtherOrUnstated,
                        1..=11 => Gender::Woman,
                        _ => Gender::Man,
                    },
                    satisfaction: Some(3 + (r(2) % 3) as i16),
                    competence: Some(3 + (r(3) % 3) as i16),
                    respect: (r(4) % 5 != 0).then(|| 4 + (r(5) % 2) as i16),
                    knows_where_to_complain: Some(r(6) % 4 != 0),
                };
                // This year's half come from the tablet (a code reaches only this year's survey).
                match codes.get(n).filter(|_| n % 2 == 0 && year == today.year()) {
                    Some(code) => survey::answer_with_code(db, code, &answer, today).await?.map_err(refused)?,
                    None => survey::add_paper_answer(db, id, &answer, stamp(&team.staff, at_stockholm(today, 10 * 60))).await?,
                }
            }
        }
    }
    Ok(())
}
