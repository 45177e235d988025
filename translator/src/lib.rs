//! hbft-translator: PA-RISC guest semantics, written once, and the engines
//! that execute them.
//!
//! Each instruction's semantics is defined a single time over an emitter
//! trait; the interpreter (the reference engine, counting every retired
//! instruction) evaluates it directly and the Cranelift JIT lowers it to host
//! code with an instruction counter injected into every translated block.
//! Nothing here reads host time, host addresses or hash-map order in a way a
//! guest can observe.

pub mod memory;
pub mod state;
