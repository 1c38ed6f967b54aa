//! The desktop app, driven headless through its accessibility tree with egui_kittest: buttons
//! are found by their labels and clicked; the app's real state is read back.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use memdrive::gui::MemdriveApp;
use memdrive::gui::dialogs::ScriptedDialogs;
use memdrive::gui::instruments::LiveStatus;
use memdrive::gui::lab::{LaneKind, ModelId};
use memdrive::gui::settings::Settings;
use memdrive_models::MemorySnapshot;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default settings without the memory instruments, whose background fitting these tests
/// do not need.
fn plain_settings() -> Settings {
    Settings {
        ghosts: false,
        instruments_open: false,
        ..Settings::default()
    }
}

fn harness_with(dialogs: Arc<ScriptedDialogs>) -> Harness<'static, MemdriveApp> {
    build(plain_settings(), dialogs)
}

fn harness_with_settings(settings: Settings) -> Harness<'static, MemdriveApp> {
    build(settings, Arc::new(ScriptedDialogs::default()))
}

fn build(settings: Settings, dialogs: Arc<ScriptedDialogs>) -> Harness<'static, MemdriveApp> {
    build_sized(settings, dialogs, egui::vec2(1600.0, 950.0), 1.0 / 60.0)
}

/// The app in a window of `size`, each frame `step_dt` seconds after the last.
fn build_sized(
    settings: Settings,
    dialogs: Arc<ScriptedDialogs>,
    size: egui::Vec2,
    step_dt: f32,
) -> Harness<'static, MemdriveApp> {
    let app = MemdriveApp::with_settings(settings, dialogs).unwrap_or_else(|e| panic!("{e:#}"));
    Harness::builder()
        .with_size(size)
        .with_step_dt(step_dt)
        .build_eframe(|_| app)
}

fn harness() -> Harness<'static, MemdriveApp> {
    harness_with(Arc::new(ScriptedDialogs::default()))
}

/// Clicks the button labelled `label` and lets the app handle it.
fn click(harness: &mut Harness<'_, MemdriveApp>, label: &str) {
    harness.get_by_label(label).click();
    harness.step();
    harness.step();
}

/// Clicks the `n`th button labelled `label` (lanes repeat their buttons, in lane order).
fn click_nth(harness: &mut Harness<'_, MemdriveApp>, label: &str, n: usize) {
    harness
        .get_all_by_label(label)
        .nth(n)
        .unwrap_or_else(|| panic!("no button #{n} labelled {label}"))
        .click();
    harness.step();
    harness.step();
}

/// Steps frames until `done` holds (dialogs answer on a worker thread).
fn wait_until(harness: &mut Harness<'_, MemdriveApp>, done: impl Fn(&MemdriveApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        assert!(start.elapsed() < Duration::from_secs(120), "timed out");
        std::thread::sleep(Duration::from_millis(10));
        harness.step();
    }
    // One more frame: a banner's overlay is laid out on its first frame, shown on the next.
    harness.step();
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memdrive-gui-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

#[test]
fn starts_running_with_three_controllers_on_the_default_scenario() {
    let mut harness = harness();
    harness.step();
    for title in ["RBF network", "GRU", "Transformer"] {
        harness.get_by_label(title);
    }
    let app = harness.state();
    assert_eq!(app.lab().lanes().len(), 3);
    assert_eq!(app.lab().spec().name, "occluded_crossing");
    assert!(app.playing());
    harness.get_by_label("Pause");
    // Each tier of memory is named as the design names it.
    assert_eq!(
        harness
            .get_all_by_label("Long-term memory (weights)")
            .count(),
        3
    );
    harness.get_by_label("Working memory (context window)");
    assert_eq!(
        harness
            .get_all_by_label("Short-term memory (state)")
            .count(),
        2,
        "RBF (none) and GRU"
    );
}

#[test]
fn play_pause_and_step_change_simulation_time() {
    let mut harness = harness();
    // At 60 frames per second and 1x, one second of frames is ten control steps.
    harness.run_steps(60);
    let running = harness.state().lab().step_count();
    assert!((8..=12).contains(&running), "{running} steps in 1 s");
    click(&mut harness, "Pause");
    assert!(!harness.state().playing());
    let paused = harness.state().lab().step_count();
    harness.run_steps(30);
    assert_eq!(harness.state().lab().step_count(), paused);
    click(&mut harness, "Step");
    assert_eq!(harness.state().lab().step_count(), paused + 1);
    click(&mut harness, "Play");
    assert!(harness.state().playing());
    harness.run_steps(30);
    assert!(harness.state().lab().step_count() >= paused + 5);
}

#[test]
fn keyboard_space_pauses_right_steps_and_r_resets() {
    let mut harness = harness();
    harness.run_steps(2);
    harness.key_press(egui::Key::Space);
    harness.step();
    assert!(!harness.state().playing());
    let before = harness.state().lab().step_count();
    harness.key_press(egui::Key::ArrowRight);
    harness.step();
    assert_eq!(harness.state().lab().step_count(), before + 1);
    harness.key_press(egui::Key::R);
    harness.step();
    assert_eq!(harness.state().lab().step_count(), 0);
}

#[test]
fn changing_the_scenario_resets_every_world() {
    let mut harness = harness();
    harness.run_steps(40);
    click(&mut harness, "Pause");
    assert!(harness.state().lab().step_count() > 0);
    click(&mut harness, "Scenario");
    click(&mut harness, "lead_brake");
    let lab = harness.state().lab();
    assert_eq!(lab.spec().name, "lead_brake");
    for lane in lab.lanes() {
        assert_eq!(lane.world.steps(), 0);
        assert_eq!(lane.world.scenario_name(), "lead_brake");
    }
    assert_eq!(lab.history().len(), 1);
}

#[test]
fn forget_clears_the_gru_state_and_the_transformer_window() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..25 {
        click(&mut harness, "Step");
    }
    let memory =
        |h: &Harness<'_, MemdriveApp>, lane: usize| h.state().lab().lanes()[lane].memory.clone();
    let hidden = |h: &Harness<'_, MemdriveApp>| {
        memory(h, 1)
            .and_then(|m| m.array("hidden").map(|a| a.data.clone()))
            .unwrap_or_else(|| panic!("a GRU snapshot"))
    };
    assert!(hidden(&harness).iter().any(|&v| v != 0.0));
    click_nth(&mut harness, "Forget", 1);
    click_nth(&mut harness, "Forget", 2);
    assert!(hidden(&harness).iter().all(|&v| v == 0.0));
    let window = memory(&harness, 2).unwrap_or_else(|| panic!("a transformer snapshot"));
    assert_eq!(window.frames_held(), Some(0));
    assert!(
        window.state().iter().all(|&v| v == 0.0),
        "the value cache is empty"
    );
    harness.get_by_label_contains("over the 0 frames in the window");
}

#[test]
fn a_corrupt_weight_file_shows_the_error_and_keeps_the_old_weights() {
    let dir = temp_dir("corrupt");
    let path = dir.join("broken.safetensors");
    std::fs::write(&path, b"\x10\x00\x00\x00\x00\x00\x00\x00{\"not\": json")
        .unwrap_or_else(|e| panic!("{e}"));
    let dialogs = Arc::new(ScriptedDialogs::new([Some(path.clone())]));
    let mut harness = harness_with(dialogs);
    harness.step();
    let before = harness.state().lab().lanes()[1].weight_file().cloned();
    click_nth(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    let notice = &harness.state().notices()[0];
    assert!(notice.error);
    assert!(
        notice.text.contains("broken.safetensors"),
        "{}",
        notice.text
    );
    harness.get_by_label_contains("could not load weights");
    let after = harness.state().lab().lanes()[1].weight_file().cloned();
    assert!(matches!((&before, &after), (Some(a), Some(b)) if Arc::ptr_eq(a, b)));
    // The banner can be dismissed.
    click(&mut harness, "Dismiss");
    assert!(harness.state().notices().is_empty());
}

#[test]
fn weights_saved_through_the_dialog_load_back_identical() {
    let dir = temp_dir("save");
    let path = dir.join("gru.safetensors");
    let dialogs = Arc::new(ScriptedDialogs::new([
        Some(path.clone()),
        Some(path.clone()),
    ]));
    let mut harness = harness_with(dialogs);
    harness.step();
    click_nth(&mut harness, "Save weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(
        !harness.state().notices()[0].error,
        "{:?}",
        harness.state().notices()
    );
    let saved = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
    let shipped = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/weights/gru.safetensors"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(saved, shipped);
    click(&mut harness, "Dismiss");
    click_nth(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(
        !harness.state().notices()[0].error,
        "{:?}",
        harness.state().notices()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn dragging_the_timeline_back_shows_an_earlier_steps_memory() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..30 {
        click(&mut harness, "Step");
    }
    let now = harness.state().lab().step_count();
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "Timeline")
        .set_value_accesskit(12.0);
    harness.step();
    harness.step();
    assert_eq!(harness.state().view_step(), Some(12));
    let lab = harness.state().lab();
    let past = lab
        .moment(12)
        .unwrap_or_else(|| panic!("step 12 is recorded"));
    let kept = |m: &Option<MemorySnapshot>| match m.as_ref().and_then(|m| m.array("update_gate")) {
        Some(gate) => gate.data.iter().sum::<f32>() / gate.data.len() as f32,
        None => panic!("{m:?}"),
    };
    let then = kept(&past.lanes[1].memory);
    let live = kept(&lab.lanes()[1].memory);
    assert_ne!(
        format!("{then:.2}"),
        format!("{live:.2}"),
        "pick steps whose memories differ"
    );
    harness.get_by_label(&format!(
        "share kept per step (mean update gate): {then:.2} now"
    ));
    assert_eq!(
        harness.state().lab().step_count(),
        now,
        "viewing the past changes nothing"
    );
    click(&mut harness, "Live");
    assert_eq!(harness.state().view_step(), None);
}

/// Drag the timeline back and press Play: every world goes on from that moment and what had
/// followed is gone (a branch). Forget in the past branches there too; a lane's memory can be
/// copied and transplanted back through its Memory menu.
#[test]
fn play_forget_and_transplant_in_the_past_branch_from_there() {
    let mut harness = harness();
    click(&mut harness, "Pause");
    for _ in 0..40 {
        click(&mut harness, "Step");
    }
    let slider = |harness: &mut Harness<'_, MemdriveApp>, step: f64| {
        harness
            .get_by_role_and_label(egui::accesskit::Role::Slider, "Timeline")
            .set_value_accesskit(step);
        harness.step();
        harness.step();
    };
    slider(&mut harness, 25.0);
    let then = harness
        .state()
        .lab()
        .moment(25)
        .map(|m| m.lanes[1].world.clone());
    click(&mut harness, "Step");
    let lab = harness.state().lab();
    assert_eq!((harness.state().view_step(), lab.step_count()), (None, 26));
    assert_eq!(
        lab.history().back().map(|m| m.step),
        Some(26),
        "the old future is gone"
    );
    let mut expected = then.unwrap_or_else(|| panic!("step 25 recorded"));
    expected.step(
        lab.moment(25)
            .map(|m| m.lanes[1].controls)
            .unwrap_or_default(),
    );
    assert_eq!(lab.lanes()[1].world.metrics(), expected.metrics());
    // Forget on the GRU at step 10 of the past: the worlds go on from there, without its memory.
    slider(&mut harness, 10.0);
    click_nth(&mut harness, "Forget", 1);
    let lab = harness.state().lab();
    assert_eq!((harness.state().view_step(), lab.step_count()), (None, 10));
    assert_eq!(lab.lanes()[1].forgotten_at, vec![10]);
    assert!(
        harness
            .state()
            .notices()
            .iter()
            .any(|n| n.text.contains("resumed every world"))
    );
    // Copy the GRU's memory, play on, and put the copy back: the GRU drives on it again.
    for _ in 0..5 {
        click(&mut harness, "Step");
    }
    click_nth(&mut harness, "Memory", 1);
    click(&mut harness, "Copy memory");
    let copied = harness
        .state()
        .copied_memory()
        .unwrap_or_else(|| panic!("nothing copied"))
        .to_owned();
    assert!(copied.starts_with("GRU at 1.5 s of"), "{copied}");
    let hidden = |app: &MemdriveApp| {
        app.lab().lanes()[1]
            .memory
            .as_ref()
            .map(|m| m.state().to_vec())
            .unwrap_or_else(|| panic!("a GRU snapshot"))
    };
    let at_copy = hidden(harness.state());
    for _ in 0..5 {
        click(&mut harness, "Step");
    }
    assert_ne!(hidden(harness.state()), at_copy);
    click_nth(&mut harness, "Memory", 1);
    click(&mut harness, &format!("the copied memory ({copied})"));
    assert_eq!(hidden(harness.state()), at_copy);
    // The RBF keeps no memory a GRU's could replace: refused, with a message.
    click_nth(&mut harness, "Memory", 0);
    click(&mut harness, &format!("the copied memory ({copied})"));
    assert!(
        harness
            .state()
            .notices()
            .iter()
            .any(|n| n.error && n.text.contains("could not transplant")),
        "{:?}",
        harness
            .state()
            .notices()
            .iter()
            .map(|n| &n.text)
            .collect::<Vec<_>>()
    );
}

fn quick_training(kind: memdrive_models::weights::ModelKind) -> Settings {
    Settings {
        training_open: true,
        train: memdrive::gui::training::TrainRequest {
            kind,
            rounds: 0,
            episodes: 1,
            seed: 0,
            scenario_episodes: Default::default(),
        },
        ..plain_settings()
    }
}

/// Waits for the training job to stop and returns it.
fn training_done<'h>(
    harness: &'h mut Harness<'_, MemdriveApp>,
) -> &'h memdrive::gui::training::TrainingJob {
    wait_until(harness, |app| app.training().is_some_and(|j| !j.running()));
    harness
        .state()
        .training()
        .unwrap_or_else(|| panic!("a job"))
}

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
/// GRU's per-scenario counts included), and "Same for all" clears the per-scenario counts.
#[test]
fn the_training_panel_offers_the_bundled_recipe() {
    use memdrive::gui::training::TrainRequest;
    let mut harness = harness_with_settings(quick_training(memdrive_models::gru::KIND));
    harness.step();
    click(&mut harness, "Bundled recipe");
    let train = harness.state().settings().train.clone();
    assert_eq!(train, TrainRequest::bundled(memdrive_models::gru::KIND));
    assert_eq!((train.episodes, train.rounds, train.seed), (120, 3, 1));
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

/// eframe's storage, in memory.
#[derive(Default)]
struct MemoryStorage(std::collections::HashMap<String, String>);

impl eframe::Storage for MemoryStorage {
    fn get_string(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
    fn set_string(&mut self, key: &str, value: String) {
        self.0.insert(key.to_owned(), value);
    }
    fn remove_string(&mut self, key: &str) {
        self.0.remove(key);
    }
    fn flush(&mut self) {}
}

#[test]
fn settings_persist_between_launches() {
    use eframe::App;
    let mut harness = harness();
    harness.step();
    click(&mut harness, "View");
    click(&mut harness, "Show hidden truth");
    click(&mut harness, "Expert lane");
    click(&mut harness, "New seed");
    click(&mut harness, "Scenario");
    click(&mut harness, "cut_in");
    // A change is written at the next chance, not only at exit.
    assert_eq!(harness.state().auto_save_interval(), Duration::ZERO);
    let mut storage = MemoryStorage::default();
    harness.state_mut().save(&mut storage);
    assert!(harness.state().auto_save_interval() > Duration::from_secs(1));
    let restored: Settings = eframe::get_value(&storage, eframe::APP_KEY)
        .unwrap_or_else(|| panic!("settings were saved"));
    assert_eq!(&restored, harness.state().settings());
    assert!(!restored.hidden_truth && restored.expert_lane);
    assert_ne!(restored.seed, Settings::default().seed);
    // A new launch with those settings opens where the last one left off.
    let app = MemdriveApp::with_settings(restored.clone(), Arc::new(ScriptedDialogs::default()))
        .unwrap_or_else(|e| panic!("{e:#}"));
    assert_eq!(app.lab().lanes().len(), 4);
    assert_eq!(app.lab().spec().name, "cut_in");
    assert_eq!(app.lab().seed(), restored.seed);
}

#[test]
fn a_bad_scenario_file_shows_the_error_and_keeps_the_scenario() {
    let dir = temp_dir("scenario");
    let path = dir.join("bad.toml");
    std::fs::write(&path, "name = \"bad\"\n[road]\nlanes = -3\n").unwrap_or_else(|e| panic!("{e}"));
    let mut harness = harness_with(Arc::new(ScriptedDialogs::new([Some(path)])));
    harness.run_steps(20);
    let steps = harness.state().lab().step_count();
    click(&mut harness, "Open…");
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert!(harness.state().notices()[0].error);
    assert!(
        harness.state().notices()[0].text.contains("bad.toml"),
        "{}",
        harness.state().notices()[0].text
    );
    assert_eq!(harness.state().lab().spec().name, "occluded_crossing");
    assert!(
        harness.state().lab().step_count() >= steps,
        "the worlds were not reset"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_instruments_draw_ghosts_curves_and_influence() {
    let mut harness = harness_with_settings(Settings::default());
    harness.step();
    click(&mut harness, "Pause");
    // Seed 7 of occluded_crossing: step until the pedestrian is hidden behind the truck in the
    // GRU's world (around 9–10 s).
    let mut steps = 0;
    while memdrive_models::memory::nearest_hidden_pedestrian(
        &harness.state().lab().lanes()[1].world,
    )
    .is_none()
    {
        assert!(steps < 200, "the pedestrian is never hidden from the GRU");
        harness.state_mut().step_once();
        steps += 1;
    }
    wait_until(&mut harness, |app| {
        !app.instruments().beliefs_pending()
            && app
                .lab()
                .lanes()
                .iter()
                .filter_map(|l| l.model_id())
                .all(|id| app.instruments().belief(id).is_some())
    });
    let app = harness.state();
    let lane = &app.lab().lanes()[1];
    let hidden = memdrive_models::memory::nearest_hidden_pedestrian(&lane.world);
    assert!(hidden.is_some(), "the pedestrian is hidden at step {steps}");
    let (id, model) = lane
        .identified_model()
        .unwrap_or_else(|| panic!("a learned lane"));
    let snapshot = lane.memory.as_ref().unwrap_or_else(|| panic!("a snapshot"));
    let ghost = app
        .instruments()
        .ghost(id, model, snapshot, &lane.world)
        .unwrap_or_else(|| panic!("a ghost while the pedestrian is hidden"));
    assert!(ghost.error_m > 0.0 && (0.0..=1.0).contains(&ghost.confidence));
    harness.get_by_label("Influence by lag, this step");
    click(&mut harness, "Run white-noise probe");
    wait_until(&mut harness, |app| app.instruments().noise().count() == 3);
    let noise: Vec<_> = harness.state().instruments().noise().collect();
    // Under the probe the RBF recovers nothing of the past.
    assert!(
        noise[0].1.r2[1..].iter().all(|&r| r <= 0.05),
        "{:?}",
        noise[0]
    );
}

/// The live memory curve of occluded_crossing after 30 s at 1×: readouts fitted on other
/// seeds of the scenario, scored on this episode. Every controller reads its present
/// (R²(0) > 0.3); within the transformer's window (k < 16) the RBF, which keeps nothing,
/// recovers less of the past than the transformer.
#[test]
fn the_live_memory_curve_means_something_after_30_s() {
    let settings = Settings {
        ghosts: false,
        ..Settings::default()
    };
    // Frames of 0.1 s: at 1× each frame is one control step.
    let mut harness = build_sized(
        settings,
        Arc::new(ScriptedDialogs::default()),
        egui::vec2(1600.0, 950.0),
        0.1,
    );
    harness.step();
    // Until the readouts are fitted the curve is hidden, with the reason.
    harness.get_by_label_contains("fitting readouts on other seeds of occluded_crossing");
    wait_until(&mut harness, |app| {
        !matches!(
            app.instruments().live_status(app.lab()),
            LiveStatus::Fitting(_)
        )
    });
    // On a loaded machine the fitting can outlast the episode; the restart plays again then.
    harness.state_mut().reset();
    for _ in 0..300 {
        harness.step();
    }
    let app = harness.state();
    assert!(
        app.lab().step_count() >= 150,
        "{} steps",
        app.lab().step_count()
    );
    assert_eq!(app.instruments().live_status(app.lab()), LiveStatus::Ready);
    let live = app.instruments().live();
    let names: Vec<&str> = live.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["rbf", "gru", "transformer"]);
    let r2 = |i: usize, k: usize| live[i].1[k].unwrap_or(f64::NAN);
    for (name, curve) in &live {
        let shown: Vec<String> = curve
            .iter()
            .map(|v| v.map_or("-".into(), |v| format!("{v:.2}")))
            .collect();
        eprintln!("{name}: {}", shown.join(" "));
    }
    let present = app
        .instruments()
        .present_alone()
        .unwrap_or_else(|| panic!("the present-frame baseline is drawn beside the curves"));
    eprintln!(
        "present alone: {}",
        present
            .iter()
            .map(|v| v.map_or("-".into(), |v| format!("{v:.2}")))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (i, name) in names.iter().enumerate() {
        assert!(r2(i, 0) > 0.3, "{name}: R²(0) = {}", r2(i, 0));
    }
    for k in 1..16 {
        assert!(
            r2(0, k) < r2(2, k),
            "lag {k}: RBF {} against transformer {}",
            r2(0, k),
            r2(2, k)
        );
    }
    harness.get_by_label_contains("— transformer");
    // Reset clears the curve: it is hidden again until this episode has data.
    harness.state_mut().reset();
    harness.step();
    assert!(harness.state().instruments().live().is_empty());
    harness.get_by_label_contains("scoring this episode");
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
    click_nth(&mut harness, "Load weights…", 1);
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

/// 100 steps of every lane, then a ghost drawn for every learned lane; no error may appear.
fn drive_with_instruments(harness: &mut Harness<'_, MemdriveApp>) {
    for _ in 0..100 {
        harness.state_mut().step_once();
    }
    harness.step();
    let app = harness.state();
    for l in app.lab().lanes() {
        if let (Some((id, model)), Some(snapshot)) = (l.identified_model(), &l.memory) {
            let _ = app.instruments().ghost(id, model, snapshot, &l.world);
        }
    }
    assert!(
        app.notices().iter().all(|n| !n.error),
        "{:?}",
        app.notices()
    );
}

/// Every lane's name is in the accessibility tree and inside the window, in both layouts, at
/// the smallest supported window and a large one, with and without the expert lane and the
/// side panels.
#[test]
fn every_lane_is_on_screen_in_every_layout() {
    use memdrive::gui::settings::Layout;
    for size in [egui::vec2(1024.0, 700.0), egui::vec2(1600.0, 1000.0)] {
        for layout in [Layout::Columns, Layout::Grid] {
            for (expert_lane, panels) in [(false, false), (true, true)] {
                let settings = Settings {
                    layout,
                    expert_lane,
                    instruments_open: panels,
                    training_open: panels,
                    ..plain_settings()
                };
                let mut harness = build_sized(
                    settings,
                    Arc::new(ScriptedDialogs::default()),
                    size,
                    1.0 / 60.0,
                );
                harness.run_steps(3);
                let window = egui::Rect::from_min_size(egui::Pos2::ZERO, size);
                let mut titles = vec!["RBF network", "GRU", "Transformer"];
                if expert_lane {
                    titles.push("Expert");
                }
                let what = format!("{layout:?} at {size:?}, expert {expert_lane}");
                let mut headers = Vec::new();
                for title in titles {
                    let rect = harness.get_by_label(title).rect();
                    assert!(window.contains_rect(rect), "{what}: {title} at {rect:?}");
                    headers.push(rect);
                }
                // Headers of one row sit at one height.
                let tops: std::collections::BTreeSet<i32> =
                    headers.iter().map(|r| r.top().round() as i32).collect();
                let rows = match layout {
                    Layout::Columns => 1,
                    Layout::Grid => headers.len().div_ceil(2),
                };
                assert_eq!(tops.len(), rows, "{what}: {headers:?}");
            }
        }
    }
}

/// The top bar is one row at 1280 points; narrower it wraps and pushes the lanes down instead
/// of hiding anything.
#[test]
fn the_top_bar_is_one_row_at_1280_and_wraps_when_narrower() {
    // With memory_gap the bar also holds the Gap slider.
    let gap = Settings {
        scenario: memdrive::gui::settings::ScenarioChoice::Builtin("memory_gap".into()),
        ..plain_settings()
    };
    for (settings, width, one_row) in [
        (plain_settings(), 1280.0, true),
        (gap, 1280.0, true),
        (plain_settings(), 1024.0, false),
    ] {
        let mut harness = build_sized(
            settings,
            Arc::new(ScriptedDialogs::default()),
            egui::vec2(width, 800.0),
            1.0 / 60.0,
        );
        harness.run_steps(3);
        let pause = harness.get_by_label("Pause").rect();
        let training = harness.get_by_label("Training").rect();
        assert_eq!(
            (pause.center().y - training.center().y).abs() < 1.0,
            one_row,
            "{width}: Pause {pause:?}, Training {training:?}"
        );
        let lane = harness.get_by_label("RBF network").rect();
        assert!(lane.top() > training.bottom(), "{width}: {lane:?}");
    }
}

/// Banners float over the lanes: however many there are, the lanes stay where they were,
/// and they can be dismissed one by one or all at once.
#[test]
fn banners_are_a_dismissable_stack_over_the_lanes() {
    let dir = temp_dir("banners");
    let path = dir.join("broken.safetensors");
    std::fs::write(&path, b"not a weight file").unwrap_or_else(|e| panic!("{e}"));
    let dialogs = Arc::new(ScriptedDialogs::default());
    let mut harness = harness_with(dialogs.clone());
    harness.step();
    let before = harness.get_by_label("RBF network").rect();
    for n in 1..=6 {
        dialogs.push(Some(path.clone()));
        click_nth(&mut harness, "Load weights…", 0);
        wait_until(&mut harness, |app| app.notices().len() == n);
    }
    harness.step();
    assert_eq!(harness.get_by_label("RBF network").rect(), before);
    // Four are shown, the older ones counted.
    assert_eq!(harness.get_all_by_label("Dismiss").count(), 4);
    harness.get_by_label("2 older messages");
    click_nth(&mut harness, "Dismiss", 0);
    assert_eq!(harness.state().notices().len(), 5);
    click(&mut harness, "Dismiss all");
    assert!(harness.state().notices().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}

/// "Live" after dragging the timeline returns to now and to playing if it was playing; adding
/// the expert lane keeps the time (the expert is replayed up to now).
#[test]
fn live_resumes_and_the_expert_lane_keeps_the_time() {
    let mut harness = harness();
    harness.run_steps(120);
    assert!(harness.state().playing());
    harness
        .get_by_role_and_label(egui::accesskit::Role::Slider, "Timeline")
        .set_value_accesskit(5.0);
    harness.step();
    assert!(!harness.state().playing());
    click(&mut harness, "Live");
    assert!(harness.state().playing(), "Live resumes playing");
    click(&mut harness, "Pause");
    let now = harness.state().lab().step_count();
    click(&mut harness, "Expert lane");
    let lab = harness.state().lab();
    assert_eq!(lab.lanes().len(), 4);
    assert_eq!(lab.step_count(), now, "no world restarted");
    assert_eq!(lab.lanes()[3].world.steps(), now);
    assert!(lab.history().iter().all(|m| m.lanes.len() == 4));
}

/// A scenario file that opens joins the picker, and stays there after a restart.
#[test]
fn an_opened_scenario_file_joins_the_picker() {
    let dir = temp_dir("picker");
    let path = dir.join("my_street.toml");
    let builtin = memdrive_sim::scenario::builtin("cut_in")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("built-in"));
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../assets/scenarios/cut_in.toml"
    ))
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("{e}"));
    let mut harness = harness_with(Arc::new(ScriptedDialogs::new([Some(path.clone())])));
    harness.step();
    click(&mut harness, "Open…");
    wait_until(&mut harness, |app| app.lab().spec().name == builtin.name);
    assert_eq!(
        harness.state().settings().scenario_files,
        vec![path.clone()]
    );
    click(&mut harness, "Scenario");
    click(&mut harness, "lead_brake");
    click(&mut harness, "Scenario");
    click(&mut harness, "my_street.toml");
    assert_eq!(
        harness.state().settings().scenario,
        memdrive::gui::settings::ScenarioChoice::File(path)
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// With `memory_gap` chosen, a "Gap" slider sets how long the pedestrian stays hidden (the
/// worlds restart with it); without it there is no slider; an impossible gap is a banner and
/// changes nothing.
#[test]
fn the_gap_slider_sets_how_long_the_pedestrian_hides() {
    use memdrive::gui::settings::ScenarioChoice;
    let mut harness = harness_with_settings(Settings::default());
    harness.step();
    assert!(harness.query_by_label("Gap").is_none());
    harness
        .state_mut()
        .select_scenario(ScenarioChoice::Builtin("memory_gap".into()));
    harness.step();
    harness.get_by_label("Gap");
    harness.state_mut().set_gap(4.0);
    harness.step();
    let gap = |h: &Harness<'_, MemdriveApp>| {
        h.state()
            .lab()
            .spec()
            .memory_gap
            .clone()
            .map(|g| (g.gap_s.min(), g.gap_s.max()))
    };
    assert_eq!(gap(&harness), Some((4.0, 4.0)));
    assert_eq!(harness.state().lab().step_count(), 0, "the worlds restart");
    harness.state_mut().set_gap(99.0);
    harness.step();
    assert_eq!(gap(&harness), Some((4.0, 4.0)));
    let notice = &harness.state().notices()[0];
    assert!(notice.text.contains("memory_gap.gap_s"), "{}", notice.text);
    // "Per seed" goes back to the scenario's own range.
    click(&mut harness, "Per seed");
    assert_eq!(gap(&harness), Some((0.2, 8.0)));
    assert!(harness.query_by_label("Per seed").is_none());
}

/// A collision says what kind of failure it was on the timeline too: lead_brake seed 0, where
/// the RBF, which cannot read the braking car's speed from one frame, runs into it in view.
#[test]
fn the_timeline_says_what_each_collision_was() {
    let settings = Settings {
        scenario: memdrive::gui::settings::ScenarioChoice::Builtin("lead_brake".into()),
        seed: 0,
        ..plain_settings()
    };
    let mut harness = harness_with_settings(settings);
    harness.step();
    click(&mut harness, "Pause");
    assert!(harness.query_by_label_contains("collided at").is_none());
    let mut steps = 0;
    while harness.state().lab().lanes()[0].world.outcome().is_none() {
        assert!(steps < 400, "the RBF never finished");
        harness.state_mut().step_once();
        steps += 1;
    }
    harness.step();
    harness.get_by_label("RBF network collided at 12.9 s: car, in view");
}

/// The sequence a first-time user crashed the app with, all in one lane: weights loaded into
/// the GRU lane, then an RBF and a transformer trained in the app and put into that same lane
/// ("Use in lane…"), each driven with ghosts and instruments on; then an RBF file loaded into
/// it. The lane takes each model's kind, and nothing crashes or reports an error.
#[test]
fn three_kinds_of_model_in_one_lane_never_crash() {
    let dir = temp_dir("one-lane");
    let weights = |kind: &str| {
        let path = dir.join(format!("{kind}.safetensors"));
        std::fs::copy(
            format!(
                "{}/../assets/weights/{kind}.safetensors",
                env!("CARGO_MANIFEST_DIR")
            ),
            &path,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        path
    };
    let dialogs = Arc::new(ScriptedDialogs::new([
        Some(weights("gru")),
        Some(weights("rbf")),
    ]));
    let settings = Settings {
        ghosts: true,
        instruments_open: true,
        ..quick_training(memdrive_models::rbf::KIND)
    };
    let mut harness = build_sized(settings, dialogs, egui::vec2(2400.0, 1000.0), 1.0 / 60.0);
    harness.step();
    let lane_kind = |h: &Harness<'_, MemdriveApp>| h.state().lab().lanes()[1].kind;
    let drive = drive_with_instruments;
    click_nth(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    drive(&mut harness);
    for kind in [
        memdrive_models::rbf::KIND,
        memdrive_models::transformer::KIND,
    ] {
        harness.state_mut().settings_mut().train.kind = kind;
        harness.step();
        click(&mut harness, "Start training");
        let job = training_done(&mut harness);
        assert!(matches!(
            job.status,
            memdrive::gui::training::Status::Finished(_)
        ));
        harness.state_mut().use_trained_in(1);
        harness.step();
        assert_eq!(lane_kind(&harness), LaneKind::Learned(kind));
        drive(&mut harness);
    }
    // Two lanes of one kind are told apart by number.
    harness.get_by_label("Transformer (lane 2)");
    // The banners float over the lanes: clear them, as a user would, to reach the button.
    while harness.query_all_by_label("Dismiss").next().is_some() {
        click_nth(&mut harness, "Dismiss", 0);
    }
    click_nth(&mut harness, "Load weights…", 1);
    wait_until(&mut harness, |app| !app.notices().is_empty());
    assert_eq!(
        lane_kind(&harness),
        LaneKind::Learned(memdrive_models::rbf::KIND),
        "{:?}",
        harness.state().notices()
    );
    drive(&mut harness);
    harness.get_by_label("RBF network (lane 2)");
    let _ = std::fs::remove_dir_all(dir);
}

/// Below 1400 px the lanes need the room of one side panel: a narrow window keeps the training
/// panel only, and opening the instruments then closes it; wide, both stay open.
#[test]
fn a_narrow_window_keeps_one_side_panel() {
    for (width, both) in [(1024.0, false), (1600.0, true)] {
        let settings = Settings {
            instruments_open: true,
            training_open: true,
            ..plain_settings()
        };
        let mut harness = build_sized(
            settings,
            Arc::new(ScriptedDialogs::default()),
            egui::vec2(width, 700.0),
            1.0 / 60.0,
        );
        harness.run_steps(2);
        let open = |h: &Harness<'_, MemdriveApp>| {
            let s = h.state().settings();
            (s.instruments_open, s.training_open)
        };
        assert_eq!(open(&harness), (both, true), "{width}");
        if !both {
            click(&mut harness, "Instruments");
            assert_eq!(open(&harness), (true, false));
            // Every lane's buttons are reachable.
            assert_eq!(harness.get_all_by_label("…").count(), 3);
        }
    }
}

/// A transformer lane's window slider shrinks its working memory at run time: the worlds
/// restart, the controller keeps at most that many frames, the lane is measured again by the
/// horizon panel (its curve is cached per window), and a lane of another kind has no slider.
#[test]
fn the_window_slider_shrinks_a_transformers_memory() {
    let mut harness = harness();
    harness.step();
    let transformer = 2;
    let window = |h: &Harness<'_, MemdriveApp>, i: usize| h.state().lab().lanes()[i].window();
    assert_eq!(window(&harness, transformer), Some((16, 16)));
    assert_eq!(window(&harness, 1), None, "a GRU has no window");
    // One slider, in the transformer's lane (the slider and its text are two nodes).
    assert_eq!(harness.get_all_by_label("frames").count(), 2);
    harness.get_by_label("= 1.6 s");
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    harness.state_mut().set_window(transformer, 4);
    harness.step();
    assert_eq!(window(&harness, transformer), Some((4, 16)));
    assert_eq!(harness.state().lab().step_count(), 0, "the worlds restart");
    harness.get_by_label("= 0.4 s");
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    let frames = |h: &Harness<'_, MemdriveApp>| {
        h.state().lab().lanes()[transformer]
            .memory
            .as_ref()
            .and_then(MemorySnapshot::frames_held)
            .unwrap_or_else(|| panic!("a transformer snapshot"))
    };
    assert_eq!(frames(&harness), 4);
    // Asking a GRU for a window changes nothing and says why.
    harness.state_mut().set_window(1, 4);
    harness.step();
    assert_eq!(window(&harness, 1), None);
    assert!(
        harness.state().notices()[0]
            .text
            .contains("has no window of frames"),
        "{:?}",
        harness.state().notices()
    );
    harness.state_mut().set_window(transformer, 16);
    harness.step();
    assert_eq!(window(&harness, transformer), Some((16, 16)));
    for _ in 0..20 {
        harness.state_mut().step_once();
    }
    assert_eq!(frames(&harness), 16);
}

/// The presence gauge reads, from each learned lane's memory, how sure it is that somebody it
/// saw is hidden: on memory_gap, while the pedestrian waits behind the van, every learned lane
/// shows one, and the GRU's is high where the memoryless RBF's is not.
#[test]
fn the_presence_gauge_reads_each_lanes_memory() {
    use memdrive::gui::settings::ScenarioChoice;
    // Seed 5: the pedestrian is there and hides behind the van while the car waits.
    let mut harness = harness_with_settings(Settings {
        instruments_open: false,
        seed: 5,
        ..Settings::default()
    });
    harness.step();
    harness
        .state_mut()
        .select_scenario(ScenarioChoice::Builtin("memory_gap".into()));
    harness.state_mut().set_gap(4.0);
    click(&mut harness, "Pause");
    wait_until(&mut harness, |app| {
        !app.instruments().presence_pending()
            && app.lab().lanes().iter().all(|l| {
                let (Some((id, model)), Some(memory)) = (l.identified_model(), &l.memory) else {
                    return true;
                };
                app.instruments().presence(id, model, memory).is_some()
            })
    });
    // Until the pedestrian has been hidden from the GRU for 2 s (the barrier is still down).
    let mut hidden_steps = 0;
    while hidden_steps < 20 {
        assert!(harness.state().lab().step_count() < 300, "nobody hid");
        harness.state_mut().step_once();
        let gru_world = &harness.state().lab().lanes()[1].world;
        if memdrive_models::memory::nearest_hidden_pedestrian(gru_world).is_some() {
            hidden_steps += 1;
        }
    }
    harness.step();
    let gauges: Vec<f64> = harness
        .state()
        .lab()
        .lanes()
        .iter()
        .filter_map(|l| {
            let (id, model) = l.identified_model()?;
            harness
                .state()
                .instruments()
                .presence(id, model, l.memory.as_ref()?)
        })
        .collect();
    assert_eq!(gauges.len(), 3, "{gauges:?}");
    assert!(gauges.iter().all(|p| (0.0..=1.0).contains(p)), "{gauges:?}");
    // The GRU remembers that someone is there; the RBF, which keeps nothing, cannot tell.
    let (rbf, gru) = (gauges[0], gauges[1]);
    assert!(gru >= 0.9 && gru > rbf + 0.3, "rbf {rbf}, gru {gru}");
    assert_eq!(harness.get_all_by_label("someone hidden:").count(), 3);
}

/// The memory-horizon panel measures every lane in the background with progress, draws one
/// curve per lane, and caches them per model: measuring again does nothing until a lane
/// changes, and then only that lane is measured.
#[test]
fn the_memory_horizon_panel_measures_and_caches_per_model() {
    use memdrive::gui::horizon_view::HorizonKey;
    let mut harness = harness_with_settings(Settings {
        ghosts: false,
        expert_lane: true,
        ..Settings::default()
    });
    harness.step();
    click(&mut harness, "Pause");
    click(&mut harness, "Measure memory horizon");
    assert!(harness.state().horizon().progress().is_some());
    wait_until(&mut harness, |app| app.horizon().progress().is_none());
    let keys: Vec<HorizonKey> = harness
        .state()
        .lab()
        .lanes()
        .iter()
        .map(HorizonKey::of)
        .collect();
    assert_eq!(keys.len(), 4);
    let gaps = harness.state().horizon().gaps().len();
    for key in &keys {
        let curve = harness
            .state()
            .horizon()
            .curve(*key)
            .unwrap_or_else(|| panic!("{key:?} measured"));
        assert_eq!(curve.accuracy.len(), gaps);
        assert_eq!(curve.accuracy_ci.len(), gaps);
    }
    // The expert remembers every pedestrian it saw: a horizon as long as the longest gap.
    let expert = harness.state().horizon().curve(HorizonKey::Expert);
    assert!(
        expert.is_some_and(|c| c.accuracy.iter().all(|&a| a >= 0.98)),
        "{expert:?}"
    );
    // Nothing new to measure.
    assert!(!harness.state_mut().measure_horizon());
    harness.get_by_label("Every lane measured");
    // A shrunk window is another controller: only that lane is measured again.
    harness.state_mut().set_window(2, 8);
    harness.step();
    harness.get_by_label("Measure 1 more");
    assert!(harness.state_mut().measure_horizon());
    harness.step();
    harness.get_by_label_contains("measuring…");
    wait_until(&mut harness, |app| app.horizon().progress().is_none());
    let shrunk = HorizonKey::of(&harness.state().lab().lanes()[2]);
    assert_ne!(shrunk, keys[2]);
    assert!(harness.state().horizon().curve(shrunk).is_some());
    // The whole window again: its curve was kept, nothing to measure.
    harness.state_mut().set_window(2, 16);
    harness.step();
    assert_eq!(HorizonKey::of(&harness.state().lab().lanes()[2]), keys[2]);
    harness.get_by_label("Every lane measured");
    assert!(!harness.state_mut().measure_horizon());
}

/// Information banners go by themselves after 8 s; errors stay until dismissed.
#[test]
fn information_banners_go_by_themselves_and_errors_stay() {
    let dir = temp_dir("info-banners");
    let good = dir.join("gru.safetensors");
    let bad = dir.join("broken.safetensors");
    std::fs::write(&bad, b"not a weight file").unwrap_or_else(|e| panic!("{e}"));
    let dialogs = Arc::new(ScriptedDialogs::default());
    let mut harness = build_sized(plain_settings(), dialogs, egui::vec2(1600.0, 950.0), 0.5);
    harness.step();
    harness.state_mut().save_weights(1, &good);
    harness.state_mut().load_weights(0, &bad);
    harness.step();
    let kinds = |h: &Harness<'_, MemdriveApp>| -> Vec<bool> {
        h.state().notices().iter().map(|n| n.error).collect()
    };
    assert_eq!(kinds(&harness), [false, true]);
    for _ in 0..12 {
        harness.step();
    }
    assert_eq!(kinds(&harness), [false, true], "still there after 6 s");
    for _ in 0..6 {
        harness.step();
    }
    assert_eq!(kinds(&harness), [true], "the information went after 8 s");
    let _ = std::fs::remove_dir_all(dir);
}

/// Play stops when every episode has ended; a restart then plays again (a pause the user chose
/// stays a pause).
#[test]
fn a_restart_after_the_end_plays_again() {
    use memdrive::gui::settings::Speed;
    let mut harness = harness_with_settings(Settings {
        speed: Speed::Max,
        ..plain_settings()
    });
    harness.step();
    wait_until(&mut harness, |app| app.lab().finished());
    harness.step();
    assert!(!harness.state().playing(), "stopped at the end");
    // At 1× from here, so the episode cannot end again under the test.
    harness.state_mut().settings_mut().speed = Speed::One;
    harness.state_mut().reset();
    harness.step();
    assert!(harness.state().playing(), "the restart plays");
    click(&mut harness, "Pause");
    assert!(!harness.state().playing(), "paused");
    harness.state_mut().reset();
    harness.step();
    assert!(!harness.state().playing(), "a chosen pause stays");
}
