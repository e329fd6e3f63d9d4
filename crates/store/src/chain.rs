//! The hash chain, independent of any database.
//!
//! Each event is stored as its canonical JSON: one object, keys sorted by
//! their UTF-8 bytes, no whitespace between tokens, timestamps in UTC as
//! RFC 3339 with `Z` (e.g. `2025-04-01T08:00:00Z`), optional fields omitted
//! when absent. Its hash is SHA-256 over the previous event's 32-byte hash
//! (32 zero bytes before the first event) followed by the canonical JSON's
//! UTF-8 bytes. `docs/storage.md` has a short script that checks a chain.

use domain::Event;
use sha2::{Digest, Sha256};
use std::fmt;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest32(pub [u8; 32]);

/// What the first event chains from.
pub const GENESIS: Digest32 = Digest32([0; 32]);

impl fmt::Display for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for Digest32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest32({self})")
    }
}

impl Digest32 {
    /// Reads the lower-case hex a store keeps.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Digest32(bytes))
    }
}

/// The canonical JSON of an event (defined in `domain`, where the event is,
/// so that everything that writes events writes this one form).
pub fn canonical(event: &Event) -> String {
    event.to_canonical_json()
}

/// The hash of an event whose canonical JSON is `canonical`, after `previous`.
pub fn link(previous: &Digest32, canonical: &str) -> Digest32 {
    let mut hasher = Sha256::new();
    hasher.update(previous.0);
    hasher.update(canonical.as_bytes());
    Digest32(hasher.finalize().into())
}

/// The end of a council's chain: how many events, and the last hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub seq: u64,
    pub hash: Digest32,
}

impl Head {
    pub const EMPTY: Head = Head {
        seq: 0,
        hash: GENESIS,
    };
}

/// The rows that extend a chain ending at `head` with `events`, in order,
/// and the chain's new head. Backends store these rows as they are.
pub fn extend(head: Head, events: &[Event]) -> (Vec<Row>, Head) {
    let mut head = head;
    let rows = canonical_all(events)
        .into_iter()
        .map(|text| {
            let hash = link(&head.hash, &text);
            head = Head {
                seq: head.seq + 1,
                hash,
            };
            Row {
                seq: head.seq,
                event: text,
                hash: hash.to_string(),
            }
        })
        .collect();
    (rows, head)
}

/// Each event's canonical JSON, in order. Each is independent of the
/// others (only the hashes chain), so a large batch (an import) is written
/// out on every core; a small one, on this thread.
fn canonical_all(events: &[Event]) -> Vec<String> {
    const ALONE: usize = 4_096;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if events.len() < ALONE || threads < 2 {
        return events.iter().map(canonical).collect();
    }
    let chunk = events.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let parts: Vec<_> = events
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(canonical).collect::<Vec<String>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| part.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// One stored event as the database holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub seq: u64,
    pub event: String,
    pub hash: String,
}

/// Where a chain stops being what was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Break {
    /// Event `seq` is missing: the next stored event is `found`.
    Gap { seq: u64, found: u64 },
    /// Event `seq` does not hash to what is stored.
    Mismatch {
        seq: u64,
        expected: String,
        found: String,
    },
    /// The log ends at `last` but its stored head says it reached `head`:
    /// events were deleted from its end (all of them, if `last` is 0).
    Truncated { head: u64, last: u64 },
    /// The log goes on past its stored head: events were added behind the
    /// store's back, or the head was set back.
    PastHead { head: u64, last: u64 },
    /// The log's last event is the head's, but not with the head's hash.
    HeadMismatch {
        seq: u64,
        stored: String,
        found: String,
    },
    /// An anchor (a head published or kept elsewhere) that the log does not
    /// reach, or reaches with another hash.
    Anchor {
        seq: u64,
        expected: String,
        found: Option<String>,
    },
    /// Events are stored for a council that has no row: it was deleted
    /// behind the store's back.
    NoCouncil,
}

impl Break {
    /// The event where the chain stops being what was written.
    pub fn seq(&self) -> u64 {
        match self {
            Break::Gap { seq, .. }
            | Break::Mismatch { seq, .. }
            | Break::HeadMismatch { seq, .. }
            | Break::Anchor { seq, .. } => *seq,
            Break::Truncated { last, .. } | Break::PastHead { last, .. } => *last + 1,
            Break::NoCouncil => 1,
        }
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::Gap { seq, found } => write!(
                f,
                "event {seq} is missing (the next stored event is {found})"
            ),
            Break::Mismatch {
                seq,
                expected,
                found,
            } => {
                write!(
                    f,
                    "event {seq} is not what was written: expected hash {expected}, found {found}"
                )
            }
            Break::Truncated { head, last: 0 } => write!(
                f,
                "every event is missing: the head stored beside the log says it had {head}"
            ),
            Break::Truncated { head, last } => write!(
                f,
                "events {} to {head} are missing: the log ends at {last} but its stored head says {head}",
                last + 1
            ),
            Break::PastHead { head, last } => write!(
                f,
                "the log goes on to event {last} past its stored head at {head}: events added, or the head set back, behind the store's back"
            ),
            Break::HeadMismatch { seq, stored, found } => write!(
                f,
                "event {seq} ends the log with hash {found}, but the head stored beside it says {stored}"
            ),
            Break::Anchor {
                seq,
                expected,
                found: Some(found),
            } => write!(
                f,
                "event {seq} has hash {found}, not {expected} as the anchor says: the log was rewritten since"
            ),
            Break::Anchor {
                seq,
                expected,
                found: None,
            } => write!(
                f,
                "the log does not reach event {seq}, which the anchor names (with hash {expected})"
            ),
            Break::NoCouncil => write!(
                f,
                "events are stored for this council, but it has no councils row: it was deleted behind the store's back"
            ),
        }
    }
}

/// The result of recomputing a chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Events checked and found sound, up to the first break.
    pub sound: u64,
    /// The hash of the last sound event.
    pub head: Digest32,
    pub broken: Option<Break>,
}

/// Recomputes the chain over rows in sequence order, stopping at the first break.
pub fn verify(rows: impl IntoIterator<Item = Row>) -> Verification {
    verify_to(rows, None).0
}

/// `verify`, also giving the recomputed hash of event `anchor`, if the
/// chain reaches it sound.
pub fn verify_to(
    rows: impl IntoIterator<Item = Row>,
    anchor: Option<u64>,
) -> (Verification, Option<Digest32>) {
    let mut at_anchor = None;
    let verification = verify_rows(rows, |head| {
        if Some(head.seq) == anchor {
            at_anchor = Some(head.hash);
        }
    });
    (verification, at_anchor)
}

fn verify_rows(rows: impl IntoIterator<Item = Row>, mut each: impl FnMut(Head)) -> Verification {
    let mut head = Head::EMPTY;
    for row in rows {
        let seq = head.seq + 1;
        if row.seq != seq {
            return Verification {
                sound: head.seq,
                head: head.hash,
                broken: Some(Break::Gap {
                    seq,
                    found: row.seq,
                }),
            };
        }
        let expected = link(&head.hash, &row.event);
        if expected.to_string() != row.hash {
            let broken = Break::Mismatch {
                seq,
                expected: expected.to_string(),
                found: row.hash,
            };
            return Verification {
                sound: head.seq,
                head: head.hash,
                broken: Some(broken),
            };
        }
        head = Head {
            seq,
            hash: expected,
        };
        each(head);
    }
    Verification {
        sound: head.seq,
        head: head.hash,
        broken: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(line: &str) -> Event {
        domain::parse_event(line).expect("valid event")
    }

    #[test]
    fn a_large_batch_written_out_on_every_core_chains_as_one_event_at_a_time() {
        let events: Vec<Event> = (0..10_000)
            .map(|i| {
                event(&format!(
                    r#"{{"type":"password_changed","at":"2025-04-01T09:00:00Z","person":"p{i}"}}"#
                ))
            })
            .collect();
        let (rows, head) = extend(Head::EMPTY, &events);
        let mut hash = GENESIS;
        for (row, e) in rows.iter().zip(&events) {
            let text = canonical(e);
            hash = link(&hash, &text);
            assert_eq!(
                (&row.event, &row.hash),
                (&text, &hash.to_string()),
                "row {}",
                row.seq
            );
        }
        assert_eq!((head.seq, head.hash), (10_000, hash));
    }

    #[test]
    fn canonical_form_sorts_keys_uses_utc_and_omits_absent_fields() {
        let e = event(
            r#"{"type":"device_lost","stolen":true,"at":"2025-04-01T09:30:00+01:00","device":"d1","discovered":"2025-04-01T08:00:00+01:00"}"#,
        );
        assert_eq!(
            canonical(&e),
            r#"{"at":"2025-04-01T08:30:00Z","device":"d1","discovered":"2025-04-01T07:00:00Z","stolen":true,"type":"device_lost"}"#
        );
    }

    #[test]
    fn the_same_event_written_differently_has_one_canonical_form() {
        let a = event(r#"{"at":"2025-04-01T09:00:00+01:00","type":"person_left","person":"p1"}"#);
        let b = event(r#"{ "person" : "p1", "type":"person_left", "at":"2025-04-01T08:00:00Z" }"#);
        assert_eq!(canonical(&a), canonical(&b));
    }

    #[test]
    fn extending_a_chain_gives_rows_that_verify_to_the_new_head() {
        let events: Vec<Event> = (1..=3)
            .map(|i| {
                event(&format!(
                    r#"{{"at":"2025-04-01T09:00:0{i}Z","type":"person_left","person":"p{i}"}}"#
                ))
            })
            .collect();
        let (first, middle) = extend(Head::EMPTY, &events[..1]);
        let (rest, end) = extend(middle, &events[1..]);
        assert_eq!((middle.seq, end.seq), (1, 3));
        let rows: Vec<Row> = first.into_iter().chain(rest).collect();
        assert_eq!(
            rows.iter().map(|r| r.seq).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(
            verify(rows),
            Verification {
                sound: 3,
                head: end.hash,
                broken: None
            }
        );
    }

    #[test]
    fn a_known_chain_has_known_hashes() {
        // Computed independently, with Python's hashlib: sha256(bytes(32) + text).
        let text = r#"{"at":"2025-04-01T08:00:00Z","person":"p1","type":"person_left"}"#;
        let first = link(&GENESIS, text);
        assert_eq!(
            first.to_string(),
            "c774d5f18a815bee29cc87713acb79de0e9a24e8975e66a1dd71c4521c6cc332"
        );
        assert_ne!(
            first,
            link(&first, text),
            "the same event later in the chain hashes differently"
        );
        let rows = vec![Row {
            seq: 1,
            event: text.into(),
            hash: first.to_string(),
        }];
        assert_eq!(
            verify(rows),
            Verification {
                sound: 1,
                head: first,
                broken: None
            }
        );
    }
}
