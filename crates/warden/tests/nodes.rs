//! A shared service: two `warden serve` processes on one real PostgreSQL
//! server. A write through one node is read through the other within a
//! second; fifty writers spread over both are all recorded (or refused for
//! a reason of the domain), never answered 503, and leave one sound chain
//! and the same findings on both nodes; PostgreSQL restarted under them,
//! both answer again within ten seconds, without a restart of their own, and
//! nothing they acknowledged is lost.
//!
//! The one and ten seconds are the issue's service levels, waited for with
//! a deadline (a slow machine passes early or fails late; it never measures
//! speed), so this test reads the monotonic clock.
#![allow(clippy::disallowed_methods)]

use reqwest::StatusCode;
use reqwest::blocking::Client;
use std::time::{Duration, Instant};
use test_utils::cli::{Node, council_with, ok};
use web::accounts::{Account, ApiToken, Scope, sha256_hex, token_text};

const COUNCIL: &str = "north";

/// The fixture council, through the CLI, and an API token for its ICT
/// administrator written beside the log.
fn council(db: &str) -> String {
    council_with(
        db,
        COUNCIL,
        concat!(
            r#"{"at":"2026-01-05T09:00:00Z","recorded":"2026-01-05T09:00:00Z","type":"person_joined","person":"p-ict","name":"Officer","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:01:00Z","recorded":"2026-01-05T09:01:00Z","type":"role_granted","person":"p-ict","role":"ict_admin"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:02:00Z","recorded":"2026-01-05T09:02:00Z","type":"mfa_enrolled","person":"p-ict","method":"authenticator_app"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:03:00Z","recorded":"2026-01-05T09:03:00Z","type":"person_joined","person":"p-member","name":"Cllr Member","kind":"councillor"}"#,
            "\n",
        ),
    );
    let secret = "0123456789abcdef0123456789abcdef";
    let mut account = Account::new("correct-horse-battery").expect("account");
    account.tokens.push(ApiToken {
        id: "t1".into(),
        name: "test".into(),
        sha256: sha256_hex(secret),
        scope: Scope::Write,
        created: "2026-01-05T09:00:00Z".parse().expect("time"),
        revoked: None,
    });
    let mut log = store::open(db).expect("open");
    log.save_account(
        COUNCIL,
        "p-ict",
        &serde_json::to_string(&account).expect("json"),
    )
    .expect("save");
    token_text(COUNCIL, "p-ict", secret)
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("client")
}

fn post(client: &Client, node: &Node, token: &str, body: &str) -> StatusCode {
    client
        .post(format!("{}/api/v1/councils/{COUNCIL}/events", node.url))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .map(|r| r.status())
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE)
}

fn get(client: &Client, node: &Node, token: &str, path: &str) -> (StatusCode, String) {
    match client
        .get(format!("{}/api/v1/councils/{COUNCIL}{path}", node.url))
        .bearer_auth(token)
        .send()
    {
        Ok(res) => (res.status(), res.text().unwrap_or_default()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

fn ready(client: &Client, node: &Node) -> bool {
    client
        .get(format!("{}/readyz", node.url))
        .send()
        .is_ok_and(|r| r.status() == StatusCode::OK)
}

/// Every finding of the council as a node sees it, in a stable order.
fn findings(client: &Client, node: &Node, token: &str) -> Vec<serde_json::Value> {
    let (status, body) = get(client, node, token, "/findings?at=2026-12-01T00:00:00Z");
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut list: Vec<serde_json::Value> = serde_json::from_str(&body).expect("json");
    list.sort_by_key(|f| f.to_string());
    list
}

#[test]
fn two_nodes_on_one_postgres_follow_each_other_and_survive_a_restart() {
    let Some(mut pg) = test_utils::db::TestPostgres::start() else {
        return;
    };
    let db = pg.fresh_db().url();
    let token = council(&db);
    let (a, b) = (Node::start(&db), Node::start(&db));
    let http = client();

    // A write through A is read through B within a second.
    let body = r#"{"type":"person_joined","person":"p-new","name":"New Starter","kind":"employee","at":"2026-02-02T09:00:00Z"}"#;
    assert_eq!(post(&http, &a, &token, body), StatusCode::CREATED);
    let written = Instant::now();
    loop {
        let (status, _) = get(&http, &b, &token, "/people/p-new");
        if status == StatusCode::OK {
            break;
        }
        assert!(
            written.elapsed() < Duration::from_secs(1),
            "B does not show A's starter after {:?}",
            written.elapsed()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    eprintln!("B read A's write after {:?}", written.elapsed());

    // Fifty writers over both nodes: each write recorded, none a 503, even
    // where two nodes race for the same head.
    let statuses: Vec<StatusCode> = std::thread::scope(|scope| {
        let writers: Vec<_> = (0..50)
            .map(|i| {
                let (node, http, token) = (if i % 2 == 0 { &a } else { &b }, &http, &token);
                scope.spawn(move || {
                    let body = format!(
                        r#"{{"id":"pw-{i}","type":"password_changed","person":"p-member","at":"2026-02-03T09:{:02}:00Z"}}"#,
                        i % 60
                    );
                    post(http, node, token, &body)
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| w.join().expect("writer"))
            .collect()
    });
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 50, "every write recorded: {statuses:?}");
    let verified = ok(&["verify", "--db", &db, "--council", COUNCIL]);
    assert!(verified.contains("55 events, chain sound"), "{verified}");
    for node in [&a, &b] {
        assert!(ready(&http, node), "{} is current", node.url);
    }
    assert_eq!(
        findings(&http, &a, &token),
        findings(&http, &b, &token),
        "both nodes say the same"
    );

    // PostgreSQL restarted under both nodes while writes go on: both answer
    // again within ten seconds, and every write they acknowledged is stored.
    let acknowledged = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            let mut acknowledged = Vec::new();
            let until = Instant::now() + Duration::from_secs(8);
            let mut i = 0;
            while Instant::now() < until {
                let node = if i % 2 == 0 { &a } else { &b };
                let body = format!(
                    r#"{{"id":"rs-{i}","type":"password_changed","person":"p-member","at":"2026-02-04T10:00:00Z"}}"#
                );
                let status = post(&http, node, &token, &body);
                assert!(
                    matches!(status, StatusCode::CREATED | StatusCode::SERVICE_UNAVAILABLE),
                    "{status} during the restart"
                );
                if status == StatusCode::CREATED {
                    acknowledged.push(format!("rs-{i}"));
                }
                i += 1;
                std::thread::sleep(Duration::from_millis(50));
            }
            eprintln!("{} of {i} writes acknowledged around the restart", acknowledged.len());
            acknowledged
        });
        std::thread::sleep(Duration::from_millis(500));
        pg.stop();
        std::thread::sleep(Duration::from_millis(500));
        for node in [&a, &b] {
            assert!(
                !ready(&http, node),
                "{} is not ready without its database",
                node.url
            );
        }
        std::thread::sleep(Duration::from_millis(1500));
        pg.start_again();
        let back = Instant::now();
        for node in [&a, &b] {
            while !ready(&http, node) {
                assert!(
                    back.elapsed() < Duration::from_secs(10),
                    "{} not ready 10 s after PostgreSQL came back",
                    node.url
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        eprintln!(
            "both nodes ready {:?} after PostgreSQL came back",
            back.elapsed()
        );
        writer.join().expect("writer")
    });
    assert!(
        !acknowledged.is_empty(),
        "some writes went through around the restart"
    );
    let exported = ok(&["export", "--db", &db, "--council", COUNCIL]);
    for id in &acknowledged {
        assert!(
            exported.contains(&format!(r#""id":"{id}""#)),
            "acknowledged write {id} is in the log"
        );
    }
    let verified = ok(&["verify", "--db", &db, "--council", COUNCIL]);
    assert!(verified.contains("chain sound"), "{verified}");
    assert_eq!(findings(&http, &a, &token), findings(&http, &b, &token));
}

/// Lines of a node's log that say how a council was loaded, or warn.
fn loaded(log: &std::path::Path) -> String {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .filter(|l| l.contains("council loaded") || l.contains("WARN"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn serve_starts_from_a_snapshot_plus_the_tail_and_discards_one_altered() {
    let dir = tempfile::tempdir().expect("temp");
    let path = dir.path().join("w.db");
    let db = format!("sqlite:{}", path.display());
    let token = council(&db);
    let import = |name: &str, text: &str| {
        let file = dir.path().join(name);
        std::fs::write(&file, text).expect("write");
        let file = file.display().to_string();
        ok(&[
            "import",
            "--db",
            &db,
            "--council",
            COUNCIL,
            "--recorded-as-happened",
            &file,
        ]);
    };
    import(
        "held.jsonl",
        concat!(
            r#"{"at":"2026-01-05T10:00:00Z","type":"device_registered","device":"lap-1","kind":"laptop","owner":"council"}"#,
            "\n",
            r#"{"at":"2026-01-05T10:01:00Z","type":"device_issued","device":"lap-1","person":"p-member"}"#,
            "\n",
        ),
    );
    let out = ok(&["snapshot", "--db", &db, "--council", COUNCIL]);
    assert!(out.starts_with("north: snapshot at event 6"), "{out}");
    // A tail after the snapshot: a councillor leaving with a laptop the
    // snapshot says they hold, and a starter.
    import(
        "tail.jsonl",
        concat!(
            r#"{"at":"2026-01-06T09:00:00Z","type":"person_joined","person":"p-late","name":"Late Starter","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-01-07T09:00:00Z","type":"person_left","person":"p-member"}"#,
            "\n",
        ),
    );
    let http = client();
    let log = dir.path().join("serve.log");

    let node = Node::start_logging(&db, &log);
    let from_snapshot = findings(&http, &node, &token);
    drop(node);
    let said = loaded(&log);
    assert!(
        said.contains("events=8") && said.contains("from_snapshot=6"),
        "{said}"
    );
    assert!(!said.contains("WARN"), "{said}");
    assert!(
        from_snapshot
            .iter()
            .any(|f| f["device"] == "lap-1" && f["status"] == "overdue"),
        "the tail's leaver is evaluated against the snapshot's estate: {from_snapshot:?}"
    );

    // The same state edited in place, its sequence number and hash kept:
    // discarded with a warning, and the whole log folded to the same findings.
    let conn = rusqlite::Connection::open(&path).expect("open");
    let edited = conn
        .execute(
            "UPDATE snapshots SET state = replace(state, 'Cllr Member', 'Cllr Membre')",
            [],
        )
        .expect("tamper");
    assert_eq!(edited, 1);
    drop(conn);
    let node = Node::start_logging(&db, &log);
    assert_eq!(findings(&http, &node, &token), from_snapshot);
    drop(node);
    let said = loaded(&log);
    assert!(
        said.contains("snapshot at event 6 discarded: its digest does not match"),
        "{said}"
    );
    assert!(!said.contains("from_snapshot"), "{said}");

    // No snapshot at all: the same findings.
    let conn = rusqlite::Connection::open(&path).expect("open");
    conn.execute("DELETE FROM snapshots", []).expect("delete");
    drop(conn);
    let node = Node::start_logging(&db, &log);
    assert_eq!(findings(&http, &node, &token), from_snapshot);
}
