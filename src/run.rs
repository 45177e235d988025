//! `hbft run`: a Linux/parisc program in user mode.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;

use hbft_runtime::user_mode::{EngineKind, Termination, UserMode, UserModeConfig};

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RunArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Interp)]
    engine: Engine,
    /// Print retired instructions, host time and guest MIPS to stderr at the end.
    #[arg(long)]
    stats: bool,
    /// Print every system call the guest makes, like strace, to stderr.
    #[arg(long)]
    strace: bool,
    /// Sysroot for dynamically linked guests (their ld.so and libraries);
    /// default /usr/hppa-linux-gnu when it exists.
    #[arg(short = 'L', value_name = "SYSROOT")]
    sysroot: Option<PathBuf>,
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
}

impl From<Engine> for EngineKind {
    fn from(engine: Engine) -> EngineKind {
        match engine {
            Engine::Interp => EngineKind::Interp,
        }
    }
}

/// The sysroot qemu-hppa users expect when none is given.
const DEFAULT_SYSROOT: &str = "/usr/hppa-linux-gnu";

pub fn run_guest(args: RunArgs) -> anyhow::Result<ExitCode> {
        let sysroot = args.sysroot.or_else(|| {
        let default = PathBuf::from(DEFAULT_SYSROOT);
        default.is_dir().then_some(default)
    });
    let mut argv = vec![args.prog.as_os_str().as_bytes().to_vec()];
    argv.extend(args.args.iter().map(|a| a.as_bytes().to_vec()));
    let envp = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    let config = UserModeConfig { argv, envp, sysroot, strace: args.strace, engine: args.engine.into() };
    let mut vm = UserMode::load(&args.prog, &config)?;
    let report = vm.run();
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
    if args.stats {
        eprintln!(
            "hbft: {} instructions retired in {:.3} s ({:.1} guest MIPS)",
            report.retired,
            report.host_time.as_secs_f64(),
            report.mips()
        );
    }
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}

/// Branch targets in one-line reports, without symbol lookup.
struct PlainAddresses;

impl hbft_frontend::AddressPrinter for PlainAddresses {
    fn print_address(&self, addr: u32, out: &mut String) {
        out.push_str(&format!("{addr:#x}"));
    }
}
