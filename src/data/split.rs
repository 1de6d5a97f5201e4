//! Assigning rows to train, validation and test parts.
//!
//! Three methods:
//! * **stratified** (the default, for i.i.d. tables): each class (normal, anomalous) is shuffled
//!   with a seeded `Xoshiro256PlusPlus` and cut in the given proportions, so every part keeps the
//!   table's anomaly rate;
//! * **ordered** (time series): contiguous row ranges, as the HPC course protocol
//!   (train `[0, train_end)`, validation `[train_end, validation_end)`, test the rest);
//! * **column**: a `split` column of the file says where each row goes.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::error::DataError;
use super::table::SplitTag;

/// Default train fraction of a stratified split.
pub const DEFAULT_TRAIN_FRACTION: f64 = 0.6;
/// Default validation fraction of a stratified split.
pub const DEFAULT_VALIDATION_FRACTION: f64 = 0.2;

fn default_train() -> f64 {
    DEFAULT_TRAIN_FRACTION
}

fn default_validation() -> f64 {
    DEFAULT_VALIDATION_FRACTION
}

/// How rows are assigned to train, validation and test.
///
/// In YAML: `{method: stratified, train: 0.6, validation: 0.2}`,
/// `{method: ordered, train_end: 3000, validation_end: 4500}` or `{method: column}`.
///
/// ```
/// use gmmtune::data::SplitMethod;
/// let m: SplitMethod = serde_norway::from_str("{method: ordered, train_end: 3000, validation_end: 4500}").unwrap();
/// assert_eq!(m, SplitMethod::Ordered { train_end: 3000, validation_end: 4500 });
/// let d: SplitMethod = serde_norway::from_str("method: stratified").unwrap();
/// assert_eq!(d, SplitMethod::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "lowercase", deny_unknown_fields)]
pub enum SplitMethod {
    /// Per-class seeded shuffle, then `train` and `validation` fractions of each class (test gets
    /// the rest). Part sizes per class of `n` rows: `n_train = round(n·train)`,
    /// `n_train + n_validation = round(n·(train + validation))` (rounding half away from zero);
    /// then, for a class of at least 3 rows, each part is given at least one row of it (taken
    /// from the largest part). A class of 1 row goes to train; of 2 rows, one to train and one to
    /// test.
    Stratified {
        /// Fraction of each class in train, in (0, 1).
        #[serde(default = "default_train")]
        train: f64,
        /// Fraction of each class in validation, in (0, 1); `train + validation < 1`.
        #[serde(default = "default_validation")]
        validation: f64,
    },
    /// Contiguous ranges by row position: train `[0, train_end)`, validation
    /// `[train_end, validation_end)`, test `[validation_end, rows)`.
    Ordered {
        /// First row position after the train part.
        train_end: usize,
        /// First row position after the validation part.
        validation_end: usize,
    },
    /// The table's split column assigns every row; row order is kept.
    Column,
}

impl Default for SplitMethod {
    /// Stratified 0.6 / 0.2 / 0.2.
    fn default() -> Self {
        SplitMethod::Stratified {
            train: DEFAULT_TRAIN_FRACTION,
            validation: DEFAULT_VALIDATION_FRACTION,
        }
    }
}

/// Row positions of each part.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SplitIndices {
    /// Rows of the train part.
    pub train: Vec<usize>,
    /// Rows of the validation part.
    pub validation: Vec<usize>,
    /// Rows of the test part.
    pub test: Vec<usize>,
}

impl SplitMethod {
    /// Checks what can be checked without the data: fractions in range, ordered bounds in order.
    pub fn check(&self) -> Result<(), DataError> {
        match *self {
            SplitMethod::Stratified { train, validation } => {
                let ok = |f: f64| f.is_finite() && f > 0.0 && f < 1.0;
                if !ok(train) {
                    return Err(DataError::InvalidSplit {
                        reason: format!(
                            "stratified train fraction {train} must lie strictly between 0 and 1"
                        ),
                    });
                }
                if !ok(validation) {
                    return Err(DataError::InvalidSplit {
                        reason: format!(
                            "stratified validation fraction {validation} must lie strictly between 0 and 1"
                        ),
                    });
                }
                if train + validation >= 1.0 {
                    return Err(DataError::InvalidSplit {
                        reason: format!(
                            "stratified train + validation = {train} + {validation} = {} leaves nothing for test; make the sum smaller than 1",
                            train + validation
                        ),
                    });
                }
                Ok(())
            }
            SplitMethod::Ordered {
                train_end,
                validation_end,
            } => {
                if train_end == 0 {
                    return Err(DataError::InvalidSplit {
                        reason:
                            "ordered train_end = 0 leaves the train part empty; make it positive"
                                .into(),
                    });
                }
                if validation_end <= train_end {
                    return Err(DataError::InvalidSplit {
                        reason: format!(
                            "ordered bounds out of order: validation_end ({validation_end}) must be greater than train_end ({train_end})"
                        ),
                    });
                }
                Ok(())
            }
            SplitMethod::Column => Ok(()),
        }
    }

    /// Assigns rows to parts. `labels` gives the classes (for stratification and the row count);
    /// `tags` is the table's split column (needed for [`SplitMethod::Column`]); `dataset` and
    /// `source` name the data in error messages. Parts may come out empty only for the column
    /// method; the caller decides whether that is an error.
    pub fn assign(
        &self,
        labels: &[bool],
        tags: Option<&[SplitTag]>,
        seed: u64,
        dataset: &str,
        source: &str,
    ) -> Result<SplitIndices, DataError> {
        let rows = labels.len();
        match *self {
            SplitMethod::Stratified { train, validation } => {
                self.check()?;
                Ok(stratified(labels, train, validation, seed))
            }
            SplitMethod::Ordered {
                train_end,
                validation_end,
            } => {
                let bounds_error = |reason: String| DataError::OrderedBounds {
                    dataset: dataset.to_owned(),
                    source_path: source.to_owned(),
                    train_end,
                    validation_end,
                    rows,
                    reason,
                };
                if let Err(DataError::InvalidSplit { reason }) = self.check() {
                    return Err(bounds_error(reason));
                }
                if validation_end > rows {
                    return Err(bounds_error(format!(
                        "validation_end is beyond the last row; use bounds below {rows}"
                    )));
                }
                if validation_end == rows {
                    return Err(bounds_error(format!(
                        "the test part [{validation_end}, {rows}) is empty; make validation_end smaller than {rows}"
                    )));
                }
                Ok(SplitIndices {
                    train: (0..train_end).collect(),
                    validation: (train_end..validation_end).collect(),
                    test: (validation_end..rows).collect(),
                })
            }
            SplitMethod::Column => {
                let tags = tags.ok_or_else(|| DataError::MissingSplitColumn {
                    dataset: dataset.to_owned(),
                    source_path: source.to_owned(),
                })?;
                let mut indices = SplitIndices::default();
                for (row, tag) in tags.iter().enumerate() {
                    match tag {
                        SplitTag::Train => indices.train.push(row),
                        SplitTag::Validation => indices.validation.push(row),
                        SplitTag::Test => indices.test.push(row),
                    }
                }
                Ok(indices)
            }
        }
    }
}

/// Number of rows of a class of `n` rows that go to train and to validation.
///
/// Cumulative rounding (half away from zero), then at least one row per part for classes of 3
/// rows or more. A class of 1 row goes to train, a class of 2 rows to train and test.
pub fn stratified_counts(n: usize, train: f64, validation: f64) -> (usize, usize) {
    match n {
        0 => return (0, 0),
        1 => return (1, 0),
        2 => return (1, 0),
        _ => {}
    }
    let total = n as f64;
    let train_cut = ((total * train).round() as usize).min(n);
    let validation_cut = ((total * (train + validation)).round() as usize).clamp(train_cut, n);
    let mut counts = [train_cut, validation_cut - train_cut, n - validation_cut];
    for part in 0..3 {
        if counts[part] == 0 {
            // Take the row from the largest part (the first one on ties); it has at least 2.
            let largest = (0..3)
                .max_by(|&a, &b| counts[a].cmp(&counts[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            counts[largest] -= 1;
            counts[part] += 1;
        }
    }
    (counts[0], counts[1])
}

fn stratified(labels: &[bool], train: f64, validation: f64, seed: u64) -> SplitIndices {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut indices = SplitIndices::default();
    for class in [false, true] {
        let mut rows: Vec<usize> = labels
            .iter()
            .enumerate()
            .filter(|&(_, &label)| label == class)
            .map(|(row, _)| row)
            .collect();
        rows.shuffle(&mut rng);
        let (n_train, n_validation) = stratified_counts(rows.len(), train, validation);
        indices.train.extend_from_slice(&rows[..n_train]);
        indices
            .validation
            .extend_from_slice(&rows[n_train..n_train + n_validation]);
        indices
            .test
            .extend_from_slice(&rows[n_train + n_validation..]);
    }
    // Mix the classes inside each part so that neither class sits in one block.
    indices.train.shuffle(&mut rng);
    indices.validation.shuffle(&mut rng);
    indices.test.shuffle(&mut rng);
    indices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(normal: usize, anomalous: usize) -> Vec<bool> {
        let mut l = vec![false; normal];
        l.extend(std::iter::repeat_n(true, anomalous));
        l
    }

    fn count(rows: &[usize], labels: &[bool]) -> (usize, usize) {
        let anomalies = rows.iter().filter(|&&r| labels[r]).count();
        (rows.len() - anomalies, anomalies)
    }

    #[test]
    fn stratified_proportions_per_class() {
        let l = labels(1000, 50);
        let s = SplitMethod::default()
            .assign(&l, None, 7, "toy", "toy.csv")
            .unwrap();
        assert_eq!(count(&s.train, &l), (600, 30));
        assert_eq!(count(&s.validation, &l), (200, 10));
        assert_eq!(count(&s.test, &l), (200, 10));
    }

    #[test]
    fn stratified_is_a_partition() {
        let l = labels(123, 17);
        let s = SplitMethod::Stratified {
            train: 0.5,
            validation: 0.3,
        }
        .assign(&l, None, 3, "toy", "toy.csv")
        .unwrap();
        let mut all: Vec<usize> = [s.train, s.validation, s.test].concat();
        all.sort_unstable();
        assert_eq!(all, (0..140).collect::<Vec<_>>());
    }

    #[test]
    fn stratified_is_deterministic_and_seed_dependent() {
        let l = labels(200, 20);
        let m = SplitMethod::default();
        let a = m.assign(&l, None, 42, "toy", "toy.csv").unwrap();
        let b = m.assign(&l, None, 42, "toy", "toy.csv").unwrap();
        let c = m.assign(&l, None, 43, "toy", "toy.csv").unwrap();
        assert_eq!(a, b);
        assert_ne!(a.train, c.train);
    }

    #[test]
    fn stratified_mixes_classes_inside_parts() {
        let l = labels(500, 500);
        let s = SplitMethod::default()
            .assign(&l, None, 1, "toy", "toy.csv")
            .unwrap();
        let first_half = &s.train[..s.train.len() / 2];
        let anomalies = first_half.iter().filter(|&&r| l[r]).count();
        assert!(anomalies > 100 && anomalies < 200, "{anomalies}");
    }

    #[test]
    fn small_classes_reach_every_part() {
        assert_eq!(stratified_counts(3, 0.6, 0.2), (1, 1));
        assert_eq!(stratified_counts(4, 0.6, 0.2), (2, 1));
        assert_eq!(stratified_counts(5, 0.6, 0.2), (3, 1));
        assert_eq!(stratified_counts(10, 0.6, 0.2), (6, 2));
        assert_eq!(stratified_counts(2, 0.6, 0.2), (1, 0));
        assert_eq!(stratified_counts(1, 0.6, 0.2), (1, 0));
        assert_eq!(stratified_counts(0, 0.6, 0.2), (0, 0));
        // Extreme fractions still leave one row in each part.
        assert_eq!(stratified_counts(3, 0.98, 0.01), (1, 1));
        assert_eq!(stratified_counts(100, 0.98, 0.01), (98, 1));
        for n in 3..200 {
            for (t, v) in [(0.6, 0.2), (0.1, 0.1), (0.8, 0.15), (0.34, 0.33)] {
                let (a, b) = stratified_counts(n, t, v);
                assert!(a >= 1 && b >= 1 && a + b < n, "n={n} t={t} v={v}");
            }
        }
        let l = labels(97, 3);
        let s = SplitMethod::default()
            .assign(&l, None, 0, "toy", "toy.csv")
            .unwrap();
        for part in [&s.train, &s.validation, &s.test] {
            assert_eq!(count(part, &l).1, 1);
        }
    }

    #[test]
    fn bad_fractions() {
        for (t, v) in [
            (0.0, 0.2),
            (1.0, 0.2),
            (0.6, 0.0),
            (0.7, 0.3),
            (f64::NAN, 0.1),
        ] {
            let err = SplitMethod::Stratified {
                train: t,
                validation: v,
            }
            .check()
            .unwrap_err();
            assert!(matches!(err, DataError::InvalidSplit { .. }), "{err}");
        }
        let msg = SplitMethod::Stratified {
            train: 0.7,
            validation: 0.3,
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(msg.contains("leaves nothing for test"), "{msg}");
    }

    #[test]
    fn ordered_ranges() {
        let l = labels(10, 0);
        let s = SplitMethod::Ordered {
            train_end: 4,
            validation_end: 7,
        }
        .assign(&l, None, 0, "toy", "toy.csv")
        .unwrap();
        assert_eq!(s.train, [0, 1, 2, 3]);
        assert_eq!(s.validation, [4, 5, 6]);
        assert_eq!(s.test, [7, 8, 9]);
    }

    #[test]
    fn ordered_bounds_errors() {
        let l = labels(10, 0);
        let msg = |train_end, validation_end| {
            SplitMethod::Ordered {
                train_end,
                validation_end,
            }
            .assign(&l, None, 0, "toy", "toy.csv")
            .unwrap_err()
            .to_string()
        };
        let beyond = msg(4, 11);
        assert!(beyond.contains("beyond the last row"), "{beyond}");
        assert!(
            beyond.contains("10 rows") && beyond.contains("toy.csv"),
            "{beyond}"
        );
        let order = msg(6, 5);
        assert!(order.contains("out of order"), "{order}");
        assert!(msg(0, 5).contains("train part empty"));
        assert!(msg(5, 10).contains("test part [10, 10) is empty"));
    }

    #[test]
    fn column_split_keeps_order() {
        use SplitTag::*;
        let tags = [Test, Train, Validation, Train, Test];
        let s = SplitMethod::Column
            .assign(&labels(5, 0), Some(&tags), 0, "toy", "toy.csv")
            .unwrap();
        assert_eq!(s.train, [1, 3]);
        assert_eq!(s.validation, [2]);
        assert_eq!(s.test, [0, 4]);
        let err = SplitMethod::Column
            .assign(&labels(5, 0), None, 0, "toy", "toy.csv")
            .unwrap_err();
        assert!(err.to_string().contains("needs a split column"), "{err}");
    }

    #[test]
    fn yaml_forms() {
        let s: SplitMethod =
            serde_norway::from_str("{method: stratified, train: 0.5, validation: 0.25}").unwrap();
        assert_eq!(
            s,
            SplitMethod::Stratified {
                train: 0.5,
                validation: 0.25
            }
        );
        let c: SplitMethod = serde_norway::from_str("method: column").unwrap();
        assert_eq!(c, SplitMethod::Column);
        assert!(serde_norway::from_str::<SplitMethod>("{method: ordered, train_end: 3}").is_err());
        assert!(serde_norway::from_str::<SplitMethod>(
            "{method: stratified, train: 0.5, valid: 0.2}"
        )
        .is_err());
        assert!(serde_norway::from_str::<SplitMethod>("{method: random}").is_err());
        let text = serde_norway::to_string(&SplitMethod::Ordered {
            train_end: 3000,
            validation_end: 4500,
        })
        .unwrap();
        assert!(text.contains("method: ordered"), "{text}");
    }
}
