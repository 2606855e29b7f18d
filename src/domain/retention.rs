//! Gallring: how long a person's records are kept (issue 18, point 2).
//! SoL 12 kap 1 §: the records of a person are disposed of a number of years
//! (five, `LOTSEN_RETENTION_YEARS`) after the last entry, within the calendar
//! year after those years have passed. Socialtjänstförordningen 7 kap 2 §:
//! the records of people born on the 5th, 15th or 25th of a month are kept
//! for research instead (*bevaras*); `LOTSEN_KEEP_FOR_RESEARCH`. The birth
//! date is the real one: for a samordningsnummer, the number's day less 60
//! (`participants::identity`).

use chrono::{Datelike, Months, NaiveDate};

/// The settings in force, read at start (`config::Config::retention`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Years after the last entry.
    pub years: u32,
    /// People born on the 5th, 15th or 25th are kept for research.
    pub keep_for_research: bool,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            years: 5,
            keep_for_research: true,
        }
    }
}

/// The days of the month whose people are kept for research.
pub const RESEARCH_DAYS: [u32; 3] = [5, 15, 25];

impl Retention {
    /// Whether someone born on `birth` is kept for research (bevaras).
    pub fn kept_for_research(self, birth: NaiveDate) -> bool {
        self.keep_for_research && RESEARCH_DAYS.contains(&birth.day())
    }

    /// The day the records of a person last written about on `last_entry`
    /// may be disposed of: when the years have passed.
    pub fn disposable_from(self, last_entry: NaiveDate) -> NaiveDate {
        // 29 February: a later year's 28 February.
        last_entry
            .checked_add_months(Months::new(self.years * 12))
            .unwrap_or(NaiveDate::MAX)
    }

    /// The last day the disposal may be done: the end of the calendar year
    /// after the one in which the years passed.
    pub fn dispose_by(self, last_entry: NaiveDate) -> NaiveDate {
        let year = self.disposable_from(last_entry).year() + 1;
        NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(NaiveDate::MAX)
    }

    /// Whether a round on `today` lists someone last written about on `last_entry`.
    pub fn due(self, last_entry: NaiveDate, today: NaiveDate) -> bool {
        self.disposable_from(last_entry) < today
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn five_years_after_the_last_entry_and_done_within_the_next_calendar_year() {
        let r = Retention::default();
        assert_eq!(r.disposable_from(d(2020, 3, 10)), d(2025, 3, 10));
        assert_eq!(r.dispose_by(d(2020, 3, 10)), d(2026, 12, 31));
        assert!(
            !r.due(d(2020, 3, 10), d(2025, 3, 10)),
            "on the day itself five years have not passed"
        );
        assert!(r.due(d(2020, 3, 10), d(2025, 3, 11)));
        assert_eq!(r.disposable_from(d(2020, 2, 29)), d(2025, 2, 28));
        let three = Retention { years: 3, ..r };
        assert_eq!(three.disposable_from(d(2020, 3, 10)), d(2023, 3, 10));
    }

    #[test]
    fn people_born_on_the_5th_15th_and_25th_are_kept_for_research_when_the_rule_is_on() {
        let r = Retention::default();
        for day in 1..=31 {
            let birth = d(1990, 1, day);
            assert_eq!(r.kept_for_research(birth), [5, 15, 25].contains(&day), "day {day}");
        }
        let off = Retention {
            keep_for_research: false,
            ..r
        };
        assert!(!off.kept_for_research(d(1990, 1, 15)));
    }
}
