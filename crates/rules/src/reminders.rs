//! Who is told of what, now: the pack's `[[reminder]]` entries applied to
//! the findings at an instant, less what each person has already been told
//! (the estate keeps it, from the log's `reminder_queued` events). Pure: the
//! caller sends the mail and records what it queued and sent.
//!
//! A finding with a due time has stages: `before-24h` (a day before it is
//! due), `before-4h` (a share of a short clock), `overdue-1` (at the due
//! time), `overdue-2` (`overdue_every` later) and so on. At any instant a
//! finding is at its latest stage reached, and a person is told each stage
//! once: a reminder that comes late does not send the stages it missed.

use crate::Duration;
use crate::duration::CalendarUnit;
use crate::eval::{Finding, Status};
use crate::pack::{Applies, PolicyPack, Recipient, ReminderPolicy, RuleKind};
use domain::event::{Channel, ReminderQueued};
use domain::{Estate, Event, EventKind, EventRef, PersonId, Told};
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// A clock shorter than this is short: `before_share` applies to it.
pub const SHORT_CLOCK: SignedDuration = SignedDuration::from_hours(7 * 24);

/// The officers' daily summary lists what is overdue and what falls due
/// within this long; later deadlines are in the calendar feed.
pub const SUMMARY_HORIZON: SignedDuration = SignedDuration::from_hours(14 * 24);

/// Where a finding's reminders stand at an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Due within this long.
    Before(SignedDuration),
    /// The nth overdue reminder (the first at the due time).
    Overdue(u32),
    /// In the daily summary for the officers.
    Daily,
}

impl Stage {
    /// The stage as a [`Told`] writes it.
    pub fn key(self) -> String {
        match self {
            Stage::Before(left) => format!("before-{}h", left.as_hours()),
            Stage::Overdue(n) => format!("overdue-{n}"),
            Stage::Daily => "daily".to_owned(),
        }
    }
}

/// One finding in a notice, at its stage.
#[derive(Clone, Debug)]
pub struct Item {
    pub stage: Stage,
    pub finding: Finding,
}

/// What one person is to be told in one message.
#[derive(Clone, Debug)]
pub struct Notice {
    pub person: PersonId,
    pub name: String,
    pub address: String,
    /// What it covers, each once: the findings' stages, and the day's
    /// summary if they are an officer.
    pub told: Vec<Told>,
    /// Their own findings, each at its stage: overdue first, then by due.
    pub items: Vec<Item>,
    /// The council's overdue findings and those due within
    /// `SUMMARY_HORIZON`, most overdue first, for an officer's daily
    /// summary (empty unless they receive one).
    pub summary: Vec<Finding>,
}

impl Notice {
    /// The `reminder_queued` event that claims it, at `at`, made at
    /// `recorded`: its id is made from what it covers and when. That a
    /// person is told each stage once is the estate's check
    /// (`AlreadyTold`), which is what stops a second sender.
    pub fn queued(&self, at: Timestamp, recorded: Timestamp) -> Event {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let mut feed = |text: &str| {
            for b in text.bytes().chain([0]) {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        };
        feed(&self.person.to_string());
        for told in &self.told {
            feed(told.as_str());
        }
        feed(&recorded.as_nanosecond().to_string());
        let id = format!("rem-{hash:016x}");
        let mut event = Event::new(
            at,
            EventKind::ReminderQueued(ReminderQueued {
                recipient: self.person.clone(),
                channel: Channel::Email,
                address: self.address.clone(),
                findings: self.told.clone(),
            }),
        );
        event.id = id.parse::<EventRef>().ok();
        event
    }
}

/// Everyone who is to be told something at `now`, and those who should be
/// but have no address.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub notices: Vec<Notice>,
    /// People who would be told but have no email address on record, with
    /// how many findings they would be told of.
    pub unreachable: Vec<(PersonId, usize)>,
}

/// The reminders due at `now`, given the findings at `now` and the estate
/// (who is who, and what each has been told).
pub fn plan(pack: &PolicyPack, estate: &Estate, findings: &[Finding], now: Timestamp) -> Plan {
    let mut by_person: BTreeMap<PersonId, (Vec<Told>, Vec<Item>)> = BTreeMap::new();
    for finding in findings {
        let Some(policy) = policy_for(pack, &finding.rule) else {
            continue;
        };
        let Some((stage, escalated)) = stage(pack, policy, finding, now) else {
            continue;
        };
        let Some(told) = told_key(finding, stage) else {
            continue;
        };
        let mut recipients = if finding.concerns.person.is_some() {
            people(estate, finding, &policy.tell)
        } else {
            people(estate, finding, &policy.otherwise)
        };
        if escalated {
            recipients.extend(people(estate, finding, &policy.escalate_to));
        }
        recipients.sort();
        recipients.dedup();
        for person in recipients {
            let told_before = estate
                .people
                .get(&person)
                .is_some_and(|p| p.told.contains(&told));
            if !told_before {
                let entry = by_person.entry(person).or_default();
                entry.0.push(told.clone());
                entry.1.push(Item {
                    stage,
                    finding: finding.clone(),
                });
            }
        }
    }
    let mut summaries: BTreeMap<PersonId, Told> = BTreeMap::new();
    let horizon = now.checked_add(SUMMARY_HORIZON).unwrap_or(now);
    let mut open: Vec<Finding> = findings
        .iter()
        .filter(|f| match (f.status, f.due) {
            (Status::Overdue, Some(_)) => true,
            (Status::Open, Some(due)) => due <= horizon,
            _ => false,
        })
        .cloned()
        .collect();
    open.sort_by_key(|f| (f.status != Status::Overdue, f.due));
    if !open.is_empty() {
        let day = now.to_zoned(pack.time_zone.clone()).date();
        for policy in pack
            .reminders
            .iter()
            .filter(|p| p.applies == Applies::DailyDigest)
        {
            for role in &policy.tell {
                for person in holders(estate, role) {
                    let key = format!("digest/{}/{day}/daily", sanitise(&pack.id));
                    if let Ok(told) = Told::try_from(key)
                        && !estate
                            .people
                            .get(&person)
                            .is_some_and(|p| p.told.contains(&told))
                    {
                        summaries.insert(person, told);
                    }
                }
            }
        }
    }
    for person in summaries.keys() {
        by_person.entry(person.clone()).or_default();
    }
    let mut out = Plan::default();
    for (person, (mut told, mut items)) in by_person {
        let summary = match summaries.get(&person) {
            Some(key) => {
                told.push(key.clone());
                open.clone()
            }
            None => Vec::new(),
        };
        let Some(someone) = estate.people.get(&person) else {
            continue;
        };
        let Some(address) = someone.email.clone().filter(|a| a.contains('@')) else {
            out.unreachable.push((person, told.len()));
            continue;
        };
        items.sort_by(|a, b| {
            let overdue = |i: &Item| !matches!(i.stage, Stage::Overdue(_));
            (overdue(a), a.finding.due).cmp(&(overdue(b), b.finding.due))
        });
        out.notices.push(Notice {
            person,
            name: someone.name.clone(),
            address,
            told,
            items,
            summary,
        });
    }
    out
}

/// The entry that governs a rule's findings: one naming the rule, else one
/// naming its kind, else one for every clock; the last declared of each
/// (a council's own, read after what it includes).
pub fn policy_for<'p>(pack: &'p PolicyPack, rule: &str) -> Option<&'p ReminderPolicy> {
    let kind = pack.rule(rule)?.kind.name();
    let last = |matches: &dyn Fn(&Applies) -> bool| {
        pack.reminders.iter().rev().find(|p| matches(&p.applies))
    };
    last(&|a| matches!(a, Applies::Rules(ids) if ids.iter().any(|id| id == rule)))
        .or_else(|| last(&|a| matches!(a, Applies::Kinds(k) if k.iter().any(|k| k == kind))))
        .or_else(|| last(&|a| *a == Applies::Every))
}

/// The finding's stage at `now` under `policy`, and whether it has been
/// overdue long enough to tell `escalate_to` too.
pub fn stage(
    pack: &PolicyPack,
    policy: &ReminderPolicy,
    finding: &Finding,
    now: Timestamp,
) -> Option<(Stage, bool)> {
    let due = finding.due?;
    match finding.status {
        Status::Open => {
            let left = due.duration_since(now);
            if left <= SignedDuration::ZERO {
                return None;
            }
            let length = pack.rule(&finding.rule).and_then(|r| nominal(&r.kind))?;
            let mut offsets: Vec<SignedDuration> = policy
                .before
                .iter()
                .copied()
                .filter(|o| *o < length)
                .collect();
            let short = length < SHORT_CLOCK;
            if let Some(share) = policy.before_share.filter(|_| short) {
                let hours = length.as_hours() * i64::from(share) / 100;
                if hours > 0 {
                    offsets.push(SignedDuration::from_hours(hours));
                }
            }
            offsets
                .into_iter()
                .filter(|o| left <= *o)
                .min()
                .map(|o| (Stage::Before(o), false))
        }
        Status::Overdue => {
            let over = now.duration_since(due);
            let n = match policy.overdue_every {
                Some(every) if every > SignedDuration::ZERO => {
                    u32::try_from(over.as_secs() / every.as_secs()).unwrap_or(u32::MAX - 1) + 1
                }
                _ => 1,
            };
            let escalated = !policy.escalate_to.is_empty() && n > policy.escalate_after;
            Some((Stage::Overdue(n), escalated))
        }
        _ => None,
    }
}

/// About how long a rule's clock runs: enough to tell a short clock from
/// a long one and whether an offset falls after its start.
fn nominal(kind: &RuleKind) -> Option<SignedDuration> {
    let duration = match kind {
        RuleKind::Obligation(o) => o.within,
        RuleKind::Recurrence(r) => r.every,
        _ => return None,
    };
    let hours = match duration {
        Duration::Hours(h) => i64::from(h),
        Duration::Calendar { amount, unit } => {
            let per = match unit {
                CalendarUnit::Days => 24,
                CalendarUnit::Weeks => 24 * 7,
                CalendarUnit::Months => 24 * 30,
                CalendarUnit::Years => 24 * 365,
            };
            i64::from(amount) * per
        }
        Duration::WorkingDays(n) => i64::from(n) * 24 * 7 / 5,
        Duration::SameDay => 24,
    };
    Some(SignedDuration::from_hours(hours))
}

/// `RULE/SUBJECT/SEQ/STAGE` for a finding at a stage.
pub fn told_key(finding: &Finding, stage: Stage) -> Option<Told> {
    let c = &finding.concerns;
    let subject = [&c.device, &c.incident, &c.policy, &c.resource, &c.person]
        .into_iter()
        .find_map(|s| s.as_deref())
        .unwrap_or("council");
    let seq = finding.events.from().unwrap_or(0);
    let key = format!(
        "{}/{}/{seq}/{}",
        sanitise(&finding.rule),
        sanitise(subject),
        stage.key()
    );
    Told::try_from(key).ok()
}

/// A key's part: what a [`Told`] allows, anything else `_`.
fn sanitise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn people(estate: &Estate, finding: &Finding, who: &[Recipient]) -> Vec<PersonId> {
    let subject = finding.concerns.person.as_deref().map(PersonId::from);
    let mut out = Vec::new();
    for recipient in who {
        match recipient {
            Recipient::Subject => out.extend(subject.clone()),
            Recipient::Manager => out.extend(
                subject
                    .as_ref()
                    .and_then(|p| estate.people.get(p))
                    .and_then(|p| p.manager.clone()),
            ),
            Recipient::Role(_) => out.extend(holders(estate, recipient)),
        }
    }
    out
}

/// The people present who hold a role.
fn holders(estate: &Estate, recipient: &Recipient) -> Vec<PersonId> {
    let Recipient::Role(role) = recipient else {
        return Vec::new();
    };
    let mut out: Vec<PersonId> = estate
        .people
        .iter()
        .filter(|(_, p)| p.is_present() && p.roles.contains(role))
        .map(|(id, _)| id.clone())
        .collect();
    out.sort();
    out
}
