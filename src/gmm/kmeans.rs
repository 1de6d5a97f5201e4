//! k-means used to initialise mixtures, with scikit-learn's semantics.
//!
//! * [`kmeans_plusplus`] is scikit-learn's greedy k-means++ seeding: the first centre is a
//!   uniformly drawn row; every further centre is the best of `2 + ⌊ln k⌋` candidates drawn with
//!   probability proportional to the squared distance to the nearest centre so far, "best"
//!   meaning the smallest total potential (sum of squared distances to the nearest centre).
//! * [`kmeans_labels`] is `KMeans(n_clusters=k, n_init=1)`: k-means++ seeding, then Lloyd
//!   iterations (at most 300) until the labels no longer change or the squared centre shift is
//!   at most `1e-4 ×` the mean per-feature variance; the labels of the final centres are returned.
//!
//! Empty clusters are relocated like scikit-learn: each empty cluster takes the point that is
//! farthest from its own centre (the farthest point for the first empty cluster, the second
//! farthest for the second, ...), which is moved out of its cluster's sum.
//!
//! Work is split into fixed blocks of rows processed in parallel with rayon; per-block partial
//! results are combined in block order, so the results do not depend on the number of threads.
//! Lloyd's assignment step works on centred data with the GEMM form
//! `‖c‖² − 2 x·c` (the `‖x‖²` term does not change the arg-min).

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, Axis};
use rand::Rng;
use rayon::prelude::*;

use super::kernels::squared_distance;
use crate::linalg::simd_dispatch;

/// Rows per parallel work item; fixed so that results do not depend on the thread count.
const BLOCK_ROWS: usize = 256;
/// scikit-learn's `KMeans.max_iter` default.
const MAX_ITER: usize = 300;
/// scikit-learn's `KMeans.tol` default, relative to the mean per-feature variance.
const RELATIVE_TOL: f64 = 1e-4;

/// Row indices of `k` k-means++ seeds of `x`, in the order they were chosen.
///
/// Seeds are distinct rows whenever `x` has at least `k` distinct rows: candidates are drawn
/// only among rows at a positive distance from every centre so far. When every row coincides
/// with a centre already (fewer distinct rows than `k`), the next seed is a uniformly drawn row
/// not chosen yet (any row if `k` exceeds the number of rows). Returns an empty vector when `k`
/// is 0 or `x` has no rows.
pub(crate) fn kmeans_plusplus<R: Rng + ?Sized>(
    x: ArrayView2<f64>,
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    let n = x.nrows();
    if k == 0 || n == 0 {
        return Vec::new();
    }
    let x = x.as_standard_layout();
    let x = x.view();
    let n_local_trials = 2 + (k as f64).ln().floor() as usize;
    let mut seeds = Vec::with_capacity(k);
    let first = rng.random_range(0..n);
    seeds.push(first);
    let mut closest = vec![0.0; n];
    distances_to_row(x, x.row(first), &mut closest, Update::Replace);
    while seeds.len() < k {
        let prefix = BlockPrefix::new(&closest);
        let total = prefix.total();
        if total.is_nan() || total <= 0.0 {
            // Every row coincides with a centre: all distances stay zero.
            seeds.push(uniform_unchosen_row(n, &seeds, rng));
            continue;
        }
        let candidates: Vec<usize> = (0..n_local_trials)
            .map(|_| {
                let r = rng.random::<f64>() * total;
                // First row whose cumulative potential exceeds r: its own distance is > 0.
                prefix.first_exceeding(&closest, r)
            })
            .collect();
        let mut best: Option<(usize, f64)> = None;
        for &cand in &candidates {
            let pot = potential_with_row(x, x.row(cand), &closest);
            if best.is_none_or(|(_, b)| pot < b) {
                best = Some((cand, pot));
            }
        }
        let (chosen, _) = best.unwrap_or((candidates[0], 0.0));
        seeds.push(chosen);
        distances_to_row(x, x.row(chosen), &mut closest, Update::Min);
    }
    seeds
}

/// The running sum of the distances, `Σ_{i ≤ r} closest[i]` in row order, kept only at the
/// end of every block: the row where the sum first exceeds a value is found by searching the
/// blocks, then summing on inside one block from its start. The sums are the ones a single
/// running sum over all rows gives, with one value per block in memory instead of per row.
struct BlockPrefix {
    ends: Vec<f64>,
}

impl BlockPrefix {
    fn new(closest: &[f64]) -> Self {
        let mut running = 0.0;
        let ends = closest
            .chunks(BLOCK_ROWS)
            .map(|block| {
                for &d in block {
                    running += d;
                }
                running
            })
            .collect();
        BlockPrefix { ends }
    }

    fn total(&self) -> f64 {
        self.ends.last().copied().unwrap_or(0.0)
    }

    /// The first row whose running sum is above `r` (the last row if none is).
    fn first_exceeding(&self, closest: &[f64], r: f64) -> usize {
        let n = closest.len();
        let block = self.ends.partition_point(|&c| c <= r);
        if block >= self.ends.len() {
            return n - 1;
        }
        let mut running = if block == 0 {
            0.0
        } else {
            self.ends[block - 1]
        };
        let start = block * BLOCK_ROWS;
        for (i, &d) in closest[start..(start + BLOCK_ROWS).min(n)]
            .iter()
            .enumerate()
        {
            running += d;
            if running > r {
                return start + i;
            }
        }
        (start + BLOCK_ROWS).min(n) - 1
    }
}

/// Labels (`0..k`) of one k-means run on `x`, as `KMeans(n_clusters=k, n_init=1)`.
///
/// Returns all zeros when `k ≤ 1` and an empty array when `x` has no rows.
pub(crate) fn kmeans_labels<R: Rng + ?Sized>(
    x: ArrayView2<f64>,
    k: usize,
    rng: &mut R,
) -> Vec<usize> {
    let (n, d) = x.dim();
    if n == 0 || k <= 1 || d == 0 {
        return vec![0; n];
    }
    let seeds = kmeans_plusplus(x, k, rng);
    lloyd(x, &seeds).0
}

/// Lloyd iterations from the centres at rows `seeds` of `x`: the labels of the final centres
/// and the number of iterations run (scikit-learn's `n_iter_`).
fn lloyd(x: ArrayView2<f64>, seeds: &[usize]) -> (Vec<usize>, usize) {
    let d = x.ncols();
    let k = seeds.len();
    let x = x.as_standard_layout();
    let x = x.view();
    let mean = x.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let tol = RELATIVE_TOL * mean_variance(x, mean.view());
    // Every step works on the centred data, centred block by block (the same values as a
    // centred copy, without the copy).
    let centred = Centred {
        x,
        mean: mean.as_slice().expect("owned").to_vec(),
    };
    let mut centres = Array2::zeros((k, d));
    for (c, &row) in seeds.iter().enumerate() {
        centred.row_into(row, centres.row_mut(c).as_slice_mut().expect("owned"));
    }
    let mut labels = vec![usize::MAX; x.nrows()];
    let mut strict_convergence = false;
    let mut n_iter = MAX_ITER;
    for iteration in 1..=MAX_ITER {
        let (mut sums, mut counts, changed) = assign_and_sum(&centred, centres.view(), &mut labels);
        if counts.contains(&0) {
            relocate_empty_clusters(&centred, centres.view(), &labels, &mut sums, &mut counts);
        }
        let mut new_centres = centres.clone();
        for (c, &count) in counts.iter().enumerate() {
            if count > 0 {
                let mut row = new_centres.row_mut(c);
                row.assign(&sums.row(c));
                row /= count as f64;
            }
        }
        let shift: f64 = (&new_centres - &centres).iter().map(|v| v * v).sum();
        centres = new_centres;
        // The first assignment changes every label (they start unset).
        if changed == 0 {
            strict_convergence = true;
            n_iter = iteration;
            break;
        }
        if shift <= tol {
            n_iter = iteration;
            break;
        }
    }
    if !strict_convergence {
        assign_and_sum(&centred, centres.view(), &mut labels);
    }
    (labels, n_iter)
}

/// The rows of `x` minus `mean`, computed where needed.
struct Centred<'a> {
    x: ArrayView2<'a, f64>,
    mean: Vec<f64>,
}

impl Centred<'_> {
    fn d(&self) -> usize {
        self.mean.len()
    }

    /// Row `i` centred, into `out`.
    fn row_into(&self, i: usize, out: &mut [f64]) {
        let d = self.d();
        let row = &self.x.as_slice().expect("standard layout")[i * d..(i + 1) * d];
        for ((o, &v), &m) in out.iter_mut().zip(row).zip(&self.mean) {
            *o = v - m;
        }
    }

    /// Rows `rows` centred, into the first rows of `out` (row-major, `d` columns).
    fn block_into(&self, rows: std::ops::Range<usize>, out: &mut [f64]) {
        let d = self.d().max(1);
        for (i, o) in rows.zip(out.chunks_exact_mut(d)) {
            self.row_into(i, o);
        }
    }
}

/// How [`distances_to_row`] updates its output.
#[derive(Clone, Copy)]
enum Update {
    /// `out[i] = ‖x_i − c‖²`.
    Replace,
    /// `out[i] = min(out[i], ‖x_i − c‖²)`.
    Min,
}

/// Updates `out[i]` with `‖x_i − c‖²` as `update` says (`x` in standard layout).
fn distances_to_row(x: ArrayView2<f64>, c: ArrayView1<f64>, out: &mut [f64], update: Update) {
    let c = c.to_vec();
    let rows = x.as_slice().expect("standard layout");
    let d = c.len().max(1);
    out.par_chunks_mut(BLOCK_ROWS)
        .enumerate()
        .for_each(|(b, chunk)| {
            let start = b * BLOCK_ROWS;
            let block = &rows[start * d..(start + chunk.len()) * d];
            block_distances(block, &c, chunk, update);
        });
}

/// `Σ_i min(closest[i], ‖x_i − c‖²)`, summed per block and the blocks in order (the potential
/// if `c` joined the centres).
fn potential_with_row(x: ArrayView2<f64>, c: ArrayView1<f64>, closest: &[f64]) -> f64 {
    let c = c.to_vec();
    let rows = x.as_slice().expect("standard layout");
    let d = c.len().max(1);
    let partials: Vec<f64> = closest
        .par_chunks(BLOCK_ROWS)
        .enumerate()
        .map(|(b, floor)| {
            let start = b * BLOCK_ROWS;
            let block = &rows[start * d..(start + floor.len()) * d];
            block_potential(block, &c, floor)
        })
        .collect();
    partials.iter().sum()
}

/// [`distances_to_row`] on one block of rows (`block`, row-major, `out.len()` rows).
fn block_distances(block: &[f64], c: &[f64], out: &mut [f64], update: Update) {
    #[inline(always)]
    fn generic(block: &[f64], c: &[f64], out: &mut [f64], update: Update) {
        for (o, row) in out.iter_mut().zip(block.chunks_exact(c.len().max(1))) {
            let dist = squared_distance(row, c);
            *o = match update {
                Update::Replace => dist,
                Update::Min => dist.min(*o),
            };
        }
    }
    simd_dispatch!(
        generic,
        (block: &[f64], c: &[f64], out: &mut [f64], update: Update)
    )
}

/// The sum of [`potential_with_row`] over one block.
fn block_potential(block: &[f64], c: &[f64], floor: &[f64]) -> f64 {
    #[inline(always)]
    fn generic(block: &[f64], c: &[f64], floor: &[f64]) -> f64 {
        let mut sum = 0.0;
        for (&f, row) in floor.iter().zip(block.chunks_exact(c.len().max(1))) {
            sum += squared_distance(row, c).min(f);
        }
        sum
    }
    simd_dispatch!(generic, (block: &[f64], c: &[f64], floor: &[f64]) -> f64)
}

/// A uniformly drawn row index not in `chosen` (any row if all are chosen).
fn uniform_unchosen_row<R: Rng + ?Sized>(n: usize, chosen: &[usize], rng: &mut R) -> usize {
    let free: Vec<usize> = (0..n).filter(|i| !chosen.contains(i)).collect();
    if free.is_empty() {
        rng.random_range(0..n)
    } else {
        free[rng.random_range(0..free.len())]
    }
}

/// Mean over features of the (population) variance of each feature.
fn mean_variance(x: ArrayView2<f64>, mean: ArrayView1<f64>) -> f64 {
    let (n, d) = x.dim();
    let mut var = Array1::<f64>::zeros(d);
    for row in x.outer_iter() {
        for ((v, &xi), &m) in var.iter_mut().zip(row.iter()).zip(mean.iter()) {
            *v += (xi - m) * (xi - m);
        }
    }
    var.sum() / (n as f64 * d as f64)
}

/// Assigns every row of the centred data to its nearest centre (ties go to the lowest index)
/// and returns the per-cluster sums of those (centred) rows, the cluster sizes and how many
/// labels changed. `centres` are centred too.
fn assign_and_sum(
    xc: &Centred,
    centres: ArrayView2<f64>,
    labels: &mut [usize],
) -> (Array2<f64>, Vec<usize>, usize) {
    let (k, d) = centres.dim();
    let centre_norms: Vec<f64> = centres
        .outer_iter()
        .map(|c| c.iter().map(|v| v * v).sum())
        .collect();
    let centres_t = centres.t();
    let partials: Vec<(Array2<f64>, Vec<usize>, usize)> = labels
        .par_chunks_mut(BLOCK_ROWS)
        .enumerate()
        .map(|(b, block_labels)| {
            let start = b * BLOCK_ROWS;
            let rows = block_labels.len();
            let mut block = Array2::<f64>::zeros((rows, d));
            xc.block_into(
                start..start + rows,
                block.as_slice_mut().expect("owned standard layout"),
            );
            let dots = block.dot(&centres_t);
            let mut sums = Array2::<f64>::zeros((k, d));
            let mut counts = vec![0usize; k];
            let mut changed = 0;
            let block = block.as_slice().expect("owned standard layout");
            // `dot` may hand back a column-major product for some shapes.
            let dots = dots.as_standard_layout();
            let dots = dots.as_slice().expect("standard layout");
            let sums_flat = sums.as_slice_mut().expect("owned standard layout");
            for ((label, dots_i), row) in block_labels
                .iter_mut()
                .zip(dots.chunks_exact(k))
                .zip(block.chunks_exact(d.max(1)))
            {
                let mut best = 0;
                let mut best_dist = f64::INFINITY;
                for (c, (&norm, &dot)) in centre_norms.iter().zip(dots_i).enumerate() {
                    let dist = norm - 2.0 * dot;
                    if dist < best_dist {
                        best_dist = dist;
                        best = c;
                    }
                }
                if *label != best {
                    changed += 1;
                    *label = best;
                }
                counts[best] += 1;
                for (s, &v) in sums_flat[best * d..(best + 1) * d].iter_mut().zip(row) {
                    *s += v;
                }
            }
            (sums, counts, changed)
        })
        .collect();
    let mut sums = Array2::<f64>::zeros((k, d));
    let mut counts = vec![0usize; k];
    let mut changed = 0;
    for (block_sums, block_counts, block_changed) in partials {
        sums += &block_sums;
        for (c, n) in counts.iter_mut().zip(block_counts) {
            *c += n;
        }
        changed += block_changed;
    }
    (sums, counts, changed)
}

/// scikit-learn's relocation of empty clusters on the centred data: the `e` empty clusters
/// take the `e` points farthest from their assigned (old) centre, farthest first (ties to the
/// lower row); each point is removed from its cluster's sum. Labels are not changed (the next
/// assignment step does that).
fn relocate_empty_clusters(
    xc: &Centred,
    centres: ArrayView2<f64>,
    labels: &[usize],
    sums: &mut Array2<f64>,
    counts: &mut [usize],
) {
    let empty: Vec<usize> = (0..counts.len()).filter(|&c| counts[c] == 0).collect();
    let e = empty.len();
    let d = xc.d();
    // The e farthest rows of each block, then of all blocks: (distance, row), farthest first.
    let farthest_first =
        |a: &(f64, usize), b: &(f64, usize)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let keep = |mut list: Vec<(f64, usize)>| {
        list.sort_by(farthest_first);
        list.truncate(e);
        list
    };
    let per_block: Vec<Vec<(f64, usize)>> = labels
        .par_chunks(BLOCK_ROWS)
        .enumerate()
        .map(|(b, block_labels)| {
            let start = b * BLOCK_ROWS;
            let mut row = vec![0.0; d];
            let list = block_labels
                .iter()
                .enumerate()
                .map(|(i, &label)| {
                    xc.row_into(start + i, &mut row);
                    let centre = centres.row(label);
                    let dist = squared_distance(&row, centre.as_slice().expect("standard layout"));
                    (dist, start + i)
                })
                .collect();
            keep(list)
        })
        .collect();
    let order = keep(per_block.into_iter().flatten().collect());
    let mut point = vec![0.0; d];
    for (&cluster, &(_, far)) in empty.iter().zip(order.iter()) {
        xc.row_into(far, &mut point);
        let point = ArrayView1::from(&point);
        let old = labels[far];
        let mut old_sum = sums.row_mut(old);
        old_sum -= &point;
        counts[old] -= 1;
        sums.row_mut(cluster).assign(&point);
        counts[cluster] = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use std::collections::{HashMap, HashSet};

    /// `per_blob` rows around each centre, blob after blob, with unit noise scaled by `spread`.
    fn blobs(centres: &[[f64; 3]], per_blob: usize, spread: f64, seed: u64) -> Array2<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut x = Array2::zeros((centres.len() * per_blob, 3));
        for (b, centre) in centres.iter().enumerate() {
            for i in 0..per_blob {
                for j in 0..3 {
                    let noise: f64 = StandardNormal.sample(&mut rng);
                    x[[b * per_blob + i, j]] = centre[j] + spread * noise;
                }
            }
        }
        x
    }

    const CENTRES: [[f64; 3]; 4] = [
        [0.0, 0.0, 0.0],
        [20.0, 0.0, 0.0],
        [0.0, 20.0, 5.0],
        [-15.0, -10.0, 20.0],
    ];

    fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// True when `labels` split the rows exactly like the blobs do (up to renaming).
    fn recovers_blobs(labels: &[usize], n_blobs: usize, per_blob: usize) -> bool {
        let mut map = HashMap::new();
        for (i, &l) in labels.iter().enumerate() {
            let blob = i / per_blob;
            if *map.entry(blob).or_insert(l) != l {
                return false;
            }
        }
        map.values().collect::<HashSet<_>>().len() == n_blobs
    }

    #[test]
    fn seeds_are_distinct_rows() {
        let x = blobs(&CENTRES, 50, 1.0, 1);
        for k in [1, 2, 4, 9, 30] {
            for seed in 0..5 {
                let seeds = kmeans_plusplus(x.view(), k, &mut rng(seed));
                assert_eq!(seeds.len(), k);
                assert!(seeds.iter().all(|&i| i < x.nrows()));
                assert_eq!(
                    seeds.iter().collect::<HashSet<_>>().len(),
                    k,
                    "k={k} seed={seed}"
                );
            }
        }
    }

    #[test]
    fn seeding_picks_one_row_per_separated_blob() {
        let x = blobs(&CENTRES, 40, 0.5, 2);
        for seed in 0..10 {
            let seeds = kmeans_plusplus(x.view(), 4, &mut rng(seed));
            let blobs_hit: HashSet<usize> = seeds.iter().map(|&i| i / 40).collect();
            assert_eq!(blobs_hit.len(), 4, "seed {seed}: {seeds:?}");
        }
    }

    #[test]
    fn seeding_with_fewer_distinct_rows_than_k_still_returns_distinct_rows() {
        let x = array![[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [5.0, 5.0]];
        let seeds = kmeans_plusplus(x.view(), 4, &mut rng(3));
        assert_eq!(seeds.iter().collect::<HashSet<_>>().len(), 4);
    }

    #[test]
    fn separated_blobs_are_recovered() {
        let x = blobs(&CENTRES, 60, 1.0, 4);
        for seed in 0..5 {
            let labels = kmeans_labels(x.view(), 4, &mut rng(seed));
            assert!(recovers_blobs(&labels, 4, 60), "seed {seed}: {labels:?}");
        }
    }

    #[test]
    fn blobs_far_from_the_origin_are_recovered() {
        let mut x = blobs(&CENTRES, 60, 1.0, 5);
        x += 1e7;
        let labels = kmeans_labels(x.view(), 4, &mut rng(0));
        assert!(recovers_blobs(&labels, 4, 60), "{labels:?}");
    }

    #[test]
    fn deterministic_with_the_seed_and_any_thread_count() {
        // More rows than one block so that the parallel split matters.
        let x = blobs(&CENTRES, 400, 4.0, 6);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("thread pool")
                .install(|| {
                    (
                        kmeans_plusplus(x.view(), 6, &mut rng(11)),
                        kmeans_labels(x.view(), 6, &mut rng(11)),
                    )
                })
        };
        let one = run(1);
        assert_eq!(one, run(3));
        assert_eq!(one, run(1));
        assert_ne!(one.1, kmeans_labels(x.view(), 6, &mut rng(12)));
    }

    #[test]
    fn k_equal_to_the_number_of_rows_gives_each_row_its_own_cluster() {
        let x = blobs(&CENTRES, 5, 1.0, 7);
        let labels = kmeans_labels(x.view(), x.nrows(), &mut rng(0));
        let distinct: HashSet<usize> = labels.iter().copied().collect();
        assert_eq!(distinct.len(), x.nrows());
        assert!(labels.iter().all(|&l| l < x.nrows()));
    }

    #[test]
    fn one_cluster_and_empty_data_are_trivial() {
        let x = blobs(&CENTRES, 5, 1.0, 8);
        assert!(kmeans_labels(x.view(), 1, &mut rng(0))
            .iter()
            .all(|&l| l == 0));
        let empty = Array2::<f64>::zeros((0, 3));
        assert_eq!(kmeans_labels(empty.view(), 3, &mut rng(0)).len(), 0);
        assert!(kmeans_plusplus(empty.view(), 3, &mut rng(0)).is_empty());
    }

    #[test]
    fn lloyd_reaches_the_two_means_of_a_line() {
        // Two obvious groups; whatever the seeds, Lloyd ends at {0,1,2} vs {10,11,12}.
        let x = array![[0.0], [1.0], [2.0], [10.0], [11.0], [12.0]];
        for seed in 0..10 {
            let labels = kmeans_labels(x.view(), 2, &mut rng(seed));
            assert!(recovers_blobs(&labels, 2, 3), "seed {seed}: {labels:?}");
        }
    }

    fn json_matrix(v: &serde_json::Value) -> Array2<f64> {
        let rows = v.as_array().expect("rows");
        let d = rows[0].as_array().expect("row").len();
        Array2::from_shape_fn((rows.len(), d), |(i, j)| {
            rows[i][j].as_f64().expect("number")
        })
    }

    /// scikit-learn's `KMeans(init=x[seed_rows], n_init=1)` labels and iteration counts,
    /// written by `scripts/gen_gmm_fixtures.py`.
    #[test]
    fn lloyd_matches_scikit_learn_from_the_same_centres() {
        let data: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/gmm/datasets.json"))
                .expect("datasets fixture");
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/gmm/kmeans_lloyd.json"))
                .expect("kmeans fixture");
        let cases = fixture["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 4);
        for case in cases {
            let name = case["dataset"].as_str().expect("dataset");
            let x = json_matrix(&data["datasets"][name]["train"]);
            let seeds: Vec<usize> = case["seed_rows"]
                .as_array()
                .expect("seed rows")
                .iter()
                .map(|v| v.as_u64().expect("row") as usize)
                .collect();
            let want: Vec<usize> = case["labels"]
                .as_array()
                .expect("labels")
                .iter()
                .map(|v| v.as_u64().expect("label") as usize)
                .collect();
            let (labels, n_iter) = lloyd(x.view(), &seeds);
            assert_eq!(labels, want, "{name} k={}", seeds.len());
            assert_eq!(n_iter as u64, case["n_iter"].as_u64().unwrap(), "{name}");
        }
    }

    #[test]
    fn empty_clusters_take_the_farthest_points() {
        let x = array![[0.0], [1.0], [9.0], [4.0]];
        let centres = array![[0.0], [100.0], [200.0]];
        let labels = vec![0, 0, 0, 0];
        let mut sums = array![[14.0], [0.0], [0.0]];
        let mut counts = vec![4, 0, 0];
        let xc = Centred {
            x: x.view(),
            mean: vec![0.0],
        };
        relocate_empty_clusters(&xc, centres.view(), &labels, &mut sums, &mut counts);
        // Farthest from centre 0 is row 2 (9), then row 3 (4).
        assert_eq!(counts, vec![2, 1, 1]);
        assert_eq!(sums, array![[1.0], [9.0], [4.0]]);
    }
}
