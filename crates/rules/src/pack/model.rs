//! A pack once loaded and checked: what the evaluator runs. Each rule kind is
//! its own type holding exactly the parts that kind needs, so a rule that
//! mixes kinds cannot be represented.

use super::conditions::{EventFlag, EventText};
use crate::calendar::Division;
use crate::duration::Duration;
use domain::{
    Agreement, Course, DeviceKind, DeviceOwner, EventType, Pence, PersonKind, PolicyCatalogue,
    PolicyId, Role,
};
use jiff::tz::TimeZone;

/// A council's policies and the rules that make them checkable.
#[derive(Clone, Debug)]
pub struct PolicyPack {
    pub id: String,
    pub council: String,
    pub description: Option<String>,
    pub time_zone: TimeZone,
    pub time_zone_name: String,
    pub division: Division,
    /// The council's own mail domains; forwarding outside them is what the
    /// forwarding prohibitions look for.
    pub mail_domains: Vec<String>,
    pub policies: Vec<Policy>,
    pub rules: Vec<Rule>,
    /// Who is told of what, and when: included packs' first, so a
    /// council's own entries, read later, win (`rules::reminders`).
    pub reminders: Vec<ReminderPolicy>,
}

/// One `[[reminder]]`: who is told of which findings, and when.
#[derive(Clone, Debug, PartialEq)]
pub struct ReminderPolicy {
    pub applies: Applies,
    pub tell: Vec<Recipient>,
    /// Who is told instead when a finding concerns no person (a policy's
    /// review, an incident).
    pub otherwise: Vec<Recipient>,
    /// How long before the due time, longest first.
    pub before: Vec<jiff::SignedDuration>,
    /// Also when this share (per cent) of a short clock is left: one
    /// shorter than a week (`reminders::SHORT_CLOCK`).
    pub before_share: Option<u8>,
    /// How often while overdue; once, at the due time, if None.
    pub overdue_every: Option<jiff::SignedDuration>,
    /// From the overdue reminder after this many, `escalate_to` is told too.
    pub escalate_after: u32,
    pub escalate_to: Vec<Recipient>,
    /// The pack that declared it.
    pub pack: String,
}

/// Which findings a `[[reminder]]` is for.
#[derive(Clone, Debug, PartialEq)]
pub enum Applies {
    /// Findings of these rules.
    Rules(Vec<String>),
    /// Findings of rules of these kinds (`obligation`, `recurrence`).
    Kinds(Vec<String>),
    /// Every finding with a clock.
    Every,
    /// A daily summary of every open and overdue finding.
    DailyDigest,
}

/// Who a reminder goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recipient {
    /// The person the finding is about.
    Subject,
    /// That person's manager.
    Manager,
    /// Everyone present who holds the role.
    Role(Role),
}

impl PolicyPack {
    /// The approval route a precondition of the pack sets for `policy`.
    pub fn route(&self, policy: &PolicyId) -> Option<&Route> {
        self.rules.iter().find_map(|r| match &r.kind {
            RuleKind::Precondition(p)
                if p.on.event == EventType::PolicyApproved
                    && p.on
                        .filter
                        .policy
                        .as_ref()
                        .is_none_or(|ps| ps.contains(policy)) =>
            {
                p.require.route.as_ref()
            }
            _ => None,
        })
    }

    /// The rule with this id, if the pack has one.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// What a rule asks, in the council's words: its `sentence`, else its
    /// id (a pack that has not written one).
    pub fn rule_sentence<'a>(&'a self, id: &'a str) -> &'a str {
        self.rule(id)
            .and_then(|r| r.sentence.as_deref())
            .unwrap_or(id)
    }

    pub fn policy(&self, id: &PolicyId) -> Option<&Policy> {
        self.policies.iter().find(|p| &p.id == id)
    }

    /// The version of a policy people must accept now: the latest the log
    /// approved, else the one the pack was written against ("" for a
    /// policy neither knows).
    pub fn current_version<'a>(&'a self, estate: &'a domain::Estate, policy: &PolicyId) -> &'a str {
        estate
            .current_version(policy)
            .or_else(|| self.policy(policy).map(|p| p.version.as_str()))
            .unwrap_or_default()
    }

    /// Whether an address is outside every mail domain of the council
    /// (a subdomain of a council domain counts as inside).
    pub fn is_outside_mail_domains(&self, address: &str) -> bool {
        let domain = address
            .rsplit_once('@')
            .map_or(address, |(_, d)| d)
            .to_ascii_lowercase();
        !self.mail_domains.iter().any(|own| {
            let own = own.to_ascii_lowercase();
            domain == own || domain.ends_with(&format!(".{own}"))
        })
    }
}

impl PolicyCatalogue for PolicyPack {
    fn declares(&self, policy: &PolicyId) -> bool {
        self.policy(policy).is_some()
    }
    fn declared(&self) -> Vec<String> {
        self.policies.iter().map(|p| p.id.to_string()).collect()
    }
}

/// A policy document the council has adopted.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    pub id: PolicyId,
    pub title: String,
    /// The version the pack was written against; a `policy_approved` in the
    /// log supersedes it.
    pub version: String,
    pub owner: Option<String>,
    pub approving_body: Option<String>,
    /// Who must accept the policy.
    pub accepted_by: Vec<PersonKind>,
    /// Which pack declared it (a council pack or an included one).
    pub pack: String,
    /// The text people are shown when they accept it, if the council supplied one.
    pub text: Option<PolicyText>,
}

/// A person's id and name.
pub type Named = (String, String);

impl Policy {
    /// Who must accept the policy (present, of a kind it names), split into
    /// those who have accepted `version` and those who have not, by id.
    pub fn acceptance(&self, estate: &domain::Estate, version: &str) -> (Vec<Named>, Vec<Named>) {
        let mut yes = Vec::new();
        let mut no = Vec::new();
        for (id, p) in estate.people.iter() {
            if !p.is_present() || !self.accepted_by.contains(&p.kind) {
                continue;
            }
            let entry = (id.to_string(), p.name.clone());
            if p.has_accepted(&self.id, version) {
                yes.push(entry)
            } else {
                no.push(entry)
            }
        }
        yes.sort();
        no.sort();
        (yes, no)
    }
}

/// A policy's text as the council supplied it (Markdown).
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyText {
    /// The file it was read from.
    pub file: String,
    pub markdown: std::sync::Arc<str>,
}

/// One checkable clause.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub id: String,
    /// Document, version, clause and the operative words.
    pub cite: String,
    /// How the pack's author read the clause, for people reading findings.
    pub note: Option<String>,
    /// What the rule asks, in the council's own words, as one sentence
    /// ("The Information Commissioner is told within 72 hours of
    /// discovery"): the headline of its findings on the pages.
    pub sentence: Option<String>,
    pub kind: RuleKind,
    /// Which pack declared it.
    pub pack: String,
    /// The controls it evidences, by framework; None when the pack does
    /// not say (an empty list says it evidences none: a financial limit).
    pub controls: Option<Vec<super::Control>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RuleKind {
    Obligation(Obligation),
    Recurrence(Recurrence),
    Precondition(Precondition),
    Limit(Limit),
    Prohibition(Prohibition),
    Permission(Permission),
}

impl RuleKind {
    pub fn name(&self) -> &'static str {
        match self {
            RuleKind::Obligation(_) => "obligation",
            RuleKind::Recurrence(_) => "recurrence",
            RuleKind::Precondition(_) => "precondition",
            RuleKind::Limit(_) => "limit",
            RuleKind::Prohibition(_) => "prohibition",
            RuleKind::Permission(_) => "permission",
        }
    }
}

/// An event type, narrowed by conditions on it.
#[derive(Clone, Debug, PartialEq)]
pub struct EventMatch {
    pub event: EventType,
    pub filter: Filter,
}

/// Conditions that must all hold. An absent condition always holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    pub person_kind: Option<Vec<PersonKind>>,
    /// Whether the event's person had left by the time it happened: activity
    /// recorded after a leaving date (often a late record of the leaving).
    pub person_left: Option<bool>,
    pub device_kind: Option<Vec<DeviceKind>>,
    pub device_owner: Option<Vec<DeviceOwner>>,
    /// Yes/no fields of the event's own type that must hold (`conditions.rs`).
    pub flags: Vec<(EventFlag, bool)>,
    /// Text fields of the event's own type that must be equal.
    pub texts: Vec<(EventText, String)>,
    pub policy: Option<Vec<PolicyId>>,
    pub resource_prefix: Option<String>,
    pub to_outside_mail_domains: Option<bool>,
}

/// What one trigger fans out into: one clock per device the person holds, or
/// per access grant they have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Each {
    DeviceHeld,
    AccessHeld,
}

/// Which instant starts an obligation's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClockStart {
    /// When the trigger happened.
    At,
    /// The trigger's `discovered` field (losses, incidents).
    Discovered,
    /// 00:00 local on the device's `acquired` date.
    Acquired,
}

/// A trigger starts a clock; a matching later event discharges it.
#[derive(Clone, Debug, PartialEq)]
pub struct Obligation {
    pub trigger: EventMatch,
    pub each: Option<Each>,
    pub from: ClockStart,
    pub within: Duration,
    pub discharged_by: Vec<EventMatch>,
}

/// What a recurrence or clock is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubjectKind {
    Person,
    Policy,
}

/// Something that must happen again at least every interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Recurrence {
    pub subject: SubjectKind,
    pub every: Duration,
    pub done_by: Vec<EventMatch>,
    /// Events that start the first interval when nothing has been done yet.
    pub counted_from: Vec<EventMatch>,
    /// Which subjects the rule applies to (person kind, policy id).
    pub when: Filter,
}

/// What must hold of the event's person before the event, or, for a
/// `policy_approved`, of the approval itself (its route).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Requirement {
    pub mfa: bool,
    pub accepted: Option<PolicyId>,
    pub agreement: Option<Agreement>,
    pub training: Option<Course>,
    pub route: Option<Route>,
}

/// A policy's approval route: the body that approves a new version and who
/// is consulted first; and where a council has delegated minor amendments
/// (Mid Devon), who may approve a version marked minor and whom they
/// consult.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Route {
    /// Bodies that approve a new version; empty: any body.
    pub approved_by: Vec<String>,
    /// Every one of these is among the approval's `consulted`.
    pub consulted: Vec<String>,
    /// A version marked minor may be approved by one of these instead...
    pub minor_approved_by: Vec<String>,
    /// ...who must then have consulted every one of these.
    pub minor_consulted: Vec<String>,
}

impl Route {
    /// Why an approval by `body`, of a version minor or not, after
    /// consulting `consulted`, does not follow the route; None if it does.
    pub fn breach(&self, body: &str, minor: bool, consulted: &[String]) -> Option<String> {
        let delegated = minor && self.minor_approved_by.iter().any(|b| b == body);
        if !delegated && !self.approved_by.is_empty() && !self.approved_by.iter().any(|b| b == body)
        {
            let mut who = self.approved_by.join(" or ");
            if !self.minor_approved_by.is_empty() {
                who = format!(
                    "{who} (a minor amendment: {})",
                    self.minor_approved_by.join(" or ")
                );
            }
            return Some(format!(
                "approved by {body}: a new version is approved by {who}"
            ));
        }
        let needed = if delegated {
            &self.minor_consulted
        } else {
            &self.consulted
        };
        let missing: Vec<&str> = needed
            .iter()
            .filter(|n| !consulted.contains(n))
            .map(String::as_str)
            .collect();
        (!missing.is_empty()).then(|| {
            format!(
                "approved by {body} without consulting {}",
                missing.join(" and ")
            )
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Precondition {
    pub on: EventMatch,
    pub require: Requirement,
}

/// Who the permission is about: the event field naming the person who acted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    ApprovedBy,
    RequestedBy,
    By,
}

impl Actor {
    pub fn field(self) -> &'static str {
        match self {
            Actor::ApprovedBy => "approved_by",
            Actor::RequestedBy => "requested_by",
            Actor::By => "by",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Permission {
    pub on: EventMatch,
    pub actor: Actor,
    /// The actor must hold at least one of these at the instant of the event.
    pub roles: Vec<Role>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Person,
    Household,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Period {
    /// 1 April to 31 March, as councils budget.
    FinancialYear,
    CalendarYear,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    Total(Pence),
    Count(u32),
}

/// A bound on a sum or count over a group and period.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    pub on: EventMatch,
    pub group_by: Group,
    pub period: Period,
    pub bound: Bound,
}

/// An event that must never happen.
#[derive(Clone, Debug, PartialEq)]
pub struct Prohibition {
    pub on: EventMatch,
}
