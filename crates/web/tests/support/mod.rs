//! A test app: a throwaway SQLite store with two councils, a person of each
//! role in each, the service started for real on a loopback port, and a
//! client that signs in through the real forms.
#![allow(dead_code)]

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use rules::HolidayFile;
use std::sync::Arc;
use web::accounts::{Account, ApiToken, Scope, new_totp_secret, sha256_hex, totp_code};
use web::state::AppState;

pub const PASSWORD: &str = "correct-horse-battery";
/// Two councils: one on Southend's pack (MFA for everyone), one on
/// Leighton-Linslade's (MFA only for officers; laptop removal needs the
/// Town Clerk or a Head of Service).
pub const NORTH: &str = "north";
pub const WEST: &str = "west";

/// Who holds each service role in the fixture, and the estate role that confers it.
pub const ROLES: [(&str, &str, Option<&str>); 5] = [
    ("ict_admin", "p-ict", Some("ict_admin")),
    ("information_governance", "p-ig", Some("dpo")),
    ("siro", "p-siro", Some("siro")),
    ("manager", "p-mgr", Some("head_of_service")),
    ("member", "p-member", None),
];

pub struct TestApp {
    pub url: String,
    /// The SQLite file behind the store, for tests that tamper with it.
    pub db: std::path::PathBuf,
    pub state: AppState,
    pub routes: Vec<web::RouteInfo>,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

fn event(line: &str) -> domain::Event {
    domain::parse_event(line).unwrap_or_else(|e| panic!("fixture event {line}: {e}"))
}

/// The fixture log of a council: the five role holders, a councillor who
/// holds a laptop, a second councillor for leaver tests, and one incident.
fn fixture(policy: &str) -> Vec<domain::Event> {
    let mut lines = Vec::new();
    let at = |m: u32| format!("2026-01-05T09:{m:02}:00Z");
    let mut m = 0;
    for (_, person, role) in ROLES {
        let kind = if person == "p-member" {
            "councillor"
        } else {
            "employee"
        };
        lines.push(format!(r#"{{"at":"{}","type":"person_joined","person":"{person}","name":"Person {person}","kind":"{kind}","email":"{person}@example.gov.uk","household":"h-{person}"}}"#, at(m)));
        m += 1;
        if let Some(role) = role {
            lines.push(format!(
                r#"{{"at":"{}","type":"role_granted","person":"{person}","role":"{role}"}}"#,
                at(m)
            ));
            m += 1;
        }
        lines.push(format!(r#"{{"at":"{}","type":"mfa_enrolled","person":"{person}","method":"authenticator_app"}}"#, at(m)));
        m += 1;
    }
    lines.push(format!(r#"{{"at":"{}","type":"person_joined","person":"p-leaver","name":"Cllr Leaver","kind":"councillor"}}"#, at(m)));
    lines.push(format!(r#"{{"at":"{}","type":"device_registered","device":"LAP-1","kind":"laptop","owner":"council","acquired":"2025-06-01"}}"#, at(m + 1)));
    lines.push(format!(
        r#"{{"at":"{}","type":"device_issued","device":"LAP-1","person":"p-member"}}"#,
        at(m + 2)
    ));
    lines.push(format!(r#"{{"at":"{}","type":"device_registered","device":"LAP-2","kind":"laptop","owner":"council","acquired":"2025-06-01"}}"#, at(m + 3)));
    lines.push(format!(
        r#"{{"at":"{}","type":"device_issued","device":"LAP-2","person":"p-leaver"}}"#,
        at(m + 4)
    ));
    lines.push(format!(r#"{{"at":"{}","type":"incident_reported","incident":"INC-1","kind":"lost paper file","discovered":"{}","personal_data":true}}"#, at(m + 5), at(m + 5)));
    lines.push(format!(r#"{{"at":"{}","type":"policy_accepted","person":"p-member","policy":"{policy}","version":"1"}}"#, at(m + 6)));
    lines.into_iter().map(|l| event(&l)).collect()
}

impl TestApp {
    pub async fn start() -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("warden.db");
        let db = format!("sqlite:{}", db_path.display());
        let pool = store::Pool::open(&db).expect("open store");
        let mut log = pool.get().expect("a connection");
        let mut packs = Vec::new();
        for (council, pack, policy) in [
            (NORTH, "southend", "councillor-ict"),
            (WEST, "leighton-linslade", "ict-security"),
        ] {
            log.init_council(council, pack).expect("init");
            let events = fixture(policy);
            log.append(council, store::Head::EMPTY, &events)
                .expect("append fixture");
            let loaded = rules::load_pack(pack, &rules::bundled::Bundled).expect("bundled pack");
            packs.push((council.to_owned(), loaded));
            for (role, person, _) in ROLES {
                let mut account = Account::new(PASSWORD).expect("account");
                // In the west council the member signs in with a password
                // alone (that pack does not require MFA), for tests that need
                // two sessions of one person.
                if !(council == WEST && role == "member") {
                    account.enrol_totp(&new_totp_secret(), &test_keys());
                }
                account.tokens.push(ApiToken {
                    id: format!("t-{person}"),
                    name: "test".into(),
                    sha256: sha256_hex(&token_secret(council, person)),
                    scope: Scope::Write,
                    created: "2026-01-05T09:00:00Z".parse().expect("time"),
                    revoked: None,
                });
                let json = serde_json::to_string(&account).expect("json");
                log.save_account(council, person, &json)
                    .expect("save account");
            }
        }
        drop(log);
        let settings = web::Settings {
            secure_cookies: false,
            totp_keys: test_keys(),
        };
        let state = web::state(pool, packs, &HolidayFile::bundled(), settings).expect("state");
        let (router, routes) = web::app(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        TestApp {
            url: format!("http://{addr}"),
            db: db_path,
            state,
            routes,
            client,
            _dir: dir,
        }
    }

    pub fn db_path(&self) -> &std::path::Path {
        &self.db
    }

    pub fn council(&self, id: &str) -> Arc<web::council::Council> {
        self.state.council(id).expect("council")
    }

    pub async fn account(&self, council: &str, person: &str) -> Account {
        self.state
            .account(council, person)
            .await
            .expect("read")
            .expect("account")
    }

    /// Signs in through the forms, with a TOTP code when the account has a key.
    pub async fn sign_in(&self, council: &str, person: &str) -> Session {
        let anon = self.anonymous().await;
        let res = anon.password(self, council, person, PASSWORD).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "password accepted for {person}"
        );
        let location = header(&res, LOCATION);
        let mut session = Session {
            cookie: cookie(&res).expect("cookie"),
            csrf: String::new(),
        };
        if location.starts_with("/sign-in/code") {
            let page = session
                .get(self, "/sign-in/code")
                .await
                .text()
                .await
                .expect("body");
            session.csrf = csrf_in(&page);
            let secret = self
                .account(council, person)
                .await
                .totp_secret(&self.state.totp_keys)
                .expect("opens")
                .expect("enrolled");
            let code = totp_code(&secret, self.state.now()).expect("code");
            let res = session
                .post(self, "/sign-in/code", &[("code", &code), ("next", "")])
                .await;
            assert_eq!(
                res.status(),
                StatusCode::SEE_OTHER,
                "code accepted for {person}"
            );
            session.cookie = cookie(&res).expect("cookie");
        }
        let home = session.get(self, &format!("/c/{council}/me")).await;
        assert_eq!(home.status(), StatusCode::OK, "{person} is signed in");
        session.csrf = csrf_in(&home.text().await.expect("body"));
        session
    }

    /// A session before sign-in (it has a CSRF token for the sign-in form).
    pub async fn anonymous(&self) -> Session {
        let res = self
            .client
            .get(format!("{}/sign-in", self.url))
            .send()
            .await
            .expect("get");
        let cookie = cookie(&res).expect("a session cookie");
        let csrf = csrf_in(&res.text().await.expect("body"));
        Session { cookie, csrf }
    }

    pub fn head(&self, council: &str) -> u64 {
        self.council(council).head()
    }
}

/// The secret part of the fixture's API token for a person.
pub fn token_secret(council: &str, person: &str) -> String {
    format!(
        "{:0>64}",
        sha256_hex(&format!("{council}/{person}"))[..32].to_owned()
    )
}

pub fn token(council: &str, person: &str) -> String {
    use base64::Engine;
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "wdn.{}.{}.{}",
        b.encode(council),
        b.encode(person),
        token_secret(council, person)
    )
}

pub fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn cookie(res: &reqwest::Response) -> Option<String> {
    let set = header(res, SET_COOKIE);
    set.split(';')
        .next()
        .filter(|c| c.starts_with("warden_session="))
        .map(str::to_owned)
}

pub fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    html.find(marker)
        .map(|i| {
            html[i + marker.len()..]
                .chars()
                .take_while(|c| c.is_ascii_hexdigit())
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

impl Session {
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        app.client
            .get(format!("{}{path}", app.url))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("get")
    }

    /// A form POST carrying the session's CSRF token.
    pub async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("csrf", &self.csrf)];
        form.extend_from_slice(fields);
        self.post_raw(app, path, &form).await
    }

    /// The sign-in form's first step: council, person and password.
    pub async fn password(
        &self,
        app: &TestApp,
        council: &str,
        person: &str,
        password: &str,
    ) -> reqwest::Response {
        let fields = [
            ("council", council),
            ("username", person),
            ("password", password),
            ("next", ""),
        ];
        self.post(app, "/sign-in", &fields).await
    }

    pub async fn post_raw(
        &self,
        app: &TestApp,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        app.client
            .post(format!("{}{path}", app.url))
            .header(COOKIE, &self.cookie)
            .form(form)
            .send()
            .await
            .expect("post")
    }
}

/// The key the test service seals TOTP secrets with.
pub fn test_keys() -> web::accounts::TotpKeys {
    web::accounts::TotpKeys::parse(TEST_KEY).expect("key")
}

pub const TEST_KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
