//! hbft-runtime: the virtual machine around the engines.
//!
//! CPU state, guest memory, the run loop, epochs and interrupt buffering, and
//! the `Environment` that answers environment instructions (live or replayed).
//! Personalities: Linux user mode (system calls, signals, process start-up)
//! and system mode (a virtual board with console, disk and timer, a
//! deterministic virtual TLB and virtual privilege level).
