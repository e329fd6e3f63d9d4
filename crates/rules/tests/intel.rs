//! Policy intelligence: explain, lint, diff and what-if on the bundled packs
//! and on minimal packs written here. Snapshots live in `tests/snapshots/`;
//! `WARDEN_BLESS=1 cargo test -p rules --test intel` rewrites them after a
//! change that was meant (then read the diff before committing).

use rules::intel::whatif::{Override, OverrideError, compare, load_with_overrides};
use rules::intel::{diff, explain, lint};
use rules::pack::RULE_KINDS;
use rules::{PolicyPack, evaluate};
use test_utils::packs::{PACKS, TestPacks, calendar, pack, repo_root};

fn snapshot(name: &str, actual: &str) {
    let path = repo_root().join("crates/rules/tests/snapshots").join(name);
    if std::env::var_os("WARDEN_BLESS").is_some() {
        std::fs::write(&path, actual).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        expected == actual,
        "{} differs from what is produced now; if the change is meant, run with WARDEN_BLESS=1.\n--- produced ---\n{actual}",
        path.display()
    );
}

fn test_pack(name: &str, text: &str) -> PolicyPack {
    let source = TestPacks {
        extra: vec![(name.to_owned(), text.to_owned())],
    };
    rules::load_pack(name, &source).unwrap_or_else(|e| panic!("{name}: {e:#?}"))
}

// ---------------------------------------------------------------- explain

#[test]
fn every_rule_of_the_six_packs_reads_as_a_sentence() {
    let mut all = String::new();
    for name in PACKS {
        let p = pack(name);
        for e in explain::explain_pack(&p) {
            assert!(
                e.sentence.ends_with('.') && e.sentence.len() > 30,
                "{}: {:?}",
                e.rule,
                e.sentence
            );
            assert!(
                !e.sentence.contains('_'),
                "{}: names an event type or field, not words: {:?}",
                e.rule,
                e.sentence
            );
            assert!(!e.source.is_empty(), "{}: no source", e.rule);
        }
        all.push_str(&explain::render_text(&p));
        all.push('\n');
    }
    snapshot("explain.txt", &all);
}

#[test]
fn southends_return_rule_reads_as_its_clause() {
    let p = pack("southend");
    let rule = p.rule("southend.devices-returned-48h").expect("the rule");
    let e = explain::explain(rule, &p);
    assert_eq!(
        e.sentence,
        "When a councillor leaves, for each council-owned device they hold, the device is returned or reported lost within 48 hours."
    );
    assert_eq!(e.source, "Southend Councillor ICT Policy v1.0, s.3");
}

/// One minimal rule of each kind. A kind the loader accepts that is not
/// here fails the test below: add its rule, and make sure it reads well.
fn minimal_rule(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "obligation" => {
            r#"on = "person_moved"
within = "5 working days"
discharged_by = ["access_reviewed"]"#
        }
        "recurrence" => {
            r#"every = "1 year"
done_by = [{ event = "training_completed", course = "cyber_security" }]"#
        }
        "precondition" => {
            r#"on = "access_granted"
require = { mfa = true }"#
        }
        "permission" => {
            r#"on = "device_removal_approved"
actor = "approved_by"
roles = ["town_clerk"]"#
        }
        "limit" => {
            r#"on = "expense_claimed"
when = { category = "broadband" }
group_by = "household"
period = "financial_year"
max_count = 1"#
        }
        "prohibition" => {
            r#"on = "device_disposed"
when = { wiped = false }"#
        }
        _ => return None,
    })
}

#[test]
fn each_rule_kind_has_a_sentence() {
    for kind in RULE_KINDS {
        let Some(body) = minimal_rule(kind) else {
            panic!(
                "no minimal `{kind}` rule in this test: add one, and a sentence for it in rules::intel::explain"
            );
        };
        let text = format!(
            "[pack]\nid = \"k\"\ncouncil = \"K\"\ntime_zone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\n[[rule]]\nid = \"k.r\"\nkind = \"{kind}\"\ncite = \"K policy, s.1\"\n{body}\n"
        );
        let p = test_pack("k", &text);
        let e = explain::explain(&p.rules[0], &p);
        assert!(
            e.sentence.ends_with('.') && e.sentence.len() > 20 && !e.sentence.contains('_'),
            "{kind}: {:?}",
            e.sentence
        );
    }
}

// ---------------------------------------------------------------- lint

/// A pack that meets every check: MFA, a loss clock, a review cycle of a
/// year, a breach clock, wiping, leavers' access, and a word on AI.
const CLEAN: &str = r#"[pack]
id = "clean"
council = "Clean Council"
time_zone = "Europe/London"
calendar = "england-and-wales"

[[policy]]
id = "ict"
title = "ICT and AI Use Policy"
version = "1"

[[rule]]
id = "clean.review"
kind = "recurrence"
cite = "ICT Policy, s.9"
every = "12 months"
done_by = ["policy_approved", "policy_reviewed"]
when = { policy = ["ict"] }

[[rule]]
id = "clean.mfa"
kind = "precondition"
cite = "ICT Policy, s.2"
on = "access_granted"
require = { mfa = true }

[[rule]]
id = "clean.loss"
kind = "obligation"
cite = "ICT Policy, s.3"
on = "device_lost"
from = "discovered"
within = "24h"
discharged_by = ["device_lost"]

[[rule]]
id = "clean.breach"
kind = "obligation"
cite = "UK GDPR Art. 33"
on = "incident_reported"
when = { personal_data = true }
from = "discovered"
within = "72h"
discharged_by = ["incident_regulator_notified"]

[[rule]]
id = "clean.wipe"
kind = "prohibition"
cite = "ICT Policy, s.4"
on = "device_disposed"
when = { wiped = false }

[[rule]]
id = "clean.leavers"
kind = "obligation"
cite = "ICT Policy, s.5"
on = "person_left"
each = "access_held"
within = "same day"
discharged_by = ["access_revoked"]
"#;

fn codes(text: &str) -> Vec<&'static str> {
    let p = test_pack("clean", text);
    lint::lint(&p).into_iter().map(|w| w.code).collect()
}

/// Removes the `[[rule]]` whose id is `id`.
fn without_rule(text: &str, id: &str) -> String {
    text.split("\n[[rule]]\n")
        .filter(|part| !part.starts_with(&format!("id = \"{id}\"")))
        .collect::<Vec<_>>()
        .join("\n[[rule]]\n")
}

fn with_rule(text: &str, rule: &str) -> String {
    format!("{text}\n[[rule]]\n{rule}\n")
}

#[test]
fn the_clean_pack_has_no_warnings() {
    assert_eq!(codes(CLEAN), Vec::<&str>::new());
}

#[test]
fn each_warning_fires_on_a_minimal_pack_and_not_on_its_fix() {
    let cases: Vec<(&str, String)> = vec![
        ("no-mfa", without_rule(CLEAN, "clean.mfa")),
        ("no-loss-reporting", without_rule(CLEAN, "clean.loss")),
        (
            "no-breach-notification",
            without_rule(CLEAN, "clean.breach"),
        ),
        ("no-disposal-wipe", without_rule(CLEAN, "clean.wipe")),
        ("no-leaver-revocation", without_rule(CLEAN, "clean.leavers")),
        ("no-review-interval", without_rule(CLEAN, "clean.review")),
        (
            "no-ai-use",
            CLEAN.replace("ICT and AI Use Policy", "ICT Policy"),
        ),
        (
            "review-interval-long",
            CLEAN.replace("every = \"12 months\"", "every = \"3 years\""),
        ),
        (
            "password-expiry",
            with_rule(
                CLEAN,
                "id = \"clean.passwords\"\nkind = \"recurrence\"\ncite = \"ICT Policy, s.6\"\nevery = \"90 days\"\ndone_by = [\"password_changed\"]",
            ),
        ),
        (
            "never-applies",
            with_rule(
                CLEAN,
                "id = \"clean.nobody\"\nkind = \"prohibition\"\ncite = \"ICT Policy, s.7\"\non = \"email_forwarding_detected\"\nwhen = { person_kind = [] }",
            ),
        ),
        (
            "overlapping-rules",
            with_rule(
                CLEAN,
                "id = \"clean.mfa-again\"\nkind = \"precondition\"\ncite = \"ICT Policy, s.8\"\non = \"access_granted\"\nwhen = { person_kind = [\"councillor\"] }\nrequire = { mfa = true }",
            ),
        ),
    ];
    for (code, text) in &cases {
        assert_eq!(codes(text), vec![*code], "the pack for {code}:\n{text}");
    }
    // Each named code is covered once.
    let mut named: Vec<&str> = cases.iter().map(|(c, _)| *c).collect();
    named.sort_unstable();
    named.dedup();
    assert_eq!(named.len(), cases.len());
}

#[test]
fn a_warning_cites_its_guidance() {
    let text = with_rule(
        CLEAN,
        "id = \"clean.passwords\"\nkind = \"recurrence\"\ncite = \"ICT Policy, s.6\"\nevery = \"6 months\"\ndone_by = [\"password_changed\"]",
    );
    let p = test_pack("clean", &text);
    let w = &lint::lint(&p)[0];
    assert_eq!(w.rule.as_deref(), Some("clean.passwords"));
    assert!(w.guidance.contains("NCSC") && w.guidance.contains("https://www.ncsc.gov.uk/"));
    assert!(w.suggestion.contains("compromise"), "{}", w.suggestion);
}

#[test]
fn the_bundled_packs_warnings_are_pinned_and_each_is_explained() {
    let docs = std::fs::read_to_string(repo_root().join("docs/packs.md")).expect("docs/packs.md");
    let mut all = String::new();
    let mut unexplained = Vec::new();
    for name in PACKS {
        let p = pack(name);
        let warnings = lint::lint(&p);
        all.push_str(&lint::render_text(&p, &warnings));
        for w in &warnings {
            let row = format!("| `{name}` | `{}` |", w.code);
            if !docs.contains(&row) {
                unexplained.push(row);
            }
        }
    }
    snapshot("lint.txt", &all);
    assert!(
        unexplained.is_empty(),
        "bundled packs' warnings with no row in docs/packs.md \"What the linter says of the bundled packs\":\n{}",
        unexplained.join("\n")
    );
}

// ---------------------------------------------------------------- diff

#[test]
fn the_return_device_rules_of_three_councils_align_with_their_clocks() {
    let southend = pack("southend");
    for (other, rule, within, scope) in [
        (
            "redditch",
            "redditch.equipment-returned-5-working-days",
            "5 working days",
            "councillors; council-owned devices",
        ),
        (
            "leighton-linslade",
            "leighton-linslade.equipment-returned-5-working-days",
            "5 working days",
            "everyone; council-owned devices",
        ),
    ] {
        let d = diff::diff(&southend, &pack(other));
        let pair = d
            .pairs
            .iter()
            .find(|p| p.a.rule == "southend.devices-returned-48h")
            .unwrap_or_else(|| {
                panic!("no pair for Southend's return rule against {other}: {d:#?}")
            });
        assert_eq!(pair.b.rule, rule);
        let within_diff = pair
            .differences
            .iter()
            .find(|x| x.aspect == "within")
            .expect("the clocks differ");
        assert_eq!(
            (within_diff.a.as_str(), within_diff.b.as_str()),
            ("48 hours", within)
        );
        let for_b = &pair
            .b
            .aspects
            .iter()
            .find(|(a, _)| *a == "for")
            .expect("scope")
            .1;
        assert_eq!(for_b, scope);
    }
    let packs: Vec<PolicyPack> = ["southend", "redditch", "leighton-linslade"]
        .map(pack)
        .into();
    let refs: Vec<&PolicyPack> = packs.iter().collect();
    let rows = diff::side_by_side(&refs);
    let row = rows
        .iter()
        .find(|r| {
            r.cells
                .iter()
                .all(|c| c.iter().any(|s| s.rule.contains("return")))
        })
        .expect("one row holds all three return rules");
    let clocks: Vec<&str> = row
        .cells
        .iter()
        .map(|c| {
            c[0].aspects
                .iter()
                .find(|(a, _)| *a == "within")
                .map_or("", |(_, v)| v.as_str())
        })
        .collect();
    assert_eq!(clocks, ["48 hours", "5 working days", "5 working days"]);
}

#[test]
fn a_pack_diffed_with_itself_is_empty() {
    for name in PACKS {
        let p = pack(name);
        let d = diff::diff(&p, &p);
        assert!(d.is_empty(), "{name}: {d:#?}");
        assert_eq!(d.pairs.len(), p.rules.len());
    }
}

#[test]
fn a_rule_only_one_pack_has_is_listed_with_its_clause() {
    let d = diff::diff(&pack("southend"), &pack("sefton"));
    let alone = d
        .only_b
        .iter()
        .find(|a| a.side.rule == "sefton.access-revoked-on-leaving")
        .expect("Sefton's leaver revocation is Sefton's alone");
    assert!(
        alone
            .side
            .source
            .starts_with("Sefton ICT Starters, Movers and Leavers Policy")
    );
    assert!(
        d.only_a
            .iter()
            .any(|a| a.side.rule == "southend.loss-reported-24h")
    );
}

// ---------------------------------------------------------------- what-if

fn mid_devon_log() -> Vec<domain::Event> {
    let p = pack("mid-devon");
    let text = std::fs::read(repo_root().join("examples/mid-devon.jsonl")).expect("the example");
    domain::LogReader::new(&p)
        .read_bytes(&text)
        .expect("the example reads")
        .into_iter()
        .map(|l| l.event)
        .collect()
}

const REVIEW: &str = "mid-devon.policies-reviewed-2-years";

#[test]
fn a_yearly_review_by_override_finds_what_a_hand_edited_pack_finds() {
    let log = mid_devon_log();
    let at: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().expect("instant");
    let source = TestPacks { extra: Vec::new() };
    let set = Override::parse(&format!("{REVIEW}.every=12 months")).expect("parses");
    let overridden = load_with_overrides("mid-devon", &source, &[set]).expect("loads");

    let edited_text = std::fs::read_to_string(repo_root().join("packs/mid-devon.toml"))
        .expect("pack")
        .replace("every = \"2 years\"", "every = \"12 months\"");
    let by_hand = rules::load_pack(
        "mid-devon-by-hand",
        &TestPacks {
            extra: vec![("mid-devon-by-hand".into(), edited_text)],
        },
    )
    .expect("the hand-edited pack loads");

    let base = pack("mid-devon");
    let cal = calendar(&base);
    let from_override = evaluate(&overridden, &cal, &log, at);
    let from_hand = evaluate(&by_hand, &cal, &log, at);
    assert_eq!(from_override, from_hand);

    let before = evaluate(&base, &cal, &log, at);
    let w = compare(&log, (&base, &cal), (&overridden, &cal), at, None);
    assert_eq!(w.rules.len(), 1, "only the review rule changes: {w:#?}");
    let change = &w.rules[0];
    assert_eq!(change.rule, REVIEW);
    // The difference lists exactly the review findings that are not as they were.
    let differing: Vec<_> = from_hand
        .iter()
        .filter(|f| &*f.rule == REVIEW && !before.contains(f))
        .collect();
    assert_eq!(
        change.changed.len() + change.appear.len(),
        differing.len(),
        "{change:#?}"
    );
    for f in differing {
        assert!(
            change
                .changed
                .iter()
                .any(|(_, a)| a.status == f.status && a.due == f.due)
                || change
                    .appear
                    .iter()
                    .any(|a| a.status == f.status && a.due == f.due),
            "{f:?} is not listed"
        );
    }
    // A review due on 10 November 2026 is overdue under a yearly cycle.
    assert_eq!(change.failing_base, 0);
    assert_eq!(change.failing_alternative, 1);
    assert!(!w.quarters.is_empty());
}

#[test]
fn overrides_refuse_unknown_rules_fields_and_values() {
    let source = TestPacks { extra: Vec::new() };
    let load = |text: &str| {
        load_with_overrides(
            "mid-devon",
            &source,
            &[Override::parse(text).expect("shape")],
        )
        .expect_err("refused")
    };
    let errors = load("mid-devon.policy-reviewed-2-years.every=12 months");
    assert!(
        matches!(&errors[..], [OverrideError::UnknownRule { nearest: Some(n), .. }] if n == REVIEW),
        "{errors:?}"
    );
    assert!(
        errors[0]
            .to_string()
            .contains("did you mean `mid-devon.policies-reviewed-2-years`")
    );

    let errors = load(&format!("{REVIEW}.within=12 months"));
    assert!(
        matches!(&errors[..], [OverrideError::UnknownField { field, .. }] if field == "within"),
        "{errors:?}"
    );
    assert!(
        errors[0]
            .to_string()
            .contains("it takes: every, done_by, counted_from, when")
    );

    let errors = load(&format!("{REVIEW}.every=fortnightly"));
    assert!(
        matches!(&errors[..], [OverrideError::Pack { message, .. }] if message.contains("`fortnightly` is not a duration")),
        "{errors:?}"
    );

    for bad in ["every=12 months", "mid-devon.x", "=3", "a.b="] {
        assert!(
            matches!(Override::parse(bad), Err(OverrideError::Shape(_))),
            "{bad}"
        );
    }
}

#[test]
fn another_councils_pack_over_the_same_log() {
    let log = mid_devon_log();
    let at: jiff::Timestamp = "2026-04-01T00:00:00Z".parse().expect("instant");
    let base = pack("mid-devon");
    let other = pack("redditch");
    let (cb, co) = (calendar(&base), calendar(&other));
    let w = compare(&log, (&base, &cb), (&other, &co), at, None);
    assert!(
        w.rules
            .iter()
            .any(|r| r.rule == REVIEW && !r.disappear.is_empty()),
        "{w:#?}"
    );
    // The same pack on both sides changes nothing.
    assert!(compare(&log, (&base, &cb), (&base, &cb), at, None).is_empty());
}
