//! `warden demo` serves the five source councils, each on its own pack,
//! with sign-ins for every role and a councillor to try the leaver
//! checklist on (regression: only Southend, whose pack has no review
//! interval, training or broadband limit, so half the rules never showed).

use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn the_demo_serves_five_councils_with_sign_ins_for_each() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let accounts = dir.path().join("accounts.json");
    let mut child = Command::new(test_utils::cli::warden_bin())
        .args(["demo", "--listen", "127.0.0.1:0", "--accounts-json"])
        .arg(&accounts)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("warden demo starts");
    // Up to two minutes, in fifths of a second.
    let mut waits = 0;
    let text = loop {
        if let Ok(text) = std::fs::read_to_string(&accounts)
            && !text.is_empty()
        {
            break text;
        }
        waits += 1;
        assert!(waits < 600, "the demo wrote its sign-ins");
        std::thread::sleep(Duration::from_millis(200));
    };
    let _ = child.kill();
    let _ = child.wait();
    let demo: serde_json::Value = serde_json::from_str(&text).expect("json");
    let councils = demo["councils"].as_array().expect("councils");
    let ids: Vec<&str> = councils
        .iter()
        .filter_map(|c| c["council"].as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "southend",
            "redditch",
            "sefton",
            "mid-devon",
            "leighton-linslade"
        ]
    );
    for council in councils {
        let roles: Vec<&str> = council["accounts"]
            .as_array()
            .expect("accounts")
            .iter()
            .filter_map(|a| a["role"].as_str())
            .collect();
        assert_eq!(
            roles,
            [
                "ict_admin",
                "information_governance",
                "siro",
                "manager",
                "member"
            ],
            "{}",
            council["council"]
        );
        assert!(council["leaver"].is_string(), "a leaver to try");
    }
    assert_eq!(
        demo["council"], "southend",
        "the first at the top level too"
    );
}
