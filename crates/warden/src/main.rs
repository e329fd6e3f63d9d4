//! `warden`: the command line. It reads files and the clock, and hands
//! everything else to the `domain` and `rules` crates. This is the one
//! place errors are turned into messages and exit codes.

mod packs;
mod report;

use clap::{Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use rules::{Calendar, HolidayFile, PolicyPack};
use std::path::PathBuf;
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
    /// Exit status: 0 when nothing is overdue or violated, 1 when something
    /// is, 2 when the pack or the log is bad (nothing is evaluated then).
    Check(CheckArgs),
    /// List the policy packs compiled into this binary.
    Packs,
}

#[derive(clap::Args)]
struct CheckArgs {
    /// A pack file, or the name of a bundled pack (e.g. southend).
    #[arg(long)]
    pack: String,
    /// The event log, one JSON object a line (docs/events.md).
    #[arg(long)]
    events: PathBuf,
    /// Evaluate as of this instant (RFC 3339 with an offset); later events are ignored.
    #[arg(long)]
    at: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// A gov.uk bank-holidays.json to use instead of the bundled copy.
    #[arg(long)]
    bank_holidays: Option<PathBuf>,
    /// In the table, list every met finding rather than a count per rule.
    #[arg(long)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

/// Bad input: the reason has been printed; exit 2.
struct BadInput;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Packs => {
            list_packs();
            ExitCode::SUCCESS
        }
        Command::Check(args) => match check(&args) {
            Ok(true) => ExitCode::from(1),
            Ok(false) => ExitCode::SUCCESS,
            Err(BadInput) => ExitCode::from(2),
        },
    }
}

fn list_packs() {
    for (id, _) in packs::BUNDLED {
        match rules::load_pack(id, &packs::Packs) {
            Ok(pack) => println!("{id:<20} {:<36} {} rules", pack.council, pack.rules.len()),
            Err(_) => {
                println!("{id:<20} (does not load: run `warden check --pack {id}` to see why)")
            }
        }
    }
}

/// Runs `check`; Ok(true) when something is overdue or violated.
fn check(args: &CheckArgs) -> Result<bool, BadInput> {
    let pack = rules::load_pack(&args.pack, &packs::Packs).map_err(|errors| {
        for error in errors {
            eprintln!("{:?}", miette::Report::new(error));
        }
        BadInput
    })?;
    let at = match &args.at {
        Some(text) => text.parse::<Timestamp>().map_err(|_| {
            eprintln!("error: --at `{text}` is not an RFC 3339 timestamp with an offset, e.g. 2025-04-01T09:00:00+01:00");
            BadInput
        })?,
        None => now(),
    };
    let holidays = match &args.bank_holidays {
        Some(path) => {
            let text = read(path)?;
            HolidayFile::parse(&text).map_err(|e| {
                eprintln!("error: {}: {e}", path.display());
                BadInput
            })?
        }
        None => HolidayFile::bundled(),
    };
    let text = read(&args.events)?;
    let log = domain::read_log(&text, &pack).map_err(|errors| {
        for e in &errors {
            eprintln!("{}:{}: {}", args.events.display(), e.line, e.error);
        }
        eprintln!(
            "error: {} bad line(s) in {}; nothing was evaluated",
            errors.len(),
            args.events.display()
        );
        BadInput
    })?;
    let events: Vec<_> = log.into_iter().map(|l| l.event).collect();
    let calendar = Calendar::new(pack.time_zone.clone(), pack.division, &holidays);
    let findings = rules::evaluate(&pack, &calendar, &events, at);
    print(&pack, at, &findings, args);
    Ok(findings.iter().any(|f| f.status.is_failure()))
}

fn print(pack: &PolicyPack, at: Timestamp, findings: &[rules::Finding], args: &CheckArgs) {
    match args.format {
        Format::Json => println!("{}", report::json(pack, at, findings)),
        Format::Table => print!("{}", report::table(pack, at, findings, args.verbose)),
    }
}

fn read(path: &PathBuf) -> Result<String, BadInput> {
    std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        BadInput
    })
}

/// The one place Warden reads the clock: evaluation itself is handed "now".
#[allow(clippy::disallowed_methods)]
fn now() -> Timestamp {
    Timestamp::now()
}
