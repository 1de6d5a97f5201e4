//! The hot loops of the engine: weighted log-probabilities, the E-step with its fused
//! log-sum-exp and M-step moments, the full-covariance scatter and the Gram matrix.
//!
//! Every pass walks the rows in fixed-size tasks run on rayon's global pool. The task size
//! depends only on the number of rows, and per-task partial sums are collected in task order
//! and added sequentially, so results are bit-identical whatever the number of threads.

use std::ops::Range;

use ndarray::{s, Array1, Array2, Array3, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use super::model::Covariances;
use super::params::CovarianceType;
use crate::linalg::{self, simd_dispatch};

/// Rows handled by one parallel task. Depends on `n` only (never on the thread count): about
/// 64 tasks for large inputs, at least 256 and at most 4096 rows each. (The full-covariance
/// scatter may use fewer, larger tasks to bound the memory of its partial sums.)
pub(crate) fn task_rows(n: usize) -> usize {
    let per_task = n.div_ceil(64).div_ceil(64) * 64;
    per_task.clamp(256, 4096)
}

/// Rows of one sub-block inside a task (the unit of the small matrix products).
const BLOCK_ROWS: usize = 256;

/// Runs `f` on each task's row range in parallel and returns the results in task order.
fn map_tasks<T: Send>(n: usize, f: impl Fn(Range<usize>) -> T + Sync + Send) -> Vec<T> {
    map_tasks_sized(n, task_rows(n), f)
}

/// As [`map_tasks`] with `rows` rows per task.
fn map_tasks_sized<T: Send>(
    n: usize,
    rows: usize,
    f: impl Fn(Range<usize>) -> T + Sync + Send,
) -> Vec<T> {
    let rows = rows.max(1);
    let tasks = n.div_ceil(rows);
    (0..tasks)
        .into_par_iter()
        .map(|t| f(t * rows..((t + 1) * rows).min(n)))
        .collect()
}

/// Runs `f` on each task's rows of `x` and the matching rows of `out` in parallel; results come
/// back in task order.
fn map_tasks_mut<T: Send>(
    x: ArrayView2<f64>,
    mut out: ArrayViewMut2<f64>,
    f: impl Fn(ArrayView2<f64>, ArrayViewMut2<f64>) -> T + Sync + Send,
) -> Vec<T> {
    let n = x.nrows();
    debug_assert_eq!(out.nrows(), n);
    let rows = task_rows(n);
    out.axis_chunks_iter_mut(Axis(0), rows)
        .into_par_iter()
        .enumerate()
        .map(|(t, chunk)| {
            let start = t * rows;
            f(x.slice(s![start..start + chunk.nrows(), ..]), chunk)
        })
        .collect()
}

/// Splits `0..n` into consecutive sub-blocks of [`BLOCK_ROWS`].
fn sub_blocks(n: usize) -> impl Iterator<Item = Range<usize>> {
    (0..n)
        .step_by(BLOCK_ROWS)
        .map(move |a| a..(a + BLOCK_ROWS).min(n))
}

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
fn lane_sum(v: &[f64]) -> f64 {
    lane_sum_of(v, |x| x)
}

/// [`lane_sum`] of `f` applied to each value.
#[inline(always)]
fn lane_sum_of(v: &[f64], f: impl Fn(f64) -> f64) -> f64 {
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
fn lane_max(v: &[f64]) -> f64 {
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

/// Up to this many features, the full-covariance log-probabilities use the small-dimension
/// kernel below (loops vectorised across rows) instead of a matrix product per component:
/// for a handful of features the product's setup costs more than its arithmetic.
const SMALL_D: usize = 12;

/// Writes the `b × d` row-major block `xb` transposed into `xt` (`d × b`, row-major).
#[inline(always)]
fn transpose_block(xb: ArrayView2<f64>, xt: &mut [f64]) {
    let b = xb.nrows();
    for (i, xi) in xb.outer_iter().enumerate() {
        for (j, &v) in xi.iter().enumerate() {
            xt[j * b + i] = v;
        }
    }
}

/// `dist[i] = ‖x_i·P − off‖²` for the rows of a transposed block (`xt`, `d × b`), with `P`
/// upper triangular (`p`, d×d row-major): `y_j = Σ_{k≤j} x_k P_kj`, computed for all rows at
/// once so the inner loops run over contiguous rows. `acc` and `dist` hold `b` values.
#[inline(always)]
fn small_upper_distances(
    xt: &[f64],
    b: usize,
    p: &[f64],
    off: &[f64],
    acc: &mut [f64],
    dist: &mut [f64],
) {
    let d = off.len();
    let acc = &mut acc[..b];
    let dist = &mut dist[..b];
    dist.fill(0.0);
    for j in 0..d {
        acc.fill(0.0);
        for k in 0..=j {
            let pkj = p[k * d + j];
            for (a, &x) in acc.iter_mut().zip(&xt[k * b..(k + 1) * b]) {
                *a += x * pkj;
            }
        }
        let o = off[j];
        for (s, &a) in dist.iter_mut().zip(acc.iter()) {
            let t = a - o;
            *s += t * t;
        }
    }
}

/// `‖a‖²` in four lanes, as [`lane_sum`] sums.
#[inline(always)]
fn squared_norm(a: &[f64]) -> f64 {
    lane_sum_of(a, |v| v * v)
}

/// What the log-probability of a row under each component needs, precomputed once per
/// parameter set.
pub(crate) struct LogProb {
    kind: Kind,
    k: usize,
    d: usize,
    /// Per component: `log det(prec_chol)` (the +½·log det precision term).
    log_det: Vec<f64>,
    /// Per component: `ln weight`.
    log_weights: Vec<f64>,
}

enum Kind {
    /// Per component: the precision Cholesky factor and `μ_k·P_k`.
    Full {
        prec: Vec<Array2<f64>>,
        upper: Vec<bool>,
        offsets: Array2<f64>,
    },
    /// [`Kind::Full`] with at most [`SMALL_D`] features and upper-triangular factors: the
    /// small-dimension kernel.
    FullSmall {
        prec: Vec<Array2<f64>>,
        offsets: Array2<f64>,
    },
    /// The shared factor and per component `μ_k·P`.
    Tied {
        prec: Array2<f64>,
        upper: bool,
        offsets: Array2<f64>,
    },
    /// Means and precisions (squared factors), both transposed to d×K: the direct sum.
    Diag {
        means_t: Array2<f64>,
        prec_t: Array2<f64>,
    },
    /// From [`PRODUCT_FORM_D`] features: precisions transposed to d×K, `−2·(μ∘p)ᵀ` and
    /// `Σ_j μ_j² p_j` per component.
    DiagProduct {
        prec_t: Array2<f64>,
        minus_two_mp_t: Array2<f64>,
        mean_terms: Vec<f64>,
    },
    /// Means transposed to d×K and one precision per component: the direct sum.
    Spherical {
        means_t: Array2<f64>,
        prec: Vec<f64>,
    },
    /// From [`PRODUCT_FORM_D`] features: one precision per component, `−2·μᵀ` and `‖μ‖²` per
    /// component.
    SphericalProduct {
        prec: Vec<f64>,
        minus_two_means_t: Array2<f64>,
        mean_norms: Vec<f64>,
    },
}

/// From this many features on, diagonal and spherical log-probabilities take scikit-learn's
/// product form `Σ_j x_j² p_j − 2 Σ_j x_j μ_j p_j + Σ_j μ_j² p_j` (matrix products over a block
/// of rows) instead of the direct sum of `(x_j − μ_j)² p_j`.
const PRODUCT_FORM_D: usize = 8;

fn is_upper(a: &Array2<f64>) -> bool {
    let n = a.nrows();
    (0..n).all(|i| (0..i).all(|j| a[[i, j]] == 0.0))
}

impl LogProb {
    /// Prepares the kernel for the given parameters (shapes are trusted).
    pub(crate) fn new(
        weights: ArrayView1<f64>,
        means: ArrayView2<f64>,
        prec_chol: &Covariances,
    ) -> Self {
        let (k, d) = means.dim();
        let log_weights = weights.iter().map(|w| w.ln()).collect();
        let mut log_det = log_det_cholesky(prec_chol, d);
        if log_det.len() == 1 && k > 1 {
            // Tied: one shared factor.
            log_det = vec![log_det[0]; k];
        }
        let kind = match prec_chol {
            Covariances::Full(p) => {
                let prec: Vec<Array2<f64>> = p.outer_iter().map(|m| m.to_owned()).collect();
                let upper: Vec<bool> = prec.iter().map(is_upper).collect();
                let mut offsets = Array2::zeros((k, d));
                for (c, p) in prec.iter().enumerate() {
                    offsets.row_mut(c).assign(&means.row(c).dot(p));
                }
                if d <= SMALL_D && upper.iter().all(|&u| u) {
                    Kind::FullSmall { prec, offsets }
                } else {
                    Kind::Full {
                        prec,
                        upper,
                        offsets,
                    }
                }
            }
            Covariances::Tied(p) => Kind::Tied {
                prec: p.to_owned(),
                upper: is_upper(p),
                offsets: means.dot(p),
            },
            Covariances::Diag(p) if d >= PRODUCT_FORM_D => {
                let prec = p.mapv(|v| v * v);
                let mp = &means * &prec;
                Kind::DiagProduct {
                    prec_t: prec.t().as_standard_layout().into_owned(),
                    minus_two_mp_t: mp.t().mapv(|v| -2.0 * v),
                    mean_terms: (&mp * &means).sum_axis(Axis(1)).to_vec(),
                }
            }
            Covariances::Diag(p) => Kind::Diag {
                means_t: means.t().as_standard_layout().into_owned(),
                prec_t: p.mapv(|v| v * v).t().as_standard_layout().into_owned(),
            },
            Covariances::Spherical(p) if d >= PRODUCT_FORM_D => Kind::SphericalProduct {
                prec: p.iter().map(|v| v * v).collect(),
                minus_two_means_t: means.t().mapv(|v| -2.0 * v),
                mean_norms: means.outer_iter().map(|m| m.dot(&m)).collect(),
            },
            Covariances::Spherical(p) => Kind::Spherical {
                means_t: means.t().as_standard_layout().into_owned(),
                prec: p.iter().map(|v| v * v).collect(),
            },
        };
        LogProb {
            kind,
            k,
            d,
            log_det,
            log_weights,
        }
    }

    fn scratch(&self) -> Array2<f64> {
        match self.kind {
            // The transposed block, then two rows of per-row values.
            Kind::FullSmall { .. } => Array2::zeros((self.d + 2, BLOCK_ROWS)),
            Kind::Full { .. } | Kind::Tied { .. } | Kind::DiagProduct { .. } => {
                Array2::zeros((BLOCK_ROWS, self.d))
            }
            Kind::Diag { .. } | Kind::Spherical { .. } | Kind::SphericalProduct { .. } => {
                Array2::zeros((0, 0))
            }
        }
    }

    /// Writes the weighted log-probabilities of the rows of `xb` (at most [`BLOCK_ROWS`]) into
    /// `out` (rows × K), as scikit-learn: `-½(d·ln 2π + ‖(x−μ)P‖²) + log det P + ln w`.
    fn weighted(&self, xb: ArrayView2<f64>, out: ArrayViewMut2<f64>, scratch: &mut Array2<f64>) {
        let this = self;
        simd_dispatch!(
            LogProb::weighted_generic,
            (this: &LogProb, xb: ArrayView2<f64>, out: ArrayViewMut2<f64>, scratch: &mut Array2<f64>)
        )
    }

    #[inline(always)]
    fn weighted_generic(
        &self,
        xb: ArrayView2<f64>,
        mut out: ArrayViewMut2<f64>,
        scratch: &mut Array2<f64>,
    ) {
        let b = xb.nrows();
        let d = self.d;
        let k = self.k;
        match &self.kind {
            Kind::FullSmall { prec, offsets } => {
                let buf = scratch.as_slice_mut().expect("owned standard layout");
                let (xt, rest) = buf.split_at_mut(d * BLOCK_ROWS);
                let (acc, dist) = rest.split_at_mut(BLOCK_ROWS);
                transpose_block(xb, xt);
                for ((p, off), mut column) in
                    prec.iter().zip(offsets.outer_iter()).zip(out.columns_mut())
                {
                    let p = p.as_slice().expect("owned standard layout");
                    let off = off.as_slice().expect("owned row is contiguous");
                    small_upper_distances(xt, b, p, off, acc, dist);
                    for (o, &v) in column.iter_mut().zip(dist.iter()) {
                        *o = v;
                    }
                }
            }
            Kind::Full {
                prec,
                upper,
                offsets,
            } => {
                let mut y = scratch.slice_mut(s![..b, ..]);
                for c in 0..k {
                    if upper[c] {
                        linalg::matmul_upper_rhs(y.view_mut(), xb, prec[c].view());
                    } else {
                        linalg::matmul(y.view_mut(), xb, prec[c].view());
                    }
                    let off = offsets.row(c);
                    let off = off.as_slice().expect("owned row is contiguous");
                    for (i, yi) in y.outer_iter().enumerate() {
                        out[[i, c]] = squared_distance(yi.as_slice().expect("contiguous"), off);
                    }
                }
            }
            Kind::Tied {
                prec,
                upper,
                offsets,
            } => {
                let mut y = scratch.slice_mut(s![..b, ..]);
                if *upper {
                    linalg::matmul_upper_rhs(y.view_mut(), xb, prec.view());
                } else {
                    linalg::matmul(y.view_mut(), xb, prec.view());
                }
                let offs = offsets.as_slice().expect("owned standard layout");
                for (yi, mut oi) in y.outer_iter().zip(out.outer_iter_mut()) {
                    let yi = yi.as_slice().expect("contiguous");
                    let oi = oi.as_slice_mut().expect("rows are contiguous");
                    for (o, off) in oi.iter_mut().zip(offs.chunks_exact(d)) {
                        *o = squared_distance(yi, off);
                    }
                }
            }
            Kind::DiagProduct {
                prec_t,
                minus_two_mp_t,
                mean_terms,
            } => {
                // out = −2·x·(μ∘p)ᵀ + x²·pᵀ + Σ μ²p
                linalg::matmul(out.view_mut(), xb, minus_two_mp_t.view());
                let mut sq = scratch.slice_mut(s![..b, ..]);
                sq.zip_mut_with(&xb, |q, &v| *q = v * v);
                linalg::add_matmul(out.view_mut(), sq.view(), prec_t.view());
                for mut oi in out.outer_iter_mut() {
                    for (o, &m) in oi.iter_mut().zip(mean_terms) {
                        *o += m;
                    }
                }
            }
            Kind::SphericalProduct {
                prec,
                minus_two_means_t,
                mean_norms,
            } => {
                // out = (‖x‖² − 2·x·μᵀ + ‖μ‖²)·p
                linalg::matmul(out.view_mut(), xb, minus_two_means_t.view());
                for (xi, mut oi) in xb.outer_iter().zip(out.outer_iter_mut()) {
                    let xi = xi.as_slice().expect("rows are contiguous");
                    let norm = squared_norm(xi);
                    for ((o, &m), &p) in oi.iter_mut().zip(mean_norms).zip(prec) {
                        *o = (*o + norm + m) * p;
                    }
                }
            }
            Kind::Diag { means_t, prec_t } => {
                let mt = means_t.as_slice().expect("owned standard layout");
                let pt = prec_t.as_slice().expect("owned standard layout");
                for (xi, mut oi) in xb.outer_iter().zip(out.outer_iter_mut()) {
                    let xi = xi.as_slice().expect("rows are contiguous");
                    let oi = oi.as_slice_mut().expect("rows are contiguous");
                    diag_distances(xi, mt, Some(pt), oi);
                }
            }
            Kind::Spherical { means_t, prec } => {
                let mt = means_t.as_slice().expect("owned standard layout");
                for (xi, mut oi) in xb.outer_iter().zip(out.outer_iter_mut()) {
                    let xi = xi.as_slice().expect("rows are contiguous");
                    let oi = oi.as_slice_mut().expect("rows are contiguous");
                    diag_distances(xi, mt, None, oi);
                    for (a, &p) in oi.iter_mut().zip(prec) {
                        *a *= p;
                    }
                }
            }
        }
        let c0 = d as f64 * (2.0 * std::f64::consts::PI).ln();
        for mut oi in out.outer_iter_mut() {
            let oi = oi.as_slice_mut().expect("rows are contiguous");
            for ((o, &ld), &lw) in oi.iter_mut().zip(&self.log_det).zip(&self.log_weights) {
                *o = (-0.5 * (c0 + *o) + ld) + lw;
            }
        }
    }
}

/// Per component `c`: `Σ_j (x_j − μ_jc)² · p_jc` (or without `p`), with means and precisions
/// stored d×K; components are handled eight, then four, then one at a time in register
/// accumulators.
#[inline(always)]
fn diag_distances(x: &[f64], means_t: &[f64], prec_t: Option<&[f64]>, out: &mut [f64]) {
    let k = out.len();
    let mut c0 = 0;
    while k - c0 >= 8 {
        diag_chunk::<8>(x, means_t, prec_t, k, c0, out);
        c0 += 8;
    }
    if k - c0 >= 4 {
        diag_chunk::<4>(x, means_t, prec_t, k, c0, out);
        c0 += 4;
    }
    while c0 < k {
        diag_chunk::<1>(x, means_t, prec_t, k, c0, out);
        c0 += 1;
    }
}

#[inline(always)]
fn diag_chunk<const W: usize>(
    x: &[f64],
    means_t: &[f64],
    prec_t: Option<&[f64]>,
    k: usize,
    c0: usize,
    out: &mut [f64],
) {
    let mut acc = [0.0f64; W];
    match prec_t {
        Some(pt) => {
            for (j, &xj) in x.iter().enumerate() {
                let mu = &means_t[j * k + c0..j * k + c0 + W];
                let pr = &pt[j * k + c0..j * k + c0 + W];
                for l in 0..W {
                    let t = xj - mu[l];
                    acc[l] += t * t * pr[l];
                }
            }
        }
        None => {
            for (j, &xj) in x.iter().enumerate() {
                let mu = &means_t[j * k + c0..j * k + c0 + W];
                for l in 0..W {
                    let t = xj - mu[l];
                    acc[l] += t * t;
                }
            }
        }
    }
    out[c0..c0 + W].copy_from_slice(&acc);
}

/// `log det` of each component's precision Cholesky factor (sum of the logs of its diagonal).
pub(crate) fn log_det_cholesky(prec_chol: &Covariances, d: usize) -> Vec<f64> {
    match prec_chol {
        Covariances::Full(p) => p
            .outer_iter()
            .map(|m| (0..d).map(|i| m[[i, i]].ln()).sum())
            .collect(),
        Covariances::Tied(p) => vec![(0..d).map(|i| p[[i, i]].ln()).sum()],
        Covariances::Diag(p) => p
            .outer_iter()
            .map(|r| r.iter().map(|v| v.ln()).sum())
            .collect(),
        Covariances::Spherical(p) => p.iter().map(|v| d as f64 * v.ln()).collect(),
    }
}

/// Writes each row's log-sum-exp `lse(w)` of weighted log-probabilities to `log_norm`. The
/// rows are used as scratch: with `to_resp` they end as the responsibilities
/// `exp(w − lse(w))`, otherwise as unnormalised exponentials.
fn log_sum_exp_rows(w: ArrayViewMut2<f64>, log_norm: &mut [f64], to_resp: bool) {
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
fn fast_exp(x: f64) -> f64 {
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

/// Responsibility-weighted moments of the rows: `Σ r`, `Σ r·x` and optionally `Σ r·x²`.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    pub(crate) nk: Array1<f64>,
    pub(crate) rx: Array2<f64>,
    pub(crate) rx2: Option<Array2<f64>>,
}

impl Moments {
    fn zeros(k: usize, d: usize, squares: bool) -> Self {
        Moments {
            nk: Array1::zeros(k),
            rx: Array2::zeros((k, d)),
            rx2: squares.then(|| Array2::zeros((k, d))),
        }
    }

    fn add_rows(&mut self, xb: ArrayView2<f64>, rb: ArrayView2<f64>, squares: &mut Array2<f64>) {
        for ri in rb.outer_iter() {
            for (n, r) in self.nk.iter_mut().zip(ri.iter()) {
                *n += r;
            }
        }
        linalg::add_matmul(self.rx.view_mut(), rb.t(), xb);
        if let Some(rx2) = &mut self.rx2 {
            let b = xb.nrows();
            let mut sq = squares.slice_mut(s![..b, ..]);
            sq.zip_mut_with(&xb, |s, &v| *s = v * v);
            linalg::add_matmul(rx2.view_mut(), rb.t(), sq.view());
        }
    }

    fn add(&mut self, other: &Moments) {
        self.nk += &other.nk;
        self.rx += &other.rx;
        if let (Some(a), Some(b)) = (&mut self.rx2, &other.rx2) {
            *a += b;
        }
    }

    fn sum(parts: impl IntoIterator<Item = Moments>, k: usize, d: usize, squares: bool) -> Self {
        let mut total = Moments::zeros(k, d, squares);
        for p in parts {
            total.add(&p);
        }
        total
    }
}

/// Moments of given responsibilities (`resp` N×K, standard layout) over the rows of `x`.
pub(crate) fn moments(x: ArrayView2<f64>, resp: ArrayView2<f64>, squares: bool) -> Moments {
    let (k, d) = (resp.ncols(), x.ncols());
    let parts = map_tasks(x.nrows(), |rows| {
        let mut m = Moments::zeros(k, d, squares);
        let mut sq = Array2::zeros((BLOCK_ROWS, d));
        for sub in sub_blocks(rows.len()) {
            let sub = rows.start + sub.start..rows.start + sub.end;
            m.add_rows(
                x.slice(s![sub.clone(), ..]),
                resp.slice(s![sub, ..]),
                &mut sq,
            );
        }
        m
    });
    Moments::sum(parts, k, d, squares)
}

/// One E-step: writes the responsibilities into `resp` (N×K, standard layout) and returns the
/// sum over rows of the log-likelihood together with the moments of the new responsibilities.
pub(crate) fn e_step(
    x: ArrayView2<f64>,
    lp: &LogProb,
    resp: &mut Array2<f64>,
    squares: bool,
) -> (f64, Moments) {
    let (k, d) = (lp.k, lp.d);
    let parts = map_tasks_mut(x, resp.view_mut(), |xc, mut rc| {
        let mut m = Moments::zeros(k, d, squares);
        let mut scratch = lp.scratch();
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        let mut ll = 0.0;
        let mut sq = Array2::zeros((BLOCK_ROWS, d));
        for rows in sub_blocks(xc.nrows()) {
            let xb = xc.slice(s![rows.clone(), ..]);
            let mut rb = rc.slice_mut(s![rows.clone(), ..]);
            lp.weighted(xb, rb.view_mut(), &mut scratch);
            let ln = &mut log_norm[..rows.len()];
            log_sum_exp_rows(rb.view_mut(), ln, true);
            ll += ln.iter().sum::<f64>();
            m.add_rows(xb, rb.view(), &mut sq);
        }
        (ll, m)
    });
    let mut ll = 0.0;
    let mut total = Moments::zeros(k, d, squares);
    for (l, m) in parts {
        ll += l;
        total.add(&m);
    }
    (ll, total)
}

/// Per row: the log-likelihood and the component with the largest weighted log-probability.
pub(crate) fn score_rows(x: ArrayView2<f64>, lp: &LogProb) -> (Array1<f64>, Array1<usize>) {
    let k = lp.k;
    let parts = map_tasks(x.nrows(), |rows| {
        let xc = x.slice(s![rows, ..]);
        let mut scratch = lp.scratch();
        let mut w = Array2::zeros((BLOCK_ROWS, k));
        let mut ll = Vec::with_capacity(xc.nrows());
        let mut labels = Vec::with_capacity(xc.nrows());
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        for rows in sub_blocks(xc.nrows()) {
            let b = rows.len();
            let mut wb = w.slice_mut(s![..b, ..]);
            lp.weighted(xc.slice(s![rows, ..]), wb.view_mut(), &mut scratch);
            for row in wb.outer_iter() {
                let mut best = 0;
                for c in 1..k {
                    if row[c] > row[best] {
                        best = c;
                    }
                }
                labels.push(best);
            }
            log_sum_exp_rows(wb, &mut log_norm[..b], false);
            ll.extend_from_slice(&log_norm[..b]);
        }
        (ll, labels)
    });
    let mut ll = Vec::with_capacity(x.nrows());
    let mut labels = Vec::with_capacity(x.nrows());
    for (l, lab) in parts {
        ll.extend(l);
        labels.extend(lab);
    }
    (Array1::from(ll), Array1::from(labels))
}

/// Responsibilities (posterior component probabilities) of each row.
pub(crate) fn responsibilities(x: ArrayView2<f64>, lp: &LogProb) -> Array2<f64> {
    let mut resp = Array2::zeros((x.nrows(), lp.k));
    map_tasks_mut(x, resp.view_mut(), |xc, mut rc| {
        let mut scratch = lp.scratch();
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        for rows in sub_blocks(xc.nrows()) {
            let b = rows.len();
            let mut rb = rc.slice_mut(s![rows.clone(), ..]);
            lp.weighted(xc.slice(s![rows, ..]), rb.view_mut(), &mut scratch);
            log_sum_exp_rows(rb, &mut log_norm[..b], true);
        }
    });
    resp
}

/// Per component `Σ_i r_ik (x_i − μ_k)(x_i − μ_k)ᵀ` (K×d×d, symmetric).
pub(crate) fn full_scatter(
    x: ArrayView2<f64>,
    resp: ArrayView2<f64>,
    means: ArrayView2<f64>,
) -> Array3<f64> {
    let (k, d) = means.dim();
    // Each task keeps a K×d×d partial sum until the ordered reduction: cap their total at
    // about 16 MiB (the cap depends on the shapes only, never on the thread count).
    let partial_bytes = (k * d * d * std::mem::size_of::<f64>()).max(1);
    let max_tasks = ((16 << 20) / partial_bytes).clamp(4, 64);
    let rows = task_rows(x.nrows()).max(x.nrows().div_ceil(max_tasks));
    let parts = map_tasks_sized(x.nrows(), rows, |rows| {
        let xc = x.slice(s![rows.clone(), ..]);
        let rc = resp.slice(s![rows, ..]);
        let mut s_part = Array3::<f64>::zeros((k, d, d));
        let mut weighted = Array2::<f64>::zeros((BLOCK_ROWS, d));
        for sub in sub_blocks(xc.nrows()) {
            let b = sub.len();
            let xb = xc.slice(s![sub.clone(), ..]);
            let rb = rc.slice(s![sub, ..]);
            for c in 0..k {
                let mu = means.row(c);
                let mu = mu.as_slice().expect("owned standard layout");
                let mut wb = weighted.slice_mut(s![..b, ..]);
                centre_and_weight(xb, rb.column(c), mu, wb.view_mut());
                linalg::add_syrk_lower(s_part.index_axis_mut(Axis(0), c), wb.t(), wb.view());
            }
        }
        s_part
    });
    let mut total = Array3::<f64>::zeros((k, d, d));
    for p in parts {
        total += &p;
    }
    for mut m in total.outer_iter_mut() {
        for i in 0..d {
            for j in (i + 1)..d {
                m[[i, j]] = m[[j, i]];
            }
        }
    }
    total
}

/// `out = √r ∘ (x − μ)` row-wise, with the wide version when available; then
/// `outᵀ·out = Σ r (x − μ)(x − μ)ᵀ`.
fn centre_and_weight(xb: ArrayView2<f64>, r: ArrayView1<f64>, mu: &[f64], out: ArrayViewMut2<f64>) {
    #[inline(always)]
    fn generic(xb: ArrayView2<f64>, r: ArrayView1<f64>, mu: &[f64], mut out: ArrayViewMut2<f64>) {
        // Blocks of rows of a standard-layout matrix and an owned scratch: flat rows.
        let d = mu.len().max(1);
        let xs = xb.as_slice().expect("a block of standard-layout rows");
        let os = out.as_slice_mut().expect("owned standard-layout scratch");
        for ((xi, oi), &ri) in xs.chunks_exact(d).zip(os.chunks_exact_mut(d)).zip(r.iter()) {
            let w = ri.sqrt();
            for ((&x, &m), o) in xi.iter().zip(mu).zip(oi.iter_mut()) {
                *o = w * (x - m);
            }
        }
    }
    simd_dispatch!(
        generic,
        (xb: ArrayView2<f64>, r: ArrayView1<f64>, mu: &[f64], out: ArrayViewMut2<f64>)
    )
}

/// `XᵀX` (d×d, symmetric).
pub(crate) fn gram(x: ArrayView2<f64>) -> Array2<f64> {
    let d = x.ncols();
    let parts = map_tasks(x.nrows(), |rows| {
        let xc = x.slice(s![rows, ..]);
        let mut g = Array2::<f64>::zeros((d, d));
        for sub in sub_blocks(xc.nrows()) {
            let xb = xc.slice(s![sub, ..]);
            linalg::add_syrk_lower(g.view_mut(), xb.t(), xb);
        }
        g
    });
    let mut total = Array2::<f64>::zeros((d, d));
    for p in parts {
        total += &p;
    }
    for i in 0..d {
        for j in (i + 1)..d {
            total[[i, j]] = total[[j, i]];
        }
    }
    total
}

/// Which moments the M-step of a covariance type needs besides `Σ r` and `Σ r·x`.
pub(crate) fn needs_squares(covariance_type: CovarianceType) -> bool {
    matches!(
        covariance_type,
        CovarianceType::Diag | CovarianceType::Spherical
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_size_depends_on_rows_only() {
        assert_eq!(task_rows(10), 256);
        assert_eq!(task_rows(100_000), 1600);
        assert_eq!(task_rows(10_000_000), 4096);
    }

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
    fn small_dimension_distances_match_the_matrix_product() {
        let (b, d) = (37, 5);
        let x = Array2::from_shape_fn((b, d), |(i, j)| ((i * 7 + j * 3) % 11) as f64 * 0.37 - 1.5);
        let p = Array2::from_shape_fn((d, d), |(i, j)| {
            if i <= j {
                1.0 + (i + 2 * j) as f64 * 0.21
            } else {
                0.0
            }
        });
        let off: Vec<f64> = (0..d).map(|j| j as f64 * 0.4 - 0.6).collect();
        let mut xt = vec![0.0; d * b];
        transpose_block(x.view(), &mut xt);
        let (mut acc, mut dist) = (vec![0.0; b], vec![0.0; b]);
        small_upper_distances(&xt, b, p.as_slice().unwrap(), &off, &mut acc, &mut dist);
        let y = x.dot(&p);
        for (i, yi) in y.outer_iter().enumerate() {
            let naive: f64 = yi.iter().zip(&off).map(|(a, o)| (a - o) * (a - o)).sum();
            assert!((dist[i] - naive).abs() <= 1e-12 * naive.max(1.0), "row {i}");
        }
    }

    #[test]
    fn product_form_matches_the_direct_sum_for_diagonal_and_spherical() {
        // d = 10 takes the product form; compare with the direct formula row by row.
        let (n, k, d) = (300, 3, 10);
        let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * 13 + j * 7) % 17) as f64 * 0.3 - 2.4);
        let means =
            Array2::from_shape_fn((k, d), |(c, j)| (c as f64 - 1.0) * 0.8 + j as f64 * 0.05);
        let weights = Array1::from(vec![0.5, 0.3, 0.2]);
        let diag_chol =
            Array2::from_shape_fn((k, d), |(c, j)| 0.6 + 0.1 * c as f64 + 0.03 * j as f64);
        let sph_chol = Array1::from(vec![0.7, 1.1, 0.9]);
        for prec_chol in [
            Covariances::Diag(diag_chol.clone()),
            Covariances::Spherical(sph_chol.clone()),
        ] {
            let lp = LogProb::new(weights.view(), means.view(), &prec_chol);
            let mut out = Array2::zeros((n, k));
            let mut scratch = lp.scratch();
            for rows in sub_blocks(n) {
                let b = rows.clone();
                lp.weighted(
                    x.slice(s![b.clone(), ..]),
                    out.slice_mut(s![b, ..]),
                    &mut scratch,
                );
            }
            for i in 0..n {
                for c in 0..k {
                    let (mut q, mut log_det) = (0.0, 0.0);
                    for j in 0..d {
                        let p = match &prec_chol {
                            Covariances::Diag(_) => diag_chol[[c, j]],
                            _ => sph_chol[c],
                        };
                        q += (x[[i, j]] - means[[c, j]]).powi(2) * p * p;
                        log_det += p.ln();
                    }
                    let c0 = d as f64 * (2.0 * std::f64::consts::PI).ln();
                    let want = -0.5 * (c0 + q) + log_det + weights[c].ln();
                    assert!(
                        (out[[i, c]] - want).abs() <= 1e-10 * want.abs().max(1.0),
                        "{i} {c}"
                    );
                }
            }
        }
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
