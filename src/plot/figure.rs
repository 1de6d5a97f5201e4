//! A figure: title, two axes, layers drawn in order, a legend and at most one colour bar in a
//! side panel, rendered to an SVG string or file.

use std::path::Path;

use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axes::{Axis, AxisCoord};
use super::bars::{Bars, Dots};
use super::ellipse::Ellipses;
use super::heatmap::{ColorBar, Contours, Heatmap};
use super::line::Line;
use super::scatter::Scatter;
use super::theme::{self, Marker};
use super::{text, PlotError};

/// The plotters chart every layer draws on.
pub(crate) type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<AxisCoord, AxisCoord>>;

/// What one legend row shows before its text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Swatch {
    /// A marker.
    Marker(Marker, RGBColor),
    /// A line segment, dashed or not, with an optional marker on it.
    Line {
        color: RGBColor,
        dashed: bool,
        width: u32,
        marker: Option<Marker>,
    },
    /// A filled square.
    Patch(RGBColor),
}

/// One legend row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    pub(crate) swatch: Swatch,
    pub(crate) label: String,
}

/// The data range a layer covers (finite values the axes accept only).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Extent {
    pub(crate) x: Option<(f64, f64)>,
    pub(crate) y: Option<(f64, f64)>,
    /// Drawn edge to edge (a heatmap fills the axes without padding).
    pub(crate) exact: bool,
}

impl Extent {
    /// Adds a point if both axes accept it; returns whether it was added.
    pub(crate) fn add(&mut self, x_axis: &Axis, y_axis: &Axis, x: f64, y: f64) -> bool {
        if !(x_axis.accepts(x) && y_axis.accepts(y)) {
            return false;
        }
        self.x = Some(widen(self.x, x));
        self.y = Some(widen(self.y, y));
        true
    }

    fn merge(&mut self, other: Extent) {
        self.exact |= other.exact;
        for (mine, theirs) in [(&mut self.x, other.x), (&mut self.y, other.y)] {
            if let Some((a, b)) = theirs {
                *mine = Some(widen(Some(widen(*mine, a)), b));
            }
        }
    }
}

fn widen(range: Option<(f64, f64)>, v: f64) -> (f64, f64) {
    match range {
        None => (v, v),
        Some((a, b)) => (a.min(v), b.max(v)),
    }
}

/// Something drawn inside the axes.
#[derive(Debug, Clone, PartialEq)]
pub enum Layer {
    /// A filled grid of values (with its colour bar).
    Heatmap(Heatmap),
    /// Iso-lines of a grid.
    Contours(Contours),
    /// Covariance ellipses.
    Ellipses(Ellipses),
    /// A polyline or step line with optional markers.
    Line(Line),
    /// Points.
    Scatter(Scatter),
    /// Bars from zero, with optional error bars.
    Bars(Bars),
    /// Dots with error bars.
    Dots(Dots),
}

impl Layer {
    fn check(&self) -> Result<(), PlotError> {
        match self {
            Layer::Heatmap(h) => h.grid.check(),
            Layer::Contours(c) => c.grid.check(),
            Layer::Scatter(s) => s.check(),
            Layer::Ellipses(e) => e.check(),
            Layer::Line(_) | Layer::Bars(_) | Layer::Dots(_) => Ok(()),
        }
    }

    fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        match self {
            Layer::Heatmap(h) => h.grid.extent(x, y),
            Layer::Contours(c) => c.grid.extent(x, y),
            Layer::Ellipses(e) => e.extent(x, y),
            Layer::Line(l) => l.extent(x, y),
            Layer::Scatter(s) => s.extent(x, y),
            Layer::Bars(b) => b.extent(x, y),
            Layer::Dots(d) => d.extent(x, y),
        }
    }

    fn legend(&self) -> Vec<LegendEntry> {
        match self {
            Layer::Heatmap(_) => Vec::new(),
            Layer::Contours(c) => c.legend(),
            Layer::Ellipses(e) => e.legend(),
            Layer::Line(l) => l.legend(),
            Layer::Scatter(s) => s.legend(),
            Layer::Bars(b) => b.legend(),
            Layer::Dots(d) => d.legend(),
        }
    }

    fn color_bar(&self) -> Option<ColorBar> {
        match self {
            Layer::Heatmap(h) => Some(h.color_bar()),
            Layer::Scatter(s) => s.color_bar(),
            _ => None,
        }
    }

    fn draw(&self, chart: &mut Chart<'_, '_>, x: &Axis, y: &Axis) -> Result<(), PlotError> {
        match self {
            Layer::Heatmap(h) => h.draw(chart),
            Layer::Contours(c) => c.draw(chart, x, y),
            Layer::Ellipses(e) => e.draw(chart, x, y),
            Layer::Line(l) => l.draw(chart, x, y),
            Layer::Scatter(s) => s.draw(chart, x, y),
            Layer::Bars(b) => b.draw(chart, x, y),
            Layer::Dots(d) => d.draw(chart, x, y),
        }
    }
}

/// A chart as a value: build it, then [`render_svg`](Figure::render_svg) or
/// [`save_svg`](Figure::save_svg). Identical figures give identical bytes.
///
/// Layers are drawn in the order added. Values an axis cannot show (NaN, ±∞, ≤ 0 on a log
/// axis) are left out; when nothing is left the figure says "no data" instead of drawing
/// empty axes.
///
/// ```
/// use gmmtune::plot::{Axis, Figure, Line, Marker};
/// let svg = Figure::new("BIC by size")
///     .x_axis(Axis::new("n_components").integer_ticks())
///     .y_axis(Axis::new("BIC").unit("nats"))
///     .layer(Line::new("full", vec![(1.0, 10.0), (2.0, 7.5), (3.0, 8.0)]).marker(Marker::Circle))
///     .render_svg()?;
/// assert!(svg.starts_with("<svg") && svg.contains("BIC (nats)") && svg.contains("full"));
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    title: String,
    subtitle: Option<String>,
    size: (u32, u32),
    x: Axis,
    y: Axis,
    layers: Vec<Layer>,
    empty_message: String,
    next_style: usize,
}

impl Figure {
    /// An empty figure with this title.
    pub fn new(title: &str) -> Figure {
        Figure {
            title: title.to_string(),
            subtitle: None,
            size: theme::DEFAULT_SIZE,
            x: Axis::new("x"),
            y: Axis::new("y"),
            layers: Vec::new(),
            empty_message: "no data to plot".into(),
            next_style: 0,
        }
    }

    /// Smaller lines under the title (one per `\n`).
    pub fn subtitle(mut self, subtitle: &str) -> Figure {
        self.subtitle = Some(subtitle.to_string());
        self
    }

    /// Width and height in pixels.
    pub fn size(mut self, width: u32, height: u32) -> Figure {
        self.size = (width.max(200), height.max(150));
        self
    }

    /// The horizontal axis.
    pub fn x_axis(mut self, axis: Axis) -> Figure {
        self.x = axis;
        self
    }

    /// The vertical axis.
    pub fn y_axis(mut self, axis: Axis) -> Figure {
        self.y = axis;
        self
    }

    /// What the figure says when no layer has a value to draw.
    pub fn empty_message(mut self, message: &str) -> Figure {
        self.empty_message = message.to_string();
        self
    }

    /// Adds a layer; lines, scatters, bars and dots without a colour of their own get the next
    /// categorical colour and marker.
    pub fn layer(mut self, layer: impl Into<Layer>) -> Figure {
        let mut layer = layer.into();
        let style = match &mut layer {
            Layer::Line(l) => Some(&mut l.style),
            Layer::Scatter(s) => s.style_slot(),
            Layer::Bars(b) => Some(&mut b.style),
            Layer::Dots(d) => Some(&mut d.style),
            _ => None,
        };
        if let Some(slot) = style
            && slot.is_none()
        {
            *slot = Some(self.next_style);
            self.next_style += 1;
        }
        self.layers.push(layer);
        self
    }

    /// The title.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// Renders the figure as a standalone SVG document.
    ///
    /// # Errors
    /// [`PlotError::InvalidLayer`] when a layer is inconsistent (a grid whose value count is not
    /// its width × height, a category index without a name, …), [`PlotError::Draw`] if plotters
    /// fails.
    pub fn render_svg(&self) -> Result<String, PlotError> {
        for layer in &self.layers {
            layer.check()?;
        }
        let mut extent = Extent::default();
        for layer in &self.layers {
            extent.merge(layer.extent(&self.x, &self.y));
        }
        let mut buffer = String::new();
        {
            let root = SVGBackend::with_string(&mut buffer, self.size).into_drawing_area();
            root.fill(&WHITE).map_err(draw_error)?;
            let body = self.draw_titles(&root)?;
            if extent.x.is_none() || extent.y.is_none() {
                draw_empty(&body, &self.empty_message)?;
            } else {
                self.draw_body(&body, extent)?;
            }
            root.present().map_err(draw_error)?;
        }
        Ok(buffer)
    }

    /// Renders the figure and writes it to `path`.
    ///
    /// # Errors
    /// As [`render_svg`](Self::render_svg), and [`PlotError::Io`] naming the file.
    pub fn save_svg(&self, path: &Path) -> Result<(), PlotError> {
        let svg = self.render_svg()?;
        std::fs::write(path, svg).map_err(|source| PlotError::Io {
            path: path.display().to_string(),
            source,
        })
    }

    fn draw_titles<'b>(
        &self,
        root: &DrawingArea<SVGBackend<'b>, Shift>,
    ) -> Result<DrawingArea<SVGBackend<'b>, Shift>, PlotError> {
        let (w, _) = root.dim_in_pixel();
        let centre = Pos::new(HPos::Center, VPos::Top);
        let title = TextStyle::from((theme::FONT, theme::TITLE_SIZE).into_font())
            .color(&theme::INK)
            .pos(centre);
        root.draw_text(&text::clean(&self.title), &title, (w as i32 / 2, 10))
            .map_err(draw_error)?;
        let mut top = 10 + theme::TITLE_SIZE as i32 + 6;
        if let Some(subtitle) = &self.subtitle {
            let style = TextStyle::from((theme::FONT, theme::LEGEND_SIZE).into_font())
                .color(&theme::GREY)
                .pos(centre);
            for line in subtitle.lines() {
                root.draw_text(&text::clean(line), &style, (w as i32 / 2, top))
                    .map_err(draw_error)?;
                top += theme::LEGEND_SIZE as i32 + 4;
            }
            top += 2;
        }
        Ok(root.split_vertically(top).1)
    }

    fn draw_body(
        &self,
        body: &DrawingArea<SVGBackend<'_>, Shift>,
        extent: Extent,
    ) -> Result<(), PlotError> {
        let legend: Vec<LegendEntry> = self.layers.iter().flat_map(Layer::legend).collect();
        let color_bar = self.layers.iter().find_map(Layer::color_bar);
        let (w, _) = body.dim_in_pixel();
        let longest = legend
            .iter()
            .map(|e| e.label.chars().count())
            .max()
            .unwrap_or(0);
        let side = if legend.is_empty() && color_bar.is_none() {
            0
        } else {
            let for_legend = if legend.is_empty() {
                0
            } else {
                48 + 7 * longest as u32
            };
            let for_bar = if color_bar.is_some() { 110 } else { 0 };
            for_legend.max(for_bar).clamp(110, w / 3)
        };
        let (main, panel) = body.split_horizontally(w - side);

        // A heatmap fixes the axes to its grid; the other layers draw inside it.
        let grid_extent = self.layers.iter().find_map(|l| match l {
            Layer::Heatmap(h) => Some(h.grid.extent(&self.x, &self.y)),
            _ => None,
        });
        let (x_coord, y_coord) = match grid_extent {
            Some(g) if g.x.is_some() && g.y.is_some() => {
                (self.x.coord(g.x, true), self.y.coord(g.y, true))
            }
            _ => (self.x.coord(extent.x, false), self.y.coord(extent.y, false)),
        };
        // Category names on the y axis get the room they need (7 px a character).
        let y_label_area = match self.y.scale() {
            super::axes::Scale::Categories(names) => {
                let longest = names.iter().map(|n| text::label(n).chars().count()).max();
                66.max(34 + 7 * longest.unwrap_or(0) as u32)
            }
            _ => 66,
        };
        let mut chart = ChartBuilder::on(&main)
            .margin(12)
            .margin_top(4)
            .x_label_area_size(48)
            .y_label_area_size(y_label_area)
            .build_cartesian_2d(x_coord.clone(), y_coord.clone())
            .map_err(draw_error)?;
        chart
            .configure_mesh()
            .x_desc(self.x.title_text())
            .y_desc(self.y.title_text())
            .label_style(
                (theme::FONT, theme::TICK_SIZE)
                    .into_font()
                    .color(&theme::INK),
            )
            .axis_desc_style(
                (theme::FONT, theme::AXIS_TITLE_SIZE)
                    .into_font()
                    .color(&theme::INK),
            )
            .bold_line_style(theme::GRID)
            .axis_style(theme::GREY)
            .draw()
            .map_err(draw_error)?;
        for layer in &self.layers {
            layer.draw(&mut chart, &self.x, &self.y)?;
        }
        // Frame on top of the layers so heatmaps do not hide the plot edge.
        let (xr, yr) = (x_coord.range(), y_coord.range());
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(xr.start, yr.start), (xr.end, yr.end)],
                ShapeStyle::from(&theme::GREY).stroke_width(1),
            )))
            .map_err(draw_error)?;
        if side > 0 {
            let legend_bottom = draw_legend(&panel, &legend)?;
            if let Some(bar) = color_bar {
                draw_color_bar(&panel, legend_bottom, &bar)?;
            }
        }
        Ok(())
    }
}

/// Cuts a polyline to the chart's plotting rectangle (Liang–Barsky per segment, in the axes'
/// own scale, so log axes clip where the drawn line crosses the frame): the runs inside.
pub(crate) fn clip_to_chart(
    chart: &Chart<'_, '_>,
    x: &Axis,
    y: &Axis,
    points: &[(f64, f64)],
) -> Vec<Vec<(f64, f64)>> {
    let (xr, yr) = (chart.x_range(), chart.y_range());
    let to = |axis: &Axis, v: f64| if axis.is_log() { v.log10() } else { v };
    let from = |axis: &Axis, v: f64| if axis.is_log() { 10f64.powf(v) } else { v };
    let (x0, x1) = (to(x, xr.start), to(x, xr.end));
    let (y0, y1) = (to(y, yr.start), to(y, yr.end));
    let mut runs: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut open = false;
    for pair in points.windows(2) {
        let (p, q) = (
            (to(x, pair[0].0), to(y, pair[0].1)),
            (to(x, pair[1].0), to(y, pair[1].1)),
        );
        if ![p.0, p.1, q.0, q.1].iter().all(|v| v.is_finite()) {
            open = false;
            continue;
        }
        let (dx, dy) = (q.0 - p.0, q.1 - p.1);
        let (mut t0, mut t1) = (0.0f64, 1.0f64);
        let mut visible = true;
        for (num, den) in [
            (p.0 - x0, -dx),
            (x1 - p.0, dx),
            (p.1 - y0, -dy),
            (y1 - p.1, dy),
        ] {
            if den == 0.0 {
                if num < 0.0 {
                    visible = false;
                }
            } else {
                let t = num / den;
                if den < 0.0 {
                    t0 = t0.max(t);
                } else {
                    t1 = t1.min(t);
                }
            }
        }
        if !visible || t0 > t1 {
            open = false;
            continue;
        }
        let at = |t: f64| (from(x, p.0 + t * dx), from(y, p.1 + t * dy));
        if !open || t0 > 0.0 {
            runs.push(vec![at(t0)]);
        }
        runs.last_mut().expect("a run is open").push(at(t1));
        open = t1 >= 1.0;
    }
    runs
}

/// Draws `points` as a polyline clipped to the chart (see [`clip_to_chart`]), solid, or dashed
/// when `dash` gives the dash and gap lengths in pixels.
pub(crate) fn draw_clipped_path(
    chart: &mut Chart<'_, '_>,
    x: &Axis,
    y: &Axis,
    points: &[(f64, f64)],
    style: ShapeStyle,
    dash: Option<(u32, u32)>,
) -> Result<(), PlotError> {
    for run in clip_to_chart(chart, x, y, points) {
        match dash {
            Some((size, spacing)) => chart
                .draw_series(std::iter::once(DashedPathElement::new(
                    run, size, spacing, style,
                )))
                .map_err(draw_error)?,
            None => chart
                .draw_series(std::iter::once(PathElement::new(run, style)))
                .map_err(draw_error)?,
        };
    }
    Ok(())
}

/// Turns a plotters error into a [`PlotError::Draw`].
pub(crate) fn draw_error<E: std::fmt::Display>(error: E) -> PlotError {
    PlotError::Draw(error.to_string())
}

fn draw_empty(area: &DrawingArea<SVGBackend<'_>, Shift>, message: &str) -> Result<(), PlotError> {
    let (w, h) = area.dim_in_pixel();
    area.draw(&Rectangle::new(
        [(20, 10), (w as i32 - 20, h as i32 - 20)],
        ShapeStyle::from(&theme::GREY).stroke_width(1),
    ))
    .map_err(draw_error)?;
    let style = TextStyle::from((theme::FONT, theme::AXIS_TITLE_SIZE).into_font())
        .color(&theme::INK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(&text::clean(message), &style, (w as i32 / 2, h as i32 / 2))
        .map_err(draw_error)
}

/// Draws the legend rows from the top of the panel; returns the y pixel below the last row.
fn draw_legend(
    panel: &DrawingArea<SVGBackend<'_>, Shift>,
    legend: &[LegendEntry],
) -> Result<i32, PlotError> {
    let row = 22;
    let mut y = 24;
    let style = TextStyle::from((theme::FONT, theme::LEGEND_SIZE).into_font())
        .color(&theme::INK)
        .pos(Pos::new(HPos::Left, VPos::Center));
    for entry in legend {
        let color = match &entry.swatch {
            Swatch::Marker(_, c) | Swatch::Patch(c) => *c,
            Swatch::Line { color, .. } => *color,
        };
        if luminance(&color) > 200.0 {
            panel
                .draw(&Rectangle::new(
                    [(4, y - 8), (36, y + 8)],
                    theme::GREY.filled(),
                ))
                .map_err(draw_error)?;
        }
        match &entry.swatch {
            Swatch::Marker(marker, color) => panel
                .draw(&theme::MarkerElement::new((20, y), *marker, 4, *color))
                .map_err(draw_error)?,
            Swatch::Patch(color) => panel
                .draw(&Rectangle::new([(13, y - 6), (27, y + 6)], color.filled()))
                .map_err(draw_error)?,
            Swatch::Line {
                color,
                dashed,
                width,
                marker,
            } => {
                let line = ShapeStyle::from(color).stroke_width(*width);
                if *dashed {
                    panel
                        .draw(&DashedPathElement::new(vec![(6, y), (34, y)], 5, 3, line))
                        .map_err(draw_error)?;
                } else {
                    panel
                        .draw(&PathElement::new(vec![(6, y), (34, y)], line))
                        .map_err(draw_error)?;
                }
                if let Some(m) = marker {
                    panel
                        .draw(&theme::MarkerElement::new((20, y), *m, 4, *color))
                        .map_err(draw_error)?;
                }
            }
        }
        panel
            .draw_text(&entry.label, &style, (42, y))
            .map_err(draw_error)?;
        y += row;
    }
    Ok(if legend.is_empty() { 0 } else { y })
}

fn luminance(c: &RGBColor) -> f64 {
    0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64
}

/// Draws the colour bar below the legend: the ramp as stacked bands with ticks and its label.
fn draw_color_bar(
    panel: &DrawingArea<SVGBackend<'_>, Shift>,
    top: i32,
    bar: &ColorBar,
) -> Result<(), PlotError> {
    let (_, h) = panel.dim_in_pixel();
    let top = top + 10;
    let bottom = h as i32 - 60;
    if bottom - top < 80 {
        return Ok(());
    }
    let area = panel.margin(top as u32, 60, 6, 0);
    let axis = Axis::new(&bar.label).range(bar.low, bar.high);
    let coord = axis.coord(None, true);
    let mut chart = ChartBuilder::on(&area)
        .x_label_area_size(0)
        .y_label_area_size(0)
        .right_y_label_area_size(72)
        .build_cartesian_2d(RangedCoordf64::from(0.0..1.0), coord.clone())
        .map_err(draw_error)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_desc(axis.title_text())
        .label_style(
            (theme::FONT, theme::TICK_SIZE)
                .into_font()
                .color(&theme::INK),
        )
        .axis_desc_style(
            (theme::FONT, theme::TICK_SIZE)
                .into_font()
                .color(&theme::INK),
        )
        .bold_line_style(TRANSPARENT)
        .axis_style(theme::GREY)
        .draw()
        .map_err(draw_error)?;
    let steps = bar.bands.unwrap_or(64).max(1);
    let span = bar.high - bar.low;
    chart
        .draw_series((0..steps).map(|i| {
            let a = bar.low + span * i as f64 / steps as f64;
            let b = bar.low + span * (i + 1) as f64 / steps as f64;
            let t = (i as f64 + 0.5) / steps as f64;
            Rectangle::new([(0.0, a), (1.0, b)], bar.ramp.at(t).filled())
        }))
        .map_err(draw_error)?;
    chart
        .draw_series(std::iter::once(Rectangle::new(
            [(0.0, bar.low), (1.0, bar.high)],
            ShapeStyle::from(&theme::GREY).stroke_width(1),
        )))
        .map_err(draw_error)?;
    Ok(())
}

impl From<Heatmap> for Layer {
    fn from(v: Heatmap) -> Layer {
        Layer::Heatmap(v)
    }
}
impl From<Contours> for Layer {
    fn from(v: Contours) -> Layer {
        Layer::Contours(v)
    }
}
impl From<Ellipses> for Layer {
    fn from(v: Ellipses) -> Layer {
        Layer::Ellipses(v)
    }
}
impl From<Line> for Layer {
    fn from(v: Line) -> Layer {
        Layer::Line(v)
    }
}
impl From<Scatter> for Layer {
    fn from(v: Scatter) -> Layer {
        Layer::Scatter(v)
    }
}
impl From<Bars> for Layer {
    fn from(v: Bars) -> Layer {
        Layer::Bars(v)
    }
}
impl From<Dots> for Layer {
    fn from(v: Dots) -> Layer {
        Layer::Dots(v)
    }
}
