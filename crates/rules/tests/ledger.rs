//! The one way in: what a command may not do that history may record, and
//! a command of several events checked each at its own place.

use test_utils::packs;

use domain::{Event, parse_event};
use jiff::Timestamp;
use packs::{calendar, pack};
use rules::{Admission, Ledger, Reason, Status};

fn event(line: &str) -> Event {
    parse_event(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn t(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

const JOINED: &str = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"e1","name":"Officer One","kind":"employee"}"#;
const ACCEPTED: &str = r#"{"at":"2026-01-05T09:05:00Z","type":"policy_accepted","person":"e1","policy":"acceptable-use","version":"2020"}"#;

#[test]
fn a_command_is_refused_what_history_records_as_a_violation() {
    let pack = pack("sefton");
    let calendar = calendar(&pack);
    let grant =
        r#"{"at":"2026-01-06T09:00:00Z","type":"access_granted","person":"e1","resource":"crm"}"#;
    // Never accepted the Acceptable Use Policy: a command is refused...
    let mut ledger = Ledger::new(&pack, &calendar);
    ledger
        .admit(
            vec![event(JOINED)],
            Admission::command(t("2026-01-05T09:00:00Z")),
        )
        .expect("a starter");
    let refused = ledger
        .admit(
            vec![event(grant)],
            Admission::command(t("2026-01-06T09:00:00Z")),
        )
        .expect_err("refused before it happens");
    assert!(
        matches!(&refused[..], [(0, Reason::Rule(r))] if r.rule == "sefton.aup-accepted-before-access"),
        "{refused:?}"
    );
    assert_eq!(ledger.len(), 1, "nothing admitted");
    // ...and history records it, as a violation, and says so.
    let admitted = ledger
        .admit(
            vec![event(grant)],
            Admission::history(t("2026-01-06T09:00:00Z")),
        )
        .expect("history goes in");
    assert_eq!(admitted.violations, 1);
    assert!(
        admitted.change.settled.iter().any(
            |f| f.status == Status::Violated && &*f.rule == "sefton.aup-accepted-before-access"
        )
    );
}

/// A regression: the pack's checks of a command's later events read the
/// policy version from the live estate, not from the one its earlier events
/// leave, so a new version approved in the same command went unseen.
#[test]
fn each_event_of_a_command_is_checked_where_the_ones_before_it_leave_the_estate() {
    let pack = pack("sefton");
    let calendar = calendar(&pack);
    let mut ledger = Ledger::new(&pack, &calendar);
    ledger
        .admit(
            vec![event(JOINED), event(ACCEPTED)],
            Admission::command(t("2026-01-05T10:00:00Z")),
        )
        .expect("a starter who accepted the 2020 version");
    let refused = ledger
        .admit(
            vec![
                event(r#"{"at":"2026-01-06T09:00:00Z","type":"policy_approved","policy":"acceptable-use","version":"2026","body":"council","consulted":["audit_and_governance"]}"#),
                event(r#"{"at":"2026-01-06T09:01:00Z","type":"access_granted","person":"e1","resource":"crm"}"#),
            ],
            Admission::command(t("2026-01-06T09:05:00Z")),
        )
        .expect_err("the 2026 version is not accepted");
    assert!(
        refused.iter().any(|(i, r)| *i == 1
            && matches!(r, Reason::Rule(r) if r.why.contains("has not accepted acceptable-use version 2026"))),
        "{refused:?}"
    );
    assert_eq!(ledger.len(), 2, "neither event went in");
}

#[test]
fn a_command_is_checked_where_it_falls_in_time_not_at_the_end() {
    let pack = pack("sefton");
    let calendar = calendar(&pack);
    let mut ledger = Ledger::new(&pack, &calendar);
    ledger
        .admit(
            vec![
                event(JOINED),
                event(ACCEPTED),
                // Withdrawn on the 8th: a new version nobody has accepted.
                event(r#"{"at":"2026-01-08T09:00:00Z","type":"policy_approved","policy":"acceptable-use","version":"2026","body":"council","consulted":["audit_and_governance"]}"#),
            ],
            Admission::command(t("2026-01-08T10:00:00Z")),
        )
        .expect("sound");
    // Access granted on the 7th, recorded on the 9th: the 2020 version was
    // current then, and e1 had accepted it.
    let late = event(
        r#"{"at":"2026-01-07T09:00:00Z","type":"access_granted","person":"e1","resource":"crm"}"#,
    );
    ledger
        .admit(
            vec![late.clone()],
            Admission::command(t("2026-01-09T09:00:00Z")),
        )
        .expect("met where it falls");
    // The same grant dated the 9th is refused.
    let now = Event {
        at: t("2026-01-09T09:00:00Z"),
        ..late
    };
    assert!(
        ledger
            .admit(vec![now], Admission::command(t("2026-01-09T09:01:00Z")))
            .is_err()
    );
}

#[test]
fn a_rolled_back_admission_leaves_the_findings_as_they_were() {
    let pack = pack("southend");
    let calendar = calendar(&pack);
    let mut ledger = Ledger::new(&pack, &calendar);
    ledger
        .admit(
            vec![
                event(r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"c1","name":"Cllr One","kind":"councillor"}"#),
                event(r#"{"at":"2026-01-05T09:05:00Z","type":"device_registered","device":"lap-1","kind":"laptop","owner":"council"}"#),
                event(r#"{"at":"2026-01-05T09:06:00Z","type":"device_issued","device":"lap-1","person":"c1"}"#),
                event(r#"{"at":"2026-01-09T09:06:00Z","type":"person_left","person":"c1"}"#),
            ],
            Admission::history(t("2026-01-09T10:00:00Z")),
        )
        .expect("sound");
    let now = t("2026-01-20T00:00:00Z");
    let before = ledger.findings(now);
    let savepoint = ledger.savepoint();
    ledger
        .admit(
            vec![event(
                r#"{"at":"2026-01-10T09:00:00Z","type":"device_returned","device":"lap-1"}"#,
            )],
            Admission::history(t("2026-01-12T10:00:00Z")),
        )
        .expect("a late return");
    assert_ne!(ledger.findings(now), before);
    // The store could not take it: the ledger goes back.
    ledger.rollback(savepoint);
    assert_eq!(ledger.findings(now), before);
    assert_eq!(ledger.len(), 4);
}
