//! The data of a report, built only from run manifests (`run.json`, [`RunManifest`]) and
//! journals ([`RunJournal`]): the runs, their datasets and strategies, and every planned unit
//! (dataset × strategy × seed) with its trials and summary, finished, running or pending.

use std::path::{Path, PathBuf};

use crate::eval::Objective;
use crate::journal::{JournalError, RunJournal, StopReason, TrialRecord, TRIALS_FILE, UNITS_FILE};
use crate::run::{DatasetManifest, RunError, RunManifest, MANIFEST_FILE};

use super::summary::{summarise, SummaryRow};
use super::ReportError;

/// One run directory, read.
#[derive(Debug, Clone)]
pub struct RunSource {
    /// How the run is named in a comparison (its name, made unique).
    pub label: String,
    /// The run directory.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: RunManifest,
    /// Its journal.
    pub journal: RunJournal,
}

impl RunSource {
    /// Reads the manifest and the journals of the run in `dir`.
    ///
    /// # Errors
    /// [`ReportError::Run`] when `dir` is not a run directory, its manifest cannot be read, or
    /// its journal belongs to another run; [`ReportError::MissingTrials`] when units finished
    /// but `trials.jsonl` is gone (a copy of a run without its journal).
    pub fn load(dir: &Path) -> Result<RunSource, ReportError> {
        let manifest = RunManifest::read(dir)?.ok_or_else(|| RunError::NotARun {
            dir: dir.display().to_string(),
        })?;
        let journal = RunJournal::load(dir).map_err(RunError::from)?;
        if let Some(found) = journal.fingerprint()
            && found != manifest.fingerprint
        {
            return Err(RunError::Journal(JournalError::Mixed {
                first: dir.join(MANIFEST_FILE).display().to_string(),
                other: dir.join(TRIALS_FILE).display().to_string(),
                what: format!(
                    "the journal was written by run {found}, the manifest is of run {}",
                    manifest.fingerprint
                ),
            })
            .into());
        }
        if journal.trials.is_empty() && !journal.units.is_empty() {
            return Err(ReportError::MissingTrials {
                dir: dir.display().to_string(),
                units: journal.units.len(),
                trials: dir.join(TRIALS_FILE).display().to_string(),
                units_file: dir.join(UNITS_FILE).display().to_string(),
            });
        }
        Ok(RunSource {
            label: manifest.name.clone(),
            dir: dir.to_path_buf(),
            manifest,
            journal,
        })
    }

    /// The seeds of the run, from its config (`[0]` if the manifest holds none).
    pub fn seeds(&self) -> Vec<u64> {
        let seeds: Vec<u64> = self
            .manifest
            .config
            .get("seeds")
            .and_then(|s| s.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_u64()).collect())
            .unwrap_or_default();
        if seeds.is_empty() {
            vec![0]
        } else {
            seeds
        }
    }

    /// The config entry of strategy `name`.
    fn strategy_entry(&self, name: &str) -> Option<&serde_json::Value> {
        self.manifest
            .config
            .get("strategies")?
            .as_array()?
            .iter()
            .find(|s| s.get("name").and_then(|n| n.as_str()) == Some(name))
    }

    /// The kind of strategy `name` (`grid`, `random`, `cfo`, …), from the config.
    pub fn strategy_kind(&self, name: &str) -> String {
        self.strategy_entry(name)
            .and_then(|s| s.get("spec"))
            .and_then(|s| s.get("kind"))
            .and_then(|k| k.as_str())
            .unwrap_or("unknown")
            .to_string()
    }

    /// The objective of strategy `name`, from the config.
    pub fn strategy_objective(&self, name: &str) -> Option<Objective> {
        let value = self.strategy_entry(name)?.get("objective")?.clone();
        serde_json::from_value(value).ok()
    }
}

/// A dataset of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetInfo {
    /// Name in results.
    pub name: String,
    /// Rows read.
    pub rows: usize,
    /// Feature columns.
    pub features: usize,
    /// Anomalous rows.
    pub anomalies: usize,
    /// Whether it has labels.
    pub labelled: bool,
    /// Its family.
    pub family: String,
    /// Whether it is a time series.
    pub ordered: bool,
    /// The protocol, in words.
    pub protocol: String,
    /// The cost model, in words.
    pub cost_model: String,
    /// Why its protocol differs from the run's.
    pub note: Option<String>,
    /// Its manifest entry in each run (index as [`ReportModel::runs`]).
    pub sources: Vec<Option<DatasetManifest>>,
}

impl DatasetInfo {
    fn from_manifest(d: &DatasetManifest, runs: usize, run: usize) -> DatasetInfo {
        let mut sources = vec![None; runs];
        sources[run] = Some(d.clone());
        DatasetInfo {
            name: d.name.clone(),
            rows: d.rows,
            features: d.features,
            anomalies: d.anomalies,
            labelled: d.labelled,
            family: d.family.clone(),
            ordered: d.ordered,
            protocol: describe_protocol(d),
            cost_model: format!(
                "c_alarm {} · c_missed {} · tolerance {}",
                d.cost_model.c_alarm, d.cost_model.c_missed, d.cost_model.tolerance
            ),
            note: d.note.clone(),
            sources,
        }
    }

    /// Anomalies as a percentage of the rows (`None` without labels).
    pub fn anomaly_pct(&self) -> Option<f64> {
        (self.labelled && self.rows > 0).then(|| 100.0 * self.anomalies as f64 / self.rows as f64)
    }
}

/// The protocol of a dataset in words.
pub fn describe_protocol(d: &DatasetManifest) -> String {
    use crate::data::{SplitMethod, TrainOn};
    let split = match d.protocol.split {
        SplitMethod::Stratified { train, validation } => format!(
            "stratified {:.0}/{:.0}/{:.0}",
            100.0 * train,
            100.0 * validation,
            100.0 * (1.0 - train - validation)
        ),
        SplitMethod::Ordered {
            train_end,
            validation_end,
        } => format!("ordered: train < {train_end} ≤ validation < {validation_end} ≤ test"),
        SplitMethod::Column => "split column".to_string(),
    };
    let train_on = match d.protocol.train_on {
        TrainOn::Normal => "fit on normal train rows",
        TrainOn::All => "fit on all train rows",
    };
    format!("{split}, {train_on}")
}

/// A strategy of the report (in a comparison, a strategy of one run).
#[derive(Debug, Clone, PartialEq)]
pub struct StrategyInfo {
    /// Name shown (`strategy`, or `run/strategy` in a comparison).
    pub name: String,
    /// Index of its run in [`ReportModel::runs`].
    pub run: usize,
    /// Its name within the run.
    pub strategy: String,
    /// Its kind (`grid`, `random`, `cfo`, `fixed`, …).
    pub kind: String,
    /// Its objective.
    pub objective: Option<Objective>,
}

impl StrategyInfo {
    /// Whether the strategy chooses configurations from earlier results (so its trials
    /// over-represent good regions of the space).
    pub fn adaptive(&self) -> bool {
        !matches!(self.kind.as_str(), "grid" | "random" | "fixed")
    }
}

/// Where a unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitState {
    /// It finished, for this reason.
    Finished(StopReason),
    /// It has trials but has not finished (running, or interrupted).
    Running,
    /// No trial yet.
    Pending,
}

impl UnitState {
    /// In words.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitState::Finished(r) => r.as_str(),
            UnitState::Running => "unfinished",
            UnitState::Pending => "pending",
        }
    }
}

/// One unit of a run.
#[derive(Debug, Clone)]
pub struct UnitData {
    /// Index into [`ReportModel::datasets`].
    pub dataset: usize,
    /// Index into [`ReportModel::strategies`].
    pub strategy: usize,
    /// The seed.
    pub seed: u64,
    /// Where it is.
    pub state: UnitState,
    /// Its summary (selection, trials, seconds), when it has trials.
    pub summary: Option<SummaryRow>,
    /// Its trials, by trial index.
    pub trials: Vec<TrialRecord>,
}

impl UnitData {
    /// The selected trial.
    pub fn selected(&self) -> Option<&TrialRecord> {
        self.summary.as_ref()?.selected.as_ref()
    }
}

/// Everything a report shows, before any figure is computed.
#[derive(Debug, Clone)]
pub struct ReportModel {
    /// The runs (one, or several in a comparison).
    pub runs: Vec<RunSource>,
    /// The datasets (in a comparison, those every run has), in the first run's order.
    pub datasets: Vec<DatasetInfo>,
    /// The strategies, in run then config order.
    pub strategies: Vec<StrategyInfo>,
    /// Every seed of any run, ascending.
    pub seeds: Vec<u64>,
    /// Every planned unit, ordered by dataset, seed, strategy.
    pub units: Vec<UnitData>,
    /// What the journals tolerated or what was left out, to show.
    pub warnings: Vec<String>,
}

impl ReportModel {
    /// The model of one run.
    ///
    /// ```
    /// # use gmmtune::report::model::{ReportModel, RunSource};
    /// # fn show(source: RunSource) {
    /// let model = ReportModel::single(source);
    /// println!("{} units", model.units.len());
    /// # }
    /// ```
    pub fn single(source: RunSource) -> ReportModel {
        let datasets: Vec<String> = source
            .manifest
            .datasets
            .iter()
            .map(|d| d.name.clone())
            .collect();
        ReportModel::build(vec![source], &datasets)
    }

    /// The model of several runs over the datasets named (each run must have them), with the
    /// strategies named `run/strategy`.
    pub(crate) fn build(runs: Vec<RunSource>, datasets: &[String]) -> ReportModel {
        let several = runs.len() > 1;
        let mut infos: Vec<DatasetInfo> = Vec::new();
        for name in datasets {
            let mut info: Option<DatasetInfo> = None;
            for (r, run) in runs.iter().enumerate() {
                if let Some(d) = run.manifest.dataset(name) {
                    match &mut info {
                        None => info = Some(DatasetInfo::from_manifest(d, runs.len(), r)),
                        Some(i) => i.sources[r] = Some(d.clone()),
                    }
                }
            }
            infos.extend(info);
        }
        let mut strategies = Vec::new();
        for (r, run) in runs.iter().enumerate() {
            for s in &run.manifest.strategies {
                strategies.push(StrategyInfo {
                    name: if several {
                        format!("{}/{s}", run.label)
                    } else {
                        s.clone()
                    },
                    run: r,
                    strategy: s.clone(),
                    kind: run.strategy_kind(s),
                    objective: run.strategy_objective(s),
                });
            }
        }
        let mut seeds: Vec<u64> = runs.iter().flat_map(RunSource::seeds).collect();
        seeds.sort_unstable();
        seeds.dedup();
        let mut warnings = Vec::new();
        let mut units = Vec::new();
        let summaries: Vec<Vec<SummaryRow>> = runs
            .iter()
            .map(|run| summarise(&run.journal, datasets, &run.manifest.strategies))
            .collect();
        for run in &runs {
            for w in &run.journal.warnings {
                warnings.push(if several {
                    format!("{}: {w}", run.label)
                } else {
                    w.clone()
                });
            }
        }
        let by_unit: Vec<std::collections::BTreeMap<_, Vec<&TrialRecord>>> = runs
            .iter()
            .map(|run| run.journal.trials_by_unit())
            .collect();
        for (d, info) in infos.iter().enumerate() {
            for &seed in &seeds {
                for (s, strategy) in strategies.iter().enumerate() {
                    let run = &runs[strategy.run];
                    if !run.seeds().contains(&seed) {
                        continue;
                    }
                    let summary = summaries[strategy.run]
                        .iter()
                        .find(|row| {
                            row.unit.dataset == info.name
                                && row.unit.strategy == strategy.strategy
                                && row.unit.seed == seed
                        })
                        .cloned();
                    let trials: Vec<TrialRecord> = summary
                        .as_ref()
                        .and_then(|row| by_unit[strategy.run].get(&row.unit))
                        .map(|records| records.iter().map(|r| (*r).clone()).collect())
                        .unwrap_or_default();
                    let state = match &summary {
                        None => UnitState::Pending,
                        Some(row) => row
                            .stop_reason
                            .map_or(UnitState::Running, UnitState::Finished),
                    };
                    units.push(UnitData {
                        dataset: d,
                        strategy: s,
                        seed,
                        state,
                        summary,
                        trials,
                    });
                }
            }
        }
        ReportModel {
            runs,
            datasets: infos,
            strategies,
            seeds,
            units,
            warnings,
        }
    }

    /// The unit of dataset `d`, strategy `s` and `seed`.
    pub fn unit(&self, d: usize, s: usize, seed: u64) -> Option<&UnitData> {
        self.units
            .iter()
            .find(|u| u.dataset == d && u.strategy == s && u.seed == seed)
    }

    /// The units of dataset `d` and strategy `s`, over seeds.
    pub fn units_of(&self, d: usize, s: usize) -> impl Iterator<Item = &UnitData> {
        self.units
            .iter()
            .filter(move |u| u.dataset == d && u.strategy == s)
    }

    /// Trials in the report.
    pub fn trial_count(&self) -> usize {
        self.units.iter().map(|u| u.trials.len()).sum()
    }

    /// Finished units.
    pub fn finished_units(&self) -> usize {
        self.units
            .iter()
            .filter(|u| matches!(u.state, UnitState::Finished(_)))
            .count()
    }

    /// The objective of the report's strategies when they share one.
    pub fn common_objective(&self) -> Option<Objective> {
        let first = self.strategies.first()?.objective?;
        self.strategies
            .iter()
            .all(|s| s.objective == Some(first))
            .then_some(first)
    }
}
