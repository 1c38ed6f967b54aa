//! The inner loops every network here spends its time in.
//!
//! Each sums in eight independent lanes: a single running float sum cannot be reordered, so
//! the compiler would not vectorise it.

/// Σ f(aᵢ, bᵢ) over equal-length slices, in eight lanes.
#[inline]
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut lanes = [0.0f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| f(*x, *y))
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            lanes[i] += f(x[i], y[i]);
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// Dot product.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    lane_sum(a, b, |x, y| x * y)
}

/// `out = W x + b` for row-major `w` of shape (out.len(), x.len()).
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    for ((o, row), bias) in out.iter_mut().zip(w.chunks_exact(x.len())).zip(b) {
        *o = bias + dot(row, x);
    }
}

/// `out += Wᵀ g` for row-major `w` of shape (g.len(), out.len()).
pub fn add_transposed(w: &[f32], g: &[f32], out: &mut [f32]) {
    for (row, &gi) in w.chunks_exact(out.len()).zip(g) {
        for (o, &wij) in out.iter_mut().zip(row) {
            *o += wij * gi;
        }
    }
}

/// `w += g ⊗ x` (outer product) for row-major `w` of shape (g.len(), x.len()).
pub fn add_outer(w: &mut [f32], g: &[f32], x: &[f32]) {
    for (row, &gi) in w.chunks_exact_mut(x.len()).zip(g) {
        for (wij, &xj) in row.iter_mut().zip(x) {
            *wij += gi * xj;
        }
    }
}

/// `c += a b` for column-major matrices in contiguous slices: `a` is m × k, `b` k × n, `c`
/// m × n. Through nalgebra's matrix product (blocked, with the widest SIMD kernels the CPU
/// offers), for the long products of training; the per-step products of driving stay on
/// `affine`. (A row-major matrix is the column-major storage of its transpose.)
pub fn gemm_acc(a: &[f32], b: &[f32], c: &mut [f32], m: usize, k: usize, n: usize) {
    let a = nalgebra::DMatrixView::from_slice(a, m, k);
    let b = nalgebra::DMatrixView::from_slice(b, k, n);
    let mut c = nalgebra::DMatrixViewMut::from_slice(c, m, n);
    c.gemm(1.0, &a, &b, 1.0);
}

/// The column-major storage of row-major `rows` × `cols` data, as row-major of its transpose.
pub fn transposed(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; data.len()];
    for (r, row) in data.chunks_exact(cols).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            out[c * rows + r] = v;
        }
    }
    out
}

/// Squared Euclidean distance.
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    lane_sum(a, b, |x, y| (x - y) * (x - y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_the_plain_sums() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let plain_dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let plain_sq: f32 = a.iter().zip(&b).map(|(x, y)| (x - y) * (x - y)).sum();
        assert!((dot(&a, &b) - plain_dot).abs() < 1e-4);
        assert!((squared_distance(&a, &b) - plain_sq).abs() < 1e-4);
    }

    /// The matrix product agrees with the plain triple loop, large and small (nalgebra takes
    /// another path below 6 rows or columns).
    #[test]
    fn gemm_matches_the_plain_product() {
        for (m, k, n) in [
            (7, 9, 6),
            (12, 6, 5),
            (3, 5, 4),
            (1, 8, 9),
            (6, 1, 7),
            (40, 30, 20),
        ] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.11).cos()).collect();
            // Column-major: element (i, j) of a is a[i + j m].
            let plain: Vec<f32> = (0..m * n)
                .map(|idx| {
                    let (i, j) = (idx % m, idx / m);
                    1.0 + (0..k).map(|l| a[i + l * m] * b[l + j * k]).sum::<f32>()
                })
                .collect();
            let mut c = vec![1.0; m * n];
            gemm_acc(&a, &b, &mut c, m, k, n);
            for (x, y) in c.iter().zip(&plain) {
                assert!((x - y).abs() < 1e-4, "{m}x{k}x{n}: {x} vs {y}");
            }
        }
        assert_eq!(
            transposed(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
    }
}
