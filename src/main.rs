//! The `hbft` command line.

mod disasm;
mod dump;
mod record;
mod replay;
mod run;

use std::path::PathBuf;
use std::process::ExitCode;

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
    Run(run::RunArgs),
    /// Run a program live and write its environment log (every system call
    /// result, epoch ends, interrupts, state hashes) for `hbft replay`.
    Record(record::RecordArgs),
    /// Replay a log written by `hbft record`: same output, same per-epoch
    /// state hashes, no host I/O but the guest's output.
    Replay(replay::ReplayArgs),
    /// List a record/replay log: header, then one line per entry with its
    /// file offset and epoch.
    Dump(dump::DumpArgs),
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
        Command::Disasm { prog } => disasm::disasm(&prog),
        Command::Run(args) => run::run_guest(args),
        Command::Record(args) => record::record(args),
        Command::Replay(args) => replay::replay(args),
        Command::Dump(args) => dump::dump(args),
    }
}

