//! Privileged instructions, emulated by the hypervisor: the engines stop at
//! every one of them (`Exit::Privileged`, or `Exit::Probe`), and system mode
//! performs it on the virtual privileged state — at privilege level 0 — or
//! raises the privileged-operation / privileged-register interruption the
//! hardware would raise at levels 1..3.

use hbft_frontend::insn::{CacheOp, Gr, Space, TlbInsertOp};
use hbft_frontend::{decode, Insn};
use hbft_translator::state::{psw, CpuState, KERNEL_PRIVILEGE};

use super::control::{Cause, Control, Interruption};
use super::mmu::{check, Context, Denied};
use super::tlb::Use;

/// What emulating one instruction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Done {
    /// Performed; the queue has moved on.
    Retired,
    /// It raised this interruption (already delivered).
    Interrupted(Interruption),
}

fn gr(cpu: &CpuState, r: Gr) -> u32 {
    cpu.gr[r.0 as usize]
}

fn set_gr(cpu: &mut CpuState, r: Gr, v: u32) {
    if r.0 != 0 {
        cpu.gr[r.0 as usize] = v;
    }
}

/// The space an access through `space` with base value `b` uses.
fn space_of(cpu: &CpuState, space: Space, b: u32) -> u32 {
    match space {
        Space::Sr(sr) => cpu.sr[sr.0 as usize],
        Space::Implicit => cpu.sr[4 + (b >> 30) as usize],
    }
}

/// The offset an indexed system instruction addresses: GR b + GR x, or
/// GR b alone with `,m` (which then adds GR x to GR b), as QEMU's
/// target/hppa `form_gva` forms it.
fn indexed(cpu: &mut CpuState, index: Gr, base: Gr, modify: bool) -> u32 {
    let b = gr(cpu, base);
    let sum = b.wrapping_add(gr(cpu, index));
    if modify {
        set_gr(cpu, base, sum);
        b
    } else {
        sum
    }
}

/// Emulates the privileged instruction `word` at the queue front.
pub fn emulate(cpu: &mut CpuState, ctl: &mut Control, word: u32) -> Done {
    let Ok(insn) = decode(word) else {
        return trap(cpu, ctl, Interruption::IllegalInstruction, word);
    };
    let kernel = cpu.priv_level == KERNEL_PRIVILEGE;
    let privileged_register = matches!(insn, Insn::Mfctl { .. } | Insn::Mtctl { .. } | Insn::Mtsp { .. });
    if !kernel {
        let n = if privileged_register {
            Interruption::PrivilegedRegister
        } else if matches!(insn, Insn::Probe { .. }) {
            return probe(cpu, ctl, insn, word);
        } else {
            Interruption::PrivilegedOperation
        };
        return trap(cpu, ctl, n, word);
    }
    match insn {
        Insn::Mfctl { cr, t, .. } => {
            let v = ctl.read(cpu, cr.0 as usize);
            set_gr(cpu, t, v);
        }
        Insn::Mtctl { r, cr } => {
            let v = gr(cpu, r);
            ctl.write(cpu, cr.0 as usize, v);
        }
        Insn::Mtsp { r, sr } => cpu.sr[sr.0 as usize] = gr(cpu, r),
        Insn::SysMask { set, imm, t } => {
            let old = cpu.psw & psw::SYSTEM_MASK;
            let bits = u32::from(imm) & psw::SYSTEM_MASK;
            cpu.psw = if set { cpu.psw | bits } else { cpu.psw & !bits };
            set_gr(cpu, t, old);
        }
        Insn::Mtsm { r } => {
            cpu.psw = (cpu.psw & !psw::SYSTEM_MASK) | (gr(cpu, r) & psw::SYSTEM_MASK);
        }
        Insn::Rfi { ext: 0 } => {
            ctl.rfi(cpu);
            return Done::Retired;
        }
        Insn::Rfi { ext: 5 } => {
            ctl.rfi_restoring_shadows(cpu);
            return Done::Retired;
        }
        Insn::TlbInsert { op, r, space, base } => {
            let offset = gr(cpu, base);
            let s = space_of(cpu, space, offset);
            let v = gr(cpu, r);
            match op {
                TlbInsertOp::Idtlba => ctl.dtlb.insert_address(s, offset, v),
                TlbInsertOp::Iitlba => ctl.itlb.insert_address(s, offset, v),
                TlbInsertOp::Idtlbp => ctl.dtlb.insert_protection(s, offset, v),
                TlbInsertOp::Iitlbp => ctl.itlb.insert_protection(s, offset, v),
            }
        }
        Insn::Cache { op: op @ (CacheOp::Pdtlb | CacheOp::Pitlb | CacheOp::Pdtlbe | CacheOp::Pitlbe | CacheOp::Pdc), index, space, base, modify, .. } => {
            let offset = indexed(cpu, index, base, modify);
            let s = space_of(cpu, space, offset);
            match op {
                CacheOp::Pdtlb => ctl.dtlb.purge(s, offset),
                CacheOp::Pitlb => ctl.itlb.purge(s, offset),
                CacheOp::Pdtlbe => ctl.dtlb.purge_all(),
                CacheOp::Pitlbe => ctl.itlb.purge_all(),
                // The board has no caches: purging one changes nothing.
                _ => {}
            }
        }
        Insn::LoadTranslation { coherence: false, index, space, base, modify, t } => {
            let saved = cpu.gr;
            let offset = indexed(cpu, index, base, modify);
            let s = space_of(cpu, space, offset);
            match ctl.dtlb.lookup(s, offset) {
                Some(e) => {
                    let pa = (e.ppn << 12) | (offset & 0xfff);
                    set_gr(cpu, t, pa);
                }
                None => {
                    // The miss is taken before the instruction: undo ,m.
                    cpu.gr = saved;
                    return data_miss(cpu, ctl, word, s, offset);
                }
            }
        }
        // `lci`: the board has no caches, so every line has coherence
        // index 0 (as QEMU's target/hppa answers).
        Insn::LoadTranslation { coherence: true, t, .. } => set_gr(cpu, t, 0),
        Insn::Probe { .. } => return probe(cpu, ctl, insn, word),
        _ => return trap(cpu, ctl, Interruption::IllegalInstruction, word),
    }
    cpu.retire_current();
    Done::Retired
}

/// `probe{r,w}[i] (s,b),x|i,t` at any level: GR t ← 1 if the data TLB
/// allows the access at the less privileged of the current level and the
/// operand's (access rights, and the protection ID when PSW P is set), else
/// 0; no entry raises the non-access data TLB miss.
pub fn probe(cpu: &mut CpuState, ctl: &mut Control, insn: Insn, word: u32) -> Done {
    let Insn::Probe { write, imm, level, space, base, t } = insn else {
        return trap(cpu, ctl, Interruption::IllegalInstruction, word);
    };
    let offset = gr(cpu, base);
    let s = space_of(cpu, space, offset);
    let operand = if imm { u32::from(level) } else { cpu.gr[level as usize] } & 3;
    let ctx = Context { priv_level: operand.max(cpu.priv_level), ..Context::of(cpu) };
    let use_ = if write { Use::Write } else { Use::Read };
    let ok = match check(&ctl.dtlb, &ctx, s, offset, use_) {
        Err(Denied::Miss) => return data_miss(cpu, ctl, word, s, offset),
        // Dirty and reference bits concern accesses, not permission.
        Ok(_) | Err(Denied::Dirty | Denied::Reference) => true,
        Err(_) => false,
    };
    set_gr(cpu, t, u32::from(ok));
    cpu.retire_current();
    Done::Retired
}

fn data_miss(cpu: &mut CpuState, ctl: &mut Control, word: u32, space: u32, offset: u32) -> Done {
    let n = Interruption::NonAccessDataTlbMiss;
    ctl.interrupt(cpu, n, Cause { iir: Some(word), data: Some((space, offset)) });
    Done::Interrupted(n)
}

/// A trap at the instruction `word`: delivered with IIR = the word.
pub fn trap(cpu: &mut CpuState, ctl: &mut Control, n: Interruption, word: u32) -> Done {
    ctl.interrupt(cpu, n, Cause { iir: Some(word), data: None });
    Done::Interrupted(n)
}
