//! `hbft system`: boot a guest kernel on the virtual board (docs/board.md).

use std::fs::OpenOptions;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hbft_runtime::system::board::{Board, Disk};
use hbft_runtime::system::{EpochSource, SystemMode, DEFAULT_SYSTEM_EPOCH};

use crate::run::Engine;

#[derive(clap::Args)]
pub struct SystemArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// Disk image backing the board's block disk (opened read-write).
    #[arg(long, value_name = "IMG")]
    disk: Option<PathBuf>,
    /// Bytes the console's receive register delivers, in order.
    #[arg(long, value_name = "FILE")]
    console_input: Option<PathBuf>,
    /// Epoch length in retired instructions; device and timer interrupts
    /// reach the kernel only at epoch ends.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    epoch: Option<u64>,
    /// What ends epochs: the recovery-counter trap model (one instruction
    /// at a time) or the engine's injected counters.
    #[arg(long, value_enum, default_value_t = Source::Bt)]
    epoch_source: Source,
    /// Print retired instructions, epochs, interruptions, emulated
    /// instructions, host time and a hash of the epoch-end state hashes.
    #[arg(long)]
    stats: bool,
    /// The kernel (a PA-RISC ELF executable linked for the board).
    kernel: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Source {
    RecoveryCounter,
    Bt,
}

pub fn system(args: SystemArgs) -> anyhow::Result<ExitCode> {
    let kernel = std::fs::read(&args.kernel).with_context(|| format!("cannot read {}", args.kernel.display()))?;
    let disk = match &args.disk {
        Some(path) => {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open disk image {}", path.display()))?;
            Some(Disk::new(file).with_context(|| format!("disk image {}", path.display()))?)
        }
        None => None,
    };
    let input = match &args.console_input {
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        None => Vec::new(),
    };
    let board = Board::new(Box::new(std::io::stdout()), input, disk);
    let source = match args.epoch_source {
        Source::RecoveryCounter => EpochSource::RecoveryCounter,
        Source::Bt => EpochSource::Bt,
    };
    let epoch = args.epoch.unwrap_or(DEFAULT_SYSTEM_EPOCH);
    let machine = SystemMode::boot(&kernel, board, args.engine.into(), epoch, source)
        .with_context(|| args.kernel.display().to_string())?;
    let report = machine.run()?;
    if args.stats {
        let secs = report.host_time.as_secs_f64();
        let digest = report.epoch_hashes.iter().fold(0u64, |h, &e| h.rotate_left(5) ^ e);
        eprintln!(
            "hbft system: {} instructions in {} epochs, {} interruptions ({} external), {} emulated privileged instructions, {} device accesses, {:.3} s host ({:.1} MIPS), epoch-hash digest {:016x}",
            report.retired,
            report.epochs,
            report.interruptions,
            report.external,
            report.emulated,
            report.device_accesses,
            secs,
            report.retired as f64 / secs.max(1e-9) / 1e6,
            digest
        );
    }
    Ok(ExitCode::from(report.power_off as u8))
}
