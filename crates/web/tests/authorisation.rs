//! The authorisation matrix: every route of the router, for every role, on
//! the user's own council and on another council, allowed or denied as the
//! table below says. The table is written here, apart from the Cedar
//! policies, so a mistake in either shows; and the routes come from the
//! router itself, so a route added without a rule fails this test.

use reqwest::StatusCode;
use std::collections::BTreeSet;
use test_utils::app::{NORTH, ROLES, TestApp, WEST, token};
use web::Guard;
use web::authz::Action;

/// Which roles may take each action on their own council, on a route about
/// the council or (`person`) about one person, here `p-nobody`, who is in
/// no manager's team: a manager's reach is their team.
fn allowed(action: Action, person: bool) -> &'static [&'static str] {
    const OFFICERS: &[&str] = &["ict_admin", "information_governance", "siro"];
    const EVERYONE: &[&str] = &[
        "ict_admin",
        "information_governance",
        "siro",
        "manager",
        "member",
    ];
    match action {
        Action::SelfService | Action::ReportIncident => EVERYONE,
        Action::ViewRegisters | Action::ViewFindings => OFFICERS,
        Action::ManagePeople if person => &["ict_admin"],
        Action::ManagePeople | Action::ApproveRemoval => &["ict_admin", "manager"],
        Action::ViewTeam => &["manager"],
        Action::ManageDevices
        | Action::ManageAccess
        | Action::ManageAccounts
        | Action::ImportRecords => &["ict_admin"],
        Action::ManagePolicies => &["information_governance"],
        Action::AssessIncident => &["siro"],
        Action::HandleIncident => &["siro", "information_governance"],
        Action::CorrectRecords => &["ict_admin", "information_governance"],
    }
}

/// A concrete path for a route: ids that exist where reading needs them,
/// and none that a command could change (commands are refused for want of
/// valid input, after authorisation has been decided).
fn concrete(path: &str, council: &str) -> String {
    path.replace("{council}", council)
        .replace("{person}", "p-nobody")
        .replace("{device}", "LAP-none")
        .replace("{policy}", "no-such-policy")
        .replace("{incident}", "INC-none")
        .replace("{token}", "t-none")
        .replace("{event}", "999999")
        .replace("{file}", "warden.css")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_route_allows_exactly_the_roles_the_table_names_on_their_own_council_only() {
    let app = TestApp::start().await;
    let mut sessions = Vec::new();
    for (role, person, _) in ROLES {
        sessions.push((role, person, app.sign_in(NORTH, person).await));
    }
    let head = (app.head(NORTH), app.head(WEST));
    let mut checked = 0;
    let mut actions_seen = BTreeSet::new();
    let mut wrong = Vec::new();
    for route in &app.routes {
        let (action, api) = match route.guard {
            // Provisioning tokens are not sessions or API tokens: the SCIM
            // tests cover who may use them (tests/scim.rs).
            Guard::Public | Guard::Scraper | Guard::Provisioning => continue,
            Guard::Page(a) => (a, false),
            Guard::Api(a) => (a, true),
        };
        actions_seen.insert(action.name());
        for (role, person, session) in &sessions {
            for target in [NORTH, WEST] {
                let path = concrete(route.path, target);
                let post = route.method == axum::http::Method::POST;
                let res = match (api, post) {
                    (false, false) => session.get(&app, &path).await,
                    (false, true) => session.post(&app, &path, &[]).await,
                    (true, _) => {
                        let req = if post {
                            app.client
                                .post(format!("{}{path}", app.url))
                                .body("{}")
                                .header("content-type", "application/json")
                        } else {
                            app.client.get(format!("{}{path}", app.url))
                        };
                        req.bearer_auth(token(NORTH, person))
                            .send()
                            .await
                            .expect("request")
                    }
                };
                let status = res.status();
                let about_person = route.path.contains("{person}");
                let expect_allowed =
                    target == NORTH && allowed(action, about_person).contains(role);
                let was_allowed =
                    status != StatusCode::FORBIDDEN && status != StatusCode::UNAUTHORIZED;
                let bounced = status == StatusCode::SEE_OTHER
                    && test_utils::app::header(&res, reqwest::header::LOCATION)
                        .starts_with("/sign-in");
                if expect_allowed != was_allowed || bounced || status.is_server_error() {
                    wrong.push(format!("{} {path} as {role}: {status}", route.method));
                }
                checked += 1;
            }
        }
    }
    assert_eq!(
        wrong,
        Vec::<String>::new(),
        "routes whose answer differs from the table"
    );
    let all: BTreeSet<&str> = Action::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(actions_seen, all, "every action guards at least one route");
    assert!(
        checked >= 400,
        "checked {checked} route, role and council combinations"
    );
    // Nothing the matrix sent may have changed either council's log.
    assert_eq!((app.head(NORTH), app.head(WEST)), head);
}

#[tokio::test(flavor = "multi_thread")]
async fn public_routes_need_no_sign_in_and_guarded_ones_do() {
    let app = TestApp::start().await;
    for route in &app.routes {
        let path = concrete(route.path, NORTH);
        let res = match route.method {
            axum::http::Method::GET => app.client.get(format!("{}{path}", app.url)).send().await,
            axum::http::Method::POST => {
                app.client
                    .post(format!("{}{path}", app.url))
                    .form(&[("csrf", "x")])
                    .send()
                    .await
            }
            ref other => {
                app.client
                    .request(other.clone(), format!("{}{path}", app.url))
                    .send()
                    .await
            }
        }
        .expect("request");
        let status = res.status();
        match route.guard {
            Guard::Public => assert!(
                !status.is_server_error() && status != StatusCode::UNAUTHORIZED,
                "{} {path}: {status}",
                route.method
            ),
            Guard::Scraper => assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{} {path} asks a stranger for the metrics token",
                route.method
            ),
            Guard::Page(_) => {
                assert_eq!(
                    status,
                    StatusCode::SEE_OTHER,
                    "{} {path} sends a stranger to sign in",
                    route.method
                );
                assert!(
                    test_utils::app::header(&res, reqwest::header::LOCATION)
                        .starts_with("/sign-in?next=")
                );
            }
            Guard::Api(_) | Guard::Provisioning => {
                assert_eq!(status, StatusCode::UNAUTHORIZED, "{} {path}", route.method)
            }
        }
    }
}

/// A person the council adds later, with no service role, signs in and
/// reaches their own pages only; one given `ict_admin` reaches the
/// registers. (The test app's users are built, not copied: `with_user`.)
#[tokio::test(flavor = "multi_thread")]
async fn a_person_reaches_what_their_role_allows_from_the_day_they_join() {
    let app = TestApp::init()
        .with_user(NORTH, "p-new", None)
        .with_user(NORTH, "p-new-admin", Some("ict_admin"))
        .at("2026-03-02T10:00:00Z".parse().expect("a time"))
        .start()
        .await;
    assert_eq!(app.state.now().to_string(), "2026-03-02T10:00:00Z");
    let plain = app.sign_in(NORTH, "p-new").await;
    assert_eq!(plain.get(&app, "/c/north/me").await.status(), 200);
    assert_eq!(plain.get(&app, "/c/north/people").await.status(), 403);
    let admin = app.sign_in(NORTH, "p-new-admin").await;
    assert_eq!(admin.get(&app, "/c/north/people").await.status(), 200);
}

/// A manager sees and acts for the people who name them as manager, and no
/// one else: not the registers, not another team's person, not a starter
/// placed in someone else's team (regression: a manager saw and acted on
/// the whole council).
#[tokio::test(flavor = "multi_thread")]
async fn a_manager_reaches_their_team_only() {
    let joined = |person: &str, manager: &str| {
        domain::parse_event(&format!(
            r#"{{"at":"2026-01-06T09:00:00Z","type":"person_joined","person":"{person}","name":"N {person}","kind":"employee","manager":"{manager}"}}"#
        ))
        .expect("an event")
    };
    let app = TestApp::init()
        .with_event(NORTH, joined("t-mine", "p-mgr"))
        .with_event(NORTH, joined("t-theirs", "p-ict"))
        .start()
        .await;
    let mgr = app.sign_in(NORTH, "p-mgr").await;
    let status = |path: &'static str| {
        let mgr = mgr.clone();
        let app = &app;
        async move { mgr.get(app, path).await.status() }
    };
    assert_eq!(status("/c/north/people/t-mine").await, StatusCode::OK);
    assert_eq!(
        status("/c/north/people/t-theirs").await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(status("/c/north/people").await, StatusCode::FORBIDDEN);
    assert_eq!(status("/c/north/findings").await, StatusCode::FORBIDDEN);
    let team = mgr
        .get(&app, "/c/north/team")
        .await
        .text()
        .await
        .expect("body");
    assert!(
        team.contains("t-mine") && !team.contains("t-theirs"),
        "{team}"
    );

    let head = app.head(NORTH);
    let moved = mgr
        .post(&app, "/c/north/people/t-theirs/move", &[("job", "Clerk")])
        .await;
    assert_eq!(moved.status(), StatusCode::FORBIDDEN);
    let moved = mgr
        .post(&app, "/c/north/people/t-mine/move", &[("job", "Clerk")])
        .await;
    assert_eq!(moved.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.head(NORTH), head + 1);

    // A starter goes in the manager's own team, or not at all.
    let starter = |manager: &'static str| {
        [
            ("person", "t-new"),
            ("name", "New"),
            ("kind", "employee"),
            ("manager", manager),
        ]
    };
    let res = mgr.post(&app, "/c/north/starters", &starter("p-ict")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("body").contains("your own team"));
    let res = mgr.post(&app, "/c/north/starters", &starter("p-mgr")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The API holds the same line.
    let leave = serde_json::json!({"type": "person_left", "person": "t-theirs"});
    let res = app
        .client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, "p-mgr"))
        .json(&leave)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let moved = serde_json::json!({"type": "person_moved", "person": "t-mine", "job": "Officer"});
    let res = app
        .client
        .post(format!("{}/api/v1/councils/north/events", app.url))
        .bearer_auth(token(NORTH, "p-mgr"))
        .json(&moved)
        .send()
        .await
        .expect("request");
    assert!(
        res.status().is_success(),
        "their own team: {}",
        res.status()
    );
}
