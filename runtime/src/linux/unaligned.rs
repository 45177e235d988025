//! Emulation of misaligned loads and stores, as the parisc kernel's
//! unaligned-access trap handler does (arch/parisc/kernel/unaligned.c).
//!
//! PA-RISC traps on a load or store whose address is not a multiple of its
//! size. Linux does not turn the trap into SIGBUS: by default
//! (`unaligned_enabled`, no `PR_UNALIGN_SIGBUS`) it performs the access byte
//! by byte, applies any base-register modification and moves on; only the
//! semaphore loads `ldcw`/`ldcd` (which must be atomic) are killed with
//! SIGBUS. Packed structures make such accesses common (csmith's programs
//! do them), and qemu-hppa behaves the same.
//!
//! The runtime re-executes the trapped instruction once through the
//! interpreter over [`ByteWise`], a view of guest memory that splits
//! misaligned accesses into byte accesses; the instruction's semantics are
//! not written a second time.

use hbft_frontend::insn::LoadKind;
use hbft_frontend::{decode, Insn};
use hbft_translator::interp::{Exit, Interpreter};
use hbft_translator::memory::{GuestMemory, MemFault};
use hbft_translator::state::CpuState;

/// Completes the instruction at the queue front, which trapped on a
/// misaligned access. Returns the exit of that one step: `Exit::Budget` when
/// it retired, or the fault to deliver (the original misalignment for
/// `ldcw`/`ldcd`, or the page fault a byte access ran into).
pub fn complete_misaligned<M: GuestMemory>(cpu: &mut CpuState, mem: &mut M, fault: MemFault) -> Exit {
    let pc = cpu.iaoq_front & !3;
    let semaphore = match mem.fetch(pc).map(decode) {
        Ok(Ok(Insn::Load { kind, .. })) => kind == LoadKind::AndClear,
        // The instruction was fetched and decoded a moment ago; anything
        // else means it changed under us, and the trap stands.
        Ok(Ok(_)) => false,
        _ => return Exit::Fault(fault),
    };
    if semaphore {
        return Exit::Fault(fault);
    }
    Interpreter::new().run(cpu, &mut ByteWise(mem), 1)
}

/// Guest memory in which misaligned multi-byte accesses are performed byte
/// by byte (big-endian), like the kernel's emulation; aligned ones go to the
/// underlying memory unchanged.
pub struct ByteWise<'a, M>(pub &'a mut M);

impl<M: GuestMemory> ByteWise<'_, M> {
    fn read_be(&self, addr: u32, size: u32) -> Result<u64, MemFault> {
        let mut buf = [0u8; 8];
        let buf = &mut buf[..size as usize];
        self.0.read_bytes(addr, buf)?;
        Ok(buf.iter().fold(0u64, |acc, &b| acc << 8 | u64::from(b)))
    }

    fn write_be(&mut self, addr: u32, size: u32, value: u64) -> Result<(), MemFault> {
        let bytes = value.to_be_bytes();
        self.0.write_bytes(addr, &bytes[8 - size as usize..])
    }
}

impl<M: GuestMemory> GuestMemory for ByteWise<'_, M> {
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
        self.0.read_u8(addr)
    }
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
        if addr % 2 == 0 {
            return self.0.read_u16(addr);
        }
        self.read_be(addr, 2).map(|v| v as u16)
    }
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        if addr % 4 == 0 {
            return self.0.read_u32(addr);
        }
        self.read_be(addr, 4).map(|v| v as u32)
    }
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
        if addr % 8 == 0 {
            return self.0.read_u64(addr);
        }
        self.read_be(addr, 8)
    }
    fn write_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault> {
        self.0.write_u8(addr, value)
    }
    fn write_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault> {
        if addr % 2 == 0 {
            return self.0.write_u16(addr, value);
        }
        self.write_be(addr, 2, value.into())
    }
    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        if addr % 4 == 0 {
            return self.0.write_u32(addr, value);
        }
        self.write_be(addr, 4, value.into())
    }
    fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), MemFault> {
        if addr % 8 == 0 {
            return self.0.write_u64(addr, value);
        }
        self.write_be(addr, 8, value)
    }
    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        self.0.fetch(addr)
    }
    fn read_bytes(&self, addr: u32, buf: &mut [u8]) -> Result<(), MemFault> {
        self.0.read_bytes(addr, buf)
    }
    fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), MemFault> {
        self.0.write_bytes(addr, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{AddressSpace, Layout, PERM_EXEC, PERM_READ, PERM_WRITE};
    use hbft_translator::memory::Access;

    const CODE: u32 = 0x10000;
    const DATA: u32 = 0x20000;

    /// Memory with one code word at CODE and a data page at DATA holding
    /// 0x00 0x11 0x22 ... 0xff 0x00 ...
    fn setup(word: u32) -> (CpuState, AddressSpace) {
        let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).unwrap();
        mem.map_fixed(CODE, 0x1000, PERM_READ | PERM_WRITE | PERM_EXEC).unwrap();
        mem.map_fixed(DATA, 0x1000, PERM_READ | PERM_WRITE).unwrap();
        mem.write_u32(CODE, word).unwrap();
        let bytes: Vec<u8> = (0..16u8).map(|i| i * 0x11).collect();
        mem.write_bytes(DATA, &bytes).unwrap();
        (CpuState::at(CODE), mem)
    }

    #[test]
    fn misaligned_word_load_is_completed_bytewise() {
        // ldw 0(r19),r19 at a misaligned r19.
        let (mut cpu, mut mem) = setup(0x0e601093);
        cpu.gr[19] = DATA + 3;
        let fault = Interpreter::new().run(&mut cpu, &mut mem, 1);
        let Exit::Fault(fault @ MemFault::Unaligned { .. }) = fault else { panic!("{fault:?}") };
        assert_eq!(cpu.retired, 0);
        assert_eq!(complete_misaligned(&mut cpu, &mut mem, fault), Exit::Budget);
        assert_eq!(cpu.gr[19], 0x33445566);
        assert_eq!(cpu.retired, 1);
        assert_eq!(cpu.iaoq_front, CODE + 4);
    }

    #[test]
    fn misaligned_word_store_is_completed_bytewise() {
        // stw r21,0(r19) at a misaligned r19.
        let (mut cpu, mut mem) = setup(0x0e751280);
        cpu.gr[19] = DATA + 1;
        cpu.gr[21] = 0xdeadbeef;
        let Exit::Fault(fault) = Interpreter::new().run(&mut cpu, &mut mem, 1) else { panic!() };
        assert_eq!(complete_misaligned(&mut cpu, &mut mem, fault), Exit::Budget);
        let mut out = [0u8; 6];
        mem.read_bytes(DATA, &mut out).unwrap();
        assert_eq!(out, [0x00, 0xde, 0xad, 0xbe, 0xef, 0x55]);
    }

    #[test]
    fn misaligned_semaphore_load_keeps_its_trap() {
        // ldcw 0(r19),r19: Linux kills it with SIGBUS.
        let (mut cpu, mut mem) = setup(0x0e6011d3);
        cpu.gr[19] = DATA + 2;
        let Exit::Fault(fault) = Interpreter::new().run(&mut cpu, &mut mem, 1) else { panic!() };
        assert_eq!(complete_misaligned(&mut cpu, &mut mem, fault), Exit::Fault(fault));
        assert_eq!(cpu.retired, 0);
    }

    #[test]
    fn misaligned_access_across_into_an_unmapped_page_faults_there() {
        // ldw 0(r19),r19 straddling the end of the data page.
        let (mut cpu, mut mem) = setup(0x0e601093);
        cpu.gr[19] = DATA + 0xffe;
        let Exit::Fault(fault) = Interpreter::new().run(&mut cpu, &mut mem, 1) else { panic!() };
        let expected = MemFault::Unmapped { addr: DATA + 0x1000, access: Access::Read };
        assert_eq!(complete_misaligned(&mut cpu, &mut mem, fault), Exit::Fault(expected));
        assert_eq!(cpu.retired, 0);
    }
}
