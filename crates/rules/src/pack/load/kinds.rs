//! The checks of each rule kind: what an obligation, a recurrence, a
//! precondition, a permission, a limit and a prohibition must say, and the
//! clock key an obligation's subject gives.

use super::*;

impl Ctx<'_> {
    pub(super) fn obligation(&mut self, raw: &RawRule) -> Option<Obligation> {
        let each = match &raw.each {
            None => None,
            Some(e) => match e.get_ref().as_str() {
                "device_held" => Some(Each::DeviceHeld),
                "access_held" => Some(Each::AccessHeld),
                other => {
                    self.error(e.span(), format!("unknown `each` value `{other}`: expected \"device_held\" or \"access_held\""));
                    return None;
                }
            },
        };
        let trigger = self.trigger(raw, each == Some(Each::DeviceHeld))?;
        let on_span = raw.on.as_ref().map_or(0..0, Spanned::span);
        if each.is_some() && !trigger.event.subjects().person {
            self.error(
                on_span.clone(),
                format!(
                    "`each` fans out over a person's devices or access, but `{}` names no person",
                    trigger.event
                ),
            );
        }
        let from = match raw.from.as_ref() {
            None => ClockStart::At,
            Some(f) => {
                let (start, fits) = match f.get_ref().as_str() {
                    "at" => (ClockStart::At, true),
                    "discovered" => (
                        ClockStart::Discovered,
                        matches!(
                            trigger.event,
                            EventType::DeviceLost | EventType::IncidentReported
                        ),
                    ),
                    "acquired" => (
                        ClockStart::Acquired,
                        trigger.event == EventType::DeviceRegistered,
                    ),
                    other => {
                        self.error(f.span(), format!("unknown `from` value `{other}`: expected \"at\", \"discovered\" or \"acquired\""));
                        return None;
                    }
                };
                if !fits {
                    self.error(
                        f.span(),
                        format!(
                            "`{}` events have no `{}` field to start the clock from",
                            trigger.event,
                            f.get_ref()
                        ),
                    );
                }
                start
            }
        };
        let within = self.required(raw, &raw.within, "within")?;
        let within = self.duration(within)?;
        let discharged_by = self.required(raw, &raw.discharged_by, "discharged_by")?;
        let list = self.matches(discharged_by)?;
        let key = clock_key(trigger.event, each);
        for (m, item) in list.iter().zip(discharged_by.get_ref()) {
            if !key.carried_by(m.event.subjects()) {
                let message = format!(
                    "`{}` names no {} and so can never discharge this clock, which is kept per {}",
                    m.event,
                    key.describe(),
                    key.describe()
                );
                self.error(item.span(), message);
            }
        }
        Some(Obligation {
            trigger,
            each,
            from,
            within,
            discharged_by: list,
        })
    }

    pub(super) fn recurrence(&mut self, raw: &RawRule) -> Option<Recurrence> {
        let every = self.required(raw, &raw.every, "every")?;
        let every = self.duration(every)?;
        let done_by = self.required(raw, &raw.done_by, "done_by")?;
        let done = self.matches(done_by)?;
        let counted_from = match &raw.counted_from {
            Some(list) => self.matches(list)?,
            None => Vec::new(),
        };
        let subject_of = |e: EventType| {
            let s = e.subjects();
            if s.person {
                Some(SubjectKind::Person)
            } else if s.policy {
                Some(SubjectKind::Policy)
            } else {
                None
            }
        };
        let subject = done.first().and_then(|m| subject_of(m.event))?;
        let all = done.iter().chain(&counted_from);
        if all.clone().any(|m| subject_of(m.event) != Some(subject)) {
            self.error(
                done_by.span(),
                "`done_by` and `counted_from` must all be about a person, or all about a policy",
            );
            return None;
        }
        let subjects = match subject {
            SubjectKind::Person => Subjects {
                person: true,
                ..Subjects::default()
            },
            SubjectKind::Policy => Subjects {
                policy: true,
                ..Subjects::default()
            },
        };
        let when = match &raw.when {
            Some(w) => self.filter(
                w.get_ref(),
                Target {
                    subjects,
                    event: None,
                    devices_held: false,
                },
                false,
            )?,
            None => Filter::default(),
        };
        Some(Recurrence {
            subject,
            every,
            done_by: done,
            counted_from,
            when,
        })
    }

    pub(super) fn precondition(&mut self, raw: &RawRule) -> Option<Precondition> {
        let on = self.trigger(raw, false)?;
        let req = self.required(raw, &raw.require, "require")?;
        let r = req.get_ref();
        // An approval route is about the approval; anything else about the
        // event's person.
        let about_person = r.mfa.is_some()
            || r.accepted.is_some()
            || r.agreement.is_some()
            || r.training.is_some();
        if about_person && !on.event.subjects().person {
            self.error(
                raw.on.as_ref().map_or(0..0, Spanned::span),
                format!(
                    "`{}` names no person whose standing could be checked",
                    on.event
                ),
            );
        }
        if r.route.is_some() && on.event != EventType::PolicyApproved {
            self.error(
                req.span(),
                format!(
                    "`route` is an approval route: it applies to `policy_approved`, not `{}`",
                    on.event
                ),
            );
        }
        if let Some(p) = &r.accepted {
            self.declared_policy(p);
        }
        let require = Requirement {
            mfa: r.mfa.unwrap_or(false),
            accepted: r
                .accepted
                .as_ref()
                .map(|p| PolicyId::from(p.get_ref().as_str())),
            agreement: r.agreement.clone().map(Agreement::from),
            training: r.training.clone().map(Course::from),
            route: r.route.as_ref().map(|route| Route {
                approved_by: route.approved_by.clone(),
                consulted: route.consulted.clone(),
                minor_approved_by: route.minor_approved_by.clone(),
                minor_consulted: route.minor_consulted.clone(),
            }),
        };
        if require == Requirement::default() {
            self.error(
                req.span(),
                "`require` asks for nothing: give mfa, accepted, agreement, training or route",
            );
        }
        Some(Precondition { on, require })
    }

    pub(super) fn permission(&mut self, raw: &RawRule) -> Option<Permission> {
        let on = self.trigger(raw, false)?;
        let actor_text = self.required(raw, &raw.actor, "actor")?;
        let actor = match actor_text.get_ref().as_str() {
            "approved_by" => Actor::ApprovedBy,
            "requested_by" => Actor::RequestedBy,
            "by" => Actor::By,
            other => {
                self.error(actor_text.span(), format!("unknown `actor` `{other}`: expected \"approved_by\", \"requested_by\" or \"by\""));
                return None;
            }
        };
        let fits = match actor {
            Actor::ApprovedBy => matches!(
                on.event,
                EventType::DeviceRemovalApproved
                    | EventType::AccessGranted
                    | EventType::AccessRevoked
            ),
            Actor::RequestedBy => matches!(
                on.event,
                EventType::AccessGranted | EventType::AccessRevoked
            ),
            Actor::By => true,
        };
        if !fits {
            self.error(
                actor_text.span(),
                format!("`{}` events have no `{}` field", on.event, actor.field()),
            );
        }
        let roles = self.required(raw, &raw.roles, "roles")?;
        if roles.get_ref().is_empty() {
            self.error(
                roles.span(),
                "`roles` is empty, so nobody could ever be permitted",
            );
        }
        let roles = roles
            .get_ref()
            .iter()
            .map(|r| Role::from(r.as_str()))
            .collect();
        Some(Permission { on, actor, roles })
    }

    pub(super) fn limit(&mut self, raw: &RawRule) -> Option<Limit> {
        let on = self.trigger(raw, false)?;
        let on_span = raw.on.as_ref().map_or(0..0, Spanned::span);
        let group_text = self.required(raw, &raw.group_by, "group_by")?;
        let group_by = match group_text.get_ref().as_str() {
            "person" if on.event.subjects().person => Group::Person,
            "household" if on.event == EventType::ExpenseClaimed => Group::Household,
            other => {
                self.error(group_text.span(), format!("cannot group `{}` events by `{other}`: expected \"person\" or, for expense_claimed, \"household\"", on.event));
                return None;
            }
        };
        let period_text = self.required(raw, &raw.period, "period")?;
        let period = match period_text.get_ref().as_str() {
            "financial_year" => Period::FinancialYear,
            "calendar_year" => Period::CalendarYear,
            other => {
                self.error(period_text.span(), format!("unknown `period` `{other}`: expected \"financial_year\" (1 April to 31 March) or \"calendar_year\""));
                return None;
            }
        };
        let bound = match (&raw.max_total, &raw.max_count) {
            (Some(total), None) => {
                if on.event != EventType::ExpenseClaimed {
                    self.error(
                        on_span,
                        format!(
                            "`max_total` sums amounts, and `{}` events carry none",
                            on.event
                        ),
                    );
                }
                match total.get_ref().parse::<Pence>() {
                    Ok(p) => Bound::Total(p),
                    Err(e) => {
                        self.error(total.span(), e.to_string());
                        return None;
                    }
                }
            }
            (None, Some(count)) if *count.get_ref() >= 1 => Bound::Count(*count.get_ref()),
            (None, Some(count)) => {
                self.error(
                    count.span(),
                    "`max_count` must be at least 1; to forbid the event, use a prohibition",
                );
                return None;
            }
            _ => {
                self.error(raw.kind.span(), "a limit needs exactly one of `max_total` (pounds, e.g. \"100.00\") or `max_count`");
                return None;
            }
        };
        Some(Limit {
            on,
            group_by,
            period,
            bound,
        })
    }

    pub(super) fn prohibition(&mut self, raw: &RawRule) -> Option<Prohibition> {
        Some(Prohibition {
            on: self.trigger(raw, false)?,
        })
    }
}

/// What an obligation's clocks are kept per, and so what a discharging event
/// must name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockKey {
    Incident,
    Device,
    PersonResource,
    Person,
    Policy,
}

impl ClockKey {
    pub(super) fn carried_by(self, s: Subjects) -> bool {
        match self {
            ClockKey::Incident => s.incident,
            ClockKey::Device => s.device,
            ClockKey::PersonResource => s.person && s.resource,
            ClockKey::Person => s.person,
            ClockKey::Policy => s.policy,
        }
    }

    pub(super) fn describe(self) -> &'static str {
        match self {
            ClockKey::Incident => "incident",
            ClockKey::Device => "device",
            ClockKey::PersonResource => "person and resource",
            ClockKey::Person => "person",
            ClockKey::Policy => "policy",
        }
    }
}

/// The key of an obligation's clocks: the fanned-out item, or else the most
/// specific thing the trigger names.
pub fn clock_key(trigger: EventType, each: Option<Each>) -> ClockKey {
    let s = trigger.subjects();
    match each {
        Some(Each::DeviceHeld) => ClockKey::Device,
        Some(Each::AccessHeld) => ClockKey::PersonResource,
        None if s.incident => ClockKey::Incident,
        None if s.device => ClockKey::Device,
        None if s.resource => ClockKey::PersonResource,
        None if s.person => ClockKey::Person,
        None => ClockKey::Policy,
    }
}
