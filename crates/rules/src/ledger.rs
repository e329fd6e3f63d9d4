//! The one way in: every event that enters a council's log, from a web
//! form, the API, an import, the generator or the demo, is admitted here.
//!
//! A `Ledger` is a council's timeline (`domain::Timeline`: the log in
//! recording order, the estate of its live events in `at` order) with the
//! pack's evaluation folded beside it. Admitting events checks, for each in
//! turn: its recording time and id; that it fits the estate at its place in
//! time and leaves every later event fitting; and, for a command, the
//! pack's preconditions, permissions and limits at that place. Either all
//! the events go in, and the ledger says what they changed, or none does,
//! with every reason. It does no I/O and reads no clock: the caller says
//! what time it is.

use crate::calendar::Calendar;
use crate::eval::{
    Change, Evaluation, Finding, Refusal, Status, StoredEvaluation, StoredFormError,
    evaluate_as_known,
};
use crate::pack::PolicyPack;
use domain::{
    CLOCK_SKEW, Estate, Event, EventRef, Logged, NotResumed, Objection, Resume, Savepoint, Seq,
    Timeline,
};
use jiff::Timestamp;

/// Whether the pack's rules may refuse what is admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Something about to be done (a web form, an API call): an event that
    /// would break a precondition, a permission or a limit is refused
    /// before it happens.
    Command,
    /// A record of what already happened (an import): it goes in whatever
    /// it broke, and what it broke becomes a `violated` finding. Events that
    /// could not have happened (a device returned that nobody held) are
    /// refused in both modes.
    History,
}

/// How a batch of events is admitted.
#[derive(Clone, Copy, Debug)]
pub struct Admission {
    pub mode: Mode,
    /// What time it is: none of the events may say it was recorded later.
    pub now: Timestamp,
    pub stamp: Stamp,
}

/// What an event that does not say when it was recorded is taken to say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// Recorded now (or just after the last recording, should the clock
    /// have stepped back): commands, and imports.
    Now,
    /// Recorded as it happened, as every v1 log was: it stays without a
    /// `recorded` (so its canonical form, and its chain, are a v1 log's),
    /// and must then be in time order. Generated histories and the demo.
    AsItHappened,
}

impl Admission {
    /// A command done now: the pack may refuse it, and it is recorded now.
    pub fn command(now: Timestamp) -> Self {
        Admission {
            mode: Mode::Command,
            now,
            stamp: Stamp::Now,
        }
    }

    /// A record of what happened, learned of now.
    pub fn history(now: Timestamp) -> Self {
        Admission {
            mode: Mode::History,
            now,
            stamp: Stamp::Now,
        }
    }

    /// A record of what happened, each event recorded as it happened.
    pub fn as_it_happened(now: Timestamp) -> Self {
        Admission {
            mode: Mode::History,
            now,
            stamp: Stamp::AsItHappened,
        }
    }
}

/// Why one event of a batch was not admitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("recorded {recorded}, which is later than now ({now})")]
    RecordedInFuture { recorded: Timestamp, now: Timestamp },
    #[error(transparent)]
    Log(Objection),
    #[error("{} ({}: {})", .0.why, .0.rule, .0.cite)]
    Rule(Refusal),
}

/// The events a batch admitted and what they changed.
#[derive(Debug, Default)]
pub struct Admitted {
    /// Each event's sequence number, in the batch's order.
    pub seqs: Vec<Seq>,
    pub change: Change,
    /// How many of the batch's events broke a rule at the time they happened
    /// (history only: a command that would is refused).
    pub violations: usize,
}

/// Stamps an event that does not say when it was recorded with the
/// admission's time (never before the last recording), and says why not if
/// it then claims to be recorded later than now.
fn stamp(event: &mut Event, last: Option<Timestamp>, admission: Admission) -> Option<Reason> {
    if admission.stamp == Stamp::Now && event.recorded.is_none() {
        event.recorded = Some(last.map_or(admission.now, |last| last.max(admission.now)));
    }
    let recorded = event.recorded_or_at();
    let latest = admission
        .now
        .saturating_add(CLOCK_SKEW)
        .unwrap_or(Timestamp::MAX);
    (recorded > latest).then_some(Reason::RecordedInFuture {
        recorded,
        now: admission.now,
    })
}

/// A fold of a council's log up to an event, kept aside: where
/// [`Ledger::resume`] starts.
pub struct Snapshot {
    /// The last event folded.
    pub through: Seq,
    pub estate: Estate,
    pub rules: StoredEvaluation,
}

/// Why a ledger was folded from the start of its log, not from a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotTakenUp {
    #[error(transparent)]
    Rules(#[from] StoredFormError),
    #[error(transparent)]
    Log(#[from] NotResumed),
}

/// A council's log as admitted, with its findings kept current.
pub struct Ledger<'a> {
    timeline: Timeline<'a, Evaluation<'a>>,
}

impl<'a> Ledger<'a> {
    /// A council with an empty log.
    pub fn new(pack: &'a PolicyPack, calendar: &'a Calendar) -> Self {
        Ledger {
            timeline: Timeline::new(pack, Evaluation::new(pack, calendar)),
        }
    }

    /// A council's stored log, read back in recording order: taken as
    /// admitted, folded once in `at` order.
    pub fn restore(
        pack: &'a PolicyPack,
        calendar: &'a Calendar,
        events: impl IntoIterator<Item = Event>,
    ) -> Self {
        Ledger {
            timeline: Timeline::restore(pack, Evaluation::new(pack, calendar), events),
        }
    }

    /// `restore`, starting from a snapshot: the estate and the rules' state
    /// after event `through`, so that only the events after it are folded.
    /// When the state was folded under another pack or version, or the
    /// events after it do not continue it, the whole log is folded instead
    /// and the reason returned beside the ledger.
    pub fn resume(
        pack: &'a PolicyPack,
        calendar: &'a Calendar,
        events: impl IntoIterator<Item = Event>,
        snapshot: Snapshot,
    ) -> (Self, Result<(), NotTakenUp>) {
        let mut taken_up = Evaluation::new(pack, calendar);
        if let Err(e) = taken_up.take_up(snapshot.rules) {
            return (Self::restore(pack, calendar, events), Err(e.into()));
        }
        let resume = Resume {
            through: snapshot.through,
            estate: snapshot.estate,
            follower: taken_up,
        };
        let (timeline, resumed) =
            Timeline::restore_resuming(pack, Evaluation::new(pack, calendar), events, resume);
        (Ledger { timeline }, resumed.map_err(NotTakenUp::from))
    }

    /// The rules' state, for a snapshot taken beside [`Ledger::estate`].
    pub fn stored_rules(&self) -> StoredEvaluation {
        self.timeline.follower().to_stored()
    }

    /// Keeps only `window` steps for undoing (see `Timeline::with_window`).
    pub fn with_window(mut self, window: usize) -> Self {
        self.timeline = self.timeline.with_window(window);
        self
    }

    /// Admits `events` in order, all or none. Each event without a
    /// `recorded` is stamped with the admission's time. On refusal, every
    /// reason of every event, by its index in `events`, and nothing changed.
    pub fn admit(
        &mut self,
        events: Vec<Event>,
        admission: Admission,
    ) -> Result<Admitted, Vec<(usize, Reason)>> {
        self.admit_gathering(events, admission, true)
    }

    /// `admit` for a large batch (an import, a generated history): the same
    /// checks, all or nothing, but what it changed is not gathered (its
    /// `change` is empty), which for a whole history would be a copy of
    /// every finding.
    pub fn admit_in_bulk(
        &mut self,
        events: Vec<Event>,
        admission: Admission,
    ) -> Result<Admitted, Vec<(usize, Reason)>> {
        self.admit_gathering(events, admission, false)
    }

    fn admit_gathering(
        &mut self,
        events: Vec<Event>,
        admission: Admission,
        gather: bool,
    ) -> Result<Admitted, Vec<(usize, Reason)>> {
        if !gather && admission.mode == Mode::History {
            return self.admit_history_at_once(events, admission);
        }
        let savepoint = self.timeline.savepoint();
        if gather {
            self.timeline.follower_mut().track();
        }
        let mut seqs = Vec::with_capacity(events.len());
        let mut refused = Vec::new();
        for (i, mut event) in events.into_iter().enumerate() {
            if let Some(reason) = stamp(&mut event, self.timeline.last_recorded(), admission) {
                refused.push((i, reason));
                self.timeline.admit_unchecked(event);
                continue;
            }
            let mode = admission.mode;
            let result = self
                .timeline
                .admit(event, |estate, evaluation, logged| match mode {
                    Mode::Command => {
                        let event = &logged.event;
                        let domain = estate.check_command(event).into_iter();
                        let rules = evaluation.refusals(estate, event).into_iter();
                        domain
                            .map(|r| Reason::Log(Objection::Estate(r)))
                            .chain(rules.map(Reason::Rule))
                            .collect()
                    }
                    Mode::History => Vec::new(),
                });
            match result {
                Ok(seq) => seqs.push(seq),
                Err(refusal) => {
                    refused.extend(refusal.objections.into_iter().map(|o| (i, Reason::Log(o))));
                    refused.extend(refusal.rules.into_iter().map(|r| (i, r)));
                    // Judge the rest as if this one were sound, so that one
                    // mistake gives one reason, not a cascade.
                    if let Some(event) = refusal.event {
                        self.timeline.admit_unchecked(*event);
                    }
                }
            }
        }
        let change = self.timeline.follower_mut().take_change();
        if !refused.is_empty() {
            self.timeline.rollback(savepoint);
            return Err(refused);
        }
        Ok(self.admitted(seqs, change, gather))
    }

    /// A history in bulk, late records and voids among it: stamped and
    /// checked for recording times one by one, then placed and folded at
    /// once (`Timeline::admit_all`), so that the whole history costs one
    /// fold, however many of its records are late.
    fn admit_history_at_once(
        &mut self,
        mut events: Vec<Event>,
        admission: Admission,
    ) -> Result<Admitted, Vec<(usize, Reason)>> {
        let mut refused = Vec::new();
        let mut last = self.timeline.last_recorded();
        for (i, event) in events.iter_mut().enumerate() {
            if let Some(reason) = stamp(event, last, admission) {
                refused.push((i, reason));
            }
            let recorded = event.recorded_or_at();
            last = Some(last.map_or(recorded, |l| l.max(recorded)));
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        let result = self.timeline.admit_all(events);
        match result {
            Ok(seqs) => Ok(self.admitted(seqs, Change::default(), false)),
            Err(objections) => Err(objections
                .into_iter()
                .map(|(i, o)| (i, Reason::Log(o)))
                .collect()),
        }
    }

    /// What a batch admitted as `seqs` changed, and how many of its events
    /// broke a rule when they happened.
    fn admitted(&self, seqs: Vec<Seq>, change: Change, gather: bool) -> Admitted {
        // The admitted events' sequence numbers are consecutive.
        let admitted = |seq: Seq| {
            seqs.first()
                .is_some_and(|first| seq >= *first && seq < first + seqs.len() as Seq)
        };
        // From what changed, or, in bulk, where nothing was gathered, from
        // every finding there is.
        let settled = if gather {
            &change.settled
        } else {
            self.timeline.follower().settled()
        };
        let broke: std::collections::HashSet<Seq> = settled
            .iter()
            .filter(|f| f.status == Status::Violated)
            .filter_map(|f| f.events.settled_by())
            .filter(|seq| admitted(*seq))
            .collect();
        let violations = broke.len();
        Admitted {
            seqs,
            change,
            violations,
        }
    }

    /// Events another writer admitted and stored (another node of the
    /// service, or an import beside it), read back in recording order after
    /// this ledger's last: taken as admitted, each placed where it happened.
    pub fn follow(&mut self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            self.timeline.admit_unchecked(event);
        }
    }

    /// Where the ledger stands, to go back to if what was admitted since
    /// cannot be stored.
    pub fn savepoint(&self) -> Savepoint {
        self.timeline.savepoint()
    }

    /// Takes back everything admitted since `savepoint`.
    pub fn rollback(&mut self, savepoint: Savepoint) {
        self.timeline.rollback(savepoint);
    }

    /// The estate of the live events, as of the latest.
    pub fn estate(&self) -> &Estate {
        self.timeline.estate()
    }

    pub fn timeline(&self) -> &Timeline<'a, Evaluation<'a>> {
        &self.timeline
    }

    /// Every event of the log, in recording order, as admitted (stamped,
    /// an implied id dropped): what a store appends.
    pub fn events(&self) -> Vec<Event> {
        self.timeline
            .log()
            .iter()
            .map(|l| l.event.clone())
            .collect()
    }

    /// The number of events in the log.
    pub fn len(&self) -> u64 {
        self.timeline.log().len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.timeline.log().is_empty()
    }

    /// The event with this sequence number.
    pub fn get(&self, seq: Seq) -> Option<&Logged> {
        self.timeline.get(seq)
    }

    /// The event a reference names.
    pub fn find(&self, reference: &EventRef) -> Option<&Logged> {
        self.timeline
            .resolve(reference)
            .and_then(|seq| self.get(seq))
    }

    /// When the latest live event happened.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.timeline.last_at()
    }

    /// When the last event was recorded.
    pub fn last_recorded(&self) -> Option<Timestamp> {
        self.timeline.last_recorded()
    }

    /// Every finding as of `now` (not earlier than the latest event), as
    /// known now.
    pub fn findings(&self, now: Timestamp) -> Vec<Finding> {
        self.timeline.follower().findings(now)
    }

    /// The findings as of `at`, from what had been recorded by `known_at`
    /// (everything if None): evaluated again from the log.
    pub fn findings_as_known(&self, at: Timestamp, known_at: Option<Timestamp>) -> Vec<Finding> {
        let evaluation = self.timeline.follower();
        let log = self.timeline.log();
        evaluate_as_known(evaluation.pack(), evaluation.calendar(), log, at, known_at)
    }

    /// The rules that would refuse `event` as a command now, at its place in
    /// time, without admitting it (a form's preview).
    pub fn refusals(&self, event: &Event) -> Vec<Refusal> {
        self.timeline
            .follower()
            .refusals(self.timeline.estate(), event)
    }
}
