//! Which events a pack's rules need folded into the estate.
//!
//! Rules read only parts of the estate: who is here and of what kind, who
//! holds which device, roles, MFA, training and so on. An event that only
//! changes parts no rule of the pack reads, and that no rule hooks, can be
//! passed over by a batch evaluation without changing a finding. The
//! incremental property test checks exactly that: a service's evaluation,
//! which keeps the whole estate, and `evaluate`, which keeps only this, agree
//! after every event of generated logs for every council pack.

use crate::pack::*;
use domain::EventType;

/// A part of the estate that rules can read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    /// Who is here, and their kind.
    People,
    Roles,
    Agreements,
    PolicyVersions,
    Acceptances,
    Training,
    Mfa,
    Access,
    /// The register: each device's kind and owner.
    Devices,
    /// Who holds which device, and which are lost.
    Holding,
}

/// The part of the estate an event type changes, if any part a rule reads.
fn writes(event: EventType) -> &'static [Part] {
    use EventType::*;
    match event {
        // A rejoining person keeps the devices they still hold.
        PersonJoined => &[Part::People, Part::Holding],
        PersonLeft => &[Part::People],
        RoleGranted | RoleRevoked => &[Part::Roles],
        AgreementSigned => &[Part::Agreements],
        PolicyApproved | PolicyReviewed => &[Part::PolicyVersions],
        PolicyAccepted => &[Part::Acceptances],
        TrainingCompleted => &[Part::Training],
        MfaEnrolled => &[Part::Mfa],
        AccessGranted | AccessRevoked => &[Part::Access],
        DeviceRegistered => &[Part::Devices],
        // A loss takes a device out of what a leaver must hand back.
        DeviceIssued | DeviceReturned | DeviceDisposed | DeviceLost => &[Part::Holding],
        // Departments, passwords, access reviews, removals,
        // incidents, claims and forwarding are kept in the estate for
        // people to see, but no rule kind reads them there.
        PersonMoved
        | PolicyCommunicated
        | PasswordChanged
        | AccessReviewed
        | DeviceRemovalApproved
        | IncidentReported
        | IncidentAssessed
        | IncidentRegulatorNotified
        | IncidentClosed
        | ExpenseClaimed
        | EmailForwardingDetected
        // Reminders are read by the reminder planner, not by rules.
        | ReminderQueued
        | ReminderSent
        | ReminderFailed
        | EventVoided => &[],
    }
}

fn filter_reads(filter: &Filter, reads: &mut Vec<Part>) {
    if filter.person_kind.is_some() || filter.person_left.is_some() {
        reads.push(Part::People);
    }
    if filter.device_kind.is_some() || filter.device_owner.is_some() {
        reads.push(Part::Devices);
    }
}

/// What the pack's rules read of the estate.
fn reads(pack: &PolicyPack) -> Vec<Part> {
    let mut reads = Vec::new();
    for rule in &pack.rules {
        match &rule.kind {
            RuleKind::Obligation(o) => {
                filter_reads(&o.trigger.filter, &mut reads);
                for m in &o.discharged_by {
                    filter_reads(&m.filter, &mut reads);
                }
                match o.each {
                    Some(Each::DeviceHeld) => {
                        reads.extend([Part::People, Part::Holding, Part::Devices])
                    }
                    Some(Each::AccessHeld) => reads.extend([Part::People, Part::Access]),
                    None => {}
                }
            }
            RuleKind::Recurrence(r) => {
                for m in r.done_by.iter().chain(&r.counted_from) {
                    filter_reads(&m.filter, &mut reads);
                }
                filter_reads(&r.when, &mut reads);
                if r.subject == SubjectKind::Person {
                    reads.push(Part::People);
                }
            }
            RuleKind::Precondition(p) => {
                filter_reads(&p.on.filter, &mut reads);
                reads.push(Part::People);
                let require = &p.require;
                if require.mfa {
                    reads.push(Part::Mfa);
                }
                if require.accepted.is_some() {
                    reads.extend([Part::Acceptances, Part::PolicyVersions]);
                }
                if require.agreement.is_some() {
                    reads.push(Part::Agreements);
                }
                if require.training.is_some() {
                    reads.push(Part::Training);
                }
            }
            RuleKind::Permission(p) => {
                filter_reads(&p.on.filter, &mut reads);
                reads.extend([Part::People, Part::Roles]);
            }
            RuleKind::Limit(l) => filter_reads(&l.on.filter, &mut reads),
            RuleKind::Prohibition(p) => filter_reads(&p.on.filter, &mut reads),
        }
    }
    reads
}

/// Per event type (indexed by `EventType as usize`), whether folding it
/// into the estate can change what the pack's rules read.
pub(crate) fn events_to_apply(pack: &PolicyPack) -> Vec<bool> {
    let reads = reads(pack);
    EventType::ALL
        .iter()
        .map(|t| writes(*t).iter().any(|part| reads.contains(part)))
        .collect()
}
