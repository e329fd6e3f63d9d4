//! Findings for people (an aligned table) and for programs (JSON).

use domain::Event;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rules::{Finding, PolicyPack, Status};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

const WIDTH: usize = 80;

/// RFC 3339 with the pack's UTC offset at that instant.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Every finding with all its fields (null where they do not apply), and
/// the events behind it as the log names them: their own id, or `#SEQ`.
pub fn json(pack: &PolicyPack, at: Timestamp, findings: &[Finding], log: &[Event]) -> String {
    let tz = &pack.time_zone;
    let name = |seq: u64| {
        usize::try_from(seq)
            .ok()
            .and_then(|s| log.get(s.wrapping_sub(1)))
            .and_then(|e| e.own_id())
            .map_or_else(|| format!("#{seq}"), |id| id.to_string())
    };
    let findings: Vec<_> = findings
        .iter()
        .map(|f| {
            let events: Vec<String> = f.events.seqs().map(name).collect();
            json!({
                "rule": f.rule,
                "status": f.status,
                "due": f.due.map(|d| rfc3339(d, tz)),
                "cite": f.cite,
                "person": f.concerns.person,
                "device": f.concerns.device,
                "policy": f.concerns.policy,
                "incident": f.concerns.incident,
                "resource": f.concerns.resource,
                "settled": f.settled.map(|d| rfc3339(d, tz)),
                "recorded": f.settled.map(|d| rfc3339(f.recorded().unwrap_or(d), tz)),
                "detail": f.sentence(),
                "events": events,
            })
        })
        .collect();
    let doc = json!({ "at": rfc3339(at, tz), "pack": pack.id, "findings": findings });
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Grouped by status (overdue first), then by rule with its clause once,
/// then one line a finding. Met findings are counted per rule unless
/// `verbose`, since a healthy council has thousands of them.
pub fn table(pack: &PolicyPack, at: Timestamp, findings: &[Finding], verbose: bool) -> String {
    let tz = &pack.time_zone;
    let mut out = String::new();
    let _ = writeln!(out, "{} (pack {})", pack.council, pack.id);
    let _ = writeln!(out, "as of {} {}", local(at, tz), pack.time_zone_name);
    let counts: Vec<String> = Status::ALL
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                findings.iter().filter(|f| f.status == *s).count(),
                s
            )
        })
        .collect();
    let _ = writeln!(out, "{}", counts.join(" | "));
    let cites: BTreeMap<&str, &str> = findings.iter().map(|f| (&*f.rule, &*f.cite)).collect();
    for status in Status::ALL {
        let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
        for f in findings.iter().filter(|f| f.status == status) {
            by_rule.entry(&f.rule).or_default().push(f);
        }
        if by_rule.is_empty() {
            continue;
        }
        let total: usize = by_rule.values().map(Vec::len).sum();
        let _ = writeln!(out, "\n{} ({total})", status.name().to_uppercase());
        for (rule, list) in by_rule {
            let _ = writeln!(out, "  {rule} ({})", list.len());
            for line in wrap(cites.get(rule).copied().unwrap_or_default(), WIDTH - 4) {
                let _ = writeln!(out, "    {line}");
            }
            if status == Status::Met && !verbose {
                continue;
            }
            for f in list {
                let when = match (f.due, f.settled) {
                    (Some(due), _) => format!("due {}", local(due, tz)),
                    (None, Some(at)) => format!("on  {}", local(at, tz)),
                    (None, None) => String::new(),
                };
                let _ = writeln!(out, "    - {when:<20}  {}", concerns(f));
                if matches!(status, Status::Violated | Status::Late) || f.recorded_late().is_some()
                {
                    for line in wrap(&f.sentence(), WIDTH - 8) {
                        let _ = writeln!(out, "        {line}");
                    }
                }
            }
        }
    }
    out
}

fn concerns(f: &Finding) -> String {
    let c = &f.concerns;
    [
        ("person", &c.person),
        ("device", &c.device),
        ("policy", &c.policy),
        ("incident", &c.incident),
        ("resource", &c.resource),
    ]
    .iter()
    .filter_map(|(name, id)| id.as_ref().map(|id| format!("{name} {id}")))
    .collect::<Vec<_>>()
    .join(", ")
}

/// Greedy word wrap; a word longer than the width stands on its own line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
