//! The few dense factorisations the mixture model needs, behind one small interface.
//!
//! Matrices are small (d×d, d = number of features), so every routine here runs
//! sequentially; parallelism lives in the callers, over blocks of rows.
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

use faer::linalg::matmul::triangular::BlockStructure;
use faer::{Accum, Mat, MatRef, Par, Side};
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

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
    for i in 0..n {
        for j in 0..=i {
            if !a[[i, j]].is_finite() {
                return None;
            }
        }
    }
    if n == 0 {
        return Some(Array2::zeros((0, 0)));
    }
    let llt = to_faer(a).llt(Side::Lower).ok()?;
    let l = from_faer(llt.L());
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

/// `c += a · b` where `b` is upper triangular (its strict lower part is ignored), sequentially.
///
/// Used by the E-step: half the flops of a dense product.
pub fn add_matmul_upper_rhs(c: ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    add_matmul_structured(
        c,
        BlockStructure::Rectangular,
        a,
        b,
        BlockStructure::TriangularUpper,
    );
}

/// `c += a · b` for dense matrices, sequentially.
pub fn add_matmul(c: ArrayViewMut2<f64>, a: ArrayView2<f64>, b: ArrayView2<f64>) {
    add_matmul_structured(
        c,
        BlockStructure::Rectangular,
        a,
        b,
        BlockStructure::Rectangular,
    );
}

/// `c += aᵀ · a` on the lower triangle of `c` only (the strict upper triangle is left as is),
/// sequentially. `aᵀ` is passed as the transposed view `at`.
pub fn add_syrk_lower(c: ArrayViewMut2<f64>, at: ArrayView2<f64>, a: ArrayView2<f64>) {
    add_matmul_structured(
        c,
        BlockStructure::TriangularLower,
        at,
        a,
        BlockStructure::Rectangular,
    );
}

fn faer_ref<'a>(a: &'a ArrayView2<'_, f64>) -> MatRef<'a, f64> {
    let (r, c) = a.dim();
    let s = a.strides();
    // SAFETY: the pointer, shape and strides come from a live ndarray view that outlives the
    // returned reference; faer accepts arbitrary (including negative) strides.
    unsafe { MatRef::from_raw_parts(a.as_ptr(), r, c, s[0], s[1]) }
}

fn add_matmul_structured(
    mut c: ArrayViewMut2<f64>,
    c_structure: BlockStructure,
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
        Accum::Add,
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
        let mut c = Array2::<f64>::ones((2, 3));
        add_matmul_upper_rhs(c.view_mut(), a.view(), upper.view());
        let mut clean = upper.clone();
        clean[[1, 0]] = 0.0;
        clean[[2, 0]] = 0.0;
        clean[[2, 1]] = 0.0;
        assert_eq!(c, a.dot(&clean) + 1.0);

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
