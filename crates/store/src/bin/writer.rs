//! Appends events one at a time to a council's log, printing `done SEQ ID`
//! after each append has returned, until COUNT events are written (or
//! forever) or it is killed. On a conflict (another writer got there first)
//! it reads the head again and retries, as Warden's own writers do.
//!
//! Usage: store-writer DB_URL COUNCIL ID_PREFIX [COUNT]
//!
//! The crash test kills it at random points; the concurrency test runs two
//! at once against one PostgreSQL council.

use std::io::Write;
use store::StoreError;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(council), Some(prefix)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: store-writer DB_URL COUNCIL ID_PREFIX [COUNT]");
        std::process::exit(2);
    };
    let count = args
        .get(4)
        .and_then(|c| c.parse::<u64>().ok())
        .unwrap_or(u64::MAX);
    if let Err(e) = run(url, council, prefix, count) {
        eprintln!("store-writer: {e}");
        std::process::exit(1);
    }
}

fn run(
    url: &str,
    council: &str,
    prefix: &str,
    count: u64,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut log = store::open(url)?;
    log.init_council(council, "southend")?;
    let start: jiff::Timestamp = "2025-01-01T00:00:00Z".parse()?;
    let mut out = std::io::stdout().lock();
    let mut written = 0;
    while written < count {
        let head = log.head(council)?;
        let seq = head.seq + 1;
        let at = start.checked_add(jiff::SignedDuration::from_secs(i64::try_from(seq)?))?;
        let id = format!("{prefix}{written}");
        let line = format!(
            r#"{{"at":"{at}","type":"person_joined","person":"{id}","name":"Person {id}","kind":"employee"}}"#
        );
        let event = domain::parse_event(&line)?;
        match log.append(council, head, &[event]) {
            Ok(head) => {
                writeln!(out, "done {} {id}", head.seq)?;
                out.flush()?;
                written += 1;
            }
            Err(StoreError::Conflict { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}
