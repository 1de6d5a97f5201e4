//! Choosing the number of components: fit every candidate, tabulate BIC, AIC and the k-fold
//! held-out log-likelihood, plot them against `n_components` per covariance type.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;

use crate::gmm::{CovarianceType, GaussianMixture, InitMethod};
use crate::gmm_config::FitSettings;
use crate::plot::{Axis as ChartAxis, Figure, Line, Marker, NamedSvg, Scatter};
use crate::search::trial::{cv_loglik, fit_config};
use crate::search::GmmConfig;

use super::ExploreError;

/// The most candidates one selection fits (each one `1 + folds` times).
pub const MAX_CANDIDATES: usize = 2000;

/// Which column picks the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Criterion {
    /// Lowest BIC.
    #[default]
    Bic,
    /// Lowest AIC.
    Aic,
    /// Highest k-fold held-out mean log-likelihood.
    Cv,
}

impl std::str::FromStr for Criterion {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "bic" => Ok(Criterion::Bic),
            "aic" => Ok(Criterion::Aic),
            "cv" | "cv_loglik" => Ok(Criterion::Cv),
            other => Err(format!("unknown criterion `{other}`: use bic, aic or cv")),
        }
    }
}

impl Criterion {
    /// Column name in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Criterion::Bic => "bic",
            Criterion::Aic => "aic",
            Criterion::Cv => "cv_loglik",
        }
    }
}

/// One candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Number of components.
    pub n_components: usize,
    /// Covariance type.
    pub covariance_type: CovarianceType,
}

/// What a selection fits.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectSettings {
    /// Candidate sizes (each at least 1).
    pub n_components: Vec<usize>,
    /// Candidate covariance types.
    pub covariance_types: Vec<CovarianceType>,
    /// Regularisation of every fit.
    pub reg_covar: f64,
    /// Initialisation of every fit.
    pub init: InitMethod,
    /// EM settings of every fit.
    pub fit: FitSettings,
    /// Seed of every fit.
    pub seed: u64,
    /// Folds of the held-out log-likelihood (unshuffled, as scikit-learn's `KFold`).
    pub cv_folds: usize,
}

/// One row of the table: a candidate fitted on all rows, and its criteria.
#[derive(Debug, Clone, PartialEq)]
pub struct SelectionRow {
    /// The candidate.
    pub candidate: Candidate,
    /// Free parameters.
    pub n_parameters: usize,
    /// Mean log-likelihood of the rows.
    pub log_likelihood: f64,
    /// BIC on the rows (NaN when the fit failed).
    pub bic: f64,
    /// AIC on the rows.
    pub aic: f64,
    /// k-fold held-out mean log-likelihood.
    pub cv_loglik: f64,
    /// Whether EM converged on all rows.
    pub converged: bool,
    /// EM iterations on all rows.
    pub n_iter: usize,
    /// Why the candidate failed, if it did.
    pub error: Option<String>,
}

impl SelectionRow {
    /// The value of `criterion` (NaN for a failed candidate).
    pub fn value(&self, criterion: Criterion) -> f64 {
        match criterion {
            Criterion::Bic => self.bic,
            Criterion::Aic => self.aic,
            Criterion::Cv => self.cv_loglik,
        }
    }
}

/// The fitted candidates, in the order sizes × covariance types were given.
#[derive(Debug, Clone)]
pub struct Selection {
    /// One row per candidate.
    pub rows: Vec<SelectionRow>,
    models: Vec<Option<GaussianMixture>>,
}

/// Fits every candidate of `settings` on `rows` (in the units the model will use).
///
/// # Errors
/// [`ExploreError::BadCandidates`] for no candidate, a size of 0, more than
/// [`MAX_CANDIDATES`] candidates, or a size above the rows of a training fold;
/// [`ExploreError::ConstantColumn`] naming a constant feature; [`ExploreError::TooLittleData`]
/// for fewer rows than folds.
pub fn select(
    rows: ArrayView2<f64>,
    feature_names: &[String],
    settings: &SelectSettings,
) -> Result<Selection, ExploreError> {
    check(rows, feature_names, settings)?;
    let candidates: Vec<Candidate> = settings
        .n_components
        .iter()
        .flat_map(|&n_components| {
            settings
                .covariance_types
                .iter()
                .map(move |&covariance_type| Candidate {
                    n_components,
                    covariance_type,
                })
        })
        .collect();
    let results: Vec<(SelectionRow, Option<GaussianMixture>)> = candidates
        .par_iter()
        .map(|c| evaluate(*c, rows, settings))
        .collect();
    let (rows, models) = results.into_iter().unzip();
    Ok(Selection { rows, models })
}

fn check(
    rows: ArrayView2<f64>,
    names: &[String],
    settings: &SelectSettings,
) -> Result<(), ExploreError> {
    let n = rows.nrows();
    let bad = |m: String| Err(ExploreError::BadCandidates(m));
    if settings.n_components.is_empty() || settings.covariance_types.is_empty() {
        return bad(
            "no candidate: give sizes such as 1..8 and at least one covariance type".into(),
        );
    }
    if settings.n_components.contains(&0) {
        return bad("a mixture needs at least 1 component".into());
    }
    let count = settings.n_components.len() * settings.covariance_types.len();
    if count > MAX_CANDIDATES {
        return bad(format!(
            "{count} candidates is more than {MAX_CANDIDATES}; give a shorter range"
        ));
    }
    if settings.cv_folds < 2 || n < settings.cv_folds {
        return Err(ExploreError::TooLittleData(format!(
            "{}-fold cross-validation needs at least 2 folds and as many rows; the data has {n} rows",
            settings.cv_folds
        )));
    }
    let smallest_fold_train = n - n.div_ceil(settings.cv_folds);
    let largest = *settings.n_components.iter().max().expect("non-empty");
    if largest > smallest_fold_train {
        return bad(format!(
            "{largest} components is too many for {n} rows: each {}-fold training part holds {smallest_fold_train} rows, and a mixture needs at least one row per component",
            settings.cv_folds
        ));
    }
    for (j, column) in rows.axis_iter(Axis(1)).enumerate() {
        let first = column[0];
        if column.iter().all(|&v| v == first) {
            return Err(ExploreError::ConstantColumn {
                name: names.get(j).cloned().unwrap_or_else(|| format!("#{j}")),
                value: first,
            });
        }
    }
    Ok(())
}

fn evaluate(
    candidate: Candidate,
    rows: ArrayView2<f64>,
    settings: &SelectSettings,
) -> (SelectionRow, Option<GaussianMixture>) {
    let config = GmmConfig {
        n_components: candidate.n_components,
        covariance_type: candidate.covariance_type,
        reg_covar: settings.reg_covar,
        init: settings.init,
    };
    let failed = |error: String| SelectionRow {
        candidate,
        n_parameters: 0,
        log_likelihood: f64::NAN,
        bic: f64::NAN,
        aic: f64::NAN,
        cv_loglik: f64::NAN,
        converged: false,
        n_iter: 0,
        error: Some(error),
    };
    let model = match fit_config(&config, &settings.fit, settings.seed, rows) {
        Ok(m) => m,
        Err(e) => return (failed(e.to_string()), None),
    };
    let measured = model.score_samples(rows).and_then(|ll| {
        let cv = cv_loglik(
            &config,
            &settings.fit,
            settings.seed,
            rows,
            settings.cv_folds,
        )?;
        Ok((ll, cv))
    });
    match measured {
        Ok((ll, cv)) => {
            let n = ll.len() as f64;
            let mean = ll.sum() / n;
            let p = model.n_parameters() as f64;
            let row = SelectionRow {
                candidate,
                n_parameters: model.n_parameters(),
                log_likelihood: mean,
                bic: model.bic_from_log_likelihoods(ll.view()),
                aic: -2.0 * mean * n + 2.0 * p,
                cv_loglik: cv,
                converged: model.converged(),
                n_iter: model.n_iter(),
                error: None,
            };
            (row, Some(model))
        }
        Err(e) => (failed(e.to_string()), None),
    }
}

impl Selection {
    /// Index of the best candidate by `criterion` (earliest on ties); `None` when every
    /// candidate failed.
    pub fn best(&self, criterion: Criterion) -> Option<usize> {
        let sign = if criterion == Criterion::Cv {
            -1.0
        } else {
            1.0
        };
        let mut best: Option<(usize, f64)> = None;
        for (i, row) in self.rows.iter().enumerate() {
            let v = sign * row.value(criterion);
            if v.is_finite() && best.is_none_or(|(_, b)| v < b) {
                best = Some((i, v));
            }
        }
        best.map(|(i, _)| i)
    }

    /// The model fitted for candidate `index` (on all rows).
    pub fn model(&self, index: usize) -> Option<&GaussianMixture> {
        self.models.get(index).and_then(Option::as_ref)
    }

    /// The table as CSV: one row per candidate, numbers with full precision.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "n_components,covariance_type,n_parameters,log_likelihood,bic,aic,cv_loglik,converged,n_iter,error\n",
        );
        for r in &self.rows {
            let num = |v: f64| {
                if v.is_finite() {
                    format!("{v}")
                } else {
                    String::new()
                }
            };
            let error = r.error.as_deref().unwrap_or("").replace('"', "'");
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},\"{}\"\n",
                r.candidate.n_components,
                r.candidate.covariance_type,
                r.n_parameters,
                num(r.log_likelihood),
                num(r.bic),
                num(r.aic),
                num(r.cv_loglik),
                r.converged,
                r.n_iter,
                error
            ));
        }
        out
    }

    /// One chart per criterion (`bic`, `aic`, `cv_loglik`): the criterion against
    /// `n_components`, one line per covariance type, the best candidate ringed.
    ///
    /// # Errors
    /// If a chart cannot be drawn.
    pub fn figures(&self, dataset: &str, cv_folds: usize) -> Result<Vec<NamedSvg>, ExploreError> {
        let mut types: Vec<CovarianceType> = Vec::new();
        for r in &self.rows {
            if !types.contains(&r.candidate.covariance_type) {
                types.push(r.candidate.covariance_type);
            }
        }
        let mut out = Vec::new();
        for (criterion, title, axis) in [
            (Criterion::Bic, "BIC", "BIC"),
            (Criterion::Aic, "AIC", "AIC"),
            (
                Criterion::Cv,
                "held-out log-likelihood",
                "held-out mean log-likelihood",
            ),
        ] {
            let mut figure = Figure::new(&format!("{title} by number of components: {dataset}"))
                .x_axis(ChartAxis::new("n_components").integer_ticks())
                .y_axis(ChartAxis::new(axis).unit(if criterion == Criterion::Cv {
                    "nats per row, higher is better"
                } else {
                    "nats, lower is better"
                }));
            if criterion == Criterion::Cv {
                figure = figure.subtitle(&format!(
                    "{cv_folds}-fold, unshuffled (scikit-learn's KFold)"
                ));
            }
            for (s, t) in types.iter().enumerate() {
                let points = self
                    .rows
                    .iter()
                    .filter(|r| r.candidate.covariance_type == *t)
                    .map(|r| (r.candidate.n_components as f64, r.value(criterion)))
                    .collect();
                figure = figure.layer(
                    Line::new(t.as_str(), points)
                        .marker(crate::plot::category_marker(s))
                        .style(s),
                );
            }
            if let Some(b) = self.best(criterion) {
                let r = &self.rows[b];
                let label = format!(
                    "{}: {} components, {}",
                    if criterion == Criterion::Cv {
                        "maximum"
                    } else {
                        "minimum"
                    },
                    r.candidate.n_components,
                    r.candidate.covariance_type
                );
                figure = figure.layer(
                    Scatter::new(
                        &label,
                        vec![(r.candidate.n_components as f64, r.value(criterion))],
                    )
                    .marker(Marker::Ring)
                    .size(10)
                    .color(crate::plot::category_color(2)),
                );
            } else {
                figure =
                    figure.empty_message("every candidate failed (see the table's error column)");
            }
            out.push(NamedSvg::render(criterion.as_str(), &figure)?);
        }
        Ok(out)
    }
}
