//! Double-precision arithmetic computed inline by translated code (the
//! host FPU where `fastfp` proves its result exact, the software helper
//! otherwise) gives the interpreter's result and status word bit for bit,
//! on operands weighted towards the edges of the fast path: zeros,
//! infinities, NaNs, denormals, the smallest normal, 2^-900 and overflow,
//! with every rounding mode and the inexact trap enabled or not.

use hbft_runtime::memory::{AddressSpace, Layout, PERM_RWX};
use std::cell::RefCell;

use hbft_translator::interp::Interpreter;
use hbft_translator::jit::{Jit, JitConfig};
use hbft_translator::memory::GuestMemory;
use hbft_translator::state::CpuState;
use proptest::prelude::*;

const CODE: u32 = 0x0001_0000;

/// `fadd,dbl fr4,fr5,fr6`, `fsub`, `fmpy`, `fdiv`, `fsqrt,dbl fr4,fr6`,
/// each followed by `break` at its own 8 bytes.
const OPS: [(&str, u32); 5] = [
    ("fadd", 0x3085_0e06),
    ("fsub", 0x3085_2e06),
    ("fmpy", 0x3085_4e06),
    ("fdiv", 0x3085_6e06),
    ("fsqrt", 0x3080_8806),
];

/// Doubles near the fast path's limits.
fn operand() -> impl Strategy<Value = u64> {
    let exponent = prop_oneof![
        Just(0u64),
        Just(1),
        Just(2),
        // 2^-900 and around it.
        120u64..127,
        // Around 1, whose products and quotients stay in range.
        1015u64..1035,
        // Near overflow.
        2040u64..2047,
        Just(2047),
        0u64..2048,
    ];
    let fraction = prop_oneof![Just(0u64), 0u64..16, any::<u64>().prop_map(|f| f & ((1 << 52) - 1))];
    prop_oneof![
        (any::<bool>(), exponent, fraction).prop_map(|(sign, e, f)| u64::from(sign) << 63 | e << 52 | f),
        any::<u64>(),
    ]
}

/// Status words: mostly round to nearest with nothing enabled.
fn status() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => Just(0u32),
        1 => (0u32..4).prop_map(|rm| rm << 9),
        1 => Just(1u32),
        1 => any::<u32>(),
    ]
}

struct Engines {
    jit: Jit,
    mem_jit: AddressSpace,
    mem_interp: AddressSpace,
}

impl Engines {
    fn new() -> Engines {
        let memory = || {
            let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).expect("address space");
            mem.map_fixed(CODE, 0x1000, PERM_RWX).unwrap();
            for (i, &(_, word)) in OPS.iter().enumerate() {
                mem.write_u32(CODE + 8 * i as u32, word).unwrap();
            }
            mem
        };
        let config = JitConfig { hot: 1, background: false, ..JitConfig::default() };
        Engines { jit: Jit::new(config).expect("JIT"), mem_jit: memory(), mem_interp: memory() }
    }

    /// Runs operation `op` on both engines and asserts they agree.
    fn check(&mut self, op: usize, a: u64, b: u64, st: u32) -> Result<(), TestCaseError> {
        let mut cpu = CpuState::at(CODE + 8 * op as u32);
        cpu.fr[0] = u64::from(st) << 32;
        cpu.fr[4] = a;
        cpu.fr[5] = b;
        let mut cpu_jit = cpu.clone();
        let exit = Interpreter::new().run(&mut cpu, &mut self.mem_interp, 2);
        let exit_jit = self.jit.run(&mut cpu_jit, &mut self.mem_jit, 2);
        let name = OPS[op].0;
        prop_assert_eq!(exit_jit, exit, "{} {:#x} {:#x} status {:#x}", name, a, b, st);
        prop_assert_eq!(cpu_jit.fr[6], cpu.fr[6], "{} {:#x} {:#x} status {:#x}: result", name, a, b, st);
        prop_assert_eq!(cpu_jit.fr[0], cpu.fr[0], "{} {:#x} {:#x} status {:#x}: status", name, a, b, st);
        prop_assert_eq!(cpu_jit, cpu);
        Ok(())
    }
}

#[test]
fn the_translated_fast_path_gives_the_interpreters_results() {
    let mut engines = Engines::new();
    // Translated on first use: every operation is run once before the cases.
    for op in 0..OPS.len() {
        engines.check(op, 0, 0, 0).unwrap();
        assert_eq!(engines.jit.stats().translated, op as u64 + 1, "{} was translated", OPS[op].0);
    }
    let engines = RefCell::new(engines);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 20_000, ..ProptestConfig::default() });
    runner
        .run(&(0..OPS.len(), operand(), operand(), status()), |(op, a, b, st)| engines.borrow_mut().check(op, a, b, st))
        .unwrap();
    let mut engines = engines.into_inner();
    // Results the fast path must give (exact and inexact), and ones it
    // must leave to the helper (underflow, overflow, NaN).
    let one = 1f64.to_bits();
    let third = (1.0f64 / 3.0).to_bits();
    for (a, b) in [(one, one), (third, third), (f64::MIN_POSITIVE.to_bits(), 0.5f64.to_bits())] {
        for op in 0..OPS.len() {
            for st in [0, 1, 1 << 9, 3 << 9] {
                engines.check(op, a, b, st).unwrap();
            }
        }
    }
    assert_eq!(engines.jit.stats().translated, OPS.len() as u64, "no operation was translated again");
}
