//! Leave one family out: for every family, mine a portfolio on all the other families, apply it
//! unchanged to each held-out dataset and seed, and compare with the baselines, every figure
//! read from the trials the runs measured (a configuration is fitted once per dataset and
//! seed: the zero-shot choice, the label-free selections, the random configuration, the default
//! and the oracle all read the same grid trials).
//!
//! Methods: the zero-shot variants ([`Variant`]), scikit-learn's default, `bic` and
//! `cv_loglik` selection over the candidates, a random candidate (the exact mean over the
//! candidates, i.e. over uniform draws), the per-dataset search of the runs that uses
//! validation labels (`tuned`, CFO), and the oracle (best test AUC among every configuration
//! measured: a bound, not a method). Figures are test figures; a failed fit counts as AUC 0.5,
//! the lowest AP measured there and a cost ratio of 1.

use serde::Serialize;

use super::apply::{candidates, Choose, Select};
use super::evidence::{Evidence, Measurement, SeedEvidence};
use super::mine::{mine, MineOptions};
use super::portfolio::{set_hyperparameter, Portfolio, HYPERPARAMETERS};
use super::regret::{RegretTable, Score};
use super::stats::average_ranks;
use super::ZeroshotError;
use crate::gmm_config::GmmConfig;

/// A zero-shot variant: how the held-out dataset's configuration is chosen from the portfolio.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Its name in the tables.
    pub name: String,
    /// How the portfolio orders its configurations.
    pub choose: Choose,
    /// Nearest mining datasets averaged (with [`Choose::Nearest`]).
    pub neighbours: usize,
    /// Configurations fitted.
    pub k: usize,
    /// How they are chosen between.
    pub select: Select,
    /// The meta-features of the distance (`None`: the mining default).
    pub distance: Option<Vec<String>>,
}

impl Variant {
    /// Whether it uses no anomaly labels of the held-out dataset.
    pub fn label_free(&self) -> bool {
        !self.select.needs_labels()
    }

    /// A variant without a distance override.
    pub fn new(name: &str, choose: Choose, neighbours: usize, k: usize, select: Select) -> Variant {
        Variant {
            name: name.into(),
            choose,
            neighbours,
            k,
            select,
            distance: None,
        }
    }
}

/// The variants the evaluation tries (see `reports/zeroshot/`).
pub fn standard_variants() -> Vec<Variant> {
    let size = Some(vec!["log_rows".to_string(), "log_features".to_string()]);
    vec![
        Variant::new("zs_best_practice", Choose::BestPractice, 1, 1, Select::None),
        Variant::new("zs_rules", Choose::Rules, 1, 1, Select::None),
        Variant::new("zs_rules_k3_cv", Choose::Rules, 1, 3, Select::CvLoglik),
        Variant::new("zs_nn1", Choose::Nearest, 1, 1, Select::None),
        Variant {
            name: "zs_nn1_size".into(),
            distance: size.clone(),
            ..Variant::new("", Choose::Nearest, 1, 1, Select::None)
        },
        Variant::new("zs_nn3", Choose::Nearest, 3, 1, Select::None),
        Variant::new("zs_nn5", Choose::Nearest, 5, 1, Select::None),
        Variant::new("zs_nn10", Choose::Nearest, 10, 1, Select::None),
        Variant::new("zs_nn3_k3_bic", Choose::Nearest, 3, 3, Select::Bic),
        Variant::new("zs_nn3_k3_cv", Choose::Nearest, 3, 3, Select::CvLoglik),
        Variant::new("zs_nn3_k5_cv", Choose::Nearest, 3, 5, Select::CvLoglik),
        Variant::new("zs_nn3_k3_val", Choose::Nearest, 3, 3, Select::ValAuc),
    ]
}

/// How to evaluate.
#[derive(Debug, Clone, PartialEq)]
pub struct LofoOptions {
    /// How each fold mines.
    pub mine: MineOptions,
    /// The zero-shot variants.
    pub variants: Vec<Variant>,
    /// The variant reported as `zeroshot` (label-free), compared with every baseline.
    pub headline: String,
    /// The strategy of the runs that tuned each dataset with its labels (`cfo`).
    pub tuned: String,
}

/// One method on one held-out dataset and seed (test figures).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodRow {
    /// The method.
    pub method: String,
    /// The held-out dataset.
    pub dataset: String,
    /// Its family.
    pub family: String,
    /// The seed.
    pub seed: u64,
    /// Test ROC AUC.
    pub test_auc: f64,
    /// Test average precision.
    pub test_ap: f64,
    /// Oracle test AUC minus this.
    pub regret: f64,
    /// Rank of the chosen configuration's test AUC among every configuration measured (1 =
    /// best; ties share the mean rank).
    pub rank: f64,
    /// Test cost over never-alarm cost, threshold chosen on validation.
    pub cost_ratio: f64,
    /// Test cost over never-alarm cost at the label-free threshold.
    pub cost_ratio_quantile: f64,
    /// The chosen configuration.
    pub config: String,
}

/// A method of the tables.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodInfo {
    /// Name.
    pub name: String,
    /// Whether it uses no anomaly labels of the held-out dataset.
    pub label_free: bool,
    /// What it is.
    pub description: String,
}

/// A hyperparameter rule against its constant on one held-out dataset and seed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    /// The hyperparameter.
    pub hyperparameter: String,
    /// The held-out dataset.
    pub dataset: String,
    /// The seed.
    pub seed: u64,
    /// The rule mined without the dataset's family (empty when none beat the constant).
    pub rule: String,
    /// Test AUC with the rule.
    pub rule_auc: f64,
    /// Test AUC with the constant (the best practice).
    pub constant_auc: f64,
}

/// What the evaluation found.
#[derive(Debug, Clone, PartialEq)]
pub struct LofoResult {
    /// The methods, headline first, then the other variants, the baselines and the oracle.
    pub methods: Vec<MethodInfo>,
    /// Every method on every held-out dataset and seed.
    pub rows: Vec<MethodRow>,
    /// Every rule against its constant.
    pub rules: Vec<RuleRow>,
    /// The families held out, in order.
    pub families: Vec<String>,
    /// The name of the headline method.
    pub headline: String,
}

/// Runs the evaluation on every family of `evidence`.
pub fn evaluate(evidence: &Evidence, options: &LofoOptions) -> Result<LofoResult, ZeroshotError> {
    if !options.variants.iter().any(|v| v.name == options.headline) {
        return Err(ZeroshotError::NoEvidence(format!(
            "the headline variant `{}` is not among the variants",
            options.headline
        )));
    }
    let families = evidence.families();
    if families.len() < 2 {
        return Err(ZeroshotError::NoEvidence(
            "leaving one family out needs datasets of at least two families".into(),
        ));
    }
    let all: Vec<usize> = (0..evidence.datasets.len()).collect();
    let grid = RegretTable::build(evidence, &all, Score::TestAuc)?.configs;
    let mut rows = Vec::new();
    let mut rules = Vec::new();
    for family in &families {
        let (held, mining): (Vec<usize>, Vec<usize>) = all
            .iter()
            .partition(|&&d| evidence.datasets[d].family == *family);
        let mut portfolios: Vec<(Option<Vec<String>>, Portfolio)> = Vec::new();
        for v in &options.variants {
            if !portfolios.iter().any(|(d, _)| *d == v.distance) {
                let mut mine_options = options.mine.clone();
                if let Some(d) = &v.distance {
                    mine_options.distance = d.clone();
                }
                portfolios.push((v.distance.clone(), mine(evidence, &mining, &mine_options)?));
            }
        }
        for &d in &held {
            let data = &evidence.datasets[d];
            for seed in &data.seeds {
                let row = |method: &str, figures: Figures| MethodRow {
                    method: method.into(),
                    dataset: data.name.clone(),
                    family: data.family.clone(),
                    seed: seed.seed,
                    test_auc: figures.auc,
                    test_ap: figures.ap,
                    regret: oracle_auc(seed) - figures.auc,
                    rank: figures.rank,
                    cost_ratio: figures.cost_ratio,
                    cost_ratio_quantile: figures.cost_ratio_quantile,
                    config: figures.config,
                };
                for v in &options.variants {
                    let portfolio = &portfolios
                        .iter()
                        .find(|(dist, _)| *dist == v.distance)
                        .expect("mined above")
                        .1;
                    let chosen = apply_variant(portfolio, v, seed, &data.name)?;
                    rows.push(row(&v.name, figures_of(seed, chosen)));
                }
                let (_, portfolio) = &portfolios[0];
                rules.extend(rule_rows(portfolio, seed, &data.name)?);
                let default = seed
                    .find(&GmmConfig::default())
                    .ok_or_else(|| missing(&data.name, seed.seed, &GmmConfig::default()))?;
                rows.push(row("sklearn_default", figures_of(seed, default)));
                let on_grid: Vec<usize> = grid
                    .iter()
                    .map(|c| {
                        seed.find(c)
                            .ok_or_else(|| missing(&data.name, seed.seed, c))
                    })
                    .collect::<Result<_, _>>()?;
                for (name, select) in [("bic", Select::Bic), ("cv_loglik", Select::CvLoglik)] {
                    let chosen = select_among(seed, &on_grid, select).unwrap_or(default);
                    rows.push(row(name, figures_of(seed, chosen)));
                }
                rows.push(row("random", mean_figures(seed, &on_grid)));
                if let Some(&tuned) = seed.selected.get(&options.tuned) {
                    rows.push(row(&options.tuned, figures_of(seed, tuned)));
                }
                let oracle = (0..seed.measured.len())
                    .max_by(|&a, &b| {
                        auc(&seed.measured[a])
                            .total_cmp(&auc(&seed.measured[b]))
                            .then(b.cmp(&a))
                    })
                    .expect("measured configurations exist");
                rows.push(row("oracle", figures_of(seed, oracle)));
            }
        }
    }
    // The headline is reported under its own name and as `zeroshot`.
    let headline_rows: Vec<MethodRow> = rows
        .iter()
        .filter(|r| r.method == options.headline)
        .map(|r| MethodRow {
            method: "zeroshot".into(),
            ..r.clone()
        })
        .collect();
    rows.extend(headline_rows);
    let mut methods = vec![MethodInfo {
        name: "zeroshot".into(),
        label_free: true,
        description: format!("the default zero-shot strategy (= {})", options.headline),
    }];
    for v in &options.variants {
        methods.push(MethodInfo {
            name: v.name.clone(),
            label_free: v.label_free(),
            description: format!(
                "zero-shot: choose {}{}, fit {}, select {}{}",
                v.choose.as_str(),
                if v.choose == Choose::Nearest {
                    format!(" (mean regret over {} nearest)", v.neighbours)
                } else {
                    String::new()
                },
                v.k,
                v.select.as_str(),
                v.distance
                    .as_ref()
                    .map_or(String::new(), |d| format!(", distance on {}", d.join(", ")))
            ),
        });
    }
    for (name, label_free, description) in [
        (
            "sklearn_default",
            true,
            "scikit-learn's default GMM (1 component, full, reg_covar 1e-6, kmeans)".to_string(),
        ),
        ("bic", true, "lowest BIC among the candidates".to_string()),
        (
            "cv_loglik",
            true,
            "highest 5-fold held-out log-likelihood among the candidates".to_string(),
        ),
        (
            "random",
            true,
            "a random candidate (exact mean over the candidates)".to_string(),
        ),
        (
            options.tuned.as_str(),
            false,
            format!(
                "per-dataset `{}` search with validation labels (the runs' trial budget)",
                options.tuned
            ),
        ),
        (
            "oracle",
            false,
            "best test AUC among every configuration measured (a bound, not a method)".to_string(),
        ),
    ] {
        methods.push(MethodInfo {
            name: name.into(),
            label_free,
            description,
        });
    }
    Ok(LofoResult {
        methods,
        rows,
        rules,
        families,
        headline: options.headline.clone(),
    })
}

fn missing(dataset: &str, seed: u64, config: &GmmConfig) -> ZeroshotError {
    ZeroshotError::Inconsistent(format!(
        "dataset `{dataset}`, seed {seed}: configuration {config} was not measured; every dataset needs the same grid of candidates (and scikit-learn's default among them)"
    ))
}

fn auc(m: &Measurement) -> f64 {
    Score::TestAuc.auc(m)
}

fn oracle_auc(seed: &SeedEvidence) -> f64 {
    seed.measured
        .iter()
        .map(auc)
        .fold(f64::NEG_INFINITY, f64::max)
}

/// The index in `seed.measured` of the configuration variant `v` of `portfolio` ends with.
fn apply_variant(
    portfolio: &Portfolio,
    v: &Variant,
    seed: &SeedEvidence,
    dataset: &str,
) -> Result<usize, ZeroshotError> {
    let order = candidates(portfolio, Some(&seed.meta), v.choose, v.neighbours);
    let indices: Vec<usize> = order
        .iter()
        .map(|c| seed.find(c).ok_or_else(|| missing(dataset, seed.seed, c)))
        .collect::<Result<_, _>>()?;
    let fitted: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| seed.measured[i].metrics.is_some())
        .collect();
    let first = fitted.first().copied().unwrap_or(indices[0]);
    if v.select == Select::None {
        return Ok(first);
    }
    // The first k of the order are fitted; a selection among those that did not fail.
    let tried: Vec<usize> = indices
        .iter()
        .copied()
        .take(v.k.max(1))
        .filter(|&i| seed.measured[i].metrics.is_some())
        .collect();
    Ok(select_among(seed, &tried, v.select).unwrap_or(first))
}

/// The best of `among` by `select` (the earliest among equals); `None` when none is defined.
fn select_among(seed: &SeedEvidence, among: &[usize], select: Select) -> Option<usize> {
    let value = |i: usize| -> Option<f64> {
        let m = seed.measured[i].metrics.as_ref()?;
        let v = match select {
            Select::None => return None,
            Select::Bic => -m.bic,
            Select::CvLoglik => m.cv_loglik?,
            Select::ValAuc => m.val_auc?,
        };
        v.is_finite().then_some(v)
    };
    among
        .iter()
        .filter_map(|&i| value(i).map(|v| (i, v)))
        .fold(None, |best: Option<(usize, f64)>, (i, v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((i, v)),
        })
        .map(|(i, _)| i)
}

/// The held-out figures of one method.
struct Figures {
    auc: f64,
    ap: f64,
    rank: f64,
    cost_ratio: f64,
    cost_ratio_quantile: f64,
    config: String,
}

fn ranks(seed: &SeedEvidence) -> Vec<f64> {
    let negated: Vec<f64> = seed.measured.iter().map(|m| -auc(m)).collect();
    average_ranks(&negated).0
}

fn figures_of(seed: &SeedEvidence, i: usize) -> Figures {
    let m = &seed.measured[i];
    let lowest_ap = seed
        .measured
        .iter()
        .filter_map(|m| m.metrics.as_ref().and_then(|x| x.test_ap))
        .fold(f64::INFINITY, f64::min);
    let metrics = m.metrics.as_ref();
    Figures {
        auc: auc(m),
        ap: metrics.and_then(|x| x.test_ap).unwrap_or(lowest_ap),
        rank: ranks(seed)[i],
        cost_ratio: metrics.and_then(|x| x.test_cost_ratio()).unwrap_or(1.0),
        cost_ratio_quantile: metrics
            .and_then(|x| x.test_cost_ratio_at_quantile())
            .unwrap_or(1.0),
        config: m.config.to_string(),
    }
}

fn mean_figures(seed: &SeedEvidence, among: &[usize]) -> Figures {
    let all: Vec<Figures> = among.iter().map(|&i| figures_of(seed, i)).collect();
    let n = all.len() as f64;
    let mean = |f: fn(&Figures) -> f64| all.iter().map(f).sum::<f64>() / n;
    Figures {
        auc: mean(|f| f.auc),
        ap: mean(|f| f.ap),
        rank: mean(|f| f.rank),
        cost_ratio: mean(|f| f.cost_ratio),
        cost_ratio_quantile: mean(|f| f.cost_ratio_quantile),
        config: format!("mean over {} candidates", all.len()),
    }
}

/// Each hyperparameter's rule (mined without this family) against the best practice.
fn rule_rows(
    portfolio: &Portfolio,
    seed: &SeedEvidence,
    dataset: &str,
) -> Result<Vec<RuleRow>, ZeroshotError> {
    let base = portfolio.configs[portfolio.best_practice].config.clone();
    let constant = seed
        .find(&base)
        .ok_or_else(|| missing(dataset, seed.seed, &base))?;
    let mut out = Vec::new();
    for name in HYPERPARAMETERS {
        let study = portfolio.hyperparameters.iter().find(|h| h.name == name);
        let rule = study.and_then(|h| h.rule.as_ref());
        let mut config = base.clone();
        if let Some(rule) = rule {
            let value = match seed.meta.get(&rule.feature) {
                Some(v) if v < rule.threshold => &rule.below,
                _ => &rule.above,
            };
            set_hyperparameter(&mut config, name, value).map_err(ZeroshotError::NoEvidence)?;
        }
        let chosen = seed
            .find(&config)
            .ok_or_else(|| missing(dataset, seed.seed, &config))?;
        out.push(RuleRow {
            hyperparameter: name.into(),
            dataset: dataset.into(),
            seed: seed.seed,
            rule: rule.map_or(String::new(), |r| r.text.clone()),
            rule_auc: auc(&seed.measured[chosen]),
            constant_auc: auc(&seed.measured[constant]),
        });
    }
    Ok(out)
}
