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
}
