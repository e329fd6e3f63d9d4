//! A log checked and evaluated as it is read, event by event, keeping none
//! of them: `warden check` on a file or a stored log of any size, in memory
//! proportional to the estate and the findings, not the log.
//!
//! A stream takes a log recorded as things happened (each event after the
//! ones before it in time, no voids), which is what every v1 log is and
//! what most logs are. At the first event it cannot take without the events
//! before it (a late record, a void) or that does not fit (a line with an
//! error), it says so ([`Step::Whole`]) and the caller reads the log whole
//! with the timeline, which places late records and names every error. What
//! the stream takes it checks exactly as the timeline does: the same
//! envelope ([`domain::timeline::envelope`]) and the same estate checks.
//!
//! **Invariant**: for a log the stream takes whole, its findings are those
//! of [`crate::evaluate_as_known`] over the same events.

use crate::{Calendar, Evaluation, Finding, PolicyPack};
use domain::timeline::envelope;
use domain::{Estate, Event, EventId, EventKind, IdMap, Seq};
use jiff::Timestamp;

/// Whether the stream took an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Taken,
    /// The log is not one the stream can take from here on: read it whole.
    Whole,
}

/// The state of a log read so far.
pub struct Stream<'a> {
    pack: &'a PolicyPack,
    estate: Estate,
    evaluation: Evaluation<'a>,
    at: Timestamp,
    known_at: Option<Timestamp>,
    seq: Seq,
    last_at: Timestamp,
    last_recorded: Option<Timestamp>,
    /// Own ids given so far, to refuse a second use and to name findings'
    /// events by them.
    ids: IdMap<EventId, Seq>,
    /// Still folding into the evaluation: every event so far happened by
    /// `at` and was recorded by `known_at`. Past that, events are checked
    /// and applied to the estate only.
    evaluating: bool,
    /// Events that had happened by `at` but were recorded after `known_at`.
    left_out: u64,
}

impl<'a> Stream<'a> {
    /// A stream whose findings will be as of `at`, from what had been
    /// recorded by `known_at` (everything, if None).
    pub fn new(
        pack: &'a PolicyPack,
        calendar: &'a Calendar,
        at: Timestamp,
        known_at: Option<Timestamp>,
    ) -> Self {
        Stream {
            pack,
            estate: Estate::default(),
            evaluation: Evaluation::new(pack, calendar),
            at,
            known_at,
            seq: 0,
            last_at: Timestamp::MIN,
            last_recorded: None,
            ids: IdMap::default(),
            evaluating: true,
            left_out: 0,
        }
    }

    /// Takes the next event of the log, or says the log must be read whole.
    /// A `Whole` changes nothing, and the stream should not be used again.
    /// The event is borrowed, so that the thread that made it can drop it
    /// (an allocator frees fastest on the thread that allocated); an id
    /// that only names its own place (`#SEQ`) is dropped from it.
    pub fn push(&mut self, event: &mut Event) -> Step {
        let seq = self.seq + 1;
        if matches!(event.kind, EventKind::EventVoided(_)) || event.at < self.last_at {
            return Step::Whole;
        }
        if !envelope(event, seq, self.last_recorded, &self.ids).is_empty()
            || !self.estate.check(event, self.pack).is_empty()
        {
            return Step::Whole;
        }
        let known = self.known_at.is_none_or(|k| event.recorded_or_at() <= k);
        if !known && event.at <= self.at {
            self.left_out += 1;
        }
        if self.evaluating && (!known || event.at > self.at) {
            self.evaluating = false;
        }
        if self.evaluating {
            self.evaluation.fold(&mut self.estate, seq, event);
        } else {
            self.estate.apply(event);
        }
        self.seq = seq;
        self.last_at = event.at;
        self.last_recorded = Some(event.recorded_or_at());
        if let Some(id) = event.own_id() {
            self.ids.insert(id.clone(), seq);
        }
        Step::Taken
    }

    /// How many events taken had happened by `at` but were recorded after
    /// `known_at`, and so were left out of the findings.
    pub fn left_out(&self) -> u64 {
        self.left_out
    }

    /// How many events the stream has taken.
    pub fn len(&self) -> Seq {
        self.seq
    }

    pub fn is_empty(&self) -> bool {
        self.seq == 0
    }

    /// The findings as of `at`, and the events that have ids of their own
    /// by sequence number (the rest are named `#SEQ`).
    pub fn finish(self) -> (Vec<Finding>, IdMap<Seq, EventId>) {
        let names = self.ids.into_iter().map(|(id, seq)| (seq, id)).collect();
        (self.evaluation.into_findings(self.at), names)
    }
}
