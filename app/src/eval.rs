//! `memdrive eval`: many episodes in parallel, aggregated per controller and scenario.
//!
//! Episodes are independent and each is deterministic, so they are handed out to worker
//! threads in any order and put back in (controller, scenario, seed) order before aggregating:
//! the result is the same, bit for bit, whatever the thread count.

use anyhow::Result;
use memdrive_sim::{Controller, EpisodeResult, Outcome, ScenarioSpec, run_episode};
use serde::Serialize;
use std::ops::Range;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

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

/// Runs every (controller, scenario, seed) on `threads` workers (default: all cores).
pub fn evaluate<F>(
    specs: &[ScenarioSpec],
    seeds: Range<u64>,
    controllers: &[String],
    threads: Option<usize>,
    make: F,
) -> Result<Vec<EvalRow>>
where
    F: Fn(&str) -> Result<Box<dyn Controller + Send>> + Sync,
{
    let mut jobs: Vec<(usize, usize, u64)> = Vec::new();
    for c in 0..controllers.len() {
        for s in 0..specs.len() {
            jobs.extend(seeds.clone().map(|seed| (c, s, seed)));
        }
    }
    let results: Vec<Mutex<Option<EpisodeResult>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let workers = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .clamp(1, jobs.len().max(1));
    let failure: Mutex<Option<anyhow::Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                // One controller instance per worker and name; `reset` starts every episode.
                let mut drivers: Vec<Option<Box<dyn Controller + Send>>> =
                    controllers.iter().map(|_| None).collect();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(c, s, seed)) = jobs.get(i) else {
                        break;
                    };
                    if drivers[c].is_none() {
                        match make(&controllers[c]) {
                            Ok(d) => drivers[c] = Some(d),
                            Err(e) => {
                                *failure
                                    .lock()
                                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(e);
                                break;
                            }
                        }
                    }
                    if let Some(driver) = drivers[c].as_mut() {
                        let r = run_episode(&specs[s], seed, driver.as_mut());
                        *results[i]
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(r);
                    }
                }
            });
        }
    });
    if let Some(e) = failure
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        return Err(e);
    }
    let episodes: Vec<EpisodeResult> = results
        .into_iter()
        .filter_map(|m| {
            m.into_inner()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
        .collect();
    let per_group = seeds.end - seeds.start;
    Ok(episodes.chunks(per_group as usize).map(aggregate).collect())
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
