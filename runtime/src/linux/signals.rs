//! Signal state system calls. Dispositions, the mask and the alternate
//! stack are kept here; delivery is the run loop's job.

use super::abi::{self, write_mem};
use super::env::SysResult;
use super::errno::Errno;
use super::process::{AltStack, LinuxProcess, SigAction, SyscallOutcome, GUEST_PID, NSIG};
use crate::memory::AddressSpace;

/// parisc signal numbers that cannot be caught or blocked (asm/signal.h).
const SIGKILL: u32 = 9;
const SIGSTOP: u32 = 24;
/// Mask bits of SIGKILL and SIGSTOP.
pub const UNBLOCKABLE: u64 = (1 << (SIGKILL - 1)) | (1 << (SIGSTOP - 1));

const SIG_BLOCK: u32 = 0;
const SIG_UNBLOCK: u32 = 1;
const SIG_SETMASK: u32 = 2;
const SS_ONSTACK: u32 = 1;
pub const SS_DISABLE: u32 = 2;
/// MINSIGSTKSZ for parisc.
const MINSIGSTKSZ: u32 = 2048;
/// The kernel's sigset_t is 64 bits.
const SIGSET_SIZE: u32 = 8;

impl LinuxProcess {
    pub(super) fn sys_rt_sigprocmask(&mut self, mem: &mut AddressSpace, how: u32, set: u32, old: u32, size: u32) -> SysResult<u32> {
        if size != SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let previous = self.sigmask;
        if set != 0 {
            let set = abi::read_sigset(mem, set)?;
            let mask = match how {
                SIG_BLOCK => previous | set,
                SIG_UNBLOCK => previous & !set,
                SIG_SETMASK => set,
                _ => return Err(Errno::EINVAL),
            };
            self.set_signal_mask(mask);
        }
        if old != 0 {
            write_mem(mem, old, &abi::sigset(previous))?;
        }
        Ok(0)
    }

    /// `struct sigaction` on parisc: handler, flags, then a 64-bit mask (16 bytes).
    pub(super) fn sys_rt_sigaction(&mut self, mem: &mut AddressSpace, sig: u32, act: u32, old: u32, size: u32) -> SysResult<u32> {
        if size != SIGSET_SIZE || sig == 0 || sig as usize > NSIG {
            return Err(Errno::EINVAL);
        }
        let new = if act != 0 {
            if sig == SIGKILL || sig == SIGSTOP {
                return Err(Errno::EINVAL);
            }
            let b = abi::read_mem(mem, act, 8)?;
            let mask = abi::read_sigset(mem, act + 8)?;
            Some(SigAction { handler: abi::get32(&b, 0), flags: abi::get32(&b, 4), mask: mask & !UNBLOCKABLE })
        } else {
            None
        };
        let index = sig as usize - 1;
        if old != 0 {
            let current = self.actions[index];
            let mut b = [0u8; 16];
            abi::put32(&mut b, 0, current.handler);
            abi::put32(&mut b, 4, current.flags);
            b[8..].copy_from_slice(&abi::sigset(current.mask));
            write_mem(mem, old, &b)?;
        }
        if let Some(action) = new {
            self.actions[index] = action;
        }
        Ok(0)
    }

    /// `stack_t` on parisc: sp, flags, size (12 bytes).
    pub(super) fn sys_sigaltstack(&mut self, mem: &mut AddressSpace, ss: u32, old: u32) -> SysResult<u32> {
        let new = if ss != 0 {
            let b = abi::read_mem(mem, ss, 12)?;
            let stack = AltStack { sp: abi::get32(&b, 0), flags: abi::get32(&b, 4), size: abi::get32(&b, 8) };
            if stack.flags & !SS_DISABLE != 0 {
                return Err(Errno::EINVAL);
            }
            if stack.flags & SS_DISABLE == 0 && stack.size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM);
            }
            Some(stack)
        } else {
            None
        };
        if old != 0 {
            let current = self.altstack;
            let mut b = [0u8; 12];
            abi::put32(&mut b, 0, current.sp);
            abi::put32(&mut b, 4, current.flags & (SS_DISABLE | SS_ONSTACK));
            abi::put32(&mut b, 8, current.size);
            write_mem(mem, old, &b)?;
        }
        if let Some(stack) = new {
            self.altstack = stack;
        }
        Ok(0)
    }

    /// rt_sigsuspend: the mask to wait with (SIGKILL and SIGSTOP stay unblocked).
    pub(super) fn sys_rt_sigsuspend(&mut self, mem: &mut AddressSpace, set: u32, size: u32) -> SysResult<SyscallOutcome> {
        if size != SIGSET_SIZE {
            return Err(Errno::EINVAL);
        }
        let mask = abi::read_sigset(mem, set)? & !UNBLOCKABLE;
        Ok(SyscallOutcome::Suspend(Some(mask)))
    }

    /// kill/tkill/tgkill: only the process itself exists.
    pub(super) fn sys_kill(&mut self, pid: u32, sig: u32) -> SysResult<SyscallOutcome> {
        if sig as usize > NSIG {
            return Err(Errno::EINVAL);
        }
        if pid != GUEST_PID && pid != 0 && pid as i32 != -1 {
            return Err(Errno::ESRCH);
        }
        Ok(if sig == 0 { SyscallOutcome::Return(0) } else { SyscallOutcome::Signal(sig) })
    }
}
