//! People's lives: who is here when, and everything that happens to one
//! person from joining to leaving.

use crate::{Day, Gen, accepted};
use domain::event::*;
use domain::*;
use jiff::Timestamp;
use jiff::civil::Date;
use rules::pack::RuleKind;
use std::collections::VecDeque;

/// One person's stay at the council, drawn before any of their events.
pub(crate) struct Life {
    pub id: PersonId,
    pub kind: PersonKind,
    pub join: Day,
    pub leave: Option<(Day, &'static str)>,
    /// Senior officers hold one role each and stay for the whole log, so
    /// there is always someone entitled to approve.
    pub role: Option<Role>,
    pub household: Option<HouseholdId>,
    pub term_ends: Option<Date>,
}

impl Life {
    pub fn present(&self, day: Day) -> bool {
        day >= self.join && self.leave.is_none_or(|(l, _)| day < l)
    }
}

/// Monthly chances of leaving, in basis points: about 12% of staff a year,
/// 30% of contractors, 3% of councillors between elections.
const LEAVE_BP: [(PersonKind, u64); 3] = [
    (PersonKind::Employee, 105),
    (PersonKind::ThirdParty, 300),
    (PersonKind::Councillor, 25),
];

/// Draws everyone who is at the council at some point: the headcount at the
/// start, and each leaver's successor.
pub(crate) fn lives(g: &mut Gen, people: usize) -> Vec<Life> {
    let mut roles: Vec<Role> = Vec::new();
    for role in g
        .pack
        .rules
        .iter()
        .filter_map(|r| match &r.kind {
            RuleKind::Permission(p) => Some(p.roles.clone()),
            _ => None,
        })
        .flatten()
        .chain(["siro", "ict_admin", "dpo"].map(Role::from))
    {
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    let councillors = (people / 5).max(3);
    let third_parties = (people / 20).max(1);
    let employees = people
        .saturating_sub(councillors + third_parties)
        .max(roles.len() + 2);
    let mut queue: VecDeque<(PersonKind, Day, Option<Role>)> = VecDeque::new();
    queue.extend(
        roles
            .into_iter()
            .map(|r| (PersonKind::Employee, 0, Some(r))),
    );
    let rest = employees.saturating_sub(queue.len());
    queue.extend(std::iter::repeat_n((PersonKind::Employee, 0, None), rest));
    queue.extend(std::iter::repeat_n(
        (PersonKind::Councillor, 0, None),
        councillors,
    ));
    queue.extend(std::iter::repeat_n(
        (PersonKind::ThirdParty, 0, None),
        third_parties,
    ));

    let mut lives = Vec::new();
    let mut councillor_no = 0;
    while let Some((kind, join, role)) = queue.pop_front() {
        let id = PersonId::from(format!("{}-p{:05}", g.prefix, lives.len() + 1));
        let leave = if role.is_some() {
            None
        } else {
            leaving(g, kind, join)
        };
        if let Some((day, reason)) = leave {
            let next = match (kind, reason) {
                (PersonKind::Councillor, "not re-elected") => day,
                (PersonKind::Councillor, _) => day + 70, // a by-election
                (PersonKind::ThirdParty, _) => day + 7 + g.rng.below(30) as i64,
                (PersonKind::Employee, _) => day + 14 + g.rng.below(45) as i64,
            };
            if next < g.time.days {
                queue.push_back((kind, g.time.weekday(next), None));
            }
        }
        let (household, term_ends) = if kind == PersonKind::Councillor {
            councillor_no += 1;
            // Now and then two councillors share a home (and its broadband).
            let n = if councillor_no % 15 == 0 {
                councillor_no - 1
            } else {
                councillor_no
            };
            let household = HouseholdId::from(format!("{}-h{n:04}", g.prefix));
            let term = g
                .election_dates
                .iter()
                .copied()
                .find(|e| *e > g.time.date(join));
            (Some(household), term)
        } else {
            (None, None)
        };
        if let Some(r) = &role {
            g.permanent.push((id.clone(), r.clone()));
        }
        lives.push(Life {
            id,
            kind,
            join,
            leave,
            role,
            household,
            term_ends,
        });
    }
    lives
}

/// When and why someone who joined on `join` leaves, if within the log.
fn leaving(g: &mut Gen, kind: PersonKind, join: Day) -> Option<(Day, &'static str)> {
    let bp = LEAVE_BP
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(100, |b| b.1);
    let mut month = join + 30;
    let mut leave = None;
    while month < g.time.days {
        if g.rng.basis_points(bp) {
            let reason = match kind {
                PersonKind::Councillor => "resigned",
                PersonKind::Employee => "left employment",
                PersonKind::ThirdParty => "contract ended",
            };
            leave = Some((g.time.weekday(month + g.rng.below(30) as i64), reason));
            break;
        }
        month += 30;
    }
    if kind == PersonKind::Councillor {
        // About a third of seats change hands at an election.
        let lost = g
            .elections
            .clone()
            .into_iter()
            .filter(|e| *e > join && leave.is_none_or(|(l, _)| *e < l))
            .find(|_| g.rng.chance(30));
        if let Some(e) = lost {
            leave = Some((g.time.weekday(e + 1), "not re-elected"));
        }
    }
    leave.filter(|(day, _)| *day < g.time.days)
}

/// A device in someone's hands.
struct Held {
    id: DeviceId,
    kind: &'static str,
    issued: Day,
    /// When it is due to be swapped for a new one, or lost.
    next: (Day, Next),
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Next {
    Replace,
    Lose,
}

/// Everything that happens to one person.
pub(crate) fn live(g: &mut Gen, life: &Life) {
    let end = life.leave.map_or(g.time.days, |(d, _)| d.min(g.time.days));
    // Senior officers are on the register before anyone they approve for.
    let first_minute = if life.role.is_some() { 7 * 60 } else { 8 * 60 };
    let start = g.time.at(life.join, first_minute + g.rng.below(60) as i64);
    let minute = |n: i64| {
        start
            .checked_add(jiff::SignedDuration::from_mins(n))
            .unwrap_or(start)
    };
    let name = name(g, life);
    let email = format!("{}@{}", life.id, g.mail_domain);
    g.log.push(
        start,
        EventKind::PersonJoined(PersonJoined {
            person: life.id.clone(),
            name,
            kind: life.kind,
            email: Some(email),
            household: life.household.clone(),
            term_ends: life.term_ends,
            job: None,
            department: None,
            manager: None,
        }),
    );
    if let Some(role) = &life.role {
        g.log.push(
            minute(1),
            EventKind::RoleGranted(RoleChange {
                person: life.id.clone(),
                role: role.clone(),
            }),
        );
    }
    let trained = onboard_checks(g, life, &minute);
    let mut held = Vec::new();
    if life.kind != PersonKind::ThirdParty {
        let laptop = new_device(g, life, "laptop", life.join, minute(5), true);
        held.push(laptop);
        if g.rng.chance(45) {
            if g.rng.chance(80) {
                g.log.push(
                    minute(7),
                    EventKind::AgreementSigned(AgreementSigned {
                        person: life.id.clone(),
                        agreement: "mobile_device_user".into(),
                    }),
                );
            }
            let kind = if g.rng.chance(60) {
                "smartphone"
            } else {
                "tablet"
            };
            held.push(new_device(g, life, kind, life.join, minute(8), true));
        }
    }
    let resources = grant_access(g, life, &minute);
    passwords(g, life, end);
    training(g, life, trained, end);
    if life.kind == PersonKind::Employee {
        moves(g, life, end);
    }
    forwarding(g, life, end);
    devices(g, life, &mut held, end);
    if let Some((day, reason)) = life.leave {
        leave(g, life, day, reason, &held, &resources);
    }
}

fn name(g: &mut Gen, life: &Life) -> String {
    let first = g.rng.pick(&crate::names::FIRST).copied().unwrap_or("Sam");
    let last = g.rng.pick(&crate::names::LAST).copied().unwrap_or("Smith");
    match life.kind {
        PersonKind::Councillor => format!("Cllr {first} {last}"),
        PersonKind::ThirdParty => format!("{first} {last} (IT contractor)"),
        PersonKind::Employee => format!("{first} {last}"),
    }
}

/// MFA, training, acceptances and agreements on the first day: mostly done,
/// now and then missed (and caught up later, or never). Returns the day of
/// the first data protection training, if any.
fn onboard_checks(g: &mut Gen, life: &Life, minute: &dyn Fn(i64) -> Timestamp) -> Option<Day> {
    let person = &life.id;
    if g.rng.chance(92) {
        let method = *g
            .rng
            .pick(&[
                MfaMethod::AuthenticatorApp,
                MfaMethod::Sms,
                MfaMethod::HardwareToken,
            ])
            .unwrap_or(&MfaMethod::AuthenticatorApp);
        g.log.push(minute(1), mfa(person, method));
    } else if g.rng.chance(50) {
        let day = g.time.weekday(life.join + 20 + g.rng.below(180) as i64);
        if life.present(day) {
            g.log.push(
                g.time.at(day, 9 * 60),
                mfa(person, MfaMethod::AuthenticatorApp),
            );
        }
    }
    let trained = if g.rng.chance(88) {
        g.log.push(minute(2), trained(person));
        Some(life.join)
    } else if g.rng.chance(50) {
        let day = g.time.weekday(life.join + 30 + g.rng.below(90) as i64);
        life.present(day).then(|| {
            g.log.push(g.time.at(day, 14 * 60), trained(person));
            day
        })
    } else {
        None
    };
    let policies: Vec<_> = g
        .pack
        .policies
        .iter()
        .filter(|p| p.accepted_by.contains(&life.kind))
        .map(|p| p.id.clone())
        .collect();
    for policy in policies {
        if let Some(version) = g.version_at(&policy, life.join).map(str::to_owned)
            && g.rng.chance(90)
        {
            g.log.push(minute(3), accepted(person, &policy, &version));
        }
    }
    if life.kind == PersonKind::ThirdParty && g.rng.chance(60) {
        g.log.push(
            minute(4),
            EventKind::AgreementSigned(AgreementSigned {
                person: person.clone(),
                agreement: "third_party_compliance".into(),
            }),
        );
    }
    trained
}

fn mfa(person: &PersonId, method: MfaMethod) -> EventKind {
    EventKind::MfaEnrolled(MfaEnrolled {
        person: person.clone(),
        method,
    })
}

fn trained(person: &PersonId) -> EventKind {
    EventKind::TrainingCompleted(TrainingCompleted {
        person: person.clone(),
        course: "data_protection".into(),
    })
}

fn grant_access(g: &mut Gen, life: &Life, minute: &dyn Fn(i64) -> Timestamp) -> Vec<ResourceId> {
    let mut resources: Vec<ResourceId> = vec!["email".into()];
    match life.kind {
        PersonKind::Councillor => resources.push("modern-gov".into()),
        PersonKind::Employee => {
            resources.push("crm".into());
            if life.role.is_none() && g.rng.chance(25) {
                let which = *g
                    .rng
                    .pick(&["restricted/hr", "restricted/finance"])
                    .unwrap_or(&"restricted/hr");
                resources.push(which.into());
            }
        }
        PersonKind::ThirdParty => resources.push("server".into()),
    }
    let requesters = g.roles_for(EventType::AccessGranted);
    for (n, resource) in resources.iter().enumerate() {
        let (requested_by, approved_by) = if resource.as_str().starts_with("restricted/") {
            let requester = g.approver(&requesters);
            let approver = g.approver(&[]);
            (Some(requester), Some(approver))
        } else {
            (None, None)
        };
        g.log.push(
            minute(10 + n as i64),
            EventKind::AccessGranted(AccessChange {
                person: life.id.clone(),
                resource: resource.clone(),
                requested_by,
                approved_by,
            }),
        );
    }
    resources
}

/// Passwords changed every five to seven months; some people let it slip,
/// a few stop altogether.
fn passwords(g: &mut Gen, life: &Life, end: Day) {
    let mut day = life.join + 90 + g.rng.below(100) as i64;
    loop {
        day = g.time.weekday(day);
        if day >= end {
            break;
        }
        g.log.push(
            g.time.at(day, 9 * 60 + 30),
            EventKind::PasswordChanged(PersonOnly {
                person: life.id.clone(),
            }),
        );
        day += match g.rng.below(100) {
            0..=2 => break,
            3..=9 => 200 + g.rng.below(60) as i64,
            _ => 150 + g.rng.below(30) as i64,
        };
    }
}

/// Data protection training refreshed about every three years.
fn training(g: &mut Gen, life: &Life, first: Option<Day>, end: Day) {
    let Some(mut day) = first else {
        return;
    };
    loop {
        day += match g.rng.below(100) {
            0..=4 => return,
            5..=14 => 1_100 + g.rng.below(200) as i64,
            _ => 950 + g.rng.below(130) as i64,
        };
        day = g.time.weekday(day);
        if day >= end {
            return;
        }
        g.log.push(g.time.at(day, 14 * 60), trained(&life.id));
    }
}

/// Staff moving between departments, and the access review that should
/// follow within days.
fn moves(g: &mut Gen, life: &Life, end: Day) {
    const DEPARTMENTS: [&str; 6] = [
        "Housing",
        "Finance",
        "Democratic Services",
        "Planning",
        "Customer Services",
        "Environmental Health",
    ];
    let mut month = life.join + 60;
    while month < end {
        if g.rng.basis_points(70) {
            let day = g.time.weekday(month);
            if day >= end {
                break;
            }
            let department = g.rng.pick(&DEPARTMENTS).map(|d| d.to_string());
            g.log.push(
                g.time.at(day, 11 * 60),
                EventKind::PersonMoved(PersonMoved {
                    person: life.id.clone(),
                    department,
                    job: None,
                    manager: None,
                }),
            );
            let after = match g.rng.below(10) {
                0 => None,
                1 => Some(10),
                _ => Some(1 + g.rng.below(4) as i64),
            };
            if let Some(after) = after.map(|a| g.time.weekday(day + a)).filter(|d| *d < end) {
                g.log.push(
                    g.time.at(after, 15 * 60),
                    EventKind::AccessReviewed(PersonOnly {
                        person: life.id.clone(),
                    }),
                );
            }
        }
        month += 30;
    }
}

/// Mail forwarding found by the monthly audit, half of it to a private address.
fn forwarding(g: &mut Gen, life: &Life, end: Day) {
    let mut month = life.join + 30;
    while month < end {
        if g.rng.basis_points(10) {
            let to = if g.rng.chance(50) {
                format!("{}.home@gmail.com", life.id)
            } else {
                format!("team@{}", g.mail_domain)
            };
            let day = g.time.weekday(month);
            if day < end {
                g.log.push(
                    g.time.at(day, 11 * 60 + 15),
                    EventKind::EmailForwardingDetected(EmailForwardingDetected {
                        person: life.id.clone(),
                        to,
                    }),
                );
            }
        }
        month += 30;
    }
}

/// Registers a device and issues it. A device issued on the first day of the
/// log was bought some time before; any other is new.
fn new_device(
    g: &mut Gen,
    life: &Life,
    kind: &'static str,
    day: Day,
    at: Timestamp,
    first_issue: bool,
) -> Held {
    let acquired = if first_issue && day == 0 {
        -(g.rng.below(1_400) as i64)
    } else {
        day
    };
    let id = g.device_id(kind);
    g.log.push(
        at,
        EventKind::DeviceRegistered(DeviceRegistered {
            device: id.clone(),
            kind: DeviceKind(kind.into()),
            owner: DeviceOwner::Council,
            acquired: Some(g.time.date(acquired)),
            make: None,
            model: None,
            serial: None,
        }),
    );
    let issued_at = at
        .checked_add(jiff::SignedDuration::from_mins(1))
        .unwrap_or(at);
    g.log.push(
        issued_at,
        EventKind::DeviceIssued(DeviceIssued {
            device: id.clone(),
            person: life.id.clone(),
        }),
    );
    // Replaced at three to four and a half years old; about 3% a year lost.
    let replace =
        (acquired + 1_100 + g.rng.below(500) as i64).max(day + 30 + g.rng.below(200) as i64);
    let mut lose = None;
    let mut month = day + 30;
    while month < replace {
        if g.rng.basis_points(25) {
            lose = Some(month + g.rng.below(30) as i64);
            break;
        }
        month += 30;
    }
    let next = match lose {
        Some(l) if l < replace => (l, Next::Lose),
        _ => (replace, Next::Replace),
    };
    Held {
        id,
        kind,
        issued: day,
        next,
    }
}

/// Each device until the person leaves: swapped when old, replaced when lost,
/// and laptops now and then approved to leave the premises.
fn devices(g: &mut Gen, life: &Life, held: &mut Vec<Held>, end: Day) {
    loop {
        let Some(i) = (0..held.len()).min_by_key(|&i| held[i].next.0) else {
            return;
        };
        let (day, what) = held[i].next;
        let day = g.time.weekday(day);
        if day >= end {
            break;
        }
        let old = held.swap_remove(i);
        removal_approvals(g, &old, day);
        let at = g.time.at(day, 10 * 60 + g.rng.below(300) as i64);
        let kind = old.kind;
        match what {
            Next::Replace => {
                held.push(new_device(g, life, kind, day, at, false));
                let back = at
                    .checked_add(jiff::SignedDuration::from_mins(5))
                    .unwrap_or(at);
                g.log.push(back, returned(&old.id, &life.id));
                dispose(g, &old.id, day);
            }
            Next::Lose => {
                let hours = if g.rng.chance(25) {
                    30 + g.rng.below(40) as i64
                } else {
                    1 + g.rng.below(12) as i64
                };
                let discovered = at
                    .checked_sub(jiff::SignedDuration::from_hours(hours))
                    .unwrap_or(at);
                g.log.push(
                    at,
                    EventKind::DeviceLost(DeviceLost {
                        device: old.id.clone(),
                        discovered,
                        stolen: g.rng.chance(40),
                    }),
                );
                let next = g.time.weekday(day + 1);
                let replacement_at = g.time.at(next, 9 * 60);
                held.push(new_device(g, life, kind, next, replacement_at, false));
                // Wiped remotely and written off the register a week later.
                let off = g.time.weekday(day + 7);
                g.log.push(
                    g.time.at(off, 16 * 60),
                    EventKind::DeviceDisposed(DeviceDisposed {
                        device: old.id,
                        wiped: true,
                        certificate: Some("remote wipe; written off as lost".into()),
                    }),
                );
            }
        }
    }
    for device in held.iter() {
        removal_approvals(g, device, end);
    }
}

fn removal_approvals(g: &mut Gen, device: &Held, until: Day) {
    if device.kind != "laptop" {
        return;
    }
    let approvers = g.roles_for(EventType::DeviceRemovalApproved);
    let mut day = device.issued + 20;
    while day < until {
        if g.rng.chance(12) {
            let approved_by = g.approver(&approvers);
            let on = g.time.weekday(day);
            if on < until {
                g.log.push(
                    g.time.at(on, 12 * 60),
                    EventKind::DeviceRemovalApproved(DeviceRemovalApproved {
                        device: device.id.clone(),
                        approved_by,
                    }),
                );
            }
        }
        day += 365;
    }
}

fn returned(device: &DeviceId, person: &PersonId) -> EventKind {
    EventKind::DeviceReturned(DeviceReturned {
        device: device.clone(),
        person: Some(person.clone()),
    })
}

/// A returned device goes for disposal within weeks; now and then one goes
/// unwiped.
fn dispose(g: &mut Gen, device: &DeviceId, returned: Day) {
    let day = g.time.weekday(returned + 14 + g.rng.below(45) as i64);
    let wiped = !g.rng.chance(3);
    g.log.push(
        g.time.at(day, 15 * 60),
        EventKind::DeviceDisposed(DeviceDisposed {
            device: device.clone(),
            wiped,
            certificate: wiped.then(|| format!("WEEE-{}", device)),
        }),
    );
}

/// A leaver: devices come back (mostly in time, some late, a few never) and
/// access is revoked (mostly the same day).
fn leave(
    g: &mut Gen,
    life: &Life,
    day: Day,
    reason: &'static str,
    held: &[Held],
    resources: &[ResourceId],
) {
    let at = g.time.at(day, 10 * 60 + g.rng.below(360) as i64);
    let after = |hours: i64| {
        at.checked_add(jiff::SignedDuration::from_hours(hours))
            .unwrap_or(at)
    };
    let left = EventKind::PersonLeft(PersonLeft {
        person: life.id.clone(),
        reason: Some(reason.into()),
    });
    // Now and then HR books a leaver in days late, after their devices and
    // access were dealt with: the log shows when Warden learned of it.
    if life.kind == PersonKind::Employee && g.rng.chance(10) {
        let late = 24 * (1 + g.rng.below(4) as i64) + 48;
        g.log.push_late(at, after(late), left);
        // Meanwhile a request for more access went through, for someone
        // who had already gone; revoked once the leaving is known.
        if g.rng.chance(50) {
            let granted = EventKind::AccessGranted(AccessChange {
                person: life.id.clone(),
                resource: ResourceId::from("planning"),
                requested_by: None,
                approved_by: None,
            });
            g.log.push(after(24), granted);
            g.log.push(
                after(late + 1),
                EventKind::AccessRevoked(AccessChange {
                    person: life.id.clone(),
                    resource: ResourceId::from("planning"),
                    requested_by: None,
                    approved_by: None,
                }),
            );
        }
    } else {
        g.log.push(at, left);
    }
    for device in held {
        let hours = match g.rng.below(10) {
            0 => continue, // never returned
            1 => 60,
            2 => 24 * 9,
            _ => 2 + g.rng.below(30) as i64,
        };
        g.log.push(after(hours), returned(&device.id, &life.id));
        dispose(g, &device.id, day + hours / 24 + 1);
    }
    for resource in resources {
        let hours = match g.rng.below(10) {
            0 => continue,
            1 => 20,
            _ => 1,
        };
        g.log.push(
            after(hours),
            EventKind::AccessRevoked(AccessChange {
                person: life.id.clone(),
                resource: resource.clone(),
                requested_by: None,
                approved_by: None,
            }),
        );
    }
}
