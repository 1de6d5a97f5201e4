//! Errors of the evaluation layer.

use thiserror::Error;

/// An evaluation setting (cost model or threshold search) with a value outside its domain.
///
/// Every variant names the configuration key as the user spells it and says what would fix it.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum EvalError {
    /// `c_alarm` or `c_missed` is negative, NaN or infinite.
    #[error("invalid cost `{key}` = {value}: a cost must be a finite number >= 0")]
    InvalidCost {
        /// `c_alarm` or `c_missed`.
        key: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// Both costs are zero, so every threshold would cost nothing.
    #[error(
        "invalid cost model: `c_alarm` and `c_missed` are both 0, so every threshold costs 0; \
         give at least one of them a positive value"
    )]
    ZeroCosts,
    /// A bound of the linspace threshold grid (`low` or `high`) is NaN or infinite.
    #[error(
        "invalid threshold grid `linspace.{key}` = {value}: the bound must be a finite number"
    )]
    InvalidLinspaceBound {
        /// `low` or `high`.
        key: &'static str,
        /// The rejected value.
        value: f64,
    },
    /// `linspace.high − linspace.low` overflows, so the grid step is not a finite number.
    #[error(
        "invalid threshold grid `linspace.low` = {low:e}, `linspace.high` = {high:e}: their \
         difference overflows; narrow the range"
    )]
    LinspaceSpanTooWide {
        /// The grid's first point.
        low: f64,
        /// The grid's last point.
        high: f64,
    },
    /// The linspace threshold grid has no points.
    #[error("invalid threshold grid `linspace.n` = 0: the grid needs at least 1 point")]
    EmptyLinspace,
    /// A linspace grid with more points than a search can afford.
    #[error(
        "the linspace threshold grid asks for {n} points; at most {max} are allowed (each trial evaluates every point): lower `n`"
    )]
    TooManyLinspacePoints {
        /// Points asked.
        n: usize,
        /// The limit.
        max: usize,
    },
}
