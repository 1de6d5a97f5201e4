//! Regret tables: how far each candidate configuration is from the best any evaluated
//! configuration reached, per dataset and seed, in ROC AUC and in the cost ratio (cost over the
//! cost of never alarming), with the configuration's rank.
//!
//! A candidate is a configuration measured on every dataset and seed of the table (a grid run
//! gives them). The best is taken over every configuration measured there (a search's own
//! configurations included). A failed fit scores [`FAILED_AUC`] (a detector that ranks at random)
//! and a cost ratio of 1 (no better than never alarming).
//!
//! ```
//! use gmmtune::zeroshot::regret::Score;
//! assert_eq!(Score::ValAuc.as_str(), "val_auc");
//! ```

use serde::{Deserialize, Serialize};

use super::evidence::{Evidence, Measurement};
use super::stats::average_ranks;
use super::ZeroshotError;
use crate::gmm_config::GmmConfig;

/// The AUC a failed fit counts as.
pub const FAILED_AUC: f64 = 0.5;

/// Which figures regrets are measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Score {
    /// Validation AUC and validation cost ratio (mining never reads test labels).
    #[default]
    ValAuc,
    /// Test AUC and test cost ratio (the held-out figures of an evaluation).
    TestAuc,
}

impl Score {
    /// The name in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Score::ValAuc => "val_auc",
            Score::TestAuc => "test_auc",
        }
    }

    /// The AUC of a measurement ([`FAILED_AUC`] when failed or undefined).
    pub fn auc(self, m: &Measurement) -> f64 {
        m.metrics
            .as_ref()
            .and_then(|x| match self {
                Score::ValAuc => x.val_auc,
                Score::TestAuc => x.test_auc,
            })
            .unwrap_or(FAILED_AUC)
    }

    /// The cost ratio at the validation threshold (1 when failed or undefined).
    pub fn cost_ratio(self, m: &Measurement) -> f64 {
        m.metrics
            .as_ref()
            .and_then(|x| match self {
                Score::ValAuc => x.val_cost_ratio(),
                Score::TestAuc => x.test_cost_ratio(),
            })
            .unwrap_or(1.0)
    }
}

/// Regrets of the candidates over a set of datasets; indices `[dataset][seed][candidate]`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegretTable {
    /// The candidate configurations.
    pub configs: Vec<GmmConfig>,
    /// Indices of the datasets in the evidence.
    pub datasets: Vec<usize>,
    /// AUC of each candidate.
    pub auc: Vec<Vec<Vec<f64>>>,
    /// Best AUC minus the candidate's.
    pub regret: Vec<Vec<Vec<f64>>>,
    /// The candidate's cost ratio minus the best cost ratio.
    pub cost_regret: Vec<Vec<Vec<f64>>>,
    /// Rank of the candidate's AUC among every configuration measured there (1 = best, ties
    /// share the mean rank).
    pub rank: Vec<Vec<Vec<f64>>>,
}

impl RegretTable {
    /// The table of `datasets` (indices into `evidence.datasets`) in `score`. The candidates are
    /// the configurations measured on every dataset and seed, in the order of the first.
    pub fn build(
        evidence: &Evidence,
        datasets: &[usize],
        score: Score,
    ) -> Result<RegretTable, ZeroshotError> {
        let first = datasets
            .first()
            .and_then(|&d| evidence.datasets[d].seeds.first())
            .ok_or_else(|| ZeroshotError::NoEvidence("no dataset to mine".into()))?;
        let configs: Vec<GmmConfig> = first
            .measured
            .iter()
            .map(|m| m.config.clone())
            .filter(|c| {
                datasets.iter().all(|&d| {
                    evidence.datasets[d]
                        .seeds
                        .iter()
                        .all(|s| s.find(c).is_some())
                })
            })
            .collect();
        if configs.is_empty() {
            return Err(ZeroshotError::NoEvidence(
                "no configuration was measured on every dataset and seed: mine runs with a grid strategy over one space".into(),
            ));
        }
        let mut table = RegretTable {
            configs,
            datasets: datasets.to_vec(),
            auc: Vec::new(),
            regret: Vec::new(),
            cost_regret: Vec::new(),
            rank: Vec::new(),
        };
        for &d in datasets {
            let data = &evidence.datasets[d];
            let (mut auc_d, mut regret_d, mut cost_d, mut rank_d) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for seed in &data.seeds {
                if seed.measured.iter().all(|m| m.metrics.is_none()) {
                    return Err(ZeroshotError::AllFailed {
                        dataset: data.name.clone(),
                        seed: seed.seed,
                    });
                }
                let all_auc: Vec<f64> = seed.measured.iter().map(|m| score.auc(m)).collect();
                let best = all_auc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let best_cost = seed
                    .measured
                    .iter()
                    .map(|m| score.cost_ratio(m))
                    .fold(f64::INFINITY, f64::min);
                let negated: Vec<f64> = all_auc.iter().map(|a| -a).collect();
                let (ranks, _) = average_ranks(&negated);
                let index: Vec<usize> = table
                    .configs
                    .iter()
                    .map(|c| seed.find(c).expect("candidates are measured everywhere"))
                    .collect();
                auc_d.push(index.iter().map(|&i| all_auc[i]).collect());
                regret_d.push(index.iter().map(|&i| best - all_auc[i]).collect());
                cost_d.push(
                    index
                        .iter()
                        .map(|&i| score.cost_ratio(&seed.measured[i]) - best_cost)
                        .collect(),
                );
                rank_d.push(index.iter().map(|&i| ranks[i]).collect());
            }
            table.auc.push(auc_d);
            table.regret.push(regret_d);
            table.cost_regret.push(cost_d);
            table.rank.push(rank_d);
        }
        Ok(table)
    }

    /// `values[dataset][seed][candidate]` averaged over seeds: `[dataset][candidate]`.
    pub fn seed_mean(values: &[Vec<Vec<f64>>]) -> Vec<Vec<f64>> {
        values
            .iter()
            .map(|seeds| {
                let n = seeds.len() as f64;
                let mut out = vec![0.0; seeds[0].len()];
                for s in seeds {
                    for (o, v) in out.iter_mut().zip(s) {
                        *o += v / n;
                    }
                }
                out
            })
            .collect()
    }

    /// Mean over datasets (of the seed means) of candidate `c` in `values`.
    pub fn mean_of(values: &[Vec<Vec<f64>>], c: usize) -> f64 {
        let per_dataset = RegretTable::seed_mean(values);
        per_dataset.iter().map(|d| d[c]).sum::<f64>() / per_dataset.len() as f64
    }

    /// Standard deviation over seeds of the mean over datasets of candidate `c` in `values`
    /// (seeds by position; every dataset has the same seeds).
    pub fn seed_spread_of(values: &[Vec<Vec<f64>>], c: usize) -> f64 {
        let seeds = values[0].len();
        let per_seed: Vec<f64> = (0..seeds)
            .map(|s| values.iter().map(|d| d[s][c]).sum::<f64>() / values.len() as f64)
            .collect();
        std_dev(&per_seed)
    }
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
pub fn std_dev(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt()
}
