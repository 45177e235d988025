//! Light-weight system calls: the atomic operations parisc glibc reaches
//! with `be,l 0xb0(%sr2,%r0)` (arch/parisc/kernel/syscall.S, lws_table).
//! With one guest thread executing, doing each one without interruption
//! makes it atomic.

use hbft_translator::memory::GuestMemory;

use super::errno::Errno;
use super::process::LinuxProcess;
use crate::memory::AddressSpace;

/// The LWS argument registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LwsArgs {
    pub r26: u32,
    pub r25: u32,
    pub r24: u32,
    pub r23: u32,
}

/// Results for r28 and r21 (0 or `-errno`); the run loop returns to r31.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LwsOutcome {
    pub r28: u32,
    pub r21: u32,
}

const LWS_CAS32: u32 = 0;
const LWS_CAS64: u32 = 1;
const LWS_CAS2: u32 = 2;
const LWS_XCHG: u32 = 3;
const LWS_STORE: u32 = 4;

fn fail(errno: Errno) -> LwsOutcome {
    LwsOutcome { r28: 0, r21: errno.as_return() }
}

/// Reads a 1/2/4/8-byte value (size code 0..=3).
fn load(mem: &AddressSpace, addr: u32, size: u32) -> Option<u64> {
    match size {
        0 => mem.read_u8(addr).ok().map(u64::from),
        1 => mem.read_u16(addr).ok().map(u64::from),
        2 => mem.read_u32(addr).ok().map(u64::from),
        _ => mem.read_u64(addr).ok(),
    }
}

/// Stores a 1/2/4/8-byte value (size code 0..=3) on the guest's behalf.
fn store(mem: &mut AddressSpace, addr: u32, size: u32, value: u64) -> Option<()> {
    match size {
        0 => mem.write_u8(addr, value as u8).ok(),
        1 => mem.write_u16(addr, value as u16).ok(),
        2 => mem.write_u32(addr, value as u32).ok(),
        _ => mem.write_u64(addr, value).ok(),
    }?;
    // Not a guest store the engines see: they must hear of it.
    mem.note_host_write(addr, 1 << size);
    Some(())
}

impl LinuxProcess {
    /// Executes light-weight system call `index` (r20).
    pub fn light_weight_syscall(&mut self, mem: &mut AddressSpace, index: u32, args: LwsArgs) -> LwsOutcome {
        let fault = fail(Errno::EFAULT);
        match index {
            // r26 = address, r25 = expected, r24 = new; r28 = previous value.
            LWS_CAS32 => {
                let Ok(previous) = mem.read_u32(args.r26) else { return fault };
                if previous == args.r25 && store(mem, args.r26, 2, args.r24.into()).is_none() {
                    return fault;
                }
                LwsOutcome { r28: previous, r21: 0 }
            }
            // Only for 64-bit processes.
            LWS_CAS64 => fail(Errno::ENOSYS),
            // r26 = address, r25 = &expected, r24 = &new, r23 = size code; r28 = 0 if swapped.
            LWS_CAS2 => {
                if args.r23 > 3 {
                    return fail(Errno::ENOSYS);
                }
                let size = args.r23;
                let (Some(expected), Some(new), Some(current)) =
                    (load(mem, args.r25, size), load(mem, args.r24, size), load(mem, args.r26, size))
                else {
                    return fault;
                };
                if current != expected {
                    return LwsOutcome { r28: 1, r21: 0 };
                }
                match store(mem, args.r26, size, new) {
                    Some(()) => LwsOutcome { r28: 0, r21: 0 },
                    None => fault,
                }
            }
            // r26 = address, r25 = size code, r24 = &new, r23 = where the old value goes.
            LWS_XCHG => {
                if args.r25 > 3 {
                    return fail(Errno::ENOSYS);
                }
                let size = args.r25;
                let (Some(new), Some(old)) = (load(mem, args.r24, size), load(mem, args.r26, size)) else {
                    return fault;
                };
                match store(mem, args.r23, size, old).and_then(|()| store(mem, args.r26, size, new)) {
                    Some(()) => LwsOutcome { r28: 0, r21: 0 },
                    None => fault,
                }
            }
            // r26 = address, r25 = size code, r24 = &value.
            LWS_STORE => {
                if args.r25 > 3 {
                    return fail(Errno::ENOSYS);
                }
                let value = load(mem, args.r24, args.r25);
                match value.and_then(|v| store(mem, args.r26, args.r25, v)) {
                    Some(()) => LwsOutcome { r28: 0, r21: 0 },
                    None => fault,
                }
            }
            _ => fail(Errno::ENOSYS),
        }
    }
}
