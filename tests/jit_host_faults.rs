//! Translated loads and stores that rely on the host's page protection
//! (`FlatMemory::unreadable_pages_fault` and `unwritable_pages_fault`, as
//! user mode sets it up) stop exactly where the interpreter does — same
//! exit, CPU state, retired count and memory — in straight-line blocks and
//! in loops without stores (restarted from the block's entry), and after a
//! store that may change what an earlier load read and in storing loops
//! (which keep the permission test), for unmapped pages, mapped pages the
//! guest may not read or write, and pages holding code.

use hbft_runtime::memory::{AddressSpace, Layout, PERM_READ, PERM_RWX, PERM_WRITE};
use hbft_translator::interp::{Exit, Interpreter};
use hbft_translator::jit::{Jit, JitConfig};
use hbft_translator::memory::{Access, GuestMemory, MemFault};
use hbft_translator::state::CpuState;

const CODE: u32 = 0x0001_0000;
/// One readable page; the page after it is unmapped unless a test maps it.
const DATA: u32 = 0x0002_0000;
const NEXT: u32 = DATA + 0x1000;

/// `ldw 0(%r4),%r3; ldw 0(%r5),%r6; break`.
const TWO_LOADS: [u32; 3] = [0x0c80_1083, 0x0ca0_1086, 0];
/// `loop: ldw 0(%r4),%r3; addib,<> -1,%r7,loop; ldo 4(%r4),%r4; break`.
const LOADING_LOOP: [u32; 4] = [0x0c80_1083, 0xacff_3fed, 0x3484_0008, 0];
/// `loop: ldw 0(%r4),%r6; ldw 0(%r5),%r3; ldo 1(%r3),%r3; stw %r3,0(%r5);
/// addib,<> -1,%r7,loop; ldo 4(%r4),%r4; break`: counts its passes in
/// memory, which a restart from the block's entry would count again.
const COUNTING_LOOP: [u32; 7] = [0x0c80_1086, 0x0ca0_1083, 0x3463_0002, 0x0ca3_1280, 0xacff_3fd5, 0x3484_0008, 0];
/// `stw %r3,0(%r5); ldw 0(%r4),%r6; break`.
const STORE_THEN_LOAD: [u32; 3] = [0x0ca3_1280, 0x0c80_1086, 0];
/// `stw %r3,0(%r5); stw %r3,0(%r4); break`.
const TWO_STORES: [u32; 3] = [0x0ca3_1280, 0x0c83_1280, 0];
/// `ldw 0(%r5),%r3; ldo 1(%r3),%r3; stw %r3,0(%r5)`: counts in memory,
/// which a restart from the block's entry would count again.
const COUNT: [u32; 3] = [0x0ca0_1083, 0x3463_0002, 0x0ca3_1280];
/// `ldw 0(%r5),%r3; ldo 1(%r3),%r3; stw %r3,4(%r5)`: stores beside what it
/// loaded, which a restart redoes exactly.
const COUNT_BESIDE: [u32; 3] = [0x0ca0_1083, 0x3463_0002, 0x0ca3_1288];
/// `stw %r4,0(%r4)`, `ldw 0(%r4),%r6`, `break`.
const STORE_R4: u32 = 0x0c83_1280;
const LOAD_R4: u32 = 0x0c80_1086;
const BREAK: u32 = 0;
/// `stw %r3,8(%r5); nop; break`: with `%r5` at its start, replaces its own
/// `break`.
const SELF_MODIFYING: [u32; 3] = [0x0ca3_1290, 0x0800_0240, 0];
/// `break 1,2`.
const BREAK_1_2: u32 = 0x0000_4001;

fn memory(code: &[u32]) -> AddressSpace {
    let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).expect("address space");
    mem.fault_unwritable_pages().expect("host protection");
    mem.map_fixed(CODE, 0x1000, PERM_RWX).unwrap();
    for (i, &word) in code.iter().enumerate() {
        mem.write_u32(CODE + 4 * i as u32, word).unwrap();
    }
    mem.map_fixed(DATA, 0x1000, PERM_READ | PERM_WRITE).unwrap();
    for at in (DATA..NEXT).step_by(4) {
        mem.write_u32(at, at ^ 0x5a5a_5a5a).unwrap();
    }
    mem
}

fn translating_jit() -> Jit {
    // As `hbft run` (stores mark no dirty pages).
    Jit::new(JitConfig { hot: 1, background: false, dirty_pages: false, ..JitConfig::default() }).expect("JIT")
}

/// Runs `code` from its start with `budget` under the interpreter and the
/// JIT on twin memories (`prepare` changes both), asserts that they agree,
/// and returns the exit and the JIT's host faults.
fn run_both(code: &[u32], prepare: impl Fn(&mut AddressSpace), setup: impl Fn(&mut CpuState), budget: u64) -> (Exit, u64) {
    let (mut mem_i, mut mem_j) = (memory(code), memory(code));
    prepare(&mut mem_i);
    prepare(&mut mem_j);
    let mut cpu_i = CpuState::at(CODE);
    setup(&mut cpu_i);
    let mut cpu_j = cpu_i.clone();
    let exit_i = Interpreter::new().run(&mut cpu_i, &mut mem_i, budget);
    let mut jit = translating_jit();
    let exit_j = jit.run(&mut cpu_j, &mut mem_j, budget);
    assert_eq!(exit_j, exit_i, "exit, budget {budget}");
    assert_eq!(cpu_j, cpu_i, "CPU state, budget {budget}");
    for page in [CODE >> 12, DATA >> 12, NEXT >> 12] {
        assert!(mem_j.page_bytes(page) == mem_i.page_bytes(page), "memory of page {page:#x}, budget {budget}");
    }
    (exit_j, jit.stats().host_faults)
}

fn unmapped_read(addr: u32) -> Exit {
    Exit::Fault(MemFault::Unmapped { addr, access: Access::Read })
}

#[test]
fn a_load_from_an_unmapped_page_faults_where_the_interpreter_does() {
    let setup = |cpu: &mut CpuState| {
        cpu.gr[4] = DATA + 8;
        cpu.gr[5] = NEXT + 0x10;
    };
    let (exit, host_faults) = run_both(&TWO_LOADS, |_| {}, setup, 100);
    assert_eq!(exit, unmapped_read(NEXT + 0x10));
    assert_eq!(host_faults, 1, "the second load relied on the host protection");
}

#[test]
fn a_load_from_a_page_the_guest_may_not_read_is_a_protection_fault() {
    let no_access = |mem: &mut AddressSpace| mem.map_fixed(NEXT, 0x1000, 0).unwrap();
    let setup = |cpu: &mut CpuState| {
        cpu.gr[4] = DATA;
        cpu.gr[5] = NEXT;
    };
    let (exit, host_faults) = run_both(&TWO_LOADS, no_access, setup, 100);
    assert_eq!(exit, Exit::Fault(MemFault::Protection { addr: NEXT, access: Access::Read }));
    assert_eq!(host_faults, 1);
    // Made readable again, the page reads through the same translation.
    let mut mem = memory(&TWO_LOADS);
    no_access(&mut mem);
    let mut jit = translating_jit();
    let mut cpu = CpuState::at(CODE);
    setup(&mut cpu);
    assert_eq!(jit.run(&mut cpu, &mut mem, 100), Exit::Fault(MemFault::Protection { addr: NEXT, access: Access::Read }));
    mem.protect(NEXT, 0x1000, PERM_READ).unwrap();
    let mut cpu = CpuState::at(CODE);
    setup(&mut cpu);
    assert_eq!(jit.run(&mut cpu, &mut mem, 100), Exit::Break { im5: 0, im13: 0 });
    assert_eq!(jit.stats().host_faults, 1);
}

#[test]
fn a_loop_without_stores_faults_in_the_pass_the_interpreter_does_for_every_budget() {
    let setup = |cpu: &mut CpuState| {
        cpu.gr[4] = NEXT - 12;
        cpu.gr[7] = 100;
    };
    for budget in [1, 2, 3, 4, 7, 9, 10, 11, 12, 1000] {
        let (exit, host_faults) = run_both(&LOADING_LOOP, |_| {}, setup, budget);
        if budget > 9 {
            // Three passes of three instructions, then the fourth load.
            assert_eq!(exit, unmapped_read(NEXT), "budget {budget}");
        }
        // The fourth pass fits the budget: the block ran it and faulted
        // (otherwise the interpreter ran it).
        assert_eq!(host_faults, u64::from(budget >= 12), "budget {budget}");
    }
}

#[test]
fn a_load_after_a_store_no_earlier_load_read_relies_on_the_host() {
    let (exit, host_faults) = run_both(&STORE_THEN_LOAD, |_| {}, storing_at(NEXT + 4), 100);
    assert_eq!(exit, unmapped_read(NEXT + 4));
    assert_eq!(host_faults, 1, "the restart stores the same value again");
}

/// Sets up the storing blocks: `%r3` to store, `%r4` at `at`, `%r5` at
/// `DATA + 0x20`.
fn storing_at(at: u32) -> impl Fn(&mut CpuState) {
    move |cpu: &mut CpuState| {
        cpu.gr[3] = 0x1234_5678;
        cpu.gr[4] = at;
        cpu.gr[5] = DATA + 0x20;
    }
}

/// Sets up the counting blocks: the counter at `DATA + 0x20`, `%r4` at `at`.
fn counting_at(at: u32) -> impl Fn(&mut CpuState) {
    move |cpu: &mut CpuState| {
        cpu.gr[4] = at;
        cpu.gr[5] = DATA + 0x20;
    }
}

#[test]
fn a_load_after_a_store_that_may_change_what_an_earlier_load_read_keeps_its_test() {
    let code = [COUNT[0], COUNT[1], COUNT[2], LOAD_R4, BREAK];
    let (exit, host_faults) = run_both(&code, |_| {}, counting_at(NEXT + 4), 100);
    assert_eq!(exit, unmapped_read(NEXT + 4));
    assert_eq!(host_faults, 0, "a restart would count twice");
}

#[test]
fn a_store_to_a_page_the_guest_may_not_write_is_a_protection_fault() {
    let read_only = |mem: &mut AddressSpace| mem.map_fixed(NEXT, 0x1000, PERM_READ).unwrap();
    let (exit, host_faults) = run_both(&TWO_STORES, read_only, storing_at(NEXT + 8), 100);
    assert_eq!(exit, Exit::Fault(MemFault::Protection { addr: NEXT + 8, access: Access::Write }));
    assert_eq!(host_faults, 1, "the first store is redone with the same value");
    let (exit, host_faults) = run_both(&TWO_STORES, |_| {}, storing_at(NEXT + 8), 100);
    assert_eq!(exit, Exit::Fault(MemFault::Unmapped { addr: NEXT + 8, access: Access::Write }));
    assert_eq!(host_faults, 1);
}

#[test]
fn a_store_after_one_that_may_change_what_an_earlier_load_read_keeps_its_test() {
    let read_only = |mem: &mut AddressSpace| mem.map_fixed(NEXT, 0x1000, PERM_READ).unwrap();
    let fault = Exit::Fault(MemFault::Protection { addr: NEXT, access: Access::Write });
    let code = [COUNT[0], COUNT[1], COUNT[2], STORE_R4, BREAK];
    let (exit, host_faults) = run_both(&code, read_only, counting_at(NEXT), 100);
    assert_eq!((exit, host_faults), (fault, 0), "a restart would count twice");
    // Storing beside what it loaded, the block can restart.
    let code = [COUNT_BESIDE[0], COUNT_BESIDE[1], COUNT_BESIDE[2], STORE_R4, BREAK];
    let (exit, host_faults) = run_both(&code, read_only, counting_at(NEXT), 100);
    assert_eq!((exit, host_faults), (fault, 1));
}

#[test]
fn a_store_to_a_write_only_page_is_done_by_the_interpreter() {
    let write_only = |mem: &mut AddressSpace| mem.map_fixed(NEXT, 0x1000, PERM_WRITE).unwrap();
    let (exit, host_faults) = run_both(&TWO_STORES, write_only, storing_at(NEXT + 8), 100);
    assert_eq!(exit, Exit::Break { im5: 0, im13: 0 });
    assert_eq!(host_faults, 1);
}

#[test]
fn a_store_into_translated_code_runs_the_new_code() {
    let setup = |cpu: &mut CpuState| {
        cpu.gr[3] = BREAK_1_2;
        cpu.gr[5] = CODE;
    };
    let (exit, host_faults) = run_both(&SELF_MODIFYING, |_| {}, setup, 100);
    assert_eq!(exit, Exit::Break { im5: 1, im13: 2 });
    assert_eq!(host_faults, 1, "the page holding code was host read-only");
}

#[test]
fn a_storing_loop_faults_in_the_pass_the_interpreter_does_for_every_budget() {
    let setup = |cpu: &mut CpuState| {
        cpu.gr[4] = NEXT - 16;
        cpu.gr[5] = DATA + 0x40;
        cpu.gr[7] = 100;
    };
    for budget in [1, 2, 5, 8, 16, 24, 25, 30, 1000] {
        let (exit, host_faults) = run_both(&COUNTING_LOOP, |_| {}, setup, budget);
        assert_eq!(host_faults, 0, "a later pass's load follows a store: tested, budget {budget}");
        if budget > 24 {
            // Four passes of six instructions, then the fifth's first load.
            assert_eq!(exit, unmapped_read(NEXT), "budget {budget}");
        }
    }
}

#[test]
fn an_unreadable_page_keeps_its_bytes() {
    let mut mem = memory(&[]);
    mem.protect(DATA, 0x1000, 0).unwrap();
    let bytes = mem.page_bytes(DATA >> 12).expect("mapped");
    assert_eq!(bytes[..4], (DATA ^ 0x5a5a_5a5a).to_be_bytes());
    assert_eq!(mem.read_u32(DATA), Err(MemFault::Protection { addr: DATA, access: Access::Read }));
    mem.protect(DATA, 0x1000, PERM_READ).unwrap();
    assert_eq!(mem.read_u32(DATA), Ok(DATA ^ 0x5a5a_5a5a));
}

#[test]
fn a_page_whose_code_a_store_dropped_takes_stores_at_full_speed() {
    let mut mem = memory(&TWO_STORES);
    mem.map_fixed(NEXT, 0x1000, PERM_RWX).unwrap();
    let mut jit = translating_jit();
    // A block of the next page is translated: the page holds code.
    let mut cpu = CpuState::at(NEXT);
    assert_eq!(jit.run(&mut cpu, &mut mem, 100), Exit::Break { im5: 0, im13: 0 });
    for run in 1..=2 {
        let mut cpu = CpuState::at(CODE);
        cpu.gr[3] = 0x1234_5678;
        cpu.gr[4] = NEXT + 0x100;
        cpu.gr[5] = NEXT + 0x104;
        assert_eq!(jit.run(&mut cpu, &mut mem, 100), Exit::Break { im5: 0, im13: 0 });
        assert_eq!(mem.read_u32(NEXT + 0x100), Ok(0x1234_5678));
        assert_eq!(jit.stats().host_faults, 1, "run {run}: the first store dropped the page's code");
    }
}
