//! Epochs: execution cut into runs of exactly N retired instructions, with
//! asynchronous events buffered during an epoch and delivered at its end.
//!
//! An epoch boundary is an instruction count (a multiple of N), so it falls
//! at the same instruction under every engine and on every replica. What
//! happens there (see `UserMode::run`): the state hash is taken, the live
//! run collects the interrupts that arrived during the epoch — host signals
//! forwarded to the guest, expired timers — and hands the [`EpochEnd`] to
//! its sink (a replaying run reads it from its source instead and checks
//! the count and hash); then the interrupts are raised in the order of
//! [`Interrupt`] and pending signals are delivered.
//!
//! [`EpochEnd`]: crate::journal::EpochEnd

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::journal::Interrupt;
use crate::linux::timers::Timers;

/// The default epoch length in retired instructions: 2^20 = 1,048,576.
///
/// Measured (README "Epochs and record/replay"): a journaled epoch end
/// costs about 2.6 us (state hash over the dirty pages, one log frame), so
/// recording `cpu_bound-O2 20` costs 17% at 1K-instruction epochs, 6% at 4K,
/// 2% at 16K-64K and at most 1% from 256K on, under either engine;
/// unjournaled epoch ends cost nothing measurable. Replication pays one
/// acknowledgment round trip per epoch: `hbft primary --stats` measured
/// 41 us per epoch on loopback (26 ms over 625 epochs of 256K), which is
/// 12% of a 256K epoch under the JIT (~750 MIPS on `cpu_bound`, 0.35 ms)
/// but 3% of a 1M one (1.4 ms). The price is interrupt latency: an
/// interrupt waits for the end of its epoch, at most 1.4 ms under the JIT
/// and 14 ms under the interpreter (~75 MIPS) — well inside interactive
/// Ctrl-C latency — and a guest that waits for N timer signals needs N
/// epochs.
pub const DEFAULT_EPOCH: u64 = 1 << 20;

/// Host signals forwarded to the guest (same numbers on the host and on
/// Linux/parisc).
const FORWARDED: [libc::c_int; 3] = [libc::SIGHUP, libc::SIGINT, libc::SIGTERM];

/// Host signals received and not yet taken; bit n is signal n.
static RECEIVED: AtomicU64 = AtomicU64::new(0);

extern "C" fn note_signal(sig: libc::c_int) {
    let bit = 1 << sig;
    // Only atomics, signal() and raise(): async-signal-safe.
    if RECEIVED.fetch_or(bit, Ordering::SeqCst) & bit != 0 {
        // The second one before the guest took the first: hbft is blocked in
        // a host call for the guest (a read of a quiet terminal or pipe), so
        // the signal acts on hbft itself, as it would without forwarding.
        // SAFETY: resetting the disposition and re-raising is async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// From now on, SIGHUP, SIGINT and SIGTERM sent to hbft are noted and
/// forwarded to the guest at the next epoch end instead of ending hbft; the
/// same signal again before that epoch end ends hbft.
/// SA_RESTART: a host call blocked for the guest (a read of a terminal)
/// is resumed, so the guest sees the signal after that call completes.
pub fn forward_host_signals() {
    for sig in FORWARDED {
        // SAFETY: `note_signal` is async-signal-safe; the sigaction is fully initialized.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = note_signal as extern "C" fn(libc::c_int) as usize;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// Host monotonic time in nanoseconds (the clock `HostEnvironment` reports
/// as CLOCK_MONOTONIC, on which timer deadlines are kept).
fn host_monotonic_nanos() -> i64 {
    // SAFETY: `ts` is a valid out-parameter.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Blocks until an interrupt is observable: a forwarded host signal has
/// arrived or a timer's deadline has passed (a live guest idle in pause or
/// sigsuspend).
pub fn wait_for_interrupt(timers: &Timers) {
    const TICK: i64 = 10_000_000;
    while RECEIVED.load(Ordering::SeqCst) == 0 {
        let wait = match timers.next_deadline() {
            Some(deadline) => (deadline - host_monotonic_nanos()).min(TICK),
            None => TICK,
        };
        if wait <= 0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_nanos(wait as u64));
    }
}

/// How late timer interrupts reached the guest: the host time from a
/// timer's deadline to the epoch end that delivered it, over a live run.
/// A measurement for `--stats`, never guest-visible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimerLateness {
    pub deliveries: u64,
    pub total: Duration,
    pub max: Duration,
}

impl TimerLateness {
    fn record(&mut self, late_ns: i64) {
        let late = Duration::from_nanos(late_ns.max(0) as u64);
        self.deliveries += 1;
        self.total += late;
        self.max = self.max.max(late);
    }

    pub fn mean(&self) -> Option<Duration> {
        (self.deliveries > 0).then(|| self.total / self.deliveries as u32)
    }
}

/// The interrupts that arrived during the epoch now ending, as the live run
/// observes them: host signals received since the last call, and timers
/// whose deadline has passed (their lateness goes to `lateness`). Sorted,
/// so the delivery order is a function of the set alone.
pub fn collect_live_interrupts(timers: &Timers, lateness: &mut TimerLateness) -> Vec<Interrupt> {
    let mut interrupts: Vec<Interrupt> = Vec::new();
    if timers.next_deadline().is_some() {
        let now = host_monotonic_nanos();
        for expiry in timers.expired(now) {
            lateness.record(expiry.late_ns);
            interrupts.push(Interrupt::Timer { timer: expiry.timer, expirations: expiry.expirations });
        }
    }
    let received = RECEIVED.swap(0, Ordering::SeqCst);
    interrupts.extend(FORWARDED.iter().filter(|&&sig| received & (1 << sig) != 0).map(|&sig| Interrupt::HostSignal(sig as u32)));
    interrupts.sort();
    interrupts
}
