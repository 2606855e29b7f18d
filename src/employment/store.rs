//! The one writer of the way out: lärandeplatser, forumträffar, employer
//! contacts and stöd vid arbete. A placement, and a support contact with the
//! employer, are contacts with the employer about the person: they pass the
//! consent gate (`partners::gate`) in the same transaction.

use crate::audit::{self, Stamp};
use crate::db::{Refused, in_transaction, refuse};
use crate::domain::employment;
use crate::error::AppResult;
use crate::ids::{EmployerId, ParticipantId, PlacementId, PlanId, SupportId, UnitId, UserId};
use crate::partners::gate;
use chrono::NaiveDate;
use sqlx::PgPool;

pub struct NewPlacement {
    pub plan: Option<PlanId>,
    pub employer: EmployerId,
    pub supervisor: String,
    pub tasks: String,
    pub competitive: bool,
    pub start_on: NaiveDate,
    pub end_on: Option<NaiveDate>,
    pub urgent_reason: String,
}

/// Records a lärandeplats: a contact with the employer from its first day.
pub async fn add_placement(
    db: &PgPool,
    participant: ParticipantId,
    p: &NewPlacement,
    stamp: Stamp,
) -> AppResult<Result<PlacementId, Refused>> {
    in_transaction(db, async |tx| {
        if let Some(plan) = p.plan {
            let own = sqlx::query_scalar!(
                r#"SELECT EXISTS (SELECT 1 FROM plans WHERE id = $1 AND participant_id = $2) AS "own!""#,
                plan as _,
                participant as _
            )
            .fetch_one(&mut *tx)
            .await?;
            if !own {
                return refuse("plan_id", "Välj en av personens planer.");
            }
        }
        let Some(partner) = gate::partner_of_employer(tx, p.employer).await? else {
            return refuse("employer_id", "Välj arbetsgivaren i registret.");
        };
        let standings = match gate::check(tx, participant, &[partner], p.start_on, &p.urgent_reason).await? {
            Ok(standings) => standings,
            Err(refused) => return Ok(Err(refused)),
        };
        let id = sqlx::query_scalar!(
            r#"INSERT INTO placements (participant_id, plan_id, employer_id, supervisor, tasks, competitive, start_on, end_on, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id AS "id: PlacementId""#,
            participant as _,
            p.plan as _,
            p.employer as _,
            p.supervisor,
            p.tasks,
            p.competitive,
            p.start_on,
            p.end_on,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        gate::record(tx, participant, &standings, p.start_on, gate::Via::Placement(id), &p.urgent_reason, stamp).await?;
        audit::Entry::new(Some(stamp.by), "placement_added")
            .record("participant", participant)
            .details(&format!("lärandeplats {id}"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

/// Ends a placement of the person's on `on` (not before it began).
pub async fn end_placement(
    db: &PgPool,
    participant: ParticipantId,
    placement: PlacementId,
    on: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let Some(start) = sqlx::query_scalar!(
            "SELECT start_on FROM placements WHERE id = $1 AND participant_id = $2 AND end_on IS NULL FOR UPDATE",
            placement as _,
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return refuse("ended_on", "Lärandeplatsen är redan avslutad.");
        };
        if on < start {
            return refuse("ended_on", format!("Slutdatumet kan inte vara före starten ({start})."));
        }
        sqlx::query!("UPDATE placements SET end_on = $2 WHERE id = $1", placement as _, on)
            .execute(&mut *tx)
            .await?;
        audit::Entry::new(Some(stamp.by), "placement_ended")
            .record("participant", participant)
            .details(&format!("lärandeplats {placement}"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

pub struct NewForum {
    pub unit: UnitId,
    pub on: NaiveDate,
    pub topic: String,
    pub notes: String,
    pub employers: Vec<EmployerId>,
}

pub async fn add_forum(db: &PgPool, f: &NewForum, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            "INSERT INTO employer_forums (unit_id, held_on, topic, notes, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            f.unit as _,
            f.on,
            f.topic,
            f.notes,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        let employers: Vec<i64> = f.employers.iter().map(|e| e.get()).collect();
        sqlx::query!(
            "INSERT INTO employer_forum_attendees (forum_id, employer_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
            id,
            &employers
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "employer_forum_recorded")
            .record("employer_forum", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

pub struct NewEmployerContact {
    pub unit: UnitId,
    pub staff: UserId,
    pub employer: EmployerId,
    pub on: NaiveDate,
    pub kind: &'static str,
    pub note: String,
}

pub async fn add_employer_contact(db: &PgPool, c: &NewEmployerContact, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            "INSERT INTO employer_contacts (unit_id, staff_id, employer_id, contact_on, kind, note, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            c.unit as _,
            c.staff as _,
            c.employer as _,
            c.on,
            c.kind,
            c.note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "employer_contact_recorded")
            .record("employer_contact", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

pub struct NewSupport {
    pub plan: PlanId,
    pub employer: Option<EmployerId>,
    pub start_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Starts stöd vid arbete after a plan of the person's that ended in
/// employment: for at most a year from the start of employment.
pub async fn start_support(
    db: &PgPool,
    participant: ParticipantId,
    s: &NewSupport,
    today: NaiveDate,
    stamp: Stamp,
) -> AppResult<Result<SupportId, Refused>> {
    if s.ends_on < today {
        return refuse("ends_on", "Stödet skulle redan ha slutat. Välj ett slutdatum från i dag.");
    }
    if !employment::within_a_year(s.start_on, s.ends_on) {
        return refuse(
            "ends_on",
            format!(
                "Stöd vid arbete ges i högst ett år från anställningens början: senast {}.",
                employment::support_last_day(s.start_on)
            ),
        );
    }
    in_transaction(db, async |tx| {
        let plan = sqlx::query!(
            "SELECT outcome, ended_on FROM plans WHERE id = $1 AND participant_id = $2 FOR UPDATE",
            s.plan as _,
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?;
        match plan {
            Some(p) if p.outcome.as_deref() == Some("employment") => {}
            _ => return refuse("plan_id", "Stöd vid arbete ges efter en plan som avslutats med anställning."),
        }
        let open = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM employment_supports WHERE participant_id = $1 AND ended_on IS NULL AND ends_on >= $2) AS "open!""#,
            participant as _,
            today
        )
        .fetch_one(&mut *tx)
        .await?;
        if open {
            return refuse("plan_id", "Personen har redan ett pågående stöd vid arbete. Avsluta det först.");
        }
        if let Some(employer) = s.employer {
            let known = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM employers WHERE id = $1) AS "known!""#, employer as _)
                .fetch_one(&mut *tx)
                .await?;
            if !known {
                return refuse("employer_id", "Välj arbetsgivaren i registret.");
            }
        }
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO employment_supports (participant_id, plan_id, employer_id, employment_start_on, ends_on, recorded_by, recorded_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (plan_id) DO NOTHING RETURNING id AS "id: SupportId""#,
            participant as _,
            s.plan as _,
            s.employer as _,
            s.start_on,
            s.ends_on,
            stamp.by as _,
            stamp.at
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = inserted else {
            return refuse("plan_id", "Planen har redan stöd vid arbete.");
        };
        audit::Entry::new(Some(stamp.by), "employment_support_started")
            .record("participant", participant)
            .details(&format!("stöd {id} till {}", s.ends_on))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

pub struct NewSupportContact {
    pub on: NaiveDate,
    /// With the employer (a partner contact, through the consent gate), or with the person.
    pub with_employer: bool,
    pub note: String,
    pub staff: UserId,
    pub urgent_reason: String,
}

/// A contact within the support: on a day from the start of employment to
/// the support's end (the year's limit; also a trigger).
pub async fn add_support_contact(
    db: &PgPool,
    participant: ParticipantId,
    support: SupportId,
    c: &NewSupportContact,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let Some(s) = sqlx::query!(
            r#"SELECT employment_start_on, coalesce(ended_on, ends_on) AS "last!", employer_id AS "employer_id: EmployerId"
               FROM employment_supports WHERE id = $1 AND participant_id = $2 FOR SHARE"#,
            support as _,
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return refuse("contact_on", "Stödet finns inte.");
        };
        if c.on < s.employment_start_on || c.on > s.last {
            return refuse(
                "contact_on",
                format!(
                    "Kontakten ligger utanför stödet ({} – {}). Stöd vid arbete ges i högst ett år från anställningens början.",
                    s.employment_start_on, s.last
                ),
            );
        }
        let standings = match (c.with_employer, s.employer_id) {
            (true, Some(employer)) => {
                let Some(partner) = gate::partner_of_employer(tx, employer).await? else {
                    return refuse("with_whom", "Arbetsgivaren finns inte i registret.");
                };
                match gate::check(tx, participant, &[partner], c.on, &c.urgent_reason).await? {
                    Ok(standings) => standings,
                    Err(refused) => return Ok(Err(refused)),
                }
            }
            (true, None) => return refuse("with_whom", "Stödet har ingen arbetsgivare. Välj kontakt med personen."),
            (false, _) => Vec::new(),
        };
        let id = sqlx::query_scalar!(
            "INSERT INTO employment_support_contacts (support_id, contact_on, with_whom, note, staff_id, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            support as _,
            c.on,
            if c.with_employer { "employer" } else { "person" },
            c.note,
            c.staff as _,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        gate::record(
            tx,
            participant,
            &standings,
            c.on,
            gate::Via::EmploymentSupport(id),
            &c.urgent_reason,
            stamp,
        )
        .await?;
        audit::Entry::new(Some(stamp.by), "employment_support_contact")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}

/// Ends the support before its last day (or on it); its reminder is answered.
pub async fn end_support(
    db: &PgPool,
    participant: ParticipantId,
    support: SupportId,
    on: NaiveDate,
    note: &str,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let Some(s) = sqlx::query!(
            "SELECT plan_id, employment_start_on, ends_on FROM employment_supports WHERE id = $1 AND participant_id = $2 AND ended_on IS NULL FOR UPDATE",
            support as _,
            participant as _
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return refuse("ended_on", "Stödet är redan avslutat.");
        };
        if on < s.employment_start_on || on > s.ends_on {
            return refuse(
                "ended_on",
                format!("Välj en dag från {} till {}.", s.employment_start_on, s.ends_on),
            );
        }
        sqlx::query!(
            "UPDATE employment_supports SET ended_on = $2, end_note = $3 WHERE id = $1",
            support as _,
            on,
            note
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            "UPDATE reminders SET cleared_at = $2 WHERE plan_id = $1 AND kind = 'employment_support_end' AND cleared_at IS NULL",
            s.plan_id,
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "employment_support_ended")
            .record("participant", participant)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(()))
    })
    .await
}
