//! Real programs with real workloads under `hbft run`, byte-identical to
//! qemu-hppa: a zlib compression round trip (file, stdin, generated input),
//! the Lua 5.4 interpreter running scripts, printf/scanf of floats, a
//! program reading stdin and files, a dynamically linked program run with
//! `-L SYSROOT`, and benchmark kernels.
//!
//! The cases are the lines of `guests/programs/cases`. The prebuilt,
//! stripped binaries in `guests/prebuilt/programs/` and their outputs
//! recorded under qemu-hppa make the first test work without the cross
//! toolchain; the second builds the programs from the vendored sources and
//! compares with qemu-hppa live.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use common::{command, require_tool, run, run_with, RunOutput};

const TIMEOUT: Duration = Duration::from_secs(300);
/// The sysroot dynamically linked cases run with (qemu-hppa's `-L`).
const SYSROOT: &str = "/usr/hppa-linux-gnu";

/// One line of `guests/programs/cases`.
#[derive(Debug)]
struct Case {
    name: String,
    /// Program path relative to the directory of the programs.
    program: String,
    args: Vec<String>,
    /// Standard input, relative to `guests/`.
    stdin: Option<String>,
}

impl Case {
    /// Programs named `*-dyn` are dynamically linked.
    fn dynamic(&self) -> bool {
        self.program.ends_with("-dyn")
    }
}

fn cases() -> Vec<Case> {
    let path = common::guests_dir().join("programs/cases");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|line| {
            let mut words = line.split_whitespace().map(str::to_string);
            let name = words.next().unwrap();
            let program = words.next().unwrap_or_else(|| panic!("case {name} has no program"));
            let (mut args, mut stdin) = (Vec::new(), None);
            for w in words {
                match w.strip_prefix('<') {
                    Some(file) => stdin = Some(file.to_string()),
                    None => args.push(w),
                }
            }
            Case { name, program, args, stdin }
        })
        .collect()
}

/// Runs `case` with `runner` (hbft run or qemu-hppa, with its options)
/// from `guests/`, the program taken from `dir`.
fn run_case(mut runner: Command, case: &Case, dir: &Path) -> RunOutput {
    let guests = common::guests_dir();
    if case.dynamic() {
        runner.args(["-L", SYSROOT]);
    }
    runner.arg(dir.join(&case.program)).args(&case.args).current_dir(&guests);
    let stdin = case.stdin.as_ref().map(|f| {
        std::fs::read(guests.join(f)).unwrap_or_else(|e| panic!("{}: cannot read stdin {f}: {e}", case.name))
    });
    let out = run_with(&mut runner, stdin.as_deref(), Some(TIMEOUT));
    assert!(!out.timed_out, "{}: timed out", case.name);
    out
}

fn hbft_run() -> Command {
    let mut c = command(common::hbft(), ["run"]);
    if let Ok(engine) = std::env::var("HBFT_ENGINE") {
        c.args(["--engine", &engine]);
    }
    c
}

/// Whether the sysroot for dynamically linked cases is installed; a skip
/// notice (or, under CI, a failure) otherwise.
fn have_sysroot() -> bool {
    if Path::new(SYSROOT).join("lib").is_dir() {
        return true;
    }
    assert!(!common::under_ci(), "{SYSROOT} missing: install libc6-dev-hppa-cross");
    eprintln!("skipping dynamically linked cases: {SYSROOT} not installed");
    false
}

fn prebuilt_programs() -> PathBuf {
    common::prebuilt_dir().join("programs")
}

#[test]
fn prebuilt_programs_match_recorded_qemu_output() {
    let dir = prebuilt_programs();
    let expected = dir.join("expected");
    let cases = cases();
    assert!(cases.len() >= 10, "guests/programs/cases lost its cases");
    let sysroot = have_sysroot();
    for case in cases.iter().filter(|c| sysroot || !c.dynamic()) {
        let out = run_case(hbft_run(), case, &dir);
        let want = std::fs::read(expected.join(format!("{}.out", case.name)))
            .unwrap_or_else(|e| panic!("{}: no recorded output: {e}", case.name));
        let status: i32 = std::fs::read_to_string(expected.join(format!("{}.status", case.name)))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or_else(|| panic!("{}: no recorded status", case.name));
        assert!(
            out.stdout == want,
            "{}: stdout differs from qemu-hppa's\n--- hbft\n{}\n--- stderr\n{}",
            case.name,
            out.stdout_str(),
            out.stderr_str()
        );
        assert_eq!(out.code(), Some(status), "{}: exit status; stderr {}", case.name, out.stderr_str());
    }
}

/// The retired-instruction count of `hbft run --stats` for `case`.
fn retired(case: &Case, dir: &Path) -> u64 {
    let mut c = hbft_run();
    c.arg("--stats");
    let out = run_case(c, case, dir);
    let err = out.stderr_str();
    err.lines()
        .find_map(|l| l.strip_prefix("hbft: ")?.split(" instructions retired").next()?.parse().ok())
        .unwrap_or_else(|| panic!("{}: no --stats line in {err:?}", case.name))
}

/// Not Lua: it seeds its string hashing with time(NULL), an environment
/// read, so its count legitimately varies with the clock (record/replay
/// makes such runs repeatable).
#[test]
fn real_program_instruction_counts_are_deterministic() {
    let dir = prebuilt_programs();
    for case in cases().iter().filter(|c| ["zlib-stdin", "sort", "floatio"].contains(&c.name.as_str())) {
        assert_eq!(retired(case, &dir), retired(case, &dir), "{}: count differs between runs", case.name);
    }
}

#[test]
fn programs_built_from_source_match_qemu() {
    let (Some(_), Some(qemu), Some(make)) =
        (require_tool(&common::cross_tool("gcc")), require_tool("qemu-hppa"), require_tool("make"))
    else {
        return;
    };
    let build = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("programs-build");
    let built = run(Command::new(make)
        .arg("-C")
        .arg(common::guests_dir())
        .arg("-j2")
        .arg(format!("BUILD={}", build.display()))
        .arg(format!("CROSS={}", common::cross_prefix()))
        .arg("programs"));
    assert!(built.success(), "make programs failed:\n{}\n{}", built.stdout_str(), built.stderr_str());
    let dir = build.join("programs");
    let sysroot = have_sysroot();
    for case in cases().iter().filter(|c| sysroot || !c.dynamic()) {
        // Programs outside programs/ (`../NAME`) are the prebuilt guests.
        let dir = if case.program.starts_with("../") { prebuilt_programs() } else { dir.clone() };
        let reference = run_case(Command::new(&qemu), case, &dir);
        let ours = run_case(hbft_run(), case, &dir);
        assert!(
            ours.stdout == reference.stdout,
            "{}: stdout differs from qemu-hppa's\n--- hbft\n{}\n--- qemu-hppa\n{}",
            case.name,
            ours.stdout_str(),
            reference.stdout_str()
        );
        assert_eq!(ours.code(), reference.code(), "{}: exit status", case.name);
    }
}
