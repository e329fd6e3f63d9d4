//! The imports page: an ICT administrator uploads an export, sees what it
//! would record, records it (as history), and uploading it again records
//! nothing; a bad file is shown line by line and nothing is written.

use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp};

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(test_utils::cli::root().join("examples/imports").join(name)).expect("sample")
}

/// The hidden `content` field of the page's record form, unescaped.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).map(|i| i + marker.len()).unwrap_or(0);
    let end = start + html[start..].find('"').unwrap_or(0);
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_export_is_checked_then_recorded_and_again_records_nothing() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let page = ict.get(&app, "/c/north/imports").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("page").contains("type=\"file\""));

    let head = app.head(NORTH);
    let file = sample("hr-people.csv");
    let res = ict
        .upload(
            &app,
            "/c/north/imports",
            &[("format", "")],
            Some(("file", "hr-people.csv", &file)),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("page");
    assert!(html.contains("hr-people.csv: read as"), "{html}");
    assert!(
        html.contains("4 × joining"),
        "in the council's words: {html}"
    );
    assert!(html.contains("Record these 5 events"), "{html}");
    assert_eq!(app.head(NORTH), head, "checking records nothing");

    // The second press sends the file back, hidden, with the choices.
    let content = hidden(&html, "content");
    assert_eq!(
        content.as_bytes(),
        &file[..],
        "the file is carried as it was"
    );
    let fields = [
        ("content", content.as_str()),
        ("file_name", "hr-people.csv"),
        ("format", "hr-people"),
        ("apply", "yes"),
    ];
    let res = ict.upload(&app, "/c/north/imports", &fields, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("page");
    assert!(html.contains("Recorded 5 events"), "{html}");
    assert_eq!(app.head(NORTH), head + 5);
    let left = app.council(NORTH).with_estate(|e| {
        e.people
            .get(&domain::PersonId::from("e-1003"))
            .and_then(|p| p.left)
    });
    assert_eq!(left, Some("2025-11-28T17:00:00Z".parse().expect("time")));

    let res = ict.upload(&app, "/c/north/imports", &fields, None).await;
    let html = res.text().await.expect("page");
    assert!(html.contains("Nothing to record"), "{html}");
    assert_eq!(
        app.head(NORTH),
        head + 5,
        "the same file again records nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_is_shown_line_by_line_and_nothing_is_written() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let head = app.head(NORTH);
    let good = String::from_utf8(sample("hr-people.csv")).expect("utf-8");
    let bad = good
        .replace("2025-01-06", "06/01/2025")
        .replace("councillor,Members", "member,Members");
    let res = ict
        .upload(
            &app,
            "/c/north/imports",
            &[],
            Some(("file", "bad.csv", bad.as_bytes())),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.expect("page");
    assert!(
        html.contains("bad.csv has 2 problems: nothing was recorded"),
        "{html}"
    );
    assert!(html.contains("id=\"import-problems\""), "{html}");
    assert!(
        html.contains("start_date") && html.contains("06/01/2025"),
        "{html}"
    );
    // Not UTF-8, and no file at all.
    let res = ict
        .upload(
            &app,
            "/c/north/imports",
            &[],
            Some((
                "file",
                "latin1.csv",
                b"id,name,kind\ne-1,Jos\xe9,employee\n",
            )),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("page").contains("not UTF-8"));
    let res = ict.upload(&app, "/c/north/imports", &[], None).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .expect("page")
            .contains("Choose a CSV file to upload")
    );
    assert_eq!(app.head(NORTH), head);
    // An upload without the session's CSRF token is refused.
    let forged = test_utils::app::Session {
        csrf: "0".repeat(64),
        ..ict.clone()
    };
    let res = forged
        .upload(
            &app,
            "/c/north/imports",
            &[],
            Some(("file", "x.csv", good.as_bytes())),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the CSRF token is checked in an upload"
    );
    assert_eq!(app.head(NORTH), head);
    let member = app.sign_in(NORTH, "p-member").await;
    let res = member
        .upload(
            &app,
            "/c/north/imports",
            &[],
            Some(("file", "x.csv", good.as_bytes())),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a member may not import"
    );
}
