//! The findings as an OSCAL 1.1.2 `assessment-results` document: one
//! result as of an instant, the pack's rules as the reviewed controls, each
//! finding a `finding` whose target is its rule (with its status and the
//! subject's ids), and the events behind the findings as `observations`
//! with their ids. UUIDs are version 5, made from the council, the instant
//! and what each element is, so the same question gives the same document.

use jiff::Timestamp;
use rules::eval::{Finding, Status};
use rules::pack::PolicyPack;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The namespace of Warden's UUIDs (itself a version 5 UUID of the URL).
fn namespace() -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://github.com/warden/oscal")
}

/// Props Warden adds name their namespace.
const NS: &str = "https://warden.example/ns/oscal";

/// An event behind a finding, as the document names it.
pub struct Evidence {
    /// Its id in the log: the council's own, or `#SEQ`.
    pub id: String,
    /// What it says, in the council's words.
    pub words: String,
    pub at: Timestamp,
    pub recorded: Timestamp,
}

/// What the document is about.
pub struct Assessment<'a> {
    pub council: &'a str,
    pub pack: &'a PolicyPack,
    /// The instant the findings are as of.
    pub at: Timestamp,
    /// From what had been recorded by then (None: everything).
    pub known_at: Option<Timestamp>,
    /// When the document was made.
    pub made: Timestamp,
    pub findings: &'a [Finding],
    /// An event of the log by its sequence number.
    pub event: &'a dyn Fn(u64) -> Option<Evidence>,
}

fn uuid(parts: &[&str]) -> String {
    Uuid::new_v5(&namespace(), parts.join("\u{1f}").as_bytes()).to_string()
}

fn time(t: Timestamp) -> String {
    t.to_string()
}

/// The document.
pub fn assessment_results(a: &Assessment<'_>) -> Value {
    let at = time(a.at);
    let known = a.known_at.map(time).unwrap_or_default();
    let scope = [a.council, at.as_str(), known.as_str()];
    let mut observations: BTreeMap<u64, Value> = BTreeMap::new();
    let mut findings = Vec::with_capacity(a.findings.len());
    for (index, f) in a.findings.iter().enumerate() {
        let mut related = Vec::new();
        for seq in f.events.seqs() {
            let id = uuid(&[a.council, "event", &seq.to_string()]);
            if !observations.contains_key(&seq)
                && let Some(e) = (a.event)(seq)
            {
                observations.insert(seq, observation(&id, &e));
            }
            if observations.contains_key(&seq) {
                related.push(json!({ "observation-uuid": id }));
            }
        }
        findings.push(finding(a, f, index, &scope, related));
    }
    let controls: Vec<Value> = a
        .pack
        .rules
        .iter()
        .map(|r| json!({ "control-id": r.id }))
        .collect();
    let description = match a.known_at {
        Some(k) => format!(
            "Every rule of the {} policy pack evaluated over the council's event log as of {at}, from what had been recorded by {}.",
            a.pack.id,
            time(k)
        ),
        None => format!(
            "Every rule of the {} policy pack evaluated over the council's event log as of {at}.",
            a.pack.id
        ),
    };
    let mut result = json!({
        "uuid": uuid(&[&scope[..], &["result"]].concat()),
        "title": format!("{}: policy compliance as of {at}", a.pack.council),
        "description": description,
        "start": at,
        "reviewed-controls": {
            "control-selections": [{ "include-controls": controls }]
        },
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations.into_values().collect());
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    json!({
        "assessment-results": {
            "uuid": uuid(&[&scope[..], &["document"]].concat()),
            "metadata": {
                "title": format!("{}: assessment results", a.pack.council),
                "last-modified": time(a.made),
                "version": at,
                "oscal-version": "1.1.2",
                "props": [
                    { "name": "council", "ns": NS, "value": a.council },
                    { "name": "policy-pack", "ns": NS, "value": a.pack.id },
                ],
            },
            "import-ap": { "href": format!("#{}", a.pack.id) },
            "results": [result],
        }
    })
}

fn observation(uuid: &str, e: &Evidence) -> Value {
    json!({
        "uuid": uuid,
        "title": e.id,
        "description": e.words,
        "props": [
            { "name": "event-id", "ns": NS, "value": e.id },
            { "name": "happened", "ns": NS, "value": time(e.at) },
        ],
        "methods": ["EXAMINE"],
        "types": ["finding"],
        "collected": time(e.recorded),
    })
}

/// OSCAL's two states, and why: met in time, running and not yet due, or
/// failed (overdue, broken, or done late).
fn state(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Met => ("satisfied", "pass"),
        Status::Open => ("satisfied", "other"),
        Status::Overdue | Status::Violated | Status::Late => ("not-satisfied", "fail"),
    }
}

fn finding(
    a: &Assessment<'_>,
    f: &Finding,
    index: usize,
    scope: &[&str],
    related: Vec<Value>,
) -> Value {
    let (state, reason) = state(f.status);
    let c = &f.concerns;
    let mut props = vec![json!({ "name": "status", "ns": NS, "value": f.status.name() })];
    for (name, id) in [
        ("person", &c.person),
        ("device", &c.device),
        ("policy", &c.policy),
        ("incident", &c.incident),
        ("resource", &c.resource),
    ] {
        if let Some(id) = id {
            props.push(json!({ "name": name, "ns": NS, "value": id.as_str() }));
        }
    }
    if let Some(due) = f.due {
        props.push(json!({ "name": "due", "ns": NS, "value": time(due) }));
    }
    if let Some(rule) = a.pack.rule(&f.rule) {
        for control in rule.controls.iter().flatten() {
            props.push(json!({ "name": control.framework.key(), "ns": NS, "value": control.id }));
        }
    }
    let mut value = json!({
        "uuid": uuid(&[scope, &["finding", &index.to_string(), &f.rule]].concat()),
        "title": a.pack.rule_sentence(&f.rule),
        "description": format!("{} ({})", f.sentence_in_words(), f.cite),
        "props": props,
        "target": {
            "type": "objective-id",
            "target-id": f.rule.as_str(),
            "status": { "state": state, "reason": reason },
        },
    });
    if !related.is_empty() {
        value["related-observations"] = Value::Array(related);
    }
    value
}
