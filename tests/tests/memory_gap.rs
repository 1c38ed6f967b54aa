//! The `memory_gap` scenario does what its file says: paired worlds (the same seed with and
//! without the hazard) give the expert bitwise-identical observations and actions from the
//! moment the hazard is last seen until it decides, at least `gap_s` later; the right call
//! differs; a driver without memory cannot be both safe and quick.

use memdrive_sim::scenario::{Override, ScenarioSpec, builtin};
use memdrive_sim::{Controller, Controls, Expert, Outcome, World};

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
    /// First step with the ego's centre past the hiding place (s = 43.7).
    passed_step: Option<usize>,
}

fn drive(spec: &ScenarioSpec, seed: u64, controller: &mut dyn Controller) -> Trace {
    let mut world = World::new(spec, seed);
    controller.reset();
    let mut trace = Trace {
        observations: Vec::new(),
        actions: Vec::new(),
        seen: Vec::new(),
        outcome: Outcome::Timeout,
        passed_step: None,
    };
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
        controller.observe_truth(&world.truth());
        let c: Controls = controller.act(world.observation());
        trace
            .actions
            .push((c.steer_rad.to_bits(), c.accel_mps2.to_bits()));
        world.step(c);
        if trace.passed_step.is_none() && world.ego_frenet().s_m > 43.7 {
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
        for seed in 0..40 {
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
            assert!(
                hidden_s >= gap,
                "gap {gap} seed {seed}: the expert decided {hidden_s:.1} s after the last sighting"
            );
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

/// The best a driver without memory can do is a guess: every constant speed limit that is safe
/// with the hazard costs more than a second without it (median over seeds), compared with the
/// expert, which knows the road is clear.
#[test]
fn no_speed_is_both_safe_and_quick_without_memory() {
    let mut safe_caps = 0;
    for cap in [2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0] {
        let capped = |hazard| {
            let limit = Override::parse(&format!("ego.cruise_speed_mps={cap}"))
                .unwrap_or_else(|e| panic!("{e}"));
            spec(2.0, hazard)
                .with_overrides(&[limit])
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let safe = (0..60).all(|seed| {
            drive(&capped(true), seed, &mut Expert::reactive()).outcome != Outcome::Collision
        });
        if !safe {
            continue;
        }
        safe_caps += 1;
        let mut lost: Vec<f64> = (0..60)
            .map(|seed| {
                let slow = drive(&capped(false), seed, &mut Expert::reactive());
                let quick = drive(&spec(2.0, false), seed, &mut Expert::new());
                let step = |t: &Trace| t.passed_step.unwrap_or(usize::MAX / 2) as f64;
                (step(&slow) - step(&quick)) * 0.1
            })
            .collect();
        lost.sort_by(f64::total_cmp);
        assert!(
            lost[30] > 1.0,
            "{cap} m/s is safe and loses only {:.1} s",
            lost[30]
        );
    }
    assert!(
        safe_caps >= 1,
        "no constant speed is safe: the scenario cannot be driven"
    );
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
