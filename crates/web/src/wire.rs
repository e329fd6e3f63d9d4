//! What a finding and the council's lists are on the wire: the one shape
//! the API's JSON, `warden check --format json`, the CSV downloads and
//! `warden export` share (docs/findings.md). Below the pages and the API,
//! which both use it.

use domain::estate::{Device, Incident};
use domain::{DeviceId, IncidentId};
use rules::Finding;
use serde::Serialize;
use utoipa::ToSchema;

/// A finding on the wire: the one shape of the API's findings and of
/// `warden check --format json` (docs/findings.md). Every field is present,
/// null where it does not apply; times are RFC 3339 with the council's UTC
/// offset at that instant, as its officers read them.
#[derive(Serialize, ToSchema)]
pub struct FindingOut {
    /// The rule's id in the pack, e.g. `southend.devices-returned-48h`.
    pub rule: String,
    /// overdue, violated, open, late or met.
    pub status: String,
    /// The deadline, where a clock applies.
    pub due: Option<String>,
    /// The clause of the council's policy that requires it.
    pub cite: String,
    pub person: Option<String>,
    pub device: Option<String>,
    pub policy: Option<String>,
    pub incident: Option<String>,
    pub resource: Option<String>,
    /// When the event that settled it happened (a discharge, or a breach).
    pub settled: Option<String>,
    /// When that event was recorded: the same as `settled` unless it was
    /// recorded later ("returned on time, recorded 3 days later").
    pub recorded: Option<String>,
    /// Why, in a sentence.
    pub detail: String,
    /// The events behind it, as the log names them (their own id, or
    /// `#SEQ`): what started its clock or broke the rule, and what settled it.
    pub events: Vec<String>,
}

/// RFC 3339 with the council's UTC offset at that instant.
pub fn local_rfc3339(at: jiff::Timestamp, tz: &jiff::tz::TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

impl FindingOut {
    /// The finding in the council's time zone, its events named by `name`.
    pub fn new(f: &Finding, tz: &jiff::tz::TimeZone, name: &dyn Fn(u64) -> String) -> Self {
        let s = |x: &Option<domain::ArcStr>| x.as_deref().map(str::to_owned);
        let time = |t: jiff::Timestamp| local_rfc3339(t, tz);
        FindingOut {
            rule: f.rule.to_string(),
            status: f.status.name().to_owned(),
            due: f.due.map(time),
            cite: f.cite.to_string(),
            person: s(&f.concerns.person),
            device: s(&f.concerns.device),
            policy: s(&f.concerns.policy),
            incident: s(&f.concerns.incident),
            resource: s(&f.concerns.resource),
            settled: f.settled.map(time),
            recorded: f.settled.map(|d| time(f.recorded().unwrap_or(d))),
            detail: f.sentence(),
            events: f.events.seqs().map(name).collect(),
        }
    }

    /// Findings of `council` for the wire, their events named by its ledger.
    pub fn of<'f>(
        council: &crate::council::Council,
        findings: impl Iterator<Item = &'f Finding>,
    ) -> Vec<FindingOut> {
        let tz = &council.pack.time_zone;
        council.with_ledger(|ledger| {
            let name = |seq: u64| {
                ledger
                    .get(seq)
                    .map_or_else(|| format!("#{seq}"), |l| l.reference().to_string())
            };
            findings.map(|f| FindingOut::new(f, tz, &name)).collect()
        })
    }
}

pub fn kind_name(kind: domain::PersonKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[derive(Serialize, ToSchema)]
pub struct DeviceOut {
    pub id: String,
    /// laptop, tablet, smartphone, or the council's own word.
    pub kind: String,
    /// council or personal.
    pub owner: String,
    /// held, store, lost or disposed.
    pub state: String,
    pub holder: Option<String>,
    /// When it was bought (YYYY-MM-DD), if recorded.
    pub acquired: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// Whether a loss was reported as a theft.
    pub stolen: Option<bool>,
    /// Findings about it (only in one device's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
}

pub fn device_out(id: &DeviceId, d: &Device) -> DeviceOut {
    let details = d.details.as_deref();
    let detail = |f: fn(&domain::estate::DeviceDetails) -> &Option<String>| {
        details.and_then(|x| f(x).clone())
    };
    DeviceOut {
        id: id.to_string(),
        kind: d.kind.as_str().to_owned(),
        owner: serde_json::to_value(d.owner)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        state: d.state().to_owned(),
        holder: d.holder.as_ref().map(|h| h.to_string()),
        acquired: d.acquired.map(|a| a.to_string()),
        make: detail(|x| &x.make),
        model: detail(|x| &x.model),
        serial: detail(|x| &x.serial),
        stolen: d.lost.as_ref().map(|l| l.stolen),
        findings: None,
    }
}

#[derive(Serialize, ToSchema)]
pub struct IncidentOut {
    pub id: String,
    /// What happened, in a few words.
    pub kind: String,
    pub description: Option<String>,
    /// low, medium or high.
    pub severity: Option<String>,
    pub people_affected: Option<u32>,
    pub discovered: String,
    pub reported: String,
    pub personal_data: bool,
    /// Whether it must be notified to the regulator; null until assessed.
    pub notifiable: Option<bool>,
    pub regulator_notified: Option<String>,
    /// The regulator's reference, given when it was told.
    pub regulator_reference: Option<String>,
    pub closed: Option<String>,
    pub person: Option<String>,
    pub device: Option<String>,
    /// Findings about it (only in one incident's answer).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub findings: Option<Vec<FindingOut>>,
}

pub fn incident_out(tz: &jiff::tz::TimeZone, id: &IncidentId, i: &Incident) -> IncidentOut {
    let time = |t| local_rfc3339(t, tz);
    IncidentOut {
        id: id.to_string(),
        kind: i.kind.clone(),
        description: i.description.clone(),
        severity: i.severity.map(|s| s.as_str().to_owned()),
        people_affected: i.people_affected,
        discovered: time(i.discovered),
        reported: time(i.reported),
        personal_data: i.personal_data,
        notifiable: i.notifiable,
        regulator_notified: i.regulator_notified.map(time),
        regulator_reference: i.regulator_reference.clone(),
        closed: i.closed.map(time),
        person: i.person.as_ref().map(|p| p.to_string()),
        device: i.device.as_ref().map(|d| d.to_string()),
        findings: None,
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClaimOut {
    pub at: String,
    pub person: String,
    pub category: String,
    /// In pence: GBP 100 is 10000.
    pub amount_pence: i64,
    pub household: String,
}

#[derive(Serialize, ToSchema)]
pub struct AcceptanceOut {
    pub person: String,
    pub policy: String,
    pub version: String,
    pub at: String,
}
