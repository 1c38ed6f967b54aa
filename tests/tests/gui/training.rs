//! Training from the app: a model trained, used, cancelled; the bundled recipe.

use super::*;

#[test]
fn a_model_trained_in_the_app_joins_the_comparison() {
    use memdrive::gui::training::Status;
    let mut harness = harness_with_settings(quick_training(memdrive_models::rbf::KIND));
    harness.step();
    click(&mut harness, "Pause");
    click(&mut harness, "Step");
    click(&mut harness, "Start training");
    let job = training_done(&mut harness);
    assert!(
        matches!(job.status, Status::Finished(_)),
        "{:?}",
        job.status
    );
    assert_eq!(job.rounds.len(), 1);
    assert!(job.rounds[0].loss < job.rounds[0].baseline_loss);
    // The run reported its phases to the end: collecting, fitting, then scoring the fit.
    assert_eq!(job.phase, Some((0, memdrive_models::train::Phase::Scoring)));
    assert_eq!(job.progress, 1.0);
    let before = harness.state().lab().lanes()[0].weight_file().cloned();
    click(&mut harness, "Use in comparison");
    let lane = &harness.state().lab().lanes()[0];
    let after = lane.weight_file().cloned();
    assert!(!matches!((&before, &after), (Some(a), Some(b)) if Arc::ptr_eq(a, b)));
    assert_eq!(
        lane.long_term().map(|l| l.source.clone()),
        Some("<trained in the app>".to_owned())
    );
    assert_eq!(
        harness.state().lab().step_count(),
        0,
        "the comparison restarted"
    );
}

/// "Bundled recipe" fills in how the bundled weights of the chosen model were trained (the
/// GRU's per-scenario counts included; for the transformer, the scenario the expert drives and
/// its shorter gaps too), and "Same for all" clears the per-scenario counts and changes.
#[test]
fn the_training_panel_offers_the_bundled_recipe() {
    use memdrive::gui::training::TrainRequest;
    let mut harness = harness_with_settings(quick_training(memdrive_models::gru::KIND));
    harness.step();
    click(&mut harness, "Bundled recipe");
    let train = harness.state().settings().train.clone();
    assert_eq!(train, TrainRequest::bundled(memdrive_models::gru::KIND));
    assert_eq!((train.episodes, train.rounds, train.seed), (120, 5, 2));
    assert_eq!(train.scenario_episodes.get("mixed_traffic"), Some(&400));
    harness.get_by_label("memory_gap 240, mixed_traffic 400, occluded_crossing 240");
    click(&mut harness, "Same for all");
    assert!(
        harness
            .state()
            .settings()
            .train
            .scenario_episodes
            .is_empty()
    );
    harness.get_by_label("the same for all");
    let mut harness = harness_with_settings(quick_training(memdrive_models::transformer::KIND));
    harness.step();
    click(&mut harness, "Bundled recipe");
    let train = harness.state().settings().train.clone();
    assert_eq!(train.seed, 2);
    assert_eq!(train.scenario_episodes.get("mixed_traffic"), Some(&600));
    harness
        .get_by_label("the expert drives memory_gap; memory_gap with memory_gap.gap_s=[0.2,1.6]");
    click(&mut harness, "Same for all");
    let train = harness.state().settings().train.clone();
    assert!(
        train.scenario_episodes.is_empty()
            && train.expert_driven.is_empty()
            && train.scenario_overrides.is_empty(),
        "{train:?}"
    );
    assert!(
        harness
            .query_by_label_contains("the expert drives")
            .is_none()
    );
}

#[test]
fn training_can_be_cancelled() {
    use memdrive::gui::training::Status;
    let mut harness = harness_with_settings(quick_training(memdrive_models::gru::KIND));
    harness.step();
    click(&mut harness, "Start training");
    assert!(harness.state().training().is_some_and(|j| j.running()));
    click(&mut harness, "Cancel training");
    let job = training_done(&mut harness);
    assert_eq!(job.status, Status::Cancelled);
    harness.get_by_label("cancelled");
}

/// The sequence that once closed the window: weights loaded into one lane, models of every
/// kind trained in the app and put into the comparison, the comparison run with ghosts and
/// instruments on. Caches follow each model's identity and are dropped with it, so no model
/// ever meets another's belief probe, whatever addresses the allocator hands out.
#[test]
fn loading_training_and_using_models_of_every_kind_never_crashes() {
    let dir = temp_dir("kinds");
    let gru = dir.join("gru.safetensors");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../assets/weights/gru.safetensors"
        ),
        &gru,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let dialogs = Arc::new(ScriptedDialogs::new([Some(gru.clone())]));
    let settings = Settings {
        training_open: true,
        ..quick_training(memdrive_models::rbf::KIND)
    };
    let settings = Settings {
        ghosts: true,
        instruments_open: true,
        ..settings
    };
    // Wide enough for the lanes' buttons beside both side panels.
    let mut harness = build_sized(settings, dialogs, egui::vec2(2400.0, 1000.0), 1.0 / 60.0);
    harness.step();
    let mut seen = std::collections::HashSet::new();
    let ids = |app: &MemdriveApp| -> Vec<ModelId> {
        app.lab()
            .lanes()
            .iter()
            .filter_map(|l| l.model_id())
            .collect()
    };
    click_weights(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(!harness.state().notices()[0].error);
    seen.extend(ids(harness.state()));
    for (lane, kind) in [
        (0, memdrive_models::rbf::KIND),
        (1, memdrive_models::gru::KIND),
        (2, memdrive_models::transformer::KIND),
        (0, memdrive_models::rbf::KIND),
    ] {
        harness.state_mut().settings_mut().train.kind = kind;
        harness.step();
        click(&mut harness, "Start training");
        let job = training_done(&mut harness);
        assert!(
            matches!(job.status, memdrive::gui::training::Status::Finished(_)),
            "{kind:?}: {:?}",
            job.status
        );
        let before = harness.state().lab().lanes()[lane].model_id();
        click(&mut harness, "Use in comparison");
        let after = harness.state().lab().lanes()[lane].model_id();
        assert_ne!(before, after, "{kind:?}: the lane has a new model");
        // A new model is a new identity, never one seen before.
        assert!(after.is_some_and(|id| seen.insert(id)), "{kind:?}");
        // Run into the hidden-pedestrian part of the episode with the probes fitted.
        wait_until(&mut harness, |app| {
            ids(app)
                .iter()
                .all(|&id| app.instruments().belief(id).is_some())
        });
        drive_with_instruments(&mut harness);
    }
    let _ = std::fs::remove_dir_all(dir);
}
