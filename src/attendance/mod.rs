//! Attendance (issue 6): the reception check-in ("Dagens besök"), anonymous
//! drop-in visitors, the opening calendar with its holidays, group
//! activities, the hours trainees worked, and visit statistics. `calendar`
//! holds the date rules as pure functions; `visits` the check-in pages;
//! `opening` the unit's calendar page; `groups` gruppaktiviteter; `hours`
//! arbetade timmar; `statistics` the figures, charts and CSV.

pub mod groups;
pub mod hours;
pub mod opening;
pub mod statistics;
pub mod store;
pub mod visits;

use crate::domain::calendar;
use crate::ids::UnitId;
use crate::web::routes::{Routes, get};
use chrono::NaiveDate;

pub fn routes() -> Routes {
    Routes::new()
        .merge(visits::routes())
        .merge(opening::routes())
        .merge(groups::routes())
        .merge(hours::routes())
        .route("/statistics", get(statistics::page))
        .route("/statistics.csv", get(statistics::export))
}

/// The unit a page works for: the one asked for if the user belongs to it,
/// else their first; another unit is refused.
pub fn chosen_unit(current: &crate::auth::CurrentUser, asked: &str) -> crate::error::AppResult<UnitId> {
    current.chosen_unit(asked)
}

/// The units a report covers: one of the user's, or all of them ("all" or
/// nothing asked); `None` for a unit that is not theirs.
pub fn chosen_units(current: &crate::auth::CurrentUser, asked: &str) -> Option<Vec<UnitId>> {
    if asked.is_empty() || asked == "all" {
        return Some(current.user.unit_ids.clone());
    }
    match asked.parse::<UnitId>() {
        Ok(id) if current.user.unit_ids.contains(&id) => Some(vec![id]),
        _ => None,
    }
}

/// A time of day typed as 13:00 or 1300.
pub fn time_of_day(value: &str) -> Result<chrono::NaiveTime, &'static str> {
    let value = value.trim();
    chrono::NaiveTime::parse_from_str(value, "%H:%M")
        .or_else(|_| chrono::NaiveTime::parse_from_str(value, "%H%M"))
        .map_err(|_| "Skriv tiden som TT:MM, t.ex. 13:00.")
}

/// A Stockholm wall-clock time as a moment (`None` in the hour skipped in spring).
pub fn stockholm(day: NaiveDate, time: chrono::NaiveTime) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    chrono_tz::Europe::Stockholm
        .from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// The unit's exception for `day`, as the calendar rules take it.
pub async fn exception_on(
    db: impl sqlx::PgExecutor<'_>,
    unit_id: UnitId,
    day: NaiveDate,
) -> Result<Option<calendar::Exception>, sqlx::Error> {
    let kind = sqlx::query_scalar!(
        "SELECT kind FROM opening_exceptions WHERE unit_id = $1 AND day = $2",
        unit_id as _,
        day
    )
    .fetch_optional(db)
    .await?;
    Ok(kind.as_deref().map(exception_of))
}

pub fn exception_of(kind: &str) -> calendar::Exception {
    calendar::Exception::from_code(kind)
}

/// Why the unit is closed on `day`, or `None` when it is open.
pub fn closed_because(day: NaiveDate, exception: Option<calendar::Exception>) -> Option<String> {
    if calendar::is_open(day, exception) {
        return None;
    }
    Some(match (exception, calendar::holiday_on(day)) {
        (Some(calendar::Exception::Closed), _) => "enheten har stängt den dagen".to_string(),
        (_, Some(holiday)) => holiday.name.to_lowercase(),
        _ => "det är helg".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_days_say_why() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        assert_eq!(closed_because(day(12, 24), None).as_deref(), Some("julafton"));
        assert_eq!(closed_because(day(3, 7), None).as_deref(), Some("det är helg"));
        assert_eq!(
            closed_because(day(3, 2), Some(calendar::Exception::Closed)).as_deref(),
            Some("enheten har stängt den dagen")
        );
        assert_eq!(closed_because(day(3, 7), Some(calendar::Exception::Open { evening: false })), None);
        assert_eq!(closed_because(day(3, 2), None), None);
    }
}
