//! Several runs in one report: several groups' runs of one config, or one group's runs of
//! several configs. The report covers the datasets every run has; runs that read a common
//! dataset from different data, or measured it under another protocol, cost model, threshold
//! search or EM settings, are refused with a message that says what differs.

use std::path::Path;
use std::time::Instant;

use crate::journal::check_comparable;

use super::build::{write_model, BuiltReport, ReportOptions};
use super::model::{describe_protocol, ReportModel, RunSource};
use super::ReportError;

fn short(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

/// Names each run by its name, made unique with its directory (and then a number).
fn label_runs(runs: &mut [RunSource]) {
    let names: Vec<String> = runs.iter().map(|r| r.manifest.name.clone()).collect();
    for (i, run) in runs.iter_mut().enumerate() {
        if names.iter().filter(|n| **n == names[i]).count() > 1 {
            let dir = run
                .dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            run.label = format!("{} ({dir})", names[i]);
        }
    }
    let labels: Vec<String> = runs.iter().map(|r| r.label.clone()).collect();
    for (i, run) in runs.iter_mut().enumerate() {
        if labels.iter().filter(|l| **l == labels[i]).count() > 1 {
            run.label = format!("{} #{}", labels[i], i + 1);
        }
    }
}

/// What differs between the runs, over their common datasets and run-wide settings.
fn differences(runs: &[RunSource], common: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let first = &runs[0];
    for other in &runs[1..] {
        let (a, b) = (&first.label, &other.label);
        for key in ["threshold", "fit", "cv_folds"] {
            let (x, y) = (
                first.manifest.config.get(key),
                other.manifest.config.get(key),
            );
            if x != y {
                let show =
                    |v: Option<&serde_json::Value>| v.map_or("none".to_string(), |v| v.to_string());
                out.push(format!(
                    "`{key}` differs: {a} has {}, {b} has {}",
                    show(x),
                    show(y)
                ));
            }
        }
        for name in common {
            let (Some(x), Some(y)) = (first.manifest.dataset(name), other.manifest.dataset(name))
            else {
                continue;
            };
            if x.sha256 != y.sha256 {
                out.push(format!(
                    "dataset `{name}`: the data differ ({a} read sha256 {}…, {b} read {}…)",
                    short(&x.sha256),
                    short(&y.sha256)
                ));
            }
            if x.protocol != y.protocol {
                out.push(format!(
                    "dataset `{name}`: the protocol differs ({a}: {}; {b}: {})",
                    describe_protocol(x),
                    describe_protocol(y)
                ));
            }
            if x.cost_model != y.cost_model {
                out.push(format!(
                    "dataset `{name}`: the cost model differs ({a}: c_alarm {} c_missed {} tolerance {}; {b}: c_alarm {} c_missed {} tolerance {})",
                    x.cost_model.c_alarm, x.cost_model.c_missed, x.cost_model.tolerance,
                    y.cost_model.c_alarm, y.cost_model.c_missed, y.cost_model.tolerance
                ));
            }
            if x.label_column != y.label_column || x.exclude_columns != y.exclude_columns {
                out.push(format!(
                    "dataset `{name}`: the label or excluded columns differ ({a}: label {:?}, excluded {:?}; {b}: label {:?}, excluded {:?})",
                    x.label_column, x.exclude_columns, y.label_column, y.exclude_columns
                ));
            }
        }
    }
    out
}

/// Reads the runs in `dirs` and checks they can be compared.
///
/// # Errors
/// [`ReportError::Incomparable`] listing what differs (or that no dataset is in every run), and
/// the errors of [`RunSource::load`].
pub fn compare_model(dirs: &[&Path]) -> Result<ReportModel, ReportError> {
    if dirs.len() < 2 {
        return Err(ReportError::Incomparable(vec![
            "a comparison needs at least two run directories".into(),
        ]));
    }
    let mut runs = dirs
        .iter()
        .map(|d| RunSource::load(d))
        .collect::<Result<Vec<_>, _>>()?;
    label_runs(&mut runs);
    let common: Vec<String> = runs[0]
        .manifest
        .datasets
        .iter()
        .map(|d| d.name.clone())
        .filter(|name| runs.iter().all(|r| r.manifest.dataset(name).is_some()))
        .collect();
    if common.is_empty() {
        return Err(ReportError::Incomparable(vec![format!(
            "no dataset is in every run ({})",
            runs.iter()
                .map(|r| format!(
                    "{} has {}",
                    r.label,
                    r.manifest
                        .datasets
                        .iter()
                        .map(|d| d.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .collect::<Vec<_>>()
                .join("; ")
        )]));
    }
    let differ = differences(&runs, &common);
    if !differ.is_empty() {
        return Err(ReportError::Incomparable(differ));
    }
    let records = runs
        .iter()
        .flat_map(|r| r.journal.trials.iter())
        .filter(|t| common.contains(&t.unit.dataset));
    if let Err(e) = check_comparable(records) {
        return Err(ReportError::Incomparable(vec![e.to_string()]));
    }
    let left_out: Vec<String> = runs
        .iter()
        .flat_map(|r| r.manifest.datasets.iter().map(|d| d.name.clone()))
        .filter(|n| !common.contains(n))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut model = ReportModel::build(runs, &common);
    if !left_out.is_empty() {
        model.warnings.push(format!(
            "datasets not in every run are left out: {}",
            left_out.join(", ")
        ));
    }
    Ok(model)
}

/// Writes one report over the common datasets of the runs in `dirs` into `out`.
///
/// # Errors
/// As [`compare_model`]; [`ReportError::Incomparable`] when `out` is one of the run
/// directories (its own report would be overwritten).
pub fn build_compare_report(
    dirs: &[&Path],
    out: &Path,
    options: &ReportOptions,
) -> Result<BuiltReport, ReportError> {
    let started = Instant::now();
    let canonical = |p: &Path| std::fs::canonicalize(p).ok();
    if let Some(out_c) = canonical(out)
        && dirs.iter().any(|d| canonical(d).as_ref() == Some(&out_c))
    {
        return Err(ReportError::Incomparable(vec![format!(
                "--out {} is one of the runs compared; its own report would be overwritten: choose another directory",
                out.display()
            )]));
    }
    let model = compare_model(dirs)?;
    let title = format!(
        "gmmtune comparison: {}",
        model
            .runs
            .iter()
            .map(|r| r.label.as_str())
            .collect::<Vec<_>>()
            .join(" vs ")
    );
    write_model(out, &model, &title, options, None, started)
}
