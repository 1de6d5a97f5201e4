//! Small numerical helpers of the hot loops: lane-wise sums and maxima (a fixed order that
//! vectorises), squared distances, a vectorisable `exp` and the row-wise log-sum-exp.

use ndarray::ArrayViewMut2;

use crate::linalg::simd_dispatch;

/// Squared Euclidean distance with four independent accumulators (vectorises).
#[inline(always)]
pub(crate) fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut ca = a.chunks_exact(4);
    let mut cb = b.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            let t = x[l] - y[l];
            acc[l] += t * t;
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        let t = x - y;
        tail += t * t;
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Sum of `v` in four interleaved lanes, `(l0 + l1) + (l2 + l3)` then the tail in order: a
/// fixed order (the same bits on every CPU) that vectorises, unlike a single running sum.
#[inline(always)]
pub(crate) fn lane_sum(v: &[f64]) -> f64 {
    lane_sum_of(v, |x| x)
}

/// [`lane_sum`] of `f` applied to each value.
#[inline(always)]
pub(crate) fn lane_sum_of(v: &[f64], f: impl Fn(f64) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            acc[l] += f(c[l]);
        }
    }
    let tail: f64 = chunks.remainder().iter().map(|&x| f(x)).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// Largest value of `v` ignoring NaN (as `f64::max`), in four lanes; `−∞` when `v` is empty
/// or all NaN. The maximum does not depend on the order, so this equals a sequential fold.
#[inline(always)]
pub(crate) fn lane_max(v: &[f64]) -> f64 {
    let mut acc = [f64::NEG_INFINITY; 4];
    let mut chunks = v.chunks_exact(4);
    for c in &mut chunks {
        for l in 0..4 {
            acc[l] = acc[l].max(c[l]);
        }
    }
    let tail = chunks
        .remainder()
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    acc[0].max(acc[1]).max(acc[2].max(acc[3])).max(tail)
}

/// `‖a‖²` in four lanes, as [`lane_sum`] sums.
#[inline(always)]
pub(crate) fn squared_norm(a: &[f64]) -> f64 {
    lane_sum_of(a, |v| v * v)
}

/// Writes each row's log-sum-exp `lse(w)` of weighted log-probabilities to `log_norm`. The
/// rows are used as scratch: with `to_resp` they end as the responsibilities
/// `exp(w − lse(w))`, otherwise as unnormalised exponentials.
pub(crate) fn log_sum_exp_rows(w: ArrayViewMut2<f64>, log_norm: &mut [f64], to_resp: bool) {
    simd_dispatch!(
        log_sum_exp_rows_generic,
        (w: ArrayViewMut2<f64>, log_norm: &mut [f64], to_resp: bool)
    )
}

#[inline(always)]
fn log_sum_exp_rows_generic(mut w: ArrayViewMut2<f64>, log_norm: &mut [f64], to_resp: bool) {
    for (i, mut row) in w.outer_iter_mut().enumerate() {
        let row = row.as_slice_mut().expect("rows are contiguous");
        let max = lane_max(row);
        let shift = if max.is_finite() { max } else { 0.0 };
        // exp(w − shift) in place, then a sum over four lanes (both vectorise): one exponential
        // per entry, and the responsibilities are the exponentials divided by their sum.
        for v in row.iter_mut() {
            *v = fast_exp(*v - shift);
        }
        let sum = lane_sum(row);
        if to_resp {
            let inv = 1.0 / sum;
            for v in row.iter_mut() {
                *v *= inv;
            }
        }
        log_norm[i] = sum.ln() + shift;
    }
}

/// `exp(x)` within a few ulps, written so that it vectorises: Cody–Waite reduction
/// `x = n·ln 2 + r`, a degree-13 Taylor polynomial for `exp(r)` on `|r| ≤ ln 2 / 2` (Estrin's
/// scheme), and `2ⁿ` applied to the exponent bits. Below −708 the result is 0 (instead of a subnormal), above
/// 709 it is infinity; NaN stays NaN. No fused multiply-adds, so every CPU gives the same bits.
#[inline(always)]
pub(crate) fn fast_exp(x: f64) -> f64 {
    // ln 2 split as in fdlibm: LN2_HI has its low 21 bits zero, so n·LN2_HI is exact.
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
    const SHIFTER: f64 = 6_755_399_441_055_744.0; // 1.5·2⁵²: adding it rounds to an integer
    const INV_FACT: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5_040.0,
        1.0 / 40_320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let xc = x.clamp(-708.0, 709.0);
    let t = xc * std::f64::consts::LOG2_E + SHIFTER;
    let n = t - SHIFTER;
    let r = (xc - n * LN2_HI) - n * LN2_LO;
    // Estrin's scheme: the same polynomial as Horner's rule with a dependency chain of depth
    // 7 instead of 26, so consecutive entries overlap in the pipeline.
    let c = &INV_FACT;
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let pair = |i: usize| c[i] + c[i + 1] * r;
    let low = (pair(0) + r2 * pair(2)) + r4 * (pair(4) + r2 * pair(6));
    let high = (pair(8) + r2 * pair(10)) + r4 * pair(12);
    let p = low + r8 * high;
    let n_bits = (t.to_bits() as i64).wrapping_sub(SHIFTER.to_bits() as i64);
    let scaled = f64::from_bits((p.to_bits() as i64).wrapping_add(n_bits << 52) as u64);
    if x < -708.0 {
        0.0
    } else if x > 709.0 {
        f64::INFINITY
    } else if x.is_nan() {
        x
    } else {
        scaled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squared_distance_matches_naive() {
        let a: Vec<f64> = (0..11).map(|i| i as f64 * 0.3).collect();
        let b: Vec<f64> = (0..11).map(|i| 1.0 - i as f64 * 0.1).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((squared_distance(&a, &b) - naive).abs() < 1e-12);
    }

    #[test]
    fn lane_sum_and_max_match_sequential_folds() {
        for len in [0, 1, 3, 4, 5, 8, 13, 32] {
            let v: Vec<f64> = (0..len)
                .map(|i| ((i * 37 % 11) as f64 - 4.0) * 0.7)
                .collect();
            let sequential_sum: f64 = v.iter().sum();
            assert!((lane_sum(&v) - sequential_sum).abs() < 1e-12, "{len}");
            let sequential_max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(lane_max(&v), sequential_max, "{len}");
        }
        assert_eq!(lane_max(&[f64::NAN, 1.0, f64::NAN, -2.0, 0.5]), 1.0);
        assert_eq!(lane_max(&[f64::NAN; 6]), f64::NEG_INFINITY);
    }

    #[test]
    fn fast_exp_is_within_a_few_ulps() {
        assert_eq!(fast_exp(0.0), 1.0);
        assert_eq!(fast_exp(-800.0), 0.0);
        assert_eq!(fast_exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(fast_exp(800.0), f64::INFINITY);
        assert!(fast_exp(f64::NAN).is_nan());
        let mut worst: f64 = 0.0;
        for i in 0..200_000 {
            let x = -708.0 + 717.0 * (i as f64 / 200_000.0) + 1e-7 * (i % 7) as f64;
            let (got, want) = (fast_exp(x), x.exp());
            worst = worst.max((got - want).abs() / want);
        }
        assert!(worst < 4.0 * f64::EPSILON, "worst relative error {worst:e}");
        // Below the cut-off only values under 1e-307 are dropped.
        assert!((fast_exp(-708.2) - (-708.2f64).exp()).abs() < 1e-307);
    }

    #[test]
    fn log_sum_exp_survives_huge_magnitudes() {
        let mut w = ndarray::array![[-1e9, -1e9 - 1.0], [-5e8, -3.0]];
        let mut ln = [0.0; 2];
        log_sum_exp_rows(w.view_mut(), &mut ln, true);
        assert!(ln.iter().all(|v| v.is_finite()));
        assert!((ln[1] + 3.0).abs() < 1e-12);
        // At magnitude 1e9 one ulp is ~1e-7: responsibilities are as exact as that allows.
        assert!((w[[0, 0]] + w[[0, 1]] - 1.0).abs() < 1e-6);
        assert_eq!(w[[1, 1]], 1.0);
    }
}
