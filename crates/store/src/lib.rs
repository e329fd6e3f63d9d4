//! Warden's event log: durable, append-only and hash-chained, per council.
//!
//! `EventLog` is the one interface, with two backends: `SqliteLog`, one
//! file, the embedded default; `PostgresLog`, for a shared service of many
//! councils and several Warden processes on one database. The chain
//! itself, its canonical form and its verification live in `chain`, apart
//! from any database, so a backend only stores rows.

pub mod chain;
mod pool;
mod postgres;
mod sqlite;
mod startup;

pub use chain::{Break, Digest32, GENESIS, Head, Row, Verification};
pub use pool::{Conn, Listener, Pool};
pub use postgres::PostgresLog;
pub use sqlite::SqliteLog;
pub use startup::{Loaded, load_estate, snapshot_warning, write_snapshot};

use domain::{Estate, Event};
use jiff::Timestamp;
use std::sync::mpsc;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed a statement (either backend; the
    /// message names which).
    #[error("{0}")]
    Database(String),
    #[error(
        "`{0}` is not a database URL Warden can use: expected sqlite:PATH or postgres://USER@HOST:PORT/DATABASE"
    )]
    BadUrl(String),
    #[error("council `{0}` is not in this database: run `warden init` for it first")]
    NoSuchCouncil(String),
    #[error("council `{council}` is set up with pack `{existing}`, not `{requested}`")]
    PackMismatch {
        council: String,
        existing: String,
        requested: String,
    },
    #[error("the store is not answering: {0}")]
    Unavailable(String),
    #[error(
        "the log of `{council}` moved on while this append was prepared (expected {expected} events, found {found}): read it again and retry"
    )]
    Conflict {
        council: String,
        expected: u64,
        found: u64,
    },
    #[error("stored event {seq} of `{council}` cannot be read back: {message}")]
    Corrupt {
        council: String,
        seq: u64,
        message: String,
    },
}

/// A council's log in some database. Every method is one transaction.
pub trait EventLog {
    /// Registers a council and the pack its log is checked against. Doing it
    /// again with the same pack changes nothing.
    fn init_council(&mut self, council: &str, pack: &str) -> Result<(), StoreError>;
    /// The pack a council was registered with.
    fn council_pack(&mut self, council: &str) -> Result<String, StoreError>;
    fn councils(&mut self) -> Result<Vec<String>, StoreError>;
    /// The councils that have events in the log (a council whose row was
    /// deleted behind the store's back is among these, not among `councils`).
    fn event_councils(&mut self) -> Result<Vec<String>, StoreError>;
    /// Every council's stored head sequence number, in one read: how a
    /// service node sees which logs other nodes have moved on.
    fn heads(&mut self) -> Result<Vec<(String, u64)>, StoreError>;
    /// The end of the council's chain as stored beside its log, moved in the
    /// same transaction as each append (`Head::EMPTY` for an empty log).
    fn head(&mut self, council: &str) -> Result<Head, StoreError>;
    /// Appends `events` after `expected`, all or nothing. If the log has moved
    /// past `expected`, nothing is written and `Conflict` is returned, so a
    /// caller that validated against `expected` never extends a state it did
    /// not see.
    fn append(
        &mut self,
        council: &str,
        expected: Head,
        events: &[Event],
    ) -> Result<Head, StoreError>;
    /// Appends under the council's write lock, after whatever other writers
    /// appended since `known`, in one transaction: `prepare` is handed those
    /// rows, in order (none if the log is still at `known`), and returns the
    /// events to append after them, or None to write nothing. No writer can
    /// append between what `prepare` saw and what it wrote, so a command
    /// checked inside it never loses a race. The new head, or None.
    fn append_following(
        &mut self,
        council: &str,
        known: Head,
        prepare: &mut Prepare<'_>,
    ) -> Result<Option<Head>, StoreError>;
    /// The stored rows after sequence number `after`, in order.
    fn rows_after(&mut self, council: &str, after: u64) -> Result<Vec<Row>, StoreError>;
    /// Every stored row of the council, in sequence order.
    fn rows(&mut self, council: &str) -> Result<Vec<Row>, StoreError> {
        self.rows_after(council, 0)
    }
    /// The sequence numbers and events after `after`, without their hashes:
    /// what a replay needs. Backends override it to read less.
    fn events_after(
        &mut self,
        council: &str,
        after: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        Ok(self
            .rows_after(council, after)?
            .into_iter()
            .map(|r| (r.seq, r.event))
            .collect())
    }
    /// Hands the events after `after` to `each` in chunks, in order, as they
    /// are read, so that a replay decodes while the rest is still being read.
    /// `each` returns false to stop early.
    fn read_events_after(
        &mut self,
        council: &str,
        after: u64,
        each: &mut dyn FnMut(Chunk) -> bool,
    ) -> Result<(), StoreError>;
}

/// A council's latest snapshot: a cache of the state its log gives, never
/// part of the log (see `startup.rs`).
pub trait Snapshots {
    /// Replaces the council's snapshot, atomically.
    fn save_snapshot(&mut self, council: &str, snapshot: &Snapshot) -> Result<(), StoreError>;
    fn load_snapshot(&mut self, council: &str) -> Result<Option<Snapshot>, StoreError>;
}

/// Sign-in accounts (opaque JSON, owned by the web service), kept beside
/// the log, never in it: see `migrations/*/0003_accounts.sql`.
pub trait Accounts {
    /// Replaces a person's account.
    fn save_account(
        &mut self,
        council: &str,
        person: &str,
        account: &str,
    ) -> Result<(), StoreError>;
    fn account(&mut self, council: &str, person: &str) -> Result<Option<String>, StoreError>;
    /// Every account of the council, (person, account JSON), by person.
    fn accounts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError>;
}

/// A database holding all three: what `open` and the service's pool hand
/// out. Code that needs only the log takes `&mut dyn EventLog`.
pub trait Store: EventLog + Snapshots + Accounts {}

impl<T: EventLog + Snapshots + Accounts + ?Sized> Store for T {}

/// What `append_following` asks of its caller: the rows others appended,
/// in; the events to append after them (or None), out.
pub type Prepare<'a> = dyn FnMut(Vec<Row>) -> Result<Option<Vec<Event>>, StoreError> + 'a;

/// The estate after event `seq` (whose hash is `hash`), as JSON, with the
/// SHA-256 that binds the state to that event ([`Snapshot::new`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub seq: u64,
    pub hash: String,
    pub state: String,
    /// Hex SHA-256 of `seq`, `hash` and `state` (see `digest_of`).
    pub digest: String,
}

impl Snapshot {
    /// A snapshot of `state` after event `seq` with chain hash `hash`, its
    /// digest computed.
    pub fn new(seq: u64, hash: String, state: String) -> Snapshot {
        let digest = Snapshot::digest_of(seq, &hash, &state);
        Snapshot {
            seq,
            hash,
            state,
            digest,
        }
    }

    /// SHA-256 over `"warden-snapshot-v1\n{seq}\n{hash}\n{state}"`, in hex: a
    /// state edited in place, or moved to another event, no longer matches.
    pub fn digest_of(seq: u64, hash: &str, state: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut sha = Sha256::new();
        sha.update(format!("warden-snapshot-v1\n{seq}\n{hash}\n").as_bytes());
        sha.update(state.as_bytes());
        hex::encode(sha.finalize())
    }

    /// Whether the digest is the one its contents give.
    pub fn digest_matches(&self) -> bool {
        !self.digest.is_empty()
            && Snapshot::digest_of(self.seq, &self.hash, &self.state) == self.digest
    }
}

/// Refuses an append prepared against a head the log has moved past.
fn require_head(council: &str, expected: Head, found: Head) -> Result<(), StoreError> {
    if found == expected {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            council: council.to_owned(),
            expected: expected.seq,
            found: found.seq,
        })
    }
}

/// Opens the database a `--db` URL names: `sqlite:PATH` or `postgres://...`.
/// The log is `Send`, so a service can keep it behind a lock and use it from
/// a blocking thread pool.
pub fn open(url: &str) -> Result<Box<dyn Store + Send>, StoreError> {
    if let Some(path) = url.strip_prefix("sqlite:") {
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_owned()));
        }
        return Ok(Box::new(SqliteLog::open(path)?));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(PostgresLog::open(url)?));
    }
    Err(StoreError::BadUrl(url.to_owned()))
}

/// Stored events in one buffer: a chunk of a replay costs one allocation
/// however many events it holds, and is freed whole by the thread that
/// decodes it.
#[derive(Default)]
pub struct Chunk {
    text: String,
    /// Each event's sequence number and where its text ends.
    ends: Vec<(u64, usize)>,
}

impl Chunk {
    /// Events a chunk holds before it is handed on.
    const EVENTS: usize = 4096;

    fn push(&mut self, seq: u64, event: &str) {
        if self.text.is_empty() {
            self.text.reserve(Self::EVENTS * 160);
            self.ends.reserve(Self::EVENTS);
        }
        self.text.push_str(event);
        self.ends.push((seq, self.text.len()));
    }

    fn is_full(&self) -> bool {
        self.ends.len() >= Self::EVENTS
    }

    fn events(&self) -> impl Iterator<Item = (u64, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|(_, end)| *end));
        self.ends
            .iter()
            .zip(starts)
            .map(|((seq, end), start)| (*seq, self.text.get(start..*end).unwrap_or("")))
    }
}

/// Fills chunks from rows as a backend reads them and hands each on when
/// full, so every backend's `read_events_after` is the same small loop.
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

    /// Adds one event; false when the receiver wants no more.
    pub(crate) fn push(&mut self, seq: u64, event: &str) -> bool {
        self.chunk.push(seq, event);
        !self.chunk.is_full() || (self.each)(std::mem::take(&mut self.chunk))
    }

    /// Hands on what is left.
    pub(crate) fn finish(mut self) {
        if !self.chunk.ends.is_empty() {
            (self.each)(std::mem::take(&mut self.chunk));
        }
    }
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
    const IN_FLIGHT: usize = 16;
    std::thread::scope(|scope| {
        let (chunks, chunks_rx) = mpsc::sync_channel::<Chunk>(IN_FLIGHT);
        let folder = scope.spawn(move || {
            let mut last = since;
            for chunk in chunks_rx {
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
        });
        // A send fails only when the folder has stopped (a bad event, or one
        // out of order); then reading on is pointless, and the folder says why.
        let read = log.read_events_after(council, after, &mut |chunk| chunks.send(chunk).is_ok());
        drop(chunks);
        let folded = match folder.join() {
            Ok(folded) => folded,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !matches!(folded, Ok(Replayed::NotInOrder)) {
            read?;
        }
        folded
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
    const IN_FLIGHT: usize = 16;
    std::thread::scope(|scope| {
        let (chunks, chunks_rx) = mpsc::sync_channel::<Chunk>(IN_FLIGHT);
        let consumer = scope.spawn(move || {
            for chunk in chunks_rx {
                for (seq, text) in chunk.events() {
                    if !each(seq, decode_text(council, seq, text)?) {
                        return Ok(false);
                    }
                }
            }
            Ok(true)
        });
        let read = log.read_events_after(council, 0, &mut |chunk| chunks.send(chunk).is_ok());
        drop(chunks);
        let handed = match consumer.join() {
            Ok(handed) => handed,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !matches!(handed, Ok(false)) {
            read?;
        }
        handed
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

fn decode_text(council: &str, seq: u64, text: &str) -> Result<Event, StoreError> {
    domain::parse_event(text).map_err(|e| StoreError::Corrupt {
        council: council.to_owned(),
        seq,
        message: e.to_string(),
    })
}

/// The council's events, read back and decoded.
pub fn events(log: &mut dyn EventLog, council: &str) -> Result<Vec<Event>, StoreError> {
    decode(council, log.events_after(council, 0)?)
}

/// Decodes stored events on every core: decoding is independent per event
/// and is most of a replay's work; the fold that follows stays in order.
fn decode(council: &str, rows: Vec<(u64, String)>) -> Result<Vec<Event>, StoreError> {
    let decode_one = |(seq, text): &(u64, String)| decode_text(council, *seq, text);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || rows.len() < 10_000 {
        return rows.iter().map(decode_one).collect();
    }
    let chunk = rows.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let workers: Vec<_> = rows
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || part.iter().map(decode_one).collect::<Result<Vec<_>, _>>())
            })
            .collect();
        let mut events = Vec::with_capacity(rows.len());
        for worker in workers {
            match worker.join() {
                Ok(part) => events.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(events)
    })
}

/// Recomputes the council's chain and checks it against the head stored
/// beside it.
pub fn verify(log: &mut dyn EventLog, council: &str) -> Result<Verification, StoreError> {
    verify_against(log, council, None)
}

/// `verify`, and checks that the chain holds `anchor`: a head published or
/// kept outside the database (`warden head`), which the log must reach with
/// that very hash. A council whose events are stored without its row is
/// reported broken (`Break::NoCouncil`).
pub fn verify_against(
    log: &mut dyn EventLog,
    council: &str,
    anchor: Option<Head>,
) -> Result<Verification, StoreError> {
    let stored = match log.head(council) {
        Ok(head) => Some(head),
        Err(StoreError::NoSuchCouncil(_)) => None,
        Err(e) => return Err(e),
    };
    let rows = match stored {
        Some(_) => log.rows(council)?,
        None => Vec::new(),
    };
    let (mut v, at_anchor) = chain::verify_to(rows, anchor.map(|a| a.seq));
    let Some(stored) = stored else {
        v.broken = Some(Break::NoCouncil);
        return Ok(v);
    };
    if v.broken.is_none() {
        v.broken = if v.sound < stored.seq {
            Some(Break::Truncated {
                head: stored.seq,
                last: v.sound,
            })
        } else if v.sound > stored.seq {
            Some(Break::PastHead {
                head: stored.seq,
                last: v.sound,
            })
        } else if v.head != stored.hash {
            Some(Break::HeadMismatch {
                seq: stored.seq,
                stored: stored.hash.to_string(),
                found: v.head.to_string(),
            })
        } else {
            None
        };
    }
    if v.broken.is_none()
        && let Some(anchor) = anchor
        && at_anchor != Some(anchor.hash)
    {
        v.broken = Some(Break::Anchor {
            seq: anchor.seq,
            expected: anchor.hash.to_string(),
            found: at_anchor.map(|h| h.to_string()),
        });
    }
    Ok(v)
}
