//! The registers as a council's lists grow: pages of 100 with links that
//! keep the filters, and the device register filtered by state, kind and
//! owner (regression: "the first 100 are shown" and `?page=2` ignored).

use test_utils::app::{NORTH, TestApp};

fn event(json: String) -> domain::Event {
    domain::parse_event(&json).expect("an event")
}

#[tokio::test(flavor = "multi_thread")]
async fn long_registers_have_pages_and_devices_have_filters() {
    let mut init = TestApp::init();
    for n in 0..150 {
        init = init.with_event(
            NORTH,
            event(format!(
                r#"{{"at":"2026-01-06T09:00:00Z","type":"person_joined","person":"q{n:03}","name":"Person {n}","kind":"employee"}}"#
            )),
        );
        let kind = if n % 3 == 0 { "tablet" } else { "smartphone" };
        init = init.with_event(
            NORTH,
            event(format!(
                r#"{{"at":"2026-01-06T09:00:00Z","type":"device_registered","device":"D-{n:03}","kind":"{kind}","owner":"council"}}"#
            )),
        );
    }
    let app = init.start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let text = |path: String| {
        let ict = ict.clone();
        let app = &app;
        async move { ict.get(app, &path).await.text().await.expect("body") }
    };
    // 150 new employees and the fixture's four officers: two pages.
    let first = text("/c/north/people?kind=employee".into()).await;
    assert!(first.contains("1 to 100 of 154 people match"), "page 1");
    assert!(first.contains("page=2"), "a link to page 2");
    let second = text("/c/north/people?kind=employee&page=2".into()).await;
    assert!(second.contains("101 to 154 of 154 people match"), "page 2");
    assert!(second.contains("q149") && !second.contains(">q000<"));
    assert!(
        second.contains("kind=employee"),
        "the links keep the filter"
    );

    let tablets = text("/c/north/devices?kind=tablet".into()).await;
    assert!(tablets.contains("50 devices match"), "tablets");
    assert!(!tablets.contains("D-001"), "a smartphone is filtered out");
    let held = text("/c/north/devices?state=held".into()).await;
    assert!(
        held.contains("2 devices match"),
        "the fixture's two laptops"
    );
    let in_store = text("/c/north/devices?state=store&page=2".into()).await;
    assert!(
        in_store.contains("101 to 150 of 150 devices match"),
        "in store, page 2"
    );
}

/// Findings are read by officers and committees, not by whoever wrote the
/// vocabulary: each says what the policy asks in the council's own words
/// (the pack's `sentence`), and what happened names no event type
/// (regression: "incident_reported: incident_regulator_notified or
/// incident_assessed due within 72 hours of discovery").
#[tokio::test(flavor = "multi_thread")]
async fn findings_are_in_the_councils_words() {
    let app = TestApp::init()
        .with_event(
            NORTH,
            event(
                r#"{"at":"2026-01-06T09:00:00Z","type":"incident_reported","incident":"INC-1","kind":"lost laptop","discovered":"2026-01-06T08:00:00Z","personal_data":true}"#
                    .into(),
            ),
        )
        .start()
        .await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let page = ict
        .get(&app, "/c/north/findings")
        .await
        .text()
        .await
        .expect("body");
    assert!(
        page.contains("The Information Commissioner is told of a personal data breach within 72 hours of discovery."),
        "the pack's sentence"
    );
    assert!(
        page.contains("the regulator told or an assessment due within 72 hours of discovery")
            || page
                .contains("an assessment or the regulator told due within 72 hours of discovery"),
        "what happened, in words"
    );
    for t in domain::EventType::ALL {
        assert!(
            !page.contains(t.name()),
            "the findings page names the event type {}",
            t.name()
        );
    }
}

/// Every rule of every bundled pack says what it asks in a sentence of its
/// own: without one, its findings would be headed by an id.
#[test]
fn every_bundled_rule_has_its_sentence() {
    for council in rules::bundled::COUNCILS {
        let pack = rules::load_pack(council, &rules::bundled::Bundled).expect("bundled pack");
        for rule in &pack.rules {
            let sentence = rule.sentence.as_deref().unwrap_or_default();
            assert!(
                sentence.len() > 20 && sentence.ends_with('.'),
                "{council}: {} has no sentence",
                rule.id
            );
        }
    }
}
