//! The `hbft` command line.

mod disasm;
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
    }
}

