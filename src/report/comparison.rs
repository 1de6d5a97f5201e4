//! Strategies compared over datasets: the selected configuration's figure per dataset (mean
//! over seeds), ranks within each dataset, average ranks, wins/ties/losses, Friedman's test and
//! the Nemenyi critical difference.

use crate::journal::TrialMetrics;

use super::model::ReportModel;
use super::stats::{average_ranks, friedman, mean, nemenyi_cd, Friedman};

/// AUCs closer than this count as a tie (about the resolution of a test part of a few hundred
/// rows).
pub const AUC_TIE: f64 = 1e-4;

/// A figure of a selected configuration that strategies are compared by.
#[derive(Debug, Clone, Copy)]
pub struct Figure {
    /// Its name.
    pub name: &'static str,
    /// Whether higher is better.
    pub higher_is_better: bool,
    /// Values closer than this tie.
    pub tie: f64,
    /// Reads it from a trial's metrics.
    pub get: fn(&TrialMetrics) -> Option<f64>,
}

/// Test ROC AUC of the selected configuration.
pub const TEST_AUC: Figure = Figure {
    name: "test AUC",
    higher_is_better: true,
    tie: AUC_TIE,
    get: |m| m.test_auc,
};

/// Validation ROC AUC of the selected configuration.
pub const VAL_AUC: Figure = Figure {
    name: "validation AUC",
    higher_is_better: true,
    tie: AUC_TIE,
    get: |m| m.val_auc,
};

/// Test cost over the cost of never alarming.
pub const TEST_COST_RATIO: Figure = Figure {
    name: "test cost ratio",
    higher_is_better: false,
    tie: 1e-9,
    get: |m| m.test_cost_ratio(),
};

/// The comparison of every strategy by one figure.
#[derive(Debug, Clone)]
pub struct StrategyComparison {
    /// The figure.
    pub figure: Figure,
    /// Datasets compared (every strategy has the figure there), as model indices.
    pub datasets: Vec<usize>,
    /// Datasets left out because a strategy has no value there.
    pub left_out: Vec<usize>,
    /// `values[i][s]`: mean over seeds of strategy `s` on `datasets[i]`.
    pub values: Vec<Vec<f64>>,
    /// Ranks within each dataset (1 = best, ties share).
    pub ranks: Vec<Vec<f64>>,
    /// Mean rank of each strategy.
    pub average_rank: Vec<f64>,
    /// Datasets where each strategy is best (ties count for each).
    pub best: Vec<usize>,
    /// `pairwise[a][b]` = (wins, ties, losses) of `a` against `b`.
    pub pairwise: Vec<Vec<(usize, usize, usize)>>,
    /// Friedman's test, with at least 2 strategies and 2 datasets.
    pub friedman: Option<Friedman>,
    /// Nemenyi critical difference (α = 0.05).
    pub critical_difference: Option<f64>,
}

/// Compares the strategies of `model` by `figure`.
pub fn compare(model: &ReportModel, figure: Figure) -> StrategyComparison {
    let k = model.strategies.len();
    let mut datasets = Vec::new();
    let mut left_out = Vec::new();
    let mut values = Vec::new();
    for d in 0..model.datasets.len() {
        let row: Vec<Option<f64>> = (0..k)
            .map(|s| {
                let v: Vec<f64> = model
                    .units_of(d, s)
                    .filter_map(|u| u.selected()?.metrics.as_ref().and_then(figure.get))
                    .collect();
                mean(&v)
            })
            .collect();
        if row.iter().all(Option::is_some) && k > 0 {
            datasets.push(d);
            values.push(row.into_iter().flatten().collect::<Vec<f64>>());
        } else if row.iter().any(Option::is_some) || model.datasets[d].labelled {
            left_out.push(d);
        }
    }
    let ranks: Vec<Vec<f64>> = values
        .iter()
        .map(|row| average_ranks(row, figure.higher_is_better, figure.tie))
        .collect();
    let n = ranks.len();
    let average_rank = (0..k)
        .map(|s| {
            if n == 0 {
                f64::NAN
            } else {
                ranks.iter().map(|r| r[s]).sum::<f64>() / n as f64
            }
        })
        .collect();
    let best = (0..k)
        .map(|s| {
            ranks
                .iter()
                .filter(|r| r[s] <= r.iter().copied().fold(f64::INFINITY, f64::min))
                .count()
        })
        .collect();
    let mut pairwise = vec![vec![(0, 0, 0); k]; k];
    for row in &values {
        for a in 0..k {
            for b in 0..k {
                let diff = row[a] - row[b];
                let diff = if figure.higher_is_better { diff } else { -diff };
                let cell = &mut pairwise[a][b];
                if diff.abs() <= figure.tie {
                    cell.1 += 1;
                } else if diff > 0.0 {
                    cell.0 += 1;
                } else {
                    cell.2 += 1;
                }
            }
        }
    }
    StrategyComparison {
        figure,
        friedman: friedman(&ranks),
        critical_difference: if k >= 2 { nemenyi_cd(k, n) } else { None },
        datasets,
        left_out,
        values,
        ranks,
        average_rank,
        best,
        pairwise,
    }
}

/// The fewest datasets for which the critical-difference chart is drawn: Friedman's χ²
/// approximation and the Nemenyi test need about ten (Demšar 2006).
pub const MIN_DATASETS_FOR_CD: usize = 10;
