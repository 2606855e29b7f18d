//! SQL for participants and their record.

use super::form::ParticipantFields;
use super::model::ParticipantStatus;
use crate::ids::{ParticipantId, UnitId, UserId};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder, Transaction};

pub type Tx<'a> = Transaction<'a, Postgres>;

/// Inserts a participant and its first saved version.
pub async fn insert(
    tx: &mut sqlx::PgConnection,
    unit_id: UnitId,
    f: &ParticipantFields,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<ParticipantId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "INSERT INTO participants (unit_id, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
             address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
             coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20)
         RETURNING id AS \"id: ParticipantId\"",
        unit_id as _,
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
    .fetch_one(&mut *tx)
    .await?;
    save_version(tx, id, by, now).await?;
    Ok(id)
}

/// Whether another participant of the unit already has this number.
pub async fn number_taken(db: &PgPool, unit_id: UnitId, number: Option<&str>, except: Option<ParticipantId>) -> Result<bool, sqlx::Error> {
    let Some(number) = number else { return Ok(false) };
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM participants WHERE unit_id = $1 AND identity_number = $2 AND id <> coalesce($3::bigint, 0)) AS "taken!""#,
        unit_id as _,
        number,
        except as _
    )
    .fetch_one(db)
    .await
}

/// Updates a participant if it is still at `version`; returns false when
/// someone else saved in between (nothing is written then).
pub async fn update(
    tx: &mut sqlx::PgConnection,
    id: ParticipantId,
    version: i32,
    f: &ParticipantFields,
    by: UserId,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "UPDATE participants SET first_name = $3, last_name = $4, identity_kind = $5, identity_number = $6, birth_date = $7,
             gender = $8, phone = $9, email = $10, address = $11, resident = $12, non_resident_reason = $13, referral_source = $14,
             first_contact_on = $15, first_visit_on = $16, has_coordinated_plan = $17, coordinated_plan_on = $18,
             coordinated_plan_lead = $19, coordinated_plan_next_follow_up = $20, version = version + 1, updated_at = $21
         WHERE id = $1 AND version = $2",
        id as _,
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
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    save_version(tx, id, by, now).await?;
    Ok(true)
}

async fn save_version(tx: &mut sqlx::PgConnection, id: ParticipantId, by: UserId, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO participant_versions (participant_id, version, changed_by, changed_at, first_name, last_name, identity_kind,
             identity_number, birth_date, gender, phone, email, address, resident, non_resident_reason, referral_source,
             first_contact_on, first_visit_on, has_coordinated_plan, coordinated_plan_on, coordinated_plan_lead,
             coordinated_plan_next_follow_up)
         SELECT id, version, $2, $3, first_name, last_name, identity_kind, identity_number, birth_date, gender, phone, email,
             address, resident, non_resident_reason, referral_source, first_contact_on, first_visit_on, has_coordinated_plan,
             coordinated_plan_on, coordinated_plan_lead, coordinated_plan_next_follow_up
         FROM participants WHERE id = $1",
        id as _,
        by as _,
        now
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A saved version with who saved it.
pub struct Version {
    pub version: i32,
    pub fields: ParticipantFields,
    pub changed_by: String,
    pub changed_at: DateTime<Utc>,
}

/// One saved version of the participant's own fields (read by its key alone:
/// every personakt opens the current one).
pub async fn version(db: &PgPool, id: ParticipantId, version: i32) -> Result<Option<Version>, sqlx::Error> {
    Ok(saved_versions(db, id, Some(version)).await?.pop())
}

/// Every saved version, oldest first (a handful per person).
pub async fn versions(db: &PgPool, id: ParticipantId) -> Result<Vec<Version>, sqlx::Error> {
    saved_versions(db, id, None).await
}

/// The saved versions of a participant: all, or only `only`.
async fn saved_versions(db: &PgPool, id: ParticipantId, only: Option<i32>) -> Result<Vec<Version>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"SELECT v.first_name, v.last_name, v.identity_kind, v.identity_number, v.birth_date, v.gender, v.phone, v.email, v.address,
                  v.resident, v.non_resident_reason, v.referral_source, v.first_contact_on, v.first_visit_on, v.has_coordinated_plan,
                  v.coordinated_plan_on, v.coordinated_plan_lead, v.coordinated_plan_next_follow_up, v.changed_at,
                  coalesce(u.name, 'okänd') AS "changed_by!", v.version
           FROM participant_versions v LEFT JOIN users u ON u.id = v.changed_by
           WHERE v.participant_id = $1 AND ($2::int IS NULL OR v.version = $2) ORDER BY v.version"#,
        id as _,
        only
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Version {
            version: r.version,
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
        })
        .collect())
}

/// The participant's header facts for the personakt.
pub struct Summary {
    pub unit_id: UnitId,
    pub unit_name: String,
    pub version: i32,
    pub status: ParticipantStatus,
    pub ended_on: Option<NaiveDate>,
    pub end_reason: Option<String>,
    pub has_home_support: bool,
    pub created_at: DateTime<Utc>,
    /// Skyddade personuppgifter.
    pub protected_identity: bool,
}

impl Summary {
    pub fn is_ended(&self) -> bool {
        self.status == ParticipantStatus::Ended
    }
}

/// Whether `user` is named on the person: kontaktman now, or responsible for
/// an activity of a plan not ended (`in_caseload`, migration 0027).
pub async fn in_caseload(db: &PgPool, id: ParticipantId, user: UserId) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"SELECT in_caseload($1, $2) AS "named!""#, user as _, id as _)
        .fetch_one(db)
        .await
}

/// Whether `viewer` may not see the person's address and contact details:
/// the person has protected identity and the viewer is not named on them.
pub async fn contact_hidden(db: &PgPool, id: ParticipantId, viewer: UserId) -> Result<bool, sqlx::Error> {
    let hidden = sqlx::query_scalar!(
        r#"SELECT p.protected_identity AND NOT in_caseload($2, p.id) AS "hidden!" FROM participants p WHERE p.id = $1"#,
        id as _,
        viewer as _
    )
    .fetch_optional(db)
    .await?;
    Ok(hidden.unwrap_or(true))
}

pub async fn summary(db: &PgPool, id: ParticipantId) -> Result<Option<Summary>, sqlx::Error> {
    sqlx::query_as!(
        Summary,
        r#"SELECT p.unit_id, u.name AS unit_name, p.version, p.status AS "status: ParticipantStatus", p.ended_on, p.end_reason, p.has_home_support, p.created_at,
                  p.protected_identity
         FROM participants p JOIN units u ON u.id = p.unit_id WHERE p.id = $1"#,
        id as _
    )
    .fetch_optional(db)
    .await
}

/// A row of the participant list: the number only masked.
#[derive(sqlx::FromRow)]
pub struct ListRow {
    pub id: ParticipantId,
    pub first_name: String,
    pub last_name: String,
    pub identity_kind: String,
    pub identity_number: Option<String>,
    pub birth_date: NaiveDate,
    pub status: String,
    pub has_home_support: bool,
    pub unit_name: String,
    pub key_worker: Option<String>,
}

/// Filters for the list; `None` means "any".
#[derive(Default, Debug, Clone)]
pub struct ListFilter {
    pub units: Vec<UnitId>,
    pub status: Option<String>,
    pub key_worker: Option<UserId>,
    pub home_support: Option<bool>,
    /// Lower-cased words that must each occur in "first last" (any order).
    pub name_words: Vec<String>,
    /// Exact stored numbers (12 digits, or a reservnummer as typed).
    pub numbers: Vec<String>,
    /// Prefixes of the 12-digit number (a birth date typed alone).
    pub number_prefixes: Vec<String>,
    /// Who is looking: people with protected identity are left out unless
    /// the viewer is named on them. None: everyone (the access log's filter).
    pub viewer: Option<UserId>,
}

impl ListFilter {
    /// Whether anything narrows the list (such a list is a search, and logged).
    pub fn is_search(&self) -> bool {
        self.status.is_some()
            || self.key_worker.is_some()
            || self.home_support.is_some()
            || !self.name_words.is_empty()
            || !self.numbers.is_empty()
            || !self.number_prefixes.is_empty()
    }

    /// The WHERE clause, with only the conditions in use: each query gets a
    /// plan that fits it (no `$x IS NULL OR …` that defeats the indexes).
    fn push_where(&self, qb: &mut QueryBuilder<Postgres>) {
        // People disposed of (gallrade) are rows for the statistics only.
        qb.push(" WHERE p.unit_id = ANY(")
            .push_bind(self.units.clone())
            .push(") AND p.disposed_on IS NULL");
        if let Some(viewer) = self.viewer {
            qb.push(" AND (NOT p.protected_identity OR in_caseload(")
                .push_bind(viewer)
                .push(", p.id))");
        }
        if let Some(status) = &self.status {
            qb.push(" AND p.status = ").push_bind(status.clone());
        }
        if let Some(key_worker) = self.key_worker {
            qb.push(" AND EXISTS (SELECT 1 FROM key_worker_assignments kf WHERE kf.participant_id = p.id AND kf.to_on IS NULL AND kf.user_id = ")
                .push_bind(key_worker)
                .push(")");
        }
        if let Some(home_support) = self.home_support {
            qb.push(" AND p.has_home_support = ").push_bind(home_support);
        }
        // Each word is a LIKE the trigram index answers; a single word may
        // also be a reservnummer typed as it is stored.
        if !self.name_words.is_empty() {
            qb.push(" AND ((TRUE");
            for word in &self.name_words {
                qb.push(" AND p.search_name LIKE ").push_bind(format!("%{word}%"));
            }
            qb.push(")");
            if !self.numbers.is_empty() {
                qb.push(" OR p.identity_number = ANY(").push_bind(self.numbers.clone()).push(")");
            }
            qb.push(")");
        } else if !self.numbers.is_empty() || !self.number_prefixes.is_empty() {
            qb.push(" AND (p.identity_number = ANY(").push_bind(self.numbers.clone()).push(")");
            for prefix in &self.number_prefixes {
                qb.push(" OR p.identity_number LIKE ").push_bind(format!("{prefix}%"));
            }
            qb.push(")");
        }
    }
}

pub const PAGE_SIZE: i64 = 25;

/// How many participants match.
pub async fn count(db: &PgPool, filter: &ListFilter) -> Result<i64, sqlx::Error> {
    let mut qb = QueryBuilder::new("SELECT count(*) FROM participants p");
    filter.push_where(&mut qb);
    qb.build_query_scalar().fetch_one(db).await
}

/// One page of participants in name order, and whether another page follows.
/// The page is chosen first, on
/// the participants table alone; the unit and kontaktman are joined to its
/// 25 rows only, so a later page costs little more than the first.
/// The ids the filter finds (the same rule as the list), at most `limit`.
pub async fn matching_ids(db: &PgPool, filter: &ListFilter, limit: i64) -> Result<Vec<ParticipantId>, sqlx::Error> {
    let mut qb = QueryBuilder::new("SELECT p.id FROM participants p");
    filter.push_where(&mut qb);
    qb.push(" ORDER BY p.id LIMIT ").push_bind(limit);
    qb.build_query_scalar().fetch_all(db).await
}

pub async fn list(db: &PgPool, filter: &ListFilter, page: i64) -> Result<(Vec<ListRow>, bool), sqlx::Error> {
    let mut qb = QueryBuilder::new(
        "SELECT p.id, p.first_name, p.last_name, p.identity_kind, p.identity_number, p.birth_date, p.status, p.has_home_support,
                u.name AS unit_name, kw.name AS key_worker
         FROM (SELECT p.* FROM participants p",
    );
    filter.push_where(&mut qb);
    // One row more than a page: if it comes, there is a next page. The size
    // is written into the statement (a constant, never input): as a parameter
    // the kept generic plan would expect a thousand rows and join the units
    // and kontaktmän by scanning them whole, at a fifth of the speed.
    qb.push(" ORDER BY p.last_name, p.first_name, p.id LIMIT ")
        .push(PAGE_SIZE + 1)
        .push(" OFFSET ")
        .push_bind((page.max(1) - 1) * PAGE_SIZE);
    qb.push(
        ") p
         JOIN units u ON u.id = p.unit_id
         LEFT JOIN key_worker_assignments k ON k.participant_id = p.id AND k.to_on IS NULL
         LEFT JOIN users kw ON kw.id = k.user_id
         ORDER BY p.last_name, p.first_name, p.id",
    );
    let mut rows: Vec<ListRow> = qb.build_query_as().fetch_all(db).await?;
    let has_next = rows.len() as i64 > PAGE_SIZE;
    rows.truncate(PAGE_SIZE as usize);
    Ok((rows, has_next))
}
