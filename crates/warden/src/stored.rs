//! The commands that work on a stored log: `init`, `import`, `export`,
//! `verify`, and `check --council`.

use crate::failure::{Failure, Outcome};
use crate::{load_pack, report_lines};
use domain::{Event, Seq};
use rules::{Admission, Calendar, Ledger, PolicyPack, Reason};
use std::path::Path;
use store::StoreError;

pub(crate) fn open(db: &str) -> Result<Box<dyn store::Store>, Failure> {
    Ok(store::open(db).map_err(|e| fail(db, e))?)
}

pub(crate) fn fail(db: &str, e: StoreError) -> Failure {
    Failure::store(db, e)
}

/// Creates or migrates the database and registers the council.
pub fn init(db: &str, council: &str, pack: &str) -> Result<Outcome, Failure> {
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
    Ok(Outcome::Clean)
}

/// Admits the file's events after the stored log, through the ledger, as a
/// record of what happened (a rule broken at the time becomes a `violated`
/// finding, and the count is said); lines without `recorded` are recorded
/// now, or, with `as_happened`, when they happened. Any bad line: every bad
/// line is listed and nothing is appended.
pub fn import(db: &str, council: &str, file: &Path, as_happened: bool) -> Result<Outcome, Failure> {
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let head = log.head(council).map_err(|e| fail(db, e))?;
    let stored = store::events(log.as_mut(), council).map_err(|e| fail(db, e))?;
    let bytes = std::fs::read(file).map_err(|e| Failure::read(file, e))?;
    let calendar = calendar(&pack);
    let mut ledger = Ledger::restore(&pack, &calendar, stored);
    let (lines, events, mut errors) = parse_lines(&bytes);
    let times: Vec<_> = events.iter().map(|e| (e.at, e.recorded)).collect();
    let now = crate::now();
    let admission = if as_happened {
        Admission::as_it_happened(now)
    } else {
        Admission::history(now)
    };
    let admitted = ledger.admit_in_bulk(events, admission);
    let admitted = match admitted {
        Ok(admitted) if errors.is_empty() => admitted,
        Ok(_) => return Err(report_lines(file, errors)),
        Err(refused) => {
            let line_of_seq = |seq: Seq| {
                let index = seq.checked_sub(head.seq + 1)?;
                lines.get(usize::try_from(index).ok()?).copied()
            };
            for (index, reason) in refused {
                let line = lines.get(index).copied().unwrap_or(0);
                let previous = index.checked_sub(1).and_then(|p| lines.get(p)).copied();
                let event = times.get(index).copied().unwrap_or_default();
                errors.push(domain::LineError {
                    line,
                    error: admission_error(
                        reason,
                        event,
                        previous.unwrap_or(0),
                        &line_of_seq,
                        &pack.time_zone,
                    ),
                });
            }
            errors.sort_by_key(|e| e.line);
            return Err(report_lines(file, errors));
        }
    };
    let new: Vec<Event> = admitted
        .seqs
        .iter()
        .filter_map(|seq| ledger.get(*seq).map(|l| l.event.clone()))
        .collect();
    let head_after = log.append(council, head, &new).map_err(|e| fail(db, e))?;
    say!(
        "appended {} events to {council}: {} in all, head {}",
        new.len(),
        head_after.seq,
        head_after.hash
    );
    if admitted.violations > 0 {
        say!(
            "{} of them broke a rule of the pack when they happened: each is now a violated finding (warden check lists them)",
            admitted.violations
        );
    }
    Ok(Outcome::Clean)
}

/// The events of a file, each with its line, and every line that is not one.
/// Each line decoded on its own, so a line that is not UTF-8 is named.
fn parse_lines(bytes: &[u8]) -> (Vec<usize>, Vec<Event>, Vec<domain::LineError>) {
    let (mut lines, mut events, mut errors) = (Vec::new(), Vec::new(), Vec::new());
    for (line, raw) in domain::lines_of(bytes) {
        let parsed = raw.and_then(|raw| {
            if raw.trim().is_empty() {
                Ok(None)
            } else {
                domain::parse_event(raw).map(Some)
            }
        });
        match parsed {
            Ok(None) => {}
            Ok(Some(event)) => {
                lines.push(line);
                events.push(event);
            }
            Err(error) => errors.push(domain::LineError { line, error }),
        }
    }
    (lines, events, errors)
}

/// A reason the ledger refused a line, with other events of the file named
/// by their line and their times in the council's zone.
fn admission_error(
    reason: Reason,
    event: (jiff::Timestamp, Option<jiff::Timestamp>),
    previous_line: usize,
    line_of: &dyn Fn(Seq) -> Option<usize>,
    zone: &jiff::tz::TimeZone,
) -> domain::EventError {
    use domain::{EventError, Objection};
    match reason {
        Reason::Log(objection @ Objection::RecordedBackwards { .. }) => {
            EventError::Message(format!(
                "{objection} (a line without `recorded` is recorded at the time of the import; with --recorded-as-happened, when it happened)"
            ))
        }
        Reason::Log(objection) => {
            let (at, recorded) = event;
            EventError::of_objection(objection, at, recorded, previous_line, line_of, Some(zone))
        }
        other => EventError::Message(other.to_string()),
    }
}

pub fn calendar(pack: &PolicyPack) -> Calendar {
    Calendar::new(
        pack.time_zone.clone(),
        pack.division,
        &rules::HolidayFile::bundled(),
    )
}

/// Writes a snapshot of the council's state at its head: the estate and the
/// rules' state beside it, what `serve` starts from.
pub fn snapshot(db: &str, council: &str) -> Result<Outcome, Failure> {
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let calendar = calendar(&pack);
    let restored = web::council::restore_ledger(log.as_mut(), council, &pack, &calendar)
        .map_err(|e| fail(db, e))?;
    if let Some(warning) = &restored.warning {
        eprintln!("warning: {council}: {warning}");
    }
    let (ledger, head) = (&restored.ledger, restored.head);
    if ledger.len() != head.seq {
        return Err(Failure::Said(format!(
            "{db}: {council}'s log grew from {} to {} events while it was read; run `warden snapshot` again",
            head.seq,
            ledger.len()
        )));
    }
    store::save_snapshot_of(
        log.as_mut(),
        council,
        head,
        ledger.last_at(),
        ledger.estate(),
        Some(&ledger.stored_rules()),
    )
    .map_err(|e| fail(db, e))?;
    say!(
        "{council}: snapshot at event {}, head {}",
        head.seq,
        head.hash
    );
    Ok(Outcome::Clean)
}

/// Prints the stored log as JSONL: each event's canonical JSON, with its id
/// (its own, or `#SEQ`, its place in the log, which the chain does not hash
/// and an import takes as implied).
pub fn export(db: &str, council: &str) -> Result<Outcome, Failure> {
    let mut log = open(db)?;
    let rows = store::rows(log.as_mut(), council).map_err(|e| fail(db, e))?;
    let mut out = String::with_capacity(rows.iter().map(|r| r.event.len() + 12).sum());
    for row in rows {
        out.push_str(&with_id(&row.event, row.seq));
        out.push('\n');
    }
    crate::out(&out);
    Ok(Outcome::Clean)
}

/// A canonical event with `"id":"#SEQ"` added where it has no own id. The
/// keys stay sorted: `at`, then `by`, then `id`, always before the rest.
fn with_id(canonical: &str, seq: u64) -> String {
    match serde_json::from_str::<std::collections::BTreeMap<String, serde_json::Value>>(canonical) {
        Ok(mut fields) if !fields.contains_key("id") => {
            fields.insert("id".into(), serde_json::Value::String(format!("#{seq}")));
            serde_json::to_string(&fields).unwrap_or_else(|_| canonical.to_owned())
        }
        _ => canonical.to_owned(),
    }
}

/// Recomputes each council's chain (every council with a row or with
/// events) and checks it against its stored head and `expect`; Ok(Outcome::NeedsAttention)
/// when one is broken.
pub fn verify(db: &str, council: Option<&str>, expect: Option<&str>) -> Result<Outcome, Failure> {
    let anchor = match expect {
        None => None,
        Some(text) => Some(parse_anchor(text).ok_or_else(|| {
            Failure::said(format!("--expect `{text}` is not SEQ:HASH, e.g. 471:0a1b... (64 hex digits), as `warden head` prints"))
        })?),
    };
    let mut log = open(db)?;
    let councils = match council {
        Some(c) => vec![c.to_owned()],
        None => {
            let mut all = log.councils().map_err(|e| fail(db, e))?;
            all.extend(log.event_councils().map_err(|e| fail(db, e))?);
            all.sort();
            all.dedup();
            all
        }
    };
    let mut broken = false;
    for council in councils {
        let v = store::verify_against(log.as_mut(), &council, anchor).map_err(|e| fail(db, e))?;
        // The snapshot is a cache of the log, not part of it: a bad one is
        // said, and discarded wherever it is read, but does not break the chain.
        if v.broken.is_none()
            && let Some(warning) =
                store::snapshot_warning(log.as_mut(), &council).map_err(|e| fail(db, e))?
        {
            eprintln!("warning: {council}: {warning}; `warden snapshot` writes a new one");
        }
        match v.broken {
            None => say!(
                "{council}: {} events, chain sound, head {}",
                v.sound,
                v.head
            ),
            Some(b) => {
                broken = true;
                say!(
                    "{council}: BROKEN: {b} ({} events from the first are sound)",
                    v.sound
                );
            }
        }
    }
    Ok(Outcome::flagged(broken))
}

fn parse_anchor(text: &str) -> Option<store::Head> {
    let (seq, hash) = text.trim().split_once(':')?;
    Some(store::Head {
        seq: seq.parse().ok()?,
        hash: store::Digest32::from_hex(hash)?,
    })
}

/// Prints the council's head as SEQ:HASH.
pub fn head(db: &str, council: &str) -> Result<Outcome, Failure> {
    let mut log = open(db)?;
    let head = log.head(council).map_err(|e| fail(db, e))?;
    say!("{}:{}", head.seq, head.hash);
    Ok(Outcome::Clean)
}
