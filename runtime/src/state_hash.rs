//! The per-epoch state hash: one 64-bit digest of everything the guest can
//! observe in its CPU and memory, which two engines or two replicas compare
//! at every epoch end.
//!
//! Memory is hashed incrementally. Each mapped page keeps its own xxh3
//! hash; at an epoch end only the pages the dirty bitmap names (written,
//! mapped, unmapped or reprotected since the last end) are rehashed. The
//! page hashes are combined by a wrapping sum of `xxh3(page number, page
//! hash)`: a sum does not depend on the order pages were visited, so
//! updating it costs O(dirty pages), not O(mapped pages), and the result is
//! a function of (page number, contents) pairs only — never of host
//! addresses.

use std::collections::BTreeMap;

use hbft_translator::state::CpuState;
use xxhash_rust::xxh3::{xxh3_64, Xxh3};

use crate::memory::AddressSpace;

/// Page hashes and their running combination.
#[derive(Debug, Default)]
pub struct StateHasher {
    pages: BTreeMap<u32, u64>,
    memory: u64,
}

impl StateHasher {
    /// A hasher that has seen no page: the first `epoch_hash` hashes every
    /// page dirtied since the address space was created (all of them).
    pub fn new() -> StateHasher {
        StateHasher::default()
    }

    /// The hash of the state now; rehashes the dirty pages and clears the
    /// dirty bitmap.
    pub fn epoch_hash(&mut self, cpu: &CpuState, mem: &mut AddressSpace) -> u64 {
        for page in mem.take_dirty_pages() {
            let old = match mem.page_bytes(page) {
                Some(bytes) => {
                    let hash = xxh3_64(&bytes);
                    self.memory = self.memory.wrapping_add(page_term(page, hash));
                    self.pages.insert(page, hash)
                }
                None => self.pages.remove(&page),
            };
            if let Some(old) = old {
                self.memory = self.memory.wrapping_sub(page_term(page, old));
            }
        }
        let mut h = Xxh3::new();
        h.update(&cpu_bytes(cpu));
        h.update(&self.memory.to_le_bytes());
        h.digest()
    }
}

/// One page's contribution to the memory sum.
fn page_term(page: u32, hash: u64) -> u64 {
    let mut b = [0u8; 12];
    b[..4].copy_from_slice(&page.to_le_bytes());
    b[4..].copy_from_slice(&hash.to_le_bytes());
    xxh3_64(&b)
}

/// Carries into bits 4, 8, ..., 28 (the carry into bit 32 is `psw_cb_msb`).
const PSW_CB_NIBBLE_CARRIES: u32 = 0x1111_1110;

/// Architected words (general, space and control registers, the queue and
/// the PSW) and doubles (floating-point registers and the count) hashed.
const CPU_WORDS: usize = 32 + 8 + 32 + 10;
const CPU_DOUBLES: usize = 32 + 1;

/// Every architected register the guest can observe, and the count, as
/// little-endian bytes: the words, then the doubles.
fn cpu_bytes(cpu: &CpuState) -> [u8; 4 * CPU_WORDS + 8 * CPU_DOUBLES] {
    let queue_and_psw = [
        cpu.iaoq_front,
        cpu.iaoq_back,
        cpu.iasq_front,
        cpu.iasq_back,
        cpu.psw_n,
        // Only the architected nibble carries (bits 4k of the carry-in
        // vector); the other bits are an engine's bookkeeping.
        cpu.psw_cb & PSW_CB_NIBBLE_CARRIES,
        cpu.psw_cb_msb,
        cpu.psw_v,
        cpu.psw,
        cpu.priv_level,
    ];
    let mut bytes = [0u8; 4 * CPU_WORDS + 8 * CPU_DOUBLES];
    let (words, doubles) = bytes.split_at_mut(4 * CPU_WORDS);
    let word_values = cpu.gr.iter().chain(&cpu.sr).chain(&cpu.cr).chain(&queue_and_psw);
    for (slot, word) in words.chunks_exact_mut(4).zip(word_values) {
        slot.copy_from_slice(&word.to_le_bytes());
    }
    let double_values = cpu.fr.iter().chain(std::iter::once(&cpu.retired));
    for (slot, double) in doubles.chunks_exact_mut(8).zip(double_values) {
        slot.copy_from_slice(&double.to_le_bytes());
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Layout, PERM_READ, PERM_WRITE};
    use hbft_translator::memory::GuestMemory;

    fn space() -> AddressSpace {
        let mut mem = AddressSpace::new(Layout::linux_parisc32(1 << 20)).unwrap();
        mem.map_fixed(0x1000_0000, 0x4000, PERM_READ | PERM_WRITE).unwrap();
        mem
    }

    #[test]
    fn incremental_hash_equals_a_full_rehash() {
        let cpu = CpuState::at(0x1000);
        let mut a = space();
        let mut hasher = StateHasher::new();
        hasher.epoch_hash(&cpu, &mut a);
        a.write_bytes(0x1000_2004, &[1, 2, 3]).unwrap();
        let incremental = hasher.epoch_hash(&cpu, &mut a);

        let mut b = space();
        b.write_bytes(0x1000_2004, &[1, 2, 3]).unwrap();
        assert_eq!(StateHasher::new().epoch_hash(&cpu, &mut b), incremental);
    }

    #[test]
    fn cpu_bytes_are_every_word_then_every_double_little_endian() {
        let mut cpu = CpuState::at(0x1000);
        cpu.gr[3] = 0x0102_0304;
        cpu.fr[31] = 0x1122_3344_5566_7788;
        cpu.retired = 42;
        let psw_cb = cpu.psw_cb & PSW_CB_NIBBLE_CARRIES;
        let queue = [cpu.iaoq_front, cpu.iaoq_back, cpu.iasq_front, cpu.iasq_back];
        let psw = [cpu.psw_n, psw_cb, cpu.psw_cb_msb, cpu.psw_v, cpu.psw, cpu.priv_level];
        let queue_and_psw: Vec<u32> = queue.into_iter().chain(psw).collect();
        let words = cpu.gr.iter().chain(&cpu.sr).chain(&cpu.cr).chain(&queue_and_psw).flat_map(|w| w.to_le_bytes());
        let doubles = cpu.fr.iter().chain(std::iter::once(&cpu.retired)).flat_map(|d| d.to_le_bytes());
        let expected: Vec<u8> = words.chain(doubles).collect();
        assert_eq!(cpu_bytes(&cpu).to_vec(), expected);
    }

    #[test]
    fn memory_registers_and_mappings_change_the_hash() {
        let cpu = CpuState::at(0x1000);
        let mut mem = space();
        let mut hasher = StateHasher::new();
        let first = hasher.epoch_hash(&cpu, &mut mem);
        assert_eq!(hasher.epoch_hash(&cpu, &mut mem), first, "nothing changed");

        mem.write_bytes(0x1000_0000, &[9]).unwrap();
        let written = hasher.epoch_hash(&cpu, &mut mem);
        assert_ne!(written, first);

        let mut moved = cpu.clone();
        moved.gr[5] = 7;
        assert_ne!(hasher.epoch_hash(&moved, &mut mem), written);

        mem.unmap(0x1000_3000, 0x1000).unwrap();
        assert_ne!(hasher.epoch_hash(&cpu, &mut mem), written);
    }
}
