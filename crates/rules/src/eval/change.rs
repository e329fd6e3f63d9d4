//! What a step changed (for a service that keeps its findings current)
//! and how to undo it (for a late record): the evaluation as a timeline's
//! follower.

use super::*;

/// A clock or cycle that an append started: a finding that is open until
/// `due` and overdue after, unless a later append stops it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Running {
    pub id: ClockId,
    pub rule: ArcStr,
    pub cite: ArcStr,
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
pub(super) struct Tracker {
    pub(super) started: IdMap<ClockId, Running>,
    pub(super) stopped: HashSet<ClockId, foldhash::fast::FixedState>,
    pub(super) settled: Vec<Finding>,
    pub(super) withdrawn: Vec<Finding>,
}

impl Tracker {
    pub(super) fn into_change(self) -> Change {
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
pub(super) enum Op {
    Clocks((usize, Key), Option<Vec<Clock>>),
    Cycle((usize, Key), Option<Clock>),
    Tally((usize, String, i16), Option<Tally>),
}

/// What one step of the fold changed, to take it back.
#[derive(Debug)]
pub struct StepUndo {
    pub(super) ops: Vec<Op>,
    pub(super) settled: usize,
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
    pub(super) fn withdraw(&mut self, findings: Vec<Finding>) {
        if let Some(tracker) = &mut self.tracker {
            tracker.withdrawn.extend(findings);
        }
    }
}
