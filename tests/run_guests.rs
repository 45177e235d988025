//! `hbft run` on the prebuilt guests: the output and exit status recorded
//! under qemu-hppa, and a retired-instruction count that is the same on
//! every run.

mod common;

use std::time::Duration;

use common::{command, prebuilt_guests, run_with};

/// Runs `hbft run --stats GUEST` and returns the output and the count.
fn run_guest(guest: &common::PrebuiltGuest) -> (common::RunOutput, u64) {
    let out = run_with(
        command(common::hbft(), ["run", "--stats"]).arg(&guest.path),
        guest.stdin.as_deref(),
        Some(Duration::from_secs(120)),
    );
    assert!(!out.timed_out, "{} timed out", guest.name);
    let err = out.stderr_str();
    let retired = err
        .lines()
        .find_map(|l| l.strip_prefix("hbft: ")?.split(" instructions retired").next()?.parse().ok())
        .unwrap_or_else(|| panic!("{}: no --stats line in {err:?}", guest.name));
    (out, retired)
}

#[test]
fn prebuilt_guests_match_qemu_output_and_status() {
    let guests = prebuilt_guests();
    assert!(guests.len() >= 8, "prebuilt guests missing");
    for guest in &guests {
        let (out, retired) = run_guest(guest);
        let expected = guest.expected_stdout.as_ref().expect("expected output recorded");
        assert_eq!(out.stdout_str(), String::from_utf8_lossy(expected), "{}: stdout differs", guest.name);
        assert_eq!(out.code(), guest.expected_status, "{}: exit status", guest.name);
        assert!(retired > 0, "{}: nothing retired", guest.name);
    }
}

#[test]
fn retired_instruction_counts_are_deterministic() {
    for guest in prebuilt_guests().iter().filter(|g| ["qsort-O0", "hello_asm", "setjmp-O2"].contains(&g.name.as_str())) {
        let (_, first) = run_guest(guest);
        let (_, second) = run_guest(guest);
        assert_eq!(first, second, "{}: count differs between runs", guest.name);
    }
}

#[test]
fn guest_exit_status_and_arguments_pass_through() {
    let echo = prebuilt_guests().into_iter().find(|g| g.name == "echo_stdin-O2").unwrap();
    let out = run_with(
        command(common::hbft(), ["run"]).arg(&echo.path).arg("/nonexistent/input"),
        None,
        Some(Duration::from_secs(60)),
    );
    assert_eq!(out.code(), Some(1), "a missing input file makes echo_stdin exit 1");
    assert!(out.stderr_str().contains("/nonexistent/input"), "{}", out.stderr_str());
}

/// `--stats` reports how late timer interrupts were delivered: one
/// delivery per signal the timer guest waits for at least, and a lateness
/// that cannot be negative and is at most the run's wall time.
#[test]
fn stats_report_timer_interrupt_lateness() {
    let timers = prebuilt_guests().into_iter().find(|g| g.name == "timer_signals-O2").unwrap();
    let out = run_with(
        command(common::hbft(), ["run", "--stats", "--epoch", "65536"]).arg(&timers.path).arg("5"),
        None,
        Some(Duration::from_secs(60)),
    );
    assert!(out.success(), "{}", out.stderr_str());
    let err = out.stderr_str();
    let line = err.lines().find_map(|l| l.strip_prefix("hbft: timer interrupts: ")).unwrap_or_else(|| panic!("no lateness line: {err}"));
    let numbers: Vec<f64> = line.split(' ').filter_map(|w| w.trim_end_matches(',').parse().ok()).collect();
    let [deliveries, mean, max] = numbers[..] else { panic!("unexpected lateness line: {line}") };
    // timer_signals 5: 5 SIGALRM, 2 SIGUSR1 and the poll wake-up.
    assert!(deliveries >= 8.0, "{line}");
    assert!(0.0 <= mean && mean <= max && max < 60e6, "{line}");
}

/// `--translate inline` and `--translate background` run a guest with the
/// same output and the same retired-instruction count; a bad value is a
/// usage error.
#[test]
fn translation_in_the_background_or_inline_retires_the_same_instructions() {
    let guest = prebuilt_guests().into_iter().find(|g| g.name == "cpu_bound-O2").unwrap();
    let retired = |translate: &str| {
        let out = common::run(command(common::hbft(), ["run", "--stats", "--translate", translate]).arg(&guest.path).arg("3"));
        assert!(out.success(), "{}", out.stderr_str());
        let err = out.stderr_str();
        let count = err.lines().find_map(|l| l.strip_prefix("hbft: ")?.split(" instructions retired").next().map(str::to_owned));
        (out.stdout, count.unwrap_or_else(|| panic!("no retired count: {err}")))
    };
    assert_eq!(retired("inline"), retired("background"));
    let out = common::run(command(common::hbft(), ["run", "--translate", "sideways"]).arg(&guest.path));
    assert_eq!(out.status.code(), Some(2), "{}", out.stderr_str());
    assert!(out.stderr_str().contains("invalid value 'sideways' for '--translate"), "{}", out.stderr_str());
}
