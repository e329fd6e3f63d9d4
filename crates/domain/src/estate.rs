//! The estate: the people, devices, policies and incidents as of some instant,
//! folded from the log by a pure `apply`. `check` says whether an event makes
//! sense against the estate before it is applied; `apply` is total, so a
//! refused event never leaves the estate half-changed.

use crate::event::*;
use crate::ids::*;
use crate::money::Pence;
use crate::small::{SmallMap, SmallSet};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// A person and everything the log has said about them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub name: String,
    pub kind: PersonKind,
    pub email: Option<String>,
    pub household: Option<HouseholdId>,
    pub term_ends: Option<Date>,
    pub department: Option<String>,
    pub job: Option<String>,
    /// Who manages them (the manager's team is everyone who names them).
    #[serde(default)]
    pub manager: Option<PersonId>,
    pub joined: Timestamp,
    pub left: Option<Timestamp>,
    pub roles: SmallSet<Role>,
    pub agreements: SmallMap<Agreement, Timestamp>,
    /// Per policy, each version accepted and when.
    pub acceptances: SmallMap<PolicyId, SmallMap<String, Timestamp>>,
    /// Per course, the last completion.
    pub training: SmallMap<Course, Timestamp>,
    pub mfa: SmallSet<MfaMethod>,
    pub password_changed: Option<Timestamp>,
    pub access: SmallMap<ResourceId, AccessGrant>,
    pub access_reviewed: Option<Timestamp>,
    pub devices_held: SmallSet<DeviceId>,
    /// Each finding's reminder stage they have been told of, or are being
    /// told of (queued and not failed): a person is told each once.
    #[serde(default)]
    pub told: SmallSet<Told>,
    /// Reminders queued to them with no outcome yet, by the queued
    /// event's id, with what each covers.
    #[serde(default)]
    pub reminders_pending: SmallMap<EventId, Vec<Told>>,
}

impl Person {
    pub fn is_present(&self) -> bool {
        self.left.is_none()
    }

    pub fn has_accepted(&self, policy: &PolicyId, version: &str) -> bool {
        self.acceptances
            .get(policy)
            .is_some_and(|versions| versions.contains_key(version))
    }
}

/// A standing grant of access to a resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessGrant {
    pub granted: Timestamp,
    pub requested_by: Option<PersonId>,
    pub approved_by: Option<PersonId>,
}

/// A device on the asset register.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Device {
    pub kind: DeviceKind,
    pub owner: DeviceOwner,
    pub acquired: Option<Date>,
    pub registered: Timestamp,
    pub holder: Option<PersonId>,
    pub lost: Option<Loss>,
    pub disposed: Option<Timestamp>,
    pub removal_approved_by: Vec<PersonId>,
    /// Make, model and serial number, when the register has them: boxed,
    /// since most estates at national scale leave them out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Box<DeviceDetails>>,
}

impl Device {
    /// Where the device stands on the register: `disposed`, `lost` (or
    /// stolen), `held` (issued to someone) or `store`.
    pub fn state(&self) -> &'static str {
        if self.disposed.is_some() {
            "disposed"
        } else if self.lost.is_some() {
            "lost"
        } else if self.holder.is_some() {
            "held"
        } else {
            "store"
        }
    }
}

/// What the asset register says a device is, beyond its kind.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DeviceDetails {
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Loss {
    pub discovered: Timestamp,
    pub reported: Timestamp,
    pub stolen: bool,
}

/// A policy's current version and review history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyState {
    pub version: Option<String>,
    pub body: Option<String>,
    pub approved: Option<Timestamp>,
    pub reviewed: Option<Timestamp>,
    /// The current version's text, by its SHA-256, when it was published
    /// with one (else the pack's own text, for the pack's version).
    #[serde(default)]
    pub text_sha256: Option<String>,
    /// Every version approved in the log, oldest first.
    #[serde(default)]
    pub versions: Vec<PolicyVersion>,
}

/// One approved version of a policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub version: String,
    pub body: String,
    pub approved: Timestamp,
    pub text_sha256: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub kind: String,
    pub discovered: Timestamp,
    pub reported: Timestamp,
    pub personal_data: bool,
    pub person: Option<PersonId>,
    pub device: Option<DeviceId>,
    pub notifiable: Option<bool>,
    pub regulator_notified: Option<Timestamp>,
    pub closed: Option<Timestamp>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub severity: Option<crate::event::Severity>,
    #[serde(default)]
    pub people_affected: Option<u32>,
    /// The regulator's reference, given when it was told.
    #[serde(default)]
    pub regulator_reference: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpenseClaim {
    pub at: Timestamp,
    pub person: PersonId,
    pub category: String,
    pub amount: Pence,
    pub household: HouseholdId,
}

/// Why an event cannot be applied to the estate as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{field} `{id}` is not a person the log has introduced (expected a `person_joined` earlier)"
    )]
    UnknownPerson { field: &'static str, id: String },
    #[error("device `{0}` is not on the register (expected a `device_registered` earlier)")]
    UnknownDevice(String),
    #[error("incident `{0}` has not been reported (expected an `incident_reported` earlier)")]
    UnknownIncident(String),
    #[error("policy `{0}` is not declared by the pack (declared: {1})")]
    UndeclaredPolicy(String, String),
    #[error("person `{0}` has already joined and has not left")]
    AlreadyJoined(String),
    #[error("device `{0}` is already on the register")]
    DeviceAlreadyRegistered(String),
    #[error("incident `{0}` has already been reported")]
    IncidentAlreadyReported(String),
    #[error("device `{device}` is held by `{holder}`: record its `device_returned` first")]
    DeviceHeld { device: String, holder: String },
    #[error("device `{0}` is not issued to anyone, so it cannot be returned")]
    DeviceNotHeld(String),
    #[error("device `{device}` is held by `{holder}`, not by `{claimed}`")]
    WrongHolder {
        device: String,
        holder: String,
        claimed: String,
    },
    #[error("device `{0}` has been disposed of")]
    DeviceDisposed(String),
    #[error("person `{person}` left on {left}: a device cannot be issued to someone who has left")]
    PersonHasLeft { person: String, left: Timestamp },
    #[error("a claim's amount must be more than £0.00, not {0}")]
    AmountNotPositive(Pence),
    // What a command may not do now, though a record of the past may show
    // it done (`Estate::check_command`).
    #[error(
        "household `{household}` is not the one recorded for `{person}` ({recorded}): a claim is made for the claimant's own household"
    )]
    NotTheirHousehold {
        person: String,
        household: String,
        recorded: String,
    },
    #[error(
        "incident `{0}` involves personal data: decide whether it must be notified to the Information Commissioner (record the assessment) before closing it"
    )]
    IncidentUndecided(String),
    #[error(
        "incident `{0}` was assessed as notifiable: record the notification to the Information Commissioner before closing it"
    )]
    IncidentNotNotified(String),
    #[error("incident `{0}` is already closed")]
    IncidentAlreadyClosed(String),
    #[error(
        "version {version} of policy `{policy}` was approved on {approved}: a new version needs a number of its own"
    )]
    VersionAlreadyUsed {
        policy: String,
        version: String,
        approved: Timestamp,
    },
    #[error("`{0}` is not a SHA-256 digest: expected 64 lower-case hexadecimal characters")]
    NotADigest(String),
    #[error("`{field}` {why}")]
    BadText { field: &'static str, why: String },
    #[error(
        "device `{device}` is held by `{holder}`: record its return, or its loss, before disposing of it"
    )]
    DisposedWhileHeld { device: String, holder: String },
    #[error(
        "device `{device}` cannot have been acquired on {acquired}, after the day it is registered ({registered}): enter the date it was bought"
    )]
    AcquiredAfterRegistered {
        device: String,
        acquired: Date,
        registered: Date,
    },
    #[error("a queued reminder needs an id of its own, which its outcome names")]
    ReminderWithoutId,
    #[error("a reminder must cover at least one finding")]
    ReminderCoversNothing,
    #[error("`{person}` has already been told `{told}`: a reminder is sent once")]
    AlreadyTold { person: String, told: String },
    #[error(
        "`{reminder}` is not a reminder queued to `{person}` and still waiting (expected the id of a `reminder_queued` with no outcome yet)"
    )]
    UnknownReminder { person: String, reminder: String },
}

/// Which policies exist: the pack declares them, the domain only asks.
pub trait PolicyCatalogue {
    fn declares(&self, policy: &PolicyId) -> bool;
    /// The declared ids, for error messages.
    fn declared(&self) -> Vec<String>;
}

impl PolicyCatalogue for BTreeSet<PolicyId> {
    fn declares(&self, policy: &PolicyId) -> bool {
        self.contains(policy)
    }
    fn declared(&self) -> Vec<String> {
        self.iter().map(|p| p.to_string()).collect()
    }
}

/// What one [`Estate::apply_undoable`] changed: the entries it could touch,
/// as they were before.
#[derive(Debug)]
pub struct Undo {
    // Boxed: a journal holds tens of thousands of these, moved as a whole.
    people: [Option<(PersonId, Option<Box<Person>>)>; 2],
    device: Option<(DeviceId, Option<Box<Device>>)>,
    incident: Option<(IncidentId, Option<Box<Incident>>)>,
    policy: Option<(PolicyId, Option<Box<PolicyState>>)>,
    claims: usize,
}

/// The state of the council's estate at one instant.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Estate {
    pub people: IdMap<PersonId, Person>,
    pub devices: IdMap<DeviceId, Device>,
    pub policies: IdMap<PolicyId, PolicyState>,
    pub incidents: IdMap<IncidentId, Incident>,
    pub claims: Vec<ExpenseClaim>,
}

impl Estate {
    /// Every reason `event` does not fit the estate as it stands; empty when it fits.
    pub fn check(&self, event: &Event, policies: &dyn PolicyCatalogue) -> Vec<Refusal> {
        let mut refusals = Vec::new();
        let kind = &event.kind;
        self.check_people(event, &mut refusals);
        if let Some(device) = kind.device() {
            self.check_device(kind, device, &mut refusals);
        }
        if let Some(incident) = kind.incident() {
            let known = self.incidents.contains_key(incident);
            match kind {
                EventKind::IncidentReported(_) if known => {
                    refusals.push(Refusal::IncidentAlreadyReported(incident.to_string()))
                }
                EventKind::IncidentReported(_) => {}
                _ if !known => refusals.push(Refusal::UnknownIncident(incident.to_string())),
                _ => {}
            }
        }
        if let EventKind::ExpenseClaimed(e) = kind
            && e.amount.0 <= 0
        {
            refusals.push(Refusal::AmountNotPositive(e.amount));
        }
        for (field, text) in kind.texts() {
            if let Some(why) = text_fault(field, text) {
                refusals.push(Refusal::BadText { field, why });
            }
        }
        let digest = match kind {
            EventKind::PolicyApproved(e) => e.text_sha256.as_deref(),
            EventKind::PolicyAccepted(e) => e.text_sha256.as_deref(),
            _ => None,
        };
        if let Some(digest) = digest.filter(|d| !is_sha256_hex(d)) {
            refusals.push(Refusal::NotADigest(digest.to_owned()));
        }
        self.check_reminder(event, &mut refusals);
        if let Some(policy) = kind.policy()
            && !policies.declares(policy)
        {
            let declared = policies.declared();
            let declared = if declared.is_empty() {
                "none".to_owned()
            } else {
                declared.join(", ")
            };
            refusals.push(Refusal::UndeclaredPolicy(policy.to_string(), declared));
        }
        refusals
    }

    /// Every reason `event`, done now as a command, must not be done, beyond
    /// `check`: steps a well-run process takes first (an incident's decision
    /// and notification before it is closed; a device's return before its
    /// disposal) and dates that cannot be right. A record of the past is not
    /// held to these: it may show them skipped, and the pack's rules then
    /// find what that broke.
    pub fn check_command(&self, event: &Event) -> Vec<Refusal> {
        let mut refusals = Vec::new();
        match &event.kind {
            EventKind::IncidentClosed(e) => {
                if let Some(i) = self.incidents.get(&e.incident) {
                    let id = || e.incident.to_string();
                    if i.closed.is_some() {
                        refusals.push(Refusal::IncidentAlreadyClosed(id()));
                    } else if i.personal_data && i.notifiable.is_none() {
                        refusals.push(Refusal::IncidentUndecided(id()));
                    } else if i.notifiable == Some(true) && i.regulator_notified.is_none() {
                        refusals.push(Refusal::IncidentNotNotified(id()));
                    }
                }
            }
            EventKind::ExpenseClaimed(e) => {
                let recorded = self
                    .people
                    .get(&e.person)
                    .and_then(|p| p.household.as_ref());
                if recorded != Some(&e.household) {
                    refusals.push(Refusal::NotTheirHousehold {
                        person: e.person.to_string(),
                        household: e.household.to_string(),
                        recorded: recorded
                            .map_or_else(|| "none is recorded".to_owned(), |h| format!("`{h}`")),
                    });
                }
            }
            EventKind::DeviceDisposed(e) => {
                if let Some(d) = self.devices.get(&e.device)
                    && let Some(holder) = &d.holder
                    && d.lost.is_none()
                {
                    refusals.push(Refusal::DisposedWhileHeld {
                        device: e.device.to_string(),
                        holder: holder.to_string(),
                    });
                }
            }
            EventKind::DeviceRegistered(e) => {
                // A council's date is at most a day ahead of UTC's.
                let registered = event.at.to_zoned(jiff::tz::TimeZone::UTC).date();
                let latest = registered.tomorrow().unwrap_or(registered);
                if let Some(acquired) = e.acquired.filter(|a| *a > latest) {
                    refusals.push(Refusal::AcquiredAfterRegistered {
                        device: e.device.to_string(),
                        acquired,
                        registered,
                    });
                }
            }
            EventKind::PolicyApproved(e) => {
                let used = self
                    .policies
                    .get(&e.policy)
                    .and_then(|p| p.versions.iter().find(|v| v.version == e.version));
                if let Some(used) = used {
                    refusals.push(Refusal::VersionAlreadyUsed {
                        policy: e.policy.to_string(),
                        version: e.version.clone(),
                        approved: used.approved,
                    });
                }
            }
            _ => {}
        }
        refusals
    }

    /// A reminder is queued once per finding's stage and person, and its
    /// outcome names a reminder still waiting: how two senders at once
    /// send each reminder once, decided by the log.
    fn check_reminder(&self, event: &Event, refusals: &mut Vec<Refusal>) {
        let pending = |person: &PersonId, reminder: &EventRef| {
            let waiting = match reminder {
                EventRef::Id(id) => self
                    .people
                    .get(person)
                    .is_some_and(|p| p.reminders_pending.contains_key(id)),
                EventRef::Seq(_) => false,
            };
            (!waiting).then(|| Refusal::UnknownReminder {
                person: person.to_string(),
                reminder: reminder.to_string(),
            })
        };
        match &event.kind {
            EventKind::ReminderQueued(e) => {
                if event.own_id().is_none() {
                    refusals.push(Refusal::ReminderWithoutId);
                }
                if e.findings.is_empty() {
                    refusals.push(Refusal::ReminderCoversNothing);
                }
                if let Some(p) = self.people.get(&e.recipient) {
                    for told in e.findings.iter().filter(|t| p.told.contains(*t)) {
                        refusals.push(Refusal::AlreadyTold {
                            person: e.recipient.to_string(),
                            told: told.to_string(),
                        });
                    }
                }
            }
            EventKind::ReminderSent(e) => refusals.extend(pending(&e.recipient, &e.reminder)),
            EventKind::ReminderFailed(e) => refusals.extend(pending(&e.recipient, &e.reminder)),
            _ => {}
        }
    }

    fn check_people(&self, event: &Event, refusals: &mut Vec<Refusal>) {
        let kind = &event.kind;
        let unknown = |field: &'static str, id: &PersonId| Refusal::UnknownPerson {
            field,
            id: id.to_string(),
        };
        match (kind, kind.person()) {
            (EventKind::PersonJoined(_), Some(p))
                if self.people.get(p).is_some_and(Person::is_present) =>
            {
                refusals.push(Refusal::AlreadyJoined(p.to_string()));
            }
            (EventKind::PersonJoined(_), _) => {}
            (_, Some(p)) if !self.people.contains_key(p) => refusals.push(unknown("person", p)),
            _ => {}
        }
        for (field, p) in kind.other_people() {
            if !self.people.contains_key(p) {
                refusals.push(unknown(field, p));
            }
        }
        if let Some(p) = &event.by
            && !self.people.contains_key(p)
        {
            refusals.push(unknown("by", p));
        }
    }

    fn check_device(&self, kind: &EventKind, id: &DeviceId, refusals: &mut Vec<Refusal>) {
        let device = self.devices.get(id);
        let name = || id.to_string();
        match (kind, device) {
            (EventKind::DeviceRegistered(_), Some(_)) => {
                refusals.push(Refusal::DeviceAlreadyRegistered(name()))
            }
            (EventKind::DeviceRegistered(_), None) => {}
            (_, None) => refusals.push(Refusal::UnknownDevice(name())),
            (_, Some(d)) if d.disposed.is_some() => refusals.push(Refusal::DeviceDisposed(name())),
            (EventKind::DeviceIssued(e), Some(d)) => {
                if let Some(holder) = d.holder.as_ref().filter(|h| **h != e.person) {
                    refusals.push(Refusal::DeviceHeld {
                        device: name(),
                        holder: holder.to_string(),
                    });
                }
                if let Some(left) = self.people.get(&e.person).and_then(|p| p.left) {
                    refusals.push(Refusal::PersonHasLeft {
                        person: e.person.to_string(),
                        left,
                    });
                }
            }
            (EventKind::DeviceReturned(e), Some(d)) => match (&d.holder, &e.person) {
                (None, _) => refusals.push(Refusal::DeviceNotHeld(name())),
                (Some(holder), Some(claimed)) if holder != claimed => {
                    refusals.push(Refusal::WrongHolder {
                        device: name(),
                        holder: holder.to_string(),
                        claimed: claimed.to_string(),
                    })
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// Folds one event into the estate. Total: an event that `check` would
    /// refuse changes only what it can, so a reader of a bad log still gets
    /// every error rather than the first.
    pub fn apply(&mut self, event: &Event) {
        use EventKind::*;
        let at = event.at;
        match &event.kind {
            PersonJoined(e) => {
                let mut person = Person::joined(e, at);
                // A leaver who rejoins may still hold a device they never returned.
                if let Some(before) = self.people.remove(&e.person) {
                    person.devices_held = before.devices_held;
                    person.told = before.told;
                    person.reminders_pending = before.reminders_pending;
                }
                self.people.insert(e.person.clone(), person);
            }
            PersonMoved(e) => self.with_person(&e.person, |p| {
                if e.department.is_some() {
                    p.department.clone_from(&e.department);
                }
                if e.job.is_some() {
                    p.job.clone_from(&e.job);
                }
                if e.manager.is_some() {
                    p.manager.clone_from(&e.manager);
                }
            }),
            PersonLeft(e) => self.with_person(&e.person, |p| p.left = Some(at)),
            RoleGranted(e) => self.with_person(&e.person, |p| {
                p.roles.insert(e.role.clone());
            }),
            RoleRevoked(e) => self.with_person(&e.person, |p| {
                p.roles.remove(&e.role);
            }),
            AgreementSigned(e) => self.with_person(&e.person, |p| {
                p.agreements.insert(e.agreement.clone(), at);
            }),
            PolicyApproved(e) => {
                let policy = self.policies.entry(e.policy.clone()).or_default();
                policy.version = Some(e.version.clone());
                policy.body = Some(e.body.clone());
                policy.approved = Some(at);
                policy.text_sha256.clone_from(&e.text_sha256);
                policy.versions.push(PolicyVersion {
                    version: e.version.clone(),
                    body: e.body.clone(),
                    approved: at,
                    text_sha256: e.text_sha256.clone(),
                });
            }
            // Known to the log and its findings (an Informed clock); it
            // changes nothing a later check reads.
            PolicyCommunicated(_) => {}
            PolicyReviewed(e) => {
                let policy = self.policies.entry(e.policy.clone()).or_default();
                policy.reviewed = Some(at);
                if e.version.is_some() {
                    policy.version.clone_from(&e.version);
                }
            }
            ReminderQueued(e) => {
                let id = event.own_id().cloned();
                self.with_person(&e.recipient, |p| {
                    for told in &e.findings {
                        p.told.insert(told.clone());
                    }
                    if let Some(id) = id {
                        p.reminders_pending.insert(id, e.findings.clone());
                    }
                })
            }
            ReminderSent(e) => self.with_person(&e.recipient, |p| {
                if let EventRef::Id(id) = &e.reminder {
                    p.reminders_pending.remove(id);
                }
            }),
            // What it covered may be sent again.
            ReminderFailed(e) => self.with_person(&e.recipient, |p| {
                if let EventRef::Id(id) = &e.reminder
                    && let Some(told) = p.reminders_pending.remove(id)
                {
                    for t in &told {
                        p.told.remove(t);
                    }
                }
            }),
            PolicyAccepted(e) => self.with_person(&e.person, |p| {
                p.acceptances
                    .get_or_default(e.policy.clone())
                    .insert(e.version.clone(), at);
            }),
            TrainingCompleted(e) => self.with_person(&e.person, |p| {
                p.training.insert(e.course.clone(), at);
            }),
            MfaEnrolled(e) => self.with_person(&e.person, |p| {
                p.mfa.insert(e.method);
            }),
            PasswordChanged(e) => self.with_person(&e.person, |p| p.password_changed = Some(at)),
            AccessGranted(e) => self.with_person(&e.person, |p| {
                let grant = AccessGrant {
                    granted: at,
                    requested_by: e.requested_by.clone(),
                    approved_by: e.approved_by.clone(),
                };
                p.access.insert(e.resource.clone(), grant);
            }),
            AccessRevoked(e) => self.with_person(&e.person, |p| {
                p.access.remove(&e.resource);
            }),
            AccessReviewed(e) => self.with_person(&e.person, |p| p.access_reviewed = Some(at)),
            DeviceRegistered(e) => {
                let device = Device {
                    kind: e.kind.clone(),
                    owner: e.owner,
                    acquired: e.acquired,
                    registered: at,
                    holder: None,
                    lost: None,
                    disposed: None,
                    removal_approved_by: Vec::new(),
                    details: (e.make.is_some() || e.model.is_some() || e.serial.is_some()).then(
                        || {
                            Box::new(DeviceDetails {
                                make: e.make.clone(),
                                model: e.model.clone(),
                                serial: e.serial.clone(),
                            })
                        },
                    ),
                };
                self.devices.insert(e.device.clone(), device);
            }
            DeviceIssued(e) => self.issue(&e.device, &e.person),
            DeviceReturned(e) => self.take_back(&e.device),
            DeviceLost(e) => {
                if let Some(d) = self.devices.get_mut(&e.device) {
                    d.lost = Some(Loss {
                        discovered: e.discovered,
                        reported: at,
                        stolen: e.stolen,
                    });
                }
            }
            DeviceRemovalApproved(e) => {
                if let Some(d) = self.devices.get_mut(&e.device) {
                    d.removal_approved_by.push(e.approved_by.clone());
                }
            }
            DeviceDisposed(e) => {
                self.take_back(&e.device);
                if let Some(d) = self.devices.get_mut(&e.device) {
                    d.disposed = Some(at);
                }
            }
            IncidentReported(e) => {
                let incident = Incident {
                    kind: e.kind.clone(),
                    discovered: e.discovered,
                    reported: at,
                    personal_data: e.personal_data,
                    person: e.person.clone(),
                    device: e.device.clone(),
                    notifiable: None,
                    regulator_notified: None,
                    closed: None,
                    description: e.description.clone(),
                    severity: e.severity,
                    people_affected: e.people_affected,
                    regulator_reference: None,
                };
                self.incidents.insert(e.incident.clone(), incident);
            }
            IncidentAssessed(e) => {
                self.with_incident(&e.incident, |i| i.notifiable = Some(e.notifiable))
            }
            IncidentRegulatorNotified(e) => self.with_incident(&e.incident, |i| {
                i.regulator_notified = Some(at);
                i.regulator_reference.clone_from(&e.reference);
            }),
            IncidentClosed(e) => self.with_incident(&e.incident, |i| i.closed = Some(at)),
            ExpenseClaimed(e) => self.claims.push(ExpenseClaim {
                at,
                person: e.person.clone(),
                category: e.category.clone(),
                amount: e.amount,
                household: e.household.clone(),
            }),
            EmailForwardingDetected(_) | EventVoided(_) => {}
        }
    }

    /// `apply`, keeping what it changed so that [`Estate::undo`] can take it
    /// back: the entries the event can touch (its person, its device and
    /// that device's holder, its incident, its policy), as they were, and how
    /// many claims there were. A late record is placed by undoing the events
    /// after its `at`, applying it, and applying them again.
    pub fn apply_undoable(&mut self, event: &Event) -> Undo {
        let kind = &event.kind;
        let holder = kind
            .device()
            .and_then(|d| self.devices.get(d))
            .and_then(|d| d.holder.clone());
        let person = |id: &PersonId| (id.clone(), self.people.get(id).map(|p| Box::new(p.clone())));
        let undo = Undo {
            people: [kind.person().map(person), holder.as_ref().map(person)],
            device: kind.device().map(|id| {
                (
                    id.clone(),
                    self.devices.get(id).map(|d| Box::new(d.clone())),
                )
            }),
            incident: kind.incident().map(|id| {
                (
                    id.clone(),
                    self.incidents.get(id).map(|i| Box::new(i.clone())),
                )
            }),
            policy: match kind {
                EventKind::PolicyApproved(_) | EventKind::PolicyReviewed(_) => {
                    kind.policy().map(|id| {
                        (
                            id.clone(),
                            self.policies.get(id).map(|p| Box::new(p.clone())),
                        )
                    })
                }
                _ => None,
            },
            claims: self.claims.len(),
        };
        self.apply(event);
        undo
    }

    /// Takes back the `apply` that gave `undo`; undos are taken back in the
    /// reverse order of their applies.
    pub fn undo(&mut self, undo: Undo) {
        fn restore<K: std::hash::Hash + Eq, V>(
            map: &mut IdMap<K, V>,
            entry: Option<(K, Option<Box<V>>)>,
        ) {
            match entry {
                Some((key, Some(value))) => {
                    map.insert(key, *value);
                }
                Some((key, None)) => {
                    map.remove(&key);
                }
                None => {}
            }
        }
        let Undo {
            people: [person, holder],
            device,
            incident,
            policy,
            claims,
        } = undo;
        // The holder's entry was saved after the person's, so it goes back
        // first; when they are one person both hold the same old value.
        restore(&mut self.people, holder);
        restore(&mut self.people, person);
        restore(&mut self.devices, device);
        restore(&mut self.incidents, incident);
        restore(&mut self.policies, policy);
        self.claims.truncate(claims);
    }

    /// The version of a policy in force: the last approved or reviewed-as version.
    pub fn current_version(&self, policy: &PolicyId) -> Option<&str> {
        self.policies.get(policy).and_then(|p| p.version.as_deref())
    }

    fn with_person(&mut self, id: &PersonId, change: impl FnOnce(&mut Person)) {
        if let Some(p) = self.people.get_mut(id) {
            change(p);
        }
    }

    fn with_incident(&mut self, id: &IncidentId, change: impl FnOnce(&mut Incident)) {
        if let Some(i) = self.incidents.get_mut(id) {
            change(i);
        }
    }

    fn issue(&mut self, device: &DeviceId, person: &PersonId) {
        self.take_back(device);
        if let Some(d) = self.devices.get_mut(device) {
            d.holder = Some(person.clone());
            d.lost = None;
        }
        self.with_person(person, |p| {
            p.devices_held.insert(device.clone());
        });
    }

    fn take_back(&mut self, device: &DeviceId) {
        let Some(d) = self.devices.get_mut(device) else {
            return;
        };
        if let Some(holder) = d.holder.take() {
            self.with_person(&holder, |p| {
                p.devices_held.remove(device);
            });
        }
    }
}

impl Person {
    fn joined(e: &PersonJoined, at: Timestamp) -> Self {
        Person {
            name: e.name.clone(),
            kind: e.kind,
            email: e.email.clone(),
            household: e.household.clone(),
            term_ends: e.term_ends,
            department: e.department.clone(),
            job: e.job.clone(),
            manager: e.manager.clone(),
            joined: at,
            left: None,
            roles: SmallSet::default(),
            agreements: SmallMap::default(),
            acceptances: SmallMap::default(),
            training: SmallMap::default(),
            mfa: SmallSet::default(),
            password_changed: None,
            access: SmallMap::default(),
            access_reviewed: None,
            devices_held: SmallSet::default(),
            told: SmallSet::default(),
            reminders_pending: SmallMap::default(),
        }
    }
}

/// Whether `text` is a SHA-256 digest as Warden writes it: 64 lower-case
/// hexadecimal characters.
pub fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// What is wrong with a field's free text, if anything: the one rule for
/// names, reasons and descriptions on every way in, so that whatever is
/// recorded can be shown on a page. Text is not blank, has no control
/// characters (a description may break lines), and is at most 500
/// characters (a description, or a policy's text digest, 10,000).
pub fn text_fault(field: &str, text: &str) -> Option<String> {
    let long = field == "description";
    let limit = if long { 10_000 } else { 500 };
    if text.trim().is_empty() {
        return Some("is empty: give the text, or leave the field out where it is optional".into());
    }
    let count = text.chars().count();
    if count > limit {
        return Some(format!("is {count} characters long: at most {limit}"));
    }
    let allowed = |c: char| !c.is_control() || (long && matches!(c, '\n' | '\r' | '\t'));
    if let Some(c) = text.chars().find(|c| !allowed(*c)) {
        return Some(format!(
            "holds the control character U+{:04X}: text is letters, digits, punctuation and spaces",
            u32::from(c)
        ));
    }
    None
}
