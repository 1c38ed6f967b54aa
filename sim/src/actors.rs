//! Actors other than the ego car and how they move: traffic cars on the Intelligent Driver
//! Model with scripted braking and lane changes, parked vehicles, and pedestrians who follow a
//! small script of walks and pauses across the road.
//!
//! Actors live in the road's Frenet frame (`s_m` along, `d_m` across); their world pose is
//! derived from it once per step.

use crate::geometry::{OrientedBox, Pose};

/// Kinds of actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A car driving in traffic.
    Car,
    /// A vehicle that does not move.
    Parked,
    /// A person on foot.
    Pedestrian,
}

/// Intelligent Driver Model parameters shared by all traffic cars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Idm {
    /// Comfortable acceleration (m/s²).
    pub accel_mps2: f64,
    /// Comfortable deceleration (m/s², positive).
    pub decel_mps2: f64,
    /// Desired time headway (s).
    pub headway_s: f64,
    /// Gap kept when standing (m).
    pub min_gap_m: f64,
    /// Hardest braking a car can do (m/s², positive).
    pub max_brake_mps2: f64,
}

impl Default for Idm {
    fn default() -> Self {
        Self {
            accel_mps2: 1.5,
            decel_mps2: 2.0,
            headway_s: 1.4,
            min_gap_m: 2.0,
            max_brake_mps2: 8.0,
        }
    }
}

impl Idm {
    /// Acceleration for speed `v` towards `v0`, behind a leader `gap_m` ahead (bumper to bumper)
    /// moving at `leader_mps`, or on a free road when there is none.
    pub fn accel(&self, v: f64, v0: f64, leader: Option<(f64, f64)>) -> f64 {
        let free = 1.0 - (v / v0.max(0.1)).powi(4);
        let interaction = match leader {
            None => 0.0,
            Some((gap, _)) if gap <= 0.05 => return -self.max_brake_mps2,
            Some((gap, leader_mps)) => {
                let dv = v - leader_mps;
                let desired = self.min_gap_m
                    + (v * self.headway_s
                        + v * dv / (2.0 * (self.accel_mps2 * self.decel_mps2).sqrt()))
                    .max(0.0);
                (desired / gap).powi(2)
            }
        };
        (self.accel_mps2 * (free - interaction)).clamp(-self.max_brake_mps2, self.accel_mps2)
    }
}

/// Where a traffic car is in a scripted brake.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum BrakePhase {
    /// Waiting for its start time.
    Pending { at_time_s: f64 },
    /// Decelerating.
    Braking,
    /// Holding the low speed until `until_s`.
    Holding { until_s: f64 },
    /// Done; ordinary driving.
    Done,
}

/// A scripted hard brake.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Brake {
    pub phase: BrakePhase,
    pub decel_mps2: f64,
    pub to_speed_mps: f64,
    pub hold_s: f64,
}

/// A lane change, pending or under way.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct LaneChange {
    pub to_lane: usize,
    pub at_time_s: f64,
    pub when_ahead_of_ego_within_m: Option<f64>,
    pub duration_s: f64,
    /// Start time and offset once under way.
    pub started: Option<(f64, f64)>,
}

/// What a traffic car is doing.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct CarDriver {
    pub lane: usize,
    pub desired_speed_mps: f64,
    pub brake: Option<Brake>,
    pub lane_change: Option<LaneChange>,
    /// Whether it may change lane by itself to get round a blocked lane.
    pub free_lane_changes: bool,
}

/// One step of a pedestrian's script.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Leg {
    /// Stand still until the time has come and, if given, the ego is close enough.
    Start {
        time_s: f64,
        ego_within_m: Option<f64>,
    },
    /// Walk across the road to `to_d_m`.
    Walk { to_d_m: f64, speed_mps: f64 },
    /// Stand for `secs`, then, if given, until the ego will arrive within `ego_within_s`, or
    /// has stopped with its front within `ego_stopped_within_m` of them (but no longer than
    /// `patience_s` more), or until the time is `until_s` (s into the episode). With
    /// `ego_within_m`, also once its front is that close, however slowly it comes.
    Pause {
        secs: f64,
        ego_within_s: Option<f64>,
        ego_within_m: Option<f64>,
        ego_stopped_within_m: Option<f64>,
        patience_s: f64,
        until_s: f64,
    },
}

/// A pedestrian's script and where they are in it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Walker {
    pub legs: Vec<Leg>,
    pub leg: usize,
    /// When the current leg began (s).
    pub leg_started_s: f64,
    /// Where they came from, across the road (m): where they go back to if they give up.
    pub origin_d_m: f64,
    /// How long a vehicle has been standing in their way (s).
    pub blocked_s: f64,
    /// The leg they walk without looking: they keep on even into the side of the car.
    pub reckless_leg: Option<usize>,
}

/// A pedestrian kept from walking on by a vehicle in their way this long goes back (s).
pub(crate) const GIVE_UP_AFTER_S: f64 = 2.0;

/// How an actor behaves.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Behaviour {
    Car(CarDriver),
    Parked,
    Pedestrian(Walker),
}

/// An actor: its true state (ground truth; never part of an observation).
#[derive(Clone, Debug, PartialEq)]
pub struct Actor {
    /// Stable index in the world's actor list.
    pub id: usize,
    /// What it is.
    pub kind: ActorKind,
    /// Body length along its heading (m).
    pub length_m: f64,
    /// Body width (m).
    pub width_m: f64,
    /// Distance along the road (m).
    pub s_m: f64,
    /// Offset across the road (m).
    pub d_m: f64,
    /// Speed along the road (m/s).
    pub speed_mps: f64,
    /// Speed across the road, positive to the left (m/s).
    pub lateral_mps: f64,
    /// Body in the world, kept in step with `s_m`, `d_m`.
    pub body: OrientedBox,
    /// False once it has left the road; inactive actors take no part in anything.
    pub active: bool,
    pub(crate) behaviour: Behaviour,
    /// (s, d, lateral speed) the pose was last computed from; standing actors skip the update.
    pub(crate) posed_from: [f64; 3],
}

impl Actor {
    /// Centre and heading in the world.
    pub fn pose(&self) -> Pose {
        Pose {
            pos_in_world: self.body.center,
            heading_rad: self.body.axis.angle(),
        }
    }

    /// Extent along the road used for gaps: the body's length for vehicles, its width for people.
    pub fn extent_along_m(&self) -> f64 {
        match self.kind {
            ActorKind::Pedestrian => self.width_m.max(self.length_m),
            ActorKind::Car | ActorKind::Parked => self.length_m,
        }
    }

    /// Half its extent across the road (m).
    pub fn half_extent_across_m(&self) -> f64 {
        match self.kind {
            ActorKind::Pedestrian => 0.5 * self.width_m.max(self.length_m),
            ActorKind::Car | ActorKind::Parked => 0.5 * self.width_m,
        }
    }

    /// The lane it is heading for when a car is changing lanes.
    pub fn target_lane(&self) -> Option<usize> {
        match &self.behaviour {
            Behaviour::Car(c) => Some(
                c.lane_change
                    .filter(|l| l.started.is_some())
                    .map_or(c.lane, |l| l.to_lane),
            ),
            Behaviour::Parked | Behaviour::Pedestrian(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idm_cruises_at_desired_speed_and_brakes_behind_a_stopped_leader() {
        let idm = Idm::default();
        assert!(idm.accel(10.0, 10.0, None).abs() < 1e-12);
        assert!((idm.accel(0.0, 10.0, None) - 1.5).abs() < 1e-12);
        // 20 m behind a stopped car at 15 m/s the model brakes hard.
        assert!(idm.accel(15.0, 15.0, Some((20.0, 0.0))) < -6.0);
        // A leader far ahead at the same speed barely matters.
        assert!(idm.accel(15.0, 15.0, Some((200.0, 15.0))) > -0.1);
        // In contact it brakes as hard as a car can: the ego's limit, 8 m/s².
        assert_eq!(idm.accel(5.0, 15.0, Some((0.0, 0.0))), -8.0);
    }
}
