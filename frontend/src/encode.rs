//! Instruction encoding: the inverse of [`decode`](crate::decode()).
//!
//! One small function per family builds the word from the [`Insn`]'s fields
//! through the inverse extractors of [`fields`](crate::fields), with every
//! field range-checked. Where the decoder maps several words to one `Insn`,
//! any of them is a correct answer (the encoder picks the canonical one, free
//! bits zero). Some `Insn` values have no word at all: combinations the
//! decode table never produces, such as `add,c,l` or a reserved format that
//! a family cannot express; for those [`EncodeError::Unencodable`] is
//! returned. The word is always decoded again and compared before it is
//! returned, so `encode` never hands back a word that means something else.

use crate::decode::decode;
use crate::fields::*;
use crate::insn::*;

/// An [`Insn`] that has no instruction word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A field's value does not fit its place in the encoding.
    #[error("{field} = {value} is out of range for the encoding")]
    OutOfRange { field: &'static str, value: i64 },
    /// The combination of operands has no encoding (no word decodes to it).
    #[error("no instruction word decodes to {0:?}")]
    Unencodable(Insn),
}

type Enc = Result<u32, EncodeError>;

/// Encodes one instruction: `decode(encode(&i)?) == Ok(i)`.
pub fn encode(insn: &Insn) -> Result<u32, EncodeError> {
    check(insn, family(insn)?)
}

/// Accepts `word` only if it decodes back to `insn`.
fn check(insn: &Insn, word: u32) -> Enc {
    match decode(word) {
        Ok(back) if back == *insn => Ok(word),
        _ => Err(EncodeError::Unencodable(*insn)),
    }
}

/// The first candidate word that decodes back to `insn` (for the `Insn`s
/// that several encodings can express, each with its own range).
fn first_fit(insn: &Insn, candidates: impl IntoIterator<Item = Enc>) -> Enc {
    let mut last = Err(EncodeError::Unencodable(*insn));
    for candidate in candidates {
        last = candidate.and_then(|w| check(insn, w));
        if last.is_ok() {
            break;
        }
    }
    last
}

fn family(insn: &Insn) -> Enc {
    match *insn {
        Insn::Break { .. }
        | Insn::Sync { .. }
        | Insn::Rfi { .. }
        | Insn::SysMask { .. }
        | Insn::Mtsm { .. }
        | Insn::Ldsid { .. }
        | Insn::Mtsp { .. }
        | Insn::Mtctl { .. }
        | Insn::Mtsarcm { .. }
        | Insn::Mfia { .. }
        | Insn::Mfsp { .. }
        | Insn::Mfctl { .. } => system(insn),
        Insn::Probe { .. }
        | Insn::LoadTranslation { .. }
        | Insn::Cache { .. }
        | Insn::FdcImm { .. }
        | Insn::TlbInsert { .. }
        | Insn::TlbInsertT { .. } => memory_management(insn),
        Insn::Diag { imm } => Ok(op(0x05) | uimm(imm, 26, "diag")?),
        Insn::Alu { op, cond, r1, r2, t } => alu(op, cond, r1, r2, t),
        Insn::Half { op, r1, r2, t } => half(op, r1, r2, t),
        Insn::Havg { cond, r1, r2, t: rt } => Ok(op(0x02) | b(r2)? | x(r1)? | cond_cfd(cond)? | 0x0b << 6 | t(rt)?),
        Insn::AluImm { op, cond, imm, r, t } => alu_imm(op, cond, imm, r, t),
        Insn::Ldil { imm, t } => Ok(op(0x08) | b(t)? | imm21_checked(imm)?),
        Insn::Addil { imm, r } => Ok(op(0x0a) | b(r)? | imm21_checked(imm)?),
        Insn::Ldo { disp, base, t } => Ok(op(0x0d) | b(base)? | x(t)? | im16_field(disp)?),
        Insn::Load { kind, size, addr, hint, t } => load(insn, kind, size, addr, hint, t),
        Insn::Store { kind, size, r, addr, hint } => store(insn, kind, size, r, addr, hint),
        Insn::StoreBytes { dw, end, modify, r, disp, space, base, hint } => {
            let ext4 = if dw { 13 } else { 12 };
            Ok(op(0x03)
                | b(base)?
                | x(r)?
                | space2(space)?
                | flag(end, 13)
                | 1 << 12
                | hint_field(hint)
                | ext4 << 6
                | flag(modify, 5)
                | low_sign(disp.into(), 5, "displacement")?)
        }
        Insn::FpMem { store, dbl, r, addr, hint } => fp_mem(store, dbl, r, addr, hint),
        Insn::CopMem { store, dbl, uid, r, addr, hint } => {
            let major = if dbl { 0x0b } else { 0x09 };
            Ok(op(major)
                | mem_0x03(addr, 16)?
                | hint_field(hint)
                | flag(store, 9)
                | uimm(uid.into(), 3, "uid")? << 6
                | t(Gr(r))?)
        }
        Insn::FstQuad { r, addr } => Ok(op(0x0f) | mem_0x03(addr, 16)? | 0x8 << 6 | whole(r)?),
        Insn::BranchLink { .. }
        | Insn::Blr { .. }
        | Insn::Bv { .. }
        | Insn::Bve { .. }
        | Insn::Be { .. }
        | Insn::CmpBranch { .. }
        | Insn::AddBranch { .. }
        | Insn::Bb { .. }
        | Insn::MovBranch { .. }
        | Insn::PopBts { .. }
        | Insn::PushBts { .. } => branch(insn),
        Insn::Shrp { .. } | Insn::Extract { .. } | Insn::Deposit { .. } => shift(insn),
        Insn::Spop { kind, sfu, op: bits_, nullify, r1, r2, t: rt } => spop(kind, sfu, bits_, nullify, r1, r2, rt),
        Insn::Copr { uid, op: bits_, nullify } => {
            let bits_ = uimm(bits_, 22, "copr op")?;
            Ok(op(0x0c) | (bits_ >> 5) << 9 | (bits_ & 31) | uimm(uid.into(), 3, "uid")? << 6 | flag(nullify, 5))
        }
        Insn::FpUnary { .. }
        | Insn::FpBinary { .. }
        | Insn::Fcnv { .. }
        | Insn::FcnvWide { .. }
        | Insn::Fcmp { .. }
        | Insn::Ftest { .. }
        | Insn::Fid
        | Insn::Pmenb
        | Insn::Xmpyu { .. }
        | Insn::FmpyAddSub { .. }
        | Insn::Fmac { .. } => float(insn),
        Insn::Permh { order, r, t: rt } => {
            let sel = |i: usize| uimm(order[i].into(), 2, "permh selector");
            Ok(op(0x3e) | b(r)? | sel(0)? << 13 | sel(1)? << 10 | sel(2)? << 8 | sel(3)? << 6 | t(rt)?)
        }
        Insn::Hshift { left, signed, r, sa, t: rt } => {
            let sa = uimm(sa.into(), 4, "shift amount")? << 6;
            Ok(if left {
                op(0x3e) | x(r)? | 0b10 << 14 | 1 << 11 | flag(signed, 10) | sa | t(rt)?
            } else {
                op(0x3e) | b(r)? | 0b11 << 14 | 1 << 11 | flag(signed, 10) | sa | t(rt)?
            })
        }
        Insn::Mix { word, right, r1, r2, t: rt } => {
            Ok(op(0x3e) | b(r2)? | x(r1)? | 1 << 15 | flag(right, 14) | flag(!word, 10) | t(rt)?)
        }
    }
}

// ---- field helpers -----------------------------------------------------------

fn op(major: u32) -> u32 {
    major << 26
}
fn flag(set: bool, lsb: u32) -> u32 {
    u32::from(set) << lsb
}
fn out_of_range(field: &'static str, value: impl Into<i64>) -> EncodeError {
    EncodeError::OutOfRange { field, value: value.into() }
}
/// An unsigned field of `len` bits.
fn uimm(v: u32, len: u32, field: &'static str) -> Enc {
    if v >> len == 0 {
        Ok(v)
    } else {
        Err(out_of_range(field, v))
    }
}
/// A register number (general, floating-point, space or control) of 5 bits.
fn reg(r: u8) -> Enc {
    uimm(r.into(), 5, "register")
}
fn b(r: Gr) -> Enc {
    Ok(reg(r.0)? << 21)
}
fn x(r: Gr) -> Enc {
    Ok(reg(r.0)? << 16)
}
fn t(r: Gr) -> Enc {
    reg(r.0)
}
/// A floating-point register at manual bits 6..10 with its half bit.
fn fr_b(r: Fr, half_bit: u32) -> Enc {
    Ok(reg(r.reg)? << 21 | flag(r.right, half_bit))
}
fn fr_x(r: Fr, half_bit: u32) -> Enc {
    Ok(reg(r.reg)? << 16 | flag(r.right, half_bit))
}
fn fr_t(r: Fr, half_bit: u32) -> Enc {
    Ok(reg(r.reg)? | flag(r.right, half_bit))
}
/// A floating-point register in a field that cannot name a half.
fn whole(r: Fr) -> Enc {
    if r.right {
        return Err(out_of_range("right half of register", r.reg));
    }
    reg(r.reg)
}
/// A signed value in the manual's low-sign form (sign in the lowest bit).
fn low_sign(v: i32, len: u32, field: &'static str) -> Enc {
    let half = 1i64 << (len - 1);
    if (-half..half).contains(&i64::from(v)) {
        Ok(low_sign_field(v, len))
    } else {
        Err(out_of_range(field, v))
    }
}
/// Inverse of the decoder's PA 2.0 `signed_disp`: sign in bit 0, `len`
/// magnitude bits at `lsb`, scaled by `1 << shift`.
fn scaled_disp(d: i32, lsb: u32, len: u32, shift: u32) -> Enc {
    let q = d >> shift;
    if q << shift != d || !(-(1i32 << len)..(1i32 << len)).contains(&q) {
        return Err(out_of_range("displacement", d));
    }
    Ok(((q as u32) & ((1 << len) - 1)) << lsb | u32::from(q < 0))
}
/// A branch displacement of `len` word bits (given in bytes).
fn branch_disp(d: i32, len: u32, field: fn(i32) -> u32) -> Enc {
    let limit = 1i64 << (len + 1);
    if d % 4 != 0 || !(-limit..limit).contains(&i64::from(d)) {
        return Err(out_of_range("branch displacement", d));
    }
    Ok(field(d))
}
fn imm21_checked(v: u32) -> Enc {
    if v & 0x7ff != 0 {
        return Err(out_of_range("L% immediate", v));
    }
    Ok(imm21_field(v))
}
/// Inverse of the decoder's PA 2.0 16-bit `ldo` displacement.
fn im16_field(d: i32) -> Enc {
    if !(-0x8000..0x8000).contains(&d) {
        return Err(out_of_range("displacement", d));
    }
    let v = d as u32;
    let s = bits(v, 15, 1);
    Ok(s | bits(v, 0, 13) << 1 | (s ^ bits(v, 13, 1)) << 14 | (s ^ bits(v, 14, 1)) << 15)
}
/// The 2-bit space field (`s` = 0 is the implicit space, so `sr0` has no spelling).
fn space2(s: Space) -> Enc {
    match s {
        Space::Implicit => Ok(0),
        Space::Sr(Sr(n @ 1..=3)) => Ok(u32::from(n) << 14),
        Space::Sr(Sr(n)) => Err(out_of_range("2-bit space register", n)),
    }
}
/// The 3-bit space field (always explicit).
fn space3(s: Space) -> Enc {
    match s {
        Space::Sr(Sr(n @ 0..=7)) => Ok(space3_field(n)),
        Space::Sr(Sr(n)) => Err(out_of_range("3-bit space register", n)),
        Space::Implicit => Err(out_of_range("3-bit space register", -1)),
    }
}
fn sr3(sr: Sr) -> Enc {
    space3(Space::Sr(sr))
}
/// Arithmetic condition: c at manual 16..18, f at 19, d at 26.
fn cond_cfd(c: Cond) -> Enc {
    Ok(uimm(c.c.into(), 3, "condition")? << 13 | flag(c.negate, 12) | flag(c.dw, 5))
}
/// 3-bit condition at manual 16..18 (shift, extract, movb).
fn cond3(c: u8) -> Enc {
    Ok(uimm(c.into(), 3, "condition")? << 13)
}
fn hint_field(h: Hint) -> u32 {
    let cc = match h {
        Hint::None => 0,
        Hint::Bc => 1,
        Hint::Sl => 2,
        Hint::Reserved => 3,
    };
    cc << 10
}
fn fmt_bits(f: FpFmt) -> u32 {
    match f {
        FpFmt::Sgl => 0,
        FpFmt::Dbl => 1,
        FpFmt::Reserved => 2,
        FpFmt::Quad => 3,
    }
}

// ---- address forms -----------------------------------------------------------

/// The address of the 0x03/0x09/0x0b/0x0f forms: `x(s,b)` (bit 12 clear) or
/// a 5-bit `disp(s,b)` (bit 12 set) whose displacement sits at `disp_lsb`.
fn mem_0x03(addr: Addr, disp_lsb: u32) -> Enc {
    match addr {
        Addr::Index { index, base, space, scale, modify } => {
            Ok(b(base)? | x(index)? | space2(space)? | flag(scale, 13) | flag(modify, 5))
        }
        Addr::Disp { disp, base, space, modify, form: DispForm::Short } => {
            let m = match modify {
                Modify::None => 0,
                Modify::After => 1 << 5,
                Modify::Before => 1 << 5 | 1 << 13,
            };
            Ok(b(base)? | space2(space)? | 1 << 12 | m | low_sign(disp, 5, "displacement")? << disp_lsb)
        }
        Addr::Disp { form: DispForm::Long, disp, .. } => Err(out_of_range("short displacement", disp)),
    }
}
/// PA 2.0 doubleword long form (0x14/0x1c): displacement scaled by 8, `,ma`/`,mb`
/// in bits 3 and 2, bit 1 set for the floating-point forms.
fn long_dw(major: u32, r: u8, fp: bool, disp: i32, base: Gr, space: Space, modify: Modify) -> Enc {
    let m = match modify {
        Modify::None => 0,
        Modify::After => 1 << 3,
        Modify::Before => 3 << 2,
    };
    Ok(op(major) | b(base)? | reg(r)? << 16 | space2(space)? | scaled_disp(disp, 4, 10, 3)? | m | flag(fp, 1))
}
/// Word access with base modification: `ldwm`/`stwm` (14-bit, the direction
/// read from the displacement's top bit) or PA 2.0 `ldw,ma`/`ldw,mb` (0x17/0x1f).
fn word_modify(insn: &Insn, pa11: u32, pa20: u32, r: Gr, disp: i32, base: Gr, space: Space) -> Enc {
    let common = || Ok::<u32, EncodeError>(b(base)? | x(r)? | space2(space)?);
    first_fit(
        insn,
        [
            low_sign(disp, 14, "displacement").and_then(|f| Ok(op(pa11) | common()? | f)),
            scaled_disp(disp, 3, 11, 2).and_then(|f| Ok(op(pa20) | common()? | f | 1 << 2)),
        ],
    )
}
fn long_size_op(base: u32, size: Size) -> Option<u32> {
    match size {
        Size::Byte => Some(base),
        Size::Half => Some(base + 1),
        Size::Word => Some(base + 2),
        Size::Double => None,
    }
}

// ---- system control and memory management (0x00, 0x01) -----------------------

fn system(insn: &Insn) -> Enc {
    let w = match *insn {
        Insn::Break { im5, im13 } => uimm(im13.into(), 13, "im13")? << 13 | reg(im5)?,
        Insn::Sync { dma } => 1 << 10 | flag(dma, 20),
        Insn::Rfi { ext } => 3 << 10 | uimm(ext.into(), 3, "rfi ext")? << 5,
        Insn::SysMask { set, imm, t: rt } => {
            let ext4 = if set { 0b0101 } else { 0b1001 };
            uimm(imm.into(), 10, "system mask")? << 16 | 3 << 10 | ext4 << 6 | 1 << 5 | t(rt)?
        }
        Insn::Mtsm { r } => x(r)? | 1 << 12 | 2 << 10 | 1 << 6 | 1 << 5,
        Insn::Ldsid { space, base, t: rt } => b(base)? | space2(space)? | 1 << 12 | 2 << 6 | 1 << 5 | t(rt)?,
        Insn::Mtsp { r, sr } => x(r)? | sr3(sr)? | 1 << 12 | 2 << 10 | 1 << 5,
        Insn::Mtctl { r, cr } => reg(cr.0)? << 21 | x(r)? | 1 << 12 | 2 << 10 | 1 << 6,
        Insn::Mtsarcm { r } => 11 << 21 | x(r)? | 1 << 12 | 2 << 10 | 3 << 6,
        Insn::Mfia { t: rt } => 1 << 12 | 1 << 10 | 2 << 6 | 1 << 5 | t(rt)?,
        Insn::Mfsp { sr, t: rt } => sr3(sr)? | 1 << 10 | 2 << 6 | 1 << 5 | t(rt)?,
        Insn::Mfctl { cr, t: rt, wide } => {
            let s = if wide { 1 << 14 } else { 0 };
            reg(cr.0)? << 21 | s | 2 << 10 | 2 << 6 | 1 << 5 | t(rt)?
        }
        _ => unreachable!("system() called on {insn:?}"),
    };
    Ok(op(0x00) | w)
}

fn memory_management(insn: &Insn) -> Enc {
    let w = match *insn {
        Insn::Probe { write, imm, level, space, base, t: rt } => {
            b(base)? | reg(level)? << 16 | space2(space)? | flag(imm, 13) | 1 << 12 | 3 << 7 | flag(write, 6) | t(rt)?
        }
        Insn::LoadTranslation { coherence, index, space, base, modify, t: rt } => {
            let ext4 = if coherence { 0b1100 } else { 0b1101 };
            b(base)? | x(index)? | space2(space)? | 1 << 12 | ext4 << 6 | flag(modify, 5) | t(rt)?
        }
        Insn::Cache { op: cop, index, space, base, modify, local } => {
            // (ext4, cc, whether the form takes the 3-bit space with bit 12 clear)
            let (ext4, cc, sr3_form) = match (cop, space) {
                (CacheOp::Pdtlb, _) => (0b1000, 0, false),
                (CacheOp::Pitlb, _) => (0b1000, 0, true),
                (CacheOp::Pdtlbe, _) => (0b1001, 0, false),
                (CacheOp::Pitlbe, _) => (0b1001, 0, true),
                (CacheOp::Pdc, _) => (0b1110, 0, false),
                (CacheOp::Fdc, _) => (0b1010, 0, false),
                (CacheOp::Fic, Space::Implicit) => (0b1111, 0, false),
                (CacheOp::Fic, _) => (0b1010, 0, true),
                (CacheOp::Fdce, _) => (0b1011, 0, false),
                (CacheOp::Fice, _) => (0b1011, 0, true),
                (CacheOp::Gfw, _) => (0b1010, 1, false),
                (CacheOp::Gfr, _) => (0b1010, 2, false),
            };
            let s = if sr3_form { space3(space)? } else { space2(space)? | 1 << 12 };
            b(base)? | x(index)? | s | cc << 10 | flag(local, 10) | ext4 << 6 | flag(modify, 5)
        }
        Insn::FdcImm { disp, space, base } => {
            b(base)? | low_sign(disp.into(), 5, "displacement")? << 16 | space2(space)? | 3 << 12 | 0b1010 << 6
        }
        Insn::TlbInsert { op: top, r, space, base } => {
            let (ext4, sr3_form) = match top {
                TlbInsertOp::Idtlba => (1, false),
                TlbInsertOp::Iitlba => (1, true),
                TlbInsertOp::Idtlbp => (0, false),
                TlbInsertOp::Iitlbp => (0, true),
            };
            let s = if sr3_form { space3(space)? } else { space2(space)? | 1 << 12 };
            b(base)? | x(r)? | s | ext4 << 6
        }
        Insn::TlbInsertT { data, r1, r2 } => b(r2)? | x(r1)? | flag(data, 12) | 2 << 10,
        _ => unreachable!("memory_management() called on {insn:?}"),
    };
    Ok(op(0x01) | w)
}

// ---- arithmetic and logical --------------------------------------------------

fn alu(aop: AluOp, cond: Cond, r1: Gr, r2: Gr, rt: Gr) -> Enc {
    let unencodable = || Err(EncodeError::Unencodable(Insn::Alu { op: aop, cond, r1, r2, t: rt }));
    // ext6 = cc (manual bits 20..21) · ext4 (22..25).
    let ext6: u32 = match aop {
        AluOp::Add { shift, carry, logical, trap_overflow } => {
            let mode = match (logical, trap_overflow) {
                (false, false) => 1,
                (true, false) if !carry => 2,
                (false, true) => 3,
                _ => return unencodable(),
            };
            match (shift, carry) {
                (0, true) => mode << 4 | 0b1100,
                (0..=3, false) => mode << 4 | 0b1000 | u32::from(shift),
                _ => return unencodable(),
            }
        }
        AluOp::Sub { borrow, trap_overflow, trap_cond } => {
            let ext4 = match (borrow, trap_cond) {
                (false, false) => 0b0000,
                (true, false) => 0b0100,
                (false, true) => 0b0011,
                (true, true) => return unencodable(),
            };
            (0b01 | u32::from(trap_overflow) << 1) << 4 | ext4
        }
        AluOp::Ds => 0x11,
        AluOp::Cmpclr => 0x22,
        AluOp::Or => 0x09,
        AluOp::Xor => 0x0a,
        AluOp::And => 0x08,
        AluOp::Andcm => 0x00,
        AluOp::Uxor => 0x0e,
        AluOp::Uaddcm { trap_cond } => 0x26 | u32::from(trap_cond),
        AluOp::Dcor { intermediate } => 0x2e | u32::from(intermediate),
    };
    Ok(op(0x02) | b(r2)? | x(r1)? | cond_cfd(cond)? | ext6 << 6 | t(rt)?)
}

fn half(hop: HalfOp, r1: Gr, r2: Gr, rt: Gr) -> Enc {
    let (ext6, sub) = match hop {
        HalfOp::Hadd { sat } => (0b00_1100, sat),
        HalfOp::Hsub { sat } => (0b00_0100, sat),
        HalfOp::Hshladd { sa } => (0b01_1100, sa),
        HalfOp::Hshradd { sa } => (0b01_0100, sa),
    };
    let sub = uimm(sub.into(), 2, "halfword sub-operation")?;
    Ok(op(0x02) | b(r2)? | x(r1)? | (ext6 | sub) << 6 | t(rt)?)
}

fn alu_imm(aop: AluImmOp, cond: Cond, imm: i32, r: Gr, rt: Gr) -> Enc {
    let (major, bit11) = match aop {
        AluImmOp::Addi { trap_overflow, trap_cond } => (if trap_cond { 0x2c } else { 0x2d }, trap_overflow),
        AluImmOp::Subi { trap_overflow } => (0x25, trap_overflow),
        AluImmOp::Cmpiclr => (0x24, cond.dw),
    };
    let c = uimm(cond.c.into(), 3, "condition")? << 13 | flag(cond.negate, 12);
    Ok(op(major) | b(r)? | x(rt)? | c | flag(bit11, 11) | low_sign(imm, 11, "immediate")?)
}

// ---- loads and stores --------------------------------------------------------

fn load_ext4(kind: LoadKind, size: Size) -> Option<u32> {
    Some(match (kind, size) {
        (LoadKind::Plain, Size::Byte) => 0,
        (LoadKind::Plain, Size::Half) => 1,
        (LoadKind::Plain, Size::Word) => 2,
        (LoadKind::Plain, Size::Double) => 3,
        (LoadKind::Absolute, Size::Double) => 4,
        (LoadKind::AndClear, Size::Double) => 5,
        (LoadKind::Absolute, Size::Word) => 6,
        (LoadKind::AndClear, Size::Word) => 7,
        _ => return None,
    })
}

fn load(insn: &Insn, kind: LoadKind, size: Size, addr: Addr, hint: Hint, rt: Gr) -> Enc {
    let unencodable = Err(EncodeError::Unencodable(*insn));
    match addr {
        Addr::Disp { disp, base, space, modify, form: DispForm::Long } => match (kind, size, modify) {
            (LoadKind::Plain, Size::Double, _) => long_dw(0x14, rt.0, false, disp, base, space, modify),
            (LoadKind::Plain, _, Modify::None) => match long_size_op(0x10, size) {
                Some(major) => Ok(op(major) | b(base)? | x(rt)? | space2(space)? | low_sign(disp, 14, "displacement")?),
                None => unencodable,
            },
            (LoadKind::Plain, Size::Word, _) => word_modify(insn, 0x13, 0x17, rt, disp, base, space),
            _ => unencodable,
        },
        _ => match load_ext4(kind, size) {
            Some(ext4) => Ok(op(0x03) | mem_0x03(addr, 16)? | hint_field(hint) | ext4 << 6 | t(rt)?),
            None => unencodable,
        },
    }
}

fn store(insn: &Insn, kind: StoreKind, size: Size, r: Gr, addr: Addr, hint: Hint) -> Enc {
    let unencodable = Err(EncodeError::Unencodable(*insn));
    match addr {
        Addr::Disp { disp, base, space, modify, form: DispForm::Long } => match (kind, size, modify) {
            (StoreKind::Plain, Size::Double, _) => long_dw(0x1c, r.0, false, disp, base, space, modify),
            (StoreKind::Plain, _, Modify::None) => match long_size_op(0x18, size) {
                Some(major) => Ok(op(major) | b(base)? | x(r)? | space2(space)? | low_sign(disp, 14, "displacement")?),
                None => unencodable,
            },
            (StoreKind::Plain, Size::Word, _) => word_modify(insn, 0x1b, 0x1f, r, disp, base, space),
            _ => unencodable,
        },
        Addr::Disp { form: DispForm::Short, .. } => {
            let ext4 = match (kind, size) {
                (StoreKind::Plain, Size::Byte) => 8,
                (StoreKind::Plain, Size::Half) => 9,
                (StoreKind::Plain, Size::Word) => 10,
                (StoreKind::Plain, Size::Double) => 11,
                (StoreKind::Absolute, Size::Word) => 14,
                (StoreKind::Absolute, Size::Double) => 15,
                _ => return unencodable,
            };
            Ok(op(0x03) | mem_0x03(addr, 0)? | hint_field(hint) | ext4 << 6 | x(r)?)
        }
        // Stores have no indexed form.
        Addr::Index { .. } => unencodable,
    }
}

fn fp_mem(store: bool, dbl: bool, r: Fr, addr: Addr, hint: Hint) -> Enc {
    let st = if store { 0x08 } else { 0 };
    match addr {
        Addr::Disp { disp, base, space, modify, form: DispForm::Long } if dbl => {
            long_dw(0x14 | st, r.reg, true, disp, base, space, modify)
        }
        Addr::Disp { disp, base, space, modify, form: DispForm::Long } => {
            let (major, a) = match modify {
                Modify::None => (0x17, false),
                Modify::After => (0x16, false),
                Modify::Before => (0x16, true),
            };
            Ok(op(major | st) | b(base)? | fr_x(r, 1)? | space2(space)? | scaled_disp(disp, 3, 11, 2)? | flag(a, 2))
        }
        _ => {
            let (major, rt) = if dbl { (0x0b, whole(r)?) } else { (0x09, fr_t(r, 6)?) };
            Ok(op(major) | mem_0x03(addr, 16)? | hint_field(hint) | flag(store, 9) | rt)
        }
    }
}

// ---- branches ----------------------------------------------------------------

/// Register (`x` field) or 5-bit low-sign immediate source of the
/// compare/add/move-and-branch forms, with the opcode for each.
fn branch_src(src: DepSource, reg_op: u32, imm_op: u32) -> Result<(u32, u32), EncodeError> {
    match src {
        DepSource::Reg(r) => Ok((reg_op, x(r)?)),
        DepSource::Imm(i) => Ok((imm_op, low_sign(i.into(), 5, "immediate")? << 16)),
    }
}

fn branch(insn: &Insn) -> Enc {
    let d12 = |d| branch_disp(d, 12, disp12_field);
    Ok(match *insn {
        Insn::BranchLink { kind, disp, link, nullify, wide } => {
            let ext3 = match (kind, wide) {
                (LinkKind::Plain, false) => 0,
                (LinkKind::Gate, false) => 1,
                (LinkKind::Push, true) => 4,
                (LinkKind::Plain, true) => 5,
                _ => return Err(EncodeError::Unencodable(*insn)),
            };
            let fields = if wide {
                branch_disp(disp, 22, disp22_field)?
            } else {
                b(link)? | branch_disp(disp, 17, disp17_field)?
            };
            op(0x3a) | fields | ext3 << 13 | flag(nullify, 1)
        }
        Insn::Blr { x: rx, link, nullify } => op(0x3a) | b(link)? | x(rx)? | 2 << 13 | flag(nullify, 1),
        Insn::Bv { x: rx, base, nullify } => op(0x3a) | b(base)? | x(rx)? | 6 << 13 | flag(nullify, 1),
        Insn::Bve { link, stack, base, nullify } => {
            op(0x3a) | b(base)? | 6 << 13 | flag(link, 13) | 1 << 12 | flag(nullify, 1) | u32::from(stack)
        }
        Insn::Be { link, disp, sr, base, nullify } => {
            op(if link { 0x39 } else { 0x38 })
                | b(base)?
                | sr3(sr)?
                | branch_disp(disp, 17, disp17_field)?
                | flag(nullify, 1)
        }
        Insn::CmpBranch { cond, src, r2, disp, nullify } => {
            let c = uimm(cond.c.into(), 3, "condition")?;
            let (major, s, c) = match (cond.dw, src) {
                (false, _) => {
                    let (major, s) = branch_src(src, 0x20, 0x21)?;
                    (major | if cond.negate { 0x02 } else { 0 }, s, c)
                }
                (true, DepSource::Reg(_)) => {
                    let (major, s) = branch_src(src, 0x27, 0x27)?;
                    (major | if cond.negate { 0x08 } else { 0 }, s, c)
                }
                (true, DepSource::Imm(_)) => {
                    // 0x3b folds negation into the 3-bit condition.
                    let (major, s) = branch_src(src, 0x3b, 0x3b)?;
                    let folded = match (c, cond.negate) {
                        (4, false) => 0,
                        (4, true) => 4,
                        (1..=3, n) => c | if n { 4 } else { 0 },
                        _ => return Err(EncodeError::Unencodable(*insn)),
                    };
                    (major, s, folded)
                }
            };
            op(major) | b(r2)? | s | c << 13 | d12(disp)? | flag(nullify, 1)
        }
        Insn::AddBranch { cond, src, r2, disp, nullify } => {
            let (major, s) = branch_src(src, 0x28, 0x29)?;
            let major = major | if cond.negate { 0x02 } else { 0 };
            op(major) | b(r2)? | s | uimm(cond.c.into(), 3, "condition")? << 13 | d12(disp)? | flag(nullify, 1)
        }
        Insn::MovBranch { cond, src, r2, disp, nullify } => {
            let (major, s) = branch_src(src, 0x32, 0x33)?;
            op(major) | b(r2)? | s | cond3(cond)? | d12(disp)? | flag(nullify, 1)
        }
        Insn::Bb { cond, dw, r, pos, disp, nullify } => {
            let (major, p) = match pos {
                ShiftAmount::Sar => (0x30, 0),
                ShiftAmount::Fixed(p) => (0x31, reg(p)? << 21),
            };
            let c = uimm(cond.into(), 1, "bb condition")?;
            op(major) | p | x(r)? | c << 15 | 1 << 14 | flag(dw, 13) | d12(disp)? | flag(nullify, 1)
        }
        Insn::PopBts { count } => op(0x3a) | 2 << 13 | uimm(count.into(), 9, "popbts count")? << 3 | 0b101,
        Insn::PushBts { r } => op(0x3a) | x(r)? | 2 << 13 | 1,
        _ => unreachable!("branch() called on {insn:?}"),
    })
}

// ---- shift, extract, deposit -------------------------------------------------

/// Field length of the word forms: `32 - clen` in bits 0..4.
fn len_w(len: u8) -> Enc {
    match len {
        1..=32 => Ok(32 - u32::from(len)),
        _ => Err(out_of_range("length", len)),
    }
}
/// Field length of the doubleword forms: `(h + 1)·32 - clen`, with `h` at `h_bit`.
fn len_dw(len: u8, h_bit: u32) -> Enc {
    match len {
        1..=64 => {
            let h = (u32::from(len) - 1) / 32;
            Ok(h << h_bit | ((h + 1) * 32 - u32::from(len)))
        }
        _ => Err(out_of_range("length", len)),
    }
}
/// 5-bit position at bits 5..9.
fn pos5(p: u32) -> Enc {
    Ok(uimm(p, 5, "position")? << 5)
}
/// 6-bit position: bit 11 on top of bits 5..9.
fn pos6(p: u32) -> Enc {
    Ok(uimm(p, 6, "position")? >> 5 << 11 | (p & 31) << 5)
}
/// `31 - p` (or `63 - p`) of the deposit and shift-pair encodings.
fn complement(p: u8, max: u8) -> Enc {
    max.checked_sub(p).map(u32::from).ok_or(out_of_range("position", p))
}

fn shift(insn: &Insn) -> Enc {
    Ok(match *insn {
        Insn::Shrp { dw, cond, r1, r2, amount, t: rt } => {
            let form = match (amount, dw) {
                (ShiftAmount::Sar, _) => flag(dw, 9),
                (ShiftAmount::Fixed(sa), true) => 1 << 10 | pos6(complement(sa, 63)?)?,
                (ShiftAmount::Fixed(sa), false) => 2 << 10 | pos5(complement(sa, 31)?)?,
            };
            op(0x34) | b(r2)? | x(r1)? | cond3(cond)? | form | t(rt)?
        }
        Insn::Extract { dw, signed, cond, r, pos, len, t: rt } => {
            let common = b(r)? | x(rt)? | cond3(cond)? | flag(signed, 10);
            match (pos, dw) {
                (ShiftAmount::Sar, true) => op(0x34) | common | 1 << 12 | 1 << 9 | len_dw(len, 8)?,
                (ShiftAmount::Sar, false) => op(0x34) | common | 1 << 12 | len_w(len)?,
                (ShiftAmount::Fixed(p), false) => op(0x34) | common | 3 << 11 | pos5(p.into())? | len_w(len)?,
                (ShiftAmount::Fixed(p), true) => op(0x36) | common | pos6(p.into())? | len_dw(len, 12)?,
            }
        }
        Insn::Deposit { dw, zero, cond, src, pos, len, t: rt } => {
            let (imm, s) = match src {
                DepSource::Reg(r) => (false, x(r)?),
                DepSource::Imm(i) => (true, low_sign(i.into(), 5, "immediate")? << 16),
            };
            let common = b(rt)? | s | cond3(cond)? | flag(!zero, 10);
            match (pos, dw) {
                (ShiftAmount::Sar, true) => op(0x35) | common | flag(imm, 12) | 1 << 9 | len_dw(len, 8)?,
                (ShiftAmount::Sar, false) => op(0x35) | common | flag(imm, 12) | len_w(len)?,
                (ShiftAmount::Fixed(p), false) => {
                    op(0x35) | common | flag(imm, 12) | 1 << 11 | pos5(complement(p, 31)?)? | len_w(len)?
                }
                (ShiftAmount::Fixed(p), true) => {
                    op(if imm { 0x3d } else { 0x3c }) | common | pos6(complement(p, 63)?)? | len_dw(len, 12)?
                }
            }
        }
        _ => unreachable!("shift() called on {insn:?}"),
    })
}

// ---- assists and coprocessors ------------------------------------------------

/// spop0..3: the operation bits go back where [`decode`] gathered them from;
/// the register fields fill the bits the operation does not cover.
fn spop(kind: u8, sfu: u8, bits_: u32, nullify: bool, r1: Gr, r2: Gr, rt: Gr) -> Enc {
    let fields = match kind {
        0 => uimm(bits_, 20, "spop operation")? >> 5 << 11 | (bits_ & 31),
        1 => uimm(bits_, 15, "spop operation")? << 11 | t(rt)?,
        2 => uimm(bits_, 15, "spop operation")? >> 5 << 11 | (bits_ & 31) | b(r2)?,
        3 => uimm(bits_, 10, "spop operation")? >> 5 << 11 | (bits_ & 31) | b(r2)? | x(r1)?,
        _ => return Err(out_of_range("spop kind", kind)),
    };
    Ok(op(0x04) | fields | u32::from(kind) << 9 | uimm(sfu.into(), 3, "sfu")? << 6 | flag(nullify, 5))
}

// ---- floating point ----------------------------------------------------------

fn fp_sub(v: u32) -> u32 {
    v << 13
}

fn float(insn: &Insn) -> Enc {
    Ok(match *insn {
        Insn::FpUnary { op: uop, enc, fmt, r, t: rt } => {
            let sub = match uop {
                FpUnOp::Cpy => 2,
                FpUnOp::Abs => 3,
                FpUnOp::Sqrt => 4,
                FpUnOp::Rnd => 5,
                FpUnOp::Neg => 6,
                FpUnOp::NegAbs => 7,
            };
            let head = match enc {
                FpEnc::Op0c => op(0x0c) | whole(r)? << 21,
                FpEnc::Op0e => op(0x0e) | fr_b(r, 7)?,
            };
            head | fp_sub(sub) | fmt_bits(fmt) << 11 | fr_t(rt, 6)?
        }
        Insn::FpBinary { op: bop, enc, fmt, r1, r2, t: rt } => {
            let sub = match bop {
                FpBinOp::Add => 0,
                FpBinOp::Sub => 1,
                FpBinOp::Mpy => 2,
                FpBinOp::Div => 3,
                FpBinOp::Rem => 4,
            };
            let head = match enc {
                FpEnc::Op0c => op(0x0c) | whole(r1)? << 21 | whole(r2)? << 16 | 3 << 9,
                FpEnc::Op0e => op(0x0e) | fr_b(r1, 7)? | fr_x(r2, 12)? | 3 << 9,
            };
            head | fp_sub(sub) | fmt_bits(fmt) << 11 | fr_t(rt, 6)?
        }
        Insn::Fcnv { kind, enc, src, dst, r, t: rt } => {
            let sub = match kind {
                FcnvKind::FloatFloat => 0,
                FcnvKind::FixFloat => 1,
                FcnvKind::FloatFix => 2,
                FcnvKind::FloatFixTrunc => 3,
            };
            fcnv(enc, sub, src, dst, r, rt)?
        }
        Insn::FcnvWide { sub, enc, src, dst, r, t: rt } => {
            let w = fcnv(enc, uimm(sub.into(), 3, "fcnv sub-operation")?, src, dst, r, rt)?;
            // Sub-operations 0..3 of 0x0c are the PA 1.1 form unless bit 7 (unused) is set.
            w | flag(enc == FpEnc::Op0c && sub < 4, 7)
        }
        Insn::Fcmp { enc, fmt, cond, r1, r2, cbit } => {
            let head = match enc {
                FpEnc::Op0c => op(0x0c) | whole(r1)? << 21 | whole(r2)? << 16,
                FpEnc::Op0e => op(0x0e) | fr_b(r1, 7)? | fr_x(r2, 12)?,
            };
            head | fp_sub(uimm(cbit.into(), 3, "fcmp c bit")?) | fmt_bits(fmt) << 11 | 2 << 9 | reg(cond)?
        }
        Insn::Ftest { cond, queue } => {
            let q = match queue {
                None => 1 << 13,
                Some(q) => uimm(q.into(), 3, "ftest queue")? << 13,
            };
            op(0x0c) | q | 1 << 10 | 1 << 5 | reg(cond)?
        }
        Insn::Fid => op(0x0c),
        Insn::Pmenb => op(0x0c) | 1 << 10 | 0b1010 << 6,
        Insn::Xmpyu { r1, r2, t: rt } => {
            op(0x0e) | fr_b(r1, 7)? | fr_x(r2, 12)? | 1 << 14 | 1 << 10 | 3 << 8 | fr_t(rt, 6)?
        }
        Insn::FmpyAddSub { sub, dbl, rm1, rm2, tm, ra, ta } => {
            let f = |r: Fr| fmpy_reg(r, dbl);
            op(if sub { 0x26 } else { 0x06 })
                | f(rm1)? << 21
                | f(rm2)? << 16
                | f(ta)? << 11
                | f(ra)? << 6
                | flag(!dbl, 5)
                | f(tm)?
        }
        Insn::Fmac { negate, dbl, r1, r2, ra, t: rt } => {
            let a = reg(ra.reg)?;
            op(0x2e)
                | fr_b(r1, 7)?
                | fr_x(r2, 12)?
                | (a >> 2) << 13
                | flag(dbl, 11)
                | (a & 3) << 9
                | flag(ra.right, 8)
                | flag(negate, 5)
                | fr_t(rt, 6)?
        }
        _ => unreachable!("float() called on {insn:?}"),
    })
}

/// `fcnv`: sub-operation at manual 14..16, formats at 17..18 (dst) and 19..20 (src).
fn fcnv(enc: FpEnc, sub: u32, src: FpFmt, dst: FpFmt, r: Fr, rt: Fr) -> Enc {
    let head = match enc {
        FpEnc::Op0c => op(0x0c) | fr_b(r, 6)?,
        FpEnc::Op0e => op(0x0e) | fr_b(r, 7)?,
    };
    Ok(head | sub << 15 | fmt_bits(dst) << 13 | fmt_bits(src) << 11 | 1 << 9 | fr_t(rt, 6)?)
}

/// Inverse of the decoder's `fmpy_reg`: doubles are whole registers; singles
/// name fr16..fr31 with the top field bit selecting the right half.
fn fmpy_reg(r: Fr, dbl: bool) -> Enc {
    match (dbl, r.reg) {
        (true, _) if !r.right => reg(r.reg),
        (false, 16..=31) => Ok(u32::from(r.reg - 16) | flag(r.right, 4)),
        _ => Err(out_of_range("fmpyadd register", r.reg)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_common_words() {
        for w in [0x6bc23fd9u32, 0x08000240, 0x239b5000, 0xe8400000, 0x0fc0109c, 0x37de0080] {
            let insn = decode(w).unwrap();
            assert_eq!(encode(&insn), Ok(w), "{insn:?}");
        }
    }

    #[test]
    fn rejects_out_of_range_fields() {
        let ldo = |disp| Insn::Ldo { disp, base: Gr(30), t: Gr(30) };
        assert!(encode(&ldo(0x7fff)).is_ok());
        assert_eq!(encode(&ldo(0x8000)), Err(EncodeError::OutOfRange { field: "displacement", value: 0x8000 }));
        let bl = |disp| Insn::BranchLink { kind: LinkKind::Plain, disp, link: Gr(2), nullify: false, wide: false };
        assert!(encode(&bl(0x3fffc)).is_ok());
        assert!(encode(&bl(0x40000)).is_err());
        assert!(encode(&bl(6)).is_err());
        assert!(encode(&Insn::Mfia { t: Gr(32) }).is_err());
    }
}
