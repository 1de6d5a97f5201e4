//! Hyperparameter effects: every distinct configuration measured on a dataset and seed, with
//! its test AUC raw and as a percentile within that dataset and seed, binned medians, and a
//! parameter-importance measure (the share of variance each hyperparameter explains alone).

use std::collections::{BTreeMap, HashMap};

use crate::gmm::{CovarianceType, InitMethod};
use crate::gmm_config::GmmConfig;
use crate::journal::TrialStatus;

use super::model::ReportModel;
use super::stats::{average_ranks, quantile};

/// One configuration measured on one dataset and seed.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigPoint {
    /// Index into the model's datasets.
    pub dataset: usize,
    /// The seed.
    pub seed: u64,
    /// The configuration.
    pub config: GmmConfig,
    /// Validation AUC.
    pub val_auc: Option<f64>,
    /// Test AUC.
    pub test_auc: f64,
    /// Test AUC as a percentile among the configurations of its dataset and seed (100 = the
    /// best, 0 = the worst, ties sharing their mean).
    pub percentile: f64,
    /// Whether an adaptive strategy (one that proposes from earlier results) measured it and no
    /// non-adaptive one did.
    pub adaptive_only: bool,
}

/// Every distinct configuration with a test AUC, per dataset and seed (a configuration
/// proposed by several strategies counts once: equal configurations get equal fits).
pub fn config_points(model: &ReportModel) -> Vec<ConfigPoint> {
    let mut blocks: BTreeMap<(usize, u64), Vec<ConfigPoint>> = BTreeMap::new();
    let mut seen: HashMap<(usize, u64, String), usize> = HashMap::new();
    for unit in &model.units {
        let adaptive = model.strategies[unit.strategy].adaptive();
        for r in &unit.trials {
            if r.status != TrialStatus::Ok {
                continue;
            }
            let Some(m) = &r.metrics else { continue };
            let Some(test_auc) = m.test_auc.filter(|v| v.is_finite()) else {
                continue;
            };
            let key = (unit.dataset, unit.seed, r.config.signature());
            let block = blocks.entry((unit.dataset, unit.seed)).or_default();
            match seen.get(&key) {
                Some(&i) => block[i].adaptive_only &= adaptive,
                None => {
                    seen.insert(key, block.len());
                    block.push(ConfigPoint {
                        dataset: unit.dataset,
                        seed: unit.seed,
                        config: r.config.clone(),
                        val_auc: m.val_auc,
                        test_auc,
                        percentile: 0.0,
                        adaptive_only: adaptive,
                    });
                }
            }
        }
    }
    let mut out = Vec::new();
    for (_, mut block) in blocks {
        let aucs: Vec<f64> = block.iter().map(|p| p.test_auc).collect();
        // Rank 1 = the lowest AUC, so the percentile grows with the AUC.
        let ranks = average_ranks(&aucs, false, 0.0);
        let n = block.len();
        for (p, r) in block.iter_mut().zip(ranks) {
            p.percentile = if n > 1 {
                100.0 * (r - 1.0) / (n - 1) as f64
            } else {
                100.0
            };
        }
        out.extend(block);
    }
    out
}

/// The bin of `n_components`: ⌊log₂ n⌋ (1, 2–3, 4–7, …).
pub fn components_bin(n: usize) -> usize {
    (usize::BITS - 1 - n.max(1).leading_zeros()) as usize
}

/// The bin of `reg_covar`: half decades, ⌊2·log₁₀ r⌋.
pub fn reg_covar_bin(r: f64) -> i64 {
    (2.0 * r.max(f64::MIN_POSITIVE).log10()).floor() as i64
}

/// A binned summary: the median x of the bin's points, and the 25th, 50th and 75th
/// percentiles of their y.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinSummary {
    /// Median x.
    pub x: f64,
    /// Median y.
    pub median: f64,
    /// 25th percentile of y.
    pub low: f64,
    /// 75th percentile of y.
    pub high: f64,
    /// Points in the bin.
    pub count: usize,
}

/// Medians of `points` grouped by `bin(x)`, in bin order.
///
/// ```
/// use gmmtune::report::effects::binned;
/// let points = [(1.0, 0.5), (1.0, 0.7), (2.0, 0.9), (3.0, 0.8)];
/// let bins = binned(&points, |x| (x >= 2.0) as i64);
/// assert_eq!(bins.len(), 2);
/// assert_eq!((bins[0].x, bins[0].median), (1.0, 0.6));
/// assert_eq!(bins[1].count, 2);
/// ```
pub fn binned(points: &[(f64, f64)], bin: impl Fn(f64) -> i64) -> Vec<BinSummary> {
    let mut groups: BTreeMap<i64, Vec<(f64, f64)>> = BTreeMap::new();
    for &(x, y) in points {
        if x.is_finite() && y.is_finite() {
            groups.entry(bin(x)).or_default().push((x, y));
        }
    }
    groups
        .into_values()
        .filter_map(|g| {
            let xs: Vec<f64> = g.iter().map(|p| p.0).collect();
            let ys: Vec<f64> = g.iter().map(|p| p.1).collect();
            Some(BinSummary {
                x: quantile(&xs, 0.5)?,
                median: quantile(&ys, 0.5)?,
                low: quantile(&ys, 0.25)?,
                high: quantile(&ys, 0.75)?,
                count: g.len(),
            })
        })
        .collect()
}

/// The hyperparameters, in the order the importance chart shows them.
pub const HYPERPARAMETERS: [&str; 4] = ["n_components", "covariance_type", "reg_covar", "init"];

/// The group of a configuration for hyperparameter `h` (index into [`HYPERPARAMETERS`]).
fn group_of(config: &GmmConfig, h: usize) -> i64 {
    match h {
        0 => components_bin(config.n_components) as i64,
        1 => match config.covariance_type {
            CovarianceType::Spherical => 0,
            CovarianceType::Diag => 1,
            CovarianceType::Tied => 2,
            CovarianceType::Full => 3,
        },
        2 => reg_covar_bin(config.reg_covar),
        _ => match config.init {
            InitMethod::KMeans => 0,
            InitMethod::KMeansPlusPlus => 1,
            InitMethod::Random => 2,
            InitMethod::RandomFromData => 3,
        },
    }
}

/// The share of the variance of `values` explained by the groups (η², the correlation ratio):
/// between-group over total sum of squares; `None` with one group or no variance.
///
/// ```
/// use gmmtune::report::effects::eta_squared;
/// assert_eq!(eta_squared(&[0.0, 0.0, 1.0, 1.0], &[0, 0, 1, 1]), Some(1.0));
/// assert_eq!(eta_squared(&[0.0, 1.0, 0.0, 1.0], &[0, 0, 1, 1]), Some(0.0));
/// ```
pub fn eta_squared(values: &[f64], groups: &[i64]) -> Option<f64> {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let total: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
    let mut by: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for (&v, &g) in values.iter().zip(groups) {
        let e = by.entry(g).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    if by.len() < 2 || total <= 1e-15 * n.max(1.0) {
        return None;
    }
    let between: f64 = by
        .values()
        .map(|&(sum, count)| count as f64 * (sum / count as f64 - mean).powi(2))
        .sum();
    Some((between / total).clamp(0.0, 1.0))
}

/// The importance of one hyperparameter for one figure, over dataset × seed blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Importance {
    /// The hyperparameter.
    pub hyperparameter: &'static str,
    /// The figure (`test AUC`, `validation AUC`).
    pub figure: &'static str,
    /// Mean η² over blocks.
    pub mean: f64,
    /// 25th percentile over blocks.
    pub low: f64,
    /// 75th percentile over blocks.
    pub high: f64,
    /// Blocks where it varied.
    pub blocks: usize,
}

/// The fewest configurations a block needs to enter the importance.
pub const MIN_BLOCK_CONFIGS: usize = 8;

/// Reads one figure of a configuration.
type FigureOf = fn(&ConfigPoint) -> Option<f64>;

/// Parameter importance: per dataset × seed block, η² of each hyperparameter (binned as the
/// charts bin it) for test AUC and validation AUC, then the mean and quartiles over blocks.
/// A block uses the configurations of non-adaptive strategies (grid, random, fixed) when it has
/// at least [`MIN_BLOCK_CONFIGS`] of them, since adaptive searches crowd good regions; else
/// all. Returns the importances and how many blocks used only non-adaptive configurations.
pub fn importance(points: &[ConfigPoint]) -> (Vec<Importance>, usize, usize) {
    let mut blocks: BTreeMap<(usize, u64), Vec<&ConfigPoint>> = BTreeMap::new();
    for p in points {
        blocks.entry((p.dataset, p.seed)).or_default().push(p);
    }
    let figures: [(&'static str, FigureOf); 2] = [
        ("test AUC", |p| Some(p.test_auc)),
        ("validation AUC", |p| p.val_auc),
    ];
    let mut values: BTreeMap<(usize, usize), Vec<f64>> = BTreeMap::new();
    let (mut balanced, mut used) = (0, 0);
    for block in blocks.values() {
        let plain: Vec<&ConfigPoint> = block.iter().copied().filter(|p| !p.adaptive_only).collect();
        let chosen = if plain.len() >= MIN_BLOCK_CONFIGS {
            balanced += 1;
            plain
        } else {
            block.clone()
        };
        if chosen.len() < MIN_BLOCK_CONFIGS {
            continue;
        }
        used += 1;
        for (f, (_, get)) in figures.iter().enumerate() {
            let rows: Vec<(&ConfigPoint, f64)> = chosen
                .iter()
                .filter_map(|p| get(p).filter(|v| v.is_finite()).map(|v| (*p, v)))
                .collect();
            if rows.len() < MIN_BLOCK_CONFIGS {
                continue;
            }
            let ys: Vec<f64> = rows.iter().map(|r| r.1).collect();
            for h in 0..HYPERPARAMETERS.len() {
                let groups: Vec<i64> = rows.iter().map(|r| group_of(&r.0.config, h)).collect();
                if let Some(e) = eta_squared(&ys, &groups) {
                    values.entry((f, h)).or_default().push(e);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (f, (figure, _)) in figures.iter().enumerate() {
        for (h, name) in HYPERPARAMETERS.iter().enumerate() {
            let Some(v) = values.get(&(f, h)) else {
                continue;
            };
            out.push(Importance {
                hyperparameter: name,
                figure,
                mean: v.iter().sum::<f64>() / v.len() as f64,
                low: quantile(v, 0.25).unwrap_or(f64::NAN),
                high: quantile(v, 0.75).unwrap_or(f64::NAN),
                blocks: v.len(),
            });
        }
    }
    (out, balanced, used)
}

/// Picks at most `max` points spread over datasets: each dataset keeps an equal share (what a
/// small dataset leaves is shared by the others), chosen by a seeded shuffle, so a cloud of
/// thousands of trials stays light and no dataset drowns the others. Returns the indices kept,
/// ascending.
///
/// ```
/// use gmmtune::report::effects::spread_sample;
/// let datasets: Vec<usize> = (0..1000).map(|i| if i < 900 { 0 } else { 1 }).collect();
/// let kept = spread_sample(&datasets, 200);
/// assert_eq!(kept.len(), 200);
/// assert_eq!(kept.iter().filter(|&&i| datasets[i] == 1).count(), 100);
/// ```
pub fn spread_sample(datasets: &[usize], max: usize) -> Vec<usize> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if datasets.len() <= max {
        return (0..datasets.len()).collect();
    }
    let mut by: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &d) in datasets.iter().enumerate() {
        by.entry(d).or_default().push(i);
    }
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    for v in by.values_mut() {
        v.shuffle(&mut rng);
    }
    // Smallest datasets first: each takes at most an even share of what is left.
    let mut groups: Vec<&Vec<usize>> = by.values().collect();
    groups.sort_by_key(|g| g.len());
    let mut left = max;
    let mut kept = Vec::with_capacity(max);
    for (i, g) in groups.iter().enumerate() {
        let take = g.len().min(left / (groups.len() - i));
        kept.extend(g.iter().take(take));
        left -= take;
    }
    kept.sort_unstable();
    kept
}
