//! The opening calendar (öppethållande): which days a unit is open. By
//! default Monday–Friday, except Swedish public holidays and midsommarafton,
//! julafton and nyårsafton; a unit may close other days and open extra ones
//! (weekends, evenings). The target is 230 open days a year (DOMAIN.md).
//! Pure functions of the date, computed for any year.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Open days a year the commission asks for.
pub const TARGET_OPEN_DAYS: u32 = 230;

/// Easter Sunday (Gregorian), by the anonymous Gregorian algorithm.
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// The first `weekday` on or after `from`.
fn first_on_or_after(from: NaiveDate, weekday: Weekday) -> NaiveDate {
    let ahead = (7 + weekday.num_days_from_monday() as i64 - from.weekday().num_days_from_monday() as i64) % 7;
    from + Duration::days(ahead)
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixed date exists every year")
}

/// Why the centre is closed by default on a weekday.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: &'static str,
}

/// Swedish public holidays (allmänna helgdagar) and the three eves the
/// centre also keeps closed, in date order.
pub fn holidays(year: i32) -> Vec<Holiday> {
    let easter = easter_sunday(year);
    let midsummer_day = first_on_or_after(ymd(year, 6, 20), Weekday::Sat);
    let all_saints = first_on_or_after(ymd(year, 10, 31), Weekday::Sat);
    let mut days = vec![
        Holiday {
            date: ymd(year, 1, 1),
            name: "Nyårsdagen",
        },
        Holiday {
            date: ymd(year, 1, 6),
            name: "Trettondedag jul",
        },
        Holiday {
            date: easter - Duration::days(2),
            name: "Långfredagen",
        },
        Holiday {
            date: easter,
            name: "Påskdagen",
        },
        Holiday {
            date: easter + Duration::days(1),
            name: "Annandag påsk",
        },
        Holiday {
            date: ymd(year, 5, 1),
            name: "Första maj",
        },
        Holiday {
            date: easter + Duration::days(39),
            name: "Kristi himmelsfärdsdag",
        },
        Holiday {
            date: easter + Duration::days(49),
            name: "Pingstdagen",
        },
        Holiday {
            date: ymd(year, 6, 6),
            name: "Sveriges nationaldag",
        },
        Holiday {
            date: midsummer_day - Duration::days(1),
            name: "Midsommarafton",
        },
        Holiday {
            date: midsummer_day,
            name: "Midsommardagen",
        },
        Holiday {
            date: all_saints,
            name: "Alla helgons dag",
        },
        Holiday {
            date: ymd(year, 12, 24),
            name: "Julafton",
        },
        Holiday {
            date: ymd(year, 12, 25),
            name: "Juldagen",
        },
        Holiday {
            date: ymd(year, 12, 26),
            name: "Annandag jul",
        },
        Holiday {
            date: ymd(year, 12, 31),
            name: "Nyårsafton",
        },
    ];
    days.sort_by_key(|h| h.date);
    days
}

/// The holiday on `date`, if any.
pub fn holiday_on(date: NaiveDate) -> Option<Holiday> {
    holidays(date.year()).into_iter().find(|h| h.date == date)
}

/// A unit's own change to a day: closed although it would be open, or open
/// although it would be closed (a weekend or a holiday), with evening hours
/// marked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exception {
    Closed,
    Open { evening: bool },
}

impl Exception {
    /// Every kind of exception, for tests that walk them all.
    pub const ALL: [Exception; 3] = [
        Exception::Closed,
        Exception::Open { evening: false },
        Exception::Open { evening: true },
    ];

    /// The code in `opening_exceptions.kind`, which SQL's `unit_open()` reads.
    pub fn code(self) -> &'static str {
        match self {
            Exception::Closed => "closed",
            Exception::Open { evening: false } => "open",
            Exception::Open { evening: true } => "evening",
        }
    }

    /// A stored code; the schema allows no other than these three.
    pub fn from_code(code: &str) -> Exception {
        Exception::ALL
            .into_iter()
            .find(|e| e.code() == code)
            .unwrap_or(Exception::Open { evening: false })
    }
}

/// Whether the unit is open on `date` by default (no exception).
pub fn open_by_default(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && holiday_on(date).is_none()
}

/// Whether the unit is open on `date`, given its exception for that day.
pub fn is_open(date: NaiveDate, exception: Option<Exception>) -> bool {
    match exception {
        Some(Exception::Closed) => false,
        Some(Exception::Open { .. }) => true,
        None => open_by_default(date),
    }
}

/// Open days in `year`, with the unit's exceptions (date → exception).
pub fn open_days(year: i32, exceptions: &[(NaiveDate, Exception)]) -> u32 {
    let mut date = ymd(year, 1, 1);
    let mut count = 0;
    let holidays = holidays(year);
    while date.year() == year {
        let exception = exceptions.iter().find(|(d, _)| *d == date).map(|(_, e)| *e);
        let default = !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && !holidays.iter().any(|h| h.date == date);
        let open = match exception {
            Some(Exception::Closed) => false,
            Some(Exception::Open { .. }) => true,
            None => default,
        };
        if open {
            count += 1;
        }
        date += Duration::days(1);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn named(year: i32, name: &str) -> NaiveDate {
        holidays(year).into_iter().find(|h| h.name == name).unwrap().date
    }

    #[test]
    fn easter_for_several_years() {
        assert_eq!(easter_sunday(2024), d(2024, 3, 31));
        assert_eq!(easter_sunday(2025), d(2025, 4, 20));
        assert_eq!(easter_sunday(2026), d(2026, 4, 5));
        assert_eq!(easter_sunday(2027), d(2027, 3, 28));
        assert_eq!(easter_sunday(2038), d(2038, 4, 25), "the latest possible");
        assert_eq!(easter_sunday(2285), d(2285, 3, 22), "the earliest possible");
    }

    #[test]
    fn moving_holidays_follow_easter_and_midsummer() {
        assert_eq!(named(2025, "Långfredagen"), d(2025, 4, 18));
        assert_eq!(named(2025, "Annandag påsk"), d(2025, 4, 21));
        assert_eq!(named(2025, "Kristi himmelsfärdsdag"), d(2025, 5, 29));
        assert_eq!(named(2026, "Långfredagen"), d(2026, 4, 3));
        assert_eq!(named(2026, "Annandag påsk"), d(2026, 4, 6));
        assert_eq!(named(2026, "Kristi himmelsfärdsdag"), d(2026, 5, 14));
        assert_eq!(named(2024, "Midsommarafton"), d(2024, 6, 21));
        assert_eq!(named(2025, "Midsommarafton"), d(2025, 6, 20));
        assert_eq!(named(2026, "Midsommarafton"), d(2026, 6, 19));
        assert_eq!(named(2027, "Midsommarafton"), d(2027, 6, 25));
        assert_eq!(named(2026, "Alla helgons dag"), d(2026, 10, 31));
        assert_eq!(named(2027, "Alla helgons dag"), d(2027, 11, 6));
    }

    #[test]
    fn the_national_day_closes_only_when_it_is_a_weekday() {
        // 6 June 2025 is a Friday, 2026 a Saturday.
        assert!(!open_by_default(d(2025, 6, 6)));
        assert!(open_by_default(d(2026, 6, 5)), "the Friday before is an ordinary day");
        assert_eq!(d(2026, 6, 6).weekday(), Weekday::Sat);
        // A year where it falls on a weekday: one open day fewer than otherwise.
        let weekdays_2025 = (0..365)
            .filter(|n| !matches!((d(2025, 1, 1) + Duration::days(*n)).weekday(), Weekday::Sat | Weekday::Sun))
            .count() as u32;
        let weekday_holidays_2025 = holidays(2025)
            .iter()
            .filter(|h| !matches!(h.date.weekday(), Weekday::Sat | Weekday::Sun))
            .count() as u32;
        assert_eq!(open_days(2025, &[]), weekdays_2025 - weekday_holidays_2025);
    }

    #[test]
    fn open_days_in_a_year_and_exceptions() {
        // 2026: 261 weekdays; closed on weekdays: 1/1, 6/1, 3/4, 6/4, 1/5, 14/5,
        // 19/6 (midsommarafton), 24/12, 25/12, 31/12 (6/6 and 26/12 are Saturdays).
        assert_eq!(open_days(2026, &[]), 251);
        // Closed for a planning day, open on a Saturday and one evening (still one open day).
        let exceptions = [
            (d(2026, 8, 14), Exception::Closed),
            (d(2026, 9, 12), Exception::Open { evening: false }),
            (d(2026, 9, 15), Exception::Open { evening: true }),
        ];
        assert_eq!(open_days(2026, &exceptions), 251);
        assert!(!is_open(d(2026, 8, 14), Some(Exception::Closed)));
        assert!(is_open(d(2026, 9, 12), Some(Exception::Open { evening: false })));
        assert!(!is_open(d(2026, 9, 13), None), "a Sunday");
        assert!(!is_open(d(2026, 12, 24), None), "julafton");
        assert!(
            is_open(d(2026, 12, 24), Some(Exception::Open { evening: false })),
            "unless the unit opens it"
        );
    }
}
