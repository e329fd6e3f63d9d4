//! The stored form of an evaluation's state (its clocks, cycles, tallies
//! and settled findings), so that a service can start from a snapshot and
//! fold only the events after it.
//!
//! The state means something only beside the pack and calendar it was
//! folded with, and the code that folded it, so it carries a fingerprint of
//! all three ([`fingerprint`]) and is refused under any other. What is the
//! same for every finding of a rule (its id, citation, what its clocks say)
//! is not stored: it is taken from the pack again.

use super::*;
use crate::detail::{Ended, Of};
use sha2::{Digest, Sha256};

/// Bumped whenever what an evaluation keeps, or what it means, changes:
/// a snapshot written under another form is folded again, not read.
const FORM: u32 = 1;

/// A fingerprint of what an evaluation's state depends on besides the log:
/// the pack's rules, the calendar's time zone and holidays, and this
/// version of Warden's rules.
pub fn fingerprint(pack: &PolicyPack, calendar: &Calendar) -> String {
    let mut sha = Sha256::new();
    sha.update(format!("warden-evaluation-v{FORM}\n{}\n", env!("CARGO_PKG_VERSION")).as_bytes());
    sha.update(format!("{pack:?}\n").as_bytes());
    sha.update(calendar.describe().as_bytes());
    let digest = sha.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a stored evaluation was not taken up.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StoredFormError {
    #[error(
        "its rules' state was folded with another pack, calendar or version of Warden (fingerprint {found}, not {expected})"
    )]
    Fingerprint { found: String, expected: String },
    #[error("its rules' state names rule {rule}, which the pack has not (it has {rules})")]
    NoSuchRule { rule: usize, rules: usize },
    #[error("its rules' state has a finding of rule {0}, which the pack has not")]
    UnknownRule(String),
    #[error("its rules' state keeps a {kind} for rule {rule}, which is not one")]
    WrongKind { rule: String, kind: &'static str },
}

/// An evaluation's state, as stored in a snapshot.
#[derive(Serialize, Deserialize)]
pub struct StoredEvaluation {
    fingerprint: String,
    next_clock: ClockId,
    clocks: Vec<(usize, Key, Vec<StoredClock>)>,
    cycles: Vec<(usize, Key, StoredClock)>,
    tallies: Vec<(usize, String, i16, Tally)>,
    settled: Vec<StoredFinding>,
}

#[derive(Serialize, Deserialize)]
struct StoredClock {
    id: ClockId,
    due: Timestamp,
    concerns: StoredConcerns,
    detail: StoredDetail,
    from: Seq,
}

#[derive(Serialize, Deserialize)]
struct StoredFinding {
    rule: usize,
    status: Status,
    due: Option<Timestamp>,
    settled: Option<Timestamp>,
    recorded_after: Option<NonZeroI32>,
    concerns: StoredConcerns,
    detail: StoredDetail,
    from: Option<NonZeroU32>,
    settled_by: Option<NonZeroU32>,
}

/// `Concerns`, read back through the ids' own types so that each is
/// checked and shared as a log's ids are.
#[derive(Serialize, Deserialize)]
struct StoredConcerns {
    person: Option<PersonId>,
    device: Option<DeviceId>,
    policy: Option<PolicyId>,
    incident: Option<IncidentId>,
    resource: Option<ResourceId>,
}

/// `Detail`, less what its rule says.
#[derive(Serialize, Deserialize)]
enum StoredDetail {
    Clock {
        person: Option<PersonId>,
        of: Of,
        ended: Option<Ended>,
    },
    Cycle {
        from: EventType,
        done_by: Option<EventType>,
    },
    Checked {
        before: EventType,
        lacking: Option<String>,
    },
    Text(String),
}

impl Evaluation<'_> {
    /// The state, to be stored beside the estate it was folded with.
    pub fn to_stored(&self) -> StoredEvaluation {
        let rule_of: IdMap<&str, usize> = self
            .names
            .iter()
            .enumerate()
            .map(|(r, (id, _))| (&**id, r))
            .collect();
        StoredEvaluation {
            fingerprint: fingerprint(self.pack, self.calendar),
            next_clock: self.next_clock,
            clocks: self
                .clocks
                .iter()
                .map(|((r, key), clocks)| {
                    (*r, key.clone(), clocks.iter().map(store_clock).collect())
                })
                .collect(),
            cycles: self
                .cycles
                .iter()
                .map(|((r, key), cycle)| (*r, key.clone(), store_clock(cycle)))
                .collect(),
            tallies: self
                .tallies
                .iter()
                .map(|((r, group, year), tally)| (*r, group.clone(), *year, tally.clone()))
                .collect(),
            settled: self
                .settled
                .iter()
                .map(|f| StoredFinding {
                    // Every settled finding is one of this pack's rules.
                    rule: rule_of.get(&*f.rule).copied().unwrap_or(usize::MAX),
                    status: f.status,
                    due: f.due,
                    settled: f.settled,
                    recorded_after: f.recorded_after,
                    concerns: store_concerns(&f.concerns),
                    detail: store_detail(&f.detail),
                    from: f.events.from,
                    settled_by: f.events.settled_by,
                })
                .collect(),
        }
    }

    /// Takes up a stored state, if it was folded with this evaluation's
    /// pack, calendar and version of Warden.
    pub fn take_up(&mut self, stored: StoredEvaluation) -> Result<(), StoredFormError> {
        let expected = fingerprint(self.pack, self.calendar);
        if stored.fingerprint != expected {
            return Err(StoredFormError::Fingerprint {
                found: stored.fingerprint,
                expected,
            });
        }
        let mut clocks = IdMap::default();
        for (r, key, stored) in stored.clocks {
            let list = stored
                .into_iter()
                .map(|c| self.clock_back(r, c))
                .collect::<Result<Vec<_>, _>>()?;
            clocks.insert((r, key), list);
        }
        let mut cycles = IdMap::default();
        for (r, key, c) in stored.cycles {
            cycles.insert((r, key), self.clock_back(r, c)?);
        }
        let mut settled = Vec::with_capacity(stored.settled.len());
        for f in stored.settled {
            let (rule, cite) = self.names_of(f.rule)?;
            settled.push(Finding {
                rule,
                status: f.status,
                due: f.due,
                settled: f.settled,
                recorded_after: f.recorded_after,
                cite,
                concerns: concerns_back(f.concerns),
                detail: self.detail_back(f.rule, f.detail)?,
                events: Evidence {
                    from: f.from,
                    settled_by: f.settled_by,
                },
            });
        }
        let rules = self.names.len();
        for (r, _, _, _) in &stored.tallies {
            if *r >= rules {
                return Err(StoredFormError::NoSuchRule { rule: *r, rules });
            }
        }
        self.clocks = clocks;
        self.cycles = cycles;
        self.tallies = stored
            .tallies
            .into_iter()
            .map(|(r, group, year, tally)| ((r, group, year), tally))
            .collect();
        self.settled = settled;
        self.next_clock = stored.next_clock;
        Ok(())
    }

    fn names_of(&self, r: usize) -> Result<(ArcStr, ArcStr), StoredFormError> {
        self.names
            .get(r)
            .cloned()
            .ok_or(StoredFormError::NoSuchRule {
                rule: r,
                rules: self.names.len(),
            })
    }

    fn clock_back(&self, r: usize, c: StoredClock) -> Result<Clock, StoredFormError> {
        self.names_of(r)?;
        Ok(Clock {
            id: c.id,
            due: c.due,
            concerns: concerns_back(c.concerns),
            detail: self.detail_back(r, c.detail)?,
            from: c.from,
        })
    }

    fn detail_back(&self, r: usize, detail: StoredDetail) -> Result<Detail, StoredFormError> {
        let wrong = |kind| StoredFormError::WrongKind {
            rule: self.rule(r).id.clone(),
            kind,
        };
        Ok(match detail {
            StoredDetail::Clock { person, of, ended } => Detail::Clock {
                words: self.clock_words[r].clone().ok_or_else(|| wrong("clock"))?,
                person,
                of,
                ended,
            },
            StoredDetail::Cycle { from, done_by } => match &self.rule(r).kind {
                RuleKind::Recurrence(rec) => Detail::Cycle {
                    every: rec.every,
                    from,
                    done_by,
                },
                _ => return Err(wrong("cycle")),
            },
            StoredDetail::Checked { before, lacking } => Detail::Checked { before, lacking },
            StoredDetail::Text(text) => Detail::Text(text),
        })
    }
}

fn store_clock(clock: &Clock) -> StoredClock {
    StoredClock {
        id: clock.id,
        due: clock.due,
        concerns: store_concerns(&clock.concerns),
        detail: store_detail(&clock.detail),
        from: clock.from,
    }
}

fn store_concerns(c: &Concerns) -> StoredConcerns {
    StoredConcerns {
        person: c.person.clone().map(PersonId),
        device: c.device.clone().map(DeviceId),
        policy: c.policy.clone().map(PolicyId),
        incident: c.incident.clone().map(IncidentId),
        resource: c.resource.clone().map(ResourceId),
    }
}

fn concerns_back(c: StoredConcerns) -> Concerns {
    Concerns {
        person: c.person.map(|p| p.0),
        device: c.device.map(|d| d.0),
        policy: c.policy.map(|p| p.0),
        incident: c.incident.map(|i| i.0),
        resource: c.resource.map(|r| r.0),
    }
}

fn store_detail(detail: &Detail) -> StoredDetail {
    match detail {
        Detail::Clock {
            person, of, ended, ..
        } => StoredDetail::Clock {
            person: person.clone(),
            of: of.clone(),
            ended: *ended,
        },
        Detail::Cycle { from, done_by, .. } => StoredDetail::Cycle {
            from: *from,
            done_by: *done_by,
        },
        Detail::Checked { before, lacking } => StoredDetail::Checked {
            before: *before,
            lacking: lacking.clone(),
        },
        Detail::Text(text) => StoredDetail::Text(text.clone()),
    }
}
