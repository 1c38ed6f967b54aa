//! How traffic moves: lane occupancy, car following (IDM), scripted and free lane changes,
//! and pedestrians walking their scripts.

use super::{DT_SECS, EGO, Occupant, World};
use crate::actors::{
    ActorKind, Behaviour, BrakePhase, CarDriver, GIVE_UP_AFTER_S, LaneChange, Leg, Walker,
};
use crate::geometry::OrientedBox;
use crate::road::Road;

/// Slower than this (m/s), the ego counts as stopped for a pedestrian waiting to cross.
const STOPPED_MPS: f64 = 0.3;

impl World {
    /// Lanes whose strip the extent `d ± half` overlaps by more than a few centimetres.
    fn lanes_touched(road: &Road, d_m: f64, half_m: f64) -> std::ops::Range<usize> {
        let per_lane = 1.0 / road.lane_width_m();
        // Truncation is the floor for the non-negative values kept (and no libm call).
        let lo = ((d_m - half_m + 0.2 + road.half_width_m()) * per_lane).max(0.0) as usize;
        let hi = ((d_m + half_m - 0.2 + road.half_width_m()) * per_lane).max(-1.0) + 1.0;
        let hi = (hi as usize).min(road.lane_count());
        lo..hi.max(lo)
    }

    pub(super) fn fill_lanes(&mut self) {
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

    pub(super) fn move_actor(&mut self, i: usize, time_s: f64) {
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
            Some(&Leg::Walk { .. }) if walker.reckless_leg == Some(walker.leg) => false,
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
                    ego_within_m,
                    ego_stopped_within_m,
                    patience_s,
                    until_s,
                } => {
                    elapsed >= secs
                        && (time_s >= until_s
                            || ego_within_s.is_none_or(|limit| {
                                let front_gap = a.s_m - 0.5 * a.width_m - (ego_s + half_len);
                                let passed = ego_s - half_len > a.s_m + 1.0;
                                let alongside = front_gap < 0.0 && !passed;
                                // A car that has stopped short of them waits for them to cross.
                                let waiting = ego_stopped_within_m.is_some_and(|m| {
                                    ego_speed < STOPPED_MPS && (0.0..=m).contains(&front_gap)
                                });
                                let close =
                                    !alongside && ego_within_m.is_some_and(|m| front_gap <= m);
                                passed
                                    || waiting
                                    || close
                                    || elapsed >= secs + patience_s
                                    || (!alongside && front_gap / ego_speed.max(0.5) <= limit)
                            }))
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
}
