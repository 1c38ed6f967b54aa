//! Training a recurrent network on windows of episodes, shared by every recurrent kind: random
//! windows of at most `window` rows, backpropagation through time from a zero state, a burn-in
//! without loss unless the window starts its episode, per-window gradients summed in window
//! order (so the result does not depend on the thread count), Adam with a cosine step size
//! within each round.

use super::Sequences;
use crate::adam::Adam;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// A recurrent network as the windowed trainer sees it.
pub trait Recurrent: Send + Sync + Sized {
    /// Observation elements per row.
    fn inputs(&self) -> usize;
    /// Zeros of the same shapes: a gradient accumulator.
    fn zeros_like(&self) -> Self;
    /// Loss of one window of normalised `inputs` (row-major) from a zero state against its
    /// squashed `targets` (2 per row), counted from row `from` on, plus the auxiliary presence
    /// loss (`labels`, weight) when given; adds its gradient to `grads`.
    fn window_loss_and_grad(
        &self,
        inputs: &[f32],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        grads: &mut Self,
    ) -> f64;
    /// Every trained tensor, in a fixed order.
    fn trainable(&self) -> Vec<&Vec<f32>>;
    /// The same, mutable.
    fn trainable_mut(&mut self) -> Vec<&mut Vec<f32>>;
}

/// How windows are drawn and steps taken.
#[derive(Clone, Copy, Debug)]
pub struct WindowPlan {
    /// Rows per window.
    pub window: usize,
    /// Leading rows without loss (warming the state up).
    pub burn_in: usize,
    /// Windows per step.
    pub batch: usize,
    /// Steps in the round.
    pub steps: usize,
    /// Adam's step size at the start of the round.
    pub learning_rate: f32,
    /// Its fraction reached at the end of the round (cosine).
    pub final_rate_fraction: f32,
    /// Weight of the auxiliary presence loss (0: off).
    pub presence_loss: f32,
}

/// The step size at `step` of `steps` under a cosine from `base` down to `base · fraction`.
pub fn cosine_rate(base: f32, fraction: f32, step: usize, steps: usize) -> f32 {
    let progress = step as f32 / steps.max(1) as f32;
    let floor = base * fraction;
    floor + (base - floor) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
}

/// Trains `params` for `plan.steps` Adam steps on random windows of the episodes in `data`.
/// `on_step(step, steps, loss)` hears of every step and stops training early by returning
/// `false`. Returns the mean window loss of the last 20 steps.
pub fn train_windows<N: Recurrent>(
    params: &mut N,
    adam: &mut Adam,
    plan: &WindowPlan,
    data: &Sequences<'_>,
    rng: &mut ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    let Sequences {
        inputs,
        targets,
        episodes,
        presence,
    } = *data;
    let dim = params.inputs();
    let usable: Vec<&Range<usize>> = episodes.iter().filter(|e| e.len() >= 2).collect();
    assert!(!usable.is_empty(), "no episode to train on");
    let mut recent = Vec::new();
    for step in 0..plan.steps {
        // (rows, first row with a loss): a window of at most `window` rows of one episode.
        let windows: Vec<(Range<usize>, usize)> = (0..plan.batch)
            .map(|_| {
                let e = usable[rng.random_range(0..usable.len())];
                let len = plan.window.min(e.len());
                let latest = e.len() - len;
                let offset = rng
                    .random_range(0..=latest + plan.burn_in)
                    .saturating_sub(plan.burn_in);
                let start = e.start + offset;
                let from = if offset == 0 {
                    0
                } else {
                    plan.burn_in.min(len - 1)
                };
                (start..start + len, from)
            })
            .collect();
        let per_window = memdrive_sim::parallel::map_ordered(
            &windows,
            threads,
            || (),
            |(), (rows, from)| {
                let mut grads = params.zeros_like();
                let labels = (plan.presence_loss > 0.0)
                    .then(|| (&presence[rows.clone()], plan.presence_loss));
                let loss = params.window_loss_and_grad(
                    &inputs[rows.start * dim..rows.end * dim],
                    &targets[rows.start * 2..rows.end * 2],
                    labels,
                    *from,
                    &mut grads,
                );
                (loss, grads)
            },
        );
        let mut total = params.zeros_like();
        let mut loss = 0.0;
        for (l, g) in &per_window {
            loss += l / per_window.len() as f64;
            for (t, gi) in total.trainable_mut().into_iter().zip(g.trainable()) {
                for (a, b) in t.iter_mut().zip(gi) {
                    *a += b / per_window.len() as f32;
                }
            }
        }
        adam.learning_rate = cosine_rate(
            plan.learning_rate,
            plan.final_rate_fraction,
            step,
            plan.steps,
        );
        adam.step(&mut params.trainable_mut(), &total.trainable());
        recent.push(loss);
        if !on_step(step, plan.steps, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}
