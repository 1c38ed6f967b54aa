//! Training the GRU on windows of episodes, through the shared windowed trainer.

use super::{GruConfig, GruParams};
use crate::train::{Recurrent, Sequences, WindowPlan};

impl Recurrent for GruParams {
    fn inputs(&self) -> usize {
        self.inputs
    }

    fn zeros_like(&self) -> Self {
        GruParams::zeros_like(self)
    }

    fn window_loss_and_grad(
        &self,
        inputs: &[f32],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        grads: &mut Self,
    ) -> f64 {
        let caches = self.forward(inputs, &vec![0.0; self.hidden]);
        self.loss_and_grad(&caches, targets, presence, from, grads)
    }

    fn trainable(&self) -> Vec<&Vec<f32>> {
        GruParams::trainable(self).to_vec()
    }

    fn trainable_mut(&mut self) -> Vec<&mut Vec<f32>> {
        GruParams::trainable_mut(self).into_iter().collect()
    }
}

/// Trains `params` for `config.steps_per_round` Adam steps on random windows of the episodes
/// in `data` (`crate::train::train_windows`). Returns the mean window loss of the last 20
/// steps.
pub fn train_windows(
    params: &mut GruParams,
    adam: &mut crate::adam::Adam,
    config: &GruConfig,
    data: &Sequences<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    let plan = WindowPlan {
        window: config.window,
        burn_in: config.burn_in,
        batch: config.batch,
        steps: config.steps_per_round,
        learning_rate: config.learning_rate,
        final_rate_fraction: config.final_rate_fraction,
        presence_loss: config.presence_loss,
    };
    crate::train::train_windows(params, adam, &plan, data, rng, threads, on_step)
}
