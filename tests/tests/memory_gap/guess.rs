//! A driver without memory can only guess on `memory_gap`: not one of 1,152 such drivers
//! is right in more than 60% of the episodes, where a guess scores 50% and memory 100%.
//!
//! `compromise.rs` refuses the drivers that are safe in every seed with the pedestrian and
//! still quick without them. This refuses the partial ones too: careful at one or two of the
//! three vans and quick at the others, right whenever the pedestrian hides where it was careful.
//! With the pedestrian of an earlier version (stepping out when the car came within 0.42 s, but
//! stopping short of a car already level with them, the car timed at the last van, and the set
//! time of 8 s) such
//! drivers were right in up to 89% of the episodes: a car pulling away at 3 m/s², or driving
//! 0.5 m left of its lane's centre, got past before the pedestrian was in its path, and one
//! that slowed at the last van was timed before it had to speed up again.

use super::compromise::pedestrian_ahead;
use super::{HIDING_S_M, drive, spec};
use memdrive_sim::{Controller, Controls, Expert, Outcome, Privileged};

/// A driver without memory: the reactive expert (it brakes for any pedestrian it sees, with
/// their true motion), pulling away at `pull_mps2` up to cruising speed, keeping `offset_m` to
/// the left of its lane's centre, slowing at some of the vans (`caps_mps`: the speed it holds
/// from `before_m` before that van's hiding place until it is level with it), and braking at
/// 8 m/s² the moment a pedestrian shows near the road ahead.
#[derive(Clone)]
struct Guess {
    inner: Expert,
    pull_mps2: f64,
    offset_m: f64,
    before_m: f64,
    caps_mps: [Option<f64>; 3],
    planned: Controls,
}

impl Privileged for Guess {
    fn observe_truth(&mut self, t: &memdrive_sim::GroundTruth<'_>) {
        let s = t.ego_frenet.s_m;
        let v = t.ego.speed_mps;
        self.planned = self.inner.plan(t);
        let mut accel = self.planned.accel_mps2;
        if accel > 0.0 {
            accel = accel.max(self.pull_mps2.min(2.0 * (t.cruise_speed_mps - v)));
        }
        for (place, cap) in HIDING_S_M.iter().zip(self.caps_mps) {
            if let Some(cap) = cap
                && s < place + 0.5
            {
                let ahead = (place - self.before_m - s).max(0.0);
                let envelope = (cap * cap + 2.0 * 6.0 * ahead).sqrt();
                accel = accel.min(4.0 * (envelope - v));
            }
        }
        if pedestrian_ahead(t) {
            accel = -8.0;
        }
        // Pure pursuit of a line `offset_m` left of the lane's centre.
        let ego = t.ego;
        let lookahead = (4.0 + 0.8 * v).clamp(6.0, 25.0);
        let target = t.road.point_at(s + lookahead, -1.75 + self.offset_m);
        let rel = target - ego.pose.pos_in_world;
        let alpha = rel.angle() - ego.pose.heading_rad;
        self.planned = Controls {
            steer_rad: (2.0 * t.limits.wheelbase_m * alpha.sin() / rel.length().max(1.0)).atan(),
            accel_mps2: accel.clamp(-8.0, self.pull_mps2.max(1.5)),
        };
    }
}

impl Controller for Guess {
    fn name(&self) -> &str {
        "guess"
    }

    fn act(&mut self, _observation: &memdrive_sim::Observation) -> Controls {
        self.planned
    }

    fn reset(&mut self) {
        self.inner.reset();
    }
}

/// Every combination of: pulling away at 1.5 or 3 m/s²; 0, 0.4 or 0.8 m left of the lane's
/// centre; at each van, no slowing or slowing to 1.5, 3.5 or 7 m/s; from 1, 4 or 8 m before
/// the hiding places. Scored as `memdrive horizon` scores (4 s gap, 60 seeds with the
/// pedestrian and the same 60 without), none is right in more than 60% of the episodes.
#[test]
fn no_driver_without_memory_does_better_than_guess() {
    const SEEDS: u64 = 60;
    let (with, without) = (spec(4.0, true), spec(4.0, false));
    let quick: Vec<usize> = (0..SEEDS)
        .map(|seed| {
            let clear = drive(&without, seed, &mut Expert::new());
            assert_eq!(clear.outcome, Outcome::Goal, "seed {seed}");
            clear.passed_step.unwrap_or(usize::MAX / 2)
        })
        .collect();
    let caps = [None, Some(1.5), Some(3.5), Some(7.0)];
    let mut drivers = Vec::new();
    for pull_mps2 in [1.5, 3.0] {
        for offset_m in [0.0, 0.4, 0.8] {
            for before_m in [1.0, 4.0, 8.0] {
                for a in caps {
                    for b in caps {
                        for c in caps {
                            drivers.push(Guess {
                                inner: Expert::reactive(),
                                pull_mps2,
                                offset_m,
                                before_m,
                                caps_mps: [a, b, c],
                                planned: Controls::default(),
                            });
                        }
                    }
                }
            }
        }
    }
    let score = |driver: &Guess| {
        let right: (usize, usize) = (0..SEEDS)
            .map(|seed| {
                let safe = drive(&with, seed, &mut driver.clone()).outcome != Outcome::Collision;
                let free = drive(&without, seed, &mut driver.clone());
                let quick = free.outcome != Outcome::Collision
                    && free
                        .passed_step
                        .is_some_and(|s| s <= quick[seed as usize] + 10);
                (usize::from(safe), usize::from(quick))
            })
            .fold((0, 0), |(s, q), (a, b)| (s + a, q + b));
        ((right.0 + right.1) as f64 / (2 * SEEDS) as f64, right.0)
    };
    let scores: Vec<(f64, usize)> = std::thread::scope(|scope| {
        let halves: Vec<_> = drivers
            .chunks(drivers.len().div_ceil(2))
            .map(|half| scope.spawn(|| half.iter().map(score).collect::<Vec<_>>()))
            .collect();
        halves
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|_| panic!("a scorer panicked")))
            .collect()
    });
    let (best, at) = scores
        .iter()
        .zip(&drivers)
        .max_by(|a, b| a.0.0.total_cmp(&b.0.0))
        .unwrap_or_else(|| panic!("no drivers"));
    eprintln!(
        "best without memory: {:.1}% right ({} m/s², {} m left, {:?} m/s from {} m before)",
        best.0 * 100.0,
        at.pull_mps2,
        at.offset_m,
        at.caps_mps,
        at.before_m
    );
    assert!(
        best.0 <= 0.6,
        "pulling away at {} m/s², {} m left, slowing to {:?} m/s from {} m before the vans is right in {:.0}% of the episodes",
        at.pull_mps2,
        at.offset_m,
        at.caps_mps,
        at.before_m,
        best.0 * 100.0
    );
    // And care works, it only costs time: some drivers slowing at every van are safe in every
    // seed with the pedestrian.
    assert!(
        scores
            .iter()
            .zip(&drivers)
            .any(|(s, d)| d.caps_mps.iter().all(Option::is_some) && s.1 == SEEDS as usize),
        "no careful driver is safe: the scenario cannot be driven"
    );
}

/// Why the pedestrian steps out without looking: a car that drives on past the vans, fast and
/// 0.8 m left of its lane's centre, hits them wherever they hide; with a pedestrian who stops
/// short of a car already level with them (and sets off when it is 0.42 s away), the same car
/// got past them unharmed (in 59 of these 60 seeds).
#[test]
fn a_car_that_drives_on_fast_and_wide_hits_them_only_if_they_do_not_look() {
    let driver = Guess {
        inner: Expert::reactive(),
        pull_mps2: 3.0,
        offset_m: 0.8,
        before_m: 1.0,
        caps_mps: [None; 3],
        planned: Controls::default(),
    };
    let careful = [
        "pedestrians.0.step_out_reckless=false",
        "pedestrians.0.step_out_when_ego_within_s=0.42",
        "pedestrians.0.step_out_when_ego_within_m=0",
        "ego.max_accel_mps2=3",
    ]
    .map(|s| memdrive_sim::scenario::Override::parse(s).unwrap_or_else(|e| panic!("{e}")));
    let hits = |spec: &memdrive_sim::ScenarioSpec| {
        (0..60)
            .filter(|&seed| drive(spec, seed, &mut driver.clone()).outcome == Outcome::Collision)
            .count()
    };
    let now = hits(&spec(4.0, true));
    let before = hits(
        &spec(4.0, true)
            .with_overrides(&careful)
            .unwrap_or_else(|e| panic!("{e}")),
    );
    assert_eq!(now, 60, "hit in {now} of 60 seeds");
    assert!(before <= 6, "hit in {before} of 60 seeds before");
}
