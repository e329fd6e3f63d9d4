//! `warden check`: a log (a file, or a council's stored log) evaluated as
//! it is read, and the findings written as they are formatted.
//!
//! The log is read as a stream (`rules::Stream`): a thread reads and parses
//! lines while this one checks and folds them, and no event is kept, so
//! memory follows the estate and the findings, not the log. A log the
//! stream cannot take (a late record, a void, a line with an error) is read
//! again whole, through the timeline, which places late records and names
//! every bad line. Nothing is written to standard output until the whole
//! log has been read and found sound.

use crate::failure::{Failure, Outcome};
use crate::report::{self, Names};
use crate::stored::{fail, open};
use crate::{CheckArgs, Format, load_pack, report_lines};
use domain::{Event, decode_line, parse_event};
use jiff::Timestamp;
use rules::{Calendar, Finding, HolidayFile, PolicyPack, Step, Stream};
use std::io::{BufRead, Write};
use std::path::Path;

/// Lines parsed and handed to the folding thread at a time.
const BATCH: usize = 4096;

pub fn check(args: &CheckArgs) -> Result<Outcome, Failure> {
    let at = instant("at", args.at.as_deref())?;
    // Over a file, everything in it unless told otherwise; over a store,
    // what is recorded by now, which is the same thing there.
    let known_at = match &args.known_at {
        Some(text) => Some(instant("known-at", Some(text))?),
        None if args.council.is_some() => Some(crate::now()),
        None => None,
    };
    let holidays = match &args.bank_holidays {
        Some(path) => {
            let text = crate::read(path)?;
            HolidayFile::parse(&text)
                .map_err(|e| Failure::said(format!("{}: {e}", path.display())))?
        }
        None => HolidayFile::bundled(),
    };
    let (
        pack,
        Checked {
            findings,
            names,
            left_out,
        },
    ) = match (&args.council, &args.pack, &args.events) {
        (Some(council), _, _) => {
            let mut log = open(&args.db)?;
            let name = log.council_pack(council).map_err(|e| fail(&args.db, e))?;
            let pack = load_pack(&name)?;
            let calendar = calendar(&pack, &holidays);
            let checked = from_store(
                log.as_mut(),
                &args.db,
                council,
                &pack,
                &calendar,
                at,
                known_at,
            )?;
            (pack, checked)
        }
        (None, Some(pack), Some(events)) => {
            let pack = load_pack(pack)?;
            let calendar = calendar(&pack, &holidays);
            let checked = from_file(events, &pack, &calendar, at, known_at)?;
            (pack, checked)
        }
        // clap requires --pack and --events unless --council is given.
        _ => return Err(Failure::said("give --council, or --pack and --events")),
    };
    let left_out = known_at
        .filter(|_| left_out > 0)
        .map(|known_at| report::LeftOut {
            events: left_out,
            known_at,
        });
    print(&pack, at, &findings, &names, left_out, args)?;
    Ok(Outcome::flagged(
        findings.iter().any(|f| f.status.is_failure()),
    ))
}

fn instant(flag: &str, text: Option<&str>) -> Result<Timestamp, Failure> {
    match text {
        Some(text) => text.parse::<Timestamp>().map_err(|_| {
            Failure::said(format!("--{flag} `{text}` is not an RFC 3339 timestamp with an offset, e.g. 2025-04-01T09:00:00+01:00"))
        }),
        None => Ok(crate::now()),
    }
}

/// What a check found, and how many events `--known-at` left out.
struct Checked {
    findings: Vec<Finding>,
    names: Names,
    /// Events that had happened by `--at` but were recorded after
    /// `--known-at`.
    left_out: u64,
}

fn calendar(pack: &PolicyPack, holidays: &HolidayFile) -> Calendar {
    Calendar::new(pack.time_zone.clone(), pack.division, holidays)
}

/// The findings of a log file: streamed, or read whole when it must be.
fn from_file(
    path: &Path,
    pack: &PolicyPack,
    calendar: &Calendar,
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Result<Checked, Failure> {
    if let Some(streamed) = stream_file(path, pack, calendar, at, known_at) {
        return Ok(streamed);
    }
    let bytes = std::fs::read(path).map_err(|e| Failure::read(path, e))?;
    let log = domain::LogReader::new(pack)
        .in_zone(pack.time_zone.clone())
        .read_bytes(&bytes)
        .map_err(|errors| report_lines(path, errors))?;
    drop(bytes);
    let events: Vec<Event> = log.into_iter().map(|l| l.event).collect();
    Ok(whole(pack, calendar, &events, at, known_at))
}

/// The file read and parsed on a thread of its own, line by line, and
/// folded here; None at the first line the stream cannot take (or that
/// cannot be read), so that the caller reads the file whole.
fn stream_file(
    path: &Path,
    pack: &PolicyPack,
    calendar: &Calendar,
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Option<Checked> {
    let file = std::fs::File::open(path).ok()?;
    let mut stream = Stream::new(pack, calendar, at, known_at);
    std::thread::scope(|scope| {
        // None in a batch: a line that is not an event; the whole read names
        // it. Batches go back to the reading thread to be emptied there.
        let (batches, received) = std::sync::mpsc::sync_channel::<Vec<Option<Event>>>(8);
        let (used, returned) = std::sync::mpsc::channel::<Vec<Option<Event>>>();
        scope.spawn(move || read_lines(file, &batches, &returned));
        for mut batch in received {
            for event in &mut batch {
                let Some(event) = event else {
                    return None;
                };
                if stream.push(event) == Step::Whole {
                    return None;
                }
            }
            // The reader may have stopped; then the batch is dropped here.
            let _ = used.send(batch);
        }
        Some(finished(stream))
    })
}

/// What a stream that took the whole log found.
fn finished(stream: Stream) -> Checked {
    let left_out = stream.left_out();
    let (findings, names) = stream.finish();
    Checked {
        findings,
        names,
        left_out,
    }
}

/// Reads and parses the file's lines into batches; stops at the end, at a
/// line that is not an event (sent as None), or when the folding side has
/// stopped listening. Reuses (and so frees, on this thread) the batches the
/// folding side hands back.
fn read_lines(
    file: std::fs::File,
    batches: &std::sync::mpsc::SyncSender<Vec<Option<Event>>>,
    returned: &std::sync::mpsc::Receiver<Vec<Option<Event>>>,
) {
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let fresh = || {
        returned.try_recv().map_or_else(
            |_| Vec::with_capacity(BATCH),
            |mut used| {
                used.clear();
                used
            },
        )
    };
    let (mut buffer, mut batch) = (Vec::new(), fresh());
    let mut first = true;
    loop {
        buffer.clear();
        match reader.read_until(b'\n', &mut buffer) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => {
                batch.push(None);
                break;
            }
        }
        let mut line = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
        if std::mem::take(&mut first) {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        let event = match decode_line(line) {
            Ok(text) if text.trim().is_empty() => continue,
            Ok(text) => parse_event(text).ok(),
            Err(_) => None,
        };
        let bad = event.is_none();
        batch.push(event);
        if bad {
            break;
        }
        if batch.len() == BATCH
            && batches
                .send(std::mem::replace(&mut batch, fresh()))
                .is_err()
        {
            return;
        }
    }
    let _ = batches.send(batch);
}

/// The findings of a stored log: streamed, or read whole when it must be.
fn from_store(
    log: &mut dyn store::EventLog,
    db: &str,
    council: &str,
    pack: &PolicyPack,
    calendar: &Calendar,
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Result<Checked, Failure> {
    let mut stream = Stream::new(pack, calendar, at, known_at);
    let taken = store::for_each_event(log, council, |_, mut event| {
        stream.push(&mut event) == Step::Taken
    })
    .map_err(|e| fail(db, e))?;
    if taken {
        return Ok(finished(stream));
    }
    let events = store::events(log, council).map_err(|e| fail(db, e))?;
    Ok(whole(pack, calendar, &events, at, known_at))
}

/// The findings of a log held whole (late records placed, voids honoured).
fn whole(
    pack: &PolicyPack,
    calendar: &Calendar,
    events: &[Event],
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Checked {
    let findings = rules::evaluate_as_known(pack, calendar, events, at, known_at);
    let left_out = known_at.map_or(0, |known_at| {
        let unknown = |e: &&Event| e.recorded_or_at() > known_at && e.at <= at;
        events.iter().filter(unknown).count() as u64
    });
    Checked {
        findings,
        names: report::names_of(events),
        left_out,
    }
}

/// Writes the report to standard output as it is formatted; a reader that
/// has gone away ends it quietly.
fn print(
    pack: &PolicyPack,
    at: Timestamp,
    findings: &[Finding],
    names: &Names,
    left_out: Option<report::LeftOut>,
    args: &CheckArgs,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args.format {
        Format::Json => report::json(&mut out, pack, at, findings, names, left_out),
        Format::Table => report::table(&mut out, pack, at, findings, left_out, args.verbose),
    }
    .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Output(e)),
        _ => Ok(()),
    }
}
