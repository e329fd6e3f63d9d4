//! A log read as a stream gives the findings of the log held whole, for
//! every council's example and at instants through its year; a log the
//! stream cannot take (a late record, a void, a line that does not fit)
//! is handed back to be read whole, at that event.

use test_utils::packs;

use domain::{Event, parse_event};
use jiff::Timestamp;
use packs::{calendar, pack, repo_root};
use rules::{Step, Stream, evaluate_as_known};

const COUNCILS: [&str; 5] = [
    "southend",
    "redditch",
    "sefton",
    "mid-devon",
    "leighton-linslade",
];

fn example(council: &str) -> Vec<Event> {
    let path = repo_root()
        .join("examples")
        .join(format!("{council}.jsonl"));
    let text = std::fs::read_to_string(&path).expect("example");
    let pack = pack(council);
    domain::read_log(&text, &pack)
        .expect("a sound example")
        .into_iter()
        .map(|l| l.event)
        .collect()
}

fn t(text: &str) -> Timestamp {
    text.parse().expect("time")
}

/// The stream's findings, or the place of the event it handed back.
fn streamed(
    council: &str,
    log: &[Event],
    at: Timestamp,
    known_at: Option<Timestamp>,
) -> Result<Vec<rules::Finding>, usize> {
    let pack = pack(council);
    let calendar = calendar(&pack);
    let mut stream = Stream::new(&pack, &calendar, at, known_at);
    for (i, event) in log.iter().enumerate() {
        if stream.push(&mut event.clone()) == Step::Whole {
            return Err(i);
        }
    }
    Ok(stream.finish().0)
}

#[test]
fn a_stream_gives_the_findings_of_the_whole_log() {
    let instants = [
        ("2025-04-01T00:00:00Z", None),
        (
            "2025-10-01T12:00:00+01:00",
            Some("2025-10-01T12:00:00+01:00"),
        ),
        ("2026-03-31T17:00:00+01:00", None),
        ("2026-03-31T17:00:00+01:00", Some("2026-01-01T00:00:00Z")),
        ("2027-01-01T00:00:00Z", None),
    ];
    let mut taken = 0;
    for council in COUNCILS {
        let log = example(council);
        let pack = pack(council);
        let calendar = calendar(&pack);
        for (at, known_at) in instants {
            let (at, known_at) = (t(at), known_at.map(t));
            match streamed(council, &log, at, known_at) {
                Ok(findings) => {
                    taken += 1;
                    assert_eq!(
                        findings,
                        evaluate_as_known(&pack, &calendar, &log, at, known_at),
                        "{council} at {at}"
                    );
                }
                Err(_) => assert_eq!(council, "sefton", "only Sefton's log has late records"),
            }
        }
    }
    assert_eq!(
        taken, 20,
        "four councils' logs are taken whole at every instant"
    );
}

#[test]
fn a_late_record_a_void_or_a_line_that_does_not_fit_is_handed_back_where_it_is() {
    let log = example("sefton");
    let first_out_of_order = log
        .windows(2)
        .position(|w| w[1].at < w[0].at || matches!(w[1].kind, domain::EventKind::EventVoided(_)))
        .map(|i| i + 1)
        .expect("Sefton's example has a late record or a void");
    assert_eq!(
        streamed("sefton", &log, t("2027-01-01T00:00:00Z"), None),
        Err(first_out_of_order)
    );
    // A device issued to someone who never joined does not fit.
    let mut log = example("southend");
    let at = log.last().expect("events").at;
    log.push(
        parse_event(&format!(
            r#"{{"at":"{at}","type":"device_issued","device":"LAP-X","person":"nobody"}}"#
        ))
        .expect("event"),
    );
    assert_eq!(
        streamed("southend", &log, t("2027-01-01T00:00:00Z"), None),
        Err(log.len() - 1)
    );
}
