//! `warden generate`: many councils' logs from the `generate` crate, written
//! as one time-ordered JSONL file, one file per council, or straight into a
//! store. Files are written whole or not at all (to a temporary name, then
//! renamed).

use crate::failure::{Failure, Outcome};
use crate::load_pack;
use domain::Event;
use generate::{Spec, council_id};
use rules::PolicyPack;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the generated logs go.
pub enum Output {
    /// One file, every council's events merged in time order.
    File(PathBuf),
    /// A folder with `<council>.jsonl` each and `councils.tsv` saying which
    /// pack each council uses.
    Folder(PathBuf),
    /// Each council registered with its pack and its log appended.
    Store(String),
}

pub fn generate(
    spec: &Spec,
    councils: usize,
    pack: Option<&str>,
    output: &Output,
) -> Result<Outcome, Failure> {
    if councils == 0 || spec.people == 0 || !(1..=20).contains(&spec.years) {
        return Err(Failure::said(
            "--councils and --people must be at least 1, and --years between 1 and 20",
        ));
    }
    let names: Vec<String> = match pack {
        Some(name) => vec![name.to_owned()],
        None => rules::bundled::COUNCILS.map(str::to_owned).to_vec(),
    };
    let packs = names
        .iter()
        .map(|n| load_pack(n))
        .collect::<Result<Vec<PolicyPack>, Failure>>()?;
    let assigned: Vec<usize> = (0..councils).map(|i| i % packs.len()).collect();
    let logs = generate::councils(spec, &packs, &assigned);
    let total: usize = logs.iter().map(Vec::len).sum();
    match output {
        Output::File(path) => write_atomically(path, |out| write_merged(out, &logs))?,
        Output::Folder(dir) => write_folder(dir, &names, &assigned, &logs)?,
        Output::Store(db) => store(db, (&names, &packs), &assigned, &logs)?,
    }
    let place = match output {
        Output::File(p) | Output::Folder(p) => p.display().to_string(),
        Output::Store(db) => db.clone(),
    };
    say!(
        "generated {total} events for {councils} council(s) of {} people over {} year(s) (seed {}) into {place}",
        spec.people,
        spec.years,
        spec.seed
    );
    Ok(Outcome::Clean)
}

fn write_merged(out: &mut dyn Write, logs: &[Vec<Event>]) -> std::io::Result<()> {
    let mut all: Vec<&Event> = logs.iter().flatten().collect();
    // In the order Warden learned of them (a late record where it was
    // booked in); a stable sort keeps each council's own order among equal
    // instants.
    all.sort_by_key(|e| e.recorded_or_at());
    for event in all {
        writeln!(out, "{}", event.to_canonical_json())?;
    }
    Ok(())
}

fn write_folder(
    dir: &Path,
    names: &[String],
    assigned: &[usize],
    logs: &[Vec<Event>],
) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::said(format!("cannot create {}: {e}", dir.display())))?;
    let mut index = String::from("council\tpack\tevents\n");
    for (i, log) in logs.iter().enumerate() {
        let id = council_id(i);
        write_atomically(&dir.join(format!("{id}.jsonl")), |out| {
            log.iter()
                .try_for_each(|e| writeln!(out, "{}", e.to_canonical_json()))
        })?;
        index.push_str(&format!("{id}\t{}\t{}\n", names[assigned[i]], log.len()));
    }
    write_atomically(&dir.join("councils.tsv"), |out| {
        out.write_all(index.as_bytes())
    })
}

fn store(
    db: &str,
    (names, packs): (&[String], &[PolicyPack]),
    assigned: &[usize],
    logs: &[Vec<Event>],
) -> Result<(), Failure> {
    let fail = |e: store::StoreError| Failure::said(format!("{db}: {e}"));
    let mut log = store::open(db).map_err(fail)?;
    // Refuse before writing anything, not at the first council in the way.
    let existing = log.councils().map_err(fail)?;
    let taken: Vec<String> = (0..logs.len())
        .map(council_id)
        .filter(|id| existing.contains(id))
        .collect();
    if !taken.is_empty() {
        return Err(Failure::said(format!(
            "{db} already holds council(s) {}; generate into a new database",
            taken.join(", ")
        )));
    }
    // Admitted first, every council, so that nothing is written unless all
    // of it goes in; each event is recorded as it happened (a v1 log).
    let mut admitted = Vec::with_capacity(logs.len());
    for (i, events) in logs.iter().enumerate() {
        let pack = &packs[assigned[i]];
        let calendar = rules::Calendar::new(
            pack.time_zone.clone(),
            pack.division,
            &rules::HolidayFile::bundled(),
        );
        let mut ledger = rules::Ledger::new(pack, &calendar);
        if let Err(refused) = ledger.admit_in_bulk(
            events.clone(),
            rules::Admission::as_it_happened(crate::now()),
        ) {
            let reasons: Vec<String> = refused
                .iter()
                .take(5)
                .map(|(index, reason)| {
                    format!("council {}, event {}: {reason}", council_id(i), index + 1)
                })
                .collect();
            return Err(Failure::said(format!(
                "the generated log was refused; nothing was written:\n{}",
                reasons.join("\n")
            )));
        }
        let stored: Vec<Event> = ledger.events();
        admitted.push(stored);
    }
    for (i, events) in admitted.iter().enumerate() {
        let id = council_id(i);
        log.init_council(&id, &names[assigned[i]]).map_err(fail)?;
        log.append(&id, store::Head::EMPTY, events).map_err(fail)?;
    }
    Ok(())
}

/// Writes to `<path>.partial` and renames it into place, so an error or a
/// crash never leaves half a file under the real name.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let result = std::fs::File::create(&partial).and_then(|file| {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        write(&mut out)?;
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&partial, path)
    });
    result.map_err(|e| {
        let _ = std::fs::remove_file(&partial);
        Failure::write(path, e)
    })
}
