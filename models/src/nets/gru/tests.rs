//! The GRU's gradients, its step and its controller, checked.

use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn window(rng: &mut ChaCha8Rng, inputs: usize, steps: usize) -> (Vec<f32>, Vec<f32>) {
    let xs = (0..inputs * steps)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let targets = (0..2 * steps)
        .map(|_| rng.random_range(-0.9..0.9))
        .collect();
    (xs, targets)
}

/// The step size starts at the base, ends at its fraction, and falls all the way.
#[test]
fn the_cosine_step_size_falls_from_the_base_to_its_fraction() {
    let rates: Vec<f32> = (0..=100).map(|s| cosine_rate(2e-3, 0.05, s, 100)).collect();
    assert!((rates[0] - 2e-3).abs() < 1e-9, "{}", rates[0]);
    assert!((rates[100] - 1e-4).abs() < 1e-9, "{}", rates[100]);
    assert!((rates[50] - 1.05e-3).abs() < 1e-8, "{}", rates[50]);
    assert!(rates.windows(2).all(|w| w[1] <= w[0]));
    assert_eq!(
        cosine_rate(2e-3, 1.0, 37, 100),
        2e-3,
        "fraction 1: constant"
    );
}

/// Every parameter tensor's gradient against central finite differences.
/// Bound: |analytic − numeric| ≤ 1e-2 · max(|analytic|, |numeric|) + 2e-4, with ε = 1e-2
/// in f32 (the loss is O(0.1), so rounding error is ~1e-5 and truncation ~ε² · f''').
/// With a linear head, and with a head of 3 hidden units reading the hidden state and the
/// present input.
#[test]
fn backpropagation_through_time_matches_finite_differences() {
    gradients_match_finite_differences(0);
    gradients_match_finite_differences(3);
}

fn gradients_match_finite_differences(mlp: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (inputs, hidden, steps, from) = (5, 4, 6, 2);
    let params = GruParams::init_with(inputs, hidden, mlp, &mut rng);
    let (xs, targets) = window(&mut rng, inputs, steps);
    let h0: Vec<f32> = (0..hidden).map(|_| rng.random_range(-0.5..0.5)).collect();
    let mut params = params;
    // A presence head that is not zero, so its gradient reaches the hidden state.
    for w in &mut params.presence_weight {
        *w = rng.random_range(-0.5..0.5);
    }
    let labels: Vec<f32> = (0..steps)
        .map(|t| f32::from(u8::from(t % 3 == 0)))
        .collect();
    let presence = Some((labels.as_slice(), 0.7));
    let mut grads = params.zeros_like();
    let caches = params.forward(&xs, &h0);
    params.loss_and_grad(&caches, &targets, presence, from, &mut grads);
    let loss = |p: &GruParams| {
        let mut scratch = p.zeros_like();
        p.loss_and_grad(&p.forward(&xs, &h0), &targets, presence, from, &mut scratch)
    };
    let eps = 1e-2f32;
    let names: Vec<&str> = cell::NAMES
        .into_iter()
        .chain(["presence.weight", "presence.bias"])
        .collect();
    let analytic: Vec<Vec<f32>> = grads.trainable().iter().map(|g| (*g).clone()).collect();
    for (tensor, (name, grad)) in names.iter().zip(&analytic).enumerate() {
        for (i, &a) in grad.iter().enumerate() {
            let mut plus = params.clone();
            plus.trainable_mut()[tensor][i] += eps;
            let mut minus = params.clone();
            minus.trainable_mut()[tensor][i] -= eps;
            let numeric = ((loss(&plus) - loss(&minus)) / f64::from(2.0 * eps)) as f32;
            let bound = 1e-2 * a.abs().max(numeric.abs()) + 2e-4;
            assert!(
                (a - numeric).abs() <= bound,
                "head of {mlp}: {name}[{i}]: analytic {a}, numeric {numeric}"
            );
        }
    }
}

/// Forward pass against numbers computed by hand for a one-unit, one-input GRU.
///
/// All weights 0.5, biases 0, h = 0.2, x = 1:
/// gi = 0.5, gh = 0.1 → r = z = σ(0.6) = 0.645656;
/// n = tanh(0.5 + 0.645656 · 0.1) = tanh(0.5645656) = 0.511357;
/// h' = (1 − 0.645656) · 0.511357 + 0.645656 · 0.2 = 0.310327
/// (evaluated with Python's math module).
#[test]
fn one_step_matches_a_hand_computation() {
    let p = GruParams {
        inputs: 1,
        hidden: 1,
        weight_ih: vec![0.5; 3],
        weight_hh: vec![0.5; 3],
        bias_ih: vec![0.0; 3],
        bias_hh: vec![0.0; 3],
        mlp: 0,
        mlp_weight: Vec::new(),
        mlp_bias: Vec::new(),
        head_weight: vec![1.0, -1.0],
        head_bias: vec![0.0, 0.1],
        presence_weight: vec![0.0],
        presence_bias: vec![0.0],
    };
    let c = p.step(&[1.0], &[0.2]);
    assert!((c.r[0] - 0.645_656).abs() < 1e-5);
    assert!((c.n[0] - 0.511_357).abs() < 1e-5);
    assert!((c.h[0] - 0.310_327).abs() < 1e-5, "{}", c.h[0]);
    let y = p.head(&c.h, &[1.0]);
    assert!((y[0] - 0.310_327).abs() < 1e-5 && (y[1] + 0.210_327).abs() < 1e-5);
}

#[test]
fn the_controller_carries_state_and_forget_clears_it() {
    use crate::MemoryController;
    use crate::normaliser::Normaliser;
    use crate::snapshot::{Role, TierKind};
    use memdrive_sim::{Controller, Observation, ObservationSpec};
    use std::sync::Arc;
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let spec = Arc::new(ObservationSpec::new(4));
    let dim = spec.len();
    let params = Arc::new(GruParams::init(dim, 8, &mut rng));
    let normaliser = Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim]);
    let normaliser = Arc::new(normaliser.unwrap_or_else(|| panic!("valid statistics")));
    let mut c = GruController::new(params, normaliser);
    let mut obs = Observation::zeros(spec);
    let values: Vec<f32> = (0..dim).map(|i| i as f32 * 0.1).collect();
    obs.copy_from(&values);
    let first = c.act(&obs);
    let second = c.act(&obs);
    // The same observation twice gives different actions: the state changed in between.
    assert_ne!(first, second);
    let memory = c.memory();
    let array = |name| {
        memory
            .array(name)
            .map(|a| a.data.clone())
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let (hidden, update_gate, reset_gate) =
        (array("hidden"), array("update_gate"), array("reset_gate"));
    assert_eq!(
        (hidden.len(), update_gate.len(), reset_gate.len()),
        (8, 8, 8)
    );
    assert_eq!(
        memory.state(),
        &hidden[..],
        "the hidden state is the state vector"
    );
    assert_eq!(
        memory.with_role(Role::Kept).map(|a| a.name),
        Some("update_gate")
    );
    assert_eq!(memory.tiers[0].kind, TierKind::ShortTerm);
    assert!(hidden.iter().any(|h| *h != 0.0));
    assert!(update_gate.iter().all(|z| (0.0..=1.0).contains(z)));
    c.forget();
    assert!(c.memory().state().iter().all(|h| *h == 0.0));
    // After forgetting, it acts as it did from the start.
    assert_eq!(c.act(&obs), first);
}

/// A window started from the stored state (`run_states`: the state before each row, the
/// episode run from zero) goes on exactly as the whole episode does, and a window's loss
/// from that state equals the whole episode's loss on the same rows.
#[test]
fn a_window_from_the_stored_state_continues_its_episode() {
    use crate::train::Recurrent;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (inputs, hidden, steps, at) = (5, 6, 20, 7);
    let params = GruParams::init(inputs, hidden, &mut rng);
    let (xs, targets) = window(&mut rng, inputs, steps);
    let mut stored = Vec::new();
    params.run_states(&xs, &mut stored);
    assert_eq!(stored.len(), steps * hidden);
    assert!(stored[..hidden].iter().all(|&h| h == 0.0));
    let whole = params.forward(&xs, &vec![0.0; hidden]);
    // Stored state runs without the caches, and gives the forward pass's states bit for bit.
    for (t, c) in whole.iter().enumerate().skip(1) {
        assert_eq!(&stored[t * hidden..(t + 1) * hidden], whole[t - 1].h.as_slice());
        assert_eq!(&stored[t * hidden..(t + 1) * hidden], c.h_prev.as_slice());
    }
    let start = &stored[at * hidden..(at + 1) * hidden];
    let part = params.forward(&xs[at * inputs..], start);
    for (a, b) in whole[at..].iter().zip(&part) {
        for (x, y) in a.h.iter().zip(&b.h) {
            assert!((x - y).abs() <= 1e-6, "{x} vs {y}");
        }
    }
    // The loss of the rows from `at` on, counted the same way both times.
    let mut grads = params.zeros_like();
    let from_stored = params.window_loss_and_grad(
        &xs[at * inputs..],
        &targets[at * 2..],
        None,
        0,
        Some(start),
        &mut grads,
    );
    let from_zero = params.window_loss_and_grad(
        &xs[at * inputs..],
        &targets[at * 2..],
        None,
        0,
        None,
        &mut grads,
    );
    let caches = params.forward(&xs, &vec![0.0; hidden]);
    let mut unused = params.zeros_like();
    let whole_loss = params.loss_and_grad(&caches, &targets, None, at, &mut unused);
    assert!(
        (from_stored - whole_loss).abs() <= 1e-6 * whole_loss.abs().max(1.0),
        "{from_stored} vs {whole_loss}"
    );
    assert!((from_zero - whole_loss).abs() > 1e-6, "the start state made no difference");
}

/// The averaging decay and the least speed of a held label: checked, kept in weight files
/// when set and left out of them at 0 (as files written before they existed lack them).
#[test]
fn averaging_and_held_labels_are_checked_and_left_out_at_zero() {
    crate::test_support::assert_average_and_hold_checked(
        |average_decay, rest_hold_below_mps| GruConfig {
            average_decay,
            rest_hold_below_mps,
            ..GruConfig::default()
        },
        GruConfig::validate,
    );
}

/// The share of windows drawn around the learner's mistakes is checked alone and with the
/// share around hard braking (together at most 1), and left out of weight files at 0.
#[test]
fn the_mistake_share_is_checked_and_left_out_at_zero() {
    let with = |critical_share: f32, mistake_share: f32| GruConfig {
        critical_share,
        mistake_share,
        ..GruConfig::default()
    };
    let json = |c: &GruConfig| serde_json::to_string(c).unwrap_or_default();
    assert!(with(0.2, 0.0).validate().is_ok());
    assert!(!json(&with(0.2, 0.0)).contains("mistake_share"));
    assert!(with(0.2, 0.3).validate().is_ok());
    assert!(json(&with(0.2, 0.3)).contains("mistake_share"));
    for (critical, mistakes, says) in [
        (0.2, -0.1, "mistake_share"),
        (0.2, f32::NAN, "mistake_share"),
        (0.6, 0.6, "critical_share + mistake_share"),
    ] {
        let err = with(critical, mistakes)
            .validate()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(says), "{critical} {mistakes}: {err}");
    }
}
