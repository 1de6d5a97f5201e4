//! Colours, marker shapes and sizes shared by every chart.
//!
//! Both palettes survive greyscale printing: the categorical set alternates dark and light
//! colours and pairs each with its own marker shape, and the ordered ramps (viridis, cividis)
//! grow monotonically lighter from low to high values.

use plotters::element::{Drawable, PointCollection};
use plotters::prelude::DrawingBackend;
use plotters::style::{RGBColor, ShapeStyle};
use plotters_backend::{BackendCoord, DrawingErrorKind};

/// Width and height of a chart in pixels unless a figure sets its own.
pub const DEFAULT_SIZE: (u32, u32) = (760, 560);
/// Font family of every text.
pub const FONT: &str = "sans-serif";
/// Font sizes (pixels) of the title, axis titles, tick labels and legend entries.
pub const TITLE_SIZE: u32 = 20;
/// Axis title size.
pub const AXIS_TITLE_SIZE: u32 = 15;
/// Tick label size.
pub const TICK_SIZE: u32 = 13;
/// Legend text size.
pub const LEGEND_SIZE: u32 = 13;
/// Text colour.
pub const INK: RGBColor = RGBColor(30, 30, 30);
/// Grid line colour.
pub const GRID: RGBColor = RGBColor(225, 225, 225);
/// Neutral grey for secondary marks.
pub const GREY: RGBColor = RGBColor(120, 120, 120);

/// The categorical colours (Okabe–Ito, reordered so neighbours differ in lightness).
const CATEGORICAL: [RGBColor; 8] = [
    RGBColor(0, 114, 178),   // blue, dark
    RGBColor(230, 159, 0),   // orange, light
    RGBColor(0, 0, 0),       // black
    RGBColor(86, 180, 233),  // sky blue, light
    RGBColor(213, 94, 0),    // vermillion, mid
    RGBColor(0, 158, 115),   // bluish green, mid
    RGBColor(204, 121, 167), // reddish purple, light
    RGBColor(120, 94, 30),   // dark ochre
];

/// Marker shapes, paired with the categorical colours (the pairs repeat after 48 categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// Filled circle.
    Circle,
    /// Filled square.
    Square,
    /// Filled triangle pointing up.
    Triangle,
    /// Filled diamond.
    Diamond,
    /// Diagonal cross (×).
    Cross,
    /// Hollow circle.
    Ring,
    /// Upright cross (+).
    Plus,
    /// Filled triangle pointing down.
    TriangleDown,
}

const SHAPES: [Marker; 6] = [
    Marker::Circle,
    Marker::Square,
    Marker::Triangle,
    Marker::Diamond,
    Marker::Cross,
    Marker::TriangleDown,
];

/// The colour of category `index` (cycles through eight).
///
/// ```
/// use gmmtune::plot::{category_color, category_marker, Marker};
/// assert_ne!(category_color(0), category_color(1));
/// assert_eq!(category_marker(0), Marker::Circle);
/// assert_ne!(category_marker(1), category_marker(0));
/// ```
pub fn category_color(index: usize) -> RGBColor {
    CATEGORICAL[index % CATEGORICAL.len()]
}

/// The marker shape of category `index` (cycles through six, so colour and shape together
/// repeat only after 24 categories).
pub fn category_marker(index: usize) -> Marker {
    SHAPES[index % SHAPES.len()]
}

/// An ordered colour ramp for values (low = dark, high = light).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ramp {
    /// matplotlib's viridis (purple → green → yellow).
    #[default]
    Viridis,
    /// matplotlib's cividis (navy → grey → yellow), also readable with colour-vision deficiency.
    Cividis,
    /// cividis run backwards (light → dark), for values whose high end needs attention.
    CividisInverted,
}

const VIRIDIS: [(u8, u8, u8); 9] = [
    (68, 1, 84),
    (71, 44, 122),
    (59, 81, 139),
    (44, 113, 142),
    (33, 144, 141),
    (39, 173, 129),
    (92, 200, 99),
    (170, 220, 50),
    (253, 231, 37),
];

const CIVIDIS: [(u8, u8, u8); 9] = [
    (0, 34, 78),
    (18, 53, 112),
    (59, 73, 108),
    (87, 93, 109),
    (112, 113, 115),
    (138, 135, 121),
    (166, 157, 117),
    (196, 181, 108),
    (254, 232, 56),
];

impl Ramp {
    /// The colour at `t` in `[0, 1]` (clamped; NaN gives the low end).
    /// Viridis and cividis grow lighter with `t`, the inverted cividis darker.
    ///
    /// ```
    /// use gmmtune::plot::Ramp;
    /// let dark = Ramp::Viridis.at(0.0);
    /// let light = Ramp::Viridis.at(1.0);
    /// let lum = |c: plotters::style::RGBColor| 0.3 * c.0 as f64 + 0.59 * c.1 as f64 + 0.11 * c.2 as f64;
    /// assert!(lum(light) > lum(dark));
    /// ```
    pub fn at(self, t: f64) -> RGBColor {
        let table = match self {
            Ramp::Viridis => &VIRIDIS,
            Ramp::Cividis | Ramp::CividisInverted => &CIVIDIS,
        };
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        let t = if self == Ramp::CividisInverted {
            1.0 - t
        } else {
            t
        };
        let scaled = t * (table.len() - 1) as f64;
        let i = (scaled.floor() as usize).min(table.len() - 2);
        let f = scaled - i as f64;
        let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
        let (a, b) = (table[i], table[i + 1]);
        RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
    }
}

/// A marker as a plotters element: anchored at a coordinate, drawn in pixels around it.
///
/// Works on a chart (data coordinates) and on a plain drawing area (pixel coordinates).
#[derive(Debug, Clone, Copy)]
pub(crate) struct MarkerElement<C> {
    at: C,
    marker: Marker,
    size: i32,
    color: RGBColor,
    stroke: u32,
}

impl<C> MarkerElement<C> {
    /// `marker` of radius `size` pixels and colour `color` at `at`.
    pub(crate) fn new(at: C, marker: Marker, size: i32, color: RGBColor) -> Self {
        MarkerElement {
            at,
            marker,
            size: size.max(1),
            color,
            stroke: 2,
        }
    }

    /// Line width of the hollow and line-drawn markers (ring, crosses).
    pub(crate) fn stroke(mut self, width: u32) -> Self {
        self.stroke = width.max(1);
        self
    }
}

impl<'a, C> PointCollection<'a, C> for &'a MarkerElement<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<C, DB: DrawingBackend> Drawable<DB> for MarkerElement<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        let fill = ShapeStyle::from(&self.color).filled();
        let line = ShapeStyle::from(&self.color).stroke_width(self.stroke);
        let s = self.size;
        match self.marker {
            Marker::Circle => backend.draw_circle((x, y), s as u32, &fill, true),
            Marker::Ring => backend.draw_circle((x, y), s as u32, &line, false),
            Marker::Square => backend.draw_rect((x - s, y - s), (x + s, y + s), &fill, true),
            Marker::Triangle => backend.fill_polygon(
                vec![(x, y - s - 1), (x + s + 1, y + s), (x - s - 1, y + s)],
                &fill,
            ),
            Marker::TriangleDown => backend.fill_polygon(
                vec![(x, y + s + 1), (x + s + 1, y - s), (x - s - 1, y - s)],
                &fill,
            ),
            Marker::Diamond => backend.fill_polygon(
                vec![
                    (x, y - s - 1),
                    (x + s + 1, y),
                    (x, y + s + 1),
                    (x - s - 1, y),
                ],
                &fill,
            ),
            Marker::Cross => {
                backend.draw_line((x - s, y - s), (x + s, y + s), &line)?;
                backend.draw_line((x - s, y + s), (x + s, y - s), &line)
            }
            Marker::Plus => {
                backend.draw_line((x - s - 1, y), (x + s + 1, y), &line)?;
                backend.draw_line((x, y - s - 1), (x, y + s + 1), &line)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn luminance(c: RGBColor) -> f64 {
        0.2126 * c.0 as f64 + 0.7152 * c.1 as f64 + 0.0722 * c.2 as f64
    }

    #[test]
    fn ramps_grow_lighter() {
        for (ramp, forward) in [
            (Ramp::Viridis, true),
            (Ramp::Cividis, true),
            (Ramp::CividisInverted, false),
        ] {
            let mut last = -1.0;
            for i in 0..=20 {
                let t = if forward { i } else { 20 - i } as f64 / 20.0;
                let l = luminance(ramp.at(t));
                assert!(l > last, "{ramp:?} at step {i}: {l} after {last}");
                last = l;
            }
        }
        assert_eq!(Ramp::Viridis.at(f64::NAN), Ramp::Viridis.at(0.0));
        assert_eq!(Ramp::Viridis.at(7.0), Ramp::Viridis.at(1.0));
    }

    #[test]
    fn neighbouring_categories_differ_in_grey_or_shape() {
        for i in 0..24 {
            let (a, b) = (category_color(i), category_color(i + 1));
            assert!(
                (luminance(a) - luminance(b)).abs() > 20.0
                    || category_marker(i) != category_marker(i + 1)
            );
            assert_ne!(category_marker(i), category_marker(i + 1));
        }
    }
}
