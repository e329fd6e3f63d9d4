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
    for council in COUNCILS {
        let whole = example(council);
        let pack = pack(council);
        let calendar = calendar(&pack);
        // The log up to its first late record or void is taken whole...
        let cut = first_out_of_order(&whole).unwrap_or(whole.len());
        assert!(cut > 100, "{council}: a year's start in order");
        let log = &whole[..cut];
        for (at, known_at) in instants {
            let (at, known_at) = (t(at), known_at.map(t));
            let findings = streamed(council, log, at, known_at)
                .unwrap_or_else(|i| panic!("{council}: handed back at {i}, which is in order"));
            assert_eq!(
                findings,
                evaluate_as_known(&pack, &calendar, log, at, known_at),
                "{council} at {at}"
            );
        }
        // ...and the whole log is handed back there, to be read whole.
        if cut < whole.len() {
            let at = t("2027-01-01T00:00:00Z");
            assert_eq!(
                streamed(council, &whole, at, None).err(),
                Some(cut),
                "{council}"
            );
        }
    }
}

/// The first event that happened before one recorded ahead of it, or a
/// void: where a stream in recording order can no longer be folded.
fn first_out_of_order(log: &[domain::Event]) -> Option<usize> {
    let mut latest = None;
    log.iter().position(|e| {
        let late = latest.is_some_and(|l| e.at < l);
        latest = latest.max(Some(e.at));
        late || matches!(e.kind, domain::EventKind::EventVoided(_))
    })
}

#[test]
fn a_late_record_a_void_or_a_line_that_does_not_fit_is_handed_back_where_it_is() {
    let log = example("sefton");
    let first = first_out_of_order(&log).expect("Sefton's example has a late record or a void");
    assert_eq!(
        streamed("sefton", &log, t("2027-01-01T00:00:00Z"), None),
        Err(first)
    );
    // A device issued to someone who never joined does not fit.
    let mut log = example("southend");
    log.truncate(first_out_of_order(&log).unwrap_or(log.len()));
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
