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
pub const CSV_COLUMNS: [&str; 34] = [
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
    "quantile_threshold",
    "val_cost_at_quantile",
    "test_cost_at_quantile",
    "test_cost_ratio_at_quantile",
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
                fmt_opt(m.quantile_threshold),
                fmt_opt(m.val_cost_at_quantile),
                fmt_opt(m.test_cost_at_quantile),
                fmt_opt(m.test_cost_ratio_at_quantile()),
            ]);
        }
        None => out.extend(std::iter::repeat_n(
            String::new(),
            CSV_COLUMNS.len() - out.len(),
        )),
    }
    out
}

/// One dataset × strategy over the seeds of a run: the mean and the spread (sample standard
/// deviation, 0 for one seed) of the selected trials' figures. A figure undefined for some
/// seed is averaged over the seeds that define it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeedSummaryRow {
    /// The dataset.
    pub dataset: String,
    /// The strategy.
    pub strategy: String,
    /// Seeds with a selected trial.
    pub seeds: usize,
    /// Mean trials per seed.
    pub trials: f64,
    /// Mean fit seconds per seed.
    pub fit_seconds: f64,
    /// Validation AUC: mean and spread over seeds.
    pub val_auc: Spread,
    /// Test AUC.
    pub test_auc: Spread,
    /// Test average precision.
    pub test_ap: Spread,
    /// Test cost over never-alarm cost, threshold chosen on validation.
    pub test_cost_ratio: Spread,
    /// Test cost over never-alarm cost at the label-free threshold.
    pub test_cost_ratio_at_quantile: Spread,
}

/// A mean and a spread over seeds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Spread {
    /// Mean (`None` when no seed defines the figure).
    pub mean: Option<f64>,
    /// Sample standard deviation (0 with one value).
    pub sd: Option<f64>,
}

impl Spread {
    /// The mean and spread of the defined values.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Spread {
        let v: Vec<f64> = values.into_iter().flatten().collect();
        if v.is_empty() {
            return Spread::default();
        }
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        let sd = if v.len() < 2 {
            0.0
        } else {
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        };
        Spread {
            mean: Some(mean),
            sd: Some(sd),
        }
    }
}

/// Aggregates the summary rows of a run over its seeds, one row per dataset × strategy, in the
/// order the rows meet them.
pub fn summarise_seeds(rows: &[SummaryRow]) -> Vec<SeedSummaryRow> {
    let mut keys: Vec<(String, String)> = Vec::new();
    for r in rows {
        let key = (r.unit.dataset.clone(), r.unit.strategy.clone());
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys.into_iter()
        .map(|(dataset, strategy)| {
            let group: Vec<&SummaryRow> = rows
                .iter()
                .filter(|r| r.unit.dataset == dataset && r.unit.strategy == strategy)
                .collect();
            let metrics: Vec<_> = group
                .iter()
                .filter_map(|r| r.selected.as_ref().and_then(|s| s.metrics.clone()))
                .collect();
            let n = group.len() as f64;
            SeedSummaryRow {
                seeds: metrics.len(),
                trials: group.iter().map(|r| r.trials as f64).sum::<f64>() / n,
                fit_seconds: group.iter().map(|r| r.fit_seconds).sum::<f64>() / n,
                val_auc: Spread::of(metrics.iter().map(|m| m.val_auc)),
                test_auc: Spread::of(metrics.iter().map(|m| m.test_auc)),
                test_ap: Spread::of(metrics.iter().map(|m| m.test_ap)),
                test_cost_ratio: Spread::of(metrics.iter().map(|m| m.test_cost_ratio())),
                test_cost_ratio_at_quantile: Spread::of(
                    metrics.iter().map(|m| m.test_cost_ratio_at_quantile()),
                ),
                dataset,
                strategy,
            }
        })
        .collect()
}

/// Column names of `summary_seeds.csv`.
pub const SEED_CSV_COLUMNS: [&str; 15] = [
    "dataset",
    "strategy",
    "seeds",
    "trials",
    "fit_seconds",
    "val_auc_mean",
    "val_auc_sd",
    "test_auc_mean",
    "test_auc_sd",
    "test_ap_mean",
    "test_ap_sd",
    "test_cost_ratio_mean",
    "test_cost_ratio_sd",
    "test_cost_ratio_at_quantile_mean",
    "test_cost_ratio_at_quantile_sd",
];

/// One `summary_seeds.csv` row, in [`SEED_CSV_COLUMNS`] order.
pub fn seed_csv_row(row: &SeedSummaryRow) -> Vec<String> {
    let mut out = vec![
        row.dataset.clone(),
        row.strategy.clone(),
        row.seeds.to_string(),
        row.trials.to_string(),
        format!("{:.6}", row.fit_seconds),
    ];
    for s in [
        row.val_auc,
        row.test_auc,
        row.test_ap,
        row.test_cost_ratio,
        row.test_cost_ratio_at_quantile,
    ] {
        out.push(fmt_opt(s.mean));
        out.push(fmt_opt(s.sd));
    }
    out
}

/// Writes `summary.json`, `summary.csv` and `summary_seeds.csv` (the mean and spread over
/// seeds per dataset and strategy) into `dir`.
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
    writer.flush().map_err(|e| err(&csv_path, e.to_string()))?;

    let seeds_path = dir.join("summary_seeds.csv");
    let mut writer =
        csv::Writer::from_path(&seeds_path).map_err(|e| err(&seeds_path, e.to_string()))?;
    writer
        .write_record(SEED_CSV_COLUMNS)
        .map_err(|e| err(&seeds_path, e.to_string()))?;
    for row in summarise_seeds(rows) {
        writer
            .write_record(seed_csv_row(&row))
            .map_err(|e| err(&seeds_path, e.to_string()))?;
    }
    writer.flush().map_err(|e| err(&seeds_path, e.to_string()))
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

    #[test]
    fn seeds_are_aggregated_per_dataset_and_strategy() {
        let mut trials = Vec::new();
        for (seed, auc) in [(0, 0.6), (1, 0.8), (2, 0.7)] {
            let mut t = testing::trial("d", "s", 0, Some(auc));
            t.unit.seed = seed;
            t.metrics.as_mut().unwrap().test_auc = Some(auc);
            trials.push(t);
        }
        let mut failed = testing::trial("d", "s", 0, None);
        failed.unit.seed = 3;
        trials.push(failed);
        trials.push(testing::trial("e", "s", 0, Some(0.9)));
        let rows = summarise(&journal(trials), &[], &[]);
        let seeds = summarise_seeds(&rows);
        assert_eq!(seeds.len(), 2);
        let d = &seeds[0];
        assert_eq!((d.dataset.as_str(), d.seeds), ("d", 3));
        assert!((d.test_auc.mean.unwrap() - 0.7).abs() < 1e-12);
        assert!((d.test_auc.sd.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(d.test_ap, Spread::default());
        assert_eq!(seeds[1].test_cost_ratio.sd, Some(0.0));
        assert_eq!(seed_csv_row(d).len(), SEED_CSV_COLUMNS.len());
        let dir = tempfile::tempdir().unwrap();
        write_summary_files(dir.path(), &rows).unwrap();
        let text = std::fs::read_to_string(dir.path().join("summary_seeds.csv")).unwrap();
        assert_eq!(text.lines().count(), 3, "{text}");
    }
}
