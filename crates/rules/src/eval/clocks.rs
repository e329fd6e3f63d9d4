//! Obligations' clocks and recurrences' cycles: started by a trigger,
//! stopped by a discharge, a completion or a leaver.

use super::*;

impl<'a> Evaluation<'a> {
    pub(super) fn trigger(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let RuleKind::Obligation(o) = &self.rule(r).kind else {
            return;
        };
        let start = match (o.from, &event.kind) {
            (ClockStart::At, _) => event.at,
            (ClockStart::Discovered, EventKind::DeviceLost(e)) => e.discovered,
            (ClockStart::Discovered, EventKind::IncidentReported(e)) => e.discovered,
            // A device with no acquisition date has no replacement clock to run.
            (ClockStart::Acquired, EventKind::DeviceRegistered(e)) => match e.acquired {
                Some(day) => self.calendar.start_of_day(day),
                None => return,
            },
            _ => return,
        };
        let due = self.calendar.deadline(start, o.within);
        let base = Concerns::of(&event.kind);
        let Some(words) = self.clock_words[r].clone() else {
            return;
        };
        let person = event.kind.person().cloned();
        // What the clocks are kept per: one per device or grant for a fan-out,
        // else the trigger's own subject. Each with the ids it concerns and
        // what it is about.
        let mut started: Vec<(Key, Concerns, Of)> = Vec::new();
        match (o.each, event.kind.person()) {
            (Some(Each::DeviceHeld), Some(p)) => {
                // A device reported lost cannot be handed back: no clock for
                // it (Southend's note; the loss has its own rule).
                let lost = |d: &DeviceId| {
                    estate
                        .devices
                        .get(d)
                        .is_some_and(|device| device.lost.is_some())
                };
                let held = estate
                    .people
                    .get(p)
                    .map(|p| {
                        p.devices_held
                            .iter()
                            .filter(|d| !lost(d))
                            .cloned()
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                for device in held
                    .into_iter()
                    .filter(|d| self.matches(estate, &o.trigger.filter, event, Some(d)))
                {
                    let concerns = Concerns {
                        device: Some(device.0.clone()),
                        ..base.clone()
                    };
                    started.push((Key::Device(device.clone()), concerns, Of::Device(device)));
                }
            }
            (Some(Each::AccessHeld), Some(p))
                if self.matches(estate, &o.trigger.filter, event, None) =>
            {
                let grants = estate
                    .people
                    .get(p)
                    .map(|p| p.access.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default();
                for resource in grants {
                    let concerns = Concerns {
                        resource: Some(resource.0.clone()),
                        ..base.clone()
                    };
                    let key = Key::PersonResource(p.clone(), resource.clone());
                    started.push((key, concerns, Of::Resource(resource)));
                }
            }
            (None, _) if self.matches(estate, &o.trigger.filter, event, None) => {
                if let Some(key) = key_of(clock_key(o.trigger.event, None), &event.kind) {
                    started.push((key, base, Of::Nothing));
                }
            }
            _ => {}
        }
        for (key, concerns, of) in started {
            let detail = Detail::Clock {
                words: words.clone(),
                person: person.clone(),
                of,
                ended: None,
            };
            let clock = self.clock(due, concerns, detail, seq);
            self.add_clock(r, key, clock);
        }
    }

    pub(super) fn discharge(
        &mut self,
        estate: &Estate,
        r: usize,
        i: usize,
        seq: Seq,
        event: &Event,
    ) {
        let RuleKind::Obligation(o) = &self.rule(r).kind else {
            return;
        };
        let Some(key) = key_of(clock_key(o.trigger.event, o.each), &event.kind) else {
            return;
        };
        if !self.clocks.contains_key(&(r, key.clone()))
            || !self.matches(estate, &o.discharged_by[i].filter, event, None)
        {
            return;
        }
        for clock in self.take_clocks(r, key) {
            let late = event.at > clock.due;
            let status = if late { Status::Late } else { Status::Met };
            let mut detail = clock.detail;
            if let Detail::Clock { ended, .. } = &mut detail {
                *ended = Some(Ended {
                    late,
                    by: event.kind.event_type(),
                });
            }
            self.push(
                r,
                Settled {
                    status,
                    due: Some(clock.due),
                    event,
                    concerns: clock.concerns,
                    detail,
                    events: Evidence::new(Some(clock.from), Some(seq)),
                },
            );
        }
    }

    pub(super) fn recurrence(&self, r: usize) -> Option<&'a Recurrence> {
        match &self.rule(r).kind {
            RuleKind::Recurrence(rec) => Some(rec),
            _ => None,
        }
    }

    /// The subject of a recurrence in this event, if the rule applies to it.
    pub(super) fn subject(
        &self,
        estate: &Estate,
        rec: &Recurrence,
        event: &Event,
    ) -> Option<(Key, Concerns)> {
        match rec.subject {
            SubjectKind::Person => {
                let id = event.kind.person()?;
                let person = estate.people.get(id)?;
                let fits = person.is_present()
                    && rec
                        .when
                        .person_kind
                        .as_ref()
                        .is_none_or(|k| k.contains(&person.kind));
                fits.then(|| {
                    (
                        Key::Person(id.clone()),
                        Concerns {
                            person: Some(id.0.clone()),
                            ..Concerns::default()
                        },
                    )
                })
            }
            SubjectKind::Policy => {
                let id = event.kind.policy()?;
                let fits = rec.when.policy.as_ref().is_none_or(|p| p.contains(id));
                fits.then(|| {
                    (
                        Key::Policy(id.clone()),
                        Concerns {
                            policy: Some(id.0.clone()),
                            ..Concerns::default()
                        },
                    )
                })
            }
        }
    }

    pub(super) fn start_cycle(
        &mut self,
        r: usize,
        rec: &Recurrence,
        key: Key,
        concerns: Concerns,
        seq: Seq,
        event: &Event,
    ) {
        let due = self.calendar.deadline(event.at, rec.every);
        let detail = Detail::Cycle {
            every: rec.every,
            from: event.kind.event_type(),
            done_by: None,
        };
        let cycle = self.clock(due, concerns, detail, seq);
        self.set_cycle(r, key, Some(cycle));
    }

    pub(super) fn done(&mut self, estate: &Estate, r: usize, i: usize, seq: Seq, event: &Event) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(estate, &rec.done_by[i].filter, event, None) {
            return;
        }
        let Some((key, concerns)) = self.subject(estate, rec, event) else {
            return;
        };
        if let Some(cycle) = self.set_cycle(r, key.clone(), None) {
            let status = if event.at <= cycle.due {
                Status::Met
            } else {
                Status::Late
            };
            let mut detail = cycle.detail;
            if let Detail::Cycle { done_by, .. } = &mut detail {
                *done_by = Some(event.kind.event_type());
            }
            self.push(
                r,
                Settled {
                    status,
                    due: Some(cycle.due),
                    event,
                    concerns: cycle.concerns,
                    detail,
                    events: Evidence::new(Some(cycle.from), Some(seq)),
                },
            );
        }
        self.start_cycle(r, rec, key, concerns, seq, event);
    }

    pub(super) fn counted_from(
        &mut self,
        estate: &Estate,
        r: usize,
        i: usize,
        seq: Seq,
        event: &Event,
    ) {
        let Some(rec) = self.recurrence(r) else {
            return;
        };
        if !self.matches(estate, &rec.counted_from[i].filter, event, None) {
            return;
        }
        if let Some((key, concerns)) = self.subject(estate, rec, event)
            && !self.cycles.contains_key(&(r, key.clone()))
        {
            self.start_cycle(r, rec, key, concerns, seq, event);
        }
    }

    /// A recurrence about people binds only while they are here.
    pub(super) fn leave(&mut self, r: usize, event: &Event) {
        if let Some(p) = event.kind.person()
            && self.cycles.contains_key(&(r, Key::Person(p.clone())))
        {
            self.set_cycle(r, Key::Person(p.clone()), None);
        }
    }
}
