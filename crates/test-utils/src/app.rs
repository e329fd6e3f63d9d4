//! A test app: a throwaway SQLite store with two councils, a person of each
//! role in each, the service started for real on a loopback port, and a
//! client that signs in through the real forms. `TestApp::init()` returns a
//! builder (`with_user`, `with_event`, `at`); `TestApp::start()` is the
//! usual app as it is.
use domain::event::{
    DeviceIssued, DeviceRegistered, IncidentReported, MfaEnrolled, PersonJoined, PolicyAccepted,
    RoleChange,
};
use domain::{
    DeviceId, DeviceKind, DeviceOwner, Event, EventKind, HouseholdId, IncidentId, MfaMethod,
    PersonId, PersonKind, PolicyId, Role,
};
use jiff::Timestamp;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use rules::HolidayFile;
use std::sync::Arc;
use web::accounts::{Account, ApiToken, Scope, new_totp_secret, sha256_hex, totp_code};
use web::state::AppState;

pub const PASSWORD: &str = "correct-horse-battery";
/// The token the test app's `/metrics` asks for.
pub const METRICS_TOKEN: &str = "metrics-test-token";
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

/// A person the fixture holds in every council, by service role: who they
/// are in the estate, and whether they sign in with a TOTP code.
#[derive(Clone)]
struct User {
    person: String,
    kind: PersonKind,
    /// The estate role that confers the service role, if any.
    role: Option<String>,
    /// Enrolled in TOTP (a pack that requires MFA refuses sign-in without).
    totp: bool,
}

/// One council of a test app: its pack, its log and its users.
struct CouncilSpec {
    id: String,
    pack: String,
    events: Vec<Event>,
    users: Vec<User>,
}

/// How a test app is set up (`TestApp::init()`), before it starts.
pub struct TestAppBuilder {
    councils: Vec<CouncilSpec>,
    now: Option<Timestamp>,
    trusted_proxies: Vec<std::net::IpAddr>,
    scim_groups: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
}

fn fixture_time(minute: i64) -> Timestamp {
    let start: Timestamp = "2026-01-05T09:00:00Z".parse().expect("a time");
    start + jiff::SignedDuration::from_mins(minute)
}

fn joined(person: &str, name: &str, kind: PersonKind, household: bool) -> EventKind {
    EventKind::PersonJoined(PersonJoined {
        person: PersonId::from(person),
        name: name.to_owned(),
        kind,
        email: household.then(|| format!("{person}@example.gov.uk")),
        household: household.then(|| HouseholdId::from(format!("h-{person}").as_str())),
        term_ends: None,
        job: None,
        department: None,
        manager: None,
    })
}

/// The events that bring a user into a council: joined, their role, MFA.
fn user_events(user: &User) -> Vec<EventKind> {
    let mut kinds = vec![joined(
        &user.person,
        &format!("Person {}", user.person),
        user.kind,
        true,
    )];
    if let Some(role) = &user.role {
        kinds.push(EventKind::RoleGranted(RoleChange {
            person: PersonId::from(user.person.as_str()),
            role: Role::from(role.as_str()),
        }));
    }
    kinds.push(EventKind::MfaEnrolled(MfaEnrolled {
        person: PersonId::from(user.person.as_str()),
        method: MfaMethod::AuthenticatorApp,
    }));
    kinds
}

/// The rest of the fixture log of a council: a councillor who holds a
/// laptop (the member), a second councillor for leaver tests, one
/// incident, and the member's acceptance of `policy`.
fn estate_events(policy: &str) -> Vec<EventKind> {
    let laptop = |id: &str| {
        EventKind::DeviceRegistered(DeviceRegistered {
            device: DeviceId::from(id),
            kind: DeviceKind("laptop".to_owned()),
            owner: DeviceOwner::Council,
            acquired: Some("2025-06-01".parse().expect("a date")),
            make: None,
            model: None,
            serial: None,
        })
    };
    let issue = |device: &str, person: &str| {
        EventKind::DeviceIssued(DeviceIssued {
            device: DeviceId::from(device),
            person: PersonId::from(person),
        })
    };
    vec![
        joined("p-leaver", "Cllr Leaver", PersonKind::Councillor, false),
        laptop("LAP-1"),
        issue("LAP-1", "p-member"),
        laptop("LAP-2"),
        issue("LAP-2", "p-leaver"),
        EventKind::IncidentReported(IncidentReported {
            incident: IncidentId::from("INC-1"),
            kind: "lost paper file".to_owned(),
            discovered: fixture_time(0),
            personal_data: true,
            person: None,
            device: None,
            description: None,
            severity: None,
            people_affected: None,
        }),
        EventKind::PolicyAccepted(PolicyAccepted {
            person: PersonId::from("p-member"),
            policy: PolicyId::from(policy),
            version: "1".to_owned(),
            text_sha256: None,
        }),
    ]
}

/// Events a minute apart from the fixture's start, in order.
fn dated(kinds: Vec<EventKind>) -> Vec<Event> {
    kinds
        .into_iter()
        .zip(0..)
        .map(|(kind, minute)| Event::new(fixture_time(minute), kind))
        .collect()
}

/// A council with a person of every service role, their accounts, and the
/// fixture's devices, incident and acceptance of `policy`.
fn standard_council(id: &str, pack: &str, policy: &str) -> CouncilSpec {
    let users: Vec<User> = ROLES
        .iter()
        .map(|(service_role, person, role)| User {
            person: (*person).to_owned(),
            kind: if *person == "p-member" {
                PersonKind::Councillor
            } else {
                PersonKind::Employee
            },
            role: role.map(str::to_owned),
            // In the west council the member signs in with a password alone
            // (that pack does not require MFA), for tests that need two
            // sessions of one person.
            totp: !(id == WEST && *service_role == "member"),
        })
        .collect();
    let mut kinds: Vec<EventKind> = users.iter().flat_map(user_events).collect();
    kinds.extend(estate_events(policy));
    CouncilSpec {
        id: id.to_owned(),
        pack: pack.to_owned(),
        events: dated(kinds),
        users,
    }
}

impl TestApp {
    /// The usual app: two councils (`NORTH` on Southend's pack, `WEST` on
    /// Leighton-Linslade's), each with a person of every service role
    /// (`ROLES`), their accounts and API tokens, and the fixture's devices,
    /// incident and acceptance; the system clock. Add to it, then `start`.
    pub fn init() -> TestAppBuilder {
        let councils = [
            (NORTH, "southend", "councillor-ict"),
            (WEST, "leighton-linslade", "ict-security"),
        ]
        .into_iter()
        .map(|(id, pack, policy)| standard_council(id, pack, policy))
        .collect();
        TestAppBuilder {
            councils,
            now: None,
            trusted_proxies: Vec::new(),
            scim_groups: Default::default(),
        }
    }

    /// The usual app, started.
    pub async fn start() -> TestApp {
        TestApp::init().start().await
    }
}

impl TestAppBuilder {
    /// Another council, on a bundled `pack`, with the same people and
    /// fixture as the usual two (the member has accepted `policy`).
    pub fn with_council(mut self, id: &str, pack: &str, policy: &str) -> Self {
        self.councils.push(standard_council(id, pack, policy));
        self
    }

    /// Another person who can sign in to `council` (password `PASSWORD`, a
    /// TOTP key, a write token), holding estate `role` if given.
    pub fn with_user(mut self, council: &str, person: &str, role: Option<&str>) -> Self {
        let user = User {
            person: person.to_owned(),
            kind: PersonKind::Employee,
            role: role.map(str::to_owned),
            totp: true,
        };
        let spec = self.council_mut(council);
        let next = spec.events.last().map_or(fixture_time(0), |e| e.at);
        for (i, kind) in user_events(&user).into_iter().enumerate() {
            let minutes = i64::try_from(i).unwrap_or(0) + 1;
            spec.events.push(Event::new(
                next + jiff::SignedDuration::from_mins(minutes),
                kind,
            ));
        }
        spec.users.push(user);
        self
    }

    /// An event in `council`'s log before the service starts (after the
    /// fixture's, which end on 5 January 2026).
    pub fn with_event(mut self, council: &str, event: Event) -> Self {
        self.council_mut(council).events.push(event);
        self
    }

    /// Maps a SCIM group's display name to an estate role in `council`, as
    /// `[scim_groups.COUNCIL]` in `warden serve`'s configuration does.
    pub fn with_scim_group(mut self, council: &str, group: &str, role: &str) -> Self {
        self.scim_groups
            .entry(council.to_owned())
            .or_default()
            .insert(group.to_owned(), role.to_owned());
        self
    }

    /// Trusts the loopback client as a reverse proxy: a test then says which
    /// client it is with `X-Forwarded-For`.
    pub fn behind_proxy(mut self) -> Self {
        self.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
        self
    }

    /// Stops the service's clock at `now` (it runs with the system's
    /// otherwise); `app.state.clock` moves it later.
    pub fn at(mut self, now: Timestamp) -> Self {
        self.now = Some(now);
        self
    }

    fn council_mut(&mut self, council: &str) -> &mut CouncilSpec {
        self.councils
            .iter_mut()
            .find(|c| c.id == council)
            .unwrap_or_else(|| panic!("no council {council} in the test app"))
    }

    /// Writes the store, starts the service on a loopback port, and returns
    /// the app with a client that does not follow redirects.
    pub async fn start(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_path = dir.path().join("warden.db");
        let db = format!("sqlite:{}", db_path.display());
        let pool = store::Pool::open(&db).expect("open store");
        let mut log = pool.get().expect("a connection");
        let mut packs = Vec::new();
        for spec in &self.councils {
            log.init_council(&spec.id, &spec.pack).expect("init");
            log.append(&spec.id, store::Head::EMPTY, &spec.events)
                .expect("append fixture");
            let loaded =
                rules::load_pack(&spec.pack, &rules::bundled::Bundled).expect("bundled pack");
            packs.push((spec.id.clone(), loaded));
            for user in &spec.users {
                let mut account = Account::new(PASSWORD).expect("account");
                if user.totp {
                    account.enrol_totp(&new_totp_secret(), &test_keys());
                }
                account.tokens.push(ApiToken {
                    id: format!("t-{}", user.person),
                    name: "test".into(),
                    sha256: sha256_hex(&token_secret(&spec.id, &user.person)),
                    scope: Scope::Write,
                    created: fixture_time(0),
                    revoked: None,
                });
                let json = serde_json::to_string(&account).expect("json");
                log.save_account(&spec.id, &user.person, &json)
                    .expect("save account");
            }
        }
        drop(log);
        let settings = web::Settings {
            secure_cookies: false,
            totp_keys: test_keys(),
            metrics_token: Some(METRICS_TOKEN.to_owned()),
            trusted_proxies: self.trusted_proxies,
            scim_groups: self.scim_groups,
            mail: None,
        };
        let state = web::state(pool, packs, &HolidayFile::bundled(), settings).expect("state");
        if let Some(now) = self.now {
            state.clock.set(Some(now));
        }
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
}

impl TestApp {
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

    /// A file upload (`multipart/form-data`) carrying the session's CSRF
    /// token: `fields` as text parts, `files` as (field, file name, bytes).
    pub async fn upload(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> reqwest::Response {
        const BOUNDARY: &str = "warden-test-boundary-7d1f";
        let mut body: Vec<u8> = Vec::new();
        let mut part = |name: &str, file_name: Option<&str>, value: &[u8]| {
            body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
            match file_name {
                Some(f) => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes(),
                ),
                None => body.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                ),
            }
            body.extend_from_slice(value);
            body.extend_from_slice(b"\r\n");
        };
        part("csrf", None, self.csrf.as_bytes());
        for (name, value) in fields {
            part(name, None, value.as_bytes());
        }
        for (name, file_name, bytes) in files {
            part(name, Some(file_name), bytes);
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        app.client
            .post(format!("{}{path}", app.url))
            .header(COOKIE, &self.cookie)
            .header(
                reqwest::header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload")
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
