//! The words a rule is put into: who, what happened, what must follow. One
//! table per event type, matched exhaustively, so a new event type cannot
//! be added without saying how a council would write it.

use crate::duration::Duration;
use crate::pack::{EventFlag, EventText, Filter, PolicyPack};
use domain::{DeviceOwner, EventType, PersonKind};

/// `town_clerk` as "town clerk", `it_board` as "IT board".
pub fn spaced(id: &str) -> String {
    id.split(['_', '-'])
        .map(|word| match word {
            "it" | "ict" | "ig" | "siro" | "dpo" | "hr" | "mfa" => word.to_uppercase(),
            other => other.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Each person of these kinds: "each councillor", "everyone".
pub fn each_person(kinds: Option<&[PersonKind]>) -> String {
    match kinds {
        None | Some([]) => "everyone".into(),
        Some(kinds) => either(
            &kinds
                .iter()
                .map(|k| one_person(*k).replacen("a ", "each ", 1))
                .collect::<Vec<_>>(),
        ),
    }
}

/// Expense claims a filter is about: ("broadband claims by councillors",
/// "broadband claim by a councillor").
pub fn claims(filter: &Filter) -> (String, String) {
    let category = prefix(filter, EventText::Category);
    match filter.person_kind.as_deref() {
        None | Some([]) => (format!("{category}claims"), format!("{category}claim")),
        Some(kinds) => (
            format!("{category}claims by {}", everyone(Some(kinds))),
            format!("{category}claim by {}", someone(Some(kinds))),
        ),
    }
}

/// "a, b or c".
pub fn either(items: &[String]) -> String {
    list(items, "or")
}

/// "a, b and c".
pub fn both(items: &[String]) -> String {
    list(items, "and")
}

fn list(items: &[String], word: &str) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} {word} {last}", rest.join(", ")),
    }
}

/// The first letter in capitals.
pub fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A clock's length as people say it.
pub fn duration(d: &Duration) -> String {
    match d {
        Duration::SameDay => "the same day".into(),
        other => other.to_string(),
    }
}

/// One person of these kinds: "a councillor", "a councillor or a member of
/// staff"; "someone" when the rule does not say.
pub fn someone(kinds: Option<&[PersonKind]>) -> String {
    match kinds {
        None | Some([]) => "someone".into(),
        Some(kinds) => either(
            &kinds
                .iter()
                .map(|k| one_person(*k).into())
                .collect::<Vec<_>>(),
        ),
    }
}

/// Everyone of these kinds: "councillors", "staff"; "everyone".
pub fn everyone(kinds: Option<&[PersonKind]>) -> String {
    match kinds {
        None | Some([]) => "everyone".into(),
        Some(kinds) => both(&kinds.iter().map(|k| people(*k).into()).collect::<Vec<_>>()),
    }
}

pub fn one_person(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Councillor => "a councillor",
        PersonKind::Employee => "a member of staff",
        PersonKind::ThirdParty => "a third party",
    }
}

pub fn people(kind: PersonKind) -> &'static str {
    match kind {
        PersonKind::Councillor => "councillors",
        PersonKind::Employee => "staff",
        PersonKind::ThirdParty => "third parties",
    }
}

/// The devices a filter is about: "council-owned laptop", "device".
pub fn device(filter: &Filter) -> String {
    let owner = match filter.device_owner.as_deref() {
        Some([DeviceOwner::Council]) => "council-owned ",
        Some([DeviceOwner::Personal]) => "personally owned ",
        _ => "",
    };
    let kinds = match filter.device_kind.as_deref() {
        None | Some([]) => "device".to_owned(),
        Some(kinds) => either(&kinds.iter().map(|k| device_kind(&k.0)).collect::<Vec<_>>()),
    };
    format!("{owner}{kinds}")
}

fn device_kind(kind: &str) -> String {
    match kind {
        "smartphone" => "phone".into(),
        other => spaced(other),
    }
}

/// The policies a filter names, by title, or `fallback`.
pub fn policies(filter: &Filter, pack: &PolicyPack, fallback: &str) -> String {
    match filter.policy.as_deref() {
        None | Some([]) => fallback.into(),
        Some(ids) => both(
            &ids.iter()
                .map(|id| {
                    pack.policy(id)
                        .map_or_else(|| format!("policy {id}"), |p| format!("the {}", p.title))
                })
                .collect::<Vec<_>>(),
        ),
    }
}

fn text(filter: &Filter, which: EventText) -> Option<String> {
    filter
        .texts
        .iter()
        .find(|(t, _)| *t == which)
        .map(|(_, v)| spaced(v))
}

/// "data protection " for a course condition, "" without one.
fn prefix(filter: &Filter, which: EventText) -> String {
    text(filter, which).map_or_else(String::new, |t| format!("{t} "))
}

/// What happened, as a clause: "a councillor leaves", "a council-owned
/// laptop's removal from the premises is approved".
pub fn happening(event: EventType, filter: &Filter, pack: &PolicyPack) -> String {
    let who = someone(filter.person_kind.as_deref());
    let device = device(filter);
    let policy = policies(filter, pack, "a policy");
    let clause = match event {
        EventType::PersonJoined => format!("{who} joins"),
        EventType::PersonMoved => format!("{who} moves to another role"),
        EventType::PersonLeft => format!("{who} leaves"),
        EventType::RoleGranted => format!("{who} is given a role"),
        EventType::RoleRevoked => format!("{who} has a role taken away"),
        EventType::AgreementSigned => format!(
            "{who} signs the {}agreement",
            prefix(filter, EventText::Agreement)
        ),
        EventType::PolicyApproved => format!("a new version of {policy} is approved"),
        EventType::PolicyReviewed => format!("{policy} is reviewed"),
        EventType::PolicyCommunicated => format!("a new version of {policy} is made known"),
        EventType::PolicyAccepted => format!("{who} accepts {policy}"),
        EventType::TrainingCompleted => format!(
            "{who} completes {}training",
            prefix(filter, EventText::Course)
        ),
        EventType::MfaEnrolled => format!("{who} sets up multi-factor authentication"),
        EventType::PasswordChanged => format!("{who} changes their password"),
        EventType::AccessGranted => format!("{who} is given access to a system"),
        EventType::AccessRevoked => format!("{who} has access to a system removed"),
        EventType::AccessReviewed => format!("{who} has their access reviewed"),
        EventType::DeviceRegistered => format!("a {device} is registered"),
        EventType::DeviceIssued => format!("a {device} is issued to {who}"),
        EventType::DeviceReturned => format!("{who} returns a {device}"),
        EventType::DeviceLost => format!("a {device} is reported lost or stolen"),
        EventType::DeviceRemovalApproved => {
            format!("a {device} is approved to leave the premises")
        }
        EventType::DeviceDisposed => format!("a {device} is disposed of"),
        EventType::IncidentReported => "an incident is reported".into(),
        EventType::IncidentAssessed => "an incident is assessed".into(),
        EventType::IncidentRegulatorNotified => {
            "the Information Commissioner is told of an incident".into()
        }
        EventType::IncidentClosed => "an incident is closed".into(),
        EventType::ExpenseClaimed => {
            format!("{who} makes a {}claim", prefix(filter, EventText::Category))
        }
        EventType::EmailForwardingDetected => format!("{who}'s council email is found forwarded"),
        EventType::ReminderQueued => "a reminder is queued".into(),
        EventType::ReminderSent => "a reminder is sent".into(),
        EventType::ReminderFailed => "a reminder cannot be sent".into(),
        EventType::EventVoided => "a record is corrected".into(),
    };
    qualified(clause, filter)
}

/// What must follow, as a clause about the thing the trigger concerned: "the
/// device is returned", "the Information Commissioner is told".
pub fn outcome(event: EventType, filter: &Filter, pack: &PolicyPack) -> String {
    let clause = match event {
        EventType::DeviceReturned => "the device is returned".to_owned(),
        EventType::DeviceLost => "the device is reported lost".into(),
        EventType::DeviceDisposed => "the device is disposed of".into(),
        EventType::AccessRevoked => "the access is removed".into(),
        EventType::AccessReviewed => "their access is reviewed".into(),
        EventType::PolicyCommunicated => {
            "the new version is made known to those it applies to".into()
        }
        EventType::PolicyReviewed => "the policy is reviewed".into(),
        EventType::PolicyApproved => "a new version is approved".into(),
        EventType::PolicyAccepted => {
            format!("they accept {}", policies(filter, pack, "the policy"))
        }
        EventType::IncidentRegulatorNotified => "the Information Commissioner is told".into(),
        EventType::IncidentAssessed => "the incident is assessed".into(),
        EventType::IncidentClosed => "the incident is closed".into(),
        EventType::PasswordChanged => "they change their password".into(),
        EventType::MfaEnrolled => "they set up multi-factor authentication".into(),
        EventType::TrainingCompleted => format!(
            "they complete {}training",
            prefix(filter, EventText::Course)
        ),
        EventType::AgreementSigned => format!(
            "they sign the {}agreement",
            prefix(filter, EventText::Agreement)
        ),
        other => return happening(other, filter, pack),
    };
    qualified(clause, filter)
}

/// The clause with the conditions it has not already said after it.
fn qualified(clause: String, filter: &Filter) -> String {
    let qualifiers = qualifiers(filter);
    if qualifiers.is_empty() {
        clause
    } else {
        format!("{clause} {}", qualifiers.join(" "))
    }
}

/// The conditions a clause has not already said, each as words that follow it.
fn qualifiers(filter: &Filter) -> Vec<String> {
    let mut words = Vec::new();
    for (flag, value) in &filter.flags {
        words.push(
            match (flag, value) {
                (EventFlag::PersonalData, true) => "involving personal data",
                (EventFlag::PersonalData, false) => "involving no personal data",
                (EventFlag::Notifiable, true) => "and found notifiable",
                (EventFlag::Notifiable, false) => "and found not notifiable",
                (EventFlag::Stolen, true) => "as stolen",
                (EventFlag::Stolen, false) => "as lost, not stolen",
                (EventFlag::Wiped, true) => "after being wiped",
                (EventFlag::Wiped, false) => "without being wiped",
            }
            .to_owned(),
        );
    }
    if let Some(prefix) = &filter.resource_prefix {
        words.push(format!("under `{prefix}`"));
    }
    match filter.to_outside_mail_domains {
        Some(true) => words.push("to an address outside the council's mail domains".into()),
        Some(false) => words.push("within the council's mail domains".into()),
        None => {}
    }
    match filter.person_left {
        Some(true) => words.push("after they have left".into()),
        Some(false) => words.push("while still with the council".into()),
        None => {}
    }
    words
}
