//! The engines agree on the retired-instruction count `--stats` reports,
//! for every prebuilt guest and every prebuilt real program; and
//! `--icount off` (no injected counter) still lets a host SIGINT end hbft.
//!
//! Programs whose course depends on the host (timers firing by the host
//! clock, Lua seeding its string hashes with `time()`) differ between two
//! runs whatever the engine: they are recorded under the interpreter and
//! replayed under the JIT, which repeats their environment exactly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{command, prebuilt_dir, prebuilt_guests, run_with, RunOutput};

/// Guests and cases whose course depends on host time.
const HOST_TIMED: [&str; 4] = ["timer_signals-O2", "clock_random-O2", "lua-script", "lua-bench"];

/// The count of a `--stats` report on stderr.
fn stats_count(name: &str, out: &RunOutput) -> u64 {
    let err = out.stderr_str();
    err.lines()
        .find_map(|l| l.strip_prefix("hbft: ")?.split(" instructions retired").next()?.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no --stats line in {err:?}"))
}

/// One program run: `hbft run OPTIONS PROG ARGS` from `dir`.
struct Case<'a> {
    name: &'a str,
    options: Vec<String>,
    prog: PathBuf,
    args: Vec<String>,
    stdin: Option<Vec<u8>>,
    dir: PathBuf,
}

impl Case<'_> {
    /// `hbft run --stats --engine ENGINE`: the output and the count.
    fn run(&self, engine: &str) -> (RunOutput, u64) {
        let mut c = command(common::hbft(), ["run", "--stats", "--engine", engine]);
        c.args(&self.options).arg(&self.prog).args(&self.args);
        self.finish(engine, c)
    }

    /// `hbft record --stats --engine interp` to a log, then `hbft replay
    /// --stats --engine jit` of it: both outputs and counts.
    fn record_and_replay(&self) -> ((RunOutput, u64), (RunOutput, u64)) {
        let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("engine-counts-{}.log", self.name));
        let log = log.to_str().unwrap();
        let mut c = command(common::hbft(), ["record", "--stats", "--engine", "interp", "--log", log]);
        c.args(&self.options).arg("--").arg(&self.prog).args(&self.args);
        let recorded = self.finish("interp", c);
        let mut c = command(common::hbft(), ["replay", "--stats", "--engine", "jit", "--log", log]);
        c.args(&self.options);
        let replayed = self.finish("jit", c);
        let _ = std::fs::remove_file(log);
        (recorded, replayed)
    }

    fn finish(&self, engine: &str, mut c: Command) -> (RunOutput, u64) {
        c.current_dir(&self.dir);
        let out = run_with(&mut c, self.stdin.as_deref(), Some(Duration::from_secs(600)));
        assert!(!out.timed_out, "{} under {engine} timed out", self.name);
        let count = stats_count(self.name, &out);
        (out, count)
    }

    /// Runs under both engines (recorded and replayed if the course
    /// depends on host time): count, output and status must agree.
    fn check_same_count(&self) {
        let ((interp, interp_count), (jit, jit_count)) = if HOST_TIMED.contains(&self.name) {
            self.record_and_replay()
        } else {
            (self.run("interp"), self.run("jit"))
        };
        let name = self.name;
        assert_eq!(jit_count, interp_count, "{name}: the JIT retired {jit_count}, the interpreter {interp_count}");
        assert_eq!(jit.stdout, interp.stdout, "{name}: output differs between the engines");
        assert_eq!(jit.code(), interp.code(), "{name}: exit status differs between the engines");
        eprintln!("{name}: {interp_count} instructions under both engines");
    }
}

#[test]
fn prebuilt_guests_retire_the_same_count_under_both_engines() {
    let guests = prebuilt_guests();
    let mut compared = 0;
    for guest in &guests {
        Case {
            name: &guest.name,
            options: Vec::new(),
            prog: guest.path.clone(),
            args: Vec::new(),
            stdin: guest.stdin.clone(),
            dir: common::repo_root(),
        }
        .check_same_count();
        compared += 1;
    }
    assert!(compared >= 15, "only {compared} prebuilt guests");
}

/// The cases of `guests/programs/cases` (see tests/programs.rs) with their
/// prebuilt binaries; dynamically linked ones only when the sysroot is
/// installed.
#[test]
fn prebuilt_programs_retire_the_same_count_under_both_engines() {
    const SYSROOT: &str = "/usr/hppa-linux-gnu";
    let guests = common::guests_dir();
    let cases = std::fs::read_to_string(guests.join("programs/cases")).expect("guests/programs/cases");
    let mut compared = 0;
    for line in cases.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        let (name, program) = (words.next().unwrap(), words.next().unwrap());
        let (mut args, mut stdin) = (Vec::new(), None);
        for w in words {
            match w.strip_prefix('<') {
                Some(file) => stdin = Some(std::fs::read(guests.join(file)).expect("case stdin")),
                None => args.push(w.to_string()),
            }
        }
        let mut options = Vec::new();
        if program.ends_with("-dyn") {
            if !Path::new(SYSROOT).join("lib").is_dir() {
                assert!(!common::under_ci(), "{SYSROOT} missing: install libc6-dev-hppa-cross");
                eprintln!("skipping {name}: {SYSROOT} not installed");
                continue;
            }
            options = vec!["-L".to_string(), SYSROOT.to_string()];
        }
        let prog = prebuilt_dir().join("programs").join(program);
        Case { name, options, prog, args, stdin, dir: guests.clone() }.check_same_count();
        compared += 1;
    }
    assert!(compared >= 10, "only {compared} program cases");
}

/// Without the injected counter, translated code returns to the runtime
/// only on events and epochs may never end, so a host SIGINT cannot wait
/// for one: it ends hbft at once (here while the guest computes and would
/// otherwise handle SIGINT at an epoch end).
#[test]
fn a_host_sigint_ends_hbft_under_icount_off() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let guest = prebuilt_dir().join("wait_sigint-O2");
    let mut child = Command::new(common::hbft())
        .args(["run", "--engine", "jit", "--icount", "off"])
        .arg(&guest)
        .arg("wait")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert_eq!(first, "waiting for SIGINT\n");
    // Let the guest's loop be translated and running.
    std::thread::sleep(Duration::from_millis(300));
    assert!(common::run(&mut command("kill", ["-INT".to_string(), child.id().to_string()])).success());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("hbft --icount off ignored a SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(SIGINT), "hbft did not die of the SIGINT: {status:?}");
}

/// SIGINT's number on Linux.
const SIGINT: i32 = 2;
