//! System-control instructions as a user-mode program sees them: `break`,
//! space and control register moves, cache flushes; privileged operations
//! stop with [`Event::Privileged`], instructions outside the PA-RISC 1.1
//! user subset hbft executes stop with [`Event::Illegal`].

use hbft_frontend::insn::{CacheOp, Gr, Insn, Space};

use super::{gr, Cmp, Emitter, Event, Flow};

/// Control registers (PA-RISC 1.1 ch. 2).
const CR_SAR: u8 = 11;
const CR_INTERVAL_TIMER: u8 = 16;
/// CR 26 and 27 are readable at any privilege level (Linux: thread pointer in 27).
const CR_USER_READABLE: [u8; 2] = [26, 27];

pub(super) fn system<E: Emitter>(e: &mut E, insn: &Insn, pc: u32) -> Flow {
    match *insn {
        Insn::Break { im5, im13 } => Err(e.stop(Event::Break { im5, im13 })),
        // The privilege operand cannot make a probe from privilege 3 more
        // privileged (the less privileged of the two levels is used), so in
        // user mode only the address matters. ld.so uses probes.
        Insn::Probe { write, base, t, .. } => Err(e.stop(Event::Probe { write, base: base.0, t: t.0 })),
        Insn::Sync { .. } => Ok(()),
        Insn::Mfia { t } => {
            let v = e.imm(pc & !3);
            e.set_gr(t.0, v);
            Ok(())
        }
        Insn::Mfsp { sr, t } => {
            let v = e.sr(sr.0);
            e.set_gr(t.0, v);
            Ok(())
        }
        Insn::Mtsp { r, sr } => {
            // sr5..sr7 are privileged to write.
            if sr.0 >= 5 {
                return Err(e.stop(Event::Privileged));
            }
            let v = gr(e, r);
            e.set_sr(sr.0, v);
            Ok(())
        }
        Insn::Ldsid { space, base, t } => {
            let b = gr(e, base);
            let v = space_of(e, space, b);
            e.set_gr(t.0, v);
            Ok(())
        }
        Insn::Mfctl { cr, t, wide } => match cr.0 {
            CR_SAR => {
                let s = e.cr(CR_SAR);
                // Without ,w only the low five bits are returned.
                let v = if wide {
                    s
                } else {
                    let m = e.imm(31);
                    e.and(s, m)
                };
                e.set_gr(t.0, v);
                Ok(())
            }
            CR_INTERVAL_TIMER => Err(e.stop(Event::IntervalTimer { t: t.0 })),
            n if CR_USER_READABLE.contains(&n) => {
                let v = e.cr(n);
                e.set_gr(t.0, v);
                Ok(())
            }
            _ => Err(e.stop(Event::Privileged)),
        },
        Insn::Mtctl { r, cr } => {
            if cr.0 != CR_SAR {
                return Err(e.stop(Event::Privileged));
            }
            let v = gr(e, r);
            let m = e.imm(31);
            let s = e.and(v, m);
            e.set_cr(CR_SAR, s);
            Ok(())
        }
        Insn::Mtsarcm { r } => {
            let v = gr(e, r);
            let inv = e.not(v);
            let m = e.imm(31);
            let s = e.and(inv, m);
            e.set_cr(CR_SAR, s);
            Ok(())
        }
        Insn::Cache {
            op,
            index,
            base,
            modify,
            ..
        } => cache(e, op, index, base, modify),
        Insn::FdcImm { .. } => Ok(()),
        Insn::Rfi { .. }
        | Insn::SysMask { .. }
        | Insn::Mtsm { .. }
        | Insn::LoadTranslation { .. }
        | Insn::TlbInsert { .. }
        | Insn::TlbInsertT { .. }
        | Insn::Diag { .. } => Err(e.stop(Event::Privileged)),
        _ => Err(e.stop(Event::Illegal)),
    }
}

/// Cache flushes are no-ops for the data side (memory is coherent); `fic`
/// drops decoded code; the `,m` forms advance the base by the index.
fn cache<E: Emitter>(e: &mut E, op: CacheOp, index: Gr, base: Gr, modify: bool) -> Flow {
    match op {
        CacheOp::Pdtlb | CacheOp::Pitlb | CacheOp::Pdtlbe | CacheOp::Pitlbe | CacheOp::Pdc => {
            return Err(e.stop(Event::Privileged));
        }
        CacheOp::Fdc
        | CacheOp::Fic
        | CacheOp::Fdce
        | CacheOp::Fice
        | CacheOp::Gfw
        | CacheOp::Gfr => {}
    }
    let b = gr(e, base);
    let x = gr(e, index);
    let addr = e.add(b, x);
    if op == CacheOp::Fic {
        e.flush_icache(addr);
    }
    if modify {
        e.set_gr(base.0, addr);
    }
    Ok(())
}

/// The space register an access through `space` and base value `b` uses:
/// an explicit sr, or sr4..sr7 chosen by the top two bits of the base.
fn space_of<E: Emitter>(e: &mut E, space: Space, b: E::Val) -> E::Val {
    match space {
        Space::Sr(sr) => e.sr(sr.0),
        Space::Implicit => {
            let k = e.imm(30);
            let top = e.shr(b, k);
            let mut v = e.sr(7);
            for (quarter, sr) in [(2u32, 6u8), (1, 5), (0, 4)] {
                let q = e.imm(quarter);
                let is = e.cmp(Cmp::Eq, top, q);
                let s = e.sr(sr);
                v = e.select(is, s, v);
            }
            v
        }
    }
}
