//! A rule as the sentence a council would write, generated from what the
//! rule does (not from its `sentence`, which the pack's author wrote), so
//! that someone who does not read TOML can check a pack against its
//! document: "When a councillor leaves, for each council-owned device they
//! hold, the device is returned or the device is reported lost within 48
//! hours. (Southend Councillor ICT Policy v1.0, s.3)".

use super::words::*;
use crate::pack::{
    Actor, Bound, ClockStart, Each, EventMatch, Group, Limit, Obligation, Period, Permission,
    PolicyPack, Precondition, Prohibition, Recurrence, Requirement, Route, Rule, RuleKind,
    SubjectKind,
};
use domain::EventType;
use serde::Serialize;

/// One rule, explained.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Explained {
    pub rule: String,
    pub kind: &'static str,
    /// What the rule does, in words.
    pub sentence: String,
    /// The document and clause, without the quoted words.
    pub source: String,
    /// The clause as the pack quotes it.
    pub cite: String,
    /// The pack that declared it (a council's, or one it includes).
    pub pack: String,
}

/// Every rule of the pack, in the pack's order.
pub fn explain_pack(pack: &PolicyPack) -> Vec<Explained> {
    pack.rules.iter().map(|r| explain(r, pack)).collect()
}

pub fn explain(rule: &Rule, pack: &PolicyPack) -> Explained {
    Explained {
        rule: rule.id.clone(),
        kind: rule.kind.name(),
        sentence: sentence(&rule.kind, pack),
        source: source(&rule.cite),
        cite: rule.cite.clone(),
        pack: rule.pack.clone(),
    }
}

/// "Southend Councillor ICT Policy v1.0, s.3" of a cite that goes on to
/// quote the clause's words.
pub fn source(cite: &str) -> String {
    cite.split_once(": ")
        .map_or(cite, |(source, _)| source)
        .trim()
        .to_owned()
}

/// What a rule of this kind asks, as one sentence ending in a full stop.
pub fn sentence(kind: &RuleKind, pack: &PolicyPack) -> String {
    let text = match kind {
        RuleKind::Obligation(o) => obligation(o, pack),
        RuleKind::Recurrence(r) => recurrence(r, pack),
        RuleKind::Precondition(p) => precondition(p, pack),
        RuleKind::Permission(p) => permission(p, pack),
        RuleKind::Limit(l) => limit(l, pack),
        RuleKind::Prohibition(p) => prohibition(p, pack),
    };
    format!("{}.", capitalised(&text))
}

/// "the device is returned or reported lost": outcomes about the same
/// thing share their subject.
fn outcomes(matches: &[EventMatch], pack: &PolicyPack) -> String {
    let each: Vec<String> = matches
        .iter()
        .map(|m| outcome(m.event, &m.filter, pack))
        .collect();
    let subject = |o: &String| o.find(" is ").map(|i| o[..i + 4].to_owned());
    match each.first().and_then(subject) {
        Some(first)
            if each.len() > 1 && each.iter().all(|o| subject(o).as_ref() == Some(&first)) =>
        {
            let rests: Vec<String> = each.iter().map(|o| o[first.len()..].to_owned()).collect();
            format!("{first}{}", either(&rests))
        }
        _ => either(&each),
    }
}

/// "within 48 hours", "by the end of the same day".
fn within(d: &crate::duration::Duration) -> String {
    match d {
        crate::duration::Duration::SameDay => "by the end of the same day".into(),
        other => format!("within {}", duration(other)),
    }
}

fn obligation(o: &Obligation, pack: &PolicyPack) -> String {
    let each = match o.each {
        Some(Each::DeviceHeld) => format!(", for each {} they hold", device(&o.trigger.filter)),
        Some(Each::AccessHeld) => ", for each access to a system they hold".into(),
        None => String::new(),
    };
    // Conditions on devices held are said by `each`, not by the trigger.
    let mut trigger = o.trigger.filter.clone();
    if o.each == Some(Each::DeviceHeld) {
        trigger.device_kind = None;
        trigger.device_owner = None;
    }
    let from = match o.from {
        ClockStart::At => "",
        ClockStart::Discovered => " of discovery",
        ClockStart::Acquired => " of the date the device was acquired",
    };
    format!(
        "when {}{each}, {} {}{from}",
        happening(o.trigger.event, &trigger, pack),
        outcomes(&o.discharged_by, pack),
        within(&o.within),
    )
}

fn recurrence(r: &Recurrence, pack: &PolicyPack) -> String {
    let counted = if r.counted_from.is_empty() {
        String::new()
    } else {
        let from: Vec<String> = r
            .counted_from
            .iter()
            .map(|m| since(m.event).to_owned())
            .collect();
        format!(
            ", the first time within {} of {}",
            duration(&r.every),
            either(&from)
        )
    };
    let what = match r.subject {
        SubjectKind::Person => {
            // "each member of staff completes ...": the done events said of
            // the people the rule is for.
            let kinds = r.when.person_kind.as_deref();
            let each = each_person(kinds);
            let done: Vec<String> = r
                .done_by
                .iter()
                .map(|m| {
                    let mut filter = m.filter.clone();
                    filter.person_kind = r.when.person_kind.clone();
                    let clause = happening(m.event, &filter, pack);
                    let who = someone(kinds);
                    match clause.strip_prefix(&who) {
                        Some(rest) => format!("{each}{rest}"),
                        None => clause,
                    }
                })
                .collect();
            either(&done)
        }
        SubjectKind::Policy => format!(
            "for {}, {}",
            policies(&r.when, pack, "every policy"),
            outcomes(&r.done_by, pack)
        ),
    };
    format!("{what} at least every {}{counted}", duration(&r.every))
}

/// What a first interval is counted from, as a noun.
fn since(event: EventType) -> &'static str {
    match event {
        EventType::PersonJoined => "joining",
        EventType::PolicyApproved => "approval",
        EventType::DeviceIssued => "being issued a device",
        EventType::AccessGranted => "being given access",
        _ => event.words(),
    }
}

fn precondition(p: &Precondition, pack: &PolicyPack) -> String {
    if let Some(route) = &p.require.route {
        return approval_route(route, &p.on, pack);
    }
    format!(
        "before {}, {}",
        happening(p.on.event, &p.on.filter, pack),
        requirement(&p.require, pack)
    )
}

pub(super) fn requirement(r: &Requirement, pack: &PolicyPack) -> String {
    let mut needs = Vec::new();
    if r.mfa {
        needs.push("they have set up multi-factor authentication".to_owned());
    }
    if let Some(policy) = &r.accepted {
        let title = pack.policy(policy).map_or_else(
            || format!("policy {policy}"),
            |p| format!("the {}", p.title),
        );
        needs.push(format!("they have accepted {title}"));
    }
    if let Some(agreement) = &r.agreement {
        needs.push(format!(
            "they have signed the {} agreement",
            spaced(&agreement.0)
        ));
    }
    if let Some(course) = &r.training {
        needs.push(format!(
            "they have completed {} training",
            spaced(&course.0)
        ));
    }
    both(&needs)
}

fn approval_route(route: &Route, on: &EventMatch, pack: &PolicyPack) -> String {
    let policy = policies(&on.filter, pack, "a policy");
    let consulted = |bodies: &[String]| both(&bodies.iter().map(|b| spaced(b)).collect::<Vec<_>>());
    let mut text = if route.approved_by.is_empty() {
        format!(
            "before a new version of {policy} is approved, {} {} consulted",
            consulted(&route.consulted),
            if route.consulted.len() == 1 {
                "is"
            } else {
                "are"
            }
        )
    } else {
        let by = either(
            &route
                .approved_by
                .iter()
                .map(|b| spaced(b))
                .collect::<Vec<_>>(),
        );
        let mut text = format!("a new version of {policy} is approved by {by}");
        if !route.consulted.is_empty() {
            text.push_str(&format!(
                " after consulting {}",
                consulted(&route.consulted)
            ));
        }
        text
    };
    if !route.minor_approved_by.is_empty() {
        let by = either(
            &route
                .minor_approved_by
                .iter()
                .map(|b| spaced(b))
                .collect::<Vec<_>>(),
        );
        text.push_str(&format!("; a minor amendment may be approved by {by}"));
        if !route.minor_consulted.is_empty() {
            text.push_str(&format!(
                " after consulting {}",
                consulted(&route.minor_consulted)
            ));
        }
        text.push_str(" instead");
    }
    text
}

fn permission(p: &Permission, pack: &PolicyPack) -> String {
    let who = match p.actor {
        Actor::ApprovedBy => "the person who approves it",
        Actor::RequestedBy => "the person who asks for it",
        Actor::By => "the person who records it",
    };
    let roles: Vec<String> = p.roles.iter().map(|r| spaced(&r.0)).collect();
    format!(
        "when {}, {who} holds the role of {}",
        happening(p.on.event, &p.on.filter, pack),
        either(&roles)
    )
}

fn limit(l: &Limit, pack: &PolicyPack) -> String {
    let per = match l.group_by {
        Group::Person => "per person",
        Group::Household => "per household",
    };
    let period = match l.period {
        Period::FinancialYear => "financial year (1 April to 31 March)",
        Period::CalendarYear => "calendar year",
    };
    if l.on.event == EventType::ExpenseClaimed {
        let (claims, claim) = claims(&l.on.filter);
        return match l.bound {
            Bound::Total(pence) => {
                format!("{claims} come to no more than {pence} {per} in each {period}")
            }
            Bound::Count(1) => format!("no more than one {claim} {per} in each {period}"),
            Bound::Count(n) => format!("no more than {n} {claims} {per} in each {period}"),
        };
    }
    let what = happening(l.on.event, &l.on.filter, pack);
    match l.bound {
        Bound::Total(pence) => {
            format!("when {what}, the amounts come to no more than {pence} {per} in each {period}")
        }
        Bound::Count(n) => format!(
            "no more than {n} time{} {per} in each {period}: {what}",
            if n == 1 { "" } else { "s" }
        ),
    }
}

fn prohibition(p: &Prohibition, pack: &PolicyPack) -> String {
    format!(
        "this must never happen: {}",
        happening(p.on.event, &p.on.filter, pack)
    )
}

/// The whole pack as plain text: each rule's sentence and source.
pub fn render_text(pack: &PolicyPack) -> String {
    let mut out = format!("{} ({})\n", pack.council, pack.id);
    for e in explain_pack(pack) {
        out.push_str(&format!("\n{}\n  {} ({})\n", e.rule, e.sentence, e.source));
    }
    out
}
