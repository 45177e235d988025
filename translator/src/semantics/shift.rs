//! Shift pair, extract and deposit (major opcodes 0x34, 0x35). Positions are
//! in the manual's big-endian numbering: bit `p` is `1 << (31 - p)`, and a
//! field "at p" has its rightmost bit there.

use hbft_frontend::insn::{DepSource, Gr, ShiftAmount};

use super::{cond, gr, sext, shl_imm, shr_imm, zext, Emitter, Event, Flow};

/// A bit field: the position of its rightmost bit and its length.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    pub pos: ShiftAmount,
    pub len: u8,
}

/// `shrpw r1,r2,sa,t` (shd/vshd): the low word of `r1:r2 >> sa`.
pub(super) fn shrp<E: Emitter>(
    e: &mut E,
    dw: bool,
    c: u8,
    r1: Gr,
    r2: Gr,
    amount: ShiftAmount,
    t: Gr,
) -> Flow {
    if dw {
        return Err(e.stop(Event::Illegal));
    }
    let hi = gr(e, r1);
    let lo = gr(e, r2);
    let n = match amount {
        ShiftAmount::Fixed(sa) => e.imm(sa as u32 & 31),
        ShiftAmount::Sar => sar(e),
    };
    // lo >> n | hi << (32 - n), written so no shift count reaches 32.
    let low_part = e.shr(lo, n);
    let hi1 = shl_imm(e, hi, 1);
    let k = e.imm(31);
    let back = e.xor(n, k);
    let high_part = e.shl(hi1, back);
    let res = e.or(low_part, high_part);
    finish(e, c, res, t)
}

/// `extrw,u|s r,p,len,t` (extru/extrs/vextru/vextrs).
pub(super) fn extract<E: Emitter>(
    e: &mut E,
    dw: bool,
    signed: bool,
    c: u8,
    r: Gr,
    field: Field,
    t: Gr,
) -> Flow {
    let Field { pos, len } = field;
    if dw {
        return Err(e.stop(Event::Illegal));
    }
    let src = gr(e, r);
    let res = match pos {
        ShiftAmount::Fixed(p) => {
            let shift = 31 - (p as u32 & 31);
            let len = (len as u32).min(32 - shift);
            if signed {
                let up = shl_imm(e, src, 32 - shift - len);
                let k = e.imm(32 - len);
                e.sar(up, k)
            } else {
                let down = shr_imm(e, src, shift);
                zext(e, down, len)
            }
        }
        ShiftAmount::Sar => {
            let shift = right_shift_of_position(e);
            if signed {
                let down = e.sar(src, shift);
                sext(e, down, len as u32)
            } else {
                let down = e.shr(src, shift);
                zext(e, down, len as u32)
            }
        }
    };
    finish(e, c, res, t)
}

/// `depw[,z] r,p,len,t` and `depwi[,z] i,p,len,t` (dep/zdep/depi/zdepi and
/// the variable forms).
pub(super) fn deposit<E: Emitter>(
    e: &mut E,
    dw: bool,
    zero: bool,
    c: u8,
    src: DepSource,
    field: Field,
    t: Gr,
) -> Flow {
    let Field { pos, len } = field;
    if dw {
        return Err(e.stop(Event::Illegal));
    }
    let val = match src {
        DepSource::Reg(r) => gr(e, r),
        DepSource::Imm(i) => e.imm(i as i32 as u32),
    };
    let old = gr(e, t);
    let (field, mask) = match pos {
        ShiftAmount::Fixed(p) => {
            let shift = 31 - (p as u32 & 31);
            let len = (len as u32).min(32 - shift);
            let ones = if len >= 32 {
                u32::MAX
            } else {
                (1u32 << len) - 1
            };
            let m = e.imm(ones << shift);
            let moved = shl_imm(e, val, shift);
            (e.and(moved, m), m)
        }
        ShiftAmount::Sar => {
            let shift = right_shift_of_position(e);
            let low = zext(e, val, len as u32);
            let ones = if len >= 32 {
                u32::MAX
            } else {
                (1u32 << len) - 1
            };
            let ones = e.imm(ones);
            (e.shl(low, shift), e.shl(ones, shift))
        }
    };
    let res = if zero {
        field
    } else {
        let keep = e.not(mask);
        let kept = e.and(old, keep);
        e.or(kept, field)
    };
    finish(e, c, res, t)
}

/// SAR (cr11), masked to a 32-bit shift count.
fn sar<E: Emitter>(e: &mut E) -> E::Val {
    let s = e.cr(11);
    let m = e.imm(31);
    e.and(s, m)
}

/// SAR names a big-endian bit position; the matching right shift is 31 - SAR.
fn right_shift_of_position<E: Emitter>(e: &mut E) -> E::Val {
    let s = sar(e);
    let k = e.imm(31);
    e.xor(s, k)
}

fn finish<E: Emitter>(e: &mut E, c: u8, res: E::Val, t: Gr) -> Flow {
    let f = cond::shift(e, c, res);
    e.set_gr(t.0, res);
    e.nullify_next(f);
    Ok(())
}
