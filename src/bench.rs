//! `hbft bench EXPERIMENT`: measurements run from the command line, each an
//! experiment with its own subcommand (`engines` compares the execution
//! engines with native code and qemu-hppa; the experiments of the paper's
//! performance study — epoch length, link, interrupt latency, epoch
//! sources, time breakdown, failover — write CSVs, markdown tables and SVG
//! plots). This module holds what experiments share: timing a command over
//! repetitions, and summaries.

mod engines;
mod experiments;
mod figure;
mod link;
mod replica;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use wait_timeout::ChildExt;

#[derive(clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    experiment: Experiment,
}

#[derive(clap::Subcommand)]
enum Experiment {
    /// CPU-bound guests natively, under qemu-hppa and under every hbft
    /// engine, side by side: times, guest MIPS, geometric-mean slowdowns.
    Engines(engines::EnginesArgs),
    /// Replication slowdown vs epoch length, CPU-bound and I/O-bound guest,
    /// per-epoch and output sync.
    EpochLength(experiments::Settings),
    /// The epoch-length curves over links with added latency and a bandwidth cap.
    Link(experiments::Settings),
    /// How late timer interrupts arrive, in instructions and µs, vs epoch length.
    InterruptLatency(experiments::Settings),
    /// Injected counters (JIT) vs per-instruction counting vs none, and the
    /// cost split between counter checks, boundary exits and synchronization.
    BtVsCounter(experiments::Settings),
    /// Where a replicated run's time goes: execution, round trips, forwarding; log bytes.
    Breakdown(experiments::Settings),
    /// Detection and takeover times over many failures, per detection timeout.
    Failover(experiments::Settings),
    /// Every experiment above, with one report (report.md) in the output directory.
    All(experiments::Settings),
}

pub fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let (name, settings) = match args.experiment {
        Experiment::Engines(args) => return engines::run(args),
        Experiment::EpochLength(s) => ("epoch-length", s),
        Experiment::Link(s) => ("link", s),
        Experiment::InterruptLatency(s) => ("interrupt-latency", s),
        Experiment::BtVsCounter(s) => ("bt-vs-counter", s),
        Experiment::Breakdown(s) => ("breakdown", s),
        Experiment::Failover(s) => ("failover", s),
        Experiment::All(s) => ("all", s),
    };
    std::fs::create_dir_all(&settings.out).with_context(|| format!("cannot create {}", settings.out.display()))?;
    link::install_cleanup();
    let harness = replica::Harness::new(if settings.engine == "interp" { "interp" } else { "jit" })?;
    let started = Instant::now();
    let mut sections = Vec::new();
    for experiment in experiments::EXPERIMENTS.iter().filter(|e| name == "all" || e.name == name) {
        let section = experiments::run(experiment, &settings, &harness).inspect_err(|_| link::await_interrupt_exit())?;
        eprintln!("hbft bench: {} done", experiment.name);
        sections.push(section);
    }
    let took = started.elapsed();
    let report = settings.out.join(if name == "all" { "report.md".to_string() } else { format!("{name}.report.md") });
    if name == "all" {
        let text = format!(
            "# hbft experiments\n\n- command: `hbft bench all{}{}`\n- duration: {:.0} s\n- machine: {}\n\n{}",
            if settings.quick { " --quick" } else { "" },
            settings.reps.map(|r| format!(" --reps {r}")).unwrap_or_default(),
            took.as_secs_f64(),
            machine(),
            sections.concat()
        );
        std::fs::write(&report, text).with_context(|| format!("cannot write {}", report.display()))?;
    }
    println!("hbft bench {name}: {:.0} s; report {} (CSVs, tables and SVG plots in {})", took.as_secs_f64(), report.display(), settings.out.display());
    Ok(ExitCode::SUCCESS)
}

/// The host: CPU model, cores, kernel, load average.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo.lines().find_map(|l| l.strip_prefix("model name")).map(|l| l.trim_start_matches([' ', '\t', ':']).to_string());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    format!(
        "{}, {cores} cores, Linux {}, load average at the end {}",
        model.unwrap_or_else(|| "unknown CPU".into()),
        kernel.trim(),
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
    )
}

/// One finished run of a measured command.
#[derive(Debug)]
pub struct Sample {
    pub elapsed: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

/// Runs `cmd` once (stdin from /dev/null) and times it from spawn to exit.
/// A run that exceeds `limit` is killed and is an error, as is a non-zero
/// exit: benchmarks only time successful runs.
pub fn time_once(cmd: &mut Command, limit: Duration) -> anyhow::Result<Sample> {
    let shown = format!("{cmd:?}");
    dies_with_us(cmd);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().with_context(|| format!("cannot start {shown}"))?;
    // Drain the pipes while the child runs so a chatty guest cannot block.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || read_all(&mut out));
    let err = std::thread::spawn(move || read_all(&mut err));
    let status = child.wait_timeout(limit).with_context(|| format!("waiting for {shown}"))?;
    let elapsed = start.elapsed();
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("{shown} did not finish within {} s", limit.as_secs());
    };
    let (stdout, stderr) = (out.join().unwrap_or_default(), err.join().unwrap_or_default());
    if !status.success() {
        let first = String::from_utf8_lossy(&stderr).lines().next().unwrap_or("").to_string();
        bail!("{shown} failed ({status}): {first}");
    }
    Ok(Sample { elapsed, stdout, stderr })
}

/// Makes the child die (SIGKILL) when hbft bench does, however it ends:
/// Ctrl-C, an error or a SIGKILL of its own. No replica or guest outlives
/// an experiment.
pub fn dies_with_us(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: prctl, getppid and _exit are async-signal-safe, as code
    // between fork and exec must be.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl: then nobody will signal us.
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        })
    }
}

fn read_all(r: &mut impl std::io::Read) -> Vec<u8> {
    let mut v = Vec::new();
    let _ = r.read_to_end(&mut v);
    v
}

/// Minimum and median of repeated timings.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub min: Duration,
    pub median: Duration,
}

impl Timing {
    /// Summarizes `samples` (at least one).
    pub fn of(samples: &[Duration]) -> Timing {
        let mut sorted = samples.to_vec();
        sorted.sort();
        let n = sorted.len();
        let median = if n % 2 == 1 { sorted[n / 2] } else { (sorted[n / 2 - 1] + sorted[n / 2]) / 2 };
        Timing { min: sorted[0], median }
    }
}

/// Geometric mean of positive ratios (None for none).
pub fn geometric_mean(ratios: &[f64]) -> Option<f64> {
    if ratios.is_empty() {
        return None;
    }
    Some((ratios.iter().map(|r| r.ln()).sum::<f64>() / ratios.len() as f64).exp())
}

/// `name` on `PATH` (or as given if it contains a `/`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let is_exe = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_exe(&p).then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|p| is_exe(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_takes_min_and_median() {
        let ms = |v: &[u64]| v.iter().map(|&m| Duration::from_millis(m)).collect::<Vec<_>>();
        let t = Timing::of(&ms(&[30, 10, 20]));
        assert_eq!((t.min, t.median), (Duration::from_millis(10), Duration::from_millis(20)));
        let t = Timing::of(&ms(&[40, 10, 20, 30]));
        assert_eq!((t.min, t.median), (Duration::from_millis(10), Duration::from_millis(25)));
    }

    #[test]
    fn geometric_mean_of_ratios() {
        assert_eq!(geometric_mean(&[]), None);
        let g = geometric_mean(&[2.0, 8.0]).unwrap();
        assert!((g - 4.0).abs() < 1e-12);
    }

    #[test]
    fn failing_and_hanging_commands_are_errors() {
        assert!(time_once(&mut Command::new("false"), Duration::from_secs(5)).is_err());
        let err = time_once(Command::new("sleep").arg("5"), Duration::from_millis(100)).unwrap_err();
        assert!(err.to_string().contains("did not finish"), "{err}");
        let ok = time_once(Command::new("echo").arg("hi"), Duration::from_secs(5)).unwrap();
        assert_eq!(ok.stdout, b"hi\n");
    }
}
