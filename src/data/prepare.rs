//! From a [`Table`] to the standardised matrices a search works on.

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::error::{DataError, PartName};
use super::split::{SplitIndices, SplitMethod};
use super::standardize::Standardizer;
use super::table::Table;

/// Which training rows the mixture is fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TrainOn {
    /// Only the normal rows of the train part (semi-supervised novelty detection).
    #[default]
    Normal,
    /// Every row of the train part, anomalies included (unsupervised, contaminated).
    All,
}

/// How a dataset is split and which rows the model learns from.
///
/// ```
/// use gmmtune::data::{Protocol, SplitMethod, TrainOn};
/// let p: Protocol = serde_norway::from_str(
///     "split: {method: ordered, train_end: 3000, validation_end: 4500}\ntrain_on: all",
/// ).unwrap();
/// assert_eq!(p.split, SplitMethod::Ordered { train_end: 3000, validation_end: 4500 });
/// assert_eq!(p.train_on, TrainOn::All);
/// assert_eq!(serde_norway::from_str::<Protocol>("{}").unwrap(), Protocol::default());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Protocol {
    /// How rows are assigned to train, validation and test (default stratified 0.6 / 0.2).
    pub split: SplitMethod,
    /// Which train rows the model is fitted on (default normal rows only).
    pub train_on: TrainOn,
}

/// One part of a split, standardised.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// Standardised features, one row per element of `rows`.
    pub x: Array2<f64>,
    /// `true` for anomalies.
    pub labels: Vec<bool>,
    /// Positions of the rows in the table (ascending for ordered and column splits; a seeded
    /// random order for stratified splits).
    pub rows: Vec<usize>,
}

impl Part {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// `true` when the part has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Number of anomalous rows.
    pub fn n_anomalies(&self) -> usize {
        self.labels.iter().filter(|&&a| a).count()
    }
}

/// A dataset ready for a search: standardised fit rows and evaluation parts.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    /// Dataset name.
    pub name: String,
    /// Names of the feature columns.
    pub feature_names: Vec<String>,
    /// Standardised rows the mixture is trained on (train normal rows, or all train rows).
    pub fit_rows: Array2<f64>,
    /// Positions in `train` of the fit rows, in order: `fit_rows` is `train.x` at these rows.
    /// Lets a trial score the train part once and read the fit rows' scores from it.
    pub fit_positions_in_train: Vec<usize>,
    /// The train part (all its rows, anomalies included).
    pub train: Part,
    /// The validation part (model and threshold selection).
    pub validation: Part,
    /// The test part (final figures).
    pub test: Part,
    /// Mean and scale fitted on the unstandardised fit rows and applied to every part.
    pub standardizer: Standardizer,
    /// Whether the table had labels. Without them every `labels` entry is `false` and only
    /// label-free figures (BIC, log-likelihoods) mean anything.
    pub labelled: bool,
}

/// Splits `table` by `protocol.split`, fits a [`Standardizer`] on the fit rows (train normal rows
/// for [`TrainOn::Normal`], all train rows for [`TrainOn::All`]) and standardises every part.
///
/// `seed` drives the stratified shuffle (ignored by the other methods). A table without labels
/// is prepared as if every row were normal (so the model is fitted on every train row) and the
/// result is marked `labelled: false`. Fails when the split does not fit the table, a part is
/// empty, or there is nothing to fit on. A validation or test part without anomalies is not an
/// error.
///
/// ```
/// use gmmtune::data::{prepare, Protocol, SplitMethod, Table, TrainOn};
/// use ndarray::Array2;
/// let table = Table {
///     source: "toy.csv".into(),
///     feature_names: vec!["x".into()],
///     features: Array2::from_shape_fn((10, 1), |(i, _)| i as f64),
///     labels: Some((0..10).map(|i| i == 8).collect()),
///     split: None,
/// };
/// let protocol = Protocol {
///     split: SplitMethod::Ordered { train_end: 5, validation_end: 7 },
///     train_on: TrainOn::Normal,
/// };
/// let prepared = prepare(&table, "toy", &protocol, 0).unwrap();
/// assert_eq!(prepared.fit_rows.nrows(), 5);
/// assert_eq!(prepared.standardizer.mean, [2.0]);
/// assert_eq!(prepared.test.rows, [7, 8, 9]);
/// assert_eq!(prepared.test.n_anomalies(), 1);
/// ```
pub fn prepare(
    table: &Table,
    name: &str,
    protocol: &Protocol,
    seed: u64,
) -> Result<Prepared, DataError> {
    // Without labels every row counts as normal: the split is a seeded shuffle, the model is
    // fitted on every train row, and the label-based figures are left out by the caller.
    let unlabelled;
    let labels = match table.labels.as_deref() {
        Some(labels) => labels,
        None => {
            unlabelled = vec![false; table.n_rows()];
            &unlabelled
        }
    };
    let rows = table.n_rows();
    check_table(table, labels, name)?;
    let indices =
        protocol
            .split
            .assign(labels, table.split.as_deref(), seed, name, &table.source)?;
    check_parts(&indices, &protocol.split, rows, name, &table.source)?;

    let fit_positions_in_train: Vec<usize> = match protocol.train_on {
        TrainOn::Normal => (0..indices.train.len())
            .filter(|&i| !labels[indices.train[i]])
            .collect(),
        TrainOn::All => (0..indices.train.len()).collect(),
    };
    let fit_positions: Vec<usize> = fit_positions_in_train
        .iter()
        .map(|&i| indices.train[i])
        .collect();
    if fit_positions.is_empty() {
        return Err(DataError::NoNormalTrainRows {
            dataset: name.to_owned(),
            source_path: table.source.clone(),
            train_rows: indices.train.len(),
        });
    }
    let raw_fit = table.features.select(Axis(0), &fit_positions);
    let standardizer = Standardizer::fit(raw_fit.view());
    let fit_rows = standardizer.transform(raw_fit.view())?;
    let part = |rows: Vec<usize>| -> Result<Part, DataError> {
        let x = standardizer.transform(table.features.select(Axis(0), &rows).view())?;
        let part_labels = rows.iter().map(|&row| labels[row]).collect();
        Ok(Part {
            x,
            labels: part_labels,
            rows,
        })
    };
    let SplitIndices {
        train,
        validation,
        test,
    } = indices;
    Ok(Prepared {
        name: name.to_owned(),
        feature_names: table.feature_names.clone(),
        fit_rows,
        fit_positions_in_train,
        train: part(train)?,
        validation: part(validation)?,
        test: part(test)?,
        standardizer,
        labelled: table.labels.is_some(),
    })
}

/// Guards against hand-built tables whose fields disagree in length.
fn check_table(table: &Table, labels: &[bool], name: &str) -> Result<(), DataError> {
    let rows = table.n_rows();
    let mut problems = Vec::new();
    if labels.len() != rows {
        problems.push(format!("{} labels for {rows} rows", labels.len()));
    }
    if let Some(split) = &table.split
        && split.len() != rows
    {
        problems.push(format!("{} split tags for {rows} rows", split.len()));
    }
    if table.feature_names.len() != table.n_features() {
        problems.push(format!(
            "{} feature names for {} feature columns",
            table.feature_names.len(),
            table.n_features()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DataError::InconsistentTable {
            dataset: name.to_owned(),
            source_path: table.source.clone(),
            reason: problems.join(", "),
        })
    }
}

fn check_parts(
    indices: &SplitIndices,
    method: &SplitMethod,
    rows: usize,
    name: &str,
    source: &str,
) -> Result<(), DataError> {
    for (part, positions) in [
        (PartName::Train, &indices.train),
        (PartName::Validation, &indices.validation),
        (PartName::Test, &indices.test),
    ] {
        if positions.is_empty() {
            let hint = match method {
                SplitMethod::Column => format!("tag some rows `{part}` in the split column"),
                SplitMethod::Ordered { .. } => "move the ordered bounds".to_owned(),
                SplitMethod::Stratified { .. } => {
                    "the table is too small for a three-way split; add rows or change the fractions"
                        .to_owned()
                }
            };
            return Err(DataError::EmptyPart {
                dataset: name.to_owned(),
                source_path: source.to_owned(),
                part,
                rows,
                hint,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SplitTag;
    use ndarray::Array2;

    fn table(n: usize, anomalous: impl Fn(usize) -> bool) -> Table {
        Table {
            source: "mem.csv".into(),
            feature_names: vec!["a".into(), "b".into()],
            features: Array2::from_shape_fn((n, 2), |(i, j)| (i * (j + 1)) as f64),
            labels: Some((0..n).map(anomalous).collect()),
            split: None,
        }
    }

    #[test]
    fn normal_fit_rows_are_standardised_train_normals() {
        let t = table(100, |i| i % 10 == 0);
        let p = prepare(&t, "toy", &Protocol::default(), 5).unwrap();
        assert_eq!(p.train.len(), 60);
        assert_eq!(p.validation.len(), 20);
        assert_eq!(p.test.len(), 20);
        assert_eq!(p.train.n_anomalies(), 6);
        assert_eq!(p.fit_rows.nrows(), 54);
        assert_eq!(
            p.fit_rows,
            p.train.x.select(Axis(0), &p.fit_positions_in_train)
        );
        assert!(p.fit_positions_in_train.iter().all(|&i| !p.train.labels[i]));
        for column in p.fit_rows.axis_iter(Axis(1)) {
            assert!(column.mean().unwrap().abs() < 1e-12);
        }
        // Every part uses the fit rows' statistics.
        for part in [&p.train, &p.validation, &p.test] {
            for (k, &row) in part.rows.iter().enumerate() {
                let expected = (row as f64 - p.standardizer.mean[0]) / p.standardizer.scale[0];
                assert!((part.x[[k, 0]] - expected).abs() < 1e-12);
                assert_eq!(part.labels[k], row % 10 == 0);
            }
        }
    }

    #[test]
    fn train_on_all_keeps_anomalies() {
        let t = table(100, |i| i % 10 == 0);
        let protocol = Protocol {
            train_on: TrainOn::All,
            ..Protocol::default()
        };
        let p = prepare(&t, "toy", &protocol, 5).unwrap();
        assert_eq!(p.fit_rows.nrows(), 60);
        assert_eq!(p.fit_rows, p.train.x);
        assert_eq!(p.fit_positions_in_train, (0..60).collect::<Vec<_>>());
    }

    #[test]
    fn ordered_parts_keep_row_order() {
        let t = table(20, |i| i >= 15);
        let protocol = Protocol {
            split: SplitMethod::Ordered {
                train_end: 10,
                validation_end: 14,
            },
            train_on: TrainOn::Normal,
        };
        let p = prepare(&t, "toy", &protocol, 0).unwrap();
        assert_eq!(p.train.rows, (0..10).collect::<Vec<_>>());
        assert_eq!(p.validation.rows, [10, 11, 12, 13]);
        assert_eq!(p.test.rows, (14..20).collect::<Vec<_>>());
        // No anomalies in validation is allowed.
        assert_eq!(p.validation.n_anomalies(), 0);
        assert_eq!(p.test.n_anomalies(), 5);
        assert_eq!(p.standardizer.mean, [4.5, 9.0]);
    }

    #[test]
    fn no_normal_train_rows() {
        let t = table(20, |i| i < 10);
        let protocol = Protocol {
            split: SplitMethod::Ordered {
                train_end: 10,
                validation_end: 15,
            },
            train_on: TrainOn::Normal,
        };
        let msg = prepare(&t, "toy", &protocol, 0).unwrap_err().to_string();
        assert!(msg.contains("none is normal"), "{msg}");
        assert!(msg.contains("`toy`") && msg.contains("mem.csv"), "{msg}");
        let all = Protocol {
            train_on: TrainOn::All,
            ..protocol
        };
        assert!(prepare(&t, "toy", &all, 0).is_ok());
    }

    #[test]
    fn empty_parts_are_errors() {
        let mut t = table(4, |_| false);
        t.split = Some(vec![
            SplitTag::Train,
            SplitTag::Train,
            SplitTag::Test,
            SplitTag::Test,
        ]);
        let protocol = Protocol {
            split: SplitMethod::Column,
            train_on: TrainOn::Normal,
        };
        let msg = prepare(&t, "toy", &protocol, 0).unwrap_err().to_string();
        assert!(msg.contains("the validation part has no rows"), "{msg}");
        let tiny = table(2, |_| false);
        let msg = prepare(&tiny, "tiny", &Protocol::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("part has no rows"), "{msg}");
    }

    #[test]
    fn inconsistent_tables_are_rejected() {
        let mut t = table(10, |_| false);
        t.labels = Some(vec![false; 12]);
        t.feature_names.pop();
        let msg = prepare(&t, "toy", &Protocol::default(), 0)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("12 labels for 10 rows"), "{msg}");
        assert!(
            msg.contains("1 feature names for 2 feature columns"),
            "{msg}"
        );
    }

    #[test]
    fn unlabelled_tables_fit_on_every_train_row() {
        let mut t = table(10, |_| false);
        t.labels = None;
        let p = prepare(&t, "toy", &Protocol::default(), 0).unwrap();
        assert!(!p.labelled);
        assert_eq!(p.fit_rows.nrows(), p.train.len());
        assert!(p.validation.labels.iter().all(|&a| !a));
        let labelled = prepare(&table(10, |_| false), "toy", &Protocol::default(), 0).unwrap();
        assert!(labelled.labelled);
    }

    #[test]
    fn same_seed_same_preparation() {
        let t = table(50, |i| i % 7 == 0);
        let a = prepare(&t, "toy", &Protocol::default(), 11).unwrap();
        let b = prepare(&t, "toy", &Protocol::default(), 11).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn protocol_yaml() {
        let p: Protocol =
            serde_norway::from_str("split: {method: stratified, train: 0.5, validation: 0.3}")
                .unwrap();
        assert_eq!(p.train_on, TrainOn::Normal);
        assert_eq!(
            p.split,
            SplitMethod::Stratified {
                train: 0.5,
                validation: 0.3
            }
        );
        let c: Protocol =
            serde_norway::from_str("split: {method: column}\ntrain_on: normal").unwrap();
        assert_eq!(c.split, SplitMethod::Column);
        assert!(serde_norway::from_str::<Protocol>("train_on: some").is_err());
        assert!(serde_norway::from_str::<Protocol>("splitting: {method: column}").is_err());
        let back: Protocol = serde_norway::from_str(&serde_norway::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }
}
