//! poll, ppoll and select, all answered by one `Environment::poll`.

use super::abi::{self, read_mem, write_mem};
use super::env::{Handle, SysResult, Timespec};
use super::errno::Errno;
use super::process::LinuxProcess;
use crate::memory::AddressSpace;

const POLLIN: i16 = 0x1;
const POLLPRI: i16 = 0x2;
const POLLOUT: i16 = 0x4;
const POLLERR: i16 = 0x8;
const POLLHUP: i16 = 0x10;
const POLLNVAL: i16 = 0x20;
/// FD_SETSIZE.
const MAX_SELECT_FDS: u32 = 1024;

/// Where select finds its timeout and in which format.
#[derive(Debug, Clone, Copy)]
pub enum Timeout {
    /// `struct timeval` (select).
    Timeval(u32),
    /// 32-bit `struct timespec` (pselect6).
    Timespec32(u32),
    /// `struct __kernel_timespec` (pselect6_time64).
    Timespec64(u32),
}

fn millis(ts: Timespec) -> i32 {
    let ms = ts.sec.saturating_mul(1000).saturating_add(i64::from(ts.nsec.div_ceil(1_000_000)));
    ms.min(i64::from(i32::MAX)) as i32
}

impl LinuxProcess {
    /// Polls guest descriptors; unknown ones report POLLNVAL without asking the host.
    fn poll_fds(&mut self, fds: &[(i32, i16)], timeout_ms: i32) -> SysResult<Vec<i16>> {
        let known: Vec<(usize, Handle, i16)> = fds
            .iter()
            .enumerate()
            .filter(|(_, &(fd, _))| fd >= 0)
            .filter_map(|(i, &(fd, events))| self.handle(fd as u32).ok().map(|h| (i, h, events)))
            .collect();
        let mut revents: Vec<i16> =
            fds.iter().map(|&(fd, _)| if fd >= 0 { POLLNVAL } else { 0 }).collect();
        for &(i, _, _) in &known {
            revents[i] = 0;
        }
        let any_invalid = revents.iter().any(|&r| r != 0);
        let (timeout_ms, cut_by_timer) = if any_invalid { (0, false) } else { self.wait_until_timer(timeout_ms)? };
        let request: Vec<(Handle, i16)> = known.iter().map(|&(_, h, e)| (h, e)).collect();
        let answers = self.env.poll(&request, timeout_ms)?;
        for (&(i, _, _), answer) in known.iter().zip(answers) {
            revents[i] = answer;
        }
        if cut_by_timer && revents.iter().all(|&r| r == 0) {
            return Err(Errno::EINTR);
        }
        Ok(revents)
    }

    pub(super) fn sys_poll(&mut self, mem: &mut AddressSpace, fds: u32, nfds: u32, timeout_ms: i32) -> SysResult<u32> {
        if nfds > 1 << 16 {
            return Err(Errno::EINVAL);
        }
        let raw = read_mem(mem, fds, nfds as usize * 8)?;
        let request: Vec<(i32, i16)> = (0..nfds as usize)
            .map(|i| (abi::get32(&raw, i * 8) as i32, i16::from_be_bytes([raw[i * 8 + 4], raw[i * 8 + 5]])))
            .collect();
        let revents = self.poll_fds(&request, timeout_ms)?;
        let mut out = raw;
        for (i, r) in revents.iter().enumerate() {
            out[i * 8 + 6..i * 8 + 8].copy_from_slice(&r.to_be_bytes());
        }
        write_mem(mem, fds, &out)?;
        Ok(revents.iter().filter(|&&r| r != 0).count() as u32)
    }

    pub(super) fn sys_ppoll(&mut self, mem: &mut AddressSpace, fds: u32, nfds: u32, ts: u32, time64: bool) -> SysResult<u32> {
        let timeout = match ts {
            0 => -1,
            _ if time64 => millis(abi::read_timespec64(mem, ts)?),
            _ => millis(abi::read_timespec32(mem, ts)?),
        };
        self.sys_poll(mem, fds, nfds, timeout)
    }

    /// select/pselect6: `a` = nfds, readfds, writefds, exceptfds, timeout.
    pub(super) fn sys_select(&mut self, mem: &mut AddressSpace, a: [u32; 6], timeout: Timeout) -> SysResult<u32> {
        let nfds = a[0];
        if nfds > MAX_SELECT_FDS {
            return Err(Errno::EINVAL);
        }
        let words = nfds.div_ceil(32) as usize;
        let mut sets = [Vec::new(), Vec::new(), Vec::new()];
        for (set, &addr) in sets.iter_mut().zip(&a[1..4]) {
            if addr != 0 {
                let raw = read_mem(mem, addr, words * 4)?;
                *set = (0..words).map(|w| abi::get32(&raw, w * 4)).collect();
            }
        }
        let timeout_ms = match timeout {
            Timeout::Timeval(0) | Timeout::Timespec32(0) | Timeout::Timespec64(0) => -1,
            Timeout::Timeval(addr) => {
                let b = read_mem(mem, addr, 8)?;
                let (sec, usec) = (abi::get32(&b, 0) as i32, abi::get32(&b, 4) as i32);
                if sec < 0 || !(0..1_000_000).contains(&usec) {
                    return Err(Errno::EINVAL);
                }
                millis(Timespec { sec: i64::from(sec), nsec: usec as u32 * 1000 })
            }
            Timeout::Timespec32(addr) => millis(abi::read_timespec32(mem, addr)?),
            Timeout::Timespec64(addr) => millis(abi::read_timespec64(mem, addr)?),
        };
        let is_set = |set: &Vec<u32>, fd: u32| set.get(fd as usize / 32).is_some_and(|w| w & (1 << (fd % 32)) != 0);
        let mut request = Vec::new();
        for fd in 0..nfds {
            let mut events = 0;
            for (set, bit) in sets.iter().zip([POLLIN, POLLOUT, POLLPRI]) {
                if is_set(set, fd) {
                    events |= bit;
                }
            }
            if events != 0 {
                request.push((fd, events));
            }
        }
        let polled: Vec<(i32, i16)> = request.iter().map(|&(fd, e)| (fd as i32, e)).collect();
        let revents = self.poll_fds(&polled, timeout_ms)?;
        if revents.iter().any(|&r| r & POLLNVAL != 0) {
            return Err(Errno::EBADF);
        }
        let mut results = [vec![0u32; words], vec![0u32; words], vec![0u32; words]];
        let mut count = 0;
        for (&(fd, _), r) in request.iter().zip(revents) {
            let ready = [r & (POLLIN | POLLHUP | POLLERR), r & (POLLOUT | POLLERR), r & POLLPRI];
            for ((result, set), hit) in results.iter_mut().zip(&sets).zip(ready) {
                if hit != 0 && is_set(set, fd) {
                    result[fd as usize / 32] |= 1 << (fd % 32);
                    count += 1;
                }
            }
        }
        for (result, &addr) in results.iter().zip(&a[1..4]) {
            if addr != 0 {
                let bytes: Vec<u8> = result.iter().flat_map(|w| w.to_be_bytes()).collect();
                write_mem(mem, addr, &bytes)?;
            }
        }
        Ok(count)
    }
}
