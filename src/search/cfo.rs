//! CFO (cost-frugal optimisation), after FLAML's `CFO` searcher
//! (`flaml/tune/searcher/blendsearch.py`): one [`Flow2`] local search started from the
//! low-cost corner of the space, a cache of every configuration seen, and restarts from a
//! disturbed start point when the local search converges.

use std::collections::HashMap;

use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::flow2::{Flow2, TrialId, STEPSIZE};
use super::space::{Axis, GmmConfig, SearchError, SearchSpace};
use super::strategy::{LowCostSpec, Strategy};
/// Offset of the seed of the stream that draws dimensions without a low-cost value (FLAML
/// seeds it with `seed + 19823`).
const SAMPLE_SEED_OFFSET: u64 = 19823;

/// What the cache knows about a configuration (FLAML's `_result`, keyed by signature).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    /// Proposed, no result yet; or failed (FLAML keeps an empty result for both).
    Pending,
    /// Evaluated.
    Done { objective: f64, cost: f64 },
}

/// Who proposed an outstanding trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proposer {
    /// The start point of a local search (FLAML's thread 0).
    Start,
    /// Local search thread with this id.
    Thread(usize),
}

/// A read-only view of CFO's state, for logs and tests.
#[derive(Debug, Clone, PartialEq)]
pub struct CfoStatus {
    /// Best configuration of the current local search, if one is running.
    pub incumbent: Option<GmmConfig>,
    /// Its objective.
    pub incumbent_objective: Option<f64>,
    /// Its cost (fit seconds), as FLAML's `cost_incumbent`.
    pub incumbent_cost: Option<f64>,
    /// Summed cost of the completed proposals from the incumbent (`cost_complete4incumbent`).
    pub cost_complete_for_incumbent: f64,
    /// Completed proposals from the incumbent (`num_complete4incumbent`).
    pub complete_for_incumbent: usize,
    /// Current step size in the normalised space.
    pub step: Option<f64>,
    /// Current step lower bound.
    pub step_lower_bound: Option<f64>,
    /// Number of searched dimensions.
    pub dim: usize,
    /// Proposals per incumbent before the step shrinks, `2^min(9, dim)`.
    pub dir: usize,
    /// Seed of the running local search's direction stream (the template seed plus the
    /// number of local searches started).
    pub thread_seed: Option<u64>,
    /// Local searches started so far (the first one included).
    pub threads_started: usize,
    /// Local searches that converged (each is followed by a restart).
    pub threads_converged: usize,
    /// Sum of the costs of every evaluated configuration.
    pub cost_used: f64,
    /// Whether the search has stopped (`max_failure` consecutive dropped proposals).
    pub exhausted: bool,
}

/// FLAML's CFO over a [`SearchSpace`].
///
/// * **Start**: the low-cost corner: lowest `n_components`, cheapest covariance type
///   (spherical < diag < tied < full) and initialisation (random_from_data < random <
///   k-means++ < kmeans), overridable with [`LowCostSpec`]; `reg_covar` (no low-cost value) is
///   drawn at random, as FLAML's `complete_config`.
/// * **Local search**: once the start point's result is told, a FLOW2 thread starts there
///   (see the `flow2` module: step size, `dir = 2^min(9, dim)` window, shrink and re-expand,
///   opposite-direction proposals, step growth in the initial phase, incumbent drift).
/// * **Cache**: a proposal whose signature was seen before is not returned; if its result is
///   known it is fed back to the thread as if just completed. `max_failure` consecutive
///   dropped proposals end the search (`ask` returns `None` from then on), which is how CFO
///   usually ends in a small discrete space.
/// * **Restart**: when the thread converges, the admissible box (spanned in the normalised
///   space by the low-cost dimensions of every local-search proposal) grows by 0.1 on each
///   side and a new start point is drawn: each low-cost dimension gets Gaussian noise with
///   standard deviation equal to the box width (0.1 if zero), clipped to the grown box and to
///   `[0, 1]`; other dimensions are drawn at random. The new thread's seed is one more than
///   the previous one's.
///
/// Integer ranges are inclusive: `{low: 1, high: 32, log: true}` is FLAML's
/// `lograndint(1, 33)`. A failed trial (`objective` `None`, or NaN) counts as a non-improving
/// result for its incumbent and its configuration is never proposed again, nor fed back.
/// `cost` does not steer the search (there is no resource dimension) but is recorded as FLAML
/// does ([`CfoStatus`]).
///
/// CFO is sequential in spirit: the driver should call `ask` and `tell` alternately. Asking
/// again before telling still works, but the proposals come from the same incumbent and may be
/// dropped as duplicates of pending ones; before the first start point is told, a second `ask`
/// returns a disturbed start point, as FLAML does.
///
/// ```
/// use gmmtune::search::{Cfo, LowCostSpec, SearchSpace, Strategy};
/// let mut cfo = Cfo::new(&SearchSpace::default(), &LowCostSpec::default(), 100, 0).unwrap();
/// let first = cfo.ask().unwrap();
/// assert_eq!(first.n_components, 1);
/// assert_eq!(first.covariance_type.as_str(), "spherical");
/// assert_eq!(first.init.as_str(), "random_from_data");
/// cfo.tell(&first, Some(1.0), 0.01);
/// let second = cfo.ask().unwrap();
/// assert_ne!(second, first);
/// ```
#[derive(Debug, Clone)]
pub struct Cfo {
    axes: Vec<Axis>,
    base: GmmConfig,
    /// Normalised low-cost value of each axis (`None`: drawn at random).
    low_cost: Vec<Option<f64>>,
    /// Admissible box of the low-cost axes (`_ls_bound_min`, `_ls_bound_max`).
    bound_min: Vec<Option<f64>>,
    bound_max: Vec<Option<f64>>,
    /// FLAML's template searcher `_ls`: its `_random` (disturbance) and `rs_random` (draws).
    rng: Xoshiro256PlusPlus,
    sample_rng: Xoshiro256PlusPlus,
    /// Seed of the template; each new thread gets `seed + 1` and the template's seed grows.
    seed: u64,
    reset_times: usize,
    init_used: bool,
    thread: Option<(usize, Flow2)>,
    thread_count: usize,
    threads_converged: usize,
    cache: HashMap<String, Known>,
    outstanding: HashMap<String, (TrialId, Proposer)>,
    next_trial: TrialId,
    cost_used: f64,
    max_failure: usize,
    consecutive_failures: usize,
    exhausted: bool,
}

fn low_cost_error(key: &str, reason: String) -> SearchError {
    SearchError::InvalidStrategy {
        key: format!("strategy.low_cost.{key}"),
        reason,
    }
}

impl Cfo {
    /// CFO over `space`, starting from the low-cost corner with `low_cost` overrides, stopping
    /// after `max_failure` consecutive dropped proposals. Errors name the key of a low-cost
    /// value outside the space, or `strategy.max_failure` if it is 0.
    pub fn new(
        space: &SearchSpace,
        low_cost: &LowCostSpec,
        max_failure: usize,
        seed: u64,
    ) -> Result<Self, SearchError> {
        if max_failure == 0 {
            return Err(SearchError::InvalidStrategy {
                key: "strategy.max_failure".into(),
                reason: "must be at least 1 (FLAML's default is 100)".into(),
            });
        }
        let axes = space.axes();
        let base = space.base_config();
        // Check the overrides against the space.
        let mut probe = base.clone();
        let mut check = |key: &str, set: &dyn Fn(&mut GmmConfig), shown: String| {
            let mut c = base.clone();
            set(&mut c);
            if !space.contains(&c) {
                return Err(low_cost_error(
                    key,
                    format!("{shown} is not in the search space (space.{key})"),
                ));
            }
            set(&mut probe);
            Ok(())
        };
        if let Some(n) = low_cost.n_components {
            check("n_components", &|c| c.n_components = n, n.to_string())?;
        }
        if let Some(t) = low_cost.covariance_type {
            check("covariance_type", &|c| c.covariance_type = t, t.to_string())?;
        }
        if let Some(r) = low_cost.reg_covar {
            check("reg_covar", &|c| c.reg_covar = r, r.to_string())?;
        }
        if let Some(m) = low_cost.init {
            check("init", &|c| c.init = m, m.to_string())?;
        }
        let low_cost: Vec<Option<f64>> = axes
            .iter()
            .map(|axis| {
                let given = match axis.key() {
                    "n_components" => low_cost.n_components.is_some(),
                    "covariance_type" => low_cost.covariance_type.is_some(),
                    "reg_covar" => low_cost.reg_covar.is_some(),
                    _ => low_cost.init.is_some(),
                };
                match axis {
                    // The low-cost corner; reg_covar has none unless given.
                    _ if given => Some(axis.normalize(&probe)),
                    Axis::RegCovarRange { .. } | Axis::RegCovarList(_) => None,
                    Axis::NComponentsRange { .. } | Axis::NComponentsList(_) => {
                        Some(axis.normalize(&base))
                    }
                    Axis::CovarianceType(vs) => {
                        let mut c = base.clone();
                        c.covariance_type = vs[0];
                        Some(axis.normalize(&c))
                    }
                    Axis::Init(vs) => {
                        let mut c = base.clone();
                        c.init = vs[0];
                        Some(axis.normalize(&c))
                    }
                }
            })
            .collect();
        Ok(Cfo {
            bound_min: low_cost.clone(),
            bound_max: low_cost.clone(),
            low_cost,
            axes,
            base,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            sample_rng: Xoshiro256PlusPlus::seed_from_u64(seed.wrapping_add(SAMPLE_SEED_OFFSET)),
            seed,
            reset_times: 0,
            init_used: false,
            thread: None,
            thread_count: 0,
            threads_converged: 0,
            cache: HashMap::new(),
            outstanding: HashMap::new(),
            next_trial: 0,
            cost_used: 0.0,
            max_failure,
            consecutive_failures: 0,
            exhausted: false,
        })
    }

    /// A snapshot of the search state.
    pub fn status(&self) -> CfoStatus {
        let thread = self.thread.as_ref().map(|(_, t)| t);
        CfoStatus {
            incumbent: thread.map(|t| t.best_config.clone()),
            incumbent_objective: thread.and_then(|t| t.best_obj),
            incumbent_cost: thread.and_then(|t| t.cost_incumbent),
            cost_complete_for_incumbent: thread.map_or(0.0, |t| t.cost_complete4incumbent),
            complete_for_incumbent: thread.map_or(0, |t| t.num_complete4incumbent),
            step: thread.map(|t| t.step),
            step_lower_bound: thread.map(Flow2::step_lower_bound),
            dim: self.axes.len(),
            dir: 1 << self.axes.len().min(9),
            thread_seed: thread.map(Flow2::seed),
            threads_started: self.thread_count,
            threads_converged: self.threads_converged,
            cost_used: self.cost_used,
            exhausted: self.exhausted,
        }
    }

    /// FLAML's `complete_config(init_config, lower, upper)`: the low-cost values (disturbed
    /// after the first call), the other dimensions drawn at random.
    fn complete_config(&mut self) -> GmmConfig {
        let disturb = self.reset_times > 0;
        self.reset_times += 1;
        let mut config = self.base.clone();
        for i in 0..self.axes.len() {
            let Some(mut value) = self.low_cost[i] else {
                continue;
            };
            if disturb {
                let (low, up) = match (self.bound_min[i], self.bound_max[i]) {
                    (Some(low), Some(up)) => (low, up),
                    _ => (value, value),
                };
                let width = up - low;
                let std = if width != 0.0 { width } else { STEPSIZE };
                let up = (up + STEPSIZE).min(1.0);
                let low = (low - STEPSIZE).max(0.0);
                let delta = Normal::new(0.0, std)
                    .map(|n| n.sample(&mut self.rng))
                    .unwrap_or(0.0);
                value = low.max(up.min(value + delta));
            }
            self.axes[i].denormalize(value, &mut config);
        }
        for i in 0..self.axes.len() {
            if self.low_cost[i].is_none() {
                self.axes[i].sample(&mut self.sample_rng, &mut config);
            }
        }
        config
    }

    /// Grows the admissible box to contain `config` (`_update_admissible_region`).
    fn update_admissible_region(&mut self, config: &GmmConfig) {
        for (i, axis) in self.axes.iter().enumerate() {
            if let (Some(low), Some(up)) = (&mut self.bound_min[i], &mut self.bound_max[i]) {
                let value = axis.normalize(config);
                if value > *up {
                    *up = value;
                } else if value < *low {
                    *low = value;
                }
            }
        }
    }

    /// Grows the admissible box by `STEPSIZE` on each side (`_expand_admissible_region`).
    fn expand_admissible_region(&mut self) {
        for bound in self.bound_max.iter_mut().flatten() {
            *bound += STEPSIZE;
        }
        for bound in self.bound_min.iter_mut().flatten() {
            *bound -= STEPSIZE;
        }
    }

    /// Deletes a converged thread and widens the box for the restart (`_clean`).
    fn clean(&mut self) {
        if self.thread.as_ref().is_some_and(|(_, t)| t.converged()) {
            self.expand_admissible_region();
            self.thread = None;
            self.threads_converged += 1;
        }
    }

    fn new_trial(&mut self) -> TrialId {
        self.next_trial += 1;
        self.next_trial
    }

    /// One call of FLAML's `CFO.suggest`: a new configuration, or `None` for a dropped
    /// proposal (duplicate, or a thread that just ended).
    fn suggest_once(&mut self) -> Option<GmmConfig> {
        if self.thread.is_none() {
            self.init_used = false;
        }
        let trial = self.new_trial();
        if self.init_used {
            let (thread_id, thread) = self.thread.as_mut()?;
            let thread_id = *thread_id;
            let Some(config) = thread.suggest(trial) else {
                if thread.converged() {
                    self.expand_admissible_region();
                    self.thread = None;
                    self.threads_converged += 1;
                }
                return None;
            };
            let signature = config.signature();
            if let Some(known) = self.cache.get(&signature) {
                if let Known::Done { objective, cost } = *known {
                    thread.on_trial_complete(trial, Some(objective), cost);
                    self.clean();
                }
                return None;
            }
            self.update_admissible_region(&config);
            self.cache.insert(signature.clone(), Known::Pending);
            self.outstanding
                .insert(signature, (trial, Proposer::Thread(thread_id)));
            Some(config)
        } else {
            let config = self.complete_config();
            let signature = config.signature();
            if self.cache.contains_key(&signature) {
                return None;
            }
            self.cache.insert(signature.clone(), Known::Pending);
            self.init_used = true;
            self.outstanding
                .insert(signature, (trial, Proposer::Start));
            Some(config)
        }
    }
}

impl Strategy for Cfo {
    fn name(&self) -> &'static str {
        "cfo"
    }

    fn ask(&mut self) -> Option<GmmConfig> {
        while !self.exhausted {
            if let Some(config) = self.suggest_once() {
                self.consecutive_failures = 0;
                return Some(config);
            }
            self.consecutive_failures += 1;
            if self.consecutive_failures >= self.max_failure {
                self.exhausted = true;
            }
        }
        None
    }

    fn tell(&mut self, config: &GmmConfig, objective: Option<f64>, cost: f64) {
        let signature = config.signature();
        let Some((trial, proposer)) = self.outstanding.remove(&signature) else {
            return; // not proposed by this search, or already told
        };
        let objective = objective.filter(|o| !o.is_nan());
        if let Proposer::Thread(id) = proposer {
            if let Some((current, thread)) = self.thread.as_mut() {
                if *current == id {
                    thread.on_trial_complete(trial, objective, cost);
                }
            }
        }
        if let Some(objective) = objective {
            self.cost_used += cost;
            self.cache
                .insert(signature, Known::Done { objective, cost });
            if proposer == Proposer::Start && self.thread.is_none() && !self.axes.is_empty() {
                self.thread_count += 1;
                self.seed = self.seed.wrapping_add(1);
                let thread = Flow2::new(self.axes.clone(), config.clone(), objective, cost, self.seed);
                self.thread = Some((self.thread_count, thread));
                self.update_admissible_region(config);
            }
        }
        if let (Proposer::Thread(id), Some((current, _))) = (proposer, &self.thread) {
            if *current == id {
                self.clean();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::{CovarianceType, InitMethod};
    use crate::search::{RandomSearch, SearchSpaceSpec};
    use std::collections::HashSet;

    /// A smooth bowl over log n_components × log reg_covar with categorical preferences;
    /// minimum 0 at n = 8, reg_covar = 1e-3, diag, kmeans.
    fn bowl(c: &GmmConfig) -> f64 {
        let a = (c.n_components as f64).log2() - 3.0;
        let b = c.reg_covar.log10() + 3.0;
        let cov = match c.covariance_type {
            CovarianceType::Spherical => 0.6,
            CovarianceType::Diag => 0.0,
            CovarianceType::Tied => 0.3,
            CovarianceType::Full => 0.5,
        };
        let init = match c.init {
            InitMethod::RandomFromData => 0.4,
            InitMethod::Random => 0.6,
            InitMethod::KMeansPlusPlus => 0.1,
            InitMethod::KMeans => 0.0,
        };
        0.1 * a * a + 0.05 * b * b + cov + init
    }

    fn cfo(seed: u64) -> Cfo {
        Cfo::new(&SearchSpace::default(), &LowCostSpec::default(), 100, seed).unwrap()
    }

    /// Runs `strategy` for up to `n` trials on `f`; returns the configs in proposal order.
    fn run(strategy: &mut dyn Strategy, f: &dyn Fn(&GmmConfig) -> f64, n: usize) -> Vec<GmmConfig> {
        let mut out = Vec::new();
        while out.len() < n {
            let Some(c) = strategy.ask() else { break };
            strategy.tell(&c, Some(f(&c)), c.n_components as f64 * 0.01);
            out.push(c);
        }
        out
    }

    fn best(configs: &[GmmConfig], f: &dyn Fn(&GmmConfig) -> f64) -> f64 {
        configs.iter().map(f).fold(f64::INFINITY, f64::min)
    }

    #[test]
    fn first_proposal_is_the_low_cost_corner() {
        for seed in 0..5 {
            let mut s = cfo(seed);
            let c = s.ask().unwrap();
            assert_eq!(c.n_components, 1);
            assert_eq!(c.covariance_type, CovarianceType::Spherical);
            assert_eq!(c.init, InitMethod::RandomFromData);
            assert!((1e-6..=1e-1).contains(&c.reg_covar));
        }
        let space: SearchSpaceSpec =
            serde_norway::from_str("n_components: [4, 2, 8]\ncovariance_type: [full, tied]\n").unwrap();
        let low_cost = LowCostSpec {
            reg_covar: Some(1e-2),
            init: Some(InitMethod::KMeans),
            ..Default::default()
        };
        let mut s = Cfo::new(&space.check().unwrap(), &low_cost, 10, 0).unwrap();
        let c = s.ask().unwrap();
        assert_eq!(c.n_components, 2);
        assert_eq!(c.covariance_type, CovarianceType::Tied);
        assert_eq!(c.init, InitMethod::KMeans);
        assert!((c.reg_covar / 1e-2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn same_seed_same_trace() {
        let a = run(&mut cfo(4), &bowl, 80);
        let b = run(&mut cfo(4), &bowl, 80);
        assert_eq!(a, b);
        let c = run(&mut cfo(5), &bowl, 80);
        assert_ne!(a, c);
    }

    #[test]
    fn proposals_are_never_repeated() {
        for seed in 0..4 {
            let mut s = cfo(seed);
            let trace = run(&mut s, &bowl, 400);
            let signatures: HashSet<String> = trace.iter().map(GmmConfig::signature).collect();
            assert_eq!(signatures.len(), trace.len(), "seed {seed}");
        }
    }

    #[test]
    fn reaches_the_optimum_region_and_beats_random() {
        let seeds = 0..10u64;
        let n = 60;
        let mut cfo_total = 0.0;
        let mut random_total = 0.0;
        for seed in seeds.clone() {
            let cfo_best = best(&run(&mut cfo(seed), &bowl, n), &bowl);
            let random_best = best(
                &run(&mut RandomSearch::new(&SearchSpace::default(), seed), &bowl, n),
                &bowl,
            );
            assert!(cfo_best < 0.3, "seed {seed}: CFO best {cfo_best}");
            cfo_total += cfo_best;
            random_total += random_best;
        }
        let count = seeds.count() as f64;
        assert!(
            cfo_total / count < random_total / count,
            "CFO mean best {} vs random {}",
            cfo_total / count,
            random_total / count
        );
    }

    #[test]
    fn converges_then_restarts_from_a_disturbed_start() {
        // A small discrete space: CFO converges, restarts, and finally runs out of new points.
        let space: SearchSpaceSpec = serde_norway::from_str(
            "n_components: {low: 1, high: 6}\ncovariance_type: [spherical, full]\nreg_covar: 1e-6\ninit: kmeans\n",
        )
        .unwrap();
        let space = space.check().unwrap();
        let f = |c: &GmmConfig| {
            (c.n_components as f64 - 4.0).powi(2)
                + if c.covariance_type == CovarianceType::Full { 0.0 } else { 1.0 }
        };
        let mut s = Cfo::new(&space, &LowCostSpec::default(), 100, 1).unwrap();
        let first_seed = {
            let c = s.ask().unwrap();
            s.tell(&c, Some(f(&c)), 1.0);
            s.status().thread_seed
        };
        assert_eq!(first_seed, Some(2));
        let trace = run(&mut s, &f, 1000);
        let status = s.status();
        assert!(status.threads_converged >= 1, "{status:?}");
        assert!(status.threads_started >= 2, "{status:?}");
        assert!(status.exhausted, "a 12-point space must run out: {status:?}");
        assert_eq!(s.ask(), None);
        // Every one of the 12 points is found (and none twice).
        assert_eq!(trace.len() + 1, 12);
        assert!(trace.iter().any(|c| c.n_components == 4 && c.covariance_type == CovarianceType::Full));
    }

    #[test]
    fn step_shrinks_after_dir_non_improving_proposals() {
        let mut s = cfo(2);
        let start = s.ask().unwrap();
        s.tell(&start, Some(0.0), 1.0); // nothing will beat 0 below
        let status = s.status();
        let (step0, dir) = (status.step.unwrap(), status.dir);
        assert_eq!(dir, 16);
        let mut proposals = 0;
        while proposals < dir - 1 {
            let c = s.ask().unwrap();
            s.tell(&c, Some(1.0), 1.0);
            proposals += 1;
        }
        let status = s.status();
        assert!(status.step.unwrap() >= step0, "{status:?}");
        let c = s.ask().unwrap();
        s.tell(&c, Some(1.0), 1.0);
        let after = s.status().step.unwrap();
        assert!(after < step0 * 0.99, "step {step0} -> {after}");
    }

    #[test]
    fn cost_is_recorded() {
        let mut s = cfo(0);
        let c = s.ask().unwrap();
        s.tell(&c, Some(2.0), 0.5);
        let status = s.status();
        assert_eq!(status.incumbent_cost, Some(0.5));
        assert_eq!(status.incumbent, Some(c));
        assert_eq!(status.cost_used, 0.5);
        let d = s.ask().unwrap();
        s.tell(&d, Some(3.0), 0.25);
        let status = s.status();
        assert_eq!(status.cost_complete_for_incumbent, 0.25);
        assert_eq!(status.cost_used, 0.75);
        let e = s.ask().unwrap();
        s.tell(&e, Some(1.0), 0.125);
        assert_eq!(s.status().incumbent_cost, Some(0.125));
    }

    #[test]
    fn failed_start_leads_to_a_new_start_point() {
        let mut s = cfo(3);
        let first = s.ask().unwrap();
        s.tell(&first, None, 0.1);
        assert_eq!(s.status().threads_started, 0);
        let second = s.ask().unwrap();
        assert_ne!(first, second);
        s.tell(&second, Some(1.0), 0.1);
        assert_eq!(s.status().threads_started, 1);
        // Unknown configurations are ignored.
        s.tell(&GmmConfig::default(), Some(-10.0), 1.0);
        assert_eq!(s.status().incumbent_objective, Some(1.0));
    }

    #[test]
    fn all_fixed_space_proposes_once() {
        let space: SearchSpaceSpec = serde_norway::from_str(
            "n_components: 3\ncovariance_type: diag\nreg_covar: 1e-4\ninit: random\n",
        )
        .unwrap();
        let mut s = Cfo::new(&space.check().unwrap(), &LowCostSpec::default(), 5, 0).unwrap();
        let trace = run(&mut s, &|_| 1.0, 10);
        assert_eq!(trace.len(), 1);
        assert!(s.status().exhausted);
    }
}
