//! Guest memory: a 32-bit big-endian address space with 4 KiB page
//! permissions, backed by one 4 GiB host reservation.
//!
//! Guest address `a` lives at host address `host_base() + a`. Pages the guest
//! has mapped and may read are host read-write (whatever the guest's write
//! permission); all other pages are host `PROT_NONE`, so a translated load
//! from them faults on the host (`unreadable_pages_fault`). After
//! `fault_unwritable_pages`, readable pages the guest may not write, or
//! that hold code, are host read-only, so a translated store to them faults
//! too (`unwritable_pages_fault`). The runtime's own accesses to a page the
//! host refuses (a store to a write-only or read-only page, a fetch from an
//! execute-only one, the loader's copies, `page_bytes`) open it for the
//! access. The guest
//! protection of page `a >> 12` is the byte `perm_table()[a >> 12]`:
//!
//! | bit | constant       | meaning                                   |
//! |-----|----------------|-------------------------------------------|
//! | 0   | [`PERM_READ`]  | loads allowed                             |
//! | 1   | [`PERM_WRITE`] | stores allowed                            |
//! | 2   | [`PERM_EXEC`]  | instruction fetch allowed                 |
//! | 3   | [`PERM_MAPPED`]| the page exists (possibly `PROT_NONE`)    |
//! | 4   | `perm::DIRTY`  | the page's dirty bit is set               |
//! | 5   | `perm::CODE`   | an engine holds code of the page (set by the JIT, cleared with the other bits by a mapping change) |
//!
//! The low three bits equal Linux's `PROT_READ/WRITE/EXEC`, so JIT code can
//! inline a load as `perm[addr >> 12] & READ != 0`, then
//! `bswap(*(base + addr))` (or, relying on the host protection, as the
//! load alone). Writes set bit `addr >> 12` in the dirty bitmap
//! (`dirty_bitmap()`, 64 pages per `u64`, page `p` is bit `p & 63` of word
//! `p >> 6`) and the page's DIRTY bit, which is cleared with the bitmap's:
//! translated stores require WRITE and DIRTY and no CODE, one test
//! (`perm & (WRITE | DIRTY | CODE) == WRITE | DIRTY`), so only the first
//! store to a page per epoch, and stores into code, leave to the
//! interpreter.
//!
//! Placement (`map_anywhere`, `brk`) depends only on the guest-visible page
//! table, never on host addresses, so replicas agree bit for bit.

use std::borrow::Cow;
use std::ptr::NonNull;

use hbft_translator::memory::{perm, Access, FlatMemory, GuestMemory, MemFault, PAGE_SIZE};

/// Loads are allowed (`PROT_READ`).
pub const PERM_READ: u8 = 1;
/// Stores are allowed (`PROT_WRITE`).
pub const PERM_WRITE: u8 = 2;
/// Instruction fetches are allowed (`PROT_EXEC`).
pub const PERM_EXEC: u8 = 4;
/// The page is mapped; set on every mapped page, even `PROT_NONE` ones.
pub const PERM_MAPPED: u8 = 8;
/// The protection bits a guest can request.
pub const PERM_RWX: u8 = PERM_READ | PERM_WRITE | PERM_EXEC;

const PAGE_SHIFT: u32 = 12;
const PAGE_COUNT: usize = 1 << 20;
const SPACE_BYTES: usize = 1 << 32;

/// Why a mapping operation failed. The Linux layer turns these into errnos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// Unaligned start, empty length, or a range past the end of the address space (EINVAL).
    #[error("invalid range {addr:#010x}+{len:#x}")]
    InvalidRange { addr: u32, len: u32 },
    /// No free gap is large enough (ENOMEM).
    #[error("no free gap of {len:#x} bytes")]
    NoSpace { len: u32 },
    /// `MAP_FIXED_NOREPLACE` over an existing mapping (EEXIST).
    #[error("{addr:#010x} is already mapped")]
    AlreadyMapped { addr: u32 },
    /// `mprotect` of a range containing unmapped pages (ENOMEM).
    #[error("{addr:#010x} is not mapped")]
    NotMapped { addr: u32 },
    /// The host refused to change the reservation (carries the host errno).
    #[error("host mmap failed with errno {0}")]
    Host(i32),
}

/// A C string read from guest memory failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CStrError {
    #[error(transparent)]
    Fault(#[from] MemFault),
    /// No NUL within the allowed length (ENAMETOOLONG for paths).
    #[error("string at {addr:#010x} is longer than {max} bytes")]
    TooLong { addr: u32, max: usize },
}

/// Where non-fixed mappings go, in guest addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// First address past user space; non-fixed mappings end at or below it.
    pub task_end: u32,
    /// Top-down placement searches for gaps below this address.
    pub mmap_top: u32,
    /// Bottom-up fallback search starts here (TASK_UNMAPPED_BASE).
    pub mmap_legacy_base: u32,
}

impl Layout {
    /// Linux/parisc for a 32-bit task (arch/parisc/include/asm/processor.h,
    /// arch/parisc/kernel/sys_parisc.c): TASK_SIZE = 0xfff00000,
    /// TASK_UNMAPPED_BASE = 0x40000000, and mmap_base = TASK_SIZE minus the
    /// maximum stack size (the stack grows up from there), without
    /// randomization. `stack_max` is that maximum stack size.
    pub fn linux_parisc32(stack_max: u32) -> Layout {
        const TASK_SIZE: u32 = 0xfff0_0000;
        Layout {
            task_end: TASK_SIZE,
            mmap_top: page_align_down(TASK_SIZE - stack_max),
            mmap_legacy_base: 0x4000_0000,
        }
    }
}

/// Ranges [`HostWrites`] keeps apart before it merges them.
const HOST_WRITE_RANGES: usize = 32;

/// The ranges of guest memory the runtime changed on the guest's behalf
/// (system calls filling buffers, signal frames, mappings, emulated
/// stores): engines may hold decodings or translations of code there,
/// which the run loop drops before the guest runs again. Bounded: past
/// [`HOST_WRITE_RANGES`] ranges the last one grows to cover the new one
/// (dropping more than needed is harmless).
#[derive(Default)]
struct HostWrites(Vec<(u32, u32)>);

impl HostWrites {
    /// Notes `len` bytes from `start` (`len` counted in 64 bits: a range
    /// may reach the top of the address space).
    fn note(&mut self, start: u32, len: u64) {
        if len == 0 {
            return;
        }
        let end = u64::from(start) + len;
        if self.0.len() < HOST_WRITE_RANGES {
            self.0.push((start, (end - u64::from(start)).min(u64::from(u32::MAX)) as u32));
            return;
        }
        let last = self.0.last_mut().expect("the list is full");
        let lo = last.0.min(start);
        let hi = (u64::from(last.0) + u64::from(last.1)).max(end);
        *last = (lo, (hi - u64::from(lo)).min(u64::from(u32::MAX)) as u32);
    }
}

/// The guest's 4 GiB address space. See the module documentation for the
/// layout JIT code may rely on.
pub struct AddressSpace {
    base: NonNull<u8>,
    perms: Box<[u8]>,
    dirty: Box<[u64]>,
    layout: Layout,
    brk_start: u32,
    brk: u32,
    host_writes: HostWrites,
    /// Pages the guest may not write, or that hold code, are host read-only.
    unwritable_fault: bool,
}

// SAFETY: the reservation is owned exclusively by this value; guest bytes are
// only mutated through `&mut self`.
unsafe impl Send for AddressSpace {}

impl AddressSpace {
    /// Reserves 4 GiB of host address space (no memory is committed).
    pub fn new(layout: Layout) -> std::io::Result<AddressSpace> {
        // SAFETY: a fresh anonymous PROT_NONE reservation overlaps nothing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                SPACE_BYTES,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(AddressSpace {
            base: NonNull::new(ptr.cast()).expect("mmap never returns null on success"),
            perms: vec![0u8; PAGE_COUNT].into_boxed_slice(),
            dirty: vec![0u64; PAGE_COUNT / 64].into_boxed_slice(),
            layout,
            brk_start: 0,
            brk: 0,
            host_writes: HostWrites::default(),
            unwritable_fault: false,
        })
    }

    /// Host address of guest address 0 (for JIT-inlined accesses).
    pub fn host_base(&self) -> *mut u8 {
        self.base.as_ptr()
    }

    /// The 2^20-entry permission table (bit layout in the module docs).
    pub fn perm_table(&self) -> *const u8 {
        self.perms.as_ptr()
    }

    /// The 2^20-bit dirty bitmap that JIT-inlined stores must update.
    pub fn dirty_bitmap(&mut self) -> *mut u64 {
        self.dirty.as_mut_ptr()
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Permission bits of the page holding `addr` (without the dirty and code bits).
    pub fn perms(&self, addr: u32) -> u8 {
        self.perms[(addr >> PAGE_SHIFT) as usize] & !(perm::DIRTY | perm::CODE)
    }

    /// Whether page number `page` was written (or mapped, unmapped,
    /// reprotected) since the last `clear_dirty` or `take_dirty_pages`.
    pub fn is_dirty(&self, page: u32) -> bool {
        self.dirty.get((page >> 6) as usize).is_some_and(|w| w & (1 << (page & 63)) != 0)
    }

    pub fn is_mapped(&self, addr: u32) -> bool {
        self.perms(addr) & PERM_MAPPED != 0
    }

    /// Page numbers written (or mapped, unmapped, reprotected) since the
    /// last `clear_dirty`, in ascending order.
    pub fn dirty_pages(&self) -> impl Iterator<Item = u32> + '_ {
        self.dirty.iter().enumerate().flat_map(|(word_index, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let bit = bits.trailing_zeros();
                    bits &= bits - 1;
                    (word_index as u32) * 64 + bit
                })
            })
        })
    }

    /// The dirty page numbers in ascending order, cleared as they are
    /// taken: `dirty_pages` then `clear_dirty`, but reading the bitmap in
    /// blocks and writing only its nonzero words (an epoch end in a
    /// journaled run calls this).
    pub fn take_dirty_pages(&mut self) -> Vec<u32> {
        const BLOCK: usize = 8;
        let mut pages = Vec::new();
        for (block_index, block) in self.dirty.chunks_exact_mut(BLOCK).enumerate() {
            if block.iter().fold(0, |any, &word| any | word) == 0 {
                continue;
            }
            for (i, word) in block.iter_mut().enumerate() {
                let mut bits = std::mem::take(word);
                while bits != 0 {
                    let page = ((block_index * BLOCK + i) as u32) * 64 + bits.trailing_zeros();
                    self.perms[page as usize] &= !perm::DIRTY;
                    pages.push(page);
                    bits &= bits - 1;
                }
            }
        }
        pages
    }

    /// The ranges `(start, len)` whose bytes or permissions changed other
    /// than by a guest store since the last call — through
    /// [`GuestMemory::write_bytes`], [`AddressSpace::load_bytes`], a
    /// mapping change or [`AddressSpace::note_host_write`] — so that an
    /// engine can drop the code it cached from them. Guest stores
    /// (`write_u8`..`write_u64`) are not noted: the engines watch those
    /// themselves.
    pub fn take_host_writes(&mut self) -> Vec<(u32, u32)> {
        std::mem::take(&mut self.host_writes.0)
    }

    /// Notes that the runtime changed `len` bytes from `addr` with a
    /// guest-sized store on the guest's behalf (a light-weight
    /// compare-and-swap), for [`AddressSpace::take_host_writes`].
    pub fn note_host_write(&mut self, addr: u32, len: u32) {
        self.host_writes.note(addr, u64::from(len));
    }

    pub fn clear_dirty(&mut self) {
        self.take_dirty_pages();
    }

    /// The 4096 bytes of mapped page number `page`, whatever its protection
    /// (a copy for a page the guest may not read, which the host may not
    /// either).
    pub fn page_bytes(&self, page: u32) -> Option<Cow<'_, [u8]>> {
        let index = page as usize;
        if index >= PAGE_COUNT || self.perms[index] & PERM_MAPPED == 0 {
            return None;
        }
        // SAFETY: the page is mapped and lies inside the reservation; it is
        // host-readable, or opened to reads for the copy.
        let bytes = unsafe { std::slice::from_raw_parts(self.host(page << PAGE_SHIFT), PAGE_SIZE as usize) };
        if self.perms[index] & PERM_READ != 0 {
            return Some(Cow::Borrowed(bytes));
        }
        Some(Cow::Owned(self.with_page_open(page, libc::PROT_READ, || bytes.to_vec())))
    }

    /// Makes the host refuse stores to the pages the guest may not write
    /// or that hold code, from now on and for the pages mapped already
    /// (see [`FlatMemory::unwritable_pages_fault`]).
    pub fn fault_unwritable_pages(&mut self) -> std::io::Result<()> {
        self.unwritable_fault = true;
        let mut page = 0;
        while (page as usize) < PAGE_COUNT {
            let prot = self.host_prot(page);
            let run = self.perms[page as usize..].iter().take_while(|&&p| p == self.perms[page as usize]).count() as u32;
            if self.perms[page as usize] & PERM_MAPPED != 0 {
                self.host_protect(page, run, prot)?;
            }
            page += run;
        }
        Ok(())
    }

    /// Sets or clears [`perm::CODE`] on page number `page` (if it is
    /// mapped), and its host protection with it.
    fn set_code(&mut self, page: u32, code: bool) {
        if self.perms.get(page as usize).is_none_or(|p| p & PERM_MAPPED == 0) {
            return;
        }
        let before = self.host_prot(page);
        if code {
            self.perms[page as usize] |= perm::CODE;
        } else {
            self.perms[page as usize] &= !perm::CODE;
        }
        let after = self.host_prot(page);
        if after != before {
            // As in `with_page_open`: only the mapping limit can refuse.
            self.host_protect(page, 1, after).expect("mprotect of a reserved page");
        }
    }

    /// The host protection of page number `page` (see the module documentation).
    fn host_prot(&self, page: u32) -> libc::c_int {
        self.host_prot_of(self.perms[page as usize])
    }

    /// The host protection of a page with permission byte `perms`.
    fn host_prot_of(&self, perms: u8) -> libc::c_int {
        if perms & PERM_READ == 0 {
            libc::PROT_NONE
        } else if self.unwritable_fault && (perms & PERM_WRITE == 0 || perms & perm::CODE != 0) {
            libc::PROT_READ
        } else {
            libc::PROT_READ | libc::PROT_WRITE
        }
    }

    /// Sets the host protection of `count` pages from `first`.
    fn host_protect(&self, first: u32, count: u32, prot: libc::c_int) -> std::io::Result<()> {
        // SAFETY: the range lies inside our own reservation.
        let done = unsafe { libc::mprotect(self.host(first << PAGE_SHIFT).cast(), (count as usize) << PAGE_SHIFT, prot) };
        if done != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Runs `access` on mapped page `page` with the host protection `prot`
    /// added while it lasts if the host refuses it (see the module
    /// documentation): the runtime's own accesses to such pages.
    fn with_page_open<R>(&self, page: u32, prot: libc::c_int, access: impl FnOnce() -> R) -> R {
        let host = self.host_prot(page);
        if host & prot == prot {
            return access();
        }
        // Only the kernel's mapping limit can refuse this, and a guest page
        // the runtime cannot reach is not recoverable.
        let open = |prot| self.host_protect(page, 1, prot).expect("mprotect of a reserved page");
        open(host | prot);
        let result = access();
        open(host);
        result
    }

    /// Copies `bytes` to guest `at`, within one mapped page (opened for the
    /// copy if the guest may not read it: a write-only page, or the
    /// loader's).
    fn write_host(&mut self, at: u32, bytes: &[u8]) {
        self.mark_dirty(at >> PAGE_SHIFT);
        // SAFETY: the bytes stay inside one mapped page, host-writable
        // while they are copied.
        let copy = || unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.host(at), bytes.len()) };
        self.with_page_open(at >> PAGE_SHIFT, libc::PROT_READ | libc::PROT_WRITE, copy);
    }

    /// Maps zero-filled pages at `addr` (page-aligned), replacing whatever
    /// was there (`MAP_FIXED`). `len` is rounded up to whole pages.
    pub fn map_fixed(&mut self, addr: u32, len: u32, perms: u8) -> Result<(), MapError> {
        let (first, count) = page_range(addr, len)?;
        self.host_remap(first, count, libc::PROT_READ | libc::PROT_WRITE)?;
        self.set_perms(first, count, PERM_MAPPED | (perms & PERM_RWX))
    }

    /// Like `map_fixed`, but fails if any page of the range is mapped
    /// (`MAP_FIXED_NOREPLACE`).
    pub fn map_fixed_noreplace(&mut self, addr: u32, len: u32, perms: u8) -> Result<(), MapError> {
        let (first, count) = page_range(addr, len)?;
        if let Some(page) = (first..first + count).find(|&p| self.page_mapped(p)) {
            return Err(MapError::AlreadyMapped { addr: page << PAGE_SHIFT });
        }
        self.map_fixed(addr, len, perms)
    }

    /// Maps zero-filled pages where Linux/parisc would put a non-fixed
    /// mapping: at `hint` (page-aligned up) if that range is free and below
    /// `task_end`, otherwise the highest free gap below `mmap_top`, otherwise
    /// the lowest free gap above `mmap_legacy_base`. Returns the address.
    pub fn map_anywhere(&mut self, hint: u32, len: u32, perms: u8) -> Result<u32, MapError> {
        let addr = self.find_free(hint, len)?;
        self.map_fixed(addr, len, perms)?;
        Ok(addr)
    }

    /// The address `map_anywhere` would choose (arch_get_unmapped_area_topdown).
    pub fn find_free(&self, hint: u32, len: u32) -> Result<u32, MapError> {
        if len == 0 {
            return Err(MapError::InvalidRange { addr: hint, len });
        }
        let count = pages_for(len);
        let task_end_page = self.layout.task_end >> PAGE_SHIFT;
        if count > task_end_page {
            return Err(MapError::NoSpace { len });
        }
        let hint_page = (u64::from(hint) + u64::from(PAGE_SIZE) - 1) >> PAGE_SHIFT;
        if hint != 0 && hint_page + u64::from(count) <= u64::from(task_end_page) {
            let first = hint_page as u32;
            if self.range_free(first, count) {
                return Ok(first << PAGE_SHIFT);
            }
        }
        // Top-down from mmap_top, never below the first page.
        let mut run = 0;
        for page in (1..self.layout.mmap_top >> PAGE_SHIFT).rev() {
            run = if self.page_mapped(page) { 0 } else { run + 1 };
            if run == count {
                return Ok(page << PAGE_SHIFT);
            }
        }
        // Bottom-up fallback, as the kernel does when top-down fails.
        let mut run = 0;
        for page in self.layout.mmap_legacy_base >> PAGE_SHIFT..task_end_page {
            run = if self.page_mapped(page) { 0 } else { run + 1 };
            if run == count {
                return Ok((page + 1 - count) << PAGE_SHIFT);
            }
        }
        Err(MapError::NoSpace { len })
    }

    /// Unmaps the pages of [addr, addr+len); unmapped pages in the range are
    /// no error (munmap).
    pub fn unmap(&mut self, addr: u32, len: u32) -> Result<(), MapError> {
        let (first, count) = page_range(addr, len)?;
        self.host_remap(first, count, libc::PROT_NONE)?;
        self.set_perms(first, count, 0)
    }

    /// Changes the protection of mapped pages (mprotect); fails without
    /// changing anything if a page of the range is unmapped.
    pub fn protect(&mut self, addr: u32, len: u32, perms: u8) -> Result<(), MapError> {
        let (first, count) = page_range(addr, len)?;
        if let Some(page) = (first..first + count).find(|&p| !self.page_mapped(p)) {
            return Err(MapError::NotMapped { addr: page << PAGE_SHIFT });
        }
        self.set_perms(first, count, PERM_MAPPED | (perms & PERM_RWX))
    }

    /// Sets the start of the heap (the page-aligned end of the program's
    /// data); the break starts there.
    pub fn init_brk(&mut self, start: u32) {
        self.brk_start = start;
        self.brk = start;
    }

    /// The current program break.
    pub fn current_brk(&self) -> u32 {
        self.brk
    }

    /// Linux `brk(2)` (mm/mmap.c): moves the break to `new` when possible
    /// and returns the break, which is unchanged on failure.
    pub fn brk(&mut self, new: u32) -> u32 {
        if new < self.brk_start {
            return self.brk;
        }
        let old_end = page_align_up(self.brk);
        let new_end = page_align_up(new);
        if new_end < old_end {
            if self.unmap(new_end, old_end - new_end).is_err() {
                return self.brk;
            }
        } else if new_end > old_end {
            let (first, count) = ((old_end >> PAGE_SHIFT), (new_end - old_end) >> PAGE_SHIFT);
            // The kernel also keeps one page of gap below the next mapping.
            let guard = u32::from(first + count < (1 << 20) - 1);
            if new_end == 0
                || !self.range_free(first, count + guard)
                || self.map_fixed(old_end, new_end - old_end, PERM_READ | PERM_WRITE).is_err()
            {
                return self.brk;
            }
        }
        self.brk = new;
        self.brk
    }

    /// Writes `data` at `addr` ignoring guest protection (the loader filling
    /// read-only segments); every page must be mapped.
    pub fn load_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), MemFault> {
        self.copy_in(addr, data, PERM_MAPPED, Access::Write)
    }

    /// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
    pub fn read_cstring(&self, addr: u32, max: usize) -> Result<Vec<u8>, CStrError> {
        let mut out = Vec::new();
        let mut at = addr;
        loop {
            let page_left = (PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize;
            self.check_page(at, PERM_READ, Access::Read)?;
            // SAFETY: the page is mapped, so host-readable.
            let chunk = unsafe { std::slice::from_raw_parts(self.host(at), page_left) };
            match chunk.iter().position(|&b| b == 0) {
                Some(nul) => {
                    out.extend_from_slice(&chunk[..nul]);
                    break;
                }
                None => out.extend_from_slice(chunk),
            }
            if out.len() > max {
                break;
            }
            at = at.checked_add(page_left as u32).ok_or(MemFault::Unmapped {
                addr: u32::MAX,
                access: Access::Read,
            })?;
        }
        if out.len() > max {
            return Err(CStrError::TooLong { addr, max });
        }
        Ok(out)
    }

    fn host(&self, addr: u32) -> *mut u8 {
        // SAFETY: every u32 offset is inside the 4 GiB reservation.
        unsafe { self.base.as_ptr().add(addr as usize) }
    }

    fn page_mapped(&self, page: u32) -> bool {
        self.perms[page as usize] & PERM_MAPPED != 0
    }

    fn range_free(&self, first: u32, count: u32) -> bool {
        u64::from(first) + u64::from(count) <= PAGE_COUNT as u64
            && (first..first + count).all(|p| !self.page_mapped(p))
    }

    /// Sets the protection of mapped pages (or unmaps them: `perms` 0) and
    /// the host protection that goes with it (see the module documentation).
    fn set_perms(&mut self, first: u32, count: u32, perms: u8) -> Result<(), MapError> {
        let prot = self.host_prot_of(perms);
        self.host_protect(first, count, prot).map_err(|e| MapError::Host(e.raw_os_error().unwrap_or(0)))?;
        self.host_writes.note(first << PAGE_SHIFT, u64::from(count) << PAGE_SHIFT);
        self.perms[first as usize..(first + count) as usize].fill(perms);
        for page in first..first + count {
            self.mark_dirty(page);
        }
        Ok(())
    }

    #[inline(always)]
    fn mark_dirty(&mut self, page: u32) {
        self.dirty[(page >> 6) as usize] |= 1 << (page & 63);
        self.perms[page as usize] |= perm::DIRTY;
    }

    /// Replaces host pages with fresh zero pages of protection `prot`.
    fn host_remap(&mut self, first: u32, count: u32, prot: libc::c_int) -> Result<(), MapError> {
        // SAFETY: the range lies inside our own reservation.
        let ptr = unsafe {
            libc::mmap(
                self.host(first << PAGE_SHIFT).cast(),
                (count as usize) << PAGE_SHIFT,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(MapError::Host(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)));
        }
        Ok(())
    }

    /// Checks the page of `addr` for `need`; unmapped and protection faults
    /// take priority over misalignment, as on PA-RISC.
    #[inline(always)]
    fn check(&self, addr: u32, size: u32, need: u8, access: Access) -> Result<(), MemFault> {
        self.check_page(addr, need, access)?;
        if addr & (size - 1) != 0 {
            return Err(MemFault::Unaligned { addr, size, access });
        }
        Ok(())
    }

    #[inline(always)]
    fn check_page(&self, addr: u32, need: u8, access: Access) -> Result<(), MemFault> {
        let perms = self.perms[(addr >> PAGE_SHIFT) as usize];
        if perms & need == 0 {
            return Err(if perms & PERM_MAPPED == 0 {
                MemFault::Unmapped { addr, access }
            } else {
                MemFault::Protection { addr, access }
            });
        }
        Ok(())
    }

    #[inline(always)]
    fn load<const N: usize>(&self, addr: u32, need: u8, access: Access) -> Result<[u8; N], MemFault> {
        self.check(addr, N as u32, need, access)?;
        // SAFETY: the aligned N-byte access stays in one mapped page,
        // host-readable while it is read (an instruction fetch from a page
        // the guest may execute but not read opens it).
        let read = || unsafe { self.host(addr).cast::<[u8; N]>().read() };
        Ok(self.with_page_open(addr >> PAGE_SHIFT, libc::PROT_READ, read))
    }

    #[inline(always)]
    fn store<const N: usize>(&mut self, addr: u32, bytes: [u8; N]) -> Result<(), MemFault> {
        self.check(addr, N as u32, PERM_WRITE, Access::Write)?;
        self.write_host(addr, &bytes);
        Ok(())
    }

    fn copy_in(&mut self, addr: u32, data: &[u8], need: u8, access: Access) -> Result<(), MemFault> {
        self.host_writes.note(addr, data.len() as u64);
        let mut done = 0usize;
        while done < data.len() {
            let at = addr.wrapping_add(done as u32);
            if done > 0 && at == 0 {
                return Err(MemFault::Unmapped { addr: 0, access });
            }
            self.check_page(at, need, access)?;
            let chunk = ((PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize).min(data.len() - done);
            self.write_host(at, &data[done..done + chunk]);
            done += chunk;
        }
        Ok(())
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the reservation made in `new`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), SPACE_BYTES) };
    }
}

impl GuestMemory for AddressSpace {
    fn read_u8(&self, addr: u32) -> Result<u8, MemFault> {
        Ok(self.load::<1>(addr, PERM_READ, Access::Read)?[0])
    }
    fn read_u16(&self, addr: u32) -> Result<u16, MemFault> {
        Ok(u16::from_be_bytes(self.load(addr, PERM_READ, Access::Read)?))
    }
    fn read_u32(&self, addr: u32) -> Result<u32, MemFault> {
        Ok(u32::from_be_bytes(self.load(addr, PERM_READ, Access::Read)?))
    }
    fn read_u64(&self, addr: u32) -> Result<u64, MemFault> {
        Ok(u64::from_be_bytes(self.load(addr, PERM_READ, Access::Read)?))
    }
    fn write_u8(&mut self, addr: u32, value: u8) -> Result<(), MemFault> {
        self.store(addr, [value])
    }
    fn write_u16(&mut self, addr: u32, value: u16) -> Result<(), MemFault> {
        self.store(addr, value.to_be_bytes())
    }
    fn write_u32(&mut self, addr: u32, value: u32) -> Result<(), MemFault> {
        self.store(addr, value.to_be_bytes())
    }
    fn write_u64(&mut self, addr: u32, value: u64) -> Result<(), MemFault> {
        self.store(addr, value.to_be_bytes())
    }
    fn fetch(&self, addr: u32) -> Result<u32, MemFault> {
        Ok(u32::from_be_bytes(self.load(addr, PERM_EXEC, Access::Execute)?))
    }

    fn read_bytes(&self, addr: u32, buf: &mut [u8]) -> Result<(), MemFault> {
        let mut done = 0usize;
        while done < buf.len() {
            let at = addr.wrapping_add(done as u32);
            if done > 0 && at == 0 {
                return Err(MemFault::Unmapped { addr: 0, access: Access::Read });
            }
            self.check_page(at, PERM_READ, Access::Read)?;
            let chunk = ((PAGE_SIZE - (at & (PAGE_SIZE - 1))) as usize).min(buf.len() - done);
            // SAFETY: the chunk stays inside one mapped page.
            unsafe { std::ptr::copy_nonoverlapping(self.host(at), buf[done..].as_mut_ptr(), chunk) };
            done += chunk;
        }
        Ok(())
    }

    fn write_bytes(&mut self, addr: u32, data: &[u8]) -> Result<(), MemFault> {
        self.copy_in(addr, data, PERM_WRITE, Access::Write)
    }
}

// The JIT inlines accesses with the translator's names for these bits.
const _: () = assert!(
    PERM_READ == perm::READ && PERM_WRITE == perm::WRITE && PERM_EXEC == perm::EXEC && PERM_MAPPED == perm::MAPPED
);

impl FlatMemory for AddressSpace {
    fn host_base(&self) -> *mut u8 {
        AddressSpace::host_base(self)
    }
    fn perm_table(&self) -> *const u8 {
        AddressSpace::perm_table(self)
    }
    fn dirty_bitmap(&mut self) -> *mut u64 {
        AddressSpace::dirty_bitmap(self)
    }
    fn dirty_in_perms(&self) -> bool {
        true
    }
    fn unreadable_pages_fault(&self) -> bool {
        true
    }
    fn unwritable_pages_fault(&self) -> bool {
        self.unwritable_fault
    }
    fn mark_code(&mut self, page: u32) {
        self.set_code(page, true);
    }
    fn clear_code(&mut self, page: u32) {
        self.set_code(page, false);
    }
}

pub fn page_align_up(addr: u32) -> u32 {
    addr.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

pub fn page_align_down(addr: u32) -> u32 {
    addr & !(PAGE_SIZE - 1)
}

fn pages_for(len: u32) -> u32 {
    ((u64::from(len) + u64::from(PAGE_SIZE) - 1) >> PAGE_SHIFT) as u32
}

/// First page and page count of a page-aligned, non-empty range inside 4 GiB.
fn page_range(addr: u32, len: u32) -> Result<(u32, u32), MapError> {
    let count = pages_for(len);
    if addr & (PAGE_SIZE - 1) != 0 || len == 0 || (addr >> PAGE_SHIFT) + count > PAGE_COUNT as u32 {
        return Err(MapError::InvalidRange { addr, len });
    }
    Ok((addr >> PAGE_SHIFT, count))
}

#[cfg(test)]
mod tests;
