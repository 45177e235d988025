//! A replica process (`hbft primary`/`backup`, `hbft system --backup`/`--listen`)
//! started by an end-to-end test, with its stderr read line by line so the
//! test can wait for what it announces (its address, "following the primary"),
//! the seeded generator of the instants at which the kill tests strike, and
//! the scratch directory each test's replicas share.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running replica and the lines of its stderr.
pub struct Replica {
    pub child: Child,
    pub stderr: mpsc::Receiver<String>,
}

impl Replica {
    /// Spawns `cmd` with stdout discarded and stderr captured (stdin as `cmd` sets it).
    pub fn spawn(mut cmd: Command) -> Replica {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
        let (tx, stderr) = mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Replica { child, stderr }
    }

    /// Waits for the exit (at most `limit`), returns the status and all stderr.
    pub fn finish(mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("replica did not finish within {limit:?}");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let lines: Vec<String> = self.stderr.iter().collect();
        (status, lines.join("\n"))
    }

    /// Reads stderr until a line contains `needle` (at most `limit`);
    /// returns the lines read, that one last.
    pub fn wait_for_line(&self, needle: &str, limit: Duration) -> Vec<String> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        while !seen.iter().any(|l: &String| l.contains(needle)) {
            assert!(Instant::now() < deadline, "no line with {needle:?} within {limit:?}: {seen:?}");
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(50)) {
                seen.push(line);
            }
        }
        seen
    }

    /// Sends a signal by name (`-KILL`, `-STOP`, `-CONT`) with kill(1).
    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args([sig, &pid]).status().unwrap().success());
    }
}

/// A small deterministic generator for kill instants, seeded from
/// `HBFT_KILL_SEED` (printed, so a failing campaign can be rerun) or the clock.
pub struct Rng(u64);

impl Rng {
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("HBFT_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos() as u64 | 1
        });
        eprintln!("{test}: HBFT_KILL_SEED={seed}");
        Rng(seed)
    }

    /// Uniform in [lo, hi).
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        lo + (hi - lo) * (self.0 % 1_000_000) as f64 / 1e6
    }
}

/// A scratch directory for one test, holding the pre-shared `key`;
/// removed when the test passes, kept for inspection when it fails.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// `$TMPDIR/PREFIX-PID-NAME`, emptied, with a fresh `key` file.
    pub fn new(prefix: &str, name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("{prefix}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("key"), b"0123456789abcdef0123456789abcdef").unwrap();
        Scratch(dir)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
