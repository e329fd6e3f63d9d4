//! The control mapping: every rule of every bundled pack says which
//! controls it evidences (an empty list for the two financial limits), and
//! an identifier no framework has is refused at its line and column.

use rules::load_pack;
use rules::pack::Framework;
use test_utils::packs::{PACKS, TestPacks, pack};

#[test]
fn every_rule_of_every_pack_is_mapped_to_controls() {
    let mut unmapped = Vec::new();
    let mut empty = Vec::new();
    for name in PACKS {
        for rule in pack(name).rules.iter().filter(|r| r.pack == name) {
            match &rule.controls {
                None => unmapped.push(rule.id.clone()),
                Some(c) if c.is_empty() => empty.push(rule.id.clone()),
                Some(_) => {}
            }
        }
    }
    assert!(
        unmapped.is_empty(),
        "rules without `controls`: {unmapped:?}"
    );
    assert_eq!(
        empty,
        [
            "redditch.broadband-100-a-year",
            "redditch.broadband-one-per-household"
        ],
        "only the financial limits evidence no control"
    );
}

#[test]
fn the_catalogues_hold_the_frameworks() {
    assert_eq!(
        Framework::Iso27001.controls().len(),
        93,
        "Annex A has 93 controls"
    );
    assert_eq!(
        Framework::Iso27001.title("A.5.11"),
        Some("Return of assets")
    );
    assert_eq!(
        Framework::Caf.title("B2.a"),
        Some("Identity Verification, Authentication and Authorisation")
    );
    assert_eq!(Framework::CyberEssentials.controls().len(), 5);
    assert_eq!(
        Framework::Iso27001.title("5.11"),
        None,
        "the A. prefix is part of the id"
    );
}

#[test]
fn an_unknown_control_is_refused_where_it_is_written() {
    let text = "[pack]\nid = \"test\"\ncouncil = \"Test\"\ntime_zone = \"Europe/London\"\ncalendar = \"england-and-wales\"\n\n\
                [[rule]]\nid = \"r\"\ncite = \"s.1\"\nkind = \"prohibition\"\non = \"device_lost\"\n\
                controls = { iso27001 = [\"A.5.11\", \"A.5.99\"], caf = [\"Z9.z\"], cyber_essentials = [\"firewall\"] }\n";
    let source = TestPacks {
        extra: vec![("test.toml".to_owned(), text.to_owned())],
    };
    let errors = load_pack("test.toml", &source).expect_err("refused");
    let shown: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    for (column, words) in [
        (36, "unknown ISO/IEC 27001:2022 Annex A control `A.5.99`"),
        (
            54,
            "unknown NCSC Cyber Assessment Framework v4.0 control `Z9.z`",
        ),
        (83, "unknown Cyber Essentials control `firewall`"),
    ] {
        assert!(
            shown
                .iter()
                .any(|e| e.starts_with(&format!("test.toml:12:{column}: ")) && e.contains(words)),
            "expected 12:{column} `{words}` in {shown:#?}"
        );
    }
    assert_eq!(errors.len(), 3, "{shown:#?}");
}
