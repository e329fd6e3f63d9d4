//! The committee report's figures, gathered from a council: the findings
//! as of an instant (and as known at another), evaluated again at each
//! quarter's end of the period, the policies, incidents, leavers and the
//! controls the rules evidence; put into words for `reports::committee`,
//! which typesets them. Used by `warden report` and the dashboard's
//! "Download the committee report".

use crate::council::Council;
use jiff::{SignedDuration, Timestamp, ToSpan, Zoned};
use reports::committee::*;
use rules::calendar::quarter_ends;
use rules::pack::{Framework, RuleKind};
use rules::{Finding, Status};
use std::collections::BTreeMap;

/// What the report is asked for.
pub struct Ask {
    pub at: Timestamp,
    pub known_at: Option<Timestamp>,
    /// How many months back the period reaches (12: a year).
    pub months: i32,
}

/// "31 March 2026".
fn day(z: &Zoned) -> String {
    z.strftime("%-d %B %Y").to_string()
}

/// The policy a rule belongs to, for the chart: the pack's policy its
/// clause names, else the document the clause cites.
fn policy_of(council: &Council, rule: &str) -> String {
    let pack = council.pack;
    let Some(r) = pack.rule(rule) else {
        return rule.to_owned();
    };
    let cite = r.cite.to_lowercase();
    if let Some(p) = pack
        .policies
        .iter()
        .find(|p| cite.contains(&p.title.to_lowercase()))
    {
        return p.title.clone();
    }
    let document = r.cite.split(':').next().unwrap_or(&r.cite);
    document
        .split(',')
        .next()
        .unwrap_or(document)
        .trim()
        .to_owned()
}

fn shares(council: &Council, findings: &[Finding]) -> Vec<PolicyShare> {
    let policy: std::collections::HashMap<&str, String> = council
        .pack
        .rules
        .iter()
        .map(|r| (r.id.as_str(), policy_of(council, &r.id)))
        .collect();
    let mut by: BTreeMap<String, Counts> = BTreeMap::new();
    for f in findings {
        let name = policy
            .get(f.rule.as_str())
            .cloned()
            .unwrap_or_else(|| f.rule.to_string());
        by.entry(name).or_default().add(f.status);
    }
    by.into_iter()
        .map(|(name, c)| PolicyShare {
            percent: (c.ok() * 100).checked_div(c.total()).unwrap_or(100),
            ok: c.ok(),
            total: c.total(),
            name,
        })
        .collect()
}

/// The report's figures.
pub fn gather(council: &Council, ask: &Ask) -> Committee {
    let tz = council.pack.time_zone.clone();
    let at = ask.at.to_zoned(tz.clone());
    let from = at
        .checked_sub(ask.months.months())
        .unwrap_or_else(|_| at.clone());
    // The instant asked for, and each quarter's end before it (the last
    // quarter may end at the instant itself), evaluated side by side.
    let ends = quarter_ends(from.timestamp(), ask.at, &tz);
    let mut instants = vec![(ask.at, ask.known_at)];
    instants.extend(
        ends.iter()
            .filter(|end| end.timestamp() != ask.at)
            .map(|end| {
                (
                    end.timestamp(),
                    ask.known_at.map(|k| k.min(end.timestamp())),
                )
            }),
    );
    let mut evaluated = council.findings_at_each(&instants).into_iter();
    let now_findings = evaluated.next().unwrap_or_default();
    let findings = &now_findings;
    let quarters: Vec<(Zoned, Vec<Finding>)> = ends
        .into_iter()
        .map(|end| {
            let f = if end.timestamp() == ask.at {
                findings.clone()
            } else {
                evaluated.next().unwrap_or_default()
            };
            (end, f)
        })
        .collect();
    let previous = quarters
        .iter()
        .rev()
        .find(|(end, _)| end.timestamp() < ask.at)
        .map(|(end, f)| Earlier {
            label: day(end),
            counts: Counts::of(f),
        });
    let long = |t: Timestamp| t.to_zoned(tz.clone()).strftime("%-d %B %Y").to_string();
    let mut failing: Vec<&Finding> = findings.iter().filter(|f| f.status.is_failure()).collect();
    failing.sort_by_key(|f| (f.status != Status::Overdue, f.due));
    let mut incidents = incidents(council, findings, from.timestamp(), &long);
    let breaches = Breaches {
        within: incidents
            .iter()
            .filter(|i| i.hours.is_some_and(|h| h <= 72))
            .count(),
        after: incidents
            .iter()
            .filter(|i| i.hours.is_some_and(|h| h > 72))
            .count(),
        undecided: incidents
            .iter()
            .filter(|i| i.hours.is_none() && i.due != "-")
            .count(),
    };
    let incidents_more = incidents.len().saturating_sub(INCIDENT_ROWS);
    incidents.truncate(INCIDENT_ROWS);
    let mut leavers = leavers(council, findings, from.timestamp(), ask.at, &long);
    let leavers_more = leavers.len().saturating_sub(LEAVER_ROWS);
    leavers.truncate(LEAVER_ROWS);
    Committee {
        title: format!(
            "{}: ICT security policies compliance report, {}",
            council.pack.council,
            day(&at)
        ),
        council: council.pack.council.clone(),
        as_of: day(&at),
        as_of_time: at.strftime("%-I:%M%P on %A %-d %B %Y").to_string(),
        known_at: ask.known_at.map(|k| {
            k.to_zoned(tz.clone())
                .strftime("%-I:%M%P on %A %-d %B %Y")
                .to_string()
        }),
        period: format!("{} to {}", day(&from), day(&at)),
        counts: Counts::of(findings),
        previous,
        quarters: quarters
            .iter()
            .map(|(end, f)| Quarter {
                label: day(end),
                counts: Counts::of(f),
                policies: shares(council, f),
            })
            .collect(),
        overdue_by_age: overdue_by_age(findings, ask.at),
        incidents,
        incidents_more,
        breaches,
        policies: policies(council, findings, &long),
        leavers,
        leavers_more,
        controls: controls(council, findings),
        rules: council
            .pack
            .rules
            .iter()
            .map(|r| RuleRow {
                sentence: council.pack.rule_sentence(&r.id).to_owned(),
                cite: r.cite.clone(),
                counts: Counts::of(findings.iter().filter(|f| *f.rule == *r.id)),
            })
            .collect(),
        appendix_more: failing.len().saturating_sub(APPENDIX_ROWS),
        appendix: failing
            .iter()
            .take(APPENDIX_ROWS)
            .map(|f| AppendixRow {
                status: f.status.name().to_owned(),
                detail: f.sentence_in_words(),
                due: f.due.map(long).unwrap_or_else(|| "-".to_owned()),
                cite: f.cite.to_string(),
            })
            .collect(),
    }
}

fn overdue_by_age(findings: &[Finding], at: Timestamp) -> Vec<Bucket> {
    let day = SignedDuration::from_hours(24);
    let limits = [
        ("under a week", day * 7),
        ("1 to 4 weeks", day * 28),
        ("1 to 3 months", day * 91),
        ("over 3 months", SignedDuration::MAX),
    ];
    let mut counts = [0usize; 4];
    for f in findings.iter().filter(|f| f.status == Status::Overdue) {
        let Some(due) = f.due else { continue };
        let age = at.duration_since(due);
        if let Some(i) = limits.iter().position(|(_, limit)| age < *limit) {
            counts[i] += 1;
        }
    }
    limits
        .iter()
        .zip(counts)
        .map(|((label, _), count)| Bucket {
            label: (*label).to_owned(),
            count,
        })
        .collect()
}

fn incidents(
    council: &Council,
    findings: &[Finding],
    from: Timestamp,
    long: &dyn Fn(Timestamp) -> String,
) -> Vec<IncidentRow> {
    let clocks: std::collections::HashMap<&str, &Finding> = findings
        .iter()
        .filter(|f| f.due.is_some())
        .filter_map(|f| Some((f.concerns.incident.as_deref()?, f)))
        .collect();
    let mut rows: Vec<(Timestamp, IncidentRow)> = council.with_estate(|e| {
        e.incidents
            .iter()
            .filter(|(_, i)| i.discovered > from)
            .map(|(id, i)| {
                let clock = clocks.get(id.as_str()).copied();
                let hours = clock.and_then(|f| {
                    let settled = f.settled?;
                    let hours = settled.duration_since(i.discovered).as_hours();
                    u64::try_from(hours).ok()
                });
                let decision = match (i.notifiable, i.regulator_notified) {
                    (_, Some(t)) => format!("Information Commissioner told {}", long(t)),
                    (Some(false), None) => "Assessed: not notifiable".to_owned(),
                    (Some(true), None) => "Assessed: notifiable, not yet told".to_owned(),
                    (None, None) if i.personal_data => "Not yet assessed".to_owned(),
                    (None, None) => "No personal data".to_owned(),
                };
                (
                    i.discovered,
                    IncidentRow {
                        id: id.to_string(),
                        kind: i.kind.clone(),
                        discovered: long(i.discovered),
                        due: clock
                            .and_then(|f| f.due)
                            .map(long)
                            .unwrap_or_else(|| "-".to_owned()),
                        decision,
                        hours,
                    },
                )
            })
            .collect()
    });
    rows.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    rows.into_iter().map(|(_, r)| r).collect()
}

fn policies(
    council: &Council,
    findings: &[Finding],
    long: &dyn Fn(Timestamp) -> String,
) -> Vec<PolicyRow> {
    council.with_estate(|e| {
        council
            .pack
            .policies
            .iter()
            .map(|p| {
                let state = e.policies.get(&p.id);
                let version = state
                    .and_then(|s| s.version.clone())
                    .unwrap_or_else(|| p.version.clone());
                let body = state
                    .and_then(|s| s.body.clone())
                    .or_else(|| p.approving_body.clone())
                    .unwrap_or_else(|| "-".to_owned());
                let next_due = findings
                    .iter()
                    .filter(|f| f.concerns.policy.as_deref() == Some(p.id.as_str()))
                    .filter(|f| matches!(f.status, Status::Open | Status::Overdue))
                    .filter_map(|f| f.due)
                    .min();
                let required: Vec<_> = e
                    .people
                    .values()
                    .filter(|person| person.is_present() && p.accepted_by.contains(&person.kind))
                    .collect();
                let accepted = required
                    .iter()
                    .filter(|person| {
                        person
                            .acceptances
                            .get(&p.id)
                            .is_some_and(|v| v.contains_key(&version))
                    })
                    .count();
                PolicyRow {
                    title: p.title.clone(),
                    version,
                    body,
                    reviewed: state
                        .and_then(|s| s.reviewed.or(s.approved))
                        .map(long)
                        .unwrap_or_else(|| "-".to_owned()),
                    next_due: next_due.map(long).unwrap_or_else(|| "-".to_owned()),
                    accepted: if required.is_empty() {
                        "-".to_owned()
                    } else {
                        format!(
                            "{accepted} of {} ({}%)",
                            required.len(),
                            accepted * 100 / required.len()
                        )
                    },
                }
            })
            .collect()
    })
}

fn leavers(
    council: &Council,
    findings: &[Finding],
    from: Timestamp,
    to: Timestamp,
    long: &dyn Fn(Timestamp) -> String,
) -> Vec<LeaverRow> {
    let returns: Vec<&str> = council
        .pack
        .rules
        .iter()
        .filter(|r| match &r.kind {
            RuleKind::Obligation(o) => o.trigger.event == domain::EventType::PersonLeft,
            _ => false,
        })
        .map(|r| r.id.as_str())
        .collect();
    let mut by_person: std::collections::HashMap<&str, Counts> = std::collections::HashMap::new();
    for f in findings
        .iter()
        .filter(|f| f.concerns.device.is_some() && returns.contains(&f.rule.as_str()))
    {
        if let Some(p) = f.concerns.person.as_deref() {
            by_person.entry(p).or_default().add(f.status);
        }
    }
    let mut rows: Vec<(Timestamp, LeaverRow)> = council.with_estate(|e| {
        e.people
            .iter()
            .filter_map(|(id, p)| {
                let left = p.left.filter(|l| *l > from && *l <= to)?;
                let c = by_person.get(id.as_str()).copied().unwrap_or_default();
                let returned = match c.total() {
                    0 => "Nothing to return".to_owned(),
                    _ => format!(
                        "{} in time, {} late, {} overdue, {} not yet due",
                        c.met, c.late, c.overdue, c.open
                    ),
                };
                Some((
                    left,
                    LeaverRow {
                        name: format!("{} ({id})", p.name),
                        left: long(left),
                        devices: c.total(),
                        returned,
                    },
                ))
            })
            .collect()
    });
    rows.sort_by_key(|(t, _)| std::cmp::Reverse(*t));
    rows.into_iter().map(|(_, r)| r).collect()
}

fn controls(council: &Council, findings: &[Finding]) -> Vec<FrameworkRows> {
    let mut by_rule: std::collections::HashMap<&str, Counts> = std::collections::HashMap::new();
    for f in findings {
        by_rule.entry(f.rule.as_str()).or_default().add(f.status);
    }
    Framework::ALL
        .iter()
        .map(|framework| {
            let mut rows: Vec<ControlRow> = Vec::new();
            for (id, title) in framework.controls() {
                let rules: Vec<&str> = council
                    .pack
                    .rules
                    .iter()
                    .filter(|r| {
                        r.controls
                            .iter()
                            .flatten()
                            .any(|c| c.framework == *framework && c.id == *id)
                    })
                    .map(|r| r.id.as_str())
                    .collect();
                if rules.is_empty() {
                    continue;
                }
                let mut c = Counts::default();
                for r in &rules {
                    let n = by_rule.get(r).copied().unwrap_or_default();
                    c.met += n.met;
                    c.open += n.open;
                    c.late += n.late;
                    c.overdue += n.overdue;
                    c.violated += n.violated;
                }
                let status = if c.total() == 0 {
                    "not yet tested"
                } else if c.ok() == c.total() {
                    "evidenced"
                } else {
                    "failing"
                };
                rows.push(ControlRow {
                    id: id.clone(),
                    title: title.clone(),
                    rules: rules.len(),
                    status: status.to_owned(),
                });
            }
            FrameworkRows {
                framework: framework.name().to_owned(),
                rows,
            }
        })
        .filter(|f| !f.rows.is_empty())
        .collect()
}
