//! `hbft demo`: the replicated run with a killed primary, in one command.
//!
//! The embedded guest (guests/src/demo.c) runs twice: unreplicated,
//! for the reference output; then as a primary and a backup process on
//! loopback, sharing one output file and a freshly generated key, with the
//! primary SIGKILLed at a random instant. The backup takes over and
//! finishes the guest. The two outputs must be byte-identical.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// The demo guest's arguments: 40 lines, each after the Collatz
/// trajectories of 6000 numbers (about 280 M instructions: 1–2 s under the JIT).
pub(crate) const GUEST_ARGS: [&str; 2] = ["40", "6000"];

/// The demo guest, built by `make -C guests prebuilt`.
pub(crate) const GUEST: &[u8] = include_bytes!("../guests/prebuilt/demo-O2");

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Kill the primary this many milliseconds after it starts (default: at
    /// a random instant after it has written between 5 and 34 of its 40
    /// lines, so that the kill always lands mid-run however busy the host).
    #[arg(long, value_name = "MS")]
    kill_at: Option<u64>,
    /// Epoch length in retired instructions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    epoch: Option<u64>,
}

/// A scratch directory removed at the end.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    /// A fresh directory under the system's temporary directory.
    pub(crate) fn new(what: &str) -> anyhow::Result<Scratch> {
        let dir = std::env::temp_dir().join(format!("hbft-{what}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut bytes);
    }
    u64::from_le_bytes(bytes)
}

/// Lines of a child's stderr, each with the instant it arrived.
pub(crate) fn stderr_lines(child: &mut Child) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().expect("stderr piped");
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

fn summary(bytes: &[u8]) -> String {
    let lines = bytes.iter().filter(|&&b| b == b'\n').count();
    format!("{lines:3} lines {:6} bytes  sha256 {}", bytes.len(), hex_prefix(bytes))
}

/// Lines in the file at `path` so far (0 if it cannot be read).
fn count_lines(path: &Path) -> usize {
    std::fs::read(path).map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
}

/// Every line of an exited child's stderr: its reader ends at end of file,
/// shortly after the exit (at most a second is waited for).
pub(crate) fn drain(lines: &mpsc::Receiver<(Instant, String)>) -> Vec<(Instant, String)> {
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut all = Vec::new();
    while let Ok(line) = lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        all.push(line);
    }
    all
}

/// The first 8 bytes of the SHA-256 of `bytes`, in hex.
fn hex_prefix(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..8].iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn wait_with_deadline(child: &mut Child, deadline: Instant, what: &str) -> anyhow::Result<std::process::ExitStatus> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            bail!("{what} did not finish in time");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn demo(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let exe = std::env::current_exe().context("cannot find the hbft executable")?;
    let scratch = Scratch::new("demo")?;
    let file = |name: &str| scratch.0.join(name);
    let guest = file("demo");
    std::fs::write(&guest, GUEST)?;
    let key: Vec<u8> = (0..4).flat_map(|_| random_u64().to_le_bytes()).collect();
    std::fs::write(file("key"), key)?;
    let epoch = args.epoch.map(|n| vec!["--epoch".to_string(), n.to_string()]).unwrap_or_default();

    // 1. Unreplicated, output to a file (so the guest sees the same kind of stdout).
    let reference = file("unreplicated.out");
    let out = std::fs::File::create(&reference)?;
    let started = Instant::now();
    let status = Command::new(&exe)
        .arg("run")
        .arg(&guest)
        .args(GUEST_ARGS)
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .status()
        .context("cannot run hbft")?;
    let unreplicated_time = started.elapsed();
    if !status.success() {
        bail!("the unreplicated run failed ({status})");
    }

    // 2. Replicated: backup, then primary, then the kill.
    let replicated = file("replicated.out");
    let common = |role: &str, peer_flag: &str, peer: &str| {
        let mut cmd = Command::new(&exe);
        cmd.arg(role).arg(peer_flag).arg(peer);
        cmd.arg("--output").arg(&replicated).arg("--key-file").arg(file("key")).args(&epoch);
        cmd.arg("--").arg(&guest).args(GUEST_ARGS);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd
    };
    let mut backup = common("backup", "--listen", "127.0.0.1:0").spawn().context("cannot start the backup")?;
    let backup_lines = stderr_lines(&mut backup);
    let (_, first) = backup_lines.recv_timeout(Duration::from_secs(10)).context("the backup did not start")?;
    let Some(addr) = first.strip_prefix("hbft backup: listening on ") else {
        bail!("the backup did not start: {first}");
    };
    let t0 = Instant::now();
    let mut primary = common("primary", "--backup", addr).spawn().context("cannot start the primary")?;
    let primary_lines = stderr_lines(&mut primary);
    match args.kill_at {
        Some(ms) => std::thread::sleep(Duration::from_millis(ms)),
        None => {
            // A random line, then a random instant within the work for the next one.
            let lines = 5 + (random_u64() % 30) as usize;
            while count_lines(&replicated) < lines && primary.try_wait()?.is_none() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let per_line = unreplicated_time / 40;
            std::thread::sleep(per_line.mul_f64((random_u64() % 1000) as f64 / 1000.0));
        }
    }
    let finished_early = primary.try_wait()?.is_some();
    primary.kill().ok();
    let killed_at = t0.elapsed();
    primary.wait()?;
    let lines_at_kill = count_lines(&replicated);
    let deadline = Instant::now() + Duration::from_secs(30) + unreplicated_time * 10;
    let backup_status = wait_with_deadline(&mut backup, deadline, "the backup")?;
    let backup_done = t0.elapsed();

    let expected = std::fs::read(&reference)?;
    let got = std::fs::read(&replicated).unwrap_or_default();
    let identical = expected == got;
    println!("hbft demo: the demo guest (numbered lines of Collatz work) run unreplicated, then replicated with the primary killed");
    println!("  unreplicated  {}  in {:.2} s", summary(&expected), unreplicated_time.as_secs_f64());
    println!("  replicated    {}  primary killed at {:.2} s", summary(&got), killed_at.as_secs_f64());
    println!("  identical     {}", if identical { "yes" } else { "NO" });
    println!("  timeline");
    let at = |t: Instant| t.saturating_duration_since(t0).as_secs_f64();
    println!("    0.000 s  primary and backup started on {addr}, one shared output file, fresh key");
    let kill = if finished_early {
        "the primary had already finished: no failover this time".to_string()
    } else {
        format!("primary SIGKILLed ({lines_at_kill} lines on the output device)")
    };
    let mut remarks: Vec<(f64, String)> = drain(&backup_lines)
        .into_iter()
        .map(|(t, l)| (at(t), l.strip_prefix("hbft ").unwrap_or(&l).to_string()))
        .chain(drain(&primary_lines).into_iter().map(|(t, l)| match l.strip_prefix("hbft ") {
            Some(said) if said.starts_with("primary") => (at(t), said.to_string()),
            _ => (at(t), format!("primary: {l}")),
        }))
        .collect();
    remarks.push((killed_at.as_secs_f64(), kill));
    // Stable: a remark printed at the kill's instant stays after it.
    remarks.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (t, line) in remarks {
        println!("    {t:.3} s  {line}");
    }
    println!("    {:.3} s  backup exited ({backup_status})", backup_done.as_secs_f64());
    if !identical {
        let at = expected.iter().zip(&got).position(|(a, b)| a != b).unwrap_or(expected.len().min(got.len()));
        println!("  the outputs differ from byte {at}; kept in {}", keep(&scratch.0)?.display());
        return Ok(ExitCode::FAILURE);
    }
    if !backup_status.success() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// Moves the scratch files somewhere they survive, for inspection.
fn keep(dir: &Path) -> anyhow::Result<PathBuf> {
    let kept = dir.with_extension("kept");
    std::fs::rename(dir, &kept)?;
    Ok(kept)
}
