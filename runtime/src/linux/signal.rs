//! Signal delivery and return for Linux/parisc: the pending set, default
//! actions, the `rt_sigframe` on the (upward-growing) stack, and
//! `rt_sigreturn`. References: arch/parisc/kernel/signal.c and
//! arch/parisc/kernel/entry.S (Linux 6.1), kernel/signal.c.
//!
//! # Frame layout and trampoline
//!
//! Linux 6.1 keeps the `rt_sigreturn` trampoline in the vDSO
//! (`__kernel_sigtramp_rt`); hbft maps no vDSO, and the guest's libgcc
//! (GCC 12, `pa32_fallback_frame_state`) only recognises the trampoline
//! Linux <= 5.17 wrote into the frame. So frames use the 5.17 layout:
//! `struct rt_sigframe { u32 tramp[9]; siginfo info; ucontext uc; }` with
//! the four trampoline words at `tramp[5..9]` and `%r2` pointing at
//! `tramp[5]`. Its size rounds to the same `PARISC_RT_SIGFRAME_SIZE` (768)
//! as 6.1's `tramp[2]` frame, so `rt_sigreturn` finds it exactly as 6.1 does.

use std::collections::{BTreeMap, VecDeque};

use hbft_translator::memory::{Access, GuestMemory, MemFault};
use hbft_translator::state::{cr, CpuState};

use super::abi::{self, get32 as get, get64, put32 as put};
use super::errno::Errno;
use super::process::{AltStack, LinuxProcess, SigAction, GUEST_PID, GUEST_UID};
use super::signals::SS_DISABLE;
use crate::memory::AddressSpace;

/// parisc signal numbers (arch/parisc/include/uapi/asm/signal.h).
pub const SIGQUIT: u32 = 3;
pub const SIGILL: u32 = 4;
pub const SIGTRAP: u32 = 5;
pub const SIGABRT: u32 = 6;
pub const SIGFPE: u32 = 8;
pub const SIGKILL: u32 = 9;
pub const SIGBUS: u32 = 10;
pub const SIGSEGV: u32 = 11;
pub const SIGXCPU: u32 = 12;
pub const SIGALRM: u32 = 14;
pub const SIGCHLD: u32 = 18;
pub const SIGWINCH: u32 = 23;
pub const SIGSTOP: u32 = 24;
pub const SIGTSTP: u32 = 25;
pub const SIGCONT: u32 = 26;
pub const SIGTTIN: u32 = 27;
pub const SIGTTOU: u32 = 28;
pub const SIGURG: u32 = 29;
pub const SIGXFSZ: u32 = 30;
pub const SIGSYS: u32 = 31;
/// First real-time signal (kernel numbering): these queue, the others coalesce.
const SIGRTMIN: u32 = 32;

/// `sa_handler` values and `sa_flags` bits (asm/signal.h).
pub const SIG_DFL: u32 = 0;
pub const SIG_IGN: u32 = 1;
pub const SA_ONSTACK: u32 = 0x01;
pub const SA_RESETHAND: u32 = 0x04;
pub const SA_SIGINFO: u32 = 0x10;
pub const SA_NODEFER: u32 = 0x20;

/// `si_code` values (asm-generic/siginfo.h).
pub const SI_USER: i32 = 0;
pub const SI_KERNEL: i32 = 0x80;
pub const SI_TKILL: i32 = -6;
pub const ILL_ILLOPC: i32 = 1;
pub const ILL_PRVOPC: i32 = 5;
pub const FPE_INTDIV: i32 = 1;
pub const FPE_INTOVF: i32 = 2;
pub const FPE_FLTINV: i32 = 7;
/// parisc's trap-on-condition (include/uapi/asm-generic/siginfo.h).
pub const FPE_CONDTRAP: i32 = 15;
pub const SEGV_MAPERR: i32 = 1;
pub const SEGV_ACCERR: i32 = 2;
pub const BUS_ADRALN: i32 = 1;
pub const TRAP_BRKPT: i32 = 1;

/// Signals the kernel dequeues before all others (SYNCHRONOUS_MASK, kernel/signal.c).
const SYNCHRONOUS: u64 = bit(SIGSEGV) | bit(SIGBUS) | bit(SIGILL) | bit(SIGTRAP) | bit(SIGFPE) | bit(SIGSYS);

/// Frame layout, verified with `hppa-linux-gnu-gcc` against the kernel's
/// struct definitions (uapi sigcontext.h, asm-generic/ucontext.h with the
/// kernel's 8-byte sigset_t, 5.17 rt_sigframe.h; see the module docs).
mod frame {
    /// `tramp[5]`: the first trampoline instruction, `%r2` on handler entry.
    pub const TRAMP: u32 = 20;
    pub const INFO: u32 = 36;
    pub const UC: u32 = 168;
    pub const UC_STACK: u32 = UC + 8;
    pub const MCONTEXT: u32 = UC + 24;
    pub const SIGMASK: u32 = UC + 440;
    /// sizeof(struct rt_sigframe).
    pub const END: u32 = 616;
    /// PARISC_RT_SIGFRAME_SIZE = ((616 + FUNCTIONCALLFRAME 96) + SIGFRAME 128) & -128.
    pub const SIZE: u32 = 768;
    /// Offsets inside `struct sigcontext` (416 bytes).
    pub const SC_FLAGS: usize = 0;
    pub const SC_GR: usize = 4;
    pub const SC_FR: usize = 136;
    pub const SC_IASQ: usize = 392;
    pub const SC_IAOQ: usize = 400;
    pub const SC_SAR: usize = 408;
    pub const SC_SIZE: usize = 416;
}

/// The trampoline (signal.c before 5.18: INSN_LDI_R25_0, INSN_LDI_R20,
/// INSN_BLE_SR2_R0, INSN_NOP): `ldi 0,%r25` (not in a system call);
/// `ldi __NR_rt_sigreturn,%r20`; `be,l 0x100(%sr2,%r0),%sr0,%r31`; `nop`.
pub const TRAMPOLINE: [u32; 4] = [0x3419_0000, 0x3414_015a, 0xe400_8200, 0x0800_0240];

/// `PA_PLABEL_FDESC` (asm/elf.h): the handler is a function descriptor.
const PA_PLABEL_FDESC: u32 = 0x02;
/// PRIV_USER: user-mode IAOQ values carry privilege level 3 in the low bits.
const PRIV_USER: u32 = 3;
/// TASK_SIZE for a 32-bit task; frames must end below it.
const TASK_SIZE: u32 = 0xfff0_0000;
/// PARISC_SC_FLAG_ONSTACK (uapi sigcontext.h).
const SC_FLAG_ONSTACK: u32 = 1;
const SS_ONSTACK: u32 = 1;

/// PSW bits (asm/psw.h) and USER_PSW, the PSW a handler starts with.
const PSW_CB_SHIFT: u32 = 8;
const PSW_V: u32 = 0x0002_0000;
const PSW_N: u32 = 0x0020_0000;
const USER_PSW: u32 = 0x0004_000f;

const fn bit(sig: u32) -> u64 {
    1 << (sig - 1)
}

/// The `siginfo` of one signal instance (`si_signo` is the signal itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SigInfo {
    pub code: i32,
    pub errno: i32,
    pub fields: SigFields,
}

/// The union part of `siginfo` (offset 12) that hbft produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigFields {
    None,
    /// kill/tkill/tgkill: `si_pid`, `si_uid`.
    Sender { pid: u32, uid: u32 },
    /// SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGTRAP: `si_addr`.
    Fault { addr: u32 },
    /// A POSIX timer: `si_tid`, `si_overrun`, `si_value`.
    Timer { tid: u32, overrun: u32, value: u32 },
}

impl SigInfo {
    /// Sent by the guest to itself (`code` is SI_USER for kill, SI_TKILL for tkill/tgkill).
    pub fn sender(code: i32) -> SigInfo {
        SigInfo { code, errno: 0, fields: SigFields::Sender { pid: GUEST_PID, uid: GUEST_UID } }
    }

    /// Sent by the kernel (timers, force_sig).
    pub fn kernel() -> SigInfo {
        SigInfo { code: SI_KERNEL, errno: 0, fields: SigFields::None }
    }

    /// A fault at `addr` (the faulting data address or instruction).
    pub fn fault(code: i32, addr: u32) -> SigInfo {
        SigInfo { code, errno: 0, fields: SigFields::Fault { addr } }
    }

    /// The 128-byte guest `siginfo_t`: si_signo, si_errno, si_code, union.
    fn to_bytes(self, sig: u32) -> [u8; 128] {
        let mut b = [0u8; 128];
        put(&mut b, 0, sig);
        put(&mut b, 4, self.errno as u32);
        put(&mut b, 8, self.code as u32);
        match self.fields {
            SigFields::None => {}
            SigFields::Sender { pid, uid } => {
                put(&mut b, 12, pid);
                put(&mut b, 16, uid);
            }
            SigFields::Fault { addr } => put(&mut b, 12, addr),
            SigFields::Timer { tid, overrun, value } => {
                put(&mut b, 12, tid);
                put(&mut b, 16, overrun);
                put(&mut b, 20, value);
            }
        }
        b
    }
}

/// What a signal's default disposition does (kernel/signal.c SIG_KERNEL_*_MASK).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultAction {
    Terminate,
    Core,
    Ignore,
    Stop,
    Continue,
}

pub fn default_action(sig: u32) -> DefaultAction {
    match sig {
        SIGQUIT | SIGILL | SIGTRAP | SIGABRT | 7 | SIGFPE | SIGBUS | SIGSEGV | SIGXCPU | SIGXFSZ | SIGSYS => {
            DefaultAction::Core
        }
        SIGCHLD | SIGWINCH | SIGURG => DefaultAction::Ignore,
        SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU => DefaultAction::Stop,
        SIGCONT => DefaultAction::Continue,
        _ => DefaultAction::Terminate,
    }
}

/// What delivering a signal did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The CPU now enters the guest handler.
    Handler,
    /// Nothing happens (SIG_IGN, or a default action of ignore, stop or
    /// continue: there is no job control in user mode).
    Ignored,
    /// The process dies of `sig`: report it and exit with status 128 + sig.
    Terminate { sig: u32, core: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
    #[error("signal {0} does not exist")]
    InvalidSignal(u32),
    /// rt_sigreturn could not read the frame: the caller forces SIGSEGV.
    #[error("signal frame at {addr:#010x} is not accessible")]
    BadFrame { addr: u32 },
}

/// Raised, not yet delivered signals. Standard signals coalesce; real-time
/// signals queue every instance.
#[derive(Debug, Clone, Default)]
pub struct PendingSignals {
    queued: BTreeMap<u32, VecDeque<SigInfo>>,
}

impl LinuxProcess {
    /// Makes `sig` pending. As `send_signal` does, a signal that is ignored
    /// and not blocked is discarded, and a standard signal already pending
    /// is not queued twice. Signal numbers outside 1..=64 are ignored.
    pub fn raise(&mut self, sig: u32, info: SigInfo) {
        let Some(action) = self.sigaction(sig) else { return };
        if self.sigmask & bit(sig) == 0 && is_ignored(sig, &action) {
            return;
        }
        let queue = self.pending.queued.entry(sig).or_default();
        if sig < SIGRTMIN && !queue.is_empty() {
            return;
        }
        queue.push_back(info);
    }

    /// Pending signals; bit `n - 1` is signal `n`.
    pub fn pending_signals(&self) -> u64 {
        self.pending.queued.keys().fold(0, |set, &sig| set | bit(sig))
    }

    /// Dequeues the next signal to deliver, honouring the mask:
    /// synchronous signals first, then the lowest number (`next_signal`).
    pub fn next_deliverable(&mut self) -> Option<(u32, SigInfo)> {
        let ready = self.pending_signals() & !self.sigmask;
        let pick = if ready & SYNCHRONOUS != 0 { ready & SYNCHRONOUS } else { ready };
        if pick == 0 {
            return None;
        }
        let sig = pick.trailing_zeros() + 1;
        let queue = self.pending.queued.get_mut(&sig)?;
        let info = queue.pop_front()?;
        if queue.is_empty() {
            self.pending.queued.remove(&sig);
        }
        Some((sig, info))
    }

    /// `force_sig` (kernel/signal.c force_sig_info_to_task): a fault signal
    /// cannot be blocked or ignored, so a blocked or ignored one is
    /// unblocked and reset to SIG_DFL. Call before delivering a fault.
    pub fn force_signal(&mut self, sig: u32) {
        let Some(action) = self.sigaction(sig) else { return };
        let blocked = self.sigmask & bit(sig) != 0;
        if blocked || action.handler == SIG_IGN {
            self.actions[sig as usize - 1].handler = SIG_DFL;
            self.sigmask &= !bit(sig);
        }
    }
}

fn is_ignored(sig: u32, action: &SigAction) -> bool {
    match action.handler {
        SIG_IGN => true,
        SIG_DFL => matches!(default_action(sig), DefaultAction::Ignore),
        _ => false,
    }
}

fn default_delivery(sig: u32) -> Delivery {
    match default_action(sig) {
        DefaultAction::Terminate => Delivery::Terminate { sig, core: false },
        DefaultAction::Core => Delivery::Terminate { sig, core: true },
        DefaultAction::Ignore | DefaultAction::Stop | DefaultAction::Continue => Delivery::Ignored,
    }
}

/// Delivers `sig` now (the caller has chosen it: `next_deliverable`, or a
/// fault after `force_signal`). With a handler, builds the frame, enters the
/// handler and updates the mask; if the frame cannot be written the process
/// gets SIGSEGV instead (`force_sigsegv`), which usually terminates it.
pub fn deliver_signal(
    cpu: &mut CpuState,
    mem: &mut AddressSpace,
    process: &mut LinuxProcess,
    sig: u32,
    info: SigInfo,
) -> Result<Delivery, SignalError> {
    let action = process.sigaction(sig).ok_or(SignalError::InvalidSignal(sig))?;
    match action.handler {
        SIG_IGN => return Ok(Delivery::Ignored),
        SIG_DFL => return Ok(default_delivery(sig)),
        _ => {}
    }
    let index = sig as usize - 1;
    // get_signal: SA_ONESHOT resets the disposition before the handler runs.
    if action.flags & SA_RESETHAND != 0 {
        process.actions[index].handler = SIG_DFL;
    }
    let old_mask = process.sigmask;
    if setup_rt_frame(cpu, mem, process.altstack, sig, info, &action, old_mask).is_err() {
        // signal_setup_done -> force_sigsegv: a failing SIGSEGV handler is fatal.
        if sig == SIGSEGV {
            process.actions[index].handler = SIG_DFL;
        }
        process.force_signal(SIGSEGV);
        return deliver_signal(cpu, mem, process, SIGSEGV, SigInfo::kernel());
    }
    // signal_delivered: block sa_mask and, unless SA_NODEFER, the signal itself.
    let mut mask = old_mask | action.mask;
    if action.flags & SA_NODEFER == 0 {
        mask |= bit(sig);
    }
    process.set_signal_mask(mask);
    Ok(Delivery::Handler)
}

/// `sas_ss_flags` for an upward-growing stack (`__on_sig_stack` with CONFIG_STACK_GROWSUP).
fn sas_ss_flags(alt: AltStack, sp: u32) -> u32 {
    if alt.flags & SS_DISABLE != 0 || alt.size == 0 {
        SS_DISABLE
    } else if sp >= alt.sp && sp - alt.sp < alt.size {
        SS_ONSTACK
    } else {
        0
    }
}

/// The PSW as the kernel saves it in `sc_gr[0]`: USER_PSW plus the user
/// bits hbft models (N, V and the nibble carries C/B, leftmost = carry out of bit 31).
fn psw_word(cpu: &CpuState) -> u32 {
    let nibbles = (0..7).fold(0, |cb, j| cb | ((cpu.psw_cb >> (4 * (j + 1))) & 1) << j);
    let cb = nibbles | (cpu.psw_cb_msb & 1) << 7;
    USER_PSW | cb << PSW_CB_SHIFT | if cpu.psw_v != 0 { PSW_V } else { 0 } | if cpu.psw_n != 0 { PSW_N } else { 0 }
}

fn set_psw(cpu: &mut CpuState, psw: u32) {
    let cb = (psw >> PSW_CB_SHIFT) & 0xff;
    cpu.psw_cb = (0..7).fold(0, |v, j| v | ((cb >> j) & 1) << (4 * (j + 1)));
    cpu.psw_cb_msb = (cb >> 7) & 1;
    cpu.psw_v = u32::from(psw & PSW_V != 0);
    cpu.psw_n = u32::from(psw & PSW_N != 0);
}

/// setup_rt_frame + get_sigframe + setup_sigcontext (signal.c), for a
/// signal taken outside a system call (the run loop has already returned
/// from any system call). The CPU is changed only once everything succeeded.
fn setup_rt_frame(
    cpu: &mut CpuState,
    mem: &mut AddressSpace,
    alt: AltStack,
    sig: u32,
    info: SigInfo,
    action: &SigAction,
    old_mask: u64,
) -> Result<(), MemFault> {
    let usp = cpu.gr[30] & !1;
    // get_sigframe: "Stacks grow up!"
    let base = if action.flags & SA_ONSTACK != 0 && sas_ss_flags(alt, usp) == 0 {
        alt.sp.wrapping_add(0x7f) & !0x3f
    } else {
        usp
    };
    if base >= TASK_SIZE - frame::SIZE {
        return Err(MemFault::Unmapped { addr: base, access: Access::Write });
    }
    // Bytes tramp[5] .. end of the ucontext; uc_flags and uc_link are 0.
    let mut b = vec![0u8; (frame::END - frame::TRAMP) as usize];
    let at = |offset: u32| (offset - frame::TRAMP) as usize;
    for (i, word) in TRAMPOLINE.iter().enumerate() {
        put(&mut b, at(frame::TRAMP) + 4 * i, *word);
    }
    b[at(frame::INFO)..at(frame::INFO) + 128].copy_from_slice(&info.to_bytes(sig));
    // __save_altstack(&uc_stack, regs->gr[30]).
    put(&mut b, at(frame::UC_STACK), alt.sp);
    put(&mut b, at(frame::UC_STACK) + 4, sas_ss_flags(alt, cpu.gr[30]));
    put(&mut b, at(frame::UC_STACK) + 8, alt.size);
    let sc = at(frame::MCONTEXT);
    let on_stack = sas_ss_flags(alt, base + frame::MCONTEXT) == SS_ONSTACK;
    put(&mut b, sc + frame::SC_FLAGS, if on_stack { SC_FLAG_ONSTACK } else { 0 });
    put(&mut b, sc + frame::SC_GR, psw_word(cpu));
    for r in 1..32 {
        put(&mut b, sc + frame::SC_GR + 4 * r, cpu.gr[r]);
    }
    for (r, value) in cpu.fr.iter().enumerate() {
        abi::put64(&mut b, sc + frame::SC_FR + 8 * r, *value);
    }
    put(&mut b, sc + frame::SC_IASQ, cpu.iasq_front);
    put(&mut b, sc + frame::SC_IASQ + 4, cpu.iasq_back);
    put(&mut b, sc + frame::SC_IAOQ, cpu.iaoq_front | PRIV_USER);
    put(&mut b, sc + frame::SC_IAOQ + 4, cpu.iaoq_back | PRIV_USER);
    put(&mut b, sc + frame::SC_SAR, cpu.sar());
    b[at(frame::SIGMASK)..at(frame::SIGMASK) + 8].copy_from_slice(&abi::sigset(old_mask));
    mem.write_bytes(base + frame::TRAMP, &b)?;

    // "The sa_handler may be a pointer to a function descriptor."
    let mut entry = action.handler;
    let mut gp = cpu.gr[19];
    if entry & PA_PLABEL_FDESC != 0 {
        let fdesc = entry & !3;
        entry = mem.read_u32(fdesc)?;
        gp = mem.read_u32(fdesc.wrapping_add(4))?;
    }
    cpu.gr[19] = gp;
    cpu.gr[2] = base + frame::TRAMP;
    cpu.gr[26] = sig;
    cpu.gr[25] = base + frame::INFO;
    cpu.gr[24] = base + frame::UC;
    cpu.gr[30] = base + frame::SIZE;
    cpu.iaoq_front = entry & !3;
    cpu.iaoq_back = cpu.iaoq_front.wrapping_add(4);
    // regs->gr[0] = USER_PSW: no nullification, carries or overflow.
    set_psw(cpu, USER_PSW);
    Ok(())
}

/// `rt_sigreturn` (sys_rt_sigreturn in signal.c): restores the mask, the
/// registers, the instruction queues and the alternate stack from the
/// frame `PARISC_RT_SIGFRAME_SIZE` below `%r30`. On `Err` the caller
/// forces SIGSEGV, as the kernel does. `%r25` is the trampoline's
/// in_syscall flag: when set, `%r31` is reloaded from the restored IAOQ.
///
/// The PSW user bits (N, V, C/B) come back from `sc_gr[0]`, as in QEMU;
/// Linux 6.1 returns through `syscall_restore_rfi`, which builds a fresh
/// PSW, losing a nullification or carry that was pending when the signal arrived.
pub fn sigreturn(cpu: &mut CpuState, mem: &mut AddressSpace, process: &mut LinuxProcess) -> Result<(), SignalError> {
    let in_syscall = cpu.gr[25] != 0;
    let base = (cpu.gr[30] & !1).wrapping_sub(frame::SIZE);
    let bad = |_| SignalError::BadFrame { addr: base };
    let mask = abi::read_sigset(mem, base.wrapping_add(frame::SIGMASK)).map_err(|_| SignalError::BadFrame { addr: base })?;
    process.set_signal_mask(mask);
    let mut sc = [0u8; frame::SC_SIZE];
    mem.read_bytes(base.wrapping_add(frame::MCONTEXT), &mut sc).map_err(bad)?;

    set_psw(cpu, get(&sc, frame::SC_GR));
    for r in 1..32 {
        cpu.gr[r] = get(&sc, frame::SC_GR + 4 * r);
    }
    for (r, value) in cpu.fr.iter_mut().enumerate() {
        *value = get64(&sc, frame::SC_FR + 8 * r);
    }
    let iaoq_front = get(&sc, frame::SC_IAOQ);
    cpu.iaoq_front = iaoq_front & !3;
    cpu.iaoq_back = get(&sc, frame::SC_IAOQ + 4) & !3;
    cpu.cr[cr::SAR] = get(&sc, frame::SC_SAR);
    // entry.S syscall_restore_rfi: "Always store space registers, since sr3
    // can be changed": IASQ and sr4..sr7 become sr3.
    let space = cpu.sr[3];
    cpu.iasq_front = space;
    cpu.iasq_back = space;
    cpu.sr[4..8].fill(space);
    if in_syscall {
        cpu.gr[31] = iaoq_front;
    }
    // restore_altstack: only EFAULT matters, other errors are squashed.
    match process.sys_sigaltstack(mem, base.wrapping_add(frame::UC_STACK), 0) {
        Err(Errno::EFAULT) => Err(SignalError::BadFrame { addr: base }),
        _ => Ok(()),
    }
}


#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::linux::numbers::nr;
    use crate::linux::{HostEnvironment, SyscallOutcome};
    use crate::memory::{Layout, PERM_READ, PERM_WRITE};

    const STACK: u32 = 0x4000_0000;
    const HANDLER: u32 = 0x0001_2340;

    fn setup() -> (CpuState, AddressSpace, LinuxProcess) {
        let mut mem = AddressSpace::new(Layout::linux_parisc32(100 << 20)).expect("reservation");
        mem.map_fixed(STACK, 0x20000, PERM_READ | PERM_WRITE).expect("stack");
        let mut cpu = CpuState::at(0x1_0000);
        cpu.gr[30] = STACK + 0x1000;
        (cpu, mem, LinuxProcess::new(Box::new(HostEnvironment)))
    }

    fn handle(p: &mut LinuxProcess, sig: u32, handler: u32, flags: u32, mask: u64) {
        p.actions[sig as usize - 1] = SigAction { handler, flags, mask };
    }

    fn word(mem: &AddressSpace, addr: u32) -> u32 {
        mem.read_u32(addr).expect("mapped")
    }

    /// The trampoline's effect before rt_sigreturn reaches the gateway.
    fn run_trampoline(cpu: &mut CpuState) {
        cpu.gr[25] = 0;
        cpu.gr[20] = nr::rt_sigreturn;
        cpu.gr[31] = 0x104;
    }

    fn arb_cpu() -> impl Strategy<Value = CpuState> {
        (
            prop::array::uniform32(any::<u32>()),
            prop::array::uniform32(any::<u64>()),
            (any::<u32>(), any::<u32>(), 0u32..0x8000, any::<u32>(), any::<u32>()),
            (0u32..2, 0u32..2, 0u32..2, any::<u32>(), any::<u64>()),
        )
            .prop_map(|(gr, fr, (sar, space, sp_slot, front, back), (n, v, msb, cb, retired))| {
                let mut cpu = CpuState { gr, fr, ..CpuState::default() };
                cpu.gr[0] = 0;
                cpu.gr[30] = STACK + 64 * sp_slot.min(0x1f0) + (sp_slot & 1);
                cpu.cr[cr::SAR] = sar & 31;
                cpu.sr[3] = space;
                cpu.sr[4..8].fill(space);
                cpu.iasq_front = space;
                cpu.iasq_back = space;
                cpu.iaoq_front = front & !3;
                cpu.iaoq_back = back & !3;
                cpu.psw_n = n;
                cpu.psw_v = v;
                cpu.psw_cb_msb = msb;
                // Only the nibble carries are architected (the PSW C/B field).
                cpu.psw_cb = cb & 0x1111_1110;
                cpu.retired = retired;
                cpu
            })
    }

    proptest! {
        #[test]
        fn deliver_then_sigreturn_restores_everything(original in arb_cpu(), mask in any::<u64>(), plabel in any::<bool>()) {
            let (_, mut mem, mut p) = setup();
            let mut cpu = original.clone();
            let handler = if plabel {
                mem.write_u32(STACK, HANDLER).unwrap();
                mem.write_u32(STACK + 4, 0xdead_0000).unwrap();
                STACK | PA_PLABEL_FDESC
            } else {
                HANDLER
            };
            handle(&mut p, SIGSEGV, handler, SA_SIGINFO, 1 << 3);
            p.set_signal_mask(mask);
            let before_mask = p.signal_mask();
            let d = deliver_signal(&mut cpu, &mut mem, &mut p, SIGSEGV, SigInfo::fault(SEGV_MAPERR, 0x1234)).unwrap();
            prop_assert_eq!(d, Delivery::Handler);
            prop_assert_eq!(cpu.iaoq_front, HANDLER);
            prop_assert_eq!(cpu.gr[19], if plabel { 0xdead_0000 } else { original.gr[19] });
            // The handler may clobber anything but must return with its sp.
            let sp = cpu.gr[30];
            for r in 1..32 { cpu.gr[r] ^= 0x5555_5555; }
            cpu.fr = [7; 32];
            cpu.gr[30] = sp;
            run_trampoline(&mut cpu);
            sigreturn(&mut cpu, &mut mem, &mut p).unwrap();
            prop_assert_eq!(&cpu, &original);
            prop_assert_eq!(p.signal_mask(), before_mask);
        }
    }

    #[test]
    fn frame_layout_matches_the_kernel_and_libgcc() {
        let (mut cpu, mut mem, mut p) = setup();
        cpu.gr[31] = 0x2_0003;
        cpu.iaoq_front = 0x1_0040;
        cpu.iaoq_back = 0x1_0044;
        cpu.cr[cr::SAR] = 17;
        cpu.fr[5] = 0x0102_0304_0506_0708;
        cpu.psw_n = 1;
        cpu.psw_cb = 0x1000_0010;
        cpu.psw_cb_msb = 1;
        let sp = cpu.gr[30];
        handle(&mut p, 16, HANDLER, 0, 0);
        p.set_signal_mask(0x8000_0000_0000_0001);
        let d = deliver_signal(&mut cpu, &mut mem, &mut p, 16, SigInfo::sender(SI_TKILL)).unwrap();
        assert_eq!(d, Delivery::Handler);
        // Registers as setup_rt_frame leaves them.
        assert_eq!(cpu.gr[26], 16);
        assert_eq!(cpu.gr[25], sp + 36);
        assert_eq!(cpu.gr[24], sp + 168);
        assert_eq!(cpu.gr[2], sp + 20);
        assert_eq!(cpu.gr[30], sp + 768);
        assert_eq!((cpu.iaoq_front, cpu.iaoq_back, cpu.psw_n, cpu.psw_cb, cpu.psw_cb_msb), (HANDLER, HANDLER + 4, 0, 0, 0));
        // libgcc's pa32_fallback_frame_state: ra & ~63, trampoline at word 5, uc at +40+128.
        let tramp = cpu.gr[2] & !63;
        assert_eq!(tramp + 20, cpu.gr[2]);
        for (i, w) in TRAMPOLINE.iter().enumerate() {
            assert_eq!(word(&mem, cpu.gr[2] + 4 * i as u32), *w);
        }
        assert_eq!(tramp + 40 + 128, cpu.gr[24]);
        // siginfo: signo, errno, code, pid, uid.
        let info = cpu.gr[25];
        assert_eq!([0, 4, 8, 12, 16].map(|o| word(&mem, info + o)), [16, 0, SI_TKILL as u32, GUEST_PID, GUEST_UID]);
        // ucontext: uc_stack (disabled), mcontext at +24, sigmask at +440.
        let uc = cpu.gr[24];
        assert_eq!(word(&mem, uc + 12), SS_DISABLE);
        let sc = uc + 24;
        assert_eq!(word(&mem, sc), 0);
        assert_eq!(word(&mem, sc + 4), USER_PSW | PSW_N | 0x8000 | 0x4000 | 0x100);
        assert_eq!(word(&mem, sc + 4 + 4 * 30), sp);
        assert_eq!(word(&mem, sc + 4 + 4 * 31), 0x2_0003);
        assert_eq!(mem.read_u64(sc + 136 + 8 * 5).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!([392, 396, 400, 404, 408].map(|o| word(&mem, sc + o)), [0, 0, 0x1_0043, 0x1_0047, 17]);
        assert_eq!([word(&mem, uc + 440), word(&mem, uc + 444)], [1, 0x8000_0000]);
    }

    #[test]
    fn masks_and_flags() {
        let (mut cpu, mut mem, mut p) = setup();
        handle(&mut p, 16, HANDLER, 0, bit(2) | bit(SIGKILL));
        deliver_signal(&mut cpu, &mut mem, &mut p, 16, SigInfo::kernel()).unwrap();
        assert_eq!(p.signal_mask(), bit(2) | bit(16), "sa_mask and the signal; never SIGKILL");
        assert_eq!(p.sigaction(16).unwrap().handler, HANDLER);

        p.set_signal_mask(0);
        handle(&mut p, 17, HANDLER, SA_NODEFER | SA_RESETHAND, 0);
        deliver_signal(&mut cpu, &mut mem, &mut p, 17, SigInfo::kernel()).unwrap();
        assert_eq!(p.signal_mask(), 0, "SA_NODEFER leaves the signal unblocked");
        assert_eq!(p.sigaction(17).unwrap().handler, SIG_DFL, "SA_RESETHAND");

        let before = cpu.clone();
        handle(&mut p, 2, SIG_IGN, 0, 0);
        assert_eq!(deliver_signal(&mut cpu, &mut mem, &mut p, 2, SigInfo::kernel()), Ok(Delivery::Ignored));
        assert_eq!(deliver_signal(&mut cpu, &mut mem, &mut p, 65, SigInfo::kernel()), Err(SignalError::InvalidSignal(65)));
        assert_eq!(cpu, before);
    }

    #[test]
    fn default_actions() {
        let (mut cpu, mut mem, mut p) = setup();
        let mut deliver = |sig| deliver_signal(&mut cpu, &mut mem, &mut p, sig, SigInfo::kernel()).unwrap();
        for sig in [SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGFPE, SIGBUS, SIGSEGV, SIGXCPU, SIGXFSZ, SIGSYS] {
            assert_eq!(deliver(sig), Delivery::Terminate { sig, core: true }, "{sig}");
        }
        for sig in [1, 2, SIGKILL, 13, SIGALRM, 15, 16, 17, 19, 20, 21, 22, 32, 64] {
            assert_eq!(deliver(sig), Delivery::Terminate { sig, core: false }, "{sig}");
        }
        for sig in [SIGCHLD, SIGWINCH, SIGURG, SIGSTOP, SIGTSTP, SIGCONT, SIGTTIN, SIGTTOU] {
            assert_eq!(deliver(sig), Delivery::Ignored, "{sig}");
        }
    }

    #[test]
    fn alternate_stack() {
        let (mut cpu, mut mem, mut p) = setup();
        let alt = STACK + 0x8010;
        p.altstack = AltStack { sp: alt, flags: 0, size: 0x4000 };
        handle(&mut p, 16, HANDLER, SA_ONSTACK, 0);
        let sp = cpu.gr[30];
        deliver_signal(&mut cpu, &mut mem, &mut p, 16, SigInfo::kernel()).unwrap();
        let frame = (alt + 0x7f) & !0x3f;
        assert_eq!(cpu.gr[24], frame + 168);
        let uc = cpu.gr[24];
        assert_eq!([word(&mem, uc + 8), word(&mem, uc + 12), word(&mem, uc + 16)], [alt, 0, 0x4000]);
        assert_eq!(word(&mem, uc + 24), SC_FLAG_ONSTACK);
        assert_eq!(word(&mem, uc + 24 + 4 + 4 * 30), sp);

        // A nested signal while on the alternate stack stays where it is.
        let inner_sp = cpu.gr[30];
        handle(&mut p, 17, HANDLER, SA_ONSTACK, 0);
        deliver_signal(&mut cpu, &mut mem, &mut p, 17, SigInfo::kernel()).unwrap();
        assert_eq!(cpu.gr[24], inner_sp + 168);
        assert_eq!(word(&mem, cpu.gr[24] + 12), SS_ONSTACK);

        // Without SA_ONSTACK the normal stack is used.
        let (mut cpu, mut mem, mut q) = setup();
        q.altstack = p.altstack;
        handle(&mut q, 16, HANDLER, 0, 0);
        deliver_signal(&mut cpu, &mut mem, &mut q, 16, SigInfo::kernel()).unwrap();
        assert_eq!(cpu.gr[24], STACK + 0x1000 + 168);
    }

    #[test]
    fn unwritable_frames_become_sigsegv() {
        let (mut cpu, mut mem, mut p) = setup();
        cpu.gr[30] = 0x7000_0000;
        let before = cpu.clone();
        handle(&mut p, 16, HANDLER, 0, 0);
        handle(&mut p, SIGSEGV, HANDLER, 0, 0);
        let d = deliver_signal(&mut cpu, &mut mem, &mut p, 16, SigInfo::kernel()).unwrap();
        assert_eq!(d, Delivery::Terminate { sig: SIGSEGV, core: true });
        assert_eq!(cpu, before);
        assert_eq!(p.sigaction(SIGSEGV).unwrap().handler, SIG_DFL);
        assert_eq!(sigreturn(&mut cpu, &mut mem, &mut p), Err(SignalError::BadFrame { addr: 0x7000_0000 - 768 }));
    }

    #[test]
    fn sigreturn_restores_the_alternate_stack_and_r31_in_syscall() {
        let (mut cpu, mut mem, mut p) = setup();
        handle(&mut p, 16, HANDLER, 0, 0);
        cpu.iaoq_front = 0x1_0040;
        deliver_signal(&mut cpu, &mut mem, &mut p, 16, SigInfo::kernel()).unwrap();
        let uc = cpu.gr[24];
        mem.write_u32(uc + 8, STACK + 0x10000).unwrap();
        mem.write_u32(uc + 12, 0).unwrap();
        mem.write_u32(uc + 16, 0x8000).unwrap();
        cpu.gr[25] = 1;
        sigreturn(&mut cpu, &mut mem, &mut p).unwrap();
        assert_eq!(p.altstack(), AltStack { sp: STACK + 0x10000, flags: 0, size: 0x8000 });
        assert_eq!(cpu.gr[31], 0x1_0043);
    }

    #[test]
    fn rt_sigreturn_is_a_distinct_outcome() {
        let (_, mut mem, mut p) = setup();
        assert_eq!(p.syscall(&mut mem, nr::rt_sigreturn, [0; 6]), SyscallOutcome::Sigreturn);
    }

    #[test]
    fn pending_signals_follow_linux_order() {
        let (_, _, mut p) = setup();
        handle(&mut p, 40, HANDLER, 0, 0);
        p.raise(15, SigInfo::kernel());
        p.raise(2, SigInfo::sender(SI_USER));
        p.raise(2, SigInfo::kernel());
        p.raise(40, SigInfo::kernel());
        p.raise(40, SigInfo::sender(SI_USER));
        p.raise(SIGCHLD, SigInfo::kernel());
        p.raise(99, SigInfo::kernel());
        p.raise(SIGSEGV, SigInfo::fault(SEGV_ACCERR, 8));
        assert_eq!(p.pending_signals(), bit(2) | bit(15) | bit(40) | bit(SIGSEGV), "SIGCHLD's default is ignore");
        p.set_signal_mask(bit(2));
        assert_eq!(p.next_deliverable(), Some((SIGSEGV, SigInfo::fault(SEGV_ACCERR, 8))), "synchronous first");
        assert_eq!(p.next_deliverable(), Some((15, SigInfo::kernel())));
        assert_eq!(p.next_deliverable(), Some((40, SigInfo::kernel())));
        assert_eq!(p.next_deliverable(), Some((40, SigInfo::sender(SI_USER))), "real-time signals queue");
        assert_eq!(p.next_deliverable(), None, "2 is blocked");
        p.set_signal_mask(0);
        assert_eq!(p.next_deliverable(), Some((2, SigInfo::sender(SI_USER))), "standard signals coalesce");
        assert_eq!(p.next_deliverable(), None);

        // A blocked ignored signal stays pending; force_signal unblocks and resets.
        handle(&mut p, SIGBUS, SIG_IGN, 0, 0);
        p.set_signal_mask(bit(SIGBUS));
        p.raise(SIGBUS, SigInfo::kernel());
        assert_eq!(p.pending_signals(), bit(SIGBUS));
        p.force_signal(SIGBUS);
        assert_eq!((p.signal_mask(), p.sigaction(SIGBUS).unwrap().handler), (0, SIG_DFL));
    }
}
