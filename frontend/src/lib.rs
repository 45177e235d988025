//! hbft-frontend: the PA-RISC instruction set as data.
//!
//! Instruction words become typed [`Insn`] values through one declarative
//! decode table ([`decode`]); [`display`] turns them into exactly the text of
//! `hppa-linux-gnu-objdump -d`; [`elf`] loads ELF32 big-endian EM_PARISC
//! executables and [`listing`] prints an objdump-style listing of one.
//! Nothing in this crate executes guest code.

pub mod decode;
pub mod display;
pub mod encode;
pub mod elf;
pub mod fields;
pub mod insn;
pub mod listing;

pub use decode::{decode, DecodeError};
pub use display::{disassemble_word, AddressPrinter};
pub use encode::{encode, EncodeError};
pub use insn::Insn;
