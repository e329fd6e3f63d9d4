//! The log as people read it: each event in the council's words, and a
//! subject's history (when each thing happened, when it was recorded and by
//! whom, voided entries struck through with who voided them, when and why),
//! shown at the foot of every person, device, incident and policy page.

use crate::authz::Action;
use crate::council::Subject;
use crate::ctx::Ctx;
use crate::layout::{table_head, when};
use crate::state::AppState;
use domain::{EventKind, Logged, Seq};
use maud::{Markup, html};
use std::collections::BTreeMap;

/// One event in the council's words.
pub fn describe(kind: &EventKind) -> String {
    use EventKind::*;
    match kind {
        PersonJoined(e) => format!("{} joined ({})", e.name, kind_words(&e.kind)),
        PersonMoved(e) => {
            let mut to = Vec::new();
            if let Some(d) = &e.department {
                to.push(format!("department {d}"));
            }
            if let Some(j) = &e.job {
                to.push(format!("job {j}"));
            }
            format!("{} moved to {}", e.person, to.join(" and "))
        }
        PersonLeft(e) => match &e.reason {
            Some(r) => format!("{} left ({r})", e.person),
            None => format!("{} left", e.person),
        },
        RoleGranted(e) => format!("{} given the role {}", e.person, e.role),
        RoleRevoked(e) => format!("{} no longer has the role {}", e.person, e.role),
        AgreementSigned(e) => format!("{} signed {}", e.person, e.agreement),
        PolicyApproved(e) => {
            let minor = if e.minor == Some(true) {
                " (a minor amendment)"
            } else {
                ""
            };
            let mut text = format!(
                "{} version {} approved by {}{minor}",
                e.policy, e.version, e.body
            );
            if let Some(consulted) = e.consulted.as_ref().filter(|c| !c.is_empty()) {
                text.push_str(&format!(", after consulting {}", consulted.join(" and ")));
            }
            text
        }
        PolicyCommunicated(e) => {
            format!("{} version {} made known to {}", e.policy, e.version, e.to)
        }
        PolicyReviewed(e) => match &e.version {
            Some(v) => format!("{} reviewed, version {v}", e.policy),
            None => format!("{} reviewed", e.policy),
        },
        PolicyAccepted(e) => format!("{} accepted {} version {}", e.person, e.policy, e.version),
        TrainingCompleted(e) => format!("{} completed {} training", e.person, e.course),
        MfaEnrolled(e) => format!("{} enrolled in multi-factor authentication", e.person),
        PasswordChanged(e) => format!("{} changed their password", e.person),
        AccessGranted(e) => format!("{} given access to {}", e.person, e.resource),
        AccessRevoked(e) => format!("{}'s access to {} revoked", e.person, e.resource),
        AccessReviewed(e) => format!("{}'s access reviewed", e.person),
        DeviceRegistered(e) => format!("{} {} registered", e.kind.as_str(), e.device),
        DeviceIssued(e) => format!("{} issued to {}", e.device, e.person),
        DeviceReturned(e) => match &e.person {
            Some(p) => format!("{} returned by {p}", e.device),
            None => format!("{} returned", e.device),
        },
        DeviceLost(e) if e.stolen => format!("{} reported stolen", e.device),
        DeviceLost(e) => format!("{} reported lost", e.device),
        DeviceRemovalApproved(e) => format!(
            "{}'s removal from the premises approved by {}",
            e.device, e.approved_by
        ),
        DeviceDisposed(e) => format!(
            "{} disposed of, {}{}",
            e.device,
            if e.wiped { "wiped" } else { "not wiped" },
            e.certificate
                .as_ref()
                .map(|c| format!(" (certificate {c})"))
                .unwrap_or_default()
        ),
        IncidentReported(e) => format!("Incident {} reported: {}", e.incident, e.kind),
        IncidentAssessed(e) if e.notifiable => {
            format!("Incident {} assessed: notifiable", e.incident)
        }
        IncidentAssessed(e) => format!("Incident {} assessed: not notifiable", e.incident),
        IncidentRegulatorNotified(e) => {
            format!(
                "Incident {} reported to the Information Commissioner",
                e.incident
            )
        }
        IncidentClosed(e) => format!("Incident {} closed", e.incident),
        ExpenseClaimed(e) => format!("{} claimed {} for {}", e.person, e.amount, e.category),
        EmailForwardingDetected(e) => format!("{}'s mail found forwarded to {}", e.person, e.to),
        EventVoided(e) => format!("Entry {} voided: {}", e.event, e.reason),
    }
}

pub fn kind_words(kind: &domain::PersonKind) -> &'static str {
    match kind {
        domain::PersonKind::Councillor => "councillor",
        domain::PersonKind::Employee => "employee",
        domain::PersonKind::ThirdParty => "third party",
    }
}

/// The address of an entry's page.
pub fn event_path(ctx: &Ctx, seq: Seq) -> String {
    format!("/c/{}/events/{seq}", ctx.council.id)
}

/// A subject's history, oldest first, voided entries struck through.
pub fn history(ctx: &Ctx, state: &AppState, subject: &Subject) -> Markup {
    let events = ctx.council.history(subject);
    let voids: BTreeMap<Seq, Logged> = events
        .iter()
        .filter(|l| matches!(l.event.kind, EventKind::EventVoided(_)))
        .map(|l| (l.seq, l.clone()))
        .collect();
    let correct = ctx.may(state, Action::CorrectRecords);
    html! {
        h2 class="govuk-heading-m" id="history" { "History" }
        @if events.is_empty() { p class="govuk-body" { "Nothing recorded." } }
        @else {
            table class="govuk-table warden-history" {
                caption class="govuk-visually-hidden" { "Everything recorded about this, oldest first" }
                (table_head(&["Happened", "What", "Recorded", "Entry"], &[]))
                tbody class="govuk-table__body" {
                    @for logged in events.iter().filter(|l| !matches!(l.event.kind, EventKind::EventVoided(_))) {
                        @let void = logged.voided_by.and_then(|v| voids.get(&v));
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (when(ctx, logged.event.at)) }
                            td class="govuk-table__cell" {
                                @if let Some(void) = void {
                                    del { (describe(&logged.event.kind)) }
                                    br;
                                    span class="govuk-body-s" {
                                        "Voided " (when(ctx, void.event.recorded_or_at()))
                                        @if let Some(by) = &void.event.by { " by " (by) }
                                        @if let EventKind::EventVoided(v) = &void.event.kind { ": " (v.reason) }
                                    }
                                } @else {
                                    (describe(&logged.event.kind))
                                }
                            }
                            td class="govuk-table__cell" {
                                (when(ctx, logged.event.recorded_or_at()))
                                @if let Some(by) = &logged.event.by { br; span class="govuk-body-s" { "by " (by) } }
                            }
                            td class="govuk-table__cell" {
                                a class="govuk-link" href=(event_path(ctx, logged.seq)) {
                                    (logged.reference())
                                    @if correct && void.is_none() { span class="govuk-visually-hidden" { ": correct or void" } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// What the success banner says after a form recorded an event of the type
/// named `?recorded=` gives, in the council's words ("Recorded" for a name
/// it does not know).
pub fn recorded_banner(name: &str) -> &'static str {
    use domain::EventType::*;
    let Some(event) = domain::EventType::ALL.iter().find(|t| t.name() == name) else {
        return "Recorded";
    };
    match event {
        PersonJoined => "The starter is recorded",
        PersonMoved => "The move is recorded",
        PersonLeft => "The leaving is recorded: work through the checklist below",
        RoleGranted => "The role is granted",
        RoleRevoked => "The role is taken away",
        AgreementSigned => "The signed agreement is recorded",
        PolicyApproved => "The new version is published",
        PolicyReviewed => "The review is recorded",
        PolicyCommunicated => "It is recorded that the version was made known",
        PolicyAccepted => "Your acceptance is recorded",
        TrainingCompleted => "The training is recorded",
        MfaEnrolled => "The second factor is recorded",
        PasswordChanged => "The password change is recorded",
        AccessGranted => "Access is granted",
        AccessRevoked => "Access is taken away",
        AccessReviewed => "The access review is recorded",
        DeviceRegistered => "The device is on the register",
        DeviceIssued => "The device is issued",
        DeviceReturned => "The device's return is recorded",
        DeviceLost => "The loss is reported",
        DeviceRemovalApproved => "Removal from the premises is approved",
        DeviceDisposed => "The disposal is recorded",
        IncidentReported => "The incident is reported",
        IncidentAssessed => "The decision on notifying the Information Commissioner is recorded",
        IncidentRegulatorNotified => "The Information Commissioner's notification is recorded",
        IncidentClosed => "The incident is closed",
        ExpenseClaimed => "The claim is recorded",
        EmailForwardingDetected => "The forwarding is recorded",
        EventVoided => "The entry is voided",
    }
}
