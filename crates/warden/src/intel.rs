//! Policy intelligence on the command line: `explain`, `lint`, `diff` and
//! `what-if` (the work is `rules::intel`'s; this reads packs and logs and
//! prints).

use crate::failure::{Failure, Outcome};
use crate::stored::{calendar, fail};
use crate::{load_pack, now, packs, report_lines};
use jiff::Timestamp;
use rules::PolicyPack;
use rules::intel::whatif::{Override, WhatIf, load_with_overrides};
use rules::intel::{diff, explain, lint, whatif};
use std::path::PathBuf;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

fn json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::said(format!("cannot write JSON: {e}")))?;
    say!("{text}");
    Ok(())
}

pub fn explain(pack: &str, format: Format) -> Result<Outcome, Failure> {
    let pack = load_pack(pack)?;
    match format {
        Format::Text => crate::out(&explain::render_text(&pack)),
        Format::Json => json(&explain::explain_pack(&pack))?,
    }
    Ok(Outcome::Clean)
}

/// Exit 1 only when asked to treat warnings as failures.
pub fn lint(pack: &str, format: Format, deny_warnings: bool) -> Result<Outcome, Failure> {
    let pack = load_pack(pack)?;
    let warnings = lint::lint(&pack);
    match format {
        Format::Text => crate::out(&lint::render_text(&pack, &warnings)),
        Format::Json => json(&serde_json::json!({
            "pack": pack.id,
            "warnings": warnings,
        }))?,
    }
    Ok(Outcome::flagged(deny_warnings && !warnings.is_empty()))
}

/// Exit 1 when the packs differ, as `diff` does.
pub fn diff(a: &str, b: &str, format: Format) -> Result<Outcome, Failure> {
    let (a, b) = (load_pack(a)?, load_pack(b)?);
    let d = diff::diff(&a, &b);
    match format {
        Format::Text => crate::out(&diff::render_text(&d)),
        Format::Json => json(&d)?,
    }
    Ok(Outcome::flagged(!d.is_empty()))
}

#[derive(clap::Args)]
pub struct WhatIfArgs {
    /// The database holding the council's log (with --council).
    #[arg(long, default_value = crate::DEFAULT_DB)]
    db: String,
    /// The council whose stored log and pack are the base.
    #[arg(long, required_unless_present = "events", conflicts_with = "events")]
    council: Option<String>,
    /// A log file instead of a stored council (with --pack as the base).
    #[arg(long)]
    events: Option<PathBuf>,
    /// With --council: the other pack to evaluate the log under. With
    /// --events: the base pack.
    #[arg(long, required_unless_present = "council")]
    pack: Option<String>,
    /// With --events: the other pack [default: the base pack, with --set].
    #[arg(long, requires = "events")]
    against: Option<String>,
    /// RULE.FIELD=VALUE: change one field of one rule of the other pack
    /// (repeatable), e.g. mid-devon.policies-reviewed-2-years.every="12 months".
    #[arg(long = "set", value_name = "RULE.FIELD=VALUE")]
    set: Vec<String>,
    /// As of this instant (RFC 3339) [default: now].
    #[arg(long)]
    at: Option<Timestamp>,
    /// From what had been recorded by this instant [default: everything].
    #[arg(long)]
    known_at: Option<Timestamp>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// Exit 1 when the other pack would find something different.
pub fn what_if(args: &WhatIfArgs) -> Result<Outcome, Failure> {
    let overrides = args
        .set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::said(e.to_string()))?;
    let (base_name, events, other) = match (&args.council, &args.events) {
        (Some(council), _) => {
            let mut log = store::open(&args.db).map_err(|e| fail(&args.db, e))?;
            let name = log.council_pack(council).map_err(|e| fail(&args.db, e))?;
            let events = store::events(&mut *log, council).map_err(|e| fail(&args.db, e))?;
            (name, events, args.pack.clone())
        }
        (None, Some(path)) => {
            // clap requires --pack with --events.
            let name = args.pack.clone().unwrap_or_default();
            let base = load_pack(&name)?;
            let bytes = std::fs::read(path).map_err(|e| Failure::read(path, e))?;
            let events = domain::LogReader::new(&base)
                .read_bytes(&bytes)
                .map_err(|errors| report_lines(path, errors))?
                .into_iter()
                .map(|l| l.event)
                .collect();
            (name, events, args.against.clone())
        }
        (None, None) => return Err(Failure::said("give --council or --events")),
    };
    if other.is_none() && overrides.is_empty() {
        return Err(Failure::said(
            "nothing to compare with: give another pack (--pack with --council, --against with --events) or --set RULE.FIELD=VALUE",
        ));
    }
    let base = load_pack(&base_name)?;
    let other_name = other.unwrap_or_else(|| base_name.clone());
    let alternative =
        load_with_overrides(&other_name, &packs::Packs, &overrides).map_err(|errors| {
            Failure::said(
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\nerror: "),
            )
        })?;
    let at = args.at.unwrap_or_else(now);
    let (cal_base, cal_alt) = (calendar(&base), calendar(&alternative));
    let result = whatif::compare(
        &events,
        (&base, &cal_base),
        (&alternative, &cal_alt),
        at,
        args.known_at,
    );
    match args.format {
        Format::Text => crate::out(&render(&result, &base, &alternative, &overrides)),
        Format::Json => json(&result)?,
    }
    Ok(Outcome::flagged(!result.is_empty()))
}

fn render(w: &WhatIf, base: &PolicyPack, alt: &PolicyPack, overrides: &[Override]) -> String {
    let mut out = String::new();
    let alt_name = if overrides.is_empty() {
        alt.id.clone()
    } else {
        let set: Vec<String> = overrides
            .iter()
            .map(|o| format!("{}.{}={}", o.rule, o.field, o.value))
            .collect();
        format!("{} with {}", alt.id, set.join(", "))
    };
    out.push_str(&format!(
        "What if: {} under {alt_name}, instead of {}, as of {}\n",
        base.council, base.id, w.at
    ));
    if w.is_empty() {
        out.push_str("\nNo finding would differ.\n");
        return out;
    }
    for r in &w.rules {
        let sentence = alt
            .rule(&r.rule)
            .or_else(|| base.rule(&r.rule))
            .map(|rule| explain::explain(rule, alt).sentence)
            .unwrap_or_default();
        out.push_str(&format!("\n{}\n  {sentence}\n", r.rule));
        out.push_str(&format!(
            "  overdue, violated or late: {} under {}, {} under {alt_name}\n",
            r.failing_base, base.id, r.failing_alternative
        ));
        let due = |d: Option<Timestamp>| {
            d.map(|d| {
                format!(
                    ", due {}",
                    d.to_zoned(base.time_zone.clone())
                        .strftime("%-d %b %Y %H:%M")
                )
            })
            .unwrap_or_default()
        };
        for f in &r.appear {
            out.push_str(&format!("  + {}: {}{}\n", f.status, f.sentence, due(f.due)));
        }
        for f in &r.disappear {
            out.push_str(&format!("  - {}: {}{}\n", f.status, f.sentence, due(f.due)));
        }
        for (b, a) in &r.changed {
            let was = if a.due == b.due {
                String::new()
            } else {
                format!(" (was{})", due(b.due).replacen(',', "", 1))
            };
            out.push_str(&format!(
                "  ~ {} -> {}: {}{}{was}\n",
                b.status,
                a.status,
                a.sentence,
                due(a.due),
            ));
        }
    }
    if !w.quarters.is_empty() {
        out.push_str("\nOverdue or violated at each quarter's end (base -> other):\n");
        for q in &w.quarters {
            let date = q.end.to_zoned(base.time_zone.clone()).date();
            let counts: Vec<String> = q
                .by_rule
                .iter()
                .map(|(rule, (b, a))| format!("{rule} {b} -> {a}"))
                .collect();
            out.push_str(&format!("  {date}: {}\n", counts.join("; ")));
        }
    }
    out
}
