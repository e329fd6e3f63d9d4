//! The shared-service ceiling (issue: shared service): events a second
//! appended to one council through the API by CLIENTS concurrent clients
//! (default 50) over one node and spread over two `warden serve` nodes on one
//! throwaway PostgreSQL server (durable: fsync on, synchronous commit),
//! beside the floor measured in the same run: one writer appending one
//! event a transaction straight through the store, back to back, with no
//! HTTP, no authorisation and no rules (one council's appends are serial).
//!
//! Run: ./scripts/bench-nodes [SECONDS [CLIENTS]]  (builds the release binary
//! and this example, then runs it). Results in docs/performance.md.

// Wall-clock timing is what a benchmark is for; the domain never reads it.
#![allow(clippy::disallowed_methods)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use web::accounts::{Account, ApiToken, Scope, sha256_hex, token_text};

const COUNCIL: &str = "bench";
const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const EVENT: &str = r#"{"type":"password_changed","person":"p-member"}"#;

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    // Durable, as a service's server is, and room for every connection:
    // the clients' floor, two nodes' pools and listeners.
    let Some(mut pg) = test_utils::db::TestPostgres::start_with("-c max_connections=200") else {
        eprintln!("no PostgreSQL server binaries here (apt-get install postgresql)");
        std::process::exit(2);
    };
    let url = pg.fresh_db().url();
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
    let fsync: String = admin.query_one("SHOW fsync", &[]).expect("show").get(0);
    let token = council(&url);
    let run_for = Duration::from_secs(seconds);
    println!(
        "{clients} clients, {seconds} s each, one council, PostgreSQL fsync={fsync}, {} cores shared by server, nodes and clients",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    let floor = direct_appends(&url, run_for);
    report("floor: one writer straight through the store", &floor, None);
    let a = Node::start(&url);
    let one = through_api(&[&a], &token, clients, run_for);
    report("one node, through the API", &one, Some(floor.rate()));
    let b = Node::start(&url);
    let two = through_api(&[&a, &b], &token, clients, run_for);
    report("two nodes, through the API", &two, Some(floor.rate()));

    let mut log = store::open(&url).expect("open");
    let v = store::verify(log.as_mut(), COUNCIL).expect("verify");
    println!(
        "chain: {} events, {}",
        v.sound,
        if v.broken.is_none() {
            "sound"
        } else {
            "BROKEN"
        }
    );
}

/// What a phase did: writes acknowledged, refused or failed, and latencies.
struct Phase {
    ok: usize,
    failed: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }
}

fn report(name: &str, phase: &Phase, floor: Option<f64>) {
    let ratio = floor.map_or(String::new(), |f| {
        format!("; {:.2}x the floor's rate", phase.rate() / f)
    });
    println!(
        "{name}: {} events in {:.1} s = {:.0} events/s (p50 {:.1} ms, p99 {:.1} ms; {} failed){ratio}",
        phase.ok,
        phase.elapsed.as_secs_f64(),
        phase.rate(),
        phase.percentile(0.5).as_secs_f64() * 1000.0,
        phase.percentile(0.99).as_secs_f64() * 1000.0,
        phase.failed,
    );
}

/// Runs `work` on `clients` threads until `run_for` has passed; each call
/// says whether its write was acknowledged.
fn phase(clients: usize, run_for: Duration, work: impl Fn(usize) -> bool + Sync) -> Phase {
    let stop = AtomicBool::new(false);
    let start = Instant::now();
    let results: Vec<(usize, usize, Vec<Duration>)> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..clients)
            .map(|client| {
                let (stop, work) = (&stop, &work);
                scope.spawn(move || {
                    let (mut ok, mut failed, mut latencies) = (0, 0, Vec::new());
                    while !stop.load(Ordering::Relaxed) {
                        let began = Instant::now();
                        if work(client) {
                            ok += 1;
                            latencies.push(began.elapsed());
                        } else {
                            failed += 1;
                        }
                    }
                    (ok, failed, latencies)
                })
            })
            .collect();
        std::thread::sleep(run_for);
        stop.store(true, Ordering::Relaxed);
        threads
            .into_iter()
            .map(|t| t.join().expect("client"))
            .collect()
    });
    let elapsed = start.elapsed();
    let mut phase = Phase {
        ok: 0,
        failed: 0,
        elapsed,
        latencies: Vec::new(),
    };
    for (ok, failed, latencies) in results {
        phase.ok += ok;
        phase.failed += failed;
        phase.latencies.extend(latencies);
    }
    phase
}

/// The floor: what one council's log takes when nothing but the store is
/// in the way: one connection appending one event a transaction, back to
/// back (appends to one council are serial: each locks the council's row).
fn direct_appends(url: &str, run_for: Duration) -> Phase {
    let log = std::sync::Mutex::new(store::open(url).expect("open"));
    let event = domain::parse_event(&format!(r#"{{"at":"2026-06-01T09:00:00Z",{}"#, &EVENT[1..]))
        .expect("event");
    phase(1, run_for, |_| {
        let mut log = log.lock().expect("lock");
        let Ok(head) = log.head(COUNCIL) else {
            return false;
        };
        log.append(COUNCIL, head, std::slice::from_ref(&event))
            .is_ok()
    })
}

fn through_api(nodes: &[&Node], token: &str, clients: usize, run_for: Duration) -> Phase {
    let http = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(clients)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client");
    phase(clients, run_for, |client| {
        let node = nodes[client % nodes.len()];
        http.post(format!("{}/api/v1/councils/{COUNCIL}/events", node.url))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(EVENT)
            .send()
            .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
    })
}

/// The release `warden` beside this example's folder.
fn warden() -> PathBuf {
    let exe = std::env::current_exe().expect("exe");
    let dir = exe
        .parent()
        .and_then(|examples| examples.parent())
        .expect("target folder");
    dir.join("warden")
}

fn run(args: &[&str]) {
    let out = Command::new(warden()).args(args).output().expect("warden");
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A council with an ICT administrator and a member, and the
/// administrator's write token.
fn council(url: &str) -> String {
    run(&[
        "init",
        "--db",
        url,
        "--council",
        COUNCIL,
        "--pack",
        "southend",
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("people.jsonl");
    std::fs::write(
        &file,
        concat!(
            r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p-ict","name":"Officer","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:01:00Z","type":"role_granted","person":"p-ict","role":"ict_admin"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:02:00Z","type":"mfa_enrolled","person":"p-ict","method":"authenticator_app"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:03:00Z","type":"person_joined","person":"p-member","name":"Cllr Member","kind":"councillor"}"#,
            "\n",
        ),
    )
    .expect("write");
    run(&[
        "import",
        "--db",
        url,
        "--council",
        COUNCIL,
        file.to_str().expect("utf-8"),
    ]);
    let secret = sha256_hex("bench")[..32].to_owned();
    let mut account = Account::new("correct-horse-battery").expect("account");
    account.tokens.push(ApiToken {
        id: "bench".into(),
        name: "bench".into(),
        sha256: sha256_hex(&secret),
        scope: Scope::Write,
        created: "2026-01-05T09:00:00Z".parse().expect("time"),
        revoked: None,
    });
    let mut log = store::open(url).expect("open");
    log.save_account(
        COUNCIL,
        "p-ict",
        &serde_json::to_string(&account).expect("json"),
    )
    .expect("save");
    token_text(COUNCIL, "p-ict", &secret)
}

/// A `warden serve` process, stopped when dropped.
struct Node {
    child: Child,
    url: String,
}

impl Node {
    fn start(db: &str) -> Node {
        let mut child = Command::new(warden())
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .args(["--secure-cookies", "false", "--log-format", "json"])
            .env("WARDEN_TOTP_KEY", KEY)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("line");
        let url = line
            .trim()
            .rsplit_once(" at ")
            .map(|(_, u)| u.trim_end_matches('/').to_owned())
            .expect("address");
        Node { child, url }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
