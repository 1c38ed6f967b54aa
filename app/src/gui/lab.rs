//! The comparison the app shows, as plain data: one world per controller, stepped in lockstep
//! on the same scenario and seed, with a recorded history of every world and every memory
//! snapshot. Nothing here knows egui; the views draw it and the tests drive it.

use crate::learned;
use memdrive_models::weights::{ModelKind, WeightFile};
use memdrive_models::{MemoryController, MemorySnapshot, MemoryState, Model};
use memdrive_sim::vehicle::Controls;
use memdrive_sim::{Controller, Expert, Privileged, ScenarioSpec, World};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ego positions further apart than this (m) count as trajectories that diverged.
pub const DIVERGENCE_M: f64 = 1.0;

/// Which driver a lane of the comparison has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LaneKind {
    /// A learned controller of this kind.
    Learned(ModelKind),
    /// The privileged expert (perfect memory of everything seen).
    Expert,
}

impl LaneKind {
    /// The name shown above the lane.
    pub fn title(self) -> &'static str {
        match self {
            Self::Learned(kind) => kind.title(),
            Self::Expert => "Expert",
        }
    }
}

/// The long-term memory of a learned controller: its weights, summarised for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct LongTermMemory {
    /// Where the weights came from (a path, or the bundled file).
    pub source: String,
    /// Number of learned numbers (normalisation statistics excluded).
    pub parameters: usize,
    /// Histogram of every weight: (bin centre, count).
    pub histogram: Vec<(f64, f64)>,
    /// Width of a histogram bin.
    pub bin_width: f64,
    /// The context window K, for a transformer.
    pub window: Option<usize>,
    /// The matrix most worth looking at, by name, with its shape `(rows, cols)`, row-major.
    pub matrix: (String, usize, usize, Vec<f32>),
}

impl LongTermMemory {
    fn of(file: &WeightFile, model: &Model, source: String) -> Self {
        let parameters = file.tensors.values().map(|t| t.data.len()).sum();
        let all = || file.tensors.values().flat_map(|t| t.data.iter().copied());
        let (lo, hi) = all().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        // Clip the histogram's range to the bulk of the weights so one outlier does not squash it.
        let limit = lo.abs().max(hi.abs()).clamp(1e-6, 4.0);
        const BINS: usize = 41;
        let width = 2.0 * limit / BINS as f32;
        let mut counts = vec![0.0f64; BINS];
        for v in all() {
            let bin = ((v + limit) / width).floor().clamp(0.0, (BINS - 1) as f32) as usize;
            counts[bin] += 1.0;
        }
        let histogram = counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (f64::from(-limit + (i as f32 + 0.5) * width), c))
            .collect();
        let preferred = file.kind.long_term_matrix();
        let matrix = file
            .tensors
            .get_key_value(preferred)
            .or_else(|| file.tensors.iter().find(|(_, t)| t.shape.len() == 2))
            .map(|(name, t)| {
                let rows = t.shape.first().copied().unwrap_or(1);
                let cols = t.data.len() / rows.max(1);
                (name.clone(), rows, cols, t.data.clone())
            })
            .unwrap_or_default();
        let window = model.window();
        Self {
            source,
            parameters,
            histogram,
            bin_width: f64::from(width),
            window,
            matrix,
        }
    }
}

/// A learned model's identity in the app: a number drawn when the model is loaded or trained,
/// never reused while the app runs. Caches of anything computed from a model (belief probes,
/// memory readouts) are keyed by it, never by where the model sits in memory: an address is
/// reused as soon as the model is dropped, a `ModelId` never is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModelId(u64);

impl ModelId {
    /// A new identity, different from every one handed out before.
    pub fn fresh() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Self(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

impl std::fmt::Display for ModelId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// What drives a lane.
pub enum Driver {
    /// A learned controller, with the file its weights came from (kept for saving).
    Learned {
        /// Who the model is, for caches of what was computed from it.
        id: ModelId,
        /// The network.
        model: Model,
        /// Its weight file, as loaded or trained.
        file: Arc<WeightFile>,
        /// The controller driving now (owns the short-term memory).
        controller: Box<dyn MemoryController + Send>,
        /// Weights, summarised.
        long_term: Arc<LongTermMemory>,
        /// A transformer's window shrunk at run time to this many frames (`None`: the trained K).
        window_limit: Option<usize>,
    },
    /// The expert.
    Expert(Box<Expert>),
}

impl Driver {
    /// A learned driver from a checked weight file.
    pub fn learned(file: WeightFile, source: &Path) -> memdrive_models::Result<Self> {
        let model = Model::from_file(file.clone(), source)?;
        let long_term = Arc::new(LongTermMemory::of(
            &file,
            &model,
            source.display().to_string(),
        ));
        let controller = model.controller();
        Ok(Self::Learned {
            id: ModelId::fresh(),
            model,
            file: Arc::new(file),
            controller,
            long_term,
            window_limit: None,
        })
    }

    fn controller(&mut self) -> &mut dyn Controller {
        match self {
            Self::Learned { controller, .. } => controller.as_mut(),
            Self::Expert(expert) => expert.as_mut(),
        }
    }

    /// The controls of the next step in `world`: only the expert reads the ground truth.
    fn act(&mut self, world: &World) -> Controls {
        match self {
            Self::Learned { controller, .. } => controller.act(world.observation()),
            Self::Expert(expert) => expert.act_in(world),
        }
    }

    fn memory(&self) -> Option<MemorySnapshot> {
        match self {
            Self::Learned { controller, .. } => Some(controller.memory()),
            Self::Expert(_) => None,
        }
    }
}

/// One lane at one step: the world after that step and what its driver held then.
#[derive(Clone, Debug)]
pub struct LaneFrame {
    /// The world.
    pub world: World,
    /// The driver's memory after reading this world's observation (`None` for the expert, or
    /// once the episode has ended).
    pub memory: Option<MemorySnapshot>,
    /// The controls the driver chose from that observation.
    pub controls: Controls,
    /// What the driver carries to the next step, to resume from here.
    pub state: DriverState,
}

/// What a driver carries from one step to the next, kept with every recorded frame so that
/// the comparison can resume from any of them.
#[derive(Clone, Debug)]
pub enum DriverState {
    /// A learned controller's short-term memory.
    Learned(MemoryState),
    /// The expert, whole (what it has seen).
    Expert(Box<Expert>),
}

/// Every lane at one step.
#[derive(Clone, Debug)]
pub struct Moment {
    /// Control steps since the start.
    pub step: u32,
    /// One frame per lane, in lane order.
    pub lanes: Vec<LaneFrame>,
}

/// One lane of the comparison.
pub struct Lane {
    /// Which driver kind.
    pub kind: LaneKind,
    /// The driver.
    pub driver: Driver,
    /// Its world now.
    pub world: World,
    /// Memory after reading the current observation.
    pub memory: Option<MemorySnapshot>,
    /// Controls to apply at the next step.
    pub pending: Controls,
    /// Steps at which the user wiped the short-term memory.
    pub forgotten_at: Vec<u32>,
}

impl Lane {
    fn new(kind: LaneKind, driver: Driver, spec: &ScenarioSpec, seed: u64) -> Self {
        let mut lane = Self {
            kind,
            driver,
            world: World::new(spec, seed),
            memory: None,
            pending: Controls::default(),
            forgotten_at: Vec::new(),
        };
        lane.restart(spec, seed);
        lane
    }

    fn restart(&mut self, spec: &ScenarioSpec, seed: u64) {
        self.world = World::new(spec, seed);
        self.driver.controller().reset();
        self.forgotten_at.clear();
        self.read();
    }

    /// The driver reads the current observation: memory updated, next controls chosen.
    fn read(&mut self) {
        if self.world.outcome().is_some() {
            self.pending = Controls::default();
            return;
        }
        self.pending = self.driver.act(&self.world);
        self.memory = self.driver.memory();
    }

    fn step(&mut self) -> bool {
        if self.world.outcome().is_some() {
            return false;
        }
        self.world.step(self.pending);
        self.read();
        true
    }

    fn frame(&self) -> LaneFrame {
        LaneFrame {
            world: self.world.clone(),
            memory: self.memory.clone(),
            controls: self.pending,
            state: match &self.driver {
                Driver::Learned { controller, .. } => {
                    DriverState::Learned(controller.memory_state())
                }
                Driver::Expert(expert) => DriverState::Expert(expert.clone()),
            },
        }
    }

    /// Puts the lane back as it was in `frame`: world, memory and next controls.
    fn resume(&mut self, frame: &LaneFrame, step: u32) -> anyhow::Result<()> {
        match (&mut self.driver, &frame.state) {
            (Driver::Learned { controller, .. }, DriverState::Learned(state)) => {
                controller.set_memory_state(state)?;
            }
            (Driver::Expert(expert), DriverState::Expert(saved)) => expert.clone_from(saved),
            _ => anyhow::bail!("the recorded driver is not this lane's"),
        }
        self.world = frame.world.clone();
        self.memory = frame.memory.clone();
        self.pending = frame.controls;
        self.forgotten_at.retain(|&s| s <= step);
        Ok(())
    }

    /// Clears the driver's short-term memory (not its weights); the snapshot shows it at once.
    pub fn forget(&mut self) {
        if let Driver::Learned { controller, .. } = &mut self.driver {
            controller.forget();
            self.memory = Some(controller.memory());
            self.forgotten_at.push(self.world.steps());
        }
    }

    /// The weight file of a learned lane.
    pub fn weight_file(&self) -> Option<&Arc<WeightFile>> {
        match &self.driver {
            Driver::Learned { file, .. } => Some(file),
            Driver::Expert(_) => None,
        }
    }

    /// The weights summarised, for a learned lane.
    pub fn long_term(&self) -> Option<&Arc<LongTermMemory>> {
        match &self.driver {
            Driver::Learned { long_term, .. } => Some(long_term),
            Driver::Expert(_) => None,
        }
    }

    /// The model of a learned lane.
    pub fn model(&self) -> Option<&Model> {
        match &self.driver {
            Driver::Learned { model, .. } => Some(model),
            Driver::Expert(_) => None,
        }
    }

    /// The identity and model of a learned lane.
    pub fn identified_model(&self) -> Option<(ModelId, &Model)> {
        match &self.driver {
            Driver::Learned { id, model, .. } => Some((*id, model)),
            Driver::Expert(_) => None,
        }
    }

    /// The identity of a learned lane's model.
    pub fn model_id(&self) -> Option<ModelId> {
        self.identified_model().map(|(id, _)| id)
    }

    /// The frames a transformer lane looks back over: (now, as trained); `None` for other kinds.
    pub fn window(&self) -> Option<(usize, usize)> {
        match &self.driver {
            Driver::Learned {
                model,
                window_limit,
                ..
            } => model.window().map(|k| (window_limit.unwrap_or(k), k)),
            Driver::Expert(_) => None,
        }
    }

    /// A transformer lane's window at run time, if shrunk (`None`: as trained, or not a
    /// transformer).
    pub fn window_limit(&self) -> Option<usize> {
        match &self.driver {
            Driver::Learned { window_limit, .. } => *window_limit,
            Driver::Expert(_) => None,
        }
    }
}

/// The whole comparison: lanes in lockstep and their recorded history.
pub struct Lab {
    spec: ScenarioSpec,
    seed: u64,
    lanes: Vec<Lane>,
    history: VecDeque<Moment>,
    history_capacity: usize,
    divergence_step: Option<u32>,
    episode: u64,
    scenario_key: u64,
}

/// A fingerprint of a scenario's every field, to tell scenarios apart (two files may share a
/// name).
fn fingerprint(spec: &ScenarioSpec) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    format!("{spec:?}").hash(&mut h);
    h.finish()
}

impl Lab {
    /// The three learned controllers with the bundled weights (and the expert when asked) on
    /// `spec` with `seed`; keeps the last `history_steps` steps.
    pub fn new(
        spec: ScenarioSpec,
        seed: u64,
        with_expert: bool,
        history_steps: usize,
    ) -> anyhow::Result<Self> {
        let mut lanes = Vec::new();
        for &kind in ModelKind::all() {
            let (file, source) = learned::load_file(kind, None)?;
            let driver = Driver::learned(file, &source)?;
            lanes.push(Lane::new(LaneKind::Learned(kind), driver, &spec, seed));
        }
        let scenario_key = fingerprint(&spec);
        let mut lab = Self {
            spec,
            seed,
            lanes,
            history: VecDeque::new(),
            history_capacity: history_steps.max(2),
            divergence_step: None,
            episode: 0,
            scenario_key,
        };
        lab.set_expert(with_expert);
        lab.reset();
        Ok(lab)
    }

    /// Adds or removes the expert lane (after the learned ones). The other lanes keep their
    /// time: a new expert lane is replayed from step 0 up to now, its frames recorded beside
    /// the others' in the history.
    pub fn set_expert(&mut self, with_expert: bool) {
        let position = self.lanes.iter().position(|l| l.kind == LaneKind::Expert);
        match (with_expert, position) {
            (true, None) => {
                let driver = Driver::Expert(Box::new(Expert::new()));
                let mut lane = Lane::new(LaneKind::Expert, driver, &self.spec, self.seed);
                for moment in &mut self.history {
                    while lane.world.steps() < moment.step && lane.step() {}
                    moment.lanes.push(lane.frame());
                }
                while lane.world.steps() < self.step_count() && lane.step() {}
                self.lanes.push(lane);
            }
            (false, Some(index)) => {
                self.lanes.remove(index);
                for moment in &mut self.history {
                    if index < moment.lanes.len() {
                        moment.lanes.remove(index);
                    }
                }
            }
            _ => {}
        }
    }

    /// Restarts every lane at step 0 of the current scenario and seed.
    pub fn reset(&mut self) {
        for lane in &mut self.lanes {
            lane.restart(&self.spec, self.seed);
        }
        self.history.clear();
        self.divergence_step = None;
        self.episode += 1;
        self.record();
    }

    /// Counts restarts: changes whenever every lane starts a new episode (reset, new seed,
    /// scenario or driver).
    pub fn episode(&self) -> u64 {
        self.episode
    }

    /// Tells scenarios apart: the same for the same scenario definition, whatever the seed.
    pub fn scenario_key(&self) -> u64 {
        self.scenario_key
    }

    /// Switches scenario and/or seed and restarts.
    pub fn restart_with(&mut self, spec: ScenarioSpec, seed: u64) {
        self.scenario_key = fingerprint(&spec);
        self.spec = spec;
        self.seed = seed;
        self.reset();
    }

    /// Replaces the driver of the lane of `kind` (a learned lane) and restarts every lane so
    /// the comparison stays fair. The old driver is returned untouched when there is no such
    /// lane.
    pub fn replace_driver(&mut self, kind: LaneKind, driver: Driver) -> Result<(), Driver> {
        let Some(lane) = self.lanes.iter_mut().find(|l| l.kind == kind) else {
            return Err(driver);
        };
        lane.driver = driver;
        self.reset();
        Ok(())
    }

    /// Replaces the driver of learned lane `index` with a learned `driver` of any kind (the
    /// lane takes the driver's kind) and restarts every lane. The driver is returned untouched
    /// when there is no such lane.
    pub fn replace_driver_at(&mut self, index: usize, driver: Driver) -> Result<(), Driver> {
        let kind = match &driver {
            Driver::Learned { model, .. } => LaneKind::Learned(model.kind()),
            _ => return Err(driver),
        };
        let Some(lane) = self
            .lanes
            .get_mut(index)
            .filter(|l| matches!(l.kind, LaneKind::Learned(_)))
        else {
            return Err(driver);
        };
        lane.kind = kind;
        lane.driver = driver;
        self.reset();
        Ok(())
    }

    /// Shrinks the window of transformer lane `index` to `frames` (1…K; K is the trained window,
    /// as trained) and restarts every lane so the comparison stays fair. An error names a lane
    /// that is not a transformer or a window outside 1…K; nothing changes then.
    pub fn set_window(&mut self, index: usize, frames: usize) -> anyhow::Result<()> {
        let Some(lane) = self.lanes.get_mut(index) else {
            anyhow::bail!("there is no lane {}", index + 1);
        };
        let Some((_, trained)) = lane.window() else {
            anyhow::bail!(
                "lane {} is not a transformer: only a transformer has a window",
                index + 1
            );
        };
        let Driver::Learned {
            model,
            controller,
            window_limit,
            ..
        } = &mut lane.driver
        else {
            anyhow::bail!("lane {} has no learned driver", index + 1);
        };
        let limit = (frames != trained).then_some(frames);
        *controller = model.controller_with_window(limit)?;
        *window_limit = limit;
        self.reset();
        Ok(())
    }

    /// One control step of every lane still running. Returns false when all have ended.
    pub fn step(&mut self) -> bool {
        let mut any = false;
        for lane in &mut self.lanes {
            any |= lane.step();
        }
        if any {
            self.check_divergence();
            self.record();
        }
        any
    }

    fn check_divergence(&mut self) {
        if self.divergence_step.is_some() {
            return;
        }
        let positions: Vec<_> = self
            .lanes
            .iter()
            .filter(|l| matches!(l.kind, LaneKind::Learned(_)))
            .map(|l| l.world.ego().pose.pos_in_world)
            .collect();
        let apart = positions.iter().enumerate().any(|(i, a)| {
            positions[i + 1..]
                .iter()
                .any(|b| (*a - *b).length() > DIVERGENCE_M)
        });
        if apart {
            self.divergence_step = Some(self.step_count());
        }
    }

    fn record(&mut self) {
        if self.history.len() == self.history_capacity {
            self.history.pop_front();
        }
        self.history.push_back(Moment {
            step: self.step_count(),
            lanes: self.lanes.iter().map(Lane::frame).collect(),
        });
    }

    /// Replaces the recorded frame of now after a change of memory (a forget).
    fn rerecord(&mut self) {
        self.history.pop_back();
        self.record();
    }

    /// Continues every lane from the recorded moment at `step`, as it was then (world, memory,
    /// next controls): the recorded future after it is dropped, and play goes on from there —
    /// a branch, counted as a new episode by the live instruments. An error (that moment is no
    /// longer kept) changes nothing.
    pub fn resume_from(&mut self, step: u32) -> anyhow::Result<()> {
        if step == self.step_count() {
            return Ok(());
        }
        let Some(moment) = self.moment(step).cloned() else {
            anyhow::bail!("step {step} is no longer in the recorded history");
        };
        let before: Vec<LaneFrame> = self.lanes.iter().map(Lane::frame).collect();
        let result = self
            .lanes
            .iter_mut()
            .zip(&moment.lanes)
            .try_for_each(|(lane, frame)| lane.resume(frame, step));
        if let Err(e) = result {
            // Put back what had been resumed already: all or nothing.
            let now = self.step_count();
            for (lane, frame) in self.lanes.iter_mut().zip(&before) {
                let _ = lane.resume(frame, now);
            }
            return Err(e);
        }
        let first = self.history.front().map_or(0, |m| m.step);
        self.history.truncate((step - first) as usize + 1);
        if self.divergence_step.is_some_and(|d| d > step) {
            self.divergence_step = None;
        }
        self.episode += 1;
        Ok(())
    }

    /// Copies the short-term memory of lane `from` into lane `into` at this step (the weights
    /// stay): from the next step on, `into` drives on what `from` remembers. An error names a
    /// lane without learned memory or a memory that does not fit (another kind, another
    /// size); nothing changes then.
    pub fn transplant(&mut self, from: usize, into: usize) -> anyhow::Result<()> {
        let state = self
            .memory_state(from)
            .ok_or_else(|| anyhow::anyhow!("lane {} has no learned memory to give", from + 1))?;
        self.implant(into, &state)
    }

    /// The short-term memory of learned lane `index` now, as a value (to transplant later).
    pub fn memory_state(&self, index: usize) -> Option<MemoryState> {
        match self.lanes.get(index).map(|l| &l.driver) {
            Some(Driver::Learned { controller, .. }) => Some(controller.memory_state()),
            _ => None,
        }
    }

    /// Puts `state` into lane `into` as its short-term memory at this step (the weights stay).
    /// An error names a lane without learned memory or a memory that does not fit; nothing
    /// changes then.
    pub fn implant(&mut self, into: usize, state: &MemoryState) -> anyhow::Result<()> {
        let Some(lane) = self.lanes.get_mut(into) else {
            anyhow::bail!("there is no lane {}", into + 1);
        };
        let Driver::Learned { controller, .. } = &mut lane.driver else {
            anyhow::bail!("lane {} has no learned memory to take", into + 1);
        };
        controller.set_memory_state(state)?;
        lane.memory = Some(controller.memory());
        self.rerecord();
        Ok(())
    }

    /// Wipes the short-term memory of lane `index`.
    pub fn forget(&mut self, index: usize) {
        if let Some(lane) = self.lanes.get_mut(index) {
            lane.forget();
            self.rerecord();
        }
    }

    /// Steps taken (the longest-running lane's).
    pub fn step_count(&self) -> u32 {
        self.lanes
            .iter()
            .map(|l| l.world.steps())
            .max()
            .unwrap_or(0)
    }

    /// Whether every lane's episode has ended.
    pub fn finished(&self) -> bool {
        self.lanes.iter().all(|l| l.world.outcome().is_some())
    }

    /// The lanes, in display order.
    pub fn lanes(&self) -> &[Lane] {
        &self.lanes
    }

    /// `name` for lane `index`, with the lane number when another lane drives the same kind
    /// ("rbf (lane 2)"), so two lanes of one kind can be told apart.
    pub fn numbered(&self, index: usize, name: &str) -> String {
        let kind = self.lanes.get(index).map(|l| &l.kind);
        if self.lanes.iter().filter(|l| Some(&l.kind) == kind).count() > 1 {
            format!("{name} (lane {})", index + 1)
        } else {
            name.to_owned()
        }
    }

    /// The lane at `index`, to change.
    pub fn lane_mut(&mut self, index: usize) -> Option<&mut Lane> {
        self.lanes.get_mut(index)
    }

    /// The scenario.
    pub fn spec(&self) -> &ScenarioSpec {
        &self.spec
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The step at which the learned controllers' cars first were more than `DIVERGENCE_M`
    /// apart.
    pub fn divergence_step(&self) -> Option<u32> {
        self.divergence_step
    }

    /// Recorded moments, oldest first.
    pub fn history(&self) -> &VecDeque<Moment> {
        &self.history
    }

    /// The recorded moment at `step`, if still kept.
    pub fn moment(&self, step: u32) -> Option<&Moment> {
        let first = self.history.front()?.step;
        let index = step.checked_sub(first)? as usize;
        self.history.get(index).filter(|m| m.step == step)
    }

    /// The recorded moments of the last `count` steps up to and including `step`, oldest
    /// first.
    pub fn moments_up_to(&self, step: u32, count: usize) -> impl Iterator<Item = &Moment> {
        let first = self.history.front().map_or(0, |m| m.step);
        let end = (step.saturating_sub(first) as usize + 1).min(self.history.len());
        let start = end.saturating_sub(count);
        self.history.range(start..end)
    }
}

/// A driver for the weight file at `path`, whatever kind of model it holds.
pub fn load_any_driver(path: &Path) -> anyhow::Result<Driver> {
    let file = memdrive_models::weights::WeightFile::load(path, &learned::builtin_layout())?;
    Ok(Driver::learned(file, path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use memdrive_sim::scenario::builtin;

    fn lab(with_expert: bool) -> Lab {
        let spec = builtin("occluded_crossing")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("built-in scenario"));
        Lab::new(spec, 7, with_expert, 1000).unwrap_or_else(|e| panic!("{e:#}"))
    }

    /// Every lane is the same episode as `memdrive run` gives for its controller: lockstep
    /// stepping changes nothing in any world.
    #[test]
    fn lanes_match_headless_episodes() {
        let mut lab = lab(true);
        while lab.step() {}
        for lane in lab.lanes() {
            let mut pilot = match lane.kind {
                LaneKind::Learned(kind) => memdrive_sim::Pilot::Sensing(
                    learned::load(kind, None)
                        .unwrap_or_else(|e| panic!("{e:#}"))
                        .controller(),
                ),
                LaneKind::Expert => memdrive_sim::Pilot::Privileged(Box::new(Expert::new())),
            };
            let headless = memdrive_sim::run_episode(lab.spec(), 7, &mut pilot);
            assert_eq!(
                format!("{:016x}", lane.world.metrics().trajectory_hash),
                headless.trajectory_hash,
                "{}",
                lane.kind.title()
            );
        }
    }

    /// An expert lane added mid-episode is replayed up to now: the other lanes keep their time,
    /// every recorded moment gets its frame, and the expert's episode is the same as if it had
    /// driven from the start.
    #[test]
    fn an_expert_lane_added_mid_episode_is_replayed_to_now() {
        let mut lab = lab(false);
        for _ in 0..50 {
            lab.step();
        }
        let before = lab.lanes()[1].world.metrics().trajectory_hash;
        lab.set_expert(true);
        assert_eq!(lab.step_count(), 50);
        assert_eq!(lab.lanes()[1].world.metrics().trajectory_hash, before);
        assert_eq!(lab.lanes()[3].world.steps(), 50);
        assert!(lab.history().iter().all(|m| m.lanes.len() == 4));
        let then = lab
            .moment(20)
            .unwrap_or_else(|| panic!("step 20 is recorded"));
        assert_eq!(then.lanes[3].world.steps(), 20);
        while lab.step() {}
        let headless = memdrive_sim::run_episode(
            lab.spec(),
            7,
            &mut memdrive_sim::Pilot::Privileged(Box::new(Expert::new())),
        );
        assert_eq!(
            format!("{:016x}", lab.lanes()[3].world.metrics().trajectory_hash),
            headless.trajectory_hash
        );
        // Removing it again leaves the others as they were.
        lab.set_expert(false);
        assert!(lab.history().iter().all(|m| m.lanes.len() == 3));
    }

    /// Every model gets its own identity, even one built from the same file.
    #[test]
    fn model_identities_are_never_reused() {
        let a = ModelId::fresh();
        let b = ModelId::fresh();
        assert_ne!(a, b);
        let lab = lab(false);
        let ids: Vec<ModelId> = lab.lanes().iter().filter_map(Lane::model_id).collect();
        assert_eq!(ids.len(), 3);
        assert!(ids.iter().all(|&id| id != a && id != b));
    }

    /// History keeps the last N moments, and each recorded memory is the one the lane held
    /// then.
    #[test]
    fn history_is_a_window_of_recorded_moments() {
        let spec = builtin("occluded_crossing")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("built-in scenario"));
        let mut lab = Lab::new(spec, 7, false, 20).unwrap_or_else(|e| panic!("{e:#}"));
        for _ in 0..30 {
            lab.step();
        }
        assert_eq!(lab.history().len(), 20);
        assert_eq!(lab.history().front().map(|m| m.step), Some(11));
        assert!(lab.moment(10).is_none());
        let m = lab.moment(30).unwrap_or_else(|| panic!("now is recorded"));
        assert_eq!(m.lanes[1].memory, lab.lanes()[1].memory);
        let recent: Vec<u32> = lab.moments_up_to(25, 5).map(|m| m.step).collect();
        assert_eq!(recent, vec![21, 22, 23, 24, 25]);
    }

    /// Forget clears the GRU's hidden state and the transformer's window; the RBF has nothing
    /// to clear and the weights stay.
    #[test]
    fn forget_clears_short_term_memory_only() {
        let mut lab = lab(false);
        for _ in 0..20 {
            lab.step();
        }
        for i in 0..3 {
            lab.forget(i);
        }
        let memory = |lab: &Lab, i: usize| {
            lab.lanes()[i]
                .memory
                .clone()
                .unwrap_or_else(|| panic!("lane {i} has memory"))
        };
        assert!(memory(&lab, 1).state().iter().all(|&h| h == 0.0));
        assert_eq!(memory(&lab, 2).frames_held(), Some(0));
        assert_eq!(lab.lanes()[1].forgotten_at, vec![20]);
        // Driving on works and refills the memory.
        lab.step();
        assert_eq!(memory(&lab, 2).frames_held(), Some(1));
    }

    /// Each lane's trajectory hash.
    fn hashes(lab: &Lab) -> Vec<u64> {
        lab.lanes()
            .iter()
            .map(|l| l.world.metrics().trajectory_hash)
            .collect()
    }

    /// Resuming from a recorded moment and playing on gives every lane, the expert's included,
    /// the very episode it had: worlds, memories and next controls come back bit for bit.
    #[test]
    fn resuming_from_the_past_replays_the_same_future() {
        let mut straight = lab(true);
        for _ in 0..150 {
            straight.step();
        }
        let mut branched = lab(true);
        for _ in 0..90 {
            branched.step();
        }
        branched.resume_from(40).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(branched.step_count(), 40);
        assert_eq!(branched.history().back().map(|m| m.step), Some(40));
        for _ in 0..110 {
            branched.step();
        }
        assert_eq!(hashes(&branched), hashes(&straight));
        // A moment no longer kept is an error that changes nothing.
        let mut short =
            Lab::new(straight.spec().clone(), 7, false, 10).unwrap_or_else(|e| panic!("{e:#}"));
        for _ in 0..30 {
            short.step();
        }
        let before = hashes(&short);
        assert!(short.resume_from(5).is_err());
        assert_eq!((short.step_count(), hashes(&short)), (30, before));
    }

    /// Rewind, forget on one lane, play on: that lane's future changes, the others' do not,
    /// and the forget is marked at the step of the branch.
    #[test]
    fn a_branch_with_a_forget_changes_only_that_lane() {
        let mut straight = lab(false);
        for _ in 0..200 {
            straight.step();
        }
        let mut branched = lab(false);
        for _ in 0..200 {
            branched.step();
        }
        branched.forget(1);
        branched.resume_from(60).unwrap_or_else(|e| panic!("{e:#}"));
        assert!(
            branched.lanes()[1].forgotten_at.is_empty(),
            "a later forget is undone"
        );
        branched.forget(1);
        assert_eq!(branched.lanes()[1].forgotten_at, vec![60]);
        for _ in 0..140 {
            branched.step();
        }
        let (a, b) = (hashes(&straight), hashes(&branched));
        assert_eq!((a[0], a[2]), (b[0], b[2]));
        assert_ne!(a[1], b[1], "forgetting at 6 s changed nothing the GRU did");
    }

    /// A transplant copies one lane's memory into another of the same kind; one that does not
    /// fit is refused and leaves the memory as it was.
    #[test]
    fn transplants_copy_memory_between_lanes_of_a_kind() {
        let mut lab = lab(false);
        let (file, source) = learned::load_file(memdrive_models::gru::KIND, None)
            .unwrap_or_else(|e| panic!("{e:#}"));
        let second = Driver::learned(file, &source).unwrap_or_else(|e| panic!("{e}"));
        assert!(lab.replace_driver_at(0, second).is_ok());
        for _ in 0..30 {
            lab.step();
        }
        lab.forget(0);
        let gru = lab.memory_state(1).map(|s| s.owner().to_owned());
        assert_eq!(gru.as_deref(), Some("a GRU of 64 units"));
        lab.transplant(1, 0).unwrap_or_else(|e| panic!("{e:#}"));
        let hidden = |lab: &Lab, i| {
            lab.memory_state(i)
                .and_then(|s| s.get::<memdrive_models::gru::HiddenState>().cloned())
        };
        assert!(hidden(&lab, 0).is_some_and(|h| h.0.iter().any(|&v| v != 0.0)));
        assert_eq!(hidden(&lab, 0), hidden(&lab, 1));
        let before = lab.lanes()[0].memory.clone();
        let err = lab.transplant(2, 0).err().map(|e| format!("{e:#}"));
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("transformer") && e.contains("GRU")),
            "{err:?}"
        );
        assert_eq!(lab.lanes()[0].memory, before);
    }
}
