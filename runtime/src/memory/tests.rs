use super::*;
use proptest::prelude::*;

fn space() -> AddressSpace {
    AddressSpace::new(Layout::linux_parisc32(100 << 20)).expect("4 GiB reservation")
}

#[test]
fn reads_and_writes_are_big_endian() {
    let mut mem = space();
    mem.map_fixed(0x1000, 0x1000, PERM_READ | PERM_WRITE).unwrap();
    mem.write_u32(0x1000, 0x1122_3344).unwrap();
    assert_eq!(mem.read_u8(0x1000).unwrap(), 0x11);
    assert_eq!(mem.read_u16(0x1002).unwrap(), 0x3344);
    mem.write_u64(0x1008, 0x0102_0304_0506_0708).unwrap();
    assert_eq!(mem.read_u32(0x100c).unwrap(), 0x0506_0708);
}

#[test]
fn faults_name_the_address_and_kind() {
    let mut mem = space();
    mem.map_fixed(0x2000, 0x1000, PERM_READ).unwrap();
    assert_eq!(mem.read_u32(0x5000), Err(MemFault::Unmapped { addr: 0x5000, access: Access::Read }));
    assert_eq!(mem.write_u32(0x2000, 1), Err(MemFault::Protection { addr: 0x2000, access: Access::Write }));
    assert_eq!(mem.fetch(0x2000), Err(MemFault::Protection { addr: 0x2000, access: Access::Execute }));
    assert_eq!(mem.read_u32(0x2002), Err(MemFault::Unaligned { addr: 0x2002, size: 4, access: Access::Read }));
    assert_eq!(mem.read_u64(0x2004), Err(MemFault::Unaligned { addr: 0x2004, size: 8, access: Access::Read }));
    // Protection is checked before alignment.
    assert_eq!(mem.write_u16(0x2001, 1), Err(MemFault::Protection { addr: 0x2001, access: Access::Write }));
    mem.protect(0x2000, 0x1000, PERM_READ | PERM_EXEC).unwrap();
    assert_eq!(mem.fetch(0x2000), Ok(0));
    assert_eq!(mem.protect(0x2000, 0x2000, PERM_READ), Err(MapError::NotMapped { addr: 0x3000 }));
}

/// Pages the guest may not read are host `PROT_NONE` (translated loads
/// fault on them), yet the guest's stores to a write-only page, the
/// loader's copies into any mapped page and `page_bytes` reach them.
#[test]
fn pages_the_guest_may_not_read_can_still_be_written_and_inspected() {
    let mut mem = space();
    mem.map_fixed(0x3000, 0x2000, PERM_WRITE).unwrap();
    mem.write_u32(0x3000, 0x1122_3344).unwrap();
    mem.write_bytes(0x3ffe, &[5, 6, 7, 8]).unwrap();
    assert_eq!(mem.read_u32(0x3000), Err(MemFault::Protection { addr: 0x3000, access: Access::Read }));
    mem.protect(0x3000, 0x2000, 0).unwrap();
    mem.load_bytes(0x3004, &[9]).unwrap();
    assert_eq!(mem.write_u8(0x3008, 1), Err(MemFault::Protection { addr: 0x3008, access: Access::Write }));
    assert_eq!(mem.page_bytes(3).unwrap()[..5], [0x11, 0x22, 0x33, 0x44, 9]);
    mem.protect(0x3000, 0x2000, PERM_EXEC).unwrap();
    assert_eq!(mem.fetch(0x3000), Ok(0x1122_3344));
    assert_eq!(mem.read_u32(0x3000), Err(MemFault::Protection { addr: 0x3000, access: Access::Read }));
    mem.protect(0x3000, 0x2000, PERM_READ).unwrap();
    assert_eq!(mem.read_u32(0x3ffc), Ok(0x0000_0506));
    assert_eq!(mem.read_u16(0x4000), Ok(0x0708));
}

/// The host protection of guest `addr`, from `/proc/self/maps` ("rw-", "r--", "---").
fn host_protection(mem: &AddressSpace, addr: u32) -> String {
    let host = mem.host_base() as usize + addr as usize;
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps");
    let line = maps
        .lines()
        .find(|line| {
            let (start, end) = line.split_once(' ').unwrap().0.split_once('-').unwrap();
            let range = usize::from_str_radix(start, 16).unwrap()..usize::from_str_radix(end, 16).unwrap();
            range.contains(&host)
        })
        .expect("the page lies in a mapping");
    line.split(' ').nth(1).unwrap()[..3].to_string()
}

/// With `fault_unwritable_pages`, pages the guest may not write or that
/// hold code are host read-only (translated stores fault on them), pages
/// mapped before are reprotected, and the runtime's own writes still reach
/// them.
#[test]
fn unwritable_pages_are_host_read_only_yet_written_by_the_runtime() {
    let mut mem = space();
    mem.map_fixed(0x3000, 0x1000, PERM_READ).unwrap();
    assert_eq!(host_protection(&mem, 0x3000), "rw-");
    mem.fault_unwritable_pages().unwrap();
    assert_eq!(host_protection(&mem, 0x3000), "r--");
    mem.load_bytes(0x3004, &[9]).unwrap();
    assert_eq!(mem.read_u8(0x3004), Ok(9));
    mem.map_fixed(0x4000, 0x2000, PERM_READ | PERM_WRITE).unwrap();
    assert_eq!(host_protection(&mem, 0x4000), "rw-");
    mem.mark_code(4);
    assert_eq!(host_protection(&mem, 0x4000), "r--");
    assert_eq!(host_protection(&mem, 0x5000), "rw-");
    mem.write_u32(0x4008, 0x1122_3344).unwrap();
    assert_eq!(mem.read_u32(0x4008), Ok(0x1122_3344));
    assert_eq!(host_protection(&mem, 0x4000), "r--");
    mem.map_fixed(0x6000, 0x1000, PERM_WRITE).unwrap();
    mem.write_u32(0x6000, 7).unwrap();
    assert_eq!(host_protection(&mem, 0x6000), "---");
    mem.protect(0x6000, 0x1000, PERM_READ | PERM_WRITE).unwrap();
    assert_eq!((host_protection(&mem, 0x6000).as_str(), mem.read_u32(0x6000)), ("rw-", Ok(7)));
}

#[test]
fn bulk_copies_cross_pages_and_report_the_first_bad_byte() {
    let mut mem = space();
    mem.map_fixed(0x10000, 0x2000, PERM_READ | PERM_WRITE).unwrap();
    let data: Vec<u8> = (0..=255).cycle().take(0x1800).collect();
    mem.write_bytes(0x10400, &data).unwrap();
    let mut back = vec![0; data.len()];
    mem.read_bytes(0x10400, &mut back).unwrap();
    assert_eq!(back, data);
    let mut too_long = vec![0; 0x2000];
    assert_eq!(
        mem.read_bytes(0x10800, &mut too_long),
        Err(MemFault::Unmapped { addr: 0x12000, access: Access::Read })
    );
}

#[test]
fn cstrings_stop_at_nul_and_at_the_limit() {
    let mut mem = space();
    mem.map_fixed(0x3000, 0x2000, PERM_READ | PERM_WRITE).unwrap();
    mem.write_bytes(0x3ffe, b"hello\0").unwrap();
    assert_eq!(mem.read_cstring(0x3ffe, 100).unwrap(), b"hello");
    assert_eq!(mem.read_cstring(0x3ffe, 3), Err(CStrError::TooLong { addr: 0x3ffe, max: 3 }));
    mem.write_bytes(0x4000, &[b'x'; 0x1000]).unwrap();
    assert!(matches!(mem.read_cstring(0x4000, 0x2000), Err(CStrError::Fault(_))));
}

#[test]
fn unmap_zeroes_and_remap_is_fresh() {
    let mut mem = space();
    mem.map_fixed(0x8000, 0x1000, PERM_READ | PERM_WRITE).unwrap();
    mem.write_u32(0x8000, 7).unwrap();
    mem.unmap(0x8000, 0x1000).unwrap();
    assert!(!mem.is_mapped(0x8000));
    mem.map_fixed(0x8000, 0x1000, PERM_READ).unwrap();
    assert_eq!(mem.read_u32(0x8000), Ok(0));
}

#[test]
fn placement_is_top_down_below_mmap_top_and_deterministic() {
    let run = || {
        let mut mem = space();
        let top = mem.layout().mmap_top;
        let a = mem.map_anywhere(0, 0x3000, PERM_READ).unwrap();
        let b = mem.map_anywhere(0, 0x1000, PERM_READ).unwrap();
        assert_eq!(a, top - 0x3000);
        assert_eq!(b, a - 0x1000);
        mem.unmap(a, 0x1000).unwrap();
        // The hole left at `a` fits one page; a larger request goes lower.
        let c = mem.map_anywhere(0, 0x1000, PERM_READ).unwrap();
        let d = mem.map_anywhere(0, 0x2000, PERM_READ).unwrap();
        // A free hint is honoured.
        let e = mem.map_anywhere(0x1234_5000, 0x1000, PERM_READ).unwrap();
        (a, b, c, d, e)
    };
    let first = run();
    assert_eq!(first, run());
    assert_eq!(first.2, first.0);
    assert_eq!(first.3, first.1 - 0x2000);
    assert_eq!(first.4, 0x1234_5000);
    let mut mem = space();
    mem.map_fixed(0x5000_0000, 0x1000, PERM_READ).unwrap();
    assert_eq!(
        mem.map_fixed_noreplace(0x5000_0000, 0x1000, PERM_READ),
        Err(MapError::AlreadyMapped { addr: 0x5000_0000 })
    );
    assert_eq!(mem.map_fixed(0x5000_0001, 0x1000, PERM_READ), Err(MapError::InvalidRange { addr: 0x5000_0001, len: 0x1000 }));
}

#[test]
fn brk_grows_shrinks_and_refuses_collisions() {
    let mut mem = space();
    mem.init_brk(0x20000);
    assert_eq!(mem.brk(0), 0x20000);
    assert_eq!(mem.brk(0x21800), 0x21800);
    mem.write_u32(0x21000, 5).unwrap();
    assert_eq!(mem.brk(0x20004), 0x20004);
    assert!(!mem.is_mapped(0x21000));
    assert!(mem.is_mapped(0x20000));
    mem.map_fixed(0x30000, 0x1000, PERM_READ).unwrap();
    assert_eq!(mem.brk(0x30000), 0x20004);
    assert_eq!(mem.brk(0x2f000), 0x2f000);
    assert_eq!(mem.brk(0x1000), 0x2f000);
}

#[test]
fn writes_mark_pages_dirty_until_cleared() {
    let mut mem = space();
    mem.map_fixed(0x40000, 0x3000, PERM_READ | PERM_WRITE).unwrap();
    mem.clear_dirty();
    mem.write_u8(0x40010, 1).unwrap();
    mem.write_bytes(0x41ffe, &[1, 2, 3, 4]).unwrap();
    assert_eq!(mem.dirty_pages().collect::<Vec<_>>(), vec![0x40, 0x41, 0x42]);
    mem.clear_dirty();
    assert_eq!(mem.dirty_pages().count(), 0);
    assert_eq!(mem.page_bytes(0x40).unwrap()[0x10], 1);
    assert!(mem.page_bytes(0x50).is_none());
}

#[derive(Debug, Clone)]
enum Op {
    Map(u32, u32, u8),
    Unmap(u32, u32),
    Protect(u32, u32, u8),
    Anywhere(u32, u32),
    Read(u32, u8),
    Write(u32, u8),
    Bulk(u32, u16),
    Brk(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let addr = prop_oneof![any::<u32>(), (0u32..64).prop_map(|p| 0x10000 + p * 0x800)];
    prop_oneof![
        (addr.clone(), any::<u32>(), 0u8..16).prop_map(|(a, l, p)| Op::Map(a, l % 0x10_0000, p)),
        (addr.clone(), any::<u32>()).prop_map(|(a, l)| Op::Unmap(a, l % 0x10_0000)),
        (addr.clone(), any::<u32>(), 0u8..16).prop_map(|(a, l, p)| Op::Protect(a, l % 0x10_0000, p)),
        (any::<u32>(), any::<u32>()).prop_map(|(a, l)| Op::Anywhere(a, l % 0x10_0000)),
        (addr.clone(), 0u8..5).prop_map(|(a, s)| Op::Read(a, s)),
        (addr.clone(), 0u8..4).prop_map(|(a, s)| Op::Write(a, s)),
        (addr.clone(), any::<u16>()).prop_map(|(a, l)| Op::Bulk(a, l)),
        addr.prop_map(Op::Brk),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn random_access_sequences_never_panic(ops in proptest::collection::vec(op(), 1..40)) {
        let mut mem = space();
        mem.init_brk(0x20000);
        for op in ops {
            match op {
                Op::Map(a, l, p) => drop(mem.map_fixed(a, l, p)),
                Op::Unmap(a, l) => drop(mem.unmap(a, l)),
                Op::Protect(a, l, p) => drop(mem.protect(a, l, p)),
                Op::Anywhere(a, l) => {
                    if let Ok(at) = mem.map_anywhere(a, l, PERM_READ) {
                        prop_assert!(mem.is_mapped(at));
                    }
                }
                Op::Read(a, s) => drop(match s {
                    0 => mem.read_u8(a).map(u64::from),
                    1 => mem.read_u16(a).map(u64::from),
                    2 => mem.read_u32(a).map(u64::from),
                    3 => mem.read_u64(a),
                    _ => mem.fetch(a).map(u64::from),
                }),
                Op::Write(a, s) => drop(match s {
                    0 => mem.write_u8(a, 1),
                    1 => mem.write_u16(a, 1),
                    2 => mem.write_u32(a, 1),
                    _ => mem.write_u64(a, 1),
                }),
                Op::Bulk(a, l) => {
                    let mut buf = vec![0; usize::from(l)];
                    if mem.read_bytes(a, &mut buf).is_ok() {
                        let _ = mem.write_bytes(a, &buf);
                    }
                    let _ = mem.read_cstring(a, 300);
                }
                Op::Brk(a) => {
                    let got = mem.brk(a);
                    prop_assert!(got >= 0x20000);
                }
            }
        }
    }
}

#[test]
fn host_writes_are_noted_and_guest_stores_are_not() {
    let mut mem = space();
    mem.map_fixed(0x10000, 0x3000, PERM_READ | PERM_WRITE | PERM_EXEC).unwrap();
    assert_eq!(mem.take_host_writes(), vec![(0x10000, 0x3000)], "mapping changes are noted");
    mem.write_u32(0x10000, 1).unwrap();
    assert_eq!(mem.take_host_writes(), vec![], "guest stores are the engines' business");
    mem.write_bytes(0x10ffe, &[1, 2, 3, 4]).unwrap();
    mem.load_bytes(0x12000, &[5]).unwrap();
    mem.protect(0x11000, 0x1000, PERM_READ).unwrap();
    mem.note_host_write(0x10008, 4);
    assert_eq!(
        mem.take_host_writes(),
        vec![(0x10ffe, 4), (0x12000, 1), (0x11000, 0x1000), (0x10008, 4)]
    );
    assert_eq!(mem.take_host_writes(), vec![], "taken once");
}

#[test]
fn many_host_writes_merge_into_a_covering_range() {
    let mut mem = space();
    mem.map_fixed(0x10000, 0x100000, PERM_READ | PERM_WRITE).unwrap();
    mem.take_host_writes();
    for i in 0..100u32 {
        mem.write_bytes(0x10000 + i * 0x1000, &[0; 8]).unwrap();
    }
    let ranges = mem.take_host_writes();
    assert!(ranges.len() <= 32, "bounded: {} ranges", ranges.len());
    for i in 0..100u32 {
        let addr = 0x10000 + i * 0x1000;
        assert!(
            ranges.iter().any(|&(start, len)| start <= addr && u64::from(addr) + 8 <= u64::from(start) + u64::from(len)),
            "{addr:#x} not covered by {ranges:x?}"
        );
    }
}
