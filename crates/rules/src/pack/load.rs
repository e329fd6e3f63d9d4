//! Loading a pack: read the file and its includes through a `PackSource`
//! (the caller's I/O), parse each part separately so that every error is
//! reported, then check meaning: known events, durations, conditions that can
//! apply, clocks that can be discharged, policies that are declared.

use super::error::{PackError, SourceFile};
use super::model::*;
use super::raw::*;
use crate::calendar::{Division, time_zone};
use crate::duration::Duration;
use domain::{Agreement, Course, EventType, Pence, PolicyId, Role, Subjects};
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

/// Where pack files come from: the file system, the packs compiled into the
/// binary, or a test's strings. `from` is the file whose `include` names it.
pub trait PackSource {
    fn read(&self, name: &str, from: Option<&SourceFile>) -> Result<SourceFile, String>;
}

/// Loads the pack named `name` and everything it includes.
pub fn load_pack(name: &str, source: &dyn PackSource) -> Result<PolicyPack, Vec<PackError>> {
    let mut reader = Reader {
        source,
        files: Vec::new(),
        seen: HashMap::new(),
        errors: Vec::new(),
    };
    let root = match source.read(name, None) {
        Ok(file) => file,
        Err(message) => return Err(vec![PackError::whole_file(name, message)]),
    };
    reader.parse_tree(root, &mut Vec::new());
    if !reader.errors.is_empty() {
        return Err(reader.errors);
    }
    compile(reader.files, source)
}

/// One pack file, parsed into its parts.
struct ParsedFile {
    file: SourceFile,
    header: Option<RawHeader>,
    policies: Vec<RawPolicy>,
    rules: Vec<RawRule>,
}

struct Reader<'a> {
    source: &'a dyn PackSource,
    /// Included files first, so an including pack's rules follow theirs.
    files: Vec<ParsedFile>,
    seen: HashMap<String, ()>,
    errors: Vec<PackError>,
}

impl Reader<'_> {
    fn parse_tree(&mut self, file: SourceFile, stack: &mut Vec<String>) {
        self.seen.insert(file.name.clone(), ());
        stack.push(file.name.clone());
        let parsed = self.parse_file(file);
        if let Some(header) = &parsed.header {
            for include in &header.include {
                self.include(&parsed.file, include, stack);
            }
        }
        stack.pop();
        self.files.push(parsed);
    }

    fn include(&mut self, from: &SourceFile, include: &Spanned<String>, stack: &mut Vec<String>) {
        match self.source.read(include.get_ref(), Some(from)) {
            Err(message) => {
                let message = format!("cannot include `{}`: {message}", include.get_ref());
                self.errors
                    .push(PackError::at(from, include.span(), message));
            }
            Ok(file) if stack.contains(&file.name) => {
                let message = format!(
                    "`{}` includes itself through {}",
                    file.name,
                    stack.join(" -> ")
                );
                self.errors
                    .push(PackError::at(from, include.span(), message));
            }
            Ok(file) if self.seen.contains_key(&file.name) => {}
            Ok(file) => self.parse_tree(file, stack),
        }
    }

    fn parse_file(&mut self, file: SourceFile) -> ParsedFile {
        let text = file.text.clone();
        let mut parsed = ParsedFile {
            file,
            header: None,
            policies: Vec::new(),
            rules: Vec::new(),
        };
        let (root, syntax) = DeTable::parse_recoverable(&text);
        if !syntax.is_empty() {
            for e in syntax {
                let span = e.span().unwrap_or(0..0);
                self.errors.push(PackError::at(
                    &parsed.file,
                    span,
                    e.message().trim().to_owned(),
                ));
            }
            return parsed;
        }
        let mut saw_header = false;
        for (key, value) in root.into_inner() {
            match key.get_ref().as_ref() {
                "pack" => {
                    saw_header = true;
                    parsed.header = self.part(&parsed.file, value);
                }
                "policy" => parsed.policies = self.parts(&parsed.file, "policy", value),
                "rule" => parsed.rules = self.parts(&parsed.file, "rule", value),
                other => {
                    let message = format!(
                        "unknown section `{other}`: a pack has [pack], [[policy]] and [[rule]]"
                    );
                    self.errors
                        .push(PackError::at(&parsed.file, key.span(), message));
                }
            }
        }
        if !saw_header {
            let message =
                "missing [pack] section: it names the pack, council, time zone and calendar";
            self.errors.push(PackError::at(&parsed.file, 0..0, message));
        }
        parsed
    }

    /// Each element of an array of tables, deserialized on its own so that one
    /// bad rule does not hide the errors of the next.
    fn parts<T: for<'de> Deserialize<'de>>(
        &mut self,
        file: &SourceFile,
        name: &str,
        value: Spanned<DeValue<'_>>,
    ) -> Vec<T> {
        let span = value.span();
        match value.into_inner() {
            DeValue::Array(items) => items
                .into_iter()
                .filter_map(|item| self.part(file, item))
                .collect(),
            _ => {
                let message = format!("`{name}` must be an array of tables, written [[{name}]]");
                self.errors.push(PackError::at(file, span, message));
                Vec::new()
            }
        }
    }

    fn part<T: for<'de> Deserialize<'de>>(
        &mut self,
        file: &SourceFile,
        value: Spanned<DeValue<'_>>,
    ) -> Option<T> {
        let span = value.span();
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(part) => Some(part),
            Err(e) => {
                let span = e.span().unwrap_or(span);
                self.errors
                    .push(PackError::at(file, span, e.message().trim().to_owned()));
                None
            }
        }
    }
}

/// The checks of meaning, over all files once every one has parsed.
fn compile(files: Vec<ParsedFile>, source: &dyn PackSource) -> Result<PolicyPack, Vec<PackError>> {
    let mut errors = Vec::new();
    let Some(root) = files.last() else {
        return Err(vec![PackError::whole_file("pack", "no pack file was read")]);
    };
    let Some(header) = &root.header else {
        return Err(errors);
    };
    let tz = time_zone(header.time_zone.get_ref());
    if tz.is_none() {
        let message = format!(
            "unknown time zone `{}`: expected an IANA name such as \"Europe/London\"",
            header.time_zone.get_ref()
        );
        errors.push(PackError::at(&root.file, header.time_zone.span(), message));
    }
    let division = Division::from_key(header.calendar.get_ref());
    if division.is_none() {
        let message = format!(
            "unknown calendar `{}`: expected \"england-and-wales\", \"scotland\" or \"northern-ireland\"",
            header.calendar.get_ref()
        );
        errors.push(PackError::at(&root.file, header.calendar.span(), message));
    }
    let mut policies: Vec<Policy> = Vec::new();
    for parsed in &files {
        let pack_id = pack_id(parsed);
        for raw in &parsed.policies {
            if let Some(first) = policies.iter().find(|p| *p.id.0 == **raw.id.get_ref()) {
                let message = format!(
                    "policy `{}` is already declared by pack `{}`",
                    first.id, first.pack
                );
                errors.push(PackError::at(&parsed.file, raw.id.span(), message));
                continue;
            }
            policies.push(Policy {
                id: PolicyId::from(raw.id.get_ref().as_str()),
                title: raw.title.clone(),
                version: raw.version.clone(),
                owner: raw.owner.clone(),
                approving_body: raw.approving_body.clone(),
                accepted_by: raw.accepted_by.clone(),
                pack: pack_id.clone(),
                text: raw.text.as_ref().and_then(|name| {
                    match source.read(name.get_ref(), Some(&parsed.file)) {
                        Ok(file) => Some(PolicyText {
                            file: file.name,
                            markdown: file.text,
                        }),
                        Err(why) => {
                            errors.push(PackError::at(&parsed.file, name.span(), why));
                            None
                        }
                    }
                }),
            });
        }
    }
    let declared: BTreeSet<String> = policies.iter().map(|p| p.id.to_string()).collect();
    let mut rules: Vec<Rule> = Vec::new();
    for parsed in &files {
        let mut ctx = Ctx {
            file: &parsed.file,
            errors: &mut errors,
            declared: &declared,
            has_mail_domains: !header.mail_domains.is_empty(),
        };
        for raw in &parsed.rules {
            if let Some(first) = rules.iter().find(|r| r.id == *raw.id.get_ref()) {
                let message = format!(
                    "rule `{}` is already declared by pack `{}`",
                    first.id, first.pack
                );
                ctx.error(raw.id.span(), message);
                continue;
            }
            if let Some(rule) = ctx.rule(raw, &pack_id(parsed)) {
                rules.push(rule);
            }
        }
    }
    match (tz, division) {
        (Some(time_zone), Some(division)) if errors.is_empty() => Ok(PolicyPack {
            id: header.id.get_ref().clone(),
            council: header.council.clone(),
            description: header.description.clone(),
            time_zone,
            time_zone_name: header.time_zone.get_ref().clone(),
            division,
            mail_domains: header.mail_domains.clone(),
            policies,
            rules,
        }),
        _ => Err(errors),
    }
}

fn pack_id(parsed: &ParsedFile) -> String {
    parsed
        .header
        .as_ref()
        .map_or_else(|| parsed.file.name.clone(), |h| h.id.get_ref().clone())
}

/// What a set of conditions is checked against.
#[derive(Clone, Copy)]
struct Target {
    subjects: Subjects,
    event: Option<EventType>,
    /// Conditions on devices apply to each device held (`each = "device_held"`).
    devices_held: bool,
}

struct Ctx<'a> {
    file: &'a SourceFile,
    errors: &'a mut Vec<PackError>,
    declared: &'a BTreeSet<String>,
    has_mail_domains: bool,
}

impl Ctx<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors.push(PackError::at(self.file, span, message));
    }

    fn rule(&mut self, raw: &RawRule, pack: &str) -> Option<Rule> {
        let before = self.errors.len();
        let cite = match &raw.cite {
            Some(c) if !c.get_ref().trim().is_empty() => c.get_ref().trim().to_owned(),
            Some(c) => {
                self.error(
                    c.span(),
                    "`cite` is empty: name the document, version, clause and its operative words",
                );
                String::new()
            }
            None => {
                self.error(
                    raw.id.span(),
                    format!(
                        "rule `{}` has no `cite`: every rule names the clause that requires it",
                        raw.id.get_ref()
                    ),
                );
                String::new()
            }
        };
        let allowed: &[&str] = match raw.kind.get_ref().as_str() {
            "obligation" => &["on", "when", "each", "from", "within", "discharged_by"],
            "recurrence" => &["every", "done_by", "counted_from", "when"],
            "precondition" => &["on", "when", "require"],
            "permission" => &["on", "when", "actor", "roles"],
            "limit" => &["on", "when", "group_by", "period", "max_total", "max_count"],
            "prohibition" => &["on", "when"],
            other => {
                let message = format!(
                    "unknown rule kind `{other}`: expected obligation, recurrence, precondition, limit, prohibition or permission"
                );
                self.error(raw.kind.span(), message);
                return None;
            }
        };
        for (field, span) in raw.present_fields() {
            if !allowed.contains(&field) {
                let message = format!(
                    "`{field}` is not a field of a {} rule (it takes: {})",
                    raw.kind.get_ref(),
                    allowed.join(", ")
                );
                self.error(span, message);
            }
        }
        let kind = match raw.kind.get_ref().as_str() {
            "obligation" => self.obligation(raw).map(RuleKind::Obligation),
            "recurrence" => self.recurrence(raw).map(RuleKind::Recurrence),
            "precondition" => self.precondition(raw).map(RuleKind::Precondition),
            "permission" => self.permission(raw).map(RuleKind::Permission),
            "limit" => self.limit(raw).map(RuleKind::Limit),
            _ => self.prohibition(raw).map(RuleKind::Prohibition),
        };
        let kind = kind.filter(|_| self.errors.len() == before)?;
        Some(Rule {
            id: raw.id.get_ref().clone(),
            cite,
            note: raw.note.clone(),
            kind,
            pack: pack.to_owned(),
        })
    }

    fn required<'r, T>(
        &mut self,
        raw: &RawRule,
        value: &'r Option<Spanned<T>>,
        field: &str,
    ) -> Option<&'r Spanned<T>> {
        if value.is_none() {
            let message = format!("a {} rule needs `{field}`", raw.kind.get_ref());
            self.error(raw.kind.span(), message);
        }
        value.as_ref()
    }

    fn event_type(&mut self, name: &Spanned<String>) -> Option<EventType> {
        let found = EventType::from_name(name.get_ref());
        if found == Some(EventType::EventVoided) {
            let message = "`event_voided` corrects the log; it is not something a rule can name (a voided event simply leaves the findings)".to_owned();
            self.error(name.span(), message);
            return None;
        }
        if found.is_none() {
            let message = format!(
                "unknown event type `{}` (docs/events.md lists the vocabulary)",
                name.get_ref()
            );
            self.error(name.span(), message);
        }
        found
    }

    fn duration(&mut self, text: &Spanned<String>) -> Option<Duration> {
        match text.get_ref().parse() {
            Ok(d) => Some(d),
            Err(e) => {
                self.error(text.span(), e.to_string());
                None
            }
        }
    }

    /// The `on` event of a rule with its `when` conditions.
    fn trigger(&mut self, raw: &RawRule, devices_held: bool) -> Option<EventMatch> {
        let on = self.required(raw, &raw.on, "on")?;
        let event = self.event_type(on)?;
        let target = Target {
            subjects: event.subjects(),
            event: Some(event),
            devices_held,
        };
        let filter = match &raw.when {
            Some(when) => self.filter(when.get_ref(), target, false)?,
            None => Filter::default(),
        };
        Some(EventMatch { event, filter })
    }

    /// Entries of an event list (`discharged_by`, `done_by`, `counted_from`).
    fn matches(&mut self, list: &Matches) -> Option<Vec<EventMatch>> {
        let mut out = Vec::new();
        let mut ok = true;
        for item in list.get_ref() {
            let (name, raw_filter) = match item.get_ref() {
                RawMatch::Name(name) => (Spanned::new(item.span(), name.clone()), None),
                RawMatch::Table(table) => match &table.event {
                    Some(event) => (event.clone(), Some(table.as_ref())),
                    None => {
                        self.error(item.span(), "this entry needs `event`, e.g. { event = \"incident_assessed\", notifiable = false }");
                        ok = false;
                        continue;
                    }
                },
            };
            let Some(event) = self.event_type(&name) else {
                ok = false;
                continue;
            };
            let target = Target {
                subjects: event.subjects(),
                event: Some(event),
                devices_held: false,
            };
            let filter = match raw_filter {
                Some(f) => self.filter(f, target, true),
                None => Some(Filter::default()),
            };
            match filter {
                Some(filter) => out.push(EventMatch { event, filter }),
                None => ok = false,
            }
        }
        if out.is_empty() && ok {
            self.error(list.span(), "the list is empty: name at least one event");
            return None;
        }
        ok.then_some(out)
    }

    fn filter(&mut self, raw: &RawFilter, target: Target, in_list: bool) -> Option<Filter> {
        let before = self.errors.len();
        if let (Some(event), false) = (&raw.event, in_list) {
            self.error(
                event.span(),
                "`event` belongs in a list of events; the rule's event is its `on`",
            );
        }
        let s = target.subjects;
        let about = match target.event {
            Some(e) => format!("`{e}` events"),
            None => "this rule's subject".to_owned(),
        };
        let applies = |this: &mut Self, ok: bool, field: &str, span: Range<usize>, needs: &str| {
            if !ok {
                this.error(
                    span,
                    format!("`{field}` cannot apply to {about}: it needs {needs}"),
                );
            }
        };
        let only = |event: EventType| target.event == Some(event);
        macro_rules! check {
            ($field:ident, $ok:expr, $needs:expr) => {
                if let Some(v) = &raw.$field {
                    applies(self, $ok, stringify!($field), v.span(), $needs);
                }
            };
        }
        check!(person_kind, s.person, "an event about a person");
        check!(person_left, s.person, "an event about a person");
        check!(
            device_kind,
            s.device || target.devices_held,
            "an event about a device, or each = \"device_held\""
        );
        check!(
            device_owner,
            s.device || target.devices_held,
            "an event about a device, or each = \"device_held\""
        );
        check!(
            personal_data,
            only(EventType::IncidentReported),
            "incident_reported"
        );
        check!(
            notifiable,
            only(EventType::IncidentAssessed),
            "incident_assessed"
        );
        check!(stolen, only(EventType::DeviceLost), "device_lost");
        check!(wiped, only(EventType::DeviceDisposed), "device_disposed");
        check!(category, only(EventType::ExpenseClaimed), "expense_claimed");
        check!(
            course,
            only(EventType::TrainingCompleted),
            "training_completed"
        );
        check!(
            agreement,
            only(EventType::AgreementSigned),
            "agreement_signed"
        );
        check!(policy, s.policy, "an event about a policy");
        check!(
            resource_prefix,
            s.resource,
            "access_granted or access_revoked"
        );
        check!(
            to_outside_mail_domains,
            only(EventType::EmailForwardingDetected),
            "email_forwarding_detected"
        );
        if let Some(v) = &raw.to_outside_mail_domains
            && *v.get_ref()
            && !self.has_mail_domains
        {
            self.error(
                v.span(),
                "the pack declares no `mail_domains`, so every address would count as outside",
            );
        }
        let policy = raw.policy.as_ref().map(|list| {
            list.get_ref()
                .iter()
                .map(|p| {
                    self.declared_policy(p);
                    PolicyId::from(p.get_ref().as_str())
                })
                .collect()
        });
        let value = |v: &Option<Spanned<bool>>| v.as_ref().map(|b| *b.get_ref());
        let text = |v: &Option<Spanned<String>>| v.as_ref().map(|t| t.get_ref().clone());
        let filter = Filter {
            person_kind: raw.person_kind.as_ref().map(|v| v.get_ref().clone()),
            person_left: value(&raw.person_left),
            device_kind: raw.device_kind.as_ref().map(|v| v.get_ref().clone()),
            device_owner: raw.device_owner.as_ref().map(|v| v.get_ref().clone()),
            personal_data: value(&raw.personal_data),
            notifiable: value(&raw.notifiable),
            stolen: value(&raw.stolen),
            wiped: value(&raw.wiped),
            category: text(&raw.category),
            course: text(&raw.course).map(Course::from),
            agreement: text(&raw.agreement).map(Agreement::from),
            policy,
            resource_prefix: text(&raw.resource_prefix),
            to_outside_mail_domains: value(&raw.to_outside_mail_domains),
        };
        (self.errors.len() == before).then_some(filter)
    }

    fn declared_policy(&mut self, id: &Spanned<String>) {
        if !self.declared.contains(id.get_ref()) {
            let declared: Vec<_> = self.declared.iter().cloned().collect();
            let message = format!(
                "policy `{}` is not declared by this pack or its includes (declared: {})",
                id.get_ref(),
                declared.join(", ")
            );
            self.error(id.span(), message);
        }
    }

    fn obligation(&mut self, raw: &RawRule) -> Option<Obligation> {
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

    fn recurrence(&mut self, raw: &RawRule) -> Option<Recurrence> {
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

    fn precondition(&mut self, raw: &RawRule) -> Option<Precondition> {
        let on = self.trigger(raw, false)?;
        if !on.event.subjects().person {
            self.error(
                raw.on.as_ref().map_or(0..0, Spanned::span),
                format!(
                    "`{}` names no person whose standing could be checked",
                    on.event
                ),
            );
        }
        let req = self.required(raw, &raw.require, "require")?;
        let r = req.get_ref();
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
        };
        if require == Requirement::default() {
            self.error(
                req.span(),
                "`require` asks for nothing: give mfa, accepted, agreement or training",
            );
        }
        Some(Precondition { on, require })
    }

    fn permission(&mut self, raw: &RawRule) -> Option<Permission> {
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

    fn limit(&mut self, raw: &RawRule) -> Option<Limit> {
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

    fn prohibition(&mut self, raw: &RawRule) -> Option<Prohibition> {
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
    fn carried_by(self, s: Subjects) -> bool {
        match self {
            ClockKey::Incident => s.incident,
            ClockKey::Device => s.device,
            ClockKey::PersonResource => s.person && s.resource,
            ClockKey::Person => s.person,
            ClockKey::Policy => s.policy,
        }
    }

    fn describe(self) -> &'static str {
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
