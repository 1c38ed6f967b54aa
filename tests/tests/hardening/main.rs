//! Hostile input to the real binary, one test per class of problem: ranges that cannot be
//! sampled, impossible values, numbers that size work, damaged weight files, special paths and
//! the messages themselves. Every case must end quickly in an error that names the problem,
//! with exit code 1: never a panic (exit 70), a hang or unbounded memory. Damaged weight files
//! and special paths are in `files.rs`.

mod files;

use memdrive_tests::{Run, memdrive_within};
use std::path::PathBuf;
use std::time::Duration;

/// Long enough for a debug build to load and reject anything; far too short to run a hang.
const QUICK: Duration = Duration::from_secs(20);

fn run(args: &[&str]) -> Run {
    memdrive_within(args, QUICK)
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memdrive-hard-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn builtin_text(name: &str) -> String {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../assets/scenarios/{name}.toml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `memdrive run` on the built-in `base` with `from` replaced by `to`, expecting an error
/// that names the file and contains every one of `expect`.
fn rejects(dir: &std::path::Path, base: &str, from: &str, to: &str, expect: &[&str]) {
    let text = builtin_text(base);
    assert!(text.contains(from), "{base} lost `{from}`");
    let path = dir.join(format!("{base}-{}.toml", to.len() + from.len() * 7));
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap_or_else(|e| panic!("{e}"));
    let shown = path.to_string_lossy().into_owned();
    let out = run(&["run", "--scenario", &shown, "--seed", "1"]);
    let err = out.failed();
    assert!(err.contains(&shown), "`{to}`: file not named in {err}");
    for e in expect {
        assert!(err.contains(e), "`{to}`: `{e}` not in {err}");
    }
}

#[test]
fn ranges_that_cannot_be_sampled_are_refused_where_they_are_written() {
    let dir = temp_dir("ranges");
    let cases: [(&str, &str, &str, &[&str]); 10] = [
        (
            "occluded_crossing",
            "pause_s = [0.8, 1.8]",
            "pause_s = [1.8, 0.8]",
            &["reversed", "line"],
        ),
        (
            "occluded_crossing",
            "turn_back_at_d_m = [0.5, 2.5]",
            "turn_back_at_d_m = [2.5, 0.5]",
            &["reversed"],
        ),
        (
            "occluded_crossing",
            "start_when_ego_within_m = [70.0, 85.0]",
            "start_when_ego_within_m = [70.0, inf]",
            &["finite", "inf"],
        ),
        (
            "occluded_crossing",
            "step_out_when_ego_within_s = 0.5",
            "step_out_when_ego_within_s = [nan, 1.0]",
            &["finite", "NaN"],
        ),
        (
            "occluded_crossing",
            "step_out_speed_mps = [2.2, 2.8]",
            "step_out_speed_mps = [2.8, 2.2]",
            &["reversed"],
        ),
        (
            "occluded_crossing",
            "s_m = 95.0",
            "s_m = [-1e308, 1e308]",
            &["too wide", "1e308"],
        ),
        (
            "occluded_crossing",
            "length_m = 9.0",
            "length_m = [9.0, 2.0]",
            &["reversed"],
        ),
        (
            "occluded_crossing",
            "width_m = 2.5",
            "width_m = [-inf, 2.5]",
            &["finite"],
        ),
        (
            "cut_in",
            "duration_s = [2.0, 3.0]",
            "duration_s = [3.0, 2.0]",
            &["reversed"],
        ),
        (
            "mixed_traffic",
            "car_speed_mps = [9.0, 15.0]",
            "car_speed_mps = [15.0, 9.0]",
            &["reversed"],
        ),
    ];
    for (base, from, to, expect) in cases {
        rejects(&dir, base, from, to, expect);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn impossible_values_are_errors_that_name_the_field() {
    let dir = temp_dir("impossible");
    let cases: [(&str, &str, &str, &[&str]); 9] = [
        (
            "occluded_crossing",
            "pause_at_d_m = -3.95",
            "pause_at_d_m = nan",
            &["finite"],
        ),
        (
            "occluded_crossing",
            "pause_at_d_m = -3.95",
            "pause_at_d_m = -40.0",
            &["pedestrians[0].pause_at_d_m", "between"],
        ),
        (
            "occluded_crossing",
            "patience_s = 0.4",
            "patience_s = 1e308",
            &["pedestrians[0].patience_s", "1e308"],
        ),
        (
            "occluded_crossing",
            "speed_mps = [1.2, 1.6]",
            "speed_mps = [1.2, 60.0]",
            &["pedestrians[0].speed_mps", "10 m/s"],
        ),
        (
            "cut_in",
            "speed_mps = [9.0, 11.0]",
            "speed_mps = [9.0, 1e308]",
            &["cars[0].speed_mps", "1e308"],
        ),
        (
            "lead_brake",
            "decel_mps2 = [5.0, 8.0]",
            "decel_mps2 = [5.0, 9.5]",
            &["cars[0].brake.decel_mps2", "strongest braking"],
        ),
        (
            "lead_brake",
            "hold_s = [1.0, 3.0]",
            "hold_s = [1.0, 1e9]",
            &["cars[0].brake.hold_s", "1e9"],
        ),
        (
            "mixed_traffic",
            "pedestrian_start_s = [0.0, 35.0]",
            "pedestrian_start_s = [0.0, 1e12]",
            &["random_traffic.pedestrian_start_s"],
        ),
        (
            "sensor_dropout",
            "dropouts = [{ start_s = [6.0, 12.0], duration_s = [0.5, 2.0] }]",
            "dropouts = [{ start_s = [6.0, 12.0], duration_s = [0.5, inf] }]",
            &["finite"],
        ),
    ];
    for (base, from, to, expect) in cases {
        rejects(&dir, base, from, to, expect);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn numbers_that_size_work_are_bounded_before_any_work() {
    let dir = temp_dir("work");
    // A long curve would need a wall segment per 0.05 rad, all looked at every step.
    rejects(
        &dir,
        "mixed_traffic",
        "{ length_m = 120.0, curvature_per_m = [-0.006, 0.006] }",
        "{ length_m = 1e7, curvature_per_m = [-0.006, 0.006] }",
        &["road.pieces[1].length_m", "1e7"],
    );
    rejects(
        &dir,
        "mixed_traffic",
        "{ length_m = 120.0, curvature_per_m = [-0.006, 0.006] }",
        "{ length_m = 9000.0, curvature_per_m = [-0.06, 0.06] }",
        &["road.pieces", "segments"],
    );
    rejects(
        &dir,
        "mixed_traffic",
        "cars = 14",
        "cars = 995",
        &["actors", "1000"],
    );
    let cases: [(&[&str], &str); 8] = [
        (
            &[
                "train",
                "--model",
                "rbf",
                "--out",
                "/tmp/x.safetensors",
                "--episodes",
                "1000000000000000",
            ],
            "10000",
        ),
        (
            &[
                "train",
                "--model",
                "rbf",
                "--out",
                "/tmp/x.safetensors",
                "--episodes",
                "18446744073709551615",
            ],
            "10000",
        ),
        (
            &[
                "train",
                "--model",
                "gru",
                "--out",
                "/tmp/x.safetensors",
                "--episodes",
                "4000",
                "--rounds",
                "3",
            ],
            "episodes",
        ),
        (
            &[
                "train",
                "--model",
                "rbf",
                "--out",
                "/tmp/x.safetensors",
                "--rounds",
                "4000000000",
            ],
            "99",
        ),
        (
            &[
                "memory",
                "--controller",
                "gru",
                "--lags",
                "18446744073709551615",
            ],
            "600",
        ),
        (
            &[
                "memory",
                "--controller",
                "gru",
                "--steps",
                "18446744073709551600",
            ],
            "100000",
        ),
        (
            &["eval", "--threads", "100000000", "--seeds", "0..2"],
            "256",
        ),
        (&["bench", "--gui", "--frames", "99999999999"], "100000"),
    ];
    for (args, expect) in cases {
        let out = run(args);
        let err = out.failed();
        assert!(err.contains(expect), "{args:?}: `{expect}` not in {err}");
    }
    for (model, config, expect) in [
        ("gru", r#"{"hidden": 100000}"#, "hidden"),
        ("transformer", r#"{"window": 1000000}"#, "window"),
        ("transformer", r#"{"d_mlp": 0}"#, "d_mlp"),
        ("gru", r#"{"window": 30000, "batch": 256}"#, "activations"),
        (
            "gru",
            r#"{"hidden": 256, "window": 36000, "batch": 1}"#,
            "training round",
        ),
        (
            "transformer",
            r#"{"d_model": 1024, "d_mlp": 4096, "heads": 32}"#,
            "d_model",
        ),
    ] {
        let path = dir.join(format!("{model}-{}.json", config.len()));
        std::fs::write(&path, config).unwrap_or_else(|e| panic!("{e}"));
        let out_file = dir.join("never.safetensors");
        let out = run(&[
            "train",
            "--model",
            model,
            "--config",
            &path.to_string_lossy(),
            "--out",
            &out_file.to_string_lossy(),
        ]);
        let err = out.failed();
        assert!(err.contains(expect), "{config}: `{expect}` not in {err}");
        assert!(!out_file.exists());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A transformer file whose configuration says `d_mlp = 0` (with tensors to match) and one
/// that names a tensor twice: both refused by the loader, from the command line.
#[test]
fn messages_name_the_problem_once_and_print_numbers_compactly() {
    let dir = temp_dir("messages");
    let folder = dir.to_string_lossy().into_owned();
    let err = run(&["run", "--scenario", &folder]).failed().to_owned();
    assert_eq!(err.matches("directory").count(), 1, "{err}");
    assert!(!err.contains("os error"), "{err}");
    // --out is checked before training starts: these return at once.
    let missing = dir.join("no/such/folder/w.safetensors");
    for (out, expect) in [
        (folder.clone(), "is a directory"),
        (missing.to_string_lossy().into_owned(), "does not exist"),
    ] {
        let err = run(&["train", "--model", "rbf", "--out", &out])
            .failed()
            .to_owned();
        assert!(err.contains(expect), "`{expect}` not in {err}");
    }
    for args in [
        ["run", "--scenario", "cut_in", "--seed", "-1"],
        ["eval", "--scenario", "cut_in", "--threads", "-1"],
    ] {
        let err = run(&args).failed().to_owned();
        assert!(err.contains("negative number -1"), "{err}");
    }
    rejects(
        &dir,
        "cut_in",
        "duration_s = 45.0",
        "duration_s = 1e308",
        &["1e308"],
    );
    let err = run(&["eval", "--seeds", "-5..3"]).failed().to_owned();
    assert!(err.contains("A..B"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_internal_error_is_one_line_with_exit_code_70() {
    let out = run(&["internal-error-test"]);
    assert_eq!(out.code, Some(70), "{out:#?}");
    assert_eq!(out.stderr.lines().count(), 1, "{out:#?}");
    assert!(
        out.stderr
            .starts_with("memdrive: internal error, please report: deliberate panic"),
        "{out:#?}"
    );
}

/// What a hostile review of the release binary found, each now an error before any work:
/// replacing what is not a regular file, memory measurements that cannot fit, fields the
/// validator missed, loose syntax, keys given twice, and echoes of whole megabyte lines.
#[test]
fn what_a_hostile_review_found_is_refused() {
    let dir = temp_dir("review");
    // Targets that must never be replaced by a save (checked before training starts).
    let fifo = dir.join("pipe.safetensors");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let link = dir.join("link.safetensors");
    std::os::unix::fs::symlink(dir.join("loop.safetensors"), &link)
        .unwrap_or_else(|e| panic!("{e}"));
    let missing_folder = format!("{}/", dir.join("nowhere").display());
    for (out, says) in [
        (fifo.to_string_lossy().into_owned(), "not a regular file"),
        (link.to_string_lossy().into_owned(), "symbolic link"),
        (missing_folder, "names no file"),
    ] {
        let err = run(&["train", "--model", "rbf", "--out", &out])
            .failed()
            .to_owned();
        assert!(err.contains(says), "{out}: `{says}` not in {err}");
    }
    assert!(std::fs::symlink_metadata(&fifo).is_ok_and(|m| !m.is_file()));
    let memory_gap = |set: &'static str| -> Vec<&'static str> {
        vec!["run", "--scenario", "memory_gap", "--set", set]
    };
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["memory", "--controller", "rbf", "--steps", "1000000"],
            "100000",
        ),
        (
            vec![
                "memory",
                "--controller",
                "gru",
                "--steps",
                "100000",
                "--lags",
                "600",
            ],
            "4000000",
        ),
        (
            vec!["memory", "--controller", "rbf", "--episodes", "10000"],
            "1000",
        ),
        (memory_gap("pedestrians.0.linger_s=-5"), "linger_s"),
        (memory_gap("pedestrians.0.then_to_d_m=1e300"), "then_to_d_m"),
        (memory_gap("memory_gap.gap_s=45"), "too long"),
        (memory_gap("memory_gap.barrier=[1, 1]"), "twice"),
        (
            memory_gap("memory_gap.hiding.0.hidden_from_d_m=3"),
            "pedestrian's walk",
        ),
        (
            memory_gap("memory_gap.hiding.2.hidden_from_d_m=nan"),
            "memory_gap.hiding[2].hidden_from_d_m",
        ),
        (
            memory_gap("memory_gap.hidden_from_d_m=-6"),
            "per place in memory_gap.hiding",
        ),
        (
            memory_gap("memory_gap.hiding.1.s_m=1e9"),
            "memory_gap.hiding[1].s_m",
        ),
        (
            memory_gap("pedestrians.0.step_out_when_ego_stopped_within_m=-1"),
            "step_out_when_ego_stopped_within_m",
        ),
        (
            memory_gap("pedestrians.0.step_out_when_ego_within_m=-1"),
            "step_out_when_ego_within_m",
        ),
        (
            memory_gap("memory_gap.judged_past_m=70"),
            "memory_gap.judged_past_m",
        ),
        (memory_gap("ego.max_accel_mps2=0"), "ego.max_accel_mps2"),
        (
            memory_gap("pedestrians.0.step_out_reckless=2"),
            "step_out_reckless",
        ),
        (memory_gap("pedestrians=[]"), "no pedestrians"),
        (
            vec!["run", "--scenario", "cut_in", "--set", "name=\"\""],
            "name",
        ),
        (
            vec![
                "run",
                "--scenario",
                "cut_in",
                "--set",
                "road.pieces.0.curvature_per_m=0.2",
            ],
            "car can steer",
        ),
        (vec!["horizon", "--gaps", "1,,2"], "empty item"),
        (vec!["bench", "--frames", "5"], "bench --gui"),
    ];
    for (args, says) in cases {
        let err = run(&args).failed().to_owned();
        assert!(err.contains(says), "{args:?}: `{says}` not in {err}");
    }
    // A gap the episode cannot hold is named compactly, as the gap it is.
    let err = run(&["horizon", "--gaps", "1e308"]).failed().to_owned();
    assert!(
        err.contains("1e308") && !err.contains("--set") && err.len() < 400,
        "{err}"
    );
    // Loose controller syntax.
    for (name, says) in [
        ("transformer@+3", "whole number"),
        ("transformer@ 3", "whole number"),
        ("rbf=", "empty"),
    ] {
        let err = run(&["run", "--scenario", "cut_in", "--controller", name])
            .failed()
            .to_owned();
        assert!(err.contains(says), "{name}: {err}");
    }
    // Control characters, and keys given twice.
    let err = run(&["run", "--scenario", "cut_in", "--set", "name=\"a\\nb\""])
        .failed()
        .to_owned();
    assert!(err.contains("control characters"), "{err}");
    let config = dir.join("twice.json");
    std::fs::write(&config, r#"{"units": 10, "units": 20}"#).unwrap_or_else(|e| panic!("{e}"));
    let out_file = dir.join("never.safetensors");
    let err = run(&[
        "train",
        "--model",
        "rbf",
        "--config",
        &config.to_string_lossy(),
        "--out",
        &out_file.to_string_lossy(),
    ])
    .failed()
    .to_owned();
    assert!(err.contains("appears twice"), "{err}");
    // A megabyte-long line in a scenario file is not echoed whole.
    let long = dir.join("long.toml");
    std::fs::write(&long, format!("name = \"{}\n", "x".repeat(1 << 20)))
        .unwrap_or_else(|e| panic!("{e}"));
    let err = run(&["run", "--scenario", &long.to_string_lossy()])
        .failed()
        .to_owned();
    assert!(err.len() < 4000, "{} bytes of error", err.len());
    // The parser's own refusals exit with 1 like every other bad input; help exits with 0.
    assert_eq!(run(&["eval", "--threads", "0"]).code, Some(1));
    assert_eq!(run(&["--help"]).code, Some(0));
    let _ = std::fs::remove_dir_all(&dir);
}
