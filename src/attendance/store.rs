//! The one writer of visits: the reception's search that checks one person in
//! within the same statement, a check-in by choice (with the rules for ended
//! participants, closed days and Yngre Lotsen time), undo, check-out, and the
//! drop-in count; and of group activities: scheduled, changed (with a version
//! check), called off, and their attendance; of the unit's calendar (its
//! exceptions and Yngre Lotsen time) and of worked hours. Handlers read the
//! form and call one command.

use super::groups::{ActivityKind, Schedule};
use super::{closed_because, exception_of};
use crate::audit::{self, Stamp};
use crate::auth::context::SessionUser;
use crate::db::{Ending, Kept, Refused, Updated, in_transaction, refuse};
use crate::domain::ages::is_young_adult;
use crate::domain::calendar::Exception;
use crate::error::AppResult;
use crate::error::violated_check;
use crate::ids::{GroupActivityId, ParticipantId, PlanId, UnitId, UserId, VisitId, YoungAdultPeriodId};
use crate::participants::model::{Gender, ParticipantStatus};
use crate::web::format::clock_time;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};

/// A name search at the desk: the first word starts the first or the last
/// name, a second word the other (prefix ranges, `…_end` their upper bounds).
pub struct Search<'a> {
    pub unit_id: UnitId,
    pub first: &'a str,
    pub first_end: &'a str,
    pub second: Option<&'a str>,
    pub second_end: Option<&'a str>,
    pub day: NaiveDate,
    pub limit: i64,
    pub by: &'a SessionUser,
    pub at: DateTime<Utc>,
    /// Enter was pressed: a single match may be checked in at once.
    pub may_check_in: bool,
    pub open_by_default: bool,
    /// A past day, logged afterwards.
    pub backfilled: bool,
}

/// A match of the search, with the day's facts and the visit it logged.
pub struct SearchRow {
    pub id: ParticipantId,
    pub name: String,
    pub birth_date: NaiveDate,
    pub status: ParticipantStatus,
    pub earlier_visit_id: Option<VisitId>,
    pub exception: Option<String>,
    pub young_time: bool,
    pub visit_id: Option<VisitId>,
}

/// One statement, one round trip and one commit: the matches, the access-log
/// rows for them, and — when exactly one person matches, has not come yet,
/// the unit is open and no Yngre Lotsen confirmation is needed — the visit
/// itself. Anything else is decided by `check_in`.
pub async fn search_and_check_in(db: &PgPool, s: &Search<'_>) -> Result<Vec<SearchRow>, sqlx::Error> {
    sqlx::query_as!(
        SearchRow,
        r#"WITH hits AS (
               SELECT p.id, p.first_name || ' ' || p.last_name AS name, p.birth_date, p.status,
                      (SELECT v.id FROM visits v WHERE v.participant_id = p.id AND v.visit_on = $6 AND v.cancelled_at IS NULL) AS visit_id
               FROM participants p
               WHERE p.unit_id = $1 AND p.status <> 'ended'
                 -- Skyddade personuppgifter: found only by those named on the person.
                 AND (NOT p.protected_identity OR in_caseload($9, p.id))
                 AND ((lower(p.first_name) ~>=~ $2 AND lower(p.first_name) ~<~ $3
                       AND ($4::text IS NULL OR (lower(p.last_name) ~>=~ $4 AND lower(p.last_name) ~<~ $5)))
                   OR (lower(p.last_name) ~>=~ $2 AND lower(p.last_name) ~<~ $3
                       AND ($4::text IS NULL OR (lower(p.first_name) ~>=~ $4 AND lower(p.first_name) ~<~ $5))))
               ORDER BY p.first_name, p.last_name, p.id
               LIMIT $7),
           logged AS (
               INSERT INTO access_log (occurred_at, user_id, user_role, unit_id, participant_id, action)
               SELECT $8, $9, $10, $1, id, 'search' FROM hits),
           facts AS (
               SELECT (SELECT kind FROM opening_exceptions WHERE unit_id = $1 AND day = $6) AS exception,
                      EXISTS (SELECT 1 FROM young_adult_periods WHERE unit_id = $1 AND starts_at <= $8 AND ends_at > $8) AS young_time),
           chosen AS (
               SELECT h.id FROM hits h, facts f
               WHERE $11 AND (SELECT count(*) FROM hits) = 1 AND h.visit_id IS NULL
                 AND unit_open(f.exception, $12)
                 AND ($13 OR NOT f.young_time OR young_adult(h.birth_date, $6))),
           inserted AS (
               INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, backfilled, created_by)
               SELECT id, $1, $6, $8, $13, $9 FROM chosen
               ON CONFLICT (participant_id, visit_on) WHERE cancelled_at IS NULL DO NOTHING
               RETURNING id)
           SELECT h.id AS "id!: ParticipantId", h.name AS "name!", h.birth_date AS "birth_date!", h.status AS "status!: ParticipantStatus", h.visit_id AS "earlier_visit_id?: VisitId",
                  f.exception AS "exception?", f.young_time AS "young_time!", (SELECT id FROM inserted) AS "visit_id?: VisitId"
           FROM hits h, facts f ORDER BY h.name, h.id"#,
        s.unit_id as _,
        s.first,
        s.first_end,
        s.second,
        s.second_end,
        s.day,
        s.limit,
        s.at,
        s.by.id as _,
        s.by.role.code(),
        s.may_check_in,
        s.open_by_default,
        s.backfilled
    )
    .fetch_all(db)
    .await
}

/// What the check-in rules need about the person and the day.
pub struct Person {
    pub id: ParticipantId,
    pub name: String,
    pub birth_date: NaiveDate,
    pub status: ParticipantStatus,
    pub unit_id: UnitId,
    pub exception: Option<String>,
    pub young_time: bool,
}

/// The person and the facts of `day` at their unit, for a check-in by choice.
pub async fn person_on(
    db: &PgPool,
    participant_id: ParticipantId,
    day: NaiveDate,
    at: DateTime<Utc>,
) -> Result<Option<Person>, sqlx::Error> {
    sqlx::query_as!(
        Person,
        r#"SELECT p.id, p.first_name || ' ' || p.last_name AS "name!", p.birth_date, p.status AS "status: ParticipantStatus", p.unit_id,
                  (SELECT kind FROM opening_exceptions e WHERE e.unit_id = p.unit_id AND e.day = $2) AS "exception?",
                  EXISTS (SELECT 1 FROM young_adult_periods y WHERE y.unit_id = p.unit_id AND y.starts_at <= $3 AND y.ends_at > $3) AS "young_time!"
           FROM participants p WHERE p.id = $1"#,
        participant_id as _,
        day,
        at
    )
    .fetch_optional(db)
    .await
}

/// What a check-in came to.
pub enum CheckIn {
    /// Logged, or already there: the message for the desk.
    Logged(String),
    /// Not allowed (an ended participant, a closed day): why.
    Refused(String),
    /// Yngre Lotsen time and the person is outside 18–35: ask for a yes.
    NeedsYes(Person),
}

impl Ending for CheckIn {
    fn keeps(&self) -> bool {
        true
    }
}

/// Checks `person` in on `day` (today, or a past day afterwards) under the
/// rules; one visit per person and day, whoever is first.
pub async fn check_in(db: &PgPool, person: Person, day: NaiveDate, today: NaiveDate, confirmed: bool, stamp: Stamp) -> AppResult<CheckIn> {
    let backfilled = day != today;
    if person.status == ParticipantStatus::Ended {
        return Ok(CheckIn::Refused(format!(
            "{} är avslutad. Registrera återkomsten i personakten först.",
            person.name
        )));
    }
    if let Some(why) = closed_because(day, person.exception.as_deref().map(exception_of)) {
        return Ok(CheckIn::Refused(format!(
            "Besöket kan inte registreras: {why}. Öppna dagen i kalendern om enheten ändå har öppet."
        )));
    }
    // Yngre Lotsen time: a visitor outside 18–35 is let in after a yes, and counted.
    let outside = !backfilled && person.young_time && !is_young_adult(person.birth_date, day);
    if outside && !confirmed {
        return Ok(CheckIn::NeedsYes(person));
    }
    in_transaction(db, async |tx| {
        let inserted = sqlx::query_scalar!(
            "INSERT INTO visits (participant_id, unit_id, visit_on, checked_in_at, backfilled, outside_young_adults_time, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (participant_id, visit_on) WHERE cancelled_at IS NULL DO NOTHING
             RETURNING id",
            person.id as _,
            person.unit_id as _,
            day,
            stamp.at,
            backfilled,
            outside,
            stamp.by as _
        )
        .fetch_optional(&mut *tx)
        .await?;
        let message = match inserted {
            Some(_) if backfilled => format!("Besöket {day} är registrerat för {}.", person.name),
            Some(_) => format!("{} är incheckad kl. {}.", person.name, clock_time(stamp.at)),
            None => {
                let at = sqlx::query_scalar!(
                    "SELECT checked_in_at FROM visits WHERE participant_id = $1 AND visit_on = $2 AND cancelled_at IS NULL",
                    person.id as _,
                    day
                )
                .fetch_optional(&mut *tx)
                .await?;
                match at {
                    Some(at) if !backfilled => format!("{} är redan incheckad i dag, sedan kl. {}.", person.name, clock_time(at)),
                    _ => format!("{} har redan ett besök registrerat {day}.", person.name),
                }
            }
        };
        Ok(CheckIn::Logged(message))
    })
    .await
}

/// Undoes a check-in: the visit is kept, marked cancelled by whom and when.
/// The person's name when it was undone now, none when it already was.
pub async fn cancel_visit(db: &PgPool, visit: VisitId, stamp: Stamp) -> AppResult<Option<String>> {
    in_transaction(db, async |tx| {
        let name = sqlx::query_scalar!(
            r#"UPDATE visits v SET cancelled_at = $2, cancelled_by = $3 FROM participants p
               WHERE v.id = $1 AND v.cancelled_at IS NULL AND p.id = v.participant_id
               RETURNING p.first_name || ' ' || p.last_name AS "name!""#,
            visit as _,
            stamp.at,
            stamp.by as _
        )
        .fetch_optional(&mut *tx)
        .await?;
        if name.is_some() {
            audit::Entry::new(Some(stamp.by), "visit_cancelled")
                .record("visit", visit)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(Kept(name))
    })
    .await
    .map(|Kept(name)| name)
}

/// Checks a visitor out now; false when the visit is undone or already out.
pub async fn check_out(db: &PgPool, visit: VisitId, at: DateTime<Utc>) -> AppResult<bool> {
    in_transaction(db, async |tx| {
        let updated = sqlx::query!(
            "UPDATE visits SET checked_out_at = $2 WHERE id = $1 AND cancelled_at IS NULL AND checked_out_at IS NULL AND checked_in_at <= $2",
            visit as _,
            at
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        Ok(Kept(updated > 0))
    })
    .await
    .map(|Kept(out)| out)
}

/// Counts a drop-in visitor up or down (`change` ±1) for the day; never below zero.
pub async fn count_drop_in(db: &PgPool, unit_id: UnitId, day: NaiveDate, gender: Gender, change: i32) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "INSERT INTO drop_in_visits (unit_id, visit_on, gender, visitors) VALUES ($1, $2, $3, greatest($4, 0))
             ON CONFLICT (unit_id, visit_on, gender) DO UPDATE SET visitors = greatest(drop_in_visits.visitors + $4, 0)",
            unit_id as _,
            day,
            gender.code(),
            change
        )
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
    .await
}

/// An activity scheduled: the row, its leaders and the audit entry.
pub async fn schedule_activity(db: &PgPool, unit_id: UnitId, s: &Schedule, stamp: Stamp) -> AppResult<GroupActivityId> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            "INSERT INTO group_activities (unit_id, kind, title, starts_at, ends_at, place, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id AS \"id: GroupActivityId\"",
            unit_id as _,
            s.kind.code(),
            s.title,
            s.starts_at,
            s.ends_at,
            s.place,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        set_leaders(tx, id, &s.leaders).await?;
        audit::Entry::new(Some(stamp.by), "group_activity_created")
            .record("group_activity", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Kept(id))
    })
    .await
    .map(|Kept(id)| id)
}

/// The activity's leaders become exactly `leaders`.
async fn set_leaders(tx: &mut PgConnection, id: GroupActivityId, leaders: &[UserId]) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "DELETE FROM group_activity_leaders WHERE activity_id = $1 AND NOT user_id = ANY($2)",
        id as _,
        leaders as _
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "INSERT INTO group_activity_leaders (activity_id, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
        id as _,
        leaders as _
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

const YOUNG_ADULTS_CHANGED: &str = "Yngre Lotsen är för personer 18–35 år, och någon som deltog är inte det den dagen.";

/// Who took part and is outside 18–35 on `day`: what keeps an activity from becoming Yngre Lotsen.
async fn too_old_or_young(db: &sqlx::PgPool, id: GroupActivityId, day: NaiveDate) -> Result<Option<String>, sqlx::Error> {
    let attendees = sqlx::query!(
        r#"SELECT p.first_name || ' ' || p.last_name AS "name!", p.birth_date
           FROM group_activity_attendance t JOIN participants p ON p.id = t.participant_id
           WHERE t.activity_id = $1 ORDER BY p.first_name, p.last_name"#,
        id as _
    )
    .fetch_all(db)
    .await?;
    Ok(attendees.into_iter().find(|p| !is_young_adult(p.birth_date, day)).map(|p| {
        let age = crate::participants::identity::age_on(p.birth_date, day);
        format!(
            "Yngre Lotsen är för personer 18–35 år, och {} som deltog är {age} år den dagen.",
            p.name
        )
    }))
}

/// Changes an activity if it is still at `version` and not called off: a
/// change to Yngre Lotsen, or of its day, may not leave anyone who took part
/// outside 18–35 (checked here with a message, and by a trigger).
pub async fn change_activity(
    db: &PgPool,
    activity: GroupActivityId,
    version: i32,
    s: &Schedule,
    stamp: Stamp,
) -> AppResult<Result<Updated, Refused>> {
    let day = s.starts_at.with_timezone(&chrono_tz::Europe::Stockholm).date_naive();
    if s.kind == ActivityKind::YoungAdults
        && let Some(message) = too_old_or_young(db, activity, day).await?
    {
        return refuse("kind", message);
    }
    in_transaction(db, async |tx| {
        let updated = sqlx::query_scalar!(
            "UPDATE group_activities SET kind = $3, title = $4, starts_at = $5, ends_at = $6, place = $7,
                    version = version + 1, updated_by = $8, updated_at = $9
             WHERE id = $1 AND version = $2 AND cancelled_at IS NULL
             RETURNING id",
            activity as _,
            version,
            s.kind.code(),
            s.title,
            s.starts_at,
            s.ends_at,
            s.place,
            stamp.by as _,
            stamp.at
        )
        .fetch_optional(&mut *tx)
        .await;
        let updated = match updated {
            // Someone was added between the check above and the change.
            Err(err) if violated_check(&err) == Some("group_activities_young_adults_age") => {
                return refuse("kind", YOUNG_ADULTS_CHANGED);
            }
            other => other?,
        };
        if updated.is_none() {
            return Ok(Ok(Updated::Conflict));
        }
        set_leaders(tx, activity, &s.leaders).await?;
        audit::Entry::new(Some(stamp.by), "group_activity_changed")
            .record("group_activity", activity)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(Ok(Updated::Saved))
    })
    .await
}

/// Calls an activity off, kept with who, when and why; false when it was
/// changed since `version` (nothing is written then).
pub async fn call_off(db: &PgPool, activity: GroupActivityId, version: i32, reason: &str, stamp: Stamp) -> AppResult<bool> {
    in_transaction(db, async |tx| {
        let cancelled = sqlx::query_scalar!(
            "UPDATE group_activities SET cancelled_at = $3, cancelled_by = $4, cancel_reason = $5, version = version + 1
             WHERE id = $1 AND version = $2 AND cancelled_at IS NULL
             RETURNING id",
            activity as _,
            version,
            stamp.at,
            stamp.by as _,
            reason
        )
        .fetch_optional(&mut *tx)
        .await?;
        if cancelled.is_some() {
            audit::Entry::new(Some(stamp.by), "group_activity_cancelled")
                .record("group_activity", activity)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(Kept(cancelled.is_some()))
    })
    .await
    .map(|Kept(done)| done)
}

/// Why no one more can be added to an activity.
pub const CALLED_OFF: &str = "Aktiviteten är inställd. Ingen kan läggas till i närvaron.";

/// Adds a participant to the attendance (once); an activity called off takes
/// no one more, which the schema also holds (a trigger that locks the activity).
pub async fn add_attendance(
    db: &PgPool,
    activity: GroupActivityId,
    participant: ParticipantId,
    stamp: Stamp,
) -> AppResult<Result<(), Refused>> {
    in_transaction(db, async |tx| {
        let added = sqlx::query!(
            "INSERT INTO group_activity_attendance (activity_id, participant_id, recorded_by, recorded_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
            activity as _,
            participant as _,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await;
        match added {
            Err(err) if violated_check(&err) == Some("group_activity_attendance_held") => refuse("q", CALLED_OFF),
            other => {
                other?;
                Ok(Ok(()))
            }
        }
    })
    .await
}

/// Takes a participant off the attendance, audited.
pub async fn remove_attendance(db: &PgPool, activity: GroupActivityId, participant: ParticipantId, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let removed = sqlx::query!(
            "DELETE FROM group_activity_attendance WHERE activity_id = $1 AND participant_id = $2",
            activity as _,
            participant as _
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            audit::Entry::new(Some(stamp.by), "group_attendance_removed")
                .record("group_activity", activity)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(())
    })
    .await
}

/// A unit's own change to a day of its calendar (closed, open, evening), replacing any earlier one.
pub async fn set_exception(db: &PgPool, unit_id: UnitId, day: NaiveDate, kind: Exception, note: &str, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        sqlx::query!(
            "INSERT INTO opening_exceptions (unit_id, day, kind, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (unit_id, day) DO UPDATE SET kind = EXCLUDED.kind, note = EXCLUDED.note, created_by = EXCLUDED.created_by,
                                                      created_at = EXCLUDED.created_at",
            unit_id as _,
            day,
            kind.code(),
            note,
            stamp.by as _,
            stamp.at
        )
        .execute(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "opening_exception_set")
            .record("unit", unit_id)
            .details(&format!("{day} {}", kind.code()))
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

/// The day follows the ordinary calendar again.
pub async fn remove_exception(db: &PgPool, unit_id: UnitId, day: NaiveDate, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let removed = sqlx::query!("DELETE FROM opening_exceptions WHERE unit_id = $1 AND day = $2", unit_id as _, day)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if removed > 0 {
            audit::Entry::new(Some(stamp.by), "opening_exception_removed")
                .record("unit", unit_id)
                .details(&day.to_string())
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(())
    })
    .await
}

/// Time the unit keeps for Yngre Lotsen.
pub async fn add_young_adult_period(
    db: &PgPool,
    unit_id: UnitId,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    note: &str,
    stamp: Stamp,
) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let id = sqlx::query_scalar!(
            "INSERT INTO young_adult_periods (unit_id, starts_at, ends_at, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            unit_id as _,
            starts_at,
            ends_at,
            note,
            stamp.by as _,
            stamp.at
        )
        .fetch_one(&mut *tx)
        .await?;
        audit::Entry::new(Some(stamp.by), "young_adult_period_added")
            .record("young_adult_period", id)
            .write(&mut *tx, stamp.at)
            .await?;
        Ok(())
    })
    .await
}

pub async fn remove_young_adult_period(db: &PgPool, unit_id: UnitId, period: YoungAdultPeriodId, stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        let removed = sqlx::query!(
            "DELETE FROM young_adult_periods WHERE id = $1 AND unit_id = $2",
            period as _,
            unit_id as _
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if removed > 0 {
            audit::Entry::new(Some(stamp.by), "young_adult_period_removed")
                .record("young_adult_period", period)
                .write(&mut *tx, stamp.at)
                .await?;
        }
        Ok(())
    })
    .await
}

/// A week of worked hours for a plan: hundredths per day, none to clear the day.
pub async fn save_worked_hours(db: &PgPool, plan: PlanId, days: &[(NaiveDate, Option<i32>)], stamp: Stamp) -> AppResult<()> {
    in_transaction(db, async |tx| {
        for (date, hours) in days {
            match hours {
                Some(h) => {
                    sqlx::query!(
                        "INSERT INTO training_hours (plan_id, worked_on, hours, recorded_by, recorded_at) VALUES ($1, $2, $3::int / 100.0, $4, $5)
                         ON CONFLICT (plan_id, worked_on) DO UPDATE SET hours = EXCLUDED.hours, recorded_by = EXCLUDED.recorded_by,
                                                                      recorded_at = EXCLUDED.recorded_at",
                        plan as _,
                        date,
                        h,
                        stamp.by as _,
                        stamp.at
                    )
                    .execute(&mut *tx)
                    .await?;
                }
                None => {
                    sqlx::query!("DELETE FROM training_hours WHERE plan_id = $1 AND worked_on = $2", plan as _, date)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        Ok(())
    })
    .await
}
