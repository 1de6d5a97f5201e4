//! `gmmtune plot`: the model explorer's charts of a saved model on a data file, as SVG files.

use std::process::ExitCode;

use anyhow::Context;
use gmmtune::explore::{model_views, Units, ViewInput, ViewOptions};
use gmmtune::model_file::ModelFile;

use super::score::{read_matching, with_cost};
use super::PlotArgs;

pub fn plot(args: PlotArgs) -> anyhow::Result<ExitCode> {
    let file = ModelFile::load(&args.model)?;
    let table = read_matching(&args.data, &args.model, &file)?;
    let dataset = args.data.data.file_name().map_or_else(
        || args.data.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let options = ViewOptions {
        threshold: with_cost(args.threshold, &args.cost)?,
        units: if args.model_units {
            Units::Model
        } else {
            Units::Data
        },
        grid: args.grid,
    };
    let input = ViewInput {
        model: &file,
        data: table.features.view(),
        labels: table.labels.as_deref(),
        dataset: &dataset,
    };
    let views = model_views(input, &options).with_context(|| {
        format!(
            "cannot plot {} on {}",
            args.model.display(),
            args.data.data.display()
        )
    })?;
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    for view in &views {
        let path = view.save_in(&args.output)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
