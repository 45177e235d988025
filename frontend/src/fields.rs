//! Field extractors for PA-RISC instruction words.
//!
//! Bit positions follow the word's natural numbering (bit 0 = least
//! significant); comments give the architecture manual's big-endian
//! numbering (bit 0 = most significant) where it helps to compare with the
//! PA-RISC 1.1 manual, chapter 5 ("Instruction Formats") and appendix C.

/// `len` bits of `w` starting at bit `lsb`.
#[inline]
pub const fn bits(w: u32, lsb: u32, len: u32) -> u32 {
    (w >> lsb) & ((1 << len) - 1)
}

/// One bit of `w` as a bool.
#[inline]
pub const fn bit(w: u32, lsb: u32) -> bool {
    (w >> lsb) & 1 != 0
}

/// Sign-extends the low `len` bits of `v`.
#[inline]
pub const fn sign_ext(v: u32, len: u32) -> i32 {
    ((v << (32 - len)) as i32) >> (32 - len)
}

/// The manual's `low_sign_ext(x, len)`: the sign is the *lowest* bit of the
/// field and the magnitude the bits above it.
#[inline]
pub const fn low_sign_ext(v: u32, len: u32) -> i32 {
    let v = v & ((1 << len) - 1);
    sign_ext((v >> 1) | ((v & 1) << (len - 1)), len)
}

/// Inverse of [`low_sign_ext`] for a value that fits.
#[inline]
pub const fn low_sign_field(v: i32, len: u32) -> u32 {
    let v = v as u32;
    (((v << 1) & ((1 << len) - 1)) | ((v >> 31) & 1)) & ((1 << len) - 1)
}

/// Register field at manual bits 6..10 (`r2`/`b`).
#[inline]
pub const fn r_b(w: u32) -> u8 {
    bits(w, 21, 5) as u8
}

/// Register field at manual bits 11..15 (`r1`/`x`).
#[inline]
pub const fn r_x(w: u32) -> u8 {
    bits(w, 16, 5) as u8
}

/// Register field at manual bits 27..31 (`t`).
#[inline]
pub const fn r_t(w: u32) -> u8 {
    bits(w, 0, 5) as u8
}

/// `assemble_12`: the 12-bit word displacement of conditional branches,
/// returned as a byte offset.
#[inline]
pub const fn disp12(w: u32) -> i32 {
    let v = bits(w, 3, 10) | (bits(w, 2, 1) << 10) | ((w & 1) << 11);
    sign_ext(v, 12) << 2
}

/// `assemble_17`: the 17-bit word displacement of `bl`, `be`, …, as bytes.
#[inline]
pub const fn disp17(w: u32) -> i32 {
    let v = bits(w, 3, 10) | (bits(w, 2, 1) << 10) | (bits(w, 16, 5) << 11) | ((w & 1) << 16);
    sign_ext(v, 17) << 2
}

/// `assemble_22` (PA 2.0 `b,l` with a 22-bit displacement), as bytes.
#[inline]
pub const fn disp22(w: u32) -> i32 {
    let v = bits(w, 3, 10)
        | (bits(w, 2, 1) << 10)
        | (bits(w, 16, 5) << 11)
        | (bits(w, 21, 5) << 16)
        | ((w & 1) << 21);
    sign_ext(v, 22) << 2
}

/// `assemble_21` of `ldil`/`addil`, already shifted into the upper 21 bits.
#[inline]
pub const fn imm21(w: u32) -> u32 {
    let x = bits(w, 0, 21);
    // Manual: x{20} sign, x{9..19}, x{5..6}, x{0..4}, x{7..8} (big-endian bit numbers
    // of the 21-bit field).
    let v = (x & 1) << 20 | bits(x, 1, 11) << 9 | bits(x, 14, 2) << 7 | bits(x, 16, 5) << 2 | bits(x, 12, 2);
    v << 11
}

/// Inverse of [`imm21`].
#[inline]
pub const fn imm21_field(v: u32) -> u32 {
    let v = v >> 11;
    (bits(v, 20, 1)) | bits(v, 9, 11) << 1 | bits(v, 7, 2) << 14 | bits(v, 2, 5) << 16 | bits(v, 0, 2) << 12
}

/// The 3-bit space register number of `be`, `ble`, `mtsp`, `mfsp`, `fic`, …
/// (manual bits 16..18 hold s{1..2},s{0}: the high bit is stored last).
#[inline]
pub const fn space3(w: u32) -> u8 {
    (bits(w, 13, 1) << 2 | bits(w, 14, 2)) as u8
}

/// Inverse of [`space3`], positioned in the word.
#[inline]
pub const fn space3_field(s: u8) -> u32 {
    let s = s as u32;
    ((s >> 2) & 1) << 13 | (s & 3) << 14
}

/// Inverse of [`disp12`] (byte offset in, word fields out).
#[inline]
pub const fn disp12_field(d: i32) -> u32 {
    let v = (d >> 2) as u32;
    bits(v, 0, 10) << 3 | bits(v, 10, 1) << 2 | bits(v, 11, 1)
}

/// Inverse of [`disp17`].
#[inline]
pub const fn disp17_field(d: i32) -> u32 {
    let v = (d >> 2) as u32;
    bits(v, 0, 10) << 3 | bits(v, 10, 1) << 2 | bits(v, 11, 5) << 16 | bits(v, 16, 1)
}

/// Inverse of [`disp22`].
#[inline]
pub const fn disp22_field(d: i32) -> u32 {
    let v = (d >> 2) as u32;
    bits(v, 0, 10) << 3 | bits(v, 10, 1) << 2 | bits(v, 11, 5) << 16 | bits(v, 16, 5) << 21 | bits(v, 21, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_sign_ext_roundtrip() {
        for v in 0..(1u32 << 14) {
            let x = low_sign_ext(v, 14);
            assert_eq!(low_sign_field(x, 14), v);
        }
        assert_eq!(low_sign_ext(0x3fd9 & 0x3fff, 14), -0x14);
    }

    #[test]
    fn imm21_roundtrip() {
        for v in (0..(1u32 << 21)).step_by(7) {
            assert_eq!(imm21_field(imm21(v)), v);
        }
        // ldil L%76800,ret0 = 0x239b5000
        assert_eq!(imm21(0x239b5000), 0x76800);
    }

    #[test]
    fn displacement_roundtrips() {
        for w in [0u32, 1, 0x1ffd, 0x001f_1ff5, 0x03ff_fffd, 0x1234_5679] {
            assert_eq!(disp12(disp12_field(disp12(w))), disp12(w));
            assert_eq!(disp17(disp17_field(disp17(w))), disp17(w));
            assert_eq!(disp22(disp22_field(disp22(w))), disp22(w));
        }
        assert_eq!(space3(space3_field(5)), 5);
    }
}
