//! Training the transformer on windows of frames.

use super::{StretchLabels, TransformerConfig, TransformerParams};
use crate::train::Sequences;

/// How far (rows) a readout drawn for a hard braking may fall from it.
const CRITICAL_SPREAD: usize = 8;

/// Trains for `config.steps_per_round` Adam steps on random windows (the last K frames up to a
/// random row of a random episode), or on random stretches of `config.stretch` readouts
/// ending at such a row; with `config.min_window` set, each sample's window is drawn from
/// `min_window..=window`. Per-sample gradients are computed in parallel and summed
/// in sample order, so the result does not depend on `threads`. `on_step(step, steps, loss)`
/// hears of every step and stops training early by returning `false`. Returns the mean loss of
/// the last 20 steps.
pub fn train_samples(
    params: &mut TransformerParams,
    adam: &mut crate::adam::Adam,
    config: &TransformerConfig,
    data: &Sequences<'_>,
    rng: &mut rand_chacha::ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    use rand::RngExt;
    let dim = params.inputs;
    let usable: Vec<&std::ops::Range<usize>> =
        data.episodes.iter().filter(|e| !e.is_empty()).collect();
    assert!(!usable.is_empty(), "no episode to train on");
    // Every safety-critical row (the expert braking hard), when some readouts are to be drawn
    // near one.
    let critical = if config.critical_share > 0.0 {
        crate::train::critical_rows(&usable, data, config.critical_min_speed_mps)
    } else {
        Vec::new()
    };
    // Every labelled readout weighs the same.
    let weight = 1.0 / (config.batch * config.stretch) as f32;
    let mut recent = Vec::new();
    for step in 0..config.steps_per_round {
        let samples: Vec<(usize, usize, usize, usize)> = (0..config.batch)
            .map(|_| {
                let (e, row) = if !critical.is_empty()
                    && rng.random::<f32>() < config.critical_share
                {
                    // Within CRITICAL_SPREAD rows of a hard braking, before or after it.
                    let (e, row) = critical[rng.random_range(0..critical.len())];
                    let shift = rng.random_range(0..=2 * CRITICAL_SPREAD);
                    let row = (row + shift)
                        .saturating_sub(CRITICAL_SPREAD)
                        .clamp(e.start, e.end - 1);
                    (e, row)
                } else {
                    let e = usable[rng.random_range(0..usable.len())];
                    (e, rng.random_range(e.clone()))
                };
                // The window looked back over: the full K, or one drawn from min_window..=K.
                let window = if config.min_window == 0 {
                    config.window
                } else {
                    rng.random_range(config.min_window..=config.window)
                };
                // The readouts' rows, and the frames from the window before the first.
                let first = (row + 1).saturating_sub(config.stretch).max(e.start);
                let start = (first + 1).saturating_sub(window).max(e.start);
                (start, first, row, window)
            })
            .collect();
        let per_sample = memdrive_sim::parallel::map_ordered(
            &samples,
            threads,
            || (),
            |(), &(start, first, last, window)| {
                let mut grads = params.zeros_like();
                let frames = &data.inputs[start * dim..(last + 1) * dim];
                let loss = if config.stretch == 1 {
                    let readout = params.readout(frames);
                    let target = [data.targets[last * 2], data.targets[last * 2 + 1]];
                    let presence = (config.presence_loss > 0.0)
                        .then(|| (data.presence[last], config.presence_loss));
                    params.loss_and_grad(&readout, target, presence, weight, &mut grads)
                } else {
                    let labels = StretchLabels {
                        targets: &data.targets[start * 2..(last + 1) * 2],
                        presence: (config.presence_loss > 0.0)
                            .then(|| (&data.presence[start..=last], config.presence_loss)),
                    };
                    let sum = params.stretch_loss_and_grad(
                        frames,
                        first - start,
                        &labels,
                        window,
                        weight,
                        &mut grads,
                    );
                    sum / (last + 1 - first) as f64
                };
                (loss, grads)
            },
        );
        let mut total = params.zeros_like();
        let mut loss = 0.0;
        for (l, g) in &per_sample {
            loss += l / per_sample.len() as f64;
            for (t, gi) in total.tensors.iter_mut().zip(&g.tensors) {
                for (a, b) in t.iter_mut().zip(gi) {
                    *a += b;
                }
            }
        }
        let grads: Vec<&Vec<f32>> = total.tensors.iter().collect();
        let mut tensors: Vec<&mut Vec<f32>> = params.tensors.iter_mut().collect();
        if config.final_rate_fraction > 0.0 {
            adam.learning_rate = crate::train::cosine_rate(
                config.learning_rate,
                config.final_rate_fraction,
                step,
                config.steps_per_round,
            );
        }
        adam.step(&mut tensors, &grads);
        recent.push(loss);
        if !on_step(step, config.steps_per_round, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    tail.iter().sum::<f64>() / tail.len().max(1) as f64
}
