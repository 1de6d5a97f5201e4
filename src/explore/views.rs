//! The charts of one fitted mixture on one dataset.

use ndarray::{Array2, ArrayView2, Axis};
use plotters::style::{RGBColor, WHITE};

use crate::model_file::ModelFile;
use crate::plot::{
    category_color, format_value, Axis as ChartAxis, Component2d, Contours, Ellipses, Figure, Grid,
    Heatmap, Line, Marker, NamedSvg, Ramp, Scatter,
};

use super::threshold::response_entropy;
use super::{ExploreError, PlotSpace, ThresholdRule, Units};

/// The most rows a chart draws: above it every k-th row is drawn (and, on the anomaly chart,
/// every flagged or labelled-anomalous row too), so charts of large data stay small.
pub const MAX_POINTS: usize = 5000;

/// Every k-th index of `0..n`, at most [`MAX_POINTS`] of them.
fn strided(n: usize) -> Vec<usize> {
    let step = n.div_ceil(MAX_POINTS).max(1);
    (0..n).step_by(step).collect()
}

fn pick<T: Clone>(values: &[T], index: &[usize]) -> Vec<T> {
    index.iter().map(|&i| values[i].clone()).collect()
}

/// The model and the rows to show.
#[derive(Debug, Clone, Copy)]
pub struct ViewInput<'a> {
    /// The fitted model with its feature names and standardisation.
    pub model: &'a ModelFile,
    /// The rows, in the units of the data file (the model's standardisation is applied here).
    pub data: ArrayView2<'a, f64>,
    /// Anomaly labels of the rows, when known.
    pub labels: Option<&'a [bool]>,
    /// Name shown in the titles (a dataset or file name).
    pub dataset: &'a str,
}

/// How the charts are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ViewOptions {
    /// Which rows the anomaly chart flags.
    pub threshold: ThresholdRule,
    /// Units of two-feature charts.
    pub units: Units,
    /// Cells per side of the density grid.
    pub grid: usize,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            threshold: ThresholdRule::Quantile(0.99),
            units: Units::Data,
            grid: 100,
        }
    }
}

/// The charts of `input.model` on `input.data`, in this order: `density`, `components`,
/// `uncertainty`, `anomalies`, `convergence` (the run report shows them for the selected
/// configuration of each dataset; `gmmtune plot` writes them as files).
///
/// # Errors
/// [`ExploreError::FeatureMismatch`] when the data has other columns than the model,
/// [`ExploreError::TooLittleData`] for no rows or fewer than two features,
/// [`ExploreError::BadThreshold`] when the threshold rule cannot be applied, and scoring or
/// drawing errors.
pub fn model_views(
    input: ViewInput<'_>,
    options: &ViewOptions,
) -> Result<Vec<NamedSvg>, ExploreError> {
    let file = input.model;
    let model = &file.model;
    let d = model.n_features();
    if input.data.ncols() != d {
        return Err(ExploreError::FeatureMismatch {
            expected: d,
            found: input.data.ncols(),
            names: file.feature_names.join(", "),
        });
    }
    if input.data.nrows() == 0 {
        return Err(ExploreError::TooLittleData(
            "the data has no rows to show".into(),
        ));
    }
    if let Some(labels) = input.labels
        && labels.len() != input.data.nrows()
    {
        return Err(ExploreError::TooLittleData(format!(
            "{} labels for {} rows",
            labels.len(),
            input.data.nrows()
        )));
    }
    let rows = file.to_model_units(input.data)?;
    let space = PlotSpace::new(file, rows.view(), options.units)?;
    let points = space.project_rows(rows.view());
    let (log_likelihood, component) = model.score_samples_and_components(rows.view())?;
    let scores: Vec<f64> = log_likelihood.iter().map(|ll| -ll).collect();
    let responsibilities = model.predict_proba(rows.view())?;
    let components = space.project_components(model);
    let density = DensityGrid::new(&space, model, &points, &components, options.grid)?;
    let shown = strided(points.len());
    let sample_note = if shown.len() < points.len() {
        format!(
            "; 1 row in {} shown ({} of {})",
            points.len().div_ceil(MAX_POINTS),
            shown.len(),
            points.len()
        )
    } else {
        String::new()
    };
    let shown_points = pick(&points, &shown);
    let threshold = options.threshold.resolve(
        file.training_score_quantiles.as_ref(),
        &scores,
        input.labels,
    )?;

    let base = |title: &str| {
        Figure::new(&format!("{title}: {}", input.dataset))
            .x_axis(ChartAxis::new(&space.x_title))
            .y_axis(ChartAxis::new(&space.y_title))
    };
    let k = model.n_components();
    let shape = format!(
        "{k} {} component{}",
        model.covariance_type(),
        if k == 1 { "" } else { "s" }
    );

    let density_figure = base("Log-density")
        .subtitle(&format!(
            "{shape}; {}contours at equal steps{sample_note}",
            if space.principal_components {
                "marginal density on the plane, "
            } else {
                ""
            }
        ))
        .layer(
            Heatmap::new(density.grid.clone(), "log-density (nats)", Ramp::Viridis)
                .range(density.low, density.high)
                .bands(16),
        )
        .layer(
            Contours::new(density.grid.clone(), density.levels())
                .line(WHITE, 1, false)
                .label("density contours"),
        )
        .layer(
            Scatter::new("rows", shown_points.clone())
                .color(WHITE)
                .size(2)
                .outline(),
        );

    let names: Vec<String> = (0..k)
        .map(|c| {
            format!(
                "component {c} (weight {})",
                format_value(model.weights()[c], 2)
            )
        })
        .collect();
    let means: Vec<(f64, f64)> = components.iter().map(|c| c.mean).collect();
    let components_figure = base("Components")
        .subtitle(&format!(
            "{shape}; rows by most responsible component{sample_note}"
        ))
        .layer(
            Scatter::new("rows", shown_points.clone())
                .categories(
                    pick(component.as_slice().expect("contiguous"), &shown),
                    &names,
                )
                .size(2),
        )
        .layer(Ellipses::new(components.clone()))
        .layer(
            Scatter::new("means", means.clone())
                .marker(Marker::Plus)
                .size(7)
                .color(category_color(2))
                .halo(),
        );

    let entropy: Vec<f64> = responsibilities
        .axis_iter(Axis(0))
        .map(response_entropy)
        .collect();
    let max_entropy = (k as f64).ln();
    let shared = responsibilities
        .axis_iter(Axis(0))
        .filter(|p| p.iter().copied().fold(0.0, f64::max) < 0.9)
        .count();
    let uncertainty_figure = base("Uncertainty")
        .subtitle(&format!(
            "entropy of the responsibilities: 0 = one component owns the row, ln {k} = all share it\n{shared} of {} rows have no component with 90 % of the responsibility{sample_note}",
            points.len()
        ))
        .layer(
            Scatter::new("rows", shown_points.clone())
                .shaded(pick(&entropy, &shown), "entropy (nats)", Ramp::CividisInverted)
                .shade_range(0.0, max_entropy.max(1e-9))
                .size(3)
                .outline(),
        )
        .layer(Ellipses::new(components.clone()).sigmas(vec![2.0]));

    let anomalies_figure = anomaly_figure(
        base("Anomalies"),
        &shown,
        &points,
        &scores,
        input.labels,
        &threshold,
        &density,
        &space,
    )?;

    let history = model.lower_bound_history();
    let iterations: Vec<(f64, f64)> = history
        .iter()
        .enumerate()
        .map(|(i, &v)| ((i + 1) as f64, v))
        .collect();
    let mut line = Line::new("lower bound", iterations).style(0);
    if history.len() <= 60 {
        line = line.marker(Marker::Circle);
    }
    let convergence_figure = Figure::new(&format!("EM convergence: {}", input.dataset))
        .subtitle(&if model.converged() {
            format!(
                "{shape}; converged after {} iterations (kept initialisation)",
                model.n_iter()
            )
        } else {
            format!(
                "{shape}; did not converge in {} iterations (kept initialisation)",
                model.n_iter()
            )
        })
        .x_axis(ChartAxis::new("EM iteration").integer_ticks())
        .y_axis(ChartAxis::new("mean log-likelihood lower bound").unit("nats per row"))
        .empty_message(
            "this model file records no lower bound per iteration (refit it with gmmtune fit)",
        )
        .layer(line);

    Ok(vec![
        NamedSvg::render("density", &density_figure)?,
        NamedSvg::render("components", &components_figure)?,
        NamedSvg::render("uncertainty", &uncertainty_figure)?,
        NamedSvg::render("anomalies", &anomalies_figure)?,
        NamedSvg::render("convergence", &convergence_figure)?,
    ])
}

/// The chart's log-density on a grid over the data (and the 1σ ellipses), with its colour
/// range.
struct DensityGrid {
    grid: Grid,
    low: f64,
    high: f64,
}

impl DensityGrid {
    fn new(
        space: &PlotSpace,
        model: &crate::gmm::GaussianMixture,
        points: &[(f64, f64)],
        components: &[Component2d],
        cells: usize,
    ) -> Result<DensityGrid, ExploreError> {
        let projected = space.projected_mixture(model)?;
        let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        for c in components {
            if let Ok(axes) = crate::plot::covariance_ellipse(c.covariance, 1.0) {
                for (x, y) in crate::plot::ellipse_outline(c.mean, &axes, 16) {
                    xs.push(x);
                    ys.push(y);
                }
            }
        }
        let span = |v: &[f64]| {
            let (a, b) = v
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let pad = if b > a {
                0.06 * (b - a)
            } else {
                a.abs().max(1.0) * 0.1
            };
            (a - pad, b + pad)
        };
        let (x, y) = (span(&xs), span(&ys));
        let cells = cells.clamp(10, 400);
        let centres = Grid::cell_centres(x, y, cells, cells);
        let flat: Vec<f64> = centres.iter().flat_map(|&(a, b)| [a, b]).collect();
        let at = Array2::from_shape_vec((centres.len(), 2), flat).expect("n × 2");
        let values = projected.score_samples(at.view())?.to_vec();
        let grid = Grid::new(x, y, cells, cells, values);
        let high = grid.finite_range().map_or(0.0, |r| r.1);
        // Every row falls inside the colour range, but at most 25 nats below the peak.
        let flat_points: Vec<f64> = points.iter().flat_map(|&(a, b)| [a, b]).collect();
        let at_points = Array2::from_shape_vec((points.len(), 2), flat_points).expect("n × 2");
        let lowest_row = projected
            .score_samples(at_points.view())?
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let low = lowest_row.max(high - 25.0).min(high - 1.0);
        Ok(DensityGrid { grid, low, high })
    }

    /// Eight contour levels at equal steps inside the colour range.
    fn levels(&self) -> Vec<f64> {
        (1..=8)
            .map(|i| self.low + (self.high - self.low) * i as f64 / 9.0)
            .collect()
    }
}

#[allow(clippy::too_many_arguments)]
fn anomaly_figure(
    figure: Figure,
    shown: &[usize],
    points: &[(f64, f64)],
    scores: &[f64],
    labels: Option<&[bool]>,
    threshold: &super::Threshold,
    density: &DensityGrid,
    space: &PlotSpace,
) -> Result<Figure, ExploreError> {
    let flagged: Vec<bool> = scores.iter().map(|&s| s > threshold.value).collect();
    let n_flagged = flagged.iter().filter(|&&f| f).count();
    let light = RGBColor(170, 170, 170);
    let (index, names, styles, summary) = match labels {
        None => (
            flagged.iter().map(|&f| usize::from(f)).collect::<Vec<_>>(),
            vec!["not flagged".to_string(), "flagged".to_string()],
            vec![
                (Marker::Circle, light),
                (Marker::Triangle, category_color(4)),
            ],
            String::new(),
        ),
        Some(labels) => {
            let index: Vec<usize> = flagged
                .iter()
                .zip(labels)
                .map(|(&f, &l)| match (l, f) {
                    (false, false) => 0,
                    (false, true) => 1,
                    (true, true) => 2,
                    (true, false) => 3,
                })
                .collect();
            let count = |c: usize| index.iter().filter(|&&i| i == c).count();
            (
                index.clone(),
                vec![
                    "normal, not flagged".to_string(),
                    "normal, flagged (false alarm)".to_string(),
                    "anomaly, flagged (caught)".to_string(),
                    "anomaly, not flagged (missed)".to_string(),
                ],
                vec![
                    (Marker::Circle, light),
                    (Marker::Triangle, category_color(1)),
                    (Marker::Diamond, category_color(4)),
                    (Marker::Cross, category_color(2)),
                ],
                format!(
                    "; {} caught, {} false alarms, {} missed",
                    count(2),
                    count(1),
                    count(3)
                ),
            )
        }
    };
    // The strided rows, and every flagged or anomalous row among the others.
    let mut drawn: Vec<usize> = (0..points.len())
        .filter(|&i| flagged[i] || labels.is_some_and(|l| l[i]))
        .chain(shown.iter().copied())
        .collect();
    drawn.sort_unstable();
    drawn.dedup();
    let mut figure = figure
        .subtitle(&format!(
            "flagged: score = −log-likelihood > {}: {n_flagged} of {} rows{summary}\nthreshold: {}",
            format_value(threshold.value, 4),
            scores.len(),
            threshold.description,
        ))
        .layer(
            Scatter::new("rows", pick(points, &drawn))
                .categories_styled(pick(&index, &drawn), &names, styles)
                .size(3),
        );
    // For two features the threshold is a contour of the chart's density; for principal
    // components it is not (the score depends on the other components too).
    if let Some(log_jacobian) = space.log_jacobian() {
        figure = figure.layer(
            Contours::new(density.grid.clone(), vec![-threshold.value - log_jacobian])
                .line(category_color(0), 2, true)
                .label("threshold boundary"),
        );
    }
    Ok(figure)
}
