//! Instruction decoding (placeholder until the decoder lands).
use crate::insn::Insn;
/// A word that is not a PA-RISC instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("undecodable instruction word {0:#010x}")]
pub struct DecodeError(pub u32);
/// Decodes one instruction word.
pub fn decode(word: u32) -> Result<Insn, DecodeError> {
    Err(DecodeError(word))
}
