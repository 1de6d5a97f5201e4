//! The ROC and cost curves of the selected configurations. The journal holds figures, not
//! scores, so each selected model is rebuilt exactly as `gmmtune export` rebuilds it (data
//! checked by content hash, same split, standardiser and fit seed, and the rebuilt model must
//! measure as journaled) and its validation and test rows are scored.
//!
//! The cost is bounded: only finished units of the first seed get curves, a configuration
//! selected by several strategies is fitted once, each data file is read once per build, and
//! a [`CurveCache`] keeps the curves between the rebuilds of a running run. When the data file
//! is gone or changed, the curves say why instead of being left out.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Instant;

use crate::data::Prepared;
use crate::eval::CostModel;
use crate::gmm::GaussianMixture;
use crate::journal::TrialRecord;
use crate::run::{prepare_like, read_run_data, refit_trial};

use super::curves::{cost_curve, downsample_min_max, operating_point, roc_curve, thin};
use super::model::{ReportModel, UnitState};

/// Most points kept of a ROC curve (after dropping the points that are not corners).
pub const MAX_ROC_POINTS: usize = 300;
/// Most points kept of a cost curve.
pub const MAX_COST_POINTS: usize = 400;

/// The curves of one part (validation or test) at the selected threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct PartCurves {
    /// ROC curve, (false positive rate, true positive rate).
    pub roc: Vec<(f64, f64)>,
    /// The operating point of the chosen threshold.
    pub operating: Option<(f64, f64)>,
    /// Cost against threshold, the threshold placed by the [`ShareAxis`] (share of validation
    /// rows above it), ascending: a staircase to draw as a plain line.
    pub cost: Vec<(f64, f64)>,
    /// The cost at the chosen threshold.
    pub cost_at_threshold: f64,
    /// The cost of never alarming.
    pub never_alarm: f64,
    /// Rows scored.
    pub rows: usize,
}

/// The curves of a selected configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectedCurves {
    /// The threshold chosen on validation.
    pub threshold: f64,
    /// Where the threshold sits on the cost chart's axis ([`ShareAxis`]).
    pub threshold_share: f64,
    /// The lowest position of that axis (half a validation row).
    pub share_floor: f64,
    /// On validation.
    pub validation: PartCurves,
    /// On test.
    pub test: PartCurves,
    /// Seconds the rebuild took.
    pub seconds: f64,
}

/// The curves of a unit, or why there are none.
pub type CurveResult = Result<Arc<SelectedCurves>, String>;

/// Curves computed earlier, by everything that decides them (data hash, protocol with split
/// seed, configuration, fit seed), so the rebuilds of a running run fit each selection once.
#[derive(Debug, Default)]
pub struct CurveCache {
    entries: HashMap<String, CurveResult>,
    /// Refits done through this cache.
    pub refits: usize,
    /// Seconds those refits took.
    pub seconds: f64,
}

fn cache_key(record: &TrialRecord) -> String {
    format!(
        "{}|{}|{}|{}",
        record.context.data.sha256,
        serde_json::to_string(&record.context.protocol).unwrap_or_default(),
        record.config.signature(),
        record.fit_seed
    )
}

/// Costs above this multiple of the never-alarm cost are not drawn: a threshold that costs
/// more than never alarming is of no use, and the cost of alarming on everything would squeeze
/// the interesting part.
pub const COST_CAP: f64 = 1.5;

/// Where thresholds sit on the cost chart's axis: as the share of validation rows scoring
/// above them (what the threshold flags on the data it was chosen on). Anomaly scores span
/// many orders of magnitude and may be negative, so the score itself makes an unreadable axis;
/// the share is a monotone relabelling of it that a log axis shows well. A threshold that flags
/// no validation row sits at half a row.
#[derive(Debug, Clone)]
pub struct ShareAxis {
    sorted: Vec<f64>,
}

impl ShareAxis {
    /// The axis of these validation scores (NaN scores alarm everywhere, as in the cost model).
    pub fn new(validation_scores: &[f64]) -> ShareAxis {
        let mut sorted: Vec<f64> = validation_scores
            .iter()
            .map(|&s| if s.is_nan() { f64::INFINITY } else { s })
            .collect();
        sorted.sort_by(f64::total_cmp);
        ShareAxis { sorted }
    }

    /// The share of validation rows with a score strictly above `threshold`, at least half a
    /// row.
    pub fn at(&self, threshold: f64) -> f64 {
        let n = self.sorted.len().max(1) as f64;
        let above = self.sorted.len() - self.sorted.partition_point(|&s| s <= threshold);
        (above as f64).max(0.5) / n
    }

    /// The lowest position (half a row).
    pub fn floor(&self) -> f64 {
        0.5 / self.sorted.len().max(1) as f64
    }
}

/// The staircase of a cost step function `(t, cost(t))` (t ascending) drawn against the share
/// axis, ascending in share: cost(tᵢ) holds from tᵢ to tᵢ₊₁, that is from share(tᵢ₊₁) to
/// share(tᵢ).
fn staircase(steps: &[(f64, f64)], axis: &ShareAxis) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * steps.len());
    for (i, &(t, c)) in steps.iter().enumerate() {
        let right = axis.at(t);
        let left = steps.get(i + 1).map_or(axis.floor(), |n| axis.at(n.0));
        out.push((right, c));
        out.push((left, c));
    }
    out.reverse();
    out.dedup();
    out
}

/// [`downsample_min_max`] in the log of x.
fn downsample_log_x(points: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    let logged: Vec<(f64, f64)> = points.iter().map(|&(x, y)| (x.log10(), y)).collect();
    downsample_min_max(&logged, max)
        .into_iter()
        .map(|(x, y)| (10f64.powf(x), y))
        .collect()
}

/// Scores, labels and full cost steps of one part.
struct Scored<'a> {
    scores: Vec<f64>,
    labels: &'a [bool],
    steps: Vec<(f64, f64)>,
    never_alarm: f64,
}

impl<'a> Scored<'a> {
    fn new(
        model: &GaussianMixture,
        part: &'a crate::data::Part,
        cost_model: &CostModel,
    ) -> Result<Scored<'a>, String> {
        let scores = scores(model, part)?;
        let steps = cost_curve(cost_model, &scores, &part.labels);
        Ok(Scored {
            never_alarm: cost_model.never_alarm_cost(&part.labels),
            scores,
            labels: &part.labels,
            steps,
        })
    }

    fn curves(&self, cost_model: &CostModel, threshold: f64, axis: &ShareAxis) -> PartCurves {
        let (fpr, tpr) = roc_curve(&self.scores, self.labels, true);
        let roc: Vec<(f64, f64)> = fpr.into_iter().zip(tpr).collect();
        PartCurves {
            roc: thin(&roc, MAX_ROC_POINTS),
            operating: operating_point(&self.scores, self.labels, threshold),
            cost: downsample_log_x(&staircase(&self.steps, axis), MAX_COST_POINTS),
            cost_at_threshold: cost_model.cost(&self.scores, self.labels, threshold),
            never_alarm: self.never_alarm,
            rows: self.scores.len(),
        }
    }
}

fn scores(model: &GaussianMixture, part: &crate::data::Part) -> Result<Vec<f64>, String> {
    model
        .score_samples(part.x.view())
        .map(|ll| ll.iter().map(|v| -v).collect())
        .map_err(|e| e.to_string())
}

fn curves_of(prepared: &Prepared, record: &TrialRecord) -> CurveResult {
    let started = Instant::now();
    let (model, metrics) = refit_trial(prepared, record, false).map_err(|e| e.to_string())?;
    let threshold = metrics
        .threshold
        .ok_or_else(|| "the selected trial has no threshold (no labels)".to_string())?;
    let cost_model = record.context.protocol.cost_model;
    let val = Scored::new(&model, &prepared.validation, &cost_model)?;
    let test = Scored::new(&model, &prepared.test, &cost_model)?;
    let axis = ShareAxis::new(&val.scores);
    let validation = val.curves(&cost_model, threshold, &axis);
    let test = test.curves(&cost_model, threshold, &axis);
    Ok(Arc::new(SelectedCurves {
        threshold,
        threshold_share: axis.at(threshold),
        share_floor: axis.floor(),
        validation,
        test,
        seconds: started.elapsed().as_secs_f64(),
    }))
}

/// The curves of every finished unit of the first seed on labelled data, by unit index in
/// `model.units`; units left out are not in the map. Uses and fills `cache`.
pub fn selected_curves(
    model: &ReportModel,
    cache: &mut CurveCache,
) -> BTreeMap<usize, CurveResult> {
    let Some(&first_seed) = model.seeds.first() else {
        return BTreeMap::new();
    };
    // Requests grouped by run and dataset, so each file is read once.
    let mut wanted: BTreeMap<(usize, usize), Vec<(usize, &TrialRecord)>> = BTreeMap::new();
    let mut out = BTreeMap::new();
    for (i, unit) in model.units.iter().enumerate() {
        if unit.seed != first_seed || !model.datasets[unit.dataset].labelled {
            continue;
        }
        if !matches!(unit.state, UnitState::Finished(_)) {
            continue;
        }
        let Some(record) = unit.selected() else {
            continue;
        };
        match cache.entries.get(&cache_key(record)) {
            Some(found) => {
                out.insert(i, found.clone());
            }
            None => wanted
                .entry((model.strategies[unit.strategy].run, unit.dataset))
                .or_default()
                .push((i, record)),
        }
    }
    for ((run, d), requests) in wanted {
        let started = Instant::now();
        let Some(data) = model.datasets[d].sources[run].as_ref() else {
            continue;
        };
        let table = read_run_data(data).map_err(|e| {
            format!("curves need the data again, and it cannot be read as the run read it: {e}")
        });
        let mut prepared: HashMap<u64, Result<Prepared, String>> = HashMap::new();
        for (i, record) in requests {
            let key = cache_key(record);
            let result = match cache.entries.get(&key) {
                Some(found) => found.clone(),
                None => {
                    let result = match &table {
                        Err(e) => Err(e.clone()),
                        Ok(table) => {
                            let p = prepared
                                .entry(record.context.protocol.split_seed)
                                .or_insert_with(|| {
                                    prepare_like(table, record).map_err(|e| e.to_string())
                                });
                            match p {
                                Ok(p) => curves_of(p, record),
                                Err(e) => Err(e.clone()),
                            }
                        }
                    };
                    cache.refits += 1;
                    cache.entries.insert(key, result.clone());
                    result
                }
            };
            out.insert(i, result);
        }
        cache.seconds += started.elapsed().as_secs_f64();
    }
    out
}
