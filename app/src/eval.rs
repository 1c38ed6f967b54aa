//! `memdrive eval`: many episodes in parallel, aggregated per controller and scenario.
//!
//! Episodes are independent and each is deterministic, so they are handed out to worker
//! threads in any order and put back in (controller, scenario, seed) order before aggregating:
//! the result is the same, bit for bit, whatever the thread count.

use memdrive_sim::parallel::map_ordered;
use memdrive_sim::{Controller, EpisodeResult, Outcome, ScenarioSpec, run_episode};
use serde::Serialize;
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
}

/// Makes fresh instances of one controller; loading (and failing) happened before.
pub type Factory = Box<dyn Fn() -> Box<dyn Controller + Send> + Sync>;

/// Runs every (controller, scenario, seed) on `threads` workers (default: all cores).
pub fn evaluate(
    specs: &[ScenarioSpec],
    seeds: Range<u64>,
    controllers: &[Factory],
    threads: Option<usize>,
) -> Vec<EvalRow> {
    let mut jobs: Vec<(usize, usize, u64)> = Vec::new();
    for c in 0..controllers.len() {
        for s in 0..specs.len() {
            jobs.extend(seeds.clone().map(|seed| (c, s, seed)));
        }
    }
    // One controller instance per worker and controller, made on first use; `reset` starts
    // every episode.
    let episodes = map_ordered(
        &jobs,
        threads,
        || -> Vec<Option<Box<dyn Controller + Send>>> {
            controllers.iter().map(|_| None).collect()
        },
        |drivers, &(c, s, seed)| {
            let driver = drivers[c].get_or_insert_with(|| controllers[c]());
            run_episode(&specs[s], seed, driver.as_mut())
        },
    );
    let per_group = (seeds.end - seeds.start) as usize;
    episodes.chunks(per_group).map(aggregate).collect()
}

fn aggregate(group: &[EpisodeResult]) -> EvalRow {
    let n = group.len() as f64;
    let rate = |o: Outcome| group.iter().filter(|r| r.outcome == o).count() as f64 / n;
    EvalRow {
        controller: group[0].controller.clone(),
        scenario: group[0].scenario.clone(),
        episodes: group.len(),
        goal_rate: rate(Outcome::Goal),
        collision_rate: rate(Outcome::Collision),
        offroad_rate: rate(Outcome::OffRoad),
        timeout_rate: rate(Outcome::Timeout),
        mean_speed_mps: group.iter().map(|r| r.mean_speed_mps).sum::<f64>() / n,
        mean_progress_m: group.iter().map(|r| r.progress_m).sum::<f64>() / n,
    }
}

/// The rows as an aligned text table.
pub fn table(rows: &[EvalRow]) -> String {
    let mut out = format!(
        "{:<12} {:<18} {:>8} {:>7} {:>10} {:>8} {:>8} {:>10} {:>12}\n",
        "controller",
        "scenario",
        "episodes",
        "goal",
        "collision",
        "offroad",
        "timeout",
        "speed m/s",
        "progress m"
    );
    for r in rows {
        out += &format!(
            "{:<12} {:<18} {:>8} {:>6.1}% {:>9.1}% {:>7.1}% {:>7.1}% {:>10.2} {:>12.1}\n",
            r.controller,
            r.scenario,
            r.episodes,
            100.0 * r.goal_rate,
            100.0 * r.collision_rate,
            100.0 * r.offroad_rate,
            100.0 * r.timeout_rate,
            r.mean_speed_mps,
            r.mean_progress_m
        );
    }
    out
}
