//! Key secrets: generation, validation, hashing, and the displayable tail.
//!
//! This is the only module that sees a secret in plain text besides the
//! caller; everything past it works with [`KeyHash`].

use std::fmt;

use rand::TryRng;
use sha2::{Digest, Sha256};

use crate::error::{MetaError, Result};
use crate::model::KeyKind;

/// Longest given key accepted. Datadog's own keys are 32 and 40 characters;
/// 128 leaves room for other generators (a 64-byte base64 token is 88)
/// while keeping hostile header values from reaching the hash.
pub const MAX_GIVEN_KEY_LEN: usize = 128;

/// A secret shorter than this shows no characters in
/// [`KeyInfo::last4`](crate::KeyInfo::last4). With 12 characters, four
/// shown leave eight hidden; below that, the tail is too large a share of
/// the secret to print in a key list.
pub const MIN_LEN_FOR_LAST4: usize = 12;

/// SHA-256 of a secret. What the database stores (as lowercase hex) and
/// what the verification cache is keyed by. Its `Debug` does not print the
/// bytes: the hash is as good as the key for a lookup in a stolen cache
/// dump, so it is not logged either.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct KeyHash(pub(crate) [u8; 32]);

impl KeyHash {
    /// Hashes a secret.
    pub(crate) fn of(secret: &str) -> KeyHash {
        KeyHash(Sha256::digest(secret.as_bytes()).into())
    }

    /// The form stored in the `hash` column: 64 lowercase hex characters.
    pub(crate) fn to_hex(self) -> String {
        hex::encode(self.0)
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyHash(<redacted>)")
    }
}

/// A fresh secret in Datadog's format for `kind`: 32 (API) or 40 (app)
/// lowercase hex characters, from the operating system's random source
/// (128 and 160 bits of entropy).
pub(crate) fn generate(kind: KeyKind) -> Result<String> {
    let mut bytes = [0u8; 20];
    let n = kind.generated_len() / 2;
    rand::rngs::SysRng
        .try_fill_bytes(&mut bytes[..n])
        .map_err(|e| {
            MetaError::backend(
                "read the OS random source for a new key",
                std::io::Error::other(e.to_string()),
            )
        })?;
    Ok(hex::encode(&bytes[..n]))
}

/// Whether `secret` is an acceptable key: 1 to [`MAX_GIVEN_KEY_LEN`]
/// visible ASCII characters (`!` to `~`). Spaces are excluded because HTTP
/// trims them from header values and form decoding turns `+` into one, so a
/// key with a space could not be sent reliably.
pub(crate) fn is_acceptable(secret: &str) -> bool {
    !secret.is_empty()
        && secret.len() <= MAX_GIVEN_KEY_LEN
        && secret.bytes().all(|b| b.is_ascii_graphic())
}

/// Checks a key given by the operator (bootstrap from the environment).
/// The message never quotes the key.
pub(crate) fn validate_given(kind: KeyKind, secret: &str) -> Result<()> {
    if is_acceptable(secret) {
        return Ok(());
    }
    let what = match kind {
        KeyKind::Api => "API key",
        KeyKind::App => "application key",
    };
    Err(MetaError::Invalid(format!(
        "the given {what} must be 1 to {MAX_GIVEN_KEY_LEN} visible ASCII characters (no spaces); it has {} bytes",
        secret.len()
    )))
}

/// The tail shown in key lists: the last four characters, or nothing for a
/// secret shorter than [`MIN_LEN_FOR_LAST4`].
pub(crate) fn last4(secret: &str) -> String {
    if secret.len() < MIN_LEN_FOR_LAST4 {
        return String::new();
    }
    // Acceptable secrets are ASCII, so byte offsets are char boundaries.
    secret[secret.len() - 4..].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_datadog_formats() {
        for (kind, len) in [(KeyKind::Api, 32), (KeyKind::App, 40)] {
            let a = generate(kind).unwrap();
            let b = generate(kind).unwrap();
            assert_eq!(a.len(), len);
            assert!(
                a.bytes()
                    .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
            );
            assert_ne!(a, b);
            assert!(is_acceptable(&a));
        }
    }

    #[test]
    fn given_keys_are_validated_without_echo() {
        assert!(validate_given(KeyKind::Api, "abc").is_ok());
        assert!(validate_given(KeyKind::Api, &"x".repeat(128)).is_ok());
        for bad in ["", "has space", "tab\there", "é-accent", &"x".repeat(129)] {
            let err = validate_given(KeyKind::App, bad).unwrap_err();
            assert_eq!(err.http_status(), 400);
            if !bad.is_empty() {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
    }

    #[test]
    fn hash_is_sha256_hex() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            KeyHash::of("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{:?}", KeyHash::of("abc")), "KeyHash(<redacted>)");
    }

    #[test]
    fn last4_hides_short_secrets() {
        assert_eq!(last4("0123456789abcdef"), "cdef");
        assert_eq!(last4("0123456789ab"), "89ab");
        assert_eq!(last4("0123456789a"), "");
        assert_eq!(last4("x"), "");
    }
}
