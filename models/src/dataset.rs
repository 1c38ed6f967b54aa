//! Imitation data: observations labelled with the expert's action, from episodes driven by the
//! expert (behaviour cloning) or by a learner (DAgger: the learner drives, the expert labels
//! the states the learner reaches).

use crate::action::ActionScale;
use memdrive_sim::parallel::map_ordered;
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controller, Expert, Outcome, Privileged, ScenarioSpec, World};
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

    /// Appends another dataset's episodes.
    pub fn extend(&mut self, other: Self) {
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
    /// A learner; each worker makes its own instance. After each episode it ends in a
    /// collision, the episode is driven again once per entry of `recover_s`: the learner until
    /// that many seconds before the impact, then the expert, for `RECOVERY_S` more seconds —
    /// the learner's own way into its crash, with the expert's way out of it.
    Learner(
        &'a (dyn Fn() -> Box<dyn Controller + Send> + Sync),
        &'a [f64],
    ),
}

/// How long the expert drives in a recovery episode before it ends (s).
pub const RECOVERY_S: f64 = 5.0;

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
    let recover_s: &[f64] = match driver {
        Driver::Expert => &[],
        Driver::Learner(_, recover_s) => recover_s,
    };
    let episodes = map_ordered(
        &jobs,
        threads,
        || match driver {
            Driver::Expert => None,
            Driver::Learner(make, _) => Some(make()),
        },
        |learner, &(s, seed)| {
            let mut episodes = Vec::new();
            match learner {
                None => episodes.push(drive(&specs[s], seed, None, None)),
                Some(l) => {
                    let first = drive(&specs[s], seed, Some(l.as_mut()), None);
                    let impact = first.collided_at;
                    episodes.push(first);
                    for &back_s in recover_s.iter().filter(|_| impact.is_some()) {
                        // Steps are 0.1 s; the expert takes over `back_s` before the impact.
                        let back = (back_s / DT_SECS).round() as u32;
                        let handover = impact.map(|i| i.saturating_sub(back));
                        episodes.push(drive(&specs[s], seed, Some(l.as_mut()), handover));
                    }
                }
            }
            if let Some(done) = done {
                done.fetch_add(1, Ordering::Relaxed);
            }
            episodes
        },
    );
    let mut data = Dataset::default();
    for episode in episodes.into_iter().flatten() {
        let start = data.len();
        data.dim = episode.dim;
        data.observations.extend(episode.observations);
        data.targets.extend(episode.targets);
        data.presence.extend(episode.presence);
        data.episodes.push(start..data.len());
    }
    data
}

/// One labelled episode, and the step of its collision if it ended in one.
struct Episode {
    dim: usize,
    observations: Vec<f32>,
    targets: Vec<f32>,
    presence: Vec<f32>,
    collided_at: Option<u32>,
}

/// Drives seed `seed` of `spec`, the expert labelling every step: the learner drives when
/// given, the expert otherwise and from step `handover` on (then for `RECOVERY_S` only).
fn drive(
    spec: &ScenarioSpec,
    seed: u64,
    mut learner: Option<&mut (dyn Controller + Send)>,
    handover: Option<u32>,
) -> Episode {
    let scale = ActionScale::default();
    let mut world = World::new(spec, seed);
    let mut expert = Expert::new();
    expert.reset();
    if let Some(l) = learner.as_deref_mut() {
        l.reset();
    }
    let end = handover.map(|h| h + (RECOVERY_S / DT_SECS).round() as u32);
    let (mut observations, mut targets, mut presence) = (Vec::new(), Vec::new(), Vec::new());
    world.run(|w| {
        if end.is_some_and(|e| w.steps() >= e) {
            return None;
        }
        let label = expert.act_in(w);
        observations.extend_from_slice(w.observation().values());
        targets.extend_from_slice(&scale.raw(label));
        presence.push(f32::from(u8::from(hidden_ahead(w))));
        let expert_drives = handover.is_some_and(|h| w.steps() >= h);
        Some(match learner.as_deref_mut() {
            Some(l) if !expert_drives => l.act(w.observation()),
            _ => label,
        })
    });
    let collided_at = (world.outcome() == Some(Outcome::Collision)).then(|| world.steps());
    Episode {
        dim: world.observation().values().len(),
        observations,
        targets,
        presence,
        collided_at,
    }
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
    }

    /// A learner that drives on at cruise speed crashes into the crossing pedestrian; each of
    /// its crashes is driven again once per handover: the same rows as the crash until the
    /// expert takes over, then at most `RECOVERY_S` of the expert's driving.
    #[test]
    fn crashes_are_driven_again_with_the_expert_taking_over() {
        let spec = builtin("occluded_crossing")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("occluded_crossing"));
        let specs = std::slice::from_ref(&spec);
        let make = || -> Box<dyn Controller + Send> { Box::new(memdrive_sim::Cruise::new(9.0)) };
        let row = |d: &Dataset, r: usize| d.observations[r * d.dim..(r + 1) * d.dim].to_vec();
        let mut crashes = 0;
        for seed in 0..6 {
            let seeds = [seed..seed + 1];
            let seeds = seeds.as_slice();
            let plain = collect(specs, seeds, &Driver::Learner(&make, &[]), Some(1));
            let again = collect(specs, seeds, &Driver::Learner(&make, &[1.0, 2.5]), Some(2));
            let crash = &plain.episodes[0];
            let mut pilot = memdrive_sim::Pilot::Sensing(make());
            let outcome = memdrive_sim::run_episode(&spec, seed, &mut pilot).outcome;
            if outcome != Outcome::Collision {
                assert_eq!(again, plain, "seed {seed}: no crash, nothing driven again");
                continue;
            }
            crashes += 1;
            assert_eq!(again.episodes.len(), 3, "seed {seed}");
            assert_eq!(again.episodes[0], *crash);
            for (r, back) in again.episodes[1..].iter().zip([10, 25]) {
                let handover = crash.len() - back;
                assert!(
                    r.len() > handover && r.len() <= handover + 50,
                    "{} rows",
                    r.len()
                );
                for k in 0..handover {
                    assert_eq!(row(&again, r.start + k), row(&plain, k), "row {k}");
                }
                // From the handover on the expert drives: the rows part from the crash's.
                assert!(
                    (handover..crash.len().min(r.len()))
                        .any(|k| row(&again, r.start + k) != row(&plain, k))
                );
            }
            assert_eq!(again.presence.len(), again.len());
        }
        assert!(crashes > 0, "the cruising learner never crashed");
    }
}
