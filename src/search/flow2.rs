//! FLOW2, the randomised local search with adaptive step size at the core of CFO, after FLAML's
//! `flaml/tune/searcher/flow2.py` (class `FLOW2`).
//!
//! The search moves in the normalised space (each searched dimension mapped to `[0, 1]`, see
//! [`Axis`]). From the incumbent it proposes `incumbent + step * d` for a random unit direction
//! `d`, then `incumbent - step * d`; an improvement moves the incumbent. After `dir = 2^min(9,
//! dim)` proposals from one incumbent the step shrinks by `sqrt(oldK / K)`, and an improvement
//! undoes one shrink (when the improvement arrives through `on_trial_complete`; a result
//! reported through `on_trial_result` moves the incumbent and keeps the step). The search has
//! converged once the step falls below the resolution of the
//! space (`step_lower_bound`) with `dir - 2` results in for the incumbent.
//!
//! Parts of FLAML's FLOW2 that this space never needs are left out: resource (sample size)
//! increase, unordered categoricals (every categorical here is ordered by cost), the truncated
//! directions of `FLOW2Cat`, lexicographic objectives and hierarchical spaces.

use std::collections::HashMap;

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

use super::space::{Axis, GmmConfig};

/// FLAML's `FLOW2.STEPSIZE`.
pub(crate) const STEPSIZE: f64 = 0.1;
/// FLAML's `FLOW2.STEP_LOWER_BOUND`, used when no dimension is integer.
pub(crate) const STEP_LOWER_BOUND: f64 = 1e-4;

/// Identifier of a proposal, unique within a CFO search.
pub(crate) type TrialId = u64;

/// One FLOW2 local search thread.
#[derive(Debug, Clone)]
pub(crate) struct Flow2 {
    axes: Vec<Axis>,
    rng: Xoshiro256PlusPlus,
    seed: u64,
    /// Part of `step_lower_bound` that does not depend on the incumbent (`_step_lb`).
    fixed_step_lb: f64,
    pub(crate) best_config: GmmConfig,
    pub(crate) best_obj: Option<f64>,
    pub(crate) cost_incumbent: Option<f64>,
    /// Normalised incumbent.
    incumbent: Vec<f64>,
    dim: usize,
    pub(crate) step: f64,
    step_ub: f64,
    pub(crate) dir: usize,
    direction_tried: Option<Vec<f64>>,
    pub(crate) num_complete4incumbent: usize,
    pub(crate) cost_complete4incumbent: f64,
    pub(crate) num_allowed4incumbent: i64,
    num_proposedby_incumbent: usize,
    proposed_by: HashMap<TrialId, Vec<f64>>,
    configs: HashMap<TrialId, (GmmConfig, f64)>,
    /// The normalised point of the latest proposal and its id (for [`Flow2::shorten`]).
    last_point: Option<(TrialId, Vec<f64>)>,
    k: usize,
    old_k: usize,
    iter_best_config: usize,
    trial_count_proposed: usize,
    trial_count_complete: usize,
    same: bool,
    init_phase: bool,
    /// Directions to use instead of random ones (tests replaying a FLAML trace).
    #[cfg(test)]
    pub(crate) scripted: Option<ScriptedDirections>,
}

/// A shared queue of directions, consumed by every thread of a search in turn.
#[cfg(test)]
pub(crate) type ScriptedDirections =
    std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Vec<f64>>>>;

impl Flow2 {
    /// A thread started at `start` (a complete configuration already evaluated with
    /// objective `obj` at cost `cost`), as FLAML's `FLOW2.create`. `axes` must be non-empty.
    pub(crate) fn new(axes: Vec<Axis>, start: GmmConfig, obj: f64, cost: f64, seed: u64) -> Self {
        let dim = axes.len();
        let fixed_step_lb = axes
            .iter()
            .filter_map(Axis::fixed_step_bound)
            .fold(f64::INFINITY, f64::min);
        let incumbent = axes.iter().map(|a| a.normalize(&start)).collect();
        let step_ub = (dim as f64).sqrt();
        let mut flow2 = Flow2 {
            axes,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            seed,
            fixed_step_lb,
            best_config: start,
            best_obj: Some(obj),
            cost_incumbent: Some(cost),
            incumbent,
            dim,
            step: STEPSIZE * step_ub,
            step_ub,
            dir: 1 << dim.min(9),
            direction_tried: None,
            num_complete4incumbent: 0,
            cost_complete4incumbent: 0.0,
            num_allowed4incumbent: 2 * dim as i64,
            num_proposedby_incumbent: 0,
            proposed_by: HashMap::new(),
            configs: HashMap::new(),
            last_point: None,
            k: 0,
            old_k: 0,
            iter_best_config: 1,
            trial_count_proposed: 1,
            trial_count_complete: 1,
            same: false,
            init_phase: true,
            #[cfg(test)]
            scripted: None,
        };
        let lb = flow2.step_lower_bound();
        if lb > flow2.step {
            flow2.step = lb * 2.0;
        }
        flow2.step = flow2.step.min(flow2.step_ub);
        flow2
    }

    /// The seed this thread's direction stream was created with.
    pub(crate) fn seed(&self) -> u64 {
        self.seed
    }

    /// Smallest step that still changes an integer dimension at the incumbent, times
    /// `sqrt(dim)`; `1e-4` when no dimension is integer.
    pub(crate) fn step_lower_bound(&self) -> f64 {
        let lb = self
            .axes
            .iter()
            .filter_map(|a| a.incumbent_step_bound(&self.best_config))
            .fold(self.fixed_step_lb, f64::min);
        if lb.is_infinite() {
            STEP_LOWER_BOUND
        } else {
            lb * self.step_ub
        }
    }

    /// Whether the local search has converged (FLAML's `converged`).
    pub(crate) fn converged(&self) -> bool {
        self.num_complete4incumbent + 2 >= self.dir && self.step < self.step_lower_bound()
    }

    /// The normalised coordinates of `config`.
    pub(crate) fn normalize(&self, config: &GmmConfig) -> Vec<f64> {
        self.axes.iter().map(|a| a.normalize(config)).collect()
    }

    fn denormalize(&self, point: &[f64]) -> GmmConfig {
        let mut config = self.best_config.clone();
        for (axis, &u) in self.axes.iter().zip(point) {
            axis.denormalize(u, &mut config);
        }
        config
    }

    /// A random unit vector (normalised standard Gaussian).
    fn rand_vector_unit_sphere(&mut self) -> Vec<f64> {
        #[cfg(test)]
        if let Some(queue) = &self.scripted
            && let Some(v) = queue.lock().expect("queue lock").pop_front()
        {
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            return v.into_iter().map(|x| x / norm).collect();
        }
        let v: Vec<f64> = (0..self.dim)
            .map(|_| self.rng.sample::<f64, _>(StandardNormal))
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.into_iter().map(|x| x / norm).collect()
    }

    /// Next proposal, or `None` when the step has fallen below its lower bound after `dir`
    /// proposals from the same incumbent (FLAML's `suggest`).
    pub(crate) fn suggest(&mut self, trial: TrialId) -> Option<GmmConfig> {
        self.trial_count_proposed += 1;
        self.num_allowed4incumbent -= 1;
        let mut point = self.incumbent.clone();
        if let Some(d) = self.direction_tried.take() {
            for (x, dx) in point.iter_mut().zip(&d) {
                *x -= dx;
            }
        } else {
            let d: Vec<f64> = self
                .rand_vector_unit_sphere()
                .into_iter()
                .map(|x| x * self.step)
                .collect();
            for (x, dx) in point.iter_mut().zip(&d) {
                *x += dx;
            }
            self.direction_tried = Some(d);
        }
        // Project onto the box.
        for x in point.iter_mut() {
            *x = x.clamp(0.0, 1.0);
        }
        let config = self.denormalize(&point);
        self.last_point = Some((trial, point.clone()));
        self.proposed_by.insert(trial, self.incumbent.clone());
        self.configs.insert(trial, (config.clone(), self.step));
        self.num_proposedby_incumbent += 1;
        if self.init_phase {
            if self.direction_tried.is_none() {
                // The opposite-direction proposal: if both directions rounded back onto the
                // incumbent, the step is too small to move; grow it.
                if self.same && config == self.best_config {
                    self.step = (self.step + STEPSIZE).min(self.step_ub);
                }
            } else {
                self.same = config == self.best_config;
            }
        }
        if self.num_proposedby_incumbent == self.dir {
            self.num_proposedby_incumbent -= 2;
            self.init_phase = false;
            if self.step < self.step_lower_bound() {
                return None;
            }
            self.old_k = if self.k > 0 {
                self.k
            } else {
                self.iter_best_config
            };
            self.k = self.trial_count_proposed + 1;
            self.step *= (self.old_k as f64 / self.k as f64).sqrt();
        }
        if self.init_phase {
            return Some(config);
        }
        if config == self.best_config {
            // The move rounded onto the incumbent: drift the normalised incumbent to escape
            // the plateau.
            self.incumbent = point;
        }
        Some(config)
    }

    /// Moves the latest proposal, `trial`, only `fraction` of the way from the incumbent it was
    /// proposed from (same direction), and records the result as that proposal; `None` when
    /// `trial` is not the latest proposal. Not part of FLAML: the cost gate's shorter moves.
    pub(crate) fn shorten(&mut self, trial: TrialId, fraction: f64) -> Option<GmmConfig> {
        let (last, point) = self.last_point.as_ref()?;
        if *last != trial {
            return None;
        }
        let from = self.proposed_by.get(&trial)?;
        let shortened: Vec<f64> = from
            .iter()
            .zip(point)
            .map(|(a, b)| (a + fraction * (b - a)).clamp(0.0, 1.0))
            .collect();
        let config = self.denormalize(&shortened);
        if let Some(entry) = self.configs.get_mut(&trial) {
            entry.0 = config.clone();
        }
        Some(config)
    }

    /// `config` (of cost `cost`) becomes the incumbent: the counts of moves around the old
    /// one start again (FLAML's `FLOW2` does this on a better result and on a better
    /// completed trial alike).
    fn adopt_incumbent(&mut self, config: GmmConfig, cost: f64) {
        self.best_config = config;
        self.incumbent = self.normalize(&self.best_config);
        self.cost_incumbent = Some(cost);
        self.cost_complete4incumbent = 0.0;
        self.num_complete4incumbent = 0;
        self.num_proposedby_incumbent = 0;
        self.num_allowed4incumbent = 2 * self.dim as i64;
        self.proposed_by.clear();
        self.iter_best_config = self.trial_count_complete;
    }

    /// A result of proposal `trial` as it is reported (FLAML's `on_trial_result`, the "early
    /// update of incumbent"): an improvement moves the incumbent and resets its counters, but
    /// keeps the current step. In FLAML's `tune.run` every reported result passes here before
    /// `on_trial_complete`, so this is the path real improvements take.
    pub(crate) fn on_trial_result(&mut self, trial: TrialId, obj: f64, cost: f64) {
        if self.best_obj.is_none_or(|best| obj < best) {
            self.best_obj = Some(obj);
            if let Some((config, _)) = self.configs.get(&trial)
                && *config != self.best_config
            {
                self.adopt_incumbent(config.clone(), cost);
            }
        }
    }

    /// Result of proposal `trial` (FLAML's `on_trial_complete`); `objective` is `None` for a
    /// failed trial, which counts as a non-improving result for its incumbent.
    pub(crate) fn on_trial_complete(&mut self, trial: TrialId, objective: Option<f64>, cost: f64) {
        self.trial_count_complete += 1;
        if let Some(obj) = objective
            && self.best_obj.is_none_or(|best| obj < best)
            && let Some((config, step)) = self.configs.get(&trial)
        {
            self.best_obj = Some(obj);
            self.step = *step;
            self.adopt_incumbent(config.clone(), cost);
            if self.k > 0 {
                self.step *= (self.k as f64 / self.old_k as f64).sqrt();
            }
            self.step = self.step.min(self.step_ub);
            return;
        }
        if self.proposed_by.get(&trial) == Some(&self.incumbent) {
            self.num_complete4incumbent += 1;
            if objective.is_some() {
                self.cost_complete4incumbent += cost;
            }
            if self.num_complete4incumbent >= 2 * self.dim && self.num_allowed4incumbent == 0 {
                self.num_allowed4incumbent = 2;
            }
            if self.num_complete4incumbent == self.dir {
                self.num_complete4incumbent -= 2;
                self.num_allowed4incumbent = self.num_allowed4incumbent.max(2);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};
    use crate::search::SearchSpace;

    fn corner() -> GmmConfig {
        GmmConfig {
            n_components: 1,
            covariance_type: CovarianceType::Spherical,
            reg_covar: 1e-3,
            init: InitMethod::RandomFromData,
        }
    }

    #[test]
    fn initial_state_follows_flaml() {
        let axes = SearchSpace::default().axes();
        let f = Flow2::new(axes, corner(), 1.0, 0.5, 21);
        assert_eq!(f.dim, 4);
        assert_eq!(f.dir, 16);
        assert_eq!(f.step_ub, 2.0);
        // lb = ln(2)/ln(32) * 2 = 0.4 > 0.2 = 0.1 * sqrt(4), so step = 2 * lb.
        assert!((f.step_lower_bound() - 0.4).abs() < 1e-12);
        assert!((f.step - 0.8).abs() < 1e-12);
        assert_eq!(f.num_allowed4incumbent, 8);
        assert_eq!(f.cost_incumbent, Some(0.5));
    }

    #[test]
    fn proposals_alternate_direction_and_opposite() {
        let axes = SearchSpace::default().axes();
        let mut f = Flow2::new(axes, corner(), 1.0, 1.0, 3);
        let inc = f.incumbent.clone();
        let first = f.suggest(1).unwrap();
        let d = f.direction_tried.clone().unwrap();
        let len = d.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((len - f.step).abs() < 1e-12);
        let second = f.suggest(2).unwrap();
        assert!(f.direction_tried.is_none());
        // The second proposal is the denormalised projection of incumbent - d.
        let opposite: Vec<f64> = inc
            .iter()
            .zip(&d)
            .map(|(x, dx)| (x - dx).clamp(0.0, 1.0))
            .collect();
        assert_eq!(second, f.denormalize(&opposite));
        let forward: Vec<f64> = inc
            .iter()
            .zip(&d)
            .map(|(x, dx)| (x + dx).clamp(0.0, 1.0))
            .collect();
        assert_eq!(first, f.denormalize(&forward));
    }

    #[test]
    fn step_shrinks_after_dir_unimproving_proposals_and_reexpands_on_improvement() {
        // Float-only space so the lower bound is 1e-4 and the step starts at 0.1 * sqrt(dim).
        let space: crate::search::SearchSpaceSpec = serde_norway::from_str(
            "n_components: 2\ncovariance_type: full\ninit: kmeans\nreg_covar: {low: 1.0e-6, high: 1.0, log: true}\n",
        )
        .unwrap();
        let axes = space.check().unwrap().axes();
        let start = GmmConfig {
            n_components: 2,
            covariance_type: CovarianceType::Full,
            reg_covar: 1e-3,
            init: InitMethod::KMeans,
        };
        let mut f = Flow2::new(axes, start, 0.0, 1.0, 9);
        assert_eq!(f.dir, 2);
        assert!((f.step - 0.1).abs() < 1e-15);
        // dir = 2: the second proposal closes the window: K = 3 + 1, oldK = 1.
        f.suggest(1).unwrap();
        f.on_trial_complete(1, Some(1.0), 1.0);
        assert!((f.step - 0.1).abs() < 1e-15);
        f.suggest(2).unwrap();
        assert!(
            (f.step - 0.1 * (1.0f64 / 4.0).sqrt()).abs() < 1e-15,
            "{}",
            f.step
        );
        let shrunk = f.step;
        f.on_trial_complete(2, Some(2.0), 1.0);
        // An improvement restores the step it was proposed with, times sqrt(K / oldK).
        f.suggest(3).unwrap();
        f.on_trial_complete(3, Some(-1.0), 1.0);
        assert!(
            (f.step - (shrunk * 2.0).min(1.0)).abs() < 1e-15,
            "{}",
            f.step
        );
        assert_eq!(f.best_obj, Some(-1.0));
        assert_eq!(f.num_complete4incumbent, 0);
    }
}
