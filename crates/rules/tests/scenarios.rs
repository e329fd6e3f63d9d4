//! Every rule of every pack against a small log of its own: the statuses it
//! reaches and the exact `due` instants, at several evaluation instants.
//! Scenarios live in `tests/scenarios/<pack>/<rule>.toml`; the last test
//! fails if a rule has no scenario reaching every status its kind can reach.

use test_utils::packs;

use jiff::Timestamp;
use packs::{PACKS, calendar, pack, repo_root};
use rules::pack::RuleKind;
use rules::{Finding, Status, evaluate_as_known};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    pack: String,
    rule: String,
    events: String,
    expect: Vec<Expect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    at: Timestamp,
    /// Only what had been recorded by then (default: everything).
    known_at: Option<Timestamp>,
    findings: Vec<Expected>,
}

#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
struct Expected {
    status: String,
    due: Option<Timestamp>,
    person: Option<String>,
    device: Option<String>,
    policy: Option<String>,
    incident: Option<String>,
    resource: Option<String>,
    /// When the settling event was recorded, where it says.
    recorded: Option<Timestamp>,
}

impl From<&Finding> for Expected {
    fn from(f: &Finding) -> Self {
        Expected {
            status: f.status.name().to_owned(),
            due: f.due,
            person: f.concerns.person.as_deref().map(str::to_owned),
            device: f.concerns.device.as_deref().map(str::to_owned),
            policy: f.concerns.policy.as_deref().map(str::to_owned),
            incident: f.concerns.incident.as_deref().map(str::to_owned),
            resource: f.concerns.resource.as_deref().map(str::to_owned),
            recorded: f.recorded(),
        }
    }
}

fn scenario_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for pack in PACKS {
        let dir = repo_root().join("crates/rules/tests/scenarios").join(pack);
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("directory entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Runs one scenario; returns the rule and the statuses it saw.
fn run(path: &PathBuf) -> (String, BTreeSet<String>) {
    let text = std::fs::read_to_string(path).expect("scenario file");
    let scenario: Scenario =
        toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let pack = pack(&scenario.pack);
    assert!(
        pack.rules.iter().any(|r| r.id == scenario.rule),
        "{}: pack {} has no rule {}",
        path.display(),
        scenario.pack,
        scenario.rule
    );
    let log = domain::read_log(&scenario.events, &pack)
        .unwrap_or_else(|e| panic!("{}: the scenario's log is bad: {e:#?}", path.display()));
    let events: Vec<_> = log.into_iter().map(|l| l.event).collect();
    let calendar = calendar(&pack);
    let mut seen = BTreeSet::new();
    for expect in &scenario.expect {
        let mut got: Vec<Expected> =
            evaluate_as_known(&pack, &calendar, &events, expect.at, expect.known_at)
                .iter()
                .filter(|f| *f.rule == *scenario.rule)
                .map(Expected::from)
                .collect();
        let mut want = expect.findings.clone();
        got.sort();
        want.sort();
        assert_eq!(
            got,
            want,
            "{} as of {}, known at {:?}",
            path.display(),
            expect.at,
            expect.known_at
        );
        seen.extend(got.into_iter().map(|f| f.status));
    }
    (scenario.rule, seen)
}

#[test]
fn every_scenario_gets_exactly_its_expected_findings() {
    let files = scenario_files();
    assert!(!files.is_empty(), "no scenarios found");
    for path in &files {
        run(path);
    }
}

#[test]
fn every_rule_reaches_every_status_of_its_kind_in_some_scenario() {
    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in scenario_files() {
        let (rule, statuses) = run(&path);
        seen.entry(rule).or_default().extend(statuses);
    }
    let mut missing = Vec::new();
    for name in PACKS {
        for rule in pack(name).rules.iter().filter(|r| r.pack == name) {
            let reachable: &[Status] = match &rule.kind {
                // A loss report discharges the clock it starts, so the clock is
                // never seen running: only met or late.
                RuleKind::Obligation(o)
                    if o.discharged_by.iter().any(|m| m.event == o.trigger.event) =>
                {
                    &[Status::Met, Status::Late]
                }
                RuleKind::Obligation(_) | RuleKind::Recurrence(_) => {
                    &[Status::Open, Status::Overdue, Status::Met, Status::Late]
                }
                RuleKind::Precondition(_) | RuleKind::Permission(_) | RuleKind::Limit(_) => {
                    &[Status::Met, Status::Violated]
                }
                RuleKind::Prohibition(_) => &[Status::Violated],
            };
            let got = seen.get(&rule.id).cloned().unwrap_or_default();
            for status in reachable {
                if !got.contains(status.name()) {
                    missing.push(format!("{} never reaches {status}", rule.id));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "rules without a scenario for a status:\n{}",
        missing.join("\n")
    );
}
