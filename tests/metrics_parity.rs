//! Parity of `gmmtune::eval` with scikit-learn (ROC AUC, average precision) and with a
//! brute-force implementation of the course's HPC cost model (sets of indices and shifts).
//!
//! Fixtures: `tests/fixtures/metrics/*.json`, written by `scripts/gen_metric_fixtures.py`.
//! Scores and thresholds are stored as IEEE-754 bit patterns so both sides see the same doubles.

use gmmtune::eval::{average_precision, linspace, roc_auc, CostCounts, CostModel, ThresholdSearch};
use serde_json::Value;

const RANKING: &str = include_str!("fixtures/metrics/ranking.json");
const COST: &str = include_str!("fixtures/metrics/cost.json");

fn cases(text: &str) -> Vec<Value> {
    let root: Value = serde_json::from_str(text).expect("fixture is valid JSON");
    root["cases"].as_array().expect("fixture has cases").clone()
}

fn from_bits(value: &Value) -> f64 {
    f64::from_bits(value.as_u64().expect("bit pattern is a u64"))
}

fn floats_from_bits(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("array of bit patterns")
        .iter()
        .map(from_bits)
        .collect()
}

fn usizes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .expect("array of counts")
        .iter()
        .map(|v| v.as_u64().expect("count") as usize)
        .collect()
}

fn labels(case: &Value) -> Vec<bool> {
    usizes(&case["labels"])
        .into_iter()
        .map(|l| l != 0)
        .collect()
}

fn scores(case: &Value) -> Vec<f64> {
    if case.get("scores_bits").is_some() {
        floats_from_bits(&case["scores_bits"])
    } else {
        case["scores"]
            .as_array()
            .expect("scores")
            .iter()
            .map(|v| v.as_i64().expect("integer score") as f64)
            .collect()
    }
}

fn assert_close_or_nan(actual: f64, expected: &Value, what: &str) {
    match expected.as_f64() {
        Some(expected) => assert!(
            (actual - expected).abs() <= 1e-12,
            "{what}: {actual} vs scikit-learn {expected}"
        ),
        None => assert!(actual.is_nan(), "{what}: expected NaN, got {actual}"),
    }
}

#[test]
fn roc_auc_and_average_precision_match_scikit_learn() {
    let cases = cases(RANKING);
    assert!(cases.len() >= 10);
    for case in &cases {
        let name = case["name"].as_str().expect("name");
        let (scores, labels) = (scores(case), labels(case));
        assert_eq!(scores.len(), labels.len(), "{name}");
        assert_close_or_nan(
            roc_auc(&scores, &labels),
            &case["roc_auc"],
            &format!("{name} roc_auc"),
        );
        assert_close_or_nan(
            average_precision(&scores, &labels),
            &case["average_precision"],
            &format!("{name} average_precision"),
        );
    }
}

fn model_of(case: &Value) -> CostModel {
    CostModel::new(
        case["c_alarm"].as_f64().expect("c_alarm"),
        case["c_missed"].as_f64().expect("c_missed"),
        case["tolerance"].as_u64().expect("tolerance") as usize,
    )
    .expect("fixture cost model is valid")
}

fn counts_of(value: &Value, anomalies: usize) -> CostCounts {
    CostCounts {
        alarms: value["alarms"].as_u64().expect("alarms") as usize,
        false_alarms: value["false_alarms"].as_u64().expect("false_alarms") as usize,
        anomalies,
        missed: value["missed"].as_u64().expect("missed") as usize,
    }
}

#[test]
fn cost_counts_match_the_course_definition_at_every_cut_point() {
    for case in &cases(COST) {
        let name = case["name"].as_str().expect("name");
        let (scores, labels) = (scores(case), labels(case));
        let model = model_of(case);
        let anomalies = labels.iter().filter(|&&l| l).count();
        let probes = &case["cut_points"];
        let thresholds = floats_from_bits(&probes["threshold_bits"]);
        let alarms = usizes(&probes["alarms"]);
        let false_alarms = usizes(&probes["false_alarms"]);
        let missed = usizes(&probes["missed"]);
        let costs: Vec<f64> = probes["cost"]
            .as_array()
            .expect("costs")
            .iter()
            .map(|c| c.as_f64().expect("cost"))
            .collect();
        assert!(!thresholds.is_empty(), "{name}");
        for (i, &threshold) in thresholds.iter().enumerate() {
            let expected = CostCounts {
                alarms: alarms[i],
                false_alarms: false_alarms[i],
                anomalies,
                missed: missed[i],
            };
            assert_eq!(
                model.counts(&scores, &labels, threshold),
                expected,
                "{name} at threshold {threshold}"
            );
            assert_eq!(
                model.cost(&scores, &labels, threshold),
                costs[i],
                "{name} at {threshold}"
            );
        }
        assert_eq!(
            model.never_alarm_cost(&labels),
            case["never_alarm_cost"].as_f64().expect("never_alarm_cost"),
            "{name}"
        );
    }
}

#[test]
fn cut_point_search_finds_the_brute_force_optimum() {
    for case in &cases(COST) {
        let name = case["name"].as_str().expect("name");
        let (scores, labels) = (scores(case), labels(case));
        let model = model_of(case);
        let anomalies = labels.iter().filter(|&&l| l).count();
        let best = &case["cut_best"];
        let choice = model.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
        assert_eq!(
            choice.cost,
            best["cost"].as_f64().expect("cost"),
            "{name} cost"
        );
        assert_eq!(
            choice.threshold.to_bits(),
            best["threshold_bits"].as_u64().expect("bits"),
            "{name}: threshold {} vs brute force {}",
            choice.threshold,
            from_bits(&best["threshold_bits"])
        );
        assert_eq!(choice.counts, counts_of(best, anomalies), "{name} counts");
    }
}

#[test]
fn linspace_search_finds_the_brute_force_grid_optimum() {
    let mut differs_from_argmin = 0;
    for case in &cases(COST) {
        let name = case["name"].as_str().expect("name");
        let (scores, labels) = (scores(case), labels(case));
        let model = model_of(case);
        let anomalies = labels.iter().filter(|&&l| l).count();
        let grid = &case["linspace"];
        let (low, high) = (from_bits(&grid["low_bits"]), from_bits(&grid["high_bits"]));
        let n = grid["n"].as_u64().expect("n") as usize;
        let points: Vec<u64> = linspace(low, high, n).iter().map(|p| p.to_bits()).collect();
        let numpy: Vec<u64> = floats_from_bits(&grid["points_bits"])
            .iter()
            .map(|p| p.to_bits())
            .collect();
        assert_eq!(points, numpy, "{name}: grid differs from np.linspace");
        let search = ThresholdSearch::linspace(low, high, n).expect("valid grid");
        let choice = model.optimise_threshold(&scores, &labels, &search);
        let best = &case["linspace_best"];
        assert_eq!(
            choice.cost,
            best["cost"].as_f64().expect("cost"),
            "{name} cost"
        );
        assert_eq!(
            choice.threshold.to_bits(),
            best["threshold_bits"].as_u64().expect("bits"),
            "{name}: threshold {}",
            choice.threshold
        );
        assert_eq!(choice.counts, counts_of(best, anomalies), "{name} counts");
        // The course keeps numpy's first (lowest) minimum; ours is the highest. Same cost.
        let argmin = from_bits(&case["numpy_argmin_threshold_bits"]);
        assert!(argmin <= choice.threshold, "{name}");
        assert_eq!(model.cost(&scores, &labels, argmin), choice.cost, "{name}");
        if argmin != choice.threshold {
            differs_from_argmin += 1;
        }
        // A finer search over every cut point never does worse than the grid.
        let cut = model.optimise_threshold(&scores, &labels, &ThresholdSearch::CutPoints);
        assert!(cut.cost <= choice.cost, "{name}");
    }
    // The fixtures exercise the tie-break.
    assert!(differs_from_argmin > 0);
}
