//! Running whole episodes: one controller, one scenario, one seed, start to outcome.

use crate::controller::Pilot;
use crate::scenario::ScenarioSpec;
use crate::world::{Collision, Outcome, World};

/// What one episode came to.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct EpisodeResult {
    /// Scenario name.
    pub scenario: String,
    /// Seed it was sampled with.
    pub seed: u64,
    /// Controller name.
    pub controller: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Control steps taken.
    pub steps: u32,
    /// Distance made along the road (m).
    pub progress_m: f64,
    /// Mean speed (m/s).
    pub mean_speed_mps: f64,
    /// Smallest time-to-collision with anything ahead in the path (s); `null` if never closing.
    pub min_ttc_s: Option<f64>,
    /// Mean absolute longitudinal jerk (m/s³).
    pub mean_abs_jerk: f64,
    /// Hash of the exact bits of every ego state, as 16 hex digits.
    pub trajectory_hash: String,
    /// What was hit and what the sensors knew of it, when the outcome is a collision.
    pub collision: Option<Collision>,
}

/// Steps `world` with `pilot`, reset first, until the episode ends.
pub fn drive(world: &mut World, pilot: &mut Pilot) {
    pilot.reset();
    world.run(|w| Some(pilot.act(w)));
}

/// Runs one episode of `spec` with `seed`.
pub fn run_episode(spec: &ScenarioSpec, seed: u64, controller: &mut Pilot) -> EpisodeResult {
    let mut world = World::new(spec, seed);
    drive(&mut world, controller);
    let m = world.metrics();
    EpisodeResult {
        scenario: spec.name.clone(),
        seed,
        controller: controller.name().to_owned(),
        // `drive` only returns once there is an outcome.
        outcome: world.outcome().unwrap_or(Outcome::Timeout),
        steps: world.steps(),
        progress_m: m.progress_m,
        mean_speed_mps: m.mean_speed_mps,
        min_ttc_s: m.min_ttc_s,
        mean_abs_jerk: m.mean_abs_jerk_mps3,
        trajectory_hash: format!("{:016x}", m.trajectory_hash),
        collision: world.collision(),
    }
}
