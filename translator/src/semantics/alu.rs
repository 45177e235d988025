//! Arithmetic and logical instructions (major opcodes 0x02, 0x24, 0x25,
//! 0x2c, 0x2d): add/sub with carries and traps, compare-and-clear, divide
//! step, logical operations, unit operations and decimal correction.

use hbft_frontend::insn::{AluImmOp, AluOp, Cond, Gr};

use super::{cond, gr, negative, nonzero, shl_imm, shr_imm, Emitter, Event, Flow};

pub(super) fn alu<E: Emitter>(e: &mut E, op: AluOp, c: Cond, r1: Gr, r2: Gr, t: Gr) -> Flow {
    if c.dw {
        // Doubleword conditions are PA 2.0 wide mode only.
        return Err(e.stop(Event::Illegal));
    }
    let a = gr(e, r1);
    let b = gr(e, r2);
    match op {
        AluOp::Add {
            shift,
            carry,
            logical,
            trap_overflow,
        } => add(
            e,
            a,
            b,
            t,
            c,
            AddForm {
                shift: shift as u32,
                carry,
                logical,
                trap_overflow,
                trap_cond: false,
            },
        ),
        AluOp::Sub {
            borrow,
            trap_overflow,
            trap_cond,
        } => sub(
            e,
            a,
            b,
            t,
            c,
            SubForm {
                borrow,
                trap_overflow,
                trap_cond,
            },
        ),
        AluOp::Cmpclr => cmpclr(e, a, b, t, c),
        AluOp::Ds => divide_step(e, a, b, t, c),
        AluOp::Or | AluOp::Xor | AluOp::And | AluOp::Andcm => {
            let res = match op {
                AluOp::Or => e.or(a, b),
                AluOp::Xor => e.xor(a, b),
                AluOp::And => e.and(a, b),
                _ => {
                    let nb = e.not(b);
                    e.and(a, nb)
                }
            };
            let f = cond::logical(e, c.c, c.negate, res);
            e.set_gr(t.0, res);
            e.nullify_next(f);
            Ok(())
        }
        AluOp::Uxor => {
            let res = e.xor(a, b);
            let f = cond::unit_zero(e, c.c, c.negate, res);
            e.set_gr(t.0, res);
            e.nullify_next(f);
            Ok(())
        }
        AluOp::Uaddcm { trap_cond } => {
            let nb = e.not(b);
            unit_add_sub(e, a, nb, true, t, c, trap_cond)
        }
        AluOp::Dcor { intermediate } => {
            // One 6 per digit: dcor subtracts it from digits that produced no
            // carry, dcor,i adds it to digits that did (PA-RISC 1.1, DCOR).
            let cb = e.psw_cb();
            let msb = e.psw_cb_msb();
            let low = shr_imm(e, cb, 4);
            let high = shl_imm(e, msb, 28);
            let digit_carries = e.or(low, high);
            let chosen = if intermediate {
                digit_carries
            } else {
                e.not(digit_carries)
            };
            let m = e.imm(0x1111_1111);
            let ones = e.and(chosen, m);
            let x4 = shl_imm(e, ones, 2);
            let x2 = shl_imm(e, ones, 1);
            let sixes = e.add(x4, x2);
            // The source of `dcor r,t` is in the r2 field.
            unit_add_sub(e, b, sixes, intermediate, t, c, false)
        }
    }
}

pub(super) fn alu_imm<E: Emitter>(
    e: &mut E,
    op: AluImmOp,
    c: Cond,
    imm: i32,
    r: Gr,
    t: Gr,
) -> Flow {
    let k = e.imm(imm as u32);
    let b = gr(e, r);
    match op {
        AluImmOp::Addi {
            trap_overflow,
            trap_cond,
        } => add(
            e,
            k,
            b,
            t,
            c,
            AddForm {
                shift: 0,
                carry: false,
                logical: false,
                trap_overflow,
                trap_cond,
            },
        ),
        AluImmOp::Subi { trap_overflow } => sub(
            e,
            k,
            b,
            t,
            c,
            SubForm {
                borrow: false,
                trap_overflow,
                trap_cond: false,
            },
        ),
        AluImmOp::Cmpiclr => cmpclr(e, k, b, t, c),
    }
}

struct AddForm {
    shift: u32,
    carry: bool,
    logical: bool,
    trap_overflow: bool,
    trap_cond: bool,
}

/// `add`/`shNadd` (+ `,l` `,c` `,tsv`), `addi` (+ `,tsv` `,tc`).
fn add<E: Emitter>(e: &mut E, orig_a: E::Val, b: E::Val, t: Gr, c: Cond, form: AddForm) -> Flow {
    let a = shl_imm(e, orig_a, form.shift);
    let carry_in = if form.carry { e.psw_cb_msb() } else { e.imm(0) };
    let (sum, carry_out) = e.add_carry(a, b, carry_in);
    let sv = add_overflow(e, sum, a, b, orig_a, form.shift);
    if form.trap_overflow {
        e.trap_if(sv, Event::Overflow)?;
    }
    // Unsigned overflow includes the bits shifted out of the top (shNadd).
    let uv_bits = if form.shift == 0 {
        carry_out
    } else {
        let shifted_out = shr_imm(e, orig_a, 32 - form.shift);
        e.or(carry_out, shifted_out)
    };
    let uv = nonzero(e, uv_bits);
    let f = cond::arith(e, c.c, c.negate, sum, uv, sv);
    if form.trap_cond {
        e.trap_if(f, Event::Condition)?;
    }
    if !form.logical {
        let x = e.xor(a, b);
        let cb = e.xor(x, sum);
        e.set_psw_cb(cb, carry_out);
    }
    e.set_gr(t.0, sum);
    if !form.trap_cond {
        e.nullify_next(f);
    }
    Ok(())
}

/// Signed overflow of `sum = a + b` where `a = orig_a << shift`: the usual
/// sign test, or any bit shifted into or through the sign differing from it.
pub(super) fn add_overflow<E: Emitter>(
    e: &mut E,
    sum: E::Val,
    a: E::Val,
    b: E::Val,
    orig_a: E::Val,
    shift: u32,
) -> E::Flag {
    let sa = e.xor(sum, a);
    let ab = e.xor(a, b);
    let nab = e.not(ab);
    let v = e.and(sa, nab);
    let v_add = negative(e, v);
    if shift == 0 {
        return v_add;
    }
    let thirty_one = e.imm(31);
    let sign = e.sar(orig_a, thirty_one);
    let diff = e.xor(sign, orig_a);
    let lost = shr_imm(e, diff, 31 - shift);
    let lost = super::zext(e, lost, shift);
    let v_shift = nonzero(e, lost);
    e.flag_or(v_add, v_shift)
}

struct SubForm {
    borrow: bool,
    trap_overflow: bool,
    trap_cond: bool,
}

/// `a - b` as `a + ~b + 1` (or `+ C` with borrow), the manual's definition,
/// which yields the PSW carry bits.
fn sub<E: Emitter>(e: &mut E, a: E::Val, b: E::Val, t: Gr, c: Cond, form: SubForm) -> Flow {
    let nb = e.not(b);
    let carry_in = if form.borrow {
        e.psw_cb_msb()
    } else {
        e.imm(1)
    };
    let (diff, carry_out) = e.add_carry(a, nb, carry_in);
    let sv = sub_overflow(e, diff, a, b);
    if form.trap_overflow {
        e.trap_if(sv, Event::Overflow)?;
    }
    let f = if form.borrow {
        let no_borrow = nonzero(e, carry_out);
        cond::arith(e, c.c, c.negate, diff, no_borrow, sv)
    } else {
        cond::compare(e, c.c, c.negate, a, b)
    };
    if form.trap_cond {
        e.trap_if(f, Event::Condition)?;
    }
    let x = e.xor(a, nb);
    let cb = e.xor(x, diff);
    e.set_psw_cb(cb, carry_out);
    e.set_gr(t.0, diff);
    if !form.trap_cond {
        e.nullify_next(f);
    }
    Ok(())
}

pub(super) fn sub_overflow<E: Emitter>(e: &mut E, diff: E::Val, a: E::Val, b: E::Val) -> E::Flag {
    let da = e.xor(diff, a);
    let ab = e.xor(a, b);
    let v = e.and(da, ab);
    negative(e, v)
}

/// `cmpclr`/`cmpiclr`: compare, clear the target, nullify on the condition.
fn cmpclr<E: Emitter>(e: &mut E, a: E::Val, b: E::Val, t: Gr, c: Cond) -> Flow {
    let f = cond::compare(e, c.c, c.negate, a, b);
    let zero = e.imm(0);
    e.set_gr(t.0, zero);
    e.nullify_next(f);
    Ok(())
}

/// `ds r1,r2,t`: one step of non-restoring division. The partial remainder
/// is shifted left taking in PSW[C]; r2 is subtracted when PSW[V] is set and
/// added otherwise; V becomes carry xor the sign of r2 (PA-RISC 1.1, DS).
fn divide_step<E: Emitter>(e: &mut E, a: E::Val, b: E::Val, t: Gr, c: Cond) -> Flow {
    let carry = e.psw_cb_msb();
    let doubled = shl_imm(e, a, 1);
    let shifted = e.or(doubled, carry);
    let v = e.psw_v();
    let zero = e.imm(0);
    let v_mask = e.sub(zero, v);
    let operand = e.xor(b, v_mask);
    let (res, carry_out) = e.add_carry(shifted, operand, v);
    let f = if c.c != 0 {
        let sv = add_overflow(e, res, shifted, operand, a, 1);
        let top = shr_imm(e, a, 31);
        let uv_bits = e.or(carry_out, top);
        let uv = nonzero(e, uv_bits);
        cond::arith(e, c.c, c.negate, res, uv, sv)
    } else {
        e.imm_flag(false)
    };
    let x = e.xor(shifted, operand);
    let cb = e.xor(x, res);
    let b_sign = shr_imm(e, b, 31);
    let new_v = e.xor(carry_out, b_sign);
    e.set_psw_cb(cb, carry_out);
    e.set_psw_v(new_v);
    e.set_gr(t.0, res);
    e.nullify_next(f);
    Ok(())
}

/// Unit add (`uaddcm`, `dcor,i`) or subtract (`dcor`) with the unit
/// conditions; PSW C/B is not changed.
fn unit_add_sub<E: Emitter>(
    e: &mut E,
    a: E::Val,
    b: E::Val,
    is_add: bool,
    t: Gr,
    c: Cond,
    trap_cond: bool,
) -> Flow {
    let operand = if is_add { b } else { e.not(b) };
    let carry_in = e.imm(is_add as u32 ^ 1);
    let (res, carry_out) = e.add_carry(a, operand, carry_in);
    let x = e.xor(a, operand);
    let carries_in = e.xor(x, res);
    // Bit i = carry out of bit i.
    let low = shr_imm(e, carries_in, 1);
    let top = shl_imm(e, carry_out, 31);
    let carries_out = e.or(low, top);
    let f = cond::unit(e, c.c, c.negate, res, carries_out);
    if trap_cond {
        e.trap_if(f, Event::Condition)?;
    }
    e.set_gr(t.0, res);
    if !trap_cond {
        e.nullify_next(f);
    }
    Ok(())
}
