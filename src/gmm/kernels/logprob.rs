//! Weighted log-probabilities of a block of rows under every component: what the E-step,
//! scoring and prediction all start from.

use ndarray::{s, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis};

use super::mahalanobis::{distances, PaddedFactor, ROW_ALIGN};
use super::math::{squared_distance, squared_norm};
use super::BLOCK_ROWS;
use crate::gmm::model::Covariances;
use crate::linalg::{self, simd_dispatch};

/// Up to this many features, the full-covariance log-probabilities use the register-tiled
/// kernel of [`mahalanobis`](super::mahalanobis) instead of a matrix product per component.
const REGISTER_D: usize = 64;

/// Writes the `b × d` row-major block `xb` transposed into `xt` (`d` rows of `stride ≥ b`
/// values), with zeros in each row past `b`.
#[inline(always)]
fn transpose_block(xb: ArrayView2<f64>, xt: &mut [f64], stride: usize) {
    let (b, d) = xb.dim();
    let rows = xb.as_slice().expect("a block of standard-layout rows");
    for (i, xi) in rows.chunks_exact(d.max(1)).enumerate() {
        for (j, &v) in xi.iter().enumerate() {
            xt[j * stride + i] = v;
        }
    }
    for j in 0..d {
        xt[j * stride + b..(j + 1) * stride].fill(0.0);
    }
}

/// What the log-probability of a row under each component needs, precomputed once per
/// parameter set.
pub(crate) struct LogProb {
    kind: Kind,
    pub(crate) k: usize,
    pub(crate) d: usize,
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
    /// [`Kind::Full`] with at most [`REGISTER_D`] features and upper-triangular factors: the
    /// register-tiled kernel.
    FullTiled { factors: Vec<PaddedFactor> },
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
    a.outer_iter()
        .enumerate()
        .all(|(i, row)| row.iter().take(i).all(|&v| v == 0.0))
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
                    let mean = means.slice(s![c..c + 1, ..]);
                    linalg::matmul(offsets.slice_mut(s![c..c + 1, ..]), mean, p.view());
                }
                if d <= REGISTER_D && upper.iter().all(|&u| u) {
                    let factors = prec
                        .iter()
                        .zip(offsets.outer_iter())
                        .map(|(p, off)| {
                            PaddedFactor::new(
                                p.as_slice().expect("owned standard layout"),
                                off.as_slice().expect("owned standard layout"),
                            )
                        })
                        .collect();
                    Kind::FullTiled { factors }
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

    pub(crate) fn scratch(&self) -> Array2<f64> {
        match self.kind {
            // The transposed block, then a row of distances per component.
            Kind::FullTiled { .. } => Array2::zeros((self.d + self.k, BLOCK_ROWS)),
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
    pub(crate) fn weighted(
        &self,
        xb: ArrayView2<f64>,
        out: ArrayViewMut2<f64>,
        scratch: &mut Array2<f64>,
    ) {
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
            Kind::FullTiled { factors } => {
                let buf = scratch.as_slice_mut().expect("owned standard layout");
                let (xt, dists) = buf.split_at_mut(d * BLOCK_ROWS);
                let stride = b.div_ceil(ROW_ALIGN) * ROW_ALIGN;
                transpose_block(xb, xt, stride);
                // One component after the other into contiguous rows, then into `out`'s rows.
                for (f, dist) in factors.iter().zip(dists.chunks_exact_mut(BLOCK_ROWS)) {
                    distances(xt, stride, f, dist);
                }
                for (i, mut oi) in out.outer_iter_mut().enumerate() {
                    for (o, dist) in oi.iter_mut().zip(dists.chunks_exact(BLOCK_ROWS)) {
                        *o = dist[i];
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

#[cfg(test)]
mod tests {
    use super::super::sub_blocks;
    use super::*;
    use ndarray::Array1;

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
}
