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

fn record(log: &Path, epoch: u64, guest: &Path, args: &[&str], stdin: Option<&[u8]>) -> RunOutput {
    let (log, epoch) = (log.to_str().unwrap(), epoch.to_string());
    let mut all = vec!["record", "--log", log, "--epoch", &epoch, "--", guest.to_str().unwrap()];
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
        let replayed = replay(&log, &[]);
        assert_eq!(replayed.stderr_str(), recorded_err, "{}", guest.name);
        assert_eq!(replayed.stdout, recorded.stdout, "{}: replayed output differs", guest.name);
        assert_eq!(replayed.code(), recorded.code(), "{}", guest.name);
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
