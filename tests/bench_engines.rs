//! `hbft bench engines`: a quick run produces the table with measured
//! interpreter times and reports unavailable columns as missing; a bad
//! guests directory is a one-line error.

mod common;

use std::time::Duration;

use common::{command, run_with};

#[test]
fn quick_engine_benchmark_prints_the_table() {
    if common::require_tool("cc").is_none() || common::require_tool("make").is_none() {
        return;
    }
    let native = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-native");
    let out = run_with(
        command(common::hbft(), ["bench", "engines", "--quick", "--guests"])
            .arg(common::guests_dir())
            .arg("--native-dir")
            .arg(&native),
        None,
        Some(Duration::from_secs(600)),
    );
    let text = out.stdout_str();
    assert!(out.success(), "bench failed: {}\n{text}\n{}", out.status, out.stderr_str());
    assert!(text.contains("| hbft interp |"), "{text}");
    let lua = text.lines().find(|l| l.starts_with("| Lua 5.4")).unwrap_or_else(|| panic!("no Lua row in {text}"));
    let cells: Vec<&str> = lua.split('|').map(str::trim).collect();
    // | guest | instructions | native | qemu | interp | jit | jit --icount off |
    assert!(cells[2].ends_with(" M"), "instruction count: {lua}");
    assert!(cells[5].contains("MIPS"), "interp measured: {lua}");
    assert!(text.contains("geometric mean of time / native"), "{text}");
    if common::find_tool("qemu-hppa").is_none() {
        assert_eq!(cells[4], "missing", "{lua}");
    }
}

#[test]
fn bench_with_a_bad_guests_directory_is_a_one_line_error() {
    let out = run_with(
        &mut command(common::hbft(), ["bench", "engines", "--quick", "--guests", "/nonexistent/guests"]),
        None,
        Some(Duration::from_secs(60)),
    );
    assert_eq!(out.code(), Some(1));
    let err = out.stderr_str();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("hbft: ") && err.contains("/nonexistent/guests"), "{err}");
}
