//! A council's lists as rows, the same for the API's JSON, `warden export
//! --format csv` and the pages' "Download as CSV": findings, people,
//! devices, incidents, claims and acceptances. Each list names its CSV
//! columns (a JSON object's key order is not to be relied on).

use crate::council::Council;
use crate::wire::{
    AcceptanceOut, ClaimOut, DeviceOut, FindingOut, IncidentOut, device_out, incident_out,
    kind_name, local_rfc3339,
};
use rules::Finding;
use serde::Serialize;

/// A list that can be exported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum List {
    Findings,
    People,
    Devices,
    Incidents,
    Claims,
    Acceptances,
}

impl List {
    pub const ALL: [List; 6] = [
        List::Findings,
        List::People,
        List::Devices,
        List::Incidents,
        List::Claims,
        List::Acceptances,
    ];

    pub fn name(self) -> &'static str {
        match self {
            List::Findings => "findings",
            List::People => "people",
            List::Devices => "devices",
            List::Incidents => "incidents",
            List::Claims => "claims",
            List::Acceptances => "acceptances",
        }
    }

    pub fn from_name(name: &str) -> Option<List> {
        List::ALL.into_iter().find(|l| l.name() == name)
    }

    /// Its columns, in order.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            List::Findings => &[
                "rule", "status", "due", "cite", "person", "device", "policy", "incident",
                "resource", "settled", "recorded", "detail", "events",
            ],
            List::People => &[
                "id",
                "name",
                "kind",
                "present",
                "department",
                "job",
                "manager",
                "roles",
                "devices_held",
                "access",
            ],
            List::Devices => &[
                "id", "kind", "owner", "state", "holder", "acquired", "make", "model", "serial",
                "stolen",
            ],
            List::Incidents => &[
                "id",
                "kind",
                "description",
                "severity",
                "people_affected",
                "discovered",
                "reported",
                "personal_data",
                "notifiable",
                "regulator_notified",
                "regulator_reference",
                "closed",
                "person",
                "device",
            ],
            List::Claims => &["at", "person", "category", "amount_pence", "household"],
            List::Acceptances => &["person", "policy", "version", "at"],
        }
    }

    /// The whole list as CSV; findings are those given (a view's, filtered
    /// or not).
    pub fn csv(self, council: &Council, findings: &[Finding]) -> Result<String, String> {
        let rows = match self {
            List::Findings => {
                reports::csv::records(self.fields(), &FindingOut::of(council, findings.iter()))
            }
            List::People => reports::csv::records(self.fields(), &people(council)),
            List::Devices => reports::csv::records(self.fields(), &devices(council)),
            List::Incidents => reports::csv::records(self.fields(), &incidents(council)),
            List::Claims => reports::csv::records(self.fields(), &claims(council)),
            List::Acceptances => reports::csv::records(self.fields(), &acceptances(council)),
        };
        rows.map_err(|e| e.to_string())
    }
}

/// A person as a row: who they are, their roles, what they hold.
#[derive(Serialize)]
pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub present: bool,
    pub department: Option<String>,
    pub job: Option<String>,
    pub manager: Option<String>,
    pub roles: Vec<String>,
    pub devices_held: Vec<String>,
    pub access: Vec<String>,
}

impl PersonRow {
    /// A person of the estate as a row.
    pub fn of(id: &str, p: &domain::estate::Person) -> PersonRow {
        PersonRow {
            id: id.to_owned(),
            name: p.name.clone(),
            kind: kind_name(p.kind),
            present: p.is_present(),
            department: p.department.clone(),
            job: p.job.clone(),
            manager: p.manager.as_ref().map(|m| m.to_string()),
            roles: p.roles.iter().map(|r| r.to_string()).collect(),
            devices_held: p.devices_held.iter().map(|d| d.to_string()).collect(),
            access: p.access.iter().map(|(r, _)| r.to_string()).collect(),
        }
    }
}

/// Everyone, by id.
pub fn people(council: &Council) -> Vec<PersonRow> {
    let mut out: Vec<PersonRow> = council.with_estate(|e| {
        e.people
            .iter()
            .map(|(id, p)| PersonRow::of(id.as_str(), p))
            .collect()
    });
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Every device on the register, by id.
pub fn devices(council: &Council) -> Vec<DeviceOut> {
    let mut out: Vec<DeviceOut> =
        council.with_estate(|e| e.devices.iter().map(|(id, d)| device_out(id, d)).collect());
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Every incident, by id.
pub fn incidents(council: &Council) -> Vec<IncidentOut> {
    let tz = &council.pack.time_zone;
    let mut out: Vec<IncidentOut> = council.with_estate(|e| {
        e.incidents
            .iter()
            .map(|(id, i)| incident_out(tz, id, i))
            .collect()
    });
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// Every expense claim, oldest first.
pub fn claims(council: &Council) -> Vec<ClaimOut> {
    let tz = &council.pack.time_zone;
    council.with_estate(|e| {
        e.claims
            .iter()
            .map(|c| ClaimOut {
                at: local_rfc3339(c.at, tz),
                person: c.person.to_string(),
                category: c.category.clone(),
                amount_pence: c.amount.0,
                household: c.household.to_string(),
            })
            .collect()
    })
}

/// Every acceptance of every policy version, by person.
pub fn acceptances(council: &Council) -> Vec<AcceptanceOut> {
    let tz = &council.pack.time_zone;
    let mut out: Vec<AcceptanceOut> = council.with_estate(|e| {
        e.people
            .iter()
            .flat_map(|(person, p)| {
                p.acceptances.iter().flat_map(move |(policy, versions)| {
                    versions.iter().map(move |(version, at)| AcceptanceOut {
                        person: person.to_string(),
                        policy: policy.to_string(),
                        version: version.clone(),
                        at: local_rfc3339(*at, tz),
                    })
                })
            })
            .collect()
    });
    out.sort_by(|a, b| (&a.person, &a.policy, &a.at).cmp(&(&b.person, &b.policy, &b.at)));
    out
}
