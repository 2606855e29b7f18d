//! Demo data for trying Lotsen out: two units and one user per role. Running
//! it again changes nothing. Later features add their own demo records here.

use crate::auth::{Role, password};
use chrono::{DateTime, NaiveDate, Utc};
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
        sqlx::query!(
            "INSERT INTO units (name, created_at) VALUES ($1, $2) ON CONFLICT (lower(name)) DO NOTHING",
            name,
            now
        )
        .execute(&mut *tx)
        .await?;
    }
    let hash = password::hash_blocking(DEMO_PASSWORD.to_string()).await?;
    for user in &USERS {
        sqlx::query!(
            "INSERT INTO users (email, name, job_title, role, password_hash, created_at, password_changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING",
            user.email,
            user.name,
            user.job_title,
            user.role as Role,
            hash,
            now
        )
        .execute(&mut *tx)
        .await?;
        // Everyone works at the first unit; the manager and admin see both.
        let unit_names: &[&str] = if user.role == Role::Staff { &UNITS[..1] } else { &UNITS };
        sqlx::query!(
            "INSERT INTO unit_memberships (user_id, unit_id)
             SELECT u.id, un.id FROM users u, units un WHERE u.email = $1 AND un.name = ANY($2)
             ON CONFLICT DO NOTHING",
            user.email,
            &unit_names.iter().map(|s| s.to_string()).collect::<Vec<_>>()
        )
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    load_participants(db, now).await?;
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
        sqlx::query!("SELECT id, name, job_title FROM users WHERE email = $1", email)
            .fetch_one(db)
            .await
            .map(|r| (r.id, r.name, r.job_title))
    };
    let staff = user("personal@lotsen.example").await?;
    let therapist = user("at@lotsen.example").await?;
    let manager = user("chef@lotsen.example").await?;

    let mut tx = db.begin().await?;
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
        let id: i64 = sqlx::query_scalar!(
            "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone,
                 resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
                 coordinated_plan_on, coordinated_plan_lead, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
            unit_id,
            first,
            last,
            kind,
            number,
            birth,
            gender,
            format!("070-000 {:02} {:02}", i / 10, i % 100),
            resident,
            if resident {
                ""
            } else {
                "Flyttar till kommunen inom kort; undantag överenskommet med förvaltningen"
            },
            REFERRALS[i % REFERRALS.len()],
            first_contact,
            first_visit,
            i % 4 == 0,
            (i % 4 == 0).then_some(first_visit),
            if i % 4 == 0 { "Region Östergötland, psykiatrin" } else { "" },
            created
        )
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO participant_versions (participant_id, version, changed_by, changed_at, first_name, last_name, identity_kind,
                 identity_number, birth_date, gender, phone, email, address, resident, non_resident_reason, referral_source,
                 first_contact_on, first_visit_on, has_coordinated_plan, coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up)
             SELECT id, version, $2, created_at, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
                 address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
                 coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up FROM participants WHERE id = $1",
            id,
            staff.0
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "INSERT INTO participant_status_events (participant_id, status, effective_on, note, changed_by, changed_at) VALUES ($1, 'active', $2, 'Registrerad', $3, $4)",
            id,
            first_visit,
            staff.0,
            created
        )
        .execute(&mut *tx)
        .await?;

        // Kontaktman: staff at Centrum, the manager at Ryd; most people have one.
        if i % 5 != 4 {
            let key_worker = if i >= 50 {
                &manager
            } else if i % 2 == 0 {
                &staff
            } else {
                &therapist
            };
            sqlx::query!(
                "INSERT INTO key_worker_assignments (participant_id, user_id, from_on, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)",
                id,
                key_worker.0,
                first_visit,
                manager.0,
                created
            )
            .execute(&mut *tx)
            .await?;
        }
        // Boendestöd for a third: more hours a year ago, fewer now.
        if i % 3 == 1 {
            for (months_ago, hours) in [(12i64, 8.0f64), (3, 5.5)] {
                sqlx::query!(
                    "INSERT INTO home_support_entries (participant_id, valid_from, has_support, provider, hours_per_week, recorded_by, recorded_at)
                     VALUES ($1, $2, true, 'Boendestöd Linköping', $3::float8::numeric, $4, $5)",
                    id,
                    today - chrono::Duration::days(30 * months_ago),
                    hours,
                    staff.0,
                    now - chrono::Duration::days(30 * months_ago)
                )
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query!("UPDATE participants SET has_home_support = true WHERE id = $1", id)
                .execute(&mut *tx)
                .await?;
        }
        // Journal: a few notes each for the first sixty.
        if i < 60 {
            for n in 0..(1 + i % 3) {
                let author = if n % 2 == 0 { &staff } else { &therapist };
                sqlx::query!(
                    "INSERT INTO journal_notes (participant_id, event_on, note_type, body, author_id, author_name, author_title, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    id,
                    first_visit + chrono::Duration::days(7 * n as i64),
                    ["event", "conversation", "follow_up"][n % 3],
                    NOTES[(i + n) % NOTES.len()],
                    author.0,
                    author.1,
                    author.2,
                    created + chrono::Duration::days(7 * n as i64)
                )
                .execute(&mut *tx)
                .await?;
            }
        }
        // A few have ended, a few are dormant.
        if i % 11 == 10 {
            let ended_on = today - chrono::Duration::days(20);
            sqlx::query!(
                "UPDATE participants SET status = 'ended', ended_on = $2, end_reason = 'moved_on' WHERE id = $1",
                id,
                ended_on
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "INSERT INTO participant_status_events (participant_id, status, effective_on, end_reason, note, changed_by, changed_at)
                 VALUES ($1, 'ended', $2, 'moved_on', 'Fått anställning', $3, $4)",
                id,
                ended_on,
                manager.0,
                now - chrono::Duration::days(20)
            )
            .execute(&mut *tx)
            .await?;
            sqlx::query!(
                "UPDATE key_worker_assignments SET to_on = greatest(from_on, $2) WHERE participant_id = $1 AND to_on IS NULL",
                id,
                ended_on
            )
            .execute(&mut *tx)
            .await?;
        } else if i % 13 == 12 {
            sqlx::query!("UPDATE participants SET status = 'dormant' WHERE id = $1", id)
                .execute(&mut *tx)
                .await?;
            sqlx::query!(
                "INSERT INTO participant_status_events (participant_id, status, effective_on, note, changed_by, changed_at)
                 VALUES ($1, 'dormant', $2, 'Uppehåll under sjukskrivning', $3, $4)",
                id,
                today - chrono::Duration::days(10),
                staff.0,
                now - chrono::Duration::days(10)
            )
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
