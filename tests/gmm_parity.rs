//! Parity of the GMM engine with scikit-learn's `GaussianMixture`.
//!
//! The fixtures in `tests/fixtures/gmm/` are written by `scripts/gen_gmm_fixtures.py`
//! (scikit-learn version recorded in each file):
//! * `em_fixed_init.json`: EM from given initial weights/means/precisions, for a fixed number of
//!   iterations (tol 0) and with tol 1e-3 (iteration count and convergence flag);
//! * `fixed_model.json`: models rebuilt with `GaussianMixture::from_parts` from scikit-learn's
//!   fitted parameters, with their scores, probabilities and information criteria;
//! * `init_scores.json`: the mean log-likelihood each initialisation method reaches on
//!   separated blobs;
//! * `em_highd.json`: EM at d = 64 and 200 (full and tied) on formula-generated rows.

use std::collections::HashMap;
use std::fs;
use std::sync::OnceLock;

use gmmtune::gmm::{
    CovarianceType, Covariances, GaussianMixture, GmmParams, InitMethod, PrecisionsInit,
};
use ndarray::{Array1, Array2, Array3};
use serde_json::Value;

/// Relative tolerance of EM results after up to 20 iterations from the same start.
const EM_REL: f64 = 1e-8;
/// Relative tolerance of quantities computed from given parameters.
const MODEL_REL: f64 = 1e-10;
/// Absolute floor of both checks, for values that are (close to) zero.
const ABS_FLOOR: f64 = 1e-12;

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/gmm/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid JSON: {e}"))
}

struct Split {
    train: Array2<f64>,
    test: Array2<f64>,
}

fn datasets() -> &'static HashMap<String, Split> {
    static DATA: OnceLock<HashMap<String, Split>> = OnceLock::new();
    DATA.get_or_init(|| {
        let file = fixture("datasets.json");
        let sets = file["datasets"].as_object().expect("`datasets` object");
        sets.iter()
            .map(|(name, split)| {
                let train = arr2(&split["train"]);
                let d = train.ncols();
                let test = if split["test"].as_array().is_some_and(|a| a.is_empty()) {
                    Array2::zeros((0, d))
                } else {
                    arr2(&split["test"])
                };
                (name.clone(), Split { train, test })
            })
            .collect()
    })
}

fn dataset(case: &Value) -> &'static Split {
    let name = case["dataset"].as_str().expect("`dataset` name");
    &datasets()[name]
}

fn num(v: &Value) -> f64 {
    v.as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {v}"))
}

fn list(v: &Value) -> &Vec<Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("expected a list, got {v}"))
}

fn arr1(v: &Value) -> Array1<f64> {
    list(v).iter().map(num).collect()
}

fn arr2(v: &Value) -> Array2<f64> {
    let rows: Vec<Array1<f64>> = list(v).iter().map(arr1).collect();
    let d = rows.first().map_or(0, |r| r.len());
    Array2::from_shape_fn((rows.len(), d), |(i, j)| rows[i][j])
}

fn arr3(v: &Value) -> Array3<f64> {
    let mats: Vec<Array2<f64>> = list(v).iter().map(arr2).collect();
    let (r, c) = mats.first().map_or((0, 0), |m| m.dim());
    Array3::from_shape_fn((mats.len(), r, c), |(k, i, j)| mats[k][[i, j]])
}

fn covariance_type(case: &Value) -> CovarianceType {
    case["covariance_type"]
        .as_str()
        .expect("`covariance_type`")
        .parse()
        .expect("known covariance type")
}

/// scikit-learn's covariance-shaped array as `Covariances` of the given type.
fn covariances(ct: CovarianceType, v: &Value) -> Covariances {
    match ct {
        CovarianceType::Full => Covariances::Full(arr3(v)),
        CovarianceType::Tied => Covariances::Tied(arr2(v)),
        CovarianceType::Diag => Covariances::Diag(arr2(v)),
        CovarianceType::Spherical => Covariances::Spherical(arr1(v)),
    }
}

fn precisions_init(ct: CovarianceType, v: &Value) -> PrecisionsInit {
    match ct {
        CovarianceType::Full => PrecisionsInit::Full(arr3(v)),
        CovarianceType::Tied => PrecisionsInit::Tied(arr2(v)),
        CovarianceType::Diag => PrecisionsInit::Diag(arr2(v)),
        CovarianceType::Spherical => PrecisionsInit::Spherical(arr1(v)),
    }
}

/// Values of `Covariances` in row-major order, with their shape.
fn flat(c: &Covariances) -> (Vec<usize>, Vec<f64>) {
    match c {
        Covariances::Full(a) => (a.shape().to_vec(), a.iter().copied().collect()),
        Covariances::Tied(a) | Covariances::Diag(a) => {
            (a.shape().to_vec(), a.iter().copied().collect())
        }
        Covariances::Spherical(a) => (a.shape().to_vec(), a.iter().copied().collect()),
    }
}

fn close(actual: f64, expected: f64, tol: f64) -> bool {
    (actual - expected).abs() <= ABS_FLOOR + tol
}

fn assert_close(actual: f64, expected: f64, rel: f64, what: &str) {
    assert!(
        close(actual, expected, rel * expected.abs()),
        "{what}: got {actual:e}, scikit-learn {expected:e} (diff {:e}, rel tol {rel:e})",
        (actual - expected).abs()
    );
}

/// Element-wise check relative to the largest magnitude in `expected`: EM results are
/// matrices and vectors whose small entries (off-diagonal covariances, say) carry the
/// rounding error of their large ones.
fn assert_all_close<'a>(
    actual: impl IntoIterator<Item = &'a f64>,
    expected: impl IntoIterator<Item = &'a f64>,
    rel: f64,
    what: &str,
) {
    let actual: Vec<f64> = actual.into_iter().copied().collect();
    let expected: Vec<f64> = expected.into_iter().copied().collect();
    assert_eq!(actual.len(), expected.len(), "{what}: length");
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (&a, &e)) in actual.iter().zip(&expected).enumerate() {
        assert!(
            close(a, e, rel * scale),
            "{what}[{i}]: got {a:e}, scikit-learn {e:e} (diff {:e}, tol {rel:e} × {scale:e})",
            (a - e).abs()
        );
    }
}

/// Checks `actual` against the extended-precision reference `exact` to `rel`, and against
/// scikit-learn's value to `rel` plus scikit-learn's own rounding error (its distance from
/// `exact`; it expands `(x − mean)²` for diag/spherical, which loses digits far from 0).
fn assert_matches_reference(actual: &[f64], sklearn: &[f64], exact: &[f64], rel: f64, what: &str) {
    assert_eq!(actual.len(), sklearn.len(), "{what}: length");
    assert_eq!(actual.len(), exact.len(), "{what}: length");
    for (i, ((&a, &s), &e)) in actual.iter().zip(sklearn).zip(exact).enumerate() {
        assert!(
            close(a, e, rel * e.abs()),
            "{what}[{i}]: got {a:e}, exact {e:e} (diff {:e}, rel tol {rel:e})",
            (a - e).abs()
        );
        assert!(
            close(a, s, rel * s.abs() + (s - e).abs()),
            "{what}[{i}]: got {a:e}, scikit-learn {s:e} (its own error {:e})",
            (s - e).abs()
        );
    }
}

fn assert_covariances_close(actual: &Covariances, ct: CovarianceType, v: &Value, what: &str) {
    let (shape, values) = flat(actual);
    let (want_shape, want) = flat(&covariances(ct, v));
    assert_eq!(shape, want_shape, "{what}: shape");
    assert_all_close(&values, &want, EM_REL, what);
}

fn describe(case: &Value) -> String {
    format!(
        "{} {} k={} reg_covar={} tol={} max_iter={}",
        case["dataset"],
        case["covariance_type"],
        case["n_components"],
        case["reg_covar"],
        case["tol"],
        case["max_iter"]
    )
}

fn fit_from_given_start(case: &Value) -> GaussianMixture {
    let ct = covariance_type(case);
    let k = case["n_components"].as_u64().expect("n_components") as usize;
    let max_iter = case["max_iter"].as_u64().expect("max_iter") as usize;
    GmmParams::new(k)
        .covariance_type(ct)
        .tol(num(&case["tol"]))
        .reg_covar(num(&case["reg_covar"]))
        .max_iter(max_iter)
        .init(InitMethod::RandomFromData)
        .seed(0)
        .weights_init(arr1(&case["weights_init"]))
        .means_init(arr2(&case["means_init"]))
        .precisions_init(precisions_init(ct, &case["precisions_init"]))
        .check()
        .expect("valid parameters")
        .fit(dataset(case).train.view())
        .unwrap_or_else(|e| panic!("{}: fit failed: {e}", describe(case)))
}

fn em_cases() -> Vec<Value> {
    list(&fixture("em_fixed_init.json")["cases"]).clone()
}

#[test]
fn fixtures_record_the_scikit_learn_version() {
    for name in [
        "datasets.json",
        "em_fixed_init.json",
        "fixed_model.json",
        "init_scores.json",
        "kmeans_lloyd.json",
        "em_highd.json",
    ] {
        let version = fixture(name)["versions"]["scikit-learn"].clone();
        assert!(version.as_str().is_some_and(|v| !v.is_empty()), "{name}");
    }
}

#[test]
fn em_from_a_given_start_matches_scikit_learn() {
    let cases = em_cases();
    let mut checked = HashMap::new();
    for case in cases.iter().filter(|c| num(&c["tol"]) == 0.0) {
        let what = describe(case);
        let ct = covariance_type(case);
        let model = fit_from_given_start(case);
        assert_all_close(
            model.weights(),
            &arr1(&case["weights"]),
            EM_REL,
            &format!("{what} weights"),
        );
        assert_all_close(
            model.means(),
            &arr2(&case["means"]),
            EM_REL,
            &format!("{what} means"),
        );
        assert_covariances_close(
            model.covariances(),
            ct,
            &case["covariances"],
            &format!("{what} covariances"),
        );
        assert_covariances_close(
            model.precisions_cholesky(),
            ct,
            &case["precisions_cholesky"],
            &format!("{what} precisions_cholesky"),
        );
        assert_close(
            model.lower_bound(),
            num(&case["lower_bound"]),
            EM_REL,
            &format!("{what} lower_bound"),
        );
        let scores = model
            .score_samples(dataset(case).test.view())
            .expect("score_samples");
        assert_all_close(
            &scores,
            &arr1(&case["score_samples_test"]),
            EM_REL,
            &format!("{what} score_samples (held-out rows)"),
        );
        assert_eq!(
            model.n_iter(),
            case["n_iter"].as_u64().unwrap() as usize,
            "{what}"
        );
        assert!(!model.converged(), "{what}: tol 0 never converges");
        *checked.entry(ct).or_insert(0) += 1;
    }
    // Every covariance type, each with 1, 5 and 20 iterations, an offset dataset and a
    // non-default reg_covar.
    assert_eq!(checked.len(), 4, "{checked:?}");
    assert!(checked.values().all(|&n| n == 5), "{checked:?}");
}

#[test]
fn iteration_count_and_convergence_match_scikit_learn() {
    let cases = em_cases();
    let mut converged_cases = 0;
    let mut unconverged_cases = 0;
    for case in cases.iter().filter(|c| num(&c["tol"]) > 0.0) {
        let what = describe(case);
        let model = fit_from_given_start(case);
        let want_converged = case["converged"].as_bool().expect("converged");
        assert_eq!(
            model.n_iter(),
            case["n_iter"].as_u64().unwrap() as usize,
            "{what}: n_iter"
        );
        assert_eq!(model.converged(), want_converged, "{what}: converged");
        assert_close(
            model.lower_bound(),
            num(&case["lower_bound"]),
            EM_REL,
            &format!("{what} lower_bound"),
        );
        assert_all_close(
            model.means(),
            &arr2(&case["means"]),
            EM_REL,
            &format!("{what} means"),
        );
        if want_converged {
            converged_cases += 1;
        } else {
            unconverged_cases += 1;
        }
    }
    assert_eq!((converged_cases, unconverged_cases), (4, 4));
}

#[test]
fn fixed_model_matches_scikit_learn() {
    let file = fixture("fixed_model.json");
    let cases = list(&file["cases"]);
    assert_eq!(cases.len(), 8);
    for case in cases {
        let ct = covariance_type(case);
        let what = format!("{} {}", case["dataset"], case["covariance_type"]);
        let split = dataset(case);
        let model = GaussianMixture::from_parts(
            ct,
            arr1(&case["weights"]),
            arr2(&case["means"]),
            covariances(ct, &case["covariances"]),
        )
        .unwrap_or_else(|e| panic!("{what}: from_parts failed: {e}"));

        let (_, chol) = flat(model.precisions_cholesky());
        let (_, want_chol) = flat(&covariances(ct, &case["precisions_cholesky"]));
        for (i, (&a, &e)) in chol.iter().zip(&want_chol).enumerate() {
            assert_close(a, e, MODEL_REL, &format!("{what} precisions_cholesky[{i}]"));
        }
        assert_eq!(
            model.n_parameters(),
            case["n_parameters"].as_u64().unwrap() as usize,
            "{what}: n_parameters"
        );
        let exact = &case["exact"];
        let train = split.train.view();
        let scalars = [
            ("bic", model.bic(train).expect("bic"), "bic_train"),
            ("aic", model.aic(train).expect("aic"), "aic_train"),
            ("score", model.score(train).expect("score"), "score_train"),
        ];
        for (name, value, key) in scalars {
            assert_matches_reference(
                &[value],
                &[num(&case[key])],
                &[num(&exact[key])],
                MODEL_REL,
                &format!("{what} {name}"),
            );
        }
        let test = split.test.view();
        let scores = model.score_samples(test).expect("score_samples");
        assert_matches_reference(
            scores.as_slice().expect("contiguous"),
            arr1(&case["score_samples_test"])
                .as_slice()
                .expect("contiguous"),
            arr1(&exact["score_samples_test"])
                .as_slice()
                .expect("contiguous"),
            MODEL_REL,
            &format!("{what} score_samples"),
        );
        let proba = model.predict_proba(test).expect("predict_proba");
        assert_matches_reference(
            &proba.iter().copied().collect::<Vec<_>>(),
            &arr2(&case["predict_proba_test"])
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            &arr2(&exact["predict_proba_test"])
                .iter()
                .copied()
                .collect::<Vec<_>>(),
            MODEL_REL,
            &format!("{what} predict_proba"),
        );
        let labels: Vec<usize> = model.predict(test).expect("predict").to_vec();
        let want: Vec<usize> = list(&case["predict_test"])
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(labels, want, "{what}: predict");
    }
}

#[test]
fn every_initialisation_reaches_scikit_learns_likelihood() {
    let file = fixture("init_scores.json");
    let cases = list(&file["cases"]);
    assert_eq!(cases.len(), 16);
    for case in cases {
        let ct = covariance_type(case);
        let init: InitMethod = case["init"]
            .as_str()
            .expect("init")
            .parse()
            .expect("known init");
        let what = format!("{} init={}", case["covariance_type"], case["init"]);
        let x = dataset(case).train.view();
        let seed_independent = case["seed_independent"].as_bool().expect("flag");
        let attained = arr1(&case["attained"]);
        let want = num(&case["score"]);
        // Where scikit-learn's own result does not depend on its seed, every seed of ours must
        // reach it; otherwise ours must reach one of the optima scikit-learn reaches.
        let seeds: &[u64] = if seed_independent { &[0, 1, 2] } else { &[0] };
        for &seed in seeds {
            let model = GmmParams::new(case["n_components"].as_u64().unwrap() as usize)
                .covariance_type(ct)
                .init(init)
                .n_init(case["n_init"].as_u64().unwrap() as usize)
                .tol(num(&case["tol"]))
                .max_iter(case["max_iter"].as_u64().unwrap() as usize)
                .seed(seed)
                .check()
                .expect("valid parameters")
                .fit(x)
                .unwrap_or_else(|e| panic!("{what}: fit failed: {e}"));
            let score = model.score(x).expect("score");
            if seed_independent {
                assert!(
                    (score - want).abs() < 1e-3,
                    "{what} seed {seed}: score {score}, scikit-learn {want}"
                );
            } else {
                assert!(
                    attained.iter().any(|a| (score - a).abs() < 1e-3),
                    "{what} seed {seed}: score {score}, scikit-learn reaches {attained}"
                );
            }
        }
    }
}

/// The rows of `em_highd.json`: integer-hash features (exact in binary), as
/// `highd_data` in `scripts/gen_gmm_fixtures.py`.
fn highd_data(n: usize, d: usize, k: usize) -> Array2<f64> {
    Array2::from_shape_fn((n, d), |(i, j)| {
        let (iu, ju) = (i as u64, j as u64);
        let h = (iu * 2_654_435_761 + ju * 40_503 + iu * ju * 97) % (1 << 32);
        ((h % 4096) as f64 - 2048.0) / 512.0
            + 2.0 * (i % k) as f64
            + ((i % 7) * (j % 5)) as f64 / 8.0
    })
}

/// EM at d = 64 and 200, full and tied, from given means and a scaled identity precision:
/// the register-tiled kernel's upper edge, faer's products, the stored-responsibility
/// scatter in panels, the blocked factorisations.
#[test]
fn em_at_high_dimension_matches_scikit_learn() {
    let file = fixture("em_highd.json");
    let cases = list(&file["cases"]);
    assert_eq!(cases.len(), 4);
    for case in cases {
        let ct = covariance_type(case);
        let uint = |key: &str| case[key].as_u64().expect(key) as usize;
        let (n, n_test, d, k) = (
            uint("n_train"),
            uint("n_test"),
            uint("d"),
            uint("n_components"),
        );
        let what = format!("d={d} k={k} {ct}");
        let x = highd_data(n + n_test, d, k);
        let (train, test) = (x.slice(ndarray::s![..n, ..]), x.slice(ndarray::s![n.., ..]));
        let p = num(&case["precision_init"]);
        let eye = Array2::from_shape_fn((d, d), |(i, j)| if i == j { p } else { 0.0 });
        let precisions = match ct {
            CovarianceType::Full => {
                PrecisionsInit::Full(Array3::from_shape_fn((k, d, d), |(_, i, j)| eye[[i, j]]))
            }
            _ => PrecisionsInit::Tied(eye),
        };
        let model = GmmParams::new(k)
            .covariance_type(ct)
            .tol(0.0)
            .reg_covar(num(&case["reg_covar"]))
            .max_iter(uint("max_iter"))
            .init(InitMethod::RandomFromData)
            .weights_init(Array1::from_elem(k, 1.0 / k as f64))
            .means_init(arr2(&case["means_init"]))
            .precisions_init(precisions)
            .check()
            .expect("valid parameters")
            .fit(train)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_all_close(
            model.weights(),
            &arr1(&case["weights"]),
            EM_REL,
            &format!("{what} weights"),
        );
        assert_all_close(
            model.means(),
            &arr2(&case["means"]),
            EM_REL,
            &format!("{what} means"),
        );
        assert_all_close(
            model.lower_bound_history(),
            &arr1(&case["lower_bounds"]),
            EM_REL,
            &format!("{what} lower bounds"),
        );
        assert_close(
            model.lower_bound(),
            num(&case["lower_bound"]),
            EM_REL,
            &what,
        );
        let scores = model.score_samples(test).expect("score_samples");
        assert_all_close(
            &scores,
            &arr1(&case["score_samples_test"]),
            EM_REL,
            &format!("{what} score_samples"),
        );
        let entries: Vec<usize> = list(&case["entries"])
            .iter()
            .map(|v| v.as_u64().unwrap() as usize)
            .collect();
        for (name, ours, key) in [
            ("covariances", model.covariances(), "covariances_entries"),
            (
                "precisions_cholesky",
                model.precisions_cholesky(),
                "precisions_cholesky_entries",
            ),
        ] {
            let (_, values) = flat(ours);
            let picked: Vec<f64> = entries.iter().map(|&e| values[e]).collect();
            assert_all_close(
                &picked,
                &arr1(&case[key]),
                EM_REL,
                &format!("{what} {name}"),
            );
        }
    }
}

/// The hand-written loops give the same bits at every SIMD level this CPU has (faer's
/// products choose their instructions themselves and do not change with the cap).
#[test]
fn every_simd_level_gives_the_same_fit() {
    use gmmtune::linalg::{limit_simd, SimdLevel};
    let mut fits = Vec::new();
    let levels = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512];
    for level in levels.into_iter().filter(|&l| l <= SimdLevel::detected()) {
        limit_simd(Some(level));
        let mut per_type = Vec::new();
        for ct in CovarianceType::ALL {
            for (n, d, k) in [(900, 5, 3), (300, 40, 2)] {
                let x = highd_data(n, d, k);
                let model = GmmParams::new(k)
                    .covariance_type(ct)
                    .init(InitMethod::KMeansPlusPlus)
                    .max_iter(5)
                    .tol(0.0)
                    .reg_covar(1e-3)
                    .seed(3)
                    .check()
                    .expect("valid parameters")
                    .fit(x.view())
                    .expect("fit");
                let scores = model.score_samples(x.view()).expect("scores");
                per_type.push((model, scores));
            }
        }
        fits.push((level, per_type));
    }
    limit_simd(None);
    for (level, per_type) in &fits[1..] {
        assert!(per_type == &fits[0].1, "{level} differs from {}", fits[0].0);
    }
}
