//! The `hbft` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use std::os::unix::ffi::OsStrExt;

use anyhow::Context;
use hbft_runtime::user_mode::{Termination, UserMode, UserModeConfig};
use clap::{Parser, Subcommand};

/// hbft: hypervisor-based fault tolerance for PA-RISC guests on x86-64.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Disassemble the executable sections of a PA-RISC ELF file, exactly as
    /// `hppa-linux-gnu-objdump -d` prints them.
    Disasm {
        /// The ELF file to disassemble.
        prog: PathBuf,
    },
    /// Run a PA-RISC Linux program (user mode), passing through its
    /// arguments, environment, standard streams and exit status.
    Run(RunArgs),
}

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
struct RunArgs {
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
enum Engine {
    /// The reference interpreter: exact per-instruction counting.
    Interp,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hbft: {}", one_line(&err));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, skipping causes whose text an
/// outer message already includes.
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Disasm { prog } => disasm(&prog),
        Command::Run(args) => run_guest(args),
    }
}

fn disasm(prog: &PathBuf) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(prog).with_context(|| format!("cannot read {}", prog.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let name = prog.to_string_lossy();
    match hbft_frontend::listing::write_listing(&name, &bytes, &mut out) {
        Ok(()) => {}
        // A closed pipe (`hbft disasm x | head`) is a normal way to stop.
        Err(hbft_frontend::listing::ListingError::Io(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            return Ok(ExitCode::SUCCESS)
        }
        Err(e) => return Err(e).with_context(|| prog.display().to_string()),
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The sysroot qemu-hppa users expect when none is given.
const DEFAULT_SYSROOT: &str = "/usr/hppa-linux-gnu";

fn run_guest(args: RunArgs) -> anyhow::Result<ExitCode> {
    let Engine::Interp = args.engine;
    let sysroot = args.sysroot.or_else(|| {
        let default = PathBuf::from(DEFAULT_SYSROOT);
        default.is_dir().then_some(default)
    });
    let mut argv = vec![args.prog.as_os_str().as_bytes().to_vec()];
    argv.extend(args.args.iter().map(|a| a.as_bytes().to_vec()));
    let envp = std::env::vars_os()
        .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
        .collect();
    let config = UserModeConfig { argv, envp, sysroot, strace: args.strace };
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
