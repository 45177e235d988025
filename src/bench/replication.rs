//! `hbft bench replication`: what replication costs, and how fast failover is.
//!
//! For a CPU-bound guest (cpu_bound 50: 205 M instructions, one line of
//! output) and an output-heavy one (demo 2000 20: 50 M instructions, 2000
//! writes), at epoch lengths from 1K to 16M instructions, it times
//! `hbft run --epoch N` and a primary/backup pair with `--sync epoch` and
//! `--sync output`, on loopback and through a proxy that delays each
//! direction by a fixed latency. The slowdown is the primary's wall time
//! over the unreplicated run's. Then it kills the primary of the demo guest
//! a few times and reports the backup's detection and takeover times.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::demo::{drain, random_u64, stderr_lines, wait_with_deadline, Scratch, GUEST as DEMO_GUEST};

const CPU_GUEST: &[u8] = include_bytes!("../../guests/prebuilt/cpu_bound-O2");

#[derive(clap::Args)]
pub struct ReplicationArgs {
    /// One-way delay added by the proxy for the slow-link columns.
    #[arg(long, value_name = "MS", default_value_t = 1)]
    latency_ms: u64,
    /// Kills of the primary for the failover figures.
    #[arg(long, default_value_t = 5)]
    kills: usize,
    /// Runs of each configuration; the fastest counts (the host may be busy).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    repeat: u32,
}

struct Guest {
    name: &'static str,
    file: PathBuf,
    args: &'static [&'static str],
}

const EPOCHS: [u64; 5] = [1 << 10, 1 << 14, 1 << 16, 1 << 20, 1 << 24];
/// Below this epoch length a slow link costs tens of seconds per run
/// (one round trip per epoch): those cells are skipped.
const SLOW_LINK_MIN_EPOCH: u64 = 1 << 16;

/// Relays TCP connections to `target`, delaying every chunk by `delay` in
/// each direction. Returns the address to connect to.
fn delaying_proxy(target: String, delay: Duration) -> anyhow::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
    std::thread::spawn(move || {
        for client in listener.incoming().map_while(Result::ok) {
            let Ok(server) = TcpStream::connect(&target) else { continue };
            for (from, to) in [(&client, &server), (&server, &client)] {
                let (Ok(from), Ok(to)) = (from.try_clone(), to.try_clone()) else { continue };
                pump(from, to, delay);
            }
        }
    });
    Ok(addr)
}

/// Copies `from` to `to`, each chunk released `delay` after it was read.
fn pump(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 1 << 16];
        while let Ok(n @ 1..) = from.read(&mut buf) {
            if tx.send((Instant::now() + delay, buf[..n].to_vec())).is_err() {
                break;
            }
        }
    });
    std::thread::spawn(move || {
        let _ = to.set_nodelay(true);
        for (due, chunk) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            if to.write_all(&chunk).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

type RunningBackup = (std::process::Child, mpsc::Receiver<(Instant, String)>, String);

struct Bench {
    exe: PathBuf,
    scratch: Scratch,
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.scratch.0.join(name)
    }

    /// Wall time of `hbft run --epoch N`, and its output.
    fn unreplicated(&self, guest: &Guest, epoch: u64) -> anyhow::Result<(Duration, Vec<u8>)> {
        let out_path = self.path("unreplicated.out");
        let out = std::fs::File::create(&out_path)?;
        let started = Instant::now();
        let status = Command::new(&self.exe)
            .args(["run", "--epoch", &epoch.to_string()])
            .arg(&guest.file)
            .args(guest.args)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .status()?;
        let took = started.elapsed();
        if !status.success() {
            bail!("{} failed unreplicated ({status})", guest.name);
        }
        Ok((took, std::fs::read(out_path)?))
    }

    /// Starts a backup; returns it with its stderr lines and its address.
    fn backup(&self, guest: &Guest, epoch: u64) -> anyhow::Result<RunningBackup> {
        let mut backup = self.replica(guest, epoch, &["backup", "--listen", "127.0.0.1:0"]).spawn()?;
        let lines = stderr_lines(&mut backup);
        let (_, first) = lines.recv_timeout(Duration::from_secs(20)).context("the backup did not start")?;
        let Some(addr) = first.strip_prefix("hbft backup: listening on ") else { bail!("backup: {first}") };
        let addr = addr.to_string();
        Ok((backup, lines, addr))
    }

    fn replica(&self, guest: &Guest, epoch: u64, role: &[&str]) -> Command {
        let mut cmd = Command::new(&self.exe);
        cmd.args(role).arg("--output").arg(self.path("replicated.out")).arg("--key-file").arg(self.path("key"));
        cmd.args(["--epoch", &epoch.to_string(), "--"]).arg(&guest.file).args(guest.args);
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
        cmd
    }

    /// Wall time of the primary of a replicated run, checked against `expected`.
    fn replicated(&self, guest: &Guest, epoch: u64, sync: &str, delay: Option<Duration>, expected: &[u8]) -> anyhow::Result<Duration> {
        let (mut backup, _lines, addr) = self.backup(guest, epoch)?;
        let addr = match delay {
            Some(delay) => delaying_proxy(addr, delay)?,
            None => addr,
        };
        let started = Instant::now();
        let mut primary = self.replica(guest, epoch, &["primary", "--backup", &addr, "--sync", sync]).spawn()?;
        let limit = Instant::now() + Duration::from_secs(600);
        let status = wait_with_deadline(&mut primary, limit, "the primary")?;
        let took = started.elapsed();
        wait_with_deadline(&mut backup, limit, "the backup")?;
        if !status.success() {
            bail!("{} failed replicated ({status})", guest.name);
        }
        if std::fs::read(self.path("replicated.out"))? != expected {
            bail!("{}: replicated output differs from the unreplicated run", guest.name);
        }
        Ok(took)
    }

    /// Kills the primary once; the backup's (detection, takeover) in ms.
    fn failover(&self, guest: &Guest, run_time: Duration) -> anyhow::Result<(f64, f64)> {
        let (mut backup, lines, addr) = self.backup(guest, 1 << 16)?;
        let mut primary = self.replica(guest, 1 << 16, &["primary", "--backup", &addr]).spawn()?;
        let fraction = 0.2 + 0.5 * (random_u64() % 1000) as f64 / 1000.0;
        std::thread::sleep(run_time.mul_f64(fraction));
        primary.kill()?;
        primary.wait()?;
        wait_with_deadline(&mut backup, Instant::now() + Duration::from_secs(600), "the backup")?;
        let account = drain(&lines).into_iter().map(|(_, l)| l).find(|l| l.contains("live from epoch"));
        let Some(account) = account else { bail!("the primary finished before the kill") };
        let number_after = |label: &str| -> Option<f64> {
            let rest = &account[account.find(label)? + label.len()..];
            rest.split(' ').next()?.parse().ok()
        };
        match (number_after("detection "), number_after("takeover ")) {
            (Some(d), Some(t)) => Ok((d, t)),
            _ => bail!("unexpected failover account: {account}"),
        }
    }
}

fn cell(took: Duration, base: Duration) -> String {
    format!("{:.2}x", took.as_secs_f64() / base.as_secs_f64())
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

pub fn run(args: ReplicationArgs) -> anyhow::Result<ExitCode> {
    let scratch = Scratch::new("bench")?;
    std::fs::write(scratch.0.join("demo"), DEMO_GUEST)?;
    std::fs::write(scratch.0.join("cpu_bound"), CPU_GUEST)?;
    let key: Vec<u8> = (0..4).flat_map(|_| random_u64().to_le_bytes()).collect();
    std::fs::write(scratch.0.join("key"), key)?;
    let bench = Bench { exe: std::env::current_exe()?, scratch };
    let guests = [
        Guest { name: "cpu-bound", file: bench.path("cpu_bound"), args: &["50"] },
        Guest { name: "output-heavy", file: bench.path("demo"), args: &["2000", "20"] },
    ];
    let delay = Duration::from_millis(args.latency_ms);
    println!("hbft bench replication: primary wall time / unreplicated wall time (default engine)");
    println!("slow link: +{} ms each way through a delaying proxy", args.latency_ms);
    println!(
        "{:<13} {:>9} {:>13} {:>15} {:>16} {:>11} {:>12}",
        "guest", "epoch", "unreplicated", "loopback epoch", "loopback output", "slow epoch", "slow output"
    );
    for guest in &guests {
        for epoch in EPOCHS {
            let (mut base, expected) = bench.unreplicated(guest, epoch)?;
            for _ in 1..args.repeat {
                base = base.min(bench.unreplicated(guest, epoch)?.0);
            }
            let mut cells = Vec::new();
            for (link, sync) in [(None, "epoch"), (None, "output"), (Some(delay), "epoch"), (Some(delay), "output")] {
                if link.is_some() && epoch < SLOW_LINK_MIN_EPOCH {
                    cells.push("-".to_string());
                    continue;
                }
                let mut took = bench.replicated(guest, epoch, sync, link, &expected)?;
                for _ in 1..args.repeat {
                    took = took.min(bench.replicated(guest, epoch, sync, link, &expected)?);
                }
                cells.push(cell(took, base));
            }
            println!(
                "{:<13} {:>9} {:>11.2} s {:>15} {:>16} {:>11} {:>12}",
                guest.name, epoch, base.as_secs_f64(), cells[0], cells[1], cells[2], cells[3]
            );
        }
    }
    let demo = Guest { name: "demo", file: bench.path("demo"), args: &[] };
    let (run_time, _) = bench.unreplicated(&demo, 1 << 16)?;
    let (mut detections, mut takeovers) = (Vec::new(), Vec::new());
    for _ in 0..args.kills {
        let (d, t) = bench.failover(&demo, run_time)?;
        detections.push(d);
        takeovers.push(t);
    }
    if !detections.is_empty() {
        let max = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
        println!(
            "failover ({} kills of the demo guest's primary, epoch 65536): detection median {:.1} ms (max {:.1}), takeover median {:.1} ms (max {:.1})",
            args.kills,
            median(&mut detections),
            max(&detections),
            median(&mut takeovers),
            max(&takeovers)
        );
    }
    Ok(ExitCode::SUCCESS)
}
