//! The tests that compare methods across datasets: Wilcoxon's signed-rank test (paired, two
//! methods) and Friedman's test (several methods) with their average ranks, computed as
//! scipy.stats does (`wilcoxon` with its defaults, `friedmanchisquare`). The distributions come
//! from `statrs`; `scripts/gen_stats_fixtures.py` writes the scipy figures the tests hold.
//!
//! ```
//! use gmmtune::zeroshot::stats::wilcoxon;
//! // Differences 1, 2, 3, 4, 5, 6 and -7: no ties, so the exact distribution.
//! let a = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0];
//! let b = [9.0, 18.0, 27.0, 36.0, 45.0, 54.0, 77.0];
//! let test = wilcoxon(&a, &b).unwrap();
//! assert_eq!(test.statistic, 7.0); // the smaller rank sum
//! assert!((test.p_value - 0.296875).abs() < 1e-12); // 2 x 19 of 128 sign patterns (scipy)
//! ```

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// The result of a test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TestResult {
    /// The statistic (Wilcoxon: the smaller of the two signed-rank sums; Friedman: chi-square).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

pub use crate::eval::quantile;

/// Ranks of `values` from 1, ties getting the mean of the ranks they span (scipy's
/// `rankdata(method="average")`), and the sizes of the groups of ties.
pub fn average_ranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut ties = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let mut end = start + 1;
        while end < order.len() && values[order[end]] == values[order[start]] {
            end += 1;
        }
        let rank = (start + end + 1) as f64 / 2.0;
        for &i in &order[start..end] {
            ranks[i] = rank;
        }
        ties.push(end - start);
        start = end;
    }
    (ranks, ties)
}

/// Sum of the ranks of the positive differences, zeros left out (Wilcoxon's rule), and
/// whether any absolute differences tie.
fn signed_rank_sum(d: &[f64]) -> (f64, f64, usize, bool, f64) {
    let nonzero: Vec<f64> = d.iter().copied().filter(|&v| v != 0.0).collect();
    let abs: Vec<f64> = nonzero.iter().map(|v| v.abs()).collect();
    let (ranks, ties) = average_ranks(&abs);
    let r_plus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, r)| r)
        .sum();
    let r_minus: f64 = nonzero
        .iter()
        .zip(&ranks)
        .filter(|(v, _)| **v < 0.0)
        .map(|(_, r)| r)
        .sum();
    let tie_correction: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    (
        r_plus,
        r_minus,
        nonzero.len(),
        ties.iter().any(|&t| t > 1),
        tie_correction,
    )
}

/// Number of subsets of {1..n} with each rank sum: the exact null distribution of W+.
fn signed_rank_counts(n: usize) -> Vec<f64> {
    let max = n * (n + 1) / 2;
    let mut counts = vec![0.0; max + 1];
    counts[0] = 1.0;
    for k in 1..=n {
        for s in (k..=max).rev() {
            counts[s] += counts[s - k];
        }
    }
    counts
}

/// Wilcoxon's signed-rank test of the paired samples `x` and `y`, two-sided, as
/// `scipy.stats.wilcoxon(x, y)` computes it: zero differences are dropped; the exact null
/// distribution without ties or zeros when there are at most 50 pairs; with ties or zeros, the
/// exact sign-flip permutation distribution for at most 13 pairs and the normal approximation
/// (tie-corrected, no continuity correction) beyond; the normal approximation above 50 pairs.
/// `None` when the samples differ in length or every difference is zero.
pub fn wilcoxon(x: &[f64], y: &[f64]) -> Option<TestResult> {
    if x.len() != y.len() || x.is_empty() {
        return None;
    }
    let d: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).collect();
    let (r_plus, r_minus, count, has_ties, tie_correction) = signed_rank_sum(&d);
    if count == 0 {
        return None;
    }
    let zeros = d.len() - count;
    let statistic = r_plus.min(r_minus);
    let p_value = if d.len() > 50 || ((has_ties || zeros > 0) && d.len() > 13) {
        let n = count as f64;
        let mean = n * (n + 1.0) / 4.0;
        let se = ((n * (n + 1.0) * (2.0 * n + 1.0) - tie_correction / 2.0) / 24.0).sqrt();
        let z = (r_plus - mean) / se;
        let normal = Normal::new(0.0, 1.0).expect("the standard normal exists");
        (2.0 * normal.cdf(-z.abs())).min(1.0)
    } else if has_ties || zeros > 0 {
        permutation_p(&d, r_plus)
    } else {
        let counts = signed_rank_counts(count);
        let total: f64 = counts.iter().sum();
        let cdf = |w: f64| -> f64 {
            let upto = w.floor().max(-1.0);
            counts
                .iter()
                .enumerate()
                .filter(|(s, _)| (*s as f64) <= upto)
                .map(|(_, c)| c)
                .sum::<f64>()
                / total
        };
        let sf = |w: f64| -> f64 {
            counts
                .iter()
                .enumerate()
                .filter(|(s, _)| (*s as f64) > w)
                .map(|(_, c)| c)
                .sum::<f64>()
                / total
        };
        // scipy: 2 min(P(W >= floor r+), P(W <= ceil r+)).
        let upper = sf(r_plus.floor() - 1.0);
        let lower = cdf(r_plus.ceil());
        (2.0 * upper.min(lower)).clamp(0.0, 1.0)
    };
    Some(TestResult { statistic, p_value })
}

/// Two-sided p-value of `observed` among the signed-rank sums of every sign pattern of `d`.
fn permutation_p(d: &[f64], observed: f64) -> f64 {
    let n = d.len();
    let patterns = 1usize << n;
    let gamma = observed.abs() * 1e-14;
    let (mut below, mut above) = (0usize, 0usize);
    let mut flipped = d.to_vec();
    for mask in 0..patterns {
        for (i, v) in flipped.iter_mut().enumerate() {
            *v = if mask & (1 << i) != 0 { -d[i] } else { d[i] };
        }
        let (r_plus, ..) = signed_rank_sum(&flipped);
        if r_plus <= observed + gamma {
            below += 1;
        }
        if r_plus >= observed - gamma {
            above += 1;
        }
    }
    let p = 2.0 * (below.min(above) as f64) / patterns as f64;
    p.min(1.0)
}

/// Friedman's test of `k` methods over `n` blocks (`scores[block][method]`, higher or lower
/// alike: only the order within a block counts), as `scipy.stats.friedmanchisquare` computes
/// it (average ranks for ties, tie-corrected statistic, chi-square with `k - 1` degrees of
/// freedom). Also returns each method's average rank, rank 1 going to the largest score.
/// `None` with fewer than 2 blocks or 3 methods (scipy's minimum), or rows of unequal length.
pub fn friedman(scores: &[Vec<f64>]) -> Option<(TestResult, Vec<f64>)> {
    let n = scores.len();
    let k = scores.first()?.len();
    if n < 2 || k < 3 || scores.iter().any(|row| row.len() != k) {
        return None;
    }
    let mut rank_sums = vec![0.0; k];
    let mut ties_total = 0.0;
    let mut descending_sums = vec![0.0; k];
    for row in scores {
        let (ranks, ties) = average_ranks(row);
        for (j, r) in ranks.iter().enumerate() {
            rank_sums[j] += r;
            descending_sums[j] += (k + 1) as f64 - r;
        }
        ties_total += ties.iter().map(|&t| (t * t * t - t) as f64).sum::<f64>();
    }
    let (nf, kf) = (n as f64, k as f64);
    let ssbn: f64 = rank_sums.iter().map(|r| r * r).sum();
    let c = 1.0 - ties_total / (kf * (kf * kf - 1.0) * nf);
    let statistic = (12.0 / (kf * nf * (kf + 1.0)) * ssbn - 3.0 * nf * (kf + 1.0)) / c;
    let chi2 = ChiSquared::new(kf - 1.0).expect("k >= 3 gives positive degrees of freedom");
    let p_value = if statistic.is_finite() {
        chi2.sf(statistic)
    } else {
        f64::NAN
    };
    let average = descending_sums.iter().map(|s| s / nf).collect();
    Some((TestResult { statistic, p_value }, average))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_ranks_share_ties() {
        let (r, t) = average_ranks(&[3.0, 1.0, 3.0, 2.0]);
        assert_eq!(r, [3.5, 1.0, 3.5, 2.0]);
        assert_eq!(t, [1, 1, 2]);
    }

    #[test]
    fn exact_distribution_sums_to_two_to_the_n() {
        let counts = signed_rank_counts(10);
        assert_eq!(counts.iter().sum::<f64>(), 1024.0);
        assert_eq!(counts.len(), 56);
    }

    #[test]
    fn degenerate_inputs_give_none() {
        assert!(wilcoxon(&[1.0, 2.0], &[1.0, 2.0]).is_none());
        assert!(wilcoxon(&[1.0], &[1.0, 2.0]).is_none());
        assert!(friedman(&[vec![1.0, 2.0, 3.0]]).is_none());
        assert!(friedman(&[vec![1.0, 2.0], vec![2.0, 1.0]]).is_none());
    }
}
