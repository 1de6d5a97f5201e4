//! The M-step: Gaussian parameters from responsibilities, and the precision Cholesky factors,
//! with scikit-learn's formulas (`_estimate_gaussian_parameters`,
//! `_compute_precision_cholesky`, `_compute_precision_cholesky_from_precisions`).

use ndarray::{Array1, Array2, Array3, ArrayView2, Axis};
use rayon::prelude::*;

use super::kernels::{self, Moments, Statistics};
use super::model::Covariances;
use super::params::{CovarianceType, PrecisionsInit};
use super::GmmError;
use crate::linalg;

/// Added to each component's responsibility sum, as scikit-learn (`10·eps`).
pub(crate) const NK_EPS: f64 = 10.0 * f64::EPSILON;

/// Parameters estimated from responsibilities: unnormalised weights (`nk`), means, covariances.
pub(crate) struct Estimate {
    pub(crate) nk: Array1<f64>,
    pub(crate) means: Array2<f64>,
    pub(crate) covariances: Covariances,
}

/// What the tied M-step needs of the data that never changes between iterations.
pub(crate) struct DataCache {
    /// `XᵀX`, only for the tied covariance type.
    pub(crate) gram: Option<Array2<f64>>,
}

impl DataCache {
    pub(crate) fn new(x: ArrayView2<f64>, covariance_type: CovarianceType) -> Self {
        DataCache {
            gram: (covariance_type == CovarianceType::Tied).then(|| kernels::gram(x)),
        }
    }
}

/// scikit-learn's `_estimate_gaussian_parameters` from the statistics of one set of
/// responsibilities (for full covariances, `stats.scatter` must be present).
pub(crate) fn estimate_parameters(
    stats: Statistics,
    covariance_type: CovarianceType,
    reg_covar: f64,
    cache: &DataCache,
) -> Estimate {
    let moments = &stats.moments;
    let d = moments.rx.ncols();
    let nk = moments.nk_regularised();
    let means = moments.means();
    let covariances = match covariance_type {
        CovarianceType::Full => {
            let mut cov = stats
                .scatter
                .expect("full covariances come with their scatter matrices");
            for (c, mut m) in cov.outer_iter_mut().enumerate() {
                m.mapv_inplace(|v| v / nk[c]);
                for i in 0..d {
                    m[[i, i]] += reg_covar;
                }
            }
            Covariances::Full(cov)
        }
        CovarianceType::Tied => {
            let gram = cache
                .gram
                .as_ref()
                .expect("the data cache of a tied fit holds the Gram matrix");
            // avg_means2 = (nk · meansᵀ) · means
            let weighted_t = &means.t() * &nk.view().insert_axis(Axis(0));
            let avg_means2 = weighted_t.dot(&means);
            let mut cov = gram - &avg_means2;
            let total = nk.sum();
            cov.mapv_inplace(|v| v / total);
            for i in 0..d {
                cov[[i, i]] += reg_covar;
            }
            Covariances::Tied(cov)
        }
        CovarianceType::Diag | CovarianceType::Spherical => {
            let diag = diag_covariances(moments, &nk, &means, reg_covar);
            if covariance_type == CovarianceType::Diag {
                Covariances::Diag(diag)
            } else {
                Covariances::Spherical(diag.mean_axis(Axis(1)).expect("d ≥ 1"))
            }
        }
    };
    Estimate {
        nk,
        means,
        covariances,
    }
}

/// `avg_X2 − 2·avg_X_means + avg_means2 + reg_covar`, scikit-learn's diagonal formula.
fn diag_covariances(
    moments: &Moments,
    nk: &Array1<f64>,
    means: &Array2<f64>,
    reg_covar: f64,
) -> Array2<f64> {
    let rx2 = moments
        .rx2
        .as_ref()
        .expect("squared moments are gathered for diag and spherical");
    let mut out = Array2::zeros(means.raw_dim());
    for c in 0..means.nrows() {
        for j in 0..means.ncols() {
            let mu = means[[c, j]];
            let avg_x2 = rx2[[c, j]] / nk[c];
            let avg_x_means = mu * moments.rx[[c, j]] / nk[c];
            out[[c, j]] = avg_x2 - 2.0 * avg_x_means + mu * mu + reg_covar;
        }
    }
    out
}

fn ill_defined(component: usize, covariance_type: CovarianceType, reg_covar: f64) -> GmmError {
    GmmError::IllDefinedCovariance {
        component,
        covariance_type: covariance_type.to_string(),
        reg_covar,
    }
}

/// scikit-learn's `_compute_precision_cholesky`; a failure names the first bad component.
pub(crate) fn precision_cholesky(
    covariances: &Covariances,
    reg_covar: f64,
) -> Result<Covariances, GmmError> {
    let ct = covariances.covariance_type();
    let positive = |v: &f64| *v > 0.0 && v.is_finite();
    match covariances {
        Covariances::Full(cov) => {
            let (k, d, _) = cov.dim();
            // Components are independent: factor them in parallel (each sequentially), each
            // straight into its slice of the output (no second K×d×d copy).
            let tasks = if k == 1 { linalg::LONE_FACTOR_TASKS } else { 1 };
            let mut out = Array3::zeros((k, d, d));
            let failed = out
                .outer_iter_mut()
                .into_par_iter()
                .zip(cov.outer_iter().into_par_iter())
                .enumerate()
                .filter_map(|(c, (mut slot, matrix))| {
                    match linalg::precision_factor_split(matrix, tasks) {
                        Some(p) => {
                            slot.assign(&p);
                            None
                        }
                        None => Some(c),
                    }
                })
                .min();
            match failed {
                Some(c) => Err(ill_defined(c, ct, reg_covar)),
                None => Ok(Covariances::Full(out)),
            }
        }
        Covariances::Tied(cov) => {
            let p = linalg::precision_factor_split(cov.view(), linalg::LONE_FACTOR_TASKS)
                .ok_or_else(|| ill_defined(0, ct, reg_covar))?;
            Ok(Covariances::Tied(p))
        }
        Covariances::Diag(cov) => {
            if let Some(c) = cov.outer_iter().position(|r| !r.iter().all(positive)) {
                return Err(ill_defined(c, ct, reg_covar));
            }
            Ok(Covariances::Diag(cov.mapv(|v| 1.0 / v.sqrt())))
        }
        Covariances::Spherical(cov) => {
            if let Some(c) = cov.iter().position(|v| !positive(v)) {
                return Err(ill_defined(c, ct, reg_covar));
            }
            Ok(Covariances::Spherical(cov.mapv(|v| 1.0 / v.sqrt())))
        }
    }
}

fn bad_precisions(reason: String) -> GmmError {
    GmmError::InvalidParameter {
        name: "precisions_init",
        value: "given precisions".into(),
        reason,
    }
}

fn check_precision_matrix(m: ArrayView2<f64>, which: &str) -> Result<Array2<f64>, GmmError> {
    let n = m.nrows();
    for i in 0..n {
        for j in 0..i {
            let (a, b) = (m[[i, j]], m[[j, i]]);
            if (a - b).abs() > 1e-8 + 1e-5 * b.abs() {
                return Err(bad_precisions(format!(
                    "{which} precision must be symmetric"
                )));
            }
        }
    }
    linalg::cholesky_upper_reversed(m)
        .ok_or_else(|| bad_precisions(format!("{which} precision must be positive definite")))
}

/// scikit-learn's `_compute_precision_cholesky_from_precisions` (upper-triangular factors
/// `U` with `U·Uᵀ = Λ`), after checking the precisions are symmetric positive definite.
pub(crate) fn precision_cholesky_from_precisions(
    precisions: &PrecisionsInit,
) -> Result<Covariances, GmmError> {
    Ok(match precisions {
        PrecisionsInit::Full(p) => {
            let (k, d, _) = p.dim();
            let mut out = Array3::zeros((k, d, d));
            for (c, m) in p.outer_iter().enumerate() {
                let u = check_precision_matrix(m, &format!("component {c}'s"))?;
                out.index_axis_mut(Axis(0), c).assign(&u);
            }
            Covariances::Full(out)
        }
        PrecisionsInit::Tied(p) => Covariances::Tied(check_precision_matrix(p.view(), "the tied")?),
        PrecisionsInit::Diag(p) => Covariances::Diag(p.mapv(f64::sqrt)),
        PrecisionsInit::Spherical(p) => Covariances::Spherical(p.mapv(f64::sqrt)),
    })
}

/// Covariances implied by precision Cholesky factors (`Σ = (P·Pᵀ)⁻¹`), for models whose
/// precisions were given rather than estimated. `None` if a factor is singular.
pub(crate) fn covariances_from_precision_cholesky(prec_chol: &Covariances) -> Option<Covariances> {
    fn one(p: ArrayView2<f64>) -> Option<Array2<f64>> {
        let a = sampling_factor(p)?;
        Some(a.dot(&a.t()))
    }
    Some(match prec_chol {
        Covariances::Full(p) => {
            let (k, d, _) = p.dim();
            let mut out = Array3::zeros((k, d, d));
            for (c, m) in p.outer_iter().enumerate() {
                out.index_axis_mut(Axis(0), c).assign(&one(m)?);
            }
            Covariances::Full(out)
        }
        Covariances::Tied(p) => Covariances::Tied(one(p.view())?),
        Covariances::Diag(p) => Covariances::Diag(p.mapv(|v| 1.0 / (v * v))),
        Covariances::Spherical(p) => Covariances::Spherical(p.mapv(|v| 1.0 / (v * v))),
    })
}

/// A matrix `A` with `A·Aᵀ = (P·Pᵀ)⁻¹` for a triangular factor `P` (upper or lower):
/// `A = (P⁻¹)ᵀ`. Rows drawn as `μ + z·Aᵀ` with `z ~ N(0, I)` then have the model's covariance.
pub(crate) fn sampling_factor(p: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = p.nrows();
    let lower = (0..n).all(|i| ((i + 1)..n).all(|j| p[[i, j]] == 0.0));
    if lower {
        // P lower: P⁻¹ lower, A = (P⁻¹)ᵀ.
        Some(linalg::invert_lower_triangular(p)?.reversed_axes())
    } else {
        // P upper: Pᵀ lower, A = (P⁻¹)ᵀ = (Pᵀ)⁻¹.
        let upper = (0..n).all(|i| (0..i).all(|j| p[[i, j]] == 0.0));
        if !upper {
            return None;
        }
        linalg::invert_lower_triangular(p.t())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn precision_cholesky_inverts_the_covariance() {
        let cov = array![[2.0, 0.3], [0.3, 1.0]];
        let p = linalg::precision_factor(cov.view()).unwrap();
        assert_eq!(p[[1, 0]], 0.0, "upper triangular as scikit-learn's");
        let prec = p.dot(&p.t());
        let eye = prec.dot(&cov);
        assert!((eye[[0, 0]] - 1.0).abs() < 1e-12 && eye[[0, 1]].abs() < 1e-12);
        let a = sampling_factor(p.view()).unwrap();
        let back = a.dot(&a.t());
        assert!((back[[0, 1]] - 0.3).abs() < 1e-12 && (back[[0, 0]] - 2.0).abs() < 1e-12);
    }

    #[test]
    fn non_positive_variances_name_the_component() {
        let err = precision_cholesky(&Covariances::Diag(array![[1.0, 1.0], [1.0, 0.0]]), 0.0)
            .unwrap_err();
        assert!(matches!(
            err,
            GmmError::IllDefinedCovariance { component: 1, .. }
        ));
        let err = precision_cholesky(
            &Covariances::Full(array![[[1.0, 0.0], [0.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]]),
            0.0,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            GmmError::IllDefinedCovariance { component: 1, .. }
        ));
        assert!(err.to_string().contains("reg_covar"));
    }

    #[test]
    fn given_precisions_must_be_positive_definite() {
        let bad = PrecisionsInit::Tied(array![[1.0, 2.0], [2.0, 1.0]]);
        assert!(matches!(
            precision_cholesky_from_precisions(&bad),
            Err(GmmError::InvalidParameter {
                name: "precisions_init",
                ..
            })
        ));
        let good = PrecisionsInit::Tied(array![[2.0, 0.5], [0.5, 1.0]]);
        let Covariances::Tied(u) = precision_cholesky_from_precisions(&good).unwrap() else {
            panic!("tied in, tied out")
        };
        let back = u.dot(&u.t());
        assert!((back[[0, 1]] - 0.5).abs() < 1e-12 && (back[[0, 0]] - 2.0).abs() < 1e-12);
        assert_eq!(u[[1, 0]], 0.0);
    }
}
