//! The code cache: translated blocks in one bounded executable region, found
//! by guest address through a direct-mapped table (one probe, also used by
//! translated code for computed branches) backed by a hash map, and dropped
//! page by page.
//!
//! Blocks chain to fixed successors through *slots*: one `u64` per such
//! exit, holding the successor's code address or 0. The dispatcher fills a
//! slot once the successor exists and remembers it, so that dropping the
//! successor empties every slot that leads to it. A translation's code
//! embeds its slots' addresses, so slots are set aside when a translation
//! is requested ([`CodeCache::reserve_slots`]), before it is compiled.
//!
//! Invalidated blocks leave their code in the region until it (or the slot
//! array) is full; then everything is flushed at once. All of this happens
//! only between blocks, never while translated code runs.

use hashbrown::HashMap;

use crate::memory::PAGE_SIZE;

/// Bytes of host code the cache holds before it is flushed.
pub(super) const CODE_REGION_BYTES: usize = 64 << 20;

/// Entries of the direct-mapped lookup table (a power of two).
pub(super) const FAST_ENTRIES: usize = 1 << 14;
/// Log2 of a table entry's size, and the offset of its code address.
pub(super) const FAST_ENTRY_SHIFT: u32 = 4;
pub(super) const FAST_ENTRY_CODE: usize = std::mem::offset_of!(FastEntry, code);

/// Chaining slots available before a flush.
const SLOTS: usize = 1 << 18;

/// An executable host region filled front to back.
struct CodeRegion {
    base: *mut u8,
    size: usize,
    used: usize,
}

impl CodeRegion {
    fn new(size: usize) -> std::io::Result<CodeRegion> {
        // SAFETY: a fresh private anonymous mapping overlaps nothing.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(CodeRegion {
            base: ptr.cast(),
            size,
            used: 0,
        })
    }

    /// Copies `code` in (16-byte aligned); `None` when the region is full.
    fn push(&mut self, code: &[u8]) -> Option<usize> {
        let start = self.used.next_multiple_of(16);
        let end = start.checked_add(code.len())?;
        if end > self.size {
            return None;
        }
        // SAFETY: [start, end) lies inside the mapping, and no translated
        // code runs while the cache is changed.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), self.base.add(start), code.len()) };
        self.used = end;
        Some(self.base as usize + start)
    }
}

impl Drop for CodeRegion {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `new`.
        unsafe { libc::munmap(self.base.cast(), self.size) };
    }
}

/// One slot of the direct-mapped table; `pc` is odd when the slot is empty
/// (guest instruction addresses are word aligned).
#[repr(C)]
#[derive(Clone, Copy)]
pub(super) struct FastEntry {
    pc: u32,
    code: usize,
}

const EMPTY: FastEntry = FastEntry { pc: 1, code: 0 };

/// Translated blocks by guest address.
pub(super) struct CodeCache {
    region: CodeRegion,
    blocks: HashMap<u32, usize>,
    /// Block addresses by guest page, for invalidation.
    pages: HashMap<u32, Vec<u32>>,
    fast: Box<[FastEntry]>,
    /// Chaining slots; the first `slots_used` belong to code or are set
    /// aside for translations under way.
    slots: Box<[u64]>,
    slots_used: usize,
    /// Slots filled with each block's code, by the block's guest address.
    links: HashMap<u32, Vec<usize>>,
    /// Each block's code address and guest address, in code address
    /// order (the region fills front to back), dropped blocks included.
    starts: Vec<(usize, u32)>,
    /// Flushes because the region was full (for statistics and tests).
    pub flushes: u64,
}

/// The region (or the slot array) is full: flush, then translate again.
pub(super) struct Full;

/// Chaining slots set aside for one translation, valid until the next
/// flush.
#[derive(Debug, Clone, Copy)]
pub(super) struct Slots {
    first: usize,
    count: usize,
}

impl CodeCache {
    pub fn new(region_bytes: usize) -> std::io::Result<CodeCache> {
        Ok(CodeCache {
            region: CodeRegion::new(region_bytes)?,
            blocks: HashMap::new(),
            pages: HashMap::new(),
            fast: vec![EMPTY; FAST_ENTRIES].into_boxed_slice(),
            slots: vec![0; SLOTS].into_boxed_slice(),
            slots_used: 0,
            links: HashMap::new(),
            starts: Vec::new(),
            flushes: 0,
        })
    }

    /// The host addresses translated code occupies.
    pub fn code_range(&self) -> std::ops::Range<usize> {
        self.region.base as usize..self.region.base as usize + self.region.size
    }

    /// The guest address of the block whose code holds host address `at`
    /// (a block dropped since still counts until the next flush).
    pub fn block_containing(&self, at: usize) -> Option<u32> {
        let after = self.starts.partition_point(|&(start, _)| start <= at);
        after.checked_sub(1).map(|i| self.starts[i].1)
    }

    /// The direct-mapped table, for translated code.
    pub fn fast_table(&self) -> *const FastEntry {
        self.fast.as_ptr()
    }

    /// Sets `count` chaining slots aside for a translation.
    pub fn reserve_slots(&mut self, count: usize) -> Result<Slots, Full> {
        let first = self.slots_used;
        if first + count > SLOTS {
            return Err(Full);
        }
        self.slots_used += count;
        Ok(Slots { first, count })
    }

    /// Host address of the first of `slots`, for the translation's code.
    pub fn slot_address(&self, slots: Slots) -> u64 {
        self.slots[slots.first..].as_ptr() as u64
    }

    /// Gives back `slots`, reserved since the last flush, of which the
    /// translation uses the first `used` (when they were the last set
    /// aside; others stay unused until the next flush).
    pub fn release_slots(&mut self, slots: Slots, used: usize) {
        if slots.first + slots.count == self.slots_used {
            self.slots_used = slots.first + used.min(slots.count);
        }
    }

    /// Fills `slot` with the code of the block at `pc` (a block's exit now
    /// continues straight into it).
    pub fn link(&mut self, slot: u64, pc: u32, code: usize) {
        let index = (slot - self.slots.as_ptr() as u64) as usize / 8;
        self.slots[index] = code as u64;
        self.links.entry(pc).or_default().push(index);
    }

    fn slot(pc: u32) -> usize {
        (pc >> 2) as usize & (FAST_ENTRIES - 1)
    }

    /// The host code of the block at `pc`.
    #[inline]
    pub fn lookup(&mut self, pc: u32) -> Option<usize> {
        let slot = Self::slot(pc);
        let e = self.fast[slot];
        if e.pc == pc {
            return Some(e.code);
        }
        let code = *self.blocks.get(&pc)?;
        self.fast[slot] = FastEntry { pc, code };
        Some(code)
    }

    /// Adds the block at `pc` (within one page, or with its last delay slot
    /// first on the next: `spans_pages`) with host code `code`,
    /// which uses the first `used` of `slots`, reserved since the last
    /// flush.
    pub fn insert(&mut self, pc: u32, code: &[u8], slots: Slots, used: u32, spans_pages: bool) -> Result<usize, Full> {
        let at = self.region.push(code).ok_or(Full)?;
        self.release_slots(slots, used as usize);
        self.blocks.insert(pc, at);
        self.starts.push((at, pc));
        self.pages.entry(pc / PAGE_SIZE).or_default().push(pc);
        if spans_pages {
            // Dropping either page drops the block (a stale entry left in
            // the other page's list later drops nothing, or a block at the
            // same address, which that page holds too).
            self.pages.entry(super::next_page(pc) / PAGE_SIZE).or_default().push(pc);
        }
        self.fast[Self::slot(pc)] = FastEntry { pc, code: at };
        Ok(at)
    }

    /// Drops every block on pages `first..=last`.
    pub fn invalidate_pages(&mut self, first: u32, last: u32) {
        let (blocks, fast, links, slots) = (&mut self.blocks, &mut self.fast, &mut self.links, &mut self.slots);
        self.pages.retain(|&page, pcs| {
            if page < first || page > last {
                return true;
            }
            for pc in pcs.drain(..) {
                blocks.remove(&pc);
                for index in links.remove(&pc).unwrap_or_default() {
                    slots[index] = 0;
                }
                let slot = Self::slot(pc);
                if fast[slot].pc == pc {
                    fast[slot] = EMPTY;
                }
            }
            false
        });
    }

    /// Drops everything and reuses the region from the start.
    pub fn flush(&mut self) {
        self.blocks.clear();
        self.pages.clear();
        self.fast.fill(EMPTY);
        self.slots[..self.slots_used].fill(0);
        self.slots_used = 0;
        self.links.clear();
        self.starts.clear();
        self.region.used = 0;
        self.flushes += 1;
    }

    /// Whether any block lies on page `page`.
    pub fn has_page(&self, page: u32) -> bool {
        self.pages.contains_key(&page)
    }
}
