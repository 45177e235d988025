//! `hbft primary` and `hbft backup`: one guest run by two hbft processes,
//! the backup following the primary epoch by epoch and taking over when it
//! fails (replication/ has the protocol).

use std::net::{TcpListener, TcpStream, ToSocketAddrs};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use hbft_replication::backup::{BackupSource, LiveOutput};
use hbft_replication::connection::{Connection, DEFAULT_TIMEOUT};
use hbft_replication::devices::{DeviceEnvironment, OutputPort};
use hbft_replication::frame::Message;
use hbft_replication::handshake::{self, GuestIdentity, SyncRule};
use hbft_replication::output::OutputDevice;
use hbft_replication::primary::PrimarySink;
use hbft_replication::transport::tcp_link;
use hbft_runtime::epoch::DEFAULT_EPOCH;
use hbft_runtime::journal::ReplayError;
use hbft_runtime::linux::{Environment, HostEnvironment};
use hbft_runtime::user_mode::{Journaling, RunError, UserMode, UserModeConfig};

use crate::run::{guest_argv_envp, report_end, GuestOptions, Switch};

/// Options both replicas take.
#[derive(clap::Args)]
pub struct ReplicaOptions {
    /// The shared output device: the guest's stdout and stderr, written by
    /// whichever replica is live (default: each replica's own streams).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// File holding the pre-shared key that authenticates every frame (at least 16 bytes).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// Epoch length in retired instructions (must match the peer's).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_EPOCH, value_parser = clap::value_parser!(u64).range(1..))]
    epoch: u64,
    /// Failure-detection timeout: the peer is presumed failed after this
    /// long without any frame (heartbeats go out every quarter of it).
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_TIMEOUT.as_millis() as u64, value_parser = clap::value_parser!(u64).range(10..))]
    timeout: u64,
    #[command(flatten)]
    guest: GuestOptions,
    /// The guest program.
    prog: PathBuf,
    /// Arguments passed to the guest.
    #[arg(allow_hyphen_values = true)]
    args: Vec<std::ffi::OsString>,
}

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct PrimaryArgs {
    /// Address of the backup (`hbft backup --listen`).
    #[arg(long, value_name = "ADDR")]
    backup: String,
    /// When to wait for the backup: at every epoch end (the paper's rule)
    /// or only before output (VMware FT's output rule).
    #[arg(long, value_enum, default_value_t = Sync::Epoch)]
    sync: Sync,
    #[command(flatten)]
    options: ReplicaOptions,
}

#[derive(clap::Args)]
#[command(trailing_var_arg = true)]
pub struct BackupArgs {
    /// Address to accept the primary on, e.g. 127.0.0.1:7000 (port 0: any free port).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    #[command(flatten)]
    options: ReplicaOptions,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Sync {
    Epoch,
    Output,
}

/// How long the primary keeps trying to reach a backup that is starting.
const CONNECT_PATIENCE: Duration = Duration::from_secs(10);

pub(crate) fn read_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    let key = std::fs::read(path).with_context(|| format!("cannot read key file {}", path.display()))?;
    if key.len() < 16 {
        bail!("key file {} holds {} bytes; at least 16 are needed", path.display(), key.len());
    }
    Ok(key)
}

fn identity(options: &ReplicaOptions) -> anyhow::Result<GuestIdentity> {
    let bytes = std::fs::read(&options.prog).with_context(|| format!("cannot read {}", options.prog.display()))?;
    let args = options.args.iter().map(|a| a.as_bytes().to_vec()).collect();
    Ok(GuestIdentity::new(&bytes, args, options.epoch))
}

fn config(options: &ReplicaOptions, argv: Vec<Vec<u8>>, envp: Vec<Vec<u8>>) -> UserModeConfig {
    options.guest.config(argv, envp, options.guest.engine_kind(Switch::On), Some(options.epoch))
}

pub(crate) fn connect(addr: &str) -> anyhow::Result<TcpStream> {
    let deadline = Instant::now() + CONNECT_PATIENCE;
    let target = addr
        .to_socket_addrs()
        .with_context(|| format!("bad backup address {addr}"))?
        .next()
        .with_context(|| format!("backup address {addr} resolves to nothing"))?;
    loop {
        match TcpStream::connect_timeout(&target, CONNECT_PATIENCE) {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e).with_context(|| format!("cannot reach the backup at {addr}")),
        }
    }
}

pub fn primary(args: PrimaryArgs) -> anyhow::Result<ExitCode> {
    let options = &args.options;
    let key = read_key(&options.key_file)?;
    let identity = identity(options)?;
    let timeout = Duration::from_millis(options.timeout);
    let sync = match args.sync {
        Sync::Epoch => SyncRule::Epoch,
        Sync::Output => SyncRule::Output,
    };
    let (argv, envp) = guest_argv_envp(&options.prog, &options.args);
    let mut conn = Connection::new(tcp_link(connect(&args.backup)?)?, &key, timeout);
    handshake::offer(&mut conn, identity, argv[0].clone(), envp.clone(), sync)?;
    let mut sink = PrimarySink::start(conn, sync, timeout);
    let forwarded = sink.stats();

    let mut env: Box<dyn Environment> = Box::new(HostEnvironment);
    let mut port = None;
    if let Some(path) = &options.output {
        let mut device = OutputDevice::open(path)?;
        device.take_fence(true)?;
        let output = OutputPort::new(device, 0);
        env = Box::new(DeviceEnvironment::new(env, output.clone()));
        sink.attach_output(output.clone());
        port = Some(output);
    }
    let journaling = Journaling::Live { env, sink: Some(Box::new(sink)) };
    let mut vm = UserMode::load_with(&options.prog, &config(options, argv, envp), journaling)?;
    let report = vm.run()?;
    if let Some(port) = port {
        port.finish()?;
    }
    report_end(&report, options.guest.stats);
    if options.guest.stats {
        eprintln!("{}", forwarded.get().summary(report.epochs, report.host_time));
    }
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let options = &args.options;
    let key = read_key(&options.key_file)?;
    let ours = identity(options)?;
    let timeout = Duration::from_millis(options.timeout);
    let listener = TcpListener::bind(&args.listen).with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!("hbft backup: listening on {}", listener.local_addr()?);
    let (stream, peer) = listener.accept().context("accepting the primary")?;
    let mut conn = Connection::new(tcp_link(stream)?, &key, timeout);
    let hello = handshake::accept(&mut conn, &ours)?;
    eprintln!("hbft backup: following the primary at {peer}");

    let mut argv = vec![hello.argv0];
    argv.extend(ours.args);
    let output = LiveOutput::new(options.output.clone());
    let live_port = output.port.clone();
    let replay_output = output.replay_output();
    let (mut source, sender, failover) = BackupSource::start(conn, options.epoch, output, timeout);
    source.take_over_mid_epoch();
    let journaling = Journaling::Replay { source: Box::new(source), output: replay_output };
    let mut vm = UserMode::load_with(&options.prog, &config(options, argv, hello.envp), journaling)?;
    let report = match vm.run() {
        Ok(report) => report,
        Err(RunError::Replay(ReplayError::State { epoch, what })) => {
            let _ = sender.send(&Message::Diverged { epoch, detail: what.clone() });
            bail!("DIVERGENCE in epoch {epoch}: {what}; replication stopped");
        }
        Err(error) => return Err(error.into()),
    };
    if let Some(port) = live_port.borrow().as_ref() {
        port.finish()?;
    }
    match &*failover.borrow() {
        Some(_) => eprintln!("hbft backup: finished the guest as primary (exit status {})", report.termination.exit_status()),
        None => eprintln!("hbft backup: followed the primary to the end: {} epochs, state hashes identical", report.epochs),
    }
    report_end(&report, options.guest.stats);
    Ok(ExitCode::from(report.termination.exit_status() as u8))
}
