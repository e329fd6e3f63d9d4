//! Late records and corrections: a log in recording order whose estate
//! follows `at`. Each case is a small log read as a file would be.

use domain::{Event, EventKind, EventRef, Objection, PolicyId, Timeline, parse_event, read_log};
use std::collections::BTreeSet;

fn policies() -> BTreeSet<PolicyId> {
    [PolicyId::from("members-ict")].into_iter().collect()
}

fn event(line: &str) -> Event {
    parse_event(line).unwrap_or_else(|e| panic!("{line}: {e}"))
}

const JOIN: &str = r#"{"at":"2025-04-04T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"councillor"}"#;
const DEVICE: &str = r#"{"at":"2025-04-04T09:05:00Z","type":"device_registered","device":"d1","kind":"laptop","owner":"council"}"#;
const ISSUE: &str =
    r#"{"at":"2025-04-04T09:06:00Z","type":"device_issued","device":"d1","person":"p1"}"#;

#[test]
fn records_may_arrive_late_and_out_of_at_order() {
    let log = [
        JOIN,
        DEVICE,
        ISSUE,
        // Recorded on Monday: the leaving (Friday) after the return (Saturday).
        r#"{"at":"2025-04-12T10:00:00Z","recorded":"2025-04-14T09:00:00Z","type":"device_returned","device":"d1","person":"p1"}"#,
        r#"{"at":"2025-04-11T17:00:00Z","recorded":"2025-04-14T09:05:00Z","type":"person_left","person":"p1"}"#,
    ]
    .join("\n");
    let events = read_log(&log, &policies()).expect("a consistent history");
    assert_eq!(events.len(), 5);
    let pols = policies();
    let mut timeline = Timeline::new(&pols, ());
    for e in events {
        timeline
            .admit(e.event, |_, _, _| Vec::<()>::new())
            .expect("admits");
    }
    let order: Vec<u64> = timeline.live().map(|l| l.seq).collect();
    assert_eq!(order, vec![1, 2, 3, 5, 4], "the fold follows `at`");
    let person = &timeline.estate().people[&"p1".into()];
    assert!(person.left.is_some() && person.devices_held.is_empty());
}

#[test]
fn a_late_record_that_contradicts_the_timeline_is_refused_naming_the_event() {
    // A return dated before the device was issued: at that instant nobody held it.
    let log = [
        JOIN,
        DEVICE,
        ISSUE,
        r#"{"at":"2025-04-04T09:05:30Z","recorded":"2025-04-05T09:00:00Z","type":"device_returned","device":"d1"}"#,
    ]
    .join("\n");
    let errors = read_log(&log, &policies()).expect_err("contradicts");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].line, 4);
    assert!(
        errors[0].to_string().contains("not issued to anyone"),
        "{}",
        errors[0]
    );

    // A leaving dated before a device was issued to the person: the issue
    // on line 3 would then be to someone who had left.
    let log = [
        JOIN,
        DEVICE,
        ISSUE,
        r#"{"at":"2025-04-04T09:00:30Z","recorded":"2025-04-05T09:00:00Z","type":"person_left","person":"p1"}"#,
    ]
    .join("\n");
    let errors = read_log(&log, &policies()).expect_err("conflicts");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(
        message.starts_with("line 4: ")
            && message.contains("device_issued on line 3")
            && message.contains("left on"),
        "{message}"
    );
}

#[test]
fn recorded_never_goes_back_and_nothing_is_recorded_before_it_happens() {
    let log = [
        r#"{"at":"2025-04-04T09:00:00Z","recorded":"2025-04-05T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"councillor"}"#,
        r#"{"at":"2025-04-04T10:00:00Z","recorded":"2025-04-05T08:00:00Z","type":"password_changed","person":"p1"}"#,
        r#"{"at":"2025-04-06T10:00:00Z","recorded":"2025-04-06T09:54:59Z","type":"password_changed","person":"p1"}"#,
        r#"{"at":"2025-04-06T10:00:00Z","recorded":"2025-04-06T09:55:00Z","type":"password_changed","person":"p1"}"#,
    ]
    .join("\n");
    let errors = read_log(&log, &policies()).expect_err("two bad lines");
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3], "{errors:?}");
    assert!(
        errors[0]
            .to_string()
            .contains("`recorded` 2025-04-05T08:00:00Z is earlier than the event on line 1")
    );
    assert!(
        errors[1]
            .to_string()
            .contains("nothing can be recorded before it happens")
    );
}

#[test]
fn ids_are_unique_and_an_implied_place_must_be_the_lines_own() {
    let log = [
        r#"{"id":"hr-1","at":"2025-04-04T09:00:00Z","type":"person_joined","person":"p1","name":"A","kind":"councillor"}"#,
        r##"{"id":"#2","at":"2025-04-04T10:00:00Z","type":"password_changed","person":"p1"}"##,
        r#"{"id":"hr-1","at":"2025-04-04T11:00:00Z","type":"password_changed","person":"p1"}"#,
        r##"{"id":"#9","at":"2025-04-04T12:00:00Z","type":"password_changed","person":"p1"}"##,
        r#"{"id":"no spaces","at":"2025-04-04T12:00:00Z","type":"password_changed","person":"p1"}"#,
    ]
    .join("\n");
    let errors = read_log(&log, &policies()).expect_err("three bad lines");
    let found: Vec<(usize, String)> = errors
        .iter()
        .map(|e| (e.line, e.error.to_string()))
        .collect();
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(
        found[0].0 == 3 && found[0].1.contains("already used by event #1"),
        "{found:?}"
    );
    assert!(
        found[1].0 == 4
            && found[1]
                .1
                .contains("not this event's place in the log (#4)"),
        "{found:?}"
    );
    assert!(
        found[2].0 == 5 && found[2].1.contains("is not an event id"),
        "{found:?}"
    );
}

#[test]
fn a_void_takes_an_event_out_unless_later_events_stand_on_it() {
    let void = |target: &str| {
        format!(
            r#"{{"at":"2025-04-05T09:00:00Z","type":"event_voided","event":"{target}","reason":"typed in error"}}"#
        )
    };
    // Voiding the issue: the person holds nothing, and it stays in the log.
    let log = [JOIN, DEVICE, ISSUE, &void("#3")].join("\n");
    let events = read_log(&log, &policies()).expect("sound");
    let pols = policies();
    let mut timeline = Timeline::new(&pols, ());
    for e in events {
        timeline
            .admit(e.event, |_, _, _| Vec::<()>::new())
            .expect("admits");
    }
    assert!(
        timeline.estate().people[&"p1".into()]
            .devices_held
            .is_empty()
    );
    assert_eq!(timeline.log()[2].voided_by, Some(4));
    assert_eq!(timeline.live().count(), 2);

    // Voiding the joining: the issue on line 3 stands on it.
    let log = [JOIN, DEVICE, ISSUE, &void("#1")].join("\n");
    let errors = read_log(&log, &policies()).expect_err("depends");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let message = errors[0].to_string();
    assert!(
        message.contains("the device_issued on line 3") && message.contains("depends on it"),
        "{message}"
    );

    // No such event; a void of a void; voiding twice.
    let log = [
        JOIN,
        DEVICE,
        ISSUE,
        &void("#3"),
        &void("#9"),
        &void("#4"),
        &void("#3"),
    ]
    .join("\n");
    let errors = read_log(&log, &policies()).expect_err("three bad voids");
    let words: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![5, 6, 7],
        "{words:?}"
    );
    assert!(words[0].contains("no event `#9`"));
    assert!(words[1].contains("itself a void"));
    assert!(words[2].contains("already voided by #4"));
}

#[test]
fn a_refused_admission_leaves_the_timeline_as_it_was() {
    let pols = policies();
    let mut timeline = Timeline::new(&pols, ()).with_window(2);
    for line in [JOIN, DEVICE, ISSUE] {
        timeline
            .admit(event(line), |_, _, _| Vec::<()>::new())
            .expect("sound");
    }
    for n in 0..10 {
        let line = format!(
            r#"{{"at":"2025-04-05T09:{n:02}:00Z","type":"password_changed","person":"p1"}}"#
        );
        timeline
            .admit(event(&line), |_, _, _| Vec::<()>::new())
            .expect("sound");
    }
    let before = timeline.estate().clone();
    let late_leave = event(
        r#"{"at":"2025-04-04T09:00:30Z","recorded":"2025-04-06T09:00:00Z","type":"person_left","person":"p1"}"#,
    );
    // Earlier than the journal reaches: the timeline folds again from the start.
    let refused = timeline
        .admit(late_leave, |_, _, _| Vec::<()>::new())
        .expect_err("conflicts with the issue");
    assert!(matches!(
        &refused.objections[..],
        [Objection::Conflict { other, .. }] if other.reference == EventRef::Seq(3)
    ));
    assert_eq!(timeline.estate(), &before);
    assert_eq!(timeline.log().len(), 13);

    // A savepoint taken back undoes admissions, a void among them.
    let savepoint = timeline.savepoint();
    timeline
        .admit(
            event(r##"{"at":"2025-04-06T10:00:00Z","type":"event_voided","event":"#3","reason":"wrong laptop"}"##),
            |_, _, _| Vec::<()>::new(),
        )
        .expect("the issue can go");
    assert!(timeline.estate().devices[&"d1".into()].holder.is_none());
    timeline.rollback(savepoint);
    assert_eq!(timeline.estate(), &before);
    assert_eq!(timeline.log()[2].voided_by, None);
    assert!(matches!(
        timeline.log()[2].event.kind,
        EventKind::DeviceIssued(_)
    ));
}

#[test]
fn undo_gives_back_a_device_taken_from_its_holder() {
    let mut estate = domain::Estate::default();
    for line in [
        JOIN,
        DEVICE,
        ISSUE,
        r#"{"at":"2025-04-04T09:07:00Z","type":"person_joined","person":"p2","name":"B","kind":"employee"}"#,
    ] {
        estate.apply(&event(line));
    }
    for line in [
        r#"{"at":"2025-04-05T09:00:00Z","type":"device_returned","device":"d1"}"#,
        r#"{"at":"2025-04-05T09:00:00Z","type":"device_disposed","device":"d1","wiped":true}"#,
        r#"{"at":"2025-04-05T09:00:00Z","type":"device_issued","device":"d1","person":"p2"}"#,
        r#"{"at":"2025-04-05T09:00:00Z","type":"person_joined","person":"p1","name":"A again","kind":"employee"}"#,
    ] {
        let before = estate.clone();
        let undo = estate.apply_undoable(&event(line));
        assert_ne!(estate, before, "{line} changes something");
        estate.undo(undo);
        assert_eq!(estate, before, "{line}");
    }
}

/// Counts the steps folded: how much work a placement took.
#[derive(Default)]
struct Steps(usize);

impl domain::Follower for Steps {
    type Undo = ();
    fn before(&mut self, _: &domain::Estate, _: &domain::Logged) {
        self.0 += 1;
    }
    fn after(&mut self, _: &domain::Estate, _: &domain::Logged) {}
    fn keep_undo(&mut self, _: bool) {}
    fn take_undo(&mut self) -> Option<()> {
        Some(())
    }
    fn undo(&mut self, _: ()) {}
    fn reset(&mut self) {}
}

fn password_changed(day: u32, minute: u32) -> Event {
    event(&format!(
        r#"{{"at":"2025-05-{day:02}T{:02}:{:02}:00Z","recorded":"2025-06-30T09:00:00Z","type":"password_changed","person":"p1"}}"#,
        minute / 60,
        minute % 60
    ))
}

/// Issue 13's benchmark found this: devices enrolled last year, imported
/// after this year's people, each went in before the whole log, and one by
/// one each folded it again (100,000 rows: over ten minutes).
#[test]
fn a_history_that_goes_in_before_the_log_is_folded_once() {
    let pols = policies();
    let mut timeline = Timeline::new(&pols, Steps::default());
    timeline
        .admit(event(JOIN), |_, _, _| Vec::<()>::new())
        .expect("join");
    // 6,000 records on the 20th, beyond the journal's 4,096 steps.
    let late: Vec<Event> = (0..6_000)
        .map(|i| password_changed(20, i % 1_440))
        .collect();
    let log_len = late.len();
    timeline.admit_all(late).expect("the later log");
    // Then 1,000 records of the 10th, each before all of it.
    let history: Vec<Event> = (0..1_000).map(|i| password_changed(10, i)).collect();
    let before = timeline.follower().0;
    let seqs = timeline.admit_all(history.clone()).expect("admitted");
    let steps = timeline.follower().0 - before;
    assert_eq!(seqs.len(), 1_000);
    assert!(
        steps <= 2 * (log_len + 1_000 + 1),
        "one fold from the start: {steps} steps"
    );
    // The same estate and order as admitting them one at a time.
    let mut one_by_one = Timeline::new(&pols, ());
    one_by_one
        .admit(event(JOIN), |_, _, _| Vec::<()>::new())
        .expect("join");
    one_by_one
        .admit_all(
            (0..6_000)
                .map(|i| password_changed(20, i % 1_440))
                .collect(),
        )
        .expect("the later log");
    for e in history.into_iter().take(50) {
        one_by_one
            .admit(e, |_, _, _| Vec::<()>::new())
            .expect("one");
    }
    let first_50: Vec<u64> = one_by_one.live().take(51).map(|l| l.seq).collect();
    let at_once: Vec<u64> = timeline.live().take(51).map(|l| l.seq).collect();
    assert_eq!(first_50, at_once, "placed in the same order");
}

#[test]
fn a_history_at_once_is_all_or_none_and_charges_a_conflict_to_the_record_before_it() {
    let pols = policies();
    let mut timeline = Timeline::new(&pols, ());
    for line in [JOIN, DEVICE, ISSUE] {
        timeline
            .admit(event(line), |_, _, _| Vec::<()>::new())
            .expect("sound");
    }
    let estate = timeline.estate().clone();
    let order: Vec<u64> = timeline.live().map(|l| l.seq).collect();
    let changed = |minute: u32| {
        event(&format!(
            r#"{{"at":"2025-04-04T09:{minute:02}:00Z","recorded":"2025-06-30T09:00:00Z","type":"password_changed","person":"p1"}}"#
        ))
    };
    let batch = vec![
        changed(1),
        // Left before the laptop was issued to them: the issue no longer fits.
        event(
            r#"{"at":"2025-04-04T09:05:30Z","recorded":"2025-06-30T09:00:00Z","type":"person_left","person":"p1"}"#,
        ),
        changed(2),
    ];
    let refused = timeline.admit_all(batch).expect_err("refused");
    assert!(
        matches!(
            &refused[..],
            [(1, Objection::Conflict { other, .. })] if other.reference == EventRef::Seq(3)
        ),
        "{refused:?}"
    );
    assert_eq!(timeline.estate(), &estate, "nothing changed");
    assert_eq!(timeline.log().len(), 3);
    assert_eq!(timeline.live().map(|l| l.seq).collect::<Vec<_>>(), order);
}

/// `in_order` merges late records back into the run recorded in order; it
/// must give what a stable sort by `at` of the live events gives, ties in
/// recording order, whatever mix of late records, ties and voids (by id and
/// by `#seq`, and a void of nothing) a log holds.
#[test]
fn the_order_things_happened_in_is_a_stable_sort_of_the_live_events() {
    use domain::timeline::in_order;
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for _ in 0..200 {
        let len = 1 + next(60) as usize;
        let mut log: Vec<Event> = Vec::new();
        let mut clock = 0u32;
        for i in 0..len {
            let roll = next(10);
            if roll == 0 && i > 0 {
                // A void, by id or by place (sometimes of nothing at all).
                let target = match next(3) {
                    0 => format!("e{}", next(i as u64)),
                    1 => format!("#{}", 1 + next(i as u64 + 3)),
                    _ => "nothing-here".to_string(),
                };
                log.push(event(&format!(
                    r##"{{"at":"2025-05-01T00:00:00Z","type":"event_voided","event":"{target}","reason":"typed in error"}}"##
                )));
                continue;
            }
            // Mostly forwards, sometimes a tie, sometimes a late record.
            let minute = match roll {
                1 | 2 => clock.saturating_sub(next(30) as u32),
                3 => clock,
                _ => {
                    clock += 1 + next(3) as u32;
                    clock
                }
            };
            let (day, minute) = (1 + minute / 600, minute % 600);
            log.push(event(&format!(
                r#"{{"at":"2025-04-{day:02}T{:02}:{:02}:00Z","id":"e{i}","type":"password_changed","person":"p{}"}}"#,
                minute / 60,
                minute % 60,
                i % 4
            )));
        }
        let reference = {
            let ids: std::collections::HashMap<String, u64> = log
                .iter()
                .zip(1u64..)
                .filter_map(|(e, seq)| e.own_id().map(|id| (id.as_str().to_string(), seq)))
                .collect();
            let voided: BTreeSet<u64> = log
                .iter()
                .filter_map(|e| match &e.kind {
                    EventKind::EventVoided(v) => match &v.event {
                        EventRef::Seq(s) => Some(*s),
                        EventRef::Id(id) => ids.get(id.as_str()).copied(),
                    },
                    _ => None,
                })
                .collect();
            let mut live: Vec<(u64, &Event)> = log
                .iter()
                .zip(1u64..)
                .filter(|(e, seq)| {
                    !matches!(e.kind, EventKind::EventVoided(_)) && !voided.contains(seq)
                })
                .map(|(e, seq)| (seq, e))
                .collect();
            live.sort_by_key(|(_, e)| e.at);
            live.into_iter().map(|(seq, _)| seq).collect::<Vec<u64>>()
        };
        let merged: Vec<u64> = in_order(&log).into_iter().map(|(seq, _)| seq).collect();
        assert_eq!(merged, reference, "log of {len}");
    }
}

/// A line that does not fit where it happened names the line that holds
/// what it lacked, with that line's time in the council's zone.
#[test]
fn each_refusal_names_the_event_it_contradicts_and_its_line() {
    // British Summer Time, as in April (the domain has no tz database).
    let london = jiff::tz::TimeZone::fixed(jiff::tz::offset(1));
    let read = |lines: &[&str]| {
        let pols = policies();
        domain::LogReader::new(&pols)
            .in_zone(london.clone())
            .read(&lines.join("\n"))
            .expect_err("refused")
            .into_iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    // A return an hour-ish before the issue (recorded later).
    let words = read(&[
        JOIN,
        DEVICE,
        ISSUE,
        r#"{"at":"2025-04-04T09:05:30Z","recorded":"2025-04-05T09:00:00Z","type":"device_returned","device":"d1"}"#,
    ]);
    assert_eq!(words.len(), 1, "{words:?}");
    assert!(
        words[0].starts_with("line 4: device `d1` is not issued to anyone")
            && words[0].contains("the device_issued on line 3 happened at 10:06 on 4 Apr 2025"),
        "{words:?}"
    );

    // An issue while the device was held: its return comes after.
    let words = read(&[
        JOIN,
        r#"{"at":"2025-04-04T09:01:00Z","type":"person_joined","person":"p2","name":"B","kind":"councillor"}"#,
        DEVICE,
        ISSUE,
        r#"{"at":"2025-04-04T11:00:00Z","type":"device_returned","device":"d1","person":"p1"}"#,
        r#"{"at":"2025-04-04T10:00:00Z","recorded":"2025-04-05T09:00:00Z","type":"device_issued","device":"d1","person":"p2"}"#,
    ]);
    // (Placed there, it would also leave the return unable to fit: both
    // reasons are the one line's.)
    assert!(words.iter().all(|w| w.starts_with("line 6: ")), "{words:?}");
    assert!(
        words[0].starts_with("line 6: device `d1` is held by `p1`")
            && words[0].contains("the device_returned on line 5 happened at 12:00 on 4 Apr 2025"),
        "{words:?}"
    );

    // A leaving before the joining.
    let words = read(&[
        JOIN,
        r#"{"at":"2025-04-04T08:00:00Z","recorded":"2025-04-05T09:00:00Z","type":"person_left","person":"p1"}"#,
    ]);
    assert_eq!(words.len(), 1, "{words:?}");
    assert!(
        words[0].starts_with("line 2: person `p1` is not a person the log has introduced")
            && words[0].contains("the person_joined on line 1 happened at 10:00 on 4 Apr 2025"),
        "{words:?}"
    );

    // A void of what a later line stands on: that line, by number.
    let words = read(&[
        JOIN,
        DEVICE,
        ISSUE,
        r##"{"at":"2025-04-05T09:00:00Z","type":"event_voided","event":"#2","reason":"typed in error"}"##,
    ]);
    assert_eq!(words.len(), 1, "{words:?}");
    assert!(
        words[0].starts_with(
            "line 4: the device_issued on line 3 (at 10:06 on 4 Apr 2025) depends on it"
        ),
        "{words:?}"
    );
}

/// One by one, a timeline names the later event too (a form's refusal).
#[test]
fn an_admission_one_by_one_names_the_later_event_that_holds_what_it_lacks() {
    let pols = policies();
    let mut timeline = Timeline::new(&pols, ());
    for line in [JOIN, DEVICE, ISSUE] {
        timeline
            .admit(event(line), |_, _, _| Vec::<()>::new())
            .expect("sound");
    }
    let refused = timeline
        .admit(
            event(r#"{"at":"2025-04-04T09:05:30Z","recorded":"2025-04-05T09:00:00Z","type":"device_returned","device":"d1"}"#),
            |_, _, _| Vec::<()>::new(),
        )
        .expect_err("before the issue");
    assert!(
        matches!(
            &refused.objections[..],
            [Objection::Before { later, .. }] if later.seq == 3
        ),
        "{:?}",
        refused.objections
    );
}

/// A history with late records and voids throughout goes in at once, in
/// one fold, and ends where admitting it one event at a time ends.
#[test]
fn a_history_with_late_records_and_voids_is_admitted_at_once_as_one_by_one() {
    let mut lines = vec![JOIN.to_owned(), DEVICE.to_owned(), ISSUE.to_owned()];
    for n in 0..40u32 {
        // Every fifth password change recorded a day late.
        let late = n % 5 == 0;
        let recorded = if late {
            format!(
                r#","recorded":"2025-04-06T{:02}:{:02}:00Z""#,
                n / 60,
                n % 60
            )
        } else {
            String::new()
        };
        lines.push(format!(
            r#"{{"id":"pw{n}","at":"2025-04-05T{:02}:{:02}:00Z"{recorded},"type":"password_changed","person":"p1"}}"#,
            n / 60 + 1,
            n % 60
        ));
        if late {
            lines.push(format!(
                r#"{{"at":"2025-04-06T{:02}:{:02}:30Z","type":"event_voided","event":"pw{}","reason":"typed twice"}}"#,
                n / 60,
                n % 60,
                n
            ));
        }
    }
    // The lines stamped without `recorded` must not go back behind a late
    // one: give them all their own times.
    let mut last = String::new();
    let events: Vec<Event> = lines
        .iter()
        .map(|l| {
            let mut e = event(l);
            let recorded = e.recorded_or_at().to_string();
            if recorded < last {
                e.recorded = last.parse().ok();
            } else {
                last = recorded;
            }
            e
        })
        .collect();
    let pols = policies();
    let mut at_once = Timeline::new(&pols, ());
    let seqs = at_once.admit_all(events.clone()).expect("sound");
    assert_eq!(seqs.len(), events.len());
    assert_eq!(at_once.refolds(), 0, "one fold");
    let mut one_by_one = Timeline::new(&pols, ());
    for e in events {
        one_by_one
            .admit(e, |_, _, _| Vec::<()>::new())
            .expect("sound one by one");
    }
    assert_eq!(at_once.log(), one_by_one.log());
    assert_eq!(at_once.estate(), one_by_one.estate());
    let order = |t: &Timeline| t.live().map(|l| l.seq).collect::<Vec<_>>();
    assert_eq!(order(&at_once), order(&one_by_one));
    assert!(at_once.log().iter().any(|l| l.voided_by.is_some()));
}
