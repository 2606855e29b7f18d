//! How values are written on screen: Swedish conventions.

use chrono::{DateTime, Utc};
use chrono_tz::Europe::Stockholm;

/// A moment as the centre's wall clock shows it: 2026-03-02 09:15.
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Stockholm).format("%Y-%m-%d %H:%M").to_string()
}

/// The wall-clock time of a moment in Stockholm: 09:15.
pub fn clock_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Stockholm).format("%H:%M").to_string()
}

/// A span within one day, as the centre reads it: 2026-03-02 13:00–15:00.
pub fn time_span(start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (start, end) = (start.with_timezone(&Stockholm), end.with_timezone(&Stockholm));
    format!("{} {}–{}", start.format("%Y-%m-%d"), start.format("%H:%M"), end.format("%H:%M"))
}

/// Hours with a decimal comma, without needless decimals: 4,5 / 10 / "–".
pub fn hours(h: Option<f64>) -> String {
    match h {
        None => "–".to_string(),
        Some(h) if h.fract() == 0.0 => format!("{h:.0}"),
        Some(h) => format!("{h:.2}").trim_end_matches('0').replace('.', ","),
    }
}

/// The months' names, January first.
pub const MONTHS: [&str; 12] = [
    "januari",
    "februari",
    "mars",
    "april",
    "maj",
    "juni",
    "juli",
    "augusti",
    "september",
    "oktober",
    "november",
    "december",
];

/// A month as it is written: "oktober 2026".
pub fn month_name(month: chrono::NaiveDate) -> String {
    use chrono::Datelike;
    format!("{} {}", MONTHS[month.month0() as usize], month.year())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn stockholm_time_and_decimal_comma() {
        assert_eq!(local_time(Utc.with_ymd_and_hms(2026, 7, 1, 7, 5, 0).unwrap()), "2026-07-01 09:05");
        assert_eq!(hours(Some(4.5)), "4,5");
        assert_eq!(hours(Some(10.0)), "10");
        assert_eq!(hours(Some(2.25)), "2,25");
        assert_eq!(hours(None), "–");
        let start = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        assert_eq!(clock_time(start), "13:00");
        assert_eq!(time_span(start, start + chrono::Duration::hours(2)), "2026-03-02 13:00–15:00");
    }
}
