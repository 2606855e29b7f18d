//! Swedish identity numbers: personnummer and samordningsnummer (validated:
//! date and Luhn check digit), reservnummer (kept as given), or none.

use chrono::{Datelike, NaiveDate};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentityKind {
    Personnummer,
    Samordningsnummer,
    Reservnummer,
    None,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 4] = [
        IdentityKind::Personnummer,
        IdentityKind::Samordningsnummer,
        IdentityKind::Reservnummer,
        IdentityKind::None,
    ];

    pub fn code(self) -> &'static str {
        match self {
            IdentityKind::Personnummer => "personnummer",
            IdentityKind::Samordningsnummer => "samordningsnummer",
            IdentityKind::Reservnummer => "reservnummer",
            IdentityKind::None => "none",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    pub fn label(self) -> &'static str {
        match self {
            IdentityKind::Personnummer => "Personnummer",
            IdentityKind::Samordningsnummer => "Samordningsnummer",
            IdentityKind::Reservnummer => "Reservnummer",
            IdentityKind::None => "Inget nummer",
        }
    }

    /// Whether the number is checked and gives the birth date.
    pub fn is_validated(self) -> bool {
        matches!(self, IdentityKind::Personnummer | IdentityKind::Samordningsnummer)
    }
}

/// A checked personnummer or samordningsnummer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedNumber {
    /// YYYYMMDDNNNC, as stored.
    pub digits: String,
    pub birth_date: NaiveDate,
}

/// Parses and checks a personnummer or samordningsnummer: 10 or 12 digits,
/// optionally with `-` (or `+` for people aged 100 or more) before the last
/// four; a real date (samordningsnummer: day + 60); a valid Luhn check digit.
/// `today` decides the century of a 10-digit number. The error is the
/// Swedish message for the field.
pub fn check(kind: IdentityKind, input: &str, today: NaiveDate) -> Result<CheckedNumber, &'static str> {
    let compact: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return Err("Fyll i numret.");
    }
    let (body, separator) = match compact.char_indices().find(|(_, c)| *c == '-' || *c == '+') {
        Some((at, sep)) => {
            let (date_part, rest) = compact.split_at(at);
            let tail = &rest[1..];
            if tail.len() != 4 || !(date_part.len() == 6 || date_part.len() == 8) {
                return Err("Skriv numret som ÅÅMMDD-NNNN eller ÅÅÅÅMMDD-NNNN.");
            }
            (format!("{date_part}{tail}"), Some(sep))
        }
        None => (compact.clone(), None),
    };
    if !body.bytes().all(|b| b.is_ascii_digit()) || !(body.len() == 10 || body.len() == 12) {
        return Err("Numret ska ha 10 eller 12 siffror.");
    }

    let (year, rest) = if body.len() == 12 {
        if separator == Some('+') {
            return Err("Plustecken används bara med tiosiffrigt nummer.");
        }
        (body[..4].parse::<i32>().map_err(|_| "Ogiltigt år.")?, &body[4..])
    } else {
        let yy = body[..2].parse::<i32>().map_err(|_| "Ogiltigt år.")?;
        // The latest year ending in yy that is not after this year; a '+'
        // says the person has turned 100, so a century earlier.
        let mut year = today.year() - (today.year() - yy).rem_euclid(100);
        if separator == Some('+') {
            year -= 100;
        }
        (year, &body[2..])
    };
    let month: u32 = rest[..2].parse().map_err(|_| "Ogiltig månad.")?;
    let mut day: u32 = rest[2..4].parse().map_err(|_| "Ogiltig dag.")?;
    match kind {
        IdentityKind::Samordningsnummer => {
            if day <= 60 {
                return Err("I ett samordningsnummer är dagen ökad med 60 (61–91).");
            }
            day -= 60;
        }
        _ => {
            if day > 60 {
                return Err("Dagen är större än 60 – det ser ut som ett samordningsnummer.");
            }
        }
    }
    let mut birth_date = NaiveDate::from_ymd_opt(year, month, day).ok_or("Datumet i numret finns inte.")?;
    // A ten-digit number of this year's two digits but a later date than
    // today belongs to the century before (born 1926, not 2026).
    if body.len() == 10 && birth_date > today {
        birth_date = NaiveDate::from_ymd_opt(year - 100, month, day).ok_or("Datumet i numret finns inte.")?;
    }
    if birth_date > today {
        return Err("Födelsedatumet i numret ligger i framtiden.");
    }
    let ten = &body[body.len() - 10..];
    if !luhn_valid(ten) {
        return Err("Kontrollsiffran stämmer inte. Kontrollera numret.");
    }
    let digits = format!("{:04}{}", birth_date.year(), &body[body.len() - 8..]);
    Ok(CheckedNumber { digits, birth_date })
}

/// The Luhn (mod 10) check over the ten digits YYMMDDNNNC.
fn luhn_valid(ten: &str) -> bool {
    let sum: u32 = ten
        .bytes()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The legal gender a personnummer encodes (odd second-to-last digit: man),
/// offered as a suggestion only; `None` for anything but 12 digits.
pub fn suggested_gender(digits: &str) -> Option<super::model::Gender> {
    let digit = digits
        .as_bytes()
        .get(10)
        .filter(|_| digits.len() == 12 && digits.bytes().all(|b| b.is_ascii_digit()))?;
    Some(if (digit - b'0') % 2 == 1 {
        super::model::Gender::Man
    } else {
        super::model::Gender::Woman
    })
}

/// As shown in lists: the birth part only, YYMMDD-XXXX.
pub fn masked(kind: &str, number: Option<&str>) -> String {
    match (IdentityKind::parse(kind), number) {
        (Some(k), Some(n)) if k.is_validated() && n.len() == 12 => format!("{}-XXXX", &n[2..8]),
        (Some(IdentityKind::Reservnummer), Some(_)) => "reservnummer".to_string(),
        _ => "–".to_string(),
    }
}

/// As shown on the personakt: YYYYMMDD-NNNN.
pub fn formatted(kind: &str, number: Option<&str>) -> String {
    match (IdentityKind::parse(kind), number) {
        (Some(k), Some(n)) if k.is_validated() && n.len() == 12 => format!("{}-{}", &n[..8], &n[8..]),
        (_, Some(n)) => n.to_string(),
        _ => "–".to_string(),
    }
}

pub use crate::domain::ages::age_on;

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
    }

    fn pnr(input: &str) -> Result<CheckedNumber, &'static str> {
        check(IdentityKind::Personnummer, input, today())
    }

    #[test]
    fn valid_numbers_in_every_format() {
        let cases = [
            ("640823-3234", "196408233234", (1964, 8, 23)),
            ("6408233234", "196408233234", (1964, 8, 23)),
            ("19640823-3234", "196408233234", (1964, 8, 23)),
            ("196408233234", "196408233234", (1964, 8, 23)),
            (" 800101-8129 ", "198001018129", (1980, 1, 1)),
        ];
        for (input, digits, (y, m, d)) in cases {
            let checked = pnr(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(checked.digits, digits, "{input}");
            assert_eq!(checked.birth_date, NaiveDate::from_ymd_opt(y, m, d).unwrap(), "{input}");
        }
    }

    #[test]
    fn samordningsnummer_has_day_plus_60() {
        let checked = check(IdentityKind::Samordningsnummer, "701063-2391", today()).unwrap();
        assert_eq!(checked.digits, "197010632391");
        assert_eq!(checked.birth_date, NaiveDate::from_ymd_opt(1970, 10, 3).unwrap());
        // As a personnummer it is refused, with a hint.
        assert_eq!(
            pnr("701063-2391").unwrap_err(),
            "Dagen är större än 60 – det ser ut som ett samordningsnummer."
        );
        // And a personnummer is not a samordningsnummer.
        assert!(check(IdentityKind::Samordningsnummer, "640823-3234", today()).is_err());
    }

    #[test]
    fn a_changed_digit_breaks_the_check_digit() {
        for bad in ["640823-3235", "640823-3244", "800101-8128", "810101-8129"] {
            assert_eq!(pnr(bad).unwrap_err(), "Kontrollsiffran stämmer inte. Kontrollera numret.", "{bad}");
        }
        assert!(check(IdentityKind::Samordningsnummer, "701063-2392", today()).is_err());
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(pnr("640230-3234").unwrap_err(), "Datumet i numret finns inte.");
        assert_eq!(pnr("641323-3234").unwrap_err(), "Datumet i numret finns inte.");
        assert_eq!(pnr("20300101-1234").unwrap_err(), "Födelsedatumet i numret ligger i framtiden.");
    }

    #[test]
    fn plus_means_a_hundred_years_or_more() {
        // 1926-01-01 with a valid check digit: computed to pass Luhn.
        let number = with_check_digit("260101234");
        let young = pnr(&format!("260101-{}", &number[6..])).unwrap();
        assert_eq!(young.birth_date.year(), 2026, "a - means born within the last 100 years");
        let old = pnr(&format!("260101+{}", &number[6..])).unwrap();
        assert_eq!(old.birth_date, NaiveDate::from_ymd_opt(1926, 1, 1).unwrap());
        assert_eq!(old.digits, format!("19{number}"));
        // The century of a ten-digit number follows today's date.
        assert_eq!(pnr("6408233234").unwrap().birth_date.year(), 1964);
        // This year's digits with a date later than today: a century earlier.
        let later = with_check_digit("261201234");
        let checked = pnr(&format!("261201-{}", &later[6..])).unwrap();
        assert_eq!(checked.birth_date, NaiveDate::from_ymd_opt(1926, 12, 1).unwrap());
        assert!(checked.digits.starts_with("1926"));
    }

    #[test]
    fn malformed_input_is_explained() {
        assert_eq!(pnr("").unwrap_err(), "Fyll i numret.");
        assert_eq!(pnr("64082-33234").unwrap_err(), "Skriv numret som ÅÅMMDD-NNNN eller ÅÅÅÅMMDD-NNNN.");
        assert_eq!(pnr("640823323").unwrap_err(), "Numret ska ha 10 eller 12 siffror.");
        assert_eq!(pnr("64082a3234").unwrap_err(), "Numret ska ha 10 eller 12 siffror.");
        assert_eq!(pnr("19640823+3234").unwrap_err(), "Plustecken används bara med tiosiffrigt nummer.");
    }

    #[test]
    fn the_number_suggests_a_gender() {
        use super::super::model::Gender;
        assert_eq!(suggested_gender("196408233234"), Some(Gender::Man));
        assert_eq!(suggested_gender("198001018129"), Some(Gender::Woman));
        assert_eq!(suggested_gender("RES-1"), None);
    }

    #[test]
    fn lists_show_only_the_birth_part() {
        assert_eq!(masked("personnummer", Some("196408233234")), "640823-XXXX");
        assert_eq!(masked("none", None), "–");
        assert_eq!(formatted("personnummer", Some("196408233234")), "19640823-3234");
    }

    #[test]
    fn age_counts_whole_years() {
        let birth = NaiveDate::from_ymd_opt(2008, 11, 23).unwrap();
        assert_eq!(age_on(birth, today()), 17);
        assert_eq!(age_on(birth, NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()), 18);
    }

    /// Appends the Luhn check digit to nine digits.
    fn with_check_digit(nine: &str) -> String {
        (0..10).map(|c| format!("{nine}{c}")).find(|ten| luhn_valid(ten)).unwrap()
    }
}
