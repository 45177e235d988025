//! Failover: the distribution of the backup's detection and takeover times
//! over many failures of the primary, against the failure-detection
//! timeout. A SIGKILLed primary closes its connection (detected at once);
//! a SIGSTOPped one falls silent and only the timeout detects it.

use std::time::Duration;

use super::{progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::replica::{Failure, FinishedFirst, Guest, Harness};

/// Fails the primary at a random instant; a primary that finished first
/// (the host ran faster than the unreplicated run suggested) is tried
/// again, up to three times, earlier each time.
fn fail_once(harness: &Harness, guest: &Guest, length: Duration, failure: Failure, timeout: u64) -> anyhow::Result<(f64, f64)> {
    let mut length = length;
    for _ in 0..3 {
        match harness.failover(guest, Harness::kill_instant(length), failure, timeout) {
            Err(e) if e.is::<FinishedFirst>() => length /= 2,
            result => return result,
        }
    }
    harness.failover(guest, Harness::kill_instant(length), failure, timeout)
}

pub const ABOUT: &str = "The primary of the demo guest is failed at a random instant (10–50% into its run), \
by SIGKILL (the connection closes) or SIGSTOP (it falls silent, as a hung host would), with failure-detection \
timeouts of 100, 300 and 1000 ms; the backup reports detection (failure to noticing it) and takeover \
(noticing to running live) times. Each repetition is one failure.";

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let timeouts: &[u64] = if settings.quick { &[100, 300] } else { &[100, 300, 1000] };
    let kills = settings.reps() * if settings.quick { 2 } else { 4 };
    let guest = harness.demo();
    let length = harness.unreplicated(&guest, 1 << 16)?.elapsed;
    let bar = progress("failover", (timeouts.len() * 2) as u64 * kills as u64);
    let mut detection = Figure::new("failover_detection", "Failure detection time vs timeout", "failure-detection timeout (ms)", "detection (ms)", Axis::Linear);
    let mut takeover = Figure::new("failover_takeover", "Takeover time vs timeout", "failure-detection timeout (ms)", "takeover (ms)", Axis::Linear);
    for rep in 0..kills {
        for &timeout in timeouts {
            for (label, failure) in [("SIGKILL", Failure::Kill), ("SIGSTOP", Failure::Stop)] {
                bar.set_message(format!("{label} timeout {timeout} ms"));
                let (d, t) = fail_once(harness, &guest, length, failure, timeout)?;
                detection.push(label, timeout as f64, rep, d);
                takeover.push(label, timeout as f64, rep, t);
                bar.inc(1);
            }
        }
    }
    bar.finish_and_clear();
    let notes = vec![format!("{kills} failures per timeout and signal; the unreplicated demo run takes {:.2} s", length.as_secs_f64())];
    Ok(Outcome { figures: vec![detection, takeover], notes })
}
