//! Binary translation vs recovery counter: how epoch boundaries are found.
//! The JIT injects a counter decrement and check per translated block; the
//! interpreter counts every instruction (as the PA-RISC recovery counter
//! does in hardware); `--icount off` is the JIT without counting, the
//! baseline. The cost split: counter checks (JIT at the longest epoch over
//! `--icount off`), epoch-boundary exits (JIT at epoch N over JIT at the
//! longest epoch) and synchronization (a replicated run over the
//! unreplicated one on the harness's engine, loopback, per-epoch sync).
//!
//! System mode's guest-visible recovery counter (the kernel's own epoch
//! source) is a further series once `hbft run` grows a system mode: it is
//! one more `(label, options)` entry in `ENGINES`.

use super::{progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::link::Link;
use crate::bench::replica::Harness;

pub const ABOUT: &str = "Epoch boundaries from injected per-block counters (`--engine jit`) vs per-instruction \
counting (`--engine interp`, the recovery-counter model) vs no counting (`--engine jit --icount off`, the \
baseline), on the CPU-bound guest, against the epoch length; then where the cost of short epochs goes: \
counter checks, epoch-boundary exits and, for a replicated run, synchronization. System mode's \
guest-visible recovery counter is not measured yet (system mode is not in `hbft run` yet).";

const ENGINES: &[(&str, &[&str])] = &[
    ("jit, icount off (baseline)", &["--engine", "jit", "--icount", "off"]),
    ("jit, injected counters", &["--engine", "jit"]),
    ("interp, per-instruction count", &["--engine", "interp"]),
];

pub fn run(settings: &Settings, harness: &Harness) -> anyhow::Result<Outcome> {
    let epochs = settings.epochs(&[1 << 10, 1 << 14, 1 << 18, 1 << 22], &[1 << 10, 1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22, 1 << 24]);
    let guest = harness.cpu_bound(if settings.quick { 10 } else { 20 });
    let longest = *epochs.iter().max().unwrap_or(&(1 << 24));
    let reps = settings.reps();
    let bar = progress("bt-vs-counter", epochs.len() as u64 * reps as u64);
    let mut times = Figure::new("counters_time", "Run time vs epoch length per epoch source (CPU-bound guest)", "epoch length (instructions)", "time / jit icount-off time", Axis::Log2);
    times.reference = Some(1.0);
    let mut split = Figure::new("counters_split", "Where short epochs cost: extra ms over the baseline", "epoch length (instructions)", "ms", Axis::Log2);
    for rep in 0..reps {
        // The longest epoch's JIT run separates counting from boundary exits.
        let long_jit = harness.run(&guest, &["--engine", "jit", "--epoch", &longest.to_string()])?;
        for &epoch in &epochs {
            bar.set_message(format!("epoch {epoch}"));
            let e = epoch.to_string();
            let mut ms = Vec::new();
            for (_, options) in ENGINES {
                let mut args = options.to_vec();
                args.extend(["--epoch", &e]);
                ms.push(harness.run(&guest, &args)?.elapsed.as_secs_f64() * 1e3);
            }
            for ((label, _), t) in ENGINES.iter().zip(&ms) {
                times.push(label, epoch as f64, rep, t / ms[0]);
            }
            let base = harness.unreplicated(&guest, epoch)?;
            let replicated = harness.replicated(&guest, epoch, "epoch", &Link::LOOPBACK, &base.output)?;
            let long_ms = long_jit.elapsed.as_secs_f64() * 1e3;
            split.push("counter checks (jit longest epoch - icount off)", epoch as f64, rep, long_ms - ms[0]);
            split.push("epoch-boundary exits (jit - jit longest epoch)", epoch as f64, rep, ms[1] - long_ms);
            split.push("synchronization (replicated - unreplicated, loopback)", epoch as f64, rep, (replicated.elapsed.as_secs_f64() - base.elapsed.as_secs_f64()) * 1e3);
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let notes = vec![format!(
        "guest `cpu_bound {}`; with `--icount off` the JIT cannot stop at a boundary, so its budgets are approximate: it is the cost floor, not a replicable configuration",
        guest.args.join(" ")
    )];
    Ok(Outcome { figures: vec![times, split], notes })
}
