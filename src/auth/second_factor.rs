//! The second factor for password accounts: a time-based code from an
//! authenticator app (TOTP, RFC 6238: SHA-1, 6 digits, 30-second steps, one
//! step of skew), each step accepted once, and ten recovery codes for a lost
//! phone, stored hashed and each used once. Required for administrators and
//! managers when `LOTSEN_REQUIRE_TOTP` is on (the default).

use crate::auth::Role;
use crate::ids::UserId;
use base64::Engine;
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use totp_rs::{Algorithm, Secret, TOTP};

/// The name the authenticator app shows the code under.
const ISSUER: &str = "Lotsen";
/// Recovery codes handed out at a time.
pub const RECOVERY_CODES: usize = 10;

/// Whether this role must have a second factor before any page opens.
pub fn required_for(role: Role, require: bool) -> bool {
    require && matches!(role, Role::Admin | Role::Manager)
}

/// A new shared secret (160 bits, as RFC 4226 recommends), base32.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 20];
    rand::rng().fill_bytes(&mut bytes);
    match Secret::Raw(bytes.to_vec()).to_encoded() {
        Secret::Encoded(text) => text,
        Secret::Raw(_) => unreachable!("to_encoded gives the encoded form"),
    }
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, 30, bytes, Some(ISSUER.to_string()), account.to_string()).ok()
}

/// The `otpauth://` address an app reads (from the QR code, or typed).
pub fn app_address(secret: &str, account: &str) -> String {
    totp(secret, account).map(|t| t.get_url()).unwrap_or_default()
}

/// The address as a QR code: an SVG to put in the page (without the XML
/// declaration, which HTML does not take), named for screen readers.
pub fn qr_svg(address: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(address.as_bytes()) else {
        return String::new();
    };
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    match svg.find("<svg") {
        Some(start) => svg[start..].replacen("<svg", r#"<svg role="img" aria-label="QR-kod med nyckeln för appen""#, 1),
        None => String::new(),
    }
}

/// The time step the typed code belongs to, if it is right for `at` (one
/// step before or after is allowed for a clock that is a little off).
pub fn step_of(secret: &str, code: &str, at: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "")?;
    let now = at.timestamp().max(0) as u64;
    let step = now / 30;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|s| totp.generate(s * 30) == code)
        .map(|s| s as i64)
}

/// The code the app shows at `at` (tests use it as the app would).
pub fn code_at(secret: &str, at: DateTime<Utc>) -> String {
    totp(secret, "")
        .map(|t| t.generate(at.timestamp().max(0) as u64))
        .unwrap_or_default()
}

/// Ten new recovery codes, as shown once to the user (`xxxx-xxxx-xxxx`).
pub fn new_recovery_codes() -> Vec<String> {
    one_time_codes(RECOVERY_CODES)
}

/// `n` new one-time codes (`xxxx-xxxx-xxxx`, 72 random bits), shown once and
/// stored only as `code_hash`: recovery codes, and the survey's codes.
pub fn one_time_codes(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let mut bytes = [0u8; 9];
            rand::rng().fill_bytes(&mut bytes);
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(bytes)
                .to_lowercase()
                .replace(['-', '_'], "x");
            format!("{}-{}-{}", &text[0..4], &text[4..8], &text[8..12])
        })
        .collect()
}

/// A one-time code as stored: hashed, spaces and dashes and case ignored.
pub fn code_hash(code: &str) -> [u8; 32] {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    Sha256::digest(plain.as_bytes()).into()
}

/// Takes the typed code as the account's second factor at `at`: an app code
/// for a step after the last one used, or an unused recovery code. Each is
/// spent in the same statement that accepts it, so it works once.
pub async fn accept(
    tx: &mut PgConnection,
    user: UserId,
    secret: &str,
    code: &str,
    at: DateTime<Utc>,
) -> Result<Option<&'static str>, sqlx::Error> {
    if let Some(step) = step_of(secret, code, at) {
        let taken = sqlx::query!(
            "UPDATE users SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
            user as _,
            step
        )
        .execute(&mut *tx)
        .await?;
        return Ok((taken.rows_affected() == 1).then_some("kod från appen"));
    }
    let used = sqlx::query!(
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
        user as _,
        &code_hash(code)[..],
        at
    )
    .execute(&mut *tx)
    .await?;
    Ok((used.rows_affected() == 1).then_some("återställningskod"))
}

/// The account's secret, when it has a second factor.
pub async fn secret_of(db: &PgPool, user: UserId) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("SELECT totp_secret FROM users WHERE id = $1", user as _)
        .fetch_optional(db)
        .await
        .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_code_is_right_for_its_step_and_the_ones_beside_it() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let at = Utc.with_ymd_and_hms(2026, 3, 2, 8, 0, 0).unwrap();
        let code = code_at(&secret, at);
        let step = at.timestamp() / 30;
        assert_eq!(step_of(&secret, &code, at), Some(step));
        assert_eq!(step_of(&secret, &format!("{} {}", &code[..3], &code[3..]), at), Some(step));
        assert_eq!(step_of(&secret, &code, at + chrono::Duration::seconds(30)), Some(step));
        assert_eq!(step_of(&secret, &code, at + chrono::Duration::seconds(90)), None);
        assert_eq!(step_of(&secret, "12345", at), None);
        assert_eq!(step_of(&new_secret(), &code, at), None);
    }

    #[test]
    fn recovery_codes_are_many_different_and_read_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 14 && c.chars().filter(|ch| *ch == '-').count() == 2)
        );
        let distinct: std::collections::BTreeSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        assert_eq!(code_hash(&codes[0]), code_hash(&codes[0].to_uppercase().replace('-', " ")));
    }

    #[test]
    fn the_qr_code_is_an_svg_element_for_the_page() {
        let svg = qr_svg(&app_address(&new_secret(), "anna@lotsen.test"));
        assert!(svg.starts_with("<svg role=\"img\" aria-label="), "{}", &svg[..60]);
        assert!(svg.ends_with("</svg>"));
    }

    #[test]
    fn only_administrators_and_managers_must_have_it() {
        assert!(required_for(Role::Admin, true) && required_for(Role::Manager, true));
        assert!(!required_for(Role::Staff, true));
        assert!(!required_for(Role::Admin, false));
    }
}
