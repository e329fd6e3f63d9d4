//! `warden`: the command line. It reads files and the clock, and hands
//! everything else to the `domain` and `rules` crates. This is the one
//! place errors are turned into messages and exit codes.

/// `println!` that survives a closed pipe (`warden check ... | head`):
/// output nobody reads is not an error, and never a panic.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::out(&format!("{}\n", format_args!($($arg)*)))
    };
}

/// mimalloc rather than the system allocator: folding a log makes and frees
/// small strings and maps for every event, and replay frees on one thread
/// what another allocated; measured in docs/performance.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod account;
mod backup;
mod check;
mod exports;
mod failure;
mod generated;
mod import_csv;
mod intel;
mod packs;
mod remind;
mod report;
mod serve;
mod stored;

use clap::{Parser, Subcommand, ValueEnum};
use failure::{Failure, Outcome};
use jiff::Timestamp;
use rules::PolicyPack;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "warden",
    version,
    about = "Runs a council's ICT security policies over its event log"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate a policy pack over a log of events and report the findings.
    ///
    /// The log is a file (--pack and --events) or a council's stored log
    /// (--db and --council). Exit status: 0 when nothing is overdue or
    /// violated, 1 when something is, 2 when the input is bad (nothing is
    /// evaluated then).
    Check(CheckArgs),
    /// Create or migrate a database and register a council with its pack.
    Init {
        #[command(flatten)]
        db: DbArgs,
        /// A pack file, or the name of a bundled pack.
        #[arg(long)]
        pack: String,
    },
    /// Validate a JSONL file against the council's stored log and append it
    /// whole, or append nothing and list every bad line.
    Import {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
        /// Lines that give no `recorded` count as recorded when they happened
        /// (as `check --events` reads a file), not at the time of the import:
        /// for history that was written down as it happened.
        #[arg(long)]
        recorded_as_happened: bool,
    },
    /// Compare an export of a system the council runs (an HR file, Entra
    /// ID's users) with the stored estate and print the events that would
    /// bring it up to date; with --apply, record them. See docs/imports.md.
    ImportCsv {
        #[command(flatten)]
        db: DbArgs,
        file: PathBuf,
        /// hr-people, entra-users, intune-devices, snipeit-users or snipeit-assets;
        /// without it, the header says which.
        #[arg(long, conflicts_with = "mapping")]
        format: Option<String>,
        /// A TOML file saying which of the file's columns holds each field,
        /// how it writes values and dates: for any other CSV.
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// When the file's state held (RFC 3339), for changes it gives no
        /// date for: a move, a disabled account, someone missing.
        #[arg(long)]
        as_of: Option<Timestamp>,
        /// The file lists everyone: a present person it leaves out has left.
        #[arg(long)]
        complete: bool,
        /// Record the plan (all or nothing); without it nothing is written.
        #[arg(long)]
        apply: bool,
    },
    /// Print a council's stored log as JSONL (canonical form; importing it
    /// into an empty council reproduces the same chain), its findings as an
    /// OSCAL 1.1.2 assessment-results document (--format oscal-ar), or one
    /// of its lists as CSV (--format csv --what findings).
    Export {
        #[command(flatten)]
        db: DbArgs,
        /// jsonl, oscal-ar or csv.
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// With csv: findings, people, devices, incidents, claims or acceptances.
        #[arg(long)]
        what: Option<String>,
        /// The findings as of this instant (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<Timestamp>,
        /// From what had been recorded by this instant [default: everything].
        #[arg(long)]
        known_at: Option<Timestamp>,
    },
    /// Save the council's current state (its estate, and where each rule
    /// stands), so that `serve` folds only the events after it. A snapshot
    /// that no longer matches the log, or was folded under another pack, is
    /// discarded with a warning, never trusted.
    Snapshot {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Recompute the hash chain of one council, or of every council, and
    /// check it against the head stored beside it (and an anchor, if given).
    ///
    /// Exit status: 0 when every chain is sound, 1 when one is broken,
    /// shorter or longer than its head, or without its council.
    Verify {
        /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        #[arg(long)]
        council: Option<String>,
        /// SEQ:HASH, a head printed by `warden head` and kept outside the
        /// database: the log must still hold event SEQ with that hash.
        #[arg(long, requires = "council")]
        expect: Option<String>,
    },
    /// Print a council's head, SEQ:HASH, to keep or publish outside the
    /// database (a committee paper, another system) and check later with
    /// `verify --expect`.
    Head {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Write every council's log to one archive file (JSONL), whole or not at all.
    Backup {
        /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Restore an archive into a database that does not yet hold its
    /// councils; every chain in it is checked before anything is written.
    Restore {
        /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
        #[arg(long, default_value = DEFAULT_DB)]
        db: String,
        #[arg(long)]
        from: PathBuf,
    },
    /// Tell people what is due and overdue: one mail per person, each
    /// reminder recorded in the log (`reminder_queued`, then
    /// `reminder_sent` or `reminder_failed`) and never sent twice, even by
    /// two runs at once. See docs/reminders.md.
    Remind(remind::RemindArgs),
    /// Write open deadlines as an iCalendar file (RFC 5545): a council's,
    /// or one person's with --person.
    Calendar(remind::CalendarArgs),
    /// Write the committee's report: an accessible (tagged) PDF of where
    /// the council stands, quarter by quarter, cited to its policies. See
    /// docs/reports.md.
    Report {
        #[command(flatten)]
        db: DbArgs,
        /// As of this instant (RFC 3339) [default: now].
        #[arg(long)]
        at: Option<Timestamp>,
        /// From what had been recorded by this instant [default: everything].
        #[arg(long)]
        known_at: Option<Timestamp>,
        /// How far back the quarters reach.
        #[arg(long, default_value = "12 months")]
        period: String,
        /// The PDF to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// List the policy packs compiled into this binary.
    Packs,
    /// Each rule of a pack as the sentence a council would write, with its
    /// clause: to check a pack against its document without reading TOML.
    Explain {
        /// A pack file, or the name of a bundled pack.
        pack: String,
        #[arg(long, value_enum, default_value_t = intel::Format::Text)]
        format: intel::Format,
    },
    /// Check a pack against published guidance (NCSC, UK GDPR, ISO 27001):
    /// warnings, each citing its source. Exit 1 on warnings only with
    /// --deny-warnings. See docs/packs.md "Linting a pack".
    Lint {
        /// A pack file, or the name of a bundled pack.
        pack: String,
        #[arg(long, value_enum, default_value_t = intel::Format::Text)]
        format: intel::Format,
        /// Exit 1 when there is any warning (for a council's own CI).
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Two packs side by side, rules aligned by what they do (kind, trigger
    /// and discharge), not by id: clocks, scope, and rules only one has.
    /// Exit 1 when they differ.
    Diff {
        pack_a: String,
        pack_b: String,
        #[arg(long, value_enum, default_value_t = intel::Format::Text)]
        format: intel::Format,
    },
    /// The same log under another pack, or under the council's pack with
    /// --set edits: the findings that would appear, disappear or change, by
    /// rule, and how many were failing at each quarter's end. Exit 1 when
    /// any would differ.
    WhatIf(intel::WhatIfArgs),
    /// Write realistic, deterministic logs for many councils (same seed,
    /// same bytes), for trials and benchmarks.
    Generate(GenerateArgs),
    /// Serve the web application and JSON API for every council in a database.
    Serve(serve::ServeArgs),
    /// Try the web application: a throwaway store with a demo council and
    /// sign-ins for each role, served on loopback.
    Demo(serve::DemoArgs),
    /// Sign-in accounts: add (with a one-time password and an authenticator
    /// key, printed once), list, disable; new-key and reseal for the key
    /// that seals TOTP secrets.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Print the current six-digit code for an authenticator key.
    Totp {
        /// The base32 key (as `warden demo` prints it).
        key: String,
    },
}

pub(crate) const DEFAULT_DB: &str = "sqlite:warden.db";

#[derive(clap::Args)]
struct DbArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    #[arg(long)]
    council: String,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A pack file, or the name of a bundled pack (e.g. southend).
    #[arg(long, required_unless_present = "council", conflicts_with = "council")]
    pack: Option<String>,
    /// The event log, one JSON object a line (docs/events.md).
    #[arg(long, required_unless_present = "council", conflicts_with = "council")]
    events: Option<PathBuf>,
    /// The database holding the council's log (with --council): sqlite:PATH.
    #[arg(long, default_value = DEFAULT_DB)]
    db: String,
    /// Check this council's stored log, with the pack it was registered with.
    #[arg(long)]
    council: Option<String>,
    /// Evaluate as of this instant (RFC 3339 with an offset): what had happened
    /// by then, as Warden knows it now (late records and corrections included).
    #[arg(long)]
    at: Option<String>,
    /// Use only what had been recorded by this instant (RFC 3339 with an
    /// offset) [default: everything in the file; for a stored log, now]. With
    /// --at the same instant: what Warden said then. The report says how many
    /// events it left out.
    #[arg(long)]
    known_at: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// A gov.uk bank-holidays.json to use instead of the bundled copy.
    #[arg(long)]
    bank_holidays: Option<PathBuf>,
    /// In the table, list every met finding rather than a count per rule.
    #[arg(long)]
    verbose: bool,
}

#[derive(clap::Args)]
struct GenerateArgs {
    #[arg(long, default_value_t = 5)]
    councils: usize,
    /// Headcount of each council when its log begins.
    #[arg(long, default_value_t = 100)]
    people: usize,
    /// Years of events, ending the day before --end (1 to 20).
    #[arg(long, default_value_t = 5)]
    years: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The log holds events before this day (YYYY-MM-DD, in each council's
    /// time zone). The default, 2026-04-01, makes the years financial years.
    #[arg(long, default_value = "2026-04-01")]
    end: jiff::civil::Date,
    /// Give every council this pack (a file or a bundled name), so that
    /// `check --pack PACK` accepts the whole file. Without it the councils
    /// take the five council packs in turn.
    #[arg(long)]
    pack: Option<String>,
    /// One JSONL file holding every council's events in time order.
    #[arg(long, required_unless_present_any = ["per_council", "db"], conflicts_with_all = ["per_council", "db"])]
    out: Option<PathBuf>,
    /// A folder for one JSONL file per council and a councils.tsv index.
    #[arg(long, conflicts_with = "db")]
    per_council: Option<PathBuf>,
    /// A new database to register each council in and append its log to.
    #[arg(long)]
    db: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::serve(args),
        Command::Demo(args) => serve::demo(args),
        Command::Totp { key } => serve::totp(&key),
        Command::Account(command) => account::run(command),
        Command::Packs => {
            list_packs();
            Ok(Outcome::Clean)
        }
        Command::Check(args) => check::check(&args),
        Command::Explain { pack, format } => intel::explain(&pack, format),
        Command::Lint {
            pack,
            format,
            deny_warnings,
        } => intel::lint(&pack, format, deny_warnings),
        Command::Diff {
            pack_a,
            pack_b,
            format,
        } => intel::diff(&pack_a, &pack_b, format),
        Command::WhatIf(args) => intel::what_if(&args),
        Command::Init { db, pack } => stored::init(&db.db, &db.council, &pack),
        Command::Import {
            db,
            file,
            recorded_as_happened,
        } => stored::import(&db.db, &db.council, &file, recorded_as_happened),
        Command::ImportCsv {
            db,
            file,
            format,
            mapping,
            as_of,
            complete,
            apply,
        } => import_csv::import_csv(&import_csv::Request {
            db: &db.db,
            council: &db.council,
            file: &file,
            format: format.as_deref(),
            mapping: mapping.as_deref(),
            as_of,
            complete,
            apply,
        }),
        Command::Export {
            db,
            format,
            what,
            at,
            known_at,
        } => exports::export(&exports::Request {
            db: &db.db,
            council: &db.council,
            format: &format,
            what: what.as_deref(),
            at,
            known_at,
        }),
        Command::Snapshot { db } => stored::snapshot(&db.db, &db.council),
        Command::Verify {
            db,
            council,
            expect,
        } => stored::verify(&db, council.as_deref(), expect.as_deref()),
        Command::Head { db } => stored::head(&db.db, &db.council),
        Command::Backup { db, out } => backup::backup(&db, &out),
        Command::Restore { db, from } => backup::restore(&db, &from),
        Command::Generate(args) => generate(args),
        Command::Remind(args) => remind::remind(&args),
        Command::Report {
            db,
            at,
            known_at,
            period,
            out,
        } => exports::report(&exports::ReportRequest {
            db: &db.db,
            council: &db.council,
            at,
            known_at,
            period: &period,
            out: &out,
        }),
        Command::Calendar(args) => remind::calendar_file(&args),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::NeedsAttention) => ExitCode::from(1),
        Err(failure) => {
            failure.report();
            ExitCode::from(2)
        }
    }
}

fn generate(args: GenerateArgs) -> Result<Outcome, Failure> {
    let spec = generate::Spec {
        people: args.people,
        years: args.years,
        seed: args.seed,
        end: args.end,
    };
    let output = match (args.out, args.per_council, args.db) {
        (Some(file), _, _) => generated::Output::File(file),
        (_, Some(dir), _) => generated::Output::Folder(dir),
        (_, _, Some(db)) => generated::Output::Store(db),
        // clap requires one of the three.
        _ => return Err(Failure::said("give --out, --per-council or --db")),
    };
    generated::generate(&spec, args.councils, args.pack.as_deref(), &output)
}

fn list_packs() {
    for (id, _) in packs::BUNDLED {
        match rules::load_pack(id, &packs::Packs) {
            Ok(pack) => say!("{id:<20} {:<36} {} rules", pack.council, pack.rules.len()),
            Err(_) => {
                say!("{id:<20} (does not load: run `warden check --pack {id}` to see why)")
            }
        }
    }
}

/// Loads a pack: every error in it, if it does not load.
fn load_pack(name: &str) -> Result<PolicyPack, Failure> {
    rules::load_pack(name, &packs::Packs).map_err(Failure::Pack)
}

/// Every bad line of a log file.
fn report_lines(path: &Path, errors: Vec<domain::LineError>) -> Failure {
    Failure::Lines {
        path: path.to_owned(),
        lines: errors,
    }
}

/// Writes to standard output; a reader that has gone away (a closed pipe)
/// ends the output quietly, and any other failure is said on standard error.
pub(crate) fn out(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(e) => eprintln!("error: cannot write the output: {e}"),
    }
}

pub(crate) fn read(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Failure::read(path, e))
}

/// The one place Warden reads the clock: evaluation itself is handed "now".
#[allow(clippy::disallowed_methods)]
pub(crate) fn now() -> Timestamp {
    Timestamp::now()
}
