//! `warden import-csv`: the sample exports in `examples/imports/` planned,
//! applied, and applied again (nothing the second time); and every bad file
//! named at its line and column, with nothing written.

use test_utils::cli::{ok, root, warden};

struct Db {
    _dir: tempfile::TempDir,
    url: String,
}

/// A council on Sefton's pack (no rule refuses a starter), empty.
fn council() -> Db {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite:{}", dir.path().join("warden.db").display());
    ok(&[
        "init",
        "--db",
        &url,
        "--council",
        "east",
        "--pack",
        "sefton",
    ]);
    Db { _dir: dir, url }
}

fn sample(name: &str) -> String {
    root()
        .join("examples/imports")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn import(db: &Db, file: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["import-csv", "--db", &db.url, "--council", "east", file];
    args.extend_from_slice(extra);
    warden(&args)
}

/// `import-csv` of `file` with `extra`, which must succeed: what it said.
fn imported(db: &Db, file: &str, extra: &[&str]) -> String {
    let args = ["import-csv", "--db", &db.url, "--council", "east", file];
    ok(&[&args[..], extra].concat())
}

fn head(db: &Db) -> String {
    ok(&["head", "--db", &db.url, "--council", "east"])
}

#[test]
fn an_hr_file_is_planned_applied_and_applied_again_to_no_effect() {
    let db = council();
    let file = sample("hr-people.csv");
    let before = head(&db);
    let out = import(&db, &file, &[]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("read as hr-people (4 rows)"),
        "the format is detected: {said}"
    );
    assert!(said.contains("plan: 4 person_joined"), "{said}");
    assert!(said.contains("plan: 1 person_left"), "{said}");
    assert!(said.contains("nothing was written"), "{said}");
    assert_eq!(head(&db), before, "a dry run writes nothing");

    let said = String::from_utf8_lossy(&import(&db, &file, &["--apply"]).stdout).into_owned();
    assert!(said.contains("appended 5 events to east"), "{said}");
    let again = String::from_utf8_lossy(&import(&db, &file, &["--apply"]).stdout).into_owned();
    assert!(again.contains("plan: nothing to record"), "{again}");
    assert!(
        again.contains("nothing to record: the estate already says"),
        "{again}"
    );
    // The manager and the quoted name came through; the leaver left on their day.
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    assert!(log.contains(r#""manager":"e-1001""#), "{log}");
    assert!(log.contains(r#""name":"Morgan, Alex""#), "{log}");
    let left = log
        .lines()
        .find(|l| l.contains("person_left"))
        .unwrap_or_default();
    assert!(
        left.contains(r#""at":"2025-11-28T17:00:00Z""#) && left.contains("e-1003"),
        "{left}"
    );
}

#[test]
fn an_entra_export_needs_a_date_for_what_it_does_not_date_and_disables_as_leaving() {
    let db = council();
    let file = sample("entra-users.csv");
    let out = import(&db, &file, &["--apply"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("entra-users.csv: line 2: "), "{err}");
    assert!(err.contains("give --as-of"), "{err}");
    let said = imported(&db, &file, &["--as-of", "2026-01-05T09:00:00Z", "--apply"]);
    assert!(said.contains("read as entra-users"), "{said}");
    assert!(
        said.contains("plan: 4 person_joined") && said.contains("plan: 1 person_left"),
        "{said}"
    );
    let again = imported(&db, &file, &["--as-of", "2026-01-12T09:00:00Z", "--apply"]);
    assert!(
        again.contains("plan: nothing to record"),
        "a disabled leaver stays left: {again}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    assert!(
        log.contains(r#""kind":"third_party""#),
        "a guest is a third party: {log}"
    );
    // Priya is left out of a complete file: she has left.
    let dir = tempfile::tempdir().expect("temp");
    let fewer = dir.path().join("fewer.csv");
    let text = std::fs::read_to_string(&file).expect("sample");
    let kept: Vec<&str> = text.lines().filter(|l| !l.contains("priya")).collect();
    std::fs::write(&fewer, kept.join("\n")).expect("write");
    let fewer = fewer.to_string_lossy().into_owned();
    let args = [
        "import-csv",
        "--db",
        &db.url,
        "--council",
        "east",
        &fewer,
        "--as-of",
        "2026-02-02T09:00:00Z",
    ];
    let without = ok(&args);
    assert!(
        without.contains("plan: nothing to record"),
        "not complete: {without}"
    );
    let with = ok(&[&args[..], &["--complete"]].concat());
    assert!(
        with.contains("plan: 1 person_left") && with.contains("6f1c2a9e"),
        "{with}"
    );
}

#[test]
fn a_bad_file_is_named_at_its_line_and_column_and_nothing_is_written() {
    let db = council();
    let dir = tempfile::tempdir().expect("temp");
    let good = std::fs::read_to_string(sample("hr-people.csv")).expect("sample");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "semicolons",
            good.replace(',', ";").into_bytes(),
            "line 1: the header is one column holding `;`",
        ),
        (
            "missing column",
            good.replacen("kind,", "sort,", 1).into_bytes(),
            "hr-people lacks kind",
        ),
        (
            "duplicate id",
            format!("{good}e-1001,Twin,,employee,,,,,,,\n").into_bytes(),
            "line 6: `e-1001` is also on line 2",
        ),
        (
            "day first",
            good.replace("2025-01-06", "06/01/2025").into_bytes(),
            "line 3, column `start_date`: `06/01/2025` is not a date written YYYY-MM-DD",
        ),
        (
            "not UTF-8",
            [good.as_bytes(), b"e-9,Bad \xff name,,employee,,,,,,,\n"].concat(),
            "line 6: is not UTF-8",
        ),
        (
            "short row",
            format!("{good}e-9,Short\n").into_bytes(),
            "line 6: has 2 columns, where the header has 11",
        ),
        (
            "quoted newline",
            format!("{good}e-9,\"Two\nLines\",,employee,,,,,,,\n").into_bytes(),
            "line 6, column `name`: holds the control character U+000A",
        ),
        (
            "bad kind",
            good.replace("councillor,Members", "member,Members")
                .into_bytes(),
            "line 5, column `kind`",
        ),
    ];
    let before = head(&db);
    for (name, bytes, expected) in cases {
        let path = dir.path().join(format!("{}.csv", name.replace(' ', "-")));
        std::fs::write(&path, bytes).expect("write");
        let out = import(&db, &path.to_string_lossy(), &["--apply"]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{name}: {err}");
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert_eq!(head(&db), before, "{name}: nothing written");
    }
    // A byte-order mark is not a problem.
    let bom = dir.path().join("bom.csv");
    std::fs::write(&bom, [b"\xef\xbb\xbf".as_slice(), good.as_bytes()].concat()).expect("write");
    let said =
        String::from_utf8_lossy(&import(&db, &bom.to_string_lossy(), &[]).stdout).into_owned();
    assert!(said.contains("read as hr-people (4 rows)"), "{said}");
}

#[test]
fn an_intune_export_registers_devices_and_issues_them_to_the_people_it_names() {
    let db = council();
    imported(&db, &sample("hr-people.csv"), &["--apply"]);
    let file = sample("intune-devices.csv");
    let said = imported(&db, &file, &["--apply"]);
    assert!(said.contains("read as intune-devices (3 rows)"), "{said}");
    assert!(said.contains("plan: 3 device_registered"), "{said}");
    assert!(said.contains("plan: 2 device_issued"), "{said}");
    assert!(
        said.contains("visitor@elsewhere.example is not someone Warden knows"),
        "{said}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    assert!(
        log.contains(r#""kind":"tablet""#) && log.contains(r#""kind":"smartphone""#),
        "{log}"
    );
    assert!(
        log.contains(r#""owner":"personal""#) && log.contains(r#""serial":"5CD1234XYZ""#),
        "{log}"
    );
    let again = imported(&db, &file, &["--apply"]);
    assert!(again.contains("plan: nothing to record"), "{again}");
    // Priya's laptop goes to Alex: handed back, then issued, on the day given.
    let dir = tempfile::tempdir().expect("temp");
    let moved = dir.path().join("moved.csv");
    let text = std::fs::read_to_string(&file).expect("sample");
    std::fs::write(
        &moved,
        text.replace(
            "priya.shah@example.gov.uk,priya.shah@example.gov.uk",
            "alex.morgan@example.gov.uk,alex.morgan@example.gov.uk",
        ),
    )
    .expect("write");
    let moved = moved.to_string_lossy().into_owned();
    let out = import(&db, &moved, &["--apply"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("give --as-of"),
        "a change needs a date"
    );
    let said = imported(&db, &moved, &["--as-of", "2026-06-01T09:00:00Z", "--apply"]);
    let text = std::fs::read_to_string(&moved).expect("moved");
    assert!(
        said.contains("plan: 1 device_returned") && said.contains("plan: 1 device_issued"),
        "{said}"
    );
    // Jo's iPad is retired in Intune: handed back, then disposed of.
    let retired = dir.path().join("retired.csv");
    std::fs::write(
        &retired,
        text.replace(
            "Compliant,Corporate,Active,jo.evans",
            "Compliant,Corporate,Retired,jo.evans",
        ),
    )
    .expect("write");
    let said = imported(
        &db,
        &retired.to_string_lossy(),
        &["--as-of", "2026-07-01T09:00:00Z", "--apply"],
    );
    assert!(
        said.contains("plan: 1 device_returned") && said.contains("plan: 1 device_disposed"),
        "{said}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    assert!(
        log.contains(r#""wiped":false"#),
        "retired, not wiped: {log}"
    );
}

#[test]
fn snipeit_users_and_assets_come_in_keyed_by_employee_number_and_asset_tag() {
    let db = council();
    let users = sample("snipeit-users.csv");
    let said = imported(&db, &users, &["--as-of", "2026-03-02T09:00:00Z", "--apply"]);
    assert!(said.contains("read as snipeit-users (3 rows)"), "{said}");
    assert!(said.contains("plan: 3 person_joined"), "{said}");
    let again = imported(&db, &users, &["--as-of", "2026-03-09T09:00:00Z", "--apply"]);
    assert!(again.contains("plan: nothing to record"), "{again}");
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    // The employee number is the id where there is one, else the username.
    assert!(
        log.contains(r#""person":"e-1001""#) && log.contains(r#""person":"chris.lee""#),
        "{log}"
    );
    assert!(log.contains(r#""name":"Priya Shah""#), "{log}");
    assert!(log.contains(r#""job":"Fleet supervisor""#), "{log}");

    let assets = sample("snipeit-assets.csv");
    let said = imported(&db, &assets, &["--apply"]);
    assert!(said.contains("read as snipeit-assets (4 rows)"), "{said}");
    assert!(said.contains("plan: 3 device_registered"), "{said}");
    assert!(said.contains("plan: 2 device_issued"), "{said}");
    assert!(
        said.contains("LAP-0101 is gone by the source's account, and Warden never registered it"),
        "an archived asset is not registered: {said}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    let registered = |tag: &str| {
        log.lines()
            .find(|l| l.contains("device_registered") && l.contains(tag))
            .unwrap_or_default()
            .to_owned()
    };
    // The category gives the kind; the purchase date is when it was acquired.
    assert!(
        registered("PH-0044").contains(r#""kind":"smartphone""#),
        "{log}"
    );
    assert!(
        registered("TAB-0007").contains(r#""kind":"tablet""#),
        "{log}"
    );
    assert!(
        registered("LAP-0193").contains(r#""acquired":"2025-04-02""#),
        "{log}"
    );
    let again = imported(&db, &assets, &["--apply"]);
    assert!(again.contains("plan: nothing to record"), "{again}");
    // Priya's laptop is archived: handed back, then disposed of.
    let dir = tempfile::tempdir().expect("temp");
    let archived = dir.path().join("archived.csv");
    let text = std::fs::read_to_string(&assets).expect("sample");
    std::fs::write(
        &archived,
        text.replace("5CD1234XYZ,Deployed", "5CD1234XYZ,Archived"),
    )
    .expect("write");
    let archived = archived.to_string_lossy().into_owned();
    let out = import(&db, &archived, &["--apply"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2: LAP-0193 is retired, wiped or archived"),
        "{err}"
    );
    let said = imported(
        &db,
        &archived,
        &["--as-of", "2026-08-03T09:00:00Z", "--apply"],
    );
    assert!(
        said.contains("plan: 1 device_returned") && said.contains("plan: 1 device_disposed"),
        "{said}"
    );
}

#[test]
fn any_other_csv_comes_in_through_a_mapping_of_columns_values_and_dates() {
    let db = council();
    let people = sample("itrent-people.csv");
    let mapping = sample("itrent-people.toml");
    let said = imported(&db, &people, &["--mapping", &mapping, "--apply"]);
    assert!(said.contains("read with the mapping"), "{said}");
    assert!(
        said.contains("plan: 4 person_joined") && said.contains("plan: 1 person_left"),
        "{said}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    let joined = |id: &str| {
        log.lines()
            .find(|l| l.contains("person_joined") && l.contains(&format!(r#""person":"{id}""#)))
            .unwrap_or_default()
            .to_owned()
    };
    // Two columns joined; a day-first date read as the mapping says; a
    // value mapped.
    assert!(joined("T1002").contains(r#""name":"Alex Morgan""#), "{log}");
    assert!(
        joined("T1002").contains(r#""at":"2025-01-06T09:00:00Z""#),
        "{log}"
    );
    assert!(joined("T2001").contains(r#""kind":"councillor""#), "{log}");
    let again = imported(&db, &people, &["--mapping", &mapping, "--apply"]);
    assert!(again.contains("plan: nothing to record"), "{again}");

    let said = imported(
        &db,
        &sample("asset-register.csv"),
        &["--mapping", &sample("asset-register.toml"), "--apply"],
    );
    assert!(
        said.contains("plan: 3 device_registered") && said.contains("plan: 2 device_issued"),
        "{said}"
    );
    let log = ok(&["export", "--db", &db.url, "--council", "east"]);
    assert!(
        log.lines()
            .any(|l| l.contains(r#""device":"A-0007""#) && l.contains(r#""owner":"personal""#)),
        "BYOD is the owner's own: {log}"
    );
}

#[test]
fn a_bad_mapping_or_a_file_it_does_not_fit_is_named_and_nothing_is_written() {
    let db = council();
    let dir = tempfile::tempdir().expect("temp");
    let people = sample("itrent-people.csv");
    let good = std::fs::read_to_string(sample("itrent-people.toml")).expect("mapping");
    let before = head(&db);
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "a field Warden lacks",
            good.replace("job = ", "colour = "),
            std::fs::read_to_string(&people).expect("people"),
            "[columns] colour: not a field of people rows",
        ),
        (
            "TOML that does not parse",
            good.replace("rows = \"people\"", "rows = people"),
            std::fs::read_to_string(&people).expect("people"),
            "itrent.toml: line 3:",
        ),
        (
            "a column the file lacks",
            good.clone(),
            std::fs::read_to_string(&people)
                .expect("people")
                .replace("Org Unit", "Directorate"),
            "line 1: the mapping reads department from a column `Org Unit`",
        ),
        (
            "a date not as the mapping says",
            good.clone(),
            std::fs::read_to_string(&people)
                .expect("people")
                .replace("06/01/2025", "2025-01-06"),
            "line 3, column `Joining Date`: `2025-01-06` is not a date written as the mapping's date_format, %d/%m/%Y",
        ),
        (
            "a value the mapping does not map",
            good.clone(),
            std::fs::read_to_string(&people)
                .expect("people")
                .replace("Elected Member", "Mayor"),
            "line 5, column `Staff Group`",
        ),
    ];
    for (name, toml, csv, expected) in cases {
        let mapping = dir.path().join("itrent.toml");
        let file = dir.path().join("people.csv");
        std::fs::write(&mapping, toml).expect("write");
        std::fs::write(&file, csv).expect("write");
        let out = import(
            &db,
            &file.to_string_lossy(),
            &["--mapping", &mapping.to_string_lossy(), "--apply"],
        );
        assert_eq!(out.status.code(), Some(2), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{name}: {err}");
        assert!(err.contains("nothing was written"), "{name}: {err}");
        assert_eq!(head(&db), before, "{name}: nothing written");
    }
}
