//! Interpreter tests on hand-assembled programs. The instruction words come
//! from `hppa-linux-gnu-as` (the source is in the comments), so the tests
//! run without the cross toolchain.

use hbft_translator::interp::{Exit, Interpreter, Trap};
use hbft_translator::memory::{Access, GuestMemory, MemFault};
use hbft_translator::state::CpuState;
use proptest::prelude::*;

const CODE: u32 = 0x10000;
const DATA: u32 = 0x20000;
const REGION: u32 = 0x4000;

/// Two flat regions, code at [`CODE`] and data at [`DATA`]; everything else
/// is unmapped. Accesses must be naturally aligned.
#[derive(Clone, PartialEq, Eq, Debug)]
struct FlatMemory {
    code: Vec<u8>,
    data: Vec<u8>,
}

impl FlatMemory {
    fn new(program: &[u32]) -> FlatMemory {
        let mut code = vec![0; REGION as usize];
        for (i, w) in program.iter().enumerate() {
            code[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
        }
        FlatMemory {
            code,
            data: vec![0; REGION as usize],
        }
    }

    fn bytes(&self, addr: u32, size: u32, access: Access) -> Result<&[u8], MemFault> {
        if !addr.is_multiple_of(size) {
            return Err(MemFault::Unaligned { addr, size, access });
        }
        let (base, region) = match addr {
            a if (CODE..CODE + REGION).contains(&a) => (CODE, &self.code),
            a if (DATA..DATA + REGION).contains(&a) => (DATA, &self.data),
            _ => return Err(MemFault::Unmapped { addr, access }),
        };
        let at = (addr - base) as usize;
        Ok(&region[at..at + size as usize])
    }

    fn bytes_mut(&mut self, addr: u32, size: u32) -> Result<&mut [u8], MemFault> {
        self.bytes(addr, size, Access::Write)?;
        let (base, region) = if addr >= DATA {
            (DATA, &mut self.data)
        } else {
            (CODE, &mut self.code)
        };
        let at = (addr - base) as usize;
        Ok(&mut region[at..at + size as usize])
    }

    fn word(&self, addr: u32) -> u32 {
        self.read_u32(addr).unwrap()
    }

    fn set_word(&mut self, addr: u32, v: u32) {
        self.write_u32(addr, v).unwrap()
    }
}

impl GuestMemory for FlatMemory {
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
        Ok(self.bytes(addr, 1, Access::Read)?[0])
    }
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
        Ok(u16::from_be_bytes(
            self.bytes(addr, 2, Access::Read)?.try_into().unwrap(),
        ))
    }
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        Ok(u32::from_be_bytes(
            self.bytes(addr, 4, Access::Read)?.try_into().unwrap(),
        ))
    }
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
        Ok(u64::from_be_bytes(
            self.bytes(addr, 8, Access::Read)?.try_into().unwrap(),
        ))
    }
    fn write_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault> {
        self.bytes_mut(addr, 1)?.copy_from_slice(&[value]);
        Ok(())
    }
    fn write_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault> {
        self.bytes_mut(addr, 2)?
            .copy_from_slice(&value.to_be_bytes());
        Ok(())
    }
    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        self.bytes_mut(addr, 4)?
            .copy_from_slice(&value.to_be_bytes());
        Ok(())
    }
    fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), MemFault> {
        self.bytes_mut(addr, 8)?
            .copy_from_slice(&value.to_be_bytes());
        Ok(())
    }
    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        Ok(u32::from_be_bytes(
            self.bytes(addr, 4, Access::Execute)?.try_into().unwrap(),
        ))
    }
}

/// A CPU at the start of `program`, with `regs` preset.
fn setup(program: &[u32], regs: &[(usize, u32)]) -> (CpuState, FlatMemory) {
    let mut cpu = CpuState::at(CODE);
    for &(r, v) in regs {
        cpu.gr[r] = v;
    }
    (cpu, FlatMemory::new(program))
}

/// Runs to the closing `break 0,0`, past branches that report a new
/// space or privilege level after they executed.
fn run_to_break(cpu: &mut CpuState, mem: &mut FlatMemory) {
    let mut interp = Interpreter::new();
    let exit = loop {
        match interp.run(cpu, mem, 100_000) {
            Exit::NewContext => {}
            exit => break exit,
        }
    };
    assert_eq!(exit, Exit::Break { im5: 0, im13: 0 }, "state: {cpu:#x?}");
}

/// Address of instruction `i` of the program.
fn at(i: u32) -> u32 {
    CODE + 4 * i
}

const ADDC_CHAIN: &[u32] = &[
    0x08c40608, //   0: add r4,r6,r8
    0x08a30707, //   4: add,c r3,r5,r7
    0x08c4040a, //   8: sub r4,r6,r10
    0x08a30509, //   c: sub,b r3,r5,r9
    0x00000000, //  10: break 0,0
];
const CONDITIONS: &[u32] = &[
    0x34140000, //   0: ldi 0,r20
    0x08412880, //   4: cmpclr,= r1,rp,r0
    0x34140002, //   8: ldi 1,r20
    0x34150000, //   c: ldi 0,r21
    0x08413880, //  10: cmpclr,<> r1,rp,r0
    0x34150002, //  14: ldi 1,r21
    0x34160000, //  18: ldi 0,r22
    0x08418880, //  1c: cmpclr,<< r1,rp,r0
    0x34160002, //  20: ldi 1,r22
    0x34170000, //  24: ldi 0,r23
    0x08414880, //  28: cmpclr,< r1,rp,r0
    0x34170002, //  2c: ldi 1,r23
    0x34180000, //  30: ldi 0,r24
    0x08418600, //  34: add,nuv r1,rp,r0
    0x34180002, //  38: ldi 1,r24
    0x34190000, //  3c: ldi 0,r25
    0xb460c002, //  40: addi,sv 1,r3,r0
    0x34190002, //  44: ldi 1,r25
    0x341a0000, //  48: ldi 0,r26
    0x0801e240, //  4c: or,od r1,r0,r0
    0x341a0002, //  50: ldi 1,r26
    0x341b0000, //  54: ldi 0,dp
    0xd0203bfc, //  58: extrw,u,= r1,31,4,r0
    0x341b0002, //  5c: ldi 1,dp
    0x341c0000, //  60: ldi 0,ret0
    0x08414380, //  64: uxor,sbz r1,rp,r0
    0x341c0002, //  68: ldi 1,ret0
    0x341d0000, //  6c: ldi 0,ret1
    0x08419400, //  70: sub,>>= r1,rp,r0
    0x341d0002, //  74: ldi 1,ret1
    0x00000000, //  78: break 0,0
];
const SHIFTS: &[u32] = &[
    0xd0231af8, //   0: extrw,u r1,23,8,r3
    0xd0241ff0, //   4: extrw,s r1,31,16,r4
    0xd4a1087c, //   8: depw,z r1,28,4,r5
    0x08020246, //   c: copy rp,r6
    0xd4c10e18, //  10: depw r1,15,8,r6
    0xd0410ae7, //  14: shrpw r1,rp,8,r7
    0x01691840, //  18: mtsar r9
    0xd02a1018, //  1c: extrw,u r1,sar,8,r10
    0xd5610018, //  20: depw,z r1,sar,8,r11
    0xd041000c, //  24: shrpw r1,rp,sar,r12
    0xd5bf1c1c, //  28: depwi -1,31,4,r13
    0x0841068e, //  2c: shladd r1,2,rp,r14
    0x00000000, //  30: break 0,0
];
const BRANCHES: &[u32] = &[
    0x8000200a, //   0: cmpb,=,n r0,r0,c <fwd_taken>
    0x34030002, //   4: ldi 1,r3
    0x34030004, //   8: ldi 2,r3
    0x8800205a, //   c: cmpb,<>,n r0,r0,40 <never>
    0x3404000e, //  10: ldi 7,r4
    0x34060006, //  14: ldi 3,r6
    0xacdf3ff7, //  18: addib,<>,n -1,r6,18 <back>
    0xb4a50002, //  1c: addi 1,r5,r5
    0xe8000002, //  20: b,l,n 28 <skip>,r0
    0x34070012, //  24: ldi 9,r7
    0xe8400010, //  28: b,l 38 <sub1>,rp
    0x3408000a, //  2c: ldi 5,r8
    0xe8000018, //  30: b,l 44 <done>,r0
    0x08000240, //  34: nop
    0xe840c000, //  38: bv r0(rp)
    0x3409000c, //  3c: ldi 6,r9
    0x340a00c6, //  40: ldi 63,r10
    0x00000000, //  44: break 0,0
];
const LINKS: &[u32] = &[
    0xe8400000, //   0: b,l 8 <tgt>,rp
    0x08000240, //   4: nop
    0xe8604000, //   8: blr r0,r3
    0x08000240, //   c: nop
    0x20880000, //  10: ldil L%10000,r4
    0xe4802050, //  14: be,l 28(sr4,r4),sr0,r31
    0x08000240, //  18: nop
    0x08000240, //  1c: nop
    0x08000240, //  20: nop
    0x08000240, //  24: nop
    0x00000000, //  28: break 0,0
];
const MEMORY: &[u32] = &[
    0x0c6830a4, //   0: ldw,mb 4(r3),r4
    0x0c6810a5, //   4: ldw,ma 4(r3),r5
    0x34060004, //   8: ldi 2,r6
    0x0c6620a7, //   c: ldw,sm r6(r3),r7
    0x0c661008, //  10: ldb 3(r3),r8
    0x0c641049, //  14: ldh 2(r3),r9
    0x0c641280, //  18: stw r4,0(r3)
    0x346c0002, //  1c: ldo 1(r3),r12
    0x0d811328, //  20: stby,b,m r1,4(r12)
    0x0c61330c, //  24: stby,e r1,6(r3)
    0x0c6011ca, //  28: ldcw 0(r3),r10
    0x0c71108b, //  2c: ldw -8(r3),r11
    0x00000000, //  30: break 0,0
];
const FAULT: &[u32] = &[
    0x34030002, //   0: ldi 1,r3
    0x0c2830a4, //   4: ldw,mb 4(r1),r4
    0x34030004, //   8: ldi 2,r3
];
const DIVU: &[u32] = &[
    0x0b200401, //   0: sub r0,r25,r1
    0x08200440, //   4: ds r0,r1,r0
    0x0b5a061c, //   8: add r26,r26,ret0
    0x0b200441, //   c: ds r0,r25,r1
    0x0b9c071c, //  10: add,c ret0,ret0,ret0
    0x0b210441, //  14: ds r1,r25,r1
    0x0b9c071c, //  18: add,c ret0,ret0,ret0
    0x0b210441, //  1c: ds r1,r25,r1
    0x0b9c071c, //  20: add,c ret0,ret0,ret0
    0x0b210441, //  24: ds r1,r25,r1
    0x0b9c071c, //  28: add,c ret0,ret0,ret0
    0x0b210441, //  2c: ds r1,r25,r1
    0x0b9c071c, //  30: add,c ret0,ret0,ret0
    0x0b210441, //  34: ds r1,r25,r1
    0x0b9c071c, //  38: add,c ret0,ret0,ret0
    0x0b210441, //  3c: ds r1,r25,r1
    0x0b9c071c, //  40: add,c ret0,ret0,ret0
    0x0b210441, //  44: ds r1,r25,r1
    0x0b9c071c, //  48: add,c ret0,ret0,ret0
    0x0b210441, //  4c: ds r1,r25,r1
    0x0b9c071c, //  50: add,c ret0,ret0,ret0
    0x0b210441, //  54: ds r1,r25,r1
    0x0b9c071c, //  58: add,c ret0,ret0,ret0
    0x0b210441, //  5c: ds r1,r25,r1
    0x0b9c071c, //  60: add,c ret0,ret0,ret0
    0x0b210441, //  64: ds r1,r25,r1
    0x0b9c071c, //  68: add,c ret0,ret0,ret0
    0x0b210441, //  6c: ds r1,r25,r1
    0x0b9c071c, //  70: add,c ret0,ret0,ret0
    0x0b210441, //  74: ds r1,r25,r1
    0x0b9c071c, //  78: add,c ret0,ret0,ret0
    0x0b210441, //  7c: ds r1,r25,r1
    0x0b9c071c, //  80: add,c ret0,ret0,ret0
    0x0b210441, //  84: ds r1,r25,r1
    0x0b9c071c, //  88: add,c ret0,ret0,ret0
    0x0b210441, //  8c: ds r1,r25,r1
    0x0b9c071c, //  90: add,c ret0,ret0,ret0
    0x0b210441, //  94: ds r1,r25,r1
    0x0b9c071c, //  98: add,c ret0,ret0,ret0
    0x0b210441, //  9c: ds r1,r25,r1
    0x0b9c071c, //  a0: add,c ret0,ret0,ret0
    0x0b210441, //  a4: ds r1,r25,r1
    0x0b9c071c, //  a8: add,c ret0,ret0,ret0
    0x0b210441, //  ac: ds r1,r25,r1
    0x0b9c071c, //  b0: add,c ret0,ret0,ret0
    0x0b210441, //  b4: ds r1,r25,r1
    0x0b9c071c, //  b8: add,c ret0,ret0,ret0
    0x0b210441, //  bc: ds r1,r25,r1
    0x0b9c071c, //  c0: add,c ret0,ret0,ret0
    0x0b210441, //  c4: ds r1,r25,r1
    0x0b9c071c, //  c8: add,c ret0,ret0,ret0
    0x0b210441, //  cc: ds r1,r25,r1
    0x0b9c071c, //  d0: add,c ret0,ret0,ret0
    0x0b210441, //  d4: ds r1,r25,r1
    0x0b9c071c, //  d8: add,c ret0,ret0,ret0
    0x0b210441, //  dc: ds r1,r25,r1
    0x0b9c071c, //  e0: add,c ret0,ret0,ret0
    0x0b210441, //  e4: ds r1,r25,r1
    0x0b9c071c, //  e8: add,c ret0,ret0,ret0
    0x0b210441, //  ec: ds r1,r25,r1
    0x0b9c071c, //  f0: add,c ret0,ret0,ret0
    0x0b210441, //  f4: ds r1,r25,r1
    0x0b9c071c, //  f8: add,c ret0,ret0,ret0
    0x0b210441, //  fc: ds r1,r25,r1
    0x0b9c071c, // 100: add,c ret0,ret0,ret0
    0x0b210441, // 104: ds r1,r25,r1
    0x0b9c071c, // 108: add,c ret0,ret0,ret0
    0x00000000, // 10c: break 0,0
];
const LOOP: &[u32] = &[
    0x34030014, //   0: ldi a,r3
    0xb4840002, //   4: addi 1,r4,r4
    0x08832880, //   8: cmpclr,= r3,r4,r0
    0xb4a50002, //   c: addi 1,r5,r5
    0xac7f7fdf, //  10: addib,>,n -1,r3,4 <loop>
    0xb4c60002, //  14: addi 1,r6,r6
    0x00000000, //  18: break 0,0
];
const SYSTEM: &[u32] = &[
    0x34140028, //   0: ldi 14,r20
    0xe4008200, //   4: be,l 100(sr2,r0),sr0,r31
    0x34140080, //   8: ldi 40,r20
    0x020008a5, //   c: mfctl itmr,r5
    0x036008a6, //  10: mfctl tr3,r6
    0x01011840, //  14: mtctl r1,pidr1
];
const FLOAT: &[u32] = &[
    0x30850e08, //   0: fadd,dbl fr4,fr5,fr8
    0x30854e09, //   4: fmpy,dbl fr4,fr5,fr9
    0x30856e0a, //   8: fdiv,dbl fr4,fr5,fr10
    0x3080880b, //   c: fsqrt,dbl fr4,fr11
    0x38c6360c, //  10: fsub,sgl fr6,fr6R,fr12
    0x39400a4c, //  14: fcnvff,dbl,sgl fr10,fr12R
    0x31418a0d, //  18: fcnvfxt,dbl,sgl fr10,fr13
    0x39410a4d, //  1c: fcnvfx,dbl,sgl fr10,fr13R
    0x39a0a28e, //  20: fcnvxf,sgl,dbl fr13R,fr14
    0x39ef5710, //  24: xmpyu fr15,fr15R,fr16
    0x30850c09, //  28: fcmp,dbl,< fr4,fr5
    0x30002420, //  2c: ftest
    0x34030002, //  30: ldi 1,r3
    0x30850c11, //  34: fcmp,dbl,> fr4,fr5
    0x30002420, //  38: ftest
    0x34040002, //  3c: ldi 1,r4
    0x18859111, //  40: fmpyadd,dbl fr4,fr5,fr17,fr4,fr18
    0x00000000, //  44: break 0,0
];
const BENCH: &[u32] = &[
    0x206f40be, //   0: ldil L%5f5e000,r3
    0x34630200, //   4: ldo 100(r3),r3
    0xb4840006, //   8: addi 3,r4,r4
    0x08a40285, //   c: xor r4,r5,r5
    0x08850646, //  10: shladd r5,1,r4,r6
    0xac7f3fdd, //  14: addib,<> -1,r3,8 <loop>
    0xd0c71bf8, //  18: extrw,u r6,31,8,r7
    0x00000000, //  1c: break 0,0
];

proptest! {
    #[test]
    fn add_and_sub_carry_chains_form_64_bit_arithmetic(x: u64, y: u64) {
        let (mut cpu, mut mem) = setup(ADDC_CHAIN, &[
            (3, (x >> 32) as u32), (4, x as u32), (5, (y >> 32) as u32), (6, y as u32),
        ]);
        run_to_break(&mut cpu, &mut mem);
        let sum = (cpu.gr[7] as u64) << 32 | cpu.gr[8] as u64;
        let diff = (cpu.gr[9] as u64) << 32 | cpu.gr[10] as u64;
        prop_assert_eq!(sum, x.wrapping_add(y));
        prop_assert_eq!(diff, x.wrapping_sub(y));
        prop_assert_eq!(cpu.retired, 4);
    }

    #[test]
    fn conditions_nullify_the_next_instruction(
        r1 in prop_oneof![any::<u32>(), 0u32..4, Just(u32::MAX)],
        r2 in prop_oneof![any::<u32>(), 0u32..4, Just(u32::MAX)],
        r3 in prop_oneof![any::<u32>(), Just(i32::MAX as u32)],
    ) {
        let (mut cpu, mut mem) = setup(CONDITIONS, &[(1, r1), (2, r2), (3, r3)]);
        run_to_break(&mut cpu, &mut mem);
        // Each register is 1 iff the instruction after the test executed.
        let executed = |b: bool| b as u32;
        let some_byte_zero = (r1 ^ r2).to_be_bytes().contains(&0);
        prop_assert_eq!(cpu.gr[20], executed(r1 != r2), "comclr,=");
        prop_assert_eq!(cpu.gr[21], executed(r1 == r2), "comclr,<>");
        prop_assert_eq!(cpu.gr[22], executed(r1 >= r2), "comclr,<<");
        prop_assert_eq!(cpu.gr[23], executed((r1 as i32) >= (r2 as i32)), "comclr,<");
        prop_assert_eq!(cpu.gr[24], executed(r1.checked_add(r2).is_none()), "add,nuv");
        prop_assert_eq!(cpu.gr[25], executed(r3 != i32::MAX as u32), "addi,sv");
        prop_assert_eq!(cpu.gr[26], executed(r1 % 2 == 0), "or,od");
        prop_assert_eq!(cpu.gr[27], executed(r1 & 0xf != 0), "extru,=");
        prop_assert_eq!(cpu.gr[28], executed(!some_byte_zero), "uxor,sbz");
        prop_assert_eq!(cpu.gr[29], executed(r1 < r2), "sub,>>=");
    }

    #[test]
    fn extract_deposit_and_shift_pair(r1: u32, r2: u32, sar in 0u32..32) {
        let (mut cpu, mut mem) = setup(SHIFTS, &[(1, r1), (2, r2), (9, sar), (13, 0x100)]);
        run_to_break(&mut cpu, &mut mem);
        let pair = (r1 as u64) << 32 | r2 as u64;
        prop_assert_eq!(cpu.gr[3], (r1 >> 8) & 0xff, "extru r1,23,8");
        prop_assert_eq!(cpu.gr[4], r1 as u16 as i16 as i32 as u32, "extrs r1,31,16");
        prop_assert_eq!(cpu.gr[5], (r1 & 0xf) << 3, "zdep r1,28,4");
        prop_assert_eq!(cpu.gr[6], (r2 & !0x00ff_0000) | (r1 & 0xff) << 16, "dep r1,15,8");
        prop_assert_eq!(cpu.gr[7], (pair >> 8) as u32, "shd r1,r2,8");
        prop_assert_eq!(cpu.cr[11], sar, "mtsar");
        // vextru/zvdep: the field's rightmost bit is at big-endian bit `sar`.
        let len8 = |v: u32| v & 0xff;
        prop_assert_eq!(cpu.gr[10], len8(r1 >> (31 - sar)), "vextru r1,8");
        prop_assert_eq!(cpu.gr[11], len8(r1) << (31 - sar), "zvdep r1,8");
        prop_assert_eq!(cpu.gr[12], (pair >> sar) as u32, "vshd r1,r2");
        prop_assert_eq!(cpu.gr[13], 0x10f, "depi -1,31,4");
        prop_assert_eq!(cpu.gr[14], (r1 << 2).wrapping_add(r2), "sh2add");
    }

    #[test]
    fn divide_step_millicode_divides(dividend: u32, divisor in 1u32..0x8000_0000) {
        let (mut cpu, mut mem) = setup(DIVU, &[(26, dividend), (25, divisor)]);
        run_to_break(&mut cpu, &mut mem);
        prop_assert_eq!(cpu.gr[28], dividend / divisor);
    }

    /// run(a) then run(b) ends where run(a + b) ends.
    #[test]
    fn budgets_compose(a in 0u64..60, b in 0u64..60) {
        let (mut split, mut split_mem) = setup(LOOP, &[]);
        let mut interp = Interpreter::new();
        let first = interp.run(&mut split, &mut split_mem, a);
        if first == Exit::Budget {
            interp.run(&mut split, &mut split_mem, b);
        }
        let (mut whole, mut whole_mem) = setup(LOOP, &[]);
        Interpreter::new().run(&mut whole, &mut whole_mem, a + b);
        prop_assert_eq!(split, whole);
    }
}

#[test]
fn delayed_branches_follow_the_nullification_rules() {
    let (mut cpu, mut mem) = setup(BRANCHES, &[]);
    run_to_break(&mut cpu, &mut mem);
    assert_eq!(cpu.gr[3], 0, "taken forward ,n nullifies the delay slot");
    assert_eq!(cpu.gr[4], 7, "not-taken forward ,n executes the delay slot");
    assert_eq!(
        (cpu.gr[5], cpu.gr[6]),
        (2, 0),
        "taken backward executes it, the fall-through nullifies it"
    );
    assert_eq!(cpu.gr[7], 0, "unconditional ,n nullifies the delay slot");
    assert_eq!(cpu.gr[2], at(12) | 3, "bl links pc+8 with privilege 3");
    assert_eq!(
        (cpu.gr[8], cpu.gr[9]),
        (5, 6),
        "delay slots of bl and bv execute"
    );
    assert_eq!(cpu.gr[10], 0);
    assert_eq!(cpu.retired, 16);
    assert_eq!(cpu.iaoq_front, at(17));
}

#[test]
fn branch_and_link_values() {
    let (mut cpu, mut mem) = setup(LINKS, &[]);
    cpu.sr[4] = 0x55;
    run_to_break(&mut cpu, &mut mem);
    assert_eq!(cpu.gr[2], at(2) | 3, "bl");
    assert_eq!(cpu.gr[3], at(4) | 3, "blr r0,t loads pc+8");
    assert_eq!(cpu.gr[31], at(7) | 3, "ble return offset");
    assert_eq!(cpu.sr[0], 0, "ble return space");
    assert_eq!(cpu.iasq_front, 0x55, "be switches to the target space");
    assert_eq!(cpu.iaoq_front, at(10));
}

#[test]
fn loads_stores_and_base_modification() {
    let (mut cpu, mut mem) = setup(MEMORY, &[(1, 0x1122_3344), (3, DATA + 0x10)]);
    for k in 0..32 {
        mem.set_word(DATA + 4 * k, 0xa000_0000 + k);
    }
    run_to_break(&mut cpu, &mut mem);
    assert_eq!(cpu.gr[4], 0xa000_0005, "ldw,mb uses the updated base");
    assert_eq!(cpu.gr[5], 0xa000_0005, "ldw,ma uses the old base");
    assert_eq!(cpu.gr[7], 0xa000_0006, "ldwx,s,m uses the old base");
    assert_eq!(cpu.gr[3], DATA + 0x20, "bases advanced by 4, 4 and 2·4");
    assert_eq!(
        (cpu.gr[8], cpu.gr[9]),
        (0x08, 0x0008),
        "ldb/ldh zero-extend"
    );
    assert_eq!(cpu.gr[12], DATA + 0x24, "stby,m aligns the new base");
    assert_eq!(
        cpu.gr[10], 0xa022_3344,
        "stby,b wrote bytes 1..3 over the stw"
    );
    assert_eq!(mem.word(DATA + 0x20), 0, "ldcw cleared the word");
    assert_eq!(
        mem.word(DATA + 0x24),
        0x1122_0009,
        "stby,e wrote bytes 0..1"
    );
    assert_eq!(cpu.gr[11], 0xa000_0006);
}

#[test]
fn faulting_load_leaves_the_state_untouched() {
    let (mut cpu, mut mem) = setup(FAULT, &[(1, 0x30000)]);
    let exit = Interpreter::new().run(&mut cpu, &mut mem, 10);
    assert_eq!(
        exit,
        Exit::Fault(MemFault::Unmapped {
            addr: 0x30004,
            access: Access::Read
        })
    );
    let mut expected = CpuState::at(CODE);
    expected.gr[1] = 0x30000;
    expected.gr[3] = 1;
    expected.iaoq_front = at(1);
    expected.iaoq_back = at(2);
    expected.retired = 1;
    assert_eq!(cpu, expected, "base not modified, nothing counted");
}

#[test]
fn gateway_environment_and_privileged_exits() {
    let (mut cpu, mut mem) = setup(SYSTEM, &[]);
    cpu.cr[27] = 0x777;
    let mut interp = Interpreter::new();
    assert_eq!(
        interp.run(&mut cpu, &mut mem, 100),
        Exit::Gateway { offset: 0x100 }
    );
    assert_eq!(cpu.gr[20], 64, "the delay slot ran before the gateway");
    assert_eq!(cpu.gr[31], at(3) | 3);
    assert_eq!(cpu.retired, 3);
    cpu.resume_at(cpu.gr[31]);
    assert_eq!(
        interp.run(&mut cpu, &mut mem, 100),
        Exit::IntervalTimer { t: 5 }
    );
    assert_eq!(cpu.retired, 3, "environment reads stop before executing");
    cpu.gr[5] = 1234;
    cpu.retire_current();
    assert_eq!(
        interp.run(&mut cpu, &mut mem, 100),
        Exit::Privileged { word: SYSTEM[5] }
    );
    assert_eq!(cpu.gr[6], 0x777, "cr27 is user-readable");
    assert_eq!((cpu.retired, cpu.iaoq_front), (5, at(5)));
}

#[test]
fn undecodable_words_and_traps_exit() {
    // 0x04000000: major opcode 0x01 with an unassigned extension.
    let (mut cpu, mut mem) = setup(&[0xffff_ffff], &[]);
    assert_eq!(
        Interpreter::new().run(&mut cpu, &mut mem, 1),
        Exit::Illegal { word: 0xffff_ffff }
    );
    // addi,tsv 1,r3,r4 with r3 = i32::MAX (addio): trap, r4 untouched.
    let (mut cpu, mut mem) = setup(&[0xb4640802], &[(3, i32::MAX as u32), (4, 9)]);
    assert_eq!(
        Interpreter::new().run(&mut cpu, &mut mem, 1),
        Exit::Trap(Trap::Overflow)
    );
    assert_eq!((cpu.gr[4], cpu.retired), (9, 0));
}

/// For every budget, stopping after it equals single-stepping that many
/// counted instructions.
#[test]
fn budget_stops_exactly() {
    let (cpu0, mem0) = setup(LOOP, &[]);
    let mut stepped = cpu0.clone();
    let mut stepped_mem = mem0.clone();
    let mut stepper = Interpreter::new();
    for budget in 0..80 {
        let (mut cpu, mut mem) = (cpu0.clone(), mem0.clone());
        let exit = Interpreter::new().run(&mut cpu, &mut mem, budget);
        if exit != Exit::Budget {
            assert_eq!(exit, Exit::Break { im5: 0, im13: 0 });
            break;
        }
        assert_eq!(cpu.retired, budget);
        assert_eq!(cpu, stepped, "budget {budget}");
        stepper.run(&mut stepped, &mut stepped_mem, 1);
    }
    let (mut cpu, mut mem) = (cpu0.clone(), mem0.clone());
    run_to_break(&mut cpu, &mut mem);
    assert_eq!((cpu.gr[4], cpu.gr[5], cpu.gr[6]), (10, 10, 9));
}

fn dbl(x: f64) -> u64 {
    x.to_bits()
}

fn sgl_pair(hi: f32, lo: f32) -> u64 {
    (hi.to_bits() as u64) << 32 | lo.to_bits() as u64
}

#[test]
fn floating_point_arithmetic_conversions_and_compare() {
    let (mut cpu, mut mem) = setup(FLOAT, &[]);
    cpu.fr[4] = dbl(5.5);
    cpu.fr[5] = dbl(2.0);
    cpu.fr[6] = sgl_pair(1.5, 0.25);
    cpu.fr[15] = 0xffff_ffff_0000_0010;
    cpu.fr[18] = dbl(1.0);
    run_to_break(&mut cpu, &mut mem);
    let f = |r: usize| f64::from_bits(cpu.fr[r]);
    assert_eq!((f(8), f(9), f(10), f(11)), (7.5, 11.0, 2.75, 5.5f64.sqrt()));
    assert_eq!(
        cpu.fr[12] >> 32,
        1.25f32.to_bits() as u64,
        "fsub,sgl into fr12L"
    );
    assert_eq!(
        cpu.fr[12] as u32,
        2.75f32.to_bits(),
        "fcnvff,dbl,sgl into fr12R"
    );
    assert_eq!(cpu.fr[13], 2 << 32 | 3, "fcnvfxt truncates, fcnvfx rounds");
    assert_eq!(f(14), 3.0, "fcnvxf");
    assert_eq!(cpu.fr[16], 0xf_ffff_fff0, "xmpyu");
    assert_eq!(
        (cpu.gr[3], cpu.gr[4]),
        (1, 0),
        "ftest nullifies when C is set"
    );
    assert_eq!((f(17), f(18)), (11.0, 6.5), "fmpyadd");
    let status = (cpu.fr[0] >> 32) as u32;
    assert_ne!(status & 1 << 27, 0, "inexact flag from fsqrt");
    assert_eq!(
        status & (1 << 26 | 1 << 21),
        1 << 26,
        "C = 1, CQ0 = previous C = 0"
    );
}

#[test]
fn fp_trap_when_exception_enabled() {
    // fdiv,dbl fr4,fr5,fr10 with the divide-by-zero enable set.
    let (mut cpu, mut mem) = setup(&FLOAT[2..3], &[]);
    cpu.fr[4] = dbl(1.0);
    cpu.fr[5] = dbl(0.0);
    cpu.fr[0] = 1 << 3 << 32;
    assert_eq!(
        Interpreter::new().run(&mut cpu, &mut mem, 1),
        Exit::Trap(Trap::FpException)
    );
    assert_eq!((cpu.fr[10], cpu.retired), (0, 0));
}

/// Interpreter speed on a simple ALU loop (`cargo test --release -- --ignored --nocapture`).
#[test]
#[ignore]
fn bench_simple_loop() {
    let (mut cpu, mut mem) = setup(BENCH, &[]);
    let mut interp = Interpreter::new();
    let budget = 200_000_000;
    let start = std::time::Instant::now();
    assert_eq!(interp.run(&mut cpu, &mut mem, budget), Exit::Budget);
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{budget} instructions in {secs:.2} s: {:.1} MIPS",
        budget as f64 / secs / 1e6
    );
}

/// fr0 as a source of a computational instruction reads as +0.0 (its left
/// half is the status register); fr0R is an ordinary single register. gcc
/// compares with zero as `fcmp,dbl,= frX,fr0` (torture va-arg-12, complex-3).
#[test]
fn fr0_reads_as_zero_in_computations() {
    const PROGRAM: &[u32] = &[
        0x32c00c04, //  0: fcmp,dbl,= fr22,fr0
        0x30002420, //  4: ftest
        0x34030002, //  8: ldi 1,r3
        0x30004805, //  c: fcpy,dbl fr0,fr5
        0x30800e06, // 10: fadd,dbl fr4,fr0,fr6
        0x38004087, // 14: fcpy,sgl fr0R,fr7
        0x00000000, // 18: break 0,0
    ];
    let (mut cpu, mut mem) = setup(PROGRAM, &[]);
    // A status word of 0 with a nonzero right half: as a double, fr0 would
    // be a tiny nonzero denormal.
    cpu.fr[0] = 1.5f32.to_bits() as u64;
    cpu.fr[4] = dbl(2.5);
    cpu.fr[5] = dbl(9.0);
    cpu.fr[22] = dbl(0.0);
    run_to_break(&mut cpu, &mut mem);
    assert_eq!(cpu.gr[3], 0, "fr22 == 0.0: C set, ldi nullified");
    assert_eq!(cpu.fr[5], 0, "fcpy,dbl fr0 clears");
    assert_eq!(f64::from_bits(cpu.fr[6]), 2.5, "fadd with fr0 adds zero");
    assert_eq!((cpu.fr[7] >> 32) as u32, 1.5f32.to_bits(), "fr0R is a real register");
}

/// ldwm/stwm modify after the access for a positive displacement and before
/// it for a negative one, whatever the displacement's size: frames of 4 KiB
/// and more (torture 20031012-1, pr28982b) push with `stwm r1,FRAME(sp)`.
#[test]
fn word_modify_direction_follows_the_displacement_sign() {
    const PROGRAM: &[u32] = &[
        0x6fc13f80, // 0: stw,mb r1,1fc0(sp)  (objdump's text; it stores at sp)
        0x4fc30081, // 4: ldw,ma -1fc0(sp),r3 (objdump's text; it loads at sp-0x1fc0)
        0x6c811001, // 8: stw,ma r1,-1800(r4) (objdump's text; stores at r4-0x1800)
        0x00000000, // c: break 0,0
    ];
    let (mut cpu, mut mem) = setup(PROGRAM, &[(1, 0xaaaa), (30, DATA + 0x100), (4, DATA + 0x3000)]);
    run_to_break(&mut cpu, &mut mem);
    assert_eq!(mem.word(DATA + 0x100), 0xaaaa, "stwm with +0x1fc0 stores at the old sp");
    assert_eq!((cpu.gr[30], cpu.gr[3]), (DATA + 0x100, 0xaaaa), "ldwm -0x1fc0 pops it again");
    assert_eq!((mem.word(DATA + 0x1800), cpu.gr[4]), (0xaaaa, DATA + 0x1800), "negative: modify before");
}
