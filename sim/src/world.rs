//! The world: one episode of a scenario, stepped at a fixed 10 Hz.
//!
//! `World::new` samples a scenario for a seed; `step` applies the ego's controls, moves every
//! actor, checks the outcome and senses. The observation holds only what the sensors and the
//! car's own state give; the ground truth (`truth`) holds everything, kept apart.

use crate::actors::{
    Actor, ActorKind, Behaviour, Brake, BrakePhase, CarDriver, GIVE_UP_AFTER_S, Idm, LaneChange,
    Leg, Walker,
};
use crate::geometry::{OrientedBox, Pose, Vec2, wrap_angle};
use crate::lidar::{Hit, Lidar, LidarScan};
use crate::observation::{CURVATURE_LOOKAHEAD_M, Observation, ObservationSpec, RAY_FIELDS};
use crate::road::{Frenet, Road};
use crate::scenario::{Param, ScenarioSpec};
use crate::vehicle::{Controls, EgoState, VehicleLimits};
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
        let limits = VehicleLimits::default();
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
        };
        placer.place_scripted(spec);
        if let Some(t) = &spec.random_traffic {
            placer.place_random(t, ego_lane, start_s_m, goal_s_m);
        }
        let actors = placer.actors;
        let obs_spec = Arc::new(ObservationSpec::new(lidar.beams()));
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
            metrics: MetricsAccumulator::new(),
            noise_rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed_0f_5e75_0a11),
            lanes: vec![Vec::new(); lane_count],
        };
        world.ego_frenet = world.road.project(world.ego.center(&world.limits));
        world.ego_road_heading_rad = world.road.center_pose_at(world.ego_frenet.s_m).heading_rad;
        world.update_actor_poses();
        world.sense();
        world.metrics.hash_ego(&world.ego);
        world
    }

    /// Applies `controls` for one control step. Does nothing once the episode has ended.
    pub fn step(&mut self, controls: Controls) {
        if self.outcome.is_some() {
            return;
        }
        let controls = self.limits.clamp(controls);
        let time_s = self.time_s();
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

    /// Lanes whose strip the extent `d ± half` overlaps by more than a few centimetres.
    fn lanes_touched(road: &Road, d_m: f64, half_m: f64) -> std::ops::Range<usize> {
        let per_lane = 1.0 / road.lane_width_m();
        // Truncation is the floor for the non-negative values kept (and no libm call).
        let lo = ((d_m - half_m + 0.2 + road.half_width_m()) * per_lane).max(0.0) as usize;
        let hi = ((d_m + half_m - 0.2 + road.half_width_m()) * per_lane).max(-1.0) + 1.0;
        let hi = (hi as usize).min(road.lane_count());
        lo..hi.max(lo)
    }

    fn fill_lanes(&mut self) {
        for lane in &mut self.lanes {
            lane.clear();
        }
        let ego_lanes =
            Self::lanes_touched(&self.road, self.ego_frenet.d_m, 0.5 * self.limits.width_m);
        for lane in ego_lanes {
            self.lanes[lane].push(Occupant {
                s_m: self.ego_frenet.s_m,
                who: EGO,
            });
        }
        for (i, a) in self.actors.iter().enumerate() {
            if !a.active {
                continue;
            }
            for lane in Self::lanes_touched(&self.road, a.d_m, a.half_extent_across_m()) {
                self.lanes[lane].push(Occupant { s_m: a.s_m, who: i });
            }
            if let Some(target) = a.target_lane() {
                let lanes = Self::lanes_touched(&self.road, a.d_m, a.half_extent_across_m());
                if !lanes.contains(&target) {
                    self.lanes[target].push(Occupant { s_m: a.s_m, who: i });
                }
            }
        }
        for lane in &mut self.lanes {
            lane.sort_unstable_by(|a, b| a.s_m.total_cmp(&b.s_m).then(a.who.cmp(&b.who)));
        }
    }

    /// (extent along, speed along) of an occupant.
    fn occupant_shape(&self, who: usize) -> (f64, f64) {
        if who == EGO {
            (self.limits.length_m, self.ego_speed_along())
        } else {
            let a = &self.actors[who];
            (a.extent_along_m(), a.speed_mps)
        }
    }

    /// Nearest occupant ahead of actor `i` in `lane`: (bumper gap, its speed, who).
    fn leader_in(&self, lane: usize, i: usize) -> Option<(f64, f64, usize)> {
        let me = &self.actors[i];
        let list = &self.lanes[lane];
        let start = list.partition_point(|o| o.s_m < me.s_m);
        list[start..]
            .iter()
            .find(|o| o.who != i && o.s_m > me.s_m)
            .map(|o| {
                let (len, speed) = self.occupant_shape(o.who);
                (
                    o.s_m - me.s_m - 0.5 * (len + me.extent_along_m()),
                    speed,
                    o.who,
                )
            })
    }

    /// Nearest occupant behind position `s_m` in `lane`, other than actor `i`: (gap, speed).
    fn follower_in(&self, lane: usize, i: usize, s_m: f64, extent_m: f64) -> Option<(f64, f64)> {
        let list = &self.lanes[lane];
        let end = list.partition_point(|o| o.s_m <= s_m);
        list[..end].iter().rev().find(|o| o.who != i).map(|o| {
            let (len, speed) = self.occupant_shape(o.who);
            (s_m - o.s_m - 0.5 * (len + extent_m), speed)
        })
    }

    fn move_actor(&mut self, i: usize, time_s: f64) {
        // Taken out and put back by the movers, so scripts are never cloned.
        match std::mem::replace(&mut self.actors[i].behaviour, Behaviour::Parked) {
            Behaviour::Parked => {}
            Behaviour::Car(driver) => self.move_car(i, driver, time_s),
            Behaviour::Pedestrian(walker) => self.move_walker(i, walker, time_s),
        }
    }

    fn move_car(&mut self, i: usize, mut driver: CarDriver, time_s: f64) {
        let (s, speed) = (self.actors[i].s_m, self.actors[i].speed_mps);
        let target = driver
            .lane_change
            .filter(|l| l.started.is_some())
            .map(|l| l.to_lane);
        let leaders =
            [Some(driver.lane), target].map(|lane| lane.and_then(|l| self.leader_in(l, i)));
        let leaders = leaders.iter().flatten().copied();
        let mut accel = self.idm.accel(speed, driver.desired_speed_mps, None);
        for (gap, lead_speed, _) in leaders.clone() {
            accel = accel.min(self.idm.accel(
                speed,
                driver.desired_speed_mps,
                Some((gap, lead_speed)),
            ));
        }
        if let Some(brake) = &mut driver.brake {
            match brake.phase {
                BrakePhase::Pending { at_time_s } if time_s >= at_time_s => {
                    brake.phase = BrakePhase::Braking
                }
                _ => {}
            }
            match brake.phase {
                BrakePhase::Braking if speed <= brake.to_speed_mps + 1e-9 => {
                    brake.phase = BrakePhase::Holding {
                        until_s: time_s + brake.hold_s,
                    };
                    accel = accel.min(0.0);
                }
                BrakePhase::Braking => accel = accel.min(-brake.decel_mps2),
                BrakePhase::Holding { until_s } if time_s < until_s => accel = accel.min(0.0),
                BrakePhase::Holding { .. } => brake.phase = BrakePhase::Done,
                BrakePhase::Pending { .. } | BrakePhase::Done => {}
            }
        }
        let mut new_speed = (speed + accel * DT_SECS).max(0.0);
        if let Some(brake) = &driver.brake
            && brake.phase == BrakePhase::Braking
        {
            new_speed = new_speed.max(brake.to_speed_mps.min(speed));
        }
        let mut lateral = 0.0;
        let mut d = self.road.lane_center_d_m(driver.lane);
        if driver.lane_change.is_none() && driver.free_lane_changes {
            driver.lane_change = self.blocked_lane_escape(i, driver.lane, leaders, time_s);
        }
        if let Some(lc) = &mut driver.lane_change {
            if lc.started.is_none() {
                let ego_gap = s - self.ego_frenet.s_m;
                let near = lc
                    .when_ahead_of_ego_within_m
                    .is_none_or(|m| ego_gap > 0.0 && ego_gap <= m);
                if time_s >= lc.at_time_s && near {
                    lc.started = Some((time_s, self.actors[i].d_m));
                }
            }
            if let Some((t0, d0)) = lc.started {
                let d1 = self.road.lane_center_d_m(lc.to_lane);
                let tau = ((time_s + DT_SECS - t0) / lc.duration_s).min(1.0);
                let pi = std::f64::consts::PI;
                d = d0 + (d1 - d0) * 0.5 * (1.0 - (pi * tau).cos());
                lateral = (d1 - d0) * 0.5 * pi / lc.duration_s * (pi * tau).sin();
                if tau >= 1.0 {
                    driver.lane = lc.to_lane;
                    driver.lane_change = None;
                    lateral = 0.0;
                }
            }
        }
        let a = &mut self.actors[i];
        a.s_m = s + 0.5 * (speed + new_speed) * DT_SECS;
        a.speed_mps = new_speed;
        a.d_m = d;
        a.lateral_mps = lateral;
        if a.s_m > self.road.length_m() + 20.0 {
            a.active = false;
        }
        a.behaviour = Behaviour::Car(driver);
    }

    /// A lane change that gets a car round a parked vehicle blocking its lane, if a
    /// neighbouring lane has room.
    fn blocked_lane_escape(
        &self,
        i: usize,
        lane: usize,
        mut leaders: impl Iterator<Item = (f64, f64, usize)>,
        time_s: f64,
    ) -> Option<LaneChange> {
        let blocked = leaders.any(|(gap, _, who)| {
            who != EGO && gap < 40.0 && self.actors[who].kind == ActorKind::Parked
        });
        if !blocked {
            return None;
        }
        let me = &self.actors[i];
        let candidates = [lane + 1, lane.wrapping_sub(1)];
        candidates
            .into_iter()
            .filter(|&l| l < self.road.lane_count())
            .find_map(|to_lane| {
                let ahead_ok = self
                    .leader_in(to_lane, i)
                    .is_none_or(|(gap, _, _)| gap > 10.0);
                let behind_ok = self
                    .follower_in(to_lane, i, me.s_m, me.extent_along_m())
                    .is_none_or(|(gap, speed)| {
                        gap > (1.5 * speed).max(8.0) + 2.0 * (speed - me.speed_mps).max(0.0)
                    });
                (ahead_ok && behind_ok).then_some(LaneChange {
                    to_lane,
                    at_time_s: time_s,
                    when_ahead_of_ego_within_m: None,
                    duration_s: 3.0,
                    started: Some((time_s, me.d_m)),
                })
            })
    }

    /// Whether a pedestrian stepping to offset `d_m` would walk into a vehicle in the road:
    /// people wait for a car in front of them to move on rather than walk into it.
    fn vehicle_in_the_way(&self, i: usize, d_m: f64) -> bool {
        let me = &self.actors[i];
        let pose = self.road.pose_at(me.s_m, d_m);
        let margin = 0.1;
        let step_box = OrientedBox::new(pose, me.length_m + margin, me.width_m + margin);
        Self::lanes_touched(&self.road, d_m, me.half_extent_across_m() + margin).any(|lane| {
            let list = &self.lanes[lane];
            let start = list.partition_point(|o| o.s_m < me.s_m - 8.0);
            list[start..]
                .iter()
                .take_while(|o| o.s_m < me.s_m + 8.0)
                .any(|o| match o.who {
                    EGO => self.ego.body(&self.limits).overlaps(&step_box),
                    who => {
                        self.actors[who].kind == ActorKind::Car
                            && self.actors[who].body.overlaps(&step_box)
                    }
                })
        })
    }

    fn move_walker(&mut self, i: usize, mut walker: Walker, time_s: f64) {
        let blocked = match walker.legs.get(walker.leg) {
            Some(&Leg::Walk { to_d_m, speed_mps }) => {
                let a = &self.actors[i];
                let next =
                    a.d_m + (to_d_m - a.d_m).clamp(-speed_mps * DT_SECS, speed_mps * DT_SECS);
                self.vehicle_in_the_way(i, next)
            }
            _ => false,
        };
        if blocked {
            walker.blocked_s += DT_SECS;
            if walker.blocked_s > GIVE_UP_AFTER_S
                && let Some(&Leg::Walk { speed_mps, .. }) = walker.legs.get(walker.leg)
            {
                // Give up crossing: walk back to where they came from.
                walker.legs = vec![Leg::Walk {
                    to_d_m: walker.origin_d_m,
                    speed_mps,
                }];
                walker.leg = 0;
                walker.blocked_s = 0.0;
            }
        } else {
            walker.blocked_s = 0.0;
        }
        let blocked = blocked && walker.blocked_s > 0.0;
        let ego_s = self.ego_frenet.s_m;
        let half_len = 0.5 * self.limits.length_m;
        let ego_speed = self.ego.speed_mps;
        let a = &mut self.actors[i];
        let mut lateral = 0.0;
        if let Some(&leg) = walker.legs.get(walker.leg) {
            let elapsed = time_s - walker.leg_started_s;
            let done = match leg {
                Leg::Start {
                    time_s: t,
                    ego_within_m,
                } => time_s >= t && ego_within_m.is_none_or(|m| a.s_m - ego_s <= m),
                Leg::Walk { .. } if blocked => false,
                Leg::Walk { to_d_m, speed_mps } => {
                    let step = speed_mps * DT_SECS;
                    let delta = to_d_m - a.d_m;
                    if delta.abs() <= step {
                        a.d_m = to_d_m;
                        true
                    } else {
                        a.d_m += step * delta.signum();
                        lateral = speed_mps * delta.signum();
                        false
                    }
                }
                Leg::Pause {
                    secs,
                    ego_within_s,
                    patience_s,
                } => {
                    elapsed >= secs
                        && ego_within_s.is_none_or(|limit| {
                            let front_gap = a.s_m - 0.5 * a.width_m - (ego_s + half_len);
                            let passed = ego_s - half_len > a.s_m + 1.0;
                            let alongside = front_gap < 0.0 && !passed;
                            passed
                                || elapsed >= secs + patience_s
                                || (!alongside && front_gap / ego_speed.max(0.5) <= limit)
                        })
                }
            };
            if done {
                walker.leg += 1;
                walker.leg_started_s = time_s + DT_SECS;
            }
        }
        a.lateral_mps = lateral;
        a.behaviour = Behaviour::Pedestrian(walker);
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

    fn check_outcome(&self) -> Option<Outcome> {
        let body = self.ego.body(&self.limits);
        if self
            .actors
            .iter()
            .any(|a| a.active && body.overlaps(&a.body))
        {
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

    fn sense(&mut self) {
        for v in &mut self.visibility {
            v.visible_now = false;
        }
        if self.sensor_dropout() {
            self.lidar.blank(&mut self.scan);
        } else {
            let origin = self.ego.center(&self.limits);
            // Walls within range lie within this distance along the road on any road whose
            // curves are gentler than the validation allows.
            let reach = 1.5 * self.lidar.range_m() + 10.0;
            let s = self.ego_frenet.s_m;
            let boxes = self.actors.iter().filter(|a| a.active).map(|a| {
                let hit = match a.kind {
                    ActorKind::Pedestrian => Hit::Pedestrian(a.id),
                    ActorKind::Car | ActorKind::Parked => Hit::Vehicle(a.id),
                };
                (&a.body, hit)
            });
            let walls = self
                .road
                .walls()
                .iter()
                .filter(|w| w.end_s_m >= s - reach && w.start_s_m <= s + reach)
                .map(|w| &w.segment);
            self.lidar.sweep(
                origin,
                self.ego.pose.heading_rad,
                boxes,
                walls,
                &mut self.scan,
            );
            if self.noise_std_m > 0.0 {
                for (range, hit) in self.scan.ranges_m.iter_mut().zip(&self.scan.hits) {
                    if *hit != Hit::Nothing {
                        *range = (*range + self.noise_std_m * gaussian(&mut self.noise_rng))
                            .clamp(0.0, self.lidar.range_m());
                    }
                }
            }
            for hit in &self.scan.hits {
                if let Some(i) = hit.actor() {
                    self.visibility[i].visible_now = true;
                    self.visibility[i].last_seen_step = Some(self.step);
                }
            }
        }
        self.fill_observation();
    }

    fn fill_observation(&mut self) {
        let f = self.ego_frenet;
        let road = &self.road;
        let lane = road.lane_at(f.d_m).unwrap_or(if f.d_m < 0.0 {
            0
        } else {
            road.lane_count() - 1
        });
        let heading_error = wrap_angle(self.ego.pose.heading_rad - self.ego_road_heading_rad);
        let ego_values = [
            self.ego.speed_mps,
            f.d_m - road.lane_center_d_m(lane),
            heading_error,
            road.half_width_m() - f.d_m,
            road.half_width_m() + f.d_m,
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[0]),
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[1]),
            road.curvature_at(f.s_m + CURVATURE_LOOKAHEAD_M[2]),
        ];
        let values = self.observation.values_mut();
        for (beam, (range, hit)) in self.scan.ranges_m.iter().zip(&self.scan.hits).enumerate() {
            let base = beam * RAY_FIELDS.len();
            values[base] = *range as f32;
            values[base + 1] = f32::from(u8::from(matches!(hit, Hit::Vehicle(_))));
            values[base + 2] = f32::from(u8::from(matches!(hit, Hit::Pedestrian(_))));
            values[base + 3] = f32::from(u8::from(*hit == Hit::Edge));
        }
        let start = self.scan.ranges_m.len() * RAY_FIELDS.len();
        for (slot, v) in values[start..].iter_mut().zip(ego_values) {
            *slot = v as f32;
        }
    }

    fn track_ttc(&mut self) {
        let f = self.ego_frenet;
        let half_width = 0.5 * self.limits.width_m;
        let half_len = 0.5 * self.limits.length_m;
        let v = self.ego_speed_along();
        let mut best = self.metrics.min_ttc_s;
        for a in self.actors.iter().filter(|a| a.active) {
            if (a.d_m - f.d_m).abs() > half_width + a.half_extent_across_m() {
                continue;
            }
            let gap = a.s_m - f.s_m - half_len - 0.5 * a.extent_along_m();
            let closing = v - a.speed_mps;
            if gap > 0.0 && closing > 1e-6 {
                let ttc = gap / closing;
                best = Some(best.map_or(ttc, |b: f64| b.min(ttc)));
            }
        }
        self.metrics.min_ttc_s = best;
    }
}

/// A standard normal draw (Box–Muller).
fn gaussian(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random_range(f64::MIN_POSITIVE..1.0);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Turns scenario specs into actors, drawing every random choice from one generator in a
/// fixed order.
struct Placer<'a> {
    rng: &'a mut ChaCha8Rng,
    road: &'a Road,
    actors: Vec<Actor>,
    first_dropout_s: Option<f64>,
}

impl Placer<'_> {
    fn push(
        &mut self,
        kind: ActorKind,
        length_m: f64,
        width_m: f64,
        s_m: f64,
        d_m: f64,
        speed_mps: f64,
        behaviour: Behaviour,
    ) {
        let pose = self.road.pose_at(s_m, d_m);
        self.actors.push(Actor {
            id: self.actors.len(),
            kind,
            length_m,
            width_m,
            s_m,
            d_m,
            speed_mps,
            lateral_mps: 0.0,
            body: OrientedBox::new(pose, length_m, width_m),
            active: true,
            behaviour,
            posed_from: [f64::NAN; 3],
        });
    }

    fn present(&mut self, probability: f64) -> bool {
        // Always draw, so one actor's presence never shifts the draws of the next.
        let draw: f64 = self.rng.random();
        draw < probability
    }

    fn place_scripted(&mut self, spec: &ScenarioSpec) {
        for p in &spec.parked {
            let present = self.present(p.probability);
            let (s, d) = (p.s_m.sample(self.rng), p.d_m.sample(self.rng));
            let (len, width) = (p.length_m.sample(self.rng), p.width_m.sample(self.rng));
            if present {
                self.push(ActorKind::Parked, len, width, s, d, 0.0, Behaviour::Parked);
            }
        }
        for c in &spec.cars {
            let present = self.present(c.probability);
            let s = c.s_m.sample(self.rng);
            let speed = c.speed_mps.sample(self.rng);
            let desired = c.desired_speed_mps.sample(self.rng);
            let brake = c.brake.as_ref().map(|b| {
                let at_time_s = match (b.after_dropout_start_s, self.first_dropout_s) {
                    (Some(after), Some(start)) => start + after.sample(self.rng),
                    _ => b.at_time_s.sample(self.rng),
                };
                Brake {
                    phase: BrakePhase::Pending { at_time_s },
                    decel_mps2: b.decel_mps2.sample(self.rng),
                    to_speed_mps: b.to_speed_mps.sample(self.rng),
                    hold_s: b.hold_s.sample(self.rng),
                }
            });
            let lane_change = c.lane_change.as_ref().map(|l| LaneChange {
                to_lane: l.to_lane as usize,
                at_time_s: l.at_time_s.sample(self.rng),
                when_ahead_of_ego_within_m: l
                    .when_ahead_of_ego_within_m
                    .map(|p| p.sample(self.rng)),
                duration_s: l.duration_s.sample(self.rng),
                started: None,
            });
            if present {
                let lane = c.lane as usize;
                let driver = CarDriver {
                    lane,
                    desired_speed_mps: desired,
                    brake,
                    lane_change,
                    free_lane_changes: false,
                };
                let d = self.road.lane_center_d_m(lane);
                self.push(
                    ActorKind::Car,
                    c.length_m,
                    1.8,
                    s,
                    d,
                    speed,
                    Behaviour::Car(driver),
                );
            }
        }
        for p in &spec.pedestrians {
            let present = self.present(p.probability);
            let turns_back = self.present(p.turn_back_probability);
            let s = p.s_m.sample(self.rng);
            let from = p.from_d_m.sample(self.rng);
            let to = p.to_d_m.sample(self.rng);
            let speed = p.speed_mps.sample(self.rng);
            let step_out_speed = p.step_out_speed_mps.map_or(speed, |v| v.sample(self.rng));
            let start = Leg::Start {
                time_s: p.start_time_s.sample(self.rng),
                ego_within_m: p.start_when_ego_within_m.map(|m| m.sample(self.rng)),
            };
            let pause_at = p.pause_at_d_m.map(|d| d.sample(self.rng));
            let pause_s = p.pause_s.sample(self.rng);
            let ego_within_s = p.step_out_when_ego_within_s.map(|t| t.sample(self.rng));
            let turn_at = p.turn_back_at_d_m.map(|d| d.sample(self.rng));
            let legs = match (turns_back, turn_at) {
                (true, Some(turn_at)) => vec![
                    start,
                    Leg::Walk {
                        to_d_m: turn_at,
                        speed_mps: speed,
                    },
                    Leg::Pause {
                        secs: 1.0,
                        ego_within_s: None,
                        patience_s: 0.0,
                    },
                    Leg::Walk {
                        to_d_m: from,
                        speed_mps: speed,
                    },
                ],
                _ => match pause_at {
                    Some(pause_at) => vec![
                        start,
                        Leg::Walk {
                            to_d_m: pause_at,
                            speed_mps: speed,
                        },
                        Leg::Pause {
                            secs: pause_s,
                            ego_within_s,
                            patience_s: p.patience_s,
                        },
                        Leg::Walk {
                            to_d_m: to,
                            speed_mps: step_out_speed,
                        },
                    ],
                    None => vec![
                        start,
                        Leg::Walk {
                            to_d_m: to,
                            speed_mps: speed,
                        },
                    ],
                },
            };
            if present {
                let walker = Walker {
                    legs,
                    leg: 0,
                    leg_started_s: 0.0,
                    origin_d_m: from,
                    blocked_s: 0.0,
                };
                self.push(
                    ActorKind::Pedestrian,
                    0.5,
                    0.5,
                    s,
                    from,
                    0.0,
                    Behaviour::Pedestrian(walker),
                );
            }
        }
    }

    fn place_random(
        &mut self,
        t: &crate::scenario::RandomTrafficSpec,
        ego_lane: usize,
        ego_s: f64,
        goal_s: f64,
    ) {
        let lanes = self.road.lane_count();
        let length = self.road.length_m();
        let kerb = self.road.half_width_m();
        let mut blocking: Vec<f64> = Vec::new();
        for _ in 0..t.parked {
            let blocks = self.present(t.blocking_share);
            let side: f64 = if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let s = self.rng.random_range(0.0..length);
            let len = Param::Range([4.0, 8.0]).sample(self.rng);
            let s = if blocks && (s - ego_s).abs() < 60.0 {
                s + 120.0
            } else {
                s
            };
            let d = if blocks {
                blocking.push(s);
                self.road.lane_center_d_m(0)
            } else {
                side * (kerb + 1.3)
            };
            self.push(ActorKind::Parked, len, 2.0, s, d, 0.0, Behaviour::Parked);
        }
        let mut cars: Vec<(usize, f64)> = Vec::new();
        for _ in 0..t.cars {
            let desired = t.car_speed_mps.sample(self.rng);
            let mut placed = None;
            for _ in 0..200 {
                let lane = self.rng.random_range(0..lanes);
                let s = self.rng.random_range(0.0..(length - 30.0).max(1.0));
                let clear_of_cars = cars
                    .iter()
                    .all(|&(l, cs)| l != lane || (cs - s).abs() > 10.0);
                let clear_of_ego = lane != ego_lane || (s - ego_s).abs() > 30.0;
                let clear_of_blocks = lane != 0 || blocking.iter().all(|&b| (b - s).abs() > 30.0);
                if clear_of_cars && clear_of_ego && clear_of_blocks {
                    placed = Some((lane, s));
                    break;
                }
            }
            if let Some((lane, s)) = placed {
                cars.push((lane, s));
                let driver = CarDriver {
                    lane,
                    desired_speed_mps: desired,
                    brake: None,
                    lane_change: None,
                    free_lane_changes: true,
                };
                let d = self.road.lane_center_d_m(lane);
                self.push(
                    ActorKind::Car,
                    4.5,
                    1.8,
                    s,
                    d,
                    0.8 * desired,
                    Behaviour::Car(driver),
                );
            }
        }
        let far = kerb + 0.6 * self.road.verge_m();
        for _ in 0..t.pedestrians {
            let side: f64 = if self.rng.random_bool(0.5) { 1.0 } else { -1.0 };
            let s = self.rng.random_range((ego_s + 30.0).min(goal_s)..=goal_s);
            let speed = t.pedestrian_speed_mps.sample(self.rng);
            let legs = vec![
                Leg::Start {
                    time_s: t.pedestrian_start_s.sample(self.rng),
                    ego_within_m: None,
                },
                Leg::Walk {
                    to_d_m: -side * far,
                    speed_mps: speed,
                },
            ];
            let walker = Walker {
                legs,
                leg: 0,
                leg_started_s: 0.0,
                origin_d_m: side * far,
                blocked_s: 0.0,
            };
            self.push(
                ActorKind::Pedestrian,
                0.5,
                0.5,
                s,
                side * far,
                0.0,
                Behaviour::Pedestrian(walker),
            );
        }
    }
}
