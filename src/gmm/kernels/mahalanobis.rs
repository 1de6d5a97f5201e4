//! Mahalanobis distances `‖x·P − o‖²` of a block of rows under an upper-triangular factor `P`:
//! the full-covariance E-step at small and moderate `d`.
//!
//! The block is transposed (`xt`, one row per feature, the data rows along it), so that a
//! vector register holds one feature of several data rows. For each group of rows, a tile of
//! `J` output columns `y_j = Σ_k x_k P_kj` stays in registers while `k` runs over the features,
//! then `(y_j − o_j)²` is added to the distance. Every `y_j` is summed in order of `k` from 0
//! and every distance in order of `j`, with a multiplication and an addition per term (no
//! fused multiply-add), so all builds and tile widths give the bits of the plain loop
//! `for j { y = 0; for k ≤ j { y += x_k·P_kj }; dist += (y − o_j)² }`: a tile only multiplies
//! some of the triangle's zeros as well, and adding `x·0 = ±0` to a sum leaves it unchanged.
//!
//! The vector builds are written with `core::arch` intrinsics (the compiler vectorises these
//! loops along the wrong axis on its own) and chosen by [`simd_dispatch!`].

use crate::linalg::simd_dispatch;

/// The transposed block's rows are padded to a multiple of this many data rows (the largest
/// row group of the vector builds).
pub(crate) const ROW_ALIGN: usize = 32;

/// Columns of `P` are padded with zeros to a multiple of this (the widest tile).
const COLUMN_ALIGN: usize = 8;

/// An upper-triangular factor and its offsets, with the columns padded with zeros.
#[derive(Debug, Clone)]
pub(crate) struct PaddedFactor {
    /// `d × width` row-major.
    p: Vec<f64>,
    /// `width` offsets (zeros past `d`).
    off: Vec<f64>,
    d: usize,
    width: usize,
}

impl PaddedFactor {
    /// `p` is `d × d` row-major upper triangular, `off` has `d` values.
    pub(crate) fn new(p: &[f64], off: &[f64]) -> Self {
        let d = off.len();
        let width = d.div_ceil(COLUMN_ALIGN) * COLUMN_ALIGN;
        let mut padded = vec![0.0; d * width];
        for (dst, src) in padded.chunks_exact_mut(width).zip(p.chunks_exact(d.max(1))) {
            dst[..d].copy_from_slice(src);
        }
        let mut offsets = vec![0.0; width];
        offsets[..d].copy_from_slice(off);
        PaddedFactor {
            p: padded,
            off: offsets,
            d,
            width,
        }
    }
}

/// `dist[i] = ‖x_i·P − o‖²` for the `stride` rows of `xt` (`d` rows of `stride` values,
/// `stride` a multiple of [`ROW_ALIGN`]; rows past the block's end hold zeros and get
/// distances the caller ignores).
pub(crate) fn distances(xt: &[f64], stride: usize, f: &PaddedFactor, dist: &mut [f64]) {
    // The vector builds step through the rows 32 (AVX-512) or 8 (AVX2) at a time.
    assert!(stride.is_multiple_of(ROW_ALIGN) && xt.len() >= f.d * stride && dist.len() >= stride);
    simd_dispatch!(
        avx512: avx512::distances,
        avx2: avx2::distances,
        scalar: plain_distances,
        (xt: &[f64], stride: usize, f: &PaddedFactor, dist: &mut [f64])
    )
}

/// The plain loop (the scalar build, and the reference of the others).
fn plain_distances(xt: &[f64], stride: usize, f: &PaddedFactor, dist: &mut [f64]) {
    let (d, width) = (f.d, f.width);
    for (i, out) in dist[..stride].iter_mut().enumerate() {
        let mut total = 0.0;
        for j in 0..d {
            let mut y = 0.0;
            for k in 0..=j {
                y += xt[k * stride + i] * f.p[k * width + j];
            }
            let t = y - f.off[j];
            total += t * t;
        }
        *out = total;
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // registers indexed by tile position
mod avx512 {
    use super::PaddedFactor;
    use std::arch::x86_64::*;

    /// AVX-512F build: 8 rows per vector; tiles of 4 columns × 4 vectors up to 8 features,
    /// else 8 columns × 2 vectors (16 accumulators either way).
    ///
    /// # Safety
    /// The CPU must support AVX-512F; the slices must be as [`super::distances`] checks.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn distances(xt: &[f64], stride: usize, f: &PaddedFactor, dist: &mut [f64]) {
        unsafe {
            if f.d <= 8 {
                tiles::<4, 4>(xt, stride, f, dist)
            } else {
                tiles::<2, 8>(xt, stride, f, dist)
            }
        }
    }

    #[inline(always)]
    unsafe fn tiles<const RG: usize, const J: usize>(
        xt: &[f64],
        stride: usize,
        f: &PaddedFactor,
        dist: &mut [f64],
    ) {
        // SAFETY: the caller has AVX-512F (see `distances`); each access below says why it is in bounds.
        unsafe {
            let (d, width) = (f.d, f.width);
            let (x, p, off) = (xt.as_ptr(), f.p.as_ptr(), f.off.as_ptr());
            let mut base = 0;
            while base < stride {
                let mut total = [_mm512_setzero_pd(); RG];
                let mut j0 = 0;
                while j0 < d {
                    let mut acc = [[_mm512_setzero_pd(); J]; RG];
                    for k in 0..(j0 + J).min(d) {
                        let mut xk = [_mm512_setzero_pd(); RG];
                        for (r, v) in xk.iter_mut().enumerate() {
                            // SAFETY: k < d and base + 8·RG ≤ stride: inside `xt`.
                            *v = _mm512_loadu_pd(x.add(k * stride + base + 8 * r));
                        }
                        for t in 0..J {
                            // SAFETY: j0 + J ≤ width (columns padded to a multiple of 8).
                            let pv = _mm512_set1_pd(*p.add(k * width + j0 + t));
                            for r in 0..RG {
                                acc[r][t] = _mm512_add_pd(acc[r][t], _mm512_mul_pd(xk[r], pv));
                            }
                        }
                    }
                    for t in 0..J {
                        // SAFETY: j0 + t < width.
                        let o = _mm512_set1_pd(*off.add(j0 + t));
                        for r in 0..RG {
                            let v = _mm512_sub_pd(acc[r][t], o);
                            total[r] = _mm512_add_pd(total[r], _mm512_mul_pd(v, v));
                        }
                    }
                    j0 += J;
                }
                for (r, v) in total.iter().enumerate() {
                    // SAFETY: base + 8·RG ≤ stride ≤ dist.len().
                    _mm512_storeu_pd(dist.as_mut_ptr().add(base + 8 * r), *v);
                }
                base += 8 * RG;
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[allow(clippy::needless_range_loop)] // registers indexed by tile position
mod avx2 {
    use super::PaddedFactor;
    use std::arch::x86_64::*;

    /// AVX2 build: 4 rows per vector, tiles of 4 columns × 2 vectors (8 accumulators).
    ///
    /// # Safety
    /// The CPU must support AVX2; the slices must be as [`super::distances`] checks.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn distances(xt: &[f64], stride: usize, f: &PaddedFactor, dist: &mut [f64]) {
        const RG: usize = 2;
        const J: usize = 4;
        let (d, width) = (f.d, f.width);
        let (x, p, off) = (xt.as_ptr(), f.p.as_ptr(), f.off.as_ptr());
        let mut base = 0;
        while base < stride {
            let mut total = [_mm256_setzero_pd(); RG];
            let mut j0 = 0;
            while j0 < d {
                let mut acc = [[_mm256_setzero_pd(); J]; RG];
                for k in 0..(j0 + J).min(d) {
                    let mut xk = [_mm256_setzero_pd(); RG];
                    for (r, v) in xk.iter_mut().enumerate() {
                        // SAFETY: k < d and base + 4·RG ≤ stride: inside `xt`.
                        *v = unsafe { _mm256_loadu_pd(x.add(k * stride + base + 4 * r)) };
                    }
                    for t in 0..J {
                        // SAFETY: j0 + J ≤ width (columns padded to a multiple of 8).
                        let pv = _mm256_set1_pd(unsafe { *p.add(k * width + j0 + t) });
                        for r in 0..RG {
                            acc[r][t] = _mm256_add_pd(acc[r][t], _mm256_mul_pd(xk[r], pv));
                        }
                    }
                }
                for t in 0..J {
                    // SAFETY: j0 + t < width.
                    let o = _mm256_set1_pd(unsafe { *off.add(j0 + t) });
                    for r in 0..RG {
                        let v = _mm256_sub_pd(acc[r][t], o);
                        total[r] = _mm256_add_pd(total[r], _mm256_mul_pd(v, v));
                    }
                }
                j0 += J;
            }
            for (r, v) in total.iter().enumerate() {
                // SAFETY: base + 4·RG ≤ stride ≤ dist.len().
                unsafe { _mm256_storeu_pd(dist.as_mut_ptr().add(base + 4 * r), *v) };
            }
            base += 4 * RG;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::SimdLevel;

    #[test]
    fn every_build_gives_the_plain_loops_bits() {
        for d in [1, 3, 8, 9, 17, 24, 25, 40] {
            let rows: usize = 37;
            let x: Vec<Vec<f64>> = (0..rows)
                .map(|i| {
                    (0..d)
                        .map(|j| ((i * 7 + j * 13) % 19) as f64 * 0.37 - 3.1)
                        .collect()
                })
                .collect();
            let p: Vec<f64> = (0..d * d)
                .map(|e| {
                    let (i, j) = (e / d, e % d);
                    if i <= j {
                        0.5 + ((i * 3 + j) % 7) as f64 * 0.11
                    } else {
                        0.0
                    }
                })
                .collect();
            let off: Vec<f64> = (0..d).map(|j| j as f64 * 0.3 - 1.0).collect();
            let stride = rows.div_ceil(ROW_ALIGN) * ROW_ALIGN;
            let mut xt = vec![0.0; d * stride];
            for (i, row) in x.iter().enumerate() {
                for (j, &v) in row.iter().enumerate() {
                    xt[j * stride + i] = v;
                }
            }
            let f = PaddedFactor::new(&p, &off);
            let mut want = vec![0.0; stride];
            plain_distances(&xt, stride, &f, &mut want);
            // The plain loop on the untransposed rows.
            for (i, row) in x.iter().enumerate() {
                let mut total = 0.0;
                for j in 0..d {
                    let y: f64 = (0..=j).fold(0.0, |y, k| y + row[k] * p[k * d + j]);
                    total += (y - off[j]) * (y - off[j]);
                }
                assert_eq!(want[i], total, "d = {d}");
            }
            let levels = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512];
            for level in levels.into_iter().filter(|&l| l <= SimdLevel::detected()) {
                let mut dist = vec![f64::NAN; stride];
                match level {
                    SimdLevel::Scalar => plain_distances(&xt, stride, &f, &mut dist),
                    #[cfg(target_arch = "x86_64")]
                    SimdLevel::Avx2 => unsafe { avx2::distances(&xt, stride, &f, &mut dist) },
                    #[cfg(target_arch = "x86_64")]
                    SimdLevel::Avx512 => unsafe { avx512::distances(&xt, stride, &f, &mut dist) },
                    #[allow(unreachable_patterns)]
                    _ => unreachable!(),
                }
                assert_eq!(&dist[..rows], &want[..rows], "d = {d}, {level}");
            }
        }
    }
}
