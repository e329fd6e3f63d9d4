//! Appends one event at a time to a council's log, printing `done SEQ` after
//! each append has returned, until it is killed. The crash test kills it at
//! random points and then checks that every reported append is there.
//!
//! Usage: store-crash-writer DB_PATH COUNCIL

use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(council)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: store-crash-writer DB_PATH COUNCIL");
        std::process::exit(2);
    };
    if let Err(e) = run(path, council) {
        eprintln!("store-crash-writer: {e}");
        std::process::exit(1);
    }
}

fn run(path: &str, council: &str) -> Result<(), Box<dyn std::error::Error>> {
    use store::EventLog;
    let mut log = store::SqliteLog::open(path)?;
    log.init_council(council, "southend")?;
    let start: jiff::Timestamp = "2025-01-01T00:00:00Z".parse()?;
    let mut out = std::io::stdout().lock();
    loop {
        let head = log.head(council)?;
        let seq = head.seq + 1;
        let at = start.checked_add(jiff::SignedDuration::from_secs(i64::try_from(seq)?))?;
        let line = format!(
            r#"{{"at":"{at}","type":"person_joined","person":"p{seq}","name":"Person {seq}","kind":"employee"}}"#
        );
        let event = domain::parse_event(&line)?;
        let head = log.append(council, head, &[event])?;
        writeln!(out, "done {}", head.seq)?;
        out.flush()?;
    }
}
