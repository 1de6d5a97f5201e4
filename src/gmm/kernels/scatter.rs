//! Scatter matrices `Σ_i w_i (x_i − μ)(x_i − μ)ᵀ`: the full-covariance M-step and the Gram
//! matrix of the tied one.
//!
//! Two forms:
//! * [`weighted_scatter`], one component at a time as matrix products: the rows are taken in
//!   chunks, each chunk's weighted centred rows `W` form one product `WᵀW` per panel of
//!   output columns, and the panels and groups of rows are the parallel tasks. No temporary
//!   grows with the number of rows, and at large `d` the products run at GEMM speed.
//! * [`ShiftedScatter`], accumulated during the E-step pass itself, block by block, around the
//!   means the pass started from (the shift), and corrected to the new means afterwards
//!   ([`ShiftedScatter::around`]). The responsibilities need not be stored, so a pass over
//!   many rows needs memory for a block only.

use std::ops::Range;

use ndarray::{s, Array2, Array3, ArrayView1, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

use crate::linalg::{self, simd_dispatch};

/// Output columns per panel of [`weighted_scatter`].
const PANEL: usize = 128;
/// Rows of `W` built and multiplied at a time below one panel and a half of features.
const CHUNK_ROWS: usize = 256;
/// Rows of `W` per product in the panel form: each product reads and writes the whole lower
/// triangle of the output, so taller chunks mean fewer passes over it.
const PANEL_CHUNK_ROWS: usize = 1024;
/// Fewest rows per group of rows (each group keeps its own partial sum).
const GROUP_MIN_ROWS: usize = 512;
/// Most groups of rows.
const MAX_GROUPS: usize = 64;
/// Bound on the memory of the groups' partial sums of one component.
const MAX_PARTIAL_BYTES: usize = 32 << 20;

/// Which rows enter a scatter, with which weights.
#[derive(Clone, Copy)]
pub(crate) enum RowWeights<'a> {
    /// Every row, weight 1.
    Ones,
    /// Every row, with the weights of a column of responsibilities.
    Column(ArrayView1<'a, f64>),
    /// The listed rows only, weight 1 each.
    Rows(&'a [usize]),
    /// The listed rows only, each with its weight in the column (indexed by data row).
    Selected(&'a [usize], ArrayView1<'a, f64>),
}

impl RowWeights<'_> {
    fn len(&self, n: usize) -> usize {
        match self {
            RowWeights::Ones | RowWeights::Column(_) => n,
            RowWeights::Rows(rows) | RowWeights::Selected(rows, _) => rows.len(),
        }
    }

    /// The data row and its weight for the `t`-th row of the set.
    #[inline(always)]
    fn get(&self, t: usize) -> (usize, f64) {
        match self {
            RowWeights::Ones => (t, 1.0),
            RowWeights::Column(w) => (t, w[t]),
            RowWeights::Rows(rows) => (rows[t], 1.0),
            RowWeights::Selected(rows, w) => (rows[t], w[rows[t]]),
        }
    }
}

/// The rows of a weight column that are not exactly 0, when they are at most three quarters
/// of it: a row of weight 0 adds exactly nothing to a scatter, and at high dimension most
/// responsibilities underflow to 0 (each row belongs to one component to the last bit).
fn nonzero_rows(w: ArrayView1<f64>) -> Option<Vec<usize>> {
    let rows: Vec<usize> = (0..w.len()).filter(|&i| w[i] != 0.0).collect();
    (rows.len() * 4 <= w.len() * 3).then_some(rows)
}

/// Groups of rows for [`weighted_scatter`] at small `d`: each keeps its own d×d partial sum.
/// Depends on the shapes only (never on the number of threads), so the result does not either.
fn row_groups(m: usize, d: usize) -> Vec<Range<usize>> {
    let by_memory = (MAX_PARTIAL_BYTES / (d * d * 8).max(1)).max(1);
    let n_groups = (m / GROUP_MIN_ROWS).clamp(1, MAX_GROUPS.min(by_memory));
    let size = m.div_ceil(n_groups).max(1);
    (0..n_groups)
        .map(|g| g * size..((g + 1) * size).min(m))
        .filter(|r| !r.is_empty())
        .collect()
}

/// `Σ_i w_i (x_i − μ)(x_i − μ)ᵀ` (d×d, symmetric) over the rows and weights of `weights`,
/// with `μ = centre` (0 when `None`). `x` must be in standard layout.
///
/// Up to one panel of output columns, groups of rows are the parallel tasks (each with a
/// d×d partial sum, added in group order); beyond, the rows are taken chunk after chunk and
/// the panels of each chunk's product are the parallel tasks (one accumulator). Either way
/// the work is split by the shapes alone.
pub(crate) fn weighted_scatter(
    x: ArrayView2<f64>,
    weights: RowWeights,
    centre: Option<&[f64]>,
) -> Array2<f64> {
    let d = x.ncols();
    let mut out = Array2::<f64>::zeros((d, d));
    let selected = match weights {
        RowWeights::Column(w) => nonzero_rows(w),
        _ => None,
    };
    // (ndarray's views are invariant in their lifetime: each arm reborrows.)
    let weights = match (&selected, weights) {
        (Some(rows), RowWeights::Column(w)) => RowWeights::Selected(rows, w.reborrow()),
        (_, RowWeights::Column(w)) => RowWeights::Column(w.reborrow()),
        (_, RowWeights::Selected(rows, w)) => RowWeights::Selected(rows, w.reborrow()),
        (_, RowWeights::Rows(rows)) => RowWeights::Rows(rows),
        (_, RowWeights::Ones) => RowWeights::Ones,
    };
    let m = weights.len(x.nrows());
    if d == 0 || m == 0 {
        return out;
    }
    if d < PANEL + PANEL / 2 {
        let parts: Vec<Array2<f64>> = row_groups(m, d)
            .into_par_iter()
            .map(|group| {
                let mut acc = Array2::<f64>::zeros((d, d));
                let mut w = Array2::<f64>::zeros((CHUNK_ROWS, d));
                for chunk in chunks(group, CHUNK_ROWS) {
                    let wb = weigh_chunk(x, weights, centre, chunk, &mut w);
                    linalg::add_syrk_lower(acc.view_mut(), wb.t(), wb);
                }
                acc
            })
            .collect();
        for part in &parts {
            out += part;
        }
    } else {
        let n_panels = d.div_ceil(PANEL);
        let width = d.div_ceil(n_panels);
        let mut w = Array2::<f64>::zeros((PANEL_CHUNK_ROWS.min(m), d));
        for chunk in chunks(0..m, PANEL_CHUNK_ROWS) {
            let wb = weigh_chunk(x, weights, centre, chunk, &mut w);
            out.axis_chunks_iter_mut(Axis(1), width)
                .into_par_iter()
                .enumerate()
                .for_each(|(p, mut panel)| {
                    // From the panel's first column down: its part of the lower triangle (the
                    // upper part of its diagonal block comes along; the mirror overwrites it).
                    let j0 = p * width;
                    let cols = panel.ncols();
                    let below = panel.slice_mut(s![j0.., ..]);
                    let lhs = wb.slice(s![.., j0..]);
                    linalg::add_matmul(below, lhs.t(), wb.slice(s![.., j0..j0 + cols]));
                });
        }
    }
    mirror_lower(out.view_mut());
    out
}

/// Copies the strict lower triangle of a square matrix onto its upper triangle, tile by tile.
pub(crate) fn mirror_lower(mut m: ArrayViewMut2<f64>) {
    const TILE: usize = 32;
    let n = m.nrows();
    let Some(v) = m.as_slice_mut() else {
        for i in 0..n {
            for j in 0..i {
                m[[j, i]] = m[[i, j]];
            }
        }
        return;
    };
    for i0 in (0..n).step_by(TILE) {
        for j0 in (0..=i0).step_by(TILE) {
            for i in i0..(i0 + TILE).min(n) {
                for j in j0..(j0 + TILE).min(i) {
                    v[j * n + i] = v[i * n + j];
                }
            }
        }
    }
}

/// Consecutive ranges of at most `size` covering `range`.
fn chunks(range: Range<usize>, size: usize) -> impl Iterator<Item = Range<usize>> {
    range
        .clone()
        .step_by(size)
        .map(move |a| a..(a + size).min(range.end))
}

/// The weighted centred rows `√w_i (x_i − μ)` of the rows `chunk` of the set, in `w`.
fn weigh_chunk<'w>(
    x: ArrayView2<f64>,
    weights: RowWeights,
    centre: Option<&[f64]>,
    chunk: Range<usize>,
    w: &'w mut Array2<f64>,
) -> ArrayView2<'w, f64> {
    let d = x.ncols();
    let rows_of_x = x.as_slice().expect("standard layout");
    let b = chunk.len();
    let ws = w.as_slice_mut().expect("owned standard-layout scratch");
    for (t, out_row) in chunk.zip(ws.chunks_exact_mut(d)) {
        let (i, weight) = weights.get(t);
        weigh_row(
            &rows_of_x[i * d..(i + 1) * d],
            centre,
            weight.sqrt(),
            out_row,
        );
    }
    w.slice(s![..b, ..])
}

/// `out = s·(x − μ)` (or `s·x` without `μ`).
#[inline(always)]
fn weigh_row(x: &[f64], mu: Option<&[f64]>, s: f64, out: &mut [f64]) {
    match mu {
        Some(mu) => {
            for ((o, &v), &m) in out.iter_mut().zip(x).zip(mu) {
                *o = s * (v - m);
            }
        }
        None => {
            for (o, &v) in out.iter_mut().zip(x) {
                *o = s * v;
            }
        }
    }
}

/// `XᵀX` (d×d, symmetric).
pub(crate) fn gram(x: ArrayView2<f64>) -> Array2<f64> {
    weighted_scatter(x, RowWeights::Ones, None)
}

/// Beyond this ratio `Σr·(μ_j − s_j)² / C_jj` between the correction of a shifted scatter and
/// the scatter itself, [`ShiftedScatter::around`] asks for an exact pass: up to it the
/// correction costs at most about `1e4·ε` relative accuracy.
const MAX_SHIFT_RATIO: f64 = 1e4;

/// Per component, the scatter around a shift `s` and the first moment around it, accumulated
/// block by block: `S = Σ r (x − s)(x − s)ᵀ` (lower triangles) and `a = Σ r (x − s)`.
#[derive(Debug, Clone)]
pub(crate) struct ShiftedScatter {
    s: Array3<f64>,
    a: Array2<f64>,
}

impl ShiftedScatter {
    pub(crate) fn zeros(k: usize, d: usize) -> Self {
        ShiftedScatter {
            s: Array3::zeros((k, d, d)),
            a: Array2::zeros((k, d)),
        }
    }

    /// Adds the rows of `xb` with responsibilities `rb` (rows × K) around `shifts` (K×d);
    /// `w` is scratch of at least `xb.nrows()` rows and `d` columns.
    pub(crate) fn add_rows(
        &mut self,
        xb: ArrayView2<f64>,
        rb: ArrayView2<f64>,
        shifts: ArrayView2<f64>,
        w: &mut Array2<f64>,
    ) {
        let b = xb.nrows();
        for (c, (mut s_c, mut a_c)) in self
            .s
            .outer_iter_mut()
            .zip(self.a.outer_iter_mut())
            .enumerate()
        {
            let shift = shifts.row(c);
            let shift = shift.as_slice().expect("owned standard layout");
            let mut wb = w.slice_mut(s![..b, ..]);
            let a_c = a_c.as_slice_mut().expect("owned standard layout");
            centre_and_weight(xb, rb.column(c), shift, wb.view_mut(), a_c);
            linalg::add_syrk_lower(s_c.view_mut(), wb.t(), wb.view());
        }
    }

    pub(crate) fn add(&mut self, other: &ShiftedScatter) {
        self.s += &other.s;
        self.a += &other.a;
    }

    /// The scatters around `means` (K×d, symmetric), from the shifted sums:
    /// `C = S − a·δᵀ − δ·aᵀ + nk·δ·δᵀ` with `δ = μ − s` and `nk = Σ r` (not regularised).
    /// `None` when for some component and feature the correction is more than
    /// [`MAX_SHIFT_RATIO`] times the result (or the result is negative): rounding could then
    /// cost digits, and the caller recomputes the scatter around the new means.
    pub(crate) fn around(
        mut self,
        shifts: ArrayView2<f64>,
        means: ArrayView2<f64>,
        nk: ArrayView1<f64>,
    ) -> Option<Array3<f64>> {
        let d = means.ncols();
        for (c, mut m) in self.s.outer_iter_mut().enumerate() {
            let delta: Vec<f64> = means
                .row(c)
                .iter()
                .zip(shifts.row(c))
                .map(|(mu, s)| mu - s)
                .collect();
            let a = self.a.row(c);
            let n = nk[c];
            for i in 0..d {
                for j in 0..=i {
                    let v = m[[i, j]] - a[i] * delta[j] - delta[i] * a[j] + n * delta[i] * delta[j];
                    m[[i, j]] = v;
                }
                // Also refuses a NaN or a negative scatter.
                let correction = n * delta[i] * delta[i];
                let within = correction <= MAX_SHIFT_RATIO * m[[i, i]];
                if !within {
                    return None;
                }
            }
            mirror_lower(m.view_mut());
        }
        Some(self.s)
    }
}

/// `out = √r ∘ (x − s)` row-wise, and `a += Σ r (x − s)`; then `outᵀ·out = Σ r (x − s)(x − s)ᵀ`.
fn centre_and_weight(
    xb: ArrayView2<f64>,
    r: ArrayView1<f64>,
    shift: &[f64],
    out: ArrayViewMut2<f64>,
    a: &mut [f64],
) {
    #[inline(always)]
    fn generic(
        xb: ArrayView2<f64>,
        r: ArrayView1<f64>,
        shift: &[f64],
        mut out: ArrayViewMut2<f64>,
        a: &mut [f64],
    ) {
        // Blocks of rows of a standard-layout matrix and an owned scratch: flat rows.
        let d = shift.len().max(1);
        let xs = xb.as_slice().expect("a block of standard-layout rows");
        let os = out.as_slice_mut().expect("owned standard-layout scratch");
        for ((xi, oi), &ri) in xs.chunks_exact(d).zip(os.chunks_exact_mut(d)).zip(r.iter()) {
            let w = ri.sqrt();
            for (((&x, &m), o), s) in xi.iter().zip(shift).zip(oi.iter_mut()).zip(a.iter_mut()) {
                let v = w * (x - m);
                *o = v;
                *s += w * v;
            }
        }
    }
    simd_dispatch!(
        generic,
        (xb: ArrayView2<f64>, r: ArrayView1<f64>, shift: &[f64], out: ArrayViewMut2<f64>, a: &mut [f64])
    )
}

/// Rows of `x` per component for hard assignments (`labels[i]` is the component of row `i`).
pub(crate) fn members(labels: &[usize], k: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); k];
    for (i, &c) in labels.iter().enumerate() {
        out[c].push(i);
    }
    out
}

/// Scatters of `x` around `means` under given responsibilities, component by component.
pub(crate) fn scatters_of<'a>(
    x: ArrayView2<f64>,
    means: ArrayView2<f64>,
    weights: impl Fn(usize) -> RowWeights<'a>,
) -> Array3<f64> {
    let (k, d) = means.dim();
    let mut out = Array3::zeros((k, d, d));
    for (c, mut m) in out.outer_iter_mut().enumerate() {
        let mu = means.row(c);
        let mu = mu.as_slice().expect("owned standard layout");
        m.assign(&weighted_scatter(x, weights(c), Some(mu)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize, d: usize) -> Array2<f64> {
        Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 31 + j * 17) % 23) as f64 * 0.3 - 3.0 + (i % 3) as f64 * 0.1 * j as f64
        })
    }

    /// `Σ w (x − μ)(x − μ)ᵀ` the plain way.
    fn naive(x: &Array2<f64>, w: &[f64], mu: &[f64]) -> Array2<f64> {
        let d = x.ncols();
        let mut out = Array2::zeros((d, d));
        for (i, row) in x.outer_iter().enumerate() {
            for a in 0..d {
                for b in 0..d {
                    out[[a, b]] += w[i] * (row[a] - mu[a]) * (row[b] - mu[b]);
                }
            }
        }
        out
    }

    fn assert_close(a: &Array2<f64>, b: &Array2<f64>, what: &str) {
        let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for (x, y) in a.iter().zip(b.iter()) {
            assert!((x - y).abs() <= 1e-12 * scale, "{what}: {x} vs {y}");
        }
    }

    #[test]
    fn panels_and_groups_give_the_plain_sum() {
        // d = 200 makes two panels; 1,300 rows make two groups of several chunks.
        for (n, d) in [(1300, 200), (700, 5), (3, 1)] {
            let x = data(n, d);
            let w: Vec<f64> = (0..n).map(|i| ((i * 7) % 5) as f64 * 0.25).collect();
            let mu: Vec<f64> = (0..d).map(|j| j as f64 * 0.01 - 0.5).collect();
            let got = weighted_scatter(
                x.view(),
                RowWeights::Column(ArrayView1::from(&w)),
                Some(&mu),
            );
            assert_close(&got, &naive(&x, &w, &mu), &format!("n={n} d={d}"));
            // Mostly exact zeros (hard responsibilities): only the other rows are multiplied.
            let sparse: Vec<f64> = (0..n)
                .map(|i| {
                    if i % 4 == 1 {
                        0.5 + (i % 3) as f64
                    } else {
                        0.0
                    }
                })
                .collect();
            let column = ArrayView1::from(&sparse);
            assert_eq!(
                nonzero_rows(column).map(|r| r.len()),
                (n > 1).then(|| (0..n).filter(|i| i % 4 == 1).count())
            );
            let got = weighted_scatter(x.view(), RowWeights::Column(column), Some(&mu));
            assert_close(
                &got,
                &naive(&x, &sparse, &mu),
                &format!("sparse n={n} d={d}"),
            );
            let ones = vec![1.0; n];
            let zero = vec![0.0; d];
            assert_close(&gram(x.view()), &naive(&x, &ones, &zero), "gram");
            let rows = [2usize, 0, n - 1];
            let picked = weighted_scatter(x.view(), RowWeights::Rows(&rows), Some(&mu));
            let mut w_rows = vec![0.0; n];
            for &r in &rows {
                w_rows[r] += 1.0;
            }
            assert_close(&picked, &naive(&x, &w_rows, &mu), "rows");
        }
    }

    #[test]
    fn shifted_scatter_corrects_to_the_new_means() {
        let (n, d, k) = (600, 4, 2);
        let x = data(n, d).mapv(|v| v + 500.0);
        let resp = Array2::from_shape_fn((n, k), |(i, c)| {
            if c == 0 {
                (i % 4) as f64 / 4.0
            } else {
                1.0 - (i % 4) as f64 / 4.0
            }
        });
        let shifts = Array2::from_shape_fn((k, d), |(c, j)| 499.0 + c as f64 + j as f64 * 0.1);
        let mut acc = ShiftedScatter::zeros(k, d);
        let mut w = Array2::zeros((n, d));
        acc.add_rows(x.view(), resp.view(), shifts.view(), &mut w);
        let nk = resp.sum_axis(Axis(0));
        let means = Array2::from_shape_fn((k, d), |(c, j)| {
            (0..n).map(|i| resp[[i, c]] * x[[i, j]]).sum::<f64>() / nk[c]
        });
        let got = acc
            .clone()
            .around(shifts.view(), means.view(), nk.view())
            .unwrap();
        for c in 0..k {
            let wc: Vec<f64> = resp.column(c).to_vec();
            let mu: Vec<f64> = means.row(c).to_vec();
            let want = naive(&x, &wc, &mu);
            let scale = want.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (a, b) in got.index_axis(Axis(0), c).iter().zip(want.iter()) {
                assert!((a - b).abs() <= 1e-9 * scale, "{a} vs {b}");
            }
        }
        // A shift far from the new means (relative to the spread) asks for an exact pass.
        let far = shifts.mapv(|v| v - 1e4);
        let mut acc = ShiftedScatter::zeros(k, d);
        acc.add_rows(x.view(), resp.view(), far.view(), &mut w);
        assert!(acc.around(far.view(), means.view(), nk.view()).is_none());
    }
}
