//! Where the replication time goes, per guest: execution (the unreplicated
//! run at the same epoch length), waiting for the backup's acknowledgments
//! at epoch ends (the primary's `--stats`), and the rest — forwarding
//! environment results, journaling, framing and sending — with the
//! frames and bytes of log that crossed the link.

use super::{ms, progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::link::Link;
use crate::bench::replica::Harness;

pub const ABOUT: &str = "The primary's wall time split into execution (the unreplicated run of the same guest at the \
same epoch length, measured just before), epoch-end round trips (the time the primary waited for \
acknowledgments, from `hbft primary --stats`) and environment forwarding and the rest (the remainder: \
journaling environment results, framing, authenticating and sending them); with the frames and bytes \
sent to the backup. Loopback, `--sync epoch`, epoch 64K.";

const GUEST_NAMES: &[&str] = &["cpu-bound", "io-bound", "timer-signals"];

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let epoch = settings.epochs.as_ref().and_then(|e| e.first().copied()).unwrap_or(1 << 16);
    let mut guests = super::epoch_length::guests(settings, harness);
    guests.push(harness.timers(10));
    let reps = settings.reps();
    let bar = progress("breakdown", guests.len() as u64 * reps as u64);
    let title = format!("Where the primary's time goes (epoch {})", crate::bench::figure::human_count(epoch as f64));
    let mut time = Figure::new("breakdown_time", title, "guest", "ms", Axis::Stacked(GUEST_NAMES));
    let mut log = Figure::new("breakdown_log", "Log sent to the backup per guest", "guest", "KiB", Axis::Stacked(GUEST_NAMES));
    let mut frames = Figure::new("breakdown_frames", "Frames per epoch sent to the backup", "guest", "frames / epoch", Axis::Stacked(GUEST_NAMES));
    for rep in 0..reps {
        for (i, guest) in guests.iter().enumerate() {
            bar.set_message(guest.name.to_string());
            let base = harness.unreplicated(guest, epoch)?;
            // The timer guest's output depends only on its signals, so it replicates like the others.
            let r = harness.replicated(guest, epoch, "epoch", &Link::LOOPBACK, &base.output)?;
            let x = i as f64;
            let execution = ms(base.elapsed);
            let waited = ms(r.stats.waited);
            time.push("execution", x, rep, execution);
            time.push("epoch-end round trips", x, rep, waited);
            time.push("forwarding and the rest", x, rep, ms(r.elapsed) - execution - waited);
            log.push("log (KiB)", x, rep, r.stats.bytes as f64 / 1024.0);
            frames.push("frames per epoch", x, rep, r.stats.frames as f64 / r.stats.epochs.max(1) as f64);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let notes = guests.iter().map(|g| format!("{}: `{} {}`", g.name, g.file.file_name().unwrap_or_default().to_string_lossy(), g.args.join(" "))).collect();
    Ok(Outcome { figures: vec![time, log, frames], notes })
}
