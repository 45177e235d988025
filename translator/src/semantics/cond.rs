//! The condition tables of PA-RISC 1.1 (ch. 5, "Conditions"): arithmetic
//! (compare/subtract and add share one table once expressed through the carry
//! out), logical, unit, and the 3-bit shift/extract/deposit conditions.

use super::{negative, nonzero, Cmp, Emitter};

/// The arithmetic condition `c` (0..7, before negation) of a result `res`
/// with carry out `carry` and signed overflow `sv`:
/// never, =, <, <=, NUV (<< for compares), ZNV (<<=), SV, OD.
/// For a subtraction `a - b` the carry out is "no borrow" (a >= b unsigned),
/// which makes the compare table and the add table the same formulas.
pub(super) fn arith<E: Emitter>(
    e: &mut E,
    c: u8,
    negate: bool,
    res: E::Val,
    carry: E::Flag,
    sv: E::Flag,
) -> E::Flag {
    let f = match c & 7 {
        0 => e.imm_flag(false),
        1 => zero(e, res),
        2 => less(e, res, sv),
        3 => {
            let lt = less(e, res, sv);
            let z = zero(e, res);
            e.flag_or(lt, z)
        }
        4 => e.flag_not(carry),
        5 => {
            let nc = e.flag_not(carry);
            let z = zero(e, res);
            e.flag_or(nc, z)
        }
        6 => sv,
        _ => odd(e, res),
    };
    negated(e, f, negate)
}

/// The arithmetic condition `c` of the subtraction `a - b` (without
/// borrow), as the comparisons the compare table
/// names (PA-RISC 1.1, table 5-3: =, <, <=, <<, <<=): N xor V of `a - b` is
/// signed `a < b`, its carry out is unsigned `a >= b`. Only SV and OD look
/// at the difference.
pub(super) fn compare<E: Emitter>(e: &mut E, c: u8, negate: bool, a: E::Val, b: E::Val) -> E::Flag {
    let f = match c & 7 {
        0 => e.imm_flag(false),
        1 => e.cmp(Cmp::Eq, a, b),
        2 => e.cmp(Cmp::Lt, a, b),
        3 => e.cmp(Cmp::Le, a, b),
        4 => e.cmp(Cmp::Ltu, a, b),
        5 => e.cmp(Cmp::Leu, a, b),
        6 => {
            let diff = e.sub(a, b);
            super::alu::sub_overflow(e, diff, a, b)
        }
        _ => {
            let diff = e.sub(a, b);
            odd(e, diff)
        }
    };
    negated(e, f, negate)
}

/// Logical conditions: never, =, <, <=, (undefined ×3, treated as never), OD.
pub(super) fn logical<E: Emitter>(e: &mut E, c: u8, negate: bool, res: E::Val) -> E::Flag {
    let f = match c & 7 {
        1 => zero(e, res),
        2 => negative(e, res),
        3 => {
            let z = e.imm(0);
            e.cmp(Cmp::Le, res, z)
        }
        7 => odd(e, res),
        _ => e.imm_flag(false),
    };
    negated(e, f, negate)
}

/// The 3-bit shift/extract/deposit condition: never, =, <, OD, TR, <>, >=, EV
/// (4..7 are the negations of 0..3).
pub(super) fn shift<E: Emitter>(e: &mut E, c: u8, res: E::Val) -> E::Flag {
    let base = match c & 3 {
        3 => 7,
        other => other,
    };
    logical(e, base, c & 4 != 0, res)
}

/// Unit conditions on a result alone (`uxor`, and the zero tests of
/// `uaddcm`/`dcor`): SBZ (some byte zero), SHZ (some halfword zero); the
/// others are never/always here.
pub(super) fn unit_zero<E: Emitter>(e: &mut E, c: u8, negate: bool, res: E::Val) -> E::Flag {
    let ones = match c & 7 {
        2 => 0x0101_0101u32,
        3 => 0x0001_0001,
        _ => {
            let never = e.imm_flag(false);
            return negated(e, never, negate);
        }
    };
    // (res - ones) & !res has a lane's sign bit set iff that lane is zero
    // (the classic "has zero byte" test; a borrow only starts at a zero lane).
    let k = e.imm(ones);
    let minus = e.sub(res, k);
    let inv = e.not(res);
    let t = e.and(minus, inv);
    let signs = e.imm(ones << (if ones == 0x0101_0101 { 7 } else { 15 }));
    let hit = e.and(t, signs);
    let f = nonzero(e, hit);
    negated(e, f, negate)
}

/// Unit carry conditions (`uaddcm`, `dcor`): SDC, SBC, SHC test the carries
/// out of every digit, byte or halfword. `carry_out_vec` has bit i = carry
/// out of bit i. Returns `None` for the zero-test conditions.
pub(super) fn unit_carry_mask(c: u8) -> Option<u32> {
    match c & 7 {
        4 => Some(0x8888_8888),
        6 => Some(0x8080_8080),
        7 => Some(0x8000_8000),
        _ => None,
    }
}

pub(super) fn unit<E: Emitter>(
    e: &mut E,
    c: u8,
    negate: bool,
    res: E::Val,
    carry_out_vec: E::Val,
) -> E::Flag {
    match unit_carry_mask(c) {
        Some(mask) => {
            let m = e.imm(mask);
            let hit = e.and(carry_out_vec, m);
            let f = nonzero(e, hit);
            negated(e, f, negate)
        }
        None => unit_zero(e, c, negate, res),
    }
}

fn negated<E: Emitter>(e: &mut E, f: E::Flag, negate: bool) -> E::Flag {
    if negate {
        e.flag_not(f)
    } else {
        f
    }
}

fn zero<E: Emitter>(e: &mut E, v: E::Val) -> E::Flag {
    let z = e.imm(0);
    e.cmp(Cmp::Eq, v, z)
}

/// N xor V: the true sign of the infinitely precise result.
fn less<E: Emitter>(e: &mut E, res: E::Val, sv: E::Flag) -> E::Flag {
    let n = negative(e, res);
    let n_val = e.flag_val(n);
    let v_val = e.flag_val(sv);
    let x = e.xor(n_val, v_val);
    nonzero(e, x)
}

fn odd<E: Emitter>(e: &mut E, v: E::Val) -> E::Flag {
    let one = e.imm(1);
    let b = e.and(v, one);
    nonzero(e, b)
}
