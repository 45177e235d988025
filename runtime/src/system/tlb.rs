//! The deterministic virtual TLB: what the guest kernel inserted with the
//! PA-RISC 1.1 insert instructions, looked up by `lpa` and `probe`.
//!
//! Its contents are a pure function of guest actions, the same in every
//! engine and on every replica: a fixed number of entries per side, and a
//! guest-visible replacement rule — an insert purges any entry for the same
//! page, then takes the slot after the previous insert's (round robin).
//! Host-side caches (decoded code, translations) are not part of it.

use hbft_translator::memory::PAGE_SIZE;

/// Entries per side (instruction and data).
pub const TLB_ENTRIES: usize = 16;

/// How an access uses a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Read,
    Write,
    Execute,
}

/// One translation: a virtual page (space, offset) to a physical page, with
/// the protection fields of `idtlbp`/`iitlbp` (layout as QEMU's
/// target/hppa `helper_itlbp` extracts them from the protection word).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TlbEntry {
    pub space: u32,
    /// Virtual page number (offset / 4096).
    pub vpn: u32,
    /// Physical page number.
    pub ppn: u32,
    /// Access-rights type (0..=7), and the two privilege-level fields.
    pub ar_type: u8,
    pub ar_pl1: u8,
    pub ar_pl2: u8,
    /// Protection identifier the access is checked against.
    pub access_id: u32,
    /// T (page reference trap), D (dirty), B (data breakpoint), U (uncacheable).
    pub t: bool,
    pub d: bool,
    pub b: bool,
    pub u: bool,
    /// The protection half has been inserted.
    pub protected: bool,
}

impl TlbEntry {
    /// Whether an access at privilege level `pl` (0 most privileged) is
    /// allowed by the access rights (PA-RISC 1.1 ch. 3 "Access Rights"):
    /// types 0..3 are read-only, read/write, read/execute and
    /// read/write/execute; reads are allowed at PL1 or more privileged,
    /// writes at PL2 or more privileged, execution at levels from PL2 to
    /// PL1; types 4..7 are execute-only gateway pages that promote to level
    /// type - 4 (as QEMU's target/hppa `hppa_get_physical_address`).
    pub fn allows(&self, use_: Use, pl: u32) -> bool {
        let (pl1, pl2) = (u32::from(self.ar_pl1), u32::from(self.ar_pl2));
        match use_ {
            Use::Read => self.ar_type < 4 && pl <= pl1,
            Use::Write => matches!(self.ar_type, 1 | 3) && pl <= pl2,
            Use::Execute => self.ar_type >= 2 && pl2 <= pl && pl <= pl1,
        }
    }

    /// The level a `b,gate` executed from this page promotes to, if it is
    /// a gateway page (types 4..7).
    pub fn gateway_level(&self) -> Option<u32> {
        (self.ar_type >= 4).then(|| u32::from(self.ar_type) - 4)
    }
}

/// One side of the TLB.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlb {
    entries: [Option<TlbEntry>; TLB_ENTRIES],
    /// The slot the next insert takes.
    next: usize,
    /// Inserts and purges so far (host caches of translations compare it).
    pub changes: u64,
}

impl Default for Tlb {
    fn default() -> Self {
        Tlb { entries: [None; TLB_ENTRIES], next: 0, changes: 0 }
    }
}

impl Tlb {
    /// `idtlba`/`iitlba r,(s,b)`: the physical page number is bits 5..24 of
    /// GR r (the manual's bits 7..26).
    pub fn insert_address(&mut self, space: u32, offset: u32, r: u32) {
        self.purge(space, offset);
        self.changes += 1;
        self.entries[self.next] = Some(TlbEntry {
            space,
            vpn: offset / PAGE_SIZE,
            ppn: (r >> 5) & 0xf_ffff,
            ..TlbEntry::default()
        });
        self.next = (self.next + 1) % TLB_ENTRIES;
    }

    /// `idtlbp`/`iitlbp r,(s,b)`: the protection half for the page an
    /// address insert created; without one it does nothing.
    pub fn insert_protection(&mut self, space: u32, offset: u32, r: u32) {
        let bit = |at: u32| (r >> at) & 1 != 0;
        self.changes += 1;
        if let Some(e) = self.find_mut(space, offset) {
            e.u = bit(19);
            e.ar_pl2 = ((r >> 20) & 3) as u8;
            e.ar_pl1 = ((r >> 22) & 3) as u8;
            e.ar_type = ((r >> 24) & 7) as u8;
            e.b = bit(27);
            e.d = bit(28);
            e.t = bit(29);
            e.access_id = (r >> 1) & 0x3_ffff;
            e.protected = true;
        }
    }

    /// `pdtlb`/`pitlb`: drops the entry for the page of (space, offset).
    pub fn purge(&mut self, space: u32, offset: u32) {
        let vpn = offset / PAGE_SIZE;
        self.changes += 1;
        for slot in &mut self.entries {
            if matches!(slot, Some(e) if e.space == space && e.vpn == vpn) {
                *slot = None;
            }
        }
    }

    /// `pdtlbe`/`pitlbe`: hbft's TLB has a single "entry" in the sense of
    /// the purge-entry loop Linux runs over the PDC-reported geometry, so one
    /// purge-entry empties the side.
    pub fn purge_all(&mut self) {
        self.changes += 1;
        self.entries = [None; TLB_ENTRIES];
    }

    /// The entry translating (space, offset), if any.
    pub fn lookup(&self, space: u32, offset: u32) -> Option<&TlbEntry> {
        let vpn = offset / PAGE_SIZE;
        self.entries.iter().flatten().find(|e| e.space == space && e.vpn == vpn)
    }

    fn find_mut(&mut self, space: u32, offset: u32) -> Option<&mut TlbEntry> {
        let vpn = offset / PAGE_SIZE;
        self.entries.iter_mut().flatten().find(|e| e.space == space && e.vpn == vpn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_then_lookup_translates_the_page() {
        let mut tlb = Tlb::default();
        tlb.insert_address(7, 0x4000_1234, 0x123 << 5);
        // Type 1 (read/write), PL1 = 3, PL2 = 0.
        tlb.insert_protection(7, 0x4000_1000, (1 << 24) | (3 << 22));
        let e = tlb.lookup(7, 0x4000_1ffc).expect("inserted");
        assert_eq!(e.ppn, 0x123);
        assert!(e.allows(Use::Read, 3));
        assert!(!e.allows(Use::Write, 3));
        assert!(e.allows(Use::Write, 0));
        assert!(!e.allows(Use::Execute, 0), "type 1 is not executable");
        // Type 2 executable from PL 0 (PL2) to PL 2 (PL1) only.
        let code = TlbEntry { ar_type: 2, ar_pl1: 2, ar_pl2: 0, ..TlbEntry::default() };
        assert!(code.allows(Use::Execute, 0) && code.allows(Use::Execute, 2) && !code.allows(Use::Execute, 3));
        let user_code = TlbEntry { ar_type: 2, ar_pl1: 3, ar_pl2: 3, ..TlbEntry::default() };
        assert!(!user_code.allows(Use::Execute, 0), "a PL 3-only code page is not executable at PL 0");
        assert_eq!(TlbEntry { ar_type: 4, ..code }.gateway_level(), Some(0));
        assert_eq!(code.gateway_level(), None);
        assert!(tlb.lookup(8, 0x4000_1000).is_none(), "other space");
        tlb.purge(7, 0x4000_1000);
        assert!(tlb.lookup(7, 0x4000_1000).is_none());
    }

    #[test]
    fn replacement_is_round_robin_and_reinsert_replaces() {
        let mut tlb = Tlb::default();
        for page in 0..TLB_ENTRIES as u32 + 1 {
            tlb.insert_address(0, page * PAGE_SIZE, page << 5);
        }
        // The 17th insert took slot 0: page 0 is gone, page 1 is still there.
        assert!(tlb.lookup(0, 0).is_none());
        assert_eq!(tlb.lookup(0, PAGE_SIZE).map(|e| e.ppn), Some(1));
        tlb.insert_address(0, PAGE_SIZE, 99 << 5);
        assert_eq!(tlb.lookup(0, PAGE_SIZE).map(|e| e.ppn), Some(99));
        assert_eq!(tlb.entries.iter().flatten().filter(|e| e.vpn == 1).count(), 1);
    }
}
