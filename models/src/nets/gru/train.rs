//! Training the GRU on windows of episodes.

use super::{GruConfig, GruParams, cosine_rate};
use crate::train::Sequences;

/// Trains `params` for `config.steps_per_round` Adam steps on random windows of the episodes
/// in `data` (inputs already normalised, row-major, `inputs` columns; targets squashed, 2 per
/// row). Per-window gradients are computed in parallel and summed in window order, so the
/// result does not depend on `threads`. `on_step(step, steps, loss)` hears of every step and
/// stops training early by returning `false`. Returns the mean window loss of the last 20 steps.
pub fn train_windows(
    params: &mut GruParams,
    adam: &mut crate::adam::Adam,
    config: &GruConfig,
    data: &Sequences<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    use rand::RngExt;
    let Sequences {
        inputs,
        targets,
        episodes,
        presence,
    } = *data;
    let dim = params.inputs;
    let usable: Vec<&std::ops::Range<usize>> = episodes.iter().filter(|e| e.len() >= 2).collect();
    assert!(!usable.is_empty(), "no episode to train on");
    let mut recent = Vec::new();
    for step in 0..config.steps_per_round {
        // (rows, first row with a loss): a window of at most `window` rows of one episode.
        let windows: Vec<(std::ops::Range<usize>, usize)> = (0..config.batch)
            .map(|_| {
                let e = usable[rng.random_range(0..usable.len())];
                let len = config.window.min(e.len());
                let latest = e.len() - len;
                let offset = rng
                    .random_range(0..=latest + config.burn_in)
                    .saturating_sub(config.burn_in);
                let start = e.start + offset;
                let from = if offset == 0 {
                    0
                } else {
                    config.burn_in.min(len - 1)
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
                let caches = params.forward(
                    &inputs[rows.start * dim..rows.end * dim],
                    &vec![0.0; params.hidden],
                );
                let labels = (config.presence_loss > 0.0)
                    .then(|| (&presence[rows.clone()], config.presence_loss));
                let loss = params.loss_and_grad(
                    &caches,
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
        let grads: Vec<&Vec<f32>> = total.trainable().to_vec();
        adam.learning_rate = cosine_rate(
            config.learning_rate,
            config.final_rate_fraction,
            step,
            config.steps_per_round,
        );
        adam.step(&mut params.trainable_mut(), &grads);
        recent.push(loss);
        if !on_step(step, config.steps_per_round, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}
