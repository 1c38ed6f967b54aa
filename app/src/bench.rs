//! `memdrive bench`: throughput of the world alone, single thread.
//!
//! The world is stepped with the trivial `cruise` controller on `mixed_traffic` at its own
//! actor count and scaled to 50 and 200 actors. Each figure is the median of several timed
//! rounds; only `World::step` (physics, traffic, lidar, observation) is inside the timer.

use anyhow::Result;
use memdrive_sim::scenario::builtin;
use memdrive_sim::{Controller, Cruise, World};
use serde::Serialize;
use std::time::{Duration, Instant};

/// Steps per timed round.
const STEPS_PER_ROUND: u32 = 20_000;
/// Timed rounds; the median is reported.
const ROUNDS: usize = 7;

/// One configuration's throughput.
#[derive(Clone, Debug, Serialize)]
pub struct WorldBench {
    /// Actors in the world.
    pub actors: usize,
    /// Lidar beams.
    pub rays: usize,
    /// Median control steps per second.
    pub sim_steps_per_s: f64,
}

/// Everything `bench` measures.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Actors in `mixed_traffic` as shipped.
    pub actors: usize,
    /// Lidar beams.
    pub rays: usize,
    /// Median control steps per second for `mixed_traffic` as shipped.
    pub sim_steps_per_s: f64,
    /// The same measurement at 50 and 200 actors.
    pub scaling: Vec<WorldBench>,
}

fn measure(spec: &memdrive_sim::ScenarioSpec) -> WorldBench {
    let mut driver = Cruise::new(12.0);
    let mut seed = 0;
    let mut world = World::new(spec, seed);
    let (actors, rays) = (world.actors().len(), world.lidar().beams());
    let mut rates = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut elapsed = Duration::ZERO;
        let mut steps = 0;
        while steps < STEPS_PER_ROUND {
            if world.outcome().is_some() {
                seed += 1;
                world = World::new(spec, seed);
                driver.reset();
            }
            let controls = driver.act(world.observation());
            let start = Instant::now();
            world.step(controls);
            elapsed += start.elapsed();
            steps += 1;
        }
        rates.push(f64::from(steps) / elapsed.as_secs_f64());
    }
    rates.sort_by(f64::total_cmp);
    WorldBench {
        actors,
        rays,
        sim_steps_per_s: rates[ROUNDS / 2],
    }
}

/// Runs the benchmark.
pub fn run() -> Result<BenchReport> {
    let spec = builtin("mixed_traffic")
        .ok_or_else(|| anyhow::anyhow!("mixed_traffic is not built in"))??;
    let base = measure(&spec);
    let scaling = [50, 200]
        .map(|n| measure(&spec.with_actor_count(n)))
        .to_vec();
    Ok(BenchReport {
        actors: base.actors,
        rays: base.rays,
        sim_steps_per_s: base.sim_steps_per_s,
        scaling,
    })
}

/// The report as text.
pub fn text(report: &BenchReport) -> String {
    let mut out = format!(
        "world step, mixed_traffic, {} rays, single thread (median of {ROUNDS} rounds of {STEPS_PER_ROUND} steps)\n",
        report.rays
    );
    out += &format!(
        "  {:>4} actors: {:>10.0} steps/s\n",
        report.actors, report.sim_steps_per_s
    );
    for b in &report.scaling {
        out += &format!(
            "  {:>4} actors: {:>10.0} steps/s\n",
            b.actors, b.sim_steps_per_s
        );
    }
    out
}
