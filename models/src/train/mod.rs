//! Imitation training: behaviour cloning on expert episodes, then DAgger rounds in which the
//! learner drives, the expert labels the states it reaches, the data are aggregated and the
//! model refitted.
//!
//! Training episodes use seeds from `TRAIN_SEED_BASE` (1,000,000) up: round `r` uses
//! `TRAIN_SEED_BASE + 10_000 r + (0..episodes)` on every scenario. Evaluation seeds are below
//! 1,000,000, so training and evaluation never share an episode.

mod gradient;
mod windows;

pub(crate) use gradient::summed_in_order;
pub use gradient::{GradientLearner, GradientNet, Sequences};
pub use windows::{
    CRITICAL_BRAKE_MPS2, MISTAKE, Recurrent, WindowPlan, cosine_rate, critical_label, train_windows,
};
pub(crate) use windows::{average_into, held_at_rest};
pub(crate) use windows::{critical_rows, mistake_rows, rows_near};

use crate::dataset::{Dataset, Driver, TRAIN_SEED_BASE, collect_counted};
use crate::nets::ModelKind;
use crate::normaliser::Normaliser;
use crate::weights::{ObservationLayout, TrainingInfo, WeightFile};
use crate::{Error, Result};
use memdrive_sim::scenario::Override;
use memdrive_sim::{Controller, ObservationSpec, ScenarioSpec};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;

/// Seeds between the first seeds of consecutive rounds.
const ROUND_SEED_STRIDE: u64 = 10_000;
/// Most episodes of one scenario in one round: the seeds of a round.
pub const MAX_EPISODES_PER_SCENARIO: u64 = ROUND_SEED_STRIDE;
/// Most DAgger rounds (round seeds stay below 2,000,000).
pub const MAX_ROUNDS: u32 = 99;
/// Most episodes a whole run collects, over every scenario and round: their samples are kept
/// (at most about 4 GB of them).
pub const MAX_EPISODES: u64 = 10_000;

/// How to train.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Seed of the model's initialisation.
    pub seed: u64,
    /// DAgger rounds after behaviour cloning.
    pub rounds: u32,
    /// Episodes per scenario in each round.
    pub episodes_per_scenario: u64,
    /// Episodes per round for the scenarios named here, instead of `episodes_per_scenario`:
    /// more of the scenarios where the rare situations are (each extra episode costs a rollout,
    /// not an optimiser step).
    pub scenario_episodes: BTreeMap<String, u64>,
    /// Scenarios the expert drives in every round, DAgger rounds included (their episodes
    /// are labelled on the expert's own states only): where the learner's states are
    /// ambiguous by design (a window that has lost the sighting in `memory_gap`), the
    /// expert's labels on them contradict each other and teach a compromise.
    pub expert_driven: BTreeSet<String>,
    /// Changes to the scenarios trained on, by scenario name (`--set NAME:PATH=VALUE`), e.g.
    /// `memory_gap` with only the gaps a 16-frame window spans. Evaluation uses the
    /// scenarios as they are.
    pub scenario_overrides: BTreeMap<String, Vec<Override>>,
    /// Worker threads for rollouts (`None`: all cores); results do not depend on it.
    pub threads: Option<usize>,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            seed: 0,
            rounds: 3,
            episodes_per_scenario: 40,
            scenario_episodes: BTreeMap::new(),
            expert_driven: BTreeSet::new(),
            scenario_overrides: BTreeMap::new(),
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
    /// Mean squared error of the squashed actions on the aggregated data (on every k-th
    /// episode once they hold more than `SCORED_ROWS` rows).
    pub loss: f64,
    /// The same error for always predicting the data's mean action: what "learned nothing"
    /// scores.
    pub baseline_loss: f64,
}

/// One optimiser step of a gradient-trained network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct StepReport {
    /// The round it belongs to (0 = behaviour cloning).
    pub round: u32,
    /// Step within the round, from 0.
    pub step: usize,
    /// Steps in a round.
    pub steps: usize,
    /// Mean loss of the step's batch.
    pub loss: f64,
}

/// Watches a training run: hears of every round (and of every optimiser step, for the networks
/// trained by gradient descent) and may ask it to stop.
pub trait Monitor {
    /// A round finished.
    fn round(&mut self, report: &RoundReport);
    /// An optimiser step finished.
    fn step(&mut self, _report: &StepReport) {}
    /// True once the run should stop; it then ends with `Error::Cancelled` at the next step or
    /// phase boundary.
    fn cancelled(&self) -> bool {
        false
    }
    /// A phase of round `round` begins.
    fn phase(&mut self, _round: u32, _phase: Phase) {}
    /// A counter the run adds one to as each episode of a collecting phase finishes, for
    /// progress within the phase; `None`: nobody counts.
    fn episode_counter(&self) -> Option<Arc<AtomicUsize>> {
        None
    }
}

/// What a round of training is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Phase {
    /// Driving `episodes` episodes: the expert's (round 0) or the learner's, labelled by the
    /// expert (DAgger rounds).
    Collecting {
        /// Episodes of this round, over every scenario.
        episodes: usize,
    },
    /// Fitting the network on the data aggregated so far.
    Fitting,
    /// Scoring the fit on the data (a sample of its episodes once there are many).
    Scoring,
}

/// A closure hearing of rounds is the simplest monitor.
impl<F: FnMut(&RoundReport)> Monitor for F {
    fn round(&mut self, report: &RoundReport) {
        self(report);
    }
}

impl TrainOptions {
    /// The scenarios to train on: the built-in driving scenarios, and each built-in experiment
    /// (`memory_gap`) that `scenario_episodes` gives episodes to, in built-in order.
    pub fn scenarios(&self) -> Result<Vec<ScenarioSpec>> {
        let specs: Vec<ScenarioSpec> = memdrive_sim::scenario::all_builtins()?
            .into_iter()
            .filter(|s| {
                !memdrive_sim::scenario::EXPERIMENTS.contains(&s.name.as_str())
                    || self.scenario_episodes.contains_key(&s.name)
            })
            .collect();
        if let Some(name) = not_trained_on(self.scenario_overrides.keys(), &specs) {
            return Err(Error::Training(format!(
                "--set names scenario `{name}`, which is not one trained on"
            )));
        }
        specs
            .into_iter()
            .map(|s| match self.scenario_overrides.get(&s.name) {
                Some(overrides) => Ok(s.with_overrides(overrides)?),
                None => Ok(s),
            })
            .collect()
    }

    /// Episodes per round of the scenario called `name`.
    pub fn episodes(&self, name: &str) -> u64 {
        self.scenario_episodes
            .get(name)
            .copied()
            .unwrap_or(self.episodes_per_scenario)
    }

    /// An error naming the first setting that cannot train on `specs`.
    fn validate(&self, specs: &[ScenarioSpec]) -> Result<()> {
        let fail = |message: String| Err(Error::Training(message));
        if self.rounds > MAX_ROUNDS {
            return fail(format!(
                "rounds must be at most {MAX_ROUNDS}, got {}",
                self.rounds
            ));
        }
        for (name, n) in std::iter::once(("--episodes", self.episodes_per_scenario))
            .chain(self.scenario_episodes.iter().map(|(k, &n)| (k.as_str(), n)))
        {
            if n > MAX_EPISODES_PER_SCENARIO {
                return fail(format!(
                    "episodes per round of {name} must be at most {MAX_EPISODES_PER_SCENARIO} (the seeds of one round), got {n}"
                ));
            }
        }
        let per_round: u64 = specs.iter().map(|s| self.episodes(&s.name)).sum();
        let total = per_round.saturating_mul(u64::from(self.rounds) + 1);
        if total > MAX_EPISODES {
            return fail(format!(
                "the run would collect {total} episodes ({per_round} per round, {} round(s) with behaviour cloning), more than {MAX_EPISODES}: the aggregated data must fit in memory",
                self.rounds + 1
            ));
        }
        if let Some(name) = not_trained_on(self.scenario_episodes.keys(), specs) {
            return Err(Error::Training(format!(
                "episodes given for scenario `{name}`, which is not one trained on"
            )));
        }
        if let Some(name) = not_trained_on(&self.expert_driven, specs) {
            return Err(Error::Training(format!(
                "expert-driven scenario `{name}` is not one trained on"
            )));
        }
        if let Some(spec) = specs.iter().find(|s| self.episodes(&s.name) == 0) {
            return Err(Error::Training(format!(
                "training needs at least one episode per scenario ({} has none)",
                spec.name
            )));
        }
        Ok(())
    }

    /// The seeds of round 0, as the weight file records them.
    fn seed_summary(&self) -> String {
        let seeds = |n| {
            let r = round_seeds(0, n);
            format!("{}..{}", r.start, r.end)
        };
        let mut text = format!(
            "{} (+{ROUND_SEED_STRIDE} per round)",
            seeds(self.episodes_per_scenario)
        );
        for (name, &n) in &self.scenario_episodes {
            text.push_str(&format!("; {name}: {}", seeds(n)));
        }
        for (name, overrides) in &self.scenario_overrides {
            for o in overrides {
                text.push_str(&format!("; {name} with {}", o.text));
            }
        }
        for name in &self.expert_driven {
            text.push_str(&format!("; {name} driven by the expert in every round"));
        }
        text
    }
}

/// The first of `names` that names none of `specs`.
fn not_trained_on<'a>(
    names: impl IntoIterator<Item = &'a String>,
    specs: &[ScenarioSpec],
) -> Option<&'a String> {
    names
        .into_iter()
        .find(|n| !specs.iter().any(|s| &s.name == *n))
}

/// The options the bundled weights of `kind` are trained with (the README's commands).
pub fn bundled_options(kind: ModelKind) -> TrainOptions {
    kind.bundled_options()
}

impl TrainOptions {
    /// The options of the bundled recurrent networks (before their seeds): 3 DAgger rounds of
    /// 120 episodes per scenario, with 400 of `mixed_traffic` and 240 of `occluded_crossing`,
    /// where they needed the most data, and 240 of `memory_gap`, where a hidden pedestrian
    /// must be remembered for up to 8 s.
    pub fn recurrent() -> Self {
        Self {
            episodes_per_scenario: 120,
            scenario_episodes: BTreeMap::from([
                ("mixed_traffic".to_owned(), 400),
                ("occluded_crossing".to_owned(), 240),
                ("memory_gap".to_owned(), 240),
            ]),
            ..Self::default()
        }
    }
}

/// Seeds of one round.
pub fn round_seeds(round: u32, episodes: u64) -> std::ops::Range<u64> {
    let start = TRAIN_SEED_BASE + u64::from(round) * ROUND_SEED_STRIDE;
    start..start + episodes
}

/// Rows a round's score replays at most, about: past it, every k-th episode is scored.
pub const SCORED_ROWS: usize = 100_000;

/// The episodes a round's score replays: every one while the data hold at most
/// `SCORED_ROWS` rows, then every k-th (k = rows / `SCORED_ROWS`, rounded up), spread evenly
/// over the rounds the data came from. The score is a report, never a training signal, and
/// replaying millions of rows with every round took a sixth of a long run (half a million, a
/// twentieth).
fn scored_episodes(data: &Dataset) -> Vec<std::ops::Range<usize>> {
    let every = data.len().div_ceil(SCORED_ROWS).max(1);
    data.episodes.iter().step_by(every).cloned().collect()
}

/// The squashed-action error of always predicting the mean squashed action, over the rows of
/// `episodes`.
fn mean_predictor_mse(data: &Dataset, episodes: &[std::ops::Range<usize>]) -> f64 {
    let rows = || {
        episodes
            .iter()
            .flat_map(Clone::clone)
            .map(|r| &data.targets[2 * r..2 * r + 2])
    };
    let n = rows().count().max(1) as f64;
    let mut mean = [0.0f64; 2];
    for t in rows() {
        for (m, v) in mean.iter_mut().zip(t) {
            *m += f64::from(v.tanh()) / n;
        }
    }
    let mut total = 0.0;
    for t in rows() {
        for (m, v) in mean.iter().zip(t) {
            total += (f64::from(v.tanh()) - m).powi(2);
        }
    }
    total / (2.0 * n)
}

/// A model being trained: fitted (or trained further) on the aggregated data each round. Each
/// kind makes its own (`Kind::learner`); gradient-trained kinds share `GradientLearner`.
pub trait Learner: Send + Sync {
    /// Fits on all data so far; `on_step` hears of each optimiser step (loss) and stops the fit
    /// early by returning `false`.
    fn fit(
        &mut self,
        data: &Dataset,
        rng: &mut ChaCha8Rng,
        threads: Option<usize>,
        on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
    ) -> Result<()>;
    /// A fresh controller driving with the current fit.
    fn controller(&self) -> Box<dyn Controller + Send>;
    /// The weight file of the current fit.
    fn weight_file(&self, layout: ObservationLayout, training: TrainingInfo) -> Result<WeightFile>;
}

/// The observations standardised, row-major.
pub(crate) fn normalised(normaliser: &Normaliser, data: &Dataset) -> Vec<f32> {
    let mut inputs = vec![0.0; data.observations.len()];
    for (x, out) in data
        .observations
        .chunks_exact(data.dim)
        .zip(inputs.chunks_exact_mut(data.dim))
    {
        normaliser.apply(x, out);
    }
    inputs
}

/// `squashed_mse` of a controller replayed over `episodes` of `data` from a reset, so a
/// recurrent one sees exactly the sequences it was trained on. Episodes are replayed in
/// parallel, each by a fresh controller from `make`, and their sums added in order, so the
/// result does not depend on `threads`.
fn replay_loss(
    make: &(dyn Fn() -> Box<dyn Controller + Send> + Sync),
    data: &Dataset,
    episodes: &[std::ops::Range<usize>],
    dim_spec: &Arc<ObservationSpec>,
    threads: Option<usize>,
) -> f64 {
    let scale = crate::action::ActionScale::default();
    let rows: usize = episodes.iter().map(|e| e.len()).sum();
    let sums = memdrive_sim::parallel::map_ordered(
        episodes,
        threads,
        || (make(), memdrive_sim::Observation::zeros(dim_spec.clone())),
        |(controller, obs), episode| {
            controller.reset();
            let mut total = 0.0;
            for row in episode.clone() {
                obs.copy_from(&data.observations[row * data.dim..(row + 1) * data.dim]);
                let got = scale.squashed(controller.act(obs));
                for (g, t) in got.iter().zip(&data.targets[row * 2..row * 2 + 2]) {
                    total += f64::from((g - t.tanh()).powi(2));
                }
            }
            total
        },
    );
    sums.iter().sum::<f64>() / (2 * rows).max(1) as f64
}

/// Trains a network of `kind` with hyper-parameters `config` (a whole configuration; `None`:
/// the kind's defaults); `monitor` hears about every round as it ends.
pub fn train_kind(
    kind: ModelKind,
    config: Option<serde_json::Value>,
    specs: &[ScenarioSpec],
    options: &TrainOptions,
    monitor: &mut dyn Monitor,
) -> Result<(WeightFile, Vec<RoundReport>)> {
    let mut learner = kind
        .learner(config.unwrap_or_else(|| kind.default_config()))
        .map_err(Error::Config)?;
    train(learner.as_mut(), specs, options, monitor)
}

/// Behaviour cloning, then `options.rounds` DAgger rounds.
pub fn train(
    learner: &mut dyn Learner,
    specs: &[ScenarioSpec],
    options: &TrainOptions,
    monitor: &mut dyn Monitor,
) -> Result<(WeightFile, Vec<RoundReport>)> {
    let layout = common_layout(specs)?;
    options.validate(specs)?;
    let spec = Arc::new(layout.clone());
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut data = Dataset::default();
    let mut reports = Vec::new();
    let stop = |monitor: &dyn Monitor| {
        if monitor.cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    };
    for round in 0..=options.rounds {
        stop(monitor)?;
        let seeds: Vec<_> = specs
            .iter()
            .map(|s| round_seeds(round, options.episodes(&s.name)))
            .collect();
        let episodes = seeds.iter().map(|r| (r.end - r.start) as usize).sum();
        monitor.phase(round, Phase::Collecting { episodes });
        let counter = monitor.episode_counter();
        let counter = counter.as_deref();
        if round == 0 {
            let collected =
                collect_counted(specs, &seeds, &Driver::Expert, options.threads, counter);
            data.extend(collected);
        } else {
            let by_expert = |s: &ScenarioSpec| options.expert_driven.contains(&s.name);
            let only = |expert: bool| -> Vec<_> {
                specs
                    .iter()
                    .zip(&seeds)
                    .map(|(s, r)| {
                        if by_expert(s) == expert {
                            r.clone()
                        } else {
                            0..0
                        }
                    })
                    .collect()
            };
            let make = || learner.controller();
            let driver = Driver::Learner(&make);
            data.extend(collect_counted(
                specs,
                &only(false),
                &driver,
                options.threads,
                counter,
            ));
            if specs.iter().any(by_expert) {
                data.extend(collect_counted(
                    specs,
                    &only(true),
                    &Driver::Expert,
                    options.threads,
                    counter,
                ));
            }
        }
        stop(monitor)?;
        monitor.phase(round, Phase::Fitting);
        learner.fit(
            &data,
            &mut rng,
            options.threads,
            &mut |step, steps, loss| {
                monitor.step(&StepReport {
                    round,
                    step,
                    steps,
                    loss,
                });
                !monitor.cancelled()
            },
        )?;
        stop(monitor)?;
        monitor.phase(round, Phase::Scoring);
        let scored = scored_episodes(&data);
        let report = RoundReport {
            round,
            samples: data.len(),
            loss: replay_loss(
                &|| learner.controller(),
                &data,
                &scored,
                &spec,
                options.threads,
            ),
            baseline_loss: mean_predictor_mse(&data, &scored),
        };
        monitor.round(&report);
        reports.push(report);
    }
    let training = TrainingInfo {
        seed: options.seed,
        rounds: options.rounds,
        scenarios: specs.iter().map(|s| s.name.clone()).collect(),
        train_seeds: options.seed_summary(),
    };
    Ok((
        learner.weight_file(ObservationLayout::of(&layout), training)?,
        reports,
    ))
}

/// The observation layout every scenario shares, or an error naming one that differs.
fn common_layout(specs: &[ScenarioSpec]) -> Result<ObservationSpec> {
    let layouts: Vec<(String, ObservationSpec)> = specs
        .iter()
        .map(|s| (s.name.clone(), ObservationSpec::of(s)))
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
mod tests;
