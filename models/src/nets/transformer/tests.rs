//! The transformer's gradients, its cache and its controller's window, checked.

use super::model::PRESENCE_W;
use super::*;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn small() -> TransformerConfig {
    TransformerConfig {
        window: 4,
        d_model: 6,
        heads: 2,
        d_mlp: 5,
        ..TransformerConfig::default()
    }
}

/// Every parameter tensor's gradient against central finite differences (ε = 1e-2, f32).
/// Bound: |analytic − numeric| ≤ 2e-2 · max(|analytic|, |numeric|) + 3e-4.
#[test]
fn backpropagation_matches_finite_differences() {
    // (Seed 11 put one ReLU of the MLP within ε of its kink for embed.bias[2] once the
    // presence head weighed in: a finite difference across a kink is no derivative.)
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let inputs = 5;
    let mut params = TransformerParams::init(inputs, &small(), &mut rng);
    // Non-trivial layer norms, biases and age embeddings.
    for (t, name) in params.tensors.iter_mut().zip(NAMES) {
        if !name.ends_with("weight") || name.contains("ln") {
            for v in t.iter_mut() {
                *v += rng.random_range(-0.3..0.3);
            }
        }
    }
    let frames: Vec<f32> = (0..3 * inputs)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    // A presence head that is not zero, so its gradient reaches the features (drawn after
    // the frames: the points checked stay clear of the MLP's kinks).
    for v in &mut params.tensors[PRESENCE_W] {
        *v = rng.random_range(-0.5..0.5);
    }
    let target = [0.3, -0.6];
    let presence = Some((1.0, 0.7));
    let mut grads = params.zeros_like();
    params.loss_and_grad(&params.readout(&frames), target, presence, 1.0, &mut grads);
    let loss = |p: &TransformerParams| {
        let mut scratch = p.zeros_like();
        p.loss_and_grad(&p.readout(&frames), target, presence, 1.0, &mut scratch)
    };
    let eps = 1e-2f32;
    let names = NAMES.iter().chain(&["presence.weight", "presence.bias"]);
    for (tensor, name) in names.enumerate() {
        for i in 0..params.tensors[tensor].len() {
            let mut plus = params.clone();
            plus.tensors[tensor][i] += eps;
            let mut minus = params.clone();
            minus.tensors[tensor][i] -= eps;
            let numeric = ((loss(&plus) - loss(&minus)) / f64::from(2.0 * eps)) as f32;
            let a = grads.tensors[tensor][i];
            let bound = 2e-2 * a.abs().max(numeric.abs()) + 3e-4;
            assert!(
                (a - numeric).abs() <= bound,
                "{name}[{i}]: analytic {a}, numeric {numeric}"
            );
        }
    }
}

/// A small transformer with non-trivial layer norms, biases, age embeddings and presence head.
fn perturbed(rng: &mut ChaCha8Rng, inputs: usize) -> TransformerParams {
    let mut params = TransformerParams::init(inputs, &small(), rng);
    for (t, name) in params.tensors.iter_mut().zip(NAMES) {
        if !name.ends_with("weight") || name.contains("ln") {
            for v in t.iter_mut() {
                *v += rng.random_range(-0.3..0.3);
            }
        }
    }
    for v in &mut params.tensors[PRESENCE_W] {
        *v = rng.random_range(-0.5..0.5);
    }
    params
}

/// Readouts at every row of a stretch, sharing the frames' tokens, give the loss and the
/// gradients of the single readouts over each row's window, summed (to rounding); the single
/// readout's are checked against finite differences above. Seven frames, a window of four,
/// readouts at rows 2..7: the first ones see fewer frames than the window, the last ones drop
/// the oldest, and the frames before row 2 are context only. Likewise with a window of two.
#[test]
fn a_stretch_of_readouts_is_the_sum_of_single_readouts() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let inputs = 5;
    let params = perturbed(&mut rng, inputs);
    let (rows, first) = (7, 2);
    let frames: Vec<f32> = (0..rows * inputs)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let targets: Vec<f32> = (0..2 * rows).map(|_| rng.random_range(-0.8..0.8)).collect();
    let presence: Vec<f32> = (0..rows).map(|r| (r % 2) as f32).collect();
    let labels = StretchLabels {
        targets: &targets,
        presence: Some((&presence, 0.4)),
    };
    // The full window, and a shorter one as `min_window` draws them.
    for k in [small().window, 2] {
        let mut stretch = params.zeros_like();
        let a = params.stretch_loss_and_grad(&frames, first, &labels, k, 0.3, &mut stretch);
        let mut single = params.zeros_like();
        let mut b = 0.0;
        for row in first..rows {
            let from = (row + 1).saturating_sub(k);
            b += params.loss_and_grad(
                &params.readout(&frames[from * inputs..(row + 1) * inputs]),
                [targets[2 * row], targets[2 * row + 1]],
                Some((presence[row], 0.4)),
                0.3,
                &mut single,
            );
        }
        assert!((a - b).abs() < 1e-6, "window {k}: {a} against {b}");
        let names = NAMES.iter().chain(&["presence.weight", "presence.bias"]);
        for (name, (x, y)) in names.zip(stretch.tensors.iter().zip(&single.tensors)) {
            for (u, v) in x.iter().zip(y) {
                assert!(
                    (u - v).abs() <= 1e-5 + 1e-4 * v.abs(),
                    "window {k}, {name}: {u} against {v}"
                );
            }
        }
    }
}

/// The cached readout (projections computed once per frame) equals the from-scratch one, and
/// the driving one (without what a backward pass needs) gives the same action and attention.
#[test]
fn the_key_value_cache_gives_the_same_readout() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let params = TransformerParams::init(5, &small(), &mut rng);
    let frames: Vec<f32> = (0..4 * 5).map(|_| rng.random_range(-1.0..1.0)).collect();
    let scratch = params.readout(&frames);
    let tokens: Vec<Vec<f32>> = frames.chunks_exact(5).map(|x| params.token(x)).collect();
    let cache: Vec<_> = tokens.iter().map(|t| params.key_value(t)).collect();
    let cached = params.readout_cached(&tokens, &cache);
    assert_eq!(scratch.y, cached.y);
    let driving = params.readout_driving(&tokens, &cache);
    assert_eq!(driving.y, cached.y);
    assert_eq!(driving.attention, cached.attention);
    for p in &cached.attention {
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
}

/// A small random transformer with identity normalisation, and a maker of frames whose
/// every element is one value.
fn controller_fixture(
    seed: u64,
) -> (
    std::sync::Arc<TransformerParams>,
    std::sync::Arc<crate::normaliser::Normaliser>,
    impl Fn(f32) -> memdrive_sim::Observation,
) {
    use memdrive_sim::{Observation, ObservationSpec};
    use std::sync::Arc;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let spec = Arc::new(ObservationSpec::new(4));
    let dim = spec.len();
    let params = Arc::new(TransformerParams::init(dim, &small(), &mut rng));
    let normaliser = crate::normaliser::Normaliser::from_parts(vec![0.0; dim], vec![1.0; dim]);
    let normaliser = Arc::new(normaliser.unwrap_or_else(|| panic!("valid statistics")));
    let frame = move |v: f32| {
        let mut o = Observation::zeros(spec.clone());
        o.copy_from(&vec![v; dim]);
        o
    };
    (params, normaliser, frame)
}

/// A window shrunk at run time to L < K frames forgets exactly as the trained one does at
/// K: histories that differ only more than L steps back give bit-identical actions.
#[test]
fn a_shrunk_window_forgets_exactly_beyond_its_limit() {
    use memdrive_sim::Controller;
    let (params, normaliser, frame) = controller_fixture(17);
    let run = |limit: usize, first: f32, then: usize| {
        let c = TransformerController::new(params.clone(), normaliser.clone());
        let mut c = c
            .with_window_limit(limit)
            .unwrap_or_else(|| panic!("limit {limit}"));
        c.act(&frame(first));
        (0..then).map(|_| c.act(&frame(0.3))).last()
    };
    for limit in 1..=small().window {
        assert_eq!(run(limit, 1.0, limit), run(limit, -1.0, limit), "{limit}");
        if limit > 1 {
            assert_ne!(run(limit, 1.0, limit - 1), run(limit, -1.0, limit - 1));
        }
    }
    // The full window is the trained controller, bit for bit.
    let full = {
        let mut c = TransformerController::new(params.clone(), normaliser.clone());
        c.act(&frame(1.0));
        (0..2).map(|_| c.act(&frame(0.3))).last()
    };
    assert_eq!(full, run(small().window, 1.0, 2));
    let c = TransformerController::new(params.clone(), normaliser.clone());
    assert!(c.clone().with_window_limit(0).is_none());
    assert!(c.with_window_limit(small().window + 1).is_none());
}

/// A frame older than K steps is gone: two histories that differ only more than K steps
/// back give bit-identical actions, and ones that differ inside the window do not.
#[test]
fn the_controller_forgets_exactly_beyond_its_window() {
    use crate::MemoryController;
    use crate::snapshot::{Role, TierKind};
    use memdrive_sim::Controller;
    let (params, normaliser, frame) = controller_fixture(13);
    let run = |first: f32, then: usize| {
        let mut c = TransformerController::new(params.clone(), normaliser.clone());
        c.act(&frame(first));
        let mut last = c.act(&frame(0.3));
        for _ in 1..then {
            last = c.act(&frame(0.3));
        }
        (last, c)
    };
    let k = small().window;
    // After K more frames the first one has left the window.
    assert_eq!(run(1.0, k).0, run(-1.0, k).0);
    // After K-1 more it is still inside and changes the action.
    assert_ne!(run(1.0, k - 1).0, run(-1.0, k - 1).0);
    let (_, mut c) = run(1.0, 2);
    let memory = c.memory();
    assert_eq!(memory.frames_held(), Some(3));
    assert_eq!(memory.tiers[0].kind, TierKind::Working);
    let attention = memory
        .with_role(Role::Attention)
        .unwrap_or_else(|| panic!("no attention"));
    assert_eq!(attention.axes[0].len, 2, "two heads");
    assert_eq!(attention.axes[1].name, "frame age");
    assert!((0..2).all(|h| (attention.row(h).iter().sum::<f32>() - 1.0).abs() < 1e-5));
    c.forget();
    assert_eq!(c.memory().frames_held(), Some(0));
    assert!(c.memory().state().iter().all(|v| *v == 0.0));
}

/// `min_window` is checked against the window and left out of weight files when off.
#[test]
fn the_shortest_trained_window_is_checked_and_left_out_when_off() {
    let json = |c: &TransformerConfig| serde_json::to_string(c).unwrap_or_else(|e| panic!("{e}"));
    let mut c = TransformerConfig::default();
    assert!(!json(&c).contains("min_window"));
    for ok in [1, 8, c.window] {
        c.min_window = ok;
        assert!(c.validate().is_ok(), "{ok}");
    }
    c.min_window = c.window + 1;
    let err = c.validate().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("min_window"), "{err}");
    c.min_window = 8;
    let back: TransformerConfig =
        serde_json::from_str(&json(&c)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, c);
}

/// `final_rate_fraction` is off by default (a constant step size, left out of weight files, so
/// files trained before it are byte for byte as before), and checked when on.
#[test]
fn the_step_size_schedule_is_off_by_default_and_checked_when_on() {
    let json = |c: &TransformerConfig| serde_json::to_string(c).unwrap_or_else(|e| panic!("{e}"));
    let mut c = TransformerConfig::default();
    assert!(!json(&c).contains("final_rate_fraction"));
    for bad in [-0.1, 1.5, f32::NAN] {
        c.final_rate_fraction = bad;
        let err = c.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("final_rate_fraction"), "{bad}: {err}");
    }
    c.final_rate_fraction = 0.05;
    assert!(c.validate().is_ok());
    let back: TransformerConfig =
        serde_json::from_str(&json(&c)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, c);
}
