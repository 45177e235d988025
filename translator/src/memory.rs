//! The engines' view of guest memory: a 32-bit big-endian address space with
//! page permissions. `hbft-runtime` implements it; engines only see this trait.

use hbft_frontend::insn::{Addr, LoadKind, Space, StoreKind};
use hbft_frontend::Insn;

/// Guest page size (PA-RISC Linux uses 4 KiB pages).
pub const PAGE_SIZE: u32 = 4096;

/// The kind of access that faulted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
}

/// Why an access failed; the engine turns it into a precise guest fault at
/// the faulting instruction (Linux: SIGSEGV for the first two, SIGBUS for
/// misalignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MemFault {
    /// No page is mapped at `addr`.
    #[error("{access:?} of unmapped address {addr:#010x}")]
    Unmapped { addr: u32, access: Access },
    /// The page at `addr` does not allow `access`.
    #[error("{access:?} of {addr:#010x} violates page protection")]
    Protection { addr: u32, access: Access },
    /// `addr` is not aligned to the access size (PA-RISC traps on misaligned data).
    #[error("misaligned {size}-byte {access:?} at {addr:#010x}")]
    Unaligned { addr: u32, size: u32, access: Access },
}

impl MemFault {
    /// The faulting guest address.
    pub fn addr(&self) -> u32 {
        match *self {
            MemFault::Unmapped { addr, .. }
            | MemFault::Protection { addr, .. }
            | MemFault::Unaligned { addr, .. } => addr,
        }
    }
}

/// Byte-order-aware access to guest memory. All multi-byte values are
/// big-endian in the guest and must be naturally aligned.
pub trait GuestMemory {
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault>;
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault>;
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault>;
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault>;
    fn write_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault>;
    fn write_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault>;
    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault>;
    fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), MemFault>;
    /// Reads an instruction word from an executable page.
    fn fetch(&self, addr: u32) -> Result<u32, MemFault>;

    /// Called by the interpreter before it fetches and executes each
    /// instruction. Memory whose address translation depends on processor
    /// state (system mode: PSW D/C, privilege level, space registers,
    /// protection IDs) takes it from `cpu`; plain memory ignores it, and the
    /// empty default compiles to nothing.
    #[inline]
    fn observe(&mut self, _cpu: &crate::state::CpuState) {}

    /// Copies `buf.len()` bytes starting at `addr` out of readable pages.
    /// A fault names the first byte that could not be read. Implementations
    /// may override this with a faster page-wise copy.
    fn read_bytes(&self, addr: u32, buf: &mut [u8]) -> Result<(), MemFault> {
        for (i, byte) in buf.iter_mut().enumerate() {
            *byte = self.read_u8(addr.wrapping_add(i as u32))?;
        }
        Ok(())
    }

    /// Copies `data` into writable pages starting at `addr`. A fault names
    /// the first byte that could not be written; bytes before it may have
    /// been written (as with a Linux `copy_to_user` that faults).
    fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), MemFault> {
        for (i, &byte) in data.iter().enumerate() {
            self.write_u8(addr.wrapping_add(i as u32), byte)?;
        }
        Ok(())
    }
}

/// Page permission bits in a [`FlatMemory`] permission table (the low three
/// are Linux's `PROT_READ/WRITE/EXEC`).
pub mod perm {
    /// Loads allowed.
    pub const READ: u8 = 1;
    /// Stores allowed.
    pub const WRITE: u8 = 2;
    /// Instruction fetches allowed.
    pub const EXEC: u8 = 4;
    /// The page exists (possibly with no access).
    pub const MAPPED: u8 = 8;
    /// The page's dirty bit is set, in a memory whose
    /// [`super::FlatMemory::dirty_in_perms`] says it keeps this bit.
    pub const DIRTY: u8 = 16;
    /// An engine may hold code of the page: translated stores leave to the
    /// interpreter (set by [`super::FlatMemory::mark_code`]; cleared by
    /// [`super::FlatMemory::clear_code`] once a store has dropped the code,
    /// and with the page's other bits by a mapping change, which also drops
    /// the engines' code there).
    pub const CODE: u8 = 32;
}

/// Guest memory laid out flat in the host, so translated code can access it
/// inline: guest address `a` lives at `host_base() + a`, the permission
/// byte of page `a >> 12` is `perm_table()[a >> 12]` (bits in [`perm`]),
/// every mapped readable page is host-readable, every one the guest may
/// also write and that holds no code host-writable, and a store must set
/// bit `p & 63` of word `p >> 6` of `dirty_bitmap()` for its page `p`, as
/// the implementation's own writes do.
pub trait FlatMemory: GuestMemory {
    fn host_base(&self) -> *mut u8;
    /// 2^20 permission bytes, one per page.
    fn perm_table(&self) -> *const u8;
    /// 2^20 dirty bits, 64 pages per word.
    fn dirty_bitmap(&mut self) -> *mut u64;
    /// Whether the permission table carries [`perm::DIRTY`] exactly for
    /// the pages whose dirty bit is set. Translated stores then need not
    /// mark the bitmap: they require WRITE and DIRTY, so the first store to
    /// a page since its bit was cleared leaves to the interpreter, which
    /// marks it (the way QEMU's TLB_NOTDIRTY sends the first write of a
    /// clean page to the slow path).
    fn dirty_in_perms(&self) -> bool {
        false
    }
    /// Whether the host mapping of every page without [`perm::READ`] is
    /// inaccessible, so that a load from it faults on the host: translated
    /// loads may then skip the permission test (see the JIT's `enter`).
    fn unreadable_pages_fault(&self) -> bool {
        false
    }
    /// Whether the host mapping of every page the guest may not write, or
    /// that has [`perm::CODE`], is not writable, so that a store to it
    /// faults on the host: translated stores that need not mark pages
    /// dirty may then skip the permission test.
    fn unwritable_pages_fault(&self) -> bool {
        false
    }
    /// Sets [`perm::CODE`] on page number `page` (if it is mapped).
    fn mark_code(&mut self, page: u32);
    /// Clears [`perm::CODE`] on page number `page`: no engine holds code
    /// of it any more.
    fn clear_code(&mut self, page: u32);
    /// With data translation on, the cache of data translations that
    /// translated code must take loads and stores through instead of the
    /// permission table (which then must deny every data access); null
    /// otherwise. Stores through it mark nothing dirty: an entry for
    /// writes may only exist while its page's dirty bit is set.
    fn data_tlb(&self) -> *const DataTlb {
        std::ptr::null()
    }
}

/// The space register a load or store names explicitly (`s` = 1..3 in a
/// long-pointer form such as `ldw 0(%sr1,%r26)`); `None` for short
/// pointers, whose space register (sr4..sr7) the offset's top two bits
/// choose, and for other instructions.
pub fn explicit_space(insn: &Insn) -> Option<u8> {
    let space = match insn {
        Insn::Load { addr, .. } | Insn::Store { addr, .. } | Insn::FpMem { addr, .. } => match addr {
            Addr::Disp { space, .. } | Addr::Index { space, .. } => *space,
        },
        Insn::StoreBytes { space, .. } => *space,
        _ => return None,
    };
    match space {
        Space::Sr(sr) => Some(sr.0),
        Space::Implicit => None,
    }
}

/// Whether `insn` is an absolute load or store (`ldwa`, `stwa`), whose
/// address is physical even with data translation on.
pub fn is_absolute(insn: &Insn) -> bool {
    matches!(insn, Insn::Load { kind: LoadKind::Absolute, .. } | Insn::Store { kind: StoreKind::Absolute, .. })
}

/// A host-side cache of guest data translations (system mode with PSW D
/// set), probed inline by translated code as QEMU's softmmu TLB is: one
/// direct-mapped table per access kind, indexed by the virtual page, each
/// entry the key of a translated page and the value that, added to the
/// offset, gives the host address of the byte.
///
/// Whoever fills it has checked everything the access depends on (access
/// rights at the privilege level, protection IDs, the TLB entry's dirty
/// and reference bits, that the physical page is RAM) and must flush it
/// when any of those change. Guests never see it.
#[repr(C)]
pub struct DataTlb {
    read: [DataTlbEntry; DATA_TLB_ENTRIES],
    write: [DataTlbEntry; DATA_TLB_ENTRIES],
}

/// Entries per access kind of a [`DataTlb`] (a power of two).
pub const DATA_TLB_ENTRIES: usize = 256;

/// One [`DataTlb`] entry. `Cell`s: memory fills it while it is shared
/// with translated code.
#[repr(C)]
pub struct DataTlbEntry {
    /// `space << 32 | page offset`, or [`DATA_TLB_EMPTY`].
    pub tag: std::cell::Cell<u64>,
    /// Host address of the page minus its guest offset (wrapping).
    pub addend: std::cell::Cell<u64>,
}

/// The tag of an empty entry: its low bits are set, so no access's key,
/// whose low bits hold only the misalignment, matches it.
pub const DATA_TLB_EMPTY: u64 = u64::MAX;

/// Where the tables and an entry's fields are, for translated code.
pub const DATA_TLB_READ: usize = std::mem::offset_of!(DataTlb, read);
pub const DATA_TLB_WRITE: usize = std::mem::offset_of!(DataTlb, write);
pub const DATA_TLB_ADDEND: usize = std::mem::offset_of!(DataTlbEntry, addend);
/// Log2 of an entry's size.
pub const DATA_TLB_ENTRY_SHIFT: u32 = 4;

impl Default for DataTlb {
    fn default() -> Self {
        let empty = || DataTlbEntry { tag: std::cell::Cell::new(DATA_TLB_EMPTY), addend: std::cell::Cell::new(0) };
        DataTlb { read: std::array::from_fn(|_| empty()), write: std::array::from_fn(|_| empty()) }
    }
}

impl DataTlb {
    /// The key of an access of `size` bytes at (`space`, `offset`): a
    /// misaligned access keeps low bits and matches no entry.
    pub fn key(space: u32, offset: u32, size: u32) -> u64 {
        u64::from(space) << 32 | u64::from(offset & (!(PAGE_SIZE - 1) | (size - 1)))
    }

    /// The entry an access at `offset` probes.
    pub fn index(offset: u32) -> usize {
        (offset / PAGE_SIZE) as usize & (DATA_TLB_ENTRIES - 1)
    }

    /// Records that `access` (a read or a write) of page (`space`,
    /// `offset`) may go straight to `host_page`, the host address of its
    /// physical page.
    pub fn fill(&self, access: Access, space: u32, offset: u32, host_page: *mut u8) {
        let table = if access == Access::Write { &self.write } else { &self.read };
        let e = &table[Self::index(offset)];
        e.tag.set(Self::key(space, offset, 1));
        e.addend.set((host_page as u64).wrapping_sub(u64::from(offset & !(PAGE_SIZE - 1))));
    }

    /// Forgets every translation.
    pub fn flush(&mut self) {
        for e in self.read.iter().chain(&self.write) {
            e.tag.set(DATA_TLB_EMPTY);
        }
    }
}
