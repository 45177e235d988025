//! Bad input gets a one-line error and a non-zero exit, never a panic.

mod common;

use std::path::PathBuf;

use common::{command, prebuilt_guests, run};

/// Writes `bytes` to a scratch file and runs `hbft ARGS FILE`.
fn hbft_on(name: &str, bytes: &[u8], args: &[&str]) -> common::RunOutput {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, bytes).unwrap();
    run(command(common::hbft(), args).arg(&path))
}

fn assert_one_line_error(out: &common::RunOutput, needle: &str) {
    let err = out.stderr_str();
    assert!(!out.success(), "expected failure, got success; stderr: {err}");
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err:?}");
    assert!(err.contains(needle), "{err:?} does not mention {needle:?}");
}

fn real_guest() -> Vec<u8> {
    let guest = prebuilt_guests().into_iter().find(|g| g.name.contains("hello_float")).unwrap();
    std::fs::read(guest.path).unwrap()
}

#[test]
fn disasm_rejects_non_elf_files() {
    assert_one_line_error(&hbft_on("script.sh", b"#!/bin/sh\necho hi\n", &["disasm"]), "not an ELF file");
    assert_one_line_error(&hbft_on("empty", b"", &["disasm"]), "not an ELF file");
}

#[test]
fn disasm_rejects_wrong_class_endianness_and_machine() {
    let good = real_guest();
    for (at, value, name) in [(4, 2u8, "class64"), (5, 1, "little"), (19, 3, "x86")] {
        let mut bad = good.clone();
        bad[at] = value;
        assert_one_line_error(&hbft_on(name, &bad, &["disasm"]), "not an ELF32 big-endian PA-RISC");
    }
}

#[test]
fn disasm_rejects_truncated_files() {
    let good = real_guest();
    assert_one_line_error(&hbft_on("trunc-header", &good[..30], &["disasm"]), "truncated");
    // Cutting the file removes the section table at its end.
    let out = hbft_on("trunc-body", &good[..good.len() / 2], &["disasm"]);
    assert_one_line_error(&out, "section");
}

#[test]
fn missing_file_and_bad_flags_are_errors() {
    let out = run(&mut command(common::hbft(), ["disasm", "/nonexistent/prog"]));
    assert_one_line_error(&out, "cannot read /nonexistent/prog");
    let out = run(&mut command(common::hbft(), ["disasm", "--no-such-flag", "x"]));
    assert!(!out.success());
    assert!(!out.stderr_str().contains("panicked"));
}

#[test]
fn run_rejects_non_elf_and_missing_programs() {
    assert_one_line_error(&hbft_on("not-a-program", b"hello\n", &["run"]), "not an ELF file");
    let out = run(&mut command(common::hbft(), ["run", "/nonexistent/prog"]));
    assert_one_line_error(&out, "cannot read /nonexistent/prog");
}
