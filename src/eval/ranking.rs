//! Threshold-free ranking metrics: ROC AUC and average precision.
//!
//! Both follow scikit-learn (`roc_auc_score`, `average_precision_score`): scores are
//! "higher = more anomalous", labels are `true` for an anomaly (the positive class), and rows
//! with equal scores are grouped (ties are neither broken by row order nor by label).

use std::cmp::Ordering;

/// Row indices sorted by score, descending, with `-0.0` and `0.0` adjacent.
///
/// The caller has ruled out NaN, so `total_cmp` agrees with `partial_cmp` except that it
/// separates the two zeros; tie groups are therefore formed with `==` afterwards.
fn order_descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    order
}

/// Counts of positives and negatives in each group of equal scores, highest score first.
fn tie_groups(scores: &[f64], labels: &[bool]) -> Vec<(u64, u64)> {
    let order = order_descending(scores);
    let mut groups: Vec<(u64, u64)> = Vec::new();
    let mut previous: Option<f64> = None;
    for &row in &order {
        let score = scores[row];
        let same_group = previous.is_some_and(|p| p.partial_cmp(&score) == Some(Ordering::Equal));
        if !same_group {
            groups.push((0, 0));
            previous = Some(score);
        }
        if let Some(group) = groups.last_mut() {
            if labels[row] {
                group.0 += 1;
            } else {
                group.1 += 1;
            }
        }
    }
    groups
}

fn check_lengths(scores: &[f64], labels: &[bool]) {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels must describe the same rows"
    );
}

/// Area under the ROC curve (probability that a random anomaly scores above a random normal
/// row, ties counting one half), exactly as scikit-learn's `roc_auc_score`.
///
/// Computed as the Mann-Whitney statistic with average ranks for ties, in exact integer
/// arithmetic and O(n log n) time. Returns NaN when either class is absent (scikit-learn raises
/// an error there) or when any score is NaN. Infinite scores are ranked normally.
///
/// # Panics
/// If `scores` and `labels` have different lengths (a caller bug: they must describe the
/// same rows).
///
/// # Example
/// ```
/// use gmmtune::eval::roc_auc;
/// let auc = roc_auc(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
/// assert_eq!(auc, 0.75);
/// assert!(roc_auc(&[1.0, 2.0], &[true, true]).is_nan());
/// ```
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> f64 {
    check_lengths(scores, labels);
    if scores.iter().any(|s| s.is_nan()) {
        return f64::NAN;
    }
    let positives = labels.iter().filter(|&&l| l).count() as u128;
    let negatives = labels.len() as u128 - positives;
    if positives == 0 || negatives == 0 {
        return f64::NAN;
    }
    // Twice the Mann-Whitney U: each (positive, negative) pair with the positive above counts 2,
    // a tied pair counts 1. Walking groups from the top, `negatives_below` is what remains.
    let mut twice_u: u128 = 0;
    let mut negatives_below = negatives;
    for (group_pos, group_neg) in tie_groups(scores, labels) {
        let (group_pos, group_neg) = (u128::from(group_pos), u128::from(group_neg));
        negatives_below -= group_neg;
        twice_u += group_pos * (2 * negatives_below + group_neg);
    }
    twice_u as f64 / (2 * positives * negatives) as f64
}

/// Average precision, exactly as scikit-learn's `average_precision_score`:
/// `AP = Σ_k (R_k − R_{k−1}) · P_k` over the distinct scores taken as thresholds from the
/// highest down, where `P_k`, `R_k` are precision and recall when every row scoring at least
/// the k-th distinct score is flagged (tied rows enter together, no interpolation).
///
/// Returns NaN when there is no anomaly (scikit-learn warns and returns 0 there) or when any
/// score is NaN. O(n log n).
///
/// # Panics
/// If `scores` and `labels` have different lengths.
///
/// # Example
/// ```
/// use gmmtune::eval::average_precision;
/// let ap = average_precision(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true]);
/// assert!((ap - 0.8333333333333333).abs() < 1e-15);
/// assert!(average_precision(&[1.0, 2.0], &[false, false]).is_nan());
/// ```
pub fn average_precision(scores: &[f64], labels: &[bool]) -> f64 {
    check_lengths(scores, labels);
    if scores.iter().any(|s| s.is_nan()) {
        return f64::NAN;
    }
    let positives = labels.iter().filter(|&&l| l).count() as u64;
    if positives == 0 {
        return f64::NAN;
    }
    let mut true_pos: u64 = 0;
    let mut flagged: u64 = 0;
    let mut sum = 0.0;
    for (group_pos, group_neg) in tie_groups(scores, labels) {
        true_pos += group_pos;
        flagged += group_pos + group_neg;
        if group_pos > 0 {
            let recall_step = group_pos as f64 / positives as f64;
            let precision = true_pos as f64 / flagged as f64;
            sum += recall_step * precision;
        }
    }
    sum
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_class_gives_nan() {
        assert!(roc_auc(&[0.1, 0.2, 0.3], &[true, true, true]).is_nan());
        assert!(roc_auc(&[0.1, 0.2, 0.3], &[false, false, false]).is_nan());
        assert!(roc_auc(&[], &[]).is_nan());
        assert!(average_precision(&[0.1, 0.2, 0.3], &[false, false, false]).is_nan());
        assert!(average_precision(&[], &[]).is_nan());
        // Only positives: every threshold has precision 1.
        assert_eq!(average_precision(&[0.1, 0.2], &[true, true]), 1.0);
    }

    #[test]
    fn perfect_and_inverse_ranking() {
        let scores = [0.1, 0.2, 0.3, 0.4, 0.5];
        let labels = [false, false, false, true, true];
        assert_eq!(roc_auc(&scores, &labels), 1.0);
        assert_eq!(average_precision(&scores, &labels), 1.0);
        let inverse: Vec<bool> = labels.iter().map(|l| !l).collect();
        assert_eq!(roc_auc(&scores, &inverse), 0.0);
        // Positives at ranks 3, 4, 5 from the top: (1/3)(1/3 + 2/4 + 3/5).
        let expected = (1.0 / 3.0 + 2.0 / 4.0 + 3.0 / 5.0) / 3.0;
        assert!((average_precision(&scores, &inverse) - expected).abs() < 1e-15);
    }

    #[test]
    fn constant_scores_give_chance_auc_and_prevalence_ap() {
        let scores = [2.0; 8];
        let labels = [true, false, false, true, false, false, false, false];
        assert_eq!(roc_auc(&scores, &labels), 0.5);
        assert_eq!(average_precision(&scores, &labels), 0.25);
    }

    #[test]
    fn signed_zeros_and_infinities_are_ranked_as_values() {
        let labels = [true, false];
        assert_eq!(roc_auc(&[0.0, -0.0], &labels), 0.5);
        assert_eq!(roc_auc(&[f64::INFINITY, 1e300], &labels), 1.0);
        assert_eq!(roc_auc(&[f64::NEG_INFINITY, 1.0], &labels), 0.0);
        assert_eq!(roc_auc(&[f64::INFINITY, f64::INFINITY], &labels), 0.5);
    }

    #[test]
    fn nan_scores_give_nan() {
        let labels = [true, false, true];
        assert!(roc_auc(&[0.3, f64::NAN, 0.1], &labels).is_nan());
        assert!(average_precision(&[0.3, f64::NAN, 0.1], &labels).is_nan());
    }

    #[test]
    fn auc_equals_pair_counting() {
        // Independent O(n^2) definition on tie-heavy data.
        let scores = [3.0, 1.0, 2.0, 2.0, 1.0, 3.0, 0.0, 2.0, 1.0, 3.0];
        let labels = [
            true, false, true, false, false, false, true, true, false, true,
        ];
        let mut wins = 0.0;
        let mut pairs = 0.0;
        for (i, &si) in scores.iter().enumerate() {
            for (j, &sj) in scores.iter().enumerate() {
                if labels[i] && !labels[j] {
                    pairs += 1.0;
                    wins += if si > sj {
                        1.0
                    } else if si == sj {
                        0.5
                    } else {
                        0.0
                    };
                }
            }
        }
        assert_eq!(roc_auc(&scores, &labels), wins / pairs);
    }

    #[test]
    #[should_panic(expected = "same rows")]
    fn mismatched_lengths_panic() {
        roc_auc(&[0.1, 0.2], &[true]);
    }
}
