//! The reminder stages the packs' `[[reminder]]` entries give: a day before
//! a 48-hour clock is due and at a fifth of it left, at the due time, and
//! weekly while overdue, the manager told from the third; the breach's
//! 72 hours told to the SIRO and the DPO, never to the reporter.

use jiff::{SignedDuration, Timestamp};
use rules::reminders::{Stage, plan, policy_for, stage};
use test_utils::packs::{calendar, pack};

const LOG: &str = r#"{"at":"2026-01-05T09:00:00Z","person":"siro","name":"Sam Rowe","kind":"employee","email":"siro@x.test","type":"person_joined"}
{"at":"2026-01-05T09:01:00Z","person":"siro","role":"siro","type":"role_granted"}
{"at":"2026-01-05T09:02:00Z","person":"mgr","name":"Mo Grant","kind":"employee","email":"mgr@x.test","type":"person_joined"}
{"at":"2026-01-05T09:03:00Z","person":"cllr","name":"Cal Lewis","kind":"councillor","email":"cllr@x.test","manager":"mgr","type":"person_joined"}
{"at":"2026-01-05T09:04:00Z","device":"LAP-1","kind":"laptop","owner":"council","type":"device_registered"}
{"at":"2026-01-05T09:05:00Z","device":"LAP-1","person":"cllr","type":"device_issued"}
{"at":"2026-03-26T10:00:00Z","discovered":"2026-03-26T10:00:00Z","incident":"INC-1","kind":"misdirected_email","person":"cllr","personal_data":true,"type":"incident_reported"}
{"at":"2026-03-27T12:00:00Z","person":"cllr","type":"person_left"}
"#;

fn at(text: &str) -> Timestamp {
    text.parse().expect("an instant")
}

#[test]
fn stages_follow_the_pack_and_the_clock() {
    let pack = pack("southend");
    let calendar = calendar(&pack);
    let log: Vec<domain::Event> = domain::read_log(LOG, &pack)
        .expect("the log reads")
        .into_iter()
        .map(|l| l.event)
        .collect();
    let laptop_due = at("2026-03-29T12:00:00Z");
    let stage_at = |now: Timestamp, rule: &str| {
        let findings = rules::evaluate(&pack, &calendar, &log, now);
        let finding = findings
            .iter()
            .find(|f| f.rule.as_str() == rule)
            .expect("the finding");
        let policy = policy_for(&pack, rule).expect("a reminder entry");
        stage(&pack, policy, finding, now)
    };
    let laptop = "southend.devices-returned-48h";
    let hours = |h: i64| SignedDuration::from_hours(h);
    assert_eq!(stage_at(laptop_due - hours(30), laptop), None, "not yet");
    assert_eq!(
        stage_at(laptop_due - hours(23), laptop),
        Some((Stage::Before(hours(24)), false))
    );
    // A fifth of 48 hours, to the hour: 9.
    assert_eq!(
        stage_at(laptop_due - hours(8), laptop),
        Some((Stage::Before(hours(9)), false))
    );
    assert_eq!(
        stage_at(laptop_due + hours(1), laptop),
        Some((Stage::Overdue(1), false))
    );
    assert_eq!(
        stage_at(laptop_due + hours(7 * 24 + 1), laptop),
        Some((Stage::Overdue(2), false))
    );
    assert_eq!(
        stage_at(laptop_due + hours(14 * 24 + 1), laptop),
        Some((Stage::Overdue(3), true)),
        "after the second overdue reminder, the manager too"
    );
    // The breach: 72 hours, a day before and a fifth (14 hours) before.
    let breach = "uk.breach-notified-72h";
    let breach_due = at("2026-03-29T10:00:00Z");
    assert_eq!(
        stage_at(breach_due - hours(20), breach),
        Some((Stage::Before(hours(24)), false))
    );
    assert_eq!(
        stage_at(breach_due - hours(13), breach),
        Some((Stage::Before(hours(14)), false))
    );
    assert_eq!(
        stage_at(breach_due + hours(25), breach),
        Some((Stage::Overdue(2), false)),
        "daily while overdue"
    );

    // Who: the councillor of their laptop; the SIRO of the breach, which
    // the councillor reported but is not theirs to notify.
    let now = breach_due - hours(20);
    let findings = rules::evaluate(&pack, &calendar, &log, now);
    let estate = domain::timeline::fold(&log);
    let planned = plan(&pack, &estate, &findings, now);
    let to: Vec<(String, Vec<String>)> = planned
        .notices
        .iter()
        .map(|n| {
            (
                n.person.to_string(),
                n.items.iter().map(|i| i.finding.rule.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(
        to,
        [
            ("cllr".to_owned(), vec![laptop.to_owned()]),
            ("siro".to_owned(), vec![breach.to_owned()]),
        ]
    );
}
