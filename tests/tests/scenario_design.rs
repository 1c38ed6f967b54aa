//! The built-in scenarios do what they claim: memory matters in them.

use memdrive_sim::actors::ActorKind;
use memdrive_sim::scenario::builtin;
use memdrive_sim::{Controller, Expert, Outcome, Privileged, World};

fn spec(name: &str) -> memdrive_sim::ScenarioSpec {
    match builtin(name) {
        Some(Ok(s)) => s,
        other => panic!("built-in {name}: {other:?}"),
    }
}

/// Per crossing pedestrian of `occluded_crossing`, with a driver that does not slow for what it
/// cannot see (the reactive expert): the longest unbroken time seen while crossing towards the
/// truck's kerb, and how long after the last sighting on the way they step back out.
#[test]
fn occluded_crossing_pedestrians_are_seen_then_hidden_then_step_out() {
    let spec = spec("occluded_crossing");
    let (mut crossing, mut turning_back, mut nobody) = (0, 0, 0);
    let mut hidden_secs = Vec::new();
    let mut outcomes = Vec::new();
    for seed in 0..200 {
        let mut world = World::new(&spec, seed);
        let Some(ped) = world
            .actors()
            .iter()
            .position(|a| a.kind == ActorKind::Pedestrian)
        else {
            nobody += 1;
            continue;
        };
        let mut expert = Expert::reactive();
        expert.reset();
        let (mut run, mut best_run) = (0u32, 0u32);
        let mut last_seen = None;
        let mut reached_kerb = false;
        let mut stepped_out_after = None;
        while world.outcome().is_none() {
            let a = &world.actors()[ped];
            let seen = world.visibility()[ped].visible_now;
            if a.lateral_mps < 0.0 && seen {
                run += 1;
                best_run = best_run.max(run);
            } else {
                run = 0;
            }
            if seen && a.lateral_mps < 0.0 {
                last_seen = Some(world.steps());
            }
            if a.d_m < -3.9 {
                reached_kerb = true;
            }
            if reached_kerb && a.lateral_mps > 0.0 && stepped_out_after.is_none() {
                stepped_out_after = last_seen.map(|s| f64::from(world.steps() - s) * 0.1);
            }
            let c = expert.act_in(&world);
            world.step(c);
        }
        outcomes.push(world.outcome());
        if reached_kerb {
            crossing += 1;
            assert!(
                best_run >= 10,
                "seed {seed}: seen walking for only {best_run} steps"
            );
            let hidden =
                stepped_out_after.unwrap_or_else(|| panic!("seed {seed}: never stepped out"));
            hidden_secs.push(hidden);
        } else {
            turning_back += 1;
        }
    }
    hidden_secs.sort_by(f64::total_cmp);
    eprintln!(
        "crossing {crossing}, turning back {turning_back}, nobody {nobody}; hidden before stepping out: min {:.1} s, median {:.1} s, max {:.1} s",
        hidden_secs[0],
        hidden_secs[hidden_secs.len() / 2],
        hidden_secs[hidden_secs.len() - 1]
    );
    // Both kinds of seed are common.
    assert!(
        crossing >= 60 && turning_back + nobody >= 60,
        "{crossing} vs {turning_back} + {nobody}"
    );
    for h in &hidden_secs {
        assert!((1.0..=4.0).contains(h), "hidden for {h} s");
    }
    // Without memory, most of those crossings end in a collision.
    let collisions = outcomes
        .iter()
        .filter(|o| **o == Some(Outcome::Collision))
        .count();
    assert!(
        collisions * 2 >= crossing,
        "reactive driver collided in only {collisions} of {crossing} crossings"
    );
}
