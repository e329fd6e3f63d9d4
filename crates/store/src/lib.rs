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
mod read;
mod sqlite;
mod startup;

pub use chain::{Break, Digest32, GENESIS, Head, Row, Verification};
pub use pool::{Conn, Listener, Pool};
pub use postgres::PostgresLog;
pub use read::{
    Chunk, Columns, Replayed, events, fold_whole, for_each_event, replay, rows, rows_after,
};
pub use sqlite::SqliteLog;
pub use startup::{
    Loaded, SnapshotRead, load_estate, read_snapshot, save_snapshot_of, snapshot_warning,
    write_snapshot,
};

use domain::Event;

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
    /// The one read of a council's log: hands the stored rows after
    /// sequence number `after` to `each` in chunks, in order, as the
    /// database sends them (never all collected first), with their hashes
    /// only when `columns` asks. `each` returns false to stop early. Every
    /// other read (`rows_after`, `events`, `replay`, `for_each_event`) is
    /// built on this one in `read.rs`.
    fn read_after(
        &mut self,
        council: &str,
        after: u64,
        columns: Columns,
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

/// Policy texts, content-addressed, kept beside the log: a
/// `policy_approved` names its version's text by SHA-256, and the text is
/// here (see `migrations/*/0006_texts.sql`). Backups carry them.
pub trait Texts {
    /// Keeps `text` under its SHA-256 (hex), which it returns; keeping the
    /// same text again changes nothing.
    fn save_text(&mut self, council: &str, text: &str) -> Result<String, StoreError>;
    fn text(&mut self, council: &str, sha256: &str) -> Result<Option<String>, StoreError>;
    /// Every text of the council, (SHA-256, text), by digest.
    fn texts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError>;
}

/// What an identity provider pushed over SCIM: each resource (`User`,
/// `Group`) as the JSON it last set, kept beside the log (see
/// `migrations/*/0007_provisioned.sql`). The events a change means are in
/// the log; this is the provider's mirror, so a GET returns what was sent.
pub trait Provisioned {
    /// Replaces the resource `resource`/`id`.
    fn save_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
        body: &str,
    ) -> Result<(), StoreError>;
    fn resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Every resource of that type, (id, body), by id.
    fn resources(
        &mut self,
        council: &str,
        resource: &str,
    ) -> Result<Vec<(String, String)>, StoreError>;
    /// Whether there was one to delete.
    fn delete_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<bool, StoreError>;
}

/// The SHA-256 of a text, in lower-case hex: its address in `Texts`.
pub fn text_sha256(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// A database holding all five: what `open` and the service's pool hand
/// out. Code that needs only the log takes `&mut dyn EventLog`.
pub trait Store: EventLog + Snapshots + Accounts + Texts + Provisioned {}

impl<T: EventLog + Snapshots + Accounts + Texts + Provisioned + ?Sized> Store for T {}

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
        Some(_) => rows(log, council)?,
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
