//! Lockstep runs of one guest under the interpreter and the JIT: both
//! engines get the same sequence of random budgets, and after every stop
//! their full CPU state (retired count included), their set of dirty pages
//! and, at the end, their memory and output must be identical.

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use hbft_runtime::linux::env::{Dir, DirEntry, FileStat, Handle, SysInfo, SysResult, Termios, Timespec, WinSize};
use hbft_runtime::linux::{Environment, HostEnvironment};
use hbft_runtime::user_mode::{EngineKind, Journaling, Termination, UserMode, UserModeConfig};

/// The host environment with standard output and error captured, the
/// clock and randomness fixed, and a private `/tmp`, so that two runs of a
/// guest see the same inputs and do not disturb each other's temporary
/// files (the two sides of a lockstep run, and runs of programs on other
/// threads that pick the same temporary name).
struct Captured {
    host: HostEnvironment,
    out: Rc<RefCell<Vec<u8>>>,
    /// Where this run's `/tmp/...` paths go.
    tmp: PrivateTmp,
}

/// `st` without what differs between two runs that create the same file
/// (its device, inode and times): the clock is fixed, so are file times.
fn stable(st: FileStat) -> FileStat {
    let time = Timespec { sec: 1_000_000, nsec: 0 };
    FileStat { dev: 1, ino: 1, atime: time, mtime: time, ctime: time, ..st }
}

/// A fresh directory that stands in for `/tmp`; removed with its contents
/// when dropped.
struct PrivateTmp(std::path::PathBuf);

impl PrivateTmp {
    fn new() -> PrivateTmp {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("hbft-lockstep-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        PrivateTmp(dir)
    }

    /// `path`, moved into the private directory if it is under `/tmp`.
    fn map<'a>(&self, path: &'a [u8]) -> Cow<'a, [u8]> {
        match path.strip_prefix(b"/tmp/") {
            Some(rest) => {
                let mut mapped = self.0.as_os_str().as_encoded_bytes().to_vec();
                mapped.push(b'/');
                mapped.extend_from_slice(rest);
                Cow::Owned(mapped)
            }
            None => Cow::Borrowed(path),
        }
    }
}

impl Drop for PrivateTmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Environment for Captured {
    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle> {
        self.host.openat(dir, &self.tmp.map(path), host_flags, mode)
    }
    fn close(&mut self, handle: Handle) -> SysResult<()> {
        if handle <= 2 {
            return Ok(());
        }
        self.host.close(handle)
    }
    fn read(&mut self, handle: Handle, len: usize) -> SysResult<Vec<u8>> {
        if handle == 0 {
            return Ok(Vec::new());
        }
        self.host.read(handle, len)
    }
    fn pread(&mut self, handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>> {
        self.host.pread(handle, len, offset)
    }
    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        if handle == 1 || handle == 2 {
            self.out.borrow_mut().extend_from_slice(data);
            return Ok(data.len());
        }
        self.host.write(handle, data)
    }
    fn pwrite(&mut self, handle: Handle, data: &[u8], offset: i64) -> SysResult<usize> {
        self.host.pwrite(handle, data, offset)
    }
    fn lseek(&mut self, handle: Handle, offset: i64, whence: i32) -> SysResult<i64> {
        self.host.lseek(handle, offset, whence)
    }
    fn fstat(&mut self, handle: Handle) -> SysResult<FileStat> {
        if handle <= 2 {
            // The captured streams: an empty pipe, the same on both sides
            // (the host's would show times that change as the test writes).
            const S_IFIFO: u32 = 0o010000;
            return Ok(FileStat { mode: S_IFIFO | 0o600, nlink: 1, blksize: 4096, ..FileStat::default() });
        }
        self.host.fstat(handle).map(stable)
    }
    fn fstatat(&mut self, dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat> {
        self.host.fstatat(dir, &self.tmp.map(path), follow_links).map(stable)
    }
    fn getdents(&mut self, handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>> {
        self.host.getdents(handle, max_bytes)
    }
    fn readlinkat(&mut self, dir: Dir, path: &[u8]) -> SysResult<Vec<u8>> {
        self.host.readlinkat(dir, &self.tmp.map(path))
    }
    fn faccessat(&mut self, dir: Dir, path: &[u8], mode: i32) -> SysResult<()> {
        self.host.faccessat(dir, &self.tmp.map(path), mode)
    }
    fn unlinkat(&mut self, dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()> {
        self.host.unlinkat(dir, &self.tmp.map(path), remove_dir)
    }
    fn mkdirat(&mut self, dir: Dir, path: &[u8], mode: u32) -> SysResult<()> {
        self.host.mkdirat(dir, &self.tmp.map(path), mode)
    }
    fn renameat(&mut self, old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()> {
        self.host.renameat(old_dir, &self.tmp.map(old), new_dir, &self.tmp.map(new))
    }
    fn dup(&mut self, handle: Handle) -> SysResult<Handle> {
        self.host.dup(handle)
    }
    fn status_flags(&mut self, handle: Handle) -> SysResult<i32> {
        self.host.status_flags(handle)
    }
    fn set_status_flags(&mut self, handle: Handle, host_flags: i32) -> SysResult<()> {
        self.host.set_status_flags(handle, host_flags)
    }
    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        self.host.pipe()
    }
    fn tcgets(&mut self, handle: Handle) -> SysResult<Termios> {
        if handle <= 2 {
            return Err(hbft_runtime::linux::Errno::ENOTTY);
        }
        self.host.tcgets(handle)
    }
    fn winsize(&mut self, handle: Handle) -> SysResult<WinSize> {
        if handle <= 2 {
            return Err(hbft_runtime::linux::Errno::ENOTTY);
        }
        self.host.winsize(handle)
    }
    fn poll(&mut self, fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>> {
        self.host.poll(fds, timeout_ms)
    }
    fn clock_gettime(&mut self, _clock: u32) -> SysResult<Timespec> {
        Ok(Timespec { sec: 1_000_000, nsec: 0 })
    }
    fn sleep(&mut self, _duration: Timespec) {}
    fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        vec![0x5a; len]
    }
    fn getcwd(&mut self) -> SysResult<Vec<u8>> {
        self.host.getcwd()
    }
    fn sysinfo(&mut self) -> SysResult<SysInfo> {
        Ok(SysInfo::default())
    }
}

/// A guest loaded for one engine, with its captured output.
struct Side {
    vm: UserMode,
    out: Rc<RefCell<Vec<u8>>>,
}

fn load(path: &Path, args: &[&str], engine: EngineKind) -> Side {
    let mut argv = vec![path.as_os_str().as_encoded_bytes().to_vec()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    let config = UserModeConfig { argv, engine, ..UserModeConfig::default() };
    let out = Rc::new(RefCell::new(Vec::new()));
    let env = Box::new(Captured { host: HostEnvironment, out: out.clone(), tmp: PrivateTmp::new() });
    let vm = UserMode::load_with(path, &config, Journaling::Live { env, sink: None })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Side { vm, out }
}

/// A small deterministic generator for budgets.
pub struct Budgets(u64);

impl Budgets {
    pub fn new(seed: u64) -> Budgets {
        Budgets(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    /// Mostly short budgets (they stop inside blocks and delay slots),
    /// sometimes long ones (they reach the end of long guests).
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        match self.0 % 8 {
            0..=2 => self.0 >> 8 & 15,
            3..=5 => self.0 >> 8 & 511,
            _ => self.0 >> 8 & 65535,
        }
    }
}

/// What a lockstep run compared.
#[derive(Debug)]
pub struct Compared {
    pub stops: u64,
    pub retired: u64,
    pub termination: Termination,
}

/// Runs `path` with `args` under the interpreter and under `jit` in
/// lockstep with budgets from `seed`, panicking at the first difference.
pub fn lockstep(path: &Path, args: &[&str], jit: EngineKind, seed: u64, max_stops: u64) -> Compared {
    lockstep_at_most(path, args, jit, seed, max_stops)
        .unwrap_or_else(|| panic!("{} seed {seed}: still running after {max_stops} stops", path.display()))
}

/// [`lockstep`], but `None` when the guest is still running (identically
/// under both engines) after `max_stops` stops.
pub fn lockstep_at_most(path: &Path, args: &[&str], jit: EngineKind, seed: u64, max_stops: u64) -> Option<Compared> {
    let name = path.display();
    let mut reference = load(path, args, EngineKind::Interp);
    let mut tested = load(path, args, jit);
    let mut budgets = Budgets::new(seed);
    for stop in 1..=max_stops {
        let budget = budgets.next();
        let a = reference.vm.run_slice(budget);
        let b = tested.vm.run_slice(budget);
        assert_eq!(
            reference.vm.cpu, tested.vm.cpu,
            "{name} seed {seed}: CPU state differs at stop {stop} (budget {budget})"
        );
        let dirty_a: Vec<u32> = reference.vm.mem.dirty_pages().collect();
        let dirty_b: Vec<u32> = tested.vm.mem.dirty_pages().collect();
        assert_eq!(dirty_a, dirty_b, "{name} seed {seed}: dirty pages differ at stop {stop}");
        assert_eq!(a, b, "{name} seed {seed}: termination differs at stop {stop}");
        if let Some(termination) = a {
            for page in 0..1u32 << 20 {
                assert_eq!(
                    reference.vm.mem.page_bytes(page),
                    tested.vm.mem.page_bytes(page),
                    "{name} seed {seed}: memory differs on page {page:#x} at the end"
                );
            }
            assert_eq!(*reference.out.borrow(), *tested.out.borrow(), "{name} seed {seed}: output differs");
            return Some(Compared { stops: stop, retired: reference.vm.cpu.retired, termination });
        }
    }
    None
}
