//! `gmmtune score`: per-row log-likelihood and most responsible component under a saved model.

use std::process::ExitCode;

use anyhow::Context;
use gmmtune::data::{read_table, ReadOptions};
use gmmtune::model_file::ModelFile;

use super::{DataArgs, ScoreArgs};

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
    let table = read_table(&args.data.data, &read_options(&args.data))?;
    if table.feature_names != file.feature_names {
        anyhow::bail!(
            "{} has features [{}] but the model {} was fitted on [{}]; pass the same columns (use --exclude / --label-column)",
            args.data.data.display(),
            table.feature_names.join(", "),
            args.model.display(),
            file.feature_names.join(", ")
        );
    }
    let rows = match &file.standardization {
        Some(s) => s.transform(table.features.view())?,
        None => table.features.clone(),
    };
    let (log_likelihood, component) = file.model.score_samples_and_components(rows.view())?;
    let mut writer = csv::Writer::from_path(&args.output)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let mut header = vec!["row", "log_likelihood", "anomaly_score", "component"];
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
        if let Some(labels) = &table.labels {
            record.push(u8::from(labels[i]).to_string());
        }
        writer.write_record(&record)?;
    }
    writer
        .flush()
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "scored {} rows; mean log-likelihood {:.6}; written to {}",
        rows.nrows(),
        log_likelihood.mean().unwrap_or(f64::NAN),
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}
