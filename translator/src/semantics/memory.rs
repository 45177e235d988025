//! Loads and stores: effective-address forms with base modification,
//! load-and-clear, store bytes, and floating-point loads/stores.

use hbft_frontend::insn::{Addr, Fr, Gr, LoadKind, Modify, Size, StoreKind};

use super::fpu::{read_single, write_single};
use super::{add_imm, gr, shl_imm, Cmp, Emitter, Event, Flow, Width};

/// The address accessed and the base update an access performs.
struct Effective<V> {
    addr: V,
    update: Option<(Gr, V)>,
}

/// Address forming (PA-RISC 1.1 ch. 5 "Addressing modes"): `disp(b)` with
/// `,mb` (access at the updated base) or `,ma` (access at the old base);
/// `x(b)` with `,s` (index scaled by the access size) and `,m` (the access
/// uses the old base, which then advances by the index).
fn effective<E: Emitter>(e: &mut E, addr: Addr, size_log2: u32) -> Effective<E::Val> {
    match addr {
        Addr::Disp {
            disp, base, modify, ..
        } => {
            let b = gr(e, base);
            let sum = add_imm(e, b, disp as u32);
            match modify {
                Modify::None => Effective {
                    addr: sum,
                    update: None,
                },
                Modify::Before => Effective {
                    addr: sum,
                    update: Some((base, sum)),
                },
                Modify::After => Effective {
                    addr: b,
                    update: Some((base, sum)),
                },
            }
        }
        Addr::Index {
            index,
            base,
            scale,
            modify,
            ..
        } => {
            let b = gr(e, base);
            let x = gr(e, index);
            let x = if scale { shl_imm(e, x, size_log2) } else { x };
            let sum = e.add(b, x);
            if modify {
                Effective {
                    addr: b,
                    update: Some((base, sum)),
                }
            } else {
                Effective {
                    addr: sum,
                    update: None,
                }
            }
        }
    }
}

/// `ldwa`/`stwa` (absolute: physical addresses, whatever PSW D says) are
/// privileged: they trap below level 0. At level 0 they access memory like
/// any load or store; the memory of system mode sees the instruction and
/// does not translate.
fn absolute_is_privileged<E: Emitter>(e: &mut E) -> Flow {
    let pl = e.priv_level();
    let zero = e.imm(0);
    let below_0 = e.cmp(Cmp::Ne, pl, zero);
    e.trap_if(below_0, Event::Privileged)
}

fn apply_update<E: Emitter>(e: &mut E, update: Option<(Gr, E::Val)>) {
    if let Some((base, v)) = update {
        e.set_gr(base.0, v);
    }
}

fn width(size: Size) -> Option<Width> {
    match size {
        Size::Byte => Some(Width::Byte),
        Size::Half => Some(Width::Half),
        Size::Word => Some(Width::Word),
        // Doubleword integer accesses need PA 2.0 wide registers.
        Size::Double => None,
    }
}

pub(super) fn load<E: Emitter>(e: &mut E, kind: LoadKind, size: Size, addr: Addr, t: Gr) -> Flow {
    let Some(w) = width(size) else {
        return Err(e.stop(Event::Illegal));
    };
    if kind == LoadKind::Absolute {
        absolute_is_privileged(e)?;
    }
    let ea = effective(e, addr, w.log2());
    let v = e.load(w, ea.addr)?;
    if kind == LoadKind::AndClear {
        // ldcw: the semaphore word is read and zeroed in one access.
        let zero = e.imm(0);
        e.store(w, ea.addr, zero)?;
    }
    apply_update(e, ea.update);
    // When t is also the modified base, the loaded value wins (as in QEMU;
    // the manual leaves the combination undefined).
    e.set_gr(t.0, v);
    Ok(())
}

pub(super) fn store<E: Emitter>(e: &mut E, kind: StoreKind, size: Size, r: Gr, addr: Addr) -> Flow {
    let Some(w) = width(size) else {
        return Err(e.stop(Event::Illegal));
    };
    if kind == StoreKind::Absolute {
        absolute_is_privileged(e)?;
    }
    let v = gr(e, r);
    let ea = effective(e, addr, w.log2());
    e.store(w, ea.addr, v)?;
    apply_update(e, ea.update);
    Ok(())
}

/// `stby,b|e[,m] r,disp(b)`: stores the bytes of `r` from the addressed byte
/// to the end of its word (`,b`) or from the start of the word up to it
/// (`,e`). Performed as a read-modify-write of the aligned word; with `,m`
/// the access uses the old base and the base becomes `(base + disp) & ~3`.
pub(super) fn store_bytes<E: Emitter>(
    e: &mut E,
    dw: bool,
    end: bool,
    modify: bool,
    r: Gr,
    disp: i8,
    base: Gr,
) -> Flow {
    if dw {
        return Err(e.stop(Event::Illegal));
    }
    let v = gr(e, r);
    let b = gr(e, base);
    let sum = add_imm(e, b, disp as i32 as u32);
    let addr = if modify { b } else { sum };
    let align = e.imm(!3);
    let word_addr = e.and(addr, align);
    let three = e.imm(3);
    let offset = e.and(addr, three);
    let bit_offset = shl_imm(e, offset, 3);
    let all = e.imm(u32::MAX);
    let from_offset = e.shr(all, bit_offset);
    let mask = if end { e.not(from_offset) } else { from_offset };
    let old = e.load(Width::Word, word_addr)?;
    let keep = e.not(mask);
    let kept = e.and(old, keep);
    let new_bytes = e.and(v, mask);
    let merged = e.or(kept, new_bytes);
    e.store(Width::Word, word_addr, merged)?;
    if modify {
        let aligned = e.and(sum, align);
        e.set_gr(base.0, aligned);
    }
    Ok(())
}

/// `fldw`/`fldd`/`fstw`/`fstd` in every address form; single words go to
/// or come from a register half.
pub(super) fn fp_mem<E: Emitter>(e: &mut E, store: bool, dbl: bool, r: Fr, addr: Addr) -> Flow {
    let ea = effective(e, addr, if dbl { 3 } else { 2 });
    match (store, dbl) {
        (false, false) => {
            let v = e.load(Width::Word, ea.addr)?;
            apply_update(e, ea.update);
            write_single(e, r, v);
        }
        (false, true) => {
            let v = e.load_wide(ea.addr)?;
            apply_update(e, ea.update);
            e.set_fr(r.reg, v);
        }
        (true, false) => {
            let v = read_single(e, r);
            e.store(Width::Word, ea.addr, v)?;
            apply_update(e, ea.update);
        }
        (true, true) => {
            let v = e.fr(r.reg);
            e.store_wide(ea.addr, v)?;
            apply_update(e, ea.update);
        }
    }
    Ok(())
}
