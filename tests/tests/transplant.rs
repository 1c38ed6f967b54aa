//! A controller's memory is a value: it can be copied out and put back (resume from the past),
//! transplanted into another controller of the same kind, and a zero memory is the same as
//! Forget. On `memory_gap` the GRU's memory from the run that saw the pedestrian, put into the
//! identical run that did not, changes what it does.

use memdrive_models::gru::HiddenState;
use memdrive_models::weights::{ModelKind, WeightFile};
use memdrive_models::{MemoryController, MemoryState, Model};
use memdrive_sim::scenario::{Override, ScenarioSpec, builtin};
use memdrive_sim::{Controller, Controls, Expert, ObservationSpec, Privileged, World};
use std::path::Path;

fn model(id: &str) -> Model {
    let kind = ModelKind::parse(id).unwrap_or_else(|e| panic!("{e}"));
    let path = Path::new("bundled");
    WeightFile::from_bytes(kind.bundled_weights(), path, &ObservationSpec::new(32))
        .and_then(|f| Model::from_file(f, path))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn gap_world(hazard: bool, seed: u64) -> World {
    let spec: ScenarioSpec = builtin("memory_gap")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in"));
    let o = Override::parse(&format!("pedestrians.0.probability={}", u8::from(hazard)))
        .unwrap_or_else(|e| panic!("{e}"));
    World::new(
        &spec.with_overrides(&[o]).unwrap_or_else(|e| panic!("{e}")),
        seed,
    )
}

fn bits(c: Controls) -> (u64, u64) {
    (c.steer_rad.to_bits(), c.accel_mps2.to_bits())
}

/// Drives `world` with the expert until the barrier lifts, `controller` watching: it sees
/// every frame and acts, but the expert's actions move the car, so paired runs stay identical
/// in everything but what the controller remembers.
fn until_release(world: &mut World, controller: &mut dyn MemoryController) {
    let release = world
        .memory_gap_release_s()
        .unwrap_or_else(|| panic!("no barrier"));
    let mut expert = Expert::new();
    expert.reset();
    controller.reset();
    while world.time_s() < release {
        controller.act(world.observation());
        let c = expert.act_in(world);
        world.step(c);
    }
}

#[test]
fn a_transplanted_memory_changes_the_action() {
    let gru = model("gru");
    let mut changed = 0;
    for seed in 0..10 {
        let (mut seen, mut unseen) = (gap_world(true, seed), gap_world(false, seed));
        let (mut a, mut b) = (gru.controller(), gru.controller());
        until_release(&mut seen, a.as_mut());
        until_release(&mut unseen, b.as_mut());
        // The frames are the same now: only memory can tell the runs apart.
        assert_eq!(
            seen.observation().values(),
            unseen.observation().values(),
            "seed {seed}"
        );
        let own = bits(b.act(unseen.observation()));
        // Replacing the whole state undoes that step's update: this is the step again, with
        // the other run's memory.
        b.set_memory_state(&a.memory_state())
            .unwrap_or_else(|e| panic!("{e}"));
        let transplanted = bits(b.act(unseen.observation()));
        let donor = bits(a.act(seen.observation()));
        assert_eq!(
            transplanted, donor,
            "seed {seed}: the transplant is the donor's memory"
        );
        changed += usize::from(transplanted != own);
    }
    assert!(
        changed >= 8,
        "the transplant changed the action in {changed} of 10 seeds"
    );
}

#[test]
fn memory_copied_out_and_put_back_resumes_bit_for_bit() {
    for &kind in ModelKind::all() {
        let m = model(kind.id());
        let mut world = gap_world(true, 3);
        let mut c = m.controller();
        c.reset();
        let mut frames = Vec::new();
        for _ in 0..60 {
            frames.push(world.observation().clone());
            let a = c.act(world.observation());
            world.step(a);
        }
        let saved = c.memory_state();
        let later: Vec<_> = frames.iter().map(|f| bits(c.act(f))).collect();
        let mut fresh = m.controller();
        fresh.reset();
        fresh
            .set_memory_state(&saved)
            .unwrap_or_else(|e| panic!("{e}"));
        let resumed: Vec<_> = frames.iter().map(|f| bits(fresh.act(f))).collect();
        assert_eq!(later, resumed, "{kind:?}");
    }
}

#[test]
fn a_zero_memory_is_forget_and_a_foreign_one_is_refused() {
    let (gru, transformer) = (model("gru"), model("transformer"));
    let mut world = gap_world(true, 5);
    let frames: Vec<_> = (0..40)
        .map(|_| {
            let f = world.observation().clone();
            world.step(Controls::default());
            f
        })
        .collect();
    for m in [&gru, &transformer] {
        let run = |zero: bool| {
            let mut c = m.controller();
            c.reset();
            for f in &frames[..30] {
                c.act(f);
            }
            if zero {
                // A controller that has seen nothing holds a zero memory.
                let empty = m.controller().memory_state();
                c.set_memory_state(&empty).unwrap_or_else(|e| panic!("{e}"));
            } else {
                c.forget();
            }
            frames[30..]
                .iter()
                .map(|f| bits(c.act(f)))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(true), run(false));
    }
    let mut g = gru.controller();
    g.act(&frames[0]);
    let before = g.memory_state();
    let mut t = transformer.controller();
    t.act(&frames[0]);
    let err = g
        .set_memory_state(&t.memory_state())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert_eq!(
        err,
        "cannot take the memory of a transformer of width 64 into a GRU of 64 units"
    );
    let err = g
        .set_memory_state(&MemoryState::new(
            "a GRU of 3 units",
            HiddenState(vec![0.0; 3]),
        ))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("3 units"), "{err}");
    let (Some(kept), Some(was)) = (
        g.memory_state().get::<HiddenState>().cloned(),
        before.get::<HiddenState>(),
    ) else {
        panic!("not a GRU state");
    };
    assert_eq!(&kept, was, "a refused state changed the memory");
    let mut r = model("rbf").controller();
    assert!(r.set_memory_state(&g.memory_state()).is_err());
    let nothing = model("rbf").controller().memory_state();
    assert!(r.set_memory_state(&nothing).is_ok());
}
