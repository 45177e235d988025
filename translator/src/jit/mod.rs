//! The Cranelift JIT: guest blocks translated to host code with an
//! instruction counter injected into every block.
//!
//! # Contract
//!
//! [`Jit`] implements [`Engine`] with the interpreter's contract exactly:
//! for every budget it stops at the same instruction with the same
//! [`CpuState`] and [`Exit`]. It gets there like this:
//!
//! - **Counting.** Each block retires a number of instructions that depends
//!   on nullification at run time; it counts what retires and, on entry,
//!   checks that its largest possible count still fits the budget. A block
//!   that may not fit returns at once, and the interpreter finishes the
//!   budget instruction by instruction.
//! - **Stops.** A fault, trap or event leaves the block with the state
//!   before the instruction concerned (semantics never write before a stop),
//!   and the interpreter performs that one instruction, which reports the
//!   exit as it always does.
//! - **Odd queue states** (a stop between a branch and its delay slot, PSW N
//!   set, a branch in a delay slot) are stepped by the interpreter until
//!   execution is back at a plain block entry.
//!
//! # Self-modifying code
//!
//! Pages holding translated or decoded code are marked in the interpreter's
//! [`crate::code_pages::CodePages`] map. A translated store into such a page
//! leaves its block through the re-execute exit; the interpreter performs
//! the store and reports the page, whose translations are then dropped.
//! `fic` ends its block and drops its page; the runtime calls
//! [`Engine::invalidate`] for every range it writes on the guest's behalf
//! (`read` buffers, signal frames, mappings, `brk`, emulated stores).
//!
//! The budget travels with execution: the runtime passes the instructions
//! it still allows to the first block, each block checks it on entry and
//! passes what is left to the block it chains to, and a block returning to
//! the runtime leaves it in the [`JitContext`], from which the runtime
//! derives `CpuState::retired`.
//!
//! # Faults
//!
//! A translated access that may fault tests the page's permission and
//! leaves through the re-execute exit, where the interpreter faults
//! exactly. Loads from memories whose unreadable pages fault on the host
//! ([`FlatMemory::unreadable_pages_fault`], the Linux user-mode address
//! space) skip that test before any store of their block, and in looping
//! blocks only if the block stores nothing: a fault on the host then comes
//! back through the entry trampoline ([`enter`]), and the block is run again
//! in the interpreter from its entry, whose state neither a store nor a
//! write-back has changed yet (blocks keep guest registers in host
//! registers and write them back only when they leave).
//!
//! # Translation in the background
//!
//! With [`JitConfig::background`] (the default) Cranelift runs on a compile
//! worker thread ([`worker`]): a block that becomes hot is requested and
//! interpreted until its code comes back (the worker compiles the block
//! interpreted most while waiting first), and finished code is installed
//! by the guest thread between blocks. Which blocks are translated when
//! then depends on thread timing, but nothing a guest can observe does:
//! interpreted and translated code retire the same instructions with the
//! same states. A translation is installed only if nothing it was made
//! from changed while it was under way: its page not invalidated (by a
//! store, `fic` or [`Engine::invalidate`]; requests in flight are marked
//! stale) and the cache not flushed since (which reuses the chaining slots
//! its code names; the flush count tells). Without `background` the guest
//! thread translates a block the moment it becomes hot, the same way.
//!
//! # Profiling
//!
//! With `HBFT_PERF_MAP` set in the environment, every translated block is
//! named `guest_<address>` in `/tmp/perf-<pid>.map`, where `perf report`
//! finds it.
//!
//! # `icount` off
//!
//! [`JitConfig::icount`] `false` removes the injected counter (the entry
//! check and the count) to measure its cost. Events and faults stay exact,
//! but translated code no longer advances `CpuState::retired`: only
//! instructions the interpreter steps are counted, and budgets are not
//! enforced inside translated code, so a run returns only on events.

mod block;
mod cache;
mod enter;
mod lower;
mod worker;

use std::io::Write as _;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{types, AbiParam, Signature};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use hashbrown::HashMap;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};

use crate::engine::Engine;
use crate::interp::{Exit, Interpreter, GATEWAY_END};
use crate::memory::{DataTlb, FlatMemory, GuestMemory, PAGE_SIZE};
use crate::state::CpuState;
use cache::{CodeCache, Slots, CODE_REGION_BYTES};
use lower::{DirtyMarking, Lower, MemoryPath};
use worker::{CodeSnapshot, Compiled, Request, Worker};

/// A block ran to its end (or to an odd queue state); the CPU state says where.
const EXIT_CONTINUE: u32 = 0;
/// The block may not fit in the budget; nothing was executed.
const EXIT_NOFIT: u32 = 1;
/// The CPU state is before an instruction the interpreter must perform.
const EXIT_REEXECUTE: u32 = 2;

/// No `fic` since the last block.
const NO_FLUSH: u64 = u64::MAX;

/// Chaining slots set aside per translation: a block's final exit chains
/// to at most two fixed successors (`lower::Chain::Either`), each side
/// exit to one.
const SLOTS_PER_TRANSLATION: u32 = 2 + block::MAX_SIDE_EXITS;

/// What translated code reads besides the CPU state. `#[repr(C)]`: blocks
/// reach the fields through `offset_of!`.
#[repr(C)]
struct JitContext {
    /// Host address of guest address 0.
    mem_base: *mut u8,
    /// Permission byte per guest page.
    perms: *const u8,
    /// Nonzero byte per guest page holding cached code.
    code_pages: *const u8,
    /// Dirty bit per guest page.
    dirty: *mut u64,
    /// Instructions the budget still allows, as left by the last block
    /// that returned (blocks pass it to each other as an argument; the
    /// runtime derives `CpuState::retired` from it).
    remaining: u64,
    /// Guest address a `fic` flushed, or [`NO_FLUSH`].
    flush: u64,
    /// The direct-mapped block table (computed branches look up here).
    fast_table: *const cache::FastEntry,
    /// The empty chaining slot the last block left through, or 0.
    exit_slot: u64,
    /// The memory's [`DataTlb`] when data translation is on, else null.
    data_tlb: *const DataTlb,
    /// The entry trampoline's stack pointer at its call of the first block.
    saved_rsp: usize,
    /// The host addresses of the code region.
    code_start: usize,
    code_end: usize,
    /// The host address of the translated access that faulted, for
    /// [`enter::EXIT_FAULTED`], and whether it was a store.
    fault_rip: usize,
    fault_write: bool,
}

/// How a [`Jit`] works; [`JitConfig::default`] is what `hbft run` uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JitConfig {
    /// The injected instruction counter (see the module documentation).
    pub icount: bool,
    /// Times a block address must be reached before it is translated;
    /// colder code is interpreted.
    pub hot: u32,
    /// Bytes of host code the cache holds before it is flushed.
    pub cache_bytes: usize,
    /// Translated stores mark their page in the memory's dirty bitmap
    /// ([`FlatMemory::dirty_bitmap`]). Only a reader of the bitmap needs
    /// it (the state hash of journaled, replicated and system-mode runs);
    /// without it the bitmap misses translated stores.
    pub dirty_pages: bool,
    /// Translate on a compile worker thread while the guest thread goes
    /// on interpreting (see the module documentation); otherwise on the
    /// guest thread, the moment a block becomes hot, which makes
    /// [`JitStats`] reproducible.
    pub background: bool,
}

impl Default for JitConfig {
    /// Translating a block costs about as much as interpreting some ten
    /// thousand instructions (some 300 µs of Cranelift), so on the guest
    /// thread only blocks reached some hundreds of times were worth it
    /// (512 and 256 beat 1024 by 3-5% on Lua and zlib, 2048 lost 5-10%).
    /// In the background a block costs the guest thread only what it
    /// interprets while waiting, and the second core the compile. The
    /// guest thread's CPU time on the `hbft bench engines` guests hardly
    /// depends on the threshold between 32 and 512 (main 522940b, median
    /// of 7: Lua 1.60 s at 128 and 512, 1.65 s at 256; zlib 1.41 s at
    /// 128, 1.43 s at 256, 1.46 s at 512; 32 and 64 no better); the
    /// compile work grows as it falls (Lua 0.33 s at 512, 0.44 s at 128,
    /// 0.60 s at 32). 128: the lowest zlib time, for a third more
    /// compile work on Lua than at 512.
    fn default() -> Self {
        JitConfig { icount: true, hot: 128, cache_bytes: CODE_REGION_BYTES, dirty_pages: true, background: true }
    }
}

/// Why a JIT could not be created.
#[derive(Debug, thiserror::Error)]
pub enum JitError {
    #[error("Cranelift does not support this host: {0}")]
    Host(String),
    #[error("cannot map the JIT code cache: {0}")]
    CodeCache(std::io::Error),
    #[error("cannot start the JIT's compile thread: {0}")]
    Worker(std::io::Error),
}

/// Counters about the JIT's work (not guest state).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitStats {
    /// Blocks translated (and installed).
    pub translated: u64,
    /// Translations thrown away because their page was invalidated or
    /// the cache flushed while they were under way.
    pub discarded: u64,
    /// Code cache flushes because it was full.
    pub cache_flushes: u64,
    /// Guest code pages whose translations were dropped.
    pub invalidated_pages: u64,
    /// Translated loads that faulted on the host, whose blocks were run
    /// again in the interpreter.
    pub host_faults: u64,
}

/// Guest blocks to host code with Cranelift.
struct Compiler {
    isa: OwnedTargetIsa,
    builder: FunctionBuilderContext,
    ctx: cranelift_codegen::Context,
    signature: Signature,
}

impl Compiler {
    fn new() -> Result<Compiler, JitError> {
        let mut flags = settings::builder();
        let host = |e: &dyn std::fmt::Display| JitError::Host(e.to_string());
        flags.set("opt_level", "speed").map_err(|e| host(&e))?;
        // The verifier checks the lowering; only debug builds pay for it.
        let verify = if cfg!(debug_assertions) { "true" } else { "false" };
        flags.set("enable_verifier", verify).map_err(|e| host(&e))?;
        // Cranelift's tail calls (block chaining) need frame pointers.
        flags.set("preserve_frame_pointers", "true").map_err(|e| host(&e))?;
        let isa = cranelift_native::builder()
            .map_err(|e| host(&e))?
            .finish(settings::Flags::new(flags))
            .map_err(|e| host(&e))?;
        let mut signature = Signature::new(CallConv::Tail);
        // The CPU state, the context, the budget left.
        signature.params.extend([AbiParam::new(types::I64); 3]);
        signature.returns.push(AbiParam::new(types::I32));
        Ok(Compiler {
            isa,
            builder: FunctionBuilderContext::new(),
            ctx: cranelift_codegen::Context::new(),
            signature,
        })
    }

    /// Host code for the block at `pc` and what else it needs (the chaining
    /// slots from `slots` it uses); `None` when its first instruction cannot
    /// be fetched or decoded (the interpreter reports why).
    fn compile<M: GuestMemory>(
        &mut self,
        mem: &M,
        pc: u32,
        icount: bool,
        memory: MemoryPath,
        slots: u64,
    ) -> Option<(&[u8], block::BlockInfo)> {
        let first = block::fetch(mem, pc)?;
        let mut memory = memory;
        let info = loop {
            self.ctx.clear();
            self.ctx.func.signature = self.signature.clone();
            let b = FunctionBuilder::new(&mut self.ctx.func, &mut self.builder);
            let lower = Lower::new(b, pc, icount, memory, self.isa.frontend_config(), slots);
            let info = block::translate(lower, mem, pc, first);
            if info.restartable || !memory.host_faults() {
                break info;
            }
            memory = memory.without_host_faults();
        };
        self.finish().map(|code| (code, info))
    }

    /// Compiles a request (on whichever thread holds the compiler).
    fn translate(&mut self, request: &Request) -> Compiled {
        let Some((code, info)) = self
            .compile(&request.code, request.pc, request.icount, request.memory, request.slots)
            .filter(|(_, info)| info.slots <= request.slot_count)
        else {
            return Compiled { pc: request.pc, code: None, next_page_word: None };
        };
        let next_page_word = match info.spans_pages {
            false => None,
            true => match request.code.fetch(next_page(request.pc)) {
                Ok(word) => Some(word),
                Err(_) => unreachable!("the block's delay slot was fetched from the snapshot"),
            },
        };
        Compiled { pc: request.pc, code: Some((code.to_vec(), info.slots)), next_page_word }
    }

    /// Compiles the function built in the context.
    fn finish(&mut self) -> Option<&[u8]> {
        let code = self.ctx.compile(&*self.isa, &mut ControlPlane::default()).ok()?;
        // Blocks reach helpers through absolute addresses; code that needs
        // relocation cannot be copied into the cache.
        code.buffer.relocs().is_empty().then(|| code.code_buffer())
    }
}

/// Where translations are compiled.
enum Translator {
    /// On the guest thread, at once.
    Here(Compiler),
    /// On the compile worker thread.
    Background(Worker),
}

/// A translation requested and not installed yet.
struct InFlight {
    /// The cache's flush count at the request.
    flushes: u64,
    /// The block's page was invalidated since.
    stale: bool,
    slots: Slots,
    /// [`Request::wanted`].
    wanted: Arc<AtomicU32>,
}

/// The JIT engine.
pub struct Jit {
    /// Performs what translated code leaves to it; its code-page map is
    /// shared with the translations.
    interp: Interpreter,
    cache: CodeCache,
    translator: Translator,
    config: JitConfig,
    ctx: Box<JitContext>,
    /// Times each untranslated block address was reached.
    heat: HashMap<u32, u32>,
    /// Translations under way, by block address.
    in_flight: HashMap<u32, InFlight>,
    stats: JitStats,
    /// The cached blocks access data through a [`DataTlb`].
    data_tlb: bool,
    /// The cached blocks may load without permission tests, relying on the
    /// memory's unreadable pages faulting on the host.
    loads_fault: bool,
    /// The cached blocks may store without permission tests, relying on
    /// the memory's unwritable pages faulting on the host.
    stores_fault: bool,
    /// `/tmp/perf-PID.map`, when `HBFT_PERF_MAP` is set: names translated
    /// blocks by guest address for `perf report`.
    perf_map: Option<std::io::LineWriter<std::fs::File>>,
}

impl Jit {
    pub fn new(config: JitConfig) -> Result<Jit, JitError> {
        let compiler = Compiler::new()?;
        let cache = CodeCache::new(config.cache_bytes).map_err(JitError::CodeCache)?;
        enter::install_fault_handler().map_err(|e| JitError::Host(format!("cannot install the fault handler: {e}")))?;
        let code = cache.code_range();
        let translator = if config.background {
            Translator::Background(Worker::start(compiler).map_err(JitError::Worker)?)
        } else {
            Translator::Here(compiler)
        };
        Ok(Jit {
            interp: Interpreter::new(),
            ctx: Box::new(JitContext {
                mem_base: std::ptr::null_mut(),
                perms: std::ptr::null(),
                code_pages: std::ptr::null(),
                dirty: std::ptr::null_mut(),
                remaining: 0,
                flush: NO_FLUSH,
                fast_table: cache.fast_table(),
                exit_slot: 0,
                data_tlb: std::ptr::null(),
                saved_rsp: 0,
                code_start: code.start,
                code_end: code.end,
                fault_rip: 0,
                fault_write: false,
            }),
            cache,
            translator,
            heat: HashMap::new(),
            in_flight: HashMap::new(),
            config,
            stats: JitStats::default(),
            data_tlb: false,
            loads_fault: false,
            stores_fault: false,
            perf_map: std::env::var_os("HBFT_PERF_MAP").and_then(|_| {
                let path = format!("/tmp/perf-{}.map", std::process::id());
                std::fs::File::create(path).ok().map(std::io::LineWriter::new)
            }),
        })
    }

    /// The pages whose code this JIT has translated or decoded.
    pub fn code_pages_mut(&mut self) -> &mut crate::code_pages::CodePages {
        self.interp.code_pages_mut()
    }

    pub fn stats(&self) -> JitStats {
        JitStats {
            cache_flushes: self.cache.flushes,
            ..self.stats
        }
    }

    /// With [`JitConfig::background`], keeps the compile worker from
    /// starting another translation while `held` (requests queue up); for
    /// tests of what happens to translations under way.
    pub fn hold_translations(&mut self, held: bool) {
        if let Translator::Background(worker) = &self.translator {
            worker.hold(held);
        }
    }

    /// Waits until every requested translation has come back and installs
    /// those still valid for `mem`. The worker must not be held.
    pub fn finish_translations<M: FlatMemory>(&mut self, mem: &mut M) {
        while !self.in_flight.is_empty() {
            let Translator::Background(worker) = &self.translator else { break };
            let Some(done) = worker.recv() else { break };
            self.install_or_flush(mem, done);
        }
    }

    /// Runs until `budget` more instructions are retired or an event stops
    /// execution: [`Interpreter::run`]'s contract.
    pub fn run<M: FlatMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        let stop_at = cpu.retired.saturating_add(budget);
        self.ctx.mem_base = mem.host_base();
        self.ctx.perms = mem.perm_table();
        self.ctx.dirty = mem.dirty_bitmap();
        self.ctx.code_pages = self.interp.code_pages_mut().as_ptr();
        self.ctx.data_tlb = mem.data_tlb();
        // Blocks access data one way or the other: keep only those of
        // the way this memory asks for.
        let path = (!self.ctx.data_tlb.is_null(), mem.unreadable_pages_fault(), mem.unwritable_pages_fault());
        if (self.data_tlb, self.loads_fault, self.stores_fault) != path {
            (self.data_tlb, self.loads_fault, self.stores_fault) = path;
            self.cache.flush();
            // The decodings kept may have been marked in another memory.
            for &page in self.interp.code_pages_mut().pages() {
                mem.mark_code(page);
            }
        }
        // The empty slot the last block left through: linked to the next
        // block if that is where execution goes next.
        let mut link = 0;
        loop {
            if cpu.retired >= stop_at {
                return Exit::Budget;
            }
            let flushes = self.cache.flushes;
            if !self.in_flight.is_empty() {
                self.install_finished(mem);
            }
            if !cpu.at_block_entry() {
                link = 0;
                match self.interpret(cpu, mem, 1) {
                    Exit::Budget => continue,
                    exit => return exit,
                }
            }
            let pc = cpu.iaoq_front;
            if pc < GATEWAY_END {
                return Exit::Gateway { offset: pc };
            }
            let code = match self.cache.lookup(pc) {
                Some(code) => code,
                None => match self.translate_if_hot(mem, pc) {
                    Some(code) => code,
                    None => {
                        link = 0;
                        match self.interpret_block(cpu, mem, stop_at) {
                            Exit::Budget => continue,
                            exit => return exit,
                        }
                    }
                },
            };
            let slot = std::mem::take(&mut link);
            // A flush while installing or translating freed the slot with
            // everything else.
            if slot != 0 && self.cache.flushes == flushes {
                self.cache.link(slot, pc, code);
            }
            // SAFETY: `code` is a live block compiled with the block
            // signature, entered through the trampoline; the context points
            // at `mem`'s tables, which outlive this call, and at the cache's
            // table and slots, which change only between blocks.
            let exit = unsafe { enter::enter(cpu, &mut *self.ctx, code, stop_at - cpu.retired) };
            if self.config.icount {
                cpu.retired = stop_at - self.ctx.remaining;
            }
            match exit {
                EXIT_NOFIT => return self.interpret(cpu, mem, stop_at - cpu.retired),
                EXIT_REEXECUTE => match self.interpret(cpu, mem, 1) {
                    Exit::Budget => {}
                    exit => return exit,
                },
                enter::EXIT_FAULTED => match self.restart_faulted(cpu, mem, stop_at) {
                    Exit::Budget => {}
                    exit => return exit,
                },
                _ => {
                    link = std::mem::take(&mut self.ctx.exit_slot);
                    if self.ctx.flush != NO_FLUSH {
                        let addr = self.ctx.flush as u32;
                        self.ctx.flush = NO_FLUSH;
                        self.invalidate(addr, 1);
                    }
                }
            }
        }
    }

    /// Runs the block whose load or store faulted on the host again in the
    /// interpreter, from its entry: blocks skip permission tests only where
    /// that redoes what they did (see `Lower::unchecked_access`; looping,
    /// only if they store nothing), the CPU state still holds the block's
    /// entry state and the context the budget it was entered with. The
    /// interpreter then faults exactly where the guest does, or performs
    /// the access the host refused (a store into a page holding code or a
    /// write-only page).
    fn restart_faulted<M: FlatMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, stop_at: u64) -> Exit {
        let Some(pc) = self.cache.block_containing(self.ctx.fault_rip) else {
            unreachable!("a fault in the code region lies in a block")
        };
        self.stats.host_faults += 1;
        cpu.iaoq_front = pc;
        cpu.iaoq_back = pc.wrapping_add(4);
        cpu.psw_n = 0;
        let mut budget = stop_at - cpu.retired;
        if self.ctx.fault_write {
            // The host may refuse a store the guest may do (into a page
            // holding code, or a write-only page): the interpreter then
            // stores and goes on. Only blocks without loops store without
            // tests, so their length bounds the run past the store.
            budget = budget.min(block::MAX_BLOCK_INSNS.into());
        }
        self.interpret(cpu, mem, budget)
    }

    /// Interprets from a block entry whose block is not translated, up to
    /// the next jump (where another block may start) or the budget.
    fn interpret_block<M: FlatMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, stop_at: u64) -> Exit {
        let budget = (stop_at - cpu.retired).min(block::MAX_BLOCK_INSNS.into());
        let exit = self.interp.run_block(cpu, mem, budget);
        self.after_interpreting(mem);
        exit
    }

    /// Drops translations and decodings of `len` bytes from `start`.
    pub fn invalidate(&mut self, start: u32, len: u32) {
        if len == 0 {
            return;
        }
        self.interp.invalidate(start, len);
        let first = start / PAGE_SIZE;
        let last = start.saturating_add(len - 1) / PAGE_SIZE;
        drop_pages(&mut self.cache, &mut self.in_flight, &mut self.stats, first, last);
    }

    /// Lets the interpreter run `budget` instructions, then drops the
    /// translations of pages whose code it saw changed.
    fn interpret<M: FlatMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        let exit = self.interp.run(cpu, mem, budget);
        self.after_interpreting(mem);
        exit
    }

    /// Marks the pages the interpreter started holding code of, and drops
    /// the translations of pages whose code it saw changed.
    fn after_interpreting<M: FlatMemory>(&mut self, mem: &mut M) {
        self.mark_code(mem);
        let changed: Vec<u32> = self.interp.take_code_changes().collect();
        for page in changed {
            drop_pages(&mut self.cache, &mut self.in_flight, &mut self.stats, page, page);
            // Translated stores may write the page again at full speed
            // until code of it is cached again (a signal frame's trampoline
            // on the stack would otherwise slow every store there).
            if !self.interp.code_pages_mut().contains(page) {
                mem.clear_code(page);
            }
        }
    }

    /// Marks the pages that started holding code (translated or decoded)
    /// in the memory's permission table, which translated stores test.
    fn mark_code<M: FlatMemory>(&mut self, mem: &mut M) {
        for page in self.interp.code_pages_mut().take_new() {
            mem.mark_code(page);
        }
    }

    /// The code of the block at `pc` once it has been reached often
    /// enough: translated at once, or requested from the worker (and
    /// `None` until it is installed).
    fn translate_if_hot<M: FlatMemory>(&mut self, mem: &mut M, pc: u32) -> Option<usize> {
        if !self.in_flight.is_empty() {
            if let Some(flight) = self.in_flight.get(&pc) {
                flight.wanted.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
        let heat = self.heat.entry(pc).or_insert(0);
        *heat += 1;
        if *heat < self.config.hot {
            return None;
        }
        self.heat.remove(&pc);
        match self.translate(mem, pc) {
            Ok(at) => at,
            Err(cache::Full) => {
                // The code names slots of the full cache: translate again
                // after the flush.
                self.cache.flush();
                self.translate(mem, pc).ok().flatten()
            }
        }
    }

    /// Translates the block at `pc` here, or requests it from the worker
    /// (`Ok(None)` until it is installed).
    fn translate<M: FlatMemory>(&mut self, mem: &mut M, pc: u32) -> Result<Option<usize>, cache::Full> {
        let Some(request) = self.request(mem, pc) else { return Ok(None) };
        let done = match &mut self.translator {
            Translator::Background(worker) => {
                worker.send(request);
                return Ok(None);
            }
            Translator::Here(compiler) => compiler.translate(&request),
        };
        self.install(mem, done)
    }

    /// What translating the block at `pc` takes, with its chaining slots
    /// set aside and the translation recorded as under way; its page is
    /// marked as holding code from now on, so that changes to it are seen.
    fn request<M: FlatMemory>(&mut self, mem: &mut M, pc: u32) -> Option<Request> {
        let slots = match self.cache.reserve_slots(SLOTS_PER_TRANSLATION as usize) {
            Ok(slots) => slots,
            Err(cache::Full) => {
                self.cache.flush();
                self.cache.reserve_slots(SLOTS_PER_TRANSLATION as usize).ok()?
            }
        };
        self.interp.code_pages_mut().insert(pc / PAGE_SIZE);
        self.mark_code(mem);
        let dirty = match (self.config.dirty_pages, mem.dirty_in_perms()) {
            (false, _) => DirtyMarking::Off,
            (true, true) => DirtyMarking::PermBit,
            (true, false) => DirtyMarking::Bitmap,
        };
        let wanted = Arc::new(AtomicU32::new(0));
        self.in_flight.insert(pc, InFlight { flushes: self.cache.flushes, stale: false, slots, wanted: Arc::clone(&wanted) });
        Some(Request {
            pc,
            code: CodeSnapshot::take(mem, pc),
            icount: self.config.icount,
            memory: MemoryPath {
                data_tlb: self.data_tlb,
                loads_fault: self.loads_fault,
                // A store that must mark its page dirty must not skip its test.
                stores_fault: self.stores_fault && dirty == DirtyMarking::Off,
                dirty,
            },
            slots: self.cache.slot_address(slots),
            slot_count: SLOTS_PER_TRANSLATION,
            wanted,
        })
    }

    /// Installs the translations the worker has finished.
    fn install_finished<M: FlatMemory>(&mut self, mem: &mut M) {
        loop {
            let Translator::Background(worker) = &self.translator else { return };
            let Some(done) = worker.try_recv() else { return };
            self.install_or_flush(mem, done);
        }
    }

    /// Installs a finished translation if it is still valid, flushing the
    /// cache if it is full (the translation is then dropped too).
    fn install_or_flush<M: FlatMemory>(&mut self, mem: &mut M, done: Compiled) {
        if let Err(cache::Full) = self.install(mem, done) {
            self.cache.flush();
        }
    }

    /// Adds a finished translation to the cache unless its page was
    /// invalidated, the word it took from the next page changed, or the
    /// cache was flushed since it was requested; the code's address if it
    /// was added.
    fn install<M: FlatMemory>(&mut self, mem: &mut M, done: Compiled) -> Result<Option<usize>, cache::Full> {
        let pc = done.pc;
        let flight = self.in_flight.remove(&pc).expect("every translation is requested first");
        let slots_valid = flight.flushes == self.cache.flushes;
        let next_page_same = done.next_page_word.is_none_or(|word| mem.fetch(next_page(pc)) == Ok(word));
        let (code, used) = match done.code {
            Some(code) if slots_valid && !flight.stale && next_page_same => code,
            untranslatable => {
                self.stats.discarded += untranslatable.is_some() as u64;
                if slots_valid {
                    self.cache.release_slots(flight.slots, 0);
                }
                return Ok(None);
            }
        };
        let spans_pages = done.next_page_word.is_some();
        let at = self.cache.insert(pc, &code, flight.slots, used, spans_pages)?;
        if spans_pages {
            // Changes to the next page must now drop the block too.
            self.interp.code_pages_mut().insert(next_page(pc) / PAGE_SIZE);
            self.mark_code(mem);
        }
        self.stats.translated += 1;
        if let Some(map) = &mut self.perf_map {
            // Profiling aid only: a failed write loses symbols, not guest state.
            let _ = writeln!(map, "{at:x} {:x} guest_{pc:08x}", code.len());
        }
        Ok(Some(at))
    }
}

/// Drops the translations of pages `first..=last` from `cache`, and marks
/// those under way stale.
fn drop_pages(cache: &mut CodeCache, in_flight: &mut HashMap<u32, InFlight>, stats: &mut JitStats, first: u32, last: u32) {
    stats.invalidated_pages += (first..=last).filter(|&p| cache.has_page(p)).count() as u64;
    cache.invalidate_pages(first, last);
    for (&pc, flight) in in_flight {
        if (first..=last).contains(&(pc / PAGE_SIZE)) {
            flight.stale = true;
        }
    }
}

/// Guest address of the page after the one holding `pc`.
fn next_page(pc: u32) -> u32 {
    (pc & !(PAGE_SIZE - 1)).wrapping_add(PAGE_SIZE)
}

impl<M: FlatMemory> Engine<M> for Jit {
    fn run(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        Jit::run(self, cpu, mem, budget)
    }

    fn invalidate(&mut self, start: u32, len: u32) {
        Jit::invalidate(self, start, len)
    }

    fn invalidate_all(&mut self) {
        self.interp.invalidate_all();
        self.cache.flush();
    }
}
