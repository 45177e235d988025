//! `hbft system`: the prebuilt guest kernel boots on the virtual board under
//! both engines and both epoch sources with the expected console output,
//! the same epochs and the same disk contents; its two user processes run
//! interleaved by the timer in isolated address spaces, and every
//! privilege-sensitive instruction shows at levels 0 and 3 what the
//! architecture manual says; bad kernel images fail with one line.

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

/// Boots with the default epoch length: the console is exactly the expected one.
fn check_boot(kernel: &Path, name: &str, extra: &[&str]) -> String {
    let (console, epochs) = boot_console(kernel, name, extra);
    assert_eq!(console, expected_console(), "{extra:?}");
    epochs
}

/// Boots and checks the disk; returns the console and the epoch summary.
fn boot_console(kernel: &Path, name: &str, extra: &[&str]) -> (String, String) {
    let disk = disk_image(name);
    let out = boot(kernel, &disk, extra);
    assert!(out.success(), "{extra:?}: {out:?}");
    let console = out.stdout_str();
    assert!(!console.contains("WRONG") && !console.contains("MISMATCH"), "{extra:?}: {console}");
    let image = std::fs::read(&disk).unwrap();
    assert_eq!(&image[..BLOCK0.len()], BLOCK0, "block 0 untouched");
    assert_eq!(&image[512..512 + WRITTEN.len()], WRITTEN, "block 1 written by the kernel");
    assert!(image[512 + WRITTEN.len()..1024].iter().all(|&b| b == 0));
    std::fs::remove_file(&disk).unwrap();
    (console, epochs_of(&out))
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
    // The kernel prints each process's output at the end, in process
    // order, so the console does not depend on where timer interrupts fall.
    for epoch in ["1000", "50000"] {
        let a = check_boot(&kernel(), &format!("interp-{epoch}.img"), &["--engine", "interp", "--epoch", epoch]);
        let b = check_boot(&kernel(), &format!("jit-{epoch}.img"), &["--engine", "jit", "--epoch", epoch]);
        assert_eq!(a, b, "epoch {epoch}");
    }
}

/// The lines of process `id` ("[id] ...") in order.
fn process_lines(console: &str, id: u32) -> Vec<&str> {
    let prefix = format!("[{id}] ");
    console.lines().filter(|l| l.starts_with(&prefix)).collect()
}

#[test]
fn two_processes_are_preempted_by_the_timer() {
    let console = expected_console();
    // Each process's work (five steps of ~15000 instructions) spans several
    // time slices of 20000: the kernel counts the timer interrupts that
    // switched away from a process while the other was alive.
    for id in [1, 2] {
        let steps: Vec<&str> = process_lines(&console, id).into_iter().filter(|l| l.contains("] step ")).collect();
        assert_eq!(steps.len(), 5, "process {id}: {steps:?}");
    }
    assert!(console.contains(
        "kernel: all processes exited; each was preempted by the timer at least twice while the other was running"
    ));
    assert!(console.contains("kernel: process 1 exited with status 0") && console.contains("kernel: process 2 exited with status 0"));
}

#[test]
fn each_process_address_space_is_isolated_and_kernel_memory_traps_at_pl3() {
    let console = expected_console();
    for id in [1u32, 2] {
        let own = 0x100 * id;
        let other = 0x100 * (3 - id);
        let lines = process_lines(&console, id);
        for want in [
            "own data page kept its marker while the other process ran",
            "kernel memory not readable at PL 3",
            "own code page readable, not writable",
            "other process's data page not readable (protection ID)",
            "counter 15000",
        ] {
            assert!(lines.contains(&format!("[{id}] {want}").as_str()), "process {id}: {want}");
        }
        // The traps the kernel took: access rights (26) on its own kernel
        // and code pages, protection ID (27) on the other's data page,
        // with the space in ISR.
        for trap in [
            format!("data memory access rights trap (26) from PL 3 in process {id} at {own:#010x}:0x00010000"),
            format!("data memory protection ID trap (27) from PL 3 in process {id} at {other:#010x}:0x00800000"),
        ] {
            assert!(console.contains(&trap), "missing: {trap}");
        }
        let rights = format!("data memory access rights trap (26) from PL 3 in process {id} at {own:#010x}:");
        assert_eq!(console.matches(&rights).count(), 2, "the kernel page and the process's code page");
    }
}

#[test]
fn privilege_sensitive_instructions_show_the_virtual_level_at_pl0_and_pl3() {
    let console = expected_console();
    for want in [
        "kernel: branch-and-link shows PL 0",
        "kernel: mfia: offset, low bits 0",
        "kernel: mtctl/mfctl cr26 at PL 0",
        "kernel: ssm 0 reads the system mask (0 at reset)",
        "kernel: ldwa at PL 0 reads the physical word",
    ] {
        assert!(console.lines().any(|l| l == want), "{want}");
    }
    for id in [1, 2] {
        let lines = process_lines(&console, id);
        for want in [
            "branch-and-link shows PL 3",
            "mfia: offset, low bits 0",
            "b,gate outside a gateway page keeps PL 3",
            "mfctl cr26 readable at PL 3 (the kernel's process id)",
            "mfctl cr16 readable at PL 3 (PSW S clear)",
            "mfctl cr14 trapped (privileged register)",
            "ssm trapped (privileged operation)",
            "ldwa trapped (privileged operation)",
            "mfsp sr5 shows its own space",
            "probe,r own data page at PL 3: 1",
            "probe,r kernel page at PL 3: 0",
            "probe,w own code page: 0",
            "probe,r kernel page, level operand 0, from PL 3: 0",
        ] {
            assert!(lines.contains(&format!("[{id}] {want}").as_str()), "process {id}: {want}");
        }
        // mfctl cr14, mtctl cr14, mtsp sr5: privileged register (11);
        // ssm, rsm, mtsm, rfi, diag, pdtlb, ldwa: privileged operation (10).
        let count = |n: u32| {
            let what = if n == 11 { "privileged-register" } else { "privileged-operation" };
            console.matches(&format!("kernel: {what} trap ({n}) from PL 3 in process {id}, instruction skipped")).count()
        };
        assert_eq!((count(11), count(10)), (3, 7), "process {id}");
    }
    // System calls went through the gateway page: a gate there promoted to
    // PL 0 (rsm and rfi in the gateway would otherwise have trapped).
    assert_eq!(console.matches("trap (").count(), 2 * (3 + 7 + 3), "no other traps");
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
