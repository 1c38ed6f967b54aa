//! Short training runs: they learn, reproduce byte for byte, and can be watched and stopped.

use super::*;
use crate::gru::GruConfig;
use crate::rbf::RbfConfig;
use crate::transformer::TransformerConfig;
use memdrive_sim::scenario::builtin;

/// Trains a network of `kind` with `config`.
fn train_with<C: Serialize>(
    kind: ModelKind,
    config: &C,
    specs: &[ScenarioSpec],
    options: &TrainOptions,
    monitor: &mut dyn Monitor,
) -> Result<(WeightFile, Vec<RoundReport>)> {
    let config = serde_json::to_value(config).map_err(|e| Error::Training(e.to_string()))?;
    train_kind(kind, Some(config), specs, options, monitor)
}

/// The built-in scenarios of these names.
fn specs(names: &[&str]) -> Vec<ScenarioSpec> {
    names
        .iter()
        .filter_map(|n| builtin(n).and_then(std::result::Result::ok))
        .collect()
}

/// A short run (2 scenarios, 3 episodes each, one DAgger round) learns something: every
/// round fits the expert's actions clearly better than predicting their mean.
#[test]
fn a_short_training_run_reduces_the_loss() {
    let specs = specs(&["cut_in", "lead_brake"]);
    let config = RbfConfig {
        units: 32,
        ..RbfConfig::default()
    };
    let options = TrainOptions {
        seed: 3,
        rounds: 1,
        episodes_per_scenario: 3,
        scenario_episodes: BTreeMap::from([("lead_brake".to_owned(), 2)]),
        threads: Some(2),
        ..TrainOptions::default()
    };
    let mut heard = 0;
    let (file, reports) = train_with(
        crate::rbf::KIND,
        &config,
        &specs,
        &options,
        &mut |_: &RoundReport| heard += 1,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((heard, reports.len()), (2, 2));
    assert!(
        reports[1].samples > reports[0].samples,
        "DAgger adds data: {reports:?}"
    );
    for r in &reports {
        assert!(r.loss < 0.75 * r.baseline_loss, "{r:?}");
    }
    assert_eq!(file.training.rounds, 1);
    assert_eq!(
        file.training.train_seeds,
        "1000000..1000003 (+10000 per round); lead_brake: 1000000..1000002"
    );
    assert_eq!(file.tensors["rbf.centres"].shape, vec![32, 136]);
    assert_eq!(file.tensors["linear.weight"].shape, vec![2, 136]);
}

/// Episode counts for a scenario not trained on, or of zero, are errors naming it.
#[test]
fn episode_counts_must_name_trained_scenarios() {
    let specs = specs(&["cut_in"]);
    let run = |episodes: &[(&str, u64)]| {
        let options = TrainOptions {
            scenario_episodes: episodes
                .iter()
                .map(|(n, e)| ((*n).to_owned(), *e))
                .collect(),
            ..TrainOptions::default()
        };
        train_with(
            crate::rbf::KIND,
            &RbfConfig::default(),
            &specs,
            &options,
            &mut |_: &RoundReport| {},
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
    };
    let err = run(&[("mixed_trafic", 5)]);
    assert!(err.contains("`mixed_trafic`"), "{err}");
    let err = run(&[("cut_in", 0)]);
    assert!(err.contains("cut_in has none"), "{err}");
}

/// An expert-driven scenario keeps the expert's own states in the DAgger rounds: its data
/// are those of behaviour cloning on the round's seeds, so the aggregated data grow by exactly
/// the expert's episodes there; naming a scenario not trained on is an error.
#[test]
fn expert_driven_scenarios_are_driven_by_the_expert_in_every_round() {
    let specs = specs(&["cut_in", "lead_brake"]);
    let options = |expert_driven: &[&str]| TrainOptions {
        seed: 3,
        rounds: 1,
        episodes_per_scenario: 2,
        expert_driven: expert_driven.iter().map(|n| (*n).to_owned()).collect(),
        threads: Some(2),
        ..TrainOptions::default()
    };
    let config = RbfConfig {
        units: 16,
        ..RbfConfig::default()
    };
    let run = |o: &TrainOptions| {
        train_with(
            crate::rbf::KIND,
            &config,
            &specs,
            o,
            &mut |_: &RoundReport| {},
        )
    };
    let (file, reports) =
        run(&options(&["cut_in", "lead_brake"])).unwrap_or_else(|e| panic!("{e}"));
    // Both rounds' data come from the expert: round 1's seeds give as many rows as the expert
    // drives there.
    let expert_rows = |round: u32| -> usize {
        let seeds: Vec<_> = specs.iter().map(|_| round_seeds(round, 2)).collect();
        crate::dataset::collect(&specs, &seeds, &Driver::Expert, Some(2)).len()
    };
    assert_eq!(reports[0].samples, expert_rows(0));
    assert_eq!(reports[1].samples, expert_rows(0) + expert_rows(1));
    assert!(
        file.training
            .train_seeds
            .ends_with("; cut_in driven by the expert in every round; lead_brake driven by the expert in every round"),
        "{}",
        file.training.train_seeds
    );
    let err = run(&options(&["cut-in"]))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`cut-in` is not one trained on"), "{err}");
}

/// `--set NAME:PATH=VALUE` changes the named scenario trained on, checked like the file; a
/// name not trained on, or a change the file would refuse, is an error naming it.
#[test]
fn scenario_overrides_change_the_scenarios_trained_on() {
    let with = |name: &str, change: &str| TrainOptions {
        scenario_episodes: BTreeMap::from([("memory_gap".to_owned(), 4)]),
        scenario_overrides: BTreeMap::from([(
            name.to_owned(),
            vec![Override::parse(change).unwrap_or_else(|e| panic!("{e}"))],
        )]),
        ..TrainOptions::default()
    };
    let specs = with("memory_gap", "memory_gap.gap_s=[0.2,1.6]")
        .scenarios()
        .unwrap_or_else(|e| panic!("{e}"));
    let gap = specs
        .iter()
        .find(|s| s.name == "memory_gap")
        .and_then(|s| s.memory_gap.as_ref())
        .map(|g| (g.gap_s.min(), g.gap_s.max()));
    assert_eq!(gap, Some((0.2, 1.6)));
    let untouched = builtin("cut_in").and_then(std::result::Result::ok);
    assert_eq!(
        specs.iter().find(|s| s.name == "cut_in"),
        untouched.as_ref()
    );
    let err = with("memory_gaps", "duration_s=30")
        .scenarios()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("`memory_gaps`"), "{err}");
    let err = with("memory_gap", "memory_gap.gap_s=-1")
        .scenarios()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("memory_gap.gap_s"), "{err}");
}

/// A short GRU run, linear head or one with a hidden layer of `head_mlp` units, on `threads`.
fn short_gru_run(head_mlp: usize, threads: usize) -> (WeightFile, Vec<RoundReport>) {
    let config = GruConfig {
        hidden: 16,
        window: 16,
        burn_in: 4,
        batch: 8,
        steps_per_round: 300,
        learning_rate: 5e-3,
        head_mlp,
        ..GruConfig::default()
    };
    let options = TrainOptions {
        seed: 9,
        rounds: 1,
        episodes_per_scenario: 2,
        threads: Some(threads),
        ..TrainOptions::default()
    };
    train_with(
        crate::gru::KIND,
        &config,
        &specs(&["cut_in"]),
        &options,
        &mut |_: &RoundReport| {},
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

/// A short GRU run with a linear head: the loss after behaviour cloning and after a DAgger
/// round beats predicting the mean action, and training the same way twice gives the same
/// file.
#[test]
fn a_short_gru_run_reduces_the_loss_and_is_reproducible() {
    let (file, reports) = short_gru_run(0, 1);
    for r in &reports {
        assert!(r.loss < 0.75 * r.baseline_loss, "{r:?}");
    }
    assert_eq!(file.tensors["gru.weight_hh"].shape, vec![48, 16]);
    assert_eq!(file.tensors["head.weight"].shape, vec![2, 16]);
    assert!(!file.tensors.contains_key("head.mlp.weight"));
    let (again, _) = short_gru_run(0, 2);
    assert_eq!(file.to_bytes().ok(), again.to_bytes().ok());
}

/// The same with a hidden layer in the head: the file holds the layer, loads back, and the
/// thread count changes nothing.
#[test]
fn a_gru_with_a_hidden_head_layer_trains_reproducibly() {
    let (file, reports) = short_gru_run(8, 1);
    for r in &reports {
        assert!(r.loss < 0.75 * r.baseline_loss, "{r:?}");
    }
    let dim = file.normaliser.dim();
    assert_eq!(file.tensors["head.mlp.weight"].shape, vec![8, 16 + dim]);
    assert_eq!(file.tensors["head.weight"].shape, vec![2, 8]);
    let (again, _) = short_gru_run(8, 2);
    assert_eq!(file.to_bytes().ok(), again.to_bytes().ok());
    let model = crate::Model::from_file(file.clone(), std::path::Path::new("gru.safetensors"))
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(model.kind(), crate::gru::KIND);
}

/// A monitor hears every optimiser step with its loss, and cancelling stops the run within
/// one step with `Error::Cancelled`.
#[test]
fn a_monitor_hears_steps_and_can_cancel() {
    struct StopAfter {
        steps: Vec<StepReport>,
        limit: usize,
    }
    impl Monitor for StopAfter {
        fn round(&mut self, _report: &RoundReport) {}
        fn step(&mut self, report: &StepReport) {
            self.steps.push(*report);
        }
        fn cancelled(&self) -> bool {
            self.steps.len() >= self.limit
        }
    }
    let specs = specs(&["cut_in"]);
    let config = TransformerConfig {
        steps_per_round: 50,
        batch: 4,
        ..TransformerConfig::default()
    };
    let options = TrainOptions {
        seed: 1,
        rounds: 1,
        episodes_per_scenario: 1,
        threads: Some(1),
        ..TrainOptions::default()
    };
    let mut monitor = StopAfter {
        steps: Vec::new(),
        limit: 7,
    };
    let result = train_with(
        crate::transformer::KIND,
        &config,
        &specs,
        &options,
        &mut monitor,
    );
    assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    assert_eq!(monitor.steps.len(), 7);
    for (i, s) in monitor.steps.iter().enumerate() {
        assert_eq!((s.round, s.step, s.steps), (0, i, 50));
        assert!(s.loss.is_finite() && s.loss > 0.0, "{s:?}");
    }
}

/// A round's score replays every episode of small data, and every k-th of large data: about
/// `SCORED_ROWS` rows, spread over the whole of it; its baseline is taken on the same rows.
#[test]
fn the_score_samples_episodes_evenly_once_the_data_are_large() {
    let data_of = |episodes: usize, len: usize| Dataset {
        dim: 1,
        observations: vec![0.0; episodes * len],
        targets: (0..2 * episodes * len)
            .map(|i| if i % 4 == 1 { 0.5 } else { -0.5 })
            .collect(),
        episodes: (0..episodes).map(|e| e * len..(e + 1) * len).collect(),
        presence: vec![0.0; episodes * len],
        mistakes: vec![0.0; episodes * len],
    };
    let small = data_of(100, 1000);
    assert_eq!(scored_episodes(&small), small.episodes);
    let large = data_of(2500, 1000);
    let scored = scored_episodes(&large);
    assert_eq!(scored.len(), 100);
    assert_eq!(scored[1], 25_000..26_000);
    assert_eq!(scored.last(), Some(&(2_475_000..2_476_000)));
    let rows: usize = scored.iter().map(|e| e.len()).sum();
    assert!(rows <= SCORED_ROWS, "{rows}");
    // The same targets everywhere: the same baseline on the sample as on all of it.
    let all = mean_predictor_mse(&large, &large.episodes);
    assert!((mean_predictor_mse(&large, &scored) - all).abs() < 1e-9);
    assert!(all > 0.0);
}

/// A batch's gradients summed element by element in the batch's order have the bits of the
/// plain loop over the batch, split among threads (a large sum) or not (a small one).
#[test]
fn gradients_summed_in_order_are_the_plain_loops_bits_for_any_thread_count() {
    for (parts, shapes) in [(40, [30_000, 7, 30_001]), (3, [5, 4097, 1])] {
        let tensors: Vec<Vec<Vec<f32>>> = (0..parts)
            .map(|p| {
                shapes
                    .iter()
                    .enumerate()
                    .map(|(t, &n)| {
                        (0..n)
                            .map(|i| ((p * 7919 + t * 104_729 + i) as f32 * 0.618).sin() * 1e3)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        let scale = parts as f32;
        let mut plain: Vec<Vec<f32>> = shapes.iter().map(|&n| vec![0.0; n]).collect();
        for part in &tensors {
            for (total, tensor) in plain.iter_mut().zip(part) {
                for (a, b) in total.iter_mut().zip(tensor) {
                    *a += b / scale;
                }
            }
        }
        let refs: Vec<Vec<&Vec<f32>>> = tensors.iter().map(|p| p.iter().collect()).collect();
        for threads in [Some(1), Some(3), None] {
            assert_eq!(
                summed_in_order(&refs, threads, |b| b / scale),
                plain,
                "{parts} parts, {threads:?} threads"
            );
        }
    }
}
