//! The bundled weights on held-out seeds 0..60 (what fits in CI time), checked against the
//! bars of the learned-controller issue that they meet today:
//! - `sensor_dropout`: GRU and transformer each have fewer collision + off-road outcomes than RBF;
//! - `occluded_crossing`: the transformer's collision rate is at most half the RBF's, at a mean
//!   speed not more than 10% below the RBF's;
//! - `mixed_traffic`: the transformer reaches the goal in at least 90% of episodes.
//!
//! Not yet met, and so not asserted (see the README): GRU collisions on `occluded_crossing`
//! (7.5% against the RBF's 0%), and the RBF's and GRU's `mixed_traffic` goal rates.

use memdrive_tests::memdrive;
use serde_json::Value;

#[test]
fn bundled_weights_meet_the_bars_they_meet_today() {
    let out = memdrive(&[
        "eval",
        "--scenario",
        "sensor_dropout,occluded_crossing,mixed_traffic",
        "--seeds",
        "0..60",
        "--controller",
        "rbf,gru,transformer",
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
    for c in ["gru", "transformer"] {
        assert!(
            failures(c) < failures("rbf"),
            "{c} {} vs rbf {}",
            failures(c),
            failures("rbf")
        );
    }
    let collisions = |c: &str| get(c, "occluded_crossing", "collision_rate");
    assert!(collisions("transformer") <= 0.5 * collisions("rbf"));
    let speed = |c: &str| get(c, "occluded_crossing", "mean_speed_mps");
    assert!(speed("transformer") >= 0.9 * speed("rbf"));
    assert!(get("transformer", "mixed_traffic", "goal_rate") >= 0.9);
}
