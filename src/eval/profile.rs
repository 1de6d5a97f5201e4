//! A cost model's counts at every threshold at once, for fast threshold searches.
//!
//! Two facts make the counts monotone step functions of the threshold `t`, for any tolerance:
//! * whether an alarm at row `p` is false depends only on the labels (no anomaly within the
//!   window of `p`), not on the other alarms; so `false_alarms(t)` counts the "uncovered" rows
//!   whose score is above `t`;
//! * an anomalous row `a` is caught exactly when the highest score in its window
//!   `[a − tolerance, a + tolerance]` is above `t`; so `missed(t)` counts the anomalous rows
//!   whose window maximum is at most `t`.
//!
//! After sorting these values once (O(n log n), window maxima in O(n) with a monotone deque),
//! each threshold is evaluated with three binary searches.

use std::collections::VecDeque;

use super::cost::{alarm_key, CostCounts, CostModel, WindowCounter};

/// Sorted values that give a cost model's counts at any threshold in O(log n).
pub(crate) struct CostProfile {
    /// Alarm keys (scores, NaN as `+∞`) of every row, ascending.
    all_keys: Vec<f64>,
    /// Alarm keys of rows with no anomaly within the tolerance, ascending.
    uncovered_keys: Vec<f64>,
    /// For each anomalous row, the highest alarm key within the tolerance, ascending.
    anomaly_window_max: Vec<f64>,
}

/// Ascending sort of NaN-free keys.
fn sort_keys(keys: &mut [f64]) {
    keys.sort_unstable_by(f64::total_cmp);
}

/// Number of sorted keys that do not alarm at `threshold` (those not strictly above it; all of
/// them for a NaN threshold, like the direct comparison `key > threshold`).
fn at_most(sorted: &[f64], threshold: f64) -> usize {
    sorted.partition_point(|&k| k.partial_cmp(&threshold) != Some(std::cmp::Ordering::Greater))
}

/// The maximum of `keys` over `[i − tolerance, i + tolerance]` (clipped) for every row `i`.
fn window_maxima(keys: &[f64], tolerance: usize) -> Vec<f64> {
    let n = keys.len();
    let mut maxima = Vec::with_capacity(n);
    let mut deque: VecDeque<usize> = VecDeque::new();
    let mut next_in = 0;
    for row in 0..n {
        let high = row.saturating_add(tolerance).min(n - 1);
        while next_in <= high {
            while deque.back().is_some_and(|&b| keys[b] <= keys[next_in]) {
                deque.pop_back();
            }
            deque.push_back(next_in);
            next_in += 1;
        }
        let low = row.saturating_sub(tolerance);
        while deque.front().is_some_and(|&f| f < low) {
            deque.pop_front();
        }
        // The window always holds `row` itself, so the deque is not empty.
        let front = deque.front().copied().unwrap_or(row);
        maxima.push(keys[front]);
    }
    maxima
}

impl CostProfile {
    /// # Panics
    /// If `scores` and `labels` have different lengths.
    pub(crate) fn new(scores: &[f64], labels: &[bool], tolerance: usize) -> CostProfile {
        assert_eq!(
            scores.len(),
            labels.len(),
            "scores and labels must describe the same rows"
        );
        let keys: Vec<f64> = scores.iter().map(|&s| alarm_key(s)).collect();
        let anomaly_near = WindowCounter::new(labels, tolerance);
        let maxima = window_maxima(&keys, tolerance);
        let mut uncovered_keys = Vec::new();
        let mut anomaly_window_max = Vec::new();
        for (row, (&key, &anomaly)) in keys.iter().zip(labels).enumerate() {
            if !anomaly_near.any_within(row) {
                uncovered_keys.push(key);
            }
            if anomaly {
                anomaly_window_max.push(maxima[row]);
            }
        }
        let mut all_keys = keys;
        sort_keys(&mut all_keys);
        sort_keys(&mut uncovered_keys);
        sort_keys(&mut anomaly_window_max);
        CostProfile {
            all_keys,
            uncovered_keys,
            anomaly_window_max,
        }
    }

    /// Every row's alarm key, ascending.
    pub(crate) fn sorted_keys(&self) -> &[f64] {
        &self.all_keys
    }

    /// The counts at `threshold`, equal to [`CostModel::counts`].
    pub(crate) fn counts_at(&self, threshold: f64) -> CostCounts {
        CostCounts {
            alarms: self.all_keys.len() - at_most(&self.all_keys, threshold),
            false_alarms: self.uncovered_keys.len() - at_most(&self.uncovered_keys, threshold),
            anomalies: self.anomaly_window_max.len(),
            missed: at_most(&self.anomaly_window_max, threshold),
        }
    }

    /// The counts and cost at `threshold` under `model`.
    pub(crate) fn evaluate(&self, model: &CostModel, threshold: f64) -> (CostCounts, f64) {
        let counts = self.counts_at(threshold);
        (counts, model.cost_of(&counts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_maxima_match_naive() {
        let keys = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        for tolerance in [0usize, 1, 2, 5, 20, usize::MAX] {
            let expected: Vec<f64> = (0..keys.len())
                .map(|i| {
                    let low = i.saturating_sub(tolerance);
                    let high = i.saturating_add(tolerance).min(keys.len() - 1);
                    keys[low..=high]
                        .iter()
                        .copied()
                        .fold(f64::NEG_INFINITY, f64::max)
                })
                .collect();
            assert_eq!(
                window_maxima(&keys, tolerance),
                expected,
                "tolerance {tolerance}"
            );
        }
        assert!(window_maxima(&[], 3).is_empty());
    }

    #[test]
    fn profile_counts_equal_direct_counts() {
        let scores = [
            0.5,
            2.0,
            f64::NAN,
            1.0,
            1.0,
            -0.0,
            0.0,
            3.0,
            f64::NEG_INFINITY,
            2.0,
        ];
        let labels = [
            false, true, false, false, true, false, false, false, true, true,
        ];
        for tolerance in [0usize, 1, 2, 4] {
            let model = CostModel::new(1.0, 5.0, tolerance).expect("valid");
            let profile = CostProfile::new(&scores, &labels, tolerance);
            for threshold in [
                f64::NEG_INFINITY,
                -1.0,
                -0.0,
                0.0,
                0.5,
                1.0,
                1.5,
                2.0,
                3.0,
                1e300,
                f64::INFINITY,
            ] {
                assert_eq!(
                    profile.counts_at(threshold),
                    model.counts(&scores, &labels, threshold),
                    "tolerance {tolerance} threshold {threshold}"
                );
            }
        }
    }
}
