//! Demo data for trying Lotsen out: two units and one user per role. Running
//! it again changes nothing. Later features add their own demo records here.

use crate::audit::Stamp;
use crate::auth::context::SessionUser;
use crate::auth::{Role, password};
use crate::domain::plans::{Programme, WeeklyHours};
use crate::ids::{ParticipantId, UnitId, UserId, VisitId};
use crate::participants::form::ParticipantFields;
use crate::participants::model::Gender;
use crate::participants::model::{EndReason, NoteType, ParticipantStatus};
use crate::participants::store as participants;
use crate::plans::follow_ups::Checked;
use crate::plans::form::{EmployerChoice, NewEmployer, PlanFields};
use crate::plans::model::{ActivityStatus, Outcome};
use crate::plans::queries::Plan;
use crate::plans::store::employers::Contact;
use crate::plans::store::{self, Activation};
use crate::users::store::Account;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Stockholm;
use sqlx::PgPool;

pub const DEMO_PASSWORD: &str = "lotsen-demo-2026";

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub job_title: &'static str,
    pub role: Role,
}

pub const UNITS: [&str; 2] = ["Lotsen Centrum", "Lotsen Ryd"];

pub const USERS: [DemoUser; 4] = [
    DemoUser {
        email: "admin@lotsen.example",
        name: "Alva Administratör",
        job_title: "systemförvaltare",
        role: Role::Admin,
    },
    DemoUser {
        email: "chef@lotsen.example",
        name: "Maja Enhetschef",
        job_title: "enhetschef",
        role: Role::Manager,
    },
    DemoUser {
        email: "personal@lotsen.example",
        name: "Sami Stödpedagog",
        job_title: "stödpedagog",
        role: Role::Staff,
    },
    DemoUser {
        email: "at@lotsen.example",
        name: "Ines Arbetsterapeut",
        job_title: "arbetsterapeut",
        role: Role::Staff,
    },
];

pub async fn load(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    for name in UNITS {
        let exists = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM units WHERE lower(name) = lower($1)) AS "exists!""#,
            name
        )
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            crate::units::insert(&mut tx, name, now).await?;
        }
    }
    tx.commit().await?;
    let units = sqlx::query_scalar!(
        r#"SELECT id AS "id: UnitId" FROM units WHERE name = ANY($1) ORDER BY name"#,
        &UNITS.map(String::from)[..]
    )
    .fetch_all(db)
    .await?;
    let hash = password::hash_blocking(DEMO_PASSWORD.to_string()).await?;
    for user in &USERS {
        let account = Account {
            email: user.email.into(),
            name: user.name.into(),
            job_title: user.job_title.into(),
            role: user.role,
            // Everyone works at the first unit; the manager and admin see both.
            unit_ids: if user.role == Role::Staff {
                units[..1].to_vec()
            } else {
                units.clone()
            },
            active: true,
        };
        // Already there from an earlier run: an e-mail address is taken once.
        let _ = crate::users::store::create_as(db, &account, &hash, None, now, "demodata").await?;
    }
    load_participants(db, now).await?;
    load_plans(db, now).await?;
    load_visits(db, now).await?;
    load_activities(db, now).await?;
    crate::reminders::sweep::run(db, now.date_naive(), now).await?;
    Ok(())
}

const FIRST_NAMES: [(&str, &str); 20] = [
    ("Aina", "woman"),
    ("Bertil", "man"),
    ("Cecilia", "woman"),
    ("Dragan", "man"),
    ("Elsa", "woman"),
    ("Fredrik", "man"),
    ("Greta", "woman"),
    ("Hampus", "man"),
    ("Ida", "woman"),
    ("Jonatan", "man"),
    ("Klara", "woman"),
    ("Leo", "man"),
    ("Maja", "woman"),
    ("Nils", "man"),
    ("Olivia", "woman"),
    ("Pontus", "man"),
    ("Rut", "woman"),
    ("Sixten", "man"),
    ("Tove", "woman"),
    ("Alex", "other_or_unstated"),
];
const LAST_NAMES: [&str; 16] = [
    "Ahlström",
    "Bergkvist",
    "Dahlin",
    "Ekholm",
    "Forsberg",
    "Gunnarsson",
    "Hedlund",
    "Isaksson",
    "Jonasson",
    "Karlberg",
    "Lindqvist",
    "Malmgren",
    "Nordin",
    "Öberg",
    "Sjöholm",
    "Åkerlund",
];
/// The three example numbers from the issue; every other demo person has a
/// reservnummer or no number, so no real person's personnummer is used.
const EXAMPLE_NUMBERS: [(&str, &str, (i32, u32, u32)); 3] = [
    ("personnummer", "196408233234", (1964, 8, 23)),
    ("personnummer", "198001018129", (1980, 1, 1)),
    ("samordningsnummer", "197010632391", (1970, 10, 3)),
];
const REFERRALS: [&str; 8] = [
    "self",
    "relative",
    "representative",
    "psychiatry",
    "primary_care",
    "social_services",
    "home_support",
    "other",
];
const NOTES: [&str; 4] = [
    "Kom till dagverksamheten och deltog i lunchen. Pratade om att vilja hitta en praktikplats.",
    "Samtal om veckans struktur. Vill prova förstegsträning i caféet två förmiddagar i veckan.",
    "Uppföljning tillsammans med boendestödjaren. Mår bättre, sover bättre.",
    "Kontakt med Arbetsförmedlingen inför samverkansmöte nästa månad.",
];

/// About 80 clearly fictional participants across the two demo units, with
/// kontaktmän, journals and boendestöd histories. Skipped when any exist.
async fn load_participants(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM participants"#)
        .fetch_one(db)
        .await?;
    if existing > 0 {
        return Ok(());
    }
    let today = now.date_naive();
    let units: Vec<(i64, String)> = sqlx::query!(
        "SELECT id, name FROM units WHERE name = ANY($1) ORDER BY name",
        &UNITS.map(String::from)[..]
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|r| (r.id, r.name))
    .collect();
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
        })
    };
    let staff = user("personal@lotsen.example").await?;
    let therapist = user("at@lotsen.example").await?;
    let manager = user("chef@lotsen.example").await?;
    let by = |who: &SessionUser, at: DateTime<Utc>| Stamp { by: who.id, at };

    // Through the same commands as the pages, so demo records keep every rule.
    for i in 0..80usize {
        let (unit_id, _) = &units[if i < 50 { 0 } else { 1 }];
        let (first, gender) = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i * 7 + i / 16) % LAST_NAMES.len()];
        let (kind, number, birth) = match i {
            0..=2 => {
                let (kind, number, (y, m, d)) = EXAMPLE_NUMBERS[i];
                (kind, Some(number.to_string()), NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today))
            }
            _ => {
                let birth = NaiveDate::from_ymd_opt(1968 + (i as i32 * 37) % 38, 1 + (i as u32 * 5) % 12, 1 + (i as u32 * 11) % 28)
                    .unwrap_or(today);
                if i % 3 == 0 {
                    ("reservnummer", Some(format!("RES-{:04}", 1000 + i)), birth)
                } else {
                    ("none", None, birth)
                }
            }
        };
        let resident = i % 17 != 5;
        let first_contact = today - chrono::Duration::days(30 + (i as i64 * 13) % 700);
        let first_visit = first_contact + chrono::Duration::days((i as i64 * 3) % 14);
        let created = now - chrono::Duration::days(30 + (i as i64 * 13) % 700);
        let fields = ParticipantFields {
            first_name: first.into(),
            last_name: last.into(),
            identity_kind: kind.into(),
            identity_number: number,
            birth_date: birth,
            gender: gender.into(),
            phone: format!("070-000 {:02} {:02}", i / 10, i % 100),
            email: String::new(),
            address: String::new(),
            resident,
            non_resident_reason: if resident {
                String::new()
            } else {
                "Flyttar till kommunen inom kort; undantag överenskommet med förvaltningen".into()
            },
            referral_source: REFERRALS[i % REFERRALS.len()].into(),
            first_contact_on: Some(first_contact),
            first_visit_on: Some(first_visit),
            has_coordinated_plan: i % 4 == 0,
            coordinated_plan_on: (i % 4 == 0).then_some(first_visit),
            coordinated_plan_lead: if i % 4 == 0 { "Region Östergötland, psykiatrin" } else { "" }.into(),
            coordinated_plan_next_follow_up: None,
        };
        let id = participants::register(db, UnitId(*unit_id), &fields, first_visit, by(&staff, created))
            .await?
            .map_err(refused)?;

        // Kontaktman: staff at Centrum, the manager at Ryd; most people have one.
        if i % 5 != 4 {
            let key_worker = if i >= 50 {
                &manager
            } else if i % 2 == 0 {
                &staff
            } else {
                &therapist
            };
            participants::assign_key_worker(db, id, key_worker.id, first_visit, today, by(&manager, created))
                .await?
                .map_err(refused)?;
        }
        // Boendestöd for a third: more hours a year ago, fewer now.
        if i % 3 == 1 {
            for (months_ago, hours) in [(12i64, 8.0f64), (3, 5.5)] {
                let entry = participants::HomeSupport {
                    from: today - chrono::Duration::days(30 * months_ago),
                    has_support: true,
                    provider: "Boendestöd Linköping",
                    hours: Some(hours),
                    correction_reason: "",
                };
                let at = now - chrono::Duration::days(30 * months_ago);
                participants::record_home_support(db, id, entry, today, by(&staff, at))
                    .await?
                    .map_err(refused)?;
            }
        }
        // A närstående for every seventh, with a number that changed once.
        if i % 7 == 0 {
            let relative = participants::NewRelative {
                kind: crate::participants::model::RelativeKind::Relative,
                name: "Karin Demo",
                relation: "mamma",
                phone: "013-20 60 00",
                email: "",
                note: "",
            };
            let added = participants::add_relative(db, id, relative, by(&staff, created))
                .await?
                .map_err(refused)?;
            let moved = participants::NewRelative {
                phone: "070-123 45 67",
                ..relative
            };
            participants::change_relative(db, added, 1, moved, by(&staff, now))
                .await?
                .map_err(refused)?;
        }
        // Journal: a few notes each for the first sixty.
        if i < 60 {
            for n in 0..(1 + i % 3) {
                let author = if n % 2 == 0 { &staff } else { &therapist };
                let note = participants::NewNote {
                    participant: id,
                    event_on: first_visit + chrono::Duration::days(7 * n as i64),
                    note_type: [NoteType::Event, NoteType::Conversation, NoteType::FollowUp][n % 3],
                    body: NOTES[(i + n) % NOTES.len()],
                    corrects: None,
                    disputes: None,
                };
                participants::write_note(db, note, author, created + chrono::Duration::days(7 * n as i64))
                    .await?
                    .map_err(refused)?;
            }
        }
        // A few have ended, a few are dormant.
        let change = if i % 11 == 10 {
            Some((
                participants::StatusChange {
                    status: ParticipantStatus::Ended,
                    on: today - chrono::Duration::days(20),
                    end_reason: Some(EndReason::MovedOn),
                    note: "Fått anställning",
                },
                by(&manager, now - chrono::Duration::days(20)),
            ))
        } else if i % 13 == 12 {
            Some((
                participants::StatusChange {
                    status: ParticipantStatus::Dormant,
                    on: today - chrono::Duration::days(10),
                    end_reason: None,
                    note: "Uppehåll under sjukskrivning",
                },
                by(&staff, now - chrono::Duration::days(10)),
            ))
        } else {
            None
        };
        if let Some((change, stamp)) = change {
            participants::change_status(db, id, change, today, stamp).await?.map_err(refused)?;
        }
    }
    Ok(())
}

/// One demo plan: who (by position among the candidates), which programme,
/// hours, and where its next follow-up falls relative to today.
#[derive(Clone, Copy)]
struct DemoPlan {
    programme: Programme,
    hours: f64,
    /// Days from today to the next follow-up (negative: overdue).
    due_in: i64,
    state: DemoState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DemoState {
    Active,
    /// Active, set almost a year ago: the renewal is due.
    RenewalDue,
    /// Active since nearly two years: the limit is near.
    NearLimit,
    Queued,
    Draft,
    Ended(&'static str),
}

const EMPLOYERS: [(&str, &str, &str); 4] = [
    ("Bageriet i Ryd", "556000-0001", "Karin Bagare"),
    ("Cykelverkstan Linköping", "556000-0002", "Omar Mek"),
    ("Stadsbiblioteket", "", "Lena Bok"),
    ("Second hand Trappan", "802000-0004", "Pia Trappa"),
];

/// Plans in every state, so "Att göra", the waiting list and the personakt
/// look alive at once: Team ISA full with one waiting, förstegsträning at
/// 105 of 105 hours with one waiting, follow-ups on time, due soon and
/// overdue, a renewal due, one person near two years, drafts and ended plans.
async fn load_plans(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    use DemoState::*;
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM plans"#).fetch_one(db).await?;
    if existing > 0 {
        return Ok(());
    }
    let today = now.date_naive();
    let unit_id = sqlx::query_scalar!(r#"SELECT id AS "id: UnitId" FROM units WHERE name = $1"#, UNITS[0])
        .fetch_one(db)
        .await?;
    let staff = sqlx::query_scalar!(r#"SELECT id AS "id: UserId" FROM users WHERE email = 'personal@lotsen.example'"#)
        .fetch_one(db)
        .await?;
    let therapist = sqlx::query_scalar!(r#"SELECT id AS "id: UserId" FROM users WHERE email = 'at@lotsen.example'"#)
        .fetch_one(db)
        .await?;
    // Active people at the first unit with a kontaktman; the young first, for Team ISA.
    let people = sqlx::query!(
        r#"SELECT p.id AS "id: ParticipantId", p.birth_date FROM participants p
           JOIN key_worker_assignments k ON k.participant_id = p.id AND k.to_on IS NULL
           WHERE p.unit_id = $1 AND p.status = 'active' ORDER BY p.birth_date DESC, p.id"#,
        unit_id as _
    )
    .fetch_all(db)
    .await?;
    let (mut young, mut others): (Vec<_>, Vec<_>) = people
        .iter()
        .partition(|p| crate::domain::plans::team_isa_age_allowed(p.birth_date, today).is_ok());
    let isa = |hours: f64, due_in: i64, state: DemoState| DemoPlan {
        programme: Programme::TeamIsa,
        hours,
        due_in,
        state,
    };
    let fst = |hours: f64, due_in: i64, state: DemoState| DemoPlan {
        programme: Programme::FirstStep,
        hours,
        due_in,
        state,
    };
    let team_isa = [
        isa(20.0, 30, Active),
        isa(15.0, 9, Active),
        isa(25.0, -12, Active),
        isa(10.0, 3, Active),
        isa(16.0, 40, Active),
        isa(12.5, -2, Active),
        isa(8.0, 0, Queued),
        isa(10.0, 0, Ended("employment")),
    ];
    let first_step = [
        fst(20.0, 60, Active),
        fst(15.0, 11, Active),
        fst(10.0, -20, Active),
        fst(12.5, 75, RenewalDue),
        fst(8.0, 25, NearLimit),
        fst(4.5, 5, Active),
        fst(20.0, 80, Active),
        fst(15.0, -1, Active),
        fst(10.0, 0, Queued),
        fst(6.0, 0, Draft),
        fst(12.0, 0, Ended("studies")),
        fst(8.0, 0, Ended("reinforced_cooperation")),
    ];
    let mut employer_ids = Vec::new();
    for (name, org, contact) in EMPLOYERS {
        let new = NewEmployer {
            name: name.into(),
            organisation_number: Some(org.to_string()).filter(|o| !o.is_empty()),
            contact_name: contact.into(),
        };
        let id = store::employers::register(db, &new, Contact::default(), Stamp { by: staff, at: now })
            .await?
            .map_err(refused)?;
        employer_ids.push(id);
    }
    // Each plan to its person, in order: the young to Team ISA.
    let mut planned = Vec::new();
    for plan in team_isa.iter().chain(first_step.iter()) {
        let person = if plan.programme == Programme::TeamIsa {
            young.pop()
        } else {
            others.pop().or_else(|| young.pop())
        };
        let Some(person) = person else { break };
        planned.push((planned.len() + 1, person.id, *plan));
    }
    // Through the same commands as the pages, so demo data keeps every rule:
    // the ended plans first (their places are free again), the active ones
    // next (filling the places), and last those that wait in the kö.
    planned.sort_by_key(|(_, _, plan)| match plan.state {
        Ended(_) => 0,
        Queued | Draft => 2,
        _ => 1,
    });
    let as_staff = Stamp { by: staff, at: now };
    for (n, person, plan) in planned {
        let interval = plan.programme.follow_up_interval();
        // Work back from when the next follow-up should fall.
        let (set_on, held) = match plan.state {
            RenewalDue => (
                today - chrono::Duration::days(358),
                Some(today + chrono::Duration::days(plan.due_in) - chrono::Duration::days(91)),
            ),
            NearLimit => (
                today - chrono::Duration::days(690),
                Some(today + chrono::Duration::days(plan.due_in) - chrono::Duration::days(91)),
            ),
            Ended(_) => (today - chrono::Duration::days(300), None),
            _ => {
                let due = today + chrono::Duration::days(plan.due_in);
                let back = match interval {
                    crate::domain::plans::Interval::Weeks(w) => due - chrono::Duration::weeks(i64::from(w)),
                    crate::domain::plans::Interval::Months(m) => due.checked_sub_months(chrono::Months::new(m)).unwrap_or(due),
                };
                // Those due later than one interval have had a follow-up already.
                if back > today - chrono::Duration::days(20) {
                    (today - chrono::Duration::days(120), Some(back))
                } else {
                    (back, None)
                }
            }
        };
        let start_on = set_on;
        let planned_end_on = match plan.state {
            NearLimit => crate::domain::plans::last_allowed_day(start_on),
            _ => start_on + chrono::Duration::days(365),
        };
        let employer = (plan.programme == Programme::TeamIsa && plan.state != Queued).then(|| employer_ids[n % employer_ids.len()]);
        let hours = WeeklyHours::from_hundredths((plan.hours * 100.0).round() as u32);
        let fields = PlanFields {
            programme: plan.programme,
            start_on,
            planned_end_on,
            weekly_hours: hours,
            weekdays: if n % 2 == 0 { 31 } else { 7 },
            methods: if plan.programme == Programme::TeamIsa {
                vec!["supported_employment".to_string(), "ips".to_string()]
            } else {
                vec!["esl".to_string(), "low_arousal".to_string()]
            },
            participation: "Personen var med och formulerade målen och valde veckodagar själv.".into(),
            summary: "Vill pröva att arbeta regelbundet och bygga upp uthållighet. Börjar med korta pass och ökar efter uppföljning."
                .into(),
            employer: employer.map_or(EmployerChoice::None, EmployerChoice::Existing),
            supervisor: if employer.is_some() { "Handledare på plats" } else { "" }.into(),
            tasks: if employer.is_some() {
                "Plocka varor, enklare kundkontakt"
            } else {
                ""
            }
            .into(),
        };
        let id = store::create(db, person, unit_id, &fields, as_staff).await?.map_err(refused)?;
        let load = async || -> anyhow::Result<Plan> {
            crate::plans::queries::load(db, id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("demo plan {id} is gone"))
        };
        if matches!(plan.state, Draft) {
            continue;
        }
        // A plan is set with its summary and a goal (migration 0012).
        let goal = store::add_goal(db, &load().await?, None, "Arbeta regelbundet på en arbetsplats", as_staff)
            .await?
            .map_err(refused)?;
        match plan.state {
            Draft => continue,
            Queued => {
                let days = if plan.programme == Programme::TeamIsa { 24 } else { 9 };
                let queued_on = today - chrono::Duration::days(days);
                let queued_at = Stamp {
                    by: staff,
                    at: now - chrono::Duration::days(days),
                };
                let queued = store::activate(db, id, queued_on, queued_on, queued_at, true).await?;
                anyhow::ensure!(
                    matches!(queued, Activation::Queued { .. }),
                    "demo plan {id} was to wait in the kö: {queued:?}"
                );
                continue;
            }
            _ => {
                let activated = store::activate(db, id, set_on, today, as_staff, true).await?;
                anyhow::ensure!(
                    matches!(activated, Activation::Activated { .. }),
                    "demo plan {id} did not start: {activated:?}"
                );
            }
        }
        // Follow-ups held on time, one interval apart, the last on `held`.
        while let Some(last) = held {
            let active = load().await?;
            let due_on = active
                .next_follow_up_on
                .ok_or_else(|| anyhow::anyhow!("active demo plan {id} has no follow-up due"))?;
            let held_on = due_on.min(last);
            let follow_up = Checked {
                due_on,
                held_on,
                took_part: true,
                staff_present: "Sami Stödpedagog".into(),
                partners: vec!["home_support".into()],
                without_consent: Vec::new(),
                notes: "Går bra. Fortsätter som planerat.".into(),
                progress: Vec::new(),
                hours,
            };
            store::record_follow_up(db, &active, &follow_up, as_staff).await?.map_err(refused)?;
            if held_on == last {
                break;
            }
        }
        if let Ended(outcome) = plan.state {
            let outcome = Outcome::parse(outcome).ok_or_else(|| anyhow::anyhow!("unknown outcome {outcome}"))?;
            let ended_on = today - chrono::Duration::days(15);
            store::end(db, &load().await?, ended_on, today, outcome, "", as_staff)
                .await?
                .map_err(refused)?;
        }
        if n <= 3 {
            let active = load().await?;
            let sub = store::add_goal(db, &active, Some(goal), "Komma i tid tre dagar i veckan", as_staff)
                .await?
                .map_err(refused)?;
            let active = load().await?;
            let done = store::add_activity(db, &active, sub, "Gå igenom resvägen tillsammans", staff, as_staff)
                .await?
                .map_err(refused)?;
            store::set_activity_status(db, &load().await?, done, ActivityStatus::Done, as_staff).await?;
            let active = load().await?;
            store::add_activity(db, &active, goal, "Kartlägga arbetsförmåga", therapist, as_staff)
                .await?
                .map_err(refused)?;
            let by_therapist = Stamp { by: therapist, at: now };
            store::add_assessment(
                db,
                id,
                set_on,
                "Observation i arbete",
                "Klarar fyra timmar med pauser. Behöver tydliga instruktioner.",
                (n != 2).then_some(therapist),
                by_therapist,
            )
            .await?;
        }
    }
    Ok(())
}

/// A command that a demo record should never be refused.
fn refused(refused: crate::db::Refused) -> anyhow::Error {
    anyhow::anyhow!("demo data refused: {}: {}", refused.field, refused.message)
}

/// A year of visits on the units' open days (a few thousand), each checked
/// in at the desk between 09:00 and 13:00 and the past ones checked out by
/// 16:00, and anonymous drop-in visitors, so that "Dagens besök" and the
/// statistics have something to show. Skipped when visits exist.
async fn load_visits(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    use crate::attendance::store as attendance;
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM visits"#).fetch_one(db).await?;
    if existing > 0 {
        return Ok(());
    }
    let today = now.with_timezone(&Stockholm).date_naive();
    let open_days: Vec<NaiveDate> = (0..365)
        .rev()
        .map(|n| today - chrono::Duration::days(n))
        .filter(|d| crate::domain::calendar::open_by_default(*d))
        .collect();
    let staff = user_id(db, "personal@lotsen.example").await?;
    let people = sqlx::query!(r#"SELECT id AS "id: ParticipantId", created_at FROM participants WHERE status <> 'ended' ORDER BY id"#)
        .fetch_all(db)
        .await?;
    for day in &open_days {
        for person in &people {
            // About one day in five per person, from the day they were registered.
            let roll = spread(person.id.get(), *day);
            let checked_in = at_stockholm(*day, 9 * 60 + (roll % 240) as u32);
            if roll % 100 >= 21 || checked_in < person.created_at || checked_in > now {
                continue;
            }
            let stamp = Stamp { by: staff, at: checked_in };
            let Some(facts) = attendance::person_on(db, person.id, *day, checked_in).await? else {
                continue;
            };
            // Logged at the desk as it happened: the day is "today" at check-in.
            match attendance::check_in(db, facts, *day, *day, true, stamp).await? {
                attendance::CheckIn::Logged(_) => {}
                attendance::CheckIn::Refused(why) => anyhow::bail!("demo visit refused: {why}"),
                attendance::CheckIn::NeedsYes(_) => anyhow::bail!("demo visit needs a yes"),
            }
            if *day < today {
                let out = at_stockholm(*day, 13 * 60 + (roll / 7 % 180) as u32);
                let visit = sqlx::query_scalar!(
                    r#"SELECT id AS "id: VisitId" FROM visits WHERE participant_id = $1 AND visit_on = $2 AND cancelled_at IS NULL"#,
                    person.id as _,
                    day
                )
                .fetch_one(db)
                .await?;
                attendance::check_out(db, visit, out).await?;
            }
        }
    }
    // Anonymous visitors counted at the desk, as the drop-in buttons do.
    let units = sqlx::query_scalar!(
        r#"SELECT id AS "id: UnitId" FROM units WHERE name = ANY($1) ORDER BY name"#,
        &UNITS.map(String::from)[..]
    )
    .fetch_all(db)
    .await?;
    for unit in units {
        for day in &open_days {
            for gender in [Gender::Woman, Gender::Man, Gender::OtherOrUnstated] {
                let roll = spread(unit.get() * 3 + gender as i64, *day);
                let visitors = if gender == Gender::OtherOrUnstated && roll % 5 != 0 {
                    0
                } else {
                    roll % 3
                };
                for _ in 0..visitors {
                    attendance::count_drop_in(db, unit, *day, gender, 1).await?;
                }
            }
        }
    }
    Ok(())
}

/// A steady pseudo-random number for a record and a day, so that a demo
/// loaded twice looks the same.
fn spread(id: i64, day: NaiveDate) -> i64 {
    use chrono::Datelike;
    let x = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (day.num_days_from_ce() as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    ((x ^ (x >> 29)) % 1_000_003) as i64
}

/// Minutes after midnight on `day`, Swedish time.
fn at_stockholm(day: NaiveDate, minutes: u32) -> DateTime<Utc> {
    let local = day.and_hms_opt(minutes / 60, minutes % 60, 0).unwrap_or_default();
    local
        .and_local_timezone(Stockholm)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| local.and_utc())
}

async fn user_id(db: &PgPool, email: &str) -> Result<UserId, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT id AS "id: UserId" FROM users WHERE email = $1"#, email)
        .fetch_one(db)
        .await
}

/// Group activities in both units from eight weeks back to two weeks ahead:
/// fika on Mondays, Yngre Lotsen on Wednesdays, the livskunskap course on
/// Thursdays (one of them called off), an information meeting on the first
/// Tuesday of each month and a study visit next Friday, on open days. Those
/// past have an attendance among the day's visitors (Yngre Lotsen only
/// 18–35). Skipped when activities exist.
async fn load_activities(db: &PgPool, now: DateTime<Utc>) -> anyhow::Result<()> {
    use chrono::Datelike;
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM group_activities"#)
        .fetch_one(db)
        .await?;
    if existing > 0 {
        return Ok(());
    }
    let today = now.with_timezone(&chrono_tz::Europe::Stockholm).date_naive();
    let next_friday = today + chrono::Duration::days(i64::from(12 - today.weekday().number_from_monday()) % 7 + 7);
    let called_off = (7..14)
        .map(|n| today - chrono::Duration::days(n))
        .find(|d| d.weekday() == chrono::Weekday::Thu)
        .unwrap_or(today);
    let (mut days, mut kinds) = (Vec::new(), Vec::new());
    for day in (-56..=14).map(|n| today + chrono::Duration::days(n)) {
        let kind = match day.weekday() {
            chrono::Weekday::Mon => "social",
            chrono::Weekday::Tue if day.day() <= 7 => "information_meeting",
            chrono::Weekday::Wed => "young_adults",
            chrono::Weekday::Thu => "course_life_skills",
            chrono::Weekday::Fri if day == next_friday => "study_visit",
            _ => continue,
        };
        if crate::domain::calendar::open_by_default(day) {
            days.push(day);
            kinds.push(kind.to_string());
        }
    }
    use crate::attendance::groups::{ActivityKind, Schedule};
    use crate::attendance::store as attendance;
    let staff = user_id(db, "personal@lotsen.example").await?;
    let units = sqlx::query_scalar!(
        r#"SELECT id AS "id: UnitId" FROM units WHERE name = ANY($1) ORDER BY name"#,
        &UNITS.map(String::from)[..]
    )
    .fetch_all(db)
    .await?;
    for unit in units {
        for (day, kind) in days.iter().zip(&kinds) {
            let kind = ActivityKind::parse(kind).ok_or_else(|| anyhow::anyhow!("unknown activity kind {kind}"))?;
            let (title, from, to, place) = match kind {
                ActivityKind::Social => ("Fika och sällskapsspel", 13 * 60, 15 * 60, "Caféet"),
                ActivityKind::InformationMeeting => ("Informationsträff om förstegsträning", 10 * 60, 11 * 60, "Samlingssalen"),
                ActivityKind::YoungAdults => ("Yngre Lotsen: vi lagar mat", 14 * 60, 16 * 60, "Köket"),
                ActivityKind::StudyVisit => ("Studiebesök på Returbutiken", 9 * 60 + 30, 11 * 60 + 30, "Samling vid entrén"),
                _ => ("Livskunskap", 10 * 60, 12 * 60, "Samtalsrummet"),
            };
            let schedule = Schedule {
                kind,
                title: title.into(),
                starts_at: at_stockholm(*day, from),
                ends_at: at_stockholm(*day, to),
                place: place.into(),
                leaders: vec![staff],
            };
            let as_staff = Stamp { by: staff, at: now };
            let id = attendance::schedule_activity(db, unit, &schedule, as_staff).await?;
            if *day == called_off {
                attendance::call_off(db, id, 1, "Kursledaren är sjuk.", as_staff).await?;
                continue;
            }
            if schedule.ends_at > now {
                continue;
            }
            // Every other visitor of the day took part, as the visits were logged.
            let visitors = sqlx::query!(
                r#"SELECT p.id AS "id: ParticipantId", p.birth_date FROM visits v JOIN participants p ON p.id = v.participant_id
                   WHERE v.unit_id = $1 AND v.visit_on = $2 AND v.cancelled_at IS NULL ORDER BY p.id"#,
                unit as _,
                day
            )
            .fetch_all(db)
            .await?;
            for visitor in visitors {
                let young_enough = kind != ActivityKind::YoungAdults || crate::domain::ages::is_young_adult(visitor.birth_date, *day);
                if spread(id.get() + visitor.id.get(), *day) % 2 == 0 && young_enough {
                    let recorded = Stamp {
                        by: staff,
                        at: schedule.ends_at,
                    };
                    attendance::add_attendance(db, id, visitor.id, recorded).await?.map_err(refused)?;
                }
            }
        }
    }
    Ok(())
}
