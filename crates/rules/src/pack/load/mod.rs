//! Loading a pack: read the file and its includes through a `PackSource`
//! (the caller's I/O), parse each part separately so that every error is
//! reported, then check meaning: known events, durations, conditions that can
//! apply, clocks that can be discharged, policies that are declared.
//! `read.rs` reads and follows includes, `filter.rs` checks conditions,
//! `kinds.rs` each rule kind; this file compiles the whole.

mod filter;
mod kinds;
mod read;
mod reminders;

pub use kinds::{ClockKey, clock_key};
use read::{ParsedFile, Reader};

use super::conditions::{EventFlag, EventText};
use super::controls::{Control, Framework};
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

/// Every rule kind a pack may write.
pub const RULE_KINDS: [&str; 6] = [
    "obligation",
    "recurrence",
    "precondition",
    "permission",
    "limit",
    "prohibition",
];

/// The fields a rule of `kind` takes besides `id`, `kind`, `cite`, `note`,
/// `sentence` and `controls`; None for a kind that does not exist.
pub fn rule_fields(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "obligation" => &["on", "when", "each", "from", "within", "discharged_by"],
        "recurrence" => &["every", "done_by", "counted_from", "when"],
        "precondition" => &["on", "when", "require"],
        "permission" => &["on", "when", "actor", "roles"],
        "limit" => &["on", "when", "group_by", "period", "max_total", "max_count"],
        "prohibition" => &["on", "when"],
        _ => return None,
    })
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
    let has_mail_domains = !header.mail_domains.is_empty();
    for parsed in &files {
        let mut ctx = Ctx::new(&parsed.file, &mut errors, &declared, has_mail_domains);
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
    let mut reminders = Vec::new();
    for parsed in &files {
        let mut ctx = Ctx::new(&parsed.file, &mut errors, &declared, has_mail_domains);
        for raw in &parsed.reminders {
            if let Some(reminder) = ctx.reminder(raw, &rules, &pack_id(parsed)) {
                reminders.push(reminder);
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
            reminders,
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

impl<'a> Ctx<'a> {
    fn new(
        file: &'a SourceFile,
        errors: &'a mut Vec<PackError>,
        declared: &'a BTreeSet<String>,
        has_mail_domains: bool,
    ) -> Self {
        Ctx {
            file,
            errors,
            declared,
            has_mail_domains,
        }
    }

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
        let Some(allowed) = rule_fields(raw.kind.get_ref()) else {
            let message = format!(
                "unknown rule kind `{}`: expected obligation, recurrence, precondition, limit, prohibition or permission",
                raw.kind.get_ref()
            );
            self.error(raw.kind.span(), message);
            return None;
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
        let controls = raw.controls.as_ref().map(|c| self.controls(c.get_ref()));
        let kind = kind.filter(|_| self.errors.len() == before)?;
        Some(Rule {
            controls,
            id: raw.id.get_ref().clone(),
            cite,
            note: raw.note.clone(),
            sentence: raw.sentence.clone(),
            kind,
            pack: pack.to_owned(),
        })
    }

    /// Each control id checked against its framework's catalogue.
    fn controls(&mut self, raw: &RawControls) -> Vec<Control> {
        let mut out = Vec::new();
        for (framework, ids) in [
            (Framework::Iso27001, &raw.iso27001),
            (Framework::Caf, &raw.caf),
            (Framework::CyberEssentials, &raw.cyber_essentials),
        ] {
            for id in ids {
                if framework.title(id.get_ref()).is_none() {
                    self.error(
                        id.span(),
                        format!(
                            "unknown {} control `{}`: expected an identifier such as {}",
                            framework.name(),
                            id.get_ref(),
                            framework.example()
                        ),
                    );
                    continue;
                }
                out.push(Control {
                    framework,
                    id: id.get_ref().clone(),
                });
            }
        }
        out
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
}
