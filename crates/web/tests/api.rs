//! The JSON API: its OpenAPI document, tokens, problems, and commands
//! checked as the pages check them.

use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp, token};

#[tokio::test(flavor = "multi_thread")]
async fn the_openapi_document_is_3_1_and_describes_every_api_route() {
    let app = TestApp::start().await;
    let doc: serde_json::Value = app
        .client
        .get(format!("{}/api/v1/openapi.json", app.url))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    for route in app
        .routes
        .iter()
        .filter(|r| matches!(r.guard, web::Guard::Api(_)))
    {
        let method = route.method.as_str().to_lowercase();
        assert!(
            doc["paths"][route.path][&method].is_object(),
            "{} {} is documented",
            route.method,
            route.path
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // POST events: one schema per event type, a oneOf on `type`.
    let body = &doc["paths"]["/api/v1/councils/{council}/events"]["post"]["requestBody"];
    assert_eq!(
        body["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Event"
    );
    let one_of = doc["components"]["schemas"]["Event"]["oneOf"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(one_of.len(), domain::EventType::ALL.len());
    let left = &doc["components"]["schemas"]["event_person_left"];
    assert_eq!(left["properties"]["type"]["const"], "person_left");
    assert_eq!(left["additionalProperties"], false);
}

async fn post_event(app: &TestApp, who: &str, body: &str) -> reqwest::Response {
    app.client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, who))
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .expect("post")
}

#[tokio::test(flavor = "multi_thread")]
async fn events_are_recorded_or_refused_with_a_problem_that_says_why() {
    let app = TestApp::start().await;
    let before = app.head(NORTH);
    // Not an event: the problem names the field.
    let res = post_event(
        &app,
        "p-ict",
        r#"{"type":"person_left","persn":"p-member"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        test_utils::app::header(&res, reqwest::header::CONTENT_TYPE),
        "application/problem+json"
    );
    let problem: serde_json::Value = res.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("persn")),
        "{problem}"
    );
    // An id no page could show or address: refused as the forms refuse it.
    let res = post_event(
        &app,
        "p-ict",
        r#"{"type":"device_registered","device":"SL/ASH-1","kind":"laptop","owner":"council"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let problem: serde_json::Value = res.json().await.expect("json");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("SL/ASH-1") && d.contains("an id of 1 to 64 letters")),
        "{problem}"
    );
    // An event that does not fit: the device is held by someone else.
    let res = post_event(
        &app,
        "p-ict",
        r#"{"type":"device_issued","device":"LAP-1","person":"p-ict"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: serde_json::Value = res.json().await.expect("json");
    assert_eq!(problem["errors"][0]["field"], "device", "{problem}");
    // A member may report their own device lost, not someone else's register.
    let res = post_event(
        &app,
        "p-member",
        r#"{"type":"device_registered","device":"LAP-9","kind":"laptop","owner":"council"}"#,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let now = web::now().to_string();
    let res = post_event(
        &app,
        "p-member",
        &format!(
            r#"{{"type":"device_lost","device":"LAP-1","discovered":"{now}","stolen":false}}"#
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.head(NORTH), before + 1);
    // The lost device's 24-hour clock was met by the report itself.
    let findings: serde_json::Value = app
        .client
        .get(format!(
            "{}/api/v1/councils/north/findings?status=met",
            app.url
        ))
        .bearer_auth(token(NORTH, "p-ict"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert!(
        findings.as_array().is_some_and(|f| f
            .iter()
            .any(|x| x["rule"] == "southend.loss-reported-24h" && x["device"] == "LAP-1")),
        "{findings}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_read_only_and_foreign_tokens_are_refused() {
    let app = TestApp::start().await;
    let url = format!("{}/api/v1/councils/north/summary", app.url);
    let get = |t: String| app.client.get(&url).bearer_auth(t).send();
    assert_eq!(
        get(token(NORTH, "p-ict")).await.expect("get").status(),
        StatusCode::OK
    );
    assert_eq!(
        get("wdn.bm9ydGg.cC1pY3Q.wrong".to_owned())
            .await
            .expect("get")
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(token("west", "p-ict")).await.expect("get").status(),
        StatusCode::FORBIDDEN,
        "another council's token"
    );
    // Revoke through the page, then the token stops working.
    let ict = app.sign_in(NORTH, "p-ict").await;
    let res = ict
        .post(&app, "/c/north/me/tokens/t-p-ict/revoke", &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get(token(NORTH, "p-ict")).await.expect("get").status(),
        StatusCode::UNAUTHORIZED
    );
    // A read-only token reads but does not write.
    let res = ict
        .post(
            &app,
            "/c/north/me/tokens",
            &[("name", "reports"), ("scope", "read")],
        )
        .await;
    let page = res.text().await.expect("body");
    let marker = r#"id="new-token">"#;
    let start = page.find(marker).expect("the new token is shown once") + marker.len();
    let read_only: String = page[start..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(
        get(read_only.clone()).await.expect("get").status(),
        StatusCode::OK
    );
    let res = app
        .client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(read_only)
        .body(r#"{"type":"password_changed","person":"p-ict"}"#)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn get_json(app: &TestApp, who: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let res = app
        .client
        .get(format!("{}{path}", app.url))
        .bearer_auth(token(NORTH, who))
        .send()
        .await
        .expect("get");
    let status = res.status();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// What the pages show, the API reads: devices, policies with their
/// versions, incidents, claims, acceptances and the log itself, page by
/// page with each entry's hash (regression: the API read only summary,
/// findings, people, a person and "me").
#[tokio::test(flavor = "multi_thread")]
async fn the_api_reads_every_register_and_the_log() {
    let app = TestApp::start().await;
    let get = |path: &'static str| get_json(&app, "p-ict", path);
    let (status, devices) = get("/api/v1/councils/north/devices").await;
    assert_eq!(status, StatusCode::OK);
    let lap1 = devices
        .as_array()
        .and_then(|d| d.iter().find(|d| d["id"] == "LAP-1"))
        .cloned()
        .expect("LAP-1");
    assert_eq!(
        (lap1["state"].as_str(), lap1["holder"].as_str()),
        (Some("held"), Some("p-member"))
    );
    let (_, device) = get("/api/v1/councils/north/devices/LAP-1").await;
    assert!(device["findings"].is_array(), "{device}");
    let (status, _) = get("/api/v1/councils/north/devices/NOPE").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, policies) = get("/api/v1/councils/north/policies").await;
    assert_eq!(policies[0]["id"], "councillor-ict");
    assert_eq!(policies[0]["current_version"], "1.0");
    let (_, policy) = get("/api/v1/councils/north/policies/councillor-ict").await;
    assert!(policy["versions"].is_array());

    let (_, incidents) = get("/api/v1/councils/north/incidents").await;
    assert_eq!(incidents[0]["id"], "INC-1");
    let (_, incident) = get("/api/v1/councils/north/incidents/INC-1").await;
    let clocks = incident["findings"].as_array().cloned().unwrap_or_default();
    assert!(
        clocks.iter().any(|f| f["rule"] == "uk.breach-notified-72h"),
        "the 72-hour clock: {incident}"
    );
    let (status, claims) = get("/api/v1/councils/north/claims").await;
    assert_eq!((status, claims.is_array()), (StatusCode::OK, true));
    let (_, acceptances) = get("/api/v1/councils/north/acceptances").await;
    assert!(
        acceptances
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["person"] == "p-member")),
        "{acceptances}"
    );

    // The log, two entries at a time, to its end: every entry once, in
    // order, each hash linking it to the one before.
    let head = app.head(NORTH);
    let mut after = 0u64;
    let mut seen = Vec::new();
    let mut previous = store::GENESIS;
    loop {
        let path = format!("/api/v1/councils/north/events?after={after}&limit=2");
        let (status, page) = get_json(&app, "p-ict", &path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for entry in page["entries"].as_array().cloned().unwrap_or_default() {
            let seq = entry["seq"].as_u64().expect("seq");
            let event = domain::parse_event(&entry["event"].to_string()).expect("an event");
            previous = store::chain::link(&previous, &store::chain::canonical(&event));
            assert_eq!(
                entry["hash"].as_str(),
                Some(previous.to_string().as_str()),
                "#{seq}"
            );
            seen.push(seq);
        }
        match page["next"].as_u64() {
            Some(next) => after = next,
            None => break,
        }
    }
    assert_eq!(seen, (1..=head).collect::<Vec<_>>());
    let (status, problem) = get("/api/v1/councils/north/events?limit=5000").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("limit"))
    );
    // A manager reaches their team, not the registers.
    let (status, _) = get_json(&app, "p-mgr", "/api/v1/councils/north/devices").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}
