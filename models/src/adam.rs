//! Adam with global-norm gradient clipping, over any list of parameter tensors.

/// Adam's state for a fixed list of tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    /// Step size.
    pub learning_rate: f32,
    /// Largest global gradient norm; larger gradients are scaled down to it.
    pub clip_norm: f32,
    beta1: f32,
    beta2: f32,
    epsilon: f32,
    steps: i32,
    first: Vec<Vec<f32>>,
    second: Vec<Vec<f32>>,
}

impl Adam {
    /// Fresh moments for tensors of the given lengths.
    pub fn new(lengths: &[usize], learning_rate: f32, clip_norm: f32) -> Self {
        Self {
            learning_rate,
            clip_norm,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            steps: 0,
            first: lengths.iter().map(|&n| vec![0.0; n]).collect(),
            second: lengths.iter().map(|&n| vec![0.0; n]).collect(),
        }
    }

    /// One update of `params` from `grads` (same order and lengths as at construction).
    /// Returns the gradient norm before clipping.
    pub fn step(&mut self, params: &mut [&mut Vec<f32>], grads: &[&Vec<f32>]) -> f32 {
        assert_eq!(params.len(), self.first.len());
        let norm = grads
            .iter()
            .flat_map(|g| g.iter())
            .map(|g| f64::from(*g) * f64::from(*g))
            .sum::<f64>()
            .sqrt() as f32;
        let scale = if norm > self.clip_norm {
            self.clip_norm / norm
        } else {
            1.0
        };
        self.steps += 1;
        let correct1 = 1.0 - self.beta1.powi(self.steps);
        let correct2 = 1.0 - self.beta2.powi(self.steps);
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.first)
            .zip(&mut self.second)
        {
            for (((pi, &gi), mi), vi) in p
                .iter_mut()
                .zip(g.iter())
                .zip(m.iter_mut())
                .zip(v.iter_mut())
            {
                let gi = gi * scale;
                *mi = self.beta1 * *mi + (1.0 - self.beta1) * gi;
                *vi = self.beta2 * *vi + (1.0 - self.beta2) * gi * gi;
                *pi -= self.learning_rate * (*mi / correct1)
                    / ((*vi / correct2).sqrt() + self.epsilon);
            }
        }
        norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimises_a_quadratic_and_clips_large_gradients() {
        // f(p) = Σ (p_i − 3)², gradient 2 (p − 3).
        let mut p = vec![0.0f32, 10.0];
        let mut adam = Adam::new(&[2], 0.1, 1.0);
        for _ in 0..500 {
            let g: Vec<f32> = p.iter().map(|x| 2.0 * (x - 3.0)).collect();
            adam.step(&mut [&mut p], &[&g]);
        }
        assert!(p.iter().all(|x| (x - 3.0).abs() < 0.05), "{p:?}");
        // The first step moves each parameter by about the learning rate whatever the scale.
        let mut q = vec![0.0f32];
        let norm = Adam::new(&[1], 0.1, 1.0).step(&mut [&mut q], &[&vec![1e6]]);
        assert_eq!(norm, 1e6);
        assert!((q[0] + 0.1).abs() < 1e-4, "{q:?}");
    }
}
