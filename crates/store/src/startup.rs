//! Startup: a council's estate from its snapshot plus the events after it,
//! so the work is proportional to the tail, not the whole log. A snapshot is
//! used only if the event it claims to follow is in the log with the hash it
//! recorded, and the events after it continue it in time (none happened
//! before the latest it holds, none is a void); otherwise it is set aside
//! and the whole log folded in `at` order.

use crate::{Head, Replayed, Snapshot, Store, StoreError, fold_whole};
use domain::Estate;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a snapshot's `state` holds: the estate, and when the latest event
/// folded into it happened (so that a tail can be checked to continue it).
#[derive(Deserialize)]
struct State {
    last_at: Option<Timestamp>,
    estate: Estate,
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
        Some(snapshot) => match trusted(log, council, &snapshot, head)? {
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
    Ok(trusted(log, council, &snapshot, head)?
        .err()
        .map(|why| format!("snapshot at event {} is not trusted: {why}", snapshot.seq)))
}

/// The snapshot's estate, or why it cannot be trusted.
fn trusted(
    log: &mut dyn Store,
    council: &str,
    snapshot: &Snapshot,
    head: Head,
) -> Result<Result<State, String>, StoreError> {
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

/// Writes a snapshot of the estate at the head, replacing the previous one.
pub fn write_snapshot(log: &mut dyn Store, council: &str) -> Result<Loaded, StoreError> {
    /// `State`, borrowed.
    #[derive(Serialize)]
    struct Written<'a> {
        last_at: Option<Timestamp>,
        estate: &'a Estate,
    }
    let loaded = load_estate(log, council)?;
    if loaded.head.seq > 0 {
        let written = Written {
            last_at: loaded.last,
            estate: &loaded.estate,
        };
        let state = serde_json::to_string(&written).map_err(|e| StoreError::Corrupt {
            council: council.to_owned(),
            seq: loaded.head.seq,
            message: format!("the estate does not serialise: {e}"),
        })?;
        let snapshot = Snapshot::new(loaded.head.seq, loaded.head.hash.to_string(), state);
        log.save_snapshot(council, &snapshot)?;
    }
    Ok(loaded)
}
