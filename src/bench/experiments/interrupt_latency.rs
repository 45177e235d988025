//! Interrupt latency against the epoch length: the timer-signal guest
//! (`timer_signals 20`: an itimer and a POSIX timer firing every 100 µs,
//! work between signals, then a 20 ms timer waking a poll) under
//! `hbft run --epoch N`. Timer expiry is observed at any time but
//! delivered only at an epoch end, so at most one signal per timer per
//! epoch reaches the guest; the guest waits for a fixed number of signals.

use super::{progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::replica::Harness;

pub const ABOUT: &str = "How late timer interrupts reach the guest, against the epoch length: the timer-signal guest \
(`timer_signals 20`, timers every 100 µs, the guest computes until 20 SIGALRM and 10 SIGUSR1 have arrived, \
then sleeps in poll until a 20 ms timer wakes it) under `hbft run --engine jit|interp --epoch N`. \
Lateness is what hbft measures for every timer interrupt it delivers (`hbft run --stats`): the host time \
from the timer's deadline to the epoch end that delivers it, mean and maximum per run. Instructions per \
delivered signal is the interrupt spacing the epoch imposes (≈ the epoch length once it exceeds the 100 µs \
timer period), and its wall time the spacing in µs (process start-up included); signals per second is the \
I/O-style throughput of a guest driven by those interrupts.";

/// Signals the guest waits for: COUNT SIGALRM, COUNT/2 SIGUSR1, one more for poll.
const COUNT: u32 = 20;

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let epochs = settings.epochs(&[1 << 10, 1 << 14, 1 << 18], &[1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22]);
    let guest = harness.timers(COUNT);
    let signals = (COUNT + COUNT / 2 + 1) as f64;
    let reps = settings.reps();
    let bar = progress("interrupt-latency", 2 * epochs.len() as u64 * reps as u64);
    let mut lateness = Figure::new("interrupt_lateness", "How late timer interrupts are delivered (deadline to delivering epoch end)", "epoch length (instructions)", "µs late", Axis::Log2);
    let mut instructions = Figure::new("interrupt_latency_instructions", "Instructions between delivered timer signals", "epoch length (instructions)", "instructions per signal", Axis::Log2);
    let mut micros = Figure::new("interrupt_latency_us", "Wall time between delivered timer signals (timer period 100 µs)", "epoch length (instructions)", "µs per signal", Axis::Log2);
    let mut rate = Figure::new("interrupt_throughput", "Timer signals delivered per second", "epoch length (instructions)", "signals / s", Axis::Log2);
    micros.reference = Some(100.0);
    for rep in 0..reps {
        for &epoch in &epochs {
            let x = epoch as f64;
            for engine in ["jit", "interp"] {
                bar.set_message(format!("{engine} epoch {epoch}"));
                let run = harness.run(&guest, &["--engine", engine, "--epoch", &epoch.to_string()])?;
                let Some((mean, max)) = run.timer_lateness_us else { anyhow::bail!("{engine} at epoch {epoch}: no timer lateness reported") };
                lateness.push(&format!("{engine} mean"), x, rep, mean);
                lateness.push(&format!("{engine} max"), x, rep, max);
                instructions.push(engine, x, rep, run.instructions as f64 / signals);
                micros.push(engine, x, rep, run.elapsed.as_secs_f64() * 1e6 / signals);
                rate.push(engine, x, rep, signals / run.elapsed.as_secs_f64());
                bar.inc(1);
            }
            instructions.push("epoch length", x, rep, x);
        }
    }
    bar.finish_and_clear();
    let notes = vec![format!("{signals} signals per run; wall time includes process start-up (≈ constant)")];
    Ok(Outcome { figures: vec![lateness, instructions, micros, rate], notes })
}
