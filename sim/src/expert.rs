//! The expert: a privileged driver that is the teacher and the upper bound of memory.
//!
//! It acts on every actor the ego's sensors have *ever* seen, with that actor's true current
//! state (perfect memory and true motion), and on never-seen actors only when they are about
//! to be in the car's path (where safety demands it). It keeps its lane with pure pursuit,
//! follows with the Intelligent Driver Model, yields to pedestrians whose path it would cross,
//! slows near pedestrians waiting at the kerb, pulls away gently from a standstill when it knows
//! someone is hidden at the kerb just ahead (or waits for them when it knows they will step out
//! by themselves), and changes lane round blocked lanes.

use crate::actors::{Actor, ActorKind, Behaviour, Idm, Leg};
use crate::controller::{Controller, Privileged};
use crate::observation::Observation;
use crate::vehicle::Controls;
use crate::world::{DT_SECS, GroundTruth};

/// Never-seen actors closer than this ahead in the car's path are acted on anyway (m).
const EMERGENCY_RANGE_M: f64 = 12.0;
/// How far ahead blocked lanes are looked for (m).
const BLOCKED_LOOKAHEAD_M: f64 = 45.0;
/// Pedestrians within this distance outside the kerb, and not walking away, may step out (m).
const KERB_ZONE_M: f64 = 3.0;
/// Deceleration the expert plans with when a kerbside pedestrian might step out (m/s²).
const CAUTION_DECEL_MPS2: f64 = 3.0;
/// Extra room left behind a standing obstacle, to steer round it later (m).
const PULL_OUT_ROOM_M: f64 = 4.0;
/// Deceleration it is willing to use for pedestrians it could have seen coming (m/s²).
const COMFORT_DECEL_MPS2: f64 = 4.0;
/// Speed at which it creeps past a kerbside pedestrian: from it the car stops within half a
/// metre, less than it covers in the half second a pedestrian needs to step into its path (m/s).
const CAUTION_MIN_SPEED_MPS: f64 = 2.0;
/// A pedestrian it knows stands hidden at the kerb within this distance ahead makes it pull away
/// gently from a standstill (m).
const GENTLE_RANGE_M: f64 = 45.0;
/// How hard it pulls away then: gently, towards `CAUTION_MIN_SPEED_MPS` (m/s²).
const GENTLE_ACCEL_MPS2: f64 = 0.5;

/// The privileged expert driver.
#[derive(Clone, Debug, Default)]
pub struct Expert {
    /// False for the reactive variant, which acts only on what is seen now.
    memory: bool,
    idm: Idm,
    target_lane: Option<usize>,
    /// The pedestrian hidden at the kerb ahead it is creeping towards, from the moment it was
    /// (nearly) at a standstill with them there until they are seen or passed.
    creeping_for: Option<usize>,
    planned: Controls,
}

/// An obstacle projected onto the road, as the expert reasons about it.
struct Track<'a> {
    actor: &'a Actor,
    /// Bumper-to-bumper gap ahead of the ego (m); negative when alongside or behind.
    gap_m: f64,
}

impl Expert {
    /// The expert: perfect memory of everything ever seen.
    pub fn new() -> Self {
        Self {
            memory: true,
            idm: Idm {
                headway_s: 1.2,
                max_brake_mps2: 8.0,
                ..Idm::default()
            },
            ..Self::default()
        }
    }

    /// The same driver without memory: it acts only on actors some beam reports now, with their
    /// true motion. The gap between it and the expert is what memory is worth.
    pub fn reactive() -> Self {
        Self {
            memory: false,
            ..Self::new()
        }
    }

    fn known<'t>(&self, truth: &GroundTruth<'t>) -> impl Iterator<Item = Track<'t>> {
        let memory = self.memory;
        let ego = truth.ego_frenet;
        let half_len = 0.5 * truth.limits.length_m;
        let half_width = 0.5 * truth.limits.width_m;
        let road = truth.road;
        truth
            .actors
            .iter()
            .filter(|a| a.active)
            .filter_map(move |a| {
                let gap_m = a.s_m - ego.s_m - half_len - 0.5 * a.extent_along_m();
                let v = truth.visibility[a.id];
                let seen = if memory {
                    v.last_seen_step.is_some()
                } else {
                    v.visible_now
                };
                let in_path = (a.d_m - ego.d_m).abs() < half_width + a.half_extent_across_m() + 1.5
                    || a.d_m.abs() < road.half_width_m() + 1.0 && a.lateral_mps.abs() > 0.1;
                // Only the expert gets the emergency rule: for a memoryless driver every hidden actor
                // would count as never seen, and the rule would become a window on the truth.
                let imminent = memory && gap_m > -half_len && gap_m < EMERGENCY_RANGE_M && in_path;
                (seen || imminent).then_some(Track { actor: a, gap_m })
            })
    }

    /// Whether `lane` has a parked vehicle (or a stopped car) ahead within the lookahead.
    fn lane_blocked(truth: &GroundTruth<'_>, tracks: &[Track<'_>], lane: usize) -> bool {
        let center = truth.road.lane_center_d_m(lane);
        let half = 0.5 * truth.road.lane_width_m();
        tracks.iter().any(|t| {
            let a = t.actor;
            let stopped =
                a.kind == ActorKind::Parked || (a.kind == ActorKind::Car && a.speed_mps < 0.5);
            stopped
                && t.gap_m > -2.0
                && t.gap_m < BLOCKED_LOOKAHEAD_M
                && (a.d_m - center).abs() < half + a.half_extent_across_m() - 0.2
        })
    }

    /// Whether moving into `lane` now leaves safe gaps to known vehicles in it.
    fn lane_free(truth: &GroundTruth<'_>, tracks: &[Track<'_>], lane: usize) -> bool {
        let center = truth.road.lane_center_d_m(lane);
        let half = 0.5 * truth.road.lane_width_m();
        let v = truth.ego.speed_mps;
        tracks.iter().all(|t| {
            let a = t.actor;
            if a.kind == ActorKind::Pedestrian
                || (a.d_m - center).abs() >= half + a.half_extent_across_m()
            {
                return true;
            }
            let ahead_ok = t.gap_m > (8.0 + 1.0 * v + 2.0 * (v - a.speed_mps).max(0.0)).max(10.0);
            let rear_gap = -t.gap_m - truth.limits.length_m - a.extent_along_m();
            let behind_ok =
                rear_gap > (1.5 * a.speed_mps).max(8.0) + 2.0 * (a.speed_mps - v).max(0.0);
            if t.gap_m >= 0.0 { ahead_ok } else { behind_ok }
        })
    }

    fn choose_lane(&mut self, truth: &GroundTruth<'_>, tracks: &[Track<'_>]) -> usize {
        let road = truth.road;
        let d = truth.ego_frenet.d_m;
        let current = road
            .lane_at(d)
            .unwrap_or(if d < 0.0 { 0 } else { road.lane_count() - 1 });
        let target = *self.target_lane.get_or_insert(current);
        let settled = (d - road.lane_center_d_m(target)).abs() < 0.4;
        // Reconsider once settled in the lane, or when stuck half-way behind an obstacle.
        let stuck = truth.ego.speed_mps < 1.0;
        if (settled || stuck) && Self::lane_blocked(truth, tracks, target) {
            let neighbours = [target + 1, target.wrapping_sub(1)];
            if let Some(lane) = neighbours.into_iter().find(|&l| {
                l < road.lane_count()
                    && !Self::lane_blocked(truth, tracks, l)
                    && Self::lane_free(truth, tracks, l)
            }) {
                self.target_lane = Some(lane);
                return lane;
            }
        }
        target
    }

    /// Acceleration limit from one tracked actor, for a car heading along `lane_d` ± corridor.
    fn accel_for(
        &self,
        truth: &GroundTruth<'_>,
        t: &Track<'_>,
        corridor: (f64, f64),
        v0: f64,
    ) -> f64 {
        let a = t.actor;
        let v = truth.ego.speed_mps;
        if t.gap_m < -0.5 * truth.limits.length_m {
            return f64::INFINITY;
        }
        let (lo, hi) = corridor;
        let reach = a.half_extent_across_m();
        let overlaps = |d: f64| d + reach > lo && d - reach < hi;
        match a.kind {
            ActorKind::Car | ActorKind::Parked => {
                let horizon_s = 2.0;
                let future = a.d_m + a.lateral_mps * horizon_s;
                let swept = overlaps(a.d_m)
                    || overlaps(future)
                    || (a.d_m - lo) * (future - hi) < 0.0 && a.lateral_mps != 0.0;
                if swept {
                    // Behind a standing obstacle wait with room to pull out round it; once
                    // pulling out, creep up to half a metre of it while steering away.
                    let static_obstacle = a.speed_mps < 0.5;
                    let leaving_its_lane =
                        (truth.ego_frenet.d_m - a.d_m).abs() > 0.3 && hi - lo > 3.0;
                    let gap = match (static_obstacle, leaving_its_lane) {
                        (true, true) => t.gap_m + self.idm.min_gap_m - 0.5,
                        (true, false) => t.gap_m - PULL_OUT_ROOM_M,
                        (false, _) => t.gap_m,
                    };
                    self.idm.accel(v, v0, Some((gap.max(0.01), a.speed_mps)))
                } else {
                    f64::INFINITY
                }
            }
            ActorKind::Pedestrian => self.pedestrian_accel(truth, t, corridor, v0),
        }
    }

    /// Whether someone it knows is hidden at the kerb ahead, or on their way to it, within
    /// `GENTLE_RANGE_M`, has it creeping: from the moment it is at `CAUTION_MIN_SPEED_MPS` or
    /// slower with them there, for as long as they stay so (`was`: the pedestrian it crept
    /// towards a step ago).
    fn creeping_for(
        truth: &GroundTruth<'_>,
        tracks: &[Track<'_>],
        was: Option<usize>,
    ) -> Option<usize> {
        let kerb = truth.road.half_width_m();
        let slow = truth.ego.speed_mps <= CAUTION_MIN_SPEED_MPS;
        tracks
            .iter()
            .filter(|t| {
                let a = t.actor;
                let beyond_kerb = a.d_m.abs() - kerb;
                let at_kerb = (-0.5..=KERB_ZONE_M).contains(&beyond_kerb);
                // Walking towards the road from further out on the verge.
                let coming = beyond_kerb > KERB_ZONE_M
                    && beyond_kerb < 4.0 * KERB_ZONE_M
                    && a.d_m * a.lateral_mps < -0.1 * a.d_m.abs();
                a.kind == ActorKind::Pedestrian
                    && !truth.visibility[a.id].visible_now
                    && (at_kerb || coming)
                    && t.gap_m > 0.0
                    && t.gap_m < GENTLE_RANGE_M
            })
            .find(|t| slow || was == Some(t.actor.id))
            .map(|t| t.actor.id)
    }

    fn pedestrian_accel(
        &self,
        truth: &GroundTruth<'_>,
        t: &Track<'_>,
        (lo, hi): (f64, f64),
        v0: f64,
    ) -> f64 {
        let a = t.actor;
        let v = truth.ego.speed_mps;
        let reach = a.half_extent_across_m() + 0.3;
        // Stop this far before a pedestrian in (or about to enter) the path.
        let stop_gap = (t.gap_m - 1.5).max(0.01);
        let can_stop_comfortably = v * v / (2.0 * COMFORT_DECEL_MPS2) <= stop_gap;
        let inside = a.d_m + reach > lo && a.d_m - reach < hi;
        let w = a.lateral_mps;
        let t_clear = (t.gap_m + truth.limits.length_m + 1.0) / v.max(0.1);
        let crossing = if inside {
            true
        } else if w.abs() > 1e-3 {
            let toward = if a.d_m < lo { w > 0.0 } else { w < 0.0 };
            let edge = if a.d_m < lo { lo - reach } else { hi + reach };
            let far_edge = if a.d_m < lo { hi + reach } else { lo - reach };
            let t_in = (edge - a.d_m) / w;
            let t_out = (far_edge - a.d_m) / w;
            let t_arrive = t.gap_m.max(0.0) / v.max(0.1);
            // Too close to stop gently but clear of them before they arrive: carry on.
            let committed = !can_stop_comfortably && t_clear < t_in - 0.5;
            toward && !committed && t_arrive < t_out + 1.0 && t_clear > t_in - 1.0
        } else {
            false
        };
        if crossing {
            return self.idm.accel(v, v0, Some((stop_gap, 0.0)));
        }
        // A pedestrian standing at the kerb may step out: pass only at a speed from which the car
        // can still stop short of them. Walking ones are covered by the crossing prediction.
        let kerb = truth.road.half_width_m();
        let beyond_kerb = a.d_m.abs() - kerb;
        let near_kerb = (-0.5..=KERB_ZONE_M).contains(&beyond_kerb);
        // Pulling away from (nearly) a standstill while it knows someone is hidden at the kerb
        // just ahead: gently, and no faster than the creeping speed, from the first moment
        // rather than only when the braking envelope demands it (a person who cannot be seen
        // cannot be watched); and back to the creep if it has gone faster since.
        if self.creeping_for == Some(a.id) {
            // Someone who will step out by themselves soon, wherever the car is: wait for them
            // at a standstill rather than creep towards them.
            if Self::steps_out_by_itself(a, f64::from(truth.step) * DT_SECS) {
                return -(2.0 * v + 0.5).min(COMFORT_DECEL_MPS2);
            }
            return self
                .idm
                .accel(v, CAUTION_MIN_SPEED_MPS, None)
                .min(GENTLE_ACCEL_MPS2);
        }
        if t.gap_m > 0.0 && near_kerb && w.abs() < 0.1 {
            let safe = (2.0 * CAUTION_DECEL_MPS2 * (t.gap_m - 1.5).max(0.0))
                .sqrt()
                .max(CAUTION_MIN_SPEED_MPS);
            if safe < v0 {
                return self.idm.accel(v, safe, None);
            }
        }
        f64::INFINITY
    }

    /// Whether a pedestrian's script has them step out of a pause at a set time still to come
    /// (`Leg::Pause::until_s`: the memory gap's timed step-out), wherever the car is.
    fn steps_out_by_itself(a: &Actor, now_s: f64) -> bool {
        let Behaviour::Pedestrian(walker) = &a.behaviour else {
            return false;
        };
        walker.legs[walker.leg.min(walker.legs.len())..]
            .iter()
            .any(|leg| matches!(leg, Leg::Pause { until_s, .. } if until_s.is_finite() && *until_s >= now_s))
    }

    /// Steering that tracks the centre of the lane at offset `d_m` (pure pursuit).
    fn steer(truth: &GroundTruth<'_>, d_m: f64) -> f64 {
        let ego = truth.ego;
        let lookahead = (4.0 + 0.8 * ego.speed_mps).clamp(6.0, 25.0);
        let target = truth.road.point_at(truth.ego_frenet.s_m + lookahead, d_m);
        let rel = target - ego.pose.pos_in_world;
        let alpha = rel.angle() - ego.pose.heading_rad;
        let dist = rel.length().max(1.0);
        (2.0 * truth.limits.wheelbase_m * alpha.sin() / dist).atan()
    }

    /// Plans the controls for this step from the ground truth.
    pub fn plan(&mut self, truth: &GroundTruth<'_>) -> Controls {
        let tracks: Vec<Track<'_>> = self.known(truth).collect();
        self.creeping_for = Self::creeping_for(truth, &tracks, self.creeping_for);
        let lane = self.choose_lane(truth, &tracks);
        let road = truth.road;
        let target_d = road.lane_center_d_m(lane);
        // While changing lanes the car spans from where it is to where it goes.
        let half = 0.5 * truth.limits.width_m + 0.4;
        let d = truth.ego_frenet.d_m;
        let corridor = (d.min(target_d) - half, d.max(target_d) + half);
        let v0 = truth.cruise_speed_mps;
        let mut accel = self.idm.accel(truth.ego.speed_mps, v0, None);
        for t in &tracks {
            accel = accel.min(self.accel_for(truth, t, corridor, v0));
        }
        Controls {
            steer_rad: Self::steer(truth, target_d),
            accel_mps2: accel.clamp(truth.limits.min_accel_mps2, truth.limits.max_accel_mps2),
        }
    }
}

impl Controller for Expert {
    fn name(&self) -> &str {
        if self.memory { "expert" } else { "reactive" }
    }

    fn reset(&mut self) {
        self.target_lane = None;
        self.creeping_for = None;
        self.planned = Controls::default();
    }

    fn act(&mut self, _obs: &Observation) -> Controls {
        self.planned
    }
}

impl Privileged for Expert {
    fn observe_truth(&mut self, truth: &GroundTruth<'_>) {
        self.planned = self.plan(truth);
    }
}

/// A trivial baseline: keeps its lane at constant cruise speed from its own state alone,
/// blind to everything else. Used by the benchmark and as the floor of every comparison.
#[derive(Clone, Debug, Default)]
pub struct Cruise {
    speed_mps: f64,
}

impl Cruise {
    /// Drives at `speed_mps`.
    pub fn new(speed_mps: f64) -> Self {
        Self { speed_mps }
    }
}

impl Controller for Cruise {
    fn name(&self) -> &str {
        "cruise"
    }

    fn reset(&mut self) {}

    fn act(&mut self, obs: &Observation) -> Controls {
        let speed = f64::from(obs.speed_mps());
        let offset = f64::from(obs.lane_offset_m());
        let heading_error = f64::from(obs.heading_error_rad());
        let curvature = obs.get("curvature_10m_per_m").map_or(0.0, f64::from);
        Controls {
            steer_rad: (2.7 * curvature).atan() - 0.15 * offset - 0.8 * heading_error,
            accel_mps2: ((self.speed_mps - speed) / (10.0 * DT_SECS)).clamp(-3.0, 2.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin;
    use crate::world::World;

    fn run(name: &str, seed: u64) -> crate::world::Outcome {
        let spec = builtin(name)
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("no {name}"));
        let mut world = World::new(&spec, seed);
        crate::episode::drive(
            &mut world,
            &mut crate::controller::Pilot::Privileged(Box::new(Expert::new())),
        );
        world.outcome().unwrap_or(crate::world::Outcome::Timeout)
    }

    #[test]
    fn expert_reaches_the_goal_on_a_few_seeds() {
        for name in ["occluded_crossing", "lead_brake", "cut_in"] {
            for seed in 0..3 {
                assert_eq!(
                    run(name, seed),
                    crate::world::Outcome::Goal,
                    "{name} seed {seed}"
                );
            }
        }
    }
}
