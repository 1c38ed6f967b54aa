//! Scenario files and `--set`: they run like the built-ins, and bad ones name the file and the field.

use super::*;

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
