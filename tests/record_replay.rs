//! `hbft record` / `hbft replay` / `hbft dump`: replays reproduce the
//! recorded output, exit status and every epoch's state hash; damaged,
//! truncated or mismatched logs and divergences give one-line errors.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{command, prebuilt_dir, prebuilt_guests, run, run_with, RunOutput};
use hbft_replication::log::{LogReader, LogWriter};
use hbft_runtime::journal::{EpochSink, Entry};

fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

fn hbft(args: &[&str], stdin: Option<&[u8]>) -> RunOutput {
    run_with(&mut command(common::hbft(), args), stdin, Some(Duration::from_secs(120)))
}

/// `hbft record` under the JIT (the default engine).
fn record(log: &Path, epoch: u64, guest: &Path, args: &[&str], stdin: Option<&[u8]>) -> RunOutput {
    record_with("jit", log, epoch, guest, args, stdin)
}

fn record_with(engine: &str, log: &Path, epoch: u64, guest: &Path, args: &[&str], stdin: Option<&[u8]>) -> RunOutput {
    let (log, epoch) = (log.to_str().unwrap(), epoch.to_string());
    let mut all = vec!["record", "--engine", engine, "--log", log, "--epoch", &epoch, "--", guest.to_str().unwrap()];
    all.extend(args);
    hbft(&all, stdin)
}

fn replay(log: &Path, extra: &[&str]) -> RunOutput {
    let mut all = vec!["replay", "--log", log.to_str().unwrap()];
    all.extend(extra);
    hbft(&all, None)
}

/// The state hashes of a log's epoch ends and exit, in order.
fn hashes(log: &Path) -> Vec<u64> {
    let (_, mut reader) = LogReader::open(log).unwrap();
    let mut hashes = Vec::new();
    while let Some((_, entry)) = reader.next_with_offset().unwrap() {
        match entry {
            Entry::EpochEnd(end) => hashes.push(end.state_hash),
            Entry::RunEnd(end) => hashes.push(end.state_hash),
            Entry::Env(_) => {}
        }
    }
    hashes
}

fn assert_one_line_error(out: &RunOutput, needles: &[&str]) {
    let err = out.stderr_str();
    assert!(!out.success(), "expected failure, got success; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    for needle in needles {
        assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
    }
}

#[test]
fn every_prebuilt_guest_replays_identically() {
    let mut epochs = 0;
    for guest in prebuilt_guests() {
        let log = scratch(&format!("{}.log", guest.name));
        let recorded = record(&log, 4096, &guest.path, &[], guest.stdin.as_deref());
        let recorded_err = recorded.stderr_str();
        assert!(!recorded.timed_out && !recorded_err.contains("hbft:"), "{}: {recorded_err}", guest.name);
        if let Some(expected) = &guest.expected_stdout {
            assert_eq!(&recorded.stdout, expected, "{}: recorded output differs from qemu's", guest.name);
        }
        // Recorded under the JIT: replayed under both engines.
        for engine in ["interp", "jit"] {
            let replayed = replay(&log, &["--engine", engine]);
            assert_eq!(replayed.stderr_str(), recorded_err, "{} under {engine}", guest.name);
            assert_eq!(replayed.stdout, recorded.stdout, "{} under {engine}: replayed output differs", guest.name);
            assert_eq!(replayed.code(), recorded.code(), "{} under {engine}", guest.name);
        }
        epochs += hashes(&log).len() - 1;
    }
    assert!(epochs > 100, "only {epochs} epochs recorded");
}

#[test]
fn replaying_twice_gives_the_same_hashes_as_recording() {
    // Each replay checks every epoch hash against the log; a second replay
    // in a different host environment (other variables, another working
    // directory: other host addresses and timing) must pass the same check.
    let guest = prebuilt_dir().join("cpu_bound-O2");
    let log = scratch("cpu_bound_twice.log");
    let recorded = record(&log, 1000, &guest, &["2"], None);
    assert!(recorded.success(), "{}", recorded.stderr_str());
    let first = replay(&log, &[]);
    assert!(first.success(), "{}", first.stderr_str());
    let mut cmd = command(common::hbft(), ["replay", "--log", log.to_str().unwrap()]);
    cmd.env("HBFT_UNRELATED", "x".repeat(5000)).current_dir(std::env::temp_dir());
    let second = run(&mut cmd);
    assert!(second.success(), "{}", second.stderr_str());
    assert_eq!(first.stdout, second.stdout);
    assert!(hashes(&log).len() > 100);
}

#[test]
fn stats_report_epochs_events_and_log_rate() {
    let guest = prebuilt_dir().join("hello_float-O2");
    let log = scratch("stats.log");
    let out = hbft(&["record", "--stats", "--log", log.to_str().unwrap(), "--epoch", "1000", "--", guest.to_str().unwrap()], None);
    assert!(out.success());
    let err = out.stderr_str();
    assert!(err.contains(" epochs, ") && err.contains(" environment events, log ") && err.contains("KB/s"), "{err}");
}

#[test]
fn dump_lists_header_epochs_and_events() {
    let guest = prebuilt_dir().join("echo_stdin-O2");
    let log = scratch("dump.log");
    assert!(record(&log, 2000, &guest, &[], Some(b"typed input\n")).success());
    let out = hbft(&["dump", "--log", log.to_str().unwrap()], None);
    assert!(out.success(), "{}", out.stderr_str());
    let text = out.stdout_str();
    for needle in ["sha256", "epoch    2000 instructions", "END      epoch 0 at 2000 instructions", "\"typed input\\n\"", "EXIT     status 0"] {
        assert!(text.contains(needle), "dump lacks {needle:?}:\n{text}");
    }
}

/// A recorded log, its bytes, and the offset of its second epoch end.
fn sample_log(name: &str) -> (PathBuf, Vec<u8>) {
    let log = scratch(name);
    assert!(record(&log, 1000, &prebuilt_dir().join("hello_float-O2"), &[], None).success());
    let bytes = std::fs::read(&log).unwrap();
    (log, bytes)
}

#[test]
fn corrupt_logs_name_epoch_and_offset() {
    let (log, mut bytes) = sample_log("corrupt.log");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    std::fs::write(&log, &bytes).unwrap();
    assert_one_line_error(&replay(&log, &[]), &["corrupt.log", "at offset", "(epoch "]);
    assert_one_line_error(&hbft(&["dump", "--log", log.to_str().unwrap()], None), &["at offset", "(epoch "]);
}

#[test]
fn truncated_logs_name_epoch_and_offset() {
    let (log, bytes) = sample_log("truncated.log");
    std::fs::write(&log, &bytes[..bytes.len() * 2 / 3]).unwrap();
    assert_one_line_error(&replay(&log, &[]), &["truncated", "at offset", "(epoch "]);
    std::fs::write(&log, &bytes[..5]).unwrap();
    assert_one_line_error(&replay(&log, &[]), &["not an hbft log"]);
    assert_one_line_error(&replay(&scratch("no-such.log"), &[]), &["no-such.log"]);
}

#[test]
fn a_different_binary_is_refused() {
    let (log, _) = sample_log("mismatch.log");
    let other = prebuilt_dir().join("hello_asm");
    assert_one_line_error(&replay(&log, &["--prog", other.to_str().unwrap()]), &["is not the recorded binary", "sha256"]);
}

#[test]
fn a_differing_state_hash_stops_the_replay_at_its_epoch() {
    let (log, _) = sample_log("diverge-source.log");
    let (header, mut reader) = LogReader::open(&log).unwrap();
    let forged = scratch("diverge.log");
    let mut writer = LogWriter::create(&forged, &header).unwrap();
    while let Some((_, entry)) = reader.next_with_offset().unwrap() {
        match entry {
            Entry::Env(record) => writer.env_result(&record).unwrap(),
            Entry::EpochEnd(mut end) => {
                if end.epoch == 3 {
                    end.state_hash ^= 1;
                }
                writer.epoch_end(&end).unwrap()
            }
            Entry::RunEnd(end) => writer.run_end(&end).unwrap(),
        }
    }
    assert_one_line_error(&replay(&forged, &[]), &["replay diverged in epoch 3", "state hash"]);
}

/// Records `guest ARGS` under the interpreter and replays it under the JIT:
/// same stdout and status, every epoch's state hash checked.
fn record_and_replay(name: &str, epoch: u64, args: &[&str], stdin: Option<&[u8]>) -> (RunOutput, PathBuf) {
    let log = scratch(&format!("{name}-{epoch}.log"));
    let recorded = record_with("interp", &log, epoch, &prebuilt_dir().join(name), args, stdin);
    assert!(recorded.success(), "{name}: {:?} {}{}", recorded.status, recorded.stdout_str(), recorded.stderr_str());
    let replayed = replay(&log, &["--engine", "jit"]);
    assert!(replayed.success(), "{name}: {}", replayed.stderr_str());
    assert_eq!(replayed.stdout_str(), recorded.stdout_str(), "{name}: replayed output differs");
    (recorded, log)
}

#[test]
fn clock_and_random_values_replay_although_live_runs_differ() {
    let (recorded, _) = record_and_replay("clock_random-O2", 10_000, &["show"], None);
    let again = record(&scratch("clock_random-again.log"), 10_000, &prebuilt_dir().join("clock_random-O2"), &["show"], None);
    assert!(recorded.stdout_str().contains("random "));
    assert_ne!(recorded.stdout, again.stdout, "two live runs read the same clock and random bytes");
}

#[test]
fn high_rate_timer_signals_replay_at_the_same_instructions() {
    for epoch in [5_000, 100_000] {
        let (recorded, log) = record_and_replay("timer_signals-O2", epoch, &["200", "show"], None);
        assert!(recorded.stdout_str().contains("siginfo right"), "{}", recorded.stdout_str());
        let dump = hbft(&["dump", "--log", log.to_str().unwrap()], None).stdout_str();
        let timers = dump.lines().filter(|l| l.contains("interrupts [Timer")).count();
        assert!(timers >= 150, "epoch {epoch}: only {timers} epoch ends deliver timer interrupts");
        assert!(dump.contains("Posix(0)") && dump.contains("Real"), "both timers journaled");
    }
}

#[test]
fn poll_and_select_on_stdin_replay() {
    let input = std::fs::read(prebuilt_dir().join("expected/poll_stdin-O2.stdin")).unwrap();
    let (recorded, _) = record_and_replay("poll_stdin-O2", 2_000, &[], Some(&input));
    let expected = std::fs::read(prebuilt_dir().join("expected/poll_stdin-O2.out")).unwrap();
    assert_eq!(recorded.stdout, expected);
}

/// Records `wait_sigint wait`, sends hbft `signal` once the guest waits,
/// and replays the log.
fn interrupt_recording(signal: &str, name: &str) -> (RunOutput, RunOutput) {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let log = scratch(name);
    let guest = prebuilt_dir().join("wait_sigint-O2");
    let mut child = command(common::hbft(), ["record", "--log", log.to_str().unwrap(), "--epoch", "20000", "--"])
        .arg(&guest)
        .arg("wait")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert_eq!(first, "waiting for SIGINT\n");
    let sent = run(&mut command("kill", [format!("-{signal}"), child.id().to_string()]));
    assert!(sent.success());
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let status = child.wait().unwrap();
    let mut err = Vec::new();
    child.stderr.take().unwrap().read_to_end(&mut err).unwrap();
    let recorded = RunOutput { status, stdout: (first + &rest).into_bytes(), stderr: err, timed_out: false };
    (recorded, replay(&log, &[]))
}

#[test]
fn host_sigint_reaches_the_guest_at_an_epoch_end_and_replays() {
    let (recorded, replayed) = interrupt_recording("INT", "sigint.log");
    assert!(recorded.success(), "{}", recorded.stderr_str());
    assert!(recorded.stdout_str().contains("SIGINT received after"), "{}", recorded.stdout_str());
    assert_eq!(replayed.stdout, recorded.stdout);
    assert!(replayed.success(), "{}", replayed.stderr_str());
}

#[test]
fn host_sigterm_kills_the_guest_the_same_way_in_replay() {
    let (recorded, replayed) = interrupt_recording("TERM", "sigterm.log");
    assert_eq!(recorded.code(), Some(128 + 15), "{}", recorded.stderr_str());
    assert_eq!(replayed.code(), Some(128 + 15), "{}", replayed.stderr_str());
    assert_eq!(replayed.stderr, recorded.stderr);
}

#[test]
fn a_repeated_sigterm_ends_hbft_blocked_in_a_read_for_the_guest() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let guest = prebuilt_dir().join("echo_stdin-O2");
    let mut child = command(common::hbft(), ["run"]).arg(&guest).stdin(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let _open_stdin = child.stdin.take();
    std::thread::sleep(Duration::from_millis(300));
    for _ in 0..2 {
        assert!(run(&mut command("kill", ["-TERM".to_string(), child.id().to_string()])).success());
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "hbft ignored two SIGTERMs");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(15), "{status:?}");
}
