//! The model explorer against scikit-learn fixtures (PCA, the selection table), ellipse
//! geometry for the four covariance types, the charts of a model, and the commands' errors.

use std::path::Path;
use std::process::Command;

use gmmtune::data::{read_table, ReadOptions, Standardizer};
use gmmtune::explore::{
    component_covariance, model_views, select, Criterion, Pca, PlotSpace, SelectSettings,
    ThresholdRule, Units, ViewInput, ViewOptions,
};
use gmmtune::gmm::{CovarianceType, GmmParams, InitMethod};
use gmmtune::gmm_config::FitSettings;
use gmmtune::model_file::ModelFile;
use gmmtune::plot::covariance_ellipse;
use ndarray::{array, Array2};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/explore");
const TYPES: [CovarianceType; 4] = [
    CovarianceType::Full,
    CovarianceType::Tied,
    CovarianceType::Diag,
    CovarianceType::Spherical,
];

fn fixture(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap()).unwrap()
}

fn features(name: &str) -> Array2<f64> {
    let options = ReadOptions {
        label_column: None,
        ..ReadOptions::default()
    };
    read_table(&Path::new(FIXTURES).join(name), &options)
        .unwrap()
        .features
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1.0)
}

#[test]
fn pca_matches_scikit_learn() {
    let x = features("pca5.csv");
    let expected = &fixture("pca.json")["pca"];
    let pca = Pca::fit(x.view(), 2).unwrap();
    for (got, want) in pca.mean.iter().zip(floats(&expected["mean"])) {
        assert!(close(*got, want, 1e-12), "mean {got} vs {want}");
    }
    for (c, row) in expected["components"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (j, want) in floats(row).into_iter().enumerate() {
            assert!(
                close(pca.components[(c, j)], want, 1e-10),
                "component {c},{j}: {} vs {want}",
                pca.components[(c, j)]
            );
        }
    }
    for (got, want) in pca
        .explained_variance
        .iter()
        .zip(floats(&expected["explained_variance"]))
    {
        assert!(close(*got, want, 1e-10), "variance {got} vs {want}");
    }
    for (got, want) in pca
        .explained_variance_ratio
        .iter()
        .zip(floats(&expected["explained_variance_ratio"]))
    {
        assert!(close(*got, want, 1e-10), "ratio {got} vs {want}");
    }
    let z = pca.transform(x.slice(ndarray::s![..5, ..]));
    for (i, row) in expected["transformed_head"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (j, want) in floats(row).into_iter().enumerate() {
            assert!(close(z[(i, j)], want, 1e-10), "transform {i},{j}");
        }
    }
}

fn fixture_settings(n_components: Vec<usize>) -> SelectSettings {
    SelectSettings {
        n_components,
        covariance_types: TYPES.to_vec(),
        reg_covar: 1e-6,
        init: InitMethod::KMeans,
        fit: FitSettings {
            max_iter: 2000,
            tol: 1e-10,
            n_init: 1,
        },
        seed: 0,
        cv_folds: 5,
    }
}

#[test]
fn selection_table_matches_scikit_learn() {
    let x = features("blobs.csv");
    let names = vec!["a".to_string(), "b".to_string()];
    let selection = select(x.view(), &names, &fixture_settings(vec![1, 2, 3])).unwrap();
    let expected = fixture("selection.json");
    let rows = expected["rows"].as_array().unwrap();
    assert_eq!(selection.rows.len(), rows.len());
    for (got, want) in selection.rows.iter().zip(rows) {
        let label = format!(
            "{} {}",
            got.candidate.n_components, got.candidate.covariance_type
        );
        assert_eq!(
            got.candidate.n_components as u64,
            want["n_components"].as_u64().unwrap()
        );
        assert_eq!(
            got.candidate.covariance_type.as_str(),
            want["covariance_type"].as_str().unwrap()
        );
        assert_eq!(
            got.n_parameters as u64,
            want["n_parameters"].as_u64().unwrap(),
            "{label}"
        );
        for (name, value) in [
            ("log_likelihood", got.log_likelihood),
            ("bic", got.bic),
            ("aic", got.aic),
            ("cv_loglik", got.cv_loglik),
        ] {
            let w = want[name].as_f64().unwrap();
            assert!(
                close(value, w, 1e-6),
                "{label} {name}: {value} vs scikit-learn {w}"
            );
        }
    }
    let best = selection.best(Criterion::Bic).unwrap();
    assert_eq!(selection.rows[best].candidate.n_components, 3);
    let figures = selection.figures("blobs", 5).unwrap();
    assert_eq!(
        figures.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["bic", "aic", "cv_loglik"]
    );
    for f in &figures {
        // Four covariance types (lines and legend swatches) and the ringed best candidate.
        assert!(f.svg.matches("<polyline").count() >= 8, "{}", f.name);
        assert!(
            f.svg.contains("\nspherical\n") && f.svg.contains("components,"),
            "{}",
            f.name
        );
    }
    let csv = selection.to_csv();
    assert_eq!(csv.lines().count(), 1 + 12);
}

#[test]
fn bad_candidates_are_clear_errors() {
    let x = features("blobs.csv");
    let names = vec!["a".to_string(), "b".to_string()];
    let err = |sizes: Vec<usize>| {
        select(x.view(), &names, &fixture_settings(sizes))
            .unwrap_err()
            .to_string()
    };
    assert!(err(vec![]).contains("no candidate"));
    assert!(err(vec![0, 1]).contains("at least 1 component"));
    assert!(err(vec![1, 500]).contains("too many for 150 rows"));
    let mut constant = x.clone();
    constant.column_mut(1).fill(4.0);
    let e = select(constant.view(), &names, &fixture_settings(vec![1]))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column `b` is constant") && e.contains("--exclude b"),
        "{e}"
    );
}

/// Three clusters with different shapes (and scales per feature).
fn clusters() -> Array2<f64> {
    let mut rows = Vec::new();
    for i in 0..240 {
        let t = i as f64;
        let (u, v) = ((t * 0.618).fract() - 0.5, (t * 0.382 + 0.1).fract() - 0.5);
        let (x, y) = match i % 3 {
            0 => (10.0 + 4.0 * u + 2.0 * v, 1.0 + 0.2 * u - 0.3 * v),
            1 => (30.0 + 3.0 * u, 5.0 + 0.5 * v),
            _ => (20.0 - 2.0 * v, 9.0 + 0.8 * u),
        };
        rows.extend([x, y]);
    }
    Array2::from_shape_vec((240, 2), rows).unwrap()
}

#[test]
fn ellipses_follow_each_covariance_type() {
    let x = clusters();
    for t in TYPES {
        let model = GmmParams::new(3)
            .covariance_type(t)
            .seed(0)
            .check()
            .unwrap()
            .fit(x.view())
            .unwrap();
        let file =
            ModelFile::fitted(model.clone(), vec!["a".into(), "b".into()], None, x.view()).unwrap();
        let space = PlotSpace::new(&file, x.view(), Units::Data).unwrap();
        let parts = space.project_components(&model);
        for (c, part) in parts.iter().enumerate() {
            let cov = &part.covariance;
            assert_eq!(part.mean, (model.means()[(c, 0)], model.means()[(c, 1)]));
            let sigma = component_covariance(&model, c);
            let e = covariance_ellipse(*cov, 1.0).unwrap();
            // The 1σ axes are the square roots of the covariance's eigenvalues.
            let (a, b, off) = (sigma[(0, 0)], sigma[(1, 1)], sigma[(0, 1)]);
            let disc = (((a - b) / 2.0).powi(2) + off * off).sqrt();
            assert!(
                close(e.semi_major, ((a + b) / 2.0 + disc).sqrt(), 1e-12),
                "{t}"
            );
            assert!(
                close(e.semi_minor, ((a + b) / 2.0 - disc).max(0.0).sqrt(), 1e-12),
                "{t}"
            );
            match t {
                CovarianceType::Diag => assert!(
                    e.angle == 0.0 || (e.angle.abs() - std::f64::consts::FRAC_PI_2).abs() < 1e-12,
                    "diag is axis-aligned"
                ),
                CovarianceType::Spherical => assert!(
                    close(e.semi_major, e.semi_minor, 1e-12),
                    "spherical is a circle"
                ),
                _ => {}
            }
        }
        if t == CovarianceType::Tied {
            let first = covariance_ellipse(parts[0].covariance, 1.0).unwrap();
            for part in &parts[1..] {
                let cov = &part.covariance;
                assert_eq!(
                    covariance_ellipse(*cov, 1.0).unwrap(),
                    first,
                    "tied components share one shape"
                );
            }
        }
    }
}

#[test]
fn standardised_models_are_drawn_in_data_units() {
    let x = clusters();
    let s = Standardizer::fit(x.view());
    let z = s.transform(x.view()).unwrap();
    let model = GmmParams::new(3)
        .covariance_type(CovarianceType::Spherical)
        .seed(0)
        .check()
        .unwrap()
        .fit(z.view())
        .unwrap();
    let file = ModelFile::fitted(
        model.clone(),
        vec!["a".into(), "b".into()],
        Some(s.clone()),
        z.view(),
    )
    .unwrap();
    let space = PlotSpace::new(&file, z.view(), Units::Data).unwrap();
    let p = space.project_rows(z.view())[7];
    assert!(
        close(p.0, x[(7, 0)], 1e-14) && close(p.1, x[(7, 1)], 1e-14),
        "{p:?}"
    );
    let first = &space.project_components(&model)[0];
    let (mean, cov) = (first.mean, first.covariance);
    assert!(close(
        mean.0,
        s.mean[0] + s.scale[0] * model.means()[(0, 0)],
        1e-12
    ));
    let var = component_covariance(&model, 0)[(0, 0)];
    assert!(
        close(cov[0][0], var * s.scale[0] * s.scale[0], 1e-12)
            && close(cov[1][1], var * s.scale[1] * s.scale[1], 1e-12)
    );
    let model_units = PlotSpace::new(&file, z.view(), Units::Model).unwrap();
    assert!(model_units.x_title.ends_with("(standardised)"));
    let cov = model_units.project_components(&model)[0].covariance;
    let e = covariance_ellipse(cov, 1.0).unwrap();
    assert!(
        close(e.semi_major, e.semi_minor, 1e-12),
        "a circle in the model's units"
    );
}

#[test]
fn model_views_have_their_data() {
    let x = clusters();
    let model = GmmParams::new(3)
        .seed(0)
        .check()
        .unwrap()
        .fit(x.view())
        .unwrap();
    let file = ModelFile::fitted(model, vec!["temp".into(), "vib".into()], None, x.view()).unwrap();
    let labels: Vec<bool> = (0..240).map(|i| i % 40 == 0).collect();
    let input = ViewInput {
        model: &file,
        data: x.view(),
        labels: Some(&labels),
        dataset: "clusters",
    };
    let views = model_views(
        input,
        &ViewOptions {
            threshold: "cost".parse().unwrap(),
            ..ViewOptions::default()
        },
    )
    .unwrap();
    let names: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "density",
            "components",
            "uncertainty",
            "anomalies",
            "convergence"
        ]
    );
    let svg = |name: &str| &views.iter().find(|v| v.name == name).unwrap().svg;
    let circles = |name: &str| svg(name).matches("<circle").count();
    for v in &views[..4] {
        assert!(
            v.svg.contains("clusters") && v.svg.contains("temp"),
            "{} names the data and axes",
            v.name
        );
    }
    assert!(
        svg("density").matches("<rect").count() > 100,
        "heatmap cells"
    );
    let white_lines = svg("density")
        .matches(r##"<polyline fill="none" opacity="1" stroke="#FFFFFF""##)
        .count();
    assert!(
        white_lines > 8,
        "at least one white contour per level, and the legend swatch: {white_lines}"
    );
    assert!(circles("density") >= 2 * 240, "every row, with its outline");
    assert!(svg("components").contains("component 2 (weight"));
    assert!(
        svg("components").matches("<polyline").count() >= 3,
        "1σ ellipses (2σ and 3σ are dashed)"
    );
    assert!(circles("uncertainty") >= 2 * 240 && svg("uncertainty").contains("entropy (nats)"));
    assert!(
        svg("anomalies").contains("anomaly, flagged (caught)")
            && svg("anomalies").contains("threshold boundary")
    );
    assert!(svg("anomalies").contains("cost-optimal"));
    let history = file.model.lower_bound_history().len();
    assert!(
        history >= 2 && svg("convergence").matches("<circle").count() >= history,
        "one marker per EM iteration"
    );

    let without_labels = ViewInput {
        labels: None,
        ..input
    };
    let err = model_views(
        without_labels,
        &ViewOptions {
            threshold: "cost".parse().unwrap(),
            ..ViewOptions::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs a label column"), "{err}");
    let flagged = model_views(without_labels, &ViewOptions::default()).unwrap();
    assert!(flagged[3]
        .svg
        .contains("0.99 quantile of the training scores"));
    let wide = Array2::<f64>::zeros((5, 3));
    let err = model_views(
        ViewInput {
            data: wide.view(),
            ..without_labels
        },
        &ViewOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("3 feature columns but the model was fitted on 2"),
        "{err}"
    );
}

#[test]
fn more_than_two_features_use_principal_components() {
    let x = features("pca5.csv");
    let model = GmmParams::new(2)
        .covariance_type(CovarianceType::Diag)
        .seed(0)
        .check()
        .unwrap()
        .fit(x.view())
        .unwrap();
    let names = (0..5).map(|j| format!("f{j}")).collect();
    let file = ModelFile::fitted(model, names, None, x.view()).unwrap();
    let input = ViewInput {
        model: &file,
        data: x.view(),
        labels: None,
        dataset: "five",
    };
    let views = model_views(
        input,
        &ViewOptions {
            threshold: ThresholdRule::Value(10.0),
            ..ViewOptions::default()
        },
    )
    .unwrap();
    let ratio = fixture("pca.json")["pca"]["explained_variance_ratio"][0]
        .as_f64()
        .unwrap();
    let title = format!(
        "PC1: {} % of variance",
        gmmtune::plot::format_value(100.0 * ratio, 3)
    );
    for v in &views[..4] {
        assert!(v.svg.contains(&title), "{}: {title}", v.name);
    }
    assert!(
        !views[3].svg.contains("threshold boundary"),
        "no boundary on a projection"
    );
}

fn gmmtune(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gmmtune"))
        .args(args)
        .output()
        .unwrap()
}

fn write_csv(path: &Path, x: &Array2<f64>, labels: Option<&[bool]>) {
    let mut text = String::from(if labels.is_some() {
        "temp,vib,label\n"
    } else {
        "temp,vib\n"
    });
    for (i, row) in x.rows().into_iter().enumerate() {
        text.push_str(&format!("{},{}", row[0], row[1]));
        if let Some(l) = labels {
            text.push_str(&format!(",{}", u8::from(l[i])));
        }
        text.push('\n');
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn select_plot_and_score_commands() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let labels: Vec<bool> = (0..240).map(|i| i % 40 == 0).collect();
    write_csv(&data, &clusters(), Some(&labels));
    let d = data.to_str().unwrap();
    let out = dir.path().join("select");
    let run = gmmtune(&[
        "select",
        "--data",
        d,
        "--n-components",
        "1..4",
        "--covariance-type",
        "full,spherical",
        "--criterion",
        "cv",
        "--standardize",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in [
        "selection.csv",
        "bic.svg",
        "aic.svg",
        "cv_loglik.svg",
        "model.json",
    ] {
        assert!(out.join(file).exists(), "{file}");
    }
    assert_eq!(
        std::fs::read_to_string(out.join("selection.csv"))
            .unwrap()
            .lines()
            .count(),
        1 + 8
    );
    let model = out.join("model.json");
    let m = model.to_str().unwrap();
    let plots = dir.path().join("plots");
    let run = gmmtune(&[
        "plot",
        "--model",
        m,
        "--data",
        d,
        "--threshold",
        "cost",
        "--output",
        plots.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for file in [
        "density",
        "components",
        "uncertainty",
        "anomalies",
        "convergence",
    ] {
        let svg = std::fs::read_to_string(plots.join(format!("{file}.svg"))).unwrap();
        assert!(
            svg.contains("data.csv") && svg.matches("<circle").count() > 0 || file == "convergence",
            "{file}"
        );
    }
    // Identical inputs give identical files.
    let again = dir.path().join("again");
    assert!(gmmtune(&[
        "plot",
        "--model",
        m,
        "--data",
        d,
        "--threshold",
        "cost",
        "--output",
        again.to_str().unwrap()
    ])
    .status
    .success());
    assert_eq!(
        std::fs::read(plots.join("density.svg")).unwrap(),
        std::fs::read(again.join("density.svg")).unwrap()
    );

    let scores = dir.path().join("scores.csv");
    let run = gmmtune(&[
        "score",
        "--model",
        m,
        "--data",
        d,
        "--threshold",
        "quantile:0.95",
        "--output",
        scores.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&scores).unwrap();
    assert!(text.starts_with("row,log_likelihood,anomaly_score,component,anomaly,label"));
    let flagged = text
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(4) == Some("1"))
        .count();
    assert!(
        (10..=14).contains(&flagged),
        "5 % of 240 rows above the 0.95 quantile of the same rows: {flagged}"
    );

    let unlabelled = dir.path().join("unlabelled.csv");
    write_csv(&unlabelled, &clusters(), None);
    let run = gmmtune(&[
        "score",
        "--model",
        m,
        "--data",
        unlabelled.to_str().unwrap(),
        "--threshold",
        "cost",
        "--output",
        scores.to_str().unwrap(),
    ]);
    assert!(
        !run.status.success()
            && String::from_utf8_lossy(&run.stderr).contains("needs a label column")
    );
}

#[test]
fn commands_reject_bad_input_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    write_csv(&data, &clusters(), None);
    let d = data.to_str().unwrap();
    let o = dir.path().join("o");
    let out = o.to_str().unwrap();
    let stderr = |args: &[&str]| {
        let run = gmmtune(args);
        assert!(!run.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    assert!(stderr(&[
        "select",
        "--data",
        d,
        "--n-components",
        "5..2",
        "--output",
        out
    ])
    .contains("is empty"));
    assert!(stderr(&[
        "select",
        "--data",
        d,
        "--n-components",
        "1..300",
        "--output",
        out
    ])
    .contains("too many for 240 rows"));
    let constant = dir.path().join("constant.csv");
    std::fs::write(&constant, "a,b\n1,7\n2,7\n3,7\n4,7\n5,7\n6,7\n").unwrap();
    assert!(stderr(&[
        "select",
        "--data",
        constant.to_str().unwrap(),
        "--n-components",
        "1",
        "--output",
        out
    ])
    .contains("column `b` is constant"));
    // A model of three features shown on data of two.
    let three = dir.path().join("three.csv");
    std::fs::write(&three, "x,y,z\n1,2,3\n2,1,0\n3,3,1\n0,1,2\n4,0,3\n").unwrap();
    let model = dir.path().join("m.json");
    assert!(gmmtune(&[
        "fit",
        "--data",
        three.to_str().unwrap(),
        "--output",
        model.to_str().unwrap()
    ])
    .status
    .success());
    let e = stderr(&[
        "plot",
        "--model",
        model.to_str().unwrap(),
        "--data",
        d,
        "--output",
        out,
    ]);
    assert!(
        e.contains("has features [temp, vib] but the model") && e.contains("[x, y, z]"),
        "{e}"
    );
    assert!(stderr(&[
        "score",
        "--model",
        model.to_str().unwrap(),
        "--data",
        d,
        "--threshold",
        "quantile:7",
        "--output",
        out
    ])
    .contains("quantile must be in [0, 1]"));
}

#[test]
fn fitted_model_files_record_training_quantiles() {
    let x = array![[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0], [0.5, 0.5]];
    let model = GmmParams::new(1).check().unwrap().fit(x.view()).unwrap();
    let file =
        ModelFile::fitted(model.clone(), vec!["a".into(), "b".into()], None, x.view()).unwrap();
    let q = file.training_score_quantiles.as_ref().unwrap();
    let mut scores: Vec<f64> = model
        .score_samples(x.view())
        .unwrap()
        .iter()
        .map(|l| -l)
        .collect();
    scores.sort_by(f64::total_cmp);
    assert_eq!(q.at(0.0), Some(scores[0]));
    assert_eq!(q.at(1.0), Some(scores[4]));
    assert_eq!(q.at(0.25), Some(scores[1]));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.json");
    file.save(&path).unwrap();
    assert_eq!(
        ModelFile::load(&path)
            .unwrap()
            .training_score_quantiles
            .as_ref(),
        Some(q)
    );
}

#[test]
fn large_data_is_drawn_as_a_sample() {
    let n = 12_000;
    let x = Array2::from_shape_fn((n, 2), |(i, j)| {
        ((i * (7 + 5 * j)) % 101) as f64 + (i % 3) as f64 * 50.0 * j as f64
    });
    let model = GmmParams::new(2)
        .seed(0)
        .check()
        .unwrap()
        .fit(x.view())
        .unwrap();
    let file = ModelFile::fitted(model, vec!["a".into(), "b".into()], None, x.view()).unwrap();
    let input = ViewInput {
        model: &file,
        data: x.view(),
        labels: None,
        dataset: "big",
    };
    let views = model_views(input, &ViewOptions::default()).unwrap();
    let components = &views[1].svg;
    assert!(components.contains("1 row in 3 shown (4000 of 12000)"));
    let marks = components.matches("<circle").count() + components.matches("<rect").count();
    assert!(marks < 4100 + 200, "about 4000 rows drawn: {marks}");
    // The anomaly chart keeps every flagged row (about 1 % of them) beside the sample.
    let flagged = file
        .training_score_quantiles
        .as_ref()
        .unwrap()
        .at(0.99)
        .unwrap();
    assert!(views[3]
        .svg
        .contains(&gmmtune::plot::format_value(flagged, 4)));
}
