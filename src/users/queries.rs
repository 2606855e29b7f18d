use crate::auth::Role;
use crate::ids::{UnitId, UserId};
use chrono::{DateTime, Utc};
use sqlx::PgPool;

pub struct UserRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub job_title: String,
    pub role: Role,
    pub active: bool,
    pub units: String,
}

/// Every user with their units, in one query.
pub async fn list(db: &PgPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT u.id, u.name, u.email, u.job_title, u.role AS "role: Role", u.active,
                  coalesce(string_agg(un.name, ', ' ORDER BY un.name), '') AS "units!"
           FROM users u
           LEFT JOIN unit_memberships m ON m.user_id = u.id
           LEFT JOIN units un ON un.id = m.unit_id
           GROUP BY u.id
           ORDER BY u.active DESC, u.name, u.id"#
    )
    .fetch_all(db)
    .await
}

pub struct UserDetail {
    pub email: String,
    pub name: String,
    pub job_title: String,
    pub role: Role,
    pub active: bool,
    pub unit_ids: Vec<UnitId>,
    pub oidc_subject: Option<String>,
}

pub async fn find(db: &PgPool, id: UserId) -> Result<Option<UserDetail>, sqlx::Error> {
    sqlx::query_as!(
        UserDetail,
        r#"SELECT u.email, u.name, u.job_title, u.role AS "role: Role", u.active,
                  array(SELECT unit_id FROM unit_memberships WHERE user_id = u.id ORDER BY unit_id) AS "unit_ids!: Vec<UnitId>",
                  u.oidc_subject
           FROM users u WHERE u.id = $1"#,
        id as _
    )
    .fetch_optional(db)
    .await
}

#[derive(Clone)]
pub struct UnitChoice {
    pub id: UnitId,
    pub name: String,
}

pub async fn unit_choices(db: &PgPool) -> Result<Vec<UnitChoice>, sqlx::Error> {
    sqlx::query_as!(UnitChoice, "SELECT id, name FROM units WHERE active ORDER BY name")
        .fetch_all(db)
        .await
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut sqlx::PgConnection,
    email: &str,
    name: &str,
    job_title: &str,
    role: Role,
    active: bool,
    oidc_subject: Option<&str>,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<UserId, sqlx::Error> {
    sqlx::query_scalar!(
        "INSERT INTO users (email, name, job_title, role, active, oidc_subject, password_hash, created_at, password_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING id AS \"id: UserId\"",
        email,
        name,
        job_title,
        role as Role,
        active,
        oidc_subject,
        password_hash,
        now
    )
    .fetch_one(&mut *tx)
    .await
}

#[allow(clippy::too_many_arguments)]
pub async fn update(
    tx: &mut sqlx::PgConnection,
    id: UserId,
    email: &str,
    name: &str,
    job_title: &str,
    role: Role,
    active: bool,
    oidc_subject: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE users SET email = $2, name = $3, job_title = $4, role = $5, active = $6, oidc_subject = $7 WHERE id = $1",
        id as _,
        email,
        name,
        job_title,
        role as Role,
        active,
        oidc_subject
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

pub async fn set_units(tx: &mut sqlx::PgConnection, user_id: UserId, unit_ids: &[UnitId]) -> Result<(), sqlx::Error> {
    // Memberships of inactive units are not on the form, so they are left alone.
    sqlx::query!(
        "DELETE FROM unit_memberships m USING units u
         WHERE m.unit_id = u.id AND u.active AND m.user_id = $1 AND NOT (m.unit_id = ANY($2))",
        user_id as _,
        unit_ids as _
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO unit_memberships (user_id, unit_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
        user_id as _,
        unit_ids as _
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Staff of the given units, for choosing a kontaktman and filtering by one.
pub struct StaffChoice {
    pub id: UserId,
    pub name: String,
    pub job_title: String,
}

/// The staff member a form chose (`typed`, an id), if one of `staff`.
pub fn chosen_staff(staff: &[StaffChoice], typed: &str) -> Option<UserId> {
    typed.parse().ok().filter(|id| staff.iter().any(|s| s.id == *id))
}

pub async fn staff_of_units(db: &PgPool, units: &[UnitId]) -> Result<Vec<StaffChoice>, sqlx::Error> {
    sqlx::query_as!(
        StaffChoice,
        "SELECT DISTINCT u.id, u.name, u.job_title FROM users u JOIN unit_memberships m ON m.user_id = u.id
         WHERE m.unit_id = ANY($1) AND u.active ORDER BY u.name, u.id",
        units as _
    )
    .fetch_all(db)
    .await
}
