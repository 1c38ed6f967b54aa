//! Placing a scenario's actors for a seed.

use crate::actors::{
    Actor, ActorKind, Behaviour, Brake, BrakePhase, CarDriver, LaneChange, Leg, Walker,
};
use crate::geometry::OrientedBox;
use crate::road::Road;
use crate::scenario::{HidingPlace, Param, RandomTrafficSpec, ScenarioSpec};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;

/// Lengths of randomly placed parked vehicles (m).
const PARKED_LENGTH_M: Param = Param::constant(4.0, 8.0);

/// Turns scenario specs into actors, drawing every random choice from one generator in a
/// fixed order.
pub(super) struct Placer<'a> {
    pub rng: &'a mut ChaCha8Rng,
    pub road: &'a Road,
    pub actors: Vec<Actor>,
    pub first_dropout_s: Option<f64>,
    /// Actor index of each scripted parked vehicle, `None` where absent this seed.
    pub parked_actors: Vec<Option<usize>>,
    /// Each scripted pedestrian with a time-only start who pauses: when they start (s), where
    /// from (d, m), how fast they walk (m/s) and where they pause (d, m); drawn whether or not
    /// they are present this seed.
    pub walk_to_pause: Vec<Option<WalkToPause>>,
    /// Where each scripted pedestrian crosses (m along the road) and whether they are present
    /// this seed.
    pub pedestrian_at: Vec<(f64, bool)>,
    /// The memory gap's hiding place drawn this seed, when it lists several.
    pub hiding_place: Option<HidingPlace>,
    /// The memory gap's hazard, when present this seed: their index in `actors`.
    pub hazard_actor: Option<usize>,
}

/// A scripted pedestrian's walk to their pause point, as drawn.
#[derive(Clone, Copy, Debug)]
pub struct WalkToPause {
    pub start_s: f64,
    pub from_d_m: f64,
    pub speed_mps: f64,
    pub pause_at_d_m: f64,
}

impl Placer<'_> {
    /// Adds an actor of `(length, width)` at `(s, d)`; its kind follows from its behaviour.
    fn push(
        &mut self,
        (length_m, width_m): (f64, f64),
        (s_m, d_m): (f64, f64),
        speed_mps: f64,
        behaviour: Behaviour,
    ) {
        let kind = match behaviour {
            Behaviour::Car(_) => ActorKind::Car,
            Behaviour::Parked => ActorKind::Parked,
            Behaviour::Pedestrian(_) => ActorKind::Pedestrian,
        };
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

    /// The memory gap's hazard this seed: where they hide (m along the road) and whether they
    /// are present.
    pub fn gap_hazard(&self, spec: &ScenarioSpec) -> Option<(f64, bool)> {
        let gap = spec.memory_gap.as_ref()?;
        self.pedestrian_at.get(gap.pedestrian as usize).copied()
    }

    /// Where the car is past every place the memory gap's hazard may hide (the drawn one and
    /// all the listed ones), and where hazard-free seeds are timed, `judged_past_m` beyond it.
    pub fn gap_marks(&self, spec: &ScenarioSpec) -> Option<(f64, f64)> {
        let (s_m, _) = self.gap_hazard(spec)?;
        let gap = spec.memory_gap.as_ref()?;
        let clear = gap.hiding.iter().fold(s_m, |far, p| far.max(p.s_m));
        Some((clear, clear + gap.judged_past_m.unwrap_or(0.0)))
    }

    /// When the memory gap's barrier lifts, and the actors of its gate arms present this seed:
    /// `gap_s` (drawn here when it is a range) after the hazard passed `hidden_from_d_m` (their
    /// hiding place when it is not given), whether or not they are present.
    pub fn barrier_lifts(&mut self, spec: &ScenarioSpec) -> Vec<(usize, f64)> {
        let Some(gap) = &spec.memory_gap else {
            return Vec::new();
        };
        let gap_s = gap.gap_s.sample(self.rng);
        let Some(walk) = self
            .walk_to_pause
            .get(gap.pedestrian as usize)
            .copied()
            .flatten()
        else {
            return Vec::new();
        };
        let hidden_from_d_m = self
            .hiding_place
            .map(|p| p.hidden_from_d_m)
            .or(gap.hidden_from_d_m)
            .unwrap_or(walk.pause_at_d_m);
        let hidden_s = walk.start_s + (hidden_from_d_m - walk.from_d_m).abs() / walk.speed_mps;
        let lift_s = hidden_s + gap_s;
        if let (Some(after), Some(id)) = (gap.step_out_after_lift_s, self.hazard_actor)
            && let Behaviour::Pedestrian(walker) = &mut self.actors[id].behaviour
            && let Some(Leg::Pause { until_s, .. }) = walker
                .legs
                .iter_mut()
                .find(|leg| matches!(leg, Leg::Pause { .. }))
        {
            *until_s = lift_s + after;
        }
        gap.barrier
            .iter()
            .filter_map(|&arm| self.parked_actors.get(arm as usize).copied().flatten())
            .map(|actor| (actor, lift_s))
            .collect()
    }

    pub fn place_scripted(&mut self, spec: &ScenarioSpec) {
        for p in &spec.parked {
            let present = self.present(p.probability);
            let (s, d) = (p.s_m.sample(self.rng), p.d_m.sample(self.rng));
            let (len, width) = (p.length_m.sample(self.rng), p.width_m.sample(self.rng));
            self.parked_actors
                .push(present.then_some(self.actors.len()));
            if present {
                self.push((len, width), (s, d), 0.0, Behaviour::Parked);
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
                self.push((c.length_m, 1.8), (s, d), speed, Behaviour::Car(driver));
            }
        }
        for (k, p) in spec.pedestrians.iter().enumerate() {
            let present = self.present(p.probability);
            let turns_back = self.present(p.turn_back_probability);
            let mut s = p.s_m.sample(self.rng);
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
            // Drawn last, so that scenarios without them keep every earlier draw.
            let linger_s = p.linger_s.sample(self.rng);
            let then_to = p.then_to_d_m.map(|d| d.sample(self.rng));
            // The memory gap's hazard hides at one of its places, drawn whether or not they
            // are present.
            if let Some(gap) = spec
                .memory_gap
                .as_ref()
                .filter(|g| g.pedestrian as usize == k && !g.hiding.is_empty())
            {
                let place = gap.hiding[self.rng.random_range(0..gap.hiding.len())];
                s = place.s_m;
                self.hiding_place = Some(place);
            }
            self.pedestrian_at.push((s, present));
            self.walk_to_pause.push(match (start, pause_at) {
                (
                    Leg::Start {
                        time_s,
                        ego_within_m: None,
                    },
                    Some(pause_at),
                ) => Some(WalkToPause {
                    start_s: time_s,
                    from_d_m: from,
                    speed_mps: speed,
                    pause_at_d_m: pause_at,
                }),
                _ => None,
            });
            let mut legs = match (turns_back, turn_at) {
                (true, Some(turn_at)) => vec![
                    start,
                    Leg::Walk {
                        to_d_m: turn_at,
                        speed_mps: speed,
                    },
                    Leg::Pause {
                        secs: 1.0,
                        ego_within_s: None,
                        ego_within_m: None,
                        ego_stopped_within_m: None,
                        patience_s: 0.0,
                        until_s: f64::INFINITY,
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
                            ego_within_m: p.step_out_when_ego_within_m,
                            ego_stopped_within_m: p.step_out_when_ego_stopped_within_m,
                            patience_s: p.patience_s,
                            until_s: f64::INFINITY,
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
            if let Some(then_to) = then_to {
                legs.extend([
                    Leg::Pause {
                        secs: linger_s,
                        ego_within_s: None,
                        ego_within_m: None,
                        ego_stopped_within_m: None,
                        patience_s: 0.0,
                        until_s: f64::INFINITY,
                    },
                    Leg::Walk {
                        to_d_m: then_to,
                        speed_mps: step_out_speed,
                    },
                ]);
            }
            if present {
                if spec
                    .memory_gap
                    .as_ref()
                    .is_some_and(|g| g.pedestrian as usize == k)
                {
                    self.hazard_actor = Some(self.actors.len());
                }
                // The leg out of the pause, when they step out without looking.
                let reckless_leg = legs
                    .iter()
                    .position(|leg| matches!(leg, Leg::Pause { .. }))
                    .filter(|_| p.step_out_reckless)
                    .map(|pause| pause + 1);
                let walker = Walker {
                    legs,
                    leg: 0,
                    leg_started_s: 0.0,
                    origin_d_m: from,
                    blocked_s: 0.0,
                    reckless_leg,
                };
                self.push((0.5, 0.5), (s, from), 0.0, Behaviour::Pedestrian(walker));
            }
        }
    }

    pub fn place_random(
        &mut self,
        t: &RandomTrafficSpec,
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
            let len = PARKED_LENGTH_M.sample(self.rng);
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
            self.push((len, 2.0), (s, d), 0.0, Behaviour::Parked);
        }
        let mut cars: Vec<(usize, f64)> = Vec::new();
        for _ in 0..t.cars {
            let desired = t.car_speed_mps.sample(self.rng);
            let mut placed = None;
            for _ in 0..400 {
                let lane = self.rng.random_range(0..lanes);
                let s = self.rng.random_range(0.0..(length - 30.0).max(1.0));
                let clear_of_cars = cars
                    .iter()
                    .all(|&(l, cs)| l != lane || (cs - s).abs() > 9.0);
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
                self.push((4.5, 1.8), (s, d), 0.8 * desired, Behaviour::Car(driver));
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
                reckless_leg: None,
            };
            self.push(
                (0.5, 0.5),
                (s, side * far),
                0.0,
                Behaviour::Pedestrian(walker),
            );
        }
    }
}
