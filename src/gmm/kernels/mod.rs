//! The hot loops of the engine: the E-step pass with its fused log-sum-exp and M-step
//! statistics, scoring, and the scatter matrices.
//!
//! Every pass walks the rows in fixed-size tasks run on rayon's global pool. The task size
//! depends only on the shapes, and per-task partial sums are collected in task order and added
//! sequentially, so results are bit-identical whatever the number of threads.
//!
//! Memory: no pass keeps an N×K or N×K×d temporary unless the shapes make it the smaller
//! choice. An EM iteration is one pass over the rows that turns each block's log-probabilities
//! into responsibilities and adds the block to the moments (and, for full covariances at small
//! `d`, to scatters around the current means, corrected afterwards); only full covariances at
//! large `d`, where the responsibilities (N×K) are small beside the data (N×d), store them for
//! a second pass of matrix products.

mod logprob;
mod mahalanobis;
mod math;
mod moments;
mod scatter;

use std::ops::Range;

use ndarray::{s, Array1, Array2, Array3, ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

pub(crate) use logprob::LogProb;
pub(crate) use math::squared_distance;
pub(crate) use moments::Moments;
pub(crate) use scatter::gram;

use super::init::InitialResponsibilities;
use super::params::CovarianceType;
use math::log_sum_exp_rows;
use scatter::{RowWeights, ShiftedScatter};

/// Rows handled by one parallel task. Depends on `n` only (never on the thread count): about
/// 64 tasks for large inputs, at least 256 and at most 4096 rows each.
pub(crate) fn task_rows(n: usize) -> usize {
    let per_task = n.div_ceil(64).div_ceil(64) * 64;
    per_task.clamp(256, 4096)
}

/// Rows of one sub-block inside a task (the unit of the small matrix products).
pub(crate) const BLOCK_ROWS: usize = 256;

/// Runs `f` on each task's row range in parallel and returns the results in task order.
fn map_tasks<T: Send>(n: usize, f: impl Fn(Range<usize>) -> T + Sync + Send) -> Vec<T> {
    map_tasks_sized(n, task_rows(n), f)
}

/// As [`map_tasks`] with `rows` rows per task.
fn map_tasks_sized<T: Send>(
    n: usize,
    rows: usize,
    f: impl Fn(Range<usize>) -> T + Sync + Send,
) -> Vec<T> {
    let rows = rows.max(1);
    let tasks = n.div_ceil(rows);
    (0..tasks)
        .into_par_iter()
        .map(|t| f(t * rows..((t + 1) * rows).min(n)))
        .collect()
}

/// Runs `f` on each task's rows of `x` and the matching rows of `out` in parallel; results come
/// back in task order.
fn map_tasks_mut<T: Send>(
    x: ArrayView2<f64>,
    mut out: ArrayViewMut2<f64>,
    f: impl Fn(ArrayView2<f64>, ArrayViewMut2<f64>) -> T + Sync + Send,
) -> Vec<T> {
    let n = x.nrows();
    debug_assert_eq!(out.nrows(), n);
    let rows = task_rows(n);
    out.axis_chunks_iter_mut(Axis(0), rows)
        .into_par_iter()
        .enumerate()
        .map(|(t, chunk)| {
            let start = t * rows;
            f(x.slice(s![start..start + chunk.nrows(), ..]), chunk)
        })
        .collect()
}

/// Splits `0..n` into consecutive sub-blocks of [`BLOCK_ROWS`].
fn sub_blocks(n: usize) -> impl Iterator<Item = Range<usize>> {
    (0..n)
        .step_by(BLOCK_ROWS)
        .map(move |a| a..(a + BLOCK_ROWS).min(n))
}

/// Which moments the M-step of a covariance type needs besides `Σ r` and `Σ r·x`.
pub(crate) fn needs_squares(covariance_type: CovarianceType) -> bool {
    matches!(
        covariance_type,
        CovarianceType::Diag | CovarianceType::Spherical
    )
}

/// How the full-covariance scatter of an EM iteration is gathered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ScatterForm {
    /// In the E-step pass, around the current means ([`ShiftedScatter`]), with tasks of this
    /// many rows (each keeps a K×d×d partial sum).
    Shifted { task_rows: usize },
    /// After the E-step pass, from stored responsibilities, by matrix products.
    Stored,
}

/// The shape-dependent choices of one fit, made once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    k: usize,
    d: usize,
    squares: bool,
    scatter: Option<ScatterForm>,
}

/// Bound on the total memory of the per-task partial scatters of the shifted form.
const SHIFTED_PARTIALS_BYTES: usize = 16 << 20;

impl Plan {
    /// The plan for `n` rows, `d` features and `k` components of `covariance_type`.
    pub(crate) fn new(n: usize, d: usize, k: usize, covariance_type: CovarianceType) -> Plan {
        let scatter = (covariance_type == CovarianceType::Full).then(|| {
            let partial_bytes = (k * d * d * std::mem::size_of::<f64>()).max(1);
            let max_tasks = (SHIFTED_PARTIALS_BYTES / partial_bytes).clamp(4, 64);
            let rows = task_rows(n).max(n.div_ceil(max_tasks));
            // The shifted form keeps one K×d×d partial per task, the stored form the N×K
            // responsibilities: take the smaller.
            if n.div_ceil(rows) * d * d <= n {
                ScatterForm::Shifted { task_rows: rows }
            } else {
                ScatterForm::Stored
            }
        });
        Plan {
            k,
            d,
            squares: needs_squares(covariance_type),
            scatter,
        }
    }

    /// Scratch the E-step needs across iterations: the N×K responsibilities when stored.
    pub(crate) fn workspace(&self, n: usize) -> Workspace {
        Workspace {
            resp: (self.scatter == Some(ScatterForm::Stored)).then(|| Array2::zeros((n, self.k))),
        }
    }
}

/// Buffers kept from one EM iteration to the next.
pub(crate) struct Workspace {
    resp: Option<Array2<f64>>,
}

/// What the M-step needs from the responsibilities of one pass.
pub(crate) struct Statistics {
    /// Sum over rows of the log-likelihood under the parameters of the pass (0 for the
    /// statistics of initial responsibilities).
    pub(crate) log_lik: f64,
    pub(crate) moments: Moments,
    /// Full covariances: per component `Σ r (x − μ)(x − μ)ᵀ` around the new means
    /// [`Moments::means`].
    pub(crate) scatter: Option<Array3<f64>>,
}

/// Per task of an E-step pass.
struct TaskSums {
    log_lik: f64,
    moments: Moments,
    shifted: Option<ShiftedScatter>,
}

/// One E-step under `lp` and the statistics of its responsibilities. `means` are the current
/// means (the shift of the full-covariance scatter at small `d`).
pub(crate) fn e_step(
    x: ArrayView2<f64>,
    lp: &LogProb,
    plan: &Plan,
    means: ArrayView2<f64>,
    workspace: &mut Workspace,
) -> Statistics {
    match plan.scatter {
        None => {
            let rows = task_rows(x.nrows());
            let (log_lik, moments, _) = pass(x, lp, plan, rows, None);
            Statistics {
                log_lik,
                moments,
                scatter: None,
            }
        }
        Some(ScatterForm::Shifted { task_rows }) => {
            let (log_lik, moments, shifted) = pass(x, lp, plan, task_rows, Some(means));
            let shifted = shifted.expect("the shifted form gathers scatters");
            let new_means = moments.means();
            let scatter = match shifted.around(means, new_means.view(), moments.nk.view()) {
                Some(s) => s,
                None => {
                    // The means moved far: the same pass around the new means is exact.
                    let (_, _, again) = pass(x, lp, plan, task_rows, Some(new_means.view()));
                    again
                        .expect("the shifted form gathers scatters")
                        .around(new_means.view(), new_means.view(), moments.nk.view())
                        .expect("no correction around the means themselves")
                }
            };
            Statistics {
                log_lik,
                moments,
                scatter: Some(scatter),
            }
        }
        Some(ScatterForm::Stored) => {
            let resp = workspace
                .resp
                .as_mut()
                .expect("the workspace of a stored plan holds the responsibilities");
            let (log_lik, moments) = stored_pass(x, lp, plan, resp);
            let means = moments.means();
            let scatter =
                scatter::scatters_of(x, means.view(), |c| RowWeights::Column(resp.column(c)));
            Statistics {
                log_lik,
                moments,
                scatter: Some(scatter),
            }
        }
    }
}

/// An E-step pass that keeps no responsibilities: tasks of `rows` rows, each block turned into
/// responsibilities in scratch, added to the moments and, with `shifts`, to the scatters
/// around them.
fn pass(
    x: ArrayView2<f64>,
    lp: &LogProb,
    plan: &Plan,
    rows: usize,
    shifts: Option<ArrayView2<f64>>,
) -> (f64, Moments, Option<ShiftedScatter>) {
    let (k, d) = (plan.k, plan.d);
    let parts = map_tasks_sized(x.nrows(), rows, |range| {
        let mut sums = TaskSums {
            log_lik: 0.0,
            moments: Moments::zeros(k, d, plan.squares),
            shifted: shifts.map(|_| ShiftedScatter::zeros(k, d)),
        };
        let mut resp = Array2::zeros((BLOCK_ROWS, k));
        let mut block = BlockScratch::new(lp, d);
        for sub in sub_blocks(range.len()) {
            let sub = range.start + sub.start..range.start + sub.end;
            let b = sub.len();
            let rb = resp.slice_mut(s![..b, ..]);
            block.add(x.slice(s![sub, ..]), rb, lp, shifts, &mut sums);
        }
        sums
    });
    let mut log_lik = 0.0;
    let mut moments = Moments::zeros(k, d, plan.squares);
    let mut shifted = shifts.map(|_| ShiftedScatter::zeros(k, d));
    for p in parts {
        log_lik += p.log_lik;
        moments.add(&p.moments);
        if let (Some(total), Some(part)) = (&mut shifted, &p.shifted) {
            total.add(part);
        }
    }
    (log_lik, moments, shifted)
}

/// An E-step pass that writes the responsibilities into `resp` (N×K).
fn stored_pass(
    x: ArrayView2<f64>,
    lp: &LogProb,
    plan: &Plan,
    resp: &mut Array2<f64>,
) -> (f64, Moments) {
    let (k, d) = (plan.k, plan.d);
    let parts = map_tasks_mut(x, resp.view_mut(), |xc, mut rc| {
        let mut sums = TaskSums {
            log_lik: 0.0,
            moments: Moments::zeros(k, d, plan.squares),
            shifted: None,
        };
        let mut block = BlockScratch::new(lp, d);
        for rows in sub_blocks(xc.nrows()) {
            let rb = rc.slice_mut(s![rows.clone(), ..]);
            block.add(xc.slice(s![rows, ..]), rb, lp, None, &mut sums);
        }
        sums
    });
    let mut log_lik = 0.0;
    let mut moments = Moments::zeros(k, d, plan.squares);
    for p in parts {
        log_lik += p.log_lik;
        moments.add(&p.moments);
    }
    (log_lik, moments)
}

/// The scratch of one task of an E-step pass.
struct BlockScratch {
    logprob: Array2<f64>,
    log_norm: Vec<f64>,
    /// Squares of a block (diagonal moments) or its weighted centred rows (scatter).
    rows: Array2<f64>,
}

impl BlockScratch {
    fn new(lp: &LogProb, d: usize) -> Self {
        BlockScratch {
            logprob: lp.scratch(),
            log_norm: vec![0.0; BLOCK_ROWS],
            rows: Array2::zeros((BLOCK_ROWS, d)),
        }
    }

    /// Responsibilities of the block `xb` into `rb`, and its contributions to `sums`.
    fn add(
        &mut self,
        xb: ArrayView2<f64>,
        mut rb: ArrayViewMut2<f64>,
        lp: &LogProb,
        shifts: Option<ArrayView2<f64>>,
        sums: &mut TaskSums,
    ) {
        let b = xb.nrows();
        lp.weighted(xb, rb.view_mut(), &mut self.logprob);
        let ln = &mut self.log_norm[..b];
        log_sum_exp_rows(rb.view_mut(), ln, true);
        sums.log_lik += ln.iter().sum::<f64>();
        sums.moments.add_rows(xb, rb.view(), &mut self.rows);
        if let (Some(shifted), Some(shifts)) = (&mut sums.shifted, shifts) {
            shifted.add_rows(xb, rb.view(), shifts, &mut self.rows);
        }
    }
}

/// The statistics of initial responsibilities (one M-step's worth; `log_lik` is 0).
pub(crate) fn initial_statistics(
    x: ArrayView2<f64>,
    init: &InitialResponsibilities,
    k: usize,
    covariance_type: CovarianceType,
) -> Statistics {
    let squares = needs_squares(covariance_type);
    let full = covariance_type == CovarianceType::Full;
    let (moments, scatter) = match init {
        InitialResponsibilities::Dense(resp) => {
            let m = moments::moments(x, resp.view(), squares);
            let scatter = full.then(|| {
                scatter::scatters_of(x, m.means().view(), |c| RowWeights::Column(resp.column(c)))
            });
            (m, scatter)
        }
        InitialResponsibilities::Labels(labels) => {
            let m = moments::moments_of_labels(x, labels, k, squares);
            let scatter = full.then(|| {
                let members = scatter::members(labels, k);
                scatter::scatters_of(x, m.means().view(), |c| RowWeights::Rows(&members[c]))
            });
            (m, scatter)
        }
        InitialResponsibilities::Seeds(seeds) => {
            let m = moments::moments_of_seeds(x, seeds, squares);
            let scatter = full.then(|| {
                scatter::scatters_of(x, m.means().view(), |c| {
                    RowWeights::Rows(std::slice::from_ref(&seeds[c]))
                })
            });
            (m, scatter)
        }
    };
    Statistics {
        log_lik: 0.0,
        moments,
        scatter,
    }
}

/// Per row: the log-likelihood and the component with the largest weighted log-probability.
pub(crate) fn score_rows(x: ArrayView2<f64>, lp: &LogProb) -> (Array1<f64>, Array1<usize>) {
    let k = lp.k;
    let parts = map_tasks(x.nrows(), |rows| {
        let xc = x.slice(s![rows, ..]);
        let mut scratch = lp.scratch();
        let mut w = Array2::zeros((BLOCK_ROWS, k));
        let mut ll = Vec::with_capacity(xc.nrows());
        let mut labels = Vec::with_capacity(xc.nrows());
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        for rows in sub_blocks(xc.nrows()) {
            let b = rows.len();
            let mut wb = w.slice_mut(s![..b, ..]);
            lp.weighted(xc.slice(s![rows, ..]), wb.view_mut(), &mut scratch);
            for row in wb.outer_iter() {
                let row = row.to_slice().expect("rows are contiguous");
                // The first largest value, as scikit-learn's argmax (NaN never wins).
                let (mut best, mut top) = (0, row[0]);
                for (c, &v) in row.iter().enumerate().skip(1) {
                    if v > top {
                        (best, top) = (c, v);
                    }
                }
                labels.push(best);
            }
            log_sum_exp_rows(wb, &mut log_norm[..b], false);
            ll.extend_from_slice(&log_norm[..b]);
        }
        (ll, labels)
    });
    let mut ll = Vec::with_capacity(x.nrows());
    let mut labels = Vec::with_capacity(x.nrows());
    for (l, lab) in parts {
        ll.extend(l);
        labels.extend(lab);
    }
    (Array1::from(ll), Array1::from(labels))
}

/// Per row: the log-likelihood.
pub(crate) fn log_likelihoods(x: ArrayView2<f64>, lp: &LogProb) -> Array1<f64> {
    let mut ll = Array1::zeros(x.nrows());
    let rows = task_rows(x.nrows());
    ll.as_slice_mut()
        .expect("owned")
        .par_chunks_mut(rows)
        .enumerate()
        .for_each(|(t, out)| {
            let start = t * rows;
            let xc = x.slice(s![start..start + out.len(), ..]);
            let mut scratch = lp.scratch();
            let mut w = Array2::zeros((BLOCK_ROWS, lp.k));
            for sub in sub_blocks(out.len()) {
                let mut wb = w.slice_mut(s![..sub.len(), ..]);
                lp.weighted(xc.slice(s![sub.clone(), ..]), wb.view_mut(), &mut scratch);
                log_sum_exp_rows(wb, &mut out[sub], false);
            }
        });
    ll
}

/// The sum over rows of the log-likelihood (per task, then the tasks in order), without an
/// N-long array.
pub(crate) fn total_log_likelihood(x: ArrayView2<f64>, lp: &LogProb) -> f64 {
    let parts = map_tasks(x.nrows(), |rows| {
        let xc = x.slice(s![rows, ..]);
        let mut scratch = lp.scratch();
        let mut w = Array2::zeros((BLOCK_ROWS, lp.k));
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        let mut total = 0.0;
        for sub in sub_blocks(xc.nrows()) {
            let b = sub.len();
            let mut wb = w.slice_mut(s![..b, ..]);
            lp.weighted(xc.slice(s![sub, ..]), wb.view_mut(), &mut scratch);
            log_sum_exp_rows(wb, &mut log_norm[..b], false);
            total += log_norm[..b].iter().sum::<f64>();
        }
        total
    });
    parts.iter().sum()
}

/// Responsibilities (posterior component probabilities) of each row.
pub(crate) fn responsibilities(x: ArrayView2<f64>, lp: &LogProb) -> Array2<f64> {
    let mut resp = Array2::zeros((x.nrows(), lp.k));
    map_tasks_mut(x, resp.view_mut(), |xc, mut rc| {
        let mut scratch = lp.scratch();
        let mut log_norm = vec![0.0; BLOCK_ROWS];
        for rows in sub_blocks(xc.nrows()) {
            let b = rows.len();
            let mut rb = rc.slice_mut(s![rows.clone(), ..]);
            lp.weighted(xc.slice(s![rows, ..]), rb.view_mut(), &mut scratch);
            log_sum_exp_rows(rb, &mut log_norm[..b], true);
        }
    });
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmm::model::Covariances;
    use ndarray::Array1;

    #[test]
    fn task_size_depends_on_rows_only() {
        assert_eq!(task_rows(10), 256);
        assert_eq!(task_rows(100_000), 1600);
        assert_eq!(task_rows(10_000_000), 4096);
    }

    #[test]
    fn the_scatter_form_follows_memory() {
        let full = CovarianceType::Full;
        // Many rows, few features: partial sums are small beside the responsibilities.
        assert!(matches!(
            Plan::new(10_000_000, 8, 16, full).scatter,
            Some(ScatterForm::Shifted { .. })
        ));
        // Many features: the responsibilities are small beside the partial sums.
        assert_eq!(
            Plan::new(2_000, 512, 4, full).scatter,
            Some(ScatterForm::Stored)
        );
        assert_eq!(Plan::new(2_000, 512, 4, CovarianceType::Tied).scatter, None);
    }

    /// Data, responsibilities-to-be and parameters for the E-step comparisons.
    fn problem(n: usize, d: usize, k: usize) -> (Array2<f64>, LogProb, Array2<f64>) {
        let x = Array2::from_shape_fn((n, d), |(i, j)| {
            ((i * 37 + j * 11) % 29) as f64 * 0.2 + (i % k) as f64 * 1.5 + 100.0
        });
        let means = Array2::from_shape_fn((k, d), |(c, j)| {
            100.0 + c as f64 * 1.5 + 2.8 + 0.01 * j as f64
        });
        let prec = ndarray::Array3::from_shape_fn((k, d, d), |(c, i, j)| {
            if i == j {
                0.6 + 0.05 * c as f64
            } else if i < j {
                0.02 * ((i + 2 * j + c) % 5) as f64 - 0.04
            } else {
                0.0
            }
        });
        let weights = Array1::from_elem(k, 1.0 / k as f64);
        let lp = LogProb::new(weights.view(), means.view(), &Covariances::Full(prec));
        (x, lp, means)
    }

    /// The E-step statistics the plain way: dense responsibilities, then moments and scatters.
    fn reference(x: &Array2<f64>, lp: &LogProb) -> (f64, Moments, Array3<f64>) {
        let resp = responsibilities(x.view(), lp);
        let (ll, _) = score_rows(x.view(), lp);
        let m = moments::moments(x.view(), resp.view(), false);
        let means = m.means();
        let (n, d) = x.dim();
        let k = resp.ncols();
        let mut s = Array3::zeros((k, d, d));
        for c in 0..k {
            for i in 0..n {
                for a in 0..d {
                    for b in 0..d {
                        s[[c, a, b]] += resp[[i, c]]
                            * (x[[i, a]] - means[[c, a]])
                            * (x[[i, b]] - means[[c, b]]);
                    }
                }
            }
        }
        (ll.sum(), m, s)
    }

    #[test]
    fn shifted_and_stored_forms_give_the_plain_statistics() {
        for (n, d, k) in [(3000, 3, 3), (900, 40, 2)] {
            let (x, lp, means) = problem(n, d, k);
            let (ll, m, s) = reference(&x, &lp);
            for form in [
                ScatterForm::Shifted {
                    task_rows: task_rows(n),
                },
                ScatterForm::Stored,
            ] {
                let plan = Plan {
                    k,
                    d,
                    squares: false,
                    scatter: Some(form),
                };
                let mut ws = plan.workspace(n);
                let stats = e_step(x.view(), &lp, &plan, means.view(), &mut ws);
                assert!((stats.log_lik - ll).abs() <= 1e-9 * ll.abs(), "{form:?}");
                for (a, b) in stats.moments.rx.iter().zip(m.rx.iter()) {
                    assert!((a - b).abs() <= 1e-9 * b.abs(), "{form:?}");
                }
                let got = stats.scatter.unwrap();
                let scale = s.iter().fold(0.0f64, |a, v| a.max(v.abs()));
                for (a, b) in got.iter().zip(s.iter()) {
                    assert!((a - b).abs() <= 1e-10 * scale, "{form:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn initial_statistics_match_their_dense_form() {
        let (x, _, _) = problem(1200, 5, 3);
        let (n, k) = (1200, 3);
        let forms = [
            InitialResponsibilities::Labels((0..n).map(|i| (i * 7) % k).collect()),
            InitialResponsibilities::Seeds(vec![4, 0, 1100]),
        ];
        for init in forms {
            let dense = InitialResponsibilities::Dense(init.to_dense(n, k));
            for ct in CovarianceType::ALL {
                let a = initial_statistics(x.view(), &init, k, ct);
                let b = initial_statistics(x.view(), &dense, k, ct);
                assert_eq!(a.moments.nk, b.moments.nk);
                for (u, v) in a.moments.rx.iter().zip(b.moments.rx.iter()) {
                    assert!((u - v).abs() <= 1e-10 * v.abs().max(1.0));
                }
                if let (Some(sa), Some(sb)) = (a.scatter, b.scatter) {
                    let scale = sb.iter().fold(1e-300f64, |m, v| m.max(v.abs()));
                    for (u, v) in sa.iter().zip(sb.iter()) {
                        assert!((u - v).abs() <= 1e-10 * scale, "{u} vs {v}");
                    }
                }
            }
        }
    }
}
