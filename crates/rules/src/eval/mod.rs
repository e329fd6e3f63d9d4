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
    ArcStr, DeviceId, Estate, Event, EventKind, EventType, IdMap, IncidentId, Logged, PersonId,
    PolicyId, ResourceId, Seq,
};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::num::{NonZeroI32, NonZeroU32};
use std::sync::Arc;

mod change;
mod clocks;
mod finding;
mod refusals;
mod stored;

pub use change::{Change, Running, StepUndo};
use change::{Op, Tracker};
use finding::recorded_after;
pub use finding::{Concerns, Evidence, Finding, Status};
pub use refusals::Refusal;
use refusals::Tally;
pub use stored::{StoredEvaluation, StoredFormError, fingerprint};

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
    // Councils' logs settle a finding every four to ten events: room for
    // them up front, rather than copying the list each time it doubles.
    evaluation.settled.reserve(known.len() / 4);
    let mut estate = Estate::default();
    // One pass in the order things happened: a log recorded as they
    // happened is read as it is, late records are merged back in (see
    // `InOrder`), and voids and what they void are left out.
    for (seq, event) in domain::timeline::InOrder::new(known) {
        if event.at > at {
            break;
        }
        evaluation.fold(&mut estate, seq, event);
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
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
    names: Vec<(ArcStr, ArcStr)>,
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
            .map(|r| (ArcStr::from(r.id.as_str()), ArcStr::from(r.cite.as_str())))
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
        self.sort(&mut all);
        all
    }

    /// `findings`, without copying the settled ones.
    pub fn into_findings(mut self, now: Timestamp) -> Vec<Finding> {
        let running: Vec<Finding> = self.running(now).collect();
        let mut all = std::mem::take(&mut self.settled);
        all.extend(running);
        self.sort(&mut all);
        // What the log did not settle gives back the room kept for it.
        all.shrink_to_fit();
        all
    }

    /// Sorts findings as [`sort_by_rank`] does, a rule ranked by the
    /// place of its id among the pack's in text order (found by pointer:
    /// a finding's rule is one of `names`; by text if not).
    fn sort(&self, findings: &mut [Finding]) {
        let mut by_id: Vec<&ArcStr> = self.names.iter().map(|(id, _)| id).collect();
        by_id.sort();
        let rank: IdMap<*const u8, usize> = by_id
            .iter()
            .enumerate()
            .map(|(place, id)| (id.as_ptr(), 2 * place + 1))
            .collect();
        sort_by_rank(findings, |f| match rank.get(&f.rule.as_ptr()) {
            Some(rank) => *rank,
            // Not one of them: just before the first id after it.
            None => match by_id.binary_search(&&f.rule) {
                Ok(place) => 2 * place + 1,
                Err(place) => 2 * place,
            },
        });
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
        one_of(&filter.person_kind, person.map(|p| &p.kind))
            && flag(filter.person_left, person.map(|p| !p.is_present()))
            && one_of(&filter.device_kind, device.map(|d| &d.kind))
            && one_of(&filter.device_owner, device.map(|d| &d.owner))
            && one_of(&filter.policy, kind.policy())
            && filter
                .flags
                .iter()
                .all(|(f, want)| f.of(kind) == Some(*want))
            && filter
                .texts
                .iter()
                .all(|(t, want)| t.of(kind) == Some(want.as_str()))
            && flag(
                filter.to_outside_mail_domains,
                match kind {
                    EventKind::EmailForwardingDetected(e) => {
                        Some(self.pack.is_outside_mail_domains(&e.to))
                    }
                    _ => None,
                },
            )
            && filter
                .resource_prefix
                .as_deref()
                .is_none_or(|p| kind.resource().is_some_and(|r| r.as_str().starts_with(p)))
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

/// Findings in the order every list shows them: most pressing first, then by
/// date, rule and what they concern. Sorted by index with the cheap part of
/// the key beside it (the rule as its place in id order), then each moved
/// once into place: a finding is large, and a sort moves each many times.
/// The index last makes the order total, the same whatever the algorithm.
fn sort_by_rank(findings: &mut [Finding], rank: impl Fn(&Finding) -> usize) {
    let mut order: Vec<(u128, usize)> = findings
        .iter()
        .enumerate()
        .map(|(i, f)| (sort_key(f.status, f.due.or(f.settled), rank(f)), i))
        .collect();
    order.sort_unstable_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| {
                let (x, y) = (&findings[a.1], &findings[b.1]);
                (&x.rule, &x.concerns).cmp(&(&y.rule, &y.concerns))
            })
            .then(a.1.cmp(&b.1))
    });
    let mut from: Vec<usize> = order.into_iter().map(|(_, i)| i).collect();
    permute(findings, &mut from);
}

/// Status, then instant (none first), then rule rank, in one number that
/// orders as the three do: a status is 3 bits, an instant 71 (seconds from
/// jiff's minimum, 39 bits, then nanoseconds, which share the seconds' sign,
/// plus a second, 31), a rank 24.
fn sort_key(status: Status, when: Option<Timestamp>, rank: usize) -> u128 {
    let when = when.map_or(0, |t| {
        let seconds = t.as_second().abs_diff(Timestamp::MIN.as_second());
        let nanos = i64::from(t.subsec_nanosecond()) + 1_000_000_000;
        1 + ((u128::from(seconds) << 31) | u128::from(nanos.unsigned_abs()))
    });
    let rank = u128::try_from(rank).unwrap_or(u128::MAX).min((1 << 24) - 1);
    (u128::from(status as u8) << 100) | (when << 24) | rank
}

/// Moves `items[from[i]]` to `items[i]`, each item once along its cycle;
/// `from` is left as the identity.
fn permute<T>(items: &mut [T], from: &mut [usize]) {
    for start in 0..items.len() {
        let mut at = start;
        while from[at] != at {
            let source = from[at];
            from[at] = at;
            if source == start {
                break;
            }
            items.swap(at, source);
            at = source;
        }
    }
}

fn clock_words(rule: &Rule) -> Option<Arc<ClockWords>> {
    let RuleKind::Obligation(o) = &rule.kind else {
        return None;
    };
    Some(Arc::new(ClockWords {
        trigger: o.trigger.event,
        needed: o.discharged_by.iter().map(|m| m.event).collect(),
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

#[cfg(test)]
mod sorting {
    use super::*;

    #[test]
    fn the_packed_key_orders_as_status_instant_and_rank_do() {
        let instants: Vec<Option<Timestamp>> = [
            None,
            Some(Timestamp::MIN),
            Some(Timestamp::MAX),
            Timestamp::new(-1, -500_000_000).ok(),
            Timestamp::new(-1, 0).ok(),
            Timestamp::new(0, -1).ok(),
            Timestamp::new(0, 0).ok(),
            Timestamp::new(0, 1).ok(),
            Timestamp::new(1_764_000_000, 999_999_999).ok(),
            Timestamp::new(1_764_000_001, 0).ok(),
        ]
        .into_iter()
        .collect();
        let mut keys = Vec::new();
        for status in Status::ALL {
            for when in &instants {
                for rank in [0, 1, 7, (1 << 24) - 1] {
                    keys.push((status, *when, rank));
                }
            }
        }
        for a in &keys {
            for b in &keys {
                assert_eq!(
                    sort_key(a.0, a.1, a.2).cmp(&sort_key(b.0, b.1, b.2)),
                    a.cmp(b),
                    "{a:?} against {b:?}"
                );
            }
        }
    }

    #[test]
    fn a_permutation_moves_each_item_to_its_place() {
        let mut items: Vec<char> = "abcdefg".chars().collect();
        let mut from = vec![3, 0, 6, 1, 2, 5, 4];
        let wanted: Vec<char> = from.iter().map(|&i| items[i]).collect();
        permute(&mut items, &mut from);
        assert_eq!(items, wanted);
        assert_eq!(from, (0..7).collect::<Vec<_>>());
    }
}
