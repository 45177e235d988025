//! The engines' view of guest memory: a 32-bit big-endian address space with
//! page permissions. `hbft-runtime` implements it; engines only see this trait.

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
}

/// Guest memory laid out flat in the host, so translated code can access it
/// inline: guest address `a` lives at `host_base() + a`, the permission
/// byte of page `a >> 12` is `perm_table()[a >> 12]` (bits in [`perm`]),
/// every mapped page is host-readable and -writable, and a store must set
/// bit `p & 63` of word `p >> 6` of `dirty_bitmap()` for its page `p`, as
/// the implementation's own writes do.
pub trait FlatMemory: GuestMemory {
    fn host_base(&self) -> *mut u8;
    /// 2^20 permission bytes, one per page.
    fn perm_table(&self) -> *const u8;
    /// 2^20 dirty bits, 64 pages per word.
    fn dirty_bitmap(&mut self) -> *mut u64;
}
