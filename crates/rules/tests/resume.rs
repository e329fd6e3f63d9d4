//! A ledger resumed from a snapshot (the estate and the rules' state after
//! some event, through their stored form) is the ledger the whole log
//! gives: the same estate and findings, and the same after a late record
//! placed before the snapshot. A snapshot that does not fit is set aside
//! and the whole log folded, with the reason.

use test_utils::packs;

use domain::{Event, NotResumed, parse_event};
use jiff::Timestamp;
use packs::{calendar, pack};
use rules::{Admission, Calendar, Ledger, NotTakenUp, PolicyPack, Snapshot, StoredEvaluation};

const COUNCILS: [&str; 5] = [
    "leighton-linslade",
    "mid-devon",
    "redditch",
    "sefton",
    "southend",
];

fn example(council: &str) -> Vec<Event> {
    let path = packs::repo_root().join(format!("examples/{council}.jsonl"));
    let text = std::fs::read_to_string(&path).expect("example");
    text.lines()
        .map(|line| parse_event(line).expect("example event"))
        .collect()
}

fn t(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

/// A snapshot of the first `n` events, through the stored form's JSON, as
/// `warden snapshot` writes it and `serve` reads it.
fn snapshot_of(pack: &PolicyPack, calendar: &Calendar, events: &[Event], n: usize) -> Snapshot {
    let prefix = Ledger::restore(pack, calendar, events[..n].to_vec());
    let json = serde_json::to_string(&prefix.stored_rules()).expect("stored form writes");
    let rules: StoredEvaluation = serde_json::from_str(&json).expect("stored form reads");
    let estate = serde_json::from_str(&serde_json::to_string(prefix.estate()).expect("estate"))
        .expect("estate reads");
    Snapshot {
        through: n as u64,
        estate,
        rules,
    }
}

#[test]
fn a_ledger_resumed_from_a_snapshot_equals_the_whole_log_folded() {
    let now = t("2026-06-01T00:00:00Z");
    for council in COUNCILS {
        let (pack, events) = (pack(council), example(council));
        let calendar = calendar(&pack);
        let whole = Ledger::restore(&pack, &calendar, events.clone());
        let len = events.len();
        let mut resumed_at = Vec::new();
        for n in [1, len / 3, len / 2, len - 40, len - 1, len] {
            let snapshot = snapshot_of(&pack, &calendar, &events, n);
            let (ledger, taken) = Ledger::resume(&pack, &calendar, events.clone(), snapshot);
            if taken.is_ok() {
                resumed_at.push(n);
            }
            assert_eq!(ledger.estate(), whole.estate(), "{council}, cut at {n}");
            assert_eq!(
                ledger.findings(now),
                whole.findings(now),
                "{council}, cut at {n}: {taken:?}"
            );
        }
        // The examples end recorded as things happened: a snapshot near the
        // end is taken up, not set aside.
        assert!(
            resumed_at.contains(&len) && resumed_at.contains(&(len - 1)),
            "{council} resumed only at {resumed_at:?}"
        );
    }
}

#[test]
fn a_late_record_placed_before_the_snapshot_gives_what_the_whole_log_gives() {
    let (pack, events) = (pack("southend"), example("southend"));
    let calendar = calendar(&pack);
    let snapshot = snapshot_of(&pack, &calendar, &events, events.len() - 10);
    let (mut resumed, taken) = Ledger::resume(&pack, &calendar, events.clone(), snapshot);
    assert_eq!(taken, Ok(()));
    let mut whole = Ledger::restore(&pack, &calendar, events);
    let late = r#"{"at":"2025-04-02T09:00:00Z","course":"data_protection","person":"c001-p00002","type":"training_completed"}"#;
    let now = t("2026-06-01T00:00:00Z");
    for ledger in [&mut resumed, &mut whole] {
        let event = parse_event(late).expect("late record");
        ledger
            .admit(vec![event], Admission::history(now))
            .expect("admitted");
    }
    assert_eq!(resumed.estate(), whole.estate());
    assert_eq!(resumed.findings(now), whole.findings(now));
}

#[test]
fn a_tail_that_happened_before_the_snapshot_sets_it_aside() {
    let (pack, events) = (pack("southend"), example("southend"));
    let calendar = calendar(&pack);
    let mut events = events;
    let n = events.len();
    let snapshot = snapshot_of(&pack, &calendar, &events, n);
    let late = r#"{"at":"2025-04-02T09:00:00Z","recorded":"2026-05-01T09:00:00Z","course":"data_protection","person":"c001-p00002","type":"training_completed"}"#;
    events.push(parse_event(late).expect("late record"));
    let (ledger, taken) = Ledger::resume(&pack, &calendar, events.clone(), snapshot);
    assert_eq!(
        taken,
        Err(NotTakenUp::Log(NotResumed::Earlier { seq: n as u64 + 1 }))
    );
    let whole = Ledger::restore(&pack, &calendar, events);
    let now = t("2026-06-01T00:00:00Z");
    assert_eq!(ledger.findings(now), whole.findings(now));
}

#[test]
fn a_snapshot_longer_than_the_log_is_set_aside() {
    let (pack, events) = (pack("redditch"), example("redditch"));
    let calendar = calendar(&pack);
    let snapshot = snapshot_of(&pack, &calendar, &events, events.len());
    let shorter = events[..events.len() - 5].to_vec();
    let (ledger, taken) = Ledger::resume(&pack, &calendar, shorter.clone(), snapshot);
    assert!(
        matches!(taken, Err(NotTakenUp::Log(NotResumed::Beyond { .. }))),
        "{taken:?}"
    );
    let whole = Ledger::restore(&pack, &calendar, shorter);
    let now = t("2026-06-01T00:00:00Z");
    assert_eq!(ledger.findings(now), whole.findings(now));
}

#[test]
fn rules_state_folded_under_another_pack_is_not_taken_up() {
    let events = example("southend");
    let (southend, redditch) = (pack("southend"), pack("redditch"));
    let (cal_s, cal_r) = (calendar(&southend), calendar(&redditch));
    let snapshot = snapshot_of(&redditch, &cal_r, &events, events.len());
    let (ledger, taken) = Ledger::resume(&southend, &cal_s, events.clone(), snapshot);
    let why = taken.expect_err("another pack's state");
    assert!(matches!(why, NotTakenUp::Rules(_)), "{why:?}");
    assert!(why.to_string().contains("another pack"), "{why}");
    let whole = Ledger::restore(&southend, &cal_s, events);
    let now = t("2026-06-01T00:00:00Z");
    assert_eq!(ledger.findings(now), whole.findings(now));
}
