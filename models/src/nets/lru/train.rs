//! Training the LRU on windows of episodes, through the shared windowed trainer.

use super::{LruConfig, LruParams};
use crate::train::{Recurrent, WindowPlan};

impl Recurrent for LruParams {
    fn inputs(&self) -> usize {
        self.inputs
    }

    fn zeros_like(&self) -> Self {
        LruParams::zeros_like(self)
    }

    fn window_loss_and_grad(
        &self,
        inputs: &[f32],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        start: Option<&[f32]>,
        grads: &mut Self,
    ) -> f64 {
        let zero = vec![0.0; 2 * self.state];
        let caches = self.forward(inputs, start.unwrap_or(&zero));
        self.loss_and_grad(&caches, targets, presence, from, grads)
    }

    fn state_len(&self) -> usize {
        2 * self.state
    }

    fn run_states(&self, inputs: &[f32], out: &mut Vec<f32>) {
        self.run_state(inputs, &vec![0.0; 2 * self.state], out);
    }

    fn trainable(&self) -> Vec<&Vec<f32>> {
        self.tensors.iter().collect()
    }

    fn trainable_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.tensors.iter_mut().collect()
    }
}

/// The windowed trainer's plan from a configuration.
pub(super) fn plan(config: &LruConfig) -> WindowPlan {
    WindowPlan {
        window: config.window,
        burn_in: config.burn_in,
        batch: config.batch,
        steps: config.steps_per_round,
        learning_rate: config.learning_rate,
        final_rate_fraction: config.final_rate_fraction,
        presence_loss: config.presence_loss,
        critical_share: config.critical_share,
        critical_min_speed_mps: config.critical_min_speed_mps,
        average_decay: config.average_decay,
        rest_hold_below_mps: config.rest_hold_below_mps,
        mistake_share: 0.0,
        stored_state_every: config.stored_state_every,
    }
}
