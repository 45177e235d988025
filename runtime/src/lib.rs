//! hbft-runtime: the virtual machine around the engines.
//!
//! CPU state, guest memory, the run loop, epochs and interrupt buffering, and
//! the `Environment` that answers environment instructions (live or replayed).
//! Personalities: Linux user mode (system calls, signals, process start-up)
//! and system mode (a virtual board with console, disk and timer, a
//! deterministic virtual TLB and virtual privilege level).
//!
//! # Linux user mode, as a run loop uses it
//!
//! ```text
//! let mut mem = AddressSpace::new(Layout::linux_parisc32(STACK_MAX))?;
//! let image = ElfImage::parse(&bytes)?;
//! let interp = image.interp.as_deref().map(|p| load_interpreter(sysroot, p)).transpose()?;
//! let init = load_program(&mut mem, &image, interp.as_ref(), &argv, &envp, path)?;
//! // cpu: IAOQ = init.pc, init.pc + 4; GRs = init.gr
//! let mut process = LinuxProcess::new(Box::new(HostEnvironment));
//! loop {
//!     // ... execute until the gateway page is reached:
//!     // pc 0x100 (system call): r20 = number, r26..r21 = arguments
//!     match process.syscall(&mut mem, r20, [r26, r25, r24, r23, r22, r21]) {
//!         SyscallOutcome::Return(v) => { r28 = v; pc = r31 }
//!         SyscallOutcome::Exit(status) => break status,
//!         SyscallOutcome::Signal(sig) => { r28 = 0; pc = r31; deliver(sig) }
//!     }
//!     // pc 0xb0 (light-weight system call): r20 = index
//!     let out = process.light_weight_syscall(&mut mem, r20, LwsArgs { r26, r25, r24, r23 });
//!     r28 = out.r28; r21 = out.r21; pc = r31;
//! }
//! ```
//!
//! ## Signals ([`linux::signal`])
//!
//! Raising and delivering are separate, so asynchronous signals can be
//! buffered until an epoch ends and delivered at the same instruction on
//! every replica:
//!
//! ```text
//! // kill/tkill/tgkill to itself:
//! SyscallOutcome::Signal(sig) => { r28 = 0; pc = r31; process.raise(sig, SigInfo::sender(SI_USER)) }
//! // rt_sigreturn (the handler returned through the frame's trampoline):
//! SyscallOutcome::Sigreturn => match sigreturn(&mut cpu, &mut mem, &mut process) {
//!     Ok(()) => {}                       // every register and the IAOQ are restored
//!     Err(_) => fault(SIGSEGV, SigInfo::kernel()),  // as the kernel's force_sig(SIGSEGV)
//! }
//! // a fault: SIGSEGV (SEGV_MAPERR/ACCERR), SIGBUS (BUS_ADRALN), SIGILL,
//! // SIGFPE, SIGTRAP, with si_addr = the data address or the instruction:
//! fn fault(sig, info) {
//!     process.force_signal(sig);         // cannot be blocked or ignored
//!     act(deliver_signal(&mut cpu, &mut mem, &mut process, sig, info)?)
//! }
//! // at a delivery point (after a system call, at the end of an epoch):
//! while let Some((sig, info)) = process.next_deliverable() {
//!     act(deliver_signal(&mut cpu, &mut mem, &mut process, sig, info)?)
//! }
//! fn act(d: Delivery) = match d {
//!     Delivery::Handler => {}            // the CPU is at the handler; run on
//!     Delivery::Ignored => {}
//!     Delivery::Terminate { sig, core } => report and exit with status 128 + sig,
//! }
//! ```
//!
//! `deliver_signal` on a handler that cannot get a frame turns into SIGSEGV
//! itself; its `Err` only means a signal number outside 1..=64.
//!
//! Guest memory ([`memory::AddressSpace`]) implements
//! `hbft_translator::memory::GuestMemory`; JIT code may inline accesses via
//! `host_base()`, `perm_table()` and `dirty_bitmap()` (layout in
//! [`memory`]). The per-epoch state hash reads `dirty_pages()` and
//! `page_bytes()`, then calls `clear_dirty()`.
//!
//! Every host interaction of the Linux layer goes through
//! [`linux::Environment`]; a recording or replaying implementation can be
//! passed to [`linux::LinuxProcess::new`] instead of the live
//! [`linux::HostEnvironment`].

pub mod epoch;
pub mod journal;
pub mod linux;
pub mod memory;
pub mod state_hash;
pub mod system;
pub mod user_mode;
