//! The Linux/parisc user-mode personality: process start-up, system calls
//! and light-weight system calls.

mod abi;
pub mod env;
pub mod errno;
mod files;
pub mod lws;
mod misc;
mod mm;
pub mod numbers;
mod poll;
pub mod process;
pub mod signal;
mod signals;
pub mod startup;
mod strace;
mod sysroot;
pub mod timers;
pub mod unaligned;

pub use env::{Environment, HostEnvironment};
pub use errno::Errno;
pub use lws::{LwsArgs, LwsOutcome};
pub use process::{LinuxProcess, SyscallOutcome};
pub use signal::{deliver_signal, sigreturn, Delivery, SigInfo, SignalError};
pub use startup::{load_program, InitialState, StartupError};

#[cfg(test)]
mod tests;
