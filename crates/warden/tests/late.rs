//! Late records and corrections as a user meets them on the command line:
//! a file checked as of a day, a stored log asked what it said on a past
//! day after later corrections, and a void that takes a finding away while
//! the chain stays sound.

use test_utils::cli::{import_text, ok, succeeded, warden};

/// A Friday leaver recorded on Monday; the laptop handed back on Saturday,
/// booked in on Monday before the leaving was.
const FRIDAY_LEAVER: &str = concat!(
    r#"{"at":"2026-11-02T09:00:00Z","recorded":"2026-11-02T09:00:00Z","type":"person_joined","person":"c1","name":"Cllr One","kind":"councillor"}"#,
    "\n",
    r#"{"at":"2026-11-02T09:05:00Z","recorded":"2026-11-02T09:05:00Z","type":"device_registered","device":"lap-1","kind":"laptop","owner":"council"}"#,
    "\n",
    r#"{"at":"2026-11-02T09:06:00Z","recorded":"2026-11-02T09:06:00Z","type":"device_issued","device":"lap-1","person":"c1"}"#,
    "\n",
    r#"{"id":"ret-1","at":"2026-11-28T10:00:00Z","recorded":"2026-11-30T09:00:00Z","type":"device_returned","device":"lap-1","person":"c1"}"#,
    "\n",
    r#"{"at":"2026-11-27T17:00:00Z","recorded":"2026-11-30T09:05:00Z","type":"person_left","person":"c1","reason":"resigned"}"#,
    "\n",
);

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// The finding of one rule about one device.
fn finding<'a>(
    doc: &'a serde_json::Value,
    rule: &str,
    device: &str,
) -> Option<&'a serde_json::Value> {
    doc["findings"]
        .as_array()?
        .iter()
        .find(|f| f["rule"] == rule && f["device"] == device)
}

#[test]
fn a_late_record_settles_in_time_and_says_when_it_was_recorded() {
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("late.jsonl");
    std::fs::write(&file, FRIDAY_LEAVER).expect("write");
    let file = file.to_str().expect("utf-8");
    let check = |extra: &[&str]| {
        let mut args = vec![
            "check", "--pack", "southend", "--events", file, "--format", "json",
        ];
        args.extend_from_slice(extra);
        json(&String::from_utf8_lossy(&warden(&args).stdout))
    };
    let now = check(&["--at", "2026-11-30T12:00:00Z"]);
    let met = finding(&now, "southend.devices-returned-48h", "lap-1").expect("a finding");
    assert_eq!(met["status"], "met", "{met}");
    assert_eq!(met["due"], "2026-11-29T17:00:00+00:00");
    assert_eq!(met["settled"], "2026-11-28T10:00:00+00:00");
    assert_eq!(met["recorded"], "2026-11-30T09:00:00+00:00");
    assert_eq!(met["events"], serde_json::json!(["#5", "ret-1"]), "{met}");
    assert!(
        met["detail"].as_str().is_some_and(
            |d| d.ends_with("discharged in time by device_returned; recorded 1 day later")
        ),
        "{met}"
    );
    // What Warden knew on the Monday before the leaving was recorded: no clock.
    let then = check(&[
        "--at",
        "2026-11-30T09:01:00Z",
        "--known-at",
        "2026-11-30T09:01:00Z",
    ]);
    assert!(
        finding(&then, "southend.devices-returned-48h", "lap-1").is_none(),
        "{then}"
    );
    // The table says it too.
    let table = ok(&[
        "check",
        "--pack",
        "southend",
        "--events",
        file,
        "--at",
        "2026-11-30T12:00:00Z",
        "--verbose",
    ]);
    assert!(table.contains("recorded 1 day"), "{table}");
}

#[test]
fn known_at_gives_what_warden_said_on_a_past_day_after_later_corrections() {
    let dir = tempfile::tempdir().expect("temp");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    ok(&["init", "--db", &db, "--council", "s", "--pack", "southend"]);
    // What was recorded by Friday 27 November: a councillor with a laptop,
    // and their leaving that Friday afternoon.
    succeeded(import_text(
        &db,
        "s",
        concat!(
            r#"{"at":"2026-11-02T09:00:00Z","recorded":"2026-11-02T09:00:00Z","type":"person_joined","person":"c1","name":"Cllr One","kind":"councillor"}"#,
            "\n",
            r#"{"at":"2026-11-02T09:05:00Z","recorded":"2026-11-02T09:05:00Z","type":"device_registered","device":"lap-1","kind":"laptop","owner":"council"}"#,
            "\n",
            r#"{"id":"issue-1","at":"2026-11-02T09:06:00Z","recorded":"2026-11-02T09:06:00Z","type":"device_issued","device":"lap-1","person":"c1"}"#,
            "\n",
            r#"{"at":"2026-11-27T17:00:00Z","recorded":"2026-11-27T17:30:00Z","type":"person_left","person":"c1"}"#,
            "\n",
        ),
    ));
    let sunday = [
        "--at",
        "2026-11-29T23:59:59Z",
        "--known-at",
        "2026-11-29T23:59:59Z",
    ];
    let said = |db: &str| {
        let mut args = vec!["check", "--db", db, "--council", "s", "--format", "json"];
        args.extend_from_slice(&sunday);
        String::from_utf8_lossy(&warden(&args).stdout).into_owned()
    };
    let before = said(&db);
    let open = json(&before);
    let clock = finding(&open, "southend.devices-returned-48h", "lap-1").expect("the clock");
    assert_eq!(
        clock["status"], "overdue",
        "due at 17:00 on Sunday: {clock}"
    );

    // On Monday the return is booked in, dated Saturday; the issue turns out
    // to have been recorded against the wrong date, and is voided and
    // recorded again.
    succeeded(import_text(
        &db,
        "s",
        concat!(
            r#"{"at":"2026-11-28T10:00:00Z","recorded":"2026-11-30T09:00:00Z","type":"device_returned","device":"lap-1","person":"c1"}"#,
            "\n",
            r#"{"at":"2026-11-30T09:10:00Z","recorded":"2026-11-30T09:10:00Z","type":"password_changed","person":"c1"}"#,
            "\n",
        ),
    ));
    let after = json(&said(&db));
    assert_eq!(
        after["findings"], open["findings"],
        "what Warden said on Sunday does not change"
    );
    // The Saturday return, recorded on Monday, is left out, and said to be.
    assert_eq!(after["left_out"], 1, "{after}");
    assert!(open.get("left_out").is_none(), "{open}");

    // As known now, the same Sunday reads differently: the laptop was back.
    let now = json(&ok(&[
        "check",
        "--db",
        &db,
        "--council",
        "s",
        "--format",
        "json",
        "--at",
        "2026-11-29T23:59:59Z",
    ]));
    let met = finding(&now, "southend.devices-returned-48h", "lap-1").expect("met");
    assert_eq!(met["status"], "met", "{met}");
}

#[test]
fn a_void_takes_its_event_out_of_the_findings_and_the_chain_stays_sound() {
    let dir = tempfile::tempdir().expect("temp");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    ok(&["init", "--db", &db, "--council", "s", "--pack", "southend"]);
    succeeded(import_text(&db, "s", FRIDAY_LEAVER));
    let check = || {
        json(&ok(&[
            "check",
            "--db",
            &db,
            "--council",
            "s",
            "--format",
            "json",
            "--at",
            "2026-11-30T12:00:00Z",
        ]))
    };
    assert!(finding(&check(), "southend.devices-returned-48h", "lap-1").is_some());
    // The leaving was recorded against the wrong councillor: void it.
    let out = succeeded(import_text(
        &db,
        "s",
        r##"{"at":"2026-11-30T10:00:00Z","type":"event_voided","event":"#5","reason":"wrong councillor"}"##,
    ));
    assert!(out.contains("appended 1 events"), "{out}");
    assert!(
        finding(&check(), "southend.devices-returned-48h", "lap-1").is_none(),
        "the leaving's clock is gone with it"
    );
    let verified = ok(&["verify", "--db", &db]);
    assert!(verified.contains("s: 6 events, chain sound"), "{verified}");
    let exported = ok(&["export", "--db", &db, "--council", "s"]);
    assert!(
        exported.contains(r##""event":"#5""##),
        "the void is in the log: {exported}"
    );
    assert!(
        exported.contains(r#""person_left""#),
        "and so is what it voided"
    );

    // Voiding the joining is refused: later events stand on it.
    let out = import_text(
        &db,
        "s",
        r##"{"at":"2026-11-30T10:05:00Z","type":"event_voided","event":"#1","reason":"test"}"##,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("depends on it"), "{stderr}");
    // A void of what is already voided is refused too.
    let out = import_text(
        &db,
        "s",
        r##"{"at":"2026-11-30T10:05:00Z","type":"event_voided","event":"#5","reason":"again"}"##,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already voided by #6"));
}

#[test]
fn import_records_now_and_says_how_many_broke_a_rule_at_the_time() {
    let dir = tempfile::tempdir().expect("temp");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    ok(&["init", "--db", &db, "--council", "s", "--pack", "southend"]);
    // Southend requires MFA before access: history that broke it goes in,
    // as a violated finding, and the import says so.
    let out = succeeded(import_text(
        &db,
        "s",
        concat!(
            r#"{"at":"2026-11-02T09:00:00Z","type":"person_joined","person":"c1","name":"Cllr One","kind":"councillor"}"#,
            "\n",
            r#"{"at":"2026-11-02T09:05:00Z","type":"access_granted","person":"c1","resource":"email"}"#,
            "\n",
        ),
    ));
    assert!(out.contains("appended 2 events"), "{out}");
    assert!(
        out.contains("1 of them broke a rule of the pack when they happened"),
        "{out}"
    );
    let exported = ok(&["export", "--db", &db, "--council", "s"]);
    assert_eq!(exported.matches(r#""recorded":""#).count(), 2, "{exported}");
}

/// A file of next winter's scenarios: a councillor leaves two days before
/// Christmas 2027 and the laptop is never handed back.
const NEXT_CHRISTMAS: &str = concat!(
    r#"{"at":"2027-12-01T09:00:00Z","type":"person_joined","person":"c1","name":"Cllr One","kind":"councillor"}"#,
    "\n",
    r#"{"at":"2027-12-01T09:05:00Z","type":"device_registered","device":"lap-1","kind":"laptop","owner":"council"}"#,
    "\n",
    r#"{"at":"2027-12-01T09:06:00Z","type":"device_issued","device":"lap-1","person":"c1"}"#,
    "\n",
    r#"{"at":"2027-12-23T17:00:00Z","type":"person_left","person":"c1","reason":"resigned"}"#,
    "\n",
);

/// Regression: `--known-at` used to default to now over a file too, so a
/// file dated after today reported "0 findings" and exited 0.
#[test]
fn a_file_dated_after_today_is_checked_whole_and_known_at_says_what_it_left_out() {
    let dir = std::env::temp_dir().join(format!("warden-future-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("next-christmas.jsonl");
    std::fs::write(&file, NEXT_CHRISTMAS).expect("written");
    let path = file.to_str().expect("utf-8 path");
    let args = [
        "check",
        "--pack",
        "southend",
        "--events",
        path,
        "--at",
        "2028-01-03T12:00:00Z",
    ];
    let out = warden(&[&args[..], &["--format", "json"]].concat());
    assert_eq!(out.status.code(), Some(1), "the laptop is overdue");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    let overdue = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .any(|f| f["device"] == "lap-1" && f["status"] == "overdue");
    assert!(overdue, "{doc}");
    assert!(doc.get("left_out").is_none(), "nothing left out: {doc}");

    // Known only up to 10 December 2027: the leaving is left out, and said.
    let known = ["--known-at", "2027-12-10T00:00:00Z"];
    let out = warden(&[&args[..], &known, &["--format", "json"]].concat());
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(doc["left_out"], 1, "{doc}");
    assert_eq!(doc["known_at"], "2027-12-10T00:00:00+00:00", "{doc}");
    let table = String::from_utf8_lossy(&warden(&[&args[..], &known].concat()).stdout).into_owned();
    assert!(
        table.contains("1 event recorded after 00:00 on 10 Dec 2027 left out"),
        "{table}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
