//! Epoch length, the paper's central figure: replicated over unreplicated
//! wall time against the epoch length, for a CPU-bound and an I/O-bound
//! guest, with the paper's per-epoch synchronization and with output
//! synchronization. Every replicated run is paired with an unreplicated run
//! of the same guest at the same epoch length, measured just before it.

use super::{progress, Outcome, Settings};
use crate::bench::figure::{spread, Axis, Figure};
use crate::bench::link::Link;
use crate::bench::replica::{Guest, Harness};

pub const ABOUT: &str = "Slowdown of a primary/backup pair on loopback (primary wall time over the unreplicated run's, \
both on the same engine — the JIT unless `--engine interp` — at the same epoch length) against the epoch length, for a CPU-bound guest \
(`cpu_bound`) and an output-heavy guest (`demo`, one write per line), with `--sync epoch` (the paper's rule: \
the primary waits for the backup's acknowledgment at every epoch end) and `--sync output` (it waits only \
before output).";

/// The guests of the replication experiments, small with `quick`.
pub fn guests(settings: &Settings, harness: &Harness) -> Vec<Guest> {
    if settings.quick {
        vec![harness.cpu_bound(8), harness.io_bound(1000, 10)]
    } else {
        vec![harness.cpu_bound(20), harness.io_bound(2000, 20)]
    }
}

/// Iterations of the long CPU-bound run: 1.23 G instructions, about 0.85 s
/// under the JIT, so that the replicas' fixed start-up cost (two processes,
/// connection, handshake: tens of ms) does not hide the per-epoch cost the
/// ≤ 10% target is about (`cpu_bound 20` runs only 60 ms).
const LONG_CPU_BOUND: u32 = 300;

/// The overhead target's point: the long CPU-bound guest at the default
/// epoch, both sync rules; its own series and a note.
fn long_cpu_bound_at_the_default_epoch(harness: &Harness, fig: &mut Figure, reps: u32) -> anyhow::Result<String> {
    let guest = harness.cpu_bound(LONG_CPU_BOUND);
    let epoch = hbft_runtime::epoch::DEFAULT_EPOCH;
    let syncs = ["epoch", "output"];
    let mut ratios = vec![Vec::new(); syncs.len()];
    let mut unreplicated = Vec::new();
    for rep in 0..reps {
        for (sync, ratios) in syncs.iter().zip(&mut ratios) {
            let base = harness.unreplicated(&guest, epoch)?;
            let replicated = harness.replicated(&guest, epoch, sync, &Link::LOOPBACK, &base.output)?;
            let ratio = replicated.elapsed.as_secs_f64() / base.elapsed.as_secs_f64();
            fig.push(&format!("cpu-bound {LONG_CPU_BOUND} / sync {sync}"), epoch as f64, rep, ratio);
            ratios.push(ratio);
            unreplicated.push(base.elapsed.as_secs_f64());
        }
    }
    let summaries: Vec<String> = syncs
        .iter()
        .zip(&mut ratios)
        .map(|(sync, ratios)| {
            let (min, median, max) = spread(ratios);
            format!("sync {sync} median {median:.3}x ({min:.3}–{max:.3}x)")
        })
        .collect();
    let (min, median, max) = spread(&mut unreplicated);
    Ok(format!(
        "default epoch (2^20), long CPU-bound run `cpu_bound {LONG_CPU_BOUND}`, {reps} runs each: {}; unreplicated median {median:.2} s ({min:.2}–{max:.2} s)",
        summaries.join(", ")
    ))
}

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let epochs = settings.epochs(&[1 << 10, 1 << 14, 1 << 18, 1 << 22], &[1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24]);
    let guests = guests(settings, harness);
    let syncs = ["epoch", "output"];
    let reps = settings.reps();
    let bar = progress("epoch-length", (epochs.len() * guests.len() * syncs.len()) as u64 * reps as u64);
    let mut fig = Figure::new("epoch_length", "Replication slowdown vs epoch length (loopback)", "epoch length (instructions)", "replicated / unreplicated time", Axis::Log2);
    fig.reference = Some(1.0);
    let mut notes = Vec::new();
    for guest in &guests {
        let base = harness.unreplicated(guest, 1 << 16)?;
        notes.push(format!(
            "{}: `{} {}`, {} instructions, {} bytes of output",
            guest.name,
            guest.file.file_name().unwrap_or_default().to_string_lossy(),
            guest.args.join(" "),
            base.instructions,
            base.output.len()
        ));
    }
    for rep in 0..reps {
        for &epoch in &epochs {
            for guest in &guests {
                for sync in syncs {
                    bar.set_message(format!("{} epoch {epoch} sync {sync}", guest.name));
                    let base = harness.unreplicated(guest, epoch)?;
                    let replicated = harness.replicated(guest, epoch, sync, &Link::LOOPBACK, &base.output)?;
                    let ratio = replicated.elapsed.as_secs_f64() / base.elapsed.as_secs_f64();
                    fig.push(&format!("{} / sync {sync}", guest.name), epoch as f64, rep, ratio);
                    bar.inc(1);
                }
            }
        }
    }
    bar.finish_and_clear();
    if !settings.quick {
        notes.push(long_cpu_bound_at_the_default_epoch(harness, &mut fig, reps)?);
    }
    Ok(Outcome { figures: vec![fig], notes })
}
