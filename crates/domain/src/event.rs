//! The event vocabulary, v1 (see `docs/events.md`).
//!
//! An event is one JSON object a line: `at` (RFC 3339 with an offset), `type`,
//! optional `by`, and the fields of its type. Each type's fields are a struct
//! with `deny_unknown_fields`, so a misspelt field is an error, never a silent
//! skip. To add an event type: write its struct below, add one line to the
//! `vocabulary!` table, and give it a line in `Estate::apply` (and, if it
//! refers to something, in `Estate::check`).

use crate::ids::*;
use crate::money::Pence;
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Something that happened, as recorded in the log.
///
/// Two times: `at`, when it happened (valid time), and `recorded`, when
/// Warden learned of it (transaction time). The log is kept in recording
/// order; the estate and the rules follow `at`.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// When it happened.
    pub at: Timestamp,
    /// When Warden learned of it. Absent on v1 lines, which were recorded
    /// as they happened: see [`Event::recorded_or_at`].
    pub recorded: Option<Timestamp>,
    /// The council's own name for this event, unique within its log. An
    /// event without one is known by its place in the log, `#SEQ`. A `#SEQ`
    /// written on an input line is accepted only where it is that line's
    /// place, and is then dropped: it is implied, never stored.
    pub id: Option<EventRef>,
    /// Who did it, when the council records that.
    pub by: Option<PersonId>,
    pub kind: EventKind,
}

/// Who a person is to the council.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Councillor,
    Employee,
    ThirdParty,
}

/// Who owns a device: the council, or the person (bring your own device).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceOwner {
    Council,
    Personal,
}

/// A second factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MfaMethod {
    AuthenticatorApp,
    Sms,
    HardwareToken,
}

/// How serious an incident is, as the person reporting it judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

/// The kind of a device. Councils use more kinds than these, so any other
/// lower-case word is kept as it is written.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeviceKind(pub String);

impl DeviceKind {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One field of an event type as the vocabulary declares it: its name and
/// its Rust type as written (`PersonId`, `Option<Date>`), from which a
/// reference, a schema or a form can be built without repeating the
/// vocabulary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    /// The type as `stringify!` wrote it: `Option < PersonId >`.
    pub ty: &'static str,
}

impl Field {
    /// Whether an event of its type must carry it.
    pub fn required(&self) -> bool {
        !self.ty.trim_start().starts_with("Option")
    }

    /// The type without `Option<...>`: `PersonId`.
    pub fn base(&self) -> String {
        let ty: String = self.ty.chars().filter(|c| !c.is_whitespace()).collect();
        ty.strip_prefix("Option<")
            .and_then(|t| t.strip_suffix('>'))
            .map_or_else(|| ty.clone(), str::to_owned)
    }
}

/// How a reminder reached someone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
        }
    }
}

/// One finding and the stage of its reminder that a reminder covered:
/// `RULE/SUBJECT/SEQ/STAGE` (`uk.breach-notified-72h/INC-1/12/before-24h`).
/// A person is told each once; the rules make them (`rules::reminders`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Told(std::sync::Arc<str>);

/// Why a text is not a [`Told`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a finding's reminder: expected RULE/SUBJECT/SEQ/STAGE, each part letters, digits, `.`, `_` or `-`, 300 characters at most"
)]
pub struct BadTold(pub String);

impl Told {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The finding's part, without the stage: `RULE/SUBJECT/SEQ`.
    pub fn finding(&self) -> &str {
        self.0.rsplit_once('/').map_or(&self.0, |(f, _)| f)
    }

    /// The stage: `before-24h`, `overdue-2`.
    pub fn stage(&self) -> &str {
        self.0.rsplit_once('/').map_or("", |(_, s)| s)
    }
}

impl TryFrom<String> for Told {
    type Error = BadTold;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let part = |p: &str| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':'))
        };
        let parts: Vec<&str> = text.split('/').collect();
        if text.len() <= 300 && parts.len() >= 4 && parts.iter().all(|p| part(p)) {
            Ok(Told(text.into()))
        } else {
            Err(BadTold(text))
        }
    }
}

impl From<Told> for String {
    fn from(told: Told) -> String {
        told.0.to_string()
    }
}

impl std::fmt::Display for Told {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The free text a field holds, if it is text (a name, a reason, a
/// description), for the one rule every way in applies (`Text::check`).
/// Ids, times, dates, money and choices hold none: they are read by rules
/// of their own.
pub trait FieldText {
    fn texts<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a str)>);
}

impl FieldText for String {
    fn texts<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a str)>) {
        out.push((field, self));
    }
}

impl<T: FieldText> FieldText for Option<T> {
    fn texts<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a str)>) {
        if let Some(value) = self {
            value.texts(field, out);
        }
    }
}

impl<T: FieldText> FieldText for Vec<T> {
    fn texts<'a>(&'a self, field: &'static str, out: &mut Vec<(&'static str, &'a str)>) {
        for value in self {
            value.texts(field, out);
        }
    }
}

macro_rules! no_text {
    ($($ty:ty),*) => {
        $(impl FieldText for $ty {
            fn texts<'a>(&'a self, _: &'static str, _: &mut Vec<(&'static str, &'a str)>) {}
        })*
    };
}

no_text!(
    PersonId,
    DeviceId,
    IncidentId,
    PolicyId,
    ResourceId,
    Role,
    Agreement,
    Course,
    HouseholdId,
    EventRef,
    bool,
    u32,
    Timestamp,
    Date,
    Pence,
    PersonKind,
    DeviceOwner,
    MfaMethod,
    Severity,
    DeviceKind,
    Channel,
    Told
);

macro_rules! fields {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $($(#[$fdoc])* pub $field: $ty,)*
        }

        impl $name {
            /// Its fields, in declaration order.
            pub const FIELDS: &'static [Field] = &[$(Field {
                name: stringify!($field),
                ty: stringify!($ty),
            },)*];

            /// Its free text, field by field.
            pub fn texts(&self) -> Vec<(&'static str, &str)> {
                let mut out = Vec::new();
                $(FieldText::texts(&self.$field, stringify!($field), &mut out);)*
                out
            }
        }
    };
}

fields!(PersonJoined {
    person: PersonId,
    name: String,
    kind: PersonKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    household: Option<HouseholdId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    term_ends: Option<Date>,
    /// Their job title, as HR writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    /// Who manages them: a manager's team is the people who name them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manager: Option<PersonId>,
});
fields!(PersonMoved {
    person: PersonId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manager: Option<PersonId>,
});
fields!(PersonLeft {
    person: PersonId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
});

impl PersonLeft {
    /// The reason recorded when a person leaves because their account was
    /// disabled at the source (an identity provider, an import of its
    /// users): the same words whichever way it came in.
    pub const ACCOUNT_DISABLED: &'static str = "account disabled";
}
fields!(
    /// A reminder decided on and queued to go to `recipient` at `address`: the
    /// council's record that it set out to tell them, made before the mail
    /// is handed over, so no second sender sends it again.
    ReminderQueued {
        recipient: PersonId,
        channel: Channel,
        address: String,
        findings: Vec<Told>,
    }
);
fields!(
    /// The proof: the reminder `reminder` was handed to the mail server.
    ReminderSent {
        recipient: PersonId,
        reminder: EventRef,
        channel: Channel,
        findings: Vec<Told>,
    }
);
fields!(
    /// The reminder `reminder` could not be sent after `attempts` tries;
    /// what it covered is free to be sent again.
    ReminderFailed {
        recipient: PersonId,
        reminder: EventRef,
        reason: String,
        attempts: u32,
    }
);
fields!(RoleChange {
    person: PersonId,
    role: Role
});
fields!(AgreementSigned {
    person: PersonId,
    agreement: Agreement
});
fields!(PolicyApproved {
    policy: PolicyId,
    version: String,
    body: String,
    /// SHA-256 (hex) of the version's text, kept beside the log by that
    /// digest: what everyone who accepts this version is shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_sha256: Option<String>,
    /// A minor amendment, which a pack's route may let a delegated
    /// authority approve.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minor: Option<bool>,
    /// Who was consulted before it was approved (a committee, a board):
    /// what a pack's approval route asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    consulted: Option<Vec<String>>,
});
fields!(
    /// A version of a policy made known to those its RACI names as
    /// Informed (Redditch's "All Councillors").
    PolicyCommunicated {
        policy: PolicyId,
        version: String,
        to: String,
    }
);
fields!(PolicyReviewed {
    policy: PolicyId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<String>,
});
fields!(PolicyAccepted {
    person: PersonId,
    policy: PolicyId,
    version: String,
    /// SHA-256 (hex) of the exact text the person was shown, so the council
    /// can later prove what was agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text_sha256: Option<String>,
});
fields!(TrainingCompleted {
    person: PersonId,
    course: Course
});
fields!(MfaEnrolled {
    person: PersonId,
    method: MfaMethod
});
fields!(PersonOnly { person: PersonId });
fields!(AccessChange {
    person: PersonId,
    resource: ResourceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    requested_by: Option<PersonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    approved_by: Option<PersonId>,
});
fields!(DeviceRegistered {
    device: DeviceId,
    kind: DeviceKind,
    owner: DeviceOwner,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    acquired: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    make: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    model: Option<String>,
    /// The manufacturer's serial number (the asset tag is `device`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    serial: Option<String>,
});
fields!(DeviceIssued {
    device: DeviceId,
    person: PersonId
});
fields!(DeviceReturned {
    device: DeviceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<PersonId>,
});
fields!(DeviceLost {
    device: DeviceId,
    /// When the loss was discovered; `at` is when it was reported.
    discovered: Timestamp,
    stolen: bool,
});
fields!(DeviceRemovalApproved {
    device: DeviceId,
    approved_by: PersonId
});
fields!(DeviceDisposed {
    device: DeviceId,
    wiped: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    certificate: Option<String>,
});
fields!(IncidentReported {
    incident: IncidentId,
    kind: String,
    discovered: Timestamp,
    personal_data: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    person: Option<PersonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    device: Option<DeviceId>,
    /// What happened, in the reporter's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    /// How many people's data it touched, as far as is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    people_affected: Option<u32>,
});
fields!(IncidentNotified {
    incident: IncidentId,
    /// The regulator's own reference for the report (the ICO's case number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reference: Option<String>,
});
fields!(IncidentAssessed {
    incident: IncidentId,
    notifiable: bool
});
fields!(IncidentOnly {
    incident: IncidentId
});
fields!(ExpenseClaimed {
    person: PersonId,
    category: String,
    amount: Pence,
    household: HouseholdId,
});
fields!(EmailForwardingDetected {
    person: PersonId,
    to: String
});
fields!(
    /// A correction: the event named is taken out of the estate and the
    /// findings, and stays in the log and the chain.
    EventVoided {
        event: EventRef,
        reason: String
    }
);

/// Declares the vocabulary once: the `EventKind` enum, the `EventType` names a
/// pack refers to, and the strict decoder from a type name and its fields.
macro_rules! vocabulary {
    ($($variant:ident($payload:ty) = $name:literal / $words:literal,)*) => {
        /// What happened, with the fields of its type.
        #[derive(Clone, Debug, PartialEq)]
        pub enum EventKind {
            $($variant($payload),)*
        }

        /// The name of an event type, as written in logs and packs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EventType {
            $($variant,)*
        }

        impl EventType {
            /// Every event type, in vocabulary order.
            pub const ALL: &'static [EventType] = &[$(EventType::$variant,)*];

            /// The name used in the log's `type` field.
            pub fn name(self) -> &'static str {
                match self {
                    $(EventType::$variant => $name,)*
                }
            }

            /// What it is in a council's words, as a phrase that fits "due
            /// within 48 hours of ...": "leaving", "the regulator told".
            pub fn words(self) -> &'static str {
                match self {
                    $(EventType::$variant => $words,)*
                }
            }

            /// The fields an event of this type carries besides the
            /// envelope (`at`, `recorded`, `id`, `by`, `type`).
            pub fn fields(self) -> &'static [Field] {
                match self {
                    $(EventType::$variant => <$payload>::FIELDS,)*
                }
            }

            /// The type with this name, if the vocabulary has one.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some(EventType::$variant),)*
                    _ => None,
                }
            }
        }

        impl EventKind {
            pub fn event_type(&self) -> EventType {
                match self {
                    $(EventKind::$variant(_) => EventType::$variant,)*
                }
            }

            /// Decodes the fields of an event whose `type` is `event_type`.
            pub fn from_fields(
                event_type: EventType,
                fields: serde_json::Map<String, serde_json::Value>,
            ) -> Result<Self, serde_json::Error> {
                let value = serde_json::Value::Object(fields);
                Ok(match event_type {
                    $(EventType::$variant => EventKind::$variant(serde_json::from_value(value)?),)*
                })
            }

            /// Decodes the fields of a `event_type` event from a deserializer
            /// that yields them directly (see `fast.rs`).
            pub(crate) fn decode_typed<'de, D: serde::Deserializer<'de>>(
                event_type: EventType,
                d: D,
            ) -> Result<Self, D::Error> {
                Ok(match event_type {
                    $(EventType::$variant => EventKind::$variant(<$payload as serde::Deserialize>::deserialize(d)?),)*
                })
            }

            /// The event's free text, field by field (`FieldText`).
            pub fn texts(&self) -> Vec<(&'static str, &str)> {
                match self {
                    $(EventKind::$variant(p) => p.texts(),)*
                }
            }

            /// The fields of this event, without `at`, `type` and `by`.
            pub fn to_fields(&self) -> serde_json::Value {
                let value = match self {
                    $(EventKind::$variant(p) => serde_json::to_value(p),)*
                };
                // Serialising these plain structs into a JSON value cannot fail:
                // every field is a string, bool, date or timestamp.
                value.unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

vocabulary! {
    PersonJoined(PersonJoined) = "person_joined" / "joining",
    PersonMoved(PersonMoved) = "person_moved" / "a move",
    PersonLeft(PersonLeft) = "person_left" / "leaving",
    RoleGranted(RoleChange) = "role_granted" / "a role given",
    RoleRevoked(RoleChange) = "role_revoked" / "a role taken away",
    AgreementSigned(AgreementSigned) = "agreement_signed" / "the agreement signed",
    PolicyApproved(PolicyApproved) = "policy_approved" / "approval",
    PolicyReviewed(PolicyReviewed) = "policy_reviewed" / "a review",
    PolicyCommunicated(PolicyCommunicated) = "policy_communicated" / "the version made known",
    PolicyAccepted(PolicyAccepted) = "policy_accepted" / "acceptance",
    TrainingCompleted(TrainingCompleted) = "training_completed" / "training completed",
    MfaEnrolled(MfaEnrolled) = "mfa_enrolled" / "MFA enrolment",
    PasswordChanged(PersonOnly) = "password_changed" / "a password change",
    AccessGranted(AccessChange) = "access_granted" / "access granted",
    AccessRevoked(AccessChange) = "access_revoked" / "access revoked",
    AccessReviewed(PersonOnly) = "access_reviewed" / "an access review",
    DeviceRegistered(DeviceRegistered) = "device_registered" / "registration",
    DeviceIssued(DeviceIssued) = "device_issued" / "issue",
    DeviceReturned(DeviceReturned) = "device_returned" / "the device returned",
    DeviceLost(DeviceLost) = "device_lost" / "a loss reported",
    DeviceRemovalApproved(DeviceRemovalApproved) = "device_removal_approved" / "removal approved",
    DeviceDisposed(DeviceDisposed) = "device_disposed" / "disposal",
    IncidentReported(IncidentReported) = "incident_reported" / "the report",
    IncidentAssessed(IncidentAssessed) = "incident_assessed" / "an assessment",
    IncidentRegulatorNotified(IncidentNotified) = "incident_regulator_notified" / "the regulator told",
    IncidentClosed(IncidentOnly) = "incident_closed" / "closure",
    ExpenseClaimed(ExpenseClaimed) = "expense_claimed" / "a claim",
    EmailForwardingDetected(EmailForwardingDetected) = "email_forwarding_detected" / "mail forwarding found",
    ReminderQueued(ReminderQueued) = "reminder_queued" / "a reminder queued",
    ReminderSent(ReminderSent) = "reminder_sent" / "a reminder sent",
    ReminderFailed(ReminderFailed) = "reminder_failed" / "a reminder that could not be sent",
    EventVoided(EventVoided) = "event_voided" / "a correction",
}

impl Event {
    /// The event as one compact JSON object with its keys sorted and `at` in
    /// UTC (`Z`): the canonical form the store hashes (`docs/storage.md`),
    /// and the form generated logs are written in.
    pub fn to_canonical_json(&self) -> String {
        // A BTreeMap, not serde_json's Map: whether that map keeps keys
        // sorted or in insertion order depends on a cargo feature any crate
        // in the build may switch on (`preserve_order`; the web service's
        // dependencies do), and the hash chain must not depend on that.
        let mut fields: BTreeMap<String, serde_json::Value> = match self.kind.to_fields() {
            serde_json::Value::Object(fields) => fields.into_iter().collect(),
            _ => BTreeMap::new(),
        };
        let text = serde_json::Value::String;
        fields.insert("type".into(), text(self.kind.event_type().name().into()));
        fields.insert("at".into(), text(self.at.to_string()));
        if let Some(recorded) = self.recorded {
            fields.insert("recorded".into(), text(recorded.to_string()));
        }
        // A `#SEQ` id is the event's place in the log, implied, never written.
        if let Some(EventRef::Id(id)) = &self.id {
            fields.insert("id".into(), text(id.to_string()));
        }
        if let Some(by) = &self.by {
            fields.insert("by".into(), text(by.to_string()));
        }
        serde_json::to_string(&fields).unwrap_or_default()
    }
}

impl Event {
    /// An event that happened at `at`, with no id, author or recording time yet.
    pub fn new(at: Timestamp, kind: EventKind) -> Self {
        Event {
            at,
            recorded: None,
            id: None,
            by: None,
            kind,
        }
    }

    /// When Warden learned of it: `recorded`, or for a v1 line, which has
    /// none, `at` (such logs were written as things happened).
    pub fn recorded_or_at(&self) -> Timestamp {
        self.recorded.unwrap_or(self.at)
    }

    /// The council's own id, if the event has one.
    pub fn own_id(&self) -> Option<&EventId> {
        match &self.id {
            Some(EventRef::Id(id)) => Some(id),
            _ => None,
        }
    }
}

impl AsRef<Event> for Event {
    fn as_ref(&self) -> &Event {
        self
    }
}

/// By name, as in logs and packs.
impl Serialize for EventType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for EventType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(d)?;
        EventType::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("no event type is called {name:?}")))
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl EventKind {
    /// The person the event is about (not who recorded it).
    pub fn person(&self) -> Option<&PersonId> {
        use EventKind::*;
        match self {
            PersonJoined(e) => Some(&e.person),
            PersonMoved(e) => Some(&e.person),
            PersonLeft(e) => Some(&e.person),
            RoleGranted(e) | RoleRevoked(e) => Some(&e.person),
            AgreementSigned(e) => Some(&e.person),
            PolicyAccepted(e) => Some(&e.person),
            TrainingCompleted(e) => Some(&e.person),
            MfaEnrolled(e) => Some(&e.person),
            PasswordChanged(e) | AccessReviewed(e) => Some(&e.person),
            AccessGranted(e) | AccessRevoked(e) => Some(&e.person),
            DeviceIssued(e) => Some(&e.person),
            DeviceReturned(e) => e.person.as_ref(),
            IncidentReported(e) => e.person.as_ref(),
            ExpenseClaimed(e) => Some(&e.person),
            EmailForwardingDetected(e) => Some(&e.person),
            ReminderQueued(e) => Some(&e.recipient),
            ReminderSent(e) => Some(&e.recipient),
            ReminderFailed(e) => Some(&e.recipient),
            PolicyApproved(_)
            | PolicyReviewed(_)
            | PolicyCommunicated(_)
            | DeviceRegistered(_)
            | DeviceLost(_)
            | DeviceRemovalApproved(_)
            | DeviceDisposed(_)
            | IncidentAssessed(_)
            | IncidentRegulatorNotified(_)
            | IncidentClosed(_)
            | EventVoided(_) => None,
        }
    }

    /// The device the event is about.
    pub fn device(&self) -> Option<&DeviceId> {
        use EventKind::*;
        match self {
            DeviceRegistered(e) => Some(&e.device),
            DeviceIssued(e) => Some(&e.device),
            DeviceReturned(e) => Some(&e.device),
            DeviceLost(e) => Some(&e.device),
            DeviceRemovalApproved(e) => Some(&e.device),
            DeviceDisposed(e) => Some(&e.device),
            IncidentReported(e) => e.device.as_ref(),
            _ => None,
        }
    }

    /// The incident the event is about.
    pub fn incident(&self) -> Option<&IncidentId> {
        use EventKind::*;
        match self {
            IncidentReported(e) => Some(&e.incident),
            IncidentAssessed(e) => Some(&e.incident),
            IncidentRegulatorNotified(e) => Some(&e.incident),
            IncidentClosed(e) => Some(&e.incident),
            _ => None,
        }
    }

    /// The policy the event is about.
    pub fn policy(&self) -> Option<&PolicyId> {
        use EventKind::*;
        match self {
            PolicyApproved(e) => Some(&e.policy),
            PolicyReviewed(e) => Some(&e.policy),
            PolicyCommunicated(e) => Some(&e.policy),
            PolicyAccepted(e) => Some(&e.policy),
            _ => None,
        }
    }

    /// The resource the event is about.
    pub fn resource(&self) -> Option<&ResourceId> {
        match self {
            EventKind::AccessGranted(e) | EventKind::AccessRevoked(e) => Some(&e.resource),
            _ => None,
        }
    }

    /// Every other person the event names besides its subject: requesters,
    /// approvers. They must be people the log has introduced.
    pub fn other_people(&self) -> Vec<(&'static str, &PersonId)> {
        match self {
            EventKind::AccessGranted(e) | EventKind::AccessRevoked(e) => {
                let mut named = Vec::new();
                if let Some(p) = &e.requested_by {
                    named.push(("requested_by", p));
                }
                if let Some(p) = &e.approved_by {
                    named.push(("approved_by", p));
                }
                named
            }
            EventKind::DeviceRemovalApproved(e) => vec![("approved_by", &e.approved_by)],
            EventKind::PersonJoined(PersonJoined {
                manager: Some(m), ..
            })
            | EventKind::PersonMoved(PersonMoved {
                manager: Some(m), ..
            }) => vec![("manager", m)],
            _ => Vec::new(),
        }
    }
}

/// Which ids an event type carries. A pack uses this to refuse a rule that
/// could never fire, such as a clock on a device discharged by an event that
/// names no device.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subjects {
    pub person: bool,
    pub device: bool,
    pub incident: bool,
    pub policy: bool,
    pub resource: bool,
}

impl EventType {
    pub fn subjects(self) -> Subjects {
        use EventType::*;
        let none = Subjects::default();
        let person = Subjects {
            person: true,
            ..none
        };
        let device = Subjects {
            device: true,
            ..none
        };
        let incident = Subjects {
            incident: true,
            ..none
        };
        match self {
            PersonJoined
            | PersonMoved
            | PersonLeft
            | RoleGranted
            | RoleRevoked
            | AgreementSigned
            | TrainingCompleted
            | MfaEnrolled
            | PasswordChanged
            | AccessReviewed
            | ExpenseClaimed
            | EmailForwardingDetected
            | ReminderQueued
            | ReminderSent
            | ReminderFailed => person,
            PolicyAccepted => Subjects {
                policy: true,
                ..person
            },
            PolicyApproved | PolicyReviewed | PolicyCommunicated => Subjects {
                policy: true,
                ..none
            },
            AccessGranted | AccessRevoked => Subjects {
                resource: true,
                ..person
            },
            DeviceIssued | DeviceReturned => Subjects {
                device: true,
                ..person
            },
            DeviceRegistered | DeviceLost | DeviceRemovalApproved | DeviceDisposed => device,
            IncidentReported => Subjects {
                person: true,
                device: true,
                ..incident
            },
            IncidentAssessed | IncidentRegulatorNotified | IncidentClosed => incident,
            EventVoided => none,
        }
    }
}
