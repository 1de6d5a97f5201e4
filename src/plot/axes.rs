//! Axes: a title with its unit, a linear, logarithmic or categorical scale, the range that fits
//! the data, and the ticks drawn on it.

use std::ops::Range;

use plotters::coord::ranged1d::{
    KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter,
};

use super::text;

/// How values map to positions on an axis.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Scale {
    /// Equal steps for equal differences.
    #[default]
    Linear,
    /// Equal steps for equal ratios; only values > 0 are drawn.
    Log,
    /// Named positions 0, 1, 2, … (the values are category indices).
    Categories(Vec<String>),
}

/// One axis of a chart: title, unit, scale and optional fixed range.
///
/// ```
/// use gmmtune::plot::Axis;
/// let x = Axis::new("time").unit("s").log();
/// assert_eq!(x.title_text(), "time (s)");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Axis {
    title: String,
    unit: Option<String>,
    scale: Scale,
    range: Option<(f64, f64)>,
    integer_ticks: bool,
}

impl Axis {
    /// A linear axis with this title.
    pub fn new(title: &str) -> Axis {
        Axis {
            title: title.to_string(),
            ..Axis::default()
        }
    }

    /// The unit, shown in brackets after the title.
    pub fn unit(mut self, unit: &str) -> Axis {
        self.unit = Some(unit.to_string());
        self
    }

    /// A logarithmic scale (base 10).
    pub fn log(mut self) -> Axis {
        self.scale = Scale::Log;
        self
    }

    /// A categorical axis: value `i` is drawn at the position named `names[i]`.
    pub fn categories(mut self, names: &[String]) -> Axis {
        self.scale = Scale::Categories(names.to_vec());
        self
    }

    /// Fixes the range instead of fitting it to the data.
    pub fn range(mut self, low: f64, high: f64) -> Axis {
        self.range = Some((low, high));
        self
    }

    /// Ticks only at whole numbers (for counts such as `n_components`).
    pub fn integer_ticks(mut self) -> Axis {
        self.integer_ticks = true;
        self
    }

    /// The scale.
    pub fn scale(&self) -> &Scale {
        &self.scale
    }

    /// Whether values must be positive to be drawn.
    pub(crate) fn is_log(&self) -> bool {
        matches!(self.scale, Scale::Log)
    }

    /// Whether `value` can be placed on this axis.
    pub(crate) fn accepts(&self, value: f64) -> bool {
        value.is_finite() && (!self.is_log() || value > 0.0)
    }

    /// Title and unit as shown: `"title (unit)"`, cleaned for SVG.
    pub fn title_text(&self) -> String {
        let title = text::clean(&self.title);
        match &self.unit {
            Some(unit) => format!("{title} ({})", text::clean(unit)),
            None => title,
        }
    }

    /// The coordinate system for data spanning `[low, high]` (already filtered by
    /// [`accepts`](Self::accepts)), padded by 4 % (or to a readable width when all values are
    /// equal), with its ticks.
    /// With `exact`, the extent is used as it is (unless it has zero width).
    pub(crate) fn coord(&self, extent: Option<(f64, f64)>, exact: bool) -> AxisCoord {
        if let Scale::Categories(names) = &self.scale {
            let n = names.len().max(1);
            let ticks = (0..names.len()).map(|i| i as f64).collect();
            return AxisCoord {
                low: -0.5,
                high: n as f64 - 0.5,
                log: false,
                ticks,
                step: 1.0,
                names: Some(names.iter().map(|n| text::label(n)).collect()),
            };
        }
        let (low, high) = match (self.range, extent) {
            (Some(r), _) if self.accepts(r.0) && self.accepts(r.1) && r.0 < r.1 => r,
            (_, Some(e)) if exact && e.0 < e.1 => e,
            (_, Some(e)) => pad(e, self.is_log()),
            _ => {
                if self.is_log() {
                    (1.0, 10.0)
                } else {
                    (0.0, 1.0)
                }
            }
        };
        let (ticks, step) = if self.is_log() {
            log_ticks(low, high)
        } else {
            // Whole-number axes tick every unit up to a dozen.
            let target = if self.integer_ticks { 12 } else { 7 };
            linear_ticks(low, high, target, self.integer_ticks)
        };
        AxisCoord {
            low,
            high,
            log: self.is_log(),
            ticks,
            step,
            names: None,
        }
    }
}

/// Pads a data extent so no mark sits on the frame; a zero-width extent gets a width of its
/// own.
fn pad((low, high): (f64, f64), log: bool) -> (f64, f64) {
    if log {
        let (a, b) = (low.log10(), high.log10());
        let (a, b) = if b - a < 1e-9 {
            (a - 0.5, b + 0.5)
        } else {
            let m = (b - a) * 0.04;
            (a - m, b + m)
        };
        return (10f64.powf(a), 10f64.powf(b));
    }
    let width = high - low;
    if width.is_nan() || width <= 1e-12 * low.abs().max(high.abs()).max(1e-300) {
        let half = if low == 0.0 { 1.0 } else { low.abs() * 0.1 };
        return (low - half, high + half);
    }
    let m = width * 0.04;
    (low - m, high + m)
}

/// "Nice" ticks (1, 2, 2.5 or 5 × 10^k apart) inside `[low, high]`, about `target` of them.
fn linear_ticks(low: f64, high: f64, target: usize, integer: bool) -> (Vec<f64>, f64) {
    let raw = (high - low) / target as f64;
    let power = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power);
    if integer {
        step = step.max(1.0).round();
    }
    let first = (low / step).ceil() as i64;
    let last = (high / step).floor() as i64;
    let ticks = (first..=last)
        .map(|i| {
            let v = i as f64 * step;
            if v == 0.0 {
                0.0
            } else {
                v
            }
        })
        .collect();
    (ticks, step)
}

/// Powers of ten inside `[low, high]`; with fewer than three, 2× and 5× too.
fn log_ticks(low: f64, high: f64) -> (Vec<f64>, f64) {
    let (a, b) = (low.log10().ceil() as i32, high.log10().floor() as i32);
    let decades: Vec<f64> = (a..=b).map(|e| 10f64.powi(e)).collect();
    if decades.len() >= 3 {
        return (decades, 0.0);
    }
    let mut ticks = Vec::new();
    for e in (low.log10().floor() as i32)..=(high.log10().ceil() as i32) {
        for m in [1.0, 2.0, 5.0] {
            let v = m * 10f64.powi(e);
            if v >= low && v <= high {
                ticks.push(v);
            }
        }
    }
    (ticks, 0.0)
}

/// A plotters coordinate for one axis: the mapping and the ticks computed by [`Axis::coord`].
#[derive(Debug, Clone)]
pub(crate) struct AxisCoord {
    pub(crate) low: f64,
    pub(crate) high: f64,
    log: bool,
    ticks: Vec<f64>,
    step: f64,
    names: Option<Vec<String>>,
}

impl AxisCoord {
    /// Position of `value` in `[0, 1]` along the axis.
    fn fraction(&self, value: f64) -> f64 {
        if self.log {
            (value.log10() - self.low.log10()) / (self.high.log10() - self.low.log10())
        } else {
            (value - self.low) / (self.high - self.low)
        }
    }

    /// The text of a tick.
    pub(crate) fn tick_label(&self, value: f64) -> String {
        if let Some(names) = &self.names {
            let i = value.round();
            return if i >= 0.0 && (i as usize) < names.len() {
                names[i as usize].clone()
            } else {
                String::new()
            };
        }
        if self.log {
            let e = value.log10();
            if (e - e.round()).abs() < 1e-9 && !(-3.0..=4.0).contains(&e.round()) {
                return format!("1e{}", e.round() as i32);
            }
            return text::format_value(value, 3);
        }
        text::format_tick(value, self.step)
    }
}

impl Ranged for AxisCoord {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.fraction(*value);
        let t = if t.is_finite() {
            t.clamp(-10.0, 10.0)
        } else {
            0.0
        };
        (limit.0 as f64 + t * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        match hint.weight() {
            KeyPointWeight::Bold => self.ticks.clone(),
            KeyPointWeight::Any => Vec::new(),
        }
    }

    fn range(&self) -> Range<f64> {
        self.low..self.high
    }
}

impl ValueFormatter<f64> for AxisCoord {
    fn format(value: &f64) -> String {
        text::format_value(*value, 4)
    }

    fn format_ext(&self, value: &f64) -> String {
        self.tick_label(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ticks_are_nice_and_inside() {
        let (ticks, step) = linear_ticks(0.03, 9.7, 7, false);
        assert_eq!(step, 2.0);
        assert_eq!(ticks, vec![2.0, 4.0, 6.0, 8.0]);
        let (ticks, step) = linear_ticks(0.0, 3.0, 7, true);
        assert_eq!(step, 1.0);
        assert_eq!(ticks, vec![0.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn degenerate_extents_get_a_width() {
        let axis = Axis::new("x");
        let c = axis.coord(Some((3.0, 3.0)), false);
        assert!(c.low < 3.0 && c.high > 3.0);
        let c = axis.coord(Some((0.0, 0.0)), false);
        assert_eq!((c.low, c.high), (-1.0, 1.0));
        let c = Axis::new("x").log().coord(Some((5.0, 5.0)), false);
        assert!(c.low < 5.0 && c.high > 5.0 && c.low > 0.0);
        let c = axis.coord(None, false);
        assert_eq!((c.low, c.high), (0.0, 1.0));
    }

    #[test]
    fn log_ticks_are_decades_or_125() {
        let c = Axis::new("x").log().coord(Some((1e-3, 1e2)), false);
        assert_eq!(c.ticks, vec![1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0]);
        assert_eq!(c.tick_label(1e-3), "0.001");
        assert_eq!(c.tick_label(1e-5), "1e-5");
        let (ticks, _) = log_ticks(1.5, 30.0);
        assert_eq!(ticks, vec![2.0, 5.0, 10.0, 20.0]);
    }

    #[test]
    fn categories_name_their_ticks() {
        let names = vec!["a".to_string(), "b".to_string()];
        let c = Axis::new("x").categories(&names).coord(None, false);
        assert_eq!(
            c.key_points(plotters::coord::ranged1d::BoldPoints(10)),
            vec![0.0, 1.0]
        );
        assert_eq!(c.tick_label(1.0), "b");
        assert_eq!(c.tick_label(5.0), "");
    }

    #[test]
    fn map_is_linear_and_total() {
        let c = Axis::new("x").range(0.0, 10.0).coord(None, false);
        assert_eq!(c.map(&5.0, (0, 100)), 50);
        assert_eq!(c.map(&f64::NAN, (0, 100)), 0);
        assert_eq!(c.map(&1e300, (0, 100)), 1000);
    }
}
