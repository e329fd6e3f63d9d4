//! Reading a council's log back, all of it built on the one read a backend
//! implements, [`EventLog::read_after`], which streams rows in chunks.
//!
//! Speed contract: a replay (`replay`, `for_each_event`) reads only the
//! sequence numbers and event texts, one chunk in flight per
//! [`IN_FLIGHT`], and overlaps reading with decoding on two threads;
//! `events` collects the chunks and decodes them on every core; `rows` and
//! `rows_after` also read the hashes, for verification, backups and a node
//! following others' appends.

use crate::chain::Row;
use crate::{EventLog, StoreError};
use domain::{Estate, Event};
use jiff::Timestamp;
use std::sync::mpsc;

/// Chunks a streamed read may hold between the reading thread and the one
/// decoding: enough to keep both busy, few enough to bound memory.
const IN_FLIGHT: usize = 16;

/// Which columns a read brings back besides each event's sequence number
/// and text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Columns {
    /// What a replay needs: no hashes.
    Events,
    /// Each row's chain hash too: what verification and following need.
    WithHashes,
}

/// Stored events in one buffer: a chunk of a replay costs one allocation
/// however many events it holds, and is freed whole by the thread that
/// decodes it.
#[derive(Default)]
pub struct Chunk {
    text: String,
    /// Each event's sequence number and where its text ends.
    ends: Vec<(u64, usize)>,
    /// Each event's hash, when the read asked for them.
    hashes: Vec<String>,
}

impl Chunk {
    /// Events a chunk holds before it is handed on.
    const EVENTS: usize = 4096;

    fn push(&mut self, seq: u64, event: &str, hash: Option<&str>) {
        if self.text.is_empty() {
            self.text.reserve(Self::EVENTS * 160);
            self.ends.reserve(Self::EVENTS);
        }
        self.text.push_str(event);
        self.ends.push((seq, self.text.len()));
        if let Some(hash) = hash {
            self.hashes.push(hash.to_owned());
        }
    }

    fn is_full(&self) -> bool {
        self.ends.len() >= Self::EVENTS
    }

    /// Each event's sequence number and text, in order.
    pub fn events(&self) -> impl Iterator<Item = (u64, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|(_, end)| *end));
        self.ends
            .iter()
            .zip(starts)
            .map(|((seq, end), start)| (*seq, self.text.get(start..*end).unwrap_or("")))
    }

    /// The chunk as rows; a row read without its hash has an empty one.
    pub fn into_rows(mut self) -> Vec<Row> {
        let mut hashes = std::mem::take(&mut self.hashes).into_iter();
        self.events()
            .map(|(seq, event)| Row {
                seq,
                event: event.to_owned(),
                hash: hashes.next().unwrap_or_default(),
            })
            .collect()
    }
}

/// Fills chunks from rows as a backend reads them and hands each on when
/// full, so every backend's `read_after` is the same small loop.
pub(crate) struct Chunker<'a> {
    chunk: Chunk,
    each: &'a mut dyn FnMut(Chunk) -> bool,
}

impl<'a> Chunker<'a> {
    pub(crate) fn new(each: &'a mut dyn FnMut(Chunk) -> bool) -> Self {
        Chunker {
            chunk: Chunk::default(),
            each,
        }
    }

    /// Adds one row (its hash, if it was read); false when the receiver
    /// wants no more.
    pub(crate) fn push(&mut self, seq: u64, event: &str, hash: Option<&str>) -> bool {
        self.chunk.push(seq, event, hash);
        !self.chunk.is_full() || (self.each)(std::mem::take(&mut self.chunk))
    }

    /// Hands on what is left.
    pub(crate) fn finish(mut self) {
        if !self.chunk.ends.is_empty() {
            (self.each)(std::mem::take(&mut self.chunk));
        }
    }
}

/// The stored rows after sequence number `after`, with their hashes, in
/// order.
pub fn rows_after(
    log: &mut dyn EventLog,
    council: &str,
    after: u64,
) -> Result<Vec<Row>, StoreError> {
    let mut rows = Vec::new();
    log.read_after(council, after, Columns::WithHashes, &mut |chunk| {
        rows.extend(chunk.into_rows());
        true
    })?;
    Ok(rows)
}

/// Every stored row of the council, with its hash, in sequence order.
pub fn rows(log: &mut dyn EventLog, council: &str) -> Result<Vec<Row>, StoreError> {
    rows_after(log, council, 0)
}

/// The council's events, read back and decoded.
pub fn events(log: &mut dyn EventLog, council: &str) -> Result<Vec<Event>, StoreError> {
    let mut chunks = Vec::new();
    log.read_after(council, 0, Columns::Events, &mut |chunk| {
        chunks.push(chunk);
        true
    })?;
    decode(council, &chunks)
}

/// Decodes stored events on every core: decoding is independent per event
/// and is most of a replay's work; the fold that follows stays in order.
fn decode(council: &str, chunks: &[Chunk]) -> Result<Vec<Event>, StoreError> {
    let decode_chunks = |part: &[Chunk]| {
        part.iter()
            .flat_map(Chunk::events)
            .map(|(seq, text)| decode_text(council, seq, text))
            .collect::<Result<Vec<_>, _>>()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || chunks.len() < 3 {
        return decode_chunks(chunks);
    }
    let per_thread = chunks.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = chunks
            .chunks(per_thread)
            .map(|part| scope.spawn(move || decode_chunks(part)))
            .collect();
        let mut events = Vec::new();
        for worker in workers {
            match worker.join() {
                Ok(part) => events.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(events)
    })
}

fn decode_text(council: &str, seq: u64, text: &str) -> Result<Event, StoreError> {
    domain::parse_event(text).map_err(|e| StoreError::Corrupt {
        council: council.to_owned(),
        seq,
        message: e.to_string(),
    })
}

/// What a streamed replay found.
#[derive(Debug)]
pub enum Replayed {
    /// Every event after the start was folded, in order: the estate and
    /// when the latest event happened.
    Folded(Box<Estate>, Option<Timestamp>),
    /// The events are not in `at` order, or a void is among them: the
    /// estate is the fold of the live events in `at` order, which a stream
    /// in recording order cannot give (see [`fold_whole`]).
    NotInOrder,
}

/// Streams the council's events after `after` to `consume`, which runs on
/// a second thread and gets them chunk by chunk, while this thread reads
/// the rest. `consume` stopping early (returning without draining the
/// channel) stops the read; its result is the answer, and a read error
/// counts only if `consume` did not stop early (`stopped`).
fn stream<T: Send>(
    log: &mut dyn EventLog,
    council: &str,
    after: u64,
    consume: impl FnOnce(mpsc::Receiver<Chunk>) -> Result<T, StoreError> + Send,
    stopped: impl Fn(&Result<T, StoreError>) -> bool,
) -> Result<T, StoreError> {
    std::thread::scope(|scope| {
        let (chunks, chunks_rx) = mpsc::sync_channel::<Chunk>(IN_FLIGHT);
        let consumer = scope.spawn(move || consume(chunks_rx));
        // A send fails only when the consumer has stopped; then reading on
        // is pointless, and the consumer says why.
        let read = log.read_after(council, after, Columns::Events, &mut |chunk| {
            chunks.send(chunk).is_ok()
        });
        drop(chunks);
        let consumed = match consumer.join() {
            Ok(consumed) => consumed,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !stopped(&consumed) {
            read?;
        }
        consumed
    })
}

/// Folds the council's events after `after` into `estate` as they stream,
/// while they come in `at` order (none earlier than `since` or than the one
/// before, no void); otherwise says so and stops. The rows are read on this
/// thread while another decodes and folds them, so reading overlaps the rest
/// on two cores. Each chunk of text is allocated here and freed there whole;
/// every event is made and dropped on the one thread (freeing memory another
/// thread allocated is slow in the system allocator).
pub fn replay(
    log: &mut dyn EventLog,
    council: &str,
    after: u64,
    mut estate: Estate,
    since: Option<Timestamp>,
) -> Result<Replayed, StoreError> {
    let fold = move |chunks: mpsc::Receiver<Chunk>| {
        let mut last = since;
        for chunk in chunks {
            for (seq, text) in chunk.events() {
                let event = decode_text(council, seq, text)?;
                let late = last.is_some_and(|last| event.at < last);
                if late || matches!(event.kind, domain::EventKind::EventVoided(_)) {
                    return Ok(Replayed::NotInOrder);
                }
                estate.apply(&event);
                last = Some(event.at);
            }
        }
        Ok(Replayed::Folded(Box::new(estate), last))
    };
    stream(log, council, after, fold, |folded| {
        matches!(folded, Ok(Replayed::NotInOrder))
    })
}

/// Hands the council's events to `each` in order, decoded, as they are
/// read: rows are read on this thread while another decodes them and runs
/// `each`, which returns false to stop. Ok(true) when every event was
/// handed on, Ok(false) when `each` stopped; an event that does not decode
/// is `Corrupt`, naming it.
pub fn for_each_event(
    log: &mut dyn EventLog,
    council: &str,
    mut each: impl FnMut(u64, Event) -> bool + Send,
) -> Result<bool, StoreError> {
    let hand_on = move |chunks: mpsc::Receiver<Chunk>| {
        for chunk in chunks {
            for (seq, text) in chunk.events() {
                if !each(seq, decode_text(council, seq, text)?) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    };
    stream(log, council, 0, hand_on, |handed| {
        matches!(handed, Ok(false))
    })
}

/// The estate of the council's whole log: its live events in `at` order,
/// and when the latest happened. What a replay falls back on when records
/// arrived late or were voided.
pub fn fold_whole(
    log: &mut dyn EventLog,
    council: &str,
) -> Result<(Estate, Option<Timestamp>), StoreError> {
    let events = events(log, council)?;
    let order = domain::timeline::in_order(&events);
    let last = order.last().map(|(_, e)| e.at);
    let mut estate = Estate::default();
    for (_, event) in order {
        estate.apply(event);
    }
    Ok((estate, last))
}
