//! Training the transformer on windows of frames.

use super::{StretchLabels, TransformerConfig, TransformerParams};
use crate::train::Sequences;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// How far (rows) a readout drawn for a hard braking (or a mistake) may fall from it.
const CRITICAL_SPREAD: usize = 8;
/// A driver's acceleration this far from the expert's label, in the squashed action space
/// (1.65 m/s²), makes a row a mistake for `mistake_share`: a stalled learner asking for
/// −0.9 m/s² where the expert pulls away at +1.5 is one, and so is braking at 3 m/s² where
/// the expert brakes at 8.
pub const MISTAKE: f32 = 0.3;

/// Where the training readouts fall: anywhere, or (shares of them) near a row where the
/// expert brakes hard or where the learner that drove was far from the label.
struct ReadoutDraw<'a> {
    /// Episodes with at least one row.
    usable: Vec<&'a Range<usize>>,
    /// (episode, row) of every safety-critical row, when some readouts are to fall near one.
    critical: Vec<(&'a Range<usize>, usize)>,
    /// (episode, row) of every mistake, when some readouts are to fall near one.
    mistakes: Vec<(&'a Range<usize>, usize)>,
}

impl<'a> ReadoutDraw<'a> {
    fn new(config: &TransformerConfig, data: &Sequences<'a>) -> Self {
        let usable: Vec<&Range<usize>> = data.episodes.iter().filter(|e| !e.is_empty()).collect();
        assert!(!usable.is_empty(), "no episode to train on");
        let critical = if config.critical_share > 0.0 {
            crate::train::critical_rows(&usable, data, config.critical_min_speed_mps)
        } else {
            Vec::new()
        };
        let mistakes = if config.mistake_share > 0.0 {
            crate::train::rows_where(&usable, |r| {
                data.mistakes.get(r).is_some_and(|&m| m >= MISTAKE)
            })
        } else {
            Vec::new()
        };
        Self {
            usable,
            critical,
            mistakes,
        }
    }

    /// The episode and row of one readout. One number picks what it falls near; none is
    /// drawn when it can only fall anywhere (so the draws are as they were before either kind
    /// of row existed).
    fn row(&self, config: &TransformerConfig, rng: &mut ChaCha8Rng) -> (&'a Range<usize>, usize) {
        let u = (!self.critical.is_empty() || !self.mistakes.is_empty())
            .then(|| rng.random::<f32>());
        let near: &[(&Range<usize>, usize)] = match u {
            Some(u) if u < config.critical_share => &self.critical,
            Some(u) if u < config.critical_share + config.mistake_share => &self.mistakes,
            _ => &[],
        };
        if near.is_empty() {
            let e = self.usable[rng.random_range(0..self.usable.len())];
            return (e, rng.random_range(e.clone()));
        }
        // Within CRITICAL_SPREAD rows of the row, before or after it.
        let (e, row) = near[rng.random_range(0..near.len())];
        let shift = rng.random_range(0..=2 * CRITICAL_SPREAD);
        let row = (row + shift)
            .saturating_sub(CRITICAL_SPREAD)
            .clamp(e.start, e.end - 1);
        (e, row)
    }
}

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
    rng: &mut ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> f64 {
    let dim = params.inputs;
    let draw = ReadoutDraw::new(config, data);
    // Every labelled readout weighs the same.
    let weight = 1.0 / (config.batch * config.stretch) as f32;
    let mut recent = Vec::new();
    for step in 0..config.steps_per_round {
        let samples: Vec<(usize, usize, usize, usize)> = (0..config.batch)
            .map(|_| {
                let (e, row) = draw.row(config, rng);
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// A share of the readouts falls within `CRITICAL_SPREAD` rows of the learner's mistakes;
    /// with no share, none is drawn for it and the draws are the plain sampler's.
    #[test]
    fn a_share_of_readouts_falls_near_the_learners_mistakes() {
        let episodes = [0..40, 40..100];
        let targets = vec![0.0f32; 200];
        let mut mistakes = vec![0.0f32; 100];
        mistakes[10] = 0.5;
        mistakes[70] = MISTAKE;
        // Below the threshold: not a mistake.
        mistakes[30] = 0.9 * MISTAKE;
        let speeds = vec![5.0f32; 100];
        let data = Sequences {
            inputs: &[],
            targets: &targets,
            episodes: &episodes,
            presence: &[],
            speeds: &speeds,
            mistakes: &mistakes,
        };
        let config = TransformerConfig {
            critical_share: 0.2,
            mistake_share: 0.5,
            ..TransformerConfig::default()
        };
        let draw = ReadoutDraw::new(&config, &data);
        assert!(draw.critical.is_empty());
        assert_eq!(
            draw.mistakes.iter().map(|&(_, r)| r).collect::<Vec<_>>(),
            [10, 70]
        );
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let near = (0..2000)
            .map(|_| draw.row(&config, &mut rng))
            .filter(|&(e, row)| {
                assert!(e.contains(&row));
                row.abs_diff(10) <= CRITICAL_SPREAD || row.abs_diff(70) <= CRITICAL_SPREAD
            })
            .count();
        // Half of the draws by design; of the other half (uniform) about 35% by chance.
        assert!((1280..1430).contains(&near), "{near} of 2000");
        // Off: one episode and one row per draw, as the plain sampler.
        let off = TransformerConfig {
            critical_share: 0.0,
            ..TransformerConfig::default()
        };
        let plain = ReadoutDraw::new(&off, &data);
        let (mut rng, mut again) = (ChaCha8Rng::seed_from_u64(4), ChaCha8Rng::seed_from_u64(4));
        for _ in 0..100 {
            let (e, row) = plain.row(&off, &mut rng);
            let expected = &episodes[again.random_range(0..episodes.len())];
            assert_eq!((e, row), (expected, again.random_range(expected.clone())));
        }
    }

    /// The mistake share is a share, leaves room for the critical one (the two together below
    /// 1), and is left out of weight files at 0.
    #[test]
    fn the_mistake_share_is_checked_and_left_out_at_zero() {
        let with = |critical: f32, mistakes: f32| TransformerConfig {
            critical_share: critical,
            mistake_share: mistakes,
            ..TransformerConfig::default()
        };
        for (critical, mistakes) in [(0.2, -0.1), (0.2, f32::NAN), (0.2, 1.0), (0.5, 0.5)] {
            let err = with(critical, mistakes)
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("mistake_share"), "{critical} {mistakes}: {err}");
        }
        assert!(with(0.2, 0.4).validate().is_ok());
        let stored = |c: TransformerConfig| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.get("mistake_share").cloned())
        };
        assert_eq!(stored(TransformerConfig::default()), None);
        assert_eq!(stored(with(0.2, 0.25)), Some(serde_json::json!(0.25)));
    }
}
