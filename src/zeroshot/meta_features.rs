//! Meta-features of a dataset that need no labels: computed from the rows a mixture is fitted on
//! (the standardised fit rows), so a new dataset can be matched with the mining datasets it
//! resembles before any of its labels are seen.
//!
//! The figures ([`META_FEATURE_NAMES`], in this order):
//! * size: `log_rows` (ln fit rows), `log_features` (ln features), `log_rows_per_feature`;
//! * shape of the features, on a sample of at most [`SAMPLE_ROWS`] fit rows (the first ones, a
//!   random sample under a stratified split): `discrete_share` (features with at most 10
//!   distinct values), `mean_abs_skew`, `log_kurtosis` (ln of the mean kurtosis),
//!   `outlier_share` (values more than 3 standard deviations out), `mean_abs_corr` (mean absolute
//!   correlation of feature pairs), `pca_top_share` (largest eigenvalue of the correlation
//!   matrix over its trace) and `pca_dims_90` (share of principal directions needed for 90 % of
//!   the variance);
//! * landmarks, three cheap fits on the first 80 % of the sample scored on the rest (regularised
//!   with 1e-3, seed 0): `gain_full` = (held-out log-likelihood of one full Gaussian − that of
//!   one diagonal Gaussian) per feature, and `gain_mixture` = (4 diagonal components − one
//!   diagonal Gaussian) per feature: how much correlations and several modes explain.
//!
//! Constant features (zero variance on the sample) count as discrete and are left out of the
//! other shape figures. With more than [`MAX_FEATURES_USED`] features, the correlation, PCA and
//! landmark figures use the first [`MAX_FEATURES_USED`]. Fewer than [`MIN_ROWS`] fit rows,
//! every feature constant, or a value that is not finite is a [`MetaFeatureError`].
//!
//! ```
//! use gmmtune::zeroshot::meta_features::{meta_features, META_FEATURE_NAMES};
//! let x = ndarray::Array2::from_shape_fn((200, 3), |(i, j)| ((i * (j + 3)) % 17) as f64);
//! let m = meta_features(x.view()).unwrap();
//! assert_eq!(m.values.len(), META_FEATURE_NAMES.len());
//! assert!((m.get("log_rows").unwrap() - 200f64.ln()).abs() < 1e-12);
//! ```

use ndarray::{s, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::gmm::{CovarianceType, InitMethod};
use crate::gmm_config::{FitSettings, GmmConfig};

/// Names of the meta-features, in the order of [`MetaFeatures::values`].
pub const META_FEATURE_NAMES: [&str; 12] = [
    "log_rows",
    "log_features",
    "log_rows_per_feature",
    "discrete_share",
    "mean_abs_skew",
    "log_kurtosis",
    "outlier_share",
    "mean_abs_corr",
    "pca_top_share",
    "pca_dims_90",
    "gain_full",
    "gain_mixture",
];

/// Most fit rows the shape figures and landmarks look at.
pub const SAMPLE_ROWS: usize = 5000;
/// Most features the correlation, PCA and landmark figures look at.
pub const MAX_FEATURES_USED: usize = 128;
/// Fewest fit rows meta-features are defined for.
pub const MIN_ROWS: usize = 10;

/// Why the meta-features of a dataset are undefined.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MetaFeatureError {
    /// Too few rows.
    #[error("meta-features need at least {MIN_ROWS} fit rows, found {0}")]
    TooFewRows(usize),
    /// No feature column.
    #[error("meta-features need at least one feature column")]
    NoFeatures,
    /// Every feature is constant.
    #[error("every feature is constant on the fit rows, so their shape is undefined")]
    AllConstant,
    /// A figure is not finite (values too large, a landmark fit that failed).
    #[error("meta-feature `{name}` is undefined: {reason}")]
    Undefined {
        /// The figure.
        name: &'static str,
        /// Why.
        reason: String,
    },
}

/// The meta-features of one dataset, in [`META_FEATURE_NAMES`] order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetaFeatures {
    /// The values.
    pub values: Vec<f64>,
}

impl MetaFeatures {
    /// The value called `name`.
    pub fn get(&self, name: &str) -> Option<f64> {
        META_FEATURE_NAMES
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i).copied())
    }

    /// The mean of several sets (the seeds of one dataset).
    pub fn mean(all: &[MetaFeatures]) -> Option<MetaFeatures> {
        let first = all.first()?;
        let mut values = vec![0.0; first.values.len()];
        for m in all {
            for (v, x) in values.iter_mut().zip(&m.values) {
                *v += x / all.len() as f64;
            }
        }
        Some(MetaFeatures { values })
    }
}

/// The meta-features of the fit rows `x` (rows × features, standardised).
pub fn meta_features(x: ArrayView2<f64>) -> Result<MetaFeatures, MetaFeatureError> {
    let (n, d) = x.dim();
    if n < MIN_ROWS {
        return Err(MetaFeatureError::TooFewRows(n));
    }
    if d == 0 {
        return Err(MetaFeatureError::NoFeatures);
    }
    if let Some(bad) = x.iter().find(|v| !v.is_finite()) {
        return Err(MetaFeatureError::Undefined {
            name: "log_rows",
            reason: format!("the fit rows hold a value that is not finite ({bad})"),
        });
    }
    let sample = x.slice(s![..n.min(SAMPLE_ROWS), ..]);
    let shape = shape_figures(sample)?;
    let used: Vec<usize> = shape
        .varying
        .iter()
        .copied()
        .take(MAX_FEATURES_USED)
        .collect();
    let reduced = sample.select(Axis(1), &used);
    let (mean_abs_corr, pca_top_share, pca_dims_90) = correlation_figures(reduced.view())?;
    let (gain_full, gain_mixture) = landmarks(reduced.view())?;
    let values = vec![
        (n as f64).ln(),
        (d as f64).ln(),
        (n as f64 / d as f64).ln(),
        shape.discrete_share,
        shape.mean_abs_skew,
        shape.log_kurtosis,
        shape.outlier_share,
        mean_abs_corr,
        pca_top_share,
        pca_dims_90,
        gain_full,
        gain_mixture,
    ];
    for (name, v) in META_FEATURE_NAMES.iter().zip(&values) {
        if !v.is_finite() {
            return Err(MetaFeatureError::Undefined {
                name,
                reason: format!("its value is {v}"),
            });
        }
    }
    Ok(MetaFeatures { values })
}

struct Shape {
    varying: Vec<usize>,
    discrete_share: f64,
    mean_abs_skew: f64,
    log_kurtosis: f64,
    outlier_share: f64,
}

fn shape_figures(sample: ArrayView2<f64>) -> Result<Shape, MetaFeatureError> {
    let rows = sample.nrows() as f64;
    let mut varying = Vec::new();
    let mut discrete = 0usize;
    let (mut skew, mut kurt, mut outliers) = (0.0, 0.0, 0.0);
    for (j, column) in sample.axis_iter(Axis(1)).enumerate() {
        let mut distinct: Vec<f64> = Vec::new();
        for &v in column {
            if distinct.len() > 10 {
                break;
            }
            if !distinct.contains(&v) {
                distinct.push(v);
            }
        }
        if distinct.len() <= 10 {
            discrete += 1;
        }
        let mean = column.sum() / rows;
        let m2 = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / rows;
        if m2 <= 1e-12 {
            continue;
        }
        varying.push(j);
        let sd = m2.sqrt();
        let m3 = column
            .iter()
            .map(|v| ((v - mean) / sd).powi(3))
            .sum::<f64>()
            / rows;
        let m4 = column
            .iter()
            .map(|v| ((v - mean) / sd).powi(4))
            .sum::<f64>()
            / rows;
        skew += m3.abs();
        kurt += m4;
        outliers += column
            .iter()
            .filter(|v| ((*v - mean) / sd).abs() > 3.0)
            .count() as f64
            / rows;
    }
    if varying.is_empty() {
        return Err(MetaFeatureError::AllConstant);
    }
    let m = varying.len() as f64;
    Ok(Shape {
        discrete_share: discrete as f64 / sample.ncols() as f64,
        mean_abs_skew: skew / m,
        log_kurtosis: (kurt / m).ln(),
        outlier_share: outliers / m,
        varying,
    })
}

/// Mean absolute correlation, top eigenvalue share and share of directions for 90 % of the
/// variance, of the correlation matrix of `x`'s (non-constant) columns.
fn correlation_figures(x: ArrayView2<f64>) -> Result<(f64, f64, f64), MetaFeatureError> {
    let (n, d) = x.dim();
    let mean = x.mean_axis(Axis(0)).expect("rows exist");
    let centred = &x - &mean;
    let sd: Vec<f64> = centred
        .axis_iter(Axis(1))
        .map(|c| (c.iter().map(|v| v * v).sum::<f64>() / n as f64).sqrt())
        .collect();
    let mut corr = Array2::<f64>::zeros((d, d));
    for i in 0..d {
        for j in 0..=i {
            let c = centred.column(i).dot(&centred.column(j)) / (n as f64 * sd[i] * sd[j]);
            corr[[i, j]] = c;
            corr[[j, i]] = c;
        }
    }
    let pairs = d * (d - 1) / 2;
    let mean_abs_corr = if pairs == 0 {
        0.0
    } else {
        (0..d)
            .flat_map(|i| (0..i).map(move |j| (i, j)))
            .map(|(i, j)| corr[[i, j]].abs())
            .sum::<f64>()
            / pairs as f64
    };
    let matrix = faer::Mat::<f64>::from_fn(d, d, |i, j| corr[[i, j]]);
    let mut eigen = matrix
        .self_adjoint_eigenvalues(faer::Side::Lower)
        .map_err(|e| MetaFeatureError::Undefined {
            name: "pca_top_share",
            reason: format!("the eigenvalues of the correlation matrix did not converge ({e:?})"),
        })?;
    eigen.iter_mut().for_each(|v| *v = v.max(0.0));
    eigen.sort_by(|a, b| b.total_cmp(a));
    let trace: f64 = eigen.iter().sum();
    let top = eigen[0] / trace;
    let mut acc = 0.0;
    let mut dims = d;
    for (i, v) in eigen.iter().enumerate() {
        acc += v;
        if acc >= 0.9 * trace {
            dims = i + 1;
            break;
        }
    }
    Ok((mean_abs_corr, top, dims as f64 / d as f64))
}

/// Held-out log-likelihood gains of a full Gaussian and of 4 diagonal components over one
/// diagonal Gaussian, per feature.
fn landmarks(x: ArrayView2<f64>) -> Result<(f64, f64), MetaFeatureError> {
    let (n, d) = x.dim();
    let cut = (n * 4 / 5).max(1).min(n - 1);
    let (train, held_out) = (x.slice(s![..cut, ..]), x.slice(s![cut.., ..]));
    let score = |k: usize, covariance_type: CovarianceType| -> Result<f64, MetaFeatureError> {
        let config = GmmConfig {
            n_components: k.min(train.nrows()),
            covariance_type,
            reg_covar: 1e-3,
            init: InitMethod::KMeans,
        };
        config
            .params(&FitSettings::default(), 0)
            .check()
            .and_then(|p| p.fit(train))
            .and_then(|m| m.score(held_out))
            .map_err(|e| MetaFeatureError::Undefined {
                name: if k == 1 { "gain_full" } else { "gain_mixture" },
                reason: format!("the landmark fit failed: {e}"),
            })
    };
    let diag = score(1, CovarianceType::Diag)?;
    let full = score(1, CovarianceType::Full)?;
    let mixture = score(4, CovarianceType::Diag)?;
    Ok(((full - diag) / d as f64, (mixture - diag) / d as f64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};

    fn gaussian(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        Array2::from_shape_fn((n, d), |_| StandardNormal.sample(&mut rng))
    }

    #[test]
    fn independent_gaussian_features_look_independent() {
        let m = meta_features(gaussian(2000, 4, 1).view()).unwrap();
        assert!(m.get("mean_abs_corr").unwrap() < 0.05);
        assert!(m.get("discrete_share").unwrap() == 0.0);
        assert!(m.get("mean_abs_skew").unwrap() < 0.15);
        assert!((m.get("log_kurtosis").unwrap() - 3f64.ln()).abs() < 0.1);
        assert!(m.get("gain_full").unwrap().abs() < 0.01);
        assert!((m.get("pca_top_share").unwrap() - 0.25).abs() < 0.05);
    }

    #[test]
    fn correlated_and_multimodal_rows_show_in_the_landmarks() {
        let z = gaussian(2000, 3, 2);
        let correlated = Array2::from_shape_fn((2000, 3), |(i, j)| z[[i, 0]] + 0.1 * z[[i, j]]);
        let m = meta_features(correlated.view()).unwrap();
        assert!(m.get("mean_abs_corr").unwrap() > 0.9);
        assert!(m.get("gain_full").unwrap() > 0.5);
        assert!(m.get("pca_top_share").unwrap() > 0.9);
        let modes = Array2::from_shape_fn((2000, 2), |(i, j)| {
            z[[i, j]] * 0.2 + if i % 2 == 0 { 3.0 } else { -3.0 }
        });
        let m = meta_features(modes.view()).unwrap();
        assert!(m.get("gain_mixture").unwrap() > 0.5, "{m:?}");
    }

    #[test]
    fn undefined_inputs_are_errors_and_constant_columns_are_discrete() {
        assert_eq!(
            meta_features(gaussian(5, 2, 3).view()),
            Err(MetaFeatureError::TooFewRows(5))
        );
        assert_eq!(
            meta_features(Array2::<f64>::zeros((50, 3)).view()),
            Err(MetaFeatureError::AllConstant)
        );
        assert_eq!(
            meta_features(Array2::<f64>::zeros((50, 0)).view()),
            Err(MetaFeatureError::NoFeatures)
        );
        let mut x = gaussian(100, 3, 4);
        x.column_mut(1).fill(0.0);
        let m = meta_features(x.view()).unwrap();
        assert!((m.get("discrete_share").unwrap() - 1.0 / 3.0).abs() < 1e-12);
        x[[3, 0]] = f64::NAN;
        assert!(matches!(
            meta_features(x.view()),
            Err(MetaFeatureError::Undefined { .. })
        ));
    }

    #[test]
    fn many_features_are_capped() {
        let m = meta_features(gaussian(300, 400, 5).view()).unwrap();
        assert!((m.get("log_features").unwrap() - 400f64.ln()).abs() < 1e-12);
        assert!(m.get("pca_dims_90").unwrap() <= 1.0);
    }
}
