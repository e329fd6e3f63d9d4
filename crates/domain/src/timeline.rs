//! The timeline: a council's events in the order they happened, kept
//! consistent as records arrive late and are corrected.
//!
//! The log is kept in recording order (its sequence numbers and its chain);
//! the estate is the fold of the live events (neither voided nor voids) in
//! `at` order, ties in recording order. A late record is placed at its `at`:
//! the timeline undoes the events after it, checks the record against the
//! estate it finds there, applies it, and applies the later events again,
//! checking that each still fits. A void takes its event out the same way.
//! Whatever does not fit is refused, naming the event it conflicts with,
//! and the timeline is left as it was.
//!
//! **Invariant**: the estate (and whatever [`Follower`] folds beside it) is
//! the fold of the live events in timeline order, every one of which fit the
//! estate at its place when it was admitted or last moved past.

use crate::estate::{Estate, PolicyCatalogue, Refusal, Undo};
use crate::event::{Event, EventKind, EventType};
use crate::ids::{EventId, EventRef, IdMap};
use jiff::{SignedDuration, Timestamp};
use std::collections::{HashMap, VecDeque};

/// How far `at` may run ahead of `recorded`: clocks of the machines that
/// stamp the two disagree a little, but nothing is recorded before it happens.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// Sequence numbers are 1-based: `#1` is the first event a council recorded.
pub type Seq = u64;

/// One event of the log, at its place in recording order.
#[derive(Clone, Debug, PartialEq)]
pub struct Logged {
    pub seq: Seq,
    pub event: Event,
    /// The `event_voided` that took it out, if one did.
    pub voided_by: Option<Seq>,
}

impl Logged {
    /// What the log calls it: its own id, or `#SEQ`.
    pub fn reference(&self) -> EventRef {
        match self.event.own_id() {
            Some(id) => EventRef::Id(id.clone()),
            None => EventRef::Seq(self.seq),
        }
    }

    /// Whether the estate and the rules see it: not a void, not voided.
    pub fn is_live(&self) -> bool {
        self.voided_by.is_none() && !matches!(self.event.kind, EventKind::EventVoided(_))
    }
}

impl AsRef<Event> for Logged {
    fn as_ref(&self) -> &Event {
        &self.event
    }
}

/// Something that folds the timeline beside the estate (the rules'
/// evaluation), and can take back its last steps when a late record or a
/// void means the events after some instant must be folded again.
pub trait Follower {
    /// What one step changed.
    type Undo;
    /// Sees each event just before it is applied to the estate.
    fn before(&mut self, estate: &Estate, event: &Logged);
    /// Sees each event just after it is applied to the estate.
    fn after(&mut self, estate: &Estate, event: &Logged);
    /// Keep what each step changes from now on (or stop keeping it).
    fn keep_undo(&mut self, on: bool);
    /// What the step just folded changed, when it is being kept.
    fn take_undo(&mut self) -> Option<Self::Undo>;
    /// Takes back one step; steps are taken back latest first.
    fn undo(&mut self, undo: Self::Undo);
    /// Back to an empty log.
    fn reset(&mut self);
}

/// The estate alone, followed by nothing.
impl Follower for () {
    type Undo = ();
    fn before(&mut self, _: &Estate, _: &Logged) {}
    fn after(&mut self, _: &Estate, _: &Logged) {}
    fn keep_undo(&mut self, _: bool) {}
    fn take_undo(&mut self) -> Option<()> {
        Some(())
    }
    fn undo(&mut self, _: ()) {}
    fn reset(&mut self) {}
}

/// The event another refusal is about: a later event that would no longer
/// fit, or one a void would take the ground from under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Other {
    pub seq: Seq,
    pub reference: EventRef,
    pub at: Timestamp,
    pub event_type: EventType,
}

/// Why the log will not take an event. Nothing changes when one is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Objection {
    #[error(
        "recorded {recorded}, before the last event already recorded ({previous}): the log is kept in the order Warden learns of things, so `recorded` never goes back"
    )]
    RecordedBackwards {
        recorded: Timestamp,
        previous: Timestamp,
    },
    #[error(
        "it happened at {at} but was recorded at {recorded}: nothing can be recorded before it happens"
    )]
    NotYetHappened { at: Timestamp, recorded: Timestamp },
    #[error("id `{id}` is already used by event #{first}")]
    DuplicateId { id: EventId, first: Seq },
    #[error("id `#{given}` is not this event's place in the log (#{seq}); leave it out")]
    WrongPlace { given: Seq, seq: Seq },
    #[error("there is no event `{0}` to void")]
    NoSuchEvent(EventRef),
    #[error("`{0}` is itself a void, and a void cannot be voided: record the event again instead")]
    VoidOfVoid(EventRef),
    #[error("`{target}` was already voided by #{by}")]
    AlreadyVoided { target: EventRef, by: Seq },
    #[error(transparent)]
    Estate(#[from] Refusal),
    /// A later event would no longer fit the estate at its own place.
    #[error("{} {} at {} would then not fit: {refusal}", other.event_type, other.reference, other.at)]
    Conflict { other: Other, refusal: Refusal },
    /// Voiding would take away what a later event stands on.
    #[error("{} {} at {} depends on it: {refusal}", other.event_type, other.reference, other.at)]
    Depends { other: Other, refusal: Refusal },
    /// The event does not fit where it happened, and what it needs is
    /// recorded as happening after it (a return dated before the issue).
    #[error("{refusal}: {} {} happened after it, at {}", later.event_type, later.reference, later.at)]
    Before { refusal: Refusal, later: Other },
}

impl Objection {
    /// An estate's refusal, naming the event after it (`later`) that holds
    /// what it lacked, when there is one.
    fn refused(refusal: Refusal, later: Option<Other>) -> Self {
        match later {
            Some(later) => Objection::Before { refusal, later },
            None => Objection::Estate(refusal),
        }
    }

    /// The estate's refusal behind it, if it is one.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Objection::Estate(refusal)
            | Objection::Before { refusal, .. }
            | Objection::Conflict { refusal, .. }
            | Objection::Depends { refusal, .. } => Some(refusal),
            _ => None,
        }
    }
}

/// Where a timeline stood, to go back to (see [`Timeline::rollback`]).
#[derive(Clone, Copy, Debug)]
pub struct Savepoint {
    len: usize,
    last_recorded: Option<Timestamp>,
}

/// A fold of a log's first events kept aside (a snapshot's estate and
/// rules' state), for [`Timeline::restore_resuming`].
pub struct Resume<F> {
    /// The last event it folds: it covers events `1..=through`.
    pub through: Seq,
    pub estate: Estate,
    pub follower: F,
}

/// Why a log was folded from its start rather than resumed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotResumed {
    #[error("it follows event {through}, and the log has {events} events")]
    Beyond { through: Seq, events: Seq },
    #[error("event {seq}, after it, voids an event")]
    Voided { seq: Seq },
    #[error("event {seq}, after it, happened before an event it holds")]
    Earlier { seq: Seq },
}

/// A council's log and the estate of its live events in `at` order.
pub struct Timeline<'p, F: Follower = ()> {
    policies: &'p (dyn PolicyCatalogue + Sync),
    /// Every event in recording order: `log[seq - 1]`.
    log: Vec<Logged>,
    /// The live events' sequence numbers in (at, seq) order.
    order: Vec<Seq>,
    /// How many of `order` are folded into the estate and the follower.
    folded: usize,
    /// What the last `journal.len()` folded steps changed.
    journal: VecDeque<(Undo, F::Undo)>,
    /// How many steps the journal keeps: a record later than that many
    /// events is placed by folding again from the start.
    window: usize,
    estate: Estate,
    follower: F,
    ids: IdMap<EventId, Seq>,
    last_recorded: Option<Timestamp>,
    /// How many times the log was folded again from its start.
    refolds: u64,
}

impl<'p, F: Follower> Timeline<'p, F> {
    /// Steps kept for undoing by default. A step kept costs about a
    /// kilobyte (the person and device it touched, the clocks it replaced),
    /// so this is about 4 MB a council at most: months of a district
    /// council's records, three days of the largest's. A record later than
    /// this many events is placed by folding the whole log again.
    pub const WINDOW: usize = 4_096;

    /// An empty log.
    pub fn new(policies: &'p (dyn PolicyCatalogue + Sync), follower: F) -> Self {
        Timeline {
            policies,
            log: Vec::new(),
            order: Vec::new(),
            folded: 0,
            journal: VecDeque::new(),
            window: Self::WINDOW,
            estate: Estate::default(),
            follower,
            ids: IdMap::default(),
            last_recorded: None,
            refolds: 0,
        }
    }

    /// Keeps only `window` steps for undoing (tests use a small one to
    /// exercise folding again from the start).
    pub fn with_window(mut self, window: usize) -> Self {
        self.window = window;
        self
    }

    /// A log read back from a store: events already admitted, in recording
    /// order, taken as they are (their order, ids and voids are not checked
    /// against the estate again), and folded once in `at` order.
    pub fn restore(
        policies: &'p (dyn PolicyCatalogue + Sync),
        follower: F,
        events: impl IntoIterator<Item = Event>,
    ) -> Self {
        let mut timeline = Self::read_back(policies, follower, events);
        timeline.advance(timeline.order.len(), false);
        timeline
    }

    /// `restore`, starting from `resume` (a fold of the log's first
    /// `resume.through` events, kept aside) and folding only the events
    /// after it, if they continue it: none happened before an event it
    /// holds, none is a void. Otherwise the whole log is folded into
    /// `follower`, and the reason is returned beside the timeline.
    pub fn restore_resuming(
        policies: &'p (dyn PolicyCatalogue + Sync),
        follower: F,
        events: impl IntoIterator<Item = Event>,
        resume: Resume<F>,
    ) -> (Self, Result<(), NotResumed>) {
        let mut timeline = Self::read_back(policies, follower, events);
        let resumed = timeline.resumable(resume.through);
        if let Ok(folded) = resumed {
            timeline.estate = resume.estate;
            timeline.follower = resume.follower;
            timeline.folded = folded;
        }
        timeline.advance(timeline.order.len(), false);
        (timeline, resumed.map(|_| ()))
    }

    /// The events in recording order, their ids and voids, and the order
    /// to fold them in; nothing folded yet.
    fn read_back(
        policies: &'p (dyn PolicyCatalogue + Sync),
        follower: F,
        events: impl IntoIterator<Item = Event>,
    ) -> Self {
        let mut timeline = Self::new(policies, follower);
        for mut event in events {
            let seq = timeline.next_seq();
            if matches!(event.id, Some(EventRef::Seq(_))) {
                event.id = None;
            }
            if let Some(id) = event.own_id() {
                timeline.ids.entry(id.clone()).or_insert(seq);
            }
            timeline.last_recorded = Some(event.recorded_or_at());
            if let EventKind::EventVoided(v) = &event.kind
                && let Some(target) = timeline.resolve(&v.event)
                && let Some(logged) = timeline.log.get_mut(index(target))
                && logged.voided_by.is_none()
            {
                logged.voided_by = Some(seq);
            }
            timeline.log.push(Logged {
                seq,
                event,
                voided_by: None,
            });
        }
        let mut order: Vec<Seq> = timeline
            .log
            .iter()
            .filter(|l| l.is_live())
            .map(|l| l.seq)
            .collect();
        // Stable, and usually already sorted: a log recorded as things
        // happened is in `at` order.
        order.sort_by_key(|seq| timeline.log[index(*seq)].event.at);
        timeline.order = order;
        timeline
    }

    /// How many steps of the order a fold of the first `through` events
    /// covers, if the events after them continue it.
    fn resumable(&self, through: Seq) -> Result<usize, NotResumed> {
        let after = usize::try_from(through).unwrap_or(usize::MAX);
        if through == 0 || after > self.log.len() {
            return Err(NotResumed::Beyond {
                through,
                events: self.log.len() as Seq,
            });
        }
        if let Some(void) = self.log[after..]
            .iter()
            .find(|l| matches!(l.event.kind, EventKind::EventVoided(_)))
        {
            return Err(NotResumed::Voided { seq: void.seq });
        }
        let covered = self.order.iter().filter(|s| **s <= through).count();
        match self.order[..covered].iter().find(|s| **s > through) {
            Some(seq) => Err(NotResumed::Earlier { seq: *seq }),
            None => Ok(covered),
        }
    }

    pub fn estate(&self) -> &Estate {
        &self.estate
    }

    /// How many times the log was folded again from its start: a record or
    /// void placed further back than the journal reached (or a batch taken
    /// back). Each costs a fold of the whole log.
    pub fn refolds(&self) -> u64 {
        self.refolds
    }

    pub fn follower(&self) -> &F {
        &self.follower
    }

    pub fn follower_mut(&mut self) -> &mut F {
        &mut self.follower
    }

    /// Every event in recording order.
    pub fn log(&self) -> &[Logged] {
        &self.log
    }

    /// The log, given up: every event in recording order.
    pub fn into_log(self) -> Vec<Logged> {
        self.log
    }

    /// The event with this sequence number.
    pub fn get(&self, seq: Seq) -> Option<&Logged> {
        self.log.get(index(seq))
    }

    /// The live events in the order they happened.
    pub fn live(&self) -> impl DoubleEndedIterator<Item = &Logged> + ExactSizeIterator {
        self.order.iter().map(|seq| &self.log[index(*seq)])
    }

    /// The sequence number the next event will have.
    pub fn next_seq(&self) -> Seq {
        self.log.len() as Seq + 1
    }

    /// When the last event was recorded.
    pub fn last_recorded(&self) -> Option<Timestamp> {
        self.last_recorded
    }

    /// When the latest live event happened.
    pub fn last_at(&self) -> Option<Timestamp> {
        self.order.last().map(|seq| self.log[index(*seq)].event.at)
    }

    /// The sequence number of the event a reference names.
    pub fn resolve(&self, reference: &EventRef) -> Option<Seq> {
        match reference {
            EventRef::Seq(seq) => (index(*seq) < self.log.len()).then_some(*seq),
            EventRef::Id(id) => self.ids.get(id).copied(),
        }
    }

    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            len: self.log.len(),
            last_recorded: self.last_recorded,
        }
    }

    /// Admits one event as the next in recording order: refused, with every
    /// reason and nothing changed, if its recording time, its id or its
    /// place in time do not fit. `extra` adds the caller's own objections to
    /// the event at its place (a pack's preconditions, say), seeing the
    /// estate and the follower as they stand just before it.
    pub fn admit<E>(
        &mut self,
        event: Event,
        extra: impl FnOnce(&Estate, &F, &Logged) -> Vec<E>,
    ) -> Result<Seq, Refused<E>> {
        let seq = self.next_seq();
        let mut event = event;
        let objections = self.envelope(&mut event, seq);
        if !objections.is_empty() {
            return Err(Refused::new(objections, Vec::new(), event));
        }
        let logged = Logged {
            seq,
            event,
            voided_by: None,
        };
        if let EventKind::EventVoided(void) = &logged.event.kind {
            let target = void.event.clone();
            return match self.void(&logged, &target) {
                Ok(()) => {
                    self.enter(logged);
                    Ok(seq)
                }
                Err(objections) => Err(Refused::new(objections, Vec::new(), logged.event)),
            };
        }
        let at = logged.event.at;
        let place = self.place_for(at);
        self.rewind(place);
        let mut objections: Vec<Objection> = self
            .estate
            .check(&logged.event, self.policies)
            .into_iter()
            .map(|refusal| {
                let later = self.supplier(place, &refusal).map(|s| self.other(s));
                Objection::refused(refusal, later)
            })
            .collect();
        let rules = extra(&self.estate, &self.follower, &logged);
        if !objections.is_empty() || !rules.is_empty() {
            self.advance(self.order.len(), false);
            return Err(Refused::new(objections, rules, logged.event));
        }
        self.enter(logged);
        self.order.insert(place, seq);
        // The event itself was checked just now, where it stands.
        let conflicts = self.advance_checking(self.order.len(), place + 1);
        if !conflicts.is_empty() {
            objections.extend(
                conflicts
                    .into_iter()
                    .map(|(other, refusal)| Objection::Conflict {
                        other: self.other(other),
                        refusal,
                    }),
            );
            self.rewind(place);
            self.order.remove(place);
            let forgotten = self.forget_last();
            self.advance(self.order.len(), false);
            return Err(Refused {
                objections,
                rules: Vec::new(),
                event: forgotten.map(|l| Box::new(l.event)),
            });
        }
        Ok(seq)
    }

    /// Admits records of the past all at once, corrections among them: each
    /// is placed where it happened, each void takes its event out, and the
    /// timeline is folded once from the earliest place any of them touches,
    /// every event from there checked against the estate at its place. A
    /// history with late records and voids throughout (an import, a file
    /// read whole, a generated log) then costs one fold, not one per late
    /// record. The batch is judged as the history it states once every
    /// record of it is in: an event fits if the events placed before it,
    /// whenever recorded, give it what it needs.
    ///
    /// All or none: on any objection, each by its index in `events`, and
    /// nothing changed. An event that does not fit is charged to itself,
    /// unless a record or a void of the batch recorded after it, about the
    /// same person, device, incident or policy and placed before it, took
    /// the ground from under it: then to the first such (a `Conflict` or
    /// `Depends` naming the event that no longer fits), as admitting them
    /// one by one would have.
    pub fn admit_all(&mut self, events: Vec<Event>) -> Result<Vec<Seq>, Vec<(usize, Objection)>> {
        let savepoint = self.savepoint();
        let first = self.next_seq();
        let mut objections: Vec<(usize, Objection)> = Vec::new();
        // Events folded before the batch that its voids take out.
        let mut unfolded: Vec<Seq> = Vec::new();
        for (i, mut event) in events.into_iter().enumerate() {
            let seq = self.next_seq();
            let envelope = self.envelope(&mut event, seq);
            if envelope
                .iter()
                .any(|o| matches!(o, Objection::DuplicateId { .. }))
            {
                // Judged as if it had no id, as a reader that names the
                // mistake once would.
                event.id = None;
            }
            objections.extend(envelope.into_iter().map(|o| (i, o)));
            if let EventKind::EventVoided(v) = &event.kind {
                match self.mark_voided(&v.event, seq) {
                    Ok(target) if target < first => unfolded.push(target),
                    Ok(_) => {}
                    Err(objection) => objections.push((i, objection)),
                }
            }
            self.enter(Logged {
                seq,
                event,
                voided_by: None,
            });
        }
        if self.log.len() == savepoint.len {
            return Ok(Vec::new());
        }
        let mut batch: Vec<Seq> = (first..self.next_seq())
            .filter(|seq| self.log[index(*seq)].is_live())
            .collect();
        batch.sort_by_key(|seq| self.key(*seq));
        let earliest = batch
            .first()
            .into_iter()
            .chain(&unfolded)
            .map(|seq| self.place_of(*seq))
            .min()
            .unwrap_or(self.order.len());
        self.rewind(earliest);
        // The order from `earliest` on, without what was voided, merged with
        // the batch by (at, seq): one pass, where inserting each would move
        // the tail each time.
        let tail: Vec<Seq> = self
            .order
            .split_off(earliest)
            .into_iter()
            .filter(|seq| self.log[index(*seq)].voided_by.is_none())
            .collect();
        let merged = merge_by(tail, batch, |seq| self.key(seq));
        self.order.extend(merged);
        let misfits = self.advance_checking(self.order.len(), earliest);
        if !misfits.is_empty() {
            // An event whose envelope is wrong has said so: one mistake,
            // one error.
            let wrong: std::collections::HashSet<usize> =
                objections.iter().map(|(i, _)| *i).collect();
            let blamed = self.blame(misfits, first, earliest);
            objections.extend(blamed.into_iter().filter(|(i, _)| !wrong.contains(i)));
        }
        // A void's own fields (who recorded it, its reason), against the
        // estate the batch leaves.
        for seq in first..self.next_seq() {
            let logged = &self.log[index(seq)];
            if matches!(logged.event.kind, EventKind::EventVoided(_)) {
                let i = usize::try_from(seq - first).unwrap_or(0);
                for refusal in self.estate.check(&logged.event, self.policies) {
                    objections.push((i, Objection::Estate(refusal)));
                }
            }
        }
        if objections.is_empty() {
            return Ok((first..self.next_seq()).collect());
        }
        objections.sort_by_key(|(i, _)| *i);
        self.take_back_batch(savepoint, first, earliest);
        Err(objections)
    }

    /// Marks the event `target` names as voided by `seq`, if it may be: it
    /// exists, is not itself a void, and is not voided already.
    // Private, and only on the way to a list of objections.
    #[allow(clippy::result_large_err)]
    fn mark_voided(&mut self, target: &EventRef, seq: Seq) -> Result<Seq, Objection> {
        let found = self
            .resolve(target)
            .ok_or_else(|| Objection::NoSuchEvent(target.clone()))?;
        let voided = &mut self.log[index(found)];
        if matches!(voided.event.kind, EventKind::EventVoided(_)) {
            return Err(Objection::VoidOfVoid(target.clone()));
        }
        if let Some(by) = voided.voided_by {
            return Err(Objection::AlreadyVoided {
                target: target.clone(),
                by,
            });
        }
        voided.voided_by = Some(seq);
        Ok(found)
    }

    /// Undoes a batch `admit_all` folded from place `earliest`: its events
    /// out of the order and the log, what its voids took out put back.
    fn take_back_batch(&mut self, savepoint: Savepoint, first: Seq, earliest: usize) {
        self.rewind(earliest);
        self.order.retain(|s| *s < first);
        let restored: Vec<Seq> = (1..first)
            .filter(|seq| {
                self.log[index(*seq)]
                    .voided_by
                    .is_some_and(|by| by >= first)
            })
            .collect();
        for seq in restored {
            self.log[index(seq)].voided_by = None;
            let place = self.place_of(seq);
            self.order.insert(place, seq);
        }
        while self.log.len() > savepoint.len {
            self.forget_last();
        }
        self.last_recorded = savepoint.last_recorded;
        self.advance(self.order.len(), false);
    }

    /// Who is to answer for each event that did not fit in a batch folded
    /// from `earliest` whose first event is `first` (see `admit_all`).
    fn blame(
        &self,
        misfits: Vec<(Seq, Refusal)>,
        first: Seq,
        earliest: usize,
    ) -> Vec<(usize, Objection)> {
        let index_of = |seq: Seq| usize::try_from(seq.saturating_sub(first)).unwrap_or(0);
        let places: HashMap<Seq, usize> = self.order[earliest..]
            .iter()
            .enumerate()
            .map(|(i, s)| (*s, earliest + i))
            .collect();
        // The batch's records and voids by what they are about, each with
        // the place in time it took or emptied: the only events that can
        // take the ground from under one recorded before them.
        let mut movers: HashMap<Subject<'_>, Vec<Mover>> = HashMap::new();
        for seq in first..self.next_seq() {
            let logged = &self.log[index(seq)];
            let (about, key, void) = match &logged.event.kind {
                EventKind::EventVoided(v) => match self.resolve(&v.event) {
                    Some(target) if self.log[index(target)].voided_by == Some(seq) => {
                        (&self.log[index(target)].event, self.key(target), true)
                    }
                    _ => continue,
                },
                _ => (&logged.event, self.key(seq), false),
            };
            for subject in subjects(about) {
                movers
                    .entry(subject)
                    .or_default()
                    .push(Mover { key, by: seq, void });
            }
        }
        let mut blamed = Vec::new();
        for (seq, refusal) in misfits {
            let logged = &self.log[index(seq)];
            let place = places.get(&seq).copied().unwrap_or(earliest);
            // The first event recorded after this one, about the same
            // things, that took or emptied a place before it.
            let candidates: Vec<&Mover> = subjects(&logged.event)
                .filter_map(|subject| movers.get(&subject))
                .flatten()
                .filter(|m| m.by > seq && m.key < self.key(seq))
                .collect();
            // Of those, one that could have caused this refusal if any
            // can, and of them the nearest before it.
            let causes = |m: &&Mover| {
                let kind = &self.log[index(m.key.1)].event.kind;
                could_cause(&refusal, kind, m.void)
            };
            let culprit = match candidates
                .iter()
                .copied()
                .filter(causes)
                .max_by_key(|m| m.key)
            {
                Some(m) => Some(m),
                None => candidates.iter().copied().max_by_key(|m| m.key),
            };
            let other = self.other(seq);
            let objection = match culprit {
                Some(m) if m.void => (index_of(m.by), Objection::Depends { other, refusal }),
                Some(m) => (index_of(m.by), Objection::Conflict { other, refusal }),
                None if seq >= first => {
                    let later = self.supplier(place + 1, &refusal).map(|s| self.other(s));
                    (index_of(seq), Objection::refused(refusal, later))
                }
                // An event of the log before the batch no longer fits: the
                // last of the batch placed before it answers for it.
                None => {
                    let by = self.order[earliest..place]
                        .iter()
                        .rev()
                        .find(|s| **s >= first)
                        .map_or(0, |s| index_of(*s));
                    (by, Objection::Conflict { other, refusal })
                }
            };
            blamed.push(objection);
        }
        blamed
    }

    /// The first event from place `from` of the order on that holds what
    /// `refusal` says was missing, if it names such a thing: the joining of
    /// a person not yet introduced, a device's registration, an incident's
    /// report, the issue of a device returned while nobody held it, the
    /// return of one issued while held.
    fn supplier(&self, from: usize, refusal: &Refusal) -> Option<Seq> {
        let need = Need::of(refusal)?;
        self.order
            .get(from..)?
            .iter()
            .copied()
            .find(|seq| need.met_by(&self.log[index(*seq)].event.kind))
    }

    /// Puts an event in the log without asking whether it fits: for a reader
    /// that has reported what is wrong with it and wants the lines after it
    /// judged as if it were sound (one mistake, one error).
    pub fn admit_unchecked(&mut self, mut event: Event) -> Seq {
        let seq = self.next_seq();
        if matches!(event.id, Some(EventRef::Seq(_))) {
            event.id = None;
        }
        if event.own_id().is_some_and(|id| self.ids.contains_key(id)) {
            event.id = None;
        }
        let logged = Logged {
            seq,
            event,
            voided_by: None,
        };
        if let EventKind::EventVoided(void) = &logged.event.kind {
            if let Some(target) = self.resolve(&void.event)
                && self.log[index(target)].is_live()
            {
                let place = self.place_of(target);
                self.rewind(place);
                self.order.remove(place);
                self.log[index(target)].voided_by = Some(seq);
            }
            self.enter(logged);
        } else {
            let at = logged.event.at;
            let place = self.place_for(at);
            self.rewind(place);
            self.enter(logged);
            self.order.insert(place, seq);
        }
        self.advance(self.order.len(), false);
        seq
    }

    /// Takes back everything admitted since `savepoint`, as if it had never
    /// been: a command of several events refused part way, or a store that
    /// failed to write what was admitted.
    pub fn rollback(&mut self, savepoint: Savepoint) {
        if self.log.len() <= savepoint.len {
            return;
        }
        // Undo back to the earliest place anything since then touched.
        let mut earliest = self.order.len();
        for logged in &self.log[savepoint.len..] {
            let seq = match &logged.event.kind {
                EventKind::EventVoided(v) => self.resolve(&v.event),
                _ => Some(logged.seq),
            };
            if let Some(seq) = seq {
                earliest = earliest.min(self.place_of(seq));
            }
        }
        self.rewind(earliest);
        while self.log.len() > savepoint.len {
            let seq = self.log.len() as Seq;
            if let EventKind::EventVoided(v) = &self.log[index(seq)].event.kind
                && let Some(target) = self.resolve(&v.event)
                && self.log[index(target)].voided_by == Some(seq)
            {
                self.log[index(target)].voided_by = None;
                let place = self.place_of(target);
                self.order.insert(place, target);
            } else if let Ok(place) = self
                .order
                .binary_search_by(|s| self.key(*s).cmp(&self.key(seq)))
            {
                self.order.remove(place);
            }
            self.forget_last();
        }
        self.last_recorded = savepoint.last_recorded;
        self.advance(self.order.len(), false);
    }

    /// What is wrong with the event's envelope, if anything: recorded out of
    /// order, before it happened, or an id that is taken (an implied `#SEQ`
    /// of its own place is dropped).
    fn envelope(&self, event: &mut Event, seq: Seq) -> Vec<Objection> {
        envelope(event, seq, self.last_recorded, &self.ids)
    }

    /// Takes the event `target` names out of the timeline, if every later
    /// event still fits without it.
    fn void(&mut self, void: &Logged, target: &EventRef) -> Result<(), Vec<Objection>> {
        let mut objections: Vec<Objection> = self
            .estate
            .check(&void.event, self.policies)
            .into_iter()
            .map(Objection::from)
            .collect();
        let Some(seq) = self.resolve(target) else {
            objections.push(Objection::NoSuchEvent(target.clone()));
            return Err(objections);
        };
        if !objections.is_empty() {
            return Err(objections);
        }
        let voided = &self.log[index(seq)];
        if matches!(voided.event.kind, EventKind::EventVoided(_)) {
            return Err(vec![Objection::VoidOfVoid(target.clone())]);
        }
        if let Some(by) = voided.voided_by {
            return Err(vec![Objection::AlreadyVoided {
                target: target.clone(),
                by,
            }]);
        }
        let place = self.place_of(seq);
        self.rewind(place);
        self.order.remove(place);
        self.log[index(seq)].voided_by = Some(void.seq);
        let conflicts = self.advance(self.order.len(), true);
        if !conflicts.is_empty() {
            let objections = conflicts
                .into_iter()
                .map(|(other, refusal)| Objection::Depends {
                    other: self.other(other),
                    refusal,
                })
                .collect();
            self.rewind(place);
            self.log[index(seq)].voided_by = None;
            self.order.insert(place, seq);
            self.advance(self.order.len(), false);
            return Err(objections);
        }
        Ok(())
    }

    /// Adds an admitted event to the log (not to the order).
    fn enter(&mut self, logged: Logged) {
        if let Some(id) = logged.event.own_id() {
            // A second use of an id is refused; the first keeps it.
            self.ids.entry(id.clone()).or_insert(logged.seq);
        }
        self.last_recorded = Some(logged.event.recorded_or_at());
        self.log.push(logged);
    }

    /// Removes the last event of the log (not from the order).
    fn forget_last(&mut self) -> Option<Logged> {
        let logged = self.log.pop()?;
        if let Some(id) = logged.event.own_id()
            && self.ids.get(id) == Some(&logged.seq)
        {
            self.ids.remove(id);
        }
        Some(logged)
    }

    fn key(&self, seq: Seq) -> (Timestamp, Seq) {
        (self.log[index(seq)].event.at, seq)
    }

    /// Where an event that happened at `at` goes in the order: after every
    /// event that happened by then. Most records come in order and go at the
    /// end, found without a search (which, over a large log, is a cache miss
    /// a step).
    fn place_for(&self, at: Timestamp) -> usize {
        match self.order.last() {
            Some(last) if self.log[index(*last)].event.at > at => self
                .order
                .partition_point(|s| self.log[index(*s)].event.at <= at),
            _ => self.order.len(),
        }
    }

    /// Where `seq` is, or would be, in the order.
    fn place_of(&self, seq: Seq) -> usize {
        let key = self.key(seq);
        self.order.partition_point(|s| self.key(*s) < key)
    }

    fn other(&self, seq: Seq) -> Other {
        let logged = &self.log[index(seq)];
        Other {
            seq,
            reference: logged.reference(),
            at: logged.event.at,
            event_type: logged.event.kind.event_type(),
        }
    }

    /// Undoes folded steps until only the first `place` of the order are
    /// folded; past the journal, folds again from the start.
    fn rewind(&mut self, place: usize) {
        while self.folded > place {
            match self.journal.pop_back() {
                Some((estate, follower)) => {
                    self.follower.undo(follower);
                    self.estate.undo(estate);
                    self.folded -= 1;
                }
                None => {
                    self.estate = Estate::default();
                    self.follower.reset();
                    self.folded = 0;
                    self.refolds += 1;
                }
            }
        }
        self.advance(place, false);
    }

    /// Folds the order up to `place`, checking each event against the
    /// estate when `check` is set; returns the events that did not fit.
    /// The last `window` steps before the end of the order keep their undo.
    fn advance(&mut self, place: usize, check: bool) -> Vec<(Seq, Refusal)> {
        self.advance_checking(place, if check { 0 } else { usize::MAX })
    }

    /// `advance`, checking only the events from place `check_from` on.
    fn advance_checking(&mut self, place: usize, check_from: usize) -> Vec<(Seq, Refusal)> {
        let mut misfits = Vec::new();
        let keep_from = self.order.len().saturating_sub(self.window);
        let mut keeping = None;
        while self.folded < place {
            let keep = self.folded >= keep_from;
            if keeping != Some(keep) {
                self.follower.keep_undo(keep);
                keeping = Some(keep);
            }
            let logged = &self.log[index(self.order[self.folded])];
            if self.folded >= check_from {
                for refusal in self.estate.check(&logged.event, self.policies) {
                    misfits.push((logged.seq, refusal));
                }
            }
            self.follower.before(&self.estate, logged);
            if keep {
                let undo = self.estate.apply_undoable(&logged.event);
                self.follower.after(&self.estate, logged);
                if let Some(follower) = self.follower.take_undo() {
                    self.journal.push_back((undo, follower));
                }
                if self.journal.len() > self.window {
                    self.journal.pop_front();
                }
            } else {
                self.estate.apply(&logged.event);
                self.follower.after(&self.estate, logged);
                // Steps not kept make the older journal useless.
                self.journal.clear();
            }
            self.folded += 1;
        }
        misfits
    }
}

/// The live events of an admitted log (in recording order: event `#n` is
/// `log[n - 1]`) with their sequence numbers, in the order they happened,
/// ties in recording order: what the estate and the rules fold.
pub fn in_order<E: AsRef<Event>>(log: &[E]) -> Vec<(Seq, &Event)> {
    InOrder::new(log).collect()
}

/// [`in_order`] without the list: the log is read as recorded, and only its
/// late records (each earlier than something recorded before it) are set
/// aside, sorted and merged back in. A log recorded as things happened costs
/// one pass to find that out and no allocation; one with a few hundred late
/// records in millions costs a few hundred sorted, not millions.
pub struct InOrder<'a, E> {
    log: &'a [E],
    /// The next index of the log's run recorded in order.
    next: usize,
    /// Indices of late records, in recording order, to skip in that run.
    late: Vec<usize>,
    skipped: usize,
    /// The same, in the order they happened (ties by recording order).
    merged: Vec<usize>,
    taken: usize,
    /// By index, whether the event is left out (a void or voided); empty
    /// when the log has no voids.
    dropped: Vec<bool>,
}

impl<'a, E: AsRef<Event>> InOrder<'a, E> {
    pub fn new(log: &'a [E]) -> Self {
        let mut late = Vec::new();
        let mut latest = Timestamp::MIN;
        let mut voids = false;
        for (i, event) in log.iter().map(AsRef::as_ref).enumerate() {
            if event.at < latest {
                late.push(i);
            } else {
                latest = event.at;
            }
            voids |= matches!(event.kind, EventKind::EventVoided(_));
        }
        let mut merged = late.clone();
        // Stable, so ties keep recording order.
        merged.sort_by_key(|&i| log[i].as_ref().at);
        InOrder {
            log,
            next: 0,
            late,
            skipped: 0,
            merged,
            taken: 0,
            dropped: if voids { dropped(log) } else { Vec::new() },
        }
    }

    /// Whether the event at `i` is out of the fold: a void, or voided.
    fn dropped(&self, i: usize) -> bool {
        self.dropped.get(i).copied().unwrap_or(false)
    }
}

impl<'a, E: AsRef<Event>> Iterator for InOrder<'a, E> {
    type Item = (Seq, &'a Event);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            // The next of the run recorded in order, past late records.
            while self.skipped < self.late.len() && self.late[self.skipped] < self.next {
                self.skipped += 1;
            }
            if self.skipped < self.late.len() && self.late[self.skipped] == self.next {
                self.next += 1;
                continue;
            }
            let run = (self.next < self.log.len()).then_some(self.next);
            let late = self.merged.get(self.taken).copied();
            let i = match (run, late) {
                (None, None) => return None,
                (Some(r), None) => r,
                (None, Some(l)) => l,
                // A tie goes to the run: whatever in it happened at the
                // same instant as a late record was recorded before it.
                (Some(r), Some(l)) => {
                    if self.log[l].as_ref().at < self.log[r].as_ref().at {
                        l
                    } else {
                        r
                    }
                }
            };
            if Some(i) == run {
                self.next += 1;
            } else {
                self.taken += 1;
            }
            if !self.dropped(i) {
                let log: &'a [E] = self.log;
                return Some((i as Seq + 1, log[i].as_ref()));
            }
        }
    }
}

/// The estate of an admitted log: its live events folded in `at` order.
pub fn fold<E: AsRef<Event>>(log: &[E]) -> Estate {
    let mut estate = Estate::default();
    for (_, event) in in_order(log) {
        estate.apply(event);
    }
    estate
}

/// By index, whether each event is out of the fold: a void, or an event a
/// void takes out.
fn dropped<E: AsRef<Event>>(log: &[E]) -> Vec<bool> {
    let mut dropped: Vec<bool> = log
        .iter()
        .map(|e| matches!(e.as_ref().kind, EventKind::EventVoided(_)))
        .collect();
    let ids: IdMap<&str, Seq> = log
        .iter()
        .map(AsRef::as_ref)
        .zip(1..)
        .filter_map(|(e, seq)| e.own_id().map(|id| (id.as_str(), seq)))
        .collect();
    for event in log.iter().map(AsRef::as_ref) {
        let EventKind::EventVoided(v) = &event.kind else {
            continue;
        };
        let target = match &v.event {
            EventRef::Seq(seq) => Some(*seq),
            EventRef::Id(id) => ids.get(id.as_str()).copied(),
        };
        if let Some(flag) = target
            .filter(|seq| *seq > 0)
            .and_then(|seq| dropped.get_mut(index(seq)))
        {
            *flag = true;
        }
    }
    dropped
}

/// A record or void of a batch, by the place in time it took or emptied.
struct Mover {
    key: (Timestamp, Seq),
    by: Seq,
    void: bool,
}

/// One thing an event is about, for finding which events bear on another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Subject<'e> {
    Person(&'e str),
    Device(&'e str),
    Incident(&'e str),
    Policy(&'e str),
}

/// Everything an event is about: its person and the others it names, its
/// device, incident and policy.
fn subjects(event: &Event) -> impl Iterator<Item = Subject<'_>> {
    let kind = &event.kind;
    let people = kind
        .person()
        .into_iter()
        .chain(kind.other_people().into_iter().map(|(_, p)| p))
        .map(|p| Subject::Person(p.as_str()));
    people
        .chain(kind.device().map(|d| Subject::Device(d.as_str())))
        .chain(kind.incident().map(|i| Subject::Incident(i.as_str())))
        .chain(kind.policy().map(|p| Subject::Policy(p.as_str())))
}

/// What an estate's refusal says was missing, where a later event could
/// hold it.
enum Need<'r> {
    Joined(&'r str),
    Registered(&'r str),
    Reported(&'r str),
    Issued(&'r str),
    Freed(&'r str),
}

impl<'r> Need<'r> {
    fn of(refusal: &'r Refusal) -> Option<Self> {
        Some(match refusal {
            Refusal::UnknownPerson { id, .. } => Need::Joined(id),
            Refusal::UnknownDevice(id) => Need::Registered(id),
            Refusal::UnknownIncident(id) => Need::Reported(id),
            Refusal::DeviceNotHeld(id) => Need::Issued(id),
            Refusal::DeviceHeld { device, .. } => Need::Freed(device),
            _ => return None,
        })
    }

    fn met_by(&self, kind: &EventKind) -> bool {
        match (self, kind) {
            (Need::Joined(id), EventKind::PersonJoined(e)) => e.person.as_str() == *id,
            (Need::Registered(id), EventKind::DeviceRegistered(e)) => e.device.as_str() == *id,
            (Need::Reported(id), EventKind::IncidentReported(e)) => e.incident.as_str() == *id,
            (Need::Issued(id), EventKind::DeviceIssued(e)) => e.device.as_str() == *id,
            (Need::Freed(id), EventKind::DeviceReturned(e)) => e.device.as_str() == *id,
            (Need::Freed(id), EventKind::DeviceLost(e)) => e.device.as_str() == *id,
            _ => false,
        }
    }
}

/// Whether placing an event of this kind (or, for a void, taking one
/// out) could make a later event meet `refusal`. A refusal not listed
/// could come of anything.
fn could_cause(refusal: &Refusal, kind: &EventKind, void: bool) -> bool {
    use EventKind as K;
    match (refusal, void) {
        (Refusal::UnknownPerson { .. }, true) => matches!(kind, K::PersonJoined(_)),
        (Refusal::UnknownDevice(_), true) => matches!(kind, K::DeviceRegistered(_)),
        (Refusal::UnknownIncident(_), true) => matches!(kind, K::IncidentReported(_)),
        (Refusal::UnknownPerson { .. } | Refusal::UnknownDevice(_), false)
        | (Refusal::UnknownIncident(_), false) => false,
        (Refusal::PersonHasLeft { .. }, false) => matches!(kind, K::PersonLeft(_)),
        (Refusal::PersonHasLeft { .. }, true) => matches!(kind, K::PersonJoined(_)),
        (Refusal::AlreadyJoined(_), false) => matches!(kind, K::PersonJoined(_)),
        (Refusal::AlreadyJoined(_), true) => matches!(kind, K::PersonLeft(_)),
        (Refusal::DeviceAlreadyRegistered(_), _) => matches!(kind, K::DeviceRegistered(_)),
        (Refusal::IncidentAlreadyReported(_), _) => matches!(kind, K::IncidentReported(_)),
        (Refusal::DeviceDisposed(_), _) => matches!(kind, K::DeviceDisposed(_)),
        (Refusal::DeviceHeld { .. }, false) => matches!(kind, K::DeviceIssued(_)),
        (Refusal::DeviceNotHeld(_), false) => {
            matches!(kind, K::DeviceReturned(_) | K::DeviceLost(_))
        }
        (Refusal::DeviceHeld { .. } | Refusal::DeviceNotHeld(_), true)
        | (Refusal::WrongHolder { .. }, _) => {
            matches!(
                kind,
                K::DeviceIssued(_) | K::DeviceReturned(_) | K::DeviceLost(_)
            )
        }
        _ => true,
    }
}

/// Two lists each sorted by `key`, merged into one sorted by it; on a tie
/// the first list's goes first.
fn merge_by<K: Ord>(a: Vec<Seq>, b: Vec<Seq>, key: impl Fn(Seq) -> K) -> Vec<Seq> {
    let mut merged = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    loop {
        let next = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if key(*x) <= key(*y) => a.next(),
            (Some(_), Some(_)) | (None, Some(_)) => b.next(),
            (Some(_), None) => a.next(),
            (None, None) => break,
        };
        merged.extend(next);
    }
    merged
}

fn index(seq: Seq) -> usize {
    usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX)
}

/// Why an event was refused: the log's own objections and the caller's,
/// and the event, handed back.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused<E> {
    pub objections: Vec<Objection>,
    pub rules: Vec<E>,
    pub event: Option<Box<Event>>,
}

impl<E> Refused<E> {
    fn new(objections: Vec<Objection>, rules: Vec<E>, event: Event) -> Self {
        Refused {
            objections,
            rules,
            event: Some(Box::new(event)),
        }
    }
}

/// What is wrong with an event's envelope as the next in recording order
/// (number `seq`), after one recorded at `last_recorded` and with the own
/// ids `ids` taken: recorded out of order, before it happened, or an id that
/// is taken; an implied `#SEQ` of its own place is dropped. The one check of
/// the envelope, for the timeline and for a log read as a stream.
pub fn envelope(
    event: &mut Event,
    seq: Seq,
    last_recorded: Option<Timestamp>,
    ids: &IdMap<EventId, Seq>,
) -> Vec<Objection> {
    let mut objections = Vec::new();
    let recorded = event.recorded_or_at();
    if let Some(previous) = last_recorded
        && recorded < previous
    {
        objections.push(Objection::RecordedBackwards { recorded, previous });
    }
    if event.at
        > recorded
            .saturating_add(CLOCK_SKEW)
            .unwrap_or(Timestamp::MAX)
    {
        objections.push(Objection::NotYetHappened {
            at: event.at,
            recorded,
        });
    }
    match &event.id {
        Some(EventRef::Seq(given)) if *given == seq => event.id = None,
        Some(EventRef::Seq(given)) => objections.push(Objection::WrongPlace { given: *given, seq }),
        Some(EventRef::Id(id)) => {
            if let Some(first) = ids.get(id) {
                objections.push(Objection::DuplicateId {
                    id: id.clone(),
                    first: *first,
                });
            }
        }
        None => {}
    }
    objections
}
