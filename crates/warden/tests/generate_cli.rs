//! `warden generate` as a user runs it: real files, a real SQLite store.

use test_utils::cli::{ok, warden};

fn path(dir: &tempfile::TempDir, name: &str) -> String {
    dir.path().join(name).to_str().expect("utf-8").to_owned()
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_check_accepts_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b) = (path(&dir, "a.jsonl"), path(&dir, "b.jsonl"));
    let args = |out: &str| {
        [
            "generate",
            "--councils",
            "3",
            "--people",
            "40",
            "--years",
            "3",
            "--seed",
            "11",
            "--pack",
            "southend",
            "--out",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([out.to_owned()])
        .collect::<Vec<_>>()
    };
    let args_a = args(&a);
    let args_b = args(&b);
    ok(&args_a.iter().map(String::as_str).collect::<Vec<_>>());
    ok(&args_b.iter().map(String::as_str).collect::<Vec<_>>());
    let (text_a, text_b) = (std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
    assert!(text_a == text_b, "same seed, different bytes");
    let ids: std::collections::BTreeSet<&str> = ["c001-", "c002-", "c003-"].into();
    let text = String::from_utf8_lossy(&text_a);
    for id in ids {
        assert!(text.contains(id), "no events of council {id}");
    }
    // Every council's events in one file, checkable with the one pack:
    // findings (exit 1), not bad input (exit 2).
    let out = warden(&[
        "check",
        "--pack",
        "southend",
        "--events",
        &a,
        "--at",
        "2026-04-01T00:00:00+01:00",
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn per_council_files_name_each_councils_pack_and_the_store_takes_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let folder = path(&dir, "councils");
    ok(&[
        "generate",
        "--councils",
        "6",
        "--people",
        "30",
        "--years",
        "2",
        "--per-council",
        &folder,
    ]);
    let index = std::fs::read_to_string(dir.path().join("councils/councils.tsv")).expect("index");
    let packs: Vec<&str> = index
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(
        packs,
        [
            "southend",
            "redditch",
            "sefton",
            "mid-devon",
            "leighton-linslade",
            "southend"
        ]
    );
    for (i, pack) in packs.iter().enumerate() {
        let file = dir.path().join(format!("councils/c{:03}.jsonl", i + 1));
        let file = file.to_str().expect("utf-8");
        let out = warden(&["check", "--pack", pack, "--events", file]);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Straight into a store: every chain verifies, each council has its pack.
    let db = format!("sqlite:{}", path(&dir, "w.db"));
    ok(&[
        "generate",
        "--councils",
        "3",
        "--people",
        "30",
        "--years",
        "2",
        "--db",
        &db,
    ]);
    let verified = ok(&["verify", "--db", &db]);
    assert_eq!(verified.matches("chain sound").count(), 3, "{verified}");
    // A database that already holds one of the councils is refused before
    // anything is written: c001 must not appear when c002 is in the way.
    let busy = format!("sqlite:{}", path(&dir, "busy.db"));
    ok(&[
        "init",
        "--db",
        &busy,
        "--council",
        "c002",
        "--pack",
        "southend",
    ]);
    ok(&[
        "import",
        "--db",
        &busy,
        "--council",
        "c002",
        "examples/southend.jsonl",
        "--recorded-as-happened",
    ]);
    let before = ok(&["verify", "--db", &busy]);
    let refused = warden(&[
        "generate",
        "--councils",
        "3",
        "--people",
        "30",
        "--years",
        "2",
        "--db",
        &busy,
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("already holds council(s) c002"), "{stderr}");
    assert_eq!(
        ok(&["verify", "--db", &busy]),
        before,
        "nothing was written"
    );
    let exported = ok(&["export", "--db", &db, "--council", "c002"]);
    let file = std::fs::read_to_string(dir.path().join("councils/c002.jsonl")).expect("c002");
    // An export names each event; line N's `#N` is its place, implied.
    let unnamed: String = exported
        .lines()
        .enumerate()
        .map(|(i, line)| line.replacen(&format!(",\"id\":\"#{}\"", i + 1), "", 1) + "\n")
        .collect();
    assert_ne!(unnamed, exported, "the export names its events");
    assert_eq!(
        unnamed, file,
        "the store holds what the file holds for the same spec"
    );
}

#[test]
fn bad_arguments_write_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = path(&dir, "x.jsonl");
    for bad in [
        vec!["generate", "--years", "0", "--out", &out_file],
        vec!["generate", "--councils", "0", "--out", &out_file],
        vec!["generate", "--pack", "no-such-pack", "--out", &out_file],
    ] {
        let out = warden(&bad);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(
            !String::from_utf8_lossy(&out.stderr).is_empty(),
            "{bad:?}: says why"
        );
        assert!(!dir.path().join("x.jsonl").exists(), "{bad:?} wrote a file");
    }
}
