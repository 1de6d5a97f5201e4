//! Per dataset and strategy: the configuration selected by the objective, its metrics, and what
//! the search spent. Always recomputed from the journal.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::eval::Objective;
use crate::gmm_config::GmmConfig;
use crate::journal::{RunJournal, StopReason, TrialRecord, TrialStatus, UnitKey};

/// Errors writing a summary.
#[derive(Debug, Error)]
pub enum SummaryError {
    /// A file could not be written.
    #[error("cannot write {path}: {message}")]
    Write { path: String, message: String },
}

/// The summary of one unit (dataset × strategy × seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryRow {
    /// The unit.
    pub unit: UnitKey,
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

/// Selects, for each unit in the journal, the best trial by its objective (the earliest among
/// equals).
///
/// Units are ordered by `dataset_order`, then seed, then `strategy_order` (names not listed
/// come last, in name order), so the summary of a run follows its config.
pub fn summarise(
    journal: &RunJournal,
    dataset_order: &[String],
    strategy_order: &[String],
) -> Vec<SummaryRow> {
    let rank =
        |order: &[String], name: &str| order.iter().position(|n| n == name).unwrap_or(usize::MAX);
    let mut groups: BTreeMap<(usize, String, u64, usize, String), Vec<&TrialRecord>> =
        BTreeMap::new();
    for (unit, records) in journal.trials_by_unit() {
        groups.insert(
            (
                rank(dataset_order, &unit.dataset),
                unit.dataset.clone(),
                unit.seed,
                rank(strategy_order, &unit.strategy),
                unit.strategy.clone(),
            ),
            records,
        );
    }
    groups
        .into_values()
        .map(|records| {
            let first = records[0];
            let unit = journal.unit(&first.unit);
            let objective = first.objective;
            let selected = records
                .iter()
                .filter(|r| r.status == TrialStatus::Ok)
                .filter_map(|r| objective.to_minimise(r.objective_value).map(|v| (v, *r)))
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.trial.cmp(&b.1.trial)))
                .map(|(_, r)| r.clone());
            SummaryRow {
                unit: first.unit.clone(),
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
pub const CSV_COLUMNS: [&str; 30] = [
    "dataset",
    "strategy",
    "seed",
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
        row.unit.dataset.clone(),
        row.unit.strategy.clone(),
        row.unit.seed.to_string(),
        row.objective.as_str().to_string(),
        row.trials.to_string(),
        row.failed.to_string(),
        format!("{:.6}", row.fit_seconds),
        format!("{:.6}", row.elapsed_s),
        row.stop_reason
            .map_or("unfinished", StopReason::as_str)
            .to_string(),
        format!("{:.6}", row.time_overshoot_s),
    ];
    match &row.selected {
        Some(r) => {
            let m = r.metrics.clone().unwrap_or_default();
            let ratio = m.test_cost_ratio();
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
                fmt_opt(m.threshold),
                fmt_opt(m.train_cost),
                fmt_opt(m.val_cost),
                fmt_opt(m.test_cost),
                fmt_opt(m.never_alarm_val_cost),
                fmt_opt(m.never_alarm_test_cost),
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
pub fn write_summary_files(dir: &Path, rows: &[SummaryRow]) -> Result<(), SummaryError> {
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
    use crate::journal::testing;

    fn journal(trials: Vec<TrialRecord>) -> RunJournal {
        RunJournal {
            trials,
            ..RunJournal::default()
        }
    }

    #[test]
    fn selects_the_best_objective_and_the_earliest_among_equals() {
        let mut not_measured = testing::trial("d", "s", 4, Some(0.0));
        not_measured.objective_value = None;
        let trials = vec![
            testing::trial("d", "s", 0, Some(0.7)),
            testing::trial("d", "s", 1, Some(0.9)),
            testing::trial("d", "s", 2, None),
            testing::trial("d", "s", 3, Some(0.9)),
            not_measured,
        ];
        let rows = summarise(&journal(trials), &[], &[]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].selected.as_ref().unwrap().trial, 1);
        assert_eq!(rows[0].trials, 5);
        assert_eq!(rows[0].failed, 1);
        assert_eq!(rows[0].fit_seconds, 5.0);
        assert_eq!(rows[0].stop_reason, None);
    }

    #[test]
    fn order_follows_the_config_and_csv_rows_are_complete() {
        let a = testing::trial("zeta", "s", 0, Some(0.5));
        let b = testing::trial("alpha", "s", 0, None);
        let mut later_seed = testing::trial("zeta", "s", 0, Some(0.6));
        later_seed.unit.seed = 3;
        let mut j = journal(vec![b, later_seed, a]);
        j.units.push(testing::unit("zeta", "s", 1));
        let rows = summarise(&j, &["zeta".into(), "alpha".into()], &[]);
        let keys: Vec<(&str, u64)> = rows
            .iter()
            .map(|r| (r.unit.dataset.as_str(), r.unit.seed))
            .collect();
        assert_eq!(keys, [("zeta", 0), ("zeta", 3), ("alpha", 0)]);
        assert_eq!(rows[0].stop_reason, Some(StopReason::TrialBudget));
        assert!(rows[2].selected.is_none());
        for row in &rows {
            assert_eq!(csv_row(row).len(), CSV_COLUMNS.len());
        }
        let column = |name: &str| CSV_COLUMNS.iter().position(|c| *c == name).unwrap();
        assert_eq!(csv_row(&rows[0])[column("test_cost_ratio")], "0.5");
        assert_eq!(csv_row(&rows[1])[column("seed")], "3");
        assert_eq!(csv_row(&rows[0])[column("stop_reason")], "trial_budget");
        assert_eq!(csv_row(&rows[1])[column("stop_reason")], "unfinished");
    }
}
