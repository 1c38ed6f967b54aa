//! The comparison the app shows, as plain data: one world per controller, stepped in lockstep
//! on the same scenario and seed, with a recorded history of every world and every memory
//! snapshot. Nothing here knows egui; the views draw it and the tests drive it.

mod lane;
mod long_term;

pub use lane::{Driver, DriverState, Lane, LaneFrame};
pub use long_term::LongTermMemory;

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

/// Every lane at one step.
#[derive(Clone, Debug)]
pub struct Moment {
    /// Control steps since the start.
    pub step: u32,
    /// One frame per lane, in lane order.
    pub lanes: Vec<LaneFrame>,
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
                "lane {} has no window of frames to shrink (a transformer has one)",
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

    /// Switches part of learned lane `index`'s memory off (`Some(ablation id)`, one its kind
    /// offers) or back on (`None`), and restarts every lane so the comparison stays fair. The
    /// lane's model takes the identity of that ablation of its file (a new one the first time):
    /// what was computed from the whole model (probes, curves) is not reused for the ablated
    /// one, and is found again when the ablation is switched back. An error names the lane or
    /// the ablation; nothing changes then.
    pub fn set_ablation(&mut self, index: usize, ablation: Option<&str>) -> anyhow::Result<()> {
        let Some(lane) = self.lanes.get_mut(index) else {
            anyhow::bail!("there is no lane {}", index + 1);
        };
        let Driver::Learned {
            model,
            file,
            controller,
            long_term,
            window_limit,
            ids,
        } = &mut lane.driver
        else {
            anyhow::bail!("lane {} has no learned driver", index + 1);
        };
        let whole = Model::from_file((**file).clone(), Path::new(&long_term.source))?;
        let next = match ablation {
            Some(a) => whole.ablated(a)?,
            None => whole,
        };
        let next_controller = next.controller_with_window(*window_limit)?;
        let key = next.ablation().map(|a| a.id);
        if !ids.iter().any(|(k, _)| *k == key) {
            ids.push((key, ModelId::fresh()));
        }
        *model = next;
        *controller = next_controller;
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
        lane.transplanted_at.push(lane.world.steps());
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
        match self.lane_number(index) {
            Some(n) => format!("{name} (lane {n})"),
            None => name.to_owned(),
        }
    }

    /// The number lane `index` is shown with (from 1) when another lane drives the same kind.
    pub fn lane_number(&self, index: usize) -> Option<usize> {
        let kind = self.lanes.get(index).map(|l| &l.kind);
        (self.lanes.iter().filter(|l| Some(&l.kind) == kind).count() > 1).then_some(index + 1)
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
mod tests;
