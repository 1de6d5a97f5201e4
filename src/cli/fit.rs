//! `gmmtune fit`: one Gaussian mixture on one file.

use std::process::ExitCode;

use gmmtune::data::{read_table, Standardizer};
use gmmtune::gmm::GmmParams;
use gmmtune::model_file::ModelFile;

use super::FitArgs;

pub fn fit(args: FitArgs) -> anyhow::Result<ExitCode> {
    let table = read_table(&args.data.data, &super::score::read_options(&args.data))?;
    let params = GmmParams::new(args.n_components)
        .covariance_type(args.covariance_type)
        .reg_covar(args.em.reg_covar)
        .init(args.em.init)
        .n_init(args.em.n_init)
        .max_iter(args.em.max_iter)
        .tol(args.em.tol)
        .seed(args.em.seed)
        .check()?;
    let (rows, standardization) = if args.em.standardize {
        let standardizer = Standardizer::fit(table.features.view());
        (
            standardizer.transform(table.features.view())?,
            Some(standardizer),
        )
    } else {
        (table.features.clone(), None)
    };
    let model = params.fit(rows.view())?;
    if !model.converged() && args.em.max_iter > 0 {
        eprintln!(
            "warning: EM did not converge in {} iterations (lower bound {:.6}); raise --max-iter or --tol",
            args.em.max_iter,
            model.lower_bound()
        );
    }
    let summary = format!(
        "fitted {} component(s), {} covariance, on {} rows × {} features: {} iterations, mean log-likelihood {:.6}, BIC {:.3}",
        model.n_components(),
        model.covariance_type(),
        rows.nrows(),
        rows.ncols(),
        model.n_iter(),
        model.score(rows.view())?,
        model.bic(rows.view())?
    );
    ModelFile::fitted(model, table.feature_names, standardization, rows.view())?
        .save(&args.output)?;
    eprintln!("{summary}\nmodel written to {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}
