//! Block discovery: which guest instructions one translated block covers.
//!
//! A block starts at an instruction entered with a plain queue (the next
//! instruction sequential, nothing nullified) and runs through the first
//! instruction that may branch and its delay slot. It also ends before an
//! instruction that cannot be fetched or decoded (the interpreter reports
//! the fault), after one that stops or flushes the instruction cache, at the
//! end of the page (invalidation works page by page) and at a length cap.
//! Instructions known at translation time to be nullified (the delay slot
//! of `b,n`) are passed over without code.

use hbft_frontend::{decode, Insn};

use super::lower::{Lower, Nullify};
use crate::memory::{GuestMemory, PAGE_SIZE};

/// Most instructions in one block (a delay slot may add one).
pub(super) const MAX_BLOCK_INSNS: u32 = 64;

/// The decoded instruction at `pc`, if it can be fetched and decoded.
pub(super) fn fetch<M: GuestMemory>(mem: &M, pc: u32) -> Option<Insn> {
    decode(mem.fetch(pc).ok()?).ok()
}

/// Translates the block starting at `start`, whose first instruction is
/// `first`, into `l`.
pub(super) fn translate<M: GuestMemory>(mut l: Lower<'_>, mem: &M, start: u32, first: Insn) {
    let mut pc = start;
    let mut insn = Some(first);
    let mut counted = 0;
    let mut nullify = Nullify::Never;
    let mut in_delay_slot = false;
    let mut ends_with_skip = false;
    let mut open = true;
    loop {
        if nullify == Nullify::Always {
            l.skip();
            ends_with_skip = true;
            nullify = Nullify::Never;
            if in_delay_slot {
                break;
            }
        } else {
            let Some(this) = insn.take().or_else(|| fetch(mem, pc)) else {
                break;
            };
            let t = l.insn(&this, pc, nullify == Nullify::Maybe);
            counted += 1;
            ends_with_skip = false;
            nullify = t.nullify_next;
            open = t.open;
            if t.stopped || t.flushes || in_delay_slot {
                break;
            }
            in_delay_slot = t.branches;
        }
        pc = pc.wrapping_add(4);
        if pc % PAGE_SIZE == 0 || (counted >= MAX_BLOCK_INSNS && !in_delay_slot) {
            break;
        }
    }
    if open {
        l.end();
    }
    l.finish(counted + ends_with_skip as u32);
}
