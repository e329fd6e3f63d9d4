//! What a command may not do now, though a record of the past may show it
//! done (`Estate::check_command`): an incident closed before its decision
//! and notification, a device disposed of while someone holds it, a device
//! acquired after the day it is registered.

use domain::timeline::fold;
use domain::{Event, Refusal, parse_event};

fn event(line: &str) -> Event {
    parse_event(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

fn refusals(history: &[&str], command: &str) -> Vec<Refusal> {
    let events: Vec<Event> = history.iter().map(|l| event(l)).collect();
    fold(&events).check_command(&event(command))
}

const BREACH: &str = r#"{"at":"2026-01-05T09:00:00Z","type":"incident_reported","incident":"i1","kind":"misdirected email","discovered":"2026-01-05T08:00:00Z","personal_data":true}"#;
const PHISH: &str = r#"{"at":"2026-01-05T09:00:00Z","type":"incident_reported","incident":"i2","kind":"phishing","discovered":"2026-01-05T08:00:00Z","personal_data":false}"#;
const NOTIFIABLE: &str =
    r#"{"at":"2026-01-05T12:00:00Z","type":"incident_assessed","incident":"i1","notifiable":true}"#;
const NOT_NOTIFIABLE: &str = r#"{"at":"2026-01-05T12:00:00Z","type":"incident_assessed","incident":"i1","notifiable":false}"#;
const NOTIFIED: &str =
    r#"{"at":"2026-01-06T12:00:00Z","type":"incident_regulator_notified","incident":"i1"}"#;
const CLOSE: &str = r#"{"at":"2026-01-20T12:00:00Z","type":"incident_closed","incident":"i1"}"#;

#[test]
fn a_personal_data_incident_is_closed_only_after_its_decision_and_notification() {
    assert_eq!(
        refusals(&[BREACH], CLOSE),
        [Refusal::IncidentUndecided("i1".into())]
    );
    assert_eq!(
        refusals(&[BREACH, NOTIFIABLE], CLOSE),
        [Refusal::IncidentNotNotified("i1".into())]
    );
    assert!(refusals(&[BREACH, NOTIFIABLE, NOTIFIED], CLOSE).is_empty());
    assert!(refusals(&[BREACH, NOT_NOTIFIABLE], CLOSE).is_empty());
    assert_eq!(
        refusals(&[BREACH, NOT_NOTIFIABLE, CLOSE], CLOSE),
        [Refusal::IncidentAlreadyClosed("i1".into())]
    );
    // No personal data: no decision for the regulator to wait on.
    let close_phish = CLOSE.replace("i1", "i2");
    assert!(refusals(&[PHISH], &close_phish).is_empty());
}

#[test]
fn a_closed_incident_can_still_be_assessed_and_notified() {
    // Closed without a decision (as a record of the past may show it).
    assert!(refusals(&[BREACH, CLOSE], NOTIFIABLE).is_empty());
    assert!(refusals(&[BREACH, CLOSE, NOTIFIABLE], NOTIFIED).is_empty());
    let events: Vec<Event> = [BREACH, CLOSE].iter().map(|l| event(l)).collect();
    assert!(
        fold(&events)
            .check(&event(NOTIFIABLE), &std::collections::BTreeSet::new())
            .is_empty()
    );
}

const JOIN: &str = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"councillor"}"#;
const DEVICE: &str = r#"{"at":"2026-01-05T09:05:00Z","type":"device_registered","device":"d1","kind":"laptop","owner":"council","acquired":"2025-06-01"}"#;
const ISSUE: &str =
    r#"{"at":"2026-01-05T09:06:00Z","type":"device_issued","device":"d1","person":"p1"}"#;
const DISPOSE: &str =
    r#"{"at":"2026-02-01T09:00:00Z","type":"device_disposed","device":"d1","wiped":true}"#;

#[test]
fn a_device_is_disposed_of_only_once_returned_or_lost() {
    assert_eq!(
        refusals(&[JOIN, DEVICE, ISSUE], DISPOSE),
        [Refusal::DisposedWhileHeld {
            device: "d1".into(),
            holder: "p1".into()
        }]
    );
    let returned =
        r#"{"at":"2026-01-30T09:00:00Z","type":"device_returned","device":"d1","person":"p1"}"#;
    assert!(refusals(&[JOIN, DEVICE, ISSUE, returned], DISPOSE).is_empty());
    // Lost and written off: it cannot be handed back first.
    let lost = r#"{"at":"2026-01-20T09:00:00Z","type":"device_lost","device":"d1","discovered":"2026-01-20T08:00:00Z","stolen":true}"#;
    assert!(refusals(&[JOIN, DEVICE, ISSUE, lost], DISPOSE).is_empty());
}

#[test]
fn a_device_cannot_be_acquired_after_the_day_it_is_registered() {
    let future = r#"{"at":"2026-01-05T09:05:00Z","type":"device_registered","device":"d2","kind":"laptop","owner":"council","acquired":"2030-06-01"}"#;
    assert!(matches!(
        &refusals(&[JOIN], future)[..],
        [Refusal::AcquiredAfterRegistered { device, .. }] if device == "d2"
    ));
    // Registered late in the evening of its delivery day, in BST: the
    // council's date is a day ahead of UTC's.
    let same_day = r#"{"at":"2026-06-30T23:30:00Z","type":"device_registered","device":"d3","kind":"laptop","owner":"council","acquired":"2026-07-01"}"#;
    assert!(refusals(&[JOIN], same_day).is_empty());
    assert!(refusals(&[JOIN], DEVICE).is_empty());
}

const COUNCILLOR: &str = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p2","name":"B","kind":"councillor","household":"h-2"}"#;

#[test]
fn a_claim_is_for_a_positive_amount_and_the_claimants_own_household() {
    let claim = |amount: &str, household: &str| {
        format!(
            r#"{{"at":"2026-02-01T09:00:00Z","type":"expense_claimed","person":"p2","category":"broadband","amount":"{amount}","household":"{household}"}}"#
        )
    };
    let events: Vec<Event> = [COUNCILLOR].iter().map(|l| event(l)).collect();
    let estate = fold(&events);
    let policies = std::collections::BTreeSet::new();
    assert!(
        estate
            .check(&event(&claim("45.50", "h-2")), &policies)
            .is_empty()
    );
    assert!(refusals(&[COUNCILLOR], &claim("45.50", "h-2")).is_empty());
    for amount in ["0.00", "0"] {
        assert!(matches!(
            &estate.check(&event(&claim(amount, "h-2")), &policies)[..],
            [Refusal::AmountNotPositive(_)]
        ));
    }
    assert!(matches!(
        &refusals(&[COUNCILLOR], &claim("45.50", "h-9"))[..],
        [Refusal::NotTheirHousehold { household, .. }] if household == "h-9"
    ));
    // Someone with no household recorded cannot claim for one.
    let no_household = JOIN.replace("p1", "p2");
    assert!(matches!(
        &refusals(&[&no_household], &claim("45.50", "h-2"))[..],
        [Refusal::NotTheirHousehold { recorded, .. }] if recorded == "none is recorded"
    ));
}

/// A starter's manager, job and department, a device's make, model and
/// serial, an incident's description, severity and people affected, and the
/// regulator's reference: optional fields the estate keeps. A manager must
/// be someone the log knows.
#[test]
fn the_registers_keep_what_a_council_records_about_people_devices_and_incidents() {
    let boss = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"m1","name":"Mo","kind":"employee"}"#;
    let starter = r#"{"at":"2026-01-06T09:00:00Z","type":"person_joined","person":"e1","name":"Eve","kind":"employee","job":"Planning officer","department":"Planning","manager":"m1"}"#;
    let checked = |history: &[&str]| {
        let events: Vec<Event> = history.iter().map(|l| event(l)).collect();
        let policies = std::collections::BTreeSet::<domain::PolicyId>::new();
        fold(&events).check(&event(starter), &policies)
    };
    assert_eq!(
        checked(&[]),
        [Refusal::UnknownPerson {
            field: "manager",
            id: "m1".into()
        }]
    );
    assert!(checked(&[boss]).is_empty());
    let laptop = r#"{"at":"2026-01-06T09:00:00Z","type":"device_registered","device":"LAP-1","kind":"laptop","owner":"council","make":"Dell","model":"Latitude 5440","serial":"5CD1234XYZ"}"#;
    let breach = r#"{"at":"2026-01-07T09:00:00Z","type":"incident_reported","incident":"i1","kind":"misdirected email","discovered":"2026-01-07T08:00:00Z","personal_data":true,"description":"Payslips sent to the wrong team","severity":"high","people_affected":12}"#;
    let told = r#"{"at":"2026-01-08T09:00:00Z","type":"incident_regulator_notified","incident":"i1","reference":"IC-123456-A1B2"}"#;
    let events: Vec<Event> = [boss, starter, laptop, breach, NOTIFIABLE, told]
        .iter()
        .map(|l| event(&l.replace("2026-01-05T12:00:00Z", "2026-01-07T12:00:00Z")))
        .collect();
    let estate = fold(&events);
    let eve = &estate.people[&"e1".into()];
    assert_eq!(
        (
            eve.job.as_deref(),
            eve.department.as_deref(),
            eve.manager.as_ref().map(|m| m.as_str())
        ),
        (Some("Planning officer"), Some("Planning"), Some("m1"))
    );
    let details = estate.devices[&"LAP-1".into()]
        .details
        .clone()
        .expect("details");
    assert_eq!(details.serial.as_deref(), Some("5CD1234XYZ"));
    let incident = &estate.incidents[&"i1".into()];
    assert_eq!(incident.severity, Some(domain::Severity::High));
    assert_eq!(incident.people_affected, Some(12));
    assert_eq!(
        incident.regulator_reference.as_deref(),
        Some("IC-123456-A1B2")
    );
    // The fields round-trip through the log's canonical form.
    for e in &events {
        assert_eq!(&event(&e.to_canonical_json()), e);
    }
    let bad = parse_event(&breach.replace(r#""high""#, r#""critical""#));
    assert!(bad.is_err(), "a severity is low, medium or high");
}

/// A version number names one text for ever: approving it again is
/// refused, with when it was first approved; a text's digest must be one.
#[test]
fn a_policy_version_is_approved_once_and_names_its_text_by_digest() {
    let sha = "a".repeat(64);
    let approve = |version: &str, at: &str| {
        format!(
            r#"{{"at":"{at}","type":"policy_approved","policy":"aup","version":"{version}","body":"council","text_sha256":"{sha}"}}"#
        )
    };
    let v11 = approve("1.1", "2026-01-05T09:00:00Z");
    let v12 = approve("1.2", "2026-02-05T09:00:00Z");
    let again = approve("1.1", "2026-03-05T09:00:00Z");
    assert_eq!(
        refusals(&[&v11, &v12], &again),
        [Refusal::VersionAlreadyUsed {
            policy: "aup".into(),
            version: "1.1".into(),
            approved: "2026-01-05T09:00:00Z".parse().expect("a time"),
        }]
    );
    assert!(refusals(&[&v11], &v12).is_empty());
    let events: Vec<Event> = [&v11, &v12].iter().map(|l| event(l)).collect();
    let state = &fold(&events).policies[&"aup".into()];
    assert_eq!(state.versions.len(), 2);
    assert_eq!(state.text_sha256.as_deref(), Some(sha.as_str()));
    let mut policies = std::collections::BTreeSet::new();
    policies.insert(domain::PolicyId::from("aup"));
    let bad = event(&v11.replace(&sha, "not-a-digest"));
    assert_eq!(
        fold::<Event>(&[]).check(&bad, &policies),
        [Refusal::NotADigest("not-a-digest".into())]
    );
}

/// One rule for free text on every way in (regression: the API and import
/// took a blank name, 5,000 characters and control characters the pages
/// cannot show): not blank, no control characters (a description may break
/// lines), at most 500 characters (a description 10,000).
#[test]
fn free_text_is_held_to_one_rule_on_every_way_in() {
    let policies = std::collections::BTreeSet::<domain::PolicyId>::new();
    let joined = |name: &str| {
        let mut e = event(
            r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p1","name":"x","kind":"employee"}"#,
        );
        if let domain::EventKind::PersonJoined(j) = &mut e.kind {
            j.name = name.to_owned();
        }
        fold::<Event>(&[]).check(&e, &policies)
    };
    assert!(joined("Ada Lovelace").is_empty());
    for bad in [" ".to_owned(), "x".repeat(501), "Ada\u{7}".to_owned()] {
        let refused = joined(&bad);
        assert!(
            matches!(refused.as_slice(), [Refusal::BadText { field: "name", .. }]),
            "{bad:?}: {refused:?}"
        );
    }
    assert!(domain::estate::text_fault("description", "Line one\nline two").is_none());
    assert!(domain::estate::text_fault("reason", "Line one\nline two").is_some());
    assert!(domain::estate::text_fault("description", &"x".repeat(10_001)).is_some());
}

/// Every reason the estate refuses an event, each from the smallest history
/// that gives it: a unit test per refusal.
#[test]
fn each_refusal_of_the_estate_is_given_where_it_applies() {
    use domain::Refusal::*;
    let joined = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p1","name":"P","kind":"employee"}"#;
    let left = r#"{"at":"2026-01-06T09:00:00Z","type":"person_left","person":"p1"}"#;
    let laptop = r#"{"at":"2026-01-05T10:00:00Z","type":"device_registered","device":"d1","kind":"laptop","owner":"council"}"#;
    let issued =
        r#"{"at":"2026-01-05T11:00:00Z","type":"device_issued","device":"d1","person":"p1"}"#;
    let disposed =
        r#"{"at":"2026-01-05T12:00:00Z","type":"device_disposed","device":"d1","wiped":true}"#;
    let joined2 = r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p2","name":"Q","kind":"employee"}"#;
    let report = r#"{"at":"2026-01-05T09:00:00Z","type":"incident_reported","incident":"i9","kind":"phishing","discovered":"2026-01-05T08:00:00Z","personal_data":false}"#;
    let later = |text: &str| {
        text.replace("2026-01-05", "2026-01-07")
            .replace("2026-01-06", "2026-01-07")
    };
    // What was done, the history before it, the command, and the refusal.
    type Case<'a> = (&'a str, Vec<&'a str>, String, fn(&domain::Refusal) -> bool);
    let cases: Vec<Case> = vec![
        ("a person not introduced", vec![], later(left), |r| {
            matches!(r, UnknownPerson { .. })
        }),
        (
            "a device not registered",
            vec![joined],
            later(issued),
            |r| matches!(r, UnknownDevice(_)),
        ),
        (
            "an incident not reported",
            vec![],
            later(r#"{"at":"2026-01-05T09:00:00Z","type":"incident_closed","incident":"i1"}"#),
            |r| matches!(r, UnknownIncident(_)),
        ),
        (
            "a policy the pack lacks",
            vec![joined],
            later(
                r#"{"at":"2026-01-05T09:00:00Z","type":"policy_accepted","person":"p1","policy":"nope","version":"1"}"#,
            ),
            |r| matches!(r, UndeclaredPolicy(..)),
        ),
        ("joining twice", vec![joined], later(joined), |r| {
            matches!(r, AlreadyJoined(_))
        }),
        ("registering twice", vec![laptop], later(laptop), |r| {
            matches!(r, DeviceAlreadyRegistered(_))
        }),
        ("reporting twice", vec![report], later(report), |r| {
            matches!(r, IncidentAlreadyReported(_))
        }),
        (
            "issuing a held device",
            vec![joined, joined2, laptop, issued],
            later(&issued.replace("p1", "p2")),
            |r| matches!(r, DeviceHeld { .. }),
        ),
        (
            "returning a device nobody holds",
            vec![laptop],
            later(r#"{"at":"2026-01-05T09:00:00Z","type":"device_returned","device":"d1"}"#),
            |r| matches!(r, DeviceNotHeld(_)),
        ),
        (
            "returned by someone else",
            vec![joined, joined2, laptop, issued],
            later(
                r#"{"at":"2026-01-05T13:00:00Z","type":"device_returned","device":"d1","person":"p2"}"#,
            ),
            |r| matches!(r, WrongHolder { .. }),
        ),
        (
            "issuing a disposed device",
            vec![joined, laptop, disposed],
            later(issued),
            |r| matches!(r, DeviceDisposed(_)),
        ),
        (
            "issuing to a leaver",
            vec![joined, laptop, left],
            later(issued),
            |r| matches!(r, PersonHasLeft { .. }),
        ),
    ];
    let policies = std::collections::BTreeSet::<domain::PolicyId>::new();
    for (name, history, command, expected) in cases {
        let events: Vec<Event> = history.iter().map(|l| event(l)).collect();
        let refused = fold(&events).check(&event(&command), &policies);
        assert!(refused.iter().any(expected), "{name}: {refused:?}");
    }
}
