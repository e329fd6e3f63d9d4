//! Reminders on the pages and calendar feeds: the reminders sent to a
//! person are listed on their page and on My Warden, the entry that started
//! a finding shows who was told of it, a person is never told the same
//! stage twice, and a calendar token's feed works until it is revoked.

use domain::event::{ReminderQueued, ReminderSent};
use domain::{Channel, Event, EventKind, EventRef, PersonId, Told};
use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp};

/// The entry that introduced `person`.
fn joined_seq(app: &TestApp, person: &str) -> u64 {
    app.council(NORTH).with_ledger(|l| {
        l.timeline()
            .log()
            .iter()
            .find(|logged| {
                matches!(&logged.event.kind, EventKind::PersonJoined(j) if j.person.as_str() == person)
            })
            .map(|logged| logged.seq)
            .expect("joined")
    })
}

fn told(text: &str) -> Told {
    Told::try_from(text.to_owned()).expect("a told key")
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_sent_are_shown_and_never_repeated() {
    let app = TestApp::start().await;
    let council = app.council(NORTH);
    let seq = joined_seq(&app, "p-member");
    let key = told(&format!(
        "southend.devices-returned-48h/LAP-9/{seq}/before-24h"
    ));
    let now = app.state.now();
    let mut queued = Event::new(
        now,
        EventKind::ReminderQueued(ReminderQueued {
            recipient: PersonId::from("p-member"),
            channel: Channel::Email,
            address: "member@north.test".to_owned(),
            findings: vec![key.clone()],
        }),
    );
    queued.id = "rem-test-1".parse::<EventRef>().ok();
    council
        .record(&app.state.store, vec![queued.clone()], now)
        .expect("queued");
    // The same stage again, by another sender: refused, nothing written.
    let mut again = queued.clone();
    again.id = "rem-test-2".parse::<EventRef>().ok();
    let head = app.head(NORTH);
    let refused = council.record(&app.state.store, vec![again], now);
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("has already been told")),
        "{refused:?}"
    );
    assert_eq!(app.head(NORTH), head);
    let sent = Event::new(
        now,
        EventKind::ReminderSent(ReminderSent {
            recipient: PersonId::from("p-member"),
            reminder: "rem-test-1".parse().expect("ref"),
            channel: Channel::Email,
            findings: vec![key],
        }),
    );
    council
        .record(&app.state.store, vec![sent.clone()], now)
        .expect("sent");
    // An outcome names a reminder still waiting: not twice.
    assert!(council.record(&app.state.store, vec![sent], now).is_err());

    let ict = app.sign_in(NORTH, "p-ict").await;
    let page = ict
        .get(&app, "/c/north/people/p-member")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("Reminders sent to them"), "{page}");
    assert!(
        page.contains("Council devices are returned within 48 hours"),
        "{page}"
    );
    assert!(page.contains("a day before it was due"), "{page}");
    let entry = ict
        .get(&app, &format!("/c/north/events/{seq}"))
        .await
        .text()
        .await
        .expect("page");
    assert!(entry.contains("Who was told"), "{entry}");
    assert!(entry.contains("/c/north/people/p-member"), "{entry}");

    let member = app.sign_in(NORTH, "p-member").await;
    let mine = member
        .get(&app, "/c/north/me")
        .await
        .text()
        .await
        .expect("page");
    assert!(mine.contains("Reminders sent to me"), "{mine}");
    assert!(mine.contains("a day before it was due"), "{mine}");
}

/// The feed address on the page that made the token.
fn feed_address(html: &str) -> String {
    let start = html.find("/feeds/").expect("a feed address");
    let end = start + html[start..].find(['<', '"']).expect("its end");
    html[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_calendar_token_serves_its_feed_until_it_is_revoked() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let res = ict
        .post(
            &app,
            "/c/north/me/tokens",
            &[("name", "Outlook"), ("scope", "calendar")],
        )
        .await;
    let html = res.text().await.expect("page");
    let mine = feed_address(&html);
    assert!(mine.ends_with("/mine.ics"), "{mine}");
    let anonymous = app.anonymous().await;
    let res = anonymous.get(&app, &mine).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/calendar"))
    );
    let body = res.text().await.expect("ics");
    assert!(body.starts_with("BEGIN:VCALENDAR"), "{body}");
    assert!(body.contains("BEGIN:VTIMEZONE"), "{body}");
    let council = mine.replace("/mine.ics", "/council.ics");
    assert_eq!(anonymous.get(&app, &council).await.status(), StatusCode::OK);
    // A wrong token, or another person's path with it: nothing.
    let wrong = mine.replace("/p-ict/", "/p-member/");
    assert_eq!(
        anonymous.get(&app, &wrong).await.status(),
        StatusCode::NOT_FOUND
    );

    // The calendar token is no API token.
    let secret = mine.split('/').nth(4).expect("the secret").to_owned();
    let api = app
        .client
        .get(format!("{}/api/v1/councils/north/people", app.url))
        .bearer_auth(web::accounts::token_text("north", "p-ict", &secret))
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    // A member sees their own deadlines, not the council's.
    let member = app.sign_in(NORTH, "p-member").await;
    let html = member
        .post(
            &app,
            "/c/north/me/tokens",
            &[("name", "Phone"), ("scope", "calendar")],
        )
        .await
        .text()
        .await
        .expect("page");
    let theirs = feed_address(&html);
    assert_eq!(anonymous.get(&app, &theirs).await.status(), StatusCode::OK);
    let all = theirs.replace("/mine.ics", "/council.ics");
    assert_eq!(
        anonymous.get(&app, &all).await.status(),
        StatusCode::NOT_FOUND
    );

    // Revoked: the feed stops.
    let account = app.account(NORTH, "p-ict").await;
    let id = account
        .tokens
        .iter()
        .find(|t| t.name == "Outlook")
        .map(|t| t.id.clone())
        .expect("the token");
    ict.post(&app, &format!("/c/north/me/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(
        anonymous.get(&app, &mine).await.status(),
        StatusCode::NOT_FOUND
    );
}
