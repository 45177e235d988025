//! What the runtime needs from an execution engine.
//!
//! Both engines — the interpreter (per-instruction counting) and the
//! Cranelift JIT (per-block injected counters) — implement [`Engine`] with
//! the same contract, so the runtime's run loop, epochs and replication do
//! not know which one executes the guest: for every budget they stop at the
//! same instruction with the same [`CpuState`] and the same [`Exit`].

use crate::interp::{Exit, Interpreter};
use crate::memory::GuestMemory;
use crate::state::CpuState;

/// An execution engine over guest memory of type `M`.
pub trait Engine<M> {
    /// Runs until `budget` more instructions have been retired or an event
    /// stops execution; the contract is [`Interpreter::run`]'s.
    fn run(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit;

    /// Guest code in `len` bytes from `start` may have changed: drop every
    /// host-side translation or decoding of it.
    fn invalidate(&mut self, start: u32, len: u32);

    /// Drops every host-side translation or decoding (system mode: the
    /// code context changed).
    fn invalidate_all(&mut self);
}

impl<M: GuestMemory> Engine<M> for Interpreter {
    fn run(&mut self, cpu: &mut CpuState, mem: &mut M, budget: u64) -> Exit {
        Interpreter::run(self, cpu, mem, budget)
    }

    fn invalidate(&mut self, start: u32, len: u32) {
        Interpreter::invalidate(self, start, len)
    }

    fn invalidate_all(&mut self) {
        Interpreter::invalidate_all(self)
    }
}
