//! Test support: throwaway databases of both kinds, and raw SQL for the
//! tests that tamper with them.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A database for one test case, and a way to run raw SQL on it.
pub enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        url: String,
    },
}

impl Db {
    pub fn url(&self) -> String {
        match self {
            Db::Sqlite { path, .. } => format!("sqlite:{}", path.display()),
            Db::Postgres { url } => url.clone(),
        }
    }

    /// Runs SQL directly, behind the store's back.
    pub fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite { path, .. } => {
                let conn = rusqlite::Connection::open(path).expect("open sqlite");
                conn.execute_batch(sql).expect("raw sql");
            }
            Db::Postgres { url } => {
                let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
                client.batch_execute(sql).expect("raw sql");
            }
        }
    }
}

pub fn sqlite_db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("warden.db");
    Db::Sqlite { _dir: dir, path }
}

/// A real PostgreSQL server in a temporary folder on a free loopback port,
/// stopped and removed when dropped.
pub struct TestPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    databases: usize,
    /// What the server runs with: fast and small for tests unless a
    /// benchmark asks otherwise.
    settings: String,
}

impl TestPostgres {
    /// Starts a server, or says why it cannot and returns None (only where
    /// no PostgreSQL binaries are installed; CI installs them).
    pub fn start() -> Option<Self> {
        Self::start_with("-c fsync=off -c max_connections=50")
    }

    /// Starts a server with these settings (`-c NAME=VALUE ...`): a
    /// benchmark's durable one, say.
    pub fn start_with(settings: &str) -> Option<Self> {
        let Some(bin) = find_bin() else {
            eprintln!("skipped: no PostgreSQL server binaries (initdb, pg_ctl) on this machine");
            return None;
        };
        let dir = tempfile::tempdir().expect("temp dir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let pg = TestPostgres {
            bin,
            dir,
            port,
            databases: 0,
            settings: settings.to_owned(),
        };
        if is_root() {
            // initdb and postgres refuse to run as root.
            chown_to_postgres(pg.dir.path());
        }
        let data = pg.dir.path().join("data");
        pg.run(
            "initdb",
            &[
                "-D",
                &data.to_string_lossy(),
                "-U",
                "warden",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        pg.start_again();
        Some(pg)
    }

    fn run(&self, program: &str, args: &[&str]) {
        let binary = self.bin.join(program);
        let status = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(args)
                .output()
        } else {
            Command::new(&binary).args(args).output()
        }
        .expect("run PostgreSQL tool");
        assert!(
            status.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&status.stdout),
            String::from_utf8_lossy(&status.stderr)
        );
    }

    /// Stops the server (fast: connections are cut), as an operator's
    /// `pg_ctl stop -m fast` would.
    pub fn stop(&self) {
        let data = self.dir.path().join("data");
        self.run(
            "pg_ctl",
            &["-D", &data.to_string_lossy(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Starts a stopped server again on the same port; returns once it
    /// answers.
    pub fn start_again(&self) {
        let data = self.dir.path().join("data");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} {}",
            self.port,
            self.dir.path().display(),
            self.settings
        );
        let log = self.dir.path().join("server.log");
        self.run(
            "pg_ctl",
            &[
                "-D",
                &data.to_string_lossy(),
                "-l",
                &log.to_string_lossy(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// A new, empty database on the server.
    pub fn fresh_db(&mut self) -> Db {
        self.databases += 1;
        let name = format!("case_{}", self.databases);
        let mut admin =
            postgres::Client::connect(&self.url("postgres"), postgres::NoTls).expect("connect");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        Db::Postgres {
            url: self.url(&name),
        }
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://warden@127.0.0.1:{}/{database}", self.port)
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let binary = self.bin.join("pg_ctl");
        let args = [
            "-D",
            &data.to_string_lossy(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]
        .map(str::to_owned);
        let _ = if is_root() {
            Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&binary)
                .args(&args)
                .output()
        } else {
            Command::new(&binary).args(&args).output()
        };
    }
}

/// Debian keeps the server tools in /usr/lib/postgresql/VERSION/bin; elsewhere
/// they are on the PATH.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    if let Some(bin) = versions.pop() {
        return Some(bin);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.starts_with(b"0\n"))
        .unwrap_or(false)
}

fn chown_to_postgres(dir: &Path) {
    let status = Command::new("chown")
        .args(["-R", "postgres:"])
        .arg(dir)
        .status()
        .expect("chown");
    assert!(status.success(), "chown {} to postgres", dir.display());
}
