//! Stöd vid arbete (issue 19, point 5; DOMAIN.md from seed 004): after a
//! plan ends in employment, support to the person and the employer for up to
//! one year from the start of employment, its end flagged a month ahead.
//! `employment_supports_within_a_year` (migration 0035) repeats the limit and
//! `tests/rules_in_sql.rs` checks that the two agree.

use chrono::{Months, NaiveDate};

/// The last day support may run: one year from the start of employment (a
/// start on 29 February ends on 28 February).
pub fn support_last_day(employment_start: NaiveDate) -> NaiveDate {
    employment_start.checked_add_months(Months::new(12)).unwrap_or(employment_start)
}

/// Whether support ending on `ends_on` stays within the year.
pub fn within_a_year(employment_start: NaiveDate, ends_on: NaiveDate) -> bool {
    ends_on > employment_start && ends_on <= support_last_day(employment_start)
}

/// The reminder round flags on `today` every support ending by this day: a
/// month ahead.
pub fn flagged_until(today: NaiveDate) -> NaiveDate {
    today.checked_add_months(Months::new(1)).unwrap_or(today)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_year_from_the_start_and_not_a_day_more() {
        assert_eq!(support_last_day(d(2026, 3, 2)), d(2027, 3, 2));
        assert!(within_a_year(d(2026, 3, 2), d(2027, 3, 2)));
        assert!(!within_a_year(d(2026, 3, 2), d(2027, 3, 3)));
        assert!(!within_a_year(d(2026, 3, 2), d(2026, 3, 2)), "it ends after it starts");
        // Leap day: the year ends on the last day of February.
        assert_eq!(support_last_day(d(2028, 2, 29)), d(2029, 2, 28));
    }

    #[test]
    fn the_end_is_flagged_a_month_ahead() {
        assert_eq!(flagged_until(d(2027, 2, 2)), d(2027, 3, 2));
        // From the last of January, the end of February.
        assert_eq!(flagged_until(d(2027, 1, 31)), d(2027, 2, 28));
    }
}
