//! Browser sessions and sign-in throttling, held in memory: a restart signs
//! everyone out, which is the safe failure. The cookie carries only a random
//! id; a session remembers its CSRF token, how far sign-in has got, and the
//! account generation it was made under.

use crate::accounts::random_hex;
use domain::PersonId;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Mutex;

pub const COOKIE: &str = "warden_session";
/// A session unused this long is forgotten.
pub const IDLE: SignedDuration = SignedDuration::from_hours(8);

#[derive(Clone, Debug)]
pub struct Session {
    pub csrf: String,
    pub stage: Stage,
    pub last_seen: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stage {
    /// No one signed in yet (the sign-in form still needs a CSRF token).
    Anonymous,
    /// Password accepted; the second factor is still to come.
    Password { council: String, person: PersonId },
    /// Password accepted, and the person must enrol a second factor now.
    Enrol {
        council: String,
        person: PersonId,
        secret: String,
    },
    SignedIn {
        council: String,
        person: PersonId,
        generation: u64,
    },
}

#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

impl Sessions {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new anonymous session; returns its id.
    pub fn start(&self, now: Timestamp) -> (String, Session) {
        let id = random_hex::<32>();
        let session = Session {
            csrf: random_hex::<32>(),
            stage: Stage::Anonymous,
            last_seen: now,
        };
        let mut map = self.map();
        map.retain(|_, s| now.duration_since(s.last_seen) < IDLE);
        map.insert(id.clone(), session.clone());
        (id, session)
    }

    pub fn get(&self, id: &str, now: Timestamp) -> Option<Session> {
        let mut map = self.map();
        let session = map.get_mut(id)?;
        if now.duration_since(session.last_seen) >= IDLE {
            map.remove(id);
            return None;
        }
        session.last_seen = now;
        Some(session.clone())
    }

    /// Moves a session on to `stage` under a new id (so an id seen before
    /// sign-in is worthless after it) and a new CSRF token.
    pub fn advance(&self, old: &str, stage: Stage, now: Timestamp) -> String {
        let mut map = self.map();
        map.remove(old);
        let id = random_hex::<32>();
        map.insert(
            id.clone(),
            Session {
                csrf: random_hex::<32>(),
                stage,
                last_seen: now,
            },
        );
        id
    }

    pub fn end(&self, id: &str) {
        self.map().remove(id);
    }
}

/// Failed sign-ins per key (an account from one address, an account from
/// anywhere, a client address). A key may fail a number of times within
/// `WINDOW` freely; after that each attempt waits, from the last failure,
/// one second, then two, four, and so on up to `WINDOW`. An attacker is
/// slowed to a crawl; the account's owner, at another address, is not
/// stopped by the attacker's failures at all.
#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, Vec<Timestamp>>>,
}

/// Failures an account may have from one address before attempts wait.
pub const ACCOUNT_LIMIT: usize = 5;
/// Failures an account may have from all addresses together: a guess
/// spread over many addresses is slowed too.
pub const ACCOUNT_ANYWHERE_LIMIT: usize = 20;
/// Failures one client address may have: higher, because a council's staff
/// often share one address behind its firewall.
pub const ADDRESS_LIMIT: usize = 50;
pub const WINDOW: SignedDuration = SignedDuration::from_mins(15);

impl Throttle {
    fn recent(list: &mut Vec<Timestamp>, now: Timestamp) {
        list.retain(|t| now.duration_since(*t) < WINDOW);
    }

    /// When the key may try again, if it must wait: after `free` failures
    /// within the window, 1 s after the last, doubling with each failure
    /// beyond, at most `WINDOW`.
    pub fn blocked_until(&self, key: &str, free: usize, now: Timestamp) -> Option<Timestamp> {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.get_mut(key)?;
        Self::recent(list, now);
        let over = list.len().checked_sub(free)?;
        let last = *list.last()?;
        let seconds = 1i64 << over.min(20);
        let wait = SignedDuration::from_secs(seconds).min(WINDOW);
        let until = last + wait;
        (now < until).then_some(until)
    }

    pub fn fail(&self, key: &str, now: Timestamp) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let list = map.entry(key.to_owned()).or_default();
        Self::recent(list, now);
        list.push(now);
    }

    pub fn clear(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}
