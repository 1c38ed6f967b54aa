//! One lane of the comparison: a world, its driver, and what the driver carries from one
//! step to the next.

use super::*;

/// What drives a lane.
pub enum Driver {
    /// A learned controller, with the file its weights came from (kept for saving).
    Learned {
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
        /// Who the model from this file is under each ablation met so far (`None`: whole), for
        /// caches of what was computed from it: switching one off and on again finds them.
        ids: Vec<(Option<&'static str>, ModelId)>,
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
            ids: vec![(None, ModelId::fresh())],
            model,
            file: Arc::new(file),
            controller,
            long_term,
            window_limit: None,
        })
    }

    pub(super) fn controller(&mut self) -> &mut dyn Controller {
        match self {
            Self::Learned { controller, .. } => controller.as_mut(),
            Self::Expert(expert) => expert.as_mut(),
        }
    }

    /// The controls of the next step in `world`: only the expert reads the ground truth.
    pub(super) fn act(&mut self, world: &World) -> Controls {
        match self {
            Self::Learned { controller, .. } => controller.act(world.observation()),
            Self::Expert(expert) => expert.act_in(world),
        }
    }

    pub(super) fn memory(&self) -> Option<MemorySnapshot> {
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
    /// Steps at which a memory was transplanted in.
    pub transplanted_at: Vec<u32>,
}

impl Lane {
    pub(super) fn new(kind: LaneKind, driver: Driver, spec: &ScenarioSpec, seed: u64) -> Self {
        let mut lane = Self {
            kind,
            driver,
            world: World::new(spec, seed),
            memory: None,
            pending: Controls::default(),
            forgotten_at: Vec::new(),
            transplanted_at: Vec::new(),
        };
        lane.restart(spec, seed);
        lane
    }

    pub(super) fn restart(&mut self, spec: &ScenarioSpec, seed: u64) {
        self.world = World::new(spec, seed);
        self.driver.controller().reset();
        self.forgotten_at.clear();
        self.transplanted_at.clear();
        self.read();
    }

    /// The driver reads the current observation: memory updated, next controls chosen.
    pub(super) fn read(&mut self) {
        if self.world.outcome().is_some() {
            self.pending = Controls::default();
            return;
        }
        self.pending = self.driver.act(&self.world);
        self.memory = self.driver.memory();
    }

    pub(super) fn step(&mut self) -> bool {
        if self.world.outcome().is_some() {
            return false;
        }
        self.world.step(self.pending);
        self.read();
        true
    }

    pub(super) fn frame(&self) -> LaneFrame {
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
    pub(super) fn resume(&mut self, frame: &LaneFrame, step: u32) -> anyhow::Result<()> {
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
        self.transplanted_at.retain(|&s| s <= step);
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
            Driver::Learned { ids, model, .. } => {
                let key = model.ablation().map(|a| a.id);
                let (_, id) = ids.iter().find(|(k, _)| *k == key)?;
                Some((*id, model))
            }
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

    /// How the lane's network differs from its weights at run time, as the command line writes
    /// it after the kind: `@K` for a shrunk window, `:ID` for an ablation ("" when as trained).
    pub fn variant(&self) -> String {
        let window = self
            .window_limit()
            .map(|k| format!("@{k}"))
            .unwrap_or_default();
        window + &self.ablation_suffix()
    }

    /// The shipped weights the lane drives, when it drives some: its kind's default ones or
    /// others shipped with it (the 64-frame transformer), told apart by where they came from.
    pub fn shipped(&self) -> Option<memdrive_models::Bundled> {
        let (LaneKind::Learned(kind), Some(long_term)) = (self.kind, self.long_term()) else {
            return None;
        };
        kind.bundled().into_iter().find(|b| {
            memdrive_models::weights::bundled_path(b.name)
                .display()
                .to_string()
                == long_term.source
        })
    }

    /// The lane's controller as the command line names it: a kind's id, or the name of the
    /// other shipped weights it drives ("transformer64").
    pub fn controller_name(&self) -> &'static str {
        match self.kind {
            LaneKind::Learned(kind) => self.shipped().map_or(kind.as_str(), |b| b.name),
            LaneKind::Expert => "expert",
        }
    }

    /// `:ID` for a lane whose network runs with an ablation, "" otherwise.
    pub fn ablation_suffix(&self) -> String {
        self.model()
            .and_then(Model::ablation)
            .map(|a| format!(":{}", a.id))
            .unwrap_or_default()
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
