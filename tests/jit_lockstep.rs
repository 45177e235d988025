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
