//! What if: one log evaluated under two packs (the council's and another,
//! or the council's with `--set` edits), and the difference: findings that
//! appear, disappear or change status, by rule, with how many were failing
//! at each quarter's end. "Had we reviewed yearly, we would have been
//! overdue 3 times."

use crate::calendar::{Calendar, quarter_ends};
use crate::eval::{Concerns, Finding, Status, evaluate_as_known};
use crate::pack::{PackError, PackSource, PolicyPack, SourceFile, load_pack, rule_fields};
use domain::ArcStr;
use domain::{Event, Seq};
use jiff::Timestamp;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::BTreeMap;

/// One `--set RULE.FIELD=VALUE`: a field of one rule, given a new value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub rule: String,
    pub field: String,
    /// As written: TOML (`2`, `true`, `{ person_kind = ["employee"] }`), or
    /// else taken as text (`12 months`).
    pub value: String,
}

/// Why an override cannot be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error(
        "`{0}`: expected RULE.FIELD=VALUE, e.g. mid-devon.policies-reviewed-2-years.every=\"12 months\""
    )]
    Shape(String),
    #[error("`{given}`: no rule `{rule}` in pack `{pack}`{}", suggestion(.nearest))]
    UnknownRule {
        given: String,
        rule: String,
        pack: String,
        nearest: Option<String>,
    },
    #[error("`{given}`: `{field}` is not a field of {rule}, {} {kind} rule (it takes: {})", if kind.starts_with('o') { "an" } else { "a" }, .takes.join(", "))]
    UnknownField {
        given: String,
        rule: String,
        field: String,
        kind: String,
        takes: Vec<String>,
    },
    #[error("`{given}`: the pack does not load with that value: {message}")]
    Pack { given: String, message: String },
}

fn suggestion(nearest: &Option<String>) -> String {
    nearest
        .as_ref()
        .map(|n| format!("; did you mean `{n}`?"))
        .unwrap_or_default()
}

impl Override {
    pub fn parse(text: &str) -> Result<Self, OverrideError> {
        let shape = || OverrideError::Shape(text.to_owned());
        let (path, value) = text.split_once('=').ok_or_else(shape)?;
        // Rule ids hold dots (`mid-devon.policies-reviewed-2-years`): the
        // field is what follows the last.
        let (rule, field) = path.trim().rsplit_once('.').ok_or_else(shape)?;
        if rule.is_empty() || field.is_empty() || value.trim().is_empty() {
            return Err(shape());
        }
        Ok(Override {
            rule: rule.to_owned(),
            field: field.to_owned(),
            value: value.trim().to_owned(),
        })
    }

    fn given(&self) -> String {
        format!("{}.{}={}", self.rule, self.field, self.value)
    }

    fn toml_value(&self) -> toml_edit::Value {
        self.value
            .parse::<toml_edit::Value>()
            .unwrap_or_else(|_| toml_edit::Value::from(self.value.as_str()))
    }
}

/// A pack source that hands out its files with the overrides written in,
/// so that the loader checks the new values as it checks any pack, and an
/// error points at the edited line.
struct Overridden<'a> {
    inner: &'a dyn PackSource,
    overrides: &'a [Override],
    /// For each override, whether a file held its rule.
    found: RefCell<Vec<bool>>,
    errors: RefCell<Vec<OverrideError>>,
}

impl PackSource for Overridden<'_> {
    fn read(&self, name: &str, from: Option<&SourceFile>) -> Result<SourceFile, String> {
        let file = self.inner.read(name, from)?;
        let Ok(mut doc) = file.text.parse::<toml_edit::DocumentMut>() else {
            return Ok(file); // the loader reports the syntax
        };
        let mut edited = false;
        if let Some(rules) = doc
            .get_mut("rule")
            .and_then(toml_edit::Item::as_array_of_tables_mut)
        {
            for table in rules.iter_mut() {
                let id = table.get("id").and_then(|v| v.as_str()).map(str::to_owned);
                let kind = table
                    .get("kind")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned);
                for (i, o) in self.overrides.iter().enumerate() {
                    if id.as_deref() != Some(o.rule.as_str()) {
                        continue;
                    }
                    self.found.borrow_mut()[i] = true;
                    let takes = kind.as_deref().and_then(rule_fields).unwrap_or(&[]);
                    if !takes.contains(&o.field.as_str()) {
                        self.errors.borrow_mut().push(OverrideError::UnknownField {
                            given: o.given(),
                            rule: o.rule.clone(),
                            field: o.field.clone(),
                            kind: kind.clone().unwrap_or_default(),
                            takes: takes.iter().map(|s| (*s).to_owned()).collect(),
                        });
                        continue;
                    }
                    table.insert(&o.field, toml_edit::Item::Value(o.toml_value()));
                    edited = true;
                }
            }
        }
        Ok(if edited {
            SourceFile {
                name: format!("{} (with --set)", file.name),
                text: doc.to_string().into(),
            }
        } else {
            file
        })
    }
}

/// Loads `name` with each override written into the rule it names. Every
/// override is checked: an unknown rule or field, or a value the pack
/// refuses, is an error naming the override.
pub fn load_with_overrides(
    name: &str,
    source: &dyn PackSource,
    overrides: &[Override],
) -> Result<PolicyPack, Vec<OverrideError>> {
    let overridden = Overridden {
        inner: source,
        overrides,
        found: RefCell::new(vec![false; overrides.len()]),
        errors: RefCell::new(Vec::new()),
    };
    let loaded = load_pack(name, &overridden);
    let mut errors = overridden.errors.into_inner();
    let found = overridden.found.into_inner();
    let known: Vec<String> = match &loaded {
        Ok(pack) => pack.rules.iter().map(|r| r.id.clone()).collect(),
        // Without overrides the pack may load, and name its rules.
        Err(_) => load_pack(name, source)
            .map(|p| p.rules.iter().map(|r| r.id.clone()).collect())
            .unwrap_or_default(),
    };
    for (o, found) in overrides.iter().zip(found) {
        if !found {
            errors.push(OverrideError::UnknownRule {
                given: o.given(),
                rule: o.rule.clone(),
                pack: name.to_owned(),
                nearest: nearest(&o.rule, &known),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    loaded.map_err(|pack_errors: Vec<PackError>| {
        let given: Vec<String> = overrides.iter().map(Override::given).collect();
        pack_errors
            .into_iter()
            .map(|e| OverrideError::Pack {
                given: given.join(" "),
                message: e.to_string(),
            })
            .collect()
    })
}

/// The known id most like `id` (fewest single-character edits), if any is
/// close enough to be what was meant.
fn nearest(id: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (edits(id, k), k))
        .filter(|(d, k)| *d <= k.len() / 3)
        .min()
        .map(|(_, k)| k.clone())
}

fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            prev = here;
        }
    }
    row[b.len()]
}

/// A finding as the comparison shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shown {
    #[serde(serialize_with = "status_name")]
    pub status: Status,
    pub due: Option<Timestamp>,
    pub settled: Option<Timestamp>,
    pub concerns: Concerns,
    pub sentence: String,
}

fn status_name<S: serde::Serializer>(status: &Status, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(status.name())
}

impl Shown {
    fn of(f: &Finding) -> Self {
        Shown {
            status: f.status,
            due: f.due,
            settled: f.settled,
            concerns: f.concerns.clone(),
            sentence: f.sentence_in_words(),
        }
    }
}

/// How one rule's findings differ between the two packs.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RuleChange {
    pub rule: String,
    /// Findings only under the alternative.
    pub appear: Vec<Shown>,
    /// Findings only under the base.
    pub disappear: Vec<Shown>,
    /// The same subject and start, with another status or due time: (base, alternative).
    pub changed: Vec<(Shown, Shown)>,
    /// How many findings were ever failing (overdue, violated, or met late)
    /// under each.
    pub failing_base: usize,
    pub failing_alternative: usize,
}

/// Failing findings at one quarter's end, by rule: (base, alternative).
#[derive(Clone, Debug, Serialize)]
pub struct Quarter {
    pub end: Timestamp,
    pub by_rule: BTreeMap<String, (usize, usize)>,
}

/// The whole comparison.
#[derive(Clone, Debug, Serialize)]
pub struct WhatIf {
    pub base: String,
    pub alternative: String,
    pub at: Timestamp,
    /// Only the rules whose findings differ.
    pub rules: Vec<RuleChange>,
    pub quarters: Vec<Quarter>,
}

impl WhatIf {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// What identifies "the same finding" under two packs: rule, subject, and
/// the event that started it.
type Key = (ArcStr, Concerns, Option<Seq>);

fn key(f: &Finding) -> Key {
    (f.rule.clone(), f.concerns.clone(), f.events.from())
}

fn ever_failing(f: &Finding) -> bool {
    f.status.is_failure() || f.status == Status::Late
}

/// The two packs' findings of one log, as of `at`, side by side.
pub fn compare<E: AsRef<Event>>(
    log: &[E],
    base: (&PolicyPack, &Calendar),
    alternative: (&PolicyPack, &Calendar),
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> WhatIf {
    let before = evaluate_as_known(base.0, base.1, log, at, known_at);
    let after = evaluate_as_known(alternative.0, alternative.1, log, at, known_at);
    let mut rules: BTreeMap<String, RuleChange> = BTreeMap::new();
    let mut by_key: BTreeMap<Key, Vec<&Finding>> = BTreeMap::new();
    for f in &before {
        by_key.entry(key(f)).or_default().push(f);
        let entry = rules.entry(f.rule.to_string()).or_default();
        entry.failing_base += usize::from(ever_failing(f));
    }
    for f in &after {
        let entry = rules.entry(f.rule.to_string()).or_default();
        entry.failing_alternative += usize::from(ever_failing(f));
        let twin = by_key
            .get_mut(&key(f))
            .and_then(|v| (!v.is_empty()).then(|| v.remove(0)));
        match twin {
            Some(b) if b.status == f.status && b.due == f.due => {}
            Some(b) => entry.changed.push((Shown::of(b), Shown::of(f))),
            None => entry.appear.push(Shown::of(f)),
        }
    }
    for (k, left) in by_key {
        for f in left {
            rules
                .entry(k.0.to_string())
                .or_default()
                .disappear
                .push(Shown::of(f));
        }
    }
    let rules: Vec<RuleChange> = rules
        .into_iter()
        .map(|(rule, c)| RuleChange { rule, ..c })
        .filter(|c| !c.appear.is_empty() || !c.disappear.is_empty() || !c.changed.is_empty())
        .collect();
    let quarters = quarters(log, base, alternative, at, known_at, &rules);
    WhatIf {
        base: base.0.id.clone(),
        alternative: alternative.0.id.clone(),
        at,
        rules,
        quarters,
    }
}

/// At each quarter's end of the log (up to `at`), how many findings of each
/// changed rule were failing under each pack, from what was known then.
fn quarters<E: AsRef<Event>>(
    log: &[E],
    base: (&PolicyPack, &Calendar),
    alternative: (&PolicyPack, &Calendar),
    at: Timestamp,
    known_at: Option<Timestamp>,
    rules: &[RuleChange],
) -> Vec<Quarter> {
    let Some(first) = log.iter().map(|e| e.as_ref().at).min() else {
        return Vec::new();
    };
    let count = |findings: &[Finding], rule: &str| {
        findings
            .iter()
            .filter(|f| &*f.rule == rule && f.status.is_failure())
            .count()
    };
    quarter_ends(first, at, &base.0.time_zone)
        .into_iter()
        .map(|end| {
            let end = end.timestamp();
            let known = Some(known_at.map_or(end, |k| k.min(end)));
            let b = evaluate_as_known(base.0, base.1, log, end, known);
            let a = evaluate_as_known(alternative.0, alternative.1, log, end, known);
            let by_rule = rules
                .iter()
                .map(|r| (r.rule.clone(), (count(&b, &r.rule), count(&a, &r.rule))))
                .collect();
            Quarter { end, by_rule }
        })
        .collect()
}
