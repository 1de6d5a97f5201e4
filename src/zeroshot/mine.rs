//! Mining a [`Portfolio`] from the evidence of some datasets: the single best practice, FLAML's
//! greedy excess-regret portfolio, the mining datasets as neighbours, and per hyperparameter the
//! value that does best and any rule in a meta-feature that beats the constant.

use super::evidence::Evidence;
use super::meta_features::{MetaFeatures, META_FEATURE_NAMES};
use super::portfolio::{
    hyperparameter, set_hyperparameter, HyperparameterStudy, LabelFreeThreshold,
    MetaFeatureScaling, Neighbour, Portfolio, PortfolioConfig, Provenance, Rule, ValueStudy,
    HYPERPARAMETERS, PORTFOLIO_FORMAT,
};
use super::regret::{RegretTable, Score};
use super::stats::{average_ranks, quantile};
use super::ZeroshotError;
use crate::gmm_config::GmmConfig;
use crate::journal::GMMTUNE_VERSION;

/// FLAML's regret bound: a dataset counts as served once a portfolio configuration is within
/// this much AUC of its best.
pub const DEFAULT_REGRET_BOUND: f64 = 0.01;

/// The most configurations the greedy step adds.
pub const MAX_PORTFOLIO: usize = 24;

/// Fewest mining datasets on each side of a rule's step.
pub const MIN_RULE_SIDE: usize = 4;

/// The meta-features the distance between datasets uses by default: the ones the
/// leave-one-family-out evaluation found to transfer best (`reports/zeroshot/`).
pub const DEFAULT_DISTANCE: [&str; 12] = META_FEATURE_NAMES;

/// How to mine.
#[derive(Debug, Clone, PartialEq)]
pub struct MineOptions {
    /// The figures regrets are measured in.
    pub score: Score,
    /// FLAML's regret bound.
    pub regret_bound: f64,
    /// The meta-features of the distance.
    pub distance: Vec<String>,
}

impl Default for MineOptions {
    fn default() -> Self {
        MineOptions {
            score: Score::ValAuc,
            regret_bound: DEFAULT_REGRET_BOUND,
            distance: DEFAULT_DISTANCE.iter().map(|s| s.to_string()).collect(),
        }
    }
}

/// Mines a portfolio from `datasets` (indices into `evidence.datasets`).
///
/// Errors: no dataset, no configuration measured on every dataset and seed, a dataset and seed
/// whose trials all failed.
pub fn mine(
    evidence: &Evidence,
    datasets: &[usize],
    options: &MineOptions,
) -> Result<Portfolio, ZeroshotError> {
    let table = RegretTable::build(evidence, datasets, options.score)?;
    let candidates = table.configs.len();
    let regret = RegretTable::seed_mean(&table.regret);
    let cost = RegretTable::seed_mean(&table.cost_regret);
    let mean = |values: &[Vec<f64>], c: usize| -> f64 {
        values.iter().map(|d| d[c]).sum::<f64>() / values.len() as f64
    };
    let rank = RegretTable::seed_mean(&table.rank);
    let best = (0..candidates)
        .min_by(|&a, &b| {
            mean(&regret, a)
                .total_cmp(&mean(&regret, b))
                .then(mean(&rank, a).total_cmp(&mean(&rank, b)))
                .then(a.cmp(&b))
        })
        .expect("candidates exist");

    let mut chosen: Vec<(usize, String)> = greedy(&regret, options.regret_bound)
        .into_iter()
        .enumerate()
        .map(|(step, c)| (c, format!("greedy step {}", step + 1)))
        .collect();
    if let Some((_, role)) = chosen.iter_mut().find(|(c, _)| *c == best) {
        role.push_str(", best practice");
    } else {
        chosen.push((best, "best practice".into()));
    }
    let default = GmmConfig::default().signature();
    let sklearn = table.configs.iter().position(|c| c.signature() == default);
    if let Some(d) = sklearn {
        match chosen.iter_mut().find(|(c, _)| *c == d) {
            Some((_, role)) => role.push_str(", scikit-learn default"),
            None => chosen.push((d, "scikit-learn default".into())),
        }
    }
    let configs: Vec<PortfolioConfig> = chosen
        .iter()
        .map(|(c, role)| PortfolioConfig {
            config: table.configs[*c].clone(),
            role: role.clone(),
            mean_regret: mean(&regret, *c),
            regret_seed_spread: RegretTable::seed_spread_of(&table.regret, *c),
            mean_cost_regret: mean(&cost, *c),
            mean_rank: mean(&rank, *c),
        })
        .collect();
    let position = |c: usize| chosen.iter().position(|(x, _)| *x == c);

    let metas: Vec<MetaFeatures> = datasets
        .iter()
        .map(|&d| {
            let seeds: Vec<MetaFeatures> = evidence.datasets[d]
                .seeds
                .iter()
                .map(|s| s.meta.clone())
                .collect();
            MetaFeatures::mean(&seeds).expect("every dataset has a seed")
        })
        .collect();
    let scaling = robust_scaling(&metas, &options.distance);
    let neighbours = datasets
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let r: Vec<f64> = chosen.iter().map(|(c, _)| regret[i][*c]).collect();
            let mut choice: Vec<usize> = (0..r.len()).collect();
            choice.sort_by(|&a, &b| r[a].total_cmp(&r[b]).then(a.cmp(&b)));
            Neighbour {
                dataset: evidence.datasets[d].name.clone(),
                family: evidence.datasets[d].family.clone(),
                meta_features: metas[i].values.clone(),
                regret: r,
                cost_regret: chosen.iter().map(|(c, _)| cost[i][*c]).collect(),
                choice,
            }
        })
        .collect();
    let hyperparameters = HYPERPARAMETERS
        .iter()
        .map(|h| study(&table, best, h, &metas))
        .collect();
    let mut families: Vec<String> = Vec::new();
    for &d in datasets {
        if !families.contains(&evidence.datasets[d].family) {
            families.push(evidence.datasets[d].family.clone());
        }
    }
    Ok(Portfolio {
        format: PORTFOLIO_FORMAT,
        gmmtune_version: GMMTUNE_VERSION.into(),
        description: format!(
            "Mined on {} datasets of {} families, {} seeds each, from {} candidate configurations; regrets in {}.",
            datasets.len(),
            families.len(),
            evidence.seeds().len(),
            candidates,
            options.score.as_str()
        ),
        provenance: Provenance {
            runs: evidence.sources.clone(),
            datasets: datasets
                .iter()
                .map(|&d| evidence.datasets[d].name.clone())
                .collect(),
            families,
            seeds: evidence.seeds(),
            score: options.score,
            regret_bound: options.regret_bound,
            candidates,
        },
        label_free_threshold: LabelFreeThreshold {
            quantile: evidence.score_quantile,
        },
        meta_features: scaling,
        best_practice: position(best).expect("the best practice is in the portfolio"),
        sklearn_default: sklearn.and_then(position),
        configs,
        neighbours,
        hyperparameters,
    })
}

/// FLAML's greedy portfolio over `regret[dataset][candidate]`: repeatedly add the candidate
/// that most lowers the excess regret (the sum over datasets of how far the portfolio's best
/// regret there exceeds `bound`), ties by the mean of those best regrets; stop once the excess
/// is zero, when an addition lowers neither, or at [`MAX_PORTFOLIO`].
pub fn greedy(regret: &[Vec<f64>], bound: f64) -> Vec<usize> {
    let candidates = regret.first().map_or(0, Vec::len);
    let mut best_so_far = vec![f64::INFINITY; regret.len()];
    let mut chosen: Vec<usize> = Vec::new();
    let mut current = (f64::INFINITY, f64::INFINITY);
    while chosen.len() < MAX_PORTFOLIO.min(candidates) {
        let score = |c: usize| -> (f64, f64) {
            let mut excess = 0.0;
            let mut total = 0.0;
            for (d, row) in regret.iter().enumerate() {
                let r = best_so_far[d].min(row[c]);
                excess += (r - bound).max(0.0);
                total += r;
            }
            (excess, total / regret.len() as f64)
        };
        let Some((c, s)) = (0..candidates)
            .filter(|c| !chosen.contains(c))
            .map(|c| (c, score(c)))
            .min_by(|a, b| {
                a.1 .0
                    .total_cmp(&b.1 .0)
                    .then(a.1 .1.total_cmp(&b.1 .1))
                    .then(a.0.cmp(&b.0))
            })
        else {
            break;
        };
        let lowers = s.0 < current.0 - 1e-12 || s.1 < current.1 - 1e-12;
        if !chosen.is_empty() && !lowers {
            break;
        }
        chosen.push(c);
        for (d, row) in regret.iter().enumerate() {
            best_so_far[d] = best_so_far[d].min(row[c]);
        }
        current = s;
        if s.0 <= 1e-12 {
            break;
        }
    }
    chosen
}

/// Median and interquartile range (1 where it is 0) of each meta-feature over the mining
/// datasets.
fn robust_scaling(metas: &[MetaFeatures], distance: &[String]) -> MetaFeatureScaling {
    let m = META_FEATURE_NAMES.len();
    let (mut center, mut scale) = (Vec::with_capacity(m), Vec::with_capacity(m));
    for j in 0..m {
        let column: Vec<f64> = metas.iter().map(|x| x.values[j]).collect();
        center.push(quantile(&column, 0.5).unwrap_or(0.0));
        let iqr = quantile(&column, 0.75).unwrap_or(0.0) - quantile(&column, 0.25).unwrap_or(0.0);
        scale.push(if iqr > 1e-12 { iqr } else { 1.0 });
    }
    MetaFeatureScaling {
        names: META_FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
        distance: distance.to_vec(),
        center,
        scale,
    }
}

/// Candidates that differ from the best practice in hyperparameter `name` only, with the value
/// each takes (the best practice's own among them).
pub fn slice(table: &RegretTable, best: usize, name: &str) -> Vec<(usize, String)> {
    let base = &table.configs[best];
    let mut out: Vec<(usize, String)> = Vec::new();
    for (c, config) in table.configs.iter().enumerate() {
        let value = hyperparameter(config, name);
        let mut probe = base.clone();
        set_hyperparameter(&mut probe, name, &value).expect("values read back");
        if probe.signature() == config.signature() && !out.iter().any(|(_, v)| *v == value) {
            out.push((c, value));
        }
    }
    out
}

/// How each value of `name` does with the others at the best practice's values, and the best
/// rule in one meta-feature.
fn study(
    table: &RegretTable,
    best: usize,
    name: &str,
    metas: &[MetaFeatures],
) -> HyperparameterStudy {
    let values = slice(table, best, name);
    let regret = RegretTable::seed_mean(&table.regret);
    // Rank among the values of the slice, per dataset and seed, then averaged.
    let mut rank_sum = vec![0.0; values.len()];
    let mut count = 0.0;
    for seeds in &table.auc {
        for s in seeds {
            let negated: Vec<f64> = values.iter().map(|(c, _)| -s[*c]).collect();
            let (ranks, _) = average_ranks(&negated);
            for (r, x) in rank_sum.iter_mut().zip(ranks) {
                *r += x;
            }
            count += 1.0;
        }
    }
    let studies: Vec<ValueStudy> = values
        .iter()
        .enumerate()
        .map(|(i, (c, v))| ValueStudy {
            value: v.clone(),
            mean_rank: rank_sum[i] / count,
            mean_regret: regret.iter().map(|d| d[*c]).sum::<f64>() / regret.len() as f64,
            regret_seed_spread: RegretTable::seed_spread_of(&table.regret, *c),
        })
        .collect();
    let rule = best_rule(&regret, &values, metas, name);
    HyperparameterStudy {
        name: name.into(),
        best: hyperparameter(&table.configs[best], name),
        values: studies,
        rule,
    }
}

/// The step in one meta-feature (at least [`MIN_RULE_SIDE`] mining datasets on each side) whose
/// two values give the lowest mean regret, when it is lower than the best constant's.
fn best_rule(
    regret: &[Vec<f64>],
    values: &[(usize, String)],
    metas: &[MetaFeatures],
    name: &str,
) -> Option<Rule> {
    let n = regret.len();
    if values.len() < 2 || n < 2 * MIN_RULE_SIDE {
        return None;
    }
    let total = |rows: &[usize], c: usize| rows.iter().map(|&d| regret[d][c]).sum::<f64>();
    let all: Vec<usize> = (0..n).collect();
    let constant_total = values
        .iter()
        .map(|(c, _)| total(&all, *c))
        .fold(f64::INFINITY, f64::min);
    let mut best: Option<(f64, Rule)> = None;
    for (j, feature) in META_FEATURE_NAMES.iter().enumerate() {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| metas[a].values[j].total_cmp(&metas[b].values[j]));
        for cut in MIN_RULE_SIDE..=(n - MIN_RULE_SIDE) {
            let (lo, hi) = (metas[order[cut - 1]].values[j], metas[order[cut]].values[j]);
            if lo == hi {
                continue;
            }
            let side = |rows: &[usize]| {
                values
                    .iter()
                    .map(|(c, v)| (v.clone(), total(rows, *c)))
                    .min_by(|a, b| a.1.total_cmp(&b.1))
                    .expect("values exist")
            };
            let (below, below_total) = side(&order[..cut]);
            let (above, above_total) = side(&order[cut..]);
            if below == above {
                continue;
            }
            let sum = below_total + above_total;
            if best.as_ref().is_none_or(|(b, _)| sum < *b - 1e-12) {
                let threshold = (lo + hi) / 2.0;
                best = Some((
                    sum,
                    Rule {
                        text: format!(
                            "{name} = {below} when {feature} < {threshold:.4}, else {above}"
                        ),
                        feature: feature.to_string(),
                        threshold,
                        below,
                        above,
                        mining_regret: sum / n as f64,
                        constant_regret: constant_total / n as f64,
                    },
                ));
            }
        }
    }
    best.filter(|(sum, _)| *sum < constant_total - 1e-9)
        .map(|(_, r)| r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greedy_lowers_the_excess_regret_until_every_dataset_is_served() {
        // c0 is best on d0 and d1, c1 on d2, c2 is within 0.05 everywhere.
        let regret = vec![
            vec![0.0, 0.2, 0.05],
            vec![0.0, 0.2, 0.05],
            vec![0.3, 0.0, 0.05],
        ];
        assert_eq!(greedy(&regret, 0.01), vec![2, 0, 1]);
        // Within a looser bound the all-rounder serves every dataset alone.
        assert_eq!(greedy(&regret, 0.06), vec![2]);
        // An addition that lowers neither the excess nor the mean regret is not made.
        let flat = vec![vec![0.1, 0.1], vec![0.1, 0.1]];
        assert_eq!(greedy(&flat, 0.01), vec![0]);
    }
}
