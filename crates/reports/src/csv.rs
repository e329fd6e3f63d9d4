//! Lists as CSV for a spreadsheet: UTF-8, a header row, and every cell a
//! spreadsheet would take for a formula neutralised (OWASP's advice on CSV
//! injection: a leading `=`, `+`, `-`, `@`, tab or carriage return is
//! preceded by `'`), so a name typed as `=HYPERLINK(...)` stays text.

use serde::Serialize;

/// A cell as written: text that could start a formula gets a `'` first.
pub fn neutralise(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// Why rows could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CsvError(pub String);

/// `header` and `rows` as CSV text, each cell neutralised.
pub fn table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    // Writing to memory cannot fail but for a row of the wrong length,
    // which the callers build from the same header.
    let _ = writer.write_record(header);
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| neutralise(c)).collect();
        let _ = writer.write_record(&cells);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Records that serialise to flat objects (strings, numbers, nulls, lists
/// of strings) as CSV with these `fields` as the header, in that order (a
/// JSON object's key order is not to be relied on): a null or absent field
/// is an empty cell and a list is its items joined by a space.
pub fn records<T: Serialize>(fields: &[&str], items: &[T]) -> Result<String, CsvError> {
    let mut rows = Vec::with_capacity(items.len());
    for item in items {
        let value = serde_json::to_value(item).map_err(|e| CsvError(e.to_string()))?;
        let serde_json::Value::Object(map) = value else {
            return Err(CsvError("a row is not a record".into()));
        };
        rows.push(
            fields
                .iter()
                .map(|f| map.get(*f).map(cell).unwrap_or_default())
                .collect::<Vec<String>>(),
        );
    }
    Ok(table(fields, rows))
}

fn cell(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => String::new(),
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(" "),
        other => other.to_string(),
    }
}
