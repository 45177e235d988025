//! Time, identity, resource and information system calls.

use std::collections::BTreeMap;

use super::abi::{self, write_mem};
use super::env::{SysResult, Timespec};
use super::errno::Errno;
use super::process::LinuxProcess;
use crate::memory::AddressSpace;

pub const RLIMIT_STACK: u32 = 3;
pub const RLIMIT_NOFILE: u32 = 7;
const RLIM_INFINITY: u64 = u64::MAX;
const RLIM_NLIMITS: u32 = 16;
const TIMER_ABSTIME: u32 = 1;
const GRND_FLAGS: u32 = 0x7; // GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE

/// The limits a fresh process sees; all others are unlimited.
pub fn default_rlimits() -> BTreeMap<u32, (u64, u64)> {
    BTreeMap::from([(RLIMIT_STACK, (8 << 20, RLIM_INFINITY)), (RLIMIT_NOFILE, (1024, 4096))])
}

/// `uname`: a fixed machine, so that replicas and runs agree.
pub fn sys_uname(mem: &mut AddressSpace, buf: u32) -> SysResult<u32> {
    let fields: [&[u8]; 6] = [b"Linux", b"hbft", b"6.1.0", b"#1 SMP hbft", b"parisc", b"(none)"];
    let mut b = [0u8; 6 * 65];
    for (i, field) in fields.iter().enumerate() {
        b[i * 65..i * 65 + field.len()].copy_from_slice(field);
    }
    write_mem(mem, buf, &b)?;
    Ok(0)
}

/// One virtual CPU.
pub fn sys_sched_getaffinity(mem: &mut AddressSpace, len: u32, mask: u32) -> SysResult<u32> {
    if len < 4 || !len.is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    write_mem(mem, mask, &1u32.to_be_bytes())?;
    Ok(4)
}

/// Every clock has nanosecond resolution; a constant, not a host fact.
pub fn sys_clock_getres(mem: &mut AddressSpace, clock: u32, res: u32, time64: bool) -> SysResult<u32> {
    if clock > 11 {
        return Err(Errno::EINVAL);
    }
    if res != 0 {
        let one = Timespec { sec: 0, nsec: 1 };
        if time64 {
            write_mem(mem, res, &abi::timespec64(one))?;
        } else {
            write_mem(mem, res, &abi::timespec32(one))?;
        }
    }
    Ok(0)
}

impl LinuxProcess {
    pub(super) fn sys_clock_gettime(&mut self, mem: &mut AddressSpace, clock: u32, ts: u32, time64: bool) -> SysResult<u32> {
        let now = self.env.clock_gettime(clock)?;
        if time64 {
            write_mem(mem, ts, &abi::timespec64(now))?;
        } else {
            write_mem(mem, ts, &abi::timespec32(now))?;
        }
        Ok(0)
    }

    pub(super) fn sys_gettimeofday(&mut self, mem: &mut AddressSpace, tv: u32) -> SysResult<u32> {
        if tv != 0 {
            let now = self.env.clock_gettime(0)?;
            let micros = Timespec { sec: now.sec, nsec: now.nsec / 1000 };
            write_mem(mem, tv, &abi::timespec32(micros))?;
        }
        Ok(0)
    }

    pub(super) fn sys_time(&mut self, mem: &mut AddressSpace, tloc: u32) -> SysResult<u32> {
        let now = self.env.clock_gettime(0)?.sec as u32;
        if tloc != 0 {
            abi::write_word(mem, tloc, now)?;
        }
        Ok(now)
    }

    /// nanosleep and clock_nanosleep; sleeps are never interrupted, so the
    /// remaining time is never written.
    pub(super) fn sys_clock_nanosleep(&mut self, mem: &mut AddressSpace, clock: u32, flags: u32, req: u32, _rem: u32, time64: bool) -> SysResult<u32> {
        let request = if time64 { abi::read_timespec64(mem, req)? } else { abi::read_timespec32(mem, req)? };
        let duration = if flags & TIMER_ABSTIME != 0 {
            let now = self.env.clock_gettime(clock)?;
            let total = |t: Timespec| i128::from(t.sec) * 1_000_000_000 + i128::from(t.nsec);
            let left = (total(request) - total(now)).max(0);
            Timespec { sec: (left / 1_000_000_000) as i64, nsec: (left % 1_000_000_000) as u32 }
        } else {
            request
        };
        self.env.sleep(duration);
        Ok(0)
    }

    pub(super) fn sys_getrandom(&mut self, mem: &mut AddressSpace, buf: u32, len: u32, flags: u32) -> SysResult<u32> {
        if flags & !GRND_FLAGS != 0 {
            return Err(Errno::EINVAL);
        }
        let bytes = self.env.random_bytes(len.min(1 << 25) as usize);
        write_mem(mem, buf, &bytes)?;
        Ok(bytes.len() as u32)
    }

    fn rlimit(&self, resource: u32) -> SysResult<(u64, u64)> {
        if resource >= RLIM_NLIMITS {
            return Err(Errno::EINVAL);
        }
        Ok(self.rlimits.get(&resource).copied().unwrap_or((RLIM_INFINITY, RLIM_INFINITY)))
    }

    fn set_rlimit(&mut self, resource: u32, limit: (u64, u64)) -> SysResult<()> {
        let (_, max) = self.rlimit(resource)?;
        if limit.0 > limit.1 || limit.1 > max {
            return Err(if limit.0 > limit.1 { Errno::EINVAL } else { Errno::EPERM });
        }
        self.rlimits.insert(resource, limit);
        Ok(())
    }

    /// getrlimit with a 32-bit `struct rlimit`; larger values read as RLIM_INFINITY.
    pub(super) fn sys_getrlimit(&mut self, mem: &mut AddressSpace, resource: u32, rlim: u32) -> SysResult<u32> {
        let (cur, max) = self.rlimit(resource)?;
        let clamp = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
        let mut b = [0u8; 8];
        abi::put32(&mut b, 0, clamp(cur));
        abi::put32(&mut b, 4, clamp(max));
        write_mem(mem, rlim, &b)?;
        Ok(0)
    }

    pub(super) fn sys_setrlimit(&mut self, mem: &mut AddressSpace, resource: u32, rlim: u32) -> SysResult<u32> {
        let b = abi::read_mem(mem, rlim, 8)?;
        let widen = |v: u32| if v == u32::MAX { RLIM_INFINITY } else { u64::from(v) };
        self.set_rlimit(resource, (widen(abi::get32(&b, 0)), widen(abi::get32(&b, 4))))?;
        Ok(0)
    }

    pub(super) fn sys_prlimit64(&mut self, mem: &mut AddressSpace, pid: u32, resource: u32, new: u32, old: u32) -> SysResult<u32> {
        if pid != 0 && pid != super::process::GUEST_PID {
            return Err(Errno::ESRCH);
        }
        let (cur, max) = self.rlimit(resource)?;
        let new_limit = if new != 0 {
            let b = abi::read_mem(mem, new, 16)?;
            Some((abi::get64(&b, 0), abi::get64(&b, 8)))
        } else {
            None
        };
        if old != 0 {
            let mut b = [0u8; 16];
            abi::put64(&mut b, 0, cur);
            abi::put64(&mut b, 8, max);
            write_mem(mem, old, &b)?;
        }
        if let Some(limit) = new_limit {
            self.set_rlimit(resource, limit)?;
        }
        Ok(0)
    }

    /// `struct sysinfo` for a 32-bit task: 64 bytes; sizes in `mem_unit`s.
    pub(super) fn sys_sysinfo(&mut self, mem: &mut AddressSpace, buf: u32) -> SysResult<u32> {
        let info = self.env.sysinfo()?;
        let unit: u64 = if info.totalram > u64::from(u32::MAX) { 4096 } else { 1 };
        let mut b = [0u8; 64];
        abi::put32(&mut b, 0, info.uptime as u32);
        for (i, load) in info.loads.iter().enumerate() {
            abi::put32(&mut b, 4 + i * 4, *load as u32);
        }
        abi::put32(&mut b, 16, (info.totalram / unit) as u32);
        abi::put32(&mut b, 20, (info.freeram / unit) as u32);
        b[40..42].copy_from_slice(&info.procs.to_be_bytes());
        abi::put32(&mut b, 52, unit as u32);
        write_mem(mem, buf, &b)?;
        Ok(0)
    }
}
