//! The memory instruments, live: memory curves of the episode on screen (scored step by step
//! with readouts fitted in the background on other seeds of the same scenario) and, on
//! request, under the white-noise probe; belief probes fitted in the background and drawn as
//! ghosts; influence by lag for the step on screen. The measuring is `memdrive_models::memory`'s;
//! this module schedules it off the frame loop and draws the results.
//!
//! Everything computed from a model is keyed by its [`ModelId`] and dropped once no lane drives
//! with that model. Background work runs behind `catch_unwind`: a failure becomes a message for
//! a banner, never a closed window.

mod live;
mod panel;
mod queue;

pub use panel::{controller_color, panel_ui};
pub use queue::panic_text;
use queue::{Queue, background};

use super::lab::{Lab, LaneFrame, LaneKind, ModelId};
use memdrive_models::memory::live::{LagReadouts, LiveCurve};
use memdrive_models::memory::presence::Logistic;
use memdrive_models::memory::{
    self, Belief, DEFAULT_LAGS, MemoryCurve, NOISE_STEPS, PROBE_SEED_BASE, Recording,
};
use memdrive_models::{MemorySnapshot, Model};
use memdrive_sim::scenario::builtin;
use memdrive_sim::{ScenarioSpec, World};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};

/// Episodes of `occluded_crossing` each belief probe is fitted on.
const BELIEF_EPISODES: u64 = 30;
/// Episodes of `memory_gap` (half of them with somebody hiding) each presence probe is fitted
/// on.
const PRESENCE_EPISODES: u64 = 40;
/// First seed of the episodes the live readouts are fitted on (probe seeds, apart from the
/// belief probe's).
const LIVE_SEED_BASE: u64 = PROBE_SEED_BASE + 10_000;
/// Steps of driving the live readouts are fitted on, at least (whole episodes)…
const LIVE_FIT_STEPS: usize = 8000;
/// …from at most this many episodes.
const LIVE_FIT_EPISODES: u64 = 80;
/// Steps of the episode scored before the live curve is drawn.
pub const MIN_LIVE_STEPS: usize = 30;
/// Recorded steps scored per frame and lane at most (a step of the transformer's readouts is
/// about a million multiply-adds), so catching up on an episode never stalls a frame.
const LIVE_STEPS_PER_FRAME: usize = 12;

/// What background work a message answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Job {
    Belief(ModelId),
    Presence(ModelId),
    Readouts(ModelId, u64),
    Noise,
}

enum Message {
    Belief(ModelId, Box<Belief>),
    Presence(ModelId, Box<Logistic>),
    Readouts(ModelId, u64, Box<Readouts>),
    Noise(
        Vec<(String, ModelId, MemoryCurve)>,
        Vec<(String, ModelId, Vec<f64>)>,
    ),
    Failed(Job, String),
}

/// A probe fitted per model: the models fitted already, the job and its name, the built-in
/// scenario and number of episodes it is fitted on, and what becomes of the recording.
type Probe = (
    HashSet<ModelId>,
    (fn(ModelId) -> Job, &'static str),
    (&'static str, u64),
    fn(ModelId, &Recording) -> Option<Message>,
);

/// Where a controller believes the hidden pedestrian is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ghost {
    /// Decoded position relative to the car: metres ahead, metres left.
    pub relative_m: [f32; 2],
    /// The probe's held-out error at this time since the pedestrian was last seen (m).
    pub error_m: f32,
    /// How much better than a blind guess the probe does there, 0..1.
    pub confidence: f32,
}

/// Readouts of one model on one scenario: from its state, and — the baseline — from the
/// observation of the moment alone.
struct Readouts {
    state: LagReadouts,
    present: LagReadouts,
}

/// The live memory curve of one lane's episode, with the present-frame baseline beside it.
struct LaneCurve {
    id: ModelId,
    name: String,
    episode: u64,
    readouts: Arc<Readouts>,
    curve: LiveCurve,
    present: LiveCurve,
    next_step: u32,
}

/// Where the live memory curves stand, in one line for the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Readouts are being fitted on other seeds of this scenario.
    Fitting(String),
    /// Readouts are ready; this episode has too few steps yet.
    Waiting(usize),
    /// Curves are drawn.
    Ready,
    /// The scenario has no learned lane, or the readouts failed.
    Unavailable(String),
}

/// The instruments' state.
pub struct Instruments {
    queue: Queue,
    rx: Receiver<Message>,
    beliefs: HashMap<ModelId, Arc<Belief>>,
    presence: HashMap<ModelId, Arc<Logistic>>,
    readouts: HashMap<(ModelId, u64), Arc<Readouts>>,
    pending: HashSet<Job>,
    failed: HashSet<Job>,
    curves: Vec<LaneCurve>,
    failures: Vec<String>,
    /// Recorded steps are waiting to be scored.
    backlog: bool,
    /// Memory curves under the white-noise probe, once run: (controller, model, curve).
    noise: Vec<(String, ModelId, MemoryCurve)>,
    /// The same predicted from the weights, for kinds with a closed form.
    noise_predicted: Vec<(String, ModelId, Vec<f64>)>,
    scenario: String,
}

impl Default for Instruments {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            queue: Queue::new(tx),
            rx,
            beliefs: HashMap::new(),
            presence: HashMap::new(),
            readouts: HashMap::new(),
            pending: HashSet::new(),
            failed: HashSet::new(),
            curves: Vec::new(),
            failures: Vec::new(),
            backlog: false,
            noise: Vec::new(),
            noise_predicted: Vec::new(),
            scenario: String::new(),
        }
    }
}

/// The learned lanes: index, controller name, identity and model.
fn learned_models(lab: &Lab) -> Vec<(usize, String, ModelId, Model)> {
    lab.lanes()
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match (l.kind, l.identified_model()) {
            (LaneKind::Learned(_), Some((id, m))) => Some((i, lane_name(lab, i), id, m.clone())),
            _ => None,
        })
        .collect()
}

/// The instruments' name of learned lane `index`: its kind (or the shipped weights it drives,
/// "transformer64"), with the lane number when another lane has the same kind ("rbf (lane 2)"),
/// and its ablation ("hebbian:no-plasticity"). Not
/// its window: what the instruments fit, they fit on the network as trained.
fn lane_name(lab: &Lab, index: usize) -> String {
    let lane = &lab.lanes()[index];
    match lane.kind {
        LaneKind::Learned(_) => lab.numbered(
            index,
            &format!("{}{}", lane.controller_name(), lane.ablation_suffix()),
        ),
        _ => "expert".to_owned(),
    }
}

/// The model's own driving of other seeds of `spec`: whole episodes until `LIVE_FIT_STEPS`.
fn fitting_recording(model: &Model, spec: &ScenarioSpec) -> Recording {
    let mut all: Option<Recording> = None;
    for seed in LIVE_SEED_BASE..LIVE_SEED_BASE + LIVE_FIT_EPISODES {
        let rec = memory::record_driving(model, spec, seed..seed + 1, Some(1));
        match &mut all {
            None => all = Some(rec),
            Some(a) => {
                let offset = a.len();
                a.states.extend(rec.states);
                a.inputs.extend(rec.inputs);
                a.hidden.extend(rec.hidden);
                a.episodes.extend(
                    rec.episodes
                        .into_iter()
                        .map(|e| e.start + offset..e.end + offset),
                );
            }
        }
        if all.as_ref().is_some_and(|a| a.len() >= LIVE_FIT_STEPS) {
            break;
        }
    }
    all.unwrap_or_default()
}

impl Instruments {
    /// Takes in finished jobs, drops what belongs to models no lane drives any more, starts
    /// due jobs (belief probes when `beliefs` are wanted, live readouts when `curves` are) and
    /// scores the newly recorded steps; `wake` repaints when a job finishes.
    pub fn update(
        &mut self,
        lab: &Lab,
        wake: &(impl Fn() + Clone + Send + 'static),
        beliefs: bool,
        curves: bool,
    ) {
        let models = learned_models(lab);
        let alive: HashSet<ModelId> = models.iter().map(|(_, _, id, _)| *id).collect();
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Belief(id, belief) => {
                    self.pending.remove(&Job::Belief(id));
                    if alive.contains(&id) {
                        self.beliefs.insert(id, Arc::from(belief));
                    }
                }
                Message::Presence(id, readout) => {
                    self.pending.remove(&Job::Presence(id));
                    if alive.contains(&id) {
                        self.presence.insert(id, Arc::from(readout));
                    }
                }
                Message::Readouts(id, key, readouts) => {
                    self.pending.remove(&Job::Readouts(id, key));
                    if alive.contains(&id) && key == lab.scenario_key() {
                        self.readouts.insert((id, key), Arc::from(readouts));
                    }
                }
                Message::Noise(curves, predicted) => {
                    self.pending.remove(&Job::Noise);
                    self.noise = curves;
                    self.noise_predicted = predicted;
                }
                Message::Failed(job, text) => {
                    self.pending.remove(&job);
                    self.failed.insert(job);
                    self.failures.push(text);
                }
            }
        }
        // Drop everything computed from models that are gone (or another scenario's readouts).
        let key = lab.scenario_key();
        self.beliefs.retain(|id, _| alive.contains(id));
        self.presence.retain(|id, _| alive.contains(id));
        self.readouts
            .retain(|(id, k), _| alive.contains(id) && *k == key);
        self.noise.retain(|(_, id, _)| alive.contains(id));
        self.noise_predicted.retain(|(_, id, _)| alive.contains(id));
        self.curves.retain(|c| alive.contains(&c.id));
        self.scenario.clone_from(&lab.spec().name);
        if beliefs {
            // Where each model believes a hidden pedestrian is, fitted on its own driving of
            // occluded_crossing; and whether it believes one is hidden at all, on memory_gap,
            // where in half the episodes somebody it saw hides behind a van.
            let probes: [Probe; 2] = [
                (
                    self.beliefs.keys().copied().collect(),
                    (Job::Belief, "the belief probe"),
                    ("occluded_crossing", BELIEF_EPISODES),
                    |id, rec| Some(Message::Belief(id, Box::new(memory::belief_probe(rec)))),
                ),
                (
                    self.presence.keys().copied().collect(),
                    (Job::Presence, "the presence probe"),
                    ("memory_gap", PRESENCE_EPISODES),
                    |id, rec| {
                        let readout = memory::presence_probe(rec).readout?;
                        Some(Message::Presence(id, Box::new(readout)))
                    },
                ),
            ];
            for (fitted, job, source, finish) in probes {
                self.start_probes(&models, wake, &fitted, job, source, finish);
            }
        }
        if curves {
            self.start_readouts(lab, &models, wake);
            self.score(lab, &models);
        }
    }

    fn start(&mut self, job: Job) -> bool {
        if self.pending.contains(&job) || self.failed.contains(&job) {
            return false;
        }
        self.pending.insert(job);
        true
    }

    /// For every model not in `fitted`: records its own driving of `episodes` probe seeds of
    /// the built-in `scenario` in the background and sends what `finish` makes of it.
    fn start_probes(
        &mut self,
        models: &[(usize, String, ModelId, Model)],
        wake: &(impl Fn() + Clone + Send + 'static),
        fitted: &HashSet<ModelId>,
        (job, what): (fn(ModelId) -> Job, &'static str),
        (scenario, episodes): (&'static str, u64),
        finish: fn(ModelId, &Recording) -> Option<Message>,
    ) {
        for (_, _, id, model) in models {
            if fitted.contains(id) || !self.start(job(*id)) {
                continue;
            }
            let (model, id) = (model.clone(), *id);
            background(
                job(id),
                what,
                self.queue.ticket(),
                wake.clone(),
                move || {
                    let spec = builtin(scenario)?.ok()?;
                    let rec = memory::record_driving(
                        &model,
                        &spec,
                        PROBE_SEED_BASE..PROBE_SEED_BASE + episodes,
                        Some(1),
                    );
                    finish(id, &rec)
                },
            );
        }
    }

    /// Failures of background work since the last call, for banners.
    pub fn take_failures(&mut self) -> Vec<String> {
        std::mem::take(&mut self.failures)
    }

    /// Whether any background job is running (the UI repaints when it ends).
    pub fn busy(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether recorded steps wait to be scored (the UI should come back soon).
    pub fn catching_up(&self) -> bool {
        self.backlog
    }

    /// Whether the white-noise probe is running.
    pub fn noise_running(&self) -> bool {
        self.pending.contains(&Job::Noise)
    }

    /// Memory curves under the white-noise probe, once run: (controller, curve).
    pub fn noise(&self) -> impl Iterator<Item = (&str, &MemoryCurve)> {
        self.noise.iter().map(|(n, _, c)| (n.as_str(), c))
    }

    /// Memory curves under the white-noise probe predicted from the weights, for the kinds with
    /// a closed form: (controller, R²(k)).
    pub fn noise_predicted(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.noise_predicted
            .iter()
            .map(|(n, _, c)| (n.as_str(), c.as_slice()))
    }

    /// Starts the white-noise probe of every learned lane in the background.
    pub fn run_noise_probe(&mut self, lab: &Lab, wake: impl Fn() + Send + 'static) {
        self.failed.remove(&Job::Noise);
        if !self.start(Job::Noise) {
            return;
        }
        let models = learned_models(lab);
        background(
            Job::Noise,
            "the white-noise probe",
            self.queue.ticket(),
            wake,
            move || {
                // The built-in scenarios always load; an empty pool would give empty curves.
                let pool = crate::memory::pool(Some(1)).unwrap_or_default();
                let recordings: Vec<Recording> = models
                    .iter()
                    .map(|(_, _, _, m)| crate::memory::noise_recording(m, &pool, NOISE_STEPS))
                    .collect();
                let refs: Vec<&Recording> = recordings.iter().collect();
                let elements = memory::curve_elements(&crate::learned::builtin_layout());
                let curves = memory::memory_curves(&refs, &elements, DEFAULT_LAGS, Some(1));
                let frame_cov =
                    memory::frame_covariance(&pool, crate::learned::builtin_layout().len());
                let predicted = models
                    .iter()
                    .filter_map(|(_, n, id, m)| {
                        memory::predicted_curve(m, &frame_cov, &elements, DEFAULT_LAGS)
                            .map(|c| (n.clone(), *id, c))
                    })
                    .collect();
                let named = models
                    .into_iter()
                    .zip(curves)
                    .map(|((_, n, id, _), c)| (n, id, c))
                    .collect();
                Some(Message::Noise(named, predicted))
            },
        );
    }

    /// The belief probe of the model `id`, once fitted.
    pub fn belief(&self, id: ModelId) -> Option<&Arc<Belief>> {
        self.beliefs.get(&id)
    }

    /// Whether any belief probe is still being fitted.
    pub fn beliefs_pending(&self) -> bool {
        self.pending.iter().any(|j| matches!(j, Job::Belief(_)))
    }

    /// Whether any presence probe is still being fitted.
    pub fn presence_pending(&self) -> bool {
        self.pending.iter().any(|j| matches!(j, Job::Presence(_)))
    }

    /// How sure the controller of model `id` (`model`), holding `snapshot`, is that a
    /// pedestrian it saw is hidden now (0..1), once its presence probe is fitted.
    pub fn presence(&self, id: ModelId, model: &Model, snapshot: &MemorySnapshot) -> Option<f64> {
        let readout = self.presence.get(&id)?;
        let mut state = vec![0.0; memory::state_dim(model)];
        if readout.inputs() != state.len() {
            return None;
        }
        memory::state_vector(snapshot, &mut state);
        Some(readout.probability(&state))
    }

    /// Where the controller of model `id` (`model`), holding `snapshot`, believes the hidden
    /// pedestrian of `world` is — when one is hidden and the probe is fitted.
    pub fn ghost(
        &self,
        id: ModelId,
        model: &Model,
        snapshot: &MemorySnapshot,
        world: &World,
    ) -> Option<Ghost> {
        let hidden = memory::nearest_hidden_pedestrian(world)?;
        let belief = self.belief(id)?;
        let readout = belief.readout.as_ref()?;
        let mut state = vec![0.0; memory::state_dim(model)];
        // A readout of another model could never apply; say nothing rather than guess.
        if readout.inputs() != state.len() {
            return None;
        }
        memory::state_vector(snapshot, &mut state);
        let p = readout.predict_row(&state);
        let bin = belief
            .time_since_seen_s
            .iter()
            .position(|&c| (hidden.time_since_seen_s - c).abs() <= memory::BELIEF_BIN_S / 2.0)
            .or_else(|| belief.time_since_seen_s.len().checked_sub(1))?;
        let (error, blind) = (belief.error_m[bin], belief.baseline_m[bin].max(1e-6));
        Some(Ghost {
            relative_m: [p[0], p[1]],
            error_m: error as f32,
            confidence: (1.0 - error / blind).clamp(0.0, 1.0) as f32,
        })
    }
}

/// Influence by lag (0…`lags`) of the lane whose recorded frames up to the viewed step are
/// `recent` (oldest first), for the step shown last; a transformer whose window is shrunk to
/// `window_limit` frames sees only those (what is older has no influence at all).
pub fn influence_now(
    model: &Model,
    recent: &[&LaneFrame],
    window_limit: Option<usize>,
    lags: usize,
) -> Vec<f64> {
    let Some(last) = recent.len().checked_sub(1) else {
        return vec![0.0; lags + 1];
    };
    if recent[last].memory.is_none() {
        return vec![0.0; lags + 1];
    }
    let mut first = last.saturating_sub(lags);
    if let Some(frames) = window_limit {
        first = first.max((last + 1).saturating_sub(frames));
    }
    let raw: Vec<f32> = recent[first..=last]
        .iter()
        .flat_map(|f| f.world.observation().values().iter().copied())
        .collect();
    // The recurrent state before the first frame: the one recorded a step earlier, or zero at
    // the start of the episode.
    let mut before = vec![0.0; memory::state_dim(model)];
    if let Some(snapshot) = first.checked_sub(1).and_then(|i| recent[i].memory.as_ref()) {
        memory::state_vector(snapshot, &mut before);
    }
    memory::influence_at(model, &raw, &before, lags)
}
