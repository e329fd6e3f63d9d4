//! Sign-in accounts: Argon2id password hashes, a TOTP second factor,
//! one-time recovery codes, and API tokens. An account belongs to a person
//! of the estate; it is stored beside the log (never in it) as JSON.
//!
//! A TOTP key must be readable to check a code, so it cannot be hashed: it
//! is sealed (XChaCha20-Poly1305) with a key from the service's
//! configuration ([`TotpKeys`]), so a copy of the database alone gives no
//! one a second factor.

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
    /// The TOTP key, sealed by [`TotpKeys::seal`], once the person has
    /// enrolled (a bare base32 key, from before keys were sealed, is read
    /// and sealed again at the next sign-in).
    #[serde(default, rename = "totp_secret")]
    totp_sealed: Option<String>,
    /// The last TOTP time step accepted, so a code is never accepted twice.
    #[serde(default)]
    pub totp_last_step: u64,
    /// SHA-256 (hex) of each unused recovery code.
    #[serde(default)]
    pub recovery_codes: Vec<String>,
    #[serde(default)]
    pub tokens: Vec<ApiToken>,
    /// When the account was disabled (`warden account disable`): it signs
    /// in no more and its tokens stop working.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<Timestamp>,
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
    /// Only the SCIM server (`/scim/v2`), for an identity provider: it
    /// reads and records people and groups, and nothing else.
    Provisioning,
    /// Only the holder's calendar feeds (`/feeds/...`): a calendar
    /// program holds it in the feed's address.
    Calendar,
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
            totp_sealed: None,
            totp_last_step: 0,
            recovery_codes: Vec::new(),
            tokens: Vec::new(),
            disabled: None,
        })
    }

    /// A new account with this password and a new TOTP key already
    /// enrolled (sealed): the account, the key, and its ten recovery codes,
    /// each to be shown once (`warden account add`, the demo).
    pub fn enrolled(
        password: &str,
        keys: &TotpKeys,
    ) -> Result<(Account, String, Vec<String>), String> {
        let mut account = Account::new(password)?;
        let secret = new_totp_secret();
        let codes = account.enrol_totp(&secret, keys);
        Ok((account, secret, codes))
    }

    /// Whether a second factor is enrolled.
    pub fn has_totp(&self) -> bool {
        self.totp_sealed.is_some()
    }

    /// The enrolled TOTP key, unsealed (for `warden account add`'s one
    /// showing and for tests).
    pub fn totp_secret(&self, keys: &TotpKeys) -> Result<Option<String>, KeyError> {
        self.totp_sealed
            .as_deref()
            .map(|sealed| keys.open(sealed).map(|(secret, _)| secret))
            .transpose()
    }

    /// Forgets the second factor and recovery codes (a reset: the person
    /// enrols again).
    pub fn clear_totp(&mut self) {
        self.totp_sealed = None;
        self.recovery_codes.clear();
    }

    /// Disables the account as of `now`: every session ends (the generation
    /// moves) and its tokens stop working.
    pub fn disable(&mut self, now: Timestamp) {
        self.disabled = Some(now);
        self.generation += 1;
    }

    pub fn is_disabled(&self) -> bool {
        self.disabled.is_some()
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
    /// A key sealed with an older configured key, or not sealed at all, is
    /// sealed again with the current one.
    pub fn accept_totp(
        &mut self,
        code: &str,
        now: Timestamp,
        label: &str,
        keys: &TotpKeys,
    ) -> bool {
        let Some(sealed) = &self.totp_sealed else {
            return false;
        };
        let (secret, stale) = match keys.open(sealed) {
            Ok(opened) => opened,
            Err(e) => {
                tracing::error!(error = %e, "a TOTP key cannot be unsealed");
                return false;
            }
        };
        let Some(totp) = totp(&secret, label) else {
            return false;
        };
        let seconds = u64::try_from(now.as_second()).unwrap_or(0);
        let code = code.trim();
        for step_offset in [-1i64, 0, 1] {
            let at = seconds.saturating_add_signed(step_offset * 30);
            let step = at / 30;
            if step > self.totp_last_step && totp.generate(at) == code {
                self.totp_last_step = step;
                if stale {
                    self.totp_sealed = Some(keys.seal(&secret));
                }
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

    /// Enrols a TOTP key (sealed) and makes ten fresh recovery codes,
    /// returned once.
    pub fn enrol_totp(&mut self, secret: &str, keys: &TotpKeys) -> Vec<String> {
        self.totp_sealed = Some(keys.seal(secret));
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

    /// The live token whose secret is `secret` (none of a disabled account).
    pub fn token(&self, secret: &str) -> Option<&ApiToken> {
        let hash = sha256_hex(secret);
        self.tokens
            .iter()
            .find(|t| t.revoked.is_none() && t.sha256 == hash && self.disabled.is_none())
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

/// The `otpauth://` address as a QR code, an SVG element to put in a page.
pub fn qr_svg(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in HTML: the element alone, without the XML declaration.
    Some(
        svg.find("<svg")
            .map_or(svg.clone(), |start| svg[start..].to_owned()),
    )
}

/// The `otpauth://` address as a QR code drawn with half-block characters,
/// light on dark, for a terminal (two rows of modules to a line).
pub fn qr_text(url: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The keys TOTP secrets are sealed with, from the configuration
/// (`totp_key`): the first seals, every one opens, so a key is rotated by
/// putting the new one first and keeping the old one after it until every
/// account is sealed again (`warden account reseal`).
#[derive(Clone)]
pub struct TotpKeys {
    keys: Vec<(String, chacha20poly1305::Key)>,
}

/// What is wrong with a configured key, or a sealed secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error(
        "TOTP key {index}: expected 64 hex digits (32 bytes; `warden account new-key` makes one), found {found} characters"
    )]
    Malformed { index: usize, found: usize },
    #[error("no TOTP key is configured")]
    None,
    #[error("a TOTP secret is sealed with key {id}, which is not among the configured keys")]
    UnknownKey { id: String },
    #[error(
        "a sealed TOTP secret does not open: it was altered, or sealed with another key of the same id"
    )]
    Damaged,
}

/// The prefix of a sealed secret: `sealed1:KEYID:NONCE:CIPHERTEXT` (hex).
const SEALED: &str = "sealed1";

impl std::fmt::Debug for TotpKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("TotpKeys").field("ids", &ids).finish()
    }
}

impl TotpKeys {
    /// Reads a comma-separated list of keys, each 64 hex digits; every
    /// malformed one is named.
    pub fn parse(text: &str) -> Result<TotpKeys, Vec<KeyError>> {
        let mut keys = Vec::new();
        let mut errors = Vec::new();
        for (index, part) in text.split(',').map(str::trim).enumerate() {
            match hex::decode(part) {
                Ok(bytes) if bytes.len() == 32 => keys.push(Self::entry(&bytes)),
                _ => errors.push(KeyError::Malformed {
                    index: index + 1,
                    found: part.chars().count(),
                }),
            }
        }
        if keys.is_empty() && errors.is_empty() {
            errors.push(KeyError::None);
        }
        if errors.is_empty() {
            Ok(TotpKeys { keys })
        } else {
            Err(errors)
        }
    }

    /// A new random key, as configured (64 hex digits).
    pub fn new_key() -> String {
        random_hex::<32>()
    }

    fn entry(bytes: &[u8]) -> (String, chacha20poly1305::Key) {
        let id = sha256_hex(&hex::encode(bytes))[..8].to_owned();
        (id, *chacha20poly1305::Key::from_slice(bytes))
    }

    /// The id of the key that seals: the first 8 hex digits of the SHA-256
    /// of its hex form, which names it without revealing it.
    pub fn current_id(&self) -> &str {
        self.keys.first().map_or("", |(id, _)| id.as_str())
    }

    /// Seals a secret with the first key, under a fresh random nonce.
    pub fn seal(&self, secret: &str) -> String {
        use chacha20poly1305::aead::{Aead, KeyInit};
        let Some((id, key)) = self.keys.first() else {
            return String::new();
        };
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(key);
        let nonce_bytes = random_bytes::<24>();
        let nonce = chacha20poly1305::XNonce::from_slice(&nonce_bytes);
        // Encryption fails only for a message over 256 GiB.
        let sealed = cipher.encrypt(nonce, secret.as_bytes()).unwrap_or_default();
        format!(
            "{SEALED}:{id}:{}:{}",
            hex::encode(nonce_bytes),
            hex::encode(sealed)
        )
    }

    /// Opens a sealed secret: the secret, and whether it should be sealed
    /// again with the current key (an older key sealed it, or none did).
    pub fn open(&self, stored: &str) -> Result<(String, bool), KeyError> {
        use chacha20poly1305::aead::{Aead, KeyInit};
        let Some(rest) = stored
            .strip_prefix(SEALED)
            .and_then(|r| r.strip_prefix(':'))
        else {
            return Ok((stored.to_owned(), true));
        };
        let mut parts = rest.splitn(3, ':');
        let (Some(id), Some(nonce), Some(sealed)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(KeyError::Damaged);
        };
        let Some(position) = self.keys.iter().position(|(k, _)| k == id) else {
            return Err(KeyError::UnknownKey { id: id.to_owned() });
        };
        let (Ok(nonce), Ok(sealed)) = (hex::decode(nonce), hex::decode(sealed)) else {
            return Err(KeyError::Damaged);
        };
        if nonce.len() != 24 {
            return Err(KeyError::Damaged);
        }
        let cipher = chacha20poly1305::XChaCha20Poly1305::new(&self.keys[position].1);
        let opened = cipher
            .decrypt(
                chacha20poly1305::XNonce::from_slice(&nonce),
                sealed.as_ref(),
            )
            .map_err(|_| KeyError::Damaged)?;
        let secret = String::from_utf8(opened).map_err(|_| KeyError::Damaged)?;
        Ok((secret, position > 0))
    }

    /// Seals an account's TOTP key again with the current key; whether it
    /// changed.
    pub fn reseal(&self, account: &mut Account) -> Result<bool, KeyError> {
        let Some(sealed) = &account.totp_sealed else {
            return Ok(false);
        };
        let (secret, stale) = self.open(sealed)?;
        if stale {
            account.totp_sealed = Some(self.seal(&secret));
        }
        Ok(stale)
    }
}

/// A token as handed to its owner: it names the council and person (base64url)
/// so the API can find the account, and carries the random secret.
pub fn token_text(council: &str, person: &str, secret: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("wdn.{}.{}.{secret}", b.encode(council), b.encode(person))
}

/// Parses `wdn.COUNCIL.PERSON.SECRET` (council and person base64url).
pub fn parse_token(text: &str) -> Option<(String, String, String)> {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = text.split('.');
    let (Some("wdn"), Some(c), Some(p), Some(s), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    let c = String::from_utf8(b.decode(c).ok()?).ok()?;
    let p = String::from_utf8(b.decode(p).ok()?).ok()?;
    Some((c, p, s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const NEW: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1eff";

    fn keys(text: &str) -> TotpKeys {
        TotpKeys::parse(text).expect("keys")
    }

    #[test]
    fn a_sealed_secret_opens_with_its_key_and_is_not_stored_in_the_clear() {
        let (account, secret, codes) =
            Account::enrolled("correct-horse-battery", &keys(OLD)).expect("account");
        assert_eq!(codes.len(), 10);
        let json = serde_json::to_string(&account).expect("json");
        assert!(
            !json.contains(&secret),
            "the key is not in the stored JSON: {json}"
        );
        assert!(json.contains("sealed1:"), "{json}");
        assert_eq!(
            account.totp_secret(&keys(OLD)).expect("opens"),
            Some(secret)
        );
    }

    #[test]
    fn a_secret_sealed_with_a_key_not_configured_or_altered_does_not_open() {
        let (account, _, _) =
            Account::enrolled("correct-horse-battery", &keys(OLD)).expect("account");
        let id = keys(OLD).current_id().to_owned();
        assert_eq!(
            account.totp_secret(&keys(NEW)),
            Err(KeyError::UnknownKey { id })
        );
        let mut json = serde_json::to_string(&account).expect("json");
        // Flip the last hex digit of the ciphertext.
        let end = json.find("\",\"totp_last_step").expect("field");
        let flipped = if &json[end - 1..end] == "0" { "1" } else { "0" };
        json.replace_range(end - 1..end, flipped);
        let altered: Account = serde_json::from_str(&json).expect("json");
        assert_eq!(altered.totp_secret(&keys(OLD)), Err(KeyError::Damaged));
    }

    #[test]
    fn rotation_opens_with_the_old_key_and_seals_with_the_new() {
        let (mut account, secret, _) =
            Account::enrolled("correct-horse-battery", &keys(OLD)).expect("account");
        let rotated = keys(&format!("{NEW},{OLD}"));
        assert_eq!(rotated.reseal(&mut account), Ok(true));
        assert_eq!(
            rotated.reseal(&mut account),
            Ok(false),
            "already sealed with NEW"
        );
        assert_eq!(
            account.totp_secret(&keys(NEW)).expect("opens"),
            Some(secret)
        );
        assert!(
            account.totp_secret(&keys(OLD)).is_err(),
            "OLD can be dropped"
        );
    }

    #[test]
    fn a_code_accepted_under_an_older_key_reseals_the_secret() {
        let (mut account, secret, _) =
            Account::enrolled("correct-horse-battery", &keys(OLD)).expect("account");
        let rotated = keys(&format!("{NEW},{OLD}"));
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("time");
        let code = totp_code(&secret, now).expect("code");
        assert!(account.accept_totp(&code, now, "p", &rotated));
        assert_eq!(
            account.totp_secret(&keys(NEW)).expect("opens"),
            Some(secret)
        );
    }

    #[test]
    fn a_secret_stored_before_sealing_is_read_and_sealed_at_the_next_code() {
        let secret = new_totp_secret();
        let json = format!(r#"{{"password_hash":"x","generation":1,"totp_secret":"{secret}"}}"#);
        let mut account: Account = serde_json::from_str(&json).expect("json");
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("time");
        let code = totp_code(&secret, now).expect("code");
        assert!(account.accept_totp(&code, now, "p", &keys(OLD)));
        let json = serde_json::to_string(&account).expect("json");
        assert!(!json.contains(&secret), "{json}");
    }

    #[test]
    fn every_malformed_key_is_named() {
        let errors = TotpKeys::parse(&format!("abc,{OLD},{}", &OLD[2..])).expect_err("bad");
        assert_eq!(
            errors,
            vec![
                KeyError::Malformed { index: 1, found: 3 },
                KeyError::Malformed {
                    index: 3,
                    found: 62
                }
            ]
        );
    }

    #[test]
    fn a_disabled_account_has_no_live_token() {
        let mut account = Account::new("correct-horse-battery").expect("account");
        account.tokens.push(ApiToken {
            id: "t".into(),
            name: "t".into(),
            sha256: sha256_hex("secret"),
            scope: Scope::Read,
            created: "2026-12-01T10:00:00Z".parse().expect("time"),
            revoked: None,
        });
        assert!(account.token("secret").is_some());
        let generation = account.generation;
        account.disable("2026-12-01T11:00:00Z".parse().expect("time"));
        assert!(account.token("secret").is_none());
        assert!(account.generation > generation, "sessions end");
    }

    #[test]
    fn the_qr_code_is_an_svg_element_and_terminal_text() {
        let url = otpauth_url(&new_totp_secret(), "p-1").expect("url");
        let svg = qr_svg(&url).expect("svg");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        let text = qr_text(&url).expect("text");
        assert!(text.lines().count() > 10 && text.contains('▀'));
    }
}
