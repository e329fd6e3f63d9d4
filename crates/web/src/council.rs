//! One council as the service holds it: its pack, its evaluation kept up to
//! date event by event, and the store it is written to. Every command goes
//! through [`Council::record`], which checks the events against the estate
//! and the pack's rules, appends them to the store, and only then folds them
//! in, all under the council's lock, so what is shown is what is stored.

use domain::{Estate, Event, PersonId};
use jiff::Timestamp;
use rules::{Calendar, Evaluation, Finding, PolicyPack, Status};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use store::{EventLog, Head, StoreError};

/// The store, shared by every council of the service. Calls block, so they
/// run on tokio's blocking pool (the PostgreSQL client cannot run inside the
/// async runtime at all).
pub type SharedStore = Arc<Mutex<Box<dyn EventLog + Send>>>;

pub struct Council {
    pub id: String,
    pub pack: &'static PolicyPack,
    pub calendar: &'static Calendar,
    state: Mutex<CouncilState>,
}

struct CouncilState {
    evaluation: Evaluation<'static>,
    head: Head,
    last: Option<Timestamp>,
    view: Option<Arc<View>>,
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
}

/// Findings as of one instant, indexed for the pages. It stays valid until
/// the log moves or the next running clock falls due.
pub struct View {
    pub at: Timestamp,
    pub head: u64,
    valid_until: Option<Timestamp>,
    pub findings: Vec<Finding>,
    pub by_person: HashMap<Arc<str>, Vec<usize>>,
    /// How many findings have each status, in `Status::ALL` order.
    pub counts: [usize; 5],
    /// Overdue findings (indices), most overdue first.
    pub overdue: Vec<usize>,
    /// Open findings (indices), soonest due first.
    pub open_by_due: Vec<usize>,
    /// Per rule, how many findings have each status.
    pub by_rule: Vec<(Arc<str>, [usize; 5])>,
    /// People by how many overdue or violated findings they have, most first.
    pub most_failing: Vec<(Arc<str>, usize)>,
}

pub fn status_index(status: Status) -> usize {
    Status::ALL.iter().position(|s| *s == status).unwrap_or(0)
}

impl View {
    fn new(findings: Vec<Finding>, at: Timestamp, head: u64) -> View {
        let mut by_person: HashMap<Arc<str>, Vec<usize>> = HashMap::new();
        let mut counts = [0; 5];
        let mut valid_until: Option<Timestamp> = None;
        let mut by_rule: HashMap<Arc<str>, [usize; 5]> = HashMap::new();
        let mut failing: HashMap<Arc<str>, usize> = HashMap::new();
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
        let mut by_rule: Vec<(Arc<str>, [usize; 5])> = by_rule.into_iter().collect();
        by_rule.sort();
        let mut most_failing: Vec<(Arc<str>, usize)> = failing.into_iter().collect();
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

impl Council {
    /// Replays the stored log into a fresh evaluation. The pack and calendar
    /// are leaked: a council lives as long as the service.
    pub fn load(
        log: &mut dyn EventLog,
        id: &str,
        pack: PolicyPack,
        calendar: Calendar,
    ) -> Result<Council, StoreError> {
        let pack: &'static PolicyPack = Box::leak(Box::new(pack));
        let calendar: &'static Calendar = Box::leak(Box::new(calendar));
        let head = log.head(id)?;
        let events = store::events(log, id)?;
        let mut evaluation = Evaluation::new(pack, calendar);
        for event in &events {
            evaluation.append(event);
        }
        Ok(Council {
            id: id.to_owned(),
            pack,
            calendar,
            state: Mutex::new(CouncilState {
                evaluation,
                head,
                last: events.last().map(|e| e.at),
                view: None,
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, CouncilState> {
        // A panic while holding the lock leaves the state as it was before
        // the command (the fold runs only after the append succeeded).
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `read` on the estate as of the last event.
    pub fn with_estate<T>(&self, read: impl FnOnce(&Estate) -> T) -> T {
        read(self.lock().evaluation.estate())
    }

    /// The findings as of `now`, computed once per log head and due time.
    pub fn view(&self, now: Timestamp) -> Arc<View> {
        let mut state = self.lock();
        let head = state.head.seq;
        let now = now.max(state.last.unwrap_or(now));
        if let Some(view) = &state.view
            && view.still_valid(now, head)
        {
            return view.clone();
        }
        let view = Arc::new(View::new(state.evaluation.findings(now), now, head));
        state.view = Some(view.clone());
        view
    }

    /// Checks `events` in order against the estate and the pack's rules,
    /// appends them all to the store, then folds them in. Any refusal or
    /// store failure: nothing is written and nothing changes.
    pub fn record(&self, store: &SharedStore, events: &[Event]) -> Result<u64, CommandError> {
        let mut state = self.lock();
        let mut reasons = Vec::new();
        // Later events of one command see the earlier ones (a device
        // registered and issued at once): each is checked against a scratch
        // estate with those before it applied, made only when there are two
        // or more.
        let mut scratch: Option<Estate> = None;
        let mut last = state.last;
        for event in events {
            if let Some(prev) = last
                && event.at < prev
            {
                reasons.push(Reason::new(
                    None,
                    format!(
                        "this happened at {} but the log already holds {prev}",
                        event.at
                    ),
                ));
            }
            last = Some(event.at);
            let estate = scratch.as_ref().unwrap_or(state.evaluation.estate());
            for refusal in estate.check(event, self.pack) {
                reasons.push(Reason::new(field_of(&refusal), refusal.to_string()));
            }
            for r in state.evaluation.refusals_in(estate, event) {
                reasons.push(Reason::new(
                    None,
                    format!("{} ({}: {})", r.why, r.rule, r.cite),
                ));
            }
            if events.len() > 1 {
                let mut next = scratch
                    .take()
                    .unwrap_or_else(|| state.evaluation.estate().clone());
                next.apply(event);
                scratch = Some(next);
            }
        }
        if !reasons.is_empty() {
            return Err(CommandError::Refused(reasons));
        }
        let head = {
            let mut log = store.lock().unwrap_or_else(|p| p.into_inner());
            log.append(&self.id, state.head, events)?
        };
        for event in events {
            state.evaluation.append(event);
        }
        state.head = head;
        state.last = last;
        state.view = None;
        Ok(head.seq)
    }

    pub fn head(&self) -> u64 {
        self.lock().head.seq
    }

    /// Whether the person is in the estate and has not left.
    pub fn is_present(&self, person: &PersonId) -> bool {
        self.with_estate(|e| e.people.get(person).is_some_and(|p| p.is_present()))
    }
}

/// The form field a domain refusal is about, when it is about one.
fn field_of(refusal: &domain::Refusal) -> Option<&'static str> {
    use domain::Refusal::*;
    match refusal {
        UnknownPerson { .. } | AlreadyJoined(_) => Some("person"),
        UnknownDevice(_)
        | DeviceAlreadyRegistered(_)
        | DeviceHeld { .. }
        | DeviceNotHeld(_)
        | WrongHolder { .. }
        | DeviceDisposed(_) => Some("device"),
        UnknownIncident(_) | IncidentAlreadyReported(_) => Some("incident"),
        UndeclaredPolicy(..) => Some("policy"),
    }
}
