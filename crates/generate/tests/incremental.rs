//! Incremental evaluation equals full evaluation, event by event, over
//! generated logs of every council pack: the property that lets a service
//! keep one `Evaluation` per council and append to it.
//!
//! The test keeps its own view of the findings, built only from what each
//! append reports as changed (settled findings, clocks started and stopped),
//! the way a page or a stored table would be kept up to date, and compares
//! it after every event with a full evaluation of the log so far.

use domain::Event;
use generate::{Spec, council};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;
use rules::bundled::COUNCILS;
use rules::{Admission, Ledger, PolicyPack, evaluate};
use test_utils::packs::{calendar, pack};
use test_utils::view::{View, ordered};

fn check_log(pack: &PolicyPack, events: &[Event]) -> Result<(), TestCaseError> {
    let calendar = calendar(pack);
    let mut incremental = Ledger::new(pack, &calendar);
    let mut view = View::default();
    for (i, event) in events.iter().enumerate() {
        // The generator books some leavers in late and voids a mistake now
        // and then: those may settle findings earlier than themselves and
        // withdraw others; every other event comes in order.
        let in_order =
            event.recorded.is_none() && !matches!(event.kind, domain::EventKind::EventVoided(_));
        let now = event.recorded_or_at();
        let admission = Admission::history(now);
        let admitted = incremental.admit(vec![event.clone()], admission);
        prop_assert!(
            admitted.is_ok(),
            "a generated event is admitted: {:?}",
            admitted.err()
        );
        let change = admitted.map(|a| a.change).unwrap_or_default();
        if in_order {
            // What an event in order settles, it settles at the event.
            for finding in &change.settled {
                prop_assert_eq!(finding.settled, Some(event.at));
            }
            prop_assert!(change.withdrawn.is_empty(), "nothing is withdrawn in order");
        }
        view.apply(change)?;
        let prefix = incremental.timeline().log();
        // As of the event, and as of a month later (clocks run out meanwhile).
        let month_later = now
            .checked_add(SignedDuration::from_hours(24 * 30))
            .unwrap_or(Timestamp::MAX);
        let instants: &[Timestamp] = if i % 25 == 0 {
            &[now, month_later]
        } else {
            &[now]
        };
        for &now in instants {
            let full = ordered(evaluate(pack, &calendar, prefix, now));
            let incr = view.findings(now);
            prop_assert_eq!(
                &ordered(incremental.findings(now)),
                &full,
                "the evaluation's own findings after event {}",
                i + 1
            );
            prop_assert_eq!(
                incr.len(),
                full.len(),
                "after event {} ({}), as of {}",
                i + 1,
                event.kind.event_type(),
                now
            );
            prop_assert_eq!(incr, full, "after event {}", i + 1);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn appending_one_event_at_a_time_equals_evaluating_the_whole_prefix(
        seed in any::<u64>(),
        which in 0..COUNCILS.len(),
        council_index in 0usize..400,
        people in 6usize..30,
        years in 1u16..3,
    ) {
        let pack = pack(COUNCILS[which]);
        let events = council(&Spec { people, years, seed, end: Spec::END }, council_index, &pack);
        check_log(&pack, &events)?;
    }
}
