//! The engines of system mode, one per code context.
//!
//! Host-side caches of code (the interpreter's decodings, the JIT's blocks)
//! are keyed by offset alone, so they are valid only in the code context
//! they were filled in ([`CodeContext`]). A kernel switches between a few
//! contexts all the time (its own, physical; each process's, translated),
//! so instead of dropping its caches at every switch, [`Engines`] parks
//! the engine of the context left and resumes the one of the context
//! entered, as long as nothing it cached has changed:
//!
//! - a translated context's code is valid only with the ITLB it was
//!   cached under (an evicted or purged entry must miss again), so it is
//!   part of the context and older translated contexts are dropped;
//! - a parked engine's code may be overwritten by stores made in another
//!   context. Its pages are kept as physical page numbers and compared with
//!   RAM's dirty bitmap, which names every page written in the current
//!   epoch: when it resumes, and at every epoch end before the bitmap is
//!   cleared ([`Engines::epoch_end`]). A hit drops all of its code.

use hbft_translator::engine::Engine;
use hbft_translator::interp::{Exit, Interpreter};
use hbft_translator::jit::Jit;
use hbft_translator::memory::{FlatMemory, PAGE_SIZE};
use hbft_translator::state::CpuState;

use super::tlb::Tlb;
use super::SystemError;
use crate::memory::AddressSpace;
use crate::user_mode::EngineKind;

/// Engines kept for contexts other than the current one: the kernel's
/// and, per process, its user and gateway levels.
const PARKED: usize = 6;

/// The engine, over RAM or over translated memory.
pub enum SystemEngine {
    Interp(Interpreter),
    Jit(Box<Jit>),
}

impl SystemEngine {
    fn new(kind: EngineKind) -> Result<SystemEngine, SystemError> {
        // Every epoch end hashes RAM's dirty pages.
        Ok(match kind.marking_dirty_pages() {
            EngineKind::Interp => SystemEngine::Interp(Interpreter::new()),
            EngineKind::Jit(config) => {
                SystemEngine::Jit(Box::new(Jit::new(config).map_err(|e| SystemError::Jit(e.to_string()))?))
            }
        })
    }

    pub fn run<M: FlatMemory>(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        match self {
            SystemEngine::Interp(i) => i.run(cpu, mem, budget),
            SystemEngine::Jit(j) => j.run(cpu, mem, budget),
        }
    }

    pub fn invalidate(&mut self, start: u32, len: u32) {
        match self {
            SystemEngine::Interp(i) => i.invalidate(start, len),
            SystemEngine::Jit(j) => j.invalidate(start, len),
        }
    }

    pub fn invalidate_all(&mut self) {
        match self {
            SystemEngine::Interp(i) => Engine::<AddressSpace>::invalidate_all(i),
            SystemEngine::Jit(j) => Engine::<AddressSpace>::invalidate_all(&mut **j),
        }
    }

    /// The pages (by offset) whose code the engine holds.
    fn code_pages(&mut self) -> Vec<u32> {
        match self {
            SystemEngine::Interp(i) => i.code_pages_mut().pages().to_vec(),
            SystemEngine::Jit(j) => j.code_pages_mut().pages().to_vec(),
        }
    }
}

/// What cached code depends on: with code translation on, the instruction
/// spaces, the privilege level (execute rights), the protection IDs and the
/// ITLB; with it off, nothing (physical addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeContext {
    Physical,
    Translated { spaces: (u32, u32), priv_level: u32, pids: [u32; 4], itlb_changes: u64 },
}

impl CodeContext {
    /// The physical pages of `pages` (offsets in this context), or `None`
    /// when one has no translation in `itlb`.
    fn physical(&self, pages: &[u32], itlb: &Tlb) -> Option<Vec<u32>> {
        match *self {
            CodeContext::Physical => Some(pages.to_vec()),
            CodeContext::Translated { spaces: (space, _), .. } => {
                pages.iter().map(|&p| itlb.lookup(space, p * PAGE_SIZE).map(|e| e.ppn)).collect()
            }
        }
    }

    /// Whether code cached in this context can still be valid under an
    /// ITLB with `itlb_changes` changes.
    fn current(&self, itlb_changes: u64) -> bool {
        match *self {
            CodeContext::Physical => true,
            CodeContext::Translated { itlb_changes: at, .. } => at == itlb_changes,
        }
    }
}

/// A parked engine and the physical pages of its code.
struct Parked {
    context: CodeContext,
    engine: SystemEngine,
    code: Vec<u32>,
}

/// The current engine and the parked ones (see the module documentation).
pub struct Engines {
    kind: EngineKind,
    pub current: SystemEngine,
    /// The code context the current engine's caches were filled in.
    context: CodeContext,
    /// Most recently parked last.
    parked: Vec<Parked>,
}

impl Engines {
    pub fn new(kind: EngineKind) -> Result<Engines, SystemError> {
        Ok(Engines { kind, current: SystemEngine::new(kind)?, context: CodeContext::Physical, parked: Vec::new() })
    }

    /// Makes the engine of `context` current: resumes its parked engine
    /// (without the code RAM writes may have changed) or starts one with
    /// empty caches.
    pub fn enter(&mut self, context: CodeContext, itlb: &Tlb, ram: &AddressSpace) -> Result<(), SystemError> {
        if context == self.context {
            return Ok(());
        }
        let left_code = if self.context.current(itlb.changes) {
            self.context.physical(&self.current.code_pages(), itlb)
        } else {
            None
        };
        // Engines of translated contexts cached under an older ITLB can
        // never resume; they are emptied for reuse.
        let (keep, stale): (Vec<Parked>, Vec<Parked>) =
            std::mem::take(&mut self.parked).into_iter().partition(|p| p.context.current(itlb.changes));
        self.parked = keep;
        let mut spare: Vec<SystemEngine> = stale.into_iter().map(|p| p.engine).collect();
        let resumed = self.parked.iter().position(|p| p.context == context).map(|at| {
            let mut p = self.parked.remove(at);
            if p.code.iter().any(|&page| ram.is_dirty(page)) {
                p.engine.invalidate_all();
            }
            p.engine
        });
        let left_context = std::mem::replace(&mut self.context, context);
        match (resumed, left_code) {
            (Some(engine), left_code) => {
                let left = std::mem::replace(&mut self.current, engine);
                if let Some(code) = left_code {
                    self.park(left_context, left, code);
                }
            }
            (None, Some(code)) => {
                let fresh = match spare.pop() {
                    Some(engine) => engine,
                    None if self.parked.len() >= PARKED => self.parked.remove(0).engine,
                    None => SystemEngine::new(self.kind)?,
                };
                let left = std::mem::replace(&mut self.current, fresh);
                self.current.invalidate_all();
                self.park(left_context, left, code);
            }
            (None, None) => self.current.invalidate_all(),
        }
        Ok(())
    }

    fn park(&mut self, context: CodeContext, engine: SystemEngine, code: Vec<u32>) {
        if self.parked.len() >= PARKED {
            self.parked.remove(0);
        }
        self.parked.push(Parked { context, engine, code });
    }

    /// Before RAM's dirty bitmap is cleared at an epoch end: drops the
    /// code of parked engines that stores of this epoch may have changed.
    pub fn epoch_end(&mut self, ram: &AddressSpace) {
        for p in &mut self.parked {
            if p.code.iter().any(|&page| ram.is_dirty(page)) {
                p.engine.invalidate_all();
                p.code.clear();
            }
        }
    }
}
