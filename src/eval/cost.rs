//! The point-wise cost model with a symmetric row tolerance (the course's `HPCMetrics`).
//!
//! Rows are taken in the order given: a row's index in the slice is its position. With
//! `P = { i : score[i] > threshold }` (strict) and `A = { i : labels[i] }`:
//! * an alarm `p ∈ P` is **false** when no anomalous row `a` has `|p − a| ≤ tolerance`;
//! * an anomalous row `a ∈ A` is **missed** when no alarm `p` has `|a − p| ≤ tolerance`;
//! * `cost = c_alarm · false_alarms + c_missed · missed`.
//!
//! Only rows inside the evaluated slice take part: an alarm just outside the slice cannot cover
//! an anomaly inside it. A NaN score is treated as `+∞`: it alarms under every finite threshold.
//! A score of `−∞` never alarms (the comparison is strict).

use serde::{Deserialize, Serialize};

use super::error::EvalError;

/// The value compared with the threshold: the score, with NaN read as `+∞`.
pub(crate) fn alarm_key(score: f64) -> f64 {
    if score.is_nan() {
        f64::INFINITY
    } else {
        score
    }
}

/// Whether a row with this score raises an alarm at `threshold` (strict `>`, NaN as `+∞`).
pub(crate) fn raises_alarm(score: f64, threshold: f64) -> bool {
    alarm_key(score) > threshold
}

/// What a cost model counts on one slice at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CostCounts {
    /// Rows whose score is above the threshold.
    pub alarms: usize,
    /// Alarms with no anomalous row within `tolerance` rows.
    pub false_alarms: usize,
    /// Anomalous rows.
    pub anomalies: usize,
    /// Anomalous rows with no alarm within `tolerance` rows.
    pub missed: usize,
}

/// The course's HPC cost model: a cost per false alarm, a cost per missed anomalous row, and a
/// tolerance in rows within which an alarm and an anomaly match.
///
/// Build it with [`CostModel::new`] (or deserialise it, which runs the same checks).
///
/// # Example
/// ```
/// use gmmtune::eval::CostModel;
/// let model = CostModel::new(1.0, 5.0, 1)?;
/// let scores = [0.1, 0.2, 0.9, 0.1, 0.1, 0.8];
/// let labels = [false, true, true, false, false, false];
/// let counts = model.counts(&scores, &labels, 0.5);
/// assert_eq!((counts.alarms, counts.false_alarms, counts.missed), (2, 1, 0));
/// assert_eq!(model.cost(&scores, &labels, 0.5), 1.0);
/// assert_eq!(model.never_alarm_cost(&labels), 10.0);
/// # Ok::<(), gmmtune::eval::EvalError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "CostModelSpec")]
pub struct CostModel {
    /// Cost of one false alarm (finite, `>= 0`).
    pub c_alarm: f64,
    /// Cost of one missed anomalous row (finite, `>= 0`).
    pub c_missed: f64,
    /// How many rows apart an alarm and an anomaly may be and still match.
    pub tolerance: usize,
}

/// The serialised form of a [`CostModel`], checked by [`CostModel::new`] on the way in.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CostModelSpec {
    c_alarm: f64,
    c_missed: f64,
    tolerance: usize,
}

impl TryFrom<CostModelSpec> for CostModel {
    type Error = EvalError;

    fn try_from(spec: CostModelSpec) -> Result<Self, Self::Error> {
        CostModel::new(spec.c_alarm, spec.c_missed, spec.tolerance)
    }
}

impl CostModel {
    /// A cost model; both costs must be finite and `>= 0`, and not both zero.
    ///
    /// # Errors
    /// [`EvalError::InvalidCost`] naming `c_alarm` or `c_missed`, or [`EvalError::ZeroCosts`].
    pub fn new(c_alarm: f64, c_missed: f64, tolerance: usize) -> Result<CostModel, EvalError> {
        for (key, value) in [("c_alarm", c_alarm), ("c_missed", c_missed)] {
            if !value.is_finite() || value < 0.0 {
                return Err(EvalError::InvalidCost { key, value });
            }
        }
        if c_alarm == 0.0 && c_missed == 0.0 {
            return Err(EvalError::ZeroCosts);
        }
        Ok(CostModel {
            c_alarm,
            c_missed,
            tolerance,
        })
    }

    /// The setting of the course's HPC notebooks: `c_alarm = 1`, `c_missed = 5`,
    /// `tolerance = 12` rows.
    pub fn hpc_course() -> CostModel {
        CostModel {
            c_alarm: 1.0,
            c_missed: 5.0,
            tolerance: 12,
        }
    }

    /// Counts alarms (`score > threshold`, NaN scores as `+∞`), false alarms, anomalies and
    /// missed anomalies, in O(n) for any tolerance (prefix sums over the ±tolerance window).
    ///
    /// # Panics
    /// If `scores` and `labels` have different lengths (a caller bug: they must describe the
    /// same rows).
    pub fn counts(&self, scores: &[f64], labels: &[bool], threshold: f64) -> CostCounts {
        assert_eq!(
            scores.len(),
            labels.len(),
            "scores and labels must describe the same rows"
        );
        let alarmed: Vec<bool> = scores.iter().map(|&s| raises_alarm(s, threshold)).collect();
        let anomaly_near = WindowCounter::new(labels, self.tolerance);
        let alarm_near = WindowCounter::new(&alarmed, self.tolerance);
        let mut counts = CostCounts::default();
        for (row, (&alarm, &anomaly)) in alarmed.iter().zip(labels).enumerate() {
            if alarm {
                counts.alarms += 1;
                if !anomaly_near.any_within(row) {
                    counts.false_alarms += 1;
                }
            }
            if anomaly {
                counts.anomalies += 1;
                if !alarm_near.any_within(row) {
                    counts.missed += 1;
                }
            }
        }
        counts
    }

    /// The cost `c_alarm · false_alarms + c_missed · missed` at `threshold`.
    ///
    /// # Panics
    /// If `scores` and `labels` have different lengths.
    pub fn cost(&self, scores: &[f64], labels: &[bool], threshold: f64) -> f64 {
        self.cost_of(&self.counts(scores, labels, threshold))
    }

    /// The cost when nothing alarms: `c_missed · #anomalies`.
    pub fn never_alarm_cost(&self, labels: &[bool]) -> f64 {
        let anomalies = labels.iter().filter(|&&l| l).count();
        self.c_missed * anomalies as f64
    }

    /// The cost of already-made counts.
    pub fn cost_of(&self, counts: &CostCounts) -> f64 {
        self.c_alarm * counts.false_alarms as f64 + self.c_missed * counts.missed as f64
    }
}

/// Answers "is any flag set within `tolerance` rows of row i?" in O(1) after O(n) set-up.
pub(crate) struct WindowCounter {
    prefix: Vec<usize>,
    tolerance: usize,
}

impl WindowCounter {
    pub(crate) fn new(flags: &[bool], tolerance: usize) -> WindowCounter {
        let mut prefix = Vec::with_capacity(flags.len() + 1);
        let mut running = 0;
        prefix.push(running);
        for &flag in flags {
            running += usize::from(flag);
            prefix.push(running);
        }
        WindowCounter { prefix, tolerance }
    }

    /// Number of set flags in rows `[row − tolerance, row + tolerance]`, clipped to the slice.
    pub(crate) fn count_within(&self, row: usize) -> usize {
        let rows = self.prefix.len() - 1;
        let low = row.saturating_sub(self.tolerance);
        let high_exclusive = row
            .saturating_add(self.tolerance)
            .saturating_add(1)
            .min(rows);
        self.prefix[high_exclusive] - self.prefix[low]
    }

    pub(crate) fn any_within(&self, row: usize) -> bool {
        self.count_within(row) > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(tolerance: usize) -> CostModel {
        CostModel::new(1.0, 5.0, tolerance).expect("valid costs")
    }

    /// The course's definition, with sets of indices and explicit distances.
    fn brute_counts(
        scores: &[f64],
        labels: &[bool],
        threshold: f64,
        tolerance: usize,
    ) -> CostCounts {
        let alarms: Vec<usize> = (0..scores.len())
            .filter(|&i| raises_alarm(scores[i], threshold))
            .collect();
        let anomalies: Vec<usize> = (0..labels.len()).filter(|&i| labels[i]).collect();
        let near = |a: usize, b: usize| a.abs_diff(b) <= tolerance;
        CostCounts {
            alarms: alarms.len(),
            false_alarms: alarms
                .iter()
                .filter(|&&p| !anomalies.iter().any(|&a| near(p, a)))
                .count(),
            anomalies: anomalies.len(),
            missed: anomalies
                .iter()
                .filter(|&&a| !alarms.iter().any(|&p| near(p, a)))
                .count(),
        }
    }

    #[test]
    fn rejects_invalid_costs_naming_the_key() {
        for (c_alarm, c_missed, key) in [
            (-1.0, 5.0, "c_alarm"),
            (f64::NAN, 5.0, "c_alarm"),
            (1.0, f64::INFINITY, "c_missed"),
            (1.0, -0.5, "c_missed"),
        ] {
            match CostModel::new(c_alarm, c_missed, 3) {
                Err(EvalError::InvalidCost { key: k, .. }) => assert_eq!(k, key),
                other => panic!("expected InvalidCost for {key}, got {other:?}"),
            }
        }
        assert_eq!(CostModel::new(0.0, 0.0, 3), Err(EvalError::ZeroCosts));
        assert!(CostModel::new(0.0, 1.0, 0).is_ok());
        let message = CostModel::new(-1.0, 1.0, 0).unwrap_err().to_string();
        assert!(message.contains("c_alarm"), "{message}");
    }

    #[test]
    fn deserialising_runs_the_checks() {
        let ok: CostModel =
            serde_json::from_str(r#"{"c_alarm": 1, "c_missed": 5, "tolerance": 12}"#)
                .expect("valid model");
        assert_eq!(ok, CostModel::hpc_course());
        let bad =
            serde_json::from_str::<CostModel>(r#"{"c_alarm": -1, "c_missed": 5, "tolerance": 12}"#);
        assert!(bad.unwrap_err().to_string().contains("c_alarm"));
        let unknown = serde_json::from_str::<CostModel>(
            r#"{"c_alarm": 1, "c_missed": 5, "tolerance": 12, "c_late": 3}"#,
        );
        assert!(unknown.is_err());
        let text = serde_json::to_string(&ok).expect("serialisable");
        assert_eq!(serde_json::from_str::<CostModel>(&text).ok(), Some(ok));
    }

    #[test]
    fn tolerance_window_edges() {
        // One anomaly at row 5, one alarm at row 5 + d.
        for tolerance in [0usize, 1, 3, 12] {
            for distance in [tolerance, tolerance + 1] {
                let n = 5 + distance + 3;
                let mut labels = vec![false; n];
                labels[5] = true;
                let mut scores = vec![0.0; n];
                scores[5 + distance] = 1.0;
                let counts = model(tolerance).counts(&scores, &labels, 0.5);
                let matched = distance <= tolerance;
                assert_eq!(counts.alarms, 1);
                assert_eq!(
                    counts.false_alarms,
                    usize::from(!matched),
                    "tol {tolerance} d {distance}"
                );
                assert_eq!(
                    counts.missed,
                    usize::from(!matched),
                    "tol {tolerance} d {distance}"
                );
                // The same before the anomaly (the window is symmetric).
                let mirrored_scores: Vec<f64> = scores.iter().rev().copied().collect();
                let mirrored_labels: Vec<bool> = labels.iter().rev().copied().collect();
                let mirrored = model(tolerance).counts(&mirrored_scores, &mirrored_labels, 0.5);
                assert_eq!(mirrored, counts);
            }
        }
    }

    #[test]
    fn threshold_is_strict_and_nan_alarms() {
        let labels = [true, false, false];
        let m = model(0);
        assert_eq!(m.counts(&[1.0, 0.0, 0.0], &labels, 1.0).alarms, 0);
        assert_eq!(m.counts(&[1.0, 0.0, 0.0], &labels, 0.999).alarms, 1);
        let with_nan = m.counts(&[1.0, f64::NAN, 0.0], &labels, 1e300);
        assert_eq!(with_nan.alarms, 1);
        assert_eq!(with_nan.false_alarms, 1);
        assert_eq!(with_nan.missed, 1);
    }

    #[test]
    fn never_alarm_cost_is_missed_cost_of_every_anomaly() {
        let labels = [false, true, true, false, true];
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5];
        let m = CostModel::new(2.0, 7.0, 1).expect("valid");
        assert_eq!(m.never_alarm_cost(&labels), 21.0);
        assert_eq!(m.cost(&scores, &labels, 0.5), 21.0);
        assert_eq!(m.never_alarm_cost(&[]), 0.0);
    }

    #[test]
    fn huge_tolerance_does_not_overflow() {
        let m = model(usize::MAX);
        let counts = m.counts(&[0.0, 1.0, 0.0], &[true, false, false], 0.5);
        assert_eq!(
            counts,
            CostCounts {
                alarms: 1,
                false_alarms: 0,
                anomalies: 1,
                missed: 0
            }
        );
    }

    #[test]
    fn prefix_counting_equals_sets_on_random_series() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..300 {
            let n = (next() % 40) as usize;
            let scores: Vec<f64> = (0..n).map(|_| (next() % 7) as f64).collect();
            let labels: Vec<bool> = (0..n).map(|_| next() % 4 == 0).collect();
            let tolerance = (next() % 5) as usize;
            let threshold = (next() % 8) as f64 - 0.5;
            assert_eq!(
                model(tolerance).counts(&scores, &labels, threshold),
                brute_counts(&scores, &labels, threshold, tolerance)
            );
        }
    }

    /// Labels of the HPC validation rows [3000, 4500) and test rows [4500, 6667) of the course
    /// dataset, as runs of (anomalous, length).
    const HPC_VALIDATION_RUNS: &[(bool, usize)] = &[
        (false, 764),
        (true, 76),
        (false, 52),
        (true, 33),
        (false, 62),
        (true, 21),
        (false, 5),
        (true, 295),
        (false, 189),
        (true, 3),
    ];
    const HPC_TEST_RUNS: &[(bool, usize)] = &[(true, 507), (false, 1368), (true, 292)];

    fn expand(runs: &[(bool, usize)]) -> Vec<bool> {
        runs.iter()
            .flat_map(|&(label, length)| std::iter::repeat_n(label, length))
            .collect()
    }

    #[test]
    fn course_reference_costs_without_and_with_all_alarms() {
        let m = CostModel::hpc_course();
        for (runs, never, always) in [
            (HPC_VALIDATION_RUNS, 2140.0, 983.0),
            (HPC_TEST_RUNS, 3995.0, 1344.0),
        ] {
            let labels = expand(runs);
            let scores = vec![1.0; labels.len()];
            assert_eq!(m.never_alarm_cost(&labels), never);
            assert_eq!(m.cost(&scores, &labels, 1.0), never);
            assert_eq!(m.cost(&scores, &labels, 0.0), always);
        }
    }
}
