//! Random instruction sequences under the interpreter and the JIT: the
//! same sequence of valid PA-RISC instructions runs from the same random
//! initial state under both engines with the same random budgets, and after
//! every stop the exit, the full CPU state (retired count included) and the
//! dirty pages must be identical; at the end, so must memory.
//!
//! Sequences are drawn over the decoder's instruction classes: a major
//! opcode (weighted towards arithmetic with conditions and nullification,
//! shifts, extract and deposit, compare-and-branch, loads and stores in
//! every address form, floating point) with random remaining bits, kept if
//! it decodes, then fixed up and re-encoded with the frontend's encoder so
//! that it stays meaningful: memory operands use base registers that point
//! into mapped scratch memory (one of them into the code pages, so stores
//! may rewrite code that is running), relative branches land inside the
//! sequence (loops included; budgets bound them), and register branches use
//! a register that holds the sequence's address. Nothing is excluded:
//! privileged instructions, `break`, illegal words, traps and faults are
//! exits that both engines must report at the same instruction; the
//! harness then steps over them (as the runtime would after delivering a
//! signal), answers `mfctl cr16` and `probe` as the runtime does, and ends
//! the run when execution leaves the sequence.

use hbft_frontend::insn::{Addr, Cr, Gr, Insn, LinkKind};
use hbft_frontend::{decode, encode};
use hbft_runtime::memory::{AddressSpace, Layout, PERM_READ, PERM_RWX, PERM_WRITE};
use hbft_translator::interp::{Exit, Interpreter};
use hbft_translator::jit::{Jit, JitConfig};
use hbft_translator::state::CpuState;
use proptest::prelude::*;
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The sequence starts here; [`CODE_START`]..[`CODE_END`] is mapped RWX.
const CODE: u32 = 0x0001_0000;
const CODE_START: u32 = CODE - 0x2000;
const CODE_END: u32 = CODE + 0x4000;
/// Scratch data: 4 MiB, read-write.
const SCRATCH: u32 = 0x4000_0000;
const SCRATCH_LEN: u32 = 4 << 20;

/// Base registers of memory operands: two into the middle of the scratch
/// data, one into the code pages around the sequence (stores rewrite it).
const BASES: [u8; 3] = [20, 21, 22];
/// Index registers (small multiples of 8, possibly negative).
const INDEXES: [u8; 2] = [23, 24];
/// Holds [`CODE`]: the base of `bv`, `bve` and `be`.
const CODE_REG: u8 = 25;
/// No generated instruction writes these (except base modification).
const RESERVED: [u8; 6] = [20, 21, 22, 23, 24, 25];

/// Instructions retired per case at most (budgets stop loops).
const MAX_RETIRED: u64 = 20_000;
const MAX_STOPS: usize = 1_000;

/// Major opcodes to draw from, each listed as often as it should be drawn:
/// every major once (system, cache and coprocessor classes, undefined
/// majors), and the classes worth most several times more.
fn majors() -> Vec<u32> {
    let mut list: Vec<u32> = (0..64).collect();
    let weighted: [(u32, usize); 40] = [
        (0x02, 10), // add/sub/logical/unit with conditions, ds, shladd
        (0x24, 2),  // cmpiclr
        (0x25, 2),  // subi
        (0x2c, 2),  // addi,tc
        (0x2d, 2),  // addi
        (0x08, 1),  // ldil
        (0x0a, 1),  // addil
        (0x0d, 2),  // ldo
        (0x34, 4),  // shrpw/extrw
        (0x35, 4),  // depw/depwi
        (0x3e, 1),  // halfword ops
        (0x20, 2),  // cmpb
        (0x21, 2),  // cmpib
        (0x22, 2),  // cmpb (negated)
        (0x23, 2),  // cmpib (negated)
        (0x28, 2),  // addb
        (0x29, 2),  // addib
        (0x2a, 2),  // addb (negated)
        (0x2b, 2),  // addib (negated)
        (0x30, 1),  // bb sar
        (0x31, 2),  // bb
        (0x32, 1),  // movb
        (0x33, 1),  // movib
        (0x3a, 2),  // b,l / blr / bv / bve
        (0x38, 1),  // be
        (0x03, 6),  // indexed and short loads/stores, stby
        (0x10, 2),  // ldb
        (0x11, 2),  // ldh
        (0x12, 2),  // ldw
        (0x13, 2),  // ldw,m
        (0x18, 2),  // stb
        (0x19, 2),  // sth
        (0x1a, 2),  // stw
        (0x1b, 2),  // stw,m
        (0x09, 3),  // fldw/fstw indexed and short
        (0x0b, 3),  // fldd/fstd indexed and short
        (0x0c, 6),  // FP operations on whole registers
        (0x0e, 6),  // FP operations on halves, xmpyu
        (0x06, 1),  // fmpyadd
        (0x26, 1),  // fmpysub
    ];
    for (major, extra) in weighted {
        list.extend(std::iter::repeat_n(major, extra));
    }
    list
}

/// Moves a written register out of the reserved set.
fn free(r: Gr) -> Gr {
    if RESERVED.contains(&r.0) {
        Gr(r.0 - 10)
    } else {
        r
    }
}

/// Points a memory operand at a base register, indexes with an index
/// register, and (seven times in eight) aligns the displacement to `align`.
fn fix_addr(addr: Addr, aux: u32, align: i32) -> Addr {
    let base = Gr(BASES[(aux % 3) as usize]);
    let index = Gr(INDEXES[(aux / 3 % 2) as usize]);
    let aligned = aux / 6 % 8 != 0;
    match addr {
        Addr::Disp { disp, space, modify, form, .. } => {
            let disp = if aligned { disp & !(align - 1) } else { disp };
            Addr::Disp { disp, base, space, modify, form }
        }
        Addr::Index { space, scale, modify, .. } => Addr::Index { index, base, space, scale, modify },
    }
}

/// The access size of a memory instruction (for alignment).
fn access_size(insn: &Insn) -> i32 {
    use hbft_frontend::insn::Size;
    match insn {
        Insn::Load { size, .. } | Insn::Store { size, .. } => match size {
            Size::Byte => 1,
            Size::Half => 2,
            Size::Word => 4,
            Size::Double => 8,
        },
        Insn::FpMem { dbl, .. } | Insn::CopMem { dbl, .. } => {
            if *dbl {
                8
            } else {
                4
            }
        }
        Insn::FstQuad { .. } => 16,
        _ => 4,
    }
}

/// The displacement from the branch at `index` to the instruction at
/// `target` (both indexes into the sequence).
fn branch_disp(index: usize, target: usize) -> i32 {
    (target as i32 - index as i32 - 2) * 4
}

/// Makes a decoded instruction meaningful at position `index` of a
/// sequence of `len` (see the module documentation).
fn fix(insn: Insn, index: usize, len: usize, aux: u32) -> Insn {
    let target = (aux as usize >> 8) % (len + 1);
    let disp = branch_disp(index, target);
    let size = access_size(&insn);
    match insn {
        Insn::Alu { op, cond, r1, r2, t } => Insn::Alu { op, cond, r1, r2, t: free(t) },
        Insn::Half { op, r1, r2, t } => Insn::Half { op, r1, r2, t: free(t) },
        Insn::Havg { cond, r1, r2, t } => Insn::Havg { cond, r1, r2, t: free(t) },
        Insn::AluImm { op, cond, imm, r, t } => Insn::AluImm { op, cond, imm, r, t: free(t) },
        Insn::Ldil { imm, t } => Insn::Ldil { imm, t: free(t) },
        Insn::Ldo { disp, base, t } => Insn::Ldo { disp, base, t: free(t) },
        Insn::Shrp { dw, cond, r1, r2, amount, t } => Insn::Shrp { dw, cond, r1, r2, amount, t: free(t) },
        Insn::Extract { dw, signed, cond, r, pos, len, t } => {
            Insn::Extract { dw, signed, cond, r, pos, len, t: free(t) }
        }
        Insn::Deposit { dw, zero, cond, src, pos, len, t } => {
            Insn::Deposit { dw, zero, cond, src, pos, len, t: free(t) }
        }
        Insn::Permh { order, r, t } => Insn::Permh { order, r, t: free(t) },
        Insn::Hshift { left, signed, r, sa, t } => Insn::Hshift { left, signed, r, sa, t: free(t) },
        Insn::Mix { word, right, r1, r2, t } => Insn::Mix { word, right, r1, r2, t: free(t) },
        Insn::Mfctl { cr, t, wide } => Insn::Mfctl { cr, t: free(t), wide },
        Insn::Mfsp { sr, t } => Insn::Mfsp { sr, t: free(t) },
        Insn::Mfia { t } => Insn::Mfia { t: free(t) },
        Insn::Ldsid { space, base, t } => Insn::Ldsid { space, base, t: free(t) },
        Insn::SysMask { set, imm, t } => Insn::SysMask { set, imm, t: free(t) },
        Insn::Spop { kind, sfu, op, nullify, r1, r2, t } => Insn::Spop { kind, sfu, op, nullify, r1, r2, t: free(t) },
        Insn::Load { kind, size: s, addr, hint, t } => {
            Insn::Load { kind, size: s, addr: fix_addr(addr, aux, size), hint, t: free(t) }
        }
        Insn::Store { kind, size: s, r, addr, hint } => {
            Insn::Store { kind, size: s, r, addr: fix_addr(addr, aux, size), hint }
        }
        Insn::FpMem { store, dbl, r, addr, hint } => Insn::FpMem { store, dbl, r, addr: fix_addr(addr, aux, size), hint },
        Insn::CopMem { store, dbl, uid, r, addr, hint } => {
            Insn::CopMem { store, dbl, uid, r, addr: fix_addr(addr, aux, size), hint }
        }
        Insn::FstQuad { r, addr } => Insn::FstQuad { r, addr: fix_addr(addr, aux, size) },
        Insn::StoreBytes { dw, end, modify, r, disp, space, hint, .. } => {
            Insn::StoreBytes { dw, end, modify, r, disp, space, base: Gr(BASES[(aux % 3) as usize]), hint }
        }
        Insn::Cache { op, space, modify, local, .. } => Insn::Cache {
            op,
            index: Gr(INDEXES[(aux % 2) as usize]),
            space,
            base: Gr(BASES[(aux / 2 % 3) as usize]),
            modify,
            local,
        },
        Insn::FdcImm { disp, space, .. } => Insn::FdcImm { disp, space, base: Gr(BASES[(aux % 3) as usize]) },
        Insn::Probe { write, imm, level, space, t, .. } => {
            Insn::Probe { write, imm, level, space, base: Gr(BASES[(aux % 3) as usize]), t: free(t) }
        }
        Insn::LoadTranslation { coherence, space, modify, t, .. } => Insn::LoadTranslation {
            coherence,
            index: Gr(INDEXES[(aux % 2) as usize]),
            space,
            base: Gr(BASES[(aux / 2 % 3) as usize]),
            modify,
            t: free(t),
        },
        Insn::CmpBranch { cond, src, r2, nullify, .. } => Insn::CmpBranch { cond, src, r2, disp, nullify },
        Insn::AddBranch { cond, src, r2, nullify, .. } => Insn::AddBranch { cond, src, r2: free(r2), disp, nullify },
        Insn::Bb { cond, dw, r, pos, nullify, .. } => Insn::Bb { cond, dw, r, pos, disp, nullify },
        Insn::MovBranch { cond, src, r2, nullify, .. } => Insn::MovBranch { cond, src, r2: free(r2), disp, nullify },
        Insn::BranchLink { kind, link, nullify, wide, .. } => Insn::BranchLink { kind, disp, link: free(link), nullify, wide },
        Insn::Blr { link, nullify, .. } => Insn::Blr { x: Gr(INDEXES[(aux % 2) as usize]), link: free(link), nullify },
        Insn::Bv { nullify, .. } => Insn::Bv { x: Gr(INDEXES[(aux % 2) as usize]), base: Gr(CODE_REG), nullify },
        Insn::Bve { link, stack, nullify, .. } => Insn::Bve { link, stack, base: Gr(CODE_REG), nullify },
        Insn::Be { link, sr, nullify, .. } => {
            Insn::Be { link, disp: target as i32 * 4, sr, base: Gr(CODE_REG), nullify }
        }
        other => other,
    }
}

/// One drawn instruction: the index of its major opcode in [`majors`],
/// the remaining 26 bits, and bits for the fix-ups.
type Draw = (usize, u32, u32);

/// The instruction words of a sequence, followed by a branch back to its
/// start (`b` and a `nop` in its delay slot: budgets end the run). A draw
/// that does not decode is redrawn from its own bits a few times; one in
/// 64 draws is kept as the raw (possibly illegal) word.
fn assemble(draws: &[Draw]) -> Vec<u32> {
    let majors = majors();
    let len = draws.len();
    let back = Insn::BranchLink { kind: LinkKind::Plain, disp: branch_disp(len, 0), link: Gr(0), nullify: false, wide: false };
    let mut words: Vec<u32> = draws
        .iter()
        .enumerate()
        .map(|(index, &(major, bits, aux))| {
            let major = majors[major % majors.len()];
            let mut x = u64::from(bits) << 32 | u64::from(aux) | 1;
            let mut next = move || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u32
            };
            // Instructions with many fixed bits are drawn directly.
            if aux % 4 == 0 {
                let nullify = aux & 32 != 0;
                let direct = match major {
                    0x3a if aux & 16 == 0 => Some(Insn::Bv { x: Gr(0), base: Gr(0), nullify }),
                    0x3a => Some(Insn::Bve { link: aux & 64 != 0, stack: false, base: Gr(0), nullify }),
                    // ftest after an fcmp: nullifies on the C bit.
                    0x0c | 0x0e if aux % 16 == 0 => Some(Insn::Ftest { cond: 0, queue: None }),
                    // mtsar (variable shifts read it), mfctl of sar and of
                    // the interval timer, other control registers (privileged).
                    0x00 => {
                        let reg = Gr((aux >> 8) as u8 % 32);
                        let cr = Cr(match aux >> 13 & 3 {
                            0 | 1 => 11,
                            2 => 16,
                            _ => (aux >> 16) as u8 % 32,
                        });
                        Some(if aux & 16 == 0 { Insn::Mtctl { r: reg, cr } } else { Insn::Mfctl { cr, t: reg, wide: false } })
                    }
                    _ => None,
                };
                if let Some(Ok(word)) = direct.map(|insn| encode(&fix(insn, index, len, aux))) {
                    return word;
                }
            }
            for attempt in 0..64 {
                // Every other candidate is sparse: many encodings need
                // reserved fields to be zero.
                let bits = if attempt % 2 == 0 { next() } else { next() & next() & next() };
                let word = major << 26 | bits & 0x03ff_ffff;
                if aux % 64 == 0 {
                    return word;
                }
                if let Ok(insn) = decode(word) {
                    if let Ok(word) = encode(&fix(insn, index, len, aux)) {
                        return word;
                    }
                }
            }
            NOP
        })
        .collect();
    words.extend([encode(&back).expect("b to the start"), NOP]);
    words
}

/// `nop` (`or r0,r0,r0`).
const NOP: u32 = 0x0800_0240;

/// Register values worth trying besides random ones.
fn gr_value() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => any::<u32>(),
        1 => Just(0u32),
        1 => Just(1u32),
        1 => Just(u32::MAX),
        1 => Just(0x7fff_ffffu32),
        1 => Just(0x8000_0000u32),
        1 => 0u32..64,
    ]
}

/// Floating-point register values: special doubles, pairs of special
/// singles, random bits.
fn fr_value() -> impl Strategy<Value = u64> {
    let single = prop_oneof![
        Just(0u32),
        Just(0x8000_0000u32),
        Just(0x3f80_0000u32),       // 1.0
        Just(0xc020_0000u32),       // -2.5
        Just(0x7f80_0000u32),       // inf
        Just(0x7fc0_0000u32),       // quiet NaN
        Just(0x7fa0_0000u32),       // signalling NaN
        Just(0x0000_0001u32),       // denormal
        Just(0x4f00_0000u32),       // 2^31
        any::<u32>(),
    ];
    prop_oneof![
        2 => any::<u64>(),
        1 => Just(0u64),
        1 => Just(0x3ff0_0000_0000_0000u64),  // 1.0
        1 => Just(0xc004_0000_0000_0000u64),  // -2.5
        1 => Just(0x7ff0_0000_0000_0000u64),  // inf
        1 => Just(0x7ff8_0000_0000_0000u64),  // quiet NaN
        1 => Just(0x7ff4_0000_0000_0000u64),  // signalling NaN
        1 => Just(0x0000_0000_0000_0001u64),  // denormal
        1 => Just(0x41e0_0000_0000_0000u64),  // 2^31
        3 => (single.clone(), single).prop_map(|(h, l)| u64::from(h) << 32 | u64::from(l)),
    ]
}

/// A random initial state at [`CODE`].
fn initial_state() -> impl Strategy<Value = CpuState> {
    (
        // Vectors, not arrays: proptest's array value trees would need
        // megabytes of stack.
        prop::collection::vec(gr_value(), 32),
        prop::collection::vec(fr_value(), 32),
        prop_oneof![3 => Just(0u32), 1 => any::<u32>()],
        (any::<u32>(), any::<bool>(), any::<bool>(), 0u32..32),
        prop::array::uniform5(-64i32..64),
    )
        .prop_map(|(gr, fr, fp_status, (cb, cb_msb, v, sar), offsets)| {
            let mut gr: [u32; 32] = gr.try_into().expect("32 values");
            let mut fr: [u64; 32] = fr.try_into().expect("32 values");
            gr[0] = 0;
            gr[20] = SCRATCH + SCRATCH_LEN / 2 + offsets[0] as u32 * 8;
            gr[21] = SCRATCH + SCRATCH_LEN / 4 + offsets[1] as u32 * 8;
            gr[22] = CODE.wrapping_add(offsets[2] as u32 * 4);
            gr[23] = (offsets[3] * 8) as u32;
            gr[24] = (offsets[4] * 8) as u32;
            gr[25] = CODE;
            // fr0's high word is the status register: enables, rounding
            // mode and flags, usually clear.
            fr[0] = u64::from(fp_status) << 32 | fr[0] & 0xffff_ffff;
            let mut cpu = CpuState::at(CODE);
            cpu.gr = gr;
            cpu.fr = fr;
            cpu.psw_cb = cb;
            cpu.psw_cb_msb = cb_msb as u32;
            cpu.psw_v = v as u32;
            cpu.cr[11] = sar;
            cpu
        })
}

/// Budgets, used in turn: mostly short (stops inside blocks and delay
/// slots), some long.
fn budgets() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(prop_oneof![4 => 0u64..8, 3 => 0u64..64, 1 => 0u64..2000], 1..12)
}

/// One side of the comparison: memory with the sequence and scratch data.
fn memory(words: &[u32], scratch_seed: u64) -> AddressSpace {
    let mut mem = AddressSpace::new(Layout::linux_parisc32(100 << 20)).expect("4 GiB reservation");
    mem.map_fixed(CODE_START, CODE_END - CODE_START, PERM_RWX).unwrap();
    mem.map_fixed(SCRATCH, SCRATCH_LEN, PERM_READ | PERM_WRITE).unwrap();
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    mem.load_bytes(CODE, &code).unwrap();
    // Patterned scratch data near the base registers.
    let mut x = scratch_seed | 1;
    let data: Vec<u8> = (0..0x8000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    for at in [SCRATCH + SCRATCH_LEN / 2 - 0x4000, SCRATCH + SCRATCH_LEN / 4 - 0x4000] {
        mem.load_bytes(at, &data).unwrap();
    }
    mem.take_host_writes();
    mem.clear_dirty();
    mem
}

/// What the harness does after an exit (identically on both sides):
/// `false` ends the run, which happens at any exit outside the sequence
/// (its end is followed by zero words, `break 0,0`).
fn resume(exit: Exit, cpu: &mut CpuState, mem: &AddressSpace, end: u32) -> bool {
    let pc = cpu.iaoq_front;
    match exit {
        Exit::Budget => true,
        _ if !(CODE..end).contains(&pc) => false,
        Exit::Gateway { .. } => false,
        Exit::IntervalTimer { t } => {
            if t != 0 {
                cpu.gr[usize::from(t)] = cpu.retired as u32;
            }
            cpu.retire_current();
            true
        }
        Exit::Probe { write, base, t } => {
            let need = if write { PERM_WRITE } else { PERM_READ };
            if t != 0 {
                cpu.gr[usize::from(t)] = u32::from(mem.perms(cpu.gr[usize::from(base)]) & need != 0);
            }
            cpu.retire_current();
            true
        }
        // The instruction that stopped is stepped over, as after a
        // signal handler that skips it.
        _ => {
            cpu.retire_current();
            true
        }
    }
}

/// A case that runs longer than this hangs (an engine that ignores its
/// budget): the watchdog prints it and aborts the test process.
const HANG: Duration = Duration::from_secs(60);

/// The cases running now, by thread, with their start time.
static RUNNING: Mutex<Vec<(std::thread::ThreadId, Instant, String)>> = Mutex::new(Vec::new());

/// Marks the current thread as running `case` until dropped; starts the
/// watchdog once.
struct Watched;

impl Watched {
    fn new(case: String) -> Watched {
        static WATCHDOG: Once = Once::new();
        WATCHDOG.call_once(|| {
            std::thread::spawn(|| loop {
                std::thread::sleep(Duration::from_secs(1));
                if let Some((_, _, case)) = RUNNING.lock().unwrap().iter().find(|(_, since, _)| since.elapsed() > HANG) {
                    eprintln!("a case has been running for more than {HANG:?} (an engine ignores its budget?):\n{case}");
                    std::process::abort();
                }
            });
        });
        RUNNING.lock().unwrap().push((std::thread::current().id(), Instant::now(), case));
        Watched
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let me = std::thread::current().id();
        RUNNING.lock().unwrap().retain(|(thread, _, _)| *thread != me);
    }
}

/// Runs `words` from `start` under both engines in lockstep.
fn lockstep(words: &[u32], start: &CpuState, budgets: &[u64], jit: JitConfig, scratch_seed: u64) -> Result<(), TestCaseError> {
    let _watched = Watched::new(format!(
        "words {words:#010x?}\nstart {start:?}\nbudgets {budgets:?}\njit {jit:?}\nscratch seed {scratch_seed}"
    ));
    let mut interp = Interpreter::new();
    let mut jit = Jit::new(jit).expect("JIT");
    let (mut a, mut b) = (start.clone(), start.clone());
    let (mut mem_a, mut mem_b) = (memory(words, scratch_seed), memory(words, scratch_seed));
    for (stop, &budget) in budgets.iter().cycle().enumerate().take(MAX_STOPS) {
        let exit_a = interp.run(&mut a, &mut mem_a, budget);
        let exit_b = jit.run(&mut b, &mut mem_b, budget);
        prop_assert_eq!(exit_a, exit_b, "exit at stop {} (budget {})", stop, budget);
        prop_assert_eq!(&a, &b, "CPU state at stop {} (budget {})", stop, budget);
        let dirty_a: Vec<u32> = mem_a.dirty_pages().collect();
        let dirty_b: Vec<u32> = mem_b.dirty_pages().collect();
        prop_assert_eq!(dirty_a, dirty_b, "dirty pages at stop {}", stop);
        let end = CODE + 4 * words.len() as u32;
        let (go_a, go_b) = (resume(exit_a, &mut a, &mem_a, end), resume(exit_b, &mut b, &mem_b, end));
        if !go_a || !go_b || a.retired >= MAX_RETIRED {
            break;
        }
    }
    for page in mem_a.dirty_pages() {
        prop_assert!(mem_a.page_bytes(page) == mem_b.page_bytes(page), "memory differs on page {:#x}", page);
    }
    Ok(())
}

fn draws(max: usize) -> impl Strategy<Value = Vec<Draw>> {
    prop::collection::vec((any::<usize>(), any::<u32>(), any::<u32>()), 1..max)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Every block translated at once.
    #[test]
    fn random_sequences_agree_translated(
        draws in draws(48), start in initial_state(), budgets in budgets(), seed in any::<u64>()
    ) {
        let words = assemble(&draws);
        let config = JitConfig { hot: 1, background: false, ..JitConfig::default() };
        lockstep(&words, &start, &budgets, config, seed)?;
    }

    /// Every block requested from the compile thread at once, and
    /// interpreted until its code comes back.
    #[test]
    fn random_sequences_agree_translated_in_the_background(
        draws in draws(48), start in initial_state(), budgets in budgets(), seed in any::<u64>()
    ) {
        let words = assemble(&draws);
        let config = JitConfig { hot: 1, background: true, ..JitConfig::default() };
        lockstep(&words, &start, &budgets, config, seed)?;
    }

    /// Blocks translated once reached three times: interpreted and
    /// translated code mixed, and a small code cache flushed often.
    #[test]
    fn random_sequences_agree_mixed(
        draws in draws(48), start in initial_state(), budgets in budgets(), seed in any::<u64>()
    ) {
        let words = assemble(&draws);
        let config = JitConfig { hot: 3, cache_bytes: 64 << 10, background: false, ..JitConfig::default() };
        lockstep(&words, &start, &budgets, config, seed)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// The interpreter's run to the next jump (how the JIT runs a cold
    /// block) ends where a run of as many instructions ends, at a plain
    /// block entry unless its budget or an event ended it.
    #[test]
    fn an_interpreted_block_ends_where_a_run_of_its_length_does(
        draws in draws(48), start in initial_state(), budget in 0u64..64, seed in any::<u64>()
    ) {
        let words = assemble(&draws);
        let (mut a, mut b) = (start.clone(), start.clone());
        let (mut mem_a, mut mem_b) = (memory(&words, seed), memory(&words, seed));
        let exit_a = Interpreter::new().run_block(&mut a, &mut mem_a, budget);
        let retired = a.retired - start.retired;
        // The same instructions one at a time, noting the address of the
        // last one executed (the back when the front is nullified).
        let mut interp = Interpreter::new();
        let mut exit_b = Exit::Budget;
        let mut last = None;
        for _ in 0..retired {
            last = Some(if b.psw_n != 0 { b.iaoq_back } else { b.iaoq_front });
            exit_b = interp.run(&mut b, &mut mem_b, 1);
            if exit_b != Exit::Budget {
                break;
            }
        }
        if exit_a != Exit::Budget && exit_b == Exit::Budget {
            // The event came with the next instruction.
            exit_b = interp.run(&mut b, &mut mem_b, 1);
        }
        prop_assert_eq!(exit_a, exit_b);
        prop_assert_eq!(&a, &b);
        if exit_a == Exit::Budget && retired < budget {
            let last = last.expect("a run that stopped early retired something");
            prop_assert!(a.at_block_entry() && a.iaoq_front != last.wrapping_add(4), "stopped after {} of {} at {:#x}", retired, budget, last);
        }
    }
}

/// The generator reaches the classes it is meant to: most draws decode to
/// an instruction, and every class of interest appears.
#[test]
fn generated_sequences_cover_the_instruction_classes() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let mut seen = std::collections::BTreeSet::new();
    let mut illegal = 0;
    let mut total = 0;
    for _ in 0..200 {
        let draws = draws(48).new_tree(&mut runner).unwrap().current();
        for word in assemble(&draws) {
            total += 1;
            match decode(word) {
                Ok(insn) => {
                    let name = format!("{insn:?}");
                    seen.insert(name.split([' ', '{', '(']).next().unwrap().to_string());
                }
                Err(_) => illegal += 1,
            }
        }
    }
    for class in [
        "Alu", "AluImm", "Ldil", "Addil", "Ldo", "Load", "Store", "StoreBytes", "FpMem", "CmpBranch", "AddBranch",
        "Bb", "MovBranch", "BranchLink", "Bv", "Be", "Shrp", "Extract", "Deposit", "FpUnary", "FpBinary", "Fcnv",
        "Fcmp", "Ftest", "Xmpyu", "FmpyAddSub", "Break", "Mtctl", "Mfctl",
    ] {
        assert!(seen.contains(class), "no {class} among {seen:?}");
    }
    assert!(illegal * 20 < total, "{illegal} of {total} words do not decode");
}
