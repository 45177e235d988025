//! Binary translation vs recovery counter: how epoch boundaries are found.
//! The JIT injects a counter decrement and check per translated block; the
//! interpreter counts every instruction (as the PA-RISC recovery counter
//! does in hardware); `--icount off` is the JIT without counting, the
//! baseline. The cost split: counter checks (JIT at the longest epoch over
//! `--icount off`), epoch-boundary exits (JIT at epoch N over JIT at the
//! longest epoch) and synchronization (a replicated run over the
//! unreplicated one on the harness's engine, loopback, per-epoch sync).
//!
//! System mode's series: the guest kernel's disk workload under `hbft
//! system --epoch-source bt` (the engine's budget, injected counters in
//! the JIT) and `--epoch-source recovery-counter` (the paper's prototype:
//! the hypervisor programs the recovery counter and takes its trap, one
//! instruction at a time). Both must end the same epochs: the runs' digests
//! of per-epoch state hashes are compared, and a difference is an error.

use super::{progress, Outcome, Settings};
use crate::bench::figure::{Axis, Figure};
use crate::bench::link::Link;
use crate::bench::replica::Harness;

pub const ABOUT: &str = "Epoch boundaries from injected per-block counters (`--engine jit`) vs per-instruction \
counting (`--engine interp`, the recovery-counter model) vs no counting (`--engine jit --icount off`, the \
baseline), on the CPU-bound guest, against the epoch length; then where the cost of short epochs goes: \
counter checks, epoch-boundary exits and, for a replicated run, synchronization; and system mode: the \
guest kernel's disk workload with epochs from the recovery-counter trap model vs the engine's injected counters.";

const ENGINES: &[(&str, &[&str])] = &[
    ("jit, icount off (baseline)", &["--engine", "jit", "--icount", "off"]),
    ("jit, injected counters", &["--engine", "jit"]),
    ("interp, per-instruction count", &["--engine", "interp"]),
];

/// System mode's epoch sources (`hbft system --epoch-source`), on the JIT.
const SYSTEM_SOURCES: &[(&str, &str)] =
    &[("system, bt: injected counters", "bt"), ("system, recovery-counter trap", "recovery-counter")];

/// The kernel's disk size: its workload writes and reads back every
/// sector (4 MiB: 0.7 s or more under the JIT at any epoch length).
const SYSTEM_SECTORS: usize = 8192;
/// The longest system-mode epoch measured: a disk transfer waits for epoch
/// ends, so the workload's instruction count grows with the epoch length
/// (and the recovery-counter model's run time with it).
const SYSTEM_LONGEST_EPOCH: u64 = 1 << 14;

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
    let (system, system_note) = system_series(settings, harness, &epochs)?;
    let notes = vec![
        format!(
            "guest `cpu_bound {}`; with `--icount off` the JIT cannot stop at a boundary, so its budgets are approximate: it is the cost floor, not a replicable configuration",
            guest.args.join(" ")
        ),
        system_note,
    ];
    Ok(Outcome { figures: vec![times, split, system], notes })
}

/// The system-mode series: the guest kernel's disk workload under both
/// epoch sources, at the epoch lengths a kernel uses (interrupts wait for
/// epoch ends, so its disk workload's length grows with the epoch).
fn system_series(settings: &Settings, harness: &Harness, epochs: &[u64]) -> anyhow::Result<(Figure, String)> {
    let epochs: Vec<u64> = epochs.iter().copied().filter(|&e| e <= SYSTEM_LONGEST_EPOCH).collect();
    let epochs = if epochs.is_empty() { vec![1 << 10, SYSTEM_LONGEST_EPOCH] } else { epochs };
    let sectors = SYSTEM_SECTORS;
    let reps = settings.reps();
    let bar = progress("bt-vs-counter (system)", epochs.len() as u64 * reps as u64);
    let mut figure = Figure::new(
        "counters_system",
        "System mode: kernel disk workload per epoch source",
        "epoch length (instructions)",
        "ms",
        Axis::Log2,
    );
    let mut shortest = (f64::MAX, 0u64);
    let mut ratios: Vec<(u64, f64)> = Vec::new();
    for rep in 0..reps {
        for &epoch in &epochs {
            bar.set_message(format!("system, epoch {epoch}"));
            let e = epoch.to_string();
            let mut runs = Vec::new();
            for (_, source) in SYSTEM_SOURCES {
                runs.push(harness.system(sectors, &["--engine", "jit", "--epoch", &e, "--epoch-source", source])?);
            }
            let digest = |line: &str| line.rsplit_once("digest ").map(|(_, d)| d.to_string());
            let (first, first_line) = &runs[0];
            for ((label, _), (run, line)) in SYSTEM_SOURCES.iter().zip(&runs) {
                if digest(line) != digest(first_line) || run.output != first.output {
                    anyhow::bail!("system mode, epoch {epoch}: the epoch sources disagree ({first_line:?} vs {label}: {line:?})");
                }
                figure.push(label, epoch as f64, rep, run.elapsed.as_secs_f64() * 1e3);
            }
            ratios.push((epoch, runs[1].0.elapsed.as_secs_f64() / first.elapsed.as_secs_f64()));
            let secs = first.elapsed.as_secs_f64();
            if secs < shortest.0 {
                shortest = (secs, first.instructions);
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    ratios.sort_by(|a, b| a.partial_cmp(b).expect("finite times"));
    let slowdowns: Vec<String> = epochs
        .iter()
        .map(|&e| {
            let at: Vec<f64> = ratios.iter().filter(|r| r.0 == e).map(|r| r.1).collect();
            format!("{:.1}x at {e}", at[at.len() / 2])
        })
        .collect();
    let note = format!(
        "system mode: the prebuilt guest kernel with a {sectors}-sector disk (its workload writes and reads back every sector), \
         `hbft system --engine jit --epoch N --epoch-source bt|recovery-counter`; both sources gave identical per-epoch state-hash \
         digests and console output in every run; the shortest bt run took {:.2} s ({} instructions); \
         recovery-counter time / bt time (median): {}",
        shortest.0,
        shortest.1,
        slowdowns.join(", ")
    );
    Ok((figure, note))
}
