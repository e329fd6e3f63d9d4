//! Sign-in accounts: Argon2id password hashes, a TOTP second factor,
//! one-time recovery codes, and API tokens. An account belongs to a person
//! of the estate; it is stored beside the log (never in it) as JSON.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Secret, TOTP};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Account {
    /// PHC string: Argon2id with its parameters and salt.
    pub password_hash: String,
    /// Bumped on every password change: a session made before it is refused.
    pub generation: u64,
    /// Base32 TOTP key, once the person has enrolled.
    #[serde(default)]
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted, so a code is never accepted twice.
    #[serde(default)]
    pub totp_last_step: u64,
    /// SHA-256 (hex) of each unused recovery code.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    #[serde(default)]
    pub tokens: Vec<ApiToken>,
}

/// An API token. Only its SHA-256 is kept; the token is shown once.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub sha256: String,
    pub scope: Scope,
    pub created: Timestamp,
    #[serde(default)]
    pub revoked: Option<Timestamp>,
}

/// What a token may do: read only, or also record events. Within that, the
/// holder's own authorisation still applies.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
}

pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

pub fn random_hex<const N: usize>() -> String {
    hex::encode(random_bytes::<N>())
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// The shortest password accepted (NCSC: length over complexity rules).
pub const MIN_PASSWORD: usize = 12;

impl Account {
    /// A new account with this password and no second factor yet.
    pub fn new(password: &str) -> Result<Account, String> {
        Ok(Account {
            password_hash: hash_password(password)?,
            generation: 1,
            totp_secret: None,
            totp_last_step: 0,
            recovery_codes: Vec::new(),
            tokens: Vec::new(),
        })
    }

    pub fn password_matches(&self, password: &str) -> bool {
        PasswordHash::new(&self.password_hash)
            .map(|hash| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &hash)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    pub fn set_password(&mut self, password: &str) -> Result<(), String> {
        self.password_hash = hash_password(password)?;
        self.generation += 1;
        Ok(())
    }

    /// Checks a six-digit code against the enrolled key as of `now` (one
    /// step of drift either way), and remembers it so it cannot be replayed.
    pub fn accept_totp(&mut self, code: &str, now: Timestamp, label: &str) -> bool {
        let Some(secret) = &self.totp_secret else {
            return false;
        };
        let Some(totp) = totp(secret, label) else {
            return false;
        };
        let seconds = u64::try_from(now.as_second()).unwrap_or(0);
        let code = code.trim();
        for step_offset in [-1i64, 0, 1] {
            let at = seconds.saturating_add_signed(step_offset * 30);
            let step = at / 30;
            if step > self.totp_last_step && totp.generate(at) == code {
                self.totp_last_step = step;
                return true;
            }
        }
        false
    }

    /// Uses up a recovery code, if it is one.
    pub fn use_recovery_code(&mut self, code: &str) -> bool {
        let hash = sha256_hex(&normalise_code(code));
        match self.recovery_codes.iter().position(|c| *c == hash) {
            Some(i) => {
                self.recovery_codes.remove(i);
                true
            }
            None => false,
        }
    }

    /// Enrols a TOTP key and makes ten fresh recovery codes, returned once.
    pub fn enrol_totp(&mut self, secret: String) -> Vec<String> {
        self.totp_secret = Some(secret);
        let codes: Vec<String> = (0..10)
            .map(|_| {
                let hex = random_hex::<5>();
                format!("{}-{}", &hex[..5], &hex[5..])
            })
            .collect();
        self.recovery_codes = codes
            .iter()
            .map(|c| sha256_hex(&normalise_code(c)))
            .collect();
        codes
    }

    /// The live token whose secret is `secret`.
    pub fn token(&self, secret: &str) -> Option<&ApiToken> {
        let hash = sha256_hex(secret);
        self.tokens
            .iter()
            .find(|t| t.revoked.is_none() && t.sha256 == hash)
    }
}

fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_lowercase().replace(' ', "")
}

fn hash_password(password: &str) -> Result<String, String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!(
            "Enter a password of at least {MIN_PASSWORD} characters"
        ));
    }
    let salt = SaltString::encode_b64(&random_bytes::<16>()).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// A new random TOTP key, base32.
pub fn new_totp_secret() -> String {
    Secret::Raw(random_bytes::<20>().to_vec())
        .to_encoded()
        .to_string()
}

/// The TOTP generator for a key: SHA-1, six digits, 30 seconds, which every
/// authenticator app reads.
pub fn totp(secret: &str, label: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().ok()?;
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Warden".to_owned()),
        label.to_owned(),
    )
    .into()
}

/// The current code for a key at `now`: for `warden totp` and tests.
pub fn totp_code(secret: &str, now: Timestamp) -> Option<String> {
    let totp = totp(secret, "code")?;
    Some(totp.generate(u64::try_from(now.as_second()).ok()?))
}

/// The `otpauth://` address an authenticator app imports.
pub fn otpauth_url(secret: &str, label: &str) -> Option<String> {
    Some(totp(secret, label)?.get_url())
}

/// A token as handed to its owner: it names the council and person (base64url)
/// so the API can find the account, and carries the random secret.
pub fn token_text(council: &str, person: &str, secret: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("wdn.{}.{}.{secret}", b.encode(council), b.encode(person))
}
