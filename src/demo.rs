//! Demo data for trying Lotsen out: two units and one user per role. Running
//! it again changes nothing. Later features add their own demo records here.

use crate::auth::{Role, password};
use chrono::{DateTime, Utc};
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
    Ok(())
}
