//! Values on a regular grid: filled as a heatmap (with its colour bar) and traced as contour
//! lines (marching squares through the cell centres).

use std::collections::HashMap;

use plotters::prelude::*;

use super::axes::Axis;
use super::figure::{draw_clipped_path, draw_error, Chart, Extent, LegendEntry, Swatch};
use super::theme::Ramp;
use super::{text, PlotError};

/// A colour bar: the ramp from `low` to `high`, titled `label`.
#[derive(Debug, Clone, PartialEq)]
pub struct ColorBar {
    /// Title beside the bar (with its unit).
    pub label: String,
    /// Value at the bottom.
    pub low: f64,
    /// Value at the top.
    pub high: f64,
    /// The ramp.
    pub ramp: Ramp,
    /// Number of flat bands, if the heatmap is banded.
    pub bands: Option<usize>,
}

/// `nx × ny` values over the rectangle `x × y`: value `values[j·nx + i]` belongs to the cell
/// whose centre is `(x.0 + (i + ½)·dx, y.0 + (j + ½)·dy)`.
///
/// ```
/// use gmmtune::plot::Grid;
/// let centres = Grid::cell_centres((0.0, 2.0), (0.0, 1.0), 2, 1);
/// assert_eq!(centres, vec![(0.5, 0.5), (1.5, 0.5)]);
/// let grid = Grid::new((0.0, 2.0), (0.0, 1.0), 2, 1, vec![1.0, 2.0]);
/// assert_eq!(grid.value(1, 0), 2.0);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    x: (f64, f64),
    y: (f64, f64),
    nx: usize,
    ny: usize,
    values: Vec<f64>,
}

impl Grid {
    /// A grid of values (checked when the figure is rendered).
    pub fn new(x: (f64, f64), y: (f64, f64), nx: usize, ny: usize, values: Vec<f64>) -> Grid {
        Grid {
            x,
            y,
            nx,
            ny,
            values,
        }
    }

    /// The cell centres of such a grid, in value order (x fastest).
    pub fn cell_centres(x: (f64, f64), y: (f64, f64), nx: usize, ny: usize) -> Vec<(f64, f64)> {
        let dx = (x.1 - x.0) / nx.max(1) as f64;
        let dy = (y.1 - y.0) / ny.max(1) as f64;
        (0..ny)
            .flat_map(|j| {
                (0..nx).map(move |i| (x.0 + (i as f64 + 0.5) * dx, y.0 + (j as f64 + 0.5) * dy))
            })
            .collect()
    }

    /// The value of cell `(i, j)`.
    pub fn value(&self, i: usize, j: usize) -> f64 {
        self.values[j * self.nx + i]
    }

    fn centre(&self, i: f64, j: f64) -> (f64, f64) {
        let dx = (self.x.1 - self.x.0) / self.nx as f64;
        let dy = (self.y.1 - self.y.0) / self.ny as f64;
        (self.x.0 + (i + 0.5) * dx, self.y.0 + (j + 0.5) * dy)
    }

    /// The finite values' range.
    pub fn finite_range(&self) -> Option<(f64, f64)> {
        let (a, b) = self
            .values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        (a <= b).then_some((a, b))
    }

    pub(crate) fn check(&self) -> Result<(), PlotError> {
        let invalid = |reason: String| PlotError::InvalidLayer {
            layer: "grid".into(),
            reason,
        };
        if self.nx == 0 || self.ny == 0 {
            return Err(invalid(format!(
                "a {}×{} grid has no cells",
                self.nx, self.ny
            )));
        }
        if self.values.len() != self.nx * self.ny {
            return Err(invalid(format!(
                "{} values for a {}×{} grid",
                self.values.len(),
                self.nx,
                self.ny
            )));
        }
        let finite = |r: (f64, f64)| r.0.is_finite() && r.1.is_finite() && r.0 < r.1;
        if !finite(self.x) || !finite(self.y) {
            return Err(invalid(format!(
                "bounds {:?} × {:?} are not increasing finite ranges",
                self.x, self.y
            )));
        }
        Ok(())
    }

    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        let mut e = Extent::default();
        if self.finite_range().is_some() {
            e.add(x, y, self.x.0, self.y.0);
            e.add(x, y, self.x.1, self.y.1);
        }
        e
    }

    /// Contour polylines at `level` (cells with a non-finite corner are skipped).
    pub fn contour(&self, level: f64) -> Vec<Vec<(f64, f64)>> {
        if self.nx < 2 || self.ny < 2 || !level.is_finite() {
            return Vec::new();
        }
        let nx = self.nx;
        // Edge ids: horizontal edge from centre (i, j) to (i+1, j) is 2·(j·nx + i), vertical edge
        // from (i, j) to (i, j+1) is 2·(j·nx + i) + 1.
        let h = |i: usize, j: usize| 2 * (j * nx + i);
        let v = |i: usize, j: usize| 2 * (j * nx + i) + 1;
        let mut points: HashMap<usize, (f64, f64)> = HashMap::new();
        let mut segments: Vec<(usize, usize)> = Vec::new();
        let crossing = |a: f64, b: f64| (level - a) / (b - a);
        for j in 0..self.ny - 1 {
            for i in 0..nx - 1 {
                let c = [
                    self.value(i, j),
                    self.value(i + 1, j),
                    self.value(i + 1, j + 1),
                    self.value(i, j + 1),
                ];
                if c.iter().any(|x| !x.is_finite()) {
                    continue;
                }
                let inside = c.map(|x| x >= level);
                let case = inside
                    .iter()
                    .enumerate()
                    .fold(0, |acc, (k, &b)| acc | (usize::from(b) << k));
                if case == 0 || case == 15 {
                    continue;
                }
                // Edges of the cell: bottom (0-1), right (1-2), top (3-2), left (0-3).
                let edges = [h(i, j), v(i + 1, j), h(i, j + 1), v(i, j)];
                let ends = [(0, 1), (1, 2), (3, 2), (0, 3)];
                let (fi, fj) = (i as f64, j as f64);
                let position = |e: usize| {
                    let (a, b) = ends[e];
                    let t = crossing(c[a], c[b]);
                    match e {
                        0 => self.centre(fi + t, fj),
                        1 => self.centre(fi + 1.0, fj + t),
                        2 => self.centre(fi + t, fj + 1.0),
                        _ => self.centre(fi, fj + t),
                    }
                };
                let crossed: Vec<usize> = (0..4)
                    .filter(|&e| inside[ends[e].0] != inside[ends[e].1])
                    .collect();
                let pairs: Vec<(usize, usize)> = if crossed.len() == 2 {
                    vec![(crossed[0], crossed[1])]
                } else {
                    // Saddle: the mean decides whether the inside corners connect.
                    let centre_inside = c.iter().sum::<f64>() / 4.0 >= level;
                    if inside[0] == centre_inside {
                        vec![(0, 1), (2, 3)]
                    } else {
                        vec![(0, 3), (1, 2)]
                    }
                };
                for (a, b) in pairs {
                    points.entry(edges[a]).or_insert_with(|| position(a));
                    points.entry(edges[b]).or_insert_with(|| position(b));
                    segments.push((edges[a], edges[b]));
                }
            }
        }
        chain(&segments, &points)
    }
}

/// Joins segments that share an edge point into polylines, in a fixed order.
fn chain(segments: &[(usize, usize)], points: &HashMap<usize, (f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (s, &(a, b)) in segments.iter().enumerate() {
        by_edge.entry(a).or_default().push(s);
        by_edge.entry(b).or_default().push(s);
    }
    let mut used = vec![false; segments.len()];
    let mut lines = Vec::new();
    for start in 0..segments.len() {
        if used[start] {
            continue;
        }
        used[start] = true;
        let (a, b) = segments[start];
        let mut forward = vec![a, b];
        extend(&mut forward, segments, &by_edge, &mut used);
        let mut backward = vec![a];
        extend(&mut backward, segments, &by_edge, &mut used);
        backward.reverse();
        backward.pop();
        backward.extend(forward);
        lines.push(backward.iter().map(|e| points[e]).collect());
    }
    lines
}

fn extend(
    path: &mut Vec<usize>,
    segments: &[(usize, usize)],
    by_edge: &HashMap<usize, Vec<usize>>,
    used: &mut [bool],
) {
    while let Some(&end) = path.last() {
        let next = by_edge[&end].iter().copied().find(|&s| !used[s]);
        let Some(s) = next else { break };
        used[s] = true;
        let (a, b) = segments[s];
        path.push(if a == end { b } else { a });
    }
}

/// A grid filled with colours from a ramp (values outside the range take the end colours);
/// `bands` flat bands, or a continuous ramp with `bands = 0`.
///
/// ```
/// use gmmtune::plot::{Figure, Grid, Heatmap, Ramp};
/// let values = (0..16).map(|k| k as f64).collect();
/// let grid = Grid::new((0.0, 1.0), (0.0, 1.0), 4, 4, values);
/// let svg = Figure::new("grid").layer(Heatmap::new(grid, "value", Ramp::Viridis)).render_svg()?;
/// assert!(svg.matches("<rect").count() >= 4);
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Heatmap {
    pub(crate) grid: Grid,
    label: String,
    ramp: Ramp,
    range: Option<(f64, f64)>,
    bands: usize,
}

impl Heatmap {
    /// A heatmap of `grid`; the colour bar is titled `label`.
    pub fn new(grid: Grid, label: &str, ramp: Ramp) -> Heatmap {
        Heatmap {
            grid,
            label: label.to_string(),
            ramp,
            range: None,
            bands: 0,
        }
    }

    /// Fixes the colour range (default: the finite values' range).
    pub fn range(mut self, low: f64, high: f64) -> Heatmap {
        self.range = Some((low, high));
        self
    }

    /// Quantises the colours into `bands` flat bands (filled contours).
    pub fn bands(mut self, bands: usize) -> Heatmap {
        self.bands = bands;
        self
    }

    fn bounds(&self) -> (f64, f64) {
        let (low, high) = match self.range {
            Some((a, b)) if a.is_finite() && b.is_finite() && a < b => (a, b),
            _ => self.grid.finite_range().unwrap_or((0.0, 1.0)),
        };
        if high - low > 1e-12 * high.abs().max(1e-300) {
            (low, high)
        } else {
            (low - 0.5, high + 0.5)
        }
    }

    pub(crate) fn color_bar(&self) -> ColorBar {
        let (low, high) = self.bounds();
        ColorBar {
            label: text::clean(&self.label),
            low,
            high,
            ramp: self.ramp,
            bands: (self.bands > 0).then_some(self.bands),
        }
    }

    /// The ramp position of `v`: `[0, 1]`, banded if asked; `None` for non-finite values.
    fn position(&self, v: f64, (low, high): (f64, f64)) -> Option<f64> {
        if v.is_nan() {
            return None;
        }
        let t = ((v - low) / (high - low)).clamp(0.0, 1.0);
        Some(if self.bands > 0 {
            let b = self.bands as f64;
            ((t * b).floor().min(b - 1.0) + 0.5) / b
        } else {
            t
        })
    }

    pub(crate) fn draw(&self, chart: &mut Chart<'_, '_>) -> Result<(), PlotError> {
        let g = &self.grid;
        let bounds = self.bounds();
        let dx = (g.x.1 - g.x.0) / g.nx as f64;
        let dy = (g.y.1 - g.y.0) / g.ny as f64;
        let mut cells = Vec::new();
        for j in 0..g.ny {
            // Runs of equal colour along a row become one rectangle.
            let mut i = 0;
            while i < g.nx {
                let t = self.position(g.value(i, j), bounds);
                let mut end = i + 1;
                while end < g.nx && self.position(g.value(end, j), bounds) == t {
                    end += 1;
                }
                if let Some(t) = t {
                    let color = self.ramp.at(t);
                    cells.push(Rectangle::new(
                        [
                            (g.x.0 + i as f64 * dx, g.y.0 + j as f64 * dy),
                            (g.x.0 + end as f64 * dx, g.y.0 + (j + 1) as f64 * dy),
                        ],
                        color.filled(),
                    ));
                }
                i = end;
            }
        }
        chart.draw_series(cells).map_err(draw_error)?;
        Ok(())
    }
}

/// Contour lines of a grid at given levels, in one style.
///
/// ```
/// use gmmtune::plot::{Contours, Figure, Grid};
/// let values = (0..100).map(|k| (((k % 10) as f64 - 4.5).powi(2) + ((k / 10) as f64 - 4.5).powi(2))).collect();
/// let grid = Grid::new((0.0, 1.0), (0.0, 1.0), 10, 10, values);
/// let svg = Figure::new("bowl").layer(Contours::new(grid, vec![4.0, 9.0])).render_svg()?;
/// assert!(svg.matches("<polyline").count() >= 2);
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Contours {
    pub(crate) grid: Grid,
    levels: Vec<f64>,
    color: RGBColor,
    width: u32,
    dashed: bool,
    label: Option<String>,
}

impl Contours {
    /// Thin white lines at `levels`.
    pub fn new(grid: Grid, levels: Vec<f64>) -> Contours {
        Contours {
            grid,
            levels,
            color: WHITE,
            width: 1,
            dashed: false,
            label: None,
        }
    }

    /// Line colour and width.
    pub fn line(mut self, color: RGBColor, width: u32, dashed: bool) -> Contours {
        self.color = color;
        self.width = width.max(1);
        self.dashed = dashed;
        self
    }

    /// Names the lines in the legend.
    pub fn label(mut self, label: &str) -> Contours {
        self.label = Some(label.to_string());
        self
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        self.label
            .iter()
            .map(|l| LegendEntry {
                swatch: Swatch::Line {
                    color: self.color,
                    dashed: self.dashed,
                    width: self.width,
                    marker: None,
                },
                label: text::label(l),
            })
            .collect()
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        let style = ShapeStyle::from(&self.color).stroke_width(self.width);
        for &level in &self.levels {
            for line in self.grid.contour(level) {
                draw_clipped_path(chart, x, y, &line, style, self.dashed.then_some((6, 4)))?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bowl(n: usize) -> Grid {
        let centres = Grid::cell_centres((-1.0, 1.0), (-1.0, 1.0), n, n);
        Grid::new(
            (-1.0, 1.0),
            (-1.0, 1.0),
            n,
            n,
            centres.iter().map(|(x, y)| x * x + y * y).collect(),
        )
    }

    #[test]
    fn a_bowl_has_one_closed_circular_contour() {
        let lines = bowl(41).contour(0.25);
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line.first(), line.last(), "closed");
        for &(x, y) in line {
            let r = (x * x + y * y).sqrt();
            assert!((r - 0.5).abs() < 0.01, "radius {r}");
        }
    }

    #[test]
    fn levels_outside_the_values_give_nothing() {
        assert!(bowl(11).contour(5.0).is_empty());
        assert!(bowl(11).contour(-1.0).is_empty());
        assert!(bowl(11).contour(f64::NAN).is_empty());
    }

    #[test]
    fn non_finite_cells_are_skipped() {
        let mut g = bowl(21);
        g.values[10 * 21 + 10] = f64::NAN;
        assert!(!g.contour(0.25).is_empty());
    }

    #[test]
    fn bad_grids_are_errors() {
        assert!(Grid::new((0.0, 1.0), (0.0, 1.0), 2, 2, vec![0.0; 3])
            .check()
            .is_err());
        assert!(Grid::new((1.0, 1.0), (0.0, 1.0), 1, 1, vec![0.0])
            .check()
            .is_err());
        assert!(Grid::new((0.0, 1.0), (0.0, 1.0), 0, 1, vec![])
            .check()
            .is_err());
    }

    #[test]
    fn bands_quantise() {
        let h = Heatmap::new(bowl(3), "v", Ramp::Viridis).bands(4);
        assert_eq!(h.position(0.0, (0.0, 1.0)), Some(0.125));
        assert_eq!(h.position(1.0, (0.0, 1.0)), Some(0.875));
        assert_eq!(h.position(-5.0, (0.0, 1.0)), Some(0.125));
        assert_eq!(h.position(f64::NAN, (0.0, 1.0)), None);
    }
}
