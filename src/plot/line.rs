//! Line series: polylines or step lines, with optional markers at the data points.

use plotters::prelude::*;

use super::axes::Axis;
use super::figure::{draw_clipped_path, draw_error, Chart, Extent, LegendEntry, Swatch};
use super::theme::{self, Marker};
use super::{text, PlotError};

/// One named series of `(x, y)` points joined in the given order.
///
/// Points an axis cannot show break the line there (a gap), instead of joining across.
///
/// ```
/// use gmmtune::plot::{Axis, Figure, Line};
/// let svg = Figure::new("lower bound")
///     .x_axis(Axis::new("iteration"))
///     .y_axis(Axis::new("mean log-likelihood"))
///     .layer(Line::new("EM", vec![(1.0, -3.0), (2.0, -2.5), (3.0, -2.4)]).step())
///     .render_svg()?;
/// assert!(svg.contains("<polyline"));
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    name: String,
    points: Vec<(f64, f64)>,
    marker: Option<Marker>,
    step: bool,
    dashed: bool,
    width: u32,
    pub(crate) style: Option<usize>,
}

impl Line {
    /// A solid line through `points`.
    pub fn new(name: &str, points: Vec<(f64, f64)>) -> Line {
        Line {
            name: name.to_string(),
            points,
            marker: None,
            step: false,
            dashed: false,
            width: 2,
            style: None,
        }
    }

    /// Draws a marker at every point.
    pub fn marker(mut self, marker: Marker) -> Line {
        self.marker = Some(marker);
        self
    }

    /// A step line: horizontal to the next x, then vertical.
    pub fn step(mut self) -> Line {
        self.step = true;
        self
    }

    /// Dashed instead of solid.
    pub fn dashed(mut self) -> Line {
        self.dashed = true;
        self
    }

    /// Uses categorical colour `index` instead of the next free one.
    pub fn style(mut self, index: usize) -> Line {
        self.style = Some(index);
        self
    }

    fn color(&self) -> RGBColor {
        theme::category_color(self.style.unwrap_or(0))
    }

    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        let mut e = Extent::default();
        for &(a, b) in &self.points {
            e.add(x, y, a, b);
        }
        e
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        vec![LegendEntry {
            swatch: Swatch::Line {
                color: self.color(),
                dashed: self.dashed,
                width: self.width,
                marker: self.marker,
            },
            label: text::label(&self.name),
        }]
    }

    /// The drawable runs: consecutive points both axes accept (with step corners added).
    fn runs(&self, x: &Axis, y: &Axis) -> Vec<Vec<(f64, f64)>> {
        let mut runs = Vec::new();
        let mut run: Vec<(f64, f64)> = Vec::new();
        for &(a, b) in &self.points {
            if x.accepts(a) && y.accepts(b) {
                if self.step
                    && let Some(&(_, last_y)) = run.last()
                {
                    run.push((a, last_y));
                }
                run.push((a, b));
            } else if !run.is_empty() {
                runs.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            runs.push(run);
        }
        runs
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let color = self.color();
        let style = ShapeStyle::from(&color).stroke_width(self.width);
        for run in self.runs(x, y) {
            draw_clipped_path(chart, x, y, &run, style, self.dashed.then_some((6, 4)))?;
        }
        if let Some(marker) = self.marker {
            let points: Vec<(f64, f64)> = self
                .points
                .iter()
                .copied()
                .filter(|&(a, b)| x.accepts(a) && y.accepts(b))
                .collect();
            chart
                .draw_series(
                    points
                        .into_iter()
                        .map(|p| theme::MarkerElement::new(p, marker, 4, color)),
                )
                .map_err(draw_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_runs_and_steps_add_corners() {
        let (x, y) = (Axis::new("x"), Axis::new("y").log());
        let line = Line::new(
            "l",
            vec![
                (0.0, 1.0),
                (1.0, 2.0),
                (2.0, f64::NAN),
                (3.0, -1.0),
                (4.0, 3.0),
            ],
        );
        assert_eq!(
            line.runs(&x, &y),
            vec![vec![(0.0, 1.0), (1.0, 2.0)], vec![(4.0, 3.0)]]
        );
        let step = Line::new("s", vec![(0.0, 1.0), (1.0, 2.0)]).step();
        assert_eq!(
            step.runs(&x, &y),
            vec![vec![(0.0, 1.0), (1.0, 1.0), (1.0, 2.0)]]
        );
    }
}
