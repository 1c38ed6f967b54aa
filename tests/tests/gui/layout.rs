//! Layout: every lane on screen at every size, the top bar, banners, side panels.

use super::*;

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
                let mut titles: Vec<&str> = memdrive_models::ModelKind::all()
                    .iter()
                    .map(|k| k.title())
                    .collect();
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
        click_weights(&mut harness, "Load weights…", 0);
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
            assert_eq!(harness.get_all_by_label("…").count(), learned());
        }
    }
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
