//! The bundled weights (every kind's, and the 64-frame transformer's) on held-out seeds 0..200
//! (200 per scenario, as the bars ask), checked against every bar of the learned controllers:
//! - `mixed_traffic`: every kind reaches the goal in at least 90% of episodes;
//! - `occluded_crossing`: every kind with memory collides at most half as often as the RBF, at
//!   a mean speed not more than 10% below the RBF's;
//! - `sensor_dropout`: every kind with memory has fewer collision + off-road outcomes than the
//!   RBF.
//!
//! The README gives the table on seeds 0..200 and these bars on seeds 200..1000 too.

use memdrive_tests::memdrive;
use serde_json::Value;

#[test]
fn bundled_weights_meet_every_bar() {
    let out = memdrive(&[
        "eval",
        "--scenario",
        "sensor_dropout,occluded_crossing,mixed_traffic",
        "--seeds",
        "0..200",
        "--controller",
        &memdrive_models::ModelKind::bundled_names().join(","),
        "--json",
    ]);
    let v: Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
    let rows = v["results"].as_array().cloned().unwrap_or_default();
    let get = |controller: &str, scenario: &str, key: &str| {
        rows.iter()
            .find(|r| r["controller"] == controller && r["scenario"] == scenario)
            .and_then(|r| r[key].as_f64())
            .unwrap_or_else(|| panic!("no {key} for {controller} on {scenario}: {v}"))
    };
    let failures = |c: &str| {
        get(c, "sensor_dropout", "collision_rate") + get(c, "sensor_dropout", "offroad_rate")
    };
    // Every kind but the memoryless RBF.
    let with_memory: Vec<&str> = memdrive_models::ModelKind::bundled_names()
        .into_iter()
        .filter(|&id| id != "rbf")
        .collect();
    for &c in &with_memory {
        assert!(
            failures(c) < failures("rbf"),
            "{c} {} vs rbf {}",
            failures(c),
            failures("rbf")
        );
    }
    let collisions = |c: &str| get(c, "occluded_crossing", "collision_rate");
    let speed = |c: &str| get(c, "occluded_crossing", "mean_speed_mps");
    for &c in &with_memory {
        assert!(
            collisions(c) <= 0.5 * collisions("rbf"),
            "{c} collides in {} of occluded_crossing, rbf in {}",
            collisions(c),
            collisions("rbf")
        );
        assert!(
            speed(c) >= 0.9 * speed("rbf"),
            "{c} {} m/s vs rbf {}",
            speed(c),
            speed("rbf")
        );
    }
    for c in memdrive_models::ModelKind::bundled_names() {
        let goal = get(c, "mixed_traffic", "goal_rate");
        assert!(goal >= 0.9, "{c} reaches the mixed_traffic goal in {goal}");
    }
}
