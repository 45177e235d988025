//! `hbft disasm PROG` must print what `hppa-linux-gnu-objdump -d PROG` prints.
//!
//! For every prebuilt guest (`guests/prebuilt/`) and every guest built from
//! source at -O0 and -O2 (when the cross toolchain is installed; mandatory
//! under `CI=true`) both are run with the same path argument and compared.
//!
//! Instruction lines (`   10118:\t6b c2 3f d9 \tstw rp,-14(sp)`) are aligned
//! by (section, address); a binary passes if at least 99.9% of them are
//! identical, where the denominator is objdump's instruction lines plus any
//! extra instruction lines we print. Every other line — the file-format
//! header, `Disassembly of section` headers, symbol labels, blank lines and
//! the `\t...` lines for zero runs — is keyed by (section, address of the
//! preceding instruction line, ordinal after it) and must match exactly.
//!
//! The test prints a table (binary, lines, identical, %, ...) and up to 30
//! mismatching lines per binary (objdump vs ours).

mod common;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

/// Minimum fraction of identical instruction lines, in tenths of a percent.
const MIN_IDENTICAL_PER_MILLE: u64 = 999;
/// Mismatching lines shown per binary.
const MAX_SHOWN: usize = 30;
/// Generous limit for one disassembly (objdump of a static binary takes ~0.5 s).
const TIMEOUT: Duration = Duration::from_secs(300);

/// One line of a listing, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line<'a> {
    /// `   ADDR:\t...`: an instruction (or data word) line.
    Insn { addr: u64, text: &'a str },
    /// Anything else: headers, labels, blank lines, `\t...`.
    Other { text: &'a str },
}

/// If `line` is an instruction line (`^ +HEX:\t`), its address.
fn insn_addr(line: &str) -> Option<u64> {
    let rest = line.trim_start_matches(' ');
    if rest.len() == line.len() {
        return None;
    }
    let colon = rest.find(':')?;
    let hex = &rest[..colon];
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if !rest[colon + 1..].starts_with('\t') {
        return None;
    }
    u64::from_str_radix(hex, 16).ok()
}

fn classify(line: &str) -> Line<'_> {
    match insn_addr(line) {
        Some(addr) => Line::Insn { addr, text: line },
        None => Line::Other { text: line },
    }
}

/// Key of an instruction line: (section ordinal, address).
type InsnKey = (usize, u64);
/// Key of another line: (section ordinal, preceding instruction address in
/// that section, ordinal among the non-instruction lines since then).
type OtherKey = (usize, Option<u64>, usize);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    Insn(InsnKey),
    Other(OtherKey),
}

/// A listing split into keyed lines, in output order.
struct Keyed<'a> {
    lines: Vec<(Key, &'a str)>,
}

fn key_lines(text: &str) -> Keyed<'_> {
    let mut section = 0usize;
    let mut anchor: Option<u64> = None;
    let mut ordinal = 0usize;
    let mut lines = Vec::new();
    for line in text.lines() {
        match classify(line) {
            Line::Insn { addr, text } => {
                lines.push((Key::Insn((section, addr)), text));
                anchor = Some(addr);
                ordinal = 0;
            }
            Line::Other { text } => {
                if text.starts_with("Disassembly of section ") {
                    section += 1;
                    anchor = None;
                    ordinal = 0;
                }
                lines.push((Key::Other((section, anchor, ordinal)), text));
                ordinal += 1;
            }
        }
    }
    Keyed { lines }
}

/// Result of comparing our listing with objdump's for one binary.
#[derive(Debug, Default)]
struct Comparison {
    /// Instruction lines in objdump's output.
    insn_lines: usize,
    /// ... of which ours has identical at the same (section, address).
    identical: usize,
    /// ... of which ours has a different text.
    mismatched: usize,
    /// ... of which ours has no line at that address.
    missing: usize,
    /// Instruction lines only in ours.
    extra: usize,
    /// Our instruction lines that appear out of objdump's order.
    out_of_order: usize,
    /// Non-instruction lines in objdump's output.
    other_lines: usize,
    /// Non-instruction lines that differ, are missing or extra.
    other_diffs: usize,
    /// Up to MAX_SHOWN (objdump, ours) pairs; None = no such line.
    shown: Vec<(Option<String>, Option<String>)>,
    /// Number of differing lines not shown.
    not_shown: usize,
    /// Differing or missing instruction lines by objdump's mnemonic.
    by_mnemonic: HashMap<String, usize>,
}

impl Comparison {
    fn denominator(&self) -> usize {
        self.insn_lines + self.extra
    }
    fn percent(&self) -> f64 {
        if self.denominator() == 0 {
            100.0
        } else {
            100.0 * self.identical as f64 / self.denominator() as f64
        }
    }
    fn insns_ok(&self) -> bool {
        self.identical as u64 * 1000 >= MIN_IDENTICAL_PER_MILLE * self.denominator() as u64
            && self.out_of_order == 0
    }
    fn others_ok(&self) -> bool {
        self.other_diffs == 0
    }
    fn count_mnemonic(&mut self, objdump_line: &str) {
        // `   ADDR:\tBYTES \tMNEMONIC OPERANDS`
        let m = objdump_line
            .splitn(3, '\t')
            .nth(2)
            .and_then(|t| t.split_whitespace().next())
            .unwrap_or("?");
        *self.by_mnemonic.entry(m.to_string()).or_default() += 1;
    }
    fn show(&mut self, theirs: Option<&str>, ours: Option<&str>) {
        if self.shown.len() < MAX_SHOWN {
            self.shown
                .push((theirs.map(str::to_string), ours.map(str::to_string)));
        } else {
            self.not_shown += 1;
        }
    }
}

/// Compare our listing with objdump's.
fn compare(ours: &str, objdump: &str) -> Comparison {
    let ours = key_lines(ours);
    let theirs = key_lines(objdump);
    let mut c = Comparison::default();

    // Index our lines by key; a repeated key counts as extra.
    let mut our_insns: HashMap<InsnKey, (usize, &str)> = HashMap::new();
    let mut our_others: HashMap<OtherKey, &str> = HashMap::new();
    let mut dup_insns = Vec::new();
    let mut dup_others = Vec::new();
    for (i, (key, text)) in ours.lines.iter().enumerate() {
        match key {
            Key::Insn(k) => {
                if our_insns.insert(*k, (i, text)).is_some() {
                    dup_insns.push(*text);
                }
            }
            Key::Other(k) => {
                if our_others.insert(*k, text).is_some() {
                    dup_others.push(*text);
                }
            }
        }
    }

    // Walk objdump's lines in order.
    let mut seen_insns: HashMap<InsnKey, ()> = HashMap::new();
    let mut seen_others: HashMap<OtherKey, ()> = HashMap::new();
    let mut last_our_index: Option<usize> = None;
    for (key, text) in &theirs.lines {
        match key {
            Key::Insn(k) => {
                c.insn_lines += 1;
                seen_insns.insert(*k, ());
                match our_insns.get(k) {
                    Some(&(idx, ours_text)) => {
                        if last_our_index.is_some_and(|l| idx < l) {
                            c.out_of_order += 1;
                        }
                        last_our_index = Some(idx);
                        if ours_text == *text {
                            c.identical += 1;
                        } else {
                            c.mismatched += 1;
                            c.count_mnemonic(text);
                            c.show(Some(text), Some(ours_text));
                        }
                    }
                    None => {
                        c.missing += 1;
                        c.count_mnemonic(text);
                        c.show(Some(text), None);
                    }
                }
            }
            Key::Other(k) => {
                c.other_lines += 1;
                seen_others.insert(*k, ());
                match our_others.get(k) {
                    Some(ours_text) if ours_text == text => {}
                    Some(ours_text) => {
                        c.other_diffs += 1;
                        c.show(Some(text), Some(ours_text));
                    }
                    None => {
                        c.other_diffs += 1;
                        c.show(Some(text), None);
                    }
                }
            }
        }
    }
    // Lines only we print.
    for (key, text) in &ours.lines {
        match key {
            Key::Insn(k) if !seen_insns.contains_key(k) => {
                c.extra += 1;
                c.show(None, Some(text));
            }
            Key::Other(k) if !seen_others.contains_key(k) => {
                c.other_diffs += 1;
                c.show(None, Some(text));
            }
            _ => {}
        }
    }
    for text in dup_insns {
        c.extra += 1;
        c.show(None, Some(text));
    }
    for text in dup_others {
        c.other_diffs += 1;
        c.show(None, Some(text));
    }
    c
}

/// Outcome for one binary.
struct Outcome {
    name: String,
    cmp: Comparison,
    /// Why we could not compare, or how hbft failed (non-zero exit, timeout).
    error: Option<String>,
}

impl Outcome {
    fn ok(&self) -> bool {
        self.error.is_none() && self.cmp.insns_ok() && self.cmp.others_ok()
    }
}

fn disassemble_and_compare(objdump: &Path, prog: &Path, name: String) -> Outcome {
    let theirs = common::run_with(
        common::command(objdump, [std::ffi::OsStr::new("-d"), prog.as_os_str()]).env("LC_ALL", "C"),
        None,
        Some(TIMEOUT),
    );
    if !theirs.success() {
        return Outcome {
            name,
            cmp: Comparison::default(),
            error: Some(format!(
                "objdump failed ({}{}): {}",
                theirs.status,
                if theirs.timed_out { ", timed out" } else { "" },
                theirs.stderr_str().trim()
            )),
        };
    }
    let ours = common::run_with(
        &mut common::command(
            common::hbft(),
            [std::ffi::OsStr::new("disasm"), prog.as_os_str()],
        ),
        None,
        Some(TIMEOUT),
    );
    let cmp = compare(&ours.stdout_str(), &theirs.stdout_str());
    let error = if ours.timed_out {
        Some(format!("hbft disasm timed out after {TIMEOUT:?}"))
    } else if !ours.status.success() {
        let err = ours.stderr_str();
        let first: Vec<&str> = err.lines().take(5).collect();
        Some(format!(
            "hbft disasm failed ({}): {}",
            ours.status,
            first.join(" | ")
        ))
    } else {
        None
    };
    Outcome { name, cmp, error }
}

/// Compare every binary, in parallel; return the report and whether all passed.
fn check_binaries(objdump: &Path, bins: &[(String, PathBuf)]) -> (String, bool) {
    let queue = Mutex::new(bins.iter().enumerate().collect::<Vec<_>>().into_iter());
    let results: Mutex<Vec<(usize, Outcome)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(bins.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let next = queue.lock().unwrap().next();
                let Some((i, (name, path))) = next else { break };
                let outcome = disassemble_and_compare(objdump, path, name.clone());
                results.lock().unwrap().push((i, outcome));
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by_key(|(i, _)| *i);

    let mut report = String::new();
    let w = results
        .iter()
        .map(|(_, o)| o.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        report,
        "{:<w$} {:>8} {:>9} {:>8} {:>7} {:>7} {:>6} {:>6} {:>11}  result",
        "binary", "lines", "identical", "%", "differ", "missing", "extra", "order", "other-diffs"
    );
    let mut all_ok = true;
    for (_, o) in &results {
        let c = &o.cmp;
        let ok = o.ok();
        all_ok &= ok;
        let _ = writeln!(
            report,
            "{:<w$} {:>8} {:>9} {:>8.3} {:>7} {:>7} {:>6} {:>6} {:>6}/{:<4}  {}",
            o.name,
            c.insn_lines,
            c.identical,
            c.percent(),
            c.mismatched,
            c.missing,
            c.extra,
            c.out_of_order,
            c.other_diffs,
            c.other_lines,
            if ok { "ok" } else { "FAIL" }
        );
    }
    for (_, o) in &results {
        if o.ok() {
            continue;
        }
        let _ = writeln!(report, "\n=== {}", o.name);
        if let Some(e) = &o.error {
            let _ = writeln!(report, "error: {e}");
        }
        if !o.cmp.by_mnemonic.is_empty() {
            let mut v: Vec<(&String, &usize)> = o.cmp.by_mnemonic.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let top: Vec<String> = v.iter().take(15).map(|(m, n)| format!("{m}:{n}")).collect();
            let _ = writeln!(
                report,
                "differing/missing lines by objdump mnemonic: {}",
                top.join(" ")
            );
        }
        for (theirs, ours) in &o.cmp.shown {
            let _ = writeln!(
                report,
                "  objdump: {}",
                theirs.as_deref().unwrap_or("(no line)")
            );
            let _ = writeln!(
                report,
                "  ours:    {}",
                ours.as_deref().unwrap_or("(no line)")
            );
        }
        if o.cmp.not_shown > 0 {
            let _ = writeln!(report, "  ... and {} more differing lines", o.cmp.not_shown);
        }
    }
    (report, all_ok)
}

fn finish(what: &str, report: String, ok: bool) {
    println!("hbft disasm vs objdump -d, {what}:\n{report}");
    assert!(
        ok,
        "hbft disasm differs from objdump -d for some {what} (each binary needs >= {}.{}% \
         identical instruction lines, in order, and identical other lines); see the table above",
        MIN_IDENTICAL_PER_MILLE / 10,
        MIN_IDENTICAL_PER_MILLE % 10
    );
}

#[test]
fn prebuilt_guests_match_objdump() {
    let Some(objdump) = common::require_tool(&common::cross_tool("objdump")) else {
        return;
    };
    let bins: Vec<(String, PathBuf)> = common::prebuilt_guests()
        .into_iter()
        .map(|g| (format!("prebuilt/{}", g.name), g.path))
        .collect();
    assert!(!bins.is_empty(), "no prebuilt guests listed");
    let (report, ok) = check_binaries(&objdump, &bins);
    finish("prebuilt guests", report, ok);
}

#[test]
fn source_guests_match_objdump() {
    let Some(objdump) = common::require_tool(&common::cross_tool("objdump")) else {
        return;
    };
    let Some(built) = common::built_guests() else {
        return;
    };
    let bins: Vec<(String, PathBuf)> = built
        .into_iter()
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), p))
        .collect();
    let (report, ok) = check_binaries(&objdump, &bins);
    finish("guests built from source", report, ok);
}

/// The comparison itself, on a hand-made listing (needs no tools).
#[test]
fn comparison_logic() {
    let objdump = "\nx:     file format elf32-hppa-linux\n\n\nDisassembly of section .text:\n\n\
                   00010054 <_start>:\n   10054:\t34 1a 00 02 \tldi 1,r26\n\
                   \t...\n   10060:\t34 18 00 3a \tldi 1d,r24\n\n\
                   00010064 <f>:\n   10064:\te8 40 c0 00 \tbv r0(rp)\n   10068:\t08 00 02 40 \tnop\n";
    assert_eq!(
        insn_addr("   10054:\t34 1a 00 02 \tldi 1,r26"),
        Some(0x10054)
    );
    assert_eq!(insn_addr("00010054 <_start>:"), None);
    assert_eq!(insn_addr("\t..."), None);

    let same = compare(objdump, objdump);
    assert_eq!(
        (
            same.insn_lines,
            same.identical,
            same.extra,
            same.other_diffs
        ),
        (4, 4, 0, 0)
    );
    assert!(same.insns_ok() && same.others_ok());

    // One wrong operand, one missing `...`, one extra instruction.
    let ours = objdump
        .replace("ldi 1d,r24", "ldi 29,r24")
        .replace("\t...\n", "")
        .replace("\tnop\n", "\tnop\n   1006c:\t00 00 00 00 \tbreak 0,0\n");
    let c = compare(&ours, objdump);
    assert_eq!(
        (c.insn_lines, c.identical, c.mismatched, c.missing, c.extra),
        (4, 3, 1, 0, 1)
    );
    assert_eq!(c.other_diffs, 1);
    assert!(!c.insns_ok() && !c.others_ok());
    assert_eq!(c.shown.len(), 3);

    // Lines printed in the wrong order are caught.
    let swapped = objdump.replace(
        "   10064:\te8 40 c0 00 \tbv r0(rp)\n   10068:\t08 00 02 40 \tnop\n",
        "   10068:\t08 00 02 40 \tnop\n   10064:\te8 40 c0 00 \tbv r0(rp)\n",
    );
    let c = compare(&swapped, objdump);
    assert_eq!(c.identical, 4);
    assert!(c.out_of_order > 0 && !c.insns_ok());
}
