//! PA-RISC semantics, written once.
//!
//! [`translate`] expresses what one instruction does through the [`Emitter`]
//! trait. The interpreter implements the trait with plain integers and
//! evaluates each call immediately; the JIT implements it with Cranelift
//! values and emits code. Neither engine contains instruction semantics of
//! its own.
//!
//! Rules every function in this module follows, so that both engines can be
//! precise without buffering state:
//! - all source operands are read before the first architectural write;
//! - every operation that can stop the instruction (a memory access that may
//!   fault, a trap, an environment read) happens before the first
//!   architectural write, so stopping leaves the state exactly as it was
//!   before the instruction. A stop is returned as `Err(Stopped)` and
//!   propagated with `?`;
//! - data-dependent behaviour goes through flags and [`Emitter::select`], or
//!   through the emitter's control-flow calls ([`Emitter::branch`],
//!   [`Emitter::nullify_next`], [`Emitter::trap_if`]), all of which lower to
//!   Cranelift blocks.
//!
//! The manual's big-endian bit numbering (bit 0 = most significant) appears
//! in extract/deposit/`bb`; conversions to shift counts are commented where
//! they happen.

mod alu;
mod branch;
mod cond;
mod fpu;
mod memory;
mod shift;
mod system;

use hbft_frontend::insn::{Gr, Insn};

use branch::Target;
use shift::Field;

pub use crate::softfp::FpHelper;
use crate::fastfp::Op;

/// Returned (as `Err`) when the instruction stopped before completing: the
/// emitter has recorded why (a fault or an [`Event`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped;

/// Outcome of translating one instruction.
pub type Flow = Result<(), Stopped>;

/// Why an instruction stops execution instead of completing. The CPU state
/// is left exactly as before the instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// `break im5,im13` (Linux: SIGTRAP).
    Break { im5: u8, im13: u16 },
    /// Trap on signed overflow (`,tsv` forms; Linux: SIGFPE).
    Overflow,
    /// Trap on condition (`,tc` forms; Linux: SIGFPE).
    Condition,
    /// An enabled IEEE floating-point exception (assist exception trap).
    FpException,
    /// A privileged operation or register in user mode (Linux: SIGILL).
    Privileged,
    /// An instruction hbft does not execute in user mode (Linux: SIGILL).
    Illegal,
    /// `mfctl cr16,t`: the interval timer is an environment read; the
    /// runtime supplies the value for GR `t`.
    IntervalTimer { t: u8 },
    /// `probe{r,w}[i] (s,b),x|i,t`: whether a user-mode (privilege 3) read or
    /// write of the address in GR `base` would be allowed depends on the page
    /// tables, which only the runtime knows; it writes 1 or 0 to GR `t`.
    Probe { write: bool, base: u8, t: u8 },
    /// `b,gate` with code translation on: the promotion depends on the
    /// access rights of the page the gate executes from, which only the
    /// runtime's TLB knows. Not a stop: the interpreter performs the branch
    /// and reports it (translated code leaves to the interpreter for it).
    Gate,
    /// A branch that changes the privilege level or the instruction space.
    /// Not a stop: the interpreter performs it and reports it, so a runtime
    /// whose address translation depends on them (system mode) can drop
    /// code it cached for the old context. User mode never changes either.
    NewContext,
}

/// Integer comparisons producing a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Ne,
    /// Signed less than.
    Lt,
    /// Signed less than or equal.
    Le,
    /// Unsigned less than.
    Ltu,
    /// Unsigned less than or equal.
    Leu,
}

/// Width of an integer memory access of at most 32 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    Byte,
    Half,
    Word,
}

impl Width {
    /// Log2 of the access size in bytes (the scaled-index shift).
    pub fn log2(self) -> u32 {
        match self {
            Width::Byte => 0,
            Width::Half => 1,
            Width::Word => 2,
        }
    }
}

/// The primitive operations instruction semantics are written in.
///
/// `Val` is a 32-bit integer, `Wide` a 64-bit one (floating-point registers,
/// products), `Flag` a boolean. Shift and rotate amounts are taken modulo 32.
pub trait Emitter {
    type Val: Copy;
    type Wide: Copy;
    type Flag: Copy;

    // Constants.
    fn imm(&mut self, v: u32) -> Self::Val;
    fn imm_flag(&mut self, b: bool) -> Self::Flag;

    // Architectural state.
    /// General register; `r0` reads as zero.
    fn gr(&mut self, r: u8) -> Self::Val;
    /// Writes a general register; writes to `r0` are discarded.
    fn set_gr(&mut self, r: u8, v: Self::Val);
    fn fr(&mut self, r: u8) -> Self::Wide;
    fn set_fr(&mut self, r: u8, v: Self::Wide);
    fn sr(&mut self, r: u8) -> Self::Val;
    fn set_sr(&mut self, r: u8, v: Self::Val);
    fn cr(&mut self, r: u8) -> Self::Val;
    fn set_cr(&mut self, r: u8, v: Self::Val);
    /// PSW C/B as the carry-in vector of the last carry-producing operation
    /// (bit i = carry into bit i).
    fn psw_cb(&mut self) -> Self::Val;
    /// Carry out of bit 31 of the last carry-producing operation (0 or 1).
    fn psw_cb_msb(&mut self) -> Self::Val;
    fn set_psw_cb(&mut self, cb: Self::Val, msb: Self::Val);
    /// PSW V (0 or 1).
    fn psw_v(&mut self) -> Self::Val;
    fn set_psw_v(&mut self, v: Self::Val);
    /// Offset of the second instruction-address-queue entry (the address of
    /// the instruction that follows the current one).
    fn iaoq_back(&mut self) -> Self::Val;
    /// Space of the second instruction-address-queue entry.
    fn iasq_back(&mut self) -> Self::Val;
    /// The system bits of the PSW (`CpuState::psw`).
    fn psw(&mut self) -> Self::Val;
    /// The virtual privilege level (0..=3).
    fn priv_level(&mut self) -> Self::Val;
    fn set_priv_level(&mut self, pl: Self::Val);

    // Integer arithmetic.
    fn add(&mut self, a: Self::Val, b: Self::Val) -> Self::Val;
    /// `a + b + carry_in` (carry_in 0 or 1), returning the sum and the carry
    /// out of bit 31 (0 or 1).
    fn add_carry(
        &mut self,
        a: Self::Val,
        b: Self::Val,
        carry_in: Self::Val,
    ) -> (Self::Val, Self::Val);
    fn sub(&mut self, a: Self::Val, b: Self::Val) -> Self::Val;
    fn and(&mut self, a: Self::Val, b: Self::Val) -> Self::Val;
    fn or(&mut self, a: Self::Val, b: Self::Val) -> Self::Val;
    fn xor(&mut self, a: Self::Val, b: Self::Val) -> Self::Val;
    fn not(&mut self, a: Self::Val) -> Self::Val;
    fn shl(&mut self, a: Self::Val, n: Self::Val) -> Self::Val;
    /// Logical shift right.
    fn shr(&mut self, a: Self::Val, n: Self::Val) -> Self::Val;
    /// Arithmetic shift right.
    fn sar(&mut self, a: Self::Val, n: Self::Val) -> Self::Val;
    fn rotr(&mut self, a: Self::Val, n: Self::Val) -> Self::Val;
    /// Unsigned 32×32→64 multiply.
    fn mul_wide(&mut self, a: Self::Val, b: Self::Val) -> Self::Wide;

    // Flags.
    fn cmp(&mut self, c: Cmp, a: Self::Val, b: Self::Val) -> Self::Flag;
    fn flag_and(&mut self, a: Self::Flag, b: Self::Flag) -> Self::Flag;
    fn flag_or(&mut self, a: Self::Flag, b: Self::Flag) -> Self::Flag;
    fn flag_not(&mut self, a: Self::Flag) -> Self::Flag;
    fn select(&mut self, f: Self::Flag, if_true: Self::Val, if_false: Self::Val) -> Self::Val;
    /// 1 if the flag is set, else 0.
    fn flag_val(&mut self, f: Self::Flag) -> Self::Val;

    // 64-bit pairs.
    fn pair(&mut self, high: Self::Val, low: Self::Val) -> Self::Wide;
    fn high(&mut self, w: Self::Wide) -> Self::Val;
    fn low(&mut self, w: Self::Wide) -> Self::Val;

    // Guest memory (big-endian; a fault stops the instruction).
    /// Loads 1, 2 or 4 bytes, zero-extended.
    fn load(&mut self, w: Width, addr: Self::Val) -> Result<Self::Val, Stopped>;
    fn load_wide(&mut self, addr: Self::Val) -> Result<Self::Wide, Stopped>;
    /// Stores the low 1, 2 or 4 bytes of `v`.
    fn store(&mut self, w: Width, addr: Self::Val, v: Self::Val) -> Flow;
    fn store_wide(&mut self, addr: Self::Val, v: Self::Wide) -> Flow;

    /// Calls a pure floating-point helper: (status word, operands, static
    /// parameter) → (result, new status word, trap: nonzero when an enabled
    /// exception was raised).
    fn call_fp(
        &mut self,
        f: FpHelper,
        status: Self::Val,
        a: Self::Wide,
        b: Self::Wide,
        param: u32,
    ) -> (Self::Wide, Self::Val, Self::Val);

    /// [`Emitter::call_fp`] of `f`, the double-precision arithmetic helper
    /// computing `_op`: an emitter may compute the result inline where
    /// [`crate::fastfp`] proves the host's the same (`softfp::fast_arith`).
    fn call_fp_double(
        &mut self,
        _op: Op,
        f: FpHelper,
        status: Self::Val,
        a: Self::Wide,
        b: Self::Wide,
    ) -> (Self::Wide, Self::Val, Self::Val) {
        self.call_fp(f, status, a, b, 0)
    }

    // Control.
    /// The instruction after the next one is at `target` (a taken branch;
    /// without one it is the next one's successor, `iaoq_back + 4`).
    fn branch(&mut self, target: Self::Val);
    /// Like [`Emitter::branch`] when `taken` is set.
    fn branch_if(&mut self, taken: Self::Flag, target: Self::Val);
    /// ... and in space `space` (`be`).
    fn branch_space(&mut self, space: Self::Val);
    /// Nullify the next instruction if `f` is set.
    fn nullify_next(&mut self, f: Self::Flag);
    /// Stop with `ev` if `f` is set.
    fn trap_if(&mut self, f: Self::Flag, ev: Event) -> Flow;
    /// Stop with `ev`.
    fn stop(&mut self, ev: Event) -> Stopped;
    /// Guest instruction-cache flush of the line holding `addr` (`fic`):
    /// decoded or translated code for it must be dropped.
    fn flush_icache(&mut self, addr: Self::Val);
}

/// Expresses the semantics of `insn`, located at `pc`, through `e`.
#[inline]
pub fn translate<E: Emitter>(e: &mut E, insn: &Insn, pc: u32) -> Flow {
    match *insn {
        Insn::Alu {
            op,
            cond,
            r1,
            r2,
            t,
        } => alu::alu(e, op, cond, r1, r2, t),
        Insn::AluImm {
            op,
            cond,
            imm,
            r,
            t,
        } => alu::alu_imm(e, op, cond, imm, r, t),
        Insn::Ldil { imm, t } => {
            let v = e.imm(imm);
            e.set_gr(t.0, v);
            Ok(())
        }
        Insn::Addil { imm, r } => {
            let base = e.gr(r.0);
            let k = e.imm(imm);
            let v = e.add(base, k);
            e.set_gr(1, v);
            Ok(())
        }
        Insn::Ldo { disp, base, t, .. } => {
            let b = e.gr(base.0);
            let k = e.imm(disp as u32);
            let v = e.add(b, k);
            e.set_gr(t.0, v);
            Ok(())
        }
        Insn::Shrp {
            dw,
            cond,
            r1,
            r2,
            amount,
            t,
        } => shift::shrp(e, dw, cond, r1, r2, amount, t),
        Insn::Extract {
            dw,
            signed,
            cond,
            r,
            pos,
            len,
            t,
        } => shift::extract(e, dw, signed, cond, r, Field { pos, len }, t),
        Insn::Deposit {
            dw,
            zero,
            cond,
            src,
            pos,
            len,
            t,
        } => shift::deposit(e, dw, zero, cond, src, Field { pos, len }, t),
        Insn::Load {
            kind,
            size,
            addr,
            t,
            ..
        } => memory::load(e, kind, size, addr, t),
        Insn::Store {
            kind,
            size,
            r,
            addr,
            ..
        } => memory::store(e, kind, size, r, addr),
        Insn::StoreBytes {
            dw,
            end,
            modify,
            r,
            disp,
            space: _,
            base,
            ..
        } => memory::store_bytes(e, dw, end, modify, r, disp, base),
        Insn::FpMem {
            store,
            dbl,
            r,
            addr,
            ..
        } => memory::fp_mem(e, store, dbl, r, addr),
        Insn::BranchLink {
            kind,
            disp,
            link,
            nullify,
            ..
        } => branch::branch_link(e, kind, disp, link, nullify, pc),
        Insn::Blr { x, link, nullify } => branch::blr(e, x, link, nullify, pc),
        Insn::Bv { x, base, nullify } => branch::bv(e, x, base, nullify),
        Insn::Bve {
            link,
            base,
            nullify,
            ..
        } => branch::bve(e, link, base, nullify),
        Insn::Be {
            link,
            disp,
            sr,
            base,
            nullify,
        } => branch::be(e, link, disp, sr, base, nullify),
        Insn::CmpBranch {
            cond,
            src,
            r2,
            disp,
            nullify,
        } => branch::cmp_branch(e, cond, src, r2, Target { pc, disp, nullify }),
        Insn::AddBranch {
            cond,
            src,
            r2,
            disp,
            nullify,
        } => branch::add_branch(e, cond, src, r2, Target { pc, disp, nullify }),
        Insn::Bb {
            cond,
            dw,
            r,
            pos,
            disp,
            nullify,
        } => branch::bb(e, cond, dw, r, pos, Target { pc, disp, nullify }),
        Insn::MovBranch {
            cond,
            src,
            r2,
            disp,
            nullify,
        } => branch::mov_branch(e, cond, src, r2, Target { pc, disp, nullify }),
        Insn::FpUnary { op, fmt, r, t, .. } => fpu::unary(e, op, fmt, r, t),
        Insn::FpBinary {
            op, fmt, r1, r2, t, ..
        } => fpu::binary(e, op, fmt, r1, r2, t),
        Insn::Fcnv {
            kind,
            src,
            dst,
            r,
            t,
            ..
        } => fpu::convert(e, kind, src, dst, r, t),
        Insn::Fcmp {
            fmt,
            cond,
            r1,
            r2,
            cbit,
            ..
        } => fpu::compare(e, fmt, cond, r1, r2, cbit),
        Insn::Ftest { cond, queue } => fpu::ftest(e, cond, queue),
        Insn::Xmpyu { r1, r2, t } => fpu::xmpyu(e, r1, r2, t),
        Insn::FmpyAddSub {
            sub,
            dbl,
            rm1,
            rm2,
            tm,
            ra,
            ta,
        } => fpu::mpy_add_sub(e, sub, dbl, [rm1, rm2, tm], [ra, ta]),
        Insn::Fid => fpu::fid(e),
        _ => system::system(e, insn, pc),
    }
}

/// `v` with its low `bits` bits kept (static width, 1..=32).
fn zext<E: Emitter>(e: &mut E, v: E::Val, bits: u32) -> E::Val {
    if bits >= 32 {
        return v;
    }
    let m = e.imm((1u32 << bits) - 1);
    e.and(v, m)
}

/// `v`'s low `bits` bits sign-extended (static width, 1..=32).
fn sext<E: Emitter>(e: &mut E, v: E::Val, bits: u32) -> E::Val {
    if bits >= 32 {
        return v;
    }
    let n = e.imm(32 - bits);
    let up = e.shl(v, n);
    e.sar(up, n)
}

/// Shift left by a static amount.
fn shl_imm<E: Emitter>(e: &mut E, v: E::Val, n: u32) -> E::Val {
    if n == 0 {
        return v;
    }
    let k = e.imm(n);
    e.shl(v, k)
}

/// Logical shift right by a static amount.
fn shr_imm<E: Emitter>(e: &mut E, v: E::Val, n: u32) -> E::Val {
    if n == 0 {
        return v;
    }
    let k = e.imm(n);
    e.shr(v, k)
}

/// Adds a static constant.
fn add_imm<E: Emitter>(e: &mut E, v: E::Val, k: u32) -> E::Val {
    let k = e.imm(k);
    e.add(v, k)
}

/// Flag: `v != 0`.
fn nonzero<E: Emitter>(e: &mut E, v: E::Val) -> E::Flag {
    let z = e.imm(0);
    e.cmp(Cmp::Ne, v, z)
}

/// Flag: bit 31 of `v` is set.
fn negative<E: Emitter>(e: &mut E, v: E::Val) -> E::Flag {
    let z = e.imm(0);
    e.cmp(Cmp::Lt, v, z)
}

/// Reads a general register.
fn gr<E: Emitter>(e: &mut E, r: Gr) -> E::Val {
    e.gr(r.0)
}
