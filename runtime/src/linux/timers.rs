//! Interval timers: alarm, setitimer/getitimer (ITIMER_REAL) and POSIX
//! timers (timer_create & co. on CLOCK_REALTIME/CLOCK_MONOTONIC with
//! SIGEV_SIGNAL or SIGEV_NONE).
//!
//! A timer's deadline is kept on the environment's monotonic clock, read
//! through `Environment::clock_gettime` (so it is logged and replays
//! identically). Whether a deadline has passed by the end of an epoch is a
//! host fact: the epoch loop decides it live ([`Timers::expired`]) and
//! journals the outcome as an interrupt; delivering it
//! ([`LinuxProcess::timer_fired`]) is deterministic.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::abi::{self, read_mem, write_mem};
use super::env::{SysResult, Timespec};
use super::errno::Errno;
use super::process::LinuxProcess;
use super::signal::{SigFields, SigInfo, SIGALRM};
use crate::memory::AddressSpace;

const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;
const ITIMER_REAL: u32 = 0;
const TIMER_ABSTIME: u32 = 1;
const SIGEV_SIGNAL: u32 = 0;
const SIGEV_NONE: u32 = 1;
/// `si_code` of a POSIX timer's signal.
const SI_TIMER: i32 = -2;
/// The kernel's per-process limit is RLIMIT_SIGPENDING; a fixed one keeps replicas equal.
const MAX_TIMERS: usize = 256;
const NANOS: i64 = 1_000_000_000;

/// Which timer expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TimerId {
    /// ITIMER_REAL (alarm, setitimer): SIGALRM.
    Real,
    /// A POSIX timer by its `timer_t`.
    Posix(u32),
}

/// One timer's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Timer {
    /// Monotonic nanoseconds of the next expiry; None when disarmed.
    deadline: Option<i64>,
    /// Re-arm period in nanoseconds; 0 for one-shot.
    interval: i64,
    clock: u32,
    /// 0 for SIGEV_NONE (expiries are counted, no signal).
    signal: u32,
    /// `sigev_value`, handed back in `si_value`.
    value: u32,
    /// Expirations folded into the last delivered signal, minus one.
    overrun: u32,
}

/// Every timer of the process.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    timers: BTreeMap<TimerId, Timer>,
}

/// An armed timer whose deadline has passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub timer: TimerId,
    /// Periods that have passed (1 for a one-shot timer).
    pub expirations: u64,
    /// Host nanoseconds since the first of those deadlines.
    pub late_ns: i64,
}

impl Timers {
    /// Armed timers whose deadline is at or before `now` (monotonic
    /// nanoseconds), in id order.
    pub fn expired(&self, now: i64) -> Vec<Expiry> {
        self.timers
            .iter()
            .filter_map(|(&id, t)| {
                let deadline = t.deadline.filter(|&d| d <= now)?;
                let periods = if t.interval > 0 { (now - deadline) / t.interval } else { 0 };
                Some(Expiry { timer: id, expirations: periods as u64 + 1, late_ns: now - deadline })
            })
            .collect()
    }

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<i64> {
        self.timers.values().filter_map(|t| t.deadline).min()
    }
}

fn nanos(ts: Timespec) -> i64 {
    ts.sec.saturating_mul(NANOS).saturating_add(i64::from(ts.nsec))
}

fn timespec(ns: i64) -> Timespec {
    let ns = ns.max(0);
    Timespec { sec: ns / NANOS, nsec: (ns % NANOS) as u32 }
}

/// `struct itimerval` for a 32-bit task: interval then value, as timevals.
fn read_itimerval(mem: &AddressSpace, addr: u32) -> SysResult<(i64, i64)> {
    let b = read_mem(mem, addr, 16)?;
    let tv = |at: usize| -> SysResult<i64> {
        let (sec, usec) = (abi::get32(&b, at) as i32, abi::get32(&b, at + 4) as i32);
        if sec < 0 || !(0..1_000_000).contains(&usec) {
            return Err(Errno::EINVAL);
        }
        Ok(i64::from(sec) * NANOS + i64::from(usec) * 1000)
    };
    Ok((tv(0)?, tv(8)?))
}

fn itimerval(interval: i64, value: i64) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (at, ns) in [(0, interval), (8, value)] {
        // Like the kernel, a nonzero remainder below one microsecond reads as 1 us.
        let usec = if ns > 0 { (ns + 999) / 1000 } else { 0 };
        abi::put32(&mut b, at, (usec / 1_000_000) as u32);
        abi::put32(&mut b, at + 4, (usec % 1_000_000) as u32);
    }
    b
}

/// `struct itimerspec` (interval, value), 32- or 64-bit timespecs.
fn read_itimerspec(mem: &AddressSpace, addr: u32, time64: bool) -> SysResult<(Timespec, Timespec)> {
    if time64 {
        Ok((abi::read_timespec64(mem, addr)?, abi::read_timespec64(mem, addr + 16)?))
    } else {
        Ok((abi::read_timespec32(mem, addr)?, abi::read_timespec32(mem, addr + 8)?))
    }
}

fn itimerspec(interval: i64, value: i64, time64: bool) -> Vec<u8> {
    if time64 {
        [abi::timespec64(timespec(interval)), abi::timespec64(timespec(value))].concat()
    } else {
        [abi::timespec32(timespec(interval)), abi::timespec32(timespec(value))].concat()
    }
}

impl LinuxProcess {
    /// Monotonic nanoseconds from the environment.
    fn monotonic_now(&mut self) -> SysResult<i64> {
        Ok(nanos(self.env.clock_gettime(CLOCK_MONOTONIC)?))
    }

    /// (interval, remaining) of a timer, and arms it with new settings.
    fn rearm(&mut self, id: TimerId, interval: i64, value: Option<i64>, now: i64) -> (i64, i64) {
        let timer = self.timers.timers.entry(id).or_insert(Timer {
            deadline: None,
            interval: 0,
            clock: CLOCK_MONOTONIC,
            signal: SIGALRM,
            value: 0,
            overrun: 0,
        });
        let old = (timer.interval, timer.deadline.map_or(0, |d| (d - now).max(1)));
        if let Some(value) = value {
            timer.deadline = (value > 0).then_some(now + value);
            timer.interval = if value > 0 { interval } else { 0 };
        }
        old
    }

    pub(super) fn sys_alarm(&mut self, seconds: u32) -> SysResult<u32> {
        let now = self.monotonic_now()?;
        let (_, left) = self.rearm(TimerId::Real, 0, Some(i64::from(seconds) * NANOS), now);
        // alarm_setitimer: round to the nearest second, never 0 for an armed alarm.
        Ok(if left == 0 { 0 } else { ((left + NANOS / 2) / NANOS).max(1) as u32 })
    }

    pub(super) fn sys_setitimer(&mut self, mem: &mut AddressSpace, which: u32, new: u32, old: u32) -> SysResult<u32> {
        if which != ITIMER_REAL {
            // ITIMER_VIRTUAL/ITIMER_PROF count CPU time, which hbft does not model.
            return Err(Errno::EINVAL);
        }
        let setting = if new != 0 { Some(read_itimerval(mem, new)?) } else { None };
        let now = self.monotonic_now()?;
        let (interval, value) = setting.map_or((0, None), |(i, v)| (i, Some(v)));
        let (old_interval, left) = self.rearm(TimerId::Real, interval, value, now);
        if old != 0 {
            write_mem(mem, old, &itimerval(old_interval, left))?;
        }
        Ok(0)
    }

    pub(super) fn sys_getitimer(&mut self, mem: &mut AddressSpace, which: u32, out: u32) -> SysResult<u32> {
        if which != ITIMER_REAL {
            return Err(Errno::EINVAL);
        }
        let now = self.monotonic_now()?;
        let (interval, left) = self.rearm(TimerId::Real, 0, None, now);
        write_mem(mem, out, &itimerval(interval, left))?;
        Ok(0)
    }

    /// `struct sigevent` on parisc32: sigev_value, sigev_signo, sigev_notify.
    pub(super) fn sys_timer_create(&mut self, mem: &mut AddressSpace, clock: u32, event: u32, out: u32) -> SysResult<u32> {
        if clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC {
            return Err(Errno::EINVAL);
        }
        let id = (0u32..).find(|&n| !self.timers.timers.contains_key(&TimerId::Posix(n))).unwrap_or(0);
        let (signal, value) = if event == 0 {
            (SIGALRM, id)
        } else {
            let b = read_mem(mem, event, 12)?;
            let (value, signo, notify) = (abi::get32(&b, 0), abi::get32(&b, 4), abi::get32(&b, 8));
            match notify {
                SIGEV_SIGNAL if (1..=64).contains(&signo) => (signo, value),
                SIGEV_NONE => (0, value),
                // SIGEV_THREAD is glibc's (a helper thread); SIGEV_THREAD_ID needs threads.
                _ => return Err(Errno::EINVAL),
            }
        };
        if self.timers.timers.len() >= MAX_TIMERS {
            return Err(Errno::EAGAIN);
        }
        abi::write_word(mem, out, id)?;
        let timer = Timer { deadline: None, interval: 0, clock, signal, value, overrun: 0 };
        self.timers.timers.insert(TimerId::Posix(id), timer);
        Ok(0)
    }

    fn posix_timer(&self, id: u32) -> SysResult<Timer> {
        self.timers.timers.get(&TimerId::Posix(id)).copied().ok_or(Errno::EINVAL)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn sys_timer_settime(&mut self, mem: &mut AddressSpace, id: u32, flags: u32, new: u32, old: u32, time64: bool) -> SysResult<u32> {
        let timer = self.posix_timer(id)?;
        let (interval, value) = read_itimerspec(mem, new, time64)?;
        if interval.nsec >= NANOS as u32 || value.nsec >= NANOS as u32 || interval.sec < 0 || value.sec < 0 {
            return Err(Errno::EINVAL);
        }
        let now = self.monotonic_now()?;
        let mut relative = nanos(value);
        if flags & TIMER_ABSTIME != 0 && relative > 0 {
            // An absolute time on the timer's clock, expressed on the monotonic one.
            let clock_now = if timer.clock == CLOCK_MONOTONIC { now } else { nanos(self.env.clock_gettime(timer.clock)?) };
            relative = (relative - clock_now).max(1);
        }
        let (old_interval, left) = self.rearm(TimerId::Posix(id), nanos(interval), Some(relative), now);
        if old != 0 {
            write_mem(mem, old, &itimerspec(old_interval, left, time64))?;
        }
        Ok(0)
    }

    pub(super) fn sys_timer_gettime(&mut self, mem: &mut AddressSpace, id: u32, out: u32, time64: bool) -> SysResult<u32> {
        self.posix_timer(id)?;
        let now = self.monotonic_now()?;
        let (interval, left) = self.rearm(TimerId::Posix(id), 0, None, now);
        write_mem(mem, out, &itimerspec(interval, left, time64))?;
        Ok(0)
    }

    pub(super) fn sys_timer_getoverrun(&mut self, id: u32) -> SysResult<u32> {
        Ok(self.posix_timer(id)?.overrun)
    }

    pub(super) fn sys_timer_delete(&mut self, id: u32) -> SysResult<u32> {
        self.posix_timer(id)?;
        self.timers.timers.remove(&TimerId::Posix(id));
        Ok(0)
    }

    /// A blocking wait of `timeout_ms` (negative: forever) cut short at the
    /// next timer deadline, so that a guest waiting in poll or select for
    /// its own timer wakes up; `true` when the wait was shortened. (The
    /// caller then returns EINTR, as Linux does when a signal interrupts the
    /// wait; the signal itself arrives at the epoch end.)
    pub(super) fn wait_until_timer(&mut self, timeout_ms: i32) -> SysResult<(i32, bool)> {
        let Some(deadline) = self.timers.next_deadline() else { return Ok((timeout_ms, false)) };
        let now = self.monotonic_now()?;
        let left_ms = ((deadline - now).max(0) + 999_999) / 1_000_000;
        let left_ms = left_ms.min(i64::from(i32::MAX)) as i32;
        if timeout_ms < 0 || timeout_ms > left_ms {
            Ok((left_ms, true))
        } else {
            Ok((timeout_ms, false))
        }
    }

    /// The process's timers (the epoch loop checks their deadlines).
    pub fn timers(&self) -> &Timers {
        &self.timers
    }

    /// Timer `id` expired `expirations` times: re-arm it (or disarm a
    /// one-shot timer) and raise its signal once, the extra expirations
    /// counted as overruns (kernel/time/posix-timers.c).
    pub fn timer_fired(&mut self, id: TimerId, expirations: u64) {
        let Some(timer) = self.timers.timers.get_mut(&id) else { return };
        let Some(deadline) = timer.deadline else { return };
        timer.deadline = (timer.interval > 0).then(|| deadline + timer.interval * expirations as i64);
        timer.overrun = u32::try_from(expirations.saturating_sub(1)).unwrap_or(i32::MAX as u32).min(i32::MAX as u32);
        let (signal, overrun, value) = (timer.signal, timer.overrun, timer.value);
        let info = match id {
            TimerId::Real => SigInfo::kernel(),
            TimerId::Posix(tid) => {
                SigInfo { code: SI_TIMER, errno: 0, fields: SigFields::Timer { tid, overrun, value } }
            }
        };
        if signal != 0 {
            self.raise(signal, info);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_counts_whole_periods() {
        let mut timers = Timers::default();
        let timer = Timer { deadline: Some(1000), interval: 100, clock: 1, signal: SIGALRM, value: 0, overrun: 0 };
        timers.timers.insert(TimerId::Posix(0), timer);
        timers.timers.insert(TimerId::Real, Timer { deadline: Some(5000), interval: 0, ..timer });
        let expired = |now| timers.expired(now).into_iter().map(|e| (e.timer, e.expirations, e.late_ns)).collect::<Vec<_>>();
        assert_eq!(expired(999), vec![]);
        assert_eq!(expired(1000), vec![(TimerId::Posix(0), 1, 0)]);
        assert_eq!(expired(1250), vec![(TimerId::Posix(0), 3, 250)]);
        assert_eq!(expired(5000), vec![(TimerId::Real, 1, 0), (TimerId::Posix(0), 41, 4000)]);
        assert_eq!(timers.next_deadline(), Some(1000));
    }
}
