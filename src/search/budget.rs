//! How much a strategy may spend on one unit.

use serde::{Deserialize, Serialize};

/// How much a strategy may spend on one unit (dataset × seed). Both limits may be given; the
/// first reached stops the search.
///
/// A time budget is wall time, checked before each trial (as FLAML does), so the last trial may
/// overshoot; the overshoot is recorded with the unit. So that a time budget means the same
/// whether a run has one unit or many, units with a time budget get the worker pool to
/// themselves: they run one at a time, after the units without one.
///
/// ```
/// use gmmtune::search::Budget;
/// let b: Budget = serde_norway::from_str("{trials: 50, time_s: 10}").unwrap();
/// assert_eq!(b.trials, Some(50));
/// assert!(b.is_timed());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Maximum number of trials.
    #[serde(default)]
    pub trials: Option<usize>,
    /// Maximum wall time in seconds.
    #[serde(default)]
    pub time_s: Option<f64>,
}

impl Budget {
    /// Whether the budget has a time limit.
    pub fn is_timed(&self) -> bool {
        self.time_s.is_some()
    }
}
