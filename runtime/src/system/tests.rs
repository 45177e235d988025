//! The privilege-sensitive semantics under both engines: the interpreter
//! and the JIT must show the same virtual privilege level in links, promote
//! through `b,gate` and demote through indirect branches identically; and
//! privileged instructions stop both engines for the hypervisor.

use hbft_translator::engine::Engine;
use hbft_translator::interp::{Exit, Interpreter};
use hbft_translator::jit::{Jit, JitConfig};
use hbft_translator::state::{psw, CpuState};

use super::control::{reg, Control};
use super::privileged::{emulate, Done};
use crate::memory::{AddressSpace, Layout, PERM_RWX};

const NOP: u32 = 0x0800_0240;
const BREAK: u32 = 0x0000_0000;
/// `b,l .+8,%rT`.
fn bl(t: u32) -> u32 {
    0xe800_0000 | t << 21
}
/// `b,gate .+8,%rT`.
fn gate(t: u32) -> u32 {
    0xe800_2000 | t << 21
}
/// `bv %r0(%rB)`.
fn bv(b: u32) -> u32 {
    0xe800_c000 | b << 21
}
const MFCTL_IVA_R9: u32 = 0x01c0_08a9;
const SSM_9_R10: u32 = 0x0009_0d6a;
const RFI: u32 = 0x0000_0c00;

const BASE: u32 = 0x2000;

/// A JIT that translates every block on first use.
fn jit() -> Jit {
    Jit::new(JitConfig { hot: 1, background: false, ..JitConfig::default() }).unwrap()
}

/// b,l; gate; b,l; bv to BASE+0x28 with PL 3 in the low bits; b,l; break.
fn program() -> Vec<u32> {
    vec![bl(3), NOP, gate(4), NOP, bl(5), NOP, bv(6), NOP, NOP, NOP, bl(7), NOP, BREAK]
}

fn memory(words: &[u32]) -> AddressSpace {
    let mut mem = AddressSpace::new(Layout::linux_parisc32(0)).unwrap();
    mem.map_fixed(0x1000, 0x4000, PERM_RWX).unwrap();
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    mem.load_bytes(BASE, &bytes).unwrap();
    mem
}

/// Runs the program to its `break`, continuing after the exits reported
/// after a branch (gate, new context), which it returns in order.
fn run(engine: &mut dyn Engine<AddressSpace>, pl: u32, psw: u32) -> (CpuState, Exit, Vec<Exit>) {
    let mut mem = memory(&program());
    let mut cpu = CpuState { priv_level: pl, psw, ..CpuState::at(BASE) };
    cpu.gr[6] = (BASE + 0x28) | 3;
    let mut reported = Vec::new();
    loop {
        match engine.run(&mut cpu, &mut mem, 1000) {
            exit @ (Exit::Gate { .. } | Exit::NewContext) => reported.push(exit),
            exit => return (cpu, exit, reported),
        }
    }
}

fn both(pl: u32, psw: u32) -> (CpuState, Vec<Exit>) {
    let (a, ea, ra) = run(&mut Interpreter::new(), pl, psw);
    let (b, eb, rb) = run(&mut jit(), pl, psw);
    assert_eq!(a, b, "interpreter and JIT disagree");
    assert_eq!((ea, &ra), (eb, &rb));
    assert_eq!(ea, Exit::Break { im5: 0, im13: 0 });
    (a, ra)
}

#[test]
fn gate_promotes_without_code_translation_and_bv_demotes() {
    let (cpu, reported) = both(3, 0);
    assert_eq!(reported, [Exit::NewContext], "the bv that lowered the level");
    assert_eq!(cpu.gr[3], (BASE + 8) | 3, "link at PL 3");
    assert_eq!(cpu.gr[4], (BASE + 0x10) | 3, "gate links the old level");
    assert_eq!(cpu.gr[5], BASE + 0x18, "after the gate: PL 0");
    assert_eq!(cpu.gr[7], (BASE + 0x30) | 3, "bv to a PL-3 target lowered the level");
    assert_eq!(cpu.priv_level, 3);
}

#[test]
fn a_kernel_sees_pl_0_in_links() {
    let (cpu, _) = both(0, 0);
    assert_eq!((cpu.gr[3], cpu.gr[4], cpu.gr[5]), (BASE + 8, BASE + 0x10, BASE + 0x18));
}

#[test]
fn with_code_translation_on_gate_is_reported_for_the_runtime_and_keeps_the_level() {
    let (cpu, reported) = both(3, psw::LINUX_USER);
    assert_eq!(reported, [Exit::Gate { pc: BASE + 8 }], "the runtime decides from the page's access rights");
    assert_eq!(cpu.gr[5], (BASE + 0x18) | 3);
}

#[test]
fn privileged_instructions_stop_both_engines_and_trap_at_pl_3() {
    for (pl, expect_trap) in [(0, false), (3, true)] {
        for word in [MFCTL_IVA_R9, SSM_9_R10, RFI] {
            let mut mem = memory(&[word, NOP, BREAK]);
            let engines: [Box<dyn Engine<AddressSpace>>; 2] = [Box::new(Interpreter::new()), Box::new(jit())];
            for mut engine in engines {
                let mut cpu = CpuState { priv_level: pl, psw: psw::Q, ..CpuState::at(BASE) };
                assert_eq!(engine.run(&mut cpu, &mut mem, 10), Exit::Privileged { word });
                assert_eq!(cpu.iaoq_front, BASE, "stopped before the instruction");
                let mut ctl = Control::default();
                cpu.cr[reg::IVA] = 0x8000;
                let done = emulate(&mut cpu, &mut ctl, word);
                assert_eq!(matches!(done, Done::Interrupted(_)), expect_trap, "{word:#x} at PL {pl}");
                if expect_trap {
                    assert_eq!(cpu.iaoq_front, 0x8000 + 32 * if word == MFCTL_IVA_R9 { 11 } else { 10 });
                    assert_eq!(cpu.cr[reg::IIR], word);
                    assert_eq!(cpu.cr[reg::IIAOQ], BASE | 3);
                }
            }
        }
    }
}

#[test]
fn lci_answers_coherence_index_0_at_pl0_and_traps_at_pl3() {
    // lci %r0(%sr1,%r26),%r28
    const LCI: u32 = 0x0740_531c;
    let mut ctl = Control::default();
    let mut cpu = CpuState { priv_level: 0, psw: psw::Q, ..CpuState::at(BASE) };
    cpu.gr[28] = 99;
    assert_eq!(emulate(&mut cpu, &mut ctl, LCI), Done::Retired);
    assert_eq!(cpu.gr[28], 0);
    let mut user = CpuState { priv_level: 3, psw: psw::Q, ..CpuState::at(BASE) };
    assert!(matches!(emulate(&mut user, &mut ctl, LCI), Done::Interrupted(_)));
}

#[test]
fn ssm_returns_the_old_mask_and_mfctl_reads_the_register() {
    let mut cpu = CpuState { priv_level: 0, psw: psw::Q, ..CpuState::at(BASE) };
    let mut ctl = Control::default();
    assert_eq!(emulate(&mut cpu, &mut ctl, SSM_9_R10), Done::Retired);
    assert_eq!((cpu.gr[10], cpu.psw), (psw::Q, psw::Q | psw::I));
    cpu.cr[reg::IVA] = 0x4800;
    assert_eq!(emulate(&mut cpu, &mut ctl, MFCTL_IVA_R9), Done::Retired);
    assert_eq!((cpu.gr[9], cpu.iaoq_front, cpu.retired), (0x4800, BASE + 8, 2));
}

/// An in-memory disk image.
struct MemoryDisk(Vec<u8>);

impl super::board::DiskImage for MemoryDisk {
    fn sectors(&self) -> std::io::Result<u32> {
        Ok((self.0.len() / 512) as u32)
    }
    fn read_at(&mut self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
        buf.copy_from_slice(&self.0[offset as usize..offset as usize + buf.len()]);
        Ok(())
    }
    fn write_at(&mut self, data: &[u8], offset: u64) -> std::io::Result<()> {
        self.0[offset as usize..offset as usize + data.len()].copy_from_slice(data);
        Ok(())
    }
}

/// The prebuilt guest kernel booted on a board with an 8-sector disk.
fn boot_kernel(engine: crate::user_mode::EngineKind, epoch: u64) -> super::SystemMode {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../guests/prebuilt/system/kernel");
    let kernel = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let disk = super::board::Disk::new(Some(Box::new(MemoryDisk(vec![0; 8 * 512]))));
    let board = super::board::Board::new(Box::new(std::io::sink()), Vec::new(), Some(disk));
    super::SystemMode::boot(&kernel, board, engine, epoch, super::EpochSource::Bt).unwrap()
}

/// The interpreter and the JIT (translating every block at once, so that
/// translated code runs the user processes' translated loads and stores
/// through the data TLB, in two spaces with different protection IDs)
/// run the guest kernel in lockstep with random budgets: at every stop
/// the CPU state, the privileged state (TLBs with their bits, timer,
/// interruption queues) and all of RAM must be identical.
#[test]
fn the_kernel_runs_identically_under_both_engines_at_every_stop() {
    kernel_lockstep(JitConfig { hot: 1, background: false, ..JitConfig::default() });
}

/// The same with every block requested from the compile thread at once
/// and interpreted until its code is installed, in every code context's
/// engine.
#[test]
fn the_kernel_runs_identically_with_background_translation() {
    kernel_lockstep(JitConfig { hot: 1, background: true, ..JitConfig::default() });
}

fn kernel_lockstep(jit: JitConfig) {
    use crate::user_mode::EngineKind;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut random = move |below: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % below
    };
    let epoch = super::DEFAULT_SYSTEM_EPOCH;
    let mut a = boot_kernel(EngineKind::Interp, epoch);
    let mut b = boot_kernel(EngineKind::Jit(jit), epoch);
    let (mut stops, mut limit) = (0, 0);
    loop {
        // Mostly short runs, sometimes long ones.
        limit += if random(8) == 0 { random(20_000) } else { random(300) } + 1;
        let (end_a, end_b) = (a.advance(limit).unwrap(), b.advance(limit).unwrap());
        stops += 1;
        assert_eq!(a.cpu, b.cpu, "CPU state at stop {stops} (limit {limit})");
        assert_eq!(a.ctl, b.ctl, "privileged state at stop {stops}");
        assert_eq!(end_a, end_b);
        let pages = super::board::RAM_BYTES / 4096;
        if let Some(page) = (0..pages).find(|&p| a.ram.page_bytes(p) != b.ram.page_bytes(p)) {
            panic!("RAM page {page:#x} differs at stop {stops} (retired {})", a.cpu.retired);
        }
        if end_a.is_some() {
            break;
        }
    }
    assert!(stops > 300, "{stops} stops");
    assert_eq!(a.report.epoch_hashes, b.report.epoch_hashes);
}

/// A parked engine does not resume code that was overwritten while another
/// context ran: neither within the epoch (RAM's dirty bitmap still names
/// the page) nor after an epoch end cleared the bitmap.
#[test]
fn a_parked_engine_drops_code_written_in_another_context() {
    use super::engines::{CodeContext, Engines};
    use super::tlb::Tlb;
    use hbft_translator::memory::GuestMemory;
    let user = CodeContext::Translated { spaces: (0x100, 0x100), priv_level: 3, pids: [0; 4], itlb_changes: 0 };
    let itlb = Tlb::default();
    for clear_at_epoch_end in [false, true] {
        let mut engines = Engines::new(crate::user_mode::EngineKind::Jit(JitConfig { hot: 1, background: false, ..JitConfig::default() }))
                .unwrap();
        let mut ram = memory(&[bl(3), NOP, BREAK]);
        let run = |engines: &mut Engines, ram: &mut AddressSpace| {
            let mut cpu = CpuState { priv_level: 0, ..CpuState::at(BASE) };
            assert_eq!(engines.current.run(&mut cpu, ram, 100), Exit::Break { im5: 0, im13: 0 });
            (cpu.gr[3], cpu.gr[4])
        };
        assert_eq!(run(&mut engines, &mut ram), (BASE + 8, 0));
        ram.clear_dirty();
        engines.enter(user, &itlb, &ram).unwrap();
        // A store made in the user context rewrites the kernel's code.
        ram.write_u32(BASE, bl(4)).unwrap();
        if clear_at_epoch_end {
            engines.epoch_end(&ram);
            ram.clear_dirty();
        }
        engines.enter(CodeContext::Physical, &itlb, &ram).unwrap();
        assert_eq!(run(&mut engines, &mut ram), (0, BASE + 8), "epoch end between: {clear_at_epoch_end}");
    }
}
