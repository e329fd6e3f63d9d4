//! `warden report`: Southend's example year as the committee's PDF, read
//! back by poppler's tools. Tagged, every page renders, and the figures in
//! its text equal `check --format json` at the same instant, including each
//! quarter's end.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use test_utils::cli::{council_from_example, ok, warden};

const AT: &str = "2026-03-31T17:00:00+01:00";

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (poppler-utils; .ci/run installs it): {e}"));
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Findings by status as `check` counts them at `at`.
fn counts(url: &str, at: &str) -> BTreeMap<String, usize> {
    let out = warden(&[
        "check",
        "--db",
        url,
        "--council",
        "southend",
        "--at",
        at,
        "--format",
        "json",
    ]);
    assert!(matches!(out.status.code(), Some(0 | 1)));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let mut c: BTreeMap<String, usize> = ["met", "open", "late", "overdue", "violated"]
        .iter()
        .map(|s| ((*s).to_owned(), 0))
        .collect();
    for f in json["findings"].as_array().expect("findings") {
        *c.entry(f["status"].as_str().unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    c
}

/// The summary table's counts in the report's text.
fn summary(text: &str) -> BTreeMap<String, usize> {
    let start = text.find("\nSummary").expect("a summary");
    let mut c = BTreeMap::new();
    for line in text[start..].lines().take(12) {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let [status, n, ..] = words[..]
            && let Ok(n) = n.parse::<usize>()
            && ["Met", "Open", "Late", "Overdue", "Violated"].contains(&status)
        {
            c.insert(status.to_lowercase(), n);
        }
    }
    c
}

/// Each quarter's row: (its last day, counts).
fn quarters(text: &str) -> Vec<(String, BTreeMap<String, usize>)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words.len() == 8
            && words[0].parse::<u8>().is_ok()
            && words[2].parse::<u16>().is_ok()
            && let Ok(n) = words[3..]
                .iter()
                .map(|w| w.parse::<usize>())
                .collect::<Result<Vec<_>, _>>()
        {
            let c = ["met", "open", "late", "overdue", "violated"]
                .iter()
                .zip(n)
                .map(|(s, n)| ((*s).to_owned(), n))
                .collect();
            out.push((words[..3].join(" "), c));
        }
    }
    out
}

#[test]
fn the_committee_report_is_a_tagged_pdf_whose_figures_equal_check() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    council_from_example(&url, "southend", "southend");
    let pdf = dir.path().join("report.pdf");
    let pdf_path = pdf.to_str().expect("utf-8");
    ok(&[
        "report",
        "--db",
        &url,
        "--council",
        "southend",
        "--at",
        AT,
        "--out",
        pdf_path,
    ]);
    let info = tool("pdfinfo", &[pdf_path]);
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Title:           Southend-on-Sea City Council: ICT security policies compliance report, 31 March 2026"),
        "{info}"
    );
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a page count");
    assert!(pages >= 8, "{info}");

    let text = tool("pdftotext", &["-layout", pdf_path, "-"]);
    assert!(text.contains("Southend-on-Sea City Council"));
    assert!(
        text.contains("As of 5:00pm on Tuesday 31 March 2026."),
        "{text}"
    );
    assert_eq!(summary(&text), counts(&url, AT), "the summary is check's");
    assert!(
        text.contains("ISO/IEC 27001:2022 Annex A"),
        "control coverage"
    );
    assert!(text.contains("A.5.11"), "{text}");
    assert!(text.contains("Appendix: overdue and violated findings"));

    // The year's quarters, each evaluated as of its end.
    let series = quarters(&text);
    let labels: Vec<&str> = series.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(
        labels,
        [
            "30 June 2025",
            "30 September 2025",
            "31 December 2025",
            "31 March 2026"
        ]
    );
    for (label, c) in &series {
        let date: jiff::civil::Date = jiff::fmt::strtime::parse("%d %B %Y", label)
            .and_then(|t| t.to_date())
            .expect("a date");
        let at = if *label == "31 March 2026" {
            AT.to_owned()
        } else {
            date.at(23, 59, 59, 0)
                .to_zoned(jiff::tz::TimeZone::get("Europe/London").expect("zone"))
                .expect("zoned")
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        };
        assert_eq!(*c, counts(&url, &at), "quarter ending {label} ({at})");
    }

    // Every page renders.
    let images = dir.path().join("pages");
    std::fs::create_dir_all(&images).expect("dir");
    tool(
        "pdftoppm",
        &[
            "-r",
            "30",
            "-png",
            pdf_path,
            images.join("p").to_str().expect("utf-8"),
        ],
    );
    let rendered = std::fs::read_dir(&images).expect("pages").count();
    assert_eq!(rendered, pages);
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/screenshots/committee-report.png")
            .exists(),
        "a page of the report is shown in the docs"
    );
}

#[test]
fn a_report_asked_for_badly_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("w.db").display());
    council_from_example(&url, "southend", "southend");
    let out = dir.path().join("r.pdf");
    for (args, words) in [
        (
            vec!["--period", "a while"],
            "--period a while: expected months or years",
        ),
        (
            vec!["--period", "5 working days"],
            "expected months or years",
        ),
    ] {
        let mut all = vec![
            "report",
            "--db",
            &url,
            "--council",
            "southend",
            "--out",
            out.to_str().expect("utf-8"),
        ];
        all.extend(args);
        let res = warden(&all);
        assert_eq!(res.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&res.stderr).contains(words),
            "{}",
            String::from_utf8_lossy(&res.stderr)
        );
        assert!(!out.exists(), "nothing written");
    }
    let res = warden(&[
        "report",
        "--db",
        &url,
        "--council",
        "southend",
        "--out",
        dir.path().join("r.txt").to_str().expect("utf-8"),
    ]);
    assert_eq!(res.status.code(), Some(2));
}
