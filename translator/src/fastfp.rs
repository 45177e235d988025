//! The host FPU as a fast path for [`crate::softfp`]'s arithmetic helpers,
//! used only where its result is provably the one the exact software path
//! gives, status flags included.
//!
//! Double precision runs on the host's IEEE doubles (round to nearest, the
//! only mode Rust code runs in); the result is accepted only when
//!
//! - the guest rounds to nearest (the caller checks),
//! - the result is a normal number larger in magnitude than the smallest
//!   normal, or a zero computed exactly, and
//! - its exactness (the inexact flag) is known from an error-free
//!   transformation: `2Sum` for sums, a fused multiply-add for the error of
//!   a product, the remainder of a quotient or of a square root. Products,
//!   quotients and roots need operands and results at least 2^-900 in
//!   magnitude (or zero), far from the underflow range, where those errors
//!   are representable (Boldo & Daumas, "Representable correcting terms
//!   for possibly underflowing floating point operations", 2003), and a
//!   host with FMA.
//!
//! Then IEEE 754 fixes the result bits, and the only exception possible is
//! inexact: NaN operands or results (where PA-RISC's NaN conventions differ
//! from x86's), infinities, division by zero and overflow all give a NaN or
//! an infinity; underflow needs an exact result below the smallest normal,
//! which rounds to at most the smallest normal (tininess before or after
//! rounding then does not matter); an inexact zero is an underflow too.
//!
//! Single precision is computed in double from the exactly widened
//! operands and rounded to single: for these five operations double
//! rounding gives the correctly rounded single result (53 >= 2·24 + 2,
//! Figueroa 1995), which is inexact when the double result was or when the
//! narrowing changes it. Everything else goes to the software path.

/// An arithmetic operation with a fast path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
    /// Square root of the first operand.
    Sqrt,
}

/// `op` on `a` and `b` (single precision in the low word when `single`),
/// rounded to nearest: the result bits and whether it is inexact, or
/// `None` when the software path must compute it.
#[inline(always)]
pub(crate) fn nearest(op: Op, single: bool, a: u64, b: u64) -> Option<(u64, bool)> {
    if single {
        let widen = |x: u64| f64::from(f32::from_bits(x as u32));
        let (wide, wide_inexact) = double(op, widen(a), widen(b))?;
        let r = wide as f32;
        let inexact = wide_inexact || f64::from(r) != wide;
        accept(r.to_bits() as u64 & 0x7fff_ffff, 0x0080_0000, 0x7f80_0000, inexact)
            .then_some((r.to_bits() as u64, inexact))
    } else {
        let (r, inexact) = double(op, f64::from_bits(a), f64::from_bits(b))?;
        let bits = r.to_bits();
        accept(bits & !(1 << 63), DOUBLE_MIN_NORMAL, DOUBLE_INFINITY, inexact).then_some((bits, inexact))
    }
}

/// Whether a result of this magnitude (bits without the sign) is normal
/// above the smallest normal, or an exact zero.
#[inline(always)]
fn accept(magnitude: u64, min_normal: u64, infinity: u64, inexact: bool) -> bool {
    (magnitude > min_normal && magnitude < infinity) || (magnitude == 0 && !inexact)
}

/// The bits of the smallest normal double and of infinity (for translated
/// code computing [`nearest`] inline).
pub(crate) const DOUBLE_MIN_NORMAL: u64 = 0x0010_0000_0000_0000;
pub(crate) const DOUBLE_INFINITY: u64 = 0x7ff0_0000_0000_0000;

/// Below this magnitude products, quotients and roots take the software path.
const FAR_FROM_UNDERFLOW: f64 = f64::from_bits((1023 - 900) << 52);
pub(crate) const FAR_FROM_UNDERFLOW_BITS: u64 = FAR_FROM_UNDERFLOW.to_bits();

/// `op` in double precision: the result and whether it is inexact, as far
/// as a finite or zero result goes (others are rejected by the caller).
#[inline(always)]
fn double(op: Op, a: f64, b: f64) -> Option<(f64, bool)> {
    let far = |x: f64| x == 0.0 || x.abs() >= FAR_FROM_UNDERFLOW;
    match op {
        Op::Add | Op::Sub => {
            let b = if op == Op::Sub { -b } else { b };
            let s = a + b;
            // 2Sum: `error` is exactly a + b - s unless something
            // overflowed, which leaves it infinite or NaN.
            let b_part = s - a;
            let a_part = s - b_part;
            let error = (a - a_part) + (b - b_part);
            error.is_finite().then_some((s, error != 0.0))
        }
        Op::Mul => {
            let p = a * b;
            (far(p) && p != 0.0).then_some(())?;
            Some((p, fma::residual(a, b, p)? != 0.0))
        }
        Op::Div => {
            let q = a / b;
            (far(a) && far(b) && far(q) && q != 0.0).then_some(())?;
            Some((q, fma::residual(q, b, a)? != 0.0))
        }
        Op::Sqrt => {
            let r = a.sqrt();
            (far(a) && r > 0.0).then_some(())?;
            Some((r, fma::residual(r, r, a)? != 0.0))
        }
    }
}

#[cfg(target_arch = "x86_64")]
pub(crate) mod fma {
    /// Whether the host has a fused multiply-add.
    pub(crate) fn host_has() -> bool {
        std::arch::is_x86_feature_detected!("fma")
    }

    /// `x · y - z` exactly rounded once, if the host has FMA.
    #[inline(always)]
    pub(super) fn residual(x: f64, y: f64, z: f64) -> Option<f64> {
        // SAFETY: the host has FMA (checked just before).
        host_has().then(|| unsafe { fused(x, y, z) })
    }

    #[target_feature(enable = "fma")]
    fn fused(x: f64, y: f64, z: f64) -> f64 {
        x.mul_add(y, -z)
    }
}

#[cfg(not(target_arch = "x86_64"))]
pub(crate) mod fma {
    /// No fused multiply-add known on this host: the software path.
    pub(crate) fn host_has() -> bool {
        false
    }

    pub(super) fn residual(_x: f64, _y: f64, _z: f64) -> Option<f64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softfp::{exact_arith, fast_arith, status};
    use proptest::prelude::*;

    const OPS: [Op; 5] = [Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Sqrt];

    /// Doubles with the edge cases weighted in: zeros, infinities, PA-RISC
    /// quiet and signaling NaNs, denormals, the normal boundary, extremes.
    fn double() -> impl Strategy<Value = u64> {
        let special = prop::sample::select(vec![
            0u64,
            0x0000_0000_0000_0001,
            0x000f_ffff_ffff_ffff,
            0x0010_0000_0000_0000,
            0x0010_0000_0000_0001,
            0x3ff0_0000_0000_0000,
            0x7fef_ffff_ffff_ffff,
            0x7ff0_0000_0000_0000,
            0x7ff4_0000_0000_0000,
            0x7ff8_0000_0000_0001,
            0x7ff0_0000_0000_0001,
        ]);
        let sign = any::<bool>().prop_map(|s| if s { 1u64 << 63 } else { 0 });
        let tiny = any::<u64>().prop_map(|b| b & 0x801f_ffff_ffff_ffff);
        let near_one = (-1e3f64..1e3).prop_map(f64::to_bits);
        prop_oneof![
            (special, sign).prop_map(|(b, s)| b | s),
            any::<u64>(),
            tiny,
            near_one,
        ]
    }

    fn single() -> impl Strategy<Value = u64> {
        let special = prop::sample::select(vec![
            0u32, 1, 0x007f_ffff, 0x0080_0000, 0x0080_0001, 0x3f80_0000, 0x7f7f_ffff, 0x7f80_0000, 0x7fa0_0000,
            0x7fc0_0001,
        ]);
        let sign = any::<bool>().prop_map(|s| if s { 1u32 << 31 } else { 0 });
        prop_oneof![
            (special, sign).prop_map(|(b, s)| b | s),
            any::<u32>(),
            any::<u32>().prop_map(|b| b & 0x80ff_ffff),
            (-1e3f32..1e3).prop_map(f32::to_bits),
        ]
        .prop_map(u64::from)
    }

    /// Status words in round-to-nearest with any flags, enables and queue.
    fn nearest_status() -> impl Strategy<Value = u32> {
        any::<u32>().prop_map(|s| s & !(3 << status::RM_SHIFT))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]

        /// With the fast path, every helper returns exactly what the
        /// software path returns: bits, status and trap.
        #[test]
        fn fast_path_equals_software_double(st in nearest_status(), a in double(), b in double()) {
            for op in OPS {
                prop_assert_eq!(fast_arith(op, false, st, a, b), exact_arith(op, false, st, a, b), "{:?} {:#x} {:#x}", op, a, b);
            }
        }

        #[test]
        fn fast_path_equals_software_single(st in nearest_status(), a in single(), b in single()) {
            for op in OPS {
                prop_assert_eq!(fast_arith(op, true, st, a, b), exact_arith(op, true, st, a, b), "{:?} {:#x} {:#x}", op, a, b);
            }
        }

        /// A difference computed exactly: cancellation to zero and near it.
        #[test]
        fn cancellation(st in nearest_status(), a in double(), ulps in -3i64..3) {
            let b = (a as i64).wrapping_add(ulps) as u64;
            for op in [Op::Add, Op::Sub] {
                let b = if op == Op::Add { b ^ 1 << 63 } else { b };
                prop_assert_eq!(fast_arith(op, false, st, a, b), exact_arith(op, false, st, a, b));
            }
        }
    }

    #[test]
    fn ordinary_operands_take_the_fast_path() {
        let (x, y) = (1.5f64.to_bits(), 2.25f64.to_bits());
        assert_eq!(nearest(Op::Mul, false, x, y), Some((3.375f64.to_bits(), false)));
        assert_eq!(nearest(Op::Div, false, 1f64.to_bits(), 3f64.to_bits()).map(|r| r.1), Some(true));
        assert_eq!(nearest(Op::Sub, false, x, x), Some((0, false)), "exact zero");
        assert_eq!(nearest(Op::Mul, false, f64::MAX.to_bits(), y), None, "overflow");
        assert_eq!(nearest(Op::Mul, false, f64::MIN_POSITIVE.to_bits(), 0.5f64.to_bits()), None, "tiny");
        assert_eq!(nearest(Op::Add, true, 0x7fa0_0000, 0x3f80_0000), None, "NaN operand");
        assert_eq!(nearest(Op::Add, false, f64::MAX.to_bits(), f64::MAX.to_bits()), None, "overflow");
        assert_eq!(nearest(Op::Sqrt, false, 4f64.to_bits(), 0), Some((2f64.to_bits(), false)));
        assert_eq!(nearest(Op::Add, true, 0x3f80_0000, 0x3380_0000), Some((0x3f80_0000, true)), "1 + 2^-24");
    }
}
