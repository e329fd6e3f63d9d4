//! Any other CSV, through a mapping file: which of the file's columns holds
//! each of Warden's fields, how the file writes its values (`Corporate` ->
//! `council`) and its dates (`%d/%m/%Y`). A mapped row is turned into a row
//! of Warden's own layout and read as one, so it is held to the same rules.
//!
//! ```toml
//! rows = "people"                 # or "devices"
//! date_format = "%d/%m/%Y"        # how the file writes dates (strftime)
//!
//! [columns]                       # Warden's field = the file's column(s)
//! id = "Trent Person Reference"
//! name = ["Forename", "Surname"]  # several columns are joined by a space
//! kind = "Staff Group"
//! leaving_date = "Leaving Date"
//!
//! [values.kind]                   # the file's value = Warden's
//! "Elected Member" = "councillor"
//!
//! [defaults]                      # for a cell that is empty, or a field no column holds
//! kind = "employee"
//! ```

use crate::read::{Format, ReadError};
use jiff::civil::Date;
use serde::Deserialize;
use std::collections::BTreeMap;

/// What a mapped file's rows are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    People,
    Devices,
}

impl Target {
    /// Warden's fields for these rows, each with the column of the layout a
    /// mapped row becomes (`hr-people`'s, or `snipeit-assets`' for
    /// devices), and whether it is a date.
    fn fields(self) -> &'static [(&'static str, &'static str, bool)] {
        match self {
            Target::People => &[
                ("id", "id", false),
                ("name", "name", false),
                ("email", "email", false),
                ("kind", "kind", false),
                ("department", "department", false),
                ("job", "job", false),
                ("manager", "manager", false),
                ("start_date", "start_date", true),
                ("leaving_date", "leaving_date", true),
                ("household", "household", false),
                ("term_end", "term_end", true),
            ],
            Target::Devices => &[
                ("id", "asset tag", false),
                ("kind", "kind", false),
                ("owner", "ownership", false),
                ("registered", "purchase date", true),
                ("make", "manufacturer", false),
                ("model", "model", false),
                ("serial", "serial", false),
                ("user", "checked out to", false),
                ("state", "status", false),
            ],
        }
    }

    /// The fields a mapping must give, by a column or a default.
    fn required(self) -> &'static [&'static str] {
        match self {
            Target::People => &["id", "name", "kind"],
            Target::Devices => &["id", "kind"],
        }
    }

    /// The layout a mapped row becomes.
    pub fn format(self) -> Format {
        match self {
            Target::People => Format::HrPeople,
            Target::Devices => Format::SnipeitAssets,
        }
    }
}

/// A column, or several joined by a space (a forename and a surname).
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
enum Columns {
    One(String),
    Several(Vec<String>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MappingFile {
    rows: String,
    #[serde(default)]
    date_format: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, Columns>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    defaults: BTreeMap<String, String>,
}

/// A checked mapping.
#[derive(Clone, Debug)]
pub struct Mapping {
    pub target: Target,
    date_format: String,
    /// For each of Warden's fields the mapping gives: the file's columns.
    columns: Vec<(&'static str, Vec<String>)>,
    values: BTreeMap<String, BTreeMap<String, String>>,
    defaults: BTreeMap<String, String>,
}

/// What is wrong with a mapping file: where, when TOML says, and what.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", .line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct MappingError {
    pub line: Option<usize>,
    pub message: String,
}

fn error(message: impl Into<String>) -> MappingError {
    MappingError {
        line: None,
        message: message.into(),
    }
}

impl Mapping {
    /// Reads and checks a mapping file's text: every mistake, or the mapping.
    pub fn parse(text: &str) -> Result<Mapping, Vec<MappingError>> {
        let file: MappingFile = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            vec![MappingError {
                line,
                message: e.message().trim().to_owned(),
            }]
        })?;
        let mut errors = Vec::new();
        let target = match file.rows.as_str() {
            "people" => Target::People,
            "devices" => Target::Devices,
            other => {
                return Err(vec![error(format!(
                    "rows = \"{other}\": a mapping is for \"people\" or \"devices\""
                ))]);
            }
        };
        let known: Vec<&str> = target.fields().iter().map(|(f, _, _)| *f).collect();
        let field = |name: &str| known.iter().copied().find(|f| *f == name);
        let mut columns = Vec::new();
        for (name, cols) in &file.columns {
            let Some(f) = field(name) else {
                errors.push(error(format!(
                    "[columns] {name}: not a field of {} rows; the fields are {}",
                    file.rows,
                    known.join(", ")
                )));
                continue;
            };
            let cols = match cols {
                Columns::One(c) => vec![c.clone()],
                Columns::Several(cs) => cs.clone(),
            };
            if cols.is_empty() || cols.iter().any(|c| c.trim().is_empty()) {
                errors.push(error(format!(
                    "[columns] {name}: name a column of the file"
                )));
            }
            columns.push((f, cols));
        }
        let sections = [
            ("values", file.values.keys().collect::<Vec<_>>()),
            ("defaults", file.defaults.keys().collect()),
        ];
        for (section, names) in sections {
            for name in names {
                if field(name).is_none() {
                    errors.push(error(format!(
                        "[{section}] {name}: not a field of {} rows; the fields are {}",
                        file.rows,
                        known.join(", ")
                    )));
                }
            }
        }
        for required in target.required() {
            let given =
                columns.iter().any(|(f, _)| f == required) || file.defaults.contains_key(*required);
            if !given {
                errors.push(error(format!(
                    "{required}: every {} row needs it; give its column in [columns] or a value in [defaults]",
                    if target == Target::People { "person" } else { "device" }
                )));
            }
        }
        let date_format = file.date_format.unwrap_or_else(|| "%Y-%m-%d".to_owned());
        // A format that cannot read back a date it wrote is no date format.
        let probe = jiff::civil::date(2026, 3, 31);
        let round_trip = jiff::fmt::strtime::format(&date_format, probe)
            .ok()
            .and_then(|text| Date::strptime(&date_format, &text).ok());
        if round_trip != Some(probe) {
            errors.push(error(format!(
                "date_format = \"{date_format}\": not a date format (for example \"%d/%m/%Y\" or \"%Y-%m-%d\")"
            )));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Mapping {
            target,
            date_format,
            columns,
            values: file.values,
            defaults: file.defaults,
        })
    }

    /// The header of the layout mapped rows become (lower-case).
    pub(crate) fn header(&self) -> Vec<String> {
        self.target
            .fields()
            .iter()
            .map(|(_, column, _)| (*column).to_owned())
            .collect()
    }

    /// The file's columns the mapping names that `header` (lower-cased)
    /// lacks, each an error on line 1.
    pub(crate) fn missing(&self, header: &[String]) -> Vec<ReadError> {
        self.columns
            .iter()
            .flat_map(|(field, cols)| cols.iter().map(move |c| (field, c)))
            .filter(|(_, c)| !header.contains(&c.trim().to_ascii_lowercase()))
            .map(|(field, c)| ReadError::Line {
                line: 1,
                message: format!(
                    "the mapping reads {field} from a column `{c}`, which the file does not have"
                ),
            })
            .collect()
    }

    /// The file's column(s) a field comes from, for errors: `Forename +
    /// Surname`; or the field itself when a default gives it.
    pub(crate) fn source(&self, field: &str) -> String {
        self.columns
            .iter()
            .find(|(f, _)| *f == field)
            .map_or_else(|| field.to_owned(), |(_, cols)| cols.join(" + "))
    }

    /// The source of an error a mapped row's read names by the layout's
    /// column (`Asset Tag`, `start_date`).
    pub(crate) fn source_of_column(&self, column: &str) -> String {
        self.target
            .fields()
            .iter()
            .find(|(_, c, _)| c.eq_ignore_ascii_case(column))
            .map_or_else(|| column.to_owned(), |(f, _, _)| self.source(f))
    }

    /// One record of the file as a record of the layout, or what is wrong
    /// with its dates.
    pub(crate) fn translate(
        &self,
        header: &[String],
        record: &csv::StringRecord,
        line: u64,
    ) -> Result<csv::StringRecord, Vec<ReadError>> {
        let mut errors = Vec::new();
        let mut out = csv::StringRecord::new();
        for (field, _, is_date) in self.target.fields() {
            let raw: Option<String> = self
                .columns
                .iter()
                .find(|(f, _)| f == field)
                .map(|(_, cols)| {
                    cols.iter()
                        .filter_map(|c| {
                            let c = c.trim().to_ascii_lowercase();
                            header.iter().position(|h| *h == c)
                        })
                        .filter_map(|i| record.get(i))
                        .map(str::trim)
                        .filter(|v| !v.is_empty())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .filter(|v| !v.is_empty())
                .or_else(|| self.defaults.get(*field).cloned());
            let value = raw.map(|v| {
                self.values
                    .get(*field)
                    .and_then(|m| m.iter().find(|(k, _)| k.trim().eq_ignore_ascii_case(&v)))
                    .map_or(v, |(_, to)| to.clone())
            });
            let value = match (value, is_date) {
                (Some(v), true) => match Date::strptime(&self.date_format, &v) {
                    Ok(d) => d.to_string(),
                    Err(_) => {
                        errors.push(ReadError::Cell {
                            line,
                            column: self.source(field),
                            message: format!(
                                "`{v}` is not a date written as the mapping's date_format, {}",
                                self.date_format
                            ),
                        });
                        String::new()
                    }
                },
                (Some(v), false) => v,
                (None, _) => String::new(),
            };
            out.push_field(&value);
        }
        if errors.is_empty() {
            Ok(out)
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mistake_in_a_mapping_is_named() {
        let errors = Mapping::parse(
            r#"
rows = "people"
date_format = "%Q"
[columns]
id = "Ref"
colour = "Colour"
[values.flavour]
a = "b"
"#,
        )
        .expect_err("bad");
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(
            said.iter()
                .any(|e| e.contains("colour: not a field of people rows")),
            "{said:?}"
        );
        assert!(
            said.iter().any(|e| e.contains("[values] flavour")),
            "{said:?}"
        );
        assert!(
            said.iter()
                .any(|e| e.starts_with("name: every person row needs it")),
            "{said:?}"
        );
        assert!(said.iter().any(|e| e.starts_with("kind:")), "{said:?}");
        assert!(
            said.iter().any(|e| e.contains("date_format = \"%Q\"")),
            "{said:?}"
        );
    }

    #[test]
    fn a_toml_mistake_names_its_line() {
        let errors = Mapping::parse("rows = \"people\"\n[columns]\nid = \n").expect_err("bad");
        assert_eq!(errors[0].line, Some(3), "{errors:?}");
        let errors = Mapping::parse("rows = \"people\"\nrowz = 1\n").expect_err("bad");
        assert!(errors[0].message.contains("rowz"), "{errors:?}");
    }
}
