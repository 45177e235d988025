//! Which guest pages hold code an engine has decoded or translated.
//!
//! A guest store into such a page may change instructions the engine has
//! cached, so the store paths consult this map: the interpreter drops the
//! page's decoded instructions after the storing instruction, translated
//! code leaves its fast path and lets the interpreter perform the store (see
//! `jit`). One byte per page so translated code tests it with one load.

use crate::memory::PAGE_SIZE;

const PAGES: usize = 1 << 20;

/// One byte per 4 KiB guest page: nonzero when the page holds cached code.
pub struct CodePages {
    bytes: Box<[u8]>,
    /// Every page inserted since the list was last compacted (some may
    /// have been removed since), for [`CodePages::pages`].
    inserted: Vec<u32>,
    /// Pages inserted since the last [`CodePages::take_new`].
    new: Vec<u32>,
    /// The list's length at which an insert compacts it (so that pages
    /// dropped and inserted again many times do not grow it without bound).
    compact_at: usize,
}

/// The smallest [`CodePages::compact_at`].
const COMPACT_AT: usize = 1024;

impl Default for CodePages {
    fn default() -> Self {
        CodePages::new()
    }
}

impl CodePages {
    pub fn new() -> CodePages {
        CodePages {
            bytes: vec![0; PAGES].into_boxed_slice(),
            inserted: Vec::new(),
            new: Vec::new(),
            compact_at: COMPACT_AT,
        }
    }

    /// Whether page number `page` holds cached code.
    #[inline]
    pub fn contains(&self, page: u32) -> bool {
        self.bytes[page as usize & (PAGES - 1)] != 0
    }

    pub fn insert(&mut self, page: u32) {
        let byte = &mut self.bytes[page as usize & (PAGES - 1)];
        if *byte == 0 {
            *byte = 1;
            self.inserted.push(page & (PAGES as u32 - 1));
            self.new.push(page & (PAGES as u32 - 1));
            if self.inserted.len() >= self.compact_at {
                self.compact();
                self.compact_at = (2 * self.inserted.len()).max(COMPACT_AT);
            }
        }
    }

    /// Keeps only the pages still holding code, once each, in order.
    fn compact(&mut self) {
        let bytes = &self.bytes;
        self.inserted.retain(|&p| bytes[p as usize] != 0);
        self.inserted.sort_unstable();
        self.inserted.dedup();
    }

    /// The pages that started holding cached code since the last call.
    pub fn take_new(&mut self) -> std::vec::Drain<'_, u32> {
        self.new.drain(..)
    }

    /// The pages holding cached code, in ascending order.
    pub fn pages(&mut self) -> &[u32] {
        self.compact();
        &self.inserted
    }

    /// Forgets the pages overlapping `len` bytes from `start`.
    pub fn remove_range(&mut self, start: u32, len: u32) {
        if len == 0 {
            return;
        }
        let first = (start / PAGE_SIZE) as usize;
        let last = (start.saturating_add(len - 1) / PAGE_SIZE) as usize;
        self.bytes[first..=last].fill(0);
    }

    /// The table's address, for translated code.
    pub fn as_ptr(&self) -> *const u8 {
        self.bytes.as_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_lists_what_is_cached_once_in_order() {
        let mut code = CodePages::new();
        for page in [7, 3, 7, 9] {
            code.insert(page);
        }
        code.remove_range(9 * PAGE_SIZE, 1);
        code.insert(3);
        assert_eq!(code.pages(), [3, 7]);
        code.remove_range(0, 8 * PAGE_SIZE);
        code.insert(7);
        assert_eq!(code.pages(), [7]);
        // A page dropped and cached again many times is listed once.
        for _ in 0..10 * COMPACT_AT {
            code.remove_range(5 * PAGE_SIZE, 1);
            code.insert(5);
        }
        assert!(code.inserted.len() <= COMPACT_AT);
        assert_eq!(code.pages(), [5, 7]);
    }
}
