//! `warden import-csv`: an export of a system the council already runs
//! (an HR file, Entra ID's users), compared with the stored estate and
//! turned into events. Without `--apply` it only prints the plan.

use crate::failure::{Failure, Outcome};
use crate::load_pack;
use crate::stored::{calendar, fail, open};
use jiff::Timestamp;
use rules::{Admission, Ledger};
use std::path::Path;

/// What `import-csv` was asked to do.
pub struct Request<'a> {
    pub db: &'a str,
    pub council: &'a str,
    pub file: &'a Path,
    pub format: Option<&'a str>,
    pub mapping: Option<&'a Path>,
    pub as_of: Option<Timestamp>,
    pub complete: bool,
    pub apply: bool,
}

pub fn import_csv(r: &Request<'_>) -> Result<Outcome, Failure> {
    let format = match r.format {
        None => None,
        Some(name) => Some(imports::Format::from_name(name).ok_or_else(|| {
            let known = imports::Format::ALL.map(imports::Format::name).join(", ");
            Failure::said(format!("--format {name}: Warden reads {known}"))
        })?),
    };
    let mapping = match r.mapping {
        None => None,
        Some(path) => {
            let text = crate::read(path)?;
            Some(imports::Mapping::parse(&text).map_err(|errors| {
                let shown = path.display();
                let lines: Vec<String> = errors.iter().map(|e| format!("{shown}: {e}")).collect();
                Failure::said(format!("{}\nnothing was written", lines.join("\n")))
            })?)
        }
    };
    let file = std::fs::File::open(r.file).map_err(|e| Failure::read(r.file, e))?;
    let shown = r.file.display();
    let input = std::io::BufReader::new(file);
    let (read_as, rows) = match (&mapping, r.mapping) {
        (Some(m), Some(path)) => {
            let rows = imports::read_mapped(input, m)
                .map_err(|errors| said_all(&shown.to_string(), &errors))?;
            (format!("read with the mapping {}", path.display()), rows)
        }
        _ => {
            let (format, rows) = imports::read(input, format)
                .map_err(|errors| said_all(&shown.to_string(), &errors))?;
            (format!("read as {}", format.name()), rows)
        }
    };
    let mut log = open(r.db)?;
    let pack = load_pack(&log.council_pack(r.council).map_err(|e| fail(r.db, e))?)?;
    let head = log.head(r.council).map_err(|e| fail(r.db, e))?;
    let stored = store::events(log.as_mut(), r.council).map_err(|e| fail(r.db, e))?;
    let calendar = calendar(&pack);
    let mut ledger = Ledger::restore(&pack, &calendar, stored);
    let now = crate::now();
    let options = imports::Options {
        as_of: r.as_of,
        complete: r.complete,
        tz: pack.time_zone.clone(),
        now,
    };
    let plan = imports::plan(ledger.estate(), &rows, &options)
        .map_err(|errors| said_all(&shown.to_string(), &errors))?;
    say!("{shown}: {read_as} ({} rows)", rows.len());
    // The plan is what goes on; a large file's rows are a large part of
    // the memory the admission would otherwise be given fresh.
    drop(rows);
    print_plan(&plan);
    if !r.apply {
        say!("nothing was written: run again with --apply to record these events");
        return Ok(Outcome::Clean);
    }
    if plan.events.is_empty() {
        say!("nothing to record: the estate already says what the file says");
        return Ok(Outcome::Clean);
    }
    let (lines, events): (Vec<u64>, Vec<domain::Event>) = plan.events.into_iter().unzip();
    let admitted = ledger
        .admit_in_bulk(events, Admission::history(now))
        .map_err(|refused| {
            let said: Vec<String> = refused
                .iter()
                .map(|(i, reason)| {
                    format!("{shown}:{}: {reason}", lines.get(*i).copied().unwrap_or(0))
                })
                .collect();
            Failure::said(format!("{}\nnothing was written", said.join("\n")))
        })?;
    let new: Vec<domain::Event> = admitted
        .seqs
        .iter()
        .filter_map(|seq| ledger.get(*seq).map(|l| l.event.clone()))
        .collect();
    let after = log
        .append(r.council, head, &new)
        .map_err(|e| fail(r.db, e))?;
    say!(
        "appended {} events to {}: {} in all, head {}",
        new.len(),
        r.council,
        after.seq,
        after.hash
    );
    Ok(Outcome::Clean)
}

fn print_plan(plan: &imports::Plan) {
    if plan.events.is_empty() {
        say!("plan: nothing to record");
    }
    for (name, count) in plan.counts() {
        say!("plan: {count} {name}");
        for (line, event) in plan
            .events
            .iter()
            .filter(|(_, e)| e.kind.event_type().name() == name)
            .take(3)
        {
            let at = event.at;
            let who = event
                .kind
                .device()
                .map(|d| d.to_string())
                .or_else(|| event.kind.person().map(|p| p.to_string()))
                .unwrap_or_default();
            match line {
                0 => say!("  {who} at {at} (not in the complete file)"),
                _ => say!("  line {line}: {who} at {at}"),
            }
        }
    }
    for (line, note) in &plan.notes {
        say!("note: line {line}: {note}");
    }
}

/// Every error of the file, one a line, `FILE:LINE...: message`.
fn said_all(file: &str, errors: &[imports::ReadError]) -> Failure {
    let lines: Vec<String> = errors.iter().map(|e| format!("{file}: {e}")).collect();
    Failure::said(format!("{}\nnothing was written", lines.join("\n")))
}
