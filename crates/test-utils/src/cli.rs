//! What the CLI tests share: running the real binary from the repository root.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

pub fn root() -> PathBuf {
    crate::packs::repo_root()
}

/// The path of a binary of the workspace that Cargo built for the tests
/// running now: beside the `deps` folder that holds this test executable
/// (Cargo builds a package's binaries before its integration tests).
pub fn cargo_bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable");
    let dir = exe
        .parent()
        .map(|deps| {
            if deps.ends_with("deps") {
                deps.parent().unwrap_or(deps)
            } else {
                deps
            }
        })
        .expect("a folder");
    dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// The `warden` binary.
pub fn warden_bin() -> PathBuf {
    cargo_bin("warden")
}

/// Runs `warden` with `args` from the repository root.
pub fn warden(args: &[&str]) -> Output {
    Command::new(warden_bin())
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

/// Registers `council` with Southend's pack and imports `text` into it.
pub fn council_with(url: &str, council: &str, text: &str) {
    ok(&[
        "init",
        "--db",
        url,
        "--council",
        council,
        "--pack",
        "southend",
    ]);
    succeeded(import_text(url, council, text));
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
        "--recorded-as-happened",
    ]);
}

/// The key the tests' services seal TOTP secrets with.
pub const TOTP_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// A `warden serve` process on loopback, stopped when dropped.
pub struct Node {
    child: Child,
    pub url: String,
}

impl Node {
    pub fn start(db: &str) -> Node {
        Node::start_with(db, &[])
    }

    /// `warden serve` with more flags (`--config FILE`).
    pub fn start_with(db: &str, extra: &[&str]) -> Node {
        Node::spawn(db, extra, Stdio::null())
    }

    /// `warden serve`, its log lines (standard error) written to `log`.
    pub fn start_logging(db: &str, log: &std::path::Path) -> Node {
        let file = std::fs::File::create(log).expect("log file");
        Node::spawn(db, &[], Stdio::from(file))
    }

    fn spawn(db: &str, extra: &[&str], stderr: Stdio) -> Node {
        let mut child = Command::new(warden_bin())
            .args([
                "serve",
                "--db",
                db,
                "--listen",
                "127.0.0.1:0",
                "--secure-cookies",
                "false",
            ])
            .args(extra)
            .env("WARDEN_TOTP_KEY", TOTP_KEY)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("warden serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("a line");
        let url = line
            .trim()
            .rsplit_once(" at ")
            .map(|(_, url)| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| panic!("serve said: {line}"));
        Node { child, url }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
