use super::*;
use crate::gru::GruParams;
use crate::normaliser::Normaliser;
use crate::rbf::{RbfConfig, RbfNetwork};
use crate::test_support::assert_influence_close as assert_close;
use crate::transformer::{TransformerConfig, TransformerParams};
use std::sync::Arc;

const INPUTS: usize = 5;

fn random(rng: &mut ChaCha8Rng, n: usize) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect()
}

fn identity_normaliser(_rng: &mut ChaCha8Rng) -> Arc<Normaliser> {
    Arc::new(
        Normaliser::from_parts(vec![0.0; INPUTS], vec![1.0; INPUTS])
            .unwrap_or_else(|| panic!("valid statistics")),
    )
}

/// ‖∂tanh(y)/∂x_{t−k}‖ for every lag by central differences of `action(frames)`.
fn finite_difference_influence(frames: &[f32], action: &dyn Fn(&[f32]) -> [f32; 2]) -> Vec<f64> {
    crate::test_support::finite_difference_influence(frames, INPUTS, action)
}

/// The GRU's influence by lag (back-propagation through time to the inputs) matches finite
/// differences at every lag, with a linear head and with a head of 3 hidden units (which also
/// reads the present input).
#[test]
fn gru_influence_matches_finite_differences() {
    for mlp in [0, 3] {
        gru_influence_matches(mlp);
    }
}

fn gru_influence_matches(mlp: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let params = GruParams::init_with(INPUTS, 4, mlp, &mut rng);
    let frames = random(&mut rng, 6 * INPUTS);
    let h0 = random(&mut rng, 4);
    let model = Model::new(Arc::new(params.clone()), identity_normaliser(&mut rng));
    let analytic = influence_at(&model, &frames, &h0, 5);
    let numeric = finite_difference_influence(&frames, &|f| {
        let caches = params.forward(f, &h0);
        let last = caches.last();
        let y = params.head(
            last.map_or(&h0[..], |c| c.hidden()),
            last.map_or(&[][..], |c| &c.x),
        );
        [y[0].tanh(), y[1].tanh()]
    });
    assert_close(&analytic, &numeric);
    assert!(analytic[3] > 0.0, "the GRU carries the past: {analytic:?}");
}

/// The transformer's influence matches finite differences inside its window and is exactly
/// zero beyond it.
#[test]
fn transformer_influence_matches_finite_differences_and_ends_at_the_window() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let config = TransformerConfig {
        window: 4,
        d_model: 6,
        heads: 2,
        d_mlp: 8,
        ..TransformerConfig::default()
    };
    let mut params = TransformerParams::init(INPUTS, &config, &mut rng);
    // Non-trivial age embeddings and layer norms, so every path is exercised.
    for t in &mut params.tensors {
        for v in t.iter_mut() {
            *v += rng.random_range(-0.3f32..0.3);
        }
    }
    let frames = random(&mut rng, 7 * INPUTS);
    let model = Model::new(Arc::new(params.clone()), identity_normaliser(&mut rng));
    let analytic = influence_at(&model, &frames, &[], 6);
    let numeric = finite_difference_influence(&frames, &|f| {
        let n = f.len() / INPUTS;
        let y = params.readout(&f[(n - 4) * INPUTS..]).y;
        [y[0].tanh(), y[1].tanh()]
    });
    assert_close(&analytic, &numeric);
    assert!(analytic[..4].iter().all(|&v| v > 0.0), "{analytic:?}");
    assert_eq!(&analytic[4..], &[0.0, 0.0, 0.0]);
}

/// The RBF network: its lag-0 influence matches finite differences, and by construction every
/// earlier frame has none — changing an earlier frame leaves the controller's action
/// bit-identical.
#[test]
fn rbf_influence_is_only_the_current_frame() {
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let data = random(&mut rng, 300 * INPUTS);
    let targets = random(&mut rng, 300 * 2);
    let config = RbfConfig {
        units: 12,
        ..RbfConfig::default()
    };
    let net = Arc::new(RbfNetwork::fit(
        config, &data, INPUTS, &targets, &mut rng, None,
    ));
    let normaliser = identity_normaliser(&mut rng);
    let model = Model::new(net.clone(), normaliser.clone());
    let frames = random(&mut rng, 3 * INPUTS);
    let analytic = influence_at(&model, &frames, &[], 2);
    let numeric = finite_difference_influence(&frames, &|f| {
        let mut phi = vec![0.0; 12];
        net.activations(&f[2 * INPUTS..], &mut phi);
        let y = net.output(&f[2 * INPUTS..], &phi);
        [y[0].tanh(), y[1].tanh()]
    });
    assert_close(&analytic, &numeric);
    assert!(analytic[0] > 0.0);
    assert_eq!(&analytic[1..], &[0.0, 0.0]);

    let spec = Arc::new(ObservationSpec::new(1));
    assert_eq!(spec.len(), 12, "one beam: 4 ray fields + 8 ego fields");
    let wide = Model::new(
        Arc::new(RbfNetwork::fit(
            RbfConfig {
                units: 12,
                ..RbfConfig::default()
            },
            &random(&mut rng, 300 * spec.len()),
            spec.len(),
            &random(&mut rng, 600),
            &mut rng,
            None,
        )),
        Arc::new(Normaliser::fit(
            &random(&mut rng, 300 * spec.len()),
            spec.len(),
        )),
    );
    let drive = |first: &[f32]| {
        let mut c = wide.controller();
        let mut obs = memdrive_sim::Observation::zeros(spec.clone());
        obs.copy_from(first);
        c.act(&obs);
        obs.copy_from(&vec![0.25; spec.len()]);
        c.act(&obs)
    };
    let a = drive(&random(&mut rng, spec.len()));
    let b = drive(&random(&mut rng, spec.len()));
    assert_eq!(a, b);
}

/// A recording whose state is an exact delay line of the last three inputs: R²(k) ≈ 1 for
/// k ≤ 2 and ≈ 0 beyond, while the current observation alone explains only lag 0.
#[test]
fn the_memory_curve_of_a_delay_line() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let steps = 3000;
    let inputs = random(&mut rng, steps * INPUTS);
    let mut rec = Recording {
        state_dim: 3 * INPUTS,
        input_dim: INPUTS,
        ..Recording::default()
    };
    for t in 0..steps {
        let mut state = vec![0.0; 3 * INPUTS];
        for k in 0..3 {
            if t >= k {
                state[k * INPUTS..(k + 1) * INPUTS]
                    .copy_from_slice(&inputs[(t - k) * INPUTS..(t - k + 1) * INPUTS]);
            }
        }
        rec.push(&state, &inputs[t * INPUTS..(t + 1) * INPUTS], None);
    }
    rec.episodes.push(0..steps);
    let curve = memory_curve(&rec, &[0, 1, 2, 3, 4], 6);
    assert_eq!(curve.lags, vec![0, 1, 2, 3, 4, 5, 6]);
    for k in 0..3 {
        assert!(curve.r2[k] > 0.99, "{curve:?}");
    }
    for k in 3..7 {
        assert!(curve.r2[k].abs() < 0.02, "{curve:?}");
        assert!(curve.r2_current_only[k].abs() < 0.02, "{curve:?}");
    }
    assert!(curve.r2_current_only[0] > 0.99);
    assert!((curve.capacity - 3.0).abs() < 0.1, "{curve:?}");
    assert_eq!(curve.elements, 5);
}

/// A state that holds a noisy copy of the hidden pedestrian's position decodes it well; the
/// mean guess does not.
#[test]
fn the_belief_probe_decodes_a_remembered_position() {
    let mut rng = ChaCha8Rng::seed_from_u64(15);
    let mut rec = Recording {
        state_dim: 3,
        input_dim: 1,
        ..Recording::default()
    };
    for episode in 0..10 {
        let start = rec.len();
        for t in 0..100 {
            let p = [
                rng.random_range(5.0f32..30.0),
                rng.random_range(-4.0f32..4.0),
            ];
            let state = [p[0] + rng.random_range(-0.1..0.1), p[1], 1.0];
            let hidden = (t % 2 == 0).then_some(HiddenActor {
                relative_m: p,
                time_since_seen_s: f64::from(t % 40) * 0.1,
            });
            rec.push(&state, &[episode as f32], hidden);
        }
        rec.episodes.push(start..rec.len());
    }
    let belief = belief_probe(&rec);
    assert_eq!(
        belief.time_since_seen_s,
        vec![0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75]
    );
    for (e, b) in belief.error_m.iter().zip(&belief.baseline_m) {
        assert!(*e < 0.2 && *b > 3.0, "{belief:?}");
    }
    assert_eq!(belief.samples.iter().sum::<usize>(), 150);
}

/// The transformer's state vector puts each frame's value in the slot of its age, newest
/// first, with zeros for empty slots.
#[test]
fn transformer_state_vectors_are_ordered_by_age() {
    let mut rng = ChaCha8Rng::seed_from_u64(16);
    let spec = Arc::new(memdrive_sim::ObservationSpec::new(0));
    let inputs = spec.len();
    let config = TransformerConfig {
        window: 3,
        d_model: 2,
        heads: 1,
        d_mlp: 4,
        ..TransformerConfig::default()
    };
    let params = Arc::new(TransformerParams::init(inputs, &config, &mut rng));
    let normaliser = Normaliser::from_parts(vec![0.0; inputs], vec![1.0; inputs])
        .map(Arc::new)
        .unwrap_or_else(|| panic!("valid statistics"));
    let model = Model::new(params.clone(), normaliser);
    let frames: Vec<Vec<f32>> = (0..2)
        .map(|_| (0..inputs).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let value = |x: &[f32]| params.key_value(&params.token(x)).1;
    let mut controller = model.controller();
    let mut obs = memdrive_sim::Observation::zeros(spec);
    for x in &frames {
        obs.copy_from(x);
        controller.act(&obs);
    }
    let mut out = vec![9.0; state_dim(&model)];
    state_vector(&controller.memory(), &mut out);
    let expected: Vec<f32> = [value(&frames[1]), value(&frames[0]), vec![0.0; 2]].concat();
    assert_eq!(out, expected);
}
