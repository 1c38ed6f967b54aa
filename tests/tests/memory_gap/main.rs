//! The `memory_gap` scenario does what its file says: paired worlds (the same seed with and
//! without the hazard) give the expert bitwise-identical observations and actions from the
//! moment the hazard is last seen until it decides, `gap_s` later (and at most 0.3 s more); the
//! right call differs; a driver without memory cannot be both safe and quick.
//!
//! The ways a driver without memory might be both safe and quick, each tried and refused, are in
//! `compromise.rs`.

mod compromise;
mod guess;

use memdrive_sim::scenario::{Override, ScenarioSpec, builtin};
use memdrive_sim::{Controller, Controls, Expert, Outcome, Pilot, Privileged, World};

/// Where the pedestrian may hide, along the road (m): in front of one of three vans.
const HIDING_S_M: [f64; 3] = [43.7, 51.7, 59.7];
/// How far past the last of them a car is timed (m): `memory_gap.judged_past_m`.
const JUDGED_PAST_M: f64 = 25.0;

fn spec(gap_s: f64, hazard: bool) -> ScenarioSpec {
    let base = builtin("memory_gap")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("memory_gap is a built-in"));
    let set = [
        format!("memory_gap.gap_s={gap_s}"),
        format!("pedestrians.0.probability={}", if hazard { 1 } else { 0 }),
    ];
    let overrides: Vec<Override> = set
        .iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    base.with_overrides(&overrides)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// One episode, step by step: observations, actions, whether the hazard (actor of the
/// pedestrian kind) is reported, and the outcome.
struct Trace {
    observations: Vec<Vec<u32>>,
    actions: Vec<(u64, u64)>,
    seen: Vec<bool>,
    outcome: Outcome,
    /// First step with the ego's centre where it is timed: `JUDGED_PAST_M` past every place
    /// the hazard may hide.
    passed_step: Option<usize>,
}

fn drive(spec: &ScenarioSpec, seed: u64, controller: &mut dyn Privileged) -> Trace {
    let mut world = World::new(spec, seed);
    controller.reset();
    let mut trace = Trace {
        observations: Vec::new(),
        actions: Vec::new(),
        seen: Vec::new(),
        outcome: Outcome::Timeout,
        passed_step: None,
    };
    let clear_s_m = world
        .memory_gap_clear_s_m()
        .unwrap_or_else(|| panic!("memory_gap has a hazard"));
    assert_eq!(clear_s_m, HIDING_S_M[2]);
    let judged_s_m = world
        .memory_gap_judged_s_m()
        .unwrap_or_else(|| panic!("memory_gap has a hazard"));
    assert_eq!(judged_s_m, HIDING_S_M[2] + JUDGED_PAST_M);
    while world.outcome().is_none() {
        let hazard = world
            .actors()
            .iter()
            .position(|a| a.kind == memdrive_sim::actors::ActorKind::Pedestrian);
        trace
            .seen
            .push(hazard.is_some_and(|i| world.visibility()[i].visible_now));
        trace.observations.push(
            world
                .observation()
                .values()
                .iter()
                .map(|v| v.to_bits())
                .collect(),
        );
        let c: Controls = controller.act_in(&world);
        trace
            .actions
            .push((c.steer_rad.to_bits(), c.accel_mps2.to_bits()));
        world.step(c);
        if trace.passed_step.is_none() && world.ego_frenet().s_m > judged_s_m {
            trace.passed_step = Some(trace.actions.len());
        }
    }
    trace.outcome = world.outcome().unwrap_or(Outcome::Timeout);
    trace
}

/// The step of the last sighting before `until`, and the first step at which the expert's
/// actions differ between the paired runs.
fn decision(with: &Trace, without: &Trace) -> usize {
    (0..with.actions.len().min(without.actions.len()))
        .find(|&i| with.actions[i] != without.actions[i])
        .unwrap_or_else(|| panic!("the expert never decided differently"))
}

#[test]
fn paired_worlds_are_identical_from_the_last_sighting_until_the_expert_decides() {
    for gap in [0.2, 1.0, 4.0, 10.0] {
        for seed in 0..60 {
            let with = drive(&spec(gap, true), seed, &mut Expert::new());
            let without = drive(&spec(gap, false), seed, &mut Expert::new());
            let decided = decision(&with, &without);
            let last_seen = with.seen[..decided]
                .iter()
                .rposition(|&s| s)
                .unwrap_or_else(|| panic!("seed {seed}: the hazard was never seen"));
            // From the step after the last sighting the sensors report the same bits in both
            // worlds, and the expert does the same, until it decides.
            for step in last_seen + 1..=decided {
                assert_eq!(
                    with.observations[step],
                    without.observations[step],
                    "gap {gap} seed {seed}: observations differ at step {step}, {} steps after the last sighting",
                    step - last_seen
                );
            }
            assert!(
                with.actions[last_seen + 1..decided] == without.actions[last_seen + 1..decided]
            );
            let hidden_s = (decided - last_seen) as f64 * 0.1;
            // And the gap says how long it must remember: it decides as soon as the barrier
            // lifts, pulling away gently for the pedestrian it knows is there.
            assert!(
                hidden_s >= gap && hidden_s <= gap + 0.3 + 1e-9,
                "gap {gap} seed {seed}: the expert decided {hidden_s:.1} s after the last sighting"
            );
        }
    }
}

/// Replays recorded controls, whatever it observes.
struct Replay {
    actions: Vec<(u64, u64)>,
    next: usize,
}

impl Controller for Replay {
    fn name(&self) -> &str {
        "replay"
    }

    fn act(&mut self, _observation: &memdrive_sim::Observation) -> Controls {
        let (steer, accel) = self.actions.get(self.next).copied().unwrap_or((0, 0));
        self.next += 1;
        Controls {
            steer_rad: f64::from_bits(steer),
            accel_mps2: f64::from_bits(accel),
        }
    }

    fn reset(&mut self) {
        self.next = 0;
    }
}

/// Once hidden, the hazard stays hidden until they step out, however the car comes by: the
/// quick drive of the expert that knows the road is clear, replayed in the world with the
/// hazard, and constant speeds from a crawl to cruising. (A pedestrian standing 0.1 m from the
/// edge of the van's shadow was reported by the beam beside theirs as a car pulled away.)
#[test]
fn the_hidden_hazard_stays_hidden_until_they_step_out_however_the_car_comes() {
    let pause_d_m = |spec: &ScenarioSpec| {
        spec.pedestrians[0]
            .pause_at_d_m
            .map_or(f64::NAN, |p| p.min())
    };
    for seed in 0..30 {
        let quick = drive(&spec(2.0, false), seed, &mut Expert::new());
        let mut drivers: Vec<(String, ScenarioSpec, Pilot)> = vec![(
            "the expert's clear-road drive".into(),
            spec(2.0, true),
            Pilot::Sensing(Box::new(Replay {
                actions: quick.actions,
                next: 0,
            })),
        )];
        for cap in [1.0, 3.0, 5.0, 7.0, 9.0, 12.0] {
            let capped = Override::parse(&format!("ego.cruise_speed_mps={cap}"))
                .unwrap_or_else(|e| panic!("{e}"));
            let spec = spec(2.0, true)
                .with_overrides(&[capped])
                .unwrap_or_else(|e| panic!("{e}"));
            drivers.push((
                format!("{cap} m/s"),
                spec,
                Pilot::Privileged(Box::new(Expert::reactive())),
            ));
        }
        for (name, spec, mut driver) in drivers {
            let pause = pause_d_m(&spec);
            let mut world = World::new(&spec, seed);
            driver.reset();
            let mut hidden = false;
            while world.outcome().is_none() {
                let Some(i) = world
                    .actors()
                    .iter()
                    .position(|a| a.kind == memdrive_sim::actors::ActorKind::Pedestrian)
                else {
                    panic!("seed {seed}: the hazard is there");
                };
                let lateral = world
                    .road()
                    .project(world.actors()[i].pose().pos_in_world)
                    .d_m;
                let at_hiding_place = (lateral - pause).abs() < 0.01;
                let seen = world.visibility()[i].visible_now;
                if at_hiding_place && !seen {
                    hidden = true;
                }
                if hidden && lateral > pause + 0.01 {
                    break; // stepped out
                }
                assert!(
                    !(hidden && seen),
                    "seed {seed}, {name}: the hidden hazard was seen at {:.1} s",
                    world.time_s()
                );
                let c = driver.act(&world);
                world.step(c);
            }
            assert!(hidden, "seed {seed}, {name}: the hazard never hid");
        }
    }
}

#[test]
fn the_right_call_differs_and_only_memory_makes_it() {
    let seeds = 0..60;
    for gap in [0.5, 4.0] {
        let mut reactive_collisions = 0;
        for seed in seeds.clone() {
            for hazard in [true, false] {
                let expert = drive(&spec(gap, hazard), seed, &mut Expert::new());
                assert_eq!(
                    expert.outcome,
                    Outcome::Goal,
                    "gap {gap} seed {seed} hazard {hazard}"
                );
            }
            let reactive = drive(&spec(gap, true), seed, &mut Expert::reactive());
            reactive_collisions += usize::from(reactive.outcome == Outcome::Collision);
        }
        // A car that goes on without remembering collides.
        assert!(
            reactive_collisions >= 57,
            "gap {gap}: {reactive_collisions}/60"
        );
    }
}

#[test]
fn both_kinds_of_seed_are_equally_common_and_the_gap_is_settable() {
    let spec = builtin("memory_gap")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in"));
    let hazards = (0..1000u64)
        .filter(|&seed| {
            World::new(&spec, seed)
                .actors()
                .iter()
                .any(|a| a.kind == memdrive_sim::actors::ActorKind::Pedestrian)
        })
        .count();
    assert!(
        (450..=550).contains(&hazards),
        "{hazards} of 1000 seeds have the hazard"
    );
    for gap in ["0.2", "10", "20"] {
        let o =
            Override::parse(&format!("memory_gap.gap_s={gap}")).unwrap_or_else(|e| panic!("{e}"));
        assert!(spec.with_overrides(&[o]).is_ok(), "{gap}");
    }
    let o = Override::parse("memory_gap.gap_s=-1").unwrap_or_else(|e| panic!("{e}"));
    let err = spec
        .with_overrides(&[o])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("memory_gap.gap_s"), "{err}");
}

/// With `memory_gap.step_out_after_lift_s`, a hidden pedestrian steps out that long after the
/// barrier lifts, wherever the car is: they leave the van's nose then for a car that stays at
/// the barrier (and not before); the expert, which knows they will, waits for them at a
/// standstill.
#[test]
fn a_pedestrian_with_a_set_time_steps_out_then_and_the_expert_waits_for_them() {
    // The moment (s) the hazard leaves their hiding place at the van's nose (d = -4.4).
    let stepped_out = |world: &World, hazard: usize| world.actors()[hazard].d_m > -4.3;
    for after_s in [3.0, 8.0] {
        let set = spec(2.0, true)
            .with_overrides(&[Override::parse(&format!(
                "memory_gap.step_out_after_lift_s={after_s}"
            ))
            .unwrap_or_else(|e| panic!("{e}"))])
            .unwrap_or_else(|e| panic!("{e}"));
        for seed in 0..10 {
            // A car that never moves.
            let mut world = World::new(&set, seed);
            let lift_s = world
                .memory_gap_release_s()
                .unwrap_or_else(|| panic!("a barrier"));
            let hazard = world
                .actors()
                .iter()
                .position(|a| a.kind == memdrive_sim::actors::ActorKind::Pedestrian)
                .unwrap_or_else(|| panic!("seed {seed} has the hazard"));
            let mut out_s = None;
            while world.outcome().is_none() && out_s.is_none() {
                world.step(Controls {
                    steer_rad: 0.0,
                    accel_mps2: -1.0,
                });
                if world.time_s() > lift_s - 2.0 && stepped_out(&world, hazard) {
                    out_s = Some(world.time_s());
                }
            }
            let out = out_s.unwrap_or_else(|| panic!("seed {seed}: never came out"));
            assert!(
                out >= lift_s + after_s && out < lift_s + after_s + 0.5,
                "seed {seed}: lifted at {lift_s:.1} s, out at {out:.1} s, not just after {after_s} s"
            );
            // The expert stays at rest from the lift until they step out (it knows the moment
            // they leave their pause, a step or two before they are clear of the nose).
            let mut world = World::new(&set, seed);
            let mut expert = Expert::new();
            let mut moving_s = None;
            while world.outcome().is_none() && !stepped_out(&world, hazard) {
                let c = expert.act_in(&world);
                world.step(c);
                if world.time_s() > lift_s && world.ego().speed_mps > 0.01 {
                    moving_s.get_or_insert(world.time_s());
                }
            }
            let moving = moving_s.unwrap_or(f64::INFINITY);
            assert!(
                moving >= out - 0.25,
                "seed {seed}: the expert moved off at {moving:.1} s, before they stepped out at {out:.1} s"
            );
        }
    }
}

/// The car is held at the closed barrier: one that pushes the throttle while it waits senses,
/// step for step, exactly what one that brakes senses, until the barrier lifts. So how a
/// driver waits cannot carry what it saw past the lift, neither in its speed nor in where it
/// stands (a network that crept 1 m closer would also see the walk to the van from elsewhere).
#[test]
fn the_car_is_held_at_the_closed_barrier_whatever_it_does() {
    for seed in 0..10 {
        let gap = spec(2.0, true);
        let drive = |accel_mps2: f64| {
            let mut world = World::new(&gap, seed);
            let lift_s = world
                .memory_gap_release_s()
                .unwrap_or_else(|| panic!("a barrier"));
            let mut frames = Vec::new();
            while world.time_s() < lift_s {
                frames.push(
                    world
                        .observation()
                        .values()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                );
                world.step(Controls {
                    steer_rad: 0.0,
                    accel_mps2,
                });
            }
            (frames, world.ego_frenet().s_m)
        };
        let (pushing, braking) = (drive(3.0), drive(-1.0));
        assert_eq!(pushing, braking, "seed {seed}");
    }
}
