//! Instruction decoding through one declarative table.
//!
//! Each table line is a 32-character bit pattern (`0`, `1`, `.` for a free
//! bit; spaces only group the manual's fields) and a small handler that builds
//! the [`Insn`] from named field extractors. Patterns are turned into
//! mask/value pairs at compile time; lines are grouped by the 6-bit major
//! opcode and looked up through a per-opcode index, first match wins (a
//! handler may refuse a word by returning `None`, and the search continues).
//! The acceptance of every line follows what `hppa-linux-gnu-objdump` decodes,
//! so the disassembler and the decoder agree on which words are instructions.

use crate::fields::*;
use crate::insn::*;

/// A word that is not a PA-RISC instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("undecodable instruction word {0:#010x}")]
pub struct DecodeError(pub u32);

/// Decodes one instruction word.
pub fn decode(word: u32) -> Result<Insn, DecodeError> {
    let (start, end) = INDEX[(word >> 26) as usize];
    TABLE[start as usize..end as usize]
        .iter()
        .filter(|e| word & e.mask == e.value)
        .find_map(|e| (e.handler)(word))
        .ok_or(DecodeError(word))
}

struct Entry {
    mask: u32,
    value: u32,
    handler: fn(u32) -> Option<Insn>,
}

/// Turns a pattern into `(mask, value)`; panics (at compile time) on a bad pattern.
const fn pattern(p: &str) -> (u32, u32) {
    let bytes = p.as_bytes();
    let (mut mask, mut value, mut n, mut i) = (0u32, 0u32, 0, 0);
    while i < bytes.len() {
        let c = bytes[i];
        i += 1;
        if c == b' ' {
            continue;
        }
        mask <<= 1;
        value <<= 1;
        match c {
            b'0' => mask |= 1,
            b'1' => {
                mask |= 1;
                value |= 1
            }
            b'.' => {}
            _ => panic!("bad character in decode pattern"),
        }
        n += 1;
    }
    assert!(n == 32, "decode pattern must have 32 bits");
    assert!(mask >> 26 == 0x3f, "decode pattern must fix the major opcode");
    (mask, value)
}

macro_rules! entry {
    ($pat:literal, $handler:ident) => {{
        let (mask, value) = pattern($pat);
        Entry { mask, value, handler: $handler }
    }};
}

/// Per major opcode, the range of [`TABLE`] lines that can match.
static INDEX: [(u16, u16); 64] = build_index();

const fn build_index() -> [(u16, u16); 64] {
    let mut index = [(0u16, 0u16); 64];
    let mut i = 0;
    let mut last = 0;
    while i < TABLE.len() {
        let op = (TABLE[i].value >> 26) as usize;
        assert!(op >= last, "decode table must be grouped by major opcode");
        if index[op].1 == 0 {
            index[op].0 = i as u16;
        }
        index[op].1 = (i + 1) as u16;
        last = op;
        i += 1;
    }
    index
}

//          op     b     x     s  a i cc ext4 m t
static TABLE: &[Entry] = &[
    entry!("000000 ..... ..... .. . 0 00 0000 0 .....", brk),
    entry!("000000 00000 00000 00 0 0 11 00.. . 00000", rfi),
    entry!("000000 ..... ..... 00 0 0 11 0101 1 .....", ssm),
    entry!("000000 ..... ..... 00 0 0 11 1001 1 .....", rsm),
    entry!("000000 00000 ..... 00 0 1 10 0001 1 00000", mtsm),
    entry!("000000 ..... 00000 .. 0 1 00 0010 1 .....", ldsid),
    entry!("000000 00000 ..... .. . 1 10 0000 1 00000", mtsp),
    entry!("000000 ..... ..... 00 0 1 10 0001 0 00000", mtctl),
    entry!("000000 01011 ..... 00 0 1 10 0011 0 00000", mtsarcm),
    entry!("000000 00000 00000 00 0 1 01 0010 1 .....", mfia),
    entry!("000000 00000 00000 .. . 0 01 0010 1 .....", mfsp),
    entry!("000000 01011 00000 01 0 0 10 0010 1 .....", mfctl_w),
    entry!("000000 ..... 00000 00 0 0 10 0010 1 .....", mfctl),
    entry!("000000 00000 00000 00 0 0 01 0000 0 00000", sync),
    entry!("000000 00000 10000 00 0 0 01 0000 0 00000", syncdma),
    entry!("000001 ..... ..... .. . 1 00 011. 0 .....", probe),
    entry!("000001 ..... ..... .. 0 1 00 1101 . .....", lpa),
    entry!("000001 ..... ..... .. 0 1 00 1100 0 .....", lci),
    entry!("000001 ..... ..... .. 0 1 0. 1000 . 00000", pdtlb),
    entry!("000001 ..... ..... .. . 0 0. 1000 . 00000", pitlb),
    entry!("000001 ..... ..... .. 0 1 00 1001 . 00000", pdtlbe),
    entry!("000001 ..... ..... .. . 0 00 1001 . 00000", pitlbe),
    entry!("000001 ..... ..... .. 0 1 00 0001 0 00000", idtlba),
    entry!("000001 ..... ..... .. . 0 00 0001 0 00000", iitlba),
    entry!("000001 ..... ..... .. 0 1 00 0000 0 00000", idtlbp),
    entry!("000001 ..... ..... .. . 0 00 0000 0 00000", iitlbp),
    entry!("000001 ..... ..... .. 0 1 00 1110 . 00000", pdc),
    entry!("000001 ..... ..... .. 0 1 00 1010 . 00000", fdc),
    entry!("000001 ..... ..... .. 1 1 00 1010 0 00000", fdc_imm),
    entry!("000001 ..... ..... 00 . 1 00 1111 . 00000", fic_implicit),
    entry!("000001 ..... ..... .. . 0 00 1010 . 00000", fic),
    entry!("000001 ..... ..... .. 0 1 00 1011 . 00000", fdce),
    entry!("000001 ..... ..... .. . 0 00 1011 . 00000", fice),
    entry!("000001 ..... ..... 00 0 1 10 0000 0 00000", idtlbt),
    entry!("000001 ..... ..... 00 0 0 10 0000 0 00000", iitlbt),
    entry!("000001 ..... ..... .. 0 1 01 1010 . 00000", gfw),
    entry!("000001 ..... ..... .. 0 1 10 1010 . 00000", gfr),
    entry!("000010 ..... ..... .. . . 10 0010 . .....", cmpclr),
    entry!("000010 ..... ..... .. . . 00 1001 . .....", or),
    entry!("000010 ..... ..... .. . . 00 1010 . .....", xor),
    entry!("000010 ..... ..... .. . . 00 1000 . .....", and),
    entry!("000010 ..... ..... .. . . 00 0000 . .....", andcm),
    entry!("000010 ..... ..... .. . . 00 1110 . .....", uxor),
    entry!("000010 ..... ..... .. . . 10 011. . .....", uaddcm),
    entry!("000010 ..... 00000 .. . . 10 111. . .....", dcor),
    entry!("000010 ..... ..... .. . . .1 1100 . .....", add_carry),
    entry!("000010 ..... ..... .. . . .. 1000 . .....", add),
    entry!("000010 ..... ..... .. . . .1 0011 . .....", sub_tc),
    entry!("000010 ..... ..... .. . . .1 0100 . .....", sub_borrow),
    entry!("000010 ..... ..... .. . . .1 0000 . .....", sub),
    entry!("000010 ..... ..... .. . . 01 0001 0 .....", ds),
    entry!("000010 ..... ..... .. . . .. 10.. . .....", shladd),
    entry!("000010 ..... ..... .. . . 00 1011 . .....", havg),
    entry!("000010 ..... ..... 00 0 0 00 11.. 0 .....", hadd),
    entry!("000010 ..... ..... 00 0 0 01 11.. 0 .....", hshladd),
    entry!("000010 ..... ..... 00 0 0 01 01.. 0 .....", hshradd),
    entry!("000010 ..... ..... 00 0 0 00 01.. 0 .....", hsub),
    entry!("000011 ..... ..... .. . 0 .. 0... . .....", load_index),
    entry!("000011 ..... ..... .. . 1 .. 0... . .....", load_short),
    entry!("000011 ..... ..... .. . 1 .. 1... . .....", store_short),
    entry!("000100 ..... ..... .. . . .. .... . .....", spop),
    entry!("000101 ..... ..... .. . . .. .... . .....", diag),
    entry!("000110 ..... ..... .. . . .. .... . .....", fmpyadd),
    entry!("001000 ..... ..... .. . . .. .... . .....", ldil),
    entry!("001001 ..... ..... .. . 0 .. .00. . .....", fp_index),
    entry!("001001 ..... ..... .. . 1 .. .00. . .....", fp_short),
    entry!("001001 ..... ..... .. . . .. .... . .....", cop_mem),
    entry!("001010 ..... ..... .. . . .. .... . .....", addil),
    entry!("001011 ..... ..... .. . 0 .. .000 . .....", fp_index),
    entry!("001011 ..... ..... .. . 1 .. .000 . .....", fp_short),
    entry!("001011 ..... ..... .. . . .. .... . .....", cop_mem),
    entry!("001100 ..... ..... .. . . .1 1000 0 .....", fbin_0c),
    entry!("001100 ..... 00000 .. . . .0 0000 0 .....", fun_0c),
    entry!("001100 ..... 0000. .. . . .0 1000 0 .....", fcnv_0c),
    entry!("001100 ..... 000.. .. . . .0 10.. 0 .....", fcnv_wide_0c),
    entry!("001100 ..... ..... .. . . .1 0000 0 .....", fcmp_0c),
    entry!("001100 00000 00000 00 1 0 01 0000 1 00000", ftest),
    entry!("001100 00000 00000 00 1 0 01 0000 1 .....", ftest_cond),
    entry!("001100 00000 00000 .. . 0 01 0000 1 00000", ftest_queue),
    entry!("001100 00000 00000 00 0 0 00 0000 0 00000", fid),
    entry!("001100 00000 00000 00 0 0 01 1010 0 00000", pmenb),
    entry!("001100 ..... ..... .. . . .. .... . .....", copr),
    entry!("001101 ..... ..... .. . . .. .... . .....", ldo),
    entry!("001110 ..... ..... .. . . .1 10.. 0 .....", fbin_0e),
    entry!("001110 ..... 00000 .. . . .0 00.. 0 .....", fun_0e),
    entry!("001110 ..... 000.. .. . . .0 10.. 0 .....", fcnv_0e),
    entry!("001110 ..... ..... .. . . .1 00.. 0 .....", fcmp_0e),
    entry!("001110 ..... ..... 01 0 . .1 11.. 0 .....", xmpyu),
    entry!("001111 ..... ..... .. . . 00 1000 . .....", fstq),
    entry!("010000 ..... ..... .. . . .. .... . .....", load_long),
    entry!("010001 ..... ..... .. . . .. .... . .....", load_long),
    entry!("010010 ..... ..... .. . . .. .... . .....", load_long),
    entry!("010011 ..... ..... .. . . .. .... . .....", load_long_modify),
    entry!("010100 ..... ..... .. . . .. .... . .....", long_dw),
    entry!("010110 ..... ..... .. . . .. .... . .....", fp_long_modify),
    entry!("010111 ..... ..... .. . . .. .... . ..0..", fp_long),
    entry!("010111 ..... ..... .. . . .. .... . ..10.", ldw_long_modify_wide),
    entry!("011000 ..... ..... .. . . .. .... . .....", store_long),
    entry!("011001 ..... ..... .. . . .. .... . .....", store_long),
    entry!("011010 ..... ..... .. . . .. .... . .....", store_long),
    entry!("011011 ..... ..... .. . . .. .... . .....", store_long_modify),
    entry!("011100 ..... ..... .. . . .. .... . .....", long_dw),
    entry!("011110 ..... ..... .. . . .. .... . .....", fp_long_modify),
    entry!("011111 ..... ..... .. . . .. .... . ..0..", fp_long),
    entry!("011111 ..... ..... .. . . .. .... . ..10.", stw_long_modify_wide),
    entry!("100000 ..... ..... .. . . .. .... . .....", cmpb),
    entry!("100001 ..... ..... .. . . .. .... . .....", cmpib),
    entry!("100010 ..... ..... .. . . .. .... . .....", cmpb),
    entry!("100011 ..... ..... .. . . .. .... . .....", cmpib),
    entry!("100100 ..... ..... .. . . .. .... . .....", cmpiclr),
    entry!("100101 ..... ..... .. . . .. .... . .....", subi),
    entry!("100110 ..... ..... .. . . .. .... . .....", fmpysub),
    entry!("100111 ..... ..... .. . . .. .... . .....", cmpb_dw),
    entry!("101000 ..... ..... .. . . .. .... . .....", addb),
    entry!("101001 ..... ..... .. . . .. .... . .....", addib),
    entry!("101010 ..... ..... .. . . .. .... . .....", addb),
    entry!("101011 ..... ..... .. . . .. .... . .....", addib),
    entry!("101100 ..... ..... .. . . .. .... . .....", addi_tc),
    entry!("101101 ..... ..... .. . . .. .... . .....", addi),
    entry!("101110 ..... ..... .. . . .. .... . .....", fmac),
    entry!("101111 ..... ..... .. . . .. .... . .....", cmpb_dw),
    entry!("110000 00000 ..... .1 . . .. .... . .....", bb_sar),
    entry!("110001 ..... ..... .1 . . .. .... . .....", bb_imm),
    entry!("110010 ..... ..... .. . . .. .... . .....", movb),
    entry!("110011 ..... ..... .. . . .. .... . .....", movib),
    entry!("110100 ..... ..... .. . 0 00 .000 0 .....", shrp_sar),
    entry!("110100 ..... ..... .. . 0 .1 .... . .....", shrpd_fixed),
    entry!("110100 ..... ..... .. . 0 10 .... . .....", shrpw_fixed),
    entry!("110100 ..... ..... .. . 1 0. 1.00 0 .....", extrd_sar),
    entry!("110100 ..... ..... .. . 1 0. 0000 0 .....", extrw_sar),
    entry!("110100 ..... ..... .. . 1 1. .... . .....", extrw_fixed),
    entry!("110101 ..... ..... .. . 0 0. 1.00 0 .....", depd_sar),
    entry!("110101 ..... ..... .. . 0 0. 0000 0 .....", depw_sar),
    entry!("110101 ..... ..... .. . 0 1. .... . .....", depw_fixed),
    entry!("110101 ..... ..... .. . 1 0. 1.00 0 .....", depdi_sar),
    entry!("110101 ..... ..... .. . 1 0. 0000 0 .....", depwi_sar),
    entry!("110101 ..... ..... .. . 1 1. .... . .....", depwi_fixed),
    entry!("110110 ..... ..... .. . . .. .... . .....", extrd_fixed),
    entry!("111000 ..... ..... .. . . .. .... . .....", be),
    entry!("111001 ..... ..... .. . . .. .... . .....", ble),
    entry!("111010 ..... ..... 00 0 . .. .... . .....", bl),
    entry!("111010 ..... ..... 00 1 . .. .... . .....", gate),
    entry!("111010 ..... ..... 01 0 . .. .... . ....0", blr),
    entry!("111010 00000 00000 01 0 0 .. .... . ..101", popbts),
    entry!("111010 00000 ..... 01 0 0 00 0000 0 00001", pushbts),
    entry!("111010 ..... ..... 10 0 . .. .... . .....", bl_push),
    entry!("111010 ..... ..... 10 1 . .. .... . .....", bl22),
    entry!("111010 ..... ..... 11 0 0 00 0000 0 000.0", bv),
    entry!("111010 ..... 00000 11 0 1 00 0000 0 000..", bve),
    entry!("111010 ..... 00000 11 1 1 00 0000 0 000..", bve_l),
    entry!("111011 ..... ..... .. . . .. .... . .....", cmpib_dw),
    entry!("111100 ..... ..... .. . . .. .... . .....", depd_fixed),
    entry!("111101 ..... ..... .. . . .. .... . .....", depdi_fixed),
    entry!("111110 00000 ..... 10 0 0 10 .... 0 .....", hshl),
    entry!("111110 ..... 00000 11 0 0 1. .... 0 .....", hshr),
    entry!("111110 ..... ..... 1. . 0 0. 0000 0 .....", mix),
    entry!("111110 ..... ..... 0. . 0 .. .... 0 .....", permh),
];

// ---- shared field helpers ----------------------------------------------------

fn gb(w: u32) -> Gr {
    Gr(r_b(w))
}
fn gx(w: u32) -> Gr {
    Gr(r_x(w))
}
fn gt(w: u32) -> Gr {
    Gr(r_t(w))
}
/// The 2-bit space field at manual bits 16..17 (`s` = 0 is implicit).
fn space2(w: u32) -> Space {
    match bits(w, 14, 2) {
        0 => Space::Implicit,
        s => Space::Sr(Sr(s as u8)),
    }
}
fn sr3(w: u32) -> Space {
    Space::Sr(Sr(space3(w)))
}
/// Condition of the arithmetic formats: c at manual 16..18, f at 19, d at 26.
fn cond_cfd(w: u32) -> Cond {
    Cond { c: bits(w, 13, 3) as u8, negate: bit(w, 12), dw: bit(w, 5) }
}
fn cache_hint(w: u32) -> Hint {
    match bits(w, 10, 2) {
        0 => Hint::None,
        1 => Hint::Bc,
        2 => Hint::Sl,
        _ => Hint::Reserved,
    }
}
fn nullify(w: u32) -> bool {
    bit(w, 1)
}
fn im5_load(w: u32) -> i32 {
    low_sign_ext(bits(w, 16, 5), 5)
}
fn im5_store(w: u32) -> i32 {
    low_sign_ext(bits(w, 0, 5), 5)
}
fn im14(w: u32) -> i32 {
    low_sign_ext(bits(w, 0, 14), 14)
}
/// PA 2.0 16-bit displacement (`ldo`): the s bits extend the 14-bit field.
fn im16(w: u32) -> i32 {
    let s = bits(w, 0, 1);
    let v = bits(w, 1, 13) | s << 15 | (s ^ bits(w, 15, 1)) << 14 | (s ^ bits(w, 14, 1)) << 13;
    sign_ext(v, 16)
}
fn fr_t_half(w: u32) -> Fr {
    Fr { reg: r_t(w), right: bit(w, 6) }
}
fn fp_fmt(v: u32) -> FpFmt {
    match v & 3 {
        0 => FpFmt::Sgl,
        1 => FpFmt::Dbl,
        2 => FpFmt::Reserved,
        _ => FpFmt::Quad,
    }
}

// ---- system control (0x00) ---------------------------------------------------

fn brk(w: u32) -> Option<Insn> {
    Some(Insn::Break { im5: r_t(w), im13: bits(w, 13, 13) as u16 })
}
fn rfi(w: u32) -> Option<Insn> {
    Some(Insn::Rfi { ext: bits(w, 5, 3) as u8 })
}
fn ssm(w: u32) -> Option<Insn> {
    Some(Insn::SysMask { set: true, imm: bits(w, 16, 10) as u16, t: gt(w) })
}
fn rsm(w: u32) -> Option<Insn> {
    Some(Insn::SysMask { set: false, imm: bits(w, 16, 10) as u16, t: gt(w) })
}
fn mtsm(w: u32) -> Option<Insn> {
    Some(Insn::Mtsm { r: gx(w) })
}
fn ldsid(w: u32) -> Option<Insn> {
    Some(Insn::Ldsid { space: space2(w), base: gb(w), t: gt(w) })
}
fn mtsp(w: u32) -> Option<Insn> {
    Some(Insn::Mtsp { r: gx(w), sr: Sr(space3(w)) })
}
fn mtctl(w: u32) -> Option<Insn> {
    Some(Insn::Mtctl { r: gx(w), cr: Cr(r_b(w)) })
}
fn mtsarcm(w: u32) -> Option<Insn> {
    Some(Insn::Mtsarcm { r: gx(w) })
}
fn mfia(w: u32) -> Option<Insn> {
    Some(Insn::Mfia { t: gt(w) })
}
fn mfsp(w: u32) -> Option<Insn> {
    Some(Insn::Mfsp { sr: Sr(space3(w)), t: gt(w) })
}
fn mfctl_w(w: u32) -> Option<Insn> {
    Some(Insn::Mfctl { cr: Cr(11), t: gt(w), wide: true })
}
fn mfctl(w: u32) -> Option<Insn> {
    Some(Insn::Mfctl { cr: Cr(r_b(w)), t: gt(w), wide: false })
}
fn sync(_: u32) -> Option<Insn> {
    Some(Insn::Sync { dma: false })
}
fn syncdma(_: u32) -> Option<Insn> {
    Some(Insn::Sync { dma: true })
}

// ---- memory management (0x01) ------------------------------------------------

fn probe(w: u32) -> Option<Insn> {
    Some(Insn::Probe {
        write: bit(w, 6),
        imm: bit(w, 13),
        level: r_x(w),
        space: space2(w),
        base: gb(w),
        t: gt(w),
    })
}
fn lpa(w: u32) -> Option<Insn> {
    Some(Insn::LoadTranslation { coherence: false, index: gx(w), space: space2(w), base: gb(w), modify: bit(w, 5), t: gt(w) })
}
fn lci(w: u32) -> Option<Insn> {
    Some(Insn::LoadTranslation { coherence: true, index: gx(w), space: space2(w), base: gb(w), modify: false, t: gt(w) })
}
fn cache(op: CacheOp, w: u32, space: Space) -> Option<Insn> {
    Some(Insn::Cache { op, index: gx(w), space, base: gb(w), modify: bit(w, 5), local: bit(w, 10) })
}
fn pdtlb(w: u32) -> Option<Insn> {
    cache(CacheOp::Pdtlb, w, space2(w))
}
fn pitlb(w: u32) -> Option<Insn> {
    cache(CacheOp::Pitlb, w, sr3(w))
}
fn pdtlbe(w: u32) -> Option<Insn> {
    cache(CacheOp::Pdtlbe, w, space2(w))
}
fn pitlbe(w: u32) -> Option<Insn> {
    cache(CacheOp::Pitlbe, w, sr3(w))
}
fn pdc(w: u32) -> Option<Insn> {
    cache(CacheOp::Pdc, w, space2(w))
}
fn fdc(w: u32) -> Option<Insn> {
    cache(CacheOp::Fdc, w, space2(w))
}
fn fdce(w: u32) -> Option<Insn> {
    cache(CacheOp::Fdce, w, space2(w))
}
fn fice(w: u32) -> Option<Insn> {
    cache(CacheOp::Fice, w, sr3(w))
}
/// gfw's opcode holds cc = 1, which is the `,l` bit of the other cache forms.
fn gfw(w: u32) -> Option<Insn> {
    cache(CacheOp::Gfw, w & !(1 << 10), space2(w))
}
fn gfr(w: u32) -> Option<Insn> {
    cache(CacheOp::Gfr, w, space2(w))
}
/// PA 2.0 `fic x(b)` in the data-cache opcode space (space implicit).
fn fic_implicit(w: u32) -> Option<Insn> {
    cache(CacheOp::Fic, w, Space::Implicit)
}
fn fic(w: u32) -> Option<Insn> {
    cache(CacheOp::Fic, w, sr3(w))
}
fn fdc_imm(w: u32) -> Option<Insn> {
    Some(Insn::FdcImm { disp: im5_load(w) as i8, space: space2(w), base: gb(w) })
}
fn tlb_insert(op: TlbInsertOp, w: u32, space: Space) -> Option<Insn> {
    Some(Insn::TlbInsert { op, r: gx(w), space, base: gb(w) })
}
fn idtlba(w: u32) -> Option<Insn> {
    tlb_insert(TlbInsertOp::Idtlba, w, space2(w))
}
fn iitlba(w: u32) -> Option<Insn> {
    tlb_insert(TlbInsertOp::Iitlba, w, sr3(w))
}
fn idtlbp(w: u32) -> Option<Insn> {
    tlb_insert(TlbInsertOp::Idtlbp, w, space2(w))
}
fn iitlbp(w: u32) -> Option<Insn> {
    tlb_insert(TlbInsertOp::Iitlbp, w, sr3(w))
}
fn idtlbt(w: u32) -> Option<Insn> {
    Some(Insn::TlbInsertT { data: true, r1: gx(w), r2: gb(w) })
}
fn iitlbt(w: u32) -> Option<Insn> {
    Some(Insn::TlbInsertT { data: false, r1: gx(w), r2: gb(w) })
}
fn diag(w: u32) -> Option<Insn> {
    Some(Insn::Diag { imm: bits(w, 0, 26) })
}

// ---- arithmetic and logical (0x02) -------------------------------------------

fn alu(op: AluOp, w: u32) -> Option<Insn> {
    Some(Insn::Alu { op, cond: cond_cfd(w), r1: gx(w), r2: gb(w), t: gt(w) })
}
fn cmpclr(w: u32) -> Option<Insn> {
    alu(AluOp::Cmpclr, w)
}
fn or(w: u32) -> Option<Insn> {
    alu(AluOp::Or, w)
}
fn xor(w: u32) -> Option<Insn> {
    alu(AluOp::Xor, w)
}
fn and(w: u32) -> Option<Insn> {
    alu(AluOp::And, w)
}
fn andcm(w: u32) -> Option<Insn> {
    alu(AluOp::Andcm, w)
}
fn uxor(w: u32) -> Option<Insn> {
    alu(AluOp::Uxor, w)
}
fn uaddcm(w: u32) -> Option<Insn> {
    alu(AluOp::Uaddcm { trap_cond: bit(w, 6) }, w)
}
fn dcor(w: u32) -> Option<Insn> {
    alu(AluOp::Dcor { intermediate: bit(w, 6) }, w)
}
fn ds(w: u32) -> Option<Insn> {
    alu(AluOp::Ds, w)
}
/// The add family: ext6 = e1 (2 bits: 1 plain, 2 `,l`, 3 `,tsv`) · carry · shift.
fn add_mode(w: u32, shift: u8, carry: bool) -> Option<Insn> {
    let (logical, trap_overflow) = match bits(w, 10, 2) {
        1 => (false, false),
        2 if !carry => (true, false),
        3 => (false, true),
        _ => return None,
    };
    alu(AluOp::Add { shift, carry, logical, trap_overflow }, w)
}
fn add_carry(w: u32) -> Option<Insn> {
    add_mode(w, 0, true)
}
fn add(w: u32) -> Option<Insn> {
    add_mode(w, 0, false)
}
fn shladd(w: u32) -> Option<Insn> {
    add_mode(w, bits(w, 6, 2) as u8, false)
}
fn sub_any(w: u32, borrow: bool, trap_cond: bool) -> Option<Insn> {
    alu(AluOp::Sub { borrow, trap_overflow: bit(w, 11), trap_cond }, w)
}
fn sub(w: u32) -> Option<Insn> {
    sub_any(w, false, false)
}
fn sub_borrow(w: u32) -> Option<Insn> {
    sub_any(w, true, false)
}
fn sub_tc(w: u32) -> Option<Insn> {
    sub_any(w, false, true)
}
/// ext6 = 0x0b, which the add family leaves undefined (mode 0): PA 2.0 `havg`.
fn havg(w: u32) -> Option<Insn> {
    Some(Insn::Havg { cond: cond_cfd(w), r1: gx(w), r2: gb(w), t: gt(w) })
}
fn half(op: HalfOp, w: u32) -> Option<Insn> {
    Some(Insn::Half { op, r1: gx(w), r2: gb(w), t: gt(w) })
}
fn hadd(w: u32) -> Option<Insn> {
    half(HalfOp::Hadd { sat: bits(w, 6, 2) as u8 }, w)
}
fn hsub(w: u32) -> Option<Insn> {
    half(HalfOp::Hsub { sat: bits(w, 6, 2) as u8 }, w)
}
fn hshladd(w: u32) -> Option<Insn> {
    half(HalfOp::Hshladd { sa: bits(w, 6, 2) as u8 }, w)
}
fn hshradd(w: u32) -> Option<Insn> {
    half(HalfOp::Hshradd { sa: bits(w, 6, 2) as u8 }, w)
}

// ---- immediates --------------------------------------------------------------

fn alu_imm(op: AluImmOp, w: u32, dw: bool) -> Option<Insn> {
    let cond = Cond { c: bits(w, 13, 3) as u8, negate: bit(w, 12), dw };
    Some(Insn::AluImm { op, cond, imm: low_sign_ext(bits(w, 0, 11), 11), r: gb(w), t: gx(w) })
}
fn addi(w: u32) -> Option<Insn> {
    alu_imm(AluImmOp::Addi { trap_overflow: bit(w, 11), trap_cond: false }, w, false)
}
fn addi_tc(w: u32) -> Option<Insn> {
    alu_imm(AluImmOp::Addi { trap_overflow: bit(w, 11), trap_cond: true }, w, false)
}
fn subi(w: u32) -> Option<Insn> {
    alu_imm(AluImmOp::Subi { trap_overflow: bit(w, 11) }, w, false)
}
fn cmpiclr(w: u32) -> Option<Insn> {
    alu_imm(AluImmOp::Cmpiclr, w, bit(w, 11))
}
fn ldil(w: u32) -> Option<Insn> {
    Some(Insn::Ldil { imm: imm21(w), t: gb(w) })
}
fn addil(w: u32) -> Option<Insn> {
    Some(Insn::Addil { imm: imm21(w), r: gb(w) })
}
fn ldo(w: u32) -> Option<Insn> {
    Some(Insn::Ldo { disp: im16(w), base: gb(w), t: gx(w) })
}

// ---- loads and stores --------------------------------------------------------

fn index_addr(w: u32) -> Addr {
    Addr::Index { index: gx(w), base: gb(w), space: space2(w), scale: bit(w, 13), modify: bit(w, 5) }
}
/// Short-displacement modification: m (bit 5) with a (bit 13) = before.
fn short_modify(w: u32) -> Modify {
    match (bit(w, 5), bit(w, 13)) {
        (false, _) => Modify::None,
        (true, false) => Modify::After,
        (true, true) => Modify::Before,
    }
}
fn short_addr(w: u32, disp: i32) -> Addr {
    Addr::Disp { disp, base: gb(w), space: space2(w), modify: short_modify(w), form: DispForm::Short }
}
/// Loads of 0x03 by ext4: kind, size, and whether only `s` = 0 exists.
fn load_op(ext4: u32) -> (LoadKind, Size, bool) {
    match ext4 {
        0 => (LoadKind::Plain, Size::Byte, false),
        1 => (LoadKind::Plain, Size::Half, false),
        2 => (LoadKind::Plain, Size::Word, false),
        3 => (LoadKind::Plain, Size::Double, false),
        4 => (LoadKind::Absolute, Size::Double, true),
        5 => (LoadKind::AndClear, Size::Double, false),
        6 => (LoadKind::Absolute, Size::Word, true),
        _ => (LoadKind::AndClear, Size::Word, false),
    }
}
fn load_index(w: u32) -> Option<Insn> {
    let (kind, size, abs) = load_op(bits(w, 6, 4));
    (!abs || bits(w, 14, 2) == 0).then_some(())?;
    Some(Insn::Load { kind, size, addr: index_addr(w), hint: cache_hint(w), t: gt(w) })
}
fn load_short(w: u32) -> Option<Insn> {
    let (kind, size, abs) = load_op(bits(w, 6, 4));
    (!abs || bits(w, 14, 2) == 0).then_some(())?;
    Some(Insn::Load { kind, size, addr: short_addr(w, im5_load(w)), hint: cache_hint(w), t: gt(w) })
}
fn store_short(w: u32) -> Option<Insn> {
    let hint = cache_hint(w);
    let (kind, size) = match bits(w, 6, 4) {
        8 => (StoreKind::Plain, Size::Byte),
        9 => (StoreKind::Plain, Size::Half),
        10 => (StoreKind::Plain, Size::Word),
        11 => (StoreKind::Plain, Size::Double),
        e @ (12 | 13) => {
            return Some(Insn::StoreBytes {
                dw: e == 13,
                end: bit(w, 13),
                modify: bit(w, 5),
                r: gx(w),
                disp: im5_store(w) as i8,
                space: space2(w),
                base: gb(w),
                hint,
            })
        }
        14 => (StoreKind::Absolute, Size::Word),
        _ => (StoreKind::Absolute, Size::Double),
    };
    (kind == StoreKind::Plain || bits(w, 14, 2) == 0).then_some(())?;
    Some(Insn::Store { kind, size, r: gx(w), addr: short_addr(w, im5_store(w)), hint })
}
fn long_addr(w: u32, disp: i32, modify: Modify) -> Addr {
    Addr::Disp { disp, base: gb(w), space: space2(w), modify, form: DispForm::Long }
}
fn long_size(w: u32) -> Size {
    match bits(w, 26, 2) {
        0 => Size::Byte,
        1 => Size::Half,
        _ => Size::Word,
    }
}
fn load_long(w: u32) -> Option<Insn> {
    let addr = long_addr(w, im14(w), Modify::None);
    Some(Insn::Load { kind: LoadKind::Plain, size: long_size(w), addr, hint: Hint::None, t: gx(w) })
}
fn store_long(w: u32) -> Option<Insn> {
    let addr = long_addr(w, im14(w), Modify::None);
    Some(Insn::Store { kind: StoreKind::Plain, size: long_size(w), r: gx(w), addr, hint: Hint::None })
}
/// ldwm/stwm: modify before when the displacement is negative (its sign is
/// bit 0), after otherwise (PA-RISC 1.1 manual, LDWM/STWM: a growing-up
/// stack pushes with `stwm r,FRAME(sp)` and pops with `ldwm -FRAME(sp),r`).
/// objdump prints the completer from another bit; display.rs mimics that.
fn long_modify(w: u32) -> Modify {
    if w & 1 != 0 {
        Modify::Before
    } else {
        Modify::After
    }
}
fn load_long_modify(w: u32) -> Option<Insn> {
    let addr = long_addr(w, im14(w), long_modify(w));
    Some(Insn::Load { kind: LoadKind::Plain, size: Size::Word, addr, hint: Hint::None, t: gx(w) })
}
fn store_long_modify(w: u32) -> Option<Insn> {
    let addr = long_addr(w, im14(w), long_modify(w));
    Some(Insn::Store { kind: StoreKind::Plain, size: Size::Word, r: gx(w), addr, hint: Hint::None })
}
/// Displacement with the sign in bit 0 and `len` magnitude bits from bit
/// `lsb`, scaled by `1 << shift` (PA 2.0 long forms).
fn signed_disp(w: u32, lsb: u32, len: u32, shift: u32) -> i32 {
    let mag = bits(w, lsb, len) as i32;
    (if w & 1 != 0 { mag - (1 << len) } else { mag }) << shift
}
/// PA 2.0 modify completer of the doubleword long forms: m (bit 3), a (bit 2).
fn ma_mb(w: u32) -> Modify {
    match (bit(w, 3), bit(w, 2)) {
        (true, false) => Modify::After,
        (true, true) => Modify::Before,
        _ => Modify::None,
    }
}
/// 0x14/0x1c: ldd/std (bit 1 clear) and fldd/fstd (bit 1 set), 14-bit long form.
fn long_dw(w: u32) -> Option<Insn> {
    let store = bit(w, 29);
    let addr = long_addr(w, signed_disp(w, 4, 10, 3), ma_mb(w));
    if bit(w, 1) {
        return Some(Insn::FpMem { store, dbl: true, r: Fr::new(r_x(w)), addr, hint: Hint::None });
    }
    Some(if store {
        Insn::Store { kind: StoreKind::Plain, size: Size::Double, r: gx(w), addr, hint: Hint::None }
    } else {
        Insn::Load { kind: LoadKind::Plain, size: Size::Double, addr, hint: Hint::None, t: gx(w) }
    })
}
fn fp_long_reg(w: u32) -> Fr {
    Fr { reg: r_x(w), right: bit(w, 1) }
}
/// 0x16/0x1e: fldw/fstw with modification (a = bit 2 selects before).
fn fp_long_modify(w: u32) -> Option<Insn> {
    let modify = if bit(w, 2) { Modify::Before } else { Modify::After };
    let addr = long_addr(w, signed_disp(w, 3, 11, 2), modify);
    Some(Insn::FpMem { store: bit(w, 29), dbl: false, r: fp_long_reg(w), addr, hint: Hint::None })
}
/// 0x17/0x1f: fldw/fstw without modification.
fn fp_long(w: u32) -> Option<Insn> {
    let addr = long_addr(w, signed_disp(w, 3, 11, 2), Modify::None);
    Some(Insn::FpMem { store: bit(w, 29), dbl: false, r: fp_long_reg(w), addr, hint: Hint::None })
}
/// 0x17/0x1f with bit 2: PA 2.0 ldw/stw,m[ab]; sign bit set means after.
fn wide_word_modify(w: u32) -> Addr {
    let modify = if w & 1 != 0 { Modify::After } else { Modify::Before };
    long_addr(w, signed_disp(w, 3, 11, 2), modify)
}
fn ldw_long_modify_wide(w: u32) -> Option<Insn> {
    Some(Insn::Load { kind: LoadKind::Plain, size: Size::Word, addr: wide_word_modify(w), hint: Hint::None, t: gx(w) })
}
fn stw_long_modify_wide(w: u32) -> Option<Insn> {
    Some(Insn::Store { kind: StoreKind::Plain, size: Size::Word, r: gx(w), addr: wide_word_modify(w), hint: Hint::None })
}
fn fp_reg_mem(w: u32) -> Fr {
    if bit(w, 27) {
        Fr::new(r_t(w))
    } else {
        fr_t_half(w)
    }
}
/// 0x09/0x0b indexed: fldw/fstw (whole or half register), fldd/fstd.
fn fp_index(w: u32) -> Option<Insn> {
    Some(Insn::FpMem { store: bit(w, 9), dbl: bit(w, 27), r: fp_reg_mem(w), addr: index_addr(w), hint: cache_hint(w) })
}
fn fp_short(w: u32) -> Option<Insn> {
    let addr = short_addr(w, im5_load(w));
    Some(Insn::FpMem { store: bit(w, 9), dbl: bit(w, 27), r: fp_reg_mem(w), addr, hint: cache_hint(w) })
}
/// Coprocessor loads/stores on the FP opcodes with a non-FP unit id.
fn cop_mem(w: u32) -> Option<Insn> {
    let addr = if bit(w, 12) { short_addr(w, im5_load(w)) } else { index_addr(w) };
    Some(Insn::CopMem { store: bit(w, 9), dbl: bit(w, 27), uid: bits(w, 6, 3) as u8, r: r_t(w), addr, hint: cache_hint(w) })
}

fn fstq(w: u32) -> Option<Insn> {
    let addr = if bit(w, 12) { short_addr(w, im5_load(w)) } else { index_addr(w) };
    Some(Insn::FstQuad { r: Fr::new(r_t(w)), addr })
}

// ---- branches ----------------------------------------------------------------

fn src_reg(w: u32) -> DepSource {
    DepSource::Reg(gx(w))
}
fn src_imm(w: u32) -> DepSource {
    DepSource::Imm(im5_load(w) as i8)
}
/// Compare/add-and-branch condition: c at 16..18, the opcode's bit 4 negates.
fn branch_cond(w: u32, dw: bool) -> Cond {
    Cond { c: bits(w, 13, 3) as u8, negate: bit(w, 27), dw }
}
fn cmp_branch(w: u32, cond: Cond, src: DepSource) -> Option<Insn> {
    Some(Insn::CmpBranch { cond, src, r2: gb(w), disp: disp12(w), nullify: nullify(w) })
}
fn cmpb(w: u32) -> Option<Insn> {
    cmp_branch(w, branch_cond(w, false), src_reg(w))
}
fn cmpib(w: u32) -> Option<Insn> {
    cmp_branch(w, branch_cond(w, false), src_imm(w))
}
/// 0x27/0x2f: doubleword compare; here the opcode's bit 2 negates.
fn cmpb_dw(w: u32) -> Option<Insn> {
    cmp_branch(w, Cond { c: bits(w, 13, 3) as u8, negate: bit(w, 29), dw: true }, src_reg(w))
}
/// 0x3b: PA 2.0 doubleword `cmpib`; its 3-bit condition folds in negation
/// (<<, =, <, <=, >>=, <>, >=, >).
fn cmpib_dw(w: u32) -> Option<Insn> {
    let (c, negate) = match bits(w, 13, 3) {
        0 => (4, false),
        4 => (4, true),
        c => ((c & 3) as u8, c >= 4),
    };
    cmp_branch(w, Cond { c, negate, dw: true }, src_imm(w))
}
fn add_branch(w: u32, src: DepSource) -> Option<Insn> {
    Some(Insn::AddBranch { cond: branch_cond(w, false), src, r2: gb(w), disp: disp12(w), nullify: nullify(w) })
}
fn addb(w: u32) -> Option<Insn> {
    add_branch(w, src_reg(w))
}
fn addib(w: u32) -> Option<Insn> {
    add_branch(w, src_imm(w))
}
fn mov_branch(w: u32, src: DepSource) -> Option<Insn> {
    Some(Insn::MovBranch { cond: bits(w, 13, 3) as u8, src, r2: gb(w), disp: disp12(w), nullify: nullify(w) })
}
fn movb(w: u32) -> Option<Insn> {
    mov_branch(w, src_reg(w))
}
fn movib(w: u32) -> Option<Insn> {
    mov_branch(w, src_imm(w))
}
fn bb(w: u32, pos: ShiftAmount) -> Option<Insn> {
    Some(Insn::Bb { cond: bits(w, 15, 1) as u8, dw: bit(w, 13), r: gx(w), pos, disp: disp12(w), nullify: nullify(w) })
}
fn bb_sar(w: u32) -> Option<Insn> {
    bb(w, ShiftAmount::Sar)
}
fn bb_imm(w: u32) -> Option<Insn> {
    bb(w, ShiftAmount::Fixed(r_b(w)))
}
fn be_any(w: u32, link: bool) -> Option<Insn> {
    Some(Insn::Be { link, disp: disp17(w), sr: Sr(space3(w)), base: gb(w), nullify: nullify(w) })
}
fn be(w: u32) -> Option<Insn> {
    be_any(w, false)
}
fn ble(w: u32) -> Option<Insn> {
    be_any(w, true)
}
fn branch_link(kind: LinkKind, disp: i32, link: Gr, w: u32, wide: bool) -> Option<Insn> {
    Some(Insn::BranchLink { kind, disp, link, nullify: nullify(w), wide })
}
fn bl(w: u32) -> Option<Insn> {
    branch_link(LinkKind::Plain, disp17(w), gb(w), w, false)
}
fn gate(w: u32) -> Option<Insn> {
    branch_link(LinkKind::Gate, disp17(w), gb(w), w, false)
}
fn bl_push(w: u32) -> Option<Insn> {
    branch_link(LinkKind::Push, disp22(w), Gr(2), w, true)
}
fn bl22(w: u32) -> Option<Insn> {
    branch_link(LinkKind::Plain, disp22(w), Gr(2), w, true)
}
fn blr(w: u32) -> Option<Insn> {
    Some(Insn::Blr { x: gx(w), link: gb(w), nullify: nullify(w) })
}
fn popbts(w: u32) -> Option<Insn> {
    Some(Insn::PopBts { count: bits(w, 3, 9) as u16 })
}
fn pushbts(w: u32) -> Option<Insn> {
    Some(Insn::PushBts { r: gx(w) })
}
fn bv(w: u32) -> Option<Insn> {
    Some(Insn::Bv { x: gx(w), base: gb(w), nullify: nullify(w) })
}
fn bve(w: u32) -> Option<Insn> {
    Some(Insn::Bve { link: false, stack: bit(w, 0), base: gb(w), nullify: nullify(w) })
}
fn bve_l(w: u32) -> Option<Insn> {
    Some(Insn::Bve { link: true, stack: bit(w, 0), base: gb(w), nullify: nullify(w) })
}

// ---- shift, extract, deposit -------------------------------------------------

fn shift_cond(w: u32) -> u8 {
    bits(w, 13, 3) as u8
}
/// 6-bit position of the doubleword fixed forms: bit 11 on top of bits 5..9.
fn pos6(w: u32) -> u32 {
    bits(w, 11, 1) << 5 | bits(w, 5, 5)
}
fn shrp(w: u32, dw: bool, amount: ShiftAmount) -> Option<Insn> {
    Some(Insn::Shrp { dw, cond: shift_cond(w), r1: gx(w), r2: gb(w), amount, t: gt(w) })
}
fn shrp_sar(w: u32) -> Option<Insn> {
    shrp(w, bit(w, 9), ShiftAmount::Sar)
}
fn shrpd_fixed(w: u32) -> Option<Insn> {
    shrp(w, true, ShiftAmount::Fixed(63 - pos6(w) as u8))
}
fn shrpw_fixed(w: u32) -> Option<Insn> {
    shrp(w, false, ShiftAmount::Fixed(31 - bits(w, 5, 5) as u8))
}
fn extract(w: u32, dw: bool, pos: ShiftAmount, len: u32) -> Option<Insn> {
    Some(Insn::Extract { dw, signed: bit(w, 10), cond: shift_cond(w), r: gb(w), pos, len: len as u8, t: gx(w) })
}
/// Doubleword variable length: bit 8 adds 32 to 32 - clen.
fn len_var_dw(w: u32) -> u32 {
    (bits(w, 8, 1) + 1) * 32 - bits(w, 0, 5)
}
fn extrd_sar(w: u32) -> Option<Insn> {
    extract(w, true, ShiftAmount::Sar, len_var_dw(w))
}
fn extrw_sar(w: u32) -> Option<Insn> {
    extract(w, false, ShiftAmount::Sar, 32 - bits(w, 0, 5))
}
fn extrw_fixed(w: u32) -> Option<Insn> {
    extract(w, false, ShiftAmount::Fixed(bits(w, 5, 5) as u8), 32 - bits(w, 0, 5))
}
fn extrd_fixed(w: u32) -> Option<Insn> {
    extract(w, true, ShiftAmount::Fixed(pos6(w) as u8), (bits(w, 12, 1) + 1) * 32 - bits(w, 0, 5))
}
fn deposit(w: u32, dw: bool, src: DepSource, pos: ShiftAmount, len: u32) -> Option<Insn> {
    Some(Insn::Deposit { dw, zero: !bit(w, 10), cond: shift_cond(w), src, pos, len: len as u8, t: gb(w) })
}
fn depd_sar(w: u32) -> Option<Insn> {
    deposit(w, true, src_reg(w), ShiftAmount::Sar, len_var_dw(w))
}
fn depw_sar(w: u32) -> Option<Insn> {
    deposit(w, false, src_reg(w), ShiftAmount::Sar, 32 - bits(w, 0, 5))
}
fn depw_fixed(w: u32) -> Option<Insn> {
    deposit(w, false, src_reg(w), ShiftAmount::Fixed(31 - bits(w, 5, 5) as u8), 32 - bits(w, 0, 5))
}
fn depdi_sar(w: u32) -> Option<Insn> {
    deposit(w, true, src_imm(w), ShiftAmount::Sar, len_var_dw(w))
}
fn depwi_sar(w: u32) -> Option<Insn> {
    deposit(w, false, src_imm(w), ShiftAmount::Sar, 32 - bits(w, 0, 5))
}
fn depwi_fixed(w: u32) -> Option<Insn> {
    deposit(w, false, src_imm(w), ShiftAmount::Fixed(31 - bits(w, 5, 5) as u8), 32 - bits(w, 0, 5))
}
fn depd_fixed_len(w: u32) -> u32 {
    (bits(w, 12, 1) + 1) * 32 - bits(w, 0, 5)
}
fn depd_fixed(w: u32) -> Option<Insn> {
    deposit(w, true, src_reg(w), ShiftAmount::Fixed(63 - pos6(w) as u8), depd_fixed_len(w))
}
fn depdi_fixed(w: u32) -> Option<Insn> {
    deposit(w, true, src_imm(w), ShiftAmount::Fixed(63 - pos6(w) as u8), depd_fixed_len(w))
}

// ---- PA 2.0 multimedia (0x3e) ------------------------------------------------

fn hshl(w: u32) -> Option<Insn> {
    Some(Insn::Hshift { left: true, signed: false, r: gx(w), sa: bits(w, 6, 4) as u8, t: gt(w) })
}
fn hshr(w: u32) -> Option<Insn> {
    Some(Insn::Hshift { left: false, signed: bit(w, 10), r: gb(w), sa: bits(w, 6, 4) as u8, t: gt(w) })
}
fn mix(w: u32) -> Option<Insn> {
    Some(Insn::Mix { word: !bit(w, 10), right: bit(w, 14), r1: gx(w), r2: gb(w), t: gt(w) })
}
fn permh(w: u32) -> Option<Insn> {
    let order = [bits(w, 13, 2) as u8, bits(w, 10, 2) as u8, bits(w, 8, 2) as u8, bits(w, 6, 2) as u8];
    Some(Insn::Permh { order, r: gb(w), t: gt(w) })
}

// ---- assists and coprocessors ------------------------------------------------

/// spop0..3: the operation bits are gathered as objdump prints them.
fn spop(w: u32) -> Option<Insn> {
    let kind = bits(w, 9, 2) as u8;
    let op = match kind {
        0 => bits(w, 11, 15) << 5 | bits(w, 0, 5),
        1 => bits(w, 11, 15),
        2 => bits(w, 11, 10) << 5 | bits(w, 0, 5),
        _ => bits(w, 11, 5) << 5 | bits(w, 0, 5),
    };
    Some(Insn::Spop { kind, sfu: bits(w, 6, 3) as u8, op, nullify: bit(w, 5), r1: gx(w), r2: gb(w), t: gt(w) })
}
fn copr(w: u32) -> Option<Insn> {
    Some(Insn::Copr { uid: bits(w, 6, 3) as u8, op: bits(w, 9, 17) << 5 | bits(w, 0, 5), nullify: bit(w, 5) })
}

// ---- floating point ----------------------------------------------------------

/// Register at manual bits 6..10 with its half bit (0x0c: bit 6; 0x0e: bit 7).
fn fr_a(w: u32, half_bit: u32) -> Fr {
    Fr { reg: r_b(w), right: bit(w, half_bit) }
}
fn fp_sub(w: u32) -> u32 {
    bits(w, 13, 3)
}
fn fbin(w: u32, enc: FpEnc, fmt: FpFmt, r1: Fr, r2: Fr) -> Option<Insn> {
    let op = match fp_sub(w) {
        0 => FpBinOp::Add,
        1 => FpBinOp::Sub,
        2 => FpBinOp::Mpy,
        3 => FpBinOp::Div,
        4 => FpBinOp::Rem,
        _ => return None,
    };
    Some(Insn::FpBinary { op, enc, fmt, r1, r2, t: fr_t_half(w) })
}
fn fbin_0c(w: u32) -> Option<Insn> {
    fbin(w, FpEnc::Op0c, fp_fmt(bits(w, 11, 2)), Fr::new(r_b(w)), Fr::new(r_x(w)))
}
/// 0x0e: halves in bits 7 (r1), 12 (r2), 6 (t); `frem` reads a 2-bit format.
fn fbin_0e(w: u32) -> Option<Insn> {
    let fmt = if fp_sub(w) == 4 { bits(w, 11, 2) } else { bits(w, 11, 1) };
    fbin(w, FpEnc::Op0e, fp_fmt(fmt), fr_a(w, 7), Fr { reg: r_x(w), right: bit(w, 12) })
}
fn fun(w: u32, enc: FpEnc, r: Fr) -> Option<Insn> {
    let (op, wide_fmt) = match fp_sub(w) {
        2 => (FpUnOp::Cpy, true),
        3 => (FpUnOp::Abs, true),
        4 => (FpUnOp::Sqrt, true),
        5 => (FpUnOp::Rnd, true),
        6 => (FpUnOp::Neg, false),
        7 => (FpUnOp::NegAbs, false),
        _ => return None,
    };
    let fmt = if wide_fmt || enc == FpEnc::Op0c { bits(w, 11, 2) } else { bits(w, 11, 1) };
    Some(Insn::FpUnary { op, enc, fmt: fp_fmt(fmt), r, t: fr_t_half(w) })
}
fn fun_0c(w: u32) -> Option<Insn> {
    fun(w, FpEnc::Op0c, Fr::new(r_b(w)))
}
fn fun_0e(w: u32) -> Option<Insn> {
    fun(w, FpEnc::Op0e, fr_a(w, 7))
}
fn fcnv_kind(sub: u32) -> FcnvKind {
    match sub & 3 {
        0 => FcnvKind::FloatFloat,
        1 => FcnvKind::FixFloat,
        2 => FcnvKind::FloatFix,
        _ => FcnvKind::FloatFixTrunc,
    }
}
fn fcnv_0c(w: u32) -> Option<Insn> {
    let (src, dst) = (fp_fmt(bits(w, 11, 2)), fp_fmt(bits(w, 13, 2)));
    Some(Insn::Fcnv { kind: fcnv_kind(bits(w, 15, 2)), enc: FpEnc::Op0c, src, dst, r: Fr::new(r_b(w)), t: Fr::new(r_t(w)) })
}
fn fcnv_wide_0c(w: u32) -> Option<Insn> {
    let (src, dst) = (fp_fmt(bits(w, 11, 2)), fp_fmt(bits(w, 13, 2)));
    Some(Insn::FcnvWide { sub: bits(w, 15, 3) as u8, enc: FpEnc::Op0c, src, dst, r: fr_a(w, 6), t: fr_t_half(w) })
}
fn fcnv_0e(w: u32) -> Option<Insn> {
    let (src, dst) = (fp_fmt(bits(w, 11, 2)), fp_fmt(bits(w, 13, 2)));
    let (r, t) = (fr_a(w, 7), fr_t_half(w));
    let sub = bits(w, 15, 3);
    if sub < 4 {
        Some(Insn::Fcnv { kind: fcnv_kind(sub), enc: FpEnc::Op0e, src, dst, r, t })
    } else {
        Some(Insn::FcnvWide { sub: sub as u8, enc: FpEnc::Op0e, src, dst, r, t })
    }
}
fn fcmp_0c(w: u32) -> Option<Insn> {
    let fmt = fp_fmt(bits(w, 11, 2));
    Some(Insn::Fcmp { enc: FpEnc::Op0c, fmt, cond: r_t(w), r1: Fr::new(r_b(w)), r2: Fr::new(r_x(w)), cbit: fp_sub(w) as u8 })
}
fn fcmp_0e(w: u32) -> Option<Insn> {
    let fmt = fp_fmt(bits(w, 11, 1));
    let r2 = Fr { reg: r_x(w), right: bit(w, 12) };
    Some(Insn::Fcmp { enc: FpEnc::Op0e, fmt, cond: r_t(w), r1: fr_a(w, 7), r2, cbit: fp_sub(w) as u8 })
}
fn ftest(_: u32) -> Option<Insn> {
    Some(Insn::Ftest { cond: 0, queue: None })
}
fn ftest_cond(w: u32) -> Option<Insn> {
    Some(Insn::Ftest { cond: r_t(w), queue: None })
}
fn ftest_queue(w: u32) -> Option<Insn> {
    Some(Insn::Ftest { cond: 0, queue: Some(fp_sub(w) as u8) })
}
fn fid(_: u32) -> Option<Insn> {
    Some(Insn::Fid)
}
fn pmenb(_: u32) -> Option<Insn> {
    Some(Insn::Pmenb)
}
fn xmpyu(w: u32) -> Option<Insn> {
    Some(Insn::Xmpyu { r1: fr_a(w, 7), r2: Fr { reg: r_x(w), right: bit(w, 12) }, t: fr_t_half(w) })
}
/// fmpyadd/fmpysub operand: single precision names fr16..fr31 with the
/// field's top bit selecting the right half (PA-RISC 1.1 manual, FMPYADD).
fn fmpy_reg(v: u32, dbl: bool) -> Fr {
    if dbl {
        Fr::new(v as u8)
    } else {
        Fr { reg: 16 + (v & 15) as u8, right: v & 16 != 0 }
    }
}
fn fmpy_addsub(w: u32, sub: bool) -> Option<Insn> {
    let dbl = !bit(w, 5);
    Some(Insn::FmpyAddSub {
        sub,
        dbl,
        rm1: fmpy_reg(bits(w, 21, 5), dbl),
        rm2: fmpy_reg(bits(w, 16, 5), dbl),
        tm: fmpy_reg(bits(w, 0, 5), dbl),
        ra: fmpy_reg(bits(w, 6, 5), dbl),
        ta: fmpy_reg(bits(w, 11, 5), dbl),
    })
}
fn fmpyadd(w: u32) -> Option<Insn> {
    fmpy_addsub(w, false)
}
fn fmpysub(w: u32) -> Option<Insn> {
    fmpy_addsub(w, true)
}
/// PA 2.0 fmpyfadd: the third operand's register is split over bits 13..15 and 9..10.
fn fmac(w: u32) -> Option<Insn> {
    let ra = Fr { reg: (bits(w, 13, 3) << 2 | bits(w, 9, 2)) as u8, right: bit(w, 8) };
    Some(Insn::Fmac {
        negate: bit(w, 5),
        dbl: bit(w, 11),
        r1: fr_a(w, 7),
        r2: Fr { reg: r_x(w), right: bit(w, 12) },
        ra,
        t: fr_t_half(w),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        for e in TABLE {
            assert_eq!(e.value & !e.mask, 0);
        }
        let covered: usize = INDEX.iter().map(|(s, e)| (e - s) as usize).sum();
        assert_eq!(covered, TABLE.len());
    }

    #[test]
    fn decodes_common_words() {
        assert_eq!(
            decode(0x6bc23fd9),
            Ok(Insn::Store {
                kind: StoreKind::Plain,
                size: Size::Word,
                r: Gr(2),
                addr: Addr::Disp { disp: -20, base: Gr(30), space: Space::Implicit, modify: Modify::None, form: DispForm::Long },
                hint: Hint::None
            })
        );
        assert_eq!(decode(0x08000240), Ok(Insn::Alu { op: AluOp::Or, cond: Cond::NEVER, r1: Gr(0), r2: Gr(0), t: Gr(0) }));
        assert!(decode(0x00000040).is_err());
    }

    #[test]
    fn decodes_pa20_branch_target_stack_and_havg() {
        assert_eq!(decode(0xe8004005), Ok(Insn::PopBts { count: 0 }));
        assert_eq!(decode(0xe8004ff5), Ok(Insn::PopBts { count: 0x1fe }));
        assert_eq!(decode(0xe8004001), Ok(Insn::PushBts { r: Gr(0) }));
        assert_eq!(decode(0xe8124001), Ok(Insn::PushBts { r: Gr(18) }));
        assert!(decode(0xe8004003).is_err());
        assert!(decode(0xe8204001).is_err());
        let never = Cond::NEVER;
        assert_eq!(decode(0x088342c0), Ok(Insn::Havg { cond: Cond { c: 2, ..never }, r1: Gr(3), r2: Gr(4), t: Gr(0) }));
    }
}
