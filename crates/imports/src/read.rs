//! Reading a file: the format from its header, then each row as a person,
//! every bad row and column named. A file with any error gives no rows.

use crate::mapping::Mapping;
use domain::{DeviceId, DeviceKind, DeviceOwner, HouseholdId, IdShape, PersonId, PersonKind};
use jiff::civil::Date;
use std::io::Read;

/// The layouts Warden reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Warden's own: id, name, email, kind, department, job, manager,
    /// start_date, leaving_date, household, term_end.
    HrPeople,
    /// The Entra admin center's "Download users": id or objectId,
    /// userPrincipalName, displayName, mail, userType, jobTitle,
    /// department, accountEnabled.
    EntraUsers,
    /// Intune's device export, by the portal's column names or Graph's:
    /// Device ID, Device name, Enrollment date, OS, Serial number,
    /// Manufacturer, Model, Ownership, Primary user UPN or email address.
    IntuneDevices,
    /// Snipe-IT's asset export (or its importer's layout): Asset Tag,
    /// Category, Manufacturer, Model, Serial, Status, Checked Out To,
    /// Purchase Date.
    SnipeitAssets,
    /// Snipe-IT's user export: First Name, Last Name, Email, Username,
    /// Employee Number, Job Title, Department.
    SnipeitUsers,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::HrPeople,
        Format::EntraUsers,
        Format::IntuneDevices,
        Format::SnipeitAssets,
        Format::SnipeitUsers,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Format::HrPeople => "hr-people",
            Format::EntraUsers => "entra-users",
            Format::IntuneDevices => "intune-devices",
            Format::SnipeitAssets => "snipeit-assets",
            Format::SnipeitUsers => "snipeit-users",
        }
    }

    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The columns a file of this format must have (case-insensitive), for
    /// each the names it may go by.
    fn required(self) -> &'static [&'static [&'static str]] {
        match self {
            Format::HrPeople => &[&["id"], &["name"], &["kind"]],
            Format::EntraUsers => &[
                &["id", "objectid"],
                &["userprincipalname"],
                &["displayname"],
                &["accountenabled"],
            ],
            Format::IntuneDevices => &[&["device id", "deviceid"], &["device name", "devicename"]],
            Format::SnipeitAssets => &[&["asset tag"], &["category"]],
            Format::SnipeitUsers => &[&["username", "user name"], &["first name"], &["last name"]],
        }
    }

    /// Whether each row is a device (else a person).
    fn devices(self) -> bool {
        matches!(self, Format::IntuneDevices | Format::SnipeitAssets)
    }

    /// The format whose required columns the header has, if one does.
    pub fn detect(header: &[String]) -> Option<Format> {
        let header = lowered(header);
        Format::ALL.into_iter().find(|f| {
            f.required()
                .iter()
                .all(|names| column(&header, names).is_some())
        })
    }
}

/// One person as the file gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    /// The line of the file.
    pub line: u64,
    pub id: PersonId,
    pub name: String,
    pub email: Option<String>,
    pub kind: PersonKind,
    pub department: Option<String>,
    pub job: Option<String>,
    pub manager: Option<PersonId>,
    pub start: Option<Date>,
    pub leaving: Option<Date>,
    pub household: Option<HouseholdId>,
    pub term_ends: Option<Date>,
    /// False when the source says the account is disabled.
    pub active: bool,
}

/// One device as the file gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Device {
    pub line: u64,
    pub id: DeviceId,
    pub kind: DeviceKind,
    pub owner: DeviceOwner,
    pub enrolled: Option<Date>,
    /// When the council bought it (Snipe-IT's purchase date).
    pub acquired: Option<Date>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// Who holds it: Intune's primary user (UPN or email address) or
    /// Snipe-IT's "checked out to", matched to a person by their recorded
    /// email or their id.
    pub user: Option<String>,
    /// The source says the device is gone: Intune retired or wiped it, or
    /// Snipe-IT archived it.
    pub disposal: Option<Disposal>,
}

/// How the source says a device went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Disposal {
    /// Wiped (Intune's wipe), not only retired or archived.
    pub wiped: bool,
}

/// A file's rows: people, or devices.
#[derive(Clone, Debug, PartialEq)]
pub enum Rows {
    People(Vec<Person>),
    Devices(Vec<Device>),
}

impl Rows {
    pub fn len(&self) -> usize {
        match self {
            Rows::People(p) => p.len(),
            Rows::Devices(d) => d.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What is wrong with a file, where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("line {line}: {message}")]
    Line { line: u64, message: String },
    #[error("line {line}, column `{column}`: {message}")]
    Cell {
        line: u64,
        column: String,
        message: String,
    },
}

/// The row's value in the column that goes by one of `names`, trimmed;
/// None when the column is absent or the cell empty.
fn cell(header: &[String], record: &csv::StringRecord, names: &[&str]) -> Option<String> {
    column(header, names)
        .and_then(|i| record.get(i))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// The first of `names` the header has: where a file has two columns that
/// say the same (an email and a username), the earlier name is preferred.
/// `header` is lower-cased and trimmed (`lowered`), the names lower-case:
/// this runs for every cell of every row.
fn column(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

/// A header as `column` looks names up in it.
fn lowered(header: &[String]) -> Vec<String> {
    header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

impl Person {
    /// The free text a row gives, by Warden's field.
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut texts = vec![("name", self.name.as_str())];
        for (field, text) in [
            ("email", &self.email),
            ("job", &self.job),
            ("department", &self.department),
        ] {
            if let Some(t) = text {
                texts.push((field, t.as_str()));
            }
        }
        texts
    }
}

impl Device {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        [
            ("make", &self.make),
            ("model", &self.model),
            ("serial", &self.serial),
        ]
        .into_iter()
        .filter_map(|(field, text)| text.as_deref().map(|t| (field, t)))
        .collect()
    }
}

/// The file's own name for a field of Warden's, for errors.
fn label(format: Format, field: &'static str) -> &'static str {
    match (format, field) {
        (Format::EntraUsers, "name") => "displayName",
        (Format::EntraUsers, "email") => "mail",
        (Format::EntraUsers, "job") => "jobTitle",
        (Format::SnipeitUsers, "name") => "First Name + Last Name",
        (Format::SnipeitUsers, "job") => "Job Title",
        (Format::IntuneDevices | Format::SnipeitAssets, "make") => "Manufacturer",
        (Format::IntuneDevices | Format::SnipeitAssets, "model") => "Model",
        (Format::IntuneDevices, "serial") => "Serial number",
        (Format::SnipeitAssets, "serial") => "Serial",
        (_, field) => field,
    }
}

/// Free text held to the rule every way in holds it to (not blank, no
/// control characters, at most 500 characters), checked as the file is
/// read so that a dry run shows it: a line break in a quoted name, say.
fn texts_fit(
    format: Format,
    line: u64,
    texts: &[(&'static str, &str)],
) -> Result<(), Vec<ReadError>> {
    let errors: Vec<ReadError> = texts
        .iter()
        .filter_map(|(field, text)| {
            domain::estate::text_fault(field, text).map(|message| ReadError::Cell {
                line,
                column: label(format, field).to_owned(),
                message,
            })
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// A reader past its header, and the header (a byte-order mark dropped).
type Opened<R> = (csv::Reader<R>, Vec<String>);

fn open<R: Read>(input: R) -> Result<Opened<R>, Vec<ReadError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header: Vec<String> = match reader.headers() {
        // A byte-order mark is not part of the first column's name.
        Ok(h) => h
            .iter()
            .map(|c| c.trim_start_matches('\u{feff}').to_owned())
            .collect(),
        Err(e) => return Err(vec![csv_error(&e, 1)]),
    };
    if header.len() == 1 && header[0].contains(';') {
        return Err(vec![ReadError::Line {
            line: 1,
            message: "the header is one column holding `;`: Warden reads comma-separated files (save the export as CSV with commas)".into(),
        }]);
    }
    Ok((reader, header))
}

/// Reads the whole file as `format` (or the one its header shows), every
/// row a person or a device; or every error, and no rows.
pub fn read(input: impl Read, format: Option<Format>) -> Result<(Format, Rows), Vec<ReadError>> {
    let (reader, header) = open(input)?;
    let shown = header.join(", ");
    let header = lowered(&header);
    let Some(format) = format.or_else(|| Format::detect(&header)) else {
        // Say what each format lacks, so the nearest one shows.
        let lacks = Format::ALL.map(|f| {
            let missing: Vec<&str> = f
                .required()
                .iter()
                .filter(|names| column(&header, names).is_none())
                .map(|names| names[0])
                .collect();
            format!("{} lacks {}", f.name(), missing.join(", "))
        });
        return Err(vec![ReadError::Line {
            line: 1,
            message: format!(
                "the header ({shown}) is not one of Warden's formats: {}",
                lacks.join("; ")
            ),
        }]);
    };
    let errors: Vec<ReadError> = format
        .required()
        .iter()
        .filter(|names| column(&header, names).is_none())
        .map(|names| ReadError::Line {
            line: 1,
            message: format!("the {} file has no `{}` column", format.name(), names[0]),
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let rows = read_rows(reader, format, &header, |record, _| Ok(record))?;
    Ok((format, rows))
}

/// Reads the whole file with a mapping: each row turned into a row of
/// Warden's own layout and read as one, errors naming the file's columns.
pub fn read_mapped(input: impl Read, mapping: &Mapping) -> Result<Rows, Vec<ReadError>> {
    let (reader, header) = open(input)?;
    let header = lowered(&header);
    let missing = mapping.missing(&header);
    if !missing.is_empty() {
        return Err(missing);
    }
    let layout = mapping.header();
    read_rows(reader, mapping.target.format(), &layout, |record, line| {
        mapping.translate(&header, &record, line)
    })
    .map_err(|errors| {
        errors
            .into_iter()
            .map(|e| match e {
                ReadError::Cell {
                    line,
                    column,
                    message,
                } => ReadError::Cell {
                    line,
                    column: mapping.source_of_column(&column),
                    message,
                },
                other => other,
            })
            .collect()
    })
}

/// Every record as `format` reads it (after `translate`), every id once.
fn read_rows<R: Read>(
    mut reader: csv::Reader<R>,
    format: Format,
    header: &[String],
    mut translate: impl FnMut(csv::StringRecord, u64) -> Result<csv::StringRecord, Vec<ReadError>>,
) -> Result<Rows, Vec<ReadError>> {
    let mut errors = Vec::new();
    let mut people: Vec<Person> = Vec::new();
    let mut devices: Vec<Device> = Vec::new();
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for result in reader.records() {
        let record = match result {
            Ok(r) => r,
            Err(e) => {
                errors.push(csv_error(&e, 0));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let record = match translate(record, line) {
            Ok(r) => r,
            Err(mut e) => {
                errors.append(&mut e);
                continue;
            }
        };
        let id = if format.devices() {
            device_row(format, header, &record, line)
                .and_then(|d| texts_fit(format, line, &d.texts()).map(|()| d))
                .map(|d| {
                    let id = d.id.to_string();
                    devices.push(d);
                    id
                })
        } else {
            row(format, header, &record, line)
                .and_then(|p| texts_fit(format, line, &p.texts()).map(|()| p))
                .map(|p| {
                    let id = p.id.to_string();
                    people.push(p);
                    id
                })
        };
        match id {
            Ok(id) => {
                if let Some(first) = seen.get(&id) {
                    errors.push(ReadError::Line {
                        line,
                        message: format!(
                            "`{id}` is also on line {first}: an id is one person or device"
                        ),
                    });
                } else {
                    seen.insert(id, line);
                }
            }
            Err(mut cell_errors) => errors.append(&mut cell_errors),
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(if format.devices() {
        Rows::Devices(devices)
    } else {
        Rows::People(people)
    })
}

/// One row of an Intune or Snipe-IT export as a device.
fn device_row(
    format: Format,
    header: &[String],
    record: &csv::StringRecord,
    line: u64,
) -> Result<Device, Vec<ReadError>> {
    let cell = |names: &[&str]| cell(header, record, names);
    let mut errors = Vec::new();
    let snipeit = format == Format::SnipeitAssets;
    let (id_names, id_column): (&[&str], &str) = if snipeit {
        (&["asset tag"], "Asset Tag")
    } else {
        (&["device id", "deviceid"], "Device ID")
    };
    let id = match cell(id_names) {
        Some(t) if IdShape::Name.admits(&t) => Some(DeviceId::from(t.as_str())),
        other => {
            errors.push(ReadError::Cell {
                line,
                column: id_column.into(),
                message: format!(
                    "`{}` is not an id: 1 to 64 letters, digits, '.', '_' or '-'",
                    other.unwrap_or_default()
                ),
            });
            None
        }
    };
    let model = cell(&["model", "model name"]);
    // A mapped file says the kind itself.
    let kind = if let Some(kind) = cell(&["kind"]) {
        kind.to_ascii_lowercase()
    } else if snipeit {
        kind_of_category(&cell(&["category"]).unwrap_or_default()).to_owned()
    } else {
        kind_of_os(
            &cell(&["os", "operatingsystem"]).unwrap_or_default(),
            model.as_deref(),
        )
        .to_owned()
    };
    let owner = match cell(&["ownership", "ownertype"])
        .map(|o| o.to_ascii_lowercase())
        .as_deref()
    {
        Some("personal") => DeviceOwner::Personal,
        _ => DeviceOwner::Council,
    };
    // ISO dates only (`2024-03-05 10:12:00` or `2024-03-05T10:12:00Z`): a
    // US-style date is ambiguous.
    let (date_names, date_column): (&[&str], &str) = if snipeit {
        (&["purchase date", "purchase_date"], "Purchase Date")
    } else {
        (&["enrollment date", "enrolleddatetime"], "Enrollment date")
    };
    let enrolled = match cell(date_names) {
        None => None,
        Some(text) => match text.get(..10).and_then(|d| d.parse::<Date>().ok()) {
            Some(d) => Some(d),
            None => {
                errors.push(ReadError::Cell {
                    line,
                    column: date_column.into(),
                    message: format!("`{text}` does not start with a date written YYYY-MM-DD"),
                });
                None
            }
        },
    };
    let user = if snipeit {
        cell(&[
            "checked out to: email",
            "checked out to: username",
            "checked out to",
            "assigned to",
        ])
    } else {
        cell(&["primary user email address", "primary user upn", "upn"])
    };
    let state = cell(&[
        "device state",
        "management state",
        "managementstate",
        "status",
    ])
    .unwrap_or_default()
    .to_ascii_lowercase()
    .replace(' ', "");
    let disposal = disposal(&state);
    match id {
        Some(id) if errors.is_empty() => Ok(Device {
            line,
            id,
            kind: DeviceKind(kind),
            owner,
            enrolled,
            acquired: enrolled.filter(|_| snipeit),
            make: cell(&["manufacturer"]),
            model,
            serial: cell(&["serial number", "serialnumber", "serial"]),
            user,
            disposal,
        }),
        _ => Err(errors),
    }
}

/// What the register calls a device Intune knows the operating system of.
fn kind_of_os(os: &str, model: Option<&str>) -> &'static str {
    let os = os.to_ascii_lowercase();
    let ipad = model.is_some_and(|m| m.to_ascii_lowercase().contains("ipad"));
    if ipad || os.contains("ipados") {
        "tablet"
    } else if os.contains("ios") || os.contains("android") {
        "smartphone"
    } else {
        "laptop"
    }
}

/// What the register calls a device of a Snipe-IT category (`Laptops`,
/// `Mobile Phones`, `Tablets`, `Desktops`).
fn kind_of_category(category: &str) -> &'static str {
    let c = category.to_ascii_lowercase();
    if c.contains("tablet") || c.contains("ipad") {
        "tablet"
    } else if c.contains("phone") || c.contains("mobile") {
        "smartphone"
    } else if c.contains("desktop") {
        "desktop"
    } else {
        "laptop"
    }
}

/// Whether a device state says the device is gone: Intune's management
/// states for a retire or wipe in hand or done (`retirePending`,
/// `wipeIssued`, `Retired`...), not one that failed or was cancelled; or
/// Snipe-IT's `Archived` status.
fn disposal(state: &str) -> Option<Disposal> {
    if state.contains("failed") || state.contains("cancel") {
        return None;
    }
    if state.starts_with("wipe") {
        Some(Disposal { wiped: true })
    } else if state.starts_with("retire") || state.starts_with("archived") {
        Some(Disposal { wiped: false })
    } else {
        None
    }
}

fn csv_error(e: &csv::Error, fallback: u64) -> ReadError {
    let line = e.position().map_or(fallback, |p| p.line());
    let message = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "is not UTF-8 text: save the export as CSV UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("has {len} columns, where the header has {expected_len}"),
        _ => e.to_string(),
    };
    ReadError::Line { line, message }
}

/// One row as a person of `format`, or what is wrong with its cells.
fn row(
    format: Format,
    header: &[String],
    record: &csv::StringRecord,
    line: u64,
) -> Result<Person, Vec<ReadError>> {
    let mut errors = Vec::new();
    let cell = |names: &[&str]| cell(header, record, names);
    let mut bad = |column: &str, message: String| {
        errors.push(ReadError::Cell {
            line,
            column: column.to_owned(),
            message,
        })
    };
    let id_of = |text: Option<String>, column: &str, bad: &mut dyn FnMut(&str, String)| {
        let text = text?;
        if IdShape::Name.admits(&text) {
            Some(PersonId::from(text.as_str()))
        } else {
            bad(
                column,
                format!("`{text}` is not an id: 1 to 64 letters, digits, '.', '_' or '-'"),
            );
            None
        }
    };
    let date = |text: Option<String>, column: &str, bad: &mut dyn FnMut(&str, String)| {
        let text = text?;
        match text.parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                bad(
                    column,
                    format!(
                        "`{text}` is not a date written YYYY-MM-DD (a date such as 31/03/2026 is ambiguous between countries)"
                    ),
                );
                None
            }
        }
    };
    let (id, name, kind, active) = match format {
        Format::HrPeople => {
            let kind = match cell(&["kind"]).as_deref() {
                Some("councillor") => Some(PersonKind::Councillor),
                Some("employee") => Some(PersonKind::Employee),
                Some("third_party") => Some(PersonKind::ThirdParty),
                other => {
                    bad(
                        "kind",
                        format!(
                            "`{}` is not councillor, employee or third_party",
                            other.unwrap_or("")
                        ),
                    );
                    None
                }
            };
            (
                id_of(cell(&["id"]), "id", &mut bad),
                cell(&["name"]),
                kind,
                true,
            )
        }
        // Snipe-IT keys a user by username, often an email address: the
        // employee number is the id where there is one.
        Format::SnipeitUsers => {
            let id = cell(&["employee number", "employee_num"])
                .or_else(|| cell(&["username", "user name"]));
            let name = match (cell(&["first name"]), cell(&["last name"])) {
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                (first, last) => first.or(last),
            };
            (
                id_of(id, "Employee Number or Username", &mut bad),
                name,
                Some(PersonKind::Employee),
                true,
            )
        }
        // Entra ID.
        _ => {
            let kind = match cell(&["usertype"]).as_deref() {
                Some(t) if t.eq_ignore_ascii_case("guest") => PersonKind::ThirdParty,
                _ => PersonKind::Employee,
            };
            let active = match cell(&["accountenabled"])
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                Some("true") => true,
                Some("false") => false,
                other => {
                    bad(
                        "accountEnabled",
                        format!("`{}` is not True or False", other.unwrap_or("")),
                    );
                    true
                }
            };
            (
                id_of(cell(&["id", "objectid"]), "id", &mut bad),
                cell(&["displayname"]),
                Some(kind),
                active,
            )
        }
    };
    if name.is_none() {
        bad("name", "is empty: every person has a name".into());
    }
    let email = match format {
        Format::HrPeople | Format::SnipeitUsers => cell(&["email"]),
        _ => cell(&["mail"]).or_else(|| cell(&["userprincipalname"])),
    };
    // Only Warden's own layout names a manager by id (Snipe-IT's export
    // gives a name).
    let manager = match format {
        Format::HrPeople => id_of(cell(&["manager"]), "manager", &mut bad),
        _ => None,
    };
    let household = cell(&["household"]).and_then(|h| {
        if IdShape::Name.admits(&h) {
            Some(HouseholdId::from(h.as_str()))
        } else {
            bad("household", format!("`{h}` is not an id"));
            None
        }
    });
    let start = date(cell(&["start_date"]), "start_date", &mut bad);
    let leaving = date(cell(&["leaving_date"]), "leaving_date", &mut bad);
    let term_ends = date(cell(&["term_end"]), "term_end", &mut bad);
    let department = cell(&["department"]);
    let job = cell(&[
        "job",
        "jobtitle",
        "job title",
        "job title for user",
        "title",
    ]);
    match (id, name, kind) {
        (Some(id), Some(name), Some(kind)) if errors.is_empty() => Ok(Person {
            line,
            id,
            name,
            email,
            kind,
            department,
            job,
            manager,
            start,
            leaving,
            household,
            term_ends,
            active,
        }),
        _ => {
            if errors.is_empty() {
                errors.push(ReadError::Cell {
                    line,
                    column: "id".into(),
                    message: "is empty: every person has an id".into(),
                });
            }
            Err(errors)
        }
    }
}
