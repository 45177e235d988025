//! Translation on the JIT's compile thread (`JitConfig::background`): a
//! translation requested before its page changed or the code cache was
//! flushed is never installed, a JIT whose worker is busy drops cleanly,
//! and guests that write and run code agree with the interpreter at every
//! stop however the worker's timing falls.

mod common;
#[path = "common/lockstep.rs"]
mod lockstep;

use hbft_runtime::memory::{AddressSpace, Layout, PERM_RWX};
use hbft_runtime::user_mode::EngineKind;
use hbft_translator::engine::Engine;
use hbft_translator::interp::Exit;
use hbft_translator::jit::{Jit, JitConfig};
use hbft_translator::memory::GuestMemory;
use hbft_translator::state::CpuState;

const CODE: u32 = 0x0001_0000;
/// `ldi 1,%r3` and `ldi 2,%r3`.
const LDI_1_R3: u32 = 0x3403_0002;
const LDI_2_R3: u32 = 0x3403_0004;
/// `stw %r5,0(%r4)`.
const STW_R5_R4: u32 = 0x0c85_1280;
const BREAK: u32 = 0;
/// Where the storing block starts (on the same page as [`CODE`]).
const STORER: u32 = CODE + 0x100;

/// Every block requested from the worker on first use.
fn background_jit() -> Jit {
    Jit::new(JitConfig { hot: 1, background: true, ..JitConfig::default() }).expect("JIT")
}

/// `ldi 1,%r3; break` at [`CODE`], `stw %r5,0(%r4); break` at [`STORER`].
fn memory() -> AddressSpace {
    let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).expect("address space");
    mem.map_fixed(CODE, 0x1000, PERM_RWX).unwrap();
    for (at, word) in [(CODE, LDI_1_R3), (CODE + 4, BREAK), (STORER, STW_R5_R4), (STORER + 4, BREAK)] {
        mem.write_u32(at, word).unwrap();
    }
    mem
}

/// Runs from `pc` to the `break`; the value left in %r3.
fn run_from(jit: &mut Jit, mem: &mut AddressSpace, pc: u32, setup: impl FnOnce(&mut CpuState)) -> u32 {
    let mut cpu = CpuState::at(pc);
    setup(&mut cpu);
    assert_eq!(jit.run(&mut cpu, mem, 100), Exit::Break { im5: 0, im13: 0 });
    cpu.gr[3]
}

#[test]
fn a_translation_of_a_page_invalidated_while_under_way_is_not_installed() {
    let mut jit = background_jit();
    let mut mem = memory();
    jit.hold_translations(true);
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 1);
    // The runtime rewrites the code while its translation waits.
    mem.write_u32(CODE, LDI_2_R3).unwrap();
    jit.invalidate(CODE, 4);
    jit.hold_translations(false);
    jit.finish_translations(&mut mem);
    let stats = jit.stats();
    assert_eq!((stats.translated, stats.discarded), (0, 1), "{stats:?}");
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 2);
    // Requested again, from the new code, and installed this time.
    jit.finish_translations(&mut mem);
    assert_eq!(jit.stats().translated, 1);
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 2);
}

#[test]
fn a_guest_store_into_code_under_translation_makes_it_stale() {
    let mut jit = background_jit();
    let mut mem = memory();
    jit.hold_translations(true);
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 1);
    // The guest itself rewrites `ldi 1` (the storing block is requested
    // too, before it stores into its own page).
    guest_store(&mut jit, &mut mem, CODE, LDI_2_R3);
    jit.hold_translations(false);
    jit.finish_translations(&mut mem);
    let stats = jit.stats();
    assert_eq!((stats.translated, stats.discarded), (0, 2), "{stats:?}");
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 2);
    jit.finish_translations(&mut mem);
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 2);
}

#[test]
fn a_translation_requested_before_a_flush_is_not_installed() {
    let mut jit = background_jit();
    let mut mem = memory();
    jit.hold_translations(true);
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 1);
    Engine::<AddressSpace>::invalidate_all(&mut jit);
    jit.hold_translations(false);
    jit.finish_translations(&mut mem);
    assert_eq!(jit.stats().discarded, 1, "{:?}", jit.stats());
    assert_eq!(jit.stats().translated, 0);
}

#[test]
fn a_jit_with_queued_translations_drops_at_once() {
    let mut jit = background_jit();
    let mut mem = memory();
    jit.hold_translations(true);
    run_from(&mut jit, &mut mem, CODE, |_| {});
    run_from(&mut jit, &mut mem, STORER, |cpu| cpu.gr[4] = STORER + 0x200);
    // The worker, held with two requests queued, exits and is joined.
    drop(jit);
}

#[test]
fn the_synchronous_mode_translates_on_first_use() {
    let mut jit = Jit::new(JitConfig { hot: 1, background: false, ..JitConfig::default() }).expect("JIT");
    let mut mem = memory();
    assert_eq!(run_from(&mut jit, &mut mem, CODE, |_| {}), 1);
    assert_eq!(jit.stats().translated, 1);
}

/// The prebuilt guests that write code and run it (`smc`: generated code
/// rewritten and flushed with `fic`; `read_code`: reads its own code) in
/// lockstep with the interpreter, with blocks requested from the worker
/// after a few uses.
#[test]
fn code_writing_guests_agree_with_the_interpreter_under_background_translation() {
    for name in ["smc-O2", "read_code-O2"] {
        let path = common::prebuilt_dir().join(name);
        for (hot, seed) in [(1, 11), (2, 12), (8, 13)] {
            let jit = EngineKind::Jit(JitConfig { hot, background: true, ..JitConfig::default() });
            let run = lockstep::lockstep(&path, &[], jit, seed, 100_000);
            eprintln!("{name}: hot {hot}: {} stops, {} retired, {:?}", run.stops, run.retired, run.termination);
        }
    }
}

/// The guest stores `word` at `at` (the block at [`STORER`]).
fn guest_store(jit: &mut Jit, mem: &mut AddressSpace, at: u32, word: u32) {
    run_from(jit, mem, STORER, |cpu| {
        cpu.gr[4] = at;
        cpu.gr[5] = word;
    });
}

/// `bv %r0(%r2)` ending the first page, its delay slot `ldi 1,%r3` the
/// first word of the second; [`memory`]'s code besides.
const BV_R2: u32 = 0xe840_c000;
const LAST_WORD: u32 = CODE + 0xffc;
const NEXT_PAGE: u32 = CODE + 0x1000;

fn two_pages() -> AddressSpace {
    let mut mem = memory();
    mem.map_fixed(NEXT_PAGE, 0x1000, PERM_RWX).unwrap();
    mem.write_u32(LAST_WORD, BV_R2).unwrap();
    mem.write_u32(NEXT_PAGE, LDI_1_R3).unwrap();
    mem
}

/// Runs the page-crossing block, returning to the `break` at CODE + 4.
fn run_crossing(jit: &mut Jit, mem: &mut AddressSpace) -> u32 {
    run_from(jit, mem, LAST_WORD, |cpu| cpu.gr[2] = CODE + 4)
}

#[test]
fn a_block_whose_delay_slot_is_on_the_next_page_is_dropped_when_that_page_changes() {
    let mut jit = background_jit();
    let mut mem = two_pages();
    assert_eq!(run_crossing(&mut jit, &mut mem), 1);
    jit.finish_translations(&mut mem);
    // The crossing block and the `break`'s.
    assert_eq!(jit.stats().translated, 2, "{:?}", jit.stats());
    assert_eq!(run_crossing(&mut jit, &mut mem), 1);
    // A guest store into the delay slot, on the second page.
    guest_store(&mut jit, &mut mem, NEXT_PAGE, LDI_2_R3);
    assert_eq!(run_crossing(&mut jit, &mut mem), 2);
}

#[test]
fn a_translation_whose_delay_slot_on_the_next_page_changed_while_under_way_is_not_installed() {
    let mut jit = background_jit();
    let mut mem = two_pages();
    jit.hold_translations(true);
    assert_eq!(run_crossing(&mut jit, &mut mem), 1);
    // The store drops the second page's decodings, but the translation
    // under way is the first page's: only the check before installing
    // sees that its delay slot changed.
    guest_store(&mut jit, &mut mem, NEXT_PAGE, LDI_2_R3);
    jit.hold_translations(false);
    jit.finish_translations(&mut mem);
    assert_eq!(jit.stats().discarded, 1, "{:?}", jit.stats());
    assert_eq!(run_crossing(&mut jit, &mut mem), 2);
    jit.finish_translations(&mut mem);
    assert_eq!(run_crossing(&mut jit, &mut mem), 2);
}
