//! Helpers shared by the end-to-end tests of the `hbft` binary.
//!
//! - [`hbft`]: path of the `hbft` binary cargo built for this test run.
//! - [`require_tool`]: find a reference tool (objdump, gcc, qemu) on `PATH`;
//!   a missing tool skips the test locally but fails it under `CI=true`.
//! - [`prebuilt_guests`]: the committed guests in `guests/prebuilt/`, with
//!   their expected stdout, exit status and stdin.
//! - [`built_guests`]: every guest built from source at -O0 and -O2 with the
//!   cross toolchain (`make -C guests`), once per test process.
//! - [`run`] / [`run_with`]: run a command, capturing stdout, stderr and
//!   status, optionally feeding stdin and enforcing a timeout.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Path of the `hbft` binary under test.
pub fn hbft() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hbft"))
}

/// Root of the repository (the root package's manifest directory).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `guests/` in the repository.
pub fn guests_dir() -> PathBuf {
    repo_root().join("guests")
}

/// Whether we run under CI (`CI=true`), where missing tools are failures.
pub fn under_ci() -> bool {
    std::env::var("CI")
        .map(|v| v.eq_ignore_ascii_case("true") || v == "1")
        .unwrap_or(false)
}

/// The cross toolchain prefix: `$CROSS` if set (as for `guests/Makefile`),
/// otherwise `hppa-linux-gnu-`.
pub fn cross_prefix() -> String {
    std::env::var("CROSS")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "hppa-linux-gnu-".to_string())
}

/// A tool of the cross toolchain, e.g. `cross_tool("objdump")`.
pub fn cross_tool(name: &str) -> String {
    format!("{}{}", cross_prefix(), name)
}

/// Look `name` up on `PATH` (or take it as a path if it contains a `/`).
pub fn find_tool(name: &str) -> Option<PathBuf> {
    fn is_exe(p: &Path) -> bool {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_exe(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_exe(p))
}

/// Find a required reference tool. If it is missing: under `CI=true` panic
/// (CI must fail, not skip); otherwise print `skipping: NAME not installed`
/// and return `None` so the caller can skip.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match find_tool(name) {
        Some(p) => Some(p),
        None if under_ci() => panic!(
            "{name} is not installed, and CI=true makes that a failure (install it: \
             Debian packages gcc-hppa-linux-gnu libc6-dev-hppa-cross binutils-hppa-linux-gnu qemu-user make)"
        ),
        None => {
            // Straight to the process's stderr, not eprintln!: the test
            // harness captures the latter, and a skip should be visible.
            let _ = writeln!(std::io::stderr(), "skipping: {name} not installed");
            None
        }
    }
}

/// Captured result of running a command.
#[derive(Debug)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// True if the command was killed because it exceeded its timeout.
    pub timed_out: bool,
}

impl RunOutput {
    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    /// Exit code, or None if killed by a signal.
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
    pub fn success(&self) -> bool {
        self.status.success() && !self.timed_out
    }
}

/// Build a [`Command`] from a program and its arguments.
pub fn command<I, S>(prog: impl AsRef<OsStr>, args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut c = Command::new(prog);
    c.args(args);
    c
}

/// Run `cmd` to completion with stdin from /dev/null, capturing everything.
pub fn run(cmd: &mut Command) -> RunOutput {
    run_with(cmd, None, None)
}

/// Run `cmd`, feeding it `stdin` (or /dev/null), capturing stdout and stderr;
/// with a `timeout`, kill it when the time is up (`timed_out` is then set).
/// Panics only if the command cannot be started at all.
pub fn run_with(cmd: &mut Command, stdin: Option<&[u8]>, timeout: Option<Duration>) -> RunOutput {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));

    let stdin_thread = stdin.map(|data| {
        let data = data.to_vec();
        let mut pipe = child.stdin.take().expect("piped stdin");
        // A child that exits without reading all of stdin is not an error.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        })
    });
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });

    let mut timed_out = false;
    let status = match timeout {
        None => child.wait().expect("wait for child"),
        Some(limit) => {
            let start = Instant::now();
            loop {
                if let Some(st) = child.try_wait().expect("wait for child") {
                    break st;
                }
                if start.elapsed() >= limit {
                    timed_out = true;
                    let _ = child.kill();
                    break child.wait().expect("wait for killed child");
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    };
    if let Some(t) = stdin_thread {
        let _ = t.join();
    }
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    RunOutput {
        status,
        stdout,
        stderr,
        timed_out,
    }
}

/// A guest binary committed in `guests/prebuilt/`.
#[derive(Debug, Clone)]
pub struct PrebuiltGuest {
    /// File name, e.g. `hello_float-O2`.
    pub name: String,
    pub path: PathBuf,
    /// Expected stdout under qemu-hppa (no arguments), if recorded.
    pub expected_stdout: Option<Vec<u8>>,
    /// Expected exit status, if recorded.
    pub expected_status: Option<i32>,
    /// Standard input to feed (otherwise /dev/null).
    pub stdin: Option<Vec<u8>>,
}

/// `guests/prebuilt/`.
pub fn prebuilt_dir() -> PathBuf {
    guests_dir().join("prebuilt")
}

/// The prebuilt guests, in the order of `guests/prebuilt/SHA256SUMS`.
/// Panics if the list is missing or names a file that is not there.
pub fn prebuilt_guests() -> Vec<PrebuiltGuest> {
    let dir = prebuilt_dir();
    let sums = dir.join("SHA256SUMS");
    let text = std::fs::read_to_string(&sums)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", sums.display()));
    let expected = dir.join("expected");
    text.lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|name| {
            let name = name.trim_start_matches('*').to_string();
            let path = dir.join(&name);
            assert!(
                path.is_file(),
                "{} is listed in {} but missing",
                path.display(),
                sums.display()
            );
            let expected_stdout = std::fs::read(expected.join(format!("{name}.out"))).ok();
            let expected_status = std::fs::read_to_string(expected.join(format!("{name}.status")))
                .ok()
                .and_then(|s| s.trim().parse().ok());
            let stdin = std::fs::read(expected.join(format!("{name}.stdin"))).ok();
            PrebuiltGuest {
                name,
                path,
                expected_stdout,
                expected_status,
                stdin,
            }
        })
        .collect()
}

/// Names of the guests in `guests/src/` (C and assembly), sorted.
pub fn guest_source_names() -> Vec<String> {
    let src = guests_dir().join("src");
    let mut names: Vec<String> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", src.display()))
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let p = e.path();
            match p.extension().and_then(|x| x.to_str()) {
                Some("c") | Some("S") => p.file_stem().and_then(|s| s.to_str()).map(str::to_string),
                _ => None,
            }
        })
        .collect();
    names.sort();
    names
}

/// Directory the from-source guests are built into (outside the source tree,
/// so concurrent `make` runs in `guests/` by a developer don't collide).
pub fn guest_build_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guests-build")
}

/// Build every guest from source at -O0 and -O2 with the cross toolchain
/// (`make -C guests BUILD=...`), once per test process; returns the binaries
/// (`NAME-O0`, `NAME-O2` for every source), sorted. `None` (after a skip
/// notice) if the toolchain is missing; under `CI=true` a missing toolchain
/// or a failed build panics.
pub fn built_guests() -> Option<Vec<PathBuf>> {
    static BUILT: OnceLock<Option<Vec<PathBuf>>> = OnceLock::new();
    BUILT.get_or_init(build_guests_now).clone()
}

fn build_guests_now() -> Option<Vec<PathBuf>> {
    let gcc = cross_tool("gcc");
    require_tool(&gcc)?;
    require_tool("make")?;
    let build = guest_build_dir();
    std::fs::create_dir_all(&build)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", build.display()));

    // Serialize builds across test processes sharing the target directory.
    let lock_path = build.join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", lock_path.display()));
    lock.lock()
        .unwrap_or_else(|e| panic!("cannot lock {}: {e}", lock_path.display()));

    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(4);
    let out = run(Command::new("make")
        .arg("-C")
        .arg(guests_dir())
        .arg(format!("-j{jobs}"))
        .arg(format!("BUILD={}", build.display()))
        .arg(format!("CROSS={}", cross_prefix()))
        .arg("all"));
    drop(lock);
    if !out.success() {
        panic!(
            "building the guests failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            out.stdout_str(),
            out.stderr_str()
        );
    }
    let mut bins = Vec::new();
    for name in guest_source_names() {
        for opt in ["O0", "O2"] {
            let p = build.join(format!("{name}-{opt}"));
            assert!(p.is_file(), "make succeeded but {} is missing", p.display());
            bins.push(p);
        }
    }
    Some(bins)
}
