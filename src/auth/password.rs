//! Password hashing (argon2id, OWASP parameters) and the password policy.

use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use rand::RngCore;
use std::sync::OnceLock;

/// ASVS 2.1.1/2.1.2: at least 12 characters, at most 128, never truncated.
pub const MIN_CHARS: usize = 12;
pub const MAX_CHARS: usize = 128;

/// Checks the policy; the error is the Swedish message shown next to the field.
pub fn check_policy(password: &str) -> Result<(), &'static str> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        Err("Lösenordet måste ha minst 12 tecken.")
    } else if chars > MAX_CHARS {
        Err("Lösenordet får ha högst 128 tecken.")
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
        assert!(check_policy("kort").is_err());
        assert!(check_policy("elva tecken").is_err());
        assert!(check_policy("tolv tecken!").is_ok());
        // 12 characters, 18 bytes.
        assert!(check_policy("åäöåäöåäöåäö").is_ok());
        assert!(check_policy(&"x".repeat(128)).is_ok());
        assert!(check_policy(&"x".repeat(129)).is_err());
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
