//! How a command ends. Commands return `Result<Outcome, Failure>`; `main`
//! reports a `Failure` once, on standard error, and picks the exit code.
//! No command prints its own error.

use std::path::{Path, PathBuf};

/// A command that ran to the end: exit 0, or 1 when what it found needs
/// someone's attention (something overdue or violated, a broken log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    NeedsAttention,
}

impl Outcome {
    /// `NeedsAttention` when `flagged`.
    pub fn flagged(flagged: bool) -> Outcome {
        if flagged {
            Outcome::NeedsAttention
        } else {
            Outcome::Clean
        }
    }
}

/// Why a command stopped without doing what was asked (exit 2). Nothing
/// was written when input was bad.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// A message that says what was wrong, where, and what is expected.
    #[error("{0}")]
    Said(String),
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
    /// Standard output could not be written (a closed pipe is not this: a
    /// reader that has gone away ends the output quietly).
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
    /// The database named by `--db` failed or refused.
    #[error("{db}: {error}")]
    Store {
        db: String,
        error: store::StoreError,
    },
    /// A pack that does not load: every error in it.
    #[error("{} error(s) in the pack", .0.len())]
    Pack(Vec<rules::PackError>),
    /// A log file with bad lines: every one of them.
    #[error("{} bad line(s) in {}; nothing was done with the file", lines.len(), path.display())]
    Lines {
        path: PathBuf,
        lines: Vec<domain::LineError>,
    },
}

impl Failure {
    pub fn said(message: impl Into<String>) -> Failure {
        Failure::Said(message.into())
    }

    pub fn read(path: &Path, error: std::io::Error) -> Failure {
        Failure::Read {
            path: path.to_owned(),
            error,
        }
    }

    pub fn write(path: &Path, error: std::io::Error) -> Failure {
        Failure::Write {
            path: path.to_owned(),
            error,
        }
    }

    pub fn store(db: &str, error: store::StoreError) -> Failure {
        Failure::Store {
            db: db.to_owned(),
            error,
        }
    }

    /// Writes the failure for a person to read: a pack's errors with their
    /// source (miette), a log's bad lines as `FILE:LINE: message`, anything
    /// else on one line.
    pub fn report(self) {
        match self {
            Failure::Pack(errors) => {
                for error in errors {
                    eprintln!("{:?}", miette::Report::new(error));
                }
            }
            Failure::Lines {
                ref path,
                ref lines,
            } => {
                for e in lines {
                    eprintln!("{}:{}: {}", path.display(), e.line, e.error);
                }
                eprintln!("error: {self}");
            }
            other => eprintln!("error: {other}"),
        }
    }
}
