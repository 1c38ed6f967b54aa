//! Memory instruments: measurements of what a controller remembers, computed from streams of
//! its memory snapshots and the ground truth beside them. No GUI here; the app and the CLI
//! both call these.
//!
//! - **Memory curve.** For every lag k = 0…L, a ridge readout from the controller's *state
//!   vector* at step t to what it observed at step t − k, scored by held-out R²(k); the
//!   capacity is Σₖ max(R²(k), 0). Beside it, R²(k) of the same readout from the current
//!   observation alone, so the world's autocorrelation is not mistaken for memory.
//! - **Belief probe.** A ridge readout from the state to where the nearest hidden pedestrian
//!   really is (relative to the car), scored on held-out episodes by time since it was last
//!   seen: the forgetting curve of a real object.
//! - **Influence.** ‖∂action_t / ∂observation_{t−k}‖ through the networks' own backward passes.
//!
//! State vectors: the RBF's unit activations; the GRU's hidden state; the transformer's value
//! cache, the value projection of every frame in its window ordered by age (K × d_model, zeros
//! for empty slots). The values, not the newest token's hidden vector: the values are
//! everything the attention can read from the window, one slot per frame, so a readout can
//! find any frame in it; the newest token's 32 numbers are a summary the network made for
//! acting, not its working memory. Keys are left out because they are another linear map of
//! the same normalised tokens and would add nothing a linear readout could use.
//!
//! Observation elements the memory curve reconstructs: the 32 lidar distances and the 8 ego
//! elements (speed, lane offset, heading error, kerb distances, curvature ahead), 40 of 136.
//! The other 96 are the beams' one-hot hit classes: binary flags, mostly constant, that say
//! again what the distances already say; a linear readout's R² on them mostly measures their
//! class balance. Elements that hardly vary in the held-out rows (less than 1% of their variance
//! in the training rows) are left out of the average: there R² would divide by almost nothing.
//! Readouts standardise their inputs, so no unit or scale of a state or an observation element
//! favours it; R² does not depend on units either.

pub mod live;
pub mod presence;
pub mod ridge;

pub use presence::{Presence, presence_probe};

use crate::{MemoryController, MemorySnapshot, Model};
use memdrive_sim::actors::ActorKind;
use memdrive_sim::geometry::Vec2;
use memdrive_sim::observation::{EgoField, Element};
use memdrive_sim::{Controller, Expert, ObservationSpec, Privileged, ScenarioSpec, World};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ridge::{Ridge, column_variances, r_squared};
use serde::Serialize;
use std::ops::Range;

/// Lags of the memory curve and the influence by default (4 s).
pub const DEFAULT_LAGS: usize = 40;
/// Steps of the white-noise probe by default.
pub const NOISE_STEPS: usize = 10_000;
/// First seed of probe episodes: apart from evaluation (below 1,000,000) and training seeds.
pub const PROBE_SEED_BASE: u64 = 2_000_000;
/// Share of a recording (in time) that readouts are fitted on; the rest scores them.
const TRAIN_SHARE: f64 = 0.7;
/// Width of the time-since-seen bins of the belief probe (s).
pub const BELIEF_BIN_S: f64 = 0.5;
/// Bins of the belief probe: 0–0.5 s … 3.5–4 s.
const BELIEF_BINS: usize = 8;

/// How observations reach the controller while its memory is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// Frames drawn independently at every step from a pool of real driving frames: lags are
    /// independent, so only memory can explain what is recovered from the past.
    Noise,
    /// Real episodes, driven by the controller itself.
    Driving,
}

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
    fn held_out_start(&self) -> usize {
        let split_episode = ((self.episodes.len() as f64) * TRAIN_SHARE).ceil() as usize;
        self.episodes
            .get(split_episode)
            .map_or(self.len(), |e| e.start)
    }

    fn push(&mut self, state: &[f32], input: &[f32], hidden: Option<HiddenActor>) {
        self.states.extend_from_slice(state);
        self.inputs.extend_from_slice(input);
        self.hidden.push(hidden);
    }

    fn append(&mut self, other: Self) {
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
struct Recorder {
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

fn empty_recording(model: &Model) -> Recording {
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

/// R²(k) for k = 0…L, with the current-observation baseline and the capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryCurve {
    /// The lags, in steps of 0.1 s.
    pub lags: Vec<usize>,
    /// Held-out R² of reading the observation k steps ago from the state now.
    pub r2: Vec<f64>,
    /// The same from the current observation alone.
    pub r2_current_only: Vec<f64>,
    /// Σₖ max(R²(k), 0) over k = 0…L.
    pub capacity: f64,
    /// The same over k ≥ 1 only (Jaeger's memory capacity): what is kept of the past, without
    /// the present.
    pub capacity_past: f64,
    /// Observation elements averaged over (those that vary in the held-out rows).
    pub elements: usize,
}

/// Rows usable for every lag up to `lags`, and where training rows end.
fn lagged_rows(rec: &Recording, lags: usize) -> (Vec<usize>, usize) {
    let rows: Vec<usize> = rec
        .episodes
        .iter()
        .flat_map(|e| (e.start + lags).min(e.end)..e.end)
        .collect();
    let split = (rows.len() as f64 * TRAIN_SHARE) as usize;
    (rows, split)
}

fn gather(data: &[f32], dim: usize, rows: &[usize], columns: Option<&[usize]>) -> DMatrix<f32> {
    match columns {
        None => DMatrix::from_fn(rows.len(), dim, |r, c| data[rows[r] * dim + c]),
        Some(cols) => {
            DMatrix::from_fn(rows.len(), cols.len(), |r, c| data[rows[r] * dim + cols[c]])
        }
    }
}

/// The memory curve of a recording over `elements` of the observation, for lags 0…`lags`.
pub fn memory_curve(rec: &Recording, elements: &[usize], lags: usize) -> MemoryCurve {
    memory_curves(&[rec], elements, lags, Some(1)).remove(0)
}

/// What the memory curves of recordings with the same inputs share: the lagged targets and
/// the current-observation baseline.
struct Lagged {
    rows: Vec<usize>,
    split: usize,
    /// (rows, elements × (lags + 1)): block k holds the observation k steps before each row.
    targets: DMatrix<f32>,
}

/// Memory curves of several recordings; recordings with identical inputs (the white-noise
/// probe feeds every controller the same frames) share their targets and baseline. The
/// recordings are fitted on up to `threads` threads (`None`: all cores); each fit is the same
/// computation whatever the thread count, so the curves are too.
pub fn memory_curves(
    recs: &[&Recording],
    elements: &[usize],
    lags: usize,
    threads: Option<usize>,
) -> Vec<MemoryCurve> {
    let m = elements.len();
    let mut shared: Vec<(&Recording, Lagged)> = Vec::new();
    let mut jobs = Vec::with_capacity(recs.len());
    for rec in recs {
        let same = |other: &Recording| other.inputs == rec.inputs && other.episodes == rec.episodes;
        let index = match shared.iter().position(|(other, _)| same(other)) {
            Some(i) => i,
            None => {
                let (rows, split) = lagged_rows(rec, lags);
                let targets = DMatrix::from_fn(rows.len(), m * (lags + 1), |r, c| {
                    let (k, e) = (c / m, elements[c % m]);
                    rec.inputs[(rows[r] - k) * rec.input_dim + e]
                });
                shared.push((
                    rec,
                    Lagged {
                        rows,
                        split,
                        targets,
                    },
                ));
                // The baseline is one more fit, run with the others.
                jobs.push((rec, shared.len() - 1, true));
                shared.len() - 1
            }
        };
        jobs.push((rec, index, false));
    }
    let shared_ref = &shared;
    let fitted = memdrive_sim::parallel::map_ordered(
        &jobs,
        threads,
        || (),
        |(), &(rec, index, baseline)| {
            let lagged = &shared_ref[index].1;
            let (data, dim) = if baseline {
                (&rec.inputs, rec.input_dim)
            } else {
                (&rec.states, rec.state_dim)
            };
            let features = gather(data, dim, &lagged.rows, None);
            score(&features, &lagged.targets, lagged.split, m, lags)
        },
    );
    let mut baselines: Vec<Option<Vec<f64>>> = vec![None; shared.len()];
    let mut curves = Vec::with_capacity(recs.len());
    for (&(_, index, baseline), (r2, counted)) in jobs.iter().zip(fitted) {
        if baseline {
            baselines[index] = Some(r2);
            continue;
        }
        curves.push(MemoryCurve {
            lags: (0..=lags).collect(),
            capacity: r2.iter().map(|v| v.max(0.0)).sum(),
            capacity_past: r2[1..].iter().map(|v| v.max(0.0)).sum(),
            r2,
            r2_current_only: Vec::new(),
            elements: counted,
        });
    }
    let mut job_index = jobs.iter().filter(|(_, _, b)| !*b).map(|(_, i, _)| *i);
    for curve in &mut curves {
        if let Some(i) = job_index.next() {
            curve.r2_current_only = baselines[i].clone().unwrap_or_default();
        }
    }
    curves
}

/// Fits `features → targets` on the first `split` rows, scores the rest: mean R² per lag block
/// of `m` columns, and how many columns were scored.
fn score(
    features: &DMatrix<f32>,
    targets: &DMatrix<f32>,
    split: usize,
    m: usize,
    lags: usize,
) -> (Vec<f64>, usize) {
    let test = features.nrows() - split;
    if split == 0 || test == 0 {
        return (vec![0.0; lags + 1], 0);
    }
    let ridge = Ridge::fit(
        &features.rows(0, split).into_owned(),
        &targets.rows(0, split).into_owned(),
    );
    let predicted = ridge.predict(&features.rows(split, test).into_owned());
    // An element scored only where it varies at least 1% as much as in the training rows.
    let floor: Vec<f64> = column_variances(&targets.rows(0, split).into_owned())
        .into_iter()
        .map(|v| 0.01 * v)
        .collect();
    let r2 = r_squared(&targets.rows(split, test).into_owned(), &predicted, &floor);
    let mut counted = 0;
    let per_lag = (0..=lags)
        .map(|k| {
            let scores: Vec<f64> = r2[k * m..(k + 1) * m].iter().flatten().copied().collect();
            counted = counted.max(scores.len());
            scores.iter().sum::<f64>() / scores.len().max(1) as f64
        })
        .collect();
    (per_lag, counted)
}

/// The belief probe's result.
#[derive(Clone, Debug, Serialize)]
pub struct Belief {
    /// Centre of each time-since-seen bin with held-out samples (s).
    pub time_since_seen_s: Vec<f64>,
    /// Mean distance between the decoded and the true position in each bin (m).
    pub error_m: Vec<f64>,
    /// The same for always guessing the mean training position: what "no memory" scores.
    pub baseline_m: Vec<f64>,
    /// Held-out samples in each bin.
    pub samples: Vec<usize>,
    /// The readout (state → position ahead, position left), for drawing ghosts.
    #[serde(skip)]
    pub readout: Option<Ridge>,
}

/// Fits the belief probe on the first part of `rec`'s episodes and scores it on the rest.
pub fn belief_probe(rec: &Recording) -> Belief {
    let boundary = rec.held_out_start();
    let rows = |range: Range<usize>| -> Vec<usize> {
        range.filter(|&t| rec.hidden[t].is_some()).collect()
    };
    let (train, test) = (rows(0..boundary), rows(boundary..rec.len()));
    let empty = Belief {
        time_since_seen_s: Vec::new(),
        error_m: Vec::new(),
        baseline_m: Vec::new(),
        samples: Vec::new(),
        readout: None,
    };
    if train.len() < 20 || test.is_empty() {
        return empty;
    }
    let target = |rows: &[usize]| {
        DMatrix::from_fn(rows.len(), 2, |r, c| {
            rec.hidden[rows[r]].map_or(0.0, |h| h.relative_m[c])
        })
    };
    let ridge = Ridge::fit(
        &gather(&rec.states, rec.state_dim, &train, None),
        &target(&train),
    );
    let predicted = ridge.predict(&gather(&rec.states, rec.state_dim, &test, None));
    let train_targets = target(&train);
    let mean = [
        train_targets.column(0).mean(),
        train_targets.column(1).mean(),
    ];
    let mut sums = [[0.0f64; 2]; BELIEF_BINS];
    let mut counts = [0usize; BELIEF_BINS];
    for (r, &t) in test.iter().enumerate() {
        let Some(h) = rec.hidden[t] else { continue };
        let bin = (h.time_since_seen_s / BELIEF_BIN_S) as usize;
        if bin >= BELIEF_BINS {
            continue;
        }
        let distance = |p: [f32; 2]| {
            f64::from(p[0] - h.relative_m[0]).hypot(f64::from(p[1] - h.relative_m[1]))
        };
        sums[bin][0] += distance([predicted[(r, 0)], predicted[(r, 1)]]);
        sums[bin][1] += distance(mean);
        counts[bin] += 1;
    }
    let kept: Vec<usize> = (0..BELIEF_BINS).filter(|&b| counts[b] > 0).collect();
    Belief {
        time_since_seen_s: kept
            .iter()
            .map(|&b| (b as f64 + 0.5) * BELIEF_BIN_S)
            .collect(),
        error_m: kept
            .iter()
            .map(|&b| sums[b][0] / counts[b] as f64)
            .collect(),
        baseline_m: kept
            .iter()
            .map(|&b| sums[b][1] / counts[b] as f64)
            .collect(),
        samples: kept.iter().map(|&b| counts[b]).collect(),
        readout: Some(ridge),
    }
}

/// ‖∂action_t / ∂observation_{t−k}‖ (normalised observation, squashed action) for k = 0…`lags`
/// at the step `t` whose observations end `raw` (row-major, oldest first, as the sensors gave
/// them), with `state_before` the recurrent state before the first of them (GRU only).
pub fn influence_at(model: &Model, raw: &[f32], state_before: &[f32], lags: usize) -> Vec<f64> {
    let dim = model.normaliser().dim();
    let frames = raw.len() / dim.max(1);
    let mut inputs = vec![0.0; frames * dim];
    for (x, out) in raw.chunks_exact(dim).zip(inputs.chunks_exact_mut(dim)) {
        model.normaliser().apply(x, out);
    }
    let mut out = vec![0.0; lags + 1];
    if frames == 0 {
        return out;
    }
    let by_lag = model.net().input_influence(&inputs, state_before);
    for (o, v) in out.iter_mut().zip(by_lag) {
        *o = v;
    }
    out
}

/// Mean influence by lag over up to `samples` steps of `rec` spread evenly over it (steps with
/// at least `lags` earlier steps in their episode).
pub fn influence(model: &Model, rec: &Recording, lags: usize, samples: usize) -> Vec<f64> {
    let (rows, _) = lagged_rows(rec, lags + 1);
    let mut total = vec![0.0; lags + 1];
    if rows.is_empty() || samples == 0 {
        return total;
    }
    let stride = (rows.len() / samples).max(1);
    let picked: Vec<usize> = rows.iter().step_by(stride).take(samples).copied().collect();
    let dim = rec.input_dim;
    for &t in &picked {
        let first = t - lags;
        let before = &rec.states[(first - 1) * rec.state_dim..first * rec.state_dim];
        let v = influence_at(model, &rec.inputs[first * dim..(t + 1) * dim], before, lags);
        for (a, b) in total.iter_mut().zip(v) {
            *a += b / picked.len() as f64;
        }
    }
    total
}

#[cfg(test)]
mod tests;
