//! The command line, run as a user runs it: outputs, JSON contracts, determinism, bad input.

mod files;
mod learned;

use memdrive_tests::memdrive;
use serde_json::Value;
use std::path::PathBuf;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

#[test]
fn run_prints_the_documented_json() {
    let out = memdrive(&[
        "run",
        "--scenario",
        "lead_brake",
        "--seed",
        "3",
        "--controller",
        "expert",
        "--json",
    ]);
    let v = json(out.ok());
    for key in [
        "scenario",
        "seed",
        "controller",
        "outcome",
        "steps",
        "progress_m",
        "mean_speed_mps",
        "min_ttc_s",
        "mean_abs_jerk",
        "trajectory_hash",
    ] {
        assert!(v.get(key).is_some(), "missing {key} in {v}");
    }
    assert_eq!(v["scenario"], "lead_brake");
    assert_eq!(v["seed"], 3);
    assert_eq!(v["outcome"], "goal");
    assert!(v["progress_m"].as_f64().is_some_and(|p| p > 400.0), "{v}");
}

#[test]
fn the_same_seed_gives_the_same_trajectory_and_another_seed_does_not() {
    let hash = |seed: &str| {
        let out = memdrive(&[
            "run",
            "--scenario",
            "mixed_traffic",
            "--seed",
            seed,
            "--json",
        ]);
        json(out.ok())["trajectory_hash"]
            .as_str()
            .map(str::to_owned)
    };
    let first = hash("11");
    assert!(first.as_ref().is_some_and(|h| h.len() == 16), "{first:?}");
    assert_eq!(first, hash("11"));
    assert_ne!(first, hash("12"));
}

#[test]
fn eval_results_do_not_depend_on_the_thread_count() {
    let args = |threads: &'static str| {
        [
            "eval",
            "--scenario",
            "occluded_crossing,cut_in",
            "--seeds",
            "0..24",
            "--controller",
            "expert,reactive",
            "--threads",
            threads,
            "--json",
        ]
    };
    let one = memdrive(&args("1"));
    let three = memdrive(&args("3"));
    assert_eq!(one.ok(), three.ok());
    let v = json(one.ok());
    let rows = v["results"].as_array().map_or(0, Vec::len);
    assert_eq!(rows, 4, "{v}");
    let row = &v["results"][0];
    for key in [
        "controller",
        "scenario",
        "episodes",
        "goal_rate",
        "collision_rate",
        "offroad_rate",
        "timeout_rate",
        "mean_speed_mps",
        "mean_progress_m",
    ] {
        assert!(row.get(key).is_some(), "missing {key} in {row}");
    }
    assert_eq!(row["episodes"], 24);
}

#[test]
fn eval_prints_a_table_by_default() {
    let out = memdrive(&["eval", "--scenario", "cut_in", "--seeds", "0..4"]);
    let text = out.ok();
    assert!(
        text.lines().next().is_some_and(|l| l.contains("collision")),
        "{text}"
    );
    assert!(
        text.contains("expert") && text.contains("cut_in") && text.contains("100.0%"),
        "{text}"
    );
}

#[test]
fn scenarios_lists_every_builtin_with_a_description() {
    let out = memdrive(&["scenarios"]);
    let text = out.ok();
    for name in [
        "occluded_crossing",
        "lead_brake",
        "cut_in",
        "sensor_dropout",
        "mixed_traffic",
    ] {
        let line = text.lines().find(|l| l.starts_with(name));
        assert!(
            line.is_some_and(|l| l.len() > name.len() + 10),
            "{name} in {text}"
        );
    }
}

#[test]
fn unknown_names_are_errors_that_list_the_valid_ones() {
    let err = memdrive(&["run", "--scenario", "highway", "--seed", "0"])
        .failed()
        .to_owned();
    assert!(
        err.contains("highway")
            && err.contains("occluded_crossing")
            && err.contains("mixed_traffic"),
        "{err}"
    );
    let err = memdrive(&["run", "--scenario", "cut_in", "--controller", "gpt"])
        .failed()
        .to_owned();
    assert!(
        err.contains("gpt") && err.contains("expert") && err.contains("cruise"),
        "{err}"
    );
    let err = memdrive(&["eval", "--scenario", "cut_in,nowhere", "--seeds", "0..2"])
        .failed()
        .to_owned();
    assert!(err.contains("nowhere"), "{err}");
    let err = memdrive(&["eval", "--seeds", "9..3"]).failed().to_owned();
    assert!(err.contains("9..3"), "{err}");
    let err = memdrive(&["eval", "--seeds", "zero..3"])
        .failed()
        .to_owned();
    assert!(err.contains("A..B"), "{err}");
}

/// Without arguments `memdrive` opens the app; with no display to open it on, it says so and
/// exits non-zero instead of panicking.
#[test]
fn no_arguments_opens_the_app_or_says_why_it_cannot() {
    let out = std::process::Command::new(memdrive_tests::memdrive_bin())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .output()
        .unwrap_or_else(|e| panic!("cannot run memdrive: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cannot open the app window"), "{stderr}");
    assert!(stderr.contains("DISPLAY"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Every collision is classified by the actor hit and what the sensors knew; the counts add up
/// to the collision rate, and they read as the scenarios were built: the memoryless baseline
/// mostly forgets the hidden pedestrian; blind lane keeping hits the braking car in plain view.
#[test]
fn eval_classifies_every_collision() {
    let out = memdrive(&[
        "eval",
        "--scenario",
        "occluded_crossing,lead_brake",
        "--seeds",
        "0..40",
        "--controller",
        "reactive,cruise",
        "--json",
    ]);
    let v = json(out.ok());
    let rows = v["results"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), 4);
    let count = |row: &Value, path: &[&str]| {
        path.iter()
            .fold(&row["collisions"], |v, k| &v[*k])
            .as_u64()
            .unwrap_or_else(|| panic!("no {path:?} in {row}"))
    };
    for row in &rows {
        let total: u64 = ["in_view", "forgotten", "never_seen"]
            .iter()
            .map(|k| count(row, &[k]))
            .sum();
        let rate = row["collision_rate"].as_f64().unwrap_or(-1.0);
        assert_eq!(total as f64, (rate * 40.0).round(), "{row}");
        let by_actor: u64 = ["pedestrian", "moving_car", "parked_vehicle"]
            .iter()
            .flat_map(|a| ["in_view", "forgotten", "never_seen"].map(|k| (*a, k)))
            .map(|(a, k)| count(row, &["by_actor", a, k]))
            .sum();
        assert_eq!(by_actor, total, "{row}");
    }
    let reactive_crossing = &rows[0];
    assert_eq!(reactive_crossing["scenario"], "occluded_crossing");
    let forgotten = count(reactive_crossing, &["by_actor", "pedestrian", "forgotten"]);
    let in_view = count(reactive_crossing, &["in_view"]);
    assert!(forgotten > in_view, "{reactive_crossing}");
    let cruise_brake = &rows[3];
    assert_eq!(cruise_brake["controller"], "cruise");
    assert_eq!(
        count(cruise_brake, &["by_actor", "moving_car", "in_view"]),
        40,
        "{cruise_brake}"
    );
    // One episode tells its own collision.
    let out = memdrive(&[
        "run",
        "--scenario",
        "lead_brake",
        "--seed",
        "0",
        "--controller",
        "cruise",
        "--json",
    ]);
    let run = json(out.ok());
    assert_eq!(run["outcome"], "collision");
    assert_eq!(run["collision"]["victim"], "moving_car", "{run}");
    assert_eq!(run["collision"]["knowledge"], "in_view", "{run}");
}
