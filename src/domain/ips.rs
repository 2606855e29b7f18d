//! IPS fidelity (issue 19, point 7): the items of the IPS fidelity scale
//! (Individual Placement and Support) that Team ISA's records can answer,
//! with the levels good fidelity asks for.

/// At most this many people per employment specialist (kontaktman in Team ISA).
pub const CASELOAD_MAX: i64 = 20;
/// The first contact with an employer about the person within this many days of the plan's start.
pub const DAYS_TO_EMPLOYER_CONTACT: i64 = 30;
/// At least this many employer contacts per specialist and week.
pub const EMPLOYER_CONTACTS_PER_WEEK: f64 = 6.0;

/// Whole weeks of a period of `days` days (a part week counts as one).
pub fn weeks(days: i64) -> i64 {
    ((days.max(1) + 6) / 7).max(1)
}

/// The median of some day counts (the lower middle of an even number).
pub fn median(mut days: Vec<i64>) -> Option<i64> {
    days.sort_unstable();
    let n = days.len();
    (n > 0).then(|| days[(n - 1) / 2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_round_up_and_a_median_takes_the_middle() {
        assert_eq!(weeks(7), 1);
        assert_eq!(weeks(8), 2);
        assert_eq!(weeks(0), 1);
        assert_eq!(median(vec![40, 10, 25]), Some(25));
        assert_eq!(median(vec![40, 10, 25, 30]), Some(25));
        assert_eq!(median(Vec::new()), None);
    }
}
