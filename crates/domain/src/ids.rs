//! Identifiers chosen by the council. They are opaque strings; newtypes keep a
//! person id from being passed where a device id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

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
                Self(s.to_owned())
            }
        }
    };
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
