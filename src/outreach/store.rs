//! The one writer of the way in: outreach contacts, information meetings and
//! intresseanmälningar, each command in one transaction with its audit entry.
//! Registering a participant from an intake is `participants::store::register`.

use super::model::{MeetingKind, OutreachOutcome, OutreachPlace};
use crate::audit::{self, Stamp};
use crate::db::{Refused, in_transaction, refuse};
use crate::error::AppResult;
use crate::ids::{InformationMeetingId, IntakeId, OutreachContactId, UnitId, UserId};
use crate::participants::model::{Gender, ReferralSource};
use chrono::NaiveDate;
use sqlx::PgPool;

pub struct NewContact {
    pub unit: UnitId,
    pub on: NaiveDate,
    pub person: String,
    pub gender: Gender,
    pub home_support: bool,
    pub place: OutreachPlace,
    pub place_note: String,
    pub staff: UserId,
    pub outcome: OutreachOutcome,
    pub note: String,
}

pub async fn add_contact(db: &PgPool, c: &NewContact, stamp: Stamp) -> AppResult<OutreachContactId> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            r#"INSERT INTO outreach_contacts (unit_id, contact_on, person, gender, home_support, place, place_note, staff_id, outcome, note,
                                              recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id AS "id: OutreachContactId""#,
            c.unit as _,
            c.on,
            c.person,
            c.gender.code(),
            c.home_support,
            c.place.code(),
            c.place_note,
            c.staff as _,
            c.outcome.code(),
            c.note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "outreach_contact_recorded")
            .record("outreach_contact", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(id))
    })
    .await
    .map(|Kept(id)| id)
}

use crate::db::Kept;

pub struct NewMeeting {
    pub unit: UnitId,
    pub on: NaiveDate,
    pub kind: MeetingKind,
    pub topic: String,
    pub women: i32,
    pub men: i32,
    pub other: i32,
    pub led_by: UserId,
}

pub async fn add_meeting(db: &PgPool, m: &NewMeeting, stamp: Stamp) -> AppResult<InformationMeetingId> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            r#"INSERT INTO information_meetings (unit_id, held_on, kind, topic, attendees_women, attendees_men, attendees_other, led_by,
                                                 recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id AS "id: InformationMeetingId""#,
            m.unit as _,
            m.on,
            m.kind.code(),
            m.topic,
            m.women,
            m.men,
            m.other,
            m.led_by as _,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "information_meeting_recorded")
            .record("information_meeting", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(id))
    })
    .await
    .map(|Kept(id)| id)
}

pub struct NewIntake {
    pub unit: UnitId,
    pub received_on: NaiveDate,
    pub source: ReferralSource,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub gender: Gender,
    pub home_support: bool,
    pub note: String,
}

pub async fn add_intake(db: &PgPool, i: &NewIntake, stamp: Stamp) -> AppResult<IntakeId> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            r#"INSERT INTO intakes (unit_id, received_on, source, first_name, last_name, phone, gender, home_support, note,
                                    recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id AS "id: IntakeId""#,
            i.unit as _,
            i.received_on,
            i.source.code(),
            i.first_name,
            i.last_name,
            i.phone,
            i.gender.code(),
            i.home_support,
            i.note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "intake_recorded")
            .record("intake", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(id))
    })
    .await
    .map(|Kept(id)| id)
}

/// Records the day of the first visit, for an intake still waiting or one
/// registered; it is not before the first contact, nor after `today`.
pub async fn set_first_visit(
    db: &PgPool,
    intake: IntakeId,
    on: NaiveDate,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if on > today {
        return refuse("first_visit_on", "Besöket kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let row = sqlx::query!("SELECT received_on, status FROM intakes WHERE id = $1 FOR UPDATE", intake as _)
            .fetch_one(&mut *tx)
            .await?;
        if row.status == "closed" {
            return refuse("first_visit_on", "Intresseanmälan är avslutad.");
        }
        if on < row.received_on {
            return refuse(
                "first_visit_on",
                format!("Första besöket kan inte vara före första kontakten ({}).", row.received_on),
            );
        }
        sqlx::query!(
            "UPDATE intakes SET first_visit_on = $2, version = version + 1 WHERE id = $1",
            intake as _,
            on
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "intake_first_visit")
            .record("intake", intake)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Closes a waiting intake without registering the person, with the reason.
pub async fn close_intake(
    db: &PgPool,
    intake: IntakeId,
    on: NaiveDate,
    reason: &str,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    if on > today {
        return refuse("closed_on", "Datumet kan inte ligga i framtiden.");
    }
    in_transaction(db, async |tx| {
        let row = sqlx::query!("SELECT received_on, status FROM intakes WHERE id = $1 FOR UPDATE", intake as _)
            .fetch_one(&mut *tx)
            .await?;
        if row.status != "open" {
            return refuse("closed_on", "Intresseanmälan är redan registrerad eller avslutad.");
        }
        if on < row.received_on {
            return refuse("closed_on", "Datumet kan inte vara före första kontakten.");
        }
        sqlx::query!(
            "UPDATE intakes SET status = 'closed', closed_on = $2, close_reason = $3, version = version + 1 WHERE id = $1",
            intake as _,
            on,
            reason
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "intake_closed")
            .record("intake", intake)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}
