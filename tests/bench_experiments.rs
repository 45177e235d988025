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
