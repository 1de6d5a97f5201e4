//! Principal component analysis, as scikit-learn's `PCA` (full solver): centred data, the
//! eigenvectors of its covariance with the largest eigenvalues, signs chosen so the largest
//! entry of each component is positive (scikit-learn's `svd_flip` on `Vt`).

use faer::{Mat, Side};
use ndarray::{Array2, ArrayView2, Axis};

use super::ExploreError;

/// A fitted PCA.
///
/// ```
/// use gmmtune::explore::Pca;
/// use ndarray::array;
/// let x = array![[0.0, 0.0, 1.0], [2.0, 2.0, 1.0], [4.0, 4.0, 1.0], [1.0, 3.0, 1.0]];
/// let pca = Pca::fit(x.view(), 2)?;
/// assert!(pca.explained_variance_ratio[0] > 0.9);
/// let z = pca.transform(x.view());
/// assert_eq!(z.dim(), (4, 2));
/// # Ok::<(), gmmtune::explore::ExploreError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Column means of the fitted rows.
    pub mean: Vec<f64>,
    /// `k × d`: one unit-length component per row, by decreasing variance.
    pub components: Array2<f64>,
    /// Variance along each component (`n − 1` denominator).
    pub explained_variance: Vec<f64>,
    /// Share of the total variance along each component.
    pub explained_variance_ratio: Vec<f64>,
}

impl Pca {
    /// Fits `k` components on the rows of `x`.
    ///
    /// # Errors
    /// [`ExploreError::TooLittleData`] with fewer than two rows, `k` larger than the number of
    /// features, or non-finite values.
    pub fn fit(x: ArrayView2<f64>, k: usize) -> Result<Pca, ExploreError> {
        let (n, d) = x.dim();
        if n < 2 || k == 0 || k > d {
            return Err(ExploreError::TooLittleData(format!(
                "PCA with {k} components needs at least 2 rows and {k} features; the data has {n} rows and {d} features"
            )));
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(ExploreError::TooLittleData(
                "PCA needs finite values; the data holds NaN or infinity".into(),
            ));
        }
        let mean = x.mean_axis(Axis(0)).expect("n ≥ 2").to_vec();
        let mut covariance = Mat::<f64>::zeros(d, d);
        for row in x.axis_iter(Axis(0)) {
            for a in 0..d {
                let da = row[a] - mean[a];
                for b in 0..=a {
                    covariance[(a, b)] += da * (row[b] - mean[b]);
                }
            }
        }
        for a in 0..d {
            for b in 0..=a {
                let v = covariance[(a, b)] / (n - 1) as f64;
                covariance[(a, b)] = v;
                covariance[(b, a)] = v;
            }
        }
        let eigen = covariance.self_adjoint_eigen(Side::Lower).map_err(|e| {
            ExploreError::TooLittleData(format!("PCA eigendecomposition failed: {e:?}"))
        })?;
        let (values, vectors) = (eigen.S(), eigen.U());
        let total: f64 = (0..d).map(|i| values[i].max(0.0)).sum();
        let mut components = Array2::zeros((k, d));
        let mut explained_variance = Vec::with_capacity(k);
        for c in 0..k {
            let column = d - 1 - c; // eigenvalues come in increasing order
            explained_variance.push(values[column].max(0.0));
            let largest = (0..d)
                .max_by(|&a, &b| {
                    vectors[(a, column)]
                        .abs()
                        .total_cmp(&vectors[(b, column)].abs())
                })
                .expect("d ≥ 1");
            let sign = if vectors[(largest, column)] < 0.0 {
                -1.0
            } else {
                1.0
            };
            for j in 0..d {
                components[(c, j)] = sign * vectors[(j, column)];
            }
        }
        let explained_variance_ratio = explained_variance
            .iter()
            .map(|v| if total > 0.0 { v / total } else { 0.0 })
            .collect();
        Ok(Pca {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        })
    }

    /// Coordinates of the rows of `x` on the components (`n × k`).
    pub fn transform(&self, x: ArrayView2<f64>) -> Array2<f64> {
        let mut centred = x.to_owned();
        for mut row in centred.axis_iter_mut(Axis(0)) {
            for (v, m) in row.iter_mut().zip(&self.mean) {
                *v -= m;
            }
        }
        centred.dot(&self.components.t())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn recovers_an_axis_aligned_spread() {
        let x = array![[0.0, 10.0], [0.0, -10.0], [1.0, 0.0], [-1.0, 0.0]];
        let pca = Pca::fit(x.view(), 2).unwrap();
        assert_eq!(pca.components.row(0).to_vec(), vec![0.0, 1.0]);
        assert!((pca.explained_variance[0] - 200.0 / 3.0).abs() < 1e-12);
        let sum: f64 = pca.explained_variance_ratio.iter().sum();
        assert!((sum - 1.0).abs() < 1e-12);
    }

    #[test]
    fn too_little_data_is_an_error() {
        assert!(Pca::fit(array![[1.0, 2.0]].view(), 2).is_err());
        assert!(Pca::fit(array![[1.0, 2.0], [3.0, 4.0]].view(), 3).is_err());
        assert!(Pca::fit(array![[1.0, f64::NAN], [3.0, 4.0]].view(), 1).is_err());
    }
}
