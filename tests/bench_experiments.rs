//! `hbft bench EXPERIMENT`: one tiny configuration end to end writes a CSV
//! that parses with every series measured, a markdown table and an SVG plot
//! naming every series; bad flags are one-line errors.

mod common;

use std::time::Duration;

use common::{command, run_with};

#[derive(Debug, serde::Deserialize)]
struct Sample {
    series: String,
    x: f64,
    rep: u32,
    value: f64,
}

#[test]
fn tiny_epoch_length_run_writes_csv_table_and_plot() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-epoch-length");
    let _ = std::fs::remove_dir_all(&dir);
    let out = run_with(
        command(common::hbft(), ["bench", "epoch-length", "--quick", "--reps", "1", "--epochs", "65536,1048576", "--out"]).arg(&dir),
        None,
        Some(Duration::from_secs(120)),
    );
    assert!(out.success(), "{}\n{}", out.stdout_str(), out.stderr_str());
    let samples: Vec<Sample> = csv::Reader::from_path(dir.join("epoch_length.csv")).unwrap().deserialize().map(Result::unwrap).collect();
    let series = ["cpu-bound / sync epoch", "cpu-bound / sync output", "io-bound / sync epoch", "io-bound / sync output"];
    for s in series {
        let xs: Vec<f64> = samples.iter().filter(|r| r.series == s).map(|r| r.x).collect();
        assert_eq!(xs, [65536.0, 1048576.0], "{s}: {samples:?}");
    }
    assert!(samples.iter().all(|r| r.rep == 0 && r.value.is_finite() && r.value > 0.0), "{samples:?}");
    let table = std::fs::read_to_string(dir.join("epoch_length.md")).unwrap();
    assert!(table.contains("| cpu-bound / sync epoch | 64K | 1 |"), "{table}");
    let report = std::fs::read_to_string(dir.join("epoch-length.report.md")).unwrap();
    assert!(report.contains("![") && report.contains("epoch_length.svg"), "{report}");
    let svg = std::fs::read_to_string(dir.join("epoch_length.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "not an SVG document");
    for s in series {
        assert!(svg.contains(s), "legend lacks {s}");
    }
    // A line and a legend mark per series, and the reference line at 1.0.
    assert!(svg.matches("<polyline").count() > 2 * series.len(), "too few lines");
}

/// The BT vs recovery-counter experiment's system-mode series: the guest
/// kernel's disk workload under both epoch sources (the experiment itself
/// fails if their state-hash digests differ).
#[test]
fn tiny_bt_vs_counter_run_has_the_system_mode_series() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-bt-vs-counter");
    let _ = std::fs::remove_dir_all(&dir);
    let out = run_with(
        command(common::hbft(), ["bench", "bt-vs-counter", "--quick", "--reps", "1", "--epochs", "1024", "--out"]).arg(&dir),
        None,
        Some(Duration::from_secs(300)),
    );
    assert!(out.success(), "{}\n{}", out.stdout_str(), out.stderr_str());
    let samples: Vec<Sample> = csv::Reader::from_path(dir.join("counters_system.csv")).unwrap().deserialize().map(Result::unwrap).collect();
    let series = ["system, bt: injected counters", "system, recovery-counter trap"];
    for s in series {
        let values: Vec<f64> = samples.iter().filter(|r| r.series == s && r.x == 1024.0).map(|r| r.value).collect();
        assert_eq!(values.len(), 1, "{s}: {samples:?}");
        // Milliseconds of a kernel workload sized to take about half a second.
        assert!(values[0] > 100.0 && values[0].is_finite(), "{s}: {values:?}");
    }
    let table = std::fs::read_to_string(dir.join("counters_system.md")).unwrap();
    assert!(table.contains("| system, recovery-counter trap | 1K | 1 |"), "{table}");
    let report = std::fs::read_to_string(dir.join("bt-vs-counter.report.md")).unwrap();
    assert!(report.contains("counters_system.svg") && report.contains("identical per-epoch state-hash"), "{report}");
    let svg = std::fs::read_to_string(dir.join("counters_system.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"), "not an SVG document");
    for s in series {
        assert!(svg.contains(s), "legend lacks {s}");
    }
}

#[test]
fn bad_bench_flags_are_one_line_errors() {
    for args in [
        &["bench", "epoch-length", "--reps", "0"][..],
        &["bench", "link", "--epochs", "0"],
        &["bench", "failover", "--epochs", "x"],
        &["bench", "nonsense"],
        &["bench", "breakdown", "--out", "/proc/hbft-no/such"],
    ] {
        let out = run_with(&mut command(common::hbft(), args), None, Some(Duration::from_secs(60)));
        assert!(!out.success(), "{args:?} succeeded");
        let err = out.stderr_str();
        let first = err.lines().next().unwrap_or("");
        assert!(first.starts_with("error:") || first.starts_with("hbft: "), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        if first.starts_with("hbft: ") {
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        }
    }
}
