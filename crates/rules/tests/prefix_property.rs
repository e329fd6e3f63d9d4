//! Properties over generated logs: evaluating a log as of `t` equals
//! evaluating the prefix of the log up to `t`; and what the statuses claim
//! about `t` holds (open is not yet due, overdue is past due).

use test_utils::packs;

use domain::Event;
use jiff::{Timestamp, ToSpan};
use proptest::prelude::*;
use rules::{PolicyPack, Status, evaluate};

/// Turns raw numbers into a valid log: a small simulation keeps track of who
/// is here and which devices exist, and skips actions that would not fit.
fn build_log(pack: &PolicyPack, steps: &[(u8, u16, u16, u32)]) -> String {
    let mut at: Timestamp = "2024-01-01T09:00:00Z".parse().expect("start");
    let mut people: Vec<(String, bool)> = Vec::new(); // (id, present)
    let mut devices: Vec<(String, Option<usize>, bool)> = Vec::new(); // (id, holder, disposed)
    let mut incidents = 0usize;
    let policies: Vec<String> = pack.policies.iter().map(|p| p.id.to_string()).collect();
    let kinds = ["councillor", "employee", "third_party"];
    let device_kinds = ["laptop", "tablet", "smartphone", "token"];
    let mut lines = Vec::new();
    // Every log starts with someone, so no generated log is empty.
    let first = (0u8, 0u16, 0u16, 0u32);
    for &(action, a, b, gap) in std::iter::once(&first).chain(steps) {
        at = at.checked_add(i64::from(gap).minutes()).expect("in range");
        let stamp = at.to_string();
        let present: Vec<usize> = people
            .iter()
            .enumerate()
            .filter(|(_, p)| p.1)
            .map(|(i, _)| i)
            .collect();
        let pick = |n: u16| present.get(usize::from(n) % present.len().max(1)).copied();
        let person = pick(a).map(|i| people[i].0.clone());
        let line = match (action % 22, person) {
            (0 | 1, _) => {
                let id = format!("p{}", people.len());
                people.push((id.clone(), true));
                format!(
                    r#"{{"at":"{stamp}","type":"person_joined","person":"{id}","name":"N","kind":"{}","household":"h{}"}}"#,
                    kinds[usize::from(b) % 3],
                    b % 5
                )
            }
            (2, Some(p)) => {
                if let Some(i) = pick(a) {
                    people[i].1 = false;
                }
                format!(r#"{{"at":"{stamp}","type":"person_left","person":"{p}"}}"#)
            }
            (3, Some(p)) => format!(
                r#"{{"at":"{stamp}","type":"person_moved","person":"{p}","department":"D{b}"}}"#
            ),
            (4, _) => {
                let id = format!("d{}", devices.len());
                devices.push((id.clone(), None, false));
                let owner = if b % 4 == 0 { "personal" } else { "council" };
                format!(
                    r#"{{"at":"{stamp}","type":"device_registered","device":"{id}","kind":"{}","owner":"{owner}","acquired":"202{}-0{}-1{}"}}"#,
                    device_kinds[usize::from(b) % 4],
                    b % 4,
                    1 + b % 9,
                    b % 10
                )
            }
            (5 | 6, Some(p)) => {
                let Some(d) = devices.iter().position(|d| d.1.is_none() && !d.2) else {
                    continue;
                };
                devices[d].1 = pick(a);
                format!(
                    r#"{{"at":"{stamp}","type":"device_issued","device":"{}","person":"{p}"}}"#,
                    devices[d].0
                )
            }
            (7, _) => {
                let Some(d) = devices.iter().position(|d| d.1.is_some() && !d.2) else {
                    continue;
                };
                devices[d].1 = None;
                format!(
                    r#"{{"at":"{stamp}","type":"device_returned","device":"{}"}}"#,
                    devices[d].0
                )
            }
            (8, _) if !devices.is_empty() => {
                let d = usize::from(b) % devices.len();
                if devices[d].2 {
                    continue;
                }
                let discovered = at.checked_sub(i64::from(a % 60).hours()).expect("in range");
                format!(
                    r#"{{"at":"{stamp}","type":"device_lost","device":"{}","discovered":"{discovered}","stolen":{}}}"#,
                    devices[d].0,
                    a % 2 == 0
                )
            }
            (9, _) if !devices.is_empty() => {
                let d = usize::from(b) % devices.len();
                if devices[d].2 {
                    continue;
                }
                devices[d] = (devices[d].0.clone(), None, true);
                format!(
                    r#"{{"at":"{stamp}","type":"device_disposed","device":"{}","wiped":{}}}"#,
                    devices[d].0,
                    a % 3 != 0
                )
            }
            (10, Some(p)) => {
                let requester = pick(b)
                    .map(|i| people[i].0.clone())
                    .unwrap_or_else(|| p.clone());
                let resource = if a % 2 == 0 {
                    format!("restricted/r{}", b % 3)
                } else {
                    format!("r{}", b % 3)
                };
                format!(
                    r#"{{"at":"{stamp}","type":"access_granted","person":"{p}","resource":"{resource}","requested_by":"{requester}"}}"#
                )
            }
            (11, Some(p)) => format!(
                r#"{{"at":"{stamp}","type":"access_revoked","person":"{p}","resource":"r{}"}}"#,
                b % 3
            ),
            (12, Some(p)) => {
                format!(r#"{{"at":"{stamp}","type":"access_reviewed","person":"{p}"}}"#)
            }
            (13, Some(p)) => {
                format!(r#"{{"at":"{stamp}","type":"mfa_enrolled","person":"{p}","method":"sms"}}"#)
            }
            (14, Some(p)) => {
                format!(r#"{{"at":"{stamp}","type":"password_changed","person":"{p}"}}"#)
            }
            (15, Some(p)) => format!(
                r#"{{"at":"{stamp}","type":"training_completed","person":"{p}","course":"data_protection"}}"#
            ),
            (16, Some(p)) => {
                let agreement =
                    ["third_party_compliance", "mobile_device_user"][usize::from(b) % 2];
                format!(
                    r#"{{"at":"{stamp}","type":"agreement_signed","person":"{p}","agreement":"{agreement}"}}"#
                )
            }
            (17, Some(p)) if !policies.is_empty() => {
                let policy = &policies[usize::from(b) % policies.len()];
                format!(
                    r#"{{"at":"{stamp}","type":"policy_accepted","person":"{p}","policy":"{policy}","version":"v{}"}}"#,
                    b % 2
                )
            }
            (18, _) if !policies.is_empty() => {
                let policy = &policies[usize::from(b) % policies.len()];
                if a % 2 == 0 {
                    format!(
                        r#"{{"at":"{stamp}","type":"policy_approved","policy":"{policy}","version":"v{}","body":"council"}}"#,
                        a % 4 / 2
                    )
                } else {
                    format!(r#"{{"at":"{stamp}","type":"policy_reviewed","policy":"{policy}"}}"#)
                }
            }
            (19, _) => {
                incidents += 1;
                let discovered = at
                    .checked_sub(i64::from(a % 100).hours())
                    .expect("in range");
                format!(
                    r#"{{"at":"{stamp}","type":"incident_reported","incident":"i{incidents}","kind":"k","discovered":"{discovered}","personal_data":{}}}"#,
                    b % 3 != 0
                )
            }
            (20, _) if incidents > 0 => {
                let i = 1 + usize::from(b) % incidents;
                match a % 3 {
                    0 => format!(
                        r#"{{"at":"{stamp}","type":"incident_regulator_notified","incident":"i{i}"}}"#
                    ),
                    1 => format!(
                        r#"{{"at":"{stamp}","type":"incident_assessed","incident":"i{i}","notifiable":{}}}"#,
                        b % 2 == 0
                    ),
                    _ => {
                        format!(r#"{{"at":"{stamp}","type":"incident_closed","incident":"i{i}"}}"#)
                    }
                }
            }
            (21, Some(p)) => {
                if a % 2 == 0 {
                    format!(
                        r#"{{"at":"{stamp}","type":"expense_claimed","person":"{p}","category":"broadband","amount":"{}.50","household":"h{}"}}"#,
                        b % 90,
                        b % 4
                    )
                } else {
                    let to = if b % 2 == 0 {
                        "x@gmail.com"
                    } else {
                        "x@southend.gov.uk"
                    };
                    format!(
                        r#"{{"at":"{stamp}","type":"email_forwarding_detected","person":"{p}","to":"{to}"}}"#
                    )
                }
            }
            _ => continue,
        };
        lines.push(line);
    }
    lines.join("\n")
}

fn read(pack: &PolicyPack, text: &str) -> Vec<Event> {
    match domain::read_log(text, pack) {
        Ok(log) => log.into_iter().map(|l| l.event).collect(),
        Err(e) => panic!("the generator wrote a bad log: {e:?}\n{text}"),
    }
}

proptest! {
    #[test]
    fn evaluating_as_of_t_equals_evaluating_the_prefix_up_to_t(
        steps in prop::collection::vec((any::<u8>(), any::<u16>(), any::<u16>(), 0u32..4_320), 1..160),
        pack_index in 0usize..6,
        cut in 0u32..1_000,
    ) {
        let pack = packs::pack(packs::PACKS[pack_index]);
        let calendar = packs::calendar(&pack);
        let events = read(&pack, &build_log(&pack, &steps));
        let first = events.first().map(|e| e.at).expect("at least one event");
        let last = events.last().map(|e| e.at).expect("at least one event");
        let span = last.duration_since(first).as_secs().max(1);
        let t = first.checked_add(jiff::SignedDuration::from_secs(span * i64::from(cut) / 900)).expect("in range");
        let prefix: Vec<Event> = events.iter().filter(|e| e.at <= t).cloned().collect();
        let whole = evaluate(&pack, &calendar, &events, t);
        prop_assert_eq!(&whole, &evaluate(&pack, &calendar, &prefix, t));
        for f in &whole {
            prop_assert!(pack.rules.iter().any(|r| *r.id == *f.rule));
            match f.status {
                Status::Open => prop_assert!(f.due.is_some_and(|d| d >= t), "{:?}", f),
                Status::Overdue => prop_assert!(f.due.is_some_and(|d| d < t), "{:?}", f),
                Status::Met | Status::Late | Status::Violated => {
                    prop_assert!(f.settled.is_some_and(|s| s <= t), "{:?}", f)
                }
            }
            if let (Status::Late, Some(due), Some(settled)) = (f.status, f.due, f.settled) {
                prop_assert!(settled > due, "{:?}", f);
            }
            if let (Status::Met, Some(due), Some(settled)) = (f.status, f.due, f.settled) {
                prop_assert!(settled <= due, "{:?}", f);
            }
        }
    }
}
