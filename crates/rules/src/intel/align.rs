//! What a rule does, apart from who it is for and how long it allows: the
//! key on which two councils' rules are aligned (the diff) and on which a
//! pack's own rules are found to overlap (the linter). Ids are never
//! compared: five councils name the same idea five ways.

use super::words::*;
use crate::pack::{Bound, Each, EventMatch, Filter, PolicyPack, Rule, RuleKind};
use std::collections::BTreeSet;

/// Kind, trigger and discharge: what must be the same for two rules to be
/// two versions of one idea.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Signature {
    pub kind: &'static str,
    /// The event that starts it (a recurrence: what it is about).
    pub on: &'static str,
    /// What discharges or meets it, or what it requires, as names.
    pub by: Vec<&'static str>,
}

fn names(matches: &[EventMatch]) -> Vec<&'static str> {
    let set: BTreeSet<&'static str> = matches.iter().map(|m| m.event.name()).collect();
    set.into_iter().collect()
}

pub fn signature(kind: &RuleKind) -> Signature {
    let (on, by) = match kind {
        RuleKind::Obligation(o) => {
            let mut by = names(&o.discharged_by);
            if let Some(each) = o.each {
                by.push(match each {
                    Each::DeviceHeld => "each device held",
                    Each::AccessHeld => "each access held",
                });
            }
            (o.trigger.event.name(), by)
        }
        RuleKind::Recurrence(r) => (
            match r.subject {
                crate::pack::SubjectKind::Person => "person",
                crate::pack::SubjectKind::Policy => "policy",
            },
            names(&r.done_by),
        ),
        RuleKind::Precondition(p) => {
            let r = &p.require;
            let parts = [
                (r.mfa, "mfa"),
                (r.accepted.is_some(), "accepted"),
                (r.agreement.is_some(), "agreement"),
                (r.training.is_some(), "training"),
                (r.route.is_some(), "route"),
            ];
            let by = parts
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| *n)
                .collect();
            (p.on.event.name(), by)
        }
        RuleKind::Permission(p) => (p.on.event.name(), vec![p.actor.field()]),
        RuleKind::Limit(l) => (
            l.on.event.name(),
            vec![match l.bound {
                Bound::Total(_) => "total",
                Bound::Count(_) => "count",
            }],
        ),
        RuleKind::Prohibition(p) => (p.on.event.name(), Vec::new()),
    };
    Signature {
        kind: kind.name(),
        on,
        by,
    }
}

/// What the aligned rules do, in words with no council's clock or scope:
/// "obligation: after leaving, for each device held: the device returned or
/// a loss reported".
pub fn described(kind: &RuleKind) -> String {
    let words = |ms: &[EventMatch]| {
        let set: BTreeSet<&'static str> = ms.iter().map(|m| m.event.words()).collect();
        either(&set.into_iter().map(String::from).collect::<Vec<_>>())
    };
    match kind {
        RuleKind::Obligation(o) => {
            let each = match o.each {
                Some(Each::DeviceHeld) => ", for each device held",
                Some(Each::AccessHeld) => ", for each access held",
                None => "",
            };
            format!(
                "after {}{each}: {}",
                o.trigger.event.words(),
                words(&o.discharged_by)
            )
        }
        RuleKind::Recurrence(r) => format!("{} again and again", words(&r.done_by)),
        RuleKind::Precondition(p) => {
            format!(
                "before {}: {}",
                p.on.event.words(),
                signature(kind).by.join(" and ")
            )
        }
        RuleKind::Permission(p) => format!("who may allow {}", p.on.event.words()),
        RuleKind::Limit(l) => format!(
            "a limit on the {} of {}",
            match l.bound {
                Bound::Total(_) => "total",
                Bound::Count(_) => "number",
            },
            l.on.event.words()
        ),
        RuleKind::Prohibition(p) => format!("forbidden: {}", p.on.event.words()),
    }
}

/// The conditions that say whom or what a rule is for.
pub fn scope_filter(kind: &RuleKind) -> &Filter {
    match kind {
        RuleKind::Obligation(o) => &o.trigger.filter,
        RuleKind::Recurrence(r) => &r.when,
        RuleKind::Precondition(p) => &p.on.filter,
        RuleKind::Permission(p) => &p.on.filter,
        RuleKind::Limit(l) => &l.on.filter,
        RuleKind::Prohibition(p) => &p.on.filter,
    }
}

/// Whether two lists meet (an absent list is everything).
fn meet<T: PartialEq>(a: &Option<Vec<T>>, b: &Option<Vec<T>>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a.iter().any(|x| b.contains(x)),
        _ => true,
    }
}

/// Whether some person or thing falls under both rules.
pub fn overlaps(a: &RuleKind, b: &RuleKind) -> bool {
    let (fa, fb) = (scope_filter(a), scope_filter(b));
    let prefixes = match (&fa.resource_prefix, &fb.resource_prefix) {
        (Some(x), Some(y)) => x.starts_with(y.as_str()) || y.starts_with(x.as_str()),
        _ => true,
    };
    meet(&fa.person_kind, &fb.person_kind)
        && meet(&fa.device_kind, &fb.device_kind)
        && meet(&fa.device_owner, &fb.device_owner)
        && meet(&fa.policy, &fb.policy)
        && fa.flags == fb.flags
        && fa.texts == fb.texts
        && fa.person_left == fb.person_left
        && fa.to_outside_mail_domains == fb.to_outside_mail_domains
        && prefixes
}

/// Who or what a rule is for, in words: "councillors; council-owned devices".
pub fn scope(kind: &RuleKind, pack: &PolicyPack) -> String {
    let f = scope_filter(kind);
    let mut parts = vec![everyone(f.person_kind.as_deref())];
    if f.device_kind.is_some() || f.device_owner.is_some() {
        parts.push(format!("{}s", device(f)));
    }
    if f.policy.is_some() {
        parts.push(policies(f, pack, ""));
    }
    for (text, value) in &f.texts {
        parts.push(format!("{} {}", text.name(), spaced(value)));
    }
    for (flag, value) in &f.flags {
        parts.push(format!(
            "{} {}",
            flag.name(),
            if *value { "yes" } else { "no" }
        ));
    }
    if let Some(prefix) = &f.resource_prefix {
        parts.push(format!("resources under `{prefix}`"));
    }
    if f.to_outside_mail_domains == Some(true) {
        parts.push("outside the council's mail domains".into());
    }
    if f.person_left == Some(true) {
        parts.push("after leaving".into());
    }
    parts.join("; ")
}

/// The parts on which two aligned rules can differ, each in words.
pub fn aspects(rule: &Rule, pack: &PolicyPack) -> Vec<(&'static str, String)> {
    let mut out = vec![("for", scope(&rule.kind, pack))];
    match &rule.kind {
        RuleKind::Obligation(o) => {
            out.push(("within", duration(&o.within)));
            out.push((
                "counted from",
                match o.from {
                    crate::pack::ClockStart::At => o.trigger.event.words().to_owned(),
                    crate::pack::ClockStart::Discovered => "discovery".into(),
                    crate::pack::ClockStart::Acquired => "the date acquired".into(),
                },
            ));
        }
        RuleKind::Recurrence(r) => {
            out.push(("every", duration(&r.every)));
            let from: BTreeSet<&str> = r.counted_from.iter().map(|m| m.event.words()).collect();
            out.push((
                "first counted from",
                if from.is_empty() {
                    "the first time it is done".into()
                } else {
                    either(&from.into_iter().map(String::from).collect::<Vec<_>>())
                },
            ));
        }
        RuleKind::Precondition(p) => match &p.require.route {
            Some(route) => {
                let named = |bodies: &[String], none: &str| {
                    if bodies.is_empty() {
                        none.to_owned()
                    } else {
                        either(&bodies.iter().map(|b| spaced(b)).collect::<Vec<_>>())
                    }
                };
                out.push(("approved by", named(&route.approved_by, "any body")));
                out.push(("after consulting", named(&route.consulted, "nobody")));
                out.push((
                    "a minor amendment approved by",
                    named(&route.minor_approved_by, "no one else"),
                ));
            }
            None => out.push(("requires", super::explain::requirement(&p.require, pack))),
        },
        RuleKind::Permission(p) => {
            let roles: Vec<String> = p.roles.iter().map(|r| spaced(&r.0)).collect();
            out.push(("roles", either(&roles)));
        }
        RuleKind::Limit(l) => {
            out.push((
                "bound",
                match l.bound {
                    Bound::Total(p) => p.to_string(),
                    Bound::Count(n) => n.to_string(),
                },
            ));
            out.push((
                "per",
                match l.group_by {
                    crate::pack::Group::Person => "person".into(),
                    crate::pack::Group::Household => "household".into(),
                },
            ));
            out.push((
                "period",
                match l.period {
                    crate::pack::Period::FinancialYear => "financial year".into(),
                    crate::pack::Period::CalendarYear => "calendar year".into(),
                },
            ));
        }
        RuleKind::Prohibition(_) => {}
    }
    out
}
