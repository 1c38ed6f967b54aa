//! Recordings: a controller's state vector, what it observed and where hidden pedestrians
//! really were, step by step, under the white-noise probe or in its own driving.

use super::*;

/// Where a hidden pedestrian really is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HiddenActor {
    /// Position relative to the car: metres ahead, metres to the left.
    pub relative_m: [f32; 2],
    /// Seconds since the car's sensors last saw it.
    pub time_since_seen_s: f64,
}

/// One controller's stream of states, with what it observed and the ground truth.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    /// Length of a state vector.
    pub state_dim: usize,
    /// Length of an observation.
    pub input_dim: usize,
    /// (steps, state_dim): the state after acting on each step's observation.
    pub states: Vec<f32>,
    /// (steps, input_dim): each step's observation, as the sensors gave it.
    pub inputs: Vec<f32>,
    /// Rows of each episode.
    pub episodes: Vec<Range<usize>>,
    /// The nearest hidden pedestrian at each step, if any.
    pub hidden: Vec<Option<HiddenActor>>,
}

impl Recording {
    /// Steps recorded.
    pub fn len(&self) -> usize {
        self.hidden.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.hidden.is_empty()
    }

    /// First row of the held-out episodes: probes fit on the first `TRAIN_SHARE` of the
    /// episodes (rounded up) and score on the rest.
    pub(super) fn held_out_start(&self) -> usize {
        let split_episode = ((self.episodes.len() as f64) * TRAIN_SHARE).ceil() as usize;
        self.episodes
            .get(split_episode)
            .map_or(self.len(), |e| e.start)
    }

    pub(super) fn push(&mut self, state: &[f32], input: &[f32], hidden: Option<HiddenActor>) {
        self.states.extend_from_slice(state);
        self.inputs.extend_from_slice(input);
        self.hidden.push(hidden);
    }

    pub(super) fn append(&mut self, other: Self) {
        let offset = self.len();
        self.states.extend(other.states);
        self.inputs.extend(other.inputs);
        self.hidden.extend(other.hidden);
        self.episodes.extend(
            other
                .episodes
                .into_iter()
                .map(|e| e.start + offset..e.end + offset),
        );
    }
}

/// Length of `model`'s state vector.
pub fn state_dim(model: &Model) -> usize {
    model.net().state_dim()
}

/// What the state vector of `model` is, in words.
pub fn state_description(model: &Model) -> &'static str {
    model.net().state_description()
}

/// Writes the state vector of `snapshot` into `out` (zeros where it is shorter).
pub fn state_vector(snapshot: &MemorySnapshot, out: &mut [f32]) {
    out.fill(0.0);
    copy_prefix(out, snapshot.state());
}

/// Copies as much of `from` as fits into the start of `out`.
pub(crate) fn copy_prefix(out: &mut [f32], from: &[f32]) {
    let n = out.len().min(from.len());
    out[..n].copy_from_slice(&from[..n]);
}

/// The observation elements the memory curve reconstructs: lidar distances and ego state.
pub fn curve_elements(spec: &ObservationSpec) -> Vec<usize> {
    (0..spec.beams())
        .map(|b| spec.ray_distance(b))
        .chain(EgoField::ALL.map(|f| spec.index(Element::Ego(f))))
        .collect()
}

/// The nearest active pedestrian the car does not see now but saw before, relative to the car.
pub fn nearest_hidden_pedestrian(world: &World) -> Option<HiddenActor> {
    let truth = world.truth();
    let ego = world.ego();
    let origin = ego.center(world.limits());
    let (sin, cos) = ego.pose.heading_rad.sin_cos();
    world
        .actors()
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            a.active && a.kind == ActorKind::Pedestrian && !truth.visibility[*i].visible_now
        })
        .filter_map(|(i, a)| {
            let seen = truth.time_since_seen_s(i)?;
            let d: Vec2 = a.body.center - origin;
            Some((d.length(), d, seen))
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, d, seen)| HiddenActor {
            relative_m: [
                (d.x * cos + d.y * sin) as f32,
                (-d.x * sin + d.y * cos) as f32,
            ],
            time_since_seen_s: seen,
        })
}

/// Records a controller of a model acting on one observation.
pub(super) struct Recorder {
    controller: Box<dyn MemoryController + Send>,
    state: Vec<f32>,
}

impl Recorder {
    fn new(model: &Model) -> Self {
        Self {
            controller: model.controller(),
            state: vec![0.0; state_dim(model)],
        }
    }

    fn act(
        &mut self,
        obs: &memdrive_sim::Observation,
        hidden: Option<HiddenActor>,
        out: &mut Recording,
    ) -> memdrive_sim::Controls {
        let controls = self.controller.act(obs);
        state_vector(&self.controller.memory(), &mut self.state);
        out.push(&self.state, obs.values(), hidden);
        controls
    }
}

pub(super) fn empty_recording(model: &Model) -> Recording {
    Recording {
        state_dim: state_dim(model),
        input_dim: model.normaliser().dim(),
        ..Recording::default()
    }
}

/// Raw observations of the expert driving `episodes` probe seeds of every scenario in `specs`:
/// the pool the white-noise probe draws its frames from.
pub fn noise_pool(specs: &[ScenarioSpec], episodes: u64, threads: Option<usize>) -> Vec<f32> {
    let jobs: Vec<(usize, u64)> = (0..specs.len())
        .flat_map(|s| (0..episodes).map(move |e| (s, PROBE_SEED_BASE + e)))
        .collect();
    memdrive_sim::parallel::map_ordered(&jobs, threads, Expert::new, |expert, &(s, seed)| {
        let mut world = World::new(&specs[s], seed);
        let mut frames = Vec::new();
        expert.reset();
        world.run(|w| {
            frames.extend_from_slice(w.observation().values());
            Some(expert.act_in(w))
        });
        frames
    })
    .concat()
}

/// The controller of `model` fed `steps` frames drawn independently and uniformly from `pool`
/// (raw observations of `spec`'s layout), as one episode.
pub fn record_noise(
    model: &Model,
    pool: &[f32],
    spec: &std::sync::Arc<ObservationSpec>,
    steps: usize,
    seed: u64,
) -> Recording {
    let dim = spec.len();
    let frames = pool.len() / dim.max(1);
    let mut out = empty_recording(model);
    if frames == 0 {
        return out;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut recorder = Recorder::new(model);
    let mut obs = memdrive_sim::Observation::zeros(spec.clone());
    recorder.controller.reset();
    for _ in 0..steps {
        let i = rng.random_range(0..frames);
        obs.copy_from(&pool[i * dim..(i + 1) * dim]);
        recorder.act(&obs, None, &mut out);
    }
    out.episodes.push(0..steps);
    out
}

/// The controller of `model` driving `seeds` of `spec` itself, with the ground truth of hidden
/// pedestrians beside every step.
pub fn record_driving(
    model: &Model,
    spec: &ScenarioSpec,
    seeds: Range<u64>,
    threads: Option<usize>,
) -> Recording {
    let seeds: Vec<u64> = seeds.collect();
    let parts = memdrive_sim::parallel::map_ordered(
        &seeds,
        threads,
        || Recorder::new(model),
        |recorder, &seed| {
            let mut out = empty_recording(model);
            let mut world = World::new(spec, seed);
            recorder.controller.reset();
            world.run(|w| {
                let hidden = nearest_hidden_pedestrian(w);
                Some(recorder.act(w.observation(), hidden, &mut out))
            });
            out.episodes.push(0..out.len());
            out
        },
    );
    let mut all = empty_recording(model);
    for part in parts {
        all.append(part);
    }
    all
}
