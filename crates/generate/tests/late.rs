//! Late records and corrections, over generated logs of every council pack.
//!
//! Each case takes a generated history (in the order things happened, every
//! event with its own id), holds some records back so that they are
//! recorded later than events that happened after them, and voids some
//! records once they are in. Then:
//! - the findings as of now do not depend on the order things were recorded
//!   in (they equal those of the history recorded as it happened);
//! - the ledger, kept up to date one admission at a time, equals a full
//!   evaluation of its log after every admission, and so does a view kept
//!   only from what each admission says it changed;
//! - asking "as of T, as known at K" with K each admission's recording time
//!   gives exactly what the ledger said at that moment, after every later
//!   record and correction.

use domain::{Event, EventKind, EventRef, EventVoided, Seq};
use generate::{Spec, council};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use rules::bundled::COUNCILS;
use rules::{Admission, Finding, Ledger, evaluate, evaluate_as_known};
use test_utils::packs::{calendar, pack};
use test_utils::view::{View, ordered};

/// A deterministic stream of choices from the case's seed.
type Choices = generate::Rng;

/// Records nothing else stands on in the estate: holding them back cannot
/// leave a later record unable to fit, whatever order they come in.
fn is_leaf(event: &Event) -> bool {
    !matches!(
        event.kind,
        EventKind::PersonJoined(_)
            | EventKind::PersonLeft(_)
            | EventKind::DeviceRegistered(_)
            | EventKind::DeviceIssued(_)
            | EventKind::DeviceReturned(_)
            | EventKind::DeviceDisposed(_)
            | EventKind::IncidentReported(_)
    )
}

/// A history as things happened, every event named, and the order it is
/// recorded in: some leaf records held back by up to `delay` places, and
/// every record stamped with a `recorded` that never goes back.
fn recording_order(history: &[Event], delay: usize, choices: &mut Choices) -> Vec<Event> {
    let mut slots: Vec<(usize, &Event)> = Vec::with_capacity(history.len());
    for (i, event) in history.iter().enumerate() {
        let place = if is_leaf(event) && choices.below(3) == 0 {
            i + 1 + choices.below(delay as u64) as usize
        } else {
            i
        };
        slots.push((place, event));
    }
    // Stable: records not held back keep their order.
    slots.sort_by_key(|(place, _)| *place);
    let mut last = Timestamp::MIN;
    slots
        .into_iter()
        .map(|(_, event)| {
            let mut event = event.clone();
            last = last.max(event.at);
            event.recorded = Some(last);
            event
        })
        .collect()
}

/// The generated log as things happened, every event named: without the
/// generator's own late records and voided mistakes (this test makes its
/// own), in `at` order.
fn named(generated: Vec<Event>) -> Vec<Event> {
    let voided: Vec<EventRef> = generated
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::EventVoided(v) => Some(v.event.clone()),
            _ => None,
        })
        .collect();
    let mut history: Vec<Event> = generated
        .into_iter()
        .filter(|e| !matches!(e.kind, EventKind::EventVoided(_)))
        .filter(|e| e.id.as_ref().is_none_or(|id| !voided.contains(id)))
        .map(|mut e| {
            e.recorded = None;
            e
        })
        .collect();
    history.sort_by_key(|e| e.at);
    history
        .into_iter()
        .enumerate()
        .map(|(i, mut e)| {
            e.id = Some(EventRef::Id(format!("e{i}").as_str().into()));
            e
        })
        .collect()
}

/// A finding with its evidence named by the events' own ids, and without
/// its recording time, so that findings from different recording orders
/// (where the same event has another sequence number) compare.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Comparable {
    status: String,
    due: Option<Timestamp>,
    settled: Option<Timestamp>,
    rule: String,
    concerns: String,
    detail: String,
    events: Vec<String>,
}

fn comparable(findings: &[Finding], log: &[Event]) -> Vec<Comparable> {
    let name = |seq: Seq| {
        log.get(usize::try_from(seq - 1).unwrap_or(usize::MAX))
            .and_then(|e| e.own_id())
            .map_or_else(|| format!("#{seq}"), |id| id.to_string())
    };
    let mut out: Vec<Comparable> = findings
        .iter()
        .map(|f| Comparable {
            status: f.status.name().to_owned(),
            due: f.due,
            settled: f.settled,
            rule: f.rule.to_string(),
            concerns: format!("{:?}", f.concerns),
            detail: f.detail.to_string(),
            events: f.events.seqs().map(name).collect(),
        })
        .collect();
    out.sort();
    out
}

struct Case {
    which: usize,
    seed: u64,
    people: usize,
    delay: usize,
    window: usize,
}

fn check(case: &Case) -> Result<(), TestCaseError> {
    let pack = pack(COUNCILS[case.which]);
    let calendar = calendar(&pack);
    let history = named(council(
        &Spec {
            people: case.people,
            years: 1,
            seed: case.seed,
            end: Spec::END,
        },
        case.seed as usize % 400,
        &pack,
    ));
    let mut choices = Choices::seeded(case.seed);
    let recorded = recording_order(&history, case.delay, &mut choices);
    let last_at = history.iter().map(|e| e.at).max().unwrap_or(Timestamp::MIN);
    let now = last_at + SignedDuration::from_hours(24);

    let mut ledger = Ledger::new(&pack, &calendar).with_window(case.window);
    let mut view = View::default();
    // What the ledger said after each admission, as of its recording time.
    let mut said: Vec<(Timestamp, Vec<Finding>)> = Vec::new();
    let mut voidable: Vec<String> = Vec::new();
    for (i, event) in recorded.iter().enumerate() {
        let at_record = event.recorded.unwrap_or(event.at);
        let admission = Admission::history(at_record);
        let admitted = ledger.admit(vec![event.clone()], admission);
        prop_assert!(
            admitted.is_ok(),
            "record {} ({}, at {}) is refused: {:?}",
            i + 1,
            event.kind.event_type(),
            event.at,
            admitted.err()
        );
        view.apply(admitted.map(|a| a.change).unwrap_or_default())?;
        if is_leaf(event) {
            voidable.push(event.own_id().map(|id| id.to_string()).unwrap_or_default());
        }
        // Now and then a correction: a leaf record voided.
        if !voidable.is_empty() && choices.below(12) == 0 {
            let target = voidable.swap_remove(choices.below(voidable.len() as u64) as usize);
            let void = Event {
                at: at_record,
                recorded: Some(at_record),
                id: None,
                by: None,
                kind: EventKind::EventVoided(EventVoided {
                    event: EventRef::Id(target.as_str().into()),
                    reason: "recorded in error".into(),
                }),
            };
            let admitted = ledger.admit(vec![void], admission);
            prop_assert!(
                admitted.is_ok(),
                "void of {} refused: {:?}",
                target,
                admitted.err()
            );
            view.apply(admitted.map(|a| a.change).unwrap_or_default())?;
        }
        // Incremental equals full, and the view kept from changes equals both.
        let as_of = at_record.max(ledger.last_at().unwrap_or(at_record));
        // Only where the next record is recorded later: "known at K" takes
        // in everything recorded at K, ties included.
        let next = recorded.get(i + 1).and_then(|e| e.recorded);
        if (i % 7 == 0 && next > Some(at_record)) || next.is_none() {
            let log: Vec<Event> = ledger.events();
            let full = ordered(evaluate(&pack, &calendar, &log, as_of));
            prop_assert_eq!(
                &ordered(ledger.findings(as_of)),
                &full,
                "after record {}",
                i + 1
            );
            prop_assert_eq!(
                &view.findings(as_of),
                &full,
                "the view, after record {}",
                i + 1
            );
            said.push((as_of, ledger.findings(as_of)));
        }
    }

    // As known at each moment: exactly what the ledger said then.
    let log: Vec<Event> = ledger.events();

    // The same log admitted in one batch, as an import does it, ends where
    // the admissions one by one ended.
    let mut bulk = Ledger::new(&pack, &calendar).with_window(case.window);
    let last = log.last().map_or(now, |e| e.recorded_or_at());
    let admitted = bulk.admit_in_bulk(log.clone(), Admission::history(last));
    prop_assert!(
        admitted.is_ok(),
        "the batch is admitted: {:?}",
        admitted.err()
    );
    prop_assert_eq!(ordered(bulk.findings(now)), ordered(ledger.findings(now)));
    for (moment, findings) in &said {
        let again = evaluate_as_known(&pack, &calendar, &log, *moment, Some(*moment));
        prop_assert_eq!(
            ordered(again),
            ordered(findings.clone()),
            "as known at {}",
            moment
        );
    }

    // The order of recording does not change the findings as of now (the
    // voids aside, which the history recorded in order does not have).
    let voids = log
        .iter()
        .any(|e| matches!(e.kind, EventKind::EventVoided(_)));
    if !voids {
        let in_order = evaluate(&pack, &calendar, &history, now);
        let late = ledger.findings(now);
        prop_assert_eq!(comparable(&late, &log), comparable(&in_order, &history));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn late_records_and_voids_keep_the_findings_of_the_timeline(
        seed in any::<u64>(),
        which in 0..COUNCILS.len(),
        people in 6usize..20,
        delay in 2usize..80,
        window in prop_oneof![Just(3usize), Just(50_000usize)],
    ) {
        check(&Case { which, seed, people, delay, window })?;
    }
}

/// Without voids, the recording order alone: the findings as of now equal
/// those of the history recorded as it happened, for many orders of one
/// history.
#[test]
fn every_recording_order_gives_the_same_findings_as_of_now() {
    for (which, name) in COUNCILS.iter().enumerate() {
        let pack = pack(name);
        let calendar = calendar(&pack);
        let history = named(council(
            &Spec {
                people: 12,
                years: 1,
                seed: 7,
                end: Spec::END,
            },
            which,
            &pack,
        ));
        let now = history.iter().map(|e| e.at).max().unwrap_or(Timestamp::MIN)
            + SignedDuration::from_hours(24 * 40);
        let expected = comparable(&evaluate(&pack, &calendar, &history, now), &history);
        for seed in 0..6 {
            let recorded = recording_order(&history, 200, &mut Choices::seeded(seed));
            assert!(
                recorded.iter().zip(&history).any(|(a, b)| a != b),
                "the order changed"
            );
            let mut ledger = Ledger::new(&pack, &calendar);
            for event in &recorded {
                let now = event.recorded.unwrap_or(event.at);
                ledger
                    .admit(vec![event.clone()], Admission::history(now))
                    .unwrap_or_else(|e| panic!("{name}: {e:?}"));
            }
            let log: Vec<Event> = ledger.events();
            assert_eq!(
                comparable(&ledger.findings(now), &log),
                expected,
                "{name} with recording order {seed}"
            );
        }
    }
}

/// Undoing an apply gives back the estate exactly, for every event of
/// generated logs of every pack (a late record is placed by undoing the
/// events after its `at`).
#[test]
fn undoing_an_apply_gives_back_the_estate_it_was_applied_to() {
    for (which, name) in COUNCILS.iter().enumerate() {
        let pack = pack(name);
        let history = council(
            &Spec {
                people: 15,
                years: 2,
                seed: 3,
                end: Spec::END,
            },
            which,
            &pack,
        );
        let mut estate = domain::Estate::default();
        for event in &history {
            let before = estate.clone();
            let undo = estate.apply_undoable(event);
            let after = estate.clone();
            estate.undo(undo);
            assert_eq!(estate, before, "{name}: undo of {event:?}");
            estate = after;
        }
    }
}
