//! Per dataset and strategy: the configuration selected by the objective, its metrics, and what
//! the search spent. Always recomputed from the journal.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::search::journal::{StopReason, TrialRecord, TrialStatus, UnitRecord};
use crate::search::{GmmConfig, Objective};

/// Errors writing a summary.
#[derive(Debug, Error)]
pub enum SummaryError {
    /// A file could not be written.
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// The summary of one dataset × strategy unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// Dataset name.
    pub dataset: String,
    /// Strategy name.
    pub strategy: String,
    /// Objective the strategy optimised.
    pub objective: Objective,
    /// Trials run.
    pub trials: usize,
    /// Trials that failed.
    pub failed: usize,
    /// Sum of the trials' fit seconds.
    pub fit_seconds: f64,
    /// Wall seconds of the unit.
    pub elapsed_s: f64,
    /// Why the unit stopped; `None` while it is unfinished (interrupted).
    pub stop_reason: Option<StopReason>,
    /// Seconds past the time budget.
    pub time_overshoot_s: f64,
    /// The selected trial: the best objective value, the earliest trial among equals.
    pub selected: Option<TrialRecord>,
}

impl SummaryRow {
    /// The selected configuration, if any trial succeeded.
    pub fn config(&self) -> Option<&GmmConfig> {
        self.selected.as_ref().map(|r| &r.config)
    }
}

/// Selects, for each unit in the journal, the best trial by its objective.
///
/// Units are ordered by `dataset_order` then `strategy_order` (names not listed come last, in
/// name order), so the summary of a run follows its config.
pub fn summarise(
    trials: &[TrialRecord],
    units: &[UnitRecord],
    dataset_order: &[String],
    strategy_order: &[String],
) -> Vec<SummaryRow> {
    let rank =
        |order: &[String], name: &str| order.iter().position(|n| n == name).unwrap_or(usize::MAX);
    let mut groups: BTreeMap<(usize, String, usize, String), Vec<&TrialRecord>> = BTreeMap::new();
    for r in trials {
        groups
            .entry((
                rank(dataset_order, &r.dataset),
                r.dataset.clone(),
                rank(strategy_order, &r.strategy),
                r.strategy.clone(),
            ))
            .or_default()
            .push(r);
    }
    groups
        .into_values()
        .map(|records| {
            let first = records[0];
            let unit = units
                .iter()
                .rev()
                .find(|u| u.dataset == first.dataset && u.strategy == first.strategy);
            let objective = first.objective;
            let selected = records
                .iter()
                .filter(|r| r.status == TrialStatus::Ok)
                .filter_map(|r| objective.to_minimise(r.objective_value).map(|v| (v, *r)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.trial.cmp(&b.1.trial)))
                .map(|(_, r)| r.clone());
            SummaryRow {
                dataset: first.dataset.clone(),
                strategy: first.strategy.clone(),
                objective,
                trials: records.len(),
                failed: records
                    .iter()
                    .filter(|r| r.status == TrialStatus::Failed)
                    .count(),
                fit_seconds: records.iter().map(|r| r.fit_seconds).sum(),
                elapsed_s: unit.map_or_else(
                    || records.iter().map(|r| r.elapsed_s).fold(0.0, f64::max),
                    |u| u.elapsed_s,
                ),
                stop_reason: unit.map(|u| u.reason),
                time_overshoot_s: unit.map_or(0.0, |u| u.time_overshoot_s),
                selected,
            }
        })
        .collect()
}

fn fmt_opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| v.to_string())
}

/// Column names of `summary.csv`.
pub const CSV_COLUMNS: [&str; 29] = [
    "dataset",
    "strategy",
    "objective",
    "trials",
    "failed",
    "fit_seconds",
    "elapsed_s",
    "stop_reason",
    "time_overshoot_s",
    "trial",
    "n_components",
    "covariance_type",
    "reg_covar",
    "init",
    "objective_value",
    "val_auc",
    "test_auc",
    "val_ap",
    "test_ap",
    "threshold",
    "train_cost",
    "val_cost",
    "test_cost",
    "never_alarm_val_cost",
    "never_alarm_test_cost",
    "test_cost_ratio",
    "bic",
    "train_loglik",
    "cv_loglik",
];

/// One `summary.csv` row, in [`CSV_COLUMNS`] order.
pub fn csv_row(row: &SummaryRow) -> Vec<String> {
    let mut out = vec![
        row.dataset.clone(),
        row.strategy.clone(),
        row.objective.as_str().to_string(),
        row.trials.to_string(),
        row.failed.to_string(),
        format!("{:.6}", row.fit_seconds),
        format!("{:.6}", row.elapsed_s),
        row.stop_reason
            .map(|r| {
                serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default()
            })
            .unwrap_or_else(|| "unfinished".into()),
        format!("{:.6}", row.time_overshoot_s),
    ];
    match &row.selected {
        Some(r) => {
            let m = r.metrics.clone().unwrap_or_default();
            let ratio =
                (m.never_alarm_test_cost > 0.0).then(|| m.test_cost / m.never_alarm_test_cost);
            out.extend([
                r.trial.to_string(),
                r.config.n_components.to_string(),
                r.config.covariance_type.to_string(),
                format!("{:e}", r.config.reg_covar),
                r.config.init.to_string(),
                fmt_opt(r.objective_value),
                fmt_opt(m.val_auc),
                fmt_opt(m.test_auc),
                fmt_opt(m.val_ap),
                fmt_opt(m.test_ap),
                m.threshold.to_string(),
                m.train_cost.to_string(),
                m.val_cost.to_string(),
                m.test_cost.to_string(),
                m.never_alarm_val_cost.to_string(),
                m.never_alarm_test_cost.to_string(),
                fmt_opt(ratio),
                m.bic.to_string(),
                m.train_loglik.to_string(),
                fmt_opt(m.cv_loglik),
            ]);
        }
        None => out.extend(std::iter::repeat_n(
            String::new(),
            CSV_COLUMNS.len() - out.len(),
        )),
    }
    out
}

/// Writes `summary.json` and `summary.csv` into `dir`.
pub fn write_summary(dir: &Path, rows: &[SummaryRow]) -> Result<(), SummaryError> {
    let err = |path: &Path, message: String| SummaryError::Write {
        path: path.display().to_string(),
        message,
    };
    let json_path = dir.join("summary.json");
    let json = serde_json::to_vec_pretty(rows).map_err(|e| err(&json_path, e.to_string()))?;
    std::fs::write(&json_path, json).map_err(|e| err(&json_path, e.to_string()))?;

    let csv_path = dir.join("summary.csv");
    let mut writer =
        csv::Writer::from_path(&csv_path).map_err(|e| err(&csv_path, e.to_string()))?;
    writer
        .write_record(CSV_COLUMNS)
        .map_err(|e| err(&csv_path, e.to_string()))?;
    for row in rows {
        writer
            .write_record(csv_row(row))
            .map_err(|e| err(&csv_path, e.to_string()))?;
    }
    writer.flush().map_err(|e| err(&csv_path, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};
    use crate::search::trial::TrialMetrics;

    fn record(trial: usize, auc: Option<f64>, status: TrialStatus) -> TrialRecord {
        TrialRecord {
            dataset: "d".into(),
            strategy: "s".into(),
            trial,
            config: GmmConfig {
                n_components: trial + 1,
                covariance_type: CovarianceType::Full,
                reg_covar: 1e-6,
                init: InitMethod::KMeans,
            },
            seed: 0,
            status,
            error: None,
            objective: Objective::ValAuc,
            objective_value: auc,
            fit_seconds: 1.0,
            elapsed_s: trial as f64,
            metrics: (status == TrialStatus::Ok).then(|| TrialMetrics {
                val_auc: auc,
                test_cost: 5.0,
                never_alarm_test_cost: 10.0,
                ..TrialMetrics::default()
            }),
        }
    }

    #[test]
    fn selects_the_best_objective_and_the_earliest_among_equals() {
        let trials = vec![
            record(0, Some(0.7), TrialStatus::Ok),
            record(1, Some(0.9), TrialStatus::Ok),
            record(2, None, TrialStatus::Failed),
            record(3, Some(0.9), TrialStatus::Ok),
            record(4, None, TrialStatus::Ok),
        ];
        let rows = summarise(&trials, &[], &[], &[]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].selected.as_ref().unwrap().trial, 1);
        assert_eq!(rows[0].trials, 5);
        assert_eq!(rows[0].failed, 1);
        assert_eq!(rows[0].fit_seconds, 5.0);
        assert_eq!(rows[0].stop_reason, None);
    }

    #[test]
    fn order_follows_the_config_and_csv_rows_are_complete() {
        let mut a = record(0, Some(0.5), TrialStatus::Ok);
        a.dataset = "zeta".into();
        let mut b = record(0, None, TrialStatus::Failed);
        b.dataset = "alpha".into();
        let rows = summarise(&[b, a], &[], &["zeta".into(), "alpha".into()], &[]);
        assert_eq!(rows[0].dataset, "zeta");
        assert_eq!(rows[1].dataset, "alpha");
        assert!(rows[1].selected.is_none());
        for row in &rows {
            assert_eq!(csv_row(row).len(), CSV_COLUMNS.len());
        }
        let ratio_col = CSV_COLUMNS
            .iter()
            .position(|c| *c == "test_cost_ratio")
            .unwrap();
        assert_eq!(csv_row(&rows[0])[ratio_col], "0.5");
    }
}
