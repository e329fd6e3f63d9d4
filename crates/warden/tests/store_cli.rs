//! The stored-log commands as a user runs them: init, import, check --council,
//! export, verify, against a real SQLite file.

use std::path::{Path, PathBuf};
use std::process::Command;
use test_utils::cli::{council_from_example, import_text, ok, root, succeeded, warden};

// The store's test support: throwaway SQLite files and a real PostgreSQL server.

struct Db {
    _dir: tempfile::TempDir,
    url: String,
    path: PathBuf,
}

fn db() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("warden.db");
    Db {
        url: format!("sqlite:{}", path.display()),
        path,
        _dir: dir,
    }
}

const YEAR_END: &str = "2026-03-31T17:00:00+01:00";

/// Imported as it was recorded (each line without `recorded` when it
/// happened), a log gives byte for byte the report its file gives.
#[test]
fn a_log_imported_as_recorded_gives_the_report_of_the_file() {
    let db = db();
    ok(&[
        "init",
        "--db",
        &db.url,
        "--council",
        "sefton",
        "--pack",
        "sefton",
    ]);
    ok(&[
        "import",
        "--db",
        &db.url,
        "--council",
        "sefton",
        "examples/sefton.jsonl",
        "--recorded-as-happened",
    ]);
    for format in ["json", "table"] {
        let check = |extra: &[&str]| {
            let mut args = vec!["check", "--at", YEAR_END, "--format", format];
            args.extend_from_slice(extra);
            warden(&args)
        };
        let stored = check(&["--db", &db.url, "--council", "sefton"]);
        let file = check(&["--pack", "sefton", "--events", "examples/sefton.jsonl"]);
        assert_eq!(stored.status.code(), file.status.code());
        assert_eq!(
            String::from_utf8_lossy(&stored.stdout),
            String::from_utf8_lossy(&file.stdout),
            "{format}"
        );
    }
    // Without the flag, the file's late line would be recorded before the
    // lines above it, which the import records now: refused, saying why.
    let out = import_text(
        &db.url,
        "sefton",
        concat!(
            r#"{"at":"2026-04-01T09:00:00+01:00","type":"person_joined","person":"z1","name":"Z","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-04-01T09:00:00+01:00","recorded":"2026-04-02T09:00:00+01:00","type":"password_changed","person":"z1"}"#,
            "\n",
        ),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("more.jsonl:2: recorded 2026-04-02T08:00:00Z, before"),
        "{stderr}"
    );
    assert!(stderr.contains("--recorded-as-happened"), "{stderr}");
}

#[test]
fn a_stored_log_gives_the_same_findings_as_the_file() {
    let db = db();
    council_from_example(&db.url, "mid-devon", "mid-devon");
    let stored = warden(&[
        "check",
        "--db",
        &db.url,
        "--council",
        "mid-devon",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    let file = warden(&[
        "check",
        "--pack",
        "mid-devon",
        "--events",
        "examples/mid-devon.jsonl",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    assert_eq!(stored.status.code(), file.status.code());
    same_findings_as_the_file(&stored.stdout, &file.stdout);
}

/// The findings of a stored log equal those of the file it was imported
/// from, field for field: imported `--recorded-as-happened`, each line
/// counts as recorded when it happened (or at its own `recorded`), just as
/// `check --events` reads the file.
fn same_findings_as_the_file(stored: &[u8], file: &[u8]) {
    let doc = |bytes: &[u8]| -> serde_json::Value {
        serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(bytes)))
    };
    let findings = |d: serde_json::Value| d["findings"].as_array().cloned().unwrap_or_default();
    let (stored, file) = (findings(doc(stored)), findings(doc(file)));
    assert!(!file.is_empty());
    assert_eq!(stored, file);
}

#[test]
fn an_import_with_any_bad_line_appends_nothing_and_lists_every_one() {
    let db = db();
    council_from_example(&db.url, "southend", "southend");
    let before = ok(&["verify", "--db", &db.url]);
    let out = import_text(
        &db.url,
        "southend",
        concat!(
            r#"{"at":"2026-04-01T09:00:00+01:00","type":"person_joined","person":"new1","name":"N","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-04-01T09:05:00+01:00","type":"person_left","person":"ghost"}"#,
            "\n",
            r#"{"at":"2020-01-01T09:00:00Z","type":"password_changed","person":"new1"}"#,
            "\n",
        ),
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("more.jsonl:2: person `ghost`"), "{stderr}");
    // A late record is placed in 2020, when new1 had not yet joined.
    assert!(
        stderr.contains("more.jsonl:3: person `new1` is not a person the log has introduced"),
        "{stderr}"
    );
    assert_eq!(
        ok(&["verify", "--db", &db.url]),
        before,
        "nothing was appended"
    );
}

#[test]
fn an_import_names_a_line_that_is_not_utf8_and_appends_nothing() {
    let db = db();
    council_from_example(&db.url, "southend", "southend");
    let before = ok(&["verify", "--db", &db.url]);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("latin1.jsonl");
    let mut bytes = br#"{"at":"2026-04-01T09:00:00+01:00","type":"person_joined","person":"new1","name":"N","kind":"employee"}"#.to_vec();
    bytes.extend_from_slice(b"\n{\"at\":\"2026-04-01T09:05:00+01:00\",\"type\":\"person_joined\",\"person\":\"new2\",\"name\":\"Ren\xe9e\",\"kind\":\"employee\"}\n");
    std::fs::write(&file, &bytes).expect("write");
    let out = warden(&[
        "import",
        "--db",
        &db.url,
        "--council",
        "southend",
        file.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("latin1.jsonl:2: not UTF-8 text"),
        "{stderr}"
    );
    assert_eq!(
        ok(&["verify", "--db", &db.url]),
        before,
        "nothing was appended"
    );
}

#[test]
fn an_import_continues_the_stored_state() {
    let db = db();
    council_from_example(&db.url, "southend", "southend");
    // c001-p00001 joined in the stored log, so leaving later refers to a known person.
    let out = succeeded(import_text(
        &db.url,
        "southend",
        r#"{"at":"2026-05-01T09:00:00+01:00","type":"person_left","person":"c001-p00001"}"#,
    ));
    assert!(out.contains("appended 1 events"), "{out}");
    // A record older than the stored log's last is placed when it happened.
    let out = succeeded(import_text(
        &db.url,
        "southend",
        r#"{"at":"2025-04-02T09:00:00+01:00","type":"password_changed","person":"c001-p00002"}"#,
    ));
    assert!(out.contains("appended 1 events"), "{out}");
    // One that contradicts what is stored after it is refused, naming it:
    // c001-p00003's leaving, back-dated to between their joining and a
    // device issued to them.
    let out = import_text(
        &db.url,
        "southend",
        r#"{"at":"2025-04-01T07:42:00+01:00","type":"person_left","person":"c001-p00003"}"#,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("more.jsonl:1: device_issued #") && stderr.contains("would then not fit"),
        "{stderr}"
    );
}

#[test]
fn a_snapshot_that_no_longer_matches_the_log_is_discarded_with_a_warning() {
    let db = db();
    council_from_example(&db.url, "southend", "southend");
    let out = ok(&["snapshot", "--db", &db.url, "--council", "southend"]);
    assert!(out.starts_with("southend: snapshot at event 833"), "{out}");
    // c001-p00001 is known only from the events the snapshot holds.
    let out = import_text(
        &db.url,
        "southend",
        r#"{"at":"2026-05-01T09:00:00+01:00","type":"person_left","person":"c001-p00001"}"#,
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty(), "no warning for a sound snapshot");
    // A snapshot that no longer matches the log is discarded, with a warning.
    let conn = rusqlite::Connection::open(&db.path).expect("open");
    conn.execute("UPDATE snapshots SET hash = 'ab'", [])
        .expect("tamper");
    drop(conn);
    let out = warden(&["snapshot", "--db", &db.url, "--council", "southend"]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: southend: snapshot at event 833 discarded"),
        "{stderr}"
    );

    // A state edited in place, its sequence number and hash kept: verify
    // says so (the chain itself is sound), and every reader discards it.
    ok(&["snapshot", "--db", &db.url, "--council", "southend"]);
    let conn = rusqlite::Connection::open(&db.path).expect("open");
    let edited = conn
        .execute(
            r#"UPDATE snapshots SET state = replace(state, '"left":', '"left_":')"#,
            [],
        )
        .expect("tamper");
    assert_eq!(edited, 1);
    drop(conn);
    let out = warden(&["verify", "--db", &db.url, "--council", "southend"]);
    assert_eq!(out.status.code(), Some(0), "the log is sound");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .contains("snapshot at event 834 is not trusted: its digest does not match its state"),
        "{stderr}"
    );
    let out = warden(&["snapshot", "--db", &db.url, "--council", "southend"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("its digest does not match"), "{stderr}");
    let out = warden(&["verify", "--db", &db.url, "--council", "southend"]);
    assert!(
        out.stderr.is_empty(),
        "rewritten: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn export_reimports_to_the_same_chain_head() {
    let db = db();
    council_from_example(&db.url, "a", "redditch");
    let exported = ok(&["export", "--db", &db.url, "--council", "a"]);
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, &exported).expect("write");
    ok(&[
        "init",
        "--db",
        &db.url,
        "--council",
        "b",
        "--pack",
        "redditch",
    ]);
    ok(&[
        "import",
        "--db",
        &db.url,
        "--council",
        "b",
        file.to_str().expect("utf-8"),
        // An export holds the times each event was recorded; lines recorded
        // as they happened carry none.
        "--recorded-as-happened",
    ]);
    let verified = ok(&["verify", "--db", &db.url]);
    let heads: Vec<&str> = verified
        .lines()
        .filter_map(|l| l.rsplit_once("head ").map(|(_, h)| h))
        .collect();
    assert_eq!(heads.len(), 2, "{verified}");
    assert_eq!(heads[0], heads[1], "{verified}");
    assert_eq!(ok(&["export", "--db", &db.url, "--council", "b"]), exported);
}

#[test]
fn verify_exits_one_and_names_the_event_that_was_altered() {
    let db = db();
    council_from_example(&db.url, "mid-devon", "mid-devon");
    let conn = rusqlite::Connection::open(&db.path).expect("open");
    conn.execute("UPDATE events SET event = event || ' ' WHERE seq = 17", [])
        .expect("tamper");
    drop(conn);
    let out = warden(&["verify", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("mid-devon: BROKEN: event 17 is not what was written"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(16 events from the first are sound)"),
        "{stdout}"
    );
}

#[test]
fn councils_in_one_database_are_isolated() {
    let db = db();
    ok(&[
        "init",
        "--db",
        &db.url,
        "--council",
        "a",
        "--pack",
        "southend",
    ]);
    ok(&[
        "init",
        "--db",
        &db.url,
        "--council",
        "b",
        "--pack",
        "southend",
    ]);
    ok(&[
        "import",
        "--db",
        &db.url,
        "--council",
        "a",
        "examples/southend.jsonl",
        "--recorded-as-happened",
    ]);
    assert_eq!(ok(&["export", "--db", &db.url, "--council", "b"]), "");
    let out = ok(&[
        "check",
        "--db",
        &db.url,
        "--council",
        "b",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    assert!(out.contains("\"findings\": []"), "{out}");
}

#[test]
fn store_errors_say_what_to_do() {
    let db = db();
    let out = warden(&["check", "--db", &db.url, "--council", "nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("council `nobody` is not in this database: run `warden init`")
    );
    // Nothing listens on port 1: the error names the database and says why.
    let out = warden(&["verify", "--db", "postgres://warden@127.0.0.1:1/warden"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: postgres://warden@127.0.0.1:1/warden: PostgreSQL:"),
        "{stderr}"
    );
    let out = warden(&["verify", "--db", "mysql://x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("expected sqlite:PATH"));
}

/// The documented third-party check: a few lines of Python over an export
/// arrive at the head `warden verify` reports.
#[test]
fn the_python_script_in_the_docs_recomputes_the_same_head() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipped: no python3 on this machine to run scripts/verify-chain.py");
        return;
    }
    let db = db();
    council_from_example(&db.url, "ll", "leighton-linslade");
    let dir = tempfile::tempdir().expect("temp");
    let file = dir.path().join("export.jsonl");
    std::fs::write(&file, ok(&["export", "--db", &db.url, "--council", "ll"])).expect("write");
    let out = Command::new("python3")
        .arg(root().join("scripts/verify-chain.py"))
        .arg(&file)
        .output()
        .expect("python runs");
    let script = String::from_utf8_lossy(&out.stdout);
    let (count, head) = script.trim().split_once(' ').expect("COUNT HEAD");
    let verified = ok(&["verify", "--db", &db.url, "--council", "ll"]);
    assert!(
        verified.contains(&format!("ll: {count} events, chain sound, head {head}")),
        "{verified} vs {script}"
    );
}

/// The same commands against a real PostgreSQL server give the same findings
/// as the file, and the chain verifies.
#[test]
fn a_postgres_log_gives_the_same_findings_as_the_file() {
    let Some(mut pg) = test_utils::db::TestPostgres::start() else {
        return;
    };
    let url = pg.fresh_db().url();
    council_from_example(&url, "redditch", "redditch");
    let stored = warden(&[
        "check",
        "--db",
        &url,
        "--council",
        "redditch",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    let file = warden(&[
        "check",
        "--pack",
        "redditch",
        "--events",
        "examples/redditch.jsonl",
        "--at",
        YEAR_END,
        "--format",
        "json",
    ]);
    assert_eq!(stored.status.code(), file.status.code());
    same_findings_as_the_file(&stored.stdout, &file.stdout);
    let verified = ok(&["verify", "--db", &url]);
    assert!(verified.starts_with("redditch: "), "{verified}");
    assert!(verified.contains("chain sound"), "{verified}");
}

/// Two councils backed up from SQLite restore, to the same chain heads and
/// the same exports, into an empty SQLite file and into PostgreSQL.
#[test]
fn backup_and_restore_round_trip_across_backends() {
    let source = db();
    for (council, pack) in [("southend", "southend"), ("sefton", "sefton")] {
        ok(&[
            "init",
            "--db",
            &source.url,
            "--council",
            council,
            "--pack",
            pack,
        ]);
        ok(&[
            "import",
            "--db",
            &source.url,
            "--council",
            council,
            &format!("examples/{pack}.jsonl"),
            // Sefton's example holds a late record and a void: recorded as
            // the file says, they go through backup and restore as they are.
            "--recorded-as-happened",
        ]);
    }
    let dir = tempfile::tempdir().expect("temp");
    let archive = dir.path().join("warden.backup");
    let out = ok(&[
        "backup",
        "--db",
        &source.url,
        "--out",
        archive.to_str().expect("utf-8"),
    ]);
    assert!(
        out.contains("sefton (") && out.contains("southend ("),
        "{out}"
    );
    let expected = ok(&["verify", "--db", &source.url]);

    let sqlite_target = db();
    let mut targets = vec![sqlite_target.url.clone()];
    // Kept alive to the end of the test: dropping it stops the server.
    let mut pg = test_utils::db::TestPostgres::start();
    if let Some(pg) = pg.as_mut() {
        targets.push(pg.fresh_db().url());
    }
    run_restores(&targets, &archive, &expected, &source);
}

fn run_restores(targets: &[String], archive: &Path, expected: &str, source: &Db) {
    for target in targets {
        ok(&[
            "restore",
            "--db",
            target,
            "--from",
            archive.to_str().expect("utf-8"),
        ]);
        assert_eq!(ok(&["verify", "--db", target]), expected, "{target}");
        for council in ["southend", "sefton"] {
            assert_eq!(
                ok(&["export", "--db", target, "--council", council]),
                ok(&["export", "--db", &source.url, "--council", council]),
                "{target} {council}"
            );
        }
        // Restoring again over the same councils is refused.
        let again = warden(&[
            "restore",
            "--db",
            target,
            "--from",
            archive.to_str().expect("utf-8"),
        ]);
        assert_eq!(again.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&again.stderr).contains("already holds council"));
    }
}

#[test]
fn a_damaged_archive_is_refused_at_its_line_and_nothing_is_restored() {
    let source = db();
    council_from_example(&source.url, "mid-devon", "mid-devon");
    // A policy text published from the web, kept beside the log.
    let policy_text = "# ICT Security Policy 2.0\n\nReviewed every two years.\n";
    let sha = store::open(&source.url)
        .expect("open")
        .save_text("mid-devon", policy_text)
        .expect("save text");
    let dir = tempfile::tempdir().expect("temp");
    let archive = dir.path().join("warden.backup");
    ok(&[
        "backup",
        "--db",
        &source.url,
        "--out",
        archive.to_str().expect("utf-8"),
    ]);
    let text = std::fs::read_to_string(&archive).expect("archive");
    let cases = [
        (
            "an altered event",
            text.replacen("\"kind\":\"employee\"", "\"kind\":\"councillor\"", 1),
            "chain to",
        ),
        (
            "a missing event",
            text.lines()
                .enumerate()
                .filter(|(i, _)| *i != 5)
                .map(|(_, l)| format!("{l}\n"))
                .collect(),
            "the archive holds 1 events fewer than its header says",
        ),
        (
            "an altered policy text",
            text.replacen("every two years", "every five years", 1),
            "does not have the SHA-256",
        ),
        (
            "a non-canonical event",
            text.replacen("{\"at\"", "{ \"at\"", 2),
            "warden.backup:2: the event is not in canonical form",
        ),
    ];
    for (name, damaged, reason) in &cases {
        std::fs::write(&archive, damaged).expect("write");
        let target = db();
        let out = warden(&[
            "restore",
            "--db",
            &target.url,
            "--from",
            archive.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("warden.backup:"),
            "{name}: the error names the file and line: {stderr}"
        );
        assert!(stderr.contains(reason), "{name}: {stderr}");
        assert_eq!(
            ok(&["verify", "--db", &target.url]),
            "",
            "{name}: nothing restored"
        );
    }
    // Whole, the archive restores the text under its digest.
    std::fs::write(&archive, &text).expect("write");
    let target = db();
    ok(&[
        "restore",
        "--db",
        &target.url,
        "--from",
        archive.to_str().expect("utf-8"),
    ]);
    let restored = store::open(&target.url)
        .expect("open")
        .text("mid-devon", &sha)
        .expect("read");
    assert_eq!(restored.as_deref(), Some(policy_text));
}

/// Deleting the last event, every event, or the council's row is found by
/// `verify` (exit 1); `head` prints what to keep outside, and `verify
/// --expect` checks it.
#[test]
fn verify_finds_deletions_at_the_end_and_checks_an_anchor() {
    let db = db();
    council_from_example(&db.url, "mid-devon", "mid-devon");
    let head = ok(&["head", "--db", &db.url, "--council", "mid-devon"]);
    let head = head.trim().to_owned();
    let (seq, hash) = head.split_once(':').expect("SEQ:HASH");
    assert_eq!(hash.len(), 64, "{head}");
    let out = ok(&[
        "verify",
        "--db",
        &db.url,
        "--council",
        "mid-devon",
        "--expect",
        &head,
    ]);
    assert!(out.contains("chain sound"), "{out}");

    let broken = |sql: &str, words: &str| {
        let conn = rusqlite::Connection::open(&db.path).expect("open");
        conn.execute_batch(sql).expect("tamper");
        drop(conn);
        let out = warden(&["verify", "--db", &db.url]);
        assert_eq!(out.status.code(), Some(1), "{sql}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains(words), "{sql}: {stdout}");
    };
    broken(
        &format!("DELETE FROM events WHERE seq = {seq}"),
        &format!("mid-devon: BROKEN: events {seq} to {seq} are missing"),
    );
    broken(
        "DELETE FROM events",
        "mid-devon: BROKEN: every event is missing",
    );
    let bad = warden(&[
        "verify",
        "--db",
        &db.url,
        "--council",
        "mid-devon",
        "--expect",
        "12:zz",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not SEQ:HASH"));

    let db = self::db();
    council_from_example(&db.url, "ll", "leighton-linslade");
    let conn = rusqlite::Connection::open(&db.path).expect("open");
    conn.execute_batch("PRAGMA foreign_keys = OFF; DELETE FROM councils WHERE id = 'll'")
        .expect("tamper");
    drop(conn);
    let out = warden(&["verify", "--db", &db.url]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("ll: BROKEN: events are stored for this council, but it has no councils row"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
