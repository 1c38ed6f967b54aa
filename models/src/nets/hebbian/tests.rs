//! The plastic network's gradients through its trace against finite differences, its trace,
//! and its controller's memory.

use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Nine units: the eight-lane sums and their tails both run.
fn small() -> HebbianConfig {
    HebbianConfig {
        hidden: 9,
        ..HebbianConfig::default()
    }
}

/// A network whose trace grows fast (large α and modulator), so the gradient's path through the
/// trace carries weight, with some trace entries clipped.
fn plastic(seed: u64, inputs: usize) -> HebbianParams {
    plastic_with_head(seed, inputs, 0)
}

/// The same with a hidden layer of `mlp` units in the head (0: a linear head).
fn plastic_with_head(seed: u64, inputs: usize, mlp: usize) -> HebbianParams {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let config = HebbianConfig {
        head_mlp: mlp,
        ..small()
    };
    let mut p = HebbianParams::init(inputs, &config, &mut rng);
    for (i, t) in p.tensors.iter_mut().enumerate() {
        let scale = if i == 3 || i == 4 { 1.5 } else { 0.3 };
        for v in t.iter_mut() {
            *v += scale * rng.random_range(-1.0..1.0);
        }
    }
    p
}

/// Every parameter tensor's gradient (the presence head's included), through the trace and its
/// clipping, against central finite differences of the window loss, with a linear head and
/// with a hidden layer in it.
#[test]
fn backpropagation_through_the_trace_matches_finite_differences() {
    // The default rule, and a trace that fades and is bounded tighter.
    for (decay, clip) in [(1.0, 1.0), (0.9, 0.8)] {
        for mlp in [0, 5] {
            let mut params = plastic_with_head(5, 3, mlp);
            (params.decay, params.clip) = (decay, clip);
            check_gradients(&params);
        }
    }
}

/// `critical_weight` w counts each row whose acceleration label is a hard braking 1 + w
/// times in the loss and its gradient (every tensor's), and leaves every other row as it is:
/// with the gradients checked against finite differences above, that is the weighted loss's
/// gradient.
#[test]
fn hard_braking_rows_weigh_more_in_the_loss() {
    let params = plastic(7, 3);
    let xs: Vec<f32> = (0..3 * 4).map(|i| (i as f32 * 0.37).sin()).collect();
    let hard = crate::train::critical_label() - 0.1;
    let run = |w: f32, accel: f32| {
        let mut p = params.clone();
        p.critical_weight = w;
        let caches = p.forward(&xs, &[0.0; 9], &[0.0; 81]);
        let targets: Vec<f32> = (0..4).flat_map(|_| [0.1, accel]).collect();
        let mut grads = p.zeros_like();
        let loss = p.loss_and_grad(&caches, &targets, None, 1, &mut grads);
        (loss, grads.tensors)
    };
    let near = |a: f64, b: f64| assert!((a - b).abs() <= 1e-5 * b.abs().max(1e-6), "{a} vs {b}");
    let ((weighted, wg), (plain, pg)) = (run(3.0, hard), run(0.0, hard));
    near(weighted, 4.0 * plain);
    let mut compared = 0;
    for (a, b) in wg.iter().flatten().zip(pg.iter().flatten()) {
        near(f64::from(*a), 4.0 * f64::from(*b));
        compared += usize::from(*b != 0.0);
    }
    assert!(compared > 100, "{compared} gradients compared");
    assert_eq!(run(3.0, 0.5), run(0.0, 0.5));
}

fn check_gradients(params: &HebbianParams) {
    let inputs = params.inputs;
    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let steps = 7;
    let xs: Vec<f32> = (0..inputs * steps)
        .map(|_| rng.random_range(-1.5..1.5))
        .collect();
    let targets: Vec<f32> = (0..2 * steps)
        .map(|_| rng.random_range(-0.9..0.9))
        .collect();
    let labels: Vec<f32> = (0..steps).map(|i| (i % 2) as f32).collect();
    let n = params.hidden;
    // A trace halfway to its bounds that grows past them, so some entries clip and the mask is
    // exercised (starting nearer, an entry can sit within a finite step of the kink).
    let h0 = vec![0.0; n];
    let e0: Vec<f32> = (0..n * n)
        .map(|k| if k % 2 == 0 { 0.5 } else { -0.5 })
        .collect();
    let loss = |p: &HebbianParams| {
        let caches = p.forward(&xs, &h0, &e0);
        p.loss_and_grad(
            &caches,
            &targets,
            Some((&labels, 0.7)),
            2,
            &mut p.zeros_like(),
        )
    };
    let caches = params.forward(&xs, &h0, &e0);
    let clipped = (0..caches.len())
        .flat_map(|t| caches.trace(t).iter())
        .filter(|v| v.abs() >= params.clip)
        .count();
    let mut grads = params.zeros_like();
    params.loss_and_grad(&caches, &targets, Some((&labels, 0.7)), 2, &mut grads);
    let eps = 2e-4;
    for (ti, tensor) in params.tensors.iter().enumerate() {
        for i in 0..tensor.len() {
            let mut up = params.clone();
            up.tensors[ti][i] += eps;
            let mut down = params.clone();
            down.tensors[ti][i] -= eps;
            let numeric = (loss(&up) - loss(&down)) / (2.0 * f64::from(eps));
            let analytic = f64::from(grads.tensors[ti][i]);
            let bound = 3e-2 * analytic.abs().max(numeric.abs()) + 3e-4;
            assert!(
                (analytic - numeric).abs() <= bound,
                "tensor {ti} element {i}: analytic {analytic}, numeric {numeric}"
            );
        }
    }
    assert!(clipped > 0, "the test reaches the clip");
    assert!(
        grads.tensors[3].iter().any(|g| g.abs() > 1e-3),
        "the plastic coefficients get a gradient"
    );
}

/// The influence of each step's input matches finite differences of the last action, a head
/// with a hidden layer reading the newest input directly as well.
#[test]
fn influence_by_lag_matches_finite_differences() {
    for mlp in [0, 4] {
        influence_matches(&plastic_with_head(8, 3, mlp));
    }
}

fn influence_matches(params: &HebbianParams) {
    let inputs = params.inputs;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let steps = 5;
    let xs: Vec<f32> = (0..inputs * steps)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let n = params.hidden;
    let (h0, e0) = (vec![0.0; n], vec![0.0; n * n]);
    let last = |xs: &[f32]| {
        let c = params.forward(xs, &h0, &e0);
        let out = c.out(c.len() - 1);
        [out[0].tanh(), out[1].tanh()]
    };
    let influence = params.input_influence(&params.forward(&xs, &h0, &e0));
    crate::test_support::assert_influence_close(
        &influence,
        &crate::test_support::finite_difference_influence(&xs, inputs, &last),
    );
}

/// The trace follows the rule: it grows by M h_t h_{t−1}ᵀ on top of what it keeps (all, or
/// `decay` of it) and stays within ±clip; with plasticity off (α = 0) the trace no longer
/// changes what the network does.
#[test]
fn the_trace_follows_the_hebbian_rule() {
    let mut params = plastic(3, 3);
    let n = params.hidden;
    let x = [0.4f32, -0.2, 0.9];
    let h0: Vec<f32> = (0..n).map(|i| 0.2 * i as f32 - 0.3).collect();
    let e0: Vec<f32> = (0..n * n).map(|k| ((k % 5) as f32 - 2.0) * 0.3).collect();
    for (decay, clip) in [(1.0, 1.0), (0.7, 0.5)] {
        (params.decay, params.clip) = (decay, clip);
        let c = params.step(&x, &h0, &e0);
        for i in 0..n {
            for j in 0..n {
                let want = (decay * e0[i * n + j] + c.m * c.h[i] * h0[j]).clamp(-clip, clip);
                assert!((c.hebb[i * n + j] - want).abs() < 1e-6);
            }
        }
        // The same step inside a window (its input side a matrix product: equal to rounding).
        let window = params.forward(&x, &h0, &e0);
        let close = |a: &[f32], b: &[f32]| a.iter().zip(b).all(|(a, b)| (a - b).abs() < 1e-5);
        assert!(close(window.trace(0), &c.hebb));
        assert!(close(&window.out(0), &c.out));
    }
    let off = params.without_plasticity();
    let zero = vec![0.0; n * n];
    assert_eq!(off.step(&x, &h0, &e0).out, off.step(&x, &h0, &zero).out);
    assert_ne!(
        params.step(&x, &h0, &e0).out,
        params.step(&x, &h0, &zero).out
    );
}

/// The controller carries activity and trace; Forget clears both; its memory goes out and
/// back in bit for bit.
#[test]
fn the_controller_carries_its_trace_and_forget_clears_it() {
    use crate::MemoryController;
    use crate::normaliser::Normaliser;
    use memdrive_sim::{Controller, Observation, ObservationSpec};
    use std::sync::Arc;
    let spec = Arc::new(ObservationSpec::new(4));
    let dim = spec.len();
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    let params = Arc::new(HebbianParams::init(dim, &small(), &mut rng));
    let normaliser = Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim])
        .map(Arc::new)
        .unwrap_or_else(|| panic!("valid statistics"));
    let mut c = HebbianController::new(params.clone(), normaliser);
    let mut obs = Observation::zeros(spec);
    obs.copy_from(
        &(0..dim)
            .map(|i| (i as f32 * 0.37).sin())
            .collect::<Vec<_>>(),
    );
    let first = c.act(&obs);
    let saved = c.memory_state();
    let second = c.act(&obs);
    let memory = c.memory();
    assert_eq!(memory.state().len(), params.hidden);
    assert!(
        memory
            .array("trace")
            .is_some_and(|t| t.data.iter().any(|v| *v != 0.0)),
        "the trace holds something after two steps"
    );
    c.set_memory_state(&saved).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.act(&obs), second, "resumed bit for bit");
    c.forget();
    assert!(
        c.memory()
            .array("trace")
            .is_some_and(|t| t.data.iter().all(|v| *v == 0.0))
    );
    assert_eq!(
        c.act(&obs),
        first,
        "after forgetting it acts as from the start"
    );
}

/// Its candidate weights load as a Hebbian network through the same checks as every kind's, and
/// drive.
#[test]
fn its_candidate_weights_load_and_drive() {
    use crate::nets::Kind;
    let layout = memdrive_sim::ObservationSpec::new(32);
    let path = std::path::Path::new("hebbian.safetensors");
    let file = crate::weights::WeightFile::from_bytes(Hebbian.bundled_weights(), path, &layout)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(file.kind, KIND);
    let model = crate::Model::from_file(file, path).unwrap_or_else(|e| panic!("{e}"));
    let spec = memdrive_sim::scenario::builtin("cut_in")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in"));
    let mut pilot = memdrive_sim::Pilot::Sensing(model.controller());
    let result = memdrive_sim::run_episode(&spec, 0, &mut pilot);
    assert_eq!(result.outcome, memdrive_sim::Outcome::Goal);
}

/// The averaging decay and the least speed of a held label: checked, kept in weight files
/// when set and left out of them at 0 (as files written before they existed lack them).
#[test]
fn averaging_and_held_labels_are_checked_and_left_out_at_zero() {
    crate::test_support::assert_average_and_hold_checked(
        |average_decay, rest_hold_below_mps| HebbianConfig {
            average_decay,
            rest_hold_below_mps,
            ..HebbianConfig::default()
        },
        HebbianConfig::validate,
    );
}

/// `critical_weight` is left out of weight files at 0 (so files written before it are their
/// own bytes when saved again), written otherwise, and checked.
#[test]
fn critical_weight_is_checked_and_left_out_at_zero() {
    let with = |critical_weight| HebbianConfig {
        critical_weight,
        ..HebbianConfig::default()
    };
    let json = |c: &HebbianConfig| serde_json::to_string(c).unwrap_or_default();
    assert!(!json(&with(0.0)).contains("critical_weight"));
    assert!(with(4.0).validate().is_ok());
    assert!(json(&with(4.0)).contains("\"critical_weight\":4.0"));
    for bad in [-1.0, f32::NAN, 1e4] {
        let err = with(bad).validate().err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("critical_weight")),
            "{bad}: {err:?}"
        );
    }
}
