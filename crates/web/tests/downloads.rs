//! "Download as CSV" on the list pages: what the page's filters show, with
//! a header, named for the council and list, formulas neutralised.

use reqwest::StatusCode;
use test_utils::app::{NORTH, TestApp};

fn rows(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut out = vec![
        reader
            .headers()
            .expect("a header")
            .iter()
            .map(str::to_owned)
            .collect(),
    ];
    out.extend(
        reader
            .records()
            .map(|r| r.expect("a row").iter().map(str::to_owned).collect()),
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn list_pages_download_what_their_filters_show() {
    let app = TestApp::start().await;
    let ict = app.sign_in(NORTH, "p-ict").await;
    let page = ict
        .get(&app, "/c/north/people?kind=councillor")
        .await
        .text()
        .await
        .expect("page");
    assert!(
        page.contains("/c/north/people.csv?q=&amp;kind=councillor"),
        "the link keeps the filters: {page}"
    );
    let res = ict.get(&app, "/c/north/people.csv?kind=councillor").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("attachment; filename=\"north-people.csv\"")
    );
    let people = rows(&res.text().await.expect("csv"));
    assert_eq!(people[0][..3], ["id", "name", "kind"]);
    assert!(people.len() > 1, "{people:?}");
    assert!(
        people[1..].iter().all(|r| r[2] == "councillor"),
        "only councillors: {people:?}"
    );

    let all = rows(
        &ict.get(&app, "/c/north/findings.csv")
            .await
            .text()
            .await
            .expect("csv"),
    );
    let status = all[0].iter().position(|h| h == "status").expect("status");
    let some = all[1][status].clone();
    let filtered = rows(
        &ict.get(&app, &format!("/c/north/findings.csv?status={some}"))
            .await
            .text()
            .await
            .expect("csv"),
    );
    assert!(filtered.len() > 1);
    assert!(filtered[1..].iter().all(|r| r[status] == some));
    assert!(filtered.len() <= all.len());

    for list in ["devices", "incidents", "claims"] {
        let res = ict.get(&app, &format!("/c/north/{list}.csv")).await;
        assert_eq!(res.status(), StatusCode::OK, "{list}");
        assert!(res.text().await.expect("csv").contains('\n'), "{list}");
    }

    // The committee report, from the dashboard's link.
    let dashboard = ict.get(&app, "/c/north").await.text().await.expect("page");
    assert!(dashboard.contains("/c/north/report.pdf?"), "{dashboard}");
    let res = ict.get(&app, "/c/north/report.pdf").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(res.bytes().await.expect("pdf").starts_with(b"%PDF-"));

    // A member may not see the registers, nor download them.
    let member = app.sign_in(NORTH, "p-member").await;
    let res = member.get(&app, "/c/north/people.csv").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[test]
fn a_formula_is_text_in_a_download() {
    assert_eq!(
        reports::csv::neutralise("=HYPERLINK(\"http://x\",\"y\")"),
        "'=HYPERLINK(\"http://x\",\"y\")"
    );
    for lead in ["+1", "-1", "@SUM(A1)", "\tx"] {
        assert!(reports::csv::neutralise(lead).starts_with('\''), "{lead}");
    }
    assert_eq!(reports::csv::neutralise("Jo Bloggs"), "Jo Bloggs");
}
