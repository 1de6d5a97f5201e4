//! The curves of a selected configuration: the ROC curve (as scikit-learn's `roc_curve`) and
//! the cost of each threshold (the cost model's step function), with the downsampling that
//! keeps a report of many datasets small.

use crate::eval::{CostModel, CostProfile};

/// The ROC curve of `scores` (higher = more anomalous) against `labels`: false and true
/// positive rates at each distinct score used as a threshold (`score >= threshold` alarms),
/// from (0, 0), exactly as scikit-learn's `roc_curve`; with `drop_intermediate`, points that
/// are not corners are left out the way scikit-learn leaves them out. Empty when a class is
/// missing or a score is NaN.
///
/// ```
/// use gmmtune::report::curves::roc_curve;
/// let (fpr, tpr) = roc_curve(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], false);
/// assert_eq!(fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
/// assert_eq!(tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
/// ```
pub fn roc_curve(scores: &[f64], labels: &[bool], drop_intermediate: bool) -> (Vec<f64>, Vec<f64>) {
    assert_eq!(
        scores.len(),
        labels.len(),
        "scores and labels must describe the same rows"
    );
    if scores.iter().any(|s| s.is_nan()) {
        return (Vec::new(), Vec::new());
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    // Cumulative counts at the last row of each group of equal scores.
    let (mut fps, mut tps) = (Vec::new(), Vec::new());
    let (mut fp, mut tp) = (0.0f64, 0.0f64);
    for (i, &row) in order.iter().enumerate() {
        if labels[row] {
            tp += 1.0;
        } else {
            fp += 1.0;
        }
        let last_of_group = i + 1 == order.len() || scores[order[i + 1]] != scores[row];
        if last_of_group {
            fps.push(fp);
            tps.push(tp);
        }
    }
    if fp == 0.0 || tp == 0.0 {
        return (Vec::new(), Vec::new());
    }
    if drop_intermediate && fps.len() > 2 {
        let keep: Vec<usize> = (0..fps.len())
            .filter(|&i| {
                i == 0
                    || i + 1 == fps.len()
                    || fps[i + 1] - 2.0 * fps[i] + fps[i - 1] != 0.0
                    || tps[i + 1] - 2.0 * tps[i] + tps[i - 1] != 0.0
            })
            .collect();
        fps = keep.iter().map(|&i| fps[i]).collect();
        tps = keep.iter().map(|&i| tps[i]).collect();
    }
    let fpr = std::iter::once(0.0)
        .chain(fps.iter().map(|v| v / fp))
        .collect();
    let tpr = std::iter::once(0.0)
        .chain(tps.iter().map(|v| v / tp))
        .collect();
    (fpr, tpr)
}

/// The operating point of a threshold: false and true positive rates of the rows whose score is
/// strictly above it (how gmmtune alarms; NaN scores alarm). `None` when a class is missing.
///
/// ```
/// use gmmtune::report::curves::operating_point;
/// let p = operating_point(&[0.1, 0.4, 0.35, 0.8], &[false, false, true, true], 0.375);
/// assert_eq!(p, Some((0.5, 0.5)));
/// ```
pub fn operating_point(scores: &[f64], labels: &[bool], threshold: f64) -> Option<(f64, f64)> {
    let (mut fp, mut tp, mut negatives, mut positives) = (0usize, 0usize, 0usize, 0usize);
    for (&s, &l) in scores.iter().zip(labels) {
        let alarm = s.is_nan() || s > threshold;
        if l {
            positives += 1;
            tp += usize::from(alarm);
        } else {
            negatives += 1;
            fp += usize::from(alarm);
        }
    }
    (positives > 0 && negatives > 0)
        .then(|| (fp as f64 / negatives as f64, tp as f64 / positives as f64))
}

/// The cost of every threshold on these rows: `(t, cost(t))` at each distinct finite score
/// `t` (rows strictly above `t` alarm, so the cost holds from `t` up to the next point: draw
/// it as a step line), preceded by a point just below the lowest score (every row alarms).
///
/// ```
/// use gmmtune::eval::CostModel;
/// use gmmtune::report::curves::cost_curve;
/// let model = CostModel::new(1.0, 5.0, 0).unwrap();
/// let curve = cost_curve(&model, &[0.1, 0.7, 0.2, 0.9], &[false, true, false, true]);
/// let costs: Vec<f64> = curve.iter().map(|p| p.1).collect();
/// assert_eq!(costs, vec![2.0, 1.0, 0.0, 5.0, 10.0]);
/// ```
pub fn cost_curve(model: &CostModel, scores: &[f64], labels: &[bool]) -> Vec<(f64, f64)> {
    let profile = CostProfile::new(scores, labels, model.tolerance);
    let mut thresholds: Vec<f64> = scores.iter().copied().filter(|s| s.is_finite()).collect();
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    let Some(&lowest) = thresholds.first() else {
        return Vec::new();
    };
    let below = lowest - lowest.abs().max(1.0) * 1e-9;
    std::iter::once(below)
        .chain(thresholds)
        .map(|t| (t, profile.evaluate(model, t).1))
        .collect()
}

/// Keeps at most about `max_points` points of a polyline sorted by x: the first and last, and
/// in each of `max_points / 2` equal-width x buckets the points with the lowest and highest y
/// (in x order), so minima, maxima and steps survive.
///
/// ```
/// use gmmtune::report::curves::downsample_min_max;
/// let points: Vec<(f64, f64)> = (0..10_000).map(|i| (i as f64, ((i * 7919) % 1000) as f64)).collect();
/// let kept = downsample_min_max(&points, 200);
/// assert!(kept.len() <= 202);
/// assert_eq!(kept.iter().map(|p| p.1).fold(f64::INFINITY, f64::min), 0.0);
/// assert_eq!(kept.iter().map(|p| p.1).fold(0.0, f64::max), 999.0);
/// ```
pub fn downsample_min_max(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points.max(4) {
        return points.to_vec();
    }
    let buckets = (max_points / 2).max(1);
    let (x0, x1) = (points[0].0, points[points.len() - 1].0);
    let width = (x1 - x0) / buckets as f64;
    let mut keep = vec![false; points.len()];
    keep[0] = true;
    keep[points.len() - 1] = true;
    let mut start = 0;
    while start < points.len() {
        let bucket = if width > 0.0 {
            (((points[start].0 - x0) / width).floor() as usize).min(buckets - 1)
        } else {
            0
        };
        let mut end = start + 1;
        while end < points.len() {
            let b = if width > 0.0 {
                (((points[end].0 - x0) / width).floor() as usize).min(buckets - 1)
            } else {
                0
            };
            if b != bucket {
                break;
            }
            end += 1;
        }
        let slice = &points[start..end];
        let lowest = (0..slice.len()).min_by(|&a, &b| slice[a].1.total_cmp(&slice[b].1));
        let highest = (0..slice.len()).max_by(|&a, &b| slice[a].1.total_cmp(&slice[b].1));
        for i in lowest.into_iter().chain(highest) {
            keep[start + i] = true;
        }
        start = end;
    }
    points
        .iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(*p))
        .collect()
}

/// Keeps at most `max_points` points of a curve by taking every n-th (always the first and the
/// last); curves with fewer points are returned as they are.
///
/// ```
/// use gmmtune::report::curves::thin;
/// let points: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, i as f64)).collect();
/// let kept = thin(&points, 100);
/// assert!(kept.len() <= 101 && kept[0] == (0.0, 0.0) && *kept.last().unwrap() == (999.0, 999.0));
/// ```
pub fn thin(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points.max(2) {
        return points.to_vec();
    }
    let step = points.len().div_ceil(max_points.max(2) - 1);
    let mut out: Vec<(f64, f64)> = points.iter().step_by(step).copied().collect();
    if out.last() != points.last() {
        out.push(points[points.len() - 1]);
    }
    out
}
