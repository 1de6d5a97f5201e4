//! The report's numerics against scikit-learn and SciPy (fixtures written by
//! `scripts/gen_report_fixtures.py`): ROC curves, ranks, Friedman's test with Iman and
//! Davenport's F, the Nemenyi q table and quantiles; and the cost curve against the cost model.

use gmmtune::eval::CostModel;
use gmmtune::report::curves::{cost_curve, operating_point, roc_curve};
use gmmtune::report::stats::{average_ranks, friedman, quantile, NEMENYI_Q_05};
use serde_json::Value;

fn fixture() -> Value {
    serde_json::from_str(include_str!("fixtures/report/numerics.json")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn bools(v: &Value) -> Vec<bool> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_bool().unwrap())
        .collect()
}

fn close(a: &[f64], b: &[f64], tol: f64, what: &str) {
    assert_eq!(
        a.len(),
        b.len(),
        "{what}: lengths {} and {}",
        a.len(),
        b.len()
    );
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol, "{what}[{i}]: {x} vs {y}");
    }
}

#[test]
fn roc_curves_match_scikit_learn() {
    for (i, case) in fixture()["roc"].as_array().unwrap().iter().enumerate() {
        let scores = floats(&case["scores"]);
        let labels = bools(&case["labels"]);
        for (key, drop) in [("all", false), ("drop", true)] {
            let (fpr, tpr) = roc_curve(&scores, &labels, drop);
            close(
                &fpr,
                &floats(&case[key]["fpr"]),
                1e-15,
                &format!("case {i} {key} fpr"),
            );
            close(
                &tpr,
                &floats(&case[key]["tpr"]),
                1e-15,
                &format!("case {i} {key} tpr"),
            );
        }
        // Every operating point of a strict threshold lies on the full curve.
        let (fpr, tpr) = roc_curve(&scores, &labels, false);
        for &t in scores.iter().step_by(7) {
            let (f, p) = operating_point(&scores, &labels, t).unwrap();
            assert!(fpr
                .iter()
                .zip(&tpr)
                .any(|(a, b)| (a - f).abs() < 1e-12 && (b - p).abs() < 1e-12));
        }
    }
}

#[test]
fn ranks_and_friedman_match_scipy() {
    for (i, case) in fixture()["friedman"].as_array().unwrap().iter().enumerate() {
        let values: Vec<Vec<f64>> = case["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let expected: Vec<Vec<f64>> = case["ranks"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let ranks: Vec<Vec<f64>> = values
            .iter()
            .map(|row| average_ranks(row, true, 0.0))
            .collect();
        for (r, e) in ranks.iter().zip(&expected) {
            close(r, e, 0.0, &format!("case {i} ranks"));
        }
        let f = friedman(&ranks).unwrap();
        let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1e-300);
        assert!(
            rel(f.chi_square, case["chi_square"].as_f64().unwrap()) < 1e-12,
            "case {i} χ²"
        );
        assert!(
            rel(f.p_value, case["p_value"].as_f64().unwrap()) < 1e-9,
            "case {i} p {}",
            f.p_value
        );
        assert!(
            rel(
                f.iman_davenport_f,
                case["iman_davenport_f"].as_f64().unwrap()
            ) < 1e-12,
            "case {i} F"
        );
        assert!(
            rel(
                f.iman_davenport_p,
                case["iman_davenport_p"].as_f64().unwrap()
            ) < 1e-9,
            "case {i} F p"
        );
    }
}

#[test]
fn nemenyi_table_and_quantiles_match_scipy() {
    let fx = fixture();
    close(&NEMENYI_Q_05, &floats(&fx["nemenyi_q_05"]), 1e-6, "q table");
    let values = floats(&fx["quantile"]["values"]);
    let got: Vec<f64> = floats(&fx["quantile"]["q"])
        .iter()
        .map(|&q| quantile(&values, q).unwrap())
        .collect();
    close(
        &got,
        &floats(&fx["quantile"]["expected"]),
        1e-14,
        "quantiles",
    );
}

#[test]
fn cost_curve_is_the_cost_model_at_every_threshold() {
    let fx = fixture();
    let case = &fx["roc"][2];
    let scores = floats(&case["scores"]);
    let labels = bools(&case["labels"]);
    for tolerance in [0, 2] {
        let model = CostModel::new(1.0, 5.0, tolerance).unwrap();
        let curve = cost_curve(&model, &scores, &labels);
        assert_eq!(curve[0].1, model.cost(&scores, &labels, f64::NEG_INFINITY));
        for &(t, c) in &curve {
            assert_eq!(
                c,
                model.cost(&scores, &labels, t),
                "tolerance {tolerance}, threshold {t}"
            );
        }
        assert_eq!(curve.last().unwrap().1, model.never_alarm_cost(&labels));
    }
}
