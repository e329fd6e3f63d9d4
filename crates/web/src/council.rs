//! One council as the service holds it: its pack, its evaluation kept up to
//! date event by event, and the store it is written to. Every command goes
//! through [`Council::record`], which checks the events against the estate
//! and the pack's rules, appends them to the store, and only then folds them
//! in, all under the council's lock, so what is shown is what is stored.

use domain::{ArcStr, Estate, Event, EventKind, Logged, Objection, PersonId, Seq};
use jiff::Timestamp;
use rules::{
    Admission, Calendar, Change, Finding, Ledger, Mode, PolicyPack, Reason as Admit, Snapshot,
    Status, StoredEvaluation,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use store::{EventLog, Head, SnapshotRead, Store, StoreError};

/// The store, shared by every council of the service: a pool of
/// connections (one, behind a lock, for SQLite). Calls block, so they run on
/// tokio's blocking pool (the PostgreSQL client cannot run inside the async
/// runtime at all).
pub type SharedStore = Arc<store::Pool>;

pub struct Council {
    pub id: String,
    pub pack: &'static PolicyPack,
    pub calendar: &'static Calendar,
    state: Mutex<CouncilState>,
}

struct CouncilState {
    ledger: Ledger<'static>,
    head: Head,
    view: Option<Arc<View>>,
    /// Each subject's events by sequence number, voided ones and their
    /// voids included: the histories the pages show.
    history: HashMap<Subject, Vec<Seq>>,
}

/// What a history is kept for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Subject {
    Person(ArcStr),
    Device(ArcStr),
    Incident(ArcStr),
    Policy(ArcStr),
    /// The reminders sent of the findings an entry started: who was told
    /// of what it began, and when.
    Reminded(Seq),
}

impl Subject {
    /// The subjects an event is about.
    fn of(kind: &EventKind) -> Vec<Subject> {
        let mut subjects = Vec::new();
        if let Some(p) = kind.person() {
            subjects.push(Subject::Person(p.0.clone()));
        }
        if let Some(d) = kind.device() {
            subjects.push(Subject::Device(d.0.clone()));
        }
        if let Some(i) = kind.incident() {
            subjects.push(Subject::Incident(i.0.clone()));
        }
        if let Some(p) = kind.policy() {
            subjects.push(Subject::Policy(p.0.clone()));
        }
        if let EventKind::ReminderSent(sent) = kind {
            let mut seqs: Vec<Seq> = sent
                .findings
                .iter()
                .filter_map(|t| t.finding().rsplit('/').next()?.parse().ok())
                .filter(|seq| *seq > 0)
                .collect();
            seqs.sort_unstable();
            seqs.dedup();
            subjects.extend(seqs.into_iter().map(Subject::Reminded));
        }
        subjects
    }
}

/// Why a command was not recorded. Nothing was written in every case.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The command does not fit the estate or breaks a rule of the pack:
    /// each reason, with the form field it is about when there is one.
    #[error("{}", .0.iter().map(|r| r.message.clone()).collect::<Vec<_>>().join("; "))]
    Refused(Vec<Reason>),
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
}

/// One reason a command was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub field: Option<&'static str>,
    pub message: String,
}

impl Reason {
    pub fn new(field: Option<&'static str>, message: impl Into<String>) -> Self {
        Reason {
            field,
            message: message.into(),
        }
    }

    /// A reason the ledger gave, on the form field it is about.
    fn from_admission(reason: Admit) -> Self {
        match reason {
            Admit::Log(Objection::Estate(refusal)) => {
                Reason::new(field_of(&refusal), refusal.to_string())
            }
            Admit::Log(Objection::NotYetHappened { .. }) => Reason::new(
                Some("when"),
                "That time is in the future: record this once it has happened",
            ),
            Admit::Log(Objection::Before { refusal, later }) => Reason::new(
                Some("when"),
                format!(
                    "{refusal}: at that time it had not happened yet ({} {} is recorded at {}, after this)",
                    later.event_type, later.reference, later.at
                ),
            ),
            Admit::Log(objection @ Objection::Conflict { .. }) => Reason::new(
                Some("when"),
                format!("At that time this does not fit what else is recorded: {objection}"),
            ),
            Admit::Log(objection) => Reason::new(None, objection.to_string()),
            Admit::Rule(refusal) => Reason::new(
                None,
                format!("{} ({}: {})", refusal.why, refusal.rule, refusal.cite),
            ),
            other @ Admit::RecordedInFuture { .. } => Reason::new(None, other.to_string()),
        }
    }
}

/// What a command recorded: its events' sequence numbers and what they changed.
#[derive(Debug)]
pub struct Recorded {
    pub seqs: Vec<Seq>,
    pub change: Change,
    /// How many of a history's events broke a rule when they happened.
    pub violations: usize,
}

/// Findings as of one instant, indexed for the pages. It stays valid until
/// the log moves or the next running clock falls due.
pub struct View {
    pub at: Timestamp,
    pub head: u64,
    valid_until: Option<Timestamp>,
    pub findings: Vec<Finding>,
    pub by_person: HashMap<ArcStr, Vec<usize>>,
    /// How many findings have each status, in `Status::ALL` order.
    pub counts: [usize; 5],
    /// Overdue findings (indices), most overdue first.
    pub overdue: Vec<usize>,
    /// Open findings (indices), soonest due first.
    pub open_by_due: Vec<usize>,
    /// Per rule, how many findings have each status.
    pub by_rule: Vec<(ArcStr, [usize; 5])>,
    /// People by how many overdue or violated findings they have, most first.
    pub most_failing: Vec<(ArcStr, usize)>,
}

pub fn status_index(status: Status) -> usize {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0)
}

impl View {
    fn new(findings: Vec<Finding>, at: Timestamp, head: u64) -> View {
        let mut by_person: HashMap<ArcStr, Vec<usize>> = HashMap::new();
        let mut counts = [0; 5];
        let mut valid_until: Option<Timestamp> = None;
        let mut by_rule: HashMap<ArcStr, [usize; 5]> = HashMap::new();
        let mut failing: HashMap<ArcStr, usize> = HashMap::new();
        let (mut overdue, mut open_by_due) = (Vec::new(), Vec::new());
        for (i, f) in findings.iter().enumerate() {
            counts[status_index(f.status)] += 1;
            by_rule.entry(f.rule.clone()).or_default()[status_index(f.status)] += 1;
            match f.status {
                Status::Overdue => overdue.push(i),
                Status::Open => open_by_due.push(i),
                _ => {}
            }
            if let Some(p) = &f.concerns.person {
                by_person.entry(p.clone()).or_default().push(i);
                if f.status.is_failure() {
                    *failing.entry(p.clone()).or_default() += 1;
                }
            }
            if f.status == Status::Open
                && let Some(due) = f.due
            {
                valid_until = Some(valid_until.map_or(due, |v| v.min(due)));
            }
        }
        overdue.sort_by_key(|i| findings[*i].due);
        open_by_due.sort_by_key(|i| findings[*i].due);
        let mut by_rule: Vec<(ArcStr, [usize; 5])> = by_rule.into_iter().collect();
        by_rule.sort();
        let mut most_failing: Vec<(ArcStr, usize)> = failing.into_iter().collect();
        most_failing.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        View {
            at,
            head,
            valid_until,
            findings,
            by_person,
            counts,
            overdue,
            open_by_due,
            by_rule,
            most_failing,
        }
    }

    fn still_valid(&self, now: Timestamp, head: u64) -> bool {
        head == self.head && self.valid_until.is_none_or(|until| now < until)
    }

    pub fn about(&self, person: &str) -> impl Iterator<Item = &Finding> {
        self.by_person
            .get(person)
            .into_iter()
            .flatten()
            .map(|i| &self.findings[*i])
    }
}

/// A council's ledger as read from its store, and how it was folded.
pub struct Restored<'a> {
    pub ledger: Ledger<'a>,
    /// The head the log had when it was read.
    pub head: Head,
    /// The event the snapshot started from, when one was used.
    pub from_snapshot: Option<u64>,
    /// Why the council's snapshot was not used, when it has one.
    pub warning: Option<String>,
    /// Milliseconds spent reading and checking the snapshot, reading and
    /// decoding the events, and folding them: what an operator reads to
    /// see where start-up goes.
    pub millis: Millis,
}

/// See [`Restored::millis`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Millis {
    pub snapshot: u64,
    pub events: u64,
    pub fold: u64,
}

fn since(start: std::time::Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Reads a council's log into a ledger: from its snapshot (the estate and
/// the rules' state after some event) plus the events after it, when the
/// snapshot is sound, holds the rules' state of this pack and version, and
/// the later events continue it; otherwise by folding the whole log, with
/// the reason as a warning. Every event is read either way: the ledger
/// keeps them all, to place late records and show histories.
pub fn restore_ledger<'a>(
    log: &mut dyn Store,
    id: &str,
    pack: &'a PolicyPack,
    calendar: &'a Calendar,
) -> Result<Restored<'a>, StoreError> {
    let start = crate::clock::instant();
    let head = log.head(id)?;
    let snapshot = store::read_snapshot::<StoredEvaluation>(log, id)?;
    let mut millis = Millis {
        snapshot: since(start),
        ..Millis::default()
    };
    let start = crate::clock::instant();
    let events = store::events(log, id)?;
    millis.events = since(start);
    let start = crate::clock::instant();
    let whole = |events, warning| Restored {
        ledger: Ledger::restore(pack, calendar, events),
        head,
        from_snapshot: None,
        warning,
        millis,
    };
    let mut restored = match snapshot {
        SnapshotRead::None => whole(events, None),
        SnapshotRead::Discarded(why) => whole(events, Some(why)),
        SnapshotRead::Trusted {
            seq, rules: None, ..
        } => whole(
            events,
            Some(format!(
                "snapshot at event {seq} holds the estate only, not the rules' state; the whole log was folded"
            )),
        ),
        SnapshotRead::Trusted {
            seq,
            estate,
            rules: Some(rules),
        } => {
            let snapshot = Snapshot {
                through: seq,
                estate,
                rules,
            };
            let (ledger, taken) = Ledger::resume(pack, calendar, events, snapshot);
            let (from_snapshot, warning) = match taken {
                Ok(()) => (Some(seq), None),
                Err(why) => (
                    None,
                    Some(format!(
                        "snapshot at event {seq} set aside: {why}; the whole log was folded"
                    )),
                ),
            };
            Restored {
                ledger,
                head,
                from_snapshot,
                warning,
                millis,
            }
        }
    };
    restored.millis.fold = since(start);
    Ok(restored)
}

impl Council {
    /// Reads the stored log into a ledger. The pack and calendar are leaked:
    /// a council lives as long as the service.
    pub fn load(
        log: &mut dyn Store,
        id: &str,
        pack: PolicyPack,
        calendar: Calendar,
    ) -> Result<Council, StoreError> {
        let pack: &'static PolicyPack = Box::leak(Box::new(pack));
        let calendar: &'static Calendar = Box::leak(Box::new(calendar));
        let Restored {
            ledger,
            head,
            from_snapshot,
            warning,
            millis,
        } = restore_ledger(log, id, pack, calendar)?;
        if let Some(warning) = warning {
            tracing::warn!(
                council = id,
                "{warning}; `warden snapshot` writes a new one"
            );
        }
        tracing::info!(
            council = id,
            events = head.seq,
            from_snapshot,
            snapshot_ms = millis.snapshot,
            events_ms = millis.events,
            fold_ms = millis.fold,
            "council loaded"
        );
        let mut history: HashMap<Subject, Vec<Seq>> = HashMap::new();
        for logged in ledger.timeline().log() {
            index(&mut history, &ledger, logged);
        }
        Ok(Council {
            id: id.to_owned(),
            pack,
            calendar,
            state: Mutex::new(CouncilState {
                ledger,
                head,
                view: None,
                history,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, CouncilState> {
        // A panic while holding the lock leaves the state as it was before
        // the command (the ledger is rolled back unless the append succeeded).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `read` on the estate as of the latest event.
    pub fn with_estate<T>(&self, read: impl FnOnce(&Estate) -> T) -> T {
        read(self.lock().ledger.estate())
    }

    /// Runs `read` on the ledger: the log, its events and voids.
    pub fn with_ledger<T>(&self, read: impl FnOnce(&Ledger<'static>) -> T) -> T {
        read(&self.lock().ledger)
    }

    /// A subject's events, oldest first by when they happened (voided ones
    /// and their voids included).
    pub fn history(&self, subject: &Subject) -> Vec<Logged> {
        let state = self.lock();
        let mut events: Vec<Logged> = state
            .history
            .get(subject)
            .into_iter()
            .flatten()
            .filter_map(|seq| state.ledger.get(*seq).cloned())
            .collect();
        events.sort_by_key(|l| (l.event.at, l.seq));
        events
    }

    /// The findings as of `now`, computed once per log head and due time.
    pub fn view(&self, now: Timestamp) -> Arc<View> {
        let mut state = self.lock();
        let head = state.head.seq;
        let now = now.max(state.ledger.last_at().unwrap_or(now));
        if let Some(view) = &state.view
            && view.still_valid(now, head)
        {
            return view.clone();
        }
        let view = Arc::new(View::new(state.ledger.findings(now), now, head));
        state.view = Some(view.clone());
        view
    }

    /// The findings as of `at`, from what had been recorded by `known_at`
    /// (everything, if None): evaluated again from the log, not cached.
    pub fn view_as_known(&self, at: Timestamp, known_at: Option<Timestamp>) -> View {
        let state = self.lock();
        let head = state.head.seq;
        View::new(state.ledger.findings_as_known(at, known_at), at, head)
    }

    /// The findings at each of several instants (each as known at its
    /// own `known_at`), evaluated again from the log on as many threads as
    /// there are instants, while the council's log is held still.
    pub fn findings_at_each(
        &self,
        instants: &[(Timestamp, Option<Timestamp>)],
    ) -> Vec<Vec<Finding>> {
        let state = self.lock();
        let ledger = &state.ledger;
        std::thread::scope(|scope| {
            let running: Vec<_> = instants
                .iter()
                .map(|(at, known)| scope.spawn(move || ledger.findings_as_known(*at, *known)))
                .collect();
            running
                .into_iter()
                .map(|t| t.join().unwrap_or_default())
                .collect()
        })
    }

    /// Admits `events` as one command done at `now` (each recorded now),
    /// appends them to the store, and keeps them. The store's write lock
    /// for the council is held from before the command is checked until
    /// its events are written: what other nodes appended since this one
    /// last looked is followed first, inside it, so the command is checked
    /// against the log as it will stand and never loses a race. Any refusal
    /// or store failure: nothing is written, and the ledger holds only what
    /// others had written.
    pub fn record(
        &self,
        store: &store::Pool,
        events: Vec<Event>,
        now: Timestamp,
    ) -> Result<Recorded, CommandError> {
        self.record_as(store, events, Admission::command(now))
    }

    /// `record` for records of what already happened (an uploaded export):
    /// admitted in bulk as history, so a rule broken at the time becomes a
    /// finding rather than a refusal.
    pub fn record_history(
        &self,
        store: &store::Pool,
        events: Vec<Event>,
        now: Timestamp,
    ) -> Result<Recorded, CommandError> {
        self.record_as(store, events, Admission::history(now))
    }

    fn record_as(
        &self,
        store: &store::Pool,
        events: Vec<Event>,
        admission: Admission,
    ) -> Result<Recorded, CommandError> {
        let mut log = store.get()?;
        let mut state = self.lock();
        let mut admitted = None;
        let mut refused = None;
        let known = state.head;
        let written = log.append_following(&self.id, known, &mut |missed| {
            self.follow_rows(&mut state, missed)?;
            let savepoint = state.ledger.savepoint();
            let result = match admission.mode {
                Mode::Command => state.ledger.admit(events.clone(), admission),
                Mode::History => state.ledger.admit_in_bulk(events.clone(), admission),
            };
            match result {
                Ok(done) => {
                    // What is stored is what was admitted: stamped, its
                    // implied id dropped.
                    let stored = done
                        .seqs
                        .iter()
                        .filter_map(|seq| state.ledger.get(*seq).map(|l| l.event.clone()))
                        .collect();
                    admitted = Some((done, savepoint));
                    Ok(Some(stored))
                }
                Err(reasons) => {
                    refused = Some(reasons);
                    Ok(None)
                }
            }
        });
        match (written, admitted) {
            (Ok(Some(head)), Some((done, _))) => {
                let CouncilState {
                    ledger, history, ..
                } = &mut *state;
                for seq in &done.seqs {
                    if let Some(logged) = ledger.get(*seq) {
                        index(history, ledger, logged);
                    }
                }
                state.head = head;
                state.view = None;
                Ok(Recorded {
                    seqs: done.seqs,
                    change: done.change,
                    violations: done.violations,
                })
            }
            (Ok(_), _) => Err(CommandError::Refused(
                refused
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, r)| Reason::from_admission(r))
                    .collect(),
            )),
            (Err(e), admitted) => {
                if let Some((_, savepoint)) = admitted {
                    state.ledger.rollback(savepoint);
                }
                Err(e.into())
            }
        }
    }

    /// Reads what others appended after this council's head and follows it.
    pub fn catch_up(&self, log: &mut dyn EventLog) -> Result<u64, StoreError> {
        let mut state = self.lock();
        self.follow_locked(&mut state, log)
    }

    /// The events after this council's head, checked to continue its chain
    /// (a node never follows a log that forks from what it holds), taken
    /// into the ledger; how many there were.
    fn follow_locked(
        &self,
        state: &mut CouncilState,
        log: &mut dyn EventLog,
    ) -> Result<u64, StoreError> {
        let rows = store::rows_after(log, &self.id, state.head.seq)?;
        self.follow_rows(state, rows)
    }

    /// Rows others appended after this council's head, checked to continue
    /// its chain and taken into the ledger; how many there were.
    fn follow_rows(
        &self,
        state: &mut CouncilState,
        rows: Vec<store::chain::Row>,
    ) -> Result<u64, StoreError> {
        let mut head = state.head;
        let mut events = Vec::with_capacity(rows.len());
        for row in rows {
            let hash = store::chain::link(&head.hash, &row.event);
            if row.seq != head.seq + 1 || hash.to_string() != row.hash {
                return Err(StoreError::Corrupt {
                    council: self.id.clone(),
                    seq: row.seq,
                    message: "it does not continue the chain this service holds".into(),
                });
            }
            let event = domain::parse_event(&row.event).map_err(|e| StoreError::Corrupt {
                council: self.id.clone(),
                seq: row.seq,
                message: e.to_string(),
            })?;
            events.push(event);
            head = store::Head { seq: row.seq, hash };
        }
        let followed = head.seq - state.head.seq;
        if followed == 0 {
            return Ok(0);
        }
        let first = state.ledger.len() + 1;
        state.ledger.follow(events);
        let CouncilState {
            ledger, history, ..
        } = state;
        for seq in first..=ledger.len() {
            if let Some(logged) = ledger.get(seq) {
                index(history, ledger, logged);
            }
        }
        state.head = head;
        state.view = None;
        Ok(followed)
    }

    pub fn head(&self) -> u64 {
        self.lock().head.seq
    }

    /// Whether the person is in the estate and has not left.
    pub fn is_present(&self, person: &PersonId) -> bool {
        self.with_estate(|e| e.people.get(person).is_some_and(|p| p.is_present()))
    }
}

/// Files an event under its subjects' histories; a void goes under its target's.
fn index(history: &mut HashMap<Subject, Vec<Seq>>, ledger: &Ledger<'_>, logged: &Logged) {
    let kind = match &logged.event.kind {
        EventKind::EventVoided(v) => match ledger.find(&v.event) {
            Some(target) => &target.event.kind,
            None => return,
        },
        kind => kind,
    };
    for subject in Subject::of(kind) {
        history.entry(subject).or_default().push(logged.seq);
    }
}

/// The form field a domain refusal is about, when it is about one.
fn field_of(refusal: &domain::Refusal) -> Option<&'static str> {
    use domain::Refusal::*;
    match refusal {
        // Beside the field that named them: person, manager, requested_by,
        // approved_by (the forms name their fields as the events do), or
        // by (the signed-in person, who has no field).
        UnknownPerson { field: "by", .. } => None,
        UnknownPerson { field, .. } => Some(field),
        AlreadyJoined(_) => Some("person"),
        UnknownDevice(_)
        | DeviceAlreadyRegistered(_)
        | DeviceHeld { .. }
        | DeviceNotHeld(_)
        | WrongHolder { .. }
        | DeviceDisposed(_)
        | DisposedWhileHeld { .. } => Some("device"),
        AcquiredAfterRegistered { .. } => Some("acquired"),
        UnknownIncident(_) | IncidentAlreadyReported(_) => Some("incident"),
        VersionAlreadyUsed { .. } => Some("version"),
        NotADigest(_) => Some("text"),
        BadText { field, .. } => Some(field),
        IncidentUndecided(_) | IncidentNotNotified(_) | IncidentAlreadyClosed(_) => {
            Some("notifiable")
        }
        UndeclaredPolicy(..) => Some("policy"),
        AmountNotPositive(_) | NotTheirHousehold { .. } => Some("amount"),
        PersonHasLeft { .. } => Some("person"),
        ReminderWithoutId | ReminderCoversNothing | AlreadyTold { .. } | UnknownReminder { .. } => {
            None
        }
    }
}
