//! The top bar, the keys, scenarios and settings, and the timeline's Live.

use super::*;

#[test]
fn starts_running_with_every_learned_controller_on_the_default_scenario() {
    let mut harness = harness();
    harness.step();
    for kind in memdrive_models::ModelKind::all() {
        harness.get_by_label(kind.title());
    }
    let app = harness.state();
    assert_eq!(app.lab().lanes().len(), learned());
    assert_eq!(app.lab().spec().name, "occluded_crossing");
    assert!(app.playing());
    harness.get_by_label("Pause");
    // Each tier of memory is named as the design names it.
    assert_eq!(
        harness
            .get_all_by_label("Long-term memory (weights)")
            .count(),
        learned()
    );
    harness.get_by_label("Working memory (context window)");
    assert_eq!(
        harness
            .get_all_by_label("Short-term memory (state)")
            .count(),
        learned() - 1,
        "every kind but the transformer (the RBF's says none)"
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
    assert_eq!(app.lab().lanes().len(), learned() + 1);
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
    // The chosen gap survives a visit to another scenario, and is kept in the settings.
    harness
        .state_mut()
        .select_scenario(ScenarioChoice::Builtin("occluded_crossing".into()));
    harness.step();
    assert_eq!(gap(&harness), None);
    harness
        .state_mut()
        .select_scenario(ScenarioChoice::Builtin("memory_gap".into()));
    harness.step();
    assert_eq!(gap(&harness), Some((4.0, 4.0)));
    assert_eq!(harness.state().settings().gap_s, Some(4.0));
    // "Per seed" goes back to the scenario's own range.
    click(&mut harness, "Per seed");
    assert_eq!(gap(&harness), Some((0.2, 8.0)));
    assert!(harness.query_by_label("Per seed").is_none());
    assert_eq!(harness.state().settings().gap_s, None);
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
    assert_eq!(lab.lanes().len(), learned() + 1);
    assert_eq!(lab.step_count(), now, "no world restarted");
    assert_eq!(lab.lanes()[learned()].world.steps(), now);
    assert!(lab.history().iter().all(|m| m.lanes.len() == learned() + 1));
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
    assert!(
        !harness.state().playing(),
        "stopped as the last episode ended"
    );
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

/// After the end, Step on a past moment takes one step from there and stays paused.
#[test]
fn a_step_from_the_past_after_the_end_is_one_step() {
    use memdrive::gui::settings::Speed;
    let mut harness = harness_with_settings(Settings {
        speed: Speed::Max,
        ..plain_settings()
    });
    harness.step();
    wait_until(&mut harness, |app| app.lab().finished());
    assert!(
        !harness.state().playing(),
        "stopped as the last episode ended"
    );
    harness.state_mut().view(Some(100));
    harness.state_mut().step_once();
    for _ in 0..10 {
        harness.step();
    }
    assert_eq!(harness.state().lab().step_count(), 101);
    assert!(
        !harness.state().playing(),
        "a step from the past stays one step"
    );
}
