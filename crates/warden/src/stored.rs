//! The commands that work on a stored log: `init`, `import`, `export`,
//! `verify`, and `check --council`.

use crate::{BadInput, load_pack, read, report_lines};
use domain::{Event, LogReader};
use rules::PolicyPack;
use std::path::Path;
use store::{EventLog, StoreError};

fn open(db: &str) -> Result<Box<dyn EventLog>, BadInput> {
    Ok(store::open(db).map_err(|e| fail(db, e))?)
}

fn fail(db: &str, e: StoreError) -> BadInput {
    eprintln!("error: {db}: {e}");
    BadInput
}

/// Creates or migrates the database and registers the council.
pub fn init(db: &str, council: &str, pack: &str) -> Result<bool, BadInput> {
    let loaded = load_pack(pack)?;
    let mut log = open(db)?;
    log.init_council(council, pack).map_err(|e| fail(db, e))?;
    let head = log.head(council).map_err(|e| fail(db, e))?;
    say!(
        "council {council} is ready in {db}: pack {} ({} rules), {} events stored",
        loaded.id,
        loaded.rules.len(),
        head.seq
    );
    Ok(false)
}

/// The council's pack and its stored events.
pub fn load(db: &str, council: &str) -> Result<(PolicyPack, Vec<Event>), BadInput> {
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let events = store::events(log.as_mut(), council).map_err(|e| fail(db, e))?;
    Ok((pack, events))
}

/// Validates the file as a continuation of the stored log, then appends it
/// in one transaction. Any bad line: nothing is appended.
pub fn import(db: &str, council: &str, file: &Path) -> Result<bool, BadInput> {
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let loaded = load_estate(log.as_mut(), db, council)?;
    let head = loaded.head;
    let text = read(file)?;
    let reader = LogReader::resume(&pack, loaded.estate, loaded.last);
    let new = reader
        .read(&text)
        .map_err(|errors| report_lines(file, &errors))?;
    let new: Vec<Event> = new.into_iter().map(|l| l.event).collect();
    let head_after = log.append(council, head, &new).map_err(|e| fail(db, e))?;
    say!(
        "appended {} events to {council}: {} in all, head {}",
        new.len(),
        head_after.seq,
        head_after.hash
    );
    Ok(false)
}

/// The estate at the head, from the snapshot and its tail where one can be
/// trusted; a snapshot that cannot is reported and replaced by a replay.
fn load_estate(log: &mut dyn EventLog, db: &str, council: &str) -> Result<store::Loaded, BadInput> {
    let loaded = store::load_estate(log, council).map_err(|e| fail(db, e))?;
    if let Some(warning) = &loaded.warning {
        eprintln!("warning: {council}: {warning}; replayed the whole log instead");
    }
    Ok(loaded)
}

/// Writes a snapshot of the council's estate at its head.
pub fn snapshot(db: &str, council: &str) -> Result<bool, BadInput> {
    let mut log = open(db)?;
    let loaded = store::write_snapshot(log.as_mut(), council).map_err(|e| fail(db, e))?;
    if let Some(warning) = &loaded.warning {
        eprintln!("warning: {council}: {warning}; replayed the whole log instead");
    }
    say!(
        "{council}: snapshot at event {}, head {}",
        loaded.head.seq,
        loaded.head.hash
    );
    Ok(false)
}

/// Prints the stored log as canonical JSONL.
pub fn export(db: &str, council: &str) -> Result<bool, BadInput> {
    let mut log = open(db)?;
    let rows = log.rows(council).map_err(|e| fail(db, e))?;
    let mut out = String::with_capacity(rows.iter().map(|r| r.event.len() + 1).sum());
    for row in rows {
        out.push_str(&row.event);
        out.push('\n');
    }
    crate::out(&out);
    Ok(false)
}

/// Recomputes each council's chain; Ok(true) when one is broken.
pub fn verify(db: &str, council: Option<&str>) -> Result<bool, BadInput> {
    let mut log = open(db)?;
    let councils = match council {
        Some(c) => vec![c.to_owned()],
        None => log.councils().map_err(|e| fail(db, e))?,
    };
    let mut broken = false;
    for council in councils {
        let v = store::verify(log.as_mut(), &council).map_err(|e| fail(db, e))?;
        match v.broken {
            None => say!(
                "{council}: {} events, chain sound, head {}",
                v.sound,
                v.head
            ),
            Some(b) => {
                broken = true;
                say!(
                    "{council}: BROKEN at {b} ({} events before it are sound)",
                    v.sound
                );
            }
        }
    }
    Ok(broken)
}
