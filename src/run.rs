//! `hbft run`: a Linux/parisc program in user mode.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use hbft_translator::jit::JitConfig;
use hbft_runtime::user_mode::{EngineKind, RunReport, Termination, UserMode, UserModeConfig};

/// The options of every command that runs a Linux guest program (`run`,
/// `record`, `replay`, `primary`, `backup`).
#[derive(clap::Args)]
pub struct GuestOptions {
    /// Execution engine (any engine replays or follows a run made under any other).
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    pub engine: Engine,
    /// Print retired instructions, host time and guest MIPS to stderr at
    /// the end (and the journal's or the replication's figures).
    #[arg(long)]
    pub stats: bool,
    /// Print every system call the guest makes, like strace, to stderr.
    #[arg(long)]
    pub strace: bool,
    /// Sysroot for dynamically linked guests (their ld.so and libraries);
    /// default /usr/hppa-linux-gnu when it exists.
    #[arg(short = 'L', value_name = "SYSROOT")]
    pub sysroot: Option<PathBuf>,
    /// Where the JIT translates hot code: `background` on a compile thread
    /// while the guest goes on interpreting it (the guest never waits, but
    /// the compile work wants a second core), `inline` on the guest's own
    /// thread (better for a primary and backup sharing one small host).
    #[arg(long, value_enum, default_value_t = Translate::Background)]
    pub translate: Translate,
}

impl GuestOptions {
    /// The engine these options choose, with the JIT's instruction counter
    /// `icount`.
    pub fn engine_kind(&self, icount: Switch) -> EngineKind {
        match engine_kind(self.engine, icount) {
            EngineKind::Jit(config) => {
                EngineKind::Jit(JitConfig { background: self.translate == Translate::Background, ..config })
            }
            interp => interp,
        }
    }

    /// The configuration of a guest with `argv` and `envp`, epochs of
    /// `epoch` instructions and the engine `engine` chose.
    pub fn config(&self, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>, engine: EngineKind, epoch: Option<u64>) -> UserModeConfig {
        UserModeConfig { argv, envp, sysroot: sysroot_or_default(self.sysroot.clone()), strace: self.strace, engine, epoch }
    }
}

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    #[command(flatten)]
    guest: GuestOptions,
    /// The JIT's injected instruction counter; `off` measures its cost
    /// (budgets become approximate, --stats counts only interpreted
    /// instructions, and host SIGINT/SIGTERM/SIGHUP end hbft instead of
    /// reaching the guest).
    #[arg(long, value_enum, default_value_t = Switch::On)]
    icount: Switch,
    /// Epoch length in retired instructions: asynchronous events (host
    /// SIGINT/SIGTERM/SIGHUP, timer expiry) reach the guest only at epoch ends.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    epoch: Option<u64>,
    /// The guest program.
    prog: PathBuf,
    /// Arguments passed to the guest.
    #[arg(allow_hyphen_values = true)]
    args: Vec<std::ffi::OsString>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Engine {
    /// The reference interpreter: exact per-instruction counting.
    Interp,
    /// The Cranelift JIT with injected instruction counters.
    Jit,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Translate {
    Background,
    Inline,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Switch {
    On,
    Off,
}

impl From<Engine> for EngineKind {
    fn from(engine: Engine) -> EngineKind {
        engine_kind(engine, Switch::On)
    }
}

fn engine_kind(engine: Engine, icount: Switch) -> EngineKind {
    match engine {
        Engine::Interp => EngineKind::Interp,
        Engine::Jit => EngineKind::Jit(JitConfig { icount: icount == Switch::On, ..JitConfig::default() }),
    }
}

/// The sysroot qemu-hppa users expect when none is given.
const DEFAULT_SYSROOT: &str = "/usr/hppa-linux-gnu";

/// The given sysroot, or the default one when it exists.
pub fn sysroot_or_default(sysroot: Option<PathBuf>) -> Option<PathBuf> {
    sysroot.or_else(|| {
        let default = PathBuf::from(DEFAULT_SYSROOT);
        default.is_dir().then_some(default)
    })
}

/// The guest's argv (the program as named, then its arguments) and the
/// host's environment strings.
pub fn guest_argv_envp(prog: &std::path::Path, args: &[std::ffi::OsString]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut argv = vec![prog.as_os_str().as_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let envp = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    (argv, envp)
}

pub fn run_guest(args: RunArgs) -> anyhow::Result<ExitCode> {
    let (argv, envp) = guest_argv_envp(&args.prog, &args.args);
    // A plain run hashes no state, so nothing reads the dirty bitmap.
    let engine = match args.guest.engine_kind(args.icount) {
        EngineKind::Jit(config) => EngineKind::Jit(JitConfig { dirty_pages: false, ..config }),
        interp => interp,
    };
    let config = args.guest.config(argv, envp, engine, args.epoch);
    let mut vm = UserMode::load(&args.prog, &config)?;
    let report = vm.run()?;
    report_end(&report, args.guest.stats);
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}

/// Reports a killed guest on stderr and, with `stats`, the count and speed.
pub fn report_end(report: &RunReport, stats: bool) {
    if let Termination::Killed(kill) = &report.termination {
        let text = kill.word.map_or_else(
            || "unreadable".to_string(),
            |word| {
                let mut text = String::new();
                hbft_frontend::disassemble_word(word, kill.pc, &PlainAddresses, &mut text);
                format!("{word:08x} {text}")
            },
        );
        eprintln!(
            "hbft: guest killed by signal {} at pc {:#010x} ({text}): {}",
            kill.signal, kill.pc, kill.reason
        );
    }
    if stats {
        eprintln!(
            "hbft: {} instructions retired in {:.3} s ({:.1} guest MIPS)",
            report.retired,
            report.host_time.as_secs_f64(),
            report.mips()
        );
        let lateness = &report.timer_lateness;
        if let Some(mean) = lateness.mean() {
            eprintln!(
                "hbft: timer interrupts: {} delivered, {:.1} us late on average, {:.1} us at most",
                lateness.deliveries,
                mean.as_secs_f64() * 1e6,
                lateness.max.as_secs_f64() * 1e6
            );
        }
    }
}

/// Branch targets in one-line reports, without symbol lookup.
struct PlainAddresses;

impl hbft_frontend::AddressPrinter for PlainAddresses {
    fn print_address(&self, addr: u32, out: &mut String) {
        out.push_str(&format!("{addr:#x}"));
    }
}
