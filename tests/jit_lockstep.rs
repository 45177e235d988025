//! The JIT against the interpreter, in lockstep: every prebuilt guest runs
//! under both engines with the same random budgets, and after every stop
//! the full CPU state and retired count, the dirty pages and finally memory
//! and output must be identical.

mod common;
#[path = "common/lockstep.rs"]
mod lockstep;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use hbft_runtime::user_mode::EngineKind;
use hbft_translator::jit::JitConfig;

/// Every block translated at once, and a code cache small enough to be
/// flushed again and again.
const JIT: JitConfig = JitConfig { icount: true, hot: 1, cache_bytes: 1 << 20, dirty_pages: true, background: false };

/// [`JIT`], or with translation on the compile thread: every block
/// requested at once and interpreted until its code is installed.
fn jit(background: bool) -> EngineKind {
    EngineKind::Jit(JitConfig { background, ..JIT })
}

/// Guests whose course depends on host time (interval timers fire by the
/// host clock), so two runs differ whatever the engine.
const HOST_TIMED: [&str; 1] = ["timer_signals-O2"];

#[test]
fn prebuilt_guests_agree_with_the_interpreter_at_every_stop() {
    for guest in common::prebuilt_guests().into_iter().filter(|g| !HOST_TIMED.contains(&g.name.as_str())) {
        // echo_stdin reads the file named by its argument instead of stdin.
        let stdin_file = common::prebuilt_dir().join("expected").join(format!("{}.stdin", guest.name));
        let stdin_arg = stdin_file.to_string_lossy().into_owned();
        let args: Vec<&str> = if stdin_file.exists() { vec![&stdin_arg] } else { vec![] };
        for seed in 1..=2 {
            let run = lockstep::lockstep(&guest.path, &args, jit(seed == 2), seed, 100_000);
            eprintln!("{}: seed {seed}: {} stops, {} retired, {:?}", guest.name, run.stops, run.retired, run.termination);
        }
    }
}

/// Stops compared per program at most: programs that loop for long (or
/// forever) are compared up to there.
const MAX_STOPS: u64 = 2000;

/// The programs (files without an extension) in `CARGO_TARGET_TMPDIR/sub`,
/// which `conformance_test` builds, only those whose name contains
/// `HBFT_LOCKSTEP_ONLY` if set; `None` (a failure under CI) if it has not
/// run.
fn built_programs(sub: &str, conformance_test: &str) -> Option<Vec<PathBuf>> {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(sub);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(!common::under_ci(), "{} missing: run the {conformance_test} test first", dir.display());
        eprintln!("skipping: {} missing (run the {conformance_test} test first)", dir.display());
        return None;
    };
    let mut programs: Vec<PathBuf> =
        entries.flatten().map(|e| e.path()).filter(|p| p.is_file() && p.extension().is_none()).collect();
    programs.sort();
    if let Ok(only) = std::env::var("HBFT_LOCKSTEP_ONLY") {
        programs.retain(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(&only)));
    }
    Some(programs)
}

/// Runs every program in lockstep (every block translated) on all cores,
/// with budgets seeded by `HBFT_LOCKSTEP_SEED` (default 1) and the
/// program's position, and reports every program that differs. Returns
/// how many ran to their end.
fn lockstep_all(what: &str, programs: &[PathBuf]) -> usize {
    let base_seed: u64 = std::env::var("HBFT_LOCKSTEP_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    let next = Mutex::new(programs.iter().enumerate());
    let (finished, unfinished) = (AtomicUsize::new(0), AtomicUsize::new(0));
    let failures = Mutex::new(Vec::new());
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
            s.spawn(|| loop {
                let Some((i, path)) = next.lock().unwrap().next() else { break };
                let seed = base_seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
                let run = std::panic::catch_unwind(|| lockstep::lockstep_at_most(path, &[], jit(i % 2 == 1), seed, MAX_STOPS));
                match run {
                    Ok(Some(_)) => finished.fetch_add(1, Ordering::Relaxed),
                    Ok(None) => unfinished.fetch_add(1, Ordering::Relaxed),
                    Err(panic) => {
                        let why = panic
                            .downcast_ref::<String>()
                            .map(String::as_str)
                            .or_else(|| panic.downcast_ref::<&str>().copied())
                            .unwrap_or("panic");
                        failures.lock().unwrap().push(format!("{}: {}", path.display(), why.lines().next().unwrap_or("")));
                        0
                    }
                };
                if (i + 1) % 250 == 0 {
                    eprintln!("{what} lockstep: {} of {} programs, {:.0?}", i + 1, programs.len(), start.elapsed());
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    for failure in &failures {
        eprintln!("DIFFERS {failure}");
    }
    let (finished, unfinished) = (finished.into_inner(), unfinished.into_inner());
    eprintln!(
        "{what} lockstep (seed {base_seed}): {finished} programs identical to the end, {unfinished} identical for \
         {MAX_STOPS} stops, {} differ; {:.0?}",
        failures.len(),
        start.elapsed()
    );
    assert!(failures.is_empty(), "{} {what} programs differ between the engines", failures.len());
    finished
}

/// The gcc torture programs `tests/torture.rs` built (run it first; .ci/run
/// does), in lockstep with every block translated: one build of each
/// source, -O0 and -O2 alternating down the sorted list (every build with
/// `HBFT_LOCKSTEP_ALL=1`; it takes twice as long). Long: ignored by
/// `cargo test`.
#[test]
#[ignore = "long; .ci/run runs it after the torture conformance run"]
fn torture_programs_agree_with_the_interpreter_at_every_stop() {
    let Some(mut programs) = built_programs("torture-bin", "torture") else { return };
    if std::env::var_os("HBFT_LOCKSTEP_ALL").is_none() {
        // Builds come in pairs NAME-O0, NAME-O2: keep -O0 of even pairs
        // and -O2 of odd ones.
        let mut index = 0;
        programs.retain(|_| {
            index += 1;
            let (pair, second) = ((index - 1) / 2, (index - 1) % 2 == 1);
            (pair % 2 == 1) == second
        });
    }
    let finished = lockstep_all("torture", &programs);
    assert!(finished > 500 || !common::under_ci(), "too few torture programs: {finished}");
}

/// The csmith programs `tests/csmith.rs` built (run it first; .ci/run
/// does), each in lockstep with every block translated. Long: ignored by
/// `cargo test`.
#[test]
#[ignore = "long; .ci/run runs it after the csmith conformance run"]
fn csmith_programs_agree_with_the_interpreter_at_every_stop() {
    let Some(programs) = built_programs("csmith", "csmith") else { return };
    let finished = lockstep_all("csmith", &programs);
    assert!(finished >= 50 || !common::under_ci(), "too few csmith programs: {finished}");
}
