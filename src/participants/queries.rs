//! SQL for participants and their record.

use super::form::ParticipantFields;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, Transaction};

pub type Tx<'a> = Transaction<'a, Postgres>;

/// Inserts a participant and its first saved version.
pub async fn insert(tx: &mut Tx<'_>, unit_id: i64, f: &ParticipantFields, by: i64, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
             address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
             coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
         RETURNING id",
        unit_id,
        f.first_name,
        f.last_name,
        f.identity_kind,
        f.identity_number,
        f.birth_date,
        f.gender,
        f.phone,
        f.email,
        f.address,
        f.resident,
        f.non_resident_reason,
        f.referral_source,
        f.first_contact_on,
        f.first_visit_on,
        f.has_coordinated_plan,
        f.coordinated_plan_on,
        f.coordinated_plan_lead,
        f.coordinated_plan_next_follow_up,
        now
    )
    .fetch_one(&mut **tx)
    .await?;
    save_version(tx, id, by, now).await?;
    Ok(id)
}

/// Updates a participant if it is still at `version`; returns false when
/// someone else saved in between (nothing is written then).
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    version: i32,
    f: &ParticipantFields,
    by: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE participants SET first_name = $3, last_name = $4, identity_kind = $5, identity_number = $6, birth_date = $7,
             gender = $8, phone = $9, email = $10, address = $11, resident = $12, non_resident_reason = $13, referral_source = $14,
             first_contact_on = $15, first_visit_on = $16, has_coordinated_plan = $17, coordinated_plan_on = $18,
             coordinated_plan_lead = $19, coordinated_plan_next_follow_up = $20, version = version + 1, updated_at = $21
         WHERE id = $1 AND version = $2",
        id,
        version,
        f.first_name,
        f.last_name,
        f.identity_kind,
        f.identity_number,
        f.birth_date,
        f.gender,
        f.phone,
        f.email,
        f.address,
        f.resident,
        f.non_resident_reason,
        f.referral_source,
        f.first_contact_on,
        f.first_visit_on,
        f.has_coordinated_plan,
        f.coordinated_plan_on,
        f.coordinated_plan_lead,
        f.coordinated_plan_next_follow_up,
        now
    )
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    save_version(tx, id, by, now).await?;
    Ok(true)
}

async fn save_version(tx: &mut Tx<'_>, id: i64, by: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO participant_versions (participant_id, version, changed_by, changed_at, first_name, last_name, identity_kind,
             identity_number, birth_date, gender, phone, email, address, resident, non_resident_reason, referral_source,
             first_contact_on, first_visit_on, has_coordinated_plan, coordinated_plan_on, coordinated_plan_lead,
             coordinated_plan_next_follow_up)
         SELECT id, version, $2, $3, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
             address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
             coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up
         FROM participants WHERE id = $1",
        id,
        by,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A saved version with who saved it.
pub struct Version {
    pub fields: ParticipantFields,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

pub async fn version(db: &PgPool, id: i64, version: i32) -> Result<Option<Version>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT v.first_name, v.last_name, v.identity_kind, v.identity_number, v.birth_date, v.gender, v.phone, v.email, v.address,
                  v.resident, v.non_resident_reason, v.referral_source, v.first_contact_on, v.first_visit_on, v.has_coordinated_plan,
                  v.coordinated_plan_on, v.coordinated_plan_lead, v.coordinated_plan_next_follow_up, v.changed_at,
                  coalesce(u.name, 'okänd') AS "changed_by!"
           FROM participant_versions v LEFT JOIN users u ON u.id = v.changed_by
           WHERE v.participant_id = $1 AND v.version = $2"#,
        id,
        version
    )
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| Version {
        fields: ParticipantFields {
            first_name: r.first_name,
            last_name: r.last_name,
            identity_kind: r.identity_kind,
            identity_number: r.identity_number,
            birth_date: r.birth_date,
            gender: r.gender,
            phone: r.phone,
            email: r.email,
            address: r.address,
            resident: r.resident,
            non_resident_reason: r.non_resident_reason,
            referral_source: r.referral_source,
            first_contact_on: r.first_contact_on,
            first_visit_on: r.first_visit_on,
            has_coordinated_plan: r.has_coordinated_plan,
            coordinated_plan_on: r.coordinated_plan_on,
            coordinated_plan_lead: r.coordinated_plan_lead,
            coordinated_plan_next_follow_up: r.coordinated_plan_next_follow_up,
        },
        changed_by: r.changed_by,
        changed_at: r.changed_at,
    }))
}

/// The participant's header facts for the personakt.
pub struct Summary {
    pub unit_id: i64,
    pub unit_name: String,
    pub version: i32,
    pub status: String,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub has_home_support: bool,
    pub created_at: DateTime<Utc>,
}

pub async fn summary(db: &PgPool, id: i64) -> Result<Option<Summary>, sqlx::Error> {
    sqlx::query_as!(
        Summary,
        "SELECT p.unit_id, u.name AS unit_name, p.version, p.status, p.ended_on, p.end_reason, p.has_home_support, p.created_at
         FROM participants p JOIN units u ON u.id = p.unit_id WHERE p.id = $1",
        id
    )
    .fetch_optional(db)
    .await
}

/// A row of the participant list: the number only masked.
pub struct ListRow {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub identity_kind: String,
    pub identity_number: Option<String>,
    pub birth_date: NaiveDate,
    pub status: String,
    pub has_home_support: bool,
    pub unit_name: String,
    pub key_worker: Option<String>,
    pub total: i64,
}

/// Filters for the list; `None` means "any".
#[derive(Default, Debug, Clone)]
pub struct ListFilter {
    pub units: Vec<i64>,
    pub status: Option<String>,
    pub key_worker: Option<i64>,
    pub home_support: Option<bool>,
    /// Lower-cased LIKE pattern on "first last", e.g. `%anna%berg%`.
    pub name_pattern: Option<String>,
    /// LIKE patterns on the 12-digit number, e.g. `19640823%`.
    pub number_patterns: Option<Vec<String>>,
}

pub const PAGE_SIZE: i64 = 25;

/// One page of participants, with the total count of matches. The name
/// pattern is served by the trigram index, the unit order by
/// participants_unit_list_idx.
pub async fn list(db: &PgPool, filter: &ListFilter, page: i64) -> Result<Vec<ListRow>, sqlx::Error> {
    sqlx::query_as!(
        ListRow,
        r#"SELECT p.id, p.first_name, p.last_name, p.identity_kind, p.identity_number, p.birth_date, p.status, p.has_home_support,
                  u.name AS unit_name, kw.name AS "key_worker?", count(*) OVER () AS "total!"
           FROM participants p
           JOIN units u ON u.id = p.unit_id
           LEFT JOIN key_worker_assignments k ON k.participant_id = p.id AND k.to_on IS NULL
           LEFT JOIN users kw ON kw.id = k.user_id
           WHERE p.unit_id = ANY($1)
             AND ($2::text IS NULL OR p.status = $2)
             AND ($3::bigint IS NULL OR k.user_id = $3)
             AND ($4::boolean IS NULL OR p.has_home_support = $4)
             AND ($5::text IS NULL OR p.search_name LIKE $5)
             AND ($6::text[] IS NULL OR p.identity_number LIKE ANY($6))
           ORDER BY p.last_name, p.first_name, p.id
           LIMIT $7 OFFSET $8"#,
        &filter.units,
        filter.status,
        filter.key_worker,
        filter.home_support,
        filter.name_pattern,
        filter.number_patterns.as_deref(),
        PAGE_SIZE,
        (page.max(1) - 1) * PAGE_SIZE
    )
    .fetch_all(db)
    .await
}

/// Staff of the given units, for choosing a kontaktman and filtering by one.
pub struct StaffChoice {
    pub id: i64,
    pub name: String,
    pub job_title: String,
}

pub async fn staff_of_units(db: &PgPool, units: &[i64]) -> Result<Vec<StaffChoice>, sqlx::Error> {
    sqlx::query_as!(
        StaffChoice,
        "SELECT DISTINCT u.id, u.name, u.job_title FROM users u JOIN unit_memberships m ON m.user_id = u.id
         WHERE m.unit_id = ANY($1) AND u.active ORDER BY u.name, u.id",
        units
    )
    .fetch_all(db)
    .await
}
