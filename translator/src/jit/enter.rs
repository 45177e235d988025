//! Entering translated code, and getting out of it when a translated load
//! faults on the host.
//!
//! Blocks are entered through `hbft_jit_enter`, a hand-written trampoline
//! that saves every callee-saved register, records its stack pointer in the
//! context and calls the block with Cranelift's `tail` convention (CPU
//! state, context and budget in rdi, rsi, rdx; exit code in eax).
//!
//! Loads from a memory whose unreadable pages are inaccessible on the host
//! ([`crate::memory::FlatMemory::unreadable_pages_fault`]) skip the
//! permission test: a load from an unreadable page raises SIGSEGV. When the
//! faulting instruction lies in the running context's code region and the
//! address in its guest window, the handler resumes at `hbft_jit_faulted`,
//! which returns [`EXIT_FAULTED`] from the trampoline with the faulting host
//! address in the context (the way wasmtime turns a fault in compiled code
//! into a trap). Every other SIGSEGV goes to the handler installed before.

use std::cell::Cell;
use std::mem::offset_of;
use std::sync::OnceLock;

use super::JitContext;
use crate::state::CpuState;

/// A translated load faulted; the context holds the host address of the
/// faulting instruction.
pub(super) const EXIT_FAULTED: u32 = 3;

/// Bytes of host address space a guest address can reach from the base.
const GUEST_WINDOW: usize = 1 << 32;

std::arch::global_asm!(
    ".text",
    ".globl hbft_jit_enter",
    ".p2align 4",
    "hbft_jit_enter:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    // Keeps the stack 16-byte aligned at the call.
    "sub rsp, 8",
    "mov [rsi + {saved_rsp}], rsp",
    "mov rax, rdx",
    "mov rdx, rcx",
    "call rax",
    "2:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".globl hbft_jit_faulted",
    "hbft_jit_faulted:",
    "mov eax, {faulted}",
    "jmp 2b",
    saved_rsp = const offset_of!(JitContext, saved_rsp),
    faulted = const EXIT_FAULTED,
);

unsafe extern "C" {
    /// Calls block `code` as `(cpu, ctx, remaining)` and returns its exit
    /// code, or [`EXIT_FAULTED`].
    fn hbft_jit_enter(cpu: *mut CpuState, ctx: *mut JitContext, code: usize, remaining: u64) -> u32;
    /// Where the fault handler resumes: the trampoline's return with
    /// [`EXIT_FAULTED`], once the stack pointer is back at its call.
    fn hbft_jit_faulted();
}

thread_local! {
    /// The context whose blocks this thread is running, or null.
    static RUNNING: Cell<*mut JitContext> = const { Cell::new(std::ptr::null_mut()) };
}

/// Runs block `code` with the context `ctx` and returns its exit code.
///
/// # Safety
/// `code` must be a block compiled for the block signature whose embedded
/// addresses (slots, tables) are live, and `ctx` must describe `cpu`'s
/// memory and this cache, as [`super::Jit::run`] arranges.
pub(super) unsafe fn enter(cpu: *mut CpuState, ctx: *mut JitContext, code: usize, remaining: u64) -> u32 {
    RUNNING.with(|r| r.set(ctx));
    // SAFETY: as the caller promises.
    let exit = unsafe { hbft_jit_enter(cpu, ctx, code, remaining) };
    RUNNING.with(|r| r.set(std::ptr::null_mut()));
    exit
}

/// The SIGSEGV action installed before ours, to which other faults go, or
/// the error (errno) that kept ours from being installed.
static PREVIOUS: OnceLock<Result<libc::sigaction, i32>> = OnceLock::new();

/// Installs the fault handler (once per process; a failure is reported to
/// every caller).
pub(super) fn install_fault_handler() -> std::io::Result<()> {
    let installed = PREVIOUS.get_or_init(|| {
        // SAFETY: plain sigaction calls with initialised structures; the
        // handler only touches the running thread's context.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_segv as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            libc::sigemptyset(&mut action.sa_mask);
            let mut previous: libc::sigaction = std::mem::zeroed();
            match libc::sigaction(libc::SIGSEGV, &action, &mut previous) {
                0 => Ok(previous),
                _ => Err(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)),
            }
        }
    });
    installed.as_ref().map(|_| ()).map_err(|&errno| std::io::Error::from_raw_os_error(errno))
}

extern "C" fn on_segv(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo and ucontext; RUNNING is
    // null or the context of the block this thread is running, which lives
    // until `enter` returns.
    unsafe {
        if let Some(ctx) = RUNNING.with(Cell::get).as_mut() {
            let gregs = &mut (*context.cast::<libc::ucontext_t>()).uc_mcontext.gregs;
            let rip = gregs[libc::REG_RIP as usize] as usize;
            let addr = (*info).si_addr() as usize;
            let base = ctx.mem_base as usize;
            if (ctx.code_start..ctx.code_end).contains(&rip) && (base..base + GUEST_WINDOW).contains(&addr) {
                ctx.fault_rip = rip;
                // The page-fault error code: bit 1 is set for writes.
                ctx.fault_write = gregs[libc::REG_ERR as usize] & 2 != 0;
                gregs[libc::REG_RSP as usize] = ctx.saved_rsp as i64;
                gregs[libc::REG_RIP as usize] = hbft_jit_faulted as *const () as usize as i64;
                return;
            }
        }
        forward(signal, info, context);
    }
}

/// Hands a fault that is not ours to the previous action; the default one
/// is restored so that the faulting instruction, run again, gets it.
unsafe fn forward(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let Some(Ok(previous)) = PREVIOUS.get() else { return };
    let handler = previous.sa_sigaction;
    // SAFETY: the previous action was installed for this signal with these
    // argument conventions.
    unsafe {
        if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(signal, &default, std::ptr::null_mut());
        } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) = std::mem::transmute(handler);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(handler);
            f(signal);
        }
    }
}
