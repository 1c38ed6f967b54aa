//! The desktop app, driven headless through its accessibility tree with egui_kittest: buttons
//! are found by their labels and clicked; the app's real state is read back.

mod controls;
mod instruments;
mod lanes;
mod layout;
mod training;

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

/// Steps frames until `done` holds (dialogs and probes answer on worker threads; on a loaded
/// 2-core machine running the other tests beside it, that can take minutes). A hang detector,
/// not a timing claim: since the transformer's memory state is 1,024 numbers wide, its
/// instruments' fits made one wait outlast 300 s once in a suite run (12 s alone), and since
/// `memory_gap`'s episodes got longer (cars that wait at the barrier for the pedestrian), one
/// outlasted 600 s beside the memory-horizon panel's measurement (12 s alone).
fn wait_until(harness: &mut Harness<'_, MemdriveApp>, done: impl Fn(&MemdriveApp) -> bool) {
    let start = Instant::now();
    while !done(harness.state()) {
        if start.elapsed() > Duration::from_secs(1500) {
            let notices: Vec<&str> = harness
                .state()
                .notices()
                .iter()
                .map(|n| n.text.as_str())
                .collect();
            panic!("timed out; the app says {notices:?}");
        }
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

fn quick_training(kind: memdrive_models::weights::ModelKind) -> Settings {
    Settings {
        training_open: true,
        train: memdrive::gui::training::TrainRequest {
            kind,
            rounds: 0,
            episodes: 1,
            seed: 0,
            scenario_episodes: Default::default(),
            expert_driven: Default::default(),
            scenario_overrides: Default::default(),
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

/// The learned kinds there are: one lane each at start.
fn learned() -> usize {
    memdrive_models::ModelKind::all().len()
}

/// Clicks "Load weights…" or "Save weights…" of lane `n` through its Weights menu.
fn click_weights(harness: &mut Harness<'_, MemdriveApp>, label: &str, n: usize) {
    click_nth(harness, "Weights", n);
    click(harness, label);
}
