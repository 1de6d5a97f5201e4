//! Responsibility-weighted moments of the rows (`Σ r`, `Σ r·x`, `Σ r·x²`), from responsibilities
//! computed block by block or from an initialisation's hard assignments.

use ndarray::{s, Array1, Array2, ArrayView2, Axis};

use super::{map_tasks, sub_blocks, BLOCK_ROWS};
use crate::gmm::estimate::NK_EPS;
use crate::linalg;

/// Responsibility-weighted moments of the rows: `Σ r`, `Σ r·x` and optionally `Σ r·x²`.
#[derive(Debug, Clone)]
pub(crate) struct Moments {
    pub(crate) nk: Array1<f64>,
    pub(crate) rx: Array2<f64>,
    pub(crate) rx2: Option<Array2<f64>>,
}

impl Moments {
    pub(crate) fn zeros(k: usize, d: usize, squares: bool) -> Self {
        Moments {
            nk: Array1::zeros(k),
            rx: Array2::zeros((k, d)),
            rx2: squares.then(|| Array2::zeros((k, d))),
        }
    }

    /// Adds the rows of `xb` with their responsibilities `rb` (rows × K); `squares` is scratch
    /// of at least `xb.nrows()` rows.
    pub(crate) fn add_rows(
        &mut self,
        xb: ArrayView2<f64>,
        rb: ArrayView2<f64>,
        squares: &mut Array2<f64>,
    ) {
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

    /// Adds the row `x` with responsibility 1 for component `c`.
    fn add_hard(&mut self, c: usize, x: &[f64]) {
        self.nk[c] += 1.0;
        for (s, &v) in self.rx.row_mut(c).iter_mut().zip(x) {
            *s += v;
        }
        if let Some(rx2) = &mut self.rx2 {
            for (s, &v) in rx2.row_mut(c).iter_mut().zip(x) {
                *s += v * v;
            }
        }
    }

    pub(crate) fn add(&mut self, other: &Moments) {
        self.nk += &other.nk;
        self.rx += &other.rx;
        if let (Some(a), Some(b)) = (&mut self.rx2, &other.rx2) {
            *a += b;
        }
    }

    /// The parts added in the order given (the order fixes the rounding).
    pub(crate) fn sum(
        parts: impl IntoIterator<Item = Moments>,
        k: usize,
        d: usize,
        squares: bool,
    ) -> Self {
        let mut total = Moments::zeros(k, d, squares);
        for p in parts {
            total.add(&p);
        }
        total
    }

    /// `Σ r + 10·eps` per component, as scikit-learn's `nk`.
    pub(crate) fn nk_regularised(&self) -> Array1<f64> {
        self.nk.mapv(|v| v + NK_EPS)
    }

    /// The means `Σ r·x / (Σ r + 10·eps)`, as scikit-learn's M-step.
    pub(crate) fn means(&self) -> Array2<f64> {
        let nk = self.nk_regularised();
        &self.rx / &nk.view().insert_axis(Axis(1))
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

/// Moments of hard assignments: row `i` has responsibility 1 for component `labels[i]` and 0
/// for the others (`x` in standard layout).
pub(crate) fn moments_of_labels(
    x: ArrayView2<f64>,
    labels: &[usize],
    k: usize,
    squares: bool,
) -> Moments {
    let d = x.ncols();
    let rows_of_x = x.as_slice().expect("standard layout");
    let parts = map_tasks(x.nrows(), |rows| {
        let mut m = Moments::zeros(k, d, squares);
        for i in rows {
            m.add_hard(labels[i], &rows_of_x[i * d..(i + 1) * d]);
        }
        m
    });
    Moments::sum(parts, k, d, squares)
}

/// Moments of single rows: component `c` has responsibility 1 at row `seeds[c]` only.
pub(crate) fn moments_of_seeds(x: ArrayView2<f64>, seeds: &[usize], squares: bool) -> Moments {
    let (k, d) = (seeds.len(), x.ncols());
    let mut m = Moments::zeros(k, d, squares);
    for (c, &row) in seeds.iter().enumerate() {
        let xi = x.row(row);
        m.add_hard(c, xi.as_slice().expect("standard layout"));
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_assignments_match_one_hot_responsibilities() {
        let (n, d, k) = (700, 3, 4);
        let x = Array2::from_shape_fn((n, d), |(i, j)| ((i * 7 + j * 5) % 13) as f64 - 6.0);
        let labels: Vec<usize> = (0..n).map(|i| (i * 11) % k).collect();
        let mut resp = Array2::zeros((n, k));
        for (i, &c) in labels.iter().enumerate() {
            resp[[i, c]] = 1.0;
        }
        let dense = moments(x.view(), resp.view(), true);
        let hard = moments_of_labels(x.view(), &labels, k, true);
        assert_eq!(dense.nk, hard.nk);
        for (a, b) in dense.rx.iter().zip(hard.rx.iter()) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
        for (a, b) in dense.rx2.unwrap().iter().zip(hard.rx2.unwrap().iter()) {
            assert!((a - b).abs() < 1e-9, "{a} {b}");
        }
        let seeds = [5, 0, 99];
        let m = moments_of_seeds(x.view(), &seeds, false);
        assert_eq!(m.nk.to_vec(), vec![1.0; 3]);
        assert_eq!(m.rx.row(2), x.row(99));
        assert!(m.rx2.is_none());
    }
}
