//! The `Environment`: the only way the Linux personality touches the host.
//!
//! Every method is one environment interaction; its return value (already
//! translated to guest errnos and host-independent types) is everything the
//! guest may learn from it. A recording environment can log these values and
//! a replaying one return them without touching the host. Guest memory is
//! never written here: the system call layer copies the returned bytes.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

use serde::{Deserialize, Serialize};

use super::errno::Errno;

pub type SysResult<T> = Result<T, Errno>;

/// A host object (a host file descriptor in the live environment).
pub type Handle = i32;

/// The directory a relative path is resolved against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dir {
    /// The process's working directory (`AT_FDCWD`).
    Cwd,
    Handle(Handle),
}

/// A point in time or a duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timespec {
    pub sec: i64,
    pub nsec: u32,
}

/// File metadata, independent of any struct layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FileStat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i32,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
}

/// One directory entry as `getdents64` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirEntry {
    pub ino: u64,
    pub off: i64,
    pub kind: u8,
    pub name: Vec<u8>,
}

/// Terminal attributes in generic Linux numbering (`struct termios`, 19 c_cc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Termios {
    pub iflag: u32,
    pub oflag: u32,
    pub cflag: u32,
    pub lflag: u32,
    pub line: u8,
    pub cc: [u8; 19],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct WinSize {
    pub rows: u16,
    pub cols: u16,
    pub xpixel: u16,
    pub ypixel: u16,
}

/// The host facts `sysinfo(2)` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SysInfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub procs: u16,
}

/// Host interactions of the Linux personality. Flags are host `O_*` values
/// and paths raw bytes; errors are guest errnos.
pub trait Environment {
    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle>;
    fn close(&mut self, handle: Handle) -> SysResult<()>;
    /// Reads up to `len` bytes at the current position.
    fn read(&mut self, handle: Handle, len: usize) -> SysResult<Vec<u8>>;
    fn pread(&mut self, handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>>;
    /// Writes guest output (an effect); returns the count written.
    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize>;
    fn pwrite(&mut self, handle: Handle, data: &[u8], offset: i64) -> SysResult<usize>;
    fn lseek(&mut self, handle: Handle, offset: i64, whence: i32) -> SysResult<i64>;
    fn fstat(&mut self, handle: Handle) -> SysResult<FileStat>;
    fn fstatat(&mut self, dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat>;
    /// Directory entries whose `getdents64` records fit in `max_bytes`.
    fn getdents(&mut self, handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>>;
    fn readlinkat(&mut self, dir: Dir, path: &[u8]) -> SysResult<Vec<u8>>;
    fn faccessat(&mut self, dir: Dir, path: &[u8], mode: i32) -> SysResult<()>;
    fn unlinkat(&mut self, dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()>;
    fn mkdirat(&mut self, dir: Dir, path: &[u8], mode: u32) -> SysResult<()>;
    fn renameat(&mut self, old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()>;
    fn dup(&mut self, handle: Handle) -> SysResult<Handle>;
    /// File status flags (host `O_*`, as `F_GETFL`).
    fn status_flags(&mut self, handle: Handle) -> SysResult<i32>;
    fn set_status_flags(&mut self, handle: Handle, host_flags: i32) -> SysResult<()>;
    /// A pipe: (read end, write end).
    fn pipe(&mut self) -> SysResult<(Handle, Handle)>;
    /// Terminal attributes; ENOTTY when `handle` is not a terminal.
    fn tcgets(&mut self, handle: Handle) -> SysResult<Termios>;
    fn winsize(&mut self, handle: Handle) -> SysResult<WinSize>;
    /// Waits for `(handle, events)`; returns each `revents` (`timeout_ms < 0`: forever).
    fn poll(&mut self, fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>>;
    fn clock_gettime(&mut self, clock: u32) -> SysResult<Timespec>;
    fn sleep(&mut self, duration: Timespec);
    fn random_bytes(&mut self, len: usize) -> Vec<u8>;
    fn getcwd(&mut self) -> SysResult<Vec<u8>>;
    fn sysinfo(&mut self) -> SysResult<SysInfo>;
}

/// The live environment: real host I/O, clocks and randomness.
#[derive(Debug, Default)]
pub struct HostEnvironment;

fn cstring(path: &[u8]) -> SysResult<CString> {
    CString::new(path).map_err(|_| Errno::EINVAL)
}

fn dirfd(dir: Dir) -> libc::c_int {
    match dir {
        Dir::Cwd => libc::AT_FDCWD,
        Dir::Handle(h) => h,
    }
}

/// Turns a libc return value into a result, reading errno on -1.
fn check<T: Copy + PartialEq + From<i8>>(ret: T) -> SysResult<T> {
    if ret == T::from(-1) {
        Err(Errno::last_host())
    } else {
        Ok(ret)
    }
}

fn timespec(sec: i64, nsec: i64) -> Timespec {
    Timespec { sec, nsec: nsec as u32 }
}

fn file_stat(st: &libc::stat) -> FileStat {
    FileStat {
        dev: st.st_dev,
        ino: st.st_ino,
        mode: st.st_mode,
        nlink: st.st_nlink as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev,
        size: st.st_size,
        blksize: st.st_blksize as i32,
        blocks: st.st_blocks,
        atime: timespec(st.st_atime, st.st_atime_nsec),
        mtime: timespec(st.st_mtime, st.st_mtime_nsec),
        ctime: timespec(st.st_ctime, st.st_ctime_nsec),
    }
}

impl Environment for HostEnvironment {
    fn openat(&mut self, dir: Dir, path: &[u8], host_flags: i32, mode: u32) -> SysResult<Handle> {
        let path = cstring(path)?;
        // The host never execs, so every host descriptor is close-on-exec.
        let flags = host_flags | libc::O_CLOEXEC;
        // SAFETY: `path` is NUL-terminated.
        check(unsafe { libc::openat(dirfd(dir), path.as_ptr(), flags, mode) })
    }

    fn close(&mut self, handle: Handle) -> SysResult<()> {
        // SAFETY: closing a descriptor the fd table owns.
        check(unsafe { libc::close(handle) }).map(drop)
    }

    fn read(&mut self, handle: Handle, len: usize) -> SysResult<Vec<u8>> {
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` has `len` writable bytes.
        let n = check(unsafe { libc::read(handle, buf.as_mut_ptr().cast(), len) })?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn pread(&mut self, handle: Handle, len: usize, offset: i64) -> SysResult<Vec<u8>> {
        let mut buf = vec![0u8; len];
        // SAFETY: `buf` has `len` writable bytes.
        let n = check(unsafe { libc::pread(handle, buf.as_mut_ptr().cast(), len, offset) })?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn write(&mut self, handle: Handle, data: &[u8]) -> SysResult<usize> {
        // SAFETY: `data` is readable for its length.
        check(unsafe { libc::write(handle, data.as_ptr().cast(), data.len()) }).map(|n| n as usize)
    }

    fn pwrite(&mut self, handle: Handle, data: &[u8], offset: i64) -> SysResult<usize> {
        // SAFETY: `data` is readable for its length.
        check(unsafe { libc::pwrite(handle, data.as_ptr().cast(), data.len(), offset) })
            .map(|n| n as usize)
    }

    fn lseek(&mut self, handle: Handle, offset: i64, whence: i32) -> SysResult<i64> {
        // SAFETY: plain system call.
        check(unsafe { libc::lseek(handle, offset, whence) })
    }

    fn fstat(&mut self, handle: Handle) -> SysResult<FileStat> {
        // SAFETY: `st` is a valid out-parameter.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        check(unsafe { libc::fstat(handle, &mut st) })?;
        Ok(file_stat(&st))
    }

    fn fstatat(&mut self, dir: Dir, path: &[u8], follow_links: bool) -> SysResult<FileStat> {
        let path = cstring(path)?;
        let flags = if follow_links { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
        // SAFETY: `st` is a valid out-parameter; `path` is NUL-terminated.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        check(unsafe { libc::fstatat(dirfd(dir), path.as_ptr(), &mut st, flags) })?;
        Ok(file_stat(&st))
    }

    fn getdents(&mut self, handle: Handle, max_bytes: usize) -> SysResult<Vec<DirEntry>> {
        // Host and guest getdents64 records have the same sizes, so a host
        // buffer of the guest's size yields entries that fit the guest's.
        let mut buf = vec![0u8; max_bytes];
        // SAFETY: `buf` has `max_bytes` writable bytes.
        let n = check(unsafe {
            libc::syscall(libc::SYS_getdents64, handle, buf.as_mut_ptr(), max_bytes)
        })? as usize;
        let mut entries = Vec::new();
        let mut at = 0;
        while at + 19 <= n {
            let rec = &buf[at..];
            let reclen = u16::from_ne_bytes([rec[16], rec[17]]) as usize;
            let name = &rec[19..reclen];
            let name_len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
            entries.push(DirEntry {
                ino: u64::from_ne_bytes(rec[0..8].try_into().expect("8 bytes")),
                off: i64::from_ne_bytes(rec[8..16].try_into().expect("8 bytes")),
                kind: rec[18],
                name: name[..name_len].to_vec(),
            });
            at += reclen.max(1);
        }
        Ok(entries)
    }

    fn readlinkat(&mut self, dir: Dir, path: &[u8]) -> SysResult<Vec<u8>> {
        let path = cstring(path)?;
        let mut buf = vec![0u8; 4096];
        // SAFETY: `buf` has 4096 writable bytes.
        let n = check(unsafe {
            libc::readlinkat(dirfd(dir), path.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
        })?;
        buf.truncate(n as usize);
        Ok(buf)
    }

    fn faccessat(&mut self, dir: Dir, path: &[u8], mode: i32) -> SysResult<()> {
        let path = cstring(path)?;
        // SAFETY: `path` is NUL-terminated.
        check(unsafe { libc::faccessat(dirfd(dir), path.as_ptr(), mode, 0) }).map(drop)
    }

    fn unlinkat(&mut self, dir: Dir, path: &[u8], remove_dir: bool) -> SysResult<()> {
        let path = cstring(path)?;
        let flags = if remove_dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: `path` is NUL-terminated.
        check(unsafe { libc::unlinkat(dirfd(dir), path.as_ptr(), flags) }).map(drop)
    }

    fn mkdirat(&mut self, dir: Dir, path: &[u8], mode: u32) -> SysResult<()> {
        let path = cstring(path)?;
        // SAFETY: `path` is NUL-terminated.
        check(unsafe { libc::mkdirat(dirfd(dir), path.as_ptr(), mode) }).map(drop)
    }

    fn renameat(&mut self, old_dir: Dir, old: &[u8], new_dir: Dir, new: &[u8]) -> SysResult<()> {
        let (old, new) = (cstring(old)?, cstring(new)?);
        // SAFETY: both paths are NUL-terminated.
        check(unsafe { libc::renameat(dirfd(old_dir), old.as_ptr(), dirfd(new_dir), new.as_ptr()) })
            .map(drop)
    }

    fn dup(&mut self, handle: Handle) -> SysResult<Handle> {
        // SAFETY: plain system call.
        check(unsafe { libc::fcntl(handle, libc::F_DUPFD_CLOEXEC, 0) })
    }

    fn status_flags(&mut self, handle: Handle) -> SysResult<i32> {
        // SAFETY: plain system call.
        check(unsafe { libc::fcntl(handle, libc::F_GETFL) })
    }

    fn set_status_flags(&mut self, handle: Handle, host_flags: i32) -> SysResult<()> {
        // SAFETY: plain system call.
        check(unsafe { libc::fcntl(handle, libc::F_SETFL, host_flags) }).map(drop)
    }

    fn pipe(&mut self) -> SysResult<(Handle, Handle)> {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for two descriptors.
        check(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
        Ok((fds[0], fds[1]))
    }

    fn tcgets(&mut self, handle: Handle) -> SysResult<Termios> {
        // The kernel's own struct termios (not glibc's): 4 flags, line, 19 cc.
        let mut raw = [0u8; 36];
        // SAFETY: TCGETS writes a 36-byte kernel termios on Linux hosts.
        check(unsafe { libc::ioctl(handle, libc::TCGETS, raw.as_mut_ptr()) })?;
        let word = |i: usize| u32::from_ne_bytes(raw[i * 4..i * 4 + 4].try_into().expect("4 bytes"));
        let mut cc = [0u8; 19];
        cc.copy_from_slice(&raw[17..36]);
        Ok(Termios { iflag: word(0), oflag: word(1), cflag: word(2), lflag: word(3), line: raw[16], cc })
    }

    fn winsize(&mut self, handle: Handle) -> SysResult<WinSize> {
        // SAFETY: `ws` is a valid out-parameter for TIOCGWINSZ.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        check(unsafe { libc::ioctl(handle, libc::TIOCGWINSZ, &mut ws) })?;
        Ok(WinSize { rows: ws.ws_row, cols: ws.ws_col, xpixel: ws.ws_xpixel, ypixel: ws.ws_ypixel })
    }

    fn poll(&mut self, fds: &[(Handle, i16)], timeout_ms: i32) -> SysResult<Vec<i16>> {
        let mut polls: Vec<libc::pollfd> =
            fds.iter().map(|&(fd, events)| libc::pollfd { fd, events, revents: 0 }).collect();
        // SAFETY: `polls` holds `len` pollfd structures.
        check(unsafe { libc::poll(polls.as_mut_ptr(), polls.len() as libc::nfds_t, timeout_ms) })?;
        Ok(polls.iter().map(|p| p.revents).collect())
    }

    fn clock_gettime(&mut self, clock: u32) -> SysResult<Timespec> {
        // SAFETY: `ts` is a valid out-parameter.
        let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
        check(unsafe { libc::clock_gettime(clock as libc::clockid_t, &mut ts) })?;
        Ok(timespec(ts.tv_sec, ts.tv_nsec))
    }

    fn sleep(&mut self, duration: Timespec) {
        let secs = u64::try_from(duration.sec).unwrap_or(0);
        std::thread::sleep(std::time::Duration::new(secs, duration.nsec.min(999_999_999)));
    }

    fn random_bytes(&mut self, len: usize) -> Vec<u8> {
        let mut buf = vec![0u8; len];
        let mut filled = 0;
        while filled < len {
            // SAFETY: the tail of `buf` is writable.
            let n = unsafe { libc::getrandom(buf[filled..].as_mut_ptr().cast(), len - filled, 0) };
            if n <= 0 {
                break;
            }
            filled += n as usize;
        }
        buf
    }

    fn getcwd(&mut self) -> SysResult<Vec<u8>> {
        Ok(std::env::current_dir()?.as_os_str().as_bytes().to_vec())
    }

    fn sysinfo(&mut self) -> SysResult<SysInfo> {
        // SAFETY: `info` is a valid out-parameter.
        let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
        check(unsafe { libc::sysinfo(&mut info) })?;
        let unit = u64::from(info.mem_unit.max(1));
        Ok(SysInfo {
            uptime: info.uptime,
            loads: info.loads,
            totalram: info.totalram * unit,
            freeram: info.freeram * unit,
            procs: info.procs,
        })
    }
}
