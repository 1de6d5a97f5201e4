//! A fitted Gaussian mixture: its parameters, scoring, information criteria and sampling.

use ndarray::{Array1, Array2, Array3, ArrayView1, ArrayView2, Axis, CowArray, Ix2};
use rand::Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use super::estimate;
use super::kernels::{self, LogProb};
use super::params::CovarianceType;
use super::persist::GaussianMixtureFile;
use super::GmmError;

/// Covariance-shaped parameters (covariances or precision Cholesky factors), shaped as
/// scikit-learn's `covariances_` / `precisions_cholesky_`.
#[derive(Debug, Clone, PartialEq)]
pub enum Covariances {
    /// K×d×d: one matrix per component.
    Full(Array3<f64>),
    /// d×d: one matrix shared by all components.
    Tied(Array2<f64>),
    /// K×d: one value per component and feature.
    Diag(Array2<f64>),
    /// K: one value per component.
    Spherical(Array1<f64>),
}

impl Covariances {
    /// The covariance type this shape belongs to.
    pub fn covariance_type(&self) -> CovarianceType {
        match self {
            Covariances::Full(_) => CovarianceType::Full,
            Covariances::Tied(_) => CovarianceType::Tied,
            Covariances::Diag(_) => CovarianceType::Diag,
            Covariances::Spherical(_) => CovarianceType::Spherical,
        }
    }

    /// All values, in row-major order.
    pub(crate) fn values(&self) -> Box<dyn Iterator<Item = f64> + '_> {
        match self {
            Covariances::Full(a) => Box::new(a.iter().copied()),
            Covariances::Tied(a) | Covariances::Diag(a) => Box::new(a.iter().copied()),
            Covariances::Spherical(a) => Box::new(a.iter().copied()),
        }
    }

    /// Checks the shape against K components and d features; the error says what was expected.
    pub(crate) fn check_shape(&self, k: usize, d: usize) -> Result<(), String> {
        let (ok, got, want) = match self {
            Covariances::Full(a) => (
                a.dim() == (k, d, d),
                format!("{:?}", a.shape()),
                format!("[{k}, {d}, {d}]"),
            ),
            Covariances::Tied(a) => (
                a.dim() == (d, d),
                format!("{:?}", a.shape()),
                format!("[{d}, {d}]"),
            ),
            Covariances::Diag(a) => (
                a.dim() == (k, d),
                format!("{:?}", a.shape()),
                format!("[{k}, {d}]"),
            ),
            Covariances::Spherical(a) => {
                (a.len() == k, format!("{:?}", a.shape()), format!("[{k}]"))
            }
        };
        if ok {
            Ok(())
        } else {
            Err(format!(
                "shape {got} does not fit {} covariances of {k} components and {d} features (expected {want})",
                self.covariance_type()
            ))
        }
    }
}

/// A Gaussian mixture with scikit-learn's `GaussianMixture` parameters and scoring.
///
/// Made by [`GmmValidParams::fit`](super::GmmValidParams::fit), by [`GaussianMixture::from_parts`]
/// or read back from JSON (`serde_json`); the JSON carries `covariance_type`, `weights`,
/// `means`, `covariances`, `precisions_cholesky` (scikit-learn-shaped nested arrays),
/// `converged`, `n_iter` and `lower_bound` (`null` for minus infinity), and is checked when read.
///
/// ```
/// use gmmtune::gmm::{CovarianceType, Covariances, GaussianMixture};
/// use ndarray::array;
///
/// let model = GaussianMixture::from_parts(
///     CovarianceType::Spherical,
///     array![0.5, 0.5],
///     array![[0.0, 0.0], [10.0, 10.0]],
///     Covariances::Spherical(array![1.0, 1.0]),
/// )?;
/// let labels = model.predict(array![[0.1, -0.2], [9.5, 10.2]].view())?;
/// assert_eq!(labels.to_vec(), vec![0, 1]);
/// let json = serde_json::to_string(&model).unwrap();
/// let back: GaussianMixture = serde_json::from_str(&json).unwrap();
/// assert_eq!(back.means(), model.means());
/// # Ok::<(), gmmtune::gmm::GmmError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "GaussianMixtureFile", into = "GaussianMixtureFile")]
pub struct GaussianMixture {
    pub(crate) covariance_type: CovarianceType,
    pub(crate) weights: Array1<f64>,
    pub(crate) means: Array2<f64>,
    pub(crate) covariances: Covariances,
    pub(crate) precisions_cholesky: Covariances,
    pub(crate) converged: bool,
    pub(crate) n_iter: usize,
    pub(crate) lower_bound: f64,
    pub(crate) lower_bound_history: Vec<f64>,
}

impl GaussianMixture {
    /// Builds a model from its weights (K), means (K×d) and covariances, computing the precision
    /// Cholesky factors. The result is marked as not fitted: `converged()` is `false`,
    /// `n_iter()` is 0 and `lower_bound()` is minus infinity.
    ///
    /// Errors: [`GmmError::InvalidModel`] for inconsistent shapes, non-finite values or
    /// negative weights; [`GmmError::IllDefinedCovariance`] when a covariance is not positive
    /// definite.
    pub fn from_parts(
        covariance_type: CovarianceType,
        weights: Array1<f64>,
        means: Array2<f64>,
        covariances: Covariances,
    ) -> Result<Self, GmmError> {
        check_parts(covariance_type, &weights, &means, &covariances)?;
        let precisions_cholesky = estimate::precision_cholesky(&covariances, 0.0)?;
        Ok(GaussianMixture {
            covariance_type,
            weights,
            means,
            covariances,
            precisions_cholesky,
            converged: false,
            n_iter: 0,
            lower_bound: f64::NEG_INFINITY,
            lower_bound_history: Vec::new(),
        })
    }

    /// Covariance type.
    pub fn covariance_type(&self) -> CovarianceType {
        self.covariance_type
    }
    /// Number of components K.
    pub fn n_components(&self) -> usize {
        self.means.nrows()
    }
    /// Number of features d.
    pub fn n_features(&self) -> usize {
        self.means.ncols()
    }
    /// Mixture weights (K).
    pub fn weights(&self) -> ArrayView1<'_, f64> {
        self.weights.view()
    }
    /// Component means (K×d).
    pub fn means(&self) -> ArrayView2<'_, f64> {
        self.means.view()
    }
    /// Covariances, shaped as scikit-learn's `covariances_`.
    pub fn covariances(&self) -> &Covariances {
        &self.covariances
    }
    /// Precision Cholesky factors, shaped as scikit-learn's `precisions_cholesky_`
    /// (`P·Pᵀ` is the precision matrix).
    pub fn precisions_cholesky(&self) -> &Covariances {
        &self.precisions_cholesky
    }
    /// Whether the best initialisation converged (`|Δ lower bound| < tol`).
    pub fn converged(&self) -> bool {
        self.converged
    }
    /// EM iterations of the best initialisation.
    pub fn n_iter(&self) -> usize {
        self.n_iter
    }
    /// Mean log-likelihood lower bound of the best initialisation (minus infinity when no EM
    /// iteration ran).
    pub fn lower_bound(&self) -> f64 {
        self.lower_bound
    }

    /// The mean log-likelihood after each EM iteration of the kept initialisation (its last
    /// value is [`lower_bound`](Self::lower_bound)); empty for a model that was not fitted.
    pub fn lower_bound_history(&self) -> &[f64] {
        &self.lower_bound_history
    }

    fn kernel(&self) -> LogProb {
        LogProb::new(
            self.weights.view(),
            self.means.view(),
            &self.precisions_cholesky,
        )
    }

    fn check_input<'a>(&self, x: ArrayView2<'a, f64>) -> Result<CowArray<'a, f64, Ix2>, GmmError> {
        if x.ncols() != self.n_features() {
            return Err(GmmError::InvalidData(format!(
                "X has {} features (columns) but the model has {}; pass data with the columns the model was fitted on",
                x.ncols(),
                self.n_features()
            )));
        }
        check_finite(x)?;
        Ok(standard_layout(x))
    }

    /// Log-likelihood of each row under the mixture (scikit-learn's `score_samples`).
    /// Negate it for an anomaly score (higher = more anomalous).
    pub fn score_samples(&self, x: ArrayView2<f64>) -> Result<Array1<f64>, GmmError> {
        let x = self.check_input(x)?;
        Ok(kernels::log_likelihoods(x.view(), &self.kernel()))
    }

    /// Mean log-likelihood of the rows. Errors on an empty matrix.
    pub fn score(&self, x: ArrayView2<f64>) -> Result<f64, GmmError> {
        if x.nrows() == 0 {
            return Err(GmmError::InvalidData(
                "cannot score an empty matrix (0 rows)".into(),
            ));
        }
        // Summed as the rows are scored: no N-long array is kept.
        let x = self.check_input(x)?;
        Ok(kernels::total_log_likelihood(x.view(), &self.kernel()) / x.nrows() as f64)
    }

    /// Most responsible component of each row.
    pub fn predict(&self, x: ArrayView2<f64>) -> Result<Array1<usize>, GmmError> {
        Ok(self.score_samples_and_components(x)?.1)
    }

    /// Posterior probability of each component for each row (N×K, rows sum to 1).
    pub fn predict_proba(&self, x: ArrayView2<f64>) -> Result<Array2<f64>, GmmError> {
        let x = self.check_input(x)?;
        Ok(kernels::responsibilities(x.view(), &self.kernel()))
    }

    /// In one pass: the log-likelihood of each row and its most responsible component.
    pub fn score_samples_and_components(
        &self,
        x: ArrayView2<f64>,
    ) -> Result<(Array1<f64>, Array1<usize>), GmmError> {
        let x = self.check_input(x)?;
        Ok(kernels::score_rows(x.view(), &self.kernel()))
    }

    /// Number of free parameters: covariance parameters + K·d means + K−1 weights.
    pub fn n_parameters(&self) -> usize {
        let (k, d) = (self.n_components(), self.n_features());
        let cov = match self.covariance_type {
            CovarianceType::Full => k * d * (d + 1) / 2,
            CovarianceType::Diag => k * d,
            CovarianceType::Tied => d * (d + 1) / 2,
            CovarianceType::Spherical => k,
        };
        cov + k * d + k - 1
    }

    /// Bayesian information criterion `−2·score(X)·n + p·ln n` (lower is better).
    pub fn bic(&self, x: ArrayView2<f64>) -> Result<f64, GmmError> {
        Ok(self.bic_from_log_likelihoods(self.score_samples(x)?.view()))
    }

    /// [`bic`](Self::bic) from per-row log-likelihoods already computed by
    /// [`score_samples`](Self::score_samples), without another pass over the rows.
    ///
    /// ```
    /// use gmmtune::gmm::GmmParams;
    /// use ndarray::Array2;
    ///
    /// let x = Array2::from_shape_fn((50, 2), |(i, j)| ((i * 7 + j * 3) % 11) as f64);
    /// let model = GmmParams::new(2).seed(0).check()?.fit(x.view())?;
    /// let ll = model.score_samples(x.view())?;
    /// assert_eq!(model.bic_from_log_likelihoods(ll.view()), model.bic(x.view())?);
    /// # Ok::<(), gmmtune::gmm::GmmError>(())
    /// ```
    pub fn bic_from_log_likelihoods(&self, log_likelihoods: ArrayView1<f64>) -> f64 {
        let n = log_likelihoods.len() as f64;
        let score = log_likelihoods.sum() / n; // `score(X)` of the formula above
        -2.0 * score * n + self.n_parameters() as f64 * n.ln()
    }

    /// Akaike information criterion `−2·score(X)·n + 2p` (lower is better).
    pub fn aic(&self, x: ArrayView2<f64>) -> Result<f64, GmmError> {
        let n = x.nrows() as f64;
        Ok(-2.0 * self.score(x)? * n + 2.0 * self.n_parameters() as f64)
    }

    /// Draws `n` rows from the mixture, as scikit-learn's `sample`: the count per component is
    /// multinomial with the (normalised) weights, and the rows come grouped by component, with
    /// the component of each row as the second value. `n = 0` gives empty arrays.
    pub fn sample<R: Rng + ?Sized>(&self, n: usize, rng: &mut R) -> (Array2<f64>, Array1<usize>) {
        let (k, d) = (self.n_components(), self.n_features());
        let counts = multinomial(n, self.weights.view(), rng);
        let mut x = Array2::zeros((n, d));
        let mut labels = Array1::zeros(n);
        let mut row = 0;
        let tied_factor = match &self.precisions_cholesky {
            Covariances::Tied(p) => estimate::sampling_factor(p.view()),
            _ => None,
        };
        for (c, &count) in counts.iter().enumerate().take(k) {
            let mean = self.means.row(c);
            let factor = match &self.precisions_cholesky {
                Covariances::Full(p) => {
                    Factor::Matrix(estimate::sampling_factor(p.index_axis(Axis(0), c)))
                }
                Covariances::Tied(_) => Factor::Matrix(tied_factor.clone()),
                Covariances::Diag(p) => Factor::Scales(p.row(c).mapv(|v| 1.0 / v)),
                Covariances::Spherical(p) => Factor::Scales(Array1::from_elem(d, 1.0 / p[c])),
            };
            for _ in 0..count {
                let z: Array1<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
                let draw = match &factor {
                    Factor::Matrix(Some(a)) => a.dot(&z),
                    // Triangular factors with a positive diagonal are checked on every way in;
                    // a singular one cannot occur, but keep the mean rather than panic.
                    Factor::Matrix(None) => Array1::zeros(d),
                    Factor::Scales(s) => &z * s,
                };
                x.row_mut(row).assign(&(&draw + &mean));
                labels[row] = c;
                row += 1;
            }
        }
        (x, labels)
    }
}

enum Factor {
    Matrix(Option<Array2<f64>>),
    Scales(Array1<f64>),
}

/// Multinomial counts by successive binomial draws (weights are normalised first).
fn multinomial<R: Rng + ?Sized>(n: usize, weights: ArrayView1<f64>, rng: &mut R) -> Vec<usize> {
    let total: f64 = weights.sum();
    let mut counts = vec![0; weights.len()];
    let mut left = n as u64;
    let mut mass_left = 1.0;
    for (c, w) in weights.iter().enumerate() {
        if left == 0 {
            break;
        }
        let p = w / total;
        if c + 1 == weights.len() {
            counts[c] = left as usize;
            break;
        }
        let q = if mass_left > 0.0 {
            (p / mass_left).clamp(0.0, 1.0)
        } else {
            1.0
        };
        let draw = Binomial::new(left, q)
            .map(|b| b.sample(rng))
            .unwrap_or(left);
        counts[c] = draw as usize;
        left -= draw;
        mass_left -= p;
    }
    counts
}

/// `x` itself when its rows are contiguous, else a row-major copy.
pub(crate) fn standard_layout(x: ArrayView2<'_, f64>) -> CowArray<'_, f64, Ix2> {
    if x.is_standard_layout() {
        CowArray::from(x)
    } else {
        CowArray::from(x.as_standard_layout().into_owned())
    }
}

/// Rejects non-finite values, naming the first one's row and column.
pub(crate) fn check_finite(x: ArrayView2<f64>) -> Result<(), GmmError> {
    for ((i, j), v) in x.indexed_iter() {
        if !v.is_finite() {
            return Err(GmmError::InvalidData(format!(
                "X holds a non-finite value ({v}) at row {i}, column {j}; impute or drop it first"
            )));
        }
    }
    Ok(())
}

/// Shape and value checks shared by `from_parts` and reading a model.
pub(crate) fn check_parts(
    covariance_type: CovarianceType,
    weights: &Array1<f64>,
    means: &Array2<f64>,
    covariances: &Covariances,
) -> Result<(), GmmError> {
    let invalid = |m: String| Err(GmmError::InvalidModel(m));
    let (k, d) = means.dim();
    if k == 0 || d == 0 {
        return invalid(format!(
            "means must be K×d with K ≥ 1 and d ≥ 1, got {k}×{d}"
        ));
    }
    if weights.len() != k {
        return invalid(format!(
            "{} weights for {k} components (means has {k} rows)",
            weights.len()
        ));
    }
    if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) || weights.sum() <= 0.0 {
        return invalid("weights must be finite, ≥ 0 and not all 0".into());
    }
    if means.iter().any(|v| !v.is_finite()) {
        return invalid("means must be finite".into());
    }
    if covariances.covariance_type() != covariance_type {
        return invalid(format!(
            "covariances are shaped for {} but covariance_type is {covariance_type}",
            covariances.covariance_type()
        ));
    }
    covariances
        .check_shape(k, d)
        .map_err(|m| GmmError::InvalidModel(format!("covariances: {m}")))?;
    if covariances.values().any(|v| !v.is_finite()) {
        return invalid("covariances must be finite".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn two_blobs() -> GaussianMixture {
        GaussianMixture::from_parts(
            CovarianceType::Full,
            array![0.25, 0.75],
            array![[0.0, 0.0], [10.0, -10.0]],
            Covariances::Full(array![[[1.0, 0.5], [0.5, 2.0]], [[0.5, 0.0], [0.0, 0.5]]]),
        )
        .unwrap()
    }

    #[test]
    fn score_samples_matches_the_closed_form() {
        let m = GaussianMixture::from_parts(
            CovarianceType::Diag,
            array![1.0],
            array![[1.0, -1.0]],
            Covariances::Diag(array![[4.0, 0.25]]),
        )
        .unwrap();
        let ll = m.score_samples(array![[3.0, -1.5]].view()).unwrap();
        let want = -(2.0 * std::f64::consts::PI).ln()
            - 0.5 * (4.0f64.ln() + 0.25f64.ln())
            - 0.5 * (4.0 / 4.0 + 0.25 / 0.25);
        assert!((ll[0] - want).abs() < 1e-12, "{} vs {want}", ll[0]);
        for ct in CovarianceType::ALL {
            let cov = match ct {
                CovarianceType::Full => Covariances::Full(array![[[4.0, 0.0], [0.0, 0.25]]]),
                CovarianceType::Tied => Covariances::Tied(array![[4.0, 0.0], [0.0, 0.25]]),
                CovarianceType::Diag => Covariances::Diag(array![[4.0, 0.25]]),
                CovarianceType::Spherical => continue,
            };
            let m = GaussianMixture::from_parts(ct, array![1.0], array![[1.0, -1.0]], cov).unwrap();
            let ll = m.score_samples(array![[3.0, -1.5]].view()).unwrap();
            assert!((ll[0] - want).abs() < 1e-12, "{ct}");
        }
    }

    #[test]
    fn huge_distances_stay_finite() {
        let m = two_blobs();
        let x = array![[1e6, -3e6], [5e4, 2e5]];
        let ll = m.score_samples(x.view()).unwrap();
        assert!(ll.iter().all(|v| v.is_finite()), "{ll}");
        assert!(ll[0] < -1e11);
        let p = m.predict_proba(x.view()).unwrap();
        for row in p.outer_iter() {
            assert!((row.sum() - 1.0).abs() < 1e-12);
        }
    }

    #[test]
    fn wrong_width_and_non_finite_rows_are_errors() {
        let m = two_blobs();
        let err = m.score_samples(array![[1.0, 2.0, 3.0]].view()).unwrap_err();
        assert!(err.to_string().contains("3 features"), "{err}");
        let err = m.predict(array![[1.0, f64::NAN]].view()).unwrap_err();
        assert!(err.to_string().contains("row 0, column 1"), "{err}");
        assert!(m.score(Array2::zeros((0, 2)).view()).is_err());
    }

    #[test]
    fn information_criteria_follow_their_formulas() {
        let m = two_blobs();
        assert_eq!(m.n_parameters(), 2 * 3 + 2 * 2 + 1);
        let x = array![[0.0, 0.1], [9.0, -10.0], [10.5, -9.5]];
        let n = 3.0;
        let s = m.score(x.view()).unwrap();
        assert!((m.bic(x.view()).unwrap() - (-2.0 * s * n + 11.0 * n.ln())).abs() < 1e-9);
        assert!((m.aic(x.view()).unwrap() - (-2.0 * s * n + 22.0)).abs() < 1e-9);
        let counts = |ct, cov| {
            GaussianMixture::from_parts(ct, array![0.5, 0.5], Array2::zeros((2, 3)), cov)
                .unwrap()
                .n_parameters()
        };
        assert_eq!(
            counts(CovarianceType::Tied, Covariances::Tied(Array2::eye(3))),
            6 + 6 + 1
        );
        assert_eq!(
            counts(
                CovarianceType::Diag,
                Covariances::Diag(Array2::ones((2, 3)))
            ),
            6 + 6 + 1
        );
        assert_eq!(
            counts(
                CovarianceType::Spherical,
                Covariances::Spherical(Array1::ones(2))
            ),
            2 + 6 + 1
        );
    }

    #[test]
    fn samples_are_grouped_with_weight_frequencies_and_moments() {
        let m = two_blobs();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let (x, y) = m.sample(20_000, &mut rng);
        assert_eq!(x.dim(), (20_000, 2));
        assert_eq!(y.len(), 20_000);
        assert!(
            y.windows(2).into_iter().all(|w| w[0] <= w[1]),
            "grouped by component"
        );
        let n1 = y.iter().filter(|&&c| c == 1).count() as f64 / 20_000.0;
        assert!((n1 - 0.75).abs() < 0.02, "{n1}");
        let first: Vec<usize> = (0..20_000).filter(|&i| y[i] == 0).collect();
        let xs = x.select(Axis(0), &first);
        let mean = xs.mean_axis(Axis(0)).unwrap();
        assert!(mean[0].abs() < 0.1 && mean[1].abs() < 0.1, "{mean}");
        let c = &xs - &mean;
        let cov01 = (&c.column(0) * &c.column(1)).mean().unwrap();
        let var1 = c.column(1).mapv(|v| v * v).mean().unwrap();
        assert!(
            (cov01 - 0.5).abs() < 0.1 && (var1 - 2.0).abs() < 0.15,
            "{cov01} {var1}"
        );
        let (e, l) = m.sample(0, &mut rng);
        assert_eq!((e.nrows(), l.len()), (0, 0));
    }

    #[test]
    fn from_parts_rejects_bad_parts() {
        let err = GaussianMixture::from_parts(
            CovarianceType::Diag,
            array![0.5, 0.5],
            array![[0.0], [1.0]],
            Covariances::Diag(array![[1.0, 1.0], [1.0, 1.0]]),
        )
        .unwrap_err();
        assert!(matches!(err, GmmError::InvalidModel(_)), "{err}");
        let err = GaussianMixture::from_parts(
            CovarianceType::Tied,
            array![1.0],
            array![[0.0, 0.0]],
            Covariances::Tied(array![[1.0, 2.0], [2.0, 1.0]]),
        )
        .unwrap_err();
        assert!(
            matches!(err, GmmError::IllDefinedCovariance { .. }),
            "{err}"
        );
    }
}
