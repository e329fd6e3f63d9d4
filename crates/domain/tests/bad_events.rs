//! Malformed logs: each case is a log, the line the error must name, and
//! words the message must contain. Nothing is returned for a bad log.

use domain::{PolicyId, read_log};
use std::collections::BTreeSet;

const JOIN: &str = r#"{"at":"2025-04-01T09:00:00+01:00","type":"person_joined","person":"p1","name":"A","kind":"employee"}"#;
const DEVICE: &str = r#"{"at":"2025-04-01T09:00:00+01:00","type":"device_registered","device":"d1","kind":"laptop","owner":"council"}"#;

fn policies() -> BTreeSet<PolicyId> {
    [PolicyId::from("members-ict")].into_iter().collect()
}

#[test]
fn each_malformed_line_is_named_with_its_reason() {
    let cases: &[(&str, &str, usize, &str)] = &[
        ("not JSON", "{oops", 1, "not valid JSON"),
        ("not an object", "[1,2]", 1, "expected a JSON object"),
        (
            "no type",
            r#"{"at":"2025-04-01T09:00:00Z","person":"p1"}"#,
            1,
            "missing `type`",
        ),
        (
            "unknown type",
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_fired","person":"p1"}"#,
            1,
            "unknown event type `person_fired`",
        ),
        (
            "no at",
            r#"{"type":"person_left","person":"p1"}"#,
            1,
            "missing `at`",
        ),
        (
            "at without offset",
            r#"{"at":"2025-04-01T09:00:00","type":"person_left","person":"p1"}"#,
            1,
            "not an RFC 3339 timestamp with an offset",
        ),
        (
            "at not a date",
            r#"{"at":"yesterday","type":"person_left","person":"p1"}"#,
            1,
            "\"yesterday\"",
        ),
        (
            "at a number",
            r#"{"at":1712000000,"type":"person_left","person":"p1"}"#,
            1,
            "`at` is 1712000000",
        ),
        (
            "missing field",
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_joined","person":"p1","kind":"employee"}"#,
            1,
            "missing field `name`",
        ),
        (
            "mistyped field",
            r#"{"at":"2025-04-01T09:00:00Z","type":"device_lost","device":"d1","discovered":"2025-04-01T08:00:00Z","stolen":"yes"}"#,
            1,
            "invalid type: string \"yes\", expected a boolean",
        ),
        (
            "unknown field",
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","persn":"p1"}"#,
            1,
            "unknown field `persn`",
        ),
        (
            "bad enum",
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"volunteer"}"#,
            1,
            "unknown variant `volunteer`",
        ),
        (
            "bad amount",
            r#"{"at":"2025-04-01T09:00:00Z","type":"expense_claimed","person":"p1","category":"broadband","amount":"£100","household":"h"}"#,
            1,
            "not an amount in pounds",
        ),
        (
            "bad date",
            r#"{"at":"2025-04-01T09:00:00Z","type":"device_registered","device":"d1","kind":"laptop","owner":"council","acquired":"2025-02-30"}"#,
            1,
            "in a `device_registered` event",
        ),
        (
            "unknown person",
            r#"{"at":"2025-04-01T09:00:00Z","type":"person_left","person":"ghost"}"#,
            1,
            "person `ghost` is not a person the log has introduced",
        ),
        (
            "unknown device",
            r#"{"at":"2025-04-01T09:00:00Z","type":"device_disposed","device":"d9","wiped":true}"#,
            1,
            "device `d9` is not on the register",
        ),
        (
            "unknown incident",
            r#"{"at":"2025-04-01T09:00:00Z","type":"incident_closed","incident":"i9"}"#,
            1,
            "incident `i9` has not been reported",
        ),
        (
            "undeclared policy",
            r#"{"at":"2025-04-01T09:00:00Z","type":"policy_reviewed","policy":"cookies"}"#,
            1,
            "policy `cookies` is not declared by the pack (declared: members-ict)",
        ),
    ];
    for (name, line, at_line, words) in cases {
        let errors = read_log(line, &policies()).expect_err(name);
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert_eq!(errors[0].line, *at_line, "{name}");
        let message = errors[0].to_string();
        assert!(
            message.contains(words),
            "{name}: `{message}` should contain `{words}`"
        );
        assert!(
            message.starts_with(&format!("line {at_line}: ")),
            "{name}: {message}"
        );
    }
}

#[test]
fn state_errors_name_the_line_where_the_event_does_not_fit() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "out of order",
            r#"{"at":"2025-03-01T09:00:00Z","type":"person_left","person":"p1"}"#,
            "earlier than the event on line 2",
        ),
        (
            "joined twice",
            r#"{"at":"2025-04-02T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"employee"}"#,
            "already joined",
        ),
        (
            "registered twice",
            r#"{"at":"2025-04-02T09:00:00Z","type":"device_registered","device":"d1","kind":"laptop","owner":"council"}"#,
            "already on the register",
        ),
        (
            "returned, never issued",
            r#"{"at":"2025-04-02T09:00:00Z","type":"device_returned","device":"d1"}"#,
            "not issued to anyone",
        ),
        (
            "unknown approver",
            r#"{"at":"2025-04-02T09:00:00Z","type":"device_removal_approved","device":"d1","approved_by":"boss"}"#,
            "approved_by `boss`",
        ),
        (
            "unknown by",
            r#"{"at":"2025-04-02T09:00:00Z","type":"password_changed","person":"p1","by":"admin"}"#,
            "by `admin`",
        ),
    ];
    for (name, line, words) in cases {
        let log = format!("{JOIN}\n{DEVICE}\n{line}\n");
        let errors = read_log(&log, &policies()).expect_err(name);
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        assert_eq!(errors[0].line, 3, "{name}");
        assert!(
            errors[0].to_string().contains(words),
            "{name}: {}",
            errors[0]
        );
    }
}

#[test]
fn a_device_held_by_one_person_cannot_be_issued_to_another() {
    let log = format!(
        "{JOIN}\n{DEVICE}\n{}\n{}\n{}\n",
        r#"{"at":"2025-04-02T09:00:00Z","type":"person_joined","person":"p2","name":"B","kind":"employee"}"#,
        r#"{"at":"2025-04-02T10:00:00Z","type":"device_issued","device":"d1","person":"p1"}"#,
        r#"{"at":"2025-04-02T11:00:00Z","type":"device_issued","device":"d1","person":"p2"}"#,
    );
    let errors = read_log(&log, &policies()).expect_err("held elsewhere");
    assert_eq!(errors[0].line, 5);
    assert!(
        errors[0].to_string().contains("held by `p1`"),
        "{}",
        errors[0]
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let log = format!(
        "{JOIN}\nnot json\n\n{}\n{}\n",
        r#"{"at":"2025-04-02T09:00:00Z","type":"nope"}"#,
        r#"{"at":"2025-04-03T09:00:00Z","type":"person_left","person":"ghost"}"#,
    );
    let errors = read_log(&log, &policies()).expect_err("three bad lines");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 4, 5], "blank line 3 is allowed; {errors:?}");
}

#[test]
fn a_byte_order_mark_and_crlf_line_ends_are_accepted() {
    let log = format!("\u{feff}{JOIN}\r\n{DEVICE}\r\n");
    let events = read_log(&log, &policies()).expect("sound");
    assert_eq!(events.len(), 2);
}

#[test]
fn a_sound_log_reads_with_its_line_numbers() {
    let log = format!("{JOIN}\n\n{DEVICE}\n");
    let events = read_log(&log, &policies()).expect("sound");
    assert_eq!(
        events.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![1, 3]
    );
}

/// One rule for ids, whatever way they come in (a file, an import, the
/// API): what a page could not show or put in an address is refused where
/// it is read, naming the line and what an id may be (regression: the API
/// and `import` took `""`, `" "`, `..`, `SL/ASH-1` and 5,000 characters that
/// the forms refuse).
#[test]
fn an_id_a_page_could_not_show_is_refused_on_every_way_in() {
    let long = "x".repeat(5000);
    let bad = ["", " ", "..", "SL/ASH-1", "a b", "p1\n", long.as_str()];
    for id in bad {
        let line = format!(
            r#"{{"at":"2025-04-01T09:00:00Z","type":"device_registered","device":{},"kind":"laptop","owner":"council"}}"#,
            serde_json::to_string(id).expect("json")
        );
        let errors = read_log(&line, &policies()).expect_err(&format!("{id:?} refused"));
        assert_eq!(errors[0].line, 1);
        let message = errors[0].error.to_string();
        assert!(
            message.contains("an id of 1 to 64 letters, digits"),
            "{id:?}: {message}"
        );
        assert!(
            message.len() < 400,
            "the message does not repeat a long id: {message}"
        );
    }
    // A resource may be a path of such names.
    let grant = |resource: &str| {
        format!(
            "{JOIN}\n{{\"at\":\"2025-04-02T09:00:00Z\",\"type\":\"access_granted\",\"person\":\"p1\",\"resource\":{}}}",
            serde_json::to_string(resource).expect("json")
        )
    };
    assert!(read_log(&grant("restricted/finance"), &policies()).is_ok());
    for resource in ["restricted//finance", "/finance", "restricted/..", "a b"] {
        let errors = read_log(&grant(resource), &policies()).expect_err(resource);
        assert_eq!(errors[0].line, 2, "{resource}");
        assert!(
            errors[0].error.to_string().contains("joined by '/'"),
            "{resource}"
        );
    }
}
