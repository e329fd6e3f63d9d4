//! The pack file as written: TOML shapes with spans, before any meaning is
//! checked. `load.rs` turns these into the model or into errors.

use domain::{DeviceKind, DeviceOwner, PersonKind};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::fmt;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeader {
    pub id: Spanned<String>,
    pub council: String,
    pub time_zone: Spanned<String>,
    pub calendar: Spanned<String>,
    #[serde(default)]
    pub include: Vec<Spanned<String>>,
    #[serde(default)]
    pub mail_domains: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub id: Spanned<String>,
    pub title: String,
    pub version: String,
    pub owner: Option<String>,
    pub approving_body: Option<String>,
    #[serde(default)]
    pub accepted_by: Vec<PersonKind>,
    /// The Markdown file of the policy's text, beside the pack.
    pub text: Option<Spanned<String>>,
}

pub type Matches = Spanned<Vec<Spanned<RawMatch>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub cite: Option<Spanned<String>>,
    pub note: Option<String>,
    pub sentence: Option<String>,
    /// The controls of each framework the rule evidences.
    pub controls: Option<Spanned<RawControls>>,
    pub on: Option<Spanned<String>>,
    pub when: Option<Spanned<RawFilter>>,
    pub each: Option<Spanned<String>>,
    pub from: Option<Spanned<String>>,
    pub within: Option<Spanned<String>>,
    pub discharged_by: Option<Matches>,
    pub every: Option<Spanned<String>>,
    pub done_by: Option<Matches>,
    pub counted_from: Option<Matches>,
    pub require: Option<Spanned<RawRequire>>,
    pub actor: Option<Spanned<String>>,
    pub roles: Option<Spanned<Vec<String>>>,
    pub group_by: Option<Spanned<String>>,
    pub period: Option<Spanned<String>>,
    pub max_total: Option<Spanned<String>>,
    pub max_count: Option<Spanned<u32>>,
}

impl RawRule {
    /// The kind-specific fields that are present, with their spans, so a
    /// field that does not belong to the rule's kind can be pointed at.
    pub fn present_fields(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut present = Vec::new();
        macro_rules! field {
            ($($name:ident),*) => {
                $(if let Some(v) = &self.$name {
                    present.push((stringify!($name), v.span()));
                })*
            };
        }
        field!(
            on,
            when,
            each,
            from,
            within,
            discharged_by,
            every,
            done_by,
            counted_from,
            require,
            actor,
            roles,
            group_by,
            period,
            max_total,
            max_count
        );
        present
    }
}

/// `controls = { iso27001 = [...], caf = [...], cyber_essentials = [...] }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControls {
    #[serde(default)]
    pub iso27001: Vec<Spanned<String>>,
    #[serde(default)]
    pub caf: Vec<Spanned<String>>,
    #[serde(default)]
    pub cyber_essentials: Vec<Spanned<String>>,
}

/// Who is told of which findings, and when (`[[reminder]]`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminder {
    /// The rules it is for, by id; else `kinds`; else every clock.
    pub rules: Option<Spanned<Vec<Spanned<String>>>>,
    pub kinds: Option<Spanned<Vec<Spanned<String>>>>,
    /// `"daily"`: a summary of every open and overdue finding instead.
    pub digest: Option<Spanned<String>>,
    pub tell: Spanned<Vec<Spanned<String>>>,
    /// Who is told when a finding concerns no person.
    pub otherwise: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub before: Vec<Spanned<String>>,
    pub before_share: Option<Spanned<i64>>,
    pub overdue_every: Option<Spanned<String>>,
    pub escalate_after: Option<Spanned<i64>>,
    pub escalate_to: Option<Spanned<Vec<Spanned<String>>>>,
}

/// Conditions on an event; in a list of events it also names the `event`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFilter {
    pub event: Option<Spanned<String>>,
    pub person_kind: Option<Spanned<Vec<PersonKind>>>,
    pub person_left: Option<Spanned<bool>>,
    pub device_kind: Option<Spanned<Vec<DeviceKind>>>,
    pub device_owner: Option<Spanned<Vec<DeviceOwner>>>,
    pub personal_data: Option<Spanned<bool>>,
    pub notifiable: Option<Spanned<bool>>,
    pub stolen: Option<Spanned<bool>>,
    pub wiped: Option<Spanned<bool>>,
    pub category: Option<Spanned<String>>,
    pub course: Option<Spanned<String>>,
    pub agreement: Option<Spanned<String>>,
    pub policy: Option<Spanned<Vec<Spanned<String>>>>,
    pub resource_prefix: Option<Spanned<String>>,
    pub to_outside_mail_domains: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequire {
    pub mfa: Option<bool>,
    pub accepted: Option<Spanned<String>>,
    pub agreement: Option<String>,
    pub training: Option<String>,
    pub route: Option<RawRoute>,
}

/// A policy's approval route, as a pack writes it (see `Route`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRoute {
    pub approved_by: Vec<String>,
    pub consulted: Vec<String>,
    pub minor_approved_by: Vec<String>,
    pub minor_consulted: Vec<String>,
}

/// An event in a list: a bare name, or a table with `event` and conditions.
#[derive(Debug)]
pub enum RawMatch {
    Name(String),
    Table(Box<RawFilter>),
}

impl<'de> Deserialize<'de> for RawMatch {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MatchVisitor;
        impl<'de> Visitor<'de> for MatchVisitor {
            type Value = RawMatch;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event type, or a table such as { event = \"incident_assessed\", notifiable = false }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawMatch, E> {
                Ok(RawMatch::Name(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawMatch, A::Error> {
                RawFilter::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|f| RawMatch::Table(Box::new(f)))
            }
        }
        d.deserialize_any(MatchVisitor)
    }
}
