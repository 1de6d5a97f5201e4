//! `gmmtune score`: per-row log-likelihood and most responsible component under a saved model,
//! and with `--threshold` an `anomaly` flag (score strictly above the threshold).

use std::process::ExitCode;

use anyhow::Context;
use gmmtune::data::{read_table, ReadOptions, Table};
use gmmtune::eval::CostModel;
use gmmtune::explore::ThresholdRule;
use gmmtune::model_file::ModelFile;

use super::{CostArgs, DataArgs, ScoreArgs};

/// `rule` with the cost model of the command line when it is `cost`.
pub fn with_cost(rule: ThresholdRule, cost: &CostArgs) -> anyhow::Result<ThresholdRule> {
    Ok(match rule {
        ThresholdRule::CostOptimal(_) => ThresholdRule::CostOptimal(
            CostModel::new(cost.c_alarm, cost.c_missed, cost.tolerance)
                .context("--c-alarm / --c-missed")?,
        ),
        other => other,
    })
}

/// Reads the data file and checks that it has the model's feature columns, in order.
pub fn read_matching(
    data: &DataArgs,
    model_path: &std::path::Path,
    file: &ModelFile,
) -> anyhow::Result<Table> {
    let table = read_table(&data.data, &read_options(data))?;
    if table.feature_names != file.feature_names {
        anyhow::bail!(
            "{} has features [{}] but the model {} was fitted on [{}]; pass the same columns (use --exclude / --label-column)",
            data.data.display(),
            table.feature_names.join(", "),
            model_path.display(),
            file.feature_names.join(", ")
        );
    }
    Ok(table)
}

/// Reading options shared by `fit` and `score`: the label column is left out when present.
pub fn read_options(args: &DataArgs) -> ReadOptions {
    ReadOptions {
        label_column: Some(args.label_column.clone()),
        require_label: false,
        exclude_columns: args.exclude.clone(),
        split_column: None,
    }
}

pub fn score(args: ScoreArgs) -> anyhow::Result<ExitCode> {
    let file = ModelFile::load(&args.model)?;
    let table = read_matching(&args.data, &args.model, &file)?;
    let rows = file.to_model_units(table.features.view())?;
    let (log_likelihood, component) = file.model.score_samples_and_components(rows.view())?;
    let scores: Vec<f64> = log_likelihood.iter().map(|ll| -ll).collect();
    let threshold = match args.threshold {
        Some(rule) => Some(
            with_cost(rule, &args.cost)?
                .resolve(
                    file.training_score_quantiles.as_ref(),
                    &scores,
                    table.labels.as_deref(),
                )
                .with_context(|| format!("model {}", args.model.display()))?,
        ),
        None => None,
    };
    let mut writer = csv::Writer::from_path(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let mut header = vec!["row", "log_likelihood", "anomaly_score", "component"];
    if threshold.is_some() {
        header.push("anomaly");
    }
    if table.labels.is_some() {
        header.push("label");
    }
    writer.write_record(&header)?;
    for i in 0..rows.nrows() {
        let mut record = vec![
            i.to_string(),
            log_likelihood[i].to_string(),
            (-log_likelihood[i]).to_string(),
            component[i].to_string(),
        ];
        if let Some(t) = &threshold {
            record.push(u8::from(scores[i] > t.value).to_string());
        }
        if let Some(labels) = &table.labels {
            record.push(u8::from(labels[i]).to_string());
        }
        writer.write_record(&record)?;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let flagged = match &threshold {
        Some(t) => format!(
            "; {} flagged above threshold {} ({})",
            scores.iter().filter(|&&s| s > t.value).count(),
            t.value,
            t.description
        ),
        None => String::new(),
    };
    eprintln!(
        "scored {} rows; mean log-likelihood {:.6}{flagged}; written to {}",
        rows.nrows(),
        log_likelihood.mean().unwrap_or(f64::NAN),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
