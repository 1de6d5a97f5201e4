//! Wilcoxon's signed-rank and Friedman's tests against scipy
//! (`scripts/gen_stats_fixtures.py` writes `tests/fixtures/stats/stats.json`).

use gmmtune::zeroshot::stats::{friedman, wilcoxon};

fn fixtures() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/stats/stats.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn wilcoxon_matches_scipy() {
    let all = fixtures();
    for case in all["wilcoxon"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let got = wilcoxon(&floats(&case["x"]), &floats(&case["y"])).unwrap();
        let statistic = case["statistic"].as_f64().unwrap();
        let p = case["p_value"].as_f64().unwrap();
        assert!(
            (got.statistic - statistic).abs() < 1e-9,
            "{name}: {got:?} vs {statistic}"
        );
        assert!(
            (got.p_value - p).abs() < 1e-9,
            "{name}: p {} vs {p}",
            got.p_value
        );
    }
}

#[test]
fn friedman_matches_scipy() {
    let all = fixtures();
    for case in all["friedman"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let scores: Vec<Vec<f64>> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let (got, ranks) = friedman(&scores).unwrap();
        let statistic = case["statistic"].as_f64().unwrap();
        let p = case["p_value"].as_f64().unwrap();
        assert!(
            (got.statistic - statistic).abs() < 1e-9,
            "{name}: {} vs {statistic}",
            got.statistic
        );
        assert!(
            (got.p_value - p).abs() < 1e-9,
            "{name}: p {} vs {p}",
            got.p_value
        );
        for (r, e) in ranks.iter().zip(floats(&case["average_ranks"])) {
            assert!((r - e).abs() < 1e-12, "{name}: ranks {ranks:?}");
        }
    }
}
