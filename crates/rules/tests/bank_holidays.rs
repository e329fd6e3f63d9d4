//! The statutory rules against gov.uk's list for 2019 to 2028, all three
//! divisions: every regular day must be computed, and the only differences
//! allowed are the one-off changes that no rule can know (which must then
//! come from the file).

use test_utils::packs;

use jiff::civil::{Date, date};
use rules::calendar::{Calendar, Division, HolidayFile, statutory_bank_holidays, time_zone};
use std::collections::BTreeSet;

fn file() -> HolidayFile {
    let text = std::fs::read_to_string(packs::repo_root().join("data/bank-holidays.json"))
        .expect("data file");
    HolidayFile::parse(&text).expect("gov.uk shape")
}

/// Days the file has that the rules do not, and days the rules give that the
/// file moved away, per division.
fn one_offs(division: Division) -> (BTreeSet<Date>, BTreeSet<Date>) {
    let common_added = [
        date(2020, 5, 8),  // VE Day, replacing the early May Monday
        date(2022, 6, 2),  // spring bank holiday moved for the Platinum Jubilee
        date(2022, 6, 3),  // Platinum Jubilee
        date(2022, 9, 19), // State Funeral of Queen Elizabeth II
        date(2023, 5, 8),  // Coronation of King Charles III
    ];
    let common_removed = [date(2020, 5, 4), date(2022, 5, 30)];
    let mut added: BTreeSet<Date> = common_added.into_iter().collect();
    let removed: BTreeSet<Date> = common_removed.into_iter().collect();
    if division == Division::Scotland {
        added.insert(date(2026, 6, 15)); // World Cup bank holiday
    }
    (added, removed)
}

#[test]
fn statutory_rules_match_gov_uk_for_every_regular_day() {
    let file = file();
    for division in Division::ALL {
        let listed = file.divisions.get(&division).expect("division in file");
        let computed: BTreeSet<Date> = (2019..=2028)
            .flat_map(|y| statutory_bank_holidays(division, y))
            .collect();
        let (added, removed) = one_offs(division);
        let only_in_file: BTreeSet<Date> = listed.difference(&computed).copied().collect();
        let only_computed: BTreeSet<Date> = computed.difference(listed).copied().collect();
        assert_eq!(
            only_in_file, added,
            "{division}: days gov.uk lists that the rules do not compute"
        );
        assert_eq!(
            only_computed, removed,
            "{division}: days the rules compute that gov.uk does not list"
        );
    }
}

#[test]
fn the_calendar_takes_one_off_days_from_the_file() {
    let tz = time_zone("Europe/London").expect("zone");
    let file = file();
    for division in Division::ALL {
        let calendar = Calendar::new(tz.clone(), division, &file);
        let listed = &file.divisions[&division];
        let (added, removed) = one_offs(division);
        for day in listed {
            assert!(
                calendar.is_bank_holiday(*day),
                "{division}: {day} is in the file"
            );
        }
        for day in &added {
            assert!(!calendar.is_working_day(*day), "{division}: one-off {day}");
        }
        for day in &removed {
            assert!(
                calendar.is_working_day(*day),
                "{division}: {day} was moved away"
            );
        }
    }
}

#[test]
fn without_a_file_the_rules_alone_apply() {
    let tz = time_zone("Europe/London").expect("zone");
    let calendar = Calendar::new(tz, Division::EnglandAndWales, &HolidayFile::default());
    assert!(
        calendar.is_working_day(date(2022, 9, 19)),
        "no rule knows the State Funeral"
    );
    assert!(
        !calendar.is_working_day(date(2022, 8, 29)),
        "summer bank holiday"
    );
}

#[test]
fn an_override_file_wins_for_the_years_it_covers() {
    let tz = time_zone("Europe/London").expect("zone");
    let json = r#"{"england-and-wales":{"division":"england-and-wales","events":[
        {"title":"Extra day","date":"2031-07-07","notes":"","bunting":true}]}}"#;
    let file = HolidayFile::parse(json).expect("shape");
    let calendar = Calendar::new(tz, Division::EnglandAndWales, &file);
    assert!(!calendar.is_working_day(date(2031, 7, 7)));
    // The file covers 2031 alone, so Good Friday 2031 is whatever it says: a working day.
    assert!(calendar.is_working_day(date(2031, 4, 11)));
    assert!(
        !calendar.is_working_day(date(2032, 3, 26)),
        "Good Friday 2032 from the rules"
    );
}

#[test]
fn a_malformed_file_is_refused_with_the_reason() {
    assert!(HolidayFile::parse("[]").is_err());
    let err = HolidayFile::parse(r#"{"wales":{"events":[]}}"#).expect_err("unknown division");
    assert!(
        err.to_string().contains("unknown division `wales`"),
        "{err}"
    );
}
