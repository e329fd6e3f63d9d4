//! The evaluator: a pack's rules over a log, as of an instant, yielding
//! findings.
//!
//! One pass over the live events in the order they happened (`at`, ties in
//! recording order; voided events and voids left out). Each event type has a list of
//! hooks (which rules care about it, and how), so an event costs only the
//! rules that mention its type; open clocks and running cycles are kept in
//! maps keyed by their subject, so a discharge is a lookup, not a search.
//! Work grows with the log, not with log x rules x subjects.

use crate::calendar::Calendar;
use crate::detail::{ClockWords, Detail, Ended, Of};
use crate::pack::*;
use domain::{
    DeviceId, Estate, Event, EventKind, EventType, IdMap, IncidentId, Logged, PersonId, PolicyId,
    ResourceId, Seq,
};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;
use std::num::{NonZeroI32, NonZeroU32};
use std::sync::Arc;

/// Where a finding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// The events behind a finding, by their sequence numbers in the log: what
/// started its clock or cycle (or broke or met the rule), and what settled it.
/// 32 bits each (four billion events a council), so that millions of
/// findings stay small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Evidence {
    from: Option<NonZeroU32>,
    settled_by: Option<NonZeroU32>,
}

fn small(seq: Seq) -> Option<NonZeroU32> {
    u32::try_from(seq).ok().and_then(NonZeroU32::new)
}

impl Evidence {
    /// Started by `from`, settled by `settled_by`.
    pub fn new(from: Option<Seq>, settled_by: Option<Seq>) -> Self {
        Evidence {
            from: from.and_then(small),
            settled_by: settled_by.and_then(small),
        }
    }

    /// One event that both started and settled it (a check, a breach).
    fn one(seq: Seq) -> Self {
        Evidence::new(Some(seq), Some(seq))
    }

    /// What started it: a clock's trigger, the event a check was made before.
    pub fn from(&self) -> Option<Seq> {
        self.from.map(|s| Seq::from(s.get()))
    }

    /// What settled it.
    pub fn settled_by(&self) -> Option<Seq> {
        self.settled_by.map(|s| Seq::from(s.get()))
    }

    /// The sequence numbers, each once, in order.
    pub fn seqs(&self) -> impl Iterator<Item = Seq> + use<> {
        let from = self.from();
        let by = self.settled_by().filter(|b| Some(*b) != from);
        from.into_iter().chain(by)
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
    /// How many seconds after it happened the settling event was recorded,
    /// when it says and that was not when it happened (see
    /// [`Finding::recorded`]): four bytes, not a second timestamp.
    pub recorded_after: Option<NonZeroI32>,
    pub cite: Arc<str>,
    pub concerns: Concerns,
    /// One sentence on why, for people (put into words when displayed).
    pub detail: Detail,
    /// The events behind it.
    pub events: Evidence,
}

/// `recorded` as seconds after `at`, for [`Finding::recorded_after`].
fn recorded_after(event: &Event) -> Option<NonZeroI32> {
    let recorded = event.recorded?;
    let seconds = recorded.duration_since(event.at).as_secs();
    NonZeroI32::new(i32::try_from(seconds).unwrap_or(if seconds > 0 { i32::MAX } else { i32::MIN }))
}

impl Finding {
    /// When the settling event was recorded (to the second), where that was
    /// not when it happened.
    pub fn recorded(&self) -> Option<Timestamp> {
        let after = SignedDuration::from_secs(i64::from(self.recorded_after?.get()));
        self.settled?.checked_add(after).ok()
    }

    /// How long after it happened the settling event was recorded, when
    /// that was after the deadline: "returned on time, recorded 3 days later".
    pub fn recorded_late(&self) -> Option<SignedDuration> {
        let (due, settled, recorded) = (self.due?, self.settled?, self.recorded()?);
        (recorded > due && recorded > settled).then(|| recorded.duration_since(settled))
    }

    /// The detail, with a late recording said in words.
    pub fn sentence(&self) -> String {
        match self.recorded_late() {
            Some(after) => format!("{}; recorded {} later", self.detail, in_words(after)),
            None => self.detail.to_string(),
        }
    }
}

/// A span as people say it: whole days, else hours, else minutes.
fn in_words(span: SignedDuration) -> String {
    let minutes = span.as_secs() / 60;
    let (n, unit) = if minutes >= 24 * 60 {
        (minutes / (24 * 60), "day")
    } else if minutes >= 60 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// Evaluates every rule of `pack` over `log` as of `now`, as known now.
/// `log` is in recording order (event `#n` is `log[n - 1]`) and admitted
/// (as `domain::read_log` or a `Ledger` ensures); events after `now` are
/// ignored.
pub fn evaluate<E: AsRef<Event>>(
    pack: &PolicyPack,
    calendar: &Calendar,
    log: &[E],
    now: Timestamp,
) -> Vec<Finding> {
    evaluate_as_known(pack, calendar, log, now, None)
}

/// What the findings were as of `at`, from what had been recorded by
/// `known_at` (everything, if None): what Warden said on a past day, the
/// same before and after later records and corrections.
pub fn evaluate_as_known<E: AsRef<Event>>(
    pack: &PolicyPack,
    calendar: &Calendar,
    log: &[E],
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Vec<Finding> {
    let known = match known_at {
        Some(k) => {
            let count = log
                .iter()
                .take_while(|e| e.as_ref().recorded_or_at() <= k)
                .count();
            &log[..count]
        }
        None => log,
    };
    let mut evaluation = Evaluation::new(pack, calendar);
    // A batch keeps only the estate its rules read (see `reads`).
    evaluation.applies = crate::reads::events_to_apply(pack);
    let mut estate = Estate::default();
    // A log recorded as things happened (every v1 log) is folded in its own
    // order in one pass; at the first sign that it was not (a record earlier
    // than the one before, or a void) the fold starts again in time order.
    let is_void = |e: &Event| matches!(e.kind, EventKind::EventVoided(_));
    let mut last = Timestamp::MIN;
    let mut in_order = true;
    let mut rest = &known[known.len()..];
    for (i, event) in known.iter().map(AsRef::as_ref).enumerate() {
        if is_void(event) || event.at < last {
            in_order = false;
            break;
        }
        if event.at > at {
            rest = &known[i..];
            break;
        }
        last = event.at;
        evaluation.fold(&mut estate, i as Seq + 1, event);
    }
    // Past `at`, only a late record placed before `at`, or a void, matters.
    if in_order
        && rest
            .iter()
            .map(AsRef::as_ref)
            .any(|e| is_void(e) || e.at <= at)
    {
        in_order = false;
    }
    if !in_order {
        evaluation = Evaluation::new(pack, calendar);
        evaluation.applies = crate::reads::events_to_apply(pack);
        estate = Estate::default();
        for (seq, event) in domain::timeline::in_order(known) {
            if event.at > at {
                break;
            }
            evaluation.fold(&mut estate, seq, event);
        }
    }
    evaluation.into_findings(at)
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
    /// The event that started it.
    from: Seq,
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
    pub events: Evidence,
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
            recorded_after: None,
            cite: self.cite.clone(),
            concerns: self.concerns.clone(),
            detail: self.detail.clone(),
            events: self.events,
        }
    }
}

/// What admitting events changed: findings settled, clocks running after
/// that were not before (started), clocks running before that are not
/// after (stopped: discharged, done again, ended by a leaver, or undone by a
/// late record), and findings that no longer stand (withdrawn: a late
/// record or a void changed what came after it). Taking the withdrawn and
/// stopped out of the findings before, and adding the settled and started,
/// gives the findings after: what a service needs to update a page or a
/// stored view without evaluating again.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Change {
    pub settled: Vec<Finding>,
    pub started: Vec<Running>,
    pub stopped: Vec<ClockId>,
    pub withdrawn: Vec<Finding>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.settled.is_empty()
            && self.started.is_empty()
            && self.stopped.is_empty()
            && self.withdrawn.is_empty()
    }
}

/// A change as it is gathered: clocks put in and taken out net each other.
#[derive(Default)]
struct Tracker {
    started: IdMap<ClockId, Running>,
    stopped: HashSet<ClockId, foldhash::fast::FixedState>,
    settled: Vec<Finding>,
    withdrawn: Vec<Finding>,
}

impl Tracker {
    fn into_change(self) -> Change {
        let Tracker {
            started,
            stopped,
            mut settled,
            mut withdrawn,
        } = self;
        // A finding undone and settled again the same is no change: pair
        // them off by what identifies a finding (its rule, the events behind
        // it, its times), confirming each pair in full.
        type Identity = (
            *const u8,
            Status,
            Evidence,
            Option<Timestamp>,
            Option<Timestamp>,
        );
        let identity =
            |f: &Finding| -> Identity { (f.rule.as_ptr(), f.status, f.events, f.due, f.settled) };
        let mut by_identity: IdMap<Identity, Vec<usize>> =
            IdMap::with_capacity_and_hasher(settled.len(), Default::default());
        for (i, f) in settled.iter().enumerate() {
            by_identity.entry(identity(f)).or_default().push(i);
        }
        let mut paired = vec![false; settled.len()];
        withdrawn.retain(|w| {
            let twin = by_identity.get_mut(&identity(w)).and_then(|candidates| {
                let at = candidates
                    .iter()
                    .position(|&i| !paired[i] && settled[i] == *w)?;
                Some(candidates.swap_remove(at))
            });
            match twin {
                Some(i) => {
                    paired[i] = true;
                    false
                }
                None => true,
            }
        });
        let mut keep = paired.iter().map(|p| !p);
        settled.retain(|_| keep.next().unwrap_or(true));
        let mut started: Vec<Running> = started.into_values().collect();
        started.sort_by_key(|r| r.id);
        let mut stopped: Vec<ClockId> = stopped.into_iter().collect();
        stopped.sort_unstable();
        Change {
            settled,
            started,
            stopped,
            withdrawn,
        }
    }
}

/// One change to the evaluation's maps, as it was before: what undoing a
/// step puts back.
#[derive(Debug)]
enum Op {
    Clocks((usize, Key), Option<Vec<Clock>>),
    Cycle((usize, Key), Option<Clock>),
    Tally((usize, String, i16), Option<Tally>),
}

/// What one step of the fold changed, to take it back.
#[derive(Debug)]
pub struct StepUndo {
    ops: Vec<Op>,
    settled: usize,
}

#[derive(Clone, Debug, Default)]
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

/// The rules' side of a fold: clocks, cycles, tallies and settled
/// findings, kept beside an estate someone else holds (a batch `evaluate`,
/// or a [`crate::Ledger`]'s timeline). Each event is shown to it just before
/// and just after it is applied to that estate.
///
/// An event costs only the rules that name its type, and each of those
/// touches only the clocks, cycles and tallies of the event's own subjects
/// (its person, device, policy, incident, household), found by key. So a step
/// never re-reads the log, and the findings after it equal a full evaluation
/// of the log so far (a property test holds it to that). When a ledger keeps
/// undo, each step records what it changed, so that a late record can take
/// back the steps after its `at` and fold them again.
pub struct Evaluation<'a> {
    pack: &'a PolicyPack,
    calendar: &'a Calendar,
    /// Per event type, whether a batch folds it into its estate: only those
    /// the rules read (a ledger's estate is the whole state).
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
    /// Whether each step keeps its undo.
    keep: bool,
    /// The current step's undo, while it is kept.
    step: Option<StepUndo>,
    /// What is changing, while someone asks (see [`Evaluation::track`]).
    tracker: Option<Tracker>,
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
            applies: vec![true; EventType::ALL.len()],
            hooks,
            clocks: IdMap::default(),
            cycles: IdMap::default(),
            tallies: IdMap::default(),
            settled: Vec::new(),
            next_clock: 0,
            keep: false,
            step: None,
            tracker: None,
        }
    }

    pub fn pack(&self) -> &'a PolicyPack {
        self.pack
    }

    pub fn calendar(&self) -> &'a Calendar {
        self.calendar
    }

    /// A batch step: the event is checked against, then folded into, the
    /// batch's own lean estate.
    pub(crate) fn fold(&mut self, estate: &mut Estate, seq: Seq, event: &Event) {
        self.before(estate, seq, event);
        if self.applies[event.kind.event_type() as usize] {
            estate.apply(event);
        }
        self.after(estate, seq, event);
    }

    /// The event is about to be applied to `estate`: the checks that must
    /// see the state before it (preconditions, permissions).
    pub fn before(&mut self, estate: &Estate, seq: Seq, event: &Event) {
        if self.keep {
            self.step = Some(StepUndo {
                ops: Vec::new(),
                settled: self.settled.len(),
            });
        }
        let t = event.kind.event_type() as usize;
        let hooks = std::mem::take(&mut self.hooks[t]);
        for hook in &hooks {
            if let Hook::Before(r) = *hook {
                self.check(estate, r, seq, event);
            }
        }
        self.hooks[t] = hooks;
    }

    /// The event has been applied to `estate`: clocks, cycles, tallies and
    /// prohibitions.
    pub fn after(&mut self, estate: &Estate, seq: Seq, event: &Event) {
        let t = event.kind.event_type() as usize;
        let hooks = std::mem::take(&mut self.hooks[t]);
        for hook in &hooks {
            match *hook {
                Hook::Trigger(r) => self.trigger(estate, r, seq, event),
                Hook::Discharge(r, i) => self.discharge(estate, r, i, seq, event),
                Hook::Done(r, i) => self.done(estate, r, i, seq, event),
                Hook::CountedFrom(r, i) => self.counted_from(estate, r, i, seq, event),
                Hook::Leave(r) => self.leave(r, event),
                Hook::Tally(r) => self.tally(estate, r, seq, event),
                Hook::Forbid(r) => self.forbid(estate, r, seq, event),
                Hook::Before(_) => {}
            }
        }
        self.hooks[t] = hooks;
    }

    /// Starts gathering what changes (see [`Change`]); [`Evaluation::take_change`] ends it.
    pub fn track(&mut self) {
        self.tracker = Some(Tracker::default());
    }

    /// What changed since [`Evaluation::track`].
    pub fn take_change(&mut self) -> Change {
        self.tracker
            .take()
            .map(Tracker::into_change)
            .unwrap_or_default()
    }

    /// A new clock, started by event `seq`.
    fn clock(&mut self, due: Timestamp, concerns: Concerns, detail: Detail, seq: Seq) -> Clock {
        self.next_clock += 1;
        Clock {
            id: self.next_clock,
            due,
            concerns,
            detail,
            from: seq,
        }
    }

    fn running_of(&self, r: usize, clock: &Clock) -> Running {
        let (rule, cite) = &self.names[r];
        Running {
            id: clock.id,
            rule: rule.clone(),
            cite: cite.clone(),
            due: clock.due,
            concerns: clock.concerns.clone(),
            detail: clock.detail.clone(),
            events: Evidence::new(Some(clock.from), None),
        }
    }

    /// A clock goes into the maps.
    fn put(&mut self, r: usize, clock: &Clock) {
        if self.tracker.is_some() {
            let running = self.running_of(r, clock);
            if let Some(tracker) = &mut self.tracker
                && !tracker.stopped.remove(&clock.id)
            {
                tracker.started.insert(clock.id, running);
            }
        }
    }

    /// A clock leaves the maps.
    fn take(&mut self, clock: &Clock) {
        if let Some(tracker) = &mut self.tracker
            && tracker.started.remove(&clock.id).is_none()
        {
            tracker.stopped.insert(clock.id);
        }
    }

    fn save(&mut self, op: impl FnOnce(&Self) -> Op) {
        if self.step.is_some() {
            let op = op(self);
            if let Some(step) = &mut self.step {
                step.ops.push(op);
            }
        }
    }

    fn add_clock(&mut self, r: usize, key: Key, clock: Clock) {
        let key = (r, key);
        self.save(|e| Op::Clocks(key.clone(), e.clocks.get(&key).cloned()));
        self.put(r, &clock);
        self.clocks.entry(key).or_default().push(clock);
    }

    fn take_clocks(&mut self, r: usize, key: Key) -> Vec<Clock> {
        let key = (r, key);
        let Some(clocks) = self.clocks.remove(&key) else {
            return Vec::new();
        };
        for clock in &clocks {
            self.take(clock);
        }
        if let Some(step) = &mut self.step {
            step.ops.push(Op::Clocks(key, Some(clocks.clone())));
        }
        clocks
    }

    /// Puts a cycle in (or takes it out, with None), returning the one it replaces.
    fn set_cycle(&mut self, r: usize, key: Key, cycle: Option<Clock>) -> Option<Clock> {
        let key = (r, key);
        let old = match cycle {
            Some(cycle) => {
                self.put(r, &cycle);
                self.cycles.insert(key.clone(), cycle)
            }
            None => self.cycles.remove(&key),
        };
        if let Some(old) = &old {
            self.take(old);
        }
        if let Some(step) = &mut self.step {
            step.ops.push(Op::Cycle(key, old.clone()));
        }
        old
    }

    fn tally_mut(&mut self, key: (usize, String, i16)) -> &mut Tally {
        self.save(|e| Op::Tally(key.clone(), e.tallies.get(&key).cloned()));
        self.tallies.entry(key).or_default()
    }

    /// The findings settled so far, in the order they were settled.
    pub fn settled(&self) -> &[Finding] {
        &self.settled
    }

    /// Every finding as of `now`, which must not be earlier than the last
    /// event folded: the settled ones, and each running clock as open or
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
        clocks
            .chain(cycles)
            .map(move |(r, clock)| self.running_of(r, clock).finding(now))
    }

    fn rule(&self, r: usize) -> &'a Rule {
        &self.pack.rules[r]
    }

    /// A settled finding goes on the list.
    fn push(&mut self, r: usize, settled: Settled) {
        let (rule, cite) = &self.names[r];
        let finding = Finding {
            rule: rule.clone(),
            status: settled.status,
            due: settled.due,
            settled: Some(settled.event.at),
            recorded_after: recorded_after(settled.event),
            cite: cite.clone(),
            concerns: settled.concerns,
            detail: settled.detail,
            events: settled.events,
        };
        if let Some(tracker) = &mut self.tracker {
            tracker.settled.push(finding.clone());
        }
        self.settled.push(finding);
    }

    /// A finding settled by `event` itself: a check, a limit, a breach.
    fn settle(&mut self, r: usize, status: Status, seq: Seq, event: &Event, detail: Detail) {
        self.push(
            r,
            Settled {
                status,
                due: None,
                event,
                concerns: Concerns::of(&event.kind),
                detail,
                events: Evidence::one(seq),
            },
        );
    }

    /// Whether the conditions hold of `event` (and of `device`, for a
    /// fan-out) in `estate`.
    fn matches(
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
            && flag(filter.person_left, person.map(|p| !p.is_present()))
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

    fn trigger(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
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
                    estate
                        .devices
                        .get(d)
                        .is_some_and(|device| device.lost.is_some())
                };
                let held = estate
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
                    .filter(|d| self.matches(estate, &o.trigger.filter, event, Some(d)))
                {
                    let concerns = Concerns {
                        device: Some(device.0.clone()),
                        ..base.clone()
                    };
                    started.push((Key::Device(device.clone()), concerns, Of::Device(device)));
                }
            }
            (Some(Each::AccessHeld), Some(p))
                if self.matches(estate, &o.trigger.filter, event, None) =>
            {
                let grants = estate
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
            (None, _) if self.matches(estate, &o.trigger.filter, event, None) => {
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
            let clock = self.clock(due, concerns, detail, seq);
            self.add_clock(r, key, clock);
        }
    }

    fn discharge(&mut self, estate: &Estate, r: usize, i: usize, seq: Seq, event: &Event) {
        let RuleKind::Obligation(o) = &self.rule(r).kind else {
            return;
        };
        let Some(key) = key_of(clock_key(o.trigger.event, o.each), &event.kind) else {
            return;
        };
        if !self.clocks.contains_key(&(r, key.clone()))
            || !self.matches(estate, &o.discharged_by[i].filter, event, None)
        {
            return;
        }
        for clock in self.take_clocks(r, key) {
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
                Settled {
                    status,
                    due: Some(clock.due),
                    event,
                    concerns: clock.concerns,
                    detail,
                    events: Evidence::new(Some(clock.from), Some(seq)),
                },
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
    fn subject(&self, estate: &Estate, rec: &Recurrence, event: &Event) -> Option<(Key, Concerns)> {
        match rec.subject {
            SubjectKind::Person => {
                let id = event.kind.person()?;
                let person = estate.people.get(id)?;
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
        seq: Seq,
        event: &Event,
    ) {
        let due = self.calendar.deadline(event.at, rec.every);
        let detail = Detail::Cycle {
            every: rec.every,
            from: event.kind.event_type(),
            done_by: None,
        };
        let cycle = self.clock(due, concerns, detail, seq);
        self.set_cycle(r, key, Some(cycle));
    }

    fn done(&mut self, estate: &Estate, r: usize, i: usize, seq: Seq, event: &Event) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(estate, &rec.done_by[i].filter, event, None) {
            return;
        }
        let Some((key, concerns)) = self.subject(estate, rec, event) else {
            return;
        };
        if let Some(cycle) = self.set_cycle(r, key.clone(), None) {
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
                Settled {
                    status,
                    due: Some(cycle.due),
                    event,
                    concerns: cycle.concerns,
                    detail,
                    events: Evidence::new(Some(cycle.from), Some(seq)),
                },
            );
        }
        self.start_cycle(r, rec, key, concerns, seq, event);
    }

    fn counted_from(&mut self, estate: &Estate, r: usize, i: usize, seq: Seq, event: &Event) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(estate, &rec.counted_from[i].filter, event, None) {
            return;
        }
        if let Some((key, concerns)) = self.subject(estate, rec, event)
            && !self.cycles.contains_key(&(r, key.clone()))
        {
            self.start_cycle(r, rec, key, concerns, seq, event);
        }
    }

    /// A recurrence about people binds only while they are here.
    fn leave(&mut self, r: usize, event: &Event) {
        if let Some(p) = event.kind.person()
            && self.cycles.contains_key(&(r, Key::Person(p.clone())))
        {
            self.set_cycle(r, Key::Person(p.clone()), None);
        }
    }

    /// A precondition or permission, checked against the estate just
    /// before the event.
    fn check(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let rule = self.rule(r);
        let (on, missing) = match &rule.kind {
            RuleKind::Precondition(p) => (&p.on, self.unmet(estate, &p.require, event)),
            RuleKind::Permission(p) => (&p.on, self.unpermitted(estate, p, event)),
            _ => return,
        };
        if !self.matches(estate, &on.filter, event, None) {
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
        self.settle(r, status, seq, event, detail);
    }

    /// What the event's person lacks in `estate`, or None when the
    /// requirement holds.
    fn unmet(&self, estate: &Estate, require: &Requirement, event: &Event) -> Option<String> {
        let id = event.kind.person()?;
        let Some(person) = estate.people.get(id) else {
            return Some(format!("{id} is not known"));
        };
        let mut lacking = Vec::new();
        if require.mfa && person.mfa.is_empty() {
            lacking.push(format!("{id} has not enrolled in MFA"));
        }
        if let Some(policy) = &require.accepted {
            let version = estate
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

    fn unpermitted(
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

    fn tally(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let RuleKind::Limit(limit) = &self.rule(r).kind else {
            return;
        };
        let Some(place) = self.tally_place(estate, limit, event) else {
            return;
        };
        let tally = self.tally_mut((r, place.group.clone(), place.year));
        tally.total += place.amount;
        tally.count += 1;
        let (over, detail) = over_limit(limit.bound, tally, &place);
        let status = if over { Status::Violated } else { Status::Met };
        self.settle(r, status, seq, event, Detail::Text(detail));
    }

    /// Which tally of a limit the event counts in, and how much it adds;
    /// None when the limit does not count it.
    fn tally_place(&self, estate: &Estate, limit: &Limit, event: &Event) -> Option<TallyPlace> {
        if !self.matches(estate, &limit.on.filter, event, None) {
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

    /// The rules that would find `event` violated if it were folded next
    /// into `estate` (the state just before it, wherever in time it falls):
    /// its preconditions and permissions unmet, or a limit exceeded. A
    /// service refuses such a command instead of recording a breach.
    /// Prohibitions are left out: what they name (mail forwarding detected)
    /// is a discovery to record, not a request to refuse.
    pub fn refusals(&self, estate: &Estate, event: &Event) -> Vec<Refusal> {
        let mut refused = Vec::new();
        for (r, rule) in self.pack.rules.iter().enumerate() {
            let why = match &rule.kind {
                RuleKind::Precondition(p) if p.on.event == event.kind.event_type() => self
                    .matches(estate, &p.on.filter, event, None)
                    .then(|| self.unmet(estate, &p.require, event))
                    .flatten(),
                RuleKind::Permission(p) if p.on.event == event.kind.event_type() => self
                    .matches(estate, &p.on.filter, event, None)
                    .then(|| self.unpermitted(estate, p, event))
                    .flatten(),
                RuleKind::Limit(l) if l.on.event == event.kind.event_type() => {
                    self.tally_place(estate, l, event).and_then(|place| {
                        let mut tally = self
                            .tallies
                            .get(&(r, place.group.clone(), place.year))
                            .cloned()
                            .unwrap_or_default();
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

    fn forbid(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let RuleKind::Prohibition(p) = &self.rule(r).kind else {
            return;
        };
        if self.matches(estate, &p.on.filter, event, None) {
            let left = event
                .kind
                .person()
                .and_then(|p| estate.people.get(p))
                .and_then(|p| p.left);
            let detail = match (&event.kind, left) {
                (EventKind::EmailForwardingDetected(e), _) => format!("mail forwarded to {}", e.to),
                (EventKind::AccessGranted(e), Some(left)) => format!(
                    "access to {} granted to {} after they left ({left})",
                    e.resource, e.person
                ),
                (kind, _) => format!("{} must never happen like this", kind.event_type()),
            };
            self.settle(r, Status::Violated, seq, event, Detail::Text(detail));
        }
    }
}

/// A finding as it is settled by an event.
struct Settled<'e> {
    status: Status,
    due: Option<Timestamp>,
    event: &'e Event,
    concerns: Concerns,
    detail: Detail,
    events: Evidence,
}

/// The evaluation folds a ledger's timeline beside its estate.
impl domain::Follower for Evaluation<'_> {
    type Undo = StepUndo;

    fn before(&mut self, estate: &Estate, event: &Logged) {
        Evaluation::before(self, estate, event.seq, &event.event);
    }

    fn after(&mut self, estate: &Estate, event: &Logged) {
        Evaluation::after(self, estate, event.seq, &event.event);
    }

    fn keep_undo(&mut self, on: bool) {
        self.keep = on;
        if !on {
            self.step = None;
        }
    }

    fn take_undo(&mut self) -> Option<StepUndo> {
        self.step.take()
    }

    fn undo(&mut self, undo: StepUndo) {
        for op in undo.ops.into_iter().rev() {
            match op {
                Op::Clocks(key, old) => {
                    for clock in self.clocks.remove(&key).unwrap_or_default() {
                        self.take(&clock);
                    }
                    if let Some(old) = old {
                        for clock in &old {
                            self.put(key.0, clock);
                        }
                        self.clocks.insert(key, old);
                    }
                }
                Op::Cycle(key, old) => {
                    if let Some(cycle) = self.cycles.remove(&key) {
                        self.take(&cycle);
                    }
                    if let Some(old) = old {
                        self.put(key.0, &old);
                        self.cycles.insert(key, old);
                    }
                }
                Op::Tally(key, old) => match old {
                    Some(tally) => {
                        self.tallies.insert(key, tally);
                    }
                    None => {
                        self.tallies.remove(&key);
                    }
                },
            }
        }
        let undone: Vec<Finding> = self.settled.drain(undo.settled..).collect();
        self.withdraw(undone);
    }

    fn reset(&mut self) {
        let clocks: Vec<Clock> = self.clocks.drain().flat_map(|(_, c)| c).collect();
        let cycles: Vec<Clock> = self.cycles.drain().map(|(_, c)| c).collect();
        for clock in clocks.iter().chain(&cycles) {
            self.take(clock);
        }
        self.tallies.clear();
        let settled = std::mem::take(&mut self.settled);
        self.withdraw(settled);
        self.step = None;
    }
}

impl Evaluation<'_> {
    /// Findings that no longer stand, taken back from the change (one
    /// settled again the same is paired off when the change is taken).
    fn withdraw(&mut self, findings: Vec<Finding>) {
        if let Some(tracker) = &mut self.tracker {
            tracker.withdrawn.extend(findings);
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
