//! `memdrive memory` on the bundled weights: the JSON contract, bad input, and the facts about
//! what each controller remembers under the white-noise probe (frames drawn independently from
//! real driving, 10,000 steps; R² over the 32 lidar distances and 8 ego elements).
//!
//! The issue that asked for these facts also asked for two about the GRU: R²(1) ≥ 0.3, which the
//! bundled GRU does not show (it measures about 0.17), and a capacity Σₖ₌₀ R²(k) above the
//! RBF's, which it shows by less than the estimate's noise (0.960 against 0.956). Both are
//! reported in the README, not asserted here; what is asserted below holds with a margin.

use memdrive_tests::memdrive;
use serde_json::Value;

fn series(c: &Value, key: &str) -> Vec<f64> {
    c[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is not an array: {c}"))
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

#[test]
fn memory_facts_of_the_bundled_controllers() {
    let out = memdrive(&["memory", "--json", "--episodes", "6"]);
    let json: Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
    let controllers = json["controllers"]
        .as_array()
        .unwrap_or_else(|| panic!("no controllers: {json}"));
    let names: Vec<&str> = controllers
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names, memdrive_models::ModelKind::ids());
    for c in controllers {
        for key in [
            "lags",
            "r2",
            "r2_current_only",
            "belief_error_m",
            "belief_time_since_seen_s",
            "influence",
        ] {
            assert!(c[key].is_array(), "{key} missing: {c}");
        }
        assert!(c["capacity"].is_f64());
        let lags = series(c, "lags");
        assert_eq!(lags, (0..=40).map(f64::from).collect::<Vec<_>>());
        assert_eq!(series(c, "r2").len(), 41);
        assert_eq!(series(c, "influence").len(), 41);
        // Under the probe, no current frame says anything about an earlier one.
        for r in &series(c, "r2_current_only")[1..] {
            assert!(r.abs() <= 0.05, "{c}");
        }
    }
    let (rbf, gru, transformer) = (&controllers[0], &controllers[1], &controllers[2]);

    // RBF: nothing of the past, and no influence beyond the current frame.
    let r2 = series(rbf, "r2");
    assert!(r2[1..].iter().all(|&r| r <= 0.05), "RBF R²: {r2:?}");
    let influence = series(rbf, "influence");
    assert!(influence[0] > 0.0);
    assert!(influence[1..].iter().all(|&v| v == 0.0), "{influence:?}");

    // Transformer (K = 16): the window is recalled, nothing beyond it is.
    let r2 = series(transformer, "r2");
    assert!(
        r2[1..16].iter().any(|&r| r >= 0.5),
        "transformer R²: {r2:?}"
    );
    assert!(
        r2[16..].iter().all(|&r| r <= 0.05),
        "transformer R²: {r2:?}"
    );
    let influence = series(transformer, "influence");
    assert!(influence[..16].iter().all(|&v| v > 0.0), "{influence:?}");
    assert!(influence[16..].iter().all(|&v| v == 0.0), "{influence:?}");

    // GRU: memory that decays — nothing at 2 s and beyond above its value at 0.1 s, and more
    // of the past (k ≥ 1) than the RBF keeps.
    let r2 = series(gru, "r2");
    assert!(r2[1] > 0.05, "GRU R²(1): {r2:?}");
    assert!(r2[20..].iter().all(|&r| r <= r2[1]), "GRU R²: {r2:?}");
    let past = |c: &Value| c["capacity_past"].as_f64().unwrap_or(f64::NAN);
    assert!(
        past(gru) > past(rbf) + 0.1,
        "{} vs {}",
        past(gru),
        past(rbf)
    );
    let influence = series(gru, "influence");
    assert!(
        influence[10] > 0.0 && influence[10] < influence[0],
        "{influence:?}"
    );
}

#[test]
fn memory_rejects_what_it_cannot_measure() {
    let err = memdrive(&["memory", "--controller", "expert"])
        .failed()
        .to_owned();
    assert!(err.contains("no state vector"), "{err}");
    let err = memdrive(&["memory", "--controller", "gru", "--episodes", "1"])
        .failed()
        .to_owned();
    assert!(err.contains("--episodes"), "{err}");
    let err = memdrive(&[
        "memory",
        "--controller",
        "gru",
        "--scenario",
        "/nonexistent.toml",
    ])
    .failed()
    .to_owned();
    assert!(err.contains("/nonexistent.toml"), "{err}");
}

#[test]
fn memory_text_and_driving_probe() {
    let out = memdrive(&[
        "memory",
        "--controller",
        "gru",
        "--probe",
        "driving",
        "--episodes",
        "4",
        "--lags",
        "10",
    ]);
    let text = out.ok();
    assert!(
        text.contains("gru: state = hidden state (64 numbers)"),
        "{text}"
    );
    assert!(text.contains("driving probe"), "{text}");
    assert!(text.contains("capacity"), "{text}");
}

/// The same measurement on one thread and on two gives the same bytes.
#[test]
fn memory_does_not_depend_on_the_thread_count() {
    let run = |threads: &str| {
        memdrive(&[
            "memory",
            "--controller",
            "gru",
            "--episodes",
            "4",
            "--steps",
            "2000",
            "--lags",
            "10",
            "--json",
            "--threads",
            threads,
        ])
        .ok()
        .to_owned()
    };
    assert_eq!(run("1"), run("2"));
}

/// The presence probe on `memory_gap` with a 4 s gap, where while the car waits the frames with
/// and without a hidden pedestrian are the same: the memoryless RBF reads nothing (AUC 0.5), the
/// GRU reads whether someone is there from its hidden state, the transformer only while the
/// sighting is inside its window.
#[test]
fn presence_is_read_from_memory_not_from_the_present() {
    let out = memdrive(&[
        "memory",
        "--json",
        "--controller",
        "rbf,gru,transformer",
        "--scenario",
        "memory_gap",
        "--set",
        "memory_gap.gap_s=4",
        "--episodes",
        "30",
    ]);
    let json: Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
    let (rbf, gru, transformer) = (
        &json["controllers"][0],
        &json["controllers"][1],
        &json["controllers"][2],
    );
    for c in [rbf, gru, transformer] {
        for key in [
            "presence_auc",
            "presence_auc_current_only",
            "presence_time_since_seen_s",
            "presence_positives",
        ] {
            assert!(c[key].is_array(), "{key} missing: {c}");
        }
        assert!(
            c["presence_negatives"].as_u64().is_some_and(|n| n > 100),
            "{c}"
        );
        assert_eq!(series(c, "presence_time_since_seen_s")[0], 0.25, "{c}");
    }
    for auc in &series(rbf, "presence_auc")[..3] {
        assert!((auc - 0.5).abs() < 0.05, "RBF presence: {rbf}");
    }
    assert!(
        series(gru, "presence_auc")[0] >= 0.95,
        "GRU presence: {gru}"
    );
    // The transformer reads presence while the sighting is inside its 1.6 s window, and once
    // it has left it no more than its present frame tells (the car it drives moves
    // differently after a sighting, so the frame is not always blind).
    let auc = series(transformer, "presence_auc");
    let now = series(transformer, "presence_auc_current_only");
    let time = series(transformer, "presence_time_since_seen_s");
    for ((t, a), n) in time.iter().zip(&auc).zip(&now) {
        if *t <= 1.25 {
            assert!(*a >= 0.95, "transformer presence at {t} s: {transformer}");
        }
        if *t >= 3.0 {
            assert!(
                *a <= n + 0.02 && *a <= 0.7,
                "transformer presence at {t} s: {transformer}"
            );
        }
    }
    assert!(time.iter().any(|&t| t >= 3.0), "{transformer}");
}

/// The LRU's memory curve predicted from its weights alone (state covariance from the diagonal
/// Lyapunov equation, then the best linear readout of each lagged element) agrees with the
/// measured one within 0.05 at every lag of the white-noise probe; the measured curve sits a
/// little lower, the finite-sample loss of a held-out readout. Kinds without a closed form give
/// none.
#[test]
fn the_lrus_predicted_memory_curve_matches_the_measured_one() {
    let out = memdrive(&[
        "memory",
        "--json",
        "--controller",
        "lru,gru",
        "--episodes",
        "2",
    ]);
    let json: Value = serde_json::from_str(out.ok()).unwrap_or_else(|e| panic!("{e}"));
    let lru = &json["controllers"][0];
    let measured: Vec<f64> = serde_json::from_value(lru["r2"].clone()).unwrap_or_default();
    let predicted: Vec<f64> =
        serde_json::from_value(lru["r2_predicted"].clone()).unwrap_or_default();
    assert_eq!(measured.len(), 41);
    assert_eq!(predicted.len(), measured.len(), "{lru}");
    for (k, (m, p)) in measured.iter().zip(&predicted).enumerate() {
        assert!(
            (m - p).abs() <= 0.05,
            "lag {k}: measured {m:.3}, predicted {p:.3}"
        );
    }
    assert!(
        predicted[0] > 0.3 && predicted[40] < predicted[0],
        "{predicted:?}"
    );
    assert!(json["controllers"][1].get("r2_predicted").is_none());
}
