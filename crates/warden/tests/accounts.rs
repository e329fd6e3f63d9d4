//! `warden account`: the first account of a real deployment made from the
//! command line, then used to sign in through the real forms of a real
//! `warden serve`, with the printed password and a code from the printed
//! key; bad input refused with nothing written; list and disable.

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use test_utils::cli::{Node, TOTP_KEY, council_with, ok, succeeded, warden};

const COUNCIL: &str = "north";

fn council(db: &str) {
    council_with(
        db,
        COUNCIL,
        concat!(
            r#"{"at":"2026-01-05T09:00:00Z","type":"person_joined","person":"p-ict","name":"Ada Officer","kind":"employee"}"#,
            "\n",
            r#"{"at":"2026-01-05T09:01:00Z","type":"person_joined","person":"p-member","name":"Cllr Member","kind":"councillor"}"#,
            "\n",
        ),
    );
}

fn head(db: &str) -> String {
    ok(&["head", "--db", db, "--council", COUNCIL])
}

/// The value printed after `label` on a line of its own.
fn printed<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no `{label}` in:\n{out}"))
}

fn csrf_in(html: &str) -> String {
    let marker = r#"name="csrf" value=""#;
    html.find(marker)
        .map(|i| {
            html[i + marker.len()..]
                .chars()
                .take_while(|c| *c != '"')
                .collect()
        })
        .unwrap_or_default()
}

/// A browser's session: the cookie it was given and the page's CSRF token.
struct Browser {
    http: Client,
    url: String,
    cookie: String,
}

impl Browser {
    fn new(node: &Node) -> Browser {
        let http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Browser {
            http,
            url: node.url.clone(),
            cookie: String::new(),
        }
    }

    fn keep_cookie(&mut self, res: &Response) {
        if let Some(set) = res.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok())
            && let Some(pair) = set.split(';').next()
        {
            self.cookie = pair.to_owned();
        }
    }

    fn get(&mut self, path: &str) -> (StatusCode, String) {
        let res = self
            .http
            .get(format!("{}{path}", self.url))
            .header(COOKIE, &self.cookie)
            .send()
            .expect("get");
        self.keep_cookie(&res);
        (res.status(), res.text().unwrap_or_default())
    }

    /// The sign-in form, filled in and sent.
    fn sign_in(&mut self, person: &str, password: &str) -> (StatusCode, String) {
        let fields = [
            ("council", COUNCIL),
            ("username", person),
            ("password", password),
            ("next", ""),
        ];
        self.post("/sign-in", "/sign-in", &fields)
    }

    /// Posts a form with the CSRF token of the page at `from`.
    fn post(&mut self, from: &str, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let (_, page) = self.get(from);
        let csrf = csrf_in(&page);
        let mut form: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        form.extend_from_slice(fields);
        let res = self
            .http
            .post(format!("{}{path}", self.url))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .expect("post");
        self.keep_cookie(&res);
        let location = res
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (res.status(), location)
    }
}

#[test]
fn an_account_added_on_the_command_line_signs_in_through_the_forms() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite:{}", dir.path().join("w.db").display());
    council(&db);
    let before = head(&db);

    // Bad input: each named, nothing written.
    let add = |person: &str, role: &str, key: Option<&str>| {
        let mut args = vec![
            "account",
            "add",
            "--db",
            &db,
            "--council",
            COUNCIL,
            "--person",
            person,
            "--role",
            role,
        ];
        if let Some(key) = key {
            args.extend(["--totp-key", key]);
        }
        warden(&args)
    };
    for (person, role, key, said) in [
        (
            "p-nobody",
            "ict_admin",
            Some(TOTP_KEY),
            "--person `p-nobody`",
        ),
        (
            "p-ict",
            "wizard",
            Some(TOTP_KEY),
            "--role `wizard`: expected member or one of ict_admin",
        ),
        ("p-ict", "ict_admin", None, "warden account new-key"),
        (
            "p-ict",
            "ict_admin",
            Some("abc"),
            "TOTP key 1: expected 64 hex digits",
        ),
    ] {
        let out = add(person, role, key);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(said), "{said} in: {stderr}");
        assert!(out.stdout.is_empty());
    }
    assert_eq!(head(&db), before, "nothing recorded");
    let listed = ok(&["account", "list", "--db", &db, "--council", COUNCIL]);
    assert!(listed.contains("0 accounts in north"), "{listed}");

    // The first ICT administrator.
    let out = succeeded(add("p-ict", "ict_admin", Some(TOTP_KEY)));
    let password = printed(&out, "one-time password").to_owned();
    let key = printed(&out, "authenticator key").to_owned();
    assert!(printed(&out, "set-up address").starts_with("otpauth://totp/"));
    assert!(out.contains('▀'), "a QR code in the terminal:\n{out}");
    assert!(out.contains("given the role ict_admin"), "{out}");
    let exported = ok(&["export", "--db", &db, "--council", COUNCIL]);
    assert!(
        exported.contains(r#""role":"ict_admin""#) && exported.contains("role_granted"),
        "the role is in the log: {exported}"
    );
    let again = add("p-ict", "ict_admin", Some(TOTP_KEY));
    assert_eq!(again.status.code(), Some(2), "a second add is refused");

    // Signed in through the real forms.
    let node = Node::start(&db);
    let mut browser = Browser::new(&node);
    let (status, to) = browser.sign_in("p-ict", &password);
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(to.starts_with("/sign-in/code"), "{to}");
    let code = web::accounts::totp_code(&key, web::clock::now()).expect("code");
    let (status, to) = browser.post(
        "/sign-in/code",
        "/sign-in/code",
        &[("code", &code), ("next", "")],
    );
    assert_eq!(status, StatusCode::SEE_OTHER, "the code is accepted");
    let (status, page) = browser.get(&to);
    assert_eq!(status, StatusCode::OK, "{to}");
    assert!(page.contains("Ada Officer"), "signed in as them: {page}");
    let (status, _) = browser.get(&format!("/c/{COUNCIL}/people"));
    assert_eq!(
        status,
        StatusCode::OK,
        "an ICT administrator sees the people"
    );

    let listed = ok(&["account", "list", "--db", &db, "--council", COUNCIL]);
    let row = listed
        .lines()
        .find(|l| l.starts_with("p-ict"))
        .expect("listed");
    assert!(
        row.contains("ict_admin") && row.contains("yes") && row.ends_with("active"),
        "{row}"
    );

    // Disabled: the session ends and the password no longer signs in.
    ok(&[
        "account",
        "disable",
        "--db",
        &db,
        "--council",
        COUNCIL,
        "--person",
        "p-ict",
    ]);
    let (status, _) = browser.get(&format!("/c/{COUNCIL}/people"));
    assert_eq!(status, StatusCode::SEE_OTHER, "sent to sign in");
    let mut other = Browser::new(&node);
    let (status, _) = other.sign_in("p-ict", &password);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let listed = ok(&["account", "list", "--db", &db, "--council", COUNCIL]);
    assert!(listed.contains("disabled"), "{listed}");
}
