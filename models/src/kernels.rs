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

/// Rows of `W` that `affine` and `add_matvec` sum side by side.
const ROWS: usize = 4;

/// `out = W x + b` for row-major `w` of shape (out.len(), x.len()). Every output is summed
/// exactly as `bias + dot(row, x)` (see `for_each_dot`).
pub fn affine(w: &[f32], b: &[f32], x: &[f32], out: &mut [f32]) {
    for_each_dot(w, x, out.len(), |r, sum| out[r] = b[r] + sum);
}

/// `out += W x` for row-major `w` of shape (out.len(), x.len()), each output as
/// `out + dot(row, x)`.
pub fn add_matvec(w: &[f32], x: &[f32], out: &mut [f32]) {
    for_each_dot(w, x, out.len(), |r, sum| out[r] += sum);
}

/// Calls `f(r, dot(row r of w, x))` for each of the first `rows` rows of row-major `w`, in
/// order, each dot summed exactly as `dot` sums it but `ROWS` rows at a time: one dot's eight
/// lanes are chains of dependent additions, and interleaving independent rows keeps the CPU
/// busy while each waits (the recurrent products of driving and of stored state are this).
fn for_each_dot(w: &[f32], x: &[f32], rows: usize, mut f: impl FnMut(usize, f32)) {
    let n = x.len();
    if n == 0 {
        (0..rows).for_each(|r| f(r, dot(&[], &[])));
        return;
    }
    let whole = rows / ROWS * ROWS;
    for (g, block) in w[..whole * n].chunks_exact(ROWS * n).enumerate() {
        for (r, sum) in dot_rows(block, x).into_iter().enumerate() {
            f(g * ROWS + r, sum);
        }
    }
    for (r, row) in w[whole * n..rows * n].chunks_exact(n).enumerate() {
        f(whole + r, dot(row, x));
    }
}

/// `dot(row, x)` for `ROWS` consecutive rows of `rows`, each summed in the same order as `dot`.
#[inline]
fn dot_rows(rows: &[f32], x: &[f32]) -> [f32; ROWS] {
    let n = x.len();
    let mut lanes = [[0.0f32; 8]; ROWS];
    let chunks = n / 8;
    for c in 0..chunks {
        let xs = &x[c * 8..c * 8 + 8];
        for (r, lane) in lanes.iter_mut().enumerate() {
            let ws = &rows[r * n + c * 8..r * n + c * 8 + 8];
            for i in 0..8 {
                lane[i] += ws[i] * xs[i];
            }
        }
    }
    let mut sums = [0.0f32; ROWS];
    for (r, sum) in sums.iter_mut().enumerate() {
        let row = &rows[r * n..(r + 1) * n];
        let tail: f32 = row[chunks * 8..]
            .iter()
            .zip(&x[chunks * 8..])
            .map(|(a, b)| a * b)
            .sum();
        *sum = lanes[r].iter().sum::<f32>() + tail;
    }
    sums
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

    /// `affine` and `add_matvec` interleave rows but sum each output exactly as `bias + dot(row, x)`: bit for
    /// bit, for every row count and length around the interleaving and the lanes.
    #[test]
    fn affine_sums_every_output_as_its_own_dot() {
        for rows in [0, 1, 3, 4, 5, 8, 11, 192] {
            for n in [0, 1, 7, 8, 9, 16, 63, 64, 80] {
                let w: Vec<f32> = (0..rows * n).map(|i| (i as f32 * 0.731).sin()).collect();
                let x: Vec<f32> = (0..n).map(|i| (i as f32 * 1.37).cos() * 3.0).collect();
                let b: Vec<f32> = (0..rows).map(|i| i as f32 * 0.1 - 0.3).collect();
                let mut out = vec![f32::NAN; rows];
                affine(&w, &b, &x, &mut out);
                let mut acc = b.clone();
                add_matvec(&w, &x, &mut acc);
                for r in 0..rows {
                    let want = b[r] + dot(&w[r * n..(r + 1) * n], &x);
                    assert_eq!(out[r].to_bits(), want.to_bits(), "{rows}x{n} row {r}");
                    assert_eq!(acc[r].to_bits(), want.to_bits(), "{rows}x{n} row {r}");
                }
            }
        }
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
