//! The LRU's gradients against finite differences, its half-lives, and its controller's memory.

use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn small() -> LruConfig {
    LruConfig {
        d_model: 4,
        state: 3,
        d_mlp: 5,
        // Phases up to π so the imaginary parts matter.
        max_phase: std::f32::consts::PI,
        ..LruConfig::default()
    }
}

/// Every parameter tensor's gradient (the presence head's included) against central finite
/// differences of the window loss. Bound: |analytic − numeric| ≤ 2e-2 · max(|a|, |n|) + 2e-4
/// with ε = 1e-3 in f32 (at ε = 1e-2 a unit near zero crosses its relu kink and the central
/// difference is off by ~9%; as ε shrinks it converges on the analytic value).
#[test]
fn backpropagation_through_time_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let inputs = 3;
    let mut params = LruParams::init(inputs, &small(), &mut rng);
    // A presence head that is not zero, and an input bias, so their paths are exercised.
    for t in &mut params.tensors {
        for v in t.iter_mut() {
            *v += 0.05 * rng.random_range(-1.0..1.0);
        }
    }
    let steps = 6;
    let xs: Vec<f32> = (0..inputs * steps)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let targets: Vec<f32> = (0..2 * steps).map(|_| rng.random_range(-0.9..0.9)).collect();
    let labels: Vec<f32> = (0..steps).map(|i| (i % 2) as f32).collect();
    let h0 = vec![0.0; 2 * params.state];
    let loss = |p: &LruParams| {
        let caches = p.forward(&xs, &h0);
        p.loss_and_grad(&caches, &targets, Some((&labels, 0.7)), 2, &mut p.zeros_like())
    };
    let mut grads = params.zeros_like();
    let caches = params.forward(&xs, &h0);
    params.loss_and_grad(&caches, &targets, Some((&labels, 0.7)), 2, &mut grads);
    // Small enough that no relu unit crosses its kink between the two evaluations.
    let eps = 1e-3;
    for (ti, tensor) in params.tensors.iter().enumerate() {
        for i in 0..tensor.len() {
            let mut up = params.clone();
            up.tensors[ti][i] += eps;
            let mut down = params.clone();
            down.tensors[ti][i] -= eps;
            let numeric = (loss(&up) - loss(&down)) / (2.0 * f64::from(eps));
            let analytic = f64::from(grads.tensors[ti][i]);
            let bound = 2e-2 * analytic.abs().max(numeric.abs()) + 2e-4;
            assert!(
                (analytic - numeric).abs() <= bound,
                "tensor {ti} element {i}: analytic {analytic}, numeric {numeric}"
            );
        }
    }
}

/// The influence of each step's input is the same as finite differences of the last action.
#[test]
fn influence_by_lag_matches_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let inputs = 3;
    let params = LruParams::init(inputs, &small(), &mut rng);
    let steps = 5;
    let xs: Vec<f32> = (0..inputs * steps)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let h0 = vec![0.0; 2 * params.state];
    let last = |xs: &[f32]| {
        let c = params.forward(xs, &h0);
        c.last().map_or([0.0; 2], |c| [c.out[0].tanh(), c.out[1].tanh()])
    };
    let influence = params.input_influence(&params.forward(&xs, &h0));
    crate::test_support::assert_influence_close(
        &influence,
        &crate::test_support::finite_difference_influence(&xs, inputs, &last),
    );
}

/// |λ| starts in the ring, each half-life is ln 2 / exp(ν), and a channel keeps |λ|^k of an
/// impulse after k steps (with no further input).
#[test]
fn half_lives_are_read_from_the_weights_and_hold() {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let config = LruConfig {
        state: 16,
        ..small()
    };
    let params = LruParams::init(3, &config, &mut rng);
    let a = params.magnitudes();
    assert!(a.iter().all(|&a| (config.r_min - 1e-4..=config.r_max + 1e-4).contains(&a)), "{a:?}");
    let lives = params.half_lives();
    assert!(lives.windows(2).all(|w| w[0] >= w[1]), "longest first");
    let mut from_a: Vec<f32> = a.iter().map(|a| std::f32::consts::LN_2 / -a.ln()).collect();
    from_a.sort_by(|x, y| y.total_cmp(x));
    for (h, f) in lives.iter().zip(&from_a) {
        assert!((h - f).abs() <= 1e-3 * f, "{h} vs {f}");
    }
}

/// The controller carries its state from step to step; Forget clears it; its memory goes out
/// and back in bit for bit, and a memory of another size is refused.
#[test]
fn the_controller_carries_state_and_forget_clears_it() {
    use crate::MemoryController;
    use crate::normaliser::Normaliser;
    use memdrive_sim::{Controller, Observation, ObservationSpec};
    use std::sync::Arc;
    let spec = Arc::new(ObservationSpec::new(4));
    let dim = spec.len();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let params = Arc::new(LruParams::init(dim, &small(), &mut rng));
    let normaliser = Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim])
        .map(Arc::new)
        .unwrap_or_else(|| panic!("valid statistics"));
    let mut c = LruController::new(params.clone(), normaliser.clone());
    let mut obs = Observation::zeros(spec);
    obs.copy_from(&(0..dim).map(|i| i as f32 * 0.1).collect::<Vec<_>>());
    let first = c.act(&obs);
    let saved = c.memory_state();
    let second = c.act(&obs);
    assert_ne!(first, second, "the state changed in between");
    let memory = c.memory();
    assert_eq!(memory.state().len(), 2 * params.state);
    assert!(memory.state().iter().any(|v| *v != 0.0));
    assert_eq!(
        memory.array("half_life").map(|a| a.data.clone()),
        Some(params.half_lives())
    );
    c.set_memory_state(&saved).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.act(&obs), second, "resumed bit for bit");
    c.forget();
    assert!(c.memory().state().iter().all(|v| *v == 0.0));
    assert_eq!(c.act(&obs), first, "after forgetting it acts as from the start");
    let other = Arc::new(LruParams::init(
        dim,
        &LruConfig {
            state: 5,
            ..small()
        },
        &mut rng,
    ));
    let foreign = LruController::new(other, normaliser).memory_state();
    let err = c.set_memory_state(&foreign).err().map(|e| e.to_string());
    assert_eq!(
        err.as_deref(),
        Some("cannot take the memory of an LRU of 5 channels into an LRU of 3 channels")
    );
}


/// The LRU's stored state (`run_states`) is the state before each row, so a window started
/// from it goes on exactly as the whole episode does.
#[test]
fn a_window_from_the_stored_state_continues_its_episode() {
    use crate::train::Recurrent;
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let (inputs, steps, at) = (3, 16, 5);
    let params = LruParams::init(inputs, &small(), &mut rng);
    let xs: Vec<f32> = (0..inputs * steps)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let len = params.state_len();
    let mut stored = Vec::new();
    params.run_states(&xs, &mut stored);
    assert_eq!(stored.len(), steps * len);
    let whole = params.forward(&xs, &vec![0.0; len]);
    // Stored state runs without the readout or the caches, and gives the forward pass's
    // states bit for bit.
    assert!(stored[..len].iter().all(|&v| v == 0.0));
    for (t, c) in whole.iter().enumerate().take(steps - 1) {
        let after: Vec<f32> = c.h.0.iter().chain(&c.h.1).copied().collect();
        assert_eq!(&stored[(t + 1) * len..(t + 2) * len], after.as_slice(), "row {t}");
    }
    let start = &stored[at * len..(at + 1) * len];
    let part = params.forward(&xs[at * inputs..], start);
    for (a, b) in whole[at..].iter().zip(&part) {
        for (x, y) in a.h.0.iter().chain(&a.h.1).zip(b.h.0.iter().chain(&b.h.1)) {
            assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
        }
    }
}

/// A round of window training with and without averaging: the same weights trained, bit for
/// bit, and with it an average that is not them; held labels at rest change the training.
#[test]
fn averaging_leaves_the_window_training_as_it_was() {
    use crate::train::{Recurrent, WindowPlan, train_windows};
    let inputs = 3;
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let start = LruParams::init(inputs, &small(), &mut rng);
    let rows = crate::test_support::RandomRows::new(inputs, 2, 20, &mut rng);
    let data = rows.sequences();
    let run = |average_decay: f32, rest_hold_below_mps: f32| {
        let plan = WindowPlan {
            window: 8,
            burn_in: 2,
            batch: 2,
            steps: 5,
            learning_rate: 1e-2,
            final_rate_fraction: 0.5,
            presence_loss: 0.0,
            critical_share: 0.0,
            critical_min_speed_mps: 0.0,
            stored_state_every: 0,
            average_decay,
            rest_hold_below_mps,
            mistake_share: 0.0,
        };
        let mut params = start.clone();
        let lengths: Vec<usize> = params.trainable().iter().map(|t| t.len()).collect();
        let mut adam = crate::adam::Adam::new(&lengths, plan.learning_rate, 1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let (_, average) = train_windows(
            &mut params,
            &mut adam,
            &plan,
            &data,
            &mut rng,
            Some(1),
            &mut |_, _, _| true,
        );
        let bits = |p: &LruParams| -> Vec<f32> {
            p.trainable().into_iter().flatten().copied().collect()
        };
        (bits(&params), average.map(|a| bits(&a)))
    };
    let (plain, none) = run(0.0, 0.0);
    assert!(none.is_none());
    let (trained, average) = run(0.9, 0.0);
    assert_eq!(trained, plain);
    let average = average.unwrap_or_default();
    assert_eq!(average.len(), plain.len());
    assert_ne!(average, plain);
    let (held, _) = run(0.0, 0.05);
    assert_ne!(held, plain);
}

/// The averaging decay and the least speed of a held label are checked, kept in weight files
/// (the bundled recipe's defaults), and left out of them at 0.
#[test]
fn averaging_and_held_labels_are_checked_and_left_out_at_zero() {
    let defaults = serde_json::to_string(&LruConfig::default()).unwrap_or_default();
    assert!(defaults.contains("average_decay") && defaults.contains("rest_hold_below_mps"));
    crate::test_support::assert_average_and_hold_checked(
        |average_decay, rest_hold_below_mps| LruConfig {
            average_decay,
            rest_hold_below_mps,
            ..LruConfig::default()
        },
        LruConfig::validate,
    );
}
