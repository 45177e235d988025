//! The environment journal: what a live run must hand on so that another
//! run (a replay, or a replication backup) can retrace it exactly.
//!
//! A live run produces, in order, one [`EnvRecord`] per environment
//! interaction (every result of [`Environment`], including the bytes that
//! end up in guest memory), and at the end of every epoch an [`EpochEnd`]:
//! the epoch number, the exact retired count, the interrupts to deliver
//! there and the state hash. It writes them to an [`EpochSink`] (the
//! record/replay log file, or the replication primary's link to its backup).
//!
//! A replaying run reads the same entries from an [`EpochSource`] (the log
//! file, or the backup's link to its primary) through [`ReplayEnvironment`],
//! which answers every environment call from the journal without touching
//! the host — except the guest's output to its standard streams, which
//! `hbft replay` performs and a backup suppresses ([`ReplayOutput`]).
//!
//! A source may report, at an epoch boundary, that no more epochs will come
//! ([`EpochStart::GoLive`], e.g. the primary died): the run then continues
//! live. The replay environment remembers what it needs to recreate the
//! host side of the guest's open files ([`HostFile`]) in the new live
//! environment; the standard streams map directly.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};

use crate::linux::env::{Dir, DirEntry, FileStat, Handle, SysInfo, SysResult, Termios, Timespec, WinSize};
use crate::linux::errno::Errno;
use crate::linux::timers::TimerId;
use crate::linux::Environment;

/// Errors of sinks and sources (I/O, a corrupt log, a dead peer), already
/// phrased for a one-line report.
pub type JournalError = Box<dyn std::error::Error + Send + Sync>;

/// The result of one environment call, tagged with the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum EnvRecord {
    Openat(SysResult<Handle>),
    Close(SysResult<()>),
    Read(SysResult<Vec<u8>>),
    Pread(SysResult<Vec<u8>>),
    Write(SysResult<usize>),
    Pwrite(SysResult<usize>),
    Lseek(SysResult<i64>),
    Fstat(SysResult<FileStat>),
    Fstatat(SysResult<FileStat>),
    Getdents(SysResult<Vec<DirEntry>>),
    Readlinkat(SysResult<Vec<u8>>),
    Faccessat(SysResult<()>),
    Unlinkat(SysResult<()>),
    Mkdirat(SysResult<()>),
    Renameat(SysResult<()>),
    Dup(SysResult<Handle>),
    StatusFlags(SysResult<i32>),
    SetStatusFlags(SysResult<()>),
    Pipe(SysResult<(Handle, Handle)>),
    Tcgets(SysResult<Termios>),
    Winsize(SysResult<WinSize>),
    Poll(SysResult<Vec<i16>>),
    ClockGettime(SysResult<Timespec>),
    /// A sleep happened (its length is the guest's, not an environment fact).
    Sleep,
    RandomBytes(Vec<u8>),
    Getcwd(SysResult<Vec<u8>>),
    Sysinfo(SysResult<SysInfo>),
    /// System mode: the board answered a read of a device register that
    /// reflects the outside world (console input, disk capacity).
    DeviceRead { addr: u32, value: u32 },
    /// System mode: the disk transfer in flight completed at this epoch's
    /// end with `status`; `data` is what a read brought into memory.
    DiskDone { status: u32, data: Vec<u8> },
}

impl EnvRecord {
    /// The environment call this result belongs to.
    pub fn call(&self) -> &'static str {
        match self {
            EnvRecord::Openat(_) => "openat",
            EnvRecord::Close(_) => "close",
            EnvRecord::Read(_) => "read",
            EnvRecord::Pread(_) => "pread",
            EnvRecord::Write(_) => "write",
            EnvRecord::Pwrite(_) => "pwrite",
            EnvRecord::Lseek(_) => "lseek",
            EnvRecord::Fstat(_) => "fstat",
            EnvRecord::Fstatat(_) => "fstatat",
            EnvRecord::Getdents(_) => "getdents",
            EnvRecord::Readlinkat(_) => "readlinkat",
            EnvRecord::Faccessat(_) => "faccessat",
            EnvRecord::Unlinkat(_) => "unlinkat",
            EnvRecord::Mkdirat(_) => "mkdirat",
            EnvRecord::Renameat(_) => "renameat",
            EnvRecord::Dup(_) => "dup",
            EnvRecord::StatusFlags(_) => "status_flags",
            EnvRecord::SetStatusFlags(_) => "set_status_flags",
            EnvRecord::Pipe(_) => "pipe",
            EnvRecord::Tcgets(_) => "tcgets",
            EnvRecord::Winsize(_) => "winsize",
            EnvRecord::Poll(_) => "poll",
            EnvRecord::ClockGettime(_) => "clock_gettime",
            EnvRecord::Sleep => "sleep",
            EnvRecord::RandomBytes(_) => "random_bytes",
            EnvRecord::Getcwd(_) => "getcwd",
            EnvRecord::Sysinfo(_) => "sysinfo",
            EnvRecord::DeviceRead { .. } => "device_read",
            EnvRecord::DiskDone { .. } => "disk_done",
        }
    }
}

/// An asynchronous event, buffered when observed and delivered at the end
/// of the epoch in which it was observed. Interrupts of one epoch are
/// delivered in ascending order of this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Interrupt {
    /// Guest timer `timer` expired `expirations` times (≥ 1) since its last
    /// delivered expiry.
    Timer { timer: TimerId, expirations: u64 },
    /// The host received this signal (SIGHUP, SIGINT, SIGTERM): the guest
    /// receives it as if sent by another process.
    HostSignal(u32),
}

/// The end of one epoch, as the live run saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochEnd {
    /// Epochs are numbered from 0.
    pub epoch: u64,
    /// Retired instructions at the boundary (a multiple of the epoch length).
    pub retired: u64,
    /// Delivered at this boundary, in this order.
    pub interrupts: Vec<Interrupt>,
    /// The guest-visible state at the boundary, before the interrupts.
    pub state_hash: u64,
}

/// How the guest ended, for the last entry of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunEnd {
    pub retired: u64,
    /// The exit status a shell sees (128 + signal for a killed guest).
    pub exit_status: i32,
    pub state_hash: u64,
}

/// One journal entry, in the order the live run produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Entry {
    Env(EnvRecord),
    EpochEnd(EpochEnd),
    RunEnd(RunEnd),
}

/// Where a live run hands its journal.
pub trait EpochSink {
    /// One environment result, as soon as it is known.
    fn env_result(&mut self, record: &EnvRecord) -> Result<(), JournalError>;
    /// Called before the guest's output (`write`/`pwrite`) is performed, so
    /// that a replication primary can first make sure its backup has
    /// everything that precedes the output.
    fn before_output(&mut self) -> Result<(), JournalError> {
        Ok(())
    }
    /// A system call (or any other exit of the guest to the runtime) is
    /// complete: a sink may hand on the results of one system call
    /// together, so that a reader never gets part of a system call's.
    fn step_end(&mut self) -> Result<(), JournalError> {
        Ok(())
    }
    /// The end of an epoch; the interrupts are delivered only after this
    /// returns (a replication primary returns once its backup acknowledged).
    fn epoch_end(&mut self, end: &EpochEnd) -> Result<(), JournalError>;
    /// The guest ended; flush everything.
    fn run_end(&mut self, end: &RunEnd) -> Result<(), JournalError>;
}

/// What a source says at the start of an epoch.
pub enum EpochStart {
    /// The epoch's entries follow.
    Recorded,
    /// No more recorded epochs: continue live from here, with this
    /// environment and (if any) this sink for the rest of the run.
    GoLive(Takeover),
}

/// What a replaying run needs to continue live.
pub struct Takeover {
    pub env: Box<dyn Environment>,
    pub sink: Option<Box<dyn EpochSink>>,
}

/// Where a replaying run reads its journal.
pub trait EpochSource {
    /// Called at the start of epoch `epoch` (before any of its entries is
    /// read). A source that cannot provide the whole epoch (the peer died
    /// before sending its end) answers `GoLive`.
    fn begin_epoch(&mut self, epoch: u64) -> Result<EpochStart, JournalError>;
    /// The next entry.
    fn next_entry(&mut self) -> Result<Entry, JournalError>;
    /// Asked between system calls (and before an epoch's end or the
    /// guest's exit is read), `retired` instructions into the run: a
    /// source whose journal ends here for good (its peer failed in the
    /// middle of an epoch, and every result it sent has been used) hands
    /// the run over to live execution from this point.
    fn takeover_now(&mut self, retired: u64) -> Result<Option<Takeover>, JournalError> {
        let _ = retired;
        Ok(None)
    }
}

/// A discrepancy between the replaying run and its journal, or a broken
/// journal.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("replay diverged in epoch {epoch}: the guest called {called}, the journal has {recorded}")]
    Call { epoch: u64, called: &'static str, recorded: String },
    #[error("replay diverged in epoch {epoch}: {what}")]
    State { epoch: u64, what: String },
    #[error("{0}")]
    Journal(JournalError),
}

/// Output of the guest's standard streams during replay.
#[derive(Debug, Clone)]
pub enum ReplayOutput {
    /// Write it to the host's standard streams (`hbft replay`).
    Perform,
    /// Drop it (a replication backup: the primary performed it).
    Suppress,
    /// Keep it (a replication backup whose primary may hold output back:
    /// what the primary has not performed yet, the backup must perform
    /// if it takes over).
    Capture(Rc<RefCell<OutputShadow>>),
}

/// The guest's standard-stream output (stdout and stderr as one byte
/// stream) from some position on, as a replaying run produced it.
#[derive(Debug, Default)]
pub struct OutputShadow {
    /// Stream position of `bytes[0]`.
    start: u64,
    bytes: Vec<u8>,
}

impl OutputShadow {
    /// The stream position after the last byte produced.
    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    /// The bytes kept, from stream position [`start`](Self::start) on.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn start(&self) -> u64 {
        self.start
    }

    /// Forgets the bytes before stream position `position` (they are safe elsewhere).
    pub fn forget_before(&mut self, position: u64) {
        let drop = position.saturating_sub(self.start).min(self.bytes.len() as u64);
        self.bytes.drain(..drop as usize);
        self.start += drop;
    }

    /// Appends the guest's next output.
    pub fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
    }
}

/// A live environment that hands every result to a sink.
pub struct RecordingEnvironment {
    live: Box<dyn Environment>,
    recorder: Rc<RefCell<Recorder>>,
}

/// The sink a recording environment and the epoch loop share, and the
/// first error it reported (the loop stops the run on it).
pub struct Recorder {
    pub sink: Box<dyn EpochSink>,
    pub failure: Option<JournalError>,
    /// Environment results recorded so far.
    pub events: u64,
}

impl Recorder {
    pub fn new(sink: Box<dyn EpochSink>) -> Rc<RefCell<Recorder>> {
        Rc::new(RefCell::new(Recorder { sink, failure: None, events: 0 }))
    }

    fn record(&mut self, record: &EnvRecord) {
        self.events += 1;
        if self.failure.is_none() {
            if let Err(error) = self.sink.env_result(record) {
                self.failure = Some(error);
            }
        }
    }

    fn before_output(&mut self) {
        if self.failure.is_none() {
            if let Err(error) = self.sink.before_output() {
                self.failure = Some(error);
            }
        }
    }

    /// A system call is complete (see [`EpochSink::step_end`]).
    pub fn step_end(&mut self) {
        if self.failure.is_none() {
            if let Err(error) = self.sink.step_end() {
                self.failure = Some(error);
            }
        }
    }
}

impl RecordingEnvironment {
    pub fn new(live: Box<dyn Environment>, recorder: Rc<RefCell<Recorder>>) -> RecordingEnvironment {
        RecordingEnvironment { live, recorder }
    }

    fn keep<T: Clone>(&self, result: T, wrap: impl FnOnce(T) -> EnvRecord) -> T {
        self.recorder.borrow_mut().record(&wrap(result.clone()));
        result
    }
}

/// The replayed calls whose only effect is their recorded result.
macro_rules! recorded_calls {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty => $variant:ident;)*) => {
        /// Environment calls forwarded to the live environment and recorded.
        macro_rules! recording_impls {
            () => {
                $(fn $name(&mut self, $($arg: $ty),*) -> $ret {
                    let result = self.live.$name($($arg),*);
                    self.keep(result, EnvRecord::$variant)
                })*
            };
        }
        /// Environment calls answered from the journal.
        macro_rules! replaying_impls {
            () => {
                $(fn $name(&mut self, $($arg: $ty),*) -> $ret {
                    $(let _ = $arg;)*
                    self.take(stringify!($name), |r| match r {
                        EnvRecord::$variant(v) => Ok(v),
                        other => Err(other),
                    })
                })*
            };
        }
    };
}

recorded_calls! {
    pread(handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>> => Pread;
    fstat(handle: Handle) -> SysResult<FileStat> => Fstat;
    fstatat(dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat> => Fstatat;
    readlinkat(dir: Dir, path: &[u8]) -> SysResult<Vec<u8>> => Readlinkat;
    faccessat(dir: Dir, path: &[u8], mode: i32) -> SysResult<()> => Faccessat;
    unlinkat(dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()> => Unlinkat;
    mkdirat(dir: Dir, path: &[u8], mode: u32) -> SysResult<()> => Mkdirat;
    renameat(old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()> => Renameat;
    status_flags(handle: Handle) -> SysResult<i32> => StatusFlags;
    set_status_flags(handle: Handle, host_flags: i32) -> SysResult<()> => SetStatusFlags;
    tcgets(handle: Handle) -> SysResult<Termios> => Tcgets;
    winsize(handle: Handle) -> SysResult<WinSize> => Winsize;
    poll(fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>> => Poll;
    clock_gettime(clock: u32) -> SysResult<Timespec> => ClockGettime;
    random_bytes(len: usize) -> Vec<u8> => RandomBytes;
    getcwd() -> SysResult<Vec<u8>> => Getcwd;
    sysinfo() -> SysResult<SysInfo> => Sysinfo;
}

impl Environment for RecordingEnvironment {
    recording_impls!();

    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle> {
        let result = self.live.openat(dir, path, host_flags, mode);
        self.keep(result, EnvRecord::Openat)
    }

    fn read(&mut self, handle: Handle, len: usize) -> SysResult<Vec<u8>> {
        let result = self.live.read(handle, len);
        self.keep(result, EnvRecord::Read)
    }

    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        self.recorder.borrow_mut().before_output();
        let result = self.live.write(handle, data);
        self.keep(result, EnvRecord::Write)
    }

    fn pwrite(&mut self, handle: Handle, data: &[u8], offset: i64) -> SysResult<usize> {
        self.recorder.borrow_mut().before_output();
        let result = self.live.pwrite(handle, data, offset);
        self.keep(result, EnvRecord::Pwrite)
    }

    fn lseek(&mut self, handle: Handle, offset: i64, whence: i32) -> SysResult<i64> {
        let result = self.live.lseek(handle, offset, whence);
        self.keep(result, EnvRecord::Lseek)
    }

    fn getdents(&mut self, handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>> {
        let result = self.live.getdents(handle, max_bytes);
        self.keep(result, EnvRecord::Getdents)
    }

    fn dup(&mut self, handle: Handle) -> SysResult<Handle> {
        let result = self.live.dup(handle);
        self.keep(result, EnvRecord::Dup)
    }

    fn close(&mut self, handle: Handle) -> SysResult<()> {
        let result = self.live.close(handle);
        self.keep(result, EnvRecord::Close)
    }

    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        let result = self.live.pipe();
        self.keep(result, EnvRecord::Pipe)
    }

    fn sleep(&mut self, duration: Timespec) {
        self.live.sleep(duration);
        self.recorder.borrow_mut().record(&EnvRecord::Sleep);
    }
}

/// The host side of a guest handle as the replaying run knows it, enough to
/// recreate it when the run goes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostFile {
    /// The host's standard stream of this number (0, 1, 2): maps directly.
    Standard(Handle),
    /// A file opened by path; reopened without O_CREAT/O_TRUNC/O_EXCL and
    /// positioned at `offset`.
    Path { dir: Option<Vec<u8>>, path: Vec<u8>, host_flags: i32, offset: i64 },
    /// One end of a pipe (recreated empty: its buffered bytes are lost).
    Pipe { read_end: bool, peer: Handle },
}

/// The source a replay environment and the epoch loop share, the handles
/// the guest holds, and the first discrepancy found.
pub struct Replayer {
    pub source: Box<dyn EpochSource>,
    pub output: ReplayOutput,
    pub failure: Option<ReplayError>,
    /// The epoch being replayed (for error messages).
    pub epoch: u64,
    /// Environment results replayed so far.
    pub events: u64,
    pub files: BTreeMap<Handle, HostFile>,
}

impl Replayer {
    pub fn new(source: Box<dyn EpochSource>, output: ReplayOutput) -> Rc<RefCell<Replayer>> {
        let files = (0..3).map(|h| (h, HostFile::Standard(h))).collect();
        Rc::new(RefCell::new(Replayer { source, output, failure: None, epoch: 0, events: 0, files }))
    }

    /// The next entry, which must be an environment result.
    fn next_record(&mut self) -> Option<EnvRecord> {
        if self.failure.is_some() {
            return None;
        }
        match self.source.next_entry() {
            Ok(Entry::Env(record)) => {
                self.events += 1;
                Some(record)
            }
            Ok(other) => {
                self.failure = Some(ReplayError::Call {
                    epoch: self.epoch,
                    called: "an environment call",
                    recorded: describe(&other),
                });
                None
            }
            Err(error) => {
                self.failure = Some(ReplayError::Journal(error));
                None
            }
        }
    }

    fn advance(&mut self, handle: Handle, by: i64) {
        if let Some(HostFile::Path { offset, .. }) = self.files.get_mut(&handle) {
            *offset += by;
        }
    }

    /// The path of directory handle `dir`, for a relative open against it.
    fn dir_path(&self, dir: Dir) -> Option<Vec<u8>> {
        match dir {
            Dir::Cwd => None,
            Dir::Handle(h) => match self.files.get(&h) {
                Some(HostFile::Path { dir, path, .. }) => Some(join_path(dir.as_deref(), path)),
                _ => None,
            },
        }
    }
}

fn join_path(dir: Option<&[u8]>, path: &[u8]) -> Vec<u8> {
    match dir {
        Some(dir) if !path.starts_with(b"/") => [dir, b"/", path].concat(),
        _ => path.to_vec(),
    }
}

/// A journal entry in a divergence message.
pub fn describe(entry: &Entry) -> String {
    match entry {
        Entry::Env(record) => format!("{} result", record.call()),
        Entry::EpochEnd(end) => format!("the end of epoch {} at {} instructions", end.epoch, end.retired),
        Entry::RunEnd(end) => format!("the guest's exit at {} instructions", end.retired),
    }
}

/// The environment of a replaying run: results come from the journal.
pub struct ReplayEnvironment {
    replayer: Rc<RefCell<Replayer>>,
}

impl ReplayEnvironment {
    pub fn new(replayer: Rc<RefCell<Replayer>>) -> ReplayEnvironment {
        ReplayEnvironment { replayer }
    }

    /// The recorded result of call `call`; on a mismatch the replay is
    /// marked failed and the guest gets EIO (the run stops right after).
    fn take<T>(&mut self, call: &'static str, pick: impl FnOnce(EnvRecord) -> Result<T, EnvRecord>) -> T
    where
        T: Fallback,
    {
        let mut replayer = self.replayer.borrow_mut();
        let Some(record) = replayer.next_record() else { return T::fallback() };
        match pick(record) {
            Ok(value) => value,
            Err(other) => {
                let epoch = replayer.epoch;
                replayer.failure =
                    Some(ReplayError::Call { epoch, called: call, recorded: format!("{} result", other.call()) });
                T::fallback()
            }
        }
    }

    /// The guest's output on a standard stream, performed on the host's.
    fn perform_output(&self, handle: Handle, data: &[u8]) {
        let replayer = self.replayer.borrow();
        let Some(&HostFile::Standard(stream @ (1 | 2))) = replayer.files.get(&handle) else { return };
        match &replayer.output {
            ReplayOutput::Perform => {
                use std::io::Write;
                // The recorded result is what the guest sees; a failing host
                // stream (a closed pipe) changes nothing in the replay.
                let _ = if stream == 1 { std::io::stdout().write_all(data) } else { std::io::stderr().write_all(data) };
            }
            ReplayOutput::Suppress => {}
            ReplayOutput::Capture(shadow) => shadow.borrow_mut().push(data),
        }
    }
}

/// The value a replayed call returns after the journal failed.
trait Fallback {
    fn fallback() -> Self;
}

impl<T> Fallback for SysResult<T> {
    fn fallback() -> Self {
        Err(Errno::EIO)
    }
}

impl Fallback for Vec<u8> {
    fn fallback() -> Self {
        Vec::new()
    }
}

impl Fallback for () {
    fn fallback() -> Self {}
}

impl Environment for ReplayEnvironment {
    replaying_impls!();

    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, _mode: u32) -> SysResult<Handle> {
        let result = self.take("openat", |r| match r {
            EnvRecord::Openat(v) => Ok(v),
            other => Err(other),
        });
        if let Ok(handle) = result {
            let mut replayer = self.replayer.borrow_mut();
            let dir = replayer.dir_path(dir);
            replayer.files.insert(handle, HostFile::Path { dir, path: path.to_vec(), host_flags, offset: 0 });
        }
        result
    }

    fn read(&mut self, handle: Handle, _len: usize) -> SysResult<Vec<u8>> {
        let result = self.take("read", |r| match r {
            EnvRecord::Read(v) => Ok(v),
            other => Err(other),
        });
        if let Ok(data) = &result {
            self.replayer.borrow_mut().advance(handle, data.len() as i64);
        }
        result
    }

    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        let result = self.take("write", |r| match r {
            EnvRecord::Write(v) => Ok(v),
            other => Err(other),
        });
        if let Ok(count) = result {
            self.perform_output(handle, &data[..count.min(data.len())]);
            self.replayer.borrow_mut().advance(handle, count as i64);
        }
        result
    }

    fn pwrite(&mut self, _handle: Handle, _data: &[u8], _offset: i64) -> SysResult<usize> {
        self.take("pwrite", |r| match r {
            EnvRecord::Pwrite(v) => Ok(v),
            other => Err(other),
        })
    }

    fn lseek(&mut self, handle: Handle, _offset: i64, _whence: i32) -> SysResult<i64> {
        let result = self.take("lseek", |r| match r {
            EnvRecord::Lseek(v) => Ok(v),
            other => Err(other),
        });
        if let (Ok(position), Some(HostFile::Path { offset, .. })) =
            (result, self.replayer.borrow_mut().files.get_mut(&handle))
        {
            *offset = position;
        }
        result
    }

    fn getdents(&mut self, handle: Handle, _max_bytes: usize) -> SysResult<Vec<DirEntry>> {
        let result = self.take("getdents", |r| match r {
            EnvRecord::Getdents(v) => Ok(v),
            other => Err(other),
        });
        // A directory's position is the `d_off` of the last entry returned.
        if let (Ok(Some(last)), Some(HostFile::Path { offset, .. })) =
            (result.as_ref().map(|e| e.last()), self.replayer.borrow_mut().files.get_mut(&handle))
        {
            *offset = last.off;
        }
        result
    }

    fn dup(&mut self, handle: Handle) -> SysResult<Handle> {
        let result = self.take("dup", |r| match r {
            EnvRecord::Dup(v) => Ok(v),
            other => Err(other),
        });
        if let Ok(new) = result {
            let mut replayer = self.replayer.borrow_mut();
            if let Some(file) = replayer.files.get(&handle).cloned() {
                replayer.files.insert(new, file);
            }
        }
        result
    }

    fn close(&mut self, handle: Handle) -> SysResult<()> {
        let result = self.take("close", |r| match r {
            EnvRecord::Close(v) => Ok(v),
            other => Err(other),
        });
        if result.is_ok() {
            self.replayer.borrow_mut().files.remove(&handle);
        }
        result
    }

    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        let result = self.take("pipe", |r| match r {
            EnvRecord::Pipe(v) => Ok(v),
            other => Err(other),
        });
        if let Ok((r, w)) = result {
            let mut replayer = self.replayer.borrow_mut();
            replayer.files.insert(r, HostFile::Pipe { read_end: true, peer: w });
            replayer.files.insert(w, HostFile::Pipe { read_end: false, peer: r });
        }
        result
    }

    fn sleep(&mut self, _duration: Timespec) {
        self.take("sleep", |r| match r {
            EnvRecord::Sleep => Ok(()),
            other => Err(other),
        })
    }
}

/// Why a replaying run could not go live.
#[derive(Debug, thiserror::Error)]
#[error("cannot go live: {what} (errno {errno})")]
pub struct GoLiveError {
    pub what: String,
    pub errno: u32,
}

/// Recreates, in `live`, the host side of every handle the replayed guest
/// holds; returns the live handle for each replayed one.
pub fn reopen_files(
    files: &BTreeMap<Handle, HostFile>,
    live: &mut dyn Environment,
) -> Result<BTreeMap<Handle, Handle>, GoLiveError> {
    const SEEK_SET: i32 = 0;
    let fail = |what: String| move |e: Errno| GoLiveError { what, errno: e.0 };
    let mut map = BTreeMap::new();
    for (&handle, file) in files {
        if map.contains_key(&handle) {
            continue;
        }
        match file {
            HostFile::Standard(stream) => {
                map.insert(handle, *stream);
            }
            HostFile::Path { dir, path, host_flags, offset } => {
                let full = join_path(dir.as_deref(), path);
                let shown = String::from_utf8_lossy(&full).into_owned();
                let flags = host_flags & !(libc::O_CREAT | libc::O_TRUNC | libc::O_EXCL);
                let new = live.openat(Dir::Cwd, &full, flags, 0).map_err(fail(format!("reopening {shown}")))?;
                if *offset != 0 {
                    live.lseek(new, *offset, SEEK_SET).map_err(fail(format!("seeking in {shown}")))?;
                }
                map.insert(handle, new);
            }
            HostFile::Pipe { read_end, peer } => {
                let (r, w) = live.pipe().map_err(fail("recreating a pipe".into()))?;
                let (mine, theirs) = if *read_end { (r, w) } else { (w, r) };
                map.insert(handle, mine);
                map.insert(*peer, theirs);
            }
        }
    }
    Ok(map)
}
