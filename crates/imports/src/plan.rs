//! The difference between a file and the estate, as events: who joined,
//! moved or left since the estate last heard. Running the same file again
//! plans nothing, since the estate then says what the file says.

use crate::read::{Device, Person, ReadError, Rows};
use domain::event::{
    DeviceDisposed, DeviceIssued, DeviceRegistered, DeviceReturned, PersonJoined, PersonLeft,
    PersonMoved,
};
use domain::{Estate, Event, EventKind, PersonId};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use std::collections::HashSet;

/// What the caller knows that the file does not say.
#[derive(Clone, Debug)]
pub struct Options {
    /// When the file's state held, for changes it gives no date for (a
    /// move, a disabled account, someone missing from a complete file).
    pub as_of: Option<Timestamp>,
    /// The file lists everyone: a present person it leaves out has left.
    pub complete: bool,
    /// The council's time zone: a file's dates are its days.
    pub tz: TimeZone,
    /// Now, by the caller's clock: a leaving date after it is not yet.
    pub now: Timestamp,
}

/// The events that bring the estate up to the file, in time order, and
/// what was read but not acted on, by line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    pub events: Vec<(u64, Event)>,
    pub notes: Vec<(u64, String)>,
}

impl Plan {
    /// How many events of each type, in the vocabulary's names.
    pub fn counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts: Vec<(&'static str, usize)> = Vec::new();
        for (_, e) in &self.events {
            let name = e.kind.event_type().name();
            match counts.iter_mut().find(|(n, _)| *n == name) {
                Some((_, c)) => *c += 1,
                None => counts.push((name, 1)),
            }
        }
        counts
    }
}

/// The plan for a file's rows against `estate`; or, for each row whose
/// change has no date of its own when `as_of` was not given, why not.
pub fn plan(estate: &Estate, rows: &Rows, options: &Options) -> Result<Plan, Vec<ReadError>> {
    match rows {
        Rows::People(people) => plan_people(estate, people, options),
        Rows::Devices(devices) => plan_devices(estate, devices, options),
    }
}

/// The day `d` at `hour` in the council's time zone.
fn at_day(options: &Options, d: Date, hour: i8) -> Timestamp {
    d.at(hour, 0, 0, 0)
        .to_zoned(options.tz.clone())
        .map(|z| z.timestamp())
        .unwrap_or(options.now)
}

/// Devices: new ones registered (and issued to their primary user, when
/// Warden knows that person by their email or id), a device whose primary
/// user changed handed back and issued again, and one the source has
/// retired, wiped or archived handed back and disposed of. A device with no
/// primary user, or one disposed of or lost, is left as the estate has it.
fn plan_devices(
    estate: &Estate,
    devices: &[Device],
    options: &Options,
) -> Result<Plan, Vec<ReadError>> {
    let mut plan = Plan::default();
    let mut errors = Vec::new();
    let by_email: std::collections::HashMap<String, PersonId> = estate
        .people
        .iter()
        .filter(|(_, p)| p.is_present())
        .filter_map(|(id, p)| {
            p.email
                .as_ref()
                .map(|e| (e.to_ascii_lowercase(), id.clone()))
        })
        .collect();
    for d in devices {
        let user = d.user.as_ref().and_then(|u| {
            let found = by_email.get(&u.to_ascii_lowercase()).cloned().or_else(|| {
                let id = PersonId::from(u.as_str());
                estate
                    .people
                    .get(&id)
                    .filter(|p| p.is_present())
                    .map(|_| id)
            });
            if found.is_none() {
                plan.notes.push((d.line, format!("primary user {u} is not someone Warden knows by that email: {} is left unissued", d.id)));
            }
            found
        });
        let issue = |person: PersonId| {
            EventKind::DeviceIssued(DeviceIssued {
                device: d.id.clone(),
                person,
            })
        };
        match estate.devices.get(&d.id) {
            None if d.disposal.is_some() => plan.notes.push((
                d.line,
                format!("{} is gone by the source's account, and Warden never registered it: not recorded", d.id),
            )),
            None => {
                let at = match (d.enrolled, options.as_of) {
                    (Some(day), _) => at_day(options, day, 9),
                    (None, Some(at)) => at,
                    (None, None) => {
                        errors.push(ReadError::Line {
                            line: d.line,
                            message: format!("{} is new, and the file gives no enrollment date for it: give --as-of", d.id),
                        });
                        continue;
                    }
                };
                let registered = EventKind::DeviceRegistered(DeviceRegistered {
                    device: d.id.clone(),
                    kind: d.kind.clone(),
                    owner: d.owner,
                    acquired: d.acquired,
                    make: d.make.clone(),
                    model: d.model.clone(),
                    serial: d.serial.clone(),
                });
                plan.events.push((d.line, Event::new(at, registered)));
                if let Some(person) = user {
                    // Bought before Warden heard of its user (who came in
                    // from another file, dated later): issued when both were.
                    let joined = estate.people.get(&person).map(|p| p.joined);
                    let at = joined.map_or(at, |joined| joined.max(at));
                    plan.events.push((d.line, Event::new(at, issue(person))));
                }
            }
            Some(known) if known.disposed.is_some() || known.lost.is_some() => {}
            Some(known) if let Some(disposal) = d.disposal => {
                let what = "is retired, wiped or archived";
                let Some(at) = handed_back(d, known, what, options, &mut plan, &mut errors) else {
                    continue;
                };
                let gone = EventKind::DeviceDisposed(DeviceDisposed {
                    device: d.id.clone(),
                    wiped: disposal.wiped,
                    certificate: None,
                });
                plan.events.push((d.line, Event::new(at, gone)));
            }
            Some(known) => {
                let Some(person) = user.filter(|p| known.holder.as_ref() != Some(p)) else {
                    continue;
                };
                let what = "has a new primary user";
                let Some(at) = handed_back(d, known, what, options, &mut plan, &mut errors) else {
                    continue;
                };
                plan.events.push((d.line, Event::new(at, issue(person))));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    plan.events.sort_by_key(|(line, e)| (e.at, *line));
    Ok(plan)
}

/// A known device that changes hands or goes is first handed back by its
/// holder, on the day the file's state held (`--as-of`): that day, or, when
/// the file gives none, an error saying so.
fn handed_back(
    d: &Device,
    known: &domain::estate::Device,
    what: &str,
    options: &Options,
    plan: &mut Plan,
    errors: &mut Vec<ReadError>,
) -> Option<Timestamp> {
    let Some(at) = options.as_of else {
        errors.push(ReadError::Line {
            line: d.line,
            message: format!(
                "{} {what}, and the file gives no date for it: give --as-of",
                d.id
            ),
        });
        return None;
    };
    if let Some(holder) = &known.holder {
        let back = EventKind::DeviceReturned(DeviceReturned {
            device: d.id.clone(),
            person: Some(holder.clone()),
        });
        plan.events.push((d.line, Event::new(at, back)));
    }
    Some(at)
}

/// People: who joined, moved or left.
fn plan_people(
    estate: &Estate,
    people: &[Person],
    options: &Options,
) -> Result<Plan, Vec<ReadError>> {
    let mut plan = Plan::default();
    let mut errors = Vec::new();
    let at_day = |d: Date, hour: i8| at_day(options, d, hour);
    // A change the file dates no day for happened at `as_of`, if given.
    let mut undated = |line: u64, what: &str| match options.as_of {
        Some(at) => Some(at),
        None => {
            errors.push(ReadError::Line {
                line,
                message: format!("{what}, and the file gives no date for it: give --as-of (when the file's state held)"),
            });
            None
        }
    };
    for p in people {
        let known = estate.people.get(&p.id);
        let left_by_file = match p.leaving {
            Some(d) if at_day(d, 17) > options.now => {
                plan.notes
                    .push((p.line, format!("{} leaves on {d}: not yet", p.id)));
                None
            }
            Some(d) => Some(Left::On(at_day(d, 17))),
            None if !p.active => Some(Left::Disabled),
            None => None,
        };
        match known.filter(|k| k.is_present()) {
            None if known.is_some() && left_by_file.is_some() => {}
            None => {
                let at = match p.start {
                    Some(d) => Some(at_day(d, 9)),
                    None => undated(p.line, &format!("{} is new", p.id)),
                };
                let Some(at) = at else { continue };
                plan.events.push((p.line, Event::new(at, joined(p))));
                if let Some(left) = left_by_file {
                    let (left, why) = match left {
                        Left::On(t) => (t, LEFT),
                        Left::Disabled => {
                            (options.as_of.unwrap_or(at), PersonLeft::ACCOUNT_DISABLED)
                        }
                    };
                    plan.events
                        .push((p.line, Event::new(left.max(at), leaving(&p.id, why))));
                }
            }
            Some(k) => {
                let changed = |new: &Option<String>, old: &Option<String>| {
                    new.as_ref().filter(|n| Some(*n) != old.as_ref()).cloned()
                };
                let department = changed(&p.department, &k.department);
                let job = changed(&p.job, &k.job);
                let manager = p.manager.clone().filter(|m| Some(m) != k.manager.as_ref());
                let moves = department.is_some() || job.is_some() || manager.is_some();
                if moves && let Some(at) = undated(p.line, &format!("{} moved", p.id)) {
                    let moved = EventKind::PersonMoved(PersonMoved {
                        person: p.id.clone(),
                        department,
                        job,
                        manager,
                    });
                    plan.events.push((p.line, Event::new(at, moved)));
                }
                match left_by_file {
                    Some(Left::Disabled) => {
                        if let Some(at) =
                            undated(p.line, &format!("{}'s account is disabled", p.id))
                        {
                            let left = leaving(&p.id, PersonLeft::ACCOUNT_DISABLED);
                            plan.events.push((p.line, Event::new(at, left)));
                        }
                    }
                    Some(Left::On(at)) => plan
                        .events
                        .push((p.line, Event::new(at, leaving(&p.id, LEFT)))),
                    None => {}
                }
            }
        }
    }
    if options.complete {
        let listed: HashSet<&PersonId> = people.iter().map(|p| &p.id).collect();
        let mut missing: Vec<&PersonId> = estate
            .people
            .iter()
            .filter(|(id, p)| p.is_present() && !listed.contains(id))
            .map(|(id, _)| id)
            .collect();
        missing.sort();
        for id in missing {
            if let Some(at) = undated(0, &format!("{id} is not in the complete file")) {
                plan.events.push((0, Event::new(at, leaving(id, LEFT))));
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    // In time order; at one instant, as the file had them (a join before a
    // move that names the newcomer as manager).
    plan.events.sort_by_key(|(line, e)| (e.at, *line));
    Ok(plan)
}

/// How the file says someone left: on a day, or by a disabled account.
#[derive(Clone, Copy)]
enum Left {
    On(Timestamp),
    Disabled,
}

fn joined(p: &Person) -> EventKind {
    EventKind::PersonJoined(PersonJoined {
        person: p.id.clone(),
        name: p.name.clone(),
        kind: p.kind,
        email: p.email.clone(),
        household: p.household.clone(),
        term_ends: p.term_ends,
        job: p.job.clone(),
        department: p.department.clone(),
        manager: p.manager.clone(),
    })
}

/// Why someone the file says has left left, when it gives no more.
const LEFT: &str = "left, as the import file says";

fn leaving(person: &PersonId, why: &str) -> EventKind {
    EventKind::PersonLeft(PersonLeft {
        person: person.clone(),
        reason: Some(why.into()),
    })
}
