//! File and descriptor system calls.

use super::abi::{self, read_mem, read_path, write_mem};
use super::env::SysResult;
use super::errno::Errno;
use super::process::{LinuxProcess, AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW};
use crate::memory::AddressSpace;

/// Longest single transfer; the kernel's MAX_RW_COUNT (INT_MAX & PAGE_MASK).
const MAX_RW_COUNT: u32 = 0x7fff_f000;
/// Longest buffer handed to the host at once; longer requests are short reads.
const MAX_CHUNK: u32 = 1 << 24;
/// UIO_MAXIOV.
const IOV_MAX: u32 = 1024;

const F_DUPFD: u32 = 0;
const F_GETFD: u32 = 1;
const F_SETFD: u32 = 2;
const F_GETFL: u32 = 3;
const F_SETFL: u32 = 4;
const F_DUPFD_CLOEXEC: u32 = 1030;
const FD_CLOEXEC: u32 = 1;

/// ioctl requests (asm/ioctls.h for parisc: TCGETS is `_IOR('T', 16, struct termios)`).
const TCGETS: u32 = 0x4024_5410;
const TIOCGWINSZ: u32 = 0x5413;

impl LinuxProcess {
    pub(super) fn sys_read(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32, count: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let data = self.env.read(handle, count.min(MAX_CHUNK) as usize)?;
        write_mem(mem, buf, &data)?;
        Ok(data.len() as u32)
    }

    pub(super) fn sys_write(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32, count: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let data = read_mem(mem, buf, count.min(MAX_CHUNK) as usize)?;
        Ok(self.env.write(handle, &data)? as u32)
    }

    pub(super) fn sys_pread(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32, count: u32, offset: i64) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        let data = self.env.pread(handle, count.min(MAX_CHUNK) as usize, offset)?;
        write_mem(mem, buf, &data)?;
        Ok(data.len() as u32)
    }

    pub(super) fn sys_pwrite(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32, count: u32, offset: i64) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        if offset < 0 {
            return Err(Errno::EINVAL);
        }
        let data = read_mem(mem, buf, count.min(MAX_CHUNK) as usize)?;
        Ok(self.env.pwrite(handle, &data, offset)? as u32)
    }

    /// `(base, len)` pairs of a guest `struct iovec` array.
    fn iovecs(mem: &AddressSpace, iov: u32, count: u32) -> SysResult<Vec<(u32, u32)>> {
        if count > IOV_MAX {
            return Err(Errno::EINVAL);
        }
        let raw = read_mem(mem, iov, count as usize * 8)?;
        let mut total = 0u32;
        let mut out = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let (base, len) = (abi::get32(&raw, i * 8), abi::get32(&raw, i * 8 + 4));
            total = total.checked_add(len).filter(|&t| t <= MAX_RW_COUNT).ok_or(Errno::EINVAL)?;
            out.push((base, len));
        }
        Ok(out)
    }

    pub(super) fn sys_readv(&mut self, mem: &mut AddressSpace, fd: u32, iov: u32, count: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let iovecs = Self::iovecs(mem, iov, count)?;
        let total: u32 = iovecs.iter().map(|v| v.1).sum();
        let data = self.env.read(handle, total.min(MAX_CHUNK) as usize)?;
        let mut rest = &data[..];
        for (base, len) in iovecs {
            let take = rest.len().min(len as usize);
            write_mem(mem, base, &rest[..take])?;
            rest = &rest[take..];
        }
        Ok(data.len() as u32)
    }

    pub(super) fn sys_writev(&mut self, mem: &mut AddressSpace, fd: u32, iov: u32, count: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let mut data = Vec::new();
        for (base, len) in Self::iovecs(mem, iov, count)? {
            data.extend_from_slice(&read_mem(mem, base, len.min(MAX_CHUNK) as usize)?);
        }
        Ok(self.env.write(handle, &data)? as u32)
    }

    pub(super) fn sys_lseek(&mut self, fd: u32, offset: i32, whence: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let pos = self.env.lseek(handle, i64::from(offset), whence as i32)?;
        u32::try_from(pos).ok().filter(|&p| p <= i32::MAX as u32).ok_or(Errno::EOVERFLOW)
    }

    pub(super) fn sys_llseek(&mut self, mem: &mut AddressSpace, fd: u32, high: u32, low: u32, result: u32, whence: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let pos = self.env.lseek(handle, abi::join64(high, low), whence as i32)?;
        write_mem(mem, result, &pos.to_be_bytes())?;
        Ok(0)
    }

    pub(super) fn sys_openat(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, flags: u32, mode: u32) -> SysResult<u32> {
        let path = self.in_sysroot(read_path(mem, path)?);
        let dir = self.dir(dirfd)?;
        let handle = self.env.openat(dir, &path, abi::open_flags_to_host(flags), mode & !self.umask)?;
        self.install(handle, flags & abi::GUEST_O_CLOEXEC != 0, 0)
    }

    pub(super) fn sys_close(&mut self, fd: u32) -> SysResult<u32> {
        let entry = self.fds.remove(&fd).ok_or(Errno::EBADF)?;
        self.env.close(entry.handle)?;
        Ok(0)
    }

    pub(super) fn sys_fstat64(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32) -> SysResult<u32> {
        let st = self.env.fstat(self.handle(fd)?)?;
        write_mem(mem, buf, &abi::stat64(&st))?;
        Ok(0)
    }

    fn stat_at(&mut self, mem: &AddressSpace, dirfd: u32, path: u32, flags: u32) -> SysResult<super::env::FileStat> {
        let path = self.in_sysroot(read_path(mem, path)?);
        if path.is_empty() {
            if flags & AT_EMPTY_PATH == 0 {
                return Err(Errno::ENOENT);
            }
            return match self.dir(dirfd)? {
                super::env::Dir::Handle(h) => self.env.fstat(h),
                super::env::Dir::Cwd => self.env.fstatat(super::env::Dir::Cwd, b".", true),
            };
        }
        let dir = self.dir(dirfd)?;
        self.env.fstatat(dir, &path, flags & AT_SYMLINK_NOFOLLOW == 0)
    }

    pub(super) fn sys_fstatat64(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, buf: u32, flags: u32) -> SysResult<u32> {
        let st = self.stat_at(mem, dirfd, path, flags)?;
        write_mem(mem, buf, &abi::stat64(&st))?;
        Ok(0)
    }

    pub(super) fn sys_statx(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, flags: u32, buf: u32) -> SysResult<u32> {
        let st = self.stat_at(mem, dirfd, path, flags)?;
        write_mem(mem, buf, &abi::statx(&st))?;
        Ok(0)
    }

    pub(super) fn sys_getdents64(&mut self, mem: &mut AddressSpace, fd: u32, buf: u32, count: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        let entries = self.env.getdents(handle, count.min(MAX_CHUNK) as usize)?;
        let mut out = Vec::new();
        for entry in entries {
            // struct linux_dirent64: d_ino, d_off, d_reclen, d_type, d_name, padded to 8.
            let reclen = (19 + entry.name.len() + 1 + 7) & !7;
            let start = out.len();
            out.resize(start + reclen, 0);
            let rec = &mut out[start..];
            abi::put64(rec, 0, entry.ino);
            abi::put64(rec, 8, entry.off as u64);
            rec[16..18].copy_from_slice(&(reclen as u16).to_be_bytes());
            rec[18] = entry.kind;
            rec[19..19 + entry.name.len()].copy_from_slice(&entry.name);
        }
        if out.len() > count as usize {
            return Err(Errno::EINVAL);
        }
        write_mem(mem, buf, &out)?;
        Ok(out.len() as u32)
    }

    pub(super) fn sys_readlinkat(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, buf: u32, size: u32) -> SysResult<u32> {
        if size as i32 <= 0 {
            return Err(Errno::EINVAL);
        }
        let path = self.in_sysroot(read_path(mem, path)?);
        let dir = self.dir(dirfd)?;
        let target = self.env.readlinkat(dir, &path)?;
        let len = target.len().min(size as usize);
        write_mem(mem, buf, &target[..len])?;
        Ok(len as u32)
    }

    pub(super) fn sys_faccessat(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, mode: u32) -> SysResult<u32> {
        let path = self.in_sysroot(read_path(mem, path)?);
        let dir = self.dir(dirfd)?;
        self.env.faccessat(dir, &path, mode as i32)?;
        Ok(0)
    }

    pub(super) fn sys_unlinkat(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, flags: u32) -> SysResult<u32> {
        let path = read_path(mem, path)?;
        let dir = self.dir(dirfd)?;
        self.env.unlinkat(dir, &path, flags & AT_REMOVEDIR != 0)?;
        Ok(0)
    }

    pub(super) fn sys_mkdirat(&mut self, mem: &mut AddressSpace, dirfd: u32, path: u32, mode: u32) -> SysResult<u32> {
        let path = read_path(mem, path)?;
        let dir = self.dir(dirfd)?;
        self.env.mkdirat(dir, &path, mode & !self.umask)?;
        Ok(0)
    }

    pub(super) fn sys_renameat(&mut self, mem: &mut AddressSpace, old_dirfd: u32, old: u32, new_dirfd: u32, new: u32, flags: u32) -> SysResult<u32> {
        if flags != 0 {
            return Err(Errno::EINVAL);
        }
        let (old, new) = (read_path(mem, old)?, read_path(mem, new)?);
        let (old_dir, new_dir) = (self.dir(old_dirfd)?, self.dir(new_dirfd)?);
        self.env.renameat(old_dir, &old, new_dir, &new)?;
        Ok(0)
    }

    pub(super) fn sys_dup(&mut self, fd: u32) -> SysResult<u32> {
        let handle = self.env.dup(self.handle(fd)?)?;
        self.install(handle, false, 0)
    }

    /// dup2 (`flags` None) and dup3.
    pub(super) fn sys_dup3(&mut self, old: u32, new: u32, flags: Option<u32>) -> SysResult<u32> {
        let handle = self.handle(old)?;
        let cloexec = match flags {
            None if old == new => return Ok(new),
            None => false,
            Some(_) if old == new => return Err(Errno::EINVAL),
            Some(f) if f & !abi::GUEST_O_CLOEXEC != 0 => return Err(Errno::EINVAL),
            Some(f) => f != 0,
        };
        let limit = self.rlimits.get(&super::misc::RLIMIT_NOFILE).map_or(1024, |r| r.0);
        if u64::from(new) >= limit {
            return Err(Errno::EBADF);
        }
        let copy = self.env.dup(handle)?;
        if let Some(previous) = self.fds.insert(new, super::process::FdEntry { handle: copy, cloexec }) {
            // dup2 closes the old descriptor silently, as the kernel does.
            let _ = self.env.close(previous.handle);
        }
        Ok(new)
    }

    pub(super) fn sys_fcntl(&mut self, fd: u32, cmd: u32, arg: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                let copy = self.env.dup(handle)?;
                self.install(copy, cmd == F_DUPFD_CLOEXEC, arg)
            }
            F_GETFD => Ok(u32::from(self.fds[&fd].cloexec)),
            F_SETFD => {
                if let Some(entry) = self.fds.get_mut(&fd) {
                    entry.cloexec = arg & FD_CLOEXEC != 0;
                }
                Ok(0)
            }
            F_GETFL => Ok(abi::open_flags_to_guest(self.env.status_flags(handle)?)),
            F_SETFL => {
                self.env.set_status_flags(handle, abi::open_flags_to_host(arg))?;
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    pub(super) fn sys_pipe2(&mut self, mem: &mut AddressSpace, fds: u32, flags: u32) -> SysResult<u32> {
        let (r, w) = self.env.pipe()?;
        let cloexec = flags & abi::GUEST_O_CLOEXEC != 0;
        if flags & !abi::GUEST_O_CLOEXEC != 0 {
            self.env.set_status_flags(r, abi::open_flags_to_host(flags & !abi::GUEST_O_CLOEXEC))?;
            self.env.set_status_flags(w, abi::open_flags_to_host(flags & !abi::GUEST_O_CLOEXEC))?;
        }
        let read_fd = self.install(r, cloexec, 0)?;
        let write_fd = self.install(w, cloexec, 0)?;
        let mut pair = [0u8; 8];
        abi::put32(&mut pair, 0, read_fd);
        abi::put32(&mut pair, 4, write_fd);
        write_mem(mem, fds, &pair)?;
        Ok(0)
    }

    pub(super) fn sys_ioctl(&mut self, mem: &mut AddressSpace, fd: u32, request: u32, arg: u32) -> SysResult<u32> {
        let handle = self.handle(fd)?;
        match request {
            TCGETS => {
                let t = self.env.tcgets(handle)?;
                write_mem(mem, arg, &abi::termios(&t))?;
            }
            TIOCGWINSZ => {
                let ws = self.env.winsize(handle)?;
                let mut b = [0u8; 8];
                for (i, v) in [ws.rows, ws.cols, ws.xpixel, ws.ypixel].into_iter().enumerate() {
                    b[i * 2..i * 2 + 2].copy_from_slice(&v.to_be_bytes());
                }
                write_mem(mem, arg, &b)?;
            }
            _ => return Err(Errno::ENOTTY),
        }
        Ok(0)
    }

    pub(super) fn sys_getcwd(&mut self, mem: &mut AddressSpace, buf: u32, size: u32) -> SysResult<u32> {
        let mut cwd = self.env.getcwd()?;
        cwd.push(0);
        if cwd.len() > size as usize {
            return Err(Errno::ERANGE);
        }
        write_mem(mem, buf, &cwd)?;
        Ok(cwd.len() as u32)
    }
}
