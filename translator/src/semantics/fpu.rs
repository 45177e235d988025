//! Floating-point instructions (coprocessor 0, opcodes 0x0c/0x0e, 0x06/0x26
//! fmpyadd/fmpysub, xmpyu). Arithmetic goes through the pure helpers in
//! [`crate::softfp`]; the status word is the high half of fr0.

use hbft_frontend::insn::{FcnvKind, FpBinOp, FpFmt, FpUnOp, Fr};

use crate::fastfp::Op;
use crate::softfp::{self, status, FpHelper};

use super::{nonzero, Emitter, Event, Flow};

/// Single-precision view of a register half: `fr4`/`fr4L` is the high word,
/// `fr4R` the low one.
pub(super) fn read_single<E: Emitter>(e: &mut E, r: Fr) -> E::Val {
    let w = e.fr(r.reg);
    if r.right {
        e.low(w)
    } else {
        e.high(w)
    }
}

pub(super) fn write_single<E: Emitter>(e: &mut E, r: Fr, v: E::Val) {
    let w = e.fr(r.reg);
    let merged = if r.right {
        let hi = e.high(w);
        e.pair(hi, v)
    } else {
        let lo = e.low(w);
        e.pair(v, lo)
    };
    e.set_fr(r.reg, merged);
}

/// A source operand of a computational instruction: fr0 (whose left half
/// is the status register) reads as +0.0 there, so `fcpy,dbl fr0,t` clears
/// `t` and `fcmp fr4,fr0` compares with zero (PA-RISC 1.1 ch. 8; QEMU's
/// load_frd0/load_frw0). fr0R is an ordinary single register. Loads and
/// stores of fr0 move the real status.
fn source_single<E: Emitter>(e: &mut E, r: Fr) -> E::Val {
    if r.reg == 0 && !r.right {
        return e.imm(0);
    }
    read_single(e, r)
}

/// A double source operand; fr0 reads as +0.0 (see [`source_single`]).
fn source_double<E: Emitter>(e: &mut E, reg: u8) -> E::Wide {
    if reg == 0 {
        return zero_wide(e);
    }
    e.fr(reg)
}

/// An operand of format `fmt` as helper input (singles in the low word).
fn operand<E: Emitter>(e: &mut E, fmt: Precision, r: Fr) -> E::Wide {
    match fmt {
        Precision::Single => {
            let v = source_single(e, r);
            let zero = e.imm(0);
            e.pair(zero, v)
        }
        Precision::Double => source_double(e, r.reg),
    }
}

fn write_result<E: Emitter>(e: &mut E, fmt: Precision, t: Fr, v: E::Wide) {
    match fmt {
        Precision::Single => {
            let lo = e.low(v);
            write_single(e, t, lo);
        }
        Precision::Double => e.set_fr(t.reg, v),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Single,
    Double,
}

/// The formats hbft executes: PA-RISC 1.1 single and double (quad is
/// unimplemented on every PA-RISC processor and traps to software).
fn precision(fmt: FpFmt) -> Option<Precision> {
    match fmt {
        FpFmt::Sgl => Some(Precision::Single),
        FpFmt::Dbl => Some(Precision::Double),
        FpFmt::Reserved | FpFmt::Quad => None,
    }
}

fn zero_wide<E: Emitter>(e: &mut E) -> E::Wide {
    let z = e.imm(0);
    e.pair(z, z)
}

fn status_word<E: Emitter>(e: &mut E) -> E::Val {
    let fr0 = e.fr(0);
    e.high(fr0)
}

fn set_status_word<E: Emitter>(e: &mut E, st: E::Val) {
    let fr0 = e.fr(0);
    let lo = e.low(fr0);
    let w = e.pair(st, lo);
    e.set_fr(0, w);
}

/// An arithmetic helper; double-precision ones with a fast path name the
/// operation (see [`Emitter::call_fp_double`]).
#[derive(Clone, Copy)]
enum Helper {
    Double(Op, FpHelper),
    Other(FpHelper),
}

/// Calls `helper` on the current status; traps before any write if an
/// enabled exception was raised; returns the result and the new status.
fn call<E: Emitter>(
    e: &mut E,
    helper: Helper,
    st: E::Val,
    a: E::Wide,
    b: E::Wide,
) -> Result<(E::Wide, E::Val), super::Stopped> {
    let (r, new_st, trap) = match helper {
        Helper::Double(op, f) => e.call_fp_double(op, f, st, a, b),
        Helper::Other(f) => e.call_fp(f, st, a, b, 0),
    };
    let trapped = nonzero(e, trap);
    e.trap_if(trapped, Event::FpException)?;
    Ok((r, new_st))
}

/// Runs `helper` on `a`, `b` and writes the status, then the result.
fn arith<E: Emitter>(
    e: &mut E,
    helper: Helper,
    a: E::Wide,
    b: E::Wide,
    fmt: Precision,
    t: Fr,
) -> Flow {
    let st = status_word(e);
    let (r, new_st) = call(e, helper, st, a, b)?;
    set_status_word(e, new_st);
    write_result(e, fmt, t, r);
    Ok(())
}

pub(super) fn unary<E: Emitter>(e: &mut E, op: FpUnOp, fmt: FpFmt, r: Fr, t: Fr) -> Flow {
    let Some(fmt) = precision(fmt) else {
        return Err(e.stop(Event::Illegal));
    };
    let helper = match (op, fmt) {
        (FpUnOp::Sqrt, Precision::Single) => Helper::Other(softfp::fsqrt_s),
        (FpUnOp::Sqrt, Precision::Double) => Helper::Double(Op::Sqrt, softfp::fsqrt_d),
        (FpUnOp::Rnd, Precision::Single) => Helper::Other(softfp::frnd_s),
        (FpUnOp::Rnd, Precision::Double) => Helper::Other(softfp::frnd_d),
        _ => return sign_op(e, op, fmt, r, t),
    };
    let a = operand(e, fmt, r);
    let unused = zero_wide(e);
    arith(e, helper, a, unused, fmt, t)
}

/// fcpy/fabs/fneg/fnegabs: sign-bit operations that raise no exceptions.
fn sign_op<E: Emitter>(e: &mut E, op: FpUnOp, fmt: Precision, r: Fr, t: Fr) -> Flow {
    let (high, low) = match fmt {
        Precision::Single => (source_single(e, r), None),
        Precision::Double => {
            let w = source_double(e, r.reg);
            (e.high(w), Some(e.low(w)))
        }
    };
    let sign = e.imm(0x8000_0000);
    let high = match op {
        FpUnOp::Abs => {
            let m = e.not(sign);
            e.and(high, m)
        }
        FpUnOp::Neg => e.xor(high, sign),
        FpUnOp::NegAbs => e.or(high, sign),
        _ => high,
    };
    match low {
        None => write_single(e, t, high),
        Some(low) => {
            let w = e.pair(high, low);
            e.set_fr(t.reg, w);
        }
    }
    Ok(())
}

pub(super) fn binary<E: Emitter>(
    e: &mut E,
    op: FpBinOp,
    fmt: FpFmt,
    r1: Fr,
    r2: Fr,
    t: Fr,
) -> Flow {
    let Some(fmt) = precision(fmt) else {
        return Err(e.stop(Event::Illegal));
    };
    let helper = match binary_helper(op, fmt) {
        Some(h) => h,
        // frem is not implemented in PA-RISC hardware either (it traps to
        // the kernel's emulation, which Linux does not provide).
        None => return Err(e.stop(Event::Illegal)),
    };
    let a = operand(e, fmt, r1);
    let b = operand(e, fmt, r2);
    arith(e, helper, a, b, fmt, t)
}

fn binary_helper(op: FpBinOp, fmt: Precision) -> Option<Helper> {
    let single = fmt == Precision::Single;
    Some(match op {
        FpBinOp::Add if single => Helper::Other(softfp::fadd_s),
        FpBinOp::Add => Helper::Double(Op::Add, softfp::fadd_d),
        FpBinOp::Sub if single => Helper::Other(softfp::fsub_s),
        FpBinOp::Sub => Helper::Double(Op::Sub, softfp::fsub_d),
        FpBinOp::Mpy if single => Helper::Other(softfp::fmpy_s),
        FpBinOp::Mpy => Helper::Double(Op::Mul, softfp::fmpy_d),
        FpBinOp::Div if single => Helper::Other(softfp::fdiv_s),
        FpBinOp::Div => Helper::Double(Op::Div, softfp::fdiv_d),
        FpBinOp::Rem => return None,
    })
}

/// fcnvff/fcnvxf/fcnvfx/fcnvfxt. Fixed-point formats: "sgl" is a 32-bit
/// integer in a register half, "dbl" a 64-bit integer in a whole register.
pub(super) fn convert<E: Emitter>(
    e: &mut E,
    kind: FcnvKind,
    src: FpFmt,
    dst: FpFmt,
    r: Fr,
    t: Fr,
) -> Flow {
    let (Some(from), Some(to)) = (precision(src), precision(dst)) else {
        return Err(e.stop(Event::Illegal));
    };
    use Precision::{Double as D, Single as S};
    let helper: FpHelper = match (kind, from, to) {
        (FcnvKind::FloatFloat, S, D) => softfp::fcnv_s_d,
        (FcnvKind::FloatFloat, D, S) => softfp::fcnv_d_s,
        (FcnvKind::FloatFloat, _, _) => return Err(e.stop(Event::Illegal)),
        (FcnvKind::FixFloat, S, S) => softfp::fcnv_w_s,
        (FcnvKind::FixFloat, S, D) => softfp::fcnv_w_d,
        (FcnvKind::FixFloat, D, S) => softfp::fcnv_dw_s,
        (FcnvKind::FixFloat, D, D) => softfp::fcnv_dw_d,
        (FcnvKind::FloatFix, S, S) => softfp::fcnv_s_w,
        (FcnvKind::FloatFix, D, S) => softfp::fcnv_d_w,
        (FcnvKind::FloatFix, S, D) => softfp::fcnv_s_dw,
        (FcnvKind::FloatFix, D, D) => softfp::fcnv_d_dw,
        (FcnvKind::FloatFixTrunc, S, S) => softfp::fcnvt_s_w,
        (FcnvKind::FloatFixTrunc, D, S) => softfp::fcnvt_d_w,
        (FcnvKind::FloatFixTrunc, S, D) => softfp::fcnvt_s_dw,
        (FcnvKind::FloatFixTrunc, D, D) => softfp::fcnvt_d_dw,
    };
    let a = operand(e, from, r);
    let unused = zero_wide(e);
    arith(e, Helper::Other(helper), a, unused, to, t)
}

/// `fcmp,fmt,cond r1,r2`: sets C (shifting the old C into the queue), or a
/// targeted CA bit in the PA 2.0 form.
pub(super) fn compare<E: Emitter>(
    e: &mut E,
    fmt: FpFmt,
    cond: u8,
    r1: Fr,
    r2: Fr,
    cbit: u8,
) -> Flow {
    let Some(fmt) = precision(fmt) else {
        return Err(e.stop(Event::Illegal));
    };
    let helper: FpHelper = if fmt == Precision::Single {
        softfp::fcmp_s
    } else {
        softfp::fcmp_d
    };
    let a = operand(e, fmt, r1);
    let b = operand(e, fmt, r2);
    let st = status_word(e);
    let (_, new_st, trap) = e.call_fp(helper, st, a, b, (cond as u32 & 0x1f) | (cbit as u32) << 8);
    let trapped = nonzero(e, trap);
    e.trap_if(trapped, Event::FpException)?;
    set_status_word(e, new_st);
    Ok(())
}

/// `ftest`: nullify the next instruction if C is set. The PA 2.0 queue
/// tests (`,acc`, `,rej`, …) and the targeted form are not executed.
pub(super) fn ftest<E: Emitter>(e: &mut E, cond: u8, queue: Option<u8>) -> Flow {
    if cond != 0 || queue.is_some() {
        return Err(e.stop(Event::Illegal));
    }
    let st = status_word(e);
    let c = e.imm(status::C);
    let bit = e.and(st, c);
    let set = nonzero(e, bit);
    e.nullify_next(set);
    Ok(())
}

/// `xmpyu r1,r2,t`: unsigned 32×32→64 multiply of two register halves.
pub(super) fn xmpyu<E: Emitter>(e: &mut E, r1: Fr, r2: Fr, t: Fr) -> Flow {
    let a = source_single(e, r1);
    let b = source_single(e, r2);
    let p = e.mul_wide(a, b);
    e.set_fr(t.reg, p);
    Ok(())
}

/// `fmpyadd`/`fmpysub`: `tm = rm1 * rm2` and `ta = ta ± ra`, both from the
/// operands as they were before the instruction.
pub(super) fn mpy_add_sub<E: Emitter>(
    e: &mut E,
    sub: bool,
    dbl: bool,
    [rm1, rm2, tm]: [Fr; 3],
    [ra, ta]: [Fr; 2],
) -> Flow {
    let fmt = if dbl {
        Precision::Double
    } else {
        Precision::Single
    };
    let m1 = operand(e, fmt, rm1);
    let m2 = operand(e, fmt, rm2);
    let a1 = operand(e, fmt, ta);
    let a2 = operand(e, fmt, ra);
    let mpy = binary_helper(FpBinOp::Mpy, fmt).expect("multiply has a helper");
    let addsub = binary_helper(if sub { FpBinOp::Sub } else { FpBinOp::Add }, fmt)
        .expect("add/sub have helpers");
    let st = status_word(e);
    let (product, st) = call(e, mpy, st, m1, m2)?;
    let (sum, st) = call(e, addsub, st, a1, a2)?;
    set_status_word(e, st);
    write_result(e, fmt, tm, product);
    write_result(e, fmt, ta, sum);
    Ok(())
}

/// `fid`: identifies the FPU in fr0 (the PA7300LC value QEMU reports).
pub(super) fn fid<E: Emitter>(e: &mut E) -> Flow {
    let hi = e.imm(0x000f_0800);
    let lo = e.imm(0);
    let w = e.pair(hi, lo);
    e.set_fr(0, w);
    Ok(())
}
