//! Consent gates every partner contact (issue 19, point 3). A contact with
//! an organisation about a person — in a follow-up, a samordnad plan, a
//! journal note of kind samverkan, a placement — stands on a consent that
//! covers that organisation on that day, or on a written urgent reason that
//! is listed for the manager. The rule of what covers what is SQL's
//! `consent_covers` (migration 0034), used both here and by the trigger on
//! `partner_contacts`, so no writer can record a contact the rule refuses.

use super::model::ContactVia;
use crate::audit::Stamp;
use crate::db::Refused;
use crate::ids::{ConsentId, ParticipantId, PartnerId};
use chrono::NaiveDate;
use sqlx::PgConnection;

/// The field every form names its partner choice by.
pub const FIELD: &str = "partners";
/// The field of the urgent exception's reason.
pub const URGENT_FIELD: &str = "urgent_reason";

/// One partner of a contact, and the consent that covers it (if any).
#[derive(Debug, Clone)]
pub struct Standing {
    pub partner: PartnerId,
    pub name: String,
    pub consent: Option<ConsentId>,
}

/// Where a contact was recorded: the form's own record.
#[derive(Debug, Clone, Copy)]
pub enum Via {
    FollowUp(crate::ids::FollowUpId),
    JointPlan(i64),
    Journal(crate::ids::JournalNoteId),
    Placement(crate::ids::PlacementId),
    /// A contact of stöd vid arbete (`employment_support_contacts.id`).
    EmploymentSupport(i64),
}

impl Via {
    fn code(self) -> ContactVia {
        match self {
            Via::FollowUp(_) => ContactVia::FollowUp,
            Via::JointPlan(_) => ContactVia::JointPlan,
            Via::Journal(_) => ContactVia::Journal,
            Via::Placement(_) => ContactVia::Placement,
            Via::EmploymentSupport(_) => ContactVia::EmploymentSupport,
        }
    }
}

/// How each of `partners` stands for a contact with `participant` on `on`;
/// an id not in the register is refused.
pub async fn check(
    conn: &mut PgConnection,
    participant: ParticipantId,
    partners: &[PartnerId],
    on: NaiveDate,
    urgent_reason: &str,
) -> Result<Result<Vec<Standing>, Refused>, sqlx::Error> {
    let ids: Vec<i64> = partners.iter().map(|p| p.get()).collect();
    let rows = sqlx::query!(
        r#"SELECT pa.id AS "id: PartnerId", pa.name, consent_covering($1, pa.id, $3) AS "consent: ConsentId"
           FROM partners pa WHERE pa.id = ANY($2) ORDER BY pa.name, pa.id"#,
        participant as _,
        &ids,
        on
    )
    .fetch_all(&mut *conn)
    .await?;
    if rows.len() != partners.len() {
        return Ok(Err(Refused {
            field: FIELD,
            message: "Välj samverkanspartner i registret.".into(),
        }));
    }
    let standings: Vec<Standing> = rows
        .into_iter()
        .map(|r| Standing {
            partner: r.id,
            name: r.name,
            consent: r.consent,
        })
        .collect();
    let uncovered: Vec<&str> = standings.iter().filter(|s| s.consent.is_none()).map(|s| s.name.as_str()).collect();
    if !uncovered.is_empty() && urgent_reason.trim().is_empty() {
        return Ok(Err(Refused {
            field: FIELD,
            message: refusal(&uncovered, on),
        }));
    }
    Ok(Ok(standings))
}

/// The message beside the partner field when consent is missing.
pub fn refusal(names: &[&str], on: NaiveDate) -> String {
    format!(
        "Personen har inget giltigt samtycke den {on} som täcker kontakt med {}. Registrera samtycket på personakten, \
         eller skriv skälet till ett brådskande undantag (det visas för enhetschefen).",
        names.join(", ")
    )
}

/// Records the contacts: each on its consent, or on the urgent reason.
pub async fn record(
    conn: &mut PgConnection,
    participant: ParticipantId,
    standings: &[Standing],
    on: NaiveDate,
    via: Via,
    urgent_reason: &str,
    stamp: Stamp,
) -> Result<(), sqlx::Error> {
    let (mut follow_up, mut journal, mut joint, mut placement, mut support) = (None, None, None, None, None);
    match via {
        Via::FollowUp(id) => follow_up = Some(id.get()),
        Via::Journal(id) => journal = Some(id.get()),
        Via::JointPlan(id) => joint = Some(id),
        Via::Placement(id) => placement = Some(id.get()),
        Via::EmploymentSupport(id) => support = Some(id),
    }
    let reason = urgent_reason.trim();
    for s in standings {
        sqlx::query!(
            "INSERT INTO partner_contacts (participant_id, partner_id, contact_on, via, follow_up_id, journal_note_id, joint_plan_version_id,
                                           placement_id, employment_support_contact_id, consent_id, urgent_reason, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            participant as _,
            s.partner as _,
            on,
            via.code().code(),
            follow_up,
            journal,
            joint,
            placement,
            support,
            s.consent as _,
            s.consent.is_none().then_some(reason),
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The partner row of an employer of the register (made with it, migration 0034).
pub async fn partner_of_employer(conn: &mut PgConnection, employer: crate::ids::EmployerId) -> Result<Option<PartnerId>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT id AS "id: PartnerId" FROM partners WHERE employer_id = $1"#,
        employer as _
    )
    .fetch_optional(conn)
    .await
}

/// Partner ids as a form sent them (repeated `partners` fields), without
/// blanks and repeats; anything else is refused.
pub fn parse_ids(values: &[String]) -> Result<Vec<PartnerId>, &'static str> {
    let mut ids: Vec<PartnerId> = Vec::new();
    for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        let id = value.parse::<PartnerId>().map_err(|_| "Välj samverkanspartner i registret.")?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_a_form_drop_blanks_and_repeats() {
        let typed = ["3".to_string(), "".into(), " 3 ".into(), "7".into()];
        assert_eq!(parse_ids(&typed), Ok(vec![PartnerId(3), PartnerId(7)]));
        assert!(parse_ids(&["x".to_string()]).is_err());
    }
}
