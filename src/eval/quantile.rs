//! Quantiles of samples, as numpy computes them.

/// The `q`-quantile of `values` with linear interpolation between order statistics (numpy's
/// default `quantile`); `None` for no values or `q` outside `[0, 1]`. NaN values sort last.
///
/// ```
/// use gmmtune::eval::quantile;
/// assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 0.5), Some(2.5));
/// assert_eq!(quantile(&[3.0, 1.0, 2.0, 4.0], 1.0), Some(4.0));
/// assert_eq!(quantile(&[], 0.5), None);
/// ```
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() || !(0.0..=1.0).contains(&q) {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let fraction = position - low as f64;
    Some(sorted[low] + (sorted[high] - sorted[low]) * fraction)
}
