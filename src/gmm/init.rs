//! Initial responsibilities, as scikit-learn's `_initialize_parameters`.

use ndarray::{Array2, ArrayView2};
use rand::Rng;

use super::kmeans::{kmeans_labels, kmeans_plusplus};
use super::params::InitMethod;

/// The responsibilities the first M-step starts from, kept in the form each method gives them
/// (only `Random` needs an N×K matrix).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum InitialResponsibilities {
    /// Uniform(0, 1) entries, each row normalised to sum to one (`Random`).
    Dense(Array2<f64>),
    /// Row `i` belongs to component `labels[i]` with responsibility 1 (`KMeans`).
    Labels(Vec<usize>),
    /// Component `c` has responsibility 1 at row `seeds[c]` and every other row has none
    /// (`RandomFromData`, `KMeansPlusPlus`).
    Seeds(Vec<usize>),
}

impl InitialResponsibilities {
    /// The N×K matrix these stand for (tests and small data).
    #[cfg(test)]
    pub(crate) fn to_dense(&self, n: usize, k: usize) -> Array2<f64> {
        match self {
            InitialResponsibilities::Dense(r) => r.clone(),
            InitialResponsibilities::Labels(labels) => {
                let mut r = Array2::zeros((n, k));
                for (i, &c) in labels.iter().enumerate() {
                    r[[i, c]] = 1.0;
                }
                r
            }
            InitialResponsibilities::Seeds(rows) => {
                let mut r = Array2::zeros((n, k));
                for (c, &i) in rows.iter().enumerate() {
                    r[[i, c]] = 1.0;
                }
                r
            }
        }
    }
}

/// The responsibilities scikit-learn's initialisation `method` starts from:
/// - `RandomFromData`: one-hot rows for k distinct random rows, all other rows zero;
/// - `Random`: uniform(0, 1) entries, each row normalised to sum to one;
/// - `KMeansPlusPlus`: one-hot rows for the k k-means++ seeds only;
/// - `KMeans`: one-hot rows of the labels of one k-means run.
///
/// Requires `1 ≤ k ≤ N` (checked by the caller).
pub(crate) fn initial_responsibilities<R: Rng + ?Sized>(
    x: ArrayView2<f64>,
    k: usize,
    method: InitMethod,
    rng: &mut R,
) -> InitialResponsibilities {
    let n = x.nrows();
    match method {
        InitMethod::RandomFromData => {
            InitialResponsibilities::Seeds(rand::seq::index::sample(rng, n, k).into_vec())
        }
        InitMethod::Random => {
            let mut resp = Array2::zeros((n, k));
            for mut row in resp.outer_iter_mut() {
                row.mapv_inplace(|_| rng.random::<f64>());
                let total = row.sum();
                if total > 0.0 {
                    row.mapv_inplace(|v| v / total);
                } else {
                    row.fill(1.0 / k as f64);
                }
            }
            InitialResponsibilities::Dense(resp)
        }
        InitMethod::KMeansPlusPlus => InitialResponsibilities::Seeds(kmeans_plusplus(x, k, rng)),
        InitMethod::KMeans => InitialResponsibilities::Labels(kmeans_labels(x, k, rng)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn data() -> Array2<f64> {
        Array2::from_shape_fn((40, 2), |(i, j)| {
            (i * 7 % 13) as f64 + j as f64 * 0.5 + (i / 20) as f64 * 50.0
        })
    }

    #[test]
    fn every_method_gives_valid_responsibilities() {
        let x = data();
        for method in InitMethod::ALL {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
            let r = initial_responsibilities(x.view(), 3, method, &mut rng).to_dense(40, 3);
            assert_eq!(r.dim(), (40, 3));
            assert!(r.iter().all(|&v| (0.0..=1.0).contains(&v)), "{method}");
            let row_sums = r.sum_axis(ndarray::Axis(1));
            match method {
                InitMethod::RandomFromData | InitMethod::KMeansPlusPlus => {
                    // Exactly one seed row per component, distinct rows.
                    assert_eq!(
                        r.sum_axis(ndarray::Axis(0)).to_vec(),
                        vec![1.0; 3],
                        "{method}"
                    );
                    assert_eq!(
                        row_sums.iter().filter(|&&s| s == 1.0).count(),
                        3,
                        "{method}"
                    );
                    assert_eq!(
                        row_sums.iter().filter(|&&s| s == 0.0).count(),
                        37,
                        "{method}"
                    );
                }
                InitMethod::Random | InitMethod::KMeans => {
                    assert!(row_sums.iter().all(|s| (s - 1.0).abs() < 1e-12), "{method}");
                }
            }
        }
    }
}
