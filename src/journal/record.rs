//! The records of a journal: one [`TrialRecord`] per finished trial, one [`UnitRecord`] per
//! finished unit. Each carries its [`UnitKey`] and the [`RecordContext`] it was measured under
//! (run fingerprint, gmmtune version, a content hash of the data, the protocol and its split
//! seed), so records read from other runs, shards or machines can be compared, merged or
//! refused without any other file.

use serde::{Deserialize, Serialize};

use crate::data::{SplitMethod, TrainOn};
use crate::eval::{CostModel, Objective, ThresholdSearch};
use crate::gmm_config::{FitSettings, GmmConfig};

/// The journal format this build writes and reads. Records of another format are refused
/// with a message that names both.
pub const JOURNAL_FORMAT: u32 = 2;

/// The version of gmmtune that writes the records.
pub const GMMTUNE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One unit of a run: a strategy searching one dataset under one seed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitKey {
    /// Dataset name.
    pub dataset: String,
    /// Strategy name (unique within the run).
    pub strategy: String,
    /// The repetition seed; the split, strategy and fit seeds derive from it.
    pub seed: u64,
}

impl std::fmt::Display for UnitKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} / {} / seed {}",
            self.dataset, self.strategy, self.seed
        )
    }
}

/// The data a record was measured on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataStamp {
    /// SHA-256 of the data file's bytes, as stored (compressed or not), in hex.
    pub sha256: String,
    /// Data rows read.
    pub rows: usize,
    /// Feature columns read.
    pub features: usize,
    /// Whether the table has anomaly labels.
    pub labelled: bool,
}

/// Everything besides the data, the configuration and the fit seed that decides a trial's
/// figures: the split and its seed, the training rows, the cost model and threshold search, the
/// EM settings and the folds of the cross-validated log-likelihood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolStamp {
    /// How rows were assigned to train, validation and test.
    pub split: SplitMethod,
    /// Seed of the split (used by stratified splits).
    pub split_seed: u64,
    /// Which train rows the model was fitted on.
    pub train_on: TrainOn,
    /// The cost model of the threshold and the costs.
    pub cost_model: CostModel,
    /// How the threshold was searched on validation.
    pub threshold: ThresholdSearch,
    /// EM settings of every fit.
    pub fit: FitSettings,
    /// Folds of the cross-validated log-likelihood.
    pub cv_folds: usize,
    /// Most fit rows the cross-validated log-likelihood uses (the first ones, a random sample
    /// under a stratified split); `None` = all of them.
    #[serde(default)]
    pub cv_max_rows: Option<usize>,
    /// The label-free threshold: this quantile of the fit rows' anomaly scores.
    #[serde(default = "default_score_quantile")]
    pub score_quantile: f64,
}

/// Default quantile of the fit rows' anomaly scores that sets the label-free threshold: one
/// normal training row in a hundred scores above it.
pub const DEFAULT_SCORE_QUANTILE: f64 = 0.99;

fn default_score_quantile() -> f64 {
    DEFAULT_SCORE_QUANTILE
}

impl ProtocolStamp {
    /// Whether `other` is the same protocol, the split seed aside (records of two seeds of one
    /// protocol are comparable once grouped by seed).
    pub fn same_protocol_as(&self, other: &ProtocolStamp) -> bool {
        let mut other = other.clone();
        other.split_seed = self.split_seed;
        *self == other
    }
}

/// What a record was measured under.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordContext {
    /// Fingerprint of the run that wrote the record.
    pub run: String,
    /// gmmtune version that wrote it.
    pub version: String,
    /// The data.
    pub data: DataStamp,
    /// The protocol.
    pub protocol: ProtocolStamp,
}

/// Whether a trial produced metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrialStatus {
    /// The fit and the measurements succeeded.
    Ok,
    /// The fit failed (for example an ill-defined covariance); `error` says why.
    Failed,
}

/// What a successful trial measured. A figure that is undefined (a part with one class) or not
/// available (no labels, not asked for) is `None`; `warnings` says which and why.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialMetrics {
    /// Whether EM converged within `max_iter`.
    pub converged: bool,
    /// EM iterations of the kept initialisation.
    pub n_iter: usize,
    /// ROC AUC on validation.
    #[serde(with = "super::float::option")]
    pub val_auc: Option<f64>,
    /// ROC AUC on test.
    #[serde(with = "super::float::option")]
    pub test_auc: Option<f64>,
    /// Average precision on validation.
    #[serde(with = "super::float::option")]
    pub val_ap: Option<f64>,
    /// Average precision on test.
    #[serde(with = "super::float::option")]
    pub test_ap: Option<f64>,
    /// Threshold on the score (−log-likelihood) chosen on validation by the cost model; a row
    /// alarms when its score is strictly above it.
    #[serde(with = "super::float::option")]
    pub threshold: Option<f64>,
    /// Cost of that threshold on the training part (all its rows).
    #[serde(with = "super::float::option")]
    pub train_cost: Option<f64>,
    /// Cost on validation.
    #[serde(with = "super::float::option")]
    pub val_cost: Option<f64>,
    /// Cost on test.
    #[serde(with = "super::float::option")]
    pub test_cost: Option<f64>,
    /// Cost of never alarming on validation (c_missed × anomalies).
    #[serde(with = "super::float::option")]
    pub never_alarm_val_cost: Option<f64>,
    /// Cost of never alarming on test.
    #[serde(with = "super::float::option")]
    pub never_alarm_test_cost: Option<f64>,
    /// The label-free threshold: the protocol's `score_quantile` of the fit rows' anomaly
    /// scores (needs no labels; a row alarms when its score is strictly above it).
    #[serde(default, with = "super::float::option")]
    pub quantile_threshold: Option<f64>,
    /// Cost on validation at the label-free threshold.
    #[serde(default, with = "super::float::option")]
    pub val_cost_at_quantile: Option<f64>,
    /// Cost on test at the label-free threshold.
    #[serde(default, with = "super::float::option")]
    pub test_cost_at_quantile: Option<f64>,
    /// BIC on the rows the model was fitted on.
    #[serde(with = "super::float")]
    pub bic: f64,
    /// Mean log-likelihood of the rows the model was fitted on.
    #[serde(with = "super::float")]
    pub train_loglik: f64,
    /// k-fold held-out mean log-likelihood of the fit rows (when the run measures it).
    #[serde(with = "super::float::option")]
    pub cv_loglik: Option<f64>,
    /// Notes on undefined metrics and non-convergence.
    pub warnings: Vec<String>,
}

impl TrialMetrics {
    /// The natural value of `objective` for this trial.
    pub fn objective_value(&self, objective: Objective) -> Option<f64> {
        match objective {
            Objective::ValAuc => self.val_auc,
            Objective::ValCost => self.val_cost,
            Objective::Bic => Some(self.bic),
            Objective::CvLoglik => self.cv_loglik,
        }
    }

    /// Test cost over the cost of never alarming on test (below 1: better than no detector).
    pub fn test_cost_ratio(&self) -> Option<f64> {
        ratio(self.test_cost, self.never_alarm_test_cost)
    }

    /// Validation cost over the cost of never alarming on validation.
    pub fn val_cost_ratio(&self) -> Option<f64> {
        ratio(self.val_cost, self.never_alarm_val_cost)
    }

    /// Test cost at the label-free threshold over the cost of never alarming on test.
    pub fn test_cost_ratio_at_quantile(&self) -> Option<f64> {
        ratio(self.test_cost_at_quantile, self.never_alarm_test_cost)
    }

    /// Validation cost at the label-free threshold over the cost of never alarming on
    /// validation.
    pub fn val_cost_ratio_at_quantile(&self) -> Option<f64> {
        ratio(self.val_cost_at_quantile, self.never_alarm_val_cost)
    }
}

fn ratio(cost: Option<f64>, never: Option<f64>) -> Option<f64> {
    match (cost, never) {
        (Some(cost), Some(never)) if never > 0.0 => Some(cost / never),
        _ => None,
    }
}

/// One finished trial, immutable once written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrialRecord {
    /// Journal format ([`JOURNAL_FORMAT`]).
    pub format: u32,
    /// The unit the trial belongs to.
    pub unit: UnitKey,
    /// Index of the trial within its unit, from 0.
    pub trial: usize,
    /// The configuration evaluated.
    pub config: GmmConfig,
    /// Seed of the fit (derived from the unit's seed, the dataset and the configuration, so a
    /// configuration gets the same fit whichever strategy proposes it).
    pub fit_seed: u64,
    /// Outcome.
    pub status: TrialStatus,
    /// Error message of a failed trial.
    pub error: Option<String>,
    /// The objective this trial was judged by.
    pub objective: Objective,
    /// Its natural value (`None` when undefined or failed).
    #[serde(with = "super::float::option")]
    pub objective_value: Option<f64>,
    /// Seconds spent fitting (of the original fit when `reused`).
    pub fit_seconds: f64,
    /// Seconds since the unit started when the trial finished.
    pub elapsed_s: f64,
    /// `true` when the result was not fitted again but taken from an identical trial measured
    /// earlier (same data, protocol, seed and configuration) by another strategy of the run or
    /// an earlier generation of its journal. Like the seconds, a fact of the execution: a
    /// configuration proposed twice may be fitted twice at once; the results are equal either
    /// way.
    pub reused: bool,
    /// Metrics of a successful trial.
    pub metrics: Option<TrialMetrics>,
    /// What it was measured under.
    pub context: RecordContext,
}

impl TrialRecord {
    /// The key of the trial: its unit and index.
    pub fn key(&self) -> (&UnitKey, usize) {
        (&self.unit, self.trial)
    }
}

/// Why a unit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The trial budget was used.
    TrialBudget,
    /// The time budget was used (checked before each trial).
    TimeBudget,
    /// The strategy had nothing more to propose.
    Exhausted,
}

impl StopReason {
    /// The name used in files.
    pub fn as_str(self) -> &'static str {
        match self {
            StopReason::TrialBudget => "trial_budget",
            StopReason::TimeBudget => "time_budget",
            StopReason::Exhausted => "exhausted",
        }
    }
}

/// One finished unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitRecord {
    /// Journal format ([`JOURNAL_FORMAT`]).
    pub format: u32,
    /// The unit.
    pub unit: UnitKey,
    /// Why it stopped.
    pub reason: StopReason,
    /// Trials it ran.
    pub trials: usize,
    /// Wall seconds it took.
    pub elapsed_s: f64,
    /// Seconds past the time budget (0 without one).
    pub time_overshoot_s: f64,
    /// What its trials were measured under.
    pub context: RecordContext,
}

/// A record kind of a journal file.
pub trait JournalRecord: Serialize + serde::de::DeserializeOwned {
    /// Its journal format.
    fn format(&self) -> u32;
    /// Its run fingerprint.
    fn run(&self) -> &str;
    /// Its unit.
    fn unit(&self) -> &UnitKey;
}

/// Both record kinds carry their format, unit and context under the same names.
macro_rules! journal_record {
    ($($record:ty),*) => {$(
        impl JournalRecord for $record {
            fn format(&self) -> u32 {
                self.format
            }
            fn run(&self) -> &str {
                &self.context.run
            }
            fn unit(&self) -> &UnitKey {
                &self.unit
            }
        }
    )*};
}

journal_record!(TrialRecord, UnitRecord);

/// Records for the unit tests of the modules that read journals.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};

    /// A context with fixed data and protocol stamps.
    pub(crate) fn context(run: &str) -> RecordContext {
        RecordContext {
            run: run.into(),
            version: GMMTUNE_VERSION.into(),
            data: DataStamp {
                sha256: "ab".repeat(32),
                rows: 100,
                features: 3,
                labelled: true,
            },
            protocol: ProtocolStamp {
                split: SplitMethod::default(),
                split_seed: 7,
                train_on: TrainOn::Normal,
                cost_model: CostModel::new(1.0, 5.0, 0).unwrap(),
                threshold: ThresholdSearch::CutPoints,
                fit: FitSettings::default(),
                cv_folds: 5,
                cv_max_rows: None,
                score_quantile: DEFAULT_SCORE_QUANTILE,
            },
        }
    }

    /// Trial `trial` of unit `dataset / strategy / seed 0`, successful with validation AUC
    /// `auc` (failed when `None`).
    pub(crate) fn trial(
        dataset: &str,
        strategy: &str,
        trial: usize,
        auc: Option<f64>,
    ) -> TrialRecord {
        TrialRecord {
            format: JOURNAL_FORMAT,
            unit: UnitKey {
                dataset: dataset.into(),
                strategy: strategy.into(),
                seed: 0,
            },
            trial,
            config: GmmConfig {
                n_components: trial + 1,
                covariance_type: CovarianceType::Full,
                reg_covar: 1e-6,
                init: InitMethod::KMeans,
            },
            fit_seed: 11,
            status: if auc.is_some() {
                TrialStatus::Ok
            } else {
                TrialStatus::Failed
            },
            error: auc.is_none().then(|| "ill-defined covariance".to_string()),
            objective: Objective::ValAuc,
            objective_value: auc,
            fit_seconds: 1.0,
            elapsed_s: trial as f64,
            reused: false,
            metrics: auc.map(|a| TrialMetrics {
                val_auc: Some(a),
                test_cost: Some(5.0),
                never_alarm_test_cost: Some(10.0),
                bic: 12.5,
                ..TrialMetrics::default()
            }),
            context: context("f00d"),
        }
    }

    /// The end of unit `dataset / strategy / seed 0`.
    pub(crate) fn unit(dataset: &str, strategy: &str, trials: usize) -> UnitRecord {
        UnitRecord {
            format: JOURNAL_FORMAT,
            unit: UnitKey {
                dataset: dataset.into(),
                strategy: strategy.into(),
                seed: 0,
            },
            reason: StopReason::TrialBudget,
            trials,
            elapsed_s: 2.0,
            time_overshoot_s: 0.0,
            context: context("f00d"),
        }
    }
}
