//! `warden demo`: a throwaway store holding a realistic council (Southend's
//! pack, about 60 councillors and 300 staff, a year of generated events
//! ending as today begins) and sign-ins for each role.

use crate::accounts::{Account, ApiToken, Scope, TotpKeys, random_hex, sha256_hex, token_text};
use domain::event::RoleChange;
use domain::{Estate, Event, EventKind, PersonId, PersonKind, Role};
use jiff::{SignedDuration, Timestamp};
use rules::PolicyPack;
use store::{Store, StoreError};

/// The councils the demo serves: every source council, each on its own
/// pack (so every kind of rule shows somewhere), Southend first, the one
/// the browser tests use.
pub const COUNCILS: [&str; 5] = rules::bundled::COUNCILS;
/// Every demo account's password. The demo is for trying Warden on one's
/// own machine; it listens on loopback only.
pub const PASSWORD: &str = "correct-horse-battery";

/// Why the demo could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the generated demo log was refused: {0}")]
    Refused(String),
    #[error("a demo account could not be made: {0}")]
    Account(String),
}

/// A demo sign-in.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub role: &'static str,
    pub person: PersonId,
    pub name: String,
    pub totp_secret: String,
}

/// The demo's history as a council keeps it, not as neatly as it happened:
/// a laptop handed back on time but booked in three days later, and a
/// mail-forwarding alert found to be a false alarm and voided. So the pages
/// show a finding "recorded 3 days later" and a struck-through entry.
fn as_recorded(mut events: Vec<Event>, now: Timestamp) -> Vec<Event> {
    let days = |n: i64| SignedDuration::from_hours(24 * n);
    // The latest return by a councillor who left (whose 48-hour clock it
    // meets), three days or more before now, of a
    // device nothing else happens to in those three days (an issue meanwhile
    // would find it still held, as far as Warden then knew).
    let by_a_leaver = |events: &[Event], i: usize| {
        let (person, at) = (events[i].kind.person().cloned(), events[i].at);
        let councillor = events.iter().any(|e| {
            matches!(&e.kind, EventKind::PersonJoined(j) if Some(&j.person) == person.as_ref() && j.kind == PersonKind::Councillor)
        });
        councillor
            && events.iter().any(|e| {
                matches!(e.kind, EventKind::PersonLeft(_))
                    && e.kind.person() == person.as_ref()
                    && e.at <= at
                    && e.at + days(5) > at
            })
    };
    let touched_after = |events: &[Event], i: usize| {
        let (device, at) = (events[i].kind.device().cloned(), events[i].at);
        events
            .iter()
            .any(|e| e.at > at && e.at <= at + days(3) && e.kind.device() == device.as_ref())
    };
    let late = (0..events.len()).rev().find(|&i| {
        matches!(events[i].kind, EventKind::DeviceReturned(_))
            && events[i].at + days(4) < now
            && by_a_leaver(&events, i)
            && !touched_after(&events, i)
    });
    if let Some(i) = late {
        let mut returned = events.remove(i);
        let recorded = returned.at + days(3);
        returned.recorded = Some(recorded);
        let place = events.partition_point(|e| e.recorded_or_at() <= recorded);
        events.insert(place, returned);
    }
    let alert = events
        .iter()
        .rposition(|e| matches!(e.kind, EventKind::EmailForwardingDetected(_)));
    if let Some(i) = alert {
        let id = domain::EventId::from("fwd-alert-1");
        events[i].id = Some(domain::EventRef::Id(id.clone()));
        let at = events[i].at + SignedDuration::from_hours(1);
        let void = Event::new(
            at,
            EventKind::EventVoided(domain::EventVoided {
                event: domain::EventRef::Id(id),
                reason: "a false alarm: the rule forwards to the council's own archive".into(),
            }),
        );
        let place = events.partition_point(|e| e.recorded_or_at() <= at);
        events.insert(place, void);
    }
    events
}

/// Someone present who holds `role`, or failing that the first present
/// person of `kind` with a device, in id order (so the demo is the same each time).
fn pick(
    estate: &Estate,
    role: Option<&str>,
    kind: PersonKind,
    taken: &[PersonId],
) -> Option<PersonId> {
    let mut ids: Vec<&PersonId> = estate
        .people
        .iter()
        .filter(|(id, p)| p.is_present() && !taken.contains(id))
        .map(|(id, _)| id)
        .collect();
    ids.sort();
    let has_role = |id: &PersonId, role: &str| {
        estate
            .people
            .get(id)
            .is_some_and(|p| p.roles.contains(&Role::from(role)))
    };
    let plain = |id: &PersonId| {
        estate
            .people
            .get(id)
            .is_some_and(|p| p.kind == kind && p.roles.is_empty() && !p.devices_held.is_empty())
    };
    let found = match role {
        Some(role) => ids.iter().find(|id| has_role(id, role)),
        None => None,
    };
    found
        .or_else(|| ids.iter().find(|id| plain(id)))
        .map(|id| (*id).clone())
}

/// What the demo made: its sign-ins, and a person worth trying the leaver
/// checklist on (a councillor with devices, whose return the pack times,
/// and no sign-in).
pub struct Demo {
    pub accounts: Vec<DemoAccount>,
    pub leaver: Option<PersonId>,
    /// A write token of the ICT administrator, for trying the API.
    pub api_token: Option<String>,
    /// A provisioning token of the ICT administrator, for trying SCIM.
    pub scim_token: Option<String>,
}

/// Fills `log` (which must not hold `council` yet) with a demo council on
/// `pack` and its accounts.
pub fn load(
    log: &mut dyn Store,
    council: &str,
    pack: &PolicyPack,
    now: Timestamp,
    seed: u64,
    people: usize,
    keys: &TotpKeys,
) -> Result<Demo, DemoError> {
    // A year that ends as today begins in the council's time zone: no event
    // is in the future, and weekdays and bank holidays fall where they do.
    let spec = generate::Spec {
        people,
        years: 1,
        seed,
        end: now.to_zoned(pack.time_zone.clone()).date(),
    };
    let events = as_recorded(generate::council(&spec, 0, pack), now);
    let estate: Estate = domain::timeline::fold(&events);
    let mut chosen: Vec<(&'static str, PersonId)> = Vec::new();
    let wanted: [(&'static str, Option<&str>, PersonKind); 5] = [
        ("ict_admin", Some("ict_admin"), PersonKind::Employee),
        ("information_governance", Some("dpo"), PersonKind::Employee),
        ("siro", Some("siro"), PersonKind::Employee),
        ("manager", None, PersonKind::Employee),
        ("member", None, PersonKind::Councillor),
    ];
    for (role, estate_role, kind) in wanted {
        let taken: Vec<PersonId> = chosen.iter().map(|(_, p)| p.clone()).collect();
        if let Some(p) = pick(&estate, estate_role, kind, &taken) {
            chosen.push((role, p));
        }
    }
    let taken: Vec<PersonId> = chosen.iter().map(|(_, p)| p.clone()).collect();
    let leaver = pick(&estate, None, PersonKind::Councillor, &taken);
    let mut events = events;
    let at = events
        .last()
        .map(|e| e.at)
        .unwrap_or(now)
        .max(now - SignedDuration::from_hours(1));
    if let Some((_, manager)) = chosen.iter().find(|(r, _)| *r == "manager") {
        events.push(Event::new(
            at,
            EventKind::RoleGranted(RoleChange {
                person: manager.clone(),
                role: Role::from("manager"),
            }),
        ));
        // A team to manage: eight present employees move under them.
        let team = estate
            .people
            .iter()
            .filter(|(id, p)| {
                p.is_present() && p.kind == PersonKind::Employee && !taken.contains(id)
            })
            .map(|(id, _)| id.clone())
            .take(8);
        for member in team {
            events.push(Event::new(
                at,
                EventKind::PersonMoved(domain::event::PersonMoved {
                    person: member,
                    department: None,
                    job: None,
                    manager: Some(manager.clone()),
                }),
            ));
        }
    }
    // In by the one way in, as a record of what happened: each event
    // recorded as it happened, so the demo's log reads as a v1 log would.
    let calendar = rules::Calendar::new(
        pack.time_zone.clone(),
        pack.division,
        &rules::HolidayFile::bundled(),
    );
    let mut ledger = rules::Ledger::new(pack, &calendar);
    ledger
        .admit_in_bulk(events, rules::Admission::as_it_happened(now))
        .map_err(|refused| {
            let first: Vec<String> = refused
                .iter()
                .take(3)
                .map(|(i, reason)| format!("event {}: {reason}", i + 1))
                .collect();
            DemoError::Refused(first.join("; "))
        })?;
    let events: Vec<Event> = ledger.events();
    log.init_council(council, &pack.id)?;
    let head = log.head(council)?;
    log.append(council, head, &events)?;
    let mut accounts = Vec::new();
    let mut api_token = None;
    let mut scim_token = None;
    for (role, person) in chosen {
        let (mut account, secret, _) =
            Account::enrolled(PASSWORD, keys).map_err(DemoError::Account)?;
        if role == "ict_admin" {
            let mut token = |scope: Scope| {
                let token_secret = random_hex::<32>();
                account.tokens.push(ApiToken {
                    id: random_hex::<8>(),
                    name: "demo".to_owned(),
                    sha256: sha256_hex(&token_secret),
                    scope,
                    created: now,
                    revoked: None,
                });
                Some(token_text(council, person.as_str(), &token_secret))
            };
            api_token = token(Scope::Write);
            scim_token = token(Scope::Provisioning);
        }
        let json =
            serde_json::to_string(&account).map_err(|e| DemoError::Account(e.to_string()))?;
        log.save_account(council, person.as_str(), &json)?;
        let name = estate
            .people
            .get(&person)
            .map(|p| p.name.clone())
            .unwrap_or_default();
        accounts.push(DemoAccount {
            role,
            person,
            name,
            totp_secret: secret,
        });
    }
    Ok(Demo {
        accounts,
        leaver,
        api_token,
        scim_token,
    })
}
