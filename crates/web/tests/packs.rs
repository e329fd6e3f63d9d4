//! The policy-intelligence pages: the rules in words with the linter's
//! warnings, the seed councils side by side, and what-if over the council's
//! own log, through a real server and a real sign-in.

use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp};

#[tokio::test(flavor = "multi_thread")]
async fn an_officer_reads_the_rules_compares_councils_and_asks_what_if() {
    let app = TestApp::start().await;
    let ig = app.sign_in(NORTH, "p-ig").await;

    let page = ig
        .get(&app, "/c/north/pack")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("When a councillor leaves, for each council-owned device they hold, the device is returned or reported lost within 48 hours."),
        "{page}"
    );
    assert!(page.contains("Against published guidance"));
    assert!(
        page.contains("no rule sets a clock for removing a leaver"),
        "Southend's gap: {page}"
    );

    let compare = ig
        .get(&app, "/c/north/pack/compare")
        .await
        .text()
        .await
        .expect("page");
    for council in [
        "Southend-on-Sea City Council",
        "Redditch Borough Council",
        "Sefton Council",
        "Mid Devon District Council",
        "Leighton-Linslade Town Council",
    ] {
        assert!(compare.contains(council), "{council} has a column");
    }
    assert!(compare.contains("48 hours") && compare.contains("5 working days"));

    let form = ig
        .get(&app, "/c/north/what-if")
        .await
        .text()
        .await
        .expect("page");
    assert!(form.contains("Another council&#39;s pack") || form.contains("Another council's pack"));
    assert!(!form.contains("Under "), "no answer before the question");

    let other = ig
        .get(&app, "/c/north/what-if?pack=redditch")
        .await
        .text()
        .await
        .expect("page");
    assert!(other.contains("Under Redditch Borough Council"), "{other}");

    let bad = ig
        .get(
            &app,
            "/c/north/what-if?rule=southend.devices-returned-48h&field=every&value=12+months",
        )
        .await
        .text()
        .await
        .expect("page");
    assert!(bad.contains("There is a problem"), "{bad}");
    assert!(
        bad.contains("`every` is not a field of southend.devices-returned-48h, an obligation rule"),
        "{bad}"
    );

    let changed = ig
        .get(
            &app,
            "/c/north/what-if?rule=southend.devices-returned-48h&field=within&value=1h",
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed = changed.text().await.expect("page");
    assert!(
        changed.contains("Under southend with within set to 1h"),
        "{changed}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn what_if_is_for_those_who_may_read_findings() {
    let app = TestApp::start().await;
    let member = app.sign_in(NORTH, "p-member").await;
    assert_eq!(
        member.get(&app, "/c/north/what-if").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        member.get(&app, "/c/north/pack").await.status(),
        StatusCode::FORBIDDEN
    );
}
