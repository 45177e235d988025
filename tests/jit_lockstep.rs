//! The JIT against the interpreter, in lockstep: every prebuilt guest runs
//! under both engines with the same random budgets, and after every stop
//! the full CPU state and retired count, the dirty pages and finally memory
//! and output must be identical.

mod common;
#[path = "common/lockstep.rs"]
mod lockstep;

use hbft_runtime::user_mode::EngineKind;
use hbft_translator::jit::JitConfig;

/// Every block translated at once, and a code cache small enough to be
/// flushed again and again.
const JIT: EngineKind = EngineKind::Jit(JitConfig { icount: true, hot: 1, cache_bytes: 1 << 20 });

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
            let run = lockstep::lockstep(&guest.path, &args, JIT, seed, 100_000);
            eprintln!("{}: seed {seed}: {} stops, {} retired, {:?}", guest.name, run.stops, run.retired, run.termination);
        }
    }
}

/// The gcc torture programs `tests/torture.rs` built (run it first; .ci/run
/// does), each in lockstep with every block translated. Long: ignored by
/// `cargo test`.
#[test]
#[ignore = "long; .ci/run runs it after the torture conformance run"]
fn torture_programs_agree_with_the_interpreter_at_every_stop() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("torture-bin");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        assert!(!common::under_ci(), "{} missing: run the torture test first", dir.display());
        eprintln!("skipping: {} missing (run the torture test first)", dir.display());
        return;
    };
    let mut programs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    programs.sort();
    let next = std::sync::Mutex::new(programs.iter());
    let (finished, unfinished) = (std::sync::atomic::AtomicU64::new(0), std::sync::atomic::AtomicU64::new(0));
    std::thread::scope(|s| {
        for _ in 0..std::thread::available_parallelism().map_or(2, |n| n.get()) {
            s.spawn(|| loop {
                let Some(path) = next.lock().unwrap().next() else { break };
                // Programs that loop for long (or forever) are compared up
                // to the limit.
                let counter = match lockstep::lockstep_at_most(path, &[], JIT, 1, 2000) {
                    Some(_) => &finished,
                    None => &unfinished,
                };
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    let (finished, unfinished) = (finished.into_inner(), unfinished.into_inner());
    eprintln!("torture lockstep: {finished} programs identical to the end, {unfinished} identical for 2000 stops");
    assert!(finished > 1000 || !common::under_ci(), "too few torture programs: {finished}");
}
