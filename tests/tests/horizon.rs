//! `memdrive horizon`, run as a user runs it: the JSON contract, the facts that hold for the
//! baselines (perfect memory bridges every gap, a driver without memory only guesses), the
//! `kind=FILE` syntax, thread-count independence and bad input.

use memdrive_tests::memdrive;
use serde_json::Value;

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn horizon(controllers: &str, threads: &str) -> Value {
    json(
        memdrive(&[
            "horizon",
            "--controller",
            controllers,
            "--gaps",
            "8,0.5,2",
            "--seeds",
            "0..60",
            "--threads",
            threads,
            "--json",
        ])
        .ok(),
    )
}

#[test]
fn perfect_memory_bridges_every_gap_and_no_memory_only_guesses() {
    let v = horizon("expert,reactive", "2");
    assert_eq!(v["scenario"], "memory_gap");
    assert_eq!(v["gaps_s"], serde_json::json!([0.5, 2.0, 8.0]));
    let curves = v["controllers"].as_array().cloned().unwrap_or_default();
    assert_eq!(curves.len(), 2);
    for c in &curves {
        for key in [
            "name",
            "weights",
            "accuracy",
            "accuracy_ci",
            "collision_rate",
            "time_to_goal_s",
            "episodes",
            "hazard_episodes",
            "horizon_s",
        ] {
            assert!(c.get(key).is_some(), "missing {key} in {c}");
        }
        assert_eq!(c["episodes"], serde_json::json!([60, 60, 60]));
        let hazards = c["hazard_episodes"][0].as_u64().unwrap_or(0);
        assert!((20..=40).contains(&hazards), "{c}");
    }
    let accuracy = |c: &Value| -> Vec<f64> {
        c["accuracy"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default()
    };
    let (expert, reactive) = (&curves[0], &curves[1]);
    assert!(accuracy(expert).iter().all(|&a| a >= 0.98), "{expert}");
    assert_eq!(expert["horizon_s"], 8.0);
    assert_eq!(expert["weights"], "none");
    assert!(accuracy(reactive).iter().all(|&a| a <= 0.6), "{reactive}");
    assert!(reactive["horizon_s"].is_null(), "{reactive}");
    for (a, ci) in accuracy(reactive).iter().zip(
        reactive["accuracy_ci"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    ) {
        let (lo, hi) = (
            ci[0].as_f64().unwrap_or(2.0),
            ci[1].as_f64().unwrap_or(-1.0),
        );
        assert!(lo <= *a && *a <= hi && hi - lo < 0.3, "{a} in [{lo}, {hi}]");
    }
}

#[test]
fn results_do_not_depend_on_threads_and_weight_files_are_named() {
    let bundled = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/weights/gru.safetensors"
    );
    let named = format!("gru,gru={bundled}");
    let one = horizon(&named, "1");
    assert_eq!(one, horizon(&named, "2"));
    let curves = one["controllers"].as_array().cloned().unwrap_or_default();
    assert_eq!(curves[0]["weights"], "bundled");
    assert_eq!(curves[1]["weights"], bundled);
    assert_eq!(
        curves[1]["name"],
        named.split(',').nth(1).unwrap_or_default()
    );
    // The same file as the bundled one measures the same.
    assert_eq!(curves[0]["accuracy"], curves[1]["accuracy"]);
    // The same syntax names a file in eval.
    let out = memdrive(&[
        "eval",
        "--scenario",
        "cut_in",
        "--seeds",
        "0..3",
        "--controller",
        &named,
        "--json",
    ]);
    let rows = json(out.ok())["results"].clone();
    assert_eq!(
        rows[1]["controller"],
        named.split(',').nth(1).unwrap_or_default()
    );
    assert_eq!(rows[0]["goal_rate"], rows[1]["goal_rate"]);
}

/// A controller whose memory is a window of frames says how long it spans (a shrunk window
/// its shrunk span), and which gaps at least that long it bridges nonetheless: none for the
/// bundled transformer, which guesses. The others have no window.
#[test]
fn windows_are_reported_with_the_gaps_bridged_beyond_them() {
    let v = horizon("transformer,transformer@8,gru", "2");
    let curves = v["controllers"].as_array().cloned().unwrap_or_default();
    let window = |c: &Value| c["window_s"].as_f64();
    assert!(
        window(&curves[0]).is_some_and(|w| (w - 1.6).abs() < 1e-9),
        "{}",
        curves[0]
    );
    assert!(
        window(&curves[1]).is_some_and(|w| (w - 0.8).abs() < 1e-9),
        "{}",
        curves[1]
    );
    assert!(curves[2].get("window_s").is_none(), "{}", curves[2]);
    for c in &curves {
        assert!(c.get("bridged_beyond_window_s").is_none(), "{c}");
    }
}

#[test]
fn bad_horizon_requests_are_named_errors() {
    for (args, says) in [
        (vec!["horizon", "--gaps", "1,x"], "`x`"),
        (vec!["horizon", "--gaps", "-1"], "at least 0"),
        (vec!["horizon", "--gaps", "1,90"], "memory_gap.gap_s"),
        (vec!["horizon", "--scenario", "cut_in"], "no memory gap"),
        (
            vec!["horizon", "--controller", "lstm"],
            "unknown controller",
        ),
        (
            vec!["horizon", "--controller", "expert=x.safetensors"],
            "only a learned",
        ),
        (vec!["horizon", "--seeds", "0..200000"], "100000"),
    ] {
        let err = memdrive(&args).failed().to_owned();
        assert!(err.contains(says), "{args:?}: `{says}` not in {err}");
    }
}

/// The causal check: at the barrier's lifting the GRU's memory is swapped between the run that
/// saw the pedestrian and the identical run that did not. Where its own decisions differ, they
/// follow the transplanted memory; the RBF has no memory, so its decisions never differ.
#[test]
fn decisions_follow_a_transplanted_memory() {
    let out = memdrive(&[
        "horizon",
        "--controller",
        "expert,rbf,gru",
        "--gaps",
        "0.5",
        "--seeds",
        "0..30",
        "--transplant",
        "--json",
    ]);
    let v = json(out.ok());
    let (expert, rbf, gru) = (
        &v["controllers"][0],
        &v["controllers"][1],
        &v["controllers"][2],
    );
    assert!(expert.get("transplant_follows").is_none(), "{expert}");
    assert_eq!(rbf["transplant_decisions"], serde_json::json!([0]), "{rbf}");
    assert!(rbf["transplant_follows"][0].is_null(), "{rbf}");
    let made = gru["transplant_decisions"][0].as_u64().unwrap_or(0);
    let follows = gru["transplant_follows"][0].as_f64().unwrap_or(0.0);
    assert!(made >= 20 && follows >= 0.9, "{gru}");
}

/// `horizon --json` of `controllers` at `gaps` on held-out seeds 0..200, with each
/// controller's accuracy per gap.
fn measured(controllers: &str, gaps: &str) -> (Value, Vec<Vec<f64>>) {
    let v = json(
        memdrive(&[
            "horizon",
            "--controller",
            controllers,
            "--gaps",
            gaps,
            "--seeds",
            "0..200",
            "--json",
        ])
        .ok(),
    );
    let accuracy = v["controllers"]
        .as_array()
        .map(|curves| {
            curves
                .iter()
                .map(|c| {
                    c["accuracy"]
                        .as_array()
                        .map(|a| a.iter().filter_map(Value::as_f64).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    (v, accuracy)
}

/// A cliff after the first `right` gaps: at least 0.9 up to there, at most 0.6 (a guess) after.
fn cliff(accuracy: &[f64], gaps: usize, right: usize) -> bool {
    accuracy.len() == gaps
        && accuracy[..right].iter().all(|&a| a >= 0.9)
        && accuracy[right..].iter().all(|&a| a <= 0.6)
}

/// The bundled models on held-out seeds 0..200 per gap, the facts the memory horizon exists to
/// show: the RBF, with no memory, only guesses (at most 0.6 at every gap); the transformer is
/// right while the sighting is inside its 16-frame (1.6 s) window (at least 0.9 up to 1 s) and
/// guesses once it has left (at most 0.6 from 2.5 s): the cliff where its window ends; the
/// GRU's fading memory bridges at least 4 s, beyond the transformer's window.
#[test]
fn the_bundled_models_remember_as_long_as_their_memories_reach() {
    let (v, accuracy) = measured("rbf,transformer,gru", "0.5,1,2.5,4,8");
    let [rbf, transformer, gru] = &accuracy[..] else {
        panic!("three curves: {v}");
    };
    assert!(
        rbf.len() == 5 && rbf.iter().all(|&a| a <= 0.6),
        "rbf {rbf:?}"
    );
    assert!(cliff(transformer, 5, 2), "transformer {transformer:?}");
    assert!(gru[..4].iter().all(|&a| a >= 0.75), "gru {gru:?}");
    assert!(
        v["controllers"][2]["horizon_s"]
            .as_f64()
            .is_some_and(|h| h >= 4.0),
        "{}",
        v["controllers"][2]
    );
}

/// The bundled 64-frame (6.4 s) transformer, on held-out seeds 0..200 per gap: right in at
/// least 0.9 of the episodes up to 5 s, guessing (at most 0.6) from 6 s, where its window
/// ends; and with its window shrunk to 40 frames (4 s) at run time, the cliff moves in with
/// it: at least 0.9 up to 3 s, at most 0.6 from 5 s.
#[test]
fn the_64_frame_transformer_remembers_longer_and_its_cliff_moves_with_its_window() {
    let (v, accuracy) = measured("transformer64,transformer64@40", "0.5,1,3,5,6,8");
    let [full, shrunk] = &accuracy[..] else {
        panic!("two curves: {v}");
    };
    assert!(cliff(full, 6, 4), "transformer64 {full:?}");
    assert!(cliff(shrunk, 6, 3), "transformer64@40 {shrunk:?}");
    let window = |i: usize| v["controllers"][i]["window_s"].as_f64();
    assert!(window(0).is_some_and(|w| (w - 6.4).abs() < 1e-9), "{v}");
    assert!(window(1).is_some_and(|w| (w - 4.0).abs() < 1e-9), "{v}");
}
