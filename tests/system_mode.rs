//! `hbft system`: the prebuilt guest kernel boots on the virtual board under
//! both engines and both epoch sources with the expected console output,
//! the same epochs and the same disk contents; bad kernel images fail with
//! one line.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{command, hbft, prebuilt_dir, run_with, RunOutput};

const TIMEOUT: Option<Duration> = Some(Duration::from_secs(120));
const BLOCK0: &[u8] = b"HBFT test disk, block 0\n";
const WRITTEN: &[u8] = b"written by the hbft guest kernel\n";

fn kernel() -> PathBuf {
    prebuilt_dir().join("system").join("kernel")
}

fn expected_console() -> String {
    let path = prebuilt_dir().join("system").join("kernel.console");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A fresh 8-sector disk image whose block 0 holds [`BLOCK0`].
fn disk_image(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hbft-system-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let mut bytes = vec![0u8; 8 * 512];
    bytes[..BLOCK0.len()].copy_from_slice(BLOCK0);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn boot(kernel: &Path, disk: &Path, extra: &[&str]) -> RunOutput {
    let mut args: Vec<String> = vec!["system".into(), "--stats".into(), "--disk".into(), disk.display().to_string()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(kernel.display().to_string());
    run_with(&mut command(hbft(), &args), None, TIMEOUT)
}

/// The `--stats` line without the host-time and MIPS figures.
fn epochs_of(out: &RunOutput) -> String {
    let err = out.stderr_str();
    let line = err.lines().find(|l| l.starts_with("hbft system:")).unwrap_or_else(|| panic!("no stats in {err}"));
    let (counts, rest) = line.split_once(" s host").unwrap();
    let counts = counts.rsplit_once(", ").unwrap().0;
    let digest = rest.rsplit_once("digest ").unwrap().1;
    format!("{counts} / {digest}")
}

fn check_boot(kernel: &Path, name: &str, extra: &[&str]) -> String {
    let disk = disk_image(name);
    let out = boot(kernel, &disk, extra);
    assert!(out.success(), "{extra:?}: {out:?}");
    assert_eq!(out.stdout_str(), expected_console(), "{extra:?}");
    let image = std::fs::read(&disk).unwrap();
    assert_eq!(&image[..BLOCK0.len()], BLOCK0, "block 0 untouched");
    assert_eq!(&image[512..512 + WRITTEN.len()], WRITTEN, "block 1 written by the kernel");
    assert!(image[512 + WRITTEN.len()..1024].iter().all(|&b| b == 0));
    std::fs::remove_file(&disk).unwrap();
    epochs_of(&out)
}

#[test]
fn the_kernel_boots_identically_under_both_engines_and_epoch_sources() {
    let mut seen = Vec::new();
    for engine in ["interp", "jit"] {
        for source in ["bt", "recovery-counter"] {
            let name = format!("{engine}-{source}.img");
            let epochs = check_boot(&kernel(), &name, &["--engine", engine, "--epoch-source", source]);
            eprintln!("{engine} {source}: {epochs}");
            seen.push(epochs);
        }
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "epochs differ: {seen:#?}");
}

#[test]
fn other_epoch_lengths_give_the_same_console_and_equal_epochs_across_engines() {
    for epoch in ["1000", "50000"] {
        let a = check_boot(&kernel(), &format!("interp-{epoch}.img"), &["--engine", "interp", "--epoch", epoch]);
        let b = check_boot(&kernel(), &format!("jit-{epoch}.img"), &["--engine", "jit", "--epoch", epoch]);
        assert_eq!(a, b, "epoch {epoch}");
    }
}

#[test]
fn bad_kernel_images_fail_with_one_line() {
    let disk = disk_image("bad.img");
    let garbage = disk.with_file_name("garbage");
    std::fs::write(&garbage, b"not a kernel").unwrap();
    let linux_program = prebuilt_dir().join("hello_asm");
    let cases: [(PathBuf, &str); 4] = [
        (garbage, "not an ELF file"),
        (disk.with_file_name("missing"), "cannot read"),
        (hbft(), "ELF class"),
        // A Linux program calls the gateway page, which the board leaves empty.
        (linux_program, "page zero"),
    ];
    for (path, want) in cases {
        let out = boot(&path, &disk, &[]);
        let err = out.stderr_str();
        assert!(!out.success() && !out.timed_out, "{}: {out:?}", path.display());
        assert_eq!(err.lines().count(), 1, "{}: {err}", path.display());
        assert!(err.starts_with("hbft: ") && err.contains(want), "{}: {err}", path.display());
    }
    std::fs::remove_file(&disk).unwrap();
}

#[test]
fn the_kernel_built_from_source_boots() {
    if common::require_tool(&common::cross_tool("gcc")).is_none() {
        return;
    }
    let build = common::guest_build_dir();
    let args = ["-s".to_string(), "-C".into(), common::guests_dir().display().to_string(), format!("BUILD={}", build.display()), "kernel".into()];
    let out = run_with(&mut command("make", &args), None, TIMEOUT);
    assert!(out.success(), "make kernel: {out:?}");
    check_boot(&build.join("kernel"), "from-source.img", &[]);
}
