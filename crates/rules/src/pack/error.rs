//! Pack errors: each names the file, line and column, and renders as a
//! miette diagnostic with the offending text underlined.

use miette::{Diagnostic, NamedSource, SourceSpan};
use std::ops::Range;
use std::sync::Arc;

/// A pack file's name and text, kept so errors can show the line.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// How the file is named to the user (a path, or `bundled:NAME`).
    pub name: String,
    pub text: Arc<str>,
}

/// One thing wrong with a pack.
#[derive(Debug, Clone, thiserror::Error, Diagnostic)]
#[error("{}: {message}", self.location())]
pub struct PackError {
    pub file: String,
    /// 1-based; 0 when the error is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
    #[source_code]
    source_code: Option<NamedSource<Arc<str>>>,
    #[label("{label}")]
    span: Option<SourceSpan>,
    label: String,
    #[help]
    pub help: Option<String>,
}

impl PackError {
    /// An error at `span` of `file`.
    pub fn at(file: &SourceFile, span: Range<usize>, message: impl Into<String>) -> Self {
        let message = message.into();
        let (line, column) = line_column(&file.text, span.start);
        PackError {
            file: file.name.clone(),
            line,
            column,
            label: short_label(&message),
            message,
            source_code: Some(NamedSource::new(&file.name, file.text.clone())),
            span: Some(span.into()),
            help: None,
        }
    }

    /// An error about a file that could not be read at all.
    pub fn whole_file(file: impl Into<String>, message: impl Into<String>) -> Self {
        PackError {
            file: file.into(),
            line: 0,
            column: 0,
            message: message.into(),
            source_code: None,
            span: None,
            label: String::new(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    fn location(&self) -> String {
        if self.line == 0 {
            self.file.clone()
        } else {
            format!("{}:{}:{}", self.file, self.line, self.column)
        }
    }
}

fn short_label(message: &str) -> String {
    message.split(':').next().unwrap_or(message).to_owned()
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before
        .get(line_start..)
        .map_or(1, |s| s.chars().count() + 1);
    (line, column)
}
