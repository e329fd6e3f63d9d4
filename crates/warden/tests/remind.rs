//! `warden remind` and `warden calendar` against real peers: an SMTP server
//! on loopback (aiosmtpd, started and stopped here) receiving the mail, and
//! Python's `icalendar` reading the calendar files. Southend's council, with
//! a councillor who left holding a laptop and a personal data breach, both
//! due just after the clocks went forward on 29 March 2026.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use test_utils::cli::{ok, root, warden, warden_bin};

/// The people, the laptop, the leaving and the breach.
const LOG: &str = r#"{"at":"2026-01-05T09:00:00Z","person":"ict","name":"Ivy Tran","kind":"employee","email":"ict@southend.test","type":"person_joined"}
{"at":"2026-01-05T09:01:00Z","person":"ict","role":"ict_admin","type":"role_granted"}
{"at":"2026-01-05T09:02:00Z","person":"siro","name":"Sam Rowe","kind":"employee","email":"siro@southend.test","type":"person_joined"}
{"at":"2026-01-05T09:03:00Z","person":"siro","role":"siro","type":"role_granted"}
{"at":"2026-01-05T09:04:00Z","person":"dpo","name":"Dee Patel","kind":"employee","email":"dpo@southend.test","type":"person_joined"}
{"at":"2026-01-05T09:05:00Z","person":"dpo","role":"dpo","type":"role_granted"}
{"at":"2026-01-05T09:06:00Z","person":"mgr","name":"Mo Grant","kind":"employee","email":"mgr@southend.test","type":"person_joined"}
{"at":"2026-01-05T09:07:00Z","person":"cllr","name":"Cal Lewis","kind":"councillor","email":"cllr@southend.test","manager":"mgr","type":"person_joined"}
{"at":"2026-01-05T09:08:00Z","person":"nomail","name":"No Mail","kind":"councillor","type":"person_joined"}
{"at":"2026-01-05T09:10:00Z","device":"LAP-1","kind":"laptop","owner":"council","type":"device_registered"}
{"at":"2026-01-05T09:11:00Z","device":"LAP-1","person":"cllr","type":"device_issued"}
{"at":"2026-01-05T09:12:00Z","device":"LAP-2","kind":"laptop","owner":"council","type":"device_registered"}
{"at":"2026-01-05T09:13:00Z","device":"LAP-2","person":"nomail","type":"device_issued"}
{"at":"2026-03-26T10:00:00Z","discovered":"2026-03-26T10:00:00Z","incident":"INC-1","kind":"misdirected_email","person":"ict","personal_data":true,"type":"incident_reported"}
{"at":"2026-03-27T12:00:00Z","person":"cllr","reason":"term ended","type":"person_left"}
{"at":"2026-03-27T12:00:00Z","person":"nomail","reason":"term ended","type":"person_left"}
"#;

struct Setup {
    dir: tempfile::TempDir,
    url: String,
    config: PathBuf,
    port: u16,
}

fn python() -> PathBuf {
    let venv = root().join("target/venv-mail/bin/python");
    assert!(
        venv.exists(),
        "{} is missing: run scripts/setup (it installs aiosmtpd and icalendar)",
        venv.display()
    );
    venv
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn setup(attempts: u32) -> Setup {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("warden.db").display());
    setup_on(dir, url, attempts)
}

fn setup_on(dir: tempfile::TempDir, url: String, attempts: u32) -> Setup {
    ok(&[
        "init",
        "--db",
        &url,
        "--council",
        "southend",
        "--pack",
        "southend",
    ]);
    let log = dir.path().join("log.jsonl");
    std::fs::write(&log, LOG).expect("write log");
    ok(&[
        "import",
        "--db",
        &url,
        "--council",
        "southend",
        log.to_str().expect("utf-8"),
        "--recorded-as-happened",
    ]);
    let port = free_port();
    let config = dir.path().join("warden.toml");
    std::fs::write(
        &config,
        format!(
            "[mail]\nsmtp = \"smtp://127.0.0.1:{port}\"\nfrom = \"Warden <warden@southend.test>\"\n\
             link = \"https://warden.southend.test\"\nattempts = {attempts}\nbackoff = \"200ms\"\n\
             [mail.council_from]\nsouthend = \"ICT Security <ict-security@southend.test>\"\n"
        ),
    )
    .expect("write config");
    Setup {
        dir,
        url,
        config,
        port,
    }
}

/// The SMTP server, killed when dropped.
struct Sink {
    child: Child,
    out: PathBuf,
}

impl Sink {
    fn start(port: u16, out: &Path) -> Sink {
        let mut child = Command::new(python())
            .arg(root().join("crates/warden/tests/mail/smtp_sink.py"))
            .arg(port.to_string())
            .arg(out)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start aiosmtpd");
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            use std::io::BufRead;
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        }
        assert_eq!(line.trim(), "ready", "the SMTP server did not start");
        Sink {
            child,
            out: out.to_owned(),
        }
    }

    /// Every message received so far: (recipients, the whole message).
    fn mails(&self) -> Vec<(Vec<String>, String)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.out)
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.retain(|f| f.extension().is_some_and(|e| e == "json"));
        files.sort();
        files
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(f).expect("read mail");
                let v: serde_json::Value = serde_json::from_str(&text).expect("json");
                let to = v["rcpt_tos"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                (to, v["data"].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn remind(s: &Setup, at: &str) -> std::process::Output {
    warden(&[
        "remind",
        "--db",
        &s.url,
        "--config",
        s.config.to_str().expect("utf-8"),
        "--at",
        at,
    ])
}

/// `warden remind` at `at`, started and left running.
fn spawn_remind(s: &Setup, at: &str) -> Child {
    Command::new(warden_bin())
        .current_dir(root())
        .args([
            "remind",
            "--db",
            &s.url,
            "--config",
            s.config.to_str().expect("utf-8"),
            "--at",
            at,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start warden remind")
}

fn said(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn recipients(mails: &[(Vec<String>, String)]) -> Vec<String> {
    let mut all: Vec<String> = mails.iter().flat_map(|(to, _)| to.clone()).collect();
    all.sort();
    all
}

fn mail_to<'a>(mails: &'a [(Vec<String>, String)], who: &str) -> &'a str {
    mails
        .iter()
        .find(|(to, _)| to.iter().any(|t| t == who))
        .map(|(_, m)| m.as_str())
        .unwrap_or_else(|| panic!("no mail to {who}"))
}

/// Quoted-printable bodies fold long lines; the words tests look for are
/// read with the folds taken out.
fn unfolded(mail: &str) -> String {
    mail.replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=")
}

fn exported(s: &Setup) -> Vec<serde_json::Value> {
    ok(&["export", "--db", &s.url, "--council", "southend"])
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn of_type<'a>(events: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["type"] == t).collect()
}

#[test]
fn each_person_gets_one_digest_with_due_times_in_london_time_and_never_twice() {
    let s = setup(2);
    let sink = Sink::start(s.port, &s.dir.path().join("mail"));
    let out = remind(&s, "2026-03-28T14:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let mails = sink.mails();
    // The councillor (their laptop, a day before it is due); the SIRO and
    // the DPO (the breach's 72 hours); the ICT officer and the DPO, the
    // day's summary: the DPO's in the same mail as their own.
    assert_eq!(
        recipients(&mails),
        [
            "cllr@southend.test",
            "dpo@southend.test",
            "ict@southend.test",
            "siro@southend.test"
        ],
        "{}",
        said(&out)
    );
    assert!(
        mails.iter().all(|(to, _)| to.len() == 1),
        "one recipient a mail"
    );
    let cllr = unfolded(mail_to(&mails, "cllr@southend.test"));
    assert!(
        cllr.contains("From: \"ICT Security\" <ict-security@southend.test>"),
        "{cllr}"
    );
    assert!(
        cllr.contains("Council devices are returned within 48 hours"),
        "{cllr}"
    );
    // Due at 12:00 UTC on 29 March, after the clocks went forward at 01:00.
    assert!(
        cllr.contains("Due by 1:00pm on Sunday 29 March 2026 BST"),
        "{cllr}"
    );
    assert!(
        cllr.contains("https://warden.southend.test/c/southend/me"),
        "their own page: {cllr}"
    );
    assert!(
        cllr.contains("Content-Type: text/html"),
        "an HTML part: {cllr}"
    );
    let siro = unfolded(mail_to(&mails, "siro@southend.test"));
    assert!(
        siro.contains("Due by 11:00am on Sunday 29 March 2026 BST"),
        "{siro}"
    );
    assert!(siro.contains("UK GDPR Art. 33(1)"), "the clause: {siro}");
    assert!(
        siro.contains("https://warden.southend.test/c/southend/events/"),
        "{siro}"
    );
    assert!(
        !siro.contains("returned within 48 hours"),
        "only theirs: {siro}"
    );
    let dpo = unfolded(mail_to(&mails, "dpo@southend.test"));
    assert!(dpo.contains("You need to:"), "{dpo}");
    assert!(
        dpo.contains("The council's deadlines today: 0 overdue, 3 due in the next two weeks"),
        "{dpo}"
    );
    assert!(
        said(&out).contains("nomail has 1 reminder(s) due but no email address"),
        "{}",
        said(&out)
    );

    let events = exported(&s);
    let sent = of_type(&events, "reminder_sent");
    assert_eq!(sent.len(), 4, "one reminder_sent a mail: {sent:?}");
    let cllr_sent = sent
        .iter()
        .find(|e| e["recipient"] == "cllr")
        .expect("the councillor's reminder is in the log");
    assert_eq!(cllr_sent["channel"], "email");
    let told = cllr_sent["findings"]
        .as_array()
        .expect("the findings it covered");
    assert_eq!(told.len(), 1);
    assert!(
        told[0]
            .as_str()
            .is_some_and(|t| t.starts_with("southend.devices-returned-48h/LAP-1/")
                && t.ends_with("/before-24h")),
        "{told:?}"
    );
    assert_eq!(of_type(&events, "reminder_queued").len(), 4);

    // The same run again: the log says each was sent.
    let again = remind(&s, "2026-03-28T14:00:00Z");
    assert_eq!(again.status.code(), Some(0), "{}", said(&again));
    assert!(
        said(&again).contains("no reminders due"),
        "{}",
        said(&again)
    );
    assert_eq!(sink.mails().len(), 4, "nothing is sent twice");
    // An hour later, nothing new has fallen due either.
    remind(&s, "2026-03-28T15:00:00Z");
    assert_eq!(sink.mails().len(), 4, "{}", said(&again));

    // A dry run prints the messages, sends and records nothing.
    let before = exported(&s).len();
    let dry = ok(&[
        "remind",
        "--db",
        &s.url,
        "--config",
        s.config.to_str().expect("utf-8"),
        "--at",
        "2026-03-30T09:00:00Z",
        "--dry-run",
    ]);
    assert!(dry.contains("To: cllr@southend.test"), "{dry}");
    assert!(
        dry.contains("Overdue: it was due by 1:00pm on Sunday 29 March 2026 BST"),
        "{dry}"
    );
    assert!(dry.contains("nothing was sent or recorded"), "{dry}");
    assert_eq!(sink.mails().len(), 4);
    assert_eq!(exported(&s).len(), before, "a dry run records nothing");
}

#[test]
fn two_runs_at_once_send_each_reminder_once() {
    runs_at_once_send_once(setup(2), 2);
}

/// Three nodes of a shared service on one PostgreSQL database.
#[test]
fn three_runs_at_once_on_postgresql_send_each_reminder_once() {
    let Some(mut pg) = test_utils::db::TestPostgres::start() else {
        return;
    };
    let url = pg.fresh_db().url();
    runs_at_once_send_once(setup_on(tempfile::tempdir().expect("temp dir"), url, 2), 3);
}

fn runs_at_once_send_once(s: Setup, runs: usize) {
    let sink = Sink::start(s.port, &s.dir.path().join("mail"));
    let started: Vec<Child> = (0..runs)
        .map(|_| spawn_remind(&s, "2026-03-30T09:00:00Z"))
        .collect();
    let outputs: Vec<std::process::Output> = started
        .into_iter()
        .map(|c| c.wait_with_output().expect("a run ends"))
        .collect();
    let all: Vec<String> = outputs.iter().map(said).collect();
    for out in &outputs {
        assert_eq!(out.status.code(), Some(0), "{}", said(out));
    }
    let mails = sink.mails();
    assert_eq!(
        recipients(&mails),
        [
            "cllr@southend.test",
            "dpo@southend.test",
            "ict@southend.test",
            "siro@southend.test"
        ],
        "each once, whichever run sent it:\n{}",
        all.join("\n")
    );
    let events = exported(&s);
    assert_eq!(of_type(&events, "reminder_sent").len(), 4);
    assert_eq!(of_type(&events, "reminder_queued").len(), 4);
}

#[test]
fn a_mail_server_that_is_down_is_retried_and_nothing_is_lost() {
    let s = setup(2);
    let out_dir = s.dir.path().join("mail");
    // Down: each reminder is tried twice, then recorded as failed.
    let down = remind(&s, "2026-03-28T14:00:00Z");
    assert_eq!(down.status.code(), Some(1), "{}", said(&down));
    assert!(
        said(&down).contains("could not send to cllr"),
        "{}",
        said(&down)
    );
    let events = exported(&s);
    let failed = of_type(&events, "reminder_failed");
    assert_eq!(failed.len(), 4, "{failed:?}");
    assert!(failed.iter().all(|e| e["attempts"] == 2), "{failed:?}");
    assert!(of_type(&events, "reminder_sent").is_empty());

    // Back up: the same reminders go, once.
    let sink = Sink::start(s.port, &out_dir);
    let up = remind(&s, "2026-03-28T14:00:00Z");
    assert_eq!(up.status.code(), Some(0), "{}", said(&up));
    assert_eq!(sink.mails().len(), 4, "{}", said(&up));
    drop(sink);

    // Down when a run starts and up a moment later: the backoff waits
    // (200ms, 400ms, 800ms, ...) and a later try gets through.
    let config = std::fs::read_to_string(&s.config)
        .expect("config")
        .replace("attempts = 2", "attempts = 6");
    std::fs::write(&s.config, config).expect("config");
    let run = spawn_remind(&s, "2026-04-13T13:00:00Z");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let sink = Sink::start(s.port, &out_dir);
    let later = run.wait_with_output().expect("the run ends");
    assert_eq!(later.status.code(), Some(0), "{}", said(&later));
    assert!(said(&later).contains("(on try "), "{}", said(&later));
    // Two weeks overdue, the third overdue reminder: the councillor's
    // manager is told too.
    let mails = sink.mails();
    let to = recipients(&mails[4..]);
    assert!(to.contains(&"mgr@southend.test".to_owned()), "{to:?}");
    assert!(to.contains(&"cllr@southend.test".to_owned()), "{to:?}");
}

#[test]
fn bad_mail_settings_are_named_at_start_up() {
    let s = setup(2);
    std::fs::write(
        &s.config,
        "[mail]\nsmtp = \"smtp://no-such-host.invalid:25\"\nfrom = \"not an address\"\nbackoff = \"soon\"\n",
    )
    .expect("config");
    let out = remind(&s, "2026-03-28T14:00:00Z");
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    let text = said(&out);
    assert!(
        text.contains("mail.smtp: the mail server `no-such-host.invalid` cannot be found"),
        "{text}"
    );
    assert!(text.contains("mail.from: not an address"), "{text}");
    assert!(
        text.contains("mail.backoff: `soon` is not a length of time"),
        "{text}"
    );
    assert!(
        exported(&s).iter().all(|e| e["type"] != "reminder_queued"),
        "nothing recorded"
    );
}

/// Reads `file` with Python's icalendar.
fn read_ics(file: &Path) -> serde_json::Value {
    let out = Command::new(python())
        .arg(root().join("crates/warden/tests/mail/read_ics.py"))
        .arg(file)
        .output()
        .expect("run read_ics.py");
    assert!(
        out.status.success(),
        "icalendar cannot read {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

#[test]
fn calendar_files_are_valid_with_stable_uids_and_the_findings_due_times() {
    let s = setup(2);
    let at = "2026-03-28T14:00:00Z";
    let file = s.dir.path().join("council.ics");
    ok(&[
        "calendar",
        "--db",
        &s.url,
        "--council",
        "southend",
        "--at",
        at,
        "--out",
        file.to_str().expect("utf-8"),
    ]);
    let ics = read_ics(&file);
    assert_eq!(ics["version"], "2.0");
    assert_eq!(ics["prodid"], "-//Warden//Council deadlines//EN");
    assert_eq!(ics["timezones"], serde_json::json!(["Europe/London"]));
    let events = ics["events"].as_array().expect("events").clone();
    // Every open or overdue finding with a due time is an event at it.
    let check = ok(&[
        "check",
        "--db",
        &s.url,
        "--council",
        "southend",
        "--at",
        at,
        "--format",
        "json",
    ]);
    let findings: serde_json::Value = serde_json::from_str(&check).expect("check json");
    let mut due: Vec<String> = findings["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["status"] == "open" || f["status"] == "overdue")
        .filter_map(|f| f["due"].as_str())
        .map(|d| d.parse::<jiff::Timestamp>().expect("due").to_string())
        .collect();
    due.sort();
    let mut starts: Vec<String> = events
        .iter()
        .map(|e| e["start_utc"].as_str().unwrap_or_default().to_owned())
        .collect();
    starts.sort();
    assert_eq!(starts, due, "{events:#?}");
    assert!(
        starts.contains(&"2026-03-29T12:00:00Z".to_owned()),
        "{starts:?}"
    );
    for e in &events {
        assert_eq!(e["tzid"], "Europe/London", "{e}");
        assert_eq!(e["alarms"], 1, "{e}");
        assert!(
            e["url"].as_str().is_some_and(|u| u.starts_with("http")),
            "{e}"
        );
    }
    let laptop = events
        .iter()
        .find(|e| e["start_utc"] == "2026-03-29T12:00:00Z")
        .expect("the laptop's return");
    assert_eq!(laptop["utcoffset_hours"], 1.0, "written in BST: {laptop}");

    // Made again an hour later: the same deadlines keep their UIDs.
    let again = s.dir.path().join("again.ics");
    ok(&[
        "calendar",
        "--db",
        &s.url,
        "--council",
        "southend",
        "--at",
        "2026-03-28T15:00:00Z",
        "--out",
        again.to_str().expect("utf-8"),
    ]);
    let uids = |v: &serde_json::Value| -> Vec<String> {
        let mut u: Vec<String> = v["events"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["uid"].as_str().unwrap_or_default().to_owned())
            .collect();
        u.sort();
        u
    };
    assert_eq!(uids(&read_ics(&again)), uids(&ics));
    assert_eq!(uids(&ics).len(), events.len(), "UIDs are unique");

    // One person's: only their own.
    let mine = s.dir.path().join("cllr.ics");
    ok(&[
        "calendar",
        "--db",
        &s.url,
        "--council",
        "southend",
        "--person",
        "cllr",
        "--at",
        at,
        "--out",
        mine.to_str().expect("utf-8"),
    ]);
    let mine = read_ics(&mine);
    let starts: Vec<&str> = mine["events"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["start_utc"].as_str())
        .collect();
    assert_eq!(starts, ["2026-03-29T12:00:00Z"], "{mine}");
}

#[test]
fn serve_runs_the_reminders_on_its_schedule() {
    let s = setup(2);
    let config = std::fs::read_to_string(&s.config).expect("config");
    let config = config.replace(
        "backoff = \"200ms\"",
        "backoff = \"200ms\"\nremind_every = \"1s\"",
    );
    std::fs::write(&s.config, config).expect("config");
    let sink = Sink::start(s.port, &s.dir.path().join("mail"));
    let _node =
        test_utils::cli::Node::start_with(&s.url, &["--config", s.config.to_str().expect("utf-8")]);
    // Now (the machine's clock), March's deadlines are long overdue.
    let mut waited = 0;
    // The councillor, their manager (weeks overdue), the SIRO, the DPO and
    // the ICT officer.
    while sink.mails().len() < 5 && waited < 100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let to = recipients(&sink.mails());
    assert!(to.contains(&"cllr@southend.test".to_owned()), "{to:?}");
    assert!(to.contains(&"siro@southend.test".to_owned()), "{to:?}");
    // The next runs, a second apart, send nothing new.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    assert_eq!(recipients(&sink.mails()), to, "each once");
    let sent = of_type(&exported(&s), "reminder_sent").len();
    assert_eq!(sent, sink.mails().len(), "each mail is in the log");
}

#[test]
fn serve_refuses_to_start_with_bad_mail_settings() {
    let s = setup(2);
    std::fs::write(
        &s.config,
        "totp_key = \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"\n\
         [mail]\nsmtp = \"smtp://no-such-host.invalid\"\nfrom = \"Warden <w@x.test>\"\nremind_every = \"-5m\"\n",
    )
    .expect("config");
    let out = warden(&[
        "serve",
        "--db",
        &s.url,
        "--listen",
        "127.0.0.1:0",
        "--config",
        s.config.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    let text = said(&out);
    assert!(text.contains("cannot be found"), "{text}");
    assert!(
        text.contains("mail.remind_every: `-5m` is not a length of time"),
        "{text}"
    );
}
