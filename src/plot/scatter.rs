//! Scatter layers: points in one style, coloured by category (each with its own marker) or
//! shaded by a value on an ordered ramp (with a colour bar).

use plotters::prelude::*;

use super::axes::Axis;
use super::figure::{draw_error, Chart, Extent, LegendEntry, Swatch};
use super::heatmap::ColorBar;
use super::theme::{self, Marker, Ramp};
use super::{text, PlotError};

/// How the points of a [`Scatter`] get their colour.
#[derive(Debug, Clone, PartialEq)]
enum Paint {
    /// One categorical style (`None`: the figure's next one).
    Style(Option<usize>),
    /// One fixed colour.
    Color(RGBColor),
    /// Point `i` belongs to category `index[i]`, drawn with `styles[index[i]]`.
    Categories {
        index: Vec<usize>,
        names: Vec<String>,
        styles: Vec<(Marker, RGBColor)>,
    },
    /// Point `i` is shaded by `values[i]` on `ramp` over `[low, high]`.
    Shaded {
        values: Vec<f64>,
        label: String,
        ramp: Ramp,
        range: Option<(f64, f64)>,
    },
}

/// A set of points.
///
/// ```
/// use gmmtune::plot::{Axis, Figure, Ramp, Scatter};
/// let points = vec![(0.0, 0.0), (1.0, 1.0), (2.0, 0.5)];
/// let by_cluster = Scatter::new("rows", points.clone())
///     .categories(vec![0, 1, 1], &["cluster 0".into(), "cluster 1".into()]);
/// let svg = Figure::new("clusters").layer(by_cluster).render_svg()?;
/// assert!(svg.contains("cluster 1"));
/// let shaded = Scatter::new("rows", points).shaded(vec![0.1, 0.5, 0.9], "entropy", Ramp::Cividis);
/// let svg = Figure::new("uncertainty").layer(shaded).render_svg()?;
/// assert!(svg.contains("entropy"));
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    name: Option<String>,
    points: Vec<(f64, f64)>,
    paint: Paint,
    marker: Marker,
    size: i32,
    outline: bool,
    halo: bool,
}

impl Scatter {
    /// Points named `name` in the legend, in the figure's next colour.
    pub fn new(name: &str, points: Vec<(f64, f64)>) -> Scatter {
        Scatter {
            name: Some(name.to_string()),
            points,
            paint: Paint::Style(None),
            marker: Marker::Circle,
            size: 3,
            outline: false,
            halo: false,
        }
    }

    /// Leaves the points out of the legend.
    pub fn unlabelled(mut self) -> Scatter {
        self.name = None;
        self
    }

    /// One marker shape for every point (categories keep their own shapes).
    pub fn marker(mut self, marker: Marker) -> Scatter {
        self.marker = marker;
        self
    }

    /// Marker radius in pixels.
    pub fn size(mut self, size: u32) -> Scatter {
        self.size = size.clamp(1, 30) as i32;
        self
    }

    /// A fixed colour.
    pub fn color(mut self, color: RGBColor) -> Scatter {
        self.paint = Paint::Color(color);
        self
    }

    /// Categorical colour `index` of the palette.
    pub fn style(mut self, index: usize) -> Scatter {
        self.paint = Paint::Style(Some(index));
        self
    }

    /// A thin dark ring around each point, so light colours show on white.
    pub fn outline(mut self) -> Scatter {
        self.outline = true;
        self
    }

    /// A white band under each marker, so it shows on top of other points.
    pub fn halo(mut self) -> Scatter {
        self.halo = true;
        self
    }

    /// Colours point `i` by category `index[i]`, named `names[index[i]]` in the legend, with
    /// the palette's colour and marker of that category.
    pub fn categories(self, index: Vec<usize>, names: &[String]) -> Scatter {
        let styles = (0..names.len())
            .map(|c| (theme::category_marker(c), theme::category_color(c)))
            .collect();
        self.categories_styled(index, names, styles)
    }

    /// As [`categories`](Self::categories), with a marker and colour chosen per category.
    pub fn categories_styled(
        mut self,
        index: Vec<usize>,
        names: &[String],
        styles: Vec<(Marker, RGBColor)>,
    ) -> Scatter {
        self.paint = Paint::Categories {
            index,
            names: names.to_vec(),
            styles,
        };
        self
    }

    /// Shades point `i` by `values[i]` on `ramp`; the colour bar is titled `label`.
    pub fn shaded(mut self, values: Vec<f64>, label: &str, ramp: Ramp) -> Scatter {
        self.paint = Paint::Shaded {
            values,
            label: label.to_string(),
            ramp,
            range: None,
        };
        self
    }

    /// Fixes the value range of a shaded scatter (default: the values' range).
    pub fn shade_range(mut self, low: f64, high: f64) -> Scatter {
        if let Paint::Shaded { range, .. } = &mut self.paint {
            *range = Some((low, high));
        }
        self
    }

    pub(crate) fn style_slot(&mut self) -> Option<&mut Option<usize>> {
        match &mut self.paint {
            Paint::Style(slot) => Some(slot),
            _ => None,
        }
    }

    pub(crate) fn check(&self) -> Result<(), PlotError> {
        let invalid = |reason: String| PlotError::InvalidLayer {
            layer: self.name.clone().unwrap_or_else(|| "scatter".into()),
            reason,
        };
        match &self.paint {
            Paint::Categories {
                index,
                names,
                styles,
            } => {
                if index.len() != self.points.len() {
                    return Err(invalid(format!(
                        "{} category indices for {} points",
                        index.len(),
                        self.points.len()
                    )));
                }
                if styles.len() != names.len() {
                    return Err(invalid(format!(
                        "{} styles for {} categories",
                        styles.len(),
                        names.len()
                    )));
                }
                if let Some(&bad) = index.iter().find(|&&c| c >= names.len()) {
                    return Err(invalid(format!(
                        "category {bad} has no name ({} names)",
                        names.len()
                    )));
                }
            }
            Paint::Shaded { values, .. } if values.len() != self.points.len() => {
                return Err(invalid(format!(
                    "{} values for {} points",
                    values.len(),
                    self.points.len()
                )));
            }
            _ => {}
        }
        Ok(())
    }

    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        let mut e = Extent::default();
        for &(a, b) in &self.points {
            e.add(x, y, a, b);
        }
        e
    }

    fn single_color(&self) -> RGBColor {
        match &self.paint {
            Paint::Color(c) => *c,
            Paint::Style(s) => theme::category_color(s.unwrap_or(0)),
            _ => theme::GREY,
        }
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        match &self.paint {
            Paint::Categories {
                index,
                names,
                styles,
            } => (0..names.len())
                .filter(|c| index.contains(c))
                .map(|c| LegendEntry {
                    swatch: Swatch::Marker(styles[c].0, styles[c].1),
                    label: text::label(&names[c]),
                })
                .collect(),
            Paint::Shaded { .. } => Vec::new(),
            _ => match &self.name {
                Some(name) => vec![LegendEntry {
                    swatch: Swatch::Marker(self.marker, self.single_color()),
                    label: text::label(name),
                }],
                None => Vec::new(),
            },
        }
    }

    /// The value range of a shaded scatter (finite values only).
    fn shade_bounds(&self) -> Option<(f64, f64)> {
        let Paint::Shaded { values, range, .. } = &self.paint else {
            return None;
        };
        if let Some((a, b)) = range
            && a.is_finite()
            && b.is_finite()
            && a < b
        {
            return Some((*a, *b));
        }
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if low > high {
            return None;
        }
        Some(if high - low > 1e-12 * high.abs().max(1e-300) {
            (low, high)
        } else {
            (low - 0.5, high + 0.5)
        })
    }

    pub(crate) fn color_bar(&self) -> Option<ColorBar> {
        let Paint::Shaded { label, ramp, .. } = &self.paint else {
            return None;
        };
        let (low, high) = self.shade_bounds()?;
        Some(ColorBar {
            label: label.clone(),
            low,
            high,
            ramp: *ramp,
            bands: None,
        })
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let bounds = self.shade_bounds();
        let size = self.size;
        let outline = self.outline;
        let styled: Vec<((f64, f64), Marker, RGBColor)> = self
            .points
            .iter()
            .enumerate()
            .filter(|&(_, &(a, b))| x.accepts(a) && y.accepts(b))
            .filter_map(|(i, &p)| match &self.paint {
                Paint::Categories { index, styles, .. } => {
                    let (m, c) = styles[index[i]];
                    Some((p, m, c))
                }
                Paint::Shaded { values, ramp, .. } => {
                    let v = values[i];
                    let (low, high) = bounds?;
                    // A point without a finite value is drawn grey, not dropped.
                    let color = if v.is_finite() {
                        ramp.at((v - low) / (high - low))
                    } else {
                        theme::GREY
                    };
                    Some((p, self.marker, color))
                }
                _ => Some((p, self.marker, self.single_color())),
            })
            .collect();
        if self.halo {
            chart
                .draw_series(
                    styled.iter().map(|&(p, m, _)| {
                        theme::MarkerElement::new(p, m, size + 1, WHITE).stroke(6)
                    }),
                )
                .map_err(draw_error)?;
        }
        chart
            .draw_series(
                styled
                    .iter()
                    .map(|&(p, m, c)| theme::MarkerElement::new(p, m, size, c)),
            )
            .map_err(draw_error)?;
        if outline {
            let ring = ShapeStyle::from(&theme::INK.mix(0.6)).stroke_width(1);
            chart
                .draw_series(styled.iter().map(|&(p, _, _)| Circle::new(p, size, ring)))
                .map_err(draw_error)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_category_indices_are_errors() {
        let s = Scatter::new("s", vec![(0.0, 0.0)]).categories(vec![3], &["a".into()]);
        assert!(matches!(s.check(), Err(PlotError::InvalidLayer { .. })));
        let s = Scatter::new("s", vec![(0.0, 0.0)]).shaded(vec![], "v", Ramp::Viridis);
        assert!(s.check().is_err());
    }

    #[test]
    fn constant_shading_gets_a_range() {
        let s = Scatter::new("s", vec![(0.0, 0.0), (1.0, 1.0)]).shaded(
            vec![2.0, 2.0],
            "v",
            Ramp::Viridis,
        );
        let bar = s.color_bar().unwrap();
        assert!(bar.low < 2.0 && bar.high > 2.0);
        let none = Scatter::new("s", vec![(0.0, 0.0)]).shaded(vec![f64::NAN], "v", Ramp::Viridis);
        assert!(none.color_bar().is_none());
    }

    #[test]
    fn legend_lists_only_present_categories() {
        let names: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let s = Scatter::new("s", vec![(0.0, 0.0), (1.0, 1.0)]).categories(vec![0, 2], &names);
        let labels: Vec<String> = s.legend().into_iter().map(|e| e.label).collect();
        assert_eq!(labels, vec!["a", "c"]);
    }
}
