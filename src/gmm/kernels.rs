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
use crate::linalg;

/// Rows handled by one parallel task. Depends on `n` only (never on the thread count): about
/// 64 tasks for large inputs, at least 256 and at most 4096 rows each.
pub(crate) fn task_rows(n: usize) -> usize {
    let per_task = n.div_ceil(64).div_ceil(64) * 64;
    per_task.clamp(256, 4096)
}

/// Rows of one sub-block inside a task (the unit of the small matrix products).
const BLOCK_ROWS: usize = 128;

/// Runs `f` on each task's row range in parallel and returns the results in task order.
fn map_tasks<T: Send>(n: usize, f: impl Fn(Range<usize>) -> T + Sync + Send) -> Vec<T> {
    let rows = task_rows(n);
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
#[inline]
fn squared_distance(a: &[f64], b: &[f64]) -> f64 {
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
    /// The shared factor and per component `μ_k·P`.
    Tied {
        prec: Array2<f64>,
        upper: bool,
        offsets: Array2<f64>,
    },
    /// Means and precisions (squared factors), both transposed to d×K.
    Diag {
        means_t: Array2<f64>,
        prec_t: Array2<f64>,
    },
    /// Means transposed to d×K and one precision per component.
    Spherical {
        means_t: Array2<f64>,
        prec: Vec<f64>,
    },
}

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
                let upper = prec.iter().map(is_upper).collect();
                let mut offsets = Array2::zeros((k, d));
                for (c, p) in prec.iter().enumerate() {
                    offsets.row_mut(c).assign(&means.row(c).dot(p));
                }
                Kind::Full {
                    prec,
                    upper,
                    offsets,
                }
            }
            Covariances::Tied(p) => Kind::Tied {
                prec: p.to_owned(),
                upper: is_upper(p),
                offsets: means.dot(p),
            },
            Covariances::Diag(p) => Kind::Diag {
                means_t: means.t().as_standard_layout().into_owned(),
                prec_t: p.mapv(|v| v * v).t().as_standard_layout().into_owned(),
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
            Kind::Full { .. } | Kind::Tied { .. } => Array2::zeros((BLOCK_ROWS, self.d)),
            _ => Array2::zeros((0, 0)),
        }
    }

    /// Writes the weighted log-probabilities of the rows of `xb` (at most [`BLOCK_ROWS`]) into
    /// `out` (rows × K), as scikit-learn: `-½(d·ln 2π + ‖(x−μ)P‖²) + log det P + ln w`.
    fn weighted(
        &self,
        xb: ArrayView2<f64>,
        mut out: ArrayViewMut2<f64>,
        scratch: &mut Array2<f64>,
    ) {
        let b = xb.nrows();
        let d = self.d;
        let k = self.k;
        match &self.kind {
            Kind::Full {
                prec,
                upper,
                offsets,
            } => {
                let mut y = scratch.slice_mut(s![..b, ..]);
                for c in 0..k {
                    y.fill(0.0);
                    if upper[c] {
                        linalg::add_matmul_upper_rhs(y.view_mut(), xb, prec[c].view());
                    } else {
                        linalg::add_matmul(y.view_mut(), xb, prec[c].view());
                    }
                    let off = offsets.row(c);
                    let off = off.as_slice().expect("owned row is contiguous");
                    for i in 0..b {
                        let yi = y.row(i);
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
                y.fill(0.0);
                if *upper {
                    linalg::add_matmul_upper_rhs(y.view_mut(), xb, prec.view());
                } else {
                    linalg::add_matmul(y.view_mut(), xb, prec.view());
                }
                for i in 0..b {
                    let yi = y.row(i);
                    let yi = yi.as_slice().expect("contiguous");
                    for c in 0..k {
                        let off = offsets.row(c);
                        out[[i, c]] =
                            squared_distance(yi, off.as_slice().expect("owned row is contiguous"));
                    }
                }
            }
            Kind::Diag { means_t, prec_t } => {
                let mut acc = vec![0.0; k];
                for i in 0..b {
                    acc.fill(0.0);
                    for j in 0..d {
                        let xj = xb[[i, j]];
                        let mu = means_t.row(j);
                        let pr = prec_t.row(j);
                        let mu = mu.as_slice().expect("contiguous");
                        let pr = pr.as_slice().expect("contiguous");
                        for c in 0..k {
                            let t = xj - mu[c];
                            acc[c] += t * t * pr[c];
                        }
                    }
                    for c in 0..k {
                        out[[i, c]] = acc[c];
                    }
                }
            }
            Kind::Spherical { means_t, prec } => {
                let mut acc = vec![0.0; k];
                for i in 0..b {
                    acc.fill(0.0);
                    for j in 0..d {
                        let xj = xb[[i, j]];
                        let mu = means_t.row(j);
                        let mu = mu.as_slice().expect("contiguous");
                        for c in 0..k {
                            let t = xj - mu[c];
                            acc[c] += t * t;
                        }
                    }
                    for c in 0..k {
                        out[[i, c]] = acc[c] * prec[c];
                    }
                }
            }
        }
        let c0 = d as f64 * (2.0 * std::f64::consts::PI).ln();
        for i in 0..b {
            for c in 0..k {
                out[[i, c]] = (-0.5 * (c0 + out[[i, c]]) + self.log_det[c]) + self.log_weights[c];
            }
        }
    }
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

/// Replaces each row of weighted log-probabilities by its log-sum-exp normaliser's
/// complement: `out` becomes the responsibilities `exp(w − lse(w))` when `to_resp`, and each
/// row's `lse(w)` is written to `log_norm`.
fn log_sum_exp_rows(mut w: ArrayViewMut2<f64>, log_norm: &mut [f64], to_resp: bool) {
    for (i, mut row) in w.outer_iter_mut().enumerate() {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let shift = if max.is_finite() { max } else { 0.0 };
        let sum: f64 = row.iter().map(|&v| (v - shift).exp()).sum();
        let lse = sum.ln() + shift;
        log_norm[i] = lse;
        if to_resp {
            row.mapv_inplace(|v| (v - lse).exp());
        }
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

    fn add_rows(&mut self, xb: ArrayView2<f64>, rb: ArrayView2<f64>) {
        let k = rb.ncols();
        for (xi, ri) in xb.outer_iter().zip(rb.outer_iter()) {
            let xi = xi.as_slice().expect("rows are contiguous");
            for c in 0..k {
                let r = ri[c];
                self.nk[c] += r;
                let mut acc = self.rx.row_mut(c);
                let acc = acc.as_slice_mut().expect("owned row is contiguous");
                for (a, &v) in acc.iter_mut().zip(xi) {
                    *a += r * v;
                }
                if let Some(rx2) = &mut self.rx2 {
                    let mut acc = rx2.row_mut(c);
                    let acc = acc.as_slice_mut().expect("owned row is contiguous");
                    for (a, &v) in acc.iter_mut().zip(xi) {
                        *a += r * (v * v);
                    }
                }
            }
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
        m.add_rows(x.slice(s![rows.clone(), ..]), resp.slice(s![rows, ..]));
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
        for rows in sub_blocks(xc.nrows()) {
            let xb = xc.slice(s![rows.clone(), ..]);
            let mut rb = rc.slice_mut(s![rows.clone(), ..]);
            lp.weighted(xb, rb.view_mut(), &mut scratch);
            let ln = &mut log_norm[..rows.len()];
            log_sum_exp_rows(rb.view_mut(), ln, true);
            ll += ln.iter().sum::<f64>();
            m.add_rows(xb, rb.view());
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
    let parts = map_tasks(x.nrows(), |rows| {
        let xc = x.slice(s![rows.clone(), ..]);
        let rc = resp.slice(s![rows, ..]);
        let mut s_part = Array3::<f64>::zeros((k, d, d));
        let mut diff = Array2::<f64>::zeros((BLOCK_ROWS, d));
        let mut weighted = Array2::<f64>::zeros((BLOCK_ROWS, d));
        for sub in sub_blocks(xc.nrows()) {
            let b = sub.len();
            let xb = xc.slice(s![sub.clone(), ..]);
            let rb = rc.slice(s![sub, ..]);
            for c in 0..k {
                let mu = means.row(c);
                let mut db = diff.slice_mut(s![..b, ..]);
                let mut wb = weighted.slice_mut(s![..b, ..]);
                for i in 0..b {
                    let r = rb[[i, c]];
                    for j in 0..d {
                        let t = xb[[i, j]] - mu[j];
                        db[[i, j]] = t;
                        wb[[i, j]] = r * t;
                    }
                }
                linalg::add_syrk_lower(s_part.index_axis_mut(Axis(0), c), wb.t(), db.view());
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
