//! Attendance (issue 6): the reception check-in ("Dagens besök"), anonymous
//! drop-in visitors, and the opening calendar with its holidays. `calendar`
//! holds the date rules as pure functions; `visits` the check-in pages;
//! `opening` the unit's calendar page.

pub mod calendar;
pub mod opening;
pub mod visits;

use crate::state::AppState;
use axum::Router;
use chrono::NaiveDate;

pub fn routes() -> Router<AppState> {
    Router::new().merge(visits::routes()).merge(opening::routes())
}

/// The unit a page works for: the one asked for if the user belongs to it,
/// else their first; another unit is refused.
pub fn chosen_unit(current: &crate::auth::CurrentUser, asked: &str) -> crate::error::AppResult<i64> {
    let units = &current.user.unit_ids;
    match asked.parse::<i64>() {
        Ok(id) if units.contains(&id) => Ok(id),
        Ok(_) => Err(crate::error::AppError::Forbidden),
        Err(_) => units.first().copied().ok_or(crate::error::AppError::Forbidden),
    }
}

/// DOMAIN.md: Yngre Lotsen is for ages 18–35.
pub fn is_young_adult(birth: NaiveDate, on: NaiveDate) -> bool {
    (18..=35).contains(&crate::participants::identity::age_on(birth, on))
}

/// The unit's exception for `day`, as the calendar rules take it.
pub async fn exception_on(db: impl sqlx::PgExecutor<'_>, unit_id: i64, day: NaiveDate) -> Result<Option<calendar::Exception>, sqlx::Error> {
    let kind = sqlx::query_scalar!("SELECT kind FROM opening_exceptions WHERE unit_id = $1 AND day = $2", unit_id, day)
        .fetch_optional(db)
        .await?;
    Ok(kind.as_deref().map(exception_of))
}

pub fn exception_of(kind: &str) -> calendar::Exception {
    match kind {
        "closed" => calendar::Exception::Closed,
        "evening" => calendar::Exception::Open { evening: true },
        _ => calendar::Exception::Open { evening: false },
    }
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
    fn yngre_lotsen_is_18_to_35() {
        let on = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let birth = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(!is_young_adult(birth(2008, 3, 3), on), "17");
        assert!(is_young_adult(birth(2008, 3, 2), on), "18");
        assert!(is_young_adult(birth(1990, 3, 3), on), "35");
        assert!(!is_young_adult(birth(1990, 3, 2), on), "36");
    }

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
