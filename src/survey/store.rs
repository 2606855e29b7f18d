//! The one writer of the brukarundersökning: surveys, answers (from paper,
//! or from the tablet with a one-time code, voided in the same transaction)
//! and the codes. An answer carries nothing that names or dates it.

use crate::audit::{self, Stamp};
use crate::auth::second_factor::{code_hash, one_time_codes};
use crate::db::{Kept, Refused, in_transaction, refuse};
use crate::error::{AppResult, violated_constraint};
use crate::ids::{SurveyId, UnitId};
use crate::participants::model::Gender;
use chrono::{Datelike, NaiveDate};
use sqlx::{PgConnection, PgPool};

/// One answer as given.
#[derive(Clone, Copy, Debug)]
pub struct Answer {
    pub gender: Gender,
    pub satisfaction: Option<i16>,
    pub competence: Option<i16>,
    pub respect: Option<i16>,
    pub knows_where_to_complain: Option<bool>,
}

pub async fn create(db: &PgPool, unit: UnitId, year: i32, stamp: Stamp) -> AppResult<Result<SurveyId, Refused>> {
    in_transaction(db, async |tx| {
        let inserted = sqlx::query_scalar!(
            r#"INSERT INTO surveys (unit_id, year, created_by, created_at) VALUES ($1, $2, $3, $4) RETURNING id AS "id: SurveyId""#,
            unit as _,
            year,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await;
        let id = match inserted {
            Ok(id) => id,
            Err(err) if violated_constraint(&err) == Some("surveys_unit_id_year_key") => {
                return refuse("year", format!("Enheten har redan en brukarundersökning för {year}."));
            }
            Err(err) => return Err(err.into()),
        };
        audit::Entry::new(Some(stamp.by), "survey_created")
            .record("survey", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(id))
    })
    .await
}

async fn insert(conn: &mut PgConnection, survey: SurveyId, a: &Answer, entered: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO survey_answers (survey_id, gender, satisfaction, competence, respect, knows_where_to_complain, entered)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        survey as _,
        a.gender.code(),
        a.satisfaction,
        a.competence,
        a.respect,
        a.knows_where_to_complain,
        entered
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// An answer typed in by staff from a paper form.
pub async fn add_paper_answer(db: &PgPool, survey: SurveyId, a: &Answer, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        insert(tx, survey, a, "paper").await?;
        audit::Entry::new(Some(stamp.by), "survey_answer_entered")
            .record("survey", survey)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

pub const CODE_NOT_VALID: &str = "Koden gäller inte, eller är redan använd. Fråga personalen om en ny kod.";

/// Said when the answer's code is gone: a used code leaves no trace, so a
/// double press of "Skicka" cannot be told from a reused code, and the
/// message is true for both.
pub const CODE_SPENT: &str = "Koden är redan använd. Om du nyss skickade ditt svar är det sparat; annars kan personalen ge dig en ny kod.";

/// Whether a code may still be used (the tablet's first step): unused, and
/// of this year's survey or a later one (an old code does not reach back).
pub async fn code_open(db: &PgPool, code: &str, today: NaiveDate) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM survey_codes c JOIN surveys s ON s.id = c.survey_id
                          WHERE c.code_hash = $1 AND s.year >= $2) AS "open!""#,
        &code_hash(code)[..],
        today.year()
    )
    .fetch_one(db)
    .await
}

/// An answer given on the tablet: the code is deleted and the answer saved in
/// one transaction, so a code gives one answer however often it is sent; the
/// answer does not say which code it came with (its key is random, and the
/// code leaves no mark of its use).
pub async fn answer_with_code(db: &PgPool, code: &str, a: &Answer, today: NaiveDate) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let survey = sqlx::query_scalar!(
            r#"DELETE FROM survey_codes c USING surveys s
               WHERE c.code_hash = $1 AND s.id = c.survey_id AND s.year >= $2
               RETURNING c.survey_id AS "survey: SurveyId""#,
            &code_hash(code)[..],
            today.year()
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(survey) = survey else {
            return refuse("code", CODE_SPENT);
        };
        insert(tx, survey, a, "tablet").await?;
        Ok(Ok(()))
    })
    .await
}

/// `n` new codes for the survey, shown once (only their hashes are kept).
pub async fn new_codes(db: &PgPool, survey: SurveyId, n: usize, today: NaiveDate, stamp: Stamp) -> AppResult<Vec<String>> {
    let codes = one_time_codes(n);
    let hashes: Vec<Vec<u8>> = codes.iter().map(|c| code_hash(c).to_vec()).collect();
    in_transaction(db, async |tx| {
        sqlx::query!(
            "INSERT INTO survey_codes (code_hash, survey_id, created_on) SELECT unnest($1::bytea[]), $2, $3",
            &hashes,
            survey as _,
            today
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "survey_codes_made")
            .record("survey", survey)
            .details(&format!("{n} koder"))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(()))
    })
    .await?;
    Ok(codes)
}
