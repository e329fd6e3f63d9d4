//! One suite, both backends: every case runs against SQLite and against a
//! real, throwaway PostgreSQL server. Then SIGKILL at random points on each,
//! and two PostgreSQL writers appending to one council at once.

use domain::Event;
use store::{Break, EventLog, Head, Store, StoreError};
use test_utils::db::{Db, TestPostgres, sqlite_db};

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

fn open(db: &Db) -> Box<dyn Store> {
    store::open(&db.url()).expect("open")
}

/// A log holding `n` events for council "a".
fn log_with(db: &Db, n: u64) -> Box<dyn Store> {
    let mut log = open(db);
    log.init_council("a", "southend").expect("init");
    let head = log.head("a").expect("head");
    log.append("a", head, &events(1, n, "p")).expect("append");
    log
}

type Case = fn(&Db);

const CASES: &[(&str, Case)] = &[
    ("appended events read back in order and verify", read_back),
    ("an append against a stale head writes nothing", stale_head),
    (
        "an append under the lock is handed what others appended, and writes after it",
        append_following,
    ),
    ("councils never see each other's events", isolation),
    ("init is idempotent and refuses another pack", init_again),
    (
        "accounts are per council, replaced whole, and outside the log",
        accounts,
    ),
    (
        "policy texts are kept by their SHA-256, per council, outside the log",
        texts,
    ),
    (
        "provisioned resources are per council and type, replaced, deleted, outside the log",
        provisioned,
    ),
    ("an edited event is found", |db| {
        tamper(
            db,
            "UPDATE events SET event = event || ' ' WHERE seq = 4",
            mismatch(4),
        )
    }),
    ("a deleted event is found", |db| {
        tamper(
            db,
            "DELETE FROM events WHERE seq = 5",
            Break::Gap { seq: 5, found: 6 },
        )
    }),
    ("reordered events are found", |db| {
        let swap = "UPDATE events SET seq = 1006 WHERE seq = 6; UPDATE events SET seq = 6 WHERE seq = 7; \
                        UPDATE events SET seq = 7 WHERE seq = 1006";
        tamper(db, swap, mismatch(6))
    }),
    ("an inserted event is found", |db| {
        let insert = "UPDATE events SET seq = seq + 100 WHERE seq >= 3; UPDATE events SET seq = seq - 99 WHERE seq >= 103; \
                          INSERT INTO events (council, seq, event, hash) SELECT council, 3, event, hash FROM events WHERE seq = 2";
        tamper(db, insert, mismatch(3))
    }),
    (
        "a snapshot plus its tail is the full replay",
        snapshot_and_tail,
    ),
    (
        "a snapshot followed by late records or voids is set aside",
        snapshot_and_late_tail,
    ),
    (
        "a replay of many chunks is the fold, and names an unreadable event",
        chunked_replay,
    ),
    (
        "a snapshot that does not match the log is discarded",
        snapshot_mismatch,
    ),
    (
        "a snapshot whose state was edited is discarded, however well it reads",
        snapshot_edited,
    ),
    (
        "events deleted from the end are found against the stored head",
        deletions_at_the_end,
    ),
    (
        "events without their council row are found",
        a_council_row_deleted,
    ),
    (
        "a log rewritten whole is found against an anchor kept outside",
        an_anchor_the_log_no_longer_holds,
    ),
    ("a forged event at the end is found", |db| {
        tamper(
            db,
            "INSERT INTO events (council, seq, event, hash) VALUES ('a', 9, '{}', 'ab')",
            mismatch(9),
        )
    }),
];

fn run_suite(mut fresh: impl FnMut() -> Db) {
    for (name, case) in CASES {
        eprintln!("case: {name}");
        case(&fresh());
    }
}

#[test]
fn sqlite_backend_passes_the_suite() {
    run_suite(sqlite_db);
}

#[test]
fn postgres_backend_passes_the_suite() {
    let Some(mut pg) = TestPostgres::start() else {
        return;
    };
    run_suite(|| pg.fresh_db());
}

fn read_back(db: &Db) {
    let mut log = log_with(db, 10);
    let head = log.head("a").expect("head");
    assert_eq!(head.seq, 10);
    assert_eq!(
        store::events(log.as_mut(), "a").expect("read"),
        events(1, 10, "p")
    );
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!((v.sound, v.head, v.broken), (10, head.hash, None));
}

fn stale_head(db: &Db) {
    let mut log = log_with(db, 3);
    let err = log
        .append("a", Head::EMPTY, &events(4, 2, "q"))
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
    assert_eq!(store::events(log.as_mut(), "a").expect("read").len(), 3);
}

fn append_following(db: &Db) {
    let mut log = log_with(db, 3);
    let known = log.head("a").expect("head");
    // Another writer moves the log on.
    let mut other = open(db);
    other
        .append("a", known, &events(4, 2, "other"))
        .expect("other append");
    // Declining writes nothing, but still hands over what was missed.
    let mut seen = Vec::new();
    let declined = log
        .append_following("a", known, &mut |missed| {
            seen = missed.iter().map(|r| r.seq).collect();
            Ok(None)
        })
        .expect("declined");
    assert_eq!((declined, seen), (None, vec![4, 5]));
    assert_eq!(log.head("a").expect("head").seq, 5);
    // Accepting writes after what was missed, chained to it.
    let head = log
        .append_following("a", known, &mut |missed| {
            assert_eq!(missed.len(), 2);
            Ok(Some(events(6, 1, "mine")))
        })
        .expect("appended")
        .expect("written");
    assert_eq!(head.seq, 6);
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!((v.sound, v.broken), (6, None));
    // Nothing missed: handed nothing.
    let head = log
        .append_following("a", head, &mut |missed| {
            assert!(missed.is_empty());
            Ok(Some(events(7, 1, "more")))
        })
        .expect("appended")
        .expect("written");
    assert_eq!(head.seq, 7);
    // An error from the caller rolls back: nothing written.
    let err = log
        .append_following("a", head, &mut |_| {
            Err(StoreError::Unavailable("changed its mind".into()))
        })
        .expect_err("refused");
    assert!(matches!(err, StoreError::Unavailable(_)));
    assert_eq!(log.head("a").expect("head").seq, 7);
}

fn isolation(db: &Db) {
    let mut log = log_with(db, 5);
    log.init_council("b", "redditch").expect("init b");
    let head_b = log.head("b").expect("head b");
    assert_eq!(head_b, Head::EMPTY, "b's chain starts from nothing");
    log.append("b", head_b, &events(1, 2, "b"))
        .expect("append b");
    assert_eq!(
        store::events(log.as_mut(), "a").expect("a"),
        events(1, 5, "p")
    );
    assert_eq!(
        store::events(log.as_mut(), "b").expect("b"),
        events(1, 2, "b")
    );
    assert_eq!(
        log.councils().expect("councils"),
        vec!["a".to_owned(), "b".to_owned()]
    );
    assert!(matches!(
        store::rows(log.as_mut(), "c").expect_err("no such council"),
        StoreError::NoSuchCouncil(_)
    ));
}

fn accounts(db: &Db) {
    let mut log = log_with(db, 2);
    log.init_council("b", "redditch").expect("init b");
    assert_eq!(log.account("a", "p1").expect("read"), None);
    log.save_account("a", "p1", r#"{"v":1}"#).expect("save");
    log.save_account("a", "p1", r#"{"v":2}"#).expect("replace");
    assert_eq!(
        log.account("a", "p1").expect("read").as_deref(),
        Some(r#"{"v":2}"#)
    );
    assert_eq!(log.account("b", "p1").expect("other council"), None);
    assert!(matches!(
        log.save_account("c", "p1", "{}")
            .expect_err("no such council"),
        StoreError::NoSuchCouncil(_)
    ));
    // Credentials never enter the hash chain.
    assert_eq!(log.head("a").expect("head").seq, 2);
    assert_eq!(
        store::verify(log.as_mut(), "a").expect("verify").broken,
        None
    );
}

fn texts(db: &Db) {
    let mut log = log_with(db, 2);
    log.init_council("b", "redditch").expect("init b");
    let text = "# Acceptable use\n\nDo not share your password.\n";
    let sha = log.save_text("a", text).expect("save");
    assert_eq!(sha, store::text_sha256(text));
    assert_eq!(sha.len(), 64);
    assert_eq!(
        log.save_text("a", text).expect("again"),
        sha,
        "the same address"
    );
    assert_eq!(log.text("a", &sha).expect("read").as_deref(), Some(text));
    assert_eq!(log.text("b", &sha).expect("other council"), None);
    let other = log.save_text("a", "# v2\n").expect("save v2");
    let mut both = vec![sha.clone(), other];
    both.sort();
    let listed: Vec<String> = log
        .texts("a")
        .expect("list")
        .into_iter()
        .map(|(s, _)| s)
        .collect();
    assert_eq!(listed, both);
    assert!(matches!(
        log.save_text("c", text).expect_err("no such council"),
        StoreError::NoSuchCouncil(_)
    ));
    assert_eq!(log.head("a").expect("head").seq, 2, "texts are not events");
}

fn provisioned(db: &Db) {
    let mut log = log_with(db, 2);
    log.init_council("b", "redditch").expect("init b");
    log.save_resource("a", "User", "u1", r#"{"userName":"jo"}"#)
        .expect("save");
    log.save_resource("a", "User", "u1", r#"{"userName":"jo.e"}"#)
        .expect("replace");
    log.save_resource("a", "Group", "u1", r#"{"displayName":"ICT"}"#)
        .expect("a group of the same id");
    assert_eq!(
        log.resource("a", "User", "u1").expect("read").as_deref(),
        Some(r#"{"userName":"jo.e"}"#)
    );
    assert_eq!(
        log.resource("b", "User", "u1").expect("other council"),
        None
    );
    assert_eq!(log.resources("a", "User").expect("list").len(), 1);
    assert!(log.delete_resource("a", "User", "u1").expect("delete"));
    assert!(!log.delete_resource("a", "User", "u1").expect("again"));
    assert_eq!(log.resources("a", "User").expect("list").len(), 0);
    assert_eq!(log.resources("a", "Group").expect("list").len(), 1);
    assert!(matches!(
        log.save_resource("c", "User", "u1", "{}")
            .expect_err("no such council"),
        StoreError::NoSuchCouncil(_)
    ));
    assert_eq!(
        log.head("a").expect("head").seq,
        2,
        "resources are not events"
    );
}

fn init_again(db: &Db) {
    let mut log = log_with(db, 1);
    log.init_council("a", "southend").expect("same pack again");
    let err = log.init_council("a", "sefton").expect_err("other pack");
    assert!(
        err.to_string()
            .contains("set up with pack `southend`, not `sefton`"),
        "{err}"
    );
    drop(log);
    // Opening again runs the migrations again: they must be no-ops.
    assert_eq!(open(db).head("a").expect("head").seq, 1);
}

fn full_replay(log: &mut dyn EventLog) -> domain::Estate {
    domain::timeline::fold(&store::events(log, "a").expect("events"))
}

/// A record that happened before the snapshot's latest event, and a void:
/// the snapshot cannot be continued, so the whole log is folded in `at` order.
fn snapshot_and_late_tail(db: &Db) {
    let mut log = log_with(db, 20);
    store::write_snapshot(log.as_mut(), "a").expect("snapshot");
    let mut late = events(21, 1, "late").remove(0);
    late.recorded = Some(late.at);
    late.at = events(3, 1, "x")[0].at;
    let head = log.head("a").expect("head");
    log.append("a", head, &[late]).expect("a late record");
    let loaded = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(loaded.from_snapshot, None);
    let warning = loaded.warning.expect("a warning");
    assert!(
        warning.contains("snapshot at event 20 set aside"),
        "{warning}"
    );
    assert_eq!(loaded.estate, full_replay(log.as_mut()));
    assert_eq!(loaded.estate.people.len(), 21);

    let void = domain::parse_event(
        r##"{"at":"2026-01-01T00:00:00Z","type":"event_voided","event":"#21","reason":"typed in error"}"##,
    )
    .expect("a void");
    let head = log.head("a").expect("head");
    log.append("a", head, &[void]).expect("void");
    let loaded = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(loaded.estate.people.len(), 20, "the voided joiner is gone");
    assert_eq!(loaded.estate, full_replay(log.as_mut()));
}

fn snapshot_and_tail(db: &Db) {
    let mut log = log_with(db, 20);
    let written = store::write_snapshot(log.as_mut(), "a").expect("snapshot");
    assert_eq!(written.head.seq, 20);
    let head = log.head("a").expect("head");
    log.append("a", head, &events(21, 5, "t")).expect("tail");
    let loaded = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(
        (loaded.from_snapshot, loaded.warning.as_deref()),
        (Some(20), None)
    );
    assert_eq!(loaded.head.seq, 25);
    assert_eq!(loaded.estate, full_replay(log.as_mut()));
    assert_eq!(loaded.estate.people.len(), 25);
    assert_eq!(loaded.last, events(25, 1, "t").first().map(|e| e.at));
}

/// More events than a replay's chunk, so that reading, decoding and folding
/// run at once; the result must be the plain fold, and a stored event that
/// no longer decodes must be named by its number, not skipped.
fn chunked_replay(db: &Db) {
    let start = jiff::Timestamp::from_second(1_743_465_600).expect("a time");
    let joined = (1..=10_000i64).map(|i| {
        let kind = domain::EventKind::PersonJoined(domain::event::PersonJoined {
            person: format!("p{i}").into(),
            name: "N".into(),
            kind: domain::PersonKind::Employee,
            email: None,
            household: None,
            term_ends: None,
            job: None,
            department: None,
            manager: None,
        });
        let at = start
            .checked_add(jiff::SignedDuration::from_secs(i))
            .expect("a time");
        Event::new(at, kind)
    });
    let mut log = open(db);
    log.init_council("a", "southend").expect("init");
    log.append("a", Head::EMPTY, &joined.collect::<Vec<_>>())
        .expect("append");
    let store::Replayed::Folded(estate, last) =
        store::replay(log.as_mut(), "a", 0, domain::Estate::default(), None).expect("replay")
    else {
        panic!("these events are in order")
    };
    assert_eq!(estate.people.len(), 10_000);
    assert_eq!(*estate, full_replay(log.as_mut()));
    assert_eq!(last.map(|t| t.as_second()), Some(1_743_475_600));
    // The one read, with hashes, across chunks: each row's hash links it to
    // the one before, and the last is the stored head.
    let rows = store::rows_after(log.as_mut(), "a", 4000).expect("rows");
    assert_eq!(rows.len(), 6000);
    assert_eq!(rows.first().map(|r| r.seq), Some(4001));
    let head = log.head("a").expect("head");
    assert_eq!(
        rows.last().map(|r| r.hash.clone()),
        Some(head.hash.to_string())
    );
    let decoded = store::events(log.as_mut(), "a").expect("events");
    assert_eq!(decoded.len(), 10_000);
    assert!(decoded.windows(2).all(|w| w[0].at < w[1].at), "in order");
    db.execute(r#"UPDATE events SET event = '{"type":"person_joined"}' WHERE seq = 9000"#);
    match store::replay(log.as_mut(), "a", 0, domain::Estate::default(), None) {
        Err(StoreError::Corrupt { seq, .. }) => assert_eq!(seq, 9000),
        other => panic!("expected event 9000 to be reported, got {other:?}"),
    }
}

fn snapshot_mismatch(db: &Db) {
    let mut log = log_with(db, 10);
    store::write_snapshot(log.as_mut(), "a").expect("snapshot");
    // Someone rewrites event 10 behind the store's back: the snapshot no
    // longer follows the log, so it must not be trusted.
    db.execute("UPDATE events SET hash = '0000000000000000000000000000000000000000000000000000000000000000' WHERE seq = 10");
    let loaded = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(loaded.from_snapshot, None);
    let warning = loaded.warning.expect("a warning");
    assert!(
        warning.contains("snapshot at event 10 discarded: event 10 has hash 000000"),
        "{warning}"
    );
    assert_eq!(loaded.estate, full_replay(log.as_mut()));
    // A snapshot beyond the log (events deleted since) is refused too.
    db.execute("UPDATE events SET hash = (SELECT hash FROM snapshots) WHERE seq = 10; DELETE FROM events WHERE seq > 8");
    let warning = store::load_estate(log.as_mut(), "a")
        .expect("load")
        .warning
        .expect("warning");
    // (The head beside the log still says 10: the snapshot names an event
    // the log no longer has.)
    assert!(warning.contains("event 10 is not in the log"), "{warning}");
}

/// The state edited in place, its sequence number and hash kept: the state
/// still reads, and names an event the log holds, but its digest no longer
/// matches, so it is discarded and the log folded instead.
fn snapshot_edited(db: &Db) {
    let mut log = log_with(db, 10);
    store::write_snapshot(log.as_mut(), "a").expect("snapshot");
    let honest = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(honest.from_snapshot, Some(10), "a sound snapshot is used");
    assert_eq!(
        store::snapshot_warning(log.as_mut(), "a").expect("check"),
        None
    );
    // Everyone renamed: the state still reads, but is not the log's.
    let stored = log.load_snapshot("a").expect("load").expect("snapshot");
    db.execute(
        "UPDATE snapshots SET state = replace(state, '\"name\":\"N\"', '\"name\":\"Someone Else\"')",
    );
    let edited = log.load_snapshot("a").expect("load").expect("snapshot");
    assert_ne!(edited.state, stored.state, "the edit took");
    assert_eq!((edited.seq, &edited.hash), (stored.seq, &stored.hash));
    let loaded = store::load_estate(log.as_mut(), "a").expect("load");
    assert_eq!(loaded.from_snapshot, None);
    let warning = loaded.warning.expect("a warning");
    assert!(
        warning.contains("its digest does not match its state"),
        "{warning}"
    );
    assert_eq!(
        loaded.estate, honest.estate,
        "the log's state, not the edited one"
    );
    let said = store::snapshot_warning(log.as_mut(), "a")
        .expect("check")
        .expect("a warning");
    assert!(
        said.contains("snapshot at event 10 is not trusted"),
        "{said}"
    );
}

/// Deletions at the end, which the chain alone cannot see, found against
/// the head kept beside the log; an anchor kept outside checked too.
fn deletions_at_the_end(db: &Db) {
    let mut log = log_with(db, 8);
    let head = log.head("a").expect("head");
    assert_eq!(head.seq, 8);
    let sound = store::verify_against(log.as_mut(), "a", Some(head)).expect("verify");
    assert_eq!(sound.broken, None, "sound, and holding its own head");

    db.execute("DELETE FROM events WHERE seq = 8");
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!(v.broken, Some(Break::Truncated { head: 8, last: 7 }));

    db.execute("DELETE FROM events WHERE council = 'a'");
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!(v.broken, Some(Break::Truncated { head: 8, last: 0 }));
    assert!(
        v.broken
            .expect("broken")
            .to_string()
            .contains("every event is missing")
    );
}

fn a_council_row_deleted(db: &Db) {
    let mut log = log_with(db, 3);
    // Behind the store's back, past the foreign keys.
    let sql = if db.url().starts_with("sqlite:") {
        "PRAGMA foreign_keys = OFF; DELETE FROM councils WHERE id = 'a'"
    } else {
        "SET session_replication_role = replica; DELETE FROM councils WHERE id = 'a'"
    };
    db.execute(sql);
    assert_eq!(log.councils().expect("councils"), Vec::<String>::new());
    assert_eq!(
        log.event_councils().expect("with events"),
        vec!["a".to_owned()]
    );
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!(v.broken, Some(Break::NoCouncil));
}

fn an_anchor_the_log_no_longer_holds(db: &Db) {
    let mut log = log_with(db, 5);
    let anchor = log.head("a").expect("head");
    // Rewritten wholesale, chain and head, by someone with write access:
    // consistent in itself, but not with the anchor kept elsewhere.
    let other = events(1, 6, "x");
    db.execute("DELETE FROM events WHERE council = 'a'; UPDATE councils SET head_seq = 0, head_hash = '0000000000000000000000000000000000000000000000000000000000000000' WHERE id = 'a'");
    log.append("a", Head::EMPTY, &other).expect("rewrite");
    assert_eq!(
        store::verify(log.as_mut(), "a").expect("verify").broken,
        None
    );
    let v = store::verify_against(log.as_mut(), "a", Some(anchor)).expect("verify");
    assert!(
        matches!(
            &v.broken,
            Some(Break::Anchor {
                seq: 5,
                found: Some(_),
                ..
            })
        ),
        "{:?}",
        v.broken
    );
    let beyond = Head { seq: 9, ..anchor };
    let v = store::verify_against(log.as_mut(), "a", Some(beyond)).expect("verify");
    assert!(matches!(
        &v.broken,
        Some(Break::Anchor {
            seq: 9,
            found: None,
            ..
        })
    ));
}

fn tamper(db: &Db, sql: &str, expected: Break) {
    let mut log = log_with(db, 8);
    db.execute(sql);
    let v = store::verify(log.as_mut(), "a").expect("verify");
    let broken = v.broken.unwrap_or_else(|| panic!("not detected: {sql}"));
    match (&broken, &expected) {
        (Break::Mismatch { seq, .. }, Break::Mismatch { seq: want, .. }) => {
            assert_eq!(seq, want, "{broken}")
        }
        (got, want) => assert_eq!(got, want),
    }
    assert_eq!(
        v.sound,
        expected.seq() - 1,
        "events before the break are sound"
    );
}

fn mismatch(seq: u64) -> Break {
    Break::Mismatch {
        seq,
        expected: String::new(),
        found: String::new(),
    }
}

/// Reads `done SEQ ID` lines from a writer.
fn reported(line: &str) -> Option<(u64, String)> {
    let mut parts = line.strip_prefix("done ")?.split(' ');
    Some((parts.next()?.parse().ok()?, parts.next()?.to_owned()))
}

/// A writer killed with SIGKILL at random points, 50 times: every append it
/// reported is there, the chain verifies, and nothing half-written remains.
fn survives_sigkill(db: &Db) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut seed: u64 = 0x5EED;
    let mut reported_max = 0;
    for run in 0..50 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_store-writer"))
            .args([db.url(), "a".into(), format!("r{run}-")])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("writer starts");
        let stdout = child.stdout.take().expect("stdout");
        // Kill after a pseudo-random number of reported appends (0 to 40), so
        // kills land before the first append, between appends and mid-append.
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let wait_for = (seed >> 33) % 41;
        let mut lines = BufReader::new(stdout).lines();
        for _ in 0..wait_for {
            match lines
                .next()
                .and_then(Result::ok)
                .as_deref()
                .and_then(reported)
            {
                Some((seq, _)) => reported_max = reported_max.max(seq),
                None => break,
            }
        }
        child.kill().expect("SIGKILL");
        // Appends reported between our last read and the kill count too.
        for (seq, _) in lines.map_while(Result::ok).filter_map(|l| reported(&l)) {
            reported_max = reported_max.max(seq);
        }
        let _ = child.wait();
        let mut log = open(db);
        let v = store::verify(log.as_mut(), "a").expect("verify");
        assert_eq!(v.broken, None, "run {run}: chain broken");
        assert!(
            v.sound >= reported_max,
            "run {run}: {} stored, {reported_max} reported done",
            v.sound
        );
        assert_eq!(
            store::events(log.as_mut(), "a")
                .expect("every row decodes")
                .len() as u64,
            v.sound
        );
    }
    assert!(
        reported_max > 50,
        "the writer made progress across runs ({reported_max})"
    );
}

#[test]
fn sqlite_appends_survive_sigkill_at_random_points() {
    survives_sigkill(&sqlite_db());
}

#[test]
fn postgres_appends_survive_sigkill_at_random_points() {
    let Some(mut pg) = TestPostgres::start() else {
        return;
    };
    survives_sigkill(&pg.fresh_db());
}

/// Two processes append 200 events each to one PostgreSQL council at once:
/// nothing is lost, nothing is written twice, and the chain does not fork.
#[test]
fn two_postgres_writers_neither_lose_nor_fork() {
    use std::process::Command;
    let Some(mut pg) = TestPostgres::start() else {
        return;
    };
    let db = pg.fresh_db();
    open(&db).init_council("a", "southend").expect("init");
    let spawn = |prefix: &str| {
        Command::new(env!("CARGO_BIN_EXE_store-writer"))
            .args([db.url(), "a".into(), prefix.into(), "200".into()])
            .output()
    };
    let (one, two) = std::thread::scope(|s| {
        let one = s.spawn(|| spawn("x"));
        let two = s.spawn(|| spawn("y"));
        (
            one.join().expect("thread").expect("writer x"),
            two.join().expect("thread").expect("writer y"),
        )
    });
    for out in [&one, &two] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut seqs: Vec<u64> = [&one, &two]
        .iter()
        .flat_map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(reported)
                .map(|(s, _)| s)
                .collect::<Vec<_>>()
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=400).collect::<Vec<_>>(),
        "each reported append has its own place in the chain"
    );
    let mut log = open(&db);
    let v = store::verify(log.as_mut(), "a").expect("verify");
    assert_eq!((v.sound, v.broken), (400, None));
    let mut ids: Vec<String> = store::events(log.as_mut(), "a")
        .expect("read")
        .iter()
        .filter_map(|e| e.kind.person().map(|p| p.to_string()))
        .collect();
    ids.sort();
    let mut want: Vec<String> = (0..200)
        .flat_map(|i| [format!("x{i}"), format!("y{i}")])
        .collect();
    want.sort();
    assert_eq!(ids, want);
}
