//! Link latency and bandwidth: the epoch-length curves of both guests
//! (per-epoch sync) over links with 0, 0.1, 1 and 10 ms of added one-way
//! latency and over a bandwidth-capped link, each slowdown measured
//! against an unreplicated run just before it.

use std::time::Duration;

use super::{epoch_length, progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::link::{Link, Shaper};
use crate::bench::replica::Harness;

pub const ABOUT: &str = "Slowdown (primary wall time over the unreplicated run's) against the epoch length with \
`--sync epoch`, over loopback and over shaped links: 0.1, 1 and 10 ms added each way, and a 10 Mbit/s cap. \
Cells whose epoch count times the round trip would exceed the run-time budget are left out.";

/// Leave out a cell whose epoch round trips alone would take longer.
const ROUND_TRIP_BUDGET: Duration = Duration::from_secs(8);

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let epochs = settings.epochs(&[1 << 14, 1 << 18, 1 << 22], &[1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24]);
    let guests = epoch_length::guests(settings, harness);
    let shaper = Shaper::new();
    let mut links: Vec<(String, Duration, Option<u64>)> = vec![("loopback".into(), Duration::ZERO, None)];
    for us in [100, 1000, 10_000] {
        links.push((format!("+{} ms", us as f64 / 1e3), Duration::from_micros(us), None));
    }
    if shaper.caps_bandwidth() {
        links.push(("10 Mbit/s".into(), Duration::ZERO, Some(10_000)));
    }
    let mut sizes = Vec::new();
    for guest in &guests {
        sizes.push(harness.unreplicated(guest, 1 << 16)?.instructions);
    }
    let reps = settings.reps();
    let cells = |delay: Duration, epoch: u64, instructions: u64| (instructions / epoch + 1) as u32 * 2 * delay <= ROUND_TRIP_BUDGET;
    let total: usize = links
        .iter()
        .map(|(_, d, _)| epochs.iter().map(|&e| sizes.iter().filter(|&&n| cells(*d, e, n)).count()).sum::<usize>())
        .sum();
    let bar = progress("link", total as u64 * reps as u64);
    let mut figs: Vec<Figure> = guests
        .iter()
        .map(|g| {
            let mut f = Figure::new(
                if g.name == "cpu-bound" { "link_cpu_bound" } else { "link_io_bound" },
                format!("Slowdown vs epoch length per link, {} guest, sync epoch", g.name),
                "epoch length (instructions)",
                "replicated / unreplicated time",
                Axis::Log2,
            );
            f.reference = Some(1.0);
            f
        })
        .collect();
    for rep in 0..reps {
        for (label, delay, rate) in &links {
            let link = if *delay == Duration::ZERO && rate.is_none() { Link::LOOPBACK } else { shaper.shape(*delay, *rate)? };
            for &epoch in &epochs {
                for (i, guest) in guests.iter().enumerate() {
                    if !cells(*delay, epoch, sizes[i]) {
                        continue;
                    }
                    bar.set_message(format!("{} {label} epoch {epoch}", guest.name));
                    let base = harness.unreplicated(guest, epoch)?;
                    let replicated = harness.replicated(guest, epoch, "epoch", &link, &base.output)?;
                    figs[i].push(label, epoch as f64, rep, replicated.elapsed.as_secs_f64() / base.elapsed.as_secs_f64());
                    bar.inc(1);
                }
            }
        }
    }
    bar.finish_and_clear();
    let notes = vec![format!("link shaping: {}", shaper.describe())];
    Ok(Outcome { figures: figs, notes })
}
