//! Form input: an extractor whose failures render the Swedish 400 page, and
//! per-field error messages for re-rendering a form with what the user typed.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Like `axum_extra::extract::Form` (repeated keys become a `Vec`), but a body
/// that cannot be read gives our 400 page rather than a plain-text rejection,
/// and what was typed is first made safe to store (`cleaned`): bytes that are
/// not UTF-8 and control characters never reach the database, so a pasted NUL
/// costs the user that character, not the whole form.
pub struct FormData<T>(pub T);

impl<T, S> FromRequest<S> for FormData<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(AppError::BadRequest("not a form"));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::BadRequest("unreadable form"))?;
        read(&body).map(FormData)
    }
}

/// Like axum's `Query`, with the same cleaning as `FormData` and our 400 page.
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        read(parts.uri.query().unwrap_or("").as_bytes()).map(Query)
    }
}

/// A form's fields in the order sent, decoded and cleaned as `FormData` does.
pub fn pairs(encoded: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(encoded)
        .map(|(key, value)| (cleaned(&key), cleaned(&value)))
        .collect()
}

fn read<T: DeserializeOwned>(encoded: &[u8]) -> Result<T, AppError> {
    let clean = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs(encoded))
        .finish();
    serde_html_form::from_str(&clean).map_err(|err| {
        tracing::debug!(%err, "unreadable form");
        AppError::BadRequest("unreadable form")
    })
}

/// Typed text without what cannot or should not be stored: control
/// characters other than tab and line breaks (PostgreSQL refuses NUL), and
/// the bidirectional overrides that can make a name or note read as another.
/// Bytes that are not UTF-8 were already replaced by U+FFFD when decoded.
pub fn cleaned(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, '\t' | '\n' | '\r') || !(c.is_control() || is_bidi_override(*c)))
        .collect()
}

fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Messages keyed by field name, in the order the fields appear.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_empty() {
            self.0.push((field, message.into()));
        }
    }

    /// The message for `field`, or "" when it has none (templates test `is_empty`).
    pub fn get(&self, field: &str) -> &str {
        self.0.iter().find(|(f, _)| *f == field).map(|(_, m)| m.as_str()).unwrap_or("")
    }

    pub fn has(&self, field: &str) -> bool {
        !self.get(field).is_empty()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, String)> {
        self.0.iter()
    }
}

/// The answer of a Ja/Nej pair of radio buttons (`yes`/`no`); `None` when neither.
pub fn yes_no(value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

/// Trimmed text that must not be empty and has a length limit; the error is
/// the Swedish message for the field.
pub fn required_text(value: &str, what: &str, max_chars: usize) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        Err(format!("Fyll i {what}."))
    } else if value.chars().count() > max_chars {
        Err(format!("Högst {max_chars} tecken."))
    } else {
        Ok(value.to_string())
    }
}

/// A plausible e-mail address, normalised to lower case. Deliberately loose:
/// the real check is that the person can sign in with it.
pub fn email(value: &str) -> Result<String, &'static str> {
    let value = value.trim().to_lowercase();
    let valid = value.len() <= 254
        && !value.contains(char::is_whitespace)
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !domain.contains('@')
        });
    if value.is_empty() {
        Err("Fyll i e-postadress.")
    } else if valid {
        Ok(value)
    } else {
        Err("Skriv e-postadressen som namn@exempel.se.")
    }
}

/// An optional e-mail address: empty, or a plausible one (`email`).
pub fn optional_email(value: &str) -> Result<String, &'static str> {
    if value.trim().is_empty() { Ok(String::new()) } else { email(value) }
}

/// An optional telephone number as people write them (070-123 45 67,
/// +46 13 20 60 00, (013) 20 60 00): digits with spaces, dashes, brackets and
/// a leading +; 6 to 15 digits, at most 40 characters in all.
pub fn optional_phone(value: &str) -> Result<String, &'static str> {
    let value = value.trim();
    let digits = value.chars().filter(char::is_ascii_digit).count();
    let allowed = value
        .char_indices()
        .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')') || (c == '+' && i == 0));
    if value.is_empty() {
        Ok(String::new())
    } else if allowed && (6..=15).contains(&digits) && value.chars().count() <= 40 {
        Ok(value.to_string())
    } else {
        Err("Skriv telefonnumret med siffror, t.ex. 070-123 45 67.")
    }
}

/// An optional date typed as 2026-03-02 (what `<input type="date">` sends)
/// or 20260302. Empty is `None`; anything else is the Swedish message.
pub fn optional_date(value: &str) -> Result<Option<chrono::NaiveDate>, &'static str> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| chrono::NaiveDate::parse_from_str(value, "%Y%m%d"))
        .map(Some)
        .map_err(|_| "Skriv datumet som ÅÅÅÅ-MM-DD.")
}

/// A date that must be given.
pub fn required_date(value: &str) -> Result<chrono::NaiveDate, &'static str> {
    optional_date(value)?.ok_or("Fyll i ett datum (ÅÅÅÅ-MM-DD).")
}

/// Optional text with a length limit, trimmed.
pub fn optional_text(value: &str, max_chars: usize) -> Result<String, String> {
    let value = value.trim();
    if value.chars().count() > max_chars {
        Err(format!("Högst {max_chars} tecken."))
    } else {
        Ok(value.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_as_people_write_them() {
        for ok in ["070-123 45 67", "+46 13 20 60 00", "(013) 20 60 00", "0701234567", ""] {
            assert_eq!(optional_phone(ok).map(|_| ()), Ok(()), "{ok}");
        }
        for bad in ["inte-ett-nummer", "12345", "070+1234567", "0701234567890123", "070 123 45 67 ank 5"] {
            assert!(optional_phone(bad).is_err(), "{bad}");
        }
        assert_eq!(optional_email(""), Ok(String::new()));
        assert!(optional_email("inte-en-epost").is_err());
    }

    #[test]
    fn cleaned_text_keeps_line_breaks_and_tabs_and_drops_what_cannot_be_stored() {
        assert_eq!(cleaned("a\0b\u{7}c\u{1b}[31m"), "abc[31m");
        assert_eq!(cleaned("rad ett\r\nrad två\tflik"), "rad ett\r\nrad två\tflik");
        assert_eq!(cleaned("Anna \u{202E}nimda\u{2066}x\u{2069}"), "Anna nimdax");
        assert_eq!(cleaned("Kaffe ☕ 👩‍👩‍👧 Åsa Ørn"), "Kaffe ☕ 👩‍👩‍👧 Åsa Ørn");
        assert_eq!(cleaned("\u{85}\u{9f}"), "", "C1 controls too");
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters_and_the_rest_is_read() {
        #[derive(serde::Deserialize)]
        struct F {
            a: String,
            b: String,
        }
        let f: F = read(b"a=Ber%FFit&b=Berg%00").unwrap();
        assert_eq!(f.a, "Ber\u{FFFD}it");
        assert_eq!(f.b, "Berg");
    }

    #[test]
    fn dates_in_two_spellings() {
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(optional_date("2026-03-02"), Ok(Some(d)));
        assert_eq!(optional_date(" 20260302 "), Ok(Some(d)));
        assert_eq!(optional_date(""), Ok(None));
        assert!(optional_date("2026-02-30").is_err());
        assert!(required_date("").is_err());
    }

    #[test]
    fn email_is_normalised_and_checked() {
        assert_eq!(email("  Anna.Berg@Linkoping.SE ").unwrap(), "anna.berg@linkoping.se");
        assert!(email("").is_err());
        assert!(email("anna").is_err());
        assert!(email("anna@localhost").is_err());
        assert!(email("an na@x.se").is_err());
        assert!(email("@x.se").is_err());
        assert!(email("a@b@x.se").is_err());
    }

    #[test]
    fn required_text_trims_and_limits() {
        assert_eq!(required_text("  Lotsen  ", "namn", 10).unwrap(), "Lotsen");
        assert_eq!(required_text("   ", "namn", 10).unwrap_err(), "Fyll i namn.");
        assert!(required_text("ååååååååååå", "namn", 10).is_err());
        assert!(required_text("åååååååååå", "namn", 10).is_ok());
    }

    #[test]
    fn first_message_per_field_wins() {
        let mut errors = FieldErrors::default();
        errors.add("email", "först");
        errors.add("email", "sedan");
        assert_eq!(errors.get("email"), "först");
        assert_eq!(errors.get("name"), "");
        assert!(errors.has("email"));
    }
}
