//! `bench-scale`: Warden at the scale of a national shared service, in one
//! run (see `docs/performance.md` for the figures and how to read them).
//!
//! 1. Generates the log of many councils in memory (`generate`).
//! 2. The floor: one loop that reads every event once.
//! 3. Full evaluation of every council's pack over its log: time, events/s,
//!    peak memory.
//! 4. Incremental: single events appended to councils' evaluations: median
//!    and 99th percentile latency.
//! 5. Four rules written three ways, Warden, SQL over SQLite and Rego on
//!    regorus, over the same events; their findings are checked equal before
//!    any time is printed.
//!
//! Timing is this program's whole job, so it reads the clock.
#![allow(clippy::disallowed_methods)]

/// The allocator the `warden` binary uses, so the figures are its figures.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod compare;
mod memory;

use clap::Parser;
use compare::Row;
use domain::Event;
use generate::{Spec, council_id};
use jiff::Timestamp;
use rules::bundled::{Bundled, COUNCILS};
use rules::{Admission, Calendar, HolidayFile, Ledger, PolicyPack, Status, evaluate, load_pack};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(about = "Warden at national scale, beside a read-only floor, SQL and Rego")]
struct Args {
    #[arg(long, default_value_t = 400)]
    councils: usize,
    #[arg(long, default_value_t = 650)]
    people: usize,
    #[arg(long, default_value_t = 5)]
    years: u16,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Events appended one at a time, per sampled council, for the latencies.
    #[arg(long, default_value_t = 500)]
    appends: usize,
    /// Councils sampled for the incremental latencies.
    #[arg(long, default_value_t = 20)]
    sampled: usize,
    /// Stop after the full evaluation (for profiling it alone).
    #[arg(long)]
    evaluation_only: bool,
}

/// The instant everything is evaluated as of: the end of the generated logs.
const NOW: &str = "2026-04-01T00:00:00+01:00";

fn main() {
    let args = Args::parse();
    if let Err(e) = run(&args) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<(), String> {
    let now: Timestamp = NOW.parse().map_err(|e| format!("{NOW}: {e}"))?;
    let spec = Spec {
        people: args.people,
        years: args.years,
        seed: args.seed,
        end: Spec::END,
    };
    let packs = COUNCILS
        .iter()
        .map(|n| load_pack(n, &Bundled).map_err(|e| format!("{n}: {e:?}")))
        .collect::<Result<Vec<PolicyPack>, String>>()?;
    let calendars: Vec<Calendar> = packs.iter().map(calendar).collect();

    let started = Instant::now();
    let assigned: Vec<usize> = (0..args.councils).map(|i| i % packs.len()).collect();
    let logs = generate::councils(&spec, &packs, &assigned);
    let generated = started.elapsed();
    let events: usize = logs.iter().map(Vec::len).sum();
    let log_rss = memory::current_rss();
    eprintln!(
        "generated {events} events for {} councils in {generated:.1?}",
        args.councils
    );

    let floor = best_of(3, || {
        black_box(read_every_event(&logs));
    });
    eprintln!("floor {floor:.3?}");

    memory::reset_peak();
    let before = memory::current_rss();
    let evaluate_all = || -> Vec<Vec<rules::Finding>> {
        logs.iter()
            .enumerate()
            .map(|(i, log)| {
                evaluate(
                    &packs[i % packs.len()],
                    &calendars[i % packs.len()],
                    log,
                    now,
                )
            })
            .collect()
    };
    // The peak from the first run, the time the best of three (a noisy machine).
    let started = Instant::now();
    let findings = evaluate_all();
    let mut full = started.elapsed();
    let peak = memory::peak_rss();
    for _ in 0..2 {
        let started = Instant::now();
        black_box(evaluate_all());
        full = full.min(started.elapsed());
    }
    let mut by_status = [0usize; 5];
    for f in findings.iter().flatten() {
        by_status[Status::ALL.iter().position(|s| *s == f.status).unwrap_or(0)] += 1;
    }
    let total_findings: usize = by_status.iter().sum();
    drop(findings);
    eprintln!(
        "full evaluation {full:.3?}, peak {:.2} GiB (log {:.2} GiB)",
        peak as f64 / f64::from(1u32 << 30),
        before as f64 / f64::from(1u32 << 30)
    );
    if args.evaluation_only {
        return Ok(());
    }

    let (latencies, late) = incremental(args, &logs, &packs, &calendars);
    eprintln!(
        "incremental: {} appends timed in order, {} late",
        latencies.len(),
        late.len()
    );

    let comparison = compare::comparison_pack()?;
    let comparison_calendar = calendar(&comparison);
    let named: Vec<(String, Vec<Event>)> = logs
        .into_iter()
        .enumerate()
        .map(|(i, log)| (council_id(i), log))
        .collect();

    let evaluate_comparison = || -> Vec<Vec<rules::Finding>> {
        named
            .iter()
            .map(|(_, log)| evaluate(&comparison, &comparison_calendar, log, now))
            .collect()
    };
    let mut warden_time = Duration::MAX;
    let mut compared = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        compared = evaluate_comparison();
        warden_time = warden_time.min(started.elapsed());
    }
    let mut warden_rows: Vec<Row> = named
        .iter()
        .zip(&compared)
        .flat_map(|((council, _), findings)| {
            findings.iter().map(|f| compare::from_warden(council, f))
        })
        .collect();
    warden_rows.sort();
    eprintln!("comparison, Warden: {warden_time:.3?}");

    let started = Instant::now();
    let db = compare::load_sqlite(&named, &utc_offsets(&comparison_calendar))
        .map_err(|e| format!("loading SQLite: {e}"))?;
    let sql_load = started.elapsed();
    let mut sql_time = Duration::MAX;
    let mut sql_rows = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        sql_rows =
            compare::run_sql(&db, now.as_second()).map_err(|e| format!("the SQL query: {e}"))?;
        sql_time = sql_time.min(started.elapsed());
    }
    drop(db);
    sql_rows.sort();
    eprintln!("comparison, SQL: {sql_time:.3?} (load {sql_load:.1?})");

    let (mut rego_rows, rego_time, rego_input) = rego(&named, now.as_second())?;
    rego_rows.sort();
    eprintln!("comparison, Rego: {rego_time:.3?} (input {rego_input:.1?})");

    same("SQL", &warden_rows, &sql_rows)?;
    same("Rego", &warden_rows, &rego_rows)?;

    let report = Report {
        args,
        events,
        generated,
        log_rss,
        floor,
        full,
        before,
        peak,
        by_status,
        total_findings,
        latencies,
        late,
        compared: warden_rows.len(),
        warden_time,
        sql_time,
        sql_load,
        rego_time,
        rego_input,
    };
    print!("{}", report.markdown());
    Ok(())
}

fn calendar(pack: &PolicyPack) -> Calendar {
    Calendar::new(
        pack.time_zone.clone(),
        pack.division,
        &HolidayFile::bundled(),
    )
}

/// The floor: every event read once (its time, its type and its subject's
/// id), nothing kept.
fn read_every_event(logs: &[Vec<Event>]) -> u64 {
    let mut sum = 0u64;
    for event in logs.iter().flatten() {
        sum = sum
            .wrapping_add(event.at.as_second() as u64)
            .wrapping_add(event.kind.event_type() as u64)
            .wrapping_add(event.kind.person().map_or(0, |p| p.as_str().len() as u64));
    }
    sum
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// For a sample of councils: the ledger of all but the last `appends`
/// events, then each of those admitted and timed alone (in order); then a
/// fifth as many records held back, spread over the 4,000 events before
/// those (password changes, training, access reviews: records nothing else
/// stands on), admitted at the end, each placed back at its `at` (late).
fn incremental(
    args: &Args,
    logs: &[Vec<Event>],
    packs: &[PolicyPack],
    calendars: &[Calendar],
) -> (Vec<Duration>, Vec<Duration>) {
    use domain::EventKind::{AccessReviewed, PasswordChanged, TrainingCompleted};
    let step = (logs.len() / args.sampled.max(1)).max(1);
    let (mut in_order, mut late) = (Vec::new(), Vec::new());
    for i in (0..logs.len()).step_by(step).take(args.sampled) {
        let log = &logs[i];
        let split = log.len().saturating_sub(args.appends);
        let from = split.saturating_sub(args.appends * 8);
        // Records nothing else stands on, spread evenly over the 4,000
        // events before the split: placed back between 500 and 4,500 events.
        let leaves: Vec<usize> = (from..split)
            .filter(|&j| {
                matches!(
                    log[j].kind,
                    PasswordChanged(_) | TrainingCompleted(_) | AccessReviewed(_)
                )
            })
            .collect();
        let wanted = (args.appends / 5).max(1);
        let step = (leaves.len() / wanted).max(1);
        let held: std::collections::HashSet<usize> =
            leaves.iter().step_by(step).take(wanted).copied().collect();
        let mut held_back = Vec::new();
        let mut kept = Vec::with_capacity(split);
        for (j, event) in log[..split].iter().enumerate() {
            if held.contains(&j) {
                held_back.push(event.clone());
            } else {
                kept.push(event.clone());
            }
        }
        let (pack, calendar) = (&packs[i % packs.len()], &calendars[i % packs.len()]);
        let mut ledger = Ledger::restore(pack, calendar, kept);
        for event in &log[split..] {
            let admission = Admission::history(event.at);
            let started = Instant::now();
            let admitted = ledger.admit(vec![event.clone()], admission);
            in_order.push(started.elapsed());
            black_box(admitted.ok());
        }
        let now = ledger.last_recorded().unwrap_or(Timestamp::UNIX_EPOCH);
        for mut event in held_back {
            event.recorded = Some(now);
            let admission = Admission::history(now);
            let started = Instant::now();
            let admitted = ledger.admit(vec![event], admission);
            late.push(started.elapsed());
            black_box(admitted.ok());
        }
    }
    in_order.sort();
    late.sort();
    (in_order, late)
}

/// Europe/London's offset from each clock change, 2000 to 2040, for SQL.
fn utc_offsets(calendar: &Calendar) -> Vec<(i64, i64)> {
    let tz = calendar.time_zone();
    let from: Timestamp = "2000-01-01T00:00:00Z"
        .parse()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let until: Timestamp = "2040-01-01T00:00:00Z".parse().unwrap_or(Timestamp::MAX);
    let mut offsets = vec![(i64::MIN, i64::from(tz.to_offset(from).seconds()))];
    for transition in tz.following(from).take_while(|t| t.timestamp() < until) {
        offsets.push((
            transition.timestamp().as_second(),
            i64::from(transition.offset().seconds()),
        ));
    }
    offsets
}

/// Rego, one council at a time: the time to evaluate, and separately the
/// time to turn each log into regorus's input document.
fn rego(
    named: &[(String, Vec<Event>)],
    now: i64,
) -> Result<(Vec<Row>, Duration, Duration), String> {
    let mut engine = regorus::Engine::new();
    engine
        .add_policy("compare.rego".into(), compare::REGO.into())
        .map_err(|e| format!("the Rego policy: {e}"))?;
    let (mut eval_time, mut input_time) = (Duration::ZERO, Duration::ZERO);
    let mut rows = Vec::new();
    for (council, log) in named {
        let started = Instant::now();
        let input = regorus::Value::from_json_str(&compare::rego_input(log, now))
            .map_err(|e| format!("Rego input for {council}: {e}"))?;
        input_time += started.elapsed();
        let started = Instant::now();
        engine.set_input(input);
        let result = engine
            .eval_rule("data.compare.findings".into())
            .map_err(|e| format!("Rego for {council}: {e}"))?;
        eval_time += started.elapsed();
        let text = result
            .to_json_str()
            .map_err(|e| format!("Rego result for {council}: {e}"))?;
        rows.extend(compare::from_rego(council, &text)?);
    }
    Ok((rows, eval_time, input_time))
}

fn same(what: &str, warden: &[Row], other: &[Row]) -> Result<(), String> {
    if warden == other {
        return Ok(());
    }
    let (only_warden, only_other) = compare::differences(warden, other, 5);
    Err(format!(
        "{what} disagrees with Warden: {} findings against {}.\nOnly Warden: {only_warden:?}\nOnly {what}: {only_other:?}",
        warden.len(),
        other.len()
    ))
}

struct Report<'a> {
    args: &'a Args,
    events: usize,
    generated: Duration,
    log_rss: u64,
    floor: Duration,
    full: Duration,
    before: u64,
    peak: u64,
    by_status: [usize; 5],
    total_findings: usize,
    latencies: Vec<Duration>,
    late: Vec<Duration>,
    compared: usize,
    warden_time: Duration,
    sql_time: Duration,
    sql_load: Duration,
    rego_time: Duration,
    rego_input: Duration,
}

impl Report<'_> {
    fn markdown(&self) -> String {
        let a = self.args;
        let secs = |d: Duration| d.as_secs_f64();
        let gib = |bytes: u64| bytes as f64 / f64::from(1u32 << 30);
        let pct_of = |list: &[Duration], p: f64| {
            let n = list.len();
            let i = ((n as f64 * p).ceil() as usize).clamp(1, n.max(1)) - 1;
            list.get(i).copied().unwrap_or_default()
        };
        let pct = |p: f64| pct_of(&self.latencies, p);
        let micros = |d: Duration| d.as_secs_f64() * 1e6;
        let statuses: Vec<String> = Status::ALL
            .iter()
            .zip(self.by_status)
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let mut out = String::new();
        out += &format!(
            "Log: {} events, {} councils of {} people over {} years (seed {}), generated in {:.1} s; held in memory: {:.2} GiB resident.\n\n",
            self.events,
            a.councils,
            a.people,
            a.years,
            a.seed,
            secs(self.generated),
            gib(self.log_rss)
        );
        out += "| measure | result |\n|---|---:|\n";
        out += &format!(
            "| floor: read every event once | {:.3} s ({:.0} events/s) |\n",
            secs(self.floor),
            self.events as f64 / secs(self.floor)
        );
        out += &format!(
            "| full evaluation, every council's pack, one core | {:.3} s ({:.0} events/s) |\n",
            secs(self.full),
            self.events as f64 / secs(self.full)
        );
        out += &format!(
            "| Warden / floor | {:.1}x |\n",
            secs(self.full) / secs(self.floor)
        );
        out += &format!(
            "| peak memory during full evaluation (log included) | {:.2} GiB (log alone {:.2} GiB) |\n",
            gib(self.peak),
            gib(self.before)
        );
        out += &format!(
            "| findings | {} ({}) |\n",
            self.total_findings,
            statuses.join(", ")
        );
        out += &format!(
            "| one appended event, incremental: median / p99 / max ({} appends, {} councils) | {:.1} / {:.1} / {:.1} µs |\n",
            self.latencies.len(),
            a.sampled,
            pct(0.5).as_secs_f64() * 1e6,
            pct(0.99).as_secs_f64() * 1e6,
            self.latencies
                .last()
                .copied()
                .unwrap_or_default()
                .as_secs_f64()
                * 1e6
        );
        out += &format!(
            "| one late record, placed back at its `at` ({} to {} events back): median / p99 / max ({} records) | {:.1} / {:.1} / {:.1} µs |\n",
            a.appends,
            a.appends * 9,
            self.late.len(),
            micros(pct_of(&self.late, 0.5)),
            micros(pct_of(&self.late, 0.99)),
            micros(self.late.last().copied().unwrap_or_default())
        );
        out += &format!("| four rules, Warden | {:.3} s |\n", secs(self.warden_time));
        out += &format!(
            "| four rules, SQL on SQLite (load and index {:.1} s, not counted) | {:.3} s |\n",
            secs(self.sql_load),
            secs(self.sql_time)
        );
        out += &format!(
            "| four rules, Rego on regorus (input documents {:.1} s, not counted) | {:.3} s |\n",
            secs(self.rego_input),
            secs(self.rego_time)
        );
        out += &format!(
            "| SQL / Warden | {:.1}x |\n| Rego / Warden | {:.0}x |\n",
            secs(self.sql_time) / secs(self.warden_time),
            secs(self.rego_time) / secs(self.warden_time)
        );
        out += &format!(
            "\nThe four rules' findings: {} from each of Warden, SQL and Rego, checked equal (council, rule, status, due, settled and the ids concerned) before the times above were printed.\n",
            self.compared
        );
        out
    }
}
