//! Running guests for the experiments: unreplicated (`hbft run`), as a
//! primary/backup pair over a [`Link`] (`hbft primary --stats`, whose
//! figures it parses), and with the primary killed or stopped (failover).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use super::link::Link;
use super::time_once;
use crate::demo::{drain, random_u64, stderr_lines, wait_with_deadline, Scratch, GUEST as DEMO_GUEST, GUEST_ARGS as DEMO_ARGS};

const CPU_GUEST: &[u8] = include_bytes!("../../guests/prebuilt/cpu_bound-O2");
const TIMER_GUEST: &[u8] = include_bytes!("../../guests/prebuilt/timer_signals-O2");
const KERNEL: &[u8] = include_bytes!("../../guests/prebuilt/system/kernel");

/// A single run may take at most this long.
/// Where replicated runs and their baselines translate: on the guest's own
/// thread. A primary and backup sharing the 2-core machine would otherwise
/// run two guests and two compile threads on two cores (replicated/plain
/// median 1.22x with background translation, ~1.1x inline at main
/// a37375d), and the baseline must translate the same way.
const TRANSLATE: [&str; 2] = ["--translate", "inline"];

const RUN_LIMIT: Duration = Duration::from_secs(600);
/// How long a backup may take to finish after its primary did.
const BACKUP_GRACE: Duration = Duration::from_secs(60);

/// A guest program with its arguments.
#[derive(Clone)]
pub struct Guest {
    pub name: &'static str,
    pub file: PathBuf,
    pub args: Vec<String>,
}

/// An unreplicated run.
pub struct Run {
    pub elapsed: Duration,
    /// The guest's stdout, then its stderr (what a replica's output device
    /// receives from guests that write stderr only at the end).
    pub output: Vec<u8>,
    /// Retired instructions (`--stats`).
    pub instructions: u64,
    /// How late timer interrupts were delivered (`--stats`): mean and
    /// maximum µs from deadline to delivery, if any timer fired.
    pub timer_lateness_us: Option<(f64, f64)>,
}

/// The mean and maximum of `hbft: timer interrupts: N delivered, MEAN us
/// late on average, MAX us at most`.
fn timer_lateness(stderr: &str) -> Option<(f64, f64)> {
    let line = stderr.lines().rev().find_map(|l| l.strip_prefix("hbft: timer interrupts: "))?;
    let (_, rest) = line.split_once(" delivered, ")?;
    let (mean, rest) = rest.split_once(" us late on average, ")?;
    let max = rest.strip_suffix(" us at most")?;
    Some((mean.parse().ok()?, max.parse().ok()?))
}

/// A replicated run, timed at the primary.
pub struct Replicated {
    pub elapsed: Duration,
    pub stats: PrimaryStats,
}

/// The primary's `--stats` line.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct PrimaryStats {
    pub epochs: u64,
    pub frames: u64,
    pub bytes: u64,
    /// Time spent waiting for the backup's acknowledgments.
    pub waited: Duration,
}

impl PrimaryStats {
    /// Parses "hbft primary: E epochs; F frames (B bytes) to the backup; waited W ms ...".
    pub fn parse(line: &str) -> Option<PrimaryStats> {
        let rest = line.strip_prefix("hbft primary: ")?;
        let words: Vec<&str> = rest.split([' ', '(', ';']).filter(|w| !w.is_empty()).collect();
        let before = |label: &str| -> Option<&str> { words.iter().position(|w| *w == label).and_then(|i| i.checked_sub(1)).map(|i| words[i]) };
        let after = |label: &str| -> Option<&str> { words.iter().position(|w| *w == label).and_then(|i| words.get(i + 1)).copied() };
        Some(PrimaryStats {
            epochs: before("epochs")?.parse().ok()?,
            frames: before("frames")?.parse().ok()?,
            bytes: before("bytes)")?.parse().ok()?,
            waited: Duration::from_secs_f64(after("waited")?.parse::<f64>().ok()? / 1e3),
        })
    }
}

/// Splits hbft's stderr into the guest's part and the count of hbft's
/// final "hbft: N instructions retired ..." line.
fn split_stats(stderr: &str) -> Option<(&str, u64)> {
    let (at, count) = stderr.rmatch_indices("hbft: ").find_map(|(at, _)| {
        let line_start = at == 0 || stderr.as_bytes()[at - 1] == b'\n';
        let (count, rest) = stderr[at + 6..].split_once(' ')?;
        (line_start && rest.starts_with("instructions retired")).then(|| count.parse().ok()).flatten().map(|c| (at, c))
    })?;
    Some((&stderr[..at], count))
}

/// The experiments' scratch directory with the embedded guests and a key,
/// and the engine replicas and their unreplicated baselines run on.
pub struct Harness {
    exe: PathBuf,
    scratch: Scratch,
    engine: &'static str,
}

impl Harness {
    /// `engine`: `jit` or `interp`, for replicas and baselines alike.
    pub fn new(engine: &'static str) -> anyhow::Result<Harness> {
        let scratch = Scratch::new("bench")?;
        std::fs::write(scratch.0.join("demo"), DEMO_GUEST)?;
        std::fs::write(scratch.0.join("cpu_bound"), CPU_GUEST)?;
        std::fs::write(scratch.0.join("timer_signals"), TIMER_GUEST)?;
        std::fs::write(scratch.0.join("kernel"), KERNEL)?;
        let key: Vec<u8> = (0..4).flat_map(|_| random_u64().to_le_bytes()).collect();
        std::fs::write(scratch.0.join("key"), key)?;
        Ok(Harness { exe: std::env::current_exe().context("cannot find the hbft executable")?, scratch, engine })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.scratch.0.join(name)
    }

    /// The CPU-bound guest: `cpu_bound N` (about 4 M instructions per N).
    pub fn cpu_bound(&self, iterations: u32) -> Guest {
        Guest { name: "cpu-bound", file: self.path("cpu_bound"), args: vec![iterations.to_string()] }
    }

    /// The output-heavy guest: `demo LINES WORK` (a line of output per
    /// LINES, WORK Collatz steps between).
    pub fn io_bound(&self, lines: u32, work: u32) -> Guest {
        Guest { name: "io-bound", file: self.path("demo"), args: vec![lines.to_string(), work.to_string()] }
    }

    /// The demo guest as `hbft demo` runs it.
    pub fn demo(&self) -> Guest {
        Guest { name: "demo", file: self.path("demo"), args: DEMO_ARGS.map(String::from).to_vec() }
    }

    /// The timer-signal guest: COUNT timer signals every 100 µs.
    pub fn timers(&self, count: u32) -> Guest {
        Guest { name: "timer-signals", file: self.path("timer_signals"), args: vec![count.to_string()] }
    }

    /// `hbft run --stats OPTIONS GUEST`.
    pub fn run(&self, guest: &Guest, options: &[&str]) -> anyhow::Result<Run> {
        let mut cmd = Command::new(&self.exe);
        cmd.args(["run", "--stats"]).args(options).arg(&guest.file).args(&guest.args);
        let s = time_once(&mut cmd, RUN_LIMIT)?;
        let stderr = String::from_utf8_lossy(&s.stderr);
        let Some((guest_stderr, instructions)) = split_stats(&stderr) else { bail!("{}: no instruction count in {stderr:?}", guest.name) };
        let mut output = s.stdout;
        output.extend_from_slice(guest_stderr.as_bytes());
        Ok(Run { elapsed: s.elapsed, output, instructions, timer_lateness_us: timer_lateness(&stderr) })
    }

    /// `hbft system --stats OPTIONS --disk IMG KERNEL`: the guest kernel
    /// (whose disk workload covers the whole disk) on a fresh zeroed disk
    /// of `sectors` sectors. Returns the run and the `--stats` line.
    pub fn system(&self, sectors: usize, options: &[&str]) -> anyhow::Result<(Run, String)> {
        let disk = self.path("system.img");
        std::fs::write(&disk, vec![0u8; sectors * 512])?;
        let mut cmd = Command::new(&self.exe);
        cmd.args(["system", "--stats"]).args(options).arg("--disk").arg(&disk).arg(self.path("kernel"));
        let s = time_once(&mut cmd, RUN_LIMIT)?;
        let stderr = String::from_utf8_lossy(&s.stderr);
        let Some(line) = stderr.lines().find(|l| l.starts_with("hbft system: ")) else { bail!("kernel: no --stats line in {stderr:?}") };
        let Some(instructions) = line["hbft system: ".len()..].split(' ').next().and_then(|n| n.parse().ok()) else {
            bail!("kernel: no instruction count in {line:?}")
        };
        Ok((Run { elapsed: s.elapsed, output: s.stdout, instructions, timer_lateness_us: None }, line.to_string()))
    }

    /// The unreplicated baseline of the replicated runs: the same engine
    /// and epoch length.
    pub fn unreplicated(&self, guest: &Guest, epoch: u64) -> anyhow::Result<Run> {
        self.run(guest, &["--engine", self.engine, TRANSLATE[0], TRANSLATE[1], "--epoch", &epoch.to_string()])
    }

    fn replica(&self, mut cmd: Command, guest: &Guest, epoch: u64, timeout_ms: u64, role: &[&str]) -> Command {
        crate::bench::dies_with_us(&mut cmd);
        cmd.args(role).arg("--output").arg(self.path("replicated.out")).arg("--key-file").arg(self.path("key"));
        cmd.args(["--stats", "--engine", self.engine]).args(TRANSLATE);
        cmd.args(["--epoch", &epoch.to_string(), "--timeout", &timeout_ms.to_string(), "--"]);
        cmd.arg(&guest.file).args(&guest.args);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd
    }

    /// Starts a backup on `link`; returns it, its stderr lines and its address.
    fn backup(&self, guest: &Guest, epoch: u64, timeout_ms: u64, link: &Link) -> anyhow::Result<RunningBackup> {
        let listen = link.listen_addr();
        let mut cmd = self.replica(link.backup_command(&self.exe), guest, epoch, timeout_ms, &["backup", "--listen", &listen]);
        let mut child = cmd.spawn().context("cannot start the backup")?;
        let lines = stderr_lines(&mut child);
        let first = lines.recv_timeout(Duration::from_secs(20)).map(|(_, l)| l);
        let addr = match first.as_deref().ok().and_then(|l| l.strip_prefix("hbft backup: listening on ")) {
            Some(addr) => addr.to_string(),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the backup did not start: {}", first.unwrap_or_default());
            }
        };
        Ok(RunningBackup { child, lines, addr })
    }

    /// Times the primary of a replicated run (`--sync SYNC`) and checks the
    /// shared output device against `expected`.
    pub fn replicated(&self, guest: &Guest, epoch: u64, sync: &str, link: &Link, expected: &[u8]) -> anyhow::Result<Replicated> {
        let mut backup = self.backup(guest, epoch, DEFAULT_TIMEOUT_MS, link)?;
        let addr = link.connect_addr(backup.addr.clone())?;
        let started = Instant::now();
        let mut cmd = self.replica(Command::new(&self.exe), guest, epoch, DEFAULT_TIMEOUT_MS, &["primary", "--backup", &addr, "--sync", sync]);
        let mut primary = cmd.spawn().context("cannot start the primary")?;
        let lines = stderr_lines(&mut primary);
        let deadline = Instant::now() + RUN_LIMIT;
        let status = wait_with_deadline(&mut primary, deadline, "the primary");
        let elapsed = started.elapsed();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            // A primary that failed (to connect, say) may leave its backup
            // listening for it: stop the backup rather than wait for it.
            let _ = backup.child.kill();
            let _ = backup.child.wait();
            let stderr: Vec<String> = drain(&lines).into_iter().map(|(_, l)| l).collect();
            status?;
            bail!("{} failed replicated: {}", guest.name, stderr.first().cloned().unwrap_or_default());
        }
        // The backup finishes right after its primary (at most the lag window behind).
        let backup_status = wait_with_deadline(&mut backup.child, Instant::now() + BACKUP_GRACE, "the backup");
        let stderr: Vec<String> = drain(&lines).into_iter().map(|(_, l)| l).collect();
        backup_status?;
        if std::fs::read(self.path("replicated.out"))? != expected {
            bail!("{}: replicated output differs from the unreplicated run", guest.name);
        }
        let stats = stderr.iter().find_map(|l| PrimaryStats::parse(l));
        let Some(stats) = stats else { bail!("no statistics from the primary: {stderr:?}") };
        Ok(Replicated { elapsed, stats })
    }

    /// Fails the primary once, `after` into its run, by `signal` (SIGKILL:
    /// the connection closes; SIGSTOP: it falls silent and only the
    /// timeout detects it). Returns the backup's (detection, takeover) in ms.
    pub fn failover(&self, guest: &Guest, after: Duration, signal: Failure, timeout_ms: u64) -> anyhow::Result<(f64, f64)> {
        let epoch = 1 << 16;
        let mut backup = self.backup(guest, epoch, timeout_ms, &Link::LOOPBACK)?;
        let mut cmd = self.replica(Command::new(&self.exe), guest, epoch, timeout_ms, &["primary", "--backup", &backup.addr]);
        let mut primary = cmd.spawn().context("cannot start the primary")?;
        // Fail a primary that runs, not one still connecting (its backup,
        // a listener, would wait for it until the deadline).
        let connected = backup.lines.recv_timeout(RUN_LIMIT).map(|(_, l)| l);
        if !connected.as_deref().is_ok_and(|l| l.starts_with("hbft backup: following the primary")) {
            let _ = primary.kill();
            let _ = backup.child.kill();
            bail!("the primary did not connect to its backup: {}", connected.unwrap_or_default());
        }
        std::thread::sleep(after);
        let pid = primary.id().to_string();
        let sig = match signal {
            Failure::Kill => "-KILL",
            Failure::Stop => "-STOP",
        };
        let sent = Command::new("kill").args([sig, &pid]).status();
        let deadline = Instant::now() + RUN_LIMIT;
        let backup_status = wait_with_deadline(&mut backup.child, deadline, "the backup");
        // A stopped primary is killed once the backup is done with it.
        let _ = primary.kill();
        let _ = primary.wait();
        sent?;
        backup_status?;
        let account = drain(&backup.lines).into_iter().map(|(_, l)| l).find(|l| l.contains("live from epoch"));
        let Some(account) = account else { return Err(FinishedFirst.into()) };
        let number_after = |label: &str| -> Option<f64> {
            let rest = &account[account.find(label)? + label.len()..];
            rest.split(' ').next()?.parse().ok()
        };
        match (number_after("detection "), number_after("takeover ")) {
            (Some(d), Some(t)) => Ok((d, t)),
            _ => bail!("unexpected failover account: {account}"),
        }
    }

    /// A random instant in the first half of a run of `length`.
    pub fn kill_instant(length: Duration) -> Duration {
        length.mul_f64(0.1 + 0.4 * (random_u64() % 1000) as f64 / 1000.0)
    }
}

/// The replicas' failure-detection timeout unless an experiment varies it.
pub const DEFAULT_TIMEOUT_MS: u64 = 300;

/// The primary finished before it could be failed.
#[derive(Debug)]
pub struct FinishedFirst;

impl std::fmt::Display for FinishedFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the primary finished before it was failed")
    }
}

impl std::error::Error for FinishedFirst {}

/// How the primary is failed.
#[derive(Debug, Clone, Copy)]
pub enum Failure {
    Kill,
    Stop,
}

struct RunningBackup {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<(Instant, String)>,
    addr: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_stats_parse() {
        let line = "hbft primary: 22 epochs; 229 frames (18866 bytes) to the backup; waited 12.6 ms for acknowledgments (20.2% of the run)";
        let s = PrimaryStats::parse(line).unwrap();
        assert_eq!((s.epochs, s.frames, s.bytes), (22, 229, 18866));
        assert!((s.waited.as_secs_f64() - 0.0126).abs() < 1e-9);
        assert_eq!(PrimaryStats::parse("hbft: 5 instructions"), None);
        assert_eq!(split_stats("x\nhbft: 1489904 instructions retired in 0.076 s"), Some(("x\n", 1489904)));
        let with_timers = "x\nhbft: 12 instructions retired in 0.076 s\nhbft: timer interrupts: 31 delivered, 412.5 us late on average, 980.0 us at most\n";
        assert_eq!(split_stats(with_timers), Some(("x\n", 12)));
        assert_eq!(timer_lateness(with_timers), Some((412.5, 980.0)));
        assert_eq!(timer_lateness("hbft: 12 instructions retired in 0.076 s"), None);
    }
}
