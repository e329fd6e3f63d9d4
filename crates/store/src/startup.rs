//! Startup: a council's estate from its snapshot plus the events after it,
//! so the work is proportional to the tail, not the whole log. A snapshot is
//! used only if the event it claims to follow is in the log with the hash it
//! recorded, and the events after it continue it in time (none happened
//! before the latest it holds, none is a void); otherwise it is set aside
//! and the whole log folded in `at` order.

use crate::{Head, Replayed, Snapshot, Store, StoreError, fold_whole};
use domain::Estate;
use jiff::Timestamp;
use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};

/// What a snapshot's `state` holds: the estate, when the latest event
/// folded into it happened (so that a tail can be checked to continue it),
/// and, when the service's ledger wrote it, the rules' state beside the
/// estate (opaque here: `rules::StoredEvaluation`).
#[derive(Deserialize)]
struct State<R = IgnoredAny> {
    last_at: Option<Timestamp>,
    estate: Estate,
    /// Absent in a snapshot of the estate alone (serde reads a missing
    /// `Option` as `None`).
    rules: Option<R>,
}

/// A council's snapshot, as read for a start from it.
pub enum SnapshotRead<R> {
    /// The council has none.
    None,
    /// Sound: its digest matches, and the log still holds the event it
    /// follows with the hash it recorded.
    Trusted {
        seq: u64,
        estate: Estate,
        /// The rules' state, when the snapshot holds one.
        rules: Option<R>,
    },
    /// Not to be used, and why (a warning to give).
    Discarded(String),
}

/// The council's snapshot, checked, with the rules' state it holds read as
/// `R`: what a start from a snapshot begins with.
pub fn read_snapshot<R: DeserializeOwned>(
    log: &mut dyn Store,
    council: &str,
) -> Result<SnapshotRead<R>, StoreError> {
    let Some(snapshot) = log.load_snapshot(council)? else {
        return Ok(SnapshotRead::None);
    };
    let head = log.head(council)?;
    Ok(match trusted::<R>(log, council, &snapshot, head)? {
        Ok(state) => SnapshotRead::Trusted {
            seq: snapshot.seq,
            estate: state.estate,
            rules: state.rules,
        },
        Err(why) => SnapshotRead::Discarded(format!(
            "snapshot at event {} discarded: {why}",
            snapshot.seq
        )),
    })
}

/// Writes a snapshot of a state the caller folded (the estate after event
/// `head.seq`, and the rules' state beside it), replacing the previous one.
pub fn save_snapshot_of<R: Serialize>(
    log: &mut dyn Store,
    council: &str,
    head: Head,
    last_at: Option<Timestamp>,
    estate: &Estate,
    rules: Option<&R>,
) -> Result<(), StoreError> {
    #[derive(Serialize)]
    struct Written<'a, R> {
        last_at: Option<Timestamp>,
        estate: &'a Estate,
        #[serde(skip_serializing_if = "Option::is_none")]
        rules: Option<&'a R>,
    }
    if head.seq == 0 {
        return Ok(());
    }
    let written = Written {
        last_at,
        estate,
        rules,
    };
    let state = serde_json::to_string(&written).map_err(|e| StoreError::Corrupt {
        council: council.to_owned(),
        seq: head.seq,
        message: format!("the state does not serialise: {e}"),
    })?;
    let snapshot = Snapshot::new(head.seq, head.hash.to_string(), state);
    log.save_snapshot(council, &snapshot)
}

/// A council's estate as of its head.
#[derive(Debug)]
pub struct Loaded {
    pub estate: Estate,
    pub head: Head,
    /// When the last event happened (None for an empty log).
    pub last: Option<Timestamp>,
    /// The sequence number of the snapshot used, if one was.
    pub from_snapshot: Option<u64>,
    /// Why a snapshot was not used, when there was one.
    pub warning: Option<String>,
}

/// The estate at the head: snapshot plus tail, or the whole log.
pub fn load_estate(log: &mut dyn Store, council: &str) -> Result<Loaded, StoreError> {
    let head = log.head(council)?;
    let (start, after, mut warning) = match log.load_snapshot(council)? {
        None => (State::empty(), 0, None),
        Some(snapshot) => match trusted::<IgnoredAny>(log, council, &snapshot, head)? {
            Ok(state) => (state, snapshot.seq, None),
            Err(why) => (
                State::empty(),
                0,
                Some(format!(
                    "snapshot at event {} discarded: {why}",
                    snapshot.seq
                )),
            ),
        },
    };
    let mut from_snapshot = (after > 0).then_some(after);
    let (estate, last) = match crate::replay(log, council, after, start.estate, start.last_at)? {
        Replayed::Folded(estate, last) => (*estate, last),
        Replayed::NotInOrder => {
            if from_snapshot.take().is_some() {
                warning = Some(format!(
                    "snapshot at event {after} set aside: later records happened before it, or void what it holds"
                ));
            }
            fold_whole(log, council)?
        }
    };
    Ok(Loaded {
        estate,
        head,
        last,
        from_snapshot,
        warning,
    })
}

impl State {
    fn empty() -> Self {
        State {
            last_at: None,
            estate: Estate::default(),
            rules: None,
        }
    }
}

/// Why the council's snapshot would be discarded by the commands that read
/// it, if it would be (None when there is none, or it is sound).
pub fn snapshot_warning(log: &mut dyn Store, council: &str) -> Result<Option<String>, StoreError> {
    let Some(snapshot) = log.load_snapshot(council)? else {
        return Ok(None);
    };
    let head = log.head(council)?;
    Ok(trusted::<IgnoredAny>(log, council, &snapshot, head)?
        .err()
        .map(|why| format!("snapshot at event {} is not trusted: {why}", snapshot.seq)))
}

/// The snapshot's estate, or why it cannot be trusted.
fn trusted<R: DeserializeOwned>(
    log: &mut dyn Store,
    council: &str,
    snapshot: &Snapshot,
    head: Head,
) -> Result<Result<State<R>, String>, StoreError> {
    if snapshot.digest.is_empty() {
        return Ok(Err(
            "it has no digest (written before snapshots carried one); `warden snapshot` writes a new one".into(),
        ));
    }
    if !snapshot.digest_matches() {
        return Ok(Err(
            "its digest does not match its state, sequence number and hash: it was altered after `warden snapshot` wrote it".into(),
        ));
    }
    if snapshot.seq == 0 || snapshot.seq > head.seq {
        return Ok(Err(format!("the log has {} events", head.seq)));
    }
    // Only the snapshot's own event: the read stops after its chunk.
    let mut at = None;
    log.read_after(
        council,
        snapshot.seq - 1,
        crate::Columns::WithHashes,
        &mut |chunk| {
            at = chunk.into_rows().into_iter().next();
            false
        },
    )?;
    match at {
        Some(row) if row.seq == snapshot.seq && row.hash == snapshot.hash => {}
        Some(row) if row.seq == snapshot.seq => {
            return Ok(Err(format!(
                "event {} has hash {}, not {}",
                row.seq, row.hash, snapshot.hash
            )));
        }
        _ => return Ok(Err(format!("event {} is not in the log", snapshot.seq))),
    }
    Ok(serde_json::from_str(&snapshot.state).map_err(|e| format!("its state does not read: {e}")))
}

/// Writes a snapshot of the estate at the head, replacing the previous one
/// (the estate only: `warden snapshot` writes the rules' state beside it).
pub fn write_snapshot(log: &mut dyn Store, council: &str) -> Result<Loaded, StoreError> {
    let loaded = load_estate(log, council)?;
    save_snapshot_of::<()>(log, council, loaded.head, loaded.last, &loaded.estate, None)?;
    Ok(loaded)
}
