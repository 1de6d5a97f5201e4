//! Choosing the alarm threshold that minimises a cost model on validation data.

use serde::{Deserialize, Serialize};

use super::cost::{CostCounts, CostModel};
use super::error::EvalError;
use super::profile::CostProfile;

/// Relative margin used to place a threshold just outside a finite score (see [`ThresholdSearch`]).
const EDGE_MARGIN: f64 = 1e-9;

/// Which thresholds [`CostModel::optimise_threshold`] tries.
///
/// Serialised with a `method` tag, e.g. in YAML `{method: cut_points}` or
/// `{method: linspace, low: 1.0e4, high: 1.0e9, n: 1000}`. Deserialising runs
/// [`ThresholdSearch::validate`].
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(
    rename_all = "snake_case",
    tag = "method",
    try_from = "ThresholdSearchSpec"
)]
pub enum ThresholdSearch {
    /// Every way of splitting the validation rows by score. With the distinct scores
    /// `s_0 < s_1 < … < s_{m−1}` (NaN read as `+∞`) the candidates are:
    /// * "alarm on everything": `s_0 − max(1, |s_0|)·1e-9`, a finite value just below the minimum;
    /// * each cut between `s_j` and `s_{j+1}`: their midpoint (`s_j/2 + s_{j+1}/2`), so the
    ///   threshold sits halfway between the validation scores it separates; if `s_{j+1} = +∞`
    ///   it is `s_j + max(1, |s_j|)·1e-9`, if `s_j = −∞` it is `s_{j+1} − max(1, |s_{j+1}|)·1e-9`
    ///   (`0` if both are infinite); when rounding pushes it outside `[s_j, s_{j+1})`, `s_j`;
    /// * "never alarm": the maximum `s_{m−1}` itself (strict `>`, so no row alarms).
    ///
    /// Every candidate is finite: a candidate that would need an infinite threshold (for example
    /// "never alarm" when a score is `+∞` or NaN, which alarm under every finite threshold) is
    /// not offered, and `+∞` gets `f64::MAX` as "alarm on everything".
    #[default]
    CutPoints,
    /// Exactly the points of numpy's `np.linspace(low, high, n)` (both ends included), as in the
    /// course notebooks (`np.linspace(1e4, 1e9, 1000)` for the GMM notebook).
    Linspace {
        /// First grid point (finite).
        low: f64,
        /// Last grid point (finite, with `high − low` finite).
        high: f64,
        /// Number of grid points (`>= 1`).
        n: usize,
    },
}

/// The serialised form of a [`ThresholdSearch`], checked on the way in.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", tag = "method", deny_unknown_fields)]
enum ThresholdSearchSpec {
    CutPoints,
    Linspace { low: f64, high: f64, n: usize },
}

impl TryFrom<ThresholdSearchSpec> for ThresholdSearch {
    type Error = EvalError;

    fn try_from(spec: ThresholdSearchSpec) -> Result<Self, Self::Error> {
        match spec {
            ThresholdSearchSpec::CutPoints => Ok(ThresholdSearch::CutPoints),
            ThresholdSearchSpec::Linspace { low, high, n } => {
                ThresholdSearch::linspace(low, high, n)
            }
        }
    }
}

impl ThresholdSearch {
    /// A checked [`ThresholdSearch::Linspace`].
    ///
    /// # Errors
    /// [`EvalError::InvalidLinspaceBound`] for a non-finite `low`/`high`,
    /// [`EvalError::EmptyLinspace`] for `n = 0`, [`EvalError::LinspaceSpanTooWide`] when
    /// `high − low` overflows.
    pub fn linspace(low: f64, high: f64, n: usize) -> Result<ThresholdSearch, EvalError> {
        let search = ThresholdSearch::Linspace { low, high, n };
        search.validate()?;
        Ok(search)
    }

    /// Checks the settings (always fine for [`ThresholdSearch::CutPoints`]).
    ///
    /// # Errors
    /// As [`ThresholdSearch::linspace`].
    pub fn validate(&self) -> Result<(), EvalError> {
        if let ThresholdSearch::Linspace { low, high, n } = *self {
            for (key, value) in [("low", low), ("high", high)] {
                if !value.is_finite() {
                    return Err(EvalError::InvalidLinspaceBound { key, value });
                }
            }
            if n == 0 {
                return Err(EvalError::EmptyLinspace);
            }
            if n > MAX_LINSPACE_POINTS {
                return Err(EvalError::TooManyLinspacePoints {
                    n,
                    max: MAX_LINSPACE_POINTS,
                });
            }
            if !(high - low).is_finite() {
                return Err(EvalError::LinspaceSpanTooWide { low, high });
            }
        }
        Ok(())
    }
}

/// The most points a linspace threshold grid may have (every trial scores each of them).
pub const MAX_LINSPACE_POINTS: usize = 1_000_000;

/// The threshold a search picked, with its cost and counts on the data it was chosen on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdChoice {
    /// Rows with a score strictly above it alarm. Always finite.
    pub threshold: f64,
    /// The cost at `threshold`.
    pub cost: f64,
    /// The counts at `threshold`.
    pub counts: CostCounts,
}

/// The points of numpy's `np.linspace(low, high, n)` (endpoint included), bit for bit:
/// `low + i·step` with `step = (high − low)/(n − 1)`, the last point set to `high`.
///
/// ```
/// use gmmtune::eval::linspace;
/// assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
/// assert_eq!(linspace(3.0, 7.0, 1), vec![3.0]);
/// ```
pub fn linspace(low: f64, high: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![low];
    }
    let divisions = (n.saturating_sub(1)) as f64;
    let delta = high - low;
    let step = delta / divisions;
    let mut points: Vec<f64> = (0..n)
        .map(|i| {
            if step == 0.0 {
                (i as f64 / divisions) * delta + low
            } else {
                i as f64 * step + low
            }
        })
        .collect();
    if let Some(last) = points.last_mut() {
        *last = high;
    }
    points
}

/// A finite threshold strictly below `key`, if one exists.
fn just_below(key: f64) -> Option<f64> {
    if key == f64::INFINITY {
        return Some(f64::MAX);
    }
    let threshold = key - key.abs().max(1.0) * EDGE_MARGIN;
    (threshold.is_finite() && threshold < key).then_some(threshold)
}

/// A finite threshold `t` with `low <= t < high` (so `low` does not alarm and `high` does).
fn cut_between(low: f64, high: f64) -> f64 {
    let candidate = match (low.is_finite(), high.is_finite()) {
        (true, true) => low / 2.0 + high / 2.0,
        (true, false) => low + low.abs().max(1.0) * EDGE_MARGIN,
        (false, true) => high - high.abs().max(1.0) * EDGE_MARGIN,
        (false, false) => 0.0,
    };
    if candidate >= low && candidate < high && candidate.is_finite() {
        candidate
    } else {
        low
    }
}

/// The candidate thresholds of [`ThresholdSearch::CutPoints`], ascending.
fn cut_point_candidates(sorted_keys: &[f64]) -> Vec<f64> {
    let mut distinct: Vec<f64> = Vec::new();
    for &key in sorted_keys {
        if distinct.last() != Some(&key) {
            distinct.push(key);
        }
    }
    let mut candidates = Vec::with_capacity(distinct.len() + 1);
    if let Some(&lowest) = distinct.first() {
        candidates.extend(just_below(lowest));
    }
    for pair in distinct.windows(2) {
        candidates.push(cut_between(pair[0], pair[1]));
    }
    if let Some(&highest) = distinct.last()
        && highest.is_finite()
    {
        candidates.push(highest);
    }
    candidates
}

impl CostModel {
    /// The threshold with the lowest cost on `scores`/`labels` among those `search` offers;
    /// among equal costs, the **highest** threshold (fewest alarms).
    ///
    /// For [`ThresholdSearch::Linspace`] this differs from the course's `np.argmin`, which
    /// keeps the first (lowest) of equal-cost grid points; the cost is the same.
    ///
    /// NaN scores are read as `+∞` (they alarm under every finite threshold). For empty input
    /// every threshold costs 0 and the choice is threshold `0.0`.
    ///
    /// Takes O((n + m) log n) time for any tolerance, with m the number of candidates: the
    /// counts at every threshold come from sorted per-row values (see [`CostModel::counts`] for
    /// the semantics), not from a rescan per candidate.
    ///
    /// # Panics
    /// If `scores` and `labels` have different lengths, or if `search` fails
    /// [`ThresholdSearch::validate`] (impossible for a search built with
    /// [`ThresholdSearch::linspace`] or deserialised).
    ///
    /// # Example
    /// ```
    /// use gmmtune::eval::{CostModel, ThresholdSearch};
    /// let model = CostModel::new(1.0, 5.0, 0)?;
    /// let scores = [0.1, 0.7, 0.2, 0.9, 0.3];
    /// let labels = [false, true, false, true, false];
    /// let choice = model.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
    /// assert_eq!(choice.threshold, 0.5); // halfway between 0.3 and 0.7
    /// assert_eq!(choice.cost, 0.0);
    /// let grid = ThresholdSearch::linspace(0.0, 1.0, 9)?; // 0, 0.125, ..., 1
    /// let on_grid = model.optimise_threshold(&scores, &labels, &grid);
    /// assert_eq!(on_grid.threshold, 0.625); // 0.375, 0.5, 0.625 all cost 0: the highest wins
    /// # Ok::<(), gmmtune::eval::EvalError>(())
    /// ```
    pub fn optimise_threshold(
        &self,
        scores: &[f64],
        labels: &[bool],
        search: &ThresholdSearch,
    ) -> ThresholdChoice {
        if let Err(error) = search.validate() {
            panic!("invalid threshold search: {error}");
        }
        let profile = CostProfile::new(scores, labels, self.tolerance);
        let candidates = match *search {
            ThresholdSearch::CutPoints => cut_point_candidates(profile.sorted_keys()),
            ThresholdSearch::Linspace { low, high, n } => linspace(low, high, n),
        };
        let mut best: Option<ThresholdChoice> = None;
        for &threshold in &candidates {
            let (counts, cost) = profile.evaluate(self, threshold);
            let better = match &best {
                None => true,
                Some(current) => {
                    cost < current.cost || (cost == current.cost && threshold > current.threshold)
                }
            };
            if better {
                best = Some(ThresholdChoice {
                    threshold,
                    cost,
                    counts,
                });
            }
        }
        best.unwrap_or(ThresholdChoice {
            threshold: 0.0,
            cost: 0.0,
            counts: CostCounts::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn model(tolerance: usize) -> CostModel {
        CostModel::new(1.0, 5.0, tolerance).expect("valid costs")
    }

    /// The naive search: rescan the series with `CostModel::cost` at every candidate.
    fn naive_choice(
        model: &CostModel,
        scores: &[f64],
        labels: &[bool],
        candidates: &[f64],
    ) -> (f64, f64) {
        let mut best = (f64::NAN, f64::INFINITY);
        for &threshold in candidates {
            let cost = model.cost(scores, labels, threshold);
            if cost < best.1 || (cost == best.1 && threshold > best.0) {
                best = (threshold, cost);
            }
        }
        best
    }

    #[test]
    fn cut_points_cover_every_partition() {
        let keys = [1.0, 2.0, 2.0, 4.0];
        assert_eq!(cut_point_candidates(&keys), vec![1.0 - 1e-9, 1.5, 3.0, 4.0]);
        assert_eq!(cut_point_candidates(&[]), Vec::<f64>::new());
        let with_infinities = [f64::NEG_INFINITY, 0.0, f64::INFINITY];
        assert_eq!(cut_point_candidates(&with_infinities), vec![-1e-9, 1e-9]);
        assert_eq!(cut_point_candidates(&[f64::INFINITY]), vec![f64::MAX]);
        assert_eq!(
            cut_point_candidates(&[-f64::MAX, 0.0]),
            vec![-f64::MAX / 2.0, 0.0]
        );
        // Adjacent floats: the midpoint rounds onto one of them; the cut must keep `low` below.
        let low = 1.0f64;
        let high = f64::from_bits(low.to_bits() + 1);
        let cut = cut_between(low, high);
        assert!(cut >= low && cut < high);
    }

    #[test]
    fn every_candidate_realises_its_partition() {
        let keys = [-3.5, -0.0, 0.0, 1e-300, 2.0, 1e300, f64::MAX];
        let candidates = cut_point_candidates(&keys);
        // Distinct keys: -3.5, 0 (both zeros), 1e-300, 2, 1e300, MAX -> 7 partitions.
        assert_eq!(candidates.len(), 7);
        for (j, &t) in candidates.iter().enumerate() {
            assert!(t.is_finite());
            let alarms = keys.iter().filter(|&&k| k > t).count();
            let expected = [7, 6, 4, 3, 2, 1, 0][j];
            assert_eq!(alarms, expected, "candidate {j} = {t}");
        }
    }

    #[test]
    fn ties_in_cost_go_to_the_highest_threshold() {
        // Anomaly at row 0 with the top score; rows 1..3 are normal with scores 0.1, 0.2, 0.3.
        // With c_alarm = 0, every threshold below 0.9 costs 0: the highest such cut wins.
        let scores = [0.9, 0.1, 0.2, 0.3];
        let labels = [true, false, false, false];
        let free_alarms = CostModel::new(0.0, 1.0, 0).expect("valid");
        let choice = free_alarms.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
        assert_eq!(choice.threshold, 0.6);
        assert_eq!(choice.counts.alarms, 1);
        // Free misses: never alarming ties with everything that misses; "never alarm" wins.
        let free_misses = CostModel::new(1.0, 0.0, 0).expect("valid");
        let choice = free_misses.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
        assert_eq!(choice.threshold, 0.9);
        assert_eq!(choice.counts.alarms, 0);
        // On a grid, too.
        let grid = ThresholdSearch::linspace(0.0, 1.0, 11).expect("valid");
        let choice = free_alarms.optimise_threshold(&scores, &labels, &grid);
        assert_eq!(choice.threshold, linspace(0.0, 1.0, 11)[8]);
        assert_eq!(choice.cost, 0.0);
    }

    #[test]
    fn nan_scores_always_alarm() {
        let scores = [0.1, f64::NAN, 0.2, 0.8];
        let labels = [false, false, false, true];
        let choice = model(0).optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
        assert!(choice.threshold.is_finite());
        assert_eq!(choice.threshold, 0.5);
        assert_eq!(choice.counts.alarms, 2);
        assert_eq!(choice.counts.false_alarms, 1);
        assert_eq!(choice.cost, 1.0);
        // Only NaN scores: the only finite choice alarms on everything.
        let choice = model(0).optimise_threshold(
            &[f64::NAN, f64::NAN],
            &[false, true],
            &ThresholdSearch::CutPoints,
        );
        assert_eq!(choice.threshold, f64::MAX);
        assert_eq!(choice.counts.alarms, 2);
    }

    #[test]
    fn empty_input_costs_nothing() {
        let choice = model(3).optimise_threshold(&[], &[], &ThresholdSearch::CutPoints);
        assert_eq!(
            choice,
            ThresholdChoice {
                threshold: 0.0,
                cost: 0.0,
                counts: CostCounts::default()
            }
        );
    }

    #[test]
    fn search_equals_naive_rescan_on_random_series() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(20_261_122);
        for case in 0..400 {
            let n = rng.random_range(0..60);
            let levels = rng.random_range(1..12);
            let mut labels = Vec::with_capacity(n);
            let mut in_run = false;
            for _ in 0..n {
                if rng.random_bool(0.1) {
                    in_run = !in_run;
                }
                labels.push(in_run);
            }
            let scores: Vec<f64> = labels
                .iter()
                .map(|&l| {
                    let base = rng.random_range(0..levels) as f64;
                    if l && rng.random_bool(0.6) {
                        base + 3.0
                    } else {
                        base
                    }
                })
                .collect();
            let tolerance = [0usize, 1, 2, 5, 12][case % 5];
            let m = CostModel::new(
                rng.random_range(0.0..3.0),
                rng.random_range(0.0..6.0) + 0.1,
                tolerance,
            )
            .expect("valid");
            let choice = m.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
            let keys = CostProfile::new(&scores, &labels, tolerance);
            let candidates = cut_point_candidates(keys.sorted_keys());
            if candidates.is_empty() {
                assert_eq!(choice.cost, 0.0);
                continue;
            }
            let (threshold, cost) = naive_choice(&m, &scores, &labels, &candidates);
            assert_eq!(choice.threshold, threshold, "case {case}");
            assert_eq!(choice.cost, cost, "case {case}");
            assert_eq!(
                choice.counts,
                m.counts(&scores, &labels, threshold),
                "case {case}"
            );
            // No threshold at all does better than the best cut point.
            for &t in &[-1e9, -0.5, 0.5, 2.5, 7.5, 1e9] {
                assert!(m.cost(&scores, &labels, t) >= cost, "case {case} t {t}");
            }
            let grid = linspace(-1.0, 15.0, 33);
            let on_grid = m.optimise_threshold(
                &scores,
                &labels,
                &ThresholdSearch::linspace(-1.0, 15.0, 33).expect("valid"),
            );
            let (grid_threshold, grid_cost) = naive_choice(&m, &scores, &labels, &grid);
            assert_eq!(
                (on_grid.threshold, on_grid.cost),
                (grid_threshold, grid_cost),
                "case {case}"
            );
        }
    }

    #[test]
    fn linspace_checks_and_matches_numpy_shape() {
        assert_eq!(
            ThresholdSearch::linspace(0.0, 1.0, 0),
            Err(EvalError::EmptyLinspace)
        );
        assert!(matches!(
            ThresholdSearch::linspace(f64::NAN, 1.0, 3),
            Err(EvalError::InvalidLinspaceBound { key: "low", .. })
        ));
        assert!(matches!(
            ThresholdSearch::linspace(-f64::MAX, f64::MAX, 3),
            Err(EvalError::LinspaceSpanTooWide { .. })
        ));
        assert!(matches!(
            ThresholdSearch::linspace(0.0, f64::INFINITY, 3),
            Err(EvalError::InvalidLinspaceBound { key: "high", .. })
        ));
        let grid = linspace(1e4, 1e9, 1000);
        assert_eq!(grid.len(), 1000);
        assert_eq!(grid[0], 1e4);
        assert_eq!(grid[999], 1e9);
        assert_eq!(linspace(2.0, 2.0, 3), vec![2.0, 2.0, 2.0]);
        assert_eq!(linspace(1.0, 0.0, 3), vec![1.0, 0.5, 0.0]);
    }

    #[test]
    fn search_serialises_in_snake_case_and_validates() {
        let cut: ThresholdSearch =
            serde_json::from_str(r#"{"method": "cut_points"}"#).expect("valid");
        assert_eq!(cut, ThresholdSearch::CutPoints);
        let grid: ThresholdSearch =
            serde_json::from_str(r#"{"method": "linspace", "low": 1e4, "high": 1e9, "n": 1000}"#)
                .expect("valid");
        assert_eq!(
            grid,
            ThresholdSearch::Linspace {
                low: 1e4,
                high: 1e9,
                n: 1000
            }
        );
        let text = serde_json::to_string(&grid).expect("serialisable");
        assert_eq!(
            serde_json::from_str::<ThresholdSearch>(&text).ok(),
            Some(grid)
        );
        let empty = serde_json::from_str::<ThresholdSearch>(
            r#"{"method": "linspace", "low": 0, "high": 1, "n": 0}"#,
        );
        assert!(empty.unwrap_err().to_string().contains("linspace.n"));
        let yaml: ThresholdSearch =
            serde_norway::from_str("method: linspace\nlow: 1.0e4\nhigh: 1.0e9\nn: 1000\n")
                .expect("valid yaml");
        assert_eq!(yaml, grid);
        let yaml_cut: ThresholdSearch =
            serde_norway::from_str("method: cut_points\n").expect("valid yaml");
        assert_eq!(yaml_cut, ThresholdSearch::CutPoints);
        let extra = serde_json::from_str::<ThresholdSearch>(
            r#"{"method": "linspace", "low": 0, "high": 1, "n": 3, "m": 1}"#,
        );
        assert!(extra.is_err());
        assert_eq!(ThresholdSearch::default(), ThresholdSearch::CutPoints);
    }

    #[test]
    #[should_panic(expected = "linspace.n")]
    fn invalid_search_built_by_hand_panics() {
        let search = ThresholdSearch::Linspace {
            low: 0.0,
            high: 1.0,
            n: 0,
        };
        model(0).optimise_threshold(&[0.1], &[true], &search);
    }
}
