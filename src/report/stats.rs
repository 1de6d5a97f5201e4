//! The statistics of a comparison: means and spreads, ranks with ties, Friedman's test with
//! Iman and Davenport's F form, and the Nemenyi critical difference of average ranks
//! (Demšar 2006, "Statistical comparisons of classifiers over multiple data sets").
//!
//! Checked against SciPy (`scripts/gen_report_fixtures.py`, `tests/report_numerics.rs`).

use statrs::distribution::{ChiSquared, ContinuousCDF, FisherSnedecor};

/// Mean of the finite values; `None` when there are none.
///
/// ```
/// use gmmtune::report::stats::mean;
/// assert_eq!(mean(&[1.0, 2.0, f64::NAN, 6.0]), Some(3.0));
/// assert_eq!(mean(&[]), None);
/// ```
pub fn mean(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    (!finite.is_empty()).then(|| finite.iter().sum::<f64>() / finite.len() as f64)
}

/// Sample standard deviation (n − 1) of the finite values; `None` for fewer than two.
///
/// ```
/// use gmmtune::report::stats::sample_sd;
/// assert_eq!(sample_sd(&[1.0, 3.0]), Some(2f64.sqrt()));
/// assert_eq!(sample_sd(&[1.0]), None);
/// ```
pub fn sample_sd(values: &[f64]) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.len() < 2 {
        return None;
    }
    let m = finite.iter().sum::<f64>() / finite.len() as f64;
    let ss: f64 = finite.iter().map(|v| (v - m).powi(2)).sum();
    Some((ss / (finite.len() - 1) as f64).sqrt())
}

/// The `q` quantile of the finite values with linear interpolation between order statistics
/// (NumPy's default); `None` when there are none.
///
/// ```
/// use gmmtune::report::stats::quantile;
/// assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
/// assert_eq!(quantile(&[4.0, 1.0, 3.0, 2.0], 1.0), Some(4.0));
/// ```
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    crate::eval::quantile(&finite, q.clamp(0.0, 1.0))
}

/// Ranks of `values`, 1 for the best (the highest when `higher_is_better`), equal values
/// sharing the mean of their ranks; values within `tie` of the first of a run of sorted values
/// count as equal. Non-finite values rank last (sharing their ranks).
///
/// ```
/// use gmmtune::report::stats::average_ranks;
/// assert_eq!(average_ranks(&[0.9, 0.7, 0.9], true, 0.0), vec![1.5, 3.0, 1.5]);
/// assert_eq!(average_ranks(&[0.9, 0.7, 0.90001], true, 1e-4), vec![1.5, 3.0, 1.5]);
/// assert_eq!(average_ranks(&[5.0, 1.0], false, 0.0), vec![2.0, 1.0]);
/// ```
pub fn average_ranks(values: &[f64], higher_is_better: bool, tie: f64) -> Vec<f64> {
    let key = |v: f64| {
        if !v.is_finite() {
            f64::INFINITY
        } else if higher_is_better {
            -v
        } else {
            v
        }
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| key(values[a]).total_cmp(&key(values[b])));
    let mut ranks = vec![0.0; values.len()];
    let mut start = 0;
    while start < order.len() {
        let first = key(values[order[start]]);
        let mut end = start + 1;
        while end < order.len() {
            let k = key(values[order[end]]);
            let same = if first.is_infinite() {
                k.is_infinite()
            } else {
                (k - first).abs() <= tie
            };
            if !same {
                break;
            }
            end += 1;
        }
        let rank = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        start = end;
    }
    ranks
}

/// Friedman's test of k treatments over N blocks (datasets), from the ranks within each block.
#[derive(Debug, Clone, PartialEq)]
pub struct Friedman {
    /// Blocks (datasets).
    pub blocks: usize,
    /// Treatments (strategies).
    pub treatments: usize,
    /// Average rank of each treatment (1 = best).
    pub average_ranks: Vec<f64>,
    /// Friedman's χ² with the tie correction (as SciPy's `friedmanchisquare`).
    pub chi_square: f64,
    /// Its p-value (χ² with k − 1 degrees of freedom).
    pub p_value: f64,
    /// Iman and Davenport's F = (N − 1)χ² / (N(k − 1) − χ²).
    pub iman_davenport_f: f64,
    /// Its p-value (F with k − 1 and (k − 1)(N − 1) degrees of freedom).
    pub iman_davenport_p: f64,
}

/// Friedman's test on `ranks[block][treatment]` (ranks within each block, ties averaged).
/// `None` with fewer than 2 treatments or 2 blocks, or when every block ties everything.
///
/// ```
/// use gmmtune::report::stats::friedman;
/// let ranks = vec![vec![1.0, 2.0, 3.0]; 6];
/// let f = friedman(&ranks).unwrap();
/// assert_eq!(f.average_ranks, vec![1.0, 2.0, 3.0]);
/// assert!((f.chi_square - 12.0).abs() < 1e-12 && f.p_value < 0.01);
/// ```
pub fn friedman(ranks: &[Vec<f64>]) -> Option<Friedman> {
    let n = ranks.len();
    let k = ranks.first()?.len();
    if n < 2 || k < 2 || ranks.iter().any(|r| r.len() != k) {
        return None;
    }
    let (nf, kf) = (n as f64, k as f64);
    let average: Vec<f64> = (0..k)
        .map(|j| ranks.iter().map(|r| r[j]).sum::<f64>() / nf)
        .collect();
    let sum_sq: f64 = (0..k)
        .map(|j| ranks.iter().map(|r| r[j]).sum::<f64>().powi(2))
        .sum();
    let raw = 12.0 / (nf * kf * (kf + 1.0)) * sum_sq - 3.0 * nf * (kf + 1.0);
    // Tie correction: Σ over blocks and tie groups of (t³ − t).
    let mut ties = 0.0;
    for r in ranks {
        let mut sorted = r.clone();
        sorted.sort_by(f64::total_cmp);
        let mut i = 0;
        while i < sorted.len() {
            let mut j = i + 1;
            while j < sorted.len() && sorted[j] == sorted[i] {
                j += 1;
            }
            let t = (j - i) as f64;
            ties += t * t * t - t;
            i = j;
        }
    }
    let correction = 1.0 - ties / (nf * kf * (kf * kf - 1.0));
    if correction <= 0.0 {
        return None;
    }
    let chi_square = raw / correction;
    let df = kf - 1.0;
    let p_value = ChiSquared::new(df).ok()?.sf(chi_square.max(0.0));
    let denominator = nf * (kf - 1.0) - chi_square;
    let (iman_davenport_f, iman_davenport_p) = if denominator > 0.0 {
        let f = (nf - 1.0) * chi_square / denominator;
        let p = FisherSnedecor::new(df, df * (nf - 1.0))
            .ok()?
            .sf(f.max(0.0));
        (f, p)
    } else {
        (f64::INFINITY, 0.0)
    };
    Some(Friedman {
        blocks: n,
        treatments: k,
        average_ranks: average,
        chi_square,
        p_value,
        iman_davenport_f,
        iman_davenport_p,
    })
}

/// q(α = 0.05, k, ∞) of the studentized range divided by √2, for k = 2 … 20 treatments
/// (SciPy's `studentized_range.ppf(0.95, k, inf) / sqrt(2)`, as in Demšar's table 5).
pub const NEMENYI_Q_05: [f64; 19] = [
    1.959964, 2.343701, 2.569032, 2.727774, 2.849705, 2.948320, 3.030878, 3.101730, 3.163684,
    3.218654, 3.268004, 3.312739, 3.353618, 3.391230, 3.426041, 3.458425, 3.488685, 3.517073,
    3.543799,
];

/// The Nemenyi critical difference at α = 0.05: two of `k` treatments ranked over `n` blocks
/// differ significantly when their average ranks differ by more than this. `None` outside
/// 2 ≤ k ≤ 20 or without blocks.
///
/// ```
/// use gmmtune::report::stats::nemenyi_cd;
/// // Demšar's example: k = 4 classifiers over N = 14 data sets, CD = 1.25.
/// assert!((nemenyi_cd(4, 14).unwrap() - 1.2536).abs() < 1e-3);
/// ```
pub fn nemenyi_cd(k: usize, n: usize) -> Option<f64> {
    if !(2..=20).contains(&k) || n == 0 {
        return None;
    }
    let q = NEMENYI_Q_05[k - 2];
    Some(q * ((k * (k + 1)) as f64 / (6.0 * n as f64)).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_put_non_finite_values_last() {
        assert_eq!(
            average_ranks(&[f64::NAN, 0.5, f64::NAN], true, 0.0),
            vec![2.5, 1.0, 2.5]
        );
    }

    #[test]
    fn friedman_refuses_degenerate_input() {
        assert!(friedman(&[vec![1.0, 2.0]]).is_none());
        assert!(friedman(&[vec![1.5, 1.5], vec![1.5, 1.5]]).is_none());
        assert!(friedman(&[]).is_none());
    }
}
