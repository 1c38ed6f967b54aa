//! Properties that hold for any controls and any scene: physical limits, continuity, and a
//! lidar that only reports what a ray could reach.

use memdrive_sim::geometry::{OrientedBox, Pose, Segment, Vec2, wrap_angle};
use memdrive_sim::lidar::{Hit, Lidar, LidarScan};
use memdrive_sim::scenario::builtin;
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controls, World};
use proptest::prelude::*;

fn world(name: &str, seed: u64) -> World {
    match builtin(name) {
        Some(Ok(spec)) => World::new(&spec, seed),
        other => panic!("{name}: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever a controller asks (NaN and absurd values included), speed stays within
    /// [0, max], the heading changes at most as fast as the steering limit allows, and the
    /// car moves no farther per step than its speed allows.
    #[test]
    fn ego_respects_its_limits(
        seed in 0u64..1000,
        scenario in prop::sample::select(vec!["occluded_crossing", "lead_brake", "cut_in", "sensor_dropout", "mixed_traffic"]),
        controls in prop::collection::vec((-3.0f64..3.0, -30.0f64..30.0, 0u8..20), 1..120),
    ) {
        let mut w = world(scenario, seed);
        let limits = *w.limits();
        for (steer, accel, poison) in controls {
            let before = *w.ego();
            let c = if poison == 0 { Controls { steer_rad: f64::NAN, accel_mps2: accel } } else { Controls { steer_rad: steer, accel_mps2: accel } };
            w.step(c);
            let after = *w.ego();
            prop_assert!(after.speed_mps >= 0.0 && after.speed_mps <= limits.max_speed_mps);
            let max_turn = limits.max_speed_mps.max(before.speed_mps + 3.0 * DT_SECS) * limits.max_steer_rad.tan() / limits.wheelbase_m * DT_SECS;
            prop_assert!(wrap_angle(after.pose.heading_rad - before.pose.heading_rad).abs() <= max_turn + 1e-9);
            let moved = (after.pose.pos_in_world - before.pose.pos_in_world).length();
            prop_assert!(moved <= 0.5 * (before.speed_mps + after.speed_mps) * DT_SECS + 1e-9);
            if w.outcome().is_some() { break; }
        }
    }

    /// A beam never reports a hit farther than the nearest box any ray inside it crosses, and
    /// every actor it reports is reached first by some ray inside that beam (so an actor hidden
    /// behind others in every direction is never reported as seen).
    #[test]
    fn lidar_reports_only_what_rays_reach(
        boxes in prop::collection::vec((-40.0f64..40.0, -40.0f64..40.0, -3.2f64..3.2, 0.4f64..10.0, 0.4f64..3.0), 1..12),
        heading in -3.2f64..3.2,
    ) {
        let lidar = Lidar::new(32, 60.0);
        let origin = Vec2::ZERO;
        let shapes: Vec<OrientedBox> = boxes.iter()
            .map(|&(x, y, h, l, w)| OrientedBox::new(Pose { pos_in_world: Vec2::new(x, y), heading_rad: h }, l, w))
            .filter(|b| !b.contains(origin) && (b.center - origin).length() > b.bounding_radius() + 0.1)
            .collect();
        let walls = [Segment::new(Vec2::new(-80.0, 30.0), Vec2::new(80.0, 30.0))];
        let mut scan = LidarScan::default();
        let tagged = shapes.iter().enumerate().map(|(i, b)| (b, Hit::Vehicle(i)));
        lidar.sweep(origin, heading, tagged, walls.iter(), &mut scan);
        let width = lidar.beam_width_rad();
        let first_hit = |dir: Vec2| {
            let mut best = (lidar.range_m(), Hit::Nothing);
            for (i, b) in shapes.iter().enumerate() {
                if let Some(t) = b.ray_entry(origin, dir) && t < best.0 { best = (t, Hit::Vehicle(i)); }
            }
            if let Some(t) = walls[0].ray_hit(origin, dir) && t < best.0 { best = (t, Hit::Edge); }
            best
        };
        for beam in 0..lidar.beams() {
            let rays = 300;
            let mut reached = false;
            // Evenly spaced rays, plus one hugging each edge for slivers thinner than the spacing.
            let offsets = (0..rays).map(|k| (k as f64 + 0.5) / rays as f64).chain([1e-9, 1.0 - 1e-9]);
            for offset in offsets {
                let angle = heading + (beam as f64 + offset) * width;
                let (t, hit) = first_hit(Vec2::from_angle(angle));
                prop_assert!(scan.ranges_m[beam] <= t + 1e-9, "beam {beam} reports {} beyond a hit at {t}", scan.ranges_m[beam]);
                reached |= hit == scan.hits[beam];
            }
            if scan.hits[beam] != Hit::Nothing {
                prop_assert!(reached, "beam {beam} reports {:?}, which no ray inside it reaches first", scan.hits[beam]);
            }
        }
    }
}

/// Actors the world marks as seen are exactly those some beam reports.
#[test]
fn visibility_matches_the_scan() {
    for seed in 0..10 {
        let mut w = world("mixed_traffic", seed);
        for _ in 0..200 {
            let seen: Vec<usize> = w.scan().hits.iter().filter_map(|h| h.actor()).collect();
            for (i, v) in w.visibility().iter().enumerate() {
                assert_eq!(v.visible_now, seen.contains(&i), "seed {seed} actor {i}");
            }
            w.step(Controls {
                steer_rad: 0.0,
                accel_mps2: 0.5,
            });
            if w.outcome().is_some() {
                break;
            }
        }
    }
}

/// During a sensor dropout every beam reports nothing and nobody is seen, but the memory of
/// when they were last seen stays.
#[test]
fn dropout_blanks_the_lidar() {
    let mut w = world("sensor_dropout", 1);
    let mut blank_steps = 0;
    while w.outcome().is_none() && w.steps() < 250 {
        if w.sensor_dropout() {
            blank_steps += 1;
            assert!(w.scan().hits.iter().all(|h| *h == Hit::Nothing));
            assert!(w.scan().ranges_m.iter().all(|r| *r == w.lidar().range_m()));
            assert!(w.visibility().iter().all(|v| !v.visible_now));
            assert!(w.visibility().iter().any(|v| v.last_seen_step.is_some()));
        }
        w.step(Controls {
            steer_rad: 0.0,
            accel_mps2: -1.0,
        });
    }
    assert!((5..=20).contains(&blank_steps), "{blank_steps} blank steps");
}

/// The same scenario and seed give the same episode, bit for bit.
#[test]
fn episodes_are_deterministic() {
    for name in ["occluded_crossing", "sensor_dropout", "mixed_traffic"] {
        let run = || {
            let mut w = world(name, 42);
            let mut expert = memdrive_sim::Pilot::Privileged(Box::new(memdrive_sim::Expert::new()));
            memdrive_sim::drive(&mut w, &mut expert);
            (
                w.metrics().trajectory_hash,
                w.steps(),
                w.observation().values().to_vec(),
            )
        };
        assert_eq!(run(), run(), "{name}");
    }
}
