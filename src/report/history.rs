//! Optimisation histories: the best objective value found so far, against trials and against
//! seconds, per unit, as a mean over seeds, and across datasets as a normalised regret.

use crate::eval::Objective;
use crate::journal::{TrialRecord, TrialStatus};

use super::model::ReportModel;

/// The best objective value so far of one unit, as step functions: `(trials run, best)` in
/// trial order and `(seconds since the unit started, best)` in finishing order. Values are the
/// objective's natural ones (AUC, cost, BIC …); a point appears once a trial has a value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnitHistory {
    /// Against the number of trials run.
    pub by_trial: Vec<(f64, f64)>,
    /// Against seconds.
    pub by_time: Vec<(f64, f64)>,
}

fn best_steps<'a>(
    trials: impl Iterator<Item = (&'a TrialRecord, f64)>,
    objective: Objective,
) -> Vec<(f64, f64)> {
    let mut best: Option<f64> = None;
    let mut out = Vec::new();
    for (r, x) in trials {
        let value = (r.status == TrialStatus::Ok)
            .then_some(r.objective_value)
            .flatten()
            .filter(|v| v.is_finite());
        if let Some(v) = value {
            let better = best
                .is_none_or(|b| objective.to_minimise(Some(v)) < objective.to_minimise(Some(b)));
            if better {
                best = Some(v);
            }
        }
        if let Some(b) = best {
            out.push((x, b));
        }
    }
    out
}

/// The history of a unit's trials under `objective`.
///
/// ```
/// # use gmmtune::report::history::unit_history;
/// # use gmmtune::eval::Objective;
/// # fn show(trials: &[gmmtune::journal::TrialRecord]) {
/// let h = unit_history(trials, Objective::ValAuc);
/// assert!(h.by_trial.windows(2).all(|w| w[1].1 >= w[0].1)); // never gets worse
/// # }
/// ```
pub fn unit_history(trials: &[TrialRecord], objective: Objective) -> UnitHistory {
    let mut by_index: Vec<&TrialRecord> = trials.iter().collect();
    by_index.sort_by_key(|r| r.trial);
    let by_trial = best_steps(
        by_index.iter().map(|r| (*r, (r.trial + 1) as f64)),
        objective,
    );
    let mut by_finish = by_index.clone();
    by_finish.sort_by(|a, b| {
        a.elapsed_s
            .total_cmp(&b.elapsed_s)
            .then(a.trial.cmp(&b.trial))
    });
    let by_time = best_steps(by_finish.iter().map(|r| (*r, r.elapsed_s)), objective);
    UnitHistory { by_trial, by_time }
}

/// The value of a step function (points sorted by x) at `x`: the y of the last point at or
/// before `x`; `None` before the first point.
///
/// ```
/// use gmmtune::report::history::step_at;
/// let steps = [(1.0, 0.5), (3.0, 0.8)];
/// assert_eq!(step_at(&steps, 0.5), None);
/// assert_eq!(step_at(&steps, 2.0), Some(0.5));
/// assert_eq!(step_at(&steps, 9.0), Some(0.8));
/// ```
pub fn step_at(steps: &[(f64, f64)], x: f64) -> Option<f64> {
    let i = steps.partition_point(|p| p.0 <= x);
    (i > 0).then(|| steps[i - 1].1)
}

/// `n` points spaced evenly on a log scale from `low` to `high` (both > 0).
///
/// ```
/// use gmmtune::report::history::log_grid;
/// let g = log_grid(0.01, 100.0, 5);
/// assert!((g[2] - 1.0).abs() < 1e-12 && g.len() == 5);
/// ```
pub fn log_grid(low: f64, high: f64, n: usize) -> Vec<f64> {
    if !(low > 0.0 && high > low) || n < 2 {
        return vec![low.max(f64::MIN_POSITIVE)];
    }
    let (a, b) = (low.ln(), high.ln());
    (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp())
        .collect()
}

/// The mean over step functions at each grid point, over those defined there.
///
/// ```
/// use gmmtune::report::history::mean_steps;
/// let a = vec![(1.0, 0.0), (2.0, 1.0)];
/// let b = vec![(2.0, 3.0)];
/// assert_eq!(mean_steps(&[a, b], &[1.0, 2.0]), vec![(1.0, 0.0), (2.0, 2.0)]);
/// ```
pub fn mean_steps(curves: &[Vec<(f64, f64)>], grid: &[f64]) -> Vec<(f64, f64)> {
    grid.iter()
        .filter_map(|&x| {
            let values: Vec<f64> = curves.iter().filter_map(|c| step_at(c, x)).collect();
            (!values.is_empty()).then(|| (x, values.iter().sum::<f64>() / values.len() as f64))
        })
        .collect()
}

/// The histories of one strategy: per dataset (mean over seeds) and across datasets.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StrategyHistory {
    /// Per dataset: the mean over seeds of the best value so far, against trials and seconds
    /// (empty when the strategy has no trial there).
    pub per_dataset: Vec<UnitHistory>,
    /// Across datasets: the mean normalised regret against trials and seconds.
    pub regret: UnitHistory,
    /// Dataset × seed blocks in the regret.
    pub blocks: usize,
}

/// Grid points of the time axis.
const TIME_POINTS: usize = 60;

/// The histories of every strategy of `model`.
///
/// The normalised regret of a unit after t trials (or seconds) is
/// `(best so far − best found) / (worst found − best found)` in the direction of its objective,
/// where best and worst are over every trial of every strategy with the same objective on that
/// dataset and seed: 0 once the unit has found the best configuration any strategy found, 1
/// before its first trial (or at the worst one). Blocks where every trial measures the same are
/// left out.
pub fn histories(model: &ReportModel) -> Vec<StrategyHistory> {
    let n_trials = model
        .units
        .iter()
        .map(|u| u.trials.len())
        .max()
        .unwrap_or(0);
    let trial_grid: Vec<f64> = (1..=n_trials).map(|t| t as f64).collect();
    let times: Vec<f64> = model
        .units
        .iter()
        .flat_map(|u| u.trials.iter().map(|t| t.elapsed_s))
        .filter(|t| t.is_finite() && *t > 0.0)
        .collect();
    let t_low = times.iter().copied().fold(f64::INFINITY, f64::min);
    let t_high = times.iter().copied().fold(0.0, f64::max);
    let time_grid = if t_low.is_finite() && t_high > t_low {
        log_grid(t_low, t_high, TIME_POINTS)
    } else {
        Vec::new()
    };

    let mut out = Vec::new();
    for (s, strategy) in model.strategies.iter().enumerate() {
        let Some(objective) = strategy.objective else {
            out.push(StrategyHistory::default());
            continue;
        };
        let mut per_dataset = Vec::new();
        let (mut regret_trials, mut regret_times) = (Vec::new(), Vec::new());
        for d in 0..model.datasets.len() {
            let mut trial_curves = Vec::new();
            let mut time_curves = Vec::new();
            for unit in model.units_of(d, s).filter(|u| !u.trials.is_empty()) {
                let h = unit_history(&unit.trials, objective);
                // The block's best and worst over strategies of the same objective.
                let values: Vec<f64> = model
                    .units
                    .iter()
                    .filter(|o| o.dataset == d && o.seed == unit.seed)
                    .filter(|o| model.strategies[o.strategy].objective == Some(objective))
                    .flat_map(|o| o.trials.iter())
                    .filter(|r| r.status == TrialStatus::Ok)
                    .filter_map(|r| objective.to_minimise(r.objective_value))
                    .collect();
                let best = values.iter().copied().fold(f64::INFINITY, f64::min);
                let worst = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if best.is_finite() && worst > best {
                    let regret = |steps: &[(f64, f64)]| -> Vec<(f64, f64)> {
                        let mut r: Vec<(f64, f64)> = vec![(0.0, 1.0)];
                        r.extend(steps.iter().map(|&(x, v)| {
                            let m = objective.to_minimise(Some(v)).unwrap_or(worst);
                            (x, ((m - best) / (worst - best)).clamp(0.0, 1.0))
                        }));
                        r
                    };
                    regret_trials.push(regret(&h.by_trial));
                    regret_times.push(regret(&h.by_time));
                }
                trial_curves.push(h.by_trial);
                time_curves.push(h.by_time);
            }
            let history = if trial_curves.len() == 1 {
                UnitHistory {
                    by_trial: trial_curves.remove(0),
                    by_time: time_curves.remove(0),
                }
            } else if trial_curves.is_empty() {
                UnitHistory::default()
            } else {
                UnitHistory {
                    by_trial: mean_steps(&trial_curves, &trial_grid),
                    by_time: mean_steps(&time_curves, &time_grid),
                }
            };
            per_dataset.push(history);
        }
        let blocks = regret_trials.len();
        out.push(StrategyHistory {
            per_dataset,
            regret: UnitHistory {
                by_trial: mean_steps(&regret_trials, &trial_grid),
                by_time: mean_steps(&regret_times, &time_grid),
            },
            blocks,
        });
    }
    out
}
