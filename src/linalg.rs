//! The few dense factorisations the mixture model needs, behind one small interface.
//!
//! Matrices are small (d×d, d = number of features), so every routine here runs
//! sequentially; parallelism lives in the callers, over blocks of rows. Up to order 64 the
//! factorisations are plain loops over contiguous rows (faster than a blocked routine's setup at
//! that size); above, faer's blocked routines.
//!
//! ```
//! use gmmtune::linalg::{cholesky_lower, invert_lower_triangular};
//! use ndarray::array;
//!
//! let a = array![[4.0, 2.0], [2.0, 3.0]];
//! let l = cholesky_lower(a.view()).expect("positive definite");
//! assert!((l[[0, 0]] - 2.0).abs() < 1e-12 && l[[0, 1]] == 0.0);
//! let inv = invert_lower_triangular(l.view()).expect("non-singular");
//! let eye = l.dot(&inv);
//! assert!((eye[[1, 1]] - 1.0).abs() < 1e-12 && eye[[1, 0]].abs() < 1e-12);
//! ```

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatRef, Par};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

fn to_faer(a: ArrayView2<f64>) -> Mat<f64> {
    Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]])
}

fn from_faer(m: MatRef<'_, f64>) -> Array2<f64> {
    Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// Lower-triangular Cholesky factor `L` of a symmetric positive-definite matrix (`A = L·Lᵀ`),
/// reading only the lower triangle of `a`.
///
/// Returns `None` when `a` is not square, holds a non-finite value in its lower triangle, or is
/// not positive definite.
pub fn cholesky_lower(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return None;
    }
    if !lower_is_finite(a) {
        return None;
    }
    if n == 0 {
        return Some(Array2::zeros((0, 0)));
    }
    cholesky_lower_checked(a)
}

/// [`cholesky_lower`] by faer's blocked factorisation (checked input, `n > 0`).
fn cholesky_lower_blocked(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    // Sequential on purpose: results must not depend on the thread count, and d is small.
    let mut m = Mat::from_fn(n, n, |i, j| if j <= i { a[[i, j]] } else { 0.0 });
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            n,
            Par::Seq,
            Default::default(),
        ),
    );
    faer::linalg::cholesky::llt::factor::cholesky_in_place(
        m.as_mut(),
        Default::default(),
        Par::Seq,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    let mut l = from_faer(m.as_ref());
    for i in 0..n {
        for j in (i + 1)..n {
            l[[i, j]] = 0.0;
        }
    }
    if l.iter().all(|v| v.is_finite()) && (0..n).all(|i| l[[i, i]] > 0.0) {
        Some(l)
    } else {
        None
    }
}

/// Inverse of a lower-triangular matrix (only its lower triangle is read).
///
/// Returns `None` when `l` is not square or a diagonal entry is zero or not finite.
pub fn invert_lower_triangular(l: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = l.nrows();
    if l.ncols() != n || (0..n).any(|i| !(l[[i, i]].is_finite() && l[[i, i]] != 0.0)) {
        return None;
    }
    invert_lower_triangular_checked(l)
}

/// [`invert_lower_triangular`] by faer (checked input).
fn invert_lower_triangular_blocked(l: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = l.nrows();
    let src = to_faer(l);
    let mut dst = Mat::<f64>::zeros(n, n);
    faer::linalg::triangular_inverse::invert_lower_triangular(dst.as_mut(), src.as_ref(), Par::Seq);
    let mut out = from_faer(dst.as_ref());
    for i in 0..n {
        for j in (i + 1)..n {
            out[[i, j]] = 0.0;
        }
    }
    out.iter().all(|v| v.is_finite()).then_some(out)
}

/// The instruction sets the hand-written hot loops are compiled for, narrowest first.
///
/// Every loop is built three times and one build is chosen at run time by what the CPU has
/// ([`SimdLevel::detected`]), capped by [`limit_simd`]. The builds perform the same IEEE
/// operations in the same order (no fused multiply-adds are formed), so they give the same
/// bits; only the speed differs. (faer's matrix products choose their own instructions.)
///
/// ```
/// use gmmtune::linalg::{limit_simd, SimdLevel};
///
/// let best = SimdLevel::detected();
/// assert!(SimdLevel::Scalar <= best);
/// limit_simd(Some(SimdLevel::Scalar)); // e.g. to compare the builds
/// assert_eq!(SimdLevel::current(), SimdLevel::Scalar);
/// limit_simd(None);
/// assert_eq!(SimdLevel::current(), best);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimdLevel {
    /// Plain x86-64 (SSE2) or another architecture.
    Scalar,
    /// AVX2 with FMA (256-bit vectors).
    Avx2,
    /// AVX-512F (512-bit vectors).
    Avx512,
}

impl SimdLevel {
    const ALL: [SimdLevel; 3] = [SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512];

    /// The widest level this CPU supports (detected once).
    pub fn detected() -> SimdLevel {
        static DETECTED: OnceLock<SimdLevel> = OnceLock::new();
        *DETECTED.get_or_init(detect_simd)
    }

    /// The level the hot loops run at: [`SimdLevel::detected`] capped by [`limit_simd`].
    #[inline]
    pub fn current() -> SimdLevel {
        let limit = SIMD_LIMIT.load(Ordering::Relaxed);
        let detected = SimdLevel::detected();
        match SimdLevel::ALL.get(limit as usize) {
            Some(&cap) if cap < detected => cap,
            _ => detected,
        }
    }

    /// Lower-case name: `scalar`, `avx2` or `avx512`.
    pub fn name(self) -> &'static str {
        match self {
            SimdLevel::Scalar => "scalar",
            SimdLevel::Avx2 => "avx2",
            SimdLevel::Avx512 => "avx512",
        }
    }
}

impl std::fmt::Display for SimdLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for SimdLevel {
    type Err = String;

    /// Accepts `scalar`, `avx2` and `avx512`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SimdLevel::ALL
            .into_iter()
            .find(|l| l.name() == s)
            .ok_or_else(|| format!("unknown SIMD level `{s}` (expected scalar, avx2 or avx512)"))
    }
}

fn detect_simd() -> SimdLevel {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return SimdLevel::Avx512;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            return SimdLevel::Avx2;
        }
    }
    SimdLevel::Scalar
}

/// No limit: the index past [`SimdLevel::ALL`].
static SIMD_LIMIT: AtomicU8 = AtomicU8::new(u8::MAX);

/// Caps the instruction set of the hand-written loops for the whole process (`None`: the
/// widest the CPU has). The results do not change, only the speed; tests and benchmarks use it
/// to run every build on one machine.
pub fn limit_simd(level: Option<SimdLevel>) {
    let value = level.map_or(u8::MAX, |l| l as u8);
    SIMD_LIMIT.store(value, Ordering::Relaxed);
}

/// Calls `$f(args…)` compiled for the [`SimdLevel`] in force: AVX-512F, AVX2/FMA, or as it is
/// otherwise; the one dispatch of every hot loop. `$f` should be `#[inline(always)]` so that
/// its body is compiled into each build, and must not call FMA intrinsics (the builds then give
/// the same bits). It is the tail of a function, with the arguments named as the caller's
/// variables: `simd_dispatch!(body, (x: &[f64], out: &mut [f64]) -> f64)`.
///
/// A second form takes the builds written by hand (with `core::arch` intrinsics, for loops the
/// compiler does not vectorise well): `simd_dispatch!(avx512: f512, avx2: f256, scalar: f,
/// (args…) -> ret)`, where `f512` and `f256` are `unsafe fn`s with `#[target_feature]`
/// `avx512f` and `avx2,fma` (x86-64 only) and all three perform the same operations per
/// element in the same order.
macro_rules! simd_dispatch {
    (avx512: $f512:path, avx2: $f256:path, scalar: $f:path,
     ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {{
        #[cfg(target_arch = "x86_64")]
        match $crate::linalg::SimdLevel::current() {
            // SAFETY: the CPU supports AVX-512F (detected at run time).
            $crate::linalg::SimdLevel::Avx512 => return unsafe { $f512($($arg),*) },
            // SAFETY: the CPU supports AVX2 and FMA (detected at run time).
            $crate::linalg::SimdLevel::Avx2 => return unsafe { $f256($($arg),*) },
            $crate::linalg::SimdLevel::Scalar => {}
        }
        $f($($arg),*)
    }};
    ($f:path, ($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)?) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx512f,avx2,fma")]
            unsafe fn wide512($($arg: $ty),*) $(-> $ret)? {
                $f($($arg),*)
            }
            #[target_feature(enable = "avx2,fma")]
            unsafe fn wide256($($arg: $ty),*) $(-> $ret)? {
                $f($($arg),*)
            }
            match $crate::linalg::SimdLevel::current() {
                // SAFETY: the CPU supports AVX-512F, AVX2 and FMA (detected at run time).
                $crate::linalg::SimdLevel::Avx512 => return unsafe { wide512($($arg),*) },
                // SAFETY: the CPU supports AVX2 and FMA (detected at run time).
                $crate::linalg::SimdLevel::Avx2 => return unsafe { wide256($($arg),*) },
                $crate::linalg::SimdLevel::Scalar => {}
            }
        }
        $f($($arg),*)
    }};
}
pub(crate) use simd_dispatch;

/// [`cholesky_lower`] on checked input: the loops below for order up to [`SMALL_N`], faer above.
fn cholesky_lower_checked(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    if a.nrows() > SMALL_N {
        return cholesky_lower_blocked(a);
    }
    simd_dispatch!(cholesky_lower_small, (a: ArrayView2<f64>) -> Option<Array2<f64>>)
}

/// [`invert_lower_triangular`] on checked input, as [`cholesky_lower_checked`] chooses.
fn invert_lower_triangular_checked(l: ArrayView2<f64>) -> Option<Array2<f64>> {
    if l.nrows() > SMALL_N {
        return invert_lower_triangular_blocked(l);
    }
    simd_dispatch!(invert_lower_triangular_small, (l: ArrayView2<f64>) -> Option<Array2<f64>>)
}

/// Up to this order the factorisations run as plain loops over contiguous rows: for a
/// mixture's d×d matrices (d up to a few dozen) faer's blocked routines spend more on setup
/// and copies than on arithmetic.
const SMALL_N: usize = 64;

/// [`cholesky_lower`] for `n ≤ SMALL_N` (finite lower triangle already checked): the
/// right-looking (outer-product) algorithm on a row-major buffer, as LAPACK's unblocked
/// `dpotf2` orders it: each column is scaled by the reciprocal of its pivot, then the trailing
/// rows are updated with independent, contiguous multiply-adds.
#[inline(always)]
fn cholesky_lower_small(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    let mut w = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            w[i * n + j] = a[[i, j]];
        }
    }
    let mut column = vec![0.0; n];
    for j in 0..n {
        let pivot = w[j * n + j];
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        let ljj = pivot.sqrt();
        w[j * n + j] = ljj;
        let inv = 1.0 / ljj;
        for i in j + 1..n {
            let v = w[i * n + j] * inv;
            w[i * n + j] = v;
            column[i] = v;
        }
        for i in j + 1..n {
            let lij = column[i];
            let row = &mut w[i * n + j + 1..=i * n + i];
            for (r, c) in row.iter_mut().zip(&column[j + 1..=i]) {
                *r -= lij * c;
            }
        }
    }
    let l = Array2::from_shape_vec((n, n), w).expect("n × n values");
    l.iter().all(|v| v.is_finite()).then_some(l)
}

/// [`invert_lower_triangular`] for `n ≤ SMALL_N` (non-zero finite diagonal already checked):
/// row `i` of `X = L⁻¹` is `(eᵢ − Σ_{k<i} L[i,k]·X[k]) / L[i,i]`, built from the rows above it.
#[inline(always)]
fn invert_lower_triangular_small(l: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = l.nrows();
    let l = l.as_standard_layout();
    let l = l.as_slice().expect("standard layout");
    let mut x = vec![0.0; n * n];
    for i in 0..n {
        let (above, rest) = x.split_at_mut(i * n);
        let row = &mut rest[..n];
        for (k, &lik) in l[i * n..i * n + i].iter().enumerate() {
            for (r, v) in row[..=k].iter_mut().zip(&above[k * n..=k * n + k]) {
                *r -= lik * v;
            }
        }
        let inv_d = 1.0 / l[i * n + i];
        for r in row[..i].iter_mut() {
            *r *= inv_d;
        }
        row[i] = inv_d;
    }
    let x = Array2::from_shape_vec((n, n), x).expect("n × n values");
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The precision factor of a covariance matrix: the upper-triangular `P = (L⁻¹)ᵀ` with
/// `L = chol(A)` (lower), so that `P·Pᵀ = A⁻¹`; reads only the lower triangle of `a` and
/// returns a standard-layout matrix.
///
/// Returns `None` when `a` is not square, holds a non-finite value in its lower triangle or
/// is not positive definite. Equal to `invert_lower_triangular(cholesky_lower(a))ᵀ`, without
/// the intermediate copies: at large order the factor and its inverse stay in faer's
/// column-major layout, and the inverse is written straight into the transpose's place.
///
/// ```
/// use gmmtune::linalg::precision_factor;
/// use ndarray::array;
///
/// let a = array![[4.0, 2.0], [2.0, 3.0]];
/// let p = precision_factor(a.view()).expect("positive definite");
/// assert_eq!(p[[1, 0]], 0.0);
/// let eye = p.dot(&p.t()).dot(&a);
/// assert!((eye[[0, 0]] - 1.0).abs() < 1e-12 && eye[[0, 1]].abs() < 1e-12);
/// ```
pub fn precision_factor(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    precision_factor_split(a, 1)
}

/// Parallel tasks of [`precision_factor_split`] for a matrix factored alone (one component,
/// or a tied covariance). A constant, not the thread count: faer splits its blocked
/// factorisation and inverse by it, and the values must not depend on the machine.
pub const LONE_FACTOR_TASKS: usize = 4;

/// [`precision_factor`] with faer's blocked Cholesky factorisation and triangular inverse
/// split into `tasks` parallel tasks (1: sequential). The split is fixed by `tasks`, never by
/// the threads that run it, so a given `tasks` gives the same values on any machine.
pub fn precision_factor_split(a: ArrayView2<f64>, tasks: usize) -> Option<Array2<f64>> {
    let par = match tasks {
        0 | 1 => Par::Seq,
        t => Par::rayon(t),
    };
    let n = a.nrows();
    if a.ncols() != n || !lower_is_finite(a) {
        return None;
    }
    if n <= SMALL_N {
        let l = cholesky_lower_checked(a)?;
        let inv = invert_lower_triangular_checked(l.view())?;
        return Some(inv.reversed_axes().as_standard_layout().into_owned());
    }
    // The lower triangle of `a`, column-major (a tiled transposing copy of its rows).
    let mut l = Mat::<f64>::zeros(n, n);
    copy_lower_into(a, l.as_mut());
    let mut mem = MemBuffer::new(
        faer::linalg::cholesky::llt::factor::cholesky_in_place_scratch::<f64>(
            n,
            par,
            Default::default(),
        ),
    );
    faer::linalg::cholesky::llt::factor::cholesky_in_place(
        l.as_mut(),
        Default::default(),
        par,
        MemStack::new(&mut mem),
        Default::default(),
    )
    .ok()?;
    if !(0..n).all(|i| l[(i, i)] > 0.0 && l[(i, i)].is_finite()) {
        return None;
    }
    // L⁻¹ into a column-major view of the output's buffer: the buffer then holds (L⁻¹)ᵀ in
    // row-major order. faer writes the lower triangle only; the rest stays zero.
    let mut p = Array2::<f64>::zeros((n, n));
    {
        let ptr = p.as_mut_ptr();
        // SAFETY: `p` is an owned n×n standard-layout array; the view covers exactly its
        // buffer (column-major strides) and is the only access to it while it lives.
        let dst = unsafe { faer::MatMut::from_raw_parts_mut(ptr, n, n, 1, n as isize) };
        // Only the lower triangle of `l` is read.
        faer::linalg::triangular_inverse::invert_lower_triangular(dst, l.as_ref(), par);
    }
    p.iter().all(|v| v.is_finite()).then_some(p)
}

/// Whether the lower triangle of a square matrix is finite.
fn lower_is_finite(a: ArrayView2<f64>) -> bool {
    a.outer_iter()
        .enumerate()
        .all(|(i, row)| row.iter().take(i + 1).all(|v| v.is_finite()))
}

/// Copies the lower triangle of `a` into the column-major `dst`, tile by tile so that both
/// sides stay in cache.
fn copy_lower_into(a: ArrayView2<f64>, mut dst: faer::MatMut<'_, f64>) {
    const TILE: usize = 32;
    let n = a.nrows();
    let a = a.as_standard_layout();
    let src = a.as_slice().expect("standard layout");
    for j0 in (0..n).step_by(TILE) {
        for i0 in (j0..n).step_by(TILE) {
            for j in j0..(j0 + TILE).min(n) {
                let col = dst
                    .as_mut()
                    .col_mut(j)
                    .try_as_col_major_mut()
                    .expect("column-major")
                    .as_slice_mut();
                for i in i0.max(j)..(i0 + TILE).min(n) {
                    col[i] = src[i * n + j];
                }
            }
        }
    }
}

/// Upper-triangular `U` with `U·Uᵀ = A` for a symmetric positive-definite `A` (reading its lower
/// triangle), computed as `J·chol(J·A·J)·J` where `J` reverses rows and columns.
///
/// This is the factor scikit-learn stores as the precision Cholesky when precisions are given.
pub fn cholesky_upper_reversed(a: ArrayView2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    if a.ncols() != n {
        return None;
    }
    // Reversing rows and columns maps the upper triangle onto the lower one; symmetrise from
    // the lower triangle of `a` so only that triangle is read.
    let flipped = Array2::from_shape_fn((n, n), |(i, j)| {
        let (r, c) = (n - 1 - i, n - 1 - j);
        if r >= c {
            a[[r, c]]
        } else {
            a[[c, r]]
        }
    });
    let l = cholesky_lower(flipped.view())?;
    Some(Array2::from_shape_fn((n, n), |(i, j)| {
        l[[n - 1 - i, n - 1 - j]]
    }))
}

/// `c = a · b` where `b` is upper triangular (its strict lower part is ignored), sequentially.
///
/// Used by the E-step: half the flops of a dense product.
pub fn matmul_upper_rhs(c: ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    let upper = BlockStructure::TriangularUpper;
    matmul_structured(c, BlockStructure::Rectangular, Accum::Replace, a, b, upper);
}

/// `c = a · b` for dense matrices, sequentially.
pub fn matmul(c: ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    let dense = BlockStructure::Rectangular;
    matmul_structured(c, dense, Accum::Replace, a, b, dense);
}

/// `c += a · b` for dense matrices, sequentially.
pub fn add_matmul(c: ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    let dense = BlockStructure::Rectangular;
    matmul_structured(c, dense, Accum::Add, a, b, dense);
}

/// `c += at · a` on the lower triangle of `c` only (the strict upper triangle is left as is),
/// sequentially; with `at = wᵀ` and `a = w` this is the update `c += wᵀ·w`.
pub fn add_syrk_lower(c: ArrayViewMut2<f64>, at: ArrayView2<f64>, a: ArrayView2<f64>) {
    let lower = BlockStructure::TriangularLower;
    matmul_structured(c, lower, Accum::Add, at, a, BlockStructure::Rectangular);
}

fn faer_ref<'a>(a: &'a ArrayView2<'_, f64>) -> MatRef<'a, f64> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, shape and strides come from a live ndarray view that outlives the
    // returned reference; faer accepts arbitrary (including negative) strides.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

fn matmul_structured(
    mut c: ArrayViewMut2<f64>,
    c_structure: BlockStructure,
    accum: Accum,
    a: ArrayView2<f64>,
    b: ArrayView2<f64>,
    b_structure: BlockStructure,
) {
    assert_eq!(a.ncols(), b.nrows(), "inner dimensions differ");
    assert_eq!((a.nrows(), b.ncols()), c.dim(), "output shape differs");
    let (r, cc) = c.dim();
    if r == 0 || cc == 0 {
        return;
    }
    let s = c.strides().to_vec();
    // SAFETY: as in `faer_ref`; the mutable view is borrowed exclusively for this call.
    let dst = unsafe { faer::MatMut::from_raw_parts_mut(c.as_mut_ptr(), r, cc, s[0], s[1]) };
    faer::linalg::matmul::triangular::matmul(
        dst,
        c_structure,
        accum,
        faer_ref(&a),
        BlockStructure::Rectangular,
        faer_ref(&b),
        b_structure,
        1.0,
        Par::Seq,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_reconstructs_and_rejects_indefinite() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]];
        let l = cholesky_lower(a.view()).unwrap();
        let back = l.dot(&l.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
        assert!(cholesky_lower(array![[1.0, 2.0], [2.0, 1.0]].view()).is_none());
        assert!(cholesky_lower(array![[0.0, 0.0], [0.0, 1.0]].view()).is_none());
        assert!(cholesky_lower(array![[f64::NAN, 0.0], [0.0, 1.0]].view()).is_none());
        // Only the lower triangle is read.
        let skewed = array![[4.0, 99.0, -7.0], [2.0, 3.0, 5.0], [0.4, 0.5, 2.0]];
        assert_eq!(cholesky_lower(skewed.view()).unwrap(), l);
    }

    #[test]
    fn triangular_inverse_is_an_inverse() {
        let l = array![[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [-1.0, 0.5, 4.0]];
        let inv = invert_lower_triangular(l.view()).unwrap();
        let eye = l.dot(&inv);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((eye[[i, j]] - want).abs() < 1e-14);
            }
        }
        assert!(invert_lower_triangular(array![[0.0, 0.0], [1.0, 1.0]].view()).is_none());
    }

    /// A symmetric positive-definite n×n matrix with some spread in its eigenvalues.
    fn spd(n: usize) -> Array2<f64> {
        let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 13 + j * 7) % 17) as f64 / 17.0 - 0.4);
        let mut a = b.t().dot(&b);
        for i in 0..n {
            a[[i, i]] += 0.1 + i as f64 * 0.01;
        }
        a
    }

    #[test]
    fn small_and_blocked_factorisations_agree() {
        for n in [1, 2, 5, 33, SMALL_N, SMALL_N + 1, 90] {
            let a = spd(n);
            let l = cholesky_lower(a.view()).unwrap();
            let back = l.dot(&l.t());
            for (x, y) in back.iter().zip(a.iter()) {
                assert!((x - y).abs() < 1e-10 * (1.0 + y.abs()), "n = {n}");
            }
            let inv = invert_lower_triangular(l.view()).unwrap();
            let eye = l.dot(&inv);
            for i in 0..n {
                for j in 0..n {
                    let want = if i == j { 1.0 } else { 0.0 };
                    assert!((eye[[i, j]] - want).abs() < 1e-9, "n = {n}");
                    if j > i {
                        assert_eq!(inv[[i, j]], 0.0);
                        assert_eq!(l[[i, j]], 0.0);
                    }
                }
            }
            // The loop and blocked paths give the same factors to rounding.
            let pairs = [
                (
                    cholesky_lower_small(a.view()),
                    cholesky_lower_blocked(a.view()),
                ),
                (
                    invert_lower_triangular_small(l.view()),
                    invert_lower_triangular_blocked(l.view()),
                ),
            ];
            for (small, blocked) in pairs {
                let (small, blocked) = (small.unwrap(), blocked.unwrap());
                for (x, y) in small.iter().zip(blocked.iter()) {
                    assert!((x - y).abs() < 1e-9 * (1.0 + y.abs()), "n = {n}");
                }
            }
        }
        // Indefinite and non-finite inputs are refused by the small path too.
        let mut bad = spd(4);
        bad[[3, 3]] = -5.0;
        assert!(cholesky_lower(bad.view()).is_none());
    }

    #[test]
    fn a_split_factorisation_matches_the_sequential_one_on_any_pool() {
        // Above SMALL_N faer factors in blocks; split into tasks, the values may differ from
        // the sequential ones in the last bits, but never with the threads that run them.
        let n = 300;
        let b = Array2::from_shape_fn((n, n), |(i, j)| (((i * 37 + j * 11) % 19) as f64) / 19.0);
        let mut a = b.t().dot(&b) / n as f64;
        for i in 0..n {
            a[[i, i]] += 1.0;
        }
        let seq = precision_factor(a.view()).unwrap();
        let on = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| precision_factor_split(a.view(), LONE_FACTOR_TASKS).unwrap())
        };
        let split = on(2);
        assert_eq!(split, on(1));
        assert_eq!(split, on(3));
        let scale = seq.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for (x, y) in split.iter().zip(seq.iter()) {
            assert!((x - y).abs() <= 1e-12 * scale, "{x} vs {y}");
        }
    }

    #[test]
    fn reversed_cholesky_is_upper_and_factors() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]];
        let u = cholesky_upper_reversed(a.view()).unwrap();
        assert_eq!(u[[1, 0]], 0.0);
        assert_eq!(u[[2, 0]], 0.0);
        let back = u.dot(&u.t());
        for (x, y) in back.iter().zip(a.iter()) {
            assert!((x - y).abs() < 1e-12);
        }
    }

    #[test]
    fn structured_products_match_dense_ones() {
        let a = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]];
        let upper = array![[1.0, 2.0, 3.0], [9.0, 4.0, 5.0], [9.0, 9.0, 6.0]];
        let mut c = Array2::<f64>::from_elem((2, 3), f64::NAN);
        matmul_upper_rhs(c.view_mut(), a.view(), upper.view());
        let mut clean = upper.clone();
        clean[[1, 0]] = 0.0;
        clean[[2, 0]] = 0.0;
        clean[[2, 1]] = 0.0;
        assert_eq!(c, a.dot(&clean));
        let mut e = Array2::<f64>::from_elem((2, 3), f64::NAN);
        matmul(e.view_mut(), a.view(), clean.view());
        assert_eq!(e, c);

        let mut s = Array2::<f64>::zeros((3, 3));
        add_syrk_lower(s.view_mut(), a.t(), a.view());
        let full = a.t().dot(&a);
        for i in 0..3 {
            for j in 0..=i {
                assert_eq!(s[[i, j]], full[[i, j]]);
            }
        }
        let mut d = Array2::<f64>::zeros((2, 2));
        add_matmul(d.view_mut(), a.view(), a.t());
        assert_eq!(d, a.dot(&a.t()));
    }
}
