//! The search space over GMM hyperparameters: its YAML form ([`SearchSpaceSpec`]), its checked
//! form ([`SearchSpace`]), the configuration a strategy proposes ([`GmmConfig`]) and the
//! normalised coordinates the CFO search moves in.
//!
//! Each of the four dimensions is a fixed value, a list of choices or (for the numeric ones) a
//! range:
//!
//! ```
//! use gmmtune::search::SearchSpaceSpec;
//! let yaml = "
//! n_components: {low: 1, high: 32, log: true, grid: 6}
//! covariance_type: [spherical, diag, tied, full]
//! reg_covar: {low: 1.0e-6, high: 1.0e-1, log: true, grid: 6}
//! init: kmeans
//! ";
//! let spec: SearchSpaceSpec = serde_norway::from_str(yaml).unwrap();
//! let space = spec.check().unwrap();
//! assert_eq!(space.tunable_count(), 3); // `init` is fixed
//! ```

use std::fmt;
use std::marker::PhantomData;

use rand::Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserializer, IntoDeserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::gmm::{CovarianceType, InitMethod};
pub use crate::gmm_config::GmmConfig;

/// A search configuration error; `key` names the offending YAML key, e.g. `space.reg_covar.low`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SearchError {
    /// A value of the search space is invalid.
    #[error("{key}: {reason}")]
    InvalidSpace {
        /// Dotted path of the offending key.
        key: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// A value of the strategy section is invalid.
    #[error("{key}: {reason}")]
    InvalidStrategy {
        /// Dotted path of the offending key.
        key: String,
        /// What is wrong and how to fix it.
        reason: String,
    },
}

impl SearchError {
    /// The dotted key the error is about.
    pub fn key(&self) -> &str {
        match self {
            SearchError::InvalidSpace { key, .. } | SearchError::InvalidStrategy { key, .. } => key,
        }
    }

    /// What is wrong and how to fix it.
    pub fn reason(&self) -> &str {
        match self {
            SearchError::InvalidSpace { reason, .. }
            | SearchError::InvalidStrategy { reason, .. } => reason,
        }
    }
}

/// The most components a space may name.
pub const MAX_N_COMPONENTS: usize = 65_536;

/// The most grid points one range may ask for.
pub const MAX_GRID_POINTS: usize = 10_000;

fn space_error(key: impl Into<String>, reason: impl Into<String>) -> SearchError {
    SearchError::InvalidSpace {
        key: key.into(),
        reason: reason.into(),
    }
}

/// A range in the YAML space: inclusive bounds, optional log scale and grid size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RangeSpec<T> {
    /// Lower bound (inclusive).
    pub low: T,
    /// Upper bound (inclusive).
    pub high: T,
    /// Sample and move on a log scale (needs `low > 0`).
    #[serde(default)]
    pub log: bool,
    /// Number of points the grid strategy takes from this range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid: Option<usize>,
}

/// One dimension as written in YAML: `4`, `[2, 4, 8]` or `{low: 1, high: 32, log: true}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ValueSpec<T> {
    /// A single value: the dimension is not searched.
    Fixed(T),
    /// A list of choices.
    List(Vec<T>),
    /// A range (numeric dimensions only).
    Range(RangeSpec<T>),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ValueSpec<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SpecVisitor<T>(PhantomData<T>);

        impl<'de, T: Deserialize<'de>> SpecVisitor<T> {
            fn fixed<E: de::Error, V: IntoDeserializer<'de, E>>(v: V) -> Result<ValueSpec<T>, E> {
                T::deserialize(v.into_deserializer()).map(ValueSpec::Fixed)
            }
        }

        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpecVisitor<T> {
            type Value = ValueSpec<T>;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value, a list of values, or a range {low, high, log, grid}")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Self::fixed(v)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
                Vec::<T>::deserialize(SeqAccessDeserializer::new(seq)).map(ValueSpec::List)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                RangeSpec::<T>::deserialize(MapAccessDeserializer::new(map)).map(ValueSpec::Range)
            }
        }

        deserializer.deserialize_any(SpecVisitor(PhantomData))
    }
}

/// The search space as written in YAML (unchecked); [`SearchSpaceSpec::check`] validates it.
/// An omitted key takes its value from the default space ([`SearchSpaceSpec::default`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpaceSpec {
    /// Number of components: integers, inclusive bounds.
    #[serde(default = "default_n_components")]
    pub n_components: ValueSpec<usize>,
    /// Covariance shapes.
    #[serde(default = "default_covariance_types")]
    pub covariance_type: ValueSpec<CovarianceType>,
    /// Covariance regularisation.
    #[serde(default = "default_reg_covar")]
    pub reg_covar: ValueSpec<f64>,
    /// Initialisation methods.
    #[serde(default = "default_inits")]
    pub init: ValueSpec<InitMethod>,
}

fn default_n_components() -> ValueSpec<usize> {
    ValueSpec::Range(RangeSpec {
        low: 1,
        high: 32,
        log: true,
        grid: Some(6),
    })
}
fn default_covariance_types() -> ValueSpec<CovarianceType> {
    ValueSpec::List(CovarianceType::ALL.to_vec())
}
fn default_reg_covar() -> ValueSpec<f64> {
    ValueSpec::Range(RangeSpec {
        low: 1e-6,
        high: 1e-1,
        log: true,
        grid: Some(6),
    })
}
fn default_inits() -> ValueSpec<InitMethod> {
    ValueSpec::List(InitMethod::ALL.to_vec())
}

impl Default for SearchSpaceSpec {
    /// `n_components` 1..32 (log, grid 1, 2, 4, 8, 16, 32), all covariance types,
    /// `reg_covar` 1e-6..1e-1 (log, grid 1e-6, 1e-5, ..., 1e-1), all initialisations.
    fn default() -> Self {
        SearchSpaceSpec {
            n_components: default_n_components(),
            covariance_type: default_covariance_types(),
            reg_covar: default_reg_covar(),
            init: default_inits(),
        }
    }
}

/// A checked numeric range (inclusive bounds, `low < high`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Range<T> {
    /// Lower bound (inclusive).
    pub low: T,
    /// Upper bound (inclusive).
    pub high: T,
    /// Log scale.
    pub log: bool,
    /// Points for the grid strategy, if given.
    pub grid: Option<usize>,
}

/// A checked numeric dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Dimension<T> {
    /// Not searched.
    Fixed(T),
    /// At least two distinct values, ascending.
    Choices(Vec<T>),
    /// A range with `low < high`.
    Range(Range<T>),
}

impl<T: Copy> Dimension<T> {
    /// The smallest and largest value the dimension takes.
    pub fn bounds(&self) -> (T, T) {
        match self {
            Dimension::Fixed(v) => (*v, *v),
            Dimension::Choices(values) => (values[0], values[values.len() - 1]),
            Dimension::Range(r) => (r.low, r.high),
        }
    }
}

/// A checked categorical dimension.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Choice<T> {
    /// Not searched.
    Fixed(T),
    /// At least two distinct values, cheapest first.
    Choices(Vec<T>),
}

/// A checked search space; only [`SearchSpaceSpec::check`] makes one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchSpace {
    n_components: Dimension<usize>,
    covariance_type: Choice<CovarianceType>,
    reg_covar: Dimension<f64>,
    init: Choice<InitMethod>,
}

impl Default for SearchSpace {
    fn default() -> Self {
        SearchSpace {
            n_components: Dimension::Range(Range {
                low: 1,
                high: 32,
                log: true,
                grid: Some(6),
            }),
            covariance_type: Choice::Choices(CovarianceType::ALL.to_vec()),
            reg_covar: Dimension::Range(Range {
                low: 1e-6,
                high: 1e-1,
                log: true,
                grid: Some(6),
            }),
            init: Choice::Choices(InitMethod::ALL.to_vec()),
        }
    }
}

fn check_list<T: PartialEq + Copy + fmt::Debug>(
    key: &str,
    values: &[T],
    check_value: &dyn Fn(&str, T) -> Result<(), SearchError>,
) -> Result<Vec<T>, SearchError> {
    if values.is_empty() {
        return Err(space_error(
            key,
            "the list of choices is empty; give at least one value",
        ));
    }
    for (i, &v) in values.iter().enumerate() {
        check_value(&format!("{key}[{i}]"), v)?;
        if values[..i].contains(&v) {
            return Err(space_error(
                format!("{key}[{i}]"),
                format!("{v:?} is listed twice; list each choice once"),
            ));
        }
    }
    Ok(values.to_vec())
}

fn check_categorical<T: PartialEq + Copy + Ord + fmt::Debug>(
    key: &str,
    spec: &ValueSpec<T>,
) -> Result<Choice<T>, SearchError> {
    match spec {
        ValueSpec::Fixed(v) => Ok(Choice::Fixed(*v)),
        ValueSpec::List(values) => {
            let mut values = check_list(key, values, &|_, _| Ok(()))?;
            values.sort(); // the enums are declared cheapest first
            Ok(match values.as_slice() {
                [only] => Choice::Fixed(*only),
                _ => Choice::Choices(values),
            })
        }
        ValueSpec::Range(_) => Err(space_error(
            key,
            "a range needs numbers; list the choices instead, e.g. [spherical, diag]",
        )),
    }
}

fn check_numeric<T: PartialEq + PartialOrd + Copy + fmt::Debug>(
    key: &str,
    spec: &ValueSpec<T>,
    check_value: &dyn Fn(&str, T) -> Result<(), SearchError>,
    positive: &dyn Fn(T) -> bool,
) -> Result<Dimension<T>, SearchError> {
    match spec {
        ValueSpec::Fixed(v) => {
            check_value(key, *v)?;
            Ok(Dimension::Fixed(*v))
        }
        ValueSpec::List(values) => {
            let mut values = check_list(key, values, check_value)?;
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            Ok(match values.as_slice() {
                [only] => Dimension::Fixed(*only),
                _ => Dimension::Choices(values),
            })
        }
        ValueSpec::Range(r) => {
            check_value(&format!("{key}.low"), r.low)?;
            check_value(&format!("{key}.high"), r.high)?;
            if r.low > r.high {
                return Err(space_error(
                    format!("{key}.low"),
                    format!("low {:?} is above high {:?}; swap them", r.low, r.high),
                ));
            }
            if r.log && !positive(r.low) {
                return Err(space_error(
                    format!("{key}.low"),
                    format!("a log range needs low > 0, got {:?}", r.low),
                ));
            }
            if r.grid == Some(0) {
                return Err(space_error(
                    format!("{key}.grid"),
                    "a grid needs at least 1 point",
                ));
            }
            if r.grid.is_some_and(|g| g > MAX_GRID_POINTS) {
                return Err(space_error(
                    format!("{key}.grid"),
                    format!("at most {MAX_GRID_POINTS} grid points per dimension"),
                ));
            }
            if r.low == r.high {
                return Ok(Dimension::Fixed(r.low));
            }
            Ok(Dimension::Range(Range {
                low: r.low,
                high: r.high,
                log: r.log,
                grid: r.grid,
            }))
        }
    }
}

impl SearchSpaceSpec {
    /// Validates the space. Errors name the key (`space.n_components.low`, `space.init[2]`, ...).
    ///
    /// A list with a single value and a range with `low == high` become fixed values; lists are
    /// sorted (numbers ascending, covariance types and initialisations cheapest first).
    ///
    /// ```
    /// use gmmtune::search::{RangeSpec, SearchSpaceSpec, ValueSpec};
    /// let mut spec = SearchSpaceSpec::default();
    /// spec.reg_covar = ValueSpec::Range(RangeSpec { low: 0.0, high: 1e-2, log: true, grid: None });
    /// let err = spec.check().unwrap_err();
    /// assert_eq!(err.key(), "space.reg_covar.low");
    /// ```
    pub fn check(&self) -> Result<SearchSpace, SearchError> {
        let n_components = check_numeric(
            "space.n_components",
            &self.n_components,
            &|key, v: usize| {
                if v < 1 {
                    Err(space_error(key, "n_components must be at least 1"))
                } else if v > MAX_N_COMPONENTS {
                    Err(space_error(
                        key,
                        format!(
                            "{v} components is beyond what gmmtune fits (at most {MAX_N_COMPONENTS}); a mixture needs fewer components than training rows"
                        ),
                    ))
                } else {
                    Ok(())
                }
            },
            &|v| v > 0,
        )?;
        let covariance_type = check_categorical("space.covariance_type", &self.covariance_type)?;
        let reg_covar = check_numeric(
            "space.reg_covar",
            &self.reg_covar,
            &|key, v: f64| {
                if v.is_finite() && v >= 0.0 {
                    Ok(())
                } else {
                    Err(space_error(
                        key,
                        format!("reg_covar must be a finite number >= 0, got {v}"),
                    ))
                }
            },
            &|v| v > 0.0,
        )?;
        if let Dimension::Range(r) = &reg_covar {
            // Grid points, draws and CFO's moves scale `low` by powers of `high / low`.
            if r.log && !(r.high / r.low).is_finite() {
                return Err(space_error(
                    "space.reg_covar.low",
                    format!(
                        "a log range from {:e} to {:e} spans more decades than a float holds (high / low overflows); raise low",
                        r.low, r.high
                    ),
                ));
            }
        }
        let init = check_categorical("space.init", &self.init)?;
        Ok(SearchSpace {
            n_components,
            covariance_type,
            reg_covar,
            init,
        })
    }
}

/// Rounds to 12 significant digits, so log-spaced grid points read as `1e-5`, not `9.999…e-6`.
fn tidy(x: f64) -> f64 {
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// `n` points from `low` to `high` (both included), log- or linearly spaced.
fn spaced(low: f64, high: f64, log: bool, n: usize) -> Vec<f64> {
    if n <= 1 {
        return vec![low];
    }
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            if i == 0 {
                low
            } else if i == n - 1 {
                high
            } else if log {
                tidy(low * (high / low).powf(t))
            } else {
                tidy(low + t * (high - low))
            }
        })
        .collect()
}

fn missing_grid(key: &str) -> SearchError {
    space_error(
        format!("{key}.grid"),
        "the grid strategy needs `grid: N` (number of points) on every range",
    )
}

impl SearchSpace {
    /// The `n_components` dimension.
    pub fn n_components(&self) -> &Dimension<usize> {
        &self.n_components
    }
    /// The `covariance_type` dimension.
    pub fn covariance_type(&self) -> &Choice<CovarianceType> {
        &self.covariance_type
    }
    /// The `reg_covar` dimension.
    pub fn reg_covar(&self) -> &Dimension<f64> {
        &self.reg_covar
    }
    /// The `init` dimension.
    pub fn init(&self) -> &Choice<InitMethod> {
        &self.init
    }

    /// Number of searched (not fixed) dimensions.
    pub fn tunable_count(&self) -> usize {
        self.axes().len()
    }

    /// Whether `config` lies in the space (a value of every list, inside every range).
    pub fn contains(&self, config: &GmmConfig) -> bool {
        fn numeric<T: PartialOrd + Copy>(d: &Dimension<T>, v: T) -> bool {
            match d {
                Dimension::Fixed(x) => *x == v,
                Dimension::Choices(xs) => xs.contains(&v),
                Dimension::Range(r) => r.low <= v && v <= r.high,
            }
        }
        fn categorical<T: PartialEq>(d: &Choice<T>, v: T) -> bool {
            match d {
                Choice::Fixed(x) => *x == v,
                Choice::Choices(xs) => xs.contains(&v),
            }
        }
        numeric(&self.n_components, config.n_components)
            && categorical(&self.covariance_type, config.covariance_type)
            && numeric(&self.reg_covar, config.reg_covar)
            && categorical(&self.init, config.init)
    }

    /// Values of `n_components` on the grid: the fixed value, the list, or `grid` log- or
    /// linearly spaced points of the range rounded to integers and deduplicated.
    pub fn grid_n_components(&self) -> Result<Vec<usize>, SearchError> {
        Ok(match &self.n_components {
            Dimension::Fixed(v) => vec![*v],
            Dimension::Choices(vs) => vs.clone(),
            Dimension::Range(r) => {
                let n = r.grid.ok_or_else(|| missing_grid("space.n_components"))?;
                let mut out: Vec<usize> = spaced(r.low as f64, r.high as f64, r.log, n)
                    .into_iter()
                    .map(|x| (x.round_ties_even() as usize).clamp(r.low, r.high))
                    .collect();
                out.dedup();
                out
            }
        })
    }

    /// Values of `reg_covar` on the grid: the fixed value, the list, or `grid` log- or linearly
    /// spaced points of the range (inner points rounded to 12 significant digits).
    pub fn grid_reg_covar(&self) -> Result<Vec<f64>, SearchError> {
        Ok(match &self.reg_covar {
            Dimension::Fixed(v) => vec![*v],
            Dimension::Choices(vs) => vs.clone(),
            Dimension::Range(r) => {
                let n = r.grid.ok_or_else(|| missing_grid("space.reg_covar"))?;
                let mut out = spaced(r.low, r.high, r.log, n);
                out.dedup();
                out
            }
        })
    }

    /// Covariance types on the grid, cheapest first.
    pub fn grid_covariance_type(&self) -> Vec<CovarianceType> {
        match &self.covariance_type {
            Choice::Fixed(v) => vec![*v],
            Choice::Choices(vs) => vs.clone(),
        }
    }

    /// Initialisations on the grid, cheapest first.
    pub fn grid_init(&self) -> Vec<InitMethod> {
        match &self.init {
            Choice::Fixed(v) => vec![*v],
            Choice::Choices(vs) => vs.clone(),
        }
    }

    /// A configuration with every fixed dimension set and the others at their lowest value.
    pub(crate) fn base_config(&self) -> GmmConfig {
        GmmConfig {
            n_components: match &self.n_components {
                Dimension::Fixed(v) => *v,
                Dimension::Choices(vs) => vs[0],
                Dimension::Range(r) => r.low,
            },
            covariance_type: match &self.covariance_type {
                Choice::Fixed(v) => *v,
                Choice::Choices(vs) => vs[0],
            },
            reg_covar: match &self.reg_covar {
                Dimension::Fixed(v) => *v,
                Dimension::Choices(vs) => vs[0],
                Dimension::Range(r) => r.low,
            },
            init: match &self.init {
                Choice::Fixed(v) => *v,
                Choice::Choices(vs) => vs[0],
            },
        }
    }

    /// The searched dimensions, in the order n_components, covariance_type, reg_covar, init.
    pub(crate) fn axes(&self) -> Vec<Axis> {
        let mut axes = Vec::new();
        match &self.n_components {
            Dimension::Fixed(_) => {}
            Dimension::Choices(vs) => axes.push(Axis::NComponentsList(vs.clone())),
            Dimension::Range(r) => axes.push(Axis::NComponentsRange {
                low: r.low,
                high: r.high,
                log: r.log,
            }),
        }
        if let Choice::Choices(vs) = &self.covariance_type {
            axes.push(Axis::CovarianceType(vs.clone()));
        }
        match &self.reg_covar {
            Dimension::Fixed(_) => {}
            Dimension::Choices(vs) => axes.push(Axis::RegCovarList(vs.clone())),
            Dimension::Range(r) => axes.push(Axis::RegCovarRange {
                low: r.low,
                high: r.high,
                log: r.log,
            }),
        }
        if let Choice::Choices(vs) = &self.init {
            axes.push(Axis::Init(vs.clone()));
        }
        axes
    }
}

/// Position of `value` in an ordered list, as FLAML normalises an ordered categorical:
/// `(index + 0.5) / n`.
fn ordered_position<T: PartialEq>(choices: &[T], value: &T) -> f64 {
    let index = choices.iter().position(|c| c == value).unwrap_or(0);
    (index as f64 + 0.5) / choices.len() as f64
}

/// The choice at normalised position `u`: `choices[min(n - 1, floor(u * n))]`.
fn ordered_pick<T: Copy>(choices: &[T], u: f64) -> T {
    let n = choices.len();
    let index = (u * n as f64).floor().max(0.0) as usize;
    choices[index.min(n - 1)]
}

/// Normalised position of `v` in `[low, high]` (log or linear).
fn range_position(v: f64, low: f64, high: f64, log: bool) -> f64 {
    if log {
        (v / low).ln() / (high / low).ln()
    } else {
        (v - low) / (high - low)
    }
}

/// Value at normalised position `u` of `[low, high]` (log or linear).
fn range_value(u: f64, low: f64, high: f64, log: bool) -> f64 {
    if log {
        (high / low).powf(u) * low
    } else {
        u * (high - low) + low
    }
}

/// One searched dimension, with FLAML's normalisation to `[0, 1]` (flaml/tune/space.py).
///
/// Integer ranges here have inclusive bounds: `[low, high]` is FLAML's `randint(low, high + 1)`
/// / `lograndint(low, high + 1)` (upper exclusive), whose normalisation uses `upper - 1 = high`.
/// Lists (numeric or categorical) are ordered categoricals: covariance types and
/// initialisations are ordered by cost, as FLAML orders a categorical given a cost list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Axis {
    NComponentsRange { low: usize, high: usize, log: bool },
    NComponentsList(Vec<usize>),
    CovarianceType(Vec<CovarianceType>),
    RegCovarRange { low: f64, high: f64, log: bool },
    RegCovarList(Vec<f64>),
    Init(Vec<InitMethod>),
}

impl Axis {
    /// The YAML key of the dimension.
    pub(crate) fn key(&self) -> &'static str {
        match self {
            Axis::NComponentsRange { .. } | Axis::NComponentsList(_) => "n_components",
            Axis::CovarianceType(_) => "covariance_type",
            Axis::RegCovarRange { .. } | Axis::RegCovarList(_) => "reg_covar",
            Axis::Init(_) => "init",
        }
    }

    /// The coordinate of `config` on this axis, in `[0, 1]`.
    pub(crate) fn normalize(&self, config: &GmmConfig) -> f64 {
        match self {
            Axis::NComponentsRange { low, high, log } => {
                range_position(config.n_components as f64, *low as f64, *high as f64, *log)
            }
            Axis::NComponentsList(vs) => ordered_position(vs, &config.n_components),
            Axis::CovarianceType(vs) => ordered_position(vs, &config.covariance_type),
            Axis::RegCovarRange { low, high, log } => {
                range_position(config.reg_covar, *low, *high, *log)
            }
            Axis::RegCovarList(vs) => ordered_position(vs, &config.reg_covar),
            Axis::Init(vs) => ordered_position(vs, &config.init),
        }
    }

    /// Sets this axis of `config` from coordinate `u` (integers rounded half to even, as
    /// Python's `round`).
    pub(crate) fn denormalize(&self, u: f64, config: &mut GmmConfig) {
        match self {
            Axis::NComponentsRange { low, high, log } => {
                let v = range_value(u, *low as f64, *high as f64, *log).round_ties_even();
                config.n_components = (v.max(0.0) as usize).clamp(*low, *high);
            }
            Axis::NComponentsList(vs) => config.n_components = ordered_pick(vs, u),
            Axis::CovarianceType(vs) => config.covariance_type = ordered_pick(vs, u),
            Axis::RegCovarRange { low, high, log } => {
                config.reg_covar = range_value(u, *low, *high, *log);
            }
            Axis::RegCovarList(vs) => config.reg_covar = ordered_pick(vs, u),
            Axis::Init(vs) => config.init = ordered_pick(vs, u),
        }
    }

    /// Sets this axis of `config` to a random draw from its domain: uniform over lists,
    /// uniform or log-uniform floats, uniform integers on the inclusive bounds, and for log
    /// integer ranges FLAML's `lograndint(low, high + 1)`: `floor(exp(U(ln low, ln(high + 1))))`.
    pub(crate) fn sample(&self, rng: &mut Xoshiro256PlusPlus, config: &mut GmmConfig) {
        match self {
            Axis::NComponentsRange { low, high, log } => {
                config.n_components = if *log {
                    let (a, b) = ((*low as f64).ln(), ((*high + 1) as f64).ln());
                    let v = rng.random_range(a..b).exp().floor();
                    (v as usize).clamp(*low, *high)
                } else {
                    rng.random_range(*low..=*high)
                };
            }
            Axis::NComponentsList(vs) => config.n_components = vs[rng.random_range(0..vs.len())],
            Axis::CovarianceType(vs) => config.covariance_type = vs[rng.random_range(0..vs.len())],
            Axis::RegCovarRange { low, high, log } => {
                config.reg_covar = if *log {
                    rng.random_range(low.ln()..high.ln())
                        .exp()
                        .clamp(*low, *high)
                } else {
                    rng.random_range(*low..*high)
                };
            }
            Axis::RegCovarList(vs) => config.reg_covar = vs[rng.random_range(0..vs.len())],
            Axis::Init(vs) => config.init = vs[rng.random_range(0..vs.len())],
        }
    }

    /// FLAML's fixed contribution to the step lower bound: `1 / (upper - lower)` for a
    /// uniform integer range (upper exclusive, so `1 / (high + 1 - low)` here).
    pub(crate) fn fixed_step_bound(&self) -> Option<f64> {
        match self {
            Axis::NComponentsRange {
                low,
                high,
                log: false,
            } => Some(1.0 / (*high + 1 - *low) as f64),
            _ => None,
        }
    }

    /// FLAML's contribution that depends on the incumbent value `x` of a log integer range:
    /// `ln(1 + 1/x) / ln((upper - 1) / lower)` = `ln(1 + 1/x) / ln(high / low)` here.
    pub(crate) fn incumbent_step_bound(&self, best: &GmmConfig) -> Option<f64> {
        match self {
            Axis::NComponentsRange {
                low,
                high,
                log: true,
            } => {
                let x = best.n_components as f64;
                Some((1.0 + 1.0 / x).ln() / (*high as f64 / *low as f64).ln())
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn parse(yaml: &str) -> SearchSpaceSpec {
        serde_norway::from_str(yaml).unwrap()
    }

    fn key_of(yaml: &str) -> String {
        parse(yaml).check().unwrap_err().key().to_string()
    }

    #[test]
    fn yaml_forms_parse() {
        let spec = parse(
            "n_components: [8, 2, 4]\ncovariance_type: full\nreg_covar: {low: 0.000001, high: 0.1, log: true}\ninit: [kmeans, random]\n",
        );
        let space = spec.check().unwrap();
        assert_eq!(space.n_components(), &Dimension::Choices(vec![2, 4, 8]));
        assert_eq!(
            space.covariance_type(),
            &Choice::Fixed(CovarianceType::Full)
        );
        assert_eq!(
            space.init(),
            &Choice::Choices(vec![InitMethod::Random, InitMethod::KMeans])
        );
        assert!(matches!(space.reg_covar(), Dimension::Range(r) if r.log && r.grid.is_none()));
        assert_eq!(space.tunable_count(), 3);

        let fixed = parse("n_components: 4\nreg_covar: 1e-6\n").check().unwrap();
        assert_eq!(fixed.n_components(), &Dimension::Fixed(4));
        assert_eq!(fixed.reg_covar(), &Dimension::Fixed(1e-6));
        // Missing keys take the defaults.
        assert_eq!(fixed.tunable_count(), 2);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_rejected_by_the_parser() {
        let err = serde_norway::from_str::<SearchSpaceSpec>("n_components: {low: 1, hgih: 3}\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("hgih"), "{err}");
        assert!(serde_norway::from_str::<SearchSpaceSpec>("components: 3\n").is_err());
        let err = serde_norway::from_str::<SearchSpaceSpec>("covariance_type: [ful]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("ful"), "{err}");
        assert!(serde_norway::from_str::<SearchSpaceSpec>("n_components: 2.5\n").is_err());
    }

    #[test]
    fn check_errors_name_the_key() {
        assert_eq!(
            key_of("n_components: {low: 8, high: 2}\n"),
            "space.n_components.low"
        );
        assert_eq!(key_of("n_components: 0\n"), "space.n_components");
        assert_eq!(
            key_of("n_components: {low: 0, high: 4}\n"),
            "space.n_components.low"
        );
        assert_eq!(key_of("n_components: [2, 0]\n"), "space.n_components[1]");
        assert_eq!(
            key_of("reg_covar: {low: 0.0, high: 0.1, log: true}\n"),
            "space.reg_covar.low"
        );
        assert_eq!(
            key_of("reg_covar: {low: 0.0, high: -0.1}\n"),
            "space.reg_covar.high"
        );
        assert_eq!(key_of("reg_covar: -1.0\n"), "space.reg_covar");
        assert_eq!(key_of("reg_covar: [1e-3, .nan]\n"), "space.reg_covar[1]");
        assert_eq!(key_of("init: []\n"), "space.init");
        assert_eq!(key_of("init: [kmeans, random, kmeans]\n"), "space.init[2]");
        assert_eq!(
            key_of("covariance_type: {low: spherical, high: full}\n"),
            "space.covariance_type"
        );
        assert_eq!(
            key_of("n_components: {low: 1, high: 3, grid: 0}\n"),
            "space.n_components.grid"
        );
        // high / low overflows: grid points and draws would be infinite.
        assert_eq!(
            key_of("reg_covar: {low: 1.0e-300, high: 1.0e+300, log: true, grid: 3}\n"),
            "space.reg_covar.low"
        );
        assert_eq!(
            key_of("reg_covar: {low: 1.0e-320, high: 0.1, log: true}\n"),
            "space.reg_covar.low"
        );
        let wide = parse("reg_covar: {low: 1.0e-150, high: 1.0e+150, log: true, grid: 3}\n")
            .check()
            .unwrap();
        assert!(wide.grid_reg_covar().unwrap().iter().all(|v| v.is_finite()));
        let message = parse("reg_covar: {low: 0.0, high: 0.1, log: true}\n")
            .check()
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("space.reg_covar.low: "), "{message}");
    }

    #[test]
    fn degenerate_lists_and_ranges_are_fixed() {
        let space = parse("n_components: {low: 3, high: 3}\ninit: [random]\n")
            .check()
            .unwrap();
        assert_eq!(space.n_components(), &Dimension::Fixed(3));
        assert_eq!(space.init(), &Choice::Fixed(InitMethod::Random));
        assert_eq!(space.tunable_count(), 2);
    }

    #[test]
    fn default_space_and_its_grid() {
        let space = SearchSpaceSpec::default().check().unwrap();
        assert_eq!(space, SearchSpace::default());
        assert_eq!(space.grid_n_components().unwrap(), vec![1, 2, 4, 8, 16, 32]);
        assert_eq!(
            space.grid_reg_covar().unwrap(),
            vec![1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
        );
        assert_eq!(space.grid_covariance_type(), CovarianceType::ALL.to_vec());
        assert_eq!(space.grid_init(), InitMethod::ALL.to_vec());
        assert_eq!(space.tunable_count(), 4);
    }

    #[test]
    fn integer_grids_round_and_deduplicate() {
        let space = parse("n_components: {low: 1, high: 4, log: true, grid: 6}\n")
            .check()
            .unwrap();
        // 4^(i/5) = 1, 1.32, 1.74, 2.30, 3.03, 4
        assert_eq!(space.grid_n_components().unwrap(), vec![1, 2, 3, 4]);
        let linear = parse("n_components: {low: 2, high: 10, grid: 5}\nreg_covar: {low: 0.0, high: 1.0, grid: 3}\n")
            .check()
            .unwrap();
        assert_eq!(linear.grid_n_components().unwrap(), vec![2, 4, 6, 8, 10]);
        assert_eq!(linear.grid_reg_covar().unwrap(), vec![0.0, 0.5, 1.0]);
        let err = parse("n_components: {low: 1, high: 4}\n")
            .check()
            .unwrap()
            .grid_n_components()
            .unwrap_err();
        assert_eq!(err.key(), "space.n_components.grid");
    }

    #[test]
    fn signature_distinguishes_every_field() {
        let a = GmmConfig::default();
        let mut b = a.clone();
        b.reg_covar = 1e-6 + 1e-21;
        assert_ne!(a.signature(), b.signature());
        let mut c = a.clone();
        c.init = InitMethod::KMeansPlusPlus;
        assert!(c.signature().contains("init=k-means++"));
        assert_eq!(a.signature(), a.clone().signature());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<GmmConfig>(&json).unwrap(), c);
    }

    #[test]
    fn normalisation_round_trips_and_follows_flaml() {
        let space = SearchSpace::default();
        let axes = space.axes();
        let mut config = GmmConfig {
            n_components: 8,
            covariance_type: CovarianceType::Tied,
            reg_covar: 1e-3,
            init: InitMethod::RandomFromData,
        };
        let u: Vec<f64> = axes.iter().map(|a| a.normalize(&config)).collect();
        // ln(8)/ln(32) = 0.6; (2 + 0.5)/4; ln(1e3)/ln(1e5) = 0.6; (0 + 0.5)/4
        let expected = [0.6, 0.625, 0.6, 0.125];
        for (got, want) in u.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{u:?}");
        }
        let original = config.clone();
        config = space.base_config();
        for (axis, &x) in axes.iter().zip(&u) {
            axis.denormalize(x, &mut config);
        }
        assert_eq!(config.n_components, original.n_components);
        assert_eq!(config.covariance_type, original.covariance_type);
        assert_eq!(config.init, original.init);
        assert!((config.reg_covar / original.reg_covar - 1.0).abs() < 1e-12);
        // Ordered categorical: floor(u * n), top end clipped to n - 1.
        axes[1].denormalize(1.0, &mut config);
        assert_eq!(config.covariance_type, CovarianceType::Full);
        axes[1].denormalize(0.2499, &mut config);
        assert_eq!(config.covariance_type, CovarianceType::Spherical);
        // Integer rounding is half to even, as Python's round: 32^(ln 2.5/ln 32) = 2.5 -> 2.
        axes[0].denormalize((2.5f64).ln() / 32f64.ln(), &mut config);
        assert_eq!(config.n_components, 2);
    }

    #[test]
    fn step_bounds_follow_flaml() {
        let space = parse("n_components: {low: 2, high: 9}\n").check().unwrap();
        assert_eq!(space.axes()[0].fixed_step_bound(), Some(1.0 / 8.0));
        let log = SearchSpace::default();
        let best = GmmConfig {
            n_components: 4,
            ..GmmConfig::default()
        };
        let lb = log.axes()[0].incumbent_step_bound(&best).unwrap();
        assert!((lb - (1.25f64).ln() / 32f64.ln()).abs() < 1e-15);
        assert_eq!(log.axes()[2].incumbent_step_bound(&best), None);
    }

    #[test]
    fn samples_stay_in_the_space() {
        let space = parse("n_components: {low: 3, high: 7}\n").check().unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut seen = [0usize; 8];
        for _ in 0..2000 {
            let mut c = space.base_config();
            for axis in space.axes() {
                axis.sample(&mut rng, &mut c);
            }
            assert!(space.contains(&c), "{c}");
            seen[c.n_components] += 1;
        }
        assert!(seen[3..=7].iter().all(|&n| n > 300), "{seen:?}");
    }
}
