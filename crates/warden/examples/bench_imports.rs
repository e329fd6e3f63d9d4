//! The 1,000,000-row import benchmark (issue: imports). `write DIR ROWS`
//! writes an `entra-users` and an `intune-devices` export of ROWS rows
//! each, made from `warden generate`'s people and devices (one generated
//! council of 20,000 people, copied with ids and emails made unique per
//! copy); `read FILE` is the floor: the csv crate reading every record of
//! the file, nothing else. `scripts/bench-imports` times `warden
//! import-csv --apply` on the same files beside it.
//!
//! Run: target/release/examples/bench_imports write DIR ROWS
//!      target/release/examples/bench_imports read FILE

// Wall-clock timing is what a benchmark is for; the domain never reads it.
#![allow(clippy::disallowed_methods)]

use domain::EventKind;
use std::collections::HashMap;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("write") if args.len() == 4 => {
            let rows = args[3].parse().expect("ROWS is a number");
            write(std::path::Path::new(&args[2]), rows);
        }
        Some("read") if args.len() == 3 => read(&args[2]),
        _ => {
            eprintln!("usage: bench_imports write DIR ROWS | bench_imports read FILE");
            std::process::exit(2);
        }
    }
}

fn read(path: &str) {
    let start = Instant::now();
    let mut reader = csv::Reader::from_path(path).expect("open");
    let mut record = csv::StringRecord::new();
    let mut rows = 0usize;
    while reader.read_record(&mut record).expect("read") {
        rows += 1;
    }
    println!(
        "floor: {rows} rows read in {:.3} s",
        start.elapsed().as_secs_f64()
    );
}

struct Person {
    id: String,
    name: String,
    email: String,
    job: String,
    department: String,
}

struct Device {
    id: String,
    kind: String,
    make: String,
    model: String,
    serial: String,
    enrolled: String,
    holder: Option<usize>,
}

/// `local@domain` as `local.COPY@domain`: unique in every copy.
fn copied_email(email: &str, copy: usize) -> String {
    match email.split_once('@') {
        Some((local, domain)) => format!("{local}.{copy}@{domain}"),
        None => format!("{email}.{copy}"),
    }
}

fn write(dir: &std::path::Path, rows: usize) {
    let pack = rules::load_pack("southend", &rules::bundled::Bundled).expect("pack");
    let spec = generate::Spec {
        people: 20_000,
        years: 1,
        seed: 7,
        end: generate::Spec::END,
    };
    let events = generate::council(&spec, 0, &pack);
    let mut people: Vec<Person> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut devices: Vec<Device> = Vec::new();
    let mut device_index: HashMap<String, usize> = HashMap::new();
    for e in &events {
        match &e.kind {
            EventKind::PersonJoined(p) if !index.contains_key(p.person.as_str()) => {
                index.insert(p.person.to_string(), people.len());
                people.push(Person {
                    id: p.person.to_string(),
                    name: p.name.clone(),
                    email: p
                        .email
                        .clone()
                        .unwrap_or_else(|| format!("{}@example.gov.uk", p.person)),
                    job: p.job.clone().unwrap_or_default(),
                    department: p.department.clone().unwrap_or_default(),
                });
            }
            EventKind::DeviceRegistered(d) => {
                device_index.insert(d.device.to_string(), devices.len());
                devices.push(Device {
                    id: d.device.to_string(),
                    kind: d.kind.0.clone(),
                    make: d.make.clone().unwrap_or_else(|| "Dell Inc.".into()),
                    model: d.model.clone().unwrap_or_else(|| "Latitude 5440".into()),
                    serial: d
                        .serial
                        .clone()
                        .unwrap_or_else(|| format!("SN{}", devices.len())),
                    enrolled: e.at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                    holder: None,
                });
            }
            EventKind::DeviceIssued(i) => {
                if let (Some(d), Some(p)) = (
                    device_index.get(i.device.as_str()),
                    index.get(i.person.as_str()),
                ) && devices[*d].holder.is_none()
                {
                    devices[*d].holder = Some(*p);
                }
            }
            _ => {}
        }
    }
    std::fs::create_dir_all(dir).expect("dir");
    let users = dir.join("entra-users.csv");
    let mut w = csv::Writer::from_path(&users).expect("create");
    w.write_record([
        "id",
        "userPrincipalName",
        "displayName",
        "mail",
        "userType",
        "jobTitle",
        "department",
        "accountEnabled",
    ])
    .expect("write");
    for i in 0..rows {
        let (p, copy) = (&people[i % people.len()], i / people.len());
        let email = copied_email(&p.email, copy);
        let id = format!("{}-{copy}", p.id);
        w.write_record([
            id.as_str(),
            &email,
            &p.name,
            &email,
            "Member",
            &p.job,
            &p.department,
            "True",
        ])
        .expect("write");
    }
    w.flush().expect("flush");
    let intune = dir.join("intune-devices.csv");
    let mut w = csv::Writer::from_path(&intune).expect("create");
    w.write_record([
        "Device ID",
        "Device name",
        "Enrollment date",
        "OS",
        "Serial number",
        "Manufacturer",
        "Model",
        "Ownership",
        "Primary user email address",
    ])
    .expect("write");
    for i in 0..rows {
        let (d, copy) = (&devices[i % devices.len()], i / devices.len());
        // Each copy of a device goes with the same copy of its holder.
        let user = d
            .holder
            .map(|h| copied_email(&people[h].email, copy.min(rows / people.len().max(1))))
            .unwrap_or_default();
        let os = match d.kind.as_str() {
            "smartphone" => "iOS",
            "tablet" => "iPadOS",
            _ => "Windows",
        };
        w.write_record([
            format!("{}-{copy}", d.id).as_str(),
            &d.id,
            &d.enrolled,
            os,
            &format!("{}-{copy}", d.serial),
            &d.make,
            &d.model,
            "Corporate",
            &user,
        ])
        .expect("write");
    }
    w.flush().expect("flush");
    println!(
        "wrote {} and {}: {rows} rows each, from {} generated people and {} devices",
        users.display(),
        intune.display(),
        people.len(),
        devices.len()
    );
}
