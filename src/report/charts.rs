//! The report's charts, drawn with [`crate::plot`]. Each returns `None` when it has nothing
//! to show, so a page never carries an empty chart; the builder says why instead.
//!
//! Point clouds are downsampled ([`MAX_CLOUD_POINTS`], an equal share per dataset chosen by a
//! seeded shuffle); medians and quartiles drawn over them use every point. Strategies keep one
//! colour across the page (their index in the palette); covariance types keep one colour and
//! marker in the hyperparameter charts.

use crate::gmm::{CovarianceType, InitMethod};
use crate::plot::{
    category_color, category_marker, Axis, Bars, Dots, Estimate, Figure, Line, Marker, NamedSvg,
    Scatter,
};

use super::comparison::StrategyComparison;
use super::effects::{
    binned, components_bin, reg_covar_bin, spread_sample, ConfigPoint, Importance, HYPERPARAMETERS,
};
use super::model::StrategyInfo;
use super::refit::{PartCurves, SelectedCurves};
use super::ReportError;

/// Most points drawn in one point cloud.
pub const MAX_CLOUD_POINTS: usize = 1500;

/// Size of a chart that spans the page.
pub const WIDE: (u32, u32) = (820, 520);
/// Size of a chart in a row of small ones.
pub const SMALL: (u32, u32) = (560, 400);

/// Renders `figure` as the chart `name`.
pub fn render(name: &str, figure: &Figure) -> Result<NamedSvg, ReportError> {
    NamedSvg::render(name, figure).map_err(|source| ReportError::Plot {
        name: name.to_string(),
        source,
    })
}

/// Keeps the points of a step function where its value changes, and its last point.
fn corners(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (i, &p) in points.iter().enumerate() {
        let changed = out.last().is_none_or(|l: &(f64, f64)| l.1 != p.1);
        if changed || i + 1 == points.len() {
            out.push(p);
        }
    }
    out
}

/// The frame of a chart of lines per strategy.
pub struct LinesChart<'a> {
    /// File stem.
    pub name: &'a str,
    /// Title.
    pub title: &'a str,
    /// Subtitle.
    pub subtitle: &'a str,
    /// Horizontal axis.
    pub x: Axis,
    /// Vertical axis.
    pub y: Axis,
    /// Size in pixels.
    pub size: (u32, u32),
}

/// Step lines of best-so-far (or regret) per strategy, markers where the value changes:
/// `curves[i] = (strategy index, points)`.
pub fn strategy_lines(
    frame: LinesChart<'_>,
    strategies: &[StrategyInfo],
    curves: &[(usize, Vec<(f64, f64)>)],
) -> Result<Option<NamedSvg>, ReportError> {
    if curves.iter().all(|(_, c)| c.is_empty()) {
        return Ok(None);
    }
    let mut fig = Figure::new(frame.title)
        .subtitle(frame.subtitle)
        .size(frame.size.0, frame.size.1)
        .x_axis(frame.x)
        .y_axis(frame.y);
    for (s, points) in curves {
        if points.is_empty() {
            continue;
        }
        fig = fig.layer(
            Line::new(&strategies[*s].name, corners(points))
                .step()
                .marker(category_marker(*s))
                .style(*s),
        );
    }
    render(frame.name, &fig).map(Some)
}

fn lighten(c: plotters::style::RGBColor, amount: f64) -> plotters::style::RGBColor {
    let mix = |v: u8| (v as f64 + (255.0 - v as f64) * amount).round() as u8;
    plotters::style::RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

const COVARIANCE_TYPES: [CovarianceType; 4] = [
    CovarianceType::Spherical,
    CovarianceType::Diag,
    CovarianceType::Tied,
    CovarianceType::Full,
];

fn covariance_index(c: CovarianceType) -> usize {
    COVARIANCE_TYPES.iter().position(|t| *t == c).unwrap_or(0)
}

const INITS: [InitMethod; 4] = [
    InitMethod::KMeans,
    InitMethod::KMeansPlusPlus,
    InitMethod::Random,
    InitMethod::RandomFromData,
];

/// Which figure of a configuration a hyperparameter chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectFigure {
    /// Test AUC as measured.
    Raw,
    /// Test AUC as a percentile within its dataset and seed.
    Percentile,
}

impl EffectFigure {
    fn value(self, p: &ConfigPoint) -> f64 {
        match self {
            EffectFigure::Raw => p.test_auc,
            EffectFigure::Percentile => p.percentile,
        }
    }

    fn axis(self) -> Axis {
        match self {
            EffectFigure::Raw => Axis::new("test ROC AUC"),
            EffectFigure::Percentile => Axis::new("test AUC percentile within its dataset")
                .unit("100 = best")
                .range(-3.0, 103.0),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            EffectFigure::Raw => "",
            EffectFigure::Percentile => "-percentile",
        }
    }

    fn words(self) -> &'static str {
        match self {
            EffectFigure::Raw => "test AUC",
            EffectFigure::Percentile => "test AUC percentile within the dataset",
        }
    }
}

/// Which hyperparameter is on the x axis of an effect chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Numeric {
    /// `n_components` (log axis, bins ×2).
    Components,
    /// `reg_covar` (log axis, half-decade bins).
    RegCovar,
}

/// Test AUC (or its percentile) against `n_components` or `reg_covar`: the configurations as a
/// light cloud, coloured and shaped by covariance type (nudged sideways per type so they do
/// not hide each other), and per covariance type the median of each bin as a line.
pub fn numeric_effect(
    points: &[ConfigPoint],
    numeric: Numeric,
    figure: EffectFigure,
) -> Result<Option<NamedSvg>, ReportError> {
    if points.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = COVARIANCE_TYPES.iter().map(|c| c.to_string()).collect();
    let (x_of, x_axis, what, stem): (fn(&ConfigPoint) -> f64, Axis, &str, &str) = match numeric {
        Numeric::Components => (
            |p| p.config.n_components as f64,
            Axis::new("n_components").unit("log scale").log(),
            "n_components",
            "effect-n-components",
        ),
        Numeric::RegCovar => (
            |p| p.config.reg_covar,
            Axis::new("reg_covar").unit("log scale").log(),
            "reg_covar",
            "effect-reg-covar",
        ),
    };
    let nudge = |x: f64, c: usize| x * 2f64.powf((c as f64 - 1.5) * 0.07);
    let kept = spread_sample(
        &points.iter().map(|p| p.dataset).collect::<Vec<_>>(),
        MAX_CLOUD_POINTS,
    );
    let cloud: Vec<(f64, f64)> = kept
        .iter()
        .map(|&i| {
            let p = &points[i];
            (
                nudge(x_of(p), covariance_index(p.config.covariance_type)),
                figure.value(p),
            )
        })
        .collect();
    let index: Vec<usize> = kept
        .iter()
        .map(|&i| covariance_index(points[i].config.covariance_type))
        .collect();
    let styles = (0..4)
        .map(|c| (category_marker(c), lighten(category_color(c), 0.6)))
        .collect();
    let mut fig = Figure::new(&format!("{} against {what}, per covariance type", capitalise(figure.words())))
        .subtitle(&format!(
            "{} distinct configurations ({} drawn, an equal share per dataset); lines: median per {} bin",
            points.len(),
            kept.len(),
            if numeric == Numeric::Components { "×2" } else { "half-decade" }
        ))
        .size(WIDE.0, WIDE.1)
        .x_axis(x_axis)
        .y_axis(figure.axis())
        .layer(Scatter::new("configurations", cloud).categories_styled(index, &names, styles).size(2));
    for (c, name) in names.iter().enumerate() {
        let xy: Vec<(f64, f64)> = points
            .iter()
            .filter(|p| covariance_index(p.config.covariance_type) == c)
            .map(|p| (x_of(p), figure.value(p)))
            .collect();
        let bins = match numeric {
            Numeric::Components => binned(&xy, |x| components_bin(x.round() as usize) as i64),
            Numeric::RegCovar => binned(&xy, reg_covar_bin),
        };
        if bins.is_empty() {
            continue;
        }
        let line: Vec<(f64, f64)> = bins.iter().map(|b| (nudge(b.x, c), b.median)).collect();
        fig = fig.layer(
            Line::new(&format!("{name}: median"), line)
                .marker(category_marker(c))
                .style(c),
        );
    }
    render(&format!("{stem}{}", figure.suffix()), &fig).map(Some)
}

fn capitalise(text: &str) -> String {
    let mut c = text.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// Test AUC (or its percentile) per `init`: median and quartiles, one series per covariance
/// type side by side.
pub fn init_effect(
    points: &[ConfigPoint],
    figure: EffectFigure,
) -> Result<Option<NamedSvg>, ReportError> {
    let present: Vec<InitMethod> = INITS
        .iter()
        .copied()
        .filter(|i| points.iter().any(|p| p.config.init == *i))
        .collect();
    if present.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = present.iter().map(|i| i.to_string()).collect();
    let mut fig = Figure::new(&format!(
        "{} per init, per covariance type",
        capitalise(figure.words())
    ))
    .subtitle("dot: median over configurations; bar: 25th to 75th percentile")
    .size(WIDE.0, WIDE.1)
    .x_axis(Axis::new("init").categories(&names))
    .y_axis(figure.axis());
    for (c, cov) in COVARIANCE_TYPES.iter().enumerate() {
        let estimates: Vec<Estimate> = present
            .iter()
            .enumerate()
            .filter_map(|(i, init)| {
                let xy: Vec<(f64, f64)> = points
                    .iter()
                    .filter(|p| p.config.init == *init && p.config.covariance_type == *cov)
                    .map(|p| (0.0, figure.value(p)))
                    .collect();
                let b = binned(&xy, |_| 0).into_iter().next()?;
                Some(Estimate::new(
                    i as f64 + (c as f64 - 1.5) * 0.15,
                    b.median,
                    b.low,
                    b.high,
                ))
            })
            .collect();
        if estimates.is_empty() {
            continue;
        }
        let mut dots = Dots::new(&cov.to_string(), estimates).marker(category_marker(c));
        dots.style = Some(c);
        fig = fig.layer(dots);
    }
    render(&format!("effect-init{}", figure.suffix()), &fig).map(Some)
}

/// Parameter importance: the mean share of variance each hyperparameter explains alone, for
/// test and validation AUC, with the quartiles over dataset × seed blocks.
pub fn importance_chart(
    importances: &[Importance],
    subtitle: &str,
) -> Result<Option<NamedSvg>, ReportError> {
    if importances.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = HYPERPARAMETERS.iter().map(|h| h.to_string()).collect();
    let mut fig =
        Figure::new("Parameter importance: variance explained by each hyperparameter alone")
            .subtitle(subtitle)
            .size(WIDE.0, WIDE.1)
            .x_axis(Axis::new("hyperparameter").categories(&names))
            .y_axis(Axis::new("share of variance explained (η²)").range(0.0, 1.0));
    for (f, figure) in ["test AUC", "validation AUC"].iter().enumerate() {
        let estimates: Vec<Estimate> = importances
            .iter()
            .filter(|i| i.figure == *figure)
            .filter_map(|i| {
                let h = HYPERPARAMETERS
                    .iter()
                    .position(|n| *n == i.hyperparameter)?;
                Some(Estimate::new(
                    h as f64 + (f as f64 - 0.5) * 0.36,
                    i.mean,
                    i.low,
                    i.high,
                ))
            })
            .collect();
        if estimates.is_empty() {
            continue;
        }
        let mut bars = Bars::new(figure, estimates).width(0.34);
        bars.style = Some(f);
        fig = fig.layer(bars);
    }
    render("importance", &fig).map(Some)
}

/// What a rank chart shows: average ranks over blocks with the Nemenyi critical difference.
pub struct Ranks<'a> {
    /// The figure ranked (`test AUC`).
    pub figure: &'a str,
    /// The treatments (strategies, methods), in palette order.
    pub names: &'a [String],
    /// Their average ranks (1 = best).
    pub average_rank: &'a [f64],
    /// The critical difference.
    pub critical_difference: f64,
    /// Blocks (datasets) ranked.
    pub blocks: usize,
    /// Friedman's test over them.
    pub friedman: Option<&'a super::stats::Friedman>,
}

/// Average ranks with Nemenyi intervals: each treatment's average rank ± CD/2, so two
/// treatments differ significantly (α = 0.05) exactly when their bars do not overlap.
pub fn rank_chart(name: &str, ranks: &Ranks<'_>) -> Result<Option<NamedSvg>, ReportError> {
    if ranks.blocks == 0 || ranks.names.is_empty() {
        return Ok(None);
    }
    let k = ranks.names.len();
    let cd = ranks.critical_difference;
    let p = ranks
        .friedman
        .map_or("Friedman test not available".to_string(), |f| {
            format!(
                "Friedman χ² = {:.2}, p = {}",
                f.chi_square,
                crate::plot::format_value(f.p_value, 3)
            )
        });
    let mut fig = Figure::new(&format!(
        "Average rank by {} (1 = best) with the Nemenyi critical difference",
        ranks.figure
    ))
    .subtitle(&format!(
        "{} datasets; CD = {:.2} at α = 0.05: bars that do not overlap differ significantly\n{p}",
        ranks.blocks, cd
    ))
    .size((SMALL.0 + 40).max(120 + 90 * k as u32), WIDE.1)
    .x_axis(Axis::new("").categories(ranks.names))
    .y_axis(Axis::new("average rank").range(0.5, k as f64 + 0.5));
    for (s, &r) in ranks.average_rank.iter().enumerate() {
        let mut dots = Dots::new(
            &ranks.names[s],
            vec![Estimate::new(s as f64, r, r - cd / 2.0, r + cd / 2.0)],
        )
        .marker(category_marker(s));
        dots.style = Some(s);
        fig = fig.layer(dots);
    }
    render(name, &fig).map(Some)
}

/// The selected configuration's figure per dataset and strategy: one row per dataset, a marker
/// per strategy.
pub fn per_dataset_chart(
    name: &str,
    comparison: &StrategyComparison,
    dataset_names: &[String],
    strategies: &[StrategyInfo],
) -> Result<Option<NamedSvg>, ReportError> {
    if comparison.datasets.is_empty() {
        return Ok(None);
    }
    let rows: Vec<String> = comparison
        .datasets
        .iter()
        .map(|&d| dataset_names[d].clone())
        .collect();
    let height = (120 + 22 * rows.len() as u32).max(360);
    let mut fig = Figure::new(&format!(
        "{} of the selected configuration, per dataset",
        capitalise(comparison.figure.name)
    ))
    .subtitle("mean over seeds")
    .size(WIDE.0, height)
    .x_axis(Axis::new(comparison.figure.name))
    .y_axis(Axis::new("dataset").categories(&rows));
    let k = strategies.len().max(1);
    for (s, strategy) in strategies.iter().enumerate() {
        let offset = (s as f64 - (k as f64 - 1.0) / 2.0) * (0.5 / k as f64);
        let points: Vec<(f64, f64)> = comparison
            .values
            .iter()
            .enumerate()
            .map(|(i, row)| (row[s], i as f64 + offset))
            .collect();
        fig = fig.layer(
            Scatter::new(&strategy.name, points)
                .marker(category_marker(s))
                .style(s)
                .size(4),
        );
    }
    render(name, &fig).map(Some)
}

/// One selected configuration drawn in a dataset's curve charts: the strategies that selected
/// it and their style.
pub struct Selection<'a> {
    /// Legend label (the strategies, joined).
    pub label: String,
    /// Palette index.
    pub style: usize,
    /// Its curves.
    pub curves: &'a SelectedCurves,
}

/// Adds a selection's validation (solid) and test (dashed) curve, the one `curve` picks from
/// each part, to `fig`; an empty curve adds nothing.
fn part_lines(
    mut fig: Figure,
    sel: &Selection<'_>,
    curve: impl Fn(&PartCurves) -> &Vec<(f64, f64)>,
) -> Figure {
    for (part, words, dashed) in [
        (&sel.curves.validation, "validation", false),
        (&sel.curves.test, "test", true),
    ] {
        let points = curve(part);
        if points.is_empty() {
            continue;
        }
        let line = Line::new(&format!("{} ({words})", sel.label), points.clone()).style(sel.style);
        fig = fig.layer(if dashed { line.dashed() } else { line });
    }
    fig
}

/// ROC curves of the selected configurations of a dataset: validation solid, test dashed, the
/// chosen threshold's operating point marked.
pub fn roc_chart(
    name: &str,
    dataset: &str,
    selections: &[Selection<'_>],
) -> Result<Option<NamedSvg>, ReportError> {
    if selections
        .iter()
        .all(|s| s.curves.validation.roc.is_empty() && s.curves.test.roc.is_empty())
    {
        return Ok(None);
    }
    let mut fig = Figure::new(&format!("ROC of the selected configurations: {dataset}"))
        .subtitle("solid: validation, dashed: test; diamonds: the threshold chosen on validation")
        .size(SMALL.0 + 40, SMALL.1 + 60)
        .x_axis(Axis::new("false positive rate").range(-0.02, 1.02))
        .y_axis(Axis::new("true positive rate").range(-0.02, 1.02));
    let mut chosen = Vec::new();
    for sel in selections {
        let c = sel.curves;
        fig = part_lines(fig, sel, |part| &part.roc);
        chosen.extend(c.validation.operating);
        chosen.extend(c.test.operating);
    }
    if !chosen.is_empty() {
        fig = fig.layer(
            Scatter::new("chosen threshold", chosen)
                .marker(Marker::Diamond)
                .color(crate::plot::category_color(2))
                .size(5)
                .halo(),
        );
    }
    render(name, &fig).map(Some)
}

/// Cost against threshold of the selected configurations of a dataset (validation solid, test
/// dashed), the chosen threshold marked on both. The threshold axis is the share of validation
/// rows the threshold flags ([`super::refit::ShareAxis`], log scale).
pub fn cost_chart(
    name: &str,
    dataset: &str,
    selections: &[Selection<'_>],
) -> Result<Option<NamedSvg>, ReportError> {
    if selections
        .iter()
        .all(|s| s.curves.validation.cost.is_empty() && s.curves.test.cost.is_empty())
    {
        return Ok(None);
    }
    let floor = selections
        .iter()
        .map(|s| s.curves.share_floor)
        .fold(1.0, f64::min);
    let cap = selections
        .iter()
        .map(|s| {
            super::refit::COST_CAP
                * s.curves
                    .validation
                    .never_alarm
                    .max(s.curves.test.never_alarm)
        })
        .fold(0.0, f64::max)
        .max(1.0);
    let thresholds: Vec<String> = selections
        .iter()
        .map(|s| {
            format!(
                "{} {}",
                s.label,
                crate::plot::format_value(s.curves.threshold, 4)
            )
        })
        .collect();
    let mut fig = Figure::new(&format!("Cost against threshold: {dataset}"))
        .subtitle(&format!(
            "solid: validation, dashed: test; diamonds: the chosen threshold; costs above {} × never-alarm cut\nchosen thresholds (−log-likelihood): {}",
            super::refit::COST_CAP,
            thresholds.join(", ")
        ))
        .size(SMALL.0 + 40, SMALL.1 + 60)
        .x_axis(
            Axis::new("threshold, as the share of validation rows above it")
                .unit("log scale")
                .log()
                .range(floor * 0.8, 1.25),
        )
        .y_axis(Axis::new("cost").unit("cost-model units").range(0.0, cap * 1.02));
    let mut chosen = Vec::new();
    for sel in selections {
        let c = sel.curves;
        fig = part_lines(fig, sel, |part| &part.cost);
        chosen.push((c.threshold_share, c.validation.cost_at_threshold));
        chosen.push((c.threshold_share, c.test.cost_at_threshold));
    }
    fig = fig.layer(
        Scatter::new("chosen threshold", chosen)
            .marker(Marker::Diamond)
            .color(crate::plot::category_color(2))
            .size(5)
            .halo(),
    );
    render(name, &fig).map(Some)
}
