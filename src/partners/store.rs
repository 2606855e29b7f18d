//! The one writer of the partner register: organisations, their contact
//! persons, and the manager's check of an urgent exception.

use super::model::PartnerKind;
use crate::audit::{self, Stamp};
use crate::db::{Kept, Refused, in_transaction, refuse};
use crate::error::AppResult;
use crate::error::violated_constraint;
use crate::ids::{PartnerContactId, PartnerId};
use sqlx::PgPool;

pub struct NewPartner {
    pub kind: PartnerKind,
    pub name: String,
    pub note: String,
}

/// Adds an organisation. Employers are added to the employer register
/// (`plans::store::employers`), which gives each its partner row.
pub async fn add(db: &PgPool, p: &NewPartner, stamp: Stamp) -> AppResult<Result<PartnerId, Refused>> {
    if p.kind == PartnerKind::Employer {
        return refuse("kind", "Arbetsgivare läggs till i arbetsgivarregistret.");
    }
    in_transaction(db, async |tx| {
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO partners (kind, name, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id AS "id: PartnerId""#,
            p.kind.code(),
            p.name,
            p.note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(err) if violated_constraint(&err) == Some("partners_name_key") => {
                return refuse("name", "Det finns redan en samverkanspartner av det slaget med det namnet.");
            }
            Err(err) => return Err(err.into()),
        };
        audit::Entry::new(Some(stamp.by), "partner_added")
            .record("partner", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

pub struct NewPerson {
    pub name: String,
    pub role: String,
    pub phone: String,
    pub email: String,
}

pub async fn add_person(db: &PgPool, partner: PartnerId, p: &NewPerson, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "INSERT INTO partner_people (partner_id, name, role, phone, email, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            partner as _,
            p.name,
            p.role,
            p.phone,
            p.email,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "partner_person_added")
            .record("partner", partner)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

/// A contact person who no longer works with the centre stays on earlier records.
pub async fn end_person(db: &PgPool, partner: PartnerId, person: i64, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "UPDATE partner_people SET active = false WHERE id = $1 AND partner_id = $2",
            person,
            partner as _
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "partner_person_ended")
            .record("partner", partner)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

/// The manager has read an urgent exception (once; a second check changes nothing).
pub async fn review_urgent(db: &PgPool, contact: PartnerContactId, note: &str, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let done = sqlx::query!(
            "INSERT INTO urgent_contact_reviews (contact_id, note, reviewed_by, reviewed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            contact as _,
            note,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done > 0 {
            audit::Entry::new(Some(stamp.by), "urgent_contact_reviewed")
                .record("partner_contact", contact)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(Kept(()))
    })
    .await
    .map(|Kept(())| ())
}
