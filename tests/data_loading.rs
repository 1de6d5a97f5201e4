//! End-to-end tests of the data layer: fixture files (plain and gzip, good and bad), the shipped
//! dataset registry against the shipped files, and the HPC course protocol.

use std::path::{Path, PathBuf};

use gmmtune::data::{
    prepare, read_header, read_table, DataError, Protocol, ReadOptions, Registry, SplitMethod,
    SplitTag, Standardizer, TrainOn,
};
use ndarray::Array2;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/data").join(name)
}

fn read_err(name: &str, options: &ReadOptions) -> (DataError, String) {
    let err = read_table(&fixture(name), options).expect_err(name);
    let msg = err.to_string();
    (err, msg)
}

/// Asserts that `msg` contains every needle.
fn assert_mentions(msg: &str, needles: &[&str]) {
    for needle in needles {
        assert!(msg.contains(needle), "`{needle}` missing from: {msg}");
    }
}

// ---------------------------------------------------------------- good inputs

#[test]
fn plain_csv_with_label() {
    let table = read_table(&fixture("good.csv"), &ReadOptions::default()).unwrap();
    assert_eq!(table.feature_names, ["x1", "x2", "x3"]);
    assert_eq!(table.features.dim(), (10, 3));
    assert_eq!(table.features[[2, 1]], 3.0);
    assert_eq!(table.features[[9, 2]], 7.0);
    assert_eq!(table.n_anomalies(), 2);
    assert!(table.labels.as_ref().unwrap()[2]);
    assert_eq!(table.split, None);
    assert!(table.source.ends_with("good.csv"));
}

#[test]
fn gzip_series_with_excluded_timestamp_and_multi_valued_label() {
    let options = ReadOptions {
        label_column: Some("anomaly".into()),
        require_label: true,
        exclude_columns: vec!["timestamp".into()],
        ..ReadOptions::default()
    };
    let table = read_table(&fixture("series.csv.gz"), &options).unwrap();
    assert_eq!(table.feature_names, ["load", "temp"]);
    assert_eq!(table.n_rows(), 8);
    // anomaly values 0, 1 and 2: any non-zero value is an anomaly.
    assert_eq!(
        table.labels.unwrap(),
        [false, false, false, false, true, false, true, false]
    );
    assert_eq!(table.features[[4, 1]], 25.0);
}

#[test]
fn split_column_is_read_and_used() {
    let table = read_table(&fixture("with_split.csv"), &ReadOptions::default()).unwrap();
    assert_eq!(table.feature_names, ["a", "b"]);
    use SplitTag::*;
    assert_eq!(
        table.split.as_deref().unwrap(),
        [Train, Train, Train, Train, Validation, Validation, Test, Test]
    );
    let protocol = Protocol {
        split: SplitMethod::Column,
        train_on: TrainOn::Normal,
    };
    let prepared = prepare(&table, "with_split", &protocol, 0).unwrap();
    assert_eq!(prepared.train.rows, [0, 1, 2, 3]);
    assert_eq!(prepared.validation.rows, [4, 5]);
    assert_eq!(prepared.test.rows, [6, 7]);
    // Fit on the three normal train rows: a = 1, 2, 3.
    assert_eq!(prepared.fit_rows.nrows(), 3);
    assert_eq!(prepared.standardizer.mean, [2.0, 20.0]);
    let std = (2.0f64 / 3.0).sqrt();
    assert!((prepared.standardizer.scale[0] - std).abs() < 1e-15);
    assert!((prepared.test.x[[1, 0]] - (8.0 - 2.0) / std).abs() < 1e-12);
    assert_eq!(prepared.test.labels, [false, true]);
}

#[test]
fn split_column_can_be_ignored() {
    let options = ReadOptions {
        split_column: None,
        exclude_columns: vec!["split".into()],
        ..ReadOptions::default()
    };
    let table = read_table(&fixture("with_split.csv"), &options).unwrap();
    assert_eq!(table.split, None);
    assert_eq!(table.feature_names, ["a", "b"]);
}

#[test]
fn other_label_name() {
    let options = ReadOptions {
        label_column: Some("target".into()),
        require_label: true,
        ..ReadOptions::default()
    };
    let table = read_table(&fixture("other_label_name.csv"), &options).unwrap();
    assert_eq!(table.labels, Some(vec![false, true]));
}

#[test]
fn header_of_gzip_file() {
    assert_eq!(
        read_header(&fixture("series.csv.gz")).unwrap(),
        ["timestamp", "load", "temp", "anomaly"]
    );
}

// ---------------------------------------------------------------- bad inputs

#[test]
fn missing_file() {
    let (err, msg) = read_err("does_not_exist.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::FileNotFound { .. }));
    assert_mentions(&msg, &["does_not_exist.csv", "file not found"]);
}

#[test]
fn empty_file() {
    let (err, msg) = read_err("empty.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::EmptyFile { .. }));
    assert_mentions(&msg, &["empty.csv", "empty", "header"]);
}

#[test]
fn header_only_file() {
    let (err, msg) = read_err("header_only.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::NoDataRows { .. }));
    assert_mentions(&msg, &["header_only.csv", "no data rows"]);
}

#[test]
fn no_header() {
    let (err, msg) = read_err("no_header.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::MissingHeader { .. }));
    assert_mentions(
        &msg,
        &[
            "no_header.csv",
            "line 1",
            "no header",
            "0.1,0.2,0",
            "add a header",
        ],
    );
}

#[test]
fn duplicate_columns() {
    let (err, msg) = read_err("duplicate_columns.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::DuplicateColumn { .. }));
    assert_mentions(
        &msg,
        &[
            "duplicate_columns.csv",
            "line 1",
            "`a`",
            "columns 1 and 3",
            "rename",
        ],
    );
}

#[test]
fn required_label_missing_lists_columns() {
    let options = ReadOptions {
        require_label: true,
        ..ReadOptions::default()
    };
    let (err, msg) = read_err("other_label_name.csv", &options);
    assert!(matches!(err, DataError::MissingLabelColumn { .. }));
    assert_mentions(&msg, &["other_label_name.csv", "`label`", "a, b, target"]);
}

#[test]
fn excluded_column_not_found() {
    let options = ReadOptions {
        exclude_columns: vec!["timestamp".into()],
        ..ReadOptions::default()
    };
    let (err, msg) = read_err("good.csv", &options);
    assert!(matches!(err, DataError::ExcludedColumnNotFound { .. }));
    assert_mentions(
        &msg,
        &[
            "good.csv",
            "`timestamp`",
            "x1, x2, x3, label",
            "exclude_columns",
        ],
    );
}

#[test]
fn timestamp_not_excluded_is_a_non_numeric_cell() {
    let options = ReadOptions {
        label_column: Some("anomaly".into()),
        ..ReadOptions::default()
    };
    let (_, msg) = read_err("series.csv.gz", &options);
    assert_mentions(
        &msg,
        &[
            "series.csv.gz",
            "line 2",
            "`timestamp`",
            "\"2024-01-01 00:00:00\"",
            "exclude_columns",
        ],
    );
}

#[test]
fn non_numeric_cell() {
    let (err, msg) = read_err("non_numeric.csv", &ReadOptions::default());
    assert!(matches!(err, DataError::InvalidCell { line: 4, .. }));
    assert_mentions(
        &msg,
        &[
            "non_numeric.csv",
            "line 4",
            "column `b`",
            "\"abc\"",
            "not a number",
        ],
    );
}

#[test]
fn empty_cell() {
    let (_, msg) = read_err("empty_cell.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &["empty_cell.csv", "line 3", "column `b`", "empty cell"],
    );
}

#[test]
fn nan_cell() {
    let (_, msg) = read_err("nan_cell.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &["nan_cell.csv", "line 4", "column `a`", "\"nan\"", "NaN"],
    );
}

#[test]
fn infinite_cell() {
    let (_, msg) = read_err("inf_cell.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &[
            "inf_cell.csv",
            "line 3",
            "column `b`",
            "\"inf\"",
            "infinite",
        ],
    );
}

#[test]
fn bad_label_cell() {
    let (_, msg) = read_err("bad_label.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &["bad_label.csv", "line 3", "column `label`", "\"maybe\""],
    );
}

#[test]
fn line_numbers_with_crlf_and_blank_lines() {
    let (_, msg) = read_err("crlf_blank_line.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &["crlf_blank_line.csv", "line 4", "column `b`", "\"oops\""],
    );
}

#[test]
fn ragged_row() {
    let (err, msg) = read_err("ragged.csv", &ReadOptions::default());
    assert!(matches!(
        err,
        DataError::RaggedRow {
            line: 5,
            expected: 3,
            found: 2,
            ..
        }
    ));
    assert_mentions(
        &msg,
        &["ragged.csv", "line 5", "expected 3 fields", "found 2"],
    );
}

#[test]
fn bad_split_value() {
    let (_, msg) = read_err("bad_split.csv", &ReadOptions::default());
    assert_mentions(
        &msg,
        &[
            "bad_split.csv",
            "line 3",
            "column `split`",
            "\"holdout\"",
            "train, validation",
        ],
    );
}

#[test]
fn truncated_gzip() {
    let (err, msg) = read_err("truncated.csv.gz", &ReadOptions::default());
    assert!(matches!(err, DataError::Read { .. }), "{msg}");
    assert_mentions(&msg, &["truncated.csv.gz", "gzip -t"]);
}

#[test]
fn ordered_split_beyond_rows() {
    let table = read_table(&fixture("good.csv"), &ReadOptions::default()).unwrap();
    let protocol = Protocol {
        split: SplitMethod::Ordered {
            train_end: 5,
            validation_end: 12,
        },
        train_on: TrainOn::Normal,
    };
    let msg = prepare(&table, "good", &protocol, 0)
        .unwrap_err()
        .to_string();
    assert_mentions(
        &msg,
        &[
            "`good`",
            "good.csv",
            "validation_end = 12",
            "10 rows",
            "beyond",
        ],
    );
    let protocol = Protocol {
        split: SplitMethod::Ordered {
            train_end: 8,
            validation_end: 4,
        },
        train_on: TrainOn::Normal,
    };
    let msg = prepare(&table, "good", &protocol, 0)
        .unwrap_err()
        .to_string();
    assert_mentions(&msg, &["good.csv", "out of order"]);
}

#[test]
fn column_split_without_split_column() {
    let table = read_table(&fixture("good.csv"), &ReadOptions::default()).unwrap();
    let protocol = Protocol {
        split: SplitMethod::Column,
        train_on: TrainOn::All,
    };
    let msg = prepare(&table, "good", &protocol, 0)
        .unwrap_err()
        .to_string();
    assert_mentions(&msg, &["`good`", "good.csv", "needs a split column"]);
}

#[test]
fn stratified_split_of_small_fixture() {
    let table = read_table(&fixture("good.csv"), &ReadOptions::default()).unwrap();
    let prepared = prepare(&table, "good", &Protocol::default(), 3).unwrap();
    // 8 normal rows: 5 / 1 / 2 (round(4.8) = 5, round(6.4) = 6); 2 anomalies: train and test.
    assert_eq!(prepared.train.len(), 6);
    assert_eq!(prepared.validation.len(), 1);
    assert_eq!(prepared.test.len(), 3);
    assert_eq!(prepared.train.n_anomalies(), 1);
    assert_eq!(prepared.validation.n_anomalies(), 0);
    assert_eq!(prepared.test.n_anomalies(), 1);
    assert_eq!(prepared.fit_rows.nrows(), 5);
}

// ---------------------------------------------------------------- standardiser vs scikit-learn

#[test]
fn standardizer_matches_scikit_learn() {
    #[derive(serde::Deserialize)]
    struct Fixture {
        fit: Vec<Vec<f64>>,
        mean: Vec<f64>,
        scale: Vec<f64>,
        other: Vec<Vec<f64>>,
        other_transformed: Vec<Vec<f64>>,
    }
    let text = std::fs::read_to_string(fixture("standardizer_sklearn.json")).unwrap();
    let f: Fixture = serde_json::from_str(&text).unwrap();
    let matrix = |rows: &[Vec<f64>]| {
        Array2::from_shape_vec(
            (rows.len(), rows[0].len()),
            rows.iter().flatten().copied().collect(),
        )
        .unwrap()
    };
    let s = Standardizer::fit(matrix(&f.fit).view());
    for j in 0..f.mean.len() {
        let tol = 1e-12 * f.mean[j].abs().max(1.0);
        assert!(
            (s.mean[j] - f.mean[j]).abs() <= tol,
            "mean {j}: {} vs {}",
            s.mean[j],
            f.mean[j]
        );
        assert!(
            (s.scale[j] - f.scale[j]).abs() <= 1e-7 * f.scale[j],
            "scale {j}: {} vs {}",
            s.scale[j],
            f.scale[j]
        );
    }
    assert_eq!(s.scale[1], 1.0, "the constant column is left unscaled");
    let z = s.transform(matrix(&f.other).view()).unwrap();
    let expected = matrix(&f.other_transformed);
    for (a, b) in z.iter().zip(expected.iter()) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
}

// ---------------------------------------------------------------- shipped datasets

fn registry() -> Registry {
    Registry::load(&repo().join("datasets/registry.yaml")).unwrap()
}

/// Files too large to parse in every test run; only their header is checked here. The full
/// check of these three is `registry_matches_largest_files` (ignored by default; run it with
/// `cargo test --release --test data_loading -- --ignored`).
const LARGEST: [&str; 3] = ["http", "celeba", "skin"];

fn check_entry_against_file(registry: &Registry, name: &str) {
    let entry = registry.get(name).unwrap();
    let table = registry.read(name).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(table.n_rows(), entry.rows, "{name}: rows");
    assert_eq!(table.n_features(), entry.features, "{name}: features");
    let pct = 100.0 * table.n_anomalies() as f64 / table.n_rows() as f64;
    assert!(
        (pct - entry.anomaly_pct).abs() < 1e-4,
        "{name}: anomaly_pct {pct} vs recorded {}",
        entry.anomaly_pct
    );
}

#[test]
fn registry_matches_files() {
    let registry = registry();
    assert_eq!(registry.entries().len(), 35);
    for entry in registry.entries() {
        let path = registry.resolve_path(entry);
        assert!(
            path.exists(),
            "{}: {} is missing",
            entry.name,
            path.display()
        );
        assert!(!entry.source.is_empty() && !entry.licence.is_empty() && !entry.family.is_empty());
        if LARGEST.contains(&entry.name.as_str()) {
            // Header only (see LARGEST): label present, exclusions present, feature count.
            let header = read_header(&path).unwrap();
            assert!(header.contains(&entry.label_column), "{}", entry.name);
            for column in &entry.exclude_columns {
                assert!(header.contains(column), "{}: {column}", entry.name);
            }
            assert_eq!(
                header.len() - 1 - entry.exclude_columns.len(),
                entry.features,
                "{}: features",
                entry.name
            );
        } else {
            check_entry_against_file(&registry, &entry.name);
        }
    }
    let ordered: Vec<&str> = registry
        .entries()
        .iter()
        .filter(|e| e.ordered)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(ordered, ["hpc", "nyc_taxi"]);
    assert_eq!(
        registry.get("satimage_2").unwrap().family,
        "statlog_landsat"
    );
    assert_eq!(registry.get("smtp").unwrap().family, "kdd_cup_99");
    assert_eq!(registry.get("glass").unwrap().family, "glass");
}

#[test]
#[ignore = "parses the three largest files (about 1 million rows); run with --ignored, in release"]
fn registry_matches_largest_files() {
    let registry = registry();
    for name in LARGEST {
        let start = std::time::Instant::now();
        check_entry_against_file(&registry, name);
        eprintln!("{name}: read and checked in {:.2?}", start.elapsed());
    }
}

#[test]
fn nyc_taxi_labels_cover_the_five_windows() {
    let registry = registry();
    let table = registry.read("nyc_taxi").unwrap();
    assert_eq!(table.feature_names, ["value"]);
    assert_eq!(table.n_rows(), 10_320);
    let labels = table.labels.as_deref().unwrap();
    // 5 windows of 206 half-hour rows each (begin inclusive, end exclusive).
    assert_eq!(labels.iter().filter(|&&a| a).count(), 1030);
    let runs = labels.windows(2).filter(|w| !w[0] && w[1]).count();
    assert_eq!(runs, 5);
    // First window begins 2014-10-30 15:30, row 48 * 121 + 31 = 5839 (from 2014-07-01 00:00).
    assert!(!labels[5838] && labels[5839]);
    // Course split by time: 2014-10-24 00:00 is row 5520, 2014-12-10 00:00 is row 7776.
    let protocol = Protocol {
        split: SplitMethod::Ordered {
            train_end: 5520,
            validation_end: 7776,
        },
        train_on: TrainOn::Normal,
    };
    let prepared = prepare(&table, "nyc_taxi", &protocol, 0).unwrap();
    assert_eq!(prepared.train.n_anomalies(), 0);
    assert_eq!(prepared.validation.n_anomalies(), 412);
    assert_eq!(prepared.test.n_anomalies(), 618);
}

/// The HPC course protocol: train [0, 3000), validation [3000, 4500), test [4500, 6667).
#[test]
fn hpc_course_split() {
    let path = repo().join("datasets/hpc/hpc.csv.gz");
    let options = ReadOptions {
        label_column: Some("anomaly".into()),
        require_label: true,
        exclude_columns: vec!["timestamp".into()],
        ..ReadOptions::default()
    };
    let table = read_table(&path, &options).unwrap();
    assert_eq!(table.n_rows(), 6667);
    assert_eq!(table.n_features(), 159);
    assert_eq!(table.feature_names[0], "ambient_temp");
    assert_eq!(table.n_anomalies(), 1227);
    let protocol = Protocol {
        split: SplitMethod::Ordered {
            train_end: 3000,
            validation_end: 4500,
        },
        train_on: TrainOn::Normal,
    };
    let prepared = prepare(&table, "hpc", &protocol, 0).unwrap();
    assert_eq!(prepared.train.len(), 3000);
    assert_eq!(prepared.validation.len(), 1500);
    assert_eq!(prepared.test.len(), 2167);
    assert_eq!(prepared.train.n_anomalies(), 0);
    assert_eq!(prepared.validation.n_anomalies(), 428);
    assert_eq!(prepared.test.n_anomalies(), 799);
    assert_eq!(prepared.fit_rows.dim(), (3000, 159));
    assert_eq!(prepared.validation.rows.first(), Some(&3000));
    assert_eq!(prepared.test.rows.last(), Some(&6666));
    // Standardised with train statistics: the fit rows have mean 0 and (non-constant) std 1.
    for (j, column) in prepared.fit_rows.columns().into_iter().enumerate() {
        let mean = column.mean().unwrap();
        assert!(mean.abs() < 1e-9, "column {j} mean {mean}");
        if prepared.standardizer.scale[j] != 1.0 {
            let var = column.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 3000.0;
            assert!((var - 1.0).abs() < 1e-9, "column {j} var {var}");
        }
    }
    // The registry describes the same file the same way.
    let entry = registry().get("hpc").unwrap().clone();
    assert_eq!(entry.read_options(), options);
    assert!(Path::new(&table.source).ends_with("datasets/hpc/hpc.csv.gz"));
}
