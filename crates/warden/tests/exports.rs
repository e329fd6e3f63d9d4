//! `warden export --format oscal-ar` and `--format csv`: every example
//! council's OSCAL assessment results validated by compliance-trestle (a
//! real OSCAL validator, from PyPI), each finding's status and evidence
//! equal to `check`'s; the CSV lists read back by Python's csv module equal
//! to the JSON; a formula typed as a name neutralised.

use std::path::{Path, PathBuf};
use std::process::Command;
use test_utils::cli::{council_from_example, import_text, ok, root, succeeded};

const EXAMPLES: [&str; 5] = [
    "southend",
    "redditch",
    "sefton",
    "mid-devon",
    "leighton-linslade",
];
const AT: &str = "2026-03-31T17:00:00+01:00";

fn trestle() -> PathBuf {
    let bin = root().join("target/venv-oscal/bin/trestle");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup (it installs compliance-trestle)",
        bin.display()
    );
    bin
}

/// Validates an assessment-results document in a trestle workspace.
fn validate(workspace: &Path, name: &str, text: &str) {
    let dir = workspace.join("assessment-results").join(name);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("assessment-results.json");
    std::fs::write(&file, text).expect("write");
    let out = Command::new(trestle())
        .current_dir(workspace)
        .args(["validate", "-f"])
        .arg(&file)
        .output()
        .expect("run trestle");
    assert!(
        out.status.success(),
        "{name}: trestle says the document is not valid OSCAL:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `check ... --format json`: exit 1 says something is overdue, which the
/// examples have.
fn check(url: &str, council: &str) -> serde_json::Value {
    let out = test_utils::cli::warden(&[
        "check",
        "--db",
        url,
        "--council",
        council,
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json(&String::from_utf8_lossy(&out.stdout))
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).expect("json")
}

/// (rule, status, subject ids, evidence ids) of each finding, sorted.
type Key = (String, String, Vec<String>, Vec<String>);

fn from_check(findings: &serde_json::Value) -> Vec<Key> {
    let mut out: Vec<Key> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let subjects = ["person", "device", "policy", "incident", "resource"]
                .iter()
                .filter_map(|k| f[*k].as_str().map(|v| format!("{k}={v}")))
                .collect();
            let mut events: Vec<String> = f["events"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e.as_str().map(str::to_owned))
                .collect();
            events.sort();
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["status"].as_str().unwrap_or_default().to_owned(),
                subjects,
                events,
            )
        })
        .collect();
    out.sort();
    out
}

fn from_oscal(doc: &serde_json::Value) -> Vec<Key> {
    let result = &doc["assessment-results"]["results"][0];
    let observations: std::collections::HashMap<&str, &str> = result["observations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| Some((o["uuid"].as_str()?, o["title"].as_str()?)))
        .collect();
    let mut out: Vec<Key> = result["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let props: Vec<(&str, &str)> = f["props"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p["name"].as_str()?, p["value"].as_str()?)))
                .collect();
            let status = props
                .iter()
                .find(|(n, _)| *n == "status")
                .map(|(_, v)| (*v).to_owned())
                .unwrap_or_default();
            let subjects = ["person", "device", "policy", "incident", "resource"]
                .iter()
                .filter_map(|k| {
                    props
                        .iter()
                        .find(|(n, _)| n == k)
                        .map(|(_, v)| format!("{k}={v}"))
                })
                .collect();
            let mut events: Vec<String> = f["related-observations"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| observations.get(r["observation-uuid"].as_str()?))
                .map(|t| (*t).to_owned())
                .collect();
            events.sort();
            // OSCAL's own two states agree with Warden's status.
            let state = f["target"]["status"]["state"].as_str().unwrap_or_default();
            let failing = matches!(status.as_str(), "overdue" | "violated" | "late");
            assert_eq!(state == "not-satisfied", failing, "{f}");
            (
                f["target"]["target-id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                status,
                subjects,
                events,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn every_example_council_exports_valid_oscal_matching_check() {
    let workspace = tempfile::tempdir().expect("workspace");
    let init = Command::new(trestle())
        .current_dir(workspace.path())
        .arg("init")
        .output()
        .expect("trestle init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    for council in EXAMPLES {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite:{}", dir.path().join("w.db").display());
        council_from_example(&url, council, council);
        let doc = ok(&[
            "export",
            "--db",
            &url,
            "--council",
            council,
            "--format",
            "oscal-ar",
            "--at",
            AT,
        ]);
        validate(workspace.path(), council, &doc);
        let doc = json(&doc);
        assert_eq!(
            doc["assessment-results"]["metadata"]["oscal-version"],
            "1.1.2"
        );
        let check = check(&url, council);
        let (oscal, check) = (from_oscal(&doc), from_check(&check));
        assert!(!check.is_empty(), "{council} has findings");
        assert_eq!(oscal, check, "{council}: OSCAL and check disagree");
    }
}

fn csv_rows(text: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("list.csv");
    std::fs::write(&file, text).expect("write");
    let out = Command::new("python3")
        .arg(root().join("crates/warden/tests/exports/csv_rows.py"))
        .arg(&file)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).expect("rows")
}

/// A JSON value as the CSV cell holds it.
fn cell(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}

#[test]
fn csv_lists_read_back_equal_to_the_json_and_formulas_are_neutralised() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    council_from_example(&url, "sefton", "sefton");
    succeeded(import_text(
        &url,
        "sefton",
        r#"{"at":"2026-03-30T09:00:00Z","type":"person_joined","person":"x-1","name":"=HYPERLINK(\"http://evil.example\",\"Click\")","kind":"employee"}
"#,
    ));
    let findings = ok(&[
        "export",
        "--db",
        &url,
        "--council",
        "sefton",
        "--format",
        "csv",
        "--what",
        "findings",
        "--at",
        AT,
    ]);
    assert!(
        findings.starts_with("rule,status,due,cite,"),
        "a header: {findings}"
    );
    let rows = csv_rows(&findings);
    let check = check(&url, "sefton");
    let expected = check["findings"].as_array().expect("findings");
    assert_eq!(rows.len(), expected.len());
    for (row, f) in rows.iter().zip(expected) {
        for field in [
            "rule", "status", "due", "cite", "person", "device", "policy", "incident", "resource",
            "settled", "recorded", "detail", "events",
        ] {
            let json = cell(&f[field]);
            let want = if json.starts_with(['=', '+', '-', '@']) {
                format!("'{json}")
            } else {
                json
            };
            assert_eq!(
                row[field].as_str().unwrap_or_default(),
                want,
                "{field} of {f}"
            );
        }
    }
    let people = csv_rows(&ok(&[
        "export",
        "--db",
        &url,
        "--council",
        "sefton",
        "--format",
        "csv",
        "--what",
        "people",
    ]));
    let injected = people
        .iter()
        .find(|p| p["id"] == "x-1")
        .expect("the person");
    assert_eq!(
        injected["name"], "'=HYPERLINK(\"http://evil.example\",\"Click\")",
        "a formula is text"
    );
    for what in ["devices", "incidents", "claims", "acceptances"] {
        let text = ok(&[
            "export",
            "--db",
            &url,
            "--council",
            "sefton",
            "--format",
            "csv",
            "--what",
            what,
        ]);
        assert!(
            text.lines().count() > 1,
            "{what}: a header and rows: {text}"
        );
    }
    let bad = test_utils::cli::warden(&[
        "export",
        "--db",
        &url,
        "--council",
        "sefton",
        "--format",
        "csv",
        "--what",
        "hats",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&bad.stderr)
            .contains("--what hats: expected one of findings, people"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
