//! `warden explain`, `lint`, `diff` and `what-if` as a policy officer runs
//! them: a real process, the bundled packs, the committed examples, and a
//! stored council.

use serde_json::Value;
use test_utils::cli::warden;

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn explain_writes_each_rule_with_its_clause() {
    let out = warden(&["explain", "southend"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains(
        "When a councillor leaves, for each council-owned device they hold, the device is returned or reported lost within 48 hours. (Southend Councillor ICT Policy v1.0, s.3)"
    ));
    let json: Value =
        serde_json::from_slice(&warden(&["explain", "redditch", "--format", "json"]).stdout)
            .expect("JSON");
    let rules = json.as_array().expect("a list");
    assert_eq!(rules.len(), 11, "Redditch's ten rules and the baseline's");
    assert!(
        rules
            .iter()
            .all(|r| r["sentence"].as_str().is_some_and(|s| s.ends_with('.')))
    );
}

#[test]
fn lint_warns_and_fails_only_when_told_to() {
    let out = warden(&["lint", "leighton-linslade"]);
    assert_eq!(out.status.code(), Some(0), "warnings are not failures");
    let text = stdout(&out);
    assert!(
        text.contains("warning[password-expiry]: leighton-linslade.password-changed-6-months"),
        "{text}"
    );
    assert!(text.contains("https://www.ncsc.gov.uk/collection/passwords/updating-your-approach"));
    assert!(text.ends_with("leighton-linslade: 6 warnings\n"), "{text}");

    let denied = warden(&["lint", "leighton-linslade", "--deny-warnings"]);
    assert_eq!(denied.status.code(), Some(1));

    let json: Value =
        serde_json::from_slice(&warden(&["lint", "leighton-linslade", "--format", "json"]).stdout)
            .expect("JSON");
    assert_eq!(json["pack"], "leighton-linslade");
    let codes: Vec<&str> = json["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .filter_map(|w| w["code"].as_str())
        .collect();
    assert!(
        codes.contains(&"password-expiry") && codes.contains(&"no-ai-use"),
        "{codes:?}"
    );

    let missing = warden(&["lint", "no-such-pack"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stdout(&missing).is_empty());
}

#[test]
fn diff_aligns_by_what_rules_do() {
    let out = warden(&["diff", "southend", "redditch"]);
    assert_eq!(out.status.code(), Some(1), "they differ");
    let text = stdout(&out);
    assert!(
        text.contains("    within: 48 hours | 5 working days\n"),
        "{text}"
    );
    assert!(text.contains(
        "southend: southend.devices-returned-48h (Southend Councillor ICT Policy v1.0, s.3)"
    ));
    assert!(text.contains("redditch: redditch.equipment-returned-5-working-days"));

    let same = warden(&["diff", "sefton", "sefton"]);
    assert_eq!(same.status.code(), Some(0));
    assert!(stdout(&same).contains(
        "sefton vs sefton: 6 rules alike, 0 differing, 0 only in sefton, 0 only in sefton"
    ));
}

#[test]
fn what_if_a_yearly_review_over_mid_devons_log() {
    let args = [
        "what-if",
        "--events",
        "examples/mid-devon.jsonl",
        "--pack",
        "mid-devon",
        "--set",
        "mid-devon.policies-reviewed-2-years.every=12 months",
        "--at",
        "2026-12-01T00:00:00Z",
    ];
    let out = warden(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("overdue, violated or late: 0 under mid-devon, 1 under mid-devon with"),
        "{text}"
    );
    assert!(text.contains("~ open -> overdue:"), "{text}");
    assert!(
        text.contains("due 10 Nov 2026 10:00 (was due 10 Nov 2027 10:00)"),
        "{text}"
    );

    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let json: Value = serde_json::from_slice(&warden(&json_args).stdout).expect("JSON");
    assert_eq!(
        json["rules"][0]["rule"],
        "mid-devon.policies-reviewed-2-years"
    );
    assert_eq!(json["rules"][0]["failing_alternative"], 1);
}

#[test]
fn what_if_refuses_a_bad_override_and_prints_nothing() {
    for (set, expected) in [
        (
            "mid-devon.policy-reviewed-2-years.every=12 months",
            "no rule `mid-devon.policy-reviewed-2-years` in pack `mid-devon`; did you mean `mid-devon.policies-reviewed-2-years`?",
        ),
        (
            "mid-devon.policies-reviewed-2-years.within=12 months",
            "`within` is not a field of mid-devon.policies-reviewed-2-years, a recurrence rule (it takes: every, done_by, counted_from, when)",
        ),
        (
            "mid-devon.policies-reviewed-2-years.every=banana",
            "`banana` is not a duration",
        ),
        ("every=1", "expected RULE.FIELD=VALUE"),
    ] {
        let out = warden(&[
            "what-if",
            "--events",
            "examples/mid-devon.jsonl",
            "--pack",
            "mid-devon",
            "--set",
            set,
        ]);
        assert_eq!(out.status.code(), Some(2), "{set}");
        assert!(stdout(&out).is_empty(), "{set}: {}", stdout(&out));
        assert!(stderr(&out).contains(expected), "{set}: {}", stderr(&out));
    }
}

#[test]
fn what_if_a_stored_council_ran_under_another_councils_pack() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    for args in [
        vec![
            "init",
            "--db",
            &db,
            "--council",
            "md",
            "--pack",
            "mid-devon",
        ],
        vec![
            "import",
            "--db",
            &db,
            "--council",
            "md",
            "examples/mid-devon.jsonl",
            "--recorded-as-happened",
        ],
    ] {
        let out = warden(&args);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    }
    let out = warden(&[
        "what-if",
        "--db",
        &db,
        "--council",
        "md",
        "--pack",
        "redditch",
        "--at",
        "2026-04-01T00:00:00Z",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("under redditch, instead of mid-devon"),
        "{text}"
    );
    assert!(
        text.contains("mid-devon.policies-reviewed-2-years"),
        "{text}"
    );
    assert!(
        text.contains("Overdue or violated at each quarter's end"),
        "{text}"
    );

    let nothing = warden(&["what-if", "--db", &db, "--council", "md"]);
    assert_eq!(nothing.status.code(), Some(2));
    assert!(stderr(&nothing).contains("nothing to compare with"));
}
