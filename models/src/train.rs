//! Imitation training: behaviour cloning on expert episodes, then DAgger rounds in which the
//! learner drives, the expert labels the states it reaches, the data are aggregated and the
//! model refitted.
//!
//! Training episodes use seeds from `TRAIN_SEED_BASE` (1,000,000) up: round `r` uses
//! `TRAIN_SEED_BASE + 10_000 r + (0..episodes)` on every scenario. Evaluation seeds are below
//! 1,000,000, so training and evaluation never share an episode.

use crate::dataset::{Dataset, Driver, TRAIN_SEED_BASE, collect};
use crate::normaliser::Normaliser;
use crate::rbf::{RbfConfig, RbfController, RbfNetwork};
use crate::weights::{ObservationLayout, TrainingInfo, WeightFile};
use crate::{Error, Result};
use memdrive_sim::{Controller, ObservationSpec, ScenarioSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::sync::Arc;

/// Seeds between the first seeds of consecutive rounds.
const ROUND_SEED_STRIDE: u64 = 10_000;

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Seed of the model's initialisation.
    pub seed: u64,
    /// DAgger rounds after behaviour cloning.
    pub rounds: u32,
    /// Episodes per scenario in each round.
    pub episodes_per_scenario: u64,
    /// Worker threads for rollouts (`None`: all cores); results do not depend on it.
    pub threads: Option<usize>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            rounds: 3,
            episodes_per_scenario: 40,
            threads: None,
        }
    }
}

/// What one round did.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RoundReport {
    /// 0 for behaviour cloning, then the DAgger round.
    pub round: u32,
    /// Labelled observations after aggregation.
    pub samples: usize,
    /// Mean squared error of the squashed actions on the aggregated data.
    pub loss: f64,
    /// The same error for always predicting the data's mean action: what "learned nothing"
    /// scores.
    pub baseline_loss: f64,
}

/// Seeds of one round.
pub fn round_seeds(round: u32, episodes: u64) -> std::ops::Range<u64> {
    let start = TRAIN_SEED_BASE + u64::from(round) * ROUND_SEED_STRIDE;
    start..start + episodes
}

/// Mean squared error between `tanh` of the predictions and the squashed targets.
fn squashed_mse(predict: &mut dyn FnMut(&[f32]) -> [f32; 2], data: &Dataset) -> f64 {
    let mut total = 0.0;
    for (x, t) in data
        .observations
        .chunks_exact(data.dim)
        .zip(data.targets.chunks_exact(2))
    {
        let y = predict(x);
        for o in 0..2 {
            total += f64::from((y[o].tanh() - t[o].tanh()).powi(2));
        }
    }
    total / (2 * data.len()).max(1) as f64
}

/// `squashed_mse` of always predicting the mean squashed action.
fn mean_predictor_mse(data: &Dataset) -> f64 {
    let n = data.len().max(1) as f64;
    let mut mean = [0.0f64; 2];
    for t in data.targets.chunks_exact(2) {
        for o in 0..2 {
            mean[o] += f64::from(t[o].tanh()) / n;
        }
    }
    let mut total = 0.0;
    for t in data.targets.chunks_exact(2) {
        for o in 0..2 {
            total += (f64::from(t[o].tanh()) - mean[o]).powi(2);
        }
    }
    total / (2.0 * n)
}

/// Trains an RBF network; `progress` hears about every round as it ends.
pub fn train_rbf(
    config: &RbfConfig,
    specs: &[ScenarioSpec],
    options: &TrainOptions,
    progress: &mut dyn FnMut(&RoundReport),
) -> Result<(WeightFile, Vec<RoundReport>)> {
    let layout = common_layout(specs)?;
    if options.episodes_per_scenario == 0 {
        return Err(Error::Training(
            "training needs at least one episode per scenario".into(),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut data = collect(
        specs,
        round_seeds(0, options.episodes_per_scenario),
        &Driver::Expert,
        options.threads,
    );
    if data.len() < config.units {
        return Err(Error::Training(format!(
            "only {} labelled observations for {} units",
            data.len(),
            config.units
        )));
    }
    let mut reports = Vec::new();
    let mut fitted: Option<(Arc<RbfNetwork>, Arc<Normaliser>)> = None;
    for round in 0..=options.rounds {
        if let Some((net, normaliser)) = &fitted {
            let make = || -> Box<dyn Controller + Send> {
                Box::new(RbfController::new(net.clone(), normaliser.clone()))
            };
            let seeds = round_seeds(round, options.episodes_per_scenario);
            data.extend(collect(
                specs,
                seeds,
                &Driver::Learner(&make),
                options.threads,
            ));
        }
        let normaliser = Normaliser::fit(&data.observations, data.dim);
        let mut inputs = vec![0.0; data.observations.len()];
        for (x, out) in data
            .observations
            .chunks_exact(data.dim)
            .zip(inputs.chunks_exact_mut(data.dim))
        {
            normaliser.apply(x, out);
        }
        let net = RbfNetwork::fit(config.clone(), &inputs, data.dim, &data.targets, &mut rng);
        let mut phi = vec![0.0; net.units()];
        let mut x_norm = vec![0.0; data.dim];
        let loss = squashed_mse(
            &mut |x| {
                normaliser.apply(x, &mut x_norm);
                net.activations(&x_norm, &mut phi);
                net.output(&phi)
            },
            &data,
        );
        let report = RoundReport {
            round,
            samples: data.len(),
            loss,
            baseline_loss: mean_predictor_mse(&data),
        };
        progress(&report);
        reports.push(report);
        fitted = Some((Arc::new(net), Arc::new(normaliser)));
    }
    let (net, normaliser) = fitted.ok_or_else(|| Error::Training("no round ran".into()))?;
    let training = TrainingInfo {
        seed: options.seed,
        rounds: options.rounds,
        scenarios: specs.iter().map(|s| s.name.clone()).collect(),
        train_seeds: format!(
            "{}..{} (+{ROUND_SEED_STRIDE} per round)",
            round_seeds(0, options.episodes_per_scenario).start,
            round_seeds(0, options.episodes_per_scenario).end
        ),
    };
    let layout = ObservationLayout::of(&layout);
    Ok((
        net.to_weight_file(layout, (*normaliser).clone(), training),
        reports,
    ))
}

/// The observation layout every scenario shares, or an error naming one that differs.
fn common_layout(specs: &[ScenarioSpec]) -> Result<ObservationSpec> {
    let layouts: Vec<(String, ObservationSpec)> = specs
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                ObservationSpec::new(s.lidar.beams.max(0) as usize),
            )
        })
        .collect();
    let (first_name, first) = layouts
        .first()
        .cloned()
        .ok_or_else(|| Error::Training("training needs at least one scenario".into()))?;
    match layouts.iter().find(|(_, l)| *l != first) {
        Some((name, l)) => Err(Error::Training(format!(
            "scenarios must share one sensor layout: {first_name} has {} beams, {name} has {}",
            first.beams(),
            l.beams()
        ))),
        None => Ok(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memdrive_sim::scenario::builtin;

    /// A short run (2 scenarios, 3 episodes each, one DAgger round) learns something: every
    /// round fits the expert's actions clearly better than predicting their mean.
    #[test]
    fn a_short_training_run_reduces_the_loss() {
        let specs: Vec<ScenarioSpec> = ["cut_in", "lead_brake"]
            .iter()
            .filter_map(|n| builtin(n).and_then(std::result::Result::ok))
            .collect();
        let config = RbfConfig {
            units: 32,
            ..RbfConfig::default()
        };
        let options = TrainOptions {
            seed: 3,
            rounds: 1,
            episodes_per_scenario: 3,
            threads: Some(2),
        };
        let mut heard = 0;
        let (file, reports) = train_rbf(&config, &specs, &options, &mut |_| heard += 1)
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
        assert_eq!(file.tensors["rbf.centres"].shape, vec![32, 136]);
    }
}
