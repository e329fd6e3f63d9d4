//! A pack checked against published guidance. Each warning names the rule
//! (or the gap), the guidance it departs from, and what would meet it.
//! Warnings, not errors: a council may knowingly differ, and says why in
//! its own records (the bundled packs' are explained in docs/packs.md).

use super::align::{overlaps, signature};
use crate::duration::{CalendarUnit, Duration};
use crate::pack::{EventFlag, EventMatch, Filter, PolicyPack, RuleKind, SubjectKind};
use domain::{EventType, PersonKind};
use serde::Serialize;

/// One departure from guidance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// A stable name for the check (`password-expiry`), for a council's CI
    /// to allow one it has decided on.
    pub code: &'static str,
    /// The rule concerned, when the warning is about one.
    pub rule: Option<String>,
    /// The policy concerned, when the warning is about one.
    pub policy: Option<String>,
    pub message: String,
    /// The published guidance, by name and where to read it.
    pub guidance: &'static str,
    /// What would meet the guidance.
    pub suggestion: &'static str,
}

/// The guidance each check cites.
pub mod guidance {
    pub const PASSWORD_EXPIRY: &str = "NCSC, Password administration for system owners: 'Don't enforce regular password expiry' (https://www.ncsc.gov.uk/collection/passwords/updating-your-approach)";
    pub const MFA: &str = "NCSC, Cyber Essentials: Requirements for IT infrastructure v3.2, user access control: multi-factor authentication for every cloud service that offers it (https://www.ncsc.gov.uk/cyberessentials/overview)";
    pub const LOSS: &str = "NCSC, Device Security Guidance: have a process for reporting lost or stolen devices; ISO/IEC 27001:2022 Annex A 6.8, information security event reporting (https://www.ncsc.gov.uk/collection/device-security-guidance)";
    pub const REVIEW: &str = "ISO/IEC 27001:2022 Annex A 5.1: policies for information security reviewed at planned intervals; two years is the longest any seed council allows (Mid Devon Cabinet, 7 January 2025, minute 118, asked whether two should be one)";
    pub const BREACH: &str = "UK GDPR Article 33: a personal data breach is notified to the Information Commissioner without undue delay and, where feasible, within 72 hours of becoming aware of it (https://ico.org.uk/for-organisations/report-a-breach/)";
    pub const WIPE: &str = "NCSC, Secure sanitisation and disposal of storage media: media that held sensitive data is sanitised before it leaves the organisation's control (https://www.ncsc.gov.uk/guidance/secure-sanitisation-storage-media)";
    pub const LEAVER: &str = "NCSC, 10 Steps to Cyber Security, Identity and access management: remove access promptly when people leave; ISO/IEC 27001:2022 Annex A 5.18, access rights removed on termination (https://www.ncsc.gov.uk/collection/10-steps/identity-and-access-management)";
    pub const AI: &str = "Mid Devon Cabinet, 7 January 2025, minute 118: 'No mention of AI in the Policy'; NCSC, Guidelines for secure AI system development (https://www.ncsc.gov.uk/collection/guidelines-secure-ai-system-development)";
    pub const NEVER: &str = "Warden: a rule that can never apply checks nothing, and reads as if the clause were enforced";
    pub const OVERLAP: &str = "Warden: two rules that do the same thing for the same people report every failure twice, with two clauses";
}

/// Every warning for `pack`, gaps first, then rule by rule in pack order.
pub fn lint(pack: &PolicyPack) -> Vec<Warning> {
    let mut warnings = Vec::new();
    gaps(pack, &mut warnings);
    reviews(pack, &mut warnings);
    for rule in &pack.rules {
        password_expiry(rule, &mut warnings);
        never_fires(rule, pack, &mut warnings);
    }
    overlapping(pack, &mut warnings);
    warnings
}

fn warning(
    code: &'static str,
    message: String,
    guidance: &'static str,
    suggestion: &'static str,
) -> Warning {
    Warning {
        code,
        rule: None,
        policy: None,
        message,
        guidance,
        suggestion,
    }
}

/// Every event match of every rule, with the rule's kind.
fn matches(pack: &PolicyPack) -> impl Iterator<Item = (&RuleKind, &EventMatch)> {
    pack.rules.iter().flat_map(|r| {
        let list: Vec<&EventMatch> = match &r.kind {
            RuleKind::Obligation(o) => std::iter::once(&o.trigger)
                .chain(&o.discharged_by)
                .collect(),
            RuleKind::Recurrence(rec) => rec.done_by.iter().chain(&rec.counted_from).collect(),
            RuleKind::Precondition(p) => vec![&p.on],
            RuleKind::Permission(p) => vec![&p.on],
            RuleKind::Limit(l) => vec![&l.on],
            RuleKind::Prohibition(p) => vec![&p.on],
        };
        list.into_iter().map(move |m| (&r.kind, m))
    })
}

/// The clauses a pack of ICT security policies is expected to have.
fn gaps(pack: &PolicyPack, out: &mut Vec<Warning>) {
    let obligations = || {
        pack.rules.iter().filter_map(|r| match &r.kind {
            RuleKind::Obligation(o) => Some(o),
            _ => None,
        })
    };
    let requires_mfa = pack.rules.iter().any(|r| match &r.kind {
        RuleKind::Precondition(p) => p.require.mfa,
        _ => false,
    }) || matches(pack).any(|(_, m)| m.event == EventType::MfaEnrolled);
    if !requires_mfa {
        out.push(warning(
            "no-mfa",
            "no rule requires multi-factor authentication".into(),
            guidance::MFA,
            "add a precondition on access_granted with require = { mfa = true }",
        ));
    }
    if !obligations().any(|o| o.trigger.event == EventType::DeviceLost) {
        out.push(warning(
            "no-loss-reporting",
            "no rule sets a clock for reporting a lost or stolen device".into(),
            guidance::LOSS,
            "add an obligation on device_lost from = \"discovered\" within a stated time (Southend: 24h)",
        ));
    }
    // An obligation started by one event type and discharged by another.
    let clock = |from: EventType, to: EventType| {
        obligations()
            .any(|o| o.trigger.event == from && o.discharged_by.iter().any(|m| m.event == to))
    };
    if !clock(
        EventType::IncidentReported,
        EventType::IncidentRegulatorNotified,
    ) {
        out.push(warning(
            "no-breach-notification",
            "no rule sets a clock for telling the Information Commissioner of a personal data breach".into(),
            guidance::BREACH,
            "include the uk-baseline pack, or add an obligation on incident_reported with personal_data = true, within 72h of discovery",
        ));
    }
    let wipes = matches(pack).any(|(_, m)| {
        m.event == EventType::DeviceDisposed
            && m.filter.flags.iter().any(|(f, _)| *f == EventFlag::Wiped)
    });
    if !wipes {
        out.push(warning(
            "no-disposal-wipe",
            "no rule checks that devices are wiped before they are disposed of".into(),
            guidance::WIPE,
            "add a prohibition on device_disposed with when = { wiped = false }",
        ));
    }
    if !clock(EventType::PersonLeft, EventType::AccessRevoked) {
        out.push(warning(
            "no-leaver-revocation",
            "no rule sets a clock for removing a leaver's access".into(),
            guidance::LEAVER,
            "add an obligation on person_left with each = \"access_held\", discharged_by access_revoked (Sefton: the same day)",
        ));
    }
    if !mentions_ai(pack) {
        out.push(warning(
            "no-ai-use",
            "neither the policies nor the rules say anything about the use of AI".into(),
            guidance::AI,
            "decide whether staff and councillors may use AI tools with council information, and say so in a policy",
        ));
    }
}

/// Whether any policy's title or text, or any rule's words, mention AI.
fn mentions_ai(pack: &PolicyPack) -> bool {
    let says = |text: &str| {
        text.to_lowercase().contains("artificial intelligence")
            || text
                .split(|c: char| !c.is_alphanumeric())
                .any(|word| word == "AI")
    };
    pack.policies
        .iter()
        .any(|p| says(&p.title) || p.text.as_ref().is_some_and(|t| says(&t.markdown)))
        || pack.rules.iter().any(|r| {
            says(&r.cite)
                || r.note.as_deref().is_some_and(says)
                || r.sentence.as_deref().is_some_and(says)
        })
}

/// A recurrence's interval in months, when it is counted in months or
/// years (the only intervals a review cycle is written in).
fn months(d: &Duration) -> Option<u32> {
    match d {
        Duration::Calendar {
            amount,
            unit: CalendarUnit::Months,
        } => Some(*amount),
        Duration::Calendar {
            amount,
            unit: CalendarUnit::Years,
        } => Some(amount * 12),
        _ => None,
    }
}

/// Each policy is reviewed on a cycle, and none longer than two years.
fn reviews(pack: &PolicyPack, out: &mut Vec<Warning>) {
    let cycles: Vec<(&str, &Filter, &Duration)> = pack
        .rules
        .iter()
        .filter_map(|r| match &r.kind {
            RuleKind::Recurrence(rec) if rec.subject == SubjectKind::Policy => {
                Some((r.id.as_str(), &rec.when, &rec.every))
            }
            _ => None,
        })
        .collect();
    for (id, _, every) in &cycles {
        if months(every).is_some_and(|m| m > 24) {
            out.push(Warning {
                rule: Some((*id).into()),
                ..warning(
                    "review-interval-long",
                    format!("policies are reviewed only every {every}, more than two years"),
                    guidance::REVIEW,
                    "review at least every two years (Redditch: every 12 months)",
                )
            });
        }
    }
    for policy in &pack.policies {
        let covered = cycles.iter().any(|(_, when, _)| {
            when.policy
                .as_ref()
                .is_none_or(|ps| ps.contains(&policy.id))
        });
        if !covered {
            out.push(Warning {
                policy: Some(policy.id.to_string()),
                ..warning(
                    "no-review-interval",
                    format!("the {} has no review cycle", policy.title),
                    guidance::REVIEW,
                    "add a recurrence with done_by = [\"policy_approved\", \"policy_reviewed\"] and every = \"12 months\" or \"2 years\"",
                )
            });
        }
    }
}

fn password_expiry(rule: &crate::pack::Rule, out: &mut Vec<Warning>) {
    if let RuleKind::Recurrence(rec) = &rule.kind
        && rec
            .done_by
            .iter()
            .any(|m| m.event == EventType::PasswordChanged)
    {
        out.push(Warning {
            rule: Some(rule.id.clone()),
            ..warning(
                "password-expiry",
                format!("passwords must be changed every {}: forced periodic expiry", rec.every),
                guidance::PASSWORD_EXPIRY,
                "require a change only when a password may be compromised (check it against breached-password lists), and require MFA",
            )
        });
    }
}

/// Conditions that no event can meet.
fn never_fires(rule: &crate::pack::Rule, pack: &PolicyPack, out: &mut Vec<Warning>) {
    let mut why = Vec::new();
    let mut each_filter = |filter: &Filter, event: EventType| {
        let empty = [
            (
                "person_kind",
                filter.person_kind.as_ref().is_some_and(Vec::is_empty),
            ),
            (
                "device_kind",
                filter.device_kind.as_ref().is_some_and(Vec::is_empty),
            ),
            (
                "device_owner",
                filter.device_owner.as_ref().is_some_and(Vec::is_empty),
            ),
            ("policy", filter.policy.as_ref().is_some_and(Vec::is_empty)),
        ];
        for (name, is_empty) in empty {
            if is_empty {
                why.push(format!(
                    "`{name}` lists nothing, so no {} matches",
                    event.name()
                ));
            }
        }
        if event == EventType::PersonJoined && filter.person_left == Some(true) {
            why.push("nobody has left before they join".into());
        }
    };
    let (filters, kinds): (Vec<(&Filter, EventType)>, Option<&[PersonKind]>) = match &rule.kind {
        RuleKind::Obligation(o) => (
            vec![(&o.trigger.filter, o.trigger.event)],
            o.trigger.filter.person_kind.as_deref(),
        ),
        RuleKind::Recurrence(r) => (
            vec![(&r.when, EventType::PersonJoined)],
            r.when.person_kind.as_deref(),
        ),
        RuleKind::Precondition(p) => (
            vec![(&p.on.filter, p.on.event)],
            p.on.filter.person_kind.as_deref(),
        ),
        RuleKind::Permission(p) => (
            vec![(&p.on.filter, p.on.event)],
            p.on.filter.person_kind.as_deref(),
        ),
        RuleKind::Limit(l) => (
            vec![(&l.on.filter, l.on.event)],
            l.on.filter.person_kind.as_deref(),
        ),
        RuleKind::Prohibition(p) => (
            vec![(&p.on.filter, p.on.event)],
            p.on.filter.person_kind.as_deref(),
        ),
    };
    for (filter, event) in filters {
        each_filter(filter, event);
    }
    if let RuleKind::Permission(p) = &rule.kind
        && p.roles.is_empty()
    {
        why.push("it names no role, so nobody may ever do this".into());
    }
    // Acceptance of a policy that the people the rule applies to are never
    // asked to accept: they cannot meet it as the council runs acceptance.
    if let RuleKind::Precondition(p) = &rule.kind
        && let Some(policy) = p.require.accepted.as_ref().and_then(|id| pack.policy(id))
        && !policy.accepted_by.is_empty()
    {
        let asked = |k: &PersonKind| policy.accepted_by.contains(k);
        let none_asked = match kinds {
            Some(kinds) => !kinds.iter().any(asked),
            None => false,
        };
        if none_asked {
            why.push(format!(
                "it requires acceptance of the {}, which the people it applies to are not asked to accept",
                policy.title
            ));
        }
    }
    for why in why {
        out.push(Warning {
            rule: Some(rule.id.clone()),
            ..warning(
                "never-applies",
                format!("this rule can never apply as written: {why}"),
                guidance::NEVER,
                "correct the condition, or remove the rule",
            )
        });
    }
}

/// Rules of the same kind, doing the same thing, for people or things in
/// common.
fn overlapping(pack: &PolicyPack, out: &mut Vec<Warning>) {
    for (i, a) in pack.rules.iter().enumerate() {
        for b in &pack.rules[i + 1..] {
            if signature(&a.kind) == signature(&b.kind) && overlaps(&a.kind, &b.kind) {
                out.push(Warning {
                    rule: Some(b.id.clone()),
                    ..warning(
                        "overlapping-rules",
                        format!(
                            "`{}` and `{}` check the same thing for the same people",
                            a.id, b.id
                        ),
                        guidance::OVERLAP,
                        "keep one rule, with the stricter clock and the clause that sets it",
                    )
                });
            }
        }
    }
}

/// The warnings as text, one block each.
pub fn render_text(pack: &PolicyPack, warnings: &[Warning]) -> String {
    let mut out = String::new();
    for w in warnings {
        let about = match (&w.rule, &w.policy) {
            (Some(rule), _) => format!(" {rule}:"),
            (None, Some(policy)) => format!(" policy {policy}:"),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "warning[{}]:{about} {}\n  guidance: {}\n  suggest: {}\n",
            w.code, w.message, w.guidance, w.suggestion
        ));
    }
    out.push_str(&format!(
        "{}: {} warning{}\n",
        pack.id,
        warnings.len(),
        if warnings.len() == 1 { "" } else { "s" }
    ));
    out
}
