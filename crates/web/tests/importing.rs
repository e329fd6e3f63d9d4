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
            &[("file", "hr-people.csv", &file)],
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
    let res = ict.upload(&app, "/c/north/imports", &fields, &[]).await;
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

    let res = ict.upload(&app, "/c/north/imports", &fields, &[]).await;
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
            &[("file", "bad.csv", bad.as_bytes())],
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
            &[(
                "file",
                "latin1.csv",
                b"id,name,kind\ne-1,Jos\xe9,employee\n".as_slice(),
            )],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("page").contains("not UTF-8"));
    let res = ict.upload(&app, "/c/north/imports", &[], &[]).await;
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
            &[("file", "x.csv", good.as_bytes())],
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
            &[("file", "x.csv", good.as_bytes())],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "a member may not import"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn any_other_csv_is_uploaded_with_its_mapping_file() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let head = app.head(NORTH);
    let people = sample("itrent-people.csv");
    let mapping = String::from_utf8(sample("itrent-people.toml")).expect("utf-8");
    let res = ict
        .upload(
            &app,
            "/c/north/imports",
            &[],
            &[("file", "itrent.csv", &people)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "without its mapping the file is no format Warden knows"
    );
    // The mapping goes as a second file; the record form carries both back.
    let res = upload_with_mapping(&app, &ict, &people, &mapping).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.expect("page");
    assert!(
        html.contains("itrent.csv: read with the mapping file, 4 rows"),
        "{html}"
    );
    assert!(html.contains("Record these 5 events"), "{html}");
    assert_eq!(hidden(&html, "mapping"), mapping);
    let fields = [
        ("content", hidden(&html, "content")),
        ("file_name", "itrent.csv".to_owned()),
        ("mapping", hidden(&html, "mapping")),
        ("apply", "yes".to_owned()),
    ];
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let html = ict
        .upload(&app, "/c/north/imports", &fields, &[])
        .await
        .text()
        .await
        .expect("page");
    assert!(html.contains("Recorded 5 events"), "{html}");
    assert_eq!(app.head(NORTH), head + 5);
    // A bad mapping is named, and nothing is written.
    let bad = mapping.replace("job = ", "colour = ");
    let res = upload_with_mapping(&app, &ict, &people, &bad).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.expect("page");
    assert!(
        html.contains("The mapping file: [columns] colour: not a field of people rows"),
        "{html}"
    );
    assert_eq!(app.head(NORTH), head + 5);
}

async fn upload_with_mapping(
    app: &TestApp,
    session: &test_utils::app::Session,
    people: &[u8],
    mapping: &str,
) -> reqwest::Response {
    let files: [(&str, &str, &[u8]); 2] = [
        ("file", "itrent.csv", people),
        ("mapping_file", "itrent.toml", mapping.as_bytes()),
    ];
    session.upload(app, "/c/north/imports", &[], &files).await
}
