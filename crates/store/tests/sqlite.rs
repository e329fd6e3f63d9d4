//! The SQLite log against a real file: appends, conflicts, isolation,
//! tampering found at the right event, and survival of SIGKILL.

use domain::Event;
use store::{Break, EventLog, Head, SqliteLog, StoreError};

fn person_joined(seq: u64, id: &str) -> Event {
    let line = format!(
        r#"{{"at":"2025-04-01T09:{:02}:{:02}+01:00","type":"person_joined","person":"{id}","name":"N","kind":"employee"}}"#,
        seq / 60,
        seq % 60
    );
    domain::parse_event(&line).expect("valid event")
}

fn events(from: u64, n: u64, prefix: &str) -> Vec<Event> {
    (from..from + n)
        .map(|i| person_joined(i, &format!("{prefix}{i}")))
        .collect()
}

fn fresh() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("warden.db").to_string_lossy().into_owned();
    (dir, path)
}

fn log_with(path: &str, council: &str, n: u64) -> SqliteLog {
    let mut log = SqliteLog::open(path).expect("open");
    log.init_council(council, "southend").expect("init");
    let head = log.head(council).expect("head");
    log.append(council, head, &events(1, n, "p"))
        .expect("append");
    log
}

#[test]
fn appended_events_read_back_in_order_and_verify() {
    let (_dir, path) = fresh();
    let mut log = log_with(&path, "a", 10);
    let head = log.head("a").expect("head");
    assert_eq!(head.seq, 10);
    let read = store::events(&mut log, "a").expect("read");
    assert_eq!(read, events(1, 10, "p"));
    let v = store::verify(&mut log, "a").expect("verify");
    assert_eq!((v.sound, v.head, v.broken), (10, head.hash, None));
}

#[test]
fn an_append_against_a_stale_head_writes_nothing() {
    let (_dir, path) = fresh();
    let mut log = log_with(&path, "a", 3);
    let stale = Head::EMPTY;
    let err = log
        .append("a", stale, &events(4, 2, "q"))
        .expect_err("stale head");
    assert!(
        matches!(
            err,
            StoreError::Conflict {
                expected: 0,
                found: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(log.head("a").expect("head").seq, 3);
    assert_eq!(store::events(&mut log, "a").expect("read").len(), 3);
}

#[test]
fn councils_never_see_each_others_events() {
    let (_dir, path) = fresh();
    let mut log = log_with(&path, "a", 5);
    log.init_council("b", "redditch").expect("init b");
    let head_b = log.head("b").expect("head b");
    assert_eq!(head_b, Head::EMPTY, "b's chain starts from nothing");
    log.append("b", head_b, &events(1, 2, "b"))
        .expect("append b");
    let a = store::events(&mut log, "a").expect("a");
    let b = store::events(&mut log, "b").expect("b");
    assert_eq!(a, events(1, 5, "p"));
    assert_eq!(b, events(1, 2, "b"));
    assert_eq!(
        log.councils().expect("councils"),
        vec!["a".to_owned(), "b".to_owned()]
    );
    let err = log.rows("c").expect_err("no such council");
    assert!(matches!(err, StoreError::NoSuchCouncil(_)));
}

#[test]
fn init_is_idempotent_and_refuses_a_different_pack() {
    let (_dir, path) = fresh();
    let mut log = log_with(&path, "a", 1);
    log.init_council("a", "southend").expect("same pack again");
    let err = log.init_council("a", "sefton").expect_err("other pack");
    assert!(
        err.to_string()
            .contains("set up with pack `southend`, not `sefton`"),
        "{err}"
    );
    drop(log);
    // Reopening runs the migrations again: they must be no-ops.
    let mut again = SqliteLog::open(&path).expect("reopen");
    assert_eq!(again.head("a").expect("head").seq, 1);
}

/// Each tampering, done directly to the table, is found at the right event.
#[test]
fn verify_finds_each_kind_of_tampering_at_its_event() {
    let cases: &[(&str, &str, Break)] = &[
        (
            "edit",
            "UPDATE events SET event = replace(event, 'p4', 'px') WHERE seq = 4",
            mismatch(4),
        ),
        (
            "delete",
            "DELETE FROM events WHERE seq = 5",
            Break::Gap { seq: 5, found: 6 },
        ),
        (
            "reorder",
            "UPDATE events SET seq = 1006 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = 7; \
             UPDATE events SET seq = 7 WHERE seq = 1006",
            mismatch(6),
        ),
        (
            "insert",
            "UPDATE events SET seq = seq + 100 WHERE seq >= 3; UPDATE events SET seq = seq - 99 WHERE seq >= 103; \
             INSERT INTO events (council, seq, event, hash) SELECT council, 3, event, hash FROM events WHERE seq = 2",
            mismatch(3),
        ),
        (
            "append a forged row",
            "INSERT INTO events (council, seq, event, hash) VALUES ('a', 9, '{}', 'ab')",
            mismatch(9),
        ),
    ];
    for (name, sql, expected) in cases {
        let (_dir, path) = fresh();
        let mut log = log_with(&path, "a", 8);
        log.connection().execute_batch(sql).expect(name);
        let v = store::verify(&mut log, "a").expect("verify");
        let broken = v.broken.unwrap_or_else(|| panic!("{name}: not detected"));
        match (&broken, expected) {
            (Break::Mismatch { seq, .. }, Break::Mismatch { seq: want, .. }) => {
                assert_eq!(seq, want, "{name}: {broken}")
            }
            (got, want) => assert_eq!(got, want, "{name}"),
        }
        assert_eq!(
            v.sound,
            expected.seq() - 1,
            "{name}: events before the break are sound"
        );
    }
}

fn mismatch(seq: u64) -> Break {
    Break::Mismatch {
        seq,
        expected: String::new(),
        found: String::new(),
    }
}

/// A writer killed with SIGKILL at random points, 50 times: every append it
/// reported is there, the chain verifies, and nothing half-written remains.
#[test]
fn appends_survive_sigkill_at_random_points() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let (_dir, path) = fresh();
    let mut seed: u64 = 0x5EED;
    let mut reported = 0;
    for run in 0..50 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-crash-writer"))
            .args([&path, "a"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("stdout");
        // Kill after a pseudo-random number of reported appends (0 to 40),
        // so kills land before the first append, between appends and mid-append.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait_for = (seed >> 33) % 41;
        let mut lines = BufReader::new(stdout).lines();
        let mut seen = 0;
        while seen < wait_for {
            match lines.next() {
                Some(Ok(line)) => {
                    let seq: u64 = line.trim_start_matches("done ").parse().expect("done SEQ");
                    reported = reported.max(seq);
                    seen += 1;
                }
                _ => break,
            }
        }
        child.kill().expect("SIGKILL");
        // Appends reported between our last read and the kill count too.
        for line in lines.map_while(Result::ok) {
            if let Some(seq) = line
                .strip_prefix("done ")
                .and_then(|s| s.parse::<u64>().ok())
            {
                reported = reported.max(seq);
            }
        }
        let _ = child.wait();
        let mut log = SqliteLog::open(&path).expect("reopen after kill");
        let v = store::verify(&mut log, "a").expect("verify");
        assert_eq!(v.broken, None, "run {run}: chain broken");
        assert!(
            v.sound >= reported,
            "run {run}: {} stored, {reported} reported done",
            v.sound
        );
        let read = store::events(&mut log, "a").expect("every row decodes");
        assert_eq!(read.len() as u64, v.sound);
    }
    assert!(
        reported > 50,
        "the writer made progress across runs ({reported})"
    );
}
