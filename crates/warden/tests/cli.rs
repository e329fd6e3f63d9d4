//! `warden check` as a user runs it: a real process, real files.

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;

use test_utils::cli::{root, warden};

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warden-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("temp file");
    path
}

const YEAR_END: &str = "2026-03-31T17:00:00+01:00";
const COUNCILS: [&str; 5] = [
    "southend",
    "redditch",
    "sefton",
    "mid-devon",
    "leighton-linslade",
];

/// Each example's seed, chosen so that one year of 60 people exercises
/// every rule of its council's pack (the test below holds it to that).
const EXAMPLE_SEEDS: [(&str, &str); 5] = [
    ("southend", "144"),
    ("redditch", "144"),
    ("sefton", "5"),
    ("mid-devon", "2"),
    ("leighton-linslade", "8"),
];

#[test]
fn the_committed_examples_are_what_the_generator_writes() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (council, seed) in EXAMPLE_SEEDS {
        let fresh = dir.path().join(format!("{council}.jsonl"));
        let fresh_arg = fresh.to_string_lossy().into_owned();
        let args = [
            "generate",
            "--councils",
            "1",
            "--pack",
            council,
            "--people",
            "60",
            "--years",
            "1",
            "--seed",
            seed,
        ];
        let out = warden(&[&args[..], &["--out", &fresh_arg]].concat());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let path = root().join(format!("examples/{council}.jsonl"));
        let committed = std::fs::read_to_string(&path).expect("example file");
        let written = std::fs::read_to_string(&fresh).expect("generated file");
        assert!(
            committed == written,
            "{} is stale: run `cargo run -p warden -- {} --out {}`",
            path.display(),
            args.join(" "),
            path.display()
        );
        // A real year is not all booked in as it happened.
        assert!(
            committed.contains("\"recorded\":"),
            "{council}: no late record"
        );
        assert!(
            committed.contains("event_voided"),
            "{council}: no voided entry"
        );
    }
}

#[test]
fn each_example_exercises_every_rule_of_its_council_and_every_status() {
    let mut statuses = BTreeSet::new();
    for council in COUNCILS {
        let events = format!("examples/{council}.jsonl");
        let out = warden(&[
            "check", "--pack", council, "--events", &events, "--at", YEAR_END, "--format", "json",
        ]);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{council}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
        let findings = doc["findings"].as_array().expect("findings");
        let fired: BTreeSet<&str> = findings.iter().filter_map(|f| f["rule"].as_str()).collect();
        let pack =
            std::fs::read_to_string(root().join(format!("packs/{council}.toml"))).expect("pack");
        let own: Vec<&str> = pack
            .lines()
            .filter_map(|l| l.strip_prefix("id = \""))
            .filter_map(|l| l.strip_suffix('"'))
            .filter(|id| id.starts_with(&format!("{council}.")))
            .collect();
        assert!(!own.is_empty(), "{council}: no rules found");
        for rule in own {
            assert!(
                fired.contains(rule),
                "{council}: the example never exercises {rule}"
            );
        }
        statuses.extend(
            findings
                .iter()
                .filter_map(|f| f["status"].as_str().map(str::to_owned)),
        );
        let failing = findings
            .iter()
            .any(|f| matches!(f["status"].as_str(), Some("overdue" | "violated")));
        assert_eq!(
            out.status.code(),
            Some(if failing { 1 } else { 0 }),
            "{council}: exit status"
        );
    }
    let all: BTreeSet<String> = ["open", "overdue", "met", "late", "violated"]
        .map(String::from)
        .into();
    assert_eq!(statuses, all);
}

#[test]
fn json_findings_carry_every_field_with_nulls_where_they_do_not_apply() {
    let out = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        "examples/southend.jsonl",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["at"], "2026-03-31T17:00:00+01:00");
    for f in doc["findings"].as_array().expect("findings") {
        for key in [
            "rule", "status", "due", "cite", "person", "device", "policy", "incident", "resource",
        ] {
            assert!(f.get(key).is_some(), "{key} missing from {f}");
        }
        if let Some(due) = f["due"].as_str() {
            assert!(
                due.parse::<jiff::Timestamp>().is_ok(),
                "due is RFC 3339: {due}"
            );
        }
    }
}

#[test]
fn at_ignores_later_events_and_a_clean_log_exits_zero() {
    let log = temp_file(
        "clean.jsonl",
        concat!(
            r#"{"at":"2025-04-01T09:00:00+01:00","type":"person_joined","person":"c1","name":"Cllr","kind":"councillor"}"#,
            "\n",
            r#"{"at":"2025-04-01T09:10:00+01:00","type":"mfa_enrolled","person":"c1","method":"sms"}"#,
            "\n",
            r#"{"at":"2025-04-01T09:20:00+01:00","type":"access_granted","person":"c1","resource":"email"}"#,
            "\n",
            r#"{"at":"2025-06-01T09:20:00+01:00","type":"email_forwarding_detected","person":"c1","to":"c1@gmail.com"}"#,
            "\n",
        ),
    );
    let log = log.to_str().expect("utf-8 path");
    let before = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        log,
        "--at",
        "2025-05-01T00:00:00Z",
    ]);
    assert_eq!(
        before.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&before.stderr)
    );
    assert!(String::from_utf8_lossy(&before.stdout).contains("0 violated"));
    let after = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        log,
        "--at",
        "2025-07-01T00:00:00Z",
    ]);
    assert_eq!(after.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&after.stdout).contains("southend.no-mail-forwarding"));
}

#[test]
fn a_bad_log_names_file_and_line_exits_two_and_evaluates_nothing() {
    let log = temp_file(
        "bad.jsonl",
        concat!(
            r#"{"at":"2025-04-01T09:00:00+01:00","type":"person_joined","person":"c1","name":"Cllr","kind":"councillor"}"#,
            "\n",
            r#"{"at":"2025-04-01T09:10:00+01:00","type":"device_issued","device":"lap-9","person":"c1"}"#,
            "\n",
            r#"{"at":"2025-04-01T09:20:00+01:00","type":"person_left"}"#,
            "\n",
        ),
    );
    let out = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        log.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing evaluated, nothing printed");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.jsonl:2: device `lap-9` is not on the register"),
        "{stderr}"
    );
    assert!(
        stderr.contains("bad.jsonl:3: in a `person_left` event: missing field `person`"),
        "{stderr}"
    );
}

#[test]
fn a_bad_pack_names_file_line_and_column_and_exits_two() {
    let pack = temp_file(
        "broken.toml",
        "[pack]\nid = \"x\"\ncouncil = \"X\"\ntime_zone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\n[[rule]]\nid = \"r\"\ncite = \"s.1\"\nkind = \"obligation\"\non = \"person_left\"\nwithin = \"soon\"\ndischarged_by = [\"device_returned\"]\n",
    );
    let out = warden(&[
        "check",
        "--pack",
        pack.to_str().expect("utf-8"),
        "--events",
        "examples/southend.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:12:10: `soon` is not a duration"),
        "{stderr}"
    );
}

#[test]
fn bad_arguments_exit_two_with_the_reason() {
    let out = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        "examples/southend.jsonl",
        "--at",
        "tomorrow",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--at `tomorrow`"));
    let out = warden(&[
        "check",
        "--pack",
        "nowhere",
        "--events",
        "examples/southend.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no bundled pack of that name"));
    let out = warden(&["check", "--pack", "southend", "--events", "missing.jsonl"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read missing.jsonl"));
}

/// Errors reach `main` once: a command that fails says so in one place, and
/// `main` writes it once and picks the exit code (regression: the failure
/// sites printed their own errors).
#[test]
fn a_failure_is_reported_once_and_nothing_goes_to_stdout() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    let cases: [&[&str]; 3] = [
        &["check", "--pack", "southend", "--events", "missing.jsonl"],
        &["verify", "--db", &db, "--council", "c1", "--expect", "x"],
        &[
            "account",
            "add",
            "--db",
            &db,
            "--council",
            "nowhere",
            "--person",
            "p1",
            "--role",
            "ict_admin",
            "--totp-key",
            "00",
        ],
    ];
    for args in cases {
        let out = warden(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
        assert_eq!(errors, 1, "{args:?}: one error line in: {stderr}");
    }
}

#[test]
fn a_pack_file_includes_its_neighbours_from_disk() {
    let out = warden(&[
        "check",
        "--pack",
        "packs/southend.toml",
        "--events",
        "examples/southend.jsonl",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    let rules: BTreeSet<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert!(
        rules.contains("uk.breach-notified-72h"),
        "uk-baseline came in through include"
    );
}

#[test]
fn the_table_fits_an_80_column_terminal() {
    let out = warden(&[
        "check",
        "--pack",
        "leighton-linslade",
        "--events",
        "examples/leighton-linslade.jsonl",
        "--at",
        YEAR_END,
        "--verbose",
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text
        .lines()
        .position(|l| l.starts_with("OVERDUE"))
        .expect("overdue first");
    let violated = text
        .lines()
        .position(|l| l.starts_with("VIOLATED"))
        .expect("violated");
    assert!(first < violated);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "too wide: {line}");
    }
}

/// Regression: `warden check ... | head` panicked with "failed printing to
/// stdout: Broken pipe" (exit 101) once `head` had read enough.
#[test]
fn a_reader_that_stops_early_is_not_a_crash() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    // A report far bigger than a pipe's buffer, so warden is still writing
    // when the reader goes.
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("many.jsonl");
    let log = log.to_str().expect("utf-8");
    let generate = [
        "generate",
        "--councils",
        "4",
        "--people",
        "200",
        "--pack",
        "southend",
    ];
    test_utils::cli::ok(&[&generate[..], &["--out", log]].concat());
    let mut child = Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(["check", "--pack", "southend", "--events", log, "--verbose"])
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("warden runs");
    let mut first = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout")
        .read_exact(&mut first)
        .expect("some output");
    // The pipe's read end is dropped here, like `head` exiting.
    let out = child.wait_with_output().expect("warden ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        out.status.code(),
        Some(1),
        "findings still decide the exit status"
    );
}

/// The reports of the five logs in `golden/` (the examples as they were
/// before they came from `warden generate`), committed before `check` read
/// logs as a stream: the streamed reports are the same, byte for byte.
#[test]
fn the_streamed_check_prints_what_the_whole_log_printed() {
    let golden = root().join("crates/warden/tests/golden");
    for council in COUNCILS {
        let events = format!("crates/warden/tests/golden/{council}.jsonl");
        for format in ["table", "json"] {
            let runs = [
                (
                    format!("{council}.{format}"),
                    vec![YEAR_END, "2026-12-01T00:00:00Z"],
                    false,
                ),
                (
                    format!("{council}.2025-10-01.{format}"),
                    vec!["2025-10-01T12:00:00+01:00", "2025-10-01T12:00:00+01:00"],
                    true,
                ),
            ];
            for (file, instants, verbose) in runs {
                let mut args = vec![
                    "check",
                    "--pack",
                    council,
                    "--events",
                    &events,
                    "--format",
                    format,
                    "--at",
                    instants[0],
                    "--known-at",
                    instants[1],
                ];
                if verbose {
                    args.push("--verbose");
                }
                let out = warden(&args);
                let expected = std::fs::read(golden.join(&file)).expect("golden file");
                assert!(
                    out.stdout == expected,
                    "{file} differs:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
        }
    }
}

#[test]
fn a_bad_line_near_the_end_of_a_large_log_prints_nothing_and_every_bad_line_is_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("large.jsonl");
    let out = warden(&[
        "generate",
        "--councils",
        "1",
        "--people",
        "800",
        "--years",
        "2",
        "--seed",
        "3",
        "--pack",
        "southend",
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read(&file).expect("read");
    let mut lines: Vec<&[u8]> = text
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let n = lines.len();
    assert!(n > 10_000, "a large log: {n} lines");
    // Near the end: a line that is not JSON, and one that is not UTF-8.
    lines.insert(n - 3, b"{not json");
    lines.insert(
        n - 1,
        b"{\"at\":\"2026-03-30T09:00:00Z\",\"type\":\"person_joined\",\"person\":\"p\xff\"}",
    );
    let mut bad = lines.join(&b'\n');
    bad.push(b'\n');
    std::fs::write(&file, &bad).expect("write");
    let out = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        file.to_str().expect("utf-8"),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "nothing on standard output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("large.jsonl:{}: not valid JSON", n - 2)),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("large.jsonl:{}: not UTF-8 text", n)),
        "{stderr}"
    );
    assert!(stderr.contains("2 bad line(s)"), "{stderr}");
}

/// The README's walkthrough of a late record: as known on 18 November
/// 2025, Sefton's leaver had not been booked in, so the grant made after
/// they left was not yet known to break the leavers' policy; as known
/// today, it is. (The README names the dates; this keeps them true when the
/// example is regenerated.)
#[test]
fn the_readme_late_record_walkthrough_holds() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let at = "2025-11-18T23:59:59Z";
    assert!(readme.contains(&format!("--at {at} --known-at {at}")));
    let run = |known_at: Option<&str>| {
        let mut args = vec![
            "check",
            "--pack",
            "sefton",
            "--events",
            "examples/sefton.jsonl",
            "--at",
            at,
        ];
        if let Some(k) = known_at {
            args.extend(["--known-at", k]);
        }
        String::from_utf8_lossy(&warden(&args).stdout).into_owned()
    };
    assert!(!run(Some(at)).contains("sefton.no-access-after-leaving"));
    assert!(run(None).contains("sefton.no-access-after-leaving"));
}
