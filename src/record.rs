//! `hbft record`: a live run whose environment results, epoch ends and
//! state hashes are written to a log that `hbft replay` retraces.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use hbft_replication::log::{binary_sha256, LogHeader, LogWriter};
use hbft_runtime::linux::HostEnvironment;
use hbft_runtime::user_mode::{EngineKind, Journaling, RunReport, UserMode};

use crate::run::{guest_argv_envp, report_end, GuestOptions, Switch};

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct RecordArgs {
    /// The log file to write.
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    /// Epoch length in retired instructions.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    epoch: Option<u64>,
    #[command(flatten)]
    guest: GuestOptions,
    /// The guest program.
    prog: PathBuf,
    /// Arguments passed to the guest.
    #[arg(allow_hyphen_values = true)]
    args: Vec<std::ffi::OsString>,
}

pub fn record(args: RecordArgs) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(&args.prog).with_context(|| format!("cannot read {}", args.prog.display()))?;
    let (argv, envp) = guest_argv_envp(&args.prog, &args.args);
    let config = args.guest.config(argv.clone(), envp.clone(), args.guest.engine_kind(Switch::On), args.epoch);
    let header = LogHeader {
        program: argv[0].clone(),
        binary_sha256: binary_sha256(&bytes),
        argv,
        envp,
        epoch_len: config.epoch.unwrap_or(hbft_runtime::epoch::DEFAULT_EPOCH),
        engine: match config.engine {
            EngineKind::Interp => "interp",
            EngineKind::Jit { .. } => "jit",
        }
        .into(),
    };
    let writer = LogWriter::create(&args.log, &header)?;
    let journaling = Journaling::Live { env: Box::new(HostEnvironment), sink: Some(Box::new(writer)) };
    let mut vm = UserMode::load_with(&args.prog, &config, journaling)?;
    let report = vm.run()?;
    report_end(&report, args.guest.stats);
    if args.guest.stats {
        journal_stats(&report, &args.log);
    }
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}

/// Epochs, events and log volume of a recorded or replayed run.
pub fn journal_stats(report: &RunReport, log: &std::path::Path) {
    let bytes = std::fs::metadata(log).map_or(0, |m| m.len());
    let secs = report.host_time.as_secs_f64().max(1e-9);
    eprintln!(
        "hbft: {} epochs, {} environment events, log {} bytes ({:.1} KB/s)",
        report.epochs,
        report.events,
        bytes,
        bytes as f64 / secs / 1e3
    );
}
