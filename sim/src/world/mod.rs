//! The world: one episode of a scenario, stepped at a fixed 10 Hz.
//!
//! `World::new` samples a scenario for a seed; `step` applies the ego's controls, moves every
//! actor, checks the outcome and senses. The observation holds only what the sensors and the
//! car's own state give; the ground truth (`truth`) holds everything, kept apart.

mod collision;
mod placement;
mod sensing;
mod traffic;

pub use collision::{Collision, IN_VIEW_WINDOW_S, Knowledge, Victim};

use crate::actors::{Actor, ActorKind, Idm};
use crate::geometry::{OrientedBox, Pose, Vec2, wrap_angle};
use crate::lidar::{Hit, Lidar, LidarScan};
use crate::observation::{
    CURVATURE_LOOKAHEAD_M, EgoField, Element, Observation, ObservationSpec, RayField,
};
use crate::road::{Frenet, Road};
use crate::scenario::ScenarioSpec;
use crate::vehicle::{Controls, EgoState, VehicleLimits};
use placement::Placer;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::Arc;

/// Control step (s).
pub const DT_SECS: f64 = 0.1;
/// Physics substeps per control step.
pub const SUBSTEPS: u32 = 4;
/// Marker for the ego in lane-occupancy lists.
const EGO: usize = usize::MAX;

/// How an episode ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Reached the goal.
    Goal,
    /// Touched another actor.
    Collision,
    /// Left the carriageway.
    #[serde(rename = "offroad")]
    OffRoad,
    /// Ran out of time.
    Timeout,
}

impl Outcome {
    /// The name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Goal => "goal",
            Self::Collision => "collision",
            Self::OffRoad => "offroad",
            Self::Timeout => "timeout",
        }
    }
}

/// Whether the ego's sensors see an actor, and since when they have not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visibility {
    /// Some beam reports this actor now.
    pub visible_now: bool,
    /// The last step at which some beam reported it.
    pub last_seen_step: Option<u32>,
    /// First step of the current sighting: the run of steps in which it was reported, gaps of
    /// up to `SIGHTING_GAP_STEPS` bridged.
    pub sighting_start_step: Option<u32>,
    /// It was seen in an earlier sighting, before a longer gap.
    pub seen_before: bool,
}

/// Steps without a report that still count as one sighting (0.3 s): a beam sector can lose a
/// small actor for a step or two while it is plainly in view.
pub const SIGHTING_GAP_STEPS: u32 = 3;

impl Visibility {
    fn reported(&mut self, step: u32) {
        match self.last_seen_step {
            Some(last) if step - last <= SIGHTING_GAP_STEPS => {}
            Some(_) => {
                self.seen_before = true;
                self.sighting_start_step = Some(step);
            }
            None => self.sighting_start_step = Some(step),
        }
        self.visible_now = true;
        self.last_seen_step = Some(step);
    }
}

/// Everything true about the world now, for the expert and the instruments. Learned
/// controllers never receive it.
#[derive(Clone, Copy, Debug)]
pub struct GroundTruth<'a> {
    /// The road.
    pub road: &'a Road,
    /// The ego car.
    pub ego: &'a EgoState,
    /// The ego's body centre in Frenet coordinates.
    pub ego_frenet: Frenet,
    /// The ego car's limits and size.
    pub limits: &'a VehicleLimits,
    /// Every actor (inactive ones included, marked so).
    pub actors: &'a [Actor],
    /// Per actor, whether it is seen.
    pub visibility: &'a [Visibility],
    /// Steps taken so far.
    pub step: u32,
    /// The speed the ego should aim for on a free road (m/s).
    pub cruise_speed_mps: f64,
    /// Where the episode succeeds (m along the road).
    pub goal_s_m: f64,
}

impl GroundTruth<'_> {
    /// Seconds since the actor was last seen, `None` if never.
    pub fn time_since_seen_s(&self, actor: usize) -> Option<f64> {
        self.visibility[actor]
            .last_seen_step
            .map(|s| f64::from(self.step - s) * DT_SECS)
    }
}

/// Episode statistics gathered while stepping.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metrics {
    /// Distance travelled along the road (m).
    pub progress_m: f64,
    /// Mean speed over the steps taken (m/s).
    pub mean_speed_mps: f64,
    /// Smallest time-to-collision with anything ahead in the ego's path (s), if ever closing.
    pub min_ttc_s: Option<f64>,
    /// Mean absolute longitudinal jerk (m/s³).
    pub mean_abs_jerk_mps3: f64,
    /// FNV-1a over the exact bits of every ego state.
    pub trajectory_hash: u64,
}

#[derive(Clone, Debug)]
struct MetricsAccumulator {
    speed_sum: f64,
    jerk_sum: f64,
    jerk_count: u32,
    min_ttc_s: Option<f64>,
    hash: u64,
}

impl MetricsAccumulator {
    fn new() -> Self {
        Self {
            speed_sum: 0.0,
            jerk_sum: 0.0,
            jerk_count: 0,
            min_ttc_s: None,
            hash: 0xcbf2_9ce4_8422_2325,
        }
    }

    fn hash_ego(&mut self, ego: &EgoState) {
        for v in [
            ego.pose.pos_in_world.x,
            ego.pose.pos_in_world.y,
            ego.pose.heading_rad,
            ego.speed_mps,
        ] {
            for byte in v.to_bits().to_le_bytes() {
                self.hash ^= u64::from(byte);
                self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
}

/// One lane-occupancy record: where along the road, and who.
#[derive(Clone, Copy, Debug)]
struct Occupant {
    s_m: f64,
    who: usize,
}

/// One episode of a scenario.
#[derive(Clone, Debug)]
pub struct World {
    scenario_name: String,
    seed: u64,
    road: Arc<Road>,
    limits: VehicleLimits,
    lidar: Lidar,
    idm: Idm,
    noise_std_m: f64,
    dropouts: Vec<(f64, f64)>,
    cruise_speed_mps: f64,
    start_s_m: f64,
    goal_s_m: f64,
    max_steps: u32,
    ego: EgoState,
    ego_frenet: Frenet,
    /// Heading of the road at the ego's position (rad), computed once per step.
    ego_road_heading_rad: f64,
    actors: Vec<Actor>,
    visibility: Vec<Visibility>,
    scan: LidarScan,
    observation: Observation,
    step: u32,
    outcome: Option<Outcome>,
    collision: Option<Collision>,
    /// Actors taken away at a time (the memory gap's barrier lifting): (actor, time in s).
    removals: Vec<(usize, f64)>,
    /// The memory gap's hazard: where they hide and whether they are present this seed.
    gap_hazard: Option<(f64, bool)>,
    /// The memory gap: where the car is past every place the hazard may hide, and where it is
    /// timed in seeds without the hazard (`Placer::gap_marks`).
    gap_marks: Option<(f64, f64)>,
    metrics: MetricsAccumulator,
    noise_rng: ChaCha8Rng,
    lanes: Vec<Vec<Occupant>>,
}

impl World {
    /// Samples the scenario for `seed` and senses once, ready for the first control step.
    pub fn new(spec: &ScenarioSpec, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let pieces: Vec<(f64, f64)> = spec
            .road
            .pieces
            .iter()
            .map(|p| {
                (
                    p.length_m.sample(&mut rng),
                    p.curvature_per_m.sample(&mut rng),
                )
            })
            .collect();
        let lane_count = spec.road.lane_count as usize;
        let road = Arc::new(Road::new(
            lane_count,
            spec.road.lane_width_m,
            spec.road.verge_m,
            &pieces,
        ));
        let mut limits = VehicleLimits::default();
        if let Some(a) = spec.ego.max_accel_mps2 {
            limits.max_accel_mps2 = a;
        }
        let lidar = Lidar::new(spec.lidar.beams as usize, spec.lidar.range_m);
        let ego_lane = spec.ego.lane as usize;
        let start_s_m = spec.ego.start_s_m.sample(&mut rng);
        let speed_mps = spec.ego.speed_mps.sample(&mut rng);
        let cruise_speed_mps = spec.ego.cruise_speed_mps.sample(&mut rng);
        let goal_s_m = spec.ego.goal_s_m.sample(&mut rng);
        let center = road.pose_at(start_s_m, road.lane_center_d_m(ego_lane));
        let ego = EgoState {
            pose: Pose {
                pos_in_world: center.pos_in_world
                    - Vec2::from_angle(center.heading_rad) * limits.rear_axle_to_center_m,
                heading_rad: center.heading_rad,
            },
            speed_mps,
            steer_rad: 0.0,
            accel_mps2: 0.0,
        };
        let noise_std_m = spec.faults.noise_std_m.sample(&mut rng);
        let dropouts: Vec<(f64, f64)> = spec
            .faults
            .dropouts
            .iter()
            .map(|d| {
                let start = d.start_s.sample(&mut rng);
                (start, start + d.duration_s.sample(&mut rng))
            })
            .collect();
        let mut placer = Placer {
            rng: &mut rng,
            road: &road,
            actors: Vec::new(),
            first_dropout_s: dropouts.first().map(|d| d.0),
            parked_actors: Vec::new(),
            walk_to_pause: Vec::new(),
            pedestrian_at: Vec::new(),
            hiding_place: None,
            hazard_actor: None,
        };
        placer.place_scripted(spec);
        let removals = placer.barrier_lifts(spec);
        let gap_hazard = placer.gap_hazard(spec);
        let gap_marks = placer.gap_marks(spec);
        if let Some(t) = &spec.random_traffic {
            placer.place_random(t, ego_lane, start_s_m, goal_s_m);
        }
        let actors = placer.actors;
        let obs_spec = Arc::new(ObservationSpec::of(spec));
        let mut world = Self {
            scenario_name: spec.name.clone(),
            seed,
            road,
            limits,
            lidar,
            idm: Idm::default(),
            noise_std_m,
            dropouts,
            cruise_speed_mps,
            start_s_m,
            goal_s_m,
            max_steps: (spec.duration_s / DT_SECS).round() as u32,
            ego,
            ego_frenet: Frenet::default(),
            ego_road_heading_rad: 0.0,
            visibility: vec![Visibility::default(); actors.len()],
            actors,
            scan: LidarScan::default(),
            observation: Observation::zeros(obs_spec),
            step: 0,
            outcome: None,
            collision: None,
            removals,
            gap_hazard,
            gap_marks,
            metrics: MetricsAccumulator::new(),
            noise_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x005e_ed0f_5e75_0a11),
            lanes: vec![Vec::new(); lane_count],
        };
        world.ego_frenet = world.road.project(world.ego.center(&world.limits));
        world.ego_road_heading_rad = world.road.center_pose_at(world.ego_frenet.s_m).heading_rad;
        world.update_actor_poses();
        world.sense();
        world.metrics.hash_ego(&world.ego);
        world
    }

    /// The episode loop, the only one in memdrive: until the episode ends, `decide` reads the
    /// world as it is and gives the controls of the next step (`None` stops early). Every
    /// episode — `run`, `eval`, training data, the instruments, the benchmarks — goes through
    /// it; the app steps the same way one step per frame.
    pub fn run(&mut self, mut decide: impl FnMut(&World) -> Option<Controls>) {
        while self.outcome.is_none() {
            let Some(controls) = decide(self) else {
                return;
            };
            self.step(controls);
        }
    }

    /// Applies `controls` for one control step. Does nothing once the episode has ended.
    pub fn step(&mut self, controls: Controls) {
        if self.outcome.is_some() {
            return;
        }
        let mut controls = self.limits.clamp(controls);
        let time_s = self.time_s();
        // A car waiting at a memory gap's closed barrier is held there (its handbrake on): it
        // cannot roll forward, so how it waits cannot carry what it saw, in its speed or in
        // where it stands, past the moment the barrier lifts.
        if self.removals.iter().any(|&(_, at_s)| time_s < at_s) {
            controls.accel_mps2 = controls.accel_mps2.min(0.0);
        }
        for &(actor, at_s) in &self.removals {
            if time_s >= at_s {
                self.actors[actor].active = false;
            }
        }
        self.fill_lanes();
        for i in 0..self.actors.len() {
            if self.actors[i].active {
                self.move_actor(i, time_s);
            }
        }
        let accel_before = self.ego.accel_mps2;
        self.ego.advance(controls, &self.limits, DT_SECS, SUBSTEPS);
        self.step += 1;
        self.ego_frenet = self
            .road
            .project_near(self.ego.center(&self.limits), self.ego_frenet.s_m);
        self.ego_road_heading_rad = self.road.center_pose_at(self.ego_frenet.s_m).heading_rad;
        self.update_actor_poses();
        self.outcome = self.check_outcome();
        self.sense();
        let m = &mut self.metrics;
        m.speed_sum += self.ego.speed_mps;
        if self.step > 1 {
            m.jerk_sum += (self.ego.accel_mps2 - accel_before).abs() / DT_SECS;
            m.jerk_count += 1;
        }
        m.hash_ego(&self.ego);
        self.track_ttc();
    }

    /// Name of the scenario.
    pub fn scenario_name(&self) -> &str {
        &self.scenario_name
    }

    /// The seed it was sampled with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The road.
    pub fn road(&self) -> &Arc<Road> {
        &self.road
    }

    /// The ego car's state.
    pub fn ego(&self) -> &EgoState {
        &self.ego
    }

    /// The ego car's limits and size.
    pub fn limits(&self) -> &VehicleLimits {
        &self.limits
    }

    /// The ego's body centre in Frenet coordinates.
    pub fn ego_frenet(&self) -> Frenet {
        self.ego_frenet
    }

    /// Every actor, inactive ones included.
    pub fn actors(&self) -> &[Actor] {
        &self.actors
    }

    /// Per actor, whether the sensors see it.
    pub fn visibility(&self) -> &[Visibility] {
        &self.visibility
    }

    /// The latest lidar sweep.
    pub fn scan(&self) -> &LidarScan {
        &self.scan
    }

    /// The lidar.
    pub fn lidar(&self) -> &Lidar {
        &self.lidar
    }

    /// What a controller sees now.
    pub fn observation(&self) -> &Observation {
        &self.observation
    }

    /// Control steps taken.
    pub fn steps(&self) -> u32 {
        self.step
    }

    /// Time since the start (s).
    pub fn time_s(&self) -> f64 {
        f64::from(self.step) * DT_SECS
    }

    /// Steps after which the episode times out.
    pub fn max_steps(&self) -> u32 {
        self.max_steps
    }

    /// The goal, along the road (m).
    pub fn goal_s_m(&self) -> f64 {
        self.goal_s_m
    }

    /// The ego's cruise speed (m/s).
    pub fn cruise_speed_mps(&self) -> f64 {
        self.cruise_speed_mps
    }

    /// Whether the lidar is blank now.
    pub fn sensor_dropout(&self) -> bool {
        let t = self.time_s();
        self.dropouts.iter().any(|&(a, b)| t >= a && t < b)
    }

    /// How the episode ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// In a scenario with a memory gap: where the hazard hides (m along the road) and whether
    /// they are present this seed (drawn whether or not).
    pub fn memory_gap_hazard(&self) -> Option<(f64, bool)> {
        self.gap_hazard
    }

    /// In a scenario with a memory gap: where along the road (m) the car is past every place
    /// the hazard may hide (the farthest of `memory_gap.hiding`, or the one place there is). A
    /// driver that does not remember whether anyone hid must be careful until there.
    pub fn memory_gap_clear_s_m(&self) -> Option<f64> {
        self.gap_marks.map(|(clear, _)| clear)
    }

    /// In a scenario with a memory gap: where along the road (m) a car is timed in seeds
    /// without the hazard, `memory_gap.judged_past_m` beyond `memory_gap_clear_s_m`. A driver
    /// that was careful for nothing has lost time here.
    pub fn memory_gap_judged_s_m(&self) -> Option<f64> {
        self.gap_marks.map(|(_, judged)| judged)
    }

    /// In a scenario with a memory gap: when its barrier lifts (s), if its gate arms are there.
    pub fn memory_gap_release_s(&self) -> Option<f64> {
        self.removals.first().map(|&(_, at_s)| at_s)
    }

    /// The collision that ended the episode, classified, if it ended in one.
    pub fn collision(&self) -> Option<Collision> {
        self.collision
    }

    /// The ground truth now.
    pub fn truth(&self) -> GroundTruth<'_> {
        GroundTruth {
            road: &self.road,
            ego: &self.ego,
            ego_frenet: self.ego_frenet,
            limits: &self.limits,
            actors: &self.actors,
            visibility: &self.visibility,
            step: self.step,
            cruise_speed_mps: self.cruise_speed_mps,
            goal_s_m: self.goal_s_m,
        }
    }

    /// Statistics so far.
    pub fn metrics(&self) -> Metrics {
        let m = &self.metrics;
        Metrics {
            progress_m: self.ego_frenet.s_m - self.start_s_m,
            mean_speed_mps: if self.step == 0 {
                0.0
            } else {
                m.speed_sum / f64::from(self.step)
            },
            min_ttc_s: m.min_ttc_s,
            mean_abs_jerk_mps3: if m.jerk_count == 0 {
                0.0
            } else {
                m.jerk_sum / f64::from(m.jerk_count)
            },
            trajectory_hash: m.hash,
        }
    }

    fn ego_speed_along(&self) -> f64 {
        self.ego.speed_mps * wrap_angle(self.ego.pose.heading_rad - self.ego_road_heading_rad).cos()
    }

    fn update_actor_poses(&mut self) {
        for a in &mut self.actors {
            let key = [a.s_m, a.d_m, a.lateral_mps];
            if !a.active || a.posed_from == key {
                continue;
            }
            a.posed_from = key;
            let (pos_in_world, along) = self.road.frame_at(a.s_m, a.d_m);
            let axis = match a.kind {
                ActorKind::Pedestrian if a.lateral_mps != 0.0 => {
                    along.perp() * a.lateral_mps.signum()
                }
                ActorKind::Pedestrian => a.body.axis,
                ActorKind::Car | ActorKind::Parked if a.lateral_mps == 0.0 => along,
                ActorKind::Car | ActorKind::Parked => {
                    let v = along * a.speed_mps.max(0.5) + along.perp() * a.lateral_mps;
                    v * (1.0 / v.length())
                }
            };
            a.body = OrientedBox::from_axis(pos_in_world, axis, a.length_m, a.width_m);
        }
    }

    fn check_outcome(&mut self) -> Option<Outcome> {
        let body = self.ego.body(&self.limits);
        let hit = self
            .actors
            .iter()
            .find(|a| a.active && body.overlaps(&a.body));
        // Classified before this step's scan: what the sensors knew up to the impact.
        self.collision = collision::classify(hit, &self.visibility, self.step);
        if self.collision.is_some() {
            return Some(Outcome::Collision);
        }
        if self.ego_frenet.d_m.abs() > self.road.half_width_m() {
            return Some(Outcome::OffRoad);
        }
        if self.ego_frenet.s_m >= self.goal_s_m {
            return Some(Outcome::Goal);
        }
        (self.step >= self.max_steps).then_some(Outcome::Timeout)
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}
