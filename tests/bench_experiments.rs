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

/// Every figure of `hbft bench all --quick` with the series it must have.
/// The 10 Mbit/s link needs a network namespace (root); under CI it must
/// be there.
const FIGURES: &[(&str, &[&str])] = &[
    ("epoch_length", &["cpu-bound / sync epoch", "cpu-bound / sync output", "io-bound / sync epoch", "io-bound / sync output"]),
    ("link_cpu_bound", &["loopback", "+0.1 ms", "+1 ms", "+10 ms", "10 Mbit/s"]),
    ("link_io_bound", &["loopback", "+0.1 ms", "+1 ms", "+10 ms", "10 Mbit/s"]),
    ("interrupt_lateness", &["jit mean", "jit max", "interp mean", "interp max"]),
    ("interrupt_latency_instructions", &["jit", "interp", "epoch length"]),
    ("interrupt_latency_us", &["jit", "interp"]),
    ("interrupt_throughput", &["jit", "interp"]),
    ("counters_time", &["jit, icount off (baseline)", "jit, injected counters", "interp, per-instruction count"]),
    (
        "counters_split",
        &[
            "counter checks (jit longest epoch - icount off)",
            "epoch-boundary exits (jit - jit longest epoch)",
            "synchronization (replicated - unreplicated, loopback)",
        ],
    ),
    ("counters_system", &["system, bt: injected counters", "system, recovery-counter trap"]),
    ("breakdown_time", &["execution", "epoch-end round trips", "forwarding and the rest"]),
    ("breakdown_log", &["log (KiB)"]),
    ("breakdown_frames", &["frames per epoch"]),
    ("failover_detection", &["SIGKILL", "SIGSTOP"]),
    ("failover_takeover", &["SIGKILL", "SIGSTOP"]),
];

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

/// Issue 9's acceptance: `hbft bench all --quick` finishes in under 10
/// minutes and writes, for every experiment, a CSV that parses with every
/// series, a markdown table, and an SVG that is a well-formed SVG document
/// naming every series; the report links every plot. (About 2 minutes on 2
/// cores, so `.ci/run` runs it explicitly.)
#[test]
#[ignore]
fn bench_all_quick_writes_every_csv_table_and_plot() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-all-quick");
    let _ = std::fs::remove_dir_all(&dir);
    let started = std::time::Instant::now();
    let out = run_with(command(common::hbft(), ["bench", "all", "--quick", "--out"]).arg(&dir), None, Some(Duration::from_secs(600)));
    assert!(out.success(), "{}\n{}", out.stdout_str(), out.stderr_str());
    assert!(started.elapsed() < Duration::from_secs(600), "took {:?}", started.elapsed());
    let report = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let bandwidth_cap = is_root() || common::under_ci();
    for (name, series) in FIGURES {
        let series: Vec<&str> = series.iter().copied().filter(|s| bandwidth_cap || *s != "10 Mbit/s").collect();
        let samples: Vec<Sample> = csv::Reader::from_path(dir.join(format!("{name}.csv")))
            .unwrap_or_else(|e| panic!("{name}.csv: {e}"))
            .deserialize()
            .map(|r| r.unwrap_or_else(|e| panic!("{name}.csv: {e}")))
            .collect();
        for s in &series {
            assert!(samples.iter().any(|r| r.series == *s), "{name}.csv lacks {s}");
        }
        assert!(samples.iter().all(|r| r.value.is_finite() && r.x.is_finite()), "{name}.csv: {samples:?}");
        let table = std::fs::read_to_string(dir.join(format!("{name}.md"))).unwrap();
        for s in &series {
            assert!(table.contains(&format!("| {s} |")), "{name}.md lacks {s}");
        }
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        let doc = roxmltree::Document::parse(&svg).unwrap_or_else(|e| panic!("{name}.svg is not well-formed XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg", "{name}.svg");
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).map(str::trim).collect();
        for s in &series {
            assert!(texts.contains(s), "{name}.svg has no legend entry {s}: {texts:?}");
        }
        assert!(report.contains(&format!("({name}.svg)")), "report.md does not show {name}.svg");
    }
}

/// Ctrl-C (SIGINT to the process group, as a terminal sends it) in the
/// middle of the link experiment leaves no network namespace, veth pair or
/// process behind.
#[test]
#[ignore]
fn interrupted_link_experiment_cleans_up() {
    use std::os::unix::process::CommandExt;
    if !is_root() {
        assert!(!common::under_ci(), "CI runs as root and must test namespace cleanup");
        eprintln!("skipped: creating network namespaces needs root");
        return;
    }
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-link-interrupted");
    let mut child = command(common::hbft(), ["bench", "link", "--quick", "--out"])
        .arg(&dir)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let namespace = format!("hbft-bench-{pid}");
    let listed = || String::from_utf8_lossy(&std::process::Command::new("ip").args(["netns", "list"]).output().unwrap().stdout).into_owned();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !listed().contains(&namespace) {
        assert!(std::time::Instant::now() < deadline, "the experiment never created {namespace}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Let replicas start on the shaped link, then interrupt.
    std::thread::sleep(Duration::from_secs(3));
    let group = format!("-{pid}");
    let interrupted = std::process::Command::new("kill").args(["-INT", "--", &group]).status().unwrap();
    assert!(interrupted.success(), "cannot signal the experiment's process group");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert!(!listed().contains(&namespace), "namespace {namespace} left behind");
    let links = String::from_utf8_lossy(&std::process::Command::new("ip").args(["link"]).output().unwrap().stdout).into_owned();
    assert!(!links.contains(&format!("hbb{pid}o")), "veth pair left behind: {links}");
    // Nothing of the process group may survive.
    std::thread::sleep(Duration::from_millis(500));
    let survivors = live_processes_in_group(pid);
    assert!(survivors.is_empty(), "processes of the experiment survived Ctrl-C: {survivors:?}");
}

/// The command lines of the processes of process group `group` that are
/// still running (zombies waiting for a reaper do not count).
fn live_processes_in_group(group: u32) -> Vec<String> {
    let mut live = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // pid (comm) state ppid pgrp ...: comm may contain spaces, so split after ')'.
        let Some((_, rest)) = stat.rsplit_once(')') else { continue };
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.len() > 2 && fields[2] == group.to_string() && fields[0] != "Z" {
            live.push(std::fs::read_to_string(entry.path().join("cmdline")).unwrap_or_default().replace('\0', " "));
        }
    }
    live
}
