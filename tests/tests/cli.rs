//! The command line, run as a user runs it: outputs, JSON contracts, determinism, bad input.

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

/// A scenario file in a fresh temporary folder, with the occluded crossing's text changed.
fn scenario_file(name: &str, edit: impl Fn(String) -> String) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memdrive-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../assets/scenarios/occluded_crossing.toml");
    let text =
        std::fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, edit(text)).unwrap_or_else(|e| panic!("{e}"));
    path
}

#[test]
fn a_scenario_file_runs_like_the_builtin_it_copies() {
    let path = scenario_file("copy", |t| t);
    let path = path.to_string_lossy();
    let from_file = memdrive(&["run", "--scenario", &path, "--seed", "5", "--json"]);
    let builtin = memdrive(&[
        "run",
        "--scenario",
        "occluded_crossing",
        "--seed",
        "5",
        "--json",
    ]);
    assert_eq!(
        json(from_file.ok())["trajectory_hash"],
        json(builtin.ok())["trajectory_hash"]
    );
}

#[test]
fn bad_scenario_files_name_the_file_and_the_field() {
    type Case = (&'static str, fn(String) -> String, &'static str);
    let cases: [Case; 6] = [
        (
            "syntax",
            |t| t.replacen("lane_count = 2", "lane_count = = 2", 1),
            "line",
        ),
        (
            "unknown_field",
            |t| t.replacen("[road]", "[road]\nlanes = 3", 1),
            "unknown field `lanes`",
        ),
        (
            "negative_lanes",
            |t| t.replacen("lane_count = 2", "lane_count = -2", 1),
            "road.lane_count",
        ),
        (
            "zero_length",
            |t| t.replacen("{ length_m = 300.0 }", "{ length_m = 0.0 }", 1),
            "road.pieces[0].length_m",
        ),
        (
            "no_pieces",
            |t| t.replacen("    { length_m = 300.0 },\n", "", 1),
            "road.pieces",
        ),
        (
            "bad_range",
            |t| t.replacen("speed_mps = [8.0, 9.0]", "speed_mps = [9.0, 8.0]", 1),
            "ego.speed_mps",
        ),
    ];
    for (name, edit, expect) in cases {
        let path = scenario_file(name, edit);
        let shown = path.to_string_lossy().into_owned();
        let err = memdrive(&["run", "--scenario", &shown, "--seed", "0"])
            .failed()
            .to_owned();
        assert!(err.contains(&shown), "{name}: file not named in {err}");
        assert!(err.contains(expect), "{name}: `{expect}` not in {err}");
    }
    let missing = memdrive(&["run", "--scenario", "/nonexistent/x.toml"])
        .failed()
        .to_owned();
    assert!(missing.contains("/nonexistent/x.toml"), "{missing}");
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

#[test]
fn the_readme_scenario_example_is_a_valid_file() {
    let readme = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&readme).unwrap_or_else(|e| panic!("{e}"));
    let start = text.find("```toml\n").map(|i| i + 8);
    let block = start.and_then(|s| text[s..].find("```").map(|e| &text[s..s + e]));
    let block = block.unwrap_or_else(|| panic!("no toml block in README"));
    let path = scenario_file("readme", |_| block.to_owned());
    let out = memdrive(&[
        "run",
        "--scenario",
        &path.to_string_lossy(),
        "--seed",
        "0",
        "--json",
    ]);
    assert_eq!(json(out.ok())["scenario"], "my_street");
}

#[test]
fn the_bundled_rbf_drives_and_bad_weight_files_are_clear_errors() {
    let out = memdrive(&[
        "run",
        "--scenario",
        "cut_in",
        "--seed",
        "1",
        "--controller",
        "rbf",
        "--json",
    ]);
    assert_eq!(json(out.ok())["controller"], "rbf");
    let dir = std::env::temp_dir().join(format!("memdrive-cli-{}-weights", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let bundled =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../assets/weights/rbf.safetensors");
    let bytes = std::fs::read(&bundled).unwrap_or_else(|e| panic!("{e}"));
    let truncated = dir.join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap_or_else(|e| panic!("{e}"));
    let shown = truncated.to_string_lossy().into_owned();
    for args in [
        vec![
            "run",
            "--scenario",
            "cut_in",
            "--controller",
            "rbf",
            "--weights",
            &shown,
        ],
        vec![
            "eval",
            "--scenario",
            "cut_in",
            "--seeds",
            "0..2",
            "--controller",
            "expert,rbf",
            "--weights",
            &shown,
        ],
    ] {
        let err = memdrive(&args).failed().to_owned();
        assert!(
            err.contains(&shown) && err.contains("not a valid safetensors file"),
            "{err}"
        );
    }
    let err = memdrive(&[
        "run",
        "--scenario",
        "cut_in",
        "--controller",
        "expert",
        "--weights",
        &shown,
    ])
    .failed()
    .to_owned();
    assert!(err.contains("--weights"), "{err}");
    let err = memdrive(&[
        "run",
        "--scenario",
        "cut_in",
        "--controller",
        "rbf",
        "--weights",
        "/nonexistent.safetensors",
    ])
    .failed()
    .to_owned();
    assert!(err.contains("/nonexistent.safetensors"), "{err}");
}

#[test]
fn train_writes_weights_that_run_and_eval_then_use() {
    let dir = std::env::temp_dir().join(format!("memdrive-cli-{}-train", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let out_path = dir.join("small.safetensors");
    let shown = out_path.to_string_lossy().into_owned();
    let args = [
        "train",
        "--model",
        "rbf",
        "--out",
        &shown,
        "--rounds",
        "0",
        "--episodes",
        "2",
        "--eval-seeds",
        "0..2",
        "--json",
    ];
    let v = json(memdrive(&args).ok());
    assert_eq!(v["rounds"][0]["round"], 0);
    assert!(
        v["rounds"][0]["loss"]
            .as_f64()
            .is_some_and(|l| l.is_finite()),
        "{v}"
    );
    assert_eq!(v["results"].as_array().map_or(0, Vec::len), 5, "{v}");
    let out = memdrive(&[
        "run",
        "--scenario",
        "lead_brake",
        "--controller",
        "rbf",
        "--weights",
        &shown,
        "--json",
    ]);
    assert_eq!(json(out.ok())["controller"], "rbf");
    // Only networks that exist can be trained.
    let err = memdrive(&["train", "--model", "lstm", "--out", &shown]).stderr;
    assert!(
        err.contains("lstm") && err.contains("rbf") && err.contains("gru"),
        "{err}"
    );
    // A configuration file overrides defaults, and bad ones are errors naming the file.
    let bad = dir.join("bad_config.json");
    std::fs::write(&bad, r#"{"units": 8, "radius": 3}"#).unwrap_or_else(|e| panic!("{e}"));
    let bad_shown = bad.to_string_lossy().into_owned();
    let err = memdrive(&[
        "train", "--model", "rbf", "--config", &bad_shown, "--out", &shown,
    ])
    .failed()
    .to_owned();
    assert!(err.contains(&bad_shown) && err.contains("radius"), "{err}");
    std::fs::write(&bad, r#"{"hidden": 0}"#).unwrap_or_else(|e| panic!("{e}"));
    let err = memdrive(&[
        "train", "--model", "gru", "--config", &bad_shown, "--out", &shown,
    ])
    .failed()
    .to_owned();
    assert!(
        err.contains(&bad_shown) && err.contains("hidden must be between 1 and 256, got 0"),
        "{err}"
    );
    // An RBF file is not a GRU.
    let err = memdrive(&[
        "run",
        "--scenario",
        "cut_in",
        "--controller",
        "gru",
        "--weights",
        &shown,
    ])
    .failed()
    .to_owned();
    assert!(err.contains("holds a `rbf` model"), "{err}");
    // Episode counts per scenario must name a trained scenario and a number.
    for (arg, says) in [
        ("mixed_trafic=80", "`mixed_trafic`"),
        ("mixed_traffic", "NAME=N"),
        ("mixed_traffic=lots", "whole number"),
        (
            "cut_in=0",
            "`cut_in=0`: expected a whole number from 1 to 10000, got 0",
        ),
    ] {
        let err = memdrive(&[
            "train",
            "--model",
            "rbf",
            "--scenario-episodes",
            arg,
            "--out",
            &shown,
        ])
        .failed()
        .to_owned();
        assert!(err.contains(says), "{arg}: {err}");
    }
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

/// `--set` changes a field of any scenario on every command, checked like the file.
#[test]
fn set_overrides_a_field_and_is_validated_like_the_file() {
    let hash = |set: &[&str]| {
        let mut args = vec!["run", "--scenario", "cut_in", "--seed", "2", "--json"];
        for s in set {
            args.extend(["--set", s]);
        }
        json(memdrive(&args).ok())["trajectory_hash"].clone()
    };
    let plain = hash(&[]);
    assert_eq!(
        plain,
        hash(&["lidar.range_m=60"]),
        "an override to the same value"
    );
    assert_ne!(plain, hash(&["cars.0.speed_mps=[5, 6]"]));
    let out = memdrive(&[
        "eval",
        "--scenario",
        "cut_in",
        "--seeds",
        "0..2",
        "--set",
        "duration_s=3",
        "--json",
    ]);
    let rows = json(out.ok());
    assert_eq!(rows["results"][0]["timeout_rate"], 1.0, "{rows}");
    for (set, says) in [
        ("cars.0.speed_mps=[6, 5]", "reversed"),
        ("cars.0.speed_mps=99", "30 m/s"),
        ("cars.9.speed_mps=5", "cars"),
        ("ego.colour=3", "unknown field `colour`"),
        ("duration_s", "path=value"),
    ] {
        let err = memdrive(&["run", "--scenario", "cut_in", "--set", set])
            .failed()
            .to_owned();
        assert!(err.contains(says), "{set}: `{says}` not in {err}");
    }
}

/// `transformer@K` shrinks a transformer's window at run time: on `occluded_crossing`, where the
/// pedestrian is hidden for 1–4 s, a window of 0.2 s forgets whether anyone walked behind the
/// truck, and fails where the full 1.6 s window does not (the bundled transformer, not knowing,
/// stops at the truck and waits until time runs out; one trained before hit the pedestrian).
/// Bad windows are errors naming the range.
#[test]
fn a_transformer_window_shrunk_at_run_time_forgets_the_pedestrian() {
    let out = memdrive(&[
        "eval",
        "--scenario",
        "occluded_crossing",
        "--seeds",
        "0..100",
        "--controller",
        "transformer,transformer@2",
        "--json",
    ]);
    let v = json(out.ok());
    let (full, short) = (&v["results"][0], &v["results"][1]);
    assert_eq!(short["controller"], "transformer@2");
    let failed = |r: &Value| 1.0 - r["goal_rate"].as_f64().unwrap_or(f64::NAN);
    assert!(failed(short) >= failed(full) + 0.05, "{full} {short}");
    for (name, says) in [
        ("transformer@0", "1 to 16 frames"),
        ("transformer@17", "1 to 16 frames"),
        ("gru@4", "applies to a transformer"),
        ("transformer@x", "whole number"),
    ] {
        let err = memdrive(&["run", "--scenario", "cut_in", "--controller", name])
            .failed()
            .to_owned();
        assert!(err.contains(says), "{name}: {err}");
    }
    let run = memdrive(&[
        "run",
        "--scenario",
        "cut_in",
        "--controller",
        "transformer@4",
        "--json",
    ]);
    assert_eq!(json(run.ok())["controller"], "transformer@4");
}
