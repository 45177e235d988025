//! IEEE 754 single/double arithmetic for the PA-RISC FPU, exact in every
//! rounding mode, as pure `extern "C"` helpers both engines call:
//! `(status word, a, b, param) -> FpOut { result, new status, trap }`.
//!
//! The status word is the high half of fr0 (PA-RISC 1.1 ch. 8, "Status
//! Register"), in little-endian bit positions: flags V Z O U I at 31..27, C
//! at 26, the compare queue CQ at 21..11 (CQ0 = bit 21), rounding mode RM at
//! 10..9 (nearest, toward zero, toward +inf, toward -inf), enables V Z O U I
//! at 4..0. An exception whose enable bit is set traps (the status is left
//! unchanged, the engine stops with a floating-point exception); otherwise
//! its sticky flag is set.
//!
//! Values are unpacked to an integer significand and a binary exponent and
//! rounded once by [`round_pack`], so results do not depend on the host
//! FPU or its rounding mode. Conventions: tininess is detected before
//! rounding; a NaN is signaling when the most significant fraction bit is
//! set (PA-RISC, the opposite of x86); the default NaN is 0x7fa00000 /
//! 0x7ff4000000000000; a quiet NaN operand propagates unchanged.

use crate::fastfp::{self, Op};

/// Result of a floating-point helper.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FpOut {
    /// Result bits (single-precision and 32-bit results in the low word).
    pub bits: u64,
    /// New status word.
    pub status: u32,
    /// Nonzero when an enabled exception was raised.
    pub trap: u32,
}

/// A floating-point helper: `(status, a, b, param)`; `param` is a static
/// operand of the instruction (the compare condition), 0 otherwise.
pub type FpHelper = extern "C" fn(u32, u64, u64, u32) -> FpOut;

/// Exception bits, in enable-bit order (the flags are these shifted by 27).
pub mod exc {
    pub const INEXACT: u32 = 1 << 0;
    pub const UNDERFLOW: u32 = 1 << 1;
    pub const OVERFLOW: u32 = 1 << 2;
    pub const DIV_ZERO: u32 = 1 << 3;
    pub const INVALID: u32 = 1 << 4;
}

/// Status word fields.
pub mod status {
    pub const FLAGS_SHIFT: u32 = 27;
    pub const C: u32 = 1 << 26;
    /// The compare queue, CQ0 (the most recent) at bit 21.
    pub const CQ: u32 = 0x7ff << 11;
    pub const CQ0: u32 = 1 << 21;
    pub const RM_SHIFT: u32 = 9;
    pub const ENABLES: u32 = 0x1f;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rounding {
    Nearest,
    Zero,
    Up,
    Down,
}

fn rounding(st: u32) -> Rounding {
    match (st >> status::RM_SHIFT) & 3 {
        0 => Rounding::Nearest,
        1 => Rounding::Zero,
        2 => Rounding::Up,
        _ => Rounding::Down,
    }
}

/// Applies raised exceptions to the status word: trap if enabled, else set
/// the sticky flags.
fn finish(st: u32, bits: u64, raised: u32) -> FpOut {
    if raised & st & status::ENABLES != 0 {
        FpOut {
            bits,
            status: st,
            trap: 1,
        }
    } else {
        FpOut {
            bits,
            status: st | (raised << status::FLAGS_SHIFT),
            trap: 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Format {
    frac_bits: u32,
    exp_bits: u32,
}

const SINGLE: Format = Format {
    frac_bits: 23,
    exp_bits: 8,
};
const DOUBLE: Format = Format {
    frac_bits: 52,
    exp_bits: 11,
};

impl Format {
    fn bias(self) -> i32 {
        (1 << (self.exp_bits - 1)) - 1
    }
    fn emin(self) -> i32 {
        1 - self.bias()
    }
    fn exp_max_field(self) -> u64 {
        (1 << self.exp_bits) - 1
    }
    fn sign_bit(self) -> u64 {
        1 << (self.frac_bits + self.exp_bits)
    }
    fn infinity(self, sign: bool) -> u64 {
        (if sign { self.sign_bit() } else { 0 }) | (self.exp_max_field() << self.frac_bits)
    }
    fn max_finite(self, sign: bool) -> u64 {
        self.infinity(sign) - 1
    }
    fn zero(self, sign: bool) -> u64 {
        if sign {
            self.sign_bit()
        } else {
            0
        }
    }
    fn default_nan(self) -> u64 {
        (self.exp_max_field() << self.frac_bits) | (1 << (self.frac_bits - 2))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Zero,
    /// value = sig · 2^exp, sig normalized to frac_bits + 1 bits.
    Finite {
        sig: u64,
        exp: i32,
    },
    Inf,
    QuietNan,
    SignalingNan,
}

#[derive(Debug, Clone, Copy)]
struct Unpacked {
    sign: bool,
    class: Class,
    bits: u64,
}

impl Unpacked {
    fn is_nan(&self) -> bool {
        matches!(self.class, Class::QuietNan | Class::SignalingNan)
    }
}

fn unpack(bits: u64, f: Format) -> Unpacked {
    let sign = bits & f.sign_bit() != 0;
    let exp_field = (bits >> f.frac_bits) & f.exp_max_field();
    let frac = bits & ((1 << f.frac_bits) - 1);
    let class = if exp_field == f.exp_max_field() {
        if frac == 0 {
            Class::Inf
        } else if frac >> (f.frac_bits - 1) != 0 {
            Class::SignalingNan
        } else {
            Class::QuietNan
        }
    } else if exp_field == 0 {
        if frac == 0 {
            Class::Zero
        } else {
            let shift = frac.leading_zeros() - (63 - f.frac_bits);
            Class::Finite {
                sig: frac << shift,
                exp: f.emin() - f.frac_bits as i32 - shift as i32,
            }
        }
    } else {
        Class::Finite {
            sig: frac | (1 << f.frac_bits),
            exp: exp_field as i32 - f.bias() - f.frac_bits as i32,
        }
    };
    Unpacked { sign, class, bits }
}

/// Where a discarded remainder lies relative to half a unit in the last place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rest {
    Exact,
    BelowHalf,
    Half,
    AboveHalf,
}

/// `sig >> shift` rounded in mode `rm` for a value of sign `sign`.
fn round_shift(sig: u128, shift: u32, sign: bool, rm: Rounding) -> (u128, bool) {
    let (q, rest) = if shift == 0 {
        (sig, Rest::Exact)
    } else if shift >= 128 {
        (
            0,
            if sig == 0 {
                Rest::Exact
            } else {
                Rest::BelowHalf
            },
        )
    } else {
        let rem = sig & ((1u128 << shift) - 1);
        let half = 1u128 << (shift - 1);
        let rest = match rem {
            0 => Rest::Exact,
            r if r < half => Rest::BelowHalf,
            r if r == half => Rest::Half,
            _ => Rest::AboveHalf,
        };
        (sig >> shift, rest)
    };
    let inexact = rest != Rest::Exact;
    let up = match rm {
        Rounding::Nearest => rest == Rest::AboveHalf || (rest == Rest::Half && q & 1 == 1),
        Rounding::Zero => false,
        Rounding::Up => inexact && !sign,
        Rounding::Down => inexact && sign,
    };
    (q + up as u128, inexact)
}

/// Rounds `(-1)^sign · sig · 2^exp` (sig may carry a sticky low bit below
/// the rounding position) to format `f`, raising exceptions into `raised`.
fn round_pack(sign: bool, sig: u128, exp: i32, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if sig == 0 {
        return f.zero(sign);
    }
    let p = f.frac_bits as i32 + 1;
    let lead = exp + (128 - sig.leading_zeros() as i32) - 1;
    let tiny = lead < f.emin();
    let mut q_exp = lead.max(f.emin()) - (p - 1);
    let (mut q, inexact) = if q_exp >= exp {
        round_shift(sig, (q_exp - exp) as u32, sign, rm)
    } else {
        (sig << (exp - q_exp), false)
    };
    if q == 1u128 << p {
        q >>= 1;
        q_exp += 1;
    }
    if inexact {
        *raised |= exc::INEXACT;
        if tiny {
            *raised |= exc::UNDERFLOW;
        }
    }
    let normal = q >> (p - 1) != 0;
    if normal && q_exp + p - 1 > f.bias() {
        *raised |= exc::OVERFLOW | exc::INEXACT;
        let to_infinity = match rm {
            Rounding::Nearest => true,
            Rounding::Zero => false,
            Rounding::Up => !sign,
            Rounding::Down => sign,
        };
        return if to_infinity {
            f.infinity(sign)
        } else {
            f.max_finite(sign)
        };
    }
    let biased = if normal {
        (q_exp + p - 1 + f.bias()) as u64
    } else {
        0
    };
    let frac = (q as u64) & ((1 << f.frac_bits) - 1);
    f.zero(sign) | (biased << f.frac_bits) | frac
}

/// NaN operands: a signaling NaN is invalid and gives the default NaN; a
/// quiet NaN propagates (the first operand's first).
fn propagate_nan(a: &Unpacked, b: Option<&Unpacked>, f: Format, raised: &mut u32) -> Option<u64> {
    let ops = [Some(a), b];
    if ops.iter().flatten().any(|x| x.class == Class::SignalingNan) {
        *raised |= exc::INVALID;
        return Some(f.default_nan());
    }
    ops.iter().flatten().find(|x| x.is_nan()).map(|x| x.bits)
}

fn invalid(f: Format, raised: &mut u32) -> u64 {
    *raised |= exc::INVALID;
    f.default_nan()
}

fn add(a: Unpacked, b: Unpacked, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if let Some(n) = propagate_nan(&a, Some(&b), f, raised) {
        return n;
    }
    match (a.class, b.class) {
        (Class::Inf, Class::Inf) if a.sign != b.sign => invalid(f, raised),
        (Class::Inf, _) => f.infinity(a.sign),
        (_, Class::Inf) => f.infinity(b.sign),
        (Class::Zero, Class::Zero) => f.zero(if a.sign == b.sign {
            a.sign
        } else {
            rm == Rounding::Down
        }),
        (Class::Zero, _) => b.bits,
        (_, Class::Zero) => a.bits,
        (Class::Finite { sig: sa, exp: ea }, Class::Finite { sig: sb, exp: eb }) => {
            let ((big_sig, big_exp, big_sign), (small_sig, small_exp, small_sign)) = if ea >= eb {
                ((sa, ea, a.sign), (sb, eb, b.sign))
            } else {
                ((sb, eb, b.sign), (sa, ea, a.sign))
            };
            // Align exactly when the gap is small; otherwise the smaller
            // operand lies far below the rounding position and only its
            // presence matters (a sticky 1).
            const MAX_GAP: i32 = 72;
            let gap = big_exp - small_exp;
            let (x, y, exp) = if gap <= MAX_GAP {
                ((big_sig as u128) << gap, small_sig as u128, small_exp)
            } else {
                ((big_sig as u128) << MAX_GAP, 1u128, big_exp - MAX_GAP)
            };
            let (sig, sign) = if big_sign == small_sign {
                (x + y, big_sign)
            } else if x >= y {
                (x - y, big_sign)
            } else {
                (y - x, small_sign)
            };
            if sig == 0 {
                return f.zero(rm == Rounding::Down);
            }
            round_pack(sign, sig, exp, f, rm, raised)
        }
        _ => unreachable!("NaNs handled above"),
    }
}

fn mul(a: Unpacked, b: Unpacked, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if let Some(n) = propagate_nan(&a, Some(&b), f, raised) {
        return n;
    }
    let sign = a.sign != b.sign;
    match (a.class, b.class) {
        (Class::Inf, Class::Zero) | (Class::Zero, Class::Inf) => invalid(f, raised),
        (Class::Inf, _) | (_, Class::Inf) => f.infinity(sign),
        (Class::Zero, _) | (_, Class::Zero) => f.zero(sign),
        (Class::Finite { sig: sa, exp: ea }, Class::Finite { sig: sb, exp: eb }) => {
            round_pack(sign, sa as u128 * sb as u128, ea + eb, f, rm, raised)
        }
        _ => unreachable!("NaNs handled above"),
    }
}

fn div(a: Unpacked, b: Unpacked, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if let Some(n) = propagate_nan(&a, Some(&b), f, raised) {
        return n;
    }
    let sign = a.sign != b.sign;
    match (a.class, b.class) {
        (Class::Inf, Class::Inf) | (Class::Zero, Class::Zero) => invalid(f, raised),
        (Class::Inf, _) => f.infinity(sign),
        (_, Class::Inf) | (Class::Zero, _) => f.zero(sign),
        (_, Class::Zero) => {
            *raised |= exc::DIV_ZERO;
            f.infinity(sign)
        }
        (Class::Finite { sig: sa, exp: ea }, Class::Finite { sig: sb, exp: eb }) => {
            // Normalized significands give at least 64 quotient bits; the
            // remainder becomes a sticky bit below them.
            let num = (sa as u128) << 64;
            let q = num / sb as u128;
            let sticky = !num.is_multiple_of(sb as u128) as u128;
            round_pack(sign, (q << 1) | sticky, ea - eb - 65, f, rm, raised)
        }
        _ => unreachable!("NaNs handled above"),
    }
}

fn sqrt(a: Unpacked, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if let Some(n) = propagate_nan(&a, None, f, raised) {
        return n;
    }
    match a.class {
        Class::Zero => a.bits,
        _ if a.sign => invalid(f, raised),
        Class::Inf => a.bits,
        Class::Finite { sig, exp } => {
            let (sig, exp) = if exp & 1 != 0 {
                ((sig as u128) << 1, exp - 1)
            } else {
                (sig as u128, exp)
            };
            let radicand = sig << 64;
            let root = isqrt(radicand);
            let sticky = (root * root != radicand) as u128;
            round_pack(
                false,
                (root << 1) | sticky,
                (exp - 64) / 2 - 1,
                f,
                rm,
                raised,
            )
        }
        _ => unreachable!("NaNs handled above"),
    }
}

/// Floor of the square root of `n` (n < 2^120).
fn isqrt(n: u128) -> u128 {
    let mut r = (n as f64).sqrt() as u128;
    if r > 0 {
        r = (r + n / r) / 2;
    }
    while r * r > n {
        r -= 1;
    }
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// `frnd`: round to an integral value in the current rounding mode.
fn round_to_integral(a: Unpacked, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    if let Some(n) = propagate_nan(&a, None, f, raised) {
        return n;
    }
    match a.class {
        Class::Finite { sig, exp } if exp < 0 => {
            let (q, inexact) = round_shift(sig as u128, (-exp) as u32, a.sign, rm);
            if inexact {
                *raised |= exc::INEXACT;
            }
            round_pack(a.sign, q, 0, f, rm, raised)
        }
        _ => a.bits,
    }
}

/// Float to signed integer of `bits` (32 or 64) bits; out of range and NaN
/// are invalid and give the most positive/negative integer.
fn to_int(a: Unpacked, bits: u32, rm: Rounding, raised: &mut u32) -> u64 {
    let max = (1u128 << (bits - 1)) - 1;
    let width_mask = if bits == 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    };
    let saturate = |negative: bool, raised: &mut u32| {
        *raised |= exc::INVALID;
        let v = if negative { max + 1 } else { max };
        ((if negative { v.wrapping_neg() } else { v }) as u64) & width_mask
    };
    let (q, inexact) = match a.class {
        Class::QuietNan | Class::SignalingNan => return saturate(false, raised),
        Class::Inf => return saturate(a.sign, raised),
        Class::Zero => return 0,
        Class::Finite { sig, exp } if exp >= 0 => {
            if exp > 64 {
                return saturate(a.sign, raised);
            }
            ((sig as u128) << exp, false)
        }
        Class::Finite { sig, exp } => round_shift(sig as u128, (-exp) as u32, a.sign, rm),
    };
    let limit = if a.sign { max + 1 } else { max };
    if q > limit {
        return saturate(a.sign, raised);
    }
    if inexact {
        *raised |= exc::INEXACT;
    }
    ((if a.sign { q.wrapping_neg() } else { q }) as u64) & width_mask
}

fn from_int(v: i64, f: Format, rm: Rounding, raised: &mut u32) -> u64 {
    round_pack(v < 0, v.unsigned_abs() as u128, 0, f, rm, raised)
}

/// Float-to-float conversion; a quiet NaN keeps its payload's top bits.
fn convert(a: Unpacked, from: Format, to: Format, rm: Rounding, raised: &mut u32) -> u64 {
    match a.class {
        Class::SignalingNan => invalid(to, raised),
        Class::QuietNan => {
            let frac = a.bits & ((1 << from.frac_bits) - 1);
            let moved = if to.frac_bits >= from.frac_bits {
                frac << (to.frac_bits - from.frac_bits)
            } else {
                frac >> (from.frac_bits - to.frac_bits)
            };
            if moved == 0 {
                to.default_nan()
            } else {
                to.infinity(a.sign) | moved
            }
        }
        Class::Inf => to.infinity(a.sign),
        Class::Zero => to.zero(a.sign),
        Class::Finite { sig, exp } => round_pack(a.sign, sig as u128, exp, to, rm, raised),
    }
}

/// Compare: the condition's bits select which outcomes make it true
/// (bit 4 greater, 3 less, 2 equal, 1 unordered); bit 0 makes NaN operands
/// invalid (a signaling compare). `param` = condition | target bit << 8:
/// target 0 shifts C into the queue, target y sets CA(y-1) (PA 2.0).
fn compare(st: u32, a: Unpacked, b: Unpacked, f: Format, param: u32) -> FpOut {
    let cond = param & 0x1f;
    let target = param >> 8;
    let mut raised = 0;
    let outcome_bit = if a.is_nan() || b.is_nan() {
        if cond & 1 != 0 || a.class == Class::SignalingNan || b.class == Class::SignalingNan {
            raised |= exc::INVALID;
        }
        1
    } else {
        match order_key(&a, f).cmp(&order_key(&b, f)) {
            std::cmp::Ordering::Greater => 4,
            std::cmp::Ordering::Less => 3,
            std::cmp::Ordering::Equal => 2,
        }
    };
    let result = (cond >> outcome_bit) & 1;
    let st = if target == 0 {
        let queue = ((st & status::CQ) >> 1) & status::CQ;
        let cq0 = if st & status::C != 0 { status::CQ0 } else { 0 };
        (st & !(status::CQ | status::C)) | queue | cq0 | (result * status::C)
    } else {
        let bit = status::CQ0 >> (target - 1);
        (st & !bit) | (result * bit)
    };
    finish(st, 0, raised)
}

/// A non-NaN operand's position on the number line: the magnitude bits of
/// an IEEE value grow with its magnitude, and both zeros map to 0.
fn order_key(a: &Unpacked, f: Format) -> i128 {
    let magnitude = (a.bits & (f.sign_bit() - 1)) as i128;
    if a.sign {
        -magnitude
    } else {
        magnitude
    }
}

/// `op` on `a` and `b` (single precision in the low word when `single`):
/// the host's result where [`fastfp`] proves it exact, else the software
/// path's.
#[inline(always)]
pub(crate) fn fast_arith(op: Op, single: bool, st: u32, a: u64, b: u64) -> FpOut {
    if rounding(st) == Rounding::Nearest {
        if let Some((bits, inexact)) = fastfp::nearest(op, single, a, b) {
            return finish(st, bits, if inexact { exc::INEXACT } else { 0 });
        }
    }
    exact_arith(op, single, st, a, b)
}

/// `op` on `a` and `b` in software, exact in every rounding mode.
pub(crate) fn exact_arith(op: Op, single: bool, st: u32, a: u64, b: u64) -> FpOut {
    let f = if single { SINGLE } else { DOUBLE };
    let (x, rm, mut raised) = (unpack(a, f), rounding(st), 0);
    let r = match op {
        Op::Add => add(x, unpack(b, f), f, rm, &mut raised),
        Op::Sub => add(x, unpack(negate_unless_nan(b, f), f), f, rm, &mut raised),
        Op::Mul => mul(x, unpack(b, f), f, rm, &mut raised),
        Op::Div => div(x, unpack(b, f), f, rm, &mut raised),
        Op::Sqrt => sqrt(x, f, rm, &mut raised),
    };
    finish(st, r, raised)
}

macro_rules! arith_helpers {
    ($($name:ident = $op:ident, $single:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: arithmetic helper.")]
        pub extern "C" fn $name(st: u32, a: u64, b: u64, _param: u32) -> FpOut {
            fast_arith(Op::$op, $single, st, a, b)
        }
    )*};
}

arith_helpers! {
    fadd_s = Add, true;
    fadd_d = Add, false;
    fsub_s = Sub, true;
    fsub_d = Sub, false;
    fmpy_s = Mul, true;
    fmpy_d = Mul, false;
    fdiv_s = Div, true;
    fdiv_d = Div, false;
    fsqrt_s = Sqrt, true;
    fsqrt_d = Sqrt, false;
}

fn negate_unless_nan(b: u64, f: Format) -> u64 {
    if unpack(b, f).is_nan() {
        b
    } else {
        b ^ f.sign_bit()
    }
}

macro_rules! unary_helpers {
    ($($name:ident = $body:expr;)*) => {$(
        #[doc = concat!("`", stringify!($name), "`: one-operand helper.")]
        pub extern "C" fn $name(st: u32, a: u64, _b: u64, _param: u32) -> FpOut {
            let mut raised = 0;
            let f: fn(u64, Rounding, &mut u32) -> u64 = $body;
            let r = f(a, rounding(st), &mut raised);
            finish(st, r, raised)
        }
    )*};
}

unary_helpers! {
    frnd_s = |a, rm, x| round_to_integral(unpack(a, SINGLE), SINGLE, rm, x);
    frnd_d = |a, rm, x| round_to_integral(unpack(a, DOUBLE), DOUBLE, rm, x);
    fcnv_s_d = |a, rm, x| convert(unpack(a, SINGLE), SINGLE, DOUBLE, rm, x);
    fcnv_d_s = |a, rm, x| convert(unpack(a, DOUBLE), DOUBLE, SINGLE, rm, x);
    fcnv_w_s = |a, rm, x| from_int(a as u32 as i32 as i64, SINGLE, rm, x);
    fcnv_w_d = |a, rm, x| from_int(a as u32 as i32 as i64, DOUBLE, rm, x);
    fcnv_dw_s = |a, rm, x| from_int(a as i64, SINGLE, rm, x);
    fcnv_dw_d = |a, rm, x| from_int(a as i64, DOUBLE, rm, x);
    fcnv_s_w = |a, rm, x| to_int(unpack(a, SINGLE), 32, rm, x);
    fcnv_d_w = |a, rm, x| to_int(unpack(a, DOUBLE), 32, rm, x);
    fcnv_s_dw = |a, rm, x| to_int(unpack(a, SINGLE), 64, rm, x);
    fcnv_d_dw = |a, rm, x| to_int(unpack(a, DOUBLE), 64, rm, x);
    fcnvt_s_w = |a, _rm, x| to_int(unpack(a, SINGLE), 32, Rounding::Zero, x);
    fcnvt_d_w = |a, _rm, x| to_int(unpack(a, DOUBLE), 32, Rounding::Zero, x);
    fcnvt_s_dw = |a, _rm, x| to_int(unpack(a, SINGLE), 64, Rounding::Zero, x);
    fcnvt_d_dw = |a, _rm, x| to_int(unpack(a, DOUBLE), 64, Rounding::Zero, x);
}

/// `fcmp,sgl`.
pub extern "C" fn fcmp_s(st: u32, a: u64, b: u64, param: u32) -> FpOut {
    compare(st, unpack(a, SINGLE), unpack(b, SINGLE), SINGLE, param)
}

/// `fcmp,dbl`.
pub extern "C" fn fcmp_d(st: u32, a: u64, b: u64, param: u32) -> FpOut {
    compare(st, unpack(a, DOUBLE), unpack(b, DOUBLE), DOUBLE, param)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NEAREST: u32 = 0;
    const TOWARD_ZERO: u32 = 1 << status::RM_SHIFT;
    const UP: u32 = 2 << status::RM_SHIFT;
    const DOWN: u32 = 3 << status::RM_SHIFT;

    fn finite() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>().prop_filter("finite", |x| x.is_finite()),
            (-1e6f64..1e6),
            (any::<u64>()).prop_map(|b| f64::from_bits(b & 0x800f_ffff_ffff_ffff)),
        ]
    }

    proptest! {
        /// Round-to-nearest agrees with the host's IEEE arithmetic.
        #[test]
        fn nearest_matches_host_double(a in finite(), b in finite()) {
            let (x, y) = (a.to_bits(), b.to_bits());
            prop_assert_eq!(fadd_d(NEAREST, x, y, 0).bits, (a + b).to_bits());
            prop_assert_eq!(fsub_d(NEAREST, x, y, 0).bits, (a - b).to_bits());
            prop_assert_eq!(fmpy_d(NEAREST, x, y, 0).bits, (a * b).to_bits());
            if b != 0.0 {
                prop_assert_eq!(fdiv_d(NEAREST, x, y, 0).bits, (a / b).to_bits());
            }
            if a >= 0.0 {
                prop_assert_eq!(fsqrt_d(NEAREST, x, 0, 0).bits, a.sqrt().to_bits());
            }
            prop_assert_eq!(fcnv_d_s(NEAREST, x, 0, 0).bits, (a as f32).to_bits() as u64);
        }

        #[test]
        fn nearest_matches_host_single(a: f32, b: f32) {
            prop_assume!(a.is_finite() && b.is_finite());
            let (x, y) = (a.to_bits() as u64, b.to_bits() as u64);
            prop_assert_eq!(fadd_s(NEAREST, x, y, 0).bits, (a + b).to_bits() as u64);
            prop_assert_eq!(fmpy_s(NEAREST, x, y, 0).bits, (a * b).to_bits() as u64);
            if b != 0.0 {
                prop_assert_eq!(fdiv_s(NEAREST, x, y, 0).bits, (a / b).to_bits() as u64);
            }
            prop_assert_eq!(fcnvt_s_w(NEAREST, x, 0, 0).bits as u32 as i32, a as i32, "truncation saturates like Rust");
        }

        /// Directed modes bracket the exact result: down <= up, one ulp apart
        /// when inexact, toward-zero picks the side nearer zero.
        #[test]
        fn directed_rounding_brackets(a in finite(), b in finite()) {
            let (x, y) = (a.to_bits(), b.to_bits());
            for (op, is_div) in [(fadd_d as FpHelper, false), (fmpy_d, false), (fdiv_d, true)] {
                let down = f64::from_bits(op(DOWN, x, y, 0).bits);
                let up = f64::from_bits(op(UP, x, y, 0).bits);
                let zero = f64::from_bits(op(TOWARD_ZERO, x, y, 0).bits);
                let nearest = op(NEAREST, x, y, 0);
                if down.is_nan() || (is_div && b == 0.0) {
                    continue;
                }
                let inexact = nearest.status & (exc::INEXACT << status::FLAGS_SHIFT) != 0;
                if inexact {
                    prop_assert!(down < up);
                    prop_assert!(down.next_up() == up || (down == f64::MAX && up.is_infinite()));
                } else if down == 0.0 {
                    // An exact zero sum is -0 rounding down and +0 otherwise
                    // (IEEE 754 §6.3); other exact zeros keep their sign.
                    prop_assert!(up == 0.0 && (down.is_sign_negative() || up.is_sign_positive()));
                } else {
                    prop_assert_eq!(down.to_bits(), up.to_bits());
                }
                prop_assert_eq!(zero, if down >= 0.0 { down } else { up });
                let n = f64::from_bits(nearest.bits);
                prop_assert!(n == down || n == up);
            }
        }
    }

    #[test]
    fn flags_and_traps() {
        let one = 1f64.to_bits();
        let zero = 0f64.to_bits();
        let r = fdiv_d(NEAREST, one, zero, 0);
        assert_eq!(
            (f64::from_bits(r.bits), r.status >> 27),
            (f64::INFINITY, exc::DIV_ZERO)
        );
        let r = fdiv_d(exc::DIV_ZERO, one, zero, 0);
        assert_eq!(
            (r.trap, r.status),
            (1, exc::DIV_ZERO),
            "enabled: trap, status unchanged"
        );
        let r = fsqrt_d(NEAREST, (-1f64).to_bits(), 0, 0);
        assert_eq!(
            (r.bits, r.status >> 27),
            (DOUBLE.default_nan(), exc::INVALID)
        );
        let big = f64::MAX.to_bits();
        let r = fmpy_d(TOWARD_ZERO, big, 2f64.to_bits(), 0);
        assert_eq!(
            r.bits, big,
            "overflow toward zero gives the largest finite value"
        );
        assert_eq!(r.status >> 27, exc::OVERFLOW | exc::INEXACT);
        let r = fcnv_d_w(UP, 2.25f64.to_bits(), 0, 0);
        assert_eq!(r.bits as u32, 3, "fcnvfx honours the rounding mode");
        let r = fcnvt_d_w(UP, (-2.75f64).to_bits(), 0, 0);
        assert_eq!(r.bits as u32 as i32, -2, "fcnvfxt truncates");
    }

    #[test]
    fn compare_shifts_the_queue() {
        let (one, two) = (1f64.to_bits(), 2f64.to_bits());
        // Condition "<" (bit 3), then "=" (bit 2).
        let st = fcmp_d(status::C, one, two, 0b01000).status;
        assert_eq!(st & (status::C | status::CQ0), status::C | status::CQ0);
        let st = fcmp_d(st, one, two, 0b00100).status;
        assert_eq!(
            st & (status::C | status::CQ0 | status::CQ0 >> 1),
            status::CQ0 | status::CQ0 >> 1
        );
        let nan = f64::NAN.to_bits();
        assert_eq!(
            fcmp_d(0, nan, one, 0b00011).status,
            status::C | exc::INVALID << 27,
            "signaling compare"
        );
    }
}
