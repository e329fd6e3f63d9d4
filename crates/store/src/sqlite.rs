//! The embedded backend: one SQLite file.
//!
//! Durability: WAL journal with `synchronous = FULL`, so a transaction that
//! has committed (an append that returned) is on disk before the call
//! returns and survives power loss, not just a process crash. Appends take
//! the write lock first (`BEGIN IMMEDIATE`), so the head they check is the
//! head they extend; the primary key on (council, seq) makes a fork
//! impossible even if that were bypassed.

use crate::chain::{self, Digest32, Head, Row};
use crate::read::Chunker;
use crate::{
    Accounts, Chunk, Columns, EventLog, Provisioned, Snapshot, Snapshots, StoreError, Texts,
    require_head, text_sha256,
};
use domain::Event;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// Versioned schema changes, run in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_event_log.sql")),
    (2, include_str!("../migrations/sqlite/0002_snapshots.sql")),
    (3, include_str!("../migrations/sqlite/0003_accounts.sql")),
    (4, include_str!("../migrations/sqlite/0004_heads.sql")),
    (
        5,
        include_str!("../migrations/sqlite/0005_snapshot_digest.sql"),
    ),
    (6, include_str!("../migrations/sqlite/0006_texts.sql")),
    (7, include_str!("../migrations/sqlite/0007_provisioned.sql")),
];

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Database(format!("SQLite: {e}"))
    }
}

pub struct SqliteLog {
    conn: Connection,
}

impl SqliteLog {
    /// Opens (creating if need be) and migrates the database at `path`.
    pub fn open(path: &str) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        let mut log = SqliteLog { conn };
        log.migrate()?;
        Ok(log)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)",
        )?;
        for (version, sql) in MIGRATIONS {
            let done: Option<i64> = tx
                .query_row(
                    "SELECT version FROM schema_migrations WHERE version = ?1",
                    [version],
                    |r| r.get(0),
                )
                .optional()?;
            if done.is_none() {
                tx.execute_batch(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES (?1)",
                    [version],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The raw connection, for tests that tamper with the table directly.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// The council's head as stored beside its log.
fn read_head(conn: &Connection, council: &str) -> Result<Head, StoreError> {
    let (seq, hash): (i64, String) = conn
        .query_row(
            "SELECT head_seq, head_hash FROM councils WHERE id = ?1",
            [council],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| StoreError::NoSuchCouncil(council.to_owned()))?;
    let seq = u64::try_from(seq).unwrap_or(0);
    let hash = Digest32::from_hex(&hash).ok_or_else(|| StoreError::Corrupt {
        council: council.to_owned(),
        seq,
        message: format!("the stored head hash `{hash}` is not 64 hex digits"),
    })?;
    Ok(Head { seq, hash })
}

/// Inserts `events` after `from` and moves the head, in the caller's
/// transaction; the new head.
fn write(
    conn: &Connection,
    council: &str,
    from: Head,
    events: &[Event],
) -> Result<Head, StoreError> {
    let (rows, head) = chain::extend(from, events);
    {
        let mut insert =
            conn.prepare("INSERT INTO events (council, seq, event, hash) VALUES (?1, ?2, ?3, ?4)")?;
        for row in rows {
            let seq = i64::try_from(row.seq).unwrap_or(i64::MAX);
            insert.execute(params![council, seq, row.event, row.hash])?;
        }
    }
    // The head moves with the log, in the same transaction.
    conn.execute(
        "UPDATE councils SET head_seq = ?1, head_hash = ?2 WHERE id = ?3",
        params![
            i64::try_from(head.seq).unwrap_or(i64::MAX),
            head.hash.to_string(),
            council
        ],
    )?;
    Ok(head)
}

/// The rows after `after`, in order.
fn rows_after(conn: &Connection, council: &str, after: u64) -> Result<Vec<Row>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT seq, event, hash FROM events WHERE council = ?1 AND seq > ?2 ORDER BY seq",
    )?;
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![council, after], |r| {
            Ok(Row {
                seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                event: r.get(1)?,
                hash: r.get(2)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn require_council(conn: &Connection, council: &str) -> Result<String, StoreError> {
    conn.query_row("SELECT pack FROM councils WHERE id = ?1", [council], |r| {
        r.get(0)
    })
    .optional()?
    .ok_or_else(|| StoreError::NoSuchCouncil(council.to_owned()))
}

impl EventLog for SqliteLog {
    fn init_council(&mut self, council: &str, pack: &str) -> Result<(), StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        match require_council(&tx, council) {
            Ok(existing) if existing == pack => {}
            Ok(existing) => {
                return Err(StoreError::PackMismatch {
                    council: council.to_owned(),
                    existing,
                    requested: pack.to_owned(),
                });
            }
            Err(StoreError::NoSuchCouncil(_)) => {
                tx.execute(
                    "INSERT INTO councils (id, pack) VALUES (?1, ?2)",
                    params![council, pack],
                )?;
            }
            Err(e) => return Err(e),
        }
        tx.commit()?;
        Ok(())
    }

    fn council_pack(&mut self, council: &str) -> Result<String, StoreError> {
        require_council(&self.conn, council)
    }

    fn councils(&mut self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("SELECT id FROM councils ORDER BY id")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    fn head(&mut self, council: &str) -> Result<Head, StoreError> {
        read_head(&self.conn, council)
    }

    fn heads(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, head_seq FROM councils ORDER BY id")?;
        let heads = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0)))
            })?
            .collect::<Result<Vec<(String, u64)>, _>>()?;
        Ok(heads)
    }

    fn event_councils(&mut self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT DISTINCT council FROM events ORDER BY council")?;
        let ids = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(ids)
    }

    fn append(
        &mut self,
        council: &str,
        expected: Head,
        events: &[Event],
    ) -> Result<Head, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        require_head(council, expected, read_head(&tx, council)?)?;
        let head = write(&tx, council, expected, events)?;
        tx.commit()?;
        Ok(head)
    }

    fn append_following(
        &mut self,
        council: &str,
        known: Head,
        prepare: &mut crate::Prepare<'_>,
    ) -> Result<Option<Head>, StoreError> {
        // IMMEDIATE takes the database's write lock now, not at the insert.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let stored = read_head(&tx, council)?;
        let missed = if stored == known {
            Vec::new()
        } else {
            rows_after(&tx, council, known.seq)?
        };
        let Some(events) = prepare(missed)? else {
            return Ok(None);
        };
        let head = write(&tx, council, stored, &events)?;
        tx.commit()?;
        Ok(Some(head))
    }

    fn read_after(
        &mut self,
        council: &str,
        after: u64,
        columns: Columns,
        each: &mut dyn FnMut(Chunk) -> bool,
    ) -> Result<(), StoreError> {
        require_council(&self.conn, council)?;
        let mut stmt = self.conn.prepare_cached(match columns {
            Columns::Events => {
                "SELECT seq, event FROM events WHERE council = ?1 AND seq > ?2 ORDER BY seq"
            }
            Columns::WithHashes => {
                "SELECT seq, event, hash FROM events WHERE council = ?1 AND seq > ?2 ORDER BY seq"
            }
        })?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let mut rows = stmt.query(params![council, after])?;
        let mut chunks = Chunker::new(each);
        while let Some(row) = rows.next()? {
            let seq = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            // Borrowed from SQLite's buffer: copied once, into the chunk.
            let text = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let hash = match columns {
                Columns::Events => None,
                Columns::WithHashes => {
                    Some(row.get_ref(2)?.as_str().map_err(rusqlite::Error::from)?)
                }
            };
            if !chunks.push(seq, text, hash) {
                return Ok(());
            }
        }
        chunks.finish();
        Ok(())
    }
}

impl Snapshots for SqliteLog {
    fn save_snapshot(&mut self, council: &str, snapshot: &Snapshot) -> Result<(), StoreError> {
        require_council(&self.conn, council)?;
        self.conn.execute(
            "INSERT INTO snapshots (council, seq, hash, state, digest) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (council) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             state = excluded.state, digest = excluded.digest",
            params![
                council,
                i64::try_from(snapshot.seq).unwrap_or(i64::MAX),
                snapshot.hash,
                snapshot.state,
                snapshot.digest
            ],
        )?;
        Ok(())
    }

    fn load_snapshot(&mut self, council: &str) -> Result<Option<Snapshot>, StoreError> {
        require_council(&self.conn, council)?;
        let snapshot = self
            .conn
            .query_row(
                "SELECT seq, hash, state, digest FROM snapshots WHERE council = ?1",
                [council],
                |r| {
                    Ok(Snapshot {
                        seq: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                        hash: r.get(1)?,
                        state: r.get(2)?,
                        digest: r.get(3)?,
                    })
                },
            )
            .optional()?;
        Ok(snapshot)
    }
}

impl Texts for SqliteLog {
    fn save_text(&mut self, council: &str, text: &str) -> Result<String, StoreError> {
        require_council(&self.conn, council)?;
        let sha = text_sha256(text);
        self.conn.execute(
            "INSERT INTO texts (council, sha256, text) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            params![council, sha, text],
        )?;
        Ok(sha)
    }

    fn text(&mut self, council: &str, sha256: &str) -> Result<Option<String>, StoreError> {
        require_council(&self.conn, council)?;
        Ok(self
            .conn
            .query_row(
                "SELECT text FROM texts WHERE council = ?1 AND sha256 = ?2",
                [council, sha256],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn texts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&self.conn, council)?;
        let mut statement = self
            .conn
            .prepare("SELECT sha256, text FROM texts WHERE council = ?1 ORDER BY sha256")?;
        let rows = statement.query_map([council], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Provisioned for SqliteLog {
    fn save_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        require_council(&self.conn, council)?;
        self.conn.execute(
            "INSERT INTO provisioned (council, resource, id, body) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (council, resource, id) DO UPDATE SET body = excluded.body",
            params![council, resource, id, body],
        )?;
        Ok(())
    }

    fn resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        require_council(&self.conn, council)?;
        Ok(self
            .conn
            .query_row(
                "SELECT body FROM provisioned WHERE council = ?1 AND resource = ?2 AND id = ?3",
                [council, resource, id],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn resources(
        &mut self,
        council: &str,
        resource: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&self.conn, council)?;
        let mut statement = self.conn.prepare(
            "SELECT id, body FROM provisioned WHERE council = ?1 AND resource = ?2 ORDER BY id",
        )?;
        let rows = statement.query_map([council, resource], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn delete_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        require_council(&self.conn, council)?;
        let n = self.conn.execute(
            "DELETE FROM provisioned WHERE council = ?1 AND resource = ?2 AND id = ?3",
            [council, resource, id],
        )?;
        Ok(n > 0)
    }
}

impl Accounts for SqliteLog {
    fn save_account(
        &mut self,
        council: &str,
        person: &str,
        account: &str,
    ) -> Result<(), StoreError> {
        require_council(&self.conn, council)?;
        self.conn.execute(
            "INSERT INTO accounts (council, person, account) VALUES (?1, ?2, ?3) \
             ON CONFLICT (council, person) DO UPDATE SET account = excluded.account",
            params![council, person, account],
        )?;
        Ok(())
    }

    fn account(&mut self, council: &str, person: &str) -> Result<Option<String>, StoreError> {
        require_council(&self.conn, council)?;
        Ok(self
            .conn
            .query_row(
                "SELECT account FROM accounts WHERE council = ?1 AND person = ?2",
                [council, person],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn accounts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&self.conn, council)?;
        let mut statement = self
            .conn
            .prepare("SELECT person, account FROM accounts WHERE council = ?1 ORDER BY person")?;
        let rows = statement.query_map([council], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
