//! Conformance against qemu-hppa on the gcc torture suite
//! (`gcc.c-torture/execute` from Debian's gcc-12-source): every program is
//! built static at -O0 and -O2; of those that pass under qemu-hppa, the share
//! that `hbft run` runs with the same exit status and output must reach the
//! bar. Long: ignored by `cargo test`, run by `.ci/run` explicitly.
//!
//! `HBFT_TORTURE_LIMIT=N` runs only the first N programs (for quick checks);
//! `HBFT_ENGINE=interp|jit` chooses the engine under test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{command, require_tool, run_with};

const PASS_BAR: f64 = 98.0;
const TIMEOUT: Duration = Duration::from_secs(20);
const GCC_SOURCE: &str = "/usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz";
const EXECUTE_DIR: &str = "gcc-12.2.0/gcc/testsuite/gcc.c-torture/execute";

/// Extracts the torture sources once into target/tmp.
fn torture_sources() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("torture-src");
    let dir = root.join(EXECUTE_DIR);
    if dir.is_dir() {
        return Some(dir);
    }
    if !Path::new(GCC_SOURCE).exists() {
        assert!(!common::under_ci(), "{GCC_SOURCE} missing: install gcc-12-source");
        eprintln!("skipping: {GCC_SOURCE} not installed (apt-get install gcc-12-source)");
        return None;
    }
    std::fs::create_dir_all(&root).unwrap();
    let status = Command::new("tar")
        .args(["xf", GCC_SOURCE, "-C"])
        .arg(&root)
        .arg("--wildcards")
        .arg(format!("{EXECUTE_DIR}/*"))
        .status()
        .expect("run tar");
    assert!(status.success(), "extracting the torture suite failed");
    Some(dir)
}

/// The single-file programs of the suite (subdirectories need special flags).
fn programs(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "c"))
        .collect();
    files.sort();
    if let Some(limit) = std::env::var("HBFT_TORTURE_LIMIT").ok().and_then(|v| v.parse().ok()) {
        files.truncate(limit);
    }
    files
}

#[derive(Debug)]
enum Outcome {
    /// Did not compile or does not pass under qemu-hppa: not counted.
    NotApplicable,
    Pass,
    Fail(String),
}

fn check_one(gcc: &Path, qemu: &Path, src: &Path, opt: &str, out_dir: &Path) -> Outcome {
    let name = format!("{}-{opt}", src.file_stem().unwrap().to_string_lossy());
    let exe = out_dir.join(&name);
    if !exe.exists() {
        let built = run_with(
            command(gcc, [format!("-{opt}").as_str(), "-static", "-w", "-o"])
                .arg(&exe)
                .arg(src)
                .arg("-lm"),
            None,
            Some(Duration::from_secs(120)),
        );
        if !built.success() {
            return Outcome::NotApplicable;
        }
    }
    let reference = run_with(&mut Command::new(qemu).arg(&exe), None, Some(TIMEOUT));
    if reference.timed_out || !reference.success() {
        return Outcome::NotApplicable;
    }
    let mut ours = command(common::hbft(), ["run"]);
    if let Ok(engine) = std::env::var("HBFT_ENGINE") {
        ours.args(["--engine", &engine]);
    }
    let ours = run_with(ours.arg(&exe), None, Some(TIMEOUT));
    if ours.timed_out {
        return Outcome::Fail(format!("{name}: timed out"));
    }
    if ours.code() != reference.code() || ours.stdout != reference.stdout {
        let err = ours.stderr_str();
        let first_err = err.lines().next().unwrap_or("");
        return Outcome::Fail(format!(
            "{name}: status {:?} (qemu {:?}){} {first_err}",
            ours.code(),
            reference.code(),
            if ours.stdout != reference.stdout { ", stdout differs" } else { "" },
        ));
    }
    Outcome::Pass
}

#[test]
#[ignore = "long conformance run; .ci/run runs it"]
fn gcc_torture_execute_matches_qemu() {
    let (Some(gcc), Some(qemu)) = (
        require_tool(&common::cross_tool("gcc")),
        require_tool("qemu-hppa"),
    ) else {
        return;
    };
    let Some(dir) = torture_sources() else { return };
    let out_dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("torture-bin");
    std::fs::create_dir_all(&out_dir).unwrap();

    let jobs: Vec<(PathBuf, &str)> = programs(&dir)
        .into_iter()
        .flat_map(|p| [(p.clone(), "O0"), (p, "O2")])
        .collect();
    let next = Mutex::new(jobs.into_iter());
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some((src, opt)) = next.lock().unwrap().next() else { break };
                let outcome = check_one(&gcc, &qemu, &src, opt, &out_dir);
                results.lock().unwrap().push(outcome);
            });
        }
    });

    let results = results.into_inner().unwrap();
    let failures: Vec<&String> = results
        .iter()
        .filter_map(|o| match o {
            Outcome::Fail(why) => Some(why),
            _ => None,
        })
        .collect();
    let passed = results.iter().filter(|o| matches!(o, Outcome::Pass)).count();
    let counted = passed + failures.len();
    let rate = 100.0 * passed as f64 / counted.max(1) as f64;
    let mut sorted = failures.clone();
    sorted.sort();
    for f in &sorted {
        eprintln!("FAIL {f}");
    }
    eprintln!(
        "gcc torture: {passed}/{counted} pass ({rate:.2}%), {} not applicable (no build or fails under qemu-hppa)",
        results.len() - counted
    );
    assert!(counted > 0, "no torture program was applicable");
    assert!(rate >= PASS_BAR, "pass rate {rate:.2}% is below {PASS_BAR}%");
}
