//! What the CLI tests share: running the real binary from the repository root.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `warden` with `args` from the repository root.
pub fn warden(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_warden"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("warden runs")
}

/// Runs `warden`, requires exit 0, and returns its standard output.
pub fn ok(args: &[&str]) -> String {
    let out = warden(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Requires exit 0 and returns the standard output.
pub fn succeeded(out: Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `text` to a file named `more.jsonl` and imports it into `council`.
pub fn import_text(url: &str, council: &str, text: &str) -> Output {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("more.jsonl");
    std::fs::write(&file, text).expect("write");
    warden(&[
        "import",
        "--db",
        url,
        "--council",
        council,
        file.to_str().expect("utf-8"),
    ])
}

/// Registers `council` in the database at `url` with `pack`, and imports
/// that pack's example log.
pub fn council_from_example(url: &str, council: &str, pack: &str) {
    ok(&["init", "--db", url, "--council", council, "--pack", pack]);
    ok(&[
        "import",
        "--db",
        url,
        "--council",
        council,
        &format!("examples/{pack}.jsonl"),
    ]);
}
