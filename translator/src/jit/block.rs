//! Block discovery: which guest instructions one translated block covers.
//!
//! A block starts at an instruction entered with a plain queue (the next
//! instruction sequential, nothing nullified) and runs through the first
//! instruction that may branch and its delay slot. It also ends before an
//! instruction that cannot be fetched or decoded (the interpreter reports
//! the fault), after one that stops or flushes the instruction cache, at the
//! end of the page (invalidation works page by page; only the delay slot of
//! a branch ending the page is taken from the next page, whose invalidation
//! then drops the block too) and at a length cap.
//! Instructions known at translation time to be nullified (the delay slot
//! of `b,n`) are passed over without code.
//!
//! A branch the instruction before may nullify, which nullifies its own
//! delay slot when it runs (`cmpclr,cond` then `b,n`: how compilers branch
//! on a comparison they cannot fold into `cmpb`), does not end the block:
//! when it runs the block leaves through a side exit, and otherwise goes on
//! in sequence. So does a conditional branch that nullifies its delay slot
//! when taken and whose delay slot is itself a branch (`cmpib,<>,n` then
//! `b,l`): taken, it leaves through a side exit; not taken, the branch in
//! its delay slot runs as an ordinary branch of the block.

use hbft_frontend::{decode, Insn};

use super::lower::{Chain, Lower, Next, Nullify, SideExits};
use crate::memory::{GuestMemory, PAGE_SIZE};

/// Most instructions in one block (a delay slot may add one).
pub(super) const MAX_BLOCK_INSNS: u32 = 64;

/// Most side exits in one block; a branch that would need another ends it.
pub(super) const MAX_SIDE_EXITS: u32 = 6;

/// The decoded instruction at `pc`, if it can be fetched and decoded.
pub(super) fn fetch<M: GuestMemory>(mem: &M, pc: u32) -> Option<Insn> {
    decode(mem.fetch(pc).ok()?).ok()
}

/// What a translated block needs besides its code.
pub(super) struct BlockInfo {
    /// Chaining slots used.
    pub slots: u32,
    /// Its last instruction, a delay slot, is the first of the next page.
    pub spans_pages: bool,
    /// See [`super::lower::Finished::restartable`].
    pub restartable: bool,
}

/// Translates the block starting at `start`, whose first instruction is
/// `first`, into `l`.
pub(super) fn translate<M: GuestMemory>(mut l: Lower<'_>, mem: &M, start: u32, first: Insn) -> BlockInfo {
    let mut pc = start;
    let mut insn = Some(first);
    let mut counted = 0;
    let mut nullify = Nullify::Never;
    // The branch whose delay slot comes next or came last, and whether it
    // might itself have been nullified.
    let mut branch: Option<(Next, bool)> = None;
    let mut ends_with_skip = false;
    // The budget need of the side exits so far (see `Lower::insn`).
    let mut side_need = 0;
    let mut side_exits = 0;
    let mut open = true;
    let mut spans_pages = false;
    // How the block continues, decided where translation stops.
    let chain_after_branch = |branch: Option<(Next, bool)>, nullify: Nullify| match (branch, nullify) {
        (Some((Next::Fixed(to), false)), Nullify::Never) => Chain::Slot(to),
        (Some((Next::Either(taken, to, fallthrough), false)), Nullify::Never) => {
            Chain::Either(taken, to, fallthrough)
        }
        (Some(_), Nullify::Never) => Chain::Lookup,
        // The delay slot may nullify the instruction at the front, wherever
        // the branch went: passing over it leaves a plain entry again.
        (Some(_), Nullify::Maybe | Nullify::Always) => Chain::SkipThenLookup,
        _ => Chain::Return,
    };
    let chain = loop {
        if nullify == Nullify::Always {
            l.skip();
            ends_with_skip = true;
            nullify = Nullify::Never;
            if branch.is_some() {
                break chain_after_branch(branch, nullify);
            }
        } else {
            let Some(this) = insn.take().or_else(|| fetch(mem, pc)) else {
                break Chain::Return;
            };
            let maybe_nullified = nullify == Nullify::Maybe;
            let back = branch.is_none().then(|| pc.wrapping_add(4));
            let side_exit = match branch.is_none() && side_exits < MAX_SIDE_EXITS {
                false => SideExits::Never,
                true if fetch(mem, pc.wrapping_add(4)).is_some_and(|slot| slot.may_branch()) => SideExits::AlsoConditional,
                true => SideExits::WhenRun,
            };
            let t = l.insn(&this, pc, maybe_nullified, back, side_exit);
            counted += 1;
            ends_with_skip = false;
            nullify = t.nullify_next;
            open = t.open;
            if t.stopped || t.flushes {
                break Chain::Return;
            }
            if branch.is_some() {
                // The delay slot: a branch here leaves an odd queue.
                break if t.branches { Chain::Return } else { chain_after_branch(branch, nullify) };
            }
            if t.side_exit {
                // It retired `counted` and passed over its delay slot.
                side_need = counted + 1;
                side_exits += 1;
            } else if t.branches {
                branch = Some((t.next, maybe_nullified));
            }
        }
        pc = pc.wrapping_add(4);
        if pc % PAGE_SIZE == 0 && branch.is_some() && pc != 0 {
            // The delay slot, on the next page, ends the block.
            spans_pages = nullify != Nullify::Always;
        } else if pc % PAGE_SIZE == 0 || (counted >= MAX_BLOCK_INSNS && branch.is_none()) {
            break match (branch, nullify) {
                (None, Nullify::Never) => Chain::Slot(pc),
                _ => Chain::Return,
            };
        }
    };
    ends_with_skip |= matches!(chain, Chain::SkipThenLookup);
    let max_count = (counted + ends_with_skip as u32).max(side_need);
    if open {
        l.end(chain, max_count);
    }
    let finished = l.finish(max_count);
    BlockInfo { slots: finished.slots, spans_pages, restartable: finished.restartable }
}
