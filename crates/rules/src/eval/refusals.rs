//! Rules checked at an event: preconditions, permissions, limits and
//! prohibitions, as findings of a history and as refusals of a command.

use super::*;

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Tally {
    pub(super) total: i64,
    pub(super) count: u32,
}

/// Where an event counts against a limit.
pub(super) struct TallyPlace {
    pub(super) group: String,
    pub(super) amount: i64,
    pub(super) year: i16,
    pub(super) period: String,
}

/// Whether a tally is over its bound, and the sentence that says so.
pub(super) fn over_limit(bound: Bound, tally: &Tally, place: &TallyPlace) -> (bool, String) {
    let (group, period) = (&place.group, &place.period);
    match bound {
        Bound::Total(max) => {
            let total = domain::Pence(tally.total);
            (
                tally.total > max.0,
                format!("{group}: {total} in {period} against a limit of {max}"),
            )
        }
        Bound::Count(max) => {
            let n = tally.count;
            (
                n > max,
                format!("{group}: {n} in {period} against a limit of {max}"),
            )
        }
    }
}

/// A rule that forbids a command: see [`Evaluation::refusals`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub rule: String,
    pub cite: String,
    /// What is lacking or exceeded, in a sentence.
    pub why: String,
}

impl<'a> Evaluation<'a> {
    /// A precondition or permission, checked against the estate just
    /// before the event.
    pub(super) fn check(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let rule = self.rule(r);
        let on = match &rule.kind {
            RuleKind::Precondition(p) => &p.on,
            RuleKind::Permission(p) => &p.on,
            _ => return,
        };
        // The filter first: most events a check hooks are not its concern,
        // and what is missing is put into words.
        if !self.matches(estate, &on.filter, event, None) {
            return;
        }
        let missing = match &rule.kind {
            RuleKind::Precondition(p) => self.unmet(estate, &p.require, event, Tense::Past),
            RuleKind::Permission(p) => self.unpermitted(estate, p, event, Tense::Past),
            _ => return,
        };
        let name = event.kind.event_type();
        let (status, detail) = match missing {
            None => (Status::Met, None),
            Some(why) => (Status::Violated, Some(why)),
        };
        let detail = Detail::Checked {
            before: name,
            lacking: detail,
        };
        self.settle(r, status, seq, event, detail);
    }

    /// What the event's person lacks in `estate`, or None when the
    /// requirement holds: said in the present for a command refused now,
    /// in the past for a finding about what was done then (the person may
    /// well have enrolled since).
    pub(super) fn unmet(
        &self,
        estate: &Estate,
        require: &Requirement,
        event: &Event,
        tense: Tense,
    ) -> Option<String> {
        if let (Some(route), EventKind::PolicyApproved(e)) = (&require.route, &event.kind) {
            let consulted = e.consulted.as_deref().unwrap_or_default();
            let minor = e.minor.unwrap_or(false);
            return route.breach(&e.body, minor, consulted);
        }
        let (has, then) = match tense {
            Tense::Present => ("has", ""),
            Tense::Past => ("had", " then"),
        };
        let id = event.kind.person()?;
        let Some(person) = estate.people.get(id) else {
            return Some(format!("{id} is not known"));
        };
        // Pieces pushed, not formatted: this runs for every access granted.
        let mut lacking = String::new();
        let mut missing = |what: &[&str]| {
            if !lacking.is_empty() {
                lacking.push_str("; ");
            }
            lacking.push_str(id.as_str());
            lacking.push(' ');
            lacking.push_str(has);
            what.iter().for_each(|w| lacking.push_str(w));
            lacking.push_str(then);
        };
        if require.mfa && person.mfa.is_empty() {
            missing(&[" not enrolled in MFA"]);
        }
        if let Some(policy) = &require.accepted {
            let version = self.pack.current_version(estate, policy);
            if !person.has_accepted(policy, version) {
                missing(&[" not accepted ", policy.as_str(), " version ", version]);
            }
        }
        if let Some(agreement) = &require.agreement
            && !person.agreements.contains_key(agreement)
        {
            missing(&[" not signed ", agreement.as_str()]);
        }
        if let Some(course) = &require.training
            && !person.training.contains_key(course)
        {
            missing(&[" not completed ", course.as_str(), " training"]);
        }
        (!lacking.is_empty()).then_some(lacking)
    }

    pub(super) fn unpermitted(
        &self,
        estate: &Estate,
        permission: &Permission,
        event: &Event,
        tense: Tense,
    ) -> Option<String> {
        let actor = match (&event.kind, permission.actor) {
            (EventKind::DeviceRemovalApproved(e), Actor::ApprovedBy) => Some(&e.approved_by),
            (EventKind::AccessGranted(e) | EventKind::AccessRevoked(e), Actor::ApprovedBy) => {
                e.approved_by.as_ref()
            }
            (EventKind::AccessGranted(e) | EventKind::AccessRevoked(e), Actor::RequestedBy) => {
                e.requested_by.as_ref()
            }
            (_, Actor::By) => event.by.as_ref(),
            _ => None,
        };
        let roles: Vec<&str> = permission.roles.iter().map(|r| r.as_str()).collect();
        let Some(actor) = actor else {
            return Some(format!(
                "no {} recorded; only {} may",
                permission.actor.field(),
                roles.join(" or ")
            ));
        };
        let holds = estate.people.get(actor).is_some_and(|p| {
            p.is_present() && permission.roles.iter().any(|r| p.roles.contains(r))
        });
        let verb = match tense {
            Tense::Present => "holds",
            Tense::Past => "held",
        };
        (!holds).then(|| {
            format!(
                "{} {actor} {verb} none of the roles {}",
                permission.actor.field(),
                roles.join(", ")
            )
        })
    }

    pub(super) fn tally(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let RuleKind::Limit(limit) = &self.rule(r).kind else {
            return;
        };
        let Some(place) = self.tally_place(estate, limit, event) else {
            return;
        };
        let tally = self.tally_mut((r, place.group.clone(), place.year));
        tally.total += place.amount;
        tally.count += 1;
        let (over, detail) = over_limit(limit.bound, tally, &place);
        let status = if over { Status::Violated } else { Status::Met };
        self.settle(r, status, seq, event, Detail::Text(detail));
    }

    /// Which tally of a limit the event counts in, and how much it adds;
    /// None when the limit does not count it.
    pub(super) fn tally_place(
        &self,
        estate: &Estate,
        limit: &Limit,
        event: &Event,
    ) -> Option<TallyPlace> {
        if !self.matches(estate, &limit.on.filter, event, None) {
            return None;
        }
        let (group, amount) = match (&event.kind, limit.group_by) {
            (EventKind::ExpenseClaimed(e), Group::Household) => {
                (format!("household {}", e.household), e.amount.0)
            }
            (EventKind::ExpenseClaimed(e), Group::Person) => (e.person.to_string(), e.amount.0),
            (kind, _) => (kind.person()?.to_string(), 0),
        };
        let day = self.calendar.local_date(event.at);
        let (year, period) = match limit.period {
            Period::FinancialYear => {
                let start = if day.month() >= 4 {
                    day.year()
                } else {
                    day.year() - 1
                };
                (start, format!("{}/{:02}", start, (start + 1) % 100))
            }
            Period::CalendarYear => (day.year(), day.year().to_string()),
        };
        Some(TallyPlace {
            group,
            amount,
            year,
            period,
        })
    }

    /// The rules that would find `event` violated if it were folded next
    /// into `estate` (the state just before it, wherever in time it falls):
    /// its preconditions and permissions unmet, or a limit exceeded. A
    /// service refuses such a command instead of recording a breach.
    /// Prohibitions are left out: what they name (mail forwarding detected)
    /// is a discovery to record, not a request to refuse.
    pub fn refusals(&self, estate: &Estate, event: &Event) -> Vec<Refusal> {
        let mut refused = Vec::new();
        for (r, rule) in self.pack.rules.iter().enumerate() {
            let why = match &rule.kind {
                RuleKind::Precondition(p) if p.on.event == event.kind.event_type() => self
                    .matches(estate, &p.on.filter, event, None)
                    .then(|| self.unmet(estate, &p.require, event, Tense::Present))
                    .flatten(),
                RuleKind::Permission(p) if p.on.event == event.kind.event_type() => self
                    .matches(estate, &p.on.filter, event, None)
                    .then(|| self.unpermitted(estate, p, event, Tense::Present))
                    .flatten(),
                RuleKind::Limit(l) if l.on.event == event.kind.event_type() => {
                    self.tally_place(estate, l, event).and_then(|place| {
                        let mut tally = self
                            .tallies
                            .get(&(r, place.group.clone(), place.year))
                            .cloned()
                            .unwrap_or_default();
                        tally.total += place.amount;
                        tally.count += 1;
                        let (over, detail) = over_limit(l.bound, &tally, &place);
                        over.then_some(detail)
                    })
                }
                _ => None,
            };
            if let Some(why) = why {
                refused.push(Refusal {
                    rule: rule.id.clone(),
                    cite: rule.cite.clone(),
                    why,
                });
            }
        }
        refused
    }

    pub(super) fn forbid(&mut self, estate: &Estate, r: usize, seq: Seq, event: &Event) {
        let RuleKind::Prohibition(p) = &self.rule(r).kind else {
            return;
        };
        if self.matches(estate, &p.on.filter, event, None) {
            let left = event
                .kind
                .person()
                .and_then(|p| estate.people.get(p))
                .and_then(|p| p.left);
            let detail = match (&event.kind, left) {
                (EventKind::EmailForwardingDetected(e), _) => format!("mail forwarded to {}", e.to),
                (EventKind::AccessGranted(e), Some(left)) => format!(
                    "access to {} granted to {} after they left ({left})",
                    e.resource, e.person
                ),
                (kind, _) => format!("{} must never happen like this", kind.event_type()),
            };
            self.settle(r, Status::Violated, seq, event, Detail::Text(detail));
        }
    }
}

/// Whether a reason is about now (a command refused) or about then (a
/// finding on a record of the past).
#[derive(Clone, Copy)]
pub(super) enum Tense {
    Present,
    Past,
}
