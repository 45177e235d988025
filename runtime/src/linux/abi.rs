//! Linux/parisc 32-bit user ABI: guest memory access with EFAULT semantics,
//! struct encodings (big-endian, layouts from `/usr/hppa-linux-gnu/include`)
//! and flag translation between guest and host numbering.

use hbft_translator::memory::GuestMemory;

use super::env::{FileStat, Termios, Timespec};
use super::errno::Errno;
use crate::memory::{AddressSpace, CStrError};

/// Longest path the kernel accepts (PATH_MAX, including the NUL).
const PATH_MAX: usize = 4096;

pub fn read_mem(mem: &AddressSpace, addr: u32, len: usize) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; len];
    mem.read_bytes(addr, &mut buf).map_err(|_| Errno::EFAULT)?;
    Ok(buf)
}

pub fn write_mem(mem: &mut AddressSpace, addr: u32, data: &[u8]) -> Result<(), Errno> {
    mem.write_bytes(addr, data).map_err(|_| Errno::EFAULT)
}

pub fn write_word(mem: &mut AddressSpace, addr: u32, value: u32) -> Result<(), Errno> {
    write_mem(mem, addr, &value.to_be_bytes())
}

/// A path argument: EFAULT, or ENAMETOOLONG past PATH_MAX.
pub fn read_path(mem: &AddressSpace, addr: u32) -> Result<Vec<u8>, Errno> {
    mem.read_cstring(addr, PATH_MAX - 1).map_err(|e| match e {
        CStrError::Fault(_) => Errno::EFAULT,
        CStrError::TooLong { .. } => Errno::ENAMETOOLONG,
    })
}

/// Joins two 32-bit halves of a 64-bit argument (high word first, as parisc passes them).
pub fn join64(high: u32, low: u32) -> i64 {
    ((u64::from(high) << 32) | u64::from(low)) as i64
}

/// `struct stat64` (asm/stat.h): 104 bytes; long longs are 8-aligned.
pub fn stat64(st: &FileStat) -> [u8; 104] {
    let mut b = [0u8; 104];
    put64(&mut b, 0, st.dev);
    put32(&mut b, 12, st.ino as u32);
    put32(&mut b, 16, st.mode);
    put32(&mut b, 20, st.nlink);
    put32(&mut b, 24, st.uid);
    put32(&mut b, 28, st.gid);
    put64(&mut b, 32, st.rdev);
    put64(&mut b, 48, st.size as u64);
    put32(&mut b, 56, st.blksize as u32);
    put64(&mut b, 64, st.blocks as u64);
    put32(&mut b, 72, st.atime.sec as u32);
    put32(&mut b, 76, st.atime.nsec);
    put32(&mut b, 80, st.mtime.sec as u32);
    put32(&mut b, 84, st.mtime.nsec);
    put32(&mut b, 88, st.ctime.sec as u32);
    put32(&mut b, 92, st.ctime.nsec);
    put64(&mut b, 96, st.ino);
    b
}

/// `struct statx` (linux/stat.h, same on every architecture): 256 bytes.
pub fn statx(st: &FileStat) -> [u8; 256] {
    const STATX_BASIC_STATS: u32 = 0x7ff;
    let mut b = [0u8; 256];
    put32(&mut b, 0, STATX_BASIC_STATS);
    put32(&mut b, 4, st.blksize as u32);
    put32(&mut b, 16, st.nlink);
    put32(&mut b, 20, st.uid);
    put32(&mut b, 24, st.gid);
    b[28..30].copy_from_slice(&(st.mode as u16).to_be_bytes());
    put64(&mut b, 32, st.ino);
    put64(&mut b, 40, st.size as u64);
    put64(&mut b, 48, st.blocks as u64);
    for (offset, ts) in [(64, st.atime), (96, st.ctime), (112, st.mtime)] {
        put64(&mut b, offset, ts.sec as u64);
        put32(&mut b, offset + 8, ts.nsec);
    }
    let (rmaj, rmin) = dev_split(st.rdev);
    let (dmaj, dmin) = dev_split(st.dev);
    put32(&mut b, 128, rmaj);
    put32(&mut b, 132, rmin);
    put32(&mut b, 136, dmaj);
    put32(&mut b, 140, dmin);
    b
}

/// Major and minor of a Linux `dev_t` (include/linux/kdev_t.h, huge encoding).
fn dev_split(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// 32-bit `struct timespec` / `timeval` ({i32, i32}); seconds truncate as the kernel's compat code does.
pub fn timespec32(ts: Timespec) -> [u8; 8] {
    let mut b = [0u8; 8];
    put32(&mut b, 0, ts.sec as u32);
    put32(&mut b, 4, ts.nsec);
    b
}

/// `struct __kernel_timespec` ({i64, i64}) of the *_time64 calls.
pub fn timespec64(ts: Timespec) -> [u8; 16] {
    let mut b = [0u8; 16];
    put64(&mut b, 0, ts.sec as u64);
    put64(&mut b, 8, u64::from(ts.nsec));
    b
}

pub fn read_timespec32(mem: &AddressSpace, addr: u32) -> Result<Timespec, Errno> {
    let b = read_mem(mem, addr, 8)?;
    let ts = Timespec { sec: i64::from(get32(&b, 0) as i32), nsec: get32(&b, 4) };
    valid_timespec(ts)
}

pub fn read_timespec64(mem: &AddressSpace, addr: u32) -> Result<Timespec, Errno> {
    let b = read_mem(mem, addr, 16)?;
    let ts = Timespec { sec: get64(&b, 0) as i64, nsec: get64(&b, 8) as u32 };
    valid_timespec(ts)
}

fn valid_timespec(ts: Timespec) -> Result<Timespec, Errno> {
    if ts.sec < 0 || ts.nsec >= 1_000_000_000 {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// Guest `struct termios` (asm/termbits.h): as the generic one, except that
/// parisc moves IMAXBEL and IUTF8 up one bit.
pub fn termios(t: &Termios) -> [u8; 36] {
    const HOST_IMAXBEL: u32 = 0x2000;
    const HOST_IUTF8: u32 = 0x4000;
    const GUEST_IMAXBEL: u32 = 0x4000;
    const GUEST_IUTF8: u32 = 0x8000;
    let mut iflag = t.iflag & !(HOST_IMAXBEL | HOST_IUTF8);
    if t.iflag & HOST_IMAXBEL != 0 {
        iflag |= GUEST_IMAXBEL;
    }
    if t.iflag & HOST_IUTF8 != 0 {
        iflag |= GUEST_IUTF8;
    }
    let mut b = [0u8; 36];
    put32(&mut b, 0, iflag);
    put32(&mut b, 4, t.oflag);
    put32(&mut b, 8, t.cflag);
    put32(&mut b, 12, t.lflag);
    b[16] = t.line;
    b[17..36].copy_from_slice(&t.cc);
    b
}

/// A parisc `sigset_t` is two 32-bit words, signals 1..=32 first.
pub fn read_sigset(mem: &AddressSpace, addr: u32) -> Result<u64, Errno> {
    let b = read_mem(mem, addr, 8)?;
    Ok(u64::from(get32(&b, 0)) | (u64::from(get32(&b, 4)) << 32))
}

pub fn sigset(set: u64) -> [u8; 8] {
    let mut b = [0u8; 8];
    put32(&mut b, 0, set as u32);
    put32(&mut b, 4, (set >> 32) as u32);
    b
}

pub fn put32(b: &mut [u8], offset: usize, value: u32) {
    b[offset..offset + 4].copy_from_slice(&value.to_be_bytes());
}

pub fn put64(b: &mut [u8], offset: usize, value: u64) {
    b[offset..offset + 8].copy_from_slice(&value.to_be_bytes());
}

pub fn get32(b: &[u8], offset: usize) -> u32 {
    u32::from_be_bytes(b[offset..offset + 4].try_into().expect("4 bytes"))
}

pub fn get64(b: &[u8], offset: usize) -> u64 {
    u64::from_be_bytes(b[offset..offset + 8].try_into().expect("8 bytes"))
}

/// `O_*` bits that parisc numbers differently (asm/fcntl.h), as
/// (guest, host) pairs. O_ACCMODE and O_TRUNC agree.
const OPEN_FLAGS: &[(u32, i32)] = &[
    (0o000000010, libc::O_APPEND),
    (0o000000400, libc::O_CREAT),
    (0o000002000, libc::O_EXCL),
    (0o000200000, libc::O_NONBLOCK),
    (0o000400000, libc::O_NOCTTY),
    (0o001000000, libc::O_DSYNC),
    (0o000100000, libc::O_SYNC & !libc::O_DSYNC),
    (0o004000000, libc::O_NOATIME),
    (0o000010000, libc::O_DIRECTORY),
    (0o000000200, libc::O_NOFOLLOW),
    (0o020000000, libc::O_PATH),
    (0o040000000, libc::O_TMPFILE & !libc::O_DIRECTORY),
    (0o000020000, libc::O_ASYNC),
    (0o000040000, libc::O_DIRECT),
];

/// Guest `O_CLOEXEC`; kept in the fd table, never passed to the host.
pub const GUEST_O_CLOEXEC: u32 = 0o010000000;
/// Guest `O_LARGEFILE`; always in effect on the host.
const GUEST_O_LARGEFILE: u32 = 0o000004000;

pub fn open_flags_to_host(guest: u32) -> i32 {
    let mut host = (guest & 0o1003) as i32; // O_ACCMODE | O_TRUNC
    for &(g, h) in OPEN_FLAGS {
        if guest & g != 0 {
            host |= h;
        }
    }
    host
}

pub fn open_flags_to_guest(host: i32) -> u32 {
    let mut guest = (host & 0o1003) as u32 | GUEST_O_LARGEFILE;
    for &(g, h) in OPEN_FLAGS {
        if host & h == h {
            guest |= g;
        }
    }
    guest
}
