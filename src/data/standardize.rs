//! Per-feature standardisation: `(x - mean) / scale`, as scikit-learn's `StandardScaler`.

use ndarray::{Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::error::DataError;

/// Mean and scale of every feature, fitted on one matrix and applied to others.
///
/// The scale is the population standard deviation (ddof 0, as scikit-learn's `StandardScaler`).
/// A feature whose variance is zero up to rounding (scikit-learn's constant-feature test), or
/// whose statistics are not finite, gets scale 1, so it is only centred.
///
/// ```
/// use gmmtune::data::Standardizer;
/// use ndarray::array;
/// let fit = Standardizer::fit(array![[1.0, 5.0], [3.0, 5.0]].view());
/// assert_eq!(fit.mean, [2.0, 5.0]);
/// assert_eq!(fit.scale, [1.0, 1.0]); // std 1, and a constant column
/// let z = fit.transform(array![[4.0, 6.0]].view()).unwrap();
/// assert_eq!(z, array![[2.0, 1.0]]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Mean of each feature over the fitted rows.
    pub mean: Vec<f64>,
    /// Divisor of each feature (standard deviation, or 1 for constant features).
    pub scale: Vec<f64>,
}

impl Standardizer {
    /// Fits mean and scale on the rows of `x`. With no rows every mean is 0 and every scale 1.
    pub fn fit(x: ArrayView2<'_, f64>) -> Standardizer {
        let n = x.nrows();
        let d = x.ncols();
        if n == 0 {
            return Standardizer {
                mean: vec![0.0; d],
                scale: vec![1.0; d],
            };
        }
        let count = n as f64;
        let mut mean = vec![0.0; d];
        for row in x.axis_iter(Axis(0)) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= count);
        let mut sum_sq = vec![0.0; d];
        for row in x.axis_iter(Axis(0)) {
            for ((s, &m), &v) in sum_sq.iter_mut().zip(&mean).zip(row) {
                let dev = v - m;
                *s += dev * dev;
            }
        }
        let scale = sum_sq
            .iter()
            .zip(&mean)
            .map(|(&s, &m)| {
                let variance = s / count;
                if is_constant(variance, m, count) {
                    1.0
                } else {
                    variance.sqrt()
                }
            })
            .collect();
        let mean = mean
            .into_iter()
            .map(|m| if m.is_finite() { m } else { 0.0 })
            .collect();
        Standardizer { mean, scale }
    }

    /// Number of features the standardiser was fitted on.
    pub fn n_features(&self) -> usize {
        self.mean.len()
    }

    /// Returns `(x - mean) / scale`; fails when `x` does not have the fitted number of columns.
    pub fn transform(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>, DataError> {
        if x.ncols() != self.n_features() || self.scale.len() != self.n_features() {
            return Err(DataError::WidthMismatch {
                expected: self.n_features(),
                found: x.ncols(),
            });
        }
        let mut out = x.to_owned();
        for mut row in out.axis_iter_mut(Axis(0)) {
            for ((v, &m), &s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = (*v - m) / s;
            }
        }
        Ok(out)
    }
}

/// scikit-learn's `_is_constant_feature`: the variance is zero up to the rounding error of its
/// computation (or not finite).
fn is_constant(variance: f64, mean: f64, count: f64) -> bool {
    if !variance.is_finite() || !mean.is_finite() {
        return true;
    }
    let eps = f64::EPSILON;
    let bound = count * eps * variance + (count * mean * eps).powi(2);
    variance <= bound
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn population_std_and_centring() {
        let x = array![[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [4.0, 40.0]];
        let s = Standardizer::fit(x.view());
        assert_eq!(s.mean, [2.5, 25.0]);
        let std0 = (1.25f64).sqrt();
        assert!((s.scale[0] - std0).abs() < 1e-15);
        assert!((s.scale[1] - 10.0 * std0).abs() < 1e-13);
        let z = s.transform(x.view()).unwrap();
        for column in z.axis_iter(Axis(1)) {
            let mean = column.sum() / 4.0;
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 4.0;
            assert!(mean.abs() < 1e-15);
            assert!((var - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn constant_columns_get_scale_one() {
        let x = Array2::from_elem((1000, 2), 0.1);
        let s = Standardizer::fit(x.view());
        assert_eq!(s.scale, [1.0, 1.0]);
        let z = s.transform(x.view()).unwrap();
        assert!(z.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn tiny_but_real_spread_is_kept() {
        let x = array![[1e-6], [2e-6], [3e-6]];
        let s = Standardizer::fit(x.view());
        assert!((s.scale[0] - (2.0f64 / 3.0).sqrt() * 1e-6).abs() < 1e-20);
    }

    #[test]
    fn non_finite_statistics_fall_back() {
        let x = array![[f64::MAX], [f64::MAX]];
        let s = Standardizer::fit(x.view());
        assert_eq!(s.scale, [1.0]);
        assert_eq!(s.mean, [0.0]);
    }

    #[test]
    fn width_mismatch_is_an_error() {
        let s = Standardizer::fit(array![[1.0, 2.0], [3.0, 4.0]].view());
        let err = s.transform(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("fitted on 2 features"), "{msg}");
        assert!(msg.contains("has 3 columns"), "{msg}");
    }

    #[test]
    fn empty_fit_is_identity() {
        let s = Standardizer::fit(Array2::<f64>::zeros((0, 3)).view());
        assert_eq!(s.mean, [0.0; 3]);
        assert_eq!(s.scale, [1.0; 3]);
    }

    #[test]
    fn serde_round_trip() {
        let s = Standardizer::fit(array![[1.0, 2.0], [3.0, 5.0]].view());
        let json = serde_json::to_string(&s).unwrap();
        let back: Standardizer = serde_json::from_str(&json).unwrap();
        assert_eq!(s, back);
    }
}
