//! Identifiers chosen by the council. They are opaque strings; newtypes keep a
//! person id from being passed where a device id is expected.

pub use arcstr::ArcStr;
use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        id_type!($(#[$doc])* $name, IdShape::Name);
    };
    ($(#[$doc:meta])* $name:ident, $shape:expr) => {
        $(#[$doc])*
        ///
        /// Shared text: an id is copied into the estate, clocks and findings
        /// many times over, and each copy is a reference count, not a new string.
        /// Ids read from a log are interned ([`intern`]), so two mentions of
        /// one id are usually one allocation, and compare without reading it.
        #[derive(Clone, Debug, PartialOrd, Ord, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub ArcStr);

        // By the text, as equality is: the pointer is only a shortcut.
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.0.hash(state)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                ArcStr::ptr_eq(&self.0, &other.0) || self.0 == other.0
            }
        }

        impl Eq for $name {}

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(ArcStr::from(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(ArcStr::from(s))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(SharedText($shape)).map(Self)
            }
        }
    };
}

/// What text an id may be: one rule for every way in (a log file, an
/// import, the API, a form), so that every id can be shown on a page and
/// put in an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdShape {
    /// 1 to 64 letters, digits, `.`, `_` or `-`, with a letter or digit
    /// among them: `c001-p00042`, `LAP-0193`, `head_of_service`.
    Name,
    /// Names joined by `/`, up to 128 characters: `restricted/finance`.
    Path,
}

impl IdShape {
    /// Whether `text` is an id of this shape.
    pub fn admits(self, text: &str) -> bool {
        fn name(part: &str) -> bool {
            (1..=64).contains(&part.len())
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                && part.chars().any(|c| c.is_ascii_alphanumeric())
        }
        match self {
            IdShape::Name => name(text),
            IdShape::Path => text.len() <= 128 && text.split('/').all(name),
        }
    }

    fn expected(self) -> &'static str {
        match self {
            IdShape::Name => {
                "an id of 1 to 64 letters, digits, '.', '_' or '-' (for example LAP-0193)"
            }
            IdShape::Path => {
                "an id of names of letters, digits, '.', '_' or '-' joined by '/' (for example restricted/finance), at most 128 characters"
            }
        }
    }
}

/// A hash map keyed by ids. foldhash rather than the standard SipHash: the
/// estate and the evaluator look up an id or two for every event, and the
/// keys are the council's own, not an attacker's. Fixed seeding keeps
/// iteration order (and so snapshots) the same from run to run.
pub type IdMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// Reads a string straight into shared text, interned, if it is an id of
/// the shape.
struct SharedText(IdShape);

/// Distinct ids one thread keeps for interning before it starts afresh: a
/// bound on memory for a long-running thread, far above any one council's.
const INTERNED: usize = 1 << 20;

thread_local! {
    static TEXTS: std::cell::RefCell<std::collections::HashSet<ArcStr, foldhash::fast::FixedState>> =
        std::cell::RefCell::default();
}

/// The shared text for `text`: the one this thread made before for the
/// same text, if any, so that the ids a log mentions again and again are
/// one allocation each, and comparing two of them is comparing pointers.
/// Interning is an optimisation only: equal ids compare equal either way.
pub fn intern(text: &str) -> ArcStr {
    TEXTS.with(|texts| {
        let mut texts = texts.borrow_mut();
        if let Some(shared) = texts.get(text) {
            return shared.clone();
        }
        if texts.len() >= INTERNED {
            texts.clear();
        }
        let shared = ArcStr::from(text);
        texts.insert(shared.clone());
        shared
    })
}

impl serde::de::Visitor<'_> for SharedText {
    type Value = ArcStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expected())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if !self.0.admits(v) {
            let shown: String = v.chars().take(40).collect();
            let shown = if shown.len() < v.len() {
                format!("{shown}...")
            } else {
                shown
            };
            return Err(E::invalid_value(serde::de::Unexpected::Str(&shown), &self));
        }
        Ok(intern(v))
    }
}

id_type!(
    /// A councillor, employee or third party.
    PersonId
);
id_type!(
    /// A laptop, tablet, smartphone, token or other device on the asset register.
    DeviceId
);
id_type!(
    /// A security incident or suspected breach.
    IncidentId
);
id_type!(
    /// A policy declared by the pack, e.g. `members-ict`.
    PolicyId
);
id_type!(
    /// A system, share or folder to which access is granted, e.g. `restricted/hr`.
    ResourceId,
    IdShape::Path
);
id_type!(
    /// A role such as `town_clerk`, `siro` or `ict_admin`.
    Role
);
id_type!(
    /// A signed agreement such as `third_party_compliance`.
    Agreement
);
id_type!(
    /// A training course such as `data_protection`.
    Course
);
id_type!(
    /// A household, for per-household limits on expense claims.
    HouseholdId
);
id_type!(
    /// The council's own name for an event, e.g. `hr-2026-0412`.
    EventId
);

/// How a log names one of its events: the council's own id, or `#SEQ`, its
/// place in recording order (`#1` is the first event the council recorded).
/// Findings name their evidence this way, and `event_voided` its target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventRef {
    Seq(u64),
    Id(EventId),
}

/// Why a text is not an event id or reference.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not an event id: expected 1 to 64 letters, digits, `.`, `_` or `-` (or `#` and a sequence number, e.g. #12)"
)]
pub struct BadEventRef(pub String);

impl EventId {
    /// The longest own id, in characters.
    pub const MAX_LEN: usize = 64;

    /// Whether `text` is an own event id: an id of every other kind's
    /// shape ([`IdShape::Name`]).
    pub fn is_valid(text: &str) -> bool {
        IdShape::Name.admits(text)
    }
}

impl std::str::FromStr for EventRef {
    type Err = BadEventRef;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(digits) = text.strip_prefix('#') {
            return match digits.parse::<u64>() {
                Ok(seq) if seq >= 1 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(EventRef::Seq(seq))
                }
                _ => Err(BadEventRef(text.to_owned())),
            };
        }
        if EventId::is_valid(text) {
            Ok(EventRef::Id(EventId::from(text)))
        } else {
            Err(BadEventRef(text.to_owned()))
        }
    }
}

impl fmt::Display for EventRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventRef::Seq(seq) => write!(f, "#{seq}"),
            EventRef::Id(id) => f.write_str(id.as_str()),
        }
    }
}

impl Serialize for EventRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // `#12`, or an own id (checked by `parse`).
        let text: String = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod interning {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn ids_read_twice_are_one_allocation_and_equal_ids_are_equal_however_made() {
        let a: PersonId = serde_json::from_str(r#""c001-p00002""#).expect("id");
        let b: PersonId = serde_json::from_str(r#""c001-p00002""#).expect("id");
        assert!(ArcStr::ptr_eq(&a.0, &b.0), "interned");
        let made = PersonId::from("c001-p00002");
        assert!(!ArcStr::ptr_eq(&a.0, &made.0));
        assert_eq!(a, made, "equal by text");
        let hasher = foldhash::fast::FixedState::default();
        assert_eq!(hasher.hash_one(&a), hasher.hash_one(&made));
        assert_ne!(a, PersonId::from("c001-p00003"));
    }
}
