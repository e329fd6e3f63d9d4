//! Findings for people (an aligned table) and for programs (JSON).

use domain::{Event, EventId, IdMap, Seq};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rules::{Finding, PolicyPack, Status};
use serde::Serialize;
use std::collections::BTreeMap;

const WIDTH: usize = 80;

/// RFC 3339 with the pack's UTC offset at that instant.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    web::api::local_rfc3339(at, tz)
}

fn local(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// The name of an event in a report: its own id, or `#SEQ`.
pub type Names = IdMap<Seq, EventId>;

/// Each event of the log that has an id of its own, by sequence number.
pub fn names_of(log: &[Event]) -> Names {
    log.iter()
        .enumerate()
        .filter_map(|(i, e)| Some((i as Seq + 1, e.own_id()?.clone())))
        .collect()
}

/// The findings, each made into its wire form as it is written, never all
/// at once.
struct Findings<'a> {
    findings: &'a [Finding],
    tz: &'a TimeZone,
    names: &'a Names,
}

impl Serialize for Findings<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let names = self.names;
        let name = |seq: Seq| {
            names
                .get(&seq)
                .map_or_else(|| format!("#{seq}"), |id| id.to_string())
        };
        serializer.collect_seq(
            self.findings
                .iter()
                .map(|f| web::api::FindingOut::new(f, self.tz, &name)),
        )
    }
}

/// Events `--known-at` left out of a check: recorded after it, though
/// they had happened by `--at`.
#[derive(Clone, Copy, Debug)]
pub struct LeftOut {
    pub events: u64,
    pub known_at: Timestamp,
}

#[derive(Serialize)]
struct Report<'a> {
    at: String,
    /// Said only when it left something out.
    #[serde(skip_serializing_if = "Option::is_none")]
    known_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    left_out: Option<u64>,
    pack: &'a str,
    findings: Findings<'a>,
}

/// Writes every finding with all its fields (null where they do not apply),
/// and the events behind it as the log names them (`names`, or `#SEQ`), as
/// one pretty-printed JSON document and a newline, finding by finding.
pub fn json(
    out: &mut impl std::io::Write,
    pack: &PolicyPack,
    at: Timestamp,
    findings: &[Finding],
    names: &Names,
    left_out: Option<LeftOut>,
) -> std::io::Result<()> {
    let tz = &pack.time_zone;
    let report = Report {
        at: rfc3339(at, tz),
        known_at: left_out.map(|l| rfc3339(l.known_at, tz)),
        left_out: left_out.map(|l| l.events),
        pack: &pack.id,
        findings: Findings {
            findings,
            tz,
            names,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

/// Grouped by status (overdue first), then by rule with its clause once,
/// then one line a finding. Met findings are counted per rule unless
/// `verbose`, since a healthy council has thousands of them.
pub fn table(
    out: &mut impl std::io::Write,
    pack: &PolicyPack,
    at: Timestamp,
    findings: &[Finding],
    left_out: Option<LeftOut>,
    verbose: bool,
) -> std::io::Result<()> {
    let tz = &pack.time_zone;
    writeln!(out, "{} (pack {})", pack.council, pack.id)?;
    writeln!(out, "as of {} {}", local(at, tz), pack.time_zone_name)?;
    if let Some(LeftOut { events, known_at }) = left_out {
        let known = known_at.to_zoned(tz.clone()).strftime("%H:%M on %-d %b %Y");
        let noun = if events == 1 { "event" } else { "events" };
        writeln!(
            out,
            "{events} {noun} recorded after {known} left out (--known-at): what Warden knew then"
        )?;
    }
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
    writeln!(out, "{}", counts.join(" | "))?;
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
        writeln!(out, "\n{} ({total})", status.name().to_uppercase())?;
        for (rule, list) in by_rule {
            writeln!(out, "  {rule} ({})", list.len())?;
            for line in wrap(cites.get(rule).copied().unwrap_or_default(), WIDTH - 4) {
                writeln!(out, "    {line}")?;
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
                writeln!(out, "    - {when:<20}  {}", concerns(f))?;
                if matches!(status, Status::Violated | Status::Late) || f.recorded_late().is_some()
                {
                    for line in wrap(&f.sentence(), WIDTH - 8) {
                        writeln!(out, "        {line}")?;
                    }
                }
            }
        }
    }
    Ok(())
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
