//! Password hashing (argon2id, OWASP parameters) and the password policy:
//! long enough, and not one that is easy to guess. The guess is zxcvbn's
//! estimate, offline, from its bundled lists of passwords seen in breaches,
//! common words and names, and patterns (repeats, sequences, keyboard rows,
//! dates); the person's own name and address count as guessable too.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use rand::RngCore;
use std::sync::OnceLock;

/// ASVS 2.1.1/2.1.2: at least 12 characters, at most 128, never truncated.
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// A name or address and its words ("anna.berg@x.se", anna, berg, …): what
/// an attacker who knows the person would try.
fn words_of<'a>(personal: &[&'a str]) -> Vec<&'a str> {
    let words = personal
        .iter()
        .flat_map(|text| text.split(|c: char| !c.is_alphanumeric()))
        .filter(|word| word.chars().count() >= 3);
    personal.iter().copied().chain(words).collect()
}

/// The least a password must score with zxcvbn: "Three" needs about 10^8
/// to 10^10 guesses, years at argon2id's pace, where "Two" falls to a
/// breached-password list or a simple pattern.
const MIN_SCORE: zxcvbn::Score = zxcvbn::Score::Three;

/// Checks the policy; the error is the Swedish message shown next to the
/// field. `personal` is what the person's password must not be built from
/// (their name, e-mail address).
pub fn check_policy(password: &str, personal: &[&str]) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        Err("Lösenordet måste ha minst 12 tecken.")
    } else if chars > MAX_CHARS {
        Err("Lösenordet får ha högst 128 tecken.")
    } else if zxcvbn::zxcvbn(password, &words_of(personal)).score() < MIN_SCORE {
        Err(
            "Lösenordet är för lätt att gissa: det liknar vanliga eller läckta lösenord, upprepningar eller ditt namn. Välj en fras med flera ord.",
        )
    } else {
        Ok(())
    }
}

/// OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash(password: &str) -> anyhow::Result<String> {
    let mut salt_bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut salt_bytes);
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let hash = hasher()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing failed: {e}"))?;
    Ok(hash.to_string())
}

/// Verifies against a stored hash. With no stored hash (unknown user) it
/// verifies against a dummy so that the time taken reveals nothing.
pub fn verify(password: &str, stored: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash("not a real password, only for timing").unwrap_or_default());
    let (target, real) = match stored {
        Some(s) => (s, true),
        None => (dummy.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(target) else { return false };
    hasher().verify_password(password.as_bytes(), &parsed).is_ok() && real
}

/// Hashing takes tens of milliseconds of CPU: keep it off the async workers.
pub async fn hash_blocking(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || hash(&password)).await?
}

pub async fn verify_blocking(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || verify(&password, stored.as_deref()))
        .await
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_counts_characters_not_bytes() {
        assert!(check_policy("kort", &[]).is_err());
        assert!(check_policy("elva tecken", &[]).is_err());
        assert!(check_policy("tolv tecken!", &[]).is_ok());
        // 12 characters, 18 bytes.
        assert!(check_policy("åäöbåxöåzäqö", &[]).is_ok());
        let longest: String = "kaffe, bullar och kanelsnäckor ".repeat(5).chars().take(128).collect();
        assert!(check_policy(&longest, &[]).is_ok());
        assert!(check_policy(&"x".repeat(129), &[]).is_err());
    }

    #[test]
    fn common_breached_and_patterned_passwords_are_refused() {
        for weak in [
            "aaaaaaaaaaaa",
            "123456789012",
            "password1234",
            "qwertyuiopasdf",
            "iloveyou1234",
            "Password2026!",
        ] {
            assert!(check_policy(weak, &[]).is_err(), "{weak} passed");
        }
        assert!(check_policy("anna.berglund@lotsen.se", &["anna.berglund@lotsen.se", "Anna Berglund"]).is_err());
        assert!(check_policy("Berglund.Anna", &["anna.berglund@lotsen.se", "Anna Berglund"]).is_err());
        assert!(check_policy("ett långt testlösenord", &[]).is_ok());
        assert!(check_policy("cykeln står vid ån i regnet", &[]).is_ok());
    }

    #[test]
    fn hash_verifies_only_the_same_password_in_full() {
        let long = format!("{}A", "a".repeat(127));
        let h = hash(&long).unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(&long, Some(&h)));
        // Not truncated: the last character matters.
        assert!(!verify(&format!("{}B", "a".repeat(127)), Some(&h)));
        assert!(!verify(&long, None));
    }
}
