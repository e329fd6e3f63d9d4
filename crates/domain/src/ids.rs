//! Identifiers chosen by the council. They are opaque strings; newtypes keep a
//! person id from being passed where a device id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        ///
        /// Shared text: an id is copied into the estate, clocks and findings
        /// many times over, and each copy is a reference count, not a new string.
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub Arc<str>);

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
                Self(Arc::from(s))
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(Arc::from(s))
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                d.deserialize_str(SharedText).map(Self)
            }
        }
    };
}

/// A hash map keyed by ids. foldhash rather than the standard SipHash: the
/// estate and the evaluator look up an id or two for every event, and the
/// keys are the council's own, not an attacker's. Fixed seeding keeps
/// iteration order (and so snapshots) the same from run to run.
pub type IdMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;

/// Reads a string straight into shared text: one allocation, whether the
/// input lends the string or hands over its own.
struct SharedText;

impl serde::de::Visitor<'_> for SharedText {
    type Value = Arc<str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Arc::from(v))
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
    ResourceId
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
