//! The way in (issue 19, point 1; DOMAIN.md from seed 003): advice and
//! support within ten days of the first contact. The wait is counted in
//! calendar days from the intresseanmälan's first contact to the first visit,
//! or to today while no visit has been made.

use chrono::NaiveDate;

/// Days from the first contact within which the first visit should be made.
pub const FIRST_VISIT_TARGET_DAYS: i64 = 10;

/// How long someone waited (or has waited so far) for a first visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// The first visit was made this many days after the first contact.
    Visited(i64),
    /// No visit yet: this many days since the first contact.
    Waiting(i64),
}

impl Wait {
    pub fn of(first_contact: NaiveDate, first_visit: Option<NaiveDate>, today: NaiveDate) -> Wait {
        match first_visit {
            Some(visit) => Wait::Visited((visit - first_contact).num_days().max(0)),
            None => Wait::Waiting((today - first_contact).num_days().max(0)),
        }
    }

    pub fn days(self) -> i64 {
        match self {
            Wait::Visited(days) | Wait::Waiting(days) => days,
        }
    }

    /// Past the target: a visit made too late, or a wait already too long.
    pub fn over_target(self) -> bool {
        self.days() > FIRST_VISIT_TARGET_DAYS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn ten_days_is_within_the_target_and_eleven_is_not() {
        assert_eq!(Wait::of(day(1), Some(day(11)), day(20)), Wait::Visited(10));
        assert!(!Wait::of(day(1), Some(day(11)), day(20)).over_target());
        assert!(Wait::of(day(1), Some(day(12)), day(20)).over_target());
    }

    #[test]
    fn without_a_visit_the_wait_runs_to_today() {
        assert_eq!(Wait::of(day(1), None, day(11)), Wait::Waiting(10));
        assert!(Wait::of(day(1), None, day(12)).over_target());
        // A contact dated after today (typed ahead) counts as no wait, not a negative one.
        assert_eq!(Wait::of(day(12), None, day(11)), Wait::Waiting(0));
    }
}
