//! Training the transformer on windows of frames.

use super::{StretchLabels, TransformerConfig, TransformerParams};
use crate::train::Sequences;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// How far (rows) a readout drawn for a hard braking (or a mistake) may fall from it.
const CRITICAL_SPREAD: usize = 8;
#[cfg(test)]
use crate::train::MISTAKE;

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
            crate::train::mistake_rows(&usable, data)
        } else {
            Vec::new()
        };
        Self {
            usable,
            critical,
            mistakes,
        }
    }

    /// The episode and row of one readout (`train::rows_near` picks what it falls near).
    fn row(&self, config: &TransformerConfig, rng: &mut ChaCha8Rng) -> (&'a Range<usize>, usize) {
        let shares = (config.critical_share, config.mistake_share);
        let near = crate::train::rows_near(&self.critical, &self.mistakes, shares, rng);
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
/// the last 20 steps, and with `config.average_decay` set the running average of the
/// parameters over the steps (started from the parameters the round began with).
pub fn train_samples(
    params: &mut TransformerParams,
    adam: &mut crate::adam::Adam,
    config: &TransformerConfig,
    data: &Sequences<'_>,
    rng: &mut ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> (f64, Option<TransformerParams>) {
    let dim = params.inputs;
    // Held labels are what the readouts are drawn by too: a wait at rest is no hard braking.
    let held = crate::train::held_at_rest(data.targets, data.speeds, config.rest_hold_below_mps);
    let data = &Sequences {
        targets: held.as_deref().unwrap_or(data.targets),
        ..*data
    };
    let mut average = (config.average_decay > 0.0).then(|| params.clone());
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
        let mut loss = 0.0;
        for (l, _) in &per_sample {
            loss += l / per_sample.len() as f64;
        }
        let parts: Vec<Vec<&Vec<f32>>> = per_sample.iter().map(|(_, g)| g.tensors.iter().collect()).collect();
        let total = crate::train::summed_in_order(&parts, threads, |b| b);
        let grads: Vec<&Vec<f32>> = total.iter().collect();
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
        if let Some(average) = average.as_mut() {
            crate::train::average_into(&mut average.tensors, &params.tensors, config.average_decay);
        }
        recent.push(loss);
        if !on_step(step, config.steps_per_round, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    (tail.iter().sum::<f64>() / tail.len().max(1) as f64, average)
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
            mistake_share: 0.0,
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

    /// A tiny transformer trained for `steps` on two episodes of random frames and labels, the
    /// car at rest in the first five rows of each.
    fn tiny_run(
        average_decay: f32,
        steps: usize,
    ) -> (TransformerParams, Option<TransformerParams>) {
        let config = TransformerConfig {
            window: 3,
            d_model: 4,
            heads: 1,
            d_mlp: 4,
            batch: 4,
            steps_per_round: steps,
            stretch: 1,
            critical_share: 0.0,
            presence_loss: 0.0,
            average_decay,
            ..TransformerConfig::default()
        };
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let inputs = 3;
        let mut params = TransformerParams::init(inputs, &config, &mut rng);
        let rows = crate::test_support::RandomRows::new(inputs, 2, 10, &mut rng);
        let data = rows.sequences();
        let lengths: Vec<usize> = params.tensors.iter().map(Vec::len).collect();
        let mut adam = crate::adam::Adam::new(&lengths, 1e-2, 1.0);
        let (_, average) = train_samples(
            &mut params,
            &mut adam,
            &config,
            &data,
            &mut rng,
            Some(1),
            &mut |_, _, _| true,
        );
        (params, average)
    }

    /// Averaging changes what drives, never the training: the parameters trained are the
    /// same bits with it and without, and after one step the average is `d·before + (1−d)·after`.
    #[test]
    fn averaging_the_parameters_leaves_the_training_as_it_was() {
        let (plain, none) = tiny_run(0.0, 6);
        assert!(none.is_none());
        let (trained, average) = tiny_run(0.9, 6);
        assert_eq!(trained.tensors, plain.tensors);
        let average = average.unwrap_or_else(|| panic!("no average with a decay"));
        assert_ne!(average.tensors, trained.tensors);
        let (before, _) = tiny_run(0.0, 0);
        let (after, one) = tiny_run(0.9, 1);
        let one = one.unwrap_or_else(|| panic!("no average with a decay"));
        for ((a, b), o) in before.tensors.iter().zip(&after.tensors).zip(&one.tensors) {
            for ((x, y), z) in a.iter().zip(b).zip(o) {
                assert_eq!(*z, 0.9 * x + (1.0 - 0.9) * y);
            }
        }
    }

    /// Below `rest_hold_below_mps` a braking label is trained as 0 m/s² (the squashed value of
    /// no acceleration); pulling away at rest, and every label of a moving car, stay as they
    /// are. Off (0): no copy of the labels at all.
    #[test]
    fn braking_labels_at_rest_are_held_at_zero() {
        let scale = crate::action::ActionScale::default();
        let squashed = |accel_mps2: f64| {
            scale.squashed(memdrive_sim::Controls {
                steer_rad: 0.1,
                accel_mps2,
            })
        };
        let rows = [
            (0.0f32, -7.9),
            (0.0, 1.5),
            (0.04, -3.0),
            (0.2, -3.0),
            (8.0, -7.9),
        ];
        let targets: Vec<f32> = rows.iter().flat_map(|&(_, a)| squashed(a)).collect();
        let speeds: Vec<f32> = rows.iter().map(|&(v, _)| v).collect();
        let episode = 0..rows.len();
        let episodes = std::slice::from_ref(&episode);
        let data = Sequences {
            inputs: &[],
            targets: &targets,
            episodes,
            presence: &[],
            speeds: &speeds,
            mistakes: &[],
        };
        let off = TransformerConfig {
            rest_hold_below_mps: 0.0,
            ..TransformerConfig::default()
        };
        let held_at_rest = |c: &TransformerConfig| {
            crate::train::held_at_rest(data.targets, data.speeds, c.rest_hold_below_mps)
        };
        assert!(held_at_rest(&off).is_none());
        let config = TransformerConfig {
            rest_hold_below_mps: 0.05,
            ..TransformerConfig::default()
        };
        let held = held_at_rest(&config).unwrap_or_default();
        let hold = squashed(0.0)[1];
        let expected: Vec<f32> = rows
            .iter()
            .flat_map(|&(v, a)| {
                let [steer, accel] = squashed(a);
                [steer, if v < 0.05 && accel < hold { hold } else { accel }]
            })
            .collect();
        assert_eq!(held, expected);
        // The two braking rows at rest moved, nothing else did.
        let moved = held.iter().zip(&targets).filter(|(h, t)| h != t).count();
        assert_eq!(moved, 2);
        // Checked like a speed, left out of weight files at 0.
        for bad in [-0.1, f32::NAN, 1e9] {
            let c = TransformerConfig {
                rest_hold_below_mps: bad,
                ..TransformerConfig::default()
            };
            let err = c.validate().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("rest_hold_below_mps"), "{bad}: {err}");
        }
        let json = |c: &TransformerConfig| serde_json::to_string(c).unwrap_or_default();
        assert!(!json(&off).contains("rest_hold"));
        assert!(json(&config).contains("rest_hold_below_mps"));
    }

    /// The averaging decay is checked (0 < d < 1 when on) and left out of weight files at 0.
    #[test]
    fn the_averaging_decay_is_checked_and_left_out_at_zero() {
        let with = |d: f32| TransformerConfig {
            average_decay: d,
            ..TransformerConfig::default()
        };
        for bad in [-0.5, 1.0, 1.5, f32::NAN] {
            let err = with(bad).validate().err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains("average_decay"), "{bad}: {err}");
        }
        assert!(with(0.998).validate().is_ok());
        let json = |c: &TransformerConfig| serde_json::to_string(c).unwrap_or_default();
        assert!(!json(&with(0.0)).contains("average_decay"));
        assert!(json(&with(0.998)).contains("average_decay"));
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
        assert_eq!(stored(with(0.2, 0.0)), None);
        assert_eq!(stored(with(0.2, 0.25)), Some(serde_json::json!(0.25)));
        // The bundled recipe mines: its file says so.
        let bundled = stored(TransformerConfig::default()).and_then(|v| v.as_f64());
        assert!(bundled.is_some_and(|s| (s - 0.2).abs() < 1e-6), "{bundled:?}");
    }
}
