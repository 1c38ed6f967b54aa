//! A blocked Cholesky factorisation for the probes' normal equations.
//!
//! nalgebra's `cholesky()` works a column at a time, and its `inverse()` solves against the
//! identity the same way: for the 4,096-number state of a 64-frame transformer that took
//! minutes. Here the factorisation and the solves go by blocks of [`BLOCK`] rows, so nearly all
//! the work is matrix products, which nalgebra hands to its blocked matrix multiply.

use nalgebra::DMatrix;

/// Rows per block.
const BLOCK: usize = 96;

/// `A = L Lᵀ` for a symmetric positive definite `A`, ready to solve `A x = b`.
#[derive(Clone, Debug)]
pub struct SpdFactor {
    /// L in the lower triangle; the upper triangle is scratch and never read.
    l: DMatrix<f64>,
}

impl SpdFactor {
    /// Factorises `a` (only its lower triangle and diagonal are read); `None` when it is not
    /// positive definite (or holds NaN).
    pub fn new(mut a: DMatrix<f64>) -> Option<Self> {
        let p = a.nrows();
        assert_eq!(p, a.ncols(), "a square matrix");
        let mut k = 0;
        while k < p {
            let nb = BLOCK.min(p - k);
            let l11 = a.view((k, k), (nb, nb)).clone_owned().cholesky()?.unpack();
            a.view_mut((k, k), (nb, nb)).copy_from(&l11);
            let rest = p - k - nb;
            if rest > 0 {
                // L21 = A21 L11⁻ᵀ, from L11 L21ᵀ = A21ᵀ.
                let a21t = a.view((k + nb, k), (rest, nb)).transpose();
                let l21t = l11.solve_lower_triangular(&a21t)?;
                let l21 = l21t.transpose();
                // The trailing block loses what the columns just factorised explain.
                let update = &l21 * &l21t;
                let mut a22 = a.view_mut((k + nb, k + nb), (rest, rest));
                a22 -= update;
                a.view_mut((k + nb, k), (rest, nb)).copy_from(&l21);
            }
            k += nb;
        }
        Some(Self { l: a })
    }

    /// Rows (and columns) of the factorised matrix.
    pub fn size(&self) -> usize {
        self.l.nrows()
    }

    /// `x` with `A x = b` (b: size × any number of columns).
    pub fn solve(&self, b: &DMatrix<f64>) -> DMatrix<f64> {
        let p = self.size();
        assert_eq!(b.nrows(), p, "b has a row per unknown");
        let mut x = b.clone();
        // L z = b, block by block from the top.
        let mut k = 0;
        while k < p {
            let nb = BLOCK.min(p - k);
            if k > 0 {
                let update = self.l.view((k, 0), (nb, k)) * x.rows(0, k);
                let mut rows = x.rows_mut(k, nb);
                rows -= update;
            }
            let diagonal = self.l.view((k, k), (nb, nb)).lower_triangle();
            // A diagonal of a factor that exists has no zero on it: the solve cannot fail.
            if let Some(z) = diagonal.solve_lower_triangular(&x.rows(k, nb).clone_owned()) {
                x.rows_mut(k, nb).copy_from(&z);
            }
            k += nb;
        }
        // Lᵀ x = z, block by block from the bottom.
        let mut end = p;
        while end > 0 {
            let nb = BLOCK.min(end);
            let k = end - nb;
            if end < p {
                let update =
                    self.l.view((end, k), (p - end, nb)).transpose() * x.rows(end, p - end);
                let mut rows = x.rows_mut(k, nb);
                rows -= update;
            }
            let diagonal = self.l.view((k, k), (nb, nb)).lower_triangle().transpose();
            if let Some(y) = diagonal.solve_upper_triangular(&x.rows(k, nb).clone_owned()) {
                x.rows_mut(k, nb).copy_from(&y);
            }
            end = k;
        }
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// On sizes around and across the block size, the blocked factorisation solves what
    /// nalgebra's own does, to rounding; a matrix that is not positive definite is refused.
    #[test]
    fn the_blocked_solve_matches_the_plain_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for p in [1, 5, BLOCK - 1, BLOCK, BLOCK + 1, 2 * BLOCK + 17] {
            let m = DMatrix::<f64>::from_fn(p + 3, p, |_, _| rng.random_range(-1.0..1.0));
            let a = m.transpose() * &m + DMatrix::identity(p, p) * 0.1;
            let b = DMatrix::<f64>::from_fn(p, 7, |_, _| rng.random_range(-1.0..1.0));
            let ours = SpdFactor::new(a.clone())
                .unwrap_or_else(|| panic!("{p}: positive definite"))
                .solve(&b);
            let plain = a
                .clone()
                .cholesky()
                .unwrap_or_else(|| panic!("{p}: positive definite"))
                .solve(&b);
            let error = (&ours - &plain).amax();
            assert!(error < 1e-8 * (1.0 + plain.amax()), "{p}: {error}");
            assert!((&a * &ours - &b).amax() < 1e-8, "{p}");
        }
        let mut not = DMatrix::<f64>::identity(2 * BLOCK, 2 * BLOCK);
        not[(BLOCK + 3, BLOCK + 3)] = -1.0;
        assert!(SpdFactor::new(not).is_none());
    }
}
