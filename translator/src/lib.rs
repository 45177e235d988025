//! hbft-translator: PA-RISC guest semantics, written once, and the engines
//! that execute them.
//!
//! Each instruction's semantics is defined a single time over an emitter
//! trait ([`semantics`]); the interpreter ([`interp`], the reference engine,
//! counting every retired instruction) evaluates it directly and the
//! Cranelift JIT lowers it to host code with an instruction counter injected
//! into every translated block. Floating-point arithmetic is shared as pure
//! helpers ([`softfp`]). Nothing here reads host time, host addresses or
//! hash-map order in a way a guest can observe.

pub mod code_pages;
pub mod engine;
pub mod fastfp;
pub mod interp;
pub mod jit;
pub mod memory;
pub mod semantics;
pub mod softfp;
pub mod state;
