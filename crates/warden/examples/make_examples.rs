//! Writes `examples/<council>.jsonl`: a year (April 2025 to March 2026) of one
//! council's events, deterministic for a seed, with a realistic share of late
//! and missed obligations so that every rule of the council's pack fires.
//!
//! Run: `cargo run -p warden --example make_examples` (from the repository
//! root). A test checks the committed files are exactly what this writes.

use jiff::civil::{Date, date};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::{Value, json};

/// What differs between the councils' examples.
pub struct Flavour {
    pub id: &'static str,
    pub seed: u64,
    pub councillors: usize,
    pub employees: usize,
    pub third_parties: usize,
    pub mail_domain: &'static str,
    /// (policy, version, approving body, approved on, reviews during the year)
    pub policies: &'static [(
        &'static str,
        &'static str,
        &'static str,
        Date,
        &'static [Date],
    )],
    /// Policies each new person accepts when they join.
    pub accepted: &'static [&'static str],
    pub broadband: bool,
    /// A leaver booked in late, after access granted in between, and an
    /// entry made in error and voided (see `late_records`).
    pub late_records: bool,
}

pub const FLAVOURS: &[Flavour] = &[
    Flavour {
        id: "southend",
        seed: 51,
        councillors: 24,
        employees: 10,
        third_parties: 2,
        mail_domain: "southend.gov.uk",
        policies: &[("councillor-ict", "1.0", "council", date(2024, 11, 21), &[])],
        accepted: &["councillor-ict"],
        broadband: false,
        late_records: false,
    },
    Flavour {
        id: "redditch",
        seed: 98,
        councillors: 20,
        employees: 8,
        third_parties: 1,
        mail_domain: "redditchbc.gov.uk",
        policies: &[(
            "members-ict",
            "July 2021",
            "council",
            date(2024, 7, 18),
            &[date(2025, 8, 5)],
        )],
        accepted: &["members-ict"],
        broadband: true,
        late_records: false,
    },
    Flavour {
        id: "sefton",
        seed: 21,
        councillors: 12,
        employees: 30,
        third_parties: 3,
        mail_domain: "sefton.gov.uk",
        policies: &[
            ("acceptable-use", "2020", "council", date(2021, 1, 21), &[]),
            (
                "starters-movers-leavers",
                "2020",
                "council",
                date(2021, 1, 21),
                &[],
            ),
        ],
        accepted: &["acceptable-use"],
        broadband: false,
        late_records: true,
    },
    Flavour {
        id: "mid-devon",
        seed: 118,
        councillors: 14,
        employees: 16,
        third_parties: 1,
        mail_domain: "middevon.gov.uk",
        policies: &[
            (
                "information-security",
                "3.0",
                "cabinet",
                date(2023, 1, 10),
                &[date(2025, 1, 7)],
            ),
            (
                "information-security-incident",
                "4.1",
                "cabinet",
                date(2022, 11, 1),
                &[date(2025, 1, 7)],
            ),
        ],
        accepted: &["information-security"],
        broadband: false,
        late_records: false,
    },
    Flavour {
        id: "leighton-linslade",
        seed: 7,
        councillors: 18,
        employees: 14,
        third_parties: 2,
        mail_domain: "leightonlinslade-tc.gov.uk",
        policies: &[("ict-security", "adopted", "council", date(2024, 5, 14), &[])],
        accepted: &["ict-security"],
        broadband: false,
        late_records: false,
    },
];

use generate::Rng;

#[derive(Clone)]
struct Person {
    id: String,
    kind: &'static str,
    present: bool,
    resources: Vec<String>,
    devices: Vec<usize>,
}

struct Device {
    id: String,
    kind: &'static str,
    /// Held, scheduled for something, lost or disposed: leave it alone.
    busy: bool,
    holder: Option<usize>,
}

struct Log {
    tz: TimeZone,
    events: Vec<(Timestamp, usize, Value)>,
}

impl Log {
    fn at(&self, day: Date, hour: i8, minute: i8) -> Timestamp {
        day.at(hour, minute, 0, 0)
            .to_zoned(self.tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
    fn stamp(&self, t: Timestamp) -> String {
        t.to_zoned(self.tz.clone())
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    }
    fn push(&mut self, t: Timestamp, mut event: Value) {
        if let Value::Object(map) = &mut event {
            map.insert("at".into(), Value::String(self.stamp(t)));
        }
        let n = self.events.len();
        self.events.push((t, n, event));
    }
    /// An event recorded later than it happened: it takes its place in the
    /// file (recording order) by `recorded`.
    fn push_late(&mut self, t: Timestamp, recorded: Timestamp, mut event: Value) {
        if let Value::Object(map) = &mut event {
            map.insert("at".into(), Value::String(self.stamp(t)));
            map.insert("recorded".into(), Value::String(self.stamp(recorded)));
        }
        let n = self.events.len();
        self.events.push((recorded, n, event));
    }
}

/// The log for one council, as JSON Lines.
pub fn generate(f: &Flavour) -> String {
    let tz = rules::calendar::time_zone("Europe/London").unwrap_or(TimeZone::UTC);
    let mut log = Log {
        tz,
        events: Vec::new(),
    };
    let mut rng = Rng::seeded(f.seed);
    let start = date(2025, 4, 1);
    let day = |n: i64| start.checked_add(n.days()).unwrap_or(start);

    for (policy, version, body, approved, reviews) in f.policies {
        let t = log.at(*approved, 19, 0);
        log.push(
            t,
            json!({"type": "policy_approved", "policy": policy, "version": version, "body": body}),
        );
        for r in *reviews {
            let t = log.at(*r, 10, 0);
            log.push(t, json!({"type": "policy_reviewed", "policy": policy}));
        }
    }

    // The register as it stood when the council began recording in Warden.
    let mut people: Vec<Person> = Vec::new();
    let mut devices: Vec<Device> = Vec::new();
    let kinds = std::iter::repeat_n("councillor", f.councillors)
        .chain(std::iter::repeat_n("employee", f.employees))
        .chain(std::iter::repeat_n("third_party", f.third_parties));
    let roles = [
        "town_clerk",
        "head_of_service",
        "head_of_democratic_services",
        "siro",
        "dpo",
        "ict_admin",
        "head_of_service",
    ];
    let mut employee_no = 0;
    for (i, kind) in kinds.enumerate() {
        let id = format!("{}{:03}", &kind[..1], i + 1);
        let minute = (i % 60) as i8;
        let t = log.at(start, 8, minute);
        let household = if f.broadband && i < 2 {
            "h-shared".to_owned()
        } else {
            format!("h{:03}", i + 1)
        };
        let mut joined = json!({"type": "person_joined", "person": id, "name": name(i, kind), "kind": kind, "email": format!("{id}@{}", f.mail_domain)});
        if kind == "councillor" {
            joined["household"] = json!(household);
            joined["term_ends"] = json!("2028-05-04");
        }
        log.push(t, joined);
        if kind == "employee" {
            if let Some(role) = roles.get(employee_no) {
                log.push(
                    t.checked_add(1.minute()).unwrap_or(t),
                    json!({"type": "role_granted", "person": id, "role": role}),
                );
            }
            employee_no += 1;
        }
        people.push(Person {
            id,
            kind,
            present: true,
            resources: Vec::new(),
            devices: Vec::new(),
        });
    }
    let clerk = people
        .iter()
        .position(|p| p.kind == "employee")
        .unwrap_or(0);
    for p in 0..people.len() {
        let t = log
            .at(day(0), 9, 0)
            .checked_add((p as i64 * 7).minutes())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        onboard(
            &mut log,
            &mut rng,
            f,
            &mut people,
            &mut devices,
            p,
            clerk,
            t,
        );
    }
    // Three old spare laptops, due for disposal.
    for n in 0..3 {
        let id = format!("LAP-OLD-{n}");
        let t = log.at(day(0), 7, n);
        log.push(t, json!({"type": "device_registered", "device": id, "kind": "laptop", "owner": "council", "acquired": format!("2021-0{}-15", 3 + n)}));
        devices.push(Device {
            id,
            kind: "laptop",
            busy: false,
            holder: None,
        });
    }

    // Passwords: most change every five to seven months; some never do.
    let mut next_password: Vec<Option<i64>> = (0..people.len())
        .map(|_| (!rng.chance(15)).then(|| 120 + rng.below(90) as i64))
        .collect();
    let mut incidents = 0;
    for d in 1..365 {
        let today = day(d);
        if matches!(
            today.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) {
            continue;
        }
        for p in 0..people.len() {
            if people[p].present && next_password[p] == Some(d) {
                let t = log.at(today, 9, 30);
                log.push(
                    t,
                    json!({"type": "password_changed", "person": people[p].id}),
                );
                next_password[p] = Some(d + 150 + rng.below(60) as i64);
            }
        }
        if f.late_records && today == date(2025, 10, 31) {
            late_records(&mut log, &mut people, &mut devices);
        }
        let roll = rng.below(1000);
        let t = log.at(today, 10 + (rng.below(6) as i8), rng.below(60) as i8);
        match roll {
            0..=29 => leave(&mut log, &mut rng, &mut people, &mut devices, t),
            30..=49 => mover(&mut log, &mut rng, &people, t),
            50..=61 => {
                let i = people.len();
                let kind = if rng.chance(70) {
                    "employee"
                } else {
                    "councillor"
                };
                let id = format!("{}{:03}", &kind[..1], i + 1);
                log.push(t, json!({"type": "person_joined", "person": id, "name": name(i, kind), "kind": kind, "email": format!("{id}@{}", f.mail_domain)}));
                people.push(Person {
                    id,
                    kind,
                    present: true,
                    resources: Vec::new(),
                    devices: Vec::new(),
                });
                next_password.push(Some(d + 150));
                onboard(
                    &mut log,
                    &mut rng,
                    f,
                    &mut people,
                    &mut devices,
                    i,
                    clerk,
                    t.checked_add(2.hours()).unwrap_or(t),
                );
            }
            62..=77 => lose(&mut log, &mut rng, &people, &mut devices, t),
            78..=97 => {
                incidents += 1;
                incident(&mut log, &mut rng, &people, incidents, t);
            }
            98..=112 => {
                let laptops: Vec<usize> = (0..devices.len())
                    .filter(|&i| {
                        devices[i].kind == "laptop"
                            && devices[i].holder.is_some()
                            && !devices[i].busy
                    })
                    .collect();
                if let Some(&dv) = laptops.get(rng.below(laptops.len() as u64) as usize) {
                    let by = if rng.chance(75) {
                        clerk + rng.below(2) as usize
                    } else {
                        clerk + 5 + rng.below(3) as usize
                    };
                    let by = people
                        .get(by)
                        .map_or_else(|| people[clerk].id.clone(), |p| p.id.clone());
                    log.push(t, json!({"type": "device_removal_approved", "device": devices[dv].id, "approved_by": by}));
                }
            }
            113..=122 => {
                let present: Vec<usize> =
                    (0..people.len()).filter(|&i| people[i].present).collect();
                if let Some(&p) = present.get(rng.below(present.len() as u64) as usize) {
                    let to = if rng.chance(50) {
                        format!("{}.home@gmail.com", people[p].id)
                    } else {
                        format!("team@{}", f.mail_domain)
                    };
                    log.push(t, json!({"type": "email_forwarding_detected", "person": people[p].id, "to": to}));
                }
            }
            _ => {}
        }
    }
    if f.broadband {
        broadband(&mut log, &mut rng, &people);
    }
    // An audit in October finds one councillor's mail forwarded home.
    let first_year = f.councillors + f.employees + f.third_parties;
    if let Some(p) = people
        .iter()
        .take(first_year)
        .find(|p| p.kind == "councillor" && p.present)
    {
        let t = log.at(date(2025, 10, 6), 11, 15);
        log.push(t, json!({"type": "email_forwarding_detected", "person": p.id, "to": format!("{}@outlook.com", p.id)}));
    }
    // The year-end clear-out of the old spares, one of them not wiped.
    for (n, dv) in devices
        .iter()
        .filter(|d| d.id.starts_with("LAP-OLD") && !d.busy)
        .enumerate()
    {
        let t = log.at(date(2026, 3, 20), 14, n as i8);
        let wiped = n != 1;
        log.push(
            t,
            json!({"type": "device_disposed", "device": dv.id, "wiped": wiped}),
        );
    }
    log.events.sort_by_key(|(t, n, _)| (*t, *n));
    let mut out = String::new();
    for (_, _, e) in &log.events {
        // Keys sorted whatever serde_json's map does (its order depends on a
        // cargo feature another crate may switch on), so the bytes stay pinned.
        let sorted: std::collections::BTreeMap<&String, &Value> =
            e.as_object().into_iter().flatten().collect();
        out.push_str(&serde_json::to_string(&sorted).unwrap_or_default());
        out.push('\n');
    }
    out
}

fn name(i: usize, kind: &str) -> String {
    use generate::names::{FIRST, LAST};
    // The first twelve first names and ten last names, as the examples
    // have always used.
    let who = format!("{} {}", FIRST[i % 12], LAST[(i / 12 + i) % 10]);
    match kind {
        "councillor" => format!("Cllr {who}"),
        "third_party" => format!("{who} (IT contractor)"),
        _ => who,
    }
}

/// A new person's first days: most of what the policies ask is done before
/// they get a device or access; a few steps are missed.
#[allow(clippy::too_many_arguments)]
fn onboard(
    log: &mut Log,
    rng: &mut Rng,
    f: &Flavour,
    people: &mut [Person],
    devices: &mut Vec<Device>,
    p: usize,
    clerk: usize,
    t: Timestamp,
) {
    let id = people[p].id.clone();
    let kind = people[p].kind;
    let step = |n: i64| t.checked_add(n.minutes()).unwrap_or(t);
    if rng.chance(92) {
        let method = ["authenticator_app", "sms", "hardware_token"][rng.below(3) as usize];
        log.push(
            step(1),
            json!({"type": "mfa_enrolled", "person": id, "method": method}),
        );
    }
    if rng.chance(88) {
        log.push(
            step(2),
            json!({"type": "training_completed", "person": id, "course": "data_protection"}),
        );
    }
    for policy in f.accepted {
        let version = f
            .policies
            .iter()
            .find(|(p, ..)| p == policy)
            .map_or("1", |(_, v, ..)| *v);
        if rng.chance(90) {
            log.push(step(3), json!({"type": "policy_accepted", "person": id, "policy": policy, "version": version}));
        }
    }
    if kind == "third_party" && rng.chance(60) {
        log.push(step(4), json!({"type": "agreement_signed", "person": id, "agreement": "third_party_compliance"}));
    }
    if kind != "third_party" {
        let laptop = register(log, rng, devices, "laptop", step(5));
        issue(log, people, devices, laptop, p, step(6));
        if rng.chance(45) {
            if rng.chance(80) {
                log.push(step(7), json!({"type": "agreement_signed", "person": id, "agreement": "mobile_device_user"}));
            }
            let kind = if rng.chance(60) {
                "smartphone"
            } else {
                "tablet"
            };
            let phone = register(log, rng, devices, kind, step(7));
            issue(log, people, devices, phone, p, step(8));
        }
    }
    let mut resources = vec!["email".to_owned()];
    match kind {
        "councillor" => resources.push("modern-gov".into()),
        "employee" => {
            resources.push("crm".into());
            if rng.chance(25) {
                resources
                    .push(["restricted/hr", "restricted/finance"][rng.below(2) as usize].into());
            }
        }
        _ => resources.push("server".into()),
    }
    for (n, resource) in resources.iter().enumerate() {
        let mut e = json!({"type": "access_granted", "person": id, "resource": resource});
        if resource.starts_with("restricted/") {
            let requester = if rng.chance(75) {
                clerk
            } else {
                clerk + 6 + rng.below(4) as usize
            };
            let requester = people.get(requester).map_or(&people[clerk].id, |r| &r.id);
            e["requested_by"] = json!(requester);
            e["approved_by"] = json!(people[clerk].id);
        }
        log.push(step(10 + n as i64), e);
    }
    people[p].resources = resources;
}

fn register(
    log: &mut Log,
    rng: &mut Rng,
    devices: &mut Vec<Device>,
    kind: &'static str,
    t: Timestamp,
) -> usize {
    let id = format!("{}-{:04}", kind[..3].to_uppercase(), devices.len() + 1);
    let acquired = date(
        2021 + rng.below(5) as i16,
        1 + rng.below(12) as i8,
        1 + rng.below(28) as i8,
    );
    let acquired = acquired.min(date(2025, 3, 31));
    log.push(t, json!({"type": "device_registered", "device": id, "kind": kind, "owner": "council", "acquired": acquired.to_string()}));
    devices.push(Device {
        id,
        kind,
        busy: false,
        holder: None,
    });
    devices.len() - 1
}

fn issue(
    log: &mut Log,
    people: &mut [Person],
    devices: &mut [Device],
    d: usize,
    p: usize,
    t: Timestamp,
) {
    log.push(
        t,
        json!({"type": "device_issued", "device": devices[d].id, "person": people[p].id}),
    );
    devices[d].holder = Some(p);
    people[p].devices.push(d);
}

/// A leaver: devices come back (mostly in time, some late, a few never) and
/// access is revoked (mostly the same day).
fn leave(
    log: &mut Log,
    rng: &mut Rng,
    people: &mut [Person],
    devices: &mut [Device],
    t: Timestamp,
) {
    let present: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].present && i > 6)
        .collect();
    let Some(&p) = present.get(rng.below(present.len() as u64) as usize) else {
        return;
    };
    people[p].present = false;
    let reason = if people[p].kind == "councillor" {
        "resigned"
    } else {
        "left employment"
    };
    log.push(
        t,
        json!({"type": "person_left", "person": people[p].id, "reason": reason}),
    );
    for &d in &people[p].devices {
        if devices[d].busy || devices[d].holder != Some(p) {
            continue;
        }
        devices[d].busy = true;
        let hours = match rng.below(10) {
            0 => continue, // never returned
            1 => 60,
            2 => 24 * 9,
            _ => 2 + rng.below(30) as i64,
        };
        let back = t.checked_add(hours.hours()).unwrap_or(t);
        log.push(
            back,
            json!({"type": "device_returned", "device": devices[d].id, "person": people[p].id}),
        );
    }
    for resource in &people[p].resources {
        let hours = match rng.below(10) {
            0 => continue,
            1 => 20,
            _ => 1,
        };
        let when = t.checked_add(hours.hours()).unwrap_or(t);
        log.push(
            when,
            json!({"type": "access_revoked", "person": people[p].id, "resource": resource}),
        );
    }
}

/// A leaver who left on Friday 31 October and was booked in on Tuesday, after
/// access had been granted to them on the Monday in between; their access
/// and devices come back on the Tuesday. Then an access grant made to the
/// wrong person and voided the same morning.
fn late_records(log: &mut Log, people: &mut [Person], devices: &mut [Device]) {
    let Some(p) = (7..people.len()).find(|&i| {
        people[i].present && people[i].kind == "employee" && !people[i].resources.is_empty()
    }) else {
        return;
    };
    people[p].present = false;
    let id = people[p].id.clone();
    let friday = log.at(date(2025, 10, 31), 16, 0);
    let monday = log.at(date(2025, 11, 3), 10, 0);
    let tuesday = log.at(date(2025, 11, 4), 9, 0);
    log.push(
        monday,
        json!({"type": "access_granted", "person": id, "resource": "planning"}),
    );
    log.push_late(
        friday,
        tuesday,
        json!({"type": "person_left", "person": id, "reason": "left employment"}),
    );
    let revoked = tuesday.checked_add(1.hours()).unwrap_or(tuesday);
    for resource in people[p]
        .resources
        .iter()
        .chain(["planning".to_owned()].iter())
    {
        log.push(
            revoked,
            json!({"type": "access_revoked", "person": id, "resource": resource}),
        );
    }
    let back = tuesday.checked_add(2.hours()).unwrap_or(tuesday);
    for &d in &people[p].devices {
        if devices[d].busy || devices[d].holder != Some(p) {
            continue;
        }
        devices[d].busy = true;
        log.push(
            back,
            json!({"type": "device_returned", "device": devices[d].id, "person": id}),
        );
    }
    // Payroll access typed against the wrong person, voided within minutes.
    if let Some(q) = (7..people.len()).find(|&i| people[i].present && people[i].kind == "employee")
    {
        let wrong = log.at(date(2025, 11, 5), 9, 30);
        log.push(wrong, json!({"id": "acc-2025-117", "type": "access_granted", "person": people[q].id, "resource": "payroll"}));
        let voided = log.at(date(2025, 11, 5), 9, 40);
        log.push(voided, json!({"type": "event_voided", "event": "acc-2025-117", "reason": "granted to the wrong person"}));
    }
}

fn mover(log: &mut Log, rng: &mut Rng, people: &[Person], t: Timestamp) {
    let staff: Vec<usize> = (0..people.len())
        .filter(|&i| people[i].present && people[i].kind == "employee")
        .collect();
    let Some(&p) = staff.get(rng.below(staff.len() as u64) as usize) else {
        return;
    };
    let department = [
        "Housing",
        "Finance",
        "Democratic Services",
        "Planning",
        "Customer Services",
    ][rng.below(5) as usize];
    log.push(
        t,
        json!({"type": "person_moved", "person": people[p].id, "department": department}),
    );
    let days = match rng.below(8) {
        0 => return,
        1 => 10,
        _ => 1 + rng.below(4) as i64,
    };
    log.push(
        t.checked_add((days * 24).hours()).unwrap_or(t),
        json!({"type": "access_reviewed", "person": people[p].id}),
    );
}

fn lose(log: &mut Log, rng: &mut Rng, people: &[Person], devices: &mut [Device], t: Timestamp) {
    let held: Vec<usize> = (0..devices.len())
        .filter(|&i| !devices[i].busy && devices[i].holder.is_some_and(|p| people[p].present))
        .collect();
    let Some(&d) = held.get(rng.below(held.len() as u64) as usize) else {
        return;
    };
    devices[d].busy = true;
    let delay = if rng.chance(25) {
        30 + rng.below(40) as i64
    } else {
        1 + rng.below(12) as i64
    };
    let discovered = t.checked_sub(delay.hours()).unwrap_or(t);
    let discovered = log.stamp(discovered);
    log.push(t, json!({"type": "device_lost", "device": devices[d].id, "discovered": discovered, "stolen": rng.chance(40)}));
}

/// Incidents: most breaches are notified or assessed in time, some late, one
/// or two never.
fn incident(log: &mut Log, rng: &mut Rng, people: &[Person], n: usize, t: Timestamp) {
    let id = format!("INC-{n:03}");
    let personal = rng.chance(70);
    let kind = [
        "misdirected_email",
        "lost_paperwork",
        "phishing",
        "unauthorised_access",
    ][rng.below(4) as usize];
    let discovered = log.stamp(
        t.checked_sub((1 + rng.below(6) as i64).hours())
            .unwrap_or(t),
    );
    let mut e = json!({"type": "incident_reported", "incident": id, "kind": kind, "discovered": discovered, "personal_data": personal});
    let present: Vec<usize> = (0..people.len()).filter(|&i| people[i].present).collect();
    if let Some(&p) = present.get(rng.below(present.len() as u64) as usize) {
        e["person"] = json!(people[p].id);
    }
    log.push(t, e);
    let after = |h: i64| t.checked_add(h.hours()).unwrap_or(t);
    match rng.below(10) {
        0 => {}
        1 | 2 => {
            log.push(
                after(20),
                json!({"type": "incident_assessed", "incident": id, "notifiable": true}),
            );
            log.push(
                after(90),
                json!({"type": "incident_regulator_notified", "incident": id}),
            );
        }
        3..=5 => log.push(
            after(18),
            json!({"type": "incident_assessed", "incident": id, "notifiable": false}),
        ),
        _ => {
            log.push(
                after(12),
                json!({"type": "incident_assessed", "incident": id, "notifiable": true}),
            );
            log.push(
                after(40),
                json!({"type": "incident_regulator_notified", "incident": id}),
            );
        }
    }
    log.push(
        after(24 * 20),
        json!({"type": "incident_closed", "incident": id}),
    );
}

/// Councillors claim their broadband once a year; the two sharing a
/// household both claim, and one claims twice.
fn broadband(log: &mut Log, rng: &mut Rng, people: &[Person]) {
    for (i, p) in people
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == "councillor" && p.present)
    {
        let day = date(2025, 6, 2)
            .checked_add((i as i64 * 2).days())
            .unwrap_or(date(2025, 6, 2));
        let household = if i < 2 {
            "h-shared".to_owned()
        } else {
            format!("h{:03}", i + 1)
        };
        let pounds = 30 + rng.below(70);
        let t = log.at(day, 11, 0);
        log.push(t, json!({"type": "expense_claimed", "person": p.id, "category": "broadband", "amount": format!("{pounds}.00"), "household": household}));
    }
    // One councillor claims again in January, taking the year over £100.
    if let Some((i, p)) = people
        .iter()
        .enumerate()
        .find(|(i, p)| *i >= 2 && p.kind == "councillor" && p.present)
    {
        let t = log.at(date(2026, 1, 12), 11, 0);
        let household = format!("h{:03}", i + 1);
        log.push(t, json!({"type": "expense_claimed", "person": p.id, "category": "broadband", "amount": "75.00", "household": household}));
    }
}

#[allow(dead_code)]
fn main() {
    for f in FLAVOURS {
        let path = format!("examples/{}.jsonl", f.id);
        if let Err(e) = std::fs::write(&path, generate(f)) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        println!("wrote {path}");
    }
}
