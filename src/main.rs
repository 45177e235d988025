//! The `hbft` command line.

mod bench;
mod demo;
mod disasm;
mod dump;
mod record;
mod replay;
mod replicate;
mod run;
mod system;

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
    /// Run a program as the primary of a replicated pair: live, forwarding
    /// every environment result and epoch end to the backup.
    Primary(replicate::PrimaryArgs),
    /// Run a program as the backup of a replicated pair: follow the primary
    /// one epoch behind and take over when it fails.
    Backup(replicate::BackupArgs),
    /// The replicated run with a killed primary: an embedded guest run
    /// unreplicated, then as primary and backup processes with the primary
    /// SIGKILLed at a random instant; the outputs are compared.
    Demo(demo::DemoArgs),
    /// System mode: boot a PA-RISC guest kernel on the virtual board
    /// (console, interval timer, block disk, power-off register).
    System(system::SystemArgs),
    /// Benchmarks and experiments (`hbft bench engines`: native, qemu-hppa
    /// and the hbft engines side by side).
    Bench(bench::BenchArgs),
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
        Command::Primary(args) => replicate::primary(args),
        Command::Backup(args) => replicate::backup(args),
        Command::Demo(args) => demo::demo(args),
        Command::Bench(args) => bench::bench(args),
        Command::System(args) => system::system(args),
    }
}

