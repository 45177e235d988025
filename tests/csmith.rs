//! Conformance against qemu-hppa on random programs from csmith: for a fixed
//! list of seeds, each program is generated (`csmith --seed S`), built static
//! at -O1 and -O2 (alternating by seed), and run under qemu-hppa with a
//! timeout; for every program that terminates under qemu-hppa, the checksum
//! line `hbft run` prints must equal qemu-hppa's (and so must the exit
//! status). Long: ignored by `cargo test`, run by `.ci/run` explicitly.
//!
//! Generated sources and binaries are cached in target/tmp/csmith, so a
//! re-run only re-executes the programs. `HBFT_CSMITH_SEEDS=N` runs the first
//! N seeds only; `HBFT_ENGINE=interp|jit` chooses the engine under test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use common::{command, require_tool, run_with};

/// The fixed seeds: 1..=SEEDS.
const SEEDS: u64 = 120;
/// Programs that have not finished under qemu-hppa by then are not counted.
const QEMU_TIMEOUT: Duration = Duration::from_secs(10);
/// The interpreter is slower than qemu-hppa's JIT; give it room.
const HBFT_TIMEOUT: Duration = Duration::from_secs(120);
/// The minimum number of seeds that must terminate under qemu-hppa and match.
const MIN_COUNTED: usize = 100;

/// The csmith runtime headers (Debian libcsmith-dev: /usr/include/csmith*).
fn csmith_include() -> Option<PathBuf> {
    let found = std::fs::read_dir("/usr/include")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("csmith.h").is_file())
        .min();
    if found.is_none() {
        assert!(!common::under_ci(), "csmith.h missing: install libcsmith-dev");
        eprintln!("skipping: csmith.h not found under /usr/include/csmith* (apt-get install libcsmith-dev)");
    }
    found
}

#[derive(Debug)]
enum Outcome {
    /// Did not build, or did not terminate (or failed) under qemu-hppa.
    NotApplicable(String),
    Pass,
    Fail(String),
}

/// Generate (once) the program for `seed` and build it (once).
fn build(csmith: &Path, gcc: &Path, include: &Path, seed: u64, dir: &Path) -> Result<PathBuf, String> {
    let opt = if seed % 2 == 0 { "-O2" } else { "-O1" };
    let exe = dir.join(format!("seed{seed}{opt}"));
    if exe.is_file() {
        return Ok(exe);
    }
    let src = dir.join(format!("seed{seed}.c"));
    if !src.is_file() {
        let generated = run_with(
            command(csmith, ["--seed", &seed.to_string(), "-o"]).arg(&src),
            None,
            Some(Duration::from_secs(60)),
        );
        if !generated.success() {
            let _ = std::fs::remove_file(&src);
            return Err(format!("csmith --seed {seed} failed: {}", generated.stderr_str()));
        }
    }
    // Build to a temporary name so an interrupted build is not cached.
    let partial = exe.with_extension("partial");
    let built = run_with(
        command(gcc, [opt, "-static", "-w", "-o"])
            .arg(&partial)
            .arg(format!("-I{}", include.display()))
            .arg(&src),
        None,
        Some(Duration::from_secs(300)),
    );
    if !built.success() {
        return Err(format!("seed {seed}: gcc {opt} failed"));
    }
    std::fs::rename(&partial, &exe).map_err(|e| e.to_string())?;
    Ok(exe)
}

fn check_one(csmith: &Path, gcc: &Path, qemu: &Path, include: &Path, seed: u64, dir: &Path) -> Outcome {
    let exe = match build(csmith, gcc, include, seed, dir) {
        Ok(exe) => exe,
        Err(why) => return Outcome::NotApplicable(why),
    };
    let name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let reference = run_with(&mut Command::new(qemu).arg(&exe), None, Some(QEMU_TIMEOUT));
    if reference.timed_out {
        return Outcome::NotApplicable(format!("{name}: does not terminate under qemu-hppa in {QEMU_TIMEOUT:?}"));
    }
    if !reference.stdout_str().contains("checksum = ") {
        return Outcome::NotApplicable(format!("{name}: no checksum under qemu-hppa ({})", reference.status));
    }
    let mut ours = command(common::hbft(), ["run"]);
    if let Ok(engine) = std::env::var("HBFT_ENGINE") {
        ours.args(["--engine", &engine]);
    }
    let ours = run_with(ours.arg(&exe), None, Some(HBFT_TIMEOUT));
    if ours.timed_out {
        return Outcome::Fail(format!("{name}: timed out after {HBFT_TIMEOUT:?}"));
    }
    if ours.code() != reference.code() || ours.stdout != reference.stdout {
        let err = ours.stderr_str();
        let first_err = err.lines().next().unwrap_or("");
        let checksum = |out: &str| out.lines().find(|l| l.starts_with("checksum")).unwrap_or("-").to_string();
        return Outcome::Fail(format!(
            "{name}: status {:?} (qemu {:?}), {} (qemu {}) {first_err}",
            ours.code(),
            reference.code(),
            checksum(&ours.stdout_str()),
            checksum(&reference.stdout_str()),
        ));
    }
    Outcome::Pass
}

#[test]
#[ignore = "long conformance run; .ci/run runs it"]
fn csmith_checksums_match_qemu() {
    let (Some(csmith), Some(gcc), Some(qemu)) = (
        require_tool("csmith"),
        require_tool(&common::cross_tool("gcc")),
        require_tool("qemu-hppa"),
    ) else {
        return;
    };
    let Some(include) = csmith_include() else { return };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("csmith");
    std::fs::create_dir_all(&dir).unwrap();
    let seeds = std::env::var("HBFT_CSMITH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEEDS);

    let next = Mutex::new(1..=seeds);
    let results = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let Some(seed) = next.lock().unwrap().next() else { break };
                let outcome = check_one(&csmith, &gcc, &qemu, &include, seed, &dir);
                results.lock().unwrap().push((seed, outcome));
            });
        }
    });

    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(seed, _)| *seed);
    let mut passed = 0;
    let mut failures = Vec::new();
    for (_, outcome) in &results {
        match outcome {
            Outcome::Pass => passed += 1,
            Outcome::Fail(why) => failures.push(why),
            Outcome::NotApplicable(why) => eprintln!("not counted: {why}"),
        }
    }
    for f in &failures {
        eprintln!("FAIL {f}");
    }
    let counted = passed + failures.len();
    eprintln!(
        "csmith: {passed}/{counted} checksums match qemu-hppa, {} seeds not counted (no build, or no termination under qemu-hppa)",
        results.len() - counted
    );
    assert!(failures.is_empty(), "{} csmith programs differ from qemu-hppa", failures.len());
    if seeds == SEEDS {
        assert!(counted >= MIN_COUNTED, "only {counted} seeds terminate under qemu-hppa; need {MIN_COUNTED}");
    }
}
