//! The committee report as an accessible PDF: the figures a committee reads
//! (`Committee`, gathered by the caller from the council's log) handed as
//! JSON to a Typst template (`committee.typ`), typeset by the `typst` crate
//! and written as tagged PDF/UA-1 by `typst-pdf`, with the fonts
//! `typst-assets` embeds (SIL Open Font Licence). Nothing here reads a file
//! or the clock.

use serde::Serialize;
use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

const TEMPLATE: &str = include_str!("committee.typ");

/// How many findings have each status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub met: usize,
    pub open: usize,
    pub late: usize,
    pub overdue: usize,
    pub violated: usize,
}

impl Counts {
    pub fn of<'f>(findings: impl IntoIterator<Item = &'f rules::Finding>) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            c.add(f.status);
        }
        c
    }

    pub fn add(&mut self, status: rules::Status) {
        use rules::Status::*;
        match status {
            Met => self.met += 1,
            Open => self.open += 1,
            Late => self.late += 1,
            Overdue => self.overdue += 1,
            Violated => self.violated += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.met + self.open + self.late + self.overdue + self.violated
    }

    /// Met or still running: not late, overdue or violated.
    pub fn ok(&self) -> usize {
        self.met + self.open
    }
}

/// The counts at an earlier instant.
#[derive(Clone, Debug, Serialize)]
pub struct Earlier {
    pub label: String,
    pub counts: Counts,
}

/// One policy's compliance at a quarter's end.
#[derive(Clone, Debug, Serialize)]
pub struct PolicyShare {
    pub name: String,
    pub percent: usize,
    pub ok: usize,
    pub total: usize,
}

/// A quarter's end, evaluated.
#[derive(Clone, Debug, Serialize)]
pub struct Quarter {
    pub label: String,
    pub counts: Counts,
    pub policies: Vec<PolicyShare>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bucket {
    pub label: String,
    pub count: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct IncidentRow {
    pub id: String,
    pub kind: String,
    pub discovered: String,
    pub due: String,
    pub decision: String,
    /// Hours from discovery to the decision or notification, if made.
    pub hours: Option<u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PolicyRow {
    pub title: String,
    pub version: String,
    pub body: String,
    pub reviewed: String,
    pub next_due: String,
    pub accepted: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LeaverRow {
    pub name: String,
    pub left: String,
    pub devices: usize,
    pub returned: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ControlRow {
    pub id: String,
    pub title: String,
    pub rules: usize,
    pub status: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct FrameworkRows {
    pub framework: String,
    pub rows: Vec<ControlRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RuleRow {
    pub sentence: String,
    pub cite: String,
    pub counts: Counts,
}

#[derive(Clone, Debug, Serialize)]
pub struct AppendixRow {
    pub status: String,
    pub detail: String,
    pub due: String,
    pub cite: String,
}

/// Everything the report says, already in words.
#[derive(Clone, Debug, Serialize)]
pub struct Committee {
    pub title: String,
    pub council: String,
    pub as_of: String,
    pub as_of_time: String,
    pub known_at: Option<String>,
    pub period: String,
    pub counts: Counts,
    pub previous: Option<Earlier>,
    pub quarters: Vec<Quarter>,
    pub overdue_by_age: Vec<Bucket>,
    pub incidents: Vec<IncidentRow>,
    pub policies: Vec<PolicyRow>,
    pub leavers: Vec<LeaverRow>,
    pub controls: Vec<FrameworkRows>,
    pub rules: Vec<RuleRow>,
    pub appendix: Vec<AppendixRow>,
    /// Failing findings beyond those the appendix lists.
    pub appendix_more: usize,
    /// Leavers beyond those listed.
    pub leavers_more: usize,
    /// Incidents beyond those listed.
    pub incidents_more: usize,
    /// Of the period's personal data breaches with a clock: how many were
    /// decided or notified within 72 hours, how many after, how many not yet.
    pub breaches: Breaches,
}

#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Breaches {
    pub within: usize,
    pub after: usize,
    pub undecided: usize,
}

/// The most incidents the report lists (and charts), the latest first.
pub const INCIDENT_ROWS: usize = 30;

/// The most failing findings the appendix lists; a committee reads the
/// rest in the CSV export.
pub const APPENDIX_ROWS: usize = 200;
/// The most leavers the report lists, the latest first.
pub const LEAVER_ROWS: usize = 100;

/// The report as a tagged PDF/UA-1 document, or what stopped it.
pub fn pdf(report: &Committee) -> Result<Vec<u8>, String> {
    let data = serde_json::to_vec(report).map_err(|e| e.to_string())?;
    let world = Report::new(data);
    let document = typst::compile::<typst_layout::PagedDocument>(&world)
        .output
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| e.message.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        })?;
    let standards = typst_pdf::PdfStandards::new(&[typst_pdf::PdfStandard::Ua_1])
        .map_err(|e| e.message().to_string())?;
    let options = typst_pdf::PdfOptions {
        ident: typst::foundations::Smart::Custom(report.title.clone()),
        standards,
        tagged: true,
        ..Default::default()
    };
    typst_pdf::pdf(&document, &options).map_err(|errors| {
        errors
            .iter()
            .map(|e| e.message.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// The template, its data and the embedded fonts: all Typst can see.
struct Report {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    main: Source,
    data_id: FileId,
    data: Bytes,
}

fn file_id(name: &str) -> Option<FileId> {
    let path = VirtualPath::new(name).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, path).intern())
}

impl Report {
    fn new(data: Vec<u8>) -> Report {
        let fonts: Vec<Font> = typst_assets::fonts()
            .flat_map(|bytes| Font::iter(Bytes::new(bytes)))
            .collect();
        let main_id = file_id("/committee.typ");
        let data_id = file_id("/data.json");
        // Both are fixed, valid names; a `None` would be a bug here.
        let (Some(main_id), Some(data_id)) = (main_id, data_id) else {
            unreachable!("the report's two file names are valid Typst paths")
        };
        Report {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            main: Source::new(main_id, TEMPLATE.to_owned()),
            data_id,
            data: Bytes::new(data),
        }
    }
}

impl World for Report {
    fn library(&self) -> &LazyHash<Library> {
        &self.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() {
            Ok(self.main.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            Ok(self.data.clone())
        } else {
            Err(FileError::AccessDenied)
        }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        None
    }
}
