//! `gmmtune select`: fit candidate sizes and covariance types, write the BIC / AIC / held-out
//! log-likelihood table and charts, and save the model the criterion picks.

use std::process::ExitCode;

use anyhow::Context;
use gmmtune::data::{read_table, Standardizer};
use gmmtune::explore::{select as select_models, SelectSettings, MAX_CANDIDATES};
use gmmtune::gmm_config::FitSettings;
use gmmtune::model_file::ModelFile;

use super::SelectArgs;

/// Parses `1..8` (inclusive), `1..=8`, `3` or `1,2,4,8`.
fn parse_sizes(text: &str) -> anyhow::Result<Vec<usize>> {
    let number = |s: &str| -> anyhow::Result<usize> {
        s.trim().parse::<usize>().with_context(|| {
            format!(
                "--n-components: `{}` is not a whole number (write e.g. 1..8 or 1,2,4)",
                s.trim()
            )
        })
    };
    let text = text.trim();
    let sizes: Vec<usize> = if let Some((a, b)) = text.split_once("..") {
        let (low, high) = (number(a)?, number(b.trim_start_matches('='))?);
        if low > high {
            anyhow::bail!(
                "--n-components: the range {text} is empty (write low..high with low ≤ high, e.g. 1..8)"
            );
        }
        if high - low >= MAX_CANDIDATES {
            anyhow::bail!(
                "--n-components: the range {text} holds more than {MAX_CANDIDATES} sizes"
            );
        }
        (low..=high).collect()
    } else {
        text.split(',').map(number).collect::<anyhow::Result<_>>()?
    };
    if sizes.is_empty() {
        anyhow::bail!("--n-components: no size given (write e.g. 1..8)");
    }
    Ok(sizes)
}

pub fn select(args: SelectArgs) -> anyhow::Result<ExitCode> {
    let sizes = parse_sizes(&args.n_components)?;
    let table = read_table(&args.data.data, &super::score::read_options(&args.data))?;
    let standardization = args
        .em
        .standardize
        .then(|| Standardizer::fit(table.features.view()));
    let rows = match &standardization {
        Some(s) => s.transform(table.features.view())?,
        None => table.features.clone(),
    };
    let settings = SelectSettings {
        n_components: sizes,
        covariance_types: args.covariance_type.clone(),
        reg_covar: args.em.reg_covar,
        init: args.em.init,
        fit: FitSettings {
            max_iter: args.em.max_iter,
            tol: args.em.tol,
            n_init: args.em.n_init,
        },
        seed: args.em.seed,
        cv_folds: args.cv_folds,
    };
    let selection = select_models(rows.view(), &table.feature_names, &settings)
        .with_context(|| format!("cannot select a model for {}", args.data.data.display()))?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let csv = args.output.join("selection.csv");
    std::fs::write(&csv, selection.to_csv())
        .with_context(|| format!("cannot write {}", csv.display()))?;
    let dataset = args.data.data.file_name().map_or_else(
        || args.data.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    for figure in selection.figures(&dataset, args.cv_folds)? {
        figure.save_in(&args.output)?;
    }
    let failed = selection.rows.iter().filter(|r| r.error.is_some()).count();
    if failed > 0 {
        eprintln!(
            "warning: {failed} candidate(s) failed; see the error column of {}",
            csv.display()
        );
    }
    let Some(best) = selection.best(args.criterion) else {
        anyhow::bail!("every candidate failed; see {}", csv.display());
    };
    let row = &selection.rows[best];
    let model = selection
        .model(best)
        .expect("the best candidate has a model")
        .clone();
    let path = args.output.join("model.json");
    ModelFile::fitted(
        model,
        table.feature_names.clone(),
        standardization,
        rows.view(),
    )?
    .save(&path)?;
    eprintln!(
        "{} candidates on {} rows; by {}: {} components, {} covariance (BIC {:.3}, AIC {:.3}, {}-fold held-out log-likelihood {:.6})\nwrote {}, bic.svg, aic.svg, cv_loglik.svg and {}",
        selection.rows.len(),
        rows.nrows(),
        args.criterion.as_str(),
        row.candidate.n_components,
        row.candidate.covariance_type,
        row.bic,
        row.aic,
        args.cv_folds,
        row.cv_loglik,
        csv.display(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_sizes("1..4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(parse_sizes("2..=3").unwrap(), vec![2, 3]);
        assert_eq!(parse_sizes("1,2,8").unwrap(), vec![1, 2, 8]);
        assert_eq!(parse_sizes("5").unwrap(), vec![5]);
        assert!(parse_sizes("5..2")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert!(parse_sizes("a..2").is_err());
        assert!(parse_sizes("1..100000").is_err());
    }
}
