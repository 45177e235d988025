//! The `hbft` command line.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("hbft: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Disasm { prog } => disasm(&prog),
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
