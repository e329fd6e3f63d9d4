//! Late records and corrections through the web service and the API: forms
//! say when things happened, the same history entered by the pages, by the
//! API and by an import gives the same log and the same findings, many API
//! clients writing at once with their own clocks are all recorded, and a
//! correction voids an entry, keeps it in the history struck through, and
//! records the right one.

use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp, token};

fn t(text: &str) -> Timestamp {
    text.parse().expect("a timestamp")
}

/// A form's "when" fields for an instant (the test councils keep London
/// time; in November that is UTC).
fn when(at: &str) -> [(&'static str, String); 3] {
    let at = t(at);
    let local = at.to_zoned(jiff::tz::TimeZone::get("Europe/London").expect("tz"));
    [
        ("when_date", local.strftime("%Y-%m-%d").to_string()),
        ("when_time", local.strftime("%H:%M").to_string()),
        ("when_default", String::new()),
    ]
}

/// One history, told as steps: when it happened, when it was recorded, and
/// the event (as the API takes it, `by` the ICT officer).
struct Step {
    recorded: &'static str,
    events: &'static [&'static str],
}

const HISTORY: &[Step] = &[
    Step {
        recorded: "2026-11-02T09:10:00Z",
        events: &[
            r#"{"type":"person_joined","at":"2026-11-02T09:00:00Z","person":"c-new","name":"Cllr New","kind":"councillor"}"#,
        ],
    },
    Step {
        recorded: "2026-11-02T09:20:00Z",
        events: &[
            r#"{"type":"device_registered","at":"2026-11-02T09:15:00Z","device":"LAP-9","kind":"laptop","owner":"council"}"#,
            r#"{"type":"device_issued","at":"2026-11-02T09:15:00Z","device":"LAP-9","person":"c-new"}"#,
        ],
    },
    // The return on Saturday is booked in on Monday before the Friday leaving.
    Step {
        recorded: "2026-11-30T09:00:00Z",
        events: &[
            r#"{"type":"device_returned","at":"2026-11-28T10:00:00Z","device":"LAP-9","person":"c-new"}"#,
        ],
    },
    Step {
        recorded: "2026-11-30T09:05:00Z",
        events: &[
            r#"{"type":"person_left","at":"2026-11-27T17:00:00Z","person":"c-new","reason":"resigned"}"#,
        ],
    },
];

fn event(json: &str) -> serde_json::Value {
    serde_json::from_str(json).expect("json")
}

/// The history through the pages, as the ICT officer fills in the forms.
async fn through_the_pages(app: &TestApp) {
    for step in HISTORY {
        // Weeks pass between steps: the officer signs in each time.
        app.state.clock.set(Some(t(step.recorded)));
        let ict = app.sign_in(NORTH, "p-ict").await;
        let first = event(step.events[0]);
        let at = first["at"].as_str().expect("at").to_owned();
        let w = when(&at);
        let mut fields: Vec<(&str, String)> = w.to_vec();
        let path = match first["type"].as_str().expect("type") {
            "person_joined" => {
                fields.extend([
                    ("person", "c-new".to_owned()),
                    ("name", "Cllr New".to_owned()),
                    ("kind", "councillor".to_owned()),
                ]);
                "/c/north/starters".to_owned()
            }
            "device_registered" => {
                fields.extend([
                    ("device", "LAP-9".to_owned()),
                    ("kind", "laptop".to_owned()),
                    ("owner", "council".to_owned()),
                    ("person", "c-new".to_owned()),
                ]);
                "/c/north/devices".to_owned()
            }
            "device_returned" => {
                fields.push(("person", "c-new".to_owned()));
                "/c/north/devices/LAP-9/return".to_owned()
            }
            "person_left" => {
                fields.push(("reason", "resigned".to_owned()));
                "/c/north/people/c-new/leave".to_owned()
            }
            other => panic!("no form for {other}"),
        };
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let res = ict.post(app, &path, &fields).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{path}: {}",
            res.text().await.unwrap_or_default()
        );
        let location = test_utils::app::header(&res, reqwest::header::LOCATION);
        assert!(
            !location.starts_with("/sign-in"),
            "{path} went to {location}"
        );
    }
}

/// The same history through the API, one event a call.
async fn through_the_api(app: &TestApp) {
    for step in HISTORY {
        app.state.clock.set(Some(t(step.recorded)));
        for body in step.events {
            let res = app
                .client
                .post(format!("{}/api/v1/councils/north/events", app.url))
                .bearer_auth(token(NORTH, "p-ict"))
                .header("content-type", "application/json")
                .body(*body)
                .send()
                .await
                .expect("post");
            assert_eq!(
                res.status(),
                StatusCode::CREATED,
                "{body}: {}",
                res.text().await.unwrap_or_default()
            );
        }
    }
}

/// The same history as an import would take it: lines saying when each
/// was recorded and by whom, admitted in history mode after the stored log.
fn through_an_import(app: &TestApp) -> (store::Head, Vec<String>) {
    let council = app.council(NORTH);
    let stored = {
        let mut log = app.state.store.get().expect("store");
        store::events(&mut *log, NORTH).expect("events")
    };
    let mut ledger = rules::Ledger::restore(council.pack, council.calendar, stored);
    let mut lines = Vec::new();
    for step in HISTORY {
        for body in step.events {
            let mut v = event(body);
            v["recorded"] = step.recorded.into();
            v["by"] = "p-ict".into();
            lines.push(domain::parse_event(&v.to_string()).expect("an event"));
        }
    }
    let last = t(HISTORY[HISTORY.len() - 1].recorded);
    let admitted = ledger
        .admit(lines, rules::Admission::history(last))
        .expect("the history is admitted");
    let new: Vec<domain::Event> = admitted
        .seqs
        .iter()
        .filter_map(|s| ledger.get(*s).map(|l| l.event.clone()))
        .collect();
    let head = {
        let mut log = app.state.store.get().expect("store");
        let head = log.head(NORTH).expect("head");
        log.append(NORTH, head, &new).expect("append")
    };
    let findings = ledger
        .findings(t("2026-12-01T00:00:00Z"))
        .iter()
        .map(|f| format!("{f:?}"))
        .collect();
    (head, findings)
}

fn findings_of(app: &TestApp) -> Vec<String> {
    app.council(NORTH)
        .view(t("2026-12-01T00:00:00Z"))
        .findings
        .iter()
        .map(|f| format!("{f:?}"))
        .collect()
}

fn head_of(app: &TestApp) -> store::Head {
    let mut log = app.state.store.get().expect("store");
    log.head(NORTH).expect("head")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_history_by_the_pages_the_api_and_an_import_gives_one_log_and_one_set_of_findings()
{
    let (pages, api, import) = (
        TestApp::start().await,
        TestApp::start().await,
        TestApp::start().await,
    );
    through_the_pages(&pages).await;
    through_the_api(&api).await;
    let (import_head, import_findings) = through_an_import(&import);

    assert_eq!(head_of(&pages), head_of(&api), "pages and API");
    assert_eq!(head_of(&pages), import_head, "pages and import");
    assert_eq!(findings_of(&pages), findings_of(&api));
    assert_eq!(findings_of(&pages), import_findings);

    // The leaving was recorded after the return, and placed before it: the
    // laptop came back in time, and the finding says it was recorded late.
    let view = pages.council(NORTH).view(t("2026-12-01T00:00:00Z"));
    let returned = view
        .findings
        .iter()
        .find(|f| {
            &*f.rule == "southend.devices-returned-48h"
                && f.concerns.device.as_deref() == Some("LAP-9")
        })
        .expect("the return finding");
    assert_eq!(returned.status, rules::Status::Met);
    assert_eq!(returned.recorded(), Some(t("2026-11-30T09:00:00Z")));
    assert!(
        returned.sentence().contains("recorded 1 day later"),
        "{}",
        returned.sentence()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn fifty_api_clients_with_their_own_clocks_are_all_recorded_and_the_chain_is_sound() {
    let app = TestApp::start().await;
    let before = app.head(NORTH);
    let mut writers = Vec::new();
    for i in 0..50u32 {
        let client = app.client.clone();
        let url = format!("{}/api/v1/councils/north/events", app.url);
        writers.push(tokio::spawn(async move {
            // Each client stamps the event with its own idea of now, a
            // little behind the server's: arrivals are out of `at` order.
            let skew = SignedDuration::from_millis(i64::from((i * 37) % 1500));
            let at = web::clock::now() - skew;
            let body = format!(
                r#"{{"type":"password_changed","person":"p-member","at":"{at}","id":"pw-{i}"}}"#
            );
            let res = client
                .post(url)
                .bearer_auth(token(NORTH, "p-ict"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("post");
            (res.status(), res.text().await.unwrap_or_default())
        }));
    }
    let mut refused = Vec::new();
    for writer in writers {
        let (status, body) = writer.await.expect("writer");
        if status != StatusCode::CREATED {
            refused.push(format!("{status}: {body}"));
        }
    }
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert_eq!(app.head(NORTH), before + 50);
    let mut log = app.state.store.get().expect("store");
    let verified = store::verify(&mut *log, NORTH).expect("verify");
    assert_eq!(verified.broken, None);
    assert_eq!(verified.sound, before + 50);
    // Recorded in the order they arrived; folded in the order they happened.
    let events = store::events(&mut *log, NORTH).expect("events");
    let recorded: Vec<Timestamp> = events.iter().map(|e| e.recorded_or_at()).collect();
    assert!(recorded.is_sorted(), "recording times never go back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_form_records_when_it_happened_and_refuses_the_future() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    app.state.clock.set(Some(t("2026-11-30T09:00:00Z")));
    // Left on Friday at 17:00, recorded on Monday.
    let w = when("2026-11-27T17:00:00Z");
    let mut fields: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    fields.push(("reason", "resigned"));
    let res = ict
        .post(&app, "/c/north/people/p-leaver/leave", &fields)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let left = app
        .council(NORTH)
        .with_estate(|e| e.people[&"p-leaver".into()].left);
    assert_eq!(left, Some(t("2026-11-27T17:00:00Z")));
    // The checklist's clock runs from Friday, not from Monday.
    let page = ict
        .get(&app, "/c/north/people/p-leaver/leave")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("29 Nov 2026 17:00"),
        "due 48 hours after Friday 17:00"
    );
    // A time in the future is refused at the field, and nothing is recorded.
    let head = app.head(NORTH);
    let w = when("2026-12-02T10:00:00Z");
    let fields: Vec<(&str, &str)> = w.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = ict
        .post(&app, "/c/north/devices/LAP-1/removal", &fields)
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("page");
    assert!(page.contains("not in the future"), "{page}");
    assert_eq!(app.head(NORTH), head);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_record_that_contradicts_the_timeline_is_refused_naming_the_event() {
    let app = TestApp::start().await;
    let head = app.head(NORTH);
    // LAP-1 was issued to p-member at 09:xx on 5 January; a return dated
    // the day before cannot be: nobody held it then.
    let res = app
        .client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, "p-ict"))
        .header("content-type", "application/json")
        .body(r#"{"type":"person_left","person":"p-member","at":"2026-01-05T09:12:30Z"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = res.json().await.expect("json");
    let messages = problem["errors"].to_string();
    assert!(
        messages.contains("device_issued #") && messages.contains("would then not fit"),
        "{problem}"
    );
    assert_eq!(problem["errors"][0]["field"], "at", "{problem}");
    assert_eq!(app.head(NORTH), head, "nothing was recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_correction_voids_the_entry_keeps_it_struck_through_and_records_the_right_one() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let council = app.council(NORTH);
    let issue = council.with_ledger(|l| {
        l.timeline()
            .log()
            .iter()
            .find(|e| matches!(&e.event.kind, domain::EventKind::DeviceIssued(d) if d.device.as_str() == "LAP-1"))
            .map(|e| e.seq)
            .expect("LAP-1 was issued")
    });
    // LAP-1 was issued to the wrong person: it went to p-ig.
    let page = ict
        .get(&app, &format!("/c/north/events/{issue}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("LAP-1 issued to p-member"), "{page}");
    let res = ict
        .post(
            &app,
            &format!("/c/north/events/{issue}/correct"),
            &[
                ("reason", "issued to the wrong person"),
                ("f_device", "LAP-1"),
                ("f_person", "p-ig"),
                ("when_date", "2026-01-05"),
                ("when_time", "09:30"),
                ("when_default", ""),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let holder = council.with_estate(|e| e.devices[&"LAP-1".into()].holder.clone());
    assert_eq!(holder.as_ref().map(|h| h.as_str()), Some("p-ig"));
    let person = ict
        .get(&app, "/c/north/people/p-member")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        person.contains("<del>LAP-1 issued to p-member</del>"),
        "{person}"
    );
    assert!(
        person.contains("by p-ict: issued to the wrong person"),
        "{person}"
    );
    let verified = {
        let mut log = app.state.store.get().expect("store");
        store::verify(&mut *log, NORTH).expect("verify")
    };
    assert_eq!(verified.broken, None);

    // A correction that leaves the time as the form shows it keeps the
    // entry's instant to the second (not the minute shown, nor now).
    let res = app
        .client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, "p-ict"))
        .header("content-type", "application/json")
        .body(r#"{"type":"password_changed","person":"p-member","at":"2026-01-06T10:15:42Z"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let typed = council.with_ledger(|l| l.len());
    let res = ict
        .post(
            &app,
            &format!("/c/north/events/{typed}/correct"),
            &[
                ("reason", "recorded against the wrong person"),
                ("f_person", "p-ig"),
                ("when_date", "2026-01-06"),
                ("when_time", "10:15"),
                ("when_default", "2099-01-01 00:00"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let corrected = council.with_ledger(|l| l.timeline().log().last().map(|e| e.event.at));
    assert_eq!(corrected, Some(t("2026-01-06T10:15:42Z")));

    // Voiding a joining that later entries stand on is refused, naming them.
    let joined = council.with_ledger(|l| {
        l.timeline()
            .log()
            .iter()
            .find(|e| matches!(&e.event.kind, domain::EventKind::PersonJoined(p) if p.person.as_str() == "p-leaver"))
            .map(|e| e.seq)
            .expect("p-leaver joined")
    });
    let head = app.head(NORTH);
    let res = ict
        .post(
            &app,
            &format!("/c/north/events/{joined}/correct"),
            &[("reason", "test"), ("void_only", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("page");
    assert!(page.contains("depends on it"), "{page}");
    assert_eq!(app.head(NORTH), head);

    // A member may not correct the records.
    let member = app.sign_in(NORTH, "p-member").await;
    let res = member
        .post(
            &app,
            &format!("/c/north/events/{joined}/correct"),
            &[("reason", "mine"), ("void_only", "yes")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_answers_as_of_and_as_known_and_names_the_evidence() {
    let app = TestApp::start().await;
    through_the_api(&app).await;
    app.state.clock.set(Some(t("2026-12-01T00:00:00Z")));
    let get = |query: &str| {
        let url = format!("{}/api/v1/councils/north/findings?{query}", app.url);
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .bearer_auth(token(NORTH, "p-ict"))
                .send()
                .await
                .expect("get")
        }
    };
    let lap9 = |v: &serde_json::Value| -> Option<serde_json::Value> {
        v.as_array()?
            .iter()
            .find(|f| f["rule"] == "southend.devices-returned-48h" && f["device"] == "LAP-9")
            .cloned()
    };
    let now: serde_json::Value = get("").await.json().await.expect("json");
    let met = lap9(&now).expect("the finding");
    assert_eq!(met["status"], "met");
    // Recorded on Monday, in the council's offset (GMT in November).
    assert_eq!(met["recorded"], "2026-11-30T09:00:00+00:00");
    // The one shape of a finding (as `warden check --format json` gives
    // it): every field, null where it does not apply, in this order.
    let keys: Vec<&str> = met
        .as_object()
        .map(|o| o.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        [
            "rule", "status", "due", "cite", "person", "device", "policy", "incident", "resource",
            "settled", "recorded", "detail", "events"
        ]
    );
    assert!(met["incident"].is_null(), "{met}");
    assert_eq!(met["events"].as_array().map(Vec::len), Some(2), "{met}");
    // What Warden said on Sunday night: nothing about LAP-9's return.
    let sunday: serde_json::Value = get("at=2026-11-29T23:59:59Z&known_at=2026-11-29T23:59:59Z")
        .await
        .json()
        .await
        .expect("json");
    assert!(lap9(&sunday).is_none(), "{sunday}");
    let bad = get("known_at=yesterday").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let problem: serde_json::Value = bad.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "known_at");
}

/// Appends an event to the stored log as another writer would, without
/// this service's knowledge.
fn append_behind(app: &TestApp, event: &str) {
    let mut log = app.state.store.get().expect("store");
    let head = log.head(NORTH).expect("head");
    let event = domain::parse_event(event).expect("event");
    log.append(NORTH, head, &[event]).expect("append");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_that_loses_the_race_is_admitted_again_against_the_log_as_it_stands() {
    let app = TestApp::start().await;
    let council = app.council(NORTH);
    let before = council.head();
    // Another writer (an import beside the service, another node) moves
    // the stored log on behind this service's back.
    append_behind(
        &app,
        r#"{"at":"2026-01-06T09:00:00Z","type":"person_left","person":"p-leaver"}"#,
    );
    // A command prepared against the old head loses the race, follows the
    // log, and is admitted again: here it still holds.
    let res = post(
        &app,
        r#"{"type":"password_changed","person":"p-member","at":"2026-01-07T10:00:00Z"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        council.head(),
        before + 2,
        "the other writer's event and this one"
    );
    assert!(
        !council.is_present(&"p-leaver".into()),
        "the other writer's leaving is followed"
    );

    // Here it no longer holds: refused for the domain's reason, not a 503.
    append_behind(
        &app,
        r#"{"at":"2026-01-08T09:00:00Z","type":"person_left","person":"p-member"}"#,
    );
    let res = post(
        &app,
        r#"{"type":"device_issued","device":"LAP-1","person":"p-member","at":"2026-01-09T10:00:00Z"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = res.json().await.expect("json");
    assert!(problem.to_string().contains("has left"), "{problem}");
}

async fn post(app: &TestApp, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, "p-ict"))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("post")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_the_store_cannot_take_leaves_the_service_as_it_was() {
    let app = TestApp::start().await;
    let council = app.council(NORTH);
    let now = web::clock::now();
    let before = (council.head(), council.view(now).findings.len());
    // The council's row goes from under the store (past the foreign keys):
    // the append fails, and not for a race.
    let path = app.db_path();
    let conn = rusqlite::Connection::open(path).expect("open");
    conn.execute_batch(
        "PRAGMA foreign_keys = OFF; UPDATE councils SET id = 'gone' WHERE id = 'north'",
    )
    .expect("tamper");
    drop(conn);
    // A late record, which the ledger places and then must take back.
    let res = post(
        &app,
        r#"{"type":"person_left","person":"p-leaver","at":"2026-01-05T10:00:00Z"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        test_utils::app::header(&res, reqwest::header::RETRY_AFTER),
        "5",
        "a client is told when to try again"
    );
    assert_eq!(
        (council.head(), council.view(now).findings.len()),
        before,
        "nothing changed in the service"
    );
    assert!(
        council.is_present(&"p-leaver".into()),
        "the leaving was taken back"
    );
}
