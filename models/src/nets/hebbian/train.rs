//! Training the plastic network on windows of episodes, through the shared windowed trainer.

use super::{HebbianConfig, HebbianParams};
use crate::train::{Recurrent, WindowPlan};

impl Recurrent for HebbianParams {
    fn inputs(&self) -> usize {
        self.inputs
    }

    fn zeros_like(&self) -> Self {
        HebbianParams::zeros_like(self)
    }

    fn window_loss_and_grad(
        &self,
        inputs: &[f32],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        _start: Option<&[f32]>,
        grads: &mut Self,
    ) -> f64 {
        let n = self.hidden;
        let caches = self.forward(inputs, &vec![0.0; n], &vec![0.0; n * n]);
        self.loss_and_grad(&caches, targets, presence, from, grads)
    }

    fn trainable(&self) -> Vec<&Vec<f32>> {
        self.tensors.iter().collect()
    }

    fn trainable_mut(&mut self) -> Vec<&mut Vec<f32>> {
        self.tensors.iter_mut().collect()
    }
}

/// The windowed trainer's plan from a configuration.
pub(super) fn plan(config: &HebbianConfig) -> WindowPlan {
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
        stored_state_every: 0,
    }
}
