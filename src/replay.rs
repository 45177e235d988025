//! `hbft replay`: retraces a recorded run from its log, without host I/O
//! except the guest's output, checking every epoch's state hash.

use std::path::PathBuf;
use std::process::ExitCode;

use std::os::unix::ffi::OsStrExt;

use anyhow::{bail, Context};
use hbft_replication::log::{binary_sha256, LogReader};
use hbft_runtime::journal::ReplayOutput;
use hbft_runtime::user_mode::{Journaling, UserMode};

use crate::record::journal_stats;
use crate::run::{report_end, GuestOptions, Switch};

#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The log written by `hbft record`.
    #[arg(long, value_name = "FILE")]
    log: PathBuf,
    #[command(flatten)]
    guest: GuestOptions,
    /// The program to replay, if not at the path the log names.
    #[arg(long, value_name = "PROG")]
    prog: Option<PathBuf>,
}

pub fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let (header, reader) = LogReader::open(&args.log)?;
    if crate::system::board_of_log(&header.envp).is_some() {
        bail!("{} is a system-mode log; replay it with hbft system --replay", args.log.display());
    }
    let prog = args.prog.unwrap_or_else(|| PathBuf::from(std::ffi::OsStr::from_bytes(&header.program)));
    let bytes = std::fs::read(&prog).with_context(|| format!("cannot read {}", prog.display()))?;
    let found = binary_sha256(&bytes);
    if found != header.binary_sha256 {
        bail!(
            "{} is not the recorded binary (sha256 {}, log {} has {})",
            prog.display(),
            hex(&found),
            args.log.display(),
            hex(&header.binary_sha256)
        );
    }
    let config = args.guest.config(header.argv, header.envp, args.guest.engine_kind(Switch::On), Some(header.epoch_len));
    let journaling = Journaling::Replay { source: Box::new(reader), output: ReplayOutput::Perform };
    let mut vm = UserMode::load_with(&prog, &config, journaling)?;
    let report = vm.run()?;
    report_end(&report, args.guest.stats);
    if args.guest.stats {
        journal_stats(&report, &args.log);
    }
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
