//! Guest memory as the board's CPU sees it: physical RAM and device
//! registers, reached through the virtual TLB when PSW D (data) or C (code)
//! is set (PA-RISC 1.1 ch. 3 "Addressing and Access Control").
//!
//! [`SystemMemory`] is what the engines run on in system mode whenever
//! translation is on (with both bits off they run on RAM directly, the
//! user-mode fast path). Every translated access looks the page up in the
//! guest's TLB ([`super::tlb`]), checks the access rights at the current
//! privilege level, the protection ID (PSW P) and the dirty and reference
//! bits, and reaches RAM at the physical address; a failure is a
//! [`MemFault`] whose architected cause ([`Denied`]) the runtime turns
//! into the interruption. The translation state comes from the CPU through
//! [`GuestMemory::observe`] before every instruction the interpreter
//! executes.
//!
//! Host fast path for translated data: a [`DataTlb`] the JIT's blocks
//! probe inline (the permission table they test in user mode denies every
//! page here). A miss leaves the block; the interpreter performs the
//! access here, and a RAM access that passed every check fills the entry
//! of its kind. [`HostTables::refresh`] flushes the entries whenever
//! something a check depended on may have changed. Instruction fetches are
//! translated when code is decoded or compiled; those caches are valid in
//! one code context (space, privilege level, protection IDs, the ITLB),
//! which has its own engine ([`super::engines`]).

use std::cell::Cell;

use hbft_frontend::decode;
use hbft_translator::memory::{explicit_space, is_absolute, Access, DataTlb, FlatMemory, GuestMemory, MemFault};
use hbft_translator::state::{psw, CpuState};

use super::board::{Board, MMIO_BASE};
use super::control::Interruption;
use super::tlb::{Tlb, Use};
use crate::memory::AddressSpace;

/// Protection-ID registers (CR 8, 9, 12, 13): the ID in bits 1.., the
/// write-disable bit in bit 0.
pub const PID_REGS: [usize; 4] = [8, 9, 12, 13];

/// Why a translated access was refused: the architected cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No TLB entry for the page.
    Miss,
    /// The access rights do not allow the access at this privilege level.
    Rights,
    /// PSW P is set and no protection-ID register matches the page's access
    /// ID (or the matching one is write-disabled and this is a write).
    ProtectionId,
    /// A write to a page whose TLB entry has D clear.
    Dirty,
    /// An access to a page whose TLB entry has T set.
    Reference,
    /// A device register (the runtime performs the access over the bus).
    Device,
}

/// A refused access: the cause and the virtual address (space, offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub denied: Denied,
    pub space: u32,
    pub offset: u32,
    pub fetch: bool,
}

impl Refusal {
    /// The interruption hardware raises for it (PA-RISC 1.1 ch. 5): ITLB
    /// miss 6, instruction memory protection 7, data TLB miss 15, TLB dirty
    /// bit 20, page reference 21, data access rights 26, data protection ID 27.
    pub fn interruption(&self) -> Option<Interruption> {
        Some(match (self.denied, self.fetch) {
            (Denied::Miss, true) => Interruption::InstructionTlbMiss,
            (Denied::Rights | Denied::ProtectionId | Denied::Dirty | Denied::Reference, true) => {
                Interruption::InstructionProtection
            }
            (Denied::Miss, false) => Interruption::DataTlbMiss,
            (Denied::Rights, false) => Interruption::DataAccessRights,
            (Denied::ProtectionId, false) => Interruption::DataProtectionId,
            (Denied::Dirty, false) => Interruption::TlbDirty,
            (Denied::Reference, false) => Interruption::PageReference,
            (Denied::Device, _) => return None,
        })
    }
}

/// The processor state translation depends on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    pub psw: u32,
    pub priv_level: u32,
    pub sr: [u32; 8],
    /// The space of the instruction at the queue front.
    pub iasq: u32,
    pub pids: [u32; 4],
    /// The explicit space register a long-pointer load or store of the
    /// current instruction names (`ldw 0(%sr3,%r1)`), if any.
    pub explicit: Option<u8>,
    /// The current instruction is an absolute load or store (`ldwa`,
    /// `stwa`): its address is physical.
    pub absolute: bool,
}

impl Context {
    pub fn of(cpu: &CpuState) -> Context {
        Context {
            psw: cpu.psw,
            priv_level: cpu.priv_level,
            sr: cpu.sr,
            iasq: cpu.iasq_front,
            pids: PID_REGS.map(|r| cpu.cr[r]),
            explicit: None,
            absolute: false,
        }
    }

    /// The space a data access at `offset` uses: the explicit space
    /// register, or sr4..sr7 chosen by the offset's top two bits.
    pub fn data_space(&self, offset: u32) -> u32 {
        match self.explicit {
            Some(s) => self.sr[s as usize],
            None => self.sr[4 + (offset >> 30) as usize],
        }
    }
}

/// Whether the access rights and protection ID of a TLB entry allow `use_`
/// in context `ctx`; `Ok` with the physical address.
pub fn check(tlb: &Tlb, ctx: &Context, space: u32, offset: u32, use_: Use) -> Result<u32, Denied> {
    let e = tlb.lookup(space, offset).ok_or(Denied::Miss)?;
    if !e.allows(use_, ctx.priv_level) {
        return Err(Denied::Rights);
    }
    // Access ID 0 is public (no check), as in QEMU's target/hppa.
    if ctx.psw & psw::P != 0 && e.access_id != 0 {
        let pid = ctx.pids.iter().find(|&&p| p >> 1 == e.access_id).ok_or(Denied::ProtectionId)?;
        if use_ == Use::Write && pid & 1 != 0 {
            return Err(Denied::ProtectionId);
        }
    }
    if use_ == Use::Write && !e.d {
        return Err(Denied::Dirty);
    }
    if e.t {
        return Err(Denied::Reference);
    }
    Ok((e.ppn << 12) | (offset & 0xfff))
}

/// What translated code reads in system mode with translation on: a
/// permission table that denies every page (so user-mode style accesses
/// leave to the interpreter) and the [`DataTlb`] of translated data.
pub struct HostTables {
    perms: Box<[u8]>,
    dirty: Box<[u64]>,
    data_tlb: Box<DataTlb>,
    /// What the data TLB's entries were checked against.
    filled_in: Option<DataStamp>,
}

/// Everything a data access check depends on besides the space and
/// offset (which the entries' keys hold): PSW D and P, the privilege
/// level, the protection IDs and the guest DTLB's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataStamp {
    pub psw: u32,
    pub priv_level: u32,
    pub pids: [u32; 4],
    pub dtlb_changes: u64,
}

impl Default for HostTables {
    fn default() -> Self {
        HostTables {
            perms: vec![0; 1 << 20].into_boxed_slice(),
            dirty: vec![0; 1 << 14].into_boxed_slice(),
            data_tlb: Box::default(),
            filled_in: None,
        }
    }
}

impl HostTables {
    /// Flushes the data TLB unless its entries were checked against
    /// `stamp`. The engines never change any part of it while they run:
    /// the instructions that do (PSW, control registers, TLB inserts and
    /// purges, privilege changes other than a gate's promotion, which only
    /// widens rights) stop them.
    pub fn refresh(&mut self, stamp: DataStamp) {
        if self.filled_in != Some(stamp) {
            self.flush();
            self.filled_in = Some(stamp);
        }
    }

    /// Forgets every data translation. Needed too whenever RAM's dirty
    /// bitmap is cleared: translated stores through an entry mark nothing
    /// dirty, and entries for writes are filled only by writes.
    pub fn flush(&mut self) {
        self.data_tlb.flush();
    }
}

/// The CPU's view of memory in system mode (see the module documentation).
pub struct SystemMemory<'a> {
    pub ram: &'a mut AddressSpace,
    /// The devices, when this memory may perform device accesses (the
    /// runtime's single-instruction path); without them a device access is
    /// refused with [`Denied::Device`].
    pub board: Option<&'a mut Board>,
    pub itlb: &'a Tlb,
    pub dtlb: &'a Tlb,
    pub ctx: Context,
    pub tables: &'a mut HostTables,
    /// The last refused access.
    pub refused: Cell<Option<Refusal>>,
}

impl<'a> SystemMemory<'a> {
    /// The memory the CPU sees in translation context `ctx`, with nothing
    /// refused yet; the data TLB is flushed if it was filled in another
    /// context.
    pub fn new(ram: &'a mut AddressSpace, board: Option<&'a mut Board>, itlb: &'a Tlb, dtlb: &'a Tlb, ctx: Context, tables: &'a mut HostTables) -> Self {
        let stamp = DataStamp { psw: ctx.psw & (psw::D | psw::P), priv_level: ctx.priv_level, pids: ctx.pids, dtlb_changes: dtlb.changes };
        tables.refresh(stamp);
        SystemMemory { ram, board, itlb, dtlb, ctx, tables, refused: Cell::new(None) }
    }

    fn refuse(&self, refusal: Refusal, access: Access) -> MemFault {
        self.refused.set(Some(refusal));
        MemFault::Protection { addr: refusal.offset, access }
    }

    /// The physical address of a data access.
    fn data(&self, offset: u32, access: Access) -> Result<u32, MemFault> {
        if self.ctx.psw & psw::D == 0 || self.ctx.absolute {
            return Ok(offset);
        }
        let space = self.ctx.data_space(offset);
        let use_ = if access == Access::Write { Use::Write } else { Use::Read };
        check(self.dtlb, &self.ctx, space, offset, use_)
            .map_err(|denied| self.refuse(Refusal { denied, space, offset, fetch: false }, access))
    }

    /// The physical address of an instruction fetch.
    pub fn code(&self, offset: u32) -> Result<u32, MemFault> {
        if self.ctx.psw & psw::C == 0 {
            return Ok(offset);
        }
        let space = self.ctx.iasq;
        check(self.itlb, &self.ctx, space, offset, Use::Execute)
            .map_err(|denied| self.refuse(Refusal { denied, space, offset, fetch: true }, Access::Execute))
    }

    /// After RAM at `pa` served the data access `access` of `offset`:
    /// later ones of the page may take the data TLB.
    fn fill(&self, access: Access, offset: u32, pa: u32) {
        if self.ctx.psw & psw::D == 0 || self.ctx.absolute || pa >= MMIO_BASE {
            return;
        }
        let page = pa & !(hbft_translator::memory::PAGE_SIZE - 1);
        // SAFETY: `pa` was just accessed, so its page is mapped RAM inside
        // the reservation.
        let host = unsafe { self.ram.host_base().add(page as usize) };
        self.tables.data_tlb.fill(access, self.ctx.data_space(offset), offset, host);
    }

    /// What a refused RAM access at `pa` (for `offset`) means: a
    /// misaligned access (named by its offset), a device register, or no
    /// memory at all.
    fn ram_fault(&self, fault: MemFault, pa: u32, offset: u32) -> MemFault {
        match fault {
            MemFault::Unaligned { size, access, .. } => MemFault::Unaligned { addr: offset, size, access },
            MemFault::Unmapped { access, .. } | MemFault::Protection { access, .. } if pa >= MMIO_BASE => {
                let space = self.ctx.data_space(offset);
                self.refuse(Refusal { denied: Denied::Device, space, offset, fetch: false }, access)
            }
            other => other,
        }
    }
}

macro_rules! narrow_access {
    ($read:ident, $write:ident, $t:ty) => {
        fn $read(&self, addr: u32) -> Result<$t, MemFault> {
            let pa = self.data(addr, Access::Read)?;
            let v = self.ram.$read(pa).map_err(|f| self.ram_fault(f, pa, addr))?;
            self.fill(Access::Read, addr, pa);
            Ok(v)
        }
        fn $write(&mut self, addr: u32, value: $t) -> Result<(), MemFault> {
            let pa = self.data(addr, Access::Write)?;
            self.ram.$write(pa, value).map_err(|f| self.ram_fault(f, pa, addr))?;
            self.fill(Access::Write, addr, pa);
            Ok(())
        }
    };
}

impl GuestMemory for SystemMemory<'_> {
    narrow_access!(read_u8, write_u8, u8);
    narrow_access!(read_u16, write_u16, u16);
    narrow_access!(read_u64, write_u64, u64);

    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        let pa = self.data(addr, Access::Read)?;
        if pa >= MMIO_BASE {
            if let Some(board) = &self.board {
                return board.read(pa).ok_or(MemFault::Unmapped { addr: pa, access: Access::Read });
            }
        }
        let v = self.ram.read_u32(pa).map_err(|f| self.ram_fault(f, pa, addr))?;
        self.fill(Access::Read, addr, pa);
        Ok(v)
    }

    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        let pa = self.data(addr, Access::Write)?;
        if pa >= MMIO_BASE {
            if let Some(board) = &mut self.board {
                return board.write(pa, value).ok_or(MemFault::Unmapped { addr: pa, access: Access::Write });
            }
        }
        self.ram.write_u32(pa, value).map_err(|f| self.ram_fault(f, pa, addr))?;
        self.fill(Access::Write, addr, pa);
        Ok(())
    }

    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        let pa = self.code(addr)?;
        self.ram.fetch(pa)
    }

    fn observe(&mut self, cpu: &CpuState) {
        self.ctx = Context::of(cpu);
        // A long-pointer access names its space register; the engines form
        // only the offset, so the space comes from the instruction.
        if cpu.psw & psw::D != 0 {
            if let Some(insn) = self.fetch(cpu.iaoq_front).ok().and_then(|w| decode(w).ok()) {
                self.ctx.explicit = explicit_space(&insn);
                self.ctx.absolute = is_absolute(&insn);
            }
        }
        self.refused.set(None);
    }
}

impl FlatMemory for SystemMemory<'_> {
    fn host_base(&self) -> *mut u8 {
        self.ram.host_base()
    }
    fn perm_table(&self) -> *const u8 {
        self.tables.perms.as_ptr()
    }
    fn dirty_bitmap(&mut self) -> *mut u64 {
        self.tables.dirty.as_mut_ptr()
    }
    /// Stores never pass this memory's permission table.
    fn mark_code(&mut self, _page: u32) {}
    fn clear_code(&mut self, _page: u32) {}
    fn data_tlb(&self) -> *const DataTlb {
        if self.ctx.psw & psw::D != 0 {
            &*self.tables.data_tlb
        } else {
            std::ptr::null()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Layout, PERM_RWX};

    fn ram() -> AddressSpace {
        let mut ram = AddressSpace::new(Layout::linux_parisc32(0)).unwrap();
        ram.map_fixed(0, 1 << 20, PERM_RWX).unwrap();
        ram
    }

    /// Page 0x4000_0000 of space 7 → physical page 0x20: read/write at PL
    /// 3, access ID 5, dirty.
    fn tlb() -> Tlb {
        let mut tlb = Tlb::default();
        tlb.insert_address(7, 0x4000_0000, 0x20 << 5);
        tlb.insert_protection(7, 0x4000_0000, (1 << 28) | (1 << 24) | (3 << 22) | (3 << 20) | (5 << 1));
        tlb
    }

    fn user(psw_bits: u32) -> CpuState {
        let mut cpu = CpuState { psw: psw_bits, priv_level: 3, ..CpuState::at(0x1000) };
        cpu.sr[5] = 7;
        cpu.cr[8] = 5 << 1;
        cpu
    }

    #[test]
    fn translated_accesses_reach_the_physical_page_and_check_rights_and_ids() {
        let (mut ram, dtlb, itlb, mut tables) = (ram(), tlb(), Tlb::default(), HostTables::default());
        let mut mem = SystemMemory::new(&mut ram, None, &itlb, &dtlb, Context::default(), &mut tables);
        mem.observe(&user(psw::D | psw::P));
        mem.write_u32(0x4000_0010, 0xdead_beef).unwrap();
        assert_eq!(mem.ram.read_u32(0x20010).unwrap(), 0xdead_beef);
        // Another quadrant's space (sr4 = 0): no entry.
        assert!(mem.read_u32(0x0000_0010).is_err());
        assert_eq!(mem.refused.get().map(|r| (r.denied, r.space)), Some((Denied::Miss, 0)));
        // The protection ID no longer matches.
        let mut cpu = user(psw::D | psw::P);
        cpu.cr[8] = 6 << 1;
        mem.observe(&cpu);
        assert!(mem.read_u32(0x4000_0010).is_err());
        assert_eq!(mem.refused.get().unwrap().interruption(), Some(Interruption::DataProtectionId));
        // Write-disabled ID: reads pass, writes trap.
        cpu.cr[8] = (5 << 1) | 1;
        mem.observe(&cpu);
        assert_eq!(mem.read_u32(0x4000_0010), Ok(0xdead_beef));
        assert!(mem.write_u32(0x4000_0010, 0).is_err());
        // Without PSW P the ID is not checked; without D nothing is translated.
        cpu.psw = psw::D;
        mem.observe(&cpu);
        assert!(mem.write_u32(0x4000_0010, 1).is_ok());
        cpu.psw = 0;
        mem.observe(&cpu);
        assert_eq!(mem.read_u32(0x20010), Ok(1));
    }

    #[test]
    fn long_pointers_name_their_space_register_and_short_pointers_the_quadrant() {
        let decoded = |w: u32| explicit_space(&decode(w).unwrap());
        assert_eq!(decoded(0x0f40_509c), Some(1), "ldw 0(%sr1,%r26),%r28");
        assert_eq!(decoded(0x4b5c_0000), None, "ldw 0(%r26),%r28");
        let mut ctx = Context { sr: [0, 10, 0, 0, 4, 5, 6, 7], ..Context::default() };
        assert_eq!(ctx.data_space(0x8000_0000), 6);
        ctx.explicit = Some(1);
        assert_eq!(ctx.data_space(0x8000_0000), 10);
    }

    #[test]
    fn a_misaligned_translated_access_names_its_virtual_offset() {
        let (mut ram, dtlb, itlb, mut tables) = (ram(), tlb(), Tlb::default(), HostTables::default());
        let mut mem = SystemMemory::new(&mut ram, None, &itlb, &dtlb, Context::default(), &mut tables);
        mem.observe(&user(psw::D | psw::P));
        assert!(matches!(mem.read_u32(0x4000_0012), Err(MemFault::Unaligned { addr: 0x4000_0012, .. })));
    }

    #[test]
    fn an_absolute_load_is_not_translated() {
        let (mut ram, dtlb, itlb, mut tables) = (ram(), tlb(), Tlb::default(), HostTables::default());
        ram.write_u32(0x1000, 0x0f40_119c).unwrap(); // ldwa 0(%r26),%r28
        ram.write_u32(0x2_0000, 42).unwrap();
        let mut mem = SystemMemory::new(&mut ram, None, &itlb, &dtlb, Context::default(), &mut tables);
        let mut cpu = user(psw::D);
        cpu.priv_level = 0;
        mem.observe(&cpu);
        assert!(mem.ctx.absolute);
        assert_eq!(mem.read_u32(0x2_0000), Ok(42), "physical, though space 0 has no entry");
    }

    #[test]
    fn a_page_writable_only_at_pl0_refuses_user_writes_with_access_rights() {
        let (mut ram, itlb, mut tables) = (ram(), Tlb::default(), HostTables::default());
        let mut dtlb = Tlb::default();
        dtlb.insert_address(7, 0x4000_0000, 0x20 << 5);
        // Type 1, read at PL <= 3, write at PL 0; dirty.
        dtlb.insert_protection(7, 0x4000_0000, (1 << 28) | (1 << 24) | (3 << 22));
        let mut mem = SystemMemory::new(&mut ram, None, &itlb, &dtlb, Context::default(), &mut tables);
        mem.observe(&user(psw::D));
        assert!(mem.read_u32(0x4000_0000).is_ok());
        assert!(mem.write_u32(0x4000_0000, 1).is_err());
        assert_eq!(mem.refused.get().unwrap().interruption(), Some(Interruption::DataAccessRights));
        let mut cpu = user(psw::D);
        cpu.priv_level = 0;
        mem.observe(&cpu);
        assert!(mem.write_u32(0x4000_0000, 1).is_ok());
    }
}
