//! The floor of the streaming `check` benchmark (issue: shared service):
//! read every line of a JSONL log and parse it with serde_json into a typed
//! event, nothing else. `scripts/bench-check` times `warden check` on the
//! same file beside it.
//!
//! Run: target/release/examples/bench_check FILE

// Wall-clock timing is what a benchmark is for; the domain never reads it.
#![allow(clippy::disallowed_methods)]

use std::io::BufRead;
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench_check FILE");
        std::process::exit(2);
    };
    let start = Instant::now();
    let file = std::fs::File::open(&path).expect("open");
    let mut reader = std::io::BufReader::with_capacity(1 << 16, file);
    let (mut events, mut bad) = (0usize, 0usize);
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line).expect("read") > 0 {
        match std::str::from_utf8(&line).ok().map(domain::parse_event) {
            Some(Ok(_)) => events += 1,
            _ => bad += 1,
        }
        line.clear();
    }
    println!(
        "floor: {events} events parsed ({bad} lines not) in {:.3} s",
        start.elapsed().as_secs_f64()
    );
}
