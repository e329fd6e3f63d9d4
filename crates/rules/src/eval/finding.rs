//! A finding: where a rule stands for one subject, with the clause that
//! requires it and the events behind it.

use super::*;

/// Where a finding stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Concerns {
    pub person: Option<ArcStr>,
    pub device: Option<ArcStr>,
    pub policy: Option<ArcStr>,
    pub incident: Option<ArcStr>,
    pub resource: Option<ArcStr>,
}

impl Concerns {
    pub(super) fn of(event: &EventKind) -> Self {
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
    pub(super) from: Option<NonZeroU32>,
    pub(super) settled_by: Option<NonZeroU32>,
}

pub(super) fn small(seq: Seq) -> Option<NonZeroU32> {
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
    pub(super) fn one(seq: Seq) -> Self {
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
    pub rule: ArcStr,
    pub status: Status,
    /// The deadline, where a clock applies.
    pub due: Option<Timestamp>,
    /// When the event that settled it happened (a discharge or a breach).
    pub settled: Option<Timestamp>,
    /// How many seconds after it happened the settling event was recorded,
    /// when it says and that was not when it happened (see
    /// [`Finding::recorded`]): four bytes, not a second timestamp.
    pub recorded_after: Option<NonZeroI32>,
    pub cite: ArcStr,
    pub concerns: Concerns,
    /// One sentence on why, for people (put into words when displayed).
    pub detail: Detail,
    /// The events behind it.
    pub events: Evidence,
}

/// `recorded` as seconds after `at`, for [`Finding::recorded_after`].
pub(super) fn recorded_after(event: &Event) -> Option<NonZeroI32> {
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
        self.with_recorded_late(self.detail.to_string())
    }

    /// `sentence` in the council's words, naming no event type: what pages
    /// show.
    pub fn sentence_in_words(&self) -> String {
        self.with_recorded_late(self.detail.in_words())
    }

    fn with_recorded_late(&self, text: String) -> String {
        match self.recorded_late() {
            Some(after) => format!("{text}; recorded {} later", in_words(after)),
            None => text,
        }
    }
}

/// A span as people say it: whole days, else hours, else minutes.
pub(super) fn in_words(span: SignedDuration) -> String {
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
