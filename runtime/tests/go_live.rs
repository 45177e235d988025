//! A replaying run that goes live at an epoch boundary (what a replication
//! backup does when its primary dies) finishes exactly as the recorded run
//! did, whichever boundary it is: open files are recreated at their
//! offsets in the live environment and the standard streams map directly.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::rc::Rc;

use hbft_runtime::journal::{
    EnvRecord, Entry, EpochEnd, EpochSink, EpochSource, EpochStart, JournalError, ReplayOutput, RunEnd, Takeover,
};
use hbft_runtime::linux::env::{Dir, DirEntry, FileStat, Handle, SysInfo, SysResult, Termios, Timespec, WinSize};
use hbft_runtime::linux::{Environment, HostEnvironment};
use hbft_runtime::user_mode::{Journaling, Termination, UserMode, UserModeConfig};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Keeps every entry in memory.
struct Collect(Rc<RefCell<Vec<Entry>>>);

impl EpochSink for Collect {
    fn env_result(&mut self, record: &EnvRecord) -> Result<(), JournalError> {
        self.0.borrow_mut().push(Entry::Env(record.clone()));
        Ok(())
    }
    fn epoch_end(&mut self, end: &EpochEnd) -> Result<(), JournalError> {
        self.0.borrow_mut().push(Entry::EpochEnd(end.clone()));
        Ok(())
    }
    fn run_end(&mut self, end: &RunEnd) -> Result<(), JournalError> {
        self.0.borrow_mut().push(Entry::RunEnd(end.clone()));
        Ok(())
    }
}

/// Replays entries until epoch `live_from`, then hands over to a live environment.
struct UntilEpoch {
    entries: VecDeque<Entry>,
    live_from: u64,
    output: Rc<RefCell<Vec<u8>>>,
}

impl EpochSource for UntilEpoch {
    fn begin_epoch(&mut self, epoch: u64) -> Result<EpochStart, JournalError> {
        if epoch < self.live_from {
            return Ok(EpochStart::Recorded);
        }
        let env = Box::new(Capture { host: HostEnvironment, stdout: self.output.clone() });
        Ok(EpochStart::GoLive(Takeover { env, sink: None }))
    }
    fn next_entry(&mut self) -> Result<Entry, JournalError> {
        self.entries.pop_front().ok_or_else(|| "journal exhausted".into())
    }
}

/// The host environment with the guest's stdout captured.
struct Capture {
    host: HostEnvironment,
    stdout: Rc<RefCell<Vec<u8>>>,
}

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&mut self, $($arg: $ty),*) -> $ret { self.host.$name($($arg),*) })*
    };
}

impl Environment for Capture {
    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        if handle == 1 {
            self.stdout.borrow_mut().extend_from_slice(data);
            return Ok(data.len());
        }
        self.host.write(handle, data)
    }
    forward! {
        openat(dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle>;
        close(handle: Handle) -> SysResult<()>;
        read(handle: Handle, len: usize) -> SysResult<Vec<u8>>;
        pread(handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>>;
        pwrite(handle: Handle, data: &[u8], offset: i64) -> SysResult<usize>;
        lseek(handle: Handle, offset: i64, whence: i32) -> SysResult<i64>;
        fstat(handle: Handle) -> SysResult<FileStat>;
        fstatat(dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat>;
        getdents(handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>>;
        readlinkat(dir: Dir, path: &[u8]) -> SysResult<Vec<u8>>;
        faccessat(dir: Dir, path: &[u8], mode: i32) -> SysResult<()>;
        unlinkat(dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()>;
        mkdirat(dir: Dir, path: &[u8], mode: u32) -> SysResult<()>;
        renameat(old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()>;
        dup(handle: Handle) -> SysResult<Handle>;
        status_flags(handle: Handle) -> SysResult<i32>;
        set_status_flags(handle: Handle, host_flags: i32) -> SysResult<()>;
        pipe() -> SysResult<(Handle, Handle)>;
        tcgets(handle: Handle) -> SysResult<Termios>;
        winsize(handle: Handle) -> SysResult<WinSize>;
        poll(fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>>;
        clock_gettime(clock: u32) -> SysResult<Timespec>;
        sleep(duration: Timespec) -> ();
        random_bytes(len: usize) -> Vec<u8>;
        getcwd() -> SysResult<Vec<u8>>;
        sysinfo() -> SysResult<SysInfo>;
    }
}

#[test]
fn going_live_at_any_epoch_boundary_finishes_like_the_recorded_run() {
    let guest = repo().join("guests/prebuilt/echo_stdin-O2");
    let input = repo().join("guests/src/echo_stdin.input");
    let config = UserModeConfig {
        argv: vec![b"echo_stdin".to_vec(), input.to_str().unwrap().as_bytes().to_vec()],
        envp: vec![b"LANG=C".to_vec()],
        epoch: Some(500),
        ..UserModeConfig::default()
    };
    let entries = Rc::new(RefCell::new(Vec::new()));
    let recorded_out = Rc::new(RefCell::new(Vec::new()));
    let env = Box::new(Capture { host: HostEnvironment, stdout: recorded_out.clone() });
    let journaling = Journaling::Live { env, sink: Some(Box::new(Collect(entries.clone()))) };
    let recorded = UserMode::load_with(&guest, &config, journaling).unwrap().run().unwrap();
    assert_eq!(recorded.termination, Termination::Exited(0));
    let recorded_out = recorded_out.borrow().clone();
    assert!(String::from_utf8_lossy(&recorded_out).contains("HELLO, HBFT!"));

    // The epoch of the guest's only write to stdout, and of its file read.
    let epoch_of = |call: &str| {
        let mut epoch = 0;
        for entry in entries.borrow().iter() {
            match entry {
                Entry::EpochEnd(_) => epoch += 1,
                Entry::Env(record) if record.call() == call => return epoch,
                _ => {}
            }
        }
        panic!("no {call}");
    };
    let (open_epoch, write_epoch) = (epoch_of("openat"), epoch_of("write"));
    assert!(open_epoch < write_epoch, "the file is open across at least one boundary");

    for live_from in 0..=recorded.epochs {
        let output = Rc::new(RefCell::new(Vec::new()));
        let source = UntilEpoch { entries: entries.borrow().clone().into(), live_from, output: output.clone() };
        let journaling = Journaling::Replay { source: Box::new(source), output: ReplayOutput::Suppress };
        let report = UserMode::load_with(&guest, &config, journaling).unwrap().run().unwrap();
        assert_eq!(report.termination, recorded.termination, "live from epoch {live_from}");
        assert_eq!(report.retired, recorded.retired, "live from epoch {live_from}");
        assert_eq!(report.went_live.map(|(epoch, _)| epoch), Some(live_from));
        let expected: &[u8] = if live_from <= write_epoch { &recorded_out } else { &[] };
        assert_eq!(output.borrow().as_slice(), expected, "live from epoch {live_from}");
    }
}
