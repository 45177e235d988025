//! Differential test: our disassembler against `hppa-linux-gnu-objdump` on a
//! deterministic pseudo-random set of words (uniform over the 64 major
//! opcodes, plus words biased toward the common low-field encodings).

use std::collections::HashMap;
use std::process::Command;

use hbft_frontend::{disassemble_word, AddressPrinter};

const OBJDUMP: &str = "hppa-linux-gnu-objdump";
const VMA: u32 = 0x10000;
/// Agreement required, in percent.
const REQUIRED: f64 = 100.0;

/// objdump on a raw binary without symbols prints targets as `0x1234`.
struct RawAddresses;

impl AddressPrinter for RawAddresses {
    fn print_address(&self, addr: u32, out: &mut String) {
        out.push_str(&format!("0x{addr:x}"));
    }
}

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as u32
    }
}

fn words() -> Vec<u32> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut words = Vec::new();
    for i in 0..50_000u32 {
        let op = i % 64;
        let r = rng.next();
        let w = match i % 4 {
            // Fully random below the opcode.
            0 | 1 => r,
            // Sparse: mostly-zero low fields, the shape real code has.
            2 => r & rng.next() & rng.next(),
            // Dense low bits, zero register fields.
            _ => r & 0x0000_ffff,
        };
        words.push(op << 26 | (w & 0x03ff_ffff));
    }
    words
}

fn objdump_lines(words: &[u32]) -> Option<HashMap<u32, String>> {
    let dir = std::env::temp_dir().join(format!("hbft-objdump-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("words.bin");
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    std::fs::write(&file, bytes).ok()?;
    let output = Command::new(OBJDUMP)
        .args(["-D", "-b", "binary", "-m", "hppa", "-EB", "--adjust-vma=0x10000"])
        .arg(&file)
        .output()
        .ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = HashMap::new();
    for line in text.lines() {
        // "   10000:\t08 00 02 40 \tnop"
        let mut parts = line.splitn(3, '\t');
        let (Some(addr), Some(_bytes), Some(insn)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let Some(addr) = addr.trim().strip_suffix(':') else { continue };
        let Ok(addr) = u32::from_str_radix(addr, 16) else { continue };
        lines.insert(addr, insn.to_string());
    }
    Some(lines)
}

#[test]
fn random_words_match_objdump() {
    let words = words();
    let Some(reference) = objdump_lines(&words) else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{OBJDUMP} is required in CI (install binutils-hppa-linux-gnu)");
        }
        eprintln!("skipping: {OBJDUMP} not available");
        return;
    };
    let mut agree = 0usize;
    let mut mismatches = Vec::new();
    for (i, &w) in words.iter().enumerate() {
        let pc = VMA + 4 * i as u32;
        let mut ours = String::new();
        disassemble_word(w, pc, &RawAddresses, &mut ours);
        let theirs = reference.get(&pc).map(String::as_str).unwrap_or("<missing>");
        if ours == theirs {
            agree += 1;
        } else {
            mismatches.push((w, ours, theirs.to_string()));
        }
    }
    let pct = 100.0 * agree as f64 / words.len() as f64;
    println!("objdump agreement: {agree}/{} = {pct:.3}%", words.len());
    for (w, ours, theirs) in mismatches.iter().take(40) {
        println!("{w:08x}  ours: {ours:?}  objdump: {theirs:?}");
    }
    assert!(pct >= REQUIRED, "agreement {pct:.3}% below {REQUIRED}%");
}
