//! Where the charts live: an affine map from the model's space to the plane of the chart,
//! and the mixture carried along it.
//!
//! With `p = A·x + b` (A: 2×d) a Gaussian `N(μ, Σ)` in the model's space becomes
//! `N(Aμ + b, AΣAᵀ)` on the chart: for two features and the data's own units `A` undoes the
//! standardisation (`diag(scale)`, `b = mean`), so points, ellipses and density agree in the
//! user's units; for more features `A` holds the first two principal components and the
//! projected mixture is the exact marginal density of the chart's coordinates.

use ndarray::{array, Array1, Array2, Array3, ArrayView2, Axis};

use crate::gmm::{CovarianceType, Covariances, GaussianMixture};
use crate::model_file::ModelFile;
use crate::plot::{format_value, Component2d};

use super::{ExploreError, Pca};

/// Which units two-feature charts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Units {
    /// The units of the data file (the standardisation is undone).
    #[default]
    Data,
    /// The units the model was fitted in (standardised, when it was).
    Model,
}

/// The chart plane: the map from the model's space and the axis titles.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotSpace {
    map: Array2<f64>,
    offset: [f64; 2],
    /// Title of the horizontal axis.
    pub x_title: String,
    /// Title of the vertical axis.
    pub y_title: String,
    /// Whether the chart shows principal components (more than two features).
    pub principal_components: bool,
}

/// The d×d covariance of component `c` whatever the covariance type (tied: the shared one;
/// diag: a diagonal matrix; spherical: `σ²·I`).
///
/// ```
/// use gmmtune::explore::component_covariance;
/// use gmmtune::gmm::{CovarianceType, Covariances, GaussianMixture};
/// use ndarray::array;
/// let m = GaussianMixture::from_parts(CovarianceType::Spherical, array![1.0], array![[0.0, 0.0]],
///     Covariances::Spherical(array![4.0]))?;
/// assert_eq!(component_covariance(&m, 0), array![[4.0, 0.0], [0.0, 4.0]]);
/// # Ok::<(), gmmtune::gmm::GmmError>(())
/// ```
pub fn component_covariance(model: &GaussianMixture, c: usize) -> Array2<f64> {
    let d = model.n_features();
    match model.covariances() {
        Covariances::Full(a) => a.index_axis(Axis(0), c).to_owned(),
        Covariances::Tied(a) => a.clone(),
        Covariances::Diag(a) => Array2::from_diag(&a.row(c)),
        Covariances::Spherical(a) => Array2::eye(d) * a[c],
    }
}

impl PlotSpace {
    /// The chart plane for `file`'s model and the rows it will show (`model_rows`: in the
    /// model's units).
    ///
    /// # Errors
    /// [`ExploreError::TooLittleData`] for a model with fewer than two features, or when the
    /// principal components cannot be computed (fewer than two rows).
    pub fn new(
        file: &ModelFile,
        model_rows: ArrayView2<f64>,
        units: Units,
    ) -> Result<PlotSpace, ExploreError> {
        let d = file.model.n_features();
        let name = |j: usize| {
            file.feature_names
                .get(j)
                .cloned()
                .unwrap_or_else(|| format!("x{j}"))
        };
        if d < 2 {
            return Err(ExploreError::TooLittleData(format!(
                "the model has {d} feature; the charts need at least two"
            )));
        }
        let standardised = file.standardization.is_some();
        if d == 2 {
            let (map, offset, suffix) = match (&file.standardization, units) {
                (Some(s), Units::Data) => (
                    Array2::from_diag(&Array1::from(s.scale.clone())),
                    [s.mean[0], s.mean[1]],
                    "",
                ),
                (Some(_), Units::Model) => (Array2::eye(2), [0.0, 0.0], " (standardised)"),
                (None, _) => (Array2::eye(2), [0.0, 0.0], ""),
            };
            return Ok(PlotSpace {
                map,
                offset,
                x_title: format!("{}{suffix}", name(0)),
                y_title: format!("{}{suffix}", name(1)),
                principal_components: false,
            });
        }
        let pca = Pca::fit(model_rows, 2)?;
        let shift = pca.components.dot(&Array1::from(pca.mean.clone()));
        let of = if standardised {
            " of standardised features"
        } else {
            ""
        };
        let title = |i: usize| {
            format!(
                "PC{}: {} % of variance{of}",
                i + 1,
                format_value(100.0 * pca.explained_variance_ratio[i], 3)
            )
        };
        Ok(PlotSpace {
            x_title: title(0),
            y_title: title(1),
            offset: [-shift[0], -shift[1]],
            map: pca.components,
            principal_components: true,
        })
    }

    /// The 2×d map `A`.
    pub fn map(&self) -> &Array2<f64> {
        &self.map
    }

    /// Chart coordinates of rows in the model's units.
    pub fn project_rows(&self, model_rows: ArrayView2<f64>) -> Vec<(f64, f64)> {
        let p = model_rows.dot(&self.map.t());
        p.axis_iter(Axis(0))
            .map(|r| (r[0] + self.offset[0], r[1] + self.offset[1]))
            .collect()
    }

    /// Mean and 2×2 covariance of each component on the chart (`style` = component index).
    pub fn project_components(&self, model: &GaussianMixture) -> Vec<Component2d> {
        let means = self.project_rows(model.means());
        (0..model.n_components())
            .map(|c| {
                let s = self
                    .map
                    .dot(&component_covariance(model, c))
                    .dot(&self.map.t());
                // Symmetrise the rounding of the products.
                let off = 0.5 * (s[(0, 1)] + s[(1, 0)]);
                Component2d {
                    mean: means[c],
                    covariance: [[s[(0, 0)], off], [off, s[(1, 1)]]],
                    style: c,
                }
            })
            .collect()
    }

    /// The mixture of the chart's coordinates: weights kept, each component projected (a
    /// full-covariance two-feature mixture).
    ///
    /// # Errors
    /// When a projected covariance is singular (a component with no spread on the plane).
    pub fn projected_mixture(
        &self,
        model: &GaussianMixture,
    ) -> Result<GaussianMixture, ExploreError> {
        let parts = self.project_components(model);
        let k = parts.len();
        let mut means = Array2::zeros((k, 2));
        let mut covariances = Array3::zeros((k, 2, 2));
        for (c, part) in parts.iter().enumerate() {
            let (m, s) = (part.mean, part.covariance);
            means.row_mut(c).assign(&array![m.0, m.1]);
            for a in 0..2 {
                for b in 0..2 {
                    covariances[(c, a, b)] = s[a][b];
                }
            }
        }
        Ok(GaussianMixture::from_parts(
            CovarianceType::Full,
            model.weights().to_owned(),
            means,
            Covariances::Full(covariances),
        )?)
    }

    /// For two features, `ln |det A|`: the chart's log-density is the model's minus it (so a
    /// threshold on the model's score is a contour of the chart's density). `None` for
    /// principal components, whose density is a marginal.
    pub fn log_jacobian(&self) -> Option<f64> {
        if self.principal_components {
            return None;
        }
        let det = self.map[(0, 0)] * self.map[(1, 1)] - self.map[(0, 1)] * self.map[(1, 0)];
        Some(det.abs().ln())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Standardizer;

    fn file(model: GaussianMixture, standardization: Option<Standardizer>) -> ModelFile {
        let d = model.n_features();
        ModelFile {
            model,
            feature_names: (0..d).map(|j| format!("f{j}")).collect(),
            standardization,
            training_score_quantiles: None,
        }
    }

    #[test]
    fn standardised_two_feature_models_are_drawn_in_data_units() {
        let model = GaussianMixture::from_parts(
            CovarianceType::Spherical,
            array![1.0],
            array![[1.0, -1.0]],
            Covariances::Spherical(array![1.0]),
        )
        .unwrap();
        let s = Standardizer {
            mean: vec![10.0, 20.0],
            scale: vec![2.0, 5.0],
        };
        let rows = array![[0.0, 0.0]];
        let space =
            PlotSpace::new(&file(model.clone(), Some(s)), rows.view(), Units::Data).unwrap();
        let parts = space.project_components(&model);
        assert_eq!(parts[0].mean, (12.0, 15.0));
        assert_eq!(parts[0].covariance, [[4.0, 0.0], [0.0, 25.0]]);
        assert_eq!(space.log_jacobian(), Some(10f64.ln()));
        // The chart's density is the model's, moved by the Jacobian.
        let projected = space.projected_mixture(&model).unwrap();
        let ll_chart = projected
            .score_samples(array![[12.0, 15.0]].view())
            .unwrap()[0];
        let ll_model = model.score_samples(array![[1.0, -1.0]].view()).unwrap()[0];
        assert!((ll_chart - (ll_model - 10f64.ln())).abs() < 1e-12);
    }

    #[test]
    fn more_features_use_principal_components() {
        let model = GaussianMixture::from_parts(
            CovarianceType::Diag,
            array![1.0],
            array![[0.0, 0.0, 0.0]],
            Covariances::Diag(array![[9.0, 4.0, 1.0]]),
        )
        .unwrap();
        let rows = array![
            [3.0, 0.0, 0.0],
            [-3.0, 0.0, 0.0],
            [0.0, 2.0, 0.1],
            [0.0, -2.0, -0.1]
        ];
        let space = PlotSpace::new(&file(model.clone(), None), rows.view(), Units::Data).unwrap();
        assert!(space.principal_components && space.x_title.starts_with("PC1: "));
        let parts = space.project_components(&model);
        let cov = parts[0].covariance;
        // PC1 is the first axis; PC2 is (0, 2, 0.1) normalised: variance (4·4 + 1·0.01) / 4.01.
        assert!((cov[0][0] - 9.0).abs() < 1e-9 && (cov[1][1] - 16.01 / 4.01).abs() < 1e-9);
        assert!(space.log_jacobian().is_none());
    }
}
