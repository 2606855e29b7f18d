//! Ages, and the age band of Yngre Lotsen and Team ISA (DOMAIN.md: 18–35).

use chrono::{Datelike, NaiveDate};
use std::ops::RangeInclusive;

/// DOMAIN.md: Yngre Lotsen and Team ISA are for people aged 18–35, in whole
/// years on the day in question. SQL: `young_adult()` (migration 0011).
pub const YOUNG_ADULTS: RangeInclusive<i32> = 18..=35;

/// Whole years of age on `on`; born on 29 February, one is a year older on 1 March.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

/// Whether someone born on `birth` is 18–35 on `on`.
pub fn is_young_adult(birth: NaiveDate, on: NaiveDate) -> bool {
    YOUNG_ADULTS.contains(&age_on(birth, on))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn young_adults_are_18_to_35_on_the_day() {
        let on = d(2026, 3, 2);
        assert!(!is_young_adult(d(2008, 3, 3), on), "17");
        assert!(is_young_adult(d(2008, 3, 2), on), "18");
        assert!(is_young_adult(d(1990, 3, 3), on), "35");
        assert!(!is_young_adult(d(1990, 3, 2), on), "36");
    }

    #[test]
    fn a_birthday_on_29_february_counts_from_1_march() {
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 2, 28)), 17);
        assert_eq!(age_on(d(2008, 2, 29), d(2026, 3, 1)), 18);
        assert_eq!(age_on(d(2008, 2, 29), d(2028, 2, 29)), 20);
    }
}
