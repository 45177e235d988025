//! Typed PA-RISC instructions (placeholder until the decoder lands).
/// A decoded instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insn {}
