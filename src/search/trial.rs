//! One trial: fit a GMM configuration on a prepared dataset and measure it under the protocol.
//!
//! The anomaly score is the negative log-likelihood. Validation labels serve only the threshold
//! and the objective; test labels are only reported.

use std::time::Instant;

use ndarray::{concatenate, s, Array1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use crate::config::FitSettings;
use crate::data::{Part, Prepared};
use crate::eval::{average_precision, roc_auc, CostModel, ThresholdSearch};
use crate::gmm::{GaussianMixture, GmmError, GmmParams};

use super::{GmmConfig, Objective};

/// Everything a trial needs besides the data and the configuration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrialSettings {
    /// EM settings.
    pub fit: FitSettings,
    /// The cost model and its threshold search.
    pub cost_model: CostModel,
    /// How the threshold is searched on validation.
    pub threshold: ThresholdSearch,
    /// The objective (decides whether the cross-validated log-likelihood is computed).
    pub objective: Objective,
    /// Folds of the cross-validated log-likelihood.
    pub cv_folds: usize,
}

/// What a successful trial measured. Undefined metrics (a split with one class) are `None`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TrialMetrics {
    /// Whether EM converged within `max_iter`.
    pub converged: bool,
    /// EM iterations of the kept initialisation.
    pub n_iter: usize,
    /// ROC AUC on validation.
    pub val_auc: Option<f64>,
    /// ROC AUC on test.
    pub test_auc: Option<f64>,
    /// Average precision on validation.
    pub val_ap: Option<f64>,
    /// Average precision on test.
    pub test_ap: Option<f64>,
    /// Threshold on the score (−log-likelihood) chosen on validation; a row alarms when its
    /// score is strictly above it.
    pub threshold: f64,
    /// Cost of that threshold on the training part (all its rows).
    pub train_cost: f64,
    /// Cost on validation.
    pub val_cost: f64,
    /// Cost on test.
    pub test_cost: f64,
    /// Cost of never alarming on validation (c_missed × anomalies).
    pub never_alarm_val_cost: f64,
    /// Cost of never alarming on test.
    pub never_alarm_test_cost: f64,
    /// BIC on the rows the model was fitted on.
    pub bic: f64,
    /// Mean log-likelihood of the rows the model was fitted on.
    pub train_loglik: f64,
    /// k-fold held-out mean log-likelihood (only for the `cv_loglik` objective).
    pub cv_loglik: Option<f64>,
    /// Notes on undefined metrics and non-convergence.
    pub warnings: Vec<String>,
}

impl TrialMetrics {
    /// The natural value of `objective` for this trial.
    pub fn objective_value(&self, objective: Objective) -> Option<f64> {
        match objective {
            Objective::ValAuc => self.val_auc,
            Objective::ValCost => Some(self.val_cost),
            Objective::Bic => Some(self.bic),
            Objective::CvLoglik => self.cv_loglik,
        }
    }
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

fn gmm_params(config: &GmmConfig, fit: &FitSettings, seed: u64) -> GmmParams {
    GmmParams::new(config.n_components)
        .covariance_type(config.covariance_type)
        .reg_covar(config.reg_covar)
        .init(config.init)
        .max_iter(fit.max_iter)
        .tol(fit.tol)
        .n_init(fit.n_init)
        .seed(seed)
}

/// Fits `config` on `rows` with the trial's seed.
pub fn fit_config(
    config: &GmmConfig,
    fit: &FitSettings,
    seed: u64,
    rows: ArrayView2<f64>,
) -> Result<GaussianMixture, GmmError> {
    gmm_params(config, fit, seed).check()?.fit(rows)
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
    let fitted = fit_config(config, &settings.fit, seed, data.fit_rows.view()).and_then(|model| {
        let cv = match settings.objective {
            Objective::CvLoglik => Some(cv_loglik(
                config,
                &settings.fit,
                seed,
                data.fit_rows.view(),
                settings.cv_folds,
            )?),
            _ => None,
        };
        Ok((model, cv))
    });
    let fit_seconds = started.elapsed().as_secs_f64();
    let result = fitted
        .and_then(|(model, cv)| measure(data, &model, cv, settings))
        .map_err(|e| e.to_string());
    TrialOutcome {
        result,
        fit_seconds,
    }
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
        threshold,
        train_cost: cost_model.cost(&train_scores, &data.train.labels, threshold),
        val_cost: choice.cost,
        test_cost: cost_model.cost(&test_scores, &data.test.labels, threshold),
        never_alarm_val_cost: cost_model.never_alarm_cost(&data.validation.labels),
        never_alarm_test_cost: cost_model.never_alarm_cost(&data.test.labels),
        bic: model.bic_from_log_likelihoods(fit_ll.view()),
        train_loglik: fit_ll.sum() / fit_ll.len() as f64,
        cv_loglik,
        warnings,
    })
}
