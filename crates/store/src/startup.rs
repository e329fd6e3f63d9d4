//! Startup: a council's estate from its snapshot plus the events after it,
//! so the work is proportional to the tail, not the whole log. A snapshot is
//! used only if the event it claims to follow is in the log with the hash it
//! recorded; otherwise it is discarded with a warning and the log replayed.

use crate::{EventLog, Head, Snapshot, StoreError, decode};
use domain::Estate;
use jiff::Timestamp;

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
pub fn load_estate(log: &mut dyn EventLog, council: &str) -> Result<Loaded, StoreError> {
    let head = log.head(council)?;
    let (estate, after, warning) = match log.load_snapshot(council)? {
        None => (Estate::default(), 0, None),
        Some(snapshot) => match trusted(log, council, &snapshot, head)? {
            Ok(estate) => (estate, snapshot.seq, None),
            Err(why) => (
                Estate::default(),
                0,
                Some(format!(
                    "snapshot at event {} discarded: {why}",
                    snapshot.seq
                )),
            ),
        },
    };
    let (estate, last) = crate::replay(log, council, after, estate)?;
    let last = match last {
        Some(at) => Some(at),
        None if head.seq > 0 => decode(council, log.events_after(council, head.seq - 1)?)?
            .last()
            .map(|e| e.at),
        None => None,
    };
    let from_snapshot = (after > 0).then_some(after);
    Ok(Loaded {
        estate,
        head,
        last,
        from_snapshot,
        warning,
    })
}

/// The snapshot's estate, or why it cannot be trusted.
fn trusted(
    log: &mut dyn EventLog,
    council: &str,
    snapshot: &Snapshot,
    head: Head,
) -> Result<Result<Estate, String>, StoreError> {
    if snapshot.seq == 0 || snapshot.seq > head.seq {
        return Ok(Err(format!("the log has {} events", head.seq)));
    }
    let at = log.rows_after(council, snapshot.seq - 1)?;
    match at.first() {
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
pub fn write_snapshot(log: &mut dyn EventLog, council: &str) -> Result<Loaded, StoreError> {
    let loaded = load_estate(log, council)?;
    if loaded.head.seq > 0 {
        let state = serde_json::to_string(&loaded.estate).map_err(|e| StoreError::Corrupt {
            council: council.to_owned(),
            seq: loaded.head.seq,
            message: format!("the estate does not serialise: {e}"),
        })?;
        let snapshot = Snapshot {
            seq: loaded.head.seq,
            hash: loaded.head.hash.to_string(),
            state,
        };
        log.save_snapshot(council, &snapshot)?;
    }
    Ok(loaded)
}
