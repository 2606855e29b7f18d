//! The plan rules from DOMAIN.md, free of the web and the database, each
//! tested at its boundaries. Dates are calendar dates in Europe/Stockholm,
//! passed in by the caller (never read from the system clock here).

use super::ages::{YOUNG_ADULTS, age_on};
use chrono::{Months, NaiveDate};

coded!(
    /// Where a plan is in its life: an utkast until it is set (fastställd) and
    /// active, then ended with an utfall.
    PlanStatus {
        Draft = "draft" => "Utkast",
        Active = "active" => "Aktiv",
        Ended = "ended" => "Avslutad",
    }
);

/// The two kinds of förstegsträning (Team ISA is förstegsträning outside the centre).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Programme {
    FirstStep,
    TeamIsa,
}

impl Programme {
    pub const ALL: [Programme; 2] = [Programme::FirstStep, Programme::TeamIsa];

    pub fn code(self) -> &'static str {
        match self {
            Programme::FirstStep => "first_step",
            Programme::TeamIsa => "team_isa",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            Programme::FirstStep => "Förstegsträning",
            Programme::TeamIsa => "Team ISA",
        }
    }

    /// DOMAIN.md: follow-up every 3 months (förstegsträning) or 6 weeks (Team ISA).
    pub fn follow_up_interval(self) -> Interval {
        match self {
            Programme::FirstStep => Interval::Months(3),
            Programme::TeamIsa => Interval::Weeks(6),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    Weeks(u32),
    Months(u32),
}

impl Interval {
    /// Calendar-correct: 3 months after 30 November is the last day of February.
    pub fn after(self, date: NaiveDate) -> NaiveDate {
        match self {
            Interval::Weeks(w) => date + chrono::Duration::weeks(i64::from(w)),
            // chrono clamps to the month's last day, which is the rule we want.
            Interval::Months(m) => date.checked_add_months(Months::new(m)).unwrap_or(NaiveDate::MAX),
        }
    }
}

/// Hours per week, held in hundredths so that "4,5" is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WeeklyHours(u32);

impl WeeklyHours {
    /// DOMAIN.md: at least 4 h a week per person.
    pub const MIN: WeeklyHours = WeeklyHours(400);
    /// One full-time place.
    pub const MAX: WeeklyHours = WeeklyHours(3500);

    /// Parses Swedish input ("4,5", "4.5", "10") and checks 4 ≤ h ≤ 35; the
    /// error is the Swedish message for the field.
    pub fn parse(input: &str) -> Result<WeeklyHours, &'static str> {
        let text = input.trim().replace(',', ".");
        if text.is_empty() {
            return Err("Fyll i timmar per vecka.");
        }
        let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
        let valid = !whole.is_empty()
            && whole.len() <= 3
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.len() <= 2
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !valid {
            return Err("Skriv timmar per vecka som ett tal, t.ex. 4,5.");
        }
        let hundredths = whole.parse::<u32>().unwrap_or(0) * 100 + format!("{fraction:0<2}").parse::<u32>().unwrap_or(0);
        let hours = WeeklyHours(hundredths);
        if hours < Self::MIN {
            Err("Minst 4 timmar per vecka.")
        } else if hours > Self::MAX {
            Err("Högst 35 timmar per vecka (en heltidsplats).")
        } else {
            Ok(hours)
        }
    }

    pub fn from_hundredths(h: u32) -> Self {
        WeeklyHours(h)
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// DOMAIN.md: Team ISA is for people aged 18–35, on the plan's start date.
pub fn team_isa_age_allowed(birth: NaiveDate, start: NaiveDate) -> Result<(), &'static str> {
    match age_on(birth, start) {
        age if YOUNG_ADULTS.contains(&age) => Ok(()),
        age if age < *YOUNG_ADULTS.start() => Err("Team ISA är för personer 18–35 år. Personen är under 18 på startdagen."),
        _ => Err("Team ISA är för personer 18–35 år. Personen är över 35 på startdagen."),
    }
}

/// When the first follow-up is due: one interval after the plan was set (fastställd);
/// each next one interval after the last follow-up held.
pub fn next_follow_up_due(programme: Programme, set_on: NaiveDate, last_held: Option<NaiveDate>) -> NaiveDate {
    programme.follow_up_interval().after(last_held.unwrap_or(set_on))
}

/// "On time" means held on or before the due date it answers.
pub fn held_on_time(held_on: NaiveDate, due: NaiveDate) -> bool {
    held_on <= due
}

/// DOMAIN.md: every plan is renewed (reviewed and set again) at least once a year.
pub fn renewal_due(last_set_or_renewed: NaiveDate) -> NaiveDate {
    Interval::Months(12).after(last_set_or_renewed)
}

/// A plan's days, both ends included (the planned end while it runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// The two-year limit on a person's förstegsträning, both programmes together.
#[derive(Debug, PartialEq, Eq)]
pub enum TwoYearCheck {
    Allowed,
    /// Allowed, but 22 months or more are used: time to plan what comes next.
    Warning {
        days_left: i64,
    },
    Refused {
        days_over: i64,
    },
}

/// The last allowed day for someone who started on `first_start`, when the
/// training runs without a break: first start + 2 years − 1 day.
pub fn last_allowed_day(first_start: NaiveDate) -> NaiveDate {
    Interval::Months(24).after(first_start).pred_opt().unwrap_or(first_start)
}

/// Days in the union of the periods (a day in two plans counts once).
pub fn days_used(periods: &[Period]) -> i64 {
    let mut sorted: Vec<Period> = periods.iter().copied().filter(|p| p.end >= p.start).collect();
    sorted.sort_by_key(|p| p.start);
    let mut total = 0;
    let mut current: Option<Period> = None;
    for p in sorted {
        current = match current {
            Some(c) if p.start <= c.end.succ_opt().unwrap_or(c.end) => Some(Period {
                start: c.start,
                end: c.end.max(p.end),
            }),
            Some(c) => {
                total += (c.end - c.start).num_days() + 1;
                Some(p)
            }
            None => Some(p),
        };
    }
    if let Some(c) = current {
        total += (c.end - c.start).num_days() + 1;
    }
    total
}

/// Checks all of a person's plans — earlier ones and the one being saved —
/// against the two-year limit. The allowance is the number of days from the
/// first start to its last allowed day; the warning starts at 22 months.
pub fn check_two_years(periods: &[Period]) -> TwoYearCheck {
    let Some(first_start) = periods.iter().map(|p| p.start).min() else {
        return TwoYearCheck::Allowed;
    };
    let allowance = (last_allowed_day(first_start) - first_start).num_days() + 1;
    let warn_from = (Interval::Months(22).after(first_start) - first_start).num_days();
    let used = days_used(periods);
    if used > allowance {
        TwoYearCheck::Refused {
            days_over: used - allowance,
        }
    } else if used >= warn_from {
        TwoYearCheck::Warning {
            days_left: allowance - used,
        }
    } else {
        TwoYearCheck::Allowed
    }
}

/// When a plan starting on `start` reaches the warning and the last allowed
/// day, given the days the person used in earlier plans (`earlier`, counted
/// only before `start`). Stored on the plan so the background task can find
/// who nears the limit through an index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LimitDates {
    pub warning_on: NaiveDate,
    pub last_day: NaiveDate,
}

pub fn limit_dates(earlier: &[Period], start: NaiveDate) -> LimitDates {
    let before_start: Vec<Period> = earlier
        .iter()
        .filter(|p| p.start < start)
        .map(|p| Period {
            start: p.start,
            end: p.end.min(start.pred_opt().unwrap_or(start)),
        })
        .collect();
    let first_start = before_start.iter().map(|p| p.start).min().unwrap_or(start);
    let allowance = (last_allowed_day(first_start) - first_start).num_days() + 1;
    let warn_from = (Interval::Months(22).after(first_start) - first_start).num_days();
    let used = days_used(&before_start);
    LimitDates {
        // The day on which the used days reach 22 months' worth.
        warning_on: start + chrono::Duration::days((warn_from - used - 1).max(0)),
        last_day: start + chrono::Duration::days((allowance - used - 1).max(-1)),
    }
}

/// Follow-ups and renewals due within this many days are due soon: the
/// reminder round raises a påminnelse for them, and the overview lists them.
pub const DUE_SOON_DAYS: i64 = 14;

/// A follow-up or renewal overdue by more than this many days reaches the
/// unit's managers (escalation; a setting per unit, `units.escalation_days`).
pub const DEFAULT_ESCALATION_DAYS: i32 = 14;

/// A unit's capacity for one programme (a setting; DOMAIN.md's figures are the defaults).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    /// Förstegsträning: hours a week shared by everyone at the centre (default 105 = 3 × 35).
    Hours(WeeklyHours),
    /// Team ISA: people at the same time (default 6).
    Places(u32),
}

/// DOMAIN.md: 105 hours a week of förstegsträning per unit (3 × 35).
pub const DEFAULT_FIRST_STEP_HOURS: WeeklyHours = WeeklyHours(105 * 100);
/// DOMAIN.md: 6 Team ISA places per unit.
pub const DEFAULT_TEAM_ISA_PLACES: u32 = 6;

impl Capacity {
    pub const DEFAULT_FIRST_STEP: Capacity = Capacity::Hours(DEFAULT_FIRST_STEP_HOURS);
    pub const DEFAULT_TEAM_ISA: Capacity = Capacity::Places(DEFAULT_TEAM_ISA_PLACES);
}

/// What is in use now, in the same terms as the capacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InUse {
    pub hours: WeeklyHours,
    pub places: u32,
}

/// Whether one more plan of `hours` fits; if not, it goes to the waiting list.
pub fn fits(capacity: Capacity, in_use: InUse, hours: WeeklyHours) -> bool {
    match capacity {
        Capacity::Hours(limit) => in_use.hours.hundredths() + hours.hundredths() <= limit.hundredths(),
        Capacity::Places(limit) => in_use.places < limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn weekly_hours_at_their_boundaries() {
        assert_eq!(WeeklyHours::parse("3").unwrap_err(), "Minst 4 timmar per vecka.");
        assert_eq!(WeeklyHours::parse("3,99").unwrap_err(), "Minst 4 timmar per vecka.");
        assert_eq!(WeeklyHours::parse("4").unwrap().hundredths(), 400);
        assert_eq!(WeeklyHours::parse("4,5").unwrap().hundredths(), 450);
        assert_eq!(WeeklyHours::parse(" 4.5 ").unwrap().hundredths(), 450);
        assert_eq!(WeeklyHours::parse("35").unwrap().hundredths(), 3500);
        assert_eq!(
            WeeklyHours::parse("35,01").unwrap_err(),
            "Högst 35 timmar per vecka (en heltidsplats)."
        );
        assert_eq!(
            WeeklyHours::parse("36").unwrap_err(),
            "Högst 35 timmar per vecka (en heltidsplats)."
        );
        for bad in ["", "fyra", "4,555", "-4", "4,5,5", ",5"] {
            assert!(WeeklyHours::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn team_isa_ages_18_to_35_on_the_start_date() {
        let start = d(2026, 3, 2);
        assert!(team_isa_age_allowed(d(2008, 3, 3), start).is_err(), "17, turns 18 the day after");
        assert!(team_isa_age_allowed(d(2008, 3, 2), start).is_ok(), "18 on the day");
        assert!(team_isa_age_allowed(d(1990, 3, 3), start).is_ok(), "35, turns 36 the day after");
        assert!(team_isa_age_allowed(d(1990, 3, 2), start).is_err(), "36 on the day");
    }

    #[test]
    fn follow_ups_are_calendar_correct() {
        // Förstegsträning: 3 months; month ends clamp, leap years count.
        assert_eq!(next_follow_up_due(Programme::FirstStep, d(2025, 11, 30), None), d(2026, 2, 28));
        assert_eq!(next_follow_up_due(Programme::FirstStep, d(2023, 11, 30), None), d(2024, 2, 29));
        assert_eq!(next_follow_up_due(Programme::FirstStep, d(2026, 1, 31), None), d(2026, 4, 30));
        // The next one counts from the last follow-up held, not from the due date.
        assert_eq!(
            next_follow_up_due(Programme::FirstStep, d(2026, 1, 15), Some(d(2026, 4, 20))),
            d(2026, 7, 20)
        );
        // Team ISA: 6 weeks.
        assert_eq!(next_follow_up_due(Programme::TeamIsa, d(2026, 3, 2), None), d(2026, 4, 13));
        assert_eq!(
            next_follow_up_due(Programme::TeamIsa, d(2026, 3, 2), Some(d(2026, 4, 10))),
            d(2026, 5, 22)
        );
        assert_eq!(
            next_follow_up_due(Programme::TeamIsa, d(2024, 2, 1), None),
            d(2024, 3, 14),
            "across a leap day"
        );
    }

    #[test]
    fn on_time_means_on_or_before_the_due_date() {
        let due = d(2026, 2, 28);
        assert!(held_on_time(d(2026, 2, 27), due));
        assert!(held_on_time(due, due));
        assert!(!held_on_time(d(2026, 3, 1), due));
    }

    #[test]
    fn renewal_is_due_a_year_after_the_plan_was_set() {
        assert_eq!(renewal_due(d(2026, 3, 2)), d(2027, 3, 2));
        assert_eq!(renewal_due(d(2024, 2, 29)), d(2025, 2, 28));
    }

    #[test]
    fn two_years_end_the_day_before_the_second_anniversary() {
        assert_eq!(last_allowed_day(d(2026, 3, 2)), d(2028, 3, 1));
        assert_eq!(last_allowed_day(d(2024, 1, 1)), d(2025, 12, 31));
        let start = d(2026, 3, 2);
        assert_eq!(
            check_two_years(&[Period { start, end: d(2028, 3, 1) }]),
            TwoYearCheck::Warning { days_left: 0 }
        );
        assert_eq!(
            check_two_years(&[Period { start, end: d(2028, 3, 2) }]),
            TwoYearCheck::Refused { days_over: 1 }
        );
    }

    #[test]
    fn two_years_are_summed_over_both_programmes() {
        // A year at the centre, a break, then Team ISA: the break does not count.
        let first = Period {
            start: d(2024, 1, 1),
            end: d(2024, 12, 31),
        }; // 366 days (leap year)
        let allowance = (last_allowed_day(d(2024, 1, 1)) - d(2024, 1, 1)).num_days() + 1; // 731
        assert_eq!(allowance, 731);
        let team_isa_start = d(2025, 6, 1);
        let last_ok = team_isa_start + chrono::Duration::days(allowance - 366 - 1);
        let ok = Period {
            start: team_isa_start,
            end: last_ok,
        };
        assert!(matches!(check_two_years(&[first, ok]), TwoYearCheck::Warning { days_left: 0 }));
        let one_more = Period {
            start: team_isa_start,
            end: last_ok + chrono::Duration::days(1),
        };
        assert_eq!(check_two_years(&[first, one_more]), TwoYearCheck::Refused { days_over: 1 });
        // Overlapping plans count each day once.
        assert_eq!(
            days_used(&[
                Period {
                    start: d(2026, 1, 1),
                    end: d(2026, 1, 10)
                },
                Period {
                    start: d(2026, 1, 5),
                    end: d(2026, 1, 12)
                }
            ]),
            12
        );
        assert_eq!(
            days_used(&[
                Period {
                    start: d(2026, 1, 1),
                    end: d(2026, 1, 10)
                },
                Period {
                    start: d(2026, 1, 11),
                    end: d(2026, 1, 12)
                }
            ]),
            12
        );
    }

    #[test]
    fn limit_dates_agree_with_the_two_year_check() {
        // Without earlier plans the last day is start + 2 years - 1 day.
        let start = d(2026, 3, 2);
        let alone = limit_dates(&[], start);
        assert_eq!(alone.last_day, d(2028, 3, 1));
        assert!(matches!(
            check_two_years(&[Period {
                start,
                end: alone.warning_on
            }]),
            TwoYearCheck::Warning { .. }
        ));
        assert_eq!(
            check_two_years(&[Period {
                start,
                end: alone.warning_on - chrono::Duration::days(1)
            }]),
            TwoYearCheck::Allowed
        );
        // A year used earlier moves the last day of a later plan forward by the break.
        let first = Period {
            start: d(2024, 1, 1),
            end: d(2024, 12, 31),
        };
        let later = limit_dates(&[first], d(2025, 6, 1));
        assert!(matches!(
            check_two_years(&[
                first,
                Period {
                    start: d(2025, 6, 1),
                    end: later.last_day
                }
            ]),
            TwoYearCheck::Warning { days_left: 0 }
        ));
        assert_eq!(
            check_two_years(&[
                first,
                Period {
                    start: d(2025, 6, 1),
                    end: later.last_day + chrono::Duration::days(1)
                }
            ]),
            TwoYearCheck::Refused { days_over: 1 }
        );
    }

    #[test]
    fn the_warning_starts_at_22_months() {
        let start = d(2026, 3, 2);
        let warn_day = Interval::Months(22).after(start); // 2028-01-02
        let before = Period {
            start,
            end: warn_day - chrono::Duration::days(2),
        };
        let at = Period {
            start,
            end: warn_day - chrono::Duration::days(1),
        };
        assert_eq!(check_two_years(&[before]), TwoYearCheck::Allowed);
        assert!(matches!(check_two_years(&[at]), TwoYearCheck::Warning { .. }));
    }

    #[test]
    fn capacity_by_places_and_by_shared_hours() {
        let none = InUse {
            hours: WeeklyHours::from_hundredths(0),
            places: 0,
        };
        assert!(
            fits(Capacity::DEFAULT_TEAM_ISA, InUse { places: 5, ..none }, WeeklyHours::MIN),
            "6th place"
        );
        assert!(
            !fits(Capacity::DEFAULT_TEAM_ISA, InUse { places: 6, ..none }, WeeklyHours::MIN),
            "7th is queued"
        );
        let used = InUse {
            hours: WeeklyHours::from_hundredths(101 * 100),
            places: 9,
        };
        assert!(
            fits(Capacity::DEFAULT_FIRST_STEP, used, WeeklyHours::parse("4").unwrap()),
            "105 h reached"
        );
        assert!(
            !fits(Capacity::DEFAULT_FIRST_STEP, used, WeeklyHours::parse("4,5").unwrap()),
            "105,5 h is over"
        );
        assert!(
            fits(
                Capacity::Hours(WeeklyHours::from_hundredths(110 * 100)),
                used,
                WeeklyHours::parse("4,5").unwrap()
            ),
            "a changed setting"
        );
    }
}
