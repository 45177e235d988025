//! Property tests: decoding and disassembly are total over all 32-bit words.

use hbft_frontend::{decode, disassemble_word, AddressPrinter};
use proptest::prelude::*;

struct Hex;

impl AddressPrinter for Hex {
    fn print_address(&self, addr: u32, out: &mut String) {
        out.push_str(&format!("{addr:x}"));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// Any word decodes or is refused, and prints, without panicking; words
    /// the decoder refuses are exactly those printed as `#xxxxxxxx`.
    #[test]
    fn decode_and_print_are_total(word in any::<u32>(), pc in any::<u32>()) {
        let decoded = decode(word);
        let mut text = String::new();
        disassemble_word(word, pc & !3, &Hex, &mut text);
        prop_assert!(!text.is_empty());
        prop_assert_eq!(decoded.is_err(), text.starts_with('#'), "{:08x}: {}", word, text);
    }

    /// Decoding is a pure function of the word.
    #[test]
    fn decode_is_deterministic(word in any::<u32>()) {
        prop_assert_eq!(decode(word), decode(word));
    }
}

// ---- encoding: the inverse of decoding ------------------------------------------

use hbft_frontend::elf::ElfImage;
use hbft_frontend::insn::*;
use hbft_frontend::{encode, EncodeError, Insn};

/// `decode(encode(&i)) == Ok(i)` for the instruction `word` decodes to (if any).
fn roundtrips(word: u32) -> Result<bool, String> {
    let Ok(insn) = decode(word) else { return Ok(false) };
    match encode(&insn) {
        Ok(back) if decode(back) == Ok(insn) => Ok(true),
        Ok(back) => Err(format!("{word:08x} {insn:?} encodes to {back:08x} = {:?}", decode(back))),
        Err(e) => Err(format!("{word:08x} {insn:?}: {e}")),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 50_000, ..ProptestConfig::default() })]

    /// Every decodable word's instruction encodes to a word that decodes to it.
    #[test]
    fn encode_inverts_decode(word in any::<u32>()) {
        if let Err(e) = roundtrips(word) {
            prop_assert!(false, "{}", e);
        }
    }
}

/// The same over every major opcode with the sparse low fields real code has
/// (uniform words rarely reach, e.g., the zero-field system instructions).
#[test]
fn encode_inverts_decode_sparse_words() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u32
    };
    let (mut decoded, mut failures) = (0usize, Vec::new());
    for i in 0..200_000u32 {
        let low = match i % 3 {
            0 => next() & next(),
            1 => next() & next() & next(),
            _ => next() & 0xffff,
        };
        let word = (i % 64) << 26 | (low & 0x03ff_ffff);
        match roundtrips(word) {
            Ok(d) => decoded += usize::from(d),
            Err(e) => failures.push(e),
        }
    }
    println!("sparse words: {decoded} decodable, {} failed to round-trip", failures.len());
    assert!(failures.is_empty(), "{:#?}", &failures[..failures.len().min(20)]);
}

/// Every word of every executable segment of the prebuilt guests round-trips.
#[test]
fn encode_inverts_decode_on_prebuilt_guests() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../guests/prebuilt");
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("guests/prebuilt").flatten().map(|e| e.path()).collect();
    entries.sort();
    let (mut words, mut decoded, mut failures) = (0usize, 0usize, Vec::new());
    for path in entries.iter().filter(|p| p.is_file()) {
        let bytes = std::fs::read(path).unwrap();
        let Ok(image) = ElfImage::parse(&bytes) else { continue };
        for segment in image.segments.iter().filter(|s| s.perms.exec) {
            for chunk in segment.data.chunks_exact(4) {
                let word = u32::from_be_bytes(chunk.try_into().unwrap());
                words += 1;
                match roundtrips(word) {
                    Ok(d) => decoded += usize::from(d),
                    Err(e) => failures.push(format!("{}: {e}", path.display())),
                }
            }
        }
    }
    println!("prebuilt guests: {words} words, {decoded} decodable, {} failed to round-trip", failures.len());
    assert!(decoded > 100_000, "expected the prebuilt guests' code, found {decoded} instructions");
    assert!(failures.is_empty(), "{:#?}", &failures[..failures.len().min(20)]);
}

// ---- encoding never panics, and refuses what does not fit -----------------------

fn gr() -> impl Strategy<Value = Gr> {
    prop_oneof![4 => (0u8..32).prop_map(Gr), 1 => any::<u8>().prop_map(Gr)]
}
fn fr() -> impl Strategy<Value = Fr> {
    (prop_oneof![4 => 0u8..32, 1 => any::<u8>()], any::<bool>()).prop_map(|(reg, right)| Fr { reg, right })
}
fn space() -> impl Strategy<Value = Space> {
    prop_oneof![Just(Space::Implicit), any::<u8>().prop_map(|s| Space::Sr(Sr(s % 10)))]
}
fn cond() -> impl Strategy<Value = Cond> {
    (0u8..10, any::<bool>(), any::<bool>()).prop_map(|(c, negate, dw)| Cond { c, negate, dw })
}
/// Displacements clustered around the field limits of every form.
fn disp() -> impl Strategy<Value = i32> {
    prop_oneof![
        -20i32..20,
        (-40_000i32..40_000),
        any::<i32>(),
        prop::sample::select(vec![
            -16, 15, 16, -17, -8192, 8191, 8192, -8193, 8184, -32768, 32767, 32768, 0x3fffc, 0x40000
        ])
    ]
}
fn modify() -> impl Strategy<Value = Modify> {
    prop_oneof![Just(Modify::None), Just(Modify::Before), Just(Modify::After)]
}
fn addr() -> impl Strategy<Value = Addr> {
    prop_oneof![
        (disp(), gr(), space(), modify(), any::<bool>()).prop_map(|(disp, base, space, modify, long)| Addr::Disp {
            disp,
            base,
            space,
            modify,
            form: if long { DispForm::Long } else { DispForm::Short }
        }),
        (gr(), gr(), space(), any::<bool>(), any::<bool>())
            .prop_map(|(index, base, space, scale, modify)| Addr::Index { index, base, space, scale, modify }),
    ]
}
fn size() -> impl Strategy<Value = Size> {
    prop_oneof![Just(Size::Byte), Just(Size::Half), Just(Size::Word), Just(Size::Double)]
}
fn shift_amount() -> impl Strategy<Value = ShiftAmount> {
    prop_oneof![Just(ShiftAmount::Sar), any::<u8>().prop_map(|p| ShiftAmount::Fixed(p % 70))]
}
fn dep_source() -> impl Strategy<Value = DepSource> {
    prop_oneof![gr().prop_map(DepSource::Reg), any::<i8>().prop_map(DepSource::Imm)]
}

/// Insn values with fields anywhere in (and beyond) their encodable ranges.
fn arbitrary_insn() -> impl Strategy<Value = Insn> {
    prop_oneof![
        (any::<u8>(), any::<u16>()).prop_map(|(im5, im13)| Insn::Break { im5, im13 }),
        (any::<u16>(), gr(), any::<bool>()).prop_map(|(imm, t, set)| Insn::SysMask { set, imm, t }),
        (any::<u8>(), gr()).prop_map(|(sr, r)| Insn::Mtsp { r, sr: Sr(sr) }),
        (any::<u8>(), gr(), any::<bool>()).prop_map(|(cr, t, wide)| Insn::Mfctl { cr: Cr(cr), t, wide }),
        any::<u32>().prop_map(|imm| Insn::Diag { imm }),
        (cond(), gr(), gr(), gr(), 0u8..5, any::<bool>()).prop_map(|(cond, r1, r2, t, shift, carry)| Insn::Alu {
            op: AluOp::Add { shift, carry, logical: false, trap_overflow: false },
            cond,
            r1,
            r2,
            t
        }),
        (cond(), any::<i32>(), gr(), gr()).prop_map(|(cond, imm, r, t)| Insn::AluImm {
            op: AluImmOp::Addi { trap_overflow: false, trap_cond: false },
            cond,
            imm: imm >> (imm as u32 % 32),
            r,
            t
        }),
        (any::<u32>(), gr()).prop_map(|(imm, t)| Insn::Ldil { imm, t }),
        (disp(), gr(), gr()).prop_map(|(disp, base, t)| Insn::Ldo { disp, base, t }),
        (size(), addr(), gr()).prop_map(|(size, addr, t)| Insn::Load {
            kind: LoadKind::Plain,
            size,
            addr,
            hint: Hint::None,
            t
        }),
        (size(), addr(), gr()).prop_map(|(size, addr, r)| Insn::Store {
            kind: StoreKind::Plain,
            size,
            r,
            addr,
            hint: Hint::None
        }),
        (any::<bool>(), any::<bool>(), fr(), addr()).prop_map(|(store, dbl, r, addr)| Insn::FpMem {
            store,
            dbl,
            r,
            addr,
            hint: Hint::None
        }),
        (disp(), gr(), any::<bool>(), any::<bool>()).prop_map(|(disp, link, nullify, wide)| Insn::BranchLink {
            kind: LinkKind::Plain,
            disp,
            link,
            nullify,
            wide
        }),
        (cond(), dep_source(), gr(), disp(), any::<bool>())
            .prop_map(|(cond, src, r2, disp, nullify)| Insn::CmpBranch { cond, src, r2, disp, nullify }),
        (any::<bool>(), any::<u8>(), gr(), disp(), any::<u8>()).prop_map(|(link, sr, base, disp, _)| Insn::Be {
            link,
            disp,
            sr: Sr(sr),
            base,
            nullify: false
        }),
        (any::<bool>(), any::<bool>(), 0u8..9, gr(), shift_amount(), any::<u8>(), gr()).prop_map(
            |(dw, signed, cond, r, pos, len, t)| Insn::Extract { dw, signed, cond, r, pos, len: len % 70, t }
        ),
        (any::<bool>(), any::<bool>(), dep_source(), shift_amount(), any::<u8>(), gr())
            .prop_map(|(dw, zero, src, pos, len, t)| Insn::Deposit { dw, zero, cond: 0, src, pos, len: len % 70, t }),
        (any::<bool>(), 0u8..9, gr(), gr(), shift_amount(), gr())
            .prop_map(|(dw, cond, r1, r2, amount, t)| Insn::Shrp { dw, cond, r1, r2, amount, t }),
        (0u8..5, any::<u8>(), any::<u32>(), gr(), gr(), gr()).prop_map(|(kind, sfu, op, r1, r2, t)| Insn::Spop {
            kind,
            sfu,
            op: op >> (op % 32),
            nullify: false,
            r1,
            r2,
            t
        }),
        (any::<bool>(), fr(), fr(), fr(), fr(), fr()).prop_map(|(dbl, rm1, rm2, tm, ra, ta)| Insn::FmpyAddSub {
            sub: false,
            dbl,
            rm1,
            rm2,
            tm,
            ra,
            ta
        }),
        (fr(), fr(), fr(), fr()).prop_map(|(r1, r2, ra, t)| Insn::Fmac { negate: false, dbl: true, r1, r2, ra, t }),
        (any::<[u8; 4]>(), gr(), gr()).prop_map(|(order, r, t)| Insn::Permh { order, r, t }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// `encode` never panics; what it returns always decodes back, and what it
    /// refuses is either out of range or has no word at all.
    #[test]
    fn encode_is_total_and_sound(insn in arbitrary_insn()) {
        match encode(&insn) {
            Ok(word) => prop_assert_eq!(decode(word), Ok(insn)),
            Err(EncodeError::OutOfRange { .. }) | Err(EncodeError::Unencodable(_)) => {}
        }
    }
}

#[test]
fn encode_refuses_out_of_range_fields() {
    let long =
        |disp| Addr::Disp { disp, base: Gr(30), space: Space::Implicit, modify: Modify::None, form: DispForm::Long };
    let ldw = |addr| Insn::Load { kind: LoadKind::Plain, size: Size::Word, addr, hint: Hint::None, t: Gr(3) };
    assert!(encode(&ldw(long(8191))).is_ok());
    assert!(matches!(encode(&ldw(long(8192))), Err(EncodeError::OutOfRange { field: "displacement", .. })));
    let short =
        Addr::Disp { disp: 16, base: Gr(30), space: Space::Implicit, modify: Modify::None, form: DispForm::Short };
    assert!(matches!(encode(&ldw(short)), Err(EncodeError::OutOfRange { .. })));
    let ldd =
        |disp| Insn::Load { kind: LoadKind::Plain, size: Size::Double, addr: long(disp), hint: Hint::None, t: Gr(3) };
    assert!(encode(&ldd(8184)).is_ok());
    assert!(encode(&ldd(8188)).is_err(), "not a multiple of 8");
    let cmpb = |disp| Insn::CmpBranch { cond: Cond::NEVER, src: DepSource::Imm(-16), r2: Gr(4), disp, nullify: true };
    assert!(encode(&cmpb(8188)).is_ok());
    assert!(encode(&cmpb(8192)).is_err());
    assert!(encode(&cmpb(-8192)).is_ok());
    assert!(encode(&cmpb(-8196)).is_err());
    assert!(encode(&Insn::Ldil { imm: 0x1234_5800, t: Gr(1) }).is_ok());
    assert!(encode(&Insn::Ldil { imm: 0x1234_5801, t: Gr(1) }).is_err());
    assert!(encode(&Insn::Alu { op: AluOp::Or, cond: Cond::NEVER, r1: Gr(32), r2: Gr(0), t: Gr(0) }).is_err());
    // add,c,l does not exist.
    let addcl = AluOp::Add { shift: 0, carry: true, logical: true, trap_overflow: false };
    assert!(matches!(
        encode(&Insn::Alu { op: addcl, cond: Cond::NEVER, r1: Gr(1), r2: Gr(2), t: Gr(3) }),
        Err(EncodeError::Unencodable(_))
    ));
}
