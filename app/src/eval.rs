//! `memdrive eval`: many episodes in parallel, aggregated per controller and scenario.
//!
//! Episodes are independent and each is deterministic, so they are handed out to worker
//! threads in any order and put back in (controller, scenario, seed) order before aggregating:
//! the result is the same, bit for bit, whatever the thread count.

use memdrive_sim::parallel::map_ordered;
use memdrive_sim::world::{Knowledge, Victim};
use memdrive_sim::{EpisodeResult, Outcome, Pilot, ScenarioSpec, run_episode};
use serde::Serialize;
use std::collections::BTreeMap;
use std::ops::Range;

/// Aggregate of one controller on one scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalRow {
    /// Controller name.
    pub controller: String,
    /// Scenario name.
    pub scenario: String,
    /// Episodes run.
    pub episodes: usize,
    /// Share that reached the goal.
    pub goal_rate: f64,
    /// Share that ended in a collision.
    pub collision_rate: f64,
    /// Share that left the road.
    pub offroad_rate: f64,
    /// Share that timed out.
    pub timeout_rate: f64,
    /// Mean over episodes of the mean speed (m/s).
    pub mean_speed_mps: f64,
    /// Mean progress along the road (m).
    pub mean_progress_m: f64,
    /// The collisions, classified.
    pub collisions: CollisionCounts,
}

/// Collisions counted by what the sensors knew of the actor hit (`in_view`: reported during the
/// last second before impact, a failure of driving; `forgotten`: seen before but not in the
/// last second, a failure of memory; `never_seen`) and, within each kind of actor, the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CollisionCounts {
    /// Over every kind of actor.
    #[serde(flatten)]
    pub total: KnowledgeCounts,
    /// Per kind of actor: `pedestrian`, `moving_car`, `parked_vehicle`.
    pub by_actor: BTreeMap<&'static str, KnowledgeCounts>,
}

/// Collisions by what the sensors knew.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KnowledgeCounts {
    /// In view when hit.
    pub in_view: usize,
    /// Seen before, not in the last second.
    pub forgotten: usize,
    /// Never seen.
    pub never_seen: usize,
}

impl KnowledgeCounts {
    fn add(&mut self, knowledge: Knowledge) {
        match knowledge {
            Knowledge::InView => self.in_view += 1,
            Knowledge::Forgotten => self.forgotten += 1,
            Knowledge::NeverSeen => self.never_seen += 1,
        }
    }
}

impl Default for CollisionCounts {
    fn default() -> Self {
        Self {
            total: KnowledgeCounts::default(),
            by_actor: Victim::ALL
                .iter()
                .map(|v| (v.as_str(), KnowledgeCounts::default()))
                .collect(),
        }
    }
}

impl CollisionCounts {
    fn add(&mut self, victim: Victim, knowledge: Knowledge) {
        self.total.add(knowledge);
        self.by_actor
            .entry(victim.as_str())
            .or_default()
            .add(knowledge);
    }
}

/// Makes fresh instances of one controller; loading (and failing) happened before.
pub type Factory = Box<dyn Fn() -> Pilot + Send + Sync>;

/// Episodes handed to the workers at a time: results are tallied block by block, so a seed
/// range of any length needs no more memory than this many results.
const BLOCK: u64 = 4096;

/// Runs every (controller, scenario, seed) on `threads` workers (default: all cores).
pub fn evaluate(
    specs: &[ScenarioSpec],
    seeds: Range<u64>,
    controllers: &[Factory],
    threads: Option<usize>,
) -> Vec<EvalRow> {
    evaluate_in_blocks(specs, seeds, controllers, threads, BLOCK)
}

fn evaluate_in_blocks(
    specs: &[ScenarioSpec],
    seeds: Range<u64>,
    controllers: &[Factory],
    threads: Option<usize>,
    block: u64,
) -> Vec<EvalRow> {
    let per_group = u128::from(seeds.end.saturating_sub(seeds.start));
    let groups = controllers.len() * specs.len();
    let total = per_group * groups as u128;
    let mut tallies: Vec<Tally> = (0..groups).map(|_| Tally::default()).collect();
    let mut start = 0u128;
    while start < total {
        let end = (start + u128::from(block)).min(total);
        // (group, seed) of every episode of this block, in (controller, scenario, seed) order.
        let jobs: Vec<(usize, u64)> = (start..end)
            .map(|i| {
                let group = (i / per_group) as usize;
                (group, seeds.start + (i % per_group) as u64)
            })
            .collect();
        // One controller instance per worker and controller, made on first use; `reset`
        // starts every episode.
        let episodes = map_ordered(
            &jobs,
            threads,
            || -> Vec<Option<Pilot>> { controllers.iter().map(|_| None).collect() },
            |drivers, &(group, seed)| {
                let (c, s) = (group / specs.len(), group % specs.len());
                let driver = drivers[c].get_or_insert_with(|| controllers[c]());
                run_episode(&specs[s], seed, driver)
            },
        );
        for ((group, _), episode) in jobs.iter().zip(&episodes) {
            tallies[*group].add(episode);
        }
        start = end;
    }
    tallies.iter().map(Tally::row).collect()
}

/// Running sums of one (controller, scenario), added to in seed order so that the result is
/// the same bits however the episodes were split into blocks.
#[derive(Default)]
struct Tally {
    controller: String,
    scenario: String,
    episodes: usize,
    outcomes: [usize; 4],
    speed_sum: f64,
    progress_sum: f64,
    collisions: CollisionCounts,
}

impl Tally {
    fn add(&mut self, r: &EpisodeResult) {
        if self.episodes == 0 {
            self.controller.clone_from(&r.controller);
            self.scenario.clone_from(&r.scenario);
        }
        self.episodes += 1;
        let slot = match r.outcome {
            Outcome::Goal => 0,
            Outcome::Collision => 1,
            Outcome::OffRoad => 2,
            Outcome::Timeout => 3,
        };
        self.outcomes[slot] += 1;
        self.speed_sum += r.mean_speed_mps;
        self.progress_sum += r.progress_m;
        if let Some(c) = r.collision {
            self.collisions.add(c.victim, c.knowledge);
        }
    }

    fn row(&self) -> EvalRow {
        let n = self.episodes.max(1) as f64;
        let rate = |slot: usize| self.outcomes[slot] as f64 / n;
        EvalRow {
            controller: self.controller.clone(),
            scenario: self.scenario.clone(),
            episodes: self.episodes,
            goal_rate: rate(0),
            collision_rate: rate(1),
            offroad_rate: rate(2),
            timeout_rate: rate(3),
            mean_speed_mps: self.speed_sum / n,
            mean_progress_m: self.progress_sum / n,
            collisions: self.collisions.clone(),
        }
    }
}

/// The rows as an aligned text table; the last column splits the collisions into in view /
/// forgotten / never seen.
pub fn table(rows: &[EvalRow]) -> String {
    // As wide as the longest name ("hebbian:no-plasticity=my.safetensors"), so columns align.
    let w = rows
        .iter()
        .map(|r| r.controller.chars().count())
        .max()
        .unwrap_or(0)
        .max(16);
    let mut out = format!(
        "{:<w$} {:<18} {:>8} {:>7} {:>10} {:>8} {:>8} {:>10} {:>12}  {}\n",
        "controller",
        "scenario",
        "episodes",
        "goal",
        "collision",
        "offroad",
        "timeout",
        "speed m/s",
        "progress m",
        "collisions: in view/forgotten/never seen"
    );
    for r in rows {
        let c = &r.collisions.total;
        out += &format!(
            "{:<w$} {:<18} {:>8} {:>6.1}% {:>9.1}% {:>7.1}% {:>7.1}% {:>10.2} {:>12.1}  {}/{}/{}\n",
            r.controller,
            r.scenario,
            r.episodes,
            100.0 * r.goal_rate,
            100.0 * r.collision_rate,
            100.0 * r.offroad_rate,
            100.0 * r.timeout_rate,
            r.mean_speed_mps,
            r.mean_progress_m,
            c.in_view,
            c.forgotten,
            c.never_seen
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use memdrive_sim::{Cruise, Expert};

    /// Blocks cut across groups (7 does not divide 10 seeds): the rows are the same bits.
    #[test]
    fn rows_do_not_depend_on_the_block_size_or_the_thread_count() {
        let specs = ["lead_brake", "cut_in"]
            .map(|n| memdrive_sim::scenario::builtin(n).and_then(Result::ok));
        let specs: Vec<ScenarioSpec> = specs.into_iter().flatten().collect();
        assert_eq!(specs.len(), 2);
        let factories: Vec<Factory> = vec![
            Box::new(|| Pilot::Privileged(Box::new(Expert::new()))),
            Box::new(|| Pilot::Sensing(Box::new(Cruise::new(12.0)))),
        ];
        let whole = evaluate_in_blocks(&specs, 0..10, &factories, Some(1), 4096);
        let blocks = evaluate_in_blocks(&specs, 0..10, &factories, Some(2), 7);
        assert_eq!(whole, blocks);
        assert_eq!(whole.len(), 4);
        assert!(whole.iter().all(|r| r.episodes == 10));
        assert_eq!(
            (whole[2].controller.as_str(), whole[2].scenario.as_str()),
            ("cruise", "lead_brake")
        );
    }
}
