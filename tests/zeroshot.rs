//! Zero-shot end to end on small generated data: a grid and a CFO search over datasets of three
//! families and two seeds, mining a portfolio from the run directory, leaving each family out,
//! the zero-shot strategy in a run, and the bad inputs of mining and portfolios.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use gmmtune::config::RunConfig;
use gmmtune::journal::{read_journal, TrialRecord};
use gmmtune::run::{execute, RunOptions};
use gmmtune::search::driver::Silent;
use gmmtune::zeroshot::apply::{candidates, Choose};
use gmmtune::zeroshot::lofo::{evaluate, standard_variants, LofoOptions};
use gmmtune::zeroshot::mine::{mine, MineOptions};
use gmmtune::zeroshot::regret::{RegretTable, Score};
use gmmtune::zeroshot::report::write_tables;
use gmmtune::zeroshot::runs::load_evidence;
use gmmtune::zeroshot::{Portfolio, PortfolioError, ZeroshotError};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

/// A labelled CSV of `rows` rows: `shape` 0 = two clusters, 1 = one correlated cloud, 2 =
/// coarse (few distinct values); anomalies are every tenth row, spread wider.
fn write_dataset(dir: &Path, name: &str, shape: usize, rows: usize, seed: u64) -> PathBuf {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut text = String::from("f0,f1,f2,label\n");
    for i in 0..rows {
        let anomaly = i % 10 == 0;
        let z: Vec<f64> = (0..3).map(|_| rng.sample(StandardNormal)).collect();
        let spread = if anomaly { 4.0 } else { 1.0 };
        let x: Vec<f64> = match shape {
            0 => {
                let c = if i % 2 == 0 { -3.0 } else { 3.0 };
                z.iter().map(|v| c + spread * v).collect()
            }
            1 => vec![
                spread * z[0],
                z[0] + 0.3 * spread * z[1],
                z[0] - 0.3 * spread * z[2],
            ],
            _ => z.iter().map(|v| (spread * v * 2.0).round()).collect(),
        };
        text.push_str(&format!(
            "{},{},{},{}\n",
            x[0],
            x[1],
            x[2],
            u8::from(anomaly)
        ));
    }
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).unwrap();
    path
}

const SPACE: &str = "space:\n  n_components: {low: 1, high: 4, log: true, grid: 3}\n  covariance_type: [spherical, diag, full]\n  reg_covar: {low: 1.0e-6, high: 1.0e-2, log: true, grid: 2}\n  init: [kmeans]\n";

/// Six datasets of three families.
fn datasets(dir: &Path) -> String {
    let mut entries = String::new();
    for (i, (family, shape)) in [
        ("blobs", 0),
        ("blobs", 0),
        ("cloud", 1),
        ("cloud", 1),
        ("coarse", 2),
        ("coarse", 2),
    ]
    .iter()
    .enumerate()
    {
        let name = format!("{family}{i}");
        let path = write_dataset(dir, &name, *shape, 240 + 20 * i, i as u64);
        entries.push_str(&format!(
            "  - {{path: '{}', name: {name}, family: {family}}}\n",
            path.display()
        ));
    }
    entries
}

fn run(dir: &Path, name: &str, body: &str) -> PathBuf {
    let yaml = format!(
        "name: {name}\nseeds: [0, 1]\nmetrics: [cv_loglik]\ncv_folds: 3\ncost_model: {{c_alarm: 1, c_missed: 5}}\n{body}"
    );
    let config = RunConfig::from_yaml_str(&yaml, &format!("{name}.yaml")).unwrap();
    let out = dir.join(name);
    let options = RunOptions {
        out_dir: Some(out.clone()),
        jobs: Some(2),
        ..RunOptions::default()
    };
    execute(&config, &options, &AtomicBool::new(false), &Silent).unwrap();
    out
}

fn grid_run(dir: &Path) -> PathBuf {
    let body = format!(
        "datasets:\n{}{SPACE}strategies:\n  - {{kind: grid}}\n  - {{kind: cfo, budget: {{trials: 6}}}}\n",
        datasets(dir)
    );
    run(dir, "grid", &body)
}

#[test]
fn mining_and_leaving_each_family_out_read_the_same_trials() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = grid_run(tmp.path());
    let evidence = load_evidence(std::slice::from_ref(&dir)).unwrap();
    assert_eq!(evidence.datasets.len(), 6);
    assert_eq!(evidence.families(), ["blobs", "cloud", "coarse"]);
    assert_eq!(evidence.seeds(), [0, 1]);
    for d in &evidence.datasets {
        for s in &d.seeds {
            assert!(
                s.measured.len() >= 18,
                "{} seed {}: the grid and CFO's own",
                d.name,
                s.seed
            );
            assert!(s.selected.contains_key("grid") && s.selected.contains_key("cfo"));
        }
    }

    // Mining: the best practice has the lowest mean regret, the default is in the portfolio.
    let all: Vec<usize> = (0..6).collect();
    let portfolio = mine(&evidence, &all, &MineOptions::default()).unwrap();
    let table = RegretTable::build(&evidence, &all, Score::ValAuc).unwrap();
    assert_eq!(table.configs.len(), 18);
    let best = &portfolio.configs[portfolio.best_practice];
    let lowest = (0..18)
        .map(|c| RegretTable::mean_of(&table.regret, c))
        .fold(f64::INFINITY, f64::min);
    assert!((best.mean_regret - lowest).abs() < 1e-12);
    let default = portfolio
        .sklearn_default
        .expect("the default is a candidate");
    assert_eq!(portfolio.configs[default].config, Default::default());
    assert_eq!(portfolio.neighbours.len(), 6);
    for n in &portfolio.neighbours {
        assert!(n
            .choice
            .windows(2)
            .all(|w| n.regret[w[0]] <= n.regret[w[1]]));
        assert!(n.regret.iter().all(|r| *r >= 0.0));
    }
    assert_eq!(portfolio.provenance.runs[0].dir, dir.display().to_string());
    assert_eq!(portfolio.hyperparameters.len(), 4);
    assert_eq!(portfolio.hyperparameters[0].values.len(), 3);

    // The file reads back as written.
    let path = tmp.path().join("portfolio.yaml");
    portfolio.save(&path).unwrap();
    assert_eq!(Portfolio::load(&path).unwrap(), portfolio);

    // Leave one family out.
    let options = LofoOptions {
        mine: MineOptions::default(),
        variants: standard_variants(),
        headline: "zs_rules_k3_cv".into(),
        tuned: "cfo".into(),
    };
    let result = evaluate(&evidence, &options).unwrap();
    let methods = standard_variants().len() + 1 + 6;
    assert_eq!(result.rows.len(), methods * 6 * 2);
    for r in &result.rows {
        assert!(r.regret >= -1e-12, "{r:?}");
        assert!(r.rank >= 1.0);
        if r.method == "oracle" {
            assert_eq!(r.regret, 0.0);
        }
    }
    // Each zero-shot choice is a grid trial of the held-out dataset: its figures are the grid's.
    let grid_auc = |dataset: &str, seed: u64, config: &str| {
        let d = evidence.dataset(dataset).unwrap();
        let s = d.seeds.iter().find(|s| s.seed == seed).unwrap();
        s.measured
            .iter()
            .find(|m| m.config.to_string() == config)
            .and_then(|m| m.metrics.as_ref()?.test_auc)
            .unwrap_or(0.5)
    };
    for r in result.rows.iter().filter(|r| r.method.starts_with("zs_")) {
        assert_eq!(r.test_auc, grid_auc(&r.dataset, r.seed, &r.config), "{r:?}");
    }
    let out = tmp.path().join("tables");
    let tables = write_tables(&out, &result, &portfolio, "test", "0 s").unwrap();
    for file in [
        "methods.csv",
        "comparisons.csv",
        "per_dataset.csv",
        "rows.csv",
        "rules.csv",
        "hyperparameters.csv",
        "summary.md",
    ] {
        assert!(out.join(file).is_file(), "{file}");
    }
    assert!(tables.friedman.is_some());
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains("| zeroshot |") && md.contains("Wilcoxon"),
        "{md}"
    );
}

fn trials(dir: &Path) -> Vec<TrialRecord> {
    read_journal::<TrialRecord>(&dir.join("trials.jsonl"))
        .unwrap()
        .records
}

#[test]
fn the_zeroshot_strategy_fits_what_the_portfolio_chooses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = grid_run(tmp.path());
    let evidence = load_evidence(&[dir]).unwrap();
    let training: Vec<usize> = (0..4).collect();
    let portfolio = mine(&evidence, &training, &MineOptions::default()).unwrap();
    let path = tmp.path().join("p.yaml");
    portfolio.save(&path).unwrap();
    // A new dataset of a held-out family, with a grid first: the zero-shot choices reuse it.
    let new = write_dataset(tmp.path(), "fresh", 2, 300, 99);
    let body = format!(
        "datasets:\n  - {{path: '{}', name: fresh}}\n{SPACE}strategies:\n  - {{kind: grid}}\n  - {{kind: zeroshot, name: one, portfolio: '{p}', k: 1, select: none, choose: nearest}}\n  - {{kind: zeroshot, name: three, portfolio: '{p}', k: 3, select: cv_loglik, choose: nearest}}\n  - {{kind: zeroshot, name: default, portfolio: '{p}'}}\n  - {{kind: zeroshot, name: rules, portfolio: '{p}', k: 1, select: none, choose: rules}}\n",
        new.display(),
        p = path.display()
    );
    let run_dir = run(tmp.path(), "apply", &body);
    let records = trials(&run_dir);
    let fresh = load_evidence(std::slice::from_ref(&run_dir)).unwrap();
    for seed in &fresh.datasets[0].seeds {
        let order = candidates(&portfolio, Some(&seed.meta), Choose::Nearest, 3);
        let of = |strategy: &str| -> Vec<&TrialRecord> {
            let mut found: Vec<&TrialRecord> = records
                .iter()
                .filter(|r| r.unit.strategy == strategy && r.unit.seed == seed.seed)
                .collect();
            found.sort_by_key(|r| r.trial);
            found
        };
        let one = of("one");
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].config, order[0]);
        assert!(one[0].reused, "the grid measured it first");
        // k = 3, or the whole portfolio when it is smaller.
        let k = 3.min(order.len());
        assert!(k >= 2, "{order:?}");
        let three = of("three");
        assert_eq!(three.len(), k);
        let configs: Vec<_> = three.iter().map(|r| r.config.clone()).collect();
        assert_eq!(configs, order[..k].to_vec());
        assert!(three
            .iter()
            .all(|r| r.objective == gmmtune::eval::Objective::CvLoglik));
        let best_cv = three
            .iter()
            .map(|r| r.metrics.as_ref().unwrap().cv_loglik.unwrap())
            .fold(f64::NEG_INFINITY, f64::max);
        let selected = &seed.measured[seed.selected["three"]];
        assert_eq!(selected.metrics.as_ref().unwrap().cv_loglik, Some(best_cv));
        assert_eq!(of("rules")[0].config, portfolio.rule_config(&seed.meta));
        // The default is the rules order, three fitted, chosen by held-out log-likelihood.
        let default = of("default");
        let rules_order = candidates(&portfolio, Some(&seed.meta), Choose::Rules, 3);
        assert_eq!(default[0].config, rules_order[0]);
        assert_eq!(default.len(), 3.min(rules_order.len()));
    }
}

#[test]
fn mining_refuses_runs_of_different_protocols() {
    let tmp = tempfile::tempdir().unwrap();
    let data = write_dataset(tmp.path(), "d", 0, 200, 1);
    let entry = format!(
        "datasets:\n  - {{path: '{}', name: d}}\n{SPACE}",
        data.display()
    );
    let a = run(
        tmp.path(),
        "a",
        &format!("{entry}strategies: [{{kind: grid}}]\n"),
    );
    let b = run(
        tmp.path(),
        "b",
        &format!("score_quantile: 0.95\n{entry}strategies: [{{kind: grid, name: grid2}}]\n"),
    );
    let err = load_evidence(&[a.clone(), b]).unwrap_err().to_string();
    assert!(err.contains("different protocols"), "{err}");
    let err = load_evidence(&[a.clone(), a.clone()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("listed twice"), "{err}");
    let err = load_evidence(&[tmp.path().to_path_buf()])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a run directory"), "{err}");
    // Changed data cannot give the meta-features of the run.
    write_dataset(tmp.path(), "d", 0, 200, 2);
    let err = load_evidence(&[a]).unwrap_err().to_string();
    assert!(err.contains("changed since the run read it"), "{err}");
}

#[test]
fn bad_portfolio_files_are_refused_with_the_reason() {
    let shipped = Portfolio::builtin();
    let yaml = shipped.to_yaml();
    let refused = |text: &str| Portfolio::from_yaml_str(text, "p.yaml").unwrap_err();
    assert!(matches!(
        refused("a: [1, 2"),
        PortfolioError::Malformed { .. }
    ));
    assert!(matches!(
        refused("configs: []\n"),
        PortfolioError::Malformed { .. }
    ));
    let other = yaml.replacen("format: 1", "format: 7", 1);
    let err = refused(&other);
    assert!(matches!(err, PortfolioError::Incompatible { .. }), "{err}");
    assert!(err.to_string().contains("gmmtune mine"), "{err}");
    let renamed = yaml.replacen("- gain_mixture", "- gain_modes", 1);
    assert!(matches!(
        refused(&renamed),
        PortfolioError::Incompatible { .. }
    ));
    let mut short = shipped.clone();
    short.neighbours[0].regret.pop();
    let err = refused(&short.to_yaml()).to_string();
    assert!(err.contains("neighbours[0].regret"), "{err}");
    let mut index = shipped.clone();
    index.best_practice = index.configs.len();
    assert!(refused(&index.to_yaml())
        .to_string()
        .contains("best_practice"));
    let unknown = yaml.replacen("format: 1", "format: 1\nextra: 3", 1);
    assert!(refused(&unknown).to_string().contains("extra"));
}

#[test]
fn zeroshot_strategy_options_are_checked_in_the_config() {
    let key_of = |strategy: &str, extra: &str| -> String {
        let yaml =
            format!("name: t\n{extra}datasets: [{{path: a.csv}}]\nstrategies:\n  - {strategy}\n");
        match RunConfig::from_yaml_str(&yaml, "t.yaml") {
            Err(gmmtune::config::ConfigError::Invalid { key, message, .. }) => {
                format!("{key}: {message}")
            }
            other => panic!("{strategy}: expected an error, got {other:?}"),
        }
    };
    assert!(key_of("{kind: zeroshot, k: 3, select: none}", "").starts_with("strategies[0]"));
    assert!(key_of("{kind: zeroshot, k: 0}", "").contains("k must be at least 1"));
    assert!(key_of("{kind: zeroshot, objective: val_auc}", "").contains("judged by its `select`"));
    assert!(key_of("{kind: zeroshot, depth: 2}", "").contains("unknown key `depth`"));
    assert!(key_of("{kind: zeroshot, portfolio: nowhere.yaml}", "").contains("nowhere.yaml"));
    assert!(key_of("{kind: zeroshot}", "score_quantile: 0.9\n").starts_with("score_quantile"));
    let ok = RunConfig::from_yaml_str(
        "name: t\ndatasets: [{path: a.csv}]\nstrategies: [{kind: zeroshot, k: 1, select: none}]\n",
        "t.yaml",
    )
    .unwrap();
    assert_eq!(ok.strategies[0].objective, gmmtune::eval::Objective::Bic);
    assert!(ok.strategies_needing_labels().is_empty());
}

#[test]
fn mining_a_dataset_whose_trials_all_failed_is_an_error() {
    use gmmtune::zeroshot::evidence::{DatasetEvidence, Evidence, Measurement, SeedEvidence};
    use gmmtune::zeroshot::meta_features::MetaFeatures;
    let seed = |fail: bool| SeedEvidence {
        seed: 0,
        measured: vec![Measurement {
            config: Default::default(),
            metrics: (!fail).then(|| gmmtune::journal::TrialMetrics {
                val_auc: Some(0.8),
                ..Default::default()
            }),
        }],
        selected: Default::default(),
        meta: MetaFeatures {
            values: vec![0.0; 12],
        },
    };
    let evidence = Evidence {
        datasets: vec![
            DatasetEvidence {
                name: "ok".into(),
                family: "a".into(),
                sha256: String::new(),
                seeds: vec![seed(false)],
            },
            DatasetEvidence {
                name: "broken".into(),
                family: "b".into(),
                sha256: String::new(),
                seeds: vec![seed(true)],
            },
        ],
        sources: vec![],
        score_quantile: 0.99,
    };
    let err = mine(&evidence, &[0, 1], &MineOptions::default()).unwrap_err();
    assert!(
        matches!(err, ZeroshotError::AllFailed { ref dataset, .. } if dataset == "broken"),
        "{err}"
    );
}
