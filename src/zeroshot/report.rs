//! The tables of a leave-one-family-out evaluation: per method across datasets (mean, median,
//! spread over seeds), the zero-shot method against each baseline (wins, ties and losses,
//! Wilcoxon's signed-rank test, the mean difference and its spread over seeds), Friedman's test
//! with average ranks, per-hyperparameter best practice and rules; as CSV and Markdown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use super::lofo::{LofoResult, MethodRow};
use super::portfolio::Portfolio;
use super::regret::std_dev;
use super::stats::{friedman, quantile, wilcoxon};
use super::ZeroshotError;

/// Two test AUCs closer than this count as a tie.
pub const TIE: f64 = 1e-4;

/// The baselines the zero-shot method is tested against, in table order.
pub const BASELINES: [&str; 4] = ["sklearn_default", "bic", "cv_loglik", "random"];

/// One method across the held-out datasets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodSummary {
    /// The method.
    pub method: String,
    /// Whether it uses no labels of the held-out dataset.
    pub label_free: bool,
    /// Mean over datasets of the mean over seeds of the test AUC.
    pub mean_test_auc: f64,
    /// Median over datasets.
    pub median_test_auc: f64,
    /// Standard deviation over seeds of the mean over datasets.
    pub seed_spread: f64,
    /// Mean test AP.
    pub mean_test_ap: f64,
    /// Mean regret (oracle test AUC minus this).
    pub mean_regret: f64,
    /// Mean rank of the chosen configuration among every configuration measured.
    pub mean_config_rank: f64,
    /// Mean test cost ratio, threshold chosen on validation.
    pub mean_cost_ratio: f64,
    /// Mean test cost ratio at the label-free threshold.
    pub mean_cost_ratio_quantile: f64,
}

/// The zero-shot method against one other method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// The other method.
    pub against: String,
    /// Datasets where zero-shot's mean test AUC is higher by more than [`TIE`].
    pub wins: usize,
    /// Within [`TIE`].
    pub ties: usize,
    /// Lower by more than [`TIE`].
    pub losses: usize,
    /// Mean over datasets of (zero-shot − other) test AUC.
    pub mean_difference: f64,
    /// Standard deviation over seeds of that mean difference.
    pub difference_seed_spread: f64,
    /// Two-sided Wilcoxon signed-rank p-value over datasets (`None` when every difference is 0).
    pub wilcoxon_p: Option<f64>,
}

/// Friedman's chi-square, its p-value and each method's average rank.
pub type FriedmanTable = (f64, f64, Vec<(String, f64)>);

/// Every table of an evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    /// Per method.
    pub methods: Vec<MethodSummary>,
    /// Zero-shot against each other method.
    pub comparisons: Vec<Comparison>,
    /// Friedman's test over zero-shot and the baselines (and the tuned search), with each
    /// method's average rank (1 = best test AUC).
    pub friedman: Option<FriedmanTable>,
    /// Per method and dataset: mean and spread over seeds of each figure.
    pub per_dataset: Vec<DatasetRow>,
}

/// One method on one dataset, over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatasetRow {
    /// The method.
    pub method: String,
    /// The dataset.
    pub dataset: String,
    /// Its family.
    pub family: String,
    /// Mean test AUC over seeds.
    pub test_auc: f64,
    /// Its standard deviation over seeds.
    pub test_auc_seed_sd: f64,
    /// Mean test AP.
    pub test_ap: f64,
    /// Mean regret.
    pub regret: f64,
    /// Mean rank of the chosen configuration.
    pub config_rank: f64,
    /// Mean cost ratio (validation threshold).
    pub cost_ratio: f64,
    /// Mean cost ratio (label-free threshold).
    pub cost_ratio_quantile: f64,
    /// The configurations chosen, one per seed.
    pub configs: String,
}

/// A p-value with three significant digits.
pub fn format_p(p: f64) -> String {
    if p >= 0.001 {
        format!("{p:.3}")
    } else {
        format!("{p:.2e}")
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// Computes the tables of `result`.
pub fn tables(result: &LofoResult) -> Tables {
    // rows by method, dataset (in the order met), seed
    let mut datasets: Vec<(String, String)> = Vec::new();
    let mut by: BTreeMap<(String, String), Vec<&MethodRow>> = BTreeMap::new();
    let mut seeds: Vec<u64> = Vec::new();
    for r in &result.rows {
        if !datasets.iter().any(|(d, _)| *d == r.dataset) {
            datasets.push((r.dataset.clone(), r.family.clone()));
        }
        if !seeds.contains(&r.seed) {
            seeds.push(r.seed);
        }
        by.entry((r.method.clone(), r.dataset.clone()))
            .or_default()
            .push(r);
    }
    let methods: Vec<&str> = result
        .methods
        .iter()
        .map(|m| m.name.as_str())
        .filter(|m| {
            datasets
                .iter()
                .all(|(d, _)| by.contains_key(&(m.to_string(), d.clone())))
        })
        .collect();
    let dataset_mean = |method: &str, f: fn(&MethodRow) -> f64| -> Vec<f64> {
        datasets
            .iter()
            .map(|(d, _)| {
                mean(
                    &by[&(method.to_string(), d.clone())]
                        .iter()
                        .map(|r| f(r))
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    };
    let seed_means = |method: &str, f: fn(&MethodRow) -> f64| -> Vec<f64> {
        seeds
            .iter()
            .map(|s| {
                mean(
                    &datasets
                        .iter()
                        .filter_map(|(d, _)| {
                            by[&(method.to_string(), d.clone())]
                                .iter()
                                .find(|r| r.seed == *s)
                                .map(|r| f(r))
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect()
    };
    let summaries: Vec<MethodSummary> = methods
        .iter()
        .map(|m| {
            let auc = dataset_mean(m, |r| r.test_auc);
            MethodSummary {
                method: m.to_string(),
                label_free: result
                    .methods
                    .iter()
                    .find(|x| x.name == *m)
                    .is_some_and(|x| x.label_free),
                mean_test_auc: mean(&auc),
                median_test_auc: quantile(&auc, 0.5).unwrap_or(f64::NAN),
                seed_spread: std_dev(&seed_means(m, |r| r.test_auc)),
                mean_test_ap: mean(&dataset_mean(m, |r| r.test_ap)),
                mean_regret: mean(&dataset_mean(m, |r| r.regret)),
                mean_config_rank: mean(&dataset_mean(m, |r| r.rank)),
                mean_cost_ratio: mean(&dataset_mean(m, |r| r.cost_ratio)),
                mean_cost_ratio_quantile: mean(&dataset_mean(m, |r| r.cost_ratio_quantile)),
            }
        })
        .collect();
    let zs = dataset_mean("zeroshot", |r| r.test_auc);
    let zs_seeds = seed_means("zeroshot", |r| r.test_auc);
    let comparisons = methods
        .iter()
        .filter(|m| **m != "zeroshot" && **m != result.headline)
        .map(|m| {
            let other = dataset_mean(m, |r| r.test_auc);
            let other_seeds = seed_means(m, |r| r.test_auc);
            let diffs: Vec<f64> = zs.iter().zip(&other).map(|(a, b)| a - b).collect();
            let seed_diffs: Vec<f64> = zs_seeds
                .iter()
                .zip(&other_seeds)
                .map(|(a, b)| a - b)
                .collect();
            Comparison {
                against: m.to_string(),
                wins: diffs.iter().filter(|d| **d > TIE).count(),
                ties: diffs.iter().filter(|d| d.abs() <= TIE).count(),
                losses: diffs.iter().filter(|d| **d < -TIE).count(),
                mean_difference: mean(&diffs),
                difference_seed_spread: std_dev(&seed_diffs),
                wilcoxon_p: wilcoxon(&zs, &other).map(|t| t.p_value),
            }
        })
        .collect();
    let mut compared: Vec<&str> = vec!["zeroshot"];
    compared.extend(methods.iter().copied().filter(|m| {
        BASELINES.contains(m)
            || result
                .methods
                .iter()
                .any(|x| x.name == *m && !x.label_free && *m != "oracle" && !m.starts_with("zs_"))
    }));
    let columns: Vec<Vec<f64>> = compared
        .iter()
        .map(|m| dataset_mean(m, |r| r.test_auc))
        .collect();
    let blocks: Vec<Vec<f64>> = (0..datasets.len())
        .map(|d| columns.iter().map(|c| c[d]).collect())
        .collect();
    let friedman = friedman(&blocks).map(|(t, ranks)| {
        (
            t.statistic,
            t.p_value,
            compared.iter().map(|m| m.to_string()).zip(ranks).collect(),
        )
    });
    let mut per_dataset = Vec::new();
    for m in &methods {
        for (d, family) in &datasets {
            let rows = &by[&(m.to_string(), d.clone())];
            let f = |g: fn(&MethodRow) -> f64| mean(&rows.iter().map(|r| g(r)).collect::<Vec<_>>());
            per_dataset.push(DatasetRow {
                method: m.to_string(),
                dataset: d.clone(),
                family: family.clone(),
                test_auc: f(|r| r.test_auc),
                test_auc_seed_sd: std_dev(&rows.iter().map(|r| r.test_auc).collect::<Vec<_>>()),
                test_ap: f(|r| r.test_ap),
                regret: f(|r| r.regret),
                config_rank: f(|r| r.rank),
                cost_ratio: f(|r| r.cost_ratio),
                cost_ratio_quantile: f(|r| r.cost_ratio_quantile),
                configs: rows
                    .iter()
                    .map(|r| r.config.clone())
                    .collect::<Vec<_>>()
                    .join(" | "),
            });
        }
    }
    Tables {
        methods: summaries,
        comparisons,
        friedman,
        per_dataset,
    }
}

fn write_csv<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), ZeroshotError> {
    let err = |e: &dyn std::fmt::Display| ZeroshotError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut writer = csv::Writer::from_path(path).map_err(|e| err(&e))?;
    for row in rows {
        writer.serialize(row).map_err(|e| err(&e))?;
    }
    writer.flush().map_err(|e| err(&e))
}

/// A rule against its constant, over the held-out datasets.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleSummary {
    /// The hyperparameter.
    pub hyperparameter: String,
    /// Held-out datasets where a rule was mined (without their family).
    pub datasets_with_rule: usize,
    /// Mean test AUC with the rules (the constant where none was mined).
    pub rule_auc: f64,
    /// Mean test AUC with the constant.
    pub constant_auc: f64,
    /// Standard deviation over seeds of the mean difference.
    pub difference_seed_spread: f64,
}

fn rule_summaries(result: &LofoResult) -> Vec<RuleSummary> {
    let mut out = Vec::new();
    for h in super::portfolio::HYPERPARAMETERS {
        let rows: Vec<_> = result
            .rules
            .iter()
            .filter(|r| r.hyperparameter == h)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let mut datasets: Vec<&str> = rows
            .iter()
            .filter(|r| !r.rule.is_empty())
            .map(|r| r.dataset.as_str())
            .collect();
        datasets.dedup();
        let mut seeds: Vec<u64> = rows.iter().map(|r| r.seed).collect();
        seeds.sort();
        seeds.dedup();
        let per_seed: Vec<f64> = seeds
            .iter()
            .map(|s| {
                mean(
                    &rows
                        .iter()
                        .filter(|r| r.seed == *s)
                        .map(|r| r.rule_auc - r.constant_auc)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        out.push(RuleSummary {
            hyperparameter: h.to_string(),
            datasets_with_rule: datasets.len(),
            rule_auc: mean(&rows.iter().map(|r| r.rule_auc).collect::<Vec<_>>()),
            constant_auc: mean(&rows.iter().map(|r| r.constant_auc).collect::<Vec<_>>()),
            difference_seed_spread: std_dev(&per_seed),
        });
    }
    out
}

/// Writes the tables of `result` into `dir`: `methods.csv`, `comparisons.csv`,
/// `per_dataset.csv`, `rows.csv`, `rules.csv`, `hyperparameters.csv` (of `portfolio`, mined on
/// every dataset) and `summary.md`. `command` and `wall` are quoted in the Markdown.
pub fn write_tables(
    dir: &Path,
    result: &LofoResult,
    portfolio: &Portfolio,
    command: &str,
    wall: &str,
) -> Result<Tables, ZeroshotError> {
    std::fs::create_dir_all(dir).map_err(|e| ZeroshotError::Write {
        path: dir.display().to_string(),
        message: e.to_string(),
    })?;
    let t = tables(result);
    write_csv(&dir.join("methods.csv"), &t.methods)?;
    write_csv(&dir.join("comparisons.csv"), &t.comparisons)?;
    write_csv(&dir.join("per_dataset.csv"), &t.per_dataset)?;
    write_csv(&dir.join("rows.csv"), &result.rows)?;
    let rules = rule_summaries(result);
    write_csv(&dir.join("rules.csv"), &rules)?;
    #[derive(Serialize)]
    struct HyperRow<'a> {
        hyperparameter: &'a str,
        value: &'a str,
        best: bool,
        mean_rank: f64,
        mean_regret: f64,
        regret_seed_spread: f64,
    }
    let hyper: Vec<HyperRow> = portfolio
        .hyperparameters
        .iter()
        .flat_map(|h| {
            h.values.iter().map(move |v| HyperRow {
                hyperparameter: &h.name,
                value: &v.value,
                best: v.value == h.best,
                mean_rank: v.mean_rank,
                mean_regret: v.mean_regret,
                regret_seed_spread: v.regret_seed_spread,
            })
        })
        .collect();
    write_csv(&dir.join("hyperparameters.csv"), &hyper)?;

    let mut md = String::new();
    let _ = writeln!(md, "# Zero-shot best practice: leave one family out\n");
    let _ = writeln!(
        md,
        "Made by `{command}` ({wall}). {} held-out datasets in {} families, seeds {}; every family is held out in turn, a portfolio is mined on the others (regrets in validation AUC) and applied unchanged. Figures are test figures, means over datasets of the means over seeds; `seed sd` is the standard deviation over seeds of the mean over datasets. The headline `zeroshot` is `{}`.\n",
        t.per_dataset
            .iter()
            .filter(|r| r.method == "zeroshot")
            .count(),
        result.families.len(),
        {
            let mut s: Vec<u64> = result.rows.iter().map(|r| r.seed).collect();
            s.sort();
            s.dedup();
            s.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
        result.headline
    );
    let _ = writeln!(md, "## Methods\n");
    let _ = writeln!(
        md,
        "| method | labels | mean test AUC | seed sd | median | mean AP | mean regret | config rank | cost ratio (val threshold) | cost ratio (label-free threshold) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|");
    for m in &t.methods {
        let _ = writeln!(
            md,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {:.4} | {:.4} | {:.1} | {:.3} | {:.3} |",
            m.method,
            if m.label_free { "none" } else { "validation" },
            m.mean_test_auc,
            m.seed_spread,
            m.median_test_auc,
            m.mean_test_ap,
            m.mean_regret,
            m.mean_config_rank,
            m.mean_cost_ratio,
            m.mean_cost_ratio_quantile
        );
    }
    let _ = writeln!(
        md,
        "\n## `zeroshot` against each method (test AUC per dataset)\n"
    );
    let _ = writeln!(
        md,
        "| against | wins | ties | losses | mean difference | seed sd of the difference | Wilcoxon p |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for c in &t.comparisons {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {:+.4} | {:.4} | {} |",
            c.against,
            c.wins,
            c.ties,
            c.losses,
            c.mean_difference,
            c.difference_seed_spread,
            c.wilcoxon_p.map_or("-".into(), format_p)
        );
    }
    if let Some((stat, p, ranks)) = &t.friedman {
        let _ = writeln!(
            md,
            "\nFriedman test over {}: chi-square {stat:.2}, p = {}. Average ranks (1 = best test AUC): {}.\n",
            ranks
                .iter()
                .map(|(m, _)| m.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            format_p(*p),
            ranks
                .iter()
                .map(|(m, r)| format!("{m} {r:.2}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        md,
        "## Best practice per hyperparameter (mined on every dataset, others at their best)\n"
    );
    let _ = writeln!(
        md,
        "| hyperparameter | value | mean rank among its values | mean regret (val AUC) | seed sd |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|");
    for h in &hyper {
        let _ = writeln!(
            md,
            "| {} | {}{} | {:.2} | {:.4} | {:.4} |",
            h.hyperparameter,
            h.value,
            if h.best { " (best)" } else { "" },
            h.mean_rank,
            h.mean_regret,
            h.regret_seed_spread
        );
    }
    let _ = writeln!(
        md,
        "\nRules in one meta-feature, mined without the held-out family, against the constant (test AUC over the held-out datasets; the constant is used where no rule beat it on the mining datasets):\n"
    );
    let _ = writeln!(
        md,
        "| hyperparameter | held-out datasets with a rule | test AUC with rule | with constant | seed sd of the difference | rule mined on every dataset |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for r in &rules {
        let all = portfolio
            .hyperparameters
            .iter()
            .find(|h| h.name == r.hyperparameter)
            .and_then(|h| h.rule.as_ref())
            .map_or("none".to_string(), |x| x.text.clone());
        let _ = writeln!(
            md,
            "| {} | {} | {:.4} | {:.4} | {:.4} | {} |",
            r.hyperparameter,
            r.datasets_with_rule,
            r.rule_auc,
            r.constant_auc,
            r.difference_seed_spread,
            all
        );
    }
    let _ = writeln!(md, "\n## Per dataset (test AUC, mean over seeds)\n");
    let shown: Vec<&str> = ["zeroshot", "sklearn_default", "bic", "cv_loglik", "random"]
        .into_iter()
        .chain(
            result
                .methods
                .iter()
                .filter(|m| !m.label_free && m.name != "oracle" && !m.name.starts_with("zs_"))
                .map(|m| m.name.as_str()),
        )
        .chain(["oracle"])
        .collect();
    let _ = writeln!(
        md,
        "| dataset | family | {} | zeroshot configs (per seed) |",
        shown.join(" | ")
    );
    let _ = writeln!(md, "|---|---|{}---|", "---|".repeat(shown.len()));
    let datasets: Vec<&DatasetRow> = t
        .per_dataset
        .iter()
        .filter(|r| r.method == "zeroshot")
        .collect();
    for z in datasets {
        let cells: Vec<String> = shown
            .iter()
            .map(|m| {
                t.per_dataset
                    .iter()
                    .find(|r| r.method == *m && r.dataset == z.dataset)
                    .map_or("-".into(), |r| format!("{:.4}", r.test_auc))
            })
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            z.dataset,
            z.family,
            cells.join(" | "),
            z.configs
        );
    }
    let path = dir.join("summary.md");
    std::fs::write(&path, md).map_err(|e| ZeroshotError::Write {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Ok(t)
}
