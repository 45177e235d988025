//! `LinuxProcess`: the Linux/parisc personality's process state (fd table,
//! signal dispositions, identity) and the system call dispatcher.

use std::collections::{BTreeMap, BTreeSet};

use super::env::{Dir, Environment, Handle, SysResult};
use super::errno::Errno;
use super::numbers::{self, nr};
use super::strace;
use crate::memory::AddressSpace;

/// What the run loop does after a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Put this value in r28 (already `-errno` for failures) and return to r31.
    Return(u32),
    /// The process ends with this exit status (exit, exit_group).
    Exit(i32),
    /// The guest sent itself this signal (kill, tkill, tgkill to itself):
    /// put 0 in r28, return to r31, then deliver the signal.
    Signal(u32),
    /// rt_sigreturn: call `signal::sigreturn` (it sets every register,
    /// r28 and the IAOQ included).
    Sigreturn,
    /// pause (`None`) or rt_sigsuspend (the mask to wait with): wait until
    /// a signal is delivered, then return -EINTR with the old mask restored
    /// once the handler returns.
    Suspend(Option<u64>),
}

/// The identity every guest sees; fixed so that replicas agree.
pub const GUEST_PID: u32 = 1000;
pub const GUEST_PPID: u32 = 999;
pub const GUEST_UID: u32 = 1000;
pub const GUEST_GID: u32 = 1000;

/// One guest descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdEntry {
    pub handle: Handle,
    pub cloexec: bool,
}

/// A guest `struct sigaction` (parisc has no sa_restorer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SigAction {
    pub handler: u32,
    pub flags: u32,
    pub mask: u64,
}

/// The guest's `sigaltstack`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AltStack {
    pub sp: u32,
    pub flags: u32,
    pub size: u32,
}

/// Signals are numbered 1..=64.
pub const NSIG: usize = 64;

/// A Linux process seen from inside: everything the kernel keeps about it
/// besides its memory and registers.
pub struct LinuxProcess {
    pub(super) env: Box<dyn Environment>,
    pub(super) fds: BTreeMap<u32, FdEntry>,
    pub(super) actions: [SigAction; NSIG],
    pub(super) sigmask: u64,
    pub(super) altstack: AltStack,
    pub(super) pending: super::signal::PendingSignals,
    pub(super) rlimits: BTreeMap<u32, (u64, u64)>,
    pub(super) umask: u32,
    pub(super) tid_address: u32,
    pub(super) robust_list: u32,
    pub(super) timers: super::timers::Timers,
    strace: bool,
    /// Absolute guest paths are looked up here first (`sysroot.rs`).
    pub(super) sysroot: Option<Vec<u8>>,
    reported_unimplemented: BTreeSet<u32>,
}

impl LinuxProcess {
    /// A process whose descriptors 0, 1 and 2 are the environment's handles 0, 1 and 2.
    pub fn new(env: Box<dyn Environment>) -> LinuxProcess {
        let fds = (0..3).map(|fd| (fd, FdEntry { handle: fd as Handle, cloexec: false })).collect();
        LinuxProcess {
            env,
            fds,
            actions: [SigAction::default(); NSIG],
            sigmask: 0,
            altstack: AltStack { sp: 0, flags: super::signals::SS_DISABLE, size: 0 },
            pending: super::signal::PendingSignals::default(),
            rlimits: super::misc::default_rlimits(),
            umask: 0o022,
            tid_address: 0,
            robust_list: 0,
            timers: super::timers::Timers::default(),
            strace: false,
            sysroot: None,
            reported_unimplemented: BTreeSet::new(),
        }
    }

    /// Continues with environment `env`, whose handle for each of the
    /// old environment's is `remap[old]` (a replaying run going live).
    pub fn replace_environment(&mut self, env: Box<dyn Environment>, remap: &BTreeMap<Handle, Handle>) {
        self.env = env;
        for entry in self.fds.values_mut() {
            if let Some(&new) = remap.get(&entry.handle) {
                entry.handle = new;
            }
        }
    }

    /// Prints every system call, strace style, to the host's stderr.
    pub fn set_strace(&mut self, on: bool) {
        self.strace = on;
    }

    /// The disposition of signal `sig` (1..=64).
    pub fn sigaction(&self, sig: u32) -> Option<SigAction> {
        self.actions.get((sig as usize).checked_sub(1)?).copied()
    }

    /// Blocked signals; bit `n - 1` is signal `n`.
    pub fn signal_mask(&self) -> u64 {
        self.sigmask
    }

    pub fn set_signal_mask(&mut self, mask: u64) {
        self.sigmask = mask & !super::signals::UNBLOCKABLE;
    }

    pub fn altstack(&self) -> AltStack {
        self.altstack
    }

    /// The address `set_tid_address` registered (cleared at thread exit).
    pub fn tid_address(&self) -> u32 {
        self.tid_address
    }

    /// Executes system call `nr` with arguments r26, r25, r24, r23, r22, r21.
    pub fn syscall(&mut self, mem: &mut AddressSpace, nr: u32, args: [u32; 6]) -> SyscallOutcome {
        let outcome = match self.dispatch(mem, nr, args) {
            Ok(value) => value,
            Err(errno) => SyscallOutcome::Return(errno.as_return()),
        };
        if self.strace {
            eprintln!("{}", strace::format_call(mem, nr, &args, outcome));
        }
        outcome
    }

    fn dispatch(&mut self, mem: &mut AddressSpace, n: u32, a: [u32; 6]) -> SysResult<SyscallOutcome> {
        use SyscallOutcome::{Exit, Return};
        let value = match n {
            nr::exit | nr::exit_group => return Ok(Exit(a[0] as i32)),
            nr::read => self.sys_read(mem, a[0], a[1], a[2])?,
            nr::write => self.sys_write(mem, a[0], a[1], a[2])?,
            nr::readv => self.sys_readv(mem, a[0], a[1], a[2])?,
            nr::writev => self.sys_writev(mem, a[0], a[1], a[2])?,
            nr::pread64 => self.sys_pread(mem, a[0], a[1], a[2], super::abi::join64(a[3], a[4]))?,
            nr::pwrite64 => self.sys_pwrite(mem, a[0], a[1], a[2], super::abi::join64(a[3], a[4]))?,
            nr::lseek => self.sys_lseek(a[0], a[1] as i32, a[2])?,
            nr::_llseek => self.sys_llseek(mem, a[0], a[1], a[2], a[3], a[4])?,
            nr::open => self.sys_openat(mem, AT_FDCWD, a[0], a[1], a[2])?,
            nr::openat => self.sys_openat(mem, a[0], a[1], a[2], a[3])?,
            nr::close => self.sys_close(a[0])?,
            nr::fstat64 => self.sys_fstat64(mem, a[0], a[1])?,
            nr::stat64 => self.sys_fstatat64(mem, AT_FDCWD, a[0], a[1], 0)?,
            nr::lstat64 => self.sys_fstatat64(mem, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW)?,
            nr::fstatat64 => self.sys_fstatat64(mem, a[0], a[1], a[2], a[3])?,
            nr::statx => self.sys_statx(mem, a[0], a[1], a[2], a[4])?,
            nr::getdents64 => self.sys_getdents64(mem, a[0], a[1], a[2])?,
            nr::readlink => self.sys_readlinkat(mem, AT_FDCWD, a[0], a[1], a[2])?,
            nr::readlinkat => self.sys_readlinkat(mem, a[0], a[1], a[2], a[3])?,
            nr::access => self.sys_faccessat(mem, AT_FDCWD, a[0], a[1])?,
            nr::faccessat | nr::faccessat2 => self.sys_faccessat(mem, a[0], a[1], a[2])?,
            nr::unlink => self.sys_unlinkat(mem, AT_FDCWD, a[0], 0)?,
            nr::rmdir => self.sys_unlinkat(mem, AT_FDCWD, a[0], AT_REMOVEDIR)?,
            nr::unlinkat => self.sys_unlinkat(mem, a[0], a[1], a[2])?,
            nr::mkdir => self.sys_mkdirat(mem, AT_FDCWD, a[0], a[1])?,
            nr::mkdirat => self.sys_mkdirat(mem, a[0], a[1], a[2])?,
            nr::rename => self.sys_renameat(mem, AT_FDCWD, a[0], AT_FDCWD, a[1], 0)?,
            nr::renameat => self.sys_renameat(mem, a[0], a[1], a[2], a[3], 0)?,
            nr::renameat2 => self.sys_renameat(mem, a[0], a[1], a[2], a[3], a[4])?,
            nr::dup => self.sys_dup(a[0])?,
            nr::dup2 => self.sys_dup3(a[0], a[1], None)?,
            nr::dup3 => self.sys_dup3(a[0], a[1], Some(a[2]))?,
            nr::fcntl | nr::fcntl64 => self.sys_fcntl(a[0], a[1], a[2])?,
            nr::pipe => self.sys_pipe2(mem, a[0], 0)?,
            nr::pipe2 => self.sys_pipe2(mem, a[0], a[1])?,
            nr::ioctl => self.sys_ioctl(mem, a[0], a[1], a[2])?,
            nr::getcwd => self.sys_getcwd(mem, a[0], a[1])?,
            nr::umask => std::mem::replace(&mut self.umask, a[0] & 0o777),
            nr::brk => mem.brk(a[0]),
            nr::mmap => self.sys_mmap(mem, a, super::mm::Offset::Bytes(a[5]))?,
            nr::mmap2 => self.sys_mmap(mem, a, super::mm::Offset::Pages(a[5]))?,
            nr::munmap => super::mm::sys_munmap(mem, a[0], a[1])?,
            nr::mprotect => super::mm::sys_mprotect(mem, a[0], a[1], a[2])?,
            nr::madvise => super::mm::sys_madvise(mem, a[0], a[1], a[2])?,
            nr::clock_gettime => self.sys_clock_gettime(mem, a[0], a[1], false)?,
            nr::clock_gettime64 => self.sys_clock_gettime(mem, a[0], a[1], true)?,
            nr::clock_getres => super::misc::sys_clock_getres(mem, a[0], a[1], false)?,
            nr::clock_getres_time64 => super::misc::sys_clock_getres(mem, a[0], a[1], true)?,
            nr::gettimeofday => self.sys_gettimeofday(mem, a[0])?,
            nr::time => self.sys_time(mem, a[0])?,
            nr::nanosleep => self.sys_clock_nanosleep(mem, CLOCK_MONOTONIC, 0, a[0], a[1], false)?,
            nr::clock_nanosleep => self.sys_clock_nanosleep(mem, a[0], a[1], a[2], a[3], false)?,
            nr::clock_nanosleep_time64 => self.sys_clock_nanosleep(mem, a[0], a[1], a[2], a[3], true)?,
            nr::getpid | nr::gettid => GUEST_PID,
            nr::getppid => GUEST_PPID,
            nr::getuid | nr::geteuid => GUEST_UID,
            nr::getgid | nr::getegid => GUEST_GID,
            nr::uname => super::misc::sys_uname(mem, a[0])?,
            nr::getrandom => self.sys_getrandom(mem, a[0], a[1], a[2])?,
            nr::set_tid_address => {
                self.tid_address = a[0];
                GUEST_PID
            }
            nr::set_robust_list => {
                // sizeof(struct robust_list_head) on a 32-bit task.
                if a[1] != 12 {
                    return Err(Errno::EINVAL);
                }
                self.robust_list = a[0];
                0
            }
            nr::rt_sigprocmask => self.sys_rt_sigprocmask(mem, a[0], a[1], a[2], a[3])?,
            nr::rt_sigaction => self.sys_rt_sigaction(mem, a[0], a[1], a[2], a[3])?,
            nr::rt_sigreturn => return Ok(SyscallOutcome::Sigreturn),
            nr::pause => return Ok(SyscallOutcome::Suspend(None)),
            nr::rt_sigsuspend => return self.sys_rt_sigsuspend(mem, a[0], a[1]),
            nr::sigaltstack => self.sys_sigaltstack(mem, a[0], a[1])?,
            nr::kill => return self.sys_kill(a[0], a[1]),
            nr::tkill => return self.sys_kill(a[0], a[1]),
            nr::tgkill => return self.sys_kill(a[1], a[2]),
            nr::getrlimit => self.sys_getrlimit(mem, a[0], a[1])?,
            nr::setrlimit => self.sys_setrlimit(mem, a[0], a[1])?,
            nr::prlimit64 => self.sys_prlimit64(mem, a[0], a[1], a[2], a[3])?,
            nr::sched_getaffinity => super::misc::sys_sched_getaffinity(mem, a[1], a[2])?,
            nr::sched_yield => 0,
            nr::poll => self.sys_poll(mem, a[0], a[1], a[2] as i32)?,
            nr::ppoll => self.sys_ppoll(mem, a[0], a[1], a[2], false)?,
            nr::ppoll_time64 => self.sys_ppoll(mem, a[0], a[1], a[2], true)?,
            nr::_newselect => self.sys_select(mem, a, super::poll::Timeout::Timeval(a[4]))?,
            nr::pselect6 => self.sys_select(mem, a, super::poll::Timeout::Timespec32(a[4]))?,
            nr::pselect6_time64 => self.sys_select(mem, a, super::poll::Timeout::Timespec64(a[4]))?,
            nr::alarm => self.sys_alarm(a[0])?,
            nr::setitimer => self.sys_setitimer(mem, a[0], a[1], a[2])?,
            nr::getitimer => self.sys_getitimer(mem, a[0], a[1])?,
            nr::timer_create => self.sys_timer_create(mem, a[0], a[1], a[2])?,
            nr::timer_settime => self.sys_timer_settime(mem, a[0], a[1], a[2], a[3], false)?,
            nr::timer_settime64 => self.sys_timer_settime(mem, a[0], a[1], a[2], a[3], true)?,
            nr::timer_gettime => self.sys_timer_gettime(mem, a[0], a[1], false)?,
            nr::timer_gettime64 => self.sys_timer_gettime(mem, a[0], a[1], true)?,
            nr::timer_getoverrun => self.sys_timer_getoverrun(a[0])?,
            nr::timer_delete => self.sys_timer_delete(a[0])?,
            nr::sysinfo => self.sys_sysinfo(mem, a[0])?,
            // Restartable sequences are optional; glibc copes with ENOSYS.
            nr::rseq => return Err(Errno::ENOSYS),
            _ => return Err(self.unimplemented(n)),
        };
        Ok(Return(value))
    }

    fn unimplemented(&mut self, n: u32) -> Errno {
        if self.reported_unimplemented.insert(n) {
            let name = numbers::name(n).unwrap_or("unknown");
            eprintln!("hbft: unimplemented system call {name} ({n})");
        }
        Errno::ENOSYS
    }

    /// The environment handle behind guest descriptor `fd`.
    pub(super) fn handle(&self, fd: u32) -> SysResult<Handle> {
        self.fds.get(&fd).map(|e| e.handle).ok_or(Errno::EBADF)
    }

    /// The directory for a `*at` call's `dirfd`.
    pub(super) fn dir(&self, dirfd: u32) -> SysResult<Dir> {
        if dirfd as i32 == AT_FDCWD as i32 {
            Ok(Dir::Cwd)
        } else {
            self.handle(dirfd).map(Dir::Handle)
        }
    }

    /// Installs `handle` at the lowest free descriptor at or above `min`.
    pub(super) fn install(&mut self, handle: Handle, cloexec: bool, min: u32) -> SysResult<u32> {
        let limit = self.rlimits.get(&super::misc::RLIMIT_NOFILE).map_or(1024, |r| r.0) as u32;
        let fd = (min..limit).find(|fd| !self.fds.contains_key(fd));
        match fd {
            Some(fd) => {
                self.fds.insert(fd, FdEntry { handle, cloexec });
                Ok(fd)
            }
            None => {
                // Ignoring a close error: the descriptor was never visible to the guest.
                let _ = self.env.close(handle);
                Err(Errno::EMFILE)
            }
        }
    }
}

/// `AT_FDCWD` as it arrives in a 32-bit register.
pub(super) const AT_FDCWD: u32 = -100i32 as u32;
pub(super) const AT_SYMLINK_NOFOLLOW: u32 = 0x100;
pub(super) const AT_REMOVEDIR: u32 = 0x200;
pub(super) const AT_EMPTY_PATH: u32 = 0x1000;
pub(super) const CLOCK_MONOTONIC: u32 = 1;
