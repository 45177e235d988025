//! `hbft bench engines`: the CPU-bound guests of `guests/programs/` run
//! natively (the same C built for the host), under qemu-hppa, and under
//! every engine `hbft run` offers, in one run and one table: minimum and
//! median wall time over repetitions, guest MIPS (retired PA-RISC
//! instructions, counted by the interpreter, per second), and the geometric
//! means of the slowdowns. A column whose tool is missing (no `cc`/`make`
//! for the native build, no qemu-hppa, an engine not built into this hbft)
//! is reported as missing. Every run's output is compared with the
//! reference (qemu-hppa's, else the interpreter's); a difference fails the
//! benchmark.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args as _;
use indicatif::{ProgressBar, ProgressStyle};

use super::{find_tool, geometric_mean, time_once, Timing};

/// A single run may take at most this long.
const RUN_LIMIT: Duration = Duration::from_secs(600);

#[derive(clap::Args)]
pub struct EnginesArgs {
    /// Short run: small inputs and one repetition, to check the setup.
    #[arg(long)]
    quick: bool,
    /// Repetitions per guest and column (default 3; 1 with --quick).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    reps: Option<u32>,
    /// The `guests/` directory of the hbft sources (prebuilt PA-RISC
    /// programs, and the C sources for the native build). Default:
    /// ./guests, else the one hbft was built from.
    #[arg(long, value_name = "DIR")]
    guests: Option<PathBuf>,
    /// Where the native builds go (default: hbft-bench-native in the
    /// system's temporary directory).
    #[arg(long, value_name = "DIR")]
    native_dir: Option<PathBuf>,
}

/// A benchmark guest: a program of `guests/prebuilt/programs/` (and of the
/// native build), its arguments, paths relative to `guests/`. The full
/// inputs make every guest run about a second under qemu-hppa, so that
/// translation and start-up weigh little, as in the CPU-bound runs the
/// comparison is about.
struct Guest {
    name: &'static str,
    program: &'static str,
    args: &'static [&'static str],
    quick_args: &'static [&'static str],
}

const GUESTS: &[Guest] = &[
    Guest { name: "zlib deflate+inflate", program: "zround", args: &["gen", "2500000"], quick_args: &["gen", "30000"] },
    Guest {
        name: "Lua 5.4 script",
        program: "lua",
        args: &["programs/lua/bench.lua", "14"],
        quick_args: &["programs/lua/bench.lua", "1"],
    },
    Guest { name: "n-body", program: "kernels", args: &["nbody", "250000"], quick_args: &["nbody", "10000"] },
    Guest { name: "fannkuch", program: "kernels", args: &["fannkuch", "10"], quick_args: &["fannkuch", "8"] },
    Guest { name: "sort", program: "kernels", args: &["sort", "1500000"], quick_args: &["sort", "20000"] },
];

/// How a column runs a guest.
#[derive(Clone)]
enum Runner {
    /// The host build of the guest, in this directory.
    Native(PathBuf),
    /// qemu-hppa at this path.
    Qemu(PathBuf),
    /// This hbft with these `hbft run` options.
    Hbft(Vec<&'static str>),
}

struct Column {
    label: &'static str,
    runner: Result<Runner, String>,
}

impl Column {
    fn command(&self, guest: &Guest, args: &[&str], guests: &Path) -> anyhow::Result<Command> {
        let prebuilt = guests.join("prebuilt/programs").join(guest.program);
        let mut cmd = match self.runner.as_ref().expect("only available columns run") {
            Runner::Native(dir) => Command::new(dir.join(guest.program)),
            Runner::Qemu(qemu) => {
                let mut c = Command::new(qemu);
                c.arg(&prebuilt);
                c
            }
            Runner::Hbft(options) => {
                let mut c = Command::new(std::env::current_exe().context("cannot find the hbft executable")?);
                c.arg("run").arg("--stats").args(options).arg(&prebuilt);
                c
            }
        };
        cmd.args(args).current_dir(guests);
        Ok(cmd)
    }
}

/// Whether this hbft's `run` offers `--engine engine` and, with
/// `icount_switch`, an `--icount` option.
fn run_offers(engine: &str, icount_switch: bool) -> bool {
    let cmd = crate::run::RunArgs::augment_args(clap::Command::new("run"));
    let engine_ok = cmd
        .get_arguments()
        .find(|a| a.get_id() == "engine")
        .is_some_and(|a| a.get_possible_values().iter().any(|v| v.get_name() == engine));
    engine_ok && (!icount_switch || cmd.get_arguments().any(|a| a.get_id() == "icount"))
}

/// Builds the guests for the host with the guests' own Makefile
/// (`make CC=cc programs`), into `dir/programs`.
fn build_native(guests: &Path, dir: &Path) -> Result<PathBuf, String> {
    let cc = find_tool("cc").ok_or("no cc")?;
    let make = find_tool("make").ok_or("no make")?;
    let out = Command::new(make)
        .arg("-C")
        .arg(guests)
        .arg("-j2")
        .arg(format!("BUILD={}", dir.display()))
        .arg(format!("CC={}", cc.display()))
        .arg("programs")
        .output()
        .map_err(|e| format!("make: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or("").to_string();
        return Err(format!("native build failed: {last}"));
    }
    Ok(dir.join("programs"))
}

fn guests_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let has_programs = |d: &Path| d.join("prebuilt/programs").is_dir();
    if let Some(dir) = given {
        if !has_programs(&dir) {
            bail!("{} has no prebuilt/programs: not the guests/ directory of hbft", dir.display());
        }
        return Ok(dir);
    }
    let candidates = [PathBuf::from("guests"), Path::new(env!("CARGO_MANIFEST_DIR")).join("guests")];
    candidates
        .into_iter()
        .find(|d| has_programs(d))
        .context("cannot find hbft's guests/ directory; pass --guests DIR")
}

/// The measurements of one guest in one column.
enum Cell {
    Missing,
    /// The run failed; why is among the notes under the table.
    Failed,
    Measured { timing: Timing, output_differs: bool },
}

pub fn run(args: EnginesArgs) -> anyhow::Result<ExitCode> {
    let guests = guests_dir(args.guests)?.canonicalize().context("guests directory")?;
    let reps = args.reps.unwrap_or(if args.quick { 1 } else { 3 });
    let native_dir = args.native_dir.unwrap_or_else(|| std::env::temp_dir().join("hbft-bench-native"));

    eprintln!("hbft bench engines: building the native guests in {} ...", native_dir.display());
    let jit_missing = || "not in this hbft".to_string();
    let columns = [
        Column { label: "native x86-64", runner: build_native(&guests, &native_dir).map(Runner::Native) },
        Column { label: "qemu-hppa", runner: find_tool("qemu-hppa").map(Runner::Qemu).ok_or_else(|| "not installed".into()) },
        Column { label: "hbft interp", runner: Ok(Runner::Hbft(vec!["--engine", "interp"])) },
        Column {
            label: "hbft jit",
            runner: run_offers("jit", false).then(|| Runner::Hbft(vec!["--engine", "jit"])).ok_or_else(jit_missing),
        },
        Column {
            label: "hbft jit --icount off",
            runner: run_offers("jit", true)
                .then(|| Runner::Hbft(vec!["--engine", "jit", "--icount", "off"]))
                .ok_or_else(jit_missing),
        },
    ];
    let available = columns.iter().filter(|c| c.runner.is_ok()).count();
    let progress = ProgressBar::new((GUESTS.len() * available) as u64 * u64::from(reps));
    progress.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );

    let mut cells: Vec<Vec<Cell>> = Vec::new();
    let mut counts: Vec<Option<u64>> = Vec::new();
    let mut notes = Vec::new();
    for guest in GUESTS {
        let guest_args = if args.quick { guest.quick_args } else { guest.args };
        let mut row = Vec::new();
        let mut reference: Option<Vec<u8>> = None;
        let mut count = None;
        // qemu-hppa first, so its output is the reference when present.
        let order = [1, 2, 0, 3, 4];
        let mut by_column: Vec<Option<Cell>> = (0..columns.len()).map(|_| None).collect();
        for &i in &order {
            let column = &columns[i];
            if column.runner.is_err() {
                by_column[i] = Some(Cell::Missing);
                continue;
            }
            progress.set_message(format!("{} under {}", guest.name, column.label));
            let mut times = Vec::new();
            let mut failure = None;
            let mut differs = false;
            for _ in 0..reps {
                let sample = column.command(guest, guest_args, &guests).and_then(|mut c| time_once(&mut c, RUN_LIMIT));
                progress.inc(1);
                let sample = match sample {
                    Ok(s) => s,
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                };
                if column.label == "hbft interp" {
                    count = count.or_else(|| retired_from_stats(&sample.stderr));
                }
                match &reference {
                    None if i != 0 => reference = Some(sample.stdout.clone()),
                    Some(r) if *r != sample.stdout => differs = true,
                    _ => {}
                }
                times.push(sample.elapsed);
            }
            by_column[i] = Some(match failure {
                Some(why) => {
                    notes.push(format!("{} under {}: {why}", guest.name, column.label));
                    Cell::Failed
                }
                None => {
                    if differs {
                        notes.push(format!("{} under {}: output differs from the reference", guest.name, column.label));
                    }
                    Cell::Measured { timing: Timing::of(&times), output_differs: differs }
                }
            });
        }
        row.extend(by_column.into_iter().map(|c| c.expect("every column visited")));
        cells.push(row);
        counts.push(count);
    }
    progress.finish_and_clear();

    print!("{}", table(&columns, &cells, &counts, reps, args.quick));
    for c in &columns {
        if let Err(why) = &c.runner {
            println!("missing: {}: {why}", c.label);
        }
    }
    for note in &notes {
        println!("note: {note}");
    }
    let bad = cells.iter().flatten().any(|c| matches!(c, Cell::Failed | Cell::Measured { output_differs: true, .. }));
    Ok(if bad { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The count from `hbft run --stats` ("hbft: N instructions retired ...").
fn retired_from_stats(stderr: &[u8]) -> Option<u64> {
    String::from_utf8_lossy(stderr)
        .lines()
        .find_map(|l| l.strip_prefix("hbft: ")?.split(" instructions retired").next()?.parse().ok())
}

/// The results as a Markdown table (readable as text, pastable into the
/// README), then the geometric means of the slowdowns.
fn table(columns: &[Column], cells: &[Vec<Cell>], counts: &[Option<u64>], reps: u32, quick: bool) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "hbft bench engines{}: wall time min / median of {reps} run{} in seconds (process start to exit); \
         MIPS = guest instructions / median time",
        if quick { " --quick" } else { "" },
        if reps == 1 { "" } else { "s" }
    );
    let _ = writeln!(t);
    let _ = write!(t, "| guest | guest instructions |");
    for c in columns {
        let _ = write!(t, " {} |", c.label);
    }
    let _ = writeln!(t);
    let _ = writeln!(t, "|---|---:|{}", "---:|".repeat(columns.len()));
    for ((guest, row), count) in GUESTS.iter().zip(cells).zip(counts) {
        let args = if quick { guest.quick_args } else { guest.args }.join(" ");
        let _ = write!(t, "| {} (`{} {args}`) | {} |", guest.name, guest.program, count.map_or("?".into(), millions));
        for (i, cell) in row.iter().enumerate() {
            let text = match cell {
                Cell::Missing => "missing".to_string(),
                Cell::Failed => "failed".to_string(),
                Cell::Measured { timing, output_differs } => {
                    let mut s = format!("{:.3} / {:.3}", timing.min.as_secs_f64(), timing.median.as_secs_f64());
                    // Guest MIPS only where guest instructions execute.
                    if let (Some(n), true) = (count, i > 0) {
                        let _ = write!(s, " ({:.0} MIPS)", *n as f64 / timing.median.as_secs_f64() / 1e6);
                    }
                    if *output_differs {
                        s.push_str(" ≠output");
                    }
                    s
                }
            };
            let _ = write!(t, " {text} |");
        }
        let _ = writeln!(t);
    }
    for (base, base_label) in [(0, "native"), (1, "qemu-hppa")] {
        let _ = write!(t, "| geometric mean of time / {base_label} | |");
        for i in 0..columns.len() {
            let ratios: Vec<f64> = cells
                .iter()
                .filter_map(|row| match (&row[i], &row[base]) {
                    (Cell::Measured { timing: a, .. }, Cell::Measured { timing: b, .. }) => {
                        Some(a.median.as_secs_f64() / b.median.as_secs_f64())
                    }
                    _ => None,
                })
                .collect();
            let text = match geometric_mean(&ratios) {
                Some(g) if ratios.len() == cells.len() => format!("{g:.1}×"),
                Some(g) => format!("{g:.1}× ({} of {} guests)", ratios.len(), cells.len()),
                None => "–".to_string(),
            };
            let _ = write!(t, " {text} |");
        }
        let _ = writeln!(t);
    }
    t
}

fn millions(n: u64) -> String {
    format!("{:.1} M", n as f64 / 1e6)
}
