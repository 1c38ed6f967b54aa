//! `memdrive memory`: the memory instruments on the command line — memory curves, the belief
//! probe and influence by lag, per learned controller.

use anyhow::{Result, bail};
use memdrive_models::Model;
use memdrive_models::memory::{
    self, Belief, MemoryCurve, NOISE_STEPS, PROBE_SEED_BASE, Probe, Recording,
};
use memdrive_models::weights::ModelKind;
use memdrive_sim::scenario::builtins;
use memdrive_sim::{ObservationSpec, ScenarioSpec};
use serde::Serialize;
use std::sync::Arc;

/// Episodes per scenario the white-noise probe draws its frames from.
const POOL_EPISODES: u64 = 4;
/// Steps at which influence is computed and averaged.
const INFLUENCE_SAMPLES: usize = 200;
/// Seed of the white-noise probe's frame draws.
const NOISE_SEED: u64 = 7;

/// How to measure.
#[derive(Clone, Debug)]
pub struct Options {
    /// The input regime of the memory curve and the influence.
    pub probe: Probe,
    /// Scenario of the driving episodes (the belief probe always drives).
    pub scenario: ScenarioSpec,
    /// Driving episodes.
    pub episodes: u64,
    /// Lags L (steps).
    pub lags: usize,
    /// Steps of the white-noise probe.
    pub noise_steps: usize,
    /// Worker threads for the driving episodes.
    pub threads: Option<usize>,
}

impl Options {
    /// Defaults for `scenario`.
    pub fn new(scenario: ScenarioSpec) -> Self {
        Self {
            probe: Probe::Noise,
            scenario,
            episodes: 40,
            lags: memory::DEFAULT_LAGS,
            noise_steps: NOISE_STEPS,
            threads: None,
        }
    }
}

/// Everything measured for one controller (the JSON contract of `memdrive memory`).
#[derive(Clone, Debug, Serialize)]
pub struct ControllerMemory {
    /// Controller name.
    pub name: String,
    /// What its state vector is, and its length.
    pub state: String,
    /// The input regime of `r2`, `r2_current_only` and `influence`.
    pub probe: Probe,
    /// Lags k in steps of 0.1 s.
    pub lags: Vec<usize>,
    /// Held-out R² of the observation k steps ago, read from the state now.
    pub r2: Vec<f64>,
    /// The same from the current observation alone.
    pub r2_current_only: Vec<f64>,
    /// R²(k) predicted from the weights alone, for a kind whose memory curve has a closed
    /// form (the LRU's), under the white-noise probe.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r2_predicted: Option<Vec<f64>>,
    /// Which observation elements R² is averaged over.
    pub r2_elements: String,
    /// Σₖ max(R²(k), 0) over k = 0…L.
    pub capacity: f64,
    /// The same over k ≥ 1 (Jaeger's memory capacity: the past without the present).
    pub capacity_past: f64,
    /// What the belief probe decodes.
    pub belief_target: String,
    /// Mean decoding error per time-since-seen bin (m).
    pub belief_error_m: Vec<f64>,
    /// The error of always guessing the mean position, per bin (m).
    pub belief_baseline_m: Vec<f64>,
    /// Bin centres (s).
    pub belief_time_since_seen_s: Vec<f64>,
    /// Held-out samples per bin.
    pub belief_samples: Vec<usize>,
    /// Mean ‖∂action_t/∂observation_{t−k}‖ per lag.
    pub influence: Vec<f64>,
    /// What the presence probe decodes.
    pub presence_target: String,
    /// Held-out AUC of "a pedestrian the car saw is hidden now", read from the state, per
    /// time-since-seen bin (0.5 is a blind guess).
    pub presence_auc: Vec<f64>,
    /// The same from the current observation alone.
    pub presence_auc_current_only: Vec<f64>,
    /// Bin centres (s).
    pub presence_time_since_seen_s: Vec<f64>,
    /// Held-out hidden-now steps per bin.
    pub presence_positives: Vec<usize>,
    /// Held-out steps with nobody hidden (every bin's negatives).
    pub presence_negatives: usize,
}

/// The observation layout every learned controller reads.
fn layout() -> Arc<ObservationSpec> {
    Arc::new(crate::learned::builtin_layout())
}

/// The white-noise probe's pool of real frames.
pub fn pool(threads: Option<usize>) -> Result<Vec<f32>> {
    Ok(memory::noise_pool(&builtins()?, POOL_EPISODES, threads))
}

/// Records `model` under the white-noise probe.
pub fn noise_recording(model: &Model, pool: &[f32], steps: usize) -> Recording {
    memory::record_noise(model, pool, &layout(), steps, NOISE_SEED)
}

/// Measures one model; `frame_cov` is the covariance of `pool`'s frames (`frame_covariance`),
/// computed once for every model.
pub fn measure(
    name: &str,
    model: &Model,
    pool: &[f32],
    frame_cov: &memdrive_models::memory::FrameCovariance,
    options: &Options,
) -> ControllerMemory {
    let elements = memory::curve_elements(&layout());
    let driving = memory::record_driving(
        model,
        &options.scenario,
        PROBE_SEED_BASE..PROBE_SEED_BASE + options.episodes,
        options.threads,
    );
    let r2_predicted = match options.probe {
        Probe::Noise => memory::predicted_curve(model, frame_cov, &elements, options.lags),
        Probe::Driving => None,
    };
    let noise;
    let probed = match options.probe {
        Probe::Noise => {
            noise = noise_recording(model, pool, options.noise_steps);
            &noise
        }
        Probe::Driving => &driving,
    };
    let MemoryCurve {
        lags,
        r2,
        r2_current_only,
        capacity,
        capacity_past,
        elements: counted,
    } = memory::memory_curve(probed, &elements, options.lags);
    let Belief {
        time_since_seen_s,
        error_m,
        baseline_m,
        samples,
        ..
    } = memory::belief_probe(&driving);
    let presence = memory::presence_probe(&driving);
    ControllerMemory {
        name: name.to_owned(),
        state: format!(
            "{} ({} numbers)",
            memory::state_description(model),
            memory::state_dim(model)
        ),
        probe: options.probe,
        lags,
        r2,
        r2_current_only,
        r2_predicted,
        r2_elements: format!(
            "{counted} of {} elements: lidar distances and ego state (one-hot hit classes left out)",
            layout().len()
        ),
        capacity,
        capacity_past,
        belief_target: format!(
            "nearest hidden pedestrian, metres ahead and left of the car, {} episodes of {} (held out: the last 30%)",
            options.episodes, options.scenario.name
        ),
        belief_error_m: error_m,
        belief_baseline_m: baseline_m,
        belief_time_since_seen_s: time_since_seen_s,
        belief_samples: samples,
        influence: memory::influence(model, probed, options.lags, INFLUENCE_SAMPLES),
        presence_target: format!(
            "a pedestrian the car saw is hidden now (logistic readout over every step, seeds with nobody included), {} episodes of {} (held out: the last 30%)",
            options.episodes, options.scenario.name
        ),
        presence_auc: presence.auc,
        presence_auc_current_only: presence.auc_current_only,
        presence_time_since_seen_s: presence.time_since_seen_s,
        presence_positives: presence.positives,
        presence_negatives: presence.negatives,
    }
}

/// Measures each of `models` (name, model).
pub fn run(models: &[(String, Model)], options: &Options) -> Result<Vec<ControllerMemory>> {
    if models.is_empty() {
        bail!("no controller to measure");
    }
    let pool = pool(options.threads)?;
    let frame_cov = memory::frame_covariance(&pool, layout().len());
    Ok(memdrive_sim::parallel::map_ordered(
        models,
        options.threads,
        || (),
        |(), (name, model)| measure(name, model, &pool, &frame_cov, options),
    ))
}

/// The measurements as text.
pub fn text(results: &[ControllerMemory]) -> String {
    let mut out = String::new();
    for r in results {
        out += &format!(
            "{}: state = {}\n  memory curve ({} probe; R² over {})\n  {:>6}  {:>8}  {:>12}  {:>10}{}\n",
            r.name,
            r.state,
            match r.probe {
                Probe::Noise => "white-noise",
                Probe::Driving => "driving",
            },
            r.r2_elements,
            "lag s",
            "R²",
            "current-only",
            "influence",
            if r.r2_predicted.is_some() {
                "  predicted (from the weights)"
            } else {
                ""
            }
        );
        for (i, k) in r.lags.iter().enumerate() {
            let predicted = r
                .r2_predicted
                .as_ref()
                .and_then(|p| p.get(i))
                .map_or(String::new(), |p| format!("  {p:>9.3}"));
            out += &format!(
                "  {:>6.1}  {:>8.3}  {:>12.3}  {:>10.4}{predicted}\n",
                *k as f64 * 0.1,
                r.r2[i],
                r.r2_current_only[i],
                r.influence.get(i).copied().unwrap_or(0.0)
            );
        }
        out += &format!(
            "  capacity {:.3} (lags 0..{}), {:.3} without lag 0\n  belief ({}):\n",
            r.capacity,
            r.lags.len().saturating_sub(1),
            r.capacity_past,
            r.belief_target
        );
        if r.belief_error_m.is_empty() {
            out += "    no held-out step with a hidden pedestrian\n";
        }
        for i in 0..r.belief_error_m.len() {
            out += &format!(
                "    last seen {:.2} s ago: error {:.2} m (mean guess {:.2} m, {} steps)\n",
                r.belief_time_since_seen_s[i],
                r.belief_error_m[i],
                r.belief_baseline_m[i],
                r.belief_samples[i]
            );
        }
        out += &format!("  presence ({}):\n", r.presence_target);
        if r.presence_auc.is_empty() {
            out += "    too few steps with and without a hidden pedestrian to fit it\n";
        }
        for i in 0..r.presence_auc.len() {
            out += &format!(
                "    last seen {:.2} s ago: AUC {:.3} (current observation alone {:.3}; {} hidden-now steps against {})\n",
                r.presence_time_since_seen_s[i],
                r.presence_auc[i],
                r.presence_auc_current_only[i],
                r.presence_positives[i],
                r.presence_negatives
            );
        }
        out += "\n";
    }
    out
}

/// The learned kind a controller name stands for, or an error for anything else.
pub fn kind(name: &str) -> Result<ModelKind> {
    let known = ModelKind::bundled_names().join(", ");
    match ModelKind::bundled_named(name) {
        Some((kind, _)) => Ok(kind),
        None if crate::cli::BASELINES.contains(&name) => {
            bail!("`{name}` has no state vector to measure; the memory instruments measure {known}")
        }
        None => bail!("unknown controller `{name}`; the memory instruments measure {known}"),
    }
}
