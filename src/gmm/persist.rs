//! The JSON form of a [`GaussianMixture`] and its checks when read back.

use ndarray::{Array1, Array2, Array3};
use serde::{Deserialize, Serialize};

use super::model::{check_parts, Covariances, GaussianMixture};
use super::params::CovarianceType;
use super::GmmError;

/// A nested JSON array of one to three dimensions.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum NestedArray {
    Vector(Vec<f64>),
    Matrix(Vec<Vec<f64>>),
    Tensor(Vec<Vec<Vec<f64>>>),
}

/// The file form: scikit-learn attribute names and shapes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GaussianMixtureFile {
    covariance_type: CovarianceType,
    weights: Vec<f64>,
    means: Vec<Vec<f64>>,
    covariances: NestedArray,
    precisions_cholesky: NestedArray,
    converged: bool,
    n_iter: usize,
    /// `null` when minus infinity (no EM iteration ran).
    lower_bound: Option<f64>,
    /// Mean log-likelihood after each EM iteration of the kept initialisation.
    #[serde(default)]
    lower_bound_history: Vec<f64>,
}

fn to_nested(c: &Covariances) -> NestedArray {
    match c {
        Covariances::Full(a) => NestedArray::Tensor(
            a.outer_iter()
                .map(|m| m.outer_iter().map(|r| r.to_vec()).collect())
                .collect(),
        ),
        Covariances::Tied(a) | Covariances::Diag(a) => {
            NestedArray::Matrix(a.outer_iter().map(|r| r.to_vec()).collect())
        }
        Covariances::Spherical(a) => NestedArray::Vector(a.to_vec()),
    }
}

fn matrix(rows: Vec<Vec<f64>>, what: &str) -> Result<Array2<f64>, String> {
    let n = rows.len();
    let m = rows.first().map_or(0, Vec::len);
    if let Some((i, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != m) {
        return Err(format!(
            "{what}: row {i} has {} values but row 0 has {m}; rows must have equal lengths",
            r.len()
        ));
    }
    Array2::from_shape_vec((n, m), rows.into_iter().flatten().collect())
        .map_err(|e| format!("{what}: {e}"))
}

fn from_nested(
    value: NestedArray,
    covariance_type: CovarianceType,
    what: &str,
) -> Result<Covariances, String> {
    let depth_error = |got: &str| {
        let want = match covariance_type {
            CovarianceType::Full => "a K×d×d nested array",
            CovarianceType::Tied => "a d×d nested array",
            CovarianceType::Diag => "a K×d nested array",
            CovarianceType::Spherical => "a list of K numbers",
        };
        Err(format!(
            "{what} must be {want} for covariance_type {covariance_type}, got {got}"
        ))
    };
    match (covariance_type, value) {
        (CovarianceType::Spherical, NestedArray::Vector(v)) => {
            Ok(Covariances::Spherical(Array1::from(v)))
        }
        (CovarianceType::Diag, NestedArray::Matrix(m)) => Ok(Covariances::Diag(matrix(m, what)?)),
        (CovarianceType::Tied, NestedArray::Matrix(m)) => Ok(Covariances::Tied(matrix(m, what)?)),
        (CovarianceType::Full, NestedArray::Tensor(t)) => {
            let k = t.len();
            let mats = t
                .into_iter()
                .enumerate()
                .map(|(c, m)| matrix(m, &format!("{what}[{c}]")))
                .collect::<Result<Vec<_>, _>>()?;
            let (r, cc) = mats.first().map_or((0, 0), |m| m.dim());
            if mats.iter().any(|m| m.dim() != (r, cc)) {
                return Err(format!("{what}: the component matrices differ in shape"));
            }
            let flat: Vec<f64> = mats.iter().flat_map(|m| m.iter().copied()).collect();
            Array3::from_shape_vec((k, r, cc), flat)
                .map(Covariances::Full)
                .map_err(|e| format!("{what}: {e}"))
        }
        (_, NestedArray::Vector(_)) => depth_error("a list of numbers"),
        (_, NestedArray::Matrix(_)) => depth_error("a nested array of depth 2"),
        (_, NestedArray::Tensor(_)) => depth_error("a nested array of depth 3"),
    }
}

/// Precision Cholesky factors must be triangular with a positive diagonal (or positive values).
fn check_factors(p: &Covariances) -> Result<(), String> {
    let triangular = |m: ndarray::ArrayView2<f64>| {
        let n = m.nrows();
        let upper = (0..n).all(|i| (0..i).all(|j| m[[i, j]] == 0.0));
        let lower = (0..n).all(|i| ((i + 1)..n).all(|j| m[[i, j]] == 0.0));
        (upper || lower) && (0..n).all(|i| m[[i, i]] > 0.0)
    };
    let ok = match p {
        Covariances::Full(a) => a.outer_iter().all(triangular),
        Covariances::Tied(a) => triangular(a.view()),
        Covariances::Diag(a) => a.iter().all(|v| *v > 0.0),
        Covariances::Spherical(a) => a.iter().all(|v| *v > 0.0),
    };
    if ok && p.values().all(f64::is_finite) {
        Ok(())
    } else {
        Err("precisions_cholesky must be finite triangular factors with a positive diagonal (or positive values for diag/spherical)".into())
    }
}

impl TryFrom<GaussianMixtureFile> for GaussianMixture {
    type Error = GmmError;

    fn try_from(f: GaussianMixtureFile) -> Result<Self, GmmError> {
        let ct = f.covariance_type;
        let invalid = GmmError::InvalidModel;
        let weights = Array1::from(f.weights);
        let means = matrix(f.means, "means").map_err(invalid)?;
        let covariances = from_nested(f.covariances, ct, "covariances").map_err(invalid)?;
        check_parts(ct, &weights, &means, &covariances)?;
        let precisions_cholesky =
            from_nested(f.precisions_cholesky, ct, "precisions_cholesky").map_err(invalid)?;
        let (k, d) = means.dim();
        precisions_cholesky
            .check_shape(k, d)
            .map_err(|m| invalid(format!("precisions_cholesky: {m}")))?;
        check_factors(&precisions_cholesky).map_err(invalid)?;
        let lower_bound = match f.lower_bound {
            Some(v) if v.is_nan() => {
                return Err(invalid("lower_bound must be a number or null".into()));
            }
            Some(v) => v,
            None => f64::NEG_INFINITY,
        };
        if f.lower_bound_history.iter().any(|v| !v.is_finite()) {
            return Err(invalid(
                "lower_bound_history must hold finite numbers".into(),
            ));
        }
        Ok(GaussianMixture {
            covariance_type: ct,
            weights,
            means,
            covariances,
            precisions_cholesky,
            converged: f.converged,
            n_iter: f.n_iter,
            lower_bound,
            lower_bound_history: f.lower_bound_history,
        })
    }
}

impl From<GaussianMixture> for GaussianMixtureFile {
    fn from(m: GaussianMixture) -> Self {
        GaussianMixtureFile {
            covariance_type: m.covariance_type,
            weights: m.weights.to_vec(),
            means: m.means.outer_iter().map(|r| r.to_vec()).collect(),
            covariances: to_nested(&m.covariances),
            precisions_cholesky: to_nested(&m.precisions_cholesky),
            converged: m.converged,
            n_iter: m.n_iter,
            lower_bound: m.lower_bound.is_finite().then_some(m.lower_bound),
            lower_bound_history: m.lower_bound_history,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn model(ct: CovarianceType) -> GaussianMixture {
        let cov = match ct {
            CovarianceType::Full => {
                Covariances::Full(array![[[1.0, 0.2], [0.2, 2.0]], [[3.0, 0.0], [0.0, 1.0]]])
            }
            CovarianceType::Tied => Covariances::Tied(array![[1.0, 0.2], [0.2, 2.0]]),
            CovarianceType::Diag => Covariances::Diag(array![[1.0, 0.5], [2.0, 3.0]]),
            CovarianceType::Spherical => Covariances::Spherical(array![1.0, 0.5]),
        };
        GaussianMixture::from_parts(ct, array![0.3, 0.7], array![[0.0, 1.0], [2.0, 3.0]], cov)
            .unwrap()
    }

    #[test]
    fn json_round_trips_every_covariance_type() {
        for ct in CovarianceType::ALL {
            let mut m = model(ct);
            m.n_iter = 7;
            m.converged = true;
            m.lower_bound = -1.25;
            let json = serde_json::to_string(&m).unwrap();
            assert!(json.contains("\"precisions_cholesky\""));
            let back: GaussianMixture = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m, "{ct}");
        }
        let m = model(CovarianceType::Diag);
        let json = serde_json::to_string(&m).unwrap();
        assert!(json.contains("\"lower_bound\":null"), "{json}");
        let back: GaussianMixture = serde_json::from_str(&json).unwrap();
        assert_eq!(back.lower_bound(), f64::NEG_INFINITY);
    }

    #[test]
    fn wrong_shapes_are_rejected_with_a_plain_message() {
        let m = model(CovarianceType::Full);
        let mut v: serde_json::Value = serde_json::to_value(&m).unwrap();
        v["means"] = serde_json::json!([[0.0, 1.0, 2.0], [2.0, 3.0, 4.0]]);
        let err = serde_json::from_value::<GaussianMixture>(v)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("invalid model") && err.contains("covariances"),
            "{err}"
        );

        let mut v: serde_json::Value = serde_json::to_value(&m).unwrap();
        v["covariances"] = serde_json::json!([[1.0, 0.0], [0.0, 1.0]]);
        let err = serde_json::from_value::<GaussianMixture>(v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("K×d×d"), "{err}");

        let mut v: serde_json::Value = serde_json::to_value(&m).unwrap();
        v["weights"] = serde_json::json!([1.0]);
        let err = serde_json::from_value::<GaussianMixture>(v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("1 weights for 2 components"), "{err}");

        let mut v: serde_json::Value = serde_json::to_value(&m).unwrap();
        v["precisions_cholesky"][0][1][1] = serde_json::json!(-1.0);
        let err = serde_json::from_value::<GaussianMixture>(v)
            .unwrap_err()
            .to_string();
        assert!(err.contains("positive diagonal"), "{err}");
    }
}
