//! The event-log benchmark (issue: durable log). For N events (default
//! 1,000,000) of the example councils' mix, on SQLite and on a throwaway
//! PostgreSQL server, it reports append throughput in batches of 1 and of
//! 1,000, full replay (read, decode, fold into the estate), and snapshot plus
//! 1% tail; beside the time SQLite's own `sqlite3` shell takes to read the
//! same table, the floor.
//!
//! Run: cargo run --release -p warden --example bench_log [-- EVENTS]
//! Results are recorded in docs/performance.md.

// Wall-clock timing is what a benchmark is for; the domain never reads it.
#![allow(clippy::disallowed_methods)]

use domain::Event;
use serde_json::Value;
use std::time::Instant;

/// The allocator the `warden` binary uses, so the figures are its figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const COUNCIL: &str = "bench";
const SINGLE_APPENDS: usize = 2_000;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let events = mix(n);
    println!("{} events of the five example councils' mix", events.len());
    let sqlite = test_utils::db::sqlite_db();
    let floor = bench("SQLite", &sqlite, &events);
    if let test_utils::db::Db::Sqlite { path, .. } = &sqlite {
        sqlite3_floor(path, floor);
    }
    match test_utils::db::TestPostgres::start() {
        Some(mut pg) => {
            let db = pg.fresh_db();
            bench("PostgreSQL", &db, &events);
        }
        None => println!("PostgreSQL: not measured (no server binaries)"),
    }
}

/// The five example logs, copied with ids made unique per copy until there
/// are `n` events.
fn mix(n: usize) -> Vec<Event> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut lines: Vec<Value> = Vec::new();
    for name in [
        "southend",
        "redditch",
        "sefton",
        "mid-devon",
        "leighton-linslade",
    ] {
        let text =
            std::fs::read_to_string(root.join(format!("{name}.jsonl"))).expect("example log");
        // As things happened: without the voids and what they void, or when
        // late records were booked in (a replay in time order is measured).
        lines.extend(
            text.lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .filter(|v| v.get("id").is_none() && v["type"] != "event_voided")
                .map(|mut v| {
                    if let Value::Object(map) = &mut v {
                        map.remove("recorded");
                    }
                    v
                }),
        );
    }
    let mut events = Vec::with_capacity(n);
    'copies: for copy in 0.. {
        for line in &lines {
            if events.len() == n {
                break 'copies;
            }
            let mut v = line.clone();
            if let Value::Object(map) = &mut v {
                for key in [
                    "person",
                    "device",
                    "incident",
                    "household",
                    "requested_by",
                    "approved_by",
                    "by",
                ] {
                    if let Some(Value::String(id)) = map.get_mut(key) {
                        id.push_str(&format!("-x{copy}"));
                    }
                }
            }
            events.push(domain::parse_event(&v.to_string()).expect("example events are valid"));
        }
    }
    // In time order, each copy's events among the others' at the same
    // instants (a stable sort keeps each file's own order).
    events.sort_by_key(|e| e.at);
    events
}

/// Runs the measurements on one backend; returns the full-replay seconds.
fn bench(name: &str, db: &test_utils::db::Db, events: &[Event]) -> f64 {
    let mut log = store::open(&db.url()).expect("open");
    log.init_council(COUNCIL, "southend").expect("init");
    let ninety_nine = events.len() * 99 / 100;

    let start = Instant::now();
    for chunk in events[..ninety_nine].chunks(1_000) {
        let head = log.head(COUNCIL).expect("head");
        log.append(COUNCIL, head, chunk).expect("append");
    }
    let batched = start.elapsed().as_secs_f64();
    store::write_snapshot(log.as_mut(), COUNCIL).expect("snapshot");
    for chunk in events[ninety_nine..].chunks(1_000) {
        let head = log.head(COUNCIL).expect("head");
        log.append(COUNCIL, head, chunk).expect("append");
    }

    // Appends of one event each, one transaction (one sync to disk) each,
    // in a second council so the first stays at N events.
    log.init_council("single", "southend").expect("init");
    let start = Instant::now();
    for event in events.iter().take(SINGLE_APPENDS) {
        let head = log.head("single").expect("head");
        log.append("single", head, std::slice::from_ref(event))
            .expect("append");
    }
    let single = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let rows = store::rows(log.as_mut(), COUNCIL).expect("rows");
    let read = start.elapsed().as_secs_f64();
    drop(rows);

    let rows = store::rows(log.as_mut(), COUNCIL).expect("rows");
    let start = Instant::now();
    let decoded: Vec<Event> = rows
        .iter()
        .filter_map(|r| domain::parse_event(&r.event).ok())
        .collect();
    let decode = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let mut folded = domain::Estate::default();
    for event in &decoded {
        folded.apply(event);
    }
    let fold = start.elapsed().as_secs_f64();
    drop((rows, decoded, folded));

    let start = Instant::now();
    let store::Replayed::Folded(estate, _) =
        store::replay(log.as_mut(), COUNCIL, 0, domain::Estate::default(), None).expect("replay")
    else {
        panic!("the example's events are in time order");
    };
    let replay = start.elapsed().as_secs_f64();

    let start = Instant::now();
    let loaded = store::load_estate(log.as_mut(), COUNCIL).expect("load");
    let tail = start.elapsed().as_secs_f64();
    assert_eq!(
        loaded.estate, *estate,
        "snapshot plus tail equals the full replay"
    );
    assert!(loaded.from_snapshot.is_some(), "the snapshot was used");

    let per_s = |count: usize, secs: f64| count as f64 / secs;
    println!("\n{name}");
    println!(
        "  append, batches of 1,000: {:>10.0} events/s ({ninety_nine} events in {batched:.2} s)",
        per_s(ninety_nine, batched)
    );
    println!(
        "  append, batches of 1:     {:>10.0} events/s ({SINGLE_APPENDS} events in {single:.2} s)",
        per_s(SINGLE_APPENDS, single)
    );
    println!("  read rows only:           {read:>10.3} s");
    println!("  decode only:              {decode:>10.3} s");
    println!("  fold only:                {fold:>10.3} s");
    println!(
        "  full replay:              {replay:>10.3} s  ({:.0} events/s)",
        per_s(events.len(), replay)
    );
    println!(
        "  snapshot + 1% tail:       {tail:>10.3} s  ({:.1}% of full replay)",
        100.0 * tail / replay
    );
    replay
}

/// The floor: SQLite's own shell reading every event of the same table.
fn sqlite3_floor(path: &std::path::Path, replay: f64) {
    let start = Instant::now();
    let out = std::process::Command::new("sqlite3")
        .arg(path)
        .arg(format!(
            "SELECT event FROM events WHERE council = '{COUNCIL}' ORDER BY seq"
        ))
        .stdout(std::process::Stdio::null())
        .status();
    let floor = start.elapsed().as_secs_f64();
    match out {
        Ok(status) if status.success() => {
            println!(
                "  floor, sqlite3 shell:     {floor:>10.3} s  (full replay is {:.2}x the floor)",
                replay / floor
            )
        }
        _ => println!("  floor: not measured (install Debian's sqlite3)"),
    }
}
