//! Covariance ellipses: the geometry of a 2×2 covariance and a layer that draws one ellipse
//! per component at several multiples of its standard deviation.

use plotters::prelude::*;

use super::axes::Axis;
use super::figure::{draw_clipped_path, Chart, Extent, LegendEntry, Swatch};
use super::theme;
use super::PlotError;

/// The axes of the ellipse `{p : (p − c)ᵀ Σ⁻¹ (p − c) = k²}` of a 2×2 covariance `Σ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EllipseAxes {
    /// Half-length of the long axis: `k·√λ₁`.
    pub semi_major: f64,
    /// Half-length of the short axis: `k·√λ₂`.
    pub semi_minor: f64,
    /// Angle of the long axis from the +x axis, radians in `(−π/2, π/2]`.
    pub angle: f64,
}

/// The ellipse of covariance `cov` at `k` standard deviations (closed-form eigenvalues of a
/// symmetric 2×2 matrix; a circle has angle 0).
///
/// ```
/// use gmmtune::plot::covariance_ellipse;
/// // diag(4, 1) rotated by 30°: axes 2 and 1 at 30°.
/// let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
/// let cov = [[4.0 * c * c + s * s, 3.0 * c * s], [3.0 * c * s, 4.0 * s * s + c * c]];
/// let e = covariance_ellipse(cov, 1.0)?;
/// assert!((e.semi_major - 2.0).abs() < 1e-12 && (e.semi_minor - 1.0).abs() < 1e-12);
/// assert!((e.angle - 30f64.to_radians()).abs() < 1e-12);
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
///
/// # Errors
/// [`PlotError::InvalidLayer`] when the matrix is not finite, symmetric and positive
/// semi-definite.
pub fn covariance_ellipse(cov: [[f64; 2]; 2], k: f64) -> Result<EllipseAxes, PlotError> {
    let [[a, b], [b2, c]] = cov;
    let invalid = |reason: &str| PlotError::InvalidLayer {
        layer: "ellipse".into(),
        reason: format!("covariance {cov:?} {reason}"),
    };
    if ![a, b, b2, c, k].iter().all(|v| v.is_finite()) {
        return Err(invalid("has a non-finite value"));
    }
    if (b - b2).abs() > 1e-9 * (a.abs() + c.abs()).max(1e-300) {
        return Err(invalid("is not symmetric"));
    }
    let mean = (a + c) / 2.0;
    let radius = (((a - c) / 2.0).powi(2) + b * b).sqrt();
    let (l1, l2) = (mean + radius, mean - radius);
    if l2 < -1e-12 * l1.abs().max(1e-300) {
        return Err(invalid("is not positive semi-definite"));
    }
    let angle = if radius == 0.0 {
        0.0
    } else {
        0.5 * (2.0 * b).atan2(a - c)
    };
    // atan2 gives (−π, π]; halved: (−π/2, π/2].
    Ok(EllipseAxes {
        semi_major: k * l1.max(0.0).sqrt(),
        semi_minor: k * l2.max(0.0).sqrt(),
        angle,
    })
}

/// `n` points around the ellipse (the first repeated at the end, so it closes).
pub fn ellipse_outline(centre: (f64, f64), axes: &EllipseAxes, n: usize) -> Vec<(f64, f64)> {
    let (cos, sin) = (axes.angle.cos(), axes.angle.sin());
    let n = n.max(8);
    (0..=n)
        .map(|i| {
            let t = 2.0 * std::f64::consts::PI * (i % n) as f64 / n as f64;
            let (u, v) = (axes.semi_major * t.cos(), axes.semi_minor * t.sin());
            (centre.0 + u * cos - v * sin, centre.1 + u * sin + v * cos)
        })
        .collect()
}

/// `(colour index, sigma index, points)` of one drawn ellipse.
type Outline = (usize, usize, Vec<(f64, f64)>);

/// One Gaussian component as drawn: mean, 2×2 covariance and categorical colour index.
#[derive(Debug, Clone, PartialEq)]
pub struct Component2d {
    /// Centre.
    pub mean: (f64, f64),
    /// Covariance (symmetric, positive semi-definite).
    pub covariance: [[f64; 2]; 2],
    /// Palette index of its colour.
    pub style: usize,
}

/// Ellipses of several components at `sigmas` standard deviations (default 1, 2 and 3: solid,
/// dashed, thin dashed).
///
/// ```
/// use gmmtune::plot::{Component2d, Ellipses, Figure};
/// let c = Component2d { mean: (0.0, 0.0), covariance: [[2.0, 0.5], [0.5, 1.0]], style: 0 };
/// let svg = Figure::new("one component").layer(Ellipses::new(vec![c])).render_svg()?;
/// assert!(svg.contains("1σ ellipse") && svg.contains("3σ ellipse"));
/// # Ok::<(), gmmtune::plot::PlotError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Ellipses {
    components: Vec<Component2d>,
    sigmas: Vec<f64>,
}

impl Ellipses {
    /// The 1, 2 and 3 σ ellipses of each component.
    pub fn new(components: Vec<Component2d>) -> Ellipses {
        Ellipses {
            components,
            sigmas: vec![1.0, 2.0, 3.0],
        }
    }

    /// Other multiples of σ (up to three styles: solid, dashed, thin dashed).
    pub fn sigmas(mut self, sigmas: Vec<f64>) -> Ellipses {
        self.sigmas = sigmas
            .into_iter()
            .filter(|s| s.is_finite() && *s > 0.0)
            .take(3)
            .collect();
        self
    }

    pub(crate) fn check(&self) -> Result<(), PlotError> {
        for c in &self.components {
            covariance_ellipse(c.covariance, 1.0)?;
        }
        Ok(())
    }

    /// `(colour index, sigma index, outline)` of every ellipse drawn.
    fn outlines(&self) -> Vec<Outline> {
        let mut out = Vec::new();
        for c in &self.components {
            for (s, &k) in self.sigmas.iter().enumerate() {
                if let Ok(axes) = covariance_ellipse(c.covariance, k) {
                    out.push((c.style, s, ellipse_outline(c.mean, &axes, 96)));
                }
            }
        }
        out
    }

    /// The innermost ellipses only: the outer ones may reach far beyond the data, and are
    /// clipped to the axes instead of widening them.
    pub(crate) fn extent(&self, x: &Axis, y: &Axis) -> Extent {
        let mut e = Extent::default();
        for (_, s, points) in self.outlines() {
            if s == 0 {
                for (a, b) in points {
                    e.add(x, y, a, b);
                }
            }
        }
        e
    }

    fn line_style(index: usize) -> (u32, bool) {
        match index {
            0 => (2, false),
            1 => (2, true),
            _ => (1, true),
        }
    }

    pub(crate) fn legend(&self) -> Vec<LegendEntry> {
        self.sigmas
            .iter()
            .enumerate()
            .map(|(s, k)| {
                let (width, dashed) = Self::line_style(s);
                LegendEntry {
                    swatch: Swatch::Line {
                        color: theme::GREY,
                        dashed,
                        width,
                        marker: None,
                    },
                    label: format!("{}σ ellipse", super::text::format_value(*k, 3)),
                }
            })
            .collect()
    }

    pub(crate) fn draw(
        &self,
        chart: &mut Chart<'_, '_>,
        x: &Axis,
        y: &Axis,
    ) -> Result<(), PlotError> {
        for (style, s, points) in self.outlines() {
            let (width, dashed) = Self::line_style(s);
            let line = ShapeStyle::from(&theme::category_color(style)).stroke_width(width);
            draw_clipped_path(chart, x, y, &points, line, dashed.then_some((7, 5)))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_aligned_and_circles() {
        let e = covariance_ellipse([[9.0, 0.0], [0.0, 4.0]], 2.0).unwrap();
        assert_eq!((e.semi_major, e.semi_minor, e.angle), (6.0, 4.0, 0.0));
        let e = covariance_ellipse([[1.0, 0.0], [0.0, 4.0]], 1.0).unwrap();
        assert_eq!((e.semi_major, e.semi_minor), (2.0, 1.0));
        assert!((e.angle - std::f64::consts::FRAC_PI_2).abs() < 1e-15);
        let e = covariance_ellipse([[2.0, 0.0], [0.0, 2.0]], 1.0).unwrap();
        assert_eq!(e.angle, 0.0);
        assert_eq!(e.semi_major, e.semi_minor);
    }

    #[test]
    fn negative_correlation_tilts_down() {
        let e = covariance_ellipse([[1.0, -0.8], [-0.8, 1.0]], 1.0).unwrap();
        assert!((e.angle + std::f64::consts::FRAC_PI_4).abs() < 1e-12);
        assert!((e.semi_major - 1.8f64.sqrt()).abs() < 1e-12);
        assert!((e.semi_minor - 0.2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn outline_points_lie_on_the_ellipse() {
        let cov = [[3.0, 1.2], [1.2, 2.0]];
        let det = 3.0 * 2.0 - 1.2 * 1.2;
        let inv = [[2.0 / det, -1.2 / det], [-1.2 / det, 3.0 / det]];
        let axes = covariance_ellipse(cov, 2.0).unwrap();
        for (x, y) in ellipse_outline((1.0, -1.0), &axes, 64) {
            let (u, v) = (x - 1.0, y + 1.0);
            let m = u * (inv[0][0] * u + inv[0][1] * v) + v * (inv[1][0] * u + inv[1][1] * v);
            assert!((m - 4.0).abs() < 1e-9, "Mahalanobis² {m}");
        }
    }

    #[test]
    fn bad_covariances_are_errors() {
        assert!(covariance_ellipse([[1.0, 2.0], [2.0, 1.0]], 1.0).is_err());
        assert!(covariance_ellipse([[1.0, 0.5], [0.0, 1.0]], 1.0).is_err());
        assert!(covariance_ellipse([[f64::NAN, 0.0], [0.0, 1.0]], 1.0).is_err());
    }
}
