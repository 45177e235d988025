//! Replication end to end: `hbft primary` and `hbft backup` processes on
//! loopback, the primary (or the backup) SIGKILLed at random instants; the
//! output on the shared device must be byte-identical to an unreplicated
//! run every time. Also: a paused primary that comes back and a primary cut
//! off by a partition are fenced off, handshake refusals, bad keys, and
//! `hbft demo`.
//!
//! The kill instants come from a seed printed by each test; set
//! `HBFT_KILL_SEED` to repeat a run.

mod common;
#[path = "common/replica.rs"]
mod replica;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{hbft, prebuilt_dir};
use replica::{Replica, Rng, Scratch};

/// A guest and how it is run.
#[derive(Clone)]
struct Workload {
    name: &'static str,
    guest: &'static str,
    args: &'static [&'static str],
    /// Standard input: the generated text file, or nothing.
    reads_stdin: bool,
}

/// CPU-bound, output-heavy, and reading standard input.
const WORKLOADS: [Workload; 3] = [
    Workload { name: "cpu-bound", guest: "cpu_bound-O2", args: &["10"], reads_stdin: false },
    Workload { name: "output-heavy", guest: "demo-O2", args: &["2000", "20"], reads_stdin: false },
    Workload { name: "stdin-reading", guest: "echo_stdin-O2", args: &[], reads_stdin: true },
];

/// Output-heavy and long enough (0.4 s unreplicated) that a primary cut
/// off or paused a quarter of the way still writes after the backup took
/// over; `WORKLOADS[1]` (0.09 s) can end first.
const LONG_OUTPUT: Workload = Workload { name: "output-heavy, long", guest: "demo-O2", args: &["20000", "20"], reads_stdin: false };

const EPOCHS: [u64; 3] = [1024, 65536, 1 << 20];

/// A scratch directory for one test, with `input`: ~430 KB of text in
/// lines of 1..12 words, the same every time.
fn scratch(name: &str) -> Scratch {
    let s = Scratch::new("hbft-repl-test", name);
    let words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
    let mut text = String::new();
    let mut x = 0x2545f491u32;
    for _ in 0..12000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let n = 1 + x % 12;
        let line: Vec<&str> = (0..n).map(|i| words[((x >> (i % 24)) % 10) as usize]).collect();
        text.push_str(&line.join(" "));
        text.push('\n');
    }
    std::fs::write(s.path("input"), text).unwrap();
    s
}

/// The guest's standard input: the scratch `input` for a workload that reads it.
fn stdin(s: &Scratch, w: &Workload) -> Stdio {
    if w.reads_stdin {
        std::fs::File::open(s.path("input")).unwrap().into()
    } else {
        Stdio::null()
    }
}

fn guest(w: &Workload) -> PathBuf {
    prebuilt_dir().join(w.guest)
}

/// The unreplicated output (stdout and stderr to one file) and its run time.
fn unreplicated(s: &Scratch, w: &Workload) -> (Vec<u8>, Duration) {
    let out_path = s.path(&format!("{}.unreplicated", w.guest));
    let out = std::fs::File::create(&out_path).unwrap();
    let started = Instant::now();
    let status = Command::new(hbft())
        .arg("run")
        .arg(guest(w))
        .args(w.args)
        .stdin(stdin(s, w))
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .status()
        .unwrap();
    assert!(status.success(), "unreplicated {} failed: {status}", w.name);
    (std::fs::read(out_path).unwrap(), started.elapsed())
}

/// One replicated pair's settings.
struct PairConfig<'a> {
    epoch: u64,
    sync: &'a str,
    timeout_ms: u64,
    primary_guest: PathBuf,
    backup_epoch: u64,
}

impl PairConfig<'_> {
    fn new(w: &Workload, epoch: u64) -> PairConfig<'static> {
        PairConfig { epoch, sync: "epoch", timeout_ms: 300, primary_guest: guest(w), backup_epoch: epoch }
    }
}

/// `hbft ROLE PEER-FLAG PEER [FLAGS] -- PROG ARGS` with the shared device and key.
fn replica_cmd(s: &Scratch, w: &Workload, role: &[&str], prog: &Path, epoch: u64, timeout_ms: u64) -> Command {
    let mut cmd = Command::new(hbft());
    cmd.args(role);
    cmd.arg("--output").arg(s.path("replicated")).arg("--key-file").arg(s.path("key"));
    cmd.args(["--epoch", &epoch.to_string(), "--timeout", &timeout_ms.to_string()]);
    cmd.arg("--").arg(prog).args(w.args);
    cmd.stdin(stdin(s, w));
    cmd
}

/// Starts a backup, then a primary connected to it.
fn start_pair(s: &Scratch, w: &Workload, c: &PairConfig) -> (Replica, Replica) {
    start_pair_via(s, w, c, |addr| addr)
}

/// Starts a backup, then a primary connected to `route(backup's address)`.
fn start_pair_via(s: &Scratch, w: &Workload, c: &PairConfig, route: impl FnOnce(String) -> String) -> (Replica, Replica) {
    let backup = Replica::spawn(replica_cmd(s, w, &["backup", "--listen", "127.0.0.1:0"], &guest(w), c.backup_epoch, c.timeout_ms));
    let first = backup.stderr.recv_timeout(Duration::from_secs(20)).expect("backup prints its address");
    let addr = first.strip_prefix("hbft backup: listening on ").unwrap_or_else(|| panic!("backup said: {first}")).to_string();
    let addr = route(addr);
    let role = ["primary", "--backup", &addr, "--sync", c.sync];
    let primary = replica_cmd(s, w, &role, &c.primary_guest, c.epoch, c.timeout_ms);
    (Replica::spawn(primary), backup)
}

const LIMIT: Duration = Duration::from_secs(120);

/// Kills the primary at random instants until `kills` kills have landed
/// while it was running (a kill after the primary's end does not count),
/// cycling through the workloads, epoch lengths and both sync rules. Every
/// run, counted or not, must leave the exact output.
fn kill_primaries(test: &str, kills: usize) {
    let mut rng = Rng::from_env(test);
    let (mut failovers, mut attempts) = (0, 0);
    while failovers < kills {
        assert!(attempts < 2 * kills, "only {failovers} of {attempts} kills landed before the primary's end");
        let i = attempts;
        attempts += 1;
        let w = &WORKLOADS[i % WORKLOADS.len()];
        let s = scratch(&format!("{test}-{i}"));
        let (expected, took) = unreplicated(&s, w);
        let mut c = PairConfig::new(w, EPOCHS[(i / WORKLOADS.len()) % EPOCHS.len()]);
        c.sync = if (i / 9) % 2 == 0 { "epoch" } else { "output" };
        let (primary, backup) = start_pair(&s, w, &c);
        // Kill a primary that is running, not one still connecting (the
        // backup would wait for it forever: it is a listener).
        let hello = backup.stderr.recv_timeout(LIMIT).expect("the backup reports the primary");
        assert!(hello.starts_with("hbft backup: following the primary"), "{hello}");
        let at = took.mul_f64(rng.between(0.05, 0.75));
        std::thread::sleep(at);
        primary.signal("-KILL");
        let _ = primary.finish(LIMIT);
        let (status, stderr) = backup.finish(LIMIT);
        let got = std::fs::read(s.path("replicated")).unwrap();
        let what = format!("kill {i}: {} epoch {} sync {} at {at:?}", w.name, c.epoch, c.sync);
        assert!(status.success(), "{what}: backup {status}: {stderr}");
        assert!(got == expected, "{what}: output differs ({} vs {} bytes): {stderr}", got.len(), expected.len());
        let failover = stderr.contains("live from epoch");
        failovers += usize::from(failover);
        eprintln!("{what}: ok, {}", if failover { "failover" } else { "the primary had finished (not counted)" });
    }
    eprintln!("{test}: {failovers} kills of a running primary in {attempts} attempts, output identical every time");
}

#[test]
fn killed_primary_output_is_exact() {
    kill_primaries("killed_primary_output_is_exact", 12);
}

/// The full campaign (`.ci/run` runs it): 54 kills across the three guests.
#[test]
#[ignore]
fn killed_primary_output_is_exact_54_times() {
    kill_primaries("killed_primary_output_is_exact_54_times", 54);
}

#[test]
fn killed_backup_leaves_the_primary_running_alone() {
    let mut rng = Rng::from_env("killed_backup");
    let mut alone = 0;
    for (i, w) in WORKLOADS.iter().enumerate() {
        let s = scratch(&format!("backup-kill-{i}"));
        let (expected, took) = unreplicated(&s, w);
        // A killed backup's connection closes at once; the long timeout only
        // keeps a busy host from making the backup presume the primary dead.
        let mut c = PairConfig::new(w, 65536);
        c.timeout_ms = 2000;
        let (primary, backup) = start_pair(&s, w, &c);
        // Kill a backup that follows the primary, not one still starting
        // (a primary that cannot reach its backup at all stops at once).
        let hello = backup.stderr.recv_timeout(LIMIT).expect("the backup reports the primary");
        assert!(hello.starts_with("hbft backup: following the primary"), "{hello}");
        std::thread::sleep(took.mul_f64(rng.between(0.05, 0.5)));
        backup.signal("-KILL");
        let _ = backup.finish(LIMIT);
        let (status, stderr) = primary.finish(LIMIT);
        assert!(status.success(), "{}: primary {status}: {stderr}", w.name);
        assert_eq!(std::fs::read(s.path("replicated")).unwrap(), expected, "{}", w.name);
        // A kill after the backup acknowledged the guest's end goes unnoticed.
        alone += usize::from(stderr.contains("continuing alone"));
    }
    eprintln!("killed_backup: the primary went on alone {alone} times of {}", WORKLOADS.len());
}

/// A primary paused long enough for the backup to take over, then resumed
/// (a partition that heals): it is fenced off at its next write, never two
/// live writers, and the output is still exact.
#[test]
fn paused_primary_is_fenced_off_when_it_comes_back() {
    let w = &LONG_OUTPUT;
    let s = scratch("fence");
    let (expected, took) = unreplicated(&s, w);
    let mut c = PairConfig::new(w, 65536);
    c.timeout_ms = 100;
    let (primary, backup) = start_pair(&s, w, &c);
    std::thread::sleep(took / 4);
    primary.signal("-STOP");
    backup.wait_for_line("live from epoch", Duration::from_secs(20));
    primary.signal("-CONT");
    let (primary_status, primary_err) = primary.finish(LIMIT);
    let (backup_status, backup_err) = backup.finish(LIMIT);
    assert_eq!(primary_status.code(), Some(3), "old primary: {primary_err}");
    assert!(primary_err.contains("fenced off"), "{primary_err}");
    assert!(backup_status.success(), "{backup_err}");
    assert_eq!(std::fs::read(s.path("replicated")).unwrap(), expected);
}

/// A TCP relay to `target` that can be cut: from then on it drops all
/// traffic in both directions without closing anything (a partition).
fn partitionable_proxy(target: String, cut: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let (client, _) = listener.accept().unwrap();
        let server = TcpStream::connect(&target).unwrap();
        for (mut from, mut to) in [
            (client.try_clone().unwrap(), server.try_clone().unwrap()),
            (server.try_clone().unwrap(), client.try_clone().unwrap()),
        ] {
            let cut = cut.clone();
            std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                while let Ok(n @ 1..) = from.read(&mut buf) {
                    if !cut.load(Ordering::SeqCst) && to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            });
        }
        // Keep both connections open for the life of the test process.
        std::mem::forget((client, server));
    });
    addr
}

/// The link between a running primary and its backup is cut: both see
/// silence. The backup goes live and takes the fence; the primary goes on
/// alone until its next write finds the fence taken, and stops. Never two
/// live writers; the output is exact. Under both sync rules (under the
/// output rule the primary's held writes are released when it goes alone,
/// and refused).
#[test]
fn partition_leaves_one_live_writer_and_exact_output() {
    for sync in ["epoch", "output"] {
        let w = &LONG_OUTPUT;
        let s = scratch(&format!("partition-{sync}"));
        let (expected, took) = unreplicated(&s, w);
        let mut c = PairConfig::new(w, 65536);
        c.timeout_ms = 150;
        c.sync = sync;
        let cut = Arc::new(AtomicBool::new(false));
        let proxy_cut = cut.clone();
        let (primary, backup) = start_pair_via(&s, w, &c, move |addr| partitionable_proxy(addr, proxy_cut));
        std::thread::sleep(took / 4);
        cut.store(true, Ordering::SeqCst);
        let (primary_status, primary_err) = primary.finish(LIMIT);
        let (backup_status, backup_err) = backup.finish(LIMIT);
        assert!(backup_err.contains("live from epoch"), "sync {sync}: {backup_err}");
        assert!(backup_status.success(), "sync {sync}: {backup_err}");
        assert_eq!(primary_status.code(), Some(3), "sync {sync}: old primary: {primary_err}");
        assert!(primary_err.contains("continuing alone") && primary_err.contains("fenced off"), "sync {sync}: {primary_err}");
        assert_eq!(std::fs::read(s.path("replicated")).unwrap(), expected, "sync {sync}");
    }
}

/// Standard input is a pipe both replicas share (the shared input
/// device): the primary reads half of the text and waits for more; it is
/// killed there. The backup replays what the primary forwarded, including
/// the results of the unfinished epoch, goes live between two system
/// calls, and reads the rest from the pipe: no line lost, none twice.
#[test]
fn killed_primary_waiting_on_a_pipe_loses_no_input() {
    let w = &WORKLOADS[2];
    let s = scratch("pipe");
    let (expected, _) = unreplicated(&s, w);
    let text = std::fs::read(s.path("input")).unwrap();
    let half = text[..text.len() / 2].iter().rposition(|&b| b == b'\n').unwrap() + 1;
    let (reader, mut writer) = std::io::pipe().unwrap();
    // One epoch longer than the run: the primary dies in its middle, so
    // everything it read must come from the unfinished epoch's results.
    let with_pipe = |role: &[&str]| {
        let mut cmd = replica_cmd(&s, w, role, &guest(w), 1 << 40, 300);
        cmd.stdin(reader.try_clone().unwrap());
        cmd
    };
    let backup = Replica::spawn(with_pipe(&["backup", "--listen", "127.0.0.1:0"]));
    let first = backup.stderr.recv_timeout(Duration::from_secs(20)).expect("backup prints its address");
    let addr = first.strip_prefix("hbft backup: listening on ").unwrap().to_string();
    let primary = Replica::spawn(with_pipe(&["primary", "--backup", &addr]));
    drop(reader);
    writer.write_all(&text[..half]).unwrap();
    // The primary has consumed the first half when its output stops growing.
    let output = s.path("replicated");
    let size = || std::fs::metadata(&output).map_or(0, |m| m.len());
    let (mut last, mut still_since) = (0, Instant::now());
    let deadline = Instant::now() + Duration::from_secs(60);
    while last == 0 || still_since.elapsed() < Duration::from_millis(400) {
        assert!(Instant::now() < deadline, "the primary did not process the first half");
        std::thread::sleep(Duration::from_millis(20));
        if size() != last {
            (last, still_since) = (size(), Instant::now());
        }
    }
    primary.signal("-KILL");
    let _ = primary.finish(LIMIT);
    writer.write_all(&text[half..]).unwrap();
    drop(writer);
    let (status, stderr) = backup.finish(LIMIT);
    assert!(status.success(), "backup {status}: {stderr}");
    assert!(stderr.contains("live from epoch 0 at") && stderr.contains("results of the unfinished epoch"), "{stderr}");
    let got = std::fs::read(&output).unwrap();
    assert!(got == expected, "output differs ({} vs {} bytes): {stderr}", got.len(), expected.len());
}

fn refused(primary_guest: PathBuf, backup_epoch: u64) -> (String, String) {
    let w = &WORKLOADS[0];
    let s = scratch(&format!("refuse-{backup_epoch}"));
    let mut c = PairConfig::new(w, 65536);
    c.primary_guest = primary_guest;
    c.backup_epoch = backup_epoch;
    let (primary, backup) = start_pair(&s, w, &c);
    let (p_status, p_err) = primary.finish(LIMIT);
    let (b_status, b_err) = backup.finish(LIMIT);
    assert!(!p_status.success() && !b_status.success());
    let last = |text: &str| text.lines().last().unwrap_or_default().to_string();
    (last(&p_err), last(&b_err))
}

#[test]
fn handshake_refuses_another_binary() {
    let (primary, backup) = refused(prebuilt_dir().join("demo-O2"), 65536);
    assert!(primary.starts_with("hbft: backup refused: different guest program"), "{primary}");
    assert!(backup.starts_with("hbft: refused the primary: different guest program"), "{backup}");
}

#[test]
fn handshake_refuses_another_epoch_length() {
    let (primary, backup) = refused(guest(&WORKLOADS[0]), 4096);
    assert_eq!(primary, "hbft: backup refused: different epoch length (primary 65536, backup 4096)");
    assert_eq!(backup, "hbft: refused the primary: different epoch length (primary 65536, backup 4096)");
}

#[test]
fn wrong_or_short_key_is_a_clear_error() {
    let s = scratch("keys");
    std::fs::write(s.path("short"), b"tiny").unwrap();
    let prog = guest(&WORKLOADS[0]);
    let out = Command::new(hbft())
        .args(["backup", "--listen", "127.0.0.1:0", "--key-file"])
        .arg(s.path("short"))
        .arg("--")
        .arg(&prog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.trim().ends_with("holds 4 bytes; at least 16 are needed"), "{err}");

    // A primary with another key: the backup rejects its first frame.
    let w = &WORKLOADS[0];
    let backup = Replica::spawn(replica_cmd(&s, w, &["backup", "--listen", "127.0.0.1:0"], &prog, 65536, 300));
    let addr = backup.stderr.recv_timeout(Duration::from_secs(20)).unwrap().rsplit(' ').next().unwrap().to_string();
    std::fs::write(s.path("other-key"), b"a different key of 32 bytes....!").unwrap();
    let out = Command::new(hbft())
        .args(["primary", "--backup", &addr, "--key-file"])
        .arg(s.path("other-key"))
        .arg("--")
        .arg(&prog)
        .arg("10")
        .output()
        .unwrap();
    let (status, b_err) = backup.finish(LIMIT);
    assert!(!out.status.success() && !status.success());
    assert!(b_err.contains("failed authentication"), "{b_err}");
}

#[test]
fn demo_exits_zero_with_identical_outputs() {
    let out = Command::new(hbft()).arg("demo").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("identical     yes"), "{text}");
}
