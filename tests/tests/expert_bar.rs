//! The expert's bar: over seeds 0-199 of every built-in scenario, no collision, never off the
//! road, and at least 95% of episodes reach the goal. Run through `memdrive eval`, in parallel.

use memdrive_tests::memdrive;
use serde_json::Value;

#[test]
fn expert_never_collides_never_leaves_the_road_and_reaches_the_goal() {
    let out = memdrive(&[
        "eval",
        "--scenario",
        "all",
        "--seeds",
        "0..200",
        "--controller",
        "expert",
        "--json",
    ]);
    let v: Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
    let rows = v["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 6, "{v}");
    for row in rows {
        let rate = |k: &str| row[k].as_f64().unwrap_or(f64::NAN);
        assert_eq!(row["episodes"], 200);
        assert_eq!(rate("collision_rate"), 0.0, "{row}");
        assert_eq!(rate("offroad_rate"), 0.0, "{row}");
        assert!(rate("goal_rate") >= 0.95, "{row}");
    }
}
