//! What several kinds' tests check the same way.

/// ‖∂tanh(y)/∂x_{t−k}‖ for every lag k (newest first) by central differences of
/// `action(frames)`, the squashed action after the last of `frames` (row-major, `inputs` each).
pub fn finite_difference_influence(
    frames: &[f32],
    inputs: usize,
    action: &dyn Fn(&[f32]) -> [f32; 2],
) -> Vec<f64> {
    let n = frames.len() / inputs;
    let eps = 1e-2f32;
    (0..n)
        .map(|lag| {
            let frame = n - 1 - lag;
            let mut squares = 0.0f64;
            for e in 0..inputs {
                let mut up = frames.to_vec();
                let mut down = frames.to_vec();
                up[frame * inputs + e] += eps;
                down[frame * inputs + e] -= eps;
                let (a, b) = (action(&up), action(&down));
                for o in 0..2 {
                    squares += f64::from((a[o] - b[o]) / (2.0 * eps)).powi(2);
                }
            }
            squares.sqrt()
        })
        .collect()
}

/// Influence by lag from a backward pass against finite differences: f32 forward passes and a
/// step of 1e-2 agree to a few per cent, or both are tiny.
pub fn assert_influence_close(analytic: &[f64], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len());
    for (k, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= 0.03 * a.abs().max(n.abs()) + 1e-4,
            "lag {k}: backward {a}, finite differences {n}\n{analytic:?}\n{numeric:?}"
        );
    }
}
