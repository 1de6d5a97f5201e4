//! Bar charts and dot plots with error bars (typically on a categorical x axis).

use plotters::prelude::*;

use super::axes::Axis;
use super::figure::{draw_error, Chart, Extent, LegendEntry, Swatch};
use super::theme::{self, Marker};
use super::{text, PlotError};

/// One value with an optional interval, at position `x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Position (a category index on a categorical axis).
    pub x: f64,
    /// The value.
    pub y: f64,
    /// Lower and upper end of the error bar.
    pub interval: Option<(f64, f64)>,
}

impl Estimate {
    /// A value with an error bar from `low` to `high`.
    pub fn new(x: f64, y: f64, low: f64, high: f64) -> Estimate {
        Estimate {
            x,
            y,
            interval: Some((low, high)),
        }
    }
}

fn estimates_extent(estimates: &[Estimate], x: &Axis, y: &Axis, from_zero: bool) -> Extent {
    let mut e = Extent::default();
    for est in estimates {
        if e.add(x, y, est.x, est.y) {
            if let Some((lo, hi)) = est.interval {
                e.add(x, y, est.x, lo);
                e.add(x, y, est.x, hi);
            }
            if from_zero {
                e.add(x, y, est.x, 0.0);
            }
        }
    }
    e
}

fn draw_error_bars(
    chart: &mut Chart<'_, '_>,
    estimates: &[Estimate],
    x: &Axis,
    y: &Axis,
    color: RGBColor,
) -> Result<(), PlotError> {
    let style = ShapeStyle::from(&color).stroke_width(1);
    let bars: Vec<(f64, f64, f64)> = estimates
        .iter()
        .filter(|e| x.accepts(e.x) && y.accepts(e.y))
        .filter_map(|e| e.interval.map(|(lo, hi)| (e.x, lo, hi)))
        .filter(|&(_, lo, hi)| y.accepts(lo) && y.accepts(hi))
        .collect();
    chart
        .draw_series(
            bars.iter()
                .map(|&(px, lo, hi)| PathElement::new(vec![(px, lo), (px, hi)], style)),
        )
        .map_err(draw_error)?;
    // Caps: 5-pixel ticks at both ends.
    for &(px, lo, hi) in &bars {
        for end in [lo, hi] {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((px, end)) + PathElement::new(vec![(-5, 0), (5, 0)], style),
                ))
                .map_err(draw_error)?;
        }
    }
    Ok(())
}

/// Bars from zero to each value, `width` category units wide, with optional error bars.
///
/// ```
/// use gmmtune::plot::{Axis, Bars, Estimate, Figure};
/// let names = vec!["grid".to_string(), "cfo".to_string()];
/// let svg = Figure::new("wins")
///     .x_axis(Axis::new("strategy").categories(&names))
///     .y_axis(Axis::new("datasets won"))
///     .layer(Bars::new("wins", vec![Estimate::new(0.0, 12.0, 10.0, 14.0), Estimate::new(1.0, 15.0, 13.0, 17.0)]))
///     .render_svg()?;
/// assert!(svg.contains("cfo"));
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bars {
    name: String,
    estimates: Vec<Estimate>,
    width: f64,
    pub(crate) style: Option<usize>,
}

impl Bars {
    /// Bars named `name`, 0.6 wide.
    pub fn new(name: &str, estimates: Vec<Estimate>) -> Bars {
        Bars {
            name: name.to_string(),
            estimates,
            width: 0.6,
            style: None,
        }
    }

    /// Bar width in x units.
    pub fn width(mut self, width: f64) -> Bars {
        if width.is_finite() && width > 0.0 {
            self.width = width;
        }
        self
    }

    fn color(&self) -> RGBColor {
        theme::category_color(self.style.unwrap_or(0))
    }

    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        let mut e = estimates_extent(&self.estimates, x, y, !y.is_log());
        let half = self.width / 2.0;
        for est in &self.estimates {
            if x.accepts(est.x) && y.accepts(est.y) {
                e.add(x, y, est.x - half, est.y);
                e.add(x, y, est.x + half, est.y);
            }
        }
        e
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        vec![LegendEntry {
            swatch: Swatch::Patch(self.color()),
            label: text::label(&self.name),
        }]
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let color = self.color();
        let base = if y.is_log() {
            chart.y_range().start
        } else {
            0.0
        };
        let half = self.width / 2.0;
        chart
            .draw_series(
                self.estimates
                    .iter()
                    .filter(|e| x.accepts(e.x) && y.accepts(e.y))
                    .map(|e| {
                        Rectangle::new(
                            [(e.x - half, base), (e.x + half, e.y)],
                            color.mix(0.85).filled(),
                        )
                    }),
            )
            .map_err(draw_error)?;
        draw_error_bars(chart, &self.estimates, x, y, theme::INK)
    }
}

/// A dot at each value with its error bar (a forest or dot plot).
#[derive(Debug, Clone, PartialEq)]
pub struct Dots {
    name: String,
    estimates: Vec<Estimate>,
    marker: Marker,
    pub(crate) style: Option<usize>,
}

impl Dots {
    /// Dots named `name`.
    pub fn new(name: &str, estimates: Vec<Estimate>) -> Dots {
        Dots {
            name: name.to_string(),
            estimates,
            marker: Marker::Circle,
            style: None,
        }
    }

    /// The marker shape.
    pub fn marker(mut self, marker: Marker) -> Dots {
        self.marker = marker;
        self
    }

    fn color(&self) -> RGBColor {
        theme::category_color(self.style.unwrap_or(0))
    }

    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        estimates_extent(&self.estimates, x, y, false)
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        vec![LegendEntry {
            swatch: Swatch::Marker(self.marker, self.color()),
            label: text::label(&self.name),
        }]
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let color = self.color();
        draw_error_bars(chart, &self.estimates, x, y, color)?;
        let marker = self.marker;
        chart
            .draw_series(
                self.estimates
                    .iter()
                    .filter(|e| x.accepts(e.x) && y.accepts(e.y))
                    .map(|e| theme::MarkerElement::new((e.x, e.y), marker, 4, color)),
            )
            .map_err(draw_error)?;
        Ok(())
    }
}
