//! Demo data for trying Lotsen out: two units, one user per role, and three
//! years of the units' history (`history`) that keeps every rule of
//! DOMAIN.md on every day. Running it again changes nothing.

mod history;

use crate::audit::Stamp;
use crate::auth::{Role, password};
use crate::ids::{ParticipantId, UnitId, UserId};
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
            oidc_subject: None,
        };
        // Already there from an earlier run: an e-mail address is taken once.
        let _ = crate::users::store::create_as(db, &account, &hash, None, now, "demodata").await?;
    }
    // Three years of history, once: skipped when anyone is registered.
    let existing: i64 = sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM participants"#)
        .fetch_one(db)
        .await?;
    if existing == 0 {
        history::load(db, now, &units, &history::team(db).await?).await?;
        // A registerutdrag asked for ten days ago, waiting on the manager's Att göra.
        let received = now.with_timezone(&chrono_tz::Europe::Stockholm).date_naive() - chrono::Duration::days(10);
        sqlx::query!(
            "INSERT INTO register_extract_requests (participant_id, received_on, identity_check, registered_by, registered_at)
             SELECT p.id, $1, 'Id-kort visat i receptionen', u.id, $2
             FROM participants p CROSS JOIN users u
             WHERE u.email = 'chef@lotsen.example' AND p.status = 'active'
             ORDER BY p.id LIMIT 1",
            received,
            now
        )
        .execute(db)
        .await?;
    }
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

/// A command that a demo record should never be refused.
fn refused(refused: crate::db::Refused) -> anyhow::Error {
    anyhow::anyhow!("demo data refused: {}: {}", refused.field, refused.message)
}

/// A steady pseudo-random number for a record and a day, so that a demo
/// loaded twice looks the same.
fn spread(id: i64, day: NaiveDate) -> i64 {
    use chrono::Datelike;
    (roll(id, day.num_days_from_ce().into()) % 1_000_003) as i64
}

/// A steady pseudo-random number for two numbers (a record and a salt).
fn roll(a: i64, b: i64) -> u64 {
    let x = (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
    (x ^ (x >> 31)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 7
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
