//! Imitation data: observations labelled with the expert's action, from episodes driven by the
//! expert (behaviour cloning) or by a learner (DAgger: the learner drives, the expert labels
//! the states the learner reaches).

use crate::action::ActionScale;
use memdrive_sim::parallel::map_ordered;
use memdrive_sim::{Controller, Expert, ObservationSpec, Privileged, ScenarioSpec, World};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Episode seeds used for training start here; evaluation uses seeds below it, so the two
/// never overlap.
pub const TRAIN_SEED_BASE: u64 = 1_000_000;

/// Labelled observations, grouped into the episodes they came from.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// Elements per observation.
    pub dim: usize,
    /// Observations, row-major.
    pub observations: Vec<f32>,
    /// The expert's action for each observation, pre-`tanh` (`ActionScale::raw`), 2 per row.
    pub targets: Vec<f32>,
    /// Row ranges of each episode, in order.
    pub episodes: Vec<Range<usize>>,
    /// For each row, 1 when a pedestrian the car saw is hidden ahead of it now (the ground
    /// truth of [`hidden_ahead`]), else 0: the target of the auxiliary presence loss, never an
    /// input.
    pub presence: Vec<f32>,
    /// For each row, how far the driver's acceleration was from the expert's label, in the
    /// squashed action space (`ActionScale::squashed`, 0 to 1.96): the learner's own mistakes
    /// when a learner drove, 0 on the expert's rows.
    pub mistakes: Vec<f32>,
}

impl Dataset {
    /// Number of labelled observations.
    pub fn len(&self) -> usize {
        self.targets.len() / 2
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// The car's own speed at each row (m/s): the observation's `speed_mps`, which follows
    /// the beams (`memdrive_sim::observation`).
    pub fn speeds(&self) -> Vec<f32> {
        use memdrive_sim::observation::{EgoField, Element};
        if self.dim == 0 {
            return Vec::new();
        }
        // Four numbers per beam, then the car's own fields.
        let layout = ObservationSpec::new(self.dim.saturating_sub(EgoField::ALL.len()) / 4);
        assert_eq!(layout.len(), self.dim, "observations of another layout");
        let at = layout.index(Element::Ego(EgoField::Speed));
        self.observations
            .chunks_exact(self.dim)
            .map(|row| row[at])
            .collect()
    }

    /// Appends another dataset's episodes.
    pub fn extend(&mut self, other: Self) {
        if other.episodes.is_empty() {
            return;
        }
        if self.dim == 0 {
            self.dim = other.dim;
        }
        assert_eq!(self.dim, other.dim);
        let offset = self.len();
        self.episodes.extend(
            other
                .episodes
                .into_iter()
                .map(|r| r.start + offset..r.end + offset),
        );
        self.observations.extend(other.observations);
        self.targets.extend(other.targets);
        self.presence.extend(other.presence);
        self.mistakes.extend(other.mistakes);
    }
}

/// Whether the nearest pedestrian the car saw before and does not see now is ahead of it: what
/// a driver with memory should keep in mind. Ground truth, for training targets only. (Counting
/// only pedestrians within 30 m ahead and 6 m to the side trained a GRU that forgot in
/// `memory_gap`; see docs/memory-horizon.md.)
pub fn hidden_ahead(world: &World) -> bool {
    crate::memory::nearest_hidden_pedestrian(world).is_some_and(|h| h.relative_m[0] > 0.0)
}

/// Who drives while the expert labels.
pub enum Driver<'a> {
    /// The expert itself (behaviour cloning).
    Expert,
    /// A learner; each worker makes its own instance.
    Learner(&'a (dyn Fn() -> Box<dyn Controller + Send> + Sync)),
}

/// One episode per scenario and seed (`seeds[i]` for `specs[i]`), in parallel; the result does
/// not depend on `threads`.
pub fn collect(
    specs: &[ScenarioSpec],
    seeds: &[Range<u64>],
    driver: &Driver<'_>,
    threads: Option<usize>,
) -> Dataset {
    collect_counted(specs, seeds, driver, threads, None)
}

/// [`collect`], adding one to `done` as each episode finishes (for progress reports).
pub fn collect_counted(
    specs: &[ScenarioSpec],
    seeds: &[Range<u64>],
    driver: &Driver<'_>,
    threads: Option<usize>,
    done: Option<&AtomicUsize>,
) -> Dataset {
    assert_eq!(specs.len(), seeds.len(), "one seed range per scenario");
    let jobs: Vec<(usize, u64)> = seeds
        .iter()
        .enumerate()
        .flat_map(|(s, range)| range.clone().map(move |seed| (s, seed)))
        .collect();
    let scale = ActionScale::default();
    let episodes = map_ordered(
        &jobs,
        threads,
        || match driver {
            Driver::Expert => None,
            Driver::Learner(make) => Some(make()),
        },
        |learner, &(s, seed)| {
            let mut world = World::new(&specs[s], seed);
            let mut expert = Expert::new();
            expert.reset();
            if let Some(l) = learner.as_mut() {
                l.reset();
            }
            let (mut obs, mut targets, mut presence) = (Vec::new(), Vec::new(), Vec::new());
            let mut mistakes = Vec::new();
            world.run(|w| {
                let label = expert.act_in(w);
                obs.extend_from_slice(w.observation().values());
                targets.extend_from_slice(&scale.raw(label));
                presence.push(f32::from(u8::from(hidden_ahead(w))));
                let act = match learner.as_mut() {
                    Some(l) => l.act(w.observation()),
                    None => label,
                };
                mistakes.push((scale.squashed(act)[1] - scale.squashed(label)[1]).abs());
                Some(act)
            });
            if let Some(done) = done {
                done.fetch_add(1, Ordering::Relaxed);
            }
            let dim = world.observation().values().len();
            (dim, obs, targets, presence, mistakes)
        },
    );
    let mut data = Dataset::default();
    for (dim, obs, targets, presence, mistakes) in episodes {
        let start = data.len();
        data.dim = dim;
        data.observations.extend(obs);
        data.targets.extend(targets);
        data.presence.extend(presence);
        data.mistakes.extend(mistakes);
        data.episodes.push(start..data.len());
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;
    use memdrive_sim::scenario::builtin;

    #[test]
    fn expert_data_has_one_label_per_observation_and_does_not_depend_on_threads() {
        let spec = builtin("cut_in")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("cut_in"));
        let seeds = std::slice::from_ref(&(0..3));
        let one = collect(std::slice::from_ref(&spec), seeds, &Driver::Expert, Some(1));
        let two = collect(std::slice::from_ref(&spec), seeds, &Driver::Expert, Some(2));
        assert_eq!(one, two);
        assert_eq!(one.episodes.len(), 3);
        assert_eq!(one.observations.len(), one.len() * one.dim);
        assert_eq!(one.episodes.last().map(|r| r.end), Some(one.len()));
        assert!(one.targets.iter().all(|t| t.is_finite()));
        assert_eq!(one.presence.len(), one.len());
        // The expert driving makes no mistakes.
        assert_eq!(one.mistakes, vec![0.0; one.len()]);
        // Its speeds are read off the observations: finite, never negative, and the car
        // drives.
        let speeds = one.speeds();
        assert_eq!(speeds.len(), one.len());
        assert!(speeds.iter().all(|v| v.is_finite() && *v >= 0.0));
        assert!(speeds.iter().any(|v| *v > 5.0));
    }

    /// A learner's rows record how far its acceleration was from the label, in the squashed
    /// action space: a car that keeps cruising where the expert brakes for the car cutting in
    /// makes mistakes.
    #[test]
    fn a_learners_rows_record_its_mistakes() {
        let spec = builtin("cut_in")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("cut_in"));
        let make = || -> Box<dyn Controller + Send> { Box::new(memdrive_sim::Cruise::new(10.0)) };
        let seeds = std::slice::from_ref(&(0..2));
        let data = collect(
            std::slice::from_ref(&spec),
            seeds,
            &Driver::Learner(&make),
            Some(2),
        );
        assert_eq!(data.mistakes.len(), data.len());
        assert!(data.mistakes.iter().all(|m| (0.0..=1.96).contains(m)));
        let scale = ActionScale::default();
        // Each row's mistake, recomputed from the stored label and what cruising asks for on
        // the stored observation (it keeps no memory, so one frame is all it reads).
        let layout = std::sync::Arc::new(ObservationSpec::of(&spec));
        let mut obs = memdrive_sim::Observation::zeros(layout);
        for (r, &m) in data.mistakes.iter().enumerate() {
            obs.copy_from(&data.observations[r * data.dim..(r + 1) * data.dim]);
            let cruise = scale.squashed(make().act(&obs))[1];
            let label = data.targets[2 * r + 1].tanh();
            assert!((m - (cruise - label).abs()).abs() < 1e-4, "row {r}: {m}");
        }
        let big = data.mistakes.iter().filter(|&&m| m >= 0.3).count();
        assert!(
            big > 0,
            "cruising into a cut-in never differs from braking for it"
        );
    }
}
