//! The SCIM server as Entra ID's provisioning uses it: the request
//! sequences Microsoft documents (create, disable, re-enable, rename,
//! group add and remove), replayed over real HTTP, asserting the events
//! they record and the findings they start; its errors; who may hold a
//! provisioning token; and an imported leaver against a SCIM-disabled one.

use jiff::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use test_utils::app::{NORTH, TestApp, token};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A provisioning token made as an ICT administrator would, on the tokens page.
async fn provisioning_token(app: &TestApp) -> String {
    let ict = app.sign_in(NORTH, "p-ict").await;
    let res = ict
        .post(
            app,
            "/c/north/me/tokens",
            &[("name", "Entra ID"), ("scope", "provisioning")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("page");
    let start = html
        .find("id=\"new-token\">")
        .expect("the new token is shown")
        + 15;
    let end = start + html[start..].find('<').expect("end of token");
    html[start..end].to_owned()
}

struct Scim<'a> {
    app: &'a TestApp,
    token: String,
}

impl Scim<'_> {
    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .app
            .client
            .request(method, format!("{}/scim/v2{path}", self.app.url))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(body.to_string());
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        if status != StatusCode::NO_CONTENT {
            assert_eq!(
                test_utils::app::header(&res, reqwest::header::CONTENT_TYPE),
                "application/scim+json",
                "{path}"
            );
        }
        let text = res.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    async fn patch(&self, path: &str, operations: Value) -> (StatusCode, Value) {
        let body = json!({"schemas": [PATCH], "Operations": operations});
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }
}

/// The events recorded since `from`, as (type, person, the rest) without
/// when they were recorded.
fn events_since(app: &TestApp, from: u64) -> Vec<Value> {
    app.council(NORTH).with_ledger(|l| {
        (from + 1..=l.len())
            .filter_map(|seq| l.get(seq))
            .map(|logged| {
                let mut v: Value =
                    serde_json::from_str(&logged.event.to_canonical_json()).expect("json");
                if let Some(o) = v.as_object_mut() {
                    o.remove("recorded");
                    o.remove("id");
                }
                v
            })
            .collect()
    })
}

/// An Entra user as its provisioning sends one (Microsoft's documented
/// request, with this council's people).
fn entra_user(external_id: &str, user_name: &str, name: &str, title: &str) -> Value {
    json!({
        "schemas": [USER, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": name,
        "emails": [{"primary": true, "type": "work", "value": user_name}],
        "title": title,
        "meta": {"resourceType": "User"},
        "name": {"formatted": name, "familyName": "x", "givenName": "y"},
        ENTERPRISE: {"department": "Planning"}
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn entra_s_documented_requests_record_joining_moving_leaving_and_roles() {
    let app = TestApp::init()
        .with_scim_group(NORTH, "Warden ICT administrators", "ict_admin")
        .start()
        .await;
    let scim = Scim {
        app: &app,
        token: provisioning_token(&app).await,
    };

    // Entra first asks whether the user exists: zero results is a 200.
    let (status, list) = scim
        .get("/Users?filter=userName+eq+%22alex%40north.gov.uk%22")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["totalResults"], 0);

    // Create: a new person joins.
    let head = app.head(NORTH);
    let (status, alex) = scim
        .post(
            "/Users",
            entra_user(
                "e-2001",
                "alex@north.gov.uk",
                "Alex Morgan",
                "Planning officer",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{alex}");
    assert_eq!(alex["id"], "e-2001", "the external id is the person's id");
    assert_eq!(alex["meta"]["location"], "/scim/v2/Users/e-2001");
    let joined = events_since(&app, head);
    assert_eq!(
        joined,
        vec![
            json!({"at": joined[0]["at"], "type": "person_joined", "person": "e-2001", "name": "Alex Morgan",
            "kind": "employee", "email": "alex@north.gov.uk", "job": "Planning officer", "department": "Planning"})
        ]
    );
    let (_, found) = scim
        .get("/Users?filter=userName+eq+%22ALEX%40north.gov.uk%22")
        .await;
    assert_eq!(
        found["totalResults"], 1,
        "userName is matched without regard to case"
    );

    // Disable, as Entra sends it without its 2020 fix: "False", a string.
    let head = app.head(NORTH);
    let (status, disabled) = scim
        .patch(
            "/Users/e-2001",
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["active"], false, "kept as a boolean");
    let left = events_since(&app, head);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["type"], "person_left");
    assert_eq!(left[0]["reason"], "account disabled");

    // Re-enable, as Entra sends it with the fix: a boolean, no path.
    let head = app.head(NORTH);
    scim.patch(
        "/Users/e-2001",
        json!([{"op": "replace", "value": {"active": true}}]),
    )
    .await;
    let back = events_since(&app, head);
    assert_eq!(back.len(), 1);
    assert_eq!(back[0]["type"], "person_joined", "re-enabled: joined again");

    // Rename and a new work email: kept on the user, no event (a name is
    // not something the rules act on).
    let head = app.head(NORTH);
    let (status, renamed) = scim
        .patch(
            "/Users/e-2001",
            json!([
                {"op": "Replace", "path": "displayName", "value": "Alex Morgan-Reid"},
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "alex.mr@north.gov.uk"}
            ]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["displayName"], "Alex Morgan-Reid");
    assert_eq!(renamed["emails"][0]["value"], "alex.mr@north.gov.uk");
    assert!(events_since(&app, head).is_empty());

    // A new title and department: a move.
    let head = app.head(NORTH);
    scim.patch(
        "/Users/e-2001",
        json!([
            {"op": "Replace", "path": "title", "value": "Planning manager"},
            {"op": "Replace", "path": format!("{ENTERPRISE}:department"), "value": "Regeneration"}
        ]),
    )
    .await;
    let moved = events_since(&app, head);
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert_eq!(moved[0]["type"], "person_moved");
    assert_eq!(moved[0]["job"], "Planning manager");
    assert_eq!(moved[0]["department"], "Regeneration");

    // A group the council maps to a role: its members hold it.
    let head = app.head(NORTH);
    let (status, group) = scim
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Warden ICT administrators", "externalId": "g-1",
                "members": [{"value": "e-2001"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{group}");
    let group_path = format!("/Groups/{}", group["id"].as_str().expect("id"));
    let granted = events_since(&app, head);
    assert_eq!(granted.len(), 1);
    assert_eq!(
        (&granted[0]["type"], &granted[0]["role"]),
        (&json!("role_granted"), &json!("ict_admin"))
    );
    // Removed by a filter on members, added again, removed by a value array.
    let head = app.head(NORTH);
    scim.patch(
        &group_path,
        json!([{"op": "Remove", "path": "members[value eq \"e-2001\"]"}]),
    )
    .await;
    scim.patch(
        &group_path,
        json!([{"op": "Add", "path": "members", "value": [{"value": "e-2001"}]}]),
    )
    .await;
    scim.patch(
        &group_path,
        json!([{"op": "Remove", "path": "members", "value": [{"value": "e-2001"}]}]),
    )
    .await;
    let types: Vec<Value> = events_since(&app, head)
        .iter()
        .map(|e| e["type"].clone())
        .collect();
    assert_eq!(
        types,
        vec![
            json!("role_revoked"),
            json!("role_granted"),
            json!("role_revoked")
        ]
    );
    let (_, without) = scim
        .get(&format!("{group_path}?excludedAttributes=members"))
        .await;
    assert!(
        without.get("members").is_none() && without["displayName"].is_string(),
        "{without}"
    );

    // A councillor Warden already knows, linked by their id: disabling
    // their account starts the 48-hour clock for the laptop they hold.
    let head = app.head(NORTH);
    let (status, _) = scim
        .post(
            "/Users",
            entra_user(
                "p-leaver",
                "cllr.leaver@north.gov.uk",
                "Cllr Leaver",
                "Ward councillor",
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        events_since(&app, head)
            .iter()
            .all(|e| e["type"] != "person_joined"),
        "a person already present is linked, not joined again"
    );
    scim.patch(
        "/Users/p-leaver",
        json!([{"op": "Replace", "path": "active", "value": "False"}]),
    )
    .await;
    let now = app.state.now();
    let view = app.council(NORTH).view(now);
    let clock = view
        .about("p-leaver")
        .find(|f| &*f.rule == "southend.devices-returned-48h")
        .expect("the 48-hour return clock runs");
    assert_eq!(clock.status, rules::Status::Open);
    let due = clock.due.expect("a deadline");
    assert!(
        due > now && due <= now + jiff::SignedDuration::from_hours(48),
        "{due}"
    );

    // Delete: a present person leaves; the user is gone.
    let head = app.head(NORTH);
    let (status, _) = scim
        .send(reqwest::Method::DELETE, "/Users/e-2001", None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(events_since(&app, head)[0]["type"], "person_left");
    assert_eq!(scim.get("/Users/e-2001").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_scim_errors_and_record_nothing() {
    let app = TestApp::start().await;
    let scim = Scim {
        app: &app,
        token: provisioning_token(&app).await,
    };
    let head = app.head(NORTH);
    let cases = [
        (
            scim.post("/Users", json!({"displayName": "No user name"}))
                .await,
            400,
            Some("invalidValue"),
        ),
        (
            scim.get("/Users?filter=userName+co+%22a%22").await,
            400,
            Some("invalidFilter"),
        ),
        (
            scim.get("/Users?startIndex=first").await,
            400,
            Some("invalidValue"),
        ),
        (scim.get("/Users/nobody").await, 404, None),
        (scim.get("/NoSuchThing").await, 404, None),
        (scim.patch("/Users/nobody", json!([])).await, 404, None),
    ];
    for ((status, body), expected, scim_type) in cases {
        assert_eq!(status.as_u16(), expected, "{body}");
        assert_eq!(
            body["schemas"][0],
            "urn:ietf:params:scim:api:messages:2.0:Error"
        );
        assert_eq!(body["status"], expected.to_string());
        if let Some(t) = scim_type {
            assert_eq!(body["scimType"], t, "{body}");
        }
    }
    let (status, _) = scim
        .post(
            "/Users",
            entra_user("e-1", "a@north.gov.uk", "A", "Officer"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let head_after_one = app.head(NORTH);
    let (status, body) = scim
        .post(
            "/Users",
            entra_user("e-2", "A@north.gov.uk", "B", "Officer"),
        )
        .await;
    assert_eq!(
        (status, &body["scimType"]),
        (StatusCode::CONFLICT, &json!("uniqueness"))
    );
    let (status, body) = scim
        .patch(
            "/Users/e-1",
            json!([{"op": "Replace", "path": "active", "value": "perhaps"}]),
        )
        .await;
    assert_eq!(
        (status, &body["scimType"]),
        (StatusCode::BAD_REQUEST, &json!("invalidValue")),
        "{body}"
    );
    assert_eq!(app.head(NORTH), head_after_one, "nothing more was recorded");
    assert_eq!(head_after_one, head + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn only_a_provisioning_token_of_someone_who_manages_accounts_reaches_scim() {
    let app = TestApp::start().await;
    let url = format!("{}/scim/v2/Users", app.url);
    // No token, an API token: refused.
    let res = app.client.get(&url).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(&url)
        .bearer_auth(token(NORTH, "p-ict"))
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "a write token is not a provisioning token"
    );
    // A provisioning token does not reach the API.
    let provisioning = provisioning_token(&app).await;
    let res = app
        .client
        .get(format!("{}/api/v1/councils/north/people", app.url))
        .bearer_auth(&provisioning)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = app
        .client
        .get(&url)
        .bearer_auth(&provisioning)
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    // A member is not offered the scope, and may not ask for it.
    let member = app.sign_in(NORTH, "p-member").await;
    let page = member
        .get(&app, "/c/north/me/tokens")
        .await
        .text()
        .await
        .expect("page");
    assert!(!page.contains("provisioning"), "not offered to a member");
    let res = member
        .post(
            &app,
            "/c/north/me/tokens",
            &[("name", "sneaky"), ("scope", "provisioning")],
        )
        .await;
    assert_ne!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("page").contains("Choose read only"));
}

/// The person's events (without ids and recording times) and findings.
fn record_of(app: &TestApp, person: &str, now: Timestamp) -> (Vec<Value>, Vec<String>) {
    let events: Vec<Value> = events_since(app, 0)
        .into_iter()
        .filter(|e| e["person"] == person)
        .collect();
    let view = app.council(NORTH).view(now);
    let mut findings: Vec<String> = view
        .about(person)
        .map(|f| format!("{} {:?} {:?} {:?}", f.rule, f.status, f.due, f.settled))
        .collect();
    findings.sort();
    (events, findings)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_imported_leaver_and_a_scim_disabled_user_are_recorded_alike() {
    let joined: Timestamp = "2026-02-02T09:00:00Z".parse().expect("time");
    let disabled: Timestamp = "2026-03-02T09:00:00Z".parse().expect("time");
    let header =
        "id,userPrincipalName,displayName,mail,userType,jobTitle,department,accountEnabled";
    let row = |enabled: &str| {
        format!(
            "{header}\ne-3001,sam@north.gov.uk,Sam Okoro,sam@north.gov.uk,Member,Housing officer,Housing,{enabled}\n"
        )
    };

    // Through an import of Entra's users, twice: enabled, then disabled.
    let imported = TestApp::init().at(joined).start().await;
    for (file, as_of) in [(row("True"), joined), (row("False"), disabled)] {
        imported.state.clock.set(Some(as_of));
        let (_, rows) = imports::read(file.as_bytes(), None).expect("read");
        let council = imported.council(NORTH);
        let plan = council
            .with_estate(|estate| {
                imports::plan(
                    estate,
                    &rows,
                    &imports::Options {
                        as_of: Some(as_of),
                        complete: false,
                        tz: council.pack.time_zone.clone(),
                        now: as_of,
                    },
                )
            })
            .expect("plan");
        let events = plan.events.into_iter().map(|(_, e)| e).collect();
        imported
            .state
            .record(&council, events)
            .await
            .expect("recorded");
    }

    // Through SCIM: created, then disabled.
    let pushed = TestApp::init().at(joined).start().await;
    let scim = Scim {
        app: &pushed,
        token: provisioning_token(&pushed).await,
    };
    let mut user = entra_user("e-3001", "sam@north.gov.uk", "Sam Okoro", "Housing officer");
    user[ENTERPRISE]["department"] = json!("Housing");
    assert_eq!(scim.post("/Users", user).await.0, StatusCode::CREATED);
    pushed.state.clock.set(Some(disabled));
    let (status, _) = scim
        .patch(
            "/Users/e-3001",
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    let later = disabled + jiff::SignedDuration::from_hours(24 * 30);
    let a = record_of(&imported, "e-3001", later);
    let b = record_of(&pushed, "e-3001", later);
    assert_eq!(a.0.len(), 2, "{:?}", a.0);
    assert_eq!(a, b, "the same events and findings either way");
}
