//! The one place gmmtune draws: charts as values, rendered to SVG strings (to inline in HTML)
//! or files, with plotters' SVG backend.
//!
//! A [`Figure`] has a title, two [`Axis`] (linear, log or categorical, with units) and
//! layers drawn in order: [`Heatmap`] and [`Contours`] of a [`Grid`], [`Ellipses`] of
//! covariances, [`Line`] (polyline or step, with markers), [`Scatter`] (one style, coloured by
//! category with a marker per category, or shaded by a value with a colour bar), [`Bars`] and
//! [`Dots`] with error bars. The legend and the colour bar sit in a panel right of the axes,
//! so they never hide data.
//!
//! * Colours survive greyscale printing ([`theme`](self::category_color)): categories vary in
//!   lightness and marker shape, ordered values use viridis or cividis ([`Ramp`]).
//! * Text is safe: plotters' SVG backend escapes markup in every text it writes, and
//!   [`clean_text`] removes the control characters it would pass through; every title,
//!   label, legend entry and category name goes through both.
//! * Output is deterministic: pixel coordinates are integers, numbers are formatted by
//!   [`format_tick`] / [`format_value`], and nothing depends on time or hashing order.
//! * Values an axis cannot show (NaN, ±∞, ≤ 0 on a log axis) are left out; a figure with
//!   nothing left says so in a readable "no data" panel; inconsistent layers are errors.
//!
//! ```
//! use gmmtune::plot::{Axis, Figure, Scatter};
//! let svg = Figure::new("<script>alert(1)</script>")
//!     .x_axis(Axis::new("x").unit("m"))
//!     .layer(Scatter::new("points", vec![(0.0, 1.0), (1.0, 3.0)]))
//!     .render_svg()?;
//! assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
//! # Ok::<(), gmmtune::plot::PlotError>(())
//! ```

mod axes;
mod bars;
mod ellipse;
mod figure;
mod heatmap;
mod line;
mod scatter;
mod text;
mod theme;

use thiserror::Error;

pub use axes::{Axis, Scale};
pub use bars::{Bars, Dots, Estimate};
pub use ellipse::{covariance_ellipse, ellipse_outline, Component2d, EllipseAxes, Ellipses};
pub use figure::{Figure, Layer};
pub use heatmap::{ColorBar, Contours, Grid, Heatmap};
pub use line::Line;
pub use scatter::Scatter;
pub use text::{clean as clean_text, format_tick, format_value, MAX_LABEL_CHARS};
pub use theme::{category_color, category_marker, Marker, Ramp};

/// Errors making a chart.
#[derive(Debug, Error)]
pub enum PlotError {
    /// A layer's data is inconsistent; `layer` names it.
    #[error("cannot draw {layer}: {reason}")]
    InvalidLayer { layer: String, reason: String },
    /// plotters failed while drawing.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// The file could not be written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A rendered chart with the file stem it is saved under (`density` → `density.svg`).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedSvg {
    /// File stem, also usable as an HTML id.
    pub name: String,
    /// The chart's title.
    pub title: String,
    /// The SVG document.
    pub svg: String,
}

impl NamedSvg {
    /// Renders `figure` under `name`.
    pub fn render(name: &str, figure: &Figure) -> Result<NamedSvg, PlotError> {
        Ok(NamedSvg {
            name: name.to_string(),
            title: figure.title().to_string(),
            svg: figure.render_svg()?,
        })
    }

    /// Writes `DIR/<name>.svg`; returns the path.
    pub fn save_in(&self, dir: &std::path::Path) -> Result<std::path::PathBuf, PlotError> {
        let path = dir.join(format!("{}.svg", self.name));
        std::fs::write(&path, &self.svg).map_err(|source| PlotError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Ok(path)
    }
}
