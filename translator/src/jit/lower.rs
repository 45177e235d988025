//! Instruction semantics lowered to Cranelift IR: the JIT's [`Emitter`].
//!
//! Inside a block, guest state lives in Cranelift variables: each piece of
//! [`CpuState`] a block touches is loaded once on entry and written back, if
//! the block wrote it, at every exit. The instruction address queue, the
//! nullification flag of the next instruction and the count of retired
//! instructions are variables too, so every exit can store the exact state
//! of the instruction it leaves at.
//!
//! Stops (faults, traps, events) leave through the *re-execute* exit of the
//! current instruction: the state before it, from which the runtime lets the
//! interpreter perform the instruction, which stops again in exactly the way
//! the interpreter reports. This needs the semantics rule that nothing is
//! written before a stop.

use std::mem::offset_of;

use cranelift_codegen::ir::condcodes::{CondCode, FloatCC, IntCC};
use cranelift_codegen::ir::{
    types, AbiParam, Block, BlockArg, InstBuilder, InstructionData, MemFlagsData, Opcode, SigRef, Signature, TrapCode,
    StackSlot, StackSlotData, StackSlotKind, Type, Value, ValueDef,
};
use cranelift_codegen::cursor::{Cursor, FuncCursor};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, Variable};

use super::cache::{FAST_ENTRIES, FAST_ENTRY_CODE, FAST_ENTRY_SHIFT};
use super::{JitContext, EXIT_CONTINUE, EXIT_NOFIT, EXIT_REEXECUTE};
use crate::memory::{
    explicit_space, is_absolute, perm, DATA_TLB_ADDEND, DATA_TLB_ENTRIES, DATA_TLB_ENTRY_SHIFT,
    DATA_TLB_READ, DATA_TLB_WRITE, PAGE_SIZE,
};
use crate::fastfp::{self, Op, DOUBLE_INFINITY, DOUBLE_MIN_NORMAL, FAR_FROM_UNDERFLOW_BITS};
use crate::semantics::{Cmp, Emitter, Event, Flow, FpHelper, Stopped, Width};
use crate::softfp::{exc, status, FpOut};
use crate::state::CpuState;

/// Pieces of [`CpuState`] a block may keep in variables, numbered
/// GR 0..32, FR 32..64, SR 64..72, CR 72..104, then PSW C/B, its top carry
/// and V.
const SLOT_FR: usize = 32;
const SLOT_SR: usize = 64;
const SLOT_CR: usize = 72;
const SLOT_CB: usize = 104;
const SLOT_CB_MSB: usize = 105;
const SLOT_V: usize = 106;
const SLOT_PSW: usize = 107;
const SLOT_PL: usize = 108;
const SLOTS: usize = 109;

/// Where a state slot lives in [`CpuState`] and its type.
fn slot_place(slot: usize) -> (i32, Type) {
    let at = |base: usize, index: usize, size: usize| (base + index * size) as i32;
    match slot {
        0..SLOT_FR => (at(offset_of!(CpuState, gr), slot, 4), types::I32),
        SLOT_FR..SLOT_SR => (at(offset_of!(CpuState, fr), slot - SLOT_FR, 8), types::I64),
        SLOT_SR..SLOT_CR => (at(offset_of!(CpuState, sr), slot - SLOT_SR, 4), types::I32),
        SLOT_CR..SLOT_CB => (at(offset_of!(CpuState, cr), slot - SLOT_CR, 4), types::I32),
        SLOT_CB => (offset_of!(CpuState, psw_cb) as i32, types::I32),
        SLOT_CB_MSB => (offset_of!(CpuState, psw_cb_msb) as i32, types::I32),
        SLOT_V => (offset_of!(CpuState, psw_v) as i32, types::I32),
        SLOT_PSW => (offset_of!(CpuState, psw) as i32, types::I32),
        _ => (offset_of!(CpuState, priv_level) as i32, types::I32),
    }
}

/// Host pointers a block reads from its [`JitContext`].
#[derive(Clone, Copy)]
enum Ptr {
    MemBase,
    Perms,
    CodePages,
    Dirty,
    FastTable,
    DataTlb,
}

impl Ptr {
    fn offset(self) -> i32 {
        (match self {
            Ptr::MemBase => offset_of!(JitContext, mem_base),
            Ptr::Perms => offset_of!(JitContext, perms),
            Ptr::CodePages => offset_of!(JitContext, code_pages),
            Ptr::Dirty => offset_of!(JitContext, dirty),
            Ptr::FastTable => offset_of!(JitContext, fast_table),
            Ptr::DataTlb => offset_of!(JitContext, data_tlb),
        }) as i32
    }
}

/// How a variable is initialised on block entry.
#[derive(Clone, Copy)]
enum Init {
    /// State slot `.0`, loaded from the CPU state if its entry value is used.
    Slot(usize, i32, Type),
    /// A value of the entry block (constants shared with loops back to
    /// the start, so the variable needs no block parameter there).
    Value(Value),
}

/// The queue, nullification and budget variables. Before each instruction
/// they describe the state just before it; after a block they describe the
/// state the block leaves.
struct Queue {
    front: Variable,
    back: Variable,
    front_space: Variable,
    back_space: Variable,
    /// Nullify the instruction at `front` (I8, 0 or 1).
    n: Variable,
    /// Instructions the budget still allows (I64): the function's
    /// `remaining` less those retired since.
    left: Variable,
}

/// Nullification of the next instruction as known at translation time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Nullify {
    Never,
    Always,
    Maybe,
}

/// Where a branch goes, as far as known at translation time.
#[derive(Debug, Clone, Copy)]
pub(super) enum Next {
    /// Not a branch.
    Sequential,
    /// A fixed address.
    Fixed(u32),
    /// `Either(taken, target, fallthrough)`: a conditional branch.
    Either(Value, u32, u32),
    /// Computed at run time (or changing space).
    Computed,
}

/// How a block's final exit continues when the state it leaves is a
/// plain block entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Chain {
    /// Back to the dispatcher.
    Return,
    /// To a fixed address: through a slot the dispatcher patches with the
    /// target block once it exists (a jump back to the block's own start
    /// loops inside the block while the budget allows).
    Slot(u32),
    /// To one of two fixed addresses, by the flag, each through its slot.
    Either(Value, u32, u32),
    /// To an address known at run time: through the direct-mapped table.
    Lookup,
    /// Passes over the instruction at the front if it is nullified, then
    /// [`Chain::Lookup`].
    SkipThenLookup,
}

/// What a finished block needs besides its code.
pub(super) struct Finished {
    /// Chaining slots used.
    pub slots: u32,
    /// An access that faults on the host can restart the block from its
    /// entry (see [`Lower::unchecked_access`]); otherwise the block must be
    /// built again with [`MemoryPath::host_faults`] off.
    pub restartable: bool,
}

/// Which branches may leave through a side exit (see [`Lower::insn`]).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SideExits {
    Never,
    /// Fixed branches that may be nullified and nullify their delay slot.
    WhenRun,
    /// Those, and conditional branches to a fixed address that nullify
    /// their delay slot when taken.
    AlsoConditional,
}

/// What translating one instruction produced.
pub(super) struct Translated {
    /// The instruction may branch (its delay slot follows).
    pub branches: bool,
    /// Where it branches to.
    pub next: Next,
    /// The instruction stops in every execution that reaches it.
    pub stopped: bool,
    /// The instruction flushes the instruction cache: the block must end.
    pub flushes: bool,
    /// Whether the following instruction is nullified.
    pub nullify_next: Nullify,
    /// The instruction is a branch that leaves through a side exit when it
    /// runs (see [`Lower::insn`]); it retires one instruction on the way.
    pub side_exit: bool,
    /// Execution can continue after the instruction (some path reaches it).
    pub open: bool,
}

/// Control effects the semantics asked for during the current instruction.
#[derive(Default)]
struct InsnEffects {
    next: Option<Value>,
    next_space: Option<Value>,
    nullify: Option<Value>,
    flush: Option<Value>,
    /// The re-execute exit of this instruction, once a stop needs it.
    reexecute: Option<Block>,
    /// An architectural write happened (no stop may follow).
    wrote: bool,
}

/// How a block's loads and stores reach guest memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MemoryPath {
    /// Through the [`crate::memory::DataTlb`] (system mode with data
    /// translation on) instead of the permission table.
    pub data_tlb: bool,
    /// Loads from unreadable pages fault on the host (see `super::enter`):
    /// loads may skip the permission test where the block can restart.
    pub loads_fault: bool,
    /// Stores to pages that are not writable or hold code fault on the
    /// host, and no store needs to mark a page dirty: stores may skip the
    /// permission test where the block can restart.
    pub stores_fault: bool,
    pub dirty: DirtyMarking,
}

impl MemoryPath {
    /// The same path with every access testing its permissions.
    pub fn without_host_faults(self) -> MemoryPath {
        MemoryPath { loads_fault: false, stores_fault: false, ..self }
    }

    /// Some access may rely on a host fault.
    pub fn host_faults(self) -> bool {
        self.loads_fault || self.stores_fault
    }
}

/// A guest address as a base and a constant offset, for telling accesses
/// apart at compile time (see [`Lower::note_access`]).
#[derive(Clone, Copy)]
struct GuestRef {
    /// The value the offset is added to; `None` for a constant address.
    base: Option<Value>,
    offset: u32,
    size: u32,
}

impl GuestRef {
    /// Whether the two accesses are certainly disjoint (modulo 2^32).
    fn disjoint(&self, other: &GuestRef) -> bool {
        self.base == other.base
            && other.offset.wrapping_sub(self.offset) >= self.size
            && self.offset.wrapping_sub(other.offset) >= other.size
    }
}

/// How translated stores keep the dirty bitmap (outside the data TLB path,
/// whose write entries exist only for dirty pages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DirtyMarking {
    /// Not kept: nothing reads it.
    Off,
    /// The permission table says which pages are dirty
    /// ([`crate::memory::FlatMemory::dirty_in_perms`]): stores to clean
    /// pages leave, and no store marks the bitmap.
    PermBit,
    /// Every store sets its page's bit.
    Bitmap,
}

/// Builds one block function `(cpu, ctx) -> exit code`.
pub(super) struct Lower<'f> {
    /// The memory base, loaded on entry (see [`Lower::ptr`]).
    mem_base: Value,
    pub b: FunctionBuilder<'f>,
    /// Guest address of the block.
    start: u32,
    entry: Block,
    /// Where the variables get their initial values (after the budget check).
    loads: Block,
    body: Block,
    /// Instructions the budget still allows on block entry (I64, the
    /// function's third parameter).
    remaining: Value,
    /// The queue on entry (front, back, N), as constants of the `loads` block.
    entry_queue: (Value, Value, Value),
    /// The back of the queue before the current instruction, when fixed.
    static_back: Option<u32>,
    /// Re-execute exits, filled at the end, each with the state slots
    /// written before its instruction.
    reexecute_exits: Vec<(Block, u128)>,
    /// Side exits ([`Lower::insn`]), filled at the end, each with the
    /// state slots written before it and its target.
    side_exits: Vec<(Block, u128, u32)>,
    /// The block loops back to its start (so an exit may follow any write).
    loops: bool,
    /// A store was translated.
    stored: bool,
    /// Running the block again from its entry would redo exactly what it
    /// has done up to the current instruction: no store so far may have
    /// changed what an earlier load read (see [`Lower::unchecked_access`]).
    rerunnable: bool,
    /// The loads translated so far, while the block is rerunnable.
    loaded: Vec<GuestRef>,
    /// An access skipped the permission test.
    unchecked: bool,
    /// Some instruction changes the space (`be`).
    space_changed: bool,
    /// The space variables are read. Until a space changes they hold the
    /// entry spaces, which are equal (a plain block entry) and already in
    /// the CPU state: blocks that neither change nor read them never load
    /// or store them.
    spaces_read: bool,
    cpu: Value,
    ctx: Value,
    frontend: TargetFrontendConfig,
    icount: bool,
    memory: MemoryPath,
    /// The current instruction's explicit space register and whether its
    /// address is absolute (for [`Lower::translated_access`]).
    explicit_space: Option<u8>,
    absolute: bool,
    inits: Vec<(Variable, Init)>,
    state: [Option<Variable>; SLOTS],
    q: Queue,
    /// State slots written so far in the block (written back at exits).
    dirty: u128,
    /// State slots read, or written by an instruction that may be
    /// nullified: their entry values may reach an exit or a use, so they
    /// are loaded on entry. Others are only ever stored after being written.
    entry_used: u128,
    /// State slots written by an instruction that is not nullified: read
    /// after that, they have their new values on every path.
    written: u128,
    /// The current instruction may be nullified (skipped at run time).
    conditional: bool,
    fp_sig: Option<SigRef>,
    fp_slot: Option<StackSlot>,
    block_sig: Option<SigRef>,
    /// Chaining slots: the next free one's address and how many were used.
    slots: u64,
    slots_used: u32,
    fx: InsnEffects,
}

/// Flags for accesses to the CPU state and the context.
fn state_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags for guest memory accesses that passed their checks.
fn guest_flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

/// Flags for guest accesses without permission tests, which may fault on
/// the host: kept in place and in order with every other effect.
fn faulting_guest_flags() -> MemFlagsData {
    MemFlagsData::new().with_aligned().with_trap_code(Some(TrapCode::HEAP_OUT_OF_BOUNDS))
}

/// Flags for the permission and code-page tables (unchanged while a block runs).
fn table_flags() -> MemFlagsData {
    MemFlagsData::trusted().with_readonly()
}

impl<'f> Lower<'f> {
    /// Starts a block at guest `pc`; instructions follow through [`Lower::insn`].
    /// `slots` is the address of the first free chaining slot (`u64`s).
    pub fn new(
        mut b: FunctionBuilder<'f>,
        pc: u32,
        icount: bool,
        memory: MemoryPath,
        frontend: TargetFrontendConfig,
        slots: u64,
    ) -> Lower<'f> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        // The entry block is filled last (it needs the block's length and
        // the set of variables used), but it must come first in the layout.
        b.func.layout.append_block(entry);
        let cpu = b.block_params(entry)[0];
        let ctx = b.block_params(entry)[1];
        let remaining = b.block_params(entry)[2];
        let loads = b.create_block();
        b.func.layout.append_block(loads);
        // The entry constants go into `loads` now, before any use, so that
        // loops back to the start can share them.
        let mut at_loads = FuncCursor::new(b.func).at_bottom(loads);
        let entry_queue = (
            at_loads.ins().iconst(types::I32, pc as i64),
            at_loads.ins().iconst(types::I32, pc.wrapping_add(4) as i64),
            at_loads.ins().iconst(types::I8, 0),
        );
        let mem_base = at_loads.ins().load(types::I64, table_flags(), ctx, Ptr::MemBase.offset());
        let body = b.create_block();
        let mut inits = Vec::new();
        let mut var = |b: &mut FunctionBuilder, ty: Type, init: Init| {
            let v = b.declare_var(ty);
            inits.push((v, init));
            v
        };
        let q = Queue {
            front: var(&mut b, types::I32, Init::Value(entry_queue.0)),
            back: var(&mut b, types::I32, Init::Value(entry_queue.1)),
            // Loaded in `finish` if read (see `Lower::spaces_read`).
            front_space: b.declare_var(types::I32),
            back_space: b.declare_var(types::I32),
            n: var(&mut b, types::I8, Init::Value(entry_queue.2)),
            left: var(&mut b, types::I64, Init::Value(remaining)),
        };
        b.switch_to_block(body);
        Lower {
            mem_base,
            b,
            start: pc,
            entry,
            loads,
            body,
            remaining,
            entry_queue,
            static_back: None,
            reexecute_exits: Vec::new(),
            side_exits: Vec::new(),
            loops: false,
            stored: false,
            rerunnable: true,
            loaded: Vec::new(),
            unchecked: false,
            space_changed: false,
            spaces_read: false,
            cpu,
            ctx,
            frontend,
            icount,
            memory,
            explicit_space: None,
            absolute: false,
            inits,
            state: [None; SLOTS],
            q,
            dirty: 0,
            entry_used: 0,
            written: 0,
            conditional: false,
            fp_sig: None,
            fp_slot: None,
            block_sig: None,
            slots,
            slots_used: 0,
            fx: InsnEffects::default(),
        }
    }

    /// Translates the instruction at `pc`; `maybe_nullified` when the
    /// previous instruction may have nullified it, `back` the back of the
    /// queue when it is fixed (not in a delay slot). The builder must be in
    /// an open block; afterwards it is in the block where execution
    /// continues (if [`Translated::open`]).
    ///
    /// With `side_exit` allowed, a branch to a fixed address that the
    /// previous instruction may have nullified and that nullifies its delay
    /// slot when it runs (`cmpclr` then `b,n`, the compilers' conditional
    /// branch) leaves through a side exit when it runs, passing over its
    /// delay slot, and the block goes on in sequence when it is nullified
    /// ([`Translated::side_exit`]). With [`SideExits::AlsoConditional`], so
    /// does a conditional branch to a fixed address that nullifies its
    /// delay slot when taken (`cmpib,<>,n`), when taken; not taken, its
    /// delay slot runs in sequence (used when that delay slot is a branch,
    /// which would otherwise leave the block with an odd queue).
    pub fn insn(
        &mut self,
        insn: &hbft_frontend::Insn,
        pc: u32,
        maybe_nullified: bool,
        back: Option<u32>,
        side_exit: SideExits,
    ) -> Translated {
        self.static_back = back;
        self.conditional = maybe_nullified;
        let dirty_before = self.dirty;
        let skip = if maybe_nullified {
            let exec = self.b.create_block();
            let skip = self.b.create_block();
            let n = self.b.use_var(self.q.n);
            self.b.ins().brif(n, skip, &[], exec, &[]);
            self.b.seal_block(exec);
            self.b.seal_block(skip);
            self.b.switch_to_block(exec);
            Some(skip)
        } else {
            None
        };
        self.fx = InsnEffects::default();
        self.explicit_space = explicit_space(insn);
        self.absolute = is_absolute(insn);
        let flow = crate::semantics::translate(self, insn, pc);
        let fx = std::mem::take(&mut self.fx);
        let stopped = flow.is_err();
        let join = self.b.create_block();
        let mut nullify_exec = Nullify::Never;
        if !stopped {
            if let Some(addr) = fx.flush {
                let addr = self.b.ins().uextend(types::I64, addr);
                let at = offset_of!(JitContext, flush) as i32;
                self.b.ins().store(state_flags(), addr, self.ctx, at);
            }
            nullify_exec = match fx.nullify.map(|f| self.const_of(f)) {
                None | Some(Some(0)) => Nullify::Never,
                Some(Some(_)) => Nullify::Always,
                Some(None) => Nullify::Maybe,
            };
            self.count_one();
        }
        let allowed = side_exit != SideExits::Never && fx.next_space.is_none();
        let side_exit = match fx.next.filter(|_| allowed).map(|v| self.known_target(v)) {
            Some(Next::Fixed(to)) if skip.is_some() && nullify_exec == Nullify::Always => {
                // Ran: the delay slot is passed over, on to the target.
                self.side_exit_to(to);
                true
            }
            Some(Next::Either(taken, to, fallthrough))
                if side_exit == SideExits::AlsoConditional
                    && skip.is_none()
                    && fallthrough == pc.wrapping_add(8)
                    && fx.nullify == Some(taken) =>
            {
                // Taken: the delay slot is passed over, on to the target;
                // not taken: the delay slot runs in sequence.
                let (out, stay) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(taken, out, &[], stay, &[]);
                self.b.seal_block(out);
                self.b.seal_block(stay);
                self.b.switch_to_block(out);
                self.side_exit_to(to);
                self.b.switch_to_block(stay);
                self.advance(None, None, None);
                self.b.ins().jump(join, &[]);
                true
            }
            _ => false,
        };
        if !stopped && !side_exit {
            self.advance(fx.next, fx.next_space, fx.nullify);
            self.b.ins().jump(join, &[]);
        }
        if let Some(skip) = skip {
            self.b.switch_to_block(skip);
            self.advance(None, None, None);
            self.b.ins().jump(join, &[]);
        }
        if let Some(reexecute) = fx.reexecute {
            self.b.seal_block(reexecute);
            self.reexecute_exits.push((reexecute, dirty_before));
        }
        self.space_changed |= fx.next_space.is_some();
        let next = match fx.next {
            None => Next::Sequential,
            Some(_) if side_exit => Next::Sequential,
            Some(_) if fx.next_space.is_some() => Next::Computed,
            Some(v) => self.known_target(v),
        };
        let open = !stopped || skip.is_some();
        if open {
            self.b.switch_to_block(join);
            self.b.seal_block(join);
        }
        Translated {
            branches: fx.next.is_some() && !side_exit,
            next,
            stopped,
            flushes: fx.flush.is_some(),
            side_exit,
            nullify_next: match (skip.is_some(), stopped, nullify_exec) {
                (_, _, _) if side_exit => Nullify::Never,
                (_, true, _) | (_, _, Nullify::Never) => Nullify::Never,
                (true, _, _) => Nullify::Maybe,
                (false, _, n) => n,
            },
            open,
        }
    }

    /// Leaves for `to` with a plain queue through a side exit, which
    /// [`Lower::finish`] fills with the write-back the block needs.
    fn side_exit_to(&mut self, to: u32) {
        let front = self.b.ins().iconst(types::I32, to as i64);
        let back = self.b.ins().iconst(types::I32, to.wrapping_add(4) as i64);
        let n = self.b.ins().iconst(types::I8, 0);
        self.b.def_var(self.q.front, front);
        self.b.def_var(self.q.back, back);
        self.b.def_var(self.q.n, n);
        let out = self.b.create_block();
        self.b.ins().jump(out, &[]);
        self.b.seal_block(out);
        self.side_exits.push((out, self.dirty, to));
    }

    /// Passes over an instruction known to be nullified: the queue advances,
    /// nothing is counted.
    pub fn skip(&mut self) {
        self.advance(None, None, None);
    }

    /// Ends the block where the builder is: the state after the last
    /// instruction goes back to the CPU state, then execution continues as
    /// `chain` says. `max_count` is the block's budget need (see
    /// [`Lower::finish`]).
    pub fn end(&mut self, chain: Chain, max_count: u32) {
        match chain {
            Chain::Return => self.exit(EXIT_CONTINUE, false, self.dirty),
            Chain::Slot(_) | Chain::Lookup => self.exit_chained(chain, max_count, false),
            Chain::SkipThenLookup => {
                let n = self.b.use_var(self.q.n);
                let (skip, join) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(n, skip, &[], join, &[]);
                self.b.seal_block(skip);
                self.b.switch_to_block(skip);
                self.skip();
                self.b.ins().jump(join, &[]);
                self.b.seal_block(join);
                self.b.switch_to_block(join);
                self.exit_chained(Chain::Lookup, max_count, false);
            }
            Chain::Either(taken, to, fallthrough) => {
                // Unless an arm loops, both leave: write the state back once.
                let written_back = to != self.start && fallthrough != self.start;
                if written_back {
                    self.write_state(self.dirty);
                }
                let (yes, no) = (self.b.create_block(), self.b.create_block());
                self.b.ins().brif(taken, yes, &[], no, &[]);
                for (block, target) in [(yes, to), (no, fallthrough)] {
                    self.b.seal_block(block);
                    self.b.switch_to_block(block);
                    self.exit_chained(Chain::Slot(target), max_count, written_back);
                }
            }
        }
    }

    /// The final exit of a block that leaves a plain block entry: back to
    /// the block's start while the budget allows, otherwise the state is
    /// written back (unless `written_back` already) and the next block
    /// tail-called when known.
    fn exit_chained(&mut self, chain: Chain, max_count: u32, written_back: bool) {
        if let Chain::Slot(target) = chain {
            if target == self.start {
                self.loops = true;
                let again = self.b.create_block();
                let out = if self.icount {
                    let out = self.b.create_block();
                    let left = self.b.use_var(self.q.left);
                    let fits = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, left, max_count as i64);
                    self.b.ins().brif(fits, again, &[], out, &[]);
                    self.b.seal_block(out);
                    Some(out)
                } else {
                    self.b.ins().jump(again, &[]);
                    None
                };
                self.b.seal_block(again);
                self.b.switch_to_block(again);
                let (front, back, n) = self.entry_queue;
                self.b.def_var(self.q.front, front);
                self.b.def_var(self.q.back, back);
                self.b.def_var(self.q.n, n);
                self.b.ins().jump(self.body, &[]);
                match out {
                    Some(out) => self.b.switch_to_block(out),
                    None => return,
                }
            }
        }
        if !written_back {
            self.write_state(self.dirty);
        }
        self.chain_out(chain);
    }

    /// Continues as `chain` (a slot or the table) once the state is
    /// written back: the next block is tail-called when known, otherwise
    /// the function returns to the dispatcher.
    fn chain_out(&mut self, chain: Chain) {
        let left = self.remaining_left();
        let sig = *self.block_sig.get_or_insert_with(|| {
            let sig = self.b.func.signature.clone();
            self.b.import_signature(sig)
        });
        let (go, back) = (self.b.create_block(), self.b.create_block());
        // Back to the dispatcher only until the slot is linked, or when
        // the lookup misses.
        self.b.set_cold_block(back);
        let code = if let Chain::Slot(_) = chain {
            let slot = self.slots + 8 * self.slots_used as u64;
            self.slots_used += 1;
            let at = self.b.ins().iconst(types::I64, slot as i64);
            let code = self.b.ins().load(types::I64, state_flags(), at, 0);
            self.b.ins().brif(code, go, &[], back, &[]);
            self.b.seal_block(go);
            self.b.seal_block(back);
            // Not linked yet: the dispatcher links the slot to the block it
            // runs next.
            self.b.switch_to_block(back);
            let ctx_at = offset_of!(JitContext, exit_slot) as i32;
            self.b.ins().store(state_flags(), at, self.ctx, ctx_at);
            self.write_queue(false);
            self.store_remaining(left);
            self.ret(EXIT_CONTINUE);
            self.b.switch_to_block(go);
            code
        } else {
            let front = self.b.use_var(self.q.front);
            let table = self.ptr(Ptr::FastTable);
            let index = self.b.ins().ushr_imm_u(front, 2);
            let index = self.b.ins().band_imm_u(index, (FAST_ENTRIES - 1) as i64);
            let index = self.b.ins().uextend(types::I64, index);
            let offset = self.b.ins().ishl_imm_u(index, FAST_ENTRY_SHIFT as i64);
            let entry = self.b.ins().iadd(table, offset);
            let pc = self.b.ins().load(types::I32, state_flags(), entry, 0);
            let hit = self.b.ins().icmp(IntCC::Equal, pc, front);
            self.b.ins().brif(hit, go, &[], back, &[]);
            self.b.seal_block(go);
            self.b.seal_block(back);
            self.b.switch_to_block(back);
            self.write_queue(false);
            self.store_remaining(left);
            self.ret(EXIT_CONTINUE);
            self.b.switch_to_block(go);
            self.b.ins().load(types::I64, state_flags(), entry, FAST_ENTRY_CODE as i32)
        };
        // The next block knows its own address; only the spaces, which it
        // loads, must be current.
        if self.space_changed {
            self.write_spaces();
        }
        self.b.ins().return_call_indirect(sig, code, &[self.cpu, self.ctx, left]);
    }

    fn ret(&mut self, code: u32) {
        let code = self.b.ins().iconst(types::I32, code as i64);
        self.b.ins().return_(&[code]);
    }

    /// Fills the entry block: the budget check (when counting) against
    /// `max_count` — the most instructions the block can retire, plus one
    /// when it ends by passing over nullified instructions, so that it never
    /// finishes exactly at the budget with such a pass (the interpreter stops
    /// before it) — and the loads of every variable used.
    pub fn finish(mut self, max_count: u32) -> Finished {
        // A fault in a later pass of a loop would find the state of an
        // earlier pass's end in memory, and its stores done.
        let restartable = !(self.unchecked && self.loops && self.stored);
        if self.loops {
            // Exits may follow writes of an earlier pass through the block,
            // whose values came round the loop: every written slot may hold
            // its entry value or a new one.
            self.entry_used |= self.dirty;
        }
        for (block, dirty) in std::mem::take(&mut self.reexecute_exits) {
            self.b.switch_to_block(block);
            let dirty = if self.loops { self.dirty } else { dirty };
            self.exit(EXIT_REEXECUTE, true, dirty);
        }
        for (block, dirty, to) in std::mem::take(&mut self.side_exits) {
            self.b.switch_to_block(block);
            let dirty = if self.loops { self.dirty } else { dirty };
            self.write_state(dirty);
            self.chain_out(Chain::Slot(to));
        }
        let loads = self.loads;
        self.b.switch_to_block(self.entry);
        if self.icount {
            let nofit = self.b.create_block();
            self.b.set_cold_block(nofit);
            let fits = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, self.remaining, max_count as i64);
            self.b.ins().brif(fits, loads, &[], nofit, &[]);
            self.b.seal_block(nofit);
            self.b.switch_to_block(nofit);
            // Chained blocks leave the queue to the block they enter: this
            // one's start.
            let front = self.b.ins().iconst(types::I32, self.start as i64);
            let back = self.b.ins().iconst(types::I32, self.start.wrapping_add(4) as i64);
            let zero = self.b.ins().iconst(types::I32, 0);
            for (v, at) in [
                (front, offset_of!(CpuState, iaoq_front)),
                (back, offset_of!(CpuState, iaoq_back)),
                (zero, offset_of!(CpuState, psw_n)),
            ] {
                self.b.ins().store(state_flags(), v, self.cpu, at as i32);
            }
            self.store_remaining(self.remaining);
            self.ret(EXIT_NOFIT);
        } else {
            self.b.ins().jump(loads, &[]);
        }
        self.b.seal_block(self.entry);
        self.b.seal_block(loads);
        self.b.switch_to_block(loads);
        if self.unchecked {
            // An access that faults restarts the block with the budget it
            // was entered with.
            self.store_remaining(self.remaining);
        }
        for (var, init) in std::mem::take(&mut self.inits) {
            let v = match init {
                Init::Slot(slot, _, _) if self.entry_used & (1u128 << slot) == 0 => continue,
                Init::Slot(_, at, ty) => self.b.ins().load(ty, state_flags(), self.cpu, at),
                Init::Value(v) => v,
            };
            self.b.def_var(var, v);
        }
        if self.spaces_read {
            for (var, at) in [
                (self.q.front_space, offset_of!(CpuState, iasq_front)),
                (self.q.back_space, offset_of!(CpuState, iasq_back)),
            ] {
                let v = self.b.ins().load(types::I32, state_flags(), self.cpu, at as i32);
                self.b.def_var(var, v);
            }
        }
        self.b.ins().jump(self.body, &[]);
        self.b.seal_block(self.body);
        self.b.finalize(self.frontend);
        Finished { slots: self.slots_used, restartable }
    }

    /// One more retired instruction.
    fn count_one(&mut self) {
        if self.icount {
            let left = self.b.use_var(self.q.left);
            let left = self.b.ins().iadd_imm_s(left, -1);
            self.b.def_var(self.q.left, left);
        }
    }

    /// Moves the queue one step: the back becomes the front, `next` (or
    /// the sequential successor) the back.
    fn advance(&mut self, next: Option<Value>, next_space: Option<Value>, nullify: Option<Value>) {
        let back = self.b.use_var(self.q.back);
        let next = next.unwrap_or_else(|| self.b.ins().iadd_imm_s(back, 4));
        let n = nullify.unwrap_or_else(|| self.b.ins().iconst(types::I8, 0));
        self.b.def_var(self.q.front, back);
        self.b.def_var(self.q.back, next);
        self.b.def_var(self.q.n, n);
        if self.space_changed || next_space.is_some() {
            self.spaces_read = true;
            let back_space = self.b.use_var(self.q.back_space);
            let next_space = next_space.unwrap_or(back_space);
            self.b.def_var(self.q.front_space, back_space);
            self.b.def_var(self.q.back_space, next_space);
        }
    }

    /// Writes the state back and returns `code`. `executing`: the state is
    /// the one before an instruction that executes (PSW N clear); otherwise
    /// the queue variables' nullification is stored.
    fn exit(&mut self, code: u32, executing: bool, dirty: u128) {
        self.write_state(dirty);
        self.write_queue(executing);
        let left = self.remaining_left();
        self.store_remaining(left);
        self.ret(code);
    }

    /// The budget left after the instructions retired so far (the entry's
    /// when not counting).
    fn remaining_left(&mut self) -> Value {
        if !self.icount {
            return self.remaining;
        }
        self.b.use_var(self.q.left)
    }

    /// Hands the budget left to the runtime (which derives the retired
    /// count from it) on a return.
    fn store_remaining(&mut self, left: Value) {
        if self.icount {
            let at = offset_of!(JitContext, remaining) as i32;
            self.b.ins().store(state_flags(), left, self.ctx, at);
        }
    }

    /// Writes the registers of the `dirty` set (those the block changed
    /// on the way to the exit).
    fn write_state(&mut self, dirty: u128) {
        for slot in 0..SLOTS {
            if dirty & (1u128 << slot) != 0 {
                let var = self.state[slot].expect("a dirty slot has a variable");
                let v = self.b.use_var(var);
                self.b.ins().store(state_flags(), v, self.cpu, slot_place(slot).0);
            }
        }
    }

    /// Writes the instruction address queue and PSW N (see [`Lower::exit`]).
    fn write_queue(&mut self, executing: bool) {
        for (var, at) in [
            (self.q.front, offset_of!(CpuState, iaoq_front)),
            (self.q.back, offset_of!(CpuState, iaoq_back)),
        ] {
            let v = self.b.use_var(var);
            self.b.ins().store(state_flags(), v, self.cpu, at as i32);
        }
        if self.space_changed {
            self.write_spaces();
        }
        let n = if executing {
            self.b.ins().iconst(types::I32, 0)
        } else {
            let n = self.b.use_var(self.q.n);
            self.b.ins().uextend(types::I32, n)
        };
        self.b.ins().store(state_flags(), n, self.cpu, offset_of!(CpuState, psw_n) as i32);
    }

    fn write_spaces(&mut self) {
        for (var, at) in [
            (self.q.front_space, offset_of!(CpuState, iasq_front)),
            (self.q.back_space, offset_of!(CpuState, iasq_back)),
        ] {
            let v = self.b.use_var(var);
            self.b.ins().store(state_flags(), v, self.cpu, at as i32);
        }
    }

    /// The re-execute exit of the current instruction.
    fn reexecute(&mut self) -> Block {
        debug_assert!(!self.fx.wrote, "semantics stop only before architectural writes");
        if let Some(out) = self.fx.reexecute {
            return out;
        }
        // Laid out after the block's code, out of the way of its path.
        let out = self.b.create_block();
        self.b.set_cold_block(out);
        self.fx.reexecute = Some(out);
        out
    }

    /// Leaves through the re-execute exit when `bad` is set.
    fn stop_if(&mut self, bad: Value) {
        let out = self.reexecute();
        let go_on = self.b.create_block();
        self.b.ins().brif(bad, out, &[], go_on, &[]);
        self.b.seal_block(go_on);
        self.b.switch_to_block(go_on);
    }

    /// The constant `v` was built from, if any.
    fn const_of(&self, v: Value) -> Option<i64> {
        let dfg = &self.b.func.dfg;
        match dfg.value_def(v) {
            ValueDef::Result(inst, _) => match dfg.insts[inst] {
                InstructionData::UnaryImm {
                    opcode: Opcode::Iconst,
                    imm,
                } => Some(imm.bits()),
                _ => None,
            },
            _ => None,
        }
    }

    /// `x` when `v` was built as `!x`.
    fn complemented(&self, v: Value) -> Option<Value> {
        let dfg = &self.b.func.dfg;
        match dfg.value_def(v) {
            ValueDef::Result(inst, _) => match dfg.insts[inst] {
                InstructionData::Unary { opcode: Opcode::Bnot, arg } => Some(arg),
                _ => None,
            },
            _ => None,
        }
    }

    /// What a branch target value is known to be.
    fn known_target(&self, v: Value) -> Next {
        if let Some(t) = self.const_of(v) {
            return Next::Fixed(t as u32);
        }
        let dfg = &self.b.func.dfg;
        if let ValueDef::Result(inst, _) = dfg.value_def(v) {
            if let InstructionData::Ternary {
                opcode: Opcode::Select,
                args: [taken, to, fallthrough],
            } = dfg.insts[inst]
            {
                if let (Some(t), Some(f)) = (self.const_of(to), self.const_of(fallthrough)) {
                    return Next::Either(taken, t as u32, f as u32);
                }
            }
        }
        Next::Computed
    }

    fn slot_var(&mut self, slot: usize) -> Variable {
        if let Some(v) = self.state[slot] {
            return v;
        }
        let (at, ty) = slot_place(slot);
        let v = self.b.declare_var(ty);
        self.inits.push((v, Init::Slot(slot, at, ty)));
        self.state[slot] = Some(v);
        v
    }

    fn read_slot(&mut self, slot: usize) -> Value {
        let var = self.slot_var(slot);
        if self.written & (1u128 << slot) == 0 {
            self.entry_used |= 1u128 << slot;
        }
        self.b.use_var(var)
    }

    fn write_slot(&mut self, slot: usize, v: Value) {
        let var = self.slot_var(slot);
        self.b.def_var(var, v);
        if self.conditional {
            self.entry_used |= 1u128 << slot;
        } else {
            self.written |= 1u128 << slot;
        }
        self.dirty |= 1u128 << slot;
        self.fx.wrote = true;
    }

    /// A host pointer from the context, loaded where it is used: kept in
    /// a register for the whole block it would take one from the guest
    /// registers (measured: 4-6% faster than loading once on entry) —
    /// except the memory base, which nearly every access needs since loads
    /// skip the permission table (loaded on entry: fannkuch and sort 2%
    /// faster).
    fn ptr(&mut self, p: Ptr) -> Value {
        if let Ptr::MemBase = p {
            return self.mem_base;
        }
        self.b.ins().load(types::I64, state_flags(), self.ctx, p.offset())
    }

    /// Checks an access of `size` bytes at guest `addr` needing permission
    /// `need` (stores: also outside pages holding code) and returns the
    /// host address and the page number; a failed check leaves through the
    /// re-execute exit, where the interpreter faults or performs the store.
    fn guest_access(&mut self, addr: Value, size: u32, need: u8, store: bool) -> (Value, Value) {
        if self.memory.data_tlb {
            return self.translated_access(addr, size, store);
        }
        // One test and branch per check (no flags combined in registers).
        self.check_alignment(addr, size);
        let page = self.b.ins().ushr_imm_u(addr, 12);
        let page = self.b.ins().uextend(types::I64, page);
        let perms = self.ptr(Ptr::Perms);
        let at = self.b.ins().iadd(perms, page);
        let p = self.b.ins().uload8(types::I32, table_flags(), at, 0);
        let denied = if store {
            // One test and branch: readable (so host-writable: the host
            // may refuse write-only pages), writable, holding no code and,
            // when the table keeps the dirty bits, already dirty.
            let dirty = if self.memory.dirty == DirtyMarking::PermBit { perm::DIRTY } else { 0 };
            let want = need | perm::READ | dirty;
            let bits = self.b.ins().band_imm_u(p, (want | perm::CODE) as i64);
            self.b.ins().icmp_imm_s(IntCC::NotEqual, bits, want as i64)
        } else {
            let allowed = self.b.ins().band_imm_u(p, need as i64);
            self.b.ins().icmp_imm_s(IntCC::Equal, allowed, 0)
        };
        self.stop_if(denied);
        (self.host_address(addr), page)
    }

    /// The host address and flags of a load of `size` bytes at guest `addr`.
    fn load_access(&mut self, addr: Value, size: u32) -> (Value, MemFlagsData) {
        if self.unchecked_access(addr, size, false) {
            return (self.host_address(addr), faulting_guest_flags());
        }
        (self.guest_access(addr, size, perm::READ, false).0, guest_flags())
    }

    /// The host address and flags of a store of `size` bytes at guest
    /// `addr` (its page marked dirty if the block must).
    fn store_access(&mut self, addr: Value, size: u32) -> (Value, MemFlagsData) {
        if self.unchecked_access(addr, size, true) {
            return (self.host_address(addr), faulting_guest_flags());
        }
        let (host, page) = self.guest_access(addr, size, perm::WRITE, true);
        self.mark_dirty(page);
        (host, guest_flags())
    }

    /// Notes an access for the restart rule and tells whether it tests only
    /// its alignment (then emitted), relying on the host to fault where the
    /// guest may not access. A host fault runs the block again in the
    /// interpreter from its entry (`Jit::restart_faulted`), whose state the
    /// block has not written yet (it keeps guest registers in host
    /// registers until it leaves). That redoes exactly what the block did
    /// while no store has changed what an earlier load read: each store is
    /// redone with the same value, each load reads what it read. Accesses
    /// are told apart when their addresses are one value plus different
    /// constants.
    fn unchecked_access(&mut self, addr: Value, size: u32, store: bool) -> bool {
        let host_faults = if store { self.memory.stores_fault } else { self.memory.loads_fault };
        let unchecked = host_faults && self.rerunnable && !self.memory.data_tlb;
        self.stored |= store;
        if self.rerunnable {
            let access = self.guest_ref(addr, size);
            if store {
                self.rerunnable = self.loaded.iter().all(|load| load.disjoint(&access));
            } else {
                self.loaded.push(access);
            }
        }
        if unchecked {
            self.unchecked = true;
            self.check_alignment(addr, size);
        }
        unchecked
    }

    /// `addr` as a base value plus a constant, following constant additions
    /// (a base register advanced by `ldo` or a `,mb` access).
    fn guest_ref(&self, addr: Value, size: u32) -> GuestRef {
        let (mut base, mut offset) = (addr, 0u32);
        loop {
            if let Some(k) = self.const_of(base) {
                return GuestRef { base: None, offset: offset.wrapping_add(k as u32), size };
            }
            let ValueDef::Result(inst, _) = self.b.func.dfg.value_def(base) else { break };
            let InstructionData::Binary { opcode: Opcode::Iadd, args: [x, y] } = self.b.func.dfg.insts[inst] else {
                break;
            };
            let (next, k) = match (self.const_of(x), self.const_of(y)) {
                (_, Some(k)) => (x, k),
                (Some(k), None) => (y, k),
                (None, None) => break,
            };
            base = next;
            offset = offset.wrapping_add(k as u32);
        }
        GuestRef { base: Some(base), offset, size }
    }

    /// Leaves through the re-execute exit if `addr` is not aligned to `size`.
    fn check_alignment(&mut self, addr: Value, size: u32) {
        if size > 1 {
            let low = self.b.ins().band_imm_u(addr, (size - 1) as i64);
            self.stop_if(low);
        }
    }

    /// The host address of guest `addr` in flat memory.
    fn host_address(&mut self, addr: Value) -> Value {
        let base = self.ptr(Ptr::MemBase);
        let offset = self.b.ins().uextend(types::I64, addr);
        self.b.ins().iadd(base, offset)
    }

    /// [`Lower::guest_access`] with data translation on: the [`crate::memory::DataTlb`]
    /// entry of the access kind must hold the key of (space, offset) —
    /// which a misaligned offset never matches — and gives the host
    /// address; otherwise the access leaves through the re-execute exit,
    /// where the interpreter translates it through the guest TLB (and
    /// fills the entry), faults or reaches a device. Absolute accesses
    /// always leave.
    fn translated_access(&mut self, addr: Value, size: u32, store: bool) -> (Value, Value) {
        if self.absolute {
            let always = self.b.ins().iconst(types::I8, 1);
            self.stop_if(always);
        }
        let space = match self.explicit_space {
            Some(s) => self.sr(s),
            None => {
                // sr4..sr7 by the offset's top two bits.
                let quadrant = self.b.ins().ushr_imm_u(addr, 30);
                let odd = self.b.ins().band_imm_u(quadrant, 1);
                let high = self.b.ins().band_imm_u(quadrant, 2);
                let [sr4, sr5, sr6, sr7] = [4, 5, 6, 7].map(|r| self.sr(r));
                let low_pair = self.b.ins().select(odd, sr5, sr4);
                let high_pair = self.b.ins().select(odd, sr7, sr6);
                self.b.ins().select(high, high_pair, low_pair)
            }
        };
        let page = self.b.ins().ushr_imm_u(addr, 12);
        let index = self.b.ins().band_imm_u(page, (DATA_TLB_ENTRIES - 1) as i64);
        let index = self.b.ins().uextend(types::I64, index);
        let offset = self.b.ins().ishl_imm_u(index, DATA_TLB_ENTRY_SHIFT as i64);
        let tlb = self.ptr(Ptr::DataTlb);
        let entry = self.b.ins().iadd(tlb, offset);
        let table = if store { DATA_TLB_WRITE } else { DATA_TLB_READ } as i32;
        let tag = self.b.ins().load(types::I64, table_flags(), entry, table);
        let masked = self.b.ins().band_imm_u(addr, (!(PAGE_SIZE - 1) | (size - 1)) as i64);
        let masked = self.b.ins().uextend(types::I64, masked);
        let space = self.b.ins().uextend(types::I64, space);
        let space = self.b.ins().ishl_imm_u(space, 32);
        let key = self.b.ins().bor(space, masked);
        let miss = self.b.ins().icmp(IntCC::NotEqual, tag, key);
        self.stop_if(miss);
        if store {
            // The interpreter watches stores by offset; so do blocks.
            let code = self.ptr(Ptr::CodePages);
            let page = self.b.ins().uextend(types::I64, page);
            let at = self.b.ins().iadd(code, page);
            let has_code = self.b.ins().uload8(types::I32, table_flags(), at, 0);
            self.stop_if(has_code);
        }
        let addend = self.b.ins().load(types::I64, table_flags(), entry, table + DATA_TLB_ADDEND as i32);
        let offset = self.b.ins().uextend(types::I64, addr);
        (self.b.ins().iadd(addend, offset), page)
    }

    /// Sets the page's bit in the dirty bitmap, as the memory's own writes
    /// do, when the bitmap is kept (with data translation on, an entry for
    /// writes exists only while its page's bit is set).
    fn mark_dirty(&mut self, page: Value) {
        if self.memory.data_tlb || self.memory.dirty != DirtyMarking::Bitmap {
            return;
        }
        let dirty = self.ptr(Ptr::Dirty);
        let word = self.b.ins().ushr_imm_u(page, 6);
        let word = self.b.ins().ishl_imm_u(word, 3);
        let at = self.b.ins().iadd(dirty, word);
        let one = self.b.ins().iconst(types::I64, 1);
        let bit = self.b.ins().ishl(one, page);
        let old = self.b.ins().load(types::I64, state_flags(), at, 0);
        let new = self.b.ins().bor(old, bit);
        self.b.ins().store(state_flags(), new, at, 0);
    }

    fn fp_signature(&mut self) -> SigRef {
        if let Some(s) = self.fp_sig {
            return s;
        }
        let mut sig = Signature::new(self.frontend.default_call_conv);
        for ty in [types::I64, types::I32, types::I64, types::I64, types::I32, types::I64] {
            sig.params.push(AbiParam::new(ty));
        }
        let s = self.b.import_signature(sig);
        self.fp_sig = Some(s);
        s
    }
}

impl Lower<'_> {
    /// `fastfp::nearest` for doubles in host code: `op` on `a` and `b` (as
    /// bits) — the result bits, whether it is inexact, and whether the
    /// result is accepted (otherwise the helper must compute it).
    fn host_double(&mut self, op: Op, a: Value, b: Value) -> (Value, Value, Value) {
        let fa = self.b.ins().bitcast(types::F64, MemFlagsData::new(), a);
        let fb = self.b.ins().bitcast(types::F64, MemFlagsData::new(), b);
        let zero = self.b.ins().f64const(0.0);
        let magnitude = |l: &mut Self, bits: Value| l.b.ins().band_imm_u(bits, !(1u64 << 63) as i64);
        // Zero or at least 2^-900 in magnitude.
        let far = |l: &mut Self, bits: Value| {
            let m = magnitude(l, bits);
            let is_zero = l.b.ins().icmp_imm_u(IntCC::Equal, m, 0);
            let large = l.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, m, FAR_FROM_UNDERFLOW_BITS as i64);
            l.b.ins().bor(is_zero, large)
        };
        // At least 2^-900 in magnitude (a double, so not zero).
        let big = |l: &mut Self, x: Value| {
            let bits = l.b.ins().bitcast(types::I64, MemFlagsData::new(), x);
            let m = magnitude(l, bits);
            l.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThanOrEqual, m, FAR_FROM_UNDERFLOW_BITS as i64)
        };
        // The error term of products, quotients and roots: x · y - z.
        let residual_nonzero = |l: &mut Self, x: Value, y: Value, z: Value| {
            let minus_z = l.b.ins().fneg(z);
            let r = l.b.ins().fma(x, y, minus_z);
            l.b.ins().fcmp(FloatCC::NotEqual, r, zero)
        };
        let (result, inexact, ok) = match op {
            Op::Add | Op::Sub => {
                let fb = if op == Op::Sub { self.b.ins().fneg(fb) } else { fb };
                // 2Sum: the error is exactly a + b - s unless something
                // overflowed, which leaves it infinite or NaN.
                let s = self.b.ins().fadd(fa, fb);
                let b_part = self.b.ins().fsub(s, fa);
                let a_part = self.b.ins().fsub(s, b_part);
                let a_error = self.b.ins().fsub(fa, a_part);
                let b_error = self.b.ins().fsub(fb, b_part);
                let error = self.b.ins().fadd(a_error, b_error);
                let error_bits = self.b.ins().bitcast(types::I64, MemFlagsData::new(), error);
                let error_magnitude = magnitude(self, error_bits);
                let finite =
                    self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, error_magnitude, DOUBLE_INFINITY as i64);
                let inexact = self.b.ins().fcmp(FloatCC::NotEqual, error, zero);
                (s, inexact, finite)
            }
            Op::Mul => {
                let p = self.b.ins().fmul(fa, fb);
                let ok = big(self, p);
                (p, residual_nonzero(self, fa, fb, p), ok)
            }
            Op::Div => {
                let q = self.b.ins().fdiv(fa, fb);
                let q_ok = big(self, q);
                let (a_far, b_far) = (far(self, a), far(self, b));
                let operands_far = self.b.ins().band(a_far, b_far);
                let ok = self.b.ins().band(operands_far, q_ok);
                (q, residual_nonzero(self, q, fb, fa), ok)
            }
            Op::Sqrt => {
                let r = self.b.ins().sqrt(fa);
                let positive = self.b.ins().fcmp(FloatCC::GreaterThan, r, zero);
                let a_far = far(self, a);
                let ok = self.b.ins().band(a_far, positive);
                (r, residual_nonzero(self, r, r, fa), ok)
            }
        };
        // Accepted: a normal result above the smallest normal, or a zero
        // computed exactly.
        let bits = self.b.ins().bitcast(types::I64, MemFlagsData::new(), result);
        let m = magnitude(self, bits);
        let above_min = self.b.ins().icmp_imm_u(IntCC::UnsignedGreaterThan, m, DOUBLE_MIN_NORMAL as i64);
        let below_inf = self.b.ins().icmp_imm_u(IntCC::UnsignedLessThan, m, DOUBLE_INFINITY as i64);
        let normal = self.b.ins().band(above_min, below_inf);
        let is_zero = self.b.ins().icmp_imm_u(IntCC::Equal, m, 0);
        let exact = self.b.ins().bxor_imm_u(inexact, 1);
        let exact_zero = self.b.ins().band(is_zero, exact);
        let accepted = self.b.ins().bor(normal, exact_zero);
        let ok = self.b.ins().band(ok, accepted);
        (bits, inexact, ok)
    }
}

/// Calls a floating-point helper for translated code, which passes the
/// result through memory.
extern "C" fn call_fp_helper(f: FpHelper, status: u32, a: u64, b: u64, param: u32, out: *mut FpOut) {
    // SAFETY: `out` is the caller's stack slot of FpOut's size and alignment.
    unsafe { out.write(f(status, a, b, param)) }
}

fn intcc(c: Cmp) -> IntCC {
    match c {
        Cmp::Eq => IntCC::Equal,
        Cmp::Ne => IntCC::NotEqual,
        Cmp::Lt => IntCC::SignedLessThan,
        Cmp::Le => IntCC::SignedLessThanOrEqual,
        Cmp::Ltu => IntCC::UnsignedLessThan,
        Cmp::Leu => IntCC::UnsignedLessThanOrEqual,
    }
}

impl Emitter for Lower<'_> {
    type Val = Value;
    type Wide = Value;
    type Flag = Value;

    fn imm(&mut self, v: u32) -> Value {
        self.b.ins().iconst(types::I32, v as i64)
    }
    fn imm_flag(&mut self, f: bool) -> Value {
        self.b.ins().iconst(types::I8, f as i64)
    }

    fn gr(&mut self, r: u8) -> Value {
        match r & 31 {
            0 => self.b.ins().iconst(types::I32, 0),
            r => self.read_slot(r as usize),
        }
    }
    fn set_gr(&mut self, r: u8, v: Value) {
        self.fx.wrote = true;
        if r & 31 != 0 {
            self.write_slot((r & 31) as usize, v);
        }
    }
    fn fr(&mut self, r: u8) -> Value {
        self.read_slot(SLOT_FR + (r & 31) as usize)
    }
    fn set_fr(&mut self, r: u8, v: Value) {
        self.write_slot(SLOT_FR + (r & 31) as usize, v)
    }
    fn sr(&mut self, r: u8) -> Value {
        self.read_slot(SLOT_SR + (r & 7) as usize)
    }
    fn set_sr(&mut self, r: u8, v: Value) {
        self.write_slot(SLOT_SR + (r & 7) as usize, v)
    }
    fn cr(&mut self, r: u8) -> Value {
        self.read_slot(SLOT_CR + (r & 31) as usize)
    }
    fn set_cr(&mut self, r: u8, v: Value) {
        self.write_slot(SLOT_CR + (r & 31) as usize, v)
    }
    fn psw_cb(&mut self) -> Value {
        self.read_slot(SLOT_CB)
    }
    fn psw_cb_msb(&mut self) -> Value {
        self.read_slot(SLOT_CB_MSB)
    }
    fn set_psw_cb(&mut self, cb: Value, msb: Value) {
        self.write_slot(SLOT_CB, cb);
        self.write_slot(SLOT_CB_MSB, msb);
    }
    fn psw_v(&mut self) -> Value {
        self.read_slot(SLOT_V)
    }
    fn set_psw_v(&mut self, v: Value) {
        self.write_slot(SLOT_V, v)
    }
    fn iaoq_back(&mut self) -> Value {
        match self.static_back {
            Some(back) => self.b.ins().iconst(types::I32, back as i64),
            None => self.b.use_var(self.q.back),
        }
    }
    fn iasq_back(&mut self) -> Value {
        self.spaces_read = true;
        self.b.use_var(self.q.back_space)
    }
    fn psw(&mut self) -> Value {
        self.read_slot(SLOT_PSW)
    }
    fn priv_level(&mut self) -> Value {
        self.read_slot(SLOT_PL)
    }
    fn set_priv_level(&mut self, pl: Value) {
        self.write_slot(SLOT_PL, pl)
    }

    fn add(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().iadd(a, b)
    }
    fn add_carry(&mut self, a: Value, b: Value, carry_in: Value) -> (Value, Value) {
        // The forms compilers use most stay 32-bit: a + b, whose carry is
        // the sum wrapping, and a - x as a + ~x + 1, whose carry is a >= x.
        match self.const_of(carry_in) {
            Some(0) => {
                let sum = self.b.ins().iadd(a, b);
                let carry = self.b.ins().icmp(IntCC::UnsignedLessThan, sum, a);
                return (sum, self.b.ins().uextend(types::I32, carry));
            }
            Some(1) => {
                if let Some(x) = self.complemented(b) {
                    let diff = self.b.ins().isub(a, x);
                    let carry = self.b.ins().icmp(IntCC::UnsignedGreaterThanOrEqual, a, x);
                    return (diff, self.b.ins().uextend(types::I32, carry));
                }
            }
            _ => {}
        }
        let a = self.b.ins().uextend(types::I64, a);
        let b = self.b.ins().uextend(types::I64, b);
        let c = self.b.ins().uextend(types::I64, carry_in);
        let s = self.b.ins().iadd(a, b);
        let s = self.b.ins().iadd(s, c);
        let sum = self.b.ins().ireduce(types::I32, s);
        let out = self.b.ins().ushr_imm_u(s, 32);
        (sum, self.b.ins().ireduce(types::I32, out))
    }
    fn sub(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().isub(a, b)
    }
    fn and(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().band(a, b)
    }
    fn or(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().bor(a, b)
    }
    fn xor(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().bxor(a, b)
    }
    fn not(&mut self, a: Value) -> Value {
        self.b.ins().bnot(a)
    }
    // Cranelift shifts take the amount modulo the width, as the trait asks.
    fn shl(&mut self, a: Value, n: Value) -> Value {
        self.b.ins().ishl(a, n)
    }
    fn shr(&mut self, a: Value, n: Value) -> Value {
        self.b.ins().ushr(a, n)
    }
    fn sar(&mut self, a: Value, n: Value) -> Value {
        self.b.ins().sshr(a, n)
    }
    fn rotr(&mut self, a: Value, n: Value) -> Value {
        self.b.ins().rotr(a, n)
    }
    fn mul_wide(&mut self, a: Value, b: Value) -> Value {
        let a = self.b.ins().uextend(types::I64, a);
        let b = self.b.ins().uextend(types::I64, b);
        self.b.ins().imul(a, b)
    }

    fn cmp(&mut self, c: Cmp, a: Value, b: Value) -> Value {
        self.b.ins().icmp(intcc(c), a, b)
    }
    fn flag_and(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().band(a, b)
    }
    fn flag_or(&mut self, a: Value, b: Value) -> Value {
        self.b.ins().bor(a, b)
    }
    fn flag_not(&mut self, a: Value) -> Value {
        // A comparison's complement is one comparison (and a branch on it
        // one cmp and jcc).
        if let ValueDef::Result(inst, _) = self.b.func.dfg.value_def(a) {
            if let InstructionData::IntCompare { opcode: Opcode::Icmp, args: [x, y], cond } = self.b.func.dfg.insts[inst] {
                return self.b.ins().icmp(cond.complement(), x, y);
            }
        }
        self.b.ins().bxor_imm_u(a, 1)
    }
    fn select(&mut self, f: Value, if_true: Value, if_false: Value) -> Value {
        self.b.ins().select(f, if_true, if_false)
    }
    fn flag_val(&mut self, f: Value) -> Value {
        self.b.ins().uextend(types::I32, f)
    }

    fn pair(&mut self, high: Value, low: Value) -> Value {
        let h = self.b.ins().uextend(types::I64, high);
        let h = self.b.ins().ishl_imm_u(h, 32);
        let l = self.b.ins().uextend(types::I64, low);
        self.b.ins().bor(h, l)
    }
    fn high(&mut self, w: Value) -> Value {
        let h = self.b.ins().ushr_imm_u(w, 32);
        self.b.ins().ireduce(types::I32, h)
    }
    fn low(&mut self, w: Value) -> Value {
        self.b.ins().ireduce(types::I32, w)
    }

    fn load(&mut self, w: Width, addr: Value) -> Result<Value, Stopped> {
        let (host, flags) = self.load_access(addr, 1 << w.log2());
        Ok(match w {
            Width::Byte => self.b.ins().uload8(types::I32, flags, host, 0),
            Width::Half => {
                let v = self.b.ins().load(types::I16, flags, host, 0);
                let v = self.b.ins().bswap(v);
                self.b.ins().uextend(types::I32, v)
            }
            Width::Word => {
                let v = self.b.ins().load(types::I32, flags, host, 0);
                self.b.ins().bswap(v)
            }
        })
    }
    fn load_wide(&mut self, addr: Value) -> Result<Value, Stopped> {
        let (host, flags) = self.load_access(addr, 8);
        let v = self.b.ins().load(types::I64, flags, host, 0);
        Ok(self.b.ins().bswap(v))
    }
    fn store(&mut self, w: Width, addr: Value, v: Value) -> Flow {
        let (host, flags) = self.store_access(addr, 1 << w.log2());
        match w {
            Width::Byte => {
                self.b.ins().istore8(flags, v, host, 0);
            }
            Width::Half => {
                let h = self.b.ins().ireduce(types::I16, v);
                let h = self.b.ins().bswap(h);
                self.b.ins().store(flags, h, host, 0);
            }
            Width::Word => {
                let s = self.b.ins().bswap(v);
                self.b.ins().store(flags, s, host, 0);
            }
        }
        self.fx.wrote = true;
        Ok(())
    }
    fn store_wide(&mut self, addr: Value, v: Value) -> Flow {
        let (host, flags) = self.store_access(addr, 8);
        let s = self.b.ins().bswap(v);
        self.b.ins().store(flags, s, host, 0);
        self.fx.wrote = true;
        Ok(())
    }

    fn call_fp(&mut self, f: FpHelper, status: Value, a: Value, b: Value, param: u32) -> (Value, Value, Value) {
        let sig = self.fp_signature();
        let slot = *self.fp_slot.get_or_insert_with(|| {
            self.b.create_sized_stack_slot(StackSlotData::new(
                StackSlotKind::ExplicitSlot,
                std::mem::size_of::<FpOut>() as u32,
                3,
            ))
        });
        let out = self.b.ins().stack_addr(types::I64, slot, 0);
        let callee = self.b.ins().iconst(types::I64, call_fp_helper as *const () as usize as i64);
        let helper = self.b.ins().iconst(types::I64, f as *const () as usize as i64);
        let param = self.b.ins().iconst(types::I32, param as i64);
        self.b.ins().call_indirect(sig, callee, &[helper, status, a, b, param, out]);
        let bits = self.b.ins().stack_load(types::I64, types::I64, slot, offset_of!(FpOut, bits) as i32);
        let st = self.b.ins().stack_load(types::I64, types::I32, slot, offset_of!(FpOut, status) as i32);
        let trap = self.b.ins().stack_load(types::I64, types::I32, slot, offset_of!(FpOut, trap) as i32);
        (bits, st, trap)
    }

    /// The host's result where it is provably the helper's (round to
    /// nearest, the inexact trap disabled, `fastfp`'s conditions), else the
    /// helper's.
    fn call_fp_double(&mut self, op: Op, f: FpHelper, st: Value, a: Value, b: Value) -> (Value, Value, Value) {
        if op != Op::Add && op != Op::Sub && !fastfp::fma::host_has() {
            return self.call_fp(f, st, a, b, 0);
        }
        let (fast, slow, done) = (self.b.create_block(), self.b.create_block(), self.b.create_block());
        let [bits, new_st, trap] = [types::I64, types::I32, types::I32].map(|ty| self.b.append_block_param(done, ty));
        let mode = self.b.ins().band_imm_u(st, (3 << status::RM_SHIFT | exc::INEXACT) as i64);
        self.b.ins().brif(mode, slow, &[], fast, &[]);
        self.b.seal_block(fast);
        self.b.switch_to_block(fast);
        let (result, inexact, ok) = self.host_double(op, a, b);
        let flag = self.b.ins().uextend(types::I32, inexact);
        let flag = self.b.ins().ishl_imm_u(flag, (status::FLAGS_SHIFT + exc::INEXACT.trailing_zeros()) as i64);
        let fast_st = self.b.ins().bor(st, flag);
        let no_trap = self.b.ins().iconst(types::I32, 0);
        let args = [result, fast_st, no_trap].map(BlockArg::Value);
        self.b.ins().brif(ok, done, &args, slow, &[]);
        self.b.seal_block(slow);
        self.b.switch_to_block(slow);
        let (r, s, t) = self.call_fp(f, st, a, b, 0);
        self.b.ins().jump(done, &[r, s, t].map(BlockArg::Value));
        self.b.seal_block(done);
        self.b.switch_to_block(done);
        (bits, new_st, trap)
    }

    fn branch(&mut self, target: Value) {
        self.fx.next = Some(target);
    }
    fn branch_if(&mut self, taken: Value, target: Value) {
        let fallthrough = match (self.fx.next, self.static_back) {
            (Some(v), _) => v,
            (None, Some(back)) => self.b.ins().iconst(types::I32, back.wrapping_add(4) as i64),
            (None, None) => {
                let back = self.b.use_var(self.q.back);
                self.b.ins().iadd_imm_s(back, 4)
            }
        };
        self.fx.next = Some(self.b.ins().select(taken, target, fallthrough));
    }
    fn branch_space(&mut self, space: Value) {
        self.fx.next_space = Some(space);
    }
    fn nullify_next(&mut self, f: Value) {
        self.fx.nullify = Some(f);
    }
    fn trap_if(&mut self, f: Value, _ev: Event) -> Flow {
        self.stop_if(f);
        Ok(())
    }
    fn stop(&mut self, _ev: Event) -> Stopped {
        let out = self.reexecute();
        self.b.ins().jump(out, &[]);
        Stopped
    }
    fn flush_icache(&mut self, addr: Value) {
        self.fx.flush = Some(addr);
    }
}
