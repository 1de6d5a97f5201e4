//! The sections of a report, from a [`ReportModel`] and the curves of its selected models, and
//! the one call that rebuilds a run directory's report from its journal.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::eval::Objective;
use crate::journal::{TrialRecord, TrialStatus};
use crate::plot::{format_value, Axis, NamedSvg};

use super::charts::{self, EffectFigure, Numeric, Selection};
use super::comparison::{self, StrategyComparison, MIN_DATASETS_FOR_CD};
use super::document::{Block, Cell, Document, Section, Table};
use super::effects::{config_points, importance, ConfigPoint};
use super::files::{write_document, Written};
use super::history::{histories, StrategyHistory, UnitHistory};
use super::model::{ReportModel, RunSource, UnitData, UnitState};
use super::refit::{selected_curves, CurveCache, CurveResult, MAX_COST_POINTS, MAX_ROC_POINTS};
use super::slug::{slug, Slugs};
use super::stats::{mean, quantile, sample_sd};
use super::zeroshot::{self, ZeroshotTables};
use super::ReportError;

/// What to put in a report.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Leave out the ROC and cost curves (no refits).
    pub no_curves: bool,
    /// A zero-shot evaluation's tables to add as a section (their directory).
    pub zeroshot: Option<PathBuf>,
}

/// A report written.
#[derive(Debug, Clone)]
pub struct BuiltReport {
    /// The files.
    pub written: Written,
    /// Units finished, of those planned.
    pub finished_units: usize,
    /// Units planned.
    pub planned_units: usize,
    /// Trials in the journal.
    pub trials: usize,
    /// Seconds the build took, refits included.
    pub seconds: f64,
    /// Refits done for this build (not found in the cache).
    pub refits: usize,
}

/// Rebuilds the report of the run in `dir` from its manifest and journal, into `dir`
/// (`report.html`, `report.md`, `plots/`, `tables/`). `cache` keeps the curves of the selected
/// models between calls (a running run rebuilds its report often).
pub fn build_run_report(
    dir: &Path,
    options: &ReportOptions,
    cache: Option<&mut CurveCache>,
) -> Result<BuiltReport, ReportError> {
    let started = Instant::now();
    let source = RunSource::load(dir)?;
    let model = ReportModel::single(source);
    let title = format!("gmmtune report: {}", model.runs[0].manifest.name);
    write_model(dir, &model, &title, options, cache, started)
}

/// Builds and writes the report of `model` into `out`.
pub(crate) fn write_model(
    out: &Path,
    model: &ReportModel,
    title: &str,
    options: &ReportOptions,
    cache: Option<&mut CurveCache>,
    started: Instant,
) -> Result<BuiltReport, ReportError> {
    let mut local = CurveCache::default();
    let cache = cache.unwrap_or(&mut local);
    let refits_before = cache.refits;
    let curves = if options.no_curves {
        BTreeMap::new()
    } else {
        selected_curves(model, cache)
    };
    let zeroshot = match &options.zeroshot {
        Some(dir) => Some(zeroshot::read_tables(dir)?),
        None => None,
    };
    let doc = build_document(model, &curves, options, title, zeroshot.as_ref())?;
    let written = write_document(out, &doc)?;
    Ok(BuiltReport {
        written,
        finished_units: model.finished_units(),
        planned_units: model.units.len(),
        trials: model.trial_count(),
        seconds: started.elapsed().as_secs_f64(),
        refits: cache.refits - refits_before,
    })
}

fn objective_words(o: Objective) -> &'static str {
    match o {
        Objective::ValAuc => "validation AUC",
        Objective::ValCost => "validation cost",
        Objective::Bic => "BIC",
        Objective::CvLoglik => "cross-validated log-likelihood",
    }
}

fn json_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => "–".into(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Builds the report's document.
pub fn build_document(
    model: &ReportModel,
    curves: &BTreeMap<usize, CurveResult>,
    options: &ReportOptions,
    title: &str,
    zeroshot: Option<&ZeroshotTables>,
) -> Result<Document, ReportError> {
    let mut slugs = Slugs::default();
    let histories = histories(model);
    let points = config_points(model);
    let mut sections = vec![
        run_section(model),
        comparison_section(model, &mut slugs)?,
        history_section(model, &histories)?,
        effects_section(model, &points)?,
        datasets_section(model),
        results_section(model),
        per_dataset_section(model, &histories, curves, options, &mut slugs)?,
    ];
    if let Some(z) = zeroshot {
        sections.push(zeroshot::section(z)?);
    }
    sections.push(method_section(model, curves, &points));
    let runs: Vec<&str> = model.runs.iter().map(|r| r.label.as_str()).collect();
    let state = if model.finished_units() == model.units.len() {
        "finished".to_string()
    } else {
        format!(
            "in progress or interrupted: {} of {} units finished (rebuilt as units finish; reload to follow)",
            model.finished_units(),
            model.units.len()
        )
    };
    Ok(Document {
        title: title.to_string(),
        subtitle: vec![
            format!(
                "{} {}: {} · {} dataset(s) × {} strateg{} × {} seed(s) · {} trials",
                if runs.len() == 1 { "run" } else { "runs" },
                runs.join(", "),
                state,
                model.datasets.len(),
                model.strategies.len(),
                if model.strategies.len() == 1 {
                    "y"
                } else {
                    "ies"
                },
                model.seeds.len(),
                model.trial_count()
            ),
            format!(
                "gmmtune {} · built from run.json and the journal{}",
                crate::journal::GMMTUNE_VERSION,
                if runs.len() == 1 {
                    format!(" (rebuild: gmmtune report {})", model.runs[0].dir.display())
                } else {
                    String::new()
                }
            ),
        ],
        sections,
    })
}

fn run_section(model: &ReportModel) -> Section {
    let mut s = Section::new("run", if model.runs.len() == 1 { "Run" } else { "Runs" });
    let mut columns = vec!["".to_string()];
    columns.extend(model.runs.iter().map(|r| r.label.clone()));
    let mut fields: Vec<(&str, Vec<Cell>)> = [
        "directory",
        "fingerprint",
        "generation",
        "gmmtune version",
        "seeds",
        "objective",
        "split",
        "train on",
        "cost model",
        "threshold search",
        "EM fit",
        "strategies",
        "datasets",
        "trials",
        "finished units",
    ]
    .iter()
    .map(|f| (*f, Vec::new()))
    .collect();
    for (r, run) in model.runs.iter().enumerate() {
        let c = &run.manifest.config;
        let protocol = c.get("protocol");
        let strategies: Vec<String> = model
            .strategies
            .iter()
            .filter(|st| st.run == r)
            .map(|st| {
                let entry = c
                    .get("strategies")
                    .and_then(|a| a.as_array())
                    .and_then(|a| {
                        a.iter()
                            .find(|e| e.get("name").and_then(|n| n.as_str()) == Some(&st.strategy))
                    });
                let budget = entry.and_then(|e| e.get("budget"));
                let trials = budget
                    .and_then(|b| b.get("trials"))
                    .and_then(|v| v.as_u64());
                let seconds = budget
                    .and_then(|b| b.get("time_s"))
                    .and_then(|v| v.as_f64());
                let budget = match (trials, seconds) {
                    (Some(t), Some(s)) => format!("{t} trials or {s} s"),
                    (Some(t), None) => format!("{t} trials"),
                    (None, Some(s)) => format!("{s} s"),
                    (None, None) => "every configuration".to_string(),
                };
                format!(
                    "{} ({}{}; {budget} per unit)",
                    st.strategy,
                    st.kind,
                    st.objective
                        .map_or(String::new(), |o| format!(", {}", o.as_str())),
                )
            })
            .collect();
        let units: Vec<&UnitData> = model
            .units
            .iter()
            .filter(|u| model.strategies[u.strategy].run == r)
            .collect();
        let finished = units
            .iter()
            .filter(|u| matches!(u.state, UnitState::Finished(_)))
            .count();
        let values = [
            Cell::text(run.dir.display().to_string()),
            Cell::text(&run.manifest.fingerprint),
            Cell::count(run.manifest.generation as usize),
            Cell::text(&run.manifest.version),
            Cell::text(
                run.seeds()
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Cell::text(json_text(c.get("objective"))),
            Cell::text(json_text(protocol.and_then(|p| p.get("split")))),
            Cell::text(json_text(protocol.and_then(|p| p.get("train_on")))),
            Cell::text(json_text(c.get("cost_model"))),
            Cell::text(json_text(c.get("threshold"))),
            Cell::text(json_text(c.get("fit"))),
            Cell::text(strategies.join("; ")),
            Cell::count(run.manifest.datasets.len()),
            Cell::count(run.journal.trials.len()),
            Cell::text(format!("{finished} of {}", units.len())),
        ];
        for (field, value) in fields.iter_mut().zip(values) {
            field.1.push(value);
        }
    }
    let mut t = Table {
        name: "runs".into(),
        caption: "Config, protocol, seeds and version".into(),
        columns,
        rows: Vec::new(),
    };
    for (field, values) in fields {
        let mut row = vec![Cell::text(field)];
        row.extend(values);
        t.push(row);
    }
    s.push(Block::Table(t));
    if !model.warnings.is_empty() {
        s.push(Block::warning("The journal reader noted:"));
        s.push(Block::List(model.warnings.clone()));
    }
    for run in &model.runs {
        let text = serde_json::to_string_pretty(&run.manifest.config).unwrap_or_default();
        s.push(Block::Group {
            id: format!("config-{}", slug(&run.label)),
            title: format!(
                "Config of {} as checked (every default filled in)",
                run.label
            ),
            open: false,
            blocks: vec![Block::Code(text)],
        });
    }
    s
}

fn datasets_section(model: &ReportModel) -> Section {
    let mut s = Section::new("datasets", "Datasets");
    let mut t = Table::new(
        "datasets",
        "Datasets",
        &[
            "dataset",
            "family",
            "rows",
            "features",
            "anomalies",
            "anomaly %",
            "labelled",
            "ordered",
            "protocol",
            "cost model",
            "note",
        ],
    );
    for d in &model.datasets {
        t.push(vec![
            Cell::text(&d.name),
            Cell::text(&d.family),
            Cell::count(d.rows),
            Cell::count(d.features),
            Cell::count(d.anomalies),
            Cell::number(d.anomaly_pct(), 2),
            Cell::text(if d.labelled { "yes" } else { "no" }),
            Cell::text(if d.ordered { "yes" } else { "no" }),
            Cell::text(&d.protocol),
            Cell::text(&d.cost_model),
            Cell::text(d.note.clone().unwrap_or_default()),
        ]);
    }
    s.push(Block::Table(t));
    s
}

fn metric(u: &UnitData, get: fn(&crate::journal::TrialMetrics) -> Option<f64>) -> Option<f64> {
    u.selected()?.metrics.as_ref().and_then(get)
}

fn results_section(model: &ReportModel) -> Section {
    let mut s = Section::new("results", "Selected configurations");
    s.push(Block::text(
        "Per dataset and strategy: the configuration selected by the strategy's objective (the earliest trial among equals), its figures on validation and test (test labels are only reported, never used to select), and what the search spent. Cost ratio: test cost over the cost of never alarming (below 1: better than no detector).",
    ));
    let mut t = Table::new(
        "selected",
        "Selected configuration per dataset, strategy and seed",
        &[
            "dataset",
            "strategy",
            "seed",
            "state",
            "trial",
            "n_components",
            "covariance_type",
            "reg_covar",
            "init",
            "val AUC",
            "test AUC",
            "val AP",
            "test AP",
            "threshold",
            "val cost",
            "test cost",
            "never-alarm test cost",
            "test cost ratio",
            "trials",
            "failed",
            "seconds",
            "fit seconds",
        ],
    );
    for u in &model.units {
        let d = &model.datasets[u.dataset];
        let st = &model.strategies[u.strategy];
        let sel = u.selected();
        let summary = u.summary.as_ref();
        t.push(vec![
            Cell::text(&d.name),
            Cell::text(&st.name),
            Cell::count(u.seed as usize),
            Cell::text(u.state.as_str()),
            sel.map_or(Cell::text("–"), |r| Cell::count(r.trial)),
            sel.map_or(Cell::text("–"), |r| Cell::count(r.config.n_components)),
            Cell::text(sel.map_or("–".to_string(), |r| r.config.covariance_type.to_string())),
            sel.map_or(Cell::text("–"), |r| {
                Cell::with_raw(
                    format_value(r.config.reg_covar, 3),
                    r.config.reg_covar.to_string(),
                    true,
                )
            }),
            Cell::text(sel.map_or("–".to_string(), |r| r.config.init.to_string())),
            Cell::number(metric(u, |m| m.val_auc), 4),
            Cell::number(metric(u, |m| m.test_auc), 4),
            Cell::number(metric(u, |m| m.val_ap), 4),
            Cell::number(metric(u, |m| m.test_ap), 4),
            Cell::value(metric(u, |m| m.threshold), 5),
            Cell::value(metric(u, |m| m.val_cost), 6),
            Cell::value(metric(u, |m| m.test_cost), 6),
            Cell::value(metric(u, |m| m.never_alarm_test_cost), 6),
            Cell::number(metric(u, |m| m.test_cost_ratio()), 3),
            Cell::count(summary.map_or(0, |r| r.trials)),
            Cell::count(summary.map_or(0, |r| r.failed)),
            Cell::number(summary.map(|r| r.elapsed_s), 2),
            Cell::number(summary.map(|r| r.fit_seconds), 2),
        ]);
    }
    s.push(Block::Table(t));
    if model.seeds.len() > 1 {
        s.push(Block::Table(seed_table(model)));
    }
    if let Some(t) = failures_table(model) {
        s.push(Block::Table(t));
    }
    s
}

fn seed_table(model: &ReportModel) -> Table {
    let mut t = Table::new(
        "selected-over-seeds",
        "Over seeds: mean ± standard deviation per dataset and strategy",
        &[
            "dataset",
            "strategy",
            "seeds",
            "configurations selected",
            "val AUC",
            "val AUC sd",
            "test AUC",
            "test AUC sd",
            "test AP",
            "test AP sd",
            "test cost",
            "test cost sd",
            "test cost ratio",
            "test cost ratio sd",
            "trials",
            "failed",
            "seconds",
        ],
    );
    for (d, info) in model.datasets.iter().enumerate() {
        for (s, st) in model.strategies.iter().enumerate() {
            let units: Vec<&UnitData> = model
                .units_of(d, s)
                .filter(|u| u.summary.is_some())
                .collect();
            if units.is_empty() {
                continue;
            }
            let col = |get: fn(&crate::journal::TrialMetrics) -> Option<f64>| -> Vec<f64> {
                units.iter().filter_map(|u| metric(u, get)).collect()
            };
            let mut configs: BTreeMap<String, usize> = BTreeMap::new();
            for u in &units {
                if let Some(r) = u.selected() {
                    *configs.entry(r.config.to_string()).or_default() += 1;
                }
            }
            let configs_text = if configs.len() == 1 {
                configs.keys().next().cloned().unwrap_or_default()
            } else {
                format!("{} different", configs.len())
            };
            let mut row = vec![
                Cell::text(&info.name),
                Cell::text(&st.name),
                Cell::count(units.len()),
                Cell::text(configs_text),
            ];
            for (get, decimals) in [
                (
                    (|m| m.val_auc) as fn(&crate::journal::TrialMetrics) -> Option<f64>,
                    4,
                ),
                (|m| m.test_auc, 4),
                (|m| m.test_ap, 4),
                (|m| m.test_cost, 1),
                (|m| m.test_cost_ratio(), 3),
            ] {
                let v = col(get);
                row.push(Cell::mean_sd(mean(&v), sample_sd(&v), decimals));
                row.push(Cell::number(sample_sd(&v), decimals));
            }
            let trials: Vec<f64> = units
                .iter()
                .filter_map(|u| u.summary.as_ref())
                .map(|r| r.trials as f64)
                .collect();
            let failed: Vec<f64> = units
                .iter()
                .filter_map(|u| u.summary.as_ref())
                .map(|r| r.failed as f64)
                .collect();
            let secs: Vec<f64> = units
                .iter()
                .filter_map(|u| u.summary.as_ref())
                .map(|r| r.elapsed_s)
                .collect();
            row.push(Cell::number(mean(&trials), 1));
            row.push(Cell::number(mean(&failed), 1));
            row.push(Cell::mean_sd(mean(&secs), sample_sd(&secs), 2));
            t.push(row);
        }
    }
    t
}

fn failures_table(model: &ReportModel) -> Option<Table> {
    let mut t = Table::new(
        "failures",
        "Failed trials, by message",
        &[
            "dataset",
            "strategy",
            "seed",
            "failed trials",
            "message",
            "first trial",
        ],
    );
    for u in &model.units {
        let mut by: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for r in u.trials.iter().filter(|r| r.status == TrialStatus::Failed) {
            let e = by
                .entry(r.error.clone().unwrap_or_else(|| "(no message)".into()))
                .or_insert((0, r.trial));
            e.0 += 1;
            e.1 = e.1.min(r.trial);
        }
        for (message, (count, first)) in by {
            t.push(vec![
                Cell::text(&model.datasets[u.dataset].name),
                Cell::text(&model.strategies[u.strategy].name),
                Cell::count(u.seed as usize),
                Cell::count(count),
                Cell::text(message),
                Cell::count(first),
            ]);
        }
    }
    (!t.rows.is_empty()).then_some(t)
}

fn comparison_section(model: &ReportModel, slugs: &mut Slugs) -> Result<Section, ReportError> {
    let mut s = Section::new("comparison", "Strategy comparison");
    let names: Vec<String> = model.datasets.iter().map(|d| d.name.clone()).collect();
    let by_test = comparison::compare(model, comparison::TEST_AUC);
    let by_val = comparison::compare(model, comparison::VAL_AUC);
    let by_cost = comparison::compare(model, comparison::TEST_COST_RATIO);
    if by_test.datasets.is_empty() {
        s.push(Block::warning(
            "No dataset has a selected configuration with a test AUC for every strategy yet, so the strategies cannot be compared.",
        ));
        return Ok(s);
    }
    s.push(Block::text(format!(
        "Over the {} datasets where every strategy has a selected configuration (mean over seeds), ranked within each dataset (1 = best; AUCs within {} tie and share their ranks).{}",
        by_test.datasets.len(),
        comparison::AUC_TIE,
        if by_test.left_out.is_empty() {
            String::new()
        } else {
            format!(
                " Left out (a strategy has no result there yet): {}.",
                by_test.left_out.iter().map(|&d| names[d].as_str()).collect::<Vec<_>>().join(", ")
            )
        }
    )));
    let mut t = Table::new(
        "strategy-ranks",
        "Per strategy: average ranks, datasets where it is best (ties count), means",
        &[
            "strategy",
            "average rank (test AUC)",
            "best test AUC",
            "average rank (validation AUC)",
            "best validation AUC",
            "mean test AUC",
            "mean validation AUC",
            "median test cost ratio",
            "average rank (test cost ratio)",
            "trials",
            "failed",
            "fit seconds",
        ],
    );
    for (i, st) in model.strategies.iter().enumerate() {
        let col = |c: &StrategyComparison| -> Vec<f64> { c.values.iter().map(|r| r[i]).collect() };
        let units: Vec<&UnitData> = model.units.iter().filter(|u| u.strategy == i).collect();
        let summaries = units.iter().filter_map(|u| u.summary.as_ref());
        let (trials, failed, fit) = summaries.fold((0, 0, 0.0), |a, r| {
            (a.0 + r.trials, a.1 + r.failed, a.2 + r.fit_seconds)
        });
        t.push(vec![
            Cell::text(&st.name),
            Cell::number(by_test.average_rank.get(i).copied(), 2),
            Cell::text(format!("{}/{}", by_test.best[i], by_test.datasets.len())),
            Cell::number(by_val.average_rank.get(i).copied(), 2),
            Cell::text(format!(
                "{}/{}",
                by_val.best.get(i).copied().unwrap_or(0),
                by_val.datasets.len()
            )),
            Cell::number(mean(&col(&by_test)), 4),
            Cell::number(mean(&col(&by_val)), 4),
            Cell::number(quantile(&col(&by_cost), 0.5), 3),
            Cell::number(by_cost.average_rank.get(i).copied(), 2),
            Cell::count(trials),
            Cell::count(failed),
            Cell::number(Some(fit), 1),
        ]);
    }
    s.push(Block::Table(t));
    if model.strategies.len() >= 2 {
        let mut columns: Vec<String> = vec!["strategy".into()];
        columns.extend(model.strategies.iter().map(|st| format!("vs {}", st.name)));
        let mut w = Table {
            name: "wins-ties-losses".into(),
            caption: "Wins / ties / losses by test AUC: row strategy against column strategy, over datasets".into(),
            columns,
            rows: Vec::new(),
        };
        for (a, st) in model.strategies.iter().enumerate() {
            let mut row = vec![Cell::text(&st.name)];
            for b in 0..model.strategies.len() {
                let (win, tie, loss) = by_test.pairwise[a][b];
                row.push(if a == b {
                    Cell::text("–")
                } else {
                    Cell::with_raw(
                        format!("{win} / {tie} / {loss}"),
                        format!("{win}/{tie}/{loss}"),
                        true,
                    )
                });
            }
            w.push(row);
        }
        s.push(Block::Table(w));
    }
    match &by_test.friedman {
        Some(f) => {
            s.push(Block::text(format!(
                "Friedman's test of equal average ranks (test AUC, {} datasets, {} strategies): χ² = {:.3}, p = {}; Iman–Davenport F = {:.3}, p = {}.{}",
                f.blocks,
                f.treatments,
                f.chi_square,
                format_value(f.p_value, 3),
                f.iman_davenport_f,
                format_value(f.iman_davenport_p, 3),
                by_test.critical_difference.map_or(String::new(), |cd| format!(
                    " Nemenyi critical difference at α = 0.05: {cd:.3} (average ranks further apart than that differ significantly)."
                ))
            )));
        }
        None => s.push(Block::text(
            "Friedman's test needs at least two strategies and two datasets with results.",
        )),
    }
    let mut row = Vec::new();
    if by_test.datasets.len() >= MIN_DATASETS_FOR_CD {
        let names: Vec<String> = model.strategies.iter().map(|st| st.name.clone()).collect();
        if let Some(cd) = by_test.critical_difference {
            row.extend(charts::rank_chart(
                &slugs.unique("ranks-test-auc"),
                &charts::Ranks {
                    figure: by_test.figure.name,
                    names: &names,
                    average_rank: &by_test.average_rank,
                    critical_difference: cd,
                    blocks: by_test.datasets.len(),
                    friedman: by_test.friedman.as_ref(),
                },
            )?);
        }
    } else {
        s.push(Block::text(format!(
            "The critical-difference chart is drawn from {MIN_DATASETS_FOR_CD} datasets on (Demšar 2006); this report has {}.",
            by_test.datasets.len()
        )));
    }
    row.extend(charts::per_dataset_chart(
        &slugs.unique("test-auc-per-dataset"),
        &by_test,
        &names,
        &model.strategies,
    )?);
    if !row.is_empty() {
        s.push(Block::Charts(row));
    }
    Ok(s)
}

fn objective_axis(o: Objective) -> Axis {
    match o {
        Objective::ValAuc => Axis::new("best validation AUC so far"),
        Objective::ValCost => Axis::new("lowest validation cost so far").unit("cost-model units"),
        Objective::Bic => Axis::new("lowest BIC so far"),
        Objective::CvLoglik => {
            Axis::new("best held-out log-likelihood so far").unit("nats per row")
        }
    }
}

fn history_section(
    model: &ReportModel,
    histories: &[StrategyHistory],
) -> Result<Section, ReportError> {
    let mut s = Section::new("history", "Optimisation history");
    s.push(Block::text(
        "Across datasets: the normalised regret of each strategy, (best so far − best any strategy found) / (worst − best) on each dataset and seed, in the direction of the objective; 0 once a strategy has found the best configuration any strategy found there, 1 before its first result. Mean over dataset × seed blocks; a unit that has stopped keeps its last value. Per dataset: see the dataset's section below.",
    ));
    let blocks = histories.iter().map(|h| h.blocks).max().unwrap_or(0);
    let by_trial: Vec<(usize, Vec<(f64, f64)>)> = histories
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h.regret.by_trial.clone()))
        .collect();
    let by_time: Vec<(usize, Vec<(f64, f64)>)> = histories
        .iter()
        .enumerate()
        .map(|(i, h)| (i, h.regret.by_time.clone()))
        .collect();
    let subtitle =
        format!("mean over {blocks} dataset × seed blocks; 0 = the best any strategy found");
    let mut row = Vec::new();
    row.extend(charts::strategy_lines(
        charts::LinesChart {
            name: "history-regret-trials",
            title: "Normalised regret against trials, across datasets",
            subtitle: &subtitle,
            x: Axis::new("trials run").integer_ticks(),
            y: Axis::new("normalised regret").range(-0.02, 1.02),
            size: charts::SMALL,
        },
        &model.strategies,
        &by_trial,
    )?);
    row.extend(charts::strategy_lines(
        charts::LinesChart {
            name: "history-regret-seconds",
            title: "Normalised regret against time, across datasets",
            subtitle: &subtitle,
            x: Axis::new("seconds since the unit started")
                .unit("s, log scale")
                .log(),
            y: Axis::new("normalised regret").range(-0.02, 1.02),
            size: charts::SMALL,
        },
        &model.strategies,
        &by_time,
    )?);
    if row.is_empty() {
        s.push(Block::warning("No trial has an objective value yet."));
    } else {
        s.push(Block::Charts(row));
    }
    Ok(s)
}

fn effects_section(model: &ReportModel, points: &[ConfigPoint]) -> Result<Section, ReportError> {
    let mut s = Section::new("effects", "Hyperparameter effects");
    if points.is_empty() {
        s.push(Block::warning("No trial has a test AUC (unlabelled data, or no successful trial yet), so hyperparameter effects cannot be shown."));
        return Ok(s);
    }
    s.push(Block::text(format!(
        "Every distinct configuration measured on a dataset and seed ({} in all; a configuration several strategies proposed counts once, since equal configurations get equal fits), by its test AUC as measured and as a percentile among the configurations of its dataset and seed (100 = the best there), which puts datasets of different difficulty on one scale. Adaptive searches (CFO) measure more configurations near their optimum, so their share of the cloud is not a uniform sample of the space.",
        points.len()
    )));
    for figure in [EffectFigure::Raw, EffectFigure::Percentile] {
        let mut row = Vec::new();
        row.extend(charts::numeric_effect(points, Numeric::Components, figure)?);
        row.extend(charts::numeric_effect(points, Numeric::RegCovar, figure)?);
        row.extend(charts::init_effect(points, figure)?);
        s.push(Block::Charts(row));
    }
    let (imps, balanced, used) = importance(points);
    if imps.is_empty() {
        s.push(Block::text(format!(
            "Parameter importance needs at least {} configurations on a dataset and seed; none has them yet.",
            super::effects::MIN_BLOCK_CONFIGS
        )));
        return Ok(s);
    }
    let subtitle = format!(
        "η² per dataset × seed ({used} blocks, {balanced} from grid/random/fixed trials only); bar: mean, whiskers: quartiles"
    );
    s.push(Block::text(format!(
        "Parameter importance: on each dataset and seed, the share of the variance of the AUC over configurations that each hyperparameter explains on its own (η², between-group over total sum of squares; n_components in ×2 bins, reg_covar in half decades), averaged over the {used} dataset × seed blocks with at least {} configurations. Like fANOVA's first-order importances, interactions are not counted, so the shares need not sum to 1. {balanced} of the blocks use only the configurations of non-adaptive strategies (grid, random, fixed), which sample the space evenly; the others use every configuration.",
        super::effects::MIN_BLOCK_CONFIGS
    )));
    let mut t = Table::new(
        "importance",
        "Parameter importance (η²) per hyperparameter",
        &[
            "figure",
            "hyperparameter",
            "mean η²",
            "25th percentile",
            "75th percentile",
            "blocks",
        ],
    );
    for i in &imps {
        t.push(vec![
            Cell::text(i.figure),
            Cell::text(i.hyperparameter),
            Cell::number(Some(i.mean), 3),
            Cell::number(Some(i.low), 3),
            Cell::number(Some(i.high), 3),
            Cell::count(i.blocks),
        ]);
    }
    if let Some(chart) = charts::importance_chart(&imps, &subtitle)? {
        s.push(Block::Charts(vec![chart]));
    }
    s.push(Block::Table(t));
    let _ = model;
    Ok(s)
}

/// The strategies of a dataset grouped by the configuration they selected (first seed).
fn selections<'a>(
    model: &ReportModel,
    d: usize,
    curves: &'a BTreeMap<usize, CurveResult>,
) -> (Vec<Selection<'a>>, Vec<String>) {
    let Some(&seed) = model.seeds.first() else {
        return (Vec::new(), Vec::new());
    };
    let mut out: Vec<(String, Vec<usize>, &'a super::refit::SelectedCurves)> = Vec::new();
    let mut notes = Vec::new();
    for (i, unit) in model.units.iter().enumerate() {
        if unit.dataset != d || unit.seed != seed {
            continue;
        }
        let name = &model.strategies[unit.strategy].name;
        match curves.get(&i) {
            Some(Ok(c)) => {
                let key = unit.selected().map(signature_of).unwrap_or_default();
                match out.iter_mut().find(|(k, _, _)| *k == key) {
                    Some(entry) => entry.1.push(unit.strategy),
                    None => out.push((key, vec![unit.strategy], c.as_ref())),
                }
            }
            Some(Err(e)) => notes.push(format!("{name}: the curves cannot be drawn: {e}")),
            None => {
                let why = match unit.state {
                    UnitState::Finished(_) if unit.selected().is_none() => {
                        "no successful trial".to_string()
                    }
                    UnitState::Finished(_) => "curves were not asked for".to_string(),
                    UnitState::Running => "the unit has not finished yet".to_string(),
                    UnitState::Pending => "the unit has not started yet".to_string(),
                };
                notes.push(format!("{name}: no curves ({why})"));
            }
        }
    }
    let selections = out
        .into_iter()
        .map(|(_, strategies, c)| Selection {
            label: strategies
                .iter()
                .map(|&s| model.strategies[s].name.clone())
                .collect::<Vec<_>>()
                .join(" = "),
            style: strategies[0],
            curves: c,
        })
        .collect();
    (selections, notes)
}

fn signature_of(r: &TrialRecord) -> String {
    format!("{}|{}", r.config.signature(), r.fit_seed)
}

fn per_dataset_section(
    model: &ReportModel,
    histories: &[StrategyHistory],
    curves: &BTreeMap<usize, CurveResult>,
    options: &ReportOptions,
    slugs: &mut Slugs,
) -> Result<Section, ReportError> {
    let mut s = Section::new("per-dataset", "Per dataset: histories and curves");
    s.push(Block::text(format!(
        "For each dataset: the best objective value so far of each strategy against trials and seconds (mean over seeds where there are several; markers where it improved), and the ROC and cost-versus-threshold curves of each strategy's selected configuration{} on validation and test, rebuilt from the data (checked by content hash) and measured again. Strategies that selected the same configuration share a curve.",
        if model.seeds.len() > 1 { format!(" (seed {})", model.seeds[0]) } else { String::new() }
    )));
    if options.no_curves {
        s.push(Block::warning("Curves were not asked for (--no-curves)."));
    }
    for (d, info) in model.datasets.iter().enumerate() {
        let ds = slug(&info.name);
        let mut blocks = Vec::new();
        let mut row: Vec<NamedSvg> = Vec::new();
        // Each objective once, in the order the strategies first name it (a dedup of
        // neighbours would repeat one named again after another).
        let objectives: Vec<Objective> =
            model
                .strategies
                .iter()
                .filter_map(|s| s.objective)
                .fold(Vec::new(), |mut seen, o| {
                    if !seen.contains(&o) {
                        seen.push(o);
                    }
                    seen
                });
        for objective in objectives {
            let members: Vec<usize> = (0..model.strategies.len())
                .filter(|&i| model.strategies[i].objective == Some(objective))
                .collect();
            // Each member strategy's history on this dataset, by trials or by seconds.
            let series = |pick: fn(&UnitHistory) -> &Vec<(f64, f64)>| {
                members
                    .iter()
                    .map(|&i| {
                        let h = histories[i].per_dataset.get(d);
                        (i, h.map(|h| pick(h).clone()).unwrap_or_default())
                    })
                    .collect::<Vec<(usize, Vec<(f64, f64)>)>>()
            };
            let by_trial = series(|h| &h.by_trial);
            let by_time = series(|h| &h.by_time);
            let suffix = if model.common_objective().is_some() {
                String::new()
            } else {
                format!("-{}", objective.as_str())
            };
            let sub = format!(
                "the best {} so far; markers where it improved, and at the unit's end",
                objective_words(objective)
            );
            row.extend(charts::strategy_lines(
                charts::LinesChart {
                    name: &slugs.unique(&format!("history-{ds}-trials{suffix}")),
                    title: &format!(
                        "{}: best {} against trials",
                        info.name,
                        objective_words(objective)
                    ),
                    subtitle: &sub,
                    x: Axis::new("trials run").integer_ticks(),
                    y: objective_axis(objective),
                    size: charts::SMALL,
                },
                &model.strategies,
                &by_trial,
            )?);
            row.extend(charts::strategy_lines(
                charts::LinesChart {
                    name: &slugs.unique(&format!("history-{ds}-seconds{suffix}")),
                    title: &format!(
                        "{}: best {} against time",
                        info.name,
                        objective_words(objective)
                    ),
                    subtitle: &sub,
                    x: Axis::new("seconds since the unit started")
                        .unit("s, log scale")
                        .log(),
                    y: objective_axis(objective),
                    size: charts::SMALL,
                },
                &model.strategies,
                &by_time,
            )?);
        }
        if !info.labelled {
            blocks.push(Block::text("No labels: ROC and cost curves need them."));
        } else if !options.no_curves {
            let (sel, notes) = selections(model, d, curves);
            row.extend(charts::roc_chart(
                &slugs.unique(&format!("roc-{ds}")),
                &info.name,
                &sel,
            )?);
            row.extend(charts::cost_chart(
                &slugs.unique(&format!("cost-{ds}")),
                &info.name,
                &sel,
            )?);
            for n in notes {
                blocks.push(Block::warning(n));
            }
        }
        if row.is_empty() {
            blocks.insert(0, Block::text("No trial yet."));
        } else {
            blocks.insert(0, Block::Charts(row));
        }
        blocks.push(Block::Table(dataset_table(model, d, &ds)));
        s.push(Block::Group {
            id: format!("dataset-{ds}"),
            title: format!(
                "{} ({} rows, {} features, {})",
                info.name, info.rows, info.features, info.family
            ),
            open: false,
            blocks,
        });
    }
    Ok(s)
}

fn dataset_table(model: &ReportModel, d: usize, ds: &str) -> Table {
    let mut t = Table::new(
        &format!("selected-{ds}"),
        &format!("{}: selected configurations", model.datasets[d].name),
        &[
            "strategy",
            "seed",
            "configuration",
            "val AUC",
            "test AUC",
            "test AP",
            "test cost",
            "cost ratio",
            "trials",
            "seconds",
        ],
    );
    for u in model.units.iter().filter(|u| u.dataset == d) {
        let sel = u.selected();
        t.push(vec![
            Cell::text(&model.strategies[u.strategy].name),
            Cell::count(u.seed as usize),
            Cell::text(sel.map_or_else(|| u.state.as_str().to_string(), |r| r.config.to_string())),
            Cell::number(metric(u, |m| m.val_auc), 4),
            Cell::number(metric(u, |m| m.test_auc), 4),
            Cell::number(metric(u, |m| m.test_ap), 4),
            Cell::value(metric(u, |m| m.test_cost), 6),
            Cell::number(metric(u, |m| m.test_cost_ratio()), 3),
            Cell::count(u.summary.as_ref().map_or(0, |r| r.trials)),
            Cell::number(u.summary.as_ref().map(|r| r.elapsed_s), 2),
        ]);
    }
    t
}

fn method_section(
    model: &ReportModel,
    curves: &BTreeMap<usize, CurveResult>,
    points: &[ConfigPoint],
) -> Section {
    let mut s = Section::new("method", "How this report was made");
    let refits = curves.values().filter(|c| c.is_ok()).count();
    let refit_seconds: f64 = curves
        .values()
        .filter_map(|c| c.as_ref().ok())
        .map(|c| c.seconds)
        .sum();
    s.push(Block::List(vec![
        "Built from run.json and the journals (trials.jsonl, units.jsonl, shards) alone; summary.csv and these tables are recomputed from them. Every table is also a CSV file under tables/, every chart an SVG file under plots/; report.md shows the same content.".to_string(),
        format!(
            "ROC and cost curves: each selected model is fitted again from the data file (checked against the content hash in run.json), with the unit's split, standardiser and fit seed, and must measure exactly as journaled; {refits} curve sets here ({refit_seconds:.1} s of refits in all). Only the first seed's finished units get curves, and a configuration selected by several strategies is fitted once."
        ),
        format!(
            "Downsampling: a ROC curve keeps its corners (as scikit-learn's drop_intermediate), then at most {MAX_ROC_POINTS} of them; a cost curve keeps, in each of {} equal slices of the threshold range drawn, its lowest and highest point; a hyperparameter point cloud shows at most {} of its {} configurations, an equal share per dataset chosen by a seeded shuffle, while its medians and the importances use every configuration.",
            MAX_COST_POINTS / 2,
            charts::MAX_CLOUD_POINTS,
            points.len()
        ),
        "Colours: strategies keep one colour and marker across the page; the palette (Okabe–Ito) alternates dark and light colours and pairs each with a marker shape, so charts read in greyscale.".to_string(),
    ]));
    let _ = model;
    s
}
