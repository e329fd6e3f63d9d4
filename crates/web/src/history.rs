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
        ReminderQueued(e) => format!(
            "a reminder to {} at {} queued, covering {}",
            e.recipient,
            e.address,
            findings_words(e.findings.len())
        ),
        ReminderSent(e) => format!(
            "a reminder sent to {} by {}, covering {}",
            e.recipient,
            e.channel.as_str(),
            findings_words(e.findings.len())
        ),
        ReminderFailed(e) => format!(
            "a reminder to {} could not be sent after {} attempts: {}",
            e.recipient, e.attempts, e.reason
        ),
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

/// A reminder's stage in words: "24 hours before it was due".
fn stage_words(stage: &str) -> String {
    if let Some(hours) = stage
        .strip_prefix("before-")
        .and_then(|h| h.strip_suffix('h'))
        .and_then(|h| h.parse::<i64>().ok())
    {
        return match hours {
            h if h % 24 == 0 && h >= 48 => format!("{} days before it was due", h / 24),
            24 => "a day before it was due".to_owned(),
            h => format!("{h} hours before it was due"),
        };
    }
    match stage.strip_prefix("overdue-") {
        Some("1") => "when it fell overdue".to_owned(),
        Some(n) => format!("overdue, reminder {n}"),
        None if stage == "daily" => "the day's summary".to_owned(),
        None => stage.to_owned(),
    }
}

/// The reminders sent (or that could not be sent) about `subject`: a
/// person's, or those of the findings an entry started.
pub fn reminders(ctx: &Ctx, subject: &Subject, heading: &str) -> Markup {
    let sent: Vec<Logged> = ctx
        .council
        .history(subject)
        .into_iter()
        .filter(|l| {
            l.is_live()
                && matches!(
                    l.event.kind,
                    EventKind::ReminderSent(_) | EventKind::ReminderFailed(_)
                )
        })
        .collect();
    let pack = ctx.council.pack;
    html! {
        h2 class="govuk-heading-m" id="reminders" { (heading) }
        @if sent.is_empty() { p class="govuk-body" { "No reminders have been sent." } }
        @else {
            table class="govuk-table" {
                caption class="govuk-visually-hidden" { (heading) ", oldest first" }
                (table_head(&["Sent", "To", "Of", "How"], &[]))
                tbody class="govuk-table__body" {
                    @for logged in &sent {
                        tr class="govuk-table__row" {
                            td class="govuk-table__cell" { (when(ctx, logged.event.recorded_or_at())) }
                            @match &logged.event.kind {
                                EventKind::ReminderSent(e) => {
                                    td class="govuk-table__cell" { a class="govuk-link" href=(format!("/c/{}/people/{}", ctx.council.id, e.recipient)) { (e.recipient) } }
                                    td class="govuk-table__cell" {
                                        ul class="govuk-list" {
                                            @for told in &e.findings {
                                                @let rule = told.as_str().split('/').next().unwrap_or_default();
                                                li {
                                                    @if rule == "digest" { "The council's open deadlines" }
                                                    @else { (pack.rule_sentence(rule)) }
                                                    " (" (stage_words(told.stage())) ")"
                                                }
                                            }
                                        }
                                    }
                                    td class="govuk-table__cell" { "By " (e.channel.as_str()) }
                                }
                                EventKind::ReminderFailed(e) => {
                                    td class="govuk-table__cell" { (e.recipient) }
                                    td class="govuk-table__cell" { "Not sent: " (e.reason) }
                                    td class="govuk-table__cell" { "Failed after " (e.attempts) " tries" }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
        }
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

/// "1 finding", "3 findings".
fn findings_words(n: usize) -> String {
    format!("{n} finding{}", if n == 1 { "" } else { "s" })
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
        ReminderQueued => "The reminder is queued",
        ReminderSent => "The reminder is recorded as sent",
        ReminderFailed => "The failed reminder is recorded",
    }
}
