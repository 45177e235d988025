//! Branches. Every branch is delayed: it sets the *back* of the instruction
//! address queue, so the instruction after it (the delay slot) executes
//! before the target (PA-RISC 1.1 ch. 4, "Control Flow").
//!
//! Nullification with `,n`: an unconditional branch always nullifies its
//! delay slot; a conditional branch nullifies it when taken forward
//! (displacement >= 0) or not taken backward.
//!
//! Privilege (the "rewritten privilege-sensitive instructions"): links
//! receive the return point `IAOQ_Back + 4` with the *virtual* privilege
//! level in the low two bits, as hardware shows the real one (3 in a user
//! process, 0 in a guest kernel). Indirect targets carry a privilege level
//! in their low two bits that can only lower privilege: the new level is
//! the less privileged of the current one and the target's (1.1 ch. 4,
//! "Privilege Level Changes"). hbft changes the level at the branch, so the
//! delay slot of a privilege-changing branch already runs at the new level
//! (hardware changes it with the target); guests keep such delay slots
//! free of privilege-dependent instructions.

use hbft_frontend::insn::{Cond, DepSource, Gr, LinkKind, ShiftAmount, Sr};

use crate::state::psw;

use super::{add_imm, cond, gr, negative, nonzero, shl_imm, Cmp, Emitter, Event, Flow};

fn link<E: Emitter>(e: &mut E) -> E::Val {
    let back = e.iaoq_back();
    let ret = add_imm(e, back, 4);
    let pl = e.priv_level();
    e.or(ret, pl)
}

/// The privilege level after an indirect branch to `v`: the one its low
/// two bits carry if that is less privileged than the current one. A change
/// is reported ([`Event::NewContext`]) before any write.
fn lowered_privilege<E: Emitter>(e: &mut E, v: E::Val) -> Result<E::Val, super::Stopped> {
    let three = e.imm(3);
    let target_pl = e.and(v, three);
    let pl = e.priv_level();
    let lower = e.cmp(Cmp::Ltu, pl, target_pl);
    e.trap_if(lower, Event::NewContext)?;
    Ok(e.select(lower, target_pl, pl))
}

/// The offset of an indirect target `v` (its low two bits dropped); sets
/// the level [`lowered_privilege`] computed.
fn without_privilege<E: Emitter>(e: &mut E, v: E::Val, new_pl: E::Val) -> E::Val {
    e.set_priv_level(new_pl);
    let m = e.imm(!3);
    e.and(v, m)
}

/// `b,gate`, before any write: with code translation on (PSW C = 1) the
/// promotion depends on the page's access rights (a gateway page, types
/// 4..7, promotes to level type - 4 if that is more privileged), which the
/// runtime applies after the branch ([`Event::Gate`]); a Linux process
/// never executes a gate (the runtime performs its gateway page).
fn gate_translated<E: Emitter>(e: &mut E) -> Result<E::Flag, super::Stopped> {
    let p = e.psw();
    let c = e.imm(psw::C);
    let translated = e.and(p, c);
    let on = nonzero(e, translated);
    e.trap_if(on, Event::Gate)?;
    Ok(on)
}

/// `b,gate` with code translation off (PSW C = 0) raises the privilege
/// level to 0 (as QEMU's target/hppa does: without translation there are
/// no access rights to consult); with translation on the level stays here.
fn gate<E: Emitter>(e: &mut E, translated: E::Flag) {
    let pl = e.priv_level();
    let zero = e.imm(0);
    let new_pl = e.select(translated, pl, zero);
    e.set_priv_level(new_pl);
}

fn unconditional<E: Emitter>(e: &mut E, target: E::Val, nullify: bool) {
    e.branch(target);
    if nullify {
        let always = e.imm_flag(true);
        e.nullify_next(always);
    }
}

/// A pc-relative conditional branch target: `pc + 8 + disp`, with `,n`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    pub pc: u32,
    pub disp: i32,
    pub nullify: bool,
}

fn conditional<E: Emitter>(e: &mut E, taken: E::Flag, to: Target) {
    let target = e.imm(to.pc.wrapping_add(8).wrapping_add(to.disp as u32));
    e.branch_if(taken, target);
    if to.nullify {
        let f = if to.disp >= 0 {
            taken
        } else {
            e.flag_not(taken)
        };
        e.nullify_next(f);
    }
}

/// `b,l target,t` (`bl`, `b`, `b,gate`): pc-relative with link.
pub(super) fn branch_link<E: Emitter>(
    e: &mut E,
    kind: LinkKind,
    disp: i32,
    t: Gr,
    nullify: bool,
    pc: u32,
) -> Flow {
    if kind == LinkKind::Push {
        // PA 2.0 branch-target-stack form.
        return Err(e.stop(Event::Illegal));
    }
    let translated = if kind == LinkKind::Gate { Some(gate_translated(e)?) } else { None };
    // The link carries the level before a gate promotes it.
    let ret = link(e);
    let target = e.imm(pc.wrapping_add(8).wrapping_add(disp as u32));
    e.set_gr(t.0, ret);
    if let Some(translated) = translated {
        gate(e, translated);
    }
    unconditional(e, target, nullify);
    Ok(())
}

/// `blr x,t`: branch to `pc + 8 + 8·x`.
pub(super) fn blr<E: Emitter>(e: &mut E, x: Gr, t: Gr, nullify: bool, pc: u32) -> Flow {
    let xv = gr(e, x);
    let offset = shl_imm(e, xv, 3);
    let target = add_imm(e, offset, pc.wrapping_add(8));
    let ret = link(e);
    e.set_gr(t.0, ret);
    unconditional(e, target, nullify);
    Ok(())
}

/// `bv x(b)`: branch to `b + 8·x`.
pub(super) fn bv<E: Emitter>(e: &mut E, x: Gr, base: Gr, nullify: bool) -> Flow {
    let b = gr(e, base);
    let xv = gr(e, x);
    let offset = shl_imm(e, xv, 3);
    let sum = e.add(b, offset);
    let pl = lowered_privilege(e, sum)?;
    let target = without_privilege(e, sum, pl);
    unconditional(e, target, nullify);
    Ok(())
}

/// `bve[,l] (b)` (PA 2.0): branch to `b`, link in r2.
pub(super) fn bve<E: Emitter>(e: &mut E, with_link: bool, base: Gr, nullify: bool) -> Flow {
    let b = gr(e, base);
    let ret = link(e);
    let pl = lowered_privilege(e, b)?;
    let target = without_privilege(e, b, pl);
    if with_link {
        e.set_gr(2, ret);
    }
    unconditional(e, target, nullify);
    Ok(())
}

/// `be disp(sr,b)` and `be,l` (ble): external branch; the link form puts the
/// return offset in r31 and the return space in sr0.
pub(super) fn be<E: Emitter>(
    e: &mut E,
    with_link: bool,
    disp: i32,
    sr: Sr,
    base: Gr,
    nullify: bool,
) -> Flow {
    let b = gr(e, base);
    let sum = add_imm(e, b, disp as u32);
    let space = e.sr(sr.0);
    let here = e.iasq_back();
    let other_space = e.cmp(Cmp::Ne, space, here);
    e.trap_if(other_space, Event::NewContext)?;
    let ret = link(e);
    let pl = lowered_privilege(e, sum)?;
    let target = without_privilege(e, sum, pl);
    if with_link {
        let ret_space = e.iasq_back();
        e.set_gr(31, ret);
        e.set_sr(0, ret_space);
    }
    e.branch_space(space);
    unconditional(e, target, nullify);
    Ok(())
}

fn source<E: Emitter>(e: &mut E, src: DepSource) -> E::Val {
    match src {
        DepSource::Reg(r) => gr(e, r),
        DepSource::Imm(i) => e.imm(i as i32 as u32),
    }
}

/// `cmpb`/`cmpib`: compare `src - r2` with the compare conditions.
pub(super) fn cmp_branch<E: Emitter>(
    e: &mut E,
    c: Cond,
    src: DepSource,
    r2: Gr,
    to: Target,
) -> Flow {
    if c.dw {
        return Err(e.stop(Event::Illegal));
    }
    let a = source(e, src);
    let b = gr(e, r2);
    let taken = cond::compare(e, c.c, c.negate, a, b);
    conditional(e, taken, to);
    Ok(())
}

/// `addb`/`addib`: `r2 += src`, branch on the add conditions.
pub(super) fn add_branch<E: Emitter>(
    e: &mut E,
    c: Cond,
    src: DepSource,
    r2: Gr,
    to: Target,
) -> Flow {
    if c.dw {
        return Err(e.stop(Event::Illegal));
    }
    let a = source(e, src);
    let b = gr(e, r2);
    let zero = e.imm(0);
    let (sum, carry_out) = e.add_carry(a, b, zero);
    let sv = super::alu::add_overflow(e, sum, a, b, a, 0);
    let carry = nonzero(e, carry_out);
    let taken = cond::arith(e, c.c, c.negate, sum, carry, sv);
    e.set_gr(r2.0, sum);
    conditional(e, taken, to);
    Ok(())
}

/// `bb,<|>= r,p,target`: branch on bit `p` (big-endian numbering, or SAR).
/// Condition 0 (`<`) branches when the bit is 1, 1 (`>=`) when it is 0.
pub(super) fn bb<E: Emitter>(
    e: &mut E,
    c: u8,
    dw: bool,
    r: Gr,
    pos: ShiftAmount,
    to: Target,
) -> Flow {
    if dw {
        return Err(e.stop(Event::Illegal));
    }
    let v = gr(e, r);
    // Move the tested bit to the sign position.
    let moved = match pos {
        ShiftAmount::Fixed(p) => shl_imm(e, v, p as u32 & 31),
        ShiftAmount::Sar => {
            let s = e.cr(11);
            let m = e.imm(31);
            let n = e.and(s, m);
            e.shl(v, n)
        }
    };
    let set = negative(e, moved);
    let taken = if c & 1 == 0 { set } else { e.flag_not(set) };
    conditional(e, taken, to);
    Ok(())
}

/// `movb`/`movib`: `r2 = src`, branch on the shift/extract/deposit condition.
pub(super) fn mov_branch<E: Emitter>(e: &mut E, c: u8, src: DepSource, r2: Gr, to: Target) -> Flow {
    let v = source(e, src);
    let taken = cond::shift(e, c, v);
    e.set_gr(r2.0, v);
    conditional(e, taken, to);
    Ok(())
}
