//! Realistic event logs for many councils, for benchmarks, demos and
//! property tests: `warden generate` is a thin wrapper over [`council`].
//!
//! Deterministic: the same spec, council index and pack give the same events
//! on every run and platform (a splitmix64 stream per council, integer
//! arithmetic only, no clock). Councils are independent, so they can be made
//! in parallel and one council can be made without the others.
//!
//! Each council's log covers the `years` financial years that end on 31 March
//! 2026. People's lives are drawn first (who joins, who leaves and when,
//! including councillors who lose their seats at the elections every four
//! years in May); then each person's own events, the council's policies,
//! incidents and claims. Most obligations are met, a realistic share late or
//! missed, so that every rule kind reaches every status it can. The pack
//! supplies the policies, roles, courses and mail domain; a rule the pack
//! lacks costs nothing but a few events nobody checks.
//!
//! Every log is valid: each event passes `Estate::check` against the events
//! before it (a test holds the generator to that for every seed pack).

pub mod names;
mod people;
mod rng;

use domain::*;
use jiff::Timestamp;
use jiff::civil::{Date, Weekday, date};
use jiff::tz::TimeZone;
pub use rng::Rng;
use rules::pack::{PolicyPack, RuleKind};

/// What to generate for each council.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Headcount when the log begins (councillors, staff, third parties).
    pub people: usize,
    /// Years covered, ending the day before `end` (1 to 20).
    pub years: u16,
    pub seed: u64,
    /// The log holds only events before this day begins (in the council's
    /// time zone). `Spec::END`, 1 April 2026, makes its years financial
    /// years; the demo ends its log today.
    pub end: Date,
}

impl Spec {
    /// The end the examples, tests and benchmarks use: 1 April 2026.
    pub const END: Date = date(2026, 4, 1);

    /// The first day: `years` before `end`.
    pub fn first_day(&self) -> Date {
        let years = i64::from(self.years.clamp(1, 20));
        self.end
            .checked_sub(jiff::Span::new().years(years))
            .unwrap_or(self.end)
    }

    /// The day the log ends before.
    pub fn end_day(&self) -> Date {
        self.end
    }
}

/// The id of the council with this index, `c001` upwards; every id in its log
/// starts with it, so the logs of many councils can share one file.
pub fn council_id(index: usize) -> String {
    format!("c{:03}", index + 1)
}

/// One council's log, in time order.
pub fn council(spec: &Spec, index: usize, pack: &PolicyPack) -> Vec<Event> {
    let mut g = Gen::new(spec, index, pack);
    let lives = people::lives(&mut g, spec.people);
    g.policies(&lives);
    for life in &lives {
        people::live(&mut g, life);
    }
    g.incidents(&lives, spec.people);
    g.broadband(&lives);
    g.mistakes(&lives);
    g.finish()
}

/// Many councils' logs, council `i` with `packs[assigned[i]]`, made on every
/// core (councils are independent), returned in council order.
pub fn councils(spec: &Spec, packs: &[PolicyPack], assigned: &[usize]) -> Vec<Vec<Event>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut logs: Vec<Vec<Event>> = vec![Vec::new(); assigned.len()];
    std::thread::scope(|scope| {
        let chunk = assigned.len().div_ceil(threads).max(1);
        for (n, slots) in logs.chunks_mut(chunk).enumerate() {
            scope.spawn(move || {
                for (k, slot) in slots.iter_mut().enumerate() {
                    let index = n * chunk + k;
                    *slot = council(spec, index, &packs[assigned[index]]);
                }
            });
        }
    });
    logs
}

/// Days are counted from the first day of the log (day 0); minutes from
/// local midnight.
pub(crate) type Day = i64;

/// Days before day 0 that timestamps can reach (policies approved, devices
/// bought, before the council started recording).
const BEFORE: i64 = 1_500;

pub(crate) struct Gen<'a> {
    pub rng: Rng,
    pub pack: &'a PolicyPack,
    pub prefix: String,
    pub time: Days,
    /// Election days within the log, and every election date up to four
    /// years after it (for councillors' `term_ends`).
    pub elections: Vec<Day>,
    pub election_dates: Vec<Date>,
    pub log: Log,
    pub permanent: Vec<(PersonId, Role)>,
    pub next_device: u32,
    pub mail_domain: String,
    /// Each policy's versions and the day each came into force.
    policy_versions: Vec<(PolicyId, Day, String)>,
}

impl<'a> Gen<'a> {
    fn new(spec: &Spec, index: usize, pack: &'a PolicyPack) -> Self {
        let first = spec.first_day();
        let days = first
            .until(spec.end_day())
            .map_or(0, |s| s.get_days().into());
        let tz = pack.time_zone.clone();
        let midnights = (-BEFORE..days + 60)
            .map(|d| noon_based_midnight(&tz, first, d))
            .collect();
        // Councils elect every four years in May, in staggered years.
        let election_dates: Vec<Date> = (first.year()..=spec.end.year() + 4)
            .filter(|year| (*year as usize + index).is_multiple_of(4))
            .map(first_thursday_of_may)
            .collect();
        let elections = election_dates
            .iter()
            .map(|day| first.until(*day).map_or(0, |s| i64::from(s.get_days())))
            .filter(|d| (0..days).contains(d))
            .collect();
        Gen {
            rng: Rng::new(spec.seed, index as u64),
            pack,
            prefix: council_id(index),
            time: Days {
                first,
                days,
                midnights,
            },
            elections,
            election_dates,
            log: Log(Vec::new()),
            permanent: Vec::new(),
            next_device: 0,
            policy_versions: Vec::new(),
            mail_domain: pack
                .mail_domains
                .first()
                .cloned()
                .unwrap_or_else(|| "council.gov.uk".into()),
        }
    }

    pub fn device_id(&mut self, kind: &str) -> DeviceId {
        self.next_device += 1;
        let tag = kind.get(..3).unwrap_or(kind).to_ascii_uppercase();
        DeviceId::from(format!("{}-{tag}-{:05}", self.prefix, self.next_device))
    }

    /// The roles a permission rule of the pack names for this event type.
    pub fn roles_for(&self, event: EventType) -> Vec<Role> {
        self.pack
            .rules
            .iter()
            .filter_map(|r| match &r.kind {
                RuleKind::Permission(p) if p.on.event == event => Some(p.roles.clone()),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Someone who approves or requests: mostly a holder of one of `roles`,
    /// now and then someone who holds none of them (a finding to make).
    pub fn approver(&mut self, roles: &[Role]) -> PersonId {
        let (holders, others): (Vec<_>, Vec<_>) = self
            .permanent
            .iter()
            .partition(|(_, role)| roles.contains(role));
        let pool = if self.rng.chance(80) || others.is_empty() {
            holders
        } else {
            others
        };
        let pool = if pool.is_empty() {
            self.permanent.iter().collect()
        } else {
            pool
        };
        let i = self.rng.below(pool.len() as u64) as usize;
        pool.get(i).map_or_else(
            || PersonId::from(format!("{}-p00001", self.prefix)),
            |p| p.0.clone(),
        )
    }

    /// Each policy approved before the log begins, then reviewed about once a
    /// year (some late, some councils stop), now and then as a new version
    /// that everyone it binds accepts again.
    fn policies(&mut self, lives: &[people::Life]) {
        let pack = self.pack;
        for policy in &pack.policies {
            let approved = -(30 + self.rng.below(300) as i64);
            let mut version = policy.version.clone();
            let at = self.time.at(self.time.weekday(approved), 19 * 60);
            self.approve(policy, &version, at);
            self.policy_versions
                .push((policy.id.clone(), approved, version.clone()));
            let mut day = approved;
            let mut revision = 1;
            loop {
                day += match self.rng.below(100) {
                    0..=4 => break, // reviews stop: the recurrence goes overdue
                    5..=14 => 380 + self.rng.below(150) as i64,
                    _ => 300 + self.rng.below(60) as i64,
                };
                day = self.time.weekday(day);
                if day >= self.time.days {
                    break;
                }
                let at = self.time.at(day, 10 * 60);
                if self.rng.chance(25) {
                    revision += 1;
                    version = format!("{}.r{revision}", policy.version);
                    self.approve(policy, &version, at);
                    for life in lives
                        .iter()
                        .filter(|l| policy.accepted_by.contains(&l.kind))
                    {
                        let on = self.time.weekday(day + 3 + self.rng.below(40) as i64);
                        if life.present(on) && self.rng.chance(88) {
                            self.log.push(
                                self.time.at(on, 9 * 60 + 5),
                                accepted(&life.id, &policy.id, &version),
                            );
                        }
                    }
                } else {
                    self.log.push(
                        at,
                        EventKind::PolicyReviewed(domain::event::PolicyReviewed {
                            policy: policy.id.clone(),
                            version: None,
                        }),
                    );
                }
                self.policy_versions
                    .push((policy.id.clone(), day, version.clone()));
            }
        }
    }

    /// Incidents, about eight a year per hundred people: most breaches of
    /// personal data notified or assessed in time, some late, a few never.
    fn incidents(&mut self, lives: &[people::Life], headcount: usize) {
        // Per 100 people a year, so per 36,500 person-days: whole incidents
        // each day, and the remainder as a chance.
        let per_year = 8 * headcount as u64;
        let mut n = 0;
        for day in 0..self.time.days {
            let count = per_year / 36_500 + u64::from(self.rng.below(36_500) < per_year % 36_500);
            for _ in 0..count {
                n += 1;
                self.incident(lives, day, n);
            }
        }
    }

    fn incident(&mut self, lives: &[people::Life], day: Day, n: u32) {
        use domain::event::{IncidentAssessed, IncidentOnly, IncidentReported};
        let id = IncidentId::from(format!("{}-INC-{n:05}", self.prefix));
        let at = self.time.at(day, 9 * 60 + self.rng.below(540) as i64);
        let hours = |h: u64| jiff::SignedDuration::from_hours(h as i64);
        let discovered = at.checked_sub(hours(1 + self.rng.below(6))).unwrap_or(at);
        let kind = *self
            .rng
            .pick(&[
                "misdirected_email",
                "lost_paperwork",
                "phishing",
                "unauthorised_access",
            ])
            .unwrap_or(&"phishing");
        let person = (0..10)
            .filter_map(|_| self.rng.pick(lives))
            .find(|l| l.present(day))
            .map(|l| l.id.clone());
        self.log.push(
            at,
            EventKind::IncidentReported(IncidentReported {
                incident: id.clone(),
                kind: kind.into(),
                discovered,
                personal_data: self.rng.chance(70),
                person,
                device: None,
                description: None,
                severity: None,
                people_affected: None,
            }),
        );
        let after = |h: u64| at.checked_add(hours(h)).unwrap_or(at);
        let assessed = |notifiable| {
            EventKind::IncidentAssessed(IncidentAssessed {
                incident: id.clone(),
                notifiable,
            })
        };
        let only = || IncidentOnly {
            incident: id.clone(),
        };
        match self.rng.below(10) {
            0 => {}
            1 | 2 => {
                self.log.push(after(20), assessed(true));
                self.log.push(
                    after(80 + self.rng.below(40)),
                    EventKind::IncidentRegulatorNotified(domain::event::IncidentNotified {
                        incident: id.clone(),
                        reference: None,
                    }),
                );
            }
            3..=5 => self
                .log
                .push(after(6 + self.rng.below(60)), assessed(false)),
            _ => {
                self.log.push(after(12), assessed(true));
                self.log.push(
                    after(24 + self.rng.below(36)),
                    EventKind::IncidentRegulatorNotified(domain::event::IncidentNotified {
                        incident: id.clone(),
                        reference: None,
                    }),
                );
            }
        }
        self.log
            .push(after(24 * 20), EventKind::IncidentClosed(only()));
    }

    /// Councillors claim their broadband once a financial year, in June; the
    /// two who share a home both claim, and a few claim twice.
    fn broadband(&mut self, lives: &[people::Life]) {
        use domain::event::ExpenseClaimed;
        let mut june = self.time.first.year();
        loop {
            let Ok(first_june) = self.time.first.until(date(june, 6, 2)) else {
                return;
            };
            let day = i64::from(first_june.get_days());
            if day >= self.time.days {
                return;
            }
            for life in lives {
                let Some(household) = life.household.clone() else {
                    continue;
                };
                let on = self.time.weekday(day + self.rng.below(60) as i64);
                if !life.present(on) || !self.rng.chance(85) {
                    continue;
                }
                let pounds = 30 + self.rng.below(70) as i64;
                let claim = |amount: i64, household: HouseholdId| {
                    EventKind::ExpenseClaimed(ExpenseClaimed {
                        person: life.id.clone(),
                        category: "broadband".into(),
                        amount: Pence(amount * 100),
                        household,
                    })
                };
                self.log
                    .push(self.time.at(on, 11 * 60), claim(pounds, household.clone()));
                let again = self.time.weekday(day + 220);
                if self.rng.chance(3) && life.present(again) {
                    let more = 40 + self.rng.below(36) as i64;
                    self.log
                        .push(self.time.at(again, 11 * 60), claim(more, household));
                }
            }
            june += 1;
        }
    }

    /// About twice a year an access grant typed against the wrong person,
    /// voided minutes later by an entry that says why: the log keeps both.
    fn mistakes(&mut self, lives: &[people::Life]) {
        let mut n = 0;
        let mut month = 15;
        while month < self.time.days {
            if self.rng.chance(16) {
                let day = self.time.weekday(month);
                let staff: Vec<&people::Life> = lives
                    .iter()
                    .filter(|l| l.kind == PersonKind::Employee && l.present(day))
                    .collect();
                if let Some(life) = self.rng.pick(&staff) {
                    n += 1;
                    let id = EventId::from(format!("{}-err-{n:03}", self.prefix));
                    let at = self.time.at(day, 9 * 60 + 30);
                    let mut wrong = Event::new(
                        at,
                        EventKind::AccessGranted(domain::event::AccessChange {
                            person: life.id.clone(),
                            resource: ResourceId::from("payroll"),
                            requested_by: None,
                            approved_by: None,
                        }),
                    );
                    wrong.id = Some(EventRef::Id(id.clone()));
                    self.log.push_event(at, wrong);
                    let voided = self.time.at(day, 9 * 60 + 40);
                    self.log.push(
                        voided,
                        EventKind::EventVoided(domain::event::EventVoided {
                            event: EventRef::Id(id),
                            reason: "granted to the wrong person".into(),
                        }),
                    );
                }
            }
            month += 30;
        }
    }

    /// A version approved at `at`: by the body the pack's approval route
    /// names (now and then another, or without a consultation it asks
    /// for), and made known to those a pack's clock says must be informed
    /// (mostly in time). A pack with neither costs no draw.
    fn approve(&mut self, policy: &rules::pack::Policy, version: &str, at: Timestamp) {
        let pack = self.pack;
        let route = pack.route(&policy.id);
        let mut body = route
            .and_then(|r| r.approved_by.first().cloned())
            .or_else(|| policy.approving_body.clone())
            .unwrap_or_else(|| "council".into());
        let mut consulted = route.map(|r| r.consulted.clone()).filter(|c| !c.is_empty());
        if route.is_some() {
            match self.rng.below(20) {
                0 => body = "cabinet_member".into(),
                1 => consulted = None,
                _ => {}
            }
        }
        let approved = EventKind::PolicyApproved(domain::event::PolicyApproved {
            policy: policy.id.clone(),
            version: version.to_owned(),
            body,
            text_sha256: None,
            minor: None,
            consulted,
        });
        let informs = pack.rules.iter().any(|r| {
            matches!(&r.kind, RuleKind::Obligation(o)
                if o.trigger.event == EventType::PolicyApproved
                && o.discharged_by.iter().any(|m| m.event == EventType::PolicyCommunicated))
        });
        self.log.push(at, approved);
        if informs && self.rng.chance(90) {
            let days = 1 + self.rng.below(16) as i64;
            let told = at
                .checked_add(jiff::SignedDuration::from_hours(24 * days))
                .unwrap_or(at);
            self.log.push(
                told,
                EventKind::PolicyCommunicated(domain::event::PolicyCommunicated {
                    policy: policy.id.clone(),
                    version: version.to_owned(),
                    to: "all_councillors".into(),
                }),
            );
        }
    }

    /// The version of `policy` in force on `day`.
    pub fn version_at(&self, policy: &PolicyId, day: Day) -> Option<&str> {
        self.policy_versions
            .iter()
            .filter(|(p, from, _)| p == policy && *from <= day)
            .map(|(_, _, v)| v.as_str())
            .next_back()
    }

    fn finish(mut self) -> Vec<Event> {
        let end = self.time.at(self.time.days, 0);
        self.log.0.sort_by_key(|(at, n, _)| (*at, *n));
        self.log
            .0
            .into_iter()
            .filter(|(at, ..)| *at < end)
            .map(|(_, _, e)| e)
            .collect()
    }
}

/// The events made so far, each with its place in the order made, which
/// breaks ties between events at one instant.
pub(crate) struct Log(Vec<(Timestamp, u32, Event)>);

impl Log {
    pub fn push(&mut self, at: Timestamp, kind: EventKind) {
        self.push_event(at, Event::new(at, kind));
    }

    /// An event that happened at `at` and was booked in at `recorded`: it
    /// takes its place in the log when it was recorded.
    pub fn push_late(&mut self, at: Timestamp, recorded: Timestamp, kind: EventKind) {
        let mut event = Event::new(at, kind);
        event.recorded = Some(recorded);
        self.push_event(recorded, event);
    }

    /// `event`, in the log at `when` (the order it was recorded in).
    pub fn push_event(&mut self, when: Timestamp, event: Event) {
        let n = self.0.len() as u32;
        self.0.push((when, n, event));
    }
}

/// The log's days, and the instants within them.
pub(crate) struct Days {
    pub first: Date,
    /// Days in the log: events on day `days` or later are not yet recorded.
    pub days: Day,
    /// Per day from `-BEFORE`, the instant of local midnight as if the whole
    /// day had its noon offset, so that `at` is one addition. Events fall
    /// between 07:00 and 20:00, clear of the clock changes at 01:00 and 02:00.
    midnights: Vec<Timestamp>,
}

impl Days {
    /// The instant of `minute` past local midnight on `day`.
    pub fn at(&self, day: Day, minute: i64) -> Timestamp {
        let i = (day + BEFORE).clamp(0, self.midnights.len() as i64 - 1) as usize;
        let midnight = self.midnights.get(i).copied().unwrap_or_default();
        midnight
            .checked_add(jiff::SignedDuration::from_mins(minute))
            .unwrap_or(midnight)
    }

    pub fn date(&self, day: Day) -> Date {
        self.first
            .checked_add(jiff::Span::new().days(day))
            .unwrap_or(self.first)
    }

    /// A weekday at or after `day` (councils record on weekdays).
    pub fn weekday(&self, day: Day) -> Day {
        let monday_based = i64::from(self.first.weekday().to_monday_zero_offset()) + day;
        match monday_based.rem_euclid(7) {
            5 => day + 2,
            6 => day + 1,
            _ => day,
        }
    }
}

pub(crate) fn accepted(person: &PersonId, policy: &PolicyId, version: &str) -> EventKind {
    EventKind::PolicyAccepted(domain::event::PolicyAccepted {
        person: person.clone(),
        policy: policy.clone(),
        version: version.to_owned(),
        text_sha256: None,
    })
}

fn first_thursday_of_may(year: i16) -> Date {
    let may = date(year, 5, 1);
    let ahead = (Weekday::Thursday.to_monday_zero_offset() - may.weekday().to_monday_zero_offset())
        .rem_euclid(7);
    may.checked_add(jiff::Span::new().days(ahead))
        .unwrap_or(may)
}

fn noon_based_midnight(tz: &TimeZone, first: Date, day: Day) -> Timestamp {
    let date = first
        .checked_add(jiff::Span::new().days(day))
        .unwrap_or(first);
    date.at(12, 0, 0, 0)
        .to_zoned(tz.clone())
        .ok()
        .and_then(|noon| {
            noon.timestamp()
                .checked_sub(jiff::SignedDuration::from_hours(12))
                .ok()
        })
        .unwrap_or_default()
}
