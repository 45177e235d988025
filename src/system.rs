//! `hbft system`: boot a guest kernel on the virtual board (docs/board.md),
//! alone, recorded (`--record LOG`), replayed (`--replay LOG`), or
//! replicated: `--backup ADDR` runs the primary of a pair (like `hbft
//! primary --backup ADDR`), `--listen ADDR` the backup (like `hbft backup
//! --listen ADDR`). The board's journal (runtime/src/system/journal.rs)
//! carries the environment over the same log and protocol as user mode.
//!
//! A replicated board's console output and disk image are shared devices
//! with positional writes and a fence: `--output FILE` is the console, the
//! `--disk` image is the disk, and the replica that is live holds both
//! fences (`FILE.fence`, `IMG.fence`).

use std::cell::RefCell;
use std::fs::OpenOptions;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Duration;

use anyhow::{bail, Context};
use hbft_replication::backup::{BackupSource, LiveOutput};
use hbft_replication::connection::{Connection, DEFAULT_TIMEOUT};
use hbft_replication::devices::{stop_fenced, OutputPort};
use hbft_replication::frame::Message;
use hbft_replication::handshake::{self, GuestIdentity, SyncRule};
use hbft_replication::log::{binary_sha256, LogHeader, LogReader, LogWriter};
use hbft_replication::output::{DeviceError, OutputDevice};
use hbft_replication::primary::PrimarySink;
use hbft_replication::transport::tcp_link;
use hbft_runtime::journal::{OutputShadow, ReplayError, ReplayOutput};
use hbft_runtime::system::board::{Board, Disk, DiskImage, SECTOR_BYTES};
use hbft_runtime::system::journal::{GoLive, Journal, LiveDevices};
use hbft_runtime::system::{EpochSource, SystemError, SystemMode, SystemReport, DEFAULT_SYSTEM_EPOCH};

use crate::replicate::{connect, read_key, Sync};
use crate::run::Engine;

#[derive(clap::Args)]
pub struct SystemArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = Engine::Jit)]
    engine: Engine,
    /// Disk image backing the board's block disk (opened read-write; a
    /// replicated pair shares it).
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
    /// Write the board's environment log (device reads, transfer
    /// completions, epoch ends) for `--replay`.
    #[arg(long, value_name = "LOG", group = "role")]
    record: Option<PathBuf>,
    /// Retrace a log written by `--record` (console output is performed,
    /// the disk image is not touched; `--disk` and `--epoch` come from the log).
    #[arg(long, value_name = "LOG", group = "role")]
    replay: Option<PathBuf>,
    /// Run as the primary of a replicated pair whose backup listens at ADDR.
    #[arg(long, value_name = "ADDR", group = "role", requires = "key_file")]
    backup: Option<String>,
    /// Run as the backup of a replicated pair: accept the primary on ADDR
    /// (port 0: any free port) and take over if it fails.
    #[arg(long, value_name = "ADDR", group = "role", requires = "key_file")]
    listen: Option<String>,
    /// Replicated: the shared console device (default: each replica's stdout).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Replicated: the pre-shared key that authenticates every frame.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Replicated: failure-detection timeout in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIMEOUT.as_millis() as u64, value_parser = clap::value_parser!(u64).range(10..))]
    timeout: u64,
    /// Replicated primary: wait for the backup at every epoch end, or only
    /// before console output.
    #[arg(long, value_enum, default_value_t = Sync::Epoch)]
    sync: Sync,
    /// The kernel (a PA-RISC ELF executable linked for the board).
    kernel: PathBuf,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Source {
    RecoveryCounter,
    Bt,
}

/// How the board is configured, as logs and handshakes record it (an
/// environment string no host environment can hold: it has no `=`).
fn board_tag(disk: bool) -> Vec<u8> {
    if disk { b"hbft-board:disk".to_vec() } else { b"hbft-board:nodisk".to_vec() }
}

/// Whether a log's environment strings are a board's; `Some(disk)` if so.
pub fn board_of_log(envp: &[Vec<u8>]) -> Option<bool> {
    match envp {
        [tag] if *tag == board_tag(true) => Some(true),
        [tag] if *tag == board_tag(false) => Some(false),
        _ => None,
    }
}

/// The console on the shared output device.
struct SharedConsole(OutputPort);

impl Write for SharedConsole {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Ok(n) => Ok(n),
            Err(error @ DeviceError::Fenced { .. }) => stop_fenced(error),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A replaying backup's console: the output goes to the shadow of the
/// output device (see [`LiveOutput::replay_output`]).
struct ShadowConsole(Rc<RefCell<OutputShadow>>);

impl Write for ShadowConsole {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().push(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The disk image as a fenced shared device.
struct SharedDisk(OutputDevice);

impl DiskImage for SharedDisk {
    fn sectors(&self) -> std::io::Result<u32> {
        let len = self.0.size().map_err(std::io::Error::other)?;
        Ok(u32::try_from(len / u64::from(SECTOR_BYTES)).unwrap_or(u32::MAX))
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        self.0.read_at(buf, offset).map_err(std::io::Error::other)
    }
    fn write_at(&mut self, data: &[u8], offset: u64) -> std::io::Result<()> {
        match self.0.write_at(offset, data) {
            Ok(_) => Ok(()),
            Err(error @ DeviceError::Fenced { .. }) => stop_fenced(error),
            Err(error) => Err(std::io::Error::other(error)),
        }
    }
}

/// Opens the disk image: a plain file, or (replicated) the shared device
/// with its fence taken.
fn open_disk(path: &Path, shared: bool) -> anyhow::Result<Box<dyn DiskImage>> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open disk image {}", path.display()))?;
    if !shared {
        return Ok(Box::new(file));
    }
    let mut device = OutputDevice::open(path)?;
    device.take_fence(false)?;
    Ok(Box::new(SharedDisk(device)))
}

/// The console output device of a live replica, fence taken (`fresh`:
/// emptied, for the first primary).
fn open_output(path: &Path) -> anyhow::Result<OutputPort> {
    let mut device = OutputDevice::open(path)?;
    device.take_fence(true)?;
    Ok(OutputPort::new(device, 0))
}

pub fn system(args: SystemArgs) -> anyhow::Result<ExitCode> {
    if args.output.is_some() && args.backup.is_none() && args.listen.is_none() {
        bail!("--output is the shared console of a replicated pair; use it with --backup or --listen");
    }
    let kernel = std::fs::read(&args.kernel).with_context(|| format!("cannot read {}", args.kernel.display()))?;
    if let Some(log) = &args.replay {
        return replay(&args, &kernel, log);
    }
    if let Some(addr) = &args.listen {
        return backup(&args, &kernel, addr);
    }
    let epoch = args.epoch.unwrap_or(DEFAULT_SYSTEM_EPOCH);
    let replicated = args.backup.is_some();
    let disk = match &args.disk {
        Some(path) => Some(Disk::new(Some(open_disk(path, replicated)?))),
        None => None,
    };
    let input = console_input(&args)?;
    let mut port = None;
    let mut forwarded = None;
    let journal = if let Some(log) = &args.record {
        let header = LogHeader {
            program: args.kernel.as_os_str().as_bytes().to_vec(),
            binary_sha256: binary_sha256(&kernel),
            argv: vec![args.kernel.as_os_str().as_bytes().to_vec()],
            envp: vec![board_tag(disk.is_some())],
            epoch_len: epoch,
            engine: engine_name(args.engine).into(),
        };
        Journal::live(Some(Box::new(LogWriter::create(log, &header)?)))
    } else if let Some(addr) = &args.backup {
        let key = read_key(args.key_file.as_deref().expect("clap requires --key-file"))?;
        let timeout = Duration::from_millis(args.timeout);
        let sync = match args.sync {
            Sync::Epoch => SyncRule::Epoch,
            Sync::Output => SyncRule::Output,
        };
        // The fences (the disk's was taken above) are taken before the
        // backup can hear of this primary, so a takeover always follows them.
        port = args.output.as_deref().map(open_output).transpose()?;
        let mut conn = Connection::new(tcp_link(connect(addr)?)?, &key, timeout);
        let identity = GuestIdentity::new(&kernel, vec![board_tag(disk.is_some())], epoch);
        handshake::offer(&mut conn, identity, args.kernel.as_os_str().as_bytes().to_vec(), Vec::new(), sync)?;
        let mut sink = PrimarySink::start(conn, sync, timeout);
        if let Some(output) = &port {
            sink.attach_output(output.clone());
        }
        forwarded = Some(sink.stats());
        Journal::live(Some(Box::new(sink)))
    } else {
        Journal::live(None)
    };
    let console: Box<dyn Write> = match &port {
        Some(port) => Box::new(SharedConsole(port.clone())),
        None => Box::new(std::io::stdout()),
    };
    let board = Board::new(console, input, disk).with_journal(journal);
    let report = boot_and_run(&args, &kernel, board, epoch)?;
    if let Some(port) = port {
        port.finish()?;
    }
    if let (Some(forwarded), true) = (forwarded, args.stats) {
        eprintln!("{}", forwarded.get().summary(report.epochs, report.host_time));
    }
    Ok(finish(&args, &report))
}

fn console_input(args: &SystemArgs) -> anyhow::Result<Vec<u8>> {
    match &args.console_input {
        Some(path) => std::fs::read(path).with_context(|| format!("cannot read {}", path.display())),
        None => Ok(Vec::new()),
    }
}

fn engine_name(engine: Engine) -> &'static str {
    match engine {
        Engine::Interp => "interp",
        Engine::Jit => "jit",
    }
}

fn boot_and_run(args: &SystemArgs, kernel: &[u8], board: Board, epoch: u64) -> Result<SystemReport, anyhow::Error> {
    let source = match args.epoch_source {
        Source::RecoveryCounter => EpochSource::RecoveryCounter,
        Source::Bt => EpochSource::Bt,
    };
    let machine = SystemMode::boot(kernel, board, args.engine.into(), epoch, source)
        .with_context(|| args.kernel.display().to_string())?;
    Ok(machine.run()?)
}

fn replay(args: &SystemArgs, kernel: &[u8], log: &Path) -> anyhow::Result<ExitCode> {
    let (header, reader) = LogReader::open(log)?;
    let Some(has_disk) = board_of_log(&header.envp) else {
        bail!("{} is a user-mode log; replay it with hbft replay", log.display());
    };
    if binary_sha256(kernel) != header.binary_sha256 {
        bail!("{} is not the recorded kernel (log {})", args.kernel.display(), log.display());
    }
    let go_live: GoLive = Box::new(|| Err("the log ends before the kernel powered the board off".into()));
    let journal = Journal::replay(Box::new(reader), go_live);
    let disk = has_disk.then(|| Disk::new(None));
    let board = Board::new(Box::new(std::io::stdout()), Vec::new(), disk).with_journal(journal);
    let report = boot_and_run(args, kernel, board, header.epoch_len)?;
    Ok(finish(args, &report))
}

fn backup(args: &SystemArgs, kernel: &[u8], addr: &str) -> anyhow::Result<ExitCode> {
    let key = read_key(args.key_file.as_deref().expect("clap requires --key-file"))?;
    let timeout = Duration::from_millis(args.timeout);
    let epoch = args.epoch.unwrap_or(DEFAULT_SYSTEM_EPOCH);
    if let Some(path) = &args.disk {
        // Fail now rather than at takeover if the image is unusable.
        std::fs::File::open(path).with_context(|| format!("cannot open disk image {}", path.display()))?;
    }
    let input = console_input(args)?;
    let listener = TcpListener::bind(addr).with_context(|| format!("cannot listen on {addr}"))?;
    eprintln!("hbft backup: listening on {}", listener.local_addr()?);
    let (stream, peer) = listener.accept().context("accepting the primary")?;
    let mut conn = Connection::new(tcp_link(stream)?, &key, timeout);
    let ours = GuestIdentity::new(kernel, vec![board_tag(args.disk.is_some())], epoch);
    handshake::accept(&mut conn, &ours)?;
    eprintln!("hbft backup: following the primary at {peer}");

    let output = LiveOutput::new(args.output.clone());
    let live_port = output.port.clone();
    // The replayed console output is kept until the primary has performed
    // it; a backup that goes live performs what it has not.
    let replay_console: Box<dyn Write> = match output.replay_output() {
        ReplayOutput::Capture(shadow) => Box::new(ShadowConsole(shadow)),
        _ => Box::new(std::io::sink()),
    };
    let (source, sender, failover) = BackupSource::start(conn, epoch, output, timeout);
    let disk_path = args.disk.clone();
    let port_at_go_live = live_port.clone();
    let go_live: GoLive = Box::new(move || {
        // The source has taken the console's fence and positioned it.
        let console: Box<dyn Write> = match port_at_go_live.borrow().clone() {
            Some(port) => Box::new(SharedConsole(port)),
            None => Box::new(std::io::stdout()),
        };
        let disk = match &disk_path {
            Some(path) => Some(open_disk(path, true).map_err(|e| format!("{e:#}"))?),
            None => None,
        };
        Ok(LiveDevices { console, disk })
    });
    let disk = args.disk.as_ref().map(|_| Disk::new(None));
    let board = Board::new(replay_console, input, disk).with_journal(Journal::replay(Box::new(source), go_live));
    let report = match boot_and_run(args, kernel, board, epoch) {
        Ok(report) => report,
        Err(error) => {
            if let Some(SystemError::Journal(ReplayError::State { epoch, what })) = error.downcast_ref() {
                let _ = sender.send(&Message::Diverged { epoch: *epoch, detail: what.clone() });
                bail!("DIVERGENCE in epoch {epoch}: {what}; replication stopped");
            }
            return Err(error);
        }
    };
    if let Some(port) = live_port.borrow().as_ref() {
        port.finish()?;
    }
    match &*failover.borrow() {
        Some(_) => eprintln!(
            "hbft backup: finished the kernel as primary (power-off value {}; {} uncertain disk transfer(s) reported to the guest)",
            report.power_off, report.uncertain
        ),
        None => eprintln!("hbft backup: followed the primary to the end: {} epochs, state hashes identical", report.epochs),
    }
    Ok(finish(args, &report))
}

fn finish(args: &SystemArgs, report: &SystemReport) -> ExitCode {
    if args.stats {
        let secs = report.host_time.as_secs_f64();
        let digest = report.epoch_hashes.iter().fold(0u64, |h, &e| h.rotate_left(5) ^ e);
        eprintln!(
            "hbft system: {} instructions in {} epochs, {} interruptions ({} external), {} emulated privileged instructions, {} device accesses, {} environment events, {:.3} s host ({:.1} MIPS), epoch-hash digest {:016x}",
            report.retired,
            report.epochs,
            report.interruptions,
            report.external,
            report.emulated,
            report.device_accesses,
            report.events,
            secs,
            report.retired as f64 / secs.max(1e-9) / 1e6,
            digest
        );
    }
    ExitCode::from(report.power_off as u8)
}
