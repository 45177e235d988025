//! Translated loads that rely on the host's page protection
//! (`FlatMemory::unreadable_pages_fault`) stop exactly where the
//! interpreter does — same exit, CPU state, retired count and memory — in
//! straight-line blocks and in loops without stores (restarted from the
//! block's entry), and after stores and in storing loops (which keep the
//! permission test), for unmapped pages and for mapped pages the guest may
//! not read.

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

fn memory(code: &[u32]) -> AddressSpace {
    let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).expect("address space");
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
    Jit::new(JitConfig { hot: 1, background: false, ..JitConfig::default() }).expect("JIT")
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
    for page in [DATA >> 12, NEXT >> 12] {
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
fn loads_after_a_store_keep_the_permission_test() {
    let setup = |cpu: &mut CpuState| {
        cpu.gr[3] = 0x1234_5678;
        cpu.gr[4] = NEXT + 4;
        cpu.gr[5] = DATA + 0x20;
    };
    let (exit, host_faults) = run_both(&STORE_THEN_LOAD, |_| {}, setup, 100);
    assert_eq!(exit, unmapped_read(NEXT + 4));
    assert_eq!(host_faults, 0, "the store came first: the load was tested");
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
