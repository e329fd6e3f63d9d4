//! The same four rules three ways, and the one shape their findings are
//! compared in: (council, rule, status, due, settled, person, device,
//! policy, incident), times in whole seconds.

use domain::{Event, EventKind};
use rules::{Finding, PolicyPack};
use rusqlite::{Connection, params};
use serde_json::{Map, Value, json};

pub const SQL: &str = include_str!("../sql/compare.sql");
pub const REGO: &str = include_str!("../rego/compare.rego");

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub council: String,
    pub rule: String,
    pub status: String,
    pub due: Option<i64>,
    pub settled: Option<i64>,
    pub person: Option<String>,
    pub device: Option<String>,
    pub policy: Option<String>,
    pub incident: Option<String>,
}

pub fn from_warden(council: &str, f: &Finding) -> Row {
    Row {
        council: council.to_owned(),
        rule: f.rule.to_string(),
        status: f.status.name().to_owned(),
        due: f.due.map(|t| t.as_second()),
        settled: f.settled.map(|t| t.as_second()),
        person: f.concerns.person.as_deref().map(str::to_owned),
        device: f.concerns.device.as_deref().map(str::to_owned),
        policy: f.concerns.policy.as_deref().map(str::to_owned),
        incident: f.concerns.incident.as_deref().map(str::to_owned),
    }
}

/// Every council's events in one table, as a council's reporting database
/// would hold them, with the indexes the queries need.
pub fn load_sqlite(
    logs: &[(String, Vec<Event>)],
    offsets: &[(i64, i64)],
) -> rusqlite::Result<Connection> {
    let db = Connection::open_in_memory()?;
    db.execute_batch(
        "CREATE TABLE events (
            seq INTEGER PRIMARY KEY, council TEXT NOT NULL, type TEXT NOT NULL,
            at INTEGER NOT NULL, person TEXT, device TEXT, incident TEXT, policy TEXT,
            kind TEXT, owner TEXT, personal_data INTEGER, discovered INTEGER,
            notifiable INTEGER, category TEXT, household TEXT);
         CREATE TABLE utc_offsets (from_at INTEGER PRIMARY KEY, offset INTEGER NOT NULL);",
    )?;
    let tx = db.unchecked_transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO events VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?;
        let mut seq = 0i64;
        for (council, log) in logs {
            for e in log {
                seq += 1;
                let k = &e.kind;
                let (mut kind, mut owner, mut personal, mut discovered) = (None, None, None, None);
                let (mut notifiable, mut category, mut household) = (None, None, None);
                match k {
                    EventKind::PersonJoined(j) => kind = Some(person_kind(j.kind)),
                    EventKind::DeviceRegistered(r) => {
                        owner = Some(match r.owner {
                            domain::DeviceOwner::Council => "council",
                            domain::DeviceOwner::Personal => "personal",
                        })
                    }
                    EventKind::IncidentReported(r) => {
                        personal = Some(r.personal_data);
                        discovered = Some(r.discovered.as_second());
                    }
                    EventKind::DeviceLost(l) => discovered = Some(l.discovered.as_second()),
                    EventKind::IncidentAssessed(a) => notifiable = Some(a.notifiable),
                    EventKind::ExpenseClaimed(c) => {
                        category = Some(c.category.as_str());
                        household = Some(c.household.as_str());
                    }
                    _ => {}
                }
                insert.execute(params![
                    seq,
                    council,
                    k.event_type().name(),
                    e.at.as_second(),
                    k.person().map(|p| p.as_str()),
                    k.device().map(|d| d.as_str()),
                    k.incident().map(|i| i.as_str()),
                    k.policy().map(|p| p.as_str()),
                    kind,
                    owner,
                    personal,
                    discovered,
                    notifiable,
                    category,
                    household,
                ])?;
            }
        }
        let mut offset = tx.prepare("INSERT INTO utc_offsets VALUES (?1, ?2)")?;
        for (from, seconds) in offsets {
            offset.execute(params![from, seconds])?;
        }
    }
    tx.commit()?;
    db.execute_batch(
        "CREATE INDEX events_type ON events (type);
         CREATE INDEX events_person ON events (person, seq);
         CREATE INDEX events_device ON events (device, seq);
         CREATE INDEX events_incident ON events (incident, seq);
         ANALYZE;",
    )?;
    Ok(db)
}

fn person_kind(kind: domain::PersonKind) -> &'static str {
    match kind {
        domain::PersonKind::Councillor => "councillor",
        domain::PersonKind::Employee => "employee",
        domain::PersonKind::ThirdParty => "third_party",
    }
}

pub fn run_sql(db: &Connection, now: i64) -> rusqlite::Result<Vec<Row>> {
    let mut query = db.prepare(SQL)?;
    let rows = query.query_map(rusqlite::named_params! {":now": now}, |r| {
        Ok(Row {
            council: r.get(0)?,
            rule: r.get(1)?,
            status: r.get(2)?,
            due: r.get(3)?,
            settled: r.get(4)?,
            person: r.get(5)?,
            device: r.get(6)?,
            policy: r.get(7)?,
            incident: r.get(8)?,
        })
    })?;
    rows.collect()
}

/// One council's log as the Rego policy's input document.
pub fn rego_input(log: &[Event], now: i64) -> String {
    let events: Vec<Value> = log
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut fields = match e.kind.to_fields() {
                Value::Object(map) => map,
                _ => Map::new(),
            };
            fields.insert("type".into(), json!(e.kind.event_type().name()));
            fields.insert("seq".into(), json!(i + 1));
            fields.insert("at".into(), json!(e.at.as_second()));
            let discovered = match &e.kind {
                EventKind::IncidentReported(r) => Some(r.discovered),
                EventKind::DeviceLost(l) => Some(l.discovered),
                _ => None,
            };
            if let Some(d) = discovered {
                fields.insert("discovered".into(), json!(d.as_second()));
            }
            Value::Object(fields)
        })
        .collect();
    json!({"now": now, "events": events}).to_string()
}

/// The findings Rego returned, from their JSON.
pub fn from_rego(council: &str, findings: &str) -> Result<Vec<Row>, String> {
    let value: Value = serde_json::from_str(findings).map_err(|e| e.to_string())?;
    let Value::Array(items) = value else {
        return Err(format!("expected a set of findings, got {findings:.200}"));
    };
    let text = |v: &Value| v.as_str().map(str::to_owned);
    items
        .iter()
        .map(|item| match item.as_array().map(Vec::as_slice) {
            Some([rule, status, due, settled, person, device, policy, incident]) => Ok(Row {
                council: council.to_owned(),
                rule: text(rule).unwrap_or_default(),
                status: text(status).unwrap_or_default(),
                due: due.as_i64(),
                settled: settled.as_i64(),
                person: text(person),
                device: text(device),
                policy: text(policy),
                incident: text(incident),
            }),
            _ => Err(format!("not a finding: {item}")),
        })
        .collect()
}

/// Rows that one side has and the other lacks (as multisets), at most `n`
/// of each, for a report when the findings differ.
pub fn differences(a: &[Row], b: &[Row], n: usize) -> (Vec<Row>, Vec<Row>) {
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        match (a.get(i), b.get(j)) {
            (Some(x), Some(y)) if x == y => {
                i += 1;
                j += 1;
            }
            (Some(x), Some(y)) if x < y => {
                only_a.push(x.clone());
                i += 1;
            }
            (Some(_), Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (Some(x), None) => {
                only_a.push(x.clone());
                i += 1;
            }
            (None, Some(y)) => {
                only_b.push(y.clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    only_a.truncate(n);
    only_b.truncate(n);
    (only_a, only_b)
}

/// The pack the comparison runs: its own file, including the bundled
/// baseline.
pub fn comparison_pack() -> Result<PolicyPack, String> {
    struct Source;
    impl rules::PackSource for Source {
        fn read(
            &self,
            name: &str,
            from: Option<&rules::SourceFile>,
        ) -> Result<rules::SourceFile, String> {
            if name == "comparison" {
                return Ok(rules::SourceFile {
                    name: "crates/bench/comparison.toml".into(),
                    text: include_str!("../comparison.toml").into(),
                });
            }
            rules::bundled::Bundled.read(name, from)
        }
    }
    rules::load_pack("comparison", &Source).map_err(|e| format!("{e:?}"))
}
