//! Malformed packs: each case is a pack text, the line and column its error
//! must name, and words the message must contain.

use test_utils::packs;

use packs::TestPacks;
use rules::{PackError, load_pack};

const HEADER: &str = r#"[pack]
id = "test"
council = "Test Town Council"
time_zone = "Europe/London"
calendar = "england-and-wales"
"#;

fn errors(text: &str) -> Vec<PackError> {
    let source = TestPacks {
        extra: vec![("test.toml".to_owned(), text.to_owned())],
    };
    load_pack("test.toml", &source).expect_err("the pack should be refused")
}

/// A rule on line 7 after the 6-line header (the header plus a blank line).
fn with_rule(rule: &str) -> String {
    format!("{HEADER}\n[[rule]]\nid = \"r\"\ncite = \"Policy s.1\"\n{rule}\n")
}

#[test]
fn each_bad_pack_is_refused_at_the_right_place() {
    let cases: Vec<(&str, String, usize, usize, &str)> = vec![
        (
            "syntax",
            format!("{HEADER}\n[[rule]\n"),
            7,
            8,
            "unclosed array table",
        ),
        (
            "no header",
            "[[rule]]\nid = \"r\"\n".to_owned(),
            1,
            1,
            "missing [pack] section",
        ),
        (
            "unknown section",
            format!("{HEADER}\n[rules]\n"),
            7,
            2,
            "unknown section `rules`",
        ),
        (
            "unknown header field",
            HEADER.replace("calendar", "calender"),
            5,
            1,
            "unknown field `calender`",
        ),
        (
            "bad time zone",
            HEADER.replace("Europe/London", "Europe/Londn"),
            4,
            13,
            "unknown time zone `Europe/Londn`",
        ),
        (
            "bad calendar",
            HEADER.replace("england-and-wales", "wales"),
            5,
            12,
            "unknown calendar `wales`",
        ),
        (
            "unknown kind",
            with_rule("kind = \"duty\""),
            10,
            8,
            "unknown rule kind `duty`",
        ),
        (
            "unknown rule field",
            with_rule("kind = \"prohibition\"\non = \"person_left\"\nsevere = true"),
            12,
            1,
            "unknown field `severe`",
        ),
        (
            "no cite",
            format!(
                "{HEADER}\n[[rule]]\nid = \"r\"\nkind = \"prohibition\"\non = \"person_left\"\n"
            ),
            8,
            6,
            "has no `cite`",
        ),
        (
            "unknown event",
            with_rule("kind = \"prohibition\"\non = \"person_fired\""),
            11,
            6,
            "unknown event type `person_fired`",
        ),
        (
            "bad duration",
            with_rule(
                "kind = \"obligation\"\non = \"person_left\"\nwithin = \"two days\"\ndischarged_by = [\"access_reviewed\"]",
            ),
            12,
            10,
            "`two days` is not a duration",
        ),
        (
            "missing within",
            with_rule(
                "kind = \"obligation\"\non = \"person_left\"\ndischarged_by = [\"access_reviewed\"]",
            ),
            10,
            8,
            "needs `within`",
        ),
        (
            "field of another kind",
            with_rule("kind = \"prohibition\"\non = \"person_left\"\nevery = \"1 year\""),
            12,
            9,
            "`every` is not a field of a prohibition rule",
        ),
        (
            "condition that cannot apply",
            with_rule("kind = \"prohibition\"\non = \"person_left\"\nwhen = { wiped = false }"),
            12,
            18,
            "`wiped` cannot apply to `person_left` events",
        ),
        (
            "clock nothing can discharge",
            with_rule(
                "kind = \"obligation\"\non = \"person_left\"\neach = \"device_held\"\nwithin = \"48h\"\ndischarged_by = [\"access_reviewed\"]",
            ),
            14,
            18,
            "names no device and so can never discharge",
        ),
        (
            "start the event lacks",
            with_rule(
                "kind = \"obligation\"\non = \"person_left\"\nfrom = \"discovered\"\nwithin = \"48h\"\ndischarged_by = [\"access_reviewed\"]",
            ),
            12,
            8,
            "have no `discovered` field",
        ),
        (
            "undeclared policy",
            with_rule(
                "kind = \"precondition\"\non = \"access_granted\"\nrequire = { accepted = \"cookies\" }",
            ),
            12,
            24,
            "policy `cookies` is not declared",
        ),
        (
            "empty requirement",
            with_rule("kind = \"precondition\"\non = \"access_granted\"\nrequire = {}"),
            12,
            11,
            "asks for nothing",
        ),
        (
            "actor the event lacks",
            with_rule(
                "kind = \"permission\"\non = \"device_issued\"\nactor = \"approved_by\"\nroles = [\"town_clerk\"]",
            ),
            12,
            9,
            "have no `approved_by` field",
        ),
        (
            "both bounds",
            with_rule(
                "kind = \"limit\"\non = \"expense_claimed\"\ngroup_by = \"person\"\nperiod = \"financial_year\"\nmax_total = \"100\"\nmax_count = 1",
            ),
            10,
            8,
            "exactly one of `max_total`",
        ),
        (
            "bad money",
            with_rule(
                "kind = \"limit\"\non = \"expense_claimed\"\ngroup_by = \"person\"\nperiod = \"financial_year\"\nmax_total = \"£100\"",
            ),
            14,
            13,
            "not an amount in pounds",
        ),
        (
            "forwarding without domains",
            with_rule(
                "kind = \"prohibition\"\non = \"email_forwarding_detected\"\nwhen = { to_outside_mail_domains = true }",
            ),
            12,
            36,
            "declares no `mail_domains`",
        ),
        (
            "bad person kind",
            with_rule(
                "kind = \"prohibition\"\non = \"person_left\"\nwhen = { person_kind = [\"mayor\"] }",
            ),
            12,
            25,
            "unknown variant `mayor`",
        ),
        (
            "missing include",
            HEADER.replace("calendar", "include = [\"nowhere\"]\ncalendar"),
            5,
            12,
            "cannot include `nowhere`",
        ),
    ];
    let mut wrong = Vec::new();
    for (name, text, line, column, words) in cases {
        let errors = errors(&text);
        match errors.iter().find(|e| e.message.contains(words)) {
            None => wrong.push(format!(
                "{name}: no error contains `{words}`; got {:?}",
                errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
            )),
            Some(e)
                if !e
                    .to_string()
                    .starts_with(&format!("test.toml:{line}:{column}: ")) =>
            {
                wrong.push(format!(
                    "{name}: expected test.toml:{line}:{column}, got {e}"
                ));
            }
            Some(_) => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_bad_rule_is_reported_not_only_the_first() {
    let text = format!(
        "{HEADER}\n[[rule]]\nid = \"a\"\ncite = \"s.1\"\nkind = \"prohibition\"\non = \"person_fired\"\n\n\
         [[rule]]\nid = \"b\"\ncite = \"s.2\"\nkind = \"recurrence\"\nevery = \"sometimes\"\ndone_by = [\"password_changed\"]\n\n\
         [[rule]]\nid = \"c\"\nkind = \"unknown\"\n"
    );
    let errors = errors(&text);
    let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![11, 17, 21, 22], "{errors:#?}");
}

#[test]
fn duplicate_rule_ids_are_refused_at_the_second() {
    let rule =
        "[[rule]]\nid = \"a\"\ncite = \"s.1\"\nkind = \"prohibition\"\non = \"person_left\"\n";
    let errors = errors(&format!("{HEADER}\n{rule}\n{rule}"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].line, 14);
    assert!(errors[0].message.contains("rule `a` is already declared"));
}

#[test]
fn an_include_cycle_is_named() {
    let a = HEADER.replace("calendar", "include = [\"b.toml\"]\ncalendar");
    let b = HEADER
        .replace("id = \"test\"", "id = \"b\"")
        .replace("calendar", "include = [\"test.toml\"]\ncalendar");
    let source = TestPacks {
        extra: vec![("test.toml".to_owned(), a), ("b.toml".to_owned(), b)],
    };
    let errors = load_pack("test.toml", &source).expect_err("cycle");
    assert!(
        errors.iter().any(|e| e.message.contains("includes itself")),
        "{errors:#?}"
    );
}

#[test]
fn the_bundled_packs_all_load() {
    for name in packs::PACKS {
        let pack = packs::pack(name);
        assert!(!pack.rules.is_empty(), "{name}");
        assert!(
            pack.rules.iter().all(|r| !r.cite.is_empty()),
            "{name}: every rule cites its clause"
        );
    }
}

#[test]
fn a_policy_text_is_read_beside_the_pack_and_a_missing_one_is_named() {
    let southend = packs::pack("southend");
    let policy = southend
        .policies
        .iter()
        .find(|p| p.id.as_str() == "councillor-ict");
    let text = policy
        .and_then(|p| p.text.as_ref())
        .expect("Southend supplies its text");
    let on_disk =
        std::fs::read_to_string(packs::repo_root().join("packs/texts/southend-councillor-ict.md"))
            .expect("the text file");
    assert_eq!(&*text.markdown, on_disk.as_str());

    let pack = "[pack]\nid = \"t\"\ncouncil = \"T\"\ntime_zone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\n[[policy]]\nid = \"p\"\ntitle = \"P\"\nversion = \"1\"\ntext = \"texts/no-such-text.md\"\n";
    let errors = errors(pack);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].line, 11, "the line of `text`");
    assert!(
        errors[0].message.contains("no-such-text.md"),
        "{}",
        errors[0].message
    );
}

/// The conditions on an event type's own field come from one table that the
/// loader and the evaluator share: each is accepted on its own event type,
/// under the key the table names, and refused on any other, naming its type.
#[test]
fn each_event_field_condition_applies_to_its_own_event_only() {
    use rules::pack::{EventFlag, EventText};
    let mut cases: Vec<(&str, domain::EventType, &str)> = Vec::new();
    for flag in EventFlag::ALL {
        cases.push((flag.name(), flag.event(), "true"));
    }
    for text in EventText::ALL {
        cases.push((text.name(), text.event(), "\"x\""));
    }
    for (name, event, value) in cases {
        let own = with_rule(&format!(
            "kind = \"prohibition\"\non = \"{}\"\nwhen = {{ {name} = {value} }}",
            event.name()
        ));
        let source = TestPacks {
            extra: vec![("test.toml".to_owned(), own)],
        };
        if let Err(errors) = load_pack("test.toml", &source) {
            panic!("`{name}` on {}: {errors:?}", event.name());
        }
        let other = with_rule(&format!(
            "kind = \"prohibition\"\non = \"person_left\"\nwhen = {{ {name} = {value} }}"
        ));
        let refused = errors(&other);
        let wanted = format!(
            "`{name}` cannot apply to `person_left` events: it needs {}",
            event.name()
        );
        assert!(
            refused.iter().any(|e| e.message.contains(&wanted)),
            "{wanted} in {refused:?}"
        );
    }
}

/// A `[[reminder]]` with every kind of mistake: each is named at its line
/// and column, none hides another, and the pack is refused whole.
#[test]
fn every_bad_reminder_setting_is_named_where_it_is_written() {
    let text = format!(
        "{HEADER}\n[[rule]]\nid = \"r\"\ncite = \"s.1\"\nkind = \"prohibition\"\non = \"device_lost\"\n\n\
         [[reminder]]\nrules = [\"no-such-rule\", \"r\"]\ntell = [\"subject\", \"Chief Exec\"]\n\
         before = [\"-7 days\", \"3 months\"]\nbefore_share = 120\nescalate_after = 2\n"
    );
    let errors = errors(&text);
    let expect = [
        (14, 10, "unknown rule `no-such-rule`"),
        (14, 26, "rule `r` is a prohibition"),
        (15, 20, "`Chief Exec` is not someone to tell"),
        (16, 11, "`-7 days` is negative"),
        (16, 22, "`3 months` is not an offset"),
        (17, 16, "`before_share` is 120"),
        (18, 18, "`escalate_after` without `escalate_to`"),
    ];
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for (line, column, words) in expect {
        assert!(
            shown.iter().any(
                |e| e.starts_with(&format!("test.toml:{line}:{column}: ")) && e.contains(words)
            ),
            "expected test.toml:{line}:{column} `{words}` among {shown:#?}"
        );
    }
    assert_eq!(errors.len(), expect.len(), "{shown:#?}");
}
