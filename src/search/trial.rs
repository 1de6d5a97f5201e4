//! One trial: fit a GMM configuration on a prepared dataset and measure it under the protocol.
//!
//! The anomaly score is the negative log-likelihood. Validation labels serve only the threshold
//! and the objective; test labels are only reported.

use std::time::Instant;

use ndarray::{concatenate, s, Array1, ArrayView2, Axis};

use crate::data::{Part, Prepared};
use crate::eval::{average_precision, roc_auc, CostModel, Objective, ThresholdSearch};
use crate::gmm::{GaussianMixture, GmmError};
use crate::gmm_config::{FitSettings, GmmConfig};
use crate::journal::TrialMetrics;

/// Everything a trial needs besides the data and the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialSettings {
    /// EM settings.
    pub fit: FitSettings,
    /// The cost model and its threshold search.
    pub cost_model: CostModel,
    /// How the threshold is searched on validation.
    pub threshold: ThresholdSearch,
    /// Whether the k-fold held-out log-likelihood is measured (k more fits per trial).
    pub measure_cv: bool,
    /// Folds of the cross-validated log-likelihood.
    pub cv_folds: usize,
    /// Most fit rows the cross-validated log-likelihood uses (the first ones); `None` = all.
    pub cv_max_rows: Option<usize>,
    /// Quantile of the fit rows' anomaly scores that sets the label-free threshold.
    pub score_quantile: f64,
}

impl TrialSettings {
    /// Whether an earlier result serves these settings: it holds the cross-validated
    /// log-likelihood when that is measured, and the label-free threshold (which results of
    /// builds before it lack).
    pub fn served_by(&self, metrics: Option<&TrialMetrics>) -> bool {
        metrics.is_none_or(|m| {
            (!self.measure_cv || m.cv_loglik.is_some()) && m.quantile_threshold.is_some()
        })
    }
}

pub use crate::eval::quantile;

/// Whether `objective` needs the cross-validated log-likelihood.
pub fn needs_cv(objective: Objective) -> bool {
    objective == Objective::CvLoglik
}

/// The result of one trial: metrics, or the error that made it fail, and the fit time.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialOutcome {
    /// Metrics, or the error message.
    pub result: Result<TrialMetrics, String>,
    /// Seconds spent fitting (including cross-validation fits).
    pub fit_seconds: f64,
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Fits `config` on `rows` with the trial's seed.
pub fn fit_config(
    config: &GmmConfig,
    fit: &FitSettings,
    seed: u64,
    rows: ArrayView2<f64>,
) -> Result<GaussianMixture, GmmError> {
    config.params(fit, seed).check()?.fit(rows)
}

/// k-fold held-out mean log-likelihood, with unshuffled folds as scikit-learn's `KFold`: the
/// first `n % k` folds hold one row more.
pub fn cv_loglik(
    config: &GmmConfig,
    fit: &FitSettings,
    seed: u64,
    rows: ArrayView2<f64>,
    folds: usize,
) -> Result<f64, GmmError> {
    let n = rows.nrows();
    if folds < 2 || n < folds {
        return Err(GmmError::InvalidData(format!(
            "{folds}-fold cross-validation needs at least {folds} training rows, found {n}"
        )));
    }
    let mut start = 0;
    let mut total = 0.0;
    for fold in 0..folds {
        let size = n / folds + usize::from(fold < n % folds);
        let held_out = rows.slice(s![start..start + size, ..]);
        let kept = concatenate(
            Axis(0),
            &[
                rows.slice(s![..start, ..]),
                rows.slice(s![start + size.., ..]),
            ],
        )
        .map_err(|e| GmmError::InvalidData(e.to_string()))?;
        let model = fit_config(config, fit, seed, kept.view())?;
        total += model.score(held_out)?;
        start += size;
    }
    Ok(total / folds as f64)
}

/// Anomaly scores (−log-likelihood) of a part's rows, in row order.
fn anomaly_scores(model: &GaussianMixture, part: &Part) -> Result<Vec<f64>, GmmError> {
    Ok(negated(&model.score_samples(part.x.view())?))
}

/// Anomaly scores from log-likelihoods: their negatives.
fn negated(log_likelihoods: &Array1<f64>) -> Vec<f64> {
    log_likelihoods.iter().map(|ll| -ll).collect()
}

/// Runs one trial: fits `config` on the dataset's fitting rows and measures it on every part.
pub fn run_trial(
    data: &Prepared,
    config: &GmmConfig,
    settings: &TrialSettings,
    seed: u64,
) -> TrialOutcome {
    let started = Instant::now();
    let fitted = fit_with_cv(data, config, settings, seed);
    let fit_seconds = started.elapsed().as_secs_f64();
    let result = fitted
        .and_then(|(model, cv)| measure(data, &model, cv, settings))
        .map_err(|e| e.to_string());
    TrialOutcome {
        result,
        fit_seconds,
    }
}

/// What [`run_trial`] computes, with the fitted model: rebuilds a journaled trial exactly.
pub fn fit_and_measure(
    data: &Prepared,
    config: &GmmConfig,
    settings: &TrialSettings,
    seed: u64,
) -> Result<(GaussianMixture, TrialMetrics), GmmError> {
    let (model, cv) = fit_with_cv(data, config, settings, seed)?;
    let metrics = measure(data, &model, cv, settings)?;
    Ok((model, metrics))
}

/// Fits `config` on the fit rows and, when asked, the cross-validated log-likelihood.
fn fit_with_cv(
    data: &Prepared,
    config: &GmmConfig,
    settings: &TrialSettings,
    seed: u64,
) -> Result<(GaussianMixture, Option<f64>), GmmError> {
    fit_config(config, &settings.fit, seed, data.fit_rows.view()).and_then(|model| {
        let cv = if settings.measure_cv {
            let rows = settings
                .cv_max_rows
                .map_or(data.fit_rows.nrows(), |m| m.min(data.fit_rows.nrows()));
            Some(cv_loglik(
                config,
                &settings.fit,
                seed,
                data.fit_rows.slice(s![..rows, ..]),
                settings.cv_folds,
            )?)
        } else {
            None
        };
        Ok((model, cv))
    })
}

fn measure(
    data: &Prepared,
    model: &GaussianMixture,
    cv_loglik: Option<f64>,
    settings: &TrialSettings,
) -> Result<TrialMetrics, GmmError> {
    // One pass over the train part; the fit rows are among its rows.
    let train_ll = model.score_samples(data.train.x.view())?;
    let fit_ll = train_ll.select(Axis(0), &data.fit_positions_in_train);
    let train_scores = negated(&train_ll);
    let val_scores = anomaly_scores(model, &data.validation)?;
    let test_scores = anomaly_scores(model, &data.test)?;

    let mut warnings = Vec::new();
    if !model.converged() && settings.fit.max_iter > 0 {
        warnings.push(format!(
            "EM did not converge in {} iterations (raise fit.max_iter or fit.tol)",
            settings.fit.max_iter
        ));
    }
    let bic = model.bic_from_log_likelihoods(fit_ll.view());
    let train_loglik = fit_ll.sum() / fit_ll.len() as f64;
    let fit_scores = negated(&fit_ll);
    let quantile_threshold = quantile(&fit_scores, settings.score_quantile).filter(|t| !t.is_nan());
    if !data.labelled {
        warnings
            .push("the data have no labels: AUC, AP, threshold and costs are not available".into());
        return Ok(TrialMetrics {
            converged: model.converged(),
            n_iter: model.n_iter(),
            bic,
            train_loglik,
            cv_loglik,
            quantile_threshold,
            warnings,
            ..TrialMetrics::default()
        });
    }
    let metric = |name: &str, v: f64, warnings: &mut Vec<String>| {
        if v.is_nan() {
            warnings.push(format!(
                "{name} is undefined: that split holds a single class"
            ));
        }
        finite(v)
    };
    let val_auc = metric(
        "val_auc",
        roc_auc(&val_scores, &data.validation.labels),
        &mut warnings,
    );
    let test_auc = metric(
        "test_auc",
        roc_auc(&test_scores, &data.test.labels),
        &mut warnings,
    );
    let val_ap = metric(
        "val_ap",
        average_precision(&val_scores, &data.validation.labels),
        &mut warnings,
    );
    let test_ap = metric(
        "test_ap",
        average_precision(&test_scores, &data.test.labels),
        &mut warnings,
    );

    let cost_model = settings.cost_model;
    let choice =
        cost_model.optimise_threshold(&val_scores, &data.validation.labels, &settings.threshold);
    let threshold = choice.threshold;
    Ok(TrialMetrics {
        converged: model.converged(),
        n_iter: model.n_iter(),
        val_auc,
        test_auc,
        val_ap,
        test_ap,
        threshold: Some(threshold),
        train_cost: Some(cost_model.cost(&train_scores, &data.train.labels, threshold)),
        val_cost: Some(choice.cost),
        test_cost: Some(cost_model.cost(&test_scores, &data.test.labels, threshold)),
        never_alarm_val_cost: Some(cost_model.never_alarm_cost(&data.validation.labels)),
        never_alarm_test_cost: Some(cost_model.never_alarm_cost(&data.test.labels)),
        quantile_threshold,
        val_cost_at_quantile: quantile_threshold
            .map(|t| cost_model.cost(&val_scores, &data.validation.labels, t)),
        test_cost_at_quantile: quantile_threshold
            .map(|t| cost_model.cost(&test_scores, &data.test.labels, t)),
        bic,
        train_loglik,
        cv_loglik,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{prepare, Protocol, Table};
    use ndarray::Array2;

    #[test]
    fn quantile_interpolates_like_numpy() {
        // numpy.quantile([1, 2, 3, 4, 10], [0, 0.1, 0.99, 1]) = [1, 1.4, 9.76, 10]
        let v = [3.0, 1.0, 10.0, 2.0, 4.0];
        for (q, expected) in [(0.0, 1.0), (0.1, 1.4), (0.99, 9.76), (1.0, 10.0)] {
            assert!((quantile(&v, q).unwrap() - expected).abs() < 1e-12, "{q}");
        }
        assert_eq!(quantile(&v, 1.5), None);
    }

    #[test]
    fn the_label_free_threshold_is_the_quantile_of_the_fit_rows_scores() {
        let table = Table {
            source: "mem.csv".into(),
            feature_names: vec!["a".into(), "b".into()],
            features: Array2::from_shape_fn((300, 2), |(i, j)| ((i * (j + 5)) % 31) as f64),
            labels: Some((0..300).map(|i| i % 10 == 0).collect()),
            split: None,
        };
        let data = prepare(&table, "mem", &Protocol::default(), 2).unwrap();
        let settings = TrialSettings {
            fit: FitSettings::default(),
            cost_model: CostModel::new(1.0, 5.0, 0).unwrap(),
            threshold: ThresholdSearch::CutPoints,
            measure_cv: false,
            cv_folds: 5,
            cv_max_rows: None,
            score_quantile: 0.9,
        };
        let config = GmmConfig::default();
        let (model, m) = fit_and_measure(&data, &config, &settings, 4).unwrap();
        let scores = negated(&model.score_samples(data.fit_rows.view()).unwrap());
        let threshold = m.quantile_threshold.unwrap();
        assert_eq!(Some(threshold), quantile(&scores, 0.9));
        let test_scores = anomaly_scores(&model, &data.test).unwrap();
        let expected = settings
            .cost_model
            .cost(&test_scores, &data.test.labels, threshold);
        assert_eq!(m.test_cost_at_quantile, Some(expected));
        assert!(m.test_cost_ratio_at_quantile().is_some());
    }
}
