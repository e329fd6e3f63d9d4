//! Where a long-running service gets its store connections, and how it
//! hears that another node moved a log on.
//!
//! PostgreSQL: a pool (r2d2) of connections, each tested before it is lent,
//! so that connections broken by a server restart are dropped and new ones
//! made, with r2d2's waits in between, until the server answers again; a
//! request meanwhile gets an error at once (after `TIMEOUT`), not a hang.
//! Appends notify `CHANNEL`; a [`Listener`] on a connection of its own hears
//! them. SQLite keeps its single writer: one connection behind a lock.

use crate::postgres::{CHANNEL, PostgresLog};
use crate::{SqliteLog, Store, StoreError};
use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// How long a request waits for a connection before it is told the store
/// is not answering.
pub const TIMEOUT: Duration = Duration::from_secs(3);

/// The service's store.
pub struct Pool {
    url: String,
    kind: Kind,
}

enum Kind {
    Sqlite(Mutex<SqliteLog>),
    Postgres(r2d2::Pool<PostgresConnectionManager<NoTls>>),
}

/// A connection lent by the pool, used as an `EventLog`.
pub enum Conn<'a> {
    Sqlite(MutexGuard<'a, SqliteLog>),
    Postgres(Box<PostgresLog>),
}

impl<'a> Deref for Conn<'a> {
    type Target = dyn Store + 'a;
    fn deref(&self) -> &Self::Target {
        match self {
            Conn::Sqlite(log) => &**log,
            Conn::Postgres(log) => &**log,
        }
    }
}

impl DerefMut for Conn<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            Conn::Sqlite(log) => &mut **log,
            Conn::Postgres(log) => &mut **log,
        }
    }
}

impl Pool {
    /// Opens the database a `--db` URL names and migrates it once. For
    /// PostgreSQL the pool makes its connections as they are needed, so a
    /// service can start while the server is briefly away.
    pub fn open(url: &str) -> Result<Pool, StoreError> {
        if let Some(path) = url.strip_prefix("sqlite:") {
            if path.is_empty() {
                return Err(StoreError::BadUrl(url.to_owned()));
            }
            return Ok(Pool {
                url: url.to_owned(),
                kind: Kind::Sqlite(Mutex::new(SqliteLog::open(path)?)),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let config = url
                .parse::<postgres::Config>()
                .map_err(|_| StoreError::BadUrl(url.to_owned()))?;
            let manager = PostgresConnectionManager::new(config, NoTls);
            let pool = r2d2::Pool::builder()
                .max_size(16)
                .min_idle(Some(1))
                .connection_timeout(TIMEOUT)
                .test_on_check_out(true)
                .error_handler(Box::new(LogErrors))
                .build_unchecked(manager);
            let mut client = pool.get().map_err(unreachable)?;
            PostgresLog::migrate_on(&mut client)?;
            return Ok(Pool {
                url: url.to_owned(),
                kind: Kind::Postgres(pool),
            });
        }
        Err(StoreError::BadUrl(url.to_owned()))
    }

    /// A connection, or `Unavailable` if none can be had within `TIMEOUT`.
    pub fn get(&self) -> Result<Conn<'_>, StoreError> {
        match &self.kind {
            Kind::Sqlite(log) => Ok(Conn::Sqlite(log.lock().unwrap_or_else(|p| p.into_inner()))),
            Kind::Postgres(pool) => pool
                .get()
                .map(|client| Conn::Postgres(Box::new(PostgresLog::pooled(client))))
                .map_err(unreachable),
        }
    }

    /// A listener for appends made by any node, where the backend can tell
    /// (PostgreSQL); None for SQLite, whose one writer is this process or a
    /// command beside it (the service polls for those).
    pub fn listener(&self) -> Option<Listener> {
        match self.kind {
            Kind::Sqlite(_) => None,
            Kind::Postgres(_) => Some(Listener {
                url: self.url.clone(),
                client: None,
            }),
        }
    }

    /// Whether the store serves several processes at once.
    pub fn is_shared(&self) -> bool {
        matches!(self.kind, Kind::Postgres(_))
    }
}

fn unreachable(e: r2d2::Error) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

/// Logs the pool's failures to make a connection (a server that is away).
#[derive(Debug)]
struct LogErrors;

impl r2d2::HandleError<postgres::Error> for LogErrors {
    fn handle_error(&self, error: postgres::Error) {
        eprintln!("warden: store connection failed: {error}");
    }
}

/// Hears appends by any node: `LISTEN` on a connection of its own, made
/// again after it breaks.
pub struct Listener {
    url: String,
    client: Option<postgres::Client>,
}

impl Listener {
    /// The councils whose logs some node appended to, as heard within
    /// `timeout` (empty if none). An error means the connection broke; the
    /// next call connects again.
    pub fn wait(&mut self, timeout: Duration) -> Result<Vec<String>, StoreError> {
        use postgres::fallible_iterator::FallibleIterator;
        let client = match &mut self.client {
            Some(client) => client,
            None => {
                let mut client = postgres::Client::connect(&self.url, NoTls)?;
                client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
                self.client.insert(client)
            }
        };
        let mut moved = Vec::new();
        let result = (|| -> Result<(), postgres::Error> {
            let mut notifications = client.notifications();
            let first = notifications.timeout_iter(timeout).next()?;
            if let Some(first) = first {
                moved.push(first.payload().to_owned());
                // And whatever else has arrived meanwhile, without waiting.
                let mut rest = notifications.iter();
                while let Some(more) = rest.next()? {
                    moved.push(more.payload().to_owned());
                }
            }
            Ok(())
        })();
        if let Err(e) = result {
            self.client = None;
            return Err(e.into());
        }
        if client.is_closed() {
            self.client = None;
        }
        moved.sort();
        moved.dedup();
        Ok(moved)
    }
}
