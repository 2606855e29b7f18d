//! The one writer of the employer register (arbetsgivare): an employer
//! added from the register's own form, or inline from the plan form while a
//! plan is saved (`resolve`, in the plan's transaction).

use crate::audit::{self, Stamp};
use crate::db::{Refused, in_transaction};
use crate::error::{AppResult, violated_constraint};
use crate::ids::EmployerId;
use crate::plans::form::{EmployerChoice, NewEmployer};
use sqlx::{PgConnection, PgPool};

/// How the employer's contact person is reached (the register's form asks; the plan form does not).
#[derive(Clone, Copy, Default)]
pub struct Contact<'a> {
    pub phone: &'a str,
    pub email: &'a str,
}

/// Adds an employer to the register; refused when the name or number is taken.
pub async fn register(db: &PgPool, new: &NewEmployer, contact: Contact<'_>, stamp: Stamp) -> AppResult<Result<EmployerId, Refused>> {
    in_transaction(db, async |tx| {
        Ok(match insert(tx, new, contact, stamp).await? {
            Ok(id) => Ok(id),
            Err((field, message)) => Err(Refused {
                field,
                message: message.into(),
            }),
        })
    })
    .await
}

const NAME_TAKEN: &str = "Arbetsgivaren finns redan i registret. Välj den i listan.";
const NUMBER_TAKEN: &str = "Det finns redan en arbetsgivare med det organisationsnumret.";

/// Inserts an employer; `Ok(Err((field, message)))` when the name or number is taken.
async fn insert(
    conn: &mut PgConnection,
    new: &NewEmployer,
    contact: Contact<'_>,
    stamp: Stamp,
) -> Result<Result<EmployerId, (&'static str, &'static str)>, sqlx::Error> {
    let Stamp { by, at: now } = stamp;
    let taken = sqlx::query!(
        r#"SELECT EXISTS (SELECT 1 FROM employers WHERE lower(btrim(name)) = lower(btrim($1))) AS "name!",
                  EXISTS (SELECT 1 FROM employers WHERE organisation_number = $2) AS "number!""#,
        new.name,
        new.organisation_number
    )
    .fetch_one(&mut *conn)
    .await?;
    if taken.name {
        return Ok(Err(("new_employer_name", NAME_TAKEN)));
    }
    if taken.number {
        return Ok(Err(("new_employer_org", NUMBER_TAKEN)));
    }
    let id = sqlx::query_scalar!(
        "INSERT INTO employers (name, organisation_number, contact_name, contact_phone, contact_email, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id AS \"id: EmployerId\"",
        new.name,
        new.organisation_number,
        new.contact_name,
        contact.phone,
        contact.email,
        by as _,
        now
    )
    .fetch_one(&mut *conn)
    .await;
    match id {
        Ok(id) => {
            audit::Entry::new(Some(by), "employer_created")
                .record("employer", id)
                .write(&mut *conn, now)
                .await?;
            Ok(Ok(id))
        }
        // Someone added the same employer a moment ago.
        Err(err) if violated_constraint(&err) == Some("employers_name_key") => Ok(Err(("new_employer_name", NAME_TAKEN))),
        Err(err) if violated_constraint(&err) == Some("employers_organisation_number_key") => Ok(Err(("new_employer_org", NUMBER_TAKEN))),
        Err(err) => Err(err),
    }
}

/// The employer id for a plan: none, one from the register, or a new one added now.
pub(super) async fn resolve(
    conn: &mut PgConnection,
    choice: &EmployerChoice,
    stamp: Stamp,
) -> Result<Result<Option<EmployerId>, (&'static str, &'static str)>, sqlx::Error> {
    match choice {
        EmployerChoice::None => Ok(Ok(None)),
        EmployerChoice::Existing(id) => {
            let exists = sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM employers WHERE id = $1) AS "exists!""#, id as _)
                .fetch_one(&mut *conn)
                .await?;
            Ok(if exists {
                Ok(Some(*id))
            } else {
                Err(("employer_id", "Välj en arbetsgivare i listan."))
            })
        }
        EmployerChoice::New(new) => Ok(insert(conn, new, Contact::default(), stamp).await?.map(Some)),
    }
}
