//! The evaluator: a pack's rules over a log, as of an instant, yielding
//! findings.
//!
//! One pass over the events in time order. Each event type has a list of
//! hooks (which rules care about it, and how), so an event costs only the
//! rules that mention its type; open clocks and running cycles are kept in
//! maps keyed by their subject, so a discharge is a lookup, not a search.
//! Work grows with the log, not with log x rules x subjects.

use crate::calendar::Calendar;
use crate::detail::{ClockWords, Detail, Ended, Of};
use crate::pack::*;
use domain::{
    DeviceId, Estate, Event, EventKind, EventType, IdMap, IncidentId, PersonId, PolicyId,
    ResourceId,
};
use jiff::Timestamp;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;

/// Where a finding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Past due and not discharged.
    Overdue,
    /// A limit, prohibition, precondition or permission broken.
    Violated,
    /// A clock running, not yet due.
    Open,
    /// Discharged after the deadline.
    Late,
    /// Discharged in time, or checked and found to hold.
    Met,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Overdue,
        Status::Violated,
        Status::Open,
        Status::Late,
        Status::Met,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Status::Overdue => "overdue",
            Status::Violated => "violated",
            Status::Open => "open",
            Status::Late => "late",
            Status::Met => "met",
        }
    }

    /// Whether this status means something needs doing now.
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Overdue | Status::Violated)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The ids a finding concerns.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Concerns {
    pub person: Option<Arc<str>>,
    pub device: Option<Arc<str>>,
    pub policy: Option<Arc<str>>,
    pub incident: Option<Arc<str>>,
    pub resource: Option<Arc<str>>,
}

impl Concerns {
    fn of(event: &EventKind) -> Self {
        Concerns {
            person: event.person().map(|p| p.0.clone()),
            device: event.device().map(|d| d.0.clone()),
            policy: event.policy().map(|p| p.0.clone()),
            incident: event.incident().map(|i| i.0.clone()),
            resource: event.resource().map(|r| r.0.clone()),
        }
    }
}

/// What a rule says about one subject at the evaluation instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub rule: Arc<str>,
    pub status: Status,
    /// The deadline, where a clock applies.
    pub due: Option<Timestamp>,
    /// When the event that settled it happened (a discharge or a breach).
    pub settled: Option<Timestamp>,
    pub cite: Arc<str>,
    pub concerns: Concerns,
    /// One sentence on why, for people (put into words when displayed).
    pub detail: Detail,
}

/// Evaluates every rule of `pack` over `log` as of `now`. Events after `now`
/// are ignored; the log must be in time order (as `domain::read_log` ensures).
pub fn evaluate(
    pack: &PolicyPack,
    calendar: &Calendar,
    log: &[Event],
    now: Timestamp,
) -> Vec<Finding> {
    let mut evaluation = Evaluation::new(pack, calendar);
    // A batch keeps only the estate its rules read (see `reads`).
    evaluation.applies = crate::reads::events_to_apply(pack);
    for event in log.iter().take_while(|e| e.at <= now) {
        evaluation.fold(event);
    }
    evaluation.into_findings(now)
}

/// How a rule takes part in an event of some type.
#[derive(Clone, Copy, Debug)]
enum Hook {
    /// Checked against the estate just before the event (preconditions, permissions).
    Before(usize),
    Trigger(usize),
    Discharge(usize, usize),
    Done(usize, usize),
    CountedFrom(usize, usize),
    Leave(usize),
    Tally(usize),
    Forbid(usize),
}

/// What a clock or cycle is kept per.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Incident(IncidentId),
    Device(DeviceId),
    PersonResource(PersonId, ResourceId),
    Person(PersonId),
    Policy(PolicyId),
}

#[derive(Clone, Debug)]
struct Clock {
    id: ClockId,
    due: Timestamp,
    concerns: Concerns,
    detail: Detail,
}

/// Names one running clock or cycle for as long as it runs.
pub type ClockId = u64;

/// A clock or cycle that an append started: a finding that is open until
/// `due` and overdue after, unless a later append stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    pub id: ClockId,
    pub rule: Arc<str>,
    pub cite: Arc<str>,
    pub due: Timestamp,
    pub concerns: Concerns,
    pub detail: Detail,
}

impl Running {
    /// The finding this clock is as of `now`.
    pub fn finding(&self, now: Timestamp) -> Finding {
        Finding {
            rule: self.rule.clone(),
            status: if now > self.due {
                Status::Overdue
            } else {
                Status::Open
            },
            due: Some(self.due),
            settled: None,
            cite: self.cite.clone(),
            concerns: self.concerns.clone(),
            detail: self.detail.clone(),
        }
    }
}

/// What one appended event changed: findings it settled, clocks running
/// after it that were not before (started), and clocks running before it
/// that are not after (stopped: discharged, done again, or ended by a leaver).
/// Applying each append's change to the findings before it gives the findings
/// after it: what a service needs to update a page or a stored view without
/// evaluating again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    pub settled: Vec<Finding>,
    pub started: Vec<Running>,
    pub stopped: Vec<ClockId>,
}

#[derive(Default)]
struct Tally {
    total: i64,
    count: u32,
}

/// Where an event counts against a limit.
struct TallyPlace {
    group: String,
    amount: i64,
    year: i16,
    period: String,
}

/// Whether a tally is over its bound, and the sentence that says so.
fn over_limit(bound: Bound, tally: &Tally, place: &TallyPlace) -> (bool, String) {
    let (group, period) = (&place.group, &place.period);
    match bound {
        Bound::Total(max) => {
            let total = domain::Pence(tally.total);
            (
                tally.total > max.0,
                format!("{group}: {total} in {period} against a limit of {max}"),
            )
        }
        Bound::Count(max) => {
            let n = tally.count;
            (
                n > max,
                format!("{group}: {n} in {period} against a limit of {max}"),
            )
        }
    }
}

/// A rule that forbids a command: see [`Evaluation::refusals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub rule: String,
    pub cite: String,
    /// What is lacking or exceeded, in a sentence.
    pub why: String,
}

/// An evaluation kept up to date one event at a time: what a long-running
/// service holds per council. `evaluate` is this, run over a whole log.
///
/// Appending an event costs only the rules that name its type, and each of
/// those touches only the clocks, cycles and tallies of the event's own
/// subjects (its person, device, policy, incident, household), found by key.
/// So an append never re-reads the log, and `findings` after it equals a full
/// evaluation of the log so far (a property test holds it to that).
pub struct Evaluation<'a> {
    pack: &'a PolicyPack,
    calendar: &'a Calendar,
    estate: Estate,
    /// Per event type, whether to fold it into the estate: every type for an
    /// evaluation that a service keeps (its estate is the whole state), only
    /// those the rules read for a batch.
    applies: Vec<bool>,
    /// Each rule's id and citation, shared by all its findings.
    names: Vec<(Arc<str>, Arc<str>)>,
    /// What each obligation's clocks say, shared by all of them.
    clock_words: Vec<Option<Arc<ClockWords>>>,
    hooks: Vec<Vec<Hook>>,
    clocks: IdMap<(usize, Key), Vec<Clock>>,
    cycles: IdMap<(usize, Key), Clock>,
    tallies: IdMap<(usize, String, i16), Tally>,
    /// Findings settled so far, in the order settled.
    settled: Vec<Finding>,
    next_clock: ClockId,
    /// Collected during `append`; `evaluate` does not ask for it.
    change: Option<Change>,
}

impl<'a> Evaluation<'a> {
    /// An evaluation of an empty log.
    pub fn new(pack: &'a PolicyPack, calendar: &'a Calendar) -> Self {
        let mut hooks = vec![Vec::new(); EventType::ALL.len()];
        let mut hook = |event: EventType, h: Hook| hooks[event as usize].push(h);
        for (r, rule) in pack.rules.iter().enumerate() {
            match &rule.kind {
                RuleKind::Obligation(o) => {
                    hook(o.trigger.event, Hook::Trigger(r));
                    for (i, m) in o.discharged_by.iter().enumerate() {
                        hook(m.event, Hook::Discharge(r, i));
                    }
                }
                RuleKind::Recurrence(rec) => {
                    for (i, m) in rec.done_by.iter().enumerate() {
                        hook(m.event, Hook::Done(r, i));
                    }
                    for (i, m) in rec.counted_from.iter().enumerate() {
                        hook(m.event, Hook::CountedFrom(r, i));
                    }
                    if rec.subject == SubjectKind::Person {
                        hook(EventType::PersonLeft, Hook::Leave(r));
                    }
                }
                RuleKind::Precondition(p) => hook(p.on.event, Hook::Before(r)),
                RuleKind::Permission(p) => hook(p.on.event, Hook::Before(r)),
                RuleKind::Limit(l) => hook(l.on.event, Hook::Tally(r)),
                RuleKind::Prohibition(p) => hook(p.on.event, Hook::Forbid(r)),
            }
        }
        // Within one event, clocks start before discharges are looked for, so
        // an event may discharge the clock it starts (a loss reported late).
        for list in &mut hooks {
            list.sort_by_key(|h| match h {
                Hook::Before(_) => 0,
                Hook::Trigger(_) => 1,
                _ => 2,
            });
        }
        let names = pack
            .rules
            .iter()
            .map(|r| (Arc::from(r.id.as_str()), Arc::from(r.cite.as_str())))
            .collect();
        let clock_words = pack.rules.iter().map(clock_words).collect();
        Evaluation {
            pack,
            calendar,
            names,
            clock_words,
            estate: Estate::default(),
            applies: vec![true; EventType::ALL.len()],
            hooks,
            clocks: IdMap::default(),
            cycles: IdMap::default(),
            tallies: IdMap::default(),
            settled: Vec::new(),
            next_clock: 0,
            change: None,
        }
    }

    /// Folds in the next event of the log, which must not be earlier than
    /// the one before and must have passed `Estate::check` against
    /// [`Evaluation::estate`]. Returns what the event changed.
    pub fn append(&mut self, event: &Event) -> Change {
        self.change = Some(Change::default());
        self.fold(event);
        self.change.take().unwrap_or_default()
    }

    fn fold(&mut self, event: &Event) {
        let t = event.kind.event_type() as usize;
        let hooks = std::mem::take(&mut self.hooks[t]);
        // Checks see the estate before the event; everything else after it.
        // Hooks are sorted with the checks first.
        let checks = hooks.partition_point(|h| matches!(h, Hook::Before(_)));
        for hook in &hooks[..checks] {
            if let Hook::Before(r) = *hook {
                self.before(r, event);
            }
        }
        if self.applies[t] {
            self.estate.apply(event);
        }
        for hook in &hooks[checks..] {
            match *hook {
                Hook::Trigger(r) => self.trigger(r, event),
                Hook::Discharge(r, i) => self.discharge(r, i, event),
                Hook::Done(r, i) => self.done(r, i, event),
                Hook::CountedFrom(r, i) => self.counted_from(r, i, event),
                Hook::Leave(r) => self.leave(r, event),
                Hook::Tally(r) => self.tally(r, event),
                Hook::Forbid(r) => self.forbid(r, event),
                Hook::Before(_) => {}
            }
        }
        self.hooks[t] = hooks;
    }

    /// A new clock, reported as started when an append is asking.
    fn clock(&mut self, r: usize, due: Timestamp, concerns: Concerns, detail: Detail) -> Clock {
        self.next_clock += 1;
        let clock = Clock {
            id: self.next_clock,
            due,
            concerns,
            detail,
        };
        if let Some(change) = &mut self.change {
            let (rule, cite) = &self.names[r];
            change.started.push(Running {
                id: clock.id,
                rule: rule.clone(),
                cite: cite.clone(),
                due,
                concerns: clock.concerns.clone(),
                detail: clock.detail.clone(),
            });
        }
        clock
    }

    /// A clock stopped. One started by the same event (a loss reported late
    /// starts and discharges its clock at once) never ran, so the change
    /// reports neither.
    fn stopped(&mut self, clock: &Clock) {
        if let Some(change) = &mut self.change {
            match change.started.iter().position(|c| c.id == clock.id) {
                Some(i) => {
                    change.started.swap_remove(i);
                }
                None => change.stopped.push(clock.id),
            }
        }
    }

    /// The estate as of the last event appended.
    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// Every finding as of `now`, which must not be earlier than the last
    /// event appended: the settled ones, and each running clock as open or
    /// overdue. Sorted as `evaluate` sorts them.
    pub fn findings(&self, now: Timestamp) -> Vec<Finding> {
        let mut all = self.settled.clone();
        all.extend(self.running(now));
        sort(&mut all);
        all
    }

    /// `findings`, without copying the settled ones.
    pub fn into_findings(mut self, now: Timestamp) -> Vec<Finding> {
        let running: Vec<Finding> = self.running(now).collect();
        let mut all = std::mem::take(&mut self.settled);
        all.extend(running);
        sort(&mut all);
        all
    }

    /// Clocks and cycles still running, as findings as of `now`.
    fn running(&self, now: Timestamp) -> impl Iterator<Item = Finding> + '_ {
        let clocks = self
            .clocks
            .iter()
            .flat_map(|((r, _), clocks)| clocks.iter().map(move |c| (*r, c)));
        let cycles = self.cycles.iter().map(|((r, _), c)| (*r, c));
        clocks.chain(cycles).map(move |(r, clock)| {
            let (rule, cite) = &self.names[r];
            Finding {
                rule: rule.clone(),
                status: if now > clock.due {
                    Status::Overdue
                } else {
                    Status::Open
                },
                due: Some(clock.due),
                settled: None,
                cite: cite.clone(),
                concerns: clock.concerns.clone(),
                detail: clock.detail.clone(),
            }
        })
    }

    fn rule(&self, r: usize) -> &'a Rule {
        &self.pack.rules[r]
    }

    fn push(
        &mut self,
        r: usize,
        status: Status,
        due: Option<Timestamp>,
        settled: Option<Timestamp>,
        concerns: Concerns,
        detail: Detail,
    ) {
        let (rule, cite) = &self.names[r];
        let finding = Finding {
            rule: rule.clone(),
            status,
            due,
            settled,
            cite: cite.clone(),
            concerns,
            detail,
        };
        if let Some(change) = &mut self.change {
            change.settled.push(finding.clone());
        }
        self.settled.push(finding);
    }

    /// A finding settled by `event` itself: a check, a limit, a breach.
    fn settle(&mut self, r: usize, status: Status, event: &Event, detail: Detail) {
        self.push(
            r,
            status,
            None,
            Some(event.at),
            Concerns::of(&event.kind),
            detail,
        );
    }

    /// Whether the conditions hold of `event` (and of `device`, for a fan-out).
    fn matches(&self, filter: &Filter, event: &Event, device: Option<&DeviceId>) -> bool {
        self.matches_in(&self.estate, filter, event, device)
    }

    fn matches_in(
        &self,
        estate: &Estate,
        filter: &Filter,
        event: &Event,
        device: Option<&DeviceId>,
    ) -> bool {
        let kind = &event.kind;
        let person = kind.person().and_then(|p| estate.people.get(p));
        let device = device.or(kind.device()).and_then(|d| estate.devices.get(d));
        let flag = |want: Option<bool>, have: Option<bool>| want.is_none_or(|w| have == Some(w));
        let text = |want: Option<&str>, have: Option<&str>| want.is_none_or(|w| have == Some(w));
        one_of(&filter.person_kind, person.map(|p| &p.kind))
            && one_of(&filter.device_kind, device.map(|d| &d.kind))
            && one_of(&filter.device_owner, device.map(|d| &d.owner))
            && one_of(&filter.policy, kind.policy())
            && flag(
                filter.personal_data,
                match kind {
                    EventKind::IncidentReported(e) => Some(e.personal_data),
                    _ => None,
                },
            )
            && flag(
                filter.notifiable,
                match kind {
                    EventKind::IncidentAssessed(e) => Some(e.notifiable),
                    _ => None,
                },
            )
            && flag(
                filter.stolen,
                match kind {
                    EventKind::DeviceLost(e) => Some(e.stolen),
                    _ => None,
                },
            )
            && flag(
                filter.wiped,
                match kind {
                    EventKind::DeviceDisposed(e) => Some(e.wiped),
                    _ => None,
                },
            )
            && flag(
                filter.to_outside_mail_domains,
                match kind {
                    EventKind::EmailForwardingDetected(e) => {
                        Some(self.pack.is_outside_mail_domains(&e.to))
                    }
                    _ => None,
                },
            )
            && text(
                filter.category.as_deref(),
                match kind {
                    EventKind::ExpenseClaimed(e) => Some(e.category.as_str()),
                    _ => None,
                },
            )
            && text(
                filter.course.as_ref().map(|c| c.as_str()),
                match kind {
                    EventKind::TrainingCompleted(e) => Some(e.course.as_str()),
                    _ => None,
                },
            )
            && text(
                filter.agreement.as_ref().map(|a| a.as_str()),
                match kind {
                    EventKind::AgreementSigned(e) => Some(e.agreement.as_str()),
                    _ => None,
                },
            )
            && filter
                .resource_prefix
                .as_deref()
                .is_none_or(|p| kind.resource().is_some_and(|r| r.as_str().starts_with(p)))
    }

    fn trigger(&mut self, r: usize, event: &Event) {
        let RuleKind::Obligation(o) = &self.rule(r).kind else {
            return;
        };
        let start = match (o.from, &event.kind) {
            (ClockStart::At, _) => event.at,
            (ClockStart::Discovered, EventKind::DeviceLost(e)) => e.discovered,
            (ClockStart::Discovered, EventKind::IncidentReported(e)) => e.discovered,
            // A device with no acquisition date has no replacement clock to run.
            (ClockStart::Acquired, EventKind::DeviceRegistered(e)) => match e.acquired {
                Some(day) => self.calendar.start_of_day(day),
                None => return,
            },
            _ => return,
        };
        let due = self.calendar.deadline(start, o.within);
        let base = Concerns::of(&event.kind);
        let Some(words) = self.clock_words[r].clone() else {
            return;
        };
        let person = event.kind.person().cloned();
        // What the clocks are kept per: one per device or grant for a fan-out,
        // else the trigger's own subject. Each with the ids it concerns and
        // what it is about.
        let mut started: Vec<(Key, Concerns, Of)> = Vec::new();
        match (o.each, event.kind.person()) {
            (Some(Each::DeviceHeld), Some(p)) => {
                // A device reported lost cannot be handed back: no clock for
                // it (Southend's note; the loss has its own rule).
                let lost = |d: &DeviceId| {
                    self.estate
                        .devices
                        .get(d)
                        .is_some_and(|device| device.lost.is_some())
                };
                let held = self
                    .estate
                    .people
                    .get(p)
                    .map(|p| {
                        p.devices_held
                            .iter()
                            .filter(|d| !lost(d))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                for device in held
                    .into_iter()
                    .filter(|d| self.matches(&o.trigger.filter, event, Some(d)))
                {
                    let concerns = Concerns {
                        device: Some(device.0.clone()),
                        ..base.clone()
                    };
                    started.push((Key::Device(device.clone()), concerns, Of::Device(device)));
                }
            }
            (Some(Each::AccessHeld), Some(p)) if self.matches(&o.trigger.filter, event, None) => {
                let grants = self
                    .estate
                    .people
                    .get(p)
                    .map(|p| p.access.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                for resource in grants {
                    let concerns = Concerns {
                        resource: Some(resource.0.clone()),
                        ..base.clone()
                    };
                    let key = Key::PersonResource(p.clone(), resource.clone());
                    started.push((key, concerns, Of::Resource(resource)));
                }
            }
            (None, _) if self.matches(&o.trigger.filter, event, None) => {
                if let Some(key) = key_of(clock_key(o.trigger.event, None), &event.kind) {
                    started.push((key, base, Of::Nothing));
                }
            }
            _ => {}
        }
        for (key, concerns, of) in started {
            let detail = Detail::Clock {
                words: words.clone(),
                person: person.clone(),
                of,
                ended: None,
            };
            let clock = self.clock(r, due, concerns, detail);
            self.clocks.entry((r, key)).or_default().push(clock);
        }
    }

    fn discharge(&mut self, r: usize, i: usize, event: &Event) {
        let RuleKind::Obligation(o) = &self.rule(r).kind else {
            return;
        };
        let Some(key) = key_of(clock_key(o.trigger.event, o.each), &event.kind) else {
            return;
        };
        if !self.clocks.contains_key(&(r, key.clone()))
            || !self.matches(&o.discharged_by[i].filter, event, None)
        {
            return;
        }
        for clock in self.clocks.remove(&(r, key)).unwrap_or_default() {
            self.stopped(&clock);
            let late = event.at > clock.due;
            let status = if late { Status::Late } else { Status::Met };
            let mut detail = clock.detail;
            if let Detail::Clock { ended, .. } = &mut detail {
                *ended = Some(Ended {
                    late,
                    by: event.kind.event_type(),
                });
            }
            self.push(
                r,
                status,
                Some(clock.due),
                Some(event.at),
                clock.concerns,
                detail,
            );
        }
    }

    fn recurrence(&self, r: usize) -> Option<&'a Recurrence> {
        match &self.rule(r).kind {
            RuleKind::Recurrence(rec) => Some(rec),
            _ => None,
        }
    }

    /// The subject of a recurrence in this event, if the rule applies to it.
    fn subject(&self, rec: &Recurrence, event: &Event) -> Option<(Key, Concerns)> {
        match rec.subject {
            SubjectKind::Person => {
                let id = event.kind.person()?;
                let person = self.estate.people.get(id)?;
                let fits = person.is_present()
                    && rec
                        .when
                        .person_kind
                        .as_ref()
                        .is_none_or(|k| k.contains(&person.kind));
                fits.then(|| {
                    (
                        Key::Person(id.clone()),
                        Concerns {
                            person: Some(id.0.clone()),
                            ..Concerns::default()
                        },
                    )
                })
            }
            SubjectKind::Policy => {
                let id = event.kind.policy()?;
                let fits = rec.when.policy.as_ref().is_none_or(|p| p.contains(id));
                fits.then(|| {
                    (
                        Key::Policy(id.clone()),
                        Concerns {
                            policy: Some(id.0.clone()),
                            ..Concerns::default()
                        },
                    )
                })
            }
        }
    }

    fn start_cycle(
        &mut self,
        r: usize,
        rec: &Recurrence,
        key: Key,
        concerns: Concerns,
        event: &Event,
    ) {
        let due = self.calendar.deadline(event.at, rec.every);
        let detail = Detail::Cycle {
            every: rec.every,
            from: event.kind.event_type(),
            done_by: None,
        };
        let cycle = self.clock(r, due, concerns, detail);
        if let Some(replaced) = self.cycles.insert((r, key), cycle) {
            self.stopped(&replaced);
        }
    }

    fn done(&mut self, r: usize, i: usize, event: &Event) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(&rec.done_by[i].filter, event, None) {
            return;
        }
        let Some((key, concerns)) = self.subject(rec, event) else {
            return;
        };
        if let Some(cycle) = self.cycles.remove(&(r, key.clone())) {
            self.stopped(&cycle);
            let status = if event.at <= cycle.due {
                Status::Met
            } else {
                Status::Late
            };
            let mut detail = cycle.detail;
            if let Detail::Cycle { done_by, .. } = &mut detail {
                *done_by = Some(event.kind.event_type());
            }
            self.push(
                r,
                status,
                Some(cycle.due),
                Some(event.at),
                cycle.concerns,
                detail,
            );
        }
        self.start_cycle(r, rec, key, concerns, event);
    }

    fn counted_from(&mut self, r: usize, i: usize, event: &Event) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(&rec.counted_from[i].filter, event, None) {
            return;
        }
        if let Some((key, concerns)) = self.subject(rec, event)
            && !self.cycles.contains_key(&(r, key.clone()))
        {
            self.start_cycle(r, rec, key, concerns, event);
        }
    }

    /// A recurrence about people binds only while they are here.
    fn leave(&mut self, r: usize, event: &Event) {
        if let Some(p) = event.kind.person()
            && let Some(cycle) = self.cycles.remove(&(r, Key::Person(p.clone())))
        {
            self.stopped(&cycle);
        }
    }

    fn before(&mut self, r: usize, event: &Event) {
        let rule = self.rule(r);
        let (on, missing) = match &rule.kind {
            RuleKind::Precondition(p) => (&p.on, self.unmet(&p.require, event)),
            RuleKind::Permission(p) => (&p.on, self.unpermitted(p, event)),
            _ => return,
        };
        if !self.matches(&on.filter, event, None) {
            return;
        }
        let name = event.kind.event_type();
        let (status, detail) = match missing {
            None => (Status::Met, None),
            Some(why) => (Status::Violated, Some(why)),
        };
        let detail = Detail::Checked {
            before: name,
            lacking: detail,
        };
        self.settle(r, status, event, detail);
    }

    /// What the event's person lacks, or None when the requirement holds.
    fn unmet(&self, require: &Requirement, event: &Event) -> Option<String> {
        self.unmet_in(&self.estate, require, event)
    }

    fn unmet_in(&self, estate: &Estate, require: &Requirement, event: &Event) -> Option<String> {
        let id = event.kind.person()?;
        let Some(person) = estate.people.get(id) else {
            return Some(format!("{id} is not known"));
        };
        let mut lacking = Vec::new();
        if require.mfa && person.mfa.is_empty() {
            lacking.push(format!("{id} has not enrolled in MFA"));
        }
        if let Some(policy) = &require.accepted {
            let version = self
                .estate
                .current_version(policy)
                .or_else(|| self.pack.policy(policy).map(|p| p.version.as_str()))
                .unwrap_or_default();
            if !person.has_accepted(policy, version) {
                lacking.push(format!("{id} has not accepted {policy} version {version}"));
            }
        }
        if let Some(agreement) = &require.agreement
            && !person.agreements.contains_key(agreement)
        {
            lacking.push(format!("{id} has not signed {agreement}"));
        }
        if let Some(course) = &require.training
            && !person.training.contains_key(course)
        {
            lacking.push(format!("{id} has not completed {course} training"));
        }
        (!lacking.is_empty()).then(|| lacking.join("; "))
    }

    fn unpermitted(&self, permission: &Permission, event: &Event) -> Option<String> {
        self.unpermitted_in(&self.estate, permission, event)
    }

    fn unpermitted_in(
        &self,
        estate: &Estate,
        permission: &Permission,
        event: &Event,
    ) -> Option<String> {
        let actor = match (&event.kind, permission.actor) {
            (EventKind::DeviceRemovalApproved(e), Actor::ApprovedBy) => Some(&e.approved_by),
            (EventKind::AccessGranted(e) | EventKind::AccessRevoked(e), Actor::ApprovedBy) => {
                e.approved_by.as_ref()
            }
            (EventKind::AccessGranted(e) | EventKind::AccessRevoked(e), Actor::RequestedBy) => {
                e.requested_by.as_ref()
            }
            (_, Actor::By) => event.by.as_ref(),
            _ => None,
        };
        let roles: Vec<&str> = permission.roles.iter().map(|r| r.as_str()).collect();
        let Some(actor) = actor else {
            return Some(format!(
                "no {} recorded; only {} may",
                permission.actor.field(),
                roles.join(" or ")
            ));
        };
        let holds = estate.people.get(actor).is_some_and(|p| {
            p.is_present() && permission.roles.iter().any(|r| p.roles.contains(r))
        });
        (!holds).then(|| {
            format!(
                "{} {actor} holds none of the roles {}",
                permission.actor.field(),
                roles.join(", ")
            )
        })
    }

    fn tally(&mut self, r: usize, event: &Event) {
        let RuleKind::Limit(limit) = &self.rule(r).kind else {
            return;
        };
        let Some(place) = self.tally_place(limit, event) else {
            return;
        };
        let tally = self
            .tallies
            .entry((r, place.group.clone(), place.year))
            .or_default();
        tally.total += place.amount;
        tally.count += 1;
        let (over, detail) = over_limit(limit.bound, tally, &place);
        let status = if over { Status::Violated } else { Status::Met };
        self.settle(r, status, event, Detail::Text(detail));
    }

    /// Which tally of a limit the event counts in, and how much it adds;
    /// None when the limit does not count it.
    fn tally_place(&self, limit: &Limit, event: &Event) -> Option<TallyPlace> {
        if !self.matches(&limit.on.filter, event, None) {
            return None;
        }
        let (group, amount) = match (&event.kind, limit.group_by) {
            (EventKind::ExpenseClaimed(e), Group::Household) => {
                (format!("household {}", e.household), e.amount.0)
            }
            (EventKind::ExpenseClaimed(e), Group::Person) => (e.person.to_string(), e.amount.0),
            (kind, _) => (kind.person()?.to_string(), 0),
        };
        let day = self.calendar.local_date(event.at);
        let (year, period) = match limit.period {
            Period::FinancialYear => {
                let start = if day.month() >= 4 {
                    day.year()
                } else {
                    day.year() - 1
                };
                (start, format!("{}/{:02}", start, (start + 1) % 100))
            }
            Period::CalendarYear => (day.year(), day.year().to_string()),
        };
        Some(TallyPlace {
            group,
            amount,
            year,
            period,
        })
    }

    /// The rules that would find `event` violated if it were appended now:
    /// its preconditions and permissions unmet, or a limit exceeded. A
    /// service refuses such a command instead of recording a breach.
    /// Prohibitions are left out: what they name (mail forwarding detected)
    /// is a discovery to record, not a request to refuse.
    pub fn refusals(&self, event: &Event) -> Vec<Refusal> {
        self.refusals_in(&self.estate, event)
    }

    /// `refusals` against another estate: the one a command's earlier
    /// events would leave (a device registered and issued at once), so each
    /// event of a command is checked as if those before it were recorded.
    pub fn refusals_in(&self, estate: &Estate, event: &Event) -> Vec<Refusal> {
        let mut refused = Vec::new();
        for (r, rule) in self.pack.rules.iter().enumerate() {
            let why = match &rule.kind {
                RuleKind::Precondition(p) if p.on.event == event.kind.event_type() => self
                    .matches_in(estate, &p.on.filter, event, None)
                    .then(|| self.unmet_in(estate, &p.require, event))
                    .flatten(),
                RuleKind::Permission(p) if p.on.event == event.kind.event_type() => self
                    .matches_in(estate, &p.on.filter, event, None)
                    .then(|| self.unpermitted_in(estate, p, event))
                    .flatten(),
                RuleKind::Limit(l) if l.on.event == event.kind.event_type() => {
                    self.tally_place(l, event).and_then(|place| {
                        let mut tally = Tally::default();
                        if let Some(t) = self.tallies.get(&(r, place.group.clone(), place.year)) {
                            tally.total = t.total;
                            tally.count = t.count;
                        }
                        tally.total += place.amount;
                        tally.count += 1;
                        let (over, detail) = over_limit(l.bound, &tally, &place);
                        over.then_some(detail)
                    })
                }
                _ => None,
            };
            if let Some(why) = why {
                refused.push(Refusal {
                    rule: rule.id.clone(),
                    cite: rule.cite.clone(),
                    why,
                });
            }
        }
        refused
    }

    fn forbid(&mut self, r: usize, event: &Event) {
        let RuleKind::Prohibition(p) = &self.rule(r).kind else {
            return;
        };
        if self.matches(&p.on.filter, event, None) {
            let detail = match &event.kind {
                EventKind::EmailForwardingDetected(e) => format!("mail forwarded to {}", e.to),
                kind => format!("{} must never happen like this", kind.event_type()),
            };
            self.settle(r, Status::Violated, event, Detail::Text(detail));
        }
    }
}

/// Most pressing first: by status, then by when it was due or settled.
fn sort(findings: &mut [Finding]) {
    // Unstable is deterministic here (no randomness, and the input order is
    // itself deterministic) and moves these large values far less.
    findings.sort_unstable_by(|a, b| {
        (a.status, a.due.or(a.settled), &a.rule, &a.concerns).cmp(&(
            b.status,
            b.due.or(b.settled),
            &b.rule,
            &b.concerns,
        ))
    });
}

fn clock_words(rule: &Rule) -> Option<Arc<ClockWords>> {
    let RuleKind::Obligation(o) = &rule.kind else {
        return None;
    };
    let needed: Vec<&str> = o.discharged_by.iter().map(|m| m.event.name()).collect();
    Some(Arc::new(ClockWords {
        trigger: o.trigger.event,
        needed: needed.join(" or "),
        within: o.within,
        counted: match o.from {
            ClockStart::At => "",
            ClockStart::Discovered => " of discovery",
            ClockStart::Acquired => " of acquisition",
        },
    }))
}

/// An absent list allows anything; a present one must contain the value.
fn one_of<T: PartialEq>(list: &Option<Vec<T>>, value: Option<&T>) -> bool {
    match list {
        None => true,
        Some(list) => value.is_some_and(|v| list.contains(v)),
    }
}

/// The key an event gives for clocks of `kind`, if it names what is needed.
fn key_of(kind: ClockKey, event: &EventKind) -> Option<Key> {
    Some(match kind {
        ClockKey::Incident => Key::Incident(event.incident()?.clone()),
        ClockKey::Device => Key::Device(event.device()?.clone()),
        ClockKey::PersonResource => {
            Key::PersonResource(event.person()?.clone(), event.resource()?.clone())
        }
        ClockKey::Person => Key::Person(event.person()?.clone()),
        ClockKey::Policy => Key::Policy(event.policy()?.clone()),
    })
}
