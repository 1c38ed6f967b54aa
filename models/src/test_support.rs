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

/// Random training data for a round of gradient steps: `episodes` of `rows` rows each, frames
/// of `inputs` elements drawn in [-1, 1), squashed labels in [-0.9, 0.9), the car at rest in
/// the first half of every episode and at 5 m/s in the second.
pub struct RandomRows {
    pub frames: Vec<f32>,
    pub targets: Vec<f32>,
    pub speeds: Vec<f32>,
    pub zeros: Vec<f32>,
    pub episodes: Vec<std::ops::Range<usize>>,
}

impl RandomRows {
    pub fn new(inputs: usize, episodes: usize, rows: usize, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        let n = episodes * rows;
        Self {
            frames: (0..n * inputs)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect(),
            targets: (0..n * 2).map(|_| rng.random_range(-0.9..0.9)).collect(),
            speeds: (0..n)
                .map(|r| if r % rows < rows / 2 { 0.0 } else { 5.0 })
                .collect(),
            zeros: vec![0.0; n],
            episodes: (0..episodes).map(|e| e * rows..(e + 1) * rows).collect(),
        }
    }

    /// The rows as a trainer reads them (no presence or mistakes).
    pub fn sequences(&self) -> crate::train::Sequences<'_> {
        crate::train::Sequences {
            inputs: &self.frames,
            targets: &self.targets,
            episodes: &self.episodes,
            presence: &self.zeros,
            speeds: &self.speeds,
            mistakes: &self.zeros,
        }
    }
}

/// The two settings every window-trained kind shares, `average_decay` and
/// `rest_hold_below_mps`, in one configuration type: checked (a decay in [0, 1), a least
/// speed that is a speed), kept in weight files when set and left out of them at 0.
/// `with(decay, hold)` is a configuration with both set to those values.
pub fn assert_average_and_hold_checked<C: serde::Serialize>(
    with: impl Fn(f32, f32) -> C,
    validate: impl Fn(&C) -> Result<(), crate::Invalid>,
) {
    let json = |c: &C| serde_json::to_string(c).unwrap_or_default();
    let on = with(0.998, 0.05);
    assert!(validate(&on).is_ok());
    assert!(json(&on).contains("average_decay"));
    assert!(json(&on).contains("rest_hold_below_mps"));
    let off = with(0.0, 0.0);
    assert!(validate(&off).is_ok());
    assert!(!json(&off).contains("average_decay"));
    assert!(!json(&off).contains("rest_hold_below_mps"));
    let error = |c: C| {
        validate(&c)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    for bad in [-0.1, 1.0, f32::NAN] {
        let err = error(with(bad, 0.05));
        assert!(err.contains("average_decay"), "{bad}: {err}");
    }
    for bad in [-0.1, f32::NAN, 1e9] {
        let err = error(with(0.998, bad));
        assert!(err.contains("rest_hold_below_mps"), "{bad}: {err}");
    }
}
