//! The shared-service backend: PostgreSQL, many councils, many writers.
//!
//! An append locks its council's row (`SELECT ... FOR UPDATE`), reads the
//! head, and inserts. `append` refuses (`Conflict`) if the head is not the
//! one the caller validated against; `append_following` instead hands the
//! caller the rows it missed and lets it decide, under the lock, what to
//! write after them (the service's commands). Two processes appending to one
//! council therefore queue on that lock. The primary key on (council, seq) is the backstop: even a writer that
//! skipped the lock could not fork the chain, since its insert would violate
//! the key and roll back whole. A commit returns only once PostgreSQL has
//! flushed its WAL (`synchronous_commit` at its default, on).

use crate::chain::{self, Digest32, Head, Row};
use crate::read::Chunker;
use crate::{
    Accounts, Chunk, Columns, EventLog, Provisioned, Snapshot, Snapshots, StoreError, Texts,
    require_head, text_sha256,
};
use domain::Event;
use postgres::error::SqlState;
use postgres::{Client, GenericClient, NoTls};

/// Versioned schema changes, run in order, each once.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_event_log.sql")),
    (2, include_str!("../migrations/postgres/0002_snapshots.sql")),
    (3, include_str!("../migrations/postgres/0003_accounts.sql")),
    (4, include_str!("../migrations/postgres/0004_heads.sql")),
    (
        5,
        include_str!("../migrations/postgres/0005_snapshot_digest.sql"),
    ),
    (6, include_str!("../migrations/postgres/0006_texts.sql")),
    (
        7,
        include_str!("../migrations/postgres/0007_provisioned.sql"),
    ),
];

/// A key for `pg_advisory_xact_lock`, so that two processes starting at once
/// do not both run a migration.
const MIGRATION_LOCK: i64 = 0x5741_5244_454e; // "WARDEN"

pub struct PostgresLog {
    client: PgClient,
}

/// A connection of its own (the CLI), or one lent by the service's pool.
enum PgClient {
    Own(Client),
    Pooled(r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<NoTls>>),
}

impl std::ops::Deref for PgClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        match self {
            PgClient::Own(c) => c,
            PgClient::Pooled(c) => c,
        }
    }
}

impl std::ops::DerefMut for PgClient {
    fn deref_mut(&mut self) -> &mut Client {
        match self {
            PgClient::Own(c) => c,
            PgClient::Pooled(c) => c,
        }
    }
}

/// The channel an append notifies, with the council's id as the payload,
/// so that every node serving the database follows every log.
pub const CHANNEL: &str = "warden_events";

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Database(format!("PostgreSQL: {e}"))
    }
}

impl PostgresLog {
    /// Connects to `url` (`postgres://user@host:port/db`) and migrates.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let client = Client::connect(url, NoTls)?;
        let mut log = PostgresLog {
            client: PgClient::Own(client),
        };
        log.migrate()?;
        Ok(log)
    }

    /// A log on a connection from a pool (already migrated).
    pub(crate) fn pooled(
        client: r2d2::PooledConnection<r2d2_postgres::PostgresConnectionManager<NoTls>>,
    ) -> Self {
        PostgresLog {
            client: PgClient::Pooled(client),
        }
    }

    /// Runs the migrations on a connection (the pool's first).
    pub(crate) fn migrate_on(client: &mut Client) -> Result<(), StoreError> {
        let mut tx = client.transaction()?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY)",
        )?;
        for (version, sql) in MIGRATIONS {
            let done = tx.query_opt(
                "SELECT version FROM schema_migrations WHERE version = $1",
                &[version],
            )?;
            if done.is_none() {
                tx.batch_execute(sql)?;
                tx.execute(
                    "INSERT INTO schema_migrations (version) VALUES ($1)",
                    &[version],
                )?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        Self::migrate_on(&mut self.client)
    }

    /// The raw client, for tests that tamper with the table directly.
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

/// Inserts `events` after `from`, moves the head, and notifies every node
/// listening (when, and only if, the transaction commits); the new head.
fn write(
    tx: &mut postgres::Transaction<'_>,
    council: &str,
    from: Head,
    events: &[Event],
) -> Result<Head, StoreError> {
    // The chain is computed here, then the whole batch goes in one
    // statement: one round trip per append, not one per event.
    let (rows, head) = chain::extend(from, events);
    let (mut seqs, mut texts, mut hashes) = (Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        seqs.push(i64::try_from(row.seq).unwrap_or(i64::MAX));
        texts.push(row.event);
        hashes.push(row.hash);
    }
    let result = tx.execute(
        "INSERT INTO events (council, seq, event, hash) \
         SELECT $1, s, e, h FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t (s, e, h)",
        &[&council, &seqs, &texts, &hashes],
    );
    if let Err(e) = result {
        if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
            return Err(StoreError::Conflict {
                council: council.to_owned(),
                expected: from.seq,
                found: head.seq,
            });
        }
        return Err(e.into());
    }
    let head_seq = i64::try_from(head.seq).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE councils SET head_seq = $1, head_hash = $2 WHERE id = $3",
        &[&head_seq, &head.hash.to_string(), &council],
    )?;
    tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &council])?;
    Ok(head)
}

/// The rows after `after`, in order.
fn rows_after(
    db: &mut impl GenericClient,
    council: &str,
    after: u64,
) -> Result<Vec<Row>, StoreError> {
    let after = i64::try_from(after).unwrap_or(i64::MAX);
    let rows = db.query(
        "SELECT seq, event, hash FROM events WHERE council = $1 AND seq > $2 ORDER BY seq",
        &[&council, &after],
    )?;
    Ok(rows
        .iter()
        .map(|r| Row {
            seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
            event: r.get(1),
            hash: r.get(2),
        })
        .collect())
}

/// The council's head as stored beside its log (`FOR UPDATE`: locked for an
/// append, which moves it).
fn read_head(db: &mut impl GenericClient, council: &str, lock: bool) -> Result<Head, StoreError> {
    let sql = if lock {
        "SELECT head_seq, head_hash FROM councils WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT head_seq, head_hash FROM councils WHERE id = $1"
    };
    let row = db
        .query_opt(sql, &[&council])?
        .ok_or_else(|| StoreError::NoSuchCouncil(council.to_owned()))?;
    let seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    let hash: String = row.get(1);
    let hash = Digest32::from_hex(&hash).ok_or_else(|| StoreError::Corrupt {
        council: council.to_owned(),
        seq,
        message: format!("the stored head hash `{hash}` is not 64 hex digits"),
    })?;
    Ok(Head { seq, hash })
}

fn require_council(
    db: &mut impl GenericClient,
    council: &str,
    lock: bool,
) -> Result<String, StoreError> {
    let sql = if lock {
        "SELECT pack FROM councils WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT pack FROM councils WHERE id = $1"
    };
    db.query_opt(sql, &[&council])?
        .map(|row| row.get(0))
        .ok_or_else(|| StoreError::NoSuchCouncil(council.to_owned()))
}

impl EventLog for PostgresLog {
    fn init_council(&mut self, council: &str, pack: &str) -> Result<(), StoreError> {
        let mut tx = self.client.transaction()?;
        tx.execute(
            "INSERT INTO councils (id, pack) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
            &[&council, &pack],
        )?;
        let existing = require_council(&mut tx, council, false)?;
        if existing != pack {
            return Err(StoreError::PackMismatch {
                council: council.to_owned(),
                existing,
                requested: pack.to_owned(),
            });
        }
        tx.commit()?;
        Ok(())
    }

    fn council_pack(&mut self, council: &str) -> Result<String, StoreError> {
        require_council(&mut *self.client, council, false)
    }

    fn councils(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client
            .query("SELECT id FROM councils ORDER BY id", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn head(&mut self, council: &str) -> Result<Head, StoreError> {
        read_head(&mut *self.client, council, false)
    }

    fn event_councils(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self
            .client
            .query("SELECT DISTINCT council FROM events ORDER BY council", &[])?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn heads(&mut self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = self
            .client
            .query("SELECT id, head_seq FROM councils ORDER BY id", &[])?;
        Ok(rows
            .iter()
            .map(|r| (r.get(0), u64::try_from(r.get::<_, i64>(1)).unwrap_or(0)))
            .collect())
    }

    fn append(
        &mut self,
        council: &str,
        expected: Head,
        events: &[Event],
    ) -> Result<Head, StoreError> {
        let mut tx = self.client.transaction()?;
        require_head(council, expected, read_head(&mut tx, council, true)?)?;
        let head = write(&mut tx, council, expected, events)?;
        tx.commit()?;
        Ok(head)
    }

    fn append_following(
        &mut self,
        council: &str,
        known: Head,
        prepare: &mut crate::Prepare<'_>,
    ) -> Result<Option<Head>, StoreError> {
        let mut tx = self.client.transaction()?;
        // The council's row, locked until commit: other nodes' appends wait.
        let stored = read_head(&mut tx, council, true)?;
        let missed = if stored == known {
            Vec::new()
        } else {
            rows_after(&mut tx, council, known.seq)?
        };
        let Some(events) = prepare(missed)? else {
            return Ok(None);
        };
        let head = write(&mut tx, council, stored, &events)?;
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
        use postgres::fallible_iterator::FallibleIterator;
        require_council(&mut *self.client, council, false)?;
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        let params: [&(dyn postgres::types::ToSql + Sync); 2] = [&council, &after];
        let sql = match columns {
            Columns::Events => {
                "SELECT seq, event FROM events WHERE council = $1 AND seq > $2 ORDER BY seq"
            }
            Columns::WithHashes => {
                "SELECT seq, event, hash FROM events WHERE council = $1 AND seq > $2 ORDER BY seq"
            }
        };
        // Rows as the server sends them, not all collected first.
        let mut rows = self.client.query_raw(sql, params)?;
        let mut chunks = Chunker::new(each);
        while let Some(row) = rows.next()? {
            let seq = u64::try_from(row.try_get::<_, i64>(0)?).unwrap_or(0);
            let hash = match columns {
                Columns::Events => None,
                Columns::WithHashes => Some(row.try_get::<_, &str>(2)?),
            };
            if !chunks.push(seq, row.try_get::<_, &str>(1)?, hash) {
                return Ok(());
            }
        }
        chunks.finish();
        Ok(())
    }
}

impl Snapshots for PostgresLog {
    fn save_snapshot(&mut self, council: &str, snapshot: &Snapshot) -> Result<(), StoreError> {
        require_council(&mut *self.client, council, false)?;
        let seq = i64::try_from(snapshot.seq).unwrap_or(i64::MAX);
        self.client.execute(
            "INSERT INTO snapshots (council, seq, hash, state, digest) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (council) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, \
             state = excluded.state, digest = excluded.digest",
            &[
                &council,
                &seq,
                &snapshot.hash,
                &snapshot.state,
                &snapshot.digest,
            ],
        )?;
        Ok(())
    }

    fn load_snapshot(&mut self, council: &str) -> Result<Option<Snapshot>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let row = self.client.query_opt(
            "SELECT seq, hash, state, digest FROM snapshots WHERE council = $1",
            &[&council],
        )?;
        Ok(row.map(|r| Snapshot {
            seq: u64::try_from(r.get::<_, i64>(0)).unwrap_or(0),
            hash: r.get(1),
            state: r.get(2),
            digest: r.get(3),
        }))
    }
}

impl Texts for PostgresLog {
    fn save_text(&mut self, council: &str, text: &str) -> Result<String, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let sha = text_sha256(text);
        self.client.execute(
            "INSERT INTO texts (council, sha256, text) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&council, &sha, &text],
        )?;
        Ok(sha)
    }

    fn text(&mut self, council: &str, sha256: &str) -> Result<Option<String>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let row = self.client.query_opt(
            "SELECT text FROM texts WHERE council = $1 AND sha256 = $2",
            &[&council, &sha256],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn texts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let rows = self.client.query(
            "SELECT sha256, text FROM texts WHERE council = $1 ORDER BY sha256",
            &[&council],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl Provisioned for PostgresLog {
    fn save_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
        body: &str,
    ) -> Result<(), StoreError> {
        require_council(&mut *self.client, council, false)?;
        self.client.execute(
            "INSERT INTO provisioned (council, resource, id, body) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (council, resource, id) DO UPDATE SET body = excluded.body",
            &[&council, &resource, &id, &body],
        )?;
        Ok(())
    }

    fn resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let row = self.client.query_opt(
            "SELECT body FROM provisioned WHERE council = $1 AND resource = $2 AND id = $3",
            &[&council, &resource, &id],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn resources(
        &mut self,
        council: &str,
        resource: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let rows = self.client.query(
            "SELECT id, body FROM provisioned WHERE council = $1 AND resource = $2 ORDER BY id",
            &[&council, &resource],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    fn delete_resource(
        &mut self,
        council: &str,
        resource: &str,
        id: &str,
    ) -> Result<bool, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let n = self.client.execute(
            "DELETE FROM provisioned WHERE council = $1 AND resource = $2 AND id = $3",
            &[&council, &resource, &id],
        )?;
        Ok(n > 0)
    }
}

impl Accounts for PostgresLog {
    fn save_account(
        &mut self,
        council: &str,
        person: &str,
        account: &str,
    ) -> Result<(), StoreError> {
        require_council(&mut *self.client, council, false)?;
        self.client.execute(
            "INSERT INTO accounts (council, person, account) VALUES ($1, $2, $3) \
             ON CONFLICT (council, person) DO UPDATE SET account = excluded.account",
            &[&council, &person, &account],
        )?;
        Ok(())
    }

    fn account(&mut self, council: &str, person: &str) -> Result<Option<String>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let row = self.client.query_opt(
            "SELECT account FROM accounts WHERE council = $1 AND person = $2",
            &[&council, &person],
        )?;
        Ok(row.map(|r| r.get(0)))
    }

    fn accounts(&mut self, council: &str) -> Result<Vec<(String, String)>, StoreError> {
        require_council(&mut *self.client, council, false)?;
        let rows = self.client.query(
            "SELECT person, account FROM accounts WHERE council = $1 ORDER BY person",
            &[&council],
        )?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}
