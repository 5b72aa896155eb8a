//! Users' passwords: argon2id hashing and verification, the rules a new
//! password must meet, and the first admin's generated password.
//!
//! # What it owns
//! - The cost parameters of new hashes ([`MEMORY_KIB`], [`ITERATIONS`],
//!   [`PARALLELISM`]). A stored hash carries its own parameters (PHC string
//!   `$argon2id$v=19$m=...,t=...,p=...$salt$hash`), so verification follows
//!   the hash, and changing the constants only affects new passwords.
//! - Keeping this CPU work off the async threads: every hash and
//!   verification runs on tokio's blocking pool, at most [`MAX_CONCURRENT`]
//!   at a time, so a flood of sign-in attempts queues instead of taking
//!   every core (or spawning hundreds of blocking threads each holding
//!   19 MiB).
//! - Sign-in answers that take as long for an unknown e-mail as for a
//!   wrong password ([`verify`] with no hash checks a dummy one), so the
//!   timing does not tell which e-mails have accounts.
//!
//! # What it must never do
//! Log, return or store a password. Errors name the rule, never the value.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use tokio::sync::Semaphore;

/// Memory per hash, KiB: 19 MiB, with [`ITERATIONS`] = 2 and
/// [`PARALLELISM`] = 1 the first of OWASP's recommended argon2id
/// configurations (Password Storage Cheat Sheet), and the `argon2` crate's
/// default. Measured on this 2-core machine (`cost_of_one_hash` below):
/// 32 to 44 ms per hash with other builds running, in debug builds too
/// (every dependency is built at `opt-level = 2` by the workspace's
/// `[profile.dev.package."*"]`, so the end-to-end tests' debug binary
/// signs in as fast as a release one). A person signing in does not
/// notice that; an attacker with a stolen database pays 19 MiB and those
/// milliseconds per guess, and the memory is what keeps GPUs and ASICs
/// from doing much better than a CPU.
pub const MEMORY_KIB: u32 = 19 * 1024;

/// Passes over the memory; see [`MEMORY_KIB`].
pub const ITERATIONS: u32 = 2;

/// Lanes; see [`MEMORY_KIB`]. One: the server has few cores, and sign-ins
/// are concurrent with each other anyway.
pub const PARALLELISM: u32 = 1;

/// Hashes or verifications running at once: the machine's two cores. More
/// would only slow each one down and add 19 MiB apiece.
pub const MAX_CONCURRENT: usize = 2;

/// Shortest password accepted: NIST SP 800-63B's minimum for a password
/// a person chose.
pub const MIN_LEN: usize = 8;

/// Longest password accepted, in bytes: far beyond any pass phrase, and it
/// keeps a megabyte "password" from reaching the hash.
pub const MAX_LEN: usize = 1024;

/// Characters of a generated password: 24 hex digits, 96 bits from the OS
/// random source; short enough to type from the start banner.
const GENERATED_BYTES: usize = 12;

static SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT);

/// A password hashing or verification that could not run (the random
/// source, a panicking task): a server fault, never the user's.
#[derive(Debug)]
pub struct PasswordError(String);

impl std::fmt::Display for PasswordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PasswordError {}

fn argon2() -> Argon2<'static> {
    // The constants are valid parameters (checked by the tests).
    let params = Params::new(MEMORY_KIB, ITERATIONS, PARALLELISM, None)
        .expect("BUG: invalid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks a new password: [`MIN_LEN`] characters to [`MAX_LEN`] bytes.
/// The message names the rule, not the password.
pub fn check_new(password: &str) -> Result<(), String> {
    let chars = password.chars().count();
    if chars < MIN_LEN {
        return Err(format!(
            "The password must have at least {MIN_LEN} characters"
        ));
    }
    if password.len() > MAX_LEN {
        return Err(format!("The password must have at most {MAX_LEN} bytes"));
    }
    Ok(())
}

/// Runs `f` on the blocking pool once a slot is free.
async fn limited<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let _slot = SLOTS
        .acquire()
        .await
        .map_err(|e| PasswordError(format!("password slots closed: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PasswordError(format!("password task failed: {e}")))
}

fn hash_blocking(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; 16];
    whippet_meta::fill_random(&mut salt).map_err(|e| PasswordError(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| PasswordError(format!("encoding a salt: {e}")))?;
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError(format!("hashing a password: {e}")))
}

/// The PHC string of `password`'s argon2id hash with a fresh 16-byte salt.
pub async fn hash(password: String) -> Result<String, PasswordError> {
    limited(move || hash_blocking(&password)).await?
}

/// A hash of a random password, checked when the e-mail is unknown so
/// that the answer takes as long as for a known one.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("no user has this password: it only spends time")
            .unwrap_or_else(|_| String::new())
    })
}

fn verify_blocking(password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        tracing::warn!("a stored password hash does not parse as a PHC string");
        return false;
    };
    // The parameters come from the stored hash; `argon2()` only supplies
    // the algorithm family.
    argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

/// Whether `password` matches the stored hash `phc`. With `None` (no such
/// user) a dummy hash is checked all the same and the answer is `false`.
/// Passwords over [`MAX_LEN`] bytes never match (and are not hashed).
pub async fn verify(password: String, phc: Option<String>) -> Result<bool, PasswordError> {
    limited(move || {
        let too_long = password.len() > MAX_LEN;
        let password = if too_long { "" } else { password.as_str() };
        match phc {
            Some(phc) => verify_blocking(password, &phc) && !too_long,
            None => {
                verify_blocking(password, dummy_hash());
                false
            }
        }
    })
    .await
}

/// A fresh password for the first admin: [`GENERATED_BYTES`] random bytes
/// as lowercase hex.
pub fn generate() -> Result<String, PasswordError> {
    let mut bytes = [0u8; GENERATED_BYTES];
    whippet_meta::fill_random(&mut bytes).map_err(|e| PasswordError(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
    }

    #[test]
    fn hashes_verify_and_carry_their_parameters() {
        rt().block_on(async {
            let h = hash("correct horse".into()).await.unwrap();
            assert!(
                h.starts_with(&format!(
                    "$argon2id$v=19$m={MEMORY_KIB},t={ITERATIONS},p={PARALLELISM}$"
                )),
                "{h}"
            );
            assert!(!h.contains("correct horse"));
            assert!(
                verify("correct horse".into(), Some(h.clone()))
                    .await
                    .unwrap()
            );
            assert!(
                !verify("correct horsE".into(), Some(h.clone()))
                    .await
                    .unwrap()
            );
            assert!(!verify("correct horse".into(), None).await.unwrap());
            assert!(!verify("x".into(), Some("not a phc".into())).await.unwrap());
            let again = hash("correct horse".into()).await.unwrap();
            assert_ne!(h, again, "salted");
            // A hash made with other parameters still verifies.
            let cheap = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(8, 1, 1, None).unwrap(),
            )
            .hash_password(b"pw-12345", &SaltString::encode_b64(&[7; 16]).unwrap())
            .unwrap()
            .to_string();
            assert!(verify("pw-12345".into(), Some(cheap)).await.unwrap());
        });
    }

    #[test]
    fn new_passwords_are_checked_without_echo() {
        assert!(check_new("12345678").is_ok());
        assert!(check_new("ééééééé").is_err(), "7 characters");
        assert!(check_new("éééééééé").is_ok(), "8 characters, 16 bytes");
        let e = check_new("short").unwrap_err();
        assert!(!e.contains("short"));
        assert!(check_new(&"x".repeat(MAX_LEN)).is_ok());
        assert!(check_new(&"x".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn generated_passwords_are_random_hex() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 2 * GENERATED_BYTES);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        assert!(check_new(&a).is_ok());
    }

    /// Prints what a hash costs here (`cargo test -p whippet password --
    /// --nocapture`); the figure quoted on [`MEMORY_KIB`] comes from it.
    #[test]
    fn cost_of_one_hash() {
        let start = std::time::Instant::now();
        let n = 5;
        for _ in 0..n {
            hash_blocking("correct horse battery staple").unwrap();
        }
        eprintln!(
            "argon2id m={MEMORY_KIB} t={ITERATIONS} p={PARALLELISM}: {:?} per hash",
            start.elapsed() / n
        );
    }
}
