//! Fitting: data checks, initialisation, the EM loop and the choice among restarts, as
//! scikit-learn's `BaseMixture.fit_predict`.

use ndarray::{Array1, Array2, ArrayView2};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::estimate::{self, DataCache};
use super::init::initial_responsibilities;
use super::kernels::{self, LogProb, Plan};
use super::model::{check_finite, standard_layout, Covariances, GaussianMixture};
use super::params::{CovarianceType, GmmValidParams, PrecisionsInit};
use super::GmmError;

/// Parameters during EM.
struct State {
    weights: Array1<f64>,
    means: Array2<f64>,
    covariances: Covariances,
    precisions_cholesky: Covariances,
}

impl GmmValidParams {
    /// Fits a mixture to the rows of `x` (N×d) with the random stream
    /// `Xoshiro256PlusPlus::seed_from_u64(self.seed())`.
    ///
    /// Non-convergence within `max_iter` is not an error: see
    /// [`GaussianMixture::converged`].
    ///
    /// ```
    /// use gmmtune::gmm::{CovarianceType, GmmParams};
    /// use ndarray::Array2;
    ///
    /// let x = Array2::from_shape_fn((200, 2), |(i, j)| {
    ///     let blob = (i % 2) as f64 * 20.0;
    ///     blob + ((i * 31 + j * 17) % 23) as f64 / 23.0
    /// });
    /// let model = GmmParams::new(2)
    ///     .covariance_type(CovarianceType::Diag)
    ///     .seed(1)
    ///     .check()?
    ///     .fit(x.view())?;
    /// assert_eq!(model.n_components(), 2);
    /// assert!(model.converged());
    /// # Ok::<(), gmmtune::gmm::GmmError>(())
    /// ```
    pub fn fit(&self, x: ArrayView2<f64>) -> Result<GaussianMixture, GmmError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        self.fit_with_rng(x, &mut rng)
    }

    /// Fits a mixture drawing all randomness (initialisation of every restart, in turn) from
    /// `rng`.
    pub fn fit_with_rng<R: Rng + ?Sized>(
        &self,
        x: ArrayView2<f64>,
        rng: &mut R,
    ) -> Result<GaussianMixture, GmmError> {
        self.check_data(x)?;
        let x = standard_layout(x);
        let x = x.view();
        let n = x.nrows();
        let ct = self.covariance_type;
        let cache = DataCache::new(x, ct);
        let given_precisions = match &self.precisions_init {
            Some(p) => Some(estimate::precision_cholesky_from_precisions(p)?),
            None => None,
        };
        let plan = Plan::new(n, x.ncols(), self.n_components, ct);
        let mut workspace = plan.workspace(n);

        let mut best: Option<(State, usize, bool, Vec<f64>)> = None;
        let mut max_lower_bound = f64::NEG_INFINITY;
        for _ in 0..self.n_init {
            let mut state = self.initialize(x, rng, &cache, given_precisions.as_ref())?;
            if self.max_iter == 0 {
                best = Some((state, 0, false, Vec::new()));
                continue;
            }
            let mut history = Vec::with_capacity(self.max_iter.min(1024));
            let mut lower_bound = f64::NEG_INFINITY;
            let mut converged = false;
            let mut n_iter = 0;
            for iteration in 1..=self.max_iter {
                let previous = lower_bound;
                let kernel = LogProb::new(
                    state.weights.view(),
                    state.means.view(),
                    &state.precisions_cholesky,
                );
                let stats = kernels::e_step(x, &kernel, &plan, state.means.view(), &mut workspace);
                let log_lik = stats.log_lik;
                let est = estimate::estimate_parameters(stats, ct, self.reg_covar, &cache);
                let total = est.nk.sum();
                let weights = est.nk.mapv(|v| v / total);
                // The previous parameters are done with: free them before the new factors
                // are made (at large d they are K·d² values each).
                drop(state);
                let precisions_cholesky =
                    estimate::precision_cholesky(&est.covariances, self.reg_covar)?;
                state = State {
                    weights,
                    means: est.means,
                    precisions_cholesky,
                    covariances: est.covariances,
                };
                lower_bound = log_lik / n as f64;
                history.push(lower_bound);
                n_iter = iteration;
                if (lower_bound - previous).abs() < self.tol {
                    converged = true;
                    break;
                }
            }
            if lower_bound > max_lower_bound || max_lower_bound == f64::NEG_INFINITY {
                max_lower_bound = lower_bound;
                best = Some((state, n_iter, converged, history));
            }
        }
        let (state, n_iter, converged, lower_bound_history) =
            best.ok_or_else(|| GmmError::InvalidParameter {
                name: "n_init",
                value: self.n_init.to_string(),
                reason: "must be at least 1".into(),
            })?;
        Ok(GaussianMixture {
            covariance_type: ct,
            weights: state.weights,
            means: state.means,
            covariances: state.covariances,
            precisions_cholesky: state.precisions_cholesky,
            converged,
            n_iter,
            lower_bound: max_lower_bound,
            lower_bound_history,
        })
    }

    /// scikit-learn's `_initialize_parameters` + `_initialize`: one M-step on the initial
    /// responsibilities, then the user-given weights, means and precisions override.
    fn initialize<R: Rng + ?Sized>(
        &self,
        x: ArrayView2<f64>,
        rng: &mut R,
        cache: &DataCache,
        given_precisions: Option<&Covariances>,
    ) -> Result<State, GmmError> {
        let n = x.nrows();
        let ct = self.covariance_type;
        let resp = initial_responsibilities(x, self.n_components, self.init, rng);
        let stats = kernels::initial_statistics(x, &resp, self.n_components, ct);
        let est = estimate::estimate_parameters(stats, ct, self.reg_covar, cache);
        let weights = match &self.weights_init {
            Some(w) => w.clone(),
            None => est.nk.mapv(|v| v / n as f64),
        };
        let means = self.means_init.clone().unwrap_or(est.means);
        let (covariances, precisions_cholesky) = match given_precisions {
            Some(p) => {
                let cov = estimate::covariances_from_precision_cholesky(p).ok_or_else(|| {
                    GmmError::InvalidParameter {
                        name: "precisions_init",
                        value: "given precisions".into(),
                        reason: "must be positive definite".into(),
                    }
                })?;
                (cov, p.clone())
            }
            None => {
                let p = estimate::precision_cholesky(&est.covariances, self.reg_covar)?;
                (est.covariances, p)
            }
        };
        Ok(State {
            weights,
            means,
            covariances,
            precisions_cholesky,
        })
    }

    /// The checks that depend on the data (scikit-learn's `_check_parameters` and
    /// `validate_data` at fit).
    fn check_data(&self, x: ArrayView2<f64>) -> Result<(), GmmError> {
        let (n, d) = x.dim();
        let k = self.n_components;
        if n < 2 {
            return Err(GmmError::InvalidData(format!(
                "fitting needs at least 2 rows, X has {n}"
            )));
        }
        if d == 0 {
            return Err(GmmError::InvalidData(
                "X has no columns; fitting needs at least 1 feature".into(),
            ));
        }
        if n < k {
            return Err(GmmError::InvalidParameter {
                name: "n_components",
                value: k.to_string(),
                reason: format!(
                    "must not exceed the number of rows: got n_components = {k} with n_samples = {n}; lower n_components"
                ),
            });
        }
        check_finite(x)?;
        if let Some(m) = &self.means_init
            && m.ncols() != d
        {
            return Err(GmmError::InvalidParameter {
                name: "means_init",
                value: format!("{}×{}", m.nrows(), m.ncols()),
                reason: format!("must have {d} columns, one per feature of X"),
            });
        }
        if let Some(p) = &self.precisions_init {
            let width_ok = match p {
                PrecisionsInit::Full(a) => a.shape()[1] == d && a.shape()[2] == d,
                PrecisionsInit::Tied(a) => a.dim() == (d, d),
                PrecisionsInit::Diag(a) => a.ncols() == d,
                PrecisionsInit::Spherical(_) => true,
            };
            if !width_ok {
                let want = match self.covariance_type {
                    CovarianceType::Full => format!("{k}×{d}×{d}"),
                    CovarianceType::Tied => format!("{d}×{d}"),
                    CovarianceType::Diag => format!("{k}×{d}"),
                    CovarianceType::Spherical => format!("{k}"),
                };
                return Err(GmmError::InvalidParameter {
                    name: "precisions_init",
                    value: "given precisions".into(),
                    reason: format!("must be shaped {want} for X with {d} features"),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{GmmParams, InitMethod};
    use ndarray::{array, Array3};
    use rand_distr::{Distribution, StandardNormal};

    /// Three well-separated blobs in 3-D with different spreads, 600 rows.
    fn blobs(seed: u64) -> (Array2<f64>, Array2<f64>) {
        let centres = array![[0.0, 0.0, 0.0], [12.0, -8.0, 4.0], [-10.0, 10.0, 10.0]];
        let spreads = [1.0, 0.5, 1.5];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let x = Array2::from_shape_fn((600, 3), |(i, j)| {
            let c = i % 3;
            let z: f64 = StandardNormal.sample(&mut rng);
            centres[[c, j]] + spreads[c] * z
        });
        (x, centres)
    }

    fn params(k: usize, ct: CovarianceType, init: InitMethod) -> GmmParams {
        GmmParams::new(k).covariance_type(ct).init(init).seed(42)
    }

    #[test]
    fn recovers_separated_blobs_for_every_type_and_init() {
        let (x, centres) = blobs(7);
        for ct in CovarianceType::ALL {
            for init in InitMethod::ALL {
                // As in scikit-learn, a tied start from sparse or diffuse responsibilities
                // divides XᵀX by a tiny Σ nk: the covariance is so wide that the means
                // collapse onto the global mean (scikit-learn does the same on these data).
                if ct == CovarianceType::Tied && init != InitMethod::KMeans {
                    continue;
                }
                // Single-point starts need a few restarts to avoid two seeds in one blob.
                let model = params(3, ct, init)
                    .n_init(4)
                    .check()
                    .unwrap()
                    .fit(x.view())
                    .unwrap();
                assert!(model.converged(), "{ct} {init}");
                assert!(model.n_iter() >= 1);
                for centre in centres.outer_iter() {
                    let nearest = model
                        .means()
                        .outer_iter()
                        .map(|m| (&m - &centre).mapv(|v| v * v).sum().sqrt())
                        .fold(f64::INFINITY, f64::min);
                    assert!(
                        nearest < 0.4,
                        "{ct} {init}: centre {centre} off by {nearest}"
                    );
                }
                let mut w = model.weights().to_vec();
                w.sort_by(f64::total_cmp);
                assert!(
                    w.iter().all(|v| (v - 1.0 / 3.0).abs() < 0.02),
                    "{ct} {init}: {w:?}"
                );
                let labels = model.predict(x.view()).unwrap();
                for i in 0..3 {
                    assert!(
                        (0..600)
                            .filter(|r| r % 3 == i)
                            .all(|r| labels[r] == labels[i]),
                        "{ct} {init}"
                    );
                }
                let lb = model.lower_bound();
                let score = model.score(x.view()).unwrap();
                assert!((lb - score).abs() < 1e-2, "{ct} {init}: {lb} vs {score}");
            }
        }
    }

    #[test]
    fn same_seed_gives_the_same_model_and_seeds_matter() {
        let (x, _) = blobs(1);
        for ct in CovarianceType::ALL {
            let p = params(4, ct, InitMethod::Random)
                .max_iter(5)
                .check()
                .unwrap();
            assert_eq!(p.fit(x.view()).unwrap(), p.fit(x.view()).unwrap(), "{ct}");
            let other = params(4, ct, InitMethod::Random)
                .max_iter(5)
                .seed(43)
                .check()
                .unwrap();
            assert_ne!(
                p.fit(x.view()).unwrap().means(),
                other.fit(x.view()).unwrap().means()
            );
        }
    }

    #[test]
    fn one_component_is_the_sample_mean_and_covariance() {
        let (x, _) = blobs(12);
        let n = x.nrows() as f64;
        let mean = x.mean_axis(ndarray::Axis(0)).unwrap();
        let c = &x - &mean;
        let cov = c.t().dot(&c) / n;
        let reg = 1e-3;
        for ct in CovarianceType::ALL {
            let m = params(1, ct, InitMethod::Random)
                .reg_covar(reg)
                .check()
                .unwrap()
                .fit(x.view())
                .unwrap();
            assert!(m.converged(), "{ct}");
            assert!((m.weights()[0] - 1.0).abs() < 1e-12);
            for j in 0..3 {
                assert!((m.means()[[0, j]] - mean[j]).abs() < 1e-9, "{ct}");
            }
            let close = |a: f64, b: f64| (a - b).abs() < 1e-9 * (1.0 + b.abs());
            match m.covariances() {
                Covariances::Full(a) => {
                    assert!(a
                        .index_axis(ndarray::Axis(0), 0)
                        .indexed_iter()
                        .all(|((i, j), &v)| {
                            close(v, cov[[i, j]] + if i == j { reg } else { 0.0 })
                        }))
                }
                Covariances::Tied(a) => assert!(a
                    .indexed_iter()
                    .all(|((i, j), &v)| close(v, cov[[i, j]] + if i == j { reg } else { 0.0 }))),
                Covariances::Diag(a) => {
                    assert!((0..3).all(|j| close(a[[0, j]], cov[[j, j]] + reg)))
                }
                Covariances::Spherical(a) => {
                    assert!(close(
                        a[0],
                        (cov[[0, 0]] + cov[[1, 1]] + cov[[2, 2]]) / 3.0 + reg
                    ))
                }
            }
        }
    }

    #[test]
    fn layout_and_rng_injection_do_not_change_the_fit() {
        let (x, _) = blobs(11);
        let p = params(3, CovarianceType::Full, InitMethod::KMeansPlusPlus)
            .check()
            .unwrap();
        let standard = p.fit(x.view()).unwrap();
        let column_major = x.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!column_major.is_standard_layout());
        assert_eq!(p.fit(column_major.view()).unwrap(), standard);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        assert_eq!(p.fit_with_rng(x.view(), &mut rng).unwrap(), standard);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Enough rows for many parallel tasks.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let x = Array2::from_shape_fn((9_000, 5), |(i, j)| {
            let z: f64 = StandardNormal.sample(&mut rng);
            (i % 4) as f64 * 3.0 + j as f64 * 0.1 + z
        });
        for ct in CovarianceType::ALL {
            let p = params(4, ct, InitMethod::Random)
                .max_iter(20)
                .tol(0.0)
                .check()
                .unwrap();
            let fit_with = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap()
                    .install(|| {
                        let m = p.fit(x.view()).unwrap();
                        let s = m.score_samples(x.view()).unwrap();
                        (m, s)
                    })
            };
            let (one, s1) = fit_with(1);
            let (two, s2) = fit_with(2);
            let (three, s3) = fit_with(3);
            assert_eq!(one, two, "{ct}");
            assert_eq!(one, three, "{ct}");
            assert_eq!(s1, s2, "{ct}");
            assert_eq!(s1, s3, "{ct}");
            assert_eq!(one.n_iter(), 20);
            assert!(!one.converged());
        }
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let (x, _) = blobs(2);
        let err = GmmParams::new(5)
            .check()
            .unwrap()
            .fit(x.slice(ndarray::s![..4, ..]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                GmmError::InvalidParameter {
                    name: "n_components",
                    ..
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("n_components = 5") && msg.contains("n_samples = 4"),
            "{msg}"
        );

        let err = GmmParams::new(2)
            .check()
            .unwrap()
            .fit(x.slice(ndarray::s![..1, ..]))
            .unwrap_err();
        assert!(err.to_string().contains("at least 2 rows"), "{err}");

        let err = GmmParams::new(2)
            .means_init(Array2::zeros((2, 4)))
            .check()
            .unwrap()
            .fit(x.view())
            .unwrap_err();
        assert!(
            matches!(
                err,
                GmmError::InvalidParameter {
                    name: "means_init",
                    ..
                }
            ),
            "{err}"
        );

        let err = GmmParams::new(2)
            .covariance_type(CovarianceType::Diag)
            .precisions_init(PrecisionsInit::Diag(Array2::ones((2, 2))))
            .check()
            .unwrap()
            .fit(x.view())
            .unwrap_err();
        assert!(
            matches!(
                err,
                GmmError::InvalidParameter {
                    name: "precisions_init",
                    ..
                }
            ),
            "{err}"
        );

        let mut bad = x.clone();
        bad[[3, 2]] = f64::INFINITY;
        let err = GmmParams::new(2)
            .check()
            .unwrap()
            .fit(bad.view())
            .unwrap_err();
        assert!(err.to_string().contains("row 3, column 2"), "{err}");
    }

    #[test]
    fn duplicated_rows_without_regularisation_are_ill_defined() {
        // Five copies of the origin and five of (4, 4, 0): the first component's scatter and
        // the last feature's variance are exactly zero.
        let x = Array2::from_shape_fn((10, 3), |(i, j)| if i < 5 || j == 2 { 0.0 } else { 4.0 });
        for ct in CovarianceType::ALL {
            let err = params(2, ct, InitMethod::KMeans)
                .reg_covar(0.0)
                .check()
                .unwrap()
                .fit(x.view())
                .unwrap_err();
            assert!(
                matches!(err, GmmError::IllDefinedCovariance { .. }),
                "{ct}: {err}"
            );
            assert!(err.to_string().contains("reg_covar"));
            // The default regularisation makes the same data fit.
            params(2, ct, InitMethod::KMeans)
                .check()
                .unwrap()
                .fit(x.view())
                .unwrap();
        }
    }

    #[test]
    fn max_iter_zero_keeps_the_initial_parameters() {
        let (x, _) = blobs(3);
        let m = params(3, CovarianceType::Diag, InitMethod::RandomFromData)
            .max_iter(0)
            .check()
            .unwrap()
            .fit(x.view())
            .unwrap();
        assert_eq!(m.n_iter(), 0);
        assert!(!m.converged());
        assert_eq!(m.lower_bound(), f64::NEG_INFINITY);
        // Means are data rows, variances reg_covar, weights (1 + 10 eps) / n as scikit-learn.
        for mean in m.means().outer_iter() {
            let from_row = x.outer_iter().any(|r| {
                r.iter()
                    .zip(mean.iter())
                    .all(|(a, b)| (a - b).abs() <= 1e-13 * a.abs())
            });
            assert!(from_row, "{mean}");
        }
        let Covariances::Diag(cov) = m.covariances() else {
            panic!("diag")
        };
        assert!(cov.iter().all(|&v| (v - 1e-6).abs() < 1e-12), "{cov}");
        assert!(m.weights().iter().all(|&w| (w - 1.0 / 600.0).abs() < 1e-15));
    }

    #[test]
    fn given_initial_parameters_are_used_as_is() {
        let (x, centres) = blobs(4);
        let eye = Array3::from_shape_fn((3, 3, 3), |(_, i, j)| if i == j { 0.5 } else { 0.0 });
        let p = GmmParams::new(3)
            .covariance_type(CovarianceType::Full)
            .weights_init(array![0.2, 0.3, 0.5])
            .means_init(centres.clone())
            .precisions_init(PrecisionsInit::Full(eye))
            .max_iter(0)
            .check()
            .unwrap();
        let m = p.fit(x.view()).unwrap();
        assert_eq!(m.weights().to_vec(), vec![0.2, 0.3, 0.5]);
        assert_eq!(m.means(), centres.view());
        let Covariances::Full(prec) = m.precisions_cholesky() else {
            panic!("full")
        };
        assert!((prec[[1, 0, 0]] - 0.5f64.sqrt()).abs() < 1e-15 && prec[[1, 0, 1]] == 0.0);
        let Covariances::Full(cov) = m.covariances() else {
            panic!("full")
        };
        assert!((cov[[2, 1, 1]] - 2.0).abs() < 1e-12);

        // A fixed number of iterations with tol 0, as the parity tests use.
        let m5 = GmmParams::new(3)
            .weights_init(array![0.2, 0.3, 0.5])
            .means_init(centres.clone())
            .max_iter(5)
            .tol(0.0)
            .check()
            .unwrap()
            .fit(x.view())
            .unwrap();
        assert_eq!(m5.n_iter(), 5);
        assert!(!m5.converged());
        assert!(m5.lower_bound().is_finite());
        // The history holds one value per iteration, ends at the lower bound and never falls
        // (EM increases the likelihood).
        let history = m5.lower_bound_history();
        assert_eq!(history.len(), 5);
        assert_eq!(history[4], m5.lower_bound());
        assert!(
            history.windows(2).all(|w| w[1] >= w[0] - 1e-12),
            "{history:?}"
        );
    }

    #[test]
    fn restarts_keep_the_best_lower_bound() {
        let (x, _) = blobs(6);
        let p1 = params(3, CovarianceType::Spherical, InitMethod::RandomFromData)
            .max_iter(3)
            .tol(0.0);
        let single: Vec<f64> = {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
            (0..5)
                .map(|_| {
                    p1.clone()
                        .check()
                        .unwrap()
                        .fit_with_rng(x.view(), &mut rng)
                        .unwrap()
                        .lower_bound()
                })
                .collect()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
        let best = p1
            .n_init(5)
            .check()
            .unwrap()
            .fit_with_rng(x.view(), &mut rng)
            .unwrap();
        let max = single.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(best.lower_bound(), max);
    }

    #[test]
    fn huge_mahalanobis_distances_give_finite_scores() {
        let (x, _) = blobs(8);
        for ct in CovarianceType::ALL {
            let m = params(3, ct, InitMethod::KMeans)
                .check()
                .unwrap()
                .fit(x.view())
                .unwrap();
            let far = array![[1e4, -1e4, 3e4], [5e3, 0.0, 0.0]];
            let s = m.score_samples(far.view()).unwrap();
            assert!(s.iter().all(|v| v.is_finite() && *v < -1e6), "{ct}: {s}");
        }
    }
}
